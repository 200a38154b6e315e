//! Where every managed file goes, decided here and nowhere else: an agent's Claude Code file and
//! its conversion for each other tool, each file of a skill, a command and its conversions, in
//! project or user scope, and which paths a committed lockfile may name.
//!
//! Layout (the boundary is the project root, or the home in user scope):
//!
//! - an **agent** goes to `.claude/agents/NAME.md` (user scope: `$CLAUDE_CONFIG_DIR/agents/`),
//!   and, converted, to each target's agents directory ([`Placement::target_file`]);
//! - a **skill** goes to `.claude/skills/NAME/` (user scope: `$CLAUDE_CONFIG_DIR/skills/NAME/`)
//!   and, when any other tool is a target, once more to `.agents/skills/NAME/`, which Codex,
//!   Copilot, Cursor, Gemini CLI and OpenCode read (the same path in both scopes);
//! - a **command** goes to `.claude/commands/NAME.md` (user scope:
//!   `$CLAUDE_CONFIG_DIR/commands/`) and, converted, to each target's commands directory
//!   ([`Placement::command_file`]); a tool that gets none is named in a note;
//! - a **plugin** goes to `.claude/agents-plugins/NAME/plugin/` (user scope:
//!   `$CLAUDE_CONFIG_DIR/agents-plugins/NAME/plugin/`), byte for byte, beside a one-plugin
//!   directory marketplace `.claude/agents-plugins/NAME/.claude-plugin/marketplace.json` named
//!   `agents-NAME` ([`plugin_marketplace`]), which Claude Code loads once its settings name it;
//!   when any other tool is a target, each of its skills (`skills/DIR/SKILL.md`) is copied once
//!   more to `.agents/skills/DIR/`, under the skill's own name.
//!
//! [`Placement::place`] turns a package's verified contents into the files it puts in the
//! workspace for a set of tools; it is pure, so the wanted state of a workspace is a function of
//! its lockfile, its targets and the pinned bytes.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use agents_format::{AgentFile, AgentName, FileMode, Kind, LockedAgent, RelativePath, Sha256, Target};
use agents_registry::PackageContent;

/// The lockfile target of the shared `.agents/skills/` copy of a skill.
pub(crate) const SHARED_TARGET: &str = "agents";
/// Where the other tools read skills: a skill's shared copy, and a plugin's skills.
const SHARED_SKILLS: &str = ".agents/skills";
/// Where a plugin keeps its skills, one directory each (Claude Code's default, and Agent Plugins
/// 1.0's).
const PLUGIN_SKILLS: &str = "skills/";
/// A plugin's marketplace file, relative to its directory.
const MARKETPLACE_FILE: &str = ".claude-plugin/marketplace.json";
/// Where a plugin's own files go inside its directory.
const PLUGIN_SUBDIR: &str = "plugin";

/// The name of the one-plugin marketplace a plugin is installed as: `agents-NAME`.
pub fn plugin_marketplace_name(name: &AgentName) -> String {
    format!("agents-{name}")
}

/// The skills of a plugin's files the other tools can read: each `skills/DIR/SKILL.md` whose
/// `DIR` is a valid name (the directory is the skill's name to every tool).
pub(crate) fn plugin_skill_dirs(contents: &[PackageContent]) -> Vec<AgentName> {
    contents
        .iter()
        .filter_map(|c| c.file.path.as_str().strip_prefix(PLUGIN_SKILLS)?.strip_suffix("/SKILL.md"))
        .filter(|dir| !dir.contains('/'))
        .filter_map(|dir| AgentName::new(dir).ok())
        .collect()
}

/// The marketplace file of a plugin's directory: the plugin, at `./plugin`. An Agent Plugins
/// package keeps its MCP servers in `mcp.json`, where Claude Code does not look, so its entry
/// names that file (`strict: false` lets the entry add what the package has no Claude Code
/// manifest for). Its bytes depend only on the name and the files, so they are pinned like any
/// conversion.
pub(crate) fn plugin_marketplace(name: &AgentName, contents: &[PackageContent]) -> Vec<u8> {
    let has = |path: &str| contents.iter().any(|c| c.file.path.as_str() == path);
    let mut entry = serde_json::json!({ "name": name.as_str(), "source": format!("./{PLUGIN_SUBDIR}") });
    if !has(agents_format::CLAUDE_PLUGIN_MANIFEST) {
        entry["strict"] = serde_json::Value::Bool(false);
        if has("mcp.json") {
            entry["mcpServers"] = serde_json::Value::String("./mcp.json".to_owned());
        }
    }
    let marketplace = serde_json::json!({
        "name": plugin_marketplace_name(name),
        "owner": { "name": "agents" },
        "metadata": { "description": format!("{name}, installed and pinned by agents (agents.lock); edits are kept as local edits") },
        "plugins": [entry],
    });
    let mut bytes = serde_json::to_vec_pretty(&marketplace).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// Where a workspace keeps its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `agents.toml` at a project root, agents under `.claude/agents/`.
    Project,
    /// `--global`: manifest under the user's config directory, agents under `~/.claude/agents/`.
    User,
}

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
    /// `$CLAUDE_CONFIG_DIR/agents`, OpenCode `$XDG_CONFIG_HOME/opencode/agent`, Copilot
    /// `$COPILOT_HOME/agents`, Gemini CLI `$GEMINI_CLI_HOME/.gemini/agents`, Codex
    /// `$CODEX_HOME/agents`. An empty variable counts as unset, as in the tools. A directory
    /// outside `home` (or not absolute) cannot be managed, since user-scope paths are pinned
    /// relative to the home: the default is kept and the returned warning says why.
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
fn moved_command_tail(target: Target, name: &AgentName) -> Option<String> {
    moved_dirs(target).map(|(_, commands)| format!("{commands}/{}", target.command_file_name(name)))
}

