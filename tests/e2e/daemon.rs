//! agentsd with real watchers, real files and real git: restore, keep edits, apply pulled
//! lockfiles, set conflicting updates aside, survive being killed.

use std::ffi::OsStr;
use std::path::Path;
use std::time::{Duration, Instant};

use agents_test_support::{DaemonGuard, TestEnv, eventually, exited, seed_path};

const WAIT: Duration = Duration::from_secs(20);

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// The lockfile another checkout would have after `agents install NAME@=VERSION`.
fn lockfile_pinning(env: &TestEnv, spec: &str) -> Vec<u8> {
    let other = env.checkout("other-checkout");
    std::fs::copy(env.project.join("agents.toml"), other.join("agents.toml")).unwrap();
    let mut command = env.agents();
    command.current_dir(&other).args(["install", spec]);
    assert!(command.output().unwrap().status.success());
    std::fs::read(other.join("agents.lock")).unwrap()
}

#[test]
fn a_deleted_agent_is_restored_and_an_edited_one_is_kept_and_reported() {
    let env = TestEnv::new();
    env.run(["install", "go-backend-expert", "code-reviewer"]).success();
    env.run(["daemon", "watch"]).success();
    let daemon = DaemonGuard::start(&env);

    let seed = env.agents_dir().join("go-backend-expert.md");
    std::fs::remove_file(&seed).unwrap();
    assert!(eventually(WAIT, || std::fs::read(&seed).ok() == std::fs::read(seed_path()).ok()), "not restored");

    let reviewer = env.agents_dir().join("code-reviewer.md");
    std::fs::write(&reviewer, "my own rules\n").unwrap();
    let reported = eventually(WAIT, || {
        let status = daemon.status();
        status["workspaces"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["drift"].as_array().unwrap().iter().any(|d| d == "code-reviewer"))
    });
    assert!(reported, "drift not reported: {}", daemon.status());
    assert_eq!(read(&reviewer).as_deref(), Some("my own rules\n"), "the daemon overwrote a local edit");

    // Unmanaged files are never touched.
    std::fs::write(env.agents_dir().join("mine.md"), "unmanaged\n").unwrap();
    std::fs::remove_file(&seed).unwrap();
    assert!(eventually(WAIT, || seed.exists()));
    assert_eq!(read(&env.agents_dir().join("mine.md")).as_deref(), Some("unmanaged\n"));
    let text = env.run(["daemon", "status"]).success().stdout();
    assert!(text.contains("drift: code-reviewer has local edits"), "{text}");
}

#[test]
fn a_changed_lockfile_is_applied_and_an_update_to_an_edited_file_is_set_aside() {
    let env = TestEnv::new();
    env.registry("team");
    env.publish("alpha", "1.0.0");
    env.publish("beta", "1.0.0");
    env.run(["install", "alpha@^1", "beta@^1"]).success();
    env.publish("alpha", "1.1.0");
    env.publish("beta", "1.1.0");
    let newer = lockfile_pinning(&env, "alpha@=1.1.0");
    let newer = {
        std::fs::write(env.path("other-checkout/agents.lock"), &newer).unwrap();
        lockfile_pinning(&env, "beta@=1.1.0")
    };
    env.run(["daemon", "watch"]).success();
    let daemon = DaemonGuard::start(&env);

    let beta = env.agents_dir().join("beta.md");
    std::fs::write(&beta, "beta, edited here\n").unwrap();
    std::fs::write(env.project.join("agents.lock"), &newer).unwrap();

    let alpha = env.agents_dir().join("alpha.md");
    assert!(
        eventually(WAIT, || read(&alpha) == Some(TestEnv::agent_text("alpha", "1.1.0"))),
        "lockfile change not applied"
    );
    assert!(
        eventually(WAIT, || daemon.status()["workspaces"].to_string().contains("beta@1.1.0")),
        "conflict not reported: {}",
        daemon.status()
    );
    assert_eq!(read(&beta).as_deref(), Some("beta, edited here\n"));
    let in_agents_dir = TestEnv::files_under(&env.agents_dir());
    assert_eq!(in_agents_dir, ["alpha.md", "beta.md"], "a conflict copy landed among the agents");
    let diff = env.run(["diff", "beta"]).success().stdout();
    assert!(diff.contains("+beta 1.1.0") && diff.contains("+beta, edited here"), "{diff}");
    assert!(diff.contains("beta@1.1.0 (update kept aside"), "{diff}");
}

