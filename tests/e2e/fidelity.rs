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

#[test]
fn a_skill_is_published_under_its_directory_name_whatever_its_name_field_says() {
    let env = TestEnv::new();
    let remote = env.registry("team");
    let collection = env.path("collection");
    // A display name, as official skills have, and another name than the directory's.
    let display = "---\nname: Agent Development\ndescription: Build agents\n---\nHow to build agents.\n";
    let other = "---\nname: postgresql-table-design\ndescription: Design tables\n---\nHow to design tables.\n";
    write(&collection.join("skills/agent-development/SKILL.md"), display);
    write(&collection.join("skills/postgresql/SKILL.md"), other);
    write(&collection.join("skills/postgresql/references/types.md"), "Types.\n");
    let run = env.run([OsStr::new("import"), collection.as_os_str(), OsStr::new("--json")]).success();
    let report = run.json();
    let mut names: Vec<&str> =
        report["imported"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["agent-development", "postgresql"], "{report}");
    let stderr = run.stderr();
    assert!(
        stderr.contains("skills/agent-development: SKILL.md's `name: Agent Development` is not a skill name")
            && stderr.contains("Claude Code loads a skill by its directory, so it is published as `agent-development`"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "skills/postgresql: SKILL.md's `name: postgresql-table-design` differs from its directory `postgresql`"
        ),
        "{stderr}"
    );
    assert_eq!(report["warnings"].as_array().map(Vec::len), Some(2), "{report}");
    // The registry's own check takes them as published, and they install where Claude Code
    // loads them, byte for byte.
    env.run([OsStr::new("registry"), OsStr::new("check"), remote.as_os_str()]).success();
    env.run(["install", "postgresql", "agent-development"]).success();
    let skills = env.root().join("project/.claude/skills");
    assert_eq!(std::fs::read_to_string(skills.join("postgresql/SKILL.md")).unwrap(), other);
    assert_eq!(std::fs::read_to_string(skills.join("postgresql/references/types.md")).unwrap(), "Types.\n");
    assert_eq!(std::fs::read_to_string(skills.join("agent-development/SKILL.md")).unwrap(), display);

    // `agents publish` of one skill says the same.
    let dir = env.path("own/pdf");
    write(&dir.join("SKILL.md"), "---\nname: pdf-forms\ndescription: Fill forms\n---\nFill.\n");
    env.run([OsStr::new("publish"), dir.as_os_str(), OsStr::new("--version"), OsStr::new("1.0.0")])
        .success()
        .stderr_contains("SKILL.md's `name: pdf-forms` differs from its directory `pdf`")
        .stderr_contains("Published skill pdf v1.0.0");
}

#[test]
fn a_command_that_would_shadow_a_built_in_is_named_at_import_and_install() {
    let env = TestEnv::new();
    env.registry("team");
    let collection = env.path("collection");
    write(&collection.join("commands/help.md"), "---\ndescription: Explain the rules\n---\nExplain.\n");
    write(&collection.join("commands/ship-it.md"), "---\ndescription: Ship\n---\nShip.\n");
    let run = env.run([OsStr::new("import"), collection.as_os_str(), OsStr::new("--json")]).success();
    let report = run.json();
    assert_eq!(report["imported"].as_array().unwrap().len(), 2, "{report}");
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("command `help` has the name of Claude Code's built-in `/help`"), "{report}");
    assert!(!warnings.contains("ship-it"), "{report}");
    assert!(run.stderr().contains("commands/help.md: command `help` has the name"), "{}", run.stderr());

    env.run(["install", "help", "ship-it"])
        .success()
        .stderr_contains("command `help` has the name of Claude Code's built-in `/help`");
    let run = env.run(["install", "ship-it"]).success();
    assert!(!run.stderr().contains("built-in"), "{}", run.stderr());
}
