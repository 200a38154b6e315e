//! `RelativePath`: a path that can only name something below the directory it is relative to.
//!
//! Lockfiles arrive with `git pull` and name files the tool writes and removes. A path is
//! therefore parsed once, here, into a type that cannot hold an absolute path, a `..`, an empty
//! or `.` component, a backslash or a control character; everything that touches the disk takes
//! this type, so a check cannot be forgotten. Whether a component is a symlink is a question for
//! the disk, answered when the path is opened (`agents-workspace`'s `fs`), not here.

use std::fmt;

/// The longest relative path accepted, in bytes.
pub const MAX_RELATIVE_PATH_LEN: usize = 1024;

/// A `/`-separated path of plain components, relative to a workspace's boundary.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct RelativePath(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{path}` is not a path inside the workspace: {reason}")]
pub struct RelativePathError {
    pub path: String,
    pub reason: &'static str,
}

impl RelativePath {
    pub fn parse(text: &str) -> Result<RelativePath, RelativePathError> {
        let fail = |reason| Err(RelativePathError { path: text.escape_debug().to_string(), reason });
        if text.is_empty() {
            return fail("it is empty");
        }
        if text.len() > MAX_RELATIVE_PATH_LEN {
            return fail("it is too long");
        }
        if text.starts_with('/') {
            return fail("it is absolute");
        }
        if text.chars().any(|c| c.is_control()) {
            return fail("it holds a control character");
        }
        if text.contains('\\') {
            return fail("it holds a backslash");
        }
        for component in text.split('/') {
            match component {
                "" => return fail("it has an empty component"),
                "." => return fail("it has a `.` component"),
                ".." => return fail("it has a `..` component"),
                _ => {}
            }
        }
        Ok(RelativePath(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The directory components (every component but the last).
    pub fn parent_components(&self) -> impl Iterator<Item = &str> {
        let parent = self.0.rsplit_once('/').map_or("", |(parent, _)| parent);
        parent.split('/').filter(|c| !c.is_empty())
    }

    /// The last component.
    pub fn file_name(&self) -> &str {
        self.0.rsplit_once('/').map_or(self.0.as_str(), |(_, name)| name)
    }
}

impl fmt::Display for RelativePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RelativePath {
    type Error = RelativePathError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        RelativePath::parse(&text)
    }
}

impl<'de> serde::Deserialize<'de> for RelativePath {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        RelativePath::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Result<(&[&str], &str), &str>) {
        match (RelativePath::parse(text), expected) {
            (Ok(path), Ok((parents, name))) => {
                assert_eq!(path.parent_components().collect::<Vec<_>>(), parents, "{text:?}");
                assert_eq!(path.file_name(), name, "{text:?}");
                assert_eq!(path.as_str(), text);
            }
            (Err(error), Err(fragment)) => {
                assert!(error.to_string().contains(fragment), "{text:?}: {error} lacks {fragment:?}")
            }
            (got, want) => panic!("{text:?}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn accepts_plain_relative_paths_only() {
        check(".claude/agents/a.md", Ok((&[".claude", "agents"], "a.md")));
        check("a.md", Ok((&[], "a.md")));
        check(".github/agents/x.agent.md", Ok((&[".github", "agents"], "x.agent.md")));
        check("../../.bashrc", Err("`..` component"));
        check(".claude/../../x", Err("`..` component"));
        check("/etc/passwd", Err("absolute"));
        check("", Err("empty"));
        check("a//b", Err("empty component"));
        check("a/./b", Err("`.` component"));
        check("a/", Err("empty component"));
        check("a\\..\\b", Err("backslash"));
        check("a\u{1b}[2J", Err("control character"));
        check(&"a".repeat(MAX_RELATIVE_PATH_LEN + 1), Err("too long"));
    }

    #[test]
    fn errors_escape_what_they_quote() {
        let error = RelativePath::parse("\u{1b}]52;c;x\u{7}/..").unwrap_err().to_string();
        assert!(!error.contains('\u{1b}'), "{error:?}");
    }
}
