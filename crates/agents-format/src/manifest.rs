//! `agents.toml`: what a workspace asks for (requirements, registries). Written by humans and by
//! `agents install`, which edits it in place so comments and layout survive.

use std::collections::BTreeMap;

use crate::mcp::{MAX_MCP_SERVERS, McpServer, McpServerName, RawMcpServer};
use crate::name::AgentName;
use crate::targets::Target;
use crate::url::{RegistryUrl, RegistryUrlError};

/// A workspace manifest.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Manifest {
    pub agents: BTreeMap<AgentName, Dependency>,
    /// Registries named by this workspace, in addition to the user's.
    pub registries: BTreeMap<String, RegistrySource>,
    /// Tools to install for besides Claude Code (`targets = ["opencode", "codex"]`). Claude Code
    /// is always installed: its file is the verified original the others are converted from.
    pub targets: Vec<Target>,
    /// `[security] require-signatures = true`: refuse versions from registries that do not sign.
    pub require_signatures: bool,
    /// `[mcp.servers.NAME]`: MCP servers the team shares, written into each tool's own file.
    pub mcp_servers: BTreeMap<McpServerName, McpServer>,
}

/// One requirement: `name = "^1"` or `name = { version = "^1", registry = "team" }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dependency {
    pub requirement: semver::VersionReq,
    pub registry: Option<String>,
}

/// Where a named registry lives: a path or a git URL. The manifest and user-config parsers only
/// return sources whose `url` is a valid [`RegistryUrl`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RegistrySource {
    pub url: String,
}

impl RegistrySource {
    /// The URL as the type git operands are made of.
    pub fn registry_url(&self) -> Result<RegistryUrl, RegistryUrlError> {
        RegistryUrl::parse(&self.url)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("invalid TOML: {0}")]
    Toml(String),
    #[error("`[agents]` entry `{key}`: {message}")]
    Agent { key: String, message: String },
    #[error("`[registries]` entry `{key}`: {message}")]
    Registry { key: String, message: String },
    #[error("`[mcp.servers]` entry `{key}`: {message}")]
    McpServer { key: String, message: String },
}

#[derive(serde::Serialize, serde::Deserialize)]
struct RawManifest {
    #[serde(default)]
    agents: BTreeMap<String, RawDependency>,
    #[serde(default)]
    registries: BTreeMap<String, RegistrySource>,
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    security: RawSecurity,
    #[serde(default, skip_serializing_if = "RawMcp::is_empty")]
    mcp: RawMcp,
}

#[derive(Default, serde::Serialize, serde::Deserialize)]
struct RawMcp {
    #[serde(default)]
    servers: BTreeMap<String, RawMcpServer>,
}

impl RawMcp {
    fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }
}

#[derive(Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawSecurity {
    require_signatures: Option<bool>,
}

/// `name = "^1"` or `name = { version = "^1", registry = "team" }`. Read by its own visitor:
/// serde's untagged enums buffer every value to try each form, which made a manifest of a
/// thousand agents the slowest file `agents list` reads.
enum RawDependency {
    Requirement(String),
    Detailed { version: String, registry: Option<String> },
}

