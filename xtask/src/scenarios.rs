//! `cargo xtask bench [--quick] [--scale N]`: the CLI scenarios at scale, side by side with the
//! tools a user would pick instead, measured in the same run on the release binaries.
//!
//! A synthetic registry (N agents × 10 versions, names and body sizes drawn like the shared
//! corpus) is written as a real git repository with `git fast-import`. Each scenario runs a few
//! times; the table reports the median (and p95) wall time, the peak resident memory (from GNU
//! time), and the ratio to a baseline measured in the same run: the `git` command line, and the
//! peers `agpm` (crate agpm-cli) and APM (PyPI apm-cli) where they are installed.

use std::io::Write;
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
pub(crate) fn agent_name(index: usize) -> String {
    let domain = DOMAINS[index % DOMAINS.len()];
    let role = ROLES[(index / DOMAINS.len()) % ROLES.len()];
    let round = index / (DOMAINS.len() * ROLES.len());
    if round == 0 { format!("{domain}-{role}") } else { format!("{domain}-{role}-{round}") }
}

/// Body sizes like the shared corpus's (its files' sizes, sampled), else around 6.7 KB (its
/// median). The corpus lives beside the repository in `../shared`, which a fresh clone lacks.
fn size_distribution() -> &'static [usize] {
    static SIZES: std::sync::OnceLock<Vec<usize>> = std::sync::OnceLock::new();
    SIZES.get_or_init(read_size_distribution)
}

fn read_size_distribution() -> Vec<usize> {
    let corpus = root().join("../shared/corpus/awesome-claude-code-subagents/categories");
    let mut sizes = Vec::new();
    for category in fs_err::read_dir(&corpus).into_iter().flatten().flatten() {
        for file in fs_err::read_dir(category.path()).into_iter().flatten().flatten() {
            if let Ok(meta) = file.metadata() {
                sizes.push(meta.len() as usize);
            }
        }
    }
    if sizes.is_empty() {
        eprintln!("xtask: note: {} not found; synthetic bodies are all 6,700 bytes", corpus.display());
        vec![6_700]
    } else {
        sizes
    }
}

