//! `update` (move locked versions forward within the manifest's requirements), `outdated` (what
//! newer versions exist) and `auto_update` (the daemon's opt-in moving of pins).

use agents_format::{AgentName, AutoUpdate, IndexRecord, Kind, LockedAgent, RegistryId, select};

use crate::error::{Result, WorkspaceError};
use crate::install::{InstallOptions, install};
use crate::placement::Contents;
use crate::registries::Registries;
use crate::report::Report;
use crate::resolve::Unlock;
use crate::workspace::Workspace;

/// Re-resolves `names` (all packages when empty) and installs what changed.
pub fn update(
    workspace: &Workspace,
    registries: &mut Registries,
    names: &[AgentName],
    mut options: InstallOptions,
) -> Result<Report> {
    if !names.is_empty() {
        let (_, manifest) = workspace.read_manifest()?;
        let (_, lockfile) = workspace.read_lockfile()?;
        if let Some(name) = names.iter().find(|n| !manifest.agents.contains_key(*n) && lockfile.get(n).is_none()) {
            return Err(WorkspaceError::NotInstalled { name: name.clone() });
        }
    }
    options.unlock = if names.is_empty() { Unlock::All } else { Unlock::Some(names.to_vec()) };
    install(workspace, registries, &[], &options)
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Outdated {
    pub name: AgentName,
    pub kind: Kind,
    /// The name of the configured registry it is locked to.
    pub registry: String,
    /// That registry's id, as the lockfile names it.
    pub registry_id: RegistryId,
    /// The manifest's requirement, when the manifest names it.
    pub requirement: Option<String>,
    /// The locked version.
    pub current: semver::Version,
    /// The newest version the manifest's requirement allows (what `update` would pick).
    pub compatible: Option<semver::Version>,
    /// The newest version published (not yanked).
    pub latest: Option<semver::Version>,
    /// Whether the locked version has been yanked.
    pub yanked: bool,
    /// The locked packages that require it: `compatible` meets their requirements too.
    pub required_by: Vec<AgentName>,
}

/// The locked packages that require `name`.
fn required_by(lockfile: &agents_format::Lockfile, name: &AgentName) -> Vec<AgentName> {
    lockfile.agents().iter().filter(|a| a.requires.iter().any(|r| &r.name == name)).map(|a| a.name.clone()).collect()
}

/// Every locked package for which a newer version exists, or whose locked version is yanked.
pub fn outdated(workspace: &Workspace, registries: &mut Registries) -> Result<Vec<Outdated>> {
    let (_, manifest) = workspace.read_manifest()?;
    let (_, lockfile) = workspace.read_lockfile()?;
    let mut all = Vec::new();
    for locked in lockfile.agents() {
        let registry_name = registries.name_for_id(&locked.registry)?.ok_or_else(|| {
            WorkspaceError::UnknownRegistryId { name: locked.name.clone(), id: locked.registry.clone() }
        })?;
        let index = registries.open(&registry_name)?.index_file(&locked.name)?.unwrap_or_default();
        let written = manifest.agents.get(&locked.name).map(|d| d.requirement.clone());
        let requirement = requirement_for(&manifest, &lockfile, &locked.name);
        let version = |record: Option<&IndexRecord>| record.map(|r| r.version.clone());
        let compatible = version(select(index.records(), &requirement));
        let latest = version(select(index.records(), &semver::VersionReq::STAR));
        let yanked = index.find(&locked.version).is_some_and(|r| r.yanked);
        let newer = |v: &Option<semver::Version>| v.as_ref().is_some_and(|v| v > &locked.version);
        if newer(&compatible) || newer(&latest) || yanked {
            all.push(Outdated {
                name: locked.name.clone(),
                kind: locked.kind,
                registry: registry_name,
                registry_id: locked.registry.clone(),
                requirement: written.map(|r| r.to_string()),
                current: locked.version.clone(),
                compatible,
                latest,
                yanked,
                required_by: required_by(&lockfile, &locked.name),
            });
        }
    }
    Ok(all)
}

/// Everything a locked package must meet: the manifest's requirement and each requirement on it
/// by another locked package, as one requirement (their comparators together), so `outdated` and
/// the daemon's auto-update never offer a version that would break the graph.
fn requirement_for(
    manifest: &agents_format::Manifest,
    lockfile: &agents_format::Lockfile,
    name: &AgentName,
) -> semver::VersionReq {
    let mut comparators: Vec<semver::Comparator> =
        manifest.agents.get(name).map(|d| d.requirement.comparators.clone()).unwrap_or_default();
    for entry in lockfile.agents() {
        for required in entry.requires.iter().filter(|r| &r.name == name) {
            comparators.extend(required.requirement.comparators.iter().cloned());
        }
    }
    if comparators.is_empty() { semver::VersionReq::STAR } else { semver::VersionReq { comparators } }
}

/// Moves the lockfile forward by itself, no further than `level` allows on top of the
/// manifest's requirements (the daemon's opt-in auto-update). The files follow on the next
/// reconcile, which keeps local edits. Returns the packages whose pins moved.
pub fn auto_update(workspace: &Workspace, registries: &mut Registries, level: AutoUpdate) -> Result<Vec<Outdated>> {
    let _lock = workspace.lock()?;
    let (_, manifest) = workspace.read_manifest()?;
    let (text, mut lockfile) = workspace.read_lockfile()?;
    let mut moved = Vec::new();
    for locked in lockfile.agents().to_vec() {
        let Some(registry_name) = registries.name_for_id(&locked.registry)? else { continue };
        let requirement = requirement_for(&manifest, &lockfile, &locked.name);
        let Some((best, signer)) = newest_acceptable(
            workspace,
            registries,
            &registry_name,
            &locked,
            &requirement,
            level,
            lockfile.root(&locked.registry),
        )?
        else {
            continue;
        };
        // A version that needs what the lockfile does not hold waits for `agents update`, which
        // resolves the graph; the daemon never installs a package by itself.
        if !best.requires.iter().all(|r| lockfile.get(&r.name).is_some_and(|l| r.requirement.matches(&l.version))) {
            tracing::debug!(name = %locked.name, version = %best.version, "auto-update waits: new requirements");
            continue;
        }
        moved.push(Outdated {
            name: locked.name.clone(),
            kind: locked.kind,
            registry: registry_name.clone(),
            registry_id: locked.registry.clone(),
            requirement: manifest.agents.get(&locked.name).map(|d| d.requirement.to_string()),
            current: locked.version.clone(),
            compatible: Some(best.version.clone()),
            latest: None,
            yanked: false,
            required_by: required_by(&lockfile, &locked.name),
        });
        // The new version's files for the project's targets: what an install would pin.
        let registry = registries.open(&registry_name)?;
        let contents = if best.is_package() {
            Contents::Package(registry.package_files(&best)?)
        } else {
            Contents::Agent(registry.body(&best)?)
        };
        let pin = LockedAgent {
            name: locked.name.clone(),
            version: best.version.clone(),
            registry: locked.registry.clone(),
            kind: best.kind,
            sha256: best.sha256,
            signer,
            files: Vec::new(),
            requires: best.requires.clone(),
            requested: locked.requested,
        };
        lockfile.insert(crate::model::lock_entry(workspace.placement(), &manifest.targets, pin, &contents));
    }
    let new_text = lockfile.to_text();
    if !moved.is_empty() && text.as_deref() != Some(new_text.as_str()) {
        crate::fs::write_atomic(&workspace.lockfile_path(), new_text.as_bytes())?;
    }
    Ok(moved)
}

/// The highest version above the locked one that the manifest's requirement and `level` allow
/// and whose signature holds, with its signer: nobody watches the daemon, so a forged version
/// is skipped (and logged) rather than stopping every update.
#[allow(clippy::too_many_arguments)]
fn newest_acceptable(
    workspace: &Workspace,
    registries: &mut Registries,
    registry_name: &str,
    locked: &LockedAgent,
    requirement: &semver::VersionReq,
    level: AutoUpdate,
    pinned_root: Option<&str>,
) -> Result<Option<(IndexRecord, Option<String>)>> {
    let index = registries.open(registry_name)?.index_file(&locked.name)?.unwrap_or_default();
    let level_requirement = level.requirement(&locked.version);
    let mut candidates: Vec<&IndexRecord> = index
        .records()
        .filter(|r| !r.yanked && requirement.matches(&r.version) && level_requirement.matches(&r.version))
        .filter(|r| r.version > locked.version)
        .collect();
    candidates.sort_by(|a, b| b.version.cmp(&a.version));
    for candidate in candidates {
        match crate::signatures::accept_quietly(workspace, registries, registry_name, candidate, (None, pinned_root)) {
            Ok(accepted) => return Ok(Some((candidate.clone(), accepted.signer))),
            Err(WorkspaceError::Registry(agents_registry::RegistryError::Signature(error))) => {
                tracing::warn!(%error, "auto-update skips a version whose signature does not hold");
            }
            Err(error) => return Err(error),
        }
    }
    Ok(None)
}
