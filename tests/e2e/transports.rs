//! Every transport against a real server on loopback, through libgit2 and through the git
//! command line: add a registry, publish, install, publish again, update, yank.

use std::ffi::OsStr;
use std::path::PathBuf;

use agents_test_support::{TestEnv, servers};

/// A registry `team.git` under a served root.
fn served_registry(env: &TestEnv) -> PathBuf {
    let root = env.path("srv");
    std::fs::create_dir_all(&root).unwrap();
    let path = root.join("team.git");
    env.run([OsStr::new("registry"), OsStr::new("init"), path.as_os_str()]).success();
    root
}

fn publish(env: &TestEnv, version: &str) {
    let file = env.path(&format!("remote-{version}.md"));
    std::fs::write(&file, format!("---\nname: remote-agent\ndescription: d\n---\nversion {version}\n")).unwrap();
    env.run([OsStr::new("publish"), file.as_os_str(), OsStr::new("--version"), OsStr::new(version)])
        .success()
        .stderr_contains(&format!("Published remote-agent v{version}"));
}

fn exercise(env: &TestEnv, url: &str, git_cli: bool) {
    if git_cli {
        env.set_env("AGENTS_NET_GIT_FETCH_WITH_CLI", "true");
    }
    let added = env.run(["registry", "add", "team", url]).success();
    // Piped output gets no progress bar.
    assert!(!added.stderr().contains('\r') && !added.stderr().contains("Fetching"), "{}", added.stderr());
    publish(env, "1.0.0");
    env.run(["install", "remote-agent"]).success().stderr_contains("Installed remote-agent v1.0.0");
    publish(env, "1.1.0");
    env.run(["update"]).success().stderr_contains("Updated remote-agent 1.0.0 \u{2192} v1.1.0");
    assert_eq!(
        std::fs::read_to_string(env.agents_dir().join("remote-agent.md")).unwrap(),
        "---\nname: remote-agent\ndescription: d\n---\nversion 1.1.0\n"
    );
    env.run(["yank", "remote-agent@1.1.0"]).success();
    let info = env.run(["info", "remote-agent", "--json"]).success().json();
    assert_eq!(info["versions"][0]["yanked"], true);
    // Nothing secret reaches the files people commit.
    for file in ["agents.toml", "agents.lock"] {
        let text = std::fs::read_to_string(env.project.join(file)).unwrap();
        assert!(!text.contains("s3cret"), "{file} holds a credential:\n{text}");
    }
}

#[test]
fn file_urls_with_libgit2_and_git() {
    for git_cli in [false, true] {
        let env = TestEnv::new();
        let root = served_registry(&env);
        exercise(&env, &format!("file://{}", root.join("team.git").display()), git_cli);
    }
}

#[test]
fn git_daemon_with_libgit2_and_git() {
    for git_cli in [false, true] {
        let env = TestEnv::new();
        let root = served_registry(&env);
        let daemon = servers::git_daemon(&root);
        exercise(&env, &daemon.url("team.git"), git_cli);
    }
}

#[test]
fn ssh_with_a_key_file_through_libgit2_and_git() {
    for git_cli in [false, true] {
        let env = TestEnv::new();
        let root = served_registry(&env);
        let sshd = servers::sshd(&env);
        let url = format!("{}{}", sshd.base_url, root.join("team.git").display());
        exercise(&env, &url, git_cli);
    }
}

#[test]
fn https_with_a_credential_helper_through_libgit2_and_git() {
    for git_cli in [false, true] {
        let env = TestEnv::new();
        let root = served_registry(&env);
        let server = servers::https(&root, &env, "s3cret");
        exercise(&env, &server.url("team.git"), git_cli);
    }
}

/// A directory of CA certificates under OpenSSL's hash names, holding `certificate`.
fn hashed_ca_dir(env: &TestEnv, name: &str, certificate: &std::path::Path) -> PathBuf {
    let dir = env.path(name);
    std::fs::create_dir_all(&dir).unwrap();
    let output = std::process::Command::new("openssl")
        .args(["x509", "-hash", "-noout", "-in"])
        .arg(certificate)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let hash = String::from_utf8(output.stdout).unwrap();
    std::fs::copy(certificate, dir.join(format!("{}.0", hash.trim()))).unwrap();
    dir
}

#[test]
fn https_certificates_read_lazily_from_a_hashed_directory_are_still_checked() {
    // No CA bundle named, the CAs in a hashed directory (how Debian and most distributions ship
    // them): agents leaves the bundle out at start-up and OpenSSL reads the one certificate a
    // connection needs from the directory. The server's certificate is accepted because the
    // directory holds it, and refused when it does not.
    let env = TestEnv::new();
    let root = served_registry(&env);
    let server = servers::https(&root, &env, "s3cret");
    let trusted = hashed_ca_dir(&env, "ca-trusted", &env.path("https/cert.pem"));
    env.remove_env("SSL_CERT_FILE");
    env.set_env("SSL_CERT_DIR", &trusted);
    exercise(&env, &server.url("team.git"), false);

    let stranger = env.path("stranger");
    std::fs::create_dir_all(&stranger).unwrap();
    let made = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=stranger", "-keyout"])
        .arg(stranger.join("key.pem"))
        .arg("-out")
        .arg(stranger.join("cert.pem"))
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let untrusted = hashed_ca_dir(&env, "ca-untrusted", &stranger.join("cert.pem"));
    env.set_env("SSL_CERT_DIR", &untrusted);
    let other = env.checkout("other-project");
    let mut command = env.agents();
    command.current_dir(&other).env("XDG_CACHE_HOME", env.path("fresh-cache")).args([
        "registry",
        "add",
        "elsewhere",
        &server.url("team.git"),
    ]);
    let refused = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("certificate"), "{stderr}");
}

#[test]
fn an_authentication_failure_names_the_url_and_what_to_try() {
    for git_cli in [false, true] {
        let env = TestEnv::new();
        let root = served_registry(&env);
        let server = servers::https(&root, &env, "wrong-password");
        if git_cli {
            env.set_env("AGENTS_NET_GIT_FETCH_WITH_CLI", "true");
        }
        let url = server.url("team.git");
        env.run(["registry", "add", "team", &url])
            .fails_with(&format!("authentication failed for `{url}`"))
            .stderr_contains("credential helper")
            .stderr_contains("git-fetch-with-cli");
    }
}

#[test]
fn an_unknown_ssh_host_key_is_refused() {
    let env = TestEnv::new();
    let root = served_registry(&env);
    let sshd = servers::sshd(&env);
    std::fs::write(env.home.join(".ssh/known_hosts"), "").unwrap();
    let url = format!("{}{}", sshd.base_url, root.join("team.git").display());
    let run = env.run(["registry", "add", "team", &url]);
    let run = run.fails_with("host key").stderr_contains("known_hosts");
    assert!(run.stderr().contains(&url), "{}", run.stderr());
    assert!(!env.home.join(".config/agents/config.toml").exists(), "a refused registry was added");
}

#[test]
fn a_url_with_a_password_is_never_written_to_config() {
    let env = TestEnv::new();
    env.run(["registry", "add", "team", "https://agent:s3cret@127.0.0.1:9/git/team.git"]).fails_with("password");
    assert!(!env.home.join(".config/agents/config.toml").exists());
}
