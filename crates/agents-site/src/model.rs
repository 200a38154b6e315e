//! What one package's page shows, gathered from the registry: its records, who signed each
//! version, its owners, and the verified bytes of the version the page shows. Reading is here;
//! turning it into HTML (`render.rs`) reads nothing, so pages can be rendered on many threads.

use agents_format::{AgentName, IndexFile, IndexLine, IndexRecord, Kind, Owners};
use agents_registry::Registry;
use agents_registry::signing::{self, RegistryRoot, Verdict};

use crate::Skipped;

/// Everything a package page shows, read and verified.
pub(crate) struct Package {
    pub(crate) name: AgentName,
    pub(crate) kind: Kind,
    /// Newest first.
    pub(crate) versions: Vec<Version>,
    pub(crate) owners: OwnersView,
    /// The version the page shows (the highest that clients accept and is not yanked, else the
    /// highest they accept, else the highest) and its files, or why they could not be read.
    pub(crate) shown: Option<(IndexRecord, Result<Vec<File>, String>)>,
    /// The packages of this registry whose newest version requires this one, by name.
    pub(crate) dependents: Vec<AgentName>,
}

/// One published version, as the versions table lists it. In a signed registry its `yanked`
/// is what clients take it as: the owner-signed statement's, not the plain flag.
pub(crate) struct Version {
    pub(crate) record: IndexRecord,
    pub(crate) signer: Signer,
    /// Why the plain yanked flag is not what clients go by, when it is not.
    pub(crate) yank_note: Option<String>,
}

/// Who made a version, as a client would find when it checks the signature.
pub(crate) enum Signer {
    /// The registry has no root key: nobody signs, nothing is checked.
    Unsigned,
    /// Signed by this key (its fingerprint), an owner's under the registry's root.
    Signed(String),
    /// The signature does not verify, and clients refuse the version: why.
    Refused(String),
}

/// One file of the shown version, with its bytes (verified) and where the raw bytes are served.
pub(crate) struct File {
    pub(crate) path: String,
    pub(crate) executable: bool,
    pub(crate) bytes: Vec<u8>,
    /// The file's path in the registry tree, relative to the site's root.
    pub(crate) raw: String,
}

/// A package's owners: who may publish it (e-mail addresses) and the keys that sign it.
#[derive(Default)]
pub(crate) struct OwnersView {
    pub(crate) emails: Vec<String>,
    pub(crate) key_fingerprints: Vec<String>,
    /// Why the owners list could not be read, when it could not.
    pub(crate) problem: Option<String>,
}

/// The registry-wide part of every page: its root key, if it signs.
pub(crate) struct Context<'a> {
    pub(crate) registry: &'a Registry,
    pub(crate) root: Option<RegistryRoot>,
}

/// Reads the package `name`, whose index file holds `index_bytes`. Lines that are not records
/// this client reads are listed in `skipped` (the rest of the package is shown); a file that
/// offers no record, or one version twice, is skipped whole (`None`).
pub(crate) fn load(
    context: &Context<'_>,
    name: &AgentName,
    index_bytes: &[u8],
    owners_bytes: Option<&[u8]>,
    skipped: &mut Vec<Skipped>,
) -> Option<Package> {
    let mut index = IndexFile::parse(&String::from_utf8_lossy(index_bytes));
    for invalid in &index.invalid {
        skipped.push(Skipped::new(format!("line {} of the index file of `{name}`", invalid.line), &invalid.message));
    }
    for line in &mut index.lines {
        if let IndexLine::Record(record) = line
            && &record.name != name
        {
            skipped.push(Skipped::new(
                format!("a record of `{}` in the index file of `{name}`", record.name),
                "a record filed under another name is not that package's version",
            ));
            *line = IndexLine::Unknown(String::new());
        }
    }
    if let Err(error) = index.check_unique(name) {
        skipped.push(Skipped::new(format!("the index file of `{name}`"), &error.to_string()));
        return None;
    }
    let mut records: Vec<IndexRecord> = index.records().cloned().collect();
    if records.is_empty() {
        skipped.push(Skipped::new(format!("the index file of `{name}`"), "it holds no version this site can read"));
        return None;
    }
    records.sort_by(|a, b| b.version.cmp(&a.version));
    let kind = records[0].kind;
    let owners = owners_view(owners_bytes);
    let yank_keys = yank_keys(context, name, owners_bytes);
    let versions: Vec<Version> = records
        .into_iter()
        .map(|mut record| {
            let signer = signer(context, owners_bytes, &record);
            let yank_note = yank_keys.as_ref().and_then(|keys| signed_yank(context, keys, &mut record));
            Version { record, signer, yank_note }
        })
        .collect();
    // What a client would install: the highest version it accepts that is not yanked.
    let accepted = |version: &&Version| !matches!(version.signer, Signer::Refused(_));
    let shown = versions
        .iter()
        .filter(accepted)
        .find(|version| !version.record.yanked)
        .or_else(|| versions.iter().find(accepted))
        .or(versions.first())
        .map(|version| version.record.clone());
    let shown = shown.map(|record| {
        let files = read_files(context.registry, &record);
        if let Err(why) = &files {
            skipped.push(Skipped::new(format!("the body of {name}@{}", record.version), why));
        }
        (record, files)
    });
    Some(Package { name: name.clone(), kind, versions, owners, shown, dependents: Vec::new() })
}

