//! agentsd on real machines: directories replaced under it (`rm -rf .claude`, `git clean`, a
//! branch switch), a CLI holding a workspace lock on a slow registry, clocks that jump, pins not
//! fetched yet. Real watchers, real files, real processes.

use std::path::Path;
use std::time::Duration;

use agents_test_support::{DaemonGuard, TestEnv, eventually};

/// Well under the watch audit's period (10 minutes): a restore must come from an event.
const WAIT: Duration = Duration::from_secs(5);

/// A daemon started, once its first pass over every workspace has ended (it answers before:
/// a removal racing a pass under way could find a file restored in it, as with any writer).
fn started(env: &TestEnv) -> DaemonGuard<'_> {
    let daemon = DaemonGuard::start(env);
    let reconciled = |status: serde_json::Value| {
        status["workspaces"].as_array().unwrap().iter().all(|w| w["last_reconcile"].is_i64() || w["missing"] == true)
    };
    assert!(eventually(Duration::from_secs(20), || reconciled(daemon.status())), "{}", daemon.status());
    daemon
}

fn restored(file: &Path, bytes: &[u8]) -> bool {
    eventually(WAIT, || std::fs::read(file).ok().as_deref() == Some(bytes))
}

/// ext4 hands a freed inode number to the next directory at once, so a watcher that takes "same
/// inode number" for "still watched" goes blind here. Every round replaces the directory, then
/// deletes a file in the new one: the deletion must be seen, not caught by a periodic pass.
#[test]
fn replacing_claude_or_its_agents_directory_never_leaves_the_project_unwatched() {
    let env = TestEnv::new();
    env.run(["install", "code-reviewer"]).success();
    env.run(["daemon", "watch"]).success();
    let agents = env.agents_dir();
    let file = agents.join("code-reviewer.md");
    let bytes = std::fs::read(&file).unwrap();
    let _daemon = started(&env);
    let claude = env.project.join(".claude");
    for round in 0..100 {
        // What `rm -rf .claude && mkdir -p .claude/agents` does, then the same one level down.
        for replaced in [&claude, &agents] {
            std::fs::remove_dir_all(replaced).unwrap();
            std::fs::create_dir_all(&agents).unwrap();
            assert!(restored(&file, &bytes), "round {round}: not restored after replacing {}", replaced.display());
            std::fs::remove_file(&file).unwrap();
            assert!(
                restored(&file, &bytes),
                "round {round}: a deletion after replacing {} went unseen",
                replaced.display()
            );
        }
    }
}

/// Takes `workspace`'s lock the way another `agents` process does (an flock on its file in the
/// state directory) and holds it until dropped.
fn hold_workspace_lock(env: &TestEnv, root: &Path) -> std::fs::File {
    let root = root.canonicalize().unwrap();
    let key = &agents_format::Sha256::of(root.to_string_lossy().as_bytes()).to_hex()[..16];
    let locks = env.state_dir().join("locks");
    std::fs::create_dir_all(&locks).unwrap();
    let file = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(locks.join(format!("{key}.lock")))
        .unwrap();
    file.lock().unwrap();
    file
}

/// `agents daemon status --json`, with how long it took to answer.
fn timed_status(env: &TestEnv) -> (serde_json::Value, Duration) {
    let started = std::time::Instant::now();
    let status = env.run(["daemon", "status", "--json"]).json();
    (status, started.elapsed())
}

