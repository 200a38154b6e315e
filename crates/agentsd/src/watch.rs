//! File watching with notify. Events are hints, not facts: they only say which workspaces to
//! reconcile. Directories are watched non-recursively (a project root, its `.claude`, its agents
//! directory), so a large project tree costs nothing; a directory that appears later is picked
//! up on the next pass, which also scans it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use agents_workspace::{LOCKFILE_FILE, MANIFEST_FILE, Workspace};
use notify::Watcher as _;

pub(crate) struct Watcher {
    inner: notify::RecommendedWatcher,
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
        let wanted: BTreeSet<PathBuf> = workspaces.iter().flat_map(directories).filter(|dir| dir.is_dir()).collect();
        for gone in self.watched.difference(&wanted).cloned().collect::<Vec<_>>() {
            let _ = self.inner.unwatch(&gone);
            self.watched.remove(&gone);
        }
        for dir in wanted {
            if self.watched.contains(&dir) {
                continue;
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
}

/// The directories whose changes matter to `workspace`.
fn directories(workspace: &Workspace) -> Vec<PathBuf> {
    let claude = workspace.agents_dir.parent().map(Path::to_path_buf);
    let mut dirs = vec![workspace.root.clone(), workspace.agents_dir.clone()];
    dirs.extend(claude);
    dirs
}

/// Whether a change at `path` can matter to `workspace`: its manifest or lockfile, its agents
/// directory or the directory holding it, or a Markdown file in its agents directory (not the
/// hidden temporary files atomic writes go through).
pub(crate) fn is_relevant(workspace: &Workspace, path: &Path) -> bool {
    let Some(parent) = path.parent() else { return false };
    if parent == workspace.root {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        return name == MANIFEST_FILE || name == LOCKFILE_FILE || name == ".claude";
    }
    if Some(parent) == workspace.agents_dir.parent() {
        return Some(path) == Some(workspace.agents_dir.as_path());
    }
    if parent == workspace.agents_dir {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        return name.ends_with(".md") && !name.starts_with('.');
    }
    false
}