#[test]
fn the_daemon_killed_mid_apply_recovers_on_restart() {
    let env = TestEnv::new();
    env.registry("team");
    for version in ["1.0.0", "1.1.0", "1.2.0"] {
        env.publish("alpha", version);
    }
    env.run(["install", "alpha@=1.0.0"]).success();
    env.run(["daemon", "watch"]).success();
    let locks: Vec<Vec<u8>> = ["1.1.0", "1.2.0", "1.0.0", "1.2.0"]
        .iter()
        .map(|v| {
            let other = env.path("other-checkout");
            let _ = std::fs::remove_file(other.join("agents.lock"));
            lockfile_pinning(&env, &format!("alpha@={v}"))
        })
        .collect();
    for lock in &locks {
        let daemon = DaemonGuard::start(&env);
        let pid = daemon.pid();
        std::fs::write(env.project.join("agents.lock"), lock).unwrap();
        std::thread::sleep(Duration::from_millis(30));
        std::process::Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap();
        std::mem::forget(daemon);
        // Restarted, it converges: the file is exactly the pinned version, nothing else is left.
        let daemon = DaemonGuard::start(&env);
        let log = || std::fs::read_to_string(env.state_dir().join("daemon/agentsd.log")).unwrap_or_default();
        assert!(
            eventually(WAIT, || env.run(["verify"]).code() == Some(0)),
            "{}\nagentsd.log:\n{}",
            env.run(["verify"]).stderr(),
            log()
        );
        assert_eq!(TestEnv::files_under(&env.agents_dir()), ["alpha.md"], "a temporary file was left behind");
        drop(daemon);
    }
}

/// The passes agentsd's debounce (crates/agentsd/src/daemon.rs, `DEBOUNCE` and `DEBOUNCE_MAX`)
/// makes of events at `times`: one once 50 ms pass without an event, or 500 ms after the first
/// event of a burst.
fn debounced_passes(times: &[Duration]) -> u64 {
    const QUIET: Duration = Duration::from_millis(50);
    const LONGEST: Duration = Duration::from_millis(500);
    let mut passes = 0;
    let mut burst: Option<(Duration, Duration)> = None;
    for &at in times {
        burst = match burst {
            Some((first, last)) if at <= (last + QUIET).min(first + LONGEST) => Some((first, at)),
            Some(_) => {
                passes += 1;
                Some((at, at))
            }
            None => Some((at, at)),
        };
    }
    passes + u64::from(burst.is_some())
}

