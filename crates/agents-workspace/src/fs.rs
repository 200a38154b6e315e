//! File-system primitives. Two kinds of place are written:
//!
//! - **Managed files inside a workspace** (agent files, every tool's converted files) through a
//!   [`Root`]: a directory handle opened once, below which every path is a
//!   [`RelativePath`] opened component by component with `O_NOFOLLOW`, so a symlinked directory
//!   anywhere on the way is refused in the same step that opens it (no check-then-write).
//!   Replacing and removing are compare-and-swap: [`Root::replace`] exchanges a finished
//!   temporary file with the target (`renameat2(RENAME_EXCHANGE)` on Linux, `renameatx_np
//!   (RENAME_SWAP)` on macOS) and then checks that the bytes it swapped out are the ones the plan
//!   expected; if a save raced in, the user's file is swapped back. [`Root::remove`] renames the
//!   target aside, checks it, and puts it back when it is not what the plan expected. A
//!   temporary file's bytes are fsync'd before it is renamed into place (`Root::stage` writes
//!   it, `sync_staged` makes many durable at once, `Root::commit` swaps it in and never renames
//!   one not synced); the directory's fsync follows each change, or, after
//!   [`Root::defer_directory_syncs`], comes once per changed directory at
//!   [`Root::sync_deferred`] (the engine calls it before the lockfile is written).
//! - **Files only this tool or a person between commands writes** (the state directory, the user
//!   config, the manifest and lockfile in the workspace root) through [`write_atomic`]: temporary
//!   file, fsync, rename, fsync the directory; backups through [`write_new`], which never
//!   replaces a file.
//!
//! Every read is of a regular file (a symlink to `/dev/zero` or a FIFO is refused) and bounded.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use agents_format::{RelativePath, Sha256};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, RenameFlags};
use rustix::io::Errno;

use crate::error::{Result, WorkspaceError, io_error};
use crate::lease::Lease;

/// The prefix of the temporary files writes go through (hidden, never named `*.md`).
pub const TEMP_PREFIX: &str = ".agents-";
const TEMP_SUFFIX: &str = ".tmp";

/// The largest file read from a workspace to compare it with what the plan expects. Nothing this
/// tool writes is near it; a bigger file is a local one and is never read whole.
pub const MAX_MANAGED_FILE_LEN: u64 = 16 * 1024 * 1024;
/// The largest `agents.toml` or `agents.lock` read.
pub const MAX_MANIFEST_LEN: u64 = 16 * 1024 * 1024;
/// The largest state file read from the state directory.
pub const MAX_STATE_LEN: u64 = 64 * 1024 * 1024;

/// What is at a managed path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDisk {
    Missing,
    /// A regular file, with its checksum and permission bits.
    File {
        sha256: Sha256,
        mode: u32,
    },
    /// A symlink, a directory, a device, a FIFO, or a regular file too large to be ours.
    Foreign(ForeignKind),
}

/// What identifies the bytes of a file this tool wrote, without reading them: its inode, size,
/// modification and change times, taken when it was written. Before the rename, the new file's
/// modification time is set one nanosecond back from the time the write gave it, so no later
/// write can leave the same time behind (a write sets the current time, which is later): a file
/// whose fingerprint still matches holds the bytes recorded with it, as git's index trusts a
/// file whose stat data it recorded (without git's racy window: the time is never current).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fingerprint {
    pub ino: u64,
    pub size: u64,
    pub mtime: (i64, u32),
    pub ctime: (i64, u32),
}

impl Fingerprint {
    #[allow(clippy::useless_conversion, clippy::unnecessary_cast, clippy::unnecessary_fallible_conversions)]
    fn of(stat: &rustix::fs::Stat) -> Fingerprint {
        Fingerprint {
            ino: stat.st_ino as u64,
            size: u64::try_from(stat.st_size).unwrap_or(u64::MAX),
            mtime: (stat.st_mtime as i64, stat.st_mtime_nsec as u32),
            ctime: (stat.st_ctime as i64, stat.st_ctime_nsec as u32),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForeignKind {
    Symlink,
    Directory,
    Special,
    TooLarge,
}

impl ForeignKind {
    pub fn describe(self) -> &'static str {
        match self {
            ForeignKind::Symlink => "a symlink",
            ForeignKind::Directory => "a directory",
            ForeignKind::Special => "not a regular file",
            ForeignKind::TooLarge => "a file too large to be one agents wrote",
        }
    }
}

impl OnDisk {
    pub fn sha256(&self) -> Option<Sha256> {
        match self {
            OnDisk::File { sha256, .. } => Some(*sha256),
            _ => None,
        }
    }
}

/// What the compare-and-swap of [`Root::replace`] expects at the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Nothing: the file is created, and a file that appeared meanwhile is kept.
    Missing,
    /// A regular file with these bytes.
    Bytes(Sha256),
    /// A symlink (forced replacement of the link itself, never of what it points to).
    Symlink,
    /// Anything that is a regular file or missing (files only this tool writes: the lockfile).
    Any,
}

/// How a compare-and-swap ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Swap {
    /// The target now holds the new bytes (or is gone, for a removal).
    Done,
    /// Someone changed the file after the plan looked at it; their bytes are at the target and
    /// nothing of ours was left there.
    Raced,
    /// Two changes raced in: the newer is at the target and the older is returned, to be kept
    /// as a backup by the caller.
    RacedTwice(Vec<u8>),
}

/// An open directory that everything below it is reached through.
#[derive(Debug)]
pub struct Root {
    fd: OwnedFd,
    path: PathBuf,
    /// Directories below the root already opened (component by component, without following
    /// a symlink), by their relative path: a plan touches a few directories many times. A handle
    /// stays on the directory it opened even if a symlink later takes that name, so a cached
    /// one never leads outside.
    opened: std::cell::RefCell<Vec<(String, Rc<OwnedFd>)>>,
    /// While [`Root::defer_directory_syncs`] is in effect: the directories whose entries changed
    /// (a rename, a removal, a directory created in them) and are not fsync'd yet, once each.
    deferred: std::cell::RefCell<Option<Vec<(String, OwnedFd)>>>,
    /// Directories this root created (relative paths), for the caller to record: a directory
    /// this tool made is removed again once it is empty.
    created: std::cell::RefCell<Vec<String>>,
}

impl Root {
    /// Opens `path` (which may itself be reached through symlinks: it is the user's choice).
    pub fn open(path: &Path) -> Result<Root> {
        let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
            .map_err(|e| io_error(path)(e.into()))?;
        Ok(Root {
            fd,
            path: path.to_path_buf(),
            opened: Default::default(),
            deferred: Default::default(),
            created: Default::default(),
        })
    }

    /// From now on each directory whose entries change is fsync'd once, by
    /// [`Root::sync_deferred`], instead of after every file: a package's twenty files in one
    /// directory cost one directory fsync, not twenty. Each file's own bytes are still fsync'd
    /// before it is renamed into place, so a file is never visible with bytes not on disk.
    pub fn defer_directory_syncs(&self) {
        let mut deferred = self.deferred.borrow_mut();
        if deferred.is_none() {
            *deferred = Some(Vec::new());
        }
    }

