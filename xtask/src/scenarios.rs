//! `cargo xtask bench [--quick] [--scale N]`: the CLI scenarios at scale, side by side with the
//! tools a user would pick instead, measured in the same run on the release binaries.
//!
//! A synthetic registry (N agents × 10 versions, names and body sizes drawn like the shared
//! corpus) is written as a real git repository with `git fast-import`. Each scenario runs a few
//! times; the table reports the median (and p95) wall time, the peak resident memory (from GNU
//! time), and the ratio to a baseline measured in the same run: the `git` command line, and the
//! peers `agpm` (crate agpm-cli) and APM (PyPI apm-cli) where they are installed.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::{cargo, root, run};

const VERSIONS: usize = 10;

/// A small deterministic generator (xorshift64*).
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }
}

const DOMAINS: [&str; 24] = [
    "go",
    "rust",
    "python",
    "typescript",
    "react",
    "vue",
    "django",
    "rails",
    "kotlin",
    "swift",
    "data",
    "ml",
    "security",
    "cloud",
    "kubernetes",
    "terraform",
    "postgres",
    "graphql",
    "api",
    "mobile",
    "devops",
    "qa",
    "docs",
    "frontend",
];
const ROLES: [&str; 12] = [
    "expert",
    "reviewer",
    "architect",
    "engineer",
    "analyst",
    "writer",
    "auditor",
    "tester",
    "optimizer",
    "mentor",
    "planner",
    "debugger",
];
const WORDS: [&str; 24] = [
    "design",
    "review",
    "the",
    "system",
    "with",
    "careful",
    "tests",
    "and",
    "clear",
    "errors",
    "you",
    "should",
    "always",
    "prefer",
    "small",
    "changes",
    "that",
    "explain",
    "why",
    "performance",
    "security",
    "data",
    "users",
    "code",
];

/// The name of synthetic agent `index`: realistic (`rust-reviewer-17`) and unique.
fn agent_name(index: usize) -> String {
    let domain = DOMAINS[index % DOMAINS.len()];
    let role = ROLES[(index / DOMAINS.len()) % ROLES.len()];
    let round = index / (DOMAINS.len() * ROLES.len());
    if round == 0 { format!("{domain}-{role}") } else { format!("{domain}-{role}-{round}") }
}

/// Body sizes like the shared corpus's (its files' sizes, sampled), else around 6.7 KB.
fn size_distribution() -> Vec<usize> {
    let corpus = root().join("../shared/corpus/awesome-claude-code-subagents/categories");
    let mut sizes = Vec::new();
    for category in std::fs::read_dir(corpus).into_iter().flatten().flatten() {
        for file in std::fs::read_dir(category.path()).into_iter().flatten().flatten() {
            if let Ok(meta) = file.metadata() {
                sizes.push(meta.len() as usize);
            }
        }
    }
    if sizes.is_empty() { vec![6_700] } else { sizes }
}

