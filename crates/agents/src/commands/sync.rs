//! `agents sync` (one reconciliation, as the daemon does it) and `agents diff NAME`.

use agents_format::AgentName;
use agents_registry::FetchMode;
use agents_workspace::Report;

use super::report::Show;

use crate::cli::{DiffArgs, SyncArgs};
use crate::context::Context;
use crate::printer::Printer;

pub(crate) fn sync(context: &Context, printer: &Printer, args: SyncArgs) -> anyhow::Result<i32> {
    // Outside any project there is nothing to sync, and nowhere to write: refused, as install.
    let workspace = context.workspace_to_change()?;
    let mode = if args.offline { FetchMode::Offline } else { FetchMode::IfMissing };
    let mut registries = context.registries(&workspace, mode)?;
    let report = agents_workspace::sync_allowing(&workspace, &mut registries, args.dry_run, &args.allow_exec)?;
    if args.json {
        printer.json(&report);
    } else {
        print_sync(printer, &report, context.verbose);
    }
    Ok(if report.errors.is_empty() { 0 } else { 1 })
}

pub(crate) fn print_sync(printer: &Printer, report: &Report, verbose: bool) {
    super::report::print(printer, report, Show { unchanged: false, verbose });
    for conflict in &report.conflicts {
        printer.warn(format!(
            "conflict: {} v{} is pinned but your edits to {} conflict with it: the update is kept aside in {} \
             (`agents diff {}` shows both; `agents resolve {} --edit|--theirs|--ours` settles it)",
            conflict.name,
            conflict.version,
            printer.path(&conflict.path),
            conflict.upstream.display(),
            conflict.name,
            conflict.name
        ));
    }
    if report.is_quiet() && report.kept().is_empty() && !report.dry_run {
        printer.status("Synced", "every file matches agents.lock");
    }
}

pub(crate) fn diff(context: &Context, printer: &Printer, args: DiffArgs) -> anyhow::Result<i32> {
    let name = AgentName::new(&args.agent)?;
    let workspace = context.workspace();
    let mode = if args.offline { FetchMode::Offline } else { FetchMode::IfMissing };
    let mut registries = context.registries(&workspace, mode)?;
    let input = agents_workspace::diff_input(&workspace, &mut registries, &name)?;
    let path = printer.path(&input.path);
    let Some(local) = &input.local else {
        printer.status("Missing", format!("{path} (run `agents install` or `agents sync` to restore it)"));
        return Ok(0);
    };
    if local == &input.upstream {
        printer.status("Unchanged", format!("{path} matches {}", input.upstream_label));
        return Ok(0);
    }
    let unified = |from: &[u8], from_label: &str, to: &[u8], to_label: &str| {
        let from = String::from_utf8_lossy(from);
        let to = String::from_utf8_lossy(to);
        let diff = similar::TextDiff::from_lines(from.as_ref(), to.as_ref());
        diff.unified_diff().context_radius(3).header(from_label, to_label).to_string()
    };
    let local_label = format!("{path} (local)");
    match &input.base {
        // A conflict: what each side changed since the version the edits were made on.
        Some((base_label, base)) => {
            printer.line(format!("# your edits: {base_label} → {local_label}"));
            printer.line(unified(base, base_label, local, &local_label).trim_end());
            printer.line(format!("# the update: {base_label} → {}", input.upstream_label));
            printer.line(unified(base, base_label, &input.upstream, &input.upstream_label).trim_end());
        }
        None => printer.line(unified(&input.upstream, &input.upstream_label, local, &local_label).trim_end()),
    }
    Ok(0)
}
