//! Search summaries: one line per agent (name, latest version, description), so `search` reads
//! one file instead of every index file of the registry.
//!
//! A summary is derived data kept in the cache beside a registry's clone, never in the registry
//! itself: publishing stays one index line and one body. It is keyed by the id of the snapshot's
//! `index` tree, which names its content exactly, so a summary is either current or rebuilt.
//! When the registry moves on (a fetch), only the index files whose blobs changed between the
//! old and the new tree are read again: unchanged subtrees are skipped by id, so an update after
//! one publish costs a few tree reads, not a walk of the registry.
//!
//! File format (JSON lines): `{"schema":3,"index":"<tree id>","layout":<format>}`, then one
//! `{"name":…,"version":…,"description":…}` per agent in the index tree's order (by index path,
//! component by component), then `{"agents":N}`. A
//! file that does not parse, or lacks its last line, is rebuilt. Updating one streams the old
//! file into the new, so memory stays flat however large the registry; failing to write one (a
//! read-only cache) only costs each search a read of every index file.

use std::collections::BTreeMap;
use std::io::{BufRead as _, Write as _};
use std::path::Path;

use agents_format::{AgentName, IndexFile, Layout, select};

use crate::error::{GitContext as _, RegistryError, Result};

// 2: entries carry `kind`; a summary of schema 1 is rebuilt, so packages never show as agents.
// 3: the header names the registry's layout, whose index paths give the lines' order; a summary
// of another layout (the registry migrated) is rebuilt, never merged into.
const SCHEMA: u32 = 3;

/// An agent as `search` shows it: its latest version (the newest not yanked, else the newest).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    pub name: AgentName,
    pub version: semver::Version,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What the name publishes (absent: an agent).
    #[serde(default, skip_serializing_if = "agents_format::Kind::is_agent")]
    pub kind: agents_format::Kind,
}

impl Summary {
    /// The summary of `name`'s index file; `None` when it holds no record of that agent.
    pub fn of(name: &AgentName, index: &IndexFile) -> Option<Summary> {
        let own = || index.records().filter(|record| &record.name == name);
        let latest =
            select(own(), &semver::VersionReq::STAR).or_else(|| own().max_by(|a, b| a.version.cmp(&b.version)))?;
        Some(Summary {
            name: name.clone(),
            version: latest.version.clone(),
            description: latest.description.clone(),
            kind: latest.kind,
        })
    }
}

