//! What every command needs from the environment: directories, the workspace, the clock.

use std::path::PathBuf;

use agents_registry::{Cache, FetchMode, NetConfig};
use agents_workspace::{Dirs, Registries, Workspace};
use anyhow::Context as _;

pub(crate) struct Context {
    pub(crate) cwd: PathBuf,
    pub(crate) dirs: Dirs,
    pub(crate) global: bool,
    pub(crate) quiet: bool,
    /// `-v`: details where the default output summarises (each conversion note).
    pub(crate) verbose: bool,
    /// Where the daemon's socket and lock live: `$XDG_RUNTIME_DIR/agents`, else the state dir.
    pub(crate) runtime_dir: PathBuf,
    /// Where systemd looks for user units (`~/.config/systemd/user`).
    pub(crate) systemd_user_dir: PathBuf,
}

/// `AGENTS_NET_GIT_FETCH_WITH_CLI=true` overrides `[net] git-fetch-with-cli` in config.toml.
const GIT_CLI_VARIABLE: &str = "AGENTS_NET_GIT_FETCH_WITH_CLI";

impl Context {
    pub(crate) fn from_env(global: bool, quiet: bool, verbose: bool) -> anyhow::Result<Context> {
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        let dirs = dirs()?;
        let runtime_dir = std::env::var_os("XDG_RUNTIME_DIR")
            .map(|dir| PathBuf::from(dir).join("agents"))
            .unwrap_or_else(|| dirs.daemon_dir().join("run"));
        let base = directories::BaseDirs::new().context("cannot find the home directory (is HOME set?)")?;
        let systemd_user_dir = base.config_dir().join("systemd").join("user");
        Ok(Context { cwd, dirs, global, quiet, verbose, runtime_dir, systemd_user_dir })
    }

    /// The workspace commands read: the user scope with `--global`, else the project around
    /// the current directory (outside any project: the current directory, which then holds
    /// nothing to read).
    pub(crate) fn workspace(&self) -> Workspace {
        self.discover().unwrap_or_else(|_| Workspace::project(self.cwd.clone(), self.dirs.clone()))
    }

    /// The workspace a command that writes acts on. Outside any project it refuses, saying
    /// where it would have written, rather than making the current directory a project.
    pub(crate) fn workspace_to_change(&self) -> anyhow::Result<Workspace> {
        Ok(self.discover()?)
    }

    fn discover(&self) -> Result<Workspace, agents_workspace::WorkspaceError> {
        if self.global {
            return Ok(Workspace::user(self.dirs.clone()));
        }
        let discovered = Workspace::discover(&self.cwd, self.dirs.clone());
        for manifest in &discovered.ignored {
            tracing::warn!("ignoring {}: it is owned by another user", manifest.display());
        }
        discovered.workspace.ok_or_else(|| agents_workspace::WorkspaceError::NoProject { start: self.cwd.clone() })
    }

    pub(crate) fn registries(&self, workspace: &Workspace, mode: FetchMode) -> anyhow::Result<Registries> {
        let (_, manifest) = workspace.read_manifest()?;
        Ok(Registries::new(workspace, &manifest, self.cache()?, mode)?)
    }

    /// Whether the user's policy refuses agent files with hidden Unicode.
    pub(crate) fn deny_hidden_unicode(&self) -> anyhow::Result<bool> {
        let (_, config) = Workspace::user(self.dirs.clone()).read_user_config()?;
        Ok(config.security.hidden_unicode == Some(agents_format::HiddenUnicodePolicy::Deny))
    }

    /// Whether fetches go through the git command line (config.toml, overridden by the environment).
    pub(crate) fn git_fetch_with_cli(&self) -> anyhow::Result<bool> {
        let (_, config) = Workspace::user(self.dirs.clone()).read_user_config()?;
        let from_env = std::env::var(GIT_CLI_VARIABLE).ok().map(|v| matches!(v.as_str(), "1" | "true" | "yes"));
        Ok(from_env.or(config.net.git_fetch_with_cli).unwrap_or(false))
    }

    /// The registry cache, with the network settings from the user config and environment.
    pub(crate) fn cache(&self) -> anyhow::Result<Cache> {
        let net = NetConfig {
            git_fetch_with_cli: self.git_fetch_with_cli()?,
            home: Some(self.dirs.home.clone()),
            default_username: std::env::var("USER").ok(),
            progress: crate::progress::FetchProgress::for_terminal(self.quiet)
                .map(|p| std::sync::Arc::new(p) as std::sync::Arc<dyn agents_registry::Progress>),
        };
        Ok(Cache::with_net(&self.dirs.cache, net).with_http(http_config(&self.dirs.home)))
    }
}

/// How sparse registries are reached, from the environment as curl and cargo read it:
/// `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` (either case), `NETRC` (else `~/.netrc`), and
/// `AGENTS_HTTP_TIMEOUT` (seconds per request) like cargo's `CARGO_HTTP_TIMEOUT`.
fn http_config(home: &std::path::Path) -> agents_registry::HttpConfig {
    let variable = |name: &str| {
        std::env::var(name)
            .ok()
            .or_else(|| std::env::var(name.to_ascii_lowercase()).ok())
            .filter(|value| !value.is_empty())
    };
    let mut config = agents_registry::HttpConfig {
        http_proxy: variable("HTTP_PROXY"),
        https_proxy: variable("HTTPS_PROXY").or_else(|| variable("ALL_PROXY")),
        no_proxy: variable("NO_PROXY"),
        netrc: Some(std::env::var_os("NETRC").map_or_else(|| home.join(".netrc"), PathBuf::from)),
        ..agents_registry::HttpConfig::default()
    };
    if let Some(seconds) = variable("AGENTS_HTTP_TIMEOUT").and_then(|value| value.parse::<f64>().ok())
        && seconds > 0.0
    {
        config.timeout = std::time::Duration::from_secs_f64(seconds);
        config.connect_timeout = config.connect_timeout.min(config.timeout);
    }
    config
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The per-user directories: XDG locations (via `directories`), each overridable by an
/// `AGENTS_*_DIR` variable (tests and unusual setups use these).
fn dirs() -> anyhow::Result<Dirs> {
    let base = directories::BaseDirs::new().context("cannot find the home directory (is HOME set?)")?;
    let pick = |variable: &str, default: PathBuf| std::env::var_os(variable).map(PathBuf::from).unwrap_or(default);
    let state_default = base.state_dir().unwrap_or_else(|| base.data_local_dir()).join("agents");
    let (tools, warnings) = agents_workspace::ToolHomes::from_env(base.home_dir(), |name| std::env::var_os(name));
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    Ok(Dirs {
        tools,
        home: base.home_dir().to_path_buf(),
        config: pick("AGENTS_CONFIG_DIR", base.config_dir().join("agents")),
        cache: pick("AGENTS_CACHE_DIR", base.cache_dir().join("agents")),
        state: pick("AGENTS_STATE_DIR", state_default),
    })
}
