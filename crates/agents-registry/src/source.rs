//! Where a registry's tree is read from: the embedded built-in registry, or one commit of a git
//! repository read straight from its object database (no work tree, no line-ending conversion),
//! or a sparse registry read file by file over HTTP through its cache, or a registry's tree
//! exported as plain files into a directory (what a static host serves), read without following
//! links.

use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;

use agents_format::{AgentName, Layout, MAX_INDEX_FILE_LEN};

use crate::error::{GitContext, RegistryError, Result};
use crate::known_entries::{EntryKind, KnownEntries};

include!(concat!(env!("OUT_DIR"), "/builtin_files.rs"));

/// A read-only snapshot of a registry tree.
pub(crate) enum Source {
    Builtin,
    Git {
        repository: git2::Repository,
        tree: git2::Oid,
        commit: git2::Oid,
        trees: TreeMemo,
    },
    Sparse(Box<crate::sparse::Sparse>),
    /// An exported tree: the files of a commit in a directory (`git archive | tar -x`).
    Directory(std::path::PathBuf),
}

/// The directory trees one git snapshot has read, raw as git stores them, so that a command
/// reading many files of one directory (50 agents whose names share their first four letters
/// share one index tree) inflates and hashes it once. libgit2 caches no tree over 4 KiB, and
/// one index tree of a large registry holds thousands of entries. Kept up to
/// [`TREE_MEMO_BUDGET`] bytes; trees read beyond it are read again when needed.
///
/// A snapshot of a cache clone also remembers the entries it looked up between commands
/// ([`KnownEntries`], saved when the snapshot is dropped): a later command then reads only the
/// trees that changed since.
#[derive(Default)]
pub(crate) struct TreeMemo {
    trees: std::cell::RefCell<Kept>,
    known: Option<std::cell::RefCell<KnownEntries>>,
}

/// The trees a [`TreeMemo`] keeps, and their total size in bytes.
type Kept = (HashMap<git2::Oid, Rc<[u8]>>, usize);

/// How many bytes of trees one snapshot keeps.
const TREE_MEMO_BUDGET: usize = 4 << 20;

impl TreeMemo {
    /// A memo that starts from, and saves to, the entries remembered in `file`.
    pub(crate) fn remembered(file: std::path::PathBuf) -> TreeMemo {
        TreeMemo { trees: Default::default(), known: Some(std::cell::RefCell::new(KnownEntries::load(file))) }
    }

    /// The raw bytes of tree `oid`; `None` when `oid` is not a tree.
    fn tree(&self, repository: &git2::Repository, oid: git2::Oid) -> Result<Option<Rc<[u8]>>> {
        if let Some(raw) = self.trees.borrow().0.get(&oid) {
            return Ok(Some(raw.clone()));
        }
        let odb = repository.odb().context(|| "open the object database".to_owned())?;
        let object = odb.read(oid).context(|| format!("read tree {oid}"))?;
        if object.kind() != git2::ObjectType::Tree {
            return Ok(None);
        }
        let raw: Rc<[u8]> = Rc::from(object.data());
        let mut memo = self.trees.borrow_mut();
        if memo.1 + raw.len() <= TREE_MEMO_BUDGET {
            memo.1 += raw.len();
            memo.0.insert(oid, raw.clone());
        }
        Ok(Some(raw))
    }

    /// The entry `name` of tree `tree`: remembered, or read from the tree (and remembered).
    fn child(
        &self,
        repository: &git2::Repository,
        tree: git2::Oid,
        name: &str,
    ) -> Result<Option<(git2::Oid, EntryKind)>> {
        if let Some(known) = &self.known
            && let Some(found) = known.borrow_mut().get(tree, name.as_bytes())
        {
            return Ok(Some(found));
        }
        let Some(raw) = self.tree(repository, tree)? else { return Ok(None) };
        let Some((mode, oid)) = tree_entry(&raw, name.as_bytes()) else { return Ok(None) };
        let kind = EntryKind::of(mode);
        if let Some(known) = &self.known {
            known.borrow_mut().learn(tree, name.as_bytes(), oid, kind);
        }
        Ok(Some((oid, kind)))
    }

    /// The entry at `path` (slash-separated) below tree `root`: its id and whether it is a blob
    /// (as libgit2 says: a file or a symlink; not a tree, not a submodule).
    fn entry(&self, repository: &git2::Repository, root: git2::Oid, path: &str) -> Result<Option<(git2::Oid, bool)>> {
        let mut current = root;
        let mut components = path.split('/').peekable();
        while let Some(name) = components.next() {
            let Some((oid, kind)) = self.child(repository, current, name)? else { return Ok(None) };
            if components.peek().is_none() {
                return Ok(Some((oid, kind == EntryKind::Blob)));
            }
            if kind != EntryKind::Tree {
                return Ok(None);
            }
            current = oid;
        }
        Ok(None)
    }
}

impl Drop for TreeMemo {
    fn drop(&mut self) {
        if let Some(known) = &self.known {
            known.borrow().save();
        }
    }
}

