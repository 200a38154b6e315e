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
    publish(&env, &dir).success().stderr_contains("Published skill pdf-forms v1.0.0 (3 files)");
    let check = env.run([std::ffi::OsStr::new("registry"), "check".as_ref(), remote.as_os_str()]);
    check.success();

    let index = agents_test_support::read_in_remote(&remote, "index/pd/f-/pdf-forms").unwrap();
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

    let renamed = env.path("skills-1.0.0/pdf");
    std::fs::rename(&dir, &renamed).unwrap();
    publish(&env, &renamed).fails_with("its directory is `pdf`");

    let dir = skill_dir(&env, "pdf-forms", "1.0.1");
    std::fs::write(dir.join("SKILL.md"), "---\nname: pdf-forms\nversion: 1.0.1\n---\nbody\n").unwrap();
    publish(&env, &dir).fails_with("no `description`");
    std::fs::remove_file(dir.join("SKILL.md")).unwrap();
    publish(&env, &dir).fails_with("SKILL.md");

    assert_eq!(TestEnv::files_under(&remote), before, "a refused publish wrote to the registry");
}
