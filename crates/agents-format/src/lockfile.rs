//! `agents.lock`: the exact version, registry id and checksum of every installed agent.
//!
//! Written only by this tool, deterministically (sorted by name, fixed field order, trailing
//! newline), so re-running an install produces identical bytes and diffs stay one line per change.

use crate::checksum::Sha256;
use crate::config::RegistryId;
use crate::name::AgentName;
use crate::package::Kind;
use crate::relative_path::RelativePath;
use crate::requirement::Requirement;

/// The newest lockfile format version this client reads and writes. Version 2 adds the graph
/// (`requires`, `requested = false`, `kind = "bundle"`); a lockfile without any of those is
/// still written as version 1, so teammates on older clients read it as before.
pub const LOCKFILE_VERSION: u32 = 2;

/// The version of a lockfile that records no graph.
const GRAPHLESS_VERSION: u32 = 1;

const HEADER: &str = "# This file is written by `agents`. Do not edit it by hand.\n";

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lockfile {
    /// Sorted by name, one entry per name.
    agents: Vec<LockedAgent>,
    /// Registry id → the fingerprint (`SHA256:…`) of the root key its signed versions were
    /// accepted under: the trust a project's teammates and CI start from (`[roots]`).
    roots: std::collections::BTreeMap<RegistryId, String>,
    /// Every managed entry in a tool's configuration file (`[[config]]`), sorted by file and key.
    entries: Vec<LockedEntry>,
}

/// One entry `agents` manages inside a configuration file the user also edits (an MCP server
/// in `.mcp.json`, a switch in `.claude/settings.json`): where it is and the sha256 of its value
/// as written (serde_json's compact form). Older clients ignore the table.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct LockedEntry {
    /// Relative to the project root (or the home, in user scope).
    pub file: RelativePath,
    pub key: Vec<String>,
    /// `manifest` (declared in agents.toml) or the package that brings it.
    pub owner: String,
    pub sha256: Sha256,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LockedAgent {
    pub name: AgentName,
    pub version: semver::Version,
    pub registry: RegistryId,
    /// What is pinned; absent (an agent) in lockfiles that pin no package.
    #[serde(default)]
    pub kind: Kind,
    /// The agent file as published (for a package: its package digest, each installed file in
    /// `files`) (and as installed for Claude Code).
    pub sha256: Sha256,
    /// The fingerprint (`SHA256:…`) of the key whose signature made this version, in a signed
    /// registry. Absent for unsigned registries and in lockfiles written before signatures.
    #[serde(default)]
    pub signer: Option<String>,
    /// Every converted file written for another target, and every file of a package, sorted by
    /// target and path.
    #[serde(default, rename = "file")]
    pub files: Vec<LockedFile>,
    /// What the locked version requires (its record's `requires`, sorted): the graph's edges
    /// lead to the entries of these names.
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "requirement_texts")]
    pub requires: Vec<Requirement>,
    /// Whether the manifest (or the command line) asked for it; `false` for an entry that is
    /// only here because another requires it. Absent (older lockfiles): asked for.
    #[serde(default = "asked_for")]
    pub requested: bool,
}

fn asked_for() -> bool {
    true
}

/// `requires = ["test-writer@^1", "r-1/other@~2"]`: each requirement as its text.
mod requirement_texts {
    use crate::requirement::Requirement;

    pub(super) fn serialize<S: serde::Serializer>(requires: &[Requirement], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(requires.iter().map(Requirement::to_text))
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Requirement>, D::Error> {
        let texts = <Vec<String> as serde::Deserialize>::deserialize(d)?;
        texts.iter().map(|text| Requirement::parse(text).map_err(serde::de::Error::custom)).collect()
    }
}

/// A file converted for another tool (`[[agent.file]]`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LockedFile {
    pub target: String,
    /// Relative to the project root (or the home, in user scope); parsed, so it cannot escape.
    pub path: RelativePath,
    pub sha256: Sha256,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockfileError {
    #[error("invalid lockfile: {0}")]
    Invalid(String),
    #[error("lockfile version {found} is newer than this client understands ({LOCKFILE_VERSION}); upgrade agents")]
    UnsupportedVersion { found: u32 },
    #[error("lockfile lists `{0}` twice")]
    Duplicate(AgentName),
}

#[derive(serde::Serialize, serde::Deserialize)]
struct RawLockfile {
    version: u32,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    roots: std::collections::BTreeMap<RegistryId, String>,
    #[serde(default, rename = "agent")]
    agents: Vec<LockedAgent>,
    #[serde(default, rename = "config", skip_serializing_if = "Vec::is_empty")]
    entries: Vec<LockedEntry>,
}

impl Lockfile {
    pub fn parse(text: &str) -> Result<Lockfile, LockfileError> {
        let raw: RawLockfile =
            toml::from_str(text).map_err(|e| LockfileError::Invalid(e.to_string().trim_end().to_owned()))?;
        Lockfile::checked(raw)
    }

