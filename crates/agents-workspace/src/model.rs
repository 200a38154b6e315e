//! The one model of a workspace. [`wanted`] computes what the workspace should hold: every
//! managed path of every package for every target, with its wanted bytes and mode, from the
//! pins (the lockfile, or what a command resolved), the project's targets and the pinned bytes.
//! [`Evidence`] is everything known about one path: what this tool last wrote there and on which
//! version (the merge base), what the lockfile pinned there before, a conflict kept aside, and
//! what is on disk now, gathered in one place. [`managed`] joins the two into the files a plan
//! decides for, the only place such a file is built.
//!
//! Every verb is a view or a plan over these: install, update, uninstall and sync plan over
//! them (`engine`), list and verify read them (`status`), and the daemon runs sync.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use agents_format::{AgentName, FileMode, Kind, LockedAgent, LockedFile, Lockfile, RelativePath, Sha256, Target};

use crate::error::{Result, WorkspaceError};
use crate::fs::{Fingerprint, OnDisk, Root};
use crate::placement::{Contents, Origin, PlacedPackage, Placement};
use crate::state::{Conflict, WorkspaceState, Written};

/// One package as a command wants it: the pin the workspace holds once the command is done,
/// whether the command is about it, and its verified contents when the command has them.
#[derive(Debug, Clone)]
pub(crate) struct Package {
    /// Its `files` are what was pinned before; [`wanted`] derives them again whenever it loads
    /// the contents.
    pub(crate) pin: LockedAgent,
    /// Whether the command is about this package (named, or every package when none is): only
    /// then may it refuse or force.
    pub(crate) subject: bool,
    pub(crate) loaded: Option<Loaded>,
    /// Left exactly as it is: its pinned files are neither written nor removed (the packages an
    /// uninstall is not about).
    pub(crate) held: bool,
    /// Named on the command line and kept at its pin: its registry record is read and checked
    /// again (checksum, signatures, hidden Unicode) even when its files are settled, so asking
    /// for a package by name never skips the checks its registry's policy asks for.
    pub(crate) recheck: bool,
}

impl Package {
    /// A locked package the command keeps at its pin.
    pub(crate) fn pinned(pin: &LockedAgent, subject: bool) -> Package {
        Package { pin: pin.clone(), subject, loaded: None, held: false, recheck: false }
    }
}

/// A package's verified contents, and what every published version of it holds.
#[derive(Debug, Clone)]
pub(crate) struct Loaded {
    pub(crate) contents: Contents,
    pub(crate) published: Published,
}

/// Checksums of every published version of a package: bytes this tool may have written.
#[derive(Debug, Clone, Default)]
pub(crate) struct Published {
    /// Each version's agent file.
    pub(crate) bodies: Vec<(semver::Version, Sha256)>,
    /// Each version's package files, by their path in the package.
    pub(crate) files: Vec<(semver::Version, RelativePath, Sha256)>,
}

impl Published {
    fn at(&self, origin: &Origin) -> Vec<(semver::Version, Sha256)> {
        match origin {
            Origin::Body => self.bodies.clone(),
            Origin::Copy(path) => {
                self.files.iter().filter(|(_, p, _)| p == path).map(|(v, _, sha)| (v.clone(), *sha)).collect()
            }
            Origin::Converted => Vec::new(),
        }
    }
}

/// Where [`wanted`] gets the contents a command did not bring: the registries' caches, each
/// version verified as it is read.
pub(crate) trait Loader {
    /// The pinned contents of `pin`, verified against its checksums and its registry's rules.
    fn load(&mut self, pin: &LockedAgent) -> Result<Loaded>;
    /// The contents of another published version of the same package (a merge base), if the
    /// registry still has it.
    fn load_version(&mut self, pin: &LockedAgent, version: &semver::Version) -> Result<Option<Contents>>;
}

/// What is on disk, asked once per path per command: the plan, the evidence and the views all
/// read the same answer (the compare-and-swap of apply checks again at the moment it writes).
pub(crate) struct Disk<'a> {
    root: &'a Root,
    /// What this tool recorded writing (as the command started): a file that still has that
    /// fingerprint is not read.
    known: HashMap<RelativePath, (Fingerprint, Sha256)>,
    seen: RefCell<HashMap<RelativePath, OnDisk>>,
    /// Whether a symlinked directory on the way is reported as something foreign at the path
    /// (the views) rather than refused as an error (a change, which must say why it stops).
    lenient: bool,
}