#[test]
fn one_instance_per_user_and_a_burst_of_events_costs_few_passes() {
    let env = TestEnv::new();
    env.run(["install", "test-writer"]).success();
    env.run(["daemon", "watch"]).success();
    let daemon = DaemonGuard::start(&env);
    // A second one says so and exits 0: nothing failed (a service would not restart it).
    let second = env.run(["daemon", "run"]);
    assert_eq!(second.code(), Some(0), "{}", second.stderr());
    assert!(second.stderr().contains("already running"), "{}", second.stderr());

    let before = daemon.status()["reconcile_passes"].as_u64().unwrap();
    let start = Instant::now();
    let mut written = Vec::with_capacity(500);
    for i in 0..500 {
        std::fs::write(env.agents_dir().join(format!("scratch-{i}.md")), "x\n").unwrap();
        written.push(start.elapsed());
    }
    std::thread::sleep(Duration::from_secs(2));
    let after = daemon.status()["reconcile_passes"].as_u64().unwrap();
    let passes = after - before;
    // How many passes the daemon's rule allows for the burst as it was written here: on a loaded
    // machine the writes themselves take long and pause, which legitimately ends a burst.
    let allowed = debounced_passes(&written);
    eprintln!(
        "500 events in {:?}: {passes} passes, the debounce rule allows {allowed}",
        written.last().copied().unwrap_or_default()
    );
    assert!(passes > 0, "the burst was not noticed");
    // The daemon sees each event a little after it was written, later when it is itself kept
    // from a core: that may split each burst once more. One pass per event (no debounce) costs
    // dozens of passes here.
    assert!(passes <= 2 * allowed + 1, "500 events cost {passes} reconcile passes, the debounce allows {allowed}");
    assert!(env.agents_dir().join("scratch-499.md").exists());

    // SIGTERM: it finishes what it is doing, removes its socket and exits.
    let pid = daemon.pid();
    std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    assert!(eventually(WAIT, || exited(pid)));
    assert!(!env.home.join(".run/agents/agentsd.sock").exists(), "the socket outlived the daemon");
    env.run(["daemon", "status"]).fails_with("");
}

#[test]
fn a_restart_waits_for_a_previous_instance_still_exiting_and_says_why_it_gives_up() {
    let env = TestEnv::new();
    let runtime = env.home.join(".run/agents");
    std::fs::create_dir_all(&runtime).unwrap();
    // What a killed daemon leaves while its last thread is still leaving the kernel: the lock
    // held, a dead socket file, nobody answering.
    std::fs::write(runtime.join("agentsd.sock"), "").unwrap();
    let lock =
        std::fs::File::options().create(true).truncate(false).write(true).open(runtime.join("agentsd.lock")).unwrap();
    lock.lock().unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(800));
        drop(lock);
    });
    let daemon = DaemonGuard::start(&env);
    assert!(daemon.pid() > 0);
    release.join().unwrap();
    drop(daemon);

    // A lock that stays held by something that never answers: a clear error naming it.
    let lock = std::fs::File::options().write(true).open(runtime.join("agentsd.lock")).unwrap();
    lock.lock().unwrap();
    env.run(["daemon", "start"]).fails_with("agentsd.lock stays locked and nothing answers");
}

#[test]
fn install_service_writes_a_systemd_user_unit() {
    let env = TestEnv::new();
    env.run(["daemon", "install-service"]).success();
    let unit = std::fs::read_to_string(env.home.join(".config/systemd/user/agentsd.service")).unwrap();
    assert!(unit.contains("[Service]") && unit.contains("ExecStart=\""), "{unit}");
    // The runtime directory is agentsd's rule in systemd's environment ($XDG_RUNTIME_DIR is %t).
    assert!(!unit.contains("--runtime-dir") && unit.contains("WantedBy=default.target"), "{unit}");
    let agentsd = agents_test_support::bin("agentsd").canonicalize().unwrap();
    assert!(unit.contains(&agentsd.display().to_string()), "{unit}");
    // Where systemd is installed, it must accept the unit without a single complaint.
    std::fs::create_dir_all(env.home.join(".run")).unwrap();
    let mut verify = std::process::Command::new("systemd-analyze");
    env.isolate(&mut verify);
    let unit_path = env.home.join(".config/systemd/user/agentsd.service");
    if let Ok(output) = verify.args(["--user", "verify"]).arg(&unit_path).output() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success() && stderr.trim().is_empty(), "systemd-analyze: {stderr}");
    }
}