fn signer(context: &Context<'_>, owners_bytes: Option<&[u8]>, record: &IndexRecord) -> Signer {
    let Some(root) = &context.root else { return Signer::Unsigned };
    let registry = context.registry;
    match signing::verify_record(&registry.name, &registry.config.id, root, owners_bytes, record) {
        Ok(Verdict::Signed { signer, .. }) => Signer::Signed(signer),
        Ok(Verdict::Unsigned) => Signer::Unsigned,
        Err(error) => Signer::Refused(error.to_string()),
    }
}

/// In a signed registry, the keys whose signed statements yank a version of `name`: its
/// verified owners' and the root's (`None` in a registry that does not sign).
fn yank_keys(context: &Context<'_>, name: &AgentName, owners_bytes: Option<&[u8]>) -> Option<Vec<ssh_key::PublicKey>> {
    let root = context.root.as_ref()?;
    let registry = context.registry;
    let mut keys = match signing::parse_owner_keys(&registry.name, &registry.config.id, root, name, owners_bytes) {
        Ok(Some((_, keys))) => keys,
        _ => Vec::new(),
    };
    keys.push(root.key.clone());
    Some(keys)
}

/// Sets `record.yanked` to what clients take it as, as `Registry::index_file` does, and says
/// why when that is not the plain flag.
fn signed_yank(context: &Context<'_>, keys: &[ssh_key::PublicKey], record: &mut IndexRecord) -> Option<String> {
    if !record.yanked && record.yank.is_none() {
        return None;
    }
    let flag = record.yanked;
    let (state, note) = match signing::verified_yank(&context.registry.config.id, keys, record) {
        Ok(Some(state)) if state == flag => (state, None),
        Ok(Some(state)) => (state, Some("its yanked flag differs from its owner's signed statement, which counts")),
        Ok(None) => (false, Some("marked yanked without an owner's signature: clients do not take it as yanked")),
        Err(_) => (false, Some("its yank statement does not verify: clients do not take it as yanked")),
    };
    record.yanked = state;
    note.map(str::to_owned)
}

fn owners_view(bytes: Option<&[u8]>) -> OwnersView {
    let Some(bytes) = bytes else { return OwnersView::default() };
    match Owners::parse(&String::from_utf8_lossy(bytes)) {
        Ok(owners) => OwnersView {
            emails: owners.owners.clone(),
            key_fingerprints: owners
                .current_keys()
                .iter()
                .map(|line| match signing::parse_public_key(line) {
                    Ok(key) => signing::fingerprint(&key),
                    Err(error) => format!("(a key that cannot be read: {error})"),
                })
                .collect(),
            problem: None,
        },
        Err(why) => OwnersView { problem: Some(why), ..OwnersView::default() },
    }
}

/// The files of `record`, verified: an agent's body, or every file of a package.
fn read_files(registry: &Registry, record: &IndexRecord) -> Result<Vec<File>, String> {
    let layout = registry.layout();
    if record.is_package() {
        let files = registry.package_files(record).map_err(|e| e.to_string())?;
        Ok(files
            .into_iter()
            .map(|content| File {
                path: content.file.path.to_string(),
                executable: content.file.mode.is_executable(),
                raw: layout.body_path(record.kind, &content.file.sha256),
                bytes: content.bytes,
            })
            .collect())
    } else {
        let bytes = registry.body(record).map_err(|e| e.to_string())?;
        Ok(vec![File {
            path: record.name.file_name(),
            executable: false,
            raw: layout.body_path(Kind::Agent, &record.sha256),
            bytes,
        }])
    }
}
