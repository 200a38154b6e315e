//! File watching with notify. Events are hints, not facts: they only say which workspaces to
//! reconcile. Directories are watched non-recursively (a project root, its `.claude`, its agents
//! directory), so a large project tree costs nothing; a directory that appears later is picked
//! up on the next pass, which also scans it.
//!
//! A watch follows an inode, not a path: once the directory at a watched path is deleted or
//! moved (`rm -rf .claude`, `git clean`, a branch switch), the watch is dead even when a new
//! directory appears at the same path, often with the very same inode number. So the watcher
//! never asks "is this the same directory?"; it listens to its own events instead. An event
//! that removes, creates or renames a watched directory or one of its ancestors forgets every
//! watch at or below that path, and the next [`Watcher::sync`] watches whatever is there now.
//! [`Watcher::audit`] looks at every watched directory now and then, in case an event was lost:
//! one `statx` each, and a new watch only where the directory at the path is not the one watched
//! (another device, inode or birth time: a recreated directory often reuses the inode number,
//! never the birth time).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use agents_format::{AgentName, Target};
use agents_workspace::{LOCKFILE_FILE, MANIFEST_FILE, Workspace};
use notify::Watcher as _;

pub(crate) struct Watcher {
    inner: notify::RecommendedWatcher,
    /// Directories watched, as far as the watcher's own events tell, with what the directory
    /// at the path was when its watch was added.
    watched: BTreeMap<PathBuf, DirKey>,
}

/// What tells a directory apart from another at the same path: its device, inode and birth time
/// (`None` where the filesystem keeps none: then it is never taken for the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DirKey(u64, u64, Option<std::time::SystemTime>);

impl DirKey {
    fn of(dir: &Path) -> Option<DirKey> {
        use std::os::unix::fs::MetadataExt as _;
        let metadata = std::fs::metadata(dir).ok().filter(std::fs::Metadata::is_dir)?;
        Some(DirKey(metadata.dev(), metadata.ino(), metadata.created().ok()))
    }

    fn same(self, other: Option<DirKey>) -> bool {
        self.2.is_some() && Some(self) == other
    }
}

impl Watcher {
    pub(crate) fn new(
        sender: tokio::sync::mpsc::UnboundedSender<notify::Result<notify::Event>>,
    ) -> notify::Result<Watcher> {
        let inner = notify::recommended_watcher(move |event| {
            // The receiver is gone only while the daemon shuts down.
            let _ = sender.send(event);
        })?;
        Ok(Watcher { inner, watched: BTreeMap::new() })
    }

    /// Watches every existing directory the workspaces need and forgets the rest.
    pub(crate) fn sync(&mut self, routes: &Routes) {
        let stale: Vec<PathBuf> = self.watched.keys().filter(|dir| !routes.needs(dir)).cloned().collect();
        for dir in stale {
            let _ = self.inner.unwatch(&dir);
            self.watched.remove(&dir);
        }
        let missing: Vec<PathBuf> = routes.wanted().filter(|dir| !self.watched.contains_key(*dir)).cloned().collect();
        for dir in missing {
            self.add(dir);
        }
    }

    /// Checks every watch the workspaces need: a directory replaced behind our back (or gone)
    /// loses its watch, and whatever is at the path now is watched. Returns the directories
    /// watched anew, whose workspaces may have missed events.
    pub(crate) fn audit(&mut self, routes: &Routes) -> Vec<PathBuf> {
        let replaced: Vec<PathBuf> =
            self.watched.iter().filter(|(dir, key)| !key.same(DirKey::of(dir))).map(|(dir, _)| dir.clone()).collect();
        for dir in &replaced {
            let _ = self.inner.unwatch(dir);
            self.watched.remove(dir);
        }
        let before: BTreeSet<PathBuf> = self.watched.keys().cloned().collect();
        self.sync(routes);
        self.watched.keys().filter(|dir| !before.contains(*dir)).cloned().collect()
    }

    /// How many directories are watched.
    pub(crate) fn len(&self) -> usize {
        self.watched.len()
    }

    /// Forgets the watches an event shows are dead or about to be: those at or below a path
    /// the event removes, creates or renames. Returns whether any was forgotten (then call
    /// [`Watcher::sync`]). A rescan flag forgets them all.
    pub(crate) fn note(&mut self, event: &notify::Event) -> bool {
        use notify::EventKind;
        use notify::event::ModifyKind;
        if event.need_rescan() {
            let had = !self.watched.is_empty();
            self.watched.clear();
            return had;
        }
        let structural = matches!(
            event.kind,
            EventKind::Remove(_) | EventKind::Create(_) | EventKind::Modify(ModifyKind::Name(_)) | EventKind::Other
        );
        if !structural {
            return false;
        }
        let mut forgot = false;
        for path in &event.paths {
            // Paths order component by component: those at or below `path` follow it at once.
            let dead: Vec<PathBuf> = self
                .watched
                .range(path.clone()..)
                .map(|(dir, _)| dir)
                .take_while(|dir| dir.starts_with(path))
                .cloned()
                .collect();
            for dir in dead {
                tracing::debug!(dir = %dir.display(), "watch lost; re-establishing");
                // notify already dropped a deleted directory's watch; a moved one's it keeps.
                let _ = self.inner.unwatch(&dir);
                self.watched.remove(&dir);
                forgot = true;
            }
        }
        forgot
    }

