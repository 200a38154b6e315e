//! `cargo xtask bench daemon`: figures for agentsd, measured on the release binaries.
//!
//! - event → reconciled: delete an installed agent file, time until the daemon has restored it
//!   (p50, p95), against running `agents sync` by hand for the same repair (the baseline);
//! - idle resident memory, idle CPU time per minute and wake-ups per second, read from /proc
//!   over an idle window;
//! - at scale: 50 workspaces × 20 agents from a registry served by `git daemon` on loopback,
//!   event → reconciled, CPU and RSS; then `agents daemon status` latency while this process
//!   holds one workspace's lock (as a CLI does) and a fetch waits on the registry, slowed by a
//!   loopback proxy that holds each connection for seconds.
//!
//! Figures are printed as a table and written to `docs/BENCHMARKS.md`'s daemon section.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::{cargo, root, run};

/// agentsd's quiet time after a removal before restoring (REMOVAL_SETTLE in
/// crates/agentsd/src/daemon.rs).
const DEBOUNCE_MS: u64 = 100;

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
        Env::named(bin, "")
    }

    /// Another user's environment beside [`Env::new`]'s (`suffix` tells them apart).
    fn named(bin: PathBuf, suffix: &str) -> anyhow::Result<Env> {
        let dir = std::env::temp_dir().join(format!("agents-bench-{}{suffix}", std::process::id()));
        let _ = fs_err::remove_dir_all(&dir);
        let (home, project) = (dir.join("home"), dir.join("project"));
        fs_err::create_dir_all(&home)?;
        fs_err::create_dir_all(home.join(".run"))?;
        // A project is a repository: discovery stops at its `.git`.
        fs_err::create_dir_all(project.join(".git"))?;
        Ok(Env { _temp: TempDir(dir), home, project, bin })
    }

    fn agents(&self, args: &[&str]) -> anyhow::Result<String> {
        self.agents_in(&self.project, args)
    }

    /// `agents ARGS` run in `dir`.
    fn agents_in(&self, dir: &Path, args: &[&str]) -> anyhow::Result<String> {
        self.agents_with(dir, &[], args)
    }

    /// `agents ARGS` run in `dir` with the environment variables `vars` set.
    fn agents_with(&self, dir: &Path, vars: &[(&str, &str)], args: &[&str]) -> anyhow::Result<String> {
        let mut command = Command::new(self.bin.join("agents"));
        isolate(command.args(args).current_dir(dir), &self.home);
        command.envs(vars.iter().copied());
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

/// CPU time of the process's live threads, in nanoseconds (`/proc/PID/task/*/schedstat`, whose
/// first field is the time on a CPU): the 10 ms ticks of `/proc/PID/stat` cannot tell 1 ms a
/// minute from nothing. Threads that exit meanwhile take their time with them, so a window is
/// measured once the runtime's blocking threads have gone (they stay 10 s after their last job).
fn cpu_ns(pid: u32) -> anyhow::Result<u64> {
    Ok(thread_cpu_ns(pid)?.0)
}

/// [`cpu_ns`] with the ids of the threads it summed.
fn thread_cpu_ns(pid: u32) -> anyhow::Result<(u64, BTreeSet<String>)> {
    let mut total = 0;
    let mut threads = BTreeSet::new();
    for task in fs_err::read_dir(format!("/proc/{pid}/task"))? {
        let task = task.with_context(|| format!("listing /proc/{pid}/task"))?;
        let Ok(schedstat) = fs_err::read_to_string(task.path().join("schedstat")) else { continue };
        let first = schedstat.split_whitespace().next().unwrap_or_default();
        total += first.parse::<u64>().with_context(|| format!("/proc/{pid}/task/*/schedstat: {schedstat}"))?;
        threads.insert(task.file_name().to_string_lossy().into_owned());
    }
    Ok((total, threads))
}

/// Idle CPU in ms per minute over `window`, after `settle` (see [`cpu_ns`]).
fn idle_cpu(pid: u32, settle: Duration, window: Duration) -> anyhow::Result<f64> {
    std::thread::sleep(settle);
    let before = cpu_ns(pid)?;
    std::thread::sleep(window);
    let after = cpu_ns(pid)?;
    Ok(after.saturating_sub(before) as f64 / 1e6 * 60.0 / window.as_secs_f64())
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
    // Both read from the live threads: after the quiet, when the blocking threads have gone.
    std::thread::sleep(Duration::from_secs(12));
    let (_, switches_before) = proc_counters(pid_idle)?;
    let cpu_ms_per_minute = idle_cpu(pid_idle, Duration::ZERO, window)?;
    let (_, switches_after) = proc_counters(pid_idle)?;
    let rss = rss_kib(pid_idle)?;
    env.agents(&["daemon", "stop"])?;
    let _ = pid;

    let scale = scale(&env, quick)?;

    daemon_latency.sort();
    by_hand.sort();
    let wakeups = switches_after.saturating_sub(switches_before) as f64 / window.as_secs_f64();
    let p50 = percentile(&daemon_latency, 0.5);
    let baseline = percentile(&by_hand, 0.5);
    let table = format!(
        "| figure | value | baseline (same run) |\n| --- | --- | --- |\n\
         | event → reconciled, p50 ({rounds} deletions) | {} | `agents sync` by hand: {} p50; the daemon's figure is that work plus its debounce, {} ms of quiet after a removal so that a directory being removed settles first ({:.1}× the by-hand time) |\n\
         | event → reconciled, p95 | {} | `agents sync` by hand: {} p95 |\n\
         | idle RSS | {:.1} MiB | |\n\
         | idle CPU | {cpu_ms_per_minute:.2} ms per minute (over {}s, after 12 s of quiet; schedstat, ns resolution) | |\n\
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
    let table = format!("{table}{scale}");
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
        None => format!("{}\n\n{section}", text.trim_end()),
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

const WORKSPACES: usize = 50;
const AGENTS_PER_WORKSPACE: usize = 20;
/// How long the slow registry holds each connection.
const SLOW_REGISTRY: Duration = Duration::from_secs(5);

/// A TCP proxy on loopback that holds each new connection for the current delay before passing
/// bytes both ways to `target` (a slow registry server). Runs until the process ends.
struct SlowProxy {
    port: u16,
    delay_ms: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl SlowProxy {
    fn start(target: u16) -> anyhow::Result<SlowProxy> {
        use std::net::{TcpListener, TcpStream};
        use std::sync::atomic::Ordering;
        let listener = TcpListener::bind("127.0.0.1:0").context("cannot bind the slow proxy on loopback")?;
        let port = listener.local_addr()?.port();
        let delay_ms = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let delay = delay_ms.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let wait = Duration::from_millis(delay.load(Ordering::Relaxed));
                std::thread::spawn(move || {
                    std::thread::sleep(wait);
                    let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else { return };
                    let (Ok(mut client_read), Ok(mut server_write)) = (client.try_clone(), server.try_clone()) else {
                        return;
                    };
                    let (mut server_read, mut client_write) = (server, client);
                    let upstream = std::thread::spawn(move || {
                        let _ = std::io::copy(&mut client_read, &mut server_write);
                        let _ = server_write.shutdown(std::net::Shutdown::Write);
                    });
                    let _ = std::io::copy(&mut server_read, &mut client_write);
                    let _ = client_write.shutdown(std::net::Shutdown::Write);
                    let _ = upstream.join();
                });
            }
        });
        Ok(SlowProxy { port, delay_ms })
    }

    fn set_delay(&self, delay: Duration) {
        self.delay_ms.store(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX), std::sync::atomic::Ordering::Relaxed);
    }
}

