//! Keeping a cache clone quick to read, as `git gc --auto` keeps a repository: after a fetch,
//! loose objects are gathered into a pack once there are [`LOOSE_LIMIT`] of them, and small
//! packs are merged as `git repack --geometric=2` merges them, so that the packs stay few.
//!
//! A clone of a registry on this machine links the registry's files, loose objects included (a
//! registry published to by `agents` keeps each publish's few objects loose, as `git push`
//! does), and a fetch from it copies the new objects loose. Reading a loose object costs a path
//! lookup, an open and a read of its own; a bundle of 251 packages reads about 1,300 objects,
//! and its `--dry-run` took 57 ms with them loose against 40 ms packed. A fetch over the network
//! brings one pack; a lookup that misses tries every pack, so packs are merged: sorted by size,
//! each one kept must hold at least twice the objects of all the smaller ones together, so a
//! clone keeps about log2 of its object count in packs and a merge reads mostly small packs.
//! A merge takes at most [`MERGE_LIMIT`] objects, so two large packs of a size stay apart.
//!
//! Nothing is lost on the way: it runs under the clone's lock, which every writer to the clone
//! holds; the new pack is written whole and renamed into place by libgit2, and its index is
//! read back to hold every object merged, before any loose object or pack is removed. A
//! command reading the clone meanwhile (reads take no lock) and missing a removed object, or
//! finding a pack gone, rescans the packs and finds the object in the new one: libgit2 skips a
//! pack it cannot open, and rescans before it reports an object missing. A pack with a `.keep`
//! file, or a clone with a multi-pack index, is left alone.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// How many loose objects make a cache clone worth packing.
const LOOSE_LIMIT: usize = 100;
/// The most objects one tidying packs, loose or merged. Its time follows the objects it writes:
/// libgit2 reads, searches for deltas, compresses and indexes each one, about 3,000 small
/// objects a second on this project's 2-core test machine, so a clone holding many more is
/// tidied over several fetches.
const MERGE_LIMIT: u64 = 10_000;

/// What [`tidy`] did: the loose objects packed and the packs merged.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Tidied {
    pub(crate) loose: usize,
    pub(crate) packs: usize,
}

/// Packs the loose objects of the cache clone `repository` once there are [`LOOSE_LIMIT`] of
/// them, and merges its small packs, into one new pack. Failing costs reads speed only, so the
/// caller logs it.
pub(crate) fn tidy(repository: &git2::Repository) -> Result<Tidied, git2::Error> {
    let objects = repository.path().join("objects");
    let mut loose = loose_objects(&objects);
    loose.truncate(MERGE_LIMIT as usize);
    let merged = if objects.join("pack/multi-pack-index").exists() {
        Vec::new()
    } else {
        packs_to_merge(&packs(&objects), loose.len() as u64)
    };
    if loose.len() < LOOSE_LIMIT && merged.len() < 2 {
        return Ok(Tidied::default());
    }
    let mut oids: Vec<git2::Oid> = loose.iter().map(|(oid, _)| *oid).collect();
    for pack in &merged {
        oids.extend(pack_ids(&pack.idx).map_err(|error| io_failure(&pack.idx, &error))?);
    }
    let before: HashSet<PathBuf> = pack_indexes(&objects).into_iter().collect();
    write_pack(repository, &oids)?;
    // The new pack's index must name every object before anything is removed.
    let new: Vec<PathBuf> = pack_indexes(&objects).into_iter().filter(|idx| !before.contains(idx)).collect();
    let [new] = new.as_slice() else {
        return Err(git2::Error::from_str("the merged pack is not where it was written"));
    };
    let held: HashSet<git2::Oid> = pack_ids(new).map_err(|error| io_failure(new, &error))?.into_iter().collect();
    if let Some(missing) = oids.iter().find(|oid| !held.contains(oid)) {
        return Err(git2::Error::from_str(&format!("the merged pack lacks {missing}")));
    }
    for (_, path) in &loose {
        let _ = std::fs::remove_file(path);
    }
    for pack in &merged {
        // The index first: a reader that lists the packs then no longer finds this one.
        for extension in ["idx", "pack", "rev", "bitmap", "mtimes"] {
            let _ = std::fs::remove_file(pack.idx.with_extension(extension));
        }
    }
    Ok(Tidied { loose: loose.len(), packs: merged.len() })
}

