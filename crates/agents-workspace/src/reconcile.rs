//! Reconciliation: bring a workspace's agent files to what its lockfile pins, without ever
//! losing a local edit. The daemon runs this after every change it notices; it is also what
//! `agents sync` does once.
//!
//! Per agent it compares three hashes: what this tool last wrote, what is on disk, and what the
//! lockfile pins. A file is written only when it is missing or still holds bytes this tool put
//! there; anything else is drift, kept and reported. When the pin moves under an edited file,
//! the upstream copy is saved in the state directory and reported as a conflict.

use std::collections::BTreeSet;
use std::path::PathBuf;

use agents_format::{AgentName, IndexFile, LockedAgent, RelativePath, Sha256, Target};

use crate::engine::{Decision, Done, Managed, apply, plan, set_aside};
use crate::error::{Result, WorkspaceError};
use crate::fs::{self, OnDisk};
use crate::install::locked_record;
use crate::registries::Registries;
use crate::state::WorkspaceState;
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
    /// Local edits merged three ways onto a new pinned version, and written.
    pub merged: Vec<Change>,
    /// Pinned versions that arrived for edited files: kept aside in the state directory.
    pub conflicts: Vec<ConflictReport>,
    /// Agents that could not be reconciled this time (e.g. a registry not in the cache).
    pub errors: Vec<String>,
    /// Whether a fetch would help: a pinned version or registry is not in the cache yet (a
    /// lockfile that arrived with `git pull` pins what this machine has not fetched).
    pub needs_fetch: bool,
    /// Locked versions the cached registry does not have (also in `errors`): not fetched yet,
    /// or really missing. The daemon tells the two apart by whether it fetched since.
    pub missing: Vec<MissingPin>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MissingPin {
    pub name: AgentName,
    pub version: semver::Version,
    pub registry: String,
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
        self.written.is_empty()
            && self.merged.is_empty()
            && self.removed.is_empty()
            && self.conflicts.is_empty()
            && self.errors.is_empty()
    }
}

