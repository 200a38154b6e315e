//! One model of what a workspace holds: every verb (install, sync, list, verify, uninstall,
//! resolve, the daemon) agrees on it. A local edit the user keeps is a state, never an error;
//! targets are the project's; every message names the exact file.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use agents_test_support::{DaemonGuard, TestEnv, eventually};

/// An agent whose body has one line per rule, so three-way merges have lines to work on.
fn rules(name: &str, lines: &[&str]) -> String {
    format!("---\nname: {name}\ndescription: rules for {name}\n---\n{}\n", lines.join("\n\n"))
}

const RULES: &[&str] = &["Rule one.", "Rule two.", "Rule three.", "Rule four.", "Rule five."];

fn publish_text(env: &TestEnv, name: &str, version: &str, text: &str) {
    let file = env.path(&format!("{name}-{version}.md"));
    std::fs::write(&file, text).unwrap();
    env.run([OsStr::new("publish"), file.as_os_str(), OsStr::new("--version"), OsStr::new(version)]).success();
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Writes a skill directory: SKILL.md, an executable script and a reference, under the test root.
fn skill(env: &TestEnv, name: &str, version: &str, notes: Option<&str>) -> PathBuf {
    let dir = env.path(&format!("skills-{version}/{name}"));
    std::fs::create_dir_all(dir.join("scripts")).unwrap();
    std::fs::create_dir_all(dir.join("references")).unwrap();
    std::fs::write(
        dir.join("SKILL.md"),
        format!(
            "---\nname: {name}\ndescription: Fills PDF forms: use when asked to\nversion: {version}\n---\n{}\n",
            RULES.join("\n\n")
        ),
    )
    .unwrap();
    let script = dir.join("scripts/fill.sh");
    std::fs::write(&script, format!("#!/bin/sh\necho fill {version}\n")).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    if let Some(notes) = notes {
        std::fs::write(dir.join("references/notes.md"), notes).unwrap();
    }
    dir
}

fn publish_dir(env: &TestEnv, dir: &Path) {
    env.run([OsStr::new("publish"), dir.as_os_str()]).success();
}

/// A teammate's checkout of the same project: the manifest and lockfile, as `git pull` brings them.
fn pull(from: &TestEnv, to: &TestEnv) {
    for file in ["agents.toml", "agents.lock"] {
        std::fs::copy(from.project.join(file), to.project.join(file)).unwrap();
    }
}

/// The README's team flow with one customised agent (a clean merge kept) and one deleted agent:
/// the bare `agents install` every teammate runs exits 0, restores the deleted one, keeps the
/// edit, and `verify` passes (it fails under `--strict`, which also counts kept edits).
#[test]
fn a_kept_edit_is_a_state_and_a_bare_install_restores_everything_else() {
    let env = TestEnv::new();
    env.registry("team");
    publish_text(&env, "alpha", "1.0.0", &rules("alpha", RULES));
    env.publish("beta", "1.0.0");
    env.run(["install", "alpha", "beta"]).success();
    let alpha = env.agents_dir().join("alpha.md");
    let edited = read(&alpha).replace("Rule five.", "Rule five, our way.");
    std::fs::write(&alpha, &edited).unwrap();
    let mut newer = RULES.to_vec();
    newer[0] = "Rule one, sharper.";
    publish_text(&env, "alpha", "1.1.0", &rules("alpha", &newer));
    env.run(["update", "alpha"]).success().stderr_contains("Merged");
    let merged = read(&alpha);
    assert!(merged.contains("Rule one, sharper.") && merged.contains("Rule five, our way."), "{merged}");
    std::fs::remove_file(env.agents_dir().join("beta.md")).unwrap();

    let run = env.run(["install"]).success();
    let stderr = run.stderr();
    assert_eq!(stderr.matches("local edits").count(), 1, "one line for the kept edit: {stderr}");
    assert!(stderr.contains("Restored beta v1.0.0"), "{stderr}");
    assert_eq!(read(&alpha), merged, "the kept edit changed");
    assert_eq!(read(&env.agents_dir().join("beta.md")), TestEnv::agent_text("beta", "1.0.0"));
    // Every run: the same.
    env.run(["install"]).success();
    env.run(["install", "--locked"]).success();
    env.run(["sync"]).success();
    env.run(["verify"]).success().stderr_contains("edited by you");
    env.run(["verify", "--strict"]).fails_with("alpha");
    let listed = env.run(["list", "--json"]).success().json()["packages"].clone();
    assert_eq!(listed[0]["status"], "edited", "{listed}");
}

/// `resolve --ours` makes the file a kept edit too: the everyday commands keep working.
#[test]
fn keeping_ours_after_a_conflict_leaves_install_and_verify_green() {
    let env = TestEnv::new();
    env.registry("team");
    publish_text(&env, "alpha", "1.0.0", &rules("alpha", RULES));
    env.run(["install", "alpha"]).success();
    let alpha = env.agents_dir().join("alpha.md");
    std::fs::write(&alpha, read(&alpha).replace("Rule five.", "Rule five, our way.")).unwrap();
    let mut theirs = RULES.to_vec();
    theirs[4] = "Rule five, upstream.";
    publish_text(&env, "alpha", "1.1.0", &rules("alpha", &theirs));
    assert_eq!(env.run(["update", "alpha"]).code(), Some(1));
    // The conflict is visible in list, with the version kept aside.
    env.run(["list"]).success().stdout_contains("conflict").stdout_contains("v1.1.0 kept aside");
    let listed = env.run(["list", "--json"]).success().json()["packages"].clone();
    assert_eq!(listed[0]["status"], "conflict", "{listed}");
    env.run(["resolve", "alpha", "--ours"]).success();
    assert!(
        std::fs::read_dir(env.state_dir().join("conflicts"))
            .map_or(true, |dirs| dirs.flatten().all(|d| std::fs::read_dir(d.path()).unwrap().next().is_none())),
        "the kept-aside copies stayed after resolving"
    );
    env.run(["install"]).success();
    env.run(["verify"]).success();
}

/// `--target` adds a tool to the project: every locked package is converted, by install, by
/// sync after the manifest is edited by hand, and by the daemon after a pull.
#[test]
fn a_target_converts_every_package_of_the_project() {
    let env = TestEnv::new();
    env.registry("team");
    let names = ["a1", "a2", "a3", "a4", "a5"];
    for name in names {
        env.publish(name, "1.0.0");
    }
    env.run(["install", "a1", "a2", "a3", "a4", "a5"]).success();
    let run = env.run(["install", "a3", "--target", "opencode"]).success();
    for name in names {
        let converted = env.project.join(format!(".opencode/agent/{name}.md"));
        assert!(converted.is_file(), "{name} not converted: {}", run.stderr());
        assert!(run.stderr().contains(&format!(".opencode/agent/{name}.md")), "{}", run.stderr());
    }
    env.run(["verify"]).success();

    // A teammate who pulls a manifest naming a new target (and the old lockfile): sync converts.
    let teammate = TestEnv::new();
    std::fs::copy(env.home.join(".config/agents/config.toml"), {
        std::fs::create_dir_all(teammate.home.join(".config/agents")).unwrap();
        teammate.home.join(".config/agents/config.toml")
    })
    .unwrap();
    pull(&env, &teammate);
    teammate.run(["install"]).success();
    let manifest = read(&teammate.project.join("agents.toml")).replace("\"opencode\"", "\"opencode\", \"gemini\"");
    std::fs::write(teammate.project.join("agents.toml"), manifest).unwrap();
    let run = teammate.run(["sync"]).success();
    for name in names {
        assert!(teammate.project.join(format!(".gemini/agents/{name}.md")).is_file(), "{}", run.stderr());
    }
    teammate.run(["verify"]).success();
    teammate.run(["install", "--locked"]).success();

    // The daemon converts when a pulled manifest adds a target.
    let daemon_user = TestEnv::new();
    std::fs::create_dir_all(daemon_user.home.join(".config/agents")).unwrap();
    std::fs::copy(env.home.join(".config/agents/config.toml"), daemon_user.home.join(".config/agents/config.toml"))
        .unwrap();
    pull(&env, &daemon_user);
    daemon_user.run(["install"]).success();
    let _daemon = DaemonGuard::start(&daemon_user);
    daemon_user.run(["daemon", "watch"]).success();
    let manifest = read(&daemon_user.project.join("agents.toml")).replace("\"opencode\"", "\"opencode\", \"cursor\"");
    std::fs::write(daemon_user.project.join("agents.toml"), manifest).unwrap();
    assert!(
        eventually(Duration::from_secs(20), || names
            .iter()
            .all(|name| daemon_user.project.join(format!(".cursor/agents/{name}.md")).is_file())),
        "the daemon did not convert every agent for the new target"
    );
}

/// A missing converted file is reported as that file, by list and verify; an edit in the shared
/// skill copy names its file; install names each directory it writes.
#[test]
fn every_message_names_the_exact_file() {
    let env = TestEnv::new();
    env.registry("team");
    env.publish("reviewer", "1.0.0");
    publish_dir(&env, &skill(&env, "pdf-tools", "1.0.0", None));
    env.run(["install", "reviewer", "--target", "opencode"]).success();
    std::fs::remove_file(env.project.join(".opencode/agent/reviewer.md")).unwrap();
    let listed = env.run(["list"]).success().stdout();
    // The package's line names the missing file, never the Claude Code file that is there.
    let line = listed.lines().find(|l| l.starts_with("reviewer")).unwrap_or_default();
    assert!(line.contains("missing") && line.contains(".opencode/agent/reviewer.md"), "{listed}");
    assert!(!listed.contains(".claude/agents/reviewer.md"), "{listed}");
    let verify = env.run(["verify"]).fails_with(".opencode/agent/reviewer.md is missing").stderr();
    assert!(!verify.contains(".claude/agents/reviewer.md is missing"), "{verify}");
    env.run(["sync"]).success().stderr_contains(".opencode/agent/reviewer.md");

    let run = env.run(["install", "pdf-tools", "--target", "codex"]).success();
    assert!(run.stderr().contains("Installed skill pdf-tools v1.0.0"), "{}", run.stderr());
    assert!(run.stderr().contains(".agents/skills/pdf-tools"), "{}", run.stderr());
    assert!(!run.stderr().contains("Restored"), "nothing went missing: {}", run.stderr());
    let shared = env.project.join(".agents/skills/pdf-tools/SKILL.md");
    std::fs::write(&shared, read(&shared) + "mine\n").unwrap();
    let listed = env.run(["list"]).success().stdout();
    let line = listed.lines().find(|l| l.starts_with("pdf-tools")).unwrap_or_default();
    assert!(line.contains("modified") && line.contains(".agents/skills/pdf-tools/SKILL.md"), "{listed}");
    env.run(["verify"]).fails_with(".agents/skills/pdf-tools/SKILL.md does not match");
    // Kinds in words: a skill is not an agent.
    let summary = env.run(["verify", "--strict"]).stderr();
    assert!(!summary.contains("agent(s)"), "{summary}");
}

/// Moving a pin with `install NAME@REQ` merges a local edit as `update` does, for an agent and
/// for a skill's file alike.
#[test]
fn install_of_a_new_requirement_merges_local_edits() {
    let env = TestEnv::new();
    env.registry("team");
    publish_text(&env, "alpha", "1.0.0", &rules("alpha", RULES));
    publish_dir(&env, &skill(&env, "forms", "1.0.0", None));
    env.run(["install", "alpha@=1.0.0", "forms@=1.0.0"]).success();
    let alpha = env.agents_dir().join("alpha.md");
    std::fs::write(&alpha, read(&alpha).replace("Rule five.", "Rule five, our way.")).unwrap();
    let skill_md = env.project.join(".claude/skills/forms/SKILL.md");
    std::fs::write(&skill_md, read(&skill_md).replace("Rule five.", "Rule five, our way.")).unwrap();
    let mut newer = RULES.to_vec();
    newer[0] = "Rule one, sharper.";
    publish_text(&env, "alpha", "1.1.0", &rules("alpha", &newer));
    let v2 = skill(&env, "forms", "1.1.0", None);
    std::fs::write(v2.join("SKILL.md"), read(&v2.join("SKILL.md")).replace("Rule one.", "Rule one, sharper.")).unwrap();
    publish_dir(&env, &v2);

    env.run(["install", "alpha@^1.1"]).success().stderr_contains("Merged");
    let text = read(&alpha);
    assert!(text.contains("Rule one, sharper.") && text.contains("Rule five, our way."), "{text}");
    env.run(["install", "forms@^1.1"]).success().stderr_contains("Merged");
    let text = read(&skill_md);
    assert!(text.contains("Rule one, sharper.") && text.contains("Rule five, our way."), "{text}");
    env.run(["verify"]).success();
}

/// A merged skill file is the user's: a teammate's lockfile moving to a version without that
/// file never deletes it (it was deleted with no backup).
#[test]
fn a_merged_file_is_never_removed_as_ours() {
    let env = TestEnv::new();
    env.registry("team");
    let v1 = skill(&env, "notes", "1.0.0", Some("# Notes\nline one\n\nline two\n\nline three\n"));
    publish_dir(&env, &v1);
    env.run(["install", "notes"]).success();
    let notes = env.project.join(".claude/skills/notes/references/notes.md");
    std::fs::write(&notes, "# Notes\nline one\n\nline two\n\nline three, mine\n").unwrap();
    // 1.1.0 changes the notes elsewhere: a clean merge.
    publish_dir(&env, &skill(&env, "notes", "1.1.0", Some("# Notes\nline one, new\n\nline two\n\nline three\n")));
    env.run(["update", "notes"]).success().stderr_contains("Merged");
    let merged = read(&notes);
    assert!(merged.contains("line one, new") && merged.contains("line three, mine"), "{merged}");

    // A teammate publishes 1.2.0 without the notes and commits the lockfile; this user pulls.
    let teammate = TestEnv::new();
    std::fs::create_dir_all(teammate.home.join(".config/agents")).unwrap();
    std::fs::copy(env.home.join(".config/agents/config.toml"), teammate.home.join(".config/agents/config.toml"))
        .unwrap();
    publish_dir(&env, &skill(&env, "notes", "1.2.0", None));
    pull(&env, &teammate);
    teammate.run(["update", "notes"]).success();
    pull(&teammate, &env);
    let run = env.run(["install"]).success();
    assert_eq!(read(&notes), merged, "the user's merged edit was deleted: {}", run.stderr());
    assert!(run.stderr().contains("references/notes.md"), "{}", run.stderr());
    assert!(!run.stderr().contains("from 1.1.0"), "the merge was from 1.0.0: {}", run.stderr());
}

/// `sync` (and so the daemon) merges a skill's files as `update` does.
#[test]
fn sync_merges_package_files() {
    let env = TestEnv::new();
    env.registry("team");
    publish_dir(&env, &skill(&env, "forms", "1.0.0", None));
    env.run(["install", "forms"]).success();
    let skill_md = env.project.join(".claude/skills/forms/SKILL.md");
    std::fs::write(&skill_md, read(&skill_md).replace("Rule five.", "Rule five, our way.")).unwrap();
    let v2 = skill(&env, "forms", "1.1.0", None);
    std::fs::write(v2.join("SKILL.md"), read(&v2.join("SKILL.md")).replace("Rule one.", "Rule one, sharper.")).unwrap();
    publish_dir(&env, &v2);
    // The new pin arrives with a pull: a teammate's lockfile.
    let teammate = TestEnv::new();
    std::fs::create_dir_all(teammate.home.join(".config/agents")).unwrap();
    std::fs::copy(env.home.join(".config/agents/config.toml"), teammate.home.join(".config/agents/config.toml"))
        .unwrap();
    pull(&env, &teammate);
    teammate.run(["update", "forms"]).success();
    pull(&teammate, &env);
    env.run(["sync"]).success().stderr_contains("Merged");
    let text = read(&skill_md);
    assert!(text.contains("Rule one, sharper.") && text.contains("Rule five, our way."), "{text}");
    assert_eq!(read(&env.project.join(".claude/skills/forms/scripts/fill.sh")), "#!/bin/sh\necho fill 1.1.0\n");
    env.run(["verify"]).success();
}

/// Uninstalling a skill removes the directories it created once they are empty.
#[test]
fn uninstall_leaves_no_empty_directories() {
    let env = TestEnv::new();
    env.registry("team");
    publish_dir(&env, &skill(&env, "pdf", "1.0.0", Some("# Notes\n")));
    env.run(["install", "pdf", "--target", "cursor"]).success();
    env.run(["uninstall", "pdf"]).success();
    for dir in [".claude/skills/pdf", ".agents/skills/pdf", ".agents"] {
        assert!(!env.project.join(dir).exists(), "{dir} stayed: {:?}", TestEnv::files_under(&env.project));
    }
    // A directory holding the user's own file stays, with that file.
    env.run(["install", "pdf"]).success();
    std::fs::write(env.project.join(".claude/skills/pdf/scripts/mine.sh"), "echo mine\n").unwrap();
    env.run(["uninstall", "pdf"]).success();
    assert_eq!(read(&env.project.join(".claude/skills/pdf/scripts/mine.sh")), "echo mine\n");
    assert!(!env.project.join(".claude/skills/pdf/references").exists());
}

/// Conflicts are settled with the user's editor or a finished file; the copies kept aside go.
#[test]
fn a_conflict_is_settled_in_the_editor_or_from_a_file() {
    let env = TestEnv::new();
    env.registry("team");
    publish_text(&env, "alpha", "1.0.0", &rules("alpha", RULES));
    env.run(["install", "alpha"]).success();
    let alpha = env.agents_dir().join("alpha.md");
    std::fs::write(&alpha, read(&alpha).replace("Rule five.", "Rule five, our way.")).unwrap();
    let mut theirs = RULES.to_vec();
    theirs[4] = "Rule five, upstream.";
    publish_text(&env, "alpha", "1.1.0", &rules("alpha", &theirs));
    assert_eq!(env.run(["update", "alpha"]).code(), Some(1));

    // An editor that leaves the markers in: refused, the file unchanged.
    let before = read(&alpha);
    let lazy = env.path("lazy-editor.sh");
    std::fs::write(&lazy, "#!/bin/sh\ntrue\n").unwrap();
    std::fs::set_permissions(&lazy, std::fs::Permissions::from_mode(0o755)).unwrap();
    env.set_env("EDITOR", &lazy);
    env.run(["resolve", "alpha", "--edit"]).fails_with("conflict markers");
    assert_eq!(read(&alpha), before);
    // An editor that settles it: the result is installed as the user's edit on 1.1.0.
    let settle = env.path("settle-editor.sh");
    std::fs::write(
        &settle,
        "#!/bin/sh\nsed -i -e '/^<<<<<<</d' -e '/^|||||||/,/^=======/d' -e '/^>>>>>>>/d' -e 's/Rule five, our way./Rule five, both./' \"$1\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&settle, std::fs::Permissions::from_mode(0o755)).unwrap();
    env.set_env("EDITOR", &settle);
    env.run(["resolve", "alpha", "--edit"]).success();
    let text = read(&alpha);
    assert!(text.contains("Rule five, both.") && !text.contains("<<<<<<<"), "{text}");
    env.run(["list"]).success().stdout_contains("edited");
    env.run(["verify"]).success();
    let leftovers: Vec<PathBuf> = std::fs::read_dir(env.state_dir().join("conflicts"))
        .map(|dirs| {
            dirs.flatten().flat_map(|d| std::fs::read_dir(d.path()).unwrap().flatten()).map(|e| e.path()).collect()
        })
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "kept-aside copies stayed: {leftovers:?}");

    // --from takes a finished file.
    let mut newest = theirs.clone();
    newest[0] = "Rule one, newest.";
    std::fs::write(&alpha, read(&alpha).replace("Rule three.", "Rule three, ours.")).unwrap();
    newest[2] = "Rule three, theirs.";
    publish_text(&env, "alpha", "1.2.0", &rules("alpha", &newest));
    assert_eq!(env.run(["update", "alpha"]).code(), Some(1));
    let finished = env.path("finished.md");
    std::fs::write(
        &finished,
        rules("alpha", &["Rule one, newest.", "Rule two.", "Rule three, settled.", "Rule four.", "Rule five, both."]),
    )
    .unwrap();
    env.run([OsStr::new("resolve"), OsStr::new("alpha"), OsStr::new("--from"), finished.as_os_str()]).success();
    assert_eq!(read(&alpha), read(&finished));
    env.run(["verify"]).success();
}

/// The first write of a file says Installed; Restored is only for a file that went missing.
#[test]
fn installed_the_first_time_restored_only_when_missing() {
    let env = TestEnv::new();
    env.registry("team");
    env.publish("alpha", "1.0.0");
    env.run(["install", "alpha"]).success();
    let teammate = TestEnv::new();
    std::fs::create_dir_all(teammate.home.join(".config/agents")).unwrap();
    std::fs::copy(env.home.join(".config/agents/config.toml"), teammate.home.join(".config/agents/config.toml"))
        .unwrap();
    pull(&env, &teammate);
    // A fresh clone: nothing was there before.
    let run = teammate.run(["install"]).success();
    assert!(run.stderr().contains("Installed alpha v1.0.0"), "{}", run.stderr());
    std::fs::remove_file(teammate.agents_dir().join("alpha.md")).unwrap();
    teammate.run(["install"]).success().stderr_contains("Restored alpha v1.0.0");
}

/// `--dry-run` prints the plan and changes nothing, for install, update, uninstall and sync.
#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let env = TestEnv::new();
    env.registry("team");
    env.publish("alpha", "1.0.0");
    env.publish("beta", "1.0.0");
    env.run(["install", "alpha"]).success();
    let snapshot = || {
        let mut files = TestEnv::files_under(&env.project);
        files.push(read(&env.project.join("agents.lock")));
        files.push(read(&env.project.join("agents.toml")));
        files
    };
    let before = snapshot();
    env.run(["install", "beta", "--dry-run"]).success().stderr_contains("Would install beta v1.0.0");
    env.publish("alpha", "1.1.0");
    env.run(["update", "--dry-run"]).success().stderr_contains("Would update alpha");
    env.run(["uninstall", "alpha", "--dry-run"]).success().stderr_contains("Would remove alpha");
    std::fs::remove_file(env.agents_dir().join("alpha.md")).unwrap();
    let mut after_delete = before.clone();
    after_delete.retain(|f| f != ".claude/agents/alpha.md");
    env.run(["sync", "--dry-run"]).success().stderr_contains("Would restore alpha v1.0.0");
    assert_eq!(snapshot(), after_delete);
    std::fs::write(env.agents_dir().join("alpha.md"), TestEnv::agent_text("alpha", "1.0.0")).unwrap();
    assert_eq!(snapshot(), before);
}

