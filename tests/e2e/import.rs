//! `agents import` of existing collections, and `agents new`.

use std::ffi::OsStr;
use std::path::Path;

use agents_test_support::{TestEnv, corpus};

fn import(env: &TestEnv, source: &OsStr) -> serde_json::Value {
    env.run([OsStr::new("import"), source, OsStr::new("--split"), OsStr::new("--json")]).success().json()
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
    // Importing again publishes nothing: every file is unchanged, and none is an error.
    let again = import(&env, corpus.root.as_os_str());
    assert_eq!(again["imported"].as_array().unwrap().len(), 0);
    assert_eq!(again["unchanged"].as_array().unwrap().len(), 158, "{again}");
    // Only the collection's SOURCE.md, which is no agent file, is skipped.
    let skipped: Vec<&str> = again["skipped"].as_array().unwrap().iter().map(|s| s["file"].as_str().unwrap()).collect();
    assert_eq!(skipped, ["SOURCE.md"], "{}", again["skipped"]);
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
    // The scripts ask `agents` itself for each completion (see first_hour's completion test).
    let bash = env.run(["completions", "bash"]).success().stdout();
    assert!(bash.contains("_clap_complete_agents()") && bash.contains("COMPLETE=\"bash\""), "{bash}");
    let fish = env.run(["completions", "fish"]).success().stdout();
    assert!(fish.contains("complete --keep-order --exclusive --command agents"), "{fish}");
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

#[test]
fn a_marketplace_is_read_as_claude_code_reads_it() {
    let env = TestEnv::new();
    env.registry("team");
    let dir = env.path("market");
    write(
        &dir.join(".claude-plugin/marketplace.json"),
        r#"{"name":"m","owner":{"name":"t"},"metadata":{"pluginRoot":"./plugins"},"plugins":[
            {"name":"formatter","source":"formatter"},
            {"name":"loose","source":"./loose","strict":false,"agents":["./roles/planner.md","./more/"]},
            {"name":"gone","source":"./plugins/gone"},
            {"name":"vendored","source":"./vendor/tool"},
            {"name":"other","source":"./other"}]}"#,
    );
    write(&dir.join("plugins/formatter/agents/fmt.md"), &TestEnv::agent_text("fmt", "x"));
    // strict: false: the entry is the definition, the plugin's manifest is not read.
    write(&dir.join("loose/.claude-plugin/plugin.json"), r#"{"name":"loose","agents":["./nowhere/"]}"#);
    write(&dir.join("loose/roles/planner.md"), &TestEnv::agent_text("planner", "x"));
    write(&dir.join("loose/more/builder.md"), &TestEnv::agent_text("builder", "x"));
    std::fs::create_dir_all(dir.join("vendor/tool")).unwrap();
    write(
        &dir.join(".gitmodules"),
        "[submodule \"vendor/tool\"]\n\tpath = vendor/tool\n\turl = https://example.com/tool.git\n",
    );
    // Two plugins with an agent of one name: both reported, neither silently dropped.
    write(&dir.join("other/agents/fmt.md"), &TestEnv::agent_text("fmt", "y"));
    let report = import(&env, dir.as_os_str());
    let mut names: Vec<&str> =
        report["imported"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["builder", "fmt", "planner"], "{report}");
    let reason = |label: &str| -> String {
        report["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["file"] == label)
            .unwrap_or_else(|| panic!("{label} not skipped: {report}"))["reason"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(reason("gone").contains("does not exist"), "{report}");
    assert!(reason("vendored").contains("submodule that is not checked out"), "{report}");
    let duplicate = reason("other/agents/fmt.md");
    assert!(
        duplicate.contains("`formatter:fmt` and `other:fmt`") && duplicate.contains("--plugin other"),
        "{duplicate}"
    );

    // --plugin imports the other one into a second registry.
    env.registry("second");
    let report = env
        .run([
            "import".as_ref(),
            "--split".as_ref(),
            dir.as_os_str(),
            "--plugin".as_ref(),
            "other".as_ref(),
            "--registry".as_ref(),
            "second".as_ref(),
            "--json".as_ref(),
        ])
        .success()
        .json();
    assert_eq!(report["imported"][0]["file"], "other/agents/fmt.md", "{report}");
    assert_eq!(report["imported"].as_array().unwrap().len(), 1, "{report}");
}

#[test]
fn skills_and_commands_are_never_published_as_agents() {
    let env = TestEnv::new();
    env.registry("team");
    let dir = env.path("repo");
    write(&dir.join("agents/reviewer.md"), &TestEnv::agent_text("reviewer", "x"));
    // A skill whose front matter takes the agent's name, and a file of the skill beside it.
    write(&dir.join("skills/reviewer/SKILL.md"), "---\nname: reviewer\ndescription: A skill\n---\nSteps.\n");
    write(&dir.join("skills/reviewer/references/guide.md"), &TestEnv::agent_text("guide", "x"));
    write(&dir.join("commands/ship.md"), "---\nname: ship\ndescription: Ship it\n---\nShip.\n");
    let report = import(&env, dir.as_os_str());
    // The agent is an agent, the command a command; the skill's files are no agents, and the
    // skill itself cannot take a name already published as an agent (one name, one kind).
    let imported: Vec<(String, String)> = report["imported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["file"].as_str().unwrap().to_owned(), i["kind"].as_str().unwrap_or("agent").to_owned()))
        .collect();
    assert_eq!(
        imported,
        [("agents/reviewer.md".to_owned(), "agent".to_owned()), ("commands/ship.md".to_owned(), "command".to_owned())],
        "{report}"
    );
    let skipped = report["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{report}");
    assert_eq!(skipped[0]["file"], "skills/reviewer", "{report}");
    assert!(skipped[0]["reason"].as_str().unwrap().contains("one name, one kind"), "{report}");
}

#[test]
fn a_reimport_publishes_only_changed_files_with_the_bump_chosen() {
    let env = TestEnv::new();
    env.registry("team");
    let dir = env.path("collection");
    for name in ["alpha", "beta", "gamma"] {
        write(&dir.join(format!("{name}.md")), &TestEnv::agent_text(name, "one"));
    }
    assert_eq!(import(&env, dir.as_os_str())["imported"].as_array().unwrap().len(), 3);
    write(&dir.join("beta.md"), &TestEnv::agent_text("beta", "two"));

    // Without --bump the changed file cannot take its published version, and says what to do.
    let report = import(&env, dir.as_os_str());
    assert_eq!(report["imported"].as_array().unwrap().len(), 0, "{report}");
    assert_eq!(report["unchanged"].as_array().unwrap().len(), 2, "{report}");
    assert!(report["skipped"][0]["reason"].as_str().unwrap().contains("--bump patch|minor|major"), "{report}");

    let run = env.run(["import".as_ref(), dir.as_os_str(), "--bump".as_ref(), "minor".as_ref()]).success();
    let stderr = run.stderr();
    assert!(stderr.contains("Changed beta v1.0.0 → v1.1.0"), "{stderr}");
    assert!(stderr.contains("1 agent(s) to registry `team` (1 changed), 2 unchanged, skipped 0"), "{stderr}");
    env.run(["install", "beta@1.1.0"]).success();
    assert!(std::fs::read_to_string(env.agents_dir().join("beta.md")).unwrap().contains("two"));
    // --version on a re-import leaves the unchanged files alone too.
    let report = env
        .run(["import".as_ref(), dir.as_os_str(), "--version".as_ref(), "2.0.0".as_ref(), "--json".as_ref()])
        .success()
        .json();
    assert_eq!(report["imported"].as_array().unwrap().len(), 0, "{report}");
    assert_eq!(report["unchanged"].as_array().unwrap().len(), 3, "{report}");
}

#[test]
fn many_skipped_files_are_one_line_per_reason_with_each_under_verbose() {
    let env = TestEnv::new();
    env.registry("team");
    let dir = env.path("drafts-repo");
    write(&dir.join("agents/keeper.md"), &TestEnv::agent_text("keeper", "x"));
    // Thirty drafts without a description, which Claude Code would not load.
    for index in 0..30 {
        write(&dir.join(format!("drafts/d{index}.md")), &format!("---\nname: d{index}\n---\nSteps.\n"));
    }
    let run = env.run(["import".as_ref(), dir.as_os_str()]).success();
    let stderr = run.stderr();
    let grouped: Vec<&str> = stderr.lines().filter(|l| l.contains("skipped 30 files:")).collect();
    assert_eq!(grouped.len(), 1, "one line per reason, with its count:\n{stderr}");
    assert!(stderr.contains("run with -v (or --json) for each skipped file"), "{stderr}");
    assert!(stderr.lines().count() < 10, "{stderr}");
    let run = env.run(["import".as_ref(), dir.as_os_str(), "-v".as_ref()]).success();
    assert!(run.stderr().contains("skipped drafts/d7.md:"), "{}", run.stderr());
}

/// A marketplace's skills and commands come from the plugins it lists, in its order, as its
/// agents do: not from a directory no plugin names, and only from `--plugin`'s plugin when given.
/// A name an earlier plugin took is refused with the file that took it; a re-import leaves
/// unchanged packages alone and bumps a changed one.
#[test]
fn a_marketplace_imports_the_skills_and_commands_of_the_plugins_it_lists() {
    let env = TestEnv::new();
    env.registry("team");
    let dir = env.path("market");
    write(
        &dir.join(".claude-plugin/marketplace.json"),
        r#"{"name":"m","owner":{"name":"t"},"plugins":[
            {"name":"one","source":"./plugins/one"},
            {"name":"two","source":"./plugins/two"},
            {"name":"loose","source":"./loose","strict":false,"commands":["./extra/hello.md"],"skills":"./kit"}]}"#,
    );
    let skill = |name: &str, body: &str| format!("---\nname: {name}\ndescription: Fill {name} forms\n---\n{body}\n");
    let command = |text: &str| format!("---\ndescription: {text}\n---\n{text} $ARGUMENTS\n");
    write(&dir.join("plugins/one/agents/planner.md"), &TestEnv::agent_text("planner", "x"));
    write(&dir.join("plugins/one/skills/pdf/SKILL.md"), &skill("pdf", "Steps."));
    write(&dir.join("plugins/one/skills/pdf/scripts/run.sh"), "#!/bin/sh\necho run\n");
    write(&dir.join("plugins/one/commands/setup.md"), &command("Set up one"));
    write(&dir.join("plugins/two/commands/setup.md"), &command("Set up two"));
    write(&dir.join("plugins/two/commands/planner.md"), &command("Plan"));
    write(&dir.join("loose/extra/hello.md"), &command("Say hello"));
    write(&dir.join("loose/kit/tool/SKILL.md"), &skill("tool", "Use it."));
    // What is none: a directory of `skills/` without SKILL.md, a subdirectory of `commands/`,
    // a hidden file in a skill. Each is reported, never dropped silently.
    write(&dir.join("plugins/two/skills/notes/ideas.md"), "# ideas\n");
    write(&dir.join("plugins/two/commands/sub/deep.md"), &command("Deep"));
    write(&dir.join("loose/kit/tool/.DS_Store"), "\0\0");
    // No plugin lists these.
    write(&dir.join("unlisted/skills/stray/SKILL.md"), &skill("stray", "Stray."));
    write(&dir.join("unlisted/commands/stray-command.md"), &command("Stray"));

    let report = import(&env, dir.as_os_str());
    let imported: Vec<(&str, &str)> = report["imported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["name"].as_str().unwrap(), i["kind"].as_str().unwrap_or("agent")))
        .collect();
    assert_eq!(
        imported,
        [("planner", "agent"), ("pdf", "skill"), ("setup", "command"), ("tool", "skill"), ("hello", "command")],
        "{report}"
    );
    let reason = |file: &str| {
        let skipped = report["skipped"].as_array().unwrap().iter().find(|s| s["file"] == file);
        skipped.unwrap_or_else(|| panic!("{file} not skipped: {report}"))["reason"].as_str().unwrap().to_owned()
    };
    let setup = reason("plugins/two/commands/setup.md");
    assert!(setup.contains("already taken by plugins/one/commands/setup.md (plugin `one`)"), "{setup}");
    assert!(
        setup.contains("`one:setup` and `two:setup`") && setup.contains("--plugin two --registry OTHER"),
        "{setup}"
    );
    let planner = reason("plugins/two/commands/planner.md");
    assert!(planner.contains("(an agent, plugin `one`; one name, one kind)"), "{planner}");
    assert!(reason("plugins/two/skills/notes").contains("without a SKILL.md"));
    assert!(reason("plugins/two/commands/sub").contains("a subdirectory of `commands/`"));
    assert!(reason("loose/kit/tool/.DS_Store").contains("hidden"));
    assert_eq!(report["skipped"].as_array().unwrap().len(), 5, "{report}");

    // Again, one plugin only: its agent, skill and command are unchanged, nothing else is looked at.
    let one = [
        "import".as_ref(),
        dir.as_os_str(),
        "--split".as_ref(),
        "--plugin".as_ref(),
        "one".as_ref(),
        "--json".as_ref(),
    ];
    let again = env.run(one).success().json();
    assert_eq!(again["imported"], serde_json::json!([]), "{again}");
    assert_eq!(again["skipped"], serde_json::json!([]), "{again}");
    let unchanged: Vec<&str> =
        again["unchanged"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(unchanged, ["planner", "pdf", "setup"], "{again}");

    // A changed skill needs --bump, and takes its latest version bumped.
    write(&dir.join("plugins/one/skills/pdf/SKILL.md"), &skill("pdf", "Better steps."));
    let changed = env.run(one).success().json();
    let why = changed["skipped"][0]["reason"].as_str().unwrap();
    assert!(why.contains("--bump patch|minor|major"), "{changed}");
    let run = env.run([
        "import".as_ref(),
        "--split".as_ref(),
        dir.as_os_str(),
        "--plugin".as_ref(),
        "one".as_ref(),
        "--bump".as_ref(),
        "minor".as_ref(),
    ]);
    run.success().stderr_contains("Changed pdf v1.0.0 → v1.1.0");
    env.run(["init"]).success();
    env.run(["install", "pdf@1.1.0"]).success();
    let installed = std::fs::read_to_string(env.project.join(".claude/skills/pdf/SKILL.md")).unwrap();
    assert!(installed.contains("Better steps."), "{installed}");
}

/// A real marketplace, when `AGENTS_MARKETPLACE` names a checkout of one (its text is never part
/// of this project): every agent, skill and command its plugins hold is imported or refused with
/// a reason, and each imported one installs back byte for byte, run bits included, skills as
/// whole trees.
#[test]
fn a_real_marketplace_imports_and_installs_back_identical() {
    let Some(root) = std::env::var_os("AGENTS_MARKETPLACE").map(std::path::PathBuf::from) else {
        eprintln!("note: AGENTS_MARKETPLACE is not set (a checkout of a plugin marketplace): skipped");
        return;
    };
    use std::os::unix::fs::PermissionsExt as _;
    let root = root.canonicalize().unwrap();
    // What the marketplace holds, counted here independently of `agents`: each listed plugin's
    // default `agents/*.md`, `skills/*/SKILL.md` and `commands/*.md`.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join(".claude-plugin/marketplace.json")).unwrap()).unwrap();
    let mut found: Vec<(String, &str)> = Vec::new();
    let mut skill_files = 0;
    let markdown_in = |dir: &Path| -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
        let mut names: Vec<String> = entries
            .flatten()
            .filter(|e| e.file_type().unwrap().is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".md") && !n.starts_with('.') && !n.eq_ignore_ascii_case("README.md"))
            .collect();
        names.sort();
        names
    };
    for plugin in manifest["plugins"].as_array().unwrap() {
        let Some(source) = plugin["source"].as_str() else { continue };
        let plugin_dir = root.join(source.trim_start_matches("./"));
        let label = |path: &Path| path.strip_prefix(&root).unwrap().display().to_string();
        for name in markdown_in(&plugin_dir.join("agents")) {
            found.push((label(&plugin_dir.join("agents").join(name)), "agent"));
        }
        for name in markdown_in(&plugin_dir.join("commands")) {
            found.push((label(&plugin_dir.join("commands").join(name)), "command"));
        }
        let Ok(skills) = std::fs::read_dir(plugin_dir.join("skills")) else { continue };
        for skill in skills.flatten().map(|e| e.path()).filter(|p| p.join("SKILL.md").is_file()) {
            skill_files += regular_files(&skill).len();
            found.push((label(&skill), "skill"));
        }
    }
    let count = |kind: &str, of: &[(String, &str)]| of.iter().filter(|(_, k)| *k == kind).count();

    let env = TestEnv::new();
    env.registry("market");
    let report = import(&env, root.as_os_str());
    let listed = |key: &str| -> Vec<(String, String, String)> {
        report[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                let kind = i["kind"].as_str().unwrap_or("agent").to_owned();
                (i["file"].as_str().unwrap().to_owned(), kind, i["name"].as_str().unwrap_or_default().to_owned())
            })
            .collect()
    };
    let imported = listed("imported");
    let skipped: Vec<(String, String)> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["file"].as_str().unwrap().to_owned(), s["reason"].as_str().unwrap().to_owned()))
        .collect();
    // Every part is imported or refused with its reason, none dropped silently.
    for (label, kind) in &found {
        let taken = imported.iter().any(|(file, k, _)| file == label && k == kind);
        let refused = skipped.iter().any(|(file, _)| file == label);
        assert!(taken != refused, "{kind} {label}: imported {taken}, refused {refused}");
    }

    env.run(["init"]).success();
    let mut install = env.agents();
    install.args(["install", "--registry", "market"]).args(imported.iter().map(|(_, _, name)| name));
    let output = install.output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let same = |source: &Path, installed: &Path| {
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o100;
        assert!(
            std::fs::read(source).unwrap() == std::fs::read(installed).unwrap() && mode(source) == mode(installed),
            "{} did not install back identical as {}",
            source.display(),
            installed.display()
        );
    };
    let mut identical_files = 0;
    for (file, kind, name) in &imported {
        let source = root.join(file);
        match kind.as_str() {
            "agent" => same(&source, &env.project.join(format!(".claude/agents/{name}.md"))),
            "command" => same(&source, &env.project.join(format!(".claude/commands/{name}.md"))),
            _ => {
                let installed = env.project.join(format!(".claude/skills/{name}"));
                // Hidden entries are never published, and import says so for each.
                let (hidden, files): (Vec<String>, Vec<String>) =
                    regular_files(&source).into_iter().partition(|f| f.split('/').any(|c| c.starts_with('.')));
                for entry in &hidden {
                    let parts: Vec<&str> = entry.split('/').collect();
                    let first = parts.iter().position(|c| c.starts_with('.')).unwrap();
                    let label = format!("{file}/{}", parts[..=first].join("/"));
                    assert!(skipped.iter().any(|(f, _)| *f == label), "{label} left out silently");
                }
                assert_eq!(files, regular_files(&installed), "{file}");
                for relative in &files {
                    same(&source.join(relative), &installed.join(relative));
                }
                identical_files += files.len() - 1;
            }
        }
        identical_files += 1;
    }
    let imported_pairs: Vec<(String, &str)> = imported.iter().map(|(f, k, _)| (f.clone(), k.as_str())).collect();
    eprintln!(
        "marketplace {}: found {} agents, {} skills ({skill_files} files), {} commands; imported and installed \
         identical {} agents, {} skills, {} commands ({identical_files} files); refused {}:",
        root.display(),
        count("agent", &found),
        count("skill", &found),
        count("command", &found),
        count("agent", &imported_pairs),
        count("skill", &imported_pairs),
        count("command", &imported_pairs),
        skipped.len(),
    );
    for (file, reason) in &skipped {
        eprintln!("  {file}: {reason}");
    }
}

/// The regular files under `dir`, relative, sorted (directories left out).
fn regular_files(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).unwrap().flatten() {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            } else {
                files.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    files.sort();
    files
}