/// Reconciles `workspace` once, under the workspace lock: every managed file of every locked
/// agent is planned with the same rule as an install (never forced), and files this tool wrote
/// for agents that left the lockfile are removed when they still hold its bytes.
pub fn reconcile(workspace: &Workspace, registries: &mut Registries) -> Result<ReconcileReport> {
    let mut report = ReconcileReport::default();
    if !workspace.lockfile_path().exists() {
        return Ok(report);
    }
    // Offline, everything is read from the cache anyway: nothing to do before the lock.
    if registries.mode() != agents_registry::FetchMode::Offline {
        prefetch(workspace, registries);
    }
    let _lock = workspace.lock()?;
    let root = workspace.open_root()?;
    let (_, lockfile) = workspace.read_lockfile()?;
    workspace.remove_stale_temp_files();
    let deny = workspace
        .read_user_config()
        .is_ok_and(|(_, c)| c.security.hidden_unicode == Some(agents_format::HiddenUnicodePolicy::Deny));
    let mut state = workspace.read_state();
    let original = state.clone();

    let mut files = Vec::new();
    let mut wanted_paths = BTreeSet::new();
    for locked in lockfile.agents() {
        // A package has no file of its own: every file it installs is in `files`.
        let mut pinned: Vec<(RelativePath, Sha256)> = Vec::new();
        if locked.kind.is_agent() {
            pinned.push((workspace.agent_relative(&locked.name), locked.sha256));
        }
        pinned.extend(locked.files.iter().map(|f| (f.path.clone(), f.sha256)));
        wanted_paths.extend(pinned.iter().map(|(p, _)| p.clone()));
        // The common case, and the daemon's after every event: every file is as pinned, and no
        // registry needs to be read.
        let mut as_pinned = true;
        for (path, sha256) in &pinned {
            as_pinned &= root.inspect(path)?.sha256() == Some(*sha256);
        }
        if as_pinned {
            for (path, sha256) in &pinned {
                state.record(path, &locked.name, *sha256, &locked.version);
                state.conflicts.remove(path);
            }
            continue;
        }
        match agent_files(workspace, registries, locked, &state, deny) {
            Ok((managed, errors)) => {
                files.extend(managed);
                report.errors.extend(errors);
            }
            Err(error) => {
                if let WorkspaceError::LockedVersionMissing { name, version, registry } = &error {
                    report.missing.push(MissingPin {
                        name: name.clone(),
                        version: version.clone(),
                        registry: registry.clone(),
                    });
                }
                report.needs_fetch |= matches!(
                    error,
                    WorkspaceError::LockedVersionMissing { .. }
                        | WorkspaceError::UnknownRegistryId { .. }
                        | WorkspaceError::Registry(agents_registry::RegistryError::NotARegistry { .. })
                        // A sparse registry's file this cache never fetched (a pulled pin's body).
                        | WorkspaceError::Registry(agents_registry::RegistryError::NotCached { .. })
                );
                report.errors.push(format!("{}@{}: {error}", locked.name, locked.version));
                // Files of an agent that cannot be reconciled now are neither written nor removed.
            }
        }
    }
    // Files written for agents (or tools) that left the lockfile: an uninstall that arrived
    // with `git pull` removes the Claude Code file and every converted file alike.
    for (path, written) in &state.files {
        if !wanted_paths.contains(path) {
            files.push(Managed {
                agent: written.agent.clone(),
                version: written.version.clone(),
                path: path.clone(),
                bytes: None,
                ours: state.last_written(path).into_iter().collect(),
                subject: false,
                base: None,
                mode: None,
            });
        }
    }

    let steps = plan(&root, files, false)?;
    for step in &steps {
        let Decision::Conflict(_) = step.decision else { continue };
        let absolute = root.absolute(&step.file.path);
        let pinned = step.file.bytes.as_ref().map(|_| step.file.version.clone());
        report.drift.push(Drift { name: step.file.agent.clone(), path: absolute.clone(), pinned });
        // The pin moved since this file was installed: keep the edit, set the update aside.
        if step.file.bytes.is_some() && state.installed_from(&step.file.path) != Some(&step.file.version) {
            let upstream = set_aside(workspace, &mut state, step)?;
            report.conflicts.push(ConflictReport {
                name: step.file.agent.clone(),
                version: step.file.version.clone(),
                upstream,
            });
        }
    }

    for result in apply(workspace, &root, steps, &mut state, 0)? {
        let file = &result.step.file;
        let path = root.absolute(&file.path);
        match &result.done {
            Done::Written => report.written.push(Change {
                name: file.agent.clone(),
                from: match result.step.on_disk {
                    OnDisk::File { .. } => original.files.get(&file.path).map(|w| w.version.clone()),
                    _ => None,
                },
                to: file.version.clone(),
                path,
            }),
            Done::Removed => {
                if !report.removed.contains(&file.agent) {
                    report.removed.push(file.agent.clone());
                }
            }
            Done::Raced { .. } => report.drift.push(Drift {
                name: file.agent.clone(),
                path,
                pinned: file.bytes.as_ref().map(|_| file.version.clone()),
            }),
            Done::Merged => report.merged.push(Change {
                name: file.agent.clone(),
                from: original.files.get(&file.path).map(|w| w.version.clone()),
                to: file.version.clone(),
                path,
            }),
            Done::Unchanged | Done::Kept => {}
        }
    }
    if state != original {
        workspace.write_state(&state)?;
    }
    Ok(report)
}

/// Resolve, before the workspace lock is taken: whatever a registry must fetch for the pins
/// whose files are not as pinned (a registry not cloned yet, a version the cache lacks) is
/// fetched now, so the reconcile under the lock reads only the cache. Errors are left for the
/// reconcile to report.
fn prefetch(workspace: &Workspace, registries: &mut Registries) {
    let (Ok((_, lockfile)), Ok(root)) = (workspace.read_lockfile(), workspace.open_root()) else { return };
    for locked in lockfile.agents() {
        let primary = workspace.agent_relative(&locked.name);
        let as_pinned = (!locked.kind.is_agent()
            || root.inspect(&primary).is_ok_and(|d| d.sha256() == Some(locked.sha256)))
            && locked.files.iter().all(|f| root.inspect(&f.path).is_ok_and(|d| d.sha256() == Some(f.sha256)));
        if !as_pinned {
            if locked.kind.is_agent() {
                let _ = pinned_body(workspace, registries, locked);
            } else {
                let _ = pinned_package(workspace, registries, locked);
            }
        }
    }
}

