//! Where bodies live in a registry tree. A registry declares its layout in `config.json`
//! (`"schema": 1` or `2`); every read and write of a body goes through the [`BodyLayout`] parsed
//! from it, so no code path computes a body path without knowing which format it is in.

use crate::checksum::Sha256;
use crate::package::Kind;

/// The body layout of a registry, from its config's `schema`.
///
/// Format 1 keeps agent bodies one level deep (`bodies/ab/<sha256>`), which at 100,000 agents ×
/// 10 versions puts about 3,900 entries in every `bodies/ab` tree; format 2 puts every body two
/// levels deep (`bodies/ab/cd/<sha256>`): at one million bodies no tree on the way to one holds
/// more than 256 entries at the first level and about 15 at the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BodyLayout {
    /// Format 1: agent bodies one level deep; package files two levels deep (the one-level path
    /// is also read).
    V1,
    /// Format 2: every body, agent or package file, two levels deep and nowhere else.
    V2,
}

impl BodyLayout {
    /// What `agents registry init` creates.
    pub const LATEST: BodyLayout = BodyLayout::V2;

    /// The layout a config `schema` declares, `None` for a schema this client does not know.
    pub fn from_schema(schema: u64) -> Option<BodyLayout> {
        match schema {
            1 => Some(BodyLayout::V1),
            2 => Some(BodyLayout::V2),
            _ => None,
        }
    }

    /// The config `schema` (and format number) of this layout.
    pub fn schema(self) -> u32 {
        match self {
            BodyLayout::V1 => 1,
            BodyLayout::V2 => 2,
        }
    }

    /// Where a writer puts the body of a version of `kind` (an agent's file, or one file of a
    /// package) whose bytes hash to `sha256`.
    pub fn body_path(self, kind: Kind, sha256: &Sha256) -> String {
        match (self, kind) {
            (BodyLayout::V1, Kind::Agent) => one_level(sha256),
            _ => two_level(sha256),
        }
    }

    /// Where a reader looks for that body, in order; the first path that holds a blob is the
    /// body. Format 2 has one path. Format 1 names the other depth second: a body there is found
    /// only after a miss, which costs nothing on a registry that has its bodies where they
    /// belong, and keeps a client whose cached `config.json` still says format 1 working on a
    /// registry migrated since (its bodies are verified by checksum wherever they are found).
    pub fn lookups(self, kind: Kind, sha256: &Sha256) -> Vec<String> {
        match (self, kind) {
            (BodyLayout::V2, _) => vec![two_level(sha256)],
            (BodyLayout::V1, Kind::Agent) => vec![one_level(sha256), two_level(sha256)],
            (BodyLayout::V1, _) => vec![two_level(sha256), one_level(sha256)],
        }
    }
}

impl std::fmt::Display for BodyLayout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "format {}", self.schema())
    }
}

impl serde::Serialize for BodyLayout {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.schema())
    }
}

impl<'de> serde::Deserialize<'de> for BodyLayout {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let schema = u64::deserialize(deserializer)?;
        BodyLayout::from_schema(schema).ok_or_else(|| serde::de::Error::custom(format!("unknown schema {schema}")))
    }
}

/// The depth of a path under `bodies/` that names a body by its checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyDepth {
    /// `bodies/ab/<64 hex>`.
    OneLevel,
    /// `bodies/ab/cd/<64 hex>`.
    TwoLevel,
}

/// Whether `path` is the one-level or the two-level content address of `sha256`; `None` for any
/// other path (another body's, or not a body path at all).
pub fn body_depth(path: &str, sha256: &Sha256) -> Option<BodyDepth> {
    if path == one_level(sha256) {
        Some(BodyDepth::OneLevel)
    } else if path == two_level(sha256) {
        Some(BodyDepth::TwoLevel)
    } else {
        None
    }
}

/// The two-level content address of `sha256`: where a migration to format 2 moves a body.
pub fn two_level_body_path(sha256: &Sha256) -> String {
    two_level(sha256)
}

/// The one-level content address of `sha256`: where format 1 keeps an agent's body.
pub fn one_level_body_path(sha256: &Sha256) -> String {
    one_level(sha256)
}

fn one_level(sha256: &Sha256) -> String {
    let hex = sha256.to_hex();
    format!("bodies/{}/{hex}", &hex[..2])
}

fn two_level(sha256: &Sha256) -> String {
    let hex = sha256.to_hex();
    format!("bodies/{}/{}/{hex}", &hex[..2], &hex[2..4])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_map_to_layouts_and_back() {
        assert_eq!(BodyLayout::from_schema(1), Some(BodyLayout::V1));
        assert_eq!(BodyLayout::from_schema(2), Some(BodyLayout::V2));
        for unknown in [0, 3, u64::MAX] {
            assert_eq!(BodyLayout::from_schema(unknown), None);
        }
        for layout in [BodyLayout::V1, BodyLayout::V2] {
            assert_eq!(BodyLayout::from_schema(u64::from(layout.schema())), Some(layout));
        }
        assert_eq!(BodyLayout::LATEST, BodyLayout::V2);
        assert_eq!(BodyLayout::V1.to_string(), "format 1");
    }

    #[test]
    fn format_2_puts_every_body_two_levels_deep_and_looks_nowhere_else() {
        let sha = Sha256::of(b"abc");
        let hex = sha.to_hex();
        assert_eq!(&hex[..4], "ba78");
        let flat = format!("bodies/ba/{hex}");
        let deep = format!("bodies/ba/78/{hex}");
        for kind in [Kind::Agent, Kind::Skill, Kind::Command] {
            assert_eq!(BodyLayout::V2.body_path(kind, &sha), deep);
            assert_eq!(BodyLayout::V2.lookups(kind, &sha), std::slice::from_ref(&deep));
        }
        // Format 1 writes agents one level deep and packages two, and reads its own path first.
        assert_eq!(BodyLayout::V1.body_path(Kind::Agent, &sha), flat);
        assert_eq!(BodyLayout::V1.lookups(Kind::Agent, &sha), [flat.clone(), deep.clone()]);
        for kind in [Kind::Skill, Kind::Command] {
            assert_eq!(BodyLayout::V1.body_path(kind, &sha), deep);
            assert_eq!(BodyLayout::V1.lookups(kind, &sha), [deep.clone(), flat.clone()]);
        }
        assert_eq!(two_level_body_path(&sha), deep);
        assert_eq!(one_level_body_path(&sha), flat);
    }

    #[test]
    fn depth_is_known_only_for_the_bodys_own_addresses() {
        let sha = Sha256::of(b"abc");
        let other = Sha256::of(b"abd");
        let hex = sha.to_hex();
        assert_eq!(body_depth(&format!("bodies/ba/{hex}"), &sha), Some(BodyDepth::OneLevel));
        assert_eq!(body_depth(&format!("bodies/ba/78/{hex}"), &sha), Some(BodyDepth::TwoLevel));
        assert_eq!(body_depth(&format!("bodies/ba/78/{hex}"), &other), None);
        assert_eq!(body_depth(&format!("bodies/ba/79/{hex}"), &sha), None);
        assert_eq!(body_depth(&format!("bodies/{hex}"), &sha), None);
        assert_eq!(body_depth(&format!("bodies/ba/78/aa/{hex}"), &sha), None);
    }
}