#[test]
fn a_workspace_whose_lock_another_process_holds_delays_nothing_else() {
    let env = TestEnv::new();
    let other = env.checkout("other");
    std::fs::copy(env.project.join("agents.toml"), other.join("agents.toml")).ok();
    env.run(["install", "code-reviewer"]).success();
    let mut install = env.agents();
    install.current_dir(&other).args(["install", "code-reviewer"]);
    assert!(install.output().unwrap().status.success());
    env.run(["daemon", "watch"]).success();
    env.run([std::ffi::OsStr::new("daemon"), "watch".as_ref(), other.as_os_str()]).success();
    let held_file = env.agents_dir().join("code-reviewer.md");
    let free_file = other.join(".claude/agents/code-reviewer.md");
    let bytes = std::fs::read(&held_file).unwrap();
    let daemon = started(&env);
    assert!(eventually(WAIT, || daemon.status()["reconcile_passes"].as_u64() >= Some(1)));

    let lock = hold_workspace_lock(&env, &env.project);
    std::fs::remove_file(&held_file).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    std::fs::remove_file(&free_file).unwrap();
    assert!(restored(&free_file, &bytes), "a lock held on one workspace delayed another");
    let (status, took) = timed_status(&env);
    assert!(took < Duration::from_secs(1), "status took {took:?}");
    let project = env.project.canonicalize().unwrap();
    let held = status["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["root"].as_str() == project.to_str())
        .unwrap_or_else(|| panic!("{status}"))
        .clone();
    let activity = held["activity"].as_str().unwrap_or_default();
    assert!(activity.contains("waiting") && activity.contains("workspace lock"), "{status}");
    let text = env.run(["daemon", "status"]).success().stdout();
    assert!(text.contains("now: waiting") && text.contains("another agents command holds it"), "{text}");
    // A second daemon start finds this one answering, not "stuck exiting".
    env.run(["daemon", "start"]).success().stderr_contains("already running");
    assert!(!held_file.exists(), "written while another process held the workspace lock");

    drop(lock);
    assert!(restored(&held_file, &bytes), "not restored once the lock was released");
    assert!(eventually(WAIT, || daemon.status()["workspaces"].to_string().matches("activity\":null").count() == 3));
}

/// A registry behind a server that takes 8 s to answer: the fetch runs beside the passes, so
/// a deleted file comes back at once and status answers, naming the registry it waits on.
#[test]
fn a_slow_registry_delays_neither_restores_nor_status() {
    let env = TestEnv::new();
    let root = env.path("srv");
    std::fs::create_dir_all(&root).unwrap();
    env.run([std::ffi::OsStr::new("registry"), "init".as_ref(), root.join("team.git").as_os_str()]).success();
    let server = agents_test_support::servers::git_daemon(&root);
    let proxy = agents_test_support::servers::SlowProxy::start(server.port());
    env.run(["registry", "add", "team", &proxy.git_url("team.git")]).success();
    let file = env.path("slow-agent.md");
    std::fs::write(&file, "---\nname: slow-agent\ndescription: d\n---\nbody\n").unwrap();
    env.run([std::ffi::OsStr::new("publish"), file.as_os_str(), "--version".as_ref(), "1.0.0".as_ref()]).success();
    env.run(["install", "slow-agent"]).success();
    env.run(["daemon", "watch"]).success();
    let installed = env.agents_dir().join("slow-agent.md");
    let bytes = std::fs::read(&installed).unwrap();
    let daemon = started(&env);

    proxy.set_delay(Duration::from_secs(8));
    env.run(["daemon", "sync"]).success();
    let fetching = eventually(WAIT, || daemon.status()["fetching"].as_str().is_some_and(|f| f.contains("`team`")));
    assert!(fetching, "status does not say what the fetch waits on: {}", daemon.status());
    std::fs::remove_file(&installed).unwrap();
    let started = std::time::Instant::now();
    assert!(restored(&installed, &bytes), "a restore waited on the slow registry");
    assert!(started.elapsed() < Duration::from_secs(3), "restored only after {:?}", started.elapsed());
    let (status, took) = timed_status(&env);
    assert!(took < Duration::from_secs(1), "status took {took:?} during a slow fetch");
    assert!(status["fetching"].is_string(), "{status}");
    let text = env.run(["daemon", "status"]).success().stdout();
    assert!(text.contains("now: fetching registry `team`"), "{text}");
}

fn wall_now() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

/// A schedule written while the clock was a year ahead (then corrected): the next fetch is not
/// a year away, the last fetch is not in the future, and a pin pulled meanwhile is fetched and
/// applied at once.
#[test]
fn a_schedule_written_under_a_wrong_clock_is_reset() {
    let env = TestEnv::new();
    env.registry("team");
    env.publish("alpha", "1.0.0");
    env.run(["install", "alpha@^1"]).success();
    env.run(["daemon", "watch"]).success();
    let year_ahead = wall_now() + 365 * 24 * 60 * 60;
    let daemon_dir = env.state_dir().join("daemon");
    std::fs::write(
        daemon_dir.join("schedule.json"),
        format!("{{\"version\": 1, \"next_fetch\": {year_ahead}, \"last_fetch\": {year_ahead}}}\n"),
    )
    .unwrap();
    let daemon = started(&env);
    let status = daemon.status();
    let next = status["next_fetch"].as_i64().unwrap();
    assert!(next <= wall_now() + 2 * 60 * 60, "the next fetch stayed a year away: {status}");
    assert!(
        status["last_fetch"].as_i64().is_none_or(|at| at <= wall_now() + 5),
        "a last fetch in the future: {status}"
    );

    // Another checkout pins 1.1.0, which this cache has never seen: the daemon fetches now.
    let other = env.checkout("other");
    std::fs::copy(env.project.join("agents.toml"), other.join("agents.toml")).unwrap();
    std::fs::copy(env.project.join("agents.lock"), other.join("agents.lock")).unwrap();
    env.publish("alpha", "1.1.0");
    let mut update = env.agents();
    update.current_dir(&other).args(["update"]);
    assert!(update.output().unwrap().status.success());
    std::fs::copy(other.join("agents.lock"), env.project.join("agents.lock")).unwrap();
    let alpha = env.agents_dir().join("alpha.md");
    let wanted = TestEnv::agent_text("alpha", "1.1.0");
    assert!(
        eventually(Duration::from_secs(20), || std::fs::read_to_string(&alpha).ok() == Some(wanted.clone())),
        "the pulled pin was not applied: {}",
        daemon.status()
    );
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(daemon_dir.join("schedule.json")).unwrap()).unwrap();
    assert!(stored["next_fetch"].as_i64().unwrap() <= wall_now() + 2 * 60 * 60, "{stored}");
}

