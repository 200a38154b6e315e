//! The one engine every command that changes a workspace runs: resolve (in the command's own
//! module: registries, versions, verified bytes), then [`plan`] (inspect each managed file and
//! [`decide`] what to do with it), then [`apply`] (perform the steps, each a compare-and-swap).
//!
//! A **managed file** is any file this tool writes for an agent: its Claude Code file and every
//! converted file for another tool. They are one kind ([`Managed`]) with one rule ([`decide`]):
//! a file on disk may be replaced or removed only when it holds bytes this tool put there.
//!
//! Apply order: for each step in plan order (agents by name; an agent's Claude Code file before
//! its converted files), the backup of a forced file first, then its write or removal (each
//! file's bytes fsync'd before its rename), then one fsync of each directory that changed. The
//! command then writes the manifest, then the lockfile, then the state. A failure names what
//! was applied and what was not.

use std::path::PathBuf;

use agents_format::{AgentName, RelativePath, Sha256};

use crate::error::{Result, WorkspaceError};
use crate::fs::{Expect, ForeignKind, OnDisk, Root, Staged, Swap};
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
    /// `--force` over a local edit: save it in the state directory, then write.
    BackUpThenWrite(Expect),
    /// `--force` over a local edit: save it in the state directory, then remove.
    BackUpThenRemove(Expect),
    /// A local edit under a pin that moved, with the version it was made on known: merge the
    /// edit three ways onto the wanted bytes (the plan computes the merge; a clean one is
    /// written like any other write, over exactly the bytes merged).
    Merge(Expect),
    /// Something that is not ours is in the way: a command refuses (or keeps it, for sync, the
    /// daemon, uninstall and agents the command is not about).
    Conflict(Blocker),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocker {
    /// A regular file with bytes this tool never wrote there: the user's.
    LocalEdit,
    /// A local edit whose three-way merge with the new version conflicts.
    MergeConflict,
    /// A symlink (forceable: the link itself is replaced), a directory or a special file (never).
    Foreign(ForeignKind),
}

impl Blocker {
    pub fn forceable(self) -> bool {
        matches!(self, Blocker::LocalEdit | Blocker::MergeConflict | Blocker::Foreign(ForeignKind::Symlink))
    }
}

/// The rule, once: `ours` are the checksums this tool may have put at the path (what it last
/// wrote there, what the previous lockfile pinned, any published version of the agent), `on_disk`
/// what is there now, `wanted` the bytes the plan wants there (`None`: the file should go),
/// `base` the bytes the file was installed from when they are known (a local edit is merged
/// onto a new version only then, and only unless forced).
pub fn decide(ours: &[Sha256], on_disk: OnDisk, wanted: Option<Sha256>, base: Option<Sha256>, force: bool) -> Decision {
    let blocked = |blocker: Blocker, forced: Decision| {
        if force && blocker.forceable() { forced } else { Decision::Conflict(blocker) }
    };
    match (on_disk, wanted) {
        (OnDisk::Missing, None) => Decision::Keep,
        (OnDisk::Missing, Some(_)) => Decision::Write(Expect::Missing),
        (OnDisk::File { sha256, .. }, Some(wanted)) if sha256 == wanted => Decision::Keep,
        (OnDisk::File { sha256, .. }, Some(_)) if ours.contains(&sha256) => Decision::Write(Expect::Bytes(sha256)),
        (OnDisk::File { sha256, .. }, None) if ours.contains(&sha256) => Decision::Remove(Expect::Bytes(sha256)),
        (OnDisk::File { sha256, .. }, Some(wanted)) if !force && base.is_some_and(|base| base != wanted) => {
            Decision::Merge(Expect::Bytes(sha256))
        }
        (OnDisk::File { sha256, .. }, Some(_)) => {
            blocked(Blocker::LocalEdit, Decision::BackUpThenWrite(Expect::Bytes(sha256)))
        }
        (OnDisk::File { sha256, .. }, None) => {
            blocked(Blocker::LocalEdit, Decision::BackUpThenRemove(Expect::Bytes(sha256)))
        }
        (OnDisk::Foreign(kind), Some(_)) => blocked(Blocker::Foreign(kind), Decision::BackUpThenWrite(Expect::Symlink)),
        (OnDisk::Foreign(kind), None) => blocked(Blocker::Foreign(kind), Decision::BackUpThenRemove(Expect::Symlink)),
    }
}

