//! `agents lint FILE...`: report problems in agent files without changing a byte.

use std::path::PathBuf;

use agents_format::AgentFile;

use crate::cli::LintArgs;
use crate::printer::Printer;

#[derive(serde::Serialize)]
struct FileReport {
    path: PathBuf,
    name: Option<String>,
    error: Option<String>,
    warnings: Vec<WarningReport>,
}

#[derive(serde::Serialize)]
struct WarningReport {
    code: &'static str,
    message: String,
}

/// Lints each file; exit 1 when any file cannot be used at all.
pub(crate) fn lint(printer: &Printer, args: LintArgs) -> anyhow::Result<i32> {
    let mut reports = Vec::new();
    for path in &args.files {
        reports.push(lint_one(path));
    }
    let failed = reports.iter().filter(|r| r.error.is_some()).count();
    if args.json {
        printer.json(&reports);
    } else {
        for report in &reports {
            let shown = printer.path(&report.path);
            if let Some(error) = &report.error {
                printer.error(format!("{shown}: {error}"));
            }
            for warning in &report.warnings {
                printer.warn(format!("{shown}: {} [{}]", warning.message, warning.code));
            }
        }
        let warned = reports.iter().filter(|r| !r.warnings.is_empty()).count();
        printer.status("Linted", format!("{} file(s): {failed} invalid, {warned} with warnings", reports.len()));
    }
    Ok(if failed == 0 { 0 } else { 1 })
}

fn lint_one(path: &std::path::Path) -> FileReport {
    let mut report = FileReport { path: path.to_owned(), name: None, error: None, warnings: Vec::new() };
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) => {
            report.error = Some(format!("cannot read: {error}"));
            return report;
        }
    };
    match AgentFile::parse(&bytes) {
        Ok(mut file) => {
            if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                file.lint_file_stem(stem);
            }
            report.name = Some(file.name.to_string());
            report.warnings = file
                .warnings
                .into_iter()
                .map(|w| WarningReport { code: w.code.as_str(), message: w.message })
                .collect();
        }
        Err(error) => report.error = Some(error.to_string()),
    }
    report
}
