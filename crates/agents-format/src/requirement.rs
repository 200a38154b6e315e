//! Requirements between packages: `test-writer@^1` (from the requiring package's own registry)
//! or `r-1234…/test-writer@^1` (from the registry with that id), as a record's `requires`, a
//! lockfile entry's `requires` and a bundle's contents carry them.
//!
//! A requirement names a registry by its id (`config.json`'s `id`), never by a local name: the
//! publisher's `team` is not the installer's `team`. Without a registry it means the registry
//! the requiring version was published in, as in cargo's index, so a dependency can never be
//! taken from a registry the publisher did not mean (no dependency confusion across registries).

use std::fmt;

use crate::checksum::Sha256;
use crate::config::RegistryId;
use crate::name::AgentName;

/// The most requirements one version may carry. A record over it is not a record (so a package
/// requiring 100,000 others is refused when its index file is read, before any resolution).
pub const MAX_REQUIREMENTS: usize = 256;

/// The first line of the text [`bundle_digest`] hashes.
pub const BUNDLE_DIGEST_NAMESPACE: &str = "agents-bundle-v1";

/// One package's requirement on another.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Requirement {
    pub name: AgentName,
    /// A semver requirement with cargo's matching rules (`^1`, `~2.1`, `>=1.2, <2`).
    #[serde(rename = "req", with = "version_req")]
    pub requirement: semver::VersionReq,
    /// The registry the package comes from; absent: the requiring version's own registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<RegistryId>,
}

mod version_req {
    pub(super) fn serialize<S: serde::Serializer>(req: &semver::VersionReq, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&req.to_string())
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<semver::VersionReq, D::Error> {
        let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        super::parse_version_req(&text).map_err(serde::de::Error::custom)
    }
}

/// Why a requirement string is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequirementError {
    #[error("requirement `{text}` has no `@`: write NAME@REQ, for example `test-writer@^1`")]
    NoVersion { text: String },
    #[error("requirement `{text}`: {message}")]
    Invalid { text: String, message: String },
}

/// A semver requirement, refusing what semver accepts but no published version could mean: an
/// empty string (which semver reads as `*`) and more than 32 comparators.
pub fn parse_version_req(text: &str) -> Result<semver::VersionReq, String> {
    if text.trim().is_empty() {
        return Err("an empty version requirement (write `*` for any version)".to_owned());
    }
    let requirement =
        semver::VersionReq::parse(text).map_err(|e| format!("`{text}` is not a semver requirement: {e}"))?;
    if requirement.comparators.len() > 32 {
        return Err(format!("`{text}` has more than 32 comparators"));
    }
    Ok(requirement)
}

impl Requirement {
    /// Parses `[REGISTRY/]NAME@REQ`; `registry` is returned as written (a registry id or a local
    /// name, which the caller maps to an id).
    pub fn parse_cli(text: &str) -> Result<(Option<String>, AgentName, semver::VersionReq), RequirementError> {
        let invalid = |message: String| RequirementError::Invalid { text: text.chars().take(200).collect(), message };
        let (left, req) = text
            .split_once('@')
            .ok_or_else(|| RequirementError::NoVersion { text: text.chars().take(200).collect() })?;
        let (registry, name) = match left.split_once('/') {
            Some((registry, name)) => (Some(registry.to_owned()), name),
            None => (None, left),
        };
        let name = AgentName::new(name).map_err(|e| invalid(e.to_string()))?;
        let requirement = parse_version_req(req).map_err(invalid)?;
        Ok((registry, name, requirement))
    }

    /// The canonical text: `NAME@REQ` or `REGISTRY/NAME@REQ`.
    pub fn to_text(&self) -> String {
        self.to_string()
    }

    /// Parses [`Requirement::to_text`]'s form, the registry read as an id.
    pub fn parse(text: &str) -> Result<Requirement, RequirementError> {
        let (registry, name, requirement) = Requirement::parse_cli(text)?;
        let registry = registry.map(|id| RegistryId::new(&id)).transpose().map_err(|e| RequirementError::Invalid {
            text: text.chars().take(200).collect(),
            message: e.to_string(),
        })?;
        Ok(Requirement { name, requirement, registry })
    }
}

/// By name, then registry, then requirement text: the one order of records, lockfiles and
/// signatures.
impl Ord for Requirement {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.name, &self.registry, self.requirement.to_string()).cmp(&(
            &other.name,
            &other.registry,
            other.requirement.to_string(),
        ))
    }
}

