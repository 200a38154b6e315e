//! Install and uninstall: resolve each agent to one registry and version, plan every file change,
//! refuse the whole plan if it would clobber a local edit, then apply it atomically.

use std::path::PathBuf;

use agents_format::{
    AgentFile, AgentName, Dependency, EMPTY_MANIFEST, IndexFile, IndexRecord, LockedAgent, Sha256, Target, caret,
    remove_dependency, select, set_dependency, set_targets,
};
use agents_registry::BUILTIN_NAME;

use crate::error::{Result, WorkspaceError};
use crate::fs;
use crate::registries::Registries;
use crate::state::WorkspaceState;
use crate::targets::{TargetFile, target_files};
use crate::workspace::Workspace;

/// One `NAME[@REQ]` from the command line.
#[derive(Debug, Clone)]
pub struct InstallRequest {
    pub name: AgentName,
    pub requirement: Option<semver::VersionReq>,
}

#[derive(Debug, Clone, Default)]
pub struct InstallOptions {
    /// Overwrite local edits (after backing them up in the state directory).
    pub force: bool,
    /// Fail instead of changing `agents.lock`.
    pub locked: bool,
    /// Take new agents from this registry.
    pub registry: Option<String>,
    /// Seconds since the epoch, for naming backups.
    pub now: i64,
    /// Re-resolve these agents within the manifest's requirements instead of keeping their
    /// locked versions (`agents update`).
    pub unlock: Unlock,
    /// Refuse agent files with hidden Unicode instead of warning.
    pub deny_hidden_unicode: bool,
    /// Tools to install for besides Claude Code (added to the manifest's `targets`).
    pub targets: Vec<Target>,
}

/// Which locked versions `install` may move.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Unlock {
    /// Keep every locked version that still meets its requirement.
    #[default]
    None,
    /// Re-resolve everything.
    All,
    /// Re-resolve these.
    Some(Vec<AgentName>),
}