/// One managed file as a command wants it.
#[derive(Debug, Clone)]
pub(crate) struct Managed {
    pub(crate) agent: AgentName,
    /// The version the wanted bytes are (or, for a removal, the version last written).
    pub(crate) version: semver::Version,
    pub(crate) path: RelativePath,
    /// `None`: the file should not exist.
    pub(crate) bytes: Option<Vec<u8>>,
    pub(crate) ours: Vec<Sha256>,
    /// Whether the command is about this agent: only then may it refuse or force.
    pub(crate) subject: bool,
    /// The bytes the file on disk was installed from, when the pin moves away from them: the
    /// base of a three-way merge of a local edit.
    pub(crate) base: Option<Vec<u8>>,
    /// For a package's file, the mode it is published with: a written file gets the run bit
    /// exactly when this says so. `None` (agents and converted files): a replaced file keeps its
    /// mode and a new one gets the umask's.
    pub(crate) mode: Option<agents_format::FileMode>,
}

impl Managed {
    pub(crate) fn wanted(&self) -> Option<Sha256> {
        self.bytes.as_deref().map(Sha256::of)
    }
}

/// A managed file with what is on disk and what to do.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub(crate) file: Managed,
    pub(crate) on_disk: OnDisk,
    pub(crate) decision: Decision,
    /// For a merge: the merged bytes (clean), or the bytes with conflict markers (conflicted).
    pub(crate) merged: Option<Vec<u8>>,
}

