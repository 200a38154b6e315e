//! `agents`: install, publish and keep AI coding agents in sync.
//!
//! Every command is a thin layer over an operation of `agents-workspace` or `agents-registry`:
//! parse arguments, call the operation, print through the one [`printer::Printer`]. This binary
//! alone reads the environment and decides exit codes: 0 ok, 1 user error, 2 usage error.

mod cli;
mod commands;
mod context;
mod printer;
mod progress;

use clap::Parser as _;

use crate::printer::Printer;

fn main() {
    agents_registry::libgit2::configure();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
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
            printer.error(&error);
            for cause in error.chain().skip(1) {
                printer.note("caused by", cause);
            }
            if let Some(hint) = commands::hint(&error) {
                printer.note("hint", hint);
            }
            1
        }
    };
    std::process::exit(code);
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info,agents=debug",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("AGENTS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).without_time().init();
}
