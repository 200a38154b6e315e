//! Installing from the built-in registry: byte-for-byte, idempotent, never clobbering edits.

use agents_test_support::{TestEnv, seed_path};

#[test]
fn seed_installs_byte_for_byte_from_the_builtin_registry() {
    let env = TestEnv::new();
    env.run(["install", "go-backend-expert"])
        .success()
        .stderr_contains("Installed go-backend-expert v1.0.0 \u{2192} .claude/agents/go-backend-expert.md");
    let installed = std::fs::read(env.agents_dir().join("go-backend-expert.md")).unwrap();
    assert_eq!(installed, std::fs::read(seed_path()).unwrap(), "installed bytes differ from the seed");

    let manifest = std::fs::read_to_string(env.project.join("agents.toml")).unwrap();
    assert!(manifest.contains("go-backend-expert = \"^1.0.0\""), "{manifest}");
    let lockfile = std::fs::read_to_string(env.project.join("agents.lock")).unwrap();
    let sha = agents_format::Sha256::of(&installed).to_hex();
    assert!(lockfile.contains(&format!("sha256 = \"{sha}\"")), "{lockfile}");
    assert!(lockfile.contains("registry = \"builtin\"") && lockfile.contains("version = \"1.0.0\""), "{lockfile}");
    // No cache was needed: the built-in registry is compiled in.
    assert!(!env.home.join(".cache/agents/registries").exists());
}

#[test]
fn reinstalling_changes_nothing() {
    let env = TestEnv::new();
    env.run(["install", "go-backend-expert", "code-reviewer"]).success();
    let file = env.agents_dir().join("go-backend-expert.md");
    let before = (
        std::fs::metadata(&file).unwrap().modified().unwrap(),
        std::fs::read(env.project.join("agents.lock")).unwrap(),
        std::fs::read(env.project.join("agents.toml")).unwrap(),
    );
    std::thread::sleep(std::time::Duration::from_millis(20));
    env.run(["install", "go-backend-expert"]).success().stderr_contains("Unchanged go-backend-expert v1.0.0");
    env.run(["install"]).success();
    let after = (
        std::fs::metadata(&file).unwrap().modified().unwrap(),
        std::fs::read(env.project.join("agents.lock")).unwrap(),
        std::fs::read(env.project.join("agents.toml")).unwrap(),
    );
    assert_eq!(before, after, "a re-install rewrote a file");
}

#[test]
fn install_without_names_restores_what_the_lockfile_pins() {
    let env = TestEnv::new();
    env.run(["install", "test-writer", "docs-writer"]).success();
    std::fs::remove_dir_all(env.project.join(".claude")).unwrap();
    env.run(["list"]).success().stdout_contains("missing");
    env.run(["install", "--frozen"]).success().stderr_contains("Restored test-writer v1.0.0");
    env.run(["verify"]).success().stderr_contains("2 agents match agents.lock");
}

#[test]
fn local_edits_are_kept_unless_forced_and_then_backed_up_outside_the_agents_dir() {
    let env = TestEnv::new();
    env.run(["install", "go-backend-expert"]).success();
    let file = env.agents_dir().join("go-backend-expert.md");
    let mut edited = std::fs::read(&file).unwrap();
    edited.extend_from_slice(b"\nMy team's extra rule.\n");
    std::fs::write(&file, &edited).unwrap();

    env.run(["list"]).success().stdout_contains("modified");
    env.run(["verify"]).fails_with("does not match the checksum");
    // An install that moves no pin keeps the edit: one warning naming how to replace it.
    env.run(["install", "go-backend-expert"]).success().stderr_contains("local edits").stderr_contains("--force");
    assert_eq!(std::fs::read(&file).unwrap(), edited, "the edit was overwritten without --force");

    env.run(["install", "go-backend-expert", "--force"]).success().stderr_contains("Saved your edits");
    assert_eq!(std::fs::read(&file).unwrap(), std::fs::read(seed_path()).unwrap());
    assert_eq!(TestEnv::files_under(&env.agents_dir()), ["go-backend-expert.md"], "backup left in the agents dir");
    let backups = TestEnv::files_under(&env.state_dir().join("backups"));
    let backup = backups.iter().find(|b| b.ends_with(".md.bak")).expect("a backup in the state dir");
    assert_eq!(std::fs::read(env.state_dir().join("backups").join(backup)).unwrap(), edited);
}

#[test]
fn an_unmanaged_file_in_the_way_is_not_overwritten() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.agents_dir()).unwrap();
    std::fs::write(env.agents_dir().join("code-reviewer.md"), "my own reviewer\n").unwrap();
    env.run(["install", "code-reviewer"]).fails_with("not managed by agents");
    assert_eq!(std::fs::read_to_string(env.agents_dir().join("code-reviewer.md")).unwrap(), "my own reviewer\n");
    assert!(!env.project.join("agents.lock").exists(), "a failed install wrote the lockfile");
}