impl<'a> Disk<'a> {
    /// For a change: a symlinked directory on the way to a path is an error naming it.
    pub(crate) fn new(root: &'a Root, state: &WorkspaceState) -> Disk<'a> {
        Disk { root, known: known(state), seen: RefCell::new(HashMap::new()), lenient: false }
    }

    /// For a view (list, verify): a symlinked directory on the way is something foreign there.
    /// A view asks once per path, so nothing is remembered, and the state is only looked into.
    pub(crate) fn lenient(root: &'a Root, state: &'a WorkspaceState) -> View<'a> {
        View { root, state }
    }

    /// What is at `path`.
    pub(crate) fn at(&self, path: &RelativePath) -> Result<OnDisk> {
        if let Some(seen) = self.seen.borrow().get(path) {
            return Ok(*seen);
        }
        let on_disk = match self.root.inspect_known(path, self.known.get(path).copied()) {
            Ok(on_disk) => on_disk,
            Err(WorkspaceError::SymlinkedPath { .. }) if self.lenient => {
                OnDisk::Foreign(crate::fs::ForeignKind::Symlink)
            }
            Err(error) => return Err(error),
        };
        self.seen.borrow_mut().insert(path.clone(), on_disk);
        Ok(on_disk)
    }
}

/// What is on disk, for a view over a workspace (`list`, `verify`): each path asked once, a
/// symlinked directory on the way reported as something foreign there.
pub(crate) struct View<'a> {
    root: &'a Root,
    state: &'a WorkspaceState,
}

impl View<'_> {
    pub(crate) fn at(&self, path: &RelativePath) -> Result<OnDisk> {
        match self.root.inspect_known(path, self.state.known(path)) {
            Err(WorkspaceError::SymlinkedPath { .. }) => Ok(OnDisk::Foreign(crate::fs::ForeignKind::Symlink)),
            other => other,
        }
    }
}

/// The fingerprints in `state`, by path.
fn known(state: &WorkspaceState) -> HashMap<RelativePath, (Fingerprint, Sha256)> {
    state.files.keys().filter_map(|path| state.known(path).map(|known| (path.clone(), known))).collect()
}

/// One file the workspace should hold.
#[derive(Debug, Clone)]
pub(crate) struct WantedFile {
    /// The lockfile target: a tool's name, or the shared skills copy's.
    pub(crate) target: String,
    pub(crate) path: RelativePath,
    pub(crate) sha256: Sha256,
    /// `None` when the package's contents were not needed: every file is on disk as pinned, or
    /// holds an edit the user kept, so nothing is written.
    pub(crate) bytes: Option<Vec<u8>>,
    pub(crate) mode: Option<FileMode>,
    /// What a conversion could not carry over.
    pub(crate) notes: Vec<String>,
    /// What published versions of the package put here: bytes this tool may have written.
    pub(crate) published: Vec<(semver::Version, Sha256)>,
    /// What the version the files were installed from puts here, when the pin moved from it:
    /// the base a local edit is merged from.
    pub(crate) base: Option<Vec<u8>>,
}

