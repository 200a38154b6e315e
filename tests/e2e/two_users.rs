//! Two users, one remote registry, one project repository: the team workflow end to end.

use std::ffi::OsStr;
use std::path::Path;

use agents_test_support::TestEnv;

#[test]
fn a_teammate_follows_the_lockfile_through_git() {
    let alice = TestEnv::new();
    let bob = TestEnv::new();
    let registry = alice.path("shared/team-registry.git");
    let origin = alice.path("shared/project.git");
    alice.run([OsStr::new("registry"), OsStr::new("init"), registry.as_os_str()]).success();
    alice.git(alice.root(), &["init", "--bare", "-q", origin.to_str().unwrap()]);

    // Alice: the registry is the project's, so it goes in agents.toml for everyone.
    let alice_project = alice.path("alice-project");
    alice.git(alice.root(), &["clone", "-q", origin.to_str().unwrap(), alice_project.to_str().unwrap()]);
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
    alice.publish_in(&alice_project, "team-style", "1.0.0");
    run_in(&alice, &alice_project, &["install".as_ref(), "team-style".as_ref()]);
    alice.git(&alice_project, &["add", "agents.toml", "agents.lock"]);
    alice.git(&alice_project, &["commit", "-q", "-m", "Use team-style"]);
    alice.git(&alice_project, &["push", "-q", "origin", "HEAD:main"]);

    // Bob clones and installs: identical bytes, without adding any registry himself.
    let bob_project = bob.path("bob-project");
    bob.git(bob.root(), &["clone", "-q", origin.to_str().unwrap(), bob_project.to_str().unwrap()]);
    run_in(&bob, &bob_project, &["install".as_ref()]);
    let read = |dir: &Path| std::fs::read(dir.join(".claude/agents/team-style.md")).unwrap();
    assert_eq!(read(&bob_project), read(&alice_project));

    // Alice publishes 1.1.0, updates, pushes.
    alice.publish_in(&alice_project, "team-style", "1.1.0");
    let output = run_in(&alice, &alice_project, &["update".as_ref()]);
    assert!(output.contains("Updated team-style 1.0.0 \u{2192} v1.1.0"), "{output}");
    alice.git(&alice_project, &["commit", "-q", "-am", "Update team-style"]);
    alice.git(&alice_project, &["push", "-q", "origin", "HEAD:main"]);

    // Bob pulls and installs: 1.1.0.
    bob.git(&bob_project, &["pull", "-q", "--ff-only", "origin", "main"]);
    let output = run_in(&bob, &bob_project, &["install".as_ref()]);
    assert!(output.contains("Updated team-style 1.0.0 \u{2192} v1.1.0"), "{output}");
    assert_eq!(read(&bob_project), TestEnv::agent_text("team-style", "1.1.0").into_bytes());
    assert_eq!(
        std::fs::read(bob_project.join("agents.lock")).unwrap(),
        std::fs::read(alice_project.join("agents.lock")).unwrap()
    );
}