/// The managed files of one locked agent whose files are not all as pinned, with its pinned
/// body (verified), or the errors that keep some of them from being written.
fn agent_files(
    workspace: &Workspace,
    registries: &mut Registries,
    locked: &LockedAgent,
    state: &WorkspaceState,
    deny: bool,
) -> Result<(Vec<Managed>, Vec<String>)> {
    if !locked.kind.is_agent() {
        let (index, contents) = pinned_package(workspace, registries, locked)?;
        crate::packages::hidden_unicode(&format!("{}@{}", locked.name, locked.version), &contents, deny)?;
        let published = crate::packages::published_files(&index);
        return Ok(crate::packages::locked_files(workspace, locked, &contents, &published, state));
    }
    let (index, bytes) = pinned_body(workspace, registries, locked)?;
    crate::gate::hidden_unicode(&format!("{}@{}", locked.name, locked.version), &bytes, deny)?;
    let mut errors = Vec::new();
    let primary = workspace.agent_relative(&locked.name);
    let mut ours: Vec<Sha256> = index.records().map(|r| r.sha256).collect();
    ours.extend(state.last_written(&primary));
    // The version the files were installed from, when the pin moved away from it: the base a
    // local edit is merged from.
    let base_body = match state.installed_from(&primary) {
        Some(version) if *version != locked.version => match index.find(version) {
            Some(record) => {
                let registry_name = registries.name_for_id(&locked.registry)?.unwrap_or_default();
                registries.open(&registry_name).and_then(|r| Ok(r.body(record)?)).ok()
            }
            None => None,
        },
        _ => None,
    };
    let targets: Vec<Target> = locked.files.iter().filter_map(|f| Target::parse(&f.target).ok()).collect();
    let base_converted =
        base_body.as_deref().map(|base| target_files(workspace, &targets, &locked.name, base)).unwrap_or_default();
    let mut files = vec![Managed {
        agent: locked.name.clone(),
        version: locked.version.clone(),
        path: primary,
        bytes: Some(bytes.clone()),
        ours,
        subject: false,
        base: base_body.clone(),
        mode: None,
    }];
    let converted = target_files(workspace, &targets, &locked.name, &bytes);
    for file in &locked.files {
        match converted.iter().find(|c| c.relative == file.path) {
            Some(converted) if Sha256::of(&converted.bytes) == file.sha256 => files.push(Managed {
                agent: locked.name.clone(),
                version: locked.version.clone(),
                path: file.path.clone(),
                bytes: Some(converted.bytes.clone()),
                ours: state.last_written(&file.path).into_iter().collect(),
                subject: false,
                base: base_converted.iter().find(|b| b.relative == file.path).map(|b| b.bytes.clone()),
                mode: None,
            }),
            _ => errors.push(format!(
                "{}@{}: the {} file this version of agents writes differs from agents.lock; run `agents install`",
                locked.name, locked.version, file.target
            )),
        }
    }
    Ok((files, errors))
}

/// The pinned body of a locked agent, verified against the lockfile, with the agent's index.
pub(crate) fn pinned_body(
    workspace: &Workspace,
    registries: &mut Registries,
    locked: &LockedAgent,
) -> Result<(IndexFile, Vec<u8>)> {
    pinned(workspace, registries, locked, |registry, record| Ok(registry.body(record)?))
}

/// The pinned files of a locked package, each verified, with its index.
pub(crate) fn pinned_package(
    workspace: &Workspace,
    registries: &mut Registries,
    locked: &LockedAgent,
) -> Result<(IndexFile, Vec<agents_registry::PackageContent>)> {
    pinned(workspace, registries, locked, |registry, record| Ok(registry.package_files(record)?))
}