/// Inspects every file and decides. `force` applies to the command's subjects only. A merge is
/// computed here, so apply only writes.
pub(crate) fn plan(root: &Root, files: Vec<Managed>, force: bool) -> Result<Vec<Step>> {
    files
        .into_iter()
        .map(|file| {
            let on_disk = root.inspect(&file.path)?;
            let base = file.base.as_deref().map(Sha256::of);
            let mut decision = decide(&file.ours, on_disk, file.wanted(), base, force && file.subject);
            let mut merged = None;
            if let Decision::Merge(expect) = decision {
                let ours = root.read(&file.path, crate::fs::MAX_MANAGED_FILE_LEN)?.unwrap_or_default();
                let base = file.base.as_deref().unwrap_or_default();
                let theirs = file.bytes.as_deref().unwrap_or_default();
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
            Ok(Step { file, on_disk, decision, merged })
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
/// before this returns, so before the command writes the lockfile and the state.
pub(crate) fn apply(
    workspace: &Workspace,
    root: &Root,
    steps: Vec<Step>,
    state: &mut WorkspaceState,
    now: i64,
) -> Result<Vec<StepResult>> {
    root.defer_directory_syncs();
    let applied = apply_steps(workspace, root, steps, state, now);
    // Even after a failure: what was applied is made durable before anything records it.
    let synced = root.sync_deferred();
    let results = applied?;
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
                    .filter(|r| matches!(r.done, Done::Written | Done::Removed))
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
        Decision::Write(_) | Decision::BackUpThenWrite(_) => Some(step.file.bytes.as_deref().unwrap_or_default()),
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
        let outcome = root.stage(&step.file.path, bytes, step.file.mode);
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
    // The write of this step, staged by `stage_window` (or now, if it was not).
    let write = |bytes: &[u8], expect: Expect| -> Result<Swap> {
        match staged {
            Some(staged) => root.commit(staged?, bytes, expect),
            None => root.replace_with_mode(&file.path, bytes, expect, file.mode),
        }
    };
    let record = |state: &mut WorkspaceState| {
        if let Some(bytes) = &file.bytes {
            state.record(&file.path, &file.agent, Sha256::of(bytes), &file.version);
        }
    };
    let mut backup = None;
    let swap = match step.decision {
        Decision::Keep => {
            match file.bytes {
                Some(_) => record(state),
                None => {
                    state.files.remove(&file.path);
                }
            }
            state.conflicts.remove(&file.path);
            return Ok((Done::Unchanged, None));
        }
        Decision::Conflict(_) => return Ok((Done::Kept, None)),
        Decision::Write(expect) => write(file.bytes.as_deref().unwrap_or_default(), expect)?,
        Decision::Remove(expect) => root.remove(&file.path, expect)?,
        Decision::BackUpThenWrite(expect) => {
            backup = Some(back_up(workspace, root, &file.path, now)?);
            write(file.bytes.as_deref().unwrap_or_default(), expect)?
        }
        Decision::BackUpThenRemove(expect) => {
            backup = Some(back_up(workspace, root, &file.path, now)?);
            root.remove(&file.path, expect)?
        }
        Decision::Merge(expect) => {
            let merged = step.merged.as_deref().expect("a merge decision carries its merged bytes");
            match write(merged, expect)? {
                Swap::Done => {
                    state.record_merge(&file.path, &file.agent, Sha256::of(merged), &file.version);
                    state.conflicts.remove(&file.path);
                    return Ok((Done::Merged, None));
                }
                other => other,
            }
        }
    };
    let removing = matches!(step.decision, Decision::Remove(_) | Decision::BackUpThenRemove(_));
    match swap {
        Swap::Done if removing => {
            state.files.remove(&file.path);
            state.conflicts.remove(&file.path);
            Ok((Done::Removed, backup))
        }
        Swap::Done => {
            record(state);
            state.conflicts.remove(&file.path);
            Ok((Done::Written, backup))
        }
        Swap::Raced => Ok((Done::Raced { backup: None }, backup)),
        Swap::RacedTwice(older) => {
            let saved = crate::fs::write_new(&backup_path(workspace, &file.path, now), &older)?;
            Ok((Done::Raced { backup: Some(saved) }, backup))
        }
    }
}

/// Keeps the wanted bytes of a file whose local edit stopped them (and, for a conflicted merge,
/// a copy with conflict markers) in the state directory, never where a tool would load them,
/// and records the conflict. Returns where the upstream copy is.
pub(crate) fn set_aside(workspace: &Workspace, state: &mut WorkspaceState, step: &Step) -> Result<PathBuf> {
    let file = &step.file;
    let wanted = file.wanted().expect("only wanted files are set aside");
    if let Some(conflict) = state.conflicts.get(&file.path)
        && conflict.sha256 == wanted
        && conflict.upstream.exists()
    {
        return Ok(conflict.upstream.clone());
    }
    let upstream = conflict_copy_path(workspace, &file.path, &file.version, "");
    crate::fs::write_atomic(&upstream, file.bytes.as_deref().unwrap_or_default())?;
    if let Some(markers) = &step.merged {
        crate::fs::write_atomic(&conflict_copy_path(workspace, &file.path, &file.version, ".merge"), markers)?;
    }
    state.conflicts.insert(
        file.path.clone(),
        crate::state::Conflict {
            agent: file.agent.clone(),
            version: file.version.clone(),
            sha256: wanted,
            upstream: upstream.clone(),
            base: state.installed_from(&file.path).cloned(),
        },
    );
    Ok(upstream)
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
fn back_up(workspace: &Workspace, root: &Root, path: &RelativePath, now: i64) -> Result<PathBuf> {
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
mod tests {
    use super::*;
    use crate::workspace::Dirs;

    fn managed(path: &str, bytes: &[u8]) -> Managed {
        Managed {
            agent: AgentName::new("a").unwrap(),
            version: semver::Version::new(1, 0, 0),
            path: RelativePath::parse(path).unwrap(),
            bytes: Some(bytes.to_vec()),
            ours: Vec::new(),
            subject: true,
            base: None,
            mode: None,
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
            .map(|file| Step {
                file,
                on_disk: OnDisk::Missing,
                decision: Decision::Write(Expect::Missing),
                merged: None,
            })
            .collect();
        let mut state = WorkspaceState::default();
        let error = apply(&workspace, &root, steps, &mut state, 0).unwrap_err().to_string();
        assert_eq!(error, "stopped part way: applied first/a.md; not applied blocker/b.md, third/c.md");
        assert_eq!(std::fs::read(project.join("first/a.md")).unwrap(), b"1");
        assert!(!project.join("third").exists());
        assert_eq!(state.files.len(), 1, "what was applied is recorded");
    }

    const MODE: u32 = 0o644;

    fn file(bytes: &[u8]) -> OnDisk {
        OnDisk::File { sha256: Sha256::of(bytes), mode: MODE }
    }

    fn hash(bytes: &[u8]) -> Sha256 {
        Sha256::of(bytes)
    }

    /// One row: what this tool wrote before, what is on disk, what is wanted, --force, outcome.
    fn check(ours: &[&[u8]], on_disk: OnDisk, wanted: Option<&[u8]>, force: bool, expected: Decision) {
        check_with_base(ours, on_disk, wanted, None, force, expected);
    }

    /// A row with a known merge base (the bytes the file was installed from).
    fn check_with_base(
        ours: &[&[u8]],
        on_disk: OnDisk,
        wanted: Option<&[u8]>,
        base: Option<&[u8]>,
        force: bool,
        expected: Decision,
    ) {
        let ours: Vec<Sha256> = ours.iter().map(|b| hash(b)).collect();
        let got = decide(&ours, on_disk, wanted.map(hash), base.map(hash), force);
        assert_eq!(got, expected, "ours={ours:?} on_disk={on_disk:?} wanted={wanted:?} base={base:?} force={force}");
    }

    #[test]
    fn every_combination() {
        use Decision::*;
        let symlink = OnDisk::Foreign(ForeignKind::Symlink);
        let directory = OnDisk::Foreign(ForeignKind::Directory);
        let special = OnDisk::Foreign(ForeignKind::Special);
        let large = OnDisk::Foreign(ForeignKind::TooLarge);
        for force in [false, true] {
            // Nothing on disk.
            check(&[], OnDisk::Missing, Some(b"new"), force, Write(Expect::Missing));
            check(&[b"old"], OnDisk::Missing, Some(b"new"), force, Write(Expect::Missing));
            check(&[], OnDisk::Missing, None, force, Keep);
            check(&[b"old"], OnDisk::Missing, None, force, Keep);
            // Already what is wanted, whoever wrote it.
            check(&[], file(b"new"), Some(b"new"), force, Keep);
            check(&[b"old"], file(b"new"), Some(b"new"), force, Keep);
            // Ours: replaced or removed, with the compare-and-swap expecting exactly those bytes.
            check(&[b"old"], file(b"old"), Some(b"new"), force, Write(Expect::Bytes(hash(b"old"))));
            check(&[b"a", b"old"], file(b"old"), Some(b"new"), force, Write(Expect::Bytes(hash(b"old"))));
            check(&[b"old"], file(b"old"), None, force, Remove(Expect::Bytes(hash(b"old"))));
        }
        // A local edit: a conflict, unless forced (then backed up first).
        check(&[b"old"], file(b"mine"), Some(b"new"), false, Conflict(Blocker::LocalEdit));
        check(&[], file(b"mine"), Some(b"new"), false, Conflict(Blocker::LocalEdit));
        check(&[b"old"], file(b"mine"), None, false, Conflict(Blocker::LocalEdit));
        check(&[b"old"], file(b"mine"), Some(b"new"), true, BackUpThenWrite(Expect::Bytes(hash(b"mine"))));
        check(&[b"old"], file(b"mine"), None, true, BackUpThenRemove(Expect::Bytes(hash(b"mine"))));
        // A local edit under a pin that moved, with its base known: merged, unless forced.
        let old: &[u8] = b"old";
        check_with_base(&[b"old"], file(b"mine"), Some(b"new"), Some(old), false, Merge(Expect::Bytes(hash(b"mine"))));
        check_with_base(
            &[b"old"],
            file(b"mine"),
            Some(b"new"),
            Some(old),
            true,
            BackUpThenWrite(Expect::Bytes(hash(b"mine"))),
        );
        // The pin did not move (the base is what is wanted): nothing to merge, a plain edit.
        check_with_base(&[b"new"], file(b"mine"), Some(b"new"), Some(b"new"), false, Conflict(Blocker::LocalEdit));
        // Ours, missing, or already wanted: the base changes nothing.
        check_with_base(&[b"old"], file(b"old"), Some(b"new"), Some(old), false, Write(Expect::Bytes(hash(b"old"))));
        check_with_base(&[b"old"], OnDisk::Missing, Some(b"new"), Some(old), false, Write(Expect::Missing));
        check_with_base(&[], file(b"new"), Some(b"new"), Some(old), false, Keep);
        // A removal never merges.
        check_with_base(&[b"old"], file(b"mine"), None, Some(old), false, Conflict(Blocker::LocalEdit));
        // A symlink is never written through; forced, the link itself is replaced or removed.
        check(&[b"old"], symlink, Some(b"new"), false, Conflict(Blocker::Foreign(ForeignKind::Symlink)));
        check(&[b"old"], symlink, None, false, Conflict(Blocker::Foreign(ForeignKind::Symlink)));
        check(&[b"old"], symlink, Some(b"new"), true, BackUpThenWrite(Expect::Symlink));
        check(&[b"old"], symlink, None, true, BackUpThenRemove(Expect::Symlink));
        // Directories, devices, FIFOs and huge files are never replaced, even forced.
        for foreign in [directory, special, large] {
            let OnDisk::Foreign(kind) = foreign else { unreachable!() };
            for force in [false, true] {
                check(&[b"old"], foreign, Some(b"new"), force, Conflict(Blocker::Foreign(kind)));
                check(&[b"old"], foreign, None, force, Conflict(Blocker::Foreign(kind)));
            }
        }
    }
}
