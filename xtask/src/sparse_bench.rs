//! `cargo xtask bench sparse [--quick] [--scale N]`: a sparse registry against the same registry
//! over git, measured on the release binary in one run.
//!
//! The synthetic registry of N agents × 10 versions (the scenarios' generator) is exported as
//! files (`git archive main | tar -x`, whatever layout the registry has), served by lighttpd on
//! loopback over plain HTTP (TLS would add one handshake per connection; the figures are about
//! what the client asks for), and its access log (through a pipe, written at once) gives the
//! requests and bytes of each run. Measured:
//!
//! - a cold install of one agent (empty cache): wall time, requests, bytes; against `git clone
//!   --bare` of the registry (from a `file://` URL, a pack transfer, and from the path, which
//!   links objects) and agents' own first clone of the git registry;
//! - 50 agents from a manifest: with an empty cache, and warm (a fresh project, cached files
//!   revalidated), against the git registry with its clone warm;
//! - `agents update` in a project with 50 locked agents after one publish (each run publishes one
//!   new version through git, then deploys only the files the commit changed, as a CI sync
//!   does), and with nothing new, against `agents update` on the git registry after the same
//!   publish.
//!
//! Figures are medians (and p95) of runs of the real binary as a new process, written to
//! docs/BENCHMARKS.md's `sparse registries at N agents` section (not with `--quick`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
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

/// lighttpd serving `www` on loopback (HTTP), its access log read through [`Site::requests`].
pub(crate) struct Site {
    child: Child,
    dir: PathBuf,
    port: u16,
    marker_port: u16,
    markers: usize,
}

/// One request from the access log.
#[derive(Debug, Clone)]
pub(crate) struct Served {
    status: u16,
    /// Response body bytes.
    body: u64,
    /// Bytes sent, headers included.
    sent: u64,
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0").context("binding a loopback port")?.local_addr()?.port())
}

