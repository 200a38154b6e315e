//! Test fixtures for agents: a temporary home and project per test, the real binaries run
//! against them, the shared corpus, and direct access to registry remotes for tampering.
//!
//! Tests never touch the real home directory or the network: every run gets its own `HOME`,
//! XDG directories and `AGENTS_*_DIR` overrides inside a temporary directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod reliability;
pub mod servers;

/// The workspace root: the nearest directory above the package under test holding
/// `registry/config.json`.
///
/// The package comes from `CARGO_MANIFEST_DIR` as `cargo test` sets it when the test runs,
/// not as it was when this crate was built: two clones sharing one `CARGO_TARGET_DIR` share
/// this crate's build (cargo does not rebuild it for a new workspace path), and a root fixed
/// at build time would have the tests of one clone read the other's README and registry.
pub fn repo_root() -> PathBuf {
    let built = Path::new(env!("CARGO_MANIFEST_DIR"));
    let package = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_else(|| built.to_path_buf());
    let root =
        |start: &Path| start.ancestors().find(|dir| dir.join("registry/config.json").is_file()).map(Path::to_path_buf);
    root(&package).or_else(|| root(built)).expect("the tests run inside the agents workspace")
}

/// `../shared` beside the repository (or `AGENTS_SHARED_DIR`). It holds the real-world corpus,
/// which is not part of this repository: a fresh clone has nothing beside it, so every test
/// that reads it goes through [`corpus`] and skips when it is absent.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("AGENTS_SHARED_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("../shared"))
}

/// The seed agent, go-backend-expert 1.0.0, as the built-in registry holds it byte for byte
/// (`registry/bodies/...`). The file is named after its checksum, not the agent: copy it
/// before handing it to a command that looks at the file name (`lint`).
pub fn seed_path() -> PathBuf {
    builtin_body("go-backend-expert", "1.0.0")
}

/// The body file of `name@version` in the repository's built-in registry (`registry/`), found
/// through its index record.
pub fn builtin_body(name: &str, version: &str) -> PathBuf {
    let registry = repo_root().join("registry");
    let index = find_file(&registry.join("index"), name)
        .unwrap_or_else(|| panic!("{name} has no index file under {}", registry.display()));
    let text = std::fs::read_to_string(&index).unwrap_or_else(|e| panic!("{}: {e}", index.display()));
    let sha256 = text
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|record| record["version"] == version)
        .and_then(|record| record["sha256"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("{} has no record for version {version}", index.display()));
    let config = std::fs::read_to_string(registry.join("config.json")).expect("the built-in registry has a config");
    let config = agents_format::RegistryConfig::parse(&config).expect("the built-in config is valid");
    let sha256 = agents_format::Sha256::from_hex(&sha256).expect("index records hold checksums");
    registry.join(config.layout.body_path(agents_format::Kind::Agent, &sha256))
}

fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find_file(&path, name) {
                return Some(found);
            }
        } else if path.file_name() == Some(OsStr::new(name)) {
            return Some(path);
        }
    }
    None
}

/// The shared corpus of real agent files (awesome-claude-code-subagents).
pub struct Corpus {
    /// The collection's root directory (what `agents import` is given).
    pub root: PathBuf,
    /// Every agent file under `categories/`, sorted.
    pub files: Vec<PathBuf>,
}

/// The shared corpus, or `None` after printing a note saying the calling test skips because it
/// is absent (a fresh clone has no `../shared`). Use as
/// `let Some(corpus) = corpus() else { return };`.
pub fn corpus() -> Option<Corpus> {
    corpus_in(&shared_dir())
}

fn corpus_in(shared: &Path) -> Option<Corpus> {
    let root = shared.join("corpus/awesome-claude-code-subagents");
    let categories = root.join("categories");
    if !categories.is_dir() {
        let test = std::thread::current().name().unwrap_or("this test").to_owned();
        eprintln!(
            "skipping {test}: {} not found (the shared corpus is not part of the repository; set AGENTS_SHARED_DIR to run it)",
            categories.display()
        );
        return None;
    }
    let mut files = Vec::new();
    for category in std::fs::read_dir(&categories).unwrap_or_else(|e| panic!("{}: {e}", categories.display())) {
        for file in std::fs::read_dir(category.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            if path.extension() == Some(OsStr::new("md")) {
                files.push(path);
            }
        }
    }
    files.sort();
    Some(Corpus { root, files })
}

