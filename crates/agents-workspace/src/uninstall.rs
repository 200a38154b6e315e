//! `uninstall`: remove agents from the manifest and lockfile, and every managed file of theirs
//! (the Claude Code file and each converted file) that still holds bytes this tool wrote.

use std::path::PathBuf;

use agents_format::{AgentName, RelativePath, Sha256, remove_dependency};

use crate::engine::{Decision, Done, Managed, apply, plan};
use crate::error::{Result, WorkspaceError};
use crate::fs;
use crate::workspace::Workspace;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Uninstalled {
    pub name: AgentName,
    pub path: PathBuf,
    /// Whether the agent's Claude Code file was deleted.
    pub removed_file: bool,
    /// Whether any of its files was kept because it holds local edits (unless forced).
    pub kept_because_modified: bool,
    /// Where the local edits removed by `--force` were saved (one per file).
    pub backup: Option<PathBuf>,
    pub backups: Vec<PathBuf>,
}

/// Removes agents from the manifest and lockfile, and their files unless they hold local edits
/// (with `force`, those are saved in the state directory first).
pub fn uninstall(workspace: &Workspace, names: &[AgentName], force: bool, now: i64) -> Result<Vec<Uninstalled>> {
    let _lock = workspace.lock()?;
    let root = workspace.open_root()?;
    workspace.remove_stale_temp_files();
    let (manifest_text, manifest) = workspace.read_manifest()?;
    let (lockfile_text, mut lockfile) = workspace.read_lockfile()?;
    for name in names {
        if !manifest.agents.contains_key(name) && lockfile.get(name).is_none() {
            return Err(WorkspaceError::NotInstalled { name: name.clone() });
        }
    }
    let mut state = workspace.read_state();
    let mut new_manifest = manifest_text.clone().unwrap_or_default();
    let mut files = Vec::new();
    let mut kinds: Vec<(AgentName, agents_format::Kind)> = Vec::new();
    for name in names {
        let (text, _) = remove_dependency(&new_manifest, name)
            .map_err(|source| WorkspaceError::Manifest { path: workspace.manifest_path(), source })?;
        new_manifest = text;
        let locked = lockfile.remove(name);
        let version = locked.as_ref().map_or_else(|| semver::Version::new(0, 0, 0), |l| l.version.clone());
        let mut paths: Vec<(RelativePath, Vec<Sha256>)> = Vec::new();
        // A package has no file of its own: its files are all in `files`.
        if locked.as_ref().is_none_or(|l| l.kind.is_agent()) {
            paths.push((workspace.agent_relative(name), locked.iter().map(|l| l.sha256).collect()));
        }
        kinds.push((name.clone(), locked.as_ref().map(|l| l.kind).unwrap_or_default()));
        for file in locked.iter().flat_map(|l| &l.files) {
            paths.push((file.path.clone(), vec![file.sha256]));
        }
        for (path, written) in &state.files {
            if &written.agent == name && !paths.iter().any(|(p, _)| p == path) {
                paths.push((path.clone(), Vec::new()));
            }
        }
        for (path, mut ours) in paths {
            ours.extend(state.last_written(&path));
            files.push(Managed {
                agent: name.clone(),
                version: version.clone(),
                path,
                bytes: None,
                ours,
                subject: true,
                base: None,
                mode: None,
            });
        }
    }
    let steps = plan(&root, files, force)?;
    let results = apply(workspace, &root, steps, &mut state, now)?;
    let mut report = Vec::new();
    for name in names {
        let kind = kinds.iter().find(|(n, _)| n == name).map(|(_, k)| *k).unwrap_or_default();
        let (primary, path) = match kind {
            agents_format::Kind::Agent => (workspace.agent_relative(name), workspace.agent_path(name)),
            kind => (
                crate::packages::main_file(workspace, kind, name),
                crate::packages::display_path(workspace, kind, name),
            ),
        };
        let mine: Vec<_> = results.iter().filter(|r| &r.step.file.agent == name).collect();
        let backups: Vec<PathBuf> = mine.iter().filter_map(|r| r.backup.clone()).collect();
        report.push(Uninstalled {
            name: name.clone(),
            path,
            removed_file: mine.iter().any(|r| r.step.file.path == primary && r.done == Done::Removed),
            kept_because_modified: mine
                .iter()
                .any(|r| matches!(r.step.decision, Decision::Conflict(_)) || matches!(r.done, Done::Raced { .. })),
            backup: mine.iter().find(|r| r.step.file.path == primary).and_then(|r| r.backup.clone()),
            backups,
        });
        // What is kept is the user's now: no longer recorded as ours.
        state.files.retain(|_, written| &written.agent != name);
        state.conflicts.retain(|_, conflict| &conflict.agent != name);
    }
    if manifest_text.is_some() && manifest_text.as_deref() != Some(new_manifest.as_str()) {
        fs::write_atomic(&workspace.manifest_path(), new_manifest.as_bytes())?;
    }
    let new_lockfile = lockfile.to_text();
    if lockfile_text.is_some() && lockfile_text.as_deref() != Some(new_lockfile.as_str()) {
        fs::write_atomic(&workspace.lockfile_path(), new_lockfile.as_bytes())?;
    }
    if let Err(error) = workspace.write_state(&state) {
        tracing::warn!("could not record the uninstall in the state directory: {error}");
    }
    Ok(report)
}