/// The body of version `version` of synthetic agent `index`: the same bytes every time it is
/// asked for (its own seeded generator), so the generator can hash bodies in one pass and write
/// them in another without holding them.
fn synthetic_body(index: usize, version: usize, sizes: &[usize]) -> String {
    let name = agent_name(index);
    let mut random =
        Random(0x005E_ED0F_A6E7 ^ ((index as u64) << 8 | version as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let size = sizes[random.below(sizes.len())];
    let mut body = format!(
        "---\nname: {name}\ndescription: \"Use for {name} work, version {version}: reviews, designs and fixes.\"\ntools: Read, Grep, Glob\nmodel: sonnet\n---\n\n"
    );
    while body.len() < size {
        body.push_str(WORDS[random.below(WORDS.len())]);
        body.push(if random.below(12) == 0 { '\n' } else { ' ' });
    }
    body.push('\n');
    body
}

/// Writes the synthetic registry as a bare git repository at `path`, streaming to `git
/// fast-import` (nothing of its size is held in memory).
///
/// Objects go into the pack in the order `git gc` would put them for this tree (`pack-objects`
/// follows a traversal of the tip: `config.json`, every index file, then the bodies), and
/// whole: fast-import's default deltifies each blob against the one before it in the stream,
/// related or not, which puts chains of ten bodies in front of every index file. No server's
/// pack looks like that, and it made reading every index file ten times slower than in a gc'd
/// registry. `layout` says where index files go (format 2 at hashed paths, format 1 at prefix
/// paths) and bodies (format 2 two levels deep, format 1 one level).
pub(crate) fn generate(path: &Path, agents: usize, layout: agents_format::Layout) -> anyhow::Result<()> {
    let _ = fs_err::remove_dir_all(path);
    run(Command::new("git").args(["init", "-q", "--bare", "-b", "main"]).arg(path))?;
    let sizes = size_distribution();
    let mut fast_import = Command::new("git");
    fast_import.arg("--git-dir").arg(path).args(["fast-import", "--quiet", "--depth=0"]).stdin(Stdio::piped());
    let mut child = fast_import.spawn().with_context(|| format!("cannot run {fast_import:?}"))?;
    let mut stream = std::io::BufWriter::with_capacity(1 << 20, child.stdin.take().context("stdin")?);
    let mut files: Vec<(String, usize)> = Vec::new();
    let mut mark = 0;
    let mut blob = |stream: &mut dyn Write, bytes: &[u8]| -> anyhow::Result<usize> {
        mark += 1;
        write!(stream, "blob\nmark :{mark}\ndata {}\n", bytes.len())?;
        stream.write_all(bytes)?;
        stream.write_all(b"\n")?;
        Ok(mark)
    };
    let id = agents_format::RegistryId::new("r-00000000000000000000000000bench").context("a valid id")?;
    let config = agents_format::RegistryConfig::with_layout(layout, id, None).to_text();
    files.push(("config.json".to_owned(), blob(&mut stream, config.as_bytes())?));
    let mut agents_in_path_order: Vec<(String, usize)> =
        (0..agents).map(|index| (layout.index_path(&agent_name(index).parse().expect("valid")), index)).collect();
    agents_in_path_order.sort();
    for (index_path, index) in &agents_in_path_order {
        let name = agent_name(*index);
        let mut lines = String::new();
        for version in 0..VERSIONS {
            let body = synthetic_body(*index, version, sizes);
            let sha = agents_format::Sha256::of(body.as_bytes()).to_hex();
            lines.push_str(&format!(
                "{{\"schema\":1,\"name\":\"{name}\",\"version\":\"1.{version}.0\",\"sha256\":\"{sha}\",\"length\":{},\"published\":\"2026-01-01T00:00:00Z\",\"yanked\":false,\"description\":\"Use for {name} work.\"}}\n",
                body.len()
            ));
        }
        files.push((index_path.clone(), blob(&mut stream, lines.as_bytes())?));
    }
    for (_, index) in &agents_in_path_order {
        for version in 0..VERSIONS {
            let body = synthetic_body(*index, version, sizes);
            let path = layout.body_path(agents_format::Kind::Agent, &agents_format::Sha256::of(body.as_bytes()));
            files.push((path, blob(&mut stream, body.as_bytes())?));
        }
    }
    let message = "synthetic registry";
    write!(
        stream,
        "commit refs/heads/main\ncommitter bench <bench@localhost> 1767225600 +0000\ndata {}\n{message}\n",
        message.len()
    )?;
    for (path, mark) in &files {
        writeln!(stream, "M 100644 :{mark} {path}")?;
    }
    stream.write_all(b"\n")?;
    drop(
        stream
            .into_inner()
            .map_err(|error| error.into_error())
            .with_context(|| format!("writing to {fast_import:?}"))?,
    );
    let status = child.wait().with_context(|| format!("waiting for {fast_import:?}"))?;
    if !status.success() {
        bail!("{fast_import:?} failed with {status}");
    }
    Ok(())
}

/// `cargo xtask bench generate PATH AGENTS [--format 1]`: the synthetic registry alone, to
/// profile against (format 2 unless told).
pub(crate) fn generate_registry(path: &Path, agents: usize, layout: agents_format::Layout) -> anyhow::Result<()> {
    let started = Instant::now();
    generate(path, agents, layout).with_context(|| format!("generating a synthetic registry at {}", path.display()))?;
    eprintln!(
        "xtask: generated {agents} agents × {VERSIONS} versions ({layout}) at {} in {:.1}s",
        path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// One isolated user for the agents CLI.
pub(crate) struct User {
    home: PathBuf,
    bin: PathBuf,
}

impl User {
    fn new(dir: &Path, bin: &Path) -> anyhow::Result<User> {
        fs_err::create_dir_all(dir.join(".run"))?;
        Ok(User { home: dir.to_path_buf(), bin: bin.to_path_buf() })
    }

    /// A user whose configuration names the registry at `url` as `bench`.
    pub(crate) fn with_registry(dir: &Path, bin: &Path, url: &str) -> anyhow::Result<User> {
        let user = User::new(dir, bin)?;
        let config = user.home.join(".config/agents");
        fs_err::create_dir_all(&config)?;
        fs_err::write(config.join("config.toml"), format!("[registries]\nbench = {{ url = \"{url}\" }}\n"))?;
        Ok(user)
    }

    fn command(&self, program: &Path, cwd: &Path) -> Command {
        let mut command = Command::new(program);
        command.current_dir(cwd).stdin(Stdio::null());
        crate::bench::isolate(&mut command, &self.home);
        command
    }

    pub(crate) fn agents(&self, cwd: &Path, args: &[&str]) -> Command {
        let mut command = self.command(&self.bin.join("agents"), cwd);
        command.args(args);
        command
    }
}

/// One timed run: wall time from spawn to exit, with no wrapper process in the figure.
fn measure(mut command: Command) -> anyhow::Result<Duration> {
    let log = std::env::temp_dir().join(format!("agents-bench-stderr-{}", std::process::id()));
    command.stdout(Stdio::null()).stderr(fs_err::File::create(&log)?.into_file());
    let started = Instant::now();
    let status = command.status().with_context(|| format!("cannot run {command:?}"))?;
    let elapsed = started.elapsed();
    if !status.success() {
        let stderr = fs_err::read_to_string(&log).unwrap_or_default();
        bail!("{command:?} failed: {stderr}");
    }
    Ok(elapsed)
}

/// One run under GNU time for its peak resident set (KiB). A separate run, because the kernel's
/// own figure for a child spawned from this process (`wait4`'s `ru_maxrss`) starts from this
/// process's high-water mark, and the wrapper's start-up must not sit in the timed runs.
fn peak_rss(command: &Command) -> anyhow::Result<u64> {
    let mut timed = Command::new("/usr/bin/time");
    timed.args(["-f", "peak-rss-kib=%M"]).arg(command.get_program()).args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => timed.env(key, value),
            None => timed.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        timed.current_dir(dir);
    }
    let output = timed
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {timed:?} (GNU time measures peak memory: apt-get install time)"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!("{timed:?} failed: {stderr}");
    }
    let rss = stderr.lines().rev().find_map(|l| l.strip_prefix("peak-rss-kib=")).and_then(|v| v.trim().parse().ok());
    rss.with_context(|| format!("GNU time printed no peak RSS: {stderr}"))
}

pub(crate) struct Figure {
    pub(crate) median: Duration,
    pub(crate) p95: Duration,
    pub(crate) rss_kib: u64,
}

/// A baseline's figure, or why there is none.
type Baseline = Result<Figure, String>;

/// Runs `make` (with a fresh `setup` before each run) `runs` times for wall time, then once more
/// for peak memory.
pub(crate) fn sample(
    runs: usize,
    mut setup: impl FnMut(usize) -> anyhow::Result<()>,
    mut make: impl FnMut(usize) -> Command,
) -> anyhow::Result<Figure> {
    let mut times = Vec::new();
    for i in 0..runs {
        setup(i)?;
        times.push(measure(make(i))?);
    }
    setup(runs)?;
    let rss = peak_rss(&make(runs))?;
    times.sort();
    let at = |p: f64| times[(((times.len() - 1) as f64) * p).round() as usize];
    Ok(Figure { median: at(0.5), p95: at(0.95), rss_kib: rss })
}

pub(crate) fn ms(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if ms < 10.0 { format!("{ms:.1} ms") } else { format!("{ms:.0} ms") }
}

struct Row {
    scenario: String,
    ours: Figure,
    /// Each baseline's figure, or why it was not measured (a peer that could not be installed
    /// or failed), said in its row.
    baselines: Vec<(String, Baseline)>,
    /// Said in the baseline column when there is none: why no peer is measured.
    note: &'static str,
}

const NO_INDEX: &str = "no peer equivalent: agpm and APM keep no registry index to look an agent up in";
const NO_SEARCH: &str = "no peer equivalent for a git registry: agpm has no search, APM searches plugin marketplaces";
const NO_PUBLISH: &str =
    "no peer equivalent for a git registry: agpm does not publish, APM publishes to a registry server";
const NOT_MEASURED: &str = "peers not measured here";

/// Removes every search summary under `home` (the cache keeps them beside its clones).
fn remove_summaries(home: &Path) -> anyhow::Result<()> {
    let mut pending = vec![home.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs_err::read_dir(&dir)?.flatten() {
            let path = entry.path();
            if entry.file_type().with_context(|| format!("reading the type of {}", path.display()))?.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "summary") {
                fs_err::remove_file(&path)?;
            }
        }
    }
    Ok(())
}

pub(crate) fn fresh_dir(path: &Path) -> anyhow::Result<()> {
    let _ = fs_err::remove_dir_all(path);
    fs_err::create_dir_all(path)?;
    Ok(())
}

/// An empty project a user would install into: a directory at the top of a git repository
/// (`agents` asks for `agents init` or `--global` outside one, and the bench must not measure
/// that refusal).
pub(crate) fn fresh_project(path: &Path) -> anyhow::Result<()> {
    fresh_dir(path)?;
    fs_err::create_dir(path.join(".git"))?;
    Ok(())
}

/// The most a release binary may weigh (the first-hour issue: what `cargo install` gives).
const MAX_BINARY_BYTES: u64 = 16 * 1024 * 1024;

/// Prints each release binary's size and fails when one is over [`MAX_BINARY_BYTES`]: the
/// release profile is what `cargo install` builds with.
fn binary_sizes(bin: &std::path::Path) -> anyhow::Result<()> {
    for name in ["agents", "agentsd"] {
        let size = fs_err::metadata(bin.join(name))?.len();
        let mib = size as f64 / 1024.0 / 1024.0;
        println!("release binary {name}: {mib:.1} MiB (goal ≤ 16 MiB)");
        anyhow::ensure!(size <= MAX_BINARY_BYTES, "the release binary {name} is {mib:.1} MiB, over 16 MiB");
    }
    Ok(())
}

pub(crate) fn bench(quick: bool, scale: Option<usize>) -> anyhow::Result<()> {
    run(cargo().args(["build", "--release", "--bins", "--locked"]))?;
    let bin = crate::target_dir()?.join("release");
    binary_sizes(&bin)?;
    let peers = install_peers()?;
    let scale = scale.unwrap_or(if quick { 1_000 } else { 10_000 });
    let runs = if quick { 3 } else { 10 };
    // Baselines that take seconds each at scale (full clones with a checkout) run fewer times.
    // At 100,000 agents one of them takes minutes: once, then once more for its memory.
    let slow_runs = if scale >= 100_000 { 1 } else { runs.min(3) };
    let work = std::env::temp_dir().join(format!("agents-bench-scenarios-{}", std::process::id()));
    fresh_dir(&work)?;
    let registry = work.join("registry.git");
    let started = Instant::now();
    generate(&registry, scale, agents_format::Layout::LATEST)
        .with_context(|| format!("generating a synthetic registry at {}", registry.display()))?;
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
            fresh_project(&project)?;
            User::with_registry(&cold_home, &bin, &url)?;
            Ok(())
        },
        |_| User { home: cold_home.clone(), bin: bin.clone() }.agents(&project, &["install", &target_name]),
    )?;
    let clone_dir = work.join("clone.git");
    let git_clone = sample(
        slow_runs,
        |_| {
            let _ = fs_err::remove_dir_all(&clone_dir);
            Ok(())
        },
        |_| {
            let mut command = Command::new("git");
            command.args(["clone", "-q", "--bare", &url]).arg(&clone_dir);
            command
        },
    )?;
    let git_local = sample(
        runs,
        |_| {
            let _ = fs_err::remove_dir_all(&clone_dir);
            Ok(())
        },
        |_| {
            let mut command = Command::new("git");
            command.args(["clone", "-q", "--bare"]).arg(&registry).arg(&clone_dir);
            command
        },
    )?;
    rows.push(Row {
        scenario: format!("install one agent, cold cache: first clone ({scale} agents)"),
        ours,
        baselines: vec![
            ("`git clone --bare` of the path (hardlinks, as agents does)".into(), Ok(git_local)),
            ("`git clone --bare file://` (pack transfer)".into(), Ok(git_clone)),
        ],
        note: "",
    });

    // Install one agent, warm cache, into a fresh project each time.
    let warm = User::with_registry(&work.join("warm"), &bin, &url)?;
    fresh_project(&project)?;
    measure(warm.agents(&project, &["install", &target_name]))?;
    let ours = sample(runs, |_| fresh_project(&project), |_| warm.agents(&project, &["install", &target_name]))?;
    let builtin =
        sample(runs, |_| fresh_project(&project), |_| warm.agents(&project, &["install", "go-backend-expert"]))?;
    let depth_clone = work.join("depth");
    let git_copy = sample(
        slow_runs,
        |_| {
            let _ = fs_err::remove_dir_all(&depth_clone);
            fresh_dir(&project)
        },
        |_| {
            let mut command = Command::new("sh");
            command.arg("-c").arg(format!(
            "git clone -q --depth 1 {url} {} && mkdir -p {p}/.claude/agents && cp {}/config.json {p}/.claude/agents/x.md",
            depth_clone.display(),
            depth_clone.display(),
            p = project.display()
        ));
            command
        },
    )?;
    let seed = vec![("go-backend-expert".to_owned(), builtin_seed().context("reading the seed for the peers")?)];
    let agpm = peer_agpm(&peers, &work, runs, "one", &seed)?;
    let apm = peer_apm(&peers, &work, runs, "one", &seed)?;
    rows.push(Row {
        scenario: "install one agent, warm cache (built-in registry)".into(),
        ours: builtin,
        baselines: vec![("agpm (same agent, local git repo)".into(), agpm), ("APM (local package)".into(), apm)],
        note: "",
    });
    rows.push(Row {
        scenario: format!("install one agent, warm cache ({scale} agents, fetch included)"),
        ours,
        baselines: vec![("`git clone --depth 1` + copy".into(), Ok(git_copy))],
        note: "",
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
            fs_err::write(project.join("agents.toml"), &manifest)?;
            Ok(())
        },
        |_| warm.agents(&project, &["install"]),
    )?;
    // The peers install the same 50 files (each agent's newest version, what `^1` resolves to).
    let sizes = size_distribution();
    let same: Vec<(String, Vec<u8>)> = (0..50)
        .map(|i| i * (scale / 50).max(1))
        .map(|index| (agent_name(index), synthetic_body(index, VERSIONS - 1, sizes).into_bytes()))
        .collect();
    let agpm = peer_agpm(&peers, &work, runs, "fifty", &same)?;
    let apm = peer_apm(&peers, &work, runs, "fifty", &same)?;
    rows.push(Row {
        scenario: "install 50 agents from a manifest".into(),
        ours,
        baselines: vec![
            ("agpm (same 50 files, local git repo)".into(), agpm),
            ("APM (same 50 files, local package)".into(), apm),
        ],
        note: "",
    });

    // Look up one agent; search.
    let ours = sample(runs, |_| Ok(()), |_| warm.agents(&project, &["info", &target_name, "--offline"]))?;
    rows.push(Row { scenario: format!("look up one agent ({scale} agents)"), ours, baselines: vec![], note: NO_INDEX });
    let search = ["search", "reviewer", "--offline"];
    let first = sample(runs.min(3), |_| remove_summaries(&warm.home), |_| warm.agents(&project, &search))?;
    rows.push(Row {
        scenario: format!("search, first after a clone: builds the summary ({scale} agents)"),
        ours: first,
        baselines: vec![],
        note: NO_SEARCH,
    });
    let ours = sample(runs, |_| Ok(()), |_| warm.agents(&project, &search))?;
    let git_grep = sample(
        runs,
        |_| Ok(()),
        |_| {
            let mut command = Command::new("git");
            command.arg("--git-dir").arg(&registry).args(["grep", "-i", "-l", "reviewer", "main", "--", "index"]);
            command
        },
    )?;
    rows.push(Row {
        scenario: format!("search ({scale} agents)"),
        ours,
        baselines: vec![("`git grep` over the index".into(), Ok(git_grep))],
        note: "",
    });

    // Publish one version; then update after that publish (an incremental fetch).
    let publisher = User::with_registry(&work.join("publisher"), &bin, &url)?;
    // Warm the publisher's cache clone, so the figure is a publish and not a first clone.
    measure(publisher.agents(&work, &["info", &target_name]))?;
    let file = work.join("new-agent.md");
    let mut version = 0;
    let publish = sample(
        runs,
        |_| {
            version += 1;
            fs_err::write(&file, format!("---\nname: {target_name}\ndescription: d\n---\nnew body {version}\n"))?;
            Ok(())
        },
        |i| publisher.agents(&work, &["publish", file.to_str().expect("utf-8 path"), "--version", &format!("2.{i}.0")]),
    )?;
    rows.push(Row {
        scenario: format!("publish one version ({scale} agents)"),
        ours: publish,
        baselines: vec![],
        note: NO_PUBLISH,
    });

    fresh_project(&project)?;
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
            let mut command = Command::new("git");
            command.arg("--git-dir").arg(&git_mirror).args(["fetch", "-q", &url, "+refs/heads/main:refs/heads/main"]);
            command
        },
    )?;
    rows.push(Row {
        scenario: format!("update after one publish ({scale} agents)"),
        ours: update,
        baselines: vec![("`git fetch`".into(), Ok(git_fetch))],
        note: "",
    });
    let search_after = sample(
        runs,
        |_| {
            next += 1;
            publish_version(&publisher, &work, &file, &target_name, next)?;
            measure(warm.agents(&project, &["update"]))?;
            Ok(())
        },
        |_| warm.agents(&project, &search),
    )?;
    rows.push(Row {
        scenario: format!("search after one publish: summary brought up to date ({scale} agents)"),
        ours: search_after,
        baselines: vec![],
        note: NO_SEARCH,
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
        fs_err::write(project.join("agents.toml"), &manifest)?;
        measure(warm.agents(&project, &["install"]))?;
        let list = sample(runs, |_| Ok(()), |_| warm.agents(&project, &["list"]))?;
        rows.push(Row {
            scenario: "list, 1,000 agents installed".into(),
            ours: list,
            baselines: vec![],
            note: NOT_MEASURED,
        });
        let verify = sample(runs, |_| Ok(()), |_| warm.agents(&project, &["verify"]))?;
        rows.push(Row {
            scenario: "verify, 1,000 agents installed".into(),
            ours: verify,
            baselines: vec![],
            note: NOT_MEASURED,
        });
    }

    let table = render(&rows, runs, slow_runs);
    println!("{table}");
    // A smoke check (`--quick`) prints its table; only full runs replace the recorded figures,
    // one section per registry size.
    if !quick {
        let command =
            if scale == 10_000 { "cargo xtask bench".to_owned() } else { format!("cargo xtask bench --scale {scale}") };
        crate::bench::write_section(&format!("scenarios at {scale} agents"), &command, &table)?;
    }
    // AGENTS_BENCH_KEEP=1 keeps the registry and homes for profiling.
    if std::env::var_os("AGENTS_BENCH_KEEP").is_none() {
        let _ = fs_err::remove_dir_all(&work);
    } else {
        eprintln!("xtask: kept {}", work.display());
    }
    Ok(())
}