    /// [`Lockfile::parse`] with a cache of the parsed form: `cached` is what an earlier call
    /// returned for the same `text` (the caller keys it by the text), read as JSON instead of
    /// parsing the TOML again (a lockfile of a thousand packages takes milliseconds to parse).
    /// Either way every rule of [`Lockfile::parse`] is checked. Returns the cache to keep when
    /// `cached` was not usable.
    pub fn parse_cached(text: &str, cached: Option<&[u8]>) -> Result<(Lockfile, Option<Vec<u8>>), LockfileError> {
        if let Some(raw) = cached.and_then(|bytes| serde_json::from_slice::<RawLockfile>(bytes).ok()) {
            return Ok((Lockfile::checked(raw)?, None));
        }
        let raw: RawLockfile =
            toml::from_str(text).map_err(|e| LockfileError::Invalid(e.to_string().trim_end().to_owned()))?;
        let cache = serde_json::to_vec(&raw).ok();
        Ok((Lockfile::checked(raw)?, cache))
    }

    fn checked(raw: RawLockfile) -> Result<Lockfile, LockfileError> {
        if raw.version > LOCKFILE_VERSION || raw.version == 0 {
            return Err(LockfileError::UnsupportedVersion { found: raw.version });
        }
        let mut agents = raw.agents;
        agents.sort_by(|a, b| a.name.cmp(&b.name));
        for agent in &mut agents {
            sort_files(&mut agent.files);
            agent.requires.sort();
        }
        if let Some(pair) = agents.windows(2).find(|pair| pair[0].name == pair[1].name) {
            return Err(LockfileError::Duplicate(pair[0].name.clone()));
        }
        // No registry record carries build metadata (it would satisfy an exact pin), so a lockfile
        // naming one was not written by this tool.
        if let Some(agent) = agents.iter().find(|agent| agent.signer.as_deref().is_some_and(|s| !is_fingerprint(s))) {
            return Err(LockfileError::Invalid(format!(
                "`{}` has signer `{}`, which is not an SSH key fingerprint (`SHA256:` and base64)",
                agent.name,
                agent.signer.as_deref().unwrap_or_default().chars().take(80).collect::<String>()
            )));
        }
        if let Some(agent) = agents.iter().find(|agent| !agent.version.build.is_empty()) {
            return Err(LockfileError::Invalid(format!(
                "`{}` is locked at {}, a version with build metadata, which registries never publish",
                agent.name, agent.version
            )));
        }
        if let Some((id, root)) = raw.roots.iter().find(|(_, root)| !is_fingerprint(root)) {
            return Err(LockfileError::Invalid(format!(
                "`[roots]` pins `{}` for registry `{id}`, which is not an SSH key fingerprint (`SHA256:` and base64)",
                root.chars().take(80).collect::<String>()
            )));
        }
        let mut entries = raw.entries;
        entries.sort();
        entries.dedup_by(|a, b| a.file == b.file && a.key == b.key);
        if entries.iter().any(|e| e.key.is_empty() || e.key.len() > 16 || e.key.iter().any(|k| k.len() > 256)) {
            return Err(LockfileError::Invalid("a `[[config]]` entry has an empty or oversized key".to_owned()));
        }
        Ok(Lockfile { agents, roots: raw.roots, entries })
    }

    /// Whether any entry records part of the graph (so the file needs version 2).
    fn has_graph(&self) -> bool {
        self.agents.iter().any(|a| !a.requires.is_empty() || !a.requested || a.kind == Kind::Bundle)
    }

