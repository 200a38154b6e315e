//! SSH signatures over what a registry publishes: who published a version, who may change an
//! agent's owners, and which key is the registry's root.
//!
//! The byte strings signed are `agents_format::{record_payload, owners_payload, config_payload}`;
//! this module adds the cryptography (SSHSIG through the `ssh-key` crate, the format of
//! `ssh-keygen -Y sign`) and the rules a client applies to a [`Registry`] it opened, whatever
//! carried the registry's files to it: [`verify_version`] is the one check before a version is
//! accepted.

use agents_format::{
    AgentName, CONFIG_NAMESPACE, CONFIG_ROOT_FIELD, CONFIG_ROTATIONS_FIELD, CONFIG_SIGNATURE_FIELD, IndexRecord,
    OWNERS_NAMESPACE, Owners, OwnersRevision, RECORD_NAMESPACE, ROTATE_NAMESPACE, RegistryConfig, RegistryId, Retained,
    Sha256, YANK_NAMESPACE, YankStatement, config_payload, key_without_comment, owners_payload, record_signing_payload,
    rotation_payload, yank_payload,
};
use ssh_key::{HashAlg, LineEnding, PublicKey, SshSig};

use crate::registry::Registry;

/// Something that can make SSH signatures: a private key in memory, or a program (ssh-keygen
/// with ssh-agent) driven by the binary.
pub trait Signer {
    /// The public half, as an OpenSSH line (`ssh-ed25519 AAAA… comment`).
    fn public_key(&self) -> &PublicKey;
    /// An armored SSHSIG over `message` in `namespace`.
    fn sign(&self, namespace: &str, message: &[u8]) -> Result<String, SignatureError>;
}

/// A private key read from an OpenSSH key file without a passphrase.
pub struct KeySigner {
    key: ssh_key::PrivateKey,
}

impl KeySigner {
    /// Reads an unencrypted OpenSSH private key; `label` (its path) names it in errors.
    pub fn from_openssh(text: &[u8], label: &str) -> Result<KeySigner, SignatureError> {
        let key = ssh_key::PrivateKey::from_openssh(text)
            .map_err(|e| SignatureError::Key { key: label.to_owned(), reason: e.to_string() })?;
        if key.is_encrypted() {
            return Err(SignatureError::Key {
                key: label.to_owned(),
                reason: "it is protected by a passphrase; give its public key (`.pub`) instead, so ssh-agent signs"
                    .to_owned(),
            });
        }
        Ok(KeySigner { key })
    }
}

impl Signer for KeySigner {
    fn public_key(&self) -> &PublicKey {
        self.key.public_key()
    }

    fn sign(&self, namespace: &str, message: &[u8]) -> Result<String, SignatureError> {
        let signature = self
            .key
            .sign(namespace, HashAlg::Sha512, message)
            .map_err(|e| SignatureError::Sign { reason: e.to_string() })?;
        signature.to_pem(LineEnding::LF).map_err(|e| SignatureError::Sign { reason: e.to_string() })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("{agent} from registry `{registry}` is not signed, but the registry signs every publish")]
    Missing { registry: String, agent: String },
    #[error("{agent} from registry `{registry}` is signed by {fingerprint}, which is not an owner of `{name}`")]
    NotOwner { registry: String, agent: String, name: AgentName, fingerprint: String },
    #[error("{agent} from registry `{registry}` has an invalid signature{by}: {reason}", by = by(.fingerprint))]
    Invalid { registry: String, agent: String, fingerprint: Option<String>, reason: String },
    #[error(
        "{agent} from registry `{registry}`: the registry signs its publishes, but `{name}` has no signed owners list"
    )]
    NoOwners { registry: String, agent: String, name: AgentName },
    #[error("the owners list of `{name}` in registry `{registry}` is refused: {reason}")]
    Owners { registry: String, name: AgentName, reason: String },
    #[error("the config.json of registry `{registry}` is refused: {reason}")]
    Config { registry: String, reason: String },
    #[error("cannot use signing key {key}: {reason}")]
    Key { key: String, reason: String },
    #[error("could not sign: {reason}")]
    Sign { reason: String },
    #[error("{action} in registry `{registry}`: {reason}")]
    Refused { registry: String, action: String, reason: String },
    #[error(
        "registry `{registry}` ({id}) changed its root key: you trusted {pinned}, it now names {found}; \
         refusing it until you check with its maintainers and trust the new root (`agents registry add NAME URL --trust {found}`)"
    )]
    RootChanged { registry: String, id: String, pinned: String, found: String },
    #[error(
        "registry `{registry}` ({id}) no longer signs its publishes, but you trusted its root {pinned}; refusing it"
    )]
    RootRemoved { registry: String, id: String, pinned: String },
    #[error(
        "{agent} from registry `{registry}` is now signed by {found}, but agents.lock pins its signer {pinned}; \
         a published version never changes publisher"
    )]
    SignerChanged { registry: String, agent: String, pinned: String, found: String },
    #[error(
        "{agent} from registry `{registry}`: the registry does not sign its publishes, and `require-signatures` refuses it"
    )]
    Required { registry: String, agent: String },
}

