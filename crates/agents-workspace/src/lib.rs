//! The local side of agents: a workspace's manifest, lockfile and agent files.
//!
//! A short tour:
//! - [`Workspace`] says where things live for one scope (project or user) and [`Dirs`] where the
//!   per-user cache, state and config are. It reads the manifest and lockfile and holds the
//!   workspace lock that CLIs and the daemon share.
//! - [`Registries`] lists the registries a workspace can see, in search order, and opens them.
//! - [`install`] resolves, plans and applies; [`uninstall`] removes; [`status`] compares what is
//!   on disk with what is locked; [`update`] and [`outdated`] look for newer versions. Every write goes through [`fs::write_atomic`].

mod error;
pub mod fs;
mod install;
mod registries;
mod status;
mod update;
mod workspace;

pub use error::{Result, WorkspaceError};
pub use install::{
    Action, InstallOptions, InstallReport, InstallRequest, Installed, Uninstalled, Unlock, install, uninstall,
};
pub use registries::{Origin, Registries, RegistryEntry};
pub use status::{AgentStatus, Status, status};
pub use update::{Outdated, outdated, update};
pub use workspace::{Dirs, LOCKFILE_FILE, MANIFEST_FILE, Scope, USER_CONFIG_FILE, Workspace, WorkspaceLock};
