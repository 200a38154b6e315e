//! The registry side of a command: which version of each package the workspace should hold, and
//! its verified bytes. [`resolve`] answers it for install and update (named packages, the
//! manifest's requirements, locked versions kept where they still fit), before the workspace
//! lock is taken; [`RegistryLoader`] reads, under the lock, the contents of pinned packages the
//! model finds it needs (a missing file, a new target, a merge base), from the registries'
//! caches.
//!
//! A locked version that still meets its requirement is kept without reading any registry: the
//! model takes its files as pinned when they are on disk as pinned, and loads it otherwise. A
//! package named on the command line is always loaded, so its record is checked again.

use agents_format::{
    AgentName, Dependency, EMPTY_MANIFEST, IndexFile, IndexRecord, LockedAgent, Manifest, Target, caret,
    set_dependency, set_targets,
};
use agents_registry::BUILTIN_NAME;

use crate::error::{Result, WorkspaceError};
use crate::model::{Loaded, Loader, Package, Published};
use crate::placement::Contents;
use crate::registries::{Origin, Registries};
use crate::workspace::{Scope, Workspace};

/// One `NAME[@REQ]` from the command line.
#[derive(Debug, Clone)]
pub struct InstallRequest {
    pub name: AgentName,
    pub requirement: Option<semver::VersionReq>,
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
    pub(crate) fn covers(&self, name: &AgentName) -> bool {
        match self {
            Unlock::None => false,
            Unlock::All => true,
            Unlock::Some(names) => names.contains(name),
        }
    }
}

/// How a command resolves: what it was asked for, and what it may change.
pub(crate) struct Policy<'a> {
    pub(crate) requests: &'a [InstallRequest],
    /// Take named packages from this registry.
    pub(crate) registry: Option<&'a str>,
    pub(crate) unlock: &'a Unlock,
    /// Fail rather than change a pin (`--locked`).
    pub(crate) locked: bool,
    pub(crate) deny_hidden_unicode: bool,
    /// Tools to add to the manifest's `targets`.
    pub(crate) targets: &'a [Target],
}

/// Registry id → root key fingerprint: what `agents.lock` pins (`[roots]`), or what a command
/// accepted versions under.
pub(crate) type Roots = std::collections::BTreeMap<agents_format::RegistryId, String>;

/// What resolve hands to the model: every package with its pin, the manifest to write, the
/// project's tools, and what the user should hear.
pub(crate) struct Resolution {
    pub(crate) packages: Vec<Package>,
    pub(crate) manifest: String,
    pub(crate) tools: Vec<Target>,
    pub(crate) warnings: Vec<String>,
    /// The root of every signed registry a version was accepted from.
    pub(crate) roots: Roots,
    /// Locked packages the workspace no longer holds (a dependency nothing requires now).
    pub(crate) removing: Vec<AgentName>,
}

/// The manifest and lockfile as read before resolving, to check nothing changed meanwhile.
pub(crate) struct Inputs {
    pub(crate) manifest_text: Option<String>,
    pub(crate) manifest: Manifest,
    pub(crate) lockfile_text: Option<String>,
    pub(crate) lockfile: agents_format::Lockfile,
}

impl Inputs {
    pub(crate) fn read(workspace: &Workspace) -> Result<Inputs> {
        let (manifest_text, manifest) = workspace.read_manifest()?;
        let (lockfile_text, lockfile) = workspace.read_lockfile()?;
        Ok(Inputs { manifest_text, manifest, lockfile_text, lockfile })
    }

    /// Whether `other` read the same files.
    pub(crate) fn same_as(&self, other: &Inputs) -> bool {
        self.manifest_text == other.manifest_text && self.lockfile_text == other.lockfile_text
    }
}

/// One name to resolve, and whether the command line named it.
pub(crate) struct Wanted {
    name: AgentName,
    requested: Option<semver::VersionReq>,
    explicit: bool,
}