/// The locked record of `locked` (checked against the lockfile and, since a lockfile arrives
/// with `git pull`, by the same signature check as install), its index, and what `read` makes
/// of it.
fn pinned<T>(
    workspace: &Workspace,
    registries: &mut Registries,
    locked: &LockedAgent,
    read: impl FnOnce(&agents_registry::Registry, &agents_format::IndexRecord) -> Result<T>,
) -> Result<(IndexFile, T)> {
    let registry_name = registries
        .name_for_id(&locked.registry)?
        .ok_or_else(|| WorkspaceError::UnknownRegistryId { name: locked.name.clone(), id: locked.registry.clone() })?;
    let index = registries.open(&registry_name)?.index_file(&locked.name)?.unwrap_or_default();
    let record = locked_record(registries, &registry_name, &index, locked)?;
    let index = registries.open(&registry_name)?.index_file(&locked.name)?.unwrap_or_default();
    let content = read(registries.open(&registry_name)?, &record)?;
    crate::signatures::accept_quietly(workspace, registries.open(&registry_name)?, &record, Some(locked))?;
    Ok((index, content))
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

pub fn diff_input(workspace: &Workspace, registries: &mut Registries, name: &AgentName) -> Result<DiffInput> {
    let (_, lockfile) = workspace.read_lockfile()?;
    let locked = lockfile.get(name).ok_or_else(|| WorkspaceError::NotInstalled { name: name.clone() })?;
    let root = workspace.open_root()?;
    if !locked.kind.is_agent() {
        // A package: the first of its files that differs from the pin (else its main file).
        let (_, contents) = pinned_package(workspace, registries, locked)?;
        let main = crate::packages::main_file(workspace, locked.kind, name);
        let mut chosen = None;
        for file in &locked.files {
            if root.inspect(&file.path)?.sha256() != Some(file.sha256) {
                chosen = Some(file);
                break;
            }
        }
        let chosen = chosen.or_else(|| locked.files.iter().find(|f| f.path == main)).or(locked.files.first());
        let chosen = chosen.ok_or_else(|| WorkspaceError::NotInstalled { name: name.clone() })?;
        let upstream = contents
            .iter()
            .find(|c| c.file.sha256 == chosen.sha256 && chosen.path.as_str().ends_with(c.file.path.as_str()))
            .map(|c| c.bytes.clone())
            .unwrap_or_default();
        return Ok(DiffInput {
            name: name.clone(),
            path: workspace.resolve(&chosen.path),
            local: root.read(&chosen.path, fs::MAX_MANAGED_FILE_LEN)?,
            upstream,
            upstream_label: format!("{name}@{} {} (pinned)", locked.version, chosen.path),
            base: None,
        });
    }
    let path = workspace.agent_path(name);
    let local = root.read(&workspace.agent_relative(name), fs::MAX_MANAGED_FILE_LEN)?;
    let state = workspace.read_state();
    if let Some(conflict) = state.conflicts.get(&workspace.agent_relative(name))
        && let Some(bytes) = fs::read_optional(&conflict.upstream, fs::MAX_MANAGED_FILE_LEN)?
    {
        let base = match &conflict.base {
            Some(version) => {
                base_body(registries, locked, version)?.map(|body| (format!("{name}@{version} (base)"), body))
            }
            None => None,
        };
        return Ok(DiffInput {
            name: name.clone(),
            path,
            local,
            upstream: bytes,
            upstream_label: format!("{name}@{} (update kept aside: the file has local edits)", conflict.version),
            base,
        });
    }
    let (_, upstream) = pinned_body(workspace, registries, locked)?;
    Ok(DiffInput {
        name: name.clone(),
        path,
        local,
        upstream,
        upstream_label: format!("{name}@{} (pinned)", locked.version),
        base: None,
    })
}

/// The body of another published version of a locked agent, from the registry it is locked to.
fn base_body(registries: &mut Registries, locked: &LockedAgent, version: &semver::Version) -> Result<Option<Vec<u8>>> {
    let Some(registry_name) = registries.name_for_id(&locked.registry)? else { return Ok(None) };
    let index = registries.open(&registry_name)?.index_file(&locked.name)?.unwrap_or_default();
    match index.find(version) {
        Some(record) => Ok(Some(registries.open(&registry_name)?.body(record)?)),
        None => Ok(None),
    }
}
