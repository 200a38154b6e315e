//! What a signature covers: the exact byte strings publishers sign and clients verify, one per
//! kind of signed thing (a published version, an owners list revision, `config.json`).
//!
//! Each payload is plain text, one `key value` per line, opening with its namespace, so it is
//! unambiguous without any JSON canonicalisation and a second client can rebuild it from the
//! fields alone. The same namespace is given to SSHSIG (`ssh-keygen -Y sign -n`), so a
//! signature made for one kind can never be replayed as another. The cryptography itself lives
//! in `agents-registry`; this module is pure.

use crate::checksum::Sha256;
use crate::config::{RegistryConfig, RegistryId};
use crate::index::IndexRecord;
use crate::name::AgentName;
use crate::owners::Retained;
use crate::requirement::requirement_lines;

/// The namespace of a published version's signature.
pub const RECORD_NAMESPACE: &str = "agents-registry-record-v1";
/// The namespace of an owners list revision's signature.
pub const OWNERS_NAMESPACE: &str = "agents-registry-owners-v1";
/// The namespace of `config.json`'s signature by the registry root.
pub const CONFIG_NAMESPACE: &str = "agents-registry-config-v1";
/// The namespace of a yank or unyank statement by an owner (or the root).
pub const YANK_NAMESPACE: &str = "agents-registry-yank-v1";
/// The namespace of a root rotation statement, by the root being replaced.
pub const ROTATE_NAMESPACE: &str = "agents-registry-rotate-v1";

/// The `config.json` field holding the registry root's public key (`ssh-ed25519 AAAA…`).
pub const CONFIG_ROOT_FIELD: &str = "root";
/// The `config.json` field holding the root's signature over [`config_payload`].
pub const CONFIG_SIGNATURE_FIELD: &str = "root-signature";
/// The `config.json` field listing the root's rotations, oldest first: each
/// `{"from": key line, "to": key line, "signature": …}`, signed by `from` over
/// [`rotation_payload`].
pub const CONFIG_ROTATIONS_FIELD: &str = "root-rotations";

/// What the publisher of `name@version` signs: it binds the version's bytes (by checksum) to one
/// registry, so a signature can be neither moved to other bytes nor to another registry.
pub fn record_payload(registry: &RegistryId, name: &AgentName, version: &semver::Version, sha256: &Sha256) -> Vec<u8> {
    format!("{RECORD_NAMESPACE}\nregistry {registry}\nname {name}\nversion {version}\nsha256 {sha256}\n").into_bytes()
}

/// What an owner (or the root) signs to set the yank state of `name@version`: the version's
/// bytes (by checksum), the state, and `change`, which counts the version's yank statements
/// from 1, so a client that saw a later statement refuses an earlier one replayed.
pub fn yank_payload(
    registry: &RegistryId,
    name: &AgentName,
    version: &semver::Version,
    sha256: &Sha256,
    yanked: bool,
    change: u64,
) -> Vec<u8> {
    format!(
        "{YANK_NAMESPACE}\nregistry {registry}\nname {name}\nversion {version}\nsha256 {sha256}\nyanked {yanked}\nchange {change}\n"
    )
    .into_bytes()
}

/// What a registry root signs when it hands the registry to a new root: the registry and both
/// keys (without comments).
pub fn rotation_payload(registry: &RegistryId, from: &str, to: &str) -> Vec<u8> {
    format!(
        "{ROTATE_NAMESPACE}\nregistry {registry}\nfrom {}\nto {}\n",
        key_without_comment(from),
        key_without_comment(to)
    )
    .into_bytes()
}

/// What the publisher of `record` signs: [`record_payload`], then one `requires` line per
/// requirement ([`crate::requirement_lines`]), so a signature also binds what the version needs.
/// A version without requirements signs exactly [`record_payload`], as before requirements.
pub fn record_signing_payload(registry: &RegistryId, record: &IndexRecord) -> Vec<u8> {
    let mut payload = record_payload(registry, &record.name, &record.version, &record.sha256);
    payload.extend_from_slice(requirement_lines(&record.requires).as_bytes());
    payload
}

