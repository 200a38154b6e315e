//! Export: packages of a registry turned into what other tools install from, naming what cannot
//! be carried.
//!
//! - A **Claude Code marketplace** directory: `.claude-plugin/marketplace.json` listing one entry
//!   per plugin under `plugins/NAME/` (each plugin byte for byte), and the loose agents, skills
//!   and commands gathered into one plugin named after the marketplace.
//! - An **Agent Plugins 1.0** package: `plugin.json` with its `$schema`, the skills under
//!   `skills/`, the MCP servers in `mcp.json` (each with its `type`, `${CLAUDE_PLUGIN_ROOT}` as
//!   `${PLUGIN_ROOT}`), and the files those refer to. Agents, commands, hooks, LSP servers and
//!   output styles are Claude Code's: named, not carried.
//!
//! Pure: bytes in, files out; the CLI reads the packages (verified) and writes the directory.

use serde_json::{Map, Value, json};

use crate::name::AgentName;
use crate::package::{FileMode, Kind};
use crate::plugin::{AGENT_PLUGINS_MANIFEST, CLAUDE_PLUGIN_MANIFEST, reserved_plugin_name};

/// The `$schema` of an Agent Plugins 1.0 manifest.
pub const AGENT_PLUGINS_SCHEMA: &str = "https://agent-plugins.org/schemas/1.0.0/plugin.schema.json";
/// The `$schema` of an Agent Plugins 1.0 `mcp.json`.
pub const AGENT_PLUGINS_MCP_SCHEMA: &str = "https://agent-plugins.org/schemas/1.0.0/mcp.schema.json";

/// One package to export: its kind, name, version, description and files (an agent's one file
/// is `NAME.md`).
#[derive(Debug, Clone)]
pub struct ExportPackage {
    pub kind: Kind,
    pub name: AgentName,
    pub version: semver::Version,
    pub description: Option<String>,
    pub files: Vec<ExportFile>,
}

/// A file of an export, relative to the package or to the exported directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFile {
    pub path: String,
    pub mode: FileMode,
    pub bytes: Vec<u8>,
}

/// What an export writes, and what it could not carry.
#[derive(Debug, Clone, Default)]
pub struct Exported {
    pub files: Vec<ExportFile>,
    pub not_carried: Vec<String>,
}

/// Why an export cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    #[error("`{name}` is not a name {format} accepts: {why}")]
    Name { name: String, format: &'static str, why: String },
    #[error("two packages would be the plugin `{name}`; give the marketplace another name (--name)")]
    Clash { name: String },
    #[error("nothing to export")]
    Empty,
}

