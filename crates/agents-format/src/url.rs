//! Registry URLs: a parsed type that git can never read as an option or a command.
//!
//! A registry URL comes from files other people write (a teammate's `agents.toml`, a user config)
//! and ends up as an operand of `git` or libgit2. [`RegistryUrl`] can only hold a URL that does not
//! begin with `-` (an option to git), holds no control, whitespace or invisible character, names no
//! host or user beginning with `-` (an option to ssh), and uses a transport that moves data and runs
//! nothing: a local path, `file://`, `git://`, `ssh://` (or scp-like `user@host:path`), `http://`
//! or `https://`. Git's remote-helper syntax (`ext::`, `fd::`, any `<helper>::`) is refused.
//!
//! `sparse+http://` and `sparse+https://` name a sparse registry: the same tree served by a static
//! web server. Such a URL never reaches git (git would look for a `git-remote-sparse+https`
//! helper); [`RegistryUrl::sparse_base`] is how the registry crate tells the two kinds apart.

use std::fmt;

/// The longest registry URL accepted, in bytes.
pub const MAX_REGISTRY_URL_LEN: usize = 4096;

/// The URL schemes a registry may use. `ext::` and `fd::` (git's command-running transports) are
/// not schemes but remote helpers, refused separately.
const ALLOWED_SCHEMES: &[&str] =
    &["file", "git", "ssh", "git+ssh", "ssh+git", "http", "https", "sparse+http", "sparse+https"];

/// The prefix of a sparse registry's URL (`sparse+https://host/path/`).
const SPARSE_PREFIX: &str = "sparse+";

/// A registry URL or path that is safe to hand to git as an operand.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegistryUrl(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryUrlError {
    #[error("the registry URL is empty")]
    Empty,
    #[error("the registry URL is {len} bytes, over the limit of {MAX_REGISTRY_URL_LEN}")]
    TooLong { len: usize },
    #[error("registry URL `{url}` begins with `-`, which git would read as an option")]
    LeadingDash { url: String },
    #[error("registry URL `{url}` holds a control, whitespace or invisible character")]
    BadCharacter { url: String },
    #[error(
        "registry URL `{url}` uses git's `{helper}::` remote-helper syntax, which can run commands; \
         use a path or a file://, git://, ssh://, http://, https:// or sparse+https:// URL"
    )]
    RemoteHelper { url: String, helper: String },
    #[error(
        "registry URL `{url}` uses the scheme `{scheme}://`; registries use a path or a file://, git://, \
         ssh://, http://, https://, sparse+http:// or sparse+https:// URL"
    )]
    Scheme { url: String, scheme: String },
    #[error("registry URL `{url}` names a host or user beginning with `-`, which ssh would read as an option")]
    DashHost { url: String },
}

/// The URL as it may be shown: control characters escaped, so an error never writes them raw.
fn shown(url: &str) -> String {
    url.chars().flat_map(char::escape_debug).collect()
}

