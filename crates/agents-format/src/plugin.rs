//! Plugins: a Claude Code plugin directory (`.claude-plugin/plugin.json`) or an Agent Plugins 1.0
//! package (a `plugin.json` whose `$schema` is agent-plugins.org's), published whole as one
//! package of kind `plugin` (schema 4, [`PLUGIN_RECORD_SCHEMA`]).
//!
//! What is read here is what a tool will load and run: the manifest's name, version and
//! description, the paths it points at (each must stay inside the plugin), the plugins it
//! depends on, and everything that can execute on the user's machine: hook commands, MCP and
//! LSP server commands (from the manifest or the files it and the defaults name), and the files
//! such a command may run. Nothing here executes or rewrites anything; the bytes installed are
//! the bytes published.

use serde_json::Value;

use crate::name::AgentName;
use crate::package::{FileMode, PackageFile};

/// The record schema of plugins. Clients that predate plugins skip such a record instead of
/// installing half of it.
pub const PLUGIN_RECORD_SCHEMA: u32 = 4;
/// Where a Claude Code plugin keeps its manifest.
pub const CLAUDE_PLUGIN_MANIFEST: &str = ".claude-plugin/plugin.json";
/// Where an Agent Plugins package keeps its manifest.
pub const AGENT_PLUGINS_MANIFEST: &str = "plugin.json";
/// The start of the `$schema` an Agent Plugins manifest declares.
pub const AGENT_PLUGINS_SCHEMA_PREFIX: &str = "https://agent-plugins.org/schemas/";
/// The largest manifest or hooks/MCP/LSP file read for its commands, in bytes.
pub const MAX_PLUGIN_CONFIG_LEN: usize = 256 * 1024;
/// The most dependencies a plugin may declare (a record's requirement cap).
const MAX_DEPENDENCIES: usize = crate::requirement::MAX_REQUIREMENTS;

/// The manifest fields whose values are paths (or lists of paths) inside the plugin.
const PATH_FIELDS: &[&str] =
    &["commands", "agents", "skills", "hooks", "mcpServers", "lspServers", "outputStyles", "monitors"];
/// The manifest fields that may hold, inline or in the files they name, commands that run.
const EXEC_FIELDS: &[&str] = &["hooks", "mcpServers", "lspServers", "monitors"];

/// Which plugin format a directory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginFormat {
    /// `.claude-plugin/plugin.json` (a manifest-less Claude Code plugin is not published: its
    /// name would come from its directory, which a registry cannot see).
    ClaudeCode,
    /// Agent Plugins 1.0: `plugin.json` at the top, with its `$schema`.
    AgentPlugins,
}

/// A plugin's dependency as its manifest declares it (Claude Code's `dependencies`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginDependency {
    pub name: AgentName,
    /// The version range (`^1.2`), when one is given; `None` means any version.
    pub range: Option<String>,
    /// The marketplace the dependency is named in (`name@marketplace`), when one is given.
    pub marketplace: Option<String>,
}

/// One command a plugin can run, and where it is declared.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PluginCommand {
    /// `hook PreToolUse (hooks/hooks.json)`, `MCP server github (.mcp.json)`.
    pub what: String,
    /// The exact command line, as the tool will run it (arguments joined with spaces, each
    /// quoted when it needs to be).
    pub line: String,
}

/// A parsed plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plugin {
    pub format: PluginFormat,
    pub name: AgentName,
    pub version: Option<String>,
    pub description: Option<String>,
    pub dependencies: Vec<PluginDependency>,
    /// Every command it can run, sorted.
    pub commands: Vec<PluginCommand>,
    /// Files it ships that a command may run: executable, or starting with `#!`.
    pub runnable_files: Vec<String>,
}

impl Plugin {
    /// Whether anything in the plugin can run on the user's machine.
    pub fn executes(&self) -> bool {
        !self.commands.is_empty() || !self.runnable_files.is_empty()
    }
}

