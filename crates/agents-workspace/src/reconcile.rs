//! Reconciliation: bring a workspace's files to what its lockfile pins, for every target its
//! manifest names, without ever losing a local edit. The daemon runs this after every change it
//! notices; it is also what `agents sync` does once.
//!
//! It is the same change as an install that keeps every pin ([`crate::change`]), never forced and
//! never stopping: a file is written only when it is missing or still holds bytes this tool put
//! there; an edit under a pin that moved is merged (a conflict is kept aside); a package whose
//! pinned version cannot be read now (a registry not fetched yet) is reported and left as it is.
//! When the manifest's targets changed, every package is placed for them and the lockfile's file
//! entries follow, as `agents install` would write them.

use crate::change::{self, Change};
use crate::error::Result;
use crate::model::Package;
use crate::registries::Registries;
use crate::report::Report;
use crate::resolve::Inputs;
use crate::workspace::Workspace;

/// Reconciles `workspace` once, under the workspace lock.
pub fn reconcile(workspace: &Workspace, registries: &mut Registries) -> Result<Report> {
    sync(workspace, registries, false)
}

/// [`reconcile`], or with `dry_run` the plan of it (no lock taken, nothing changed).
pub fn sync(workspace: &Workspace, registries: &mut Registries, dry_run: bool) -> Result<Report> {
    sync_allowing(workspace, registries, dry_run, &[])
}

/// [`sync`], approving the executable content `allow_exec` names (`agents sync --allow-exec`);
/// [`sync`] and the daemon approve nothing.
pub fn sync_allowing(
    workspace: &Workspace,
    registries: &mut Registries,
    dry_run: bool,
    allow_exec: &[String],
) -> Result<Report> {
    if !workspace.lockfile_path().exists() {
        return Ok(Report { dry_run, ..Report::default() });
    }
    // Whatever a registry must fetch for the pins whose files are not as pinned (a registry not
    // cloned yet, a version the cache lacks) is fetched before the lock is taken, so the change
    // under it reads only the cache. Offline, everything is read from the cache anyway.
    let deny = workspace
        .read_user_config()
        .is_ok_and(|(_, c)| c.security.hidden_unicode == Some(agents_format::HiddenUnicodePolicy::Deny));
    if registries.mode() != agents_registry::FetchMode::Offline && !dry_run {
        let inputs = Inputs::read(workspace)?;
        let _ = change::run(workspace, registries, change(&inputs, true, deny, allow_exec));
    }
    let _lock = if dry_run { None } else { Some(workspace.lock()?) };
    let inputs = Inputs::read(workspace)?;
    change::run(workspace, registries, change(&inputs, dry_run, deny, allow_exec))
}

/// The change a sync makes: every locked package kept at its pin, for the manifest's targets.
fn change<'a>(inputs: &'a Inputs, dry_run: bool, deny: bool, allow_exec: &[String]) -> Change<'a> {
    Change {
        inputs,
        packages: inputs.lockfile.agents().iter().map(|pin| Package::pinned(pin, false)).collect(),
        tools: inputs.manifest.targets.clone(),
        manifest: None,
        removing: Vec::new(),
        force: false,
        locked: false,
        dry_run,
        strict: false,
        notify: false,
        deny_hidden_unicode: deny,
        now: 0,
        warnings: Vec::new(),
        roots: Default::default(),
        allow_exec: allow_exec.to_vec(),
        package_entries: Default::default(),
    }
}