fn by(fingerprint: &Option<String>) -> String {
    fingerprint.as_ref().map(|f| format!(" by {f}")).unwrap_or_default()
}

/// The SHA256 fingerprint of a key as `ssh-keygen -l` prints it (`SHA256:…`).
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// Parses one OpenSSH public key line.
pub fn parse_public_key(line: &str) -> Result<PublicKey, SignatureError> {
    PublicKey::from_openssh(line.trim())
        .map_err(|e| SignatureError::Key { key: line.chars().take(80).collect(), reason: e.to_string() })
}

/// The OpenSSH line of a key (with its comment), as stored in owners lists and config.json.
pub fn public_key_line(key: &PublicKey) -> String {
    key.to_openssh().expect("a parsed public key encodes back to OpenSSH")
}

/// A registry's root key, read from its `config.json` and verified against the config's own
/// signature.
#[derive(Debug, Clone)]
pub struct RegistryRoot {
    pub key: PublicKey,
    pub fingerprint: String,
}

/// Who made a version, as [`verify_version`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The registry has no root key: it does not sign, so nothing could be checked.
    Unsigned,
    /// Signed by `signer`, an owner under the registry root `root` (both fingerprints).
    Signed { signer: String, root: String },
}

/// Verifies `sig` (armored) over `message` in `namespace` and returns the key that made it.
fn verify_armored(namespace: &str, message: &[u8], armored: &str) -> Result<PublicKey, (Option<String>, String)> {
    let signature = SshSig::from_pem(armored.as_bytes()).map_err(|e| (None, format!("not an SSH signature: {e}")))?;
    let key = PublicKey::from(signature.public_key().clone());
    let fingerprint = fingerprint(&key);
    if signature.namespace() != namespace {
        return Err((Some(fingerprint), format!("made for `{}`, not `{namespace}`", signature.namespace())));
    }
    key.verify(namespace, message, &signature)
        .map_err(|_| (Some(fingerprint.clone()), "it does not match what it claims to sign".to_owned()))?;
    Ok(key)
}

/// The root of a registry whose `config.json` names one, verified against the config's
/// signature; `None` for a registry that does not sign.
pub fn registry_root(config: &RegistryConfig, registry: &str) -> Result<Option<RegistryRoot>, SignatureError> {
    let refuse = |reason: String| SignatureError::Config { registry: registry.to_owned(), reason };
    let Some(root) = config.extra.get(CONFIG_ROOT_FIELD) else { return Ok(None) };
    let root = root.as_str().ok_or_else(|| refuse(format!("`{CONFIG_ROOT_FIELD}` is not a string")))?;
    let key = parse_public_key(root).map_err(|e| refuse(e.to_string()))?;
    let signature = config
        .extra
        .get(CONFIG_SIGNATURE_FIELD)
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| refuse(format!("it names a root key but has no `{CONFIG_SIGNATURE_FIELD}`")))?;
    let signer = verify_armored(CONFIG_NAMESPACE, &config_payload(config), signature)
        .map_err(|(_, reason)| refuse(format!("the root's signature is invalid: {reason}")))?;
    if signer.key_data() != key.key_data() {
        return Err(refuse(format!("signed by {}, not by its root {}", fingerprint(&signer), fingerprint(&key))));
    }
    Ok(Some(RegistryRoot { fingerprint: fingerprint(&key), key }))
}