fn render(rows: &[Row], runs: usize, slow_runs: usize) -> String {
    let mut table = format!(
        "{runs} runs per figure ({slow_runs} for the full-clone baselines), plus one for peak memory. Ratio = baseline median ÷ agents median (above 1: agents is faster).\n\n\
         | scenario | agents median (p95) | peak RSS | baseline (same run) | ratio |\n| --- | --- | --- | --- | --- |\n"
    );
    for row in rows {
        let ours = format!("{} ({})", ms(row.ours.median), ms(row.ours.p95));
        let rss = format!("{:.1} MiB", row.ours.rss_kib as f64 / 1024.0);
        if row.baselines.is_empty() {
            table.push_str(&format!("| {} | {ours} | {rss} | {} | |\n", row.scenario, row.note));
        }
        for (name, figure) in &row.baselines {
            let (baseline, ratio) = match figure {
                Ok(f) => (
                    format!("{name}: {}", ms(f.median)),
                    format!("{:.1}×", f.median.as_secs_f64() / row.ours.median.as_secs_f64()),
                ),
                Err(why) => (format!("{name}: not measured: {why}"), "n/a".to_owned()),
            };
            table.push_str(&format!("| {} | {ours} | {rss} | {baseline} | {ratio} |\n", row.scenario));
        }
    }
    table
}

