//! Repository automation, run as `cargo xtask <task>`:
//!
//! - `test`: everything CI checks (format, clippy with `-D warnings`, the whole test suite),
//!   after installing what the tests need when missing (sshd, lighttpd, jq, systemd-analyze,
//!   chromium and chromedriver).
//! - `tidy`: checks on the repository itself (also run by `cargo test`).
//! - `registry publish FILE... [--version V]`: add versions to the built-in registry.
//! - `registry fmt`: rewrite the built-in registry canonically.
//! - `registry migrate`: move the built-in registry to format 2 (every body two levels deep).
//! - `bench [--quick] [--scale N]`: the CLI scenarios against git, agpm and APM, written to
//!   docs/BENCHMARKS.md; `bench daemon [--quick]`: the daemon's figures; `bench sparse [--quick]
//!   [--scale N]`: a sparse registry served by lighttpd against the same registry over git;
//!   `bench site [--quick] [--scale N]`: the registry's website, full build and one publish's
//!   rebuild, page sizes;
//!   `bench deps [--quick] [--scale N]`: installing dependency graphs (a bundle of 50 packages,
//!   a forced backtrack over 100 versions);
//!   `bench generate PATH AGENTS [--format 1|2]`: just the synthetic registry (format 2 unless
//!   told), for profiling.
//! - `fuzz [--seconds N] [TARGET...]`: run the format crate's fuzz targets for a fixed time.
//! - `assets`: shell completions and the man page, into `target/assets/` (cargo's target
//!   directory, wherever `CARGO_TARGET_DIR` or a cargo config puts it).
//!
//! Every error names the file or command that failed and why: file system calls go through
//! `fs_err` (the path in every message; tidy refuses `std::fs` here), commands through [`run`]
//! or a `with_context` naming them.

#![allow(clippy::print_stderr, clippy::print_stdout)]

mod bench;
mod builtin;
mod deps_bench;
mod fuzz;
mod scenarios;
mod site_bench;
mod sparse_bench;
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
        ["bench", "daemon", rest @ ..] => bench::daemon(rest.contains(&"--quick")),
        ["bench", "site", rest @ ..] => site_bench::site(rest.contains(&"--quick"), scale_flag(rest)?),
        ["bench", "deps", rest @ ..] => deps_bench::deps(rest.contains(&"--quick"), scale_flag(rest)?),
        ["bench", "sparse", rest @ ..] => sparse_bench::sparse(rest.contains(&"--quick"), scale_flag(rest)?),
        ["bench", "generate", path, agents, rest @ ..] => {
            let layout = match rest {
                [] => agents_format::Layout::LATEST,
                ["--format", format] => format
                    .parse()
                    .ok()
                    .and_then(agents_format::Layout::from_schema)
                    .with_context(|| format!("--format is 1 or 2, not `{format}`"))?,
                _ => bail!("usage: cargo xtask bench generate PATH AGENTS [--format 1|2]"),
            };
            scenarios::generate_registry(
                Path::new(path),
                agents.parse().with_context(|| format!("AGENTS must be a number, not `{agents}`"))?,
                layout,
            )
        }
        ["bench", rest @ ..] => scenarios::bench(rest.contains(&"--quick"), scale_flag(rest)?),
        ["fuzz", rest @ ..] => fuzz::fuzz(rest),
        ["assets"] => assets(),
        ["registry", "fmt"] => builtin::format(&root().join("registry")),
        ["registry", "migrate"] => builtin::migrate(&root().join("registry")),
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
        _ => bail!(
            "usage: cargo xtask test [--quick] | tidy | assets | bench [--quick] [--scale N] | bench daemon [--quick] | bench sparse [--quick] [--scale N] | bench site [--quick] [--scale N] | bench generate PATH AGENTS [--format 1|2] | fuzz [--seconds N] [TARGET...] | registry fmt | registry migrate | registry publish FILE... [--version V]"
        ),
    }
}

/// The value of `--scale N`, if given.
fn scale_flag(args: &[&str]) -> anyhow::Result<Option<usize>> {
    args.iter()
        .position(|a| *a == "--scale")
        .and_then(|i| args.get(i + 1))
        .map(|n| n.parse().with_context(|| format!("--scale must be a number, not `{n}`")))
        .transpose()
}

fn report(problems: &[String]) -> anyhow::Result<()> {
    for problem in problems {
        eprintln!("tidy: {problem}");
    }
    if problems.is_empty() { Ok(()) } else { bail!("{} tidy problem(s)", problems.len()) }
}