    /// Fsyncs every directory changed since [`Root::defer_directory_syncs`], once each, and stops
    /// deferring. Call it before anything that records the changes (the lockfile, the state), so
    /// what records them is never on disk before what they record.
    pub fn sync_deferred(&self) -> Result<()> {
        let Some(directories) = self.deferred.borrow_mut().take() else { return Ok(()) };
        let mut first_error = None;
        for (key, fd) in directories {
            if let Err(error) = rustix::fs::fsync(&fd) {
                first_error.get_or_insert_with(|| io_error(&self.path.join(&key))(error.into()));
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Makes the entries of the directory `key` (relative to the root; `dir` is its handle)
    /// durable: now, or once at [`Root::sync_deferred`] while syncs are deferred.
    fn sync_directory(&self, key: &str, dir: &OwnedFd) -> Result<()> {
        let shown = || self.path.join(key);
        let mut deferred = self.deferred.borrow_mut();
        match deferred.as_mut() {
            None => rustix::fs::fsync(dir).map_err(|e| io_error(&shown())(e.into())),
            Some(pending) if pending.iter().any(|(pending, _)| pending == key) => Ok(()),
            Some(pending) => {
                let handle = rustix::io::dup(dir).map_err(|e| io_error(&shown())(e.into()))?;
                pending.push((key.to_owned(), handle));
                Ok(())
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `relative` as an absolute path, for messages and reports.
    pub fn absolute(&self, relative: &RelativePath) -> PathBuf {
        self.path.join(relative.as_str())
    }

    /// Opens the directory holding `relative`, one component at a time without following
    /// symlinks; creates missing ones when `create`. `None` when missing and not created.
    fn parent(&self, relative: &RelativePath, create: bool) -> Result<Option<Rc<OwnedFd>>> {
        let key = relative.parent_components().collect::<Vec<_>>().join("/");
        if let Some((_, fd)) = self.opened.borrow().iter().find(|(path, _)| *path == key) {
            return Ok(Some(Rc::clone(fd)));
        }
        let opened = self.open_parent(relative, create)?.map(Rc::new);
        if let Some(fd) = &opened {
            self.opened.borrow_mut().push((key, Rc::clone(fd)));
        }
        Ok(opened)
    }

    fn open_parent(&self, relative: &RelativePath, create: bool) -> Result<Option<OwnedFd>> {
        let mut current: Option<OwnedFd> = None;
        let mut shown = self.path.clone();
        let mut key = String::new();
        for component in relative.parent_components() {
            shown.push(component);
            let dir = current.as_ref().map_or(self.fd.as_fd(), |fd| fd.as_fd());
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let opened = match rustix::fs::openat(dir, component, flags, Mode::empty()) {
                Err(Errno::NOENT) if create => {
                    // Never writable by every account, whatever the umask (see `check_owned`).
                    match rustix::fs::mkdirat(dir, component, Mode::from_raw_mode(0o775)) {
                        Ok(()) => {
                            // The new directory's entry is in its parent: durable with the files.
                            let parent = rustix::io::dup(dir).map_err(|e| io_error(&shown)(e.into()))?;
                            self.sync_directory(&key, &parent)?;
                            let made = if key.is_empty() { component.to_owned() } else { format!("{key}/{component}") };
                            self.created.borrow_mut().push(made);
                        }
                        Err(Errno::EXIST) => {}
                        Err(error) => return Err(io_error(&shown)(error.into())),
                    }
                    rustix::fs::openat(dir, component, flags, Mode::empty())
                }
                other => other,
            };
            let fd = match opened {
                Ok(fd) => fd,
                Err(Errno::NOENT) => return Ok(None),
                Err(Errno::LOOP) => {
                    return Err(WorkspaceError::SymlinkedPath { path: shown, within: self.path.clone() });
                }
                // Some systems say ENOTDIR for a symlink opened with O_NOFOLLOW | O_DIRECTORY.
                Err(Errno::NOTDIR)
                    if rustix::fs::statat(dir, component, AtFlags::SYMLINK_NOFOLLOW)
                        .is_ok_and(|stat| FileType::from_raw_mode(stat.st_mode) == FileType::Symlink) =>
                {
                    return Err(WorkspaceError::SymlinkedPath { path: shown, within: self.path.clone() });
                }
                Err(error) => return Err(io_error(&shown)(error.into())),
            };
            check_owned(&fd, &shown)?;
            current = Some(fd);
            if !key.is_empty() {
                key.push('/');
            }
            key.push_str(component);
        }
        match current {
            Some(fd) => Ok(Some(fd)),
            None => rustix::io::dup(&self.fd).map(Some).map_err(|e| io_error(&self.path)(e.into())),
        }
    }

    /// What is at `relative`: a regular file is hashed (bounded), anything else is foreign.
    pub fn inspect(&self, relative: &RelativePath) -> Result<OnDisk> {
        let Some(dir) = self.parent(relative, false)? else { return Ok(OnDisk::Missing) };
        inspect_in(&dir, relative.file_name(), &self.absolute(relative))
    }

    /// [`Root::inspect`], trusting `known` (what this tool recorded writing at `relative`: the
    /// file's fingerprint then, and its checksum) without reading the file when the regular file
    /// there still has that fingerprint.
    pub fn inspect_known(&self, relative: &RelativePath, known: Option<(Fingerprint, Sha256)>) -> Result<OnDisk> {
        let Some((fingerprint, sha256)) = known else { return self.inspect(relative) };
        let Some(dir) = self.parent(relative, false)? else { return Ok(OnDisk::Missing) };
        if let Ok(stat) = rustix::fs::statat(&*dir, relative.file_name(), AtFlags::SYMLINK_NOFOLLOW)
            && FileType::from_raw_mode(stat.st_mode) == FileType::RegularFile
            && Fingerprint::of(&stat) == fingerprint
        {
            return Ok(OnDisk::File { sha256, mode: stat.st_mode & 0o7777 });
        }
        inspect_in(&dir, relative.file_name(), &self.absolute(relative))
    }

    /// The bytes of the regular file at `relative`, or `None` when it is missing. Refuses a
    /// symlink, a non-regular file, or one larger than `limit`.
    pub fn read(&self, relative: &RelativePath, limit: u64) -> Result<Option<Vec<u8>>> {
        let shown = self.absolute(relative);
        let Some(dir) = self.parent(relative, false)? else { return Ok(None) };
        match open_regular(&dir, relative.file_name(), &shown)? {
            Opened::Missing => Ok(None),
            Opened::Foreign(ForeignKind::Symlink) => {
                Err(WorkspaceError::SymlinkedPath { path: shown, within: self.path.clone() })
            }
            Opened::Foreign(_) => Err(WorkspaceError::NotRegular { path: shown }),
            Opened::File(file, len, _) => read_bounded(file, len, &shown, limit).map(Some),
        }
    }

    /// Writes `bytes` at `relative` if what is there is still what `expect` says (see the module
    /// docs). A replaced file keeps its permission bits; a new one gets the umask's.
    pub fn replace(&self, relative: &RelativePath, bytes: &[u8], expect: Expect) -> Result<Swap> {
        self.replace_with_mode(relative, bytes, expect, None)
    }

    /// [`Root::replace`], and with `mode` the file gets the run bit (for each of owner, group
    /// and other that may read it) exactly when `mode` is executable: a package's scripts.
    pub fn replace_with_mode(
        &self,
        relative: &RelativePath,
        bytes: &[u8],
        expect: Expect,
        mode: Option<agents_format::FileMode>,
    ) -> Result<Swap> {
        let staged = self.stage(relative, bytes, mode)?;
        Ok(self.commit(staged, bytes, expect)?.0)
    }

    /// The first half of [`Root::replace_with_mode`]: writes `bytes` to a new temporary file
    /// beside `relative` (creating the directories on the way), with the mode the target keeps
    /// or `mode` gives, and does not fsync it yet: [`sync_staged`] fsyncs many at once, and
    /// [`Root::commit`] fsyncs one that is not yet. Dropped uncommitted, the temporary file is
    /// removed.
    pub(crate) fn stage(
        &self,
        relative: &RelativePath,
        bytes: &[u8],
        mode: Option<agents_format::FileMode>,
    ) -> Result<Staged> {
        let shown = self.absolute(relative);
        let dir = self.parent(relative, true)?.expect("created when missing");
        let name = relative.file_name();
        let keep_mode = match rustix::fs::statat(&*dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) if FileType::from_raw_mode(stat.st_mode) == FileType::RegularFile => Some(stat.st_mode & 0o7777),
            _ => None,
        };
        let (temp, file) = write_temp_unsynced(&dir, &shown, bytes, keep_mode)?;
        let mtime = backdate(&file);
        let staged = Staged { dir, temp: Some(temp), file, synced: false, relative: relative.clone(), mtime };
        if let Some(mode) = mode {
            let temp = staged.temp.as_deref().expect("just written");
            let set = rustix::fs::fstat(&staged.file).and_then(|stat| {
                let current = stat.st_mode & 0o7777;
                let wanted = if mode.is_executable() { current | ((current & 0o444) >> 2) } else { current & !0o111 };
                rustix::fs::chmodat(&*staged.dir, temp, Mode::from_raw_mode(wanted), AtFlags::empty())
            });
            // Dropping `staged` removes the temporary file.
            set.map_err(|error| io_error(&shown)(error.into()))?;
        }
        Ok(staged)
    }

    /// The second half of [`Root::replace_with_mode`]: fsyncs the staged file's bytes unless
    /// [`sync_staged`] did, then moves it to its target if what is there is still what `expect`
    /// says (the compare-and-swap of the module docs), and syncs the directory (now, or once
    /// later when deferred). The bytes renamed into place are always on disk first.
    /// With the swap done, also returns the file's [`Fingerprint`] as it is now in place (none
    /// when its modification time could not be set back, or is no longer what was set: a write
    /// came in meanwhile).
    pub(crate) fn commit(
        &self,
        mut staged: Staged,
        bytes: &[u8],
        expect: Expect,
    ) -> Result<(Swap, Option<Fingerprint>)> {
        let relative = staged.relative.clone();
        let shown = self.absolute(&relative);
        if !staged.synced {
            staged.file.sync_all().map_err(io_error(&shown))?;
            staged.synced = true;
        }
        let temp = staged.temp.take().expect("a staged file is committed once");
        let outcome = swap_in(&staged.dir, relative.file_name(), &temp, bytes, &shown, expect);
        // Whatever happened, the temporary name must not stay behind.
        let _ = rustix::fs::unlinkat(&*staged.dir, temp.as_str(), AtFlags::empty());
        let outcome = outcome?;
        self.sync_directory(&directory_key(&relative), &staged.dir)?;
        let fingerprint = match (&outcome, staged.mtime) {
            (Swap::Done, Some(set)) => rustix::fs::fstat(&staged.file)
                .ok()
                .map(|stat| Fingerprint::of(&stat))
                .filter(|now| now.mtime == set && now.size == bytes.len() as u64),
            _ => None,
        };
        Ok((outcome, fingerprint))
    }

    /// Removes the file at `relative` if it still holds `expected` (or is the symlink a forced
    /// removal expects). A file that changed is put back.
    pub fn remove(&self, relative: &RelativePath, expect: Expect) -> Result<Swap> {
        let shown = self.absolute(relative);
        let Some(dir) = self.parent(relative, false)? else { return Ok(Swap::Done) };
        let name = relative.file_name();
        let aside = temp_name();
        // As in a replace: a program writing to the file keeps it (see `crate::lease`).
        let lease = Lease::take(&dir, name);
        if matches!(lease, Lease::OpenForWriting) {
            return Ok(Swap::Raced);
        }
        match rustix::fs::renameat_with(&dir, name, &dir, aside.as_str(), RenameFlags::NOREPLACE) {
            Ok(()) => {}
            Err(Errno::NOENT) => return Ok(Swap::Done),
            Err(Errno::INVAL | Errno::NOSYS) => {
                rustix::fs::renameat(&dir, name, &dir, aside.as_str()).map_err(|e| io_error(&shown)(e.into()))?
            }
            Err(error) => return Err(io_error(&shown)(error.into())),
        }
        let moved = inspect_in(&dir, &aside, &shown)?;
        if matches_expectation(moved, expect) && !lease.broken() {
            rustix::fs::unlinkat(&dir, aside.as_str(), AtFlags::empty()).map_err(|e| io_error(&shown)(e.into()))?;
            self.sync_directory(&directory_key(relative), &dir)?;
            return Ok(Swap::Done);
        }
        // Not what the plan saw: put it back, unless a newer file took its place meanwhile.
        match rustix::fs::renameat_with(&dir, aside.as_str(), &dir, name, RenameFlags::NOREPLACE) {
            Ok(()) => Ok(Swap::Raced),
            Err(Errno::EXIST) => {
                let older = read_aside(&dir, &aside, &shown);
                let _ = rustix::fs::unlinkat(&dir, aside.as_str(), AtFlags::empty());
                Ok(Swap::RacedTwice(older?))
            }
            Err(error) => Err(io_error(&shown)(error.into())),
        }
    }

    /// The directories created since the last call, as relative paths.
    pub fn take_created(&self) -> Vec<RelativePath> {
        self.created.borrow_mut().drain(..).filter_map(|dir| RelativePath::parse(&dir).ok()).collect()
    }

    /// Removes the directory `relative` if it is empty (`rmdir`: never anything in it). Returns
    /// whether it is gone now (removed, or not there); a directory with entries, a file or a
    /// symlink at that name is left as it is.
    pub fn remove_empty_dir(&self, relative: &RelativePath) -> Result<bool> {
        let shown = self.absolute(relative);
        let Some(dir) = self.parent(relative, false)? else { return Ok(true) };
        match rustix::fs::unlinkat(&*dir, relative.file_name(), AtFlags::REMOVEDIR) {
            Ok(()) => {
                // A handle cached for it (or below it) names a directory that is gone.
                let key = relative.as_str();
                self.opened.borrow_mut().retain(|(path, _)| path != key && !path.starts_with(&format!("{key}/")));
                self.sync_directory(&directory_key(relative), &dir)?;
                Ok(true)
            }
            Err(Errno::NOENT) => Ok(true),
            Err(Errno::NOTEMPTY | Errno::EXIST | Errno::NOTDIR | Errno::BUSY) => Ok(false),
            Err(error) => Err(io_error(&shown)(error.into())),
        }
    }

    /// Removes temporary files a killed writer left in the directory of `relative`. Call it
    /// only while holding the workspace lock, so no live writer's file is taken.
    pub fn remove_stale_temp_files(&self, relative: &RelativePath) -> Result<usize> {
        let shown = self.absolute(relative);
        let directory = shown.parent().unwrap_or(&shown).to_path_buf();
        let Some(dir) = self.parent(relative, false).or_else(|e| match e {
            WorkspaceError::SymlinkedPath { .. } => Ok(None),
            other => Err(other),
        })?
        else {
            return Ok(0);
        };
        let entries = rustix::fs::Dir::read_from(&dir).map_err(|e| io_error(&directory)(e.into()))?;
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy();
            if name.starts_with(TEMP_PREFIX)
                && name.ends_with(TEMP_SUFFIX)
                && rustix::fs::unlinkat(&dir, name.as_ref(), AtFlags::empty()).is_ok()
            {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// The key of the directory holding `relative`, as [`Root`] caches and syncs directories.
fn directory_key(relative: &RelativePath) -> String {
    relative.parent_components().collect::<Vec<_>>().join("/")
}

fn matches_expectation(on_disk: OnDisk, expect: Expect) -> bool {
    match (expect, on_disk) {
        (Expect::Missing, OnDisk::Missing) => true,
        (Expect::Bytes(expected), OnDisk::File { sha256, .. }) => sha256 == expected,
        (Expect::Symlink, OnDisk::Foreign(ForeignKind::Symlink)) => true,
        (Expect::Any, OnDisk::Missing | OnDisk::File { .. }) => true,
        _ => false,
    }
}

/// Moves the finished temporary file `temp` to `name` if the target is what `expect` says.
fn swap_in(dir: &OwnedFd, name: &str, temp: &str, bytes: &[u8], shown: &Path, expect: Expect) -> Result<Swap> {
    let error = |e: Errno| io_error(shown)(e.into());
    if expect == Expect::Missing {
        return match rustix::fs::renameat_with(dir, temp, dir, name, RenameFlags::NOREPLACE) {
            Ok(()) => Ok(Swap::Done),
            Err(Errno::EXIST) => Ok(Swap::Raced),
            Err(Errno::INVAL | Errno::NOSYS) => fallback_swap(dir, name, temp, shown, expect),
            Err(e) => Err(error(e)),
        };
    }
    // A program with the file open for writing would write into the file swapped out: leave
    // it to a later pass. One that opens it for writing from now on waits for the lease.
    let lease = Lease::take(dir, name);
    if matches!(lease, Lease::OpenForWriting) {
        return Ok(Swap::Raced);
    }
    match rustix::fs::renameat_with(dir, temp, dir, name, RenameFlags::EXCHANGE) {
        Ok(()) => {}
        // The target went away since the plan looked: nothing of the user's can be lost by
        // creating it, but a file created meanwhile is theirs.
        Err(Errno::NOENT) => return swap_in(dir, name, temp, bytes, shown, Expect::Missing),
        Err(Errno::INVAL | Errno::NOSYS) => return fallback_swap(dir, name, temp, shown, expect),
        Err(e) => return Err(error(e)),
    }
    // `temp` now names what was at the target. A broken lease is an open for writing of it
    // under way (it waits for the lease): it must find the file back at its name.
    if matches_expectation(inspect_in(dir, temp, shown)?, expect) && !lease.broken() {
        return Ok(Swap::Done);
    }
    // A save raced in between the plan and the swap: give the user's file back.
    rustix::fs::renameat_with(dir, temp, dir, name, RenameFlags::EXCHANGE).map_err(error)?;
    // `temp` names what was at the target a moment ago: ours, unless a second save came too.
    match open_regular(dir, temp, shown)? {
        Opened::File(file, len, _) => {
            let came_back = read_bounded(file, len, shown, MAX_MANAGED_FILE_LEN)?;
            Ok(if came_back == bytes { Swap::Raced } else { Swap::RacedTwice(came_back) })
        }
        _ => Ok(Swap::Raced),
    }
}

/// Filesystems without atomic exchange: check, then rename. The race window is the time
/// between the two calls; documented in ARCHITECTURE.md.
fn fallback_swap(dir: &OwnedFd, name: &str, temp: &str, shown: &Path, expect: Expect) -> Result<Swap> {
    if !matches_expectation(inspect_in(dir, name, shown)?, expect) {
        return Ok(Swap::Raced);
    }
    rustix::fs::renameat(dir, temp, dir, name).map_err(|e| io_error(shown)(e.into()))?;
    Ok(Swap::Done)
}

fn read_aside(dir: &OwnedFd, aside: &str, shown: &Path) -> Result<Vec<u8>> {
    match open_regular(dir, aside, shown)? {
        Opened::File(file, len, _) => read_bounded(file, len, shown, MAX_MANAGED_FILE_LEN),
        _ => Ok(Vec::new()),
    }
}

fn temp_name() -> String {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).expect("the system's random source is available");
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("{TEMP_PREFIX}{hex}{TEMP_SUFFIX}")
}

/// A file staged by [`Root::stage`]: its bytes at a temporary name beside the target, not yet
/// committed. Removed when dropped uncommitted.
pub(crate) struct Staged {
    dir: Rc<OwnedFd>,
    /// `None` once committed.
    temp: Option<String>,
    file: File,
    /// Whether the bytes are fsync'd ([`sync_staged`]); [`Root::commit`] does it otherwise.
    synced: bool,
    relative: RelativePath,
    /// The modification time set back by [`backdate`], when it could be.
    mtime: Option<(i64, u32)>,
}

/// Sets the modification time of a file just written one nanosecond back from the time the
/// write gave it (see [`Fingerprint`]); returns it, or `None` when the file system did not keep
/// it exactly (one with coarser times cannot be fingerprinted, and is always read).
fn backdate(file: &File) -> Option<(i64, u32)> {
    let written = Fingerprint::of(&rustix::fs::fstat(file).ok()?).mtime;
    let back = match written {
        (secs, 0) => (secs - 1, 999_999_999),
        (secs, nanos) => (secs, nanos - 1),
    };
    let omit = rustix::fs::Timespec { tv_sec: 0, tv_nsec: rustix::fs::UTIME_OMIT };
    let times = rustix::fs::Timestamps {
        last_access: omit,
        last_modification: rustix::fs::Timespec { tv_sec: back.0, tv_nsec: back.1.into() },
    };
    rustix::fs::futimens(file, &times).ok()?;
    let kept = Fingerprint::of(&rustix::fs::fstat(file).ok()?).mtime;
    (kept == back).then_some(back)
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = rustix::fs::unlinkat(&*self.dir, temp.as_str(), AtFlags::empty());
        }
    }
}

/// The most fsyncs [`sync_staged`] has in flight at once.
const MAX_PARALLEL_SYNCS: usize = 16;

/// Makes the bytes of every staged file durable. Many files at once go by one `syncfs` of the
/// file system they are on, when that is cheap and sound ([`sync_by_file_system`]): one journal
/// commit instead of one per file (250 files: about 10 ms instead of 30 on the benchmark
/// machine; OSTree commits its objects the same way). Otherwise, or if that fails, each file is
/// fsync'd, several at once (a device completes parallel flushes in about the time of one:
/// twenty 5 KB files in 10 ms instead of 55 ms). Returns, for each file, the error when its
/// fsync failed; a file made durable is marked so that [`Root::commit`] does not fsync it again.
pub(crate) fn sync_staged(staged: &mut [&mut Staged]) -> Vec<Option<std::io::Error>> {
    let files: Vec<&File> = staged.iter().map(|s| &s.file).collect();
    if sync_by_file_system(&files) {
        for staged in staged.iter_mut() {
            staged.synced = true;
        }
        return (0..staged.len()).map(|_| None).collect();
    }
    fsync_each(staged)
}

/// From how many files [`sync_staged`] considers one `syncfs` instead of an fsync of each.
const SYNCFS_FROM: usize = 8;

/// The most dirty page cache (`/proc/meminfo`'s `Dirty` plus `Writeback`, for the whole system)
/// under which a `syncfs` is cheap: above it, flushing the whole file system could wait on
/// another program's writes, which an fsync of our own files does not.
const SYNCFS_DIRTY_LIMIT_KIB: u64 = 32 * 1024;

/// Flushes the file system of each of `files` once, when there are enough of them, the kernel
/// reports write-back errors through `syncfs` (Linux 5.8 and later: before, it returned success
/// whatever happened), each is a local disk file system ([`SYNCFS_FILE_SYSTEMS`]) and little
/// else waits to be written. Returns whether every file is now
/// durable; `false` leaves it to an fsync of each, which names the file that failed.
#[cfg(target_os = "linux")]
fn sync_by_file_system(files: &[&File]) -> bool {
    static SOUND: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if files.len() < SYNCFS_FROM || !*SOUND.get_or_init(syncfs_reports_errors) {
        return false;
    }
    // The kernel's own file, not an input: read as it is.
    let dirty = std::fs::read_to_string("/proc/meminfo").ok().and_then(|text| meminfo_dirty_kib(&text));
    if dirty.is_none_or(|kib| kib > SYNCFS_DIRTY_LIMIT_KIB) {
        return false;
    }
    // One file per file system: a mount inside the workspace is flushed too.
    let mut devices: Vec<(u64, &File)> = Vec::new();
    for file in files {
        let Ok(stat) = rustix::fs::fstat(file) else { return false };
        if !devices.iter().any(|(device, _)| *device == stat.st_dev) {
            devices.push((stat.st_dev, file));
        }
    }
    // `f_type` is as wide as a C `long`: 32 bits on some targets.
    #[allow(clippy::unnecessary_cast)]
    let local =
        |file: &File| rustix::fs::fstatfs(file).is_ok_and(|fs| SYNCFS_FILE_SYSTEMS.contains(&(fs.f_type as i64)));
    devices.iter().all(|(_, file)| local(file)) && devices.iter().all(|(_, file)| rustix::fs::syncfs(file).is_ok())
}

/// The file systems whose `syncfs` writes out every file's data (their magic numbers, from
/// `statfs(2)`): ext2/3/4, XFS, Btrfs, F2FS and tmpfs. Elsewhere (FUSE, where it may reach no
/// server; network file systems) each file is fsync'd.
#[cfg(target_os = "linux")]
const SYNCFS_FILE_SYSTEMS: [i64; 5] = [0xEF53, 0x5846_5342, 0x9123_683E, 0xF2F5_2010, 0x0102_1994];

#[cfg(not(target_os = "linux"))]
fn sync_by_file_system(_: &[&File]) -> bool {
    false
}

/// Whether this kernel's `syncfs` reports write-back errors (Linux 5.8 and later).
#[cfg(target_os = "linux")]
fn syncfs_reports_errors() -> bool {
    let release = rustix::system::uname();
    kernel_at_least(&release.release().to_string_lossy(), (5, 8))
}

/// Whether a kernel release string (`6.1.0-18-amd64`) is at least `wanted`.
#[cfg(any(target_os = "linux", test))]
fn kernel_at_least(release: &str, wanted: (u32, u32)) -> bool {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major = parts.next().and_then(|p| p.parse::<u32>().ok());
    let minor = parts.next().and_then(|p| p.parse::<u32>().ok());
    match (major, minor) {
        (Some(major), Some(minor)) => (major, minor) >= wanted,
        _ => false,
    }
}

/// The KiB `/proc/meminfo` counts as dirty or under write-back, if it says.
#[cfg(any(target_os = "linux", test))]
fn meminfo_dirty_kib(text: &str) -> Option<u64> {
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|number| number.trim().parse::<u64>().ok())
    };
    Some(field("Dirty")? + field("Writeback")?)
}

/// Fsyncs each staged file, [`MAX_PARALLEL_SYNCS`] at once.
fn fsync_each(staged: &mut [&mut Staged]) -> Vec<Option<std::io::Error>> {
    let files: Vec<&File> = staged.iter().map(|s| &s.file).collect();
    let mut outcomes: Vec<Option<std::io::Error>> = (0..files.len()).map(|_| None).collect();
    if files.len() <= 1 {
        for (outcome, file) in outcomes.iter_mut().zip(&files) {
            *outcome = file.sync_all().err();
        }
    } else {
        let threads = files.len().min(MAX_PARALLEL_SYNCS);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|thread| {
                    let files = &files;
                    scope.spawn(move || {
                        (thread..files.len())
                            .step_by(threads)
                            .map(|i| (i, files[i].sync_all().err()))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for (thread, handle) in handles.into_iter().enumerate() {
                match handle.join() {
                    Ok(done) => {
                        for (i, error) in done {
                            outcomes[i] = error;
                        }
                    }
                    // A thread that did not finish synced nothing it can vouch for.
                    Err(_) => {
                        for i in (thread..files.len()).step_by(threads) {
                            outcomes[i] = Some(std::io::Error::other("the fsync thread stopped"));
                        }
                    }
                }
            }
        });
    }
    for (staged, outcome) in staged.iter_mut().zip(&outcomes) {
        staged.synced = outcome.is_none();
    }
    outcomes
}

/// Writes `bytes` to a new temporary file in `dir` and syncs it; returns its name.
fn write_temp(dir: &OwnedFd, shown: &Path, bytes: &[u8], mode: Option<u32>) -> Result<String> {
    let (name, file) = write_temp_unsynced(dir, shown, bytes, mode)?;
    if let Err(error) = file.sync_all() {
        let _ = rustix::fs::unlinkat(dir, name.as_str(), AtFlags::empty());
        return Err(io_error(shown)(error));
    }
    Ok(name)
}

/// Writes `bytes` to a new temporary file in `dir`, not synced; returns its name and handle.
fn write_temp_unsynced(dir: &OwnedFd, shown: &Path, bytes: &[u8], mode: Option<u32>) -> Result<(String, File)> {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let (name, fd) = loop {
        let name = temp_name();
        // 0666 less the umask, as any editor creates files.
        match rustix::fs::openat(dir, name.as_str(), flags, Mode::from_raw_mode(0o666)) {
            Ok(fd) => break (name, fd),
            Err(Errno::EXIST) => continue,
            Err(error) => return Err(io_error(shown)(error.into())),
        }
    };
    let result = (|| {
        if let Some(mode) = mode {
            rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode))?;
        }
        let mut file = File::from(fd);
        file.write_all(bytes)?;
        Ok::<File, std::io::Error>(file)
    })();
    match result {
        Ok(file) => Ok((name, file)),
        Err(error) => {
            let _ = rustix::fs::unlinkat(dir, name.as_str(), AtFlags::empty());
            Err(io_error(shown)(error))
        }
    }
}

enum Opened {
    Missing,
    Foreign(ForeignKind),
    /// A regular file, its length and its permission bits.
    File(File, u64, u32),
}

fn open_regular(dir: &OwnedFd, name: &str, shown: &Path) -> Result<Opened> {
    // O_NONBLOCK: opening a FIFO must not wait for a writer.
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
    let fd = match rustix::fs::openat(dir, name, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(Opened::Missing),
        Err(Errno::LOOP) => return Ok(Opened::Foreign(ForeignKind::Symlink)),
        Err(error) => return Err(io_error(shown)(error.into())),
    };
    let stat = rustix::fs::fstat(&fd).map_err(|e| io_error(shown)(e.into()))?;
    match FileType::from_raw_mode(stat.st_mode) {
        FileType::RegularFile => {
            let len = u64::try_from(stat.st_size).unwrap_or(u64::MAX);
            Ok(Opened::File(File::from(fd), len, stat.st_mode & 0o7777))
        }
        FileType::Directory => Ok(Opened::Foreign(ForeignKind::Directory)),
        FileType::Symlink => Ok(Opened::Foreign(ForeignKind::Symlink)),
        _ => Ok(Opened::Foreign(ForeignKind::Special)),
    }
}

/// Refuses a directory on the way to a managed file that another account owns or that every
/// account may write to (as git's `safe.directory` reasons): its owner, or anyone, could swap
/// what is in it between our look and our write.
fn check_owned(dir: &OwnedFd, shown: &Path) -> Result<()> {
    let stat = rustix::fs::fstat(dir).map_err(|e| io_error(shown)(e.into()))?;
    let foreign = |why| Err(WorkspaceError::ForeignDirectory { path: shown.to_path_buf(), why });
    if stat.st_uid != rustix::process::geteuid().as_raw() {
        return foreign("owned by another account");
    }
    if stat.st_mode & 0o002 != 0 {
        return foreign("writable by every account");
    }
    Ok(())
}

fn inspect_in(dir: &OwnedFd, name: &str, shown: &Path) -> Result<OnDisk> {
    match open_regular(dir, name, shown)? {
        Opened::Missing => Ok(OnDisk::Missing),
        Opened::Foreign(kind) => Ok(OnDisk::Foreign(kind)),
        Opened::File(_, len, _) if len > MAX_MANAGED_FILE_LEN => Ok(OnDisk::Foreign(ForeignKind::TooLarge)),
        Opened::File(file, len, mode) => {
            let bytes = read_bounded(file, len, shown, MAX_MANAGED_FILE_LEN)?;
            Ok(OnDisk::File { sha256: Sha256::of(&bytes), mode })
        }
    }
}

/// Reads at most `limit` bytes; a file that turns out longer (it grew, or lied) is refused.
/// `len` is the size `fstat` gave: the buffer starts that large (one byte more, to see the end),
/// so a file is read in one or two calls instead of the many small probing reads `read_to_end`
/// makes when it cannot know the size (a `Take` hides it).
fn read_bounded(file: File, len: u64, shown: &Path, limit: u64) -> Result<Vec<u8>> {
    let capacity = usize::try_from(len.min(limit).saturating_add(1)).unwrap_or(usize::MAX);
    let mut bytes = Vec::with_capacity(capacity);
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io_error(shown))?;
    if bytes.len() as u64 > limit {
        return Err(WorkspaceError::TooLarge { path: shown.to_path_buf(), limit });
    }
    Ok(bytes)
}

/// Writes `bytes` to `path` in a private directory (the state directory, the user config)
/// atomically: a temporary file in the same directory, fsync, rename over the target, fsync the
/// directory. A replaced file keeps its mode. A symlink at `path` is replaced, never followed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let directory = path.parent().expect("an absolute file path has a parent");
    fs_err::create_dir_all(directory).map_err(io_error(directory))?;
    let dir = Root::open(directory)?;
    let name = path.file_name().expect("a file path has a file name").to_string_lossy();
    let keep_mode = match rustix::fs::statat(&dir.fd, name.as_ref(), AtFlags::SYMLINK_NOFOLLOW) {
        Ok(stat) if FileType::from_raw_mode(stat.st_mode) == FileType::RegularFile => Some(stat.st_mode & 0o7777),
        _ => None,
    };
    let temp = write_temp(&dir.fd, path, bytes, keep_mode)?;
    if let Err(error) = rustix::fs::renameat(&dir.fd, temp.as_str(), &dir.fd, name.as_ref()) {
        let _ = rustix::fs::unlinkat(&dir.fd, temp.as_str(), AtFlags::empty());
        return Err(io_error(path)(error.into()));
    }
    rustix::fs::fsync(&dir.fd).map_err(|e| io_error(directory)(e.into()))
}

