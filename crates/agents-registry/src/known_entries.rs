//! Tree entries remembered between commands, so that finding a file by path in a cache clone
//! reads no tree it has read before.
//!
//! Finding `index/ab/cd/NAME` or `bodies/ab/cd/SHA256` reads four trees, and the `index/ab` and
//! `bodies/ab` trees of a large registry hold 256 entries (7 KB) each. Installing a bundle of
//! 251 packages read about 800 trees, which was most of the time spent reading the registry.
//! A git tree's id is the hash of its content, so "tree T has the entry N, which is C" is true
//! forever, in any repository that holds T: what is remembered never goes stale, and after a
//! publish only the trees on the changed paths are new (and read once).
//!
//! The file is derived data, kept beside the clone (`<clone>.trees`). Format: the line
//! `agents tree entries 1`, then per entry the tree's id (20 bytes), the entry's id (20), its
//! kind (1: 0 tree, 1 file or link, 2 other), its name's length (1) and name; then the SHA-256
//! of everything before it. A file that fails any of this is ignored whole (a write cut short,
//! another version's file) and replaced at the next write. The entries used by the last
//! command come first, and at most [`MAX_ENTRIES`] are kept, so the file stays small (about
//! 100 bytes an entry) and what a workspace keeps using stays in it.

use std::collections::HashMap;
use std::path::PathBuf;

use agents_format::Sha256;

const MAGIC: &[u8] = b"agents tree entries 1\n";
/// How many entries the file keeps: about 0.8 MB at most.
const MAX_ENTRIES: usize = 8_192;
/// A larger file is not ours to trust: ignored.
const MAX_FILE_LEN: u64 = 4 << 20;

/// What a tree entry names, as a path lookup needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryKind {
    Tree,
    /// A file or a symlink (a blob).
    Blob,
    /// A submodule's commit.
    Other,
}

impl EntryKind {
    /// The kind of an entry of `mode` (octal, as a raw tree spells it).
    pub(crate) fn of(mode: &[u8]) -> EntryKind {
        match mode {
            b"40000" => EntryKind::Tree,
            b"160000" => EntryKind::Other,
            _ => EntryKind::Blob,
        }
    }

    fn code(self) -> u8 {
        match self {
            EntryKind::Tree => 0,
            EntryKind::Blob => 1,
            EntryKind::Other => 2,
        }
    }

    fn from_code(code: u8) -> Option<EntryKind> {
        [EntryKind::Tree, EntryKind::Blob, EntryKind::Other].into_iter().find(|kind| kind.code() == code)
    }
}

/// The entries remembered for one cache clone, loaded from and saved to its file.
pub(crate) struct KnownEntries {
    file: PathBuf,
    by_tree: HashMap<git2::Oid, Vec<Known>>,
    /// How many entries this command used so far (the order they are saved in).
    uses: u32,
    /// Whether this command learnt an entry the file lacks (else nothing is written).
    learnt: bool,
}

struct Known {
    name: Box<[u8]>,
    child: git2::Oid,
    kind: EntryKind,
    /// Its place in the file read.
    rank: u32,
    /// When this command first used it.
    used: Option<u32>,
}

impl KnownEntries {
    /// The entries saved in `file`; none when it is absent or not whole.
    pub(crate) fn load(file: PathBuf) -> KnownEntries {
        let mut known = KnownEntries { file, by_tree: HashMap::new(), uses: 0, learnt: false };
        let bytes = match std::fs::File::open(&known.file).and_then(|file| {
            use std::io::Read as _;
            let mut bytes = Vec::new();
            file.take(MAX_FILE_LEN + 1).read_to_end(&mut bytes)?;
            Ok(bytes)
        }) {
            Ok(bytes) if bytes.len() as u64 <= MAX_FILE_LEN => bytes,
            _ => return known,
        };
        if let Some(entries) = parse(&bytes) {
            for (rank, (tree, name, child, kind)) in entries.into_iter().enumerate() {
                let rank = u32::try_from(rank).unwrap_or(u32::MAX);
                known.by_tree.entry(tree).or_default().push(Known { name: name.into(), child, kind, rank, used: None });
            }
        }
        known
    }

    /// The entry `name` of tree `tree`, when remembered.
    pub(crate) fn get(&mut self, tree: git2::Oid, name: &[u8]) -> Option<(git2::Oid, EntryKind)> {
        let known = self.by_tree.get_mut(&tree)?.iter_mut().find(|known| &*known.name == name)?;
        if known.used.is_none() {
            known.used = Some(self.uses);
            self.uses += 1;
        }
        Some((known.child, known.kind))
    }

    /// Remembers that tree `tree` has the entry `name`, which is `child` of `kind`.
    pub(crate) fn learn(&mut self, tree: git2::Oid, name: &[u8], child: git2::Oid, kind: EntryKind) {
        if name.len() > usize::from(u8::MAX) || self.get(tree, name).is_some() {
            return;
        }
        self.by_tree.entry(tree).or_default().push(Known {
            name: name.into(),
            child,
            kind,
            rank: u32::MAX,
            used: Some(self.uses),
        });
        self.uses += 1;
        self.learnt = true;
    }

