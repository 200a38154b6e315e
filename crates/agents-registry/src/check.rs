//! `agents registry check`: validates a registry repository, for the registry's own CI. Every
//! body matches its checksum, every record and name is valid, nothing published since a given
//! revision changed except its yank flag, and every change was made by an owner of the agent
//! (when the agent has an owners list in the parent commit). In a signed registry, the same
//! signature rules every client applies before it installs (see `signing.rs`), and every change
//! of a signed owners list only appends revisions.

use std::collections::BTreeSet;
use std::path::Path;

use agents_format::{
    AgentName, BodyDepth, IndexFile, IndexRecord, Kind, Layout, MAX_AGENT_FILE_LEN, MAX_CONFIG_LEN, MAX_INDEX_FILE_LEN,
    Owners, RegistryConfig, Sha256, body_depth, is_valid_utc, two_level_body_path,
};

use crate::error::{GitContext, RegistryError, Result};
use crate::signing::{self, RegistryRoot};
use crate::source;

/// What a check found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CheckReport {
    /// The commit checked.
    pub commit: String,
    pub agents: usize,
    pub versions: usize,
    /// Commits whose authors were checked against owners lists.
    pub commits_checked: usize,
    pub problems: Vec<String>,
}

/// Checks the registry repository at `path` at `HEAD`; with `since`, also every change after
/// that revision.
pub fn check_registry(path: &Path, since: Option<&str>) -> Result<CheckReport> {
    crate::libgit2::configure_reads();
    let repository = git2::Repository::open(path).context(|| format!("{} is not a git repository", path.display()))?;
    let head = repository.head().and_then(|h| h.peel_to_commit()).context(|| "read HEAD".to_owned())?;
    let tree = head.tree().context(|| "read HEAD's tree".to_owned())?;
    let mut report = CheckReport { commit: head.id().to_string(), ..CheckReport::default() };
    check_tree(&repository, &tree, &path.display().to_string(), &mut report)?;

    let since = match since {
        Some(revision) => {
            let commit = repository
                .revparse_single(revision)
                .and_then(|object| object.peel_to_commit())
                .context(|| format!("unknown revision `{revision}`"))?;
            check_immutability(
                &repository,
                &commit.tree().context(|| "read tree".to_owned())?,
                &tree,
                revision,
                &mut report,
            );
            Some(commit.id())
        }
        None => None,
    };
    check_owners(&repository, head.id(), since, &mut report)?;
    Ok(report)
}

/// A file of `tree`, unless it is larger than any file a client reads (reported by `check_tree`).
fn blob_text(repository: &git2::Repository, tree: &git2::Tree<'_>, path: &str) -> Option<Vec<u8>> {
    let entry = tree.get_path(Path::new(path)).ok()?;
    source::read_blob(repository, entry.id(), path, MAX_INDEX_FILE_LEN).ok()
}

/// The layout the `config.json` of `tree` declares; format 1 when it has none that parses.
fn tree_layout(repository: &git2::Repository, tree: &git2::Tree<'_>) -> Layout {
    blob_text(repository, tree, "config.json")
        .and_then(|text| RegistryConfig::parse(&String::from_utf8_lossy(&text)).ok())
        .map_or(Layout::V1, |config| config.layout)
}

/// The size limit a client applies to the file at `path` of a registry tree.
fn limit_for(path: &str) -> usize {
    if path == "config.json" {
        MAX_CONFIG_LEN
    } else if path.starts_with("bodies/") {
        MAX_AGENT_FILE_LEN
    } else {
        MAX_INDEX_FILE_LEN
    }
}

