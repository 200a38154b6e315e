//! Concurrent publishers to one remote: every distinct version lands once; a contested version
//! has exactly one winner.

use std::ffi::OsStr;
use std::process::Command;
use std::time::Duration;

use agents_format::IndexFile;
use agents_test_support::{TestEnv, index_path_in, read_in_remote};

/// Publishers are separate users (own HOME and cache) sharing only the remote.
fn publisher(remote: &std::path::Path) -> TestEnv {
    let env = TestEnv::new();
    env.run([OsStr::new("registry"), OsStr::new("add"), OsStr::new("team"), remote.as_os_str()]).success();
    env
}

fn spawn_publish(env: &TestEnv, name: &str, version: &str, body: &str) -> std::process::Child {
    let file = env.path(&format!("{name}-{version}.md"));
    std::fs::write(&file, format!("---\nname: {name}\ndescription: d\n---\n{body}\n")).unwrap();
    let mut command: Command = env.agents();
    command.args([OsStr::new("publish"), file.as_os_str(), OsStr::new("--version"), OsStr::new(version)]);
    command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    command.spawn().unwrap()
}

#[test]
fn ten_concurrent_publishers_of_distinct_versions_all_land_once() {
    let owner = TestEnv::new();
    let remote = owner.registry("team");
    let publishers: Vec<TestEnv> = (0..10).map(|_| publisher(&remote)).collect();
    let children: Vec<_> = publishers
        .iter()
        .enumerate()
        .map(|(i, env)| spawn_publish(env, "busy", &format!("1.{i}.0"), &format!("body {i}")))
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "a publisher failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let index = IndexFile::parse(
        &String::from_utf8(read_in_remote(&remote, &index_path_in(&remote, "busy")).unwrap()).unwrap(),
    );
    assert!(index.invalid.is_empty());
    let mut versions: Vec<String> = index.records().map(|r| r.version.to_string()).collect();
    assert_eq!(versions.len(), 10, "lost or duplicated publishes: {versions:?}");
    versions.sort();
    versions.dedup();
    assert_eq!(versions.len(), 10, "duplicate lines");
    agents_test_support::reliability::record("concurrent-publishers", 10);
}

#[test]
fn two_publishers_racing_for_one_version_have_exactly_one_winner() {
    let owner = TestEnv::new();
    let remote = owner.registry("team");
    for round in 0..3 {
        let (alice, bob) = (publisher(&remote), publisher(&remote));
        let version = format!("{round}.0.0");
        let children =
            [spawn_publish(&alice, "contested", &version, "alice"), spawn_publish(&bob, "contested", &version, "bob")];
        let outputs: Vec<_> = children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
        let winners = outputs.iter().filter(|o| o.status.success()).count();
        assert_eq!(winners, 1, "round {round}: {winners} winners");
        let loser = outputs.iter().find(|o| !o.status.success()).unwrap();
        let stderr = String::from_utf8_lossy(&loser.stderr);
        assert!(stderr.contains(&format!("contested@{version} is already published")), "{stderr}");
    }
    let index = IndexFile::parse(
        &String::from_utf8(read_in_remote(&remote, &index_path_in(&remote, "contested")).unwrap()).unwrap(),
    );
    assert_eq!(index.records().count(), 3);
    agents_test_support::reliability::record("racing-publishers", 3);
}

#[test]
fn two_clis_and_the_daemon_on_one_workspace_for_a_hundred_rounds() {
    use agents_test_support::{DaemonGuard, eventually};
    let env = TestEnv::new();
    env.run(["install", "code-reviewer"]).success();
    env.run(["daemon", "watch"]).success();
    let daemon = DaemonGuard::start(&env);
    let agents = ["test-writer", "docs-writer", "security-auditor", "git-workflow-helper", "rust-systems-expert"];
    let rounds = 50;
    std::thread::scope(|scope| {
        for worker in 0..2 {
            let env = &env;
            scope.spawn(move || {
                for round in 0..rounds {
                    let agent = agents[(round * 3 + worker) % agents.len()];
                    let args: Vec<&str> = match (round + worker) % 4 {
                        0 | 1 => vec!["install", agent],
                        2 => vec!["uninstall", agent],
                        _ => vec!["update"],
                    };
                    let run = env.run(&args);
                    // Uninstalling what the other CLI already removed is a clear error; nothing
                    // else may fail, and nothing may panic.
                    let benign = run.stderr().contains("is not installed");
                    assert!(run.code() == Some(0) || benign, "{args:?}: {}", run.stderr());
                    assert!(!run.stderr().contains("panicked"));
                    if round % 10 == 0 {
                        let _ = std::fs::remove_file(env.agents_dir().join("code-reviewer.md"));
                    }
                }
            });
        }
    });
    assert!(
        eventually(Duration::from_secs(20), || env.run(["verify"]).code() == Some(0)),
        "{}",
        env.run(["verify"]).stderr()
    );
    let lockfile = std::fs::read_to_string(env.project.join("agents.lock")).unwrap();
    agents_format::Lockfile::parse(&lockfile).unwrap();
    agents_format::Manifest::parse(&std::fs::read_to_string(env.project.join("agents.toml")).unwrap()).unwrap();
    let stray: Vec<String> =
        TestEnv::files_under(&env.agents_dir()).into_iter().filter(|f| f.starts_with('.')).collect();
    assert!(stray.is_empty(), "{stray:?}");
    drop(daemon);
    agents_test_support::reliability::record("clis-and-daemon", 2 * rounds);
}
