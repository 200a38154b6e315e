//! `agents resolve NAME`: settle an update that was kept aside because it conflicts with local
//! edits, in one of three ways, never losing a byte of the user's file.

use std::path::PathBuf;

use agents_format::{AgentName, RelativePath, Sha256};

use crate::engine::{Managed, apply, conflict_copy_path, plan};
use crate::error::{Result, WorkspaceError};
use crate::fs;
use crate::workspace::Workspace;

/// How to settle a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Take the new version; the local edit is saved in the state directory first.
    Theirs,
    /// Keep the file as it is, as a local edit on top of the new version (merged from there on).
    Ours,
    /// Write a copy of the file with conflict markers outside the agents directory, to edit by
    /// hand; the conflict stays until settled with `Ours` or `Theirs`.
    Markers,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Resolved {
    pub path: PathBuf,
    pub version: semver::Version,
    /// Where the local edit was saved (`Theirs`).
    pub backup: Option<PathBuf>,
    /// The copy with conflict markers (`Markers`).
    pub markers: Option<PathBuf>,
}

/// Settles every conflict recorded for `name`'s files.
pub fn resolve_conflict(
    workspace: &Workspace,
    name: &AgentName,
    resolution: Resolution,
    now: i64,
) -> Result<Vec<Resolved>> {
    let _lock = workspace.lock()?;
    let root = workspace.open_root()?;
    let mut state = workspace.read_state();
    let conflicts: Vec<(RelativePath, crate::state::Conflict)> = state
        .conflicts
        .iter()
        .filter(|(_, c)| &c.agent == name)
        .map(|(path, conflict)| (path.clone(), conflict.clone()))
        .collect();
    if conflicts.is_empty() {
        return Err(WorkspaceError::NoConflict { name: name.clone() });
    }
    let mut report = Vec::new();
    for (path, conflict) in conflicts {
        let theirs = fs::read_optional(&conflict.upstream, fs::MAX_MANAGED_FILE_LEN)?.unwrap_or_default();
        if Sha256::of(&theirs) != conflict.sha256 {
            return Err(WorkspaceError::ConflictCopyChanged { path: conflict.upstream.clone() });
        }
        let mut resolved =
            Resolved { path: root.absolute(&path), version: conflict.version.clone(), backup: None, markers: None };
        match resolution {
            Resolution::Theirs => {
                let file = Managed {
                    agent: name.clone(),
                    version: conflict.version.clone(),
                    path: path.clone(),
                    bytes: Some(theirs),
                    ours: Vec::new(),
                    subject: true,
                    base: None,
                    mode: None,
                };
                let steps = plan(&root, vec![file], true)?;
                for result in apply(workspace, &root, steps, &mut state, now)? {
                    resolved.backup = result.backup;
                }
                state.conflicts.remove(&path);
            }
            Resolution::Ours => {
                if let Some(sha256) = root.inspect(&path)?.sha256() {
                    state.record_merge(&path, name, sha256, &conflict.version);
                }
                state.conflicts.remove(&path);
            }
            Resolution::Markers => {
                let merged = conflict_copy_path(workspace, &path, &conflict.version, ".merge");
                if !merged.exists() {
                    // No base to merge from: the whole file is one conflict, yours against theirs.
                    let ours = root.read(&path, fs::MAX_MANAGED_FILE_LEN)?.unwrap_or_default();
                    let with_markers = diffy::merge_bytes(b"", &ours, &theirs).unwrap_or_else(|markers| markers);
                    fs::write_atomic(&merged, &with_markers)?;
                }
                resolved.markers = Some(merged);
            }
        }
        report.push(resolved);
    }
    workspace.write_state(&state)?;
    Ok(report)
}
