//! Files written for other tools: each agent converted into each target's format, at the
//! target's path in the project (or the home, in user scope). Claude Code's file is the agent
//! itself and is handled as the primary file everywhere else.

use std::path::PathBuf;

use agents_format::{AgentFile, AgentName, LockedFile, RelativePath, Sha256, Target};

use crate::workspace::{Scope, Workspace};

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
            Scope::User => target.user_path(name),
        };
        RelativePath::parse(&text).expect("an agent name makes a plain relative path")
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