/// A command stopped part way records what it did write: the next command knows those bytes as
/// its own and replaces them, instead of taking them for a file it never managed.
#[test]
fn what_a_failed_install_wrote_is_recorded() {
    let env = TestEnv::new();
    env.registry("team");
    publish_text(&env, "alpha", "1.0.0", &rules("alpha", RULES));
    env.run(["install", "alpha@=1.0.0", "--registry", "team"]).success();
    // Codex's directory cannot be written (immutable: even root cannot create a file in it),
    // so the OpenCode file (planned before it) is written, then Codex's fails.
    let codex = env.project.join(".codex/agents");
    std::fs::create_dir_all(&codex).unwrap();
    let Some(frozen) = Immutable::set(&codex) else {
        eprintln!("note: skipped: `chattr +i` is not available here (needs CAP_LINUX_IMMUTABLE and ext4 or xfs)");
        return;
    };
    let args = ["install", "alpha", "--target", "codex", "--target", "opencode"];
    env.run(args).fails_with("part way");
    drop(frozen);
    let opencode = env.project.join(".opencode/agent/alpha.md");
    assert!(opencode.is_file(), "the OpenCode file was not written first");
    // Nothing pins the OpenCode file yet, and it is no published version: only the record of
    // the write says it is ours, so a new version replaces it.
    publish_text(&env, "alpha", "1.1.0", &rules("alpha", &["Rule one, improved."]));
    let again = env.run(["install", "alpha@=1.1.0", "--target", "codex", "--target", "opencode"]).success();
    assert!(!again.stderr().contains("not a file agents installed"), "{}", again.stderr());
    assert!(read(&opencode).contains("Rule one, improved."), "{}", read(&opencode));
    assert!(codex.join("alpha.toml").is_file());
    env.run(["verify"]).success();
}