/// Every agent file of the shared corpus, sorted. Panics when the corpus is absent: tests
/// should use [`corpus`], which skips instead.
pub fn corpus_files() -> Vec<PathBuf> {
    corpus().map(|corpus| corpus.files).unwrap_or_else(|| panic!("{} not found", shared_dir().display()))
}

/// The directory holding the built binaries (`target/debug`), found from the test executable.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("AGENTS_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().unwrap();
    // target/debug/deps/e2e-<hash> → target/debug
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

pub fn bin(name: &str) -> PathBuf {
    let path = bin_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is not built: run `cargo xtask test` (or `cargo build --workspace --bins` before `cargo test`)",
        path.display()
    );
    path
}

/// One isolated user with one project.
pub struct TestEnv {
    temp: tempfile::TempDir,
    pub home: PathBuf,
    pub project: PathBuf,
    extra_env: std::sync::Mutex<Vec<(std::ffi::OsString, Option<std::ffi::OsString>)>>,
}

impl Default for TestEnv {
    fn default() -> Self {
        TestEnv::new()
    }
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let temp = tempfile::Builder::new().prefix("agents-test-").tempdir().unwrap();
        let home = temp.path().join("home");
        let project = temp.path().join("project");
        std::fs::create_dir_all(&home).unwrap();
        // The project is a repository, as real projects are: discovery stops at its `.git`.
        std::fs::create_dir_all(project.join(".git")).unwrap();
        TestEnv { temp, home, project, extra_env: Default::default() }
    }

    /// A second checkout of a project at `relative` under the test's root (a directory with a
    /// `.git`, as discovery expects of a project).
    pub fn checkout(&self, relative: &str) -> PathBuf {
        let dir = self.path(relative);
        std::fs::create_dir_all(dir.join(".git")).unwrap();
        dir
    }

    /// Sets a variable for every command this user runs from now on.
    pub fn set_env(&self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) {
        self.extra_env.lock().unwrap().push((key.as_ref().to_owned(), Some(value.as_ref().to_owned())));
    }

    /// Leaves `key` out of the environment of every later command (undoing a `set_env`).
    pub fn remove_env(&self, key: impl AsRef<OsStr>) {
        self.extra_env.lock().unwrap().push((key.as_ref().to_owned(), None));
    }

    /// A second user sharing nothing but the file system (for two-user tests).
    pub fn root(&self) -> &Path {
        self.temp.path()
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.temp.path().join(relative)
    }

    /// A command for `agents` with this user's environment, run in the project.
    pub fn agents(&self) -> Command {
        let mut command = Command::new(bin("agents"));
        command.current_dir(&self.project);
        self.isolate(&mut command);
        command
    }

    /// Sets every variable that could leak the real user's configuration into a test.
    pub fn isolate(&self, command: &mut Command) {
        command
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("XDG_CACHE_HOME", self.home.join(".cache"))
            .env("XDG_STATE_HOME", self.home.join(".local/state"))
            .env("XDG_DATA_HOME", self.home.join(".local/share"))
            .env("XDG_RUNTIME_DIR", self.home.join(".run"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .env_remove("AGENTS_CONFIG_DIR")
            .env_remove("AGENTS_CACHE_DIR")
            .env_remove("AGENTS_STATE_DIR")
            .env_remove("AGENTS_LOG")
            .env_remove("AGENTS_NET_GIT_FETCH_WITH_CLI")
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("GIT_SSH_COMMAND")
            // The other tools' own homes (user-scope targets follow them).
            .env_remove("CLAUDE_CONFIG_DIR")
            .env_remove("CODEX_HOME")
            .env_remove("COPILOT_HOME")
            .env_remove("GEMINI_CLI_HOME");
        for (key, value) in self.extra_env.lock().unwrap().iter() {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
    }

    /// Runs `agents ARGS` in the project and returns what it did.
    pub fn run<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = self.agents();
        command.args(args);
        Run::new(format!("{command:?}"), command.output().unwrap())
    }

    /// The user's state directory (backups, locks).
    pub fn state_dir(&self) -> PathBuf {
        self.home.join(".local/state/agents")
    }

    pub fn agents_dir(&self) -> PathBuf {
        self.project.join(".claude/agents")
    }

    /// Creates a registry with `agents registry init` and adds it under `name`. Returns its path.
    pub fn registry(&self, name: &str) -> PathBuf {
        let path = self.path(&format!("registries/{name}.git"));
        self.run([OsStr::new("registry"), OsStr::new("init"), path.as_os_str()]).success();
        self.run([OsStr::new("registry"), OsStr::new("add"), OsStr::new(name), path.as_os_str()]).success();
        path
    }

    /// The text of a small generated agent: its body names the agent and the version, so a test
    /// can tell versions apart on disk.
    pub fn agent_text(name: &str, version: &str) -> String {
        format!("---\nname: {name}\ndescription: d\n---\n{name} {version}\n")
    }

    /// Publishes [`TestEnv::agent_text`] as `name@version` from `dir` (whose configuration
    /// names the registry); asserts success.
    pub fn publish_in(&self, dir: &Path, name: &str, version: &str) {
        let file = self.path(&format!("{name}-{version}.md"));
        std::fs::write(&file, TestEnv::agent_text(name, version)).unwrap();
        let mut command = self.agents();
        command.current_dir(dir).arg("publish").arg(&file).args(["--version", version]);
        Run::new(format!("{command:?}"), command.output().unwrap()).success();
    }

    /// [`TestEnv::publish_in`] from the project.
    pub fn publish(&self, name: &str, version: &str) {
        self.publish_in(&self.project, name, version);
    }

    /// A team's set-up, as this user makes it: a registry and a bare project repository under
    /// `shared/`, and the project replaced by a clone of that repository whose `agents.toml`
    /// names the registry as `team`. Returns the registry and the project repository.
    pub fn team_project(&self) -> (PathBuf, PathBuf) {
        let registry = self.path("shared/team.git");
        let origin = self.path("shared/project.git");
        self.run([OsStr::new("registry"), OsStr::new("init"), registry.as_os_str()]).success();
        self.git(self.root(), &["init", "--bare", "-q", origin.to_str().expect("a UTF-8 temporary path")]);
        self.clone_project(&origin);
        self.run([
            OsStr::new("registry"),
            OsStr::new("add"),
            OsStr::new("--project"),
            OsStr::new("team"),
            registry.as_os_str(),
        ])
        .success();
        (registry, origin)
    }

    /// Replaces the project with a clone of the project repository `origin`, as a teammate
    /// starts.
    pub fn clone_project(&self, origin: &Path) {
        std::fs::remove_dir_all(&self.project).expect("the project directory is removable");
        let (origin, project) = (origin.to_str(), self.project.to_str());
        self.git(self.root(), &["clone", "-q", origin.expect("a UTF-8 path"), project.expect("a UTF-8 path")]);
    }

    /// Runs real `git` as this user in `dir` (with an identity and `main` as default branch).
    pub fn git(&self, dir: &Path, args: &[&str]) {
        let mut command = Command::new("git");
        self.isolate(&mut command);
        command.current_dir(dir).args(["-c", "user.name=Test", "-c", "user.email=test@localhost"]);
        command.args(["-c", "init.defaultBranch=main"]).args(args);
        Run::new(format!("{command:?}"), command.output().unwrap()).success();
    }

    /// All files under `dir`, relative, sorted (to assert that nothing else was written).
    pub fn files_under(dir: &Path) -> Vec<String> {
        let mut files = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path.clone());
                }
                files.push(path);
            }
        }
        let mut files: Vec<String> = files.iter().map(|p| p.strip_prefix(dir).unwrap().display().to_string()).collect();
        files.sort();
        files
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held. For waiting on
/// a daemon or a watcher, whose work is asynchronous: the assertion is on the outcome.
pub fn eventually(timeout: std::time::Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Whether process `pid` has finished exiting: gone, or a zombie with every thread gone. A
/// killed process's leader turns zombie while other threads may still be leaving the kernel,
/// holding its open files (and the locks on them) until the last one has.
pub fn exited(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return true;
    };
    tasks.flatten().all(|task| {
        std::fs::read_to_string(task.path().join("stat")).map_or(true, |stat| {
            // `pid (comm) S ...`: comm may hold spaces and parentheses; the state follows the last `)`.
            stat.rsplit_once(')').is_none_or(|(_, rest)| matches!(rest.trim_start().chars().next(), Some('Z' | 'X')))
        })
    })
}

