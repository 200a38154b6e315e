//! Writing to registries: create one, publish a version, yank one. Every change is a commit made
//! in the cache clone on top of the freshly fetched tip, then pushed without force; when another
//! publisher got there first the push is refused, and the change is re-applied on the new tip.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use agents_format::{
    AgentFile, AgentName, HiddenScan, IndexFile, IndexRecord, Layout, OWNERS_SCHEMA, Owners, RECORD_SCHEMA,
    RegistryConfig, RegistryId, RegistryUrl, Requirement, Sha256, scan_hidden_unicode,
};

use crate::cache::{self, Cache};
use crate::error::{GitContext, RegistryError, Result, io_error};
use crate::registry::Registry;
use crate::signing::{self, SignatureError, Signer};
use crate::transport::{self, NetConfig, PushOutcome, copy_missing_objects, local_path};

/// How many times a change is re-applied after losing a push race.
const MAX_ATTEMPTS: u32 = 30;

/// Creates an empty registry in the latest format: a bare git repository whose `main` branch
/// holds `config.json`.
pub fn init_registry(path: &Path, id: RegistryId, description: Option<String>) -> Result<RegistryConfig> {
    init_signed_registry(path, Layout::LATEST, id, description, None)
}

/// Creates an empty registry in `layout`'s format; with `root`, its `config.json` names that key
/// as the registry root, signed by it: every version published to it must then be signed by an
/// owner (see `signing.rs`).
pub fn init_signed_registry(
    path: &Path,
    layout: Layout,
    id: RegistryId,
    description: Option<String>,
    root: Option<&dyn Signer>,
) -> Result<RegistryConfig> {
    if path.exists() {
        let mut entries = fs_err::read_dir(path).map_err(io_error(path))?;
        if entries.next().is_some() {
            return Err(RegistryError::AlreadyExists { path: path.to_owned() });
        }
    }
    let mut options = git2::RepositoryInitOptions::new();
    options.bare(true).initial_head("main").mkpath(true);
    let repository = git2::Repository::init_opts(path, &options)
        .context(|| format!("create a git repository at {}", path.display()))?;
    let mut config = RegistryConfig::with_layout(layout, id, description);
    if let Some(root) = root {
        signing::sign_config(&mut config, root)?;
    }
    let files = [("config.json".to_owned(), config.to_text().into_bytes()), ("README.md".to_owned(), README.into())];
    let tree = write_files(&repository, None, &files)?;
    let tree = repository.find_tree(tree).context(|| "read the new tree".to_owned())?;
    let signature = signature(&repository)?;
    repository
        .commit(Some("refs/heads/main"), &signature, &signature, "Create agents registry", &tree, &[])
        .context(|| "commit the registry config".to_owned())?;
    Ok(config)
}

const README: &str = "# Agents registry\n\nA registry of AI coding agents in the agents registry format (its version is config.json's\n`schema`; see the agents project's docs/registry-format.md). Publish with `agents publish`,\nnever by hand.\n";

/// What to publish.
pub struct Publish<'a> {
    /// The exact bytes of the agent file.
    pub bytes: &'a [u8],
    /// Where the bytes came from, for messages.
    pub label: &'a str,
    /// Overrides the file's `version` field.
    pub version: Option<semver::Version>,
    /// Publish time, seconds since the Unix epoch.
    pub now: i64,
    /// Refuse a file with hidden Unicode, or one that cannot be scanned for it, instead of
    /// publishing it (the caller reports the lint warnings otherwise).
    pub deny_hidden_unicode: bool,
    /// What the version requires (`publish --requires`); none keeps the record schema 1.
    pub requires: &'a [Requirement],
    /// Publish a file Claude Code cannot parse, and so does not load (`--allow-unloadable`);
    /// the caller warns. Without it such a file is refused with the fix to make.
    pub allow_unloadable: bool,
    /// Where an import took the file from, recorded in the record (`agents_format::Source`).
    pub source: Option<agents_format::Source>,
}

