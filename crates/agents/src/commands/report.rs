//! Printing the report of a change (install, update, uninstall, sync): one line per package and
//! fate naming every file (a skill's directory standing for its files when they all shared it),
//! a warning per file kept with the user's edits, and `Would …` lines for a dry run.

use agents_workspace::{FileAction, FileChange, Kept, Loss, PackageChange, Report, Shown};

use crate::printer::Printer;

/// What the caller wants besides the files that changed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Show {
    /// A line for each package that was already as wanted (`agents install`).
    pub(crate) unchanged: bool,
    /// Each conversion note, instead of one line per kind (`-v`).
    pub(crate) verbose: bool,
}

pub(crate) fn print(printer: &Printer, report: &Report, show: Show) {
    for warning in &report.warnings {
        printer.warn(warning);
    }
    if show.verbose {
        for note in &report.notes {
            printer.note("note", note);
        }
    } else {
        print_losses(printer, &report.losses);
    }
    for package in &report.packages {
        print_package(printer, package, report.dry_run, show);
    }
    for bundle in &report.bundles {
        let verb =
            |done: &str, planned: &str| if report.dry_run { format!("Would {planned}") } else { done.to_owned() };
        let set = format!("{} requirement{}", bundle.requires, if bundle.requires == 1 { "" } else { "s" });
        match (&bundle.from, bundle.removed) {
            (_, true) => printer.status(&verb("Removed", "remove"), format!("bundle {} ({set})", bundle.name)),
            (Some(from), false) => printer.status(
                &verb("Updated", "update"),
                format!("bundle {} {from} \u{2192} v{} ({set})", bundle.name, bundle.version),
            ),
            (None, false) => printer
                .status(&verb("Installed", "install"), format!("bundle {} v{} ({set})", bundle.name, bundle.version)),
        }
    }
    print_config(printer, report);
    for error in &report.errors {
        printer.error(error);
    }
    if report.dry_run {
        for (changed, file) in [(report.manifest_changed, "agents.toml"), (report.lockfile_changed, "agents.lock")] {
            if changed {
                printer.status("Would write", file);
            }
        }
        printer.note("note", "dry run: nothing was changed");
    }
}

/// `go-backend-expert v1.0.0`, `skill pdf v1.0.0`.
fn what(package: &PackageChange) -> String {
    format!("{}{} v{}", kind(package), package.name, package.version)
}

/// The kind as a word before the name, for packages that are not agents.
fn kind(package: &PackageChange) -> String {
    if package.kind.is_agent() { String::new() } else { format!("{} ", package.kind) }
}