/// Writes the synthetic registry as a bare git repository at `path`.
fn generate(path: &Path, agents: usize) -> anyhow::Result<()> {
    let _ = std::fs::remove_dir_all(path);
    run(Command::new("git").args(["init", "-q", "--bare", "-b", "main"]).arg(path))?;
    let sizes = size_distribution();
    let mut random = Random(0x005E_ED0F_A6E7);
    let mut stream = Vec::new();
    let mut files: Vec<(String, usize)> = Vec::new();
    let mut mark = 0;
    let mut blob = |stream: &mut Vec<u8>, bytes: &[u8]| -> usize {
        mark += 1;
        stream.extend_from_slice(format!("blob\nmark :{mark}\ndata {}\n", bytes.len()).as_bytes());
        stream.extend_from_slice(bytes);
        stream.push(b'\n');
        mark
    };
    let config = b"{\n  \"schema\": 1,\n  \"id\": \"r-00000000000000000000000000bench\"\n}\n";
    let config_mark = blob(&mut stream, config);
    files.push(("config.json".to_owned(), config_mark));
    for index in 0..agents {
        let name = agent_name(index);
        let mut lines = String::new();
        for version in 0..VERSIONS {
            let size = sizes[random.below(sizes.len())];
            let mut body = format!(
                "---\nname: {name}\ndescription: \"Use for {name} work, version {version}: reviews, designs and fixes.\"\ntools: Read, Grep, Glob\nmodel: sonnet\n---\n\n"
            );
            while body.len() < size {
                body.push_str(WORDS[random.below(WORDS.len())]);
                body.push(if random.below(12) == 0 { '\n' } else { ' ' });
            }
            body.push('\n');
            let sha = agents_format::Sha256::of(body.as_bytes()).to_hex();
            let body_mark = blob(&mut stream, body.as_bytes());
            files.push((format!("bodies/{}/{sha}", &sha[..2]), body_mark));
            lines.push_str(&format!(
                "{{\"schema\":1,\"name\":\"{name}\",\"version\":\"1.{version}.0\",\"sha256\":\"{sha}\",\"length\":{},\"published\":\"2026-01-01T00:00:00Z\",\"yanked\":false,\"description\":\"Use for {name} work.\"}}\n",
                body.len()
            ));
        }
        let index_path = format!("index/{}/{}/{name}", &name[..2], &name[2..4]);
        let index_mark = blob(&mut stream, lines.as_bytes());
        files.push((index_path, index_mark));
    }
    let message = "synthetic registry";
    let header =
        format!("commit refs/heads/main\ncommitter bench <bench@localhost> 1767225600 +0000\ndata {}\n", message.len());
    stream.extend_from_slice(header.as_bytes());
    stream.extend_from_slice(message.as_bytes());
    stream.push(b'\n');
    for (path, mark) in &files {
        stream.extend_from_slice(format!("M 100644 :{mark} {path}\n").as_bytes());
    }
    stream.extend_from_slice(b"\n");
    let mut child = Command::new("git")
        .arg("--git-dir")
        .arg(path)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()?;
    child.stdin.take().context("stdin")?.write_all(&stream)?;
    if !child.wait()?.success() {
        bail!("git fast-import failed");
    }
    Ok(())
}

/// One isolated user for the agents CLI.
struct User {
    home: PathBuf,
    bin: PathBuf,
}

impl User {
    fn new(dir: &Path, bin: &Path) -> anyhow::Result<User> {
        std::fs::create_dir_all(dir.join(".run"))?;
        Ok(User { home: dir.to_path_buf(), bin: bin.to_path_buf() })
    }

    fn command(&self, program: &Path, cwd: &Path) -> Command {
        let mut command = Command::new("/usr/bin/time");
        command.args(["-f", "peak-rss-kib=%M"]).arg(program).current_dir(cwd).stdin(Stdio::null());
        crate::bench::isolate(&mut command, &self.home);
        command
    }

    fn agents(&self, cwd: &Path, args: &[&str]) -> Command {
        let mut command = self.command(&self.bin.join("agents"), cwd);
        command.args(args);
        command
    }
}

/// One timed run: wall time and peak RSS (KiB).
fn measure(mut command: Command) -> anyhow::Result<(Duration, u64)> {
    let started = Instant::now();
    let output = command.output().with_context(|| format!("cannot run {command:?}"))?;
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!("{command:?} failed: {stderr}");
    }
    let rss = stderr.lines().rev().find_map(|l| l.strip_prefix("peak-rss-kib=")).and_then(|v| v.trim().parse().ok());
    Ok((elapsed, rss.unwrap_or(0)))
}

struct Figure {
    median: Duration,
    p95: Duration,
    rss_kib: u64,
}

/// Runs `make` (with a fresh `setup` before each run) `runs` times.
fn sample(
    runs: usize,
    mut setup: impl FnMut(usize) -> anyhow::Result<()>,
    mut make: impl FnMut(usize) -> Command,
) -> anyhow::Result<Figure> {
    let mut times = Vec::new();
    let mut rss = 0;
    for i in 0..runs {
        setup(i)?;
        let (elapsed, peak) = measure(make(i))?;
        times.push(elapsed);
        rss = rss.max(peak);
    }
    times.sort();
    let at = |p: f64| times[(((times.len() - 1) as f64) * p).round() as usize];
    Ok(Figure { median: at(0.5), p95: at(0.95), rss_kib: rss })
}