/// Alice and Bob share a registry served by `git daemon` behind a [`SlowProxy`]; Bob has
/// `alpha@1.0.0` installed and his daemon running.
struct Team {
    alice: TestEnv,
    bob: TestEnv,
    proxy: agents_test_support::servers::SlowProxy,
    _server: agents_test_support::servers::Server,
}

fn team() -> Team {
    let alice = TestEnv::new();
    let bob = TestEnv::new();
    let root = alice.path("srv");
    std::fs::create_dir_all(&root).unwrap();
    alice.run([std::ffi::OsStr::new("registry"), "init".as_ref(), root.join("team.git").as_os_str()]).success();
    let server = agents_test_support::servers::git_daemon(&root);
    let proxy = agents_test_support::servers::SlowProxy::start(server.port());
    for env in [&alice, &bob] {
        env.run(["registry", "add", "team", &proxy.git_url("team.git")]).success();
    }
    alice.publish("alpha", "1.0.0");
    bob.run(["install", "alpha@^1"]).success();
    bob.run(["daemon", "watch"]).success();
    Team { alice, bob, proxy, _server: server }
}

fn log_of(env: &TestEnv) -> String {
    std::fs::read_to_string(env.state_dir().join("daemon/agentsd.log")).unwrap_or_default()
}

/// A lockfile pulled with a pin Bob's cache has never seen is fetched at once, and until the
/// fetch ends status says it is not fetched yet (not that the registry lost it).
#[test]
fn a_pin_not_fetched_yet_is_fetched_at_once_and_said_so() {
    let Team { alice, bob, proxy, _server } = team();
    let daemon = started(&bob);
    alice.publish("alpha", "1.1.0");
    std::fs::copy(bob.project.join("agents.toml"), alice.project.join("agents.toml")).unwrap();
    alice.run(["install", "alpha@=1.1.0"]).success();
    proxy.set_delay(Duration::from_secs(3));
    // `git pull` brings Alice's lockfile.
    std::fs::copy(alice.project.join("agents.lock"), bob.project.join("agents.lock")).unwrap();
    let said = eventually(WAIT, || {
        daemon.status()["workspaces"].to_string().contains("alpha@1.1.0 is not fetched yet from registry `team`")
    });
    assert!(said, "{}", daemon.status());
    let text = bob.run(["daemon", "status"]).success().stdout();
    assert!(!text.contains("no longer has it"), "{text}");
    let alpha = bob.agents_dir().join("alpha.md");
    let wanted = TestEnv::agent_text("alpha", "1.1.0");
    assert!(
        eventually(Duration::from_secs(20), || std::fs::read_to_string(&alpha).ok() == Some(wanted.clone())),
        "{}",
        daemon.status()
    );
    assert!(eventually(WAIT, || daemon.status()["workspaces"].to_string().contains("\"errors\":[]")));
}

