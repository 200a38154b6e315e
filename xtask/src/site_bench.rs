//! `cargo xtask bench site [--quick] [--scale N]`: the registry's website (`agents registry
//! site`), measured on the release binary against the scenarios' synthetic registry (N agents ×
//! 10 versions, bodies sized like the real corpus's).
//!
//! Measured: a full build into an empty directory; a rebuild after one publish (each run
//! publishes one new version through git, then builds into the same directory, which must
//! render exactly one package page); the size of package pages and of the home page, raw and
//! gzipped (what a static host sends); and what the home page offers before its search index
//! loads (the packages it lists, from the page as served). Figures are medians of runs of the
//! real binary as a new process, written to docs/BENCHMARKS.md's `site at N packages` section
//! (not with `--quick`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::bench::{isolate, write_section};
use crate::{cargo, run};

/// A directory removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs_err::remove_dir_all(&self.0);
    }
}

/// One timed run of `agents` as a new process; its stderr.
fn timed(bin: &Path, home: &Path, args: &[&str]) -> anyhow::Result<(Duration, String)> {
    let mut command = Command::new(bin.join("agents"));
    command.current_dir(home).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).args(args);
    isolate(&mut command, home);
    let started = Instant::now();
    let output = command.output().with_context(|| format!("cannot run {command:?}"))?;
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() {
        bail!("{command:?} failed: {stderr}");
    }
    Ok((elapsed, stderr))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn seconds(duration: Duration) -> String {
    if duration < Duration::from_secs(10) {
        format!("{:.0} ms", duration.as_secs_f64() * 1000.0)
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}

/// The size of `path` gzipped at level 6 (what static hosts and CDNs send).
fn gzipped(path: &Path) -> anyhow::Result<u64> {
    let output = Command::new("gzip").arg("-6").arg("-c").arg(path).output().context("cannot run gzip")?;
    if !output.status.success() {
        bail!("gzip {} failed", path.display());
    }
    Ok(output.stdout.len() as u64)
}

fn kb(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1000.0)
}

pub(crate) fn site(quick: bool, scale: Option<usize>) -> anyhow::Result<()> {
    run(cargo().args(["build", "--release", "--bins", "--locked"]))?;
    let bin = crate::target_dir()?.join("release");
    let scale = scale.unwrap_or(if quick { 1_000 } else { 10_000 });
    let runs = if quick { 2 } else { 5 };
    let work = std::env::temp_dir().join(format!("agents-bench-site-{}", std::process::id()));
    let _ = fs_err::remove_dir_all(&work);
    fs_err::create_dir_all(work.join("home/.config/agents"))?;
    fs_err::create_dir_all(work.join("home/.run"))?;
    let _cleanup = TempDir(work.clone());
    let home = work.join("home");
    let registry = work.join("registry.git");
    crate::scenarios::generate_registry(&registry, scale, agents_format::Layout::LATEST)?;
    let registry_arg = registry.to_str().context("a UTF-8 path")?.to_owned();

    let mut full = Vec::new();
    let out = work.join("site");
    for run in 0..runs {
        let _ = fs_err::remove_dir_all(&out);
        let (time, stderr) = timed(&bin, &home, &["registry", "site", &registry_arg, "-o", path(&out)?])?;
        if !stderr.contains(&format!("{scale} page(s) rendered")) {
            bail!("full build {run} did not render {scale} pages: {stderr}");
        }
        full.push(time);
    }
    fs_err::write(
        home.join(".config/agents/config.toml"),
        format!("[registries]\nbench = {{ url = \"{registry_arg}\" }}\n"),
    )?;
    let names = package_names(&out)?;
    let mut rebuild = Vec::new();
    for run in 0..runs {
        let name = &names[(run * 7919) % names.len()];
        let file = work.join("new.md");
        fs_err::write(&file, format!("---\nname: {name}\ndescription: d\n---\nA new version, {run}.\n"))?;
        let version = format!("1.{}.0", 50 + run);
        timed(&bin, &home, &["publish", path(&file)?, "--version", &version, "--registry", "bench"])?;
        let (time, stderr) = timed(&bin, &home, &["registry", "site", &registry_arg, "-o", path(&out)?])?;
        if !stderr.contains("1 page(s) rendered") {
            bail!("the rebuild after publishing {name} did not render exactly one page: {stderr}");
        }
        rebuild.push(time);
    }
    let table = table(&out, &names, scale, median(full), median(rebuild))?;
    println!("{table}");
    if !quick {
        write_section(&format!("site at {scale} packages"), "cargo xtask bench site", &table)?;
    }
    Ok(())
}

fn path(path: &Path) -> anyhow::Result<&str> {
    path.to_str().with_context(|| format!("{} is not UTF-8", path.display()))
}

/// The packages of a built site, from its page file names.
fn package_names(out: &Path) -> anyhow::Result<Vec<String>> {
    let mut names: Vec<String> = fs_err::read_dir(out.join("packages"))?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.strip_suffix(".html").map(str::to_owned))
        .collect();
    names.sort();
    if names.is_empty() {
        bail!("the site at {} has no package pages", out.display());
    }
    Ok(names)
}

fn table(out: &Path, names: &[String], scale: usize, full: Duration, rebuild: Duration) -> anyhow::Result<String> {
    let mut sizes: Vec<(u64, String)> = Vec::new();
    for name in names {
        sizes.push((fs_err::metadata(out.join(format!("packages/{name}.html")))?.len(), name.clone()));
    }
    sizes.sort();
    let (median_size, median_name) = sizes[sizes.len() / 2].clone();
    let (max_size, max_name) = sizes[sizes.len() - 1].clone();
    let median_gzip = gzipped(&out.join(format!("packages/{median_name}.html")))?;
    let max_gzip = gzipped(&out.join(format!("packages/{max_name}.html")))?;
    let home = out.join("index.html");
    let home_text = fs_err::read_to_string(&home)?;
    let listed = home_text.matches("<li><a href=\"packages/").count();
    let browse = home_text.matches("<li><a href=\"browse/").count();
    let search = out.join("search.json");
    let goal = |met: bool| if met { "met" } else { "not met" };
    Ok(format!(
        "| figure | measured | goal (issue 28) |\n| --- | --- | --- |\n\
         | full build, {scale} packages (empty directory) | {} median | ≤ 10 s: {} |\n\
         | rebuild after one publish (one page rendered) | {} median | ≤ 1 s: {} |\n\
         | a package page, median | {} ({} gzipped) | ≤ 50 KB over the wire: {} |\n\
         | a package page, largest | {} ({} gzipped) | ≤ 50 KB over the wire: {} |\n\
         | home page | {} ({} gzipped): {listed} packages and links to {browse} browse pages, as served | usable before the index loads: {} |\n\
         | `search.json` (loaded after the page) | {} ({} gzipped) | |\n",
        seconds(full),
        goal(full <= Duration::from_secs(10)),
        seconds(rebuild),
        goal(rebuild <= Duration::from_secs(1)),
        kb(median_size),
        kb(median_gzip),
        goal(median_gzip <= 50_000),
        kb(max_size),
        kb(max_gzip),
        goal(max_gzip <= 50_000),
        kb(fs_err::metadata(&home)?.len()),
        kb(gzipped(&home)?),
        goal(listed > 0 && browse > 0),
        kb(fs_err::metadata(&search)?.len()),
        kb(gzipped(&search)?),
    ))
}