/// Decides the version of every package the workspace will hold: the named ones (or, with none
/// named, everything the manifest and lockfile list), what they require, and every other locked
/// package as locked (plan first: nothing here writes).
pub(crate) fn resolve(
    workspace: &Workspace,
    registries: &mut Registries,
    inputs: &Inputs,
    policy: &Policy<'_>,
) -> Result<Resolution> {
    let manifest = &inputs.manifest;
    let mut resolution = Resolution {
        packages: Vec::new(),
        manifest: inputs.manifest_text.clone().unwrap_or_else(|| EMPTY_MANIFEST.to_owned()),
        tools: manifest.targets.clone(),
        warnings: Vec::new(),
        roots: Roots::new(),
        removing: Vec::new(),
    };
    for target in policy.targets {
        if *target != Target::ClaudeCode && !resolution.tools.contains(target) {
            resolution.tools.push(*target);
        }
    }
    resolution.tools.sort();
    if resolution.tools != manifest.targets {
        resolution.manifest = set_targets(&resolution.manifest, &resolution.tools)
            .map_err(|source| WorkspaceError::Manifest { path: workspace.manifest_path(), source })?;
    }
    let wanted = wanted(inputs, policy);
    prefetch(registries, inputs, policy, &wanted);
    let mut registry_notes: Vec<String> = Vec::new();
    let mut roots = Vec::new();
    for entry in &wanted {
        roots.push(root_of(registries, inputs, policy, entry)?);
    }
    let solution = crate::graph::solve_workspace(workspace, registries, inputs, policy, &roots, &mut resolution)?;
    for (package, registry_name) in solution {
        let name = package.pin.name.clone();
        if let Some(entry) = wanted.iter().find(|w| w.name == name && w.explicit) {
            let registry_name = match registry_name {
                Some(name) => name,
                None => registries.name_for_id(&package.pin.registry)?.unwrap_or_else(|| BUILTIN_NAME.to_owned()),
            };
            record_requirement(workspace, inputs, policy, entry, &package.pin, &registry_name, &mut resolution)?;
            note_user_registry(workspace, registries, inputs, &registry_name, &mut registry_notes, &mut resolution);
        }
        resolution.packages.push(package);
    }
    resolution.packages.sort_by(|a, b| a.pin.name.cmp(&b.pin.name));
    resolution.removing = inputs
        .lockfile
        .agents()
        .iter()
        .filter(|locked| !resolution.packages.iter().any(|p| p.pin.name == locked.name))
        .map(|locked| locked.name.clone())
        .collect();
    Ok(resolution)
}

/// The names the workspace asks for: the named ones, then every other package the lockfile
/// holds because it was asked for (kept as locked); with none named, also everything the
/// manifest lists. A locked dependency is not asked for: it stays only while something requires
/// it.
fn wanted(inputs: &Inputs, policy: &Policy<'_>) -> Vec<Wanted> {
    let mut wanted: Vec<Wanted> = policy
        .requests
        .iter()
        .map(|r| Wanted { name: r.name.clone(), requested: r.requirement.clone(), explicit: true })
        .collect();
    let mut names: Vec<&AgentName> = inputs.lockfile.agents().iter().filter(|a| a.requested).map(|a| &a.name).collect();
    if policy.requests.is_empty() {
        names.extend(inputs.manifest.agents.keys());
    }
    names.sort();
    names.dedup();
    for name in names {
        if !wanted.iter().any(|w| w.name == *name) {
            wanted.push(Wanted { name: name.clone(), requested: None, explicit: false });
        }
    }
    wanted
}

/// Fetches ahead, in parallel, what sparse registries will be asked for the packages that need
/// a registry (new, unlocked, or named).
fn prefetch(registries: &mut Registries, inputs: &Inputs, policy: &Policy<'_>, wanted: &[Wanted]) {
    let ahead: Vec<_> = wanted
        .iter()
        .filter(|w| w.explicit || inputs.lockfile.get(&w.name).is_none() || policy.unlock.covers(&w.name))
        .map(|w| {
            let dependency = inputs.manifest.agents.get(&w.name);
            let registry = if w.explicit { policy.registry.map(str::to_owned) } else { None }
                .or_else(|| dependency.and_then(|d| d.registry.clone()));
            (w.name.clone(), w.requested.clone().or_else(|| dependency.map(|d| d.requirement.clone())), registry)
        })
        .collect::<Vec<_>>()
        .into_iter()
        // A locked name is read from its locked registry alone: no other is asked for it.
        .map(|(name, requirement, registry)| {
            let locked = inputs.lockfile.get(&name).map(|locked| locked.registry.clone());
            let registry = registry.or_else(|| locked.and_then(|id| registries.name_for_id(&id).ok().flatten()));
            (name, requirement, registry)
        })
        .collect();
    if !ahead.is_empty() {
        registries.prefetch(&ahead, &inputs.lockfile);
    }
}