/// Gives `record` its requirements: checked (no more than the limit, none twice, none on
/// itself), sorted, and the record moved to schema 3 so older clients skip it rather than
/// install it without them. No requirements leave the record as it was.
pub fn with_requirements(mut record: IndexRecord, requires: &[Requirement]) -> Result<IndexRecord> {
    if requires.is_empty() {
        return Ok(record);
    }
    record.requires = agents_format::check_requirements(&record.name, requires)
        .map_err(|message| RegistryError::InvalidRequirements { name: record.name.clone(), message })?;
    if record.kind != agents_format::Kind::Plugin {
        record.schema = agents_format::REQUIRES_RECORD_SCHEMA;
    }
    Ok(record)
}

/// A bundle's record: a name, a description and requirements, nothing else (`publish --bundle`).
pub fn prepare_bundle(
    name: &AgentName,
    version: &semver::Version,
    description: &str,
    requires: &[Requirement],
    now: i64,
) -> Result<IndexRecord> {
    let invalid = |message: String| RegistryError::InvalidRequirements { name: name.clone(), message };
    if requires.is_empty() {
        return Err(invalid("a bundle requires at least one package (`--requires NAME@REQ`)".to_owned()));
    }
    if !version.build.is_empty() {
        return Err(RegistryError::InvalidVersion {
            name: name.clone(),
            message: format!("{version}: build metadata does not order versions"),
        });
    }
    let description = description.trim();
    if description.is_empty() || description.chars().count() > agents_format::MAX_INDEX_DESCRIPTION_CHARS {
        return Err(invalid(format!(
            "a bundle needs a one-line description of 1 to {} characters (`--description`)",
            agents_format::MAX_INDEX_DESCRIPTION_CHARS
        )));
    }
    let requires = agents_format::check_requirements(name, requires).map_err(invalid)?;
    Ok(IndexRecord {
        schema: agents_format::REQUIRES_RECORD_SCHEMA,
        name: name.clone(),
        version: version.clone(),
        sha256: agents_format::bundle_digest(&requires),
        length: 0,
        published: agents_format::format_utc(now),
        yanked: false,
        description: Some(description.lines().next().unwrap_or_default().to_owned()),
        signature: None,
        yank: None,
        kind: agents_format::Kind::Bundle,
        files: Vec::new(),
        requires,
        extra: BTreeMap::new(),
    })
}

/// Validates an agent file for publishing: it parses, passes the hidden-Unicode gate when the
/// request asks for it, and has a version.
pub fn prepare_record(request: &Publish<'_>) -> Result<(AgentFile, IndexRecord)> {
    // The gate first: under a deny policy a file that cannot be scanned is refused as such.
    if request.deny_hidden_unicode {
        match scan_hidden_unicode(request.bytes) {
            HiddenScan::Clean => {}
            found @ (HiddenScan::Found(_) | HiddenScan::Unscannable { .. }) => {
                return Err(RegistryError::HiddenUnicode { path: request.label.to_owned(), found: found.to_string() });
            }
        }
    }
    let file = AgentFile::parse(request.bytes)
        .map_err(|source| RegistryError::InvalidAgent { path: request.label.to_owned(), source })?;
    // Claude Code does not load an agent without a description: publishing one would ship a
    // file that installs but never runs.
    if file.description.is_none() {
        return Err(RegistryError::NoDescription { path: request.label.to_owned() });
    }
    // Nor one whose front matter Claude Code cannot parse: it skips it (the lint says the fix).
    if !request.allow_unloadable
        && let Some(warning) =
            file.warnings.iter().find(|w| w.code == agents_format::WarningCode::ClaudeCodeDropsFields)
    {
        return Err(RegistryError::Unloadable { path: request.label.to_owned(), why: warning.message.clone() });
    }
    let version = match (&request.version, file.semver()) {
        (Some(version), _) => version.clone(),
        (None, Some(Ok((version, _)))) => version,
        (None, Some(Err(e))) => {
            return Err(RegistryError::InvalidVersion {
                name: file.name.clone(),
                message: format!(
                    "`version: {}` in {}: {e}",
                    file.version.as_deref().unwrap_or_default(),
                    request.label
                ),
            });
        }
        (None, None) => return Err(RegistryError::NoVersion { name: file.name.clone() }),
    };
    if !version.build.is_empty() {
        return Err(RegistryError::InvalidVersion {
            name: file.name.clone(),
            message: format!(
                "{version}: build metadata (`+{}`) does not order versions, so it cannot tell two publishes apart",
                version.build
            ),
        });
    }
    let record = IndexRecord {
        schema: RECORD_SCHEMA,
        name: file.name.clone(),
        version,
        sha256: Sha256::of(request.bytes),
        length: request.bytes.len() as u64,
        published: agents_format::format_utc(request.now),
        yanked: false,
        description: file.summary(),
        signature: None,
        yank: None,
        kind: Default::default(),
        files: Vec::new(),
        requires: Vec::new(),
        extra: BTreeMap::new(),
    };
    let mut record = record;
    if let Some(source) = &request.source {
        record.set_source(source);
    }
    Ok((file, with_requirements(record, request.requires)?))
}

