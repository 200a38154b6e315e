//! Files written for other tools: each agent converted into each target's format, at the
//! target's path in the project (or the home, in user scope). Claude Code's file is the agent
//! itself and is handled as the primary file everywhere else.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use agents_format::{AgentFile, AgentName, LockedFile, RelativePath, Sha256, Target};

use crate::workspace::{Scope, Workspace};

/// Where each tool reads its user-scope agents, relative to the home, as the tool's own
/// environment variables place it. The binary builds it with [`ToolHomes::from_env`], passing
/// its environment in (this library reads none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolHomes {
    /// Per target, a directory other than [`Target::user_dir`].
    moved: Vec<(Target, RelativePath)>,
}

impl ToolHomes {
    /// The variables each tool reads, from its own source (see `docs/targets.md`): Claude Code
    /// `$CLAUDE_CONFIG_DIR/agents`, OpenCode `$XDG_CONFIG_HOME/opencode/agent`, Copilot `$COPILOT_HOME/agents`, Gemini CLI
    /// `$GEMINI_CLI_HOME/.gemini/agents`, Codex `$CODEX_HOME/agents`. An empty variable counts as
    /// unset, as in the tools. A directory outside `home` (or not absolute) cannot be managed,
    /// since user-scope paths are pinned relative to the home: the default is kept and the
    /// returned warning says why.
    pub fn from_env(home: &Path, lookup: impl Fn(&str) -> Option<OsString>) -> (ToolHomes, Vec<String>) {
        let mut homes = ToolHomes::default();
        let mut warnings = Vec::new();
        for (target, variable, below) in [
            (Target::ClaudeCode, "CLAUDE_CONFIG_DIR", "agents"),
            (Target::OpenCode, "XDG_CONFIG_HOME", "opencode/agent"),
            (Target::Copilot, "COPILOT_HOME", "agents"),
            (Target::Gemini, "GEMINI_CLI_HOME", ".gemini/agents"),
            (Target::Codex, "CODEX_HOME", "agents"),
        ] {
            let Some(value) = lookup(variable).filter(|v| !v.is_empty()) else { continue };
            let dir = PathBuf::from(&value).join(below);
            let relative = dir
                .strip_prefix(home)
                .ok()
                .filter(|rest| dir.is_absolute() && rest.components().all(|c| matches!(c, Component::Normal(_))))
                .and_then(|rest| rest.to_str())
                .and_then(|rest| RelativePath::parse(rest).ok());
            match relative {
                Some(relative) if relative.as_str() == target.user_dir() => {}
                Some(relative) => homes.moved.push((target, relative)),
                None => warnings.push(format!(
                    "{variable}={} is outside the home directory {}: user-scope {target} agents go to ~/{} instead",
                    value.to_string_lossy(),
                    home.display(),
                    target.user_dir()
                )),
            }
        }
        (homes, warnings)
    }

    /// The directory `target` reads user-scope agents from, relative to the home.
    pub fn user_dir(&self, target: Target) -> &str {
        self.moved.iter().find(|(t, _)| *t == target).map_or(target.user_dir(), |(_, dir)| dir.as_str())
    }

    /// Where Claude Code keeps the user's agents, skills and commands, relative to the home and
    /// ending in `/` (empty when it is the home itself): `.claude/`, or where `CLAUDE_CONFIG_DIR`
    /// puts it. Claude Code reads all three below it (`<dir>/agents`, `<dir>/skills`,
    /// `<dir>/commands`; see `docs/targets.md`).
    pub fn claude_home(&self) -> &str {
        self.user_dir(Target::ClaudeCode).strip_suffix("agents").unwrap_or(".claude/")
    }

    /// The directory `target` reads user-scope commands from, relative to the home; `None` when it
    /// has none there. Claude Code's, OpenCode's and Gemini CLI's follow the same variable as
    /// their agents (`$CLAUDE_CONFIG_DIR/commands`, `$XDG_CONFIG_HOME/opencode/command`,
    /// `$GEMINI_CLI_HOME/.gemini/commands`).
    pub fn user_command_dir(&self, target: Target) -> Option<String> {
        let default = target.command_user_dir()?;
        let Some((agents, commands)) = moved_dirs(target) else { return Some(default.to_owned()) };
        Some(self.user_dir(target).strip_suffix(agents).map_or(default.to_owned(), |base| format!("{base}{commands}")))
    }
}

/// For a tool whose user directory a variable moves: the tail of its agents directory and of its
/// commands directory below what the variable names.
fn moved_dirs(target: Target) -> Option<(&'static str, &'static str)> {
    match target {
        Target::ClaudeCode => Some(("agents", "commands")),
        Target::OpenCode => Some(("opencode/agent", "opencode/command")),
        Target::Gemini => Some((".gemini/agents", ".gemini/commands")),
        _ => None,
    }
}

/// The part of a user-scope command path that stays the same wherever the tool's variable moves
/// its directory (`opencode/command/NAME.md`); `None` for a tool no variable moves.
pub(crate) fn moved_command_tail(target: Target, name: &AgentName) -> Option<String> {
    moved_dirs(target).map(|(_, commands)| format!("{commands}/{}", target.command_file_name(name)))
}

/// One converted file to write.
#[derive(Debug, Clone)]
pub(crate) struct TargetFile {
    pub(crate) target: Target,
    /// Relative to the project root (or the home): what the lockfile records.
    pub(crate) relative: RelativePath,
    pub(crate) bytes: Vec<u8>,
    pub(crate) unmapped: Vec<String>,
}

impl TargetFile {
    pub(crate) fn locked(&self) -> LockedFile {
        LockedFile {
            target: self.target.as_str().to_owned(),
            path: self.relative.clone(),
            sha256: Sha256::of(&self.bytes),
        }
    }
}

