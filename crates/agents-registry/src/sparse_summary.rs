//! The search summary a sparse registry publishes beside its tree (`search.json`): a static
//! host cannot list index files, so its CI writes, from the git repository, one line per agent
//! with the name, latest version and description `search` shows, and the sha256 of the index
//! file the line was made from. A client checks each line against that index file whenever it
//! holds it, and shows what the index file says when they differ: the summary can be stale,
//! never more authoritative than the index.

use std::path::Path;

use agents_format::{AgentName, IndexFile, MAX_INDEX_FILE_LEN, RegistryId, Sha256};

use crate::error::{RegistryError, Result};
use crate::registry::Registry;
use crate::sparse::Sparse;
use crate::summary::Summary;

/// Where the summary is served, relative to the registry's base URL.
pub const SEARCH_SUMMARY_PATH: &str = "search.json";
/// The largest summary a client reads (about 400,000 agents of 160 bytes).
pub const MAX_SEARCH_SUMMARY_LEN: usize = 64 << 20;

#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    schema: u32,
    registry: RegistryId,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Line {
    name: AgentName,
    version: semver::Version,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    /// What the name publishes (absent: an agent).
    #[serde(default, skip_serializing_if = "agents_format::Kind::is_agent")]
    kind: agents_format::Kind,
    index_sha256: Sha256,
}

/// Writes the search summary of the git registry at `path` (bare or not, at `HEAD`): a header
/// line `{"schema":1,"registry":ID}`, then one line per agent, sorted by name.
pub fn search_summary(path: &Path) -> Result<String> {
    let registry = Registry::open_repository(path)?;
    let mut lines = Vec::new();
    registry.source().for_each_index(registry.layout(), |name, bytes| {
        lines.extend(search_summary_line(&name, bytes).map(|line| (name, line)));
    })?;
    lines.sort_by(|a, b| a.0.cmp(&b.0));
    let mut text = search_summary_header(&registry);
    for (_, line) in &lines {
        text.push_str(line);
        text.push('\n');
    }
    Ok(text)
}

/// The first line of `registry`'s search summary, with its newline.
pub fn search_summary_header(registry: &Registry) -> String {
    let header = Header { schema: 1, registry: registry.config.id.clone() };
    let mut text = serde_json::to_string(&header).expect("the header serialises");
    text.push('\n');
    text
}

/// The search summary line (without its newline) of `name`, whose index file holds `bytes`;
/// `None` when it has no version to show. The summary lists them sorted by name.
pub fn search_summary_line(name: &AgentName, bytes: &[u8]) -> Option<String> {
    let summary = Summary::of(name, &IndexFile::parse(&String::from_utf8_lossy(bytes)))?;
    let line = Line {
        name: name.clone(),
        version: summary.version,
        description: summary.description,
        kind: summary.kind,
        index_sha256: Sha256::of(bytes),
    };
    Some(serde_json::to_string(&line).expect("a summary line serialises"))
}

/// Every agent of the sparse registry `registry` as its published summary gives it, each line
/// checked against its index file when the cache holds that file. No summary (a 404) is
/// `RegistryError::SearchUnsupported`; a summary of another registry is refused.
pub(crate) fn summaries(registry: &Registry, sparse: &Sparse) -> Result<Vec<Summary>> {
    let unsupported =
        || RegistryError::SearchUnsupported { registry: registry.name.clone(), url: registry.url.clone() };
    let bytes = sparse.read(SEARCH_SUMMARY_PATH, MAX_SEARCH_SUMMARY_LEN)?.ok_or_else(unsupported)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut lines = text.lines();
    let header: Option<Header> = lines.next().and_then(|line| serde_json::from_str(line).ok());
    match header {
        Some(header) if header.schema == 1 && header.registry == registry.config.id => {}
        Some(header) if header.schema == 1 => {
            return Err(RegistryError::NotARegistry {
                url: registry.url.clone(),
                reason: format!(
                    "its {SEARCH_SUMMARY_PATH} summarises registry `{}`, not this one (`{}`)",
                    header.registry, registry.config.id
                ),
            });
        }
        _ => return Err(unsupported()),
    }
    let mut summaries = Vec::new();
    for line in lines {
        // A line this client cannot read is skipped, as an index line of another schema is.
        let Ok(line) = serde_json::from_str::<Line>(line) else { continue };
        let path = registry.layout().index_path(&line.name);
        if sparse.holds(&path)
            && let Ok(Some(index)) = sparse.read(&path, MAX_INDEX_FILE_LEN)
            && Sha256::of(&index) != line.index_sha256
        {
            tracing::debug!(name = %line.name, "search summary line is stale; using the index file");
            summaries.extend(Summary::of(&line.name, &IndexFile::parse(&String::from_utf8_lossy(&index))));
            continue;
        }
        summaries.push(Summary {
            name: line.name,
            version: line.version,
            description: line.description,
            kind: line.kind,
        });
    }
    Ok(summaries)
}