/// A pin the registry really lacks: one clear error naming agent@version and the registry, in
/// the log once, and fetches that back off instead of looping.
#[test]
fn a_pin_the_registry_lacks_is_one_clear_error_retried_with_backoff() {
    let Team { alice: _alice, bob, proxy: _proxy, _server } = team();
    let daemon = started(&bob);
    assert!(eventually(WAIT, || daemon.status()["fetches"].as_u64() >= Some(1)), "{}", daemon.status());
    let lockfile = std::fs::read_to_string(bob.project.join("agents.lock")).unwrap();
    let sha = agents_format::Sha256::of(b"never published").to_hex();
    let old_sha =
        lockfile.lines().find_map(|l| l.strip_prefix("sha256 = \"")).unwrap().trim_end_matches('"').to_owned();
    let pinned = lockfile.replace("version = \"1.0.0\"", "version = \"9.9.9\"").replace(&old_sha, &sha);
    std::fs::write(bob.project.join("agents.lock"), pinned).unwrap();

    let missing = "alpha@9.9.9 is not in registry `team`, even after fetching it";
    assert!(eventually(WAIT, || daemon.status()["workspaces"].to_string().contains(missing)), "{}", daemon.status());
    // Time the fetches that follow: the gaps grow.
    let mut seen = Vec::new();
    let mut count = daemon.status()["fetches"].as_u64().unwrap();
    let started = std::time::Instant::now();
    while seen.len() < 2 && started.elapsed() < Duration::from_secs(40) {
        let now = daemon.status()["fetches"].as_u64().unwrap();
        if now > count {
            seen.push(std::time::Instant::now());
            count = now;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(seen.len(), 2, "no retries within 40 s: {}", daemon.status());
    let first = seen[0].duration_since(started);
    let second = seen[1].duration_since(seen[0]);
    assert!(second > first + Duration::from_secs(2), "retries did not back off: {first:?}, then {second:?}");
    let log = log_of(&bob);
    assert_eq!(log.matches(missing).count(), 1, "not in the log exactly once:\n{log}");
}

/// A project moved away is shown as missing; moved back (or cloned again at its path), it is
/// resynced within seconds and watched again.
#[test]
fn a_vanished_project_is_shown_missing_and_resynced_when_back() {
    let env = TestEnv::new();
    env.run(["install", "code-reviewer"]).success();
    env.run(["daemon", "watch"]).success();
    let file = env.agents_dir().join("code-reviewer.md");
    let bytes = std::fs::read(&file).unwrap();
    let _daemon = started(&env);
    // Commands run from beside the project: it is not always there.
    let status = |json: bool| {
        let mut command = env.agents();
        command.current_dir(env.root()).args(["daemon", "status"]);
        if json {
            command.arg("--json");
        }
        let output = command.output().unwrap();
        String::from_utf8(output.stdout).unwrap()
    };
    let json = || serde_json::from_str::<serde_json::Value>(&status(true)).unwrap();
    let away = env.path("moved-away");
    let project = env.project.canonicalize().unwrap();
    let missing = |status: &serde_json::Value| {
        status["workspaces"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["root"].as_str() == project.to_str() && w["missing"] == true)
    };
    std::fs::rename(&env.project, &away).unwrap();
    assert!(eventually(WAIT, || missing(&json())), "not shown missing: {}", json());
    let text = status(false);
    assert!(text.contains("missing: the directory is gone"), "{text}");

    // While away, its agent file went; back at its path, it comes back within seconds.
    std::fs::remove_file(away.join(".claude/agents/code-reviewer.md")).unwrap();
    std::fs::rename(&away, &env.project).unwrap();
    assert!(restored(&file, &bytes), "not resynced after coming back: {}", json());
    assert!(!missing(&json()), "{}", json());
    std::fs::remove_file(&file).unwrap();
    assert!(restored(&file, &bytes), "not watched again after coming back");
}

/// A slow removal of `.claude` (a file every 30 ms, as `git clean` goes on a slow disk, for
/// longer than the daemon's longest debounce): the daemon waits for it to settle, so the final
/// `rmdir` never finds a restored file; then it restores everything.
#[test]
fn restores_wait_for_a_directory_being_removed() {
    let env = TestEnv::new();
    env.run(["install", "code-reviewer", "test-writer", "docs-writer"]).success();
    env.run(["daemon", "watch"]).success();
    let notes = |env: &TestEnv| {
        for i in 0..30 {
            std::fs::write(env.agents_dir().join(format!("notes-{i:02}.md")), "mine\n").unwrap();
        }
    };
    notes(&env);
    let file = env.agents_dir().join("code-reviewer.md");
    let bytes = std::fs::read(&file).unwrap();
    let _daemon = started(&env);
    for round in 0..3 {
        let mut entries: Vec<_> = std::fs::read_dir(env.agents_dir()).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for entry in entries {
            std::fs::remove_file(entry).unwrap();
            std::thread::sleep(Duration::from_millis(30));
        }
        let rmdir =
            std::fs::remove_dir(env.agents_dir()).and_then(|()| std::fs::remove_dir(env.project.join(".claude")));
        assert!(
            rmdir.is_ok(),
            "round {round}: {rmdir:?}: {:?}",
            std::fs::read_dir(env.agents_dir()).map(|d| d.count())
        );
        assert!(restored(&file, &bytes), "round {round}: not restored after the removal");
        notes(&env);
    }
}

/// Status lists what the daemon did, with times, and each registry's last fetch, which a
/// restart keeps; every error and warning is logged once, not on every pass; a lockfile left
/// with merge conflicts says so in plain words.
#[test]
fn status_and_log_are_honest() {
    let env = TestEnv::new();
    env.registry("team");
    env.publish("alpha", "1.0.0");
    env.run(["install", "alpha", "code-reviewer"]).success();
    env.run(["daemon", "watch"]).success();
    let daemon = started(&env);
    let reviewer = env.agents_dir().join("code-reviewer.md");
    let bytes = std::fs::read(&reviewer).unwrap();
    std::fs::remove_file(&reviewer).unwrap();
    assert!(restored(&reviewer, &bytes));
    let alpha = env.agents_dir().join("alpha.md");
    std::fs::write(&alpha, "my own alpha\n").unwrap();
    let did = |action: &str, agent: &str| {
        daemon.status()["recent"].as_array().unwrap().iter().any(|a| a["action"] == action && a["agent"] == agent)
    };
    assert!(eventually(WAIT, || did("restored", "code-reviewer")), "{}", daemon.status());
    assert!(eventually(WAIT, || did("kept-edit", "alpha")), "{}", daemon.status());
    // More passes: the same edit is not news.
    for _ in 0..3 {
        std::fs::remove_file(&reviewer).unwrap();
        assert!(restored(&reviewer, &bytes));
    }
    let text = env.run(["daemon", "status"]).success().stdout();
    assert!(text.contains("recent:") && text.contains(" restored code-reviewer "), "{text}");
    assert!(text.contains("registry `team`") && !text.contains("last fetched never"), "{text}");

    // A `git pull` stopped half way.
    let lockfile = std::fs::read_to_string(env.project.join("agents.lock")).unwrap();
    let conflicted = format!("<<<<<<< HEAD\n{lockfile}=======\n{lockfile}>>>>>>> origin/main\n");
    std::fs::write(env.project.join("agents.lock"), &conflicted).unwrap();
    let message = "agents.lock has merge conflicts: resolve them, then the daemon continues";
    assert!(eventually(WAIT, || daemon.status()["workspaces"].to_string().contains(message)), "{}", daemon.status());
    std::fs::write(env.project.join("agents.lock"), &conflicted).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    std::fs::write(env.project.join("agents.lock"), &lockfile).unwrap();
    std::fs::remove_file(&reviewer).unwrap();
    assert!(restored(&reviewer, &bytes), "did not continue once the conflict was resolved");
    let log = log_of(&env);
    assert_eq!(log.matches(message).count(), 1, "{log}");
    assert_eq!(log.matches("kept a local edit").count(), 1, "{log}");

    // Restarted: the last fetch of each registry is still known.
    drop(daemon);
    let daemon = started(&env);
    let status = daemon.status();
    let team = status["registries"].as_array().unwrap().iter().find(|r| r["name"] == "team").cloned();
    assert!(team.is_some_and(|team| team["last_fetch"].is_i64()), "{status}");
}

/// Status and log say each thing once: an update kept aside and a kept edit are one line each
/// in `recent:` however many passes find them (a repeat is counted), each is logged once, a
/// registry no watched project names any more leaves status, and a network error is in plain
/// words (not libgit2's `; class=Net (12)`).
#[test]
fn status_and_log_say_each_thing_once_in_plain_words() {
    let env = TestEnv::new();
    env.registry("team");
    env.publish("alpha", "1.0.0");
    env.publish("beta", "1.0.0");
    env.run(["install", "alpha@^1", "beta@^1"]).success();
    env.publish("beta", "1.1.0");
    // The lockfile a `git pull` brings: beta at 1.1.0.
    let other = env.checkout("other-checkout");
    for file in ["agents.toml", "agents.lock"] {
        std::fs::copy(env.project.join(file), other.join(file)).unwrap();
    }
    let mut pin = env.agents();
    assert!(pin.current_dir(&other).args(["install", "beta@=1.1.0"]).output().unwrap().status.success());
    let pulled = std::fs::read(other.join("agents.lock")).unwrap();
    // Another project names a registry nothing answers for.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let elsewhere = env.checkout("elsewhere");
    let manifest = format!("[registries]\ngone = {{ url = \"ssh://git@127.0.0.1:{port}/gone.git\" }}\n");
    std::fs::write(elsewhere.join("agents.toml"), manifest).unwrap();
    let mut watch = env.agents();
    assert!(watch.current_dir(&elsewhere).args(["daemon", "watch"]).output().unwrap().status.success());
    env.run(["daemon", "watch"]).success();
    let daemon = started(&env);

    let gone = |status: &serde_json::Value| {
        status["registries"].as_array().unwrap().iter().find(|r| r["name"] == "gone").cloned()
    };
    assert!(eventually(WAIT, || gone(&daemon.status()).is_some_and(|r| r["error"].is_string())), "{}", daemon.status());
    let error = gone(&daemon.status()).unwrap()["error"].as_str().unwrap().to_owned();
    assert!(!error.contains("class=") && !error.contains("code="), "{error}");

    std::fs::write(env.agents_dir().join("alpha.md"), "my own alpha\n").unwrap();
    std::fs::write(env.agents_dir().join("beta.md"), "beta, edited here\n").unwrap();
    std::fs::write(env.project.join("agents.lock"), &pulled).unwrap();
    let conflict = || daemon.status()["workspaces"].to_string().contains("beta@1.1.0");
    assert!(eventually(WAIT, conflict), "{}", daemon.status());
    let project = env.project.canonicalize().unwrap();
    let passes = || {
        let status = daemon.status();
        let workspace =
            status["workspaces"].as_array().unwrap().iter().find(|w| w["root"] == project.to_str().unwrap());
        workspace.map_or(0, |w| w["passes"].as_u64().unwrap())
    };
    // More passes (a `git pull` that changed nothing, five times): nothing new to say.
    for _ in 0..5 {
        let before = passes();
        std::fs::write(env.project.join("agents.lock"), &pulled).unwrap();
        assert!(eventually(WAIT, || passes() > before), "{}", daemon.status());
        std::thread::sleep(Duration::from_millis(200));
    }
    // The edit undone, then made again: the same kept edit, once more.
    let drift = |agent: &str| {
        daemon.status()["workspaces"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["drift"].as_array().unwrap().iter().any(|d| d == agent))
    };
    // Saved as editors save (a rename), so no pass sees a half-written file in between.
    let save = |bytes: &str| {
        let temporary = env.project.join("alpha.md.tmp");
        std::fs::write(&temporary, bytes).unwrap();
        std::fs::rename(&temporary, env.agents_dir().join("alpha.md")).unwrap();
    };
    save(&TestEnv::agent_text("alpha", "1.0.0"));
    assert!(eventually(WAIT, || !drift("alpha")), "{}", daemon.status());
    save("my own alpha\n");
    assert!(eventually(WAIT, || drift("alpha")), "{}", daemon.status());
    let status = daemon.status();
    let recent = status["recent"].as_array().unwrap();
    let entries = |action: &str, agent: &str| {
        recent.iter().filter(|a| a["action"] == action && a["agent"] == agent).cloned().collect::<Vec<_>>()
    };
    let aside = entries("set-aside", "beta");
    assert!(aside.len() == 1 && aside[0]["count"] == 1, "{status}");
    let kept = entries("kept-edit", "alpha");
    assert!(kept.len() == 1 && kept[0]["count"] == 2, "{status}");
    let text = env.run(["daemon", "status"]).success().stdout();
    assert_eq!(text.matches("set an update aside beta").count(), 1, "{text}");
    assert_eq!(text.matches("kept an edit alpha").count(), 1, "{text}");
    assert!(text.lines().any(|line| line.contains("kept an edit alpha") && line.ends_with(" (2 times)")), "{text}");
    let log = log_of(&env);
    assert_eq!(log.matches("update kept aside").count(), 1, "{log}");
    assert_eq!(log.matches("kept a local edit").count(), 2, "{log}");
    assert!(!log.contains("class=") && !text.contains("class="), "{log}\n{text}");

    // The project naming `gone` is no longer watched: `gone` leaves status.
    let mut unwatch = env.agents();
    assert!(unwatch.current_dir(&elsewhere).args(["daemon", "unwatch"]).output().unwrap().status.success());
    assert!(eventually(WAIT, || gone(&daemon.status()).is_none()), "{}", daemon.status());
    let text = env.run(["daemon", "status"]).success().stdout();
    assert!(!text.contains("`gone`"), "{text}");
}

/// The log never grows past its cap: it is rotated to `agentsd.log.1`.
#[test]
fn the_log_is_size_capped() {
    let env = TestEnv::new();
    env.run(["install", "code-reviewer"]).success();
    env.run(["daemon", "watch"]).success();
    let log = env.path("agentsd.log");
    let mut command = std::process::Command::new(agents_test_support::bin("agentsd"));
    env.isolate(&mut command);
    command
        .env("AGENTS_LOG", "debug")
        .arg("--home")
        .arg(&env.home)
        .arg("--config-dir")
        .arg(env.home.join(".config/agents"))
        .arg("--cache-dir")
        .arg(env.home.join(".cache/agents"))
        .arg("--state-dir")
        .arg(env.state_dir())
        .arg("--runtime-dir")
        .arg(env.home.join(".run/agents"))
        .arg("--log-file")
        .arg(&log)
        .args(["--log-max-bytes", "1024"])
        .stdin(std::process::Stdio::null());
    let mut child = command.spawn().unwrap();
    let reviewer = env.agents_dir().join("code-reviewer.md");
    let bytes = std::fs::read(&reviewer).unwrap();
    assert!(eventually(WAIT, || env.run(["daemon", "status"]).code() == Some(0)));
    for _ in 0..15 {
        std::fs::remove_file(&reviewer).unwrap();
        assert!(restored(&reviewer, &bytes));
    }
    env.run(["daemon", "stop"]).success();
    let _ = child.wait();
    let rotated = env.path("agentsd.log.1");
    assert!(rotated.exists(), "never rotated");
    for file in [&log, &rotated] {
        let len = std::fs::metadata(file).unwrap().len();
        assert!(len <= 2048, "{} is {len} bytes", file.display());
    }
    assert!(std::fs::read_to_string(&log).unwrap().contains("agentsd stopping"));
}

/// `agentsd` with no arguments finds what `agents daemon run` would pass: the CLI reaches it on
/// the same socket, and it acts on the same watch list and state. So does the systemd unit's
/// command line, run in the unit's environment.
#[test]
fn agentsd_alone_and_the_service_use_the_clis_directories() {
    let env = TestEnv::new();
    env.run(["install", "code-reviewer"]).success();
    env.run(["daemon", "watch"]).success();
    env.run(["daemon", "install-service"]).success();
    let unit = std::fs::read_to_string(env.home.join(".config/systemd/user/agentsd.service")).unwrap();
    let exec = unit.lines().find_map(|line| line.strip_prefix("ExecStart=")).unwrap().to_owned();
    let words: Vec<String> = exec.split("\" \"").map(|w| w.trim_matches('"').replace("\\\"", "\"")).collect();
    let file = env.agents_dir().join("code-reviewer.md");
    let bytes = std::fs::read(&file).unwrap();
    for (how, command) in
        [("no arguments", vec![agents_test_support::bin("agentsd").display().to_string()]), ("the unit", words)]
    {
        let mut daemon = std::process::Command::new(&command[0]);
        env.isolate(&mut daemon);
        daemon.args(&command[1..]).stdin(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        let mut child = daemon.spawn().unwrap();
        let answered = eventually(WAIT, || env.run(["daemon", "status"]).code() == Some(0));
        if !answered {
            let _ = child.kill();
        }
        assert!(answered, "{how}: `agents daemon status` cannot reach it");
        std::fs::remove_file(&file).unwrap();
        assert!(restored(&file, &bytes), "{how}: it does not act on the CLI's watch list");
        env.run(["daemon", "stop"]).success();
        let _ = child.wait();
    }
}

/// Registries are independent: another project names a registry whose server accepts and never
/// answers, so a fetch of it never ends; a pin pulled from a reachable registry is still fetched
/// and applied at once, and status says which registry the daemon is waiting on.
#[test]
fn a_hanging_registry_does_not_hold_back_a_pin_from_another() {
    let Team { alice, bob, proxy: _proxy, _server } = team();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let other = bob.checkout("other-project");
    let manifest = format!("[registries]\nstuck = {{ url = \"git://127.0.0.1:{port}/stuck.git\" }}\n");
    std::fs::write(other.join("agents.toml"), manifest).unwrap();
    let mut watch = bob.agents();
    assert!(watch.current_dir(&other).args(["daemon", "watch"]).output().unwrap().status.success());
    let daemon = started(&bob);
    let stuck = eventually(WAIT, || daemon.status()["fetching"].as_str().is_some_and(|f| f.contains("`stuck`")));
    assert!(stuck, "{}", daemon.status());

    alice.publish("alpha", "1.1.0");
    std::fs::copy(bob.project.join("agents.toml"), alice.project.join("agents.toml")).unwrap();
    alice.run(["install", "alpha@=1.1.0"]).success();
    // `git pull` brings Alice's lockfile.
    std::fs::copy(alice.project.join("agents.lock"), bob.project.join("agents.lock")).unwrap();
    let alpha = bob.agents_dir().join("alpha.md");
    let wanted = TestEnv::agent_text("alpha", "1.1.0");
    assert!(
        eventually(Duration::from_secs(10), || std::fs::read_to_string(&alpha).ok() == Some(wanted.clone())),
        "the pin waited for another registry: {}",
        daemon.status()
    );
    assert!(daemon.status()["fetching"].as_str().is_some_and(|f| f.contains("`stuck`")), "{}", daemon.status());
    drop(silent);
}

/// Another project names a registry that refuses connections, so every fetch of it fails and
/// backs off: a pin pulled from a reachable registry is fetched at once all the same, and the
/// failing registry's backoff is its own.
#[test]
fn a_failing_registry_backs_off_alone() {
    let Team { alice, bob, proxy: _proxy, _server } = team();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let other = bob.checkout("other-project");
    let manifest = format!("[registries]\nrefused = {{ url = \"git://127.0.0.1:{port}/refused.git\" }}\n");
    std::fs::write(other.join("agents.toml"), manifest).unwrap();
    let mut watch = bob.agents();
    assert!(watch.current_dir(&other).args(["daemon", "watch"]).output().unwrap().status.success());
    let daemon = started(&bob);
    let failing = eventually(WAIT, || daemon.status()["fetch_failures"].as_u64() >= Some(1));
    assert!(failing, "{}", daemon.status());
    let status = daemon.status();
    let registries = status["registries"].as_array().unwrap();
    let entry = |name: &str| registries.iter().find(|r| r["name"] == name).cloned().unwrap_or_default();
    assert!(entry("team")["error"].is_null() && entry("team")["last_fetch"].is_i64(), "{status}");
    assert!(entry("refused")["error"].is_string(), "{status}");

    alice.publish("alpha", "1.1.0");
    std::fs::copy(bob.project.join("agents.toml"), alice.project.join("agents.toml")).unwrap();
    alice.run(["install", "alpha@=1.1.0"]).success();
    std::fs::copy(alice.project.join("agents.lock"), bob.project.join("agents.lock")).unwrap();
    let alpha = bob.agents_dir().join("alpha.md");
    let wanted = TestEnv::agent_text("alpha", "1.1.0");
    assert!(
        eventually(Duration::from_secs(10), || std::fs::read_to_string(&alpha).ok() == Some(wanted.clone())),
        "the pin waited for the failing registry's backoff: {}",
        daemon.status()
    );
}
