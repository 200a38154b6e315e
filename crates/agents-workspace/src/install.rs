//! Install and uninstall: resolve each agent to one registry and version, plan every file change,
//! refuse the whole plan if it would clobber a local edit, then apply it atomically.

use std::path::PathBuf;

use agents_format::{
    AgentName, Dependency, EMPTY_MANIFEST, IndexFile, IndexRecord, LockedAgent, RelativePath, Sha256, Target, caret,
    select, set_dependency, set_targets,
};
use agents_registry::BUILTIN_NAME;

use crate::engine::{Blocker, Decision, Done, Managed, Step, apply, plan, set_aside};
use crate::error::{Result, WorkspaceError};
use crate::fs::{self, OnDisk, Root};
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
    /// A local edit merged three ways onto the new version.
    Merged { from: String },
    /// A local edit whose merge with the new version conflicts: the file is left as it was.
    Conflict,
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
    /// What a conversion for another tool could not carry over, one line per loss.
    pub notes: Vec<String>,
    /// The same losses, structured, for grouping (`agents install` prints one line per kind).
    pub losses: Vec<Loss>,
    pub manifest_changed: bool,
    pub lockfile_changed: bool,
    /// Local edits whose merge with the new version conflicts: the file is unchanged, the new
    /// version is pinned and kept aside (`agents diff`, `agents resolve`).
    pub conflicts: Vec<crate::reconcile::ConflictReport>,
}

/// One thing a converted file could not carry over.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Loss {
    pub agent: AgentName,
    pub target: String,
    /// What was lost, as [`agents_format::Converted::unmapped`] names it.
    pub detail: String,
}

/// One agent after resolution: the exact version and its verified bytes.
struct Resolved {
    name: AgentName,
    registry: String,
    record: IndexRecord,
    bytes: Vec<u8>,
    registry_id: agents_format::RegistryId,
    /// Who signed the version (its key's fingerprint), in a signed registry.
    signer: Option<String>,
    /// Checksum and version of every published version (each is bytes this tool may have
    /// written).
    published: Vec<(Sha256, semver::Version)>,
    previous: Option<LockedAgent>,
    /// Whether the command is about this agent (named, or every agent when none is named).
    subject: bool,
    /// The body of the version the files on disk were installed from, when the pin moves away
    /// from it: the base a local edit is merged from.
    base: Option<Vec<u8>>,
    /// A package's files (verified), instead of `bytes`.
    package: Option<Vec<agents_registry::PackageContent>>,
    /// A package's files at the version installed before, when the pin moves: merge bases.
    base_package: Option<Vec<agents_registry::PackageContent>>,
    /// Every (path in the package, checksum) a published version of the package lists.
    published_files: Vec<(RelativePath, Sha256)>,
}

/// What resolve hands to plan: every agent's version and bytes, and the new manifest.
struct Resolution {
    agents: Vec<Resolved>,
    manifest: String,
    tools: Vec<Target>,
    warnings: Vec<String>,
}

/// The manifest and lockfile as read before resolving, to check nothing changed meanwhile.
struct Inputs {
    manifest_text: Option<String>,
    manifest: agents_format::Manifest,
    lockfile_text: Option<String>,
    lockfile: agents_format::Lockfile,
}

impl Inputs {
    fn read(workspace: &Workspace) -> Result<Inputs> {
        let (manifest_text, manifest) = workspace.read_manifest()?;
        let (lockfile_text, lockfile) = workspace.read_lockfile()?;
        Ok(Inputs { manifest_text, manifest, lockfile_text, lockfile })
    }
}

/// Installs `requests`, or everything the manifest and lockfile name when `requests` is empty.
///
/// Resolve talks to registries without holding the workspace lock; the lock is then taken and
/// the manifest and lockfile read again: if another command changed them meanwhile, resolution
/// starts over.
pub fn install(
    workspace: &Workspace,
    registries: &mut Registries,
    requests: &[InstallRequest],
    options: &InstallOptions,
) -> Result<InstallReport> {
    for _attempt in 0..3 {
        let inputs = Inputs::read(workspace)?;
        let resolution = resolve(workspace, registries, &inputs, requests, options)?;
        let lock = workspace.lock()?;
        let now = Inputs::read(workspace)?;
        if now.manifest_text == inputs.manifest_text && now.lockfile_text == inputs.lockfile_text {
            return plan_and_apply(workspace, inputs, resolution, options, lock);
        }
    }
    Err(WorkspaceError::ChangedMeanwhile { path: workspace.lockfile_path() })
}

