//! `agentsd`: the agents daemon. It watches the agent directories, manifests and lockfiles of
//! the workspaces it is told about and keeps every agent file at the version the lockfile pins,
//! never overwriting a local edit. It calls the same operations as the CLI (`reconcile`,
//! `auto_update`, registry fetches) under the same locks; it only decides *when*.
//!
//! Directories and network settings come from the same loader as the CLI's
//! (`agents_workspace::Settings`), fed the same environment: `agentsd` with no arguments uses
//! what `agents daemon run` would pass. Flags, when given, win.

mod daemon;
mod log;
mod schedule;
mod watch;

use std::path::PathBuf;

use clap::Parser as _;

#[derive(Debug, clap::Parser)]
#[command(name = "agentsd", version, about = "Keeps agent files in sync with agents.lock")]
struct Args {
    /// The user's home (user-scope agents live in <home>/.claude/agents) [default: $HOME].
    #[arg(long)]
    home: Option<PathBuf>,
    /// The agents config directory (config.toml, the user-scope manifest) [default: as `agents`
    /// finds it: $AGENTS_CONFIG_DIR, else the platform's config directory].
    #[arg(long)]
    config_dir: Option<PathBuf>,
    /// The agents cache directory (registry clones) [default: as `agents` finds it].
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// The agents state directory (write records, conflicts, the watch list) [default: as
    /// `agents` finds it].
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Where the control socket and the single-instance lock live [default:
    /// $XDG_RUNTIME_DIR/agents, else <state>/daemon/run].
    #[arg(long)]
    runtime_dir: Option<PathBuf>,
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
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    // `AGENTS_LOG` as the CLI reads it: a level, and a level per target prefix. The fmt
    // subscriber passes every level, so this filter alone decides.
    let filter: tracing_subscriber::filter::Targets = std::env::var("AGENTS_LOG")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| tracing_subscriber::filter::Targets::new().with_default(tracing::Level::INFO));
    match args.log_file.as_deref().map(|path| log::Log::open(path, args.log_max_bytes)) {
        Some(Ok(log)) => {
            let writer = std::sync::Mutex::new(log);
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(writer)
                .finish()
                .with(filter)
                .init();
        }
        opened => {
            // `agents daemon start` sends stderr to a log file: colour only on a terminal, and
            // never against NO_COLOR.
            let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(ansi)
                .with_writer(std::io::stderr)
                .finish()
                .with(filter)
                .init();
            if let Some(Err(error)) = opened {
                tracing::warn!("cannot open the log file, logging to stderr: {error}");
            }
        }
    }
    let environment = match environment() {
        Ok(environment) => environment,
        Err(error) => {
            tracing::error!("{error}");
            std::process::exit(1);
        }
    };
    // Flags win; what they leave out comes from the loader `agents` uses.
    for warning in agents_workspace::Settings::tool_home_warnings(&environment) {
        tracing::warn!("{warning}");
    }
    let defaults = agents_workspace::Settings::dirs(&environment);
    let dirs = agents_workspace::Dirs {
        tools: defaults.tools,
        home: args.home.unwrap_or(defaults.home),
        config: args.config_dir.unwrap_or(defaults.config),
        cache: args.cache_dir.unwrap_or(defaults.cache),
        state: args.state_dir.unwrap_or(defaults.state),
    };
    let runtime_dir = args.runtime_dir.unwrap_or_else(|| agents_workspace::Settings::runtime_dir(&environment, &dirs));
    let settings = daemon::Settings { dirs, runtime_dir, git_fetch_with_cli: args.git_fetch_with_cli, environment };
    match daemon::run(settings) {
        Ok(()) => {}
        Err(error) if error.is::<daemon::AlreadyRunning>() => tracing::warn!("{error}"),
        Err(error) => {
            tracing::error!("{}", agents_workspace::control::error_text(error.as_ref()));
            std::process::exit(1);
        }
    }
}

/// The process's environment for the shared loader, found the way `agents` finds it.
fn environment() -> Result<agents_workspace::Environment, &'static str> {
    let base = directories::BaseDirs::new().ok_or("cannot find the home directory (is HOME set?)")?;
    Ok(agents_workspace::Environment::new(
        base.home_dir().to_path_buf(),
        base.config_dir().to_path_buf(),
        base.cache_dir().to_path_buf(),
        base.state_dir().unwrap_or_else(|| base.data_local_dir()).to_path_buf(),
        |name| std::env::var_os(name),
    ))
}
