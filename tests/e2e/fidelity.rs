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

/// A collection in a git repository whose `origin` is `url` (never fetched: only its name counts).
fn collection_at(env: &TestEnv, dir: &str, url: &str, reviewer_body: &str) -> std::path::PathBuf {
    let root = env.path(dir);
    write(&root.join("agents/reviewer.md"), &format!("---\nname: reviewer\ndescription: d\n---\n{reviewer_body}\n"));
    write(&root.join("commands/deploy.md"), &format!("---\ndescription: Deploy\n---\n{reviewer_body}\n"));
    env.git(&root, &["init", "-q"]);
    env.git(&root, &["remote", "add", "origin", url]);
    root
}

fn import_json(env: &TestEnv, root: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![OsStr::new("import"), root.as_os_str(), OsStr::new("--json")];
    args.extend(extra.iter().map(OsStr::new));
    env.run(args).success().json()
}

fn names(report: &serde_json::Value, key: &str) -> Vec<String> {
    let mut names: Vec<String> =
        report[key].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_owned()).collect();
    names.sort();
    names
}

#[test]
fn a_name_another_collection_published_is_named_as_such_and_never_replaced() {
    let env = TestEnv::new();
    let remote = env.registry("team");
    let first = collection_at(&env, "team-a", "https://user:secret@example.com/team-a/agents.git", "first");
    assert_eq!(names(&import_json(&env, &first, &[]), "imported"), ["deploy", "reviewer"]);
    // The record says where it came from, without the credentials.
    let index = agents_test_support::index_path_in(&remote, "reviewer");
    let line = String::from_utf8(agents_test_support::read_in_remote(&remote, &index).unwrap()).unwrap();
    assert!(line.contains(r#""source":{"collection":"example.com/team-a/agents"}"#), "{line}");
    assert!(!line.contains("secret"), "{line}");

    // Another collection with the same names: said so, and left alone, under --bump too.
    let second = collection_at(&env, "team-b", "git@example.com:team-b/agents.git", "second");
    for extra in [&[][..], &["--bump", "patch"][..]] {
        let report = import_json(&env, &second, extra);
        assert!(names(&report, "imported").is_empty(), "{report}");
        let skipped = report["skipped"].to_string();
        for name in ["reviewer", "deploy"] {
            assert!(
                skipped.contains(&format!(
                    "`{name}` in registry `team` is another collection's: v1.0.0 was imported from \
                     example.com/team-a/agents, and this is example.com/team-b/agents"
                )),
                "{report}"
            );
        }
        assert!(!skipped.contains("pass --bump"), "{report}");
    }
    let after = String::from_utf8(agents_test_support::read_in_remote(&remote, &index).unwrap()).unwrap();
    assert_eq!(after, line, "another collection's import changed the index");

    // The same collection, another spelling of its URL, changed: the usual --bump advice, and
    // --bump publishes.
    write(&first.join("agents/reviewer.md"), "---\nname: reviewer\ndescription: d\n---\nfirst, changed\n");
    env.git(&first, &["remote", "set-url", "origin", "ssh://git@example.com/team-a/agents"]);
    let report = import_json(&env, &first, &[]);
    assert!(report["skipped"].to_string().contains("changed since v1.0.0 was published (latest v1.0.0): pass --bump"));
    assert!(!report["skipped"].to_string().contains("another collection"), "{report}");
    assert_eq!(names(&import_json(&env, &first, &["--bump", "patch"]), "imported"), ["reviewer"]);
}

#[test]
fn a_name_whose_record_says_nothing_of_its_source_is_said_to_be_unknown() {
    let env = TestEnv::new();
    env.registry("team");
    // Published by hand: the record names no collection.
    let file = env.path("reviewer.md");
    write(&file, "---\nname: reviewer\ndescription: d\n---\nby hand\n");
    env.run([OsStr::new("publish"), file.as_os_str(), OsStr::new("--version"), OsStr::new("1.0.0")]).success();
    let root = collection_at(&env, "team-a", "https://example.com/team-a/agents", "imported");
    let report = import_json(&env, &root, &[]);
    let skipped = report["skipped"].to_string();
    assert!(
        skipped.contains(
            "pass --bump patch|minor|major to publish the changed files as new versions, if it is this \
                          collection's; `reviewer` v1.0.0 in registry `team` records no source"
        ),
        "{report}"
    );
    assert!(skipped.contains("if it is another's, import this collection into another registry"), "{report}");
    let run = env.run([OsStr::new("import"), root.as_os_str(), OsStr::new("--bump"), OsStr::new("patch")]).success();
    assert!(
        run.stderr().contains(
            "records no source (published with `agents publish`, or by an older agents), so \
                                   whether it is this collection's cannot be told: taken for this one's"
        ),
        "{}",
        run.stderr()
    );
}