/// `git daemon` serving `root` on a free loopback port; killed on drop.
struct GitDaemon(std::process::Child, u16);

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn git_daemon(root: &Path) -> anyhow::Result<GitDaemon> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let exec_path = Command::new("git").arg("--exec-path").output().context("cannot run `git --exec-path`")?;
    let exec_path = PathBuf::from(String::from_utf8_lossy(&exec_path.stdout).trim());
    let child = Command::new(exec_path.join("git-daemon"))
        .args(["--reuseaddr", "--export-all", "--enable=receive-pack", "--listen=127.0.0.1"])
        .arg(format!("--port={port}"))
        .arg(format!("--base-path={}", root.display()))
        .arg(root)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .context("cannot start `git daemon` (the Debian package git-daemon-sysvinit or git's own)")?;
    let daemon = GitDaemon(child, port);
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(10) {
            bail!("`git daemon` did not listen on port {port}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(daemon)
}

/// Takes `root`'s workspace lock as an agents command does (flock on its file in the state
/// directory, keyed by the first 16 hex digits of the root's sha256).
fn hold_workspace_lock(env: &Env, root: &Path) -> anyhow::Result<fs_err::File> {
    let output = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().expect("piped").write_all(root.to_string_lossy().as_bytes())?;
            child.wait_with_output()
        })
        .context("cannot run sha256sum")?;
    let key: String = String::from_utf8_lossy(&output.stdout).chars().take(16).collect();
    let locks = env.home.join(".local/state/agents/locks");
    fs_err::create_dir_all(&locks)?;
    let file =
        fs_err::File::options().create(true).truncate(false).write(true).open(locks.join(format!("{key}.lock")))?;
    file.file().lock().with_context(|| format!("cannot lock {}", locks.display()))?;
    Ok(file)
}