    fn add(&mut self, dir: PathBuf) {
        // The key before the watch: a directory replaced in between differs at the next audit.
        let Some(key) = DirKey::of(&dir) else { return };
        match self.inner.watch(&dir, notify::RecursiveMode::NonRecursive) {
            Ok(()) => {
                tracing::debug!(dir = %dir.display(), "watching");
                self.watched.insert(dir, key);
            }
            Err(error) => tracing::warn!(dir = %dir.display(), "cannot watch: {error}"),
        }
    }
}

/// Each workspace's watched directories and what an event in them means, kept in memory:
/// routing an event is a map lookup, and a lockfile is read again only after it changed (an
/// event on it, or its (size, modification time, inode) differing at a watch audit). An event in
/// one project thus does no work for another, and one in a directory no workspace needs (or of a
/// file no workspace manages) costs its lookup.
#[derive(Default)]
pub(crate) struct Routes {
    entries: Vec<Entry>,
    /// Watched directory → the workspaces (by index) that need it.
    by_dir: HashMap<PathBuf, Vec<usize>>,
    /// Lockfiles read to know the package directories (a status counter).
    pub(crate) lockfile_reads: u64,
}

/// One workspace's routing: where its lockfile is and what it was when last read, and the
/// directories derived from it.
struct Entry {
    workspace: Workspace,
    lockfile: PathBuf,
    /// `None`: read it again before routing (it changed, or was never read).
    key: Option<FileKey>,
    /// Every directory down to each pinned package file's (skills, commands).
    packages: Vec<PathBuf>,
    /// Where other tools' converted files go.
    targets: Vec<PathBuf>,
}

/// What tells a file's version apart without reading it; `None` inside for a missing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileKey(Option<(u64, i64, i64, u64, u64)>);

impl FileKey {
    fn of(path: &Path) -> FileKey {
        use std::os::unix::fs::MetadataExt as _;
        FileKey(std::fs::metadata(path).ok().map(|m| (m.len(), m.mtime(), m.mtime_nsec(), m.ino(), m.dev())))
    }
}

impl Routes {
    /// Routes for `workspaces` (their lockfiles are read at the next [`Routes::refresh`]).
    pub(crate) fn new(workspaces: &[Workspace], lockfile_reads: u64) -> Routes {
        let entries = workspaces
            .iter()
            .map(|workspace| Entry {
                workspace: workspace.clone(),
                lockfile: workspace.lockfile_path(),
                key: None,
                packages: Vec::new(),
                targets: target_dirs(workspace),
            })
            .collect();
        let mut routes = Routes { entries, by_dir: HashMap::new(), lockfile_reads };
        routes.refresh();
        routes
    }

    /// Reads again the lockfiles marked changed. Returns whether any directory set changed.
    pub(crate) fn refresh(&mut self) -> bool {
        let mut changed = false;
        for entry in self.entries.iter_mut().filter(|entry| entry.key.is_none()) {
            // The key before the read: a write during it makes the next check read again.
            entry.key = Some(FileKey::of(&entry.lockfile));
            let packages = agents_workspace::package_watch_dirs(&entry.workspace);
            self.lockfile_reads += 1;
            if packages != entry.packages {
                entry.packages = packages;
                changed = true;
            }
        }
        if changed || self.by_dir.is_empty() {
            self.index();
        }
        changed
    }

    /// Marks changed every lockfile whose (size, modification time, inode) is not the one read,
    /// in case an event on one was lost; then refreshes.
    pub(crate) fn recheck(&mut self) -> bool {
        for entry in &mut self.entries {
            if entry.key.is_some_and(|key| key != FileKey::of(&entry.lockfile)) {
                entry.key = None;
            }
        }
        self.refresh()
    }

    fn index(&mut self) {
        self.by_dir.clear();
        for (index, entry) in self.entries.iter().enumerate() {
            for dir in entry.directories() {
                let workspaces = self.by_dir.entry(dir).or_default();
                if workspaces.last() != Some(&index) {
                    workspaces.push(index);
                }
            }
        }
    }

    /// Every directory some workspace needs watched.
    fn wanted(&self) -> impl Iterator<Item = &PathBuf> {
        self.by_dir.keys()
    }

    fn needs(&self, dir: &Path) -> bool {
        self.by_dir.contains_key(dir)
    }