/// One name the workspace asks for, ready for the solver: its requirement, the registry it
/// comes from, and whether its locked version may stay.
pub(crate) struct RootPlan {
    pub(crate) root: crate::solve::Root,
    pub(crate) explicit: bool,
    /// The registry's local name, when it was chosen or read here.
    pub(crate) registry_name: Option<String>,
}

/// Where a wanted name comes from: the registry named for it (the command line, the manifest),
/// else its locked registry, else the one registry that publishes it.
fn root_of(registries: &mut Registries, inputs: &Inputs, policy: &Policy<'_>, entry: &Wanted) -> Result<RootPlan> {
    let name = &entry.name;
    let dependency = inputs.manifest.agents.get(name).filter(|d| !switches_registry(policy, entry, d));
    let requirement = entry
        .requested
        .clone()
        .or_else(|| dependency.map(|d| d.requirement.clone()))
        .unwrap_or(semver::VersionReq::STAR);
    let locked = inputs.lockfile.get(name);
    let chosen = if entry.explicit { policy.registry.map(str::to_owned) } else { None }
        .or_else(|| dependency.and_then(|d| d.registry.clone()));
    let (registry, registry_name) = match (chosen, locked) {
        (Some(chosen), _) => {
            if locked.is_none() && registries.open(&chosen)?.index_file(name)?.is_none() {
                return Err(registries.unknown_agent(name, std::slice::from_ref(&chosen)));
            }
            (registries.open(&chosen)?.config.id.clone(), Some(chosen))
        }
        (None, Some(locked)) => (locked.registry.clone(), None),
        (None, None) => {
            let (found, _) = registries.locate(name)?;
            (registries.open(&found)?.config.id.clone(), Some(found))
        }
    };
    Ok(RootPlan {
        root: crate::solve::Root { name: name.clone(), requirement, registry },
        explicit: entry.explicit,
        registry_name,
    })
}

/// Whether a signature error is about one version (its signature missing, invalid, or by a key
/// that owns nothing), not about the registry as a whole (its root, the policy).
pub(crate) fn forgery(error: &agents_registry::signing::SignatureError) -> bool {
    use agents_registry::signing::SignatureError;
    matches!(error, SignatureError::Missing { .. } | SignatureError::NotOwner { .. } | SignatureError::Invalid { .. })
}

/// Switching an agent to another registry starts its requirement afresh: the old one describes
/// versions of a different publisher's agent.
fn switches_registry(policy: &Policy<'_>, entry: &Wanted, dependency: &Dependency) -> bool {
    entry.explicit
        && policy.registry.is_some_and(|chosen| dependency.registry.as_deref().unwrap_or(BUILTIN_NAME) != chosen)
}

/// Reads a chosen record's contents, verified, and passes them through the signature check and
/// the hidden-Unicode gate. Returns the new pin (its files are placed later) and the contents.
#[allow(clippy::too_many_arguments)]
pub(crate) fn load_record(
    workspace: &Workspace,
    registries: &mut Registries,
    (registry_name, index, record): (&str, &IndexFile, &IndexRecord),
    (locked, pinned_root): (Option<&LockedAgent>, Option<&str>),
    policy: &Policy<'_>,
    resolution: &mut Resolution,
) -> Result<(LockedAgent, Loaded)> {
    let contents = read_contents(registries.open(registry_name)?, record)?;
    let accepted = crate::signatures::accept(workspace, registries, registry_name, record, (locked, pinned_root))?;
    let registry = registries.open(registry_name)?;
    let warnings = &mut resolution.warnings;
    warnings.extend(accepted.notice.filter(|notice| !warnings.contains(notice)));
    warnings.extend(gate(&format!("{}@{}", record.name, record.version), &contents, policy.deny_hidden_unicode)?);
    if let Some(root) = accepted.root {
        resolution.roots.insert(registry.config.id.clone(), root);
    }
    let pin = LockedAgent {
        name: record.name.clone(),
        version: record.version.clone(),
        registry: registry.config.id.clone(),
        kind: record.kind,
        sha256: record.sha256,
        signer: accepted.signer,
        files: Vec::new(),
        requires: record.requires.clone(),
        requested: true,
    };
    Ok((pin, Loaded { contents, published: published(index) }))
}

