//! Optional per-agent owners lists: who may publish new versions of an agent or yank it. They
//! live in the registry beside the index (`owners/<shard>/<name>`) and are enforced by
//! `agents registry check` on the registry's protected branch. A signed list also holds its
//! revisions of SSH public keys, each signed by a key of the revision before it (the first by
//! the registry root), which every client verifies before it installs.

use std::collections::BTreeMap;

/// The owners file schema this client reads and writes.
pub const OWNERS_SCHEMA: u32 = 1;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Owners {
    pub schema: u32,
    /// Commit author e-mail addresses allowed to change the agent.
    #[serde(default)]
    pub owners: Vec<String>,
    /// The signed key revisions, oldest first: the last one names the keys whose signatures
    /// make a version of this agent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signed: Vec<OwnersRevision>,
    /// Fields written by newer clients, kept when the list is rewritten.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// One revision of an owners list's keys.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OwnersRevision {
    /// OpenSSH public key lines (`ssh-ed25519 AAAA… comment`).
    pub keys: Vec<String>,
    /// Armored SSHSIG (namespace `agents-registry-owners-v1`) over [`crate::owners_payload`],
    /// by a key of the previous revision (for the first, the registry root).
    pub signature: String,
    /// Versions signed by keys no longer listed that stay valid (a key rotated out, not
    /// revoked). Carried from each revision to the next.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retained: Vec<Retained>,
}

/// A version whose signature by a removed key stays valid.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Retained {
    pub version: semver::Version,
    pub sha256: crate::checksum::Sha256,
    /// The fingerprint (`SHA256:…`) of the key that signed it.
    pub signer: String,
}

impl Owners {
    pub fn parse(text: &str) -> Result<Owners, String> {
        let owners: Owners = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if owners.schema != OWNERS_SCHEMA {
            return Err(format!("owners schema {} is not understood (expected {OWNERS_SCHEMA})", owners.schema));
        }
        if owners.owners.is_empty() && owners.signed.is_empty() {
            return Err("the owners list is empty, so nobody could change the agent".to_owned());
        }
        if owners.signed.iter().any(|revision| revision.keys.is_empty()) {
            return Err("an owners revision names no key, so nobody could sign the agent".to_owned());
        }
        Ok(owners)
    }

    /// The canonical text: compact JSON (fields in declaration order, unknown ones sorted), `\n`.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string(self).expect("an owners list always serialises to JSON");
        text.push('\n');
        text
    }

    /// The keys of the newest signed revision (empty for an unsigned list).
    pub fn current_keys(&self) -> &[String] {
        self.signed.last().map_or(&[], |revision| &revision.keys)
    }

    /// The versions the newest revision keeps valid although their signer was removed.
    pub fn current_retained(&self) -> &[Retained] {
        self.signed.last().map_or(&[], |revision| &revision.retained)
    }

    /// Whether `email` is an owner (addresses compare case-insensitively).
    pub fn allows(&self, email: &str) -> bool {
        self.owners.iter().any(|owner| owner.eq_ignore_ascii_case(email))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_files() {
        let owners = Owners::parse(r#"{"schema":1,"owners":["Alice@Example.com"]}"#).unwrap();
        assert!(owners.allows("alice@example.com"));
        assert!(!owners.allows("bob@example.com"));
        assert!(Owners::parse(r#"{"schema":1,"owners":[]}"#).is_err());
        assert!(Owners::parse(r#"{"schema":2,"owners":["a"]}"#).is_err());
        assert!(Owners::parse("nope").is_err());
        let signed =
            Owners::parse(r#"{"schema":1,"signed":[{"keys":["ssh-ed25519 AAAA a"],"signature":"s"}],"x":2}"#).unwrap();
        assert_eq!(signed.current_keys(), ["ssh-ed25519 AAAA a"]);
        assert_eq!(
            signed.to_text(),
            "{\"schema\":1,\"owners\":[],\"signed\":[{\"keys\":[\"ssh-ed25519 AAAA a\"],\"signature\":\"s\"}],\"x\":2}\n"
        );
        assert!(Owners::parse(r#"{"schema":1,"signed":[{"keys":[],"signature":"s"}]}"#).is_err());
    }
}
