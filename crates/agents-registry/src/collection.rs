//! Existing collections of agent files, for `agents import`: a directory tree of Markdown files,
//! or a Claude Code plugin marketplace (`.claude-plugin/marketplace.json` listing plugins, each
//! with an `agents/` directory or the paths its `.claude-plugin/plugin.json` names).
//!
//! A marketplace is read as Claude Code reads it: a bare `source` is under `metadata.pluginRoot`;
//! a `strict: false` entry is the plugin's whole definition (its `agents` field, not the plugin's
//! manifest); each found file remembers its plugin, since Claude Code keeps same-named agents of
//! two plugins apart (`plugin:agent`). The same manifests give each plugin's skills (`skills/`)
//! and slash commands (`commands/`), [`find_collection_packages`]; an Agent Skill's `SKILL.md`
//! and the files beside it, and commands, are never taken for agents.
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

use agents_format::{Kind, MAX_AGENT_FILE_LEN, SKILL_FILE};

use crate::error::{RegistryError, Result, io_error};
use crate::package::{FoundPackage, find_packages, find_packages_under};
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
    /// The marketplace plugin the file belongs to (`None` outside a marketplace).
    pub plugin: Option<String>,
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

/// One plugin of a marketplace, located inside the repository.
struct Plugin {
    name: String,
    directory: PathBuf,
    /// `strict: false`: the marketplace entry is the plugin's whole definition.
    strict: bool,
    entry: serde_json::Value,
}

/// The plugins of the marketplace at `root` (canonical), in the marketplace's order (only those
/// named in `plugins`, when it is not empty), or `None` when `root` is no marketplace. A plugin
/// that cannot be read from the repository is reported in `skipped`.
fn marketplace_plugins(root: &Path, plugins: &[String], skipped: &mut Vec<Skipped>) -> Result<Option<Vec<Plugin>>> {
    let marketplace = root.join(".claude-plugin").join("marketplace.json");
    if !std::fs::symlink_metadata(&marketplace).is_ok_and(|m| m.file_type().is_file()) {
        return Ok(None);
    }
    let text = String::from_utf8_lossy(&read_regular(&marketplace, MAX_COLLECTION_FILE_LEN)?).into_owned();
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| RegistryError::NotARegistry {
        url: marketplace.display().to_string(),
        reason: format!("marketplace.json is not valid JSON: {e}"),
    })?;
    let plugin_root = value.pointer("/metadata/pluginRoot").and_then(|p| p.as_str()).unwrap_or("");
    let entries = value.get("plugins").and_then(|p| p.as_array()).cloned().unwrap_or_default();
    let mut out = Vec::new();
    for plugin in entries {
        let name = plugin.get("name").and_then(|n| n.as_str()).unwrap_or("(unnamed plugin)").to_owned();
        if !plugins.is_empty() && !plugins.contains(&name) {
            continue;
        }
        let source = match plugin.get("source") {
            Some(serde_json::Value::String(source)) => source.clone(),
            Some(other) => {
                let kind = other.get("source").and_then(|k| k.as_str()).unwrap_or("an object");
                skipped.push(Skipped {
                    label: name,
                    reason: format!("its source is not a path in this repository (a `{kind}` source)"),
                });
                continue;
            }
            None => {
                skipped.push(Skipped { label: name, reason: "it has no `source`".to_owned() });
                continue;
            }
        };
        // Claude Code: `pluginRoot` is prepended to a relative source that does not say
        // where it starts (`formatter` under `./plugins`).
        let bare = !source.starts_with("./") && !source.starts_with("../") && !source.starts_with('/');
        let relative = if bare && !plugin_root.is_empty() {
            format!("{}/{source}", plugin_root.trim_end_matches('/'))
        } else {
            source
        };
        let directory = match locate(root, root, &relative) {
            Ok(dir) => dir,
            Err(why) => {
                skipped.push(Skipped { label: name, reason: format!("source `{relative}` {why}") });
                continue;
            }
        };
        let strict = plugin.get("strict").and_then(|s| s.as_bool()).unwrap_or(true);
        out.push(Plugin { name, directory, strict, entry: plugin });
    }
    for wanted in plugins {
        if !value["plugins"].as_array().is_some_and(|all| all.iter().any(|p| p["name"] == wanted.as_str())) {
            skipped.push(Skipped { label: wanted.clone(), reason: "no such plugin in the marketplace".to_owned() });
        }
    }
    Ok(Some(out))
}

