//! `cargo xtask bench deps`: resolving and installing dependency graphs (issue 26), on the
//! release binaries, against a synthetic registry of `--scale` agents (10,000 by default; 1,000
//! with `--quick`) that also holds the graphs below, published through `agents publish`:
//!
//! - a bundle of 50 packages, each requiring 4 of 200 shared dependencies (250 packages in all),
//!   installed into a fresh project with a warm cache;
//! - a forced backtrack: `wide` has 100 versions, each but the oldest requiring a `pin` version
//!   the bundle's own `pin` requirement excludes, so the solver refuses 99 versions of `wide`
//!   before it finds the one that fits.
//!
//! Figures are printed and written to `docs/BENCHMARKS.md`'s "dependency graphs" section.

use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;

use crate::scenarios::{Figure, User, fresh_dir, fresh_project, generate, ms, sample};
use crate::{cargo, run};

const PACKAGES: usize = 50;
const SHARED: usize = 200;
const WIDE_VERSIONS: usize = 100;

pub(crate) fn deps(quick: bool, scale: Option<usize>) -> anyhow::Result<()> {
    run(cargo().args(["build", "--release", "--bins", "--locked"]))?;
    let bin = crate::target_dir()?.join("release");
    let scale = scale.unwrap_or(if quick { 1_000 } else { 10_000 });
    let runs = if quick { 3 } else { 10 };
    let work = std::env::temp_dir().join(format!("agents-bench-deps-{}", std::process::id()));
    fresh_dir(&work)?;
    let registry = work.join("registry.git");
    generate(&registry, scale, agents_format::Layout::LATEST)
        .with_context(|| format!("generating a synthetic registry at {}", registry.display()))?;
    let url = format!("file://{}", registry.display());
    let publisher = User::with_registry(&work.join("publisher"), &bin, &url)?;
    let started = Instant::now();
    publish_graphs(&publisher, &work)?;
    eprintln!("xtask: published the graphs in {:.1}s", started.elapsed().as_secs_f64());

    let home = work.join("user");
    let project = work.join("project");
    let user = User::with_registry(&home, &bin, &url)?;
    // Warm the cache once: the clone, then every figure below reads from it.
    fresh_project(&project)?;
    check(user.agents(&project, &["install", "deps-bundle"]))?;
    let mut rows = Vec::new();
    for (scenario, name) in [
        (
            format!("install a bundle of {PACKAGES} packages with {SHARED} shared dependencies, warm cache"),
            "deps-bundle",
        ),
        (format!("install with a forced backtrack over {WIDE_VERSIONS} versions, warm cache"), "deps-backtrack"),
    ] {
        let figure = sample(runs, |_| fresh_project(&project), |_| user.agents(&project, &["install", name]))?;
        rows.push((scenario, figure));
    }
    let table = render(&rows, runs, scale);
    eprintln!("{table}");
    let command = if quick {
        "cargo xtask bench deps --quick".to_owned()
    } else {
        format!("cargo xtask bench deps --scale {scale}")
    };
    crate::bench::write_section("dependency graphs", &command, &table)?;
    let _ = fs_err::remove_dir_all(&work);
    Ok(())
}

/// The shared dependencies, the 50 packages and their bundle, and the backtracking graph.
fn publish_graphs(publisher: &User, work: &Path) -> anyhow::Result<()> {
    let file = work.join("package.md");
    let publish = |name: &str, version: &str, requires: &[String]| -> anyhow::Result<()> {
        fs_err::write(&file, format!("---\nname: {name}\ndescription: bench\n---\n{name} {version}\n"))?;
        let mut args: Vec<String> =
            vec!["publish".into(), file.display().to_string(), "--version".into(), version.into()];
        for requirement in requires {
            args.extend(["--requires".to_owned(), requirement.clone()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        check(publisher.agents(work, &args))
    };
    for shared in 0..SHARED {
        publish(&format!("deps-shared-{shared}"), "1.0.0", &[])?;
    }
    let mut members = Vec::new();
    for package in 0..PACKAGES {
        let requires: Vec<String> = (0..4).map(|k| format!("deps-shared-{}@^1", (package * 4 + k) % SHARED)).collect();
        publish(&format!("deps-package-{package}"), "1.0.0", &requires)?;
        members.push(format!("deps-package-{package}@^1"));
    }
    bundle(publisher, work, "deps-bundle", &members)?;
    publish("deps-pin", "1.0.0", &[])?;
    for version in 1..WIDE_VERSIONS {
        publish("deps-pin", &format!("2.{version}.0"), &[])?;
    }
    publish("deps-wide", "1.0.0", &["deps-pin@^1".to_owned()])?;
    for version in 1..WIDE_VERSIONS {
        publish("deps-wide", &format!("1.{version}.0"), &[format!("deps-pin@=2.{version}.0")])?;
    }
    bundle(publisher, work, "deps-backtrack", &["deps-wide@^1".to_owned(), "deps-pin@^1".to_owned()])
}

fn bundle(publisher: &User, work: &Path, name: &str, requires: &[String]) -> anyhow::Result<()> {
    let mut args: Vec<String> =
        ["publish", "--bundle", name, "--version", "1.0.0", "--description", "bench"].map(str::to_owned).to_vec();
    for requirement in requires {
        args.extend(["--requires".to_owned(), requirement.clone()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    check(publisher.agents(work, &args))
}

fn check(mut command: std::process::Command) -> anyhow::Result<()> {
    let output = command.output().with_context(|| format!("cannot run {command:?}"))?;
    if !output.status.success() {
        anyhow::bail!("{command:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(())
}

fn render(rows: &[(String, Figure)], runs: usize, scale: usize) -> String {
    let mut out = format!(
        "{runs} runs per figure, plus one for peak memory, in a registry of {scale} generated agents plus the graphs. \
         Each run installs into a fresh project (resolution, every body read and verified, every file written).\n\n\
         | scenario | median (p95) | peak RSS |\n| --- | --- | --- |\n"
    );
    for (scenario, figure) in rows {
        out.push_str(&format!(
            "| {scenario} | {} ({}) | {:.1} MiB |\n",
            ms(figure.median),
            ms(figure.p95),
            figure.rss_kib as f64 / 1024.0
        ));
    }
    out
}
