//! Existing collections of agent files, for `agents import`: a directory tree of Markdown files,
//! or a Claude Code plugin marketplace (`.claude-plugin/marketplace.json` listing plugins, each
//! with an `agents/` directory or the paths its `.claude-plugin/plugin.json` names).
//!
//! A collection is someone else's: nothing is read from outside it. A symlink is followed only
//! when it resolves to a regular file inside the collection; one that leads out of it, to a
//! directory, to something that is not a regular file (`/dev/zero`, a FIFO) or nowhere is
//! reported and skipped, as is any other entry that is not a regular file. Each file is read with
//! [`read_found`]: a regular file, the one that was checked, at most [`MAX_COLLECTION_FILE_LEN`]
//! bytes. A bad entry never stops the rest.

use std::io::Read as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use agents_format::MAX_AGENT_FILE_LEN;

use crate::error::{RegistryError, Result, io_error};
use crate::transport::{self, NetConfig};

/// The largest file of a collection that is read (an agent file, a marketplace or plugin
/// manifest): the agent-file limit.
pub const MAX_COLLECTION_FILE_LEN: usize = MAX_AGENT_FILE_LEN;

/// One candidate agent file found in a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The regular file to read, inside the collection (a symlink's target, resolved).
    pub path: PathBuf,
    /// The path relative to the collection root, for messages.
    pub label: String,
}

/// Reads a found file: only a regular file, only the one [`find_agent_files`] checked (not one
/// swapped in since, through a symlink or a rename), and at most [`MAX_COLLECTION_FILE_LEN`]
/// bytes, refused before reading when its size says so.
pub fn read_found(found: &Found) -> Result<Vec<u8>> {
    read_regular(&found.path, MAX_COLLECTION_FILE_LEN)
}

fn read_regular(path: &Path, limit: usize) -> Result<Vec<u8>> {
    let checked = std::fs::symlink_metadata(path).map_err(io_error(path))?;
    if !checked.file_type().is_file() {
        return Err(RegistryError::NotARegularFile { path: path.to_owned() });
    }
    let file = std::fs::File::open(path).map_err(io_error(path))?;
    let opened = file.metadata().map_err(io_error(path))?;
    if !opened.file_type().is_file() || (opened.dev(), opened.ino()) != (checked.dev(), checked.ino()) {
        return Err(RegistryError::NotARegularFile { path: path.to_owned() });
    }
    let too_large = |len: u64| RegistryError::TooLarge { what: path.display().to_string(), len, limit: limit as u64 };
    if opened.len() > limit as u64 {
        return Err(too_large(opened.len()));
    }
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1).read_to_end(&mut bytes).map_err(io_error(path))?;
    if bytes.len() > limit {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
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
    let root = &root.canonicalize().map_err(io_error(root))?;
    let marketplace = root.join(".claude-plugin").join("marketplace.json");
    let mut skipped = Vec::new();
    let mut directories = Vec::new();
    let is_marketplace = std::fs::symlink_metadata(&marketplace).is_ok_and(|m| m.file_type().is_file());
    if is_marketplace {
        let text = String::from_utf8_lossy(&read_regular(&marketplace, MAX_COLLECTION_FILE_LEN)?).into_owned();
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
        walk(root, &directory, is_marketplace, &mut found, &mut skipped);
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
    let declared = read_regular(&manifest, MAX_COLLECTION_FILE_LEN)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
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

/// Walks `path` (canonical, inside `root`, which is canonical too) for agent files. Entries are
/// looked at without following symlinks; see the module docs for what a symlink may be.
fn walk(root: &Path, path: &Path, single_level: bool, found: &mut Vec<Found>, skipped: &mut Vec<Skipped>) {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file()) {
        push_file(root, path, path, found);
        return;
    }
    let Ok(entries) = std::fs::read_dir(path) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let Ok(file_type) = entry.file_type() else { continue };
        if file_type.is_dir() {
            if !single_level {
                walk(root, &path, false, found, skipped);
            }
        } else if file_type.is_file() {
            push_file(root, &path, &path, found);
        } else if is_agent_file(&path) {
            let skip = |reason: &str| Skipped { label: label_of(root, &path), reason: reason.to_owned() };
            if !file_type.is_symlink() {
                skipped.push(skip("not a regular file"));
                continue;
            }
            match path.canonicalize() {
                Err(_) => skipped.push(skip("a symlink that leads nowhere")),
                Ok(target) if !target.starts_with(root) => {
                    skipped.push(skip("a symlink that leads out of the collection, not followed"))
                }
                Ok(target) if !std::fs::metadata(&target).is_ok_and(|m| m.file_type().is_file()) => {
                    skipped.push(skip("a symlink to something that is not a regular file, not followed"))
                }
                Ok(target) => push_file(root, &path, &target, found),
            }
        }
    }
}

/// Whether `path` names an agent file: `*.md`, but not the documentation kept beside agents.
fn is_agent_file(path: &Path) -> bool {
    let is_markdown = path.extension().is_some_and(|e| e == "md");
    let stem = path.file_stem().map(|s| s.to_string_lossy().to_lowercase()).unwrap_or_default();
    let is_doc =
        ["readme", "license", "changelog", "contributing", "code_of_conduct", "security"].contains(&stem.as_str());
    is_markdown && !is_doc
}

fn label_of(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

/// Adds the agent file found at `path` (the entry, for its label) whose bytes are at `target`
/// (a regular file inside the collection: the entry itself, or a symlink's resolved target).
fn push_file(root: &Path, path: &Path, target: &Path, found: &mut Vec<Found>) {
    if is_agent_file(path) {
        found.push(Found { path: target.to_path_buf(), label: label_of(root, path) });
    }
}

/// Clones the collection at `url` into `destination` (a new directory), with the same
/// credentials and transport choice as registries.
pub fn clone_collection(url: &str, destination: &Path, net: &NetConfig) -> Result<()> {
    transport::clone_work_tree(&agents_format::RegistryUrl::parse(url)?, destination, net)
}
