//! `uninstall`: remove packages from the manifest and lockfile (with the dependencies nothing
//! else needs any more), and every managed file of theirs
//! (each file of each target) that still holds bytes this tool wrote; a file with local edits is
//! kept (with `--force`, saved in the state directory and removed), and the directories they
//! leave empty go.

use agents_format::{AgentName, remove_dependency};

use crate::change::{self, Change};
use crate::error::{Result, WorkspaceError};
use crate::model::Package;
use crate::registries::Registries;
use crate::report::Report;
use crate::resolve::Inputs;
use crate::workspace::Workspace;

/// Removes `names` from the workspace. `dry_run`: plan only.
pub fn uninstall(
    workspace: &Workspace,
    registries: &mut Registries,
    names: &[AgentName],
    force: bool,
    dry_run: bool,
    now: i64,
) -> Result<Report> {
    let _lock = if dry_run { None } else { Some(workspace.lock()?) };
    let inputs = Inputs::read(workspace)?;
    for name in names {
        if !inputs.manifest.agents.contains_key(name) && inputs.lockfile.get(name).is_none() {
            return Err(WorkspaceError::NotInstalled { name: name.clone() });
        }
    }
    let mut manifest = inputs.manifest_text.clone();
    for name in names {
        if let Some(text) = &manifest {
            let (text, _) = remove_dependency(text, name)
                .map_err(|source| WorkspaceError::Manifest { path: workspace.manifest_path(), source })?;
            manifest = Some(text);
        }
    }
    // What goes: the named packages and every dependency nothing else needs; a named package
    // another still requires stays, as a dependency only.
    let (removing, still_required) = crate::tree::unneeded(&inputs.lockfile, names);
    let packages = inputs
        .lockfile
        .agents()
        .iter()
        .filter(|pin| !removing.contains(&pin.name))
        .map(|pin| {
            let mut pin = pin.clone();
            if still_required.contains(&pin.name) {
                pin.requested = false;
            }
            Package { held: true, ..Package::pinned(&pin, false) }
        })
        .collect();
    let change = Change {
        inputs: &inputs,
        packages,
        tools: inputs.manifest.targets.clone(),
        manifest,
        removing,
        force,
        locked: false,
        dry_run,
        strict: false,
        notify: false,
        deny_hidden_unicode: false,
        now,
        warnings: Vec::new(),
        roots: Default::default(),
        allow_exec: Vec::new(),
        package_entries: Default::default(),
    };
    change::run(workspace, registries, change)
}