impl Unlock {
    fn covers(&self, name: &AgentName) -> bool {
        match self {
            Unlock::None => false,
            Unlock::All => true,
            Unlock::Some(names) => names.contains(name),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "action")]
pub enum Action {
    /// Newly written.
    Installed,
    /// A managed file was missing and is written again.
    Restored,
    /// Replaced an older managed version.
    Updated { from: String },
    /// Already on disk with the right bytes: nothing written.
    Fresh,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Installed {
    pub name: AgentName,
    pub version: semver::Version,
    pub registry: String,
    pub path: PathBuf,
    #[serde(flatten)]
    pub action: Action,
    /// Where a local edit overwritten by `--force` was saved.
    pub backup: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct InstallReport {
    pub agents: Vec<Installed>,
    pub warnings: Vec<String>,
    /// What a conversion for another tool could not carry over.
    pub notes: Vec<String>,
    pub manifest_changed: bool,
    pub lockfile_changed: bool,
}

struct Planned {
    installed: Installed,
    bytes: Vec<u8>,
    write: bool,
    conflict: bool,
    /// Converted files for other tools.
    extra: Vec<ExtraPlan>,
}

struct ExtraPlan {
    file: TargetFile,
    write: bool,
    conflict: bool,
}

/// Installs `requests`, or everything the manifest and lockfile name when `requests` is empty.
pub fn install(
    workspace: &Workspace,
    registries: &mut Registries,
    requests: &[InstallRequest],
    options: &InstallOptions,
) -> Result<InstallReport> {
    let _lock = workspace.lock()?;
    workspace.check_agents_dir()?;
    // A writer killed mid-write leaves its temporary file; we hold the lock, so it is stale.
    fs::remove_stale_temp_files(&workspace.agents_dir)?;
    fs::remove_stale_temp_files(&workspace.root)?;
    let (manifest_text, manifest) = workspace.read_manifest()?;
    let (lockfile_text, mut lockfile) = workspace.read_lockfile()?;
    let mut new_manifest = manifest_text.clone().unwrap_or_else(|| EMPTY_MANIFEST.to_owned());
    let mut report = InstallReport::default();
    let mut state = workspace.read_state();
    let original_state = state.clone();

    let mut tools = manifest.targets.clone();
    for target in &options.targets {
        if *target != Target::ClaudeCode && !tools.contains(target) {
            tools.push(*target);
        }
    }
    tools.sort();
    if tools != manifest.targets {
        new_manifest = set_targets(&new_manifest, &tools)
            .map_err(|source| WorkspaceError::Manifest { path: workspace.manifest_path(), source })?;
    }

    let targets: Vec<(AgentName, Option<semver::VersionReq>, bool)> = if requests.is_empty() {
        let mut names: Vec<AgentName> = lockfile.agents().iter().map(|a| a.name.clone()).collect();
        names.extend(manifest.agents.keys().cloned());
        names.sort();
        names.dedup();
        names.into_iter().map(|name| (name, None, false)).collect()
    } else {
        requests.iter().map(|r| (r.name.clone(), r.requirement.clone(), true)).collect()
    };

    let mut planned = Vec::with_capacity(targets.len());
    for (name, requested, explicit) in targets {
        let dependency = manifest.agents.get(&name);
        // Switching an agent to another registry starts its requirement afresh: the old one
        // describes versions of a different publisher's agent.
        let switches_registry = explicit
            && options.registry.as_deref().is_some_and(|chosen| {
                dependency.is_some_and(|d| d.registry.as_deref().unwrap_or(BUILTIN_NAME) != chosen)
            });
        let dependency = dependency.filter(|_| !switches_registry);
        let requirement = requested.clone().or_else(|| dependency.map(|d| d.requirement.clone()));
        let locked = lockfile.get(&name).cloned();

        let chosen_registry = if explicit { options.registry.clone() } else { None }
            .or_else(|| dependency.and_then(|d| d.registry.clone()));
        let (registry_name, index) = match (chosen_registry, &locked) {
            (Some(registry_name), _) => {
                let index = registries.open(&registry_name)?.index_file(&name)?;
                let index = index.ok_or_else(|| WorkspaceError::UnknownAgent {
                    name: name.clone(),
                    searched: format!("registry `{registry_name}`"),
                })?;
                (registry_name, index)
            }
            (None, Some(locked)) => {
                let registry_name = registries.name_for_id(&locked.registry)?.ok_or_else(|| {
                    WorkspaceError::UnknownRegistryId { name: name.clone(), id: locked.registry.clone() }
                })?;
                let index = registries.open(&registry_name)?.index_file(&name)?.unwrap_or_default();
                (registry_name, index)
            }
            (None, None) => registries.locate(&name)?,
        };
        let registry_id = registries.open(&registry_name)?.config.id.clone();

        let keep_locked = locked.as_ref().filter(|locked| {
            locked.registry == registry_id
                && requirement.as_ref().is_none_or(|r| r.matches(&locked.version))
                && !options.unlock.covers(&name)
        });
        let record = match keep_locked {
            Some(locked) => {
                let record = locked_record(registries, &registry_name, &index, locked)?;
                if record.yanked {
                    report.warnings.push(format!(
                        "{}@{} is yanked in registry `{registry_name}`; keeping it because agents.lock pins it",
                        name, record.version
                    ));
                }
                record
            }
            None => {
                if options.locked {
                    return Err(WorkspaceError::LockfileWouldChange {
                        reason: format!("`{name}` is not locked at a version matching the manifest"),
                    });
                }
                let requirement = requirement.clone().unwrap_or(semver::VersionReq::STAR);
                select(index.records(), &requirement)
                    .cloned()
                    .ok_or_else(|| no_match(&name, &registry_name, &index, &requirement))?
            }
        };
        let bytes = registries.open(&registry_name)?.body(&record)?;
        if let Ok(file) = AgentFile::parse(&bytes)
            && file.has_hidden_unicode()
        {
            let hidden: Vec<String> = file
                .warnings
                .iter()
                .filter(|w| w.code == agents_format::WarningCode::HiddenUnicode)
                .map(|w| w.message.clone())
                .collect();
            let agent = format!("{name}@{}", record.version);
            if options.deny_hidden_unicode {
                return Err(WorkspaceError::HiddenUnicode { agent, found: hidden.join("; ") });
            }
            report.warnings.push(format!("{agent} contains hidden Unicode: {}", hidden.join("; ")));
        }

        if explicit {
            let registry = (registry_name != BUILTIN_NAME).then(|| registry_name.clone());
            let requirement = requested.unwrap_or_else(|| match dependency {
                Some(existing) if existing.requirement.matches(&record.version) => existing.requirement.clone(),
                _ => caret(&record.version),
            });
            let wanted = Dependency { requirement, registry };
            if dependency != Some(&wanted) {
                new_manifest = set_dependency(&new_manifest, &name, &wanted)
                    .map_err(|source| WorkspaceError::Manifest { path: workspace.manifest_path(), source })?;
            }
        }

        let last_written = state.last_written(&name);
        let extra = target_files(workspace, &tools, &name, &bytes)
            .into_iter()
            .map(|file| plan_extra(file, locked.as_ref(), &state))
            .collect::<Result<Vec<_>>>()?;
        let files = extra.iter().map(|plan| plan.file.locked()).collect();
        let mut plan =
            plan_file(workspace, &index, locked.as_ref(), last_written, &registry_name, record.clone(), bytes)?;
        plan.extra = extra;
        planned.push(plan);
        lockfile.insert(LockedAgent {
            name,
            version: record.version,
            registry: registry_id,
            sha256: record.sha256,
            files,
        });
    }

    let conflicts: Vec<String> = planned
        .iter()
        .flat_map(|p| {
            let primary = p.conflict.then(|| p.installed.path.display().to_string());
            let extra = p.extra.iter().filter(|e| e.conflict).map(|e| e.file.path.display().to_string());
            primary.into_iter().chain(extra)
        })
        .collect();
    if !conflicts.is_empty() && !options.force {
        return Err(WorkspaceError::Conflicts { count: conflicts.len(), paths: conflicts.join(", ") });
    }
    let new_lockfile = lockfile.to_text();
    if options.locked && lockfile_text.as_deref() != Some(new_lockfile.as_str()) {
        return Err(WorkspaceError::LockfileWouldChange { reason: "agents.lock is missing or out of date".to_owned() });
    }

    for mut plan in planned {
        if plan.write {
            if plan.conflict {
                plan.installed.backup = Some(back_up(workspace, &plan.installed.name, options.now)?);
            }
            fs::write_atomic(&plan.installed.path, &plan.bytes)?;
        }
        for extra in &plan.extra {
            if extra.write {
                if extra.conflict {
                    let backup = back_up_path(workspace, &extra.file.path, &plan.installed.name, options.now)?;
                    report.warnings.push(format!(
                        "saved your edits to {} as {}",
                        extra.file.path.display(),
                        backup.display()
                    ));
                }
                fs::write_atomic(&extra.file.path, &extra.file.bytes)?;
                report.notes.extend(extra.file.unmapped.iter().map(|note| {
                    format!("{} for {}: not carried over: {note}", plan.installed.name, extra.file.target)
                }));
            }
            state.targets.insert(extra.file.relative.clone(), Sha256::of(&extra.file.bytes));
        }
        let installed = &plan.installed;
        state.record(&installed.name, Sha256::of(&plan.bytes), &installed.version);
        state.conflicts.remove(&installed.name);
        report.agents.push(plan.installed);
    }
    if manifest_text.as_deref() != Some(new_manifest.as_str()) {
        fs::write_atomic(&workspace.manifest_path(), new_manifest.as_bytes())?;
        report.manifest_changed = true;
    }
    if lockfile_text.as_deref() != Some(new_lockfile.as_str()) {
        fs::write_atomic(&workspace.lockfile_path(), new_lockfile.as_bytes())?;
        report.lockfile_changed = true;
    }
    if state != original_state {
        workspace.write_state(&state)?;
    }
    Ok(report)
}

/// The record of a locked version, checked against the lockfile's checksum.
pub(crate) fn locked_record(
    registries: &mut Registries,
    registry_name: &str,
    index: &IndexFile,
    locked: &LockedAgent,
) -> Result<IndexRecord> {
    let mut record = index.find(&locked.version).cloned();
    if record.is_none() && registries.refresh(registry_name)? {
        let index = registries.open(registry_name)?.index_file(&locked.name)?.unwrap_or_default();
        record = index.find(&locked.version).cloned();
    }
    let record = record.ok_or_else(|| WorkspaceError::LockedVersionMissing {
        name: locked.name.clone(),
        version: locked.version.clone(),
        registry: registry_name.to_owned(),
    })?;
    if record.sha256 != locked.sha256 {
        return Err(WorkspaceError::LockedChecksumChanged {
            agent: format!("{}@{}", locked.name, locked.version),
            registry: registry_name.to_owned(),
            locked: locked.sha256.to_hex(),
            published: record.sha256.to_hex(),
        });
    }
    Ok(record)
}

fn no_match(name: &AgentName, registry: &str, index: &IndexFile, requirement: &semver::VersionReq) -> WorkspaceError {
    let versions: Vec<String> = index
        .records()
        .map(|r| if r.yanked { format!("{} (yanked)", r.version) } else { r.version.to_string() })
        .collect();
    let available = if versions.is_empty() { String::new() } else { format!(" (published: {})", versions.join(", ")) };
    WorkspaceError::NoMatchingVersion {
        name: name.clone(),
        registry: registry.to_owned(),
        requirement: requirement.clone(),
        available,
    }
}

/// Decides what to do with the file of one agent. A file on disk may be replaced only when it
/// holds bytes this tool put there: the previously locked version, or any published version of
/// the agent (a crash between writing the file and the lockfile leaves exactly that).
fn plan_file(
    workspace: &Workspace,
    index: &IndexFile,
    previous: Option<&LockedAgent>,
    last_written: Option<Sha256>,
    registry: &str,
    record: IndexRecord,
    bytes: Vec<u8>,
) -> Result<Planned> {
    let path = workspace.agent_path(&record.name);
    let is_symlink = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
    let on_disk = if is_symlink { None } else { fs::hash_file(&path)? };
    let pristine = |hash: &Sha256| {
        last_written.as_ref() == Some(hash)
            || previous.is_some_and(|p| &p.sha256 == hash)
            || index.records().any(|r| &r.sha256 == hash)
    };
    let (action, write, conflict) = match on_disk {
        _ if is_symlink => (Action::Installed, true, true),
        Some(hash) if hash == record.sha256 => (Action::Fresh, false, false),
        None if previous.is_some() => (Action::Restored, true, false),
        None => (Action::Installed, true, false),
        Some(hash) => {
            let conflict = !pristine(&hash);
            // After a `git pull` the lockfile already names the new version; what is on disk
            // tells which version is being replaced.
            let on_disk = index.records().find(|r| r.sha256 == hash).map(|r| r.version.clone());
            match previous {
                _ if on_disk.as_ref().is_some_and(|v| v != &record.version) => {
                    (Action::Updated { from: on_disk.map(|v| v.to_string()).unwrap_or_default() }, true, conflict)
                }
                Some(previous) if previous.version == record.version => (Action::Restored, true, conflict),
                Some(previous) => (Action::Updated { from: previous.version.to_string() }, true, conflict),
                None => (Action::Updated { from: "an unmanaged file".to_owned() }, true, conflict),
            }
        }
    };
    let installed = Installed {
        name: record.name,
        version: record.version,
        registry: registry.to_owned(),
        path,
        action,
        backup: None,
    };
    Ok(Planned { installed, bytes, write, conflict, extra: Vec::new() })
}

/// Decides what to do with a converted file: like the agent file, it is replaced only when it
/// holds what this tool wrote (the locked conversion, or the last write recorded in the state).
fn plan_extra(file: TargetFile, previous: Option<&LockedAgent>, state: &WorkspaceState) -> Result<ExtraPlan> {
    let is_symlink = std::fs::symlink_metadata(&file.path).is_ok_and(|m| m.file_type().is_symlink());
    let on_disk = if is_symlink { None } else { fs::hash_file(&file.path)? };
    let new = Sha256::of(&file.bytes);
    let locked = previous.and_then(|p| p.files.iter().find(|f| f.path == file.relative)).map(|f| f.sha256);
    let ours = |hash: &Sha256| locked.as_ref() == Some(hash) || state.targets.get(&file.relative) == Some(hash);
    let (write, conflict) = match on_disk {
        _ if is_symlink => (true, true),
        Some(hash) if hash == new => (false, false),
        None => (true, false),
        Some(hash) => (true, !ours(&hash)),
    };
    Ok(ExtraPlan { file, write, conflict })
}

/// Saves the file at `path` under the state directory before `--force` overwrites it.
fn back_up_path(workspace: &Workspace, path: &std::path::Path, name: &AgentName, now: i64) -> Result<PathBuf> {
    let bytes = fs::read_optional(path)?.unwrap_or_default();
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| name.to_string());
    let backup = workspace.backup_dir().join(format!("{file_name}-{now}.bak"));
    fs::write_atomic(&backup, &bytes)?;
    Ok(backup)
}

fn back_up(workspace: &Workspace, name: &AgentName, now: i64) -> Result<PathBuf> {
    let source = workspace.agent_path(name);
    let bytes = fs::read_optional(&source)?.unwrap_or_default();
    let mut path = workspace.backup_dir().join(format!("{name}-{now}.md.bak"));
    let mut counter = 1;
    while path.exists() {
        path = workspace.backup_dir().join(format!("{name}-{now}-{counter}.md.bak"));
        counter += 1;
    }
    fs::write_atomic(&path, &bytes)?;
    Ok(path)
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Uninstalled {
    pub name: AgentName,
    pub path: PathBuf,
    /// Whether the file was deleted (a file with local edits is kept unless forced).
    pub removed_file: bool,
    pub kept_because_modified: bool,
    pub backup: Option<PathBuf>,
}

/// Removes agents from the manifest and lockfile, and their files unless they hold local edits.
pub fn uninstall(workspace: &Workspace, names: &[AgentName], force: bool, now: i64) -> Result<Vec<Uninstalled>> {
    let _lock = workspace.lock()?;
    workspace.check_agents_dir()?;
    let (manifest_text, manifest) = workspace.read_manifest()?;
    let (lockfile_text, mut lockfile) = workspace.read_lockfile()?;
    let mut new_manifest = manifest_text.clone().unwrap_or_default();
    for name in names {
        if !manifest.agents.contains_key(name) && lockfile.get(name).is_none() {
            return Err(WorkspaceError::NotInstalled { name: name.clone() });
        }
    }
    let mut results = Vec::new();
    let mut state = workspace.read_state();
    for name in names {
        state.files.remove(name);
        state.conflicts.remove(name);
        let (text, _) = remove_dependency(&new_manifest, name)
            .map_err(|source| WorkspaceError::Manifest { path: workspace.manifest_path(), source })?;
        new_manifest = text;
        let locked = lockfile.remove(name);
        let path = workspace.agent_path(name);
        let is_symlink = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
        let on_disk = if is_symlink { None } else { fs::hash_file(&path)? };
        let modified = match (&on_disk, &locked) {
            (None, _) => false,
            (Some(hash), Some(locked)) => hash != &locked.sha256,
            (Some(_), None) => true,
        };
        let mut result = Uninstalled {
            name: name.clone(),
            path: path.clone(),
            removed_file: false,
            kept_because_modified: modified && !force,
            backup: None,
        };
        if on_disk.is_some() && (!modified || force) {
            if modified {
                result.backup = Some(back_up(workspace, name, now)?);
            }
            result.removed_file = fs::remove_optional(&path)?;
        }
        for file in locked.iter().flat_map(|l| &l.files) {
            let path = workspace.resolve(&file.path);
            state.targets.remove(&file.path);
            match fs::hash_file(&path)? {
                Some(hash) if hash == file.sha256 => {
                    fs::remove_optional(&path)?;
                }
                Some(_) if force => {
                    // Edits are never lost, even to --force: they go to the state directory first.
                    back_up_path(workspace, &path, name, now)?;
                    fs::remove_optional(&path)?;
                }
                Some(_) => result.kept_because_modified = true,
                None => {}
            }
        }
        results.push(result);
    }
    if manifest_text.is_some() && manifest_text.as_deref() != Some(new_manifest.as_str()) {
        fs::write_atomic(&workspace.manifest_path(), new_manifest.as_bytes())?;
    }
    let new_lockfile = lockfile.to_text();
    if lockfile_text.is_some() && lockfile_text.as_deref() != Some(new_lockfile.as_str()) {
        fs::write_atomic(&workspace.lockfile_path(), new_lockfile.as_bytes())?;
    }
    workspace.write_state(&state)?;
    Ok(results)
}
