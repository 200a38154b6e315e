//! The user's `config.toml` (under the user's config directory): registries every workspace of
//! this user can use.

use std::collections::BTreeMap;

use crate::manifest::{ManifestError, RegistrySource, table_mut, validate_registry_name};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserConfig {
    pub registries: BTreeMap<String, RegistrySource>,
    pub net: NetSettings,
    pub daemon: DaemonSettings,
    pub security: SecuritySettings,
}

/// `[security]`: what to do with agent files that hide characters.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct SecuritySettings {
    /// `"warn"` (the default) or `"deny"`: refuse to publish or install an agent file with bidi
    /// controls, zero-width or tag characters.
    pub hidden_unicode: Option<HiddenUnicodePolicy>,
    /// Refuse every version from a registry that does not sign its publishes (a project's
    /// `agents.toml` can ask for the same).
    pub require_signatures: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HiddenUnicodePolicy {
    Warn,
    Deny,
}

/// `[daemon]`: how agentsd fetches and whether it updates the user scope by itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct DaemonSettings {
    /// Seconds between registry fetches (default: one hour).
    pub fetch_interval: Option<u64>,
    /// Let the daemon move the user scope's lockfile forward after a fetch.
    pub auto_update: Option<AutoUpdate>,
}

/// How far the daemon may move a locked version on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AutoUpdate {
    /// 1.2.3 → 1.2.x
    Patch,
    /// 1.2.3 → 1.x (never a new major version, even below 1.0)
    Minor,
    /// Anything the manifest's requirement allows.
    Compatible,
}

impl AutoUpdate {
    /// The extra requirement this level puts on top of the manifest's, relative to `current`.
    pub fn requirement(self, current: &semver::Version) -> semver::VersionReq {
        let text = match self {
            AutoUpdate::Patch => format!(">={current}, <{}.{}.0", current.major, current.minor + 1),
            AutoUpdate::Minor => format!(">={current}, <{}.0.0", current.major + 1),
            AutoUpdate::Compatible => format!(">={current}"),
        };
        text.parse().expect("bounds built from a valid version parse")
    }
}

/// `[net]`: how to reach registries.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct NetSettings {
    /// Fetch and push with the `git` command line instead of libgit2 (cargo's
    /// `net.git-fetch-with-cli`): for `~/.ssh/config` setups and credential helpers libgit2
    /// does not understand.
    pub git_fetch_with_cli: Option<bool>,
}

#[derive(serde::Deserialize)]
struct RawUserConfig {
    #[serde(default)]
    registries: BTreeMap<String, RegistrySource>,
    #[serde(default)]
    net: NetSettings,
    #[serde(default)]
    daemon: DaemonSettings,
    #[serde(default)]
    security: SecuritySettings,
}

impl UserConfig {
    pub fn parse(text: &str) -> Result<UserConfig, ManifestError> {
        let raw: RawUserConfig =
            toml::from_str(text).map_err(|e| ManifestError::Toml(e.to_string().trim_end().to_owned()))?;
        for key in raw.registries.keys() {
            validate_registry_name(key).map_err(|message| ManifestError::Registry { key: key.clone(), message })?;
        }
        for (key, source) in &raw.registries {
            source.registry_url().map_err(|e| ManifestError::Registry { key: key.clone(), message: e.to_string() })?;
        }
        Ok(UserConfig { registries: raw.registries, net: raw.net, daemon: raw.daemon, security: raw.security })
    }
}

/// Sets `[registries] name = { url = … }` in a config or manifest text, keeping the rest.
pub fn set_registry(text: &str, name: &str, url: &str) -> Result<String, ManifestError> {
    validate_registry_name(name).map_err(|message| ManifestError::Registry { key: name.to_owned(), message })?;
    crate::url::RegistryUrl::parse(url)
        .map_err(|e| ManifestError::Registry { key: name.to_owned(), message: e.to_string() })?;
    let mut document: toml_edit::DocumentMut =
        text.parse().map_err(|e: toml_edit::TomlError| ManifestError::Toml(e.to_string()))?;
    let registries = table_mut(&mut document, "registries")?;
    let mut source = toml_edit::InlineTable::new();
    source.insert("url", url.into());
    registries.insert(name, toml_edit::value(source));
    Ok(document.to_string())
}

/// Removes `[registries] name`. Returns the new text and whether it was there.
pub fn remove_registry(text: &str, name: &str) -> Result<(String, bool), ManifestError> {
    let mut document: toml_edit::DocumentMut =
        text.parse().map_err(|e: toml_edit::TomlError| ManifestError::Toml(e.to_string()))?;
    let removed = document
        .get_mut("registries")
        .and_then(toml_edit::Item::as_table_like_mut)
        .and_then(|registries| registries.remove(name))
        .is_some();
    Ok((document.to_string(), removed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_and_remove_registries() {
        let text = set_registry("# mine\n", "team", "file:///srv/r.git").unwrap();
        assert_eq!(text, "# mine\n[registries]\nteam = { url = \"file:///srv/r.git\" }\n");
        assert_eq!(UserConfig::parse(&text).unwrap().registries["team"].url, "file:///srv/r.git");
        assert!(set_registry("", "team", "-oProxyCommand=x").unwrap_err().to_string().contains("begins with `-`"));
        let error = UserConfig::parse("[registries]\nteam = { url = \"--upload-pack=x\" }\n").unwrap_err();
        assert!(error.to_string().contains("entry `team`: registry URL `--upload-pack=x` begins with `-`"), "{error}");
        let (text, removed) = remove_registry(&text, "team").unwrap();
        assert!(removed);
        assert!(UserConfig::parse(&text).unwrap().registries.is_empty());
        assert!(set_registry("", "Bad Name", "x").is_err());
        assert!(UserConfig::parse("[registries]\nteam = 3\n").is_err());
        let config = UserConfig::parse("[net]\ngit-fetch-with-cli = true\n").unwrap();
        assert_eq!(config.net.git_fetch_with_cli, Some(true));
        let config = UserConfig::parse("[daemon]\nfetch-interval = 60\nauto-update = \"minor\"\n").unwrap();
        assert_eq!(config.daemon.fetch_interval, Some(60));
        assert_eq!(config.daemon.auto_update, Some(AutoUpdate::Minor));
        assert!(UserConfig::parse("[daemon]\nauto-update = \"always\"\n").is_err());
    }

    #[test]
    fn auto_update_levels() {
        let current: semver::Version = "1.2.3".parse().unwrap();
        let allows = |level: AutoUpdate, v: &str| level.requirement(&current).matches(&v.parse().unwrap());
        assert!(allows(AutoUpdate::Patch, "1.2.9") && !allows(AutoUpdate::Patch, "1.3.0"));
        assert!(allows(AutoUpdate::Minor, "1.9.0") && !allows(AutoUpdate::Minor, "2.0.0"));
        assert!(allows(AutoUpdate::Compatible, "7.0.0") && !allows(AutoUpdate::Compatible, "1.2.2"));
    }
}