fn timed_status(env: &Env) -> anyhow::Result<(Duration, serde_json::Value)> {
    let started = Instant::now();
    let text = env.agents(&["daemon", "status", "--json"])?;
    let took = started.elapsed();
    Ok((took, serde_json::from_str(&text).context("`agents daemon status --json`")?))
}

/// Unrelated files written into one workspace's agents directory (a tool's scratch files): the
/// daemon issue's 10,000 file events, during which restores elsewhere must stay prompt.
const FLOOD_FILES: usize = 10_000;

/// Writes `files` unrelated files into workspace 0's agents directory while files are deleted in
/// other workspaces and status is asked: the daemon's CPU for the flood (until it is idle again),
/// how soon the deletions were restored, and how long status took. Returns the table rows.
fn flood(env: &Env, pid: u32, workspaces: &[PathBuf], names: &[String], files: usize) -> anyhow::Result<String> {
    let (ticks_before, _) = proc_counters(pid)?;
    let started = Instant::now();
    let target = workspaces[0].join(".claude/agents");
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        for i in 0..files {
            fs_err::write(target.join(format!("scratch-{i:05}.txt")), format!("scratch {i}\n"))?;
        }
        Ok(())
    });
    let mut restored = Vec::new();
    let mut status_took = Vec::new();
    let mut unanswered = 0;
    let mut round = 0;
    while !writer.is_finished() || round < 5 {
        let file = workspaces[1 + round % (WORKSPACES - 1)].join(format!(".claude/agents/{}.md", names[2]));
        fs_err::remove_file(&file)?;
        restored.push(wait_for(&file, Duration::from_secs(60)).context("a deletion was not restored during a flood")?);
        // Before agentsd answered status on its own path, a flood made it say "not running".
        let asked = Instant::now();
        if timed_status(env).is_ok_and(|(_, status)| status["pid"].as_u64() == Some(u64::from(pid))) {
            status_took.push(asked.elapsed());
        } else {
            unanswered += 1;
        }
        round += 1;
    }
    writer.join().map_err(|_| anyhow::anyhow!("the flood's writer panicked"))??;
    let written = started.elapsed();
    // CPU until the daemon is idle again: two half-second samples with no tick between them.
    let mut last = proc_counters(pid)?.0;
    let idle_by = Instant::now() + Duration::from_secs(120);
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = proc_counters(pid)?.0;
        let quiet = now == last;
        last = now;
        if quiet || Instant::now() > idle_by {
            break;
        }
    }
    let cpu = (last - ticks_before) as f64 * 10.0;
    restored.sort();
    status_took.sort();
    let status = if status_took.is_empty() {
        "never answered".to_owned()
    } else {
        format!("{} p50, {} max", ms(percentile(&status_took, 0.5)), ms(percentile(&status_took, 1.0)))
    };
    Ok(format!(
        "| {WORKSPACES} × {AGENTS_PER_WORKSPACE}: {files} unrelated files written into one agents directory (in {}): CPU | {cpu:.0} ms (10 ms resolution) | |\n\
         | the same: a file deleted in another workspace meanwhile, restored p50 ({} deletions) | {} | max {}; `agents daemon status` meanwhile: {status}, {unanswered} of {} calls unanswered |\n",
        ms(written),
        restored.len(),
        ms(percentile(&restored, 0.5)),
        ms(percentile(&restored, 1.0)),
        round,
    ))
}

/// The text of `name@version` in the scale benchmark (1.0.0's names no version, as it always did).
fn scale_agent_text(name: &str, version: &str) -> String {
    let you =
        if version == "1.0.0" { format!("You are {name}.") } else { format!("You are {name}, version {version}.") };
    format!("---\nname: {name}\ndescription: a benchmark agent\n---\n{you}\n")
}