fn ms(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if ms < 10.0 { format!("{ms:.1} ms") } else { format!("{ms:.0} ms") }
}

struct Row {
    scenario: String,
    ours: Figure,
    baselines: Vec<(String, Option<Figure>)>,
}

fn fresh_dir(path: &Path) -> anyhow::Result<()> {
    let _ = std::fs::remove_dir_all(path);
    std::fs::create_dir_all(path)?;
    Ok(())
}

pub(crate) fn bench(quick: bool, scale: Option<usize>) -> anyhow::Result<()> {
    run(cargo().args(["build", "--release", "--bins", "--locked"]))?;
    install_peers();
    let bin = root().join("target/release");
    let scale = scale.unwrap_or(if quick { 1_000 } else { 10_000 });
    let runs = if quick { 3 } else { 10 };
    // Baselines that take seconds each at scale (full clones with a checkout) run fewer times.
    let slow_runs = runs.min(3);
    let work = std::env::temp_dir().join(format!("agents-bench-scenarios-{}", std::process::id()));
    fresh_dir(&work)?;
    let registry = work.join("registry.git");
    let started = Instant::now();
    generate(&registry, scale)?;
    eprintln!("xtask: generated {scale} agents × {VERSIONS} versions in {:.1}s", started.elapsed().as_secs_f64());
    let url = format!("file://{}", registry.display());
    let target_name = agent_name(scale / 2);
    let mut rows = Vec::new();

    // Install one agent, cold cache: the first clone.
    let cold_home = work.join("cold");
    let project = work.join("project");
    let ours = sample(
        runs,
        |_| {
            fresh_dir(&cold_home)?;
            fresh_dir(&project)?;
            User::new(&cold_home, &bin)?;
            let config = cold_home.join(".config/agents");
            std::fs::create_dir_all(&config)?;
            std::fs::write(config.join("config.toml"), format!("[registries]\nbench = {{ url = \"{url}\" }}\n"))?;
            Ok(())
        },
        |_| User { home: cold_home.clone(), bin: bin.clone() }.agents(&project, &["install", &target_name]),
    )?;
    let clone_dir = work.join("clone.git");
    let git_clone = sample(
        slow_runs,
        |_| {
            let _ = std::fs::remove_dir_all(&clone_dir);
            Ok(())
        },
        |_| {
            let mut command = Command::new("/usr/bin/time");
            command.args(["-f", "peak-rss-kib=%M", "git", "clone", "-q", "--bare", &url]).arg(&clone_dir);
            command
        },
    )?;
    let git_local = sample(
        runs,
        |_| {
            let _ = std::fs::remove_dir_all(&clone_dir);
            Ok(())
        },
        |_| {
            let mut command = Command::new("/usr/bin/time");
            command.args(["-f", "peak-rss-kib=%M", "git", "clone", "-q", "--bare"]).arg(&registry).arg(&clone_dir);
            command
        },
    )?;
    rows.push(Row {
        scenario: format!("install one agent, cold cache: first clone ({scale} agents)"),
        ours,
        baselines: vec![
            ("`git clone --bare` of the path (hardlinks, as agents does)".into(), Some(git_local)),
            ("`git clone --bare file://` (pack transfer)".into(), Some(git_clone)),
        ],
    });

    // Install one agent, warm cache, into a fresh project each time.
    let warm = User::new(&work.join("warm"), &bin)?;
    let config = warm.home.join(".config/agents");
    std::fs::create_dir_all(&config)?;
    std::fs::write(config.join("config.toml"), format!("[registries]\nbench = {{ url = \"{url}\" }}\n"))?;
    fresh_dir(&project)?;
    measure(warm.agents(&project, &["install", &target_name]))?;
    let ours = sample(runs, |_| fresh_dir(&project), |_| warm.agents(&project, &["install", &target_name]))?;
    let builtin = sample(runs, |_| fresh_dir(&project), |_| warm.agents(&project, &["install", "go-backend-expert"]))?;
    let depth_clone = work.join("depth");
    let git_copy = sample(
        slow_runs,
        |_| {
            let _ = std::fs::remove_dir_all(&depth_clone);
            fresh_dir(&project)
        },
        |_| {
            let mut command = Command::new("/usr/bin/time");
            command.args(["-f", "peak-rss-kib=%M", "sh", "-c"]).arg(format!(
            "git clone -q --depth 1 {url} {} && mkdir -p {p}/.claude/agents && cp {}/config.json {p}/.claude/agents/x.md",
            depth_clone.display(),
            depth_clone.display(),
            p = project.display()
        ));
            command
        },
    )?;
    let agpm = peer_agpm(&work, runs)?;
    let apm = peer_apm(&work, runs)?;
    rows.push(Row {
        scenario: "install one agent, warm cache (built-in registry)".into(),
        ours: builtin,
        baselines: vec![("agpm (same agent, local git repo)".into(), agpm), ("APM (local package)".into(), apm)],
    });
    rows.push(Row {
        scenario: format!("install one agent, warm cache ({scale} agents, fetch included)"),
        ours,
        baselines: vec![("`git clone --depth 1` + copy".into(), Some(git_copy))],
    });

    // Install 50 agents from a manifest.
    let fifty: Vec<String> = (0..50).map(|i| agent_name(i * (scale / 50).max(1))).collect();
    let manifest = format!(
        "[agents]\n{}",
        fifty.iter().map(|n| format!("{n} = {{ version = \"^1\", registry = \"bench\" }}\n")).collect::<String>()
    );
    let ours = sample(
        runs,
        |_| {
            fresh_dir(&project)?;
            std::fs::write(project.join("agents.toml"), &manifest)?;
            Ok(())
        },
        |_| warm.agents(&project, &["install"]),
    )?;
    rows.push(Row { scenario: "install 50 agents from a manifest".into(), ours, baselines: vec![] });

    // Look up one agent; search.
    let ours = sample(runs, |_| Ok(()), |_| warm.agents(&project, &["info", &target_name, "--offline"]))?;
    rows.push(Row { scenario: format!("look up one agent ({scale} agents)"), ours, baselines: vec![] });
    let ours = sample(runs.min(3), |_| Ok(()), |_| warm.agents(&project, &["search", "reviewer", "--offline"]))?;
    rows.push(Row { scenario: format!("search ({scale} agents)"), ours, baselines: vec![] });

    // Publish one version; then update after that publish (an incremental fetch).
    let publisher = User::new(&work.join("publisher"), &bin)?;
    let config = publisher.home.join(".config/agents");
    std::fs::create_dir_all(&config)?;
    std::fs::write(config.join("config.toml"), format!("[registries]\nbench = {{ url = \"{url}\" }}\n"))?;
    // Warm the publisher's cache clone, so the figure is a publish and not a first clone.
    measure(publisher.agents(&work, &["info", &target_name]))?;
    let file = work.join("new-agent.md");
    let mut version = 0;
    let publish = sample(
        runs,
        |_| {
            version += 1;
            std::fs::write(&file, format!("---\nname: {target_name}\ndescription: d\n---\nnew body {version}\n"))?;
            Ok(())
        },
        |i| publisher.agents(&work, &["publish", file.to_str().expect("utf-8 path"), "--version", &format!("2.{i}.0")]),
    )?;
    rows.push(Row { scenario: format!("publish one version ({scale} agents)"), ours: publish, baselines: vec![] });

    fresh_dir(&project)?;
    measure(warm.agents(&project, &["install", &format!("{target_name}@^2")]))?;
    let git_mirror = work.join("mirror.git");
    run(Command::new("git").args(["clone", "-q", "--bare", &url]).arg(&git_mirror))?;
    let mut next = 100;
    let update = sample(
        runs,
        |_| {
            next += 1;
            publish_version(&publisher, &work, &file, &target_name, next)
        },
        |_| warm.agents(&project, &["update"]),
    )?;
    let git_fetch = sample(
        runs,
        |_| {
            next += 1;
            publish_version(&publisher, &work, &file, &target_name, next)
        },
        |_| {
            let mut command = Command::new("/usr/bin/time");
            command.args(["-f", "peak-rss-kib=%M", "git", "--git-dir"]).arg(&git_mirror).args([
                "fetch",
                "-q",
                &url,
                "+refs/heads/main:refs/heads/main",
            ]);
            command
        },
    )?;
    rows.push(Row {
        scenario: format!("update after one publish ({scale} agents)"),
        ours: update,
        baselines: vec![("`git fetch`".into(), Some(git_fetch))],
    });

    // list and verify with 1,000 agents installed.
    if scale >= 1_000 {
        let thousand: Vec<String> = (0..1_000).map(agent_name).collect();
        let manifest = format!(
            "[agents]\n{}",
            thousand
                .iter()
                .map(|n| format!("{n} = {{ version = \"^1\", registry = \"bench\" }}\n"))
                .collect::<String>()
        );
        fresh_dir(&project)?;
        std::fs::write(project.join("agents.toml"), &manifest)?;
        measure(warm.agents(&project, &["install"]))?;
        let list = sample(runs, |_| Ok(()), |_| warm.agents(&project, &["list"]))?;
        rows.push(Row { scenario: "list, 1,000 agents installed".into(), ours: list, baselines: vec![] });
        let verify = sample(runs, |_| Ok(()), |_| warm.agents(&project, &["verify"]))?;
        rows.push(Row { scenario: "verify, 1,000 agents installed".into(), ours: verify, baselines: vec![] });
    }

    let table = render(&rows, runs);
    println!("{table}");
    crate::bench::write_section("scenarios", "cargo xtask bench", &table, quick)?;
    // AGENTS_BENCH_KEEP=1 keeps the registry and homes for profiling.
    if std::env::var_os("AGENTS_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&work);
    } else {
        eprintln!("xtask: kept {}", work.display());
    }
    Ok(())
}

