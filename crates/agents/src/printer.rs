//! The one place that writes to the terminal: data to stdout, status and warnings to stderr,
//! cargo-style right-aligned verbs, colour only on a terminal and never under `NO_COLOR`.
//!
//! Text shown here often comes from someone else: descriptions and names from a registry,
//! lint messages and parse errors quoting a file, error messages naming a teammate's URL. Every
//! string goes through [`terminal_safe`] (or, for `--json`, [`json_safe`]) on its way out, so a
//! registry cannot write to the clipboard (OSC 52), clear the screen, disguise a link or reorder
//! text with bidi controls on the user's terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::borrow::Cow;
use std::fmt::{Display, Write as _};
use std::io::{IsTerminal as _, Write as _};
use std::path::Path;

#[derive(Debug, Clone)]
pub(crate) struct Printer {
    quiet: bool,
    color: bool,
    cwd: Option<std::path::PathBuf>,
}

/// Whether a terminal could act on `c` instead of showing it: C0 controls (but newline and
/// tab, which lay out multi-line messages), DEL, C1 controls (U+0080–U+009F: a UTF-8 terminal
/// may read U+009B as CSI) and the bidi controls that reorder what is shown (the Trojan Source
/// set: U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069).
fn is_unsafe(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}')
        || matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every character a terminal could act on shown as a visible escape (`\u{1b}`),
/// the way Rust's `{:?}` shows it. Everything else, newlines and tabs included, is kept.
pub(crate) fn terminal_safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut safe = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe(c) {
            let _ = write!(safe, "\\u{{{:x}}}", u32::from(c));
        } else {
            safe.push(c);
        }
    }
    Cow::Owned(safe)
}

/// [`terminal_safe`], except that colour sequences (`ESC [` digits and `;`, then `m`) pass
/// whole: for log lines whose subscriber colours them on a terminal.
pub(crate) fn terminal_safe_keeping_colour(text: &str) -> String {
    let mut safe = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('\x1b') {
        safe.push_str(&terminal_safe(&rest[..start]));
        let after = &rest[start + 1..];
        let parameters = after
            .strip_prefix('[')
            .map(|tail| tail.len() - tail.trim_start_matches(|c: char| c.is_ascii_digit() || c == ';').len());
        match parameters {
            Some(length) if after[1 + length..].starts_with('m') => {
                safe.push_str(&rest[start..start + 3 + length]);
                rest = &rest[start + 3 + length..];
            }
            _ => {
                safe.push_str("\\u{1b}");
                rest = after;
            }
        }
    }
    safe.push_str(&terminal_safe(rest));
    safe
}

/// Whether stderr gets colour: a terminal, and `NO_COLOR` unset or empty.
pub(crate) fn color_wanted() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// A JSON document with the characters [`terminal_safe`] escapes written as JSON `\uXXXX`
/// escapes. serde_json already escapes C0 controls; DEL, C1 and bidi controls it writes raw.
/// They can only occur inside strings, so the document means exactly the same.
fn json_safe(json: &str) -> Cow<'_, str> {
    if !json.chars().any(is_unsafe) {
        return Cow::Borrowed(json);
    }
    let mut safe = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_unsafe(c) {
            let _ = write!(safe, "\\u{:04x}", u32::from(c));
        } else {
            safe.push(c);
        }
    }
    Cow::Owned(safe)
}

impl Printer {
    pub(crate) fn new(quiet: bool) -> Printer {
        Printer { quiet, color: color_wanted(), cwd: std::env::current_dir().ok() }
    }

    /// `   Installed go-backend-expert v1.0.0 → …` on stderr.
    pub(crate) fn status(&self, verb: &str, message: impl Display) {
        if self.quiet {
            return;
        }
        let (verb, message) = (terminal_safe(verb), message.to_string());
        let message = terminal_safe(&message);
        if self.color {
            eprintln!("\x1b[1;32m{verb:>12}\x1b[0m {message}");
        } else {
            eprintln!("{verb:>12} {message}");
        }
    }

    pub(crate) fn warn(&self, message: impl Display) {
        let message = message.to_string();
        let message = terminal_safe(&message);
        if self.color {
            eprintln!("\x1b[1;33mwarning\x1b[0m: {message}");
        } else {
            eprintln!("warning: {message}");
        }
    }

    pub(crate) fn error(&self, message: impl Display) {
        let message = message.to_string();
        let message = terminal_safe(&message);
        if self.color {
            eprintln!("\x1b[1;31merror\x1b[0m: {message}");
        } else {
            eprintln!("error: {message}");
        }
    }