/// Publishes [`scale_agent_text`] as `name@version` to `registry`.
fn publish(env: &Env, registry: &str, name: &str, version: &str) -> anyhow::Result<()> {
    let file = env.home.join(format!("{name}-{version}.md"));
    fs_err::write(&file, scale_agent_text(name, version))?;
    env.agents(&["publish", &file.display().to_string(), "--version", version, "--registry", registry])?;
    Ok(())
}

/// Writes `text` as `dir`'s lockfile the way `git pull` replaces a file: a new file renamed over.
fn pull_lockfile(dir: &Path, text: &str) -> anyhow::Result<()> {
    let temporary = dir.join(".agents.lock.pulled");
    fs_err::write(&temporary, text)?;
    fs_err::rename(&temporary, dir.join("agents.lock"))?;
    Ok(())
}

/// `lockfile` with `name` pinned at `version` (an agent of `text`), as a teammate's commit would.
fn repin(lockfile: &str, name: &str, version: &str, text: &str) -> anyhow::Result<String> {
    let sha256 = agents_format::Sha256::of(text.as_bytes()).to_hex();
    let mut out = Vec::new();
    let mut in_entry = false;
    let mut found = false;
    for line in lockfile.lines() {
        if line.starts_with('[') {
            in_entry = false;
        }
        if line == format!("name = \"{name}\"") {
            in_entry = true;
            found = true;
        }
        out.push(match line {
            _ if in_entry && line.starts_with("version = ") => format!("version = \"{version}\""),
            _ if in_entry && line.starts_with("sha256 = ") => format!("sha256 = \"{sha256}\""),
            _ => line.to_owned(),
        });
    }
    anyhow::ensure!(found, "no entry for {name} in the lockfile");
    Ok(out.join("\n") + "\n")
}

