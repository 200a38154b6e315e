//! Dependencies and bundles end to end: requirements published with a version, a bundle that
//! installs a set, the lockfile's graph shared by two users through git, `tree` and `why`, and a
//! conflict explained.

use std::ffi::OsStr;
use std::path::Path;

use agents_test_support::TestEnv;

/// Runs `agents ARGS` as `env` in `dir`; asserts success and returns stdout and stderr.
fn run_in(env: &TestEnv, dir: &Path, args: &[&str]) -> (String, String) {
    let mut command = env.agents();
    command.current_dir(dir).args(args);
    let output = command.output().unwrap();
    let (stdout, stderr) =
        (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned());
    assert!(output.status.success(), "agents {args:?}: {stderr}");
    (stdout, stderr)
}

/// Publishes a generated agent `name@version` requiring `requires` (each `NAME@REQ`).
fn publish(env: &TestEnv, dir: &Path, name: &str, version: &str, requires: &[&str]) {
    let file = env.path(&format!("{name}-{version}.md"));
    std::fs::write(&file, TestEnv::agent_text(name, version)).unwrap();
    let mut args = vec!["publish", file.to_str().unwrap(), "--version", version];
    for requirement in requires {
        args.extend(["--requires", requirement]);
    }
    run_in(env, dir, &args);
}

fn bundle(env: &TestEnv, dir: &Path, name: &str, version: &str, requires: &[&str]) {
    let mut args = vec!["publish", "--bundle", name, "--version", version, "--description", "The backend team's set"];
    for requirement in requires {
        args.extend(["--requires", requirement]);
    }
    run_in(env, dir, &args);
}