fn render(rows: &[Row], runs: usize) -> String {
    let mut table = format!(
        "{runs} runs per figure (3 for the full-clone baselines). Ratio = baseline median ÷ agents median (above 1: agents is faster).\n\n\
         | scenario | agents median (p95) | peak RSS | baseline (same run) | ratio |\n| --- | --- | --- | --- | --- |\n"
    );
    for row in rows {
        let ours = format!("{} ({})", ms(row.ours.median), ms(row.ours.p95));
        let rss = format!("{:.1} MiB", row.ours.rss_kib as f64 / 1024.0);
        if row.baselines.is_empty() {
            table.push_str(&format!("| {} | {ours} | {rss} | | |\n", row.scenario));
        }
        for (name, figure) in &row.baselines {
            let (baseline, ratio) = match figure {
                Some(f) => (
                    format!("{name}: {}", ms(f.median)),
                    format!("{:.1}×", f.median.as_secs_f64() / row.ours.median.as_secs_f64()),
                ),
                None => (format!("{name}: not installed here"), "n/a".to_owned()),
            };
            table.push_str(&format!("| {} | {ours} | {rss} | {baseline} | {ratio} |\n", row.scenario));
        }
    }
    table
}

/// agpm installing the seed agent from a local git repository (the peer's own layout).
fn peer_agpm(work: &Path, runs: usize) -> anyhow::Result<Option<Figure>> {
    let agpm = which("agpm");
    let Some(agpm) = agpm else { return Ok(None) };
    let repo = work.join("agpm-repo.git");
    let checkout = work.join("agpm-work");
    run(Command::new("git").args(["init", "-q", "--bare", "-b", "main"]).arg(&repo))?;
    run(Command::new("git").arg("clone").arg("-q").arg(&repo).arg(&checkout))?;
    std::fs::create_dir_all(checkout.join("agents"))?;
    std::fs::copy(root().join("../shared/seed/go-backend-expert.md"), checkout.join("agents/go-backend-expert.md"))?;
    run(Command::new("git").arg("-C").arg(&checkout).args(["add", "."]))?;
    run(Command::new("git").arg("-C").arg(&checkout).args([
        "-c",
        "user.name=b",
        "-c",
        "user.email=b@localhost",
        "commit",
        "-qm",
        "seed",
    ]))?;
    run(Command::new("git").arg("-C").arg(&checkout).args(["push", "-q", "origin", "HEAD:main"]))?;
    let project = work.join("agpm-project");
    let home = work.join("agpm-home");
    let manifest = format!(
        "[sources]\nlocal = \"file://{}\"\n\n[agents]\ngo-backend-expert = {{ source = \"local\", path = \"agents/go-backend-expert.md\", branch = \"main\" }}\n",
        repo.display()
    );
    fresh_dir(&project)?;
    std::fs::write(project.join("agpm.toml"), &manifest)?;
    std::fs::create_dir_all(&home)?;
    // Warm its cache, like ours.
    let _ = Command::new(&agpm).arg("install").current_dir(&project).env("HOME", &home).output();
    let figure = sample(
        runs,
        |_| {
            fresh_dir(&project)?;
            std::fs::write(project.join("agpm.toml"), &manifest)?;
            Ok(())
        },
        |_| {
            let mut command = Command::new("/usr/bin/time");
            command.args(["-f", "peak-rss-kib=%M"]).arg(&agpm).arg("install").current_dir(&project).env("HOME", &home);
            command
        },
    );
    Ok(figure.ok())
}