    /// Shows `lines` indented, then asks `question` with `[y/N]`, on stderr (escaped for the
    /// terminal); returns whether the answer read from stdin is yes.
    pub(crate) fn confirm(&self, lines: &[String], question: &str) -> std::io::Result<bool> {
        for line in lines {
            eprintln!("    {}", terminal_safe(line));
        }
        eprint!("{} [y/N] ", terminal_safe(question));
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
    }

    pub(crate) fn note(&self, label: &str, message: impl Display) {
        let message = message.to_string();
        eprintln!("{}: {}", terminal_safe(label), terminal_safe(&message));
    }

    /// `next: …`, the command to run next, on stderr; silenced by `-q` like the status lines.
    pub(crate) fn next(&self, command: impl Display) {
        if !self.quiet {
            self.note("next", command);
        }
    }

    /// A line of data on stdout. A closed pipe (`agents list | head`) ends the program quietly.
    pub(crate) fn line(&self, text: impl Display) {
        let text = text.to_string();
        self.write_stdout(&terminal_safe(&text));
    }

    /// Lines of data on stdout; on a terminal through the user's pager (`$PAGER`, else
    /// `less -FRX`, which quits at once when they fit one screen), as git pages its logs.
    /// Straight to stdout when it is not a terminal or no pager starts.
    pub(crate) fn paged(&self, mut lines: impl Iterator<Item = String>) {
        if std::io::stdout().is_terminal() {
            let pager = std::env::var("PAGER").ok().filter(|pager| !pager.trim().is_empty());
            let pager = pager.unwrap_or_else(|| "less -FRX".to_owned());
            let child =
                std::process::Command::new("sh").args(["-c", &pager]).stdin(std::process::Stdio::piped()).spawn();
            if let Ok(mut child) = child {
                if let Some(mut stdin) = child.stdin.take() {
                    // A pager quit early closes its end: stop writing, quietly.
                    for line in lines.by_ref() {
                        if writeln!(stdin, "{}", terminal_safe(&line)).is_err() {
                            break;
                        }
                    }
                }
                let _ = child.wait();
                return;
            }
        }
        lines.for_each(|line| self.line(line));
    }

    /// A JSON document on stdout.
    pub(crate) fn json(&self, value: &impl serde::Serialize) {
        let text = serde_json::to_string_pretty(value).expect("command output always serialises to JSON");
        self.write_stdout(&json_safe(&text));
    }

    fn write_stdout(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        if let Err(error) = writeln!(stdout, "{text}")
            && error.kind() == std::io::ErrorKind::BrokenPipe
        {
            std::process::exit(0);
        }
    }

    /// `path` relative to the current directory when it is inside it.
    pub(crate) fn path(&self, path: &Path) -> String {
        match self.cwd.as_deref().and_then(|cwd| path.strip_prefix(cwd).ok()) {
            Some(relative) if !relative.as_os_str().is_empty() => relative.display().to_string(),
            _ => path.display().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{json_safe, terminal_safe};

    fn check(input: &str, expected: &str) {
        assert_eq!(terminal_safe(input), expected, "input {input:?}");
    }

    #[test]
    fn controls_are_shown_not_sent() {
        check("plain text, naïve café → ok", "plain text, naïve café → ok");
        check("two\nlines\tand a tab", "two\nlines\tand a tab");
        check("\x1b]52;c;aGk=\x07", "\\u{1b}]52;c;aGk=\\u{7}");
        check("\x1b[2Jclear", "\\u{1b}[2Jclear");
        check("over\rwrite", "over\\u{d}write");
        check("nul\0 del\x7f", "nul\\u{0} del\\u{7f}");
        check("c1 \u{9b}31m csi", "c1 \\u{9b}31m csi");
        check(
            "bidi \u{202e}txt.exe\u{202c} \u{2066}x\u{2069} \u{200f}",
            "bidi \\u{202e}txt.exe\\u{202c} \\u{2066}x\\u{2069} \\u{200f}",
        );
    }

    #[test]
    fn colour_passes_and_nothing_else() {
        let check = |input: &str, expected: &str| assert_eq!(super::terminal_safe_keeping_colour(input), expected);
        check("\x1b[34mDEBUG\x1b[0m text", "\x1b[34mDEBUG\x1b[0m text");
        check("\x1b[1;2m\x1b[2Jx\x1b", "\x1b[1;2m\\u{1b}[2Jx\\u{1b}");
        check("\x1b]52;c;aGk=\x07", "\\u{1b}]52;c;aGk=\\u{7}");
    }

    #[test]
    fn json_stays_json_and_means_the_same() {
        let value = serde_json::json!({ "description": "a\u{1b}[2J\u{9b}\u{202e}\u{7f}b" });
        let text = serde_json::to_string(&value).unwrap();
        let safe = json_safe(&text);
        assert!(!safe.chars().any(|c| c.is_control() || c == '\u{202e}'), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, value);
    }
}
