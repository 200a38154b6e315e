//! File watching with notify. Events are hints, not facts: they only say which workspaces to
//! reconcile. Directories are watched non-recursively (a project root, its `.claude`, its agents
//! directory), so a large project tree costs nothing; a directory that appears later is picked
//! up on the next pass, which also scans it.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use agents_format::{AgentName, Target};
use agents_workspace::{LOCKFILE_FILE, MANIFEST_FILE, Workspace};
use notify::Watcher as _;

pub(crate) struct Watcher {
    inner: notify::RecommendedWatcher,
    /// Watched directory → its inode when the watch was added. A directory deleted and created
    /// again (by `rm -rf .claude`, then by our own restore) is a new inode whose old watch died.
    watched: BTreeMap<PathBuf, u64>,
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

    /// Watches every existing directory `workspaces` need and forgets the rest.
    pub(crate) fn sync(&mut self, workspaces: &[Workspace]) {
        let wanted: BTreeMap<PathBuf, u64> = workspaces
            .iter()
            .flat_map(directories)
            .filter_map(|dir| std::fs::metadata(&dir).ok().filter(|m| m.is_dir()).map(|m| (dir, m.ino())))
            .collect();
        let stale: Vec<PathBuf> = self
            .watched
            .iter()
            .filter(|(dir, inode)| wanted.get(*dir) != Some(inode))
            .map(|(dir, _)| dir.clone())
            .collect();
        for dir in stale {
            let _ = self.inner.unwatch(&dir);
            self.watched.remove(&dir);
        }
        for (dir, inode) in wanted {
            if self.watched.contains_key(&dir) {
                continue;
            }
            match self.inner.watch(&dir, notify::RecursiveMode::NonRecursive) {
                Ok(()) => {
                    tracing::debug!(dir = %dir.display(), "watching");
                    self.watched.insert(dir, inode);
                }
                Err(error) => tracing::warn!(dir = %dir.display(), "cannot watch: {error}"),
            }
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
        .filter_map(|t| workspace.resolve(&workspace.target_relative(*t, &probe)).parent().map(Path::to_path_buf))
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
