//! The state of a workspace's agents on disk against its lockfile: `list` and `verify`.

use std::path::PathBuf;

use agents_format::AgentName;

use crate::error::{Result, WorkspaceError};
use crate::fs::{OnDisk, Root};
use crate::workspace::Workspace;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// On disk, byte-identical to the locked version.
    Ok,
    /// On disk with different bytes: a local edit.
    Modified,
    /// Locked but not on disk.
    Missing,
    /// In the manifest but not locked yet (run `agents install`).
    NotInstalled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Modified => "modified",
            Status::Missing => "missing",
            Status::NotInstalled => "not installed",
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AgentStatus {
    pub name: AgentName,
    pub version: Option<semver::Version>,
    pub requirement: Option<String>,
    /// The registry id from the lockfile.
    pub registry: Option<String>,
    pub sha256: Option<String>,
    pub path: PathBuf,
    /// The worst of the agent file's status and its converted files'.
    pub status: Status,
    /// Converted files for other tools, each with its own status.
    pub files: Vec<FileStatus>,
    /// When the agent file holds the user's edits merged onto the locked version: that version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_onto: Option<semver::Version>,
    /// What is installed; absent in JSON for an agent.
    #[serde(skip_serializing_if = "agents_format::Kind::is_agent")]
    pub kind: agents_format::Kind,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct FileStatus {
    pub target: String,
    pub path: PathBuf,
    pub status: Status,
}

fn file_status(root: &Root, path: &agents_format::RelativePath, pinned: &agents_format::Sha256) -> Result<Status> {
    Ok(match root.inspect(path) {
        Ok(OnDisk::Missing) => Status::Missing,
        Ok(OnDisk::File { sha256, .. }) if &sha256 == pinned => Status::Ok,
        // A local edit, a symlink in its place, or a symlinked directory on the way: not ours.
        Ok(_) | Err(WorkspaceError::SymlinkedPath { .. }) => Status::Modified,
        Err(error) => return Err(error),
    })
}

/// Modified outranks missing outranks ok: the status a user must act on first.
fn worst(a: Status, b: Status) -> Status {
    let rank = |s: Status| match s {
        Status::Ok => 0,
        Status::NotInstalled => 1,
        Status::Missing => 2,
        Status::Modified => 3,
    };
    if rank(b) > rank(a) { b } else { a }
}

/// Every agent of the workspace (manifest and lockfile), sorted by name.
pub fn status(workspace: &Workspace) -> Result<Vec<AgentStatus>> {
    let (_, manifest) = workspace.read_manifest()?;
    let (_, lockfile) = workspace.read_lockfile()?;
    let mut names: Vec<AgentName> = lockfile.agents().iter().map(|a| a.name.clone()).collect();
    names.extend(manifest.agents.keys().cloned());
    names.sort();
    names.dedup();
    let mut all = Vec::with_capacity(names.len());
    let root = workspace.open_root()?;
    let state = workspace.read_state();
    for name in names {
        let locked = lockfile.get(&name);
        let kind = locked.map(|l| l.kind).unwrap_or_default();
        let path = match kind {
            agents_format::Kind::Agent => workspace.agent_path(&name),
            kind => crate::packages::display_path(workspace, kind, &name),
        };
        let mut status = match locked {
            None => Status::NotInstalled,
            // A package's files are all in `files`.
            Some(locked) if !locked.kind.is_agent() => Status::Ok,
            Some(locked) => file_status(&root, &workspace.agent_relative(&name), &locked.sha256)?,
        };
        let mut files = Vec::new();
        for file in locked.iter().flat_map(|l| &l.files) {
            let path = workspace.resolve(&file.path);
            let file_status = file_status(&root, &file.path, &file.sha256)?;
            status = worst(status, file_status);
            files.push(FileStatus { target: file.target.clone(), path, status: file_status });
        }
        let merged_onto = state
            .files
            .get(&workspace.agent_relative(&name))
            .filter(|w| w.merged && status == Status::Modified && locked.is_some_and(|l| l.version == w.version))
            .map(|w| w.version.clone());
        all.push(AgentStatus {
            kind,
            merged_onto,
            requirement: manifest.agents.get(&name).map(|d| d.requirement.to_string()),
            version: locked.map(|l| l.version.clone()),
            registry: locked.map(|l| l.registry.to_string()),
            sha256: locked.map(|l| l.sha256.to_hex()),
            path,
            status,
            files,
            name,
        });
    }
    Ok(all)
}