/// One package as the workspace should hold it.
#[derive(Debug, Clone)]
pub(crate) struct WantedPackage {
    /// With `files` as placed for the project's targets: the lockfile entry.
    pub(crate) pin: LockedAgent,
    pub(crate) subject: bool,
    /// Its Claude Code files first.
    pub(crate) files: Vec<WantedFile>,
    /// The tools that get no file of it, each with why.
    pub(crate) skipped: Vec<(&'static str, String)>,
    /// The version its files were installed from, when the pin moved from it.
    pub(crate) base_version: Option<semver::Version>,
    /// Left as it is: its files are claimed (never removed) but not planned.
    pub(crate) held: bool,
}

/// What a workspace should hold.
#[derive(Debug, Default)]
pub(crate) struct Wanted {
    pub(crate) packages: Vec<WantedPackage>,
    /// Packages whose contents could not be had now (a registry not cached, a pin the registry
    /// lacks): their files are neither written nor removed.
    pub(crate) unavailable: Vec<Unavailable>,
}

/// A package whose contents could not be had now, and why.
#[derive(Debug)]
pub(crate) struct Unavailable {
    pub(crate) pin: LockedAgent,
    pub(crate) subject: bool,
    pub(crate) error: WorkspaceError,
}

impl Wanted {
    /// The lockfile this wanted state is: every package's pin with its placed files.
    pub(crate) fn lockfile(&self, unavailable_from: &Lockfile) -> Lockfile {
        let mut lockfile = Lockfile::default();
        for package in &self.packages {
            lockfile.insert(package.pin.clone());
        }
        for Unavailable { pin, .. } in &self.unavailable {
            lockfile.insert(unavailable_from.get(&pin.name).cloned().unwrap_or_else(|| pin.clone()));
        }
        lockfile
    }
}

/// Computes what the workspace should hold for `packages` and `tools`. A package whose contents
/// the command did not bring is taken as pinned when it is settled (placed for these tools, and
/// every file on disk as pinned or a kept edit) and not forced: nothing of it needs bytes.
/// Otherwise its contents are loaded, and, when its pin moved from the version its files were
/// installed from, that version's too, as merge bases.
#[allow(clippy::too_many_arguments)]
pub(crate) fn wanted(
    placement: Placement<'_>,
    tools: &[Target],
    packages: Vec<Package>,
    disk: &Disk<'_>,
    state: &WorkspaceState,
    previous: &Lockfile,
    loader: &mut dyn Loader,
    force: bool,
) -> Result<Wanted> {
    let mut wanted = Wanted::default();
    for package in packages {
        let forced = force && package.subject;
        let loaded = match package.loaded {
            Some(loaded) => loaded,
            None if package.held => {
                let mut held = as_pinned(placement, package.pin, package.subject);
                held.held = true;
                wanted.packages.push(held);
                continue;
            }
            None if !forced && !package.recheck && settled(placement, &package.pin, tools, disk, state)? => {
                wanted.packages.push(as_pinned(placement, package.pin, package.subject));
                continue;
            }
            None => match loader.load(&package.pin) {
                Ok(loaded) => loaded,
                Err(error) => {
                    wanted.unavailable.push(Unavailable { pin: package.pin, subject: package.subject, error });
                    continue;
                }
            },
        };
        let base_version = base_version(placement, &package.pin, state, previous);
        let base = match &base_version {
            Some(version) => loader.load_version(&package.pin, version).ok().flatten(),
            None => None,
        };
        wanted.packages.push(derive(placement, tools, package.pin, package.subject, &loaded, base, base_version));
    }
    Ok(wanted)
}

/// Whether a package needs no bytes: placed for `tools`, and every pinned file on disk as pinned
/// or holding an edit the user kept on this version.
fn settled(
    placement: Placement<'_>,
    pin: &LockedAgent,
    tools: &[Target],
    disk: &Disk<'_>,
    state: &WorkspaceState,
) -> Result<bool> {
    if !placement.placed_for(pin, tools) {
        return Ok(false);
    }
    for (_, path, sha256) in placement.pinned_files(pin) {
        match disk.at(&path)? {
            OnDisk::File { sha256: on_disk, .. }
                if on_disk == sha256 || state.kept_edit(&path, on_disk, &pin.version) => {}
            _ => return Ok(false),
        }
    }
    Ok(true)
}

/// A settled package: its pinned files, with no bytes.
fn as_pinned(placement: Placement<'_>, pin: LockedAgent, subject: bool) -> WantedPackage {
    let files = placement
        .pinned_files(&pin)
        .into_iter()
        .map(|(target, path, sha256)| WantedFile {
            target,
            path,
            sha256,
            bytes: None,
            mode: None,
            notes: Vec::new(),
            published: Vec::new(),
            base: None,
        })
        .collect();
    WantedPackage { pin, subject, files, skipped: Vec::new(), base_version: None, held: false }
}

/// The version a package's files were installed from, when its pin has moved from it: what this
/// tool recorded writing at the package's main file, else what the lockfile pinned before.
fn base_version(
    placement: Placement<'_>,
    pin: &LockedAgent,
    state: &WorkspaceState,
    previous: &Lockfile,
) -> Option<semver::Version> {
    let main = placement.main_file(pin.kind, &pin.name);
    let recorded = state
        .files
        .get(&main)
        .filter(|w| w.agent == pin.name)
        .map(|w| w.version.clone())
        .or_else(|| state.files.values().find(|w| w.agent == pin.name).map(|w| w.version.clone()));
    let before = recorded.or_else(|| {
        previous.get(&pin.name).filter(|p| p.registry == pin.registry && p.kind == pin.kind).map(|p| p.version.clone())
    })?;
    (before != pin.version).then_some(before)
}

/// A loaded package placed for `tools`: each file with its bytes, what published versions put at
/// its path, and its merge base.
fn derive(
    placement: Placement<'_>,
    tools: &[Target],
    mut pin: LockedAgent,
    subject: bool,
    loaded: &Loaded,
    base: Option<Contents>,
    base_version: Option<semver::Version>,
) -> WantedPackage {
    let placed = placement.place(pin.kind, &pin.name, tools, &loaded.contents);
    let base_placed = base.map(|base| placement.place(pin.kind, &pin.name, tools, &base)).unwrap_or_default();
    pin.files = locked_files(&placed);
    let files = placed
        .files
        .into_iter()
        .map(|file| WantedFile {
            target: file.target.to_owned(),
            sha256: Sha256::of(&file.bytes),
            published: loaded.published.at(&file.origin),
            base: base_placed.files.iter().find(|b| b.path == file.path).map(|b| b.bytes.clone()),
            path: file.path,
            bytes: Some(file.bytes),
            mode: file.mode,
            notes: file.notes,
        })
        .collect();
    WantedPackage { pin, subject, files, skipped: placed.skipped, base_version, held: false }
}

/// The lockfile's `[[agent.file]]` entries of a placed package: every file but an agent's own.
fn locked_files(placed: &PlacedPackage) -> Vec<LockedFile> {
    let mut files: Vec<LockedFile> = placed
        .files
        .iter()
        .filter(|file| file.origin != Origin::Body)
        .map(|file| LockedFile {
            target: file.target.to_owned(),
            path: file.path.clone(),
            sha256: Sha256::of(&file.bytes),
        })
        .collect();
    files.sort_by(|a, b| (&a.target, &a.path).cmp(&(&b.target, &b.path)));
    files
}

/// The lockfile entry of `pin` placed for `tools` with `contents` (a pin moved by itself, as the
/// daemon's auto-update does): the same files [`wanted`] would derive.
pub(crate) fn lock_entry(
    placement: Placement<'_>,
    tools: &[Target],
    mut pin: LockedAgent,
    contents: &Contents,
) -> LockedAgent {
    pin.files = locked_files(&placement.place(pin.kind, &pin.name, tools, contents));
    pin
}

/// What the lockfile pinned before the command, by path.
pub(crate) struct Pins {
    by_path: HashMap<RelativePath, Pinned>,
}

#[derive(Debug, Clone)]
pub(crate) struct Pinned {
    pub(crate) name: AgentName,
    pub(crate) kind: Kind,
    pub(crate) version: semver::Version,
    pub(crate) target: String,
    pub(crate) sha256: Sha256,
}

impl Pins {
    pub(crate) fn of(placement: Placement<'_>, lockfile: &Lockfile) -> Pins {
        let mut by_path = HashMap::new();
        for locked in lockfile.agents() {
            for (target, path, sha256) in placement.pinned_files(locked) {
                let pinned = Pinned {
                    name: locked.name.clone(),
                    kind: locked.kind,
                    version: locked.version.clone(),
                    target,
                    sha256,
                };
                by_path.insert(path, pinned);
            }
        }
        Pins { by_path }
    }