    /// Writes the file again when this command learnt something, replacing it whole (a temporary
    /// file renamed over it). Failing costs the next command some tree reads only.
    pub(crate) fn save(&self) {
        if !self.learnt {
            return;
        }
        if let Err(error) = self.write() {
            tracing::debug!("cannot keep the tree entries {}: {error}", self.file.display());
        }
    }

    fn write(&self) -> std::io::Result<()> {
        let mut entries: Vec<(&git2::Oid, &Known)> =
            self.by_tree.iter().flat_map(|(tree, known)| known.iter().map(move |known| (tree, known))).collect();
        // Used by this command first, in the order used; then the rest in their old order.
        entries.sort_by_key(|(_, known)| (known.used.is_none(), known.used.unwrap_or(known.rank), known.rank));
        entries.truncate(MAX_ENTRIES);
        let mut bytes = MAGIC.to_vec();
        for (tree, known) in entries {
            bytes.extend_from_slice(tree.as_bytes());
            bytes.extend_from_slice(known.child.as_bytes());
            bytes.push(known.kind.code());
            bytes.push(known.name.len() as u8);
            bytes.extend_from_slice(&known.name);
        }
        let digest = Sha256::of(&bytes);
        bytes.extend_from_slice(digest.as_bytes());
        let dir = self.file.parent().unwrap_or_else(|| std::path::Path::new("."));
        let mut temp = tempfile::NamedTempFile::new_in(dir)?;
        std::io::Write::write_all(&mut temp, &bytes)?;
        temp.persist(&self.file).map_err(|error| error.error)?;
        Ok(())
    }
}

/// The entries of a whole file, in order; `None` when any part of it is wrong.
#[allow(clippy::type_complexity)]
fn parse(bytes: &[u8]) -> Option<Vec<(git2::Oid, &[u8], git2::Oid, EntryKind)>> {
    let (body, digest) = bytes.split_at_checked(bytes.len().checked_sub(32)?)?;
    if Sha256::of(body).as_bytes() != digest {
        return None;
    }
    let mut rest = body.strip_prefix(MAGIC)?;
    let mut entries = Vec::new();
    while !rest.is_empty() {
        let (fixed, tail) = rest.split_at_checked(42)?;
        let (name, tail) = tail.split_at_checked(usize::from(fixed[41]))?;
        let tree = git2::Oid::from_bytes(&fixed[..20]).ok()?;
        let child = git2::Oid::from_bytes(&fixed[20..40]).ok()?;
        entries.push((tree, name, child, EntryKind::from_code(fixed[40])?));
        rest = tail;
    }
    Some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(byte: u8) -> git2::Oid {
        git2::Oid::from_bytes(&[byte; 20]).unwrap()
    }

    #[test]
    fn entries_learnt_are_found_by_the_next_command_and_a_damaged_file_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("clone.trees");
        let mut known = KnownEntries::load(file.clone());
        assert_eq!(known.get(oid(1), b"index"), None);
        known.learn(oid(1), b"index", oid(2), EntryKind::Tree);
        known.learn(oid(2), b"go-expert", oid(3), EntryKind::Blob);
        known.learn(oid(2), &[b'x'; 256], oid(4), EntryKind::Blob);
        known.save();

        let mut next = KnownEntries::load(file.clone());
        assert_eq!(next.get(oid(1), b"index"), Some((oid(2), EntryKind::Tree)));
        assert_eq!(next.get(oid(2), b"go-expert"), Some((oid(3), EntryKind::Blob)));
        assert_eq!(next.get(oid(2), b"go"), None);
        assert_eq!(next.get(oid(2), &[b'x'; 256]), None, "a name over 255 bytes is not kept");
        // Nothing learnt: the file is left as it is.
        let before = std::fs::metadata(&file).unwrap().modified().unwrap();
        next.save();
        assert_eq!(std::fs::metadata(&file).unwrap().modified().unwrap(), before);

        // Any byte changed, or the file cut short: nothing is trusted.
        let bytes = std::fs::read(&file).unwrap();
        for damaged in [bytes[..bytes.len() - 1].to_vec(), {
            let mut changed = bytes.clone();
            changed[MAGIC.len() + 25] ^= 1;
            changed
        }] {
            std::fs::write(&file, damaged).unwrap();
            assert_eq!(KnownEntries::load(file.clone()).get(oid(1), b"index"), None);
        }
    }

    #[test]
    fn the_entries_used_last_are_kept_when_the_file_is_full() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("clone.trees");
        let mut known = KnownEntries::load(file.clone());
        let name = |n: usize| format!("name-{n}").into_bytes();
        for n in 0..MAX_ENTRIES {
            known.learn(oid(1), &name(n), oid(2), EntryKind::Blob);
        }
        known.save();
        // The next command uses the last entry and learns a new one: the entry the first
        // command used last, and the second did not use, is the one dropped.
        let mut next = KnownEntries::load(file.clone());
        assert!(next.get(oid(1), &name(MAX_ENTRIES - 1)).is_some());
        next.learn(oid(3), b"new", oid(4), EntryKind::Tree);
        next.save();
        let mut last = KnownEntries::load(file);
        assert!(last.get(oid(3), b"new").is_some());
        assert!(last.get(oid(1), &name(MAX_ENTRIES - 1)).is_some());
        assert!(last.get(oid(1), &name(0)).is_some());
        assert!(last.get(oid(1), &name(MAX_ENTRIES - 2)).is_none());
    }
}