/// The mode and id of the entry called `name` in a raw git tree (`<mode> <name>\0<20-byte id>`,
/// repeated); `None` when there is none or the tree is malformed.
fn tree_entry<'a>(mut raw: &'a [u8], name: &[u8]) -> Option<(&'a [u8], git2::Oid)> {
    while !raw.is_empty() {
        let space = raw.iter().position(|&b| b == b' ')?;
        let nul = space + raw[space..].iter().position(|&b| b == 0)?;
        let id = raw.get(nul + 1..nul + 21)?;
        if &raw[space + 1..nul] == name {
            return Some((&raw[..space], git2::Oid::from_bytes(id).ok()?));
        }
        raw = &raw[nul + 21..];
    }
    None
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
            Source::Git { repository, tree, trees, .. } => match trees.entry(repository, *tree, path)? {
                Some((oid, true)) => read_blob(repository, oid, path, limit).map(Some),
                _ => Ok(None),
            },
            Source::Sparse(sparse) => sparse.read(path, limit),
            Source::Directory(root) => read_in_directory(root, path, limit),
        }
    }

    /// Calls `visit` with the agent and bytes of every index file at the path `layout` gives its
    /// name (a file anywhere else is nobody's, as a read by name would never find it), in tree
    /// order, reading each blob once by id (no path lookups, nothing kept): what `search` over a
    /// large registry needs.
    pub(crate) fn for_each_index(&self, layout: Layout, mut visit: impl FnMut(AgentName, &[u8])) -> Result<()> {
        match self {
            Source::Builtin => {
                for (path, bytes) in FILES {
                    if let Some(name) = layout.name_at_index_path(path) {
                        visit(name, bytes);
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
                    .walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
                        if entry.kind() == Some(git2::ObjectType::Blob)
                            && let Some(name) = entry.name()
                            && let Some(agent) = layout.name_at_index_path(&format!("index/{dir}{name}"))
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
                                Ok(object) => visit(agent, object.data()),
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
            Source::Directory(root) => {
                let mut stack = vec![(root.join("index"), "index".to_owned())];
                while let Some((dir, relative)) = stack.pop() {
                    let entries = match std::fs::read_dir(&dir) {
                        Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                        entries => entries.map_err(crate::error::io_error(&dir))?,
                    };
                    let mut entries: Vec<_> =
                        entries.collect::<std::io::Result<_>>().map_err(crate::error::io_error(&dir))?;
                    entries.sort_by_key(std::fs::DirEntry::file_name);
                    for entry in entries {
                        let Some(name) = entry.file_name().to_str().map(str::to_owned) else { continue };
                        let path = format!("{relative}/{name}");
                        // `file_type` does not follow links: a link is nobody's index file.
                        let kind = entry.file_type().map_err(crate::error::io_error(entry.path()))?;
                        if kind.is_dir() {
                            stack.push((entry.path(), path));
                        } else if kind.is_file()
                            && let Some(agent) = layout.name_at_index_path(&path)
                        {
                            match read_in_directory(root, &path, MAX_INDEX_FILE_LEN) {
                                Ok(Some(bytes)) => visit(agent, &bytes),
                                Ok(None) => {}
                                Err(RegistryError::TooLarge { .. }) => {
                                    tracing::warn!(path, "index file over {MAX_INDEX_FILE_LEN} bytes left out");
                                }
                                Err(error) => return Err(error),
                            }
                        }
                    }
                }
                Ok(())
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
            Source::Builtin | Source::Sparse(_) | Source::Directory(_) => None,
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

/// Reads the registry file `path` of the tree exported into `root`: `None` when it is not
/// there, refused when any part of the way is a link or the file is not a regular file (an
/// exported tree is a registry pusher's: a link could point anywhere on this machine), or when
/// it holds more than `limit` bytes.
fn read_in_directory(root: &Path, path: &str, limit: usize) -> Result<Option<Vec<u8>>> {
    use std::io::Read as _;
    let refuse = |reason: &str| RegistryError::NotARegistry {
        url: root.display().to_string(),
        reason: format!("`{path}` {reason}"),
    };
    let mut full = root.to_path_buf();
    for part in path.split('/') {
        if part.is_empty() || part == "." || part == ".." {
            return Err(refuse("is not a path inside the registry"));
        }
        full.push(part);
        match std::fs::symlink_metadata(&full) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(RegistryError::Io { path: full, source: error }),
            Ok(metadata) if metadata.file_type().is_symlink() => return Err(refuse("is a symbolic link")),
            Ok(_) => {}
        }
    }
    let file = std::fs::File::open(&full).map_err(crate::error::io_error(&full))?;
    let metadata = file.metadata().map_err(crate::error::io_error(&full))?;
    if !metadata.is_file() {
        return Err(refuse("is not a regular file"));
    }
    if metadata.len() > limit as u64 {
        return Err(too_large(path, usize::try_from(metadata.len()).unwrap_or(usize::MAX), limit));
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(limit as u64 + 1).read_to_end(&mut bytes).map_err(crate::error::io_error(&full))?;
    if bytes.len() > limit {
        return Err(too_large(path, bytes.len(), limit));
    }
    Ok(Some(bytes))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree with files at several depths, an executable, a symlink and a directory, built
    /// in a real bare repository.
    fn repository() -> (tempfile::TempDir, git2::Repository, git2::Oid) {
        let dir = tempfile::tempdir().unwrap();
        let repository = git2::Repository::init_bare(dir.path()).unwrap();
        let blob = |bytes: &[u8]| repository.blob(bytes).unwrap();
        let tree = |entries: &[(&str, git2::Oid, i32)]| {
            let mut builder = repository.treebuilder(None).unwrap();
            for (name, oid, mode) in entries {
                builder.insert(name, *oid, *mode).unwrap();
            }
            builder.write().unwrap()
        };
        let deep = tree(&[("abcd", blob(b"index"), 0o100644), ("run", blob(b"x"), 0o100755)]);
        let middle = tree(&[("cd", deep, 0o040000), ("c", blob(b"c"), 0o100644)]);
        let index = tree(&[("ab", middle, 0o040000), ("a-b", blob(b"a-b"), 0o100644)]);
        let root = tree(&[
            ("config.json", blob(b"{}"), 0o100644),
            ("index", index, 0o040000),
            ("link", blob(b"config.json"), 0o120000),
        ]);
        (dir, repository, root)
    }

    #[test]
    fn the_memo_finds_what_libgit2_finds_and_reads_each_tree_once() {
        let (_dir, repository, root) = repository();
        let memo = TreeMemo::default();
        let tree = repository.find_tree(root).unwrap();
        for path in [
            "config.json",
            "index",
            "index/ab",
            "index/ab/cd/abcd",
            "index/ab/cd/run",
            "index/ab/c",
            "index/a-b",
            "link",
            "missing",
            "index/ab/cd/abc",
            "index/ab/cd/abcde",
            "config.json/x",
            "index/zz/cd/abcd",
        ] {
            let expected = tree
                .get_path(Path::new(path))
                .ok()
                .map(|entry| (entry.id(), entry.kind() == Some(git2::ObjectType::Blob)));
            assert_eq!(memo.entry(&repository, root, path).unwrap(), expected, "{path}");
        }
        // Every tree on the way was read once and kept: root, index, index/ab, index/ab/cd.
        assert_eq!(memo.trees.borrow().0.len(), 4);
        assert!(tree_entry(b"100644 name", b"name").is_none(), "a truncated tree is no entry");
    }

    const PATHS: [&str; 6] = ["index/ab/cd/abcd", "index/ab/cd/run", "index/a-b", "link", "missing", "index/ab/cd/x"];

    fn expected(repository: &git2::Repository, root: git2::Oid, path: &str) -> Option<(git2::Oid, bool)> {
        let tree = repository.find_tree(root).unwrap();
        tree.get_path(Path::new(path)).ok().map(|entry| (entry.id(), entry.kind() == Some(git2::ObjectType::Blob)))
    }

    #[test]
    fn remembered_entries_spare_the_next_snapshot_its_tree_reads_and_follow_a_changed_tree() {
        let (dir, repository, root) = repository();
        let file = dir.path().join("clone.trees");
        let first = TreeMemo::remembered(file.clone());
        for path in PATHS {
            assert_eq!(first.entry(&repository, root, path).unwrap(), expected(&repository, root, path), "{path}");
        }
        drop(first);

        // The next command finds every entry it found before without reading a tree. An entry
        // not found is not remembered: `missing` reads the root again, `index/ab/cd/x` its tree.
        let second = TreeMemo::remembered(file.clone());
        for path in PATHS {
            assert_eq!(second.entry(&repository, root, path).unwrap(), expected(&repository, root, path), "{path}");
        }
        let mut read: Vec<git2::Oid> = second.trees.borrow().0.keys().copied().collect();
        let mut absent_from = vec![root, expected(&repository, root, "index/ab/cd").unwrap().0];
        read.sort();
        absent_from.sort();
        assert_eq!(read, absent_from);
        drop(second);

        // The registry moves on: `index/ab/cd/abcd` changes, so the root, `index`, `index/ab` and
        // `index/ab/cd` are new trees. What is found is the new tree's, never a remembered
        // entry of the old one.
        let changed = {
            let old = repository.find_tree(root).unwrap();
            let mut builder = git2::build::TreeUpdateBuilder::new();
            builder.upsert("index/ab/cd/abcd", repository.blob(b"index, v2").unwrap(), git2::FileMode::Blob);
            builder.create_updated(&repository, &old).unwrap()
        };
        let third = TreeMemo::remembered(file);
        for path in PATHS {
            assert_eq!(
                third.entry(&repository, changed, path).unwrap(),
                expected(&repository, changed, path),
                "{path}"
            );
            assert_eq!(third.entry(&repository, root, path).unwrap(), expected(&repository, root, path), "{path}");
        }
        assert_ne!(expected(&repository, changed, PATHS[0]), expected(&repository, root, PATHS[0]));
    }
}
