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
//! [`Watcher::audit`] re-adds every watch now and then (inotify hands back the live watch of
//! the directory at the path, or a new one), in case an event was lost.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use agents_format::{AgentName, Target};
use agents_workspace::{LOCKFILE_FILE, MANIFEST_FILE, Workspace};
use notify::Watcher as _;

pub(crate) struct Watcher {
    inner: notify::RecommendedWatcher,
    /// Directories watched, as far as the watcher's own events tell.
    watched: BTreeSet<PathBuf>,
}

impl Watcher {
    pub(crate) fn new(
        sender: tokio::sync::mpsc::UnboundedSender<notify::Result<notify::Event>>,
    ) -> notify::Result<Watcher> {
        let inner = notify::recommended_watcher(move |event| {
            // The receiver is gone only while the daemon shuts down.
            let _ = sender.send(event);
        })?;
        Ok(Watcher { inner, watched: BTreeSet::new() })
    }

    /// Watches every existing directory `workspaces` need and forgets the rest.
    pub(crate) fn sync(&mut self, workspaces: &[Workspace]) {
        let wanted: BTreeSet<PathBuf> = workspaces.iter().flat_map(directories).collect();
        let stale: Vec<PathBuf> = self.watched.difference(&wanted).cloned().collect();
        for dir in stale {
            let _ = self.inner.unwatch(&dir);
            self.watched.remove(&dir);
        }
        for dir in wanted {
            if !self.watched.contains(&dir) {
                self.add(dir);
            }
        }
    }

    /// Re-adds every watch `workspaces` need, known or not. For a directory still watched this
    /// is a no-op in the kernel; for one replaced behind our back it is a new, live watch.
    /// Returns how many directories are watched.
    pub(crate) fn audit(&mut self, workspaces: &[Workspace]) -> usize {
        self.watched.clear();
        self.sync(workspaces);
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
            let dead: Vec<PathBuf> = self.watched.iter().filter(|dir| dir.starts_with(path)).cloned().collect();
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
        if !std::fs::metadata(&dir).is_ok_and(|m| m.is_dir()) {
            return;
        }
        match self.inner.watch(&dir, notify::RecursiveMode::NonRecursive) {
            Ok(()) => {
                tracing::debug!(dir = %dir.display(), "watching");
                self.watched.insert(dir);
            }
            Err(error) => tracing::warn!(dir = %dir.display(), "cannot watch: {error}"),
        }
    }
}

/// The directories whose changes matter to `workspace`, including where other tools' converted
/// files go (only those that exist get watched).
fn directories(workspace: &Workspace) -> Vec<PathBuf> {
    let claude = workspace.agents_dir.parent().map(Path::to_path_buf);
    let mut dirs = vec![workspace.root.clone(), workspace.agents_dir.clone()];
    dirs.extend(claude);
    dirs.extend(target_dirs(workspace));
    // Skills and commands: every directory down to each pinned file's.
    dirs.extend(agents_workspace::package_watch_dirs(workspace));
    dirs
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
/// Whether a change at `path` can matter to `workspace`: its manifest or lockfile, its agents
/// directory or the directory holding it, or a Markdown file in its agents directory (not the
/// hidden temporary files atomic writes go through).
pub(crate) fn is_relevant(workspace: &Workspace, path: &Path) -> bool {
    let Some(parent) = path.parent() else { return false };
    let packages = agents_workspace::package_watch_dirs(workspace);
    if packages.iter().any(|dir| dir == path) {
        return true;
    }
    if packages.iter().any(|dir| dir == parent) {
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
    if target_dirs(workspace).iter().any(|dir| dir == parent) {
        return (name.ends_with(".md") || name.ends_with(".toml")) && !name.starts_with('.');
    }
    false
}
