//! Where index files, owners lists and bodies live in a registry tree. A registry declares its
//! layout in `config.json` (`"schema": 1` or `2`); every read and write of one of those files goes
//! through the [`Layout`] parsed from it, so no code path computes such a path without knowing
//! which format it is in.

use crate::checksum::Sha256;
use crate::name::AgentName;
use crate::package::Kind;

/// The layout of a registry, from its config's `schema`.
///
/// Format 1 keeps agent bodies one level deep (`bodies/ab/<sha256>`), which at 100,000 agents ×
/// 10 versions puts about 3,900 entries in every `bodies/ab` tree; format 2 puts every body two
/// levels deep (`bodies/ab/cd/<sha256>`): at one million bodies no tree on the way to one holds
/// more than 256 entries at the first level and about 15 at the second.
///
/// Index files: format 1 uses cargo's prefix path (`index/1/a`, `index/2/ab`, `index/3/a/abc`,
/// `index/ab/cd/abcd…`), whose trees are as crowded as names are alike (names that share their
/// first four letters share a tree); format 2 shards by the SHA-256 of the name
/// (`index/<h1-2>/<h3-4>/<name>`), 65,536 leaves whatever the names. An agent's owners list
/// lives at its index path under `owners/` instead of `index/`, in both formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layout {
    /// Format 1: agent bodies one level deep; package files two levels deep (the one-level path
    /// is also read).
    V1,
    /// Format 2: every body, agent or package file, two levels deep and nowhere else.
    V2,
}

impl Layout {
    /// What `agents registry init` creates.
    pub const LATEST: Layout = Layout::V2;

    /// The layout a config `schema` declares, `None` for a schema this client does not know.
    pub fn from_schema(schema: u64) -> Option<Layout> {
        match schema {
            1 => Some(Layout::V1),
            2 => Some(Layout::V2),
            _ => None,
        }
    }

    /// The config `schema` (and format number) of this layout.
    pub fn schema(self) -> u32 {
        match self {
            Layout::V1 => 1,
            Layout::V2 => 2,
        }
    }

    /// Where the index file of `name` lives.
    pub fn index_path(self, name: &AgentName) -> String {
        format!("index/{}", self.shard(name))
    }

    /// Where the owners list of `name` lives: its index path under `owners/`.
    pub fn owners_path(self, name: &AgentName) -> String {
        format!("owners/{}", self.shard(name))
    }

    /// Where a reader looks for the index file of `name`, in order; the first path that holds a
    /// file is the agent's. Format 2 has one path. Format 1 names format 2's second, as body
    /// lookups do: a client whose cached `config.json` still says format 1 keeps finding agents
    /// on a registry migrated since (a miss costs one more lookup, only for a name that is not
    /// where format 1 puts it).
    pub fn index_lookups(self, name: &AgentName) -> Vec<String> {
        match self {
            Layout::V1 => vec![Layout::V1.index_path(name), Layout::V2.index_path(name)],
            Layout::V2 => vec![Layout::V2.index_path(name)],
        }
    }

    /// Where a reader looks for the owners list of `name`, in the order of [`Self::index_lookups`].
    pub fn owners_lookups(self, name: &AgentName) -> Vec<String> {
        match self {
            Layout::V1 => vec![Layout::V1.owners_path(name), Layout::V2.owners_path(name)],
            Layout::V2 => vec![Layout::V2.owners_path(name)],
        }
    }

    /// The agent whose index file belongs exactly at `path` in this layout; `None` for any other
    /// path (a file filed under another shard, or at another layout's path, is nobody's).
    pub fn name_at_index_path(self, path: &str) -> Option<AgentName> {
        let name = AgentName::new(path.rsplit('/').next()?).ok()?;
        (self.index_path(&name) == path).then_some(name)
    }

    /// The path of `name` under `index/` (and `owners/`).
    fn shard(self, name: &AgentName) -> String {
        let name = name.as_str();
        match self {
            Layout::V1 => match name.len() {
                1 => format!("1/{name}"),
                2 => format!("2/{name}"),
                3 => format!("3/{}/{name}", &name[..1]),
                _ => format!("{}/{}/{name}", &name[..2], &name[2..4]),
            },
            Layout::V2 => {
                let hex = Sha256::of(name.as_bytes()).to_hex();
                format!("{}/{}/{name}", &hex[..2], &hex[2..4])
            }
        }
    }

    /// Where a writer puts the body of a version of `kind` (an agent's file, or one file of a
    /// package) whose bytes hash to `sha256`.
    pub fn body_path(self, kind: Kind, sha256: &Sha256) -> String {
        match (self, kind) {
            (Layout::V1, Kind::Agent) => one_level(sha256),
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
            (Layout::V2, _) => vec![two_level(sha256)],
            (Layout::V1, Kind::Agent) => vec![one_level(sha256), two_level(sha256)],
            (Layout::V1, _) => vec![two_level(sha256), one_level(sha256)],
        }
    }
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "format {}", self.schema())
    }
}

