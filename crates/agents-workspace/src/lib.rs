//! The local side of agents: a workspace's manifest, lockfile and agent files.
//!
//! A short tour:
//! - [`Workspace`] says where things live for one scope (project or user) and [`Dirs`] where the
//!   per-user cache, state and config are. It reads the manifest and lockfile and holds the
//!   workspace lock that CLIs and the daemon share.
//! - [`Registries`] lists the registries a workspace can see, in search order, and opens them.
//! - [`install`] resolves, plans and applies; [`uninstall`] removes; [`status`] compares what is
//!   on disk with what is locked; [`update`] and [`outdated`] look for newer versions;
//!   [`reconcile`] brings files to the lockfile without losing edits (the daemon's work);
//!   [`resolve_conflict`] settles an update kept aside. Each plans every managed file through
//!   one rule, [`decide`], and applies the plan through [`fs::Root`]'s compare-and-swap.

pub mod control;
mod daemon_config;
mod engine;
mod error;
pub mod fs;
mod gate;
mod install;
mod packages;
mod reconcile;
mod registries;
mod resolve;
mod settings;
pub mod signatures;
mod state;
mod status;
mod targets;
mod uninstall;
mod update;
mod workspace;

pub use daemon_config::{WATCH_LIST_VERSION, WatchList};
pub use engine::{Blocker, Decision, decide};
pub use error::{Result, WorkspaceError};
pub use install::{Action, InstallOptions, InstallReport, InstallRequest, Installed, Loss, Unlock, install};
pub use packages::package_watch_dirs;
pub use reconcile::{Change, ConflictReport, DiffInput, Drift, MissingPin, ReconcileReport, diff_input, reconcile};
pub use registries::{Origin, Registries, RegistryEntry, is_name_clash};
pub use resolve::{Resolution, Resolved, resolve_conflict};
pub use settings::{Environment, GIT_FETCH_WITH_CLI_VARIABLE, Settings};
pub use state::{Conflict, STATE_VERSION, WorkspaceState, Written};
pub use status::{AgentStatus, FileStatus, Status, status};
pub use targets::ToolHomes;
pub use uninstall::{Uninstalled, uninstall};
pub use update::{Outdated, auto_update, outdated, update};
pub use workspace::{
    Dirs, Discovered, LOCKFILE_FILE, MANIFEST_FILE, Scope, USER_CONFIG_FILE, Workspace, WorkspaceLock,
};