impl Summary {
    /// Whether every word (already lowercase) occurs in the name or the description.
    pub fn matches(&self, words: &[String]) -> bool {
        let haystack = format!("{} {}", self.name, self.description.as_deref().unwrap_or_default()).to_lowercase();
        words.iter().all(|word| haystack.contains(word.as_str()))
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    schema: u32,
    index: String,
    layout: Layout,
}

/// The last line: how many agents the file holds, so a file cut short is rebuilt, not trusted.
#[derive(serde::Serialize, serde::Deserialize)]
struct Trailer {
    agents: usize,
}

/// The summaries that match `words` (lowercase; none matches all), sorted by name, through the
/// summary file at `file`: streamed when current, else first brought up to date (or rebuilt)
/// from the snapshot whose root tree is `root`.
pub(crate) fn search(
    repository: &git2::Repository,
    layout: Layout,
    root: git2::Oid,
    file: &Path,
    words: &[String],
) -> Result<Vec<Summary>> {
    let Some(index) = index_tree(repository, root)? else { return Ok(Vec::new()) };
    if let Some(hits) = search_file(file, layout, index, words) {
        return Ok(hits);
    }
    let previous = read_header(file, layout).filter(|at| repository.find_tree(*at).is_ok());
    let written = match write(repository, layout, index, previous, file) {
        // The old file did not hold up as a base: start over.
        Ok(false) => write(repository, layout, index, None, file),
        other => other,
    };
    match written {
        Ok(_) => {
            if let Some(hits) = search_file(file, layout, index, words) {
                return Ok(hits);
            }
        }
        Err(error) => tracing::debug!("cannot keep the search summary {}: {error}", file.display()),
    }
    // No summary file to be had (a read-only cache): read every index file for this search.
    let mut hits: Vec<Summary> =
        all(repository, layout, index)?.into_iter().filter(|summary| summary.matches(words)).collect();
    hits.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(hits)
}

/// Searches the summary file when it is current and whole; `None` sends the caller to rebuild.
/// A line is parsed only when its raw text holds every word, so neither the time nor the memory
/// of a search grows with the agents that do not match.
fn search_file(file: &Path, layout: Layout, index: git2::Oid, words: &[String]) -> Option<Vec<Summary>> {
    if read_header(file, layout)? != index {
        return None;
    }
    // A word with a character JSON escapes may be spelled differently in the raw line: those
    // searches parse every line.
    let raw_filter = words.iter().all(|word| !word.chars().any(|c| c == '"' || c == '\\' || c.is_control()));
    let (mut count, mut hits) = (0, Vec::new());
    let mut whole = false;
    for line in std::io::BufReader::new(std::fs::File::open(file).ok()?).lines().skip(1) {
        let line = line.ok()?;
        if whole {
            return None;
        }
        if line.starts_with("{\"agents\":") {
            whole = serde_json::from_str::<Trailer>(&line).ok()?.agents == count;
            if !whole {
                return None;
            }
            continue;
        }
        count += 1;
        if raw_filter {
            let lower = line.to_lowercase();
            if !words.iter().all(|word| lower.contains(word.as_str())) {
                continue;
            }
        }
        let summary: Summary = serde_json::from_str(&line).ok()?;
        if summary.matches(words) {
            hits.push(summary);
        }
    }
    hits.sort_by(|a, b| a.name.cmp(&b.name));
    whole.then_some(hits)
}

/// The index tree a summary file was made from, when it has a header we understand and was
/// made for `layout`.
fn read_header(file: &Path, layout: Layout) -> Option<git2::Oid> {
    let mut first = String::new();
    std::io::BufReader::new(std::fs::File::open(file).ok()?).read_line(&mut first).ok()?;
    let header: Header = serde_json::from_str(&first).ok()?;
    (header.schema == SCHEMA && header.layout == layout).then_some(())?;
    git2::Oid::from_str(&header.index).ok()
}

/// Writes the summary of the index tree `index` to `file` (atomically), from the summary of
/// the tree `previous` that `file` holds (reading only the index files that changed) or, with
/// no previous, from every index file. `Ok(false)`: the old file was not usable as a base.
fn write(
    repository: &git2::Repository,
    layout: Layout,
    index: git2::Oid,
    previous: Option<git2::Oid>,
    file: &Path,
) -> Result<bool> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let io = |error: std::io::Error| RegistryError::Io { path: file.to_path_buf(), source: error };
    let mut temp = tempfile::Builder::new().prefix(".summary-").tempfile_in(dir).map_err(io)?;
    let mut out = std::io::BufWriter::new(temp.as_file_mut());
    let header = serde_json::to_string(&Header { schema: SCHEMA, index: index.to_string(), layout })
        .map_err(|e| io(e.into()))?;
    writeln!(out, "{header}").map_err(io)?;
    let mut count = 0;
    let mut emit = |line: &str| -> std::io::Result<()> {
        count += 1;
        writeln!(out, "{line}")
    };
    match previous {
        Some(at) => {
            // Changed agents in tree order: their new line, or None when removed.
            let mut changed: Vec<(AgentName, Option<String>)> = Vec::new();
            changed_files(repository, Some(at), Some(index), "index/", &mut |path, blob| {
                let Some(name) = layout.name_at_index_path(&path) else { return Ok(()) };
                let line = match blob {
                    Some(blob) => read_summary(repository, &name, blob)?.map(|summary| line_of(&summary)),
                    None => None,
                };
                changed.push((name, line));
                Ok(())
            })?;
            let Ok(old) = std::fs::File::open(file) else { return Ok(false) };
            let mut pending = changed.into_iter().peekable();
            let mut trailer = None;
            for line in std::io::BufReader::new(old).lines().skip(1) {
                let Ok(line) = line else { return Ok(false) };
                if line.starts_with("{\"agents\":") {
                    trailer = serde_json::from_str::<Trailer>(&line).ok();
                    break;
                }
                let Some(name) = name_of(&line).and_then(|name| AgentName::new(name).ok()) else { return Ok(false) };
                while let Some((_, new)) = pending.next_if(|(changed, _)| tree_order(layout, changed, &name).is_lt()) {
                    if let Some(new) = new {
                        emit(&new).map_err(io)?;
                    }
                }
                match pending.next_if(|(changed, _)| changed == &name) {
                    Some((_, Some(new))) => emit(&new).map_err(io)?,
                    Some((_, None)) => {}
                    None => emit(&line).map_err(io)?,
                }
            }
            if trailer.is_none() {
                return Ok(false);
            }
            for (_, new) in pending {
                if let Some(new) = new {
                    emit(&new).map_err(io)?;
                }
            }
        }
        None => {
            let mut failed = None;
            each(repository, layout, index, &mut |summary| {
                if failed.is_none()
                    && let Err(error) = emit(&line_of(&summary))
                {
                    failed = Some(error);
                }
            })?;
            if let Some(error) = failed {
                return Err(io(error));
            }
        }
    }
    let trailer = serde_json::to_string(&Trailer { agents: count }).map_err(|e| io(e.into()))?;
    writeln!(out, "{trailer}").map_err(io)?;
    out.flush().map_err(io)?;
    drop(out);
    // Derived data: no fsync. A file cut short by a power cut lacks its trailer and is rebuilt.
    temp.persist(file).map_err(|error| io(error.error))?;
    Ok(true)
}

