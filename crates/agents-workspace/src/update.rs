//! `update` (move locked versions forward within the manifest's requirements) and `outdated`
//! (what newer versions exist).

use agents_format::{AgentName, IndexRecord, select};

use crate::error::{Result, WorkspaceError};
use crate::install::{InstallOptions, InstallReport, Unlock, install};
use crate::registries::Registries;
use crate::workspace::Workspace;

/// Re-resolves `names` (all agents when empty) and installs what changed.
pub fn update(
    workspace: &Workspace,
    registries: &mut Registries,
    names: &[AgentName],
    mut options: InstallOptions,
) -> Result<InstallReport> {
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
    pub registry: String,
    /// The locked version.
    pub current: semver::Version,
    /// The newest version the manifest's requirement allows (what `update` would pick).
    pub compatible: Option<semver::Version>,
    /// The newest version published (not yanked).
    pub latest: Option<semver::Version>,
    /// Whether the locked version has been yanked.
    pub yanked: bool,
}

/// Every locked agent for which a newer version exists, or whose locked version is yanked.
pub fn outdated(workspace: &Workspace, registries: &mut Registries) -> Result<Vec<Outdated>> {
    let (_, manifest) = workspace.read_manifest()?;
    let (_, lockfile) = workspace.read_lockfile()?;
    let mut all = Vec::new();
    for locked in lockfile.agents() {
        let registry_name = registries.name_for_id(&locked.registry)?.ok_or_else(|| {
            WorkspaceError::UnknownRegistryId { name: locked.name.clone(), id: locked.registry.clone() }
        })?;
        let index = registries.open(&registry_name)?.index_file(&locked.name)?.unwrap_or_default();
        let requirement = manifest.agents.get(&locked.name).map_or(semver::VersionReq::STAR, |d| d.requirement.clone());
        let version = |record: Option<&IndexRecord>| record.map(|r| r.version.clone());
        let compatible = version(select(index.records(), &requirement));
        let latest = version(select(index.records(), &semver::VersionReq::STAR));
        let yanked = index.find(&locked.version).is_some_and(|r| r.yanked);
        let newer = |v: &Option<semver::Version>| v.as_ref().is_some_and(|v| v > &locked.version);
        if newer(&compatible) || newer(&latest) || yanked {
            all.push(Outdated {
                name: locked.name.clone(),
                registry: registry_name,
                current: locked.version.clone(),
                compatible,
                latest,
                yanked,
            });
        }
    }
    Ok(all)
}