impl serde::Serialize for RawDependency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        match self {
            RawDependency::Requirement(requirement) => serializer.serialize_str(requirement),
            RawDependency::Detailed { version, registry } => {
                let mut map = serializer.serialize_map(None)?;
                map.serialize_entry("version", version)?;
                if let Some(registry) = registry {
                    map.serialize_entry("registry", registry)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> serde::Deserialize<'de> for RawDependency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawDependency;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a version requirement, or a table with `version` and `registry`")
            }

            fn visit_str<E: serde::de::Error>(self, requirement: &str) -> Result<RawDependency, E> {
                Ok(RawDependency::Requirement(requirement.to_owned()))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<RawDependency, A::Error> {
                let (mut version, mut registry) = (None, None);
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.as_ref() {
                        "version" if version.is_none() => version = Some(map.next_value::<String>()?),
                        "registry" if registry.is_none() => registry = Some(map.next_value::<String>()?),
                        "version" | "registry" => return Err(serde::de::Error::duplicate_field("version or registry")),
                        // Unknown keys are kept for newer clients, as elsewhere in the format.
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                let version = version.ok_or_else(|| serde::de::Error::missing_field("version"))?;
                Ok(RawDependency::Detailed { version, registry })
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Checks a registry's local name (`team` in `--registry team`).
pub fn validate_registry_name(name: &str) -> Result<(), String> {
    // The first character is a letter or digit, so a name can never be read as an option.
    let valid = name.len() <= 64
        && name.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !valid {
        return Err(
            "registry names use 1 to 64 characters from a-z, 0-9, `-` and `_`, starting with a letter or digit"
                .to_owned(),
        );
    }
    Ok(())
}

impl Manifest {
    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        let raw: RawManifest =
            toml::from_str(text).map_err(|e| ManifestError::Toml(e.to_string().trim_end().to_owned()))?;
        Manifest::checked(raw)
    }

    /// [`Manifest::parse`] with a cache of the parsed form, as [`crate::Lockfile::parse_cached`].
    pub fn parse_cached(text: &str, cached: Option<&[u8]>) -> Result<(Manifest, Option<Vec<u8>>), ManifestError> {
        if let Some(raw) = cached.and_then(|bytes| serde_json::from_slice::<RawManifest>(bytes).ok()) {
            return Ok((Manifest::checked(raw)?, None));
        }
        let raw: RawManifest =
            toml::from_str(text).map_err(|e| ManifestError::Toml(e.to_string().trim_end().to_owned()))?;
        let cache = serde_json::to_vec(&raw).ok();
        Ok((Manifest::checked(raw)?, cache))
    }

    fn checked(raw: RawManifest) -> Result<Manifest, ManifestError> {
        let mut manifest =
            Manifest { require_signatures: raw.security.require_signatures.unwrap_or(false), ..Manifest::default() };
        for (key, dependency) in raw.agents {
            let error = |message: String| ManifestError::Agent { key: key.clone(), message };
            let name = AgentName::new(&key).map_err(|e| error(e.to_string()))?;
            let (requirement, registry) = match dependency {
                RawDependency::Requirement(requirement) => (requirement, None),
                RawDependency::Detailed { version, registry } => (version, registry),
            };
            let requirement =
                requirement.parse().map_err(|e| error(format!("invalid version requirement `{requirement}`: {e}")))?;
            manifest.agents.insert(name, Dependency { requirement, registry });
        }
        for target in raw.targets {
            let target = Target::parse(&target).map_err(|e| ManifestError::Toml(format!("`targets`: {e}")))?;
            if target != Target::ClaudeCode && !manifest.targets.contains(&target) {
                manifest.targets.push(target);
            }
        }
        manifest.targets.sort();
        if raw.mcp.servers.len() > MAX_MCP_SERVERS {
            let message = format!("more than {MAX_MCP_SERVERS} servers");
            return Err(ManifestError::McpServer { key: "*".to_owned(), message });
        }
        for (key, server) in &raw.mcp.servers {
            let error = |message: String| ManifestError::McpServer { key: key.escape_debug().to_string(), message };
            let name = McpServerName::new(key).map_err(error)?;
            manifest.mcp_servers.insert(name, McpServer::from_raw(server).map_err(error)?);
        }
        for (key, source) in raw.registries {
            validate_registry_name(&key).map_err(|message| ManifestError::Registry { key: key.clone(), message })?;
            source.registry_url().map_err(|e| ManifestError::Registry { key: key.clone(), message: e.to_string() })?;
            manifest.registries.insert(key, source);
        }
        Ok(manifest)
    }
}

/// The text of a new, empty manifest.
pub const EMPTY_MANIFEST: &str = "# Agents this workspace uses. `agents install NAME` adds to it.\n[agents]\n";

/// Sets the requirement for `name`, keeping everything else in `text` as it was.
pub fn set_dependency(text: &str, name: &AgentName, dependency: &Dependency) -> Result<String, ManifestError> {
    let mut document: toml_edit::DocumentMut =
        text.parse().map_err(|e: toml_edit::TomlError| ManifestError::Toml(e.to_string()))?;
    let agents = table_mut(&mut document, "agents")?;
    let requirement = dependency.requirement.to_string();
    let value = match &dependency.registry {
        None => toml_edit::value(requirement),
        Some(registry) => {
            let mut table = toml_edit::InlineTable::new();
            table.insert("version", requirement.into());
            table.insert("registry", registry.as_str().into());
            toml_edit::value(table)
        }
    };
    agents.insert(name.as_str(), value);
    Ok(document.to_string())
}

/// The top-level table `key`, created when missing. A document holding only comments keeps them
/// above the new table (toml_edit would otherwise move them below it).
pub(crate) fn table_mut<'a>(
    document: &'a mut toml_edit::DocumentMut,
    key: &str,
) -> Result<&'a mut dyn toml_edit::TableLike, ManifestError> {
    if !document.contains_key(key) {
        let mut table = toml_edit::Table::new();
        if document.is_empty() {
            let mut comments = document.trailing().as_str().unwrap_or_default().to_owned();
            // A last comment line without its newline would swallow the new table's header
            // (found by fuzzing).
            if !comments.is_empty() && !comments.ends_with('\n') {
                comments.push('\n');
            }
            table.decor_mut().set_prefix(comments);
            document.set_trailing("");
        }
        document.insert(key, toml_edit::Item::Table(table));
    }
    document[key].as_table_like_mut().ok_or_else(|| ManifestError::Toml(format!("`{key}` is not a table")))
}

/// Sets `targets = [...]` (keeping the rest of `text`).
pub fn set_targets(text: &str, targets: &[Target]) -> Result<String, ManifestError> {
    let mut document: toml_edit::DocumentMut =
        text.parse().map_err(|e: toml_edit::TomlError| ManifestError::Toml(e.to_string()))?;
    let mut array = toml_edit::Array::new();
    for target in targets {
        array.push(target.as_str());
    }
    // At the top, before any table, where a top-level key must live.
    document.as_table_mut().insert("targets", toml_edit::value(array));
    document.as_table_mut().sort_values_by(|a, _, b, _| (a.get() != "targets").cmp(&(b.get() != "targets")));
    Ok(document.to_string())
}

/// Removes `name`'s requirement. Returns the new text and whether it was there.
pub fn remove_dependency(text: &str, name: &AgentName) -> Result<(String, bool), ManifestError> {
    let mut document: toml_edit::DocumentMut =
        text.parse().map_err(|e: toml_edit::TomlError| ManifestError::Toml(e.to_string()))?;
    let removed = document
        .get_mut("agents")
        .and_then(toml_edit::Item::as_table_like_mut)
        .and_then(|agents| agents.remove(name.as_str()))
        .is_some();
    Ok((document.to_string(), removed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> AgentName {
        AgentName::new(s).unwrap()
    }

    #[test]
    fn parses_both_forms() {
        let manifest = Manifest::parse(
            "[agents]\na = \"^1\"\nb = { version = \"=2.0.0\", registry = \"team\" }\n[registries]\nteam = { url = \"file:///r\" }\n",
        )
        .unwrap();
        assert_eq!(manifest.agents[&name("a")].requirement.to_string(), "^1");
        assert_eq!(manifest.agents[&name("b")].registry.as_deref(), Some("team"));
        assert_eq!(manifest.registries["team"].url, "file:///r");
        assert_eq!(Manifest::parse("").unwrap(), Manifest::default());
        assert!(Manifest::parse("[security]\nrequire-signatures = true\n").unwrap().require_signatures);
        assert!(!Manifest::parse("[security]\nother = 1\n").unwrap().require_signatures);
    }

    /// The cached parsed form gives the same manifest, both forms of a requirement included, and
    /// is held to the same rules (a hostile URL in a tampered cache is still refused).
    #[test]
    fn a_cached_parse_is_the_same_manifest_under_the_same_rules() {
        let text = "targets = [\"codex\"]\n[agents]\na = \"^1\"\nb = { version = \"=2.0.0\", registry = \"team\" }\n\
                    [registries]\nteam = { url = \"file:///r\" }\n[security]\nrequire-signatures = true\n";
        let (parsed, cache) = Manifest::parse_cached(text, None).unwrap();
        assert_eq!(parsed, Manifest::parse(text).unwrap());
        let cache = cache.unwrap();
        assert_eq!(Manifest::parse_cached(text, Some(&cache)).unwrap(), (parsed, None));
        let hostile = String::from_utf8(cache).unwrap().replace("file:///r", "--upload-pack=touch pwned");
        let error = Manifest::parse_cached(text, Some(hostile.as_bytes())).unwrap_err();
        assert!(matches!(error, ManifestError::Registry { .. }), "{error:?}");
    }

    fn check_error(text: &str, fragment: &str) {
        let error = Manifest::parse(text).unwrap_err().to_string();
        assert!(error.contains(fragment), "{text:?}: {error:?} lacks {fragment:?}");
    }

    #[test]
    fn errors_name_the_entry() {
        check_error("[agents\n", "invalid TOML");
        check_error("[agents]\n\"../x\" = \"1\"\n", "`../x`");
        check_error("[agents]\na = \"not a req\"\n", "invalid version requirement `not a req`");
        check_error("[agents]\na = 3\n", "invalid TOML");
        check_error("[registries]\nTeam = { url = \"x\" }\n", "`Team`");
        check_error("[registries]\n-team = { url = \"x\" }\n", "starting with a letter or digit");
        check_error(
            "[registries]\nteam = { url = \"--upload-pack=touch${IFS}pwned\" }\n",
            "`[registries]` entry `team`: registry URL `--upload-pack=touch${IFS}pwned` begins with `-`",
        );
        check_error("[registries]\nteam = { url = \"ext::sh -c x\" }\n", "entry `team`");
        check_error("[registries]\nteam = { url = \"fd::3\" }\n", "`fd::` remote-helper");
        check_error("targets = [\"vim\"]\n", "unknown target `vim`");
    }

    #[test]
    fn targets_are_parsed_and_edited() {
        let manifest = Manifest::parse("targets = [\"codex\", \"claude-code\", \"opencode\"]\n[agents]\n").unwrap();
        assert_eq!(manifest.targets, [Target::OpenCode, Target::Codex]);
        let text = set_targets("# mine\n[agents]\na = \"^1\"\n", &[Target::Gemini]).unwrap();
        let manifest = Manifest::parse(&text).unwrap();
        assert_eq!(manifest.targets, [Target::Gemini]);
        assert_eq!(manifest.agents.len(), 1, "{text}");
    }

    #[test]
    fn edits_keep_comments() {
        let text = "# mine\n[agents]\n# keep\nz = \"^1\"\n";
        let dependency = Dependency { requirement: "^1.0.0".parse().unwrap(), registry: None };
        let edited = set_dependency(text, &name("a"), &dependency).unwrap();
        assert_eq!(edited, "# mine\n[agents]\n# keep\nz = \"^1\"\na = \"^1.0.0\"\n");
        let (removed, was_there) = remove_dependency(&edited, &name("z")).unwrap();
        assert!(was_there);
        assert_eq!(Manifest::parse(&removed).unwrap().agents.len(), 1);
        let from_empty =
            set_dependency("", &name("a"), &Dependency { registry: Some("team".into()), ..dependency }).unwrap();
        assert_eq!(from_empty, "[agents]\na = { version = \"^1.0.0\", registry = \"team\" }\n");
    }
}
