//! Agent names: the identity of an agent, safe to use as a file name on every platform.

use std::fmt;

/// The longest accepted agent name, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// A validated agent name.
///
/// Claude Code documents names as "lowercase letters and hyphens", but real files use digits and
/// dots too (`dotnet-framework-4.8-expert`), so those are accepted. Everything that could escape a
/// directory, hide a file, collide by case or hit a reserved device name is rejected: the name is
/// used verbatim as `<name>.md` inside an agents directory and as a path in the registry index.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AgentName(String);

/// Why a string is not a valid agent name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("agent name is empty")]
    Empty,
    #[error("agent name `{name}` is longer than {MAX_NAME_LEN} bytes")]
    TooLong { name: String },
    #[error("agent name `{name}` contains uppercase letters (names are lowercase so they cannot collide by case)")]
    Uppercase { name: String },
    #[error("agent name `{name}` contains {found}; allowed are a-z, 0-9, `-`, `_` and `.`")]
    InvalidCharacter { name: String, found: String },
    #[error("agent name `{name}` must start with a letter or digit")]
    BadStart { name: String },
    #[error("agent name `{name}` must end with a letter or digit")]
    BadEnd { name: String },
    #[error("agent name `{name}` contains `..`")]
    DotDot { name: String },
    #[error("agent name `{name}` is a reserved device name on Windows")]
    Reserved { name: String },
}

impl AgentName {
    /// Validates `name`.
    pub fn new(name: &str) -> Result<AgentName, NameError> {
        validate(name)?;
        Ok(AgentName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The file name this agent is installed as: `<name>.md`.
    pub fn file_name(&self) -> String {
        format!("{}.md", self.0)
    }
}

/// The name among `candidates` closest to `typed` by edit distance, for "did you mean": within
/// a third of the typed length (at least one edit), the nearest first, then alphabetical. A
/// candidate equal to `typed` is no suggestion.
pub fn closest_name<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let typed = typed.to_lowercase();
    let limit = (typed.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|candidate| *candidate != typed)
        .map(|candidate| (edit_distance(&typed, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min()
        .map(|(_, candidate)| candidate)
}

/// Edit distance over characters (optimal string alignment): an insertion, a deletion, a
/// substitution or a swap of two neighbours costs one, so `pfd` is one edit from `pdf`.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut table = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in table.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in table[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let substitution = table[i - 1][j - 1] + usize::from(a[i - 1] != b[j - 1]);
            let mut best = substitution.min(table[i - 1][j] + 1).min(table[i][j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(table[i - 2][j - 2] + 1);
            }
            table[i][j] = best;
        }
    }
    table[a.len()][b.len()]
}

fn describe(c: char) -> String {
    match c {
        '/' | '\\' => format!("a path separator `{c}`"),
        '\0' => "a NUL byte".to_owned(),
        c if c.is_whitespace() => format!("whitespace {c:?}"),
        c if c.is_control() => format!("a control character {c:?}"),
        c => format!("`{c}`"),
    }
}

fn validate(name: &str) -> Result<(), NameError> {
    let owned = || name.to_owned();
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong { name: owned() });
    }
    if let Some(c) = name.chars().find(|c| !is_allowed(*c)) {
        if c.is_ascii_uppercase() {
            return Err(NameError::Uppercase { name: owned() });
        }
        return Err(NameError::InvalidCharacter { name: owned(), found: describe(c) });
    }
    let first = name.as_bytes()[0];
    if !first.is_ascii_alphanumeric() {
        return Err(NameError::BadStart { name: owned() });
    }
    let last = name.as_bytes()[name.len() - 1];
    if !last.is_ascii_alphanumeric() {
        return Err(NameError::BadEnd { name: owned() });
    }
    if name.contains("..") {
        return Err(NameError::DotDot { name: owned() });
    }
    // Windows refuses these as a file's stem whatever the extension (`con.md`, `nul.tar.gz`).
    let stem = name.split('.').next().unwrap_or(name);
    const RESERVED: [&str; 4] = ["con", "prn", "aux", "nul"];
    let is_numbered = |prefix: &str| {
        stem.strip_prefix(prefix).is_some_and(|digit| digit.len() == 1 && digit.as_bytes()[0].is_ascii_digit())
    };
    if RESERVED.contains(&stem) || is_numbered("com") || is_numbered("lpt") {
        return Err(NameError::Reserved { name: owned() });
    }
    Ok(())
}

fn is_allowed(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')
}

impl fmt::Display for AgentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AgentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl std::str::FromStr for AgentName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AgentName::new(s)
    }
}

impl AsRef<str> for AgentName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl serde::Serialize for AgentName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for AgentName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        AgentName::new(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, expected: Result<(), &str>) {
        let actual = AgentName::new(name).map(|_| ()).map_err(|e| e.to_string());
        match (&actual, expected) {
            (Ok(()), Ok(())) => {}
            (Err(message), Err(fragment)) => {
                assert!(message.contains(fragment), "{name:?}: {message:?} lacks {fragment:?}")
            }
            _ => panic!("{name:?}: expected {expected:?}, got {actual:?}"),
        }
    }

    #[test]
    fn closest_names() {
        let names = ["go-backend-expert", "go-frontend-expert", "pdf", "pdf-tools", "canvas-design"];
        let check = |typed: &str, expected: Option<&str>| {
            assert_eq!(closest_name(typed, names), expected, "typed {typed:?}");
        };
        check("go-backend-exprt", Some("go-backend-expert"));
        check("go-bakend-expert", Some("go-backend-expert"));
        check("pfd", Some("pdf"));
        check("pdf", None);
        check("canvas-desing", Some("canvas-design"));
        check("something-else", None);
        check("x", None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn names() {
        check("go-backend-expert", Ok(()));
        check("dotnet-framework-4.8-expert", Ok(()));
        check("a", Ok(()));
        check("x86_64-asm", Ok(()));
        check("", Err("empty"));
        check("Go-Expert", Err("uppercase"));
        check("../etc/passwd", Err("path separator"));
        check("..", Err("must start"));
        check("a/b", Err("path separator"));
        check("a\\b", Err("path separator"));
        check("a..b", Err("`..`"));
        check(".hidden", Err("must start"));
        check("trailing.", Err("must end"));
        check("trailing-", Err("must end"));
        check("nul\0byte", Err("NUL"));
        check("with space", Err("whitespace"));
        check("con", Err("reserved"));
        check("con.agent", Err("reserved"));
        check("com1", Err("reserved"));
        check("lpt9.x", Err("reserved"));
        check("com10", Ok(()));
        check("console", Ok(()));
        check("caf\u{e9}", Err("allowed are"));
        check(&"a".repeat(64), Ok(()));
        check(&"a".repeat(65), Err("longer than"));
    }
}