/// Why a plugin is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    #[error(
        "no plugin manifest: a Claude Code plugin has `{CLAUDE_PLUGIN_MANIFEST}`, an Agent Plugins package a `{AGENT_PLUGINS_MANIFEST}` with its `$schema`"
    )]
    NoManifest,
    #[error("{path} is not valid JSON: {message}")]
    Json { path: String, message: String },
    #[error("{path} is {len} bytes, over the limit of {MAX_PLUGIN_CONFIG_LEN} for a plugin's configuration")]
    TooLarge { path: String, len: usize },
    #[error(
        "{path}: `agents` names `{value}`, and Claude Code takes only agent files there (each must end in `.md`); list each file (`./agents/NAME.md`), or drop the field: Claude Code reads `agents/` by itself"
    )]
    AgentsPath { path: String, value: String },
    #[error("{path}: `name` is missing or not a string")]
    NoName { path: String },
    #[error("{path}: `name`: {message}")]
    BadName { path: String, message: String },
    #[error(
        "{path}: `{field}` points at `{value}`, which is not a path inside the plugin (write a relative path starting with `./`, with no `..`)"
    )]
    PathOutside { path: String, field: String, value: String },
    #[error("{path}: `{field}` names `{value}`, which the plugin does not hold")]
    MissingFile { path: String, field: String, value: String },
    #[error(
        "{path}: Claude Code does not load a plugin named `{name}` from any marketplace but Anthropic's ({why}); rename it for what it does (`name` in the manifest)"
    )]
    Reserved { path: String, name: String, why: &'static str },
    #[error("{path}: `dependencies`: {message}")]
    BadDependency { path: String, message: String },
}

/// Why Claude Code refuses a third party's plugin called `name`, if it does: the rule its
/// validator states (2.1.337: "A third party's plugin name cannot start with "claude-",
/// "anthropic-", "anthropics-", or "cc-plugin-", be "claude", "anthropic", "anthropics",
/// "claude-code", or "claude-mods", or put "official" beside "claude" or "anthropic"").
pub fn reserved_plugin_name(name: &str) -> Option<&'static str> {
    const PREFIXES: &[&str] = &["claude-", "anthropic-", "anthropics-", "cc-plugin-"];
    const NAMES: &[&str] = &["claude", "anthropic", "anthropics", "claude-code", "claude-mods"];
    let name = name.to_ascii_lowercase();
    if NAMES.contains(&name.as_str()) {
        return Some("the name is Anthropic's");
    }
    if PREFIXES.iter().any(|prefix| name.starts_with(prefix)) {
        return Some(
            "names starting with `claude-`, `anthropic-`, `anthropics-` or `cc-plugin-` pass as Anthropic's own",
        );
    }
    if name.contains("official") && (name.contains("claude") || name.contains("anthropic")) {
        return Some("`official` beside `claude` or `anthropic` passes as Anthropic's own");
    }
    None
}

/// Whether a hidden path may be part of a plugin: its manifest directories (`.claude-plugin/`,
/// and other tools' such as `.codex-plugin/`) and the MCP and LSP files Claude Code reads at the
/// plugin's top. Every other hidden path (`.git`, `.DS_Store` inside a manifest directory) is
/// left out.
pub fn plugin_hidden_path_allowed(path: &str) -> bool {
    // Other tools' manifests of the same plugin (`.codex-plugin/`, `.cursor-plugin/`) are part
    // of it too.
    let top = path.split('/').next().unwrap_or_default();
    let manifest_dir =
        top.starts_with('.') && top.len() > ".-plugin".len() && top.ends_with("-plugin") && path.len() > top.len() + 1;
    (manifest_dir && !path[top.len() + 1..].split('/').any(|c| c.starts_with('.')))
        || matches!(path, ".mcp.json" | ".lsp.json")
}

/// Which manifest the files hold, if any: Claude Code's first.
pub fn plugin_manifest_path<'a>(files: impl IntoIterator<Item = &'a str>) -> Option<(PluginFormat, &'static str)> {
    let mut agent_plugins = false;
    for path in files {
        if path == CLAUDE_PLUGIN_MANIFEST {
            return Some((PluginFormat::ClaudeCode, CLAUDE_PLUGIN_MANIFEST));
        }
        agent_plugins |= path == AGENT_PLUGINS_MANIFEST;
    }
    agent_plugins.then_some((PluginFormat::AgentPlugins, AGENT_PLUGINS_MANIFEST))
}