fn io_failure(path: &Path, error: &std::io::Error) -> git2::Error {
    git2::Error::from_str(&format!("reading {}: {error}", path.display()))
}

/// A pack of a clone: its index file and how many objects it holds.
#[derive(Debug, Clone)]
struct Pack {
    idx: PathBuf,
    objects: u64,
}

/// The packs to merge, smallest first: those below the first pack that holds at least twice the
/// objects of all the smaller ones (and `loose`) together, within [`MERGE_LIMIT`] objects.
fn packs_to_merge(packs: &[Pack], loose: u64) -> Vec<Pack> {
    let mut sorted = packs.to_vec();
    sorted.sort_by_key(|pack| pack.objects);
    // Every pack below one that is less than twice its smaller neighbour is merged...
    let mut split = 0;
    for i in 1..sorted.len() {
        if sorted[i].objects < 2 * sorted[i - 1].objects {
            split = i + 1;
        }
    }
    // ...and so is each next pack that is less than twice what is merged so far.
    let mut total = loose + sorted[..split].iter().map(|pack| pack.objects).sum::<u64>();
    while split < sorted.len() && sorted[split].objects < 2 * total.max(1) {
        total += sorted[split].objects;
        split += 1;
    }
    // The smallest first, as many as fit in one merge.
    let mut taken = loose;
    sorted.truncate(split);
    sorted.retain(|pack| {
        taken += pack.objects;
        taken <= MERGE_LIMIT
    });
    sorted
}

/// The packs of the clone whose object directory is `objects`, but those kept by a `.keep`.
fn packs(objects: &Path) -> Vec<Pack> {
    pack_indexes(objects)
        .into_iter()
        .filter(|idx| !idx.with_extension("keep").exists() && idx.with_extension("pack").exists())
        .filter_map(|idx| Some(Pack { objects: pack_count(&idx).ok()?, idx }))
        .collect()
}

/// The pack index files under `objects/pack`.
fn pack_indexes(objects: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(objects.join("pack")) else { return Vec::new() };
    entries.flatten().map(|entry| entry.path()).filter(|path| path.extension().is_some_and(|e| e == "idx")).collect()
}

/// The header of a version-2 pack index: magic, version, then 256 cumulative counts.
const IDX_HEADER: usize = 8 + 256 * 4;

/// How many objects the pack with index `idx` holds, from the index's header.
fn pack_count(idx: &Path) -> std::io::Result<u64> {
    use std::io::Read as _;
    let mut header = [0u8; IDX_HEADER];
    std::fs::File::open(idx)?.read_exact(&mut header)?;
    index_count(&header)
}

fn index_count(header: &[u8]) -> std::io::Result<u64> {
    let invalid = || std::io::Error::new(std::io::ErrorKind::InvalidData, "not a version 2 pack index");
    if header.get(..8) != Some(&[0xff, b't', b'O', b'c', 0, 0, 0, 2][..]) {
        return Err(invalid());
    }
    let last = header.get(IDX_HEADER - 4..IDX_HEADER).ok_or_else(invalid)?;
    Ok(u64::from(u32::from_be_bytes([last[0], last[1], last[2], last[3]])))
}

/// Every object id the pack index `idx` names.
fn pack_ids(idx: &Path) -> std::io::Result<Vec<git2::Oid>> {
    let bytes = std::fs::read(idx)?;
    let count = usize::try_from(index_count(&bytes)?).unwrap_or(usize::MAX);
    let ids = bytes
        .get(IDX_HEADER..IDX_HEADER.saturating_add(count.saturating_mul(20)))
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "a pack index cut short"))?;
    Ok(ids.chunks_exact(20).filter_map(|id| git2::Oid::from_bytes(id).ok()).collect())
}

/// Every loose object under `objects` with its file: `objects/xx/` + 38 hex digits.
fn loose_objects(objects: &Path) -> Vec<(git2::Oid, PathBuf)> {
    let mut found = Vec::new();
    for prefix in 0..=255u8 {
        let prefix = format!("{prefix:02x}");
        let Ok(entries) = std::fs::read_dir(objects.join(&prefix)) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(rest) = name.to_str().filter(|rest| rest.len() == 38) else { continue };
            if let Ok(oid) = git2::Oid::from_str(&format!("{prefix}{rest}")) {
                found.push((oid, entry.path()));
            }
        }
    }
    found
}