fn check_tree(
    repository: &git2::Repository,
    tree: &git2::Tree<'_>,
    label: &str,
    report: &mut CheckReport,
) -> Result<()> {
    // The registry's root, when it signs: every record is then verified as a client would.
    let mut signed: Option<(RegistryConfig, RegistryRoot)> = None;
    // Where bodies belong. Without a readable config, format 1's rules (either depth) apply, so
    // that the one problem reported is the config's.
    let mut layout = Layout::V1;
    match blob_text(repository, tree, "config.json").map(|b| String::from_utf8_lossy(&b).into_owned()) {
        None => report.problems.push("config.json is missing".to_owned()),
        Some(text) => match RegistryConfig::parse(&text).inspect(|config| layout = config.layout) {
            Ok(config) if config.id.as_str() == agents_format::BUILTIN_REGISTRY_ID => {
                report.problems.push("config.json claims the reserved id `builtin`".to_owned())
            }
            Ok(config) => match signing::registry_root(&config, label) {
                Ok(Some(root)) => signed = Some((config, root)),
                Ok(None) => {}
                Err(error) => report.problems.push(error.to_string()),
            },
            Err(error) => report.problems.push(format!("config.json: {error}")),
        },
    }
    let mut files = Vec::new();
    tree.walk(git2::TreeWalkMode::PreOrder, |directory, entry| {
        if entry.kind() == Some(git2::ObjectType::Blob) {
            files.push((format!("{directory}{}", entry.name().unwrap_or_default()), entry.id()));
        }
        git2::TreeWalkResult::Ok
    })
    .context(|| "walk the registry tree".to_owned())?;

    let mut referenced = BTreeSet::new();
    // Bodies already reported for where they are, not reported again as unreferenced.
    let mut misplaced = BTreeSet::new();
    for (path, oid) in &files {
        let bytes = match source::read_blob(repository, *oid, path, limit_for(path)) {
            Ok(bytes) => bytes,
            Err(RegistryError::TooLarge { len, limit, .. }) => {
                report.problems.push(format!("{path}: {len} bytes, over the limit of {limit} that clients read"));
                continue;
            }
            Err(error) => return Err(error),
        };
        let leaf = path.rsplit('/').next().unwrap_or_default();
        if path == "config.json" || path == "README.md" {
            continue;
        }
        if path.starts_with("bodies/") {
            let sha256 = Sha256::of(&bytes);
            match (layout, body_depth(path, &sha256)) {
                (Layout::V2, Some(BodyDepth::OneLevel)) => {
                    misplaced.insert(path.clone());
                    report.problems.push(format!(
                        "{path}: a format-1 body path left over in a format-2 registry, where clients look only at {} \
                         (`agents registry migrate` moves it)",
                        two_level_body_path(&sha256)
                    ));
                }
                (_, Some(_)) => {}
                (_, None) => {
                    misplaced.insert(path.clone());
                    report.problems.push(format!(
                        "{path}: the body's checksum says it belongs at {}",
                        layout.body_path(Kind::Agent, &sha256)
                    ));
                }
            }
            continue;
        }
        let name = match AgentName::new(leaf) {
            Ok(name) => name,
            Err(error) => {
                report.problems.push(format!("{path}: {error}"));
                continue;
            }
        };
        if path.starts_with("owners/") {
            if path != &layout.owners_path(&name) {
                report.problems.push(format!(
                    "{path}: the owners list of `{name}` belongs at {} in {layout}",
                    layout.owners_path(&name)
                ));
            }
            if let Err(error) = Owners::parse(&String::from_utf8_lossy(&bytes)) {
                report.problems.push(format!("{path}: {error}"));
            } else if let Some((config, root)) = &signed
                && let Err(error) = signing::parse_owner_keys(label, &config.id, root, &name, Some(&bytes))
            {
                report.problems.push(error.to_string());
            }
            continue;
        }
        if !path.starts_with("index/") {
            report.problems.push(format!("{path}: not part of the registry format"));
            continue;
        }
        if path != &layout.index_path(&name) {
            // Clients read an agent's index file at its layout's path only: one anywhere else
            // is not seen (format 1's prefix paths are left over in a format-2 registry until
            // `agents registry migrate` moves them).
            report.problems.push(format!(
                "{path}: the index file of `{name}` belongs at {} in {layout}; clients never read it here",
                layout.index_path(&name)
            ));
        }
        report.agents += 1;
        let text = String::from_utf8_lossy(&bytes);
        let index = IndexFile::parse(&text);
        for invalid in &index.invalid {
            report.problems.push(format!("{path}:{}: {}", invalid.line, invalid.message));
        }
        if index.invalid.is_empty() && index.to_text() != text {
            report.problems.push(format!("{path}: not in canonical form (one compact JSON record per line)"));
        }
        let mut seen = BTreeSet::new();
        for record in index.records() {
            report.versions += 1;
            let agent = format!("{}@{}", record.name, record.version);
            if record.name != name {
                report.problems.push(format!("{path}: record for `{}` in the index file of `{name}`", record.name));
            }
            if !seen.insert(record.version.clone()) {
                report.problems.push(format!("{path}: {agent} is listed twice"));
            }
            if let Some((config, root)) = &signed {
                let owners = blob_text(repository, tree, &layout.owners_path(&name));
                if let Err(error) = signing::verify_record(label, &config.id, root, owners.as_deref(), record) {
                    report.problems.push(error.to_string());
                }
                if record.yanked || record.yank.is_some() {
                    let mut keys = signing::parse_owner_keys(label, &config.id, root, &name, owners.as_deref())
                        .ok()
                        .flatten()
                        .map(|(_, keys)| keys)
                        .unwrap_or_default();
                    keys.push(root.key.clone());
                    match signing::verified_yank(&config.id, &keys, record) {
                        Ok(Some(state)) if state == record.yanked => {}
                        Ok(Some(_)) => {
                            report.problems.push(format!("{agent}: `yanked` is not what its signed statement says"))
                        }
                        Ok(None) => report.problems.push(format!("{agent} is yanked without an owner's signature")),
                        Err(reason) => {
                            report.problems.push(format!("{agent}: its yank statement is refused: {reason}"))
                        }
                    }
                }
            }
            if !is_valid_utc(&record.published) {
                report.problems.push(format!("{agent}: publish time `{}` is not RFC 3339 UTC", record.published));
            }
            if record.is_package() {
                if record.kind == agents_format::Kind::Skill
                    && let Some(skill) = record.files.iter().find(|f| f.path.as_str() == agents_format::SKILL_FILE)
                {
                    let bytes = layout
                        .lookups(record.kind, &skill.sha256)
                        .into_iter()
                        .find_map(|path| blob_text(repository, tree, &path));
                    // Named by its directory (the record's name), as Claude Code loads it: a
                    // `name` field that says otherwise is what publish warned about, not a problem.
                    match bytes.map(|bytes| agents_format::read_skill_file(&bytes, &record.name)) {
                        Some(Err(error)) => report.problems.push(format!("{agent}: SKILL.md is not valid: {error}")),
                        Some(Ok((file, _))) => {
                            if let Err(error) = agents_format::check_skill(
                                &file.name,
                                file.description.as_deref(),
                                record.name.as_str(),
                            ) {
                                report.problems.push(format!("{agent}: {error}"));
                            }
                        }
                        None => {}
                    }
                }
                for file in &record.files {
                    let found = layout
                        .lookups(record.kind, &file.sha256)
                        .into_iter()
                        .find_map(|p| blob_text(repository, tree, &p).map(|b| (p, b)));
                    match found {
                        None => report.problems.push(format!("{agent}: the body of `{}` is missing", file.path)),
                        Some((body, bytes)) => {
                            if Sha256::of(&bytes) != file.sha256 || bytes.len() as u64 != file.length {
                                report
                                    .problems
                                    .push(format!("{agent}: `{}` does not match its sha256 and length", file.path));
                            }
                            referenced.insert(body);
                        }
                    }
                }
                continue;
            }
            let body = layout.body_path(Kind::Agent, &record.sha256);
            let found = layout
                .lookups(Kind::Agent, &record.sha256)
                .into_iter()
                .find_map(|path| blob_text(repository, tree, &path).map(|bytes| (path, bytes)));
            if let Some((at, _)) = &found {
                referenced.insert(at.clone());
                // Found only at the other depth: a client of this format that predates the
                // fallback would not find it.
                if at != &body {
                    report.problems.push(format!("{agent}: body is at {at}, but {layout} keeps it at {body}"));
                }
            }
            match found.map(|(_, bytes)| bytes) {
                None => report.problems.push(format!("{agent}: body {body} is missing")),
                Some(bytes) if Sha256::of(&bytes) != record.sha256 || bytes.len() as u64 != record.length => {
                    report.problems.push(format!("{agent}: body does not match its sha256 and length"))
                }
                Some(bytes) => match agents_format::AgentFile::parse(&bytes) {
                    Err(error) => report.problems.push(format!("{agent}: not a valid agent file: {error}")),
                    Ok(file) if file.name != record.name => report
                        .problems
                        .push(format!("{agent}: the body declares `name: {}`, another agent's name", file.name)),
                    Ok(_) => {}
                },
            }
        }
    }
    for (path, _) in files.iter().filter(|(p, _)| p.starts_with("bodies/")) {
        if !referenced.contains(path) && !misplaced.contains(path) {
            report.problems.push(format!("{path}: no record refers to this body"));
        }
    }
    Ok(())
}