    pub(crate) fn get(&self, path: &RelativePath) -> Option<&Pinned> {
        self.by_path.get(path)
    }
}

/// Everything known about one managed path, gathered in one place.
#[derive(Debug, Clone)]
pub(crate) struct Evidence {
    pub(crate) on_disk: OnDisk,
    /// What this tool recorded writing there (a merge of the user's edits is marked).
    pub(crate) written: Option<Written>,
    /// What the lockfile pinned there before the command.
    pub(crate) pinned: Option<Pinned>,
}

impl Evidence {
    pub(crate) fn gather(
        path: &RelativePath,
        disk: &Disk<'_>,
        state: &WorkspaceState,
        pins: &Pins,
    ) -> Result<Evidence> {
        Ok(Evidence {
            on_disk: disk.at(path)?,
            written: state.files.get(path).cloned(),
            pinned: pins.get(path).cloned(),
        })
    }

    /// The bytes this tool put at the path, as far as the evidence goes: what it last wrote
    /// there (not a merge, which is the user's) and what the lockfile pinned there before.
    pub(crate) fn ours(&self) -> Vec<Sha256> {
        let mut ours = Vec::with_capacity(2);
        ours.extend(self.written.as_ref().filter(|w| !w.merged).map(|w| w.sha256));
        ours.extend(self.pinned.as_ref().map(|p| p.sha256));
        ours
    }

