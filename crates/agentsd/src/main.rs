//! `agentsd`: the agents daemon. It watches the agent directories, manifests and lockfiles of
//! the workspaces it is told about and keeps every agent file at the version the lockfile pins,
//! never overwriting a local edit. It calls the same operations as the CLI (`reconcile`,
//! `auto_update`, registry fetches) under the same locks; it only decides *when*.
//!
//! The binary reads no environment for its directories: `agents daemon start`, `agents daemon
//! run` and the service unit written by `agents daemon install-service` pass them as arguments.

mod daemon;
mod log;
mod schedule;
mod watch;

use std::path::PathBuf;

use clap::Parser as _;

#[derive(Debug, clap::Parser)]
#[command(name = "agentsd", version, about = "Keeps agent files in sync with agents.lock")]
struct Args {
    /// The user's home (user-scope agents live in <home>/.claude/agents).
    #[arg(long)]
    home: PathBuf,
    /// The agents config directory (config.toml, the user-scope manifest).
    #[arg(long)]
    config_dir: PathBuf,
    /// The agents cache directory (registry clones).
    #[arg(long)]
    cache_dir: PathBuf,
    /// The agents state directory (write records, conflicts, the watch list).
    #[arg(long)]
    state_dir: PathBuf,
    /// Where the control socket and the single-instance lock live.
    #[arg(long)]
    runtime_dir: PathBuf,
    /// Fetch registries through the git command line instead of libgit2.
    #[arg(long)]
    git_fetch_with_cli: bool,
    /// Log to this file (rotated to <file>.1 past --log-max-bytes) instead of stderr.
    #[arg(long)]
    log_file: Option<PathBuf>,
    /// The log file's size cap.
    #[arg(long, default_value_t = log::DEFAULT_CAP)]
    log_max_bytes: u64,
}

fn main() {
    agents_registry::libgit2::configure();
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("AGENTS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    match args.log_file.as_deref().map(|path| log::Log::open(path, args.log_max_bytes)) {
        Some(Ok(log)) => {
            let writer = std::sync::Mutex::new(log);
            tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false).with_writer(writer).init();
        }
        opened => {
            // `agents daemon start` sends stderr to a log file: colour only on a terminal.
            let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
            tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).init();
            if let Some(Err(error)) = opened {
                tracing::warn!("cannot open the log file, logging to stderr: {error}");
            }
        }
    }
    let dirs = agents_workspace::Dirs {
        home: args.home,
        config: args.config_dir,
        cache: args.cache_dir,
        state: args.state_dir,
    };
    let settings =
        daemon::Settings { dirs, runtime_dir: args.runtime_dir, git_fetch_with_cli: args.git_fetch_with_cli };
    match daemon::run(settings) {
        Ok(()) => {}
        Err(error) => {
            tracing::error!("{}", agents_workspace::control::error_text(error.as_ref()));
            std::process::exit(1);
        }
    }
}