fn resolve(
    workspace: &Workspace,
    registries: &mut Registries,
    inputs: &Inputs,
    requests: &[InstallRequest],
    options: &InstallOptions,
) -> Result<Resolution> {
    let manifest = &inputs.manifest;
    let lockfile = &inputs.lockfile;
    let state = workspace.read_state();
    let mut new_manifest = inputs.manifest_text.clone().unwrap_or_else(|| EMPTY_MANIFEST.to_owned());
    let mut warnings = Vec::new();

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

    let wanted: Vec<(AgentName, Option<semver::VersionReq>, bool)> = if requests.is_empty() {
        let mut names: Vec<AgentName> = lockfile.agents().iter().map(|a| a.name.clone()).collect();
        names.extend(manifest.agents.keys().cloned());
        names.sort();
        names.dedup();
        names.into_iter().map(|name| (name, None, false)).collect()
    } else {
        requests.iter().map(|r| (r.name.clone(), r.requirement.clone(), true)).collect()
    };

    let prefetch: Vec<_> = wanted
        .iter()
        .map(|(name, requested, explicit)| {
            let dependency = manifest.agents.get(name);
            let registry = if *explicit { options.registry.clone() } else { None }
                .or_else(|| dependency.and_then(|d| d.registry.clone()));
            (name.clone(), requested.clone().or_else(|| dependency.map(|d| d.requirement.clone())), registry)
        })
        .collect();
    registries.prefetch(&prefetch, lockfile);

    let mut agents = Vec::with_capacity(wanted.len());
    let mut registry_notes: Vec<String> = Vec::new();
    for (name, requested, explicit) in wanted {
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
                    warnings.push(format!(
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
        let (bytes, package) = if record.is_package() {
            (Vec::new(), Some(registries.open(&registry_name)?.package_files(&record)?))
        } else {
            (registries.open(&registry_name)?.body(&record)?, None)
        };
        let accepted =
            crate::signatures::accept(workspace, registries.open(&registry_name)?, &record, locked.as_ref())?;
        warnings.extend(accepted.notice.filter(|notice| !warnings.contains(notice)));
        let agent = format!("{name}@{}", record.version);
        if let Some(package) = &package {
            warnings.extend(crate::packages::hidden_unicode(&agent, package, options.deny_hidden_unicode)?);
        } else if let Some(warning) = crate::gate::hidden_unicode(&agent, &bytes, options.deny_hidden_unicode)? {
            warnings.push(warning);
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
            // A project's agents.toml is shared: a registry only this user's config.toml names
            // would leave teammates unable to resolve `registry = "…"`, so it goes in too.
            if workspace.scope == crate::workspace::Scope::Project
                && let Some(entry) = registries
                    .entries()
                    .iter()
                    .find(|e| e.name == registry_name && e.origin == crate::registries::Origin::User)
                && !manifest.registries.contains_key(&registry_name)
            {
                let url = entry.url.clone();
                new_manifest = agents_format::set_registry(&new_manifest, &registry_name, &url)
                    .map_err(|source| WorkspaceError::Manifest { path: workspace.manifest_path(), source })?;
                if !registry_notes.contains(&registry_name) {
                    warnings.push(format!(
                        "registry `{registry_name}` is in your config.toml only: added `{registry_name} = \"{url}\"` \
                         to agents.toml so teammates resolve it too (make sure they can reach that URL)"
                    ));
                    registry_notes.push(registry_name.clone());
                }
            }
        }
        let main = match record.kind {
            agents_format::Kind::Agent => workspace.agent_relative(&name),
            kind => crate::packages::main_file(workspace, kind, &name),
        };
        let installed_from =
            state.installed_from(&main).cloned().or_else(|| locked.as_ref().map(|l| l.version.clone()));
        let (base, base_package) = match installed_from.and_then(|v| index.find(&v)) {
            Some(base) if base.version != record.version && base.is_package() => {
                (None, registries.open(&registry_name)?.package_files(base).ok())
            }
            Some(base) if base.version != record.version && !base.is_package() => {
                (Some(registries.open(&registry_name)?.body(base)?), None)
            }
            _ => (None, None),
        };
        let subject = match &options.unlock {
            _ if !requests.is_empty() => explicit,
            Unlock::Some(names) => names.contains(&name),
            Unlock::None | Unlock::All => true,
        };
        agents.push(Resolved {
            published_files: crate::packages::published_files(&index),
            package,
            base_package,
            published: index.records().map(|r| (r.sha256, r.version.clone())).collect(),
            registry_id,
            signer: accepted.signer,
            name,
            registry: registry_name,
            record,
            bytes,
            previous: locked,
            subject,
            base,
        });
    }
    Ok(Resolution { agents, manifest: new_manifest, tools, warnings })
}

/// The managed files of one resolved agent: its Claude Code file, one converted file per tool,
/// and the removal of files this tool wrote for it that are no longer wanted.
fn managed_files(
    workspace: &Workspace,
    state: &WorkspaceState,
    tools: &[Target],
    agent: &Resolved,
) -> (Vec<Managed>, Vec<TargetFile>) {
    let version = agent.record.version.clone();
    let ours_at = |path: &RelativePath, extra: &[Sha256]| {
        let mut ours: Vec<Sha256> = extra.to_vec();
        ours.extend(state.last_written(path));
        ours
    };
    let primary = workspace.agent_relative(&agent.name);
    let mut published: Vec<Sha256> = agent.published.iter().map(|(hash, _)| *hash).collect();
    published.extend(agent.previous.as_ref().map(|p| p.sha256));
    let mut files = vec![Managed {
        agent: agent.name.clone(),
        version: version.clone(),
        ours: ours_at(&primary, &published),
        path: primary,
        bytes: Some(agent.bytes.clone()),
        subject: agent.subject,
        base: agent.base.clone(),
        mode: None,
    }];
    let converted = target_files(workspace, tools, &agent.name, &agent.bytes);
    let base_converted =
        agent.base.as_deref().map(|base| target_files(workspace, tools, &agent.name, base)).unwrap_or_default();
    for file in &converted {
        let locked: Vec<Sha256> = agent
            .previous
            .iter()
            .flat_map(|p| &p.files)
            .filter(|f| f.path == file.relative)
            .map(|f| f.sha256)
            .collect();
        files.push(Managed {
            agent: agent.name.clone(),
            version: version.clone(),
            ours: ours_at(&file.relative, &locked),
            path: file.relative.clone(),
            bytes: Some(file.bytes.clone()),
            subject: agent.subject,
            base: base_converted.iter().find(|b| b.relative == file.relative).map(|b| b.bytes.clone()),
            mode: None,
        });
    }
    // Files written for this agent before that are no longer wanted (a tool dropped from
    // `targets`): removed under the same protection.
    let wanted: Vec<RelativePath> = files.iter().map(|f| f.path.clone()).collect();
    let mut gone: Vec<(RelativePath, Vec<Sha256>)> = Vec::new();
    for file in agent.previous.iter().flat_map(|p| &p.files) {
        if !wanted.contains(&file.path) {
            gone.push((file.path.clone(), ours_at(&file.path, &[file.sha256])));
        }
    }
    for (path, written) in &state.files {
        if written.agent == agent.name && !wanted.contains(path) && !gone.iter().any(|(p, _)| p == path) {
            gone.push((path.clone(), vec![written.sha256]));
        }
    }
    for (path, ours) in gone {
        files.push(Managed {
            agent: agent.name.clone(),
            version: version.clone(),
            path,
            bytes: None,
            ours,
            subject: agent.subject,
            base: None,
            mode: None,
        });
    }
    (files, converted)
}

fn plan_and_apply(
    workspace: &Workspace,
    inputs: Inputs,
    resolution: Resolution,
    options: &InstallOptions,
    _lock: crate::workspace::WorkspaceLock,
) -> Result<InstallReport> {
    let root = workspace.open_root()?;
    let mut state = workspace.read_state();
    let original_state = state.clone();
    workspace.remove_stale_temp_files();
    let mut lockfile = inputs.lockfile.clone();
    let mut report = InstallReport { warnings: resolution.warnings.clone(), ..InstallReport::default() };

    let mut files = Vec::new();
    let mut notes = Vec::new();
    for agent in &resolution.agents {
        // Each managed file with what its conversion could not carry over, and the lockfile's
        // per-file pins: for a package, its files; for an agent, its converted files.
        let (managed, placed, locked_files) = match &agent.package {
            Some(contents) => {
                let inputs = crate::packages::PackageInputs {
                    name: &agent.name,
                    kind: agent.record.kind,
                    version: &agent.record.version,
                    contents,
                    base: agent.base_package.as_deref(),
                    previous: agent.previous.as_ref(),
                    published: &agent.published_files,
                    subject: agent.subject,
                };
                let (managed, locked_files) =
                    crate::packages::managed_files(workspace, &state, &resolution.tools, &inputs);
                let placed = crate::packages::placed_files(
                    workspace,
                    agent.record.kind,
                    &agent.name,
                    &resolution.tools,
                    contents,
                )
                .into_iter()
                .flat_map(crate::packages::Placed::reports)
                .collect::<Vec<_>>();
                (managed, placed, locked_files)
            }
            None => {
                let (managed, converted) = managed_files(workspace, &state, &resolution.tools, agent);
                let locked_files = converted.iter().map(TargetFile::locked).collect();
                let placed = converted
                    .into_iter()
                    .map(|file| (file.relative, file.target.to_string(), file.unmapped))
                    .collect::<Vec<_>>();
                (managed, placed, locked_files)
            }
        };
        files.extend(managed);
        for (path, target, losses) in placed {
            notes.extend(losses.into_iter().map(|detail| {
                (agent.name.clone(), path.clone(), Loss { agent: agent.name.clone(), target: target.clone(), detail })
            }));
        }
        lockfile.insert(LockedAgent {
            name: agent.name.clone(),
            version: agent.record.version.clone(),
            registry: agent.registry_id.clone(),
            kind: agent.record.kind,
            sha256: agent.record.sha256,
            signer: agent.signer.clone(),
            files: locked_files,
        });
    }
    let steps = plan(&root, files, options.force)?;
    check_names(workspace, &root, &resolution, &steps)?;

    // A conflicting merge does not stop the command: the edit stays, the new version is set aside.
    let blocked: Vec<&Step> = steps
        .iter()
        .filter(|s| s.file.subject && matches!(s.decision, Decision::Conflict(b) if b != Blocker::MergeConflict))
        .collect();
    if let Some(step) = blocked.iter().find(|s| matches!(s.decision, Decision::Conflict(b) if !b.forceable())) {
        let OnDisk::Foreign(kind) = step.on_disk else { unreachable!("only foreign files are unforceable") };
        return Err(WorkspaceError::Unreplaceable {
            path: root.absolute(&step.file.path),
            what: kind.describe(),
            agent: step.file.agent.clone(),
        });
    }
    if !blocked.is_empty() {
        let paths: Vec<String> = blocked.iter().map(|s| root.absolute(&s.file.path).display().to_string()).collect();
        let mut names: Vec<String> = blocked.iter().map(|s| s.file.agent.to_string()).collect();
        names.dedup();
        return Err(WorkspaceError::Conflicts { count: paths.len(), paths: paths.join(", "), agents: names.join(" ") });
    }
    let new_lockfile = lockfile.to_text();
    if options.locked && inputs.lockfile_text.as_deref() != Some(new_lockfile.as_str()) {
        return Err(WorkspaceError::LockfileWouldChange { reason: "agents.lock is missing or out of date".to_owned() });
    }

    for step in steps.iter().filter(|s| s.decision == Decision::Conflict(Blocker::MergeConflict)) {
        let upstream = set_aside(workspace, &mut state, step)?;
        report.conflicts.push(crate::reconcile::ConflictReport {
            name: step.file.agent.clone(),
            version: step.file.version.clone(),
            upstream,
        });
    }
    let results = apply(workspace, &root, steps, &mut state, options.now)?;
    for result in &results {
        if let Some(backup) = &result.backup {
            report.warnings.push(format!(
                "saved your edits to {} as {}",
                root.absolute(&result.step.file.path).display(),
                backup.display()
            ));
        }
        match &result.done {
            Done::Raced { backup } => {
                report.warnings.push(format!(
                    "{} changed while agents was writing it; your version is kept{}",
                    root.absolute(&result.step.file.path).display(),
                    backup.as_ref().map(|b| format!(" (an earlier save is in {})", b.display())).unwrap_or_default()
                ));
            }
            Done::Kept
                if result.step.file.bytes.is_none()
                    && resolution.agents.iter().any(|a| a.package.is_some() && a.name == result.step.file.agent) =>
            {
                report.warnings.push(format!(
                    "kept {}: {}@{} no longer has it, but it has local edits",
                    root.absolute(&result.step.file.path).display(),
                    result.step.file.agent,
                    result.step.file.version
                ))
            }
            Done::Kept
                if result.step.file.bytes.is_some()
                    && result.step.decision != Decision::Conflict(Blocker::MergeConflict) =>
            {
                report.warnings.push(format!(
                    "kept {}: it has local edits (`agents diff {}` shows them)",
                    root.absolute(&result.step.file.path).display(),
                    result.step.file.agent
                ))
            }
            _ => {}
        }
        if result.done == Done::Written {
            for (_, _, loss) in
                notes.iter().filter(|(a, p, _)| *a == result.step.file.agent && *p == result.step.file.path)
            {
                report.notes.push(format!("{} for {}: not carried over: {}", loss.agent, loss.target, loss.detail));
                report.losses.push(loss.clone());
            }
        }
    }
    for agent in &resolution.agents {
        let (primary, path) = match agent.record.kind {
            agents_format::Kind::Agent => (workspace.agent_relative(&agent.name), workspace.agent_path(&agent.name)),
            kind => (
                crate::packages::main_file(workspace, kind, &agent.name),
                crate::packages::display_path(workspace, kind, &agent.name),
            ),
        };
        let mut result =
            results.iter().find(|r| r.step.file.path == primary).expect("every agent has its Claude Code file planned");
        // A package reports its most telling file: one written or removed, when there is one.
        if agent.package.is_some()
            && let Some(changed) = results.iter().find(|r| {
                r.step.file.agent == agent.name && matches!(r.done, Done::Written | Done::Removed | Done::Merged)
            })
        {
            result = changed;
        }
        report.agents.push(Installed {
            name: agent.name.clone(),
            version: agent.record.version.clone(),
            registry: agent.registry.clone(),
            path,
            action: action(agent, &result.step, &result.done),
            backup: result.backup.clone(),
        });
    }

    let mut written = Vec::new();
    let written_so_far =
        |report: &InstallReport| report.agents.iter().map(|a| a.path.display().to_string()).collect::<Vec<_>>();
    if inputs.manifest_text.as_deref() != Some(resolution.manifest.as_str()) {
        fs::write_atomic(&workspace.manifest_path(), resolution.manifest.as_bytes())
            .map_err(|source| partly(&written_so_far(&report), "agents.toml, agents.lock", source))?;
        report.manifest_changed = true;
        written.push("agents.toml");
    }
    if inputs.lockfile_text.as_deref() != Some(new_lockfile.as_str()) {
        fs::write_atomic(&workspace.lockfile_path(), new_lockfile.as_bytes()).map_err(|source| {
            let mut done = written_so_far(&report);
            done.extend(written.iter().map(|w| (*w).to_owned()));
            partly(&done, "agents.lock", source)
        })?;
        report.lockfile_changed = true;
    }
    // The state is a cache of what was written: failing to save it loses nothing the next
    // command cannot re-derive, so it is a warning, not a failed install.
    if state != original_state
        && let Err(error) = workspace.write_state(&state)
    {
        report
            .warnings
            .push(format!("could not record what was written ({error}); the next command will re-check the files"));
    }
    Ok(report)
}

fn partly(applied: &[String], not_applied: &str, source: WorkspaceError) -> WorkspaceError {
    WorkspaceError::PartlyApplied {
        applied: if applied.is_empty() { "nothing".to_owned() } else { applied.join(", ") },
        not_applied: not_applied.to_owned(),
        source: Box::new(source),
    }
}

impl Resolved {
    fn published_version(&self, sha256: &Sha256) -> Option<semver::Version> {
        self.published.iter().find(|(hash, _)| hash == sha256).map(|(_, version)| version.clone())
    }
}

/// What the report says happened to an agent's Claude Code file.
fn action(agent: &Resolved, step: &Step, done: &Done) -> Action {
    let from = || {
        step.on_disk
            .sha256()
            .and(agent.previous.as_ref().map(|p| p.version.to_string()))
            .unwrap_or_else(|| "a local edit".to_owned())
    };
    match done {
        Done::Merged => return Action::Merged { from: from() },
        Done::Kept if step.decision == Decision::Conflict(Blocker::MergeConflict) => return Action::Conflict,
        Done::Unchanged | Done::Kept | Done::Raced { .. } => return Action::Fresh,
        Done::Written | Done::Removed => {}
    }
    match step.on_disk {
        OnDisk::Missing if agent.previous.is_some() => Action::Restored,
        OnDisk::Missing => Action::Installed,
        OnDisk::File { sha256, .. } => {
            // After a `git pull` the lockfile already names the new version; what is on disk
            // tells which version is being replaced.
            let from = agent.published_version(&sha256);
            match (&agent.previous, from) {
                (_, Some(from)) if from != agent.record.version => Action::Updated { from: from.to_string() },
                (Some(previous), _) if previous.version == agent.record.version => Action::Restored,
                (Some(previous), _) => Action::Updated { from: previous.version.to_string() },
                (None, _) => Action::Updated { from: "an unmanaged file".to_owned() },
            }
        }
        OnDisk::Foreign(_) => Action::Updated { from: "a symlink".to_owned() },
    }
}

/// The agent name a file's front matter declares, read as leniently as a tool's loader: the
/// first top-level `name:` line between the opening `---` and the closing one. Cheap, so a plan
/// can ask it of every file in an agents directory.
fn claimed_name(bytes: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(bytes.get(..bytes.len().min(agents_format::MAX_FRONT_MATTER_LEN + 8))?)
        .or_else(|e| std::str::from_utf8(&bytes[..e.valid_up_to()]))
        .ok()?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = text.strip_prefix("---\n").or_else(|| text.strip_prefix("---\r\n"))?;
    for line in rest.lines() {
        if line.trim_end() == "---" {
            break;
        }
        if let Some(value) = line.strip_prefix("name:") {
            let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
            return (!value.is_empty()).then(|| value.to_owned());
        }
    }
    None
}

/// Refuses a plan that would leave two files in one agents directory claiming one agent name
/// (the front matter's `name`): a tool would load two agents under it.
fn check_names(workspace: &Workspace, root: &Root, resolution: &Resolution, steps: &[Step]) -> Result<()> {
    let mut claims: std::collections::BTreeMap<String, PathBuf> = std::collections::BTreeMap::new();
    let mut planned: Vec<PathBuf> = Vec::new();
    let mut claim = |name: String, path: PathBuf| -> Result<()> {
        match claims.get(&name) {
            Some(first) if *first != path => {
                Err(WorkspaceError::DuplicateName { name, first: first.clone(), second: path })
            }
            _ => {
                claims.insert(name, path);
                Ok(())
            }
        }
    };
    for agent in resolution.agents.iter().filter(|a| a.package.is_none()) {
        let path = workspace.agent_path(&agent.name);
        let claimed = claimed_name(&agent.bytes).unwrap_or_else(|| agent.name.to_string());
        planned.push(path.clone());
        claim(claimed, path)?;
    }
    let _ = steps;
    // Files already in the agents directory that this plan does not write.
    let Ok(entries) = std::fs::read_dir(&workspace.agents_dir) else { return Ok(()) };
    for entry in entries.flatten() {
        let path = entry.path();
        if planned.contains(&path) || path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let Ok(relative) = RelativePath::parse(&format!(
            "{}/{}",
            workspace.agents_relative_dir(),
            entry.file_name().to_string_lossy()
        )) else {
            continue;
        };
        let Ok(Some(bytes)) = root.read(&relative, agents_format::MAX_AGENT_FILE_LEN as u64) else { continue };
        let claimed = claimed_name(&bytes)
            .unwrap_or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
        claim(claimed, path)?;
    }
    Ok(())
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