/// The words of a systemd setting's value as systemd reads them: specifiers first (`%%` is `%`;
/// any other is a mistake here), then double-quoted words with C escapes, then, in a command
/// line, `$$` for `$` and `$NAME`/`${NAME}` expanded from `environment` (empty when unset).
fn systemd_words(value: &str, command_line: bool, environment: &[(String, String)]) -> Vec<String> {
    let mut specified = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            specified.push(c);
        } else if chars.next() == Some('%') {
            specified.push('%');
        } else {
            panic!("systemd would expand a specifier in {value}");
        }
    }
    let mut words = Vec::new();
    let mut chars = specified.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(first) = chars.next() else { break };
        let quote = matches!(first, '"' | '\'').then_some(first);
        let mut word = String::new();
        let mut next = if quote.is_some() { chars.next() } else { Some(first) };
        while let Some(c) = next {
            match c {
                c if Some(c) == quote => break,
                c if quote.is_none() && c.is_whitespace() => break,
                '\\' => match chars.next().expect("an escape ends the line") {
                    'x' => {
                        let hex: String = [chars.next().unwrap(), chars.next().unwrap()].iter().collect();
                        word.push(char::from(u8::from_str_radix(&hex, 16).unwrap()));
                    }
                    'n' => word.push('\n'),
                    't' => word.push('\t'),
                    other => word.push(other),
                },
                c => word.push(c),
            }
            next = chars.next();
        }
        words.push(word);
    }
    if !command_line {
        return words;
    }
    let lookup = |name: &str| environment.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default();
    words
        .into_iter()
        .map(|word| {
            let mut expanded = String::new();
            let mut chars = word.chars().peekable();
            while let Some(c) = chars.next() {
                if c != '$' {
                    expanded.push(c);
                } else if chars.next_if_eq(&'$').is_some() {
                    expanded.push('$');
                } else if chars.next_if_eq(&'{').is_some() {
                    let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                    expanded.push_str(&lookup(&name));
                } else {
                    let mut name = String::new();
                    while let Some(c) = chars.next_if(|c| c.is_ascii_alphanumeric() || *c == '_') {
                        name.push(c);
                    }
                    expanded.push_str(&lookup(&name));
                }
            }
            expanded
        })
        .collect()
}

