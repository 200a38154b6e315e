//! Crash safety: `agents install`, `agents update`, `agents publish` and `agentsd` are killed
//! with SIGKILL at random instants; afterwards the lockfile parses, every managed file is
//! byte-exact at a published version, nothing but agents is left in the agents directory, and
//! the next command recovers with no manual step.
//!
//! 50 trials per command; 500 with AGENTS_SLOW_TESTS=1. AGENTS_CRASH_SEED replays a run.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use agents_format::{IndexFile, Lockfile};
use agents_test_support::{DaemonGuard, TestEnv, eventually, exited, index_path_in, read_in_remote, reliability};

/// A small deterministic generator (xorshift64*), seeded per run and printed on failure.
struct Random(u64);

impl Random {
    fn new() -> Random {
        let seed = std::env::var("AGENTS_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
        });
        eprintln!("crash harness seed: AGENTS_CRASH_SEED={seed}");
        Random(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
}

fn trials() -> usize {
    if std::env::var_os("AGENTS_SLOW_TESTS").is_some() { 500 } else { 50 }
}

/// Runs `command` once to learn how long it takes (the window to kill it in).
fn duration_of(mut command: Command) -> Duration {
    let started = Instant::now();
    let _ = command.output().unwrap();
    started.elapsed()
}

fn kill_after(mut child: Child, delay: Duration) {
    std::thread::sleep(delay);
    let _ = child.kill();
    let _ = child.wait();
}

/// The invariants after a crash: a parseable lockfile, managed files byte-exact at a published
/// version of their agent, no stray files among the agents.
fn check_invariants(env: &TestEnv, published: &[(&str, Vec<String>)], trial: usize) {
    if let Ok(text) = std::fs::read_to_string(env.project.join("agents.lock")) {
        Lockfile::parse(&text).unwrap_or_else(|e| panic!("trial {trial}: the lockfile does not parse: {e}\n{text}"));
    }
    for entry in TestEnv::files_under(&env.agents_dir()) {
        // A killed writer's temporary file is hidden and not `.md`, so no tool loads it; the
        // next command removes it (checked in `recover`).
        if entry.starts_with(".agents-") && entry.ends_with(".tmp") {
            continue;
        }
        let (name, versions) = published
            .iter()
            .find(|(name, _)| entry == format!("{name}.md"))
            .unwrap_or_else(|| panic!("trial {trial}: stray file {entry} in the agents directory"));
        let bytes = std::fs::read_to_string(env.agents_dir().join(&entry)).unwrap();
        assert!(
            versions.iter().any(|v| bytes == TestEnv::agent_text(name, v)),
            "trial {trial}: {entry} is not any published version:\n{bytes}"
        );
    }
}

/// After a crash, the plain next command repairs everything.
fn recover(env: &TestEnv, trial: usize) {
    let install = env.run(["install"]);
    assert_eq!(install.code(), Some(0), "trial {trial}: recovery install failed: {}", install.stderr());
    let verify = env.run(["verify"]);
    assert_eq!(verify.code(), Some(0), "trial {trial}: not consistent after recovery: {}", verify.stderr());
    let leftovers: Vec<String> =
        TestEnv::files_under(&env.project).into_iter().filter(|f| f.contains(".agents-")).collect();
    assert!(leftovers.is_empty(), "trial {trial}: temporary files left after recovery: {leftovers:?}");
}

const MANIFEST: &str =
    "[agents]\nalpha = { version = \"^1\", registry = \"team\" }\nbeta = { version = \"^1\", registry = \"team\" }\n";

#[test]
fn install_and_update_killed_at_random_instants() {
    let env = TestEnv::new();
    env.registry("team");
    let versions: Vec<String> = ["1.0.0", "1.1.0", "1.2.0"].iter().map(|v| v.to_string()).collect();
    for version in &versions {
        env.publish("alpha", version);
        env.publish("beta", version);
    }
    // Back to 1.0.0 everywhere, with a manifest that lets `update` move both agents.
    let reset = || {
        env.run(["install", "alpha@=1.0.0", "beta@=1.0.0"]).success();
        std::fs::write(env.project.join("agents.toml"), MANIFEST).unwrap();
    };
    let install = |version: &str| {
        let mut command = env.agents();
        command.args(["install", &format!("alpha@={version}"), &format!("beta@={version}")]);
        command
    };
    let update = || {
        let mut command = env.agents();
        command.arg("update");
        command
    };
    reset();
    let install_window = duration_of(install("1.2.0")).as_micros() as u64;
    reset();
    let update_window = duration_of(update()).as_micros() as u64;

    let published = [("alpha", versions.clone()), ("beta", versions.clone())];
    let mut random = Random::new();
    // Each command gets the full number of trials: install on even trials, update on odd ones.
    let trials = 2 * trials();
    for trial in 0..trials {
        let (command, window) = if trial % 2 == 0 {
            (install(&versions[random.below(3) as usize]), install_window)
        } else {
            reset();
            (update(), update_window)
        };
        let mut command = command;
        kill_after(command.spawn().unwrap(), Duration::from_micros(random.below(window + window / 2)));
        check_invariants(&env, &published, trial);
        recover(&env, trial);
    }
    reliability::record("crash-install-update", trials);
}

#[test]
fn publish_killed_at_random_instants() {
    let env = TestEnv::new();
    let remote = env.registry("team");
    let mut random = Random::new();
    let trials = trials();
    let mut version = 0;
    for trial in 0..trials {
        version += 1;
        let v = format!("1.{version}.0");
        let file = env.path("crash.md");
        std::fs::write(&file, TestEnv::agent_text("crash", &v)).unwrap();
        let mut command = env.agents();
        command.arg("publish").arg(&file).args(["--version", &v]);
        let window = if trial == 0 {
            let mut probe = env.agents();
            probe.arg("publish").arg(&file).args(["--version", "0.0.1"]);
            duration_of(probe).as_micros() as u64
        } else {
            40_000
        };
        kill_after(command.spawn().unwrap(), Duration::from_micros(random.below(window + window / 2)));
        // The registry is never corrupt: it passes its own check, and the version is either
        // fully there (record and body) or not at all.
        let check = env.run([std::ffi::OsStr::new("registry"), "check".as_ref(), remote.as_os_str()]);
        assert_eq!(check.code(), Some(0), "trial {trial}: registry check failed: {}", check.stderr());
        let index = read_in_remote(&remote, &index_path_in(&remote, "crash"))
            .map(|b| IndexFile::parse(&String::from_utf8(b).unwrap()));
        let landed = index.is_some_and(|i| i.find(&v.parse().unwrap()).is_some());
        // The next publish recovers with no manual step (the cache clone may have been cut short).
        let again = env.run([std::ffi::OsStr::new("publish"), file.as_os_str(), "--version".as_ref(), v.as_ref()]);
        if landed {
            assert!(again.stderr().contains("already published"), "trial {trial}: {}", again.stderr());
        } else {
            assert_eq!(again.code(), Some(0), "trial {trial}: publish did not recover: {}", again.stderr());
        }
    }
    reliability::record("crash-publish", trials);
}

#[test]
fn the_daemon_killed_at_random_instants() {
    let env = TestEnv::new();
    env.registry("team");
    let versions: Vec<String> = ["1.0.0", "1.1.0", "1.2.0"].iter().map(|v| v.to_string()).collect();
    for version in &versions {
        env.publish("alpha", version);
    }
    // Lockfiles for each version, as `git pull` would bring them.
    let other = env.checkout("other");
    let mut locks = Vec::new();
    for version in &versions {
        let mut command = env.agents();
        command.current_dir(&other).args(["install", &format!("alpha@={version}"), "--registry", "team"]);
        assert!(command.output().unwrap().status.success());
        locks.push(std::fs::read(other.join("agents.lock")).unwrap());
    }
    env.run(["install", "alpha@=1.0.0"]).success();
    env.run(["daemon", "watch"]).success();
    let published = [("alpha", versions.clone())];
    let mut random = Random::new();
    let trials = trials();
    for trial in 0..trials {
        let daemon = DaemonGuard::start(&env);
        let pid = daemon.pid();
        std::mem::forget(daemon);
        std::fs::write(env.project.join("agents.lock"), &locks[random.below(3) as usize]).unwrap();
        std::thread::sleep(Duration::from_micros(random.below(80_000)));
        Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap();
        assert!(eventually(Duration::from_secs(5), || exited(pid)));
        check_invariants(&env, &published, trial);
        let daemon = DaemonGuard::start(&env);
        assert!(
            eventually(Duration::from_secs(20), || env.run(["verify"]).code() == Some(0)),
            "trial {trial}: the restarted daemon did not converge: {}",
            env.run(["verify"]).stderr()
        );
        drop(daemon);
    }
    reliability::record("crash-daemon", trials);
}

/// Writes a 20-file skill `name` at `version` (files differ between versions, and one file is
/// only in each) under `dir`; returns its directory.
fn twenty_file_skill(dir: &std::path::Path, name: &str, version: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let skill = dir.join(format!("{version}/{name}"));
    std::fs::create_dir_all(skill.join("scripts")).unwrap();
    std::fs::create_dir_all(skill.join("references")).unwrap();
    let front = format!("---\nname: {name}\ndescription: Twenty files\nversion: {version}\n---\nSteps {version}.\n");
    std::fs::write(skill.join("SKILL.md"), front).unwrap();
    for i in 1..10 {
        std::fs::write(skill.join(format!("references/r{i}.md")), format!("reference {i} at {version}\n")).unwrap();
    }
    for i in 1..10 {
        let script = skill.join(format!("scripts/s{i}.sh"));
        std::fs::write(&script, format!("#!/bin/sh\necho {i} {version}\n")).unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::write(skill.join(format!("only-{version}.md")), format!("only in {version}\n")).unwrap();
    skill
}

/// A skill's files are written together (their bytes fsync'd at once, each directory fsync'd
/// once): killed at any instant, every file of the skill on disk is byte-exact at some
/// published version of that path, and the next command repairs the rest.
#[test]
fn a_twenty_file_skill_install_killed_at_random_instants() {
    let env = TestEnv::new();
    env.registry("team");
    let sources = env.path("skill-sources");
    let versions = ["1.0.0", "1.1.0"];
    let mut published: Vec<(String, Vec<u8>)> = Vec::new();
    for version in versions {
        let skill = twenty_file_skill(&sources, "twenty", version);
        env.run([std::ffi::OsStr::new("publish"), skill.as_os_str()]).success();
        for file in TestEnv::files_under(&skill) {
            if skill.join(&file).is_file() {
                published.push((file.clone(), std::fs::read(skill.join(&file)).unwrap()));
            }
        }
    }
    env.run(["init"]).success();
    let install = |version: &str| {
        let mut command = env.agents();
        command.args(["install", &format!("twenty@={version}")]);
        command
    };
    env.run(["install", "twenty@=1.0.0"]).success();
    let window = duration_of(install("1.1.0")).as_micros() as u64;
    let installed = env.project.join(".claude/skills/twenty");
    let mut random = Random::new();
    let trials = trials();
    for trial in 0..trials {
        let command = install(versions[random.below(2) as usize]);
        let mut command = command;
        kill_after(command.spawn().unwrap(), Duration::from_micros(random.below(window + window / 2)));
        if let Ok(text) = std::fs::read_to_string(env.project.join("agents.lock")) {
            Lockfile::parse(&text).unwrap_or_else(|e| panic!("trial {trial}: the lockfile does not parse: {e}"));
        }
        for file in TestEnv::files_under(&installed) {
            let path = installed.join(&file);
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() || (name.starts_with(".agents-") && name.ends_with(".tmp")) {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                published.iter().any(|(p, b)| *p == file && *b == bytes),
                "trial {trial}: {file} is not any published version of that file"
            );
        }
        recover(&env, trial);
    }
    reliability::record("crash-install-skill", trials);
}