/// Adds a root key to `config` and signs it.
pub fn sign_config(config: &mut RegistryConfig, signer: &dyn Signer) -> Result<(), SignatureError> {
    config.extra.insert(CONFIG_ROOT_FIELD.to_owned(), public_key_line(signer.public_key()).into());
    let signature = signer.sign(CONFIG_NAMESPACE, &config_payload(config))?;
    config.extra.insert(CONFIG_SIGNATURE_FIELD.to_owned(), signature.into());
    Ok(())
}

/// Verifies an owners list's chain of revisions: the first signed by the root, each later one by
/// a key of the revision before it (or by the root). Returns the current keys.
pub fn verify_owners(
    registry_id: &RegistryId,
    name: &AgentName,
    owners: &Owners,
    root: &RegistryRoot,
) -> Result<Vec<PublicKey>, String> {
    if owners.signed.is_empty() {
        return Err("it names no signing keys".to_owned());
    }
    let mut allowed: Vec<PublicKey> = vec![root.key.clone()];
    let mut previous: Option<Sha256> = None;
    for (number, revision) in owners.signed.iter().enumerate() {
        let payload = owners_payload(registry_id, name, number, previous.as_ref(), &revision.keys, &revision.retained);
        let signer = verify_armored(OWNERS_NAMESPACE, &payload, &revision.signature)
            .map_err(|(by, reason)| format!("revision {number}{}: {reason}", by_fingerprint(&by)))?;
        let trusted =
            signer.key_data() == root.key.key_data() || allowed.iter().any(|key| key.key_data() == signer.key_data());
        if !trusted && number == 0 {
            return Err(format!(
                "revision 0 is signed by {}, which is not the registry root {}",
                fingerprint(&signer),
                root.fingerprint
            ));
        }
        if !trusted {
            return Err(format!(
                "revision {number} is signed by {}, which is neither the registry root nor an owner in revision {}",
                fingerprint(&signer),
                number - 1
            ));
        }
        allowed = revision
            .keys
            .iter()
            .map(|line| parse_public_key(line).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        previous = Some(Sha256::of(&payload));
    }
    Ok(allowed)
}

fn by_fingerprint(fingerprint: &Option<String>) -> String {
    fingerprint.as_ref().map(|f| format!(" (by {f})")).unwrap_or_default()
}

/// Appends a revision naming `keys` (and keeping `retained` valid) to `owners`, signed by
/// `signer`.
pub fn push_owners_revision(
    registry_id: &RegistryId,
    name: &AgentName,
    owners: &mut Owners,
    keys: Vec<String>,
    retained: Vec<Retained>,
    signer: &dyn Signer,
) -> Result<(), SignatureError> {
    let mut previous = None;
    for (number, revision) in owners.signed.iter().enumerate() {
        let payload = owners_payload(registry_id, name, number, previous.as_ref(), &revision.keys, &revision.retained);
        previous = Some(Sha256::of(&payload));
    }
    let payload = owners_payload(registry_id, name, owners.signed.len(), previous.as_ref(), &keys, &retained);
    let signature = signer.sign(OWNERS_NAMESPACE, &payload)?;
    owners.signed.push(OwnersRevision { keys, signature, retained });
    Ok(())
}

/// The fingerprint of the key that validly signed `record` in the registry `registry_id`, if
/// any (for carrying versions over a key's removal).
pub fn record_signer(registry_id: &RegistryId, record: &IndexRecord) -> Option<String> {
    let payload = record_signing_payload(registry_id, record);
    verify_armored(RECORD_NAMESPACE, &payload, record.signature.as_deref()?).ok().map(|key| fingerprint(&key))
}

/// Signs a record for publishing to the registry `registry_id`.
pub fn sign_record(
    registry_id: &RegistryId,
    record: &mut IndexRecord,
    signer: &dyn Signer,
) -> Result<(), SignatureError> {
    let payload = record_signing_payload(registry_id, record);
    record.signature = Some(signer.sign(RECORD_NAMESPACE, &payload)?);
    Ok(())
}

/// The owners list of `name` in a signed registry, verified: its current keys, or `None` when the
/// agent has no owners list yet.
pub fn owner_keys(
    registry: &Registry,
    root: &RegistryRoot,
    name: &AgentName,
) -> Result<Option<(Owners, Vec<PublicKey>)>, SignatureError> {
    let refuse =
        |reason: String| SignatureError::Owners { registry: registry.name.clone(), name: name.clone(), reason };
    let bytes = registry.owners_file(name).map_err(|e| refuse(e.to_string()))?;
    parse_owner_keys(&registry.name, &registry.config.id, root, name, bytes.as_deref())
}

/// [`owner_keys`] over the bytes of an owners list (`None`: there is none).
pub fn parse_owner_keys(
    registry: &str,
    registry_id: &RegistryId,
    root: &RegistryRoot,
    name: &AgentName,
    bytes: Option<&[u8]>,
) -> Result<Option<(Owners, Vec<PublicKey>)>, SignatureError> {
    let refuse = |reason: String| SignatureError::Owners { registry: registry.to_owned(), name: name.clone(), reason };
    let Some(bytes) = bytes else { return Ok(None) };
    let owners = Owners::parse(&String::from_utf8_lossy(bytes)).map_err(refuse)?;
    let keys = verify_owners(registry_id, name, &owners, root).map_err(refuse)?;
    Ok(Some((owners, keys)))
}

/// The check every client makes before it accepts a version: in a registry with a root key, the
/// record must carry a valid signature over its registry id, name, version and checksum, by a
/// key of the agent's owners list, whose chain of revisions leads back to the root.
pub fn verify_version(registry: &Registry, record: &IndexRecord) -> Result<Verdict, SignatureError> {
    let Some(root) = registry.root()? else { return Ok(Verdict::Unsigned) };
    let owners = registry.owners_file(&record.name).map_err(|e| SignatureError::Owners {
        registry: registry.name.clone(),
        name: record.name.clone(),
        reason: e.to_string(),
    })?;
    verify_record(&registry.name, &registry.config.id, root, owners.as_deref(), record)
}

/// [`verify_version`] over the parts of a registry: its root, the agent's owners list (bytes) and
/// the record. `agents registry check` calls it on a repository's tree.
pub fn verify_record(
    registry: &str,
    registry_id: &RegistryId,
    root: &RegistryRoot,
    owners: Option<&[u8]>,
    record: &IndexRecord,
) -> Result<Verdict, SignatureError> {
    let agent = format!("{}@{}", record.name, record.version);
    let Some(signature) = &record.signature else {
        return Err(SignatureError::Missing { registry: registry.to_owned(), agent });
    };
    let payload = record_signing_payload(registry_id, record);
    let signer = verify_armored(RECORD_NAMESPACE, &payload, signature).map_err(|(fingerprint, reason)| {
        SignatureError::Invalid { registry: registry.to_owned(), agent: agent.clone(), fingerprint, reason }
    })?;
    let Some((owners, keys)) = parse_owner_keys(registry, registry_id, root, &record.name, owners)? else {
        return Err(SignatureError::NoOwners { registry: registry.to_owned(), agent, name: record.name.clone() });
    };
    let signer_fingerprint = fingerprint(&signer);
    let retained = owners.current_retained().iter().any(|kept| {
        kept.version == record.version && kept.sha256 == record.sha256 && kept.signer == signer_fingerprint
    });
    if !retained && !keys.iter().any(|key| key.key_data() == signer.key_data()) {
        return Err(SignatureError::NotOwner {
            registry: registry.to_owned(),
            agent,
            name: record.name.clone(),
            fingerprint: signer_fingerprint,
        });
    }
    Ok(Verdict::Signed { signer: signer_fingerprint, root: root.fingerprint.clone() })
}

/// Sets `record`'s yank state to `yanked` with a statement signed by `signer` (an owner or the
/// root), numbered one past the record's last statement.
pub fn sign_yank(
    registry_id: &RegistryId,
    record: &mut IndexRecord,
    yanked: bool,
    signer: &dyn Signer,
) -> Result<(), SignatureError> {
    let change = record.yank.as_ref().map_or(0, |statement| statement.change) + 1;
    let payload = yank_payload(registry_id, &record.name, &record.version, &record.sha256, yanked, change);
    let signature = signer.sign(YANK_NAMESPACE, &payload)?;
    record.yanked = yanked;
    record.yank = Some(YankStatement { change, signature });
    Ok(())
}

/// The yank state of `record` as its signed statement gives it, by `keys` (the agent's owner
/// keys and the root): `Ok(Some(state))` for a valid statement (whatever the plain `yanked`
/// flag says), `Ok(None)` without a statement, `Err` naming why a statement is not valid.
pub fn verified_yank(
    registry_id: &RegistryId,
    keys: &[PublicKey],
    record: &IndexRecord,
) -> Result<Option<bool>, String> {
    let Some(statement) = &record.yank else { return Ok(None) };
    // The flag is not trusted to pick the state: a statement is valid for one state only, and a
    // flag flipped by someone without a key must not turn a signed yank into an unyank.
    let mut last = String::new();
    for state in [record.yanked, !record.yanked] {
        let payload = yank_payload(registry_id, &record.name, &record.version, &record.sha256, state, statement.change);
        match verify_armored(YANK_NAMESPACE, &payload, &statement.signature) {
            Ok(signer) if keys.iter().any(|key| key.key_data() == signer.key_data()) => return Ok(Some(state)),
            Ok(signer) => last = format!("signed by {}, which is neither an owner nor the root", fingerprint(&signer)),
            Err((_, reason)) if last.is_empty() => last = reason,
            Err(_) => {}
        }
    }
    Err(last)
}

/// Replaces each record's `yanked` by what its signed yank statement says, in a registry with
/// root `root` where `owners` are the agent's verified owner keys: a yank or unyank counts only
/// when an owner or the root signed it. A flag without a valid statement is not a yank (logged
/// as a warning naming the version).
pub fn apply_signed_yanks(
    registry: &str,
    registry_id: &RegistryId,
    root: &RegistryRoot,
    owners: &[PublicKey],
    records: &mut [&mut IndexRecord],
) {
    let mut keys = owners.to_vec();
    keys.push(root.key.clone());
    for record in records.iter_mut() {
        if !record.yanked && record.yank.is_none() {
            continue;
        }
        let agent = format!("{}@{}", record.name, record.version);
        match verified_yank(registry_id, &keys, record) {
            Ok(Some(state)) => {
                if state != record.yanked {
                    warn_once(format!(
                        "{agent} in registry `{registry}`: its yanked flag differs from its owner's signed statement; the statement counts"
                    ));
                }
                record.yanked = state;
            }
            Ok(None) => {
                warn_once(format!(
                    "{agent} in registry `{registry}` is marked yanked without an owner's signature; not taken as yanked"
                ));
                record.yanked = false;
            }
            Err(reason) => {
                warn_once(format!(
                    "{agent} in registry `{registry}`: its yank statement is refused ({reason}); not taken as yanked"
                ));
                record.yanked = false;
            }
        }
    }
}

/// Logs `message` as a warning the first time this process meets it: an index file is read
/// several times in one command, and for as long as the daemon runs.
fn warn_once(message: String) {
    static SEEN: std::sync::Mutex<std::collections::BTreeSet<String>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    let first = SEEN.lock().map(|mut seen| seen.insert(message.clone())).unwrap_or(true);
    if first {
        tracing::warn!("{message}");
    }
}

/// A root rotation kept in `config.json` (`root-rotations`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rotation {
    pub from: String,
    pub to: String,
    pub signature: String,
}

