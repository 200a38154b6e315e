//! What Claude Code itself says about agent files, from its own validator (`claude plugin
//! validate`, which runs offline), compared with what `agents` concludes: which files Claude
//! Code cannot parse (and so, in a project's `.claude/agents/`, where `agents install` puts them,
//! does not load at all; `agents publish` refuses them), and which have no description (which
//! `agents publish` refuses too). The pinned version (the one every test uses,
//! `crate::plugins::claude_code`) is installed with npm under the target directory, once; without
//! npm or network the test is skipped with a note. (2.1.328 and 2.1.332 say the same of these
//! files.)

use std::process::Command;

use agents_format::{AgentFile, WarningCode};
use agents_test_support::{corpus_files, seed_path, shared_dir};

/// Hard cases (no corpus text): an unquoted description with `: ` (Claude Code's fallback quotes
/// it), examples at column 0 inside a description (beyond the fallback), no description.
const CASES: &[&str] = &[
    "---\nname: colon\ndescription: Use it. Triggers on: x, y\ntools: [\"Read\", \"Grep\"]\n---\nBody.\n",
    "---\nname: examples\ndescription: Use it. Examples:\n<example>\nuser: \"Check it\"\n</example>\ntools: Read\n---\nBody.\n",
    "---\nname: bare\ntools: Read\n---\nBody.\n",
    "---\nname: fine\ndescription: \"Quoted\"\n---\nBody.\n",
];

#[test]
fn claude_code_s_validator_agrees_on_what_it_cannot_parse_and_what_lacks_a_description() {
    let binary = match crate::plugins::claude_code() {
        Ok(binary) => binary,
        Err(why) => {
            eprintln!("note: skipping Claude Code's own validator: {why}");
            return;
        }
    };
    let mut inputs: Vec<(String, Vec<u8>)> =
        CASES.iter().enumerate().map(|(i, text)| (format!("case {i}"), text.as_bytes().to_vec())).collect();
    if shared_dir().join("corpus").is_dir() {
        for path in corpus_files().into_iter().chain([seed_path()]) {
            inputs.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    } else {
        eprintln!("note: {} is absent: checking the built-in cases only", shared_dir().join("corpus").display());
    }
    // A project, as `agents install` leaves one: Claude Code judges its agents as project agents.
    let project = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(project.path().join(".claude/agents")).unwrap();
    for (index, (_, bytes)) in inputs.iter().enumerate() {
        std::fs::write(project.path().join(format!(".claude/agents/{index:03}.md")), bytes).unwrap();
    }
    let home = tempfile::tempdir().unwrap();
    let output = Command::new(&binary)
        .args(["plugin", "validate"])
        .arg(project.path())
        .env("HOME", home.path())
        .env("DISABLE_AUTOUPDATER", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);

    // Per agent file, the lines Claude Code prints under "Validating agent: PATH".
    let section = |index: usize| -> String {
        let header =
            format!("Validating agent: {}", project.path().join(format!(".claude/agents/{index:03}.md")).display());
        text.split(&header)
            .nth(1)
            .map(|rest| {
                rest.split("Validating").next().unwrap_or(rest).split("Plugin directory").next().unwrap_or(rest)
            })
            .unwrap_or_default()
            .to_owned()
    };
    let mut disagreements = Vec::new();
    for (index, (label, bytes)) in inputs.iter().enumerate() {
        let file = AgentFile::parse(bytes).unwrap();
        let said = section(index);
        let claude_drops = said.contains("failed to parse");
        let we_say_drops = file.warnings.iter().any(|w| w.code == WarningCode::ClaudeCodeDropsFields);
        if claude_drops != we_say_drops {
            disagreements
                .push(format!("{label}: Claude Code parses it: {}, lint says: {}", !claude_drops, !we_say_drops));
        }
        // What lint says Claude Code then does is what Claude Code says it does.
        let claude_skips = said.contains("does not load at all");
        let lint = file.warnings.iter().find(|w| w.code == WarningCode::ClaudeCodeDropsFields);
        if claude_drops && (!claude_skips || !lint.is_some_and(|w| w.message.contains("does not load this agent"))) {
            disagreements.push(format!("{label}: Claude Code says: {said}\nlint says: {lint:?}"));
        }
        let claude_no_description = said.contains("No description");
        if !claude_drops && claude_no_description != file.description.is_none() {
            disagreements.push(format!("{label}: description missing for Claude Code: {claude_no_description}"));
        }
    }
    assert!(disagreements.is_empty(), "{}\n--- claude plugin validate:\n{text}", disagreements.join("\n"));
    // The cases say something, so the sections were found.
    assert!(section(1).contains("failed to parse") && section(2).contains("No description"), "{text}");
}
