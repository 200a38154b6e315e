//! The one engine every command that changes a workspace runs: the model (`model.rs`) says what
//! the workspace should hold and what is known of each path; [`plan`] decides for each managed
//! file through one rule, [`decide`]; [`apply`] performs the plan, each write or removal a
//! compare-and-swap.
//!
//! The rule: a file on disk may be replaced or removed only when it holds bytes this tool put
//! there. A local edit under a pin that moved from the version it was made on is merged three
//! ways; any other local edit is kept, and is the user's from then on. Only a file that this tool
//! never managed, in the way of one a command is asked to install, stops a command (unless
//! forced).
//!
//! Apply order: for each step in plan order (packages by name; a package's Claude Code files
//! before its other files, writes before removals), the backup of a forced file first, then
//! its write or removal (each file's bytes fsync'd before its rename), then one fsync of each
//! directory that changed. Directories this tool created that a removal left empty go last. The
//! command then writes the manifest, then the lockfile, then the state. A failure names what
//! was applied and what was not.

use std::path::PathBuf;

use agents_format::{RelativePath, Sha256};

use crate::error::{Result, WorkspaceError};
use crate::fs::{Expect, Fingerprint, ForeignKind, OnDisk, Root, Staged, Swap};
use crate::model::Managed;
use crate::state::WorkspaceState;
use crate::workspace::Workspace;

/// What to do with one managed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Already as wanted, or nothing there to remove.
    Keep,
    /// Write the wanted bytes over what `Expect` says is there (ours, or nothing).
    Write(Expect),
    /// Remove what `Expect` says is there (ours).
    Remove(Expect),
    /// A local edit under a pin that moved, where the new version puts the same bytes as the
    /// version the edit was made on: nothing upstream to take, so the edit stays as it is and
    /// is recorded as the user's edit on the new version.
    KeepEdit,
    /// `--force` over a local edit: save it in the state directory, then write.
    BackUpThenWrite(Expect),
    /// `--force` over a local edit: save it in the state directory, then remove.
    BackUpThenRemove(Expect),
    /// A local edit under a pin that moved, with the version it was made on known: merge the
    /// edit three ways onto the wanted bytes (the plan computes the merge; a clean one is
    /// written like any other write, over exactly the bytes merged).
    Merge(Expect),
    /// Something that is not ours is there: kept (a command refuses only an unmanaged file in
    /// the way of a package it installs).
    Conflict(Blocker),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocker {
    /// A file this tool managed, with bytes it never wrote there: the user's edit, kept.
    LocalEdit,
    /// A file this tool never managed at a path it wants: the user's own file.
    Unmanaged,
    /// A local edit whose three-way merge with the new version conflicts.
    MergeConflict,
    /// A symlink (forceable: the link itself is replaced), a directory or a special file (never).
    Foreign(ForeignKind),
}

impl Blocker {
    pub fn forceable(self) -> bool {
        matches!(
            self,
            Blocker::LocalEdit | Blocker::Unmanaged | Blocker::MergeConflict | Blocker::Foreign(ForeignKind::Symlink)
        )
    }
}

