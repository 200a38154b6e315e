//! Updates kept aside because they conflict with the user's edits: `agents resolve NAME` settles
//! them (take the new version, keep the file, or install a finished file: one the user edited
//! from the three-way draft with markers, or brought), and `agents diff NAME` shows a package's
//! local edits, or the three sides of a conflict. The copies kept aside go once it is settled.

use std::path::PathBuf;

use agents_format::{AgentName, RelativePath, Sha256};

use crate::engine::{self, Done, conflict_copy_path};
use crate::error::{Result, WorkspaceError};
use crate::fs;
use crate::model::{self, Disk, Loader, Pins};
use crate::placement::Contents;
use crate::registries::Registries;
use crate::resolve::RegistryLoader;
use crate::state::{Conflict, WorkspaceState};
use crate::workspace::Workspace;

/// How to settle a conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Take the new version; the local edit is saved in the state directory first.
    Theirs,
    /// Keep the file as it is, as a local edit on top of the new version (merged from there on).
    Ours,
    /// Write the three-way draft with conflict markers outside the agents directory, to edit by
    /// hand; the conflict stays until settled.
    Markers,
    /// Install these bytes, a finished file (no conflict markers left), as the user's edit on
    /// the new version; the file they replace is saved in the state directory first.
    Take(Vec<u8>),
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Resolved {
    pub path: PathBuf,
    pub version: semver::Version,
    /// Where the local edit was saved (`Theirs`, `Take`).
    pub backup: Option<PathBuf>,
    /// The draft with conflict markers (`Markers`).
    pub markers: Option<PathBuf>,
}

/// One conflicted file of a package, with the draft to edit.
#[derive(Debug, Clone)]
pub struct Draft {
    /// The file in the workspace.
    pub path: PathBuf,
    /// The three-way result with conflict markers, in the state directory.
    pub draft: PathBuf,
}

/// Whether `bytes` still hold a conflict marker line (`<<<<<<<`, `|||||||`, `=======`,
/// `>>>>>>>` at the start of a line, as git and diffy write them).
pub fn has_conflict_markers(bytes: &[u8]) -> bool {
    bytes.split(|b| *b == b'\n').any(|line| {
        [b"<<<<<<<".as_slice(), b"|||||||", b"=======", b">>>>>>>"]
            .iter()
            .any(|marker| line.starts_with(marker) && line.get(7).is_none_or(|c| *c == b' ' || *c == b'\r'))
    })
}

/// The conflicts recorded for `name`'s files.
fn recorded(state: &WorkspaceState, name: &AgentName) -> Vec<(RelativePath, Conflict)> {
    state
        .conflicts
        .iter()
        .filter(|(_, c)| &c.agent == name)
        .map(|(path, conflict)| (path.clone(), conflict.clone()))
        .collect()
}

/// The drafts to edit for `name`'s conflicts (written when missing), for `agents resolve --edit`.
pub fn conflict_drafts(workspace: &Workspace, name: &AgentName) -> Result<Vec<Draft>> {
    let root = workspace.open_root()?;
    let state = workspace.read_state();
    let conflicts = recorded(&state, name);
    if conflicts.is_empty() {
        return Err(WorkspaceError::NoConflict { name: name.clone() });
    }
    let mut drafts = Vec::new();
    for (path, conflict) in conflicts {
        let theirs = upstream(&conflict)?;
        drafts.push(Draft { path: root.absolute(&path), draft: draft(workspace, &root, &path, &conflict, &theirs)? });
    }
    Ok(drafts)
}

/// The upstream copy kept aside, checked against what was recorded.
fn upstream(conflict: &Conflict) -> Result<Vec<u8>> {
    let theirs = fs::read_optional(&conflict.upstream, fs::MAX_MANAGED_FILE_LEN)?.unwrap_or_default();
    if Sha256::of(&theirs) != conflict.sha256 {
        return Err(WorkspaceError::ConflictCopyChanged { path: conflict.upstream.clone() });
    }
    Ok(theirs)
}

/// The draft with conflict markers for one file (written by the merge that conflicted; without a
/// merge base, the whole file is one conflict, yours against theirs).
fn draft(
    workspace: &Workspace,
    root: &fs::Root,
    path: &RelativePath,
    conflict: &Conflict,
    theirs: &[u8],
) -> Result<PathBuf> {
    let merged = conflict_copy_path(workspace, path, &conflict.version, ".merge");
    if !merged.exists() {
        let ours = root.read(path, fs::MAX_MANAGED_FILE_LEN)?.unwrap_or_default();
        let with_markers = diffy::merge_bytes(b"", &ours, theirs).unwrap_or_else(|markers| markers);
        fs::write_atomic(&merged, &with_markers)?;
    }
    Ok(merged)
}