/// The rotations `config` lists, oldest first (empty when it lists none or they do not parse).
fn rotations(config: &RegistryConfig) -> Vec<Rotation> {
    config
        .extra
        .get(CONFIG_ROTATIONS_FIELD)
        .and_then(|value| serde_json::from_value(value.clone()).ok())
        .unwrap_or_default()
}

/// Whether the registry's current root `root` was handed over, through a chain of rotations each
/// signed by the root it replaced, from the root with fingerprint `former`: a client that
/// trusted `former` may then trust `root`. Every link from `former` on must verify.
pub fn rotated_from(config: &RegistryConfig, root: &RegistryRoot, former: &str) -> bool {
    let chain = rotations(config);
    let Some(start) =
        chain.iter().position(|rotation| parse_public_key(&rotation.from).is_ok_and(|key| fingerprint(&key) == former))
    else {
        return false;
    };
    let links = &chain[start..];
    let connected = links.windows(2).all(|pair| same_key(&pair[0].to, &pair[1].from));
    let ends_at_root = links
        .last()
        .is_some_and(|last| parse_public_key(&last.to).is_ok_and(|key| key.key_data() == root.key.key_data()));
    connected
        && ends_at_root
        && links.iter().all(|rotation| {
            let payload = rotation_payload(&config.id, &rotation.from, &rotation.to);
            match (parse_public_key(&rotation.from), verify_armored(ROTATE_NAMESPACE, &payload, &rotation.signature)) {
                (Ok(from), Ok(signer)) => from.key_data() == signer.key_data(),
                _ => false,
            }
        })
}