impl PartialOrd for Requirement {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(registry) = &self.registry {
            write!(f, "{registry}/")?;
        }
        write!(f, "{}@{}", self.name, self.requirement)
    }
}

/// Checks one version's requirements: at most [`MAX_REQUIREMENTS`], no name twice, none on the
/// version's own name in its own registry (a self-dependency). Returns them sorted, the order
/// records, lockfiles and signatures use.
pub fn check_requirements(name: &AgentName, requires: &[Requirement]) -> Result<Vec<Requirement>, String> {
    if requires.len() > MAX_REQUIREMENTS {
        return Err(format!("{} requirements, over the limit of {MAX_REQUIREMENTS}", requires.len()));
    }
    let mut sorted = requires.to_vec();
    sorted.sort();
    if let Some(pair) = sorted.windows(2).find(|pair| pair[0].name == pair[1].name) {
        return Err(format!("`{}` is required twice", pair[0].name));
    }
    if sorted.iter().any(|r| &r.name == name && r.registry.is_none()) {
        return Err(format!("`{name}` requires itself"));
    }
    Ok(sorted)
}

/// The lines a signature and a bundle digest add for requirements: `requires <registry or -> <name> <req>`,
/// sorted, each ending in `\n`.
pub fn requirement_lines(requires: &[Requirement]) -> String {
    let mut sorted: Vec<&Requirement> = requires.iter().collect();
    sorted.sort();
    let mut out = String::new();
    for requirement in sorted {
        let registry = requirement.registry.as_ref().map_or("-", RegistryId::as_str);
        out.push_str(&format!("requires {registry} {} {}\n", requirement.name, requirement.requirement));
    }
    out
}

/// A bundle's checksum: SHA-256 over `agents-bundle-v1\n` and its [`requirement_lines`], so the
/// one checksum a lockfile pins covers everything a bundle is.
pub fn bundle_digest(requires: &[Requirement]) -> Sha256 {
    Sha256::of(format!("{BUNDLE_DIGEST_NAMESPACE}\n{}", requirement_lines(requires)).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_parse_print_and_refuse() {
        let r = Requirement::parse("test-writer@^1").unwrap();
        assert_eq!(r.to_text(), "test-writer@^1");
        let r = Requirement::parse("r-1/other@~2").unwrap();
        assert_eq!(r.registry.as_ref().map(RegistryId::as_str), Some("r-1"));
        assert_eq!(r.to_text(), "r-1/other@~2");
        for (text, expected) in [
            ("test-writer", "has no `@`"),
            ("test-writer@", "empty version requirement"),
            ("test-writer@banana", "is not a semver requirement"),
            ("../x@^1", "requirement `../x@^1`"),
            ("R/x@^1", "invalid registry id"),
        ] {
            let error = Requirement::parse(text).unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: {error}");
        }
        let json = serde_json::to_string(&Requirement::parse("r-1/other@~2").unwrap()).unwrap();
        assert_eq!(json, r#"{"name":"other","req":"~2","registry":"r-1"}"#);
        assert!(serde_json::from_str::<Requirement>(r#"{"name":"x","req":"not semver"}"#).is_err());
    }

    #[test]
    fn a_version_may_not_require_itself_twice_or_too_much() {
        let name = AgentName::new("a").unwrap();
        let req = |t: &str| Requirement::parse(t).unwrap();
        assert_eq!(check_requirements(&name, &[req("c@1"), req("b@1")]).unwrap(), [req("b@1"), req("c@1")]);
        assert!(check_requirements(&name, &[req("a@1")]).unwrap_err().contains("requires itself"));
        assert!(check_requirements(&name, &[req("b@1"), req("b@2")]).unwrap_err().contains("required twice"));
        let many: Vec<Requirement> = (0..=MAX_REQUIREMENTS).map(|i| req(&format!("p{i}@1"))).collect();
        assert!(check_requirements(&name, &many).unwrap_err().contains("over the limit"));
        assert_eq!(requirement_lines(&[req("r-1/b@^1"), req("a@~2")]), "requires - a ~2\nrequires r-1 b ^1\n");
        assert_ne!(bundle_digest(&[req("a@1")]), bundle_digest(&[req("a@2")]));
    }
}