/// APM installing the seed agent from a local package directory.
fn peer_apm(work: &Path, runs: usize) -> anyhow::Result<Option<Figure>> {
    let Some(apm) = which("apm") else { return Ok(None) };
    let package = work.join("apm-pkg");
    std::fs::create_dir_all(package.join(".apm/agents"))?;
    std::fs::write(package.join("apm.yml"), "name: pkg\nversion: 1.0.0\ndescription: bench\n")?;
    std::fs::copy(
        root().join("../shared/seed/go-backend-expert.md"),
        package.join(".apm/agents/go-backend-expert.agent.md"),
    )?;
    let project = work.join("apm-project");
    let home = work.join("apm-home");
    std::fs::create_dir_all(&home)?;
    let figure = sample(
        runs,
        |_| fresh_dir(&project),
        |_| {
            let mut command = Command::new("/usr/bin/time");
            command
                .args(["-f", "peak-rss-kib=%M"])
                .arg(&apm)
                .args(["install", "../apm-pkg", "--target", "claude"])
                .current_dir(&project)
                .env("HOME", &home);
            command
        },
    );
    Ok(figure.ok())
}

/// Publishes version `2.<n>.0` of `name` as `publisher`: a new publish for the update scenarios.
fn publish_version(publisher: &User, work: &Path, file: &Path, name: &str, n: u32) -> anyhow::Result<()> {
    std::fs::write(file, format!("---\nname: {name}\ndescription: d\n---\nnew body {n}\n"))?;
    let file = file.to_str().context("a UTF-8 path")?;
    measure(publisher.agents(work, &["publish", file, "--version", &format!("2.{n}.0")]))?;
    Ok(())
}