/// Settles every conflict recorded for `name`'s files (`Take`: the one conflicted file).
pub fn resolve_conflict(
    workspace: &Workspace,
    name: &AgentName,
    resolution: Resolution,
    now: i64,
) -> Result<Vec<Resolved>> {
    let _lock = workspace.lock()?;
    let root = workspace.open_root()?;
    let mut state = workspace.read_state();
    let conflicts = recorded(&state, name);
    if conflicts.is_empty() {
        return Err(WorkspaceError::NoConflict { name: name.clone() });
    }
    if let Resolution::Take(bytes) = &resolution {
        if conflicts.len() > 1 {
            return Err(WorkspaceError::SeveralConflicts { name: name.clone(), count: conflicts.len() });
        }
        if has_conflict_markers(bytes) {
            return Err(WorkspaceError::MarkersLeft { name: name.clone() });
        }
    }
    let (_, lockfile) = workspace.read_lockfile()?;
    let pins = Pins::of(workspace.placement(), &lockfile);
    let mut report = Vec::new();
    for (path, conflict) in conflicts {
        let theirs = upstream(&conflict)?;
        let mut resolved =
            Resolved { path: root.absolute(&path), version: conflict.version.clone(), backup: None, markers: None };
        match &resolution {
            Resolution::Theirs | Resolution::Take(_) => {
                let bytes = match &resolution {
                    Resolution::Take(bytes) => bytes.clone(),
                    _ => theirs.clone(),
                };
                let disk = Disk::new(&root, &state);
                let file = model::replacement(&path, &conflict, bytes.clone(), &disk, &state, &pins)?;
                let steps = engine::plan(&root, vec![file], true)?;
                for result in engine::apply(workspace, &root, steps, &mut state, now)? {
                    resolved.backup = result.backup;
                    let done = matches!(result.done, Done::Written | Done::Unchanged);
                    if done && bytes != theirs {
                        // The user's file on the new version: merged again, never replaced.
                        // The fingerprint of the write just made stays with it.
                        let stat = state.known(&path).map(|(stat, _)| stat);
                        state.record_merge(&path, name, Sha256::of(&bytes), &conflict.version, stat);
                    }
                    if !done {
                        return Err(WorkspaceError::ChangedMeanwhile { path: root.absolute(&path) });
                    }
                }
                engine::settle(&mut state, &path);
            }
            Resolution::Ours => {
                if let Some(sha256) = root.inspect(&path)?.sha256() {
                    state.record_merge(&path, name, sha256, &conflict.version, None);
                }
                engine::settle(&mut state, &path);
            }
            Resolution::Markers => resolved.markers = Some(draft(workspace, &root, &path, &conflict, &theirs)?),
        }
        report.push(resolved);
    }
    workspace.write_state(&state)?;
    Ok(report)
}

/// What `agents diff NAME` compares: the local file against the pinned version, or against the
/// upstream copy of a conflicting update.
#[derive(Debug, Clone)]
pub struct DiffInput {
    pub name: AgentName,
    pub path: PathBuf,
    pub local: Option<Vec<u8>>,
    pub upstream: Vec<u8>,
    /// `go-backend-expert@1.1.0 (pinned)` or `… (update kept aside: file has local edits)`.
    pub upstream_label: String,
    /// For an update kept aside: the version the local edits were made on, and its bytes, so
    /// the three sides of the conflict can be shown.
    pub base: Option<(String, Vec<u8>)>,
}

/// The file of `name` to show: its first file kept aside in a conflict, else its first file that
/// differs from the pin, else its main file.
pub fn diff_input(workspace: &Workspace, registries: &mut Registries, name: &AgentName) -> Result<DiffInput> {
    let (_, manifest) = workspace.read_manifest()?;
    let (_, lockfile) = workspace.read_lockfile()?;
    let locked = lockfile.get(name).ok_or_else(|| WorkspaceError::NotInstalled { name: name.clone() })?;
    let root = workspace.open_root()?;
    let state = workspace.read_state();
    let placement = workspace.placement();
    let mut loader =
        RegistryLoader::new(workspace, registries, (false, false), workspace.read_lockfile()?.1.roots().clone());
    if let Some((path, conflict)) = recorded(&state, name).into_iter().next() {
        let base = match &conflict.base {
            Some(version) => loader
                .load_version(locked, version)?
                .map(|contents| placement.place(locked.kind, name, &manifest.targets, &contents))
                .and_then(|placed| placed.files.into_iter().find(|f| f.path == path))
                .map(|file| (format!("{name}@{version} (base)"), file.bytes)),
            None => None,
        };
        return Ok(DiffInput {
            name: name.clone(),
            path: root.absolute(&path),
            local: root.read(&path, fs::MAX_MANAGED_FILE_LEN)?,
            upstream: upstream(&conflict)?,
            upstream_label: format!("{name}@{} (update kept aside: the file has local edits)", conflict.version),
            base,
        });
    }
    let contents: Contents = loader.load(locked)?.contents;
    let placed = placement.place(locked.kind, name, &manifest.targets, &contents);
    let main = placement.main_file(locked.kind, name);
    let mut chosen = None;
    for file in &placed.files {
        if root.inspect(&file.path)?.sha256() != Some(Sha256::of(&file.bytes)) {
            chosen = Some(file);
            break;
        }
    }
    let chosen = chosen
        .or_else(|| placed.files.iter().find(|f| f.path == main))
        .or(placed.files.first())
        .ok_or_else(|| WorkspaceError::NotInstalled { name: name.clone() })?;
    let label = if chosen.path == main || locked.kind.is_agent() && chosen.path == placement.agent_file(name) {
        format!("{name}@{} (pinned)", locked.version)
    } else {
        format!("{name}@{} {} (pinned)", locked.version, chosen.path)
    };
    Ok(DiffInput {
        name: name.clone(),
        path: root.absolute(&chosen.path),
        local: root.read(&chosen.path, fs::MAX_MANAGED_FILE_LEN)?,
        upstream: chosen.bytes.clone(),
        upstream_label: label,
        base: None,
    })
}
