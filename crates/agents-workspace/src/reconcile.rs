//! Reconciliation: bring a workspace's agent files to what its lockfile pins, without ever
//! losing a local edit. The daemon runs this after every change it notices; it is also what
//! `agents sync` does once.
//!
//! Per agent it compares three hashes: what this tool last wrote, what is on disk, and what the
//! lockfile pins. A file is written only when it is missing or still holds bytes this tool put
//! there; anything else is drift, kept and reported. When the pin moves under an edited file,
//! the upstream copy is saved in the state directory and reported as a conflict.

use std::path::PathBuf;

use agents_format::{AgentName, IndexFile, LockedAgent, Sha256};

use crate::error::{Result, WorkspaceError};
use crate::fs;
use crate::install::locked_record;
use crate::registries::Registries;
use crate::state::Conflict;
use crate::targets::target_files;
use crate::workspace::Workspace;

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ReconcileReport {
    /// Files written: restored, or moved to a new pinned version.
    pub written: Vec<Change>,
    /// Files removed because their agent left the lockfile (and they held our bytes).
    pub removed: Vec<AgentName>,
    /// Files whose bytes are a local edit: kept.
    pub drift: Vec<Drift>,
    /// Pinned versions that arrived for edited files: kept aside in the state directory.
    pub conflicts: Vec<ConflictReport>,
    /// Agents that could not be reconciled this time (e.g. a registry not in the cache).
    pub errors: Vec<String>,
    /// Whether a fetch would help: a pinned version or registry is not in the cache yet (a
    /// lockfile that arrived with `git pull` pins what this machine has not fetched).
    pub needs_fetch: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Change {
    pub name: AgentName,
    pub from: Option<semver::Version>,
    pub to: semver::Version,
    pub path: PathBuf,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Drift {
    pub name: AgentName,
    pub path: PathBuf,
    pub pinned: Option<semver::Version>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ConflictReport {
    pub name: AgentName,
    pub version: semver::Version,
    pub upstream: PathBuf,
}

impl ReconcileReport {
    pub fn is_quiet(&self) -> bool {
        self.written.is_empty() && self.removed.is_empty() && self.conflicts.is_empty() && self.errors.is_empty()
    }
}

/// Reconciles `workspace` once, under the workspace lock.
pub fn reconcile(workspace: &Workspace, registries: &mut Registries) -> Result<ReconcileReport> {
    let _lock = workspace.lock()?;
    workspace.check_agents_dir()?;
    // A writer killed mid-write leaves its temporary file; we hold the lock, so it is stale.
    fs::remove_stale_temp_files(&workspace.agents_dir)?;
    fs::remove_stale_temp_files(&workspace.root)?;
    let mut report = ReconcileReport::default();
    if !workspace.lockfile_path().exists() {
        return Ok(report);
    }
    let (_, lockfile) = workspace.read_lockfile()?;
    let mut state = workspace.read_state();
    let original = state.clone();

    for locked in lockfile.agents() {
        if let Err(error) = reconcile_agent(workspace, registries, locked, &mut state, &mut report) {
            report.needs_fetch |= matches!(
                error,
                WorkspaceError::LockedVersionMissing { .. }
                    | WorkspaceError::UnknownRegistryId { .. }
                    | WorkspaceError::Registry(agents_registry::RegistryError::NotARegistry { .. })
            );
            report.errors.push(format!("{}@{}: {error}", locked.name, locked.version));
        }
    }

    // Agents that left the lockfile (an uninstall that arrived with `git pull`).
    let gone: Vec<AgentName> = state.files.keys().filter(|name| lockfile.get(name).is_none()).cloned().collect();
    for name in gone {
        let path = workspace.agent_path(&name);
        let written = state.files.remove(&name).map(|w| w.sha256);
        state.conflicts.remove(&name);
        match fs::hash_file(&path)? {
            Some(hash) if Some(hash) == written => {
                fs::remove_optional(&path)?;
                report.removed.push(name);
            }
            Some(_) => report.drift.push(Drift { name, path, pinned: None }),
            None => {}
        }
    }
    if state != original {
        workspace.write_state(&state)?;
    }
    Ok(report)
}

fn reconcile_agent(
    workspace: &Workspace,
    registries: &mut Registries,
    locked: &LockedAgent,
    state: &mut crate::state::WorkspaceState,
    report: &mut ReconcileReport,
) -> Result<()> {
    let name = &locked.name;
    let path = workspace.agent_path(name);
    let is_symlink = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
    let on_disk = if is_symlink { None } else { fs::hash_file(&path)? };
    let last = state.files.get(name).cloned();
    if on_disk == Some(locked.sha256) {
        state.record(name, locked.sha256, &locked.version);
        state.conflicts.remove(name);
        if locked.files.iter().any(|f| fs::hash_file(&workspace.resolve(&f.path)).ok().flatten() != Some(f.sha256)) {
            let (_, bytes) = pinned_body(registries, locked)?;
            return reconcile_converted(workspace, locked, &bytes, state, report);
        }
        return Ok(());
    }
    if is_symlink {
        report.drift.push(Drift { name: name.clone(), path, pinned: Some(locked.version.clone()) });
        return Ok(());
    }
    let (index, bytes) = pinned_body(registries, locked)?;
    let ours =
        |hash: &Sha256| last.as_ref().is_some_and(|w| &w.sha256 == hash) || index.records().any(|r| &r.sha256 == hash);
    match on_disk {
        None => {}
        Some(hash) if ours(&hash) => {}
        Some(_) => {
            report.drift.push(Drift { name: name.clone(), path: path.clone(), pinned: Some(locked.version.clone()) });
            // The pin moved since we last wrote this file: keep the edit, set the update aside.
            if last.as_ref().is_none_or(|w| w.sha256 != locked.sha256) {
                let already =
                    state.conflicts.get(name).is_some_and(|c| c.sha256 == locked.sha256 && c.upstream.exists());
                let upstream = workspace.conflict_dir().join(format!("{name}@{}.md", locked.version));
                if !already {
                    fs::write_atomic(&upstream, &bytes)?;
                    state.conflicts.insert(
                        name.clone(),
                        Conflict { version: locked.version.clone(), sha256: locked.sha256, upstream: upstream.clone() },
                    );
                }
                report.conflicts.push(ConflictReport { name: name.clone(), version: locked.version.clone(), upstream });
            }
            return Ok(());
        }
    }
    fs::write_atomic(&path, &bytes)?;
    report.written.push(Change {
        name: name.clone(),
        from: if on_disk.is_some() { last.map(|w| w.version) } else { None },
        to: locked.version.clone(),
        path,
    });
    state.record(name, locked.sha256, &locked.version);
    state.conflicts.remove(name);
    reconcile_converted(workspace, locked, &bytes, state, report)
}

/// The converted files of one agent, with the same rules as the agent file: write when missing
/// or still ours, keep and report anything else.
fn reconcile_converted(
    workspace: &Workspace,
    locked: &LockedAgent,
    body: &[u8],
    state: &mut crate::state::WorkspaceState,
    report: &mut ReconcileReport,
) -> Result<()> {
    for file in &locked.files {
        let path = workspace.resolve(&file.path);
        let on_disk = fs::hash_file(&path)?;
        if on_disk == Some(file.sha256) {
            state.targets.insert(file.path.clone(), file.sha256);
            continue;
        }
        let ours = on_disk.is_none() || on_disk.as_ref() == state.targets.get(&file.path);
        if !ours {
            report.drift.push(Drift { name: locked.name.clone(), path, pinned: Some(locked.version.clone()) });
            continue;
        }
        let Ok(target) = agents_format::Target::parse(&file.target) else {
            report.errors.push(format!("{}: unknown target `{}` in agents.lock", locked.name, file.target));
            continue;
        };
        let converted = target_files(workspace, &[target], &locked.name, body);
        match converted.into_iter().find(|c| c.relative == file.path) {
            Some(converted) if Sha256::of(&converted.bytes) == file.sha256 => {
                fs::write_atomic(&path, &converted.bytes)?;
                state.targets.insert(file.path.clone(), file.sha256);
                report.written.push(Change { name: locked.name.clone(), from: None, to: locked.version.clone(), path });
            }
            _ => report.errors.push(format!(
                "{}@{}: the {} file this version of agents writes differs from agents.lock; run `agents install`",
                locked.name, locked.version, file.target
            )),
        }
    }
    Ok(())
}

/// The pinned body of a locked agent, verified against the lockfile, with the agent's index.
pub(crate) fn pinned_body(registries: &mut Registries, locked: &LockedAgent) -> Result<(IndexFile, Vec<u8>)> {
    let registry_name = registries
        .name_for_id(&locked.registry)?
        .ok_or_else(|| WorkspaceError::UnknownRegistryId { name: locked.name.clone(), id: locked.registry.clone() })?;
    let index = registries.open(&registry_name)?.index_file(&locked.name)?.unwrap_or_default();
    let record = locked_record(registries, &registry_name, &index, locked)?;
    let index = registries.open(&registry_name)?.index_file(&locked.name)?.unwrap_or_default();
    let bytes = registries.open(&registry_name)?.body(&record)?;
    Ok((index, bytes))
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
}

pub fn diff_input(workspace: &Workspace, registries: &mut Registries, name: &AgentName) -> Result<DiffInput> {
    let (_, lockfile) = workspace.read_lockfile()?;
    let locked = lockfile.get(name).ok_or_else(|| WorkspaceError::NotInstalled { name: name.clone() })?;
    let path = workspace.agent_path(name);
    let local = fs::read_optional(&path)?;
    let state = workspace.read_state();
    if let Some(conflict) = state.conflicts.get(name)
        && let Some(bytes) = fs::read_optional(&conflict.upstream)?
    {
        return Ok(DiffInput {
            name: name.clone(),
            path,
            local,
            upstream: bytes,
            upstream_label: format!("{name}@{} (update kept aside: the file has local edits)", conflict.version),
        });
    }
    let (_, upstream) = pinned_body(registries, locked)?;
    Ok(DiffInput {
        name: name.clone(),
        path,
        local,
        upstream,
        upstream_label: format!("{name}@{} (pinned)", locked.version),
    })
}