/// Parses a plugin from its files (`(listing, bytes)`), as a tool would load it.
pub fn parse_plugin(files: &[(&PackageFile, &[u8])]) -> Result<Plugin, PluginError> {
    let bytes_of = |path: &str| files.iter().find(|(f, _)| f.path.as_str() == path).map(|(_, b)| *b);
    let (format, manifest_path) =
        plugin_manifest_path(files.iter().map(|(f, _)| f.path.as_str())).ok_or(PluginError::NoManifest)?;
    let manifest = parse_json(manifest_path, bytes_of(manifest_path).unwrap_or_default())?;
    if format == PluginFormat::AgentPlugins
        && !manifest.get("$schema").and_then(Value::as_str).is_some_and(|s| s.starts_with(AGENT_PLUGINS_SCHEMA_PREFIX))
    {
        return Err(PluginError::NoManifest);
    }
    let name =
        manifest.get("name").and_then(Value::as_str).ok_or(PluginError::NoName { path: manifest_path.into() })?;
    let name = AgentName::new(name)
        .map_err(|error| PluginError::BadName { path: manifest_path.into(), message: error.to_string() })?;
    if let Some(why) = reserved_plugin_name(name.as_str()) {
        return Err(PluginError::Reserved { path: manifest_path.into(), name: name.to_string(), why });
    }
    let text = |field: &str| manifest.get(field).and_then(Value::as_str).map(str::to_owned);
    let held: Vec<&str> = files.iter().map(|(f, _)| f.path.as_str()).collect();
    check_paths(manifest_path, &manifest, &held)?;
    let mut commands = Vec::new();
    for (file, what) in config_files(format, &manifest) {
        let Some(bytes) = bytes_of(&file) else { continue };
        let value = parse_json(&file, bytes)?;
        collect_commands(&what, &file, config_body(&what, &value), &mut commands);
    }
    for field in EXEC_FIELDS {
        if let Some(inline) = manifest.get(*field).filter(|v| v.is_object()) {
            collect_commands(field, manifest_path, inline, &mut commands);
        }
    }
    commands.sort();
    commands.dedup();
    let runnable_files = files
        .iter()
        .filter(|(f, bytes)| f.mode == FileMode::Executable || bytes.starts_with(b"#!"))
        .map(|(f, _)| f.path.to_string())
        .collect();
    Ok(Plugin {
        format,
        name,
        version: text("version"),
        description: text("description"),
        dependencies: plugin_dependencies(manifest_path, &manifest)?,
        commands,
        runnable_files,
    })
}

fn parse_json(path: &str, bytes: &[u8]) -> Result<Value, PluginError> {
    if bytes.len() > MAX_PLUGIN_CONFIG_LEN {
        return Err(PluginError::TooLarge { path: path.to_owned(), len: bytes.len() });
    }
    serde_json::from_slice(bytes)
        .map_err(|error| PluginError::Json { path: path.to_owned(), message: error.to_string() })
}

/// Every path the manifest's component fields give is a relative path inside the plugin; a
/// configuration file it names (a `.json` path for hooks, MCP or LSP servers) is one it holds.
fn check_paths(manifest_path: &str, manifest: &Value, held: &[&str]) -> Result<(), PluginError> {
    for field in PATH_FIELDS {
        let values: Vec<&str> = match manifest.get(*field) {
            Some(Value::String(path)) => vec![path.as_str()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => continue,
        };
        for value in values {
            let Some(inside) = inside_plugin(value) else {
                return Err(PluginError::PathOutside {
                    path: manifest_path.to_owned(),
                    field: (*field).to_owned(),
                    value: value.escape_debug().to_string(),
                });
            };
            // Claude Code's schema: an `agents` entry is an agent file, never a directory.
            if *field == "agents" && !inside.ends_with(".md") {
                return Err(PluginError::AgentsPath {
                    path: manifest_path.to_owned(),
                    value: value.escape_debug().to_string(),
                });
            }
            if EXEC_FIELDS.contains(field) && inside.ends_with(".json") && !held.contains(&inside.as_str()) {
                return Err(PluginError::MissingFile {
                    path: manifest_path.to_owned(),
                    field: (*field).to_owned(),
                    value: value.escape_debug().to_string(),
                });
            }
        }
    }
    Ok(())
}

/// `./hooks/extra.json` → `hooks/extra.json`; `None` for an absolute path, one with `..` or a
/// backslash, a URL or an empty one.
fn inside_plugin(value: &str) -> Option<String> {
    let rest = value.strip_prefix("./").unwrap_or(value);
    let plain = !rest.is_empty()
        && !rest.starts_with('/')
        && !rest.contains('\\')
        && !rest.contains(':')
        && rest.split('/').all(|component| component != ".." && !component.chars().any(char::is_control));
    plain.then(|| {
        rest.trim_end_matches('/').split('/').filter(|c| !c.is_empty() && *c != ".").collect::<Vec<_>>().join("/")
    })
}

/// The hooks, MCP and LSP files a tool reads for this plugin, each with what it declares: the
/// defaults and those the manifest names.
fn config_files(format: PluginFormat, manifest: &Value) -> Vec<(String, String)> {
    let mut out = match format {
        PluginFormat::ClaudeCode => vec![
            ("hooks/hooks.json".to_owned(), "hooks".to_owned()),
            (".mcp.json".to_owned(), "mcpServers".to_owned()),
            (".lsp.json".to_owned(), "lspServers".to_owned()),
        ],
        PluginFormat::AgentPlugins => vec![("mcp.json".to_owned(), "mcpServers".to_owned())],
    };
    for field in EXEC_FIELDS {
        let named: Vec<&str> = match manifest.get(*field) {
            Some(Value::String(path)) => vec![path.as_str()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => continue,
        };
        out.extend(named.into_iter().filter_map(inside_plugin).map(|path| (path, (*field).to_owned())));
    }
    out.sort();
    out.dedup();
    out
}

/// The part of a configuration file that holds its entries: `{"hooks": …}` and
/// `{"mcpServers": …}` wrap them; a file without the wrapper is the entries themselves.
fn config_body<'a>(what: &str, value: &'a Value) -> &'a Value {
    value.get(what).unwrap_or(value)
}

