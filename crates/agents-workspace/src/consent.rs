//! Consent for executable content: an MCP stdio server's command (and, for plugins, a hook's
//! command or a script it calls) is code that runs on the user's machine, so it becomes active
//! only once the user approved exactly those command lines.
//!
//! An [`Executable`] is a subject (`mcp:github`, or a package name) and the exact command lines;
//! its [`Executable::digest`] is a sha256 over both. Approvals are the user's: kept in the
//! per-user state directory (`<state>/approvals.json`, outside every repository, so a
//! teammate's commit cannot approve anything), keyed by subject and digest, written atomically.
//! A changed command line is a new digest, so it needs a new approval.
//!
//! What is not approved is not written (its config entry is not added; a version approved
//! before stays exactly as it was, still active, until the new one is approved), everything
//! else is installed, and the report lists it as awaiting approval. Nothing here prompts: the
//! CLI asks on a terminal, or takes `--allow-exec NAME…`; `sync` without it and the daemon
//! never approve anything.

use std::path::{Path, PathBuf};

use agents_format::Sha256;

use crate::error::Result;
use crate::fs;

/// The namespace the digest is taken in, so it can never equal another digest of ours.
const DIGEST_NAMESPACE: &str = "agents-consent-v1";
const APPROVALS_VERSION: u32 = 1;

/// Content that runs on the user's machine, as the exact command lines shown for consent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Executable {
    /// What it belongs to: `mcp:NAME` for an MCP server, or a package name.
    pub subject: String,
    /// The command lines, exactly as the tool will run them (environment first, then the
    /// command and its arguments, each quoted as a POSIX shell would need).
    pub lines: Vec<String>,
}

impl Executable {
    /// The sha256 over the subject and every line, canonically framed (each with its length).
    pub fn digest(&self) -> Sha256 {
        let mut text = format!("{DIGEST_NAMESPACE}\n{}:{}\n", self.subject.len(), self.subject);
        for line in &self.lines {
            text.push_str(&format!("{}:{line}\n", line.len()));
        }
        Sha256::of(text.as_bytes())
    }

    /// Whether `--allow-exec NAME` names it: its subject, or an MCP server's bare name.
    pub fn is_named_by(&self, name: &str) -> bool {
        self.subject == name || self.subject.strip_prefix("mcp:") == Some(name)
    }
}

/// One approval: a subject at one digest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Approval {
    subject: String,
    digest: Sha256,
    /// The lines approved, for the user reading the file.
    #[serde(default)]
    lines: Vec<String>,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct ApprovalsFile {
    #[serde(default)]
    version: u32,
    #[serde(default)]
    approved: Vec<Approval>,
}

/// The user's approvals.
#[derive(Debug, Default)]
pub struct Approvals {
    approved: Vec<Approval>,
}

/// Where the approvals live under the state directory.
pub fn approvals_path(state_dir: &Path) -> PathBuf {
    state_dir.join("approvals.json")
}

impl Approvals {
    /// The approvals kept under `state_dir`; none when the file is missing or unreadable (then
    /// nothing is approved: the safe side).
    pub fn read(state_dir: &Path) -> Approvals {
        let bytes = fs::read_optional(&approvals_path(state_dir), fs::MAX_STATE_LEN).ok().flatten();
        let file: ApprovalsFile = bytes.and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
        Approvals { approved: file.approved }
    }

    pub fn is_approved(&self, executable: &Executable) -> bool {
        let digest = executable.digest();
        self.approved.iter().any(|a| a.subject == executable.subject && a.digest == digest)
    }

    /// Whether an approval of `subject` includes the line `line` (one whose lines still hash to
    /// its digest): a plugin's approval names its package digest, so this says a pinned version
    /// was approved without reading the plugin again.
    pub fn covers(&self, subject: &str, line: &str) -> bool {
        self.approved.iter().any(|a| {
            a.subject == subject
                && a.lines.iter().any(|l| l == line)
                && Executable { subject: a.subject.clone(), lines: a.lines.clone() }.digest() == a.digest
        })
    }

    /// Whether some other version of this subject was approved before.
    pub fn was_approved_before(&self, executable: &Executable) -> bool {
        self.approved.iter().any(|a| a.subject == executable.subject)
    }

    /// Approves `executable` (replacing an older approval of the same subject).
    pub fn approve(&mut self, executable: &Executable) {
        self.approved.retain(|a| a.subject != executable.subject);
        self.approved.push(Approval {
            subject: executable.subject.clone(),
            digest: executable.digest(),
            lines: executable.lines.clone(),
        });
        self.approved.sort_by(|a, b| a.subject.cmp(&b.subject));
    }

    /// Writes the approvals atomically under `state_dir`.
    pub fn write(&self, state_dir: &Path) -> Result<()> {
        let file = ApprovalsFile { version: APPROVALS_VERSION, approved: self.approved.clone() };
        let mut text = serde_json::to_string_pretty(&file).unwrap_or_default();
        text.push('\n');
        fs::write_atomic(&approvals_path(state_dir), text.as_bytes())
    }
}

/// Executable content that was not written because it is not approved.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Pending {
    pub subject: String,
    pub lines: Vec<String>,
    pub digest: Sha256,
    /// An earlier version was approved (and stays active until this one is).
    pub changed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_line_needs_a_new_approval() {
        let dir = tempfile::tempdir().expect("temp dir");
        let old = Executable { subject: "mcp:github".into(), lines: vec!["npx -y server-github".into()] };
        let new = Executable { subject: "mcp:github".into(), lines: vec!["npx -y evil".into()] };
        let mut approvals = Approvals::read(dir.path());
        assert!(!approvals.is_approved(&old));
        approvals.approve(&old);
        approvals.write(dir.path()).expect("written");
        let approvals = Approvals::read(dir.path());
        assert!(approvals.is_approved(&old));
        assert!(!approvals.is_approved(&new) && approvals.was_approved_before(&new));
        // Framing: moving text between lines changes the digest.
        let split = Executable { subject: "s".into(), lines: vec!["a".into(), "b".into()] };
        let joined = Executable { subject: "s".into(), lines: vec!["a\n1:b".into()] };
        assert_ne!(split.digest(), joined.digest());
        assert!(new.is_named_by("github") && new.is_named_by("mcp:github") && !new.is_named_by("git"));
    }

    #[test]
    fn a_line_is_covered_only_by_an_approval_whose_lines_hash_to_its_digest() {
        let dir = tempfile::tempdir().expect("temp dir");
        let plugin = Executable { subject: "kit".into(), lines: vec!["hook: x".into(), "digest D1".into()] };
        let mut approvals = Approvals::read(dir.path());
        approvals.approve(&plugin);
        assert!(approvals.covers("kit", "digest D1"));
        assert!(!approvals.covers("kit", "digest D2") && !approvals.covers("other", "digest D1"));
        // Lines edited in the file after the approval no longer match its digest.
        approvals.approved[0].lines.push("digest D2".into());
        assert!(!approvals.covers("kit", "digest D2") && !approvals.covers("kit", "digest D1"));
    }
}
