//! The state of a workspace's files against its lockfile, file by file: `list` and `verify`. A
//! view over the model: every file each package should hold for the project's targets, with
//! the evidence for it (what is on disk, an edit the user kept, an update kept aside).

use std::path::PathBuf;

use agents_format::{AgentName, Kind, LockedAgent, RelativePath, Target};

use crate::consent::Approvals;
use crate::error::Result;
use crate::fs::OnDisk;
use crate::model::{Disk, View};
use crate::placement::{Placement, SHARED_TARGET};
use crate::state::WorkspaceState;
use crate::workspace::Workspace;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// On disk, byte-identical to the locked version.
    Ok,
    /// The user's edits, kept on the locked version (a clean merge, or a conflict settled as
    /// theirs): recorded in the state, so not a mismatch.
    Edited,
    /// In the manifest but not locked yet (run `agents install`).
    NotInstalled,
    /// Locked (or wanted for one of the project's targets) but not on disk.
    Missing,
    /// On disk with bytes nobody recorded: an edit, corruption, or something that is not a
    /// regular file.
    Modified,
    /// The locked version met the user's edits and is kept aside (`agents resolve`).
    Conflict,
    /// A plugin version the lockfile pins (pulled from a teammate) that this user has not
    /// approved: the files of the version they approved stay installed meanwhile.
    AwaitingApproval,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Edited => "edited",
            Status::NotInstalled => "not installed",
            Status::Missing => "missing",
            Status::Modified => "modified",
            Status::Conflict => "conflict",
            Status::AwaitingApproval => "awaiting approval",
        }
    }

    /// Whether `verify` fails on it (`strict`: an edit the user kept counts too).
    pub fn fails(self, strict: bool) -> bool {
        match self {
            Status::Ok | Status::NotInstalled => false,
            Status::Edited => strict,
            Status::Missing | Status::Modified | Status::Conflict | Status::AwaitingApproval => true,
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct PackageStatus {
    pub name: AgentName,
    pub kind: Kind,
    pub version: Option<semver::Version>,
    pub requirement: Option<String>,
    /// The registry id from the lockfile.
    pub registry: Option<String>,
    pub sha256: Option<String>,
    /// The key the lockfile pins as this version's signer, in a signed registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// Where it is: its main file, or a skill's directory.
    pub path: PathBuf,
    /// The worst of its files' statuses.
    pub status: Status,
    /// Every file it should hold, each with its status.
    pub files: Vec<FileStatus>,
    /// When its files hold the user's edits kept on the locked version: that version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edited_on: Option<semver::Version>,
    /// An update kept aside because it conflicts with the user's edits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflict: Option<ConflictStatus>,
    /// For a plugin whose pinned version awaits this user's approval: the version whose files
    /// are installed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed: Option<semver::Version>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct FileStatus {
    pub target: String,
    pub path: PathBuf,
    pub status: Status,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ConflictStatus {
    /// The version kept aside.
    pub version: semver::Version,
    pub upstream: PathBuf,
}

/// Every package of the workspace (manifest and lockfile), sorted by name.
pub fn status(workspace: &Workspace) -> Result<Vec<PackageStatus>> {
    let (_, manifest) = workspace.read_manifest()?;
    let (_, lockfile) = workspace.read_lockfile()?;
    let state = workspace.read_state();
    let root = workspace.open_root()?;
    let disk = Disk::lenient(&root, &state);
    let placement = workspace.placement();
    let approvals = Approvals::read(&workspace.dirs.state);
    let mut all = Vec::with_capacity(lockfile.agents().len());
    for locked in lockfile.agents() {
        let mut package = package_status(workspace, placement, &manifest.targets, locked, &disk, &state)?;
        if locked.kind == Kind::Plugin && package.status != Status::Ok {
            awaiting_approval(&mut package, locked, &state, &approvals);
        }
        package.requirement = manifest.agents.get(&locked.name).map(|d| d.requirement.to_string());
        all.push(package);
    }
    for (name, dependency) in &manifest.agents {
        if lockfile.get(name).is_none() {
            all.push(PackageStatus {
                name: name.clone(),
                kind: Kind::default(),
                version: None,
                requirement: Some(dependency.requirement.to_string()),
                registry: None,
                sha256: None,
                signer: None,
                path: workspace.resolve(&placement.agent_file(name)),
                status: Status::NotInstalled,
                files: Vec::new(),
                edited_on: None,
                conflict: None,
                installed: None,
            });
        }
    }
    all.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(all)
}

fn package_status(
    workspace: &Workspace,
    placement: Placement<'_>,
    targets: &[Target],
    locked: &LockedAgent,
    disk: &View<'_>,
    state: &WorkspaceState,
) -> Result<PackageStatus> {
    let mut files = Vec::new();
    let mut status = Status::Ok;
    let mut edited_on = None;
    let mut conflict = None;
    for (target, path, sha256) in placement.pinned_files(locked) {
        let on_disk = disk.at(&path)?;
        let file_status = match on_disk {
            OnDisk::Missing => Status::Missing,
            OnDisk::File { sha256: found, .. } if found == sha256 => Status::Ok,
            _ => match (state.conflicts.get(&path), on_disk.sha256()) {
                (Some(kept_aside), _) if kept_aside.version == locked.version => {
                    conflict = Some(ConflictStatus {
                        version: kept_aside.version.clone(),
                        upstream: kept_aside.upstream.clone(),
                    });
                    Status::Conflict
                }
                (_, Some(found)) if state.kept_edit(&path, found, &locked.version) => {
                    edited_on = Some(locked.version.clone());
                    Status::Edited
                }
                _ => Status::Modified,
            },
        };
        status = status.max(file_status);
        files.push(FileStatus { target, path: workspace.resolve(&path), status: file_status });
    }
    for (target, path) in unplaced(placement, targets, locked) {
        status = status.max(Status::Missing);
        let on_disk = disk.at(&path)?;
        let file_status = if on_disk == OnDisk::Missing { Status::Missing } else { Status::Modified };
        files.push(FileStatus { target, path: workspace.resolve(&path), status: file_status });
    }
    Ok(PackageStatus {
        name: locked.name.clone(),
        kind: locked.kind,
        version: Some(locked.version.clone()),
        requirement: None,
        registry: Some(locked.registry.to_string()),
        sha256: Some(locked.sha256.to_hex()),
        signer: locked.signer.clone(),
        path: workspace.resolve(&placement.shown_path(locked.kind, &locked.name)),
        status,
        files,
        edited_on,
        conflict,
        installed: None,
    })
}

/// Marks a plugin whose files are another version's, as this tool wrote them, and whose pinned
/// version this user has not approved: the install that met it held it back for approval.
fn awaiting_approval(package: &mut PackageStatus, locked: &LockedAgent, state: &WorkspaceState, approvals: &Approvals) {
    if crate::plugins::approved(approvals, locked) {
        return;
    }
    let installed = state.files.values().find(|w| w.agent == locked.name && w.version != locked.version);
    let Some(installed) = installed else { return };
    package.installed = Some(installed.version.clone());
    package.status = Status::AwaitingApproval;
    for file in package.files.iter_mut().filter(|f| f.status != Status::Ok) {
        file.status = Status::AwaitingApproval;
    }
}

/// The files a package should hold for a target of the project that its lockfile entry does not
/// pin yet (a target added to `agents.toml` by hand): an agent's conversion, a skill's shared
/// copy. A command's conversion may be refused by its tool, so it is not presumed.
fn unplaced(placement: Placement<'_>, targets: &[Target], locked: &LockedAgent) -> Vec<(String, RelativePath)> {
    if placement.placed_for(locked, targets) {
        return Vec::new();
    }
    let pinned = |target: &str| locked.files.iter().any(|f| f.target == target);
    match locked.kind {
        Kind::Agent => targets
            .iter()
            .filter(|t| **t != Target::ClaudeCode && !pinned(t.as_str()))
            .map(|t| (t.as_str().to_owned(), placement.target_file(*t, &locked.name)))
            .collect(),
        Kind::Skill if !pinned(SHARED_TARGET) && targets.iter().any(|t| *t != Target::ClaudeCode) => {
            let claude_dir = placement.claude_relative(&format!("skills/{}", locked.name));
            locked
                .files
                .iter()
                .filter_map(|f| f.path.as_str().strip_prefix(&format!("{claude_dir}/")))
                .filter_map(|rest| {
                    RelativePath::parse(&format!("{}/{rest}", Placement::shared_skill_dir(&locked.name))).ok()
                })
                .map(|path| (SHARED_TARGET.to_owned(), path))
                .collect()
        }
        Kind::Skill | Kind::Command | Kind::Bundle | Kind::Plugin => Vec::new(),
    }
}
