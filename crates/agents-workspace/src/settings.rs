//! One configuration loader for both binaries: which directories, which runtime directory,
//! which network settings, and which source wins. The library reads no environment: a binary
//! reads the variables named in [`Environment::VARIABLES`] and the platform's directories, and
//! passes them in, so `agents` and `agentsd` started in the same environment agree.
//!
//! Precedence, for every setting: a command-line flag, then the environment, then
//! `config.toml`, then the default.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

use agents_registry::NetConfig;

use crate::error::Result;
use crate::workspace::{Dirs, Workspace};

/// What a binary read from its process: the platform's per-user directories and the variables
/// that override them.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub home: PathBuf,
    /// The platform's config, cache and state directories (XDG on Linux, `~/Library` on macOS).
    pub config_dir: PathBuf,
    pub cache_dir: PathBuf,
    pub state_dir: PathBuf,
    /// The values of [`Environment::VARIABLES`] that are set.
    pub vars: BTreeMap<String, OsString>,
}

impl Environment {
    /// Every variable the loader looks at.
    pub const VARIABLES: &'static [&'static str] = &[
        "AGENTS_CONFIG_DIR",
        "AGENTS_CACHE_DIR",
        "AGENTS_STATE_DIR",
        "XDG_RUNTIME_DIR",
        GIT_FETCH_WITH_CLI_VARIABLE,
        "USER",
        // Each tool's own home, for its user-scope files (`ToolHomes`).
        "CLAUDE_CONFIG_DIR",
        "XDG_CONFIG_HOME",
        "COPILOT_HOME",
        "GEMINI_CLI_HOME",
        "CODEX_HOME",
        // Sparse registries over HTTP, as curl and cargo read them (`PROXY_VARIABLES`, and the netrc).
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
        "NETRC",
        "AGENTS_HTTP_TIMEOUT",
    ];

    /// The environment a binary sees: the platform's directories (the binary finds them, as
    /// `directories::BaseDirs` does) and `var` for each of [`Environment::VARIABLES`]
    /// (`std::env::var_os` in a binary; the library itself never reads the environment).
    pub fn new(
        home: PathBuf,
        config_dir: PathBuf,
        cache_dir: PathBuf,
        state_dir: PathBuf,
        var: impl Fn(&str) -> Option<OsString>,
    ) -> Environment {
        let vars =
            Environment::VARIABLES.iter().filter_map(|name| var(name).map(|v| ((*name).to_owned(), v))).collect();
        Environment { home, config_dir, cache_dir, state_dir, vars }
    }

    fn var(&self, name: &str) -> Option<&OsString> {
        self.vars.get(name).filter(|value| !value.is_empty())
    }
}

/// The proxy settings, as curl, git and cargo read them (all of them among
/// [`Environment::VARIABLES`]; the service unit passes them on too).
pub const PROXY_VARIABLES: &[&str] =
    &["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"];

/// `AGENTS_NET_GIT_FETCH_WITH_CLI=true` overrides `[net] git-fetch-with-cli` in config.toml.
pub const GIT_FETCH_WITH_CLI_VARIABLE: &str = "AGENTS_NET_GIT_FETCH_WITH_CLI";

/// Directories and network settings, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub dirs: Dirs,
    /// Where the daemon's socket and lock live: `$XDG_RUNTIME_DIR/agents`, else
    /// `<state>/daemon/run`. The CLI, `agentsd` and the service units all use this rule.
    pub runtime_dir: PathBuf,
    pub git_fetch_with_cli: bool,
    /// The user name for ssh URLs that name none (`$USER`).
    pub default_username: Option<String>,
}

impl Settings {
    /// The directories `environment` gives: each `AGENTS_*_DIR` overrides the platform's.
    pub fn dirs(environment: &Environment) -> Dirs {
        let pick = |variable: &str, default: &PathBuf| {
            environment.var(variable).map_or_else(|| default.clone(), PathBuf::from)
        };
        let (tools, _) = crate::ToolHomes::from_env(&environment.home, |name| environment.var(name).cloned());
        Dirs {
            tools,
            home: environment.home.clone(),
            config: pick("AGENTS_CONFIG_DIR", &environment.config_dir.join("agents")),
            cache: pick("AGENTS_CACHE_DIR", &environment.cache_dir.join("agents")),
            state: pick("AGENTS_STATE_DIR", &environment.state_dir.join("agents")),
        }
    }

    /// Why a tool's home variable was not followed (it points outside the home), for the binary
    /// to log.
    pub fn tool_home_warnings(environment: &Environment) -> Vec<String> {
        crate::ToolHomes::from_env(&environment.home, |name| environment.var(name).cloned()).1
    }