/// Publishes a new version to the registry at `url`.
pub fn publish(cache: &Cache, registry_name: &str, url: &str, request: &Publish<'_>) -> Result<IndexRecord> {
    publish_signed(cache, registry_name, url, request, None)
}

/// Publishes a new version, signed by `signer` (required by a registry with a root key).
pub fn publish_signed(
    cache: &Cache,
    registry_name: &str,
    url: &str,
    request: &Publish<'_>,
    signer: Option<&dyn Signer>,
) -> Result<IndexRecord> {
    publish_all(cache, registry_name, url, std::slice::from_ref(request), signer)?
        .pop()
        .expect("one outcome per request")
}

/// Publishes several files in one commit (an import). Each request gets its own outcome, in
/// order: an invalid file or an existing version fails alone, never the rest. The outer error is
/// for the registry itself (unreachable, rejected).
pub fn publish_many(
    cache: &Cache,
    registry_name: &str,
    url: &str,
    requests: &[Publish<'_>],
) -> Result<Vec<Result<IndexRecord>>> {
    publish_all(cache, registry_name, url, requests, None)
}

/// [`publish_many`], each record signed by `signer` (required by a registry with a root key).
pub fn publish_many_signed(
    cache: &Cache,
    registry_name: &str,
    url: &str,
    requests: &[Publish<'_>],
    signer: Option<&dyn Signer>,
) -> Result<Vec<Result<IndexRecord>>> {
    publish_all(cache, registry_name, url, requests, signer)
}

fn publish_all(
    cache: &Cache,
    registry_name: &str,
    url: &str,
    requests: &[Publish<'_>],
    signer: Option<&dyn Signer>,
) -> Result<Vec<Result<IndexRecord>>> {
    let mut outcomes: Vec<Result<IndexRecord>> =
        requests.iter().map(|request| prepare_record(request).map(|(_, record)| record)).collect();
    let ready: Vec<(usize, IndexRecord)> = outcomes
        .iter()
        .enumerate()
        .filter_map(|(i, outcome)| outcome.as_ref().ok().map(|record| (i, record.clone())))
        .collect();
    let message = match ready.as_slice() {
        [(_, record)] => format!("Publish {}@{}", record.name, record.version),
        _ => format!("Publish {} agent versions", ready.len()),
    };
    // Which of `ready` already exist, decided afresh on every attempt (a lost race re-runs it).
    let mut existing: Vec<bool> = Vec::new();
    // The kind a name is already published as, when it is not an agent: one name, one kind.
    let mut clashes: Vec<Option<agents_format::Kind>> = Vec::new();
    let mut signed: Vec<IndexRecord> = Vec::new();
    transact(cache, registry_name, url, &message, |registry| {
        existing = vec![false; ready.len()];
        clashes = vec![None; ready.len()];
        signed.clear();
        let root = signing::registry_root(&registry.config, registry_name)?;
        let mut indexes: BTreeMap<AgentName, IndexFile> = BTreeMap::new();
        let mut files = Vec::new();
        for (position, (request_index, record)) in ready.iter().enumerate() {
            if !indexes.contains_key(&record.name) {
                indexes.insert(record.name.clone(), registry.index_file(&record.name)?.unwrap_or_default());
            }
            let index = indexes.get_mut(&record.name).expect("inserted above");
            if let Some(other) = index.records().find(|r| r.kind != record.kind) {
                clashes[position] = Some(other.kind);
                existing[position] = true;
                continue;
            }
            if index.claims(&record.version) {
                existing[position] = true;
                continue;
            }
            let mut record = record.clone();
            if let Some(owners) = sign_for_publish(registry, root.as_ref(), signer, &mut record)? {
                files.push(owners);
            }
            index.push(record.clone()).expect("the version is not claimed");
            files.push((
                registry.layout().body_path(record.kind, &record.sha256),
                requests[*request_index].bytes.to_vec(),
            ));
            signed.push(record);
        }
        let changed: BTreeSet<&AgentName> =
            ready.iter().zip(&existing).filter(|(_, exists)| !**exists).map(|((_, record), _)| &record.name).collect();
        for name in changed {
            files.push((registry.layout().index_path(name), indexes[name].to_text().into_bytes()));
        }
        Ok(files)
    })?;
    let mut signed = signed.into_iter();
    for (((request_index, record), exists), clash) in ready.into_iter().zip(existing).zip(clashes) {
        if let Some(published) = clash {
            outcomes[request_index] = Err(RegistryError::KindMismatch {
                registry: registry_name.to_owned(),
                name: record.name,
                published,
                publishing: record.kind,
            });
        } else if !exists {
            outcomes[request_index] = Ok(signed.next().expect("one signed record per new version"));
        } else {
            outcomes[request_index] = Err(RegistryError::VersionExists {
                registry: registry_name.to_owned(),
                name: record.name,
                version: record.version,
            });
        }
    }
    Ok(outcomes)
}

/// Signs `record` for a registry with root `root`: the signer must be an owner of the agent, or,
/// for an agent without an owners list, the root itself, which then starts one naming its key
/// (returned as a file to write). A registry without a root takes the signature all the same
/// (harmless, and ready for a root added later) or none.
pub(crate) fn sign_for_publish(
    registry: &Registry,
    root: Option<&signing::RegistryRoot>,
    signer: Option<&dyn Signer>,
    record: &mut IndexRecord,
) -> Result<Option<(String, Vec<u8>)>> {
    let agent = format!("{}@{}", record.name, record.version);
    let refuse = |reason: String| SignatureError::Refused {
        registry: registry.name.clone(),
        action: format!("cannot publish {agent}"),
        reason,
    };
    let (Some(root), Some(signer)) = (root, signer) else {
        if root.is_some() {
            return Err(refuse(
                "the registry signs every publish; give a signing key (`--sign-key PATH`, or git's \
                 `user.signingkey` with `gpg.format = ssh`)"
                    .to_owned(),
            )
            .into());
        }
        if let Some(signer) = signer {
            signing::sign_record(&registry.config.id, record, signer)?;
        }
        return Ok(None);
    };
    let me = signer.public_key();
    let mut owners_file = None;
    match signing::owner_keys(registry, root, &record.name)? {
        Some((_, keys)) => {
            if !keys.iter().any(|key| key.key_data() == me.key_data()) {
                return Err(refuse(format!(
                    "your key {} is not an owner of `{}` (ask an owner: `agents owner add {} KEY`)",
                    signing::fingerprint(me),
                    record.name,
                    record.name
                ))
                .into());
            }
        }
        None => {
            if me.key_data() != root.key.key_data() {
                return Err(refuse(format!(
                    "`{}` has no owners list yet, and only the registry root ({}) can start one \
                     (`agents owner add {} KEY` signed with the root key); your key is {}",
                    record.name,
                    root.fingerprint,
                    record.name,
                    signing::fingerprint(me)
                ))
                .into());
            }
            let mut owners =
                Owners { schema: OWNERS_SCHEMA, owners: Vec::new(), signed: Vec::new(), extra: BTreeMap::new() };
            signing::push_owners_revision(
                &registry.config.id,
                &record.name,
                &mut owners,
                vec![signing::public_key_line(me)],
                Vec::new(),
                signer,
            )?;
            owners_file = Some((registry.layout().owners_path(&record.name), owners.to_text().into_bytes()));
        }
    }
    signing::sign_record(&registry.config.id, record, signer)?;
    Ok(owners_file)
}

/// A change to an agent's owners keys.
#[derive(Debug, Clone)]
pub enum OwnersChange {
    /// Add this OpenSSH public key line.
    Add(String),
    /// Remove the key with this fingerprint (`SHA256:…`) or OpenSSH line. Versions it signed
    /// stay valid (listed in the new revision as retained) unless `revoke` is set, which also
    /// drops those kept from earlier removals of the key.
    Remove { key: String, revoke: bool },
}

/// Applies `change` to `name`'s owners list as a new revision signed by `signer`, who must be a
/// current owner or the registry root. Returns the new keys.
pub fn change_owners(
    cache: &Cache,
    registry_name: &str,
    url: &str,
    name: &AgentName,
    change: &OwnersChange,
    signer: &dyn Signer,
) -> Result<Vec<String>> {
    let mut result = Vec::new();
    let verb = match change {
        OwnersChange::Add(_) => "Add an owner key to",
        OwnersChange::Remove { revoke: false, .. } => "Remove an owner key from",
        OwnersChange::Remove { revoke: true, .. } => "Revoke an owner key of",
    };
    transact(cache, registry_name, url, &format!("{verb} {name}"), |registry| {
        let refuse = |reason: String| SignatureError::Refused {
            registry: registry_name.to_owned(),
            action: format!("cannot change the owners of `{name}`"),
            reason,
        };
        let Some(root) = signing::registry_root(&registry.config, registry_name)? else {
            return Err(refuse(
                "the registry has no root key, so owners keys would not be checked; create it with \
                               `agents registry init --sign-key`"
                    .to_owned(),
            )
            .into());
        };
        let me = signer.public_key();
        let (mut owners, keys) = match signing::owner_keys(registry, &root, name)? {
            Some((owners, keys)) => (owners, keys),
            None => (
                Owners { schema: OWNERS_SCHEMA, owners: Vec::new(), signed: Vec::new(), extra: BTreeMap::new() },
                Vec::new(),
            ),
        };
        let allowed = me.key_data() == root.key.key_data() || keys.iter().any(|key| key.key_data() == me.key_data());
        if !allowed {
            return Err(refuse(format!(
                "your key {} is neither an owner nor the registry root ({})",
                signing::fingerprint(me),
                root.fingerprint
            ))
            .into());
        }
        let mut lines: Vec<String> = owners.current_keys().to_vec();
        let mut retained = owners.current_retained().to_vec();
        match change {
            OwnersChange::Add(line) => {
                let key = signing::parse_public_key(line)?;
                if lines.iter().any(|existing| signing::same_key(existing, line)) {
                    result = lines;
                    return Ok(Vec::new());
                }
                lines.push(signing::public_key_line(&key));
            }
            OwnersChange::Remove { key: which, revoke } => {
                let fingerprint_of =
                    |line: &str| signing::parse_public_key(line).map(|k| signing::fingerprint(&k)).ok();
                let removed: Vec<String> = lines
                    .iter()
                    .filter(|line| {
                        fingerprint_of(line).as_deref() == Some(which.as_str()) || signing::same_key(line, which)
                    })
                    .filter_map(|line| fingerprint_of(line))
                    .collect();
                if removed.is_empty() && !(*revoke && retained.iter().any(|kept| kept.signer == *which)) {
                    return Err(refuse(format!("`{which}` is not one of its keys")).into());
                }
                lines.retain(|line| fingerprint_of(line).is_none_or(|f| !removed.contains(&f)));
                if lines.is_empty() {
                    return Err(refuse("that would leave no owner key; add the new key first".to_owned()).into());
                }
                if *revoke {
                    retained.retain(|kept| !removed.contains(&kept.signer) && kept.signer != *which);
                } else if let Some(index) = registry.index_file(name)? {
                    // A rotation, not a revocation: what the key signed so far stays valid.
                    for record in index.records() {
                        if let Some(signer) = signing::record_signer(&registry.config.id, record)
                            && removed.contains(&signer)
                        {
                            retained.push(agents_format::Retained {
                                version: record.version.clone(),
                                sha256: record.sha256,
                                signer,
                            });
                        }
                    }
                    retained.sort();
                    retained.dedup();
                }
            }
        }
        signing::push_owners_revision(&registry.config.id, name, &mut owners, lines.clone(), retained, signer)?;
        result = lines;
        Ok(vec![(registry.layout().owners_path(name), owners.to_text().into_bytes())])
    })?;
    Ok(result)
}

/// Sets or clears the yank flag of `name@version`. Returns whether anything changed. In a signed
/// registry the change is a statement signed by `signer`, who must be an owner of the agent or
/// the root; without one nothing is written.
pub fn yank(
    cache: &Cache,
    registry_name: &str,
    url: &str,
    name: &AgentName,
    version: &semver::Version,
    yanked: bool,
    signer: Option<&dyn Signer>,
) -> Result<bool> {
    let verb = if yanked { "Yank" } else { "Unyank" };
    let mut changed = false;
    transact(cache, registry_name, url, &format!("{verb} {name}@{version}"), |registry| {
        let mut index: IndexFile = registry.index_file(name)?.unwrap_or_default();
        changed = index
            .set_yanked(name, version, yanked)
            .map_err(|source| RegistryError::Index { registry: registry_name.to_owned(), source })?;
        if !changed {
            return Ok(Vec::new());
        }
        if let Some(root) = signing::registry_root(&registry.config, registry_name)? {
            let signer = yank_signer(registry, &root, name, signer, verb)?;
            let record = index.lines.iter_mut().find_map(|line| match line {
                agents_format::IndexLine::Record(record) if &record.version == version => Some(record),
                _ => None,
            });
            if let Some(record) = record {
                signing::sign_yank(&registry.config.id, record, yanked, signer)?;
            }
        }
        Ok(vec![(registry.layout().index_path(name), index.to_text().into_bytes())])
    })?;
    Ok(changed)
}

/// The key that signs a yank in a signed registry: `signer`, when it is an owner of `name` or the
/// root.
fn yank_signer<'s>(
    registry: &Registry,
    root: &signing::RegistryRoot,
    name: &AgentName,
    signer: Option<&'s dyn Signer>,
    verb: &str,
) -> Result<&'s dyn Signer> {
    let refuse = |reason: String| SignatureError::Refused {
        registry: registry.name.clone(),
        action: format!("cannot {} `{name}`", verb.to_lowercase()),
        reason,
    };
    let Some(signer) = signer else {
        return Err(refuse(format!(
            "the registry is signed (root {}), so a yank is signed by an owner; give your key \
             (`--sign-key PATH`, or git's `user.signingkey` with `gpg.format = ssh`)",
            root.fingerprint
        ))
        .into());
    };
    let me = signer.public_key();
    let owners = signing::owner_keys(registry, root, name)?.map(|(_, keys)| keys).unwrap_or_default();
    if me.key_data() != root.key.key_data() && !owners.iter().any(|key| key.key_data() == me.key_data()) {
        return Err(refuse(format!(
            "your key {} is neither an owner of `{name}` nor the registry root ({})",
            signing::fingerprint(me),
            root.fingerprint
        ))
        .into());
    }
    Ok(signer)
}

/// Applies `change` to the fetched tip and pushes the result, retrying on lost races.
pub(crate) fn transact(
    cache: &Cache,
    registry_name: &str,
    url: &str,
    message: &str,
    mut change: impl FnMut(&Registry) -> Result<Vec<(String, Vec<u8>)>>,
) -> Result<()> {
    transact_tree(cache, registry_name, url, message, |registry, repository, parent_tree| {
        let files = change(registry)?;
        if files.is_empty() {
            return Ok(None);
        }
        write_files(repository, Some(parent_tree), &files).map(Some)
    })
}

/// [`transact`] for a change that builds the new root tree itself (from the fetched tip's
/// registry, its repository and its tree), or `None` for no change: one that also removes or
/// moves files.
pub(crate) fn transact_tree(
    cache: &Cache,
    registry_name: &str,
    url: &str,
    message: &str,
    mut change: impl FnMut(&Registry, &git2::Repository, &git2::Tree<'_>) -> Result<Option<git2::Oid>>,
) -> Result<()> {
    let url = &RegistryUrl::parse(url)?;
    cache.with_clone(url, |repository| {
        for attempt in 1..=MAX_ATTEMPTS {
            if attempt > 1 {
                std::thread::sleep(backoff(attempt));
                cache.fetch(repository, url)?;
            }
            let parent = cache::tip(repository)?;
            let registry = cache::snapshot_at(registry_name, url, repository, parent.id())?;
            let parent_tree = parent.tree().context(|| "read the registry tree".to_owned())?;
            let Some(tree) = change(&registry, repository, &parent_tree)? else { return Ok(()) };
            let tree = repository.find_tree(tree).context(|| "read the new tree".to_owned())?;
            let signature = signature(repository)?;
            let commit = repository
                .commit(None, &signature, &signature, message, &tree, &[&parent])
                .context(|| "commit to the registry".to_owned())?;
            let branch = cache::remembered_branch(repository)?;
            match push(repository, url, commit, parent.id(), &branch, cache.net()) {
                Ok(()) => {
                    cache::set_tip(repository, commit)?;
                    return Ok(());
                }
                Err(PushFailure::Rejected(reason)) => {
                    tracing::debug!(attempt, reason, "push lost a race; re-applying on the new tip");
                }
                Err(PushFailure::Error(error)) => return Err(error),
            }
        }
        Err(RegistryError::TooManyRetries { url: url.to_string(), attempts: MAX_ATTEMPTS })
    })
}

enum PushFailure {
    /// Someone else moved the branch: fetch and try again.
    Rejected(String),
    Error(RegistryError),
}

fn push(
    repository: &git2::Repository,
    url: &RegistryUrl,
    commit: git2::Oid,
    parent: git2::Oid,
    branch: &str,
    net: &NetConfig,
) -> Result<(), PushFailure> {
    let path = local_path(url).filter(|_| !net.git_fetch_with_cli);
    let Some(path) = path else {
        return match transport::push(repository, url, &format!("{commit}:{branch}"), net) {
            Ok(PushOutcome::Pushed) => Ok(()),
            Ok(PushOutcome::LostRace(reason)) => Err(PushFailure::Rejected(reason)),
            Err(error) => Err(PushFailure::Error(error)),
        };
    };
    // libgit2's local transport moves the remote's branch without checking its old value under
    // the ref lock, so two local publishers could both "win". For a registry on this machine,
    // copy the new objects into its object database, then move the branch with a
    // compare-and-swap on the expected old tip. (The git server behind every other transport,
    // and `git push`, do that check themselves.)
    let target = git2::Repository::open(&path)
        .context(|| format!("could not open registry `{url}`"))
        .map_err(PushFailure::Error)?;
    copy_missing_objects(repository, &target, commit)
        .context(|| format!("could not write objects to `{url}`"))
        .map_err(PushFailure::Error)?;
    match target.reference_matching(branch, commit, true, parent, "agents: publish") {
        Ok(_) => Ok(()),
        Err(error) if error.code() == git2::ErrorCode::Locked => {
            remove_stale_ref_lock(&target, branch);
            Err(PushFailure::Rejected(error.message().to_owned()))
        }
        Err(error) if error.code() == git2::ErrorCode::Modified => {
            Err(PushFailure::Rejected(error.message().to_owned()))
        }
        Err(error) => {
            Err(PushFailure::Error(RegistryError::Git { context: format!("could not update `{url}`"), source: error }))
        }
    }
}

/// How old a ref's lock file must be before it counts as left by a killed process. A live writer
/// (git or libgit2) holds one for the instant it takes to write 41 bytes and rename.
const STALE_LOCK_AGE: Duration = Duration::from_secs(2);

/// Removes `branch`'s lock file in a local registry when it is older than [`STALE_LOCK_AGE`]:
/// a publisher killed between taking and releasing it must not block every publish after it.
fn remove_stale_ref_lock(repository: &git2::Repository, branch: &str) {
    let lock = repository.path().join(format!("{branch}.lock"));
    let age = std::fs::metadata(&lock).and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
    if age.is_some_and(|age| age >= STALE_LOCK_AGE) && std::fs::remove_file(&lock).is_ok() {
        tracing::warn!(path = %lock.display(), "removed a stale ref lock left by a killed publisher");
    }
}

fn backoff(attempt: u32) -> Duration {
    // Full jitter over a window that grows with each lost race, without a random-number crate:
    // the clock's nanoseconds and the process id differ between racing publishers.
    let window = 20u64 << attempt.min(6);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let seed = u64::from(nanos) ^ u64::from(std::process::id()).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    Duration::from_millis(seed % window)
}

fn signature(repository: &git2::Repository) -> Result<git2::Signature<'static>> {
    match repository.signature() {
        Ok(signature) => Ok(signature.to_owned()),
        Err(_) => git2::Signature::now("agents", "agents@localhost").context(|| "make a commit signature".to_owned()),
    }
}

/// Writes `files` (slash-separated paths) as blobs over `base`, returning the new root tree.
pub(crate) fn write_files(
    repository: &git2::Repository,
    base: Option<&git2::Tree<'_>>,
    files: &[(String, Vec<u8>)],
) -> Result<git2::Oid> {
    let mut blobs = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        let oid = repository.blob(bytes).context(|| format!("write `{path}`"))?;
        blobs.push((path.as_str(), oid));
    }
    write_tree(repository, base, &blobs)
}