/// agpm installing `agents` (name, bytes) from a local git repository (the peer's own layout),
/// into a fresh project each run, its cache warm like ours. `tag` keeps each setup apart.
fn peer_agpm(
    peers: &Peers,
    work: &Path,
    runs: usize,
    tag: &str,
    agents: &[(String, Vec<u8>)],
) -> anyhow::Result<Baseline> {
    let agpm = match &peers.agpm {
        Ok(agpm) => agpm,
        Err(why) => return Ok(Err(why.clone())),
    };
    let repo = work.join(format!("agpm-{tag}-repo.git"));
    let checkout = work.join(format!("agpm-{tag}-work"));
    run(Command::new("git").args(["init", "-q", "--bare", "-b", "main"]).arg(&repo))?;
    run(Command::new("git").arg("clone").arg("-q").arg(&repo).arg(&checkout))?;
    fs_err::create_dir_all(checkout.join("agents"))?;
    for (name, bytes) in agents {
        fs_err::write(checkout.join(format!("agents/{name}.md")), bytes)?;
    }
    run(Command::new("git").arg("-C").arg(&checkout).args(["add", "."]))?;
    run(Command::new("git").arg("-C").arg(&checkout).args([
        "-c",
        "user.name=b",
        "-c",
        "user.email=b@localhost",
        "commit",
        "-qm",
        "agents",
    ]))?;
    run(Command::new("git").arg("-C").arg(&checkout).args(["push", "-q", "origin", "HEAD:main"]))?;
    let project = work.join(format!("agpm-{tag}-project"));
    let home = work.join(format!("agpm-{tag}-home"));
    let mut manifest = format!("[sources]\nlocal = \"file://{}\"\n\n[agents]\n", repo.display());
    for (name, _) in agents {
        manifest
            .push_str(&format!("{name} = {{ source = \"local\", path = \"agents/{name}.md\", branch = \"main\" }}\n"));
    }
    fresh_dir(&project)?;
    fs_err::write(project.join("agpm.toml"), &manifest)?;
    fs_err::create_dir_all(&home)?;
    // Warm its cache, like ours.
    let _ = Command::new(agpm).arg("install").current_dir(&project).env("HOME", &home).output();
    let figure = sample(
        runs,
        |_| {
            fresh_dir(&project)?;
            fs_err::write(project.join("agpm.toml"), &manifest)?;
            Ok(())
        },
        |_| {
            let mut command = Command::new(agpm);
            command.arg("install").current_dir(&project).env("HOME", &home);
            command
        },
    );
    Ok(peer_failed("agpm", figure))
}