fn read_contents(registry: &agents_registry::Registry, record: &IndexRecord) -> Result<Contents> {
    Ok(if record.is_package() {
        Contents::Package(registry.package_files(record)?)
    } else {
        Contents::Agent(registry.body(record)?)
    })
}

/// The hidden-Unicode gate over every file of a package; returns the warnings.
fn gate(label: &str, contents: &Contents, deny: bool) -> Result<Vec<String>> {
    match contents {
        Contents::Agent(bytes) => Ok(crate::gate::hidden_unicode(label, bytes, deny)?.into_iter().collect()),
        Contents::Package(files) => {
            let mut warnings = Vec::new();
            for content in files {
                let label = format!("{label} ({})", content.file.path);
                warnings.extend(crate::gate::package_file(&label, &content.file, &content.bytes, deny)?);
            }
            Ok(warnings)
        }
    }
}

/// What every published version of a package holds.
fn published(index: &IndexFile) -> Published {
    Published {
        bodies: index.records().filter(|r| !r.is_package()).map(|r| (r.version.clone(), r.sha256)).collect(),
        files: index
            .records()
            .flat_map(|r| r.files.iter().map(|f| (r.version.clone(), f.path.clone(), f.sha256)))
            .collect(),
    }
}

/// Records a named package's requirement (and registry) in the manifest.
fn record_requirement(
    workspace: &Workspace,
    inputs: &Inputs,
    policy: &Policy<'_>,
    entry: &Wanted,
    pin: &LockedAgent,
    registry_name: &str,
    resolution: &mut Resolution,
) -> Result<()> {
    let dependency = inputs.manifest.agents.get(&entry.name).filter(|d| !switches_registry(policy, entry, d));
    let registry = (registry_name != BUILTIN_NAME).then(|| registry_name.to_owned());
    let requirement = entry.requested.clone().unwrap_or_else(|| match dependency {
        Some(existing) if existing.requirement.matches(&pin.version) => existing.requirement.clone(),
        _ => caret(&pin.version),
    });
    let wanted = Dependency { requirement, registry };
    if inputs.manifest.agents.get(&entry.name) != Some(&wanted) {
        resolution.manifest = set_dependency(&resolution.manifest, &entry.name, &wanted)
            .map_err(|source| WorkspaceError::Manifest { path: workspace.manifest_path(), source })?;
    }
    Ok(())
}

/// A project's agents.toml is shared: a registry only this user's config.toml names would leave
/// teammates unable to resolve `registry = "…"`, so it goes in too.
fn note_user_registry(
    workspace: &Workspace,
    registries: &Registries,
    inputs: &Inputs,
    registry_name: &str,
    noted: &mut Vec<String>,
    resolution: &mut Resolution,
) {
    if workspace.scope != Scope::Project
        || inputs.manifest.registries.contains_key(registry_name)
        || noted.iter().any(|n| n == registry_name)
    {
        return;
    }
    let Some(entry) = registries.entries().iter().find(|e| e.name == registry_name && e.origin == Origin::User) else {
        return;
    };
    let url = entry.url.clone();
    match agents_format::set_registry(&resolution.manifest, registry_name, &url) {
        Ok(manifest) => resolution.manifest = manifest,
        Err(_) => return,
    }
    resolution.warnings.push(format!(
        "registry `{registry_name}` is in your config.toml only: added `{registry_name} = \"{url}\"` to agents.toml \
         so teammates resolve it too (make sure they can reach that URL)"
    ));
    noted.push(registry_name.to_owned());
}