/// Lists the agent files of the collection at `root`. A marketplace is read through its
/// manifest (only the plugins named in `plugins`, when it is not empty); any other directory is
/// walked for `*.md` files (hidden directories, `README.md` and the like are left out).
pub fn find_agent_files(root: &Path, plugins: &[String]) -> Result<(Vec<Found>, Vec<Skipped>)> {
    let root = &root.canonicalize().map_err(io_error(root))?;
    let mut skipped = Vec::new();
    let mut directories: Vec<(PathBuf, Option<String>)> = Vec::new();
    let marketplace = marketplace_plugins(root, plugins, &mut skipped)?;
    let is_marketplace = marketplace.is_some();
    match marketplace {
        Some(found) => {
            for plugin in found {
                for dir in component_dirs(root, &plugin, "agents", &mut skipped) {
                    directories.push((dir, Some(plugin.name.clone())));
                }
            }
        }
        None => directories.push((root.to_path_buf(), None)),
    }
    let mut found = Vec::new();
    for (directory, plugin) in directories {
        let before = found.len();
        walk(root, &directory, is_marketplace, &mut found, &mut skipped);
        for file in &mut found[before..] {
            file.plugin.clone_from(&plugin);
        }
        // Sorted within each directory; directories stay in the marketplace's order (the first
        // plugin to claim a name keeps it, as its position says).
        found[before..].sort_by(|a, b| a.label.cmp(&b.label));
    }
    let mut seen = std::collections::BTreeSet::new();
    found.retain(|file| seen.insert(file.path.clone()));
    Ok((found, skipped))
}