/// A record as it must stay forever: everything but the yank flag and its signed statement
/// (whose `change` may only grow); its signature too once the registry signs (before, a
/// signature means nothing, and `agents registry sign` writes the root's).
fn frozen(record: &IndexRecord, signed_before: bool) -> IndexRecord {
    let signature = if signed_before { record.signature.clone() } else { None };
    IndexRecord { yanked: false, yank: None, signature, ..record.clone() }
}

/// The number of a record's signed yank statement, 0 without one.
fn yank_change(record: &IndexRecord) -> u64 {
    record.yank.as_ref().map_or(0, |statement| statement.change)
}

fn check_immutability(
    repository: &git2::Repository,
    old: &git2::Tree<'_>,
    new: &git2::Tree<'_>,
    revision: &str,
    report: &mut CheckReport,
) {
    let mut index_files = Vec::new();
    let _ = old.walk(git2::TreeWalkMode::PreOrder, |directory, entry| {
        if directory.starts_with("index/") && entry.kind() == Some(git2::ObjectType::Blob) {
            index_files.push(format!("{directory}{}", entry.name().unwrap_or_default()));
        }
        git2::TreeWalkResult::Ok
    });
    // A migration moves index files: each agent's file is compared with the one at the path the
    // new tree's layout gives its name.
    let (old_layout, new_layout) = (tree_layout(repository, old), tree_layout(repository, new));
    let signed_before = blob_text(repository, old, "config.json")
        .and_then(|text| RegistryConfig::parse(&String::from_utf8_lossy(&text)).ok())
        .is_some_and(|config| config.extra.contains_key(agents_format::CONFIG_ROOT_FIELD));
    for path in index_files {
        let new_path =
            old_layout.name_at_index_path(&path).map_or_else(|| path.clone(), |name| new_layout.index_path(&name));
        let read = |tree, path: &str| {
            blob_text(repository, tree, path).map(|b| IndexFile::parse(&String::from_utf8_lossy(&b)))
        };
        let (Some(before), after) = (read(old, &path), read(new, &new_path)) else { continue };
        let after = after.unwrap_or_default();
        for record in before.records() {
            let agent = format!("{}@{}", record.name, record.version);
            match after.find(&record.version) {
                None => report.problems.push(format!("{agent} was published at {revision} and is gone")),
                Some(now) if frozen(now, signed_before) != frozen(record, signed_before) => {
                    report.problems.push(format!("{agent} changed since {revision} (only `yanked` may change)"))
                }
                Some(now) if yank_change(now) < yank_change(record) => report.problems.push(format!(
                    "{agent}: its signed yank statement went back since {revision} ({} → {})",
                    yank_change(record),
                    yank_change(now)
                )),
                Some(_) => {}
            }
        }
    }
}

