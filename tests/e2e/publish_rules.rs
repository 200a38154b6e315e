//! `agents publish` and `agents import` refuse what Claude Code would not load, and read short
//! versions as authors mean them.

use agents_test_support::TestEnv;

#[test]
fn a_file_without_a_description_is_refused_with_the_reason() {
    let env = TestEnv::new();
    env.registry("team");
    let file = env.path("bare.md");
    std::fs::write(&file, "---\nname: bare\nversion: 1.0.0\n---\nYou are bare.\n").unwrap();
    env.run(["publish".as_ref(), file.as_os_str()])
        .fails_with("no `description`")
        .stderr_contains("Claude Code does not load an agent without one");
    // Import skips it with the same reason and publishes the rest.
    let collection = env.path("collection");
    std::fs::create_dir_all(&collection).unwrap();
    std::fs::copy(&file, collection.join("bare.md")).unwrap();
    std::fs::write(collection.join("good.md"), "---\nname: good\ndescription: Good\n---\nYou are good.\n").unwrap();
    let report = env.run(["import".as_ref(), collection.as_os_str(), "--json".as_ref()]).success().json();
    assert_eq!(report["imported"].as_array().unwrap().len(), 1, "{report}");
    assert!(report["skipped"][0]["reason"].as_str().unwrap().contains("no `description`"), "{report}");
}

#[test]
fn a_short_version_is_read_as_the_full_one_with_a_note() {
    let env = TestEnv::new();
    env.registry("team");
    let file = env.path("short.md");
    std::fs::write(&file, "---\nname: short\ndescription: Short\nversion: 1.0\n---\nYou are short.\n").unwrap();
    env.run(["publish".as_ref(), file.as_os_str()])
        .success()
        .stderr_contains("`version: 1.0` published as 1.0.0")
        .stderr_contains("short v1.0.0");
    let collection = env.path("collection");
    std::fs::create_dir_all(&collection).unwrap();
    std::fs::write(collection.join("other.md"), "---\nname: other\ndescription: Other\nversion: 2.1\n---\nOther.\n")
        .unwrap();
    let run = env.run(["import".as_ref(), collection.as_os_str(), "--json".as_ref()]).success();
    let stderr = run.stderr();
    assert!(stderr.contains("`version: 2.1` published as 2.1.0"), "{stderr}");
    assert_eq!(run.json()["imported"][0]["version"], "2.1.0");
}
