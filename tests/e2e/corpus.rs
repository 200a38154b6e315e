//! The whole shared corpus (158 real agent files) publishes and installs back byte for byte
//! (skipped, with a note, where `../shared` is absent).

use std::ffi::OsStr;

use agents_test_support::{TestEnv, corpus};

#[test]
fn every_corpus_file_publishes_and_installs_back_byte_identical() {
    let Some(corpus) = corpus() else { return };
    let env = TestEnv::new();
    env.registry("corpus");
    let files = corpus.files;
    assert_eq!(files.len(), 158);
    let mut names = Vec::new();
    for file in &files {
        env.run([OsStr::new("publish"), file.as_os_str(), OsStr::new("--version"), OsStr::new("1.0.0")]).success();
        let bytes = std::fs::read(file).unwrap();
        names.push(agents_format::AgentFile::parse(&bytes).unwrap().name.to_string());
    }
    let mut install = env.agents();
    install.args(["install", "--registry", "corpus"]).args(&names);
    let output = install.output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    for (file, name) in files.iter().zip(&names) {
        let installed = std::fs::read(env.agents_dir().join(format!("{name}.md"))).unwrap();
        assert!(installed == std::fs::read(file).unwrap(), "{} did not round-trip", file.display());
    }
    env.run(["verify"]).success().stderr_contains("158 agents match");
}