/// Writes the objects `oids` of `repository` into it again as one pack.
fn write_pack(repository: &git2::Repository, oids: &[git2::Oid]) -> Result<(), git2::Error> {
    let mut builder = repository.packbuilder()?;
    for oid in oids {
        builder.insert_object(*oid, None)?;
    }
    let odb = repository.odb()?;
    let mut writer = odb.packwriter()?;
    let mut failed = None;
    builder.foreach(|chunk| match std::io::Write::write_all(&mut writer, chunk) {
        Ok(()) => true,
        Err(error) => {
            failed = Some(error);
            false
        }
    })?;
    if let Some(error) = failed {
        return Err(git2::Error::from_str(&format!("writing a pack: {error}")));
    }
    writer.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(packs: &[u64], loose: u64) -> Vec<u64> {
        let packs: Vec<Pack> = packs
            .iter()
            .enumerate()
            .map(|(n, &objects)| Pack { idx: PathBuf::from(format!("{n}.idx")), objects })
            .collect();
        packs_to_merge(&packs, loose).into_iter().map(|pack| pack.objects).collect()
    }

    #[test]
    fn small_packs_are_merged_until_each_kept_pack_doubles_the_smaller_ones() {
        // A large clone and the packs of fifteen fetches of about seven objects each.
        assert_eq!(sizes(&[1_200_000, 7, 8, 6, 7, 7, 9, 7, 7, 7, 7, 7, 7, 7, 7, 7], 0).len(), 15);
        // Already a progression: nothing to merge.
        assert_eq!(sizes(&[1_200_000, 105, 14, 7], 0), Vec::<u64>::new());
        // Two small ones of a size: those two, not the larger ones above them.
        assert_eq!(sizes(&[1_200_000, 105, 7, 7], 0), [7, 7]);
        // Loose objects count towards what is merged.
        assert_eq!(sizes(&[1_200_000, 105], 120), [105]);
        // Two packs of the clone's size are not merged into one of twice it.
        assert_eq!(sizes(&[1_200_000, 1_100_000], 0), Vec::<u64>::new());
        assert_eq!(sizes(&[1_200_000, 1_100_000, 9, 8], 0), [8, 9]);
        assert_eq!(sizes(&[], 0), Vec::<u64>::new());
    }

    /// `count` loose blobs written into `repository`, then packed into a pack of their own.
    fn pack_of(repository: &git2::Repository, tag: &str, count: usize) -> Vec<git2::Oid> {
        let oids: Vec<git2::Oid> =
            (0..count).map(|n| repository.blob(format!("{tag} {n}").as_bytes()).unwrap()).collect();
        write_pack(repository, &oids).unwrap();
        for (_, path) in loose_objects(&repository.path().join("objects")) {
            std::fs::remove_file(path).unwrap();
        }
        oids
    }

    #[test]
    fn merged_packs_are_removed_only_once_the_new_one_holds_them_and_an_open_reader_still_finds_all() {
        let dir = tempfile::tempdir().unwrap();
        let repository = git2::Repository::init_bare(dir.path()).unwrap();
        let mut all = pack_of(&repository, "first", 40);
        all.extend(pack_of(&repository, "second", 30));
        let loose: Vec<git2::Oid> = (0..5).map(|n| repository.blob(format!("loose {n}").as_bytes()).unwrap()).collect();
        all.extend(&loose);
        let objects = dir.path().join("objects");
        assert_eq!(pack_indexes(&objects).len(), 2);

        // Another process has the clone open: looking for an object it lacks read both packs'
        // indexes, but opened neither pack.
        let reader = git2::Repository::open_bare(dir.path()).unwrap();
        let absent = git2::Oid::hash_object(git2::ObjectType::Blob, b"absent").unwrap();
        assert!(!reader.odb().unwrap().exists(absent));

        assert_eq!(tidy(&repository).unwrap(), Tidied { loose: 5, packs: 2 });
        assert_eq!(pack_indexes(&objects).len(), 1);
        assert_eq!(loose_objects(&objects).len(), 0);
        for oid in &all {
            assert!(repository.find_blob(*oid).is_ok(), "{oid}");
            assert!(reader.find_blob(*oid).is_ok(), "the reader finds {oid}");
        }
        // A pack of its own size next to it is nothing to merge.
        assert_eq!(tidy(&repository).unwrap(), Tidied::default());
    }
}
