//! Two users, one remote registry, one project repository: the team workflow end to end.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use agents_test_support::TestEnv;

fn git(env: &TestEnv, dir: &Path, args: &[&str]) {
    let mut command = Command::new("git");
    env.isolate(&mut command);
    command.current_dir(dir).args([
        "-c",
        "user.name=Test",
        "-c",
        "user.email=test@localhost",
        "-c",
        "init.defaultBranch=main",
    ]);
    let output = command.args(args).output().unwrap();
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// Publishes from `project`, whose agents.toml names the registry.
fn publish(env: &TestEnv, project: &Path, version: &str) {
    let file = env.path(&format!("team-style-{version}.md"));
    std::fs::write(&file, format!("---\nname: team-style\ndescription: Our style\n---\nStyle rules v{version}\n"))
        .unwrap();
    let mut command = env.agents();
    command.current_dir(project).args([
        OsStr::new("publish"),
        file.as_os_str(),
        OsStr::new("--version"),
        OsStr::new(version),
    ]);
    let output = command.output().unwrap();
    assert!(output.status.success(), "publish: {}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn a_teammate_follows_the_lockfile_through_git() {
    let alice = TestEnv::new();
    let bob = TestEnv::new();
    let registry = alice.path("shared/team-registry.git");
    let origin = alice.path("shared/project.git");
    alice.run([OsStr::new("registry"), OsStr::new("init"), registry.as_os_str()]).success();
    git(&alice, alice.root(), &["init", "--bare", "-q", origin.to_str().unwrap()]);

    // Alice: the registry is the project's, so it goes in agents.toml for everyone.
    let alice_project = alice.path("alice-project");
    git(&alice, alice.root(), &["clone", "-q", origin.to_str().unwrap(), alice_project.to_str().unwrap()]);
    let run_in = |env: &TestEnv, dir: &Path, args: &[&OsStr]| {
        let mut command = env.agents();
        command.current_dir(dir).args(args);
        let output = command.output().unwrap();
        assert!(output.status.success(), "agents {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    run_in(
        &alice,
        &alice_project,
        &["registry".as_ref(), "add".as_ref(), "--project".as_ref(), "team".as_ref(), registry.as_os_str()],
    );
    publish(&alice, &alice_project, "1.0.0");
    run_in(&alice, &alice_project, &["install".as_ref(), "team-style".as_ref()]);
    git(&alice, &alice_project, &["add", "agents.toml", "agents.lock"]);
    git(&alice, &alice_project, &["commit", "-q", "-m", "Use team-style"]);
    git(&alice, &alice_project, &["push", "-q", "origin", "HEAD:main"]);

    // Bob clones and installs: identical bytes, without adding any registry himself.
    let bob_project = bob.path("bob-project");
    git(&bob, bob.root(), &["clone", "-q", origin.to_str().unwrap(), bob_project.to_str().unwrap()]);
    run_in(&bob, &bob_project, &["install".as_ref()]);
    let read = |dir: &Path| std::fs::read(dir.join(".claude/agents/team-style.md")).unwrap();
    assert_eq!(read(&bob_project), read(&alice_project));

    // Alice publishes 1.1.0, updates, pushes.
    publish(&alice, &alice_project, "1.1.0");
    let output = run_in(&alice, &alice_project, &["update".as_ref()]);
    assert!(output.contains("Updated team-style 1.0.0 \u{2192} v1.1.0"), "{output}");
    git(&alice, &alice_project, &["commit", "-q", "-am", "Update team-style"]);
    git(&alice, &alice_project, &["push", "-q", "origin", "HEAD:main"]);

    // Bob pulls and installs: 1.1.0.
    git(&bob, &bob_project, &["pull", "-q", "--ff-only", "origin", "main"]);
    let output = run_in(&bob, &bob_project, &["install".as_ref()]);
    assert!(output.contains("Updated team-style 1.0.0 \u{2192} v1.1.0"), "{output}");
    assert_eq!(read(&bob_project), b"---\nname: team-style\ndescription: Our style\n---\nStyle rules v1.1.0\n");
    assert_eq!(
        std::fs::read(bob_project.join("agents.lock")).unwrap(),
        std::fs::read(alice_project.join("agents.lock")).unwrap()
    );
}