/// A package's verified bytes: an agent's file, or every file of a skill or command.
#[derive(Debug, Clone)]
pub(crate) enum Contents {
    Agent(Vec<u8>),
    Package(Vec<PackageContent>),
}

/// What a placed file's bytes are, to tell which published bytes may be at its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The agent's file itself (every published version's body may be there).
    Body,
    /// A copy of this file of the package (every published version's file at that path).
    Copy(RelativePath),
    /// A conversion for another tool.
    Converted,
}

/// One file a package puts in the workspace.
#[derive(Debug, Clone)]
pub(crate) struct Placed {
    /// The lockfile target: a tool's name, or [`SHARED_TARGET`].
    pub(crate) target: &'static str,
    pub(crate) path: RelativePath,
    pub(crate) bytes: Vec<u8>,
    /// For a package's file, the mode it is published with (a converted command: a regular
    /// file). `None` (agents and their conversions): a replaced file keeps its mode and a new one
    /// gets the umask's.
    pub(crate) mode: Option<FileMode>,
    pub(crate) origin: Origin,
    /// What a conversion could not carry over.
    pub(crate) notes: Vec<String>,
}

/// Every file of one package, and the tools that get none (each with why).
#[derive(Debug, Clone, Default)]
pub(crate) struct PlacedPackage {
    pub(crate) files: Vec<Placed>,
    pub(crate) skipped: Vec<(&'static str, String)>,
}

/// Where the files of a workspace go: its scope and each tool's home.
#[derive(Debug, Clone, Copy)]
pub struct Placement<'a> {
    pub(crate) scope: Scope,
    pub(crate) tools: &'a ToolHomes,
}

