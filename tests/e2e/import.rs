//! `agents import` of existing collections, and `agents new`.

use std::ffi::OsStr;
use std::path::Path;

use agents_test_support::{TestEnv, corpus};

fn import(env: &TestEnv, source: &OsStr) -> serde_json::Value {
    env.run([OsStr::new("import"), source, OsStr::new("--json")]).success().json()
}

#[test]
fn the_whole_corpus_imports_in_one_commit_and_installs_back_byte_identical() {
    let Some(corpus) = corpus() else { return };
    let env = TestEnv::new();
    let remote = env.registry("corpus");
    let report = import(&env, corpus.root.as_os_str());
    let imported = report["imported"].as_array().unwrap();
    assert_eq!(imported.len(), 158, "skipped: {}", report["skipped"]);
    // One commit for the whole import, on top of the registry's first.
    let repository = git2::Repository::open_bare(&remote).unwrap();
    let head = repository.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(head.parent_count(), 1);
    assert_eq!(head.parent(0).unwrap().parent_count(), 0);

    let names: Vec<&str> = imported.iter().map(|i| i["name"].as_str().unwrap()).collect();
    let mut install = env.agents();
    install.args(["install", "--registry", "corpus"]).args(&names);
    assert!(install.output().unwrap().status.success());
    for file in &corpus.files {
        let name = agents_format::AgentFile::parse(&std::fs::read(file).unwrap()).unwrap().name;
        let installed = std::fs::read(env.agents_dir().join(name.file_name())).unwrap();
        assert!(installed == std::fs::read(file).unwrap(), "{} did not round-trip", file.display());
    }
    // Importing again publishes nothing and says why.
    let again = import(&env, corpus.root.as_os_str());
    assert_eq!(again["imported"].as_array().unwrap().len(), 0);
    let already = again["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["reason"].as_str().unwrap().contains("already published"))
        .count();
    assert_eq!(already, 158, "{}", again["skipped"]);
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A plugin marketplace: two plugins with agents, one remote plugin, one that tries to escape,
/// a duplicate name, an invalid file.
fn marketplace(dir: &Path) {
    write(
        &dir.join(".claude-plugin/marketplace.json"),
        r#"{"name":"team-market","owner":{"name":"t"},"plugins":[
            {"name":"reviewers","source":"./plugins/reviewers"},
            {"name":"writers","source":"./plugins/writers"},
            {"name":"remote","source":{"source":"github","repo":"someone/else"}},
            {"name":"escape","source":"../../etc"}]}"#,
    );
    write(&dir.join("plugins/reviewers/agents/strict-reviewer.md"), &TestEnv::agent_text("strict-reviewer", "x"));
    write(&dir.join("plugins/reviewers/agents/not-an-agent.md"), "# just notes\n");
    write(&dir.join("plugins/writers/.claude-plugin/plugin.json"), r#"{"name":"writers","agents":["./custom/"]}"#);
    write(&dir.join("plugins/writers/custom/prose-writer.md"), &TestEnv::agent_text("prose-writer", "x"));
    write(&dir.join("plugins/writers/custom/strict-reviewer-copy.md"), &TestEnv::agent_text("strict-reviewer", "y"));
    write(&dir.join("plugins/writers/agents/ignored.md"), &TestEnv::agent_text("ignored", "x"));
    write(&dir.join("README.md"), "# Team marketplace\n");
}

#[test]
fn a_plugin_marketplace_imports_what_it_lists_and_reports_the_rest() {
    let env = TestEnv::new();
    env.registry("team");
    let dir = env.path("market");
    marketplace(&dir);
    let report = import(&env, dir.as_os_str());
    let mut names: Vec<&str> =
        report["imported"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["prose-writer", "strict-reviewer"], "{report}");
    let reasons = report["skipped"].to_string();
    for expected in
        ["not a path in this repository", "leaves the repository", "not a valid agent file", "already taken by"]
    {
        assert!(reasons.contains(expected), "{expected:?} missing from {reasons}");
    }
    env.run(["install", "prose-writer"]).success().stderr_contains("prose-writer v1.0.0");
}

#[test]
fn a_collection_imports_from_a_git_url() {
    let env = TestEnv::new();
    env.registry("team");
    let dir = env.path("market");
    marketplace(&dir);
    env.git(&dir, &["init", "-q"]);
    env.git(&dir, &["add", "."]);
    env.git(&dir, &["commit", "-q", "-m", "agents"]);
    let url = format!("file://{}", dir.display());
    let report = import(&env, OsStr::new(&url));
    assert_eq!(report["imported"].as_array().unwrap().len(), 2, "{report}");
    env.run(["import", "file:///nowhere/at/all.git"]).fails_with("could not clone");
}

#[test]
fn new_scaffolds_a_clean_agent_and_never_overwrites() {
    let env = TestEnv::new();
    env.run(["new", "api-helper", "--description", "Use for API design: REST, gRPC.", "--model", "sonnet"])
        .success()
        .stderr_contains("Created api-helper.md");
    let report = env.run(["lint", "--json", "api-helper.md"]).success().json();
    assert_eq!(report[0]["warnings"], serde_json::json!([]), "{report}");
    assert_eq!(report[0]["name"], "api-helper");
    env.run(["new", "api-helper"]).fails_with("never overwrites");
    env.run(["new", "bad/name"]).fails_with("path separator");
    env.run(["new", "x", "--model", "gpt"]).fails_with("unknown model");
}

#[test]
fn completions_man_page_and_doctor() {
    let env = TestEnv::new();
    let bash = env.run(["completions", "bash"]).success().stdout();
    assert!(bash.contains("_agents()") && bash.contains("install") && bash.contains("daemon"), "{bash}");
    let fish = env.run(["completions", "fish"]).success().stdout();
    assert!(fish.contains("complete -c agents"), "{fish}");
    let man = env.run(["man"]).success().stdout();
    assert!(man.contains(".TH agents") && man.contains("install"), "{man}");

    let report = env.run(["doctor", "--json"]).success().json();
    let names: Vec<&str> = report["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    for expected in ["git", "credentials", "registry `builtin`", "daemon", "agents directory"] {
        assert!(names.contains(&expected), "{expected} missing: {names:?}");
    }
    // A registry that vanished is a failed check, and doctor says which.
    let registry = env.registry("team");
    std::fs::remove_dir_all(env.home.join(".cache/agents")).unwrap();
    std::fs::remove_dir_all(&registry).unwrap();
    let run = env.run(["doctor"]);
    assert_eq!(run.code(), Some(1), "{}", run.stdout());
    assert!(run.stdout().contains("✗ registry `team`"), "{}", run.stdout());
}
