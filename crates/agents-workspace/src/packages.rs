//! Packages in a workspace: where each file of a skill or a command goes for each tool, and
//! the managed files install, sync and uninstall plan for them. A package has no file of its
//! own beside its listing: every installed file is one `Managed` file, pinned in the lockfile as
//! an `[[agent.file]]`, so the one rule protects, backs up, restores and removes each of them.
//!
//! Layout (the boundary is the project or the home): a skill goes to `.claude/skills/NAME/`
//! (Claude Code; in user scope `$CLAUDE_CONFIG_DIR/skills/NAME/` when set) and, when any other
//! tool is a target, once more to `.agents/skills/NAME/`, which Codex, Copilot, Cursor, Gemini CLI
//! and OpenCode read (the same path in both scopes). A command goes to `.claude/commands/NAME.md`
//! (user scope: `$CLAUDE_CONFIG_DIR/commands/`) and, converted, to each target's commands
//! directory ([`Workspace::command_relative`]: OpenCode, Copilot in projects, Cursor, Gemini CLI);
//! a tool that gets none is named in a note.

use std::path::PathBuf;

use agents_format::{AgentName, Kind, LockedAgent, LockedFile, RelativePath, Sha256, Target};
use agents_registry::PackageContent;

use crate::engine::Managed;
use crate::state::WorkspaceState;
use crate::workspace::{Scope, Workspace};

/// The lockfile target of the shared `.agents/skills/` copy of a skill.
pub(crate) const SHARED_TARGET: &str = "agents";

/// The directories a package is installed into, each with its lockfile target.
pub(crate) fn package_dirs(
    workspace: &Workspace,
    kind: Kind,
    name: &AgentName,
    tools: &[Target],
) -> Vec<(&'static str, String)> {
    match kind {
        Kind::Skill => {
            let mut dirs = vec![(Target::ClaudeCode.as_str(), workspace.claude_relative(&format!("skills/{name}")))];
            if tools.iter().any(|t| *t != Target::ClaudeCode) {
                dirs.push((SHARED_TARGET, format!(".agents/skills/{name}")));
            }
            dirs
        }
        Kind::Command | Kind::Agent => Vec::new(),
    }
}