impl Placement<'_> {
    /// The agents directory relative to the boundary (`.claude/agents`, or in user scope where
    /// `CLAUDE_CONFIG_DIR` puts it).
    pub fn agents_dir(&self) -> &str {
        match self.scope {
            Scope::Project => ".claude/agents",
            Scope::User => self.tools.user_dir(Target::ClaudeCode),
        }
    }

    /// `name`'s Claude Code file.
    pub fn agent_file(&self, name: &AgentName) -> RelativePath {
        self.target_file(Target::ClaudeCode, name)
    }

    /// Where `target`'s file for the agent `name` goes.
    pub fn target_file(&self, target: Target, name: &AgentName) -> RelativePath {
        let text = match self.scope {
            Scope::Project => target.project_path(name),
            Scope::User => format!("{}/{}", self.tools.user_dir(target), target.file_name(name)),
        };
        RelativePath::parse(&text).expect("an agent name makes a plain relative path")
    }

    /// Where `target`'s copy of the command `name` goes; `None` when the tool reads no commands
    /// in this scope (Codex; Copilot in user scope).
    pub fn command_file(&self, target: Target, name: &AgentName) -> Option<RelativePath> {
        let text = match self.scope {
            Scope::Project => target.command_project_path(name)?,
            Scope::User => format!("{}/{}", self.tools.user_command_dir(target)?, target.command_file_name(name)),
        };
        RelativePath::parse(&text).ok()
    }

    /// `below` in Claude Code's directory: `.claude/<below>` in a project, `<claude home>/<below>`
    /// in user scope ([`ToolHomes::claude_home`]).
    pub fn claude_relative(&self, below: &str) -> String {
        match self.scope {
            Scope::Project => format!(".claude/{below}"),
            Scope::User => format!("{}{below}", self.tools.claude_home()),
        }
    }

    /// Whether `path` is inside Claude Code's directory, the default `.claude` or, in user scope,
    /// where `CLAUDE_CONFIG_DIR` puts it (when that is the home itself: its `agents`, `skills` or
    /// `commands`). Another tool's file pinned before its variable moved may never be there,
    /// where Claude Code would read it.
    pub(crate) fn inside_claude_dir(&self, path: &RelativePath) -> bool {
        let path = path.as_str();
        let home = self.tools.claude_home();
        path.starts_with(".claude/")
            || (self.scope == Scope::User
                && if home.is_empty() {
                    ["agents/", "skills/", "commands/"].iter().any(|dir| path.starts_with(dir))
                } else {
                    path.starts_with(home)
                })
    }

    /// The directories a skill is installed into, each with its lockfile target: Claude Code's,
    /// and the shared `.agents/skills/` copy when another tool is a target.
    pub(crate) fn skill_dirs(&self, name: &AgentName, tools: &[Target]) -> Vec<(&'static str, String)> {
        let mut dirs = vec![(Target::ClaudeCode.as_str(), self.claude_relative(&format!("skills/{name}")))];
        if tools.iter().any(|t| *t != Target::ClaudeCode) {
            dirs.push((SHARED_TARGET, Self::shared_skill_dir(name)));
        }
        dirs
    }

    /// The shared copy of a skill the other tools read (`.agents/skills/NAME`), in every scope.
    pub(crate) fn shared_skill_dir(name: &AgentName) -> String {
        format!("{SHARED_SKILLS}/{name}")
    }

    /// The shared skill directory a plugin's file at `path` is in (`.agents/skills/DIR`), which
    /// belongs to that plugin alone and goes with it once empty.
    pub(crate) fn plugin_skill_dir(kind: Kind, path: &RelativePath) -> Option<String> {
        let rest = path.as_str().strip_prefix(SHARED_SKILLS)?.strip_prefix('/')?;
        let (dir, _) = rest.split_once('/')?;
        (kind == Kind::Plugin).then(|| format!("{SHARED_SKILLS}/{dir}"))
    }

    /// The file that stands for a package: the agent's file, the Claude Code copy of `SKILL.md`,
    /// or the command's file.
    pub fn main_file(&self, kind: Kind, name: &AgentName) -> RelativePath {
        let text = match kind {
            Kind::Agent => return self.agent_file(name),
            Kind::Command => self.claude_relative(&format!("commands/{}", name.file_name())),
            Kind::Skill => self.claude_relative(&format!("skills/{name}/SKILL.md")),
            // A bundle puts no file anywhere: what stands for it is the lockfile that pins it.
            Kind::Bundle => "agents.lock".to_owned(),
            Kind::Plugin => format!("{}/{MARKETPLACE_FILE}", self.plugin_dir(name)),
        };
        RelativePath::parse(&text).expect("a package name makes a plain relative path")
    }

    /// Where a package is, for messages: a skill's Claude Code directory, a plugin's directory,
    /// else its main file.
    pub fn shown_path(&self, kind: Kind, name: &AgentName) -> RelativePath {
        match kind {
            Kind::Skill => {
                RelativePath::parse(&self.claude_relative(&format!("skills/{name}"))).expect("a plain relative path")
            }
            Kind::Plugin => RelativePath::parse(&self.plugin_dir(name)).expect("a plain relative path"),
            kind => self.main_file(kind, name),
        }
    }

    /// The directories a package's files live in that belong to it alone (a skill's two
    /// directories), which go with it once empty: `.claude/skills/NAME` and `.agents/skills/NAME`.
    pub(crate) fn own_dirs(&self, kind: Kind, name: &AgentName) -> Vec<String> {
        match kind {
            Kind::Skill => self.skill_dirs(name, &[Target::Codex]).into_iter().map(|(_, dir)| dir).collect(),
            Kind::Plugin => vec![self.plugin_dir(name)],
            Kind::Agent | Kind::Command | Kind::Bundle => Vec::new(),
        }
    }

    /// Every file a package with `contents` puts in the workspace for `tools` (Claude Code is
    /// always one), in order: the Claude Code files first, then each tool's.
    pub(crate) fn place(&self, kind: Kind, name: &AgentName, tools: &[Target], contents: &Contents) -> PlacedPackage {
        match (kind, contents) {
            (Kind::Agent, Contents::Agent(body)) => self.place_agent(name, tools, body),
            (Kind::Command, Contents::Package(files)) => self.place_command(name, tools, files),
            (Kind::Skill, Contents::Package(files)) => self.place_skill(name, tools, files),
            (Kind::Plugin, Contents::Package(files)) => self.place_plugin(name, tools, files),
            // A bundle has no files, and a record's kind and its contents always agree (the registry reads one by the other).
            _ => PlacedPackage::default(),
        }
    }

    fn place_agent(&self, name: &AgentName, tools: &[Target], body: &[u8]) -> PlacedPackage {
        let mut files = vec![Placed {
            target: Target::ClaudeCode.as_str(),
            path: self.agent_file(name),
            bytes: body.to_vec(),
            mode: None,
            origin: Origin::Body,
            notes: Vec::new(),
        }];
        // A body that does not parse was refused at publish; it gets no conversion here either.
        if let Ok(file) = AgentFile::parse(body) {
            for &target in tools.iter().filter(|t| **t != Target::ClaudeCode) {
                let converted = target.convert(&file, body);
                files.push(Placed {
                    target: target.as_str(),
                    path: self.target_file(target, name),
                    bytes: converted.bytes,
                    mode: None,
                    origin: Origin::Converted,
                    notes: converted.unmapped,
                });
            }
        }
        PlacedPackage { files, skipped: Vec::new() }
    }

    fn place_skill(&self, name: &AgentName, tools: &[Target], contents: &[PackageContent]) -> PlacedPackage {
        let mut files = Vec::new();
        for (target, dir) in self.skill_dirs(name, tools) {
            for content in contents {
                let Ok(path) = RelativePath::parse(&format!("{dir}/{}", content.file.path)) else { continue };
                files.push(Placed {
                    target,
                    path,
                    bytes: content.bytes.clone(),
                    mode: Some(content.file.mode),
                    origin: Origin::Copy(content.file.path.clone()),
                    notes: Vec::new(),
                });
            }
        }
        PlacedPackage { files, skipped: Vec::new() }
    }

    /// The directory a plugin's marketplace and files go in: `.claude/agents-plugins/NAME`.
    pub(crate) fn plugin_dir(&self, name: &AgentName) -> String {
        self.claude_relative(&format!("agents-plugins/{name}"))
    }

    /// A plugin's files, each copied below `plugin/`, and its one-plugin marketplace; the other
    /// tools are named, since they get only its MCP servers (`plugins.rs`), as entries.
    fn place_plugin(&self, name: &AgentName, tools: &[Target], contents: &[PackageContent]) -> PlacedPackage {
        let dir = self.plugin_dir(name);
        let claude = Target::ClaudeCode.as_str();
        let mut placed = PlacedPackage::default();
        if let Ok(path) = RelativePath::parse(&format!("{dir}/{MARKETPLACE_FILE}")) {
            placed.files.push(Placed {
                target: claude,
                path,
                bytes: plugin_marketplace(name, contents),
                mode: Some(FileMode::Regular),
                origin: Origin::Converted,
                notes: Vec::new(),
            });
        }
        for content in contents {
            let Ok(path) = RelativePath::parse(&format!("{dir}/{PLUGIN_SUBDIR}/{}", content.file.path)) else {
                continue;
            };
            placed.files.push(Placed {
                target: claude,
                path,
                bytes: content.bytes.clone(),
                mode: Some(content.file.mode),
                origin: Origin::Copy(content.file.path.clone()),
                notes: Vec::new(),
            });
        }
        let others: Vec<Target> = tools.iter().copied().filter(|t| *t != Target::ClaudeCode).collect();
        if others.is_empty() {
            return placed;
        }
        // The other tools read the plugin's skills as skills (each at `.agents/skills/DIR/`,
        // byte for byte) and its MCP servers as entries in their own files (`plugins.rs`).
        let skills = plugin_skill_dirs(contents);
        for content in contents {
            let Some(rest) = content.file.path.as_str().strip_prefix(PLUGIN_SKILLS) else { continue };
            let Some((dir, _)) = rest.split_once('/') else { continue };
            if !skills.iter().any(|skill| skill.as_str() == dir) {
                continue;
            }
            let Ok(path) = RelativePath::parse(&format!("{SHARED_SKILLS}/{rest}")) else { continue };
            placed.files.push(Placed {
                target: SHARED_TARGET,
                path,
                bytes: content.bytes.clone(),
                mode: Some(content.file.mode),
                origin: Origin::Copy(content.file.path.clone()),
                notes: Vec::new(),
            });
        }
        // What only Claude Code loads from a plugin, by its default directories, is named.
        let claude_only: Vec<&str> = [("agents/", "agents"), ("commands/", "commands"), ("hooks/", "hooks")]
            .into_iter()
            .filter(|(dir, _)| contents.iter().any(|c| c.file.path.as_str().starts_with(dir)))
            .map(|(_, what)| what)
            .collect();
        if !claude_only.is_empty() {
            let gets = if skills.is_empty() { "its MCP servers" } else { "its skills and MCP servers" };
            for tool in others {
                placed
                    .skipped
                    .push((tool.as_str(), format!("the plugin's {} (this tool gets {gets})", claude_only.join(", "))));
            }
        }
        placed
    }

    /// A command's files: the published file for Claude Code, then one converted file for each
    /// target that has commands in this scope; the targets that get none are named.
    fn place_command(&self, name: &AgentName, tools: &[Target], contents: &[PackageContent]) -> PlacedPackage {
        let mut placed = PlacedPackage::default();
        let Some(main) = contents.first() else { return placed };
        let mut targets = vec![Target::ClaudeCode];
        targets.extend(tools.iter().filter(|t| **t != Target::ClaudeCode));
        targets.dedup();
        for target in targets {
            let Some(path) = self.command_file(target, name) else {
                let why = target.no_commands(self.scope == Scope::User).unwrap_or("no commands directory");
                placed.skipped.push((target.as_str(), format!("command ({why})")));
                continue;
            };
            if target == Target::ClaudeCode {
                placed.files.push(Placed {
                    target: target.as_str(),
                    path,
                    bytes: main.bytes.clone(),
                    mode: Some(main.file.mode),
                    origin: Origin::Copy(main.file.path.clone()),
                    notes: Vec::new(),
                });
                continue;
            }
            match target.convert_command(name, &main.bytes) {
                Ok(converted) => placed.files.push(Placed {
                    target: target.as_str(),
                    path,
                    bytes: converted.bytes,
                    mode: Some(FileMode::Regular),
                    origin: Origin::Converted,
                    notes: converted.unmapped,
                }),
                Err(why) => placed.skipped.push((target.as_str(), why)),
            }
        }
        placed
    }

    /// Every file a lockfile entry pins, with its target and checksum: an agent's Claude Code
    /// file (its `sha256`) and each `[[agent.file]]`.
    pub(crate) fn pinned_files(&self, locked: &LockedAgent) -> Vec<(String, RelativePath, Sha256)> {
        let mut files = Vec::with_capacity(locked.files.len() + 1);
        if locked.kind.is_agent() {
            files.push((Target::ClaudeCode.as_str().to_owned(), self.agent_file(&locked.name), locked.sha256));
        }
        files.extend(locked.files.iter().map(|f| (f.target.clone(), f.path.clone(), f.sha256)));
        files
    }

    /// Whether a lockfile entry's files were placed for exactly `tools`, as far as its files
    /// tell: an agent has one file per tool; a skill has its shared copy exactly when another
    /// tool is a target; a command has one file per tool that reads commands here and accepted
    /// its conversion (a tool that refused one leaves nothing to tell by, so such a command is
    /// placed afresh).
    pub(crate) fn placed_for(&self, locked: &LockedAgent, tools: &[Target]) -> bool {
        let others: Vec<Target> = tools.iter().copied().filter(|t| *t != Target::ClaudeCode).collect();
        let mut targets: Vec<&str> = locked.files.iter().map(|f| f.target.as_str()).collect();
        targets.sort_unstable();
        targets.dedup();
        match locked.kind {
            Kind::Agent => {
                let mut wanted: Vec<&str> = others.iter().map(|t| t.as_str()).collect();
                wanted.sort_unstable();
                targets == wanted
            }
            Kind::Skill => {
                let mut wanted = vec![Target::ClaudeCode.as_str()];
                if !others.is_empty() {
                    wanted.push(SHARED_TARGET);
                }
                wanted.sort_unstable();
                targets == wanted
            }
            Kind::Command => {
                let mut wanted: Vec<&str> = std::iter::once(Target::ClaudeCode)
                    .chain(others)
                    .filter(|t| self.command_file(*t, &locked.name).is_some())
                    .map(|t| t.as_str())
                    .collect();
                wanted.sort_unstable();
                targets == wanted
            }
            Kind::Bundle => targets.is_empty(),
            // Its shared skill copies are there only when it has skills, which its files tell.
            Kind::Plugin => {
                let skills = locked.files.iter().any(|f| f.target == SHARED_TARGET);
                let prefix = format!("{}/{PLUGIN_SUBDIR}/{PLUGIN_SKILLS}", self.plugin_dir(&locked.name));
                let has_skills = locked.files.iter().any(|f| {
                    f.path
                        .as_str()
                        .strip_prefix(&prefix)
                        .and_then(|rest| rest.strip_suffix("/SKILL.md"))
                        .is_some_and(|dir| !dir.contains('/') && AgentName::new(dir).is_ok())
                });
                targets.contains(&Target::ClaudeCode.as_str()) && skills == (has_skills && !others.is_empty())
            }
        }
    }

    /// Whether a lockfile's `[[agent.file]]` may name `path` for `target`: exactly the path its
    /// target dictates for an agent's conversion or a command, a path inside the package's
    /// directory for that target for a skill; so a committed lockfile cannot make us write or
    /// remove any other file. In user scope a tool's directory follows its variable, which may
    /// have moved since: the path's tail must still be exact, and never inside Claude Code's
    /// directory for another tool.
    pub(crate) fn allowed(&self, kind: Kind, name: &AgentName, target: &str, path: &RelativePath) -> bool {
        let tool = Target::parse(target).ok();
        let current = match kind {
            Kind::Agent => tool.is_some_and(|t| t != Target::ClaudeCode && self.target_file(t, name) == *path),
            Kind::Command => tool.and_then(|t| self.command_file(t, name)).as_ref() == Some(path),
            Kind::Skill => self.skill_dirs(name, &[Target::Codex]).iter().any(|(t, dir)| {
                *t == target && path.as_str().strip_prefix(dir.as_str()).is_some_and(|rest| rest.starts_with('/'))
            }),
            Kind::Plugin if target == SHARED_TARGET => Self::plugin_skill_dir(Kind::Plugin, path)
                .is_some_and(|dir| AgentName::new(&dir[SHARED_SKILLS.len() + 1..]).is_ok()),
            Kind::Plugin => {
                target == Target::ClaudeCode.as_str()
                    && path.as_str().strip_prefix(&self.plugin_dir(name)).is_some_and(|rest| rest.starts_with('/'))
            }
            Kind::Bundle => false,
        };
        if current || self.scope != Scope::User {
            return current;
        }
        match kind {
            Kind::Agent => tool.is_some_and(|t| {
                t != Target::ClaudeCode
                    && path.as_str().ends_with(&format!("/{}", t.file_name(name)))
                    && !self.inside_claude_dir(path)
            }),
            _ if target == Target::ClaudeCode.as_str() => below_claude_home(kind, name, path).is_some(),
            // Another tool's command, pinned before its variable moved it: never inside Claude
            // Code's directory (the default or the current one), where Claude Code would read it.
            Kind::Command => tool
                .and_then(|t| moved_command_tail(t, name))
                .is_some_and(|tail| path.as_str().ends_with(&format!("/{tail}")) && !self.inside_claude_dir(path)),
            Kind::Skill | Kind::Plugin | Kind::Bundle => false,
        }
    }

    /// What a lockfile's files of a package look like, for messages about a refused entry.
    pub(crate) fn expected_location(&self, kind: Kind, name: &AgentName, target: &str) -> String {
        match kind {
            Kind::Agent => Target::parse(target)
                .ok()
                .map_or_else(|| "no path (unknown target)".to_owned(), |t| self.target_file(t, name).to_string()),
            Kind::Command => format!(
                "the command's file for its target (.claude/commands/{file}, .opencode/command/{file}, \
                 .github/prompts/{name}.prompt.md, .cursor/commands/{file} or .gemini/commands/{name}.toml)",
                file = name.file_name()
            ),
            Kind::Skill => {
                format!("a path under .claude/skills/{name}/ (claude-code) or .agents/skills/{name}/ (agents)")
            }
            Kind::Bundle => "no file (a bundle is only requirements)".to_owned(),
            Kind::Plugin => format!(
                "a path under .claude/agents-plugins/{name}/ (claude-code) or one of its skills under .agents/skills/ (agents)"
            ),
        }
    }
}