/// A peer's figure, or (said in the run and returned for its row) why its run failed.
fn peer_failed(peer: &str, figure: anyhow::Result<Figure>) -> Baseline {
    figure.map_err(|error| {
        eprintln!("xtask: {peer} failed, its row will say so: {error:#}");
        let first = format!("{error:#}").lines().next().unwrap_or_default().to_owned();
        let short: String = first.chars().take(160).collect();
        format!("{peer} failed in this run ({short})").replace('|', "\\|")
    })
}

/// APM installing `agents` (name, bytes) from a local package directory.
fn peer_apm(
    peers: &Peers,
    work: &Path,
    runs: usize,
    tag: &str,
    agents: &[(String, Vec<u8>)],
) -> anyhow::Result<Baseline> {
    let apm = match &peers.apm {
        Ok(apm) => apm,
        Err(why) => return Ok(Err(why.clone())),
    };
    let package = work.join(format!("apm-{tag}-pkg"));
    fs_err::create_dir_all(package.join(".apm/agents"))?;
    fs_err::write(package.join("apm.yml"), format!("name: {tag}\nversion: 1.0.0\ndescription: bench\n"))?;
    for (name, bytes) in agents {
        fs_err::write(package.join(format!(".apm/agents/{name}.agent.md")), bytes)?;
    }
    let project = work.join(format!("apm-{tag}-project"));
    let home = work.join(format!("apm-{tag}-home"));
    fs_err::create_dir_all(&home)?;
    let package_arg = format!("../apm-{tag}-pkg");
    let figure = sample(
        runs,
        |_| fresh_dir(&project),
        |_| {
            let mut command = Command::new(apm);
            command.args(["install", &package_arg, "--target", "claude"]).current_dir(&project).env("HOME", &home);
            command
        },
    );
    Ok(peer_failed("APM", figure))
}

