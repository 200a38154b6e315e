//! What this tool last wrote into a workspace, per agent file: the first of the three hashes the
//! daemon compares (last written, on disk, pinned). Kept in the state directory, never beside the
//! agents, and written atomically like everything else.

use std::collections::BTreeMap;
use std::path::PathBuf;

use agents_format::{AgentName, Sha256};

use crate::error::Result;
use crate::fs;
use crate::workspace::Workspace;

/// The state file format version.
pub const STATE_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WorkspaceState {
    #[serde(default)]
    pub version: u32,
    /// The workspace this state belongs to (for people reading the state directory).
    #[serde(default)]
    pub root: PathBuf,
    /// Agent name → what was last written to its file.
    #[serde(default)]
    pub files: BTreeMap<AgentName, Written>,
    /// Updates that arrived for files with local edits, kept aside.
    #[serde(default)]
    pub conflicts: BTreeMap<AgentName, Conflict>,
    /// Converted files for other tools: lockfile path → what was last written there.
    #[serde(default)]
    pub targets: BTreeMap<String, Sha256>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Written {
    pub sha256: Sha256,
    pub version: semver::Version,
}

/// A pinned version that could not be applied because the file has local edits.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Conflict {
    pub version: semver::Version,
    pub sha256: Sha256,
    /// The upstream copy, in the state directory.
    pub upstream: PathBuf,
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
        let path = self.state_path();
        let state = fs::read_optional(&path)
            .ok()
            .flatten()
            .and_then(|bytes| serde_json::from_slice::<WorkspaceState>(&bytes).ok())
            .unwrap_or_default();
        if state.version > STATE_VERSION {
            tracing::warn!(path = %path.display(), "state written by a newer agents; starting afresh");
            return WorkspaceState::default();
        }
        state
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
    pub fn record(&mut self, name: &AgentName, sha256: Sha256, version: &semver::Version) {
        self.files.insert(name.clone(), Written { sha256, version: version.clone() });
    }

    pub fn last_written(&self, name: &AgentName) -> Option<Sha256> {
        self.files.get(name).map(|w| w.sha256)
    }
}