/// A directory made immutable (`chattr +i`) until dropped.
struct Immutable(PathBuf);

impl Immutable {
    fn set(dir: &Path) -> Option<Immutable> {
        let status =
            std::process::Command::new("chattr").arg("+i").arg(dir).stderr(std::process::Stdio::null()).status();
        status.is_ok_and(|s| s.success()).then(|| Immutable(dir.to_path_buf()))
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

/// Counts agree with their nouns: one agent matches, two skills match.
#[test]
fn verify_counts_in_words() {
    let env = TestEnv::new();
    env.run(["install", "code-reviewer"]).success();
    env.run(["verify"]).success().stderr_contains("Verified 1 agent matches agents.lock");
    env.run(["install", "test-writer"]).success();
    env.run(["verify"]).success().stderr_contains("Verified 2 agents match agents.lock");
}

/// `list` and `verify` trust a file this tool wrote by its recorded fingerprint (inode, size,
/// times), without reading it; an edit of the same length right after the install is still
/// seen, and a file put back byte for byte is as pinned again.
#[test]
fn an_edit_made_at_once_after_a_write_is_seen_without_a_read_of_every_file() {
    let env = TestEnv::new();
    env.run(["install", "code-reviewer", "test-writer"]).success();
    let file = env.agents_dir().join("code-reviewer.md");
    let original = std::fs::read(&file).unwrap();
    let mut edited = original.clone();
    edited[original.len() - 2] ^= 0x01;
    std::fs::write(&file, &edited).unwrap();
    let line = |listed: &str| listed.lines().find(|l| l.starts_with("code-reviewer")).unwrap_or_default().to_owned();
    let listed = env.run(["list"]).success().stdout();
    assert!(line(&listed).contains("modified"), "{listed}");
    env.run(["verify"]).fails_with("code-reviewer");
    // Put back byte for byte, with a new time: as pinned again.
    std::fs::write(&file, &original).unwrap();
    assert!(line(&env.run(["list"]).success().stdout()).contains("ok"));
    env.run(["verify"]).success();
}