/// Publishes version `2.<n>.0` of `name` as `publisher`: a new publish for the update scenarios.
fn publish_version(publisher: &User, work: &Path, file: &Path, name: &str, n: u32) -> anyhow::Result<()> {
    fs_err::write(file, format!("---\nname: {name}\ndescription: d\n---\nnew body {n}\n"))?;
    let file = file.to_str().context("a UTF-8 path")?;
    measure(publisher.agents(work, &["publish", file, "--version", &format!("2.{n}.0")]))?;
    Ok(())
}

/// The seed agent as the built-in registry holds it (`registry/`), found through its index
/// record: the repository's own copy, so the bench needs nothing beside the clone.
fn builtin_seed() -> anyhow::Result<Vec<u8>> {
    let registry = root().join("registry");
    let name: agents_format::AgentName = "go-backend-expert".parse().context("the seed's name is valid")?;
    let config = agents_format::RegistryConfig::parse(&fs_err::read_to_string(registry.join("config.json"))?)?;
    let index_file = registry.join(config.layout.index_path(&name));
    let index = agents_format::IndexFile::parse(&fs_err::read_to_string(&index_file)?);
    let record = index
        .records()
        .find(|record| record.version == semver::Version::new(1, 0, 0))
        .with_context(|| format!("{} has no record for 1.0.0", index_file.display()))?;
    Ok(fs_err::read(registry.join(config.layout.body_path(agents_format::Kind::Agent, &record.sha256)))?)
}