    /// Whether this tool managed the path before: it wrote there, or the lockfile pinned it.
    pub(crate) fn managed(&self) -> bool {
        self.written.is_some() || self.pinned.is_some()
    }

    /// The version of the bytes on disk, when they are bytes this tool knows.
    pub(crate) fn version_on_disk(&self) -> Option<semver::Version> {
        let on_disk = self.on_disk.sha256()?;
        match (&self.written, &self.pinned) {
            (Some(written), _) if written.sha256 == on_disk => Some(written.version.clone()),
            (_, Some(pinned)) if pinned.sha256 == on_disk => Some(pinned.version.clone()),
            _ => None,
        }
    }
}

/// Who a managed file belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Owner {
    pub(crate) name: AgentName,
    pub(crate) kind: Kind,
    /// The version the wanted bytes are (or, for a removal, the version last there).
    pub(crate) version: semver::Version,
}

/// The bytes a managed file should hold.
#[derive(Debug, Clone)]
pub(crate) struct Want {
    pub(crate) sha256: Sha256,
    /// `None` for a settled package, whose file needs no write.
    pub(crate) bytes: Option<Vec<u8>>,
    pub(crate) mode: Option<FileMode>,
}

/// One managed file with everything a plan decides by: the only place one is built is
/// [`managed`].
#[derive(Debug, Clone)]
pub(crate) struct Managed {
    pub(crate) owner: Owner,
    pub(crate) target: String,
    pub(crate) path: RelativePath,
    /// `None`: the file should not exist.
    pub(crate) want: Option<Want>,
    /// Checksums this tool may have put at the path: the evidence's, and what published versions
    /// of the package put there.
    pub(crate) ours: Vec<Sha256>,
    /// What published versions of the package put at the path, by version.
    pub(crate) published: Vec<(semver::Version, Sha256)>,
    /// The merge base's bytes, when the pin moved from the version the file was installed from.
    pub(crate) base: Option<Vec<u8>>,
    pub(crate) base_version: Option<semver::Version>,
    pub(crate) subject: bool,
    pub(crate) evidence: Evidence,
}

impl Managed {
    pub(crate) fn wanted(&self) -> Option<Sha256> {
        self.want.as_ref().map(|w| w.sha256)
    }

    /// The version of the bytes on disk, when they are bytes this tool knows: what it recorded,
    /// what the lockfile pinned, or a published version's.
    pub(crate) fn version_on_disk(&self) -> Option<semver::Version> {
        let on_disk = self.evidence.on_disk.sha256()?;
        self.evidence
            .version_on_disk()
            .or_else(|| self.published.iter().find(|(_, sha)| *sha == on_disk).map(|(v, _)| v.clone()))
    }

    /// Whether the pin moved under this file since it was installed (a new version is wanted
    /// where the recorded or pinned one was another).
    pub(crate) fn moved(&self) -> bool {
        let Some(want) = &self.want else { return false };
        match (&self.evidence.written, &self.evidence.pinned) {
            (Some(written), _) => written.version != self.owner.version,
            (None, Some(pinned)) => pinned.sha256 != want.sha256,
            (None, None) => false,
        }
    }
}

