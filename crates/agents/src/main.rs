//! `agents`: install, publish and keep AI coding agents in sync.
//!
//! Every command is a thin layer over an operation of `agents-workspace` or `agents-registry`:
//! parse arguments, call the operation, print through the one [`printer::Printer`]. This binary
//! alone reads the environment and decides exit codes: 0 ok, 1 user error, 2 usage error.

mod cli;
mod commands;
mod complete;
mod context;
mod printer;
mod progress;

use crate::printer::Printer;

fn main() {
    agents_registry::libgit2::configure();
    // Under the shell's completion (`COMPLETE=bash agents -- …`), complete and exit.
    clap_complete::CompleteEnv::with_factory(cli::command).complete();
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(mut error) => {
            closest_suggestion_first(&mut error);
            let code = if error.use_stderr() { 2 } else { 0 };
            let _ = error.print();
            std::process::exit(code);
        }
    };
    init_tracing(cli.verbose);
    let printer = Printer::new(cli.quiet);
    let code = match commands::run(cli, &printer) {
        Ok(code) => code,
        Err(error) => {
            print_error(&printer, &error);
            if let Some(hint) = commands::hint(&error) {
                printer.note("hint", hint);
            }
            1
        }
    };
    std::process::exit(code);
}

/// clap lists similar subcommands from least to most similar (`agents instal` offered
/// `uninstall, install`); the closest belongs first, where the eye lands.
fn closest_suggestion_first(error: &mut clap::Error) {
    use clap::error::{ContextKind, ContextValue};
    for kind in [ContextKind::SuggestedSubcommand, ContextKind::SuggestedArg, ContextKind::SuggestedValue] {
        if let Some(ContextValue::Strings(suggestions)) = error.get(kind) {
            let mut suggestions = suggestions.clone();
            suggestions.reverse();
            error.insert(kind, ContextValue::Strings(suggestions));
        }
    }
}

/// `error: …`, then each cause once: a cause whose text an earlier line already showed (a
/// message that quotes its source, `"{path}: {source}"`) is not printed again.
fn print_error(printer: &Printer, error: &anyhow::Error) {
    let mut shown = vec![error.to_string()];
    printer.error(&shown[0]);
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        if text.trim().is_empty() || shown.iter().any(|line| line.contains(text.trim())) {
            continue;
        }
        printer.note("caused by", &text);
        shown.push(text);
    }
}

fn init_tracing(verbose: u8) {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let default = match verbose {
        0 => "warn",
        1 => "info,agents=debug",
        _ => "debug",
    };
    let filter = log_filter(default);
    // Colour exactly when the printer colours: on a terminal, with NO_COLOR unset. Anywhere else
    // the subscriber's escape sequences would reach a file or a pipe (and the escaping below
    // would turn them into `\u{1b}[34m` text).
    let color = printer::color_wanted();
    // The fmt subscriber passes every level: `filter` alone decides (its own default is INFO).
    let builder = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(color)
        .with_writer(move || SafeStderr { color })
        .without_time();
    // Without -v or AGENTS_LOG only warnings show, and they read as the CLI's own do
    // (`warning: …`), not as log records.
    if verbose == 0 && std::env::var_os("AGENTS_LOG").is_none() {
        builder.event_format(Plain).finish().with(filter).init();
    } else {
        builder.finish().with(filter).init();
    }
}

/// The log filter `AGENTS_LOG` gives (`debug`, `info,agents_registry=debug`: a level, and a
/// level per target prefix), else `default`.
fn log_filter(default: &str) -> tracing_subscriber::filter::Targets {
    std::env::var("AGENTS_LOG")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| default.parse().expect("the default filter parses"))
}

/// `warning: message` (and `error:`), fields after the message as `key=value`.
struct Plain;

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for Plain
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        context: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let label = match *event.metadata().level() {
            tracing::Level::ERROR => "error",
            tracing::Level::WARN => "warning",
            tracing::Level::INFO => "info",
            _ => "debug",
        };
        write!(writer, "{label}: ")?;
        context.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Log lines go to stderr through the same escaping as everything else the CLI prints: a
/// library's warning may quote a file name from a registry. With `color`, the colour sequences
/// (`ESC [ … m`) the subscriber writes pass; every other control is escaped.
struct SafeStderr {
    color: bool,
}

impl std::io::Write for SafeStderr {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(bytes);
        // One event is one write; keep its newlines, escape everything else that steers a terminal.
        let safe: Vec<String> = text
            .split('\n')
            .map(|line| {
                if self.color {
                    printer::terminal_safe_keeping_colour(line)
                } else {
                    printer::terminal_safe(line).into_owned()
                }
            })
            .collect();
        std::io::stderr().write_all(safe.join("\n").as_bytes())?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