fn write_tree(
    repository: &git2::Repository,
    base: Option<&git2::Tree<'_>>,
    files: &[(&str, git2::Oid)],
) -> Result<git2::Oid> {
    let mut builder = repository.treebuilder(base).context(|| "build a tree".to_owned())?;
    let mut subdirectories: BTreeMap<&str, Vec<(&str, git2::Oid)>> = BTreeMap::new();
    for (path, oid) in files {
        match path.split_once('/') {
            Some((directory, rest)) => subdirectories.entry(directory).or_default().push((rest, *oid)),
            None => {
                builder.insert(path, *oid, i32::from(git2::FileMode::Blob)).context(|| format!("add `{path}`"))?;
            }
        }
    }
    for (directory, entries) in subdirectories {
        let existing = base
            .and_then(|tree| tree.get_name(directory))
            .filter(|entry| entry.kind() == Some(git2::ObjectType::Tree))
            .map(|entry| repository.find_tree(entry.id()))
            .transpose()
            .context(|| format!("read `{directory}`"))?;
        let oid = write_tree(repository, existing.as_ref(), &entries)?;
        builder.insert(directory, oid, i32::from(git2::FileMode::Tree)).context(|| format!("add `{directory}`"))?;
    }
    builder.write().context(|| "write a tree".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `prepare_record` under each policy: `None` when it is accepted, else a fragment of the error.
    fn check(bytes: &[u8], deny: bool, expected: Option<&str>) {
        let request = Publish {
            bytes,
            label: "a.md",
            version: Some(semver::Version::new(1, 0, 0)),
            now: 0,
            deny_hidden_unicode: deny,
            requires: &[],
            allow_unloadable: false,
            source: None,
        };
        match (prepare_record(&request), expected) {
            (Ok(_), None) => {}
            (Err(error), Some(fragment)) => assert!(error.to_string().contains(fragment), "{error}"),
            (outcome, expected) => {
                panic!("{:?}: got {:?}, want {expected:?}", String::from_utf8_lossy(bytes), outcome.map(|(_, r)| r))
            }
        }
    }

    #[test]
    fn the_hidden_unicode_gate_refuses_what_it_finds_and_what_it_cannot_scan() {
        let clean = b"---\nname: a\ndescription: d\n---\nbody\n";
        check(clean, true, None);
        check(clean, false, None);
        for hidden in ["\u{200B}", "\u{202E}", "\u{E0041}", "\u{FE0F}", "\u{E0100}", "\u{2062}", "\u{00AD}", "\u{3164}"]
        {
            let text = format!("---\nname: a\ndescription: d\n---\nbo{hidden}dy\n");
            check(text.as_bytes(), true, Some("a.md contains hidden Unicode, refused by policy: hidden"));
            check(text.as_bytes(), false, None);
        }
        // Not UTF-8: refused as unscannable under the policy, and as invalid without it.
        let latin1 = b"---\nname: a\ndescription: caf\xe9\n---\nbody\n";
        check(latin1, true, Some("cannot be scanned for hidden Unicode: not valid UTF-8"));
        check(latin1, false, Some("not valid UTF-8"));
        // Over every limit: unscannable under the policy, too large without it.
        let mut huge = clean.to_vec();
        huge.resize(agents_format::MAX_HIDDEN_SCAN_LEN + 1, b'x');
        check(&huge, true, Some("cannot be scanned for hidden Unicode"));
        check(&huge, false, Some("over the limit"));
    }
}