/// Hands `config` from its current root (`old`, which signs the rotation) to `new` (which signs
/// the new config): the rotation is appended to `root-rotations`.
pub fn rotate_config(config: &mut RegistryConfig, old: &dyn Signer, new: &dyn Signer) -> Result<(), SignatureError> {
    let (from, to) = (public_key_line(old.public_key()), public_key_line(new.public_key()));
    let signature = old.sign(ROTATE_NAMESPACE, &rotation_payload(&config.id, &from, &to))?;
    let mut chain = rotations(config);
    chain.push(Rotation { from, to, signature });
    config
        .extra
        .insert(CONFIG_ROTATIONS_FIELD.to_owned(), serde_json::to_value(chain).expect("rotations serialise to JSON"));
    config.extra.remove(CONFIG_SIGNATURE_FIELD);
    sign_config(config, new)
}

/// Whether two key lines name the same key (comments aside).
pub fn same_key(a: &str, b: &str) -> bool {
    key_without_comment(a) == key_without_comment(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A throwaway key made for this test with `ssh-keygen -t ed25519 -N ''`.
    const KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACAbQkf9jG4hEf0GXuyqUJzlQwyQxNf9ytxjsUJpIiLs/QAAAJjjhvSg44b0
oAAAAAtzc2gtZWQyNTUxOQAAACAbQkf9jG4hEf0GXuyqUJzlQwyQxNf9ytxjsUJpIiLs/Q
AAAECBbI82HqIIDoNoWvuJZ51o8+ROZAm827gHeS3tZYWf2BtCR/2MbiER/QZe7KpQnOVD
DJDE1/3K3GOxQmkiIuz9AAAAEHRlc3RAYWdlbnRzLnRlc3QBAgMEBQ==
-----END OPENSSH PRIVATE KEY-----
";

    #[test]
    fn a_signed_config_names_its_root_and_a_changed_one_is_refused() {
        let signer = KeySigner::from_openssh(KEY.as_bytes(), "test").unwrap();
        let mut config = RegistryConfig::new(RegistryId::new("r-1").unwrap(), None);
        assert!(registry_root(&config, "team").unwrap().is_none());
        sign_config(&mut config, &signer).unwrap();
        let root = registry_root(&config, "team").unwrap().unwrap();
        assert_eq!(root.fingerprint, fingerprint(signer.public_key()));
        config.description = Some("changed".into());
        let error = registry_root(&config, "team").unwrap_err().to_string();
        assert!(error.contains("the root's signature is invalid"), "{error}");
    }

    #[test]
    fn owners_chains_start_at_the_root() {
        let signer = KeySigner::from_openssh(KEY.as_bytes(), "test").unwrap();
        let id = RegistryId::new("r-1").unwrap();
        let name = AgentName::new("reviewer").unwrap();
        let root = RegistryRoot { key: signer.public_key().clone(), fingerprint: fingerprint(signer.public_key()) };
        let mut owners = Owners { schema: 1, owners: Vec::new(), signed: Vec::new(), extra: Default::default() };
        let line = public_key_line(signer.public_key());
        push_owners_revision(&id, &name, &mut owners, vec![line.clone()], Vec::new(), &signer).unwrap();
        push_owners_revision(&id, &name, &mut owners, vec![line.clone()], Vec::new(), &signer).unwrap();
        assert_eq!(verify_owners(&id, &name, &owners, &root).unwrap().len(), 1);
        // Dropping the first revision breaks the chain: the second names a previous payload.
        let mut dropped = owners.clone();
        dropped.signed.remove(0);
        assert!(verify_owners(&id, &name, &dropped, &root).is_err());
        // Another agent's list is not this one's.
        assert!(verify_owners(&id, &AgentName::new("other").unwrap(), &owners, &root).is_err());
    }
}