/// The unit is read back by systemd exactly as written whatever the home's path holds (a space,
/// `%`, `$`, quotes, a backslash), passes the session's ssh agent and proxy settings (only those
/// set), and started beside a daemon already running it exits 0 (`Restart=on-failure` must not
/// start it again and again).
#[test]
fn the_service_unit_survives_a_strange_home_carries_the_session_and_leaves_a_running_daemon_alone() {
    let env = TestEnv::new();
    let home = env.path(r#"a home 100% $HOME "q" 'a' \b"#);
    env.set_env("HOME", &home);
    let dirs = [
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_RUNTIME_DIR", ".run"),
    ];
    for (name, relative) in dirs {
        env.set_env(name, home.join(relative));
    }
    std::fs::create_dir_all(home.join(".run")).unwrap();
    env.run(["install", "code-reviewer"]).success();
    env.run(["daemon", "watch"]).success();
    for name in
        ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"]
    {
        env.remove_env(name);
    }
    let session = [
        ("SSH_AUTH_SOCK", r#"/tmp/ssh 50%/$agent "1" \x"#),
        ("HTTPS_PROXY", "http://proxy.invalid:3128"),
        ("no_proxy", "localhost,127.0.0.1"),
    ];
    for (name, value) in session {
        env.set_env(name, value);
    }
    env.run(["daemon", "install-service"]).success();
    let unit_path = home.join(".config/systemd/user/agentsd.service");
    let unit = std::fs::read_to_string(&unit_path).unwrap();

    let environment: Vec<(String, String)> = unit
        .lines()
        .filter_map(|line| line.strip_prefix("Environment="))
        .flat_map(|value| systemd_words(value, false, &[]))
        .map(|word| {
            let (name, value) = word.split_once('=').unwrap();
            (name.to_owned(), value.to_owned())
        })
        .collect();
    let expected: Vec<(String, String)> = session.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect();
    assert_eq!(environment, expected, "{unit}");
    let exec = unit.lines().find_map(|line| line.strip_prefix("ExecStart=")).unwrap();
    let words = systemd_words(exec, true, &environment);
    assert_eq!(words[0], agents_test_support::bin("agentsd").canonicalize().unwrap().display().to_string(), "{unit}");
    assert_eq!(words[1..3], ["--home".to_owned(), home.display().to_string()], "{unit}");
    for pair in words[1..].windows(2).filter(|pair| pair[0].ends_with("-dir")) {
        assert!(pair[1].starts_with(&home.display().to_string()), "{} is not under the home: {unit}", pair[1]);
    }

    if Path::new("/usr/bin/systemd-analyze").exists() {
        let mut verify = std::process::Command::new("systemd-analyze");
        env.isolate(&mut verify);
        let output = verify.args(["--user", "verify"]).arg(&unit_path).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success() && stderr.trim().is_empty(), "systemd-analyze: {stderr}\n{unit}");
    } else {
        eprintln!("note: systemd-analyze is not installed; the unit was not verified by systemd");
    }

    // The unit's command, in the unit's environment, is the daemon the CLI talks to.
    let unit_command = || {
        let mut command = std::process::Command::new(&words[0]);
        env.isolate(&mut command);
        command.args(&words[1..]).envs(environment.iter().map(|(n, v)| (n, v))).stdin(std::process::Stdio::null());
        command
    };
    let mut first = unit_command().stderr(std::process::Stdio::null()).spawn().unwrap();
    let answered = eventually(WAIT, || env.run(["daemon", "status"]).code() == Some(0));
    if !answered {
        let _ = first.kill();
    }
    assert!(answered, "`agents daemon status` cannot reach the unit's daemon");
    let reviewer = env.agents_dir().join("code-reviewer.md");
    let bytes = std::fs::read(&reviewer).unwrap();
    std::fs::remove_file(&reviewer).unwrap();
    assert!(eventually(WAIT, || std::fs::read(&reviewer).ok() == Some(bytes.clone())), "not restored");
    let pid = env.run(["daemon", "status", "--json"]).json()["pid"].clone();

    // The unit started while a daemon runs (one started by hand, say): exit 0, with a message.
    let second = unit_command().output().unwrap();
    let said = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(0), "{said}");
    assert!(said.contains("agentsd is already running (pid"), "{said}");
    assert_eq!(env.run(["daemon", "status", "--json"]).json()["pid"], pid, "the running daemon was disturbed");
    env.run(["daemon", "stop"]).success();
    let _ = first.wait();
}

#[test]
fn a_teammates_lockfile_arrives_with_git_pull_and_the_daemon_applies_it() {
    let alice = TestEnv::new();
    let bob = TestEnv::new();
    let (_, origin) = alice.team_project();
    alice.publish("shared-agent", "1.0.0");
    alice.run(["install", "shared-agent"]).success();
    alice.git(&alice.project, &["add", "agents.toml", "agents.lock"]);
    alice.git(&alice.project, &["commit", "-q", "-m", "add shared-agent"]);
    alice.git(&alice.project, &["push", "-q", "origin", "HEAD:main"]);

    bob.clone_project(&origin);
    bob.run(["install"]).success();
    bob.run(["daemon", "watch"]).success();
    let _daemon = DaemonGuard::start(&bob);

    alice.publish("shared-agent", "1.1.0");
    alice.run(["update"]).success();
    alice.git(&alice.project, &["commit", "-q", "-am", "update shared-agent"]);
    alice.git(&alice.project, &["push", "-q", "origin", "HEAD:main"]);

    // Bob pulls; his daemon does the rest (it fetches the registry, which it has not seen 1.1.0 in).
    bob.git(&bob.project, &["pull", "-q", "--ff-only", "origin", "main"]);
    let file = bob.agents_dir().join("shared-agent.md");
    assert!(
        eventually(WAIT, || read(&file) == Some(TestEnv::agent_text("shared-agent", "1.1.0"))),
        "{:?}",
        read(&file)
    );
}

