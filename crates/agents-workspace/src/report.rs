//! What a change to a workspace did (or, with `--dry-run`, would do), file by file: the one
//! report install, update, uninstall, sync and the daemon return. Every file is named by its
//! path, with what happened to it and the package it belongs to.

use std::path::PathBuf;

use agents_format::{AgentName, Kind};

use crate::engine::{Blocker, Decision, Done, StepResult};
use crate::fs::OnDisk;
use crate::model::Managed;

/// What happened to one managed file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "action")]
pub enum FileAction {
    /// Written where nothing was, and nothing this tool wrote was there before on this machine.
    Installed,
    /// Written again: this tool had written it here, and it went missing.
    Restored,
    /// Replaced bytes this tool had put there (`from`: their version, when known).
    Updated {
        from: Option<semver::Version>,
    },
    /// The user's edits merged three ways onto the new version (`base`: the version they were
    /// made on).
    Merged {
        base: Option<semver::Version>,
    },
    Removed,
    /// Already as wanted.
    Unchanged,
    /// Left as it is: the user's edits, or something that is not a regular file. `dropped`: the
    /// package (or its new version) no longer has the file.
    Kept {
        reason: Kept,
        dropped: bool,
    },
    /// The new version conflicts with the user's edits: the file is left as it is and the new
    /// version is kept aside (`agents resolve`); `new`: kept aside by this command.
    Conflict {
        upstream: Option<PathBuf>,
        new: bool,
    },
    /// A save raced the write: the user's bytes are there.
    Raced {
        backup: Option<PathBuf>,
    },
}

/// Why a file was left as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kept {
    /// The user's edits (recorded as kept, or found).
    LocalEdit,
    /// A file this tool never managed.
    Unmanaged,
    /// A symlink, a directory or a special file.
    NotAFile,
}

impl FileAction {
    /// Whether the file was (or would be) written or removed.
    pub fn changes(&self) -> bool {
        matches!(
            self,
            FileAction::Installed
                | FileAction::Restored
                | FileAction::Updated { .. }
                | FileAction::Merged { .. }
                | FileAction::Removed
        )
    }

    /// The verb a line about it starts with (`Would …` under `--dry-run`).
    pub fn verb(&self) -> &'static str {
        match self {
            FileAction::Installed => "Installed",
            FileAction::Restored => "Restored",
            FileAction::Updated { .. } => "Updated",
            FileAction::Merged { .. } => "Merged",
            FileAction::Removed => "Removed",
            FileAction::Unchanged => "Unchanged",
            FileAction::Kept { .. } | FileAction::Raced { .. } => "Kept",
            FileAction::Conflict { .. } => "Conflict",
        }
    }
}

/// One file and what happened to it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileChange {
    pub path: PathBuf,
    /// The tool it is for (`claude-code`, `opencode`, …; `agents` for a skill's shared copy).
    pub target: String,
    #[serde(flatten)]
    pub action: FileAction,
    /// Where a local edit overwritten or removed by `--force` was saved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<PathBuf>,
}

/// One package and what happened to each of its files.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PackageChange {
    pub name: AgentName,
    pub kind: Kind,
    /// The version it is at now (for a removed package, the version it was at).
    pub version: semver::Version,
    /// Whether the package left the workspace.
    pub removed: bool,
    /// Whether the command was about it (named, or every package when none was).
    pub subject: bool,
    /// Where it is, for one-line messages: its main file, or a skill's directory.
    pub path: PathBuf,
    /// Its own directories (a skill's), so a report can name a directory instead of each file.
    #[serde(skip)]
    pub own_dirs: Vec<PathBuf>,
    pub files: Vec<FileChange>,
}

