//! `init`, `install` and `uninstall`.

use agents_format::AgentName;
use agents_registry::FetchMode;
use agents_workspace::{InstallOptions, InstallRequest, Report, Resolution, Unlock};
use anyhow::Context as _;

use super::report::Show;

use crate::cli::{InstallArgs, ResolveArgs, UninstallArgs, UpdateArgs};
use crate::context::{Context, now};
use crate::printer::Printer;

pub(crate) fn init(context: &Context, printer: &Printer) -> anyhow::Result<i32> {
    let workspace = if context.global {
        context.workspace()
    } else {
        agents_workspace::Workspace::project(context.cwd.clone(), context.dirs.clone())
    };
    // The lock every change of a workspace holds: a concurrent install writes agents.toml too.
    let _lock = workspace.lock()?;
    if workspace.init()? {
        printer.status("Created", printer.path(&workspace.manifest_path()));
    } else {
        printer.status("Exists", printer.path(&workspace.manifest_path()));
    }
    Ok(0)
}

/// Parses `NAME` or `NAME@REQUIREMENT`.
pub(crate) fn parse_request(text: &str) -> anyhow::Result<InstallRequest> {
    let (name, requirement) = match text.split_once('@') {
        Some((name, requirement)) => (name, Some(requirement)),
        None => (text, None),
    };
    let name = AgentName::new(name)?;
    let requirement = requirement
        .map(|r| {
            r.parse::<semver::VersionReq>().with_context(|| format!("invalid version requirement `{r}` in `{text}`"))
        })
        .transpose()?;
    Ok(InstallRequest { name, requirement })
}

pub(crate) fn install(context: &Context, printer: &Printer, args: InstallArgs) -> anyhow::Result<i32> {
    let requests = args.agents.iter().map(|a| parse_request(a)).collect::<anyhow::Result<Vec<_>>>()?;
    let workspace = context.workspace_to_change()?;
    let mode = if args.offline || args.frozen {
        FetchMode::Offline
    } else if requests.is_empty() {
        FetchMode::IfMissing
    } else {
        FetchMode::Always
    };
    let mut registries = context.registries(&workspace, mode)?;
    let mut options = InstallOptions {
        force: args.force,
        locked: args.locked || args.frozen,
        registry: args.registry,
        now: now(),
        unlock: Unlock::None,
        deny_hidden_unicode: args.deny_hidden_unicode || context.deny_hidden_unicode()?,
        targets: args.targets.iter().map(|t| agents_format::Target::parse(t)).collect::<Result<_, _>>()?,
        dry_run: args.dry_run,
        allow_exec: super::consent::ask(printer, &workspace, args.allow_exec, args.dry_run || args.json)?,
    };
    let report = loop {
        match agents_workspace::install(&workspace, &mut registries, &requests, &options) {
            Ok(report) => break report,
            Err(error) => match super::consent::ask_for_plugin(printer, &error, args.dry_run || args.json)? {
                Some(name) => options.allow_exec.push(name),
                None => return Err(error.into()),
            },
        }
    };
    finish(printer, &report, args.json, Show { unchanged: true, verbose: context.verbose })?;
    let nothing = report.packages.is_empty() && report.config.is_empty() && report.awaiting_approval.is_empty();
    if nothing && !args.json {
        printer.status("Finished", "nothing to install (agents.toml lists nothing)");
    }
    Ok(0)
}

pub(crate) fn update(context: &Context, printer: &Printer, args: UpdateArgs) -> anyhow::Result<i32> {
    let names = args.agents.iter().map(|a| AgentName::new(a)).collect::<Result<Vec<_>, _>>()?;
    let workspace = context.workspace_to_change()?;
    let mode = if args.offline { FetchMode::Offline } else { FetchMode::Always };
    let mut registries = context.registries(&workspace, mode)?;
    let mut options = InstallOptions {
        force: args.force,
        locked: false,
        registry: None,
        now: now(),
        unlock: Unlock::None,
        deny_hidden_unicode: context.deny_hidden_unicode()?,
        targets: Vec::new(),
        dry_run: args.dry_run,
        allow_exec: super::consent::ask(printer, &workspace, args.allow_exec, args.dry_run || args.json)?,
    };
    let (_, before) = workspace.read_lockfile()?;
    let report = loop {
        match agents_workspace::update(&workspace, &mut registries, &names, options.clone()) {
            Ok(report) => break report,
            Err(error) => match super::consent::ask_for_plugin(printer, &error, args.dry_run || args.json)? {
                Some(name) => options.allow_exec.push(name),
                None => return Err(error.into()),
            },
        }
    };
    finish(printer, &report, args.json, Show { unchanged: false, verbose: context.verbose })?;
    // A pin that moved to a version with the very same bytes changes no file, but it moved.
    let repinned: Vec<_> = report
        .packages
        .iter()
        .filter(|p| !p.removed && p.files.iter().all(|f| !f.action.changes()))
        .filter_map(|p| before.get(&p.name).filter(|locked| locked.version != p.version).map(|locked| (p, locked)))
        .collect();
    if !args.json {
        let verb = if report.dry_run { "Would update" } else { "Updated" };
        for (package, locked) in &repinned {
            let name = &package.name;
            printer.status(verb, format!("{name} {} \u{2192} v{} (the same bytes)", locked.version, package.version));
        }
    }
    let moved = report.packages.iter().flat_map(|p| &p.files).any(|f| f.action.changes()) || !repinned.is_empty();
    if !args.json && !moved && report.conflicts.is_empty() {
        printer.status("Finished", "everything is at the newest version its requirement allows");
    }
    Ok(0)
}