fn installed(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join(".claude/agents"))
        .map(|entries| entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn a_bundle_with_a_shared_dependency_installs_updates_and_uninstalls_for_two_users() {
    let alice = TestEnv::new();
    let bob = TestEnv::new();
    let registry = alice.path("shared/team.git");
    let origin = alice.path("shared/project.git");
    alice.run([OsStr::new("registry"), OsStr::new("init"), registry.as_os_str()]).success();
    alice.git(alice.root(), &["init", "--bare", "-q", origin.to_str().unwrap()]);
    let alice_project = alice.path("alice-project");
    alice.git(alice.root(), &["clone", "-q", origin.to_str().unwrap(), alice_project.to_str().unwrap()]);
    run_in(&alice, &alice_project, &["registry", "add", "--project", "team", registry.to_str().unwrap()]);

    // Three packages, two of which need test-writer, and a bundle of the three.
    publish(&alice, &alice_project, "test-writer", "1.0.0", &[]);
    publish(&alice, &alice_project, "reviewer", "1.0.0", &["test-writer@^1"]);
    publish(&alice, &alice_project, "docs-writer", "1.0.0", &["team/test-writer@^1"]);
    publish(&alice, &alice_project, "linter", "1.0.0", &[]);
    bundle(&alice, &alice_project, "acme-backend", "1.0.0", &["reviewer@^1", "docs-writer@^1", "linter@^1"]);
    // The published file is byte for byte the author's: requirements live in the record.
    let record =
        agents_test_support::read_in_remote(&registry, &agents_test_support::index_path_in(&registry, "reviewer"))
            .unwrap();
    let record = String::from_utf8(record).unwrap();
    assert!(
        record.contains(r#""schema":3"#) && record.contains(r#""requires":[{"name":"test-writer","req":"^1"}]"#),
        "{record}"
    );

    let (_, stderr) = run_in(&alice, &alice_project, &["install", "acme-backend"]);
    assert!(stderr.contains("Installed test-writer v1.0.0"), "{stderr}");
    assert!(stderr.contains("Installed bundle acme-backend v1.0.0 (3 requirements)"), "{stderr}");
    assert_eq!(installed(&alice_project), ["docs-writer.md", "linter.md", "reviewer.md", "test-writer.md"]);
    assert_eq!(
        std::fs::read_to_string(alice_project.join(".claude/agents/reviewer.md")).unwrap(),
        TestEnv::agent_text("reviewer", "1.0.0")
    );
    let manifest = std::fs::read_to_string(alice_project.join("agents.toml")).unwrap();
    assert!(manifest.contains("acme-backend") && !manifest.contains("test-writer"), "{manifest}");
    let lock = std::fs::read_to_string(alice_project.join("agents.lock")).unwrap();
    assert!(lock.contains("version = 2\n") && lock.contains("kind = \"bundle\""), "{lock}");
    assert!(lock.contains("requested = false\nrequires = [\"test-writer@^1\"]"), "{lock}");

    let (tree, _) = run_in(&alice, &alice_project, &["tree"]);
    assert!(
        tree.starts_with(
            "acme-backend v1.0.0 (bundle)\n├── docs-writer v1.0.0 [^1]\n│   └── test-writer v1.0.0 [^1]\n"
        ),
        "{tree}"
    );
    assert!(tree.contains("└── reviewer v1.0.0 [^1]\n    └── test-writer v1.0.0 [^1] (*)"), "{tree}");
    let (why_json, _) = run_in(&alice, &alice_project, &["why", "test-writer", "--json"]);
    let why: serde_json::Value = serde_json::from_str(&why_json).unwrap();
    let by: Vec<&str> =
        why["package"]["children"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(by, ["docs-writer", "reviewer"], "{why_json}");
    assert_eq!(why["package"]["children"][0]["children"][0]["name"], "acme-backend", "{why_json}");

    alice.git(&alice_project, &["add", "agents.toml", "agents.lock"]);
    alice.git(&alice_project, &["commit", "-q", "-m", "Use the backend set"]);
    alice.git(&alice_project, &["push", "-q", "origin", "HEAD:main"]);

    // Bob clones and installs: the same set, the same lockfile.
    let bob_project = bob.path("bob-project");
    bob.git(bob.root(), &["clone", "-q", origin.to_str().unwrap(), bob_project.to_str().unwrap()]);
    run_in(&bob, &bob_project, &["install"]);
    assert_eq!(installed(&bob_project), installed(&alice_project));
    let lock_of = |dir: &Path| std::fs::read_to_string(dir.join("agents.lock")).unwrap();
    assert_eq!(lock_of(&bob_project), lock_of(&alice_project));

    // A new reviewer needs a newer test-writer: `update` moves both, and only what the
    // requirements allow.
    publish(&alice, &alice_project, "test-writer", "1.1.0", &[]);
    publish(&alice, &alice_project, "test-writer", "2.0.0", &[]);
    publish(&alice, &alice_project, "reviewer", "1.1.0", &["test-writer@^1.1"]);
    // `outdated` shows the dependency, with what its requirers allow (not 2.0.0), and `info`
    // shows each version's requirements.
    let (outdated, _) = run_in(&alice, &alice_project, &["outdated", "--json"]);
    let outdated: serde_json::Value = serde_json::from_str(&outdated).unwrap();
    let writer = outdated["packages"].as_array().unwrap().iter().find(|p| p["name"] == "test-writer").unwrap();
    assert_eq!(writer["compatible"], "1.1.0", "{writer}");
    assert_eq!(writer["latest"], "2.0.0", "{writer}");
    assert_eq!(writer["required_by"], serde_json::json!(["docs-writer", "reviewer"]), "{writer}");
    let (info, _) = run_in(&alice, &alice_project, &["info", "reviewer"]);
    assert!(info.contains("requires test-writer@^1.1"), "{info}");
    let (_, stderr) = run_in(&alice, &alice_project, &["update"]);
    assert!(stderr.contains("reviewer 1.0.0 \u{2192} v1.1.0"), "{stderr}");
    assert!(stderr.contains("test-writer 1.0.0 \u{2192} v1.1.0"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(alice_project.join(".claude/agents/test-writer.md")).unwrap(),
        TestEnv::agent_text("test-writer", "1.1.0")
    );
    alice.git(&alice_project, &["commit", "-q", "-am", "Update the backend set"]);
    alice.git(&alice_project, &["push", "-q", "origin", "HEAD:main"]);
    bob.git(&bob_project, &["pull", "-q", "--ff-only", "origin", "main"]);
    // The pulled graph installs as locked: the lockfile needs no change.
    run_in(&bob, &bob_project, &["install", "--locked"]);
    assert_eq!(lock_of(&bob_project), lock_of(&alice_project));
    assert_eq!(
        std::fs::read_to_string(bob_project.join(".claude/agents/reviewer.md")).unwrap(),
        TestEnv::agent_text("reviewer", "1.1.0")
    );

    // Alice uninstalls the bundle: it and every dependency nothing else needs go.
    let (_, stderr) = run_in(&alice, &alice_project, &["uninstall", "acme-backend"]);
    assert!(stderr.contains("Removed bundle acme-backend (3 requirements)"), "{stderr}");
    assert!(stderr.contains("Removed test-writer"), "{stderr}");
    assert!(installed(&alice_project).is_empty(), "{:?}", installed(&alice_project));
    alice.git(&alice_project, &["commit", "-q", "-am", "Drop the backend set"]);
    alice.git(&alice_project, &["push", "-q", "origin", "HEAD:main"]);

    // Bob had edited one of them; the pulled lockfile, applied by `sync` (what the daemon does),
    // removes the others and keeps his edit.
    let edited = "---\nname: linter\ndescription: mine\n---\nmine\n";
    std::fs::write(bob_project.join(".claude/agents/linter.md"), edited).unwrap();
    bob.git(&bob_project, &["pull", "-q", "--ff-only", "origin", "main"]);
    let mut command = bob.agents();
    command.current_dir(&bob_project).args(["sync"]);
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(installed(&bob_project), ["linter.md"], "{stderr}");
    assert_eq!(std::fs::read_to_string(bob_project.join(".claude/agents/linter.md")).unwrap(), edited);
    assert_eq!(lock_of(&bob_project), lock_of(&alice_project));
}

#[test]
fn a_conflict_names_both_requirements_and_writes_nothing() {
    let env = TestEnv::new();
    env.registry("team");
    let project = env.project.clone();
    publish(&env, &project, "test-writer", "1.0.0", &[]);
    publish(&env, &project, "test-writer", "2.0.0", &[]);
    publish(&env, &project, "reviewer", "2.0.0", &["test-writer@^2"]);
    bundle(&env, &project, "acme-backend", "1.3.0", &["reviewer@^2", "test-writer@^1"]);
    let run = env.run(["install", "acme-backend"]).fails_with("cannot resolve");
    let stderr = run.stderr();
    assert!(stderr.contains("reviewer 2.0.0 requires test-writer ^2"), "{stderr}");
    assert!(stderr.contains("acme-backend 1.3.0 requires test-writer ^1"), "{stderr}");
    assert!(stderr.contains("no version of test-writer satisfies both"), "{stderr}");
    assert!(!project.join(".claude").exists());
    assert!(!project.join("agents.lock").exists());
}

#[test]
fn bad_requirements_are_refused_at_publish_with_a_clear_error() {
    let env = TestEnv::new();
    env.registry("team");
    let file = env.path("reviewer.md");
    std::fs::write(&file, TestEnv::agent_text("reviewer", "1.0.0")).unwrap();
    let publish = |requires: &str| {
        env.run([
            OsStr::new("publish"),
            file.as_os_str(),
            "--version".as_ref(),
            "1.0.0".as_ref(),
            "--requires".as_ref(),
            requires.as_ref(),
        ])
    };
    publish("test-writer@banana").fails_with("`banana` is not a semver requirement");
    publish("test-writer").fails_with("has no `@`");
    publish("reviewer@^1").fails_with("`reviewer` requires itself");
    publish("elsewhere/test-writer@^1").fails_with("no registry named `elsewhere`");
    let run = env.run(["publish", "--bundle", "acme", "--version", "1.0.0", "--description", "x"]);
    assert_eq!(run.code(), Some(2), "{}", run.stderr());
    assert!(run.stderr().contains("--requires"), "{}", run.stderr());
}

#[test]
fn a_bundle_installs_updates_and_uninstalls_over_a_sparse_registry() {
    // The publisher's git registry, exported to a static host as its CI would.
    let publisher = TestEnv::new();
    let git = publisher.registry("origin");
    let dir = publisher.project.clone();
    publish(&publisher, &dir, "test-writer", "1.0.0", &[]);
    publish(&publisher, &dir, "reviewer", "1.0.0", &["test-writer@^1"]);
    publish(&publisher, &dir, "docs-writer", "1.0.0", &["test-writer@^1"]);
    publish(&publisher, &dir, "linter", "1.0.0", &[]);
    bundle(&publisher, &dir, "acme-backend", "1.0.0", &["reviewer@^1", "docs-writer@^1", "linter@^1"]);
    let www = publisher.path("www");
    agents_test_support::export_tree(&git, &www);
    let server = agents_test_support::servers::StaticServer::start(&www);

    let user = TestEnv::new();
    user.run(["registry", "add", "team", &server.url()]).success();
    server.clear_log();
    user.run(["install", "acme-backend"]).success();
    assert_eq!(installed(&user.project), ["docs-writer.md", "linter.md", "reviewer.md", "test-writer.md"]);
    // A cold install asks for each package's index file and body once (a bundle has no body),
    // plus `config.json`: at most two requests a package.
    let requests = server.requests();
    let mut paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    paths.sort();
    let before = paths.len();
    paths.dedup();
    assert_eq!(before, paths.len(), "a file was asked for twice: {paths:?}");
    assert!(requests.len() <= 2 * 5 + 1, "{} requests for 5 packages: {paths:?}", requests.len());

    publish(&publisher, &dir, "test-writer", "1.1.0", &[]);
    publish(&publisher, &dir, "reviewer", "1.1.0", &["test-writer@^1.1"]);
    agents_test_support::export_tree(&git, &www);
    user.run(["update", "reviewer"]).success().stderr_contains("test-writer 1.0.0 \u{2192} v1.1.0");
    assert_eq!(
        std::fs::read_to_string(user.project.join(".claude/agents/reviewer.md")).unwrap(),
        TestEnv::agent_text("reviewer", "1.1.0")
    );

    user.run(["uninstall", "acme-backend"]).success();
    assert!(installed(&user.project).is_empty(), "{:?}", installed(&user.project));
    let lock = std::fs::read_to_string(user.project.join("agents.lock")).unwrap();
    assert!(!lock.contains("[[agent]]"), "{lock}");
}

#[test]
fn a_skill_and_a_command_carry_requirements_and_their_files_stay_the_authors() {
    let env = TestEnv::new();
    env.registry("team");
    let project = env.project.clone();
    publish(&env, &project, "test-writer", "1.0.0", &[]);
    let skill = env.path("src/pdf-forms");
    std::fs::create_dir_all(skill.join("scripts")).unwrap();
    let skill_md = "---\nname: pdf-forms\ndescription: Fill in PDF forms\n---\nRun scripts/fill.sh.\n";
    std::fs::write(skill.join("SKILL.md"), skill_md).unwrap();
    std::fs::write(skill.join("scripts/fill.sh"), "#!/bin/sh\necho filled\n").unwrap();
    run_in(&env, &project, &["publish", skill.to_str().unwrap(), "--version", "1.0.0", "--requires", "test-writer@^1"]);
    let command = env.path("src/commands/ship.md");
    std::fs::create_dir_all(command.parent().unwrap()).unwrap();
    std::fs::write(&command, "---\ndescription: Ship it\n---\nShip.\n").unwrap();
    run_in(&env, &project, &["publish", command.to_str().unwrap(), "--version", "1.0.0", "--requires", "pdf-forms@^1"]);

    run_in(&env, &project, &["install", "ship"]);
    assert_eq!(std::fs::read_to_string(project.join(".claude/skills/pdf-forms/SKILL.md")).unwrap(), skill_md);
    assert_eq!(
        std::fs::read_to_string(project.join(".claude/commands/ship.md")).unwrap(),
        "---\ndescription: Ship it\n---\nShip.\n"
    );
    assert_eq!(installed(&project), ["test-writer.md"]);
    let (tree, _) = run_in(&env, &project, &["tree"]);
    assert_eq!(tree, "ship v1.0.0 (command)\n└── pdf-forms v1.0.0 (skill) [^1]\n    └── test-writer v1.0.0 [^1]\n");
    run_in(&env, &project, &["verify"]);
}

#[test]
fn a_requirement_on_a_registry_the_user_lacks_is_named_and_nothing_is_written() {
    // Alice publishes `reviewer` to `team`, requiring `pdf` from her registry `tools`.
    let alice = TestEnv::new();
    let team = alice.registry("team");
    alice.registry("tools");
    let project = alice.project.clone();
    let pdf = alice.path("pdf.md");
    std::fs::write(&pdf, TestEnv::agent_text("pdf", "1.0.0")).unwrap();
    run_in(&alice, &project, &["publish", pdf.to_str().unwrap(), "--version", "1.0.0", "--registry", "tools"]);
    let reviewer = alice.path("reviewer.md");
    std::fs::write(&reviewer, TestEnv::agent_text("reviewer", "1.0.0")).unwrap();
    let args = ["publish", reviewer.to_str().unwrap(), "--version", "1.0.0", "--registry", "team"];
    run_in(&alice, &project, &[&args[..], &["--requires", "tools/pdf@^1"]].concat());
    // Alice has both registries: the requirement resolves across them.
    run_in(&alice, &project, &["install", "reviewer"]);
    assert_eq!(installed(&project), ["pdf.md", "reviewer.md"]);

    // Bob has only `team`.
    let bob = TestEnv::new();
    bob.run([OsStr::new("registry"), OsStr::new("add"), OsStr::new("team"), team.as_os_str()]).success();
    let run = bob.run(["install", "reviewer"]).fails_with("cannot resolve");
    let stderr = run.stderr();
    assert!(stderr.contains("reviewer 1.0.0 cannot be used: it requires r-"), "{stderr}");
    assert!(stderr.contains("none of your registries has id"), "{stderr}");
    assert!(!bob.project.join(".claude").exists() && !bob.project.join("agents.lock").exists());
}

#[test]
fn the_daemons_auto_update_never_breaks_the_graph() {
    use agents_test_support::{DaemonGuard, eventually};
    let env = TestEnv::new();
    env.registry("team");
    let dir = env.project.clone();
    publish(&env, &dir, "test-writer", "1.0.0", &[]);
    publish(&env, &dir, "reviewer", "1.0.0", &["test-writer@=1.0.0"]);
    publish(&env, &dir, "linter", "1.0.0", &[]);
    env.run(["install", "--global", "reviewer", "linter"]).success();
    // Patches the daemon may take, but: test-writer's is outside what reviewer requires, and
    // reviewer's needs a package the lockfile does not hold.
    publish(&env, &dir, "test-writer", "1.0.1", &[]);
    publish(&env, &dir, "helper", "1.0.0", &[]);
    publish(&env, &dir, "reviewer", "1.0.1", &["test-writer@=1.0.0", "helper@^1"]);
    publish(&env, &dir, "linter", "1.0.1", &[]);
    let config = env.home.join(".config/agents/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}\n[daemon]\nauto-update = \"patch\"\n")).unwrap();

    let _daemon = DaemonGuard::start(&env);
    env.run(["daemon", "sync"]).success();
    let lockfile = env.home.join(".config/agents/agents.lock");
    let locked = || std::fs::read_to_string(&lockfile).unwrap_or_default();
    // linter moving shows the daemon ran its auto-update.
    assert!(
        eventually(std::time::Duration::from_secs(20), || locked().contains("name = \"linter\"\nversion = \"1.0.1\"")),
        "{}",
        locked()
    );
    let lock = locked();
    assert!(lock.contains("name = \"test-writer\"\nversion = \"1.0.0\""), "{lock}");
    assert!(lock.contains("name = \"reviewer\"\nversion = \"1.0.0\""), "{lock}");
    assert!(!lock.contains("helper"), "{lock}");
}

#[test]
fn requirements_are_signed_a_rewritten_requirement_is_refused_and_the_graph_pins_signers() {
    let alice = TestEnv::new();
    let keys = alice.path("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let key = keys.join("root");
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "root@test", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(status.success());
    let remote = alice.path("registries/team.git");
    alice
        .run([OsStr::new("registry"), "init".as_ref(), remote.as_os_str(), "--sign-key".as_ref(), key.as_os_str()])
        .success();
    alice.run([OsStr::new("registry"), "add".as_ref(), "team".as_ref(), remote.as_os_str()]).success();
    let signed = |name: &str, requires: &[&str]| {
        let file = alice.path(&format!("{name}.md"));
        std::fs::write(&file, TestEnv::agent_text(name, "1.0.0")).unwrap();
        let mut args =
            vec!["publish", file.to_str().unwrap(), "--version", "1.0.0", "--sign-key", key.to_str().unwrap()];
        for requirement in requires {
            args.extend(["--requires", requirement]);
        }
        alice.run(&args).success();
    };
    signed("test-writer", &[]);
    signed("reviewer", &["test-writer@^1"]);
    alice.run(["install", "reviewer"]).success();
    let lock = std::fs::read_to_string(alice.project.join("agents.lock")).unwrap();
    assert_eq!(lock.matches("signer = \"SHA256:").count(), 2, "{lock}");

    // Someone with push access rewrites the requirement and keeps the signature: a fresh user
    // refuses that version, naming it.
    let path = agents_test_support::index_path_in(&remote, "reviewer");
    let text = String::from_utf8(agents_test_support::read_in_remote(&remote, &path).unwrap()).unwrap();
    let forged = text.replace(r#""req":"^1""#, r#""req":"*""#);
    assert_ne!(forged, text);
    agents_test_support::rewrite_in_remote(&remote, &path, forged.as_bytes());
    let bob = TestEnv::new();
    bob.run([OsStr::new("registry"), "add".as_ref(), "team".as_ref(), remote.as_os_str()]).success();
    let run = bob.run(["install", "reviewer"]);
    assert_eq!(run.code(), Some(1), "{}", run.stderr());
    assert!(run.stderr().contains("reviewer@1.0.0"), "{}", run.stderr());
    assert!(!bob.project.join(".claude").exists());
}