impl RegistryUrl {
    pub fn parse(url: &str) -> Result<RegistryUrl, RegistryUrlError> {
        if url.is_empty() {
            return Err(RegistryUrlError::Empty);
        }
        if url.len() > MAX_REGISTRY_URL_LEN {
            return Err(RegistryUrlError::TooLong { len: url.len() });
        }
        if url.chars().any(|c| c.is_control() || c.is_whitespace() || crate::unicode::classify(c).is_some()) {
            return Err(RegistryUrlError::BadCharacter { url: shown(url) });
        }
        if url.starts_with('-') {
            return Err(RegistryUrlError::LeadingDash { url: shown(url) });
        }
        if let Some(helper) = remote_helper(url) {
            return Err(RegistryUrlError::RemoteHelper { url: shown(url), helper: helper.to_owned() });
        }
        let authority = if let Some((scheme, rest)) = url.split_once("://") {
            if !ALLOWED_SCHEMES.iter().any(|allowed| allowed.eq_ignore_ascii_case(scheme)) {
                return Err(RegistryUrlError::Scheme { url: shown(url), scheme: scheme.to_owned() });
            }
            Some(rest.split('/').next().unwrap_or_default())
        } else {
            // scp-like `user@host:path`: a colon before any slash (a local path has a slash first).
            url.split_once(':').map(|(host, _)| host).filter(|host| !host.contains('/') && !host.contains('\\'))
        };
        if let Some(authority) = authority {
            let (user, host) = match authority.rsplit_once('@') {
                Some((user, host)) => (Some(user), host),
                None => (None, authority),
            };
            if host.starts_with('-') || user.is_some_and(|user| user.starts_with('-')) {
                return Err(RegistryUrlError::DashHost { url: shown(url) });
            }
        }
        Ok(RegistryUrl(url.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For a sparse registry (`sparse+https://host/path`), the base URL its files are fetched
    /// under, `https://host/path/` (always ending in `/`); `None` for a git registry.
    pub fn sparse_base(&self) -> Option<String> {
        let prefix = self.0.get(..SPARSE_PREFIX.len())?;
        if !prefix.eq_ignore_ascii_case(SPARSE_PREFIX) {
            return None;
        }
        let base = &self.0[SPARSE_PREFIX.len()..];
        let base = base.split(['?', '#']).next().unwrap_or(base);
        Some(if base.ends_with('/') { base.to_owned() } else { format!("{base}/") })
    }
}

/// The helper of git's `<helper>::<address>` syntax: a letter, then letters, digits, `+`, `-` or
/// `.`, then `::` (git's `transport_get` rule).
fn remote_helper(url: &str) -> Option<&str> {
    let end = url.find("::")?;
    let helper = &url[..end];
    let mut chars = helper.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic() && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
        .then_some(helper)
}

impl std::ops::Deref for RegistryUrl {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for RegistryUrl {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RegistryUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for RegistryUrl {
    type Err = RegistryUrlError;
    fn from_str(url: &str) -> Result<RegistryUrl, RegistryUrlError> {
        RegistryUrl::parse(url)
    }
}

impl<'de> serde::Deserialize<'de> for RegistryUrl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<RegistryUrl, D::Error> {
        let text = String::deserialize(deserializer)?;
        RegistryUrl::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for RegistryUrl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, expected: Result<(), &str>) {
        match (RegistryUrl::parse(url), expected) {
            (Ok(parsed), Ok(())) => assert_eq!(parsed.as_str(), url),
            (Err(error), Err(needle)) => assert!(error.to_string().contains(needle), "{url}: {error}"),
            (got, want) => panic!("{url}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn ordinary_urls_and_paths_parse() {
        for url in [
            "/srv/registry.git",
            "./registry",
            "relative/dir",
            "C:\\registries\\team",
            "file:///srv/registry.git",
            "git://example.com/r.git",
            "ssh://git@example.com:2222/team/agents.git",
            "git@github.com:team/agents.git",
            "https://example.com/team/agents.git",
            "HTTP://EXAMPLE.COM/r",
            "https://user@example.com/r.git",
            "/srv/a-b/--weird/dir",
            "sparse+https://agents.example.com/index/",
            "sparse+http://127.0.0.1:8080/team",
        ] {
            check(url, Ok(()));
        }
    }

    #[test]
    fn sparse_urls_give_their_base() {
        let base = |url: &str| RegistryUrl::parse(url).expect("valid").sparse_base();
        assert_eq!(base("sparse+https://h.example/r/").as_deref(), Some("https://h.example/r/"));
        assert_eq!(base("sparse+http://127.0.0.1:9/r").as_deref(), Some("http://127.0.0.1:9/r/"));
        assert_eq!(base("SPARSE+HTTPS://h.example").as_deref(), Some("HTTPS://h.example/"));
        assert_eq!(base("https://h.example/r.git"), None);
        assert_eq!(base("/srv/sparse+x"), None);
        check("sparse+ftp://h.example/r", Err("scheme `sparse+ftp://`"));
        check("sparse+https://-x/r", Err("host or user beginning with `-`"));
    }

    #[test]
    fn operands_that_git_or_ssh_would_read_as_options_are_refused() {
        check("--upload-pack=touch pwned;", Err("holds a control, whitespace"));
        check("--upload-pack=touch${IFS}pwned", Err("begins with `-`"));
        check("-oProxyCommand=x", Err("begins with `-`"));
        check("ssh://-oProxyCommand=touch@x/r", Err("host or user beginning with `-`"));
        check("ssh://git@-oProxyCommand=x/r", Err("host or user beginning with `-`"));
        check("git@-oProxyCommand=x:r", Err("host or user beginning with `-`"));
        check("-", Err("begins with `-`"));
    }

    #[test]
    fn command_running_transports_are_refused() {
        check("ext::sh -c touch% pwned", Err("holds a control"));
        check("ext::sh%20-c%20touch", Err("`ext::` remote-helper"));
        check("fd::17", Err("`fd::` remote-helper"));
        check("EXT::x", Err("`EXT::` remote-helper"));
        check("codecommit::us-east-1://r", Err("remote-helper"));
        check("ftp://example.com/r", Err("scheme `ftp://`"));
        check("javascript://x", Err("scheme `javascript://`"));
    }

    #[test]
    fn control_and_invisible_characters_are_refused_and_escaped() {
        check("/srv/r\n--upload-pack=x", Err("/srv/r\\n--upload-pack=x"));
        check("/srv/r\u{1b}]52;c;x\u{7}", Err("\\u{1b}"));
        check("/srv/r\u{202e}", Err("invisible"));
        check("/srv/r\tx", Err("whitespace"));
        check("", Err("empty"));
        check(&"a".repeat(MAX_REGISTRY_URL_LEN + 1), Err("over the limit"));
    }
}
