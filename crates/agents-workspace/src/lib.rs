//! The local side of agents: a workspace's manifest, lockfile and managed files.
//!
//! A short tour:
//! - [`Workspace`] says where things live for one scope (project or user) and [`Dirs`] where the
//!   per-user cache, state and config are. It reads the manifest and lockfile and holds the
//!   workspace lock that CLIs and the daemon share. [`Placement`] says where every file of every
//!   package goes for every tool.
//! - [`Registries`] lists the registries a workspace can see, in search order, and opens them.
//! - The model (`model.rs`): what a workspace should hold, every managed path of every package
//!   for every target with its wanted bytes, and the evidence for each path (what this tool last
//!   wrote, the merge base, what is on disk). Every verb is a view or a plan over the two.
//! - [`install`] (and [`update`]), [`uninstall`] and [`reconcile`] (`agents sync`, the daemon's
//!   work) resolve, then run one change: the model, a plan through one rule, [`decide`], and an
//!   apply through [`fs::Root`]'s compare-and-swap. Each returns a [`Report`] naming every file.
//! - [`status`] is `list` and `verify`; [`resolve_conflict`] and [`diff_input`] settle and show
//!   an update kept aside; [`outdated`] and [`auto_update`] look for and move pins.

mod change;
mod config_edit;
pub mod config_entries;
mod conflicts;
pub mod consent;
pub mod control;
mod daemon_config;
mod engine;
mod error;
pub mod fs;
mod gate;
mod graph;
mod install;
mod lease;
mod model;
mod placement;
mod plugins;
mod reconcile;
mod registries;
mod report;
mod resolve;
mod settings;
pub mod signatures;
pub mod solve;
mod state;
mod status;
mod tree;
mod uninstall;
mod update;
mod workspace;

pub use conflicts::{
    DiffInput, Draft, Resolution, Resolved, conflict_drafts, diff_input, has_conflict_markers, resolve_conflict,
};
pub use daemon_config::{WATCH_LIST_VERSION, WatchList};
pub use engine::{Blocker, Decision, decide};
pub use error::{Result, WorkspaceError};
pub use install::{InstallOptions, install};
pub use model::package_watch_dirs;
pub use placement::{Placement, ToolHomes, plugin_marketplace_name};
pub use reconcile::{reconcile, sync, sync_allowing};
pub use registries::{Origin, Registries, RegistryEntry, is_name_clash};
pub use report::{
    BundleChange, ConflictReport, FileAction, FileChange, Kept, Loss, MissingPin, PackageChange, Report, Shown,
};
pub use resolve::{InstallRequest, Unlock};
pub use settings::{Environment, GIT_FETCH_WITH_CLI_VARIABLE, PROXY_VARIABLES, Settings};
pub use state::{Conflict, STATE_VERSION, WorkspaceState, Written};
pub use status::{ConflictStatus, FileStatus, PackageStatus, Status, status};
pub use tree::{TreeNode, dependency_tree, dependents_tree, unneeded};
pub use uninstall::uninstall;
pub use update::{Outdated, auto_update, outdated, update};
pub use workspace::{
    Dirs, Discovered, LOCKFILE_FILE, MANIFEST_FILE, Scope, USER_CONFIG_FILE, Workspace, WorkspaceLock,
};