/// Prints a change's report (or its JSON), then fails when an update met local edits it could
/// not merge: the command did what it could, and says what is left, with exit code 1.
fn finish(printer: &Printer, report: &Report, json: bool, show: Show) -> anyhow::Result<()> {
    if json {
        for warning in &report.warnings {
            printer.warn(warning);
        }
        printer.json(&report);
    } else {
        super::report::print(printer, report, show);
    }
    let Some(first) = report.conflicts.first() else { return Ok(()) };
    let names: Vec<String> = report.conflicts.iter().map(|c| c.name.to_string()).collect();
    Err(agents_workspace::WorkspaceError::MergeConflicts {
        agents: names.join(", "),
        first: first.name.clone(),
        version: first.version.clone(),
        upstream: first.upstream.clone(),
    }
    .into())
}

pub(crate) fn resolve(context: &Context, printer: &Printer, args: ResolveArgs) -> anyhow::Result<i32> {
    let name = AgentName::new(&args.agent)?;
    let workspace = context.workspace_to_change()?;
    let how = if args.theirs {
        Resolution::Theirs
    } else if args.ours {
        Resolution::Ours
    } else if let Some(file) = &args.from {
        Resolution::Take(read_resolution(file)?)
    } else if args.edit {
        Resolution::Take(edit(&workspace, &name)?)
    } else {
        Resolution::Markers
    };
    let resolved = agents_workspace::resolve_conflict(&workspace, &name, how.clone(), now())?;
    if args.json {
        printer.json(&resolved);
        return Ok(0);
    }
    for file in &resolved {
        let path = printer.path(&file.path);
        match &how {
            Resolution::Theirs => printer.status("Resolved", format!("{path}: took v{}", file.version)),
            Resolution::Ours => {
                printer.status("Resolved", format!("{path}: kept your file as your edit on v{}", file.version))
            }
            Resolution::Take(_) => {
                printer.status("Resolved", format!("{path}: installed your version as your edit on v{}", file.version))
            }
            Resolution::Markers => {}
        }
        if let Some(backup) = &file.backup {
            printer.status("Saved", format!("your edits to {path} as {}", backup.display()));
        }
        if let Some(markers) = &file.markers {
            printer.status(
                "Wrote",
                format!(
                    "{} with conflict markers; settle it there, then `agents resolve {name} --from {}` \
                     (or `--edit` to do both)",
                    markers.display(),
                    markers.display()
                ),
            );
        }
    }
    Ok(0)
}

/// Opens the user's editor on the three-way draft of `name`'s conflicted file and returns what
/// was saved (the library refuses it if conflict markers are left).
/// The file a conflict is settled with: a regular file, read with the cap of any managed file.
fn read_resolution(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    agents_workspace::fs::read_optional(path, agents_workspace::fs::MAX_MANAGED_FILE_LEN)
        .with_context(|| format!("cannot read {}", path.display()))?
        .ok_or_else(|| anyhow::anyhow!("{} does not exist", path.display()))
}

fn edit(workspace: &agents_workspace::Workspace, name: &AgentName) -> anyhow::Result<Vec<u8>> {
    let drafts = agents_workspace::conflict_drafts(workspace, name)?;
    let [draft] = drafts.as_slice() else {
        anyhow::bail!(
            "`{name}` has {} files with updates kept aside; settle them with --theirs or --ours, or each with --from",
            drafts.len()
        );
    };
    let editor = crate::context::editor()
        .ok_or_else(|| anyhow::anyhow!("set $VISUAL or $EDITOR to the editor to open, or use --from FILE"))?;
    // The editor is the user's own choice of program, run as a shell would (`EDITOR="code -w"`).
    let mut command = std::process::Command::new("sh");
    agents_registry::libgit2::restore_env(&mut command);
    let status = command
        .arg("-c")
        .arg(format!("{} \"$1\"", editor.to_string_lossy()))
        .arg("agents-resolve")
        .arg(&draft.draft)
        .status()
        .with_context(|| format!("cannot run the editor `{}`", editor.to_string_lossy()))?;
    if !status.success() {
        anyhow::bail!("the editor `{}` exited with {status}; nothing was changed", editor.to_string_lossy());
    }
    let bytes = read_resolution(&draft.draft)?;
    if agents_workspace::has_conflict_markers(&bytes) {
        return Err(agents_workspace::WorkspaceError::MarkersLeft { name: name.clone() }).with_context(|| {
            format!("{} keeps your edits so far; run `agents resolve {name} --edit` again", draft.draft.display())
        });
    }
    Ok(bytes)
}

pub(crate) fn uninstall(context: &Context, printer: &Printer, args: UninstallArgs) -> anyhow::Result<i32> {
    let names = args.agents.iter().map(|a| AgentName::new(a)).collect::<Result<Vec<_>, _>>()?;
    let workspace = context.workspace_to_change()?;
    let mut registries = context.registries(&workspace, FetchMode::Offline)?;
    let report = agents_workspace::uninstall(&workspace, &mut registries, &names, args.force, args.dry_run, now())?;
    if args.json {
        printer.json(&report);
        return Ok(0);
    }
    super::report::print(printer, &report, Show { unchanged: false, verbose: context.verbose });
    // A package none of whose files was there still leaves the workspace.
    for name in &names {
        if !report.packages.iter().any(|p| &p.name == name) && !report.bundles.iter().any(|b| &b.name == name) {
            printer.status(if args.dry_run { "Would remove" } else { "Removed" }, name);
        }
    }
    Ok(0)
}