/// Lists the skills and slash commands of the collection at `root`, and what in the places
/// they are kept is none and is left out, with why. A marketplace's come from its plugins (only
/// those named in `plugins`, when it is not empty), in the marketplace's order, each from the
/// plugin's `skills/` and `commands/` (or the paths its manifest or its marketplace entry name,
/// as for agents), remembering its plugin; any other directory is walked by [`find_packages`].
/// What a marketplace cannot offer at all (a remote plugin) is reported by
/// [`find_agent_files`], not again here.
pub fn find_collection_packages(root: &Path, plugins: &[String]) -> Result<(Vec<FoundPackage>, Vec<Skipped>)> {
    let root = &root.canonicalize().map_err(io_error(root))?;
    let mut reported_by_agents = Vec::new();
    let Some(marketplace) = marketplace_plugins(root, plugins, &mut reported_by_agents)? else {
        return Ok((find_packages(root), Vec::new()));
    };
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for plugin in marketplace {
        let before = out.len();
        for dir in component_dirs(root, &plugin, "skills", &mut skipped) {
            if std::fs::symlink_metadata(dir.join(SKILL_FILE)).is_ok_and(|m| m.file_type().is_file()) {
                out.push(FoundPackage {
                    kind: Kind::Skill,
                    label: label_of(root, &dir),
                    path: dir,
                    plugin: None,
                    entry: None,
                });
                continue;
            }
            out.extend(find_packages_under(root, &dir));
            // A directory of `skills/` is a skill only with its SKILL.md.
            for entry in sorted_entries(&dir) {
                let path = entry.path();
                if entry.file_type().is_ok_and(|t| t.is_dir())
                    && !out.iter().any(|found: &FoundPackage| found.path.starts_with(&path))
                {
                    let reason = "a directory of `skills/` without a SKILL.md: not a skill".to_owned();
                    skipped.push(Skipped { label: label_of(root, &path), reason });
                }
            }
        }
        for path in component_dirs(root, &plugin, "commands", &mut skipped) {
            out.extend(commands_in(root, &path));
            // Claude Code names a command in a subdirectory `sub:name`, which is no registry name.
            for entry in sorted_entries(&path).into_iter().filter(|e| e.file_type().is_ok_and(|t| t.is_dir())) {
                skipped.push(Skipped {
                    label: label_of(root, &entry.path()),
                    reason: "a subdirectory of `commands/`: its commands (`sub:name` in Claude Code) are not imported"
                        .to_owned(),
                });
            }
        }
        for package in &mut out[before..] {
            package.plugin = Some(plugin.name.clone());
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|package| seen.insert(package.path.clone()));
    Ok((out, skipped))
}

/// The plugins of the marketplace at `root`, each one package of kind `plugin` (only those named
/// in `plugins`, when it is not empty), in the marketplace's order, with what cannot be had (a
/// remote source); `None` when `root` is no marketplace.
pub fn find_marketplace_plugins(root: &Path, plugins: &[String]) -> Result<Option<(Vec<FoundPackage>, Vec<Skipped>)>> {
    let root = &root.canonicalize().map_err(io_error(root))?;
    let mut skipped = Vec::new();
    let Some(marketplace) = marketplace_plugins(root, plugins, &mut skipped)? else { return Ok(None) };
    let found = marketplace
        .into_iter()
        .map(|plugin| FoundPackage {
            kind: Kind::Plugin,
            label: label_of(root, &plugin.directory),
            path: plugin.directory,
            plugin: Some(plugin.name),
            entry: Some(plugin.entry),
        })
        .collect();
    Ok(Some((found, skipped)))
}

/// The fields of a marketplace entry that a plugin manifest holds too: what Claude Code takes
/// from the entry for a plugin without `.claude-plugin/plugin.json`.
const MANIFEST_FIELDS: &[&str] = &[
    "name",
    "version",
    "description",
    "author",
    "homepage",
    "repository",
    "license",
    "keywords",
    "commands",
    "agents",
    "skills",
    "hooks",
    "mcpServers",
    "lspServers",
    "outputStyles",
    "dependencies",
];

/// A marketplace plugin read whole for publishing.
#[derive(Debug, Clone, Default)]
pub struct MarketplacePlugin {
    pub files: crate::package::SkillDirectory,
    /// The entry's `version`, when the plugin's own manifest gives none.
    pub version: Option<semver::Version>,
    /// The entry's `dependencies`, when the plugin's own manifest declares none.
    pub dependencies: Vec<agents_format::PluginDependency>,
    /// What was done to make it one package, to tell the user.
    pub notes: Vec<String>,
}

/// Reads the plugin `found` ([`find_marketplace_plugins`]) as [`crate::read_plugin_directory`]
/// does. A plugin without a manifest is defined by its marketplace entry, as Claude Code loads
/// it: the entry's manifest fields become its `.claude-plugin/plugin.json` (a file added, none
/// changed), so the package is the plugin Claude Code would load.
pub fn read_marketplace_plugin(found: &FoundPackage) -> Result<MarketplacePlugin> {
    let mut out =
        MarketplacePlugin { files: crate::package::read_plugin_directory(&found.path)?, ..Default::default() };
    let entry = found.entry.clone().unwrap_or_default();
    let paths: Vec<&str> = out.files.files.iter().map(|f| f.file.path.as_str()).collect();
    let manifest = agents_format::plugin_manifest_path(paths.iter().copied());
    let Some((_, manifest_path)) = manifest else {
        let mut manifest = serde_json::Map::new();
        for field in MANIFEST_FIELDS {
            if let Some(value) = entry.get(*field) {
                manifest.insert((*field).to_owned(), value.clone());
            }
        }
        let mut bytes = serde_json::to_vec_pretty(&serde_json::Value::Object(manifest)).unwrap_or_default();
        bytes.push(b'\n');
        let path = agents_format::RelativePath::parse(agents_format::CLAUDE_PLUGIN_MANIFEST).expect("a plain path");
        out.files.files.push(crate::package::PackageContent::new(path, agents_format::FileMode::Regular, bytes));
        out.files.files.sort_by(|a, b| a.file.path.cmp(&b.file.path));
        out.notes.push(format!(
            "it has no {}: its marketplace entry is published as its manifest, as Claude Code reads it",
            agents_format::CLAUDE_PLUGIN_MANIFEST
        ));
        return Ok(out);
    };
    let own = out.files.files.iter().find(|f| f.file.path.as_str() == manifest_path);
    let own: serde_json::Value = own.and_then(|f| serde_json::from_slice(&f.bytes).ok()).unwrap_or_default();
    if own.get("version").is_none() {
        out.version = entry.get("version").and_then(|v| v.as_str()).and_then(|v| v.trim().parse().ok());
    }
    if own.get("dependencies").is_none() && entry.get("dependencies").is_some() {
        out.dependencies = agents_format::plugin_dependencies("its marketplace entry", &entry)
            .map_err(|error| RegistryError::InvalidPackage { path: found.label.clone(), message: error.to_string() })?;
    }
    Ok(out)
}

/// The entries of `dir` that are not hidden, by name (none when it is no directory).
fn sorted_entries(dir: &Path) -> Vec<std::fs::DirEntry> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut entries: Vec<_> =
        entries.flatten().filter(|entry| !entry.file_name().to_string_lossy().starts_with('.')).collect();
    entries.sort_by_key(|entry| entry.file_name());
    entries
}

