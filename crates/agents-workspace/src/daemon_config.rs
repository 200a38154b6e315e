//! What the daemon watches and how it fetches: files in the state directory shared by the CLI
//! (`agents daemon watch`) and the daemon. The user scope is always watched.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::fs;
use crate::workspace::Dirs;

/// The watch-list format version.
pub const WATCH_LIST_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WatchList {
    #[serde(default)]
    pub version: u32,
    /// Project roots (directories holding agents.toml), sorted, absolute.
    #[serde(default)]
    pub workspaces: Vec<PathBuf>,
}

impl Dirs {
    /// The daemon's directory inside the state directory.
    pub fn daemon_dir(&self) -> PathBuf {
        self.state.join("daemon")
    }

    pub fn watch_list_path(&self) -> PathBuf {
        self.daemon_dir().join("workspaces.json")
    }

    pub fn read_watch_list(&self) -> WatchList {
        fs::read_optional(&self.watch_list_path(), fs::MAX_STATE_LEN)
            .ok()
            .flatten()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Adds (`watch = true`) or removes a project root. Returns whether the list changed.
    pub fn set_watched(&self, root: &Path, watch: bool) -> Result<bool> {
        let mut list = self.read_watch_list();
        let before = list.workspaces.clone();
        list.workspaces.retain(|p| p != root);
        if watch {
            list.workspaces.push(root.to_path_buf());
        }
        list.workspaces.sort();
        if list.workspaces == before {
            return Ok(false);
        }
        list.version = WATCH_LIST_VERSION;
        // The daemon acts on this list by itself: keep its directory to this user.
        crate::control::private_dir(&self.daemon_dir())?;
        let mut bytes = serde_json::to_vec_pretty(&list).expect("the watch list always serialises");
        bytes.push(b'\n');
        fs::write_atomic(&self.watch_list_path(), &bytes)?;
        Ok(true)
    }
}