impl Site {
    pub(crate) fn start(dir: &Path, www: &Path) -> anyhow::Result<Site> {
        let lighttpd = Path::new("/usr/sbin/lighttpd");
        if !lighttpd.exists() {
            bail!("lighttpd is not installed (`cargo xtask test` installs it: apt-get install lighttpd)");
        }
        fs_err::create_dir_all(dir)?;
        let (port, marker_port) = (free_port()?, free_port()?);
        let config = dir.join("lighttpd.conf");
        // Stat cache off, so a deploy is served at once; ETags of mtime and size, so files a
        // deploy did not touch keep theirs (as with a host's content-hash ETags).
        fs_err::write(
            &config,
            format!(
                r#"server.document-root = "{www}"
server.bind = "127.0.0.1"
server.port = {port}
server.errorlog = "{errors}"
server.modules = ("mod_accesslog", "mod_staticfile")
server.stat-cache-engine = "disable"
etag.use-inode = "disable"
mimetype.assign = ( ".json" => "application/json", "" => "application/octet-stream" )
accesslog.filename = "|/bin/cat >> '{access}'"
accesslog.format = "%>s %b %O %U"
$SERVER["socket"] == "127.0.0.1:{marker_port}" {{ }}
"#,
                www = www.display(),
                errors = dir.join("error.log").display(),
                access = dir.join("access.log").display(),
            ),
        )?;
        let child = Command::new(lighttpd)
            .arg("-D")
            .arg("-f")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs_err::File::create(dir.join("lighttpd.out"))?.into_file())
            .spawn()
            .context("cannot start lighttpd")?;
        let site = Site { child, dir: dir.to_owned(), port, marker_port, markers: 0 };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
            || std::net::TcpStream::connect(("127.0.0.1", marker_port)).is_err()
        {
            if started.elapsed() > Duration::from_secs(10) {
                bail!(
                    "lighttpd did not listen: {}",
                    fs_err::read_to_string(dir.join("lighttpd.out")).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(site)
    }

    pub(crate) fn url(&self) -> String {
        format!("sparse+http://127.0.0.1:{}/", self.port)
    }

    pub(crate) fn clear_log(&self) -> anyhow::Result<()> {
        fs_err::write(self.dir.join("access.log"), "")?;
        Ok(())
    }

    /// The requests answered since the last clear: a marker request goes in behind them and the
    /// log is read once it shows.
    pub(crate) fn requests(&mut self) -> anyhow::Result<Vec<Served>> {
        use std::io::{Read as _, Write as _};
        self.markers += 1;
        let marker = format!("/.marker-{}", self.markers);
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.marker_port))?;
        write!(stream, "GET {marker} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
        stream.read_to_end(&mut Vec::new())?;
        let access = self.dir.join("access.log");
        let started = Instant::now();
        loop {
            let text = fs_err::read_to_string(&access).unwrap_or_default();
            if text.lines().any(|line| line.ends_with(&marker)) {
                return Ok(text
                    .lines()
                    .filter(|line| !line.contains(" /.marker-"))
                    .filter_map(|line| {
                        let mut fields = line.split(' ');
                        let status = fields.next()?.parse().ok()?;
                        let body = fields.next()?.parse().unwrap_or(0);
                        let sent = fields.next()?.parse().unwrap_or(0);
                        Some(Served { status, body, sent })
                    })
                    .collect());
            }
            if started.elapsed() > Duration::from_secs(5) {
                bail!("lighttpd's access log never showed {marker}");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// What one command asked of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Traffic {
    requests: usize,
    not_modified: usize,
    body: u64,
    sent: u64,
}

impl Traffic {
    fn of(requests: &[Served]) -> Traffic {
        Traffic {
            requests: requests.len(),
            not_modified: requests.iter().filter(|r| r.status == 304).count(),
            body: requests.iter().map(|r| r.body).sum(),
            sent: requests.iter().map(|r| r.sent).sum(),
        }
    }

    fn describe(&self) -> String {
        let answered = if self.not_modified == 0 {
            String::new()
        } else if self.not_modified == self.requests {
            ", all 304".to_owned()
        } else {
            format!(", {} of them 304", self.not_modified)
        };
        match self.requests {
            0 => "no request".to_owned(),
            1 => format!("1 request; {} of body ({} with headers)", kb(self.body), kb(self.sent)),
            n => format!("{n} requests{answered}; {} of bodies ({} with headers)", kb(self.body), kb(self.sent)),
        }
    }
}

fn kb(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        format!("{:.2} GB", bytes as f64 / 1e9)
    } else if bytes >= 1 << 20 {
        format!("{:.0} MB", bytes as f64 / 1e6)
    } else {
        format!("{:.1} KB", bytes as f64 / 1e3)
    }
}

/// One isolated user of the agents CLI.
struct User {
    home: PathBuf,
    bin: PathBuf,
}

impl User {
    /// A fresh user whose configuration names the registry at `url` as `bench`.
    fn fresh(home: &Path, bin: &Path, url: &str) -> anyhow::Result<User> {
        let _ = fs_err::remove_dir_all(home);
        let config = home.join(".config/agents");
        fs_err::create_dir_all(&config)?;
        fs_err::create_dir_all(home.join(".run"))?;
        fs_err::write(config.join("config.toml"), format!("[registries]\nbench = {{ url = \"{url}\" }}\n"))?;
        Ok(User { home: home.to_owned(), bin: bin.to_owned() })
    }

    fn agents(&self, cwd: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(self.bin.join("agents"));
        command.current_dir(cwd).stdin(Stdio::null()).args(args);
        isolate(&mut command, &self.home);
        command
    }
}

/// A fresh project (a repository: discovery stops at its `.git`), with `manifest` if given.
fn fresh_project(dir: &Path, manifest: Option<&str>) -> anyhow::Result<()> {
    let _ = fs_err::remove_dir_all(dir);
    fs_err::create_dir_all(dir.join(".git"))?;
    if let Some(manifest) = manifest {
        fs_err::write(dir.join("agents.toml"), manifest)?;
    }
    Ok(())
}

/// One timed run: wall time from spawn to exit.
fn measure(mut command: Command) -> anyhow::Result<Duration> {
    command.stdout(Stdio::null()).stderr(Stdio::piped());
    let started = Instant::now();
    let output = command.output().with_context(|| format!("cannot run {command:?}"))?;
    let elapsed = started.elapsed();
    if !output.status.success() {
        bail!("{command:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(elapsed)
}

struct Figure {
    median: Duration,
    p95: Duration,
}

impl Figure {
    fn of(mut times: Vec<Duration>) -> Figure {
        times.sort();
        let at = |p: f64| times[(((times.len() - 1) as f64) * p).round() as usize];
        Figure { median: at(0.5), p95: at(0.95) }
    }

    fn describe(&self) -> String {
        format!("{} ({} p95)", ms(self.median), ms(self.p95))
    }
}

fn ms(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else if ms < 10_000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

/// Runs `setup` then times `make`, `runs` times; with a site, the traffic of the last run
/// (every run's must be the same, or the figure would mix two scenarios).
fn sample(
    runs: usize,
    mut site: Option<&mut Site>,
    mut setup: impl FnMut(usize) -> anyhow::Result<()>,
    mut make: impl FnMut(usize) -> Command,
) -> anyhow::Result<(Figure, Option<Traffic>)> {
    let mut times = Vec::new();
    let mut traffic: Option<Traffic> = None;
    for i in 0..runs {
        setup(i)?;
        if let Some(site) = site.as_deref_mut() {
            site.clear_log()?;
        }
        times.push(measure(make(i))?);
        if let Some(site) = site.as_deref_mut() {
            let this = Traffic::of(&site.requests()?);
            if let Some(previous) = &traffic
                && (previous.requests, previous.not_modified) != (this.requests, this.not_modified)
            {
                bail!("run {i} made other requests than the run before: {this:?} against {previous:?}");
            }
            traffic = Some(this);
        }
    }
    Ok((Figure::of(times), traffic))
}

/// Kilobytes and inodes under `path`, from `du`.
fn du(path: &Path) -> anyhow::Result<(u64, u64)> {
    let number = |args: &[&str]| -> anyhow::Result<u64> {
        let output = Command::new("du").args(args).arg(path).output().context("cannot run du")?;
        let text = String::from_utf8_lossy(&output.stdout);
        text.split_whitespace().next().and_then(|n| n.parse().ok()).with_context(|| format!("du {args:?}: {text}"))
    };
    Ok((number(&["-sk"])?, number(&["-s", "--inodes"])?))
}

fn git(registry: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("git")
        .arg("--git-dir")
        .arg(registry)
        .args(args)
        .output()
        .with_context(|| format!("cannot run git {args:?}"))?;
    if !output.status.success() {
        bail!("git {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// `git archive main [paths] | tar -x -C www`.
pub(crate) fn archive(registry: &Path, www: &Path, paths: &[&str]) -> anyhow::Result<()> {
    fs_err::create_dir_all(www)?;
    let mut archive = Command::new("git");
    archive.arg("--git-dir").arg(registry).args(["archive", "main", "--"]).args(paths).stdout(Stdio::piped());
    let mut archive = archive.spawn().context("cannot run git archive")?;
    let status = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(www)
        .stdin(archive.stdout.take().context("git archive's stdout")?)
        .status()
        .context("cannot run tar")?;
    if !archive.wait()?.success() || !status.success() {
        bail!("git archive | tar -x into {} failed", www.display());
    }
    Ok(())
}

/// Deploys the last commit to `www` as a CI sync does: only the files it added, changed or
/// removed (the others keep their bytes, mtime and so their ETag).
fn deploy_last_commit(registry: &Path, www: &Path) -> anyhow::Result<()> {
    let changes = git(registry, &["diff", "--name-status", "--no-renames", "main~1", "main"])?;
    let mut written = Vec::new();
    for line in changes.lines() {
        let (status, path) = line.split_once('\t').with_context(|| format!("git diff: odd line {line}"))?;
        if status == "D" {
            fs_err::remove_file(www.join(path))?;
        } else {
            written.push(path);
        }
    }
    archive(registry, www, &written)
}

pub(crate) fn sparse(quick: bool, scale: Option<usize>) -> anyhow::Result<()> {
    run(cargo().args(["build", "--release", "--bins", "--locked"]))?;
    let bin = crate::target_dir()?.join("release");
    let scale = scale.unwrap_or(if quick { 1_000 } else { 10_000 });
    let runs = if quick { 3 } else { 10 };
    // `git clone file://` takes seconds at 10,000 agents and about a minute at 100,000.
    let slow_runs = if quick || scale >= 100_000 { 1 } else { 3 };
    let work = std::env::temp_dir().join(format!("agents-bench-sparse-{}", std::process::id()));
    let _ = fs_err::remove_dir_all(&work);
    fs_err::create_dir_all(&work)?;
    let _cleanup = TempDir(work.clone());

    let registry = work.join("registry.git");
    crate::scenarios::generate_registry(&registry, scale, agents_format::Layout::LATEST)?;
    let www = work.join("www");
    let started = Instant::now();
    archive(&registry, &www, &[])?;
    let export_time = started.elapsed();
    let (www_kib, www_files) = du(&www)?;
    let (registry_kib, _) = du(&registry)?;
    eprintln!(
        "xtask: exported the tree in {:.1}s: {:.0} MB, {www_files} files",
        export_time.as_secs_f64(),
        www_kib as f64 / 1024.0
    );
    let mut site = Site::start(&work.join("lighttpd"), &www)?;
    let sparse_url = site.url();
    let git_url = format!("file://{}", registry.display());

    let mut names: Vec<String> = git(&registry, &["ls-tree", "-r", "--name-only", "main", "index/"])?
        .lines()
        .filter_map(|path| path.rsplit('/').next().map(str::to_owned))
        .collect();
    names.sort();
    if names.len() < 50 {
        bail!("the registry has {} agents; the bench needs 50", names.len());
    }
    let target = names[names.len() / 2].clone();
    let fifty: Vec<String> = (0..50).map(|i| names[i * names.len() / 50].clone()).collect();
    let manifest = format!(
        "[agents]\n{}",
        fifty.iter().map(|n| format!("{n} = {{ version = \"^1\", registry = \"bench\" }}\n")).collect::<String>()
    );
    let project = work.join("project");
    let mut rows = Vec::new();

    // A cold install of one agent: an empty cache.
    let cold = work.join("cold");
    let (add, add_traffic) = sample(
        runs,
        Some(&mut site),
        |_| {
            User::fresh(&cold, &bin, "https://unused.invalid/")?;
            fs_err::remove_file(cold.join(".config/agents/config.toml"))?;
            fresh_project(&project, None)
        },
        |_| User { home: cold.clone(), bin: bin.clone() }.agents(&project, &["registry", "add", "team", &sparse_url]),
    )?;
    let (install, install_traffic) = sample(
        runs,
        Some(&mut site),
        |_| {
            User::fresh(&cold, &bin, &sparse_url)?;
            fresh_project(&project, None)
        },
        |_| User { home: cold.clone(), bin: bin.clone() }.agents(&project, &["install", &target]),
    )?;
    let install_traffic = install_traffic.context("traffic")?;
    let (git_first, _) = sample(
        runs,
        None,
        |_| {
            User::fresh(&cold, &bin, &git_url)?;
            fresh_project(&project, None)
        },
        |_| User { home: cold.clone(), bin: bin.clone() }.agents(&project, &["install", &target]),
    )?;
    let clone = work.join("clone.git");
    let (clone_url, _) = sample(
        slow_runs,
        None,
        |_| {
            let _ = fs_err::remove_dir_all(&clone);
            Ok(())
        },
        |_| {
            let mut command = Command::new("git");
            command.args(["clone", "-q", "--bare", &git_url]).arg(&clone);
            command
        },
    )?;
    let (clone_kib, _) = du(&clone)?;
    let (clone_path, _) = sample(
        runs,
        None,
        |_| {
            let _ = fs_err::remove_dir_all(&clone);
            Ok(())
        },
        |_| {
            let mut command = Command::new("git");
            command.args(["clone", "-q", "--bare"]).arg(&registry).arg(&clone);
            command
        },
    )?;
    let _ = fs_err::remove_dir_all(&clone);
    rows.push(format!(
        "| cold install of one agent (`install NAME`, empty cache) | {}; {} | agents' first clone of the git registry + install: {}; `git clone --bare file://`: {}, {} on disk; `git clone --bare` of the path (links the objects): {} |",
        install.describe(),
        install_traffic.describe(),
        git_first.describe(),
        ms(clone_url.median),
        kb(clone_kib * 1024),
        ms(clone_path.median),
    ));
    rows.push(format!(
        "| `registry add` (reads config.json) | {}; {} | |",
        add.describe(),
        add_traffic.context("traffic")?.describe()
    ));

    // 50 agents from a manifest.
    let (fifty_cold, fifty_cold_traffic) = sample(
        runs,
        Some(&mut site),
        |_| {
            User::fresh(&cold, &bin, &sparse_url)?;
            fresh_project(&project, Some(&manifest))
        },
        |_| User { home: cold.clone(), bin: bin.clone() }.agents(&project, &["install"]),
    )?;
    let (fifty_git_cold, _) = sample(
        runs,
        None,
        |_| {
            User::fresh(&cold, &bin, &git_url)?;
            fresh_project(&project, Some(&manifest))
        },
        |_| User { home: cold.clone(), bin: bin.clone() }.agents(&project, &["install"]),
    )?;
    let warm_sparse = User::fresh(&work.join("warm-sparse"), &bin, &sparse_url)?;
    let warm_git = User::fresh(&work.join("warm-git"), &bin, &git_url)?;
    for user in [&warm_sparse, &warm_git] {
        fresh_project(&project, Some(&manifest))?;
        measure(user.agents(&project, &["install"]))?;
    }
    let (fifty_warm, fifty_warm_traffic) = sample(
        runs,
        Some(&mut site),
        |_| fresh_project(&project, Some(&manifest)),
        |_| warm_sparse.agents(&project, &["install"]),
    )?;
    let (fifty_git, _) =
        sample(runs, None, |_| fresh_project(&project, Some(&manifest)), |_| warm_git.agents(&project, &["install"]))?;
    rows.push(format!(
        "| install 50 agents from a manifest, empty cache | {}; {} | agents' first clone of the git registry + the same install: {} |",
        fifty_cold.describe(),
        fifty_cold_traffic.context("traffic")?.describe(),
        fifty_git_cold.describe()
    ));
    rows.push(format!(
        "| install 50 agents from a manifest into a fresh project, cache warm | {}; {} | git registry, clone warm (fetch included): {} |",
        fifty_warm.describe(),
        fifty_warm_traffic.context("traffic")?.describe(),
        fifty_git.describe()
    ));

    // `agents update` with 50 agents locked, after one publish.
    let (sparse_project, git_project) = (work.join("project-sparse"), work.join("project-git"));
    for (user, dir) in [(&warm_sparse, &sparse_project), (&warm_git, &git_project)] {
        fresh_project(dir, Some(&manifest))?;
        measure(user.agents(dir, &["install"]))?;
    }
    let publisher = User::fresh(&work.join("publisher"), &bin, &registry.display().to_string())?;
    let agent_file = work.join("new.md");
    let mut sparse_times = Vec::new();
    let mut git_times = Vec::new();
    let mut publish_traffic: Option<Traffic> = None;
    for i in 0..runs {
        let name = &fifty[i % fifty.len()];
        fs_err::write(&agent_file, format!("---\nname: {name}\ndescription: d\n---\nA new version, {i}.\n"))?;
        let file = agent_file.to_str().context("a UTF-8 path")?;
        measure(publisher.agents(&work, &["publish", file, "--version", &format!("1.{}.0", 10 + i)]))?;
        deploy_last_commit(&registry, &www)?;
        site.clear_log()?;
        sparse_times.push(measure(warm_sparse.agents(&sparse_project, &["update"]))?);
        let this = Traffic::of(&site.requests()?);
        if let Some(previous) = &publish_traffic
            && (previous.requests, previous.not_modified) != (this.requests, this.not_modified)
        {
            bail!("update {i} made other requests than the one before: {this:?} against {previous:?}");
        }
        publish_traffic = Some(this);
        git_times.push(measure(warm_git.agents(&git_project, &["update"]))?);
    }
    let lock = fs_err::read_to_string(sparse_project.join("agents.lock"))?;
    if !lock.contains(&format!("version = \"1.{}.0\"", 9 + runs)) {
        bail!("the sparse project's update did not take the last published version:\n{lock}");
    }
    let (update_idle, update_idle_traffic) =
        sample(runs, Some(&mut site), |_| Ok(()), |_| warm_sparse.agents(&sparse_project, &["update"]))?;
    let (update_idle_git, _) = sample(runs, None, |_| Ok(()), |_| warm_git.agents(&git_project, &["update"]))?;
    rows.push(format!(
        "| `update` after one publish, 50 agents locked ({runs} publishes, one run each) | {}; {} | git registry, after the same publish: {} |",
        Figure::of(sparse_times).describe(),
        publish_traffic.context("traffic")?.describe(),
        Figure::of(git_times).describe()
    ));
    rows.push(format!(
        "| `update` with nothing new, 50 agents locked | {}; {} | git registry: {} |",
        update_idle.describe(),
        update_idle_traffic.context("traffic")?.describe(),
        update_idle_git.describe()
    ));
    rows.push(format!(
        "| the registry | served tree: {} in {www_files} files (exported in {:.1} s) | bare repository: {} |",
        kb(www_kib * 1024),
        export_time.as_secs_f64(),
        kb(registry_kib * 1024),
    ));

    let goal =
        if install.median <= Duration::from_millis(100) && install_traffic.sent <= 100_000 { "met" } else { "not met" };
    let table = format!(
        "{scale} agents × 10 versions, served by lighttpd over HTTP on loopback; {runs} runs per figure ({slow_runs} for `git clone file://`), medians with p95. Requests and bytes are from lighttpd's access log (bytes of bodies, and with headers). Goal for the cold install, ≤ 100 ms and ≤ 100 KB: {goal}.\n\n\
         | scenario | sparse registry | git registry (same run) |\n| --- | --- | --- |\n{}\n",
        rows.join("\n")
    );
    println!("{table}");
    if !quick {
        write_section(
            &format!("sparse registries at {scale} agents"),
            &format!("cargo xtask bench sparse --scale {scale}"),
            &table,
        )?;
    }
    Ok(())
}