/// Every commit after `since` (or HEAD alone) may only touch agents whose owners list, in the
/// commit's parent, names the commit's author.
fn check_owners(
    repository: &git2::Repository,
    head: git2::Oid,
    since: Option<git2::Oid>,
    report: &mut CheckReport,
) -> Result<()> {
    let mut walk = repository.revwalk().context(|| "walk history".to_owned())?;
    walk.push(head).context(|| "walk history".to_owned())?;
    match since {
        Some(since) => walk.hide(since).context(|| "walk history".to_owned())?,
        None => walk.simplify_first_parent().context(|| "walk history".to_owned())?,
    }
    for (position, oid) in walk.enumerate() {
        if since.is_none() && position > 0 {
            break;
        }
        let oid = oid.context(|| "walk history".to_owned())?;
        let commit = repository.find_commit(oid).context(|| format!("read commit {oid}"))?;
        let Ok(parent) = commit.parent(0) else { continue };
        report.commits_checked += 1;
        let (old, new) =
            (parent.tree().context(|| "read tree".to_owned())?, commit.tree().context(|| "read tree".to_owned())?);
        let diff = repository.diff_tree_to_tree(Some(&old), Some(&new), None).context(|| "diff commits".to_owned())?;
        let mut agents = BTreeSet::new();
        for delta in diff.deltas() {
            for file in [delta.old_file(), delta.new_file()] {
                let Some(path) = file.path().and_then(|p| p.to_str()) else { continue };
                if (path.starts_with("index/") || path.starts_with("owners/"))
                    && let Some(name) = path.rsplit('/').next().and_then(|leaf| AgentName::new(leaf).ok())
                {
                    agents.insert(name);
                }
            }
        }
        let author = commit.author().email().unwrap_or_default().to_owned();
        // A root rotation signs the old root's revisions again: their keys stay, their
        // signatures are the new root's.
        let root_of = |tree: &git2::Tree<'_>| {
            blob_text(repository, tree, "config.json")
                .and_then(|text| RegistryConfig::parse(&String::from_utf8_lossy(&text)).ok())
                .and_then(|config| config.extra.get(agents_format::CONFIG_ROOT_FIELD).cloned())
        };
        let rotates = root_of(&old).is_some() && root_of(&old) != root_of(&new);
        let unsigned =
            |revisions: &[agents_format::OwnersRevision]| -> Vec<(Vec<String>, Vec<agents_format::Retained>)> {
                revisions.iter().map(|r| (r.keys.clone(), r.retained.clone())).collect()
            };
        for name in agents {
            let Some(text) = blob_text(repository, &old, &tree_layout(repository, &old).owners_path(&name)) else {
                continue;
            };
            let Ok(owners) = Owners::parse(&String::from_utf8_lossy(&text)) else { continue };
            // A signed list may only grow by revisions: a client reading the tip alone cannot
            // tell a rolled-back or replaced list from the real one, so CI must.
            if !owners.signed.is_empty() {
                let now = blob_text(repository, &new, &tree_layout(repository, &new).owners_path(&name))
                    .and_then(|text| Owners::parse(&String::from_utf8_lossy(&text)).ok());
                let extends = now.as_ref().is_some_and(|now| {
                    now.signed.starts_with(&owners.signed)
                        || (rotates && unsigned(&now.signed).starts_with(&unsigned(&owners.signed)))
                });
                if !extends {
                    let short = &oid.to_string()[..10];
                    report.problems.push(format!(
                        "commit {short} rewrites the signed owners list of `{name}` instead of appending a revision"
                    ));
                }
            }
            // Signatures say who may publish; e-mail addresses only where a list names them.
            if !owners.owners.is_empty() && !owners.allows(&author) {
                let short = &oid.to_string()[..10];
                report.problems.push(format!(
                    "commit {short} by <{author}> changes `{name}`, whose owners are {}",
                    owners.owners.join(", ")
                ));
            }
        }
    }
    Ok(())
}
