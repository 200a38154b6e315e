//! The user's side of signed registries: which root each registry was trusted with (first use,
//! or `--trust`), the `require-signatures` policy, and the one acceptance check install makes
//! on every resolved version ([`accept`]).
//!
//! Trust is kept per registry id in `<state>/trust.json` (format version 1): the id is what a
//! lockfile names, and it survives a registry moving to another URL.

use std::collections::BTreeMap;

use agents_format::{AgentName, IndexRecord, LockedAgent};
use agents_registry::signing::{self, SignatureError, Verdict};
use agents_registry::{BUILTIN_NAME, Registry, RegistryError};

use crate::error::{Result, WorkspaceError};
use crate::registries::Registries;
use crate::workspace::Workspace;

/// The trust store's format version.
pub const TRUST_VERSION: u32 = 1;
const TRUST_FILE: &str = "trust.json";
const MAX_TRUST_LEN: u64 = 1024 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrustStore {
    pub version: u32,
    /// Registry id → the fingerprint of the root key trusted for it.
    #[serde(default)]
    pub roots: BTreeMap<String, String>,
    /// Ids of unsigned registries the user has been told about (the notice is given once).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsigned_noticed: Vec<String>,
}

impl TrustStore {
    pub fn read(workspace: &Workspace) -> Result<TrustStore> {
        let path = workspace.dirs.state.join(TRUST_FILE);
        let Some(bytes) = crate::fs::read_optional(&path, MAX_TRUST_LEN)? else {
            return Ok(TrustStore { version: TRUST_VERSION, ..TrustStore::default() });
        };
        let store: TrustStore = serde_json::from_slice(&bytes)
            .map_err(|e| WorkspaceError::Invalid { path: path.clone(), message: e.to_string() })?;
        if store.version != TRUST_VERSION {
            return Err(WorkspaceError::Invalid {
                path,
                message: format!("trust store version {} is not understood (upgrade agents)", store.version),
            });
        }
        Ok(store)
    }

    pub fn write(&self, workspace: &Workspace) -> Result<()> {
        let mut text = serde_json::to_string_pretty(self).expect("a trust store serialises");
        text.push('\n');
        crate::fs::write_atomic(&workspace.dirs.state.join(TRUST_FILE), text.as_bytes())
    }
}

/// This user's trust as one command sees it: the store, read on first use and written back when
/// a check adds to it, and the `require-signatures` policy. Kept by [`Registries`] for the run,
/// so checking the versions of an install reads neither file once per version.
#[derive(Debug)]
pub struct Trust {
    store: Option<TrustStore>,
    /// Whether the user's `config.toml` or the workspace's `agents.toml` sets
    /// `[security] require-signatures = true`.
    require_signatures: bool,
}

impl Trust {
    pub(crate) fn new(require_signatures: bool) -> Trust {
        Trust { store: None, require_signatures }
    }

    fn store(&mut self, workspace: &Workspace) -> Result<&mut TrustStore> {
        if self.store.is_none() {
            self.store = Some(TrustStore::read(workspace)?);
        }
        Ok(self.store.as_mut().expect("just read"))
    }
}

/// What [`accept`] found about one version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accepted {
    /// The signer's fingerprint, for the lockfile.
    pub signer: Option<String>,
    /// Said once per command for a registry that does not sign.
    pub notice: Option<String>,
    /// The registry's root key fingerprint, when it signs: for the lockfile's `[roots]`.
    pub root: Option<String>,
}

/// The check before a resolved version is accepted: its signature verifies under the registry's
/// root (see `agents_registry::signing::verify_version`), the root is the one this user trusted
/// for the registry (recorded on first use), a signer pinned in `agents.lock` for this version
/// is unchanged, and an unsigned registry is allowed only without `require-signatures`.
pub fn accept(
    workspace: &Workspace,
    registries: &mut Registries,
    registry_name: &str,
    record: &IndexRecord,
    (locked, pinned_root): (Option<&LockedAgent>, Option<&str>),
) -> Result<Accepted> {
    let (registry, trust) = registries.open_trusted(registry_name)?;
    check(workspace, trust, registry, record, (locked, pinned_root), true)
}

/// [`accept`] for what the user does not watch (`sync`, the daemon): the same checks, and the
/// unsigned-registry notice is left for a command that shows it.
pub fn accept_quietly(
    workspace: &Workspace,
    registries: &mut Registries,
    registry_name: &str,
    record: &IndexRecord,
    (locked, pinned_root): (Option<&LockedAgent>, Option<&str>),
) -> Result<Accepted> {
    let (registry, trust) = registries.open_trusted(registry_name)?;
    check(workspace, trust, registry, record, (locked, pinned_root), false)
}