impl serde::Serialize for Layout {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.schema())
    }
}

impl<'de> serde::Deserialize<'de> for Layout {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let schema = u64::deserialize(deserializer)?;
        Layout::from_schema(schema).ok_or_else(|| serde::de::Error::custom(format!("unknown schema {schema}")))
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
        assert_eq!(Layout::from_schema(1), Some(Layout::V1));
        assert_eq!(Layout::from_schema(2), Some(Layout::V2));
        for unknown in [0, 3, u64::MAX] {
            assert_eq!(Layout::from_schema(unknown), None);
        }
        for layout in [Layout::V1, Layout::V2] {
            assert_eq!(Layout::from_schema(u64::from(layout.schema())), Some(layout));
        }
        assert_eq!(Layout::LATEST, Layout::V2);
        assert_eq!(Layout::V1.to_string(), "format 1");
    }

    #[test]
    fn format_1_index_paths_are_cargos_prefix_paths() {
        let check = |name: &str, expected: &str| {
            let name = AgentName::new(name).unwrap();
            assert_eq!(Layout::V1.index_path(&name), expected);
            assert_eq!(Layout::V1.owners_path(&name), expected.replacen("index/", "owners/", 1));
        };
        check("a", "index/1/a");
        check("ab", "index/2/ab");
        check("abc", "index/3/a/abc");
        check("abcd", "index/ab/cd/abcd");
        check("go-backend-expert", "index/go/-b/go-backend-expert");
    }

    #[test]
    fn format_2_index_paths_are_sharded_by_the_sha256_of_the_name() {
        // SHA-256("abc") = ba7816bf…, SHA-256("a") = ca978112…: known vectors.
        let abc = AgentName::new("abc").unwrap();
        assert_eq!(Layout::V2.index_path(&abc), "index/ba/78/abc");
        assert_eq!(Layout::V2.owners_path(&abc), "owners/ba/78/abc");
        assert_eq!(Layout::V2.index_path(&AgentName::new("a").unwrap()), "index/ca/97/a");
        // Names alike in their first letters land in different trees.
        let one = Layout::V2.index_path(&AgentName::new("rust-one").unwrap());
        let two = Layout::V2.index_path(&AgentName::new("rust-two").unwrap());
        assert_ne!(one[..12], two[..12], "{one} {two}");
        for name in ["a", "ab", "abc", "abcd", "go-backend-expert"] {
            let name = AgentName::new(name).unwrap();
            let hex = Sha256::of(name.as_str().as_bytes()).to_hex();
            assert_eq!(Layout::V2.index_path(&name), format!("index/{}/{}/{name}", &hex[..2], &hex[2..4]));
            // Each layout recognises its own paths only.
            for layout in [Layout::V1, Layout::V2] {
                let other = if layout == Layout::V1 { Layout::V2 } else { Layout::V1 };
                assert_eq!(layout.name_at_index_path(&layout.index_path(&name)), Some(name.clone()));
                assert_eq!(layout.name_at_index_path(&other.index_path(&name)), None);
            }
        }
        assert_eq!(Layout::V2.name_at_index_path("index/ba/78/Not_A_Name"), None);
        // Format 2 reads its own path only; format 1 its own first, then format 2's.
        assert_eq!(Layout::V2.index_lookups(&abc), ["index/ba/78/abc"]);
        assert_eq!(Layout::V1.index_lookups(&abc), ["index/3/a/abc", "index/ba/78/abc"]);
        assert_eq!(Layout::V2.owners_lookups(&abc), ["owners/ba/78/abc"]);
        assert_eq!(Layout::V1.owners_lookups(&abc), ["owners/3/a/abc", "owners/ba/78/abc"]);
    }

    #[test]
    fn format_2_puts_every_body_two_levels_deep_and_looks_nowhere_else() {
        let sha = Sha256::of(b"abc");
        let hex = sha.to_hex();
        assert_eq!(&hex[..4], "ba78");
        let flat = format!("bodies/ba/{hex}");
        let deep = format!("bodies/ba/78/{hex}");
        for kind in [Kind::Agent, Kind::Skill, Kind::Command] {
            assert_eq!(Layout::V2.body_path(kind, &sha), deep);
            assert_eq!(Layout::V2.lookups(kind, &sha), std::slice::from_ref(&deep));
        }
        // Format 1 writes agents one level deep and packages two, and reads its own path first.
        assert_eq!(Layout::V1.body_path(Kind::Agent, &sha), flat);
        assert_eq!(Layout::V1.lookups(Kind::Agent, &sha), [flat.clone(), deep.clone()]);
        for kind in [Kind::Skill, Kind::Command] {
            assert_eq!(Layout::V1.body_path(kind, &sha), deep);
            assert_eq!(Layout::V1.lookups(kind, &sha), [deep.clone(), flat.clone()]);
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