/// A daemon started with `agents daemon start` for one test user; stopped (or killed) on drop.
pub struct DaemonGuard<'a> {
    env: &'a TestEnv,
}

impl<'a> DaemonGuard<'a> {
    pub fn start(env: &'a TestEnv) -> DaemonGuard<'a> {
        env.run(["daemon", "start"]).success();
        DaemonGuard { env }
    }

    pub fn status(&self) -> serde_json::Value {
        self.env.run(["daemon", "status", "--json"]).json()
    }

    pub fn pid(&self) -> u32 {
        u32::try_from(self.status()["pid"].as_u64().expect("a running daemon reports its pid")).unwrap()
    }
}

impl Drop for DaemonGuard<'_> {
    fn drop(&mut self) {
        let stopped = self.env.run(["daemon", "stop"]);
        if stopped.code() != Some(0) {
            eprintln!("daemon stop failed: {}", stopped.stderr());
        }
    }
}

/// The outcome of running a command, with assertions that print everything on failure.
pub struct Run {
    pub command: String,
    pub output: Output,
}

impl Run {
    fn new(command: String, output: Output) -> Run {
        Run { command, output }
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    fn describe(&self) -> String {
        format!("{}\nexit: {:?}\n--- stdout\n{}--- stderr\n{}", self.command, self.code(), self.stdout(), self.stderr())
    }

    /// Asserts exit code 0.
    pub fn success(self) -> Run {
        assert_eq!(self.code(), Some(0), "expected success:\n{}", self.describe());
        self
    }

    /// Asserts exit code 1 (a user error) and that stderr names `fragment`.
    pub fn fails_with(self, fragment: &str) -> Run {
        assert_eq!(self.code(), Some(1), "expected exit 1:\n{}", self.describe());
        assert!(self.stderr().contains(fragment), "stderr lacks {fragment:?}:\n{}", self.describe());
        assert!(!self.stderr().contains("panicked"), "panicked:\n{}", self.describe());
        self
    }

    pub fn stderr_contains(self, fragment: &str) -> Run {
        assert!(self.stderr().contains(fragment), "stderr lacks {fragment:?}:\n{}", self.describe());
        self
    }

    pub fn stdout_contains(self, fragment: &str) -> Run {
        assert!(self.stdout().contains(fragment), "stdout lacks {fragment:?}:\n{}", self.describe());
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.describe()))
    }
}

