//! The registry root's two whole-registry operations: `agents registry sign` turns an unsigned
//! registry into a signed one, and `agents registry rotate-root` hands a signed registry to a new
//! root key. Each is one commit, pushed like a publish (on the fetched tip, without force,
//! re-applied when another writer won the race); no body and no checksum changes, so lockfiles
//! stay as they are.

use agents_format::{AgentName, IndexFile, IndexLine, OWNERS_SCHEMA, Owners, Retained, owners_payload};
use ssh_key::PublicKey;

use crate::cache::Cache;
use crate::error::{RegistryError, Result};
use crate::publish::transact;
use crate::registry::Registry;
use crate::signing::{self, RegistryRoot, SignatureError, Signer};

/// What `agents registry sign` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedRegistry {
    /// The registry was already signed by this root: nothing was written.
    AlreadySigned,
    /// The root now signs `config.json`; it signed this many versions (and yanks) of this many
    /// agents, each of which got an owners list; `unreadable` records (a newer schema, or lines
    /// that do not parse) were left as they were.
    Signed { agents: usize, versions: usize, yanks: usize, unreadable: usize },
}

/// Makes the unsigned registry at `url` a signed one with root `root`. Every version published
/// so far is signed by the root, which thereby vouches for the bytes the registry holds today
/// (not for who wrote them); every yanked version gets a root-signed yank; every agent gets an
/// owners list whose first revision names `owners` (OpenSSH key lines; the root's own key when
/// empty) and, when the root is not among them, retains the versions the root signed.
pub fn sign_registry(
    cache: &Cache,
    registry_name: &str,
    url: &str,
    root: &dyn Signer,
    owners: &[String],
) -> Result<SignedRegistry> {
    let root_line = signing::public_key_line(root.public_key());
    let owner_lines: Vec<String> = if owners.is_empty() {
        vec![root_line.clone()]
    } else {
        owners
            .iter()
            .map(|line| signing::parse_public_key(line).map(|key| signing::public_key_line(&key)))
            .collect::<std::result::Result<_, _>>()?
    };
    let root_is_owner = owner_lines.iter().any(|line| signing::same_key(line, &root_line));
    let mut outcome = SignedRegistry::AlreadySigned;
    let message = "Sign the registry: the root signs config.json, every published version and yank";
    transact(cache, registry_name, url, message, |registry| {
        outcome = SignedRegistry::AlreadySigned;
        if let Some(current) = signing::registry_root(&registry.config, registry_name)? {
            if current.key.key_data() == root.public_key().key_data() {
                return Ok(Vec::new());
            }
            return Err(refuse(
                registry_name,
                "sign it",
                format!(
                    "it is already signed by root {}; `agents registry rotate-root` hands it to another key",
                    current.fingerprint
                ),
            ));
        }
        let mut config = registry.config.clone();
        signing::sign_config(&mut config, root)?;
        let root_fingerprint = signing::fingerprint(root.public_key());
        let (mut files, mut agents, mut versions, mut yanks, mut unreadable) = (Vec::new(), 0, 0, 0, 0);
        for (name, mut index) in registry.all()? {
            let mut retained = Vec::new();
            for line in &mut index.lines {
                let IndexLine::Record(record) = line else { continue };
                signing::sign_record(&config.id, record, root)?;
                if record.yanked {
                    record.yank = None;
                    signing::sign_yank(&config.id, record, true, root)?;
                    yanks += 1;
                }
                retained.push(Retained {
                    version: record.version.clone(),
                    sha256: record.sha256,
                    signer: root_fingerprint.clone(),
                });
                versions += 1;
            }
            unreadable += index.lines.iter().filter(|line| matches!(line, IndexLine::Unknown(_))).count();
            let mut list = existing_owners(registry, &name)?;
            list.signed.clear();
            let retained = if root_is_owner { Vec::new() } else { retained };
            signing::push_owners_revision(&config.id, &name, &mut list, owner_lines.clone(), retained, root)?;
            files.push((registry.layout().index_path(&name), index.to_text().into_bytes()));
            files.push((registry.layout().owners_path(&name), list.to_text().into_bytes()));
            agents += 1;
        }
        files.push(("config.json".to_owned(), config.to_text().into_bytes()));
        outcome = SignedRegistry::Signed { agents, versions, yanks, unreadable };
        Ok(files)
    })?;
    Ok(outcome)
}

/// What `agents registry rotate-root` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotatedRoot {
    /// The registry's root already is the new key.
    AlreadyRoot,
    /// The root changed; this many owners revisions and yank statements the old root had signed
    /// were signed again by the new one, and this many owners lists that named the old root as
    /// an owner name the new one instead.
    Rotated { resigned: usize, owner_lists: usize },
}

