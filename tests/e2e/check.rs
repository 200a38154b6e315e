//! `agents registry check`: what a registry's CI runs on its protected branch.

use std::ffi::OsStr;
use std::path::Path;

use agents_format::{Sha256, two_level_body_path};
use agents_test_support::{TestEnv, index_path_in, owners_path_in, read_in_remote, rewrite_in_remote};

fn as_user(env: &TestEnv, email: &str) {
    std::fs::write(env.home.join(".gitconfig"), format!("[user]\n\tname = {email}\n\temail = {email}\n")).unwrap();
}

fn check(env: &TestEnv, registry: &Path, since: Option<&str>) -> agents_test_support::Run {
    let mut args = vec![OsStr::new("registry"), OsStr::new("check"), registry.as_os_str()];
    if let Some(since) = since {
        args.extend([OsStr::new("--since"), OsStr::new(since)]);
    }
    env.run(args)
}

fn head(registry: &Path) -> String {
    git2::Repository::open_bare(registry).unwrap().head().unwrap().target().unwrap().to_string()
}

#[test]
fn a_healthy_registry_passes_and_yanks_are_allowed() {
    let env = TestEnv::new();
    let registry = env.registry("team");
    env.publish("alpha", "1.0.0");
    let before = head(&registry);
    env.publish("alpha", "1.1.0");
    env.run(["yank", "alpha@1.0.0"]).success();
    let report = check(&env, &registry, Some(&before)).success().stderr_contains("0 problem(s)");
    assert!(report.stderr().contains("1 agent(s), 2 version(s)"), "{}", report.stderr());
}

#[test]
fn a_tampered_body_and_a_rewritten_record_are_caught() {
    let env = TestEnv::new();
    let registry = env.registry("team");
    env.publish("alpha", "1.0.0");
    let body = two_level_body_path(&Sha256::of(TestEnv::agent_text("alpha", "1.0.0").as_bytes()));
    rewrite_in_remote(&registry, &body, b"---\nname: alpha\ndescription: d\n---\nevil\n");
    check(&env, &registry, None).fails_with("alpha@1.0.0: body does not match its sha256 and length");

    let env = TestEnv::new();
    let registry = env.registry("team");
    env.publish("alpha", "1.0.0");
    let before_rewrite = head(&registry);
    let path = index_path_in(&registry, "alpha");
    let index = String::from_utf8(read_in_remote(&registry, &path).unwrap()).unwrap();
    rewrite_in_remote(&registry, &path, index.replace("\"description\":\"d\"", "\"description\":\"x\"").as_bytes());
    check(&env, &registry, Some(&before_rewrite)).fails_with("alpha@1.0.0 changed since");
}

#[test]
fn only_owners_may_change_an_agent_with_an_owners_list() {
    let alice = TestEnv::new();
    as_user(&alice, "alice@example.com");
    let registry = alice.registry("team");
    alice.publish("guarded", "1.0.0");
    rewrite_in_remote(
        &registry,
        &owners_path_in(&registry, "guarded"),
        br#"{"schema":1,"owners":["alice@example.com"]}"#,
    );
    let protected = head(&registry);

    alice.publish("guarded", "1.1.0");
    check(&alice, &registry, Some(&protected)).success();

    let mallory = TestEnv::new();
    as_user(&mallory, "mallory@example.com");
    mallory.run([OsStr::new("registry"), OsStr::new("add"), OsStr::new("team"), registry.as_os_str()]).success();
    mallory.publish("guarded", "2.0.0");
    check(&mallory, &registry, Some(&protected))
        .fails_with("by <mallory@example.com> changes `guarded`, whose owners are alice@example.com");
    // Agents without an owners list stay open to everyone.
    mallory.publish("open-agent", "1.0.0");
    check(&mallory, &registry, None).success();
}
