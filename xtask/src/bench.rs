//! `cargo xtask bench daemon`: figures for agentsd, measured on the release binaries.
//!
//! - event → reconciled: delete an installed agent file, time until the daemon has restored it
//!   (p50, p95), against running `agents sync` by hand for the same repair (the baseline);
//! - idle resident memory, idle CPU time per minute and wake-ups per second, read from /proc
//!   over an idle window.
//!
//! Figures are printed as a table and written to `docs/BENCHMARKS.md`'s daemon section.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::{cargo, root, run};

/// agentsd's quiet time before reconciling (see crates/agentsd/src/daemon.rs).
const DEBOUNCE_MS: u64 = 50;

struct Env {
    _temp: TempDir,
    home: PathBuf,
    project: PathBuf,
    bin: PathBuf,
}

/// A temporary directory removed on drop (xtask keeps its dependencies to a minimum).
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs_err::remove_dir_all(&self.0);
    }
}

impl Env {
    fn new(bin: PathBuf) -> anyhow::Result<Env> {
        let dir = std::env::temp_dir().join(format!("agents-bench-{}", std::process::id()));
        let _ = fs_err::remove_dir_all(&dir);
        let (home, project) = (dir.join("home"), dir.join("project"));
        fs_err::create_dir_all(&home)?;
        fs_err::create_dir_all(home.join(".run"))?;
        fs_err::create_dir_all(&project)?;
        Ok(Env { _temp: TempDir(dir), home, project, bin })
    }

    fn agents(&self, args: &[&str]) -> anyhow::Result<String> {
        let mut command = Command::new(self.bin.join("agents"));
        isolate(command.args(args).current_dir(&self.project), &self.home);
        let output = command.output().with_context(|| format!("cannot run {command:?}"))?;
        if !output.status.success() {
            bail!("{command:?} failed with {}: {}", output.status, String::from_utf8_lossy(&output.stderr));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

/// Points every directory agents uses into `home`, so a benchmark never sees the real user's.
pub(crate) fn isolate<'a>(command: &'a mut Command, home: &Path) -> &'a mut Command {
    command
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("XDG_STATE_HOME", home.join(".local/state"))
        .env("XDG_RUNTIME_DIR", home.join(".run"))
        .env("NO_COLOR", "1")
        // This machine's sandbox exports a CA bundle to every process; a stock user environment
        // names none, and agents then reads CAs lazily (see agents-registry's libgit2.rs).
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

/// CPU ticks (user + system) and context switches of every thread of `pid`.
fn proc_counters(pid: u32) -> anyhow::Result<(u64, u64)> {
    let stat = fs_err::read_to_string(format!("/proc/{pid}/stat"))?;
    let odd = || format!("/proc/{pid}/stat: unexpected layout: {stat}");
    let fields: Vec<&str> = stat.rsplit_once(") ").with_context(odd)?.1.split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).with_context(odd);
    let ticks = field(11)? + field(12)?;
    let mut switches = 0;
    for task in fs_err::read_dir(format!("/proc/{pid}/task"))? {
        let task = task.with_context(|| format!("listing /proc/{pid}/task"))?;
        let status = fs_err::read_to_string(task.path().join("status"))?;
        for line in status.lines() {
            if let Some(value) = line
                .strip_prefix("voluntary_ctxt_switches:")
                .or_else(|| line.strip_prefix("nonvoluntary_ctxt_switches:"))
            {
                switches +=
                    value.trim().parse::<u64>().with_context(|| format!("/proc/{pid}/task/*/status: {line}"))?;
            }
        }
    }
    Ok((ticks, switches))
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = fs_err::read_to_string(format!("/proc/{pid}/status"))?;
    let line =
        status.lines().find(|l| l.starts_with("VmRSS:")).with_context(|| format!("/proc/{pid}/status has no VmRSS"))?;
    line.split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("/proc/{pid}/status: odd {line}"))
}