/// Every command line in `value`, the hooks, MCP or LSP servers declared in `file`.
fn collect_commands(what: &str, file: &str, value: &Value, out: &mut Vec<PluginCommand>) {
    let Some(entries) = value.as_object() else { return };
    for (key, entry) in entries {
        let label = match what {
            "hooks" => format!("hook {key} ({file})"),
            "mcpServers" => format!("MCP server {key} ({file})"),
            "lspServers" => format!("LSP server {key} ({file})"),
            other => format!("{other} {key} ({file})"),
        };
        let mut lines = Vec::new();
        command_lines(entry, 0, &mut lines);
        out.extend(lines.into_iter().map(|line| PluginCommand { what: label.clone(), line }));
    }
}

/// Every `command` (with its `args`) at any depth below `value`: a hook's
/// `{"type": "command", "command": "…"}` sits two arrays down, a server's at the top.
fn command_lines(value: &Value, depth: usize, out: &mut Vec<String>) {
    if depth > 16 {
        return;
    }
    match value {
        Value::Object(map) => {
            if let Some(command) = map.get("command") {
                let mut words: Vec<String> = match command {
                    Value::String(text) => vec![text.clone()],
                    Value::Array(items) => {
                        items.iter().filter_map(Value::as_str).map(crate::mcp::shell_quote).collect()
                    }
                    _ => Vec::new(),
                };
                if let Some(Value::Array(args)) = map.get("args") {
                    words.extend(args.iter().filter_map(Value::as_str).map(crate::mcp::shell_quote));
                }
                if !words.is_empty() {
                    // One command, one line: a newline in it is shown as `\n`, so nothing of a
                    // command can pass for another line of the list consent shows.
                    out.push(words.join(" ").replace('\n', "\\n").replace('\r', "\\r"));
                }
            }
            for (key, child) in map {
                if key != "command" && key != "args" {
                    command_lines(child, depth + 1, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| command_lines(item, depth + 1, out)),
        _ => {}
    }
}

/// Claude Code's `dependencies` of a plugin manifest or marketplace entry (`path` names it for
/// messages): `"name"`, `"name@marketplace"`, either with an `@^range` suffix, or
/// `{"name": …, "marketplace": …, "version": …}`.
pub fn plugin_dependencies(path: &str, manifest: &Value) -> Result<Vec<PluginDependency>, PluginError> {
    let bad = |message: String| PluginError::BadDependency { path: path.to_owned(), message };
    let Some(value) = manifest.get("dependencies") else { return Ok(Vec::new()) };
    let Some(items) = value.as_array() else { return Err(bad("not a list".to_owned())) };
    if items.len() > MAX_DEPENDENCIES {
        return Err(bad(format!("{} entries, over the limit of {MAX_DEPENDENCIES}", items.len())));
    }
    let mut out = Vec::new();
    for item in items {
        let (name, marketplace, range) = match item {
            Value::String(text) => {
                let (rest, range) = match text.find("@^").or_else(|| text.find("@~")).or_else(|| text.find("@=")) {
                    Some(at) => (&text[..at], Some(text[at + 1..].to_owned())),
                    None => (text.as_str(), None),
                };
                let (name, marketplace) = match rest.split_once('@') {
                    Some((name, marketplace)) => (name.to_owned(), Some(marketplace.to_owned())),
                    None => (rest.to_owned(), None),
                };
                (name, marketplace, range)
            }
            Value::Object(map) => {
                let field = |key: &str| map.get(key).and_then(Value::as_str).map(str::to_owned);
                let name = field("name").ok_or_else(|| bad("an entry has no `name`".to_owned()))?;
                (name, field("marketplace"), field("version"))
            }
            _ => return Err(bad("an entry is neither a name nor an object".to_owned())),
        };
        let name = AgentName::new(&name).map_err(|error| bad(error.to_string()))?;
        out.push(PluginDependency { name, range, marketplace });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum::Sha256;
    use crate::relative_path::RelativePath;

    fn file(path: &str, mode: FileMode, bytes: &[u8]) -> (PackageFile, Vec<u8>) {
        let listing = PackageFile {
            path: RelativePath::parse(path).unwrap(),
            mode,
            length: bytes.len() as u64,
            sha256: Sha256::of(bytes),
        };
        (listing, bytes.to_vec())
    }

    fn parse(files: &[(PackageFile, Vec<u8>)]) -> Result<Plugin, PluginError> {
        let refs: Vec<(&PackageFile, &[u8])> = files.iter().map(|(f, b)| (f, b.as_slice())).collect();
        parse_plugin(&refs)
    }

    #[test]
    fn a_claude_code_plugin_shows_every_command_it_can_run() {
        let files = [
            file(
                CLAUDE_PLUGIN_MANIFEST,
                FileMode::Regular,
                br#"{"name":"loop","version":"1.2.0","dependencies":["helper@^1","other@market",{"name":"third","version":"~2.1"}],
                    "mcpServers":{"inline":{"command":"node","args":["${CLAUDE_PLUGIN_ROOT}/server.js","a b"]}}}"#,
            ),
            file(
                "hooks/hooks.json",
                FileMode::Regular,
                br#"{"description":"x","hooks":{"Stop":[{"hooks":[{"type":"command","command":"${CLAUDE_PLUGIN_ROOT}/scripts/stop.sh"}]}]}}"#,
            ),
            file(".mcp.json", FileMode::Regular, br#"{"mcpServers":{"web":{"type":"http","url":"https://x"}}}"#),
            file("scripts/stop.sh", FileMode::Executable, b"#!/bin/sh\nexit 0\n"),
            file("commands/go.md", FileMode::Regular, b"---\ndescription: go\n---\ngo\n"),
        ];
        let plugin = parse(&files).unwrap();
        assert_eq!(plugin.name.as_str(), "loop");
        assert_eq!(plugin.version.as_deref(), Some("1.2.0"));
        let lines: Vec<(&str, &str)> = plugin.commands.iter().map(|c| (c.what.as_str(), c.line.as_str())).collect();
        assert_eq!(
            lines,
            [
                ("MCP server inline (.claude-plugin/plugin.json)", "node ${CLAUDE_PLUGIN_ROOT}/server.js 'a b'"),
                ("hook Stop (hooks/hooks.json)", "${CLAUDE_PLUGIN_ROOT}/scripts/stop.sh"),
            ]
        );
        assert_eq!(plugin.runnable_files, ["scripts/stop.sh"]);
        let deps: Vec<(&str, Option<&str>, Option<&str>)> = plugin
            .dependencies
            .iter()
            .map(|d| (d.name.as_str(), d.range.as_deref(), d.marketplace.as_deref()))
            .collect();
        assert_eq!(
            deps,
            [("helper", Some("^1"), None), ("other", None, Some("market")), ("third", Some("~2.1"), None)]
        );
        assert!(plugin.executes());
    }

    #[test]
    fn a_command_with_a_newline_stays_one_line() {
        let files = [
            file(CLAUDE_PLUGIN_MANIFEST, FileMode::Regular, br#"{"name":"p"}"#),
            file(
                "hooks/hooks.json",
                FileMode::Regular,
                br#"{"hooks":{"Stop":[{"hooks":[{"type":"command","command":"true\n  runnable file: nothing"}]}]}}"#,
            ),
        ];
        let plugin = parse(&files).unwrap();
        assert_eq!(plugin.commands[0].line, "true\\n  runnable file: nothing");
        assert!(!plugin.commands[0].line.contains('\n'));
    }

    #[test]
    fn a_plugin_of_only_markdown_runs_nothing() {
        let files = [
            file(CLAUDE_PLUGIN_MANIFEST, FileMode::Regular, br#"{"name":"docs"}"#),
            file("agents/a.md", FileMode::Regular, b"---\nname: a\ndescription: a\n---\n"),
        ];
        assert!(!parse(&files).unwrap().executes());
    }

    #[test]
    fn paths_outside_the_plugin_are_refused() {
        for bad in ["../x", "./../../etc", "/etc/hooks.json", "./a/../../b", "C:\\x", "https://x/y.json"] {
            let manifest = format!(r#"{{"name":"p","hooks":"{}"}}"#, bad.replace('\\', "\\\\"));
            let files = [file(CLAUDE_PLUGIN_MANIFEST, FileMode::Regular, manifest.as_bytes())];
            assert!(matches!(parse(&files), Err(PluginError::PathOutside { .. })), "{bad}: {:?}", parse(&files));
        }
        let files = [file(CLAUDE_PLUGIN_MANIFEST, FileMode::Regular, br#"{"name":"p","commands":["./cmds"]}"#)];
        assert!(parse(&files).is_ok());
        let files = [file(CLAUDE_PLUGIN_MANIFEST, FileMode::Regular, br#"{"name":"p","agents":["./agents"]}"#)];
        assert!(matches!(parse(&files), Err(PluginError::AgentsPath { .. })), "{:?}", parse(&files));
        let files = [file(CLAUDE_PLUGIN_MANIFEST, FileMode::Regular, br#"{"name":"p","agents":["./agents/a.md"]}"#)];
        assert!(parse(&files).is_ok());
        let files = [file(CLAUDE_PLUGIN_MANIFEST, FileMode::Regular, br#"{"name":"p","hooks":"./h.json"}"#)];
        assert!(matches!(parse(&files), Err(PluginError::MissingFile { .. })));
    }

    #[test]
    fn an_agent_plugins_package_needs_its_schema() {
        let with = [
            file(
                AGENT_PLUGINS_MANIFEST,
                FileMode::Regular,
                br#"{"$schema":"https://agent-plugins.org/schemas/1.0.0/plugin.schema.json","name":"ap"}"#,
            ),
            file(
                "mcp.json",
                FileMode::Regular,
                br#"{"$schema":"x","mcpServers":{"s":{"type":"stdio","command":"uvx","args":["srv"]}}}"#,
            ),
        ];
        let plugin = parse(&with).unwrap();
        assert_eq!(plugin.format, PluginFormat::AgentPlugins);
        assert_eq!(plugin.commands[0].line, "uvx srv");
        let without = [file(AGENT_PLUGINS_MANIFEST, FileMode::Regular, br#"{"name":"ap"}"#)];
        assert_eq!(parse(&without), Err(PluginError::NoManifest));
        assert_eq!(parse(&[]), Err(PluginError::NoManifest));
    }

    #[test]
    fn hidden_paths_of_a_plugin_are_its_manifests_and_server_files_only() {
        for kept in [".claude-plugin/plugin.json", ".codex-plugin/plugin.json", ".mcp.json", ".lsp.json"] {
            assert!(plugin_hidden_path_allowed(kept), "{kept}");
        }
        for left in [".git/config", ".gitignore", ".claude-plugin/.DS_Store", ".plugin", "-plugin/x", ".env"] {
            assert!(!plugin_hidden_path_allowed(left), "{left}");
        }
    }

    #[test]
    fn names_claude_code_reserves_are_refused() {
        for name in ["claude-opus-migration", "anthropic-x", "cc-plugin-y", "claude", "official-claude-tools"] {
            let manifest = format!(r#"{{"name":"{name}"}}"#);
            let files = [file(CLAUDE_PLUGIN_MANIFEST, FileMode::Regular, manifest.as_bytes())];
            assert!(matches!(parse(&files), Err(PluginError::Reserved { .. })), "{name}");
        }
        for name in ["opus-migration", "my-claude-helper", "officially-fine"] {
            assert_eq!(reserved_plugin_name(name), None, "{name}");
        }
    }

    #[test]
    fn bad_manifests_are_refused_with_their_reason() {
        let cases: [(&[u8], &str); 4] = [
            (b"{", "not valid JSON"),
            (br#"{"version":"1"}"#, "`name`"),
            (br#"{"name":"Bad Name"}"#, "`name`"),
            (br#"{"name":"p","dependencies":"x"}"#, "not a list"),
        ];
        for (bytes, expected) in cases {
            let files = [file(CLAUDE_PLUGIN_MANIFEST, FileMode::Regular, bytes)];
            let error = parse(&files).unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
        }
    }
}