/// A Claude Code marketplace named `name`.
pub fn to_claude_marketplace(name: &AgentName, packages: &[ExportPackage]) -> Result<Exported, ExportError> {
    claude_name(name.as_str())?;
    let mut out = Exported::default();
    let mut entries = Vec::new();
    let mut loose = Vec::new();
    for package in packages {
        match package.kind {
            Kind::Plugin => {
                if package.name == *name {
                    return Err(ExportError::Clash { name: name.to_string() });
                }
                for file in &package.files {
                    out.files
                        .push(ExportFile { path: format!("plugins/{}/{}", package.name, file.path), ..file.clone() });
                }
                entries.push(entry(package));
            }
            Kind::Bundle => out.not_carried.push(format!(
                "bundle {}: a bundle is requirements only; export the packages it requires by name",
                package.name
            )),
            Kind::Agent | Kind::Skill | Kind::Command => loose.push(package),
        }
    }
    if !loose.is_empty() {
        let manifest = json!({
            "name": name.as_str(),
            "version": "1.0.0",
            "description": format!("{} agents, skills and commands, exported by agents", loose.len()),
        });
        out.files.push(json_file(&format!("plugins/{name}/{CLAUDE_PLUGIN_MANIFEST}"), &manifest));
        for package in &loose {
            let below = match package.kind {
                Kind::Agent => "agents",
                Kind::Skill => "skills",
                _ => "commands",
            };
            for file in &package.files {
                let path = match package.kind {
                    Kind::Skill => format!("plugins/{name}/{below}/{}/{}", package.name, file.path),
                    _ => format!("plugins/{name}/{below}/{}", file.path),
                };
                out.files.push(ExportFile { path, ..file.clone() });
            }
        }
        entries.push(json!({ "name": name.as_str(), "source": format!("./plugins/{name}"), "version": "1.0.0" }));
    }
    if entries.is_empty() {
        return Err(ExportError::Empty);
    }
    let marketplace = json!({ "name": name.as_str(), "owner": { "name": name.as_str() }, "plugins": entries });
    out.files.push(json_file(".claude-plugin/marketplace.json", &marketplace));
    out.files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// A marketplace entry for a plugin package at `plugins/NAME`.
fn entry(package: &ExportPackage) -> Value {
    let mut entry = Map::new();
    entry.insert("name".into(), package.name.as_str().into());
    entry.insert("source".into(), format!("./plugins/{}", package.name).into());
    entry.insert("version".into(), package.version.to_string().into());
    if let Some(description) = &package.description {
        entry.insert("description".into(), description.clone().into());
    }
    Value::Object(entry)
}

/// An Agent Plugins 1.0 package named `name`, version `version`.
pub fn to_agent_plugin(
    name: &AgentName,
    version: &semver::Version,
    description: Option<&str>,
    packages: &[ExportPackage],
) -> Result<Exported, ExportError> {
    agent_plugins_name(name.as_str())?;
    let mut out = Exported::default();
    let mut servers = Map::new();
    for package in packages {
        match package.kind {
            Kind::Skill => {
                agent_plugins_name(package.name.as_str())?;
                for file in &package.files {
                    out.files
                        .push(ExportFile { path: format!("skills/{}/{}", package.name, file.path), ..file.clone() });
                }
            }
            Kind::Plugin => plugin_parts(package, &mut out, &mut servers),
            Kind::Agent | Kind::Command => out.not_carried.push(format!(
                "{} {}: Agent Plugins 1.0 carries skills and MCP servers only",
                package.kind, package.name
            )),
            Kind::Bundle => out.not_carried.push(format!(
                "bundle {}: a bundle is requirements only; export the packages it requires by name",
                package.name
            )),
        }
    }
    let mut manifest = Map::new();
    manifest.insert("$schema".into(), AGENT_PLUGINS_SCHEMA.into());
    manifest.insert("name".into(), name.as_str().into());
    manifest.insert("version".into(), version.to_string().into());
    if let Some(description) = description {
        manifest.insert("description".into(), description.into());
    }
    out.files.push(json_file(AGENT_PLUGINS_MANIFEST, &Value::Object(manifest)));
    if !servers.is_empty() {
        let mcp = json!({ "$schema": AGENT_PLUGINS_MCP_SCHEMA, "mcpServers": servers });
        out.files.push(json_file("mcp.json", &mcp));
    }
    if out.files.len() == 1 && servers.is_empty() {
        return Err(ExportError::Empty);
    }
    out.files.sort_by(|a, b| a.path.cmp(&b.path));
    out.files.dedup_by(|a, b| a.path == b.path);
    Ok(out)
}

/// What a Claude Code plugin brings to an Agent Plugins package: its skills, its MCP servers
/// (from `.mcp.json`), and its other files (the scripts and assets they refer to); the rest is
/// named.
fn plugin_parts(package: &ExportPackage, out: &mut Exported, servers: &mut Map<String, Value>) {
    let mut dropped = std::collections::BTreeSet::new();
    for file in &package.files {
        let path = file.path.as_str();
        let top = path.split('/').next().unwrap_or_default();
        match top {
            ".claude-plugin" | "plugin.json" => {}
            ".mcp.json" | "mcp.json" => {
                let parsed: Value = serde_json::from_slice(&file.bytes).unwrap_or_default();
                let entries = parsed.get("mcpServers").unwrap_or(&parsed);
                for (server, value) in entries.as_object().into_iter().flatten() {
                    servers.insert(server.clone(), mcp_server(value));
                }
            }
            "agents" | "commands" | "hooks" | "output-styles" | ".lsp.json" => {
                dropped.insert(match top {
                    "agents" => "its agents",
                    "commands" => "its commands",
                    "hooks" => "its hooks",
                    "output-styles" => "its output styles",
                    _ => "its LSP servers",
                });
            }
            _ => out.files.push(file.clone()),
        }
    }
    if !dropped.is_empty() {
        let list: Vec<&str> = dropped.into_iter().collect();
        out.not_carried.push(format!(
            "plugin {}: {} (Claude Code's own; Agent Plugins 1.0 carries skills and MCP servers)",
            package.name,
            list.join(", ")
        ));
    }
}

/// An MCP server as Agent Plugins writes it: a `type` always (`stdio` for a command, else
/// `http`), and `${CLAUDE_PLUGIN_ROOT}` as `${PLUGIN_ROOT}`.
fn mcp_server(value: &Value) -> Value {
    let mut server = value.clone();
    if let Some(map) = server.as_object_mut()
        && !map.contains_key("type")
    {
        let kind = if map.contains_key("command") { "stdio" } else { "http" };
        map.insert("type".into(), kind.into());
    }
    let text = serde_json::to_string(&server).unwrap_or_default().replace("${CLAUDE_PLUGIN_ROOT}", "${PLUGIN_ROOT}");
    serde_json::from_str(&text).unwrap_or(server)
}

fn json_file(path: &str, value: &Value) -> ExportFile {
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    ExportFile { path: path.to_owned(), mode: FileMode::Regular, bytes }
}

fn claude_name(name: &str) -> Result<(), ExportError> {
    match reserved_plugin_name(name) {
        Some(why) => Err(ExportError::Name { name: name.to_owned(), format: "Claude Code", why: why.to_owned() }),
        None => Ok(()),
    }
}

/// Agent Plugins names: 1 to 64 of `a`–`z`, `0`–`9` and `-` (the Agent Skills rule).
fn agent_plugins_name(name: &str) -> Result<(), ExportError> {
    crate::package::check_skill_name(name).map_err(|error| ExportError::Name {
        name: name.to_owned(),
        format: "Agent Plugins",
        why: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(kind: Kind, name: &str, files: &[(&str, &str)]) -> ExportPackage {
        ExportPackage {
            kind,
            name: AgentName::new(name).unwrap(),
            version: semver::Version::new(1, 2, 0),
            description: Some(format!("{name} does things")),
            files: files
                .iter()
                .map(|(path, text)| ExportFile {
                    path: (*path).to_owned(),
                    mode: FileMode::Regular,
                    bytes: text.as_bytes().to_vec(),
                })
                .collect(),
        }
    }

    fn plugin() -> ExportPackage {
        package(
            Kind::Plugin,
            "loop",
            &[
                (".claude-plugin/plugin.json", r#"{"name":"loop"}"#),
                (".mcp.json", r#"{"mcpServers":{"notes":{"command":"node","args":["${CLAUDE_PLUGIN_ROOT}/s.js"]}}}"#),
                ("s.js", "run()"),
                ("hooks/hooks.json", "{}"),
                ("commands/go.md", "go"),
                ("skills/plan/SKILL.md", "---\nname: plan\ndescription: p\n---\n"),
            ],
        )
    }

    fn paths(exported: &Exported) -> Vec<&str> {
        exported.files.iter().map(|f| f.path.as_str()).collect()
    }

    #[test]
    fn a_marketplace_holds_each_plugin_whole_and_the_loose_packages_as_one_plugin() {
        let name = AgentName::new("team-kit").unwrap();
        let packages = [
            plugin(),
            package(Kind::Agent, "rev", &[("rev.md", "x")]),
            package(Kind::Skill, "pdf", &[("SKILL.md", "y")]),
        ];
        let exported = to_claude_marketplace(&name, &packages).unwrap();
        assert_eq!(
            paths(&exported),
            [
                ".claude-plugin/marketplace.json",
                "plugins/loop/.claude-plugin/plugin.json",
                "plugins/loop/.mcp.json",
                "plugins/loop/commands/go.md",
                "plugins/loop/hooks/hooks.json",
                "plugins/loop/s.js",
                "plugins/loop/skills/plan/SKILL.md",
                "plugins/team-kit/.claude-plugin/plugin.json",
                "plugins/team-kit/agents/rev.md",
                "plugins/team-kit/skills/pdf/SKILL.md",
            ]
        );
        let marketplace: Value = serde_json::from_slice(&exported.files[0].bytes).unwrap();
        assert_eq!(marketplace["plugins"][0]["source"], "./plugins/loop");
        assert_eq!(marketplace["plugins"][0]["version"], "1.2.0");
        assert!(exported.not_carried.is_empty());
        assert!(to_claude_marketplace(&AgentName::new("loop").unwrap(), &packages).is_err());
        assert!(to_claude_marketplace(&AgentName::new("claude-kit").unwrap(), &packages).is_err());
    }

    #[test]
    fn an_agent_plugin_carries_skills_and_mcp_servers_and_names_the_rest() {
        let name = AgentName::new("team-kit").unwrap();
        let packages = [plugin(), package(Kind::Command, "deploy", &[("deploy.md", "d")])];
        let exported = to_agent_plugin(&name, &semver::Version::new(2, 0, 0), None, &packages).unwrap();
        assert_eq!(paths(&exported), ["mcp.json", "plugin.json", "s.js", "skills/plan/SKILL.md"]);
        let mcp: Value = serde_json::from_slice(&exported.files[0].bytes).unwrap();
        assert_eq!(mcp["$schema"], AGENT_PLUGINS_MCP_SCHEMA);
        assert_eq!(mcp["mcpServers"]["notes"]["type"], "stdio");
        assert_eq!(mcp["mcpServers"]["notes"]["args"][0], "${PLUGIN_ROOT}/s.js");
        let manifest: Value = serde_json::from_slice(&exported.files[1].bytes).unwrap();
        assert_eq!(manifest["$schema"], AGENT_PLUGINS_SCHEMA);
        assert_eq!(manifest["version"], "2.0.0");
        assert_eq!(
            exported.not_carried,
            [
                "plugin loop: its commands, its hooks (Claude Code's own; Agent Plugins 1.0 carries skills and MCP servers)",
                "command deploy: Agent Plugins 1.0 carries skills and MCP servers only",
            ]
        );
        let bad = AgentName::new("team_kit").unwrap();
        assert!(to_agent_plugin(&bad, &semver::Version::new(1, 0, 0), None, &packages).is_err());
    }
}