/// The rule, once: `ours` are the checksums this tool may have put at the path (what it last
/// wrote there, what the previous lockfile pinned, what published versions put there),
/// `on_disk` what is there now, `wanted` the bytes the plan wants there (`None`: the file should
/// go), `base` the bytes the file was installed from when they are known (a local edit is merged
/// onto a new version only then, and only unless forced), `managed` whether this tool managed
/// the path before (a recorded write or a lockfile pin).
pub fn decide(
    ours: &[Sha256],
    on_disk: OnDisk,
    wanted: Option<Sha256>,
    base: Option<Sha256>,
    managed: bool,
    force: bool,
) -> Decision {
    let blocked = |blocker: Blocker, forced: Decision| {
        if force && blocker.forceable() { forced } else { Decision::Conflict(blocker) }
    };
    let edit = if managed { Blocker::LocalEdit } else { Blocker::Unmanaged };
    match (on_disk, wanted) {
        (OnDisk::Missing, None) => Decision::Keep,
        (OnDisk::Missing, Some(_)) => Decision::Write(Expect::Missing),
        (OnDisk::File { sha256, .. }, Some(wanted)) if sha256 == wanted => Decision::Keep,
        (OnDisk::File { sha256, .. }, Some(_)) if ours.contains(&sha256) => Decision::Write(Expect::Bytes(sha256)),
        (OnDisk::File { sha256, .. }, None) if ours.contains(&sha256) => Decision::Remove(Expect::Bytes(sha256)),
        (OnDisk::File { .. }, Some(wanted)) if !force && managed && base == Some(wanted) => Decision::KeepEdit,
        (OnDisk::File { sha256, .. }, Some(_)) if !force && managed && base.is_some() => {
            Decision::Merge(Expect::Bytes(sha256))
        }
        (OnDisk::File { sha256, .. }, Some(_)) => blocked(edit, Decision::BackUpThenWrite(Expect::Bytes(sha256))),
        (OnDisk::File { sha256, .. }, None) => blocked(edit, Decision::BackUpThenRemove(Expect::Bytes(sha256))),
        (OnDisk::Foreign(kind), Some(_)) => blocked(Blocker::Foreign(kind), Decision::BackUpThenWrite(Expect::Symlink)),
        (OnDisk::Foreign(kind), None) => blocked(Blocker::Foreign(kind), Decision::BackUpThenRemove(Expect::Symlink)),
    }
}

/// A managed file with what to do.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub(crate) file: Managed,
    pub(crate) decision: Decision,
    /// For a merge: the merged bytes (clean), or the bytes with conflict markers (conflicted).
    pub(crate) merged: Option<Vec<u8>>,
}

impl Step {
    /// Whether this step stops the command: something that is not ours (a file this tool never
    /// managed, or not a regular file) in the way of a file the command installs for a package
    /// it is about. A local edit of a managed file never stops one.
    pub(crate) fn refuses(&self) -> bool {
        self.file.subject
            && self.file.want.is_some()
            && !self.file.evidence.managed()
            && matches!(self.decision, Decision::Conflict(blocker) if blocker != Blocker::MergeConflict)
    }

    /// Whether the new version meets a local edit it cannot be merged with, and is kept aside
    /// for `agents resolve`: a conflicting merge, or an edit under a pin that moved from a
    /// version whose bytes are not known.
    pub(crate) fn sets_aside(&self) -> bool {
        match self.decision {
            Decision::Conflict(Blocker::MergeConflict) => true,
            Decision::Conflict(Blocker::LocalEdit) => self.file.moved() && self.file.want.is_some(),
            _ => false,
        }
    }
}

/// Inspects every file and decides. `force` applies to the command's subjects only. A merge is
/// computed here, so apply only writes.
pub(crate) fn plan(root: &Root, files: Vec<Managed>, force: bool) -> Result<Vec<Step>> {
    files
        .into_iter()
        .map(|file| {
            let base = file.base.as_deref().map(Sha256::of);
            let on_disk = file.evidence.on_disk;
            let managed = file.evidence.managed();
            let mut decision = decide(&file.ours, on_disk, file.wanted(), base, managed, force && file.subject);
            let mut merged = None;
            if let Decision::Merge(expect) = decision {
                let ours = root.read(&file.path, crate::fs::MAX_MANAGED_FILE_LEN)?.unwrap_or_default();
                let base = file.base.as_deref().unwrap_or_default();
                let theirs = file.want.as_ref().and_then(|w| w.bytes.as_deref()).unwrap_or_default();
                match diffy::merge_bytes(base, &ours, theirs) {
                    // The edit was already upstream: the new version is all there is to write.
                    Ok(bytes) if bytes == theirs => decision = Decision::Write(expect),
                    Ok(bytes) => merged = Some(bytes),
                    Err(with_markers) => {
                        decision = Decision::Conflict(Blocker::MergeConflict);
                        merged = Some(with_markers);
                    }
                }
            }
            Ok(Step { file, decision, merged })
        })
        .collect()
}

