//! `install` (and `update`, which unlocks names): resolve the packages the workspace should hold
//! against the registries, without the workspace lock; then, under it, one change
//! ([`crate::change`]) brings every file of every package, for every target of the project, to
//! what the new lockfile pins, merging or keeping the user's edits.

use agents_format::Target;

use crate::change::{self, Change};
use crate::error::{Result, WorkspaceError};
use crate::registries::Registries;
use crate::report::Report;
use crate::resolve::{self, Inputs, InstallRequest, Policy, Unlock};
use crate::workspace::Workspace;

#[derive(Debug, Clone, Default)]
pub struct InstallOptions {
    /// Overwrite local edits of the command's packages (after backing them up in the state
    /// directory).
    pub force: bool,
    /// Fail instead of changing `agents.lock`.
    pub locked: bool,
    /// Take new packages from this registry.
    pub registry: Option<String>,
    /// Seconds since the epoch, for naming backups.
    pub now: i64,
    /// Re-resolve these packages within the manifest's requirements instead of keeping their
    /// locked versions (`agents update`).
    pub unlock: Unlock,
    /// Refuse files with hidden Unicode instead of warning.
    pub deny_hidden_unicode: bool,
    /// Tools to install for besides Claude Code (added to the manifest's `targets`).
    pub targets: Vec<Target>,
    /// Plan only: print what would change, change nothing.
    pub dry_run: bool,
    /// Executable content to approve and install (`--allow-exec NAME…`: an MCP server's name,
    /// `mcp:NAME`, or a package name).
    pub allow_exec: Vec<String>,
}

/// Installs `requests`, or everything the manifest and lockfile name when `requests` is empty.
///
/// Resolve talks to registries without holding the workspace lock; the lock is then taken and
/// the manifest and lockfile read again: if another command changed them meanwhile, resolution
/// starts over.
pub fn install(
    workspace: &Workspace,
    registries: &mut Registries,
    requests: &[InstallRequest],
    options: &InstallOptions,
) -> Result<Report> {
    let policy = Policy {
        requests,
        registry: options.registry.as_deref(),
        unlock: &options.unlock,
        locked: options.locked,
        deny_hidden_unicode: options.deny_hidden_unicode,
        targets: &options.targets,
    };
    for _attempt in 0..3 {
        let inputs = Inputs::read(workspace)?;
        let resolution = resolve::resolve(workspace, registries, &inputs, &policy)?;
        // A dry run changes nothing, so it needs no lock.
        let _lock = if options.dry_run { None } else { Some(workspace.lock()?) };
        if !Inputs::read(workspace)?.same_as(&inputs) {
            continue;
        }
        let change = Change {
            inputs: &inputs,
            packages: resolution.packages,
            tools: resolution.tools,
            manifest: Some(resolution.manifest),
            removing: resolution.removing,
            force: options.force,
            locked: options.locked,
            dry_run: options.dry_run,
            strict: true,
            notify: true,
            deny_hidden_unicode: options.deny_hidden_unicode,
            now: options.now,
            warnings: resolution.warnings,
            roots: resolution.roots,
            allow_exec: options.allow_exec.clone(),
            package_entries: Default::default(),
        };
        return change::run(workspace, registries, change);
    }
    Err(WorkspaceError::ChangedMeanwhile { path: workspace.lockfile_path() })
}