fn line_of(summary: &Summary) -> String {
    serde_json::to_string(summary).expect("a summary serialises")
}

/// The order the index tree lists agents in (path component by component), which is the
/// order of a summary file's lines: a file is written and merged without sorting in memory.
fn tree_order(layout: Layout, a: &AgentName, b: &AgentName) -> std::cmp::Ordering {
    layout.index_path(a).split('/').cmp(layout.index_path(b).split('/'))
}

/// The name a summary line is for: `{"name":"NAME",…` (names hold no quote or escape).
fn name_of(line: &str) -> Option<&str> {
    line.strip_prefix("{\"name\":\"")?.split('"').next()
}

/// Every agent's summary, read from each index file of the tree `index`, in index-path order.
pub(crate) fn all(repository: &git2::Repository, layout: Layout, index: git2::Oid) -> Result<Vec<Summary>> {
    let mut summaries = Vec::new();
    each(repository, layout, index, &mut |summary| summaries.push(summary))?;
    Ok(summaries)
}

/// Calls `visit` with every agent's summary, one index file at a time, in index-path order.
fn each(repository: &git2::Repository, layout: Layout, index: git2::Oid, visit: &mut dyn FnMut(Summary)) -> Result<()> {
    changed_files(repository, None, Some(index), "index/", &mut |path, blob| {
        if let (Some(name), Some(blob)) = (layout.name_at_index_path(&path), blob)
            && let Some(summary) = read_summary(repository, &name, blob)?
        {
            visit(summary);
        }
        Ok(())
    })
}

pub(crate) fn index_tree(repository: &git2::Repository, root: git2::Oid) -> Result<Option<git2::Oid>> {
    let root = repository.find_tree(root).context(|| format!("read tree {root}"))?;
    Ok(root.get_name("index").filter(|entry| entry.kind() == Some(git2::ObjectType::Tree)).map(|entry| entry.id()))
}

fn read_summary(repository: &git2::Repository, name: &AgentName, blob: git2::Oid) -> Result<Option<Summary>> {
    // Through the object database: the object cache would keep every index file alive.
    let odb = repository.odb().context(|| "open the object database".to_owned())?;
    let (len, _) = odb.read_header(blob).context(|| format!("read the index file of `{name}`"))?;
    if len > agents_format::MAX_INDEX_FILE_LEN {
        // Unread, as an index file that does not parse: `install` refuses it with the reason.
        return Ok(None);
    }
    let object = odb.read(blob).context(|| format!("read the index file of `{name}`"))?;
    Ok(Summary::of(name, &IndexFile::parse(&String::from_utf8_lossy(object.data()))))
}

/// Calls `visit` with each blob that differs between the trees `old` and `new` (either may be
/// absent), as `(path, new blob or None when removed)`. Subtrees with the same id on both sides
/// are skipped without being read.
fn changed_files(
    repository: &git2::Repository,
    old: Option<git2::Oid>,
    new: Option<git2::Oid>,
    prefix: &str,
    visit: &mut dyn FnMut(String, Option<git2::Oid>) -> Result<()>,
) -> Result<()> {
    if old == new {
        return Ok(());
    }
    let entries = |tree: Option<git2::Oid>| -> Result<BTreeMap<String, (git2::Oid, bool)>> {
        let Some(tree) = tree else { return Ok(BTreeMap::new()) };
        let tree = repository.find_tree(tree).context(|| format!("read tree {tree}"))?;
        Ok(tree
            .iter()
            .filter_map(|entry| {
                let is_tree = match entry.kind() {
                    Some(git2::ObjectType::Tree) => true,
                    Some(git2::ObjectType::Blob) => false,
                    _ => return None,
                };
                Some((entry.name()?.to_owned(), (entry.id(), is_tree)))
            })
            .collect())
    };
    let (before, after) = (entries(old)?, entries(new)?);
    let names: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for name in names {
        let (was, is) = (before.get(name), after.get(name));
        if was == is {
            continue;
        }
        let path = format!("{prefix}{name}");
        let tree_of = |side: Option<&(git2::Oid, bool)>| side.filter(|(_, is_tree)| *is_tree).map(|(id, _)| *id);
        let blob_of = |side: Option<&(git2::Oid, bool)>| side.filter(|(_, is_tree)| !*is_tree).map(|(id, _)| *id);
        if tree_of(was).is_some() || tree_of(is).is_some() {
            changed_files(repository, tree_of(was), tree_of(is), &format!("{path}/"), visit)?;
        }
        if blob_of(was).is_some() || blob_of(is).is_some() {
            visit(path, blob_of(is))?;
        }
    }
    Ok(())
}