/// How one step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Done {
    /// Nothing to do.
    Unchanged,
    Written,
    Removed,
    /// A conflict left as it is.
    Kept,
    /// A local edit merged onto the new version and written.
    Merged,
    /// A save raced the write; the user's bytes are at the path (an older racing save, when
    /// there was one, is in the backup).
    Raced {
        backup: Option<PathBuf>,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct StepResult {
    pub(crate) step: Step,
    pub(crate) done: Done,
    /// Where a forced-over local edit was saved.
    pub(crate) backup: Option<PathBuf>,
}

/// Performs `steps` in order, recording in `state` what was written. Conflicts are kept (a
/// command that refuses them has refused before calling this). Each file's bytes are fsync'd
/// before its rename; each directory that changed is fsync'd once, after the last step and
/// before this returns, so before the command writes the lockfile and the state. Directories
/// this tool created that are empty after a removal are removed.
pub(crate) fn apply(
    workspace: &Workspace,
    root: &Root,
    steps: Vec<Step>,
    state: &mut WorkspaceState,
    now: i64,
) -> Result<Vec<StepResult>> {
    root.defer_directory_syncs();
    let applied = apply_steps(workspace, root, steps, state, now);
    state.dirs.extend(root.take_created());
    let pruned = match &applied {
        Ok(results) => prune_empty_dirs(workspace, root, results, state),
        Err(_) => Ok(()),
    };
    // Even after a failure: what was applied is made durable before anything records it.
    let synced = root.sync_deferred();
    let results = applied?;
    pruned?;
    synced?;
    Ok(results)
}

fn apply_steps(
    workspace: &Workspace,
    root: &Root,
    steps: Vec<Step>,
    state: &mut WorkspaceState,
    now: i64,
) -> Result<Vec<StepResult>> {
    let mut results: Vec<StepResult> = Vec::with_capacity(steps.len());
    // A writer killed mid-write leaves its temporary file; we hold the lock, so it is stale.
    let mut cleaned = std::collections::BTreeSet::new();
    for step in &steps {
        if cleaned.insert(step.file.path.parent_components().collect::<Vec<_>>().join("/")) {
            let _ = root.remove_stale_temp_files(&step.file.path);
        }
    }
    let total = steps.len();
    let mut staged: Vec<Option<Result<Staged>>> = (0..total).map(|_| None).collect();
    let mut next_window = 0;
    let mut steps = steps.into_iter();
    let mut index = 0;
    while let Some(step) = steps.next() {
        if index == next_window {
            let rest: Vec<&Step> = std::iter::once(&step).chain(steps.as_slice()).collect();
            next_window = stage_window(root, &rest, &mut staged[index..]).map_or(usize::MAX, |staged| index + staged);
        }
        let current = index;
        index += 1;
        match apply_step(workspace, root, &step, staged[current].take(), state, now) {
            Ok((done, backup)) => results.push(StepResult { step, done, backup }),
            Err(source) => {
                let applied: Vec<String> = results
                    .iter()
                    .filter(|r| matches!(r.done, Done::Written | Done::Removed | Done::Merged))
                    .map(|r| r.step.file.path.to_string())
                    .collect();
                let mut not_applied = vec![step.file.path.to_string()];
                not_applied.extend(
                    steps
                        .filter(|s| !matches!(s.decision, Decision::Keep | Decision::Conflict(_)))
                        .map(|s| s.file.path.to_string()),
                );
                tracing::debug!(total, "apply failed part way");
                return Err(WorkspaceError::PartlyApplied {
                    applied: list(&applied),
                    not_applied: list(&not_applied),
                    source: Box::new(source),
                });
            }
        }
    }
    Ok(results)
}

/// How many steps one window stages (and holds open) at most.
const STAGE_WINDOW: usize = 64;

/// The bytes a step writes, if it writes.
fn written(step: &Step) -> Option<&[u8]> {
    match step.decision {
        Decision::Write(_) | Decision::BackUpThenWrite(_) => step.file.want.as_ref().and_then(|w| w.bytes.as_deref()),
        Decision::Merge(_) => step.merged.as_deref(),
        _ => None,
    }
}

/// Stages the writes of the next steps (at most [`STAGE_WINDOW`]; `steps[0]` is the one about
/// to be applied) and fsyncs their bytes together, so the device flushes them in parallel, not
/// one after another; each is still on disk before its rename. Returns how many steps were
/// looked at, or `None` when staging one failed: that step carries its error, and no step
/// after it is touched (nor its directory created), so a failure stops where it did before.
fn stage_window(root: &Root, steps: &[&Step], staged: &mut [Option<Result<Staged>>]) -> Option<usize> {
    let mut looked_at = 0;
    let mut failed = false;
    for (step, slot) in steps.iter().zip(staged.iter_mut()).take(STAGE_WINDOW) {
        looked_at += 1;
        let Some(bytes) = written(step) else { continue };
        let mode = step.file.want.as_ref().and_then(|w| w.mode);
        let outcome = root.stage(&step.file.path, bytes, mode);
        failed = outcome.is_err();
        *slot = Some(outcome);
        if failed {
            break;
        }
    }
    let mut ready: Vec<(usize, &mut Staged)> = staged[..looked_at]
        .iter_mut()
        .enumerate()
        .filter_map(|(i, slot)| match slot {
            Some(Ok(staged)) => Some((i, staged)),
            _ => None,
        })
        .collect();
    let (positions, mut files): (Vec<usize>, Vec<&mut Staged>) = ready.drain(..).unzip();
    let errors = crate::fs::sync_staged(&mut files);
    drop(files);
    for (position, error) in positions.into_iter().zip(errors) {
        if let Some(error) = error {
            let shown = root.absolute(&steps[position].file.path);
            staged[position] = Some(Err(crate::error::io_error(&shown)(error)));
        }
    }
    if failed { None } else { Some(looked_at) }
}

fn list(paths: &[String]) -> String {
    if paths.is_empty() { "nothing".to_owned() } else { paths.join(", ") }
}

fn apply_step(
    workspace: &Workspace,
    root: &Root,
    step: &Step,
    staged: Option<Result<Staged>>,
    state: &mut WorkspaceState,
    now: i64,
) -> Result<(Done, Option<PathBuf>)> {
    let file = &step.file;
    let mode = file.want.as_ref().and_then(|w| w.mode);
    // The write of this step, staged by `stage_window` (or now, if it was not).
    let write = |bytes: &[u8], expect: Expect| -> Result<(Swap, Option<Fingerprint>)> {
        let staged = match staged {
            Some(staged) => staged?,
            None => root.stage(&file.path, bytes, mode)?,
        };
        root.commit(staged, bytes, expect)
    };
    let wanted_bytes = || {
        file.want
            .as_ref()
            .and_then(|w| w.bytes.as_deref())
            .ok_or_else(|| WorkspaceError::ChangedMeanwhile { path: root.absolute(&file.path) })
    };
    let record = |state: &mut WorkspaceState, written: Option<Fingerprint>| {
        if let Some(sha256) = file.wanted() {
            match written {
                Some(stat) => {
                    state.record_written(&file.path, &file.owner.name, sha256, &file.owner.version, Some(stat))
                }
                None => state.record(&file.path, &file.owner.name, sha256, &file.owner.version),
            }
        }
    };
    let mut backup = None;
    let mut fingerprint = None;
    let swap = match step.decision {
        Decision::Keep => {
            match file.want {
                Some(_) => record(state, None),
                None => {
                    state.files.remove(&file.path);
                }
            }
            settle(state, &file.path);
            return Ok((Done::Unchanged, None));
        }
        Decision::Conflict(_) => return Ok((Done::Kept, None)),
        Decision::KeepEdit => {
            if let OnDisk::File { sha256, .. } = file.evidence.on_disk {
                state.record_merge(&file.path, &file.owner.name, sha256, &file.owner.version, None);
            }
            settle(state, &file.path);
            return Ok((Done::Kept, None));
        }
        Decision::Write(expect) => {
            let swap;
            (swap, fingerprint) = write(wanted_bytes()?, expect)?;
            swap
        }
        Decision::Remove(expect) => root.remove(&file.path, expect)?,
        Decision::BackUpThenWrite(expect) => {
            let bytes = wanted_bytes()?;
            backup = Some(back_up(workspace, root, &file.path, now)?);
            let swap;
            (swap, fingerprint) = write(bytes, expect)?;
            swap
        }
        Decision::BackUpThenRemove(expect) => {
            backup = Some(back_up(workspace, root, &file.path, now)?);
            root.remove(&file.path, expect)?
        }
        Decision::Merge(expect) => {
            let merged = step.merged.as_deref().expect("a merge decision carries its merged bytes");
            match write(merged, expect)? {
                (Swap::Done, stat) => {
                    let sha256 = Sha256::of(merged);
                    state.record_merge(&file.path, &file.owner.name, sha256, &file.owner.version, stat);
                    settle(state, &file.path);
                    return Ok((Done::Merged, None));
                }
                (other, _) => other,
            }
        }
    };
    let removing = matches!(step.decision, Decision::Remove(_) | Decision::BackUpThenRemove(_));
    match swap {
        Swap::Done if removing => {
            state.files.remove(&file.path);
            settle(state, &file.path);
            Ok((Done::Removed, backup))
        }
        Swap::Done => {
            record(state, fingerprint);
            settle(state, &file.path);
            Ok((Done::Written, backup))
        }
        Swap::Raced => Ok((Done::Raced { backup: None }, backup)),
        Swap::RacedTwice(older) => {
            let saved = crate::fs::write_new(&backup_path(workspace, &file.path, now), &older)?;
            Ok((Done::Raced { backup: Some(saved) }, backup))
        }
    }
}

/// Forgets the conflict kept aside for `path`, if any, and deletes its copies: the file is
/// settled (written, merged, removed, or found as wanted).
pub(crate) fn settle(state: &mut WorkspaceState, path: &RelativePath) {
    if let Some(conflict) = state.conflicts.remove(path) {
        let _ = crate::fs::remove_optional(&conflict.upstream);
        let _ = crate::fs::remove_optional(&markers_copy(&conflict.upstream));
    }
}

/// The copy with conflict markers kept beside an upstream copy.
fn markers_copy(upstream: &std::path::Path) -> PathBuf {
    let name = upstream.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let (stem, extension) = name.rsplit_once('.').unwrap_or((&name, ""));
    upstream.with_file_name(format!("{stem}.merge.{extension}"))
}

/// Removes the directories a removal left empty, deepest first: those this tool created
/// (recorded in the state) and those that belong to one package alone (a skill's directory, a
/// plugin's and each of its shared skill directories, and what is below them). A directory holding anything stays, and so does everything above it.
fn prune_empty_dirs(
    workspace: &Workspace,
    root: &Root,
    results: &[StepResult],
    state: &mut WorkspaceState,
) -> Result<()> {
    let placement = workspace.placement();
    let mut candidates: Vec<RelativePath> = Vec::new();
    // Every file that should go and is gone: removed now, or already missing (a directory a
    // user emptied by hand is pruned too).
    let gone = |r: &&StepResult| r.done == Done::Removed || (r.step.file.want.is_none() && r.done == Done::Unchanged);
    for result in results.iter().filter(gone) {
        let file = &result.step.file;
        let mut own = placement.own_dirs(file.owner.kind, &file.owner.name);
        own.extend(crate::placement::Placement::plugin_skill_dir(file.owner.kind, &file.path));
        let components: Vec<&str> = result.step.file.path.parent_components().collect();
        for end in (1..=components.len()).rev() {
            let dir = components[..end].join("/");
            let package_s = own.iter().any(|own| dir == *own || dir.starts_with(&format!("{own}/")));
            let Ok(dir) = RelativePath::parse(&dir) else { continue };
            if (package_s || state.dirs.contains(&dir)) && !candidates.contains(&dir) {
                candidates.push(dir);
            }
        }
    }
    // Deepest first, so a parent is tried after its children.
    candidates.sort_by_key(|dir| std::cmp::Reverse(dir.as_str().matches('/').count()));
    for dir in candidates {
        if root.remove_empty_dir(&dir)? {
            state.dirs.remove(&dir);
        }
    }
    Ok(())
}

/// Keeps the wanted bytes of a file whose local edit stopped them (and, for a conflicted merge,
/// a copy with conflict markers) in the state directory, never where a tool would load them,
/// and records the conflict. Returns where the upstream copy is, and whether it is newly kept
/// aside (not already, by an earlier command).
pub(crate) fn set_aside(workspace: &Workspace, state: &mut WorkspaceState, step: &Step) -> Result<(PathBuf, bool)> {
    let file = &step.file;
    let want = file.want.as_ref().expect("only wanted files are set aside");
    if let Some(conflict) = state.conflicts.get(&file.path)
        && conflict.sha256 == want.sha256
        && conflict.upstream.exists()
    {
        return Ok((conflict.upstream.clone(), false));
    }
    let bytes = want.bytes.as_deref().unwrap_or_default();
    let upstream = conflict_copy_path(workspace, &file.path, &file.owner.version, "");
    crate::fs::write_atomic(&upstream, bytes)?;
    if let Some(markers) = &step.merged {
        crate::fs::write_atomic(&markers_copy(&upstream), markers)?;
    }
    state.conflicts.insert(
        file.path.clone(),
        crate::state::Conflict {
            agent: file.owner.name.clone(),
            version: file.owner.version.clone(),
            sha256: want.sha256,
            upstream: upstream.clone(),
            base: file.base_version.clone().or_else(|| state.installed_from(&file.path).cloned()),
        },
    );
    Ok((upstream, true))
}

/// Where the upstream copy of an update that met a local edit is kept (`suffix` `.merge` for
/// the copy with conflict markers).
pub(crate) fn conflict_copy_path(
    workspace: &Workspace,
    path: &RelativePath,
    version: &semver::Version,
    suffix: &str,
) -> PathBuf {
    let name = path.file_name();
    let (stem, extension) = name.split_once('.').unwrap_or((name, ""));
    let flat = path.parent_components().collect::<Vec<_>>().join("__");
    let prefix = if flat == ".claude__agents" { String::new() } else { format!("{flat}__") };
    workspace.conflict_dir().join(format!("{prefix}{stem}@{version}{suffix}.{extension}"))
}

fn backup_path(workspace: &Workspace, path: &RelativePath, now: i64) -> PathBuf {
    // The directory goes into the name, so two tools' files of one agent never share a backup
    // name; `write_new` numbers a second backup of the same file in the same second.
    let name = path.file_name();
    let (stem, extension) = name.split_once('.').unwrap_or((name, ""));
    let directory = path.parent_components().collect::<Vec<_>>().join("__");
    let prefix = if directory == ".claude__agents" { String::new() } else { format!("{directory}__") };
    workspace.backup_dir().join(format!("{prefix}{stem}-{now}.{extension}.bak"))
}

/// Saves what is at `path` under the state directory (never in an agents directory, where a tool
/// would load it). A symlink is saved as a note of where it pointed.
pub(crate) fn back_up(workspace: &Workspace, root: &Root, path: &RelativePath, now: i64) -> Result<PathBuf> {
    let bytes = match root.read(path, crate::fs::MAX_MANAGED_FILE_LEN) {
        Ok(bytes) => bytes.unwrap_or_default(),
        Err(WorkspaceError::SymlinkedPath { .. }) => {
            let target = std::fs::read_link(root.absolute(path)).map(|t| t.display().to_string()).unwrap_or_default();
            format!("{path} was a symlink to {target}\n").into_bytes()
        }
        Err(error) => return Err(error),
    };
    crate::fs::write_new(&backup_path(workspace, path, now), &bytes)
}

#[cfg(test)]
#[path = "engine_rows.rs"]
mod rows;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Evidence, Owner, Want};
    use crate::workspace::Dirs;
    use agents_format::{AgentName, Kind};

    fn managed(path: &str, bytes: &[u8]) -> Managed {
        Managed {
            owner: Owner {
                name: AgentName::new("a").unwrap(),
                kind: Kind::Agent,
                version: semver::Version::new(1, 0, 0),
            },
            target: "claude-code".to_owned(),
            path: RelativePath::parse(path).unwrap(),
            want: Some(Want { sha256: Sha256::of(bytes), bytes: Some(bytes.to_vec()), mode: None }),
            ours: Vec::new(),
            published: Vec::new(),
            base: None,
            base_version: None,
            subject: true,
            evidence: Evidence { on_disk: OnDisk::Missing, written: None, pinned: None },
        }
    }

    #[test]
    fn a_failure_part_way_names_what_was_applied_and_what_was_not() {
        let temp = tempfile::tempdir().unwrap();
        let project = temp.path().join("project");
        std::fs::create_dir_all(&project).unwrap();
        std::fs::write(project.join("blocker"), "a file where a directory should be").unwrap();
        let dirs = Dirs {
            home: temp.path().join("home"),
            config: temp.path().join("config"),
            cache: temp.path().join("cache"),
            state: temp.path().join("state"),
            tools: Default::default(),
        };
        let workspace = Workspace::project(project.clone(), dirs);
        let root = workspace.open_root().unwrap();
        let files = vec![managed("first/a.md", b"1"), managed("blocker/b.md", b"2"), managed("third/c.md", b"3")];
        let steps: Vec<Step> = files
            .into_iter()
            .map(|file| Step { file, decision: Decision::Write(Expect::Missing), merged: None })
            .collect();
        let mut state = WorkspaceState::default();
        let error = apply(&workspace, &root, steps, &mut state, 0).unwrap_err().to_string();
        assert_eq!(error, "stopped part way: applied first/a.md; not applied blocker/b.md, third/c.md");
        assert_eq!(std::fs::read(project.join("first/a.md")).unwrap(), b"1");
        assert!(!project.join("third").exists());
        assert_eq!(state.files.len(), 1, "what was applied is recorded");
        assert!(state.dirs.iter().any(|d| d.as_str() == "first"), "the directory it made is recorded");
    }

    const MODE: u32 = 0o644;

    fn file(bytes: &[u8]) -> OnDisk {
        OnDisk::File { sha256: Sha256::of(bytes), mode: MODE }
    }

    fn hash(bytes: &[u8]) -> Sha256 {
        Sha256::of(bytes)
    }

    /// One row: what this tool wrote before, what is on disk, what is wanted, the merge base,
    /// whether the path was managed before, --force, and the outcome.
    fn check(
        ours: &[&[u8]],
        on_disk: OnDisk,
        wanted: Option<&[u8]>,
        base: Option<&[u8]>,
        managed: bool,
        force: bool,
        expected: Decision,
    ) {
        let ours: Vec<Sha256> = ours.iter().map(|b| hash(b)).collect();
        let got = decide(&ours, on_disk, wanted.map(hash), base.map(hash), managed, force);
        assert_eq!(
            got, expected,
            "ours={ours:?} on_disk={on_disk:?} wanted={wanted:?} base={base:?} managed={managed} force={force}"
        );
    }

    #[test]
    fn every_combination() {
        use Decision::*;
        let symlink = OnDisk::Foreign(ForeignKind::Symlink);
        let directory = OnDisk::Foreign(ForeignKind::Directory);
        let special = OnDisk::Foreign(ForeignKind::Special);
        let large = OnDisk::Foreign(ForeignKind::TooLarge);
        let old: &[u8] = b"old";
        for force in [false, true] {
            for managed in [false, true] {
                // Nothing on disk.
                check(&[], OnDisk::Missing, Some(b"new"), None, managed, force, Write(Expect::Missing));
                check(&[b"old"], OnDisk::Missing, Some(b"new"), Some(old), managed, force, Write(Expect::Missing));
                check(&[], OnDisk::Missing, None, None, managed, force, Keep);
                // Already what is wanted, whoever wrote it.
                check(&[], file(b"new"), Some(b"new"), Some(old), managed, force, Keep);
                // Ours (written, pinned or published): replaced or removed, the compare-and-swap
                // expecting exactly those bytes; a base changes nothing.
                check(&[b"old"], file(b"old"), Some(b"new"), None, managed, force, Write(Expect::Bytes(hash(old))));
                check(
                    &[b"a", b"old"],
                    file(b"old"),
                    Some(b"new"),
                    Some(old),
                    managed,
                    force,
                    Write(Expect::Bytes(hash(old))),
                );
                check(&[b"old"], file(b"old"), None, None, managed, force, Remove(Expect::Bytes(hash(old))));
            }
        }
        let mine = Expect::Bytes(hash(b"mine"));
        // A kept edit: the user's, kept; backed up first when forced.
        check(&[b"old"], file(b"mine"), Some(b"new"), None, true, false, Conflict(Blocker::LocalEdit));
        check(&[b"old"], file(b"mine"), None, None, true, false, Conflict(Blocker::LocalEdit));
        check(&[b"old"], file(b"mine"), Some(b"new"), None, true, true, BackUpThenWrite(mine));
        check(&[b"old"], file(b"mine"), None, None, true, true, BackUpThenRemove(mine));
        // A file this tool never managed: the user's own, in the way.
        check(&[], file(b"mine"), Some(b"new"), None, false, false, Conflict(Blocker::Unmanaged));
        check(&[], file(b"mine"), Some(b"new"), None, false, true, BackUpThenWrite(mine));
        // A local edit under a pin that moved from a known base: merged, unless forced.
        check(&[b"old"], file(b"mine"), Some(b"new"), Some(old), true, false, Merge(mine));
        check(&[b"old"], file(b"mine"), Some(b"new"), Some(old), true, true, BackUpThenWrite(mine));
        // A file never managed is never merged into, whatever base there is.
        check(&[], file(b"mine"), Some(b"new"), Some(old), false, false, Conflict(Blocker::Unmanaged));
        // The new version puts what the edit was made on (the base is what is wanted): nothing
        // to merge, the edit stays and is recorded on the new version; forced, it is replaced.
        check(&[b"new"], file(b"mine"), Some(b"new"), Some(b"new"), true, false, KeepEdit);
        check(&[b"new"], file(b"mine"), Some(b"new"), Some(b"new"), true, true, BackUpThenWrite(mine));
        // A removal never merges.
        check(&[b"old"], file(b"mine"), None, Some(old), true, false, Conflict(Blocker::LocalEdit));
        // A symlink is never written through; forced, the link itself is replaced or removed.
        for managed in [false, true] {
            check(
                &[b"old"],
                symlink,
                Some(b"new"),
                None,
                managed,
                false,
                Conflict(Blocker::Foreign(ForeignKind::Symlink)),
            );
            check(&[b"old"], symlink, None, None, managed, false, Conflict(Blocker::Foreign(ForeignKind::Symlink)));
            check(&[b"old"], symlink, Some(b"new"), None, managed, true, BackUpThenWrite(Expect::Symlink));
            check(&[b"old"], symlink, None, None, managed, true, BackUpThenRemove(Expect::Symlink));
        }
        // Directories, devices, FIFOs and huge files are never replaced, even forced.
        for foreign in [directory, special, large] {
            let OnDisk::Foreign(kind) = foreign else { unreachable!() };
            for force in [false, true] {
                check(&[b"old"], foreign, Some(b"new"), None, true, force, Conflict(Blocker::Foreign(kind)));
                check(&[b"old"], foreign, None, None, true, force, Conflict(Blocker::Foreign(kind)));
            }
        }
    }
}
