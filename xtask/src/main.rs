//! Repository automation, run as `cargo xtask <task>`:
//!
//! - `test`: everything CI checks (format, clippy with `-D warnings`, the whole test suite),
//!   after installing what the tests need.
//! - `tidy`: checks on the repository itself (also run by `cargo test`).
//! - `registry publish FILE... [--version V]`: add versions to the built-in registry.
//! - `registry fmt`: rewrite the built-in registry canonically.

#![allow(clippy::print_stderr)]

mod builtin;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["test", rest @ ..] => test(rest),
        ["tidy"] => {
            let problems = tidy::check(&root())?;
            report(&problems)
        }
        ["registry", "fmt"] => builtin::format(&root().join("registry")),
        ["registry", "publish", rest @ ..] => {
            let (files, version) = match rest {
                [files @ .., "--version", version] => (files, Some(version.parse().context("invalid --version")?)),
                files => (files, None),
            };
            if files.is_empty() {
                bail!("usage: cargo xtask registry publish FILE... [--version V]");
            }
            let files: Vec<PathBuf> = files.iter().map(PathBuf::from).collect();
            builtin::publish(&root().join("registry"), &files, version)
        }
        _ => bail!("usage: cargo xtask test [--quick] | tidy | registry fmt | registry publish FILE... [--version V]"),
    }
}

fn report(problems: &[String]) -> anyhow::Result<()> {
    for problem in problems {
        eprintln!("tidy: {problem}");
    }
    if problems.is_empty() { Ok(()) } else { bail!("{} tidy problem(s)", problems.len()) }
}

/// The workspace root (xtask lives one level below it).
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask is inside the workspace").to_path_buf()
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    eprintln!("xtask: running {command:?}");
    let status = command.current_dir(root()).status().with_context(|| format!("cannot run {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed with {status}");
    }
    Ok(())
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
}

/// The one test command: README and CI both run it.
fn test(rest: &[&str]) -> anyhow::Result<()> {
    let quick = rest.contains(&"--quick");
    if !quick {
        run(cargo().args(["fmt", "--all", "--", "--check"]))?;
        run(cargo().args(["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"]))?;
    }
    // The end-to-end tests run the real binaries, so build them first.
    run(cargo().args(["build", "--workspace", "--bins", "--locked"]))?;
    run(cargo().args(["test", "--workspace", "--locked"]))?;
    Ok(())
}
