//! `cargo xtask bench deps`: resolving and installing dependency graphs (issue 26), on the
//! release binaries, against a synthetic registry of `--scale` agents (10,000 by default; 1,000
//! with `--quick`) that also holds the graphs below, published through `agents publish`:
//!
//! - a bundle of 50 packages, each requiring 4 of 200 shared dependencies (250 packages in all),
//!   installed into a fresh project with a warm cache, on a quiet machine (`sync` before each
//!   run), and again while another program has 64 MiB waiting to be written;
//! - a forced backtrack: `wide` has 100 versions, each but the oldest requiring a `pin` version
//!   the bundle's own `pin` requirement excludes, so the solver refuses 99 versions of `wide`
//!   before it finds the one that fits.
//!
//! - the bundle over sparse HTTP with an empty cache (the registry's tree served by lighttpd on
//!   loopback), with the requests it takes per package;
//! - APM (PyPI apm-cli) installing the same graph as local packages, each naming its
//!   dependencies by path (APM has no index or version ranges).
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
    // Each run starts with nothing waiting to be written (the setup's own writes flushed), as on
    // a quiet machine: agents then makes its files durable with one `syncfs`.
    let quiet = |_| {
        fresh_project(&project)?;
        flush()
    };
    for (scenario, name) in [
        (
            format!("install a bundle of {PACKAGES} packages with {SHARED} shared dependencies, warm cache"),
            "deps-bundle",
        ),
        (format!("install with a forced backtrack over {WIDE_VERSIONS} versions, warm cache"), "deps-backtrack"),
    ] {
        let figure = sample(runs, quiet, |_| user.agents(&project, &["install", name]))?;
        rows.push(Row { scenario, figure: Ok(figure), note: String::new() });
    }
    // The same install while another program has 64 MiB not yet written: a `syncfs` would wait
    // for that too, so agents fsyncs each of its files instead.
    let other = work.join("other-program.bin");
    let busy = |_| {
        fresh_project(&project)?;
        flush()?;
        fs_err::write(&other, vec![1u8; 64 << 20])?;
        Ok(())
    };
    let figure = sample(runs, busy, |_| user.agents(&project, &["install", "deps-bundle"]))?;
    rows.push(Row {
        scenario: "the same bundle while another program has 64 MiB not yet written".to_owned(),
        figure: Ok(figure),
        note: "one fsync per file (16 at a time) instead of one `syncfs`".to_owned(),
    });
    let _ = fs_err::remove_file(&other);
    rows.push(cold_sparse(&bin, &registry, &work, runs)?);
    rows.push(apm(&work, runs)?);
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

/// Writes out everything waiting to be written (`sync`), so the next run starts quiet.
fn flush() -> anyhow::Result<()> {
    let status = std::process::Command::new("sync").status().context("cannot run sync")?;
    anyhow::ensure!(status.success(), "sync failed");
    Ok(())
}