#[test]
fn global_scope_installs_into_the_home() {
    let env = TestEnv::new();
    env.run(["install", "--global", "security-auditor"]).success();
    assert!(env.home.join(".claude/agents/security-auditor.md").is_file());
    assert!(env.home.join(".config/agents/agents.toml").is_file());
    assert!(env.home.join(".config/agents/agents.lock").is_file());
    assert!(!env.project.join("agents.toml").exists(), "--global wrote into the project");
    let listed = env.run(["list", "--global", "--json"]).success().json()["packages"].clone();
    assert_eq!(listed[0]["name"], "security-auditor");
    assert_eq!(listed[0]["status"], "ok");
}

#[test]
fn uninstall_removes_pristine_files_and_keeps_edited_ones() {
    let env = TestEnv::new();
    env.run(["install", "test-writer", "docs-writer"]).success();
    std::fs::write(env.agents_dir().join("docs-writer.md"), "edited\n").unwrap();
    env.run(["uninstall", "test-writer", "docs-writer"]).success().stderr_contains("kept");
    assert!(!env.agents_dir().join("test-writer.md").exists());
    assert_eq!(std::fs::read_to_string(env.agents_dir().join("docs-writer.md")).unwrap(), "edited\n");
    let lockfile = std::fs::read_to_string(env.project.join("agents.lock")).unwrap();
    assert!(!lockfile.contains("test-writer") && !lockfile.contains("docs-writer"), "{lockfile}");
    env.run(["uninstall", "test-writer"]).fails_with("not installed");
}

#[test]
fn list_info_and_search_report_as_json() {
    let env = TestEnv::new();
    env.run(["install", "rust-systems-expert"]).success();
    let list = env.run(["list", "--json"]).success().json()["packages"].clone();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["version"], "1.0.0");
    let info = env.run(["info", "rust-systems-expert", "--json"]).success().json();
    assert_eq!(info["registry"], "builtin");
    assert_eq!(info["installed"], "1.0.0");
    assert_eq!(info["versions"][0]["version"], "1.0.0");
    let hits = env.run(["search", "go backend", "--json"]).success().json()["packages"].clone();
    let names: Vec<&str> = hits.as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["go-backend-expert"]);
}

#[test]
fn init_creates_a_manifest_once() {
    let env = TestEnv::new();
    env.run(["init"]).success().stderr_contains("Created");
    std::fs::write(env.project.join("agents.toml"), "# mine\n[agents]\n").unwrap();
    env.run(["init"]).success().stderr_contains("Exists");
    assert_eq!(std::fs::read_to_string(env.project.join("agents.toml")).unwrap(), "# mine\n[agents]\n");
}

#[test]
fn manifest_edits_keep_comments() {
    let env = TestEnv::new();
    std::fs::write(env.project.join("agents.toml"), "# our agents\n[agents]\n# the reviewer\ncode-reviewer = \"^1\"\n")
        .unwrap();
    env.run(["install"]).success();
    env.run(["install", "test-writer"]).success();
    let manifest = std::fs::read_to_string(env.project.join("agents.toml")).unwrap();
    assert_eq!(manifest, "# our agents\n[agents]\n# the reviewer\ncode-reviewer = \"^1\"\ntest-writer = \"^1.0.0\"\n");
}

/// `update` to a version published with the very same bytes moves the pin and says so, instead
/// of "everything is at the newest version" beside a lockfile that changed.
#[test]
fn an_update_to_a_version_with_the_same_bytes_says_it_moved_the_pin() {
    let env = TestEnv::new();
    env.registry("team");
    let file = env.path("same.md");
    std::fs::write(&file, TestEnv::agent_text("same", "1")).unwrap();
    let publish = |version: &str| {
        env.run([std::ffi::OsStr::new("publish"), file.as_os_str(), "--version".as_ref(), version.as_ref()]).success();
    };
    publish("1.0.0");
    env.run(["install", "same"]).success();
    publish("1.0.1");
    env.run(["update", "--dry-run"])
        .success()
        .stderr_contains("Would update same 1.0.0 \u{2192} v1.0.1 (the same bytes)");
    let updated = env.run(["update"]).success().stderr_contains("Updated same 1.0.0 \u{2192} v1.0.1 (the same bytes)");
    assert!(!updated.stderr().contains("everything is at the newest"), "{}", updated.stderr());
    assert!(std::fs::read_to_string(env.project.join("agents.lock")).unwrap().contains("version = \"1.0.1\""));
    env.run(["update"]).success().stderr_contains("everything is at the newest version");
}
