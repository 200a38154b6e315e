//! What every command needs from the environment: directories, the workspace, the clock.

use std::path::PathBuf;

use agents_registry::{Cache, FetchMode, NetConfig};
use agents_workspace::{Dirs, Environment, Registries, Settings, Workspace};
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
    /// What the process's environment says, for the shared loader.
    pub(crate) environment: Environment,
}

impl Context {
    pub(crate) fn from_env(global: bool, quiet: bool, verbose: bool) -> anyhow::Result<Context> {
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        let environment = environment()?;
        for warning in Settings::tool_home_warnings(&environment) {
            tracing::warn!("{warning}");
        }
        let dirs = Settings::dirs(&environment);
        let runtime_dir = Settings::runtime_dir(&environment, &dirs);
        let systemd_user_dir = environment.config_dir.join("systemd").join("user");
        Ok(Context { cwd, dirs, global, quiet, verbose, runtime_dir, systemd_user_dir, environment })
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
        Ok(self.settings()?.git_fetch_with_cli)
    }

    /// Directories and network settings through the loader agentsd uses too.
    pub(crate) fn settings(&self) -> anyhow::Result<Settings> {
        Ok(Settings::load(&self.environment, self.dirs.clone())?)
    }

    /// The registry cache, with the network settings from the user config and environment.
    pub(crate) fn cache(&self) -> anyhow::Result<Cache> {
        let mut net: NetConfig = self.settings()?.net_config();
        net.progress = crate::progress::FetchProgress::for_terminal(self.quiet)
            .map(|p| std::sync::Arc::new(p) as std::sync::Arc<dyn agents_registry::Progress>);
        Ok(Cache::with_net(&self.dirs.cache, net).with_http(Settings::http_config(&self.environment)))
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The process's environment for the shared loader: the platform's directories (XDG locations
/// via `directories`) and the variables that override them.
pub(crate) fn environment() -> anyhow::Result<Environment> {
    let base = directories::BaseDirs::new().context("cannot find the home directory (is HOME set?)")?;
    Ok(Environment::new(
        base.home_dir().to_path_buf(),
        base.config_dir().to_path_buf(),
        base.cache_dir().to_path_buf(),
        base.state_dir().unwrap_or_else(|| base.data_local_dir()).to_path_buf(),
        |name| std::env::var_os(name),
    ))
}

/// The user's editor: `$VISUAL`, else `$EDITOR` (a command line, as git reads them).
pub(crate) fn editor() -> Option<std::ffi::OsString> {
    ["VISUAL", "EDITOR"].iter().filter_map(std::env::var_os).find(|editor| !editor.is_empty())
}
