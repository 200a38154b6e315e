//! What this tool last wrote into a workspace, per managed file: the first of the three hashes
//! every plan compares (last written, on disk, wanted). Kept in the state directory, never beside
//! the agents, and written atomically like everything else.
//!
//! Every managed file is one kind here: an agent's Claude Code file and each converted file are
//! all keyed by their [`RelativePath`] under the workspace boundary, with the agent they belong
//! to, so removal, backup, conflicts and status treat them alike.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use agents_format::{AgentName, RelativePath, Sha256};

use crate::error::Result;
use crate::fs::{self, Fingerprint};
use crate::workspace::Workspace;

/// The state file format version. Version 1 keyed agent files by agent name and converted files
/// by path without their agent; it is read and converted.
pub const STATE_VERSION: u32 = 2;

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WorkspaceState {
    #[serde(default)]
    pub version: u32,
    /// The workspace this state belongs to (for people reading the state directory).
    #[serde(default)]
    pub root: PathBuf,
    /// Managed file → what was last written there.
    #[serde(default)]
    pub files: BTreeMap<RelativePath, Written>,
    /// Updates that arrived for files with local edits, kept aside, per managed file.
    #[serde(default)]
    pub conflicts: BTreeMap<RelativePath, Conflict>,
    /// Directories this tool created to hold managed files: removed again once empty.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub dirs: BTreeSet<RelativePath>,
    /// Managed entries in configuration files (`config_entries.rs`): what was written where.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<crate::config_entries::EntryState>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Written {
    pub agent: AgentName,
    pub sha256: Sha256,
    /// The version these bytes are, or (when `merged`) the version the user's edits were
    /// merged onto: the base of the next three-way merge.
    pub version: semver::Version,
    /// The bytes are a three-way merge of a local edit onto `version`: the user's, not ours, so
    /// they are merged again, never replaced, when the pin moves.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub merged: bool,
    /// The file's fingerprint as written, when the file system keeps exact times: while the
    /// file still has it, it holds `sha256` and is not read to know so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stat: Option<Fingerprint>,
}

/// A pinned version that could not be applied because the file has local edits.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Conflict {
    pub agent: AgentName,
    pub version: semver::Version,
    pub sha256: Sha256,
    /// The upstream copy, in the state directory.
    pub upstream: PathBuf,
    /// The version the local edit was made on (the merge base), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<semver::Version>,
}

/// The version 1 layout, read once and converted.
#[derive(serde::Deserialize)]
struct StateV1 {
    #[serde(default)]
    files: BTreeMap<AgentName, WrittenV1>,
    #[serde(default)]
    conflicts: BTreeMap<AgentName, ConflictV1>,
}

#[derive(serde::Deserialize)]
struct WrittenV1 {
    sha256: Sha256,
    version: semver::Version,
}

#[derive(serde::Deserialize)]
struct ConflictV1 {
    version: semver::Version,
    sha256: Sha256,
    upstream: PathBuf,
}

impl StateV1 {
    /// Agent files move to their path. Converted files are dropped: v1 did not say whose they
    /// were, and the lockfile's pins still recognise them as ours.
    fn upgrade(self) -> WorkspaceState {
        let agent_path = |name: &AgentName| agents_format::Target::ClaudeCode.project_path(name);
        let mut state = WorkspaceState::default();
        for (agent, written) in self.files {
            if let Ok(path) = RelativePath::parse(&agent_path(&agent)) {
                state.files.insert(
                    path,
                    Written { agent, sha256: written.sha256, version: written.version, merged: false, stat: None },
                );
            }
        }
        for (agent, conflict) in self.conflicts {
            if let Ok(path) = RelativePath::parse(&agent_path(&agent)) {
                let ConflictV1 { version, sha256, upstream } = conflict;
                state.conflicts.insert(path, Conflict { agent, version, sha256, upstream, base: None });
            }
        }
        state
    }
}

impl Workspace {
    pub fn state_path(&self) -> PathBuf {
        self.dirs.state.join("workspaces").join(format!("{}.json", self.key()))
    }

    /// Where upstream copies of conflicting updates go.
    pub fn conflict_dir(&self) -> PathBuf {
        self.dirs.state.join("conflicts").join(self.key())
    }

    /// The state, or an empty one when there is none or it cannot be read (the state is a
    /// cache of facts that can be re-derived; a broken file must not stop anything).
    pub fn read_state(&self) -> WorkspaceState {
        /// Only the format version, to choose the type the whole file is read as (read once,
        /// straight into it: no intermediate JSON tree for a state of thousands of files).
        #[derive(serde::Deserialize)]
        struct Format {
            #[serde(default)]
            version: u64,
        }
        let path = self.state_path();
        let Some(bytes) = fs::read_optional(&path, fs::MAX_STATE_LEN).ok().flatten() else {
            return WorkspaceState::default();
        };
        let Ok(Format { version }) = serde_json::from_slice::<Format>(&bytes) else {
            return WorkspaceState::default();
        };
        let state = match version {
            0 | 1 => serde_json::from_slice::<StateV1>(&bytes).ok().map(StateV1::upgrade),
            2 => serde_json::from_slice::<WorkspaceState>(&bytes).ok(),
            _ => {
                tracing::warn!(path = %path.display(), "state written by a newer agents; starting afresh");
                None
            }
        };
        state.unwrap_or_default()
    }