/// The peers' executables, or why each is missing (said in its rows of the table).
struct Peers {
    agpm: Result<PathBuf, String>,
    apm: Result<PathBuf, String>,
}

/// Installs the peers a user would pick instead, once, under `<target dir>/peers`: agpm (crate
/// agpm-cli) and APM (PyPI apm-cli). A peer that cannot be installed is said in the run and
/// in the table, never fatal: the bench still measures agents and git.
fn install_peers() -> anyhow::Result<Peers> {
    let dir = crate::target_dir()?.join("peers");
    let agpm = dir.join("bin/agpm");
    let agpm = if agpm.exists() {
        Ok(agpm)
    } else {
        let mut install = crate::cargo();
        install.args(["install", "agpm-cli", "--locked", "--root"]).arg(&dir);
        install_peer("agpm", &mut install, &agpm)
    };
    Ok(Peers { agpm, apm: install_apm()? })
}

/// APM (PyPI apm-cli) in a virtual environment under `<target dir>/peers`, installed once; why
/// not when it cannot be.
pub(crate) fn install_apm() -> anyhow::Result<Result<PathBuf, String>> {
    let venv = crate::target_dir()?.join("peers/apm-venv");
    let apm = venv.join("bin/apm");
    if apm.exists() {
        return Ok(Ok(apm));
    }
    let mut create = Command::new("python3");
    create.arg("-m").arg("venv").arg(&venv);
    // Few retries: without PyPI, pip's defaults spend minutes before giving up.
    let mut install = Command::new(venv.join("bin/pip"));
    install.args(["install", "-q", "--retries", "1", "--timeout", "20", "apm-cli"]);
    Ok(install_peer("APM", &mut create, &venv.join("bin/pip")).and_then(|_| install_peer("APM", &mut install, &apm)))
}

