//! `init`, `install` and `uninstall`.

use agents_format::AgentName;
use agents_registry::FetchMode;
use agents_workspace::{Action, InstallOptions, InstallReport, InstallRequest, Unlock};
use anyhow::Context as _;

use crate::cli::{InstallArgs, ResolveArgs, UninstallArgs, UpdateArgs};
use crate::context::{Context, now};
use crate::printer::Printer;

pub(crate) fn init(context: &Context, printer: &Printer) -> anyhow::Result<i32> {
    let workspace = if context.global {
        context.workspace()
    } else {
        agents_workspace::Workspace::project(context.cwd.clone(), context.dirs.clone())
    };
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
    let options = InstallOptions {
        force: args.force,
        locked: args.locked || args.frozen,
        registry: args.registry,
        now: now(),
        unlock: Unlock::None,
        deny_hidden_unicode: args.deny_hidden_unicode || context.deny_hidden_unicode()?,
        targets: args.targets.iter().map(|t| agents_format::Target::parse(t)).collect::<Result<_, _>>()?,
    };
    let report = agents_workspace::install(&workspace, &mut registries, &requests, &options)?;
    print_report(printer, &report, args.json, true, context.verbose);
    conflicts_are_an_error(&report)?;
    if report.agents.is_empty() && !args.json {
        printer.status("Finished", "nothing to install (agents.toml lists no agents)");
    }
    Ok(0)
}

pub(crate) fn update(context: &Context, printer: &Printer, args: UpdateArgs) -> anyhow::Result<i32> {
    let names = args.agents.iter().map(|a| AgentName::new(a)).collect::<Result<Vec<_>, _>>()?;
    let workspace = context.workspace_to_change()?;
    let mode = if args.offline { FetchMode::Offline } else { FetchMode::Always };
    let mut registries = context.registries(&workspace, mode)?;
    let options = InstallOptions {
        force: args.force,
        locked: false,
        registry: None,
        now: now(),
        unlock: Unlock::None,
        deny_hidden_unicode: context.deny_hidden_unicode()?,
        targets: Vec::new(),
    };
    let report = agents_workspace::update(&workspace, &mut registries, &names, options)?;
    print_report(printer, &report, args.json, false, context.verbose);
    conflicts_are_an_error(&report)?;
    if !args.json && !report.agents.iter().any(|a| a.action != Action::Fresh) {
        printer.status("Finished", "every agent is at the newest version its requirement allows");
    }
    Ok(0)
}

/// A conflicting merge leaves the user's file and the new version side by side: the command did
/// what it could, and says what is left, with exit code 1.
fn conflicts_are_an_error(report: &InstallReport) -> anyhow::Result<()> {
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
        agents_workspace::Resolution::Theirs
    } else if args.ours {
        agents_workspace::Resolution::Ours
    } else {
        agents_workspace::Resolution::Markers
    };
    let resolved = agents_workspace::resolve_conflict(&workspace, &name, how, now())?;
    if args.json {
        printer.json(&resolved);
        return Ok(0);
    }
    for file in &resolved {
        let path = printer.path(&file.path);
        match how {
            agents_workspace::Resolution::Theirs => {
                printer.status("Resolved", format!("{path}: took v{}", file.version))
            }
            agents_workspace::Resolution::Ours => {
                printer.status("Resolved", format!("{path}: kept your file as your edit on v{}", file.version))
            }
            agents_workspace::Resolution::Markers => {}
        }
        if let Some(backup) = &file.backup {
            printer.status("Saved", format!("your edits to {path} as {}", backup.display()));
        }
        if let Some(markers) = &file.markers {
            printer.status(
                "Wrote",
                format!(
                    "{} with conflict markers; edit {path} to taste, then `agents resolve {name} --ours`",
                    markers.display()
                ),
            );
        }
    }
    Ok(0)
}

fn print_report(printer: &Printer, report: &InstallReport, json: bool, show_unchanged: bool, verbose: bool) {
    for warning in &report.warnings {
        printer.warn(warning);
    }
    if verbose {
        for note in &report.notes {
            printer.note("note", note);
        }
    } else {
        print_losses(printer, &report.losses);
    }
    if json {
        printer.json(report);
        return;
    }
    for agent in &report.agents {
        let what = format!("{} v{}", agent.name, agent.version);
        let path = printer.path(&agent.path);
        match &agent.action {
            Action::Installed => printer.status("Installed", format!("{what} \u{2192} {path}")),
            Action::Restored => printer.status("Restored", format!("{what} \u{2192} {path}")),
            Action::Updated { from } => {
                printer.status("Updated", format!("{} {from} \u{2192} v{} ({path})", agent.name, agent.version))
            }
            Action::Fresh if show_unchanged => printer.status("Unchanged", format!("{what} ({path})")),
            Action::Fresh => {}
            Action::Merged { from } => printer.status(
                "Merged",
                format!("your edits to {} onto v{} (from {from}; {path})", agent.name, agent.version),
            ),
            Action::Conflict => {}
        }
        if let Some(backup) = &agent.backup {
            printer.status("Saved", format!("your edits to {path} as {}", backup.display()));
        }
    }
}

pub(crate) fn uninstall(context: &Context, printer: &Printer, args: UninstallArgs) -> anyhow::Result<i32> {
    let names = args.agents.iter().map(|a| AgentName::new(a)).collect::<Result<Vec<_>, _>>()?;
    let workspace = context.workspace_to_change()?;
    for result in agents_workspace::uninstall(&workspace, &names, args.force, now())? {
        let path = printer.path(&result.path);
        if result.kept_because_modified {
            printer.warn(format!("kept {path}: it has local edits (pass --force to delete it; a backup is kept)"));
        }
        printer.status(
            "Removed",
            format!("{}{}", result.name, if result.removed_file { format!(" ({path})") } else { String::new() }),
        );
        for backup in &result.backups {
            printer.status("Saved", format!("your edits as {}", backup.display()));
        }
    }
    Ok(0)
}

/// One line per target and kind of loss, with the number of agents it touches (hundreds of
/// agents converted for several tools would otherwise print thousands of near-identical notes);
/// `-v` prints each one.
fn print_losses(printer: &Printer, losses: &[agents_workspace::Loss]) {
    let mut groups: Vec<(&str, String, Vec<&agents_workspace::Loss>)> = Vec::new();
    for loss in losses {
        let kind = agents_format::loss_kind(&loss.detail);
        match groups.iter_mut().find(|(target, k, _)| *target == loss.target && *k == kind) {
            Some((_, _, members)) => members.push(loss),
            None => groups.push((&loss.target, kind, vec![loss])),
        }
    }
    let mut summarised = false;
    for (target, kind, members) in &groups {
        match members.as_slice() {
            [only] => printer.note("note", format!("{} for {target}: not carried over: {}", only.agent, only.detail)),
            _ => {
                let mut agents: Vec<&str> = members.iter().map(|l| l.agent.as_str()).collect();
                agents.dedup();
                summarised = true;
                printer.note("note", format!("{target}: not carried over for {} agents: {kind}", agents.len()));
            }
        }
    }
    if summarised {
        printer.note("note", "run with -v for each agent's notes");
    }
}