    pub fn to_text(&self) -> String {
        let version = if self.has_graph() { LOCKFILE_VERSION } else { GRAPHLESS_VERSION };
        let mut out = format!("{HEADER}version = {version}\n");
        if !self.roots.is_empty() {
            out.push_str("\n[roots]\n");
            for (id, root) in &self.roots {
                out.push_str(&format!("{id} = \"{root}\"\n"));
            }
        }
        for agent in &self.agents {
            out.push_str(&format!(
                "\n[[agent]]\nname = \"{}\"\nversion = \"{}\"\nregistry = \"{}\"\n",
                agent.name, agent.version, agent.registry
            ));
            if !agent.kind.is_agent() {
                out.push_str(&format!("kind = \"{}\"\n", agent.kind));
            }
            out.push_str(&format!("sha256 = \"{}\"\n", agent.sha256));
            if let Some(signer) = &agent.signer {
                out.push_str(&format!("signer = \"{signer}\"\n"));
            }
            if !agent.requested {
                out.push_str("requested = false\n");
            }
            if !agent.requires.is_empty() {
                let texts: Vec<String> =
                    agent.requires.iter().map(|r| toml_edit::Value::from(r.to_text()).to_string()).collect();
                out.push_str(&format!("requires = [{}]\n", texts.join(", ")));
            }
            for file in &agent.files {
                out.push_str(&format!(
                    "\n[[agent.file]]\ntarget = {}\npath = {}\nsha256 = \"{}\"\n",
                    toml_edit::Value::from(file.target.as_str()),
                    toml_edit::Value::from(file.path.as_str()),
                    file.sha256
                ));
            }
        }
        for entry in &self.entries {
            let key: Vec<String> = entry.key.iter().map(|k| toml_edit::Value::from(k.as_str()).to_string()).collect();
            out.push_str(&format!(
                "\n[[config]]\nfile = {}\nkey = [{}]\nowner = {}\nsha256 = \"{}\"\n",
                toml_edit::Value::from(entry.file.as_str()),
                key.join(", "),
                toml_edit::Value::from(entry.owner.as_str()),
                entry.sha256
            ));
        }
        out
    }

    /// The managed configuration entries, sorted by file and key.
    pub fn entries(&self) -> &[LockedEntry] {
        &self.entries
    }

    /// Replaces the managed configuration entries.
    pub fn set_entries(&mut self, mut entries: Vec<LockedEntry>) {
        entries.sort();
        entries.dedup_by(|a, b| a.file == b.file && a.key == b.key);
        self.entries = entries;
    }

    pub fn agents(&self) -> &[LockedAgent] {
        &self.agents
    }

    /// The root key fingerprint pinned for registry `id`.
    pub fn root(&self, id: &RegistryId) -> Option<&str> {
        self.roots.get(id).map(String::as_str)
    }

    pub fn roots(&self) -> &std::collections::BTreeMap<RegistryId, String> {
        &self.roots
    }

    /// Pins `root` (a fingerprint) for registry `id`.
    pub fn pin_root(&mut self, id: RegistryId, root: String) {
        self.roots.insert(id, root);
    }

    pub fn get(&self, name: &AgentName) -> Option<&LockedAgent> {
        self.agents.binary_search_by(|a| a.name.cmp(name)).ok().map(|i| &self.agents[i])
    }

    /// Inserts or replaces the entry for `agent.name`.
    pub fn insert(&mut self, mut agent: LockedAgent) {
        // One order for converted files, however they were produced, so rewrites stay stable.
        sort_files(&mut agent.files);
        agent.requires.sort();
        match self.agents.binary_search_by(|a| a.name.cmp(&agent.name)) {
            Ok(i) => self.agents[i] = agent,
            Err(i) => self.agents.insert(i, agent),
        }
    }