/// Whether a lockfile's `[[agent.file]]` of a package may name `path`: only a path inside the
/// package's directory for that target (for a command, exactly its file for that target), so a
/// committed lockfile cannot make us write or remove any other file. In user scope a tool's
/// directory follows its variable, which may have moved since: the path's tail must still be
/// exact ([`below_claude_home`] for Claude Code's).
pub(crate) fn allowed(workspace: &Workspace, kind: Kind, name: &AgentName, target: &str, path: &RelativePath) -> bool {
    let current = if kind == Kind::Command {
        Target::parse(target).ok().and_then(|tool| workspace.command_relative(tool, name)).as_ref() == Some(path)
    } else {
        let every_tool = [Target::Codex];
        package_dirs(workspace, kind, name, &every_tool).iter().any(|(t, dir)| {
            *t == target && path.as_str().strip_prefix(dir.as_str()).is_some_and(|rest| rest.starts_with('/'))
        })
    };
    if current || workspace.scope != Scope::User {
        return current;
    }
    if target == Target::ClaudeCode.as_str() {
        return below_claude_home(kind, name, path).is_some();
    }
    // Another tool's command, pinned before its variable moved it: never inside Claude Code's
    // directory (the default or the current one), where Claude Code would read it.
    kind == Kind::Command
        && Target::parse(target)
            .ok()
            .and_then(|tool| crate::targets::moved_command_tail(tool, name))
            .is_some_and(|tail| path.as_str().ends_with(&format!("/{tail}")) && !workspace.inside_claude_dir(path))
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
        Kind::Agent => return None,
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

/// One file a package puts in the workspace: a copy of one of its files, or (a command for
/// another tool) a conversion of its one file.
#[derive(Debug, Clone)]
pub(crate) struct Placed {
    pub(crate) target: &'static str,
    pub(crate) path: RelativePath,
    pub(crate) bytes: Vec<u8>,
    pub(crate) mode: agents_format::FileMode,
    /// The file of the package it comes from.
    pub(crate) source: RelativePath,
    /// What a conversion could not carry over.
    pub(crate) notes: Vec<String>,
    /// The tools that get no file of this command, each with why (reported with this file).
    pub(crate) skipped: Vec<(&'static str, String)>,
}

impl Placed {
    /// Whether the file is a copy of the package's file (not a conversion of it).
    pub(crate) fn is_copy(&self) -> bool {
        self.target == Target::ClaudeCode.as_str() || self.target == SHARED_TARGET
    }

    /// What to report when this file is written: (path, tool, losses) for it and for each tool
    /// that gets no file.
    pub(crate) fn reports(self) -> Vec<(RelativePath, String, Vec<String>)> {
        let mut reports = vec![(self.path.clone(), self.target.to_owned(), self.notes)];
        reports.extend(self.skipped.into_iter().map(|(tool, why)| (self.path.clone(), tool.to_owned(), vec![why])));
        reports
    }

    pub(crate) fn locked(&self) -> LockedFile {
        LockedFile { target: self.target.to_owned(), path: self.path.clone(), sha256: Sha256::of(&self.bytes) }
    }
}

/// Every file a package of `kind` with `contents` puts in `workspace` for `tools`.
pub(crate) fn placed_files(
    workspace: &Workspace,
    kind: Kind,
    name: &AgentName,
    tools: &[Target],
    contents: &[PackageContent],
) -> Vec<Placed> {
    if kind == Kind::Command {
        return placed_command(workspace, name, tools, contents);
    }
    let mut placed = Vec::new();
    for (target, dir) in package_dirs(workspace, kind, name, tools) {
        for content in contents {
            let Ok(path) = RelativePath::parse(&format!("{dir}/{}", content.file.path)) else { continue };
            placed.push(Placed {
                target,
                path,
                bytes: content.bytes.clone(),
                mode: content.file.mode,
                source: content.file.path.clone(),
                notes: Vec::new(),
                skipped: Vec::new(),
            });
        }
    }
    placed
}

/// A command's files: the published file for Claude Code, then one converted file for each
/// target that has commands in this scope. The targets that get none are named on the first.
fn placed_command(
    workspace: &Workspace,
    name: &AgentName,
    tools: &[Target],
    contents: &[PackageContent],
) -> Vec<Placed> {
    let Some(main) = contents.first() else { return Vec::new() };
    let mut targets = vec![Target::ClaudeCode];
    for tool in tools {
        if !targets.contains(tool) {
            targets.push(*tool);
        }
    }
    let mut placed: Vec<Placed> = Vec::new();
    let mut skipped = Vec::new();
    for target in targets {
        let Some(path) = workspace.command_relative(target, name) else {
            let why = target.no_commands(workspace.scope == Scope::User).unwrap_or("no commands directory");
            skipped.push((target.as_str(), format!("command ({why})")));
            continue;
        };
        match target.convert_command(name, &main.bytes) {
            Ok(converted) => placed.push(Placed {
                target: target.as_str(),
                path,
                bytes: converted.bytes,
                mode: if target == Target::ClaudeCode { main.file.mode } else { agents_format::FileMode::Regular },
                source: main.file.path.clone(),
                notes: converted.unmapped,
                skipped: Vec::new(),
            }),
            Err(why) => skipped.push((target.as_str(), why)),
        }
    }
    if let Some(first) = placed.first_mut() {
        first.skipped = skipped;
    }
    placed
}

/// The tools a locked package was installed for, read back from its files' targets.
pub(crate) fn locked_tools(locked: &LockedAgent) -> Vec<Target> {
    let mut tools = Vec::new();
    for file in &locked.files {
        let tool = match file.target.as_str() {
            SHARED_TARGET => Some(Target::Codex),
            other => Target::parse(other).ok(),
        };
        if let Some(tool) = tool.filter(|t| !tools.contains(t)) {
            tools.push(tool);
        }
    }
    tools
}

/// What a package's files look like in the lockfile, for messages about a refused entry.
pub(crate) fn expected_location(kind: Kind, name: &AgentName) -> String {
    match kind {
        Kind::Command => format!(
            "the command's file for its target (.claude/commands/{file}, .opencode/command/{file}, \
             .github/prompts/{name}.prompt.md, .cursor/commands/{file} or .gemini/commands/{name}.toml)",
            file = name.file_name()
        ),
        _ => format!("a path under .claude/skills/{name}/ (claude-code) or .agents/skills/{name}/ (agents)"),
    }
}

/// The file that stands for the package in reports: the Claude Code copy of `SKILL.md`, or the
/// command file.
pub(crate) fn main_file(workspace: &Workspace, kind: Kind, name: &AgentName) -> RelativePath {
    let text = match kind {
        Kind::Command => workspace.claude_relative(&format!("commands/{}", name.file_name())),
        _ => workspace.claude_relative(&format!("skills/{name}/SKILL.md")),
    };
    RelativePath::parse(&text).expect("a package name makes a plain relative path")
}

/// Where the package is, for messages: the skill's Claude Code directory, or the command file.
pub(crate) fn display_path(workspace: &Workspace, kind: Kind, name: &AgentName) -> PathBuf {
    match kind {
        Kind::Command => workspace.resolve(&main_file(workspace, kind, name)),
        _ => workspace.resolve(
            &RelativePath::parse(&workspace.claude_relative(&format!("skills/{name}"))).expect("a plain path"),
        ),
    }
}

/// The directories the daemon watches for the packages `workspace`'s lockfile pins: every
/// directory from `.claude` or `.agents` down to each pinned file's own, so that a file, a
/// subdirectory or the whole package deleted is seen (watches are not recursive).
pub fn package_watch_dirs(workspace: &Workspace) -> Vec<PathBuf> {
    let Ok((_, lockfile)) = workspace.read_lockfile() else { return Vec::new() };
    let mut dirs = std::collections::BTreeSet::new();
    for locked in lockfile.agents().iter().filter(|l| !l.kind.is_agent()) {
        for file in &locked.files {
            let components: Vec<&str> = file.path.parent_components().collect();
            for end in 1..=components.len() {
                dirs.insert(
                    workspace.resolve(
                        &RelativePath::parse(&components[..end].join("/")).expect("a prefix of a relative path"),
                    ),
                );
            }
        }
    }
    dirs.into_iter().collect()
}

/// What install knows about one resolved package.
pub(crate) struct PackageInputs<'a> {
    pub(crate) name: &'a AgentName,
    pub(crate) kind: Kind,
    pub(crate) version: &'a semver::Version,
    pub(crate) contents: &'a [PackageContent],
    /// The files of the version installed before, when the pin moves: merge bases.
    pub(crate) base: Option<&'a [PackageContent]>,
    pub(crate) previous: Option<&'a LockedAgent>,
    /// Every (path in the package, checksum) any published version lists: bytes this tool may
    /// have written at that path.
    pub(crate) published: &'a [(RelativePath, Sha256)],
    pub(crate) subject: bool,
}

/// The managed files of a package for `tools`, the removal of files of it that are no longer
/// wanted (dropped by the new version, or a directory no tool needs now), and the lockfile's
/// `[[agent.file]]` entries.
pub(crate) fn managed_files(
    workspace: &Workspace,
    state: &WorkspaceState,
    tools: &[Target],
    package: &PackageInputs<'_>,
) -> (Vec<Managed>, Vec<LockedFile>) {
    let mut files = Vec::new();
    let mut locked = Vec::new();
    let base_placed =
        package.base.map(|base| placed_files(workspace, package.kind, package.name, tools, base)).unwrap_or_default();
    for placed in placed_files(workspace, package.kind, package.name, tools, package.contents) {
        let mut ours: Vec<Sha256> = if placed.is_copy() {
            package.published.iter().filter(|(p, _)| *p == placed.source).map(|(_, sha)| *sha).collect()
        } else {
            Vec::new()
        };
        let path = placed.path.clone();
        ours.extend(package.previous.iter().flat_map(|p| &p.files).filter(|f| f.path == path).map(|f| f.sha256));
        ours.extend(state.last_written(&path));
        let base = base_placed.iter().find(|b| b.path == path).map(|b| b.bytes.clone());
        // A file the new version did not change is not what an update is about: an edit
        // there is kept and reported, and does not stop the package's other files.
        let unchanged = base.as_deref().is_some_and(|base| base == placed.bytes.as_slice());
        locked.push(placed.locked());
        files.push(Managed {
            agent: package.name.clone(),
            version: package.version.clone(),
            path,
            bytes: Some(placed.bytes),
            ours,
            subject: package.subject && !unchanged,
            base,
            mode: Some(placed.mode),
        });
    }
    let wanted: Vec<RelativePath> = files.iter().map(|f| f.path.clone()).collect();
    let mut gone: Vec<(RelativePath, Vec<Sha256>)> = Vec::new();
    for file in package.previous.iter().flat_map(|p| &p.files) {
        if !wanted.contains(&file.path) {
            let mut ours = vec![file.sha256];
            ours.extend(state.last_written(&file.path));
            gone.push((file.path.clone(), ours));
        }
    }
    for (path, written) in &state.files {
        if written.agent == *package.name && !wanted.contains(path) && !gone.iter().any(|(p, _)| p == path) {
            gone.push((path.clone(), vec![written.sha256]));
        }
    }
    for (path, ours) in gone {
        files.push(Managed {
            agent: package.name.clone(),
            version: package.version.clone(),
            path,
            bytes: None,
            ours,
            // A file the new version dropped goes only when it holds our bytes: an edited one
            // is kept and reported, and never stops the rest of the package.
            subject: false,
            base: None,
            mode: None,
        });
    }
    (files, locked)
}

/// The managed files of a locked package whose files are not all as pinned (sync and the
/// daemon): each locked file with its pinned bytes, or an error for one the pinned version does
/// not hold with that checksum.
pub(crate) fn locked_files(
    workspace: &Workspace,
    locked: &LockedAgent,
    contents: &[PackageContent],
    published: &[(RelativePath, Sha256)],
    state: &WorkspaceState,
) -> (Vec<Managed>, Vec<String>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let placed = placed_files(workspace, locked.kind, &locked.name, &locked_tools(locked), contents);
    for file in &locked.files {
        // A command has one file per tool, and a skill's Claude Code files the same part below
        // Claude Code's directory: they stay where they were pinned when the tool's directory has
        // moved since (user scope).
        let same = |p: &&Placed| {
            p.path == file.path
                || (p.target == file.target
                    && (locked.kind == Kind::Command
                        || (file.target == Target::ClaudeCode.as_str()
                            && below_claude_home(locked.kind, &locked.name, &file.path).is_some()
                            && below_claude_home(locked.kind, &locked.name, &file.path)
                                == below_claude_home(locked.kind, &locked.name, &p.path))))
        };
        match placed.iter().find(same) {
            Some(placed) if Sha256::of(&placed.bytes) == file.sha256 => {
                let mut ours: Vec<Sha256> = if placed.is_copy() {
                    published.iter().filter(|(p, _)| *p == placed.source).map(|(_, sha)| *sha).collect()
                } else {
                    Vec::new()
                };
                ours.extend(state.last_written(&file.path));
                files.push(Managed {
                    agent: locked.name.clone(),
                    version: locked.version.clone(),
                    path: file.path.clone(),
                    bytes: Some(placed.bytes.clone()),
                    ours,
                    subject: false,
                    base: None,
                    mode: Some(placed.mode),
                })
            }
            _ => errors.push(format!(
                "{}@{}: agents.lock pins {} with a checksum this version does not give; run `agents install`",
                locked.name, locked.version, file.path
            )),
        }
    }
    (files, errors)
}

/// Every (path in the package, checksum) the records of `index` list.
pub(crate) fn published_files(index: &agents_format::IndexFile) -> Vec<(RelativePath, Sha256)> {
    index.records().flat_map(|r| r.files.iter().map(|f| (f.path.clone(), f.sha256))).collect()
}

/// Checks every file of a package with the hidden-Unicode gate; returns the warnings.
pub(crate) fn hidden_unicode(
    label: &str,
    contents: &[PackageContent],
    deny: bool,
) -> crate::error::Result<Vec<String>> {
    let mut warnings = Vec::new();
    for content in contents {
        let label = format!("{label} ({})", content.file.path);
        warnings.extend(crate::gate::package_file(&label, content.file.path.as_str(), &content.bytes, deny)?);
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::ToolHomes;
    use crate::workspace::Dirs;

    fn dirs(tools: ToolHomes) -> Dirs {
        Dirs {
            home: "/home/u".into(),
            config: "/home/u/.config/agents".into(),
            cache: "/home/u/.cache/agents".into(),
            state: "/home/u/.local/state/agents".into(),
            tools,
        }
    }

    fn project() -> Workspace {
        Workspace::project("/work/p".into(), dirs(ToolHomes::default()))
    }

    #[test]
    fn lockfile_paths_of_a_package_stay_in_its_directory() {
        let name = AgentName::new("pdf").unwrap();
        let workspace = project();
        let check = |kind, target: &str, path: &str| {
            allowed(&workspace, kind, &name, target, &RelativePath::parse(path).unwrap())
        };
        assert!(check(Kind::Skill, "claude-code", ".claude/skills/pdf/SKILL.md"));
        assert!(check(Kind::Skill, "claude-code", ".claude/skills/pdf/scripts/a.sh"));
        assert!(check(Kind::Skill, "agents", ".agents/skills/pdf/SKILL.md"));
        assert!(!check(Kind::Skill, "agents", ".claude/skills/pdf/SKILL.md"));
        assert!(!check(Kind::Skill, "claude-code", ".claude/skills/pdfx/SKILL.md"));
        assert!(!check(Kind::Skill, "claude-code", ".claude/skills/pdf"));
        assert!(!check(Kind::Skill, "claude-code", ".claude/agents/pdf.md"));
        assert!(check(Kind::Command, "claude-code", ".claude/commands/pdf.md"));
        assert!(!check(Kind::Command, "claude-code", ".claude/commands/other.md"));
        assert!(!check(Kind::Agent, "claude-code", ".claude/agents/pdf.md"));
    }

    #[test]
    fn a_converted_command_goes_to_its_tool_s_commands_directory_only() {
        let name = AgentName::new("pdf").unwrap();
        let workspace = project();
        let check = |target: &str, path: &str| {
            allowed(&workspace, Kind::Command, &name, target, &RelativePath::parse(path).unwrap())
        };
        for (target, path) in [
            ("gemini", ".gemini/commands/pdf.toml"),
            ("opencode", ".opencode/command/pdf.md"),
            ("copilot", ".github/prompts/pdf.prompt.md"),
            ("cursor", ".cursor/commands/pdf.md"),
        ] {
            assert!(check(target, path), "{target}");
            assert!(!check("claude-code", path), "{target}");
        }
        assert!(!check("gemini", ".gemini/commands/other.toml"));
        assert!(!check("gemini", ".gemini/agents/pdf.md"));
        assert!(!check("opencode", ".cursor/commands/pdf.md"));
        assert!(!check("codex", ".codex/prompts/pdf.md"));
        assert!(!check("vim", ".vim/pdf.md"));
        // User scope: each tool's own directory, moved by its variable; Copilot and Codex none.
        let (tools, _) = ToolHomes::from_env(std::path::Path::new("/home/u"), |v| {
            (v == "XDG_CONFIG_HOME").then(|| std::ffi::OsString::from("/home/u/xdg"))
        });
        let user = Workspace::user(dirs(tools));
        let relative = |t| user.command_relative(t, &name).map(|p| p.to_string());
        assert_eq!(relative(Target::OpenCode).as_deref(), Some("xdg/opencode/command/pdf.md"));
        assert_eq!(relative(Target::Gemini).as_deref(), Some(".gemini/commands/pdf.toml"));
        assert_eq!(relative(Target::Cursor).as_deref(), Some(".cursor/commands/pdf.md"));
        assert_eq!(relative(Target::ClaudeCode).as_deref(), Some(".claude/commands/pdf.md"));
        assert_eq!((relative(Target::Copilot), relative(Target::Codex)), (None, None));
        let check = |target: &str, path: &str| {
            allowed(&user, Kind::Command, &name, target, &RelativePath::parse(path).unwrap())
        };
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
        let workspace = project();
        assert_eq!(package_dirs(&workspace, Kind::Skill, &name, &[]).len(), 1);
        assert_eq!(package_dirs(&workspace, Kind::Skill, &name, &[Target::ClaudeCode]).len(), 1);
        assert_eq!(
            package_dirs(&workspace, Kind::Skill, &name, &[Target::Cursor])[1],
            ("agents", ".agents/skills/pdf".to_owned())
        );
        assert!(package_dirs(&workspace, Kind::Command, &name, &[Target::Cursor]).is_empty());
    }

    #[test]
    fn claude_code_s_user_skills_and_commands_follow_claude_config_dir() {
        let name = AgentName::new("pdf").unwrap();
        let (tools, _) = ToolHomes::from_env(std::path::Path::new("/home/u"), |v| {
            (v == "CLAUDE_CONFIG_DIR").then(|| std::ffi::OsString::from("/home/u/claude"))
        });
        let user = Workspace::user(dirs(tools));
        assert_eq!(package_dirs(&user, Kind::Skill, &name, &[Target::Cursor])[0].1, "claude/skills/pdf");
        assert_eq!(main_file(&user, Kind::Skill, &name).as_str(), "claude/skills/pdf/SKILL.md");
        assert_eq!(main_file(&user, Kind::Command, &name).as_str(), "claude/commands/pdf.md");
        assert_eq!(user.command_relative(Target::ClaudeCode, &name).unwrap().as_str(), "claude/commands/pdf.md");
        // The project scope is not moved by the variable.
        let moved_project = Workspace::project("/work/p".into(), user.dirs.clone());
        assert_eq!(main_file(&moved_project, Kind::Skill, &name).as_str(), ".claude/skills/pdf/SKILL.md");

        let check =
            |kind, target: &str, path: &str| allowed(&user, kind, &name, target, &RelativePath::parse(path).unwrap());
        assert!(check(Kind::Skill, "claude-code", "claude/skills/pdf/SKILL.md"));
        assert!(check(Kind::Command, "claude-code", "claude/commands/pdf.md"));
        // Pinned before the variable moved the directory (or under an earlier value): still its file.
        assert!(check(Kind::Skill, "claude-code", ".claude/skills/pdf/scripts/a.sh"));
        assert!(check(Kind::Command, "claude-code", ".claude/commands/pdf.md"));
        assert!(check(Kind::Command, "claude-code", "old/claude/commands/pdf.md"));
        // Never a path another tool (or Claude Code's agents directory) reads, nor another name.
        for (kind, path) in [
            (Kind::Skill, ".claude/agents/skills/pdf/SKILL.md"),
            (Kind::Skill, ".agents/skills/pdf/SKILL.md"),
            (Kind::Skill, "claude/skills/pdf"),
            (Kind::Skill, "claude/skills/pdfx/SKILL.md"),
            (Kind::Command, "claude/commands/other.md"),
            (Kind::Command, "claude/commands/pdf.md/x"),
            (Kind::Command, ".opencode/command/commands/pdf.md"),
        ] {
            assert!(!check(kind, "claude-code", path), "{path}");
        }
        assert!(!check(Kind::Command, "opencode", "claude/opencode/command/pdf.md"));
        assert!(check(Kind::Command, "opencode", "xdg/opencode/command/pdf.md"));
        let inside =
            |workspace: &Workspace, path: &str| workspace.inside_claude_dir(&RelativePath::parse(path).unwrap());
        assert!(inside(&user, "claude/agents/pdf.md") && inside(&user, ".claude/agents/pdf.md"));
        assert!(!inside(&user, "claudex/agents/pdf.md") && !inside(&project(), "claude/agents/pdf.md"));
        let (tools, _) = ToolHomes::from_env(std::path::Path::new("/home/u"), |v| {
            (v == "CLAUDE_CONFIG_DIR").then(|| std::ffi::OsString::from("/home/u"))
        });
        let at_home = Workspace::user(dirs(tools));
        assert!(inside(&at_home, "agents/pdf.md") && inside(&at_home, "commands/pdf.md"));
        assert!(!inside(&at_home, "xdg/opencode/agent/pdf.md"));
        assert_eq!(
            below_claude_home(Kind::Skill, &name, &RelativePath::parse("x/skills/pdf/a/b.md").unwrap()),
            Some("skills/pdf/a/b.md")
        );
    }
}