/// Replaces `path` with `bytes` through a temporary file and a rename, without fsync: for a
/// cache, which may be lost in a crash (a torn or missing one is only a miss) but must never be
/// seen half-written by another process.
pub fn write_cache(path: &Path, bytes: &[u8]) -> Result<()> {
    let directory = path.parent().expect("an absolute file path has a parent");
    fs_err::create_dir_all(directory).map_err(io_error(directory))?;
    let dir = Root::open(directory)?;
    let name = path.file_name().expect("a file path has a file name").to_string_lossy();
    let (temp, file) = write_temp_unsynced(&dir.fd, path, bytes, None)?;
    drop(file);
    if let Err(error) = rustix::fs::renameat(&dir.fd, temp.as_str(), &dir.fd, name.as_ref()) {
        let _ = rustix::fs::unlinkat(&dir.fd, temp.as_str(), AtFlags::empty());
        return Err(io_error(path)(error.into()));
    }
    Ok(())
}

/// Creates a new file at `path` in a private directory, never replacing one: a backup. Returns
/// the path used: `path`, or `path` with `-1`, `-2`… before the extension when taken.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<PathBuf> {
    let directory = path.parent().expect("an absolute file path has a parent");
    fs_err::create_dir_all(directory).map_err(io_error(directory))?;
    let file_name = path.file_name().expect("a file path has a file name").to_string_lossy().into_owned();
    let (stem, extension) = match file_name.split_once('.') {
        Some((stem, extension)) => (stem.to_owned(), format!(".{extension}")),
        None => (file_name.clone(), String::new()),
    };
    for counter in 0u32.. {
        let candidate =
            if counter == 0 { path.to_path_buf() } else { directory.join(format!("{stem}-{counter}{extension}")) };
        match File::options().write(true).create_new(true).open(&candidate) {
            Ok(mut file) => {
                file.write_all(bytes).and_then(|()| file.sync_all()).map_err(io_error(&candidate))?;
                return Ok(candidate);
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(io_error(&candidate)(error)),
        }
    }
    unreachable!("u32 counters run out only after four billion backups of one file in one second")
}

