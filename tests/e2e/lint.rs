//! `agents lint` reports without changing a byte.

use std::ffi::OsStr;

use agents_test_support::{TestEnv, corpus, seed_path};

#[test]
fn the_seed_lints_with_a_warning_and_is_unchanged() {
    let env = TestEnv::new();
    // The built-in registry names bodies by checksum; lint also compares the name with the file's.
    let seed = env.path("go-backend-expert.md");
    std::fs::copy(seed_path(), &seed).unwrap();
    let before = std::fs::read(&seed).unwrap();
    let report = env.run([OsStr::new("lint"), OsStr::new("--json"), seed.as_os_str()]).success().json();
    assert_eq!(report[0]["name"], "go-backend-expert");
    let codes: Vec<&str> =
        report[0]["warnings"].as_array().unwrap().iter().map(|w| w["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["not-strict-yaml"]);
    assert_eq!(std::fs::read(&seed).unwrap(), before);
}

#[test]
fn the_whole_corpus_lints_without_errors() {
    let Some(corpus) = corpus() else { return };
    let env = TestEnv::new();
    let mut command = env.agents();
    command.args(["lint", "--json"]).args(&corpus.files);
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let reports = report.as_array().unwrap();
    assert_eq!(reports.len(), 158);
    let count = |code: &str| {
        reports.iter().filter(|r| r["warnings"].as_array().unwrap().iter().any(|w| w["code"] == code)).count()
    };
    assert_eq!(count("not-strict-yaml"), 8);
    assert_eq!(count("no-trailing-newline"), 104);
    assert_eq!(count("replacement-character"), 1);
    assert_eq!(count("name-differs-from-file"), 0);
}

#[test]
fn lint_reports_hidden_unicode_and_a_name_that_differs_from_the_file() {
    let env = TestEnv::new();
    let file = env.path("sneaky.md");
    std::fs::write(&file, "---\nname: other\ndescription: d\n---\nDo this\u{200B}.\u{E0041}\n").unwrap();
    env.run([OsStr::new("lint"), file.as_os_str()])
        .success()
        .stderr_contains("hidden zero-width character U+200B at line 5, column 8")
        .stderr_contains("hidden tag character U+E0041")
        .stderr_contains("name-differs-from-file");
}