/// Rewrites one file on the default branch of a bare git repository, as a new commit (to play
/// a tampering or careless registry maintainer).
pub fn rewrite_in_remote(remote: &Path, path: &str, bytes: &[u8]) {
    let repository = git2::Repository::open_bare(remote).unwrap();
    let head = repository.head().unwrap().peel_to_commit().unwrap();
    let blob = repository.blob(bytes).unwrap();
    let tree = replace_path(&repository, Some(&head.tree().unwrap()), path, blob);
    let tree = repository.find_tree(tree).unwrap();
    let signature = git2::Signature::now("mallory", "mallory@localhost").unwrap();
    repository.commit(Some("HEAD"), &signature, &signature, "tamper", &tree, &[&head]).unwrap();
}

/// The binary `find` locates in `dir`, installing the npm package `package` (pinned,
/// `name@version`) there first when it is not yet; `Err` says why it cannot be had (no npm, no
/// network), for the test to skip with a note. `what` names the tool in messages.
pub fn npm_binary(
    dir: &Path,
    package: &str,
    what: &str,
    find: impl Fn() -> Option<PathBuf>,
) -> Result<PathBuf, String> {
    if let Some(binary) = find() {
        return Ok(binary);
    }
    if Command::new("npm").arg("--version").output().is_err() {
        return Err("`npm` is not installed".to_owned());
    }
    std::fs::create_dir_all(dir).unwrap();
    // Platform binaries come as optional dependencies; no install script is needed.
    let output = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix"])
        .arg(dir)
        .arg(package)
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!("npm install {package} failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    find().ok_or_else(|| format!("no {what} binary for this platform in the package"))
}

/// Replaces `www` with the tree of the bare registry `git`'s `main`, as `git archive` gives it:
/// what a CI job publishing a sparse registry to a static host deploys.
pub fn export_tree(git: &Path, www: &Path) {
    let _ = std::fs::remove_dir_all(www);
    std::fs::create_dir_all(www).unwrap();
    let archive = Command::new("git").arg("--git-dir").arg(git).args(["archive", "main"]).output().unwrap();
    assert!(archive.status.success(), "{}", String::from_utf8_lossy(&archive.stderr));
    let mut tar = Command::new("tar").arg("-x").arg("-C").arg(www).stdin(std::process::Stdio::piped()).spawn().unwrap();
    std::io::Write::write_all(tar.stdin.as_mut().unwrap(), &archive.stdout).unwrap();
    assert!(tar.wait().unwrap().success());
}

/// The layout the `config.json` on the default branch of the bare registry `remote` declares.
pub fn layout_of_remote(remote: &Path) -> agents_format::Layout {
    let config = read_in_remote(remote, "config.json").expect("the registry has a config.json");
    agents_format::RegistryConfig::parse(&String::from_utf8_lossy(&config)).expect("the config parses").layout
}

/// Where the bare registry `remote` keeps the index file of `name`, as its layout says.
pub fn index_path_in(remote: &Path, name: &str) -> String {
    layout_of_remote(remote).index_path(&agents_format::AgentName::new(name).expect("a valid agent name"))
}

/// Where the bare registry `remote` keeps the owners list of `name`, as its layout says.
pub fn owners_path_in(remote: &Path, name: &str) -> String {
    layout_of_remote(remote).owners_path(&agents_format::AgentName::new(name).expect("a valid agent name"))
}

/// Reads one file from the default branch of a bare git repository.
pub fn read_in_remote(remote: &Path, path: &str) -> Option<Vec<u8>> {
    let repository = git2::Repository::open_bare(remote).unwrap();
    let tree = repository.head().unwrap().peel_to_tree().unwrap();
    let entry = tree.get_path(Path::new(path)).ok()?;
    Some(repository.find_blob(entry.id()).unwrap().content().to_vec())
}

fn replace_path(
    repository: &git2::Repository,
    base: Option<&git2::Tree<'_>>,
    path: &str,
    blob: git2::Oid,
) -> git2::Oid {
    let mut builder = repository.treebuilder(base).unwrap();
    match path.split_once('/') {
        None => {
            builder.insert(path, blob, 0o100644).unwrap();
        }
        Some((directory, rest)) => {
            let sub = base.and_then(|t| t.get_name(directory)).map(|e| repository.find_tree(e.id()).unwrap());
            let oid = replace_path(repository, sub.as_ref(), rest, blob);
            builder.insert(directory, oid, 0o040000).unwrap();
        }
    }
    builder.write().unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_comes_from_the_built_in_registry_byte_for_byte() {
        let seed = seed_path();
        assert!(seed.starts_with(repo_root().join("registry")), "{}", seed.display());
        let bytes = std::fs::read(&seed).unwrap();
        assert_eq!(agents_format::Sha256::of(&bytes).to_hex(), seed.file_name().unwrap().to_str().unwrap());
        assert!(bytes.starts_with(b"---\nname: go-backend-expert\n"));
    }

    #[test]
    fn an_absent_corpus_is_none_not_a_panic() {
        let empty = tempfile::tempdir().unwrap();
        assert!(corpus_in(empty.path()).is_none());
    }
}