/// Every managed file of `wanted`, and every path this tool managed before that no package
/// wants now (pinned by the previous lockfile, or recorded in the state), to be removed. Paths
/// of unavailable packages are left out: neither written nor removed. A removal is the
/// command's subject when `removing` names its package.
pub(crate) fn managed(
    wanted: &Wanted,
    pins: &Pins,
    previous: &Lockfile,
    state: &WorkspaceState,
    disk: &Disk<'_>,
    removing: &[AgentName],
) -> Result<Vec<Managed>> {
    let mut files = Vec::new();
    let mut claimed: BTreeMap<&RelativePath, &LockedAgent> = BTreeMap::new();
    for package in &wanted.packages {
        let owner =
            Owner { name: package.pin.name.clone(), kind: package.pin.kind, version: package.pin.version.clone() };
        for file in &package.files {
            // Two packages' files at one path (a plugin's skill named like another package's
            // directory): refused before anything is written, never one overwriting the other.
            if let Some(first) = claimed.insert(&file.path, &package.pin)
                && first.name != package.pin.name
            {
                let shown = |pin: &LockedAgent| format!("{} {}", pin.kind, pin.name);
                return Err(WorkspaceError::SharedPath {
                    path: file.path.to_string(),
                    first: shown(first),
                    second: shown(&package.pin),
                });
            }
            if package.held {
                continue;
            }
            let evidence = Evidence::gather(&file.path, disk, state, pins)?;
            let mut ours = evidence.ours();
            ours.extend(file.published.iter().map(|(_, sha)| *sha));
            files.push(Managed {
                published: file.published.clone(),
                owner: owner.clone(),
                target: file.target.clone(),
                path: file.path.clone(),
                want: Some(Want { sha256: file.sha256, bytes: file.bytes.clone(), mode: file.mode }),
                ours,
                base: file.base.clone(),
                base_version: package.base_version.clone(),
                subject: package.subject,
                evidence,
            });
        }
    }
    let unavailable: Vec<&AgentName> = wanted.unavailable.iter().map(|u| &u.pin.name).collect();
    let mut gone: Vec<(RelativePath, Owner)> = Vec::new();
    for (path, pinned) in &pins.by_path {
        if !claimed.contains_key(path) {
            let owner = Owner { name: pinned.name.clone(), kind: pinned.kind, version: pinned.version.clone() };
            gone.push((path.clone(), owner));
        }
    }
    for (path, written) in &state.files {
        if !claimed.contains_key(path) && pins.get(path).is_none() {
            let kind = previous.get(&written.agent).map(|p| p.kind).unwrap_or_default();
            gone.push((path.clone(), Owner { name: written.agent.clone(), kind, version: written.version.clone() }));
        }
    }
    gone.retain(|(_, owner)| !unavailable.contains(&&owner.name));
    // One order: each package's removals after its writes, packages by name, paths sorted.
    gone.sort_by(|a, b| (&a.1.name, &a.0).cmp(&(&b.1.name, &b.0)));
    for (path, owner) in gone {
        let evidence = Evidence::gather(&path, disk, state, pins)?;
        let target = evidence.pinned.as_ref().map(|p| p.target.clone()).unwrap_or_default();
        files.push(Managed {
            published: Vec::new(),
            subject: removing.contains(&owner.name),
            ours: evidence.ours(),
            owner,
            target,
            path,
            want: None,
            base: None,
            base_version: None,
            evidence,
        });
    }
    files.sort_by(|a, b| a.owner.name.cmp(&b.owner.name).then(a.want.is_none().cmp(&b.want.is_none())));
    Ok(files)
}

/// The file at `path` replaced by `bytes` to settle the conflict kept aside there (`agents
/// resolve`): the user chose, so it is the subject, and the plan forces it (a backup first).
pub(crate) fn replacement(
    path: &RelativePath,
    conflict: &Conflict,
    bytes: Vec<u8>,
    disk: &Disk<'_>,
    state: &WorkspaceState,
    pins: &Pins,
) -> Result<Managed> {
    let evidence = Evidence::gather(path, disk, state, pins)?;
    let pinned = pins.get(path);
    Ok(Managed {
        published: Vec::new(),
        owner: Owner {
            name: conflict.agent.clone(),
            kind: pinned.map(|p| p.kind).unwrap_or_default(),
            version: conflict.version.clone(),
        },
        target: pinned.map(|p| p.target.clone()).unwrap_or_default(),
        path: path.clone(),
        want: Some(Want { sha256: Sha256::of(&bytes), bytes: Some(bytes), mode: None }),
        ours: evidence.ours(),
        base: None,
        base_version: None,
        subject: true,
        evidence,
    })
}

/// The directories the daemon watches for the packages `workspace`'s lockfile pins: every
/// directory from `.claude` or `.agents` down to each pinned file's own, so that a file, a
/// subdirectory or the whole package deleted is seen (watches are not recursive).
pub fn package_watch_dirs(workspace: &crate::workspace::Workspace) -> Vec<std::path::PathBuf> {
    let Ok((_, lockfile)) = workspace.read_lockfile() else { return Vec::new() };
    let mut dirs = BTreeSet::new();
    for locked in lockfile.agents().iter().filter(|l| !l.kind.is_agent()) {
        for file in &locked.files {
            let components: Vec<&str> = file.path.parent_components().collect();
            for end in 1..=components.len() {
                if let Ok(dir) = RelativePath::parse(&components[..end].join("/")) {
                    dirs.insert(workspace.resolve(&dir));
                }
            }
        }
    }
    dirs.into_iter().collect()
}
