//! `agents owner add|remove|list NAME`, and where signing keys come from for every command that
//! signs (`publish`, `owner`, `registry init`): `--sign-key PATH`, else git's `user.signingkey`
//! when `gpg.format = ssh`, as `git commit -S` would use it.
//!
//! A private key file without a passphrase is used in process; a public key (a `.pub` file or
//! git's `key::ssh-ed25519 …` form) or a key with a passphrase is handed to `ssh-keygen -Y sign`,
//! which asks ssh-agent (or the terminal) for it, exactly as git signs commits.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use agents_format::AgentName;
use agents_registry::signing::{self, SignatureError, Signer, public_key_line};
use agents_registry::{FetchMode, KeySigner, OwnersChange};
use anyhow::{Context as _, bail};
use ssh_key::PublicKey;

use crate::cli::OwnerCommand;
use crate::commands::publish::writable_registry;
use crate::context::Context;
use crate::printer::Printer;

/// One signed change to `name`'s owners list, in the registry `agents publish` would write to.
fn change(
    context: &Context,
    printer: &Printer,
    name: &str,
    registry: Option<&str>,
    sign_key: Option<&Path>,
    change: &OwnersChange,
) -> anyhow::Result<i32> {
    let name = AgentName::new(name)?;
    let entry = writable_registry(context, registry)?;
    let signer = signer(context, sign_key)?
        .context("changing owners needs a signing key: --sign-key PATH, or git's user.signingkey")?;
    let keys =
        agents_registry::change_owners(&context.cache()?, &entry.name, &entry.url, &name, change, signer.as_ref())?;
    printer.status("Owners", format!("`{name}` in registry `{}`: {} key(s)", entry.name, keys.len()));
    Ok(0)
}

pub(crate) fn run(context: &Context, printer: &Printer, command: OwnerCommand) -> anyhow::Result<i32> {
    match command {
        OwnerCommand::Add { name, key, registry, sign_key } => {
            let line = read_public_key_argument(&key)?;
            change(context, printer, &name, registry.as_deref(), sign_key.as_deref(), &OwnersChange::Add(line))
        }
        OwnerCommand::Remove { name, key, registry, sign_key, revoke } => {
            let which = if key.starts_with("SHA256:") { key } else { read_public_key_argument(&key)? };
            let change_ = OwnersChange::Remove { key: which, revoke };
            change(context, printer, &name, registry.as_deref(), sign_key.as_deref(), &change_)
        }
        OwnerCommand::List { name, registry, json } => {
            let name = AgentName::new(&name)?;
            let workspace = context.workspace();
            let mut registries = context.registries(&workspace, FetchMode::IfMissing)?;
            let registry_name = match registry {
                Some(registry) => registry,
                None => registries.locate(&name)?.0,
            };
            let registry = registries.open(&registry_name)?;
            let root = signing::registry_root(&registry.config, &registry.name)?
                .with_context(|| format!("registry `{registry_name}` does not sign: it has no owners keys"))?;
            let (owners, keys) = signing::owner_keys(registry, &root, &name)?
                .with_context(|| format!("`{name}` has no owners list in registry `{registry_name}`"))?;
            let listed: Vec<serde_json::Value> = keys
                .iter()
                .map(|key| serde_json::json!({ "fingerprint": signing::fingerprint(key), "key": public_key_line(key) }))
                .collect();
            if json {
                printer.json(&serde_json::json!({
                    "name": name, "registry": registry_name, "root": root.fingerprint,
                    "revisions": owners.signed.len(), "keys": listed,
                }));
            } else {
                for key in &keys {
                    printer.line(format!("{} {}", signing::fingerprint(key), public_key_line(key)));
                }
            }
            Ok(0)
        }
    }
}

/// A public key given on the command line: an OpenSSH line, or a file holding one.
pub(crate) fn read_public_key_argument(key: &str) -> anyhow::Result<String> {
    let text = if key.starts_with("ssh-") {
        key.to_owned()
    } else {
        std::fs::read_to_string(key).with_context(|| format!("cannot read public key {key}"))?
    };
    Ok(public_key_line(&signing::parse_public_key(&text)?))
}