impl PackageChange {
    /// The package's files grouped by what happened to them, in order of first appearance; each
    /// group names its files, or a directory of the package's own when every file of the package
    /// below it had the same fate (`.claude/skills/pdf/`, with how many files).
    pub fn groups(&self) -> Vec<(FileAction, Vec<Shown>)> {
        let mut groups: Vec<(FileAction, Vec<&FileChange>)> = Vec::new();
        for file in &self.files {
            let key = group_key(&file.action);
            match groups.iter_mut().find(|(action, _)| group_key(action) == key) {
                Some((_, files)) => files.push(file),
                None => groups.push((file.action.clone(), vec![file])),
            }
        }
        groups
            .into_iter()
            .map(|(action, files)| {
                let mut shown = Vec::new();
                let mut covered: Vec<&PathBuf> = Vec::new();
                for dir in &self.own_dirs {
                    let all_below: Vec<&FileChange> = self.files.iter().filter(|f| f.path.starts_with(dir)).collect();
                    let here = files.iter().filter(|f| f.path.starts_with(dir)).count();
                    if here > 1 && here == all_below.len() {
                        shown.push(Shown { path: dir.clone(), files: Some(here) });
                        covered.extend(all_below.iter().map(|f| &f.path));
                    }
                }
                shown.extend(
                    files
                        .iter()
                        .filter(|f| !covered.contains(&&f.path))
                        .map(|f| Shown { path: f.path.clone(), files: None }),
                );
                (action, shown)
            })
            .collect()
    }
}

/// A file, or a directory standing for the files below it, in a report line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub path: PathBuf,
    /// For a directory: how many files below it the line is about.
    pub files: Option<usize>,
}

/// Files that are grouped in one line: the same verb (an update from several versions is one).
fn group_key(action: &FileAction) -> &'static str {
    action.verb()
}

/// One thing a converted file could not carry over.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Loss {
    pub agent: AgentName,
    pub kind: Kind,
    pub target: String,
    /// What was lost, as [`agents_format::Converted::unmapped`] names it.
    pub detail: String,
}

/// A locked version the cached registry does not have: not fetched yet, or really missing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MissingPin {
    pub name: AgentName,
    pub version: semver::Version,
    pub registry: String,
}

/// An update kept aside because it conflicts with the user's edits.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConflictReport {
    pub name: AgentName,
    pub version: semver::Version,
    pub path: PathBuf,
    pub upstream: PathBuf,
}

/// What a change to a workspace did (or would do).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    /// Nothing was changed: this is the plan.
    pub dry_run: bool,
    /// Every package the change touched or kept, by name.
    pub packages: Vec<PackageChange>,
    pub warnings: Vec<String>,
    /// What a conversion for another tool could not carry over, one line per loss.
    pub notes: Vec<String>,
    /// The same losses, structured, for grouping.
    pub losses: Vec<Loss>,
    /// Updates kept aside because they conflict with the user's edits.
    pub conflicts: Vec<ConflictReport>,
    /// Packages that could not be brought to their pins this time (sync and the daemon: a
    /// registry not cached, a version it lacks); their files were neither written nor removed.
    pub errors: Vec<String>,
    /// Whether a fetch would help with `errors` (a pulled pin this machine has not fetched).
    pub needs_fetch: bool,
    /// Locked versions the cached registry lacks (also in `errors`).
    pub missing: Vec<MissingPin>,
    pub manifest_changed: bool,
    pub lockfile_changed: bool,
    /// Bundles pinned, moved or dropped: they have no files, so no package above names them.
    pub bundles: Vec<BundleChange>,
    /// Managed entries in configuration files (MCP servers…), each with what happened to it.
    pub config: Vec<crate::config_entries::EntryChange>,
    /// Executable content not written because the user has not approved its command lines.
    pub awaiting_approval: Vec<crate::consent::Pending>,
}

/// A bundle the change pinned (`from` none), moved (`from` its old version) or dropped
/// (`removed`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BundleChange {
    pub name: AgentName,
    pub version: semver::Version,
    pub from: Option<semver::Version>,
    pub removed: bool,
    /// How many packages it requires.
    pub requires: usize,
}