/// Runs `command` to install `peer`, then expects `executable`; on failure says why, in the run
/// and as the reason returned for the table.
fn install_peer(peer: &str, command: &mut Command, executable: &Path) -> Result<PathBuf, String> {
    eprintln!("xtask: installing {peer}: {command:?}");
    let why = match command.stdin(Stdio::null()).output() {
        Err(error) => format!("cannot run {}: {error}", command.get_program().to_string_lossy()),
        Ok(output) if !output.status.success() => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no error output").trim();
            let last: String = last.chars().take(160).collect();
            format!("`{}` failed with {}: {last}", describe(command), output.status)
        }
        Ok(_) if !executable.exists() => {
            format!("`{}` succeeded but left no {}", describe(command), executable.display())
        }
        Ok(_) => return Ok(executable.to_path_buf()),
    };
    eprintln!("xtask: {peer} could not be installed, its rows will say so: {why}");
    Err(format!("could not be installed here: {why}").replace('|', "\\|"))
}

/// `program arg...` short enough for a table cell: absolute paths shortened to `…/NAME`.
fn describe(command: &Command) -> String {
    let short = |arg: &std::ffi::OsStr| {
        let path = Path::new(arg);
        match path.file_name() {
            Some(name) if path.is_absolute() => format!("…/{}", name.to_string_lossy()),
            _ => arg.to_string_lossy().into_owned(),
        }
    };
    let program = Path::new(command.get_program());
    let mut words = vec![program.file_name().unwrap_or(program.as_os_str()).to_string_lossy().into_owned()];
    words.extend(command.get_args().map(short));
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_comes_from_the_built_in_registry() {
        let seed = builtin_seed().expect("registry/ holds the seed");
        assert!(seed.starts_with(b"---\nname: go-backend-expert\n"));
        assert_eq!(
            agents_format::Sha256::of(&seed).to_hex(),
            "05c95fc58df5a203f38452f159361ba09a17b3a17c2de02d3ef3cd99e52f9539"
        );
    }

    #[test]
    fn binaries_are_looked_for_where_cargo_builds_them() {
        // This test's own executable is `<target dir>/debug/deps/xtask-<hash>`, wherever
        // CARGO_TARGET_DIR or a cargo config put the target directory.
        let exe = std::env::current_exe().unwrap();
        let target = crate::target_dir().unwrap();
        assert!(exe.starts_with(&target), "{} is not under {}", exe.display(), target.display());
    }

    #[test]
    fn a_peer_that_cannot_be_installed_says_why_in_its_row() {
        let missing = Path::new("/nonexistent/peer");
        let failed = install_peer("peer", Command::new("false").arg("/some/where/peers"), missing).unwrap_err();
        assert!(failed.contains("`false …/peers` failed with exit status: 1"), "{failed}");
        let empty = install_peer("peer", &mut Command::new("true"), missing).unwrap_err();
        assert!(empty.contains("succeeded but left no /nonexistent/peer"), "{empty}");
        let absent = install_peer("peer", &mut Command::new("/nonexistent/installer"), missing).unwrap_err();
        assert!(absent.contains("cannot run /nonexistent/installer"), "{absent}");

        let figure = || Figure { median: Duration::from_millis(10), p95: Duration::from_millis(12), rss_kib: 1024 };
        let row = Row {
            scenario: "install".into(),
            ours: figure(),
            baselines: vec![("git".into(), Ok(figure())), ("agpm".into(), Err(failed))],
            note: "",
        };
        let table = render(&[row], 3, 3);
        assert!(table.contains("| git: 10 ms | 1.0× |"), "{table}");
        assert!(table.contains("| agpm: not measured: could not be installed here: `false"), "{table}");
    }
}