/// What revision `revision` (0 for the first) of `name`'s owners list signs: the keys it names,
/// in order, the versions it keeps valid for removed keys, and the payload digest of the
/// revision before it, so revisions cannot be dropped, reordered or spliced from another
/// agent's list.
pub fn owners_payload(
    registry: &RegistryId,
    name: &AgentName,
    revision: usize,
    previous: Option<&Sha256>,
    keys: &[String],
    retained: &[Retained],
) -> Vec<u8> {
    let previous = previous.map_or_else(|| "none".to_owned(), Sha256::to_hex);
    let mut out =
        format!("{OWNERS_NAMESPACE}\nregistry {registry}\nname {name}\nrevision {revision}\nprevious {previous}\n");
    for key in keys {
        out.push_str("key ");
        out.push_str(&key_without_comment(key));
        out.push('\n');
    }
    for kept in retained {
        out.push_str(&format!("retain {} {} {}\n", kept.version, kept.sha256, kept.signer));
    }
    out.into_bytes()
}

/// What the registry root signs in `config.json`: its canonical text (§2 of the format) without
/// the signature field itself.
pub fn config_payload(config: &RegistryConfig) -> Vec<u8> {
    let mut unsigned = config.clone();
    unsigned.extra.remove(CONFIG_SIGNATURE_FIELD);
    format!("{CONFIG_NAMESPACE}\n{}", unsigned.to_text()).into_bytes()
}

/// The first two fields of an OpenSSH public key line (`ssh-ed25519 AAAA…`): a comment is a
/// label, never part of what is signed or compared.
pub fn key_without_comment(key: &str) -> String {
    key.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_the_documented_byte_strings() {
        let registry = RegistryId::new("r-1").unwrap();
        let name = AgentName::new("reviewer").unwrap();
        let sha = Sha256::of(b"x");
        assert_eq!(
            String::from_utf8(record_payload(&registry, &name, &semver::Version::new(1, 2, 3), &sha)).unwrap(),
            format!("agents-registry-record-v1\nregistry r-1\nname reviewer\nversion 1.2.3\nsha256 {sha}\n")
        );
        let keys = vec!["ssh-ed25519 AAAAkey alice@laptop".to_owned(), "ssh-ed25519 BBBB".to_owned()];
        let retained = [Retained { version: semver::Version::new(1, 0, 0), sha256: sha, signer: "SHA256:x".into() }];
        assert_eq!(
            String::from_utf8(owners_payload(&registry, &name, 0, None, &keys, &[])).unwrap(),
            "agents-registry-owners-v1\nregistry r-1\nname reviewer\nrevision 0\nprevious none\n\
             key ssh-ed25519 AAAAkey\nkey ssh-ed25519 BBBB\n"
        );
        let second = String::from_utf8(owners_payload(&registry, &name, 1, Some(&sha), &keys[1..], &retained)).unwrap();
        assert!(
            second
                .ends_with(&format!("revision 1\nprevious {sha}\nkey ssh-ed25519 BBBB\nretain 1.0.0 {sha} SHA256:x\n")),
            "{second}"
        );
        assert_eq!(
            String::from_utf8(yank_payload(&registry, &name, &semver::Version::new(1, 2, 3), &sha, true, 2)).unwrap(),
            format!(
                "agents-registry-yank-v1\nregistry r-1\nname reviewer\nversion 1.2.3\nsha256 {sha}\nyanked true\nchange 2\n"
            )
        );
        assert_eq!(
            String::from_utf8(rotation_payload(&registry, "ssh-ed25519 AAAA old", "ssh-ed25519 BBBB new")).unwrap(),
            "agents-registry-rotate-v1\nregistry r-1\nfrom ssh-ed25519 AAAA\nto ssh-ed25519 BBBB\n"
        );
        let mut config = RegistryConfig::new(registry, None);
        config.extra.insert(CONFIG_ROOT_FIELD.to_owned(), "ssh-ed25519 AAAA".into());
        let unsigned = config_payload(&config);
        config.extra.insert(CONFIG_SIGNATURE_FIELD.to_owned(), "sig".into());
        assert_eq!(config_payload(&config), unsigned, "the signature is not part of what it signs");
        assert!(String::from_utf8(unsigned).unwrap().starts_with("agents-registry-config-v1\n{\n  \"schema\": 2,"));
    }
}