    /// The workspaces (by index) that need the directory `dir` watched.
    pub(crate) fn needing(&self, dir: &Path) -> impl Iterator<Item = usize> + '_ {
        self.by_dir.get(dir).into_iter().flatten().copied()
    }

    /// Whether `path` is a directory some workspace needs, or one of its ancestors.
    pub(crate) fn holds(&self, path: &Path) -> bool {
        self.by_dir.contains_key(path) || self.by_dir.keys().any(|dir| dir.starts_with(path))
    }

    /// The workspaces (by index) a change at `path` matters to. A change to a lockfile marks it
    /// to be read again at the next [`Routes::refresh`].
    pub(crate) fn route(&mut self, path: &Path, into: &mut BTreeSet<usize>) -> bool {
        let mut any = false;
        let parent = path.parent();
        for dir in [Some(path), parent].into_iter().flatten() {
            let Some(indices) = self.by_dir.get(dir) else { continue };
            for &index in indices {
                let entry = &mut self.entries[index];
                if *path == entry.lockfile {
                    entry.key = None;
                }
                // The project directory itself removed or moved: the pass notices it is gone.
                if *path == entry.workspace.root || entry.is_relevant(path) {
                    // Every relevant event extends the burst, not only the first per workspace:
                    // the debounce is quiet time, not time since the first event.
                    into.insert(index);
                    any = true;
                }
            }
        }
        any
    }
}

impl Entry {
    /// The directories whose changes matter to this workspace, including where other tools'
    /// converted files go (only those that exist get watched).
    fn directories(&self) -> Vec<PathBuf> {
        let workspace = &self.workspace;
        let claude = workspace.agents_dir.parent().map(Path::to_path_buf);
        let mut dirs = vec![workspace.root.clone(), workspace.agents_dir.clone()];
        dirs.extend(claude);
        dirs.extend(self.targets.iter().cloned());
        // Skills and commands: every directory down to each pinned file's.
        dirs.extend(self.packages.iter().cloned());
        dirs
    }

    /// Whether a change at `path` can matter to this workspace: its manifest or lockfile, its
    /// agents directory or the directory holding it, or a Markdown file in its agents directory
    /// (not the hidden temporary files atomic writes go through).
    fn is_relevant(&self, path: &Path) -> bool {
        let workspace = &self.workspace;
        let Some(parent) = path.parent() else { return false };
        if self.packages.iter().any(|dir| dir == path) {
            return true;
        }
        if self.packages.iter().any(|dir| dir == parent) {
            // A package's files, never the hidden temporary files atomic writes go through.
            return !path.file_name().and_then(|n| n.to_str()).unwrap_or_default().starts_with('.');
        }
        if parent == workspace.root {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            return name == MANIFEST_FILE || name == LOCKFILE_FILE || name == ".claude";
        }
        if Some(parent) == workspace.agents_dir.parent() {
            return Some(path) == Some(workspace.agents_dir.as_path());
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if parent == workspace.agents_dir {
            return name.ends_with(".md") && !name.starts_with('.');
        }
        if self.targets.iter().any(|dir| dir == parent) {
            return (name.ends_with(".md") || name.ends_with(".toml")) && !name.starts_with('.');
        }
        false
    }
}

fn target_dirs(workspace: &Workspace) -> Vec<PathBuf> {
    let probe = AgentName::new("probe").expect("a valid name");
    Target::ALL
        .iter()
        .filter(|t| **t != Target::ClaudeCode)
        .filter_map(|t| {
            workspace.resolve(&workspace.placement().target_file(*t, &probe)).parent().map(Path::to_path_buf)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The audit's question, "is the directory at this path the one watched?", must say no for
    /// a directory removed and made again, even when the filesystem hands out the same inode.
    #[test]
    fn a_recreated_directory_is_not_the_one_watched() {
        let base = std::env::temp_dir().join(format!("agentsd-dirkey-{}", std::process::id()));
        let dir = base.join("agents");
        std::fs::create_dir_all(&dir).unwrap();
        let first = DirKey::of(&dir).expect("a directory has a key");
        if first.2.is_none() {
            eprintln!("note: this filesystem keeps no birth time; every audit re-adds its watches");
            assert!(!first.same(DirKey::of(&dir)));
            std::fs::remove_dir_all(&base).unwrap();
            return;
        }
        assert!(first.same(DirKey::of(&dir)), "an untouched directory is the same");
        std::fs::write(dir.join("a.md"), "x").unwrap();
        assert!(first.same(DirKey::of(&dir)), "a change inside does not replace the directory");
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(!first.same(DirKey::of(&dir)), "a removed directory is not the one watched");
        std::fs::create_dir(&dir).unwrap();
        assert!(!first.same(DirKey::of(&dir)), "a directory made again is not the one watched");
        std::fs::remove_dir_all(&base).unwrap();
    }
}