/// For a Claude Code file of a package in user scope: its part below the Claude Code directory
/// it was written under (`skills/NAME/…`, `commands/NAME.md`), which stays the same wherever
/// `CLAUDE_CONFIG_DIR` moved that directory since. `None` when the path is no such file, or when
/// what is above that part could not be a Claude Code directory (it names one of the directories
/// tools read agents, skills or commands from, so a lockfile cannot aim a file into them).
pub(crate) fn below_claude_home<'a>(kind: Kind, name: &AgentName, path: &'a RelativePath) -> Option<&'a str> {
    let mark = match kind {
        Kind::Skill => format!("skills/{name}/"),
        Kind::Command => format!("commands/{}", name.file_name()),
        Kind::Plugin => format!("agents-plugins/{name}/"),
        Kind::Agent | Kind::Bundle => return None,
    };
    let text = path.as_str();
    let at = if text.starts_with(&mark) { 0 } else { text.find(&format!("/{mark}"))? + 1 };
    let (home, rest) = text.split_at(at);
    if home.split('/').any(|component| {
        matches!(component, "agents" | "agent" | "skills" | "commands" | "command" | "prompts" | ".agents")
    }) {
        return None;
    }
    let exact = if kind == Kind::Command { rest == mark } else { rest.len() > mark.len() };
    exact.then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn homes(vars: &[(&str, &str)]) -> (ToolHomes, Vec<String>) {
        let vars: Vec<(String, OsString)> = vars.iter().map(|(k, v)| ((*k).to_owned(), OsString::from(v))).collect();
        ToolHomes::from_env(Path::new("/home/u"), |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    fn project() -> Placement<'static> {
        static NONE: std::sync::OnceLock<ToolHomes> = std::sync::OnceLock::new();
        Placement { scope: Scope::Project, tools: NONE.get_or_init(ToolHomes::default) }
    }

    fn user(tools: &ToolHomes) -> Placement<'_> {
        Placement { scope: Scope::User, tools }
    }

    fn path(text: &str) -> RelativePath {
        RelativePath::parse(text).unwrap()
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

    #[test]
    fn lockfile_paths_of_a_package_stay_in_its_directory() {
        let name = AgentName::new("pdf").unwrap();
        let placement = project();
        let check = |kind, target: &str, file: &str| placement.allowed(kind, &name, target, &path(file));
        assert!(check(Kind::Skill, "claude-code", ".claude/skills/pdf/SKILL.md"));
        assert!(check(Kind::Skill, "claude-code", ".claude/skills/pdf/scripts/a.sh"));
        assert!(check(Kind::Skill, "agents", ".agents/skills/pdf/SKILL.md"));
        assert!(!check(Kind::Skill, "agents", ".claude/skills/pdf/SKILL.md"));
        assert!(!check(Kind::Skill, "claude-code", ".claude/skills/pdfx/SKILL.md"));
        assert!(!check(Kind::Skill, "claude-code", ".claude/skills/pdf"));
        assert!(!check(Kind::Skill, "claude-code", ".claude/agents/pdf.md"));
        assert!(check(Kind::Command, "claude-code", ".claude/commands/pdf.md"));
        assert!(!check(Kind::Command, "claude-code", ".claude/commands/other.md"));
        // An agent's Claude Code file is implied, never listed; its conversions are exact.
        assert!(!check(Kind::Agent, "claude-code", ".claude/agents/pdf.md"));
        assert!(check(Kind::Agent, "opencode", ".opencode/agent/pdf.md"));
        assert!(!check(Kind::Agent, "opencode", ".opencode/agent/other.md"));
        assert!(!check(Kind::Agent, "vim", ".vim/pdf.md"));
        // A plugin: its directory for Claude Code, and for the other tools a skill directory of
        // a valid name, one level below `.agents/skills/`; nothing else.
        assert!(check(Kind::Plugin, "claude-code", ".claude/agents-plugins/pdf/plugin/skills/forms/SKILL.md"));
        assert!(check(Kind::Plugin, "agents", ".agents/skills/forms/SKILL.md"));
        assert!(check(Kind::Plugin, "agents", ".agents/skills/forms/scripts/fill.sh"));
        assert!(!check(Kind::Plugin, "agents", ".agents/skills/SKILL.md"));
        assert!(!check(Kind::Plugin, "agents", ".agents/skills/-x/SKILL.md"));
        assert!(!check(Kind::Plugin, "agents", ".agents/other/forms/SKILL.md"));
        assert!(!check(Kind::Plugin, "agents", ".claude/agents-plugins/pdf/plugin/skills/forms/SKILL.md"));
        assert!(!check(Kind::Plugin, "claude-code", ".agents/skills/forms/SKILL.md"));
        assert!(!check(Kind::Plugin, "codex", ".agents/skills/forms/SKILL.md"));
    }

    #[test]
    fn a_converted_command_goes_to_its_tool_s_commands_directory_only() {
        let name = AgentName::new("pdf").unwrap();
        let placement = project();
        let check = |target: &str, file: &str| placement.allowed(Kind::Command, &name, target, &path(file));
        for (target, file) in [
            ("gemini", ".gemini/commands/pdf.toml"),
            ("opencode", ".opencode/command/pdf.md"),
            ("copilot", ".github/prompts/pdf.prompt.md"),
            ("cursor", ".cursor/commands/pdf.md"),
        ] {
            assert!(check(target, file), "{target}");
            assert!(!check("claude-code", file), "{target}");
        }
        assert!(!check("gemini", ".gemini/commands/other.toml"));
        assert!(!check("gemini", ".gemini/agents/pdf.md"));
        assert!(!check("opencode", ".cursor/commands/pdf.md"));
        assert!(!check("codex", ".codex/prompts/pdf.md"));
        assert!(!check("vim", ".vim/pdf.md"));
        // User scope: each tool's own directory, moved by its variable; Copilot and Codex none.
        let (tools, _) = homes(&[("XDG_CONFIG_HOME", "/home/u/xdg")]);
        let user = user(&tools);
        let relative = |t| user.command_file(t, &name).map(|p| p.to_string());
        assert_eq!(relative(Target::OpenCode).as_deref(), Some("xdg/opencode/command/pdf.md"));
        assert_eq!(relative(Target::Gemini).as_deref(), Some(".gemini/commands/pdf.toml"));
        assert_eq!(relative(Target::Cursor).as_deref(), Some(".cursor/commands/pdf.md"));
        assert_eq!(relative(Target::ClaudeCode).as_deref(), Some(".claude/commands/pdf.md"));
        assert_eq!((relative(Target::Copilot), relative(Target::Codex)), (None, None));
        let check = |target: &str, file: &str| user.allowed(Kind::Command, &name, target, &path(file));
        assert!(check("opencode", "xdg/opencode/command/pdf.md"));
        // Pinned before XDG_CONFIG_HOME moved it: still its file.
        assert!(check("opencode", ".config/opencode/command/pdf.md"));
        assert!(!check("opencode", ".config/opencode/agent/pdf.md"));
        assert!(!check("cursor", "elsewhere/.cursor/commands/pdf.md"));
        assert!(!check("copilot", ".github/prompts/pdf.prompt.md"));
    }

    #[test]
    fn a_skill_gets_the_shared_copy_only_when_another_tool_is_a_target() {
        let name = AgentName::new("pdf").unwrap();
        let placement = project();
        assert_eq!(placement.skill_dirs(&name, &[]).len(), 1);
        assert_eq!(placement.skill_dirs(&name, &[Target::ClaudeCode]).len(), 1);
        assert_eq!(placement.skill_dirs(&name, &[Target::Cursor])[1], ("agents", ".agents/skills/pdf".to_owned()));
        assert_eq!(placement.own_dirs(Kind::Skill, &name), [".claude/skills/pdf", ".agents/skills/pdf"]);
        assert!(placement.own_dirs(Kind::Command, &name).is_empty());
    }

    #[test]
    fn claude_code_s_user_skills_and_commands_follow_claude_config_dir() {
        let name = AgentName::new("pdf").unwrap();
        let (tools, _) = homes(&[("CLAUDE_CONFIG_DIR", "/home/u/claude")]);
        let user = user(&tools);
        assert_eq!(user.skill_dirs(&name, &[Target::Cursor])[0].1, "claude/skills/pdf");
        assert_eq!(user.main_file(Kind::Skill, &name).as_str(), "claude/skills/pdf/SKILL.md");
        assert_eq!(user.main_file(Kind::Command, &name).as_str(), "claude/commands/pdf.md");
        assert_eq!(user.command_file(Target::ClaudeCode, &name).unwrap().as_str(), "claude/commands/pdf.md");
        // The project scope is not moved by the variable.
        let moved_project = Placement { scope: Scope::Project, tools: &tools };
        assert_eq!(moved_project.main_file(Kind::Skill, &name).as_str(), ".claude/skills/pdf/SKILL.md");

        let check = |kind, target: &str, file: &str| user.allowed(kind, &name, target, &path(file));
        assert!(check(Kind::Skill, "claude-code", "claude/skills/pdf/SKILL.md"));
        assert!(check(Kind::Command, "claude-code", "claude/commands/pdf.md"));
        // Pinned before the variable moved the directory (or under an earlier value): still its file.
        assert!(check(Kind::Skill, "claude-code", ".claude/skills/pdf/scripts/a.sh"));
        assert!(check(Kind::Command, "claude-code", ".claude/commands/pdf.md"));
        assert!(check(Kind::Command, "claude-code", "old/claude/commands/pdf.md"));
        // Never a path another tool (or Claude Code's agents directory) reads, nor another name.
        for (kind, file) in [
            (Kind::Skill, ".claude/agents/skills/pdf/SKILL.md"),
            (Kind::Skill, ".agents/skills/pdf/SKILL.md"),
            (Kind::Skill, "claude/skills/pdf"),
            (Kind::Skill, "claude/skills/pdfx/SKILL.md"),
            (Kind::Command, "claude/commands/other.md"),
            (Kind::Command, "claude/commands/pdf.md/x"),
            (Kind::Command, ".opencode/command/commands/pdf.md"),
        ] {
            assert!(!check(kind, "claude-code", file), "{file}");
        }
        assert!(!check(Kind::Command, "opencode", "claude/opencode/command/pdf.md"));
        // An agent's conversion pinned before its tool's variable moved: its file name, never
        // inside Claude Code's directory.
        assert!(check(Kind::Agent, "opencode", "old/opencode/agent/pdf.md"));
        assert!(!check(Kind::Agent, "opencode", "claude/agents/pdf.md"));
        assert!(
            user.inside_claude_dir(&path("claude/agents/pdf.md"))
                && user.inside_claude_dir(&path(".claude/agents/pdf.md"))
        );
        assert!(
            !user.inside_claude_dir(&path("claudex/agents/pdf.md"))
                && !project().inside_claude_dir(&path("claude/agents/pdf.md"))
        );
        let (tools, _) = homes(&[("CLAUDE_CONFIG_DIR", "/home/u")]);
        let at_home = Placement { scope: Scope::User, tools: &tools };
        assert!(
            at_home.inside_claude_dir(&path("agents/pdf.md")) && at_home.inside_claude_dir(&path("commands/pdf.md"))
        );
        assert!(!at_home.inside_claude_dir(&path("xdg/opencode/agent/pdf.md")));
        assert_eq!(below_claude_home(Kind::Skill, &name, &path("x/skills/pdf/a/b.md")), Some("skills/pdf/a/b.md"));
    }

    #[test]
    fn placing_an_agent_converts_it_for_each_tool_and_knows_what_it_was_placed_for() {
        let name = AgentName::new("pdf").unwrap();
        let placement = project();
        let body = b"---\nname: pdf\ndescription: d\n---\nBody\n".to_vec();
        let placed = placement.place(Kind::Agent, &name, &[Target::OpenCode, Target::Cursor], &Contents::Agent(body));
        let paths: Vec<&str> = placed.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, [".claude/agents/pdf.md", ".opencode/agent/pdf.md", ".cursor/agents/pdf.md"]);
        assert_eq!(placed.files[0].origin, Origin::Body);
        let locked = LockedAgent {
            name: name.clone(),
            version: semver::Version::new(1, 0, 0),
            registry: agents_format::RegistryId::new("r").unwrap(),
            kind: Kind::Agent,
            sha256: Sha256::of(b""),
            signer: None,
            files: placed.files[1..]
                .iter()
                .map(|f| agents_format::LockedFile {
                    target: f.target.to_owned(),
                    path: f.path.clone(),
                    sha256: Sha256::of(&f.bytes),
                })
                .collect(),
            requires: Vec::new(),
            requested: true,
        };
        assert!(placement.placed_for(&locked, &[Target::Cursor, Target::OpenCode]));
        assert!(!placement.placed_for(&locked, &[Target::Cursor]));
        assert!(!placement.placed_for(&locked, &[Target::Cursor, Target::OpenCode, Target::Gemini]));
        assert_eq!(placement.pinned_files(&locked).len(), 3);
    }
}