/// The daemon follows a pulled lockfile whose graph changed: a dependency a teammate's update
/// added is installed, one no longer required is removed, as `sync` does (issue 26, point 5).
#[test]
fn a_pulled_lockfile_whose_graph_changed_is_applied_by_the_daemon() {
    let alice = TestEnv::new();
    let bob = TestEnv::new();
    let (_, origin) = alice.team_project();
    let publish = |name: &str, version: &str, requires: &[&str]| {
        let file = alice.path(&format!("{name}-{version}.md"));
        std::fs::write(&file, TestEnv::agent_text(name, version)).unwrap();
        let mut args: Vec<&OsStr> = vec!["publish".as_ref(), file.as_os_str(), "--version".as_ref(), version.as_ref()];
        for requirement in requires {
            args.extend(["--requires".as_ref(), OsStr::new(requirement)]);
        }
        alice.run(args).success();
    };
    let push = |message: &str| {
        alice.git(&alice.project, &["add", "agents.toml", "agents.lock"]);
        alice.git(&alice.project, &["commit", "-q", "-m", message]);
        alice.git(&alice.project, &["push", "-q", "origin", "HEAD:main"]);
    };
    publish("test-writer", "1.0.0", &[]);
    publish("reviewer", "1.0.0", &["test-writer@^1"]);
    alice.run(["install", "reviewer"]).success();
    push("add reviewer");

    bob.clone_project(&origin);
    bob.run(["install"]).success();
    bob.run(["daemon", "watch"]).success();
    let _daemon = DaemonGuard::start(&bob);

    // Reviewer 1.1.0 needs a newer test-writer and a new package, linter.
    publish("test-writer", "1.1.0", &[]);
    publish("linter", "1.0.0", &[]);
    publish("reviewer", "1.1.0", &["linter@^1", "test-writer@^1.1"]);
    alice.run(["update"]).success();
    push("update reviewer");
    bob.git(&bob.project, &["pull", "-q", "--ff-only", "origin", "main"]);
    let agent = |name: &str| bob.agents_dir().join(format!("{name}.md"));
    let holds = |name: &str, version: &str| read(&agent(name)) == Some(TestEnv::agent_text(name, version));
    assert!(
        eventually(WAIT, || holds("reviewer", "1.1.0") && holds("test-writer", "1.1.0") && holds("linter", "1.0.0")),
        "{:?}",
        std::fs::read_dir(bob.agents_dir()).map(|d| d.flatten().map(|e| e.file_name()).collect::<Vec<_>>())
    );

    // Reviewer 1.2.0 no longer needs linter: the pulled lockfile drops it, and so does the daemon.
    publish("reviewer", "1.2.0", &["test-writer@^1.1"]);
    alice.run(["update"]).success();
    push("update reviewer again");
    bob.git(&bob.project, &["pull", "-q", "--ff-only", "origin", "main"]);
    assert!(
        eventually(WAIT, || holds("reviewer", "1.2.0") && !agent("linter").exists()),
        "{:?}",
        read(&agent("linter"))
    );
    assert!(holds("test-writer", "1.1.0"));
}

#[test]
fn opt_in_auto_update_moves_the_user_scope_within_its_bounds() {
    let env = TestEnv::new();
    env.registry("team");
    env.publish("helper", "1.0.0");
    env.run(["install", "--global", "helper"]).success();
    env.publish("helper", "1.0.1");
    env.publish("helper", "1.1.0");
    let config = env.home.join(".config/agents/config.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[daemon]\nauto-update = \"patch\"\n");
    std::fs::write(&config, text).unwrap();

    let _daemon = DaemonGuard::start(&env);
    env.run(["daemon", "sync"]).success();
    let file = env.home.join(".claude/agents/helper.md");
    assert!(eventually(WAIT, || read(&file) == Some(TestEnv::agent_text("helper", "1.0.1"))), "{:?}", read(&file));
    let lockfile = std::fs::read_to_string(env.home.join(".config/agents/agents.lock")).unwrap();
    assert!(lockfile.contains("version = \"1.0.1\""), "patch auto-update went too far or not at all:\n{lockfile}");
}