pub(crate) fn no_match(
    name: &AgentName,
    registry: &str,
    index: &IndexFile,
    requirement: &semver::VersionReq,
) -> WorkspaceError {
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

/// The record of a locked version, checked against the lockfile's checksum. A cached registry
/// that lacks it is fetched once (unless offline) before it counts as missing.
pub(crate) fn locked_record(
    registries: &mut Registries,
    registry_name: &str,
    locked: &LockedAgent,
) -> Result<(IndexFile, IndexRecord)> {
    let mut index = registries.open(registry_name)?.index_file(&locked.name)?.unwrap_or_default();
    if index.find(&locked.version).is_none() && registries.refresh(registry_name)? {
        index = registries.open(registry_name)?.index_file(&locked.name)?.unwrap_or_default();
    }
    let record = index.find(&locked.version).cloned().ok_or_else(|| WorkspaceError::LockedVersionMissing {
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
    Ok((index, record))
}

/// Reads pinned packages from the registries, for the model: each version checked against the
/// lockfile, its registry's signatures and the hidden-Unicode policy.
pub(crate) struct RegistryLoader<'a> {
    workspace: &'a Workspace,
    registries: &'a mut Registries,
    deny: bool,
    /// Whether the user watches (install, update): yanked pins and unsigned registries are said.
    notify: bool,
    /// The roots `agents.lock` pins, each registry's versions checked against its own.
    pinned_roots: Roots,
    pub(crate) warnings: Vec<String>,
    /// The root of every signed registry a version was loaded from.
    pub(crate) roots: Roots,
}

impl<'a> RegistryLoader<'a> {
    pub(crate) fn new(
        workspace: &'a Workspace,
        registries: &'a mut Registries,
        (deny, notify): (bool, bool),
        pinned_roots: Roots,
    ) -> Self {
        RegistryLoader { workspace, registries, deny, notify, pinned_roots, warnings: Vec::new(), roots: Roots::new() }
    }

    fn registry_name(&mut self, pin: &LockedAgent) -> Result<String> {
        self.registries
            .name_for_id(&pin.registry)?
            .ok_or_else(|| WorkspaceError::UnknownRegistryId { name: pin.name.clone(), id: pin.registry.clone() })
    }
}

impl Loader for RegistryLoader<'_> {
    fn load(&mut self, pin: &LockedAgent) -> Result<Loaded> {
        let registry_name = self.registry_name(pin)?;
        let (index, record) = locked_record(self.registries, &registry_name, pin)?;
        if record.yanked && self.notify {
            self.warnings.push(format!(
                "{}@{} is yanked in registry `{registry_name}`; keeping it because agents.lock pins it",
                pin.name, pin.version
            ));
        }
        let contents = read_contents(self.registries.open(&registry_name)?, &record)?;
        let pinned_root = self.pinned_roots.get(&pin.registry).map(String::as_str);
        let check = if self.notify { crate::signatures::accept } else { crate::signatures::accept_quietly };
        let accepted = check(self.workspace, self.registries, &registry_name, &record, (Some(pin), pinned_root))?;
        if let Some(root) = accepted.root.clone() {
            self.roots.insert(pin.registry.clone(), root);
        }
        if let Some(notice) = accepted.notice.filter(|n| !self.warnings.contains(n)) {
            self.warnings.push(notice);
        }
        let found = gate(&format!("{}@{}", pin.name, pin.version), &contents, self.deny)?;
        if self.notify {
            self.warnings.extend(found);
        }
        Ok(Loaded { contents, published: published(&index) })
    }

    fn load_version(&mut self, pin: &LockedAgent, version: &semver::Version) -> Result<Option<Contents>> {
        let registry_name = self.registry_name(pin)?;
        let registry = self.registries.open(&registry_name)?;
        let index = registry.index_file(&pin.name)?.unwrap_or_default();
        match index.find(version) {
            Some(record) if record.kind == pin.kind => Ok(Some(read_contents(registry, record)?)),
            _ => Ok(None),
        }
    }
}
