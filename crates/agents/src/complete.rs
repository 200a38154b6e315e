//! Dynamic shell completion (clap_complete's `CompleteEnv`): package names from the project's
//! lockfile and manifest (and the built-in registry's, for `install`), and registry names from the
//! project's manifest and the user's config. Read offline, from files only: a completion never
//! touches the network and never fails (it offers nothing instead).

use std::ffi::OsStr;

use clap_complete::engine::CompletionCandidate;

/// Names of the packages the project locks or lists, then the built-in registry's, starting
/// with what was typed (for `install`, `info`, `yank`).
pub(crate) fn packages(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(current) = current.to_str() else { return Vec::new() };
    let mut names = project_packages();
    if let Ok(summaries) = agents_registry::Registry::builtin().summaries() {
        names.extend(summaries.into_iter().map(|summary| (summary.name.to_string(), "built in")));
    }
    candidates(current, names)
}

/// Names of the packages the project locks or lists (for `uninstall`, `update`, `diff`, `resolve`).
pub(crate) fn installed(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(current) = current.to_str() else { return Vec::new() };
    candidates(current, project_packages())
}

fn project_packages() -> Vec<(String, &'static str)> {
    let mut names = Vec::new();
    if let Some(workspace) = workspace() {
        if let Ok((_, lockfile)) = workspace.read_lockfile() {
            names.extend(lockfile.agents().iter().map(|locked| (locked.name.to_string(), "locked")));
        }
        if let Ok((_, manifest)) = workspace.read_manifest() {
            names.extend(manifest.agents.keys().map(|name| (name.to_string(), "in agents.toml")));
        }
    }
    names
}

/// Registry names from the project's manifest and the user's config, and `builtin`.
pub(crate) fn registries(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(current) = current.to_str() else { return Vec::new() };
    let mut names: Vec<(String, &'static str)> = vec![(agents_registry::BUILTIN_NAME.to_owned(), "built in")];
    if let Some(workspace) = workspace() {
        if let Ok((_, manifest)) = workspace.read_manifest() {
            names.extend(manifest.registries.keys().map(|name| (name.clone(), "in agents.toml")));
        }
        if let Ok((_, config)) = workspace.read_user_config() {
            names.extend(config.registries.keys().map(|name| (name.clone(), "in config.toml")));
        }
    }
    candidates(current, names)
}

/// The project around the current directory (or the user's scope outside any project).
fn workspace() -> Option<agents_workspace::Workspace> {
    let context = crate::context::Context::from_env(false, true, false).ok()?;
    Some(context.workspace())
}

/// The names starting with `current`, each once (the first reason given wins), sorted.
fn candidates(current: &str, mut names: Vec<(String, &'static str)>) -> Vec<CompletionCandidate> {
    names.retain(|(name, _)| name.starts_with(current));
    names.sort_by(|a, b| a.0.cmp(&b.0));
    names.dedup_by(|later, first| later.0 == first.0);
    names.into_iter().map(|(name, why)| CompletionCandidate::new(name).help(Some(why.into()))).collect()
}
