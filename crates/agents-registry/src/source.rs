//! Where a registry's tree is read from: the embedded built-in registry, or one commit of a git
//! repository read straight from its object database (no work tree, no line-ending conversion),
//! or a sparse registry read file by file over HTTP through its cache.

use std::path::Path;

use agents_format::MAX_INDEX_FILE_LEN;

use crate::error::{GitContext, RegistryError, Result};

include!(concat!(env!("OUT_DIR"), "/builtin_files.rs"));

/// A read-only snapshot of a registry tree.
pub(crate) enum Source {
    Builtin,
    Git { repository: git2::Repository, tree: git2::Oid, commit: git2::Oid },
    Sparse(Box<crate::sparse::Sparse>),
}

impl Source {
    /// Reads the file at `path` (slash-separated, relative to the registry root), refusing one
    /// larger than `limit` bytes before reading it (git knows a blob's size from its header).
    pub(crate) fn read(&self, path: &str, limit: usize) -> Result<Option<Vec<u8>>> {
        match self {
            Source::Builtin => match builtin_file(path) {
                Some(bytes) if bytes.len() > limit => Err(too_large(path, bytes.len(), limit)),
                found => Ok(found.map(<[u8]>::to_vec)),
            },
            Source::Git { repository, tree, .. } => {
                let tree = repository.find_tree(*tree).context(|| format!("read tree {tree}"))?;
                let entry = match tree.get_path(Path::new(path)) {
                    Ok(entry) => entry,
                    Err(error) if error.code() == git2::ErrorCode::NotFound => return Ok(None),
                    Err(error) => return Err(error).context(|| format!("look up `{path}`")),
                };
                if entry.kind() != Some(git2::ObjectType::Blob) {
                    return Ok(None);
                }
                read_blob(repository, entry.id(), path, limit).map(Some)
            }
            Source::Sparse(sparse) => sparse.read(path, limit),
        }
    }

    /// Calls `visit` with every index file's leaf name and bytes, in tree order, reading each
    /// blob once by id (no path lookups, nothing kept): what `search` over a large registry needs.
    pub(crate) fn for_each_index(&self, mut visit: impl FnMut(&str, &[u8])) -> Result<()> {
        match self {
            Source::Builtin => {
                for (path, bytes) in FILES {
                    if let Some(rest) = path.strip_prefix("index/") {
                        visit(rest.rsplit('/').next().unwrap_or(rest), bytes);
                    }
                }
                Ok(())
            }
            Source::Git { repository, tree, .. } => {
                let tree = repository.find_tree(*tree).context(|| format!("read tree {tree}"))?;
                let Ok(index) = tree.get_path(Path::new("index")) else { return Ok(()) };
                let index = repository.find_tree(index.id()).context(|| "read the index tree".to_owned())?;
                let odb = repository.odb().context(|| "open the object database".to_owned())?;
                let mut failure = None;
                index
                    .walk(git2::TreeWalkMode::PreOrder, |_, entry| {
                        if entry.kind() == Some(git2::ObjectType::Blob)
                            && let Some(name) = entry.name()
                        {
                            // An index file over the limit is left out, unread, as one that
                            // does not parse would be: it is nobody's version.
                            if odb.read_header(entry.id()).is_ok_and(|(len, _)| len > MAX_INDEX_FILE_LEN) {
                                tracing::warn!(name, "index file over {MAX_INDEX_FILE_LEN} bytes left out");
                                return git2::TreeWalkResult::Ok;
                            }
                            // Read through the object database directly: the object cache would
                            // keep every index file of the registry alive.
                            match odb.read(entry.id()) {
                                Ok(object) => visit(name, object.data()),
                                Err(error) => {
                                    failure = Some(error);
                                    return git2::TreeWalkResult::Abort;
                                }
                            }
                        }
                        git2::TreeWalkResult::Ok
                    })
                    .context(|| "walk the index tree".to_owned())?;
                match failure {
                    Some(error) => Err(error).context(|| "read an index file".to_owned()),
                    None => Ok(()),
                }
            }
            // Listing a sparse registry would mean fetching every index file; `Registry`
            // refuses before it gets here.
            Source::Sparse(sparse) => Err(RegistryError::SearchUnsupported {
                registry: sparse.url().to_owned(),
                url: sparse.url().to_owned(),
            }),
        }
    }

    /// The commit a git snapshot was taken from.
    pub(crate) fn commit(&self) -> Option<git2::Oid> {
        match self {
            Source::Builtin | Source::Sparse(_) => None,
            Source::Git { commit, .. } => Some(*commit),
        }
    }
}

/// Reads blob `oid` (the file at `path`, for messages) through the object database, refusing it
/// unread when its header says it is larger than `limit` bytes.
pub(crate) fn read_blob(repository: &git2::Repository, oid: git2::Oid, path: &str, limit: usize) -> Result<Vec<u8>> {
    let odb = repository.odb().context(|| "open the object database".to_owned())?;
    let (len, _) = odb.read_header(oid).context(|| format!("read `{path}`"))?;
    if len > limit {
        return Err(too_large(path, len, limit));
    }
    let object = odb.read(oid).context(|| format!("read `{path}`"))?;
    Ok(object.data().to_vec())
}

fn too_large(path: &str, len: usize, limit: usize) -> RegistryError {
    RegistryError::TooLarge { what: format!("`{path}`"), len: len as u64, limit: limit as u64 }
}

fn builtin_file(path: &str) -> Option<&'static [u8]> {
    FILES.binary_search_by(|(candidate, _)| candidate.cmp(&path)).ok().map(|i| FILES[i].1)
}

/// Every file of the built-in registry, sorted by path (for tidy checks and tools).
pub fn builtin_files() -> &'static [(&'static str, &'static [u8])] {
    FILES
}