    pub fn remove(&mut self, name: &AgentName) -> Option<LockedAgent> {
        let i = self.agents.binary_search_by(|a| a.name.cmp(name)).ok()?;
        Some(self.agents.remove(i))
    }
}

/// Files by target, then path: an agent has at most one file per target, so its order is the
/// same as by target alone.
fn sort_files(files: &mut [LockedFile]) {
    files.sort_by(|a, b| (a.target.as_str(), a.path.as_str()).cmp(&(b.target.as_str(), b.path.as_str())));
}

/// `SHA256:` then unpadded base64, as `ssh-keygen -l` prints a key's fingerprint.
fn is_fingerprint(text: &str) -> bool {
    text.strip_prefix("SHA256:").is_some_and(|b64| {
        !b64.is_empty() && b64.len() <= 64 && b64.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(name: &str, version: &str) -> LockedAgent {
        LockedAgent {
            name: AgentName::new(name).unwrap(),
            version: version.parse().unwrap(),
            registry: RegistryId::builtin(),
            kind: Kind::Agent,
            sha256: Sha256::of(name.as_bytes()),
            signer: None,
            files: Vec::new(),
            requires: Vec::new(),
            requested: true,
        }
    }

    #[test]
    fn the_graph_is_version_2_and_older_lockfiles_read_as_all_requested() {
        let mut lockfile = Lockfile::default();
        let mut bundle = agent("acme-backend", "1.0.0");
        bundle.kind = Kind::Bundle;
        bundle.requires = vec![Requirement::parse("reviewer@^1").unwrap(), Requirement::parse("r-1/pdf@~2").unwrap()];
        lockfile.insert(bundle);
        lockfile.insert(LockedAgent { requested: false, ..agent("reviewer", "1.2.0") });
        let text = lockfile.to_text();
        assert!(text.contains("version = 2\n"), "{text}");
        assert!(text.contains("kind = \"bundle\"\n"), "{text}");
        assert!(text.contains("requires = [\"r-1/pdf@~2\", \"reviewer@^1\"]\n"), "{text}");
        assert!(text.contains("requested = false\n"), "{text}");
        assert_eq!(Lockfile::parse(&text).unwrap(), lockfile);
        // Without a graph the file stays version 1, and a version-1 file's entries were all asked for.
        let mut plain = Lockfile::default();
        plain.insert(agent("reviewer", "1.2.0"));
        assert!(plain.to_text().contains("version = 1\n"));
        assert!(Lockfile::parse(&plain.to_text()).unwrap().agents()[0].requested);
        let bad = text.replace("reviewer@^1", "reviewer@banana");
        assert!(Lockfile::parse(&bad).unwrap_err().to_string().contains("not a semver requirement"), "{bad}");
    }

    #[test]
    fn a_package_pins_its_kind_and_every_file() {
        let mut skill = agent("pdf", "1.0.0");
        skill.kind = Kind::Skill;
        skill.files = ["scripts/run.sh", "SKILL.md"]
            .iter()
            .map(|path| LockedFile {
                target: "claude-code".into(),
                path: RelativePath::parse(&format!(".claude/skills/pdf/{path}")).unwrap(),
                sha256: Sha256::of(path.as_bytes()),
            })
            .collect();
        let mut lockfile = Lockfile::default();
        lockfile.insert(skill);
        let text = lockfile.to_text();
        assert!(text.contains("registry = \"builtin\"\nkind = \"skill\"\nsha256 = "), "{text}");
        assert!(text.find("pdf/SKILL.md").unwrap() < text.find("pdf/scripts").unwrap(), "{text}");
        let parsed = Lockfile::parse(&text).unwrap();
        assert_eq!(parsed, lockfile);
        assert_eq!(parsed.to_text(), text);
        // An agent's entry carries no kind, as before.
        let mut agents = Lockfile::default();
        agents.insert(agent("a", "1.0.0"));
        assert!(!agents.to_text().contains("kind"));
    }

    #[test]
    fn converted_files_round_trip() {
        let mut lockfile = Lockfile::default();
        let mut with_files = agent("a", "1.0.0");
        with_files.files = vec![
            LockedFile {
                target: "opencode".into(),
                path: RelativePath::parse(".opencode/agent/a.md").unwrap(),
                sha256: Sha256::of(b"o"),
            },
            LockedFile {
                target: "codex".into(),
                path: RelativePath::parse(".codex/agents/a.toml").unwrap(),
                sha256: Sha256::of(b"c"),
            },
        ];
        lockfile.insert(with_files);
        lockfile.insert(agent("b", "1.0.0"));
        let parsed = Lockfile::parse(&lockfile.to_text()).unwrap();
        assert_eq!(parsed.agents()[0].files.len(), 2);
        assert_eq!(parsed.agents()[0].files[0].target, "codex", "files are sorted by target");
        assert!(parsed.agents()[1].files.is_empty());
        assert_eq!(Lockfile::parse(&parsed.to_text()).unwrap().to_text(), parsed.to_text());
    }

    #[test]
    fn serialises_sorted_and_round_trips() {
        let mut lockfile = Lockfile::default();
        lockfile.insert(agent("b", "1.0.0"));
        lockfile.insert(agent("a", "2.0.0"));
        lockfile.insert(agent("b", "1.1.0"));
        let text = lockfile.to_text();
        assert!(text.find("name = \"a\"").unwrap() < text.find("name = \"b\"").unwrap());
        assert!(text.contains("version = \"1.1.0\"") && !text.contains("1.0.0"));
        assert_eq!(Lockfile::parse(&text).unwrap(), lockfile);
        assert_eq!(Lockfile::parse(&text).unwrap().to_text(), text);
        assert_eq!(Lockfile::default().to_text(), format!("{HEADER}version = 1\n"));
    }

    /// The cached parsed form gives the same lockfile, and passes the same rules: a cache that
    /// says more than the text could (a name twice) is refused like the text would be.
    #[test]
    fn a_cached_parse_is_the_same_lockfile_under_the_same_rules() {
        let mut lockfile = Lockfile::default();
        lockfile.insert(agent("a", "1.0.0"));
        lockfile.insert(agent("b", "2.0.0"));
        let text = lockfile.to_text();
        let (parsed, cache) = Lockfile::parse_cached(&text, None).unwrap();
        assert_eq!(parsed, lockfile);
        let cache = cache.expect("a parse from text gives a cache to keep");
        let (again, none) = Lockfile::parse_cached(&text, Some(&cache)).unwrap();
        assert_eq!((again, none), (lockfile.clone(), None));
        // An unreadable cache is parsed from the text again.
        assert_eq!(Lockfile::parse_cached(&text, Some(b"{not json")).unwrap().0, lockfile);
        let doubled = String::from_utf8(cache).unwrap().replace("\"name\":\"b\"", "\"name\":\"a\"");
        let error = Lockfile::parse_cached(&text, Some(doubled.as_bytes())).unwrap_err();
        assert_eq!(error, LockfileError::Duplicate(AgentName::new("a").unwrap()));
    }

    #[test]
    fn the_signer_is_pinned_after_the_checksum_and_optional() {
        let mut lockfile = Lockfile::default();
        let mut signed = agent("a", "1.0.0");
        signed.signer = Some("SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s".into());
        lockfile.insert(signed);
        lockfile.insert(agent("b", "1.0.0"));
        let text = lockfile.to_text();
        assert!(text.contains(&format!("sha256 = \"{}\"\nsigner = \"SHA256:uNiV", Sha256::of(b"a"))), "{text}");
        assert_eq!(Lockfile::parse(&text).unwrap(), lockfile);
        assert_eq!(text.matches("signer").count(), 1, "an unsigned pin writes no signer: {text}");
        check_error(&text.replace("SHA256:uNiV", "MD5:uNiV"), "not an SSH key fingerprint");
    }

    fn check_error(text: &str, fragment: &str) {
        let error = Lockfile::parse(text).unwrap_err().to_string();
        assert!(error.contains(fragment), "{text:?}: {error:?} lacks {fragment:?}");
    }

    #[test]
    fn errors() {
        check_error("garbage = [", "invalid lockfile");
        check_error("[[agent]]\n", "invalid lockfile");
        check_error("version = 7\n", "upgrade agents");
        let entry = "[[agent]]\nname = \"a\"\nversion = \"1.0.0\"\nregistry = \"builtin\"\nsha256 = \"".to_owned()
            + &"0".repeat(64)
            + "\"\n";
        check_error(&format!("version = 1\n{entry}{entry}"), "twice");
        check_error(&format!("version = 1\n{}", entry.replace("\"a\"", "\"../a\"")), "invalid lockfile");
        check_error(&format!("version = 1\n{}", entry.replace(&"0".repeat(64), "zz")), "invalid sha256");
        let file =
            format!("[[agent.file]]\ntarget = \"cursor\"\npath = \"../../.bashrc\"\nsha256 = \"{}\"\n", "0".repeat(64));
        check_error(&format!("version = 1\n{entry}{file}"), "`../../.bashrc` is not a path inside the workspace");
        check_error(&format!("version = 1\n{entry}{}", file.replace("../../.bashrc", "/etc/passwd")), "absolute");
        check_error(
            &format!("version = 1\n{}", entry.replace("1.0.0", "1.0.0+evil")),
            "`a` is locked at 1.0.0+evil, a version with build metadata",
        );
    }
}
