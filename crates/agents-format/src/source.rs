//! Where an imported package came from: the collection (a git repository, named by its remote
//! URL without credentials, scheme or `.git`) and the plugin of it, recorded in the index record
//! an `agents import` writes, so a later import can tell a changed package of the same
//! collection (a new version, under `--bump`) from another collection's package that has the
//! same name (never replaced).
//!
//! The record keeps it under [`SOURCE_FIELD`], a field older clients keep unread in
//! [`IndexRecord::extra`] (no schema change: nothing an older client does depends on it). It is
//! not covered by the publisher's signature: it tells imports apart, it proves nothing.

use crate::IndexRecord;

/// The index record field that holds a [`Source`].
pub const SOURCE_FIELD: &str = "source";

/// The longest collection identity recorded, in bytes.
const MAX_COLLECTION_LEN: usize = 1024;

/// Where a package was imported from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Source {
    /// The collection's identity, [`collection_identity`] of its URL (`github.com/acme/agents`).
    pub collection: String,
    /// The plugin of a marketplace the package belongs to, if any (shown, not compared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
}

impl Source {
    /// Whether `other` is the same collection (the plugin may differ: a package can move
    /// between plugins of one collection).
    pub fn same_collection(&self, other: &Source) -> bool {
        self.collection == other.collection
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.plugin {
            Some(plugin) => write!(f, "{} (plugin `{plugin}`)", self.collection),
            None => f.write_str(&self.collection),
        }
    }
}

/// A git remote URL reduced to what names the repository, so the spellings of one repository
/// compare equal: `https://user:token@GitHub.com/acme/agents.git/`, `git@github.com:acme/agents`
/// and `ssh://git@github.com/acme/agents` are all `github.com/acme/agents`; a local path or
/// `file://` URL is `file:` and its path. Credentials never survive. `None` for an empty or
/// overlong URL.
pub fn collection_identity(url: &str) -> Option<String> {
    let url = url.trim();
    let (host, path) = if let Some(path) = url.strip_prefix("file://") {
        ("file:".to_owned(), path.to_owned())
    } else if let Some((_, rest)) = url.split_once("://") {
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host = authority.rsplit('@').next().unwrap_or(authority);
        let host = host.split(':').next().unwrap_or(host);
        (format!("{}/", host.to_ascii_lowercase()), path.to_owned())
    } else if let Some((authority, path)) = url.split_once(':').filter(|(a, _)| !a.contains('/')) {
        // scp-like `user@host:path`.
        let host = authority.rsplit('@').next().unwrap_or(authority);
        (format!("{}/", host.to_ascii_lowercase()), path.to_owned())
    } else {
        ("file:".to_owned(), url.to_owned())
    };
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path).trim_end_matches('/');
    let path = if host == "file:" { path.to_owned() } else { path.trim_start_matches('/').to_owned() };
    let identity = format!("{host}{path}");
    (!path.is_empty() && identity.len() <= MAX_COLLECTION_LEN).then_some(identity)
}

impl IndexRecord {
    /// Where an import took this version from, when it recorded that.
    pub fn source(&self) -> Option<Source> {
        serde_json::from_value(self.extra.get(SOURCE_FIELD)?.clone()).ok()
    }

    /// Records where this version is imported from.
    pub fn set_source(&mut self, source: &Source) {
        let value = serde_json::to_value(source).expect("a source always serialises");
        self.extra.insert(SOURCE_FIELD.to_owned(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_repository_are_one_collection() {
        let check =
            |url: &str, expected: Option<&str>| assert_eq!(collection_identity(url).as_deref(), expected, "{url}");
        for url in [
            "https://github.com/acme/agents",
            "https://github.com/acme/agents.git",
            "https://user:token@GitHub.com/acme/agents.git/",
            "git@github.com:acme/agents.git",
            "ssh://git@github.com:22/acme/agents",
        ] {
            check(url, Some("github.com/acme/agents"));
        }
        check("https://github.com/acme/other", Some("github.com/acme/other"));
        check("/srv/collections/team.git", Some("file:/srv/collections/team"));
        check("file:///srv/collections/team", Some("file:/srv/collections/team"));
        check("", None);
        check("https://github.com/", None);
    }

    #[test]
    fn a_source_round_trips_through_a_record_and_older_fields_stay() {
        let line = r#"{"schema":1,"name":"a","version":"1.0.0","sha256":"2d8c2f6d978ca21712b5f6de36c9d31fa8e96a4fa5d8ff8b0188dfb9e7c2fb1c","length":5,"published":"2026-11-24T00:00:00Z","yanked":false}"#;
        let mut record: IndexRecord = serde_json::from_str(line).unwrap();
        assert_eq!(record.source(), None);
        let source = Source { collection: "github.com/acme/agents".into(), plugin: Some("review".into()) };
        record.set_source(&source);
        let again: IndexRecord = serde_json::from_str(&record.to_line()).unwrap();
        assert_eq!(again.source(), Some(source));
        assert!(record.to_line().contains(r#""source":{"collection":"github.com/acme/agents","plugin":"review"}"#));
    }
}
