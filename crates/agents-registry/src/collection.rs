//! Existing collections of agent files, for `agents import`: a directory tree of Markdown files,
//! or a Claude Code plugin marketplace (`.claude-plugin/marketplace.json` listing plugins, each
//! with an `agents/` directory or the paths its `.claude-plugin/plugin.json` names).

use std::path::{Path, PathBuf};

use crate::error::{RegistryError, Result, io_error};
use crate::transport::{self, NetConfig};

/// One candidate agent file found in a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub path: PathBuf,
    /// The path relative to the collection root, for messages.
    pub label: String,
}

/// A part of a collection that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub label: String,
    pub reason: String,
}

/// Lists the agent files of the collection at `root`. A marketplace is read through its
/// manifest; any other directory is walked for `*.md` files (hidden directories, `README.md`
/// and the like are left out).
pub fn find_agent_files(root: &Path) -> Result<(Vec<Found>, Vec<Skipped>)> {
    let marketplace = root.join(".claude-plugin").join("marketplace.json");
    let mut skipped = Vec::new();
    let mut directories = Vec::new();
    if marketplace.is_file() {
        let text = fs_err::read_to_string(&marketplace).map_err(io_error(&marketplace))?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| RegistryError::NotARegistry {
            url: marketplace.display().to_string(),
            reason: format!("marketplace.json is not valid JSON: {e}"),
        })?;
        let plugins = value.get("plugins").and_then(|p| p.as_array()).cloned().unwrap_or_default();
        for plugin in plugins {
            let name = plugin.get("name").and_then(|n| n.as_str()).unwrap_or("(unnamed plugin)").to_owned();
            let Some(source) = plugin.get("source").and_then(|s| s.as_str()) else {
                skipped.push(Skipped { label: name, reason: "its source is not a path in this repository".to_owned() });
                continue;
            };
            let Some(plugin_dir) = inside(root, source) else {
                skipped.push(Skipped { label: name, reason: format!("source `{source}` leaves the repository") });
                continue;
            };
            directories.extend(plugin_agent_dirs(root, &plugin_dir, &name, &mut skipped));
        }
    } else {
        directories.push(root.to_path_buf());
    }
    let mut found = Vec::new();
    for directory in directories {
        walk(root, &directory, marketplace.is_file(), &mut found);
    }
    found.sort_by(|a, b| a.label.cmp(&b.label));
    found.dedup();
    Ok((found, skipped))
}

/// `relative` resolved under `root`, or `None` when it would leave it.
fn inside(root: &Path, relative: &str) -> Option<PathBuf> {
    let path = root.join(relative.trim_start_matches("./"));
    let resolved = path.canonicalize().ok()?;
    resolved.starts_with(root.canonicalize().ok()?).then_some(resolved)
}

fn plugin_agent_dirs(root: &Path, plugin_dir: &Path, name: &str, skipped: &mut Vec<Skipped>) -> Vec<PathBuf> {
    let manifest = plugin_dir.join(".claude-plugin").join("plugin.json");
    let declared = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|value| value.get("agents").cloned());
    let paths: Vec<String> = match declared {
        Some(serde_json::Value::String(path)) => vec![path],
        Some(serde_json::Value::Array(paths)) => paths.iter().filter_map(|p| p.as_str().map(str::to_owned)).collect(),
        _ => vec!["agents".to_owned()],
    };
    let mut dirs = Vec::new();
    for path in paths {
        match inside(plugin_dir, &path).filter(|p| p.starts_with(root.canonicalize().unwrap_or_default())) {
            Some(dir) => dirs.push(dir),
            None if path == "agents" => {}
            None => skipped.push(Skipped {
                label: name.to_owned(),
                reason: format!("agents path `{path}` is missing or leaves the plugin"),
            }),
        }
    }
    dirs
}

fn walk(root: &Path, path: &Path, single_level: bool, found: &mut Vec<Found>) {
    if path.is_file() {
        push_file(root, path, found);
        return;
    }
    let Ok(entries) = std::fs::read_dir(path) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && !single_level {
            walk(root, &path, false, found);
        } else if !is_dir {
            push_file(root, &path, found);
        }
    }
}

fn push_file(root: &Path, path: &Path, found: &mut Vec<Found>) {
    let is_markdown = path.extension().is_some_and(|e| e == "md");
    let stem = path.file_stem().map(|s| s.to_string_lossy().to_lowercase()).unwrap_or_default();
    // Documentation beside agents, not agents.
    let is_doc =
        ["readme", "license", "changelog", "contributing", "code_of_conduct", "security"].contains(&stem.as_str());
    if is_markdown && !is_doc {
        let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let label = path
            .strip_prefix(&canonical_root)
            .or_else(|_| path.strip_prefix(root))
            .unwrap_or(path)
            .display()
            .to_string();
        found.push(Found { path: path.to_path_buf(), label });
    }
}

/// Clones the collection at `url` into `destination` (a new directory), with the same
/// credentials and transport choice as registries.
pub fn clone_collection(url: &str, destination: &Path, net: &NetConfig) -> Result<()> {
    transport::clone_work_tree(&agents_format::RegistryUrl::parse(url)?, destination, net)
}