#[test]
fn the_cli_and_the_daemon_share_one_workspace_without_corruption_or_double_writes() {
    let env = TestEnv::new();
    env.run(["install", "code-reviewer"]).success();
    env.run(["daemon", "watch"]).success();
    let daemon = DaemonGuard::start(&env);
    let names = ["test-writer", "docs-writer", "security-auditor", "git-workflow-helper"];
    for round in 0..5 {
        for name in names {
            env.run(["install", name]).success();
        }
        let reviewer = env.agents_dir().join("code-reviewer.md");
        assert!(eventually(WAIT, || reviewer.exists()), "round {round}: code-reviewer not restored");
        std::fs::remove_file(&reviewer).unwrap();
        if round % 2 == 0 {
            env.run(["uninstall", names[round % names.len()]]).success();
        }
    }
    assert!(eventually(WAIT, || env.run(["verify"]).code() == Some(0)), "{}", env.run(["verify"]).stderr());
    drop(daemon);
    // The daemon restored code-reviewer (deleted by hand) but never rewrote what the CLI had just
    // written: its log names no other agent.
    let log = std::fs::read_to_string(env.home.join(".local/state/agents/daemon/agentsd.log")).unwrap();
    for name in names {
        assert!(!log.contains(&format!("agent={name} ")), "the daemon wrote {name} after the CLI did:\n{log}");
    }
    assert!(log.contains("agent=code-reviewer"), "{log}");
}

#[test]
fn a_removed_agents_directory_is_recreated_and_an_unreachable_registry_backs_off() {
    let env = TestEnv::new();
    let registry = env.registry("team");
    env.publish("alpha", "1.0.0");
    env.run(["install", "alpha", "test-writer"]).success();
    env.run(["daemon", "watch"]).success();
    let daemon = DaemonGuard::start(&env);
    // The daemon answers before its first pass ends; a removal racing a pass already under way
    // can find a file restored in it, as with any writer.
    let reconciled = |status: serde_json::Value| {
        status["workspaces"].as_array().unwrap().iter().all(|w| w["last_reconcile"].is_i64())
    };
    assert!(eventually(WAIT, || reconciled(daemon.status())), "{}", daemon.status());

    // The whole .claude directory goes: the daemon sees its parent change, scans, restores. A
    // pass still under way may write into it while it goes (as any writer could, and `rm -rf`
    // then fails the same way): removed again, as a user would run `rm -rf` again.
    let removed = eventually(WAIT, || match std::fs::remove_dir_all(env.project.join(".claude")) {
        Ok(()) => true,
        Err(error) if error.kind() == std::io::ErrorKind::DirectoryNotEmpty => false,
        Err(error) => panic!("removing .claude: {error}"),
    });
    assert!(removed, "a pass kept writing into .claude for {WAIT:?}");
    assert!(eventually(WAIT, || env.run(["verify"]).code() == Some(0)), "{}", env.run(["verify"]).stderr());
    // And it watches the new directory: a second deletion inside it is noticed too.
    std::fs::remove_file(env.agents_dir().join("alpha.md")).unwrap();
    assert!(eventually(WAIT, || env.agents_dir().join("alpha.md").exists()));

    // The registry goes away: fetches fail and back off, reconciling goes on from the cache.
    std::fs::rename(&registry, env.path("registries/moved.git")).unwrap();
    env.run(["daemon", "sync"]).success();
    let failing = eventually(WAIT, || daemon.status()["fetch_failures"].as_u64().unwrap_or(0) >= 1);
    assert!(failing, "{}", daemon.status());
    let status = daemon.status();
    let next = status["next_fetch"].as_i64().unwrap();
    let last = status["last_fetch"].as_i64().unwrap();
    assert!(next > last && next - last <= 60, "backoff window off: {status}");
    std::fs::remove_file(env.agents_dir().join("alpha.md")).unwrap();
    assert!(
        eventually(WAIT, || env.agents_dir().join("alpha.md").exists()),
        "reconciling waited on the network: {}",
        daemon.status()
    );
}

