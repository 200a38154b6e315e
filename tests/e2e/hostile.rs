//! Hostile inputs: hidden Unicode, symlinks that lead out of the workspace, index records with
//! absurd lengths or foreign names, a config.json that is not what it claims. Each gets a clear
//! error or warning, and nothing is written outside the target.

use std::ffi::OsStr;

use agents_format::{Sha256, two_level_body_path};
use agents_test_support::{TestEnv, index_path_in, read_in_remote, reliability, rewrite_in_remote};

const SNEAKY: &str = "---\nname: sneaky\ndescription: d\n---\nBe helpful.\u{200B}\u{E0049}\u{E0047}\u{202E}\n";

#[test]
fn hidden_unicode_is_reported_at_publish_and_install_and_refused_by_policy() {
    let env = TestEnv::new();
    env.registry("team");
    let file = env.path("sneaky.md");
    std::fs::write(&file, SNEAKY).unwrap();
    let publish = |extra: &[&str]| {
        let mut args = vec![OsStr::new("publish"), file.as_os_str(), OsStr::new("--version")];
        args.extend(extra.iter().map(OsStr::new));
        env.run(args)
    };
    publish(&["2.0.0", "--deny-hidden-unicode"]).fails_with("hidden Unicode");
    publish(&["1.0.0"]).success().stderr_contains("hidden zero-width character U+200B");

    env.run(["install", "sneaky", "--deny-hidden-unicode"]).fails_with("sneaky@1.0.0 contains hidden Unicode");
    assert!(!env.agents_dir().join("sneaky.md").exists());
    env.run(["install", "sneaky"]).success().stderr_contains("warning: sneaky@1.0.0 contains hidden Unicode");
    env.run(["uninstall", "sneaky"]).success();

    // The user's policy says deny: both refuse without a flag.
    let config = env.home.join(".config/agents/config.toml");
    let text = std::fs::read_to_string(&config).unwrap() + "\n[security]\nhidden-unicode = \"deny\"\n";
    std::fs::write(&config, text).unwrap();
    env.run(["install", "sneaky"]).fails_with("refused by policy");
    publish(&["3.0.0"]).fails_with("hidden Unicode");
    assert!(!env.agents_dir().join("sneaky.md").exists());
    reliability::record("hostile-hidden-unicode", 6);
}

#[cfg(unix)]
#[test]
fn symlinks_never_lead_writes_out_of_the_workspace() {
    let env = TestEnv::new();
    let elsewhere = env.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::create_dir_all(env.project.join(".claude")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, env.agents_dir()).unwrap();
    env.run(["install", "code-reviewer"]).fails_with("outside");
    assert!(TestEnv::files_under(&elsewhere).is_empty(), "wrote through a symlinked agents directory");
    assert!(!env.project.join("agents.lock").exists());

    // A symlink where an agent file goes is in the way, and with --force it is replaced, never
    // followed: the file it points at is untouched.
    std::fs::remove_file(env.agents_dir()).unwrap();
    std::fs::create_dir_all(env.agents_dir()).unwrap();
    let target = elsewhere.join("precious.md");
    std::fs::write(&target, "precious\n").unwrap();
    std::os::unix::fs::symlink(&target, env.agents_dir().join("code-reviewer.md")).unwrap();
    env.run(["install", "code-reviewer"]).fails_with("not managed by agents");
    env.run(["install", "code-reviewer", "--force"]).success();
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
    let installed = env.agents_dir().join("code-reviewer.md");
    assert!(!std::fs::symlink_metadata(&installed).unwrap().file_type().is_symlink());
    reliability::record("hostile-symlinks", 3);
}

#[test]
fn index_records_with_absurd_lengths_or_foreign_names_are_refused() {
    let env = TestEnv::new();
    let remote = env.registry("team");
    env.publish("alpha", "1.0.0");
    let path = &index_path_in(&remote, "alpha");
    let line = String::from_utf8(read_in_remote(&remote, path).unwrap()).unwrap();
    let sha = Sha256::of(TestEnv::agent_text("alpha", "1.0.0").as_bytes());
    assert!(read_in_remote(&remote, &two_level_body_path(&sha)).is_some());
    let length = TestEnv::agent_text("alpha", "1.0.0").len();
    let cases = [
        (
            line.replace(&format!("\"length\":{length}"), "\"length\":1000000000000000"),
            "alpha@1.0.0 from registry `team` is 1000000000000000 bytes, over the limit",
        ),
        (line.replace(&format!("\"length\":{length}"), "\"length\":-5"), "no version of `alpha`"),
        (line.replace("\"name\":\"alpha\"", "\"name\":\"../../etc/passwd\""), "no version of `alpha`"),
        (line.replace("\"name\":\"alpha\"", "\"name\":\"beta\""), "no version of `alpha`"),
    ];
    for (tampered, error) in &cases {
        // A fresh user each time: these are registries seen for the first time, not rewrites.
        let victim = TestEnv::new();
        rewrite_in_remote(&remote, path, tampered.as_bytes());
        victim.run([OsStr::new("registry"), OsStr::new("add"), OsStr::new("team"), remote.as_os_str()]).success();
        victim.run(["install", "alpha"]).fails_with(error);
        assert!(!victim.agents_dir().exists(), "something was written for {tampered}");
    }
    // A config.json whose id tries to be a path is not a registry.
    rewrite_in_remote(&remote, "config.json", b"{\"schema\":1,\"id\":\"../../outside\"}\n");
    let victim = TestEnv::new();
    victim
        .run([OsStr::new("registry"), OsStr::new("add"), OsStr::new("team"), remote.as_os_str()])
        .fails_with("invalid registry id");
    reliability::record("hostile-index", cases.len() + 1);
}

#[test]
fn every_fuzz_regression_is_counted_in_the_reliability_table() {
    // The inputs themselves are replayed by agents-format's own tests; this keeps the table true.
    let root = agents_test_support::repo_root().join("crates/agents-format/fuzz/regressions");
    let count = std::fs::read_dir(&root)
        .unwrap()
        .map(|target| std::fs::read_dir(target.unwrap().path()).unwrap().count())
        .sum::<usize>();
    reliability::record("fuzz-regressions", count);
}