/// The signing key to use: `--sign-key PATH`, else git's `user.signingkey` when `gpg.format` is
/// `ssh`, else none.
pub(crate) fn signer(context: &Context, sign_key: Option<&Path>) -> anyhow::Result<Option<Box<dyn Signer>>> {
    if let Some(path) = sign_key {
        return Ok(Some(signer_from_path(&absolute(context, path))?));
    }
    let format = git_config(context, "gpg.format")?;
    if format.as_deref() != Some("ssh") {
        return Ok(None);
    }
    let Some(key) = git_config(context, "user.signingkey")? else { return Ok(None) };
    // git accepts the key itself, as `key::ssh-ed25519 AAAA…` or (older) bare.
    if let Some(literal) = key.strip_prefix("key::").or_else(|| key.starts_with("ssh-").then_some(key.as_str())) {
        let public = signing::parse_public_key(literal)?;
        return Ok(Some(Box::new(KeygenSigner::new(public, None)?)));
    }
    let path = match key.strip_prefix("~/") {
        Some(rest) => context.dirs.home.join(rest),
        None => absolute(context, Path::new(&key)),
    };
    Ok(Some(signer_from_path(&path)?))
}

fn absolute(context: &Context, path: &Path) -> PathBuf {
    if path.is_absolute() { path.to_owned() } else { context.cwd.join(path) }
}

fn signer_from_path(path: &Path) -> anyhow::Result<Box<dyn Signer>> {
    let label = path.display().to_string();
    let text = std::fs::read(path).with_context(|| format!("cannot read signing key {label}"))?;
    if text.len() > 64 * 1024 {
        bail!("signing key {label} is too large to be an SSH key");
    }
    if text.starts_with(b"-----BEGIN OPENSSH PRIVATE KEY-----") {
        match KeySigner::from_openssh(&text, &label) {
            Ok(signer) => return Ok(Box::new(signer)),
            // A passphrase: let ssh-keygen ask ssh-agent or the user, as git does.
            Err(SignatureError::Key { reason, .. }) if reason.contains("passphrase") => {
                let public = std::fs::read_to_string(path.with_extension("pub")).with_context(|| {
                    format!("{label} has a passphrase, and its public key beside it cannot be read")
                })?;
                let public = signing::parse_public_key(&public)?;
                return Ok(Box::new(KeygenSigner::new(public, Some(path.to_owned()))?));
            }
            Err(error) => return Err(error.into()),
        }
    }
    let public = signing::parse_public_key(&String::from_utf8_lossy(&text))
        .with_context(|| format!("{label} is neither an OpenSSH private key nor a public key"))?;
    Ok(Box::new(KeygenSigner::new(public, Some(path.to_owned()))?))
}

fn git_config(context: &Context, key: &str) -> anyhow::Result<Option<String>> {
    let mut command = std::process::Command::new("git");
    command.args(["config", "--get", "--", key]).current_dir(&context.cwd).stdin(std::process::Stdio::null());
    agents_registry::libgit2::restore_env(&mut command);
    let output = match command.output() {
        Ok(output) => output,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error).context("cannot run `git config`"),
    };
    let value = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    Ok((output.status.success() && !value.is_empty()).then_some(value))
}

/// Signs through `ssh-keygen -Y sign`, which finds the private key in ssh-agent when given a
/// public key (or asks for a key file's passphrase).
struct KeygenSigner {
    public: PublicKey,
    /// The key file to give `-f`; a public key kept in a temporary file when git named the key
    /// literally.
    path: PathBuf,
    _temporary: Option<tempfile::TempPath>,
}

impl KeygenSigner {
    fn new(public: PublicKey, path: Option<PathBuf>) -> anyhow::Result<KeygenSigner> {
        match path {
            Some(path) => Ok(KeygenSigner { public, path, _temporary: None }),
            None => {
                let mut file = tempfile::NamedTempFile::new().context("cannot write a temporary public key")?;
                writeln!(file, "{}", public_key_line(&public)).context("cannot write a temporary public key")?;
                let temporary = file.into_temp_path();
                Ok(KeygenSigner { public, path: temporary.to_path_buf(), _temporary: Some(temporary) })
            }
        }
    }
}

impl Signer for KeygenSigner {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn sign(&self, namespace: &str, message: &[u8]) -> Result<String, SignatureError> {
        let failed = |reason: String| SignatureError::Sign { reason };
        let mut command = std::process::Command::new("ssh-keygen");
        command
            .args(["-q", "-Y", "sign", "-n", namespace, "-f"])
            .arg(&self.path)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped());
        agents_registry::libgit2::restore_env(&mut command);
        let mut child = command.spawn().map_err(|e| failed(format!("cannot run ssh-keygen: {e}")))?;
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(message)
            .map_err(|e| failed(format!("cannot write to ssh-keygen: {e}")))?;
        let output = child.wait_with_output().map_err(|e| failed(format!("ssh-keygen failed: {e}")))?;
        if !output.status.success() {
            return Err(failed(format!(
                "`ssh-keygen -Y sign -f {}` failed (is the key in ssh-agent?)",
                self.path.display()
            )));
        }
        String::from_utf8(output.stdout).map_err(|_| failed("ssh-keygen wrote a signature that is not text".to_owned()))
    }
}
