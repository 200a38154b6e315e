//! The first steps of a team: making a registry on a stock git server, authentication, and a
//! project that names a registry teammates can resolve.

use std::ffi::OsStr;

use agents_test_support::{TestEnv, servers};

#[test]
fn a_stock_bare_repository_gets_a_hint_not_a_riddle() {
    let env = TestEnv::new();
    let stock = env.path("stock.git");
    env.git(env.root(), &["init", "-q", "--bare", "--initial-branch=master", stock.to_str().unwrap()]);
    // Empty: say how a registry is made and pushed.
    env.run([OsStr::new("registry"), OsStr::new("add"), OsStr::new("team"), stock.as_os_str()])
        .fails_with("no commits yet")
        .stderr_contains("hint: a new registry starts with `agents registry init DIR`");
    // `main` pushed, HEAD still on master (what a stock server does): name both and the fix.
    let made = env.path("made.git");
    env.run([OsStr::new("registry"), OsStr::new("init"), made.as_os_str()]).success();
    env.git(env.root(), &["--git-dir", made.to_str().unwrap(), "push", "-q", stock.to_str().unwrap(), "main"]);
    env.run([OsStr::new("registry"), OsStr::new("add"), OsStr::new("team"), stock.as_os_str()])
        .fails_with("its HEAD names `master`, which has no commits, but `main` has them")
        .stderr_contains("symbolic-ref HEAD refs/heads/main");
    env.git(env.root(), &["--git-dir", stock.to_str().unwrap(), "symbolic-ref", "HEAD", "refs/heads/main"]);
    env.run([OsStr::new("registry"), OsStr::new("add"), OsStr::new("team"), stock.as_os_str()]).success();
}

#[test]
fn an_ssh_key_the_server_refuses_is_an_authentication_failure() {
    let env = TestEnv::new();
    let root = env.path("srv");
    std::fs::create_dir_all(&root).unwrap();
    env.run([OsStr::new("registry"), OsStr::new("init"), root.join("team.git").as_os_str()]).success();
    let sshd = servers::sshd(&env);
    // The server no longer knows the user's key (libgit2 mode: no git command line).
    std::fs::write(env.path("sshd/authorized_keys"), "").unwrap();
    let url = format!("{}{}", sshd.base_url, root.join("team.git").display());
    env.run(["registry", "add", "team", &url])
        .fails_with(&format!("authentication failed for `{url}`"))
        .stderr_contains("ssh-add");
}

#[test]
fn https_without_any_credentials_is_an_authentication_failure() {
    let env = TestEnv::new();
    let root = env.path("srv");
    std::fs::create_dir_all(&root).unwrap();
    env.run([OsStr::new("registry"), OsStr::new("init"), root.join("team.git").as_os_str()]).success();
    let server = servers::https(&root, &env, "s3cret");
    // No credential helper at all: libgit2 finds nothing to offer the server.
    std::fs::write(env.home.join(".gitconfig"), "").unwrap();
    let url = server.url("team.git");
    env.run(["registry", "add", "team", &url])
        .fails_with(&format!("authentication failed for `{url}`"))
        .stderr_contains("credential helper");
}

#[test]
fn a_user_level_registry_used_in_a_project_is_written_into_its_manifest() {
    let env = TestEnv::new();
    let registry = env.registry("team");
    let file = env.path("helper.md");
    std::fs::write(&file, TestEnv::agent_text("helper", "1")).unwrap();
    env.run([OsStr::new("publish"), file.as_os_str(), OsStr::new("--version"), OsStr::new("1.0.0")]).success();
    env.run(["install", "helper", "--registry", "team"])
        .success()
        .stderr_contains("registry `team` is in your config.toml only");
    let manifest = std::fs::read_to_string(env.project.join("agents.toml")).unwrap();
    assert!(manifest.contains("[registries]"), "{manifest}");
    assert!(manifest.contains(&registry.display().to_string()), "{manifest}");
    // A teammate without the user-level registry resolves it from the project alone.
    let teammate = TestEnv::new();
    std::fs::copy(env.project.join("agents.toml"), teammate.project.join("agents.toml")).unwrap();
    std::fs::copy(env.project.join("agents.lock"), teammate.project.join("agents.lock")).unwrap();
    teammate.run(["install"]).success();
    assert!(teammate.agents_dir().join("helper.md").is_file());
}