/// The workspace root (xtask lives one level below it). From `CARGO_MANIFEST_DIR` as `cargo
/// run` and `cargo test` set it at run time, so that two clones sharing one `CARGO_TARGET_DIR`
/// (and so one build of xtask, which cargo does not redo for a new workspace path) each work
/// on their own files; the build-time value when run some other way.
pub(crate) fn root() -> PathBuf {
    let manifest_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest_dir.parent().expect("xtask is inside the workspace").to_path_buf()
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

/// Where cargo puts what it builds: `CARGO_TARGET_DIR`, `build.target-dir` in a cargo config, or
/// `<workspace>/target`. Asked of cargo itself, which knows every way to set it.
pub(crate) fn target_dir() -> anyhow::Result<PathBuf> {
    let mut command = cargo();
    command.args(["metadata", "--format-version", "1", "--no-deps"]).current_dir(root());
    let output = command.output().with_context(|| format!("cannot run {command:?}"))?;
    if !output.status.success() {
        bail!("{command:?} failed with {}: {}", output.status, String::from_utf8_lossy(&output.stderr).trim());
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).with_context(|| format!("{command:?} printed no JSON"))?;
    let dir =
        metadata["target_directory"].as_str().with_context(|| format!("{command:?} printed no `target_directory`"))?;
    Ok(PathBuf::from(dir))
}

/// Debian packages the tests need: the servers the transport tests start on loopback, the
/// programs documented scripts use, a browser for the website's tests, and systemd, whose `systemd-analyze verify` checks the
/// service unit `agents daemon install-service` writes.
const TEST_PACKAGES: [(&str, &str); 9] = [
    ("openssh-server", "/usr/sbin/sshd"),
    ("openssh-client", "/usr/bin/ssh-keygen"),
    ("lighttpd", "/usr/sbin/lighttpd"),
    ("lighttpd-mod-openssl", "/usr/lib/lighttpd/mod_openssl.so"),
    ("openssl", "/usr/bin/openssl"),
    // docs/json.md's bot script, run as written by tests/e2e/json.rs.
    ("jq", "/usr/bin/jq"),
    ("systemd", "/usr/bin/systemd-analyze"),
    // The registry website's browser tests (tests/e2e/site_browser.rs): headless Chromium over
    // WebDriver.
    ("chromium", "/usr/bin/chromium"),
    ("chromium-driver", "/usr/bin/chromedriver"),
];

/// Installs what the tests need and the machine lacks (with apt, when we may).
fn install_test_packages() -> anyhow::Result<()> {
    let missing: Vec<&str> =
        TEST_PACKAGES.iter().filter(|(_, file)| !Path::new(file).exists()).map(|(package, _)| *package).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let is_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    if !is_root || !Path::new("/usr/bin/apt-get").exists() {
        eprintln!("xtask: the tests need {missing:?}; install them (as root: apt-get install ...)");
        return Ok(());
    }
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    Ok(())
}

/// Generates shell completions and the man page from the CLI's own definition (by running the
/// freshly built binary, so xtask needs none of its dependencies), into `<target dir>/assets`.
fn assets() -> anyhow::Result<()> {
    run(cargo().args(["build", "--package", "agents", "--bin", "agents", "--locked"]))?;
    let target = target_dir()?;
    let agents = target.join("debug").join(format!("agents{}", std::env::consts::EXE_SUFFIX));
    let out = target.join("assets");
    let outputs: [(&[&str], &str); 5] = [
        (&["completions", "bash"], "completions/agents.bash"),
        (&["completions", "zsh"], "completions/_agents"),
        (&["completions", "fish"], "completions/agents.fish"),
        (&["completions", "powershell"], "completions/_agents.ps1"),
        (&["man"], "man/agents.1"),
    ];
    for (args, file) in outputs {
        let output =
            Command::new(&agents).args(args).output().with_context(|| format!("cannot run {}", agents.display()))?;
        if !output.status.success() {
            bail!("{} {args:?} failed: {}", agents.display(), String::from_utf8_lossy(&output.stderr));
        }
        let path = out.join(file);
        fs_err::create_dir_all(path.parent().expect("asset paths have a directory"))?;
        fs_err::write(&path, &output.stdout)?;
        eprintln!("xtask: wrote {}", path.display());
    }
    Ok(())
}

/// The one test command: README and CI both run it.
fn test(rest: &[&str]) -> anyhow::Result<()> {
    let quick = rest.contains(&"--quick");
    install_test_packages()?;
    if !quick {
        run(cargo().args(["fmt", "--all", "--", "--check"]))?;
        run(cargo().args(["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"]))?;
    }
    // The end-to-end tests run the real binaries, so build them first.
    run(cargo().args(["build", "--workspace", "--bins", "--locked"]))?;
    run(cargo().args(["test", "--workspace", "--locked"]))?;
    Ok(())
}