/// Hands the signed registry at `url` from its root (`old`, which signs the handover, so clients
/// that trusted it follow) to `new`. Everything the old root signed in owners lists and yank
/// statements is signed again by the new root (the payloads do not change, so no chain breaks),
/// and where the old root was an owner the new root takes its place, retaining the versions the
/// old key signed. Afterwards the old key counts for nothing in the registry.
pub fn rotate_root(
    cache: &Cache,
    registry_name: &str,
    url: &str,
    old: &dyn Signer,
    new: &dyn Signer,
) -> Result<RotatedRoot> {
    let mut outcome = RotatedRoot::AlreadyRoot;
    transact(cache, registry_name, url, "Rotate the registry root", |registry| {
        outcome = RotatedRoot::AlreadyRoot;
        let Some(current) = signing::registry_root(&registry.config, registry_name)? else {
            return Err(refuse(
                registry_name,
                "rotate its root",
                "it is not signed; `agents registry sign` gives it a root".to_owned(),
            ));
        };
        if current.key.key_data() == new.public_key().key_data() {
            return Ok(Vec::new());
        }
        if current.key.key_data() != old.public_key().key_data() {
            return Err(refuse(
                registry_name,
                "rotate its root",
                format!(
                    "the signing key {} is not its root ({}); the current root signs the handover",
                    signing::fingerprint(old.public_key()),
                    current.fingerprint
                ),
            ));
        }
        let mut config = registry.config.clone();
        signing::rotate_config(&mut config, old, new)?;
        let (mut files, mut resigned, mut owner_lists) = (Vec::new(), 0, 0);
        for (name, mut index) in registry.all()? {
            let old_signed_yanks = resign_yanks(&config.id, &mut index, &current, new)?;
            if old_signed_yanks > 0 {
                resigned += old_signed_yanks;
                files.push((registry.layout().index_path(&name), index.to_text().into_bytes()));
            }
            let Some((mut list, _)) = signing::owner_keys(registry, &current, &name)? else { continue };
            let (count, replaced) = resign_owners(&config.id, &name, &index, &mut list, &current, new)?;
            resigned += count;
            owner_lists += usize::from(replaced);
            if count > 0 || replaced {
                files.push((registry.layout().owners_path(&name), list.to_text().into_bytes()));
            }
        }
        files.push(("config.json".to_owned(), config.to_text().into_bytes()));
        outcome = RotatedRoot::Rotated { resigned, owner_lists };
        Ok(files)
    })?;
    Ok(outcome)
}

/// Signs again with `new` every yank statement of `index` that `old` made; returns how many.
fn resign_yanks(
    registry_id: &agents_format::RegistryId,
    index: &mut IndexFile,
    old: &RegistryRoot,
    new: &dyn Signer,
) -> Result<usize> {
    let mut count = 0;
    for line in &mut index.lines {
        let IndexLine::Record(record) = line else { continue };
        let Ok(Some(state)) = signing::verified_yank(registry_id, std::slice::from_ref(&old.key), record) else {
            continue;
        };
        let change = record.yank.as_ref().map_or(1, |statement| statement.change);
        let payload =
            agents_format::yank_payload(registry_id, &record.name, &record.version, &record.sha256, state, change);
        let signature = new.sign(agents_format::YANK_NAMESPACE, &payload)?;
        record.yanked = state;
        record.yank = Some(agents_format::YankStatement { change, signature });
        count += 1;
    }
    Ok(count)
}

/// Signs again with `new` every revision of `list` that `old` signed, then, when `old` is one of
/// the current owner keys, appends a revision naming `new` in its place that retains what `old`
/// signed. Returns how many revisions were signed again and whether a key was replaced.
fn resign_owners(
    registry_id: &agents_format::RegistryId,
    name: &AgentName,
    index: &IndexFile,
    list: &mut Owners,
    old: &RegistryRoot,
    new: &dyn Signer,
) -> Result<(usize, bool)> {
    let mut previous = None;
    let mut count = 0;
    for (number, revision) in list.signed.iter_mut().enumerate() {
        let payload = owners_payload(registry_id, name, number, previous.as_ref(), &revision.keys, &revision.retained);
        let signer = signer_of(agents_format::OWNERS_NAMESPACE, &payload, &revision.signature);
        if signer.is_some_and(|key| key.key_data() == old.key.key_data()) {
            revision.signature = new.sign(agents_format::OWNERS_NAMESPACE, &payload)?;
            count += 1;
        }
        previous = Some(agents_format::Sha256::of(&payload));
    }
    let old_line = signing::public_key_line(&old.key);
    if !list.current_keys().iter().any(|line| signing::same_key(line, &old_line)) {
        return Ok((count, false));
    }
    let mut keys: Vec<String> =
        list.current_keys().iter().filter(|line| !signing::same_key(line, &old_line)).cloned().collect();
    keys.push(signing::public_key_line(new.public_key()));
    let mut retained = list.current_retained().to_vec();
    for record in index.records() {
        if signing::record_signer(registry_id, record).as_deref() == Some(old.fingerprint.as_str()) {
            retained.push(Retained {
                version: record.version.clone(),
                sha256: record.sha256,
                signer: old.fingerprint.clone(),
            });
        }
    }
    retained.sort();
    retained.dedup();
    signing::push_owners_revision(registry_id, name, list, keys, retained, new)?;
    Ok((count, true))
}

/// The key that made `signature` over `payload`, when it is valid.
fn signer_of(namespace: &str, payload: &[u8], signature: &str) -> Option<PublicKey> {
    let signature = ssh_key::SshSig::from_pem(signature.as_bytes()).ok()?;
    let key = PublicKey::from(signature.public_key().clone());
    (signature.namespace() == namespace && key.verify(namespace, payload, &signature).is_ok()).then_some(key)
}

/// The agent's owners list as the registry has it (its e-mail owners kept), or a new one.
fn existing_owners(registry: &Registry, name: &AgentName) -> Result<Owners> {
    let empty = || Owners { schema: OWNERS_SCHEMA, owners: Vec::new(), signed: Vec::new(), extra: Default::default() };
    let Some(bytes) = registry.owners_file(name)? else { return Ok(empty()) };
    Ok(Owners::parse(&String::from_utf8_lossy(&bytes)).unwrap_or_else(|_| empty()))
}

fn refuse(registry: &str, action: &str, reason: String) -> RegistryError {
    SignatureError::Refused { registry: registry.to_owned(), action: format!("cannot {action}"), reason }.into()
}
