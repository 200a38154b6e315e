//! The one place that writes to the terminal: data to stdout, status and warnings to stderr,
//! cargo-style right-aligned verbs, colour only on a terminal and never under `NO_COLOR`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fmt::Display;
use std::io::{IsTerminal as _, Write as _};
use std::path::Path;

#[derive(Debug, Clone)]
pub(crate) struct Printer {
    quiet: bool,
    color: bool,
    cwd: Option<std::path::PathBuf>,
}

impl Printer {
    pub(crate) fn new(quiet: bool) -> Printer {
        let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Printer { quiet, color, cwd: std::env::current_dir().ok() }
    }

    /// `   Installed go-backend-expert v1.0.0 → …` on stderr.
    pub(crate) fn status(&self, verb: &str, message: impl Display) {
        if self.quiet {
            return;
        }
        if self.color {
            eprintln!("\x1b[1;32m{verb:>12}\x1b[0m {message}");
        } else {
            eprintln!("{verb:>12} {message}");
        }
    }

    pub(crate) fn warn(&self, message: impl Display) {
        if self.color {
            eprintln!("\x1b[1;33mwarning\x1b[0m: {message}");
        } else {
            eprintln!("warning: {message}");
        }
    }

    pub(crate) fn error(&self, message: impl Display) {
        if self.color {
            eprintln!("\x1b[1;31merror\x1b[0m: {message}");
        } else {
            eprintln!("error: {message}");
        }
    }

    pub(crate) fn note(&self, label: &str, message: impl Display) {
        eprintln!("{label}: {message}");
    }

    /// A line of data on stdout. A closed pipe (`agents list | head`) ends the program quietly.
    pub(crate) fn line(&self, text: impl Display) {
        let mut stdout = std::io::stdout().lock();
        if let Err(error) = writeln!(stdout, "{text}")
            && error.kind() == std::io::ErrorKind::BrokenPipe
        {
            std::process::exit(0);
        }
    }

    /// A JSON document on stdout.
    pub(crate) fn json(&self, value: &impl serde::Serialize) {
        let text = serde_json::to_string_pretty(value).expect("command output always serialises to JSON");
        self.line(text);
    }

    /// `path` relative to the current directory when it is inside it.
    pub(crate) fn path(&self, path: &Path) -> String {
        match self.cwd.as_deref().and_then(|cwd| path.strip_prefix(cwd).ok()) {
            Some(relative) if !relative.as_os_str().is_empty() => relative.display().to_string(),
            _ => path.display().to_string(),
        }
    }
}
