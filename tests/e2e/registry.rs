//! Local git registries: create, add, publish, install from them, choose between them.

use std::ffi::OsStr;

use agents_test_support::TestEnv;

fn publish(env: &TestEnv, file_name: &str, text: &str, version: &str) {
    let file = env.path(file_name);
    std::fs::write(&file, text).unwrap();
    env.run([OsStr::new("publish"), file.as_os_str(), OsStr::new("--version"), OsStr::new(version)]).success();
}

#[test]
fn registry_lifecycle() {
    let env = TestEnv::new();
    let remote = env.registry("team");
    let listed = env.run(["registry", "list", "--json"]).success().json()["registries"].clone();
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["team", "builtin"]);
    assert_eq!(listed[0]["url"], remote.canonicalize().unwrap().display().to_string());

    env.run(["registry", "add", "builtin", "/tmp"]).fails_with("built into agents");
    env.run(["registry", "add", "Bad Name", "/tmp"]).fails_with("invalid registry name");
    let not_a_registry = env.path("plain");
    std::fs::create_dir_all(&not_a_registry).unwrap();
    git2::Repository::init(&not_a_registry).unwrap();
    env.run([OsStr::new("registry"), OsStr::new("add"), OsStr::new("plain"), not_a_registry.as_os_str()])
        .fails_with("plain");
    let missing = env.path("missing.git");
    env.run([OsStr::new("registry"), OsStr::new("add"), OsStr::new("gone"), missing.as_os_str()])
        .fails_with("could not reach registry");
    env.run([OsStr::new("registry"), OsStr::new("init"), remote.as_os_str()]).fails_with("already exists");

    env.run(["registry", "remove", "team"]).success();
    env.run(["registry", "remove", "team"]).fails_with("no registry named `team`");
    let listed = env.run(["registry", "list", "--json"]).success().json()["registries"].clone();
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

#[test]
fn publish_then_install_from_a_git_registry() {
    let env = TestEnv::new();
    env.registry("team");
    let text = "---\nname: team-helper\ndescription: Knows our conventions\n---\nFollow the team style.\n";
    publish(&env, "team-helper.md", text, "1.0.0");
    publish(&env, "team-helper.md", &text.replace("style", "style guide"), "1.1.0");

    env.run(["install", "team-helper@=1.0.0"]).success().stderr_contains("Installed team-helper v1.0.0");
    assert_eq!(std::fs::read_to_string(env.agents_dir().join("team-helper.md")).unwrap(), text);
    let manifest = std::fs::read_to_string(env.project.join("agents.toml")).unwrap();
    assert!(manifest.contains("team-helper = { version = \"=1.0.0\", registry = \"team\" }"), "{manifest}");
    let lockfile = std::fs::read_to_string(env.project.join("agents.lock")).unwrap();
    assert!(lockfile.contains("registry = \"r-"), "the lockfile must name the registry by id:\n{lockfile}");

    // Like cargo: a requirement the locked version still meets keeps it; a tighter one moves.
    env.run(["install", "team-helper@^1"]).success().stderr_contains("Unchanged team-helper v1.0.0");
    env.run(["install", "team-helper@^1.1"]).success().stderr_contains("Updated team-helper 1.0.0 \u{2192} v1.1.0");
    let info = env.run(["info", "team-helper", "--json"]).success().json();
    assert_eq!(info["registry"], "team");
    assert_eq!(info["versions"].as_array().unwrap().len(), 2);

    // The cache now has the registry: an offline install from the lockfile works.
    std::fs::remove_dir_all(env.project.join(".claude")).unwrap();
    env.run(["install", "--offline"]).success().stderr_contains("Restored team-helper v1.1.0");
}

#[test]
fn a_name_in_two_registries_must_be_chosen() {
    let env = TestEnv::new();
    env.registry("team");
    publish(&env, "code-reviewer.md", "---\nname: code-reviewer\ndescription: ours\n---\nOur reviewer.\n", "3.0.0");
    env.run(["install", "code-reviewer"])
        .fails_with("published in several registries: `team`, `builtin`")
        .stderr_contains("--registry");
    env.run(["install", "code-reviewer", "--registry", "builtin"]).success().stderr_contains("code-reviewer v1.0.0");
    env.run(["install", "code-reviewer", "--registry", "team", "--force"]).success().stderr_contains("v3.0.0");
}

#[test]
fn a_teammate_with_the_lockfile_gets_identical_bytes() {
    let alice = TestEnv::new();
    let remote = alice.registry("team");
    publish(&alice, "shared.md", "---\nname: shared\ndescription: d\n---\nv1\n", "1.0.0");
    alice.run(["install", "shared", "go-backend-expert"]).success();

    let bob = TestEnv::new();
    bob.run([OsStr::new("registry"), OsStr::new("add"), OsStr::new("team"), remote.as_os_str()]).success();
    for file in ["agents.toml", "agents.lock"] {
        std::fs::copy(alice.project.join(file), bob.project.join(file)).unwrap();
    }
    bob.run(["install", "--locked"]).success();
    for agent in ["shared.md", "go-backend-expert.md"] {
        assert_eq!(
            std::fs::read(bob.agents_dir().join(agent)).unwrap(),
            std::fs::read(alice.agents_dir().join(agent)).unwrap()
        );
    }
    assert_eq!(
        std::fs::read(bob.project.join("agents.lock")).unwrap(),
        std::fs::read(alice.project.join("agents.lock")).unwrap()
    );
}

#[test]
fn search_follows_a_git_registry_as_it_moves() {
    let env = TestEnv::new();
    env.registry("team");
    publish(&env, "a.md", "---\nname: team-helper\ndescription: Knows our Conventions\n---\nx\n", "1.0.0");
    publish(&env, "b.md", "---\nname: release-bot\ndescription: Cuts releases\n---\ny\n", "1.0.0");
    let found = |query: &str| -> Vec<String> {
        let hits = env.run(["search", query, "--json"]).success().json()["packages"].clone();
        hits.as_array()
            .unwrap()
            .iter()
            .filter(|hit| hit["registry"] == "team")
            .map(|hit| format!("{}@{}", hit["name"].as_str().unwrap(), hit["version"].as_str().unwrap()))
            .collect()
    };
    assert_eq!(found("conventions"), ["team-helper@1.0.0"]);
    assert_eq!(found("release"), ["release-bot@1.0.0"]);

    // A new version and a new agent show up in the next search; a yank moves it back.
    publish(&env, "a.md", "---\nname: team-helper\ndescription: Knows our conventions well\n---\nx\n", "1.1.0");
    publish(&env, "c.md", "---\nname: conventions-linter\ndescription: Lints\n---\nz\n", "0.1.0");
    assert_eq!(found("conventions"), ["conventions-linter@0.1.0", "team-helper@1.1.0"]);
    env.run(["yank", "team-helper@1.1.0"]).success();
    assert_eq!(found("conventions"), ["conventions-linter@0.1.0", "team-helper@1.0.0"]);
    assert!(found("nothing-like-this").is_empty());
}