fn shown(printer: &Printer, files: &[Shown]) -> String {
    files
        .iter()
        .map(|file| match file.files {
            Some(count) => format!("{}/ ({count} files)", printer.path(&file.path)),
            None => printer.path(&file.path),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_package(printer: &Printer, package: &PackageChange, dry_run: bool, show: Show) {
    let verb = |done: &str, planned: &str| if dry_run { format!("Would {planned}") } else { done.to_owned() };
    let name = &package.name;
    if show.unchanged
        && package.subject
        && !package.removed
        && package.files.iter().all(|f| f.action == FileAction::Unchanged)
    {
        printer.status(&verb("Unchanged", "keep"), format!("{} ({})", what(package), printer.path(&package.path)));
    }
    for (action, files) in package.groups() {
        let paths = shown(printer, &files);
        match action {
            FileAction::Installed => {
                printer.status(&verb("Installed", "install"), format!("{} \u{2192} {paths}", what(package)))
            }
            FileAction::Restored => {
                printer.status(&verb("Restored", "restore"), format!("{} \u{2192} {paths}", what(package)))
            }
            FileAction::Updated { from } => {
                let from = from.map(|v| format!("{v} ")).unwrap_or_default();
                printer.status(
                    &verb("Updated", "update"),
                    format!("{}{name} {from}\u{2192} v{} ({paths})", kind(package), package.version),
                )
            }
            FileAction::Merged { base } => {
                let base = base.map(|v| format!("made on v{v}; ")).unwrap_or_default();
                printer.status(
                    &verb("Merged", "merge"),
                    format!("your edits to {}{name} onto v{} ({base}{paths})", kind(package), package.version),
                )
            }
            FileAction::Removed => {
                printer.status(&verb("Removed", "remove"), format!("{}{name} ({paths})", kind(package)))
            }
            FileAction::Unchanged
            | FileAction::Conflict { .. }
            | FileAction::Kept { .. }
            | FileAction::Raced { .. } => {}
        }
    }
    for file in &package.files {
        print_kept(printer, package, file, dry_run);
        if let Some(backup) = &file.backup {
            printer.status("Saved", format!("your edits to {} as {}", printer.path(&file.path), backup.display()));
        }
    }
}

/// A warning for a file left as it is.
fn print_kept(printer: &Printer, package: &PackageChange, file: &FileChange, dry_run: bool) {
    let path = printer.path(&file.path);
    let keep = if dry_run { "would keep" } else { "kept" };
    let name = &package.name;
    match &file.action {
        FileAction::Kept { reason: Kept::LocalEdit, dropped: true } if package.removed => {
            printer.warn(format!("{keep} {path}: it has local edits (pass --force to delete it; a backup is kept)"))
        }
        FileAction::Kept { reason: Kept::LocalEdit, dropped: true } => {
            printer.warn(format!("{keep} {path}: {name}@{} no longer has it, but it has local edits", package.version))
        }
        FileAction::Kept { reason: Kept::LocalEdit, dropped: false } => printer.warn(format!(
            "{keep} {path}: it has local edits (`agents diff {name}` shows them; \
                 `agents install {name} --force` replaces them, saving a backup)"
        )),
        FileAction::Kept { reason: Kept::Unmanaged, .. } => {
            printer.warn(format!("{keep} {path}: it is not a file agents installed"))
        }
        FileAction::Kept { reason: Kept::NotAFile, .. } => {
            printer.warn(format!("{keep} {path}: it is not a regular file"))
        }
        FileAction::Conflict { upstream, new: false } => printer.warn(format!(
            "{keep} {path}: {name} v{} is kept aside until `agents resolve {name}` settles it{}",
            package.version,
            upstream.as_ref().map(|u| format!(" ({})", u.display())).unwrap_or_default()
        )),
        FileAction::Raced { backup } => printer.warn(format!(
            "{path} changed while agents was writing it; your version is kept{}",
            backup.as_ref().map(|b| format!(" (an earlier save is in {})", b.display())).unwrap_or_default()
        )),
        _ => {}
    }
}

/// One line per target and kind of loss, with the number of packages it touches (hundreds of
/// agents converted for several tools would otherwise print thousands of near-identical notes);
/// `-v` prints each one.
fn print_losses(printer: &Printer, losses: &[Loss]) {
    let mut groups: Vec<(&str, String, Vec<&Loss>)> = Vec::new();
    for loss in losses {
        let kind = agents_format::loss_kind(&loss.detail);
        match groups.iter_mut().find(|(target, k, _)| *target == loss.target && *k == kind) {
            Some((_, _, members)) => members.push(loss),
            None => groups.push((&loss.target, kind, vec![loss])),
        }
    }
    let mut summarised = Vec::new();
    for (target, kind, members) in &groups {
        match members.as_slice() {
            [only] => printer.note("note", format!("{} for {target}: not carried over: {}", only.agent, only.detail)),
            _ => {
                let mut names: Vec<&str> = members.iter().map(|l| l.agent.as_str()).collect();
                names.dedup();
                let kinds = plural(members.iter().map(|l| l.kind));
                summarised.push(kinds);
                printer.note("note", format!("{target}: not carried over for {} {kinds}: {kind}", names.len()));
            }
        }
    }
    if let Some(first) = summarised.first() {
        let kinds = if summarised.iter().all(|k| k == first) { first } else { "packages" };
        printer.note("note", format!("run with -v for each {}'s notes", kinds.trim_end_matches('s')));
    }
}

/// `agents`, `commands` or `skills` when every package is of that kind, else `packages`.
pub(crate) fn plural(kinds: impl Iterator<Item = agents_format::Kind>) -> &'static str {
    let kinds: Vec<agents_format::Kind> = kinds.collect();
    let Some(first) = kinds.first().copied() else { return "packages" };
    let one = kinds.len() == 1;
    if !kinds.iter().all(|k| *k == first) {
        return "packages";
    }
    match (first, one) {
        (agents_format::Kind::Agent, true) => "agent",
        (agents_format::Kind::Agent, false) => "agents",
        (agents_format::Kind::Skill, true) => "skill",
        (agents_format::Kind::Skill, false) => "skills",
        (agents_format::Kind::Command, true) => "command",
        (agents_format::Kind::Command, false) => "commands",
        (agents_format::Kind::Bundle, true) => "bundle",
        (agents_format::Kind::Bundle, false) => "bundles",
        (agents_format::Kind::Plugin, true) => "plugin",
        (agents_format::Kind::Plugin, false) => "plugins",
    }
}

/// The managed configuration entries, and the executable content awaiting approval.
fn print_config(printer: &Printer, report: &Report) {
    use agents_workspace::config_entries::EntryAction;
    for change in &report.config {
        let (done, planned) = match change.action {
            EntryAction::Added => ("Added", "add"),
            EntryAction::Updated => ("Updated", "update"),
            EntryAction::Removed => ("Removed", "remove"),
            EntryAction::Adopted => ("Adopted", "adopt"),
            EntryAction::Unchanged | EntryAction::LeftToYou => continue,
        };
        let verb = if report.dry_run { format!("Would {planned}") } else { done.to_owned() };
        printer.status(&verb, format!("`{}` in {} (from {})", change.key, printer.path(&change.file), change.owner));
    }
    for pending in &report.awaiting_approval {
        let why = if pending.changed { "what it runs changed, and it is" } else { "it is" };
        printer.warn(format!(
            "{}: {why} awaiting your approval, so it was not installed; it would run:\n  {}",
            pending.subject,
            pending.lines.join("\n  ")
        ));
        let name = pending.subject.strip_prefix("mcp:").unwrap_or(&pending.subject);
        printer.next(format!("agents install --allow-exec {name}"));
    }
}
