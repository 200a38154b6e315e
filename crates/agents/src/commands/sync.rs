//! `agents sync` (one reconciliation, as the daemon does it) and `agents diff NAME`.

use agents_format::AgentName;
use agents_registry::FetchMode;
use agents_workspace::ReconcileReport;

use crate::cli::{DiffArgs, SyncArgs};
use crate::context::Context;
use crate::printer::Printer;

pub(crate) fn sync(context: &Context, printer: &Printer, args: SyncArgs) -> anyhow::Result<i32> {
    let workspace = context.workspace();
    let mode = if args.offline { FetchMode::Offline } else { FetchMode::IfMissing };
    let mut registries = context.registries(&workspace, mode)?;
    let report = agents_workspace::reconcile(&workspace, &mut registries)?;
    if args.json {
        printer.json(&report);
    } else {
        print_reconcile(printer, &report);
    }
    Ok(if report.errors.is_empty() { 0 } else { 1 })
}

pub(crate) fn print_reconcile(printer: &Printer, report: &ReconcileReport) {
    for change in &report.written {
        let path = printer.path(&change.path);
        match &change.from {
            Some(from) if from != &change.to => {
                printer.status("Updated", format!("{} {from} \u{2192} v{} ({path})", change.name, change.to))
            }
            _ => printer.status("Restored", format!("{} v{} \u{2192} {path}", change.name, change.to)),
        }
    }
    for change in &report.merged {
        printer.status(
            "Merged",
            format!("your edits to {} onto v{} ({})", change.name, change.to, printer.path(&change.path)),
        );
    }
    for name in &report.removed {
        printer.status("Removed", name);
    }
    for drift in &report.drift {
        printer.warn(format!("{} has local edits; kept ({})", drift.name, printer.path(&drift.path)));
    }
    for conflict in &report.conflicts {
        printer.warn(format!(
            "conflict: {} v{} is pinned but your edits conflict with it: the update is kept aside in {} \
             (`agents diff {}` shows both; `agents resolve {} --theirs|--ours|--markers` settles it)",
            conflict.name,
            conflict.version,
            conflict.upstream.display(),
            conflict.name,
            conflict.name
        ));
    }
    for error in &report.errors {
        printer.error(error);
    }
    if report.is_quiet() && report.drift.is_empty() {
        printer.status("Synced", "every agent matches agents.lock");
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
