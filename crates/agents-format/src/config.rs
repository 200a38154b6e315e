//! `config.json` at the root of a registry: its schema (which says where bodies live, a
//! [`Layout`]) and its identity.

use std::collections::BTreeMap;
use std::fmt;

use crate::layout::Layout;

/// The id of the registry compiled into the binary.
pub const BUILTIN_REGISTRY_ID: &str = "builtin";

/// The largest `config.json` a client reads, in bytes.
pub const MAX_CONFIG_LEN: usize = 64 * 1024;

/// A registry's stable identity. Lockfiles name registries by id, not by URL, so moving a
/// mirror does not churn every lockfile.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct RegistryId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid registry id `{0}`: expected 1 to 64 characters from a-z, 0-9 and `-`")]
pub struct RegistryIdError(pub String);

impl RegistryId {
    pub fn new(id: &str) -> Result<RegistryId, RegistryIdError> {
        let valid = !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if valid { Ok(RegistryId(id.to_owned())) } else { Err(RegistryIdError(id.chars().take(80).collect())) }
    }

    /// A fresh id from 16 random bytes supplied by the caller (this crate has no entropy source).
    pub fn from_random(bytes: [u8; 16]) -> RegistryId {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        RegistryId(format!("r-{hex}"))
    }

    pub fn builtin() -> RegistryId {
        RegistryId(BUILTIN_REGISTRY_ID.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RegistryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RegistryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<'de> serde::Deserialize<'de> for RegistryId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        RegistryId::new(&s).map_err(serde::de::Error::custom)
    }
}

/// The contents of `config.json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RegistryConfig {
    /// The `schema` field: format 1 or 2, which decides every body's path.
    #[serde(rename = "schema")]
    pub layout: Layout,
    pub id: RegistryId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config.json is not valid: {0}")]
    Invalid(#[from] serde_json::Error),
    #[error("config.json has schema {found}; this client understands schemas 1 and 2 (upgrade agents)")]
    UnsupportedSchema { found: u64 },
}

impl RegistryConfig {
    /// A config for a new registry in the latest format.
    pub fn new(id: RegistryId, description: Option<String>) -> RegistryConfig {
        RegistryConfig::with_layout(Layout::LATEST, id, description)
    }

    pub fn with_layout(layout: Layout, id: RegistryId, description: Option<String>) -> RegistryConfig {
        RegistryConfig { layout, id, description, extra: BTreeMap::new() }
    }

    pub fn parse(text: &str) -> Result<RegistryConfig, ConfigError> {
        // The schema first: a newer config may not have this one's shape at all, and the honest
        // answer to it is "upgrade", not "invalid".
        let value: serde_json::Value = serde_json::from_str(text)?;
        if let Some(found) = value.get("schema").and_then(serde_json::Value::as_u64)
            && Layout::from_schema(found).is_none()
        {
            return Err(ConfigError::UnsupportedSchema { found });
        }
        Ok(serde_json::from_value(value)?)
    }

    /// Canonical text: pretty JSON with a trailing newline.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a registry config always serialises to JSON");
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let config = RegistryConfig::new(RegistryId::from_random([0xab; 16]), Some("team".into()));
        let text = config.to_text();
        assert_eq!(RegistryConfig::parse(&text).unwrap(), config);
        assert!(text.contains("\"id\": \"r-abababababababababababababababab\""));
        assert!(text.starts_with("{\n  \"schema\": 2,\n  \"id\""), "{text}");
    }

    #[test]
    fn the_schema_is_the_body_layout() {
        let v1 = RegistryConfig::parse("{\"schema\":1,\"id\":\"x\"}").unwrap();
        assert_eq!(v1.layout, Layout::V1);
        assert_eq!(v1.to_text(), "{\n  \"schema\": 1,\n  \"id\": \"x\"\n}\n");
        let v2 = RegistryConfig::parse("{\"schema\":2,\"id\":\"x\",\"new\":true}").unwrap();
        assert_eq!(v2.layout, Layout::V2);
        assert_eq!(v2.extra["new"], serde_json::Value::Bool(true));
        let made = RegistryConfig::with_layout(Layout::V1, RegistryId::new("x").unwrap(), None);
        assert_eq!(made, v1);
    }

    #[test]
    fn rejects_bad_ids_and_schemas() {
        assert!(RegistryConfig::parse(r#"{"schema":1,"id":"../x"}"#).is_err());
        assert!(RegistryConfig::parse(r#"{"schema":1}"#).is_err());
        let error = RegistryConfig::parse(r#"{"schema":3,"id":"x"}"#).unwrap_err();
        assert!(
            error.to_string().contains("has schema 3; this client understands schemas 1 and 2 (upgrade"),
            "{error}"
        );
        assert!(RegistryConfig::parse(r#"{"schema":"1","id":"x"}"#).is_err());
        assert!(RegistryConfig::parse(r#"{"schema":-1,"id":"x"}"#).is_err());
        assert!(RegistryConfig::parse(r#"{"schema":1,"id":"x","new":true}"#).is_ok());
    }
}
