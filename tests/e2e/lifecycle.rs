//! Versions over time: update, outdated, yank and the lockfile's promises.

use std::ffi::OsStr;

use agents_test_support::TestEnv;

fn installed(env: &TestEnv, name: &str) -> String {
    std::fs::read_to_string(env.agents_dir().join(format!("{name}.md"))).unwrap()
}

#[test]
fn outdated_and_update_move_within_the_requirement() {
    let env = TestEnv::new();
    env.registry("team");
    env.publish("helper", "1.0.0");
    env.publish("pinned", "1.0.0");
    env.run(["install", "helper", "pinned@~1.0"]).success();
    env.publish("helper", "1.1.0");
    env.publish("helper", "2.0.0");
    env.publish("pinned", "1.1.0");

    let outdated = env.run(["outdated", "--json"]).success().json()["packages"].clone();
    let rows: Vec<(String, String, String)> = outdated
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["name"].as_str().unwrap().into(),
                o["compatible"].as_str().unwrap().into(),
                o["latest"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [("helper".into(), "1.1.0".into(), "2.0.0".into()), ("pinned".into(), "1.0.0".into(), "1.1.0".into())]
    );

    env.run(["update"]).success().stderr_contains("Updated helper 1.0.0 \u{2192} v1.1.0");
    assert_eq!(installed(&env, "helper"), TestEnv::agent_text("helper", "1.1.0"));
    assert_eq!(installed(&env, "pinned"), TestEnv::agent_text("pinned", "1.0.0"));
    let lockfile = std::fs::read_to_string(env.project.join("agents.lock")).unwrap();
    assert!(lockfile.contains("version = \"1.1.0\""), "{lockfile}");
    env.run(["update"]).success().stderr_contains("everything is at the newest version");
    env.run(["update", "nobody"]).fails_with("`nobody` is not installed");
}

#[test]
fn update_never_clobbers_a_local_edit() {
    let env = TestEnv::new();
    env.registry("team");
    env.publish("helper", "1.0.0");
    env.run(["install", "helper"]).success();
    std::fs::write(env.agents_dir().join("helper.md"), "mine\n").unwrap();
    env.publish("helper", "1.0.1");
    // The edit cannot be merged onto 1.0.1 (it rewrote every line): the file stays as it was,
    // and the new version is pinned and kept aside for `agents resolve`.
    env.run(["update"]).fails_with("conflict").stderr_contains("agents resolve helper");
    assert_eq!(installed(&env, "helper"), "mine\n");
    assert!(std::fs::read_to_string(env.project.join("agents.lock")).unwrap().contains("1.0.1"));
}

#[test]
fn yanked_versions_are_skipped_by_new_resolutions_but_honoured_when_locked() {
    let env = TestEnv::new();
    env.registry("team");
    env.publish("helper", "1.0.0");
    env.publish("helper", "1.0.1");
    env.run(["install", "helper"]).success().stderr_contains("helper v1.0.1");
    env.run(["yank", "helper@1.0.1"]).success().stderr_contains("Yanked helper@1.0.1");
    env.run(["yank", "helper@1.0.1"]).success().stderr_contains("already yanked");
    env.run(["yank", "helper@9.9.9"]).fails_with("helper@9.9.9 is not published");

    // The lockfile pins the yanked version: it still installs, with a warning.
    std::fs::remove_file(env.agents_dir().join("helper.md")).unwrap();
    env.run(["install"]).success().stderr_contains("warning: helper@1.0.1 is yanked");
    assert!(installed(&env, "helper") == TestEnv::agent_text("helper", "1.0.1"));
    let outdated = env.run(["outdated", "--json"]).success().json()["packages"].clone();
    assert_eq!(outdated[0]["yanked"], true);

    // A new resolution skips it.
    let other = TestEnv::new();
    let url = env.path("registries/team.git");
    other.run([OsStr::new("registry"), OsStr::new("add"), OsStr::new("team"), url.as_os_str()]).success();
    other.run(["install", "helper"]).success().stderr_contains("helper v1.0.0");

    env.run(["yank", "--undo", "helper@1.0.1"]).success().stderr_contains("Unyanked helper@1.0.1");
    other.run(["update"]).success().stderr_contains("Updated helper 1.0.0 \u{2192} v1.0.1");
}

#[test]
fn locked_and_frozen_refuse_to_change_the_lockfile() {
    let env = TestEnv::new();
    env.run(["install", "code-reviewer"]).success();
    let lockfile = std::fs::read(env.project.join("agents.lock")).unwrap();
    env.run(["install", "test-writer", "--locked"]).fails_with("--locked");
    env.run(["install", "test-writer", "--frozen"]).fails_with("--locked");
    std::fs::write(env.project.join("agents.toml"), "[agents]\ncode-reviewer = \"^1\"\ndocs-writer = \"^1\"\n")
        .unwrap();
    env.run(["install", "--locked"]).fails_with("not locked");
    assert_eq!(std::fs::read(env.project.join("agents.lock")).unwrap(), lockfile);
    assert!(!env.agents_dir().join("docs-writer.md").exists());
}