fn check(mut command: std::process::Command) -> anyhow::Result<()> {
    let output = command.output().with_context(|| format!("cannot run {command:?}"))?;
    if !output.status.success() {
        anyhow::bail!("{command:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(())
}

/// One row of the table: a figure, or why a peer has none, and what else was counted.
struct Row {
    scenario: String,
    figure: Result<Figure, String>,
    note: String,
}

fn render(rows: &[Row], runs: usize, scale: usize) -> String {
    let mut out = format!(
        "{runs} runs per figure, plus one for peak memory, in a registry of {scale} generated agents plus the graphs. \
         Each run installs into a fresh project (resolution, every body read and verified, every file written).\n\n\
         | scenario | median (p95) | peak RSS | notes |\n| --- | --- | --- | --- |\n"
    );
    for row in rows {
        let (time, rss) = match &row.figure {
            Ok(figure) => (
                format!("{} ({})", ms(figure.median), ms(figure.p95)),
                format!("{:.1} MiB", figure.rss_kib as f64 / 1024.0),
            ),
            Err(why) => ("n/a".to_owned(), format!("n/a: {why}")),
        };
        out.push_str(&format!("| {} | {time} | {rss} | {} |\n", row.scenario, row.note));
    }
    out
}

/// The bundle installed with an empty cache from the same registry served as a sparse registry
/// (its tree exported, served by lighttpd on loopback): time, and the requests it takes, per
/// package (the goal: at most 2).
fn cold_sparse(bin: &Path, registry: &Path, work: &Path, runs: usize) -> anyhow::Result<Row> {
    let www = work.join("www");
    crate::sparse_bench::archive(registry, &www, &[])?;
    let mut site = crate::sparse_bench::Site::start(&work.join("lighttpd"), &www)?;
    let url = site.url();
    let home = work.join("sparse-user");
    let project = work.join("sparse-project");
    let fresh = |_| -> anyhow::Result<()> {
        fresh_dir(&home)?;
        User::with_registry(&home, bin, &url)?;
        fresh_project(&project)
    };
    let user = User::with_registry(&home, bin, &url)?;
    let figure = sample(runs, fresh, |_| user.agents(&project, &["install", "deps-bundle"]))?;
    fresh(0)?;
    site.clear_log()?;
    check(user.agents(&project, &["install", "deps-bundle"]))?;
    let requests = site.requests()?.len();
    let packages = PACKAGES + SHARED + 1;
    Ok(Row {
        scenario: "the same bundle over sparse HTTP (lighttpd on loopback), empty cache".to_owned(),
        figure: Ok(figure),
        note: format!(
            "{requests} requests for {packages} packages ({:.2} per package)",
            requests as f64 / packages as f64
        ),
    })
}

/// APM installing the same graph: 250 local APM packages (the same agent files), each package
/// naming its four shared dependencies by path, and one package naming the fifty (APM has no
/// registry index or version ranges: a dependency is a repository or a path).
fn apm(work: &Path, runs: usize) -> anyhow::Result<Row> {
    let scenario = format!("APM installing the same graph ({PACKAGES} + {SHARED} local packages)");
    let apm = match crate::scenarios::install_apm()? {
        Ok(apm) => apm,
        Err(why) => return Ok(Row { scenario, figure: Err(why), note: String::new() }),
    };
    let graph = work.join("apm");
    let package = |name: &str, requires: &[String], agent: bool| -> anyhow::Result<()> {
        let dir = graph.join(name);
        fs_err::create_dir_all(dir.join(".apm/agents"))?;
        let mut manifest = format!("name: {name}\nversion: 1.0.0\ndescription: bench\n");
        if !requires.is_empty() {
            manifest.push_str("dependencies:\n  apm:\n");
            for requirement in requires {
                manifest.push_str(&format!("    - ../{requirement}\n"));
            }
        }
        fs_err::write(dir.join("apm.yml"), manifest)?;
        if agent {
            let body = format!("---\nname: {name}\ndescription: bench\n---\n{name} 1.0.0\n");
            fs_err::write(dir.join(format!(".apm/agents/{name}.agent.md")), body)?;
        }
        Ok(())
    };
    for shared in 0..SHARED {
        package(&format!("deps-shared-{shared}"), &[], true)?;
    }
    let mut members = Vec::new();
    for index in 0..PACKAGES {
        let requires: Vec<String> = (0..4).map(|k| format!("deps-shared-{}", (index * 4 + k) % SHARED)).collect();
        package(&format!("deps-package-{index}"), &requires, true)?;
        members.push(format!("deps-package-{index}"));
    }
    package("deps-bundle", &members, false)?;
    let project = graph.join("project");
    let home = graph.join("home");
    let figure = sample(
        runs,
        |_| {
            fresh_dir(&home)?;
            fresh_project(&project)
        },
        |_| {
            let mut command = std::process::Command::new(&apm);
            command
                .args(["install", "../deps-bundle", "--target", "claude"])
                .current_dir(&project)
                .env("HOME", &home)
                .stdin(std::process::Stdio::null());
            command
        },
    );
    let installed = fs_err::read_dir(project.join(".claude/agents")).map(|d| d.count()).unwrap_or(0);
    Ok(Row {
        scenario,
        figure: figure.map_err(|e| format!("APM failed: {e}")),
        note: format!("{installed} agent files installed; no version ranges, so no resolution to compare"),
    })
}