/// The commands at `path`: the file itself when it is one, else the `*.md` files directly in the
/// directory (hidden ones and documentation left out), sorted.
fn commands_in(root: &Path, path: &Path) -> Vec<FoundPackage> {
    let command = |path: PathBuf| FoundPackage {
        kind: Kind::Command,
        label: label_of(root, &path),
        path,
        plugin: None,
        entry: None,
    };
    let Ok(metadata) = std::fs::symlink_metadata(path) else { return Vec::new() };
    if metadata.file_type().is_file() {
        return if is_agent_file(path) { vec![command(path.to_path_buf())] } else { Vec::new() };
    }
    let Ok(entries) = std::fs::read_dir(path) else { return Vec::new() };
    let mut out: Vec<FoundPackage> = entries
        .flatten()
        .filter(|entry| !entry.file_name().to_string_lossy().starts_with('.'))
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()) && is_agent_file(&entry.path()))
        .map(|entry| command(entry.path()))
        .collect();
    out.sort_by(|a, b| a.label.cmp(&b.label));
    out
}

/// `relative` resolved under `base` (inside `root`), or why not: it leaves the repository, does
/// not exist, or is a git submodule that was not checked out (an empty directory).
fn locate(root: &Path, base: &Path, relative: &str) -> std::result::Result<PathBuf, String> {
    let relative = relative.trim_start_matches("./");
    // Lexically first: `..` that climbs out is refused whether or not the target exists.
    let mut depth: i64 = base.strip_prefix(root).map_or(0, |p| p.components().count() as i64);
    for component in Path::new(relative).components() {
        match component {
            std::path::Component::ParentDir => depth -= 1,
            std::path::Component::Normal(_) => depth += 1,
            std::path::Component::CurDir => {}
            _ => return Err("leaves the repository".to_owned()),
        }
        if depth < 0 {
            return Err("leaves the repository".to_owned());
        }
    }
    let path = base.join(relative);
    let Ok(resolved) = path.canonicalize() else {
        return Err("does not exist in the repository".to_owned());
    };
    if !resolved.starts_with(root) {
        return Err("leaves the repository (through a symlink)".to_owned());
    }
    if resolved.is_dir() && std::fs::read_dir(&resolved).is_ok_and(|mut entries| entries.next().is_none()) {
        let submodule = std::fs::read_to_string(root.join(".gitmodules")).is_ok_and(|modules| {
            modules.lines().any(|l| {
                l.trim().trim_start_matches("path").trim_start_matches([' ', '=']).trim()
                    == relative.trim_end_matches('/')
            })
        });
        return Err(if submodule {
            "is a git submodule that is not checked out (clone with --recurse-submodules)".to_owned()
        } else {
            "is an empty directory".to_owned()
        });
    }
    Ok(resolved)
}