/// Waits until every `(file, text)` holds its text; how long that took.
fn wait_for_texts(expected: &[(PathBuf, String)], timeout: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if expected.iter().all(|(file, text)| fs_err::read_to_string(file).is_ok_and(|now| now == *text)) {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    None
}

/// A teammate's lockfile moving all 20 pins (to bodies already cached) pulled into one workspace
/// after another, and back: how soon every file holds its new version. Returns the table rows.
fn pin_moves(workspaces: &[PathBuf], names: &[String], locks: (&str, &str), rounds: usize) -> anyhow::Result<String> {
    let mut moved: BTreeSet<usize> = BTreeSet::new();
    let mut latency = Vec::new();
    for round in 0..rounds {
        let index = 1 + round * 7 % (WORKSPACES - 2);
        let to_new = moved.insert(index);
        if !to_new {
            moved.remove(&index);
        }
        let (lockfile, version) = if to_new { (locks.1, "1.1.0") } else { (locks.0, "1.0.0") };
        let dir = &workspaces[index];
        let expected: Vec<(PathBuf, String)> = names
            .iter()
            .map(|name| (dir.join(format!(".claude/agents/{name}.md")), scale_agent_text(name, version)))
            .collect();
        let started = Instant::now();
        pull_lockfile(dir, lockfile)?;
        wait_for_texts(&expected, Duration::from_secs(30)).context("a pulled lockfile's pin moves were not applied")?;
        latency.push(started.elapsed());
        std::thread::sleep(Duration::from_millis(200));
    }
    latency.sort();
    Ok(format!(
        "| {WORKSPACES} × {AGENTS_PER_WORKSPACE}: a pulled lockfile moving {AGENTS_PER_WORKSPACE} pins (bodies cached), all files applied, p50 ({rounds} pulls) | {} | |\n\
         | the same, p95 | {} | max {} (goal: p95 ≤ 100 ms) |\n",
        ms(percentile(&latency, 0.5)),
        ms(percentile(&latency, 0.95)),
        ms(percentile(&latency, 1.0)),
    ))
}

/// While registry `other` hangs on a fetch the last workspace's pulled pin needs, teammates pull
/// pins to new versions of registry `team` (fetched) into other workspaces: how soon each is
/// applied. Returns the table row.
fn pulled_pin_while_another_registry_hangs(
    env: &Env,
    teammate: &Env,
    other_proxy: &SlowProxy,
    workspaces: &[PathBuf],
    names: &[String],
) -> anyhow::Result<String> {
    let hung = &workspaces[WORKSPACES - 1];
    publish(teammate, "other", "hang-agent", "1.1.0")?;
    let lockfile = fs_err::read_to_string(hung.join("agents.lock"))?;
    let lockfile = repin(&lockfile, "hang-agent", "1.1.0", &scale_agent_text("hang-agent", "1.1.0"))?;
    other_proxy.set_delay(Duration::from_secs(600));
    pull_lockfile(hung, &lockfile)?;
    let started = Instant::now();
    while !timed_status(env)?.1["fetching"].to_string().contains("other") {
        if started.elapsed() > Duration::from_secs(10) {
            bail!("the daemon never fetched the hanging registry");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut latency = Vec::new();
    for round in 0..3 {
        let name = &names[5 + round];
        let dir = &workspaces[2 + round * 11];
        publish(teammate, "team", name, "1.2.0")?;
        let text = scale_agent_text(name, "1.2.0");
        let lockfile = repin(&fs_err::read_to_string(dir.join("agents.lock"))?, name, "1.2.0", &text)?;
        let started = Instant::now();
        pull_lockfile(dir, &lockfile)?;
        let file = dir.join(format!(".claude/agents/{name}.md"));
        wait_for_texts(&[(file, text)], Duration::from_secs(120))
            .context("a pulled pin from a fast registry waited for the hanging one")?;
        latency.push(started.elapsed());
    }
    let still = timed_status(env)?.1["fetching"].to_string().contains("other");
    other_proxy.set_delay(Duration::ZERO);
    latency.sort();
    Ok(format!(
        "| {WORKSPACES} × {AGENTS_PER_WORKSPACE}: a pulled pin to a new version of registry `team` (fetched) while a fetch of registry `other` hangs, applied p50 (3 pulls) | {} | max {} (goal: ≤ 2 s); `other` {} |\n",
        ms(percentile(&latency, 0.5)),
        ms(percentile(&latency, 1.0)),
        if still { "still hanging afterwards" } else { "no longer fetching afterwards (it should have been)" },
    ))
}

/// agentsd's watch audit and full reconcile intervals, in minutes (WATCH_AUDIT and
/// FULL_RECONCILE in crates/agentsd/src/daemon.rs).
const AUDIT_MINUTES: f64 = 30.0;
const FULL_RECONCILE_MINUTES: f64 = 180.0;

/// What the daemon's rare periodic work costs at 50 workspaces: it runs with one interval
/// shortened to 5 s for a minute, and the CPU it used is divided by the runs. Returns the table
/// rows, with the idle CPU they amortise to at the real intervals.
fn periodic_work(env: &Env, quick: bool) -> anyhow::Result<String> {
    let window = Duration::from_secs(if quick { 15 } else { 60 });
    let mut per_run = Vec::new();
    for variable in ["AGENTSD_WATCH_AUDIT_SECS", "AGENTSD_FULL_RECONCILE_SECS"] {
        env.agents_with(&env.project, &[(variable, "5")], &["daemon", "start"])?;
        let (_, status) = timed_status(env)?;
        let pid = u32::try_from(status["pid"].as_u64().context("`agents daemon status --json` printed no pid")?)?;
        // The start's own pass over every workspace, and its threads' ten seconds of idle.
        std::thread::sleep(Duration::from_secs(15));
        let ((before, _), (before_ns, before_threads)) = (proc_counters(pid)?, thread_cpu_ns(pid)?);
        std::thread::sleep(window);
        let ((after, _), (after_ns, after_threads)) = (proc_counters(pid)?, thread_cpu_ns(pid)?);
        env.agents(&["daemon", "stop"])?;
        let runs = window.as_secs() as f64 / 5.0;
        // schedstat has ns resolution but counts live threads only: it is exact when no thread
        // ended in the window; otherwise the 10 ms ticks (which count every thread, but by
        // sampling) are the floor.
        let exact = after_ns.saturating_sub(before_ns) as f64 / 1e6;
        let ms =
            if before_threads.is_subset(&after_threads) { exact } else { exact.max((after - before) as f64 * 10.0) };
        per_run.push(ms / runs);
    }
    let (audit, full) = (per_run[0], per_run[1]);
    Ok(format!(
        "| {WORKSPACES} × {AGENTS_PER_WORKSPACE}: one watch audit (every {AUDIT_MINUTES} minutes), CPU | {audit:.1} ms | measured with the audit every 5 s for {} s (schedstat, ns; 10 ms ticks as a floor if a thread ended meanwhile) |\n\
         | {WORKSPACES} × {AGENTS_PER_WORKSPACE}: one full reconcile of every workspace (every {FULL_RECONCILE_MINUTES} minutes), CPU | {full:.1} ms | the same way |\n\
         | {WORKSPACES} × {AGENTS_PER_WORKSPACE}: idle CPU with that periodic work amortised | {:.2} ms per minute | goal ≤ 1 ms |\n",
        window.as_secs(),
        audit / AUDIT_MINUTES + full / FULL_RECONCILE_MINUTES,
    ))
}

/// 50 workspaces × 20 agents, then status while a lock is held and a registry is slow.
/// Returns the table rows.
fn scale(env: &Env, quick: bool) -> anyhow::Result<String> {
    let root = env.home.join("srv");
    fs_err::create_dir_all(&root)?;
    let registry = root.join("team.git");
    env.agents(&["registry", "init", &registry.display().to_string()])?;
    let server = git_daemon(&root)?;
    let proxy = SlowProxy::start(server.1)?;
    env.agents(&["registry", "add", "team", &format!("git://127.0.0.1:{}/team.git", proxy.port)])?;
    let names: Vec<String> = (0..AGENTS_PER_WORKSPACE).map(|i| format!("scale-agent-{i:02}")).collect();
    for name in &names {
        publish(env, "team", name, "1.0.0")?;
    }
    let workspaces: Vec<PathBuf> = (0..WORKSPACES).map(|i| env.home.join(format!("ws/project-{i:02}"))).collect();
    let mut args: Vec<&str> = vec!["install"];
    args.extend(names.iter().map(String::as_str));
    for dir in &workspaces {
        fs_err::create_dir_all(dir.join(".git"))?;
        env.agents_in(dir, &args)?;
        env.agents_in(dir, &["daemon", "watch"])?;
    }
    // A second registry, `other`, behind its own proxy: the last workspace also installs from it.
    env.agents(&["registry", "init", &root.join("other.git").display().to_string()])?;
    let other_proxy = SlowProxy::start(server.1)?;
    env.agents(&["registry", "add", "other", &format!("git://127.0.0.1:{}/other.git", other_proxy.port)])?;
    publish(env, "other", "hang-agent", "1.0.0")?;
    env.agents_in(&workspaces[WORKSPACES - 1], &["install", "hang-agent", "--registry", "other"])?;
    // The pins a pulled lockfile moves: 1.1.0 of every agent, fetched into the cache by an
    // update in a project the daemon does not watch.
    for name in &names {
        publish(env, "team", name, "1.1.0")?;
    }
    let lock_old = fs_err::read_to_string(workspaces[1].join("agents.lock"))?;
    let scratch = env.home.join("scratch");
    fs_err::create_dir_all(scratch.join(".git"))?;
    fs_err::copy(workspaces[1].join("agents.toml"), scratch.join("agents.toml"))?;
    fs_err::write(scratch.join("agents.lock"), &lock_old)?;
    env.agents_in(&scratch, &["update"])?;
    let lock_new = fs_err::read_to_string(scratch.join("agents.lock"))?;
    // A teammate who publishes straight to the git daemon (not through the proxies).
    let teammate = Env::named(env.bin.clone(), "-teammate")?;
    for (registry, path) in [("team", "team.git"), ("other", "other.git")] {
        teammate.agents(&["registry", "add", registry, &format!("git://127.0.0.1:{}/{path}", server.1)])?;
    }
    env.agents(&["daemon", "start"])?;
    let (_, status) = timed_status(env)?;
    let pid = u32::try_from(status["pid"].as_u64().context("`agents daemon status --json` printed no pid")?)?;
    // Every workspace reconciled once before measuring.
    let started = Instant::now();
    loop {
        let (_, status) = timed_status(env)?;
        let done = status["workspaces"].as_array().is_some_and(|w| w.iter().all(|w| w["last_reconcile"].is_i64()));
        if done {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            bail!("the daemon did not reconcile {WORKSPACES} workspaces within 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    let rounds = if quick { 20 } else { 100 };
    let (ticks_before, _) = proc_counters(pid)?;
    let mut latency = Vec::new();
    for round in 0..rounds {
        let file =
            workspaces[round * 7 % WORKSPACES].join(format!(".claude/agents/{}.md", names[round * 3 % names.len()]));
        fs_err::remove_file(&file)?;
        latency.push(wait_for(&file, Duration::from_secs(10)).context("the daemon did not restore a file at scale")?);
        std::thread::sleep(Duration::from_millis(20));
    }
    let (ticks_after, _) = proc_counters(pid)?;
    let pin_moves = pin_moves(&workspaces, &names, (&lock_old, &lock_new), if quick { 5 } else { 20 })?;
    let flood = flood(env, pid, &workspaces, &names, if quick { 200 } else { FLOOD_FILES })?;
    let busy_rss = rss_kib(pid)?;
    let window = Duration::from_secs(if quick { 10 } else { 60 });
    let idle_cpu = idle_cpu(pid, Duration::from_secs(12), window)?;
    latency.sort();
    let cpu_per_event = (ticks_after - ticks_before) as f64 * 10.0 / rounds as f64;

    let hung = pulled_pin_while_another_registry_hangs(env, &teammate, &other_proxy, &workspaces, &names)?;

    // A CLI holds workspace 0's lock while the registry takes 5 s to answer a fetch.
    proxy.set_delay(SLOW_REGISTRY);
    let lock = hold_workspace_lock(env, &workspaces[0].canonicalize()?)?;
    fs_err::remove_file(workspaces[0].join(format!(".claude/agents/{}.md", names[0])))?;
    env.agents(&["daemon", "sync"])?;
    let mut status_latency = Vec::new();
    let mut saw_waiting = false;
    let mut saw_fetching = false;
    let mut restored_elsewhere = Vec::new();
    for round in 0..20 {
        let (took, status) = timed_status(env)?;
        status_latency.push(took);
        saw_fetching |= status["fetching"].is_string();
        saw_waiting |= status["workspaces"].to_string().contains("waiting");
        if round % 4 == 0 {
            let file = workspaces[1 + round % (WORKSPACES - 1)].join(format!(".claude/agents/{}.md", names[1]));
            fs_err::remove_file(&file)?;
            restored_elsewhere
                .push(wait_for(&file, Duration::from_secs(10)).context("a restore waited on the held lock")?);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(lock);
    proxy.set_delay(Duration::ZERO);
    env.agents(&["daemon", "stop"])?;
    let periodic = periodic_work(env, quick)?;
    drop(server);
    status_latency.sort();
    restored_elsewhere.sort();
    if !saw_waiting || !saw_fetching {
        bail!("status never said what waits (waiting: {saw_waiting}, fetching: {saw_fetching})");
    }
    Ok(format!(
        "| {WORKSPACES} workspaces × {AGENTS_PER_WORKSPACE} agents: event → reconciled, p50 ({rounds} deletions) | {} | |\n\
         | {WORKSPACES} × {AGENTS_PER_WORKSPACE}: event → reconciled, p95 | {} | |\n\
         | {WORKSPACES} × {AGENTS_PER_WORKSPACE}: CPU per deletion restored | {cpu_per_event:.1} ms (10 ms resolution) | |\n\
         {pin_moves}\
         {flood}\
         {hung}\
         {periodic}\
         | {WORKSPACES} × {AGENTS_PER_WORKSPACE}: idle CPU | {idle_cpu:.2} ms per minute (over {}s, after 12 s of quiet; schedstat, ns resolution) | |\n\
         | {WORKSPACES} × {AGENTS_PER_WORKSPACE}: RSS | {:.1} MiB | |\n\
         | `agents daemon status` while a CLI holds a lock and a fetch waits {} s on the registry, p50 (20 calls) | {} | status said what waits on what: the workspace waiting for its lock, the fetch on registry team |\n\
         | the same, p95 | {} | a file deleted in another workspace meanwhile: restored in {} p50, {} max |\n",
        ms(percentile(&latency, 0.5)),
        ms(percentile(&latency, 0.95)),
        window.as_secs(),
        busy_rss as f64 / 1024.0,
        SLOW_REGISTRY.as_secs(),
        ms(percentile(&status_latency, 0.5)),
        ms(percentile(&status_latency, 0.95)),
        ms(percentile(&restored_elsewhere, 0.5)),
        ms(percentile(&restored_elsewhere, 1.0)),
    ))
}