/// Reads `path`, or `None` when it does not exist: bounded, and only a regular file (a symlink
/// is followed only to a regular file, so a link to `/dev/zero` or a FIFO is refused). For files
/// a user may keep as symlinks into a dotfiles repository: the manifest, lockfile and configs.
pub fn read_optional(path: &Path, limit: u64) -> Result<Option<Vec<u8>>> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let opened = File::options().read(true).custom_flags((OFlags::NONBLOCK | OFlags::NOCTTY).bits() as i32).open(path);
    let file = match opened {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(io_error(path)(error)),
    };
    let metadata = file.metadata().map_err(io_error(path))?;
    if !metadata.is_file() {
        return Err(WorkspaceError::NotRegular { path: path.to_path_buf() });
    }
    if metadata.len() > limit {
        return Err(WorkspaceError::TooLarge { path: path.to_path_buf(), limit });
    }
    read_bounded(file, metadata.len(), path, limit).map(Some)
}

/// The checksum of the regular file at `path`, or `None` when there is none (missing, or not a
/// regular file, or larger than anything this tool writes).
pub fn hash_file(path: &Path) -> Result<Option<Sha256>> {
    match read_optional(path, MAX_MANAGED_FILE_LEN) {
        Ok(bytes) => Ok(bytes.map(|b| Sha256::of(&b))),
        Err(WorkspaceError::NotRegular { .. } | WorkspaceError::TooLarge { .. }) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Removes `path` in a private directory if it exists; returns whether it did.
pub fn remove_optional(path: &Path) -> Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(io_error(path)(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> RelativePath {
        RelativePath::parse(text).unwrap()
    }

    #[test]
    fn refuses_a_symlinked_directory_on_the_way() {
        let temp = tempfile::tempdir().unwrap();
        let outside = temp.path().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        let root_dir = temp.path().join("project");
        std::fs::create_dir_all(root_dir.join(".cursor")).unwrap();
        std::os::unix::fs::symlink(&outside, root_dir.join(".cursor/agents")).unwrap();
        let root = Root::open(&root_dir).unwrap();
        let error = root.replace(&path(".cursor/agents/a.md"), b"x", Expect::Missing).unwrap_err();
        assert!(matches!(error, WorkspaceError::SymlinkedPath { .. }), "{error}");
        assert!(std::fs::read_dir(&outside).unwrap().next().is_none(), "nothing written through the link");
        assert!(matches!(root.inspect(&path(".cursor/agents/a.md")), Err(WorkspaceError::SymlinkedPath { .. })));
    }

    #[test]
    fn compare_and_swap_keeps_a_file_that_changed() {
        let temp = tempfile::tempdir().unwrap();
        let root = Root::open(temp.path()).unwrap();
        let target = path("dir/a.md");
        assert_eq!(root.replace(&target, b"one", Expect::Missing).unwrap(), Swap::Done);
        // The plan saw "one"; the user saved "mine" since.
        std::fs::write(temp.path().join("dir/a.md"), b"mine").unwrap();
        assert_eq!(root.replace(&target, b"two", Expect::Bytes(Sha256::of(b"one"))).unwrap(), Swap::Raced);
        assert_eq!(std::fs::read(temp.path().join("dir/a.md")).unwrap(), b"mine");
        assert_eq!(root.replace(&target, b"two", Expect::Missing).unwrap(), Swap::Raced);
        assert_eq!(root.remove(&target, Expect::Bytes(Sha256::of(b"one"))).unwrap(), Swap::Raced);
        assert_eq!(std::fs::read(temp.path().join("dir/a.md")).unwrap(), b"mine");
        assert_eq!(root.replace(&target, b"two", Expect::Bytes(Sha256::of(b"mine"))).unwrap(), Swap::Done);
        assert_eq!(std::fs::read(temp.path().join("dir/a.md")).unwrap(), b"two");
        assert_eq!(root.remove(&target, Expect::Bytes(Sha256::of(b"two"))).unwrap(), Swap::Done);
        assert!(!temp.path().join("dir/a.md").exists());
        let leftovers: Vec<_> = std::fs::read_dir(temp.path().join("dir")).unwrap().collect();
        assert!(leftovers.is_empty(), "no temporary file stays behind: {leftovers:?}");
    }

    #[test]
    fn a_replaced_file_keeps_its_mode_and_reads_are_bounded() {
        use std::os::unix::fs::PermissionsExt as _;
        let temp = tempfile::tempdir().unwrap();
        let root = Root::open(temp.path()).unwrap();
        let target = path("a.md");
        root.replace(&target, b"one", Expect::Missing).unwrap();
        std::fs::set_permissions(temp.path().join("a.md"), std::fs::Permissions::from_mode(0o640)).unwrap();
        root.replace(&target, b"two", Expect::Bytes(Sha256::of(b"one"))).unwrap();
        let mode = std::fs::metadata(temp.path().join("a.md")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        assert!(matches!(root.read(&target, 2), Err(WorkspaceError::TooLarge { .. })));
        std::os::unix::fs::symlink("/dev/zero", temp.path().join("zero")).unwrap();
        assert!(matches!(root.read(&path("zero"), 1 << 20), Err(WorkspaceError::SymlinkedPath { .. })));
        assert_eq!(root.inspect(&path("zero")).unwrap(), OnDisk::Foreign(ForeignKind::Symlink));
    }

    /// Deferred, each changed directory is fsync'd once: the skill's two directories and, since
    /// they were created, the directories holding them; nothing is left pending after the sync.
    #[test]
    fn deferred_directory_syncs_come_once_per_changed_directory() {
        let temp = tempfile::tempdir().unwrap();
        let root = Root::open(temp.path()).unwrap();
        root.defer_directory_syncs();
        for file in ["skills/pdf/SKILL.md", "skills/pdf/scripts/a.sh", "skills/pdf/scripts/b.sh", "skills/pdf/c.md"] {
            assert_eq!(root.replace(&path(file), b"x", Expect::Missing).unwrap(), Swap::Done);
        }
        assert_eq!(root.remove(&path("skills/pdf/c.md"), Expect::Bytes(Sha256::of(b"x"))).unwrap(), Swap::Done);
        let mut pending: Vec<String> =
            root.deferred.borrow().as_ref().unwrap().iter().map(|(key, _)| key.clone()).collect();
        pending.sort();
        assert_eq!(pending, ["", "skills", "skills/pdf", "skills/pdf/scripts"]);
        root.sync_deferred().unwrap();
        assert!(root.deferred.borrow().is_none(), "syncs are no longer deferred");
        // Not deferred: nothing is kept pending.
        root.replace(&path("skills/pdf/d.md"), b"y", Expect::Missing).unwrap();
        assert!(root.deferred.borrow().is_none());
        assert_eq!(std::fs::read(temp.path().join("skills/pdf/scripts/b.sh")).unwrap(), b"x");
    }

    /// Staged files are fsync'd together, committed as by `replace`, and a staged file that is
    /// never committed leaves no temporary file behind.
    #[test]
    fn staged_files_sync_together_and_none_is_left_behind() {
        use std::os::unix::fs::PermissionsExt as _;
        let temp = tempfile::tempdir().unwrap();
        let root = Root::open(temp.path()).unwrap();
        let mut a = root.stage(&path("d/a.md"), b"a", None).unwrap();
        let mut b = root.stage(&path("d/b.sh"), b"b", Some(agents_format::FileMode::Executable)).unwrap();
        let c = root.stage(&path("d/c.md"), b"c", None).unwrap();
        assert!(!a.synced && !b.synced);
        let errors = sync_staged(&mut [&mut a, &mut b]);
        assert!(errors.iter().all(Option::is_none), "{errors:?}");
        assert!(a.synced && b.synced && !c.synced);
        assert_eq!(root.commit(a, b"a", Expect::Missing).unwrap().0, Swap::Done);
        assert_eq!(root.commit(b, b"b", Expect::Missing).unwrap().0, Swap::Done);
        drop(c);
        let mut names: Vec<String> = std::fs::read_dir(temp.path().join("d"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["a.md", "b.sh"]);
        assert_eq!(std::fs::read(temp.path().join("d/b.sh")).unwrap(), b"b");
        let mode = std::fs::metadata(temp.path().join("d/b.sh")).unwrap().permissions().mode();
        assert_ne!(mode & 0o100, 0, "the run bit is kept: {mode:o}");
        // A commit over a file that changed since the plan keeps the change.
        let d = root.stage(&path("d/a.md"), b"new", None).unwrap();
        std::fs::write(temp.path().join("d/a.md"), b"saved").unwrap();
        assert_eq!(root.commit(d, b"new", Expect::Bytes(Sha256::of(b"a"))).unwrap(), (Swap::Raced, None));
        assert_eq!(std::fs::read(temp.path().join("d/a.md")).unwrap(), b"saved");
    }

    /// Enough staged files to be flushed by file system are all marked durable, and commit.
    #[test]
    fn many_staged_files_are_made_durable_together() {
        let temp = tempfile::tempdir().unwrap();
        let root = Root::open(temp.path()).unwrap();
        let names: Vec<RelativePath> = (0..SYNCFS_FROM * 2).map(|i| path(&format!("d/{i}.md"))).collect();
        let mut staged: Vec<Staged> = names.iter().map(|name| root.stage(name, b"x", None).unwrap()).collect();
        let errors = sync_staged(&mut staged.iter_mut().collect::<Vec<_>>());
        assert!(errors.iter().all(Option::is_none), "{errors:?}");
        assert!(staged.iter().all(|s| s.synced));
        for staged in staged {
            assert_eq!(root.commit(staged, b"x", Expect::Missing).unwrap().0, Swap::Done);
        }
        assert_eq!(std::fs::read_dir(temp.path().join("d")).unwrap().count(), SYNCFS_FROM * 2);
    }

    /// `syncfs` is trusted only where it reports write-back errors, and only while little else
    /// is dirty.
    #[test]
    fn syncfs_is_used_only_on_kernels_that_report_its_errors() {
        assert!(kernel_at_least("6.1.0-18-amd64", (5, 8)));
        assert!(kernel_at_least("5.8.0", (5, 8)));
        assert!(kernel_at_least("5.15.167.4-microsoft-standard-WSL2", (5, 8)));
        assert!(!kernel_at_least("5.7.19", (5, 8)));
        assert!(!kernel_at_least("4.19.0-27-amd64", (5, 8)));
        assert!(!kernel_at_least("garbage", (5, 8)));
        let meminfo = "MemTotal:       24000000 kB\nDirty:              1200 kB\nWriteback:            34 kB\n";
        assert_eq!(meminfo_dirty_kib(meminfo), Some(1234));
        assert_eq!(meminfo_dirty_kib("MemTotal: 1 kB\n"), None);
    }

    /// A file written through `Root` is known by its fingerprint until anything changes it: a
    /// write of the same length at once after (on a kernel with coarse timestamps, within the
    /// same clock tick: the time set back is what tells it apart there), another file renamed
    /// over it with the same time.
    #[test]
    fn a_fingerprint_vouches_for_the_bytes_until_the_file_changes() {
        let temp = tempfile::tempdir().unwrap();
        let root = Root::open(temp.path()).unwrap();
        let target = path("d/a.md");
        let staged = root.stage(&target, b"ours", None).unwrap();
        let (swap, stat) = root.commit(staged, b"ours", Expect::Missing).unwrap();
        assert_eq!(swap, Swap::Done);
        let Some(stat) = stat else {
            eprintln!("note: skipped: this file system does not keep exact modification times");
            return;
        };
        let recorded = Sha256::of(b"the recorded bytes, to tell a trusted answer from a read one");
        let trusted = root.inspect_known(&target, Some((stat, recorded))).unwrap();
        assert_eq!(trusted.sha256(), Some(recorded), "a matching fingerprint is trusted without reading");
        // The same length written in place at once: its time is the current one, not ours.
        std::fs::write(temp.path().join("d/a.md"), b"mine").unwrap();
        let read = root.inspect_known(&target, Some((stat, recorded))).unwrap();
        assert_eq!(read.sha256(), Some(Sha256::of(b"mine")));
        // Another file renamed over it, with our time copied: another inode.
        std::fs::write(temp.path().join("d/b.md"), b"ours").unwrap();
        let times = std::fs::FileTimes::new()
            .set_modified(std::time::UNIX_EPOCH + std::time::Duration::new(stat.mtime.0 as u64, stat.mtime.1));
        std::fs::File::options().write(true).open(temp.path().join("d/b.md")).unwrap().set_times(times).unwrap();
        std::fs::rename(temp.path().join("d/b.md"), temp.path().join("d/a.md")).unwrap();
        let read = root.inspect_known(&target, Some((stat, recorded))).unwrap();
        assert_eq!(read.sha256(), Some(Sha256::of(b"ours")));
    }

    #[test]
    fn new_private_files_never_collide() {
        let temp = tempfile::tempdir().unwrap();
        let first = write_new(&temp.path().join("a.md-1.bak"), b"1").unwrap();
        let second = write_new(&temp.path().join("a.md-1.bak"), b"2").unwrap();
        assert_ne!(first, second);
        assert_eq!(std::fs::read(first).unwrap(), b"1");
        assert_eq!(std::fs::read(second).unwrap(), b"2");
    }
}