    pub fn write_state(&self, state: &WorkspaceState) -> Result<()> {
        let mut state = state.clone();
        state.version = STATE_VERSION;
        state.root = self.root.clone();
        let mut bytes = serde_json::to_vec_pretty(&state).expect("state always serialises");
        bytes.push(b'\n');
        fs::write_atomic(&self.state_path(), &bytes)
    }
}

impl WorkspaceState {
    /// Records `sha256` as this tool's bytes at `path`. A fingerprint recorded with the same
    /// bytes is kept (the file was found as it was written).
    pub fn record(&mut self, path: &RelativePath, agent: &AgentName, sha256: Sha256, version: &semver::Version) {
        let stat = self.files.get(path).filter(|w| w.sha256 == sha256 && !w.merged).and_then(|w| w.stat);
        self.record_written(path, agent, sha256, version, stat);
    }

    /// Records bytes this tool just wrote at `path`, with the file's fingerprint then.
    pub fn record_written(
        &mut self,
        path: &RelativePath,
        agent: &AgentName,
        sha256: Sha256,
        version: &semver::Version,
        stat: Option<Fingerprint>,
    ) {
        self.insert(path, Written { agent: agent.clone(), sha256, version: version.clone(), merged: false, stat });
    }

    /// Records a merge of the user's edits onto `version` (`stat`: when this tool wrote it).
    pub fn record_merge(
        &mut self,
        path: &RelativePath,
        agent: &AgentName,
        sha256: Sha256,
        version: &semver::Version,
        stat: Option<Fingerprint>,
    ) {
        self.insert(path, Written { agent: agent.clone(), sha256, version: version.clone(), merged: true, stat });
    }

    fn insert(&mut self, path: &RelativePath, written: Written) {
        self.files.insert(path.clone(), written);
    }

    /// Whether `self` records anything `other` does not, fingerprints aside.
    pub fn differs_beyond_fingerprints(&self, other: &WorkspaceState) -> bool {
        let same = |(a, x): (&RelativePath, &Written), (b, y): (&RelativePath, &Written)| {
            a == b && x.agent == y.agent && x.sha256 == y.sha256 && x.version == y.version && x.merged == y.merged
        };
        self.conflicts != other.conflicts
            || self.dirs != other.dirs
            || self.entries != other.entries
            || self.files.len() != other.files.len()
            || !self.files.iter().zip(&other.files).all(|(a, b)| same(a, b))
    }

    /// What is known of the bytes at `path` without reading them: the fingerprint and checksum
    /// recorded when this tool wrote them.
    pub fn known(&self, path: &RelativePath) -> Option<(Fingerprint, Sha256)> {
        self.files.get(path).and_then(|w| w.stat.map(|stat| (stat, w.sha256)))
    }

    /// What this tool last wrote at `path` as its own bytes: a merged file is the user's, so it
    /// is not counted.
    pub fn last_written(&self, path: &RelativePath) -> Option<Sha256> {
        self.files.get(path).filter(|w| !w.merged).map(|w| w.sha256)
    }

    /// The version the file at `path` was installed from (or merged onto): the merge base.
    pub fn installed_from(&self, path: &RelativePath) -> Option<&semver::Version> {
        self.files.get(path).map(|w| &w.version)
    }

    /// Whether `on_disk` at `path` is an edit the user kept on `version` (a clean merge, or a
    /// conflict settled as theirs): the user's bytes, recorded, on the version that is pinned.
    pub fn kept_edit(&self, path: &RelativePath, on_disk: Sha256, version: &semver::Version) -> bool {
        self.files.get(path).is_some_and(|w| w.merged && w.sha256 == on_disk && w.version == *version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_1_state_is_upgraded() {
        let v1 = serde_json::json!({
            "version": 1,
            "files": { "a": { "sha256": "0".repeat(64), "version": "1.0.0" } },
            "conflicts": {},
            "targets": { ".cursor/agents/a.md": "1".repeat(64) },
        });
        let state: StateV1 = serde_json::from_value(v1).unwrap();
        let state = state.upgrade();
        let path = RelativePath::parse(".claude/agents/a.md").unwrap();
        assert_eq!(state.files[&path].agent.as_str(), "a");
        assert_eq!(state.files.len(), 1);
    }

    /// A new fingerprint alone is no reason to write the state; anything else recorded is.
    #[test]
    fn fingerprints_alone_do_not_make_the_state_differ() {
        let path = RelativePath::parse(".claude/agents/a.md").unwrap();
        let agent = AgentName::new("a").unwrap();
        let version = semver::Version::new(1, 0, 0);
        let mut before = WorkspaceState::default();
        before.record(&path, &agent, Sha256::of(b"a"), &version);
        let mut after = before.clone();
        let stat = Fingerprint { ino: 7, size: 1, mtime: (1, 2), ctime: (3, 4) };
        after.record_written(&path, &agent, Sha256::of(b"a"), &version, Some(stat));
        assert!(!after.differs_beyond_fingerprints(&before));
        after.record_written(&path, &agent, Sha256::of(b"b"), &version, Some(stat));
        assert!(after.differs_beyond_fingerprints(&before));
        let mut merged = before.clone();
        merged.record_merge(&path, &agent, Sha256::of(b"a"), &version, None);
        assert!(merged.differs_beyond_fingerprints(&before));
    }
}
