//! Local tweaks survive updates: a local edit is merged three ways onto the new version; a
//! conflict leaves the file as it was and is settled with `agents resolve`.

use std::ffi::OsStr;
use std::time::Duration;

use agents_test_support::{DaemonGuard, TestEnv, eventually};

/// An agent file whose body has one line per entry of `lines`.
fn body(lines: &[&str]) -> String {
    format!("---\nname: alpha\ndescription: merges\n---\n{}\n", lines.join("\n\n"))
}

const V1: &[&str] = &["Rule one.", "Rule two.", "Rule three.", "Rule four.", "Rule five."];

fn publish(env: &TestEnv, version: &str, lines: &[&str]) {
    let file = env.path(&format!("alpha-{version}.md"));
    std::fs::write(&file, body(lines)).unwrap();
    env.run([OsStr::new("publish"), file.as_os_str(), OsStr::new("--version"), OsStr::new(version)]).success();
}

/// A project with alpha 1.0.0 installed from a team registry and a local edit of its last rule.
fn edited() -> TestEnv {
    let env = TestEnv::new();
    env.registry("team");
    publish(&env, "1.0.0", V1);
    env.run(["install", "alpha@^1", "--registry", "team"]).success();
    let file = env.agents_dir().join("alpha.md");
    let text = std::fs::read_to_string(&file).unwrap().replace("Rule five.", "Rule five, as our team wants it.");
    std::fs::write(&file, text).unwrap();
    env
}

fn on_disk(env: &TestEnv) -> String {
    std::fs::read_to_string(env.agents_dir().join("alpha.md")).unwrap()
}

#[test]
fn a_clean_merge_keeps_the_edit_and_takes_the_update_and_merges_again_next_time() {
    let env = edited();
    publish(&env, "1.1.0", &["Rule one, improved.", "Rule two.", "Rule three.", "Rule four.", "Rule five."]);
    env.run(["update", "alpha"]).success().stderr_contains("Merged");
    let text = on_disk(&env);
    assert!(text.contains("Rule one, improved.") && text.contains("Rule five, as our team wants it."), "{text}");
    assert!(std::fs::read_to_string(env.project.join("agents.lock")).unwrap().contains("version = \"1.1.0\""));
    env.run(["list"]).success().stdout_contains("edited").stdout_contains("your edits on v1.1.0");
    // The diff is against the new version: only the local edit shows.
    let diff = env.run(["diff", "alpha"]).stdout();
    assert!(diff.contains("+Rule five, as our team wants it.") && !diff.contains("Rule one, improved."), "{diff}");

    // The merged file is the user's: the next update merges again instead of replacing it.
    publish(&env, "1.2.0", &["Rule one, improved.", "Rule two, sharper.", "Rule three.", "Rule four.", "Rule five."]);
    env.run(["update", "alpha"]).success().stderr_contains("Merged");
    let text = on_disk(&env);
    assert!(text.contains("Rule two, sharper.") && text.contains("Rule five, as our team wants it."), "{text}");
}

#[test]
fn a_conflict_never_loses_a_byte_and_is_resolved_by_choice() {
    let env = edited();
    let before = on_disk(&env);
    publish(&env, "1.1.0", &["Rule one.", "Rule two.", "Rule three.", "Rule four.", "Rule five, upstream's way."]);
    let run = env.run(["update", "alpha"]);
    assert_eq!(run.code(), Some(1), "{}", run.stderr());
    assert!(run.stderr().contains("conflict") && run.stderr().contains("agents resolve"), "{}", run.stderr());
    assert_eq!(on_disk(&env), before, "the file changed under a conflict");
    // The three sides: what the edit changed and what the update changed, each from the base.
    let diff = env.run(["diff", "alpha"]).success().stdout();
    assert!(
        diff.contains("# your edits: alpha@1.0.0 (base)") && diff.contains("# the update: alpha@1.0.0 (base)"),
        "{diff}"
    );
    assert!(
        diff.contains("+Rule five, as our team wants it.") && diff.contains("+Rule five, upstream's way."),
        "{diff}"
    );

    // Markers: a copy to edit by hand, outside the agents directory.
    let markers = env.run(["resolve", "alpha", "--markers"]).success().stderr();
    assert_eq!(TestEnv::files_under(&env.agents_dir()), ["alpha.md"]);
    let copy = std::fs::read_dir(env.state_dir().join("conflicts"))
        .unwrap()
        .flat_map(|dir| std::fs::read_dir(dir.unwrap().path()).unwrap())
        .map(|entry| entry.unwrap().path())
        .find(|path| path.to_string_lossy().contains(".merge."))
        .unwrap_or_else(|| panic!("no copy with markers: {markers}"));
    let copy = std::fs::read_to_string(copy).unwrap();
    assert!(
        copy.contains("<<<<<<<")
            && copy.contains("Rule five, upstream's way.")
            && copy.contains("as our team wants it")
    );

    // Theirs: the new version, with the edit saved first.
    env.run(["resolve", "alpha", "--theirs"]).success().stderr_contains("Saved your edits");
    assert!(on_disk(&env).contains("Rule five, upstream's way."));
    let backups = env.state_dir().join("backups");
    let saved: Vec<String> = std::fs::read_dir(&backups)
        .unwrap()
        .flat_map(|dir| std::fs::read_dir(dir.unwrap().path()).unwrap())
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    assert_eq!(saved, [before]);
    env.run(["verify"]).success();
    env.run(["resolve", "alpha", "--ours"]).fails_with("no update kept aside");
}