/// The bundles of `after` that `before` did not pin at that version, and those it dropped.
pub(crate) fn bundle_changes(before: &agents_format::Lockfile, after: &agents_format::Lockfile) -> Vec<BundleChange> {
    use agents_format::Kind;
    let mut out = Vec::new();
    for entry in after.agents().iter().filter(|a| a.kind == Kind::Bundle) {
        let old = before.get(&entry.name).filter(|b| b.kind == Kind::Bundle);
        if old.is_some_and(|old| old.version == entry.version) {
            continue;
        }
        out.push(BundleChange {
            name: entry.name.clone(),
            version: entry.version.clone(),
            from: old.map(|old| old.version.clone()),
            removed: false,
            requires: entry.requires.len(),
        });
    }
    for entry in before.agents().iter().filter(|b| b.kind == Kind::Bundle && after.get(&b.name).is_none()) {
        out.push(BundleChange {
            name: entry.name.clone(),
            version: entry.version.clone(),
            from: None,
            removed: true,
            requires: entry.requires.len(),
        });
    }
    out
}

impl Report {
    /// Every file with the given fate, with its package.
    pub fn files(&self, matches: impl Fn(&FileAction) -> bool) -> Vec<(&PackageChange, &FileChange)> {
        self.packages
            .iter()
            .flat_map(|p| p.files.iter().map(move |f| (p, f)))
            .filter(|(_, f)| matches(&f.action))
            .collect()
    }

    /// Files written (installed, restored, updated, merged).
    pub fn written(&self) -> Vec<(&PackageChange, &FileChange)> {
        self.files(|a| a.changes() && *a != FileAction::Removed)
    }

    /// Files kept with the user's edits (or a save that raced a write).
    pub fn kept(&self) -> Vec<(&PackageChange, &FileChange)> {
        self.files(|a| matches!(a, FileAction::Kept { .. } | FileAction::Raced { .. }))
    }

    /// Whether nothing was written, removed, kept aside, or went wrong.
    pub fn is_quiet(&self) -> bool {
        !self.packages.iter().flat_map(|p| &p.files).any(|f| f.action.changes())
            && self.conflicts.is_empty()
            && self.errors.is_empty()
    }
}

/// What happened (or, planned, would happen) to the file of `step`.
pub(crate) fn action(file: &Managed, decision: Decision, done: Option<&Done>) -> FileAction {
    let written = || match file.evidence.on_disk {
        OnDisk::Missing if file.evidence.written.is_some() => FileAction::Restored,
        OnDisk::Missing => FileAction::Installed,
        _ => FileAction::Updated { from: file.version_on_disk() },
    };
    let dropped = file.want.is_none();
    match done {
        Some(Done::Written) => written(),
        Some(Done::Merged) => FileAction::Merged { base: file.base_version.clone() },
        Some(Done::Removed) => FileAction::Removed,
        Some(Done::Unchanged) => FileAction::Unchanged,
        Some(Done::Raced { backup }) => FileAction::Raced { backup: backup.clone() },
        Some(Done::Kept) | None => match decision {
            Decision::Keep => FileAction::Unchanged,
            Decision::Write(_) | Decision::BackUpThenWrite(_) => written(),
            Decision::Merge(_) => FileAction::Merged { base: file.base_version.clone() },
            Decision::Remove(_) | Decision::BackUpThenRemove(_) => FileAction::Removed,
            Decision::Conflict(Blocker::MergeConflict) => FileAction::Conflict { upstream: None, new: true },
            Decision::Conflict(Blocker::LocalEdit) | Decision::KeepEdit => {
                FileAction::Kept { reason: Kept::LocalEdit, dropped }
            }
            Decision::Conflict(Blocker::Unmanaged) => FileAction::Kept { reason: Kept::Unmanaged, dropped },
            Decision::Conflict(Blocker::Foreign(_)) => FileAction::Kept { reason: Kept::NotAFile, dropped },
        },
    }
}

/// A step's result as a [`FileChange`].
pub(crate) fn file_change(result: &StepResult, absolute: PathBuf) -> FileChange {
    FileChange {
        path: absolute,
        target: result.step.file.target.clone(),
        action: action(&result.step.file, result.step.decision, Some(&result.done)),
        backup: result.backup.clone(),
    }
}
