//! The wording of every error family, as a user reads it (stderr: the error, its causes, the
//! hint), kept as snapshots in `tests/e2e/snapshots/`, so a change of wording shows in review as a
//! diff of what users see. Paths under the test's temporary directory read `[TMP]`, loopback
//! ports `[PORT]`, and long hexadecimal runs (checksums) `[HEX]`.
//!
//! A changed message fails here with the difference; `INSTA_UPDATE=always cargo test -p tests
//! --test e2e error_wording` rewrites the snapshots, to be reviewed like any other change.

use std::ffi::OsStr;

use agents_test_support::TestEnv;

/// `run`'s stderr with what changes from run to run replaced.
fn normalized(env: &TestEnv, stderr: &str) -> String {
    let root = env.root().to_string_lossy().into_owned();
    let mut text = stderr.replace(&root, "[TMP]");
    // `127.0.0.1:43123` → `127.0.0.1:[PORT]`.
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("127.0.0.1:") {
        out.push_str(&rest[..at + "127.0.0.1:".len()]);
        rest = &rest[at + "127.0.0.1:".len()..];
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 {
            out.push_str("[PORT]");
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    text = out;
    // Registry ids (`r-…`) and long hex runs (checksums).
    text.split_inclusive(|c: char| !c.is_ascii_alphanumeric() && c != '-')
        .map(|word| {
            let (body, end) =
                word.split_at(word.trim_end_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-').len());
            if body.len() >= 16 && body.chars().all(|c| c.is_ascii_hexdigit()) {
                format!("[HEX]{end}")
            } else {
                word.to_owned()
            }
        })
        .collect()
}

fn failing<I, S>(env: &TestEnv, args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let run = env.run(args);
    assert_eq!(run.code(), Some(1), "{}", run.stderr());
    normalized(env, &run.stderr())
}

fn user_registry(env: &TestEnv, name: &str, url: &str) {
    let config = env.home.join(".config/agents");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("config.toml"), format!("[registries.{name}]\nurl = \"{url}\"\n")).unwrap();
}

#[test]
fn names() {
    let env = TestEnv::new();
    insta::assert_snapshot!("unknown_name_with_suggestion", failing(&env, ["install", "go-backend-exprt"]));
    insta::assert_snapshot!("uppercase_name", failing(&env, ["install", "Go-Backend-Expert"]));
    insta::assert_snapshot!("no_matching_version", failing(&env, ["install", "go-backend-expert@^9"]));
    insta::assert_snapshot!("unknown_registry", failing(&env, ["install", "docs-writer", "--registry", "nope"]));
    env.run(["install", "docs-writer"]).success();
    insta::assert_snapshot!("not_installed", failing(&env, ["uninstall", "test-writer"]));
}

#[test]
fn project_files() {
    let env = TestEnv::new();
    let outside = env.path("no-project");
    std::fs::create_dir_all(&outside).unwrap();
    let mut command = env.agents();
    let output = command.current_dir(&outside).args(["install", "docs-writer"]).output().unwrap();
    insta::assert_snapshot!("no_project", normalized(&env, &String::from_utf8_lossy(&output.stderr)));

    std::fs::write(env.project.join("agents.toml"), "[agents\nbroken").unwrap();
    insta::assert_snapshot!("invalid_manifest", failing(&env, ["list"]));
    std::fs::remove_file(env.project.join("agents.toml")).unwrap();

    env.run(["install", "docs-writer"]).success();
    let lock = std::fs::read_to_string(env.project.join("agents.lock")).unwrap();
    std::fs::write(env.project.join("agents.lock"), lock.replace("version = 1\n", "version = 99\n")).unwrap();
    insta::assert_snapshot!("lockfile_from_a_newer_agents", failing(&env, ["sync"]));
    std::fs::write(env.project.join("agents.lock"), &lock).unwrap();

    insta::assert_snapshot!("locked_would_change", failing(&env, ["install", "test-writer", "--locked"]));
}

/// Kept edits are warnings, not errors (the command succeeds): their wording is kept too.
#[test]
fn local_edits() {
    let env = TestEnv::new();
    env.run(["install", "docs-writer"]).success();
    let file = env.agents_dir().join("docs-writer.md");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("\nmine\n");
    std::fs::write(&file, text).unwrap();
    let kept = env.run(["uninstall", "docs-writer"]).success();
    insta::assert_snapshot!("uninstall_keeps_local_edits", normalized(&env, &kept.stderr()));
}

#[test]
fn registries() {
    let env = TestEnv::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    user_registry(&env, "vpn", &format!("sparse+http://127.0.0.1:{port}/"));
    insta::assert_snapshot!("found_where_another_was_unreachable", failing(&env, ["install", "docs-writer"]));
    insta::assert_snapshot!("not_found_and_unreachable", failing(&env, ["install", "no-such-agent"]));

    let env = TestEnv::new();
    let registry = env.registry("team");
    env.publish("alpha", "1.0.0");
    let file = env.path("alpha-again.md");
    std::fs::write(&file, TestEnv::agent_text("alpha", "1.0.0").replace("alpha 1.0.0", "other")).unwrap();
    insta::assert_snapshot!(
        "version_exists",
        failing(&env, [OsStr::new("publish"), file.as_os_str(), OsStr::new("--version"), OsStr::new("1.0.0")])
    );
    insta::assert_snapshot!("yank_unknown_version", failing(&env, ["yank", "alpha@9.9.9"]));

    // The project and the user give one registry name two URLs.
    let manifest = env.project.join("agents.toml");
    let mut text = std::fs::read_to_string(&manifest).unwrap_or_default();
    text.push_str(&format!("\n[registries.team]\nurl = \"{}-elsewhere\"\n", registry.display()));
    std::fs::write(&manifest, text).unwrap();
    insta::assert_snapshot!("registry_name_clash", failing(&env, ["install", "alpha"]));
}

#[test]
fn dependencies() {
    let env = TestEnv::new();
    env.registry("team");
    let publish = |name: &str, version: &str, requires: &[&str]| {
        let file = env.path(&format!("{name}-{version}.md"));
        std::fs::write(&file, TestEnv::agent_text(name, version)).unwrap();
        let mut args = vec!["publish".to_owned(), file.display().to_string(), "--version".into(), version.into()];
        for requirement in requires {
            args.extend(["--requires".to_owned(), (*requirement).to_owned()]);
        }
        env.run(&args).success();
    };
    publish("test-writer", "1.0.0", &[]);
    publish("test-writer", "2.0.0", &[]);
    publish("reviewer", "2.0.0", &["test-writer@^2"]);
    let bundle = ["publish", "--bundle", "acme-backend", "--version", "1.3.0", "--description", "Backend set"];
    env.run([&bundle[..], &["--requires", "reviewer@^2", "--requires", "test-writer@^1"]].concat()).success();
    insta::assert_snapshot!("conflicting_requirements", failing(&env, ["install", "acme-backend"]));
    let file = env.path("x.md");
    std::fs::write(&file, TestEnv::agent_text("x", "1.0.0")).unwrap();
    let publish_x = |requires: &str| {
        let version = [OsStr::new("--version"), OsStr::new("1.0.0")];
        failing(
            &env,
            [
                &[OsStr::new("publish"), file.as_os_str()][..],
                &version,
                &[OsStr::new("--requires"), OsStr::new(requires)],
            ]
            .concat(),
        )
    };
    insta::assert_snapshot!("requirement_not_semver", publish_x("test-writer@banana"));
    insta::assert_snapshot!("requirement_on_itself", publish_x("x@^1"));
}