impl Workspace {
    /// Where `target`'s file for `name` goes, relative to the boundary the lockfile paths are
    /// under (the project root, or the home).
    pub fn target_relative(&self, target: Target, name: &AgentName) -> RelativePath {
        let text = match self.scope {
            Scope::Project => target.project_path(name),
            Scope::User => format!("{}/{}", self.dirs.tools.user_dir(target), target.file_name(name)),
        };
        RelativePath::parse(&text).expect("an agent name makes a plain relative path")
    }

    /// Where `target`'s copy of the command `name` goes, relative to the boundary; `None` when
    /// the tool reads no commands in this scope (Codex; Copilot in user scope).
    pub fn command_relative(&self, target: Target, name: &AgentName) -> Option<RelativePath> {
        let text = match self.scope {
            Scope::Project => target.command_project_path(name)?,
            Scope::User => format!("{}/{}", self.dirs.tools.user_command_dir(target)?, target.command_file_name(name)),
        };
        RelativePath::parse(&text).ok()
    }

    /// `below` in Claude Code's directory, relative to the boundary: `.claude/<below>` in a
    /// project, `<claude home>/<below>` in user scope ([`ToolHomes::claude_home`]).
    pub fn claude_relative(&self, below: &str) -> String {
        match self.scope {
            Scope::Project => format!(".claude/{below}"),
            Scope::User => format!("{}{below}", self.dirs.tools.claude_home()),
        }
    }

    /// Whether `path` (relative to the boundary) is inside Claude Code's directory, the default
    /// `.claude` or, in user scope, where `CLAUDE_CONFIG_DIR` puts it (when that is the home
    /// itself: its `agents`, `skills` or `commands`). Another tool's file pinned before its
    /// variable moved may never be there, where Claude Code would read it.
    pub(crate) fn inside_claude_dir(&self, path: &RelativePath) -> bool {
        let path = path.as_str();
        let home = self.dirs.tools.claude_home();
        path.starts_with(".claude/")
            || (self.scope == Scope::User
                && if home.is_empty() {
                    ["agents/", "skills/", "commands/"].iter().any(|dir| path.starts_with(dir))
                } else {
                    path.starts_with(home)
                })
    }

    /// A path under the boundary made absolute, for messages.
    pub fn resolve(&self, relative: &RelativePath) -> PathBuf {
        self.boundary.join(relative.as_str())
    }
}

/// The files `body` (the agent `name`, as published) becomes for `targets` (Claude Code left out).
pub(crate) fn target_files(
    workspace: &Workspace,
    targets: &[Target],
    name: &AgentName,
    body: &[u8],
) -> Vec<TargetFile> {
    let Ok(file) = AgentFile::parse(body) else { return Vec::new() };
    targets
        .iter()
        .filter(|t| **t != Target::ClaudeCode)
        .map(|&target| {
            let converted = target.convert(&file, body);
            let relative = workspace.target_relative(target, name);
            TargetFile { target, relative, bytes: converted.bytes, unmapped: converted.unmapped }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn homes(vars: &[(&str, &str)]) -> (ToolHomes, Vec<String>) {
        let vars: Vec<(String, OsString)> = vars.iter().map(|(k, v)| ((*k).to_owned(), OsString::from(v))).collect();
        ToolHomes::from_env(Path::new("/home/u"), |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn each_tool_follows_its_own_variable() {
        let (none, warnings) = homes(&[]);
        assert!(warnings.is_empty());
        for target in Target::ALL {
            assert_eq!(none.user_dir(target), target.user_dir());
        }
        let (moved, warnings) = homes(&[
            ("XDG_CONFIG_HOME", "/home/u/xdg"),
            ("COPILOT_HOME", "/home/u/cp"),
            ("GEMINI_CLI_HOME", "/home/u/g"),
            ("CODEX_HOME", "/home/u/cx"),
            ("CLAUDE_CONFIG_DIR", "/home/u/claude"),
        ]);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(moved.user_dir(Target::OpenCode), "xdg/opencode/agent");
        assert_eq!(moved.user_dir(Target::Copilot), "cp/agents");
        assert_eq!(moved.user_dir(Target::Gemini), "g/.gemini/agents");
        assert_eq!(moved.user_dir(Target::Codex), "cx/agents");
        assert_eq!(moved.user_dir(Target::Cursor), ".cursor/agents");
        assert_eq!(moved.user_dir(Target::ClaudeCode), "claude/agents");
        // Claude Code's skills and commands sit beside its agents, wherever the variable puts them.
        assert_eq!((none.claude_home(), moved.claude_home()), (".claude/", "claude/"));
        assert_eq!(none.user_command_dir(Target::ClaudeCode).as_deref(), Some(".claude/commands"));
        assert_eq!(moved.user_command_dir(Target::ClaudeCode).as_deref(), Some("claude/commands"));
        let (home, _) = homes(&[("CLAUDE_CONFIG_DIR", "/home/u")]);
        assert_eq!((home.claude_home(), home.user_command_dir(Target::ClaudeCode).as_deref()), ("", Some("commands")));
        // Empty is unset; the default spelled out is the default.
        let (same, warnings) = homes(&[("CODEX_HOME", ""), ("XDG_CONFIG_HOME", "/home/u/.config")]);
        assert_eq!((same, warnings), (ToolHomes::default(), Vec::new()));
        // Outside the home, relative or with `..`: kept at the default, with a warning.
        for value in ["/opt/codex", "cx", "/home/u/../v/cx"] {
            let (kept, warnings) = homes(&[("CODEX_HOME", value)]);
            assert_eq!(kept.user_dir(Target::Codex), ".codex/agents", "{value}");
            assert!(warnings[0].starts_with(&format!("CODEX_HOME={value} is outside")), "{warnings:?}");
        }
    }
}