    /// How sparse registries are reached: `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/`NO_PROXY`
    /// (either case), `NETRC` (else `~/.netrc`), and `AGENTS_HTTP_TIMEOUT` (seconds per request,
    /// like cargo's `CARGO_HTTP_TIMEOUT`).
    pub fn http_config(environment: &Environment) -> agents_registry::HttpConfig {
        let variable = |name: &str| {
            environment
                .var(name)
                .or_else(|| environment.var(&name.to_ascii_lowercase()))
                .map(|value| value.to_string_lossy().into_owned())
        };
        let mut config = agents_registry::HttpConfig {
            http_proxy: variable("HTTP_PROXY"),
            https_proxy: variable("HTTPS_PROXY").or_else(|| variable("ALL_PROXY")),
            no_proxy: variable("NO_PROXY"),
            netrc: Some(environment.var("NETRC").map_or_else(|| environment.home.join(".netrc"), PathBuf::from)),
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

    /// The runtime directory rule, for `dirs` in `environment`.
    pub fn runtime_dir(environment: &Environment, dirs: &Dirs) -> PathBuf {
        environment
            .var("XDG_RUNTIME_DIR")
            .map_or_else(|| dirs.daemon_dir().join("run"), |dir| PathBuf::from(dir).join("agents"))
    }

    /// Loads everything for `dirs` (the directories, possibly given as flags): network settings
    /// from the environment over the user's `config.toml`.
    pub fn load(environment: &Environment, dirs: Dirs) -> Result<Settings> {
        let (_, config) = Workspace::user(dirs.clone()).read_user_config()?;
        let from_env = environment
            .var(GIT_FETCH_WITH_CLI_VARIABLE)
            .map(|value| matches!(value.to_string_lossy().as_ref(), "1" | "true" | "yes"));
        let git_fetch_with_cli = from_env.or(config.net.git_fetch_with_cli).unwrap_or(false);
        let runtime_dir = Settings::runtime_dir(environment, &dirs);
        let default_username = environment.var("USER").map(|user| user.to_string_lossy().into_owned());
        Ok(Settings { dirs, runtime_dir, git_fetch_with_cli, default_username })
    }

    /// The network configuration for a registry cache (no progress reporting).
    pub fn net_config(&self) -> NetConfig {
        NetConfig {
            git_fetch_with_cli: self.git_fetch_with_cli,
            home: Some(self.dirs.home.clone()),
            default_username: self.default_username.clone(),
            progress: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loader_reads_every_proxy_variable_the_service_passes_on() {
        for name in PROXY_VARIABLES {
            assert!(Environment::VARIABLES.contains(name), "{name}");
        }
    }

    fn environment(vars: &[(&str, &str)]) -> Environment {
        Environment {
            home: PathBuf::from("/h"),
            config_dir: PathBuf::from("/h/.config"),
            cache_dir: PathBuf::from("/h/.cache"),
            state_dir: PathBuf::from("/h/.local/state"),
            vars: vars.iter().map(|(k, v)| ((*k).to_owned(), OsString::from(v))).collect(),
        }
    }

    #[test]
    fn overrides_and_the_runtime_rule() {
        let plain = environment(&[]);
        let dirs = Settings::dirs(&plain);
        assert_eq!(dirs.state, PathBuf::from("/h/.local/state/agents"));
        assert_eq!(Settings::runtime_dir(&plain, &dirs), PathBuf::from("/h/.local/state/agents/daemon/run"));
        let set =
            environment(&[("AGENTS_STATE_DIR", "/s"), ("XDG_RUNTIME_DIR", "/run/user/7"), ("AGENTS_CACHE_DIR", "")]);
        let dirs = Settings::dirs(&set);
        assert_eq!(dirs.state, PathBuf::from("/s"));
        assert_eq!(dirs.cache, PathBuf::from("/h/.cache/agents"), "an empty variable is unset");
        assert_eq!(Settings::runtime_dir(&set, &dirs), PathBuf::from("/run/user/7/agents"));
    }

    #[test]
    fn the_environment_wins_over_config_toml() {
        let temp = tempfile::tempdir().expect("a temporary directory");
        let base = temp.path().to_path_buf();
        let check = |config: Option<&str>, variable: Option<&str>, expected: bool| {
            let mut environment = environment(&[]);
            environment.config_dir = base.clone();
            environment.state_dir = base.clone();
            environment.cache_dir = base.clone();
            if let Some(value) = variable {
                environment.vars.insert(GIT_FETCH_WITH_CLI_VARIABLE.to_owned(), value.into());
            }
            let dirs = Settings::dirs(&environment);
            std::fs::create_dir_all(&dirs.config).expect("config dir");
            let path = dirs.config.join("config.toml");
            match config {
                Some(value) => std::fs::write(&path, format!("[net]\ngit-fetch-with-cli = {value}\n")).expect("write"),
                None => {
                    let _ = std::fs::remove_file(&path);
                }
            }
            let settings = Settings::load(&environment, dirs).expect("loads");
            assert_eq!(settings.git_fetch_with_cli, expected, "config {config:?}, variable {variable:?}");
        };
        check(None, None, false);
        check(Some("true"), None, true);
        check(Some("true"), Some("false"), false);
        check(Some("false"), Some("true"), true);
        check(None, Some("1"), true);
    }
}