/// What the daemon did, from its own counters: file events delivered, lockfiles read to route
/// them, and each workspace's passes by root.
fn work(status: &serde_json::Value) -> (u64, u64, Vec<(String, u64)>) {
    let passes = status["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["root"].as_str().unwrap().to_owned(), w["passes"].as_u64().expect("passes per workspace")))
        .collect();
    (
        status["events"].as_u64().expect("an event counter"),
        status["lockfile_reads"].as_u64().expect("a lockfile-read counter"),
        passes,
    )
}

#[test]
fn an_event_costs_what_it_touches_and_status_answers_through_a_flood() {
    let env = TestEnv::new();
    env.run(["install", "go-backend-expert"]).success();
    env.run(["daemon", "watch"]).success();
    let other = env.checkout("other-project");
    for args in [&["install", "code-reviewer"][..], &["daemon", "watch"]] {
        let mut command = env.agents();
        assert!(command.current_dir(&other).args(args).output().unwrap().status.success());
    }
    let daemon = DaemonGuard::start(&env);
    // Settled: the first fetch done and the passes after it ended.
    let reconciled = |status: &serde_json::Value| {
        status["fetches"].as_u64() >= Some(1)
            && status["workspaces"]
                .as_array()
                .unwrap()
                .iter()
                .all(|w| w["last_reconcile"].is_i64() && w["activity"].is_null())
    };
    assert!(eventually(WAIT, || reconciled(&daemon.status())), "{}", daemon.status());
    let (events_before, reads_before, passes_before) = work(&daemon.status());

    // A tool floods this project with files the daemon does not manage: scratch files in the
    // agents directory, build output beside the manifest.
    const FILES: usize = 2000;
    let (agents_dir, project) = (env.agents_dir(), env.project.clone());
    let flood = std::thread::spawn(move || {
        for i in 0..FILES {
            std::fs::write(agents_dir.join(format!("scratch-{i}.txt")), "x\n").unwrap();
            std::fs::write(project.join(format!("build-{i}.o")), "x\n").unwrap();
        }
    });
    // Meanwhile a file deleted in the other project comes back, and status answers throughout.
    let deleted = other.join(".claude/agents/code-reviewer.md");
    std::fs::remove_file(&deleted).unwrap();
    let mut asked = 0;
    while !flood.is_finished() || asked < 3 {
        let status = env.run(["daemon", "status", "--json"]);
        assert_eq!(status.code(), Some(0), "status did not answer during the flood: {}", status.stderr());
        asked += 1;
    }
    flood.join().unwrap();
    assert!(eventually(WAIT, || deleted.exists()), "not restored during a flood elsewhere: {}", daemon.status());

    // Every event delivered, none of them worth a lockfile read or a pass of the flooded project.
    let delivered = eventually(WAIT, || work(&daemon.status()).0 - events_before >= 2 * FILES as u64);
    let (events, reads, passes) = work(&daemon.status());
    assert!(delivered, "{} events delivered", events - events_before);
    assert_eq!(reads, reads_before, "lockfiles read again for events that touch none");
    let flooded = env.project.canonicalize().unwrap();
    for ((root, before), (_, after)) in passes_before.iter().zip(&passes) {
        if Path::new(root) == flooded || Path::new(root).canonicalize().ok().as_deref() == Some(&flooded) {
            assert_eq!(after, before, "the flooded project was reconciled for files it does not manage");
        } else if Path::new(root).ends_with("other-project") {
            assert!(after > before, "the deletion was not a pass of its project");
        } else {
            assert_eq!(after, before, "a pass of {root}, which no event touched");
        }
    }
}
