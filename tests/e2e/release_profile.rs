//! The binary a user installs (`cargo install --path crates/agents`, the release profile) is at
//! most 16 MiB: built without debug info or a symbol table. Building it takes minutes, so the size
//! itself is measured only when `AGENTS_SLOW_TESTS` is set; the profile is checked always.

use agents_test_support::repo_root;

#[test]
fn the_release_profile_keeps_debug_info_out_of_the_binary() {
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap()).unwrap();
    let release = manifest["profile"]["release"].as_table().expect("a [profile.release]");
    let stripped = matches!(release.get("strip").and_then(|s| s.as_str()), Some("debuginfo" | "symbols"))
        || release.get("strip").and_then(toml::Value::as_bool) == Some(true);
    let no_debug = matches!(release.get("debug"), None | Some(toml::Value::Boolean(false)))
        || release.get("debug").and_then(toml::Value::as_str) == Some("none");
    assert!(stripped || no_debug, "[profile.release] puts debug info in the installed binary: {release:?}");

    if std::env::var_os("AGENTS_SLOW_TESTS").is_none() {
        eprintln!("note: set AGENTS_SLOW_TESTS=1 to build the release binary and measure it");
        return;
    }
    let target = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(env!("CARGO"))
        .args(["build", "--release", "--locked", "-p", "agents", "--bin", "agents", "--target-dir"])
        .arg(target.path())
        .current_dir(repo_root())
        .status()
        .unwrap();
    assert!(status.success());
    let size = std::fs::metadata(target.path().join("release/agents")).unwrap().len();
    assert!(size <= 16 * 1024 * 1024, "the release binary is {size} bytes, over 16 MiB");
}
