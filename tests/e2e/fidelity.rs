//! Import fidelity: what `agents publish` and `agents import` take from a collection is what
//! Claude Code loads. An agent whose front matter Claude Code cannot parse is refused with the
//! fix (or taken under `--allow-unloadable`, with a warning); a skill whose `name` is a display
//! name or another name is published under its directory's name, with a warning; a name another
//! source published is named as such; a command that would shadow a built-in is named.

use std::ffi::OsStr;
use std::path::Path;

use agents_test_support::TestEnv;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// An agent in the shape of several of Anthropic's plugin agents: an unquoted description whose
/// examples start at column 0, which no YAML reading (nor Claude Code's quoting fallback) parses.
fn unloadable(name: &str) -> String {
    format!(
        "---\nname: {name}\ndescription: Use this agent to check things. Examples:\n\n<example>\nContext: the user \
         wrote code\nuser: \"Check it\"\n</example>\nmodel: inherit\n---\nYou check things.\n"
    )
}

#[test]
fn an_agent_claude_code_cannot_parse_is_refused_with_the_fix_unless_allowed() {
    let env = TestEnv::new();
    let remote = env.registry("team");
    let file = env.path("checker.md");
    write(&file, &unloadable("checker"));
    // Lint says what Claude Code does with it, and the fix.
    env.run([OsStr::new("lint"), file.as_os_str()])
        .stderr_contains("does not load this agent from .claude/agents/ at all")
        .stderr_contains("write `description: |`");
    // Publish refuses it, with the fix and the way round.
    env.run([OsStr::new("publish"), file.as_os_str(), OsStr::new("--version"), OsStr::new("1.0.0")])
        .fails_with("write `description: |` and indent each line of the description below it")
        .stderr_contains("--allow-unloadable");
    assert!(
        agents_test_support::read_in_remote(&remote, &agents_test_support::index_path_in(&remote, "checker")).is_none()
    );
    // Taken on request, with a warning.
    env.run([
        OsStr::new("publish"),
        file.as_os_str(),
        OsStr::new("--version"),
        OsStr::new("1.0.0"),
        OsStr::new("--allow-unloadable"),
    ])
    .success()
    .stderr_contains("Claude Code will not load it");

    // Import skips it with the same reason, and takes it under the flag, with a warning.
    let collection = env.path("collection");
    write(&collection.join("agents/other-checker.md"), &unloadable("other-checker"));
    write(&collection.join("agents/fine.md"), &TestEnv::agent_text("fine", "x"));
    let report = env.run([OsStr::new("import"), collection.as_os_str(), OsStr::new("--json")]).success().json();
    let imported: Vec<&str> =
        report["imported"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(imported, ["fine"], "{report}");
    let skipped = report["skipped"].to_string();
    assert!(skipped.contains("other-checker.md") && skipped.contains("does not load this agent"), "{report}");
    let run = env
        .run([OsStr::new("import"), collection.as_os_str(), OsStr::new("--allow-unloadable"), OsStr::new("--json")])
        .success();
    let report = run.json();
    let imported: Vec<&str> =
        report["imported"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(imported, ["other-checker"], "{}", run.stdout());
    assert!(run.stderr().contains("agents/other-checker.md is imported under --allow-unloadable"), "{}", run.stderr());
}