/// The directories (or files) of a plugin's `component` (`agents`, `skills`, `commands`): the
/// paths its manifest declares (unless `strict: false`) and its marketplace entry adds, else the
/// default directory named after the component. A declared path that is not there is reported.
fn component_dirs(root: &Path, plugin: &Plugin, component: &str, skipped: &mut Vec<Skipped>) -> Vec<PathBuf> {
    let paths_of = |value: &serde_json::Value| -> Vec<String> {
        match value {
            serde_json::Value::String(path) => vec![path.clone()],
            serde_json::Value::Array(paths) => paths.iter().filter_map(|p| p.as_str().map(str::to_owned)).collect(),
            _ => Vec::new(),
        }
    };
    // With `strict: false` the marketplace entry is the whole definition; otherwise the
    // plugin's own manifest declares its components, and the entry may add to it.
    let manifest = plugin.directory.join(".claude-plugin").join("plugin.json");
    let declared = if plugin.strict {
        read_regular(&manifest, MAX_COLLECTION_FILE_LEN)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .and_then(|value| value.get(component).map(paths_of))
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut paths = declared;
    paths.extend(plugin.entry.get(component).map(paths_of).unwrap_or_default());
    let default = paths.is_empty();
    if default {
        paths.push(component.to_owned());
    }
    let mut dirs = Vec::new();
    for path in paths {
        match locate(root, &plugin.directory, &path) {
            Ok(dir) => dirs.push(dir),
            // A plugin without the default directory simply has none of that component.
            Err(_) if default => {}
            Err(why) => {
                skipped.push(Skipped { label: plugin.name.clone(), reason: format!("{component} path `{path}` {why}") })
            }
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
        } else if file_type.is_file()
            && is_agent_file(&path)
            && let Some(reason) = not_an_agent(root, &path)
        {
            skipped.push(Skipped { label: label_of(root, &path), reason });
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

/// Why a Markdown file of the collection is something other than an agent, if it is: an Agent
/// Skill (`SKILL.md`, and the files of its directory), or a slash command (under `commands/`).
fn not_an_agent(root: &Path, path: &Path) -> Option<String> {
    let is_skill_file = |p: &Path| p.file_name().is_some_and(|n| n.eq_ignore_ascii_case("SKILL.md"));
    if is_skill_file(path) {
        return Some("an Agent Skill (`SKILL.md`), not an agent: skills are not imported".to_owned());
    }
    let mut dir = path.parent();
    while let Some(current) = dir.filter(|d| d.starts_with(root) && *d != root) {
        if current.join("SKILL.md").is_file() || current.join("skill.md").is_file() {
            return Some(format!(
                "part of the Agent Skill in `{}`, not an agent: skills are not imported",
                label_of(root, current)
            ));
        }
        if current.file_name().is_some_and(|n| n == "commands") {
            return Some("a slash command (under `commands/`), not an agent".to_owned());
        }
        dir = current.parent();
    }
    None
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
        found.push(Found { path: target.to_path_buf(), label: label_of(root, path), plugin: None });
    }
}

/// The URL of the `origin` remote of the git repository holding `root` (a collection checked
/// out or cloned), if it is in one and has one: what names the collection an import records.
pub fn collection_origin(root: &Path) -> Option<String> {
    let repository = git2::Repository::discover(root).ok()?;
    let remote = repository.find_remote("origin").ok()?;
    remote.url().map(str::to_owned)
}

/// Clones the collection at `url` into `destination` (a new directory), with the same
/// credentials and transport choice as registries.
pub fn clone_collection(url: &str, destination: &Path, net: &NetConfig) -> Result<()> {
    transport::clone_work_tree(&agents_format::RegistryUrl::parse(url)?, destination, net)
}
