//! Where a registry's tree is read from: the embedded built-in registry, or one commit of a git
//! repository read straight from its object database (no work tree, no line-ending conversion).

use std::path::Path;

use crate::error::{GitContext, Result};

include!(concat!(env!("OUT_DIR"), "/builtin_files.rs"));

/// A read-only snapshot of a registry tree.
pub(crate) enum Source {
    Builtin,
    Git { repository: git2::Repository, tree: git2::Oid, commit: git2::Oid },
}

impl Source {
    /// Reads the file at `path` (slash-separated, relative to the registry root).
    pub(crate) fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        match self {
            Source::Builtin => Ok(builtin_file(path).map(<[u8]>::to_vec)),
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
                let blob = repository.find_blob(entry.id()).context(|| format!("read `{path}`"))?;
                Ok(Some(blob.content().to_vec()))
            }
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
        }
    }

    /// The commit a git snapshot was taken from.
    pub(crate) fn commit(&self) -> Option<git2::Oid> {
        match self {
            Source::Builtin => None,
            Source::Git { commit, .. } => Some(*commit),
        }
    }
}

fn builtin_file(path: &str) -> Option<&'static [u8]> {
    FILES.binary_search_by(|(candidate, _)| candidate.cmp(&path)).ok().map(|i| FILES[i].1)
}

/// Every file of the built-in registry, sorted by path (for tidy checks and tools).
pub fn builtin_files() -> &'static [(&'static str, &'static [u8])] {
    FILES
}