/// Where the peers are installed from their package registries (crates.io, PyPI).
fn peers_dir() -> PathBuf {
    root().join("target/peers")
}

/// Installs the peers a user would pick instead, once: agpm (crate agpm-cli) and APM (PyPI
/// apm-cli). A peer that cannot be installed is reported as such in the table.
fn install_peers() {
    let dir = peers_dir();
    if !dir.join("bin/agpm").exists() {
        let status = Command::new("cargo").args(["install", "agpm-cli", "--locked", "--root"]).arg(&dir).status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("xtask: agpm could not be installed; its column will say so");
        }
    }
    let apm = dir.join("apm-venv/bin/apm");
    if !apm.exists() {
        let venv = dir.join("apm-venv");
        let ok = Command::new("python3").arg("-m").arg("venv").arg(&venv).status().is_ok_and(|s| s.success())
            && Command::new(venv.join("bin/pip"))
                .args(["install", "-q", "apm-cli"])
                .status()
                .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("xtask: APM could not be installed; its column will say so");
        }
    }
}

/// A peer's executable, from [`peers_dir`].
fn which(program: &str) -> Option<PathBuf> {
    let dir = peers_dir();
    [dir.join("bin").join(program), dir.join("apm-venv/bin").join(program)].into_iter().find(|p| p.exists())
}