#[test]
fn keeping_ours_makes_the_file_an_edit_on_the_new_version() {
    let env = edited();
    let before = on_disk(&env);
    publish(&env, "1.1.0", &["Rule one.", "Rule two.", "Rule three.", "Rule four.", "Rule five, upstream's way."]);
    assert_eq!(env.run(["update", "alpha"]).code(), Some(1));
    env.run(["resolve", "alpha", "--ours"]).success();
    assert_eq!(on_disk(&env), before);
    // Settled: a sync keeps it without setting anything aside again.
    let sync = env.run(["sync", "--json"]).json();
    assert_eq!(sync["conflicts"], serde_json::json!([]), "{sync}");
    assert_eq!(on_disk(&env), before);
}

#[test]
fn a_pulled_pin_is_merged_by_sync_and_by_the_daemon() {
    let env = edited();
    publish(&env, "1.1.0", &["Rule one, improved.", "Rule two.", "Rule three.", "Rule four.", "Rule five."]);
    let other = env.checkout("other");
    let mut command = env.agents();
    command.current_dir(&other).args(["install", "alpha@=1.1.0", "--registry", "team"]);
    assert!(command.output().unwrap().status.success());
    env.run(["daemon", "watch"]).success();
    let daemon = DaemonGuard::start(&env);
    std::fs::copy(other.join("agents.lock"), env.project.join("agents.lock")).unwrap();
    let merged = eventually(Duration::from_secs(10), || {
        let text = on_disk(&env);
        text.contains("Rule one, improved.") && text.contains("as our team wants it")
    });
    assert!(merged, "the daemon did not merge: {}", on_disk(&env));
    drop(daemon);
    let sync = env.run(["sync", "--json"]).json();
    assert!(written(&sync).is_empty(), "a merged file is not written again: {sync}");
}

/// A skill is merged file by file: an edit to one of its files is merged onto that file's new
/// version, while its other files simply update.
#[test]
fn a_skills_files_merge_one_by_one() {
    let env = TestEnv::new();
    env.registry("team");
    let skill = env.path("src/notes-helper");
    let write_skill = |steps: &[&str], guide: &str| {
        std::fs::create_dir_all(skill.join("references")).unwrap();
        std::fs::write(
            skill.join("SKILL.md"),
            format!("---\nname: notes-helper\ndescription: Helps with notes\n---\n{}\n", steps.join("\n\n")),
        )
        .unwrap();
        std::fs::write(skill.join("references/guide.md"), guide).unwrap();
    };
    let publish = |version: &str| {
        env.run([OsStr::new("publish"), skill.as_os_str(), OsStr::new("--version"), OsStr::new(version)]).success();
    };
    write_skill(V1, "Guide one.\n");
    publish("1.0.0");
    env.run(["install", "notes-helper@^1", "--registry", "team"]).success();
    let installed = env.project.join(".claude/skills/notes-helper/SKILL.md");
    let edited = std::fs::read_to_string(&installed).unwrap().replace("Rule five.", "Rule five, as our team wants it.");
    std::fs::write(&installed, &edited).unwrap();

    write_skill(&["Rule one, improved.", "Rule two.", "Rule three.", "Rule four.", "Rule five."], "Guide two.\n");
    publish("1.1.0");
    env.run(["update", "notes-helper"]).success().stderr_contains("Merged");
    let text = std::fs::read_to_string(&installed).unwrap();
    assert!(text.contains("Rule one, improved.") && text.contains("Rule five, as our team wants it."), "{text}");
    let guide = std::fs::read_to_string(env.project.join(".claude/skills/notes-helper/references/guide.md")).unwrap();
    assert_eq!(guide, "Guide two.\n");
}

/// The files a `--json` report says were written (installed, restored, updated or merged).
fn written(report: &serde_json::Value) -> Vec<String> {
    let packages = report["packages"].as_array().expect("a report lists its packages");
    packages
        .iter()
        .flat_map(|p| p["files"].as_array().expect("each package lists its files"))
        .filter(|f| ["installed", "restored", "updated", "merged"].contains(&f["action"].as_str().unwrap_or_default()))
        .map(|f| f["path"].as_str().unwrap_or_default().to_owned())
        .collect()
}