/// `pinned_root` is the root `agents.lock` pins for the registry (`[roots]`): trust that travels
/// with the project, so a machine that never used the registry (a new teammate, CI) refuses a
/// different root instead of trusting whatever it sees first.
fn check(
    workspace: &Workspace,
    trust: &mut Trust,
    registry: &Registry,
    record: &IndexRecord,
    (locked, pinned_root): (Option<&LockedAgent>, Option<&str>),
    notify: bool,
) -> Result<Accepted> {
    let agent = format!("{}@{}", record.name, record.version);
    // The built-in registry is part of the binary the user already trusts.
    if registry.name == BUILTIN_NAME {
        return Ok(Accepted::default());
    }
    let refuse = |error: SignatureError| WorkspaceError::Registry(RegistryError::Signature(error));
    let require_signatures = trust.require_signatures;
    let store = trust.store(workspace)?;
    let id = registry.config.id.as_str();
    let trusted = store.roots.get(id).cloned();
    let root = registry.root().map_err(refuse)?;
    // The project's pin is checked as this user's trust is; either one that differs refuses.
    let pinned = match (pinned_root, root) {
        (Some(project), Some(root)) if project != root.fingerprint => Some(project.to_owned()),
        (Some(project), None) => Some(project.to_owned()),
        _ => trusted.clone(),
    };
    // The root first: a registry whose root changed is refused whatever else it holds, unless
    // the root it replaced handed it over (a signed rotation, followed like a key's rotation).
    let mut rotated = None;
    match (root, &pinned) {
        (Some(root), Some(pinned))
            if root.fingerprint != *pinned && signing::rotated_from(&registry.config, root, pinned) =>
        {
            rotated = Some(format!(
                "registry `{}` handed its root from {pinned} to {} (signed by {pinned}); trusting the new root",
                registry.name, root.fingerprint
            ));
            if trusted.as_deref() == Some(pinned.as_str()) || trusted.is_none() {
                store.roots.insert(id.to_owned(), root.fingerprint.clone());
                store.write(workspace)?;
            }
        }
        (Some(root), Some(pinned)) if root.fingerprint != *pinned => {
            return Err(refuse(SignatureError::RootChanged {
                registry: registry.name.clone(),
                id: id.to_owned(),
                pinned: pinned.clone(),
                found: root.fingerprint.clone(),
            }));
        }
        (None, Some(pinned)) => {
            return Err(refuse(SignatureError::RootRemoved {
                registry: registry.name.clone(),
                id: id.to_owned(),
                pinned: pinned.clone(),
            }));
        }
        _ => {}
    }
    let verdict = agents_registry::verify_version(registry, record).map_err(refuse)?;
    match verdict {
        Verdict::Unsigned => {
            if require_signatures {
                return Err(refuse(SignatureError::Required { registry: registry.name.clone(), agent }));
            }
            // Said on first use of each unsigned registry, not on every command.
            if !notify || store.unsigned_noticed.iter().any(|noticed| noticed == id) {
                return Ok(Accepted::default());
            }
            store.unsigned_noticed.push(id.to_owned());
            store.write(workspace)?;
            Ok(Accepted {
                signer: None,
                root: None,
                notice: Some(format!(
                    "registry `{}` does not sign its publishes, so who published its agents is not checked \
                     ([security] require-signatures = true refuses such registries)",
                    registry.name
                )),
            })
        }
        Verdict::Signed { signer, root } => {
            if trusted.is_none() && rotated.is_none() {
                tracing::debug!(registry = %registry.name, %root, "trusting a registry root on first use");
                store.roots.insert(id.to_owned(), root.clone());
                store.write(workspace)?;
            }
            if let Some(pinned) = locked.filter(|l| l.version == record.version).and_then(|l| l.signer.as_ref())
                && *pinned != signer
            {
                return Err(refuse(SignatureError::SignerChanged {
                    registry: registry.name.clone(),
                    agent,
                    pinned: pinned.clone(),
                    found: signer,
                }));
            }
            Ok(Accepted { signer: Some(signer), notice: rotated.filter(|_| notify), root: Some(root) })
        }
    }
}

/// Records `expected` as the trusted root of `registry`, after checking that the registry's
/// signed `config.json` names exactly that root (`agents registry add --trust`).
pub fn trust_root(workspace: &Workspace, registry: &Registry, expected: &str) -> Result<String> {
    let refuse = |error: SignatureError| WorkspaceError::Registry(RegistryError::Signature(error));
    let root = signing::registry_root(&registry.config, &registry.name).map_err(refuse)?;
    let Some(root) = root else {
        return Err(refuse(SignatureError::Config {
            registry: registry.name.clone(),
            reason: format!("it names no root key, so it cannot be trusted as {expected}"),
        }));
    };
    if root.fingerprint != expected {
        return Err(refuse(SignatureError::Config {
            registry: registry.name.clone(),
            reason: format!("its root key is {}, not {expected}", root.fingerprint),
        }));
    }
    let mut store = TrustStore::read(workspace)?;
    store.roots.insert(registry.config.id.as_str().to_owned(), root.fingerprint.clone());
    store.write(workspace)?;
    Ok(root.fingerprint)
}

/// Re-checks a locked agent's signature against the registry (`agents verify`): `None` when it
/// holds, else what is wrong.
pub fn recheck(
    workspace: &Workspace,
    registries: &mut Registries,
    registry_name: &str,
    locked: &LockedAgent,
) -> Result<Option<String>> {
    let registry = registries.open(registry_name)?;
    let Some(index) = registry.index_file(&locked.name)? else {
        return Ok(Some(format!("{}@{}: registry `{}` no longer has it", locked.name, locked.version, registry.name)));
    };
    let Some(record) = index.find(&locked.version) else {
        return Ok(Some(format!("{}@{}: registry `{}` no longer has it", locked.name, locked.version, registry.name)));
    };
    match accept_quietly(workspace, registries, registry_name, record, (Some(locked), None)) {
        Ok(accepted) if locked.signer.is_some() && accepted.signer.is_none() => Ok(Some(format!(
            "{}@{}: agents.lock pins a signer, but the registry is unsigned",
            locked.name, locked.version
        ))),
        Ok(_) => Ok(None),
        Err(WorkspaceError::Registry(RegistryError::Signature(error))) => Ok(Some(error.to_string())),
        Err(error) => Err(error),
    }
}

/// The names whose locked signer [`recheck`] should look at.
pub fn signed_pins(lockfile: &agents_format::Lockfile) -> Vec<AgentName> {
    lockfile.agents().iter().filter(|a| a.signer.is_some()).map(|a| a.name.clone()).collect()
}