fn wait_for(path: &Path, timeout: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if path.exists() {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    None
}

pub(crate) fn daemon(quick: bool) -> anyhow::Result<()> {
    run(cargo().args(["build", "--release", "--bins", "--locked"]))?;
    let env = Env::new(crate::target_dir()?.join("release"))?;
    env.agents(&["install", "go-backend-expert", "code-reviewer", "test-writer", "docs-writer"])?;
    env.agents(&["daemon", "watch"])?;
    env.agents(&["daemon", "start"])?;
    let status: serde_json::Value =
        serde_json::from_str(&env.agents(&["daemon", "status", "--json"])?).context("`agents daemon status --json`")?;
    let pid = u32::try_from(status["pid"].as_u64().context("`agents daemon status --json` printed no pid")?)?;
    let file = env.project.join(".claude/agents/code-reviewer.md");
    let rounds = if quick { 20 } else { 100 };

    let mut daemon_latency = Vec::new();
    for _ in 0..rounds {
        fs_err::remove_file(&file)?;
        daemon_latency.push(wait_for(&file, Duration::from_secs(10)).context("the daemon did not restore the file")?);
        std::thread::sleep(Duration::from_millis(20));
    }
    env.agents(&["daemon", "stop"])?;
    let mut by_hand = Vec::new();
    for _ in 0..rounds {
        fs_err::remove_file(&file)?;
        let started = Instant::now();
        env.agents(&["sync", "--offline"])?;
        by_hand.push(started.elapsed());
    }

    env.agents(&["daemon", "start"])?;
    let status: serde_json::Value =
        serde_json::from_str(&env.agents(&["daemon", "status", "--json"])?).context("`agents daemon status --json`")?;
    let pid_idle = u32::try_from(status["pid"].as_u64().context("`agents daemon status --json` printed no pid")?)?;
    std::thread::sleep(Duration::from_secs(2));
    let window = Duration::from_secs(if quick { 10 } else { 60 });
    let (ticks_before, switches_before) = proc_counters(pid_idle)?;
    std::thread::sleep(window);
    let (ticks_after, switches_after) = proc_counters(pid_idle)?;
    let rss = rss_kib(pid_idle)?;
    env.agents(&["daemon", "stop"])?;
    let _ = pid;

    daemon_latency.sort();
    by_hand.sort();
    let ticks_per_second = 100.0; // USER_HZ on Linux
    let cpu_ms_per_minute =
        (ticks_after - ticks_before) as f64 / ticks_per_second * 1000.0 * 60.0 / window.as_secs_f64();
    let wakeups = (switches_after - switches_before) as f64 / window.as_secs_f64();
    let p50 = percentile(&daemon_latency, 0.5);
    let baseline = percentile(&by_hand, 0.5);
    let table = format!(
        "| figure | value | baseline (same run) |\n| --- | --- | --- |\n\
         | event → reconciled, p50 ({rounds} deletions) | {} | `agents sync` by hand: {} p50; the daemon's figure is that work plus its {} ms debounce ({:.1}× the by-hand time) |\n\
         | event → reconciled, p95 | {} | `agents sync` by hand: {} p95 |\n\
         | idle RSS | {:.1} MiB | |\n\
         | idle CPU | {cpu_ms_per_minute:.1} ms per minute (over {}s, 10 ms resolution) | |\n\
         | idle wake-ups | {wakeups:.2} per second (context switches, all threads) | |\n",
        ms(p50),
        ms(baseline),
        DEBOUNCE_MS,
        p50.as_secs_f64() / baseline.as_secs_f64(),
        ms(percentile(&daemon_latency, 0.95)),
        ms(percentile(&by_hand, 0.95)),
        rss as f64 / 1024.0,
        window.as_secs(),
    );
    println!("{table}");
    // Like the scenarios, a smoke check (`--quick`) only prints: the recorded figures are full runs.
    if !quick {
        write_section("daemon", "cargo xtask bench daemon", &table)?;
    }
    Ok(())
}

/// Replaces the `## <name>` section of docs/BENCHMARKS.md.
pub(crate) fn write_section(name: &str, command: &str, table: &str) -> anyhow::Result<()> {
    let path = root().join("docs/BENCHMARKS.md");
    let text = fs_err::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".to_owned());
    let machine = machine();
    let section = format!("## {name}\n\nMeasured by `{command}` on {machine}.\n\n{table}\n");
    let start = text.find(&format!("## {name}\n"));
    let new = match start {
        Some(start) => {
            let end = text[start + 3..].find("\n## ").map_or(text.len(), |i| start + 3 + i + 1);
            format!("{}{section}{}", &text[..start], &text[end..])
        }
        None => format!("{}\n{section}", text.trim_end()),
    };
    fs_err::write(&path, new)?;
    Ok(())
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = fs_err::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "an unknown CPU".to_owned());
    format!("{cpus} cores ({model})")
}
