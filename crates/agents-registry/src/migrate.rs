//! `agents registry migrate`: a format-1 registry becomes format 2 in one commit. Every body at
//! its one-level path (`bodies/ab/<sha256>`) moves to its two-level path (`bodies/ab/cd/<sha256>`)
//! as the same blob (nothing is re-hashed or re-written), every index file and owners list moves
//! from its prefix path (`index/ab/cd/abcd…`) to its hashed path (`index/<h1-2>/<h3-4>/<name>`,
//! h the SHA-256 of the name), again as the same blob, and `config.json` declares schema 2,
//! re-signed by the root in a signed registry. The commit is pushed like a publish: on the
//! fetched tip, without force, re-applied when another writer won the race. No index file's
//! bytes change, so no version's checksum does, and lockfiles stay as they are.

use std::collections::BTreeMap;

use agents_format::{Layout, Sha256};

use crate::cache::Cache;
use crate::error::{GitContext, RegistryError, Result};
use crate::publish::transact_tree;
use crate::registry::Registry;
use crate::signing::{self, SignatureError, Signer};

/// What a migration did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Migrated {
    /// The registry was already in format 2: nothing was written.
    AlreadyLatest,
    /// One commit moved this many bodies, this many index files (and the owners lists beside
    /// them), and rewrote `config.json`.
    Moved { bodies: usize, index_files: usize },
}

/// Migrates the registry at `url` to format 2. A signed registry needs `signer` to be its root
/// key, since the root signs `config.json`; without it nothing is written.
pub fn migrate_registry(
    cache: &Cache,
    registry_name: &str,
    url: &str,
    signer: Option<&dyn Signer>,
) -> Result<Migrated> {
    let mut outcome = Migrated::AlreadyLatest;
    let message = "Migrate the registry to format 2: every body two levels deep, index files at hashed paths";
    transact_tree(cache, registry_name, url, message, |registry, repository, tree| {
        outcome = Migrated::AlreadyLatest;
        if registry.layout() == Layout::V2 {
            return Ok(None);
        }
        let config = migrated_config(registry, signer)?;
        let (bodies, moved) = match tree.get_name("bodies") {
            Some(entry) if entry.kind() == Some(git2::ObjectType::Tree) => {
                let bodies = repository.find_tree(entry.id()).context(|| "read `bodies`".to_owned())?;
                let (oid, moved) = move_bodies(repository, &bodies)?;
                (Some(oid), moved)
            }
            _ => (None, 0),
        };
        let mut root = repository.treebuilder(Some(tree)).context(|| "build a tree".to_owned())?;
        let mut index_files = 0;
        for top in ["index", "owners"] {
            let Some(entry) = tree.get_name(top) else { continue };
            if entry.kind() != Some(git2::ObjectType::Tree) {
                continue;
            }
            let old = repository.find_tree(entry.id()).context(|| format!("read `{top}`"))?;
            let (oid, moved) = move_index_files(repository, top, &old)?;
            if top == "index" {
                index_files = moved;
            }
            root.insert(top, oid, i32::from(git2::FileMode::Tree)).context(|| format!("add `{top}`"))?;
        }
        let config = repository.blob(config.to_text().as_bytes()).context(|| "write `config.json`".to_owned())?;
        root.insert("config.json", config, i32::from(git2::FileMode::Blob))
            .context(|| "add `config.json`".to_owned())?;
        if let Some(bodies) = bodies {
            root.insert("bodies", bodies, i32::from(git2::FileMode::Tree)).context(|| "add `bodies`".to_owned())?;
        }
        outcome = Migrated::Moved { bodies: moved, index_files };
        Ok(Some(root.write().context(|| "write a tree".to_owned())?))
    })?;
    Ok(outcome)
}

/// The registry's config in format 2: every other field as it was, re-signed by the root when
/// the registry has one (its signature covers the schema, so the old one no longer holds).
fn migrated_config(registry: &Registry, signer: Option<&dyn Signer>) -> Result<agents_format::RegistryConfig> {
    let mut config = registry.config.clone();
    config.layout = Layout::V2;
    let Some(root) = signing::registry_root(&registry.config, &registry.name)? else { return Ok(config) };
    let refuse = |reason: String| SignatureError::Refused {
        registry: registry.name.clone(),
        action: "cannot migrate it to format 2".to_owned(),
        reason,
    };
    let Some(signer) = signer else {
        return Err(refuse(format!(
            "the registry root ({}) signs config.json, and the migration changes it; give the root key \
             (`--sign-key PATH`, or git's `user.signingkey` with `gpg.format = ssh`)",
            root.fingerprint
        ))
        .into());
    };
    if signer.public_key().key_data() != root.key.key_data() {
        return Err(refuse(format!(
            "your key {} is not the registry root ({}), which signs config.json",
            signing::fingerprint(signer.public_key()),
            root.fingerprint
        ))
        .into());
    }
    config.extra.remove(agents_format::CONFIG_SIGNATURE_FIELD);
    signing::sign_config(&mut config, signer)?;
    Ok(config)
}

/// The `bodies` tree with every one-level body moved into its two-level subtree, and how many
/// moved. A blob in `bodies/ab/` counts as a body only when its name is 64 lowercase hex digits
/// starting with `ab`; anything else stays where it is (`agents registry check` reports it).
fn move_bodies(repository: &git2::Repository, bodies: &git2::Tree<'_>) -> Result<(git2::Oid, usize)> {
    let mut top = repository.treebuilder(Some(bodies)).context(|| "build a tree".to_owned())?;
    let mut moved = 0;
    for shard in bodies.iter() {
        let (Some(prefix), Some(git2::ObjectType::Tree)) = (shard.name(), shard.kind()) else { continue };
        let tree = repository.find_tree(shard.id()).context(|| format!("read `bodies/{prefix}`"))?;
        let mut by_subshard: BTreeMap<String, Vec<(String, git2::Oid, i32)>> = BTreeMap::new();
        for entry in tree.iter() {
            let Some(name) = entry.name() else { continue };
            let is_body = entry.kind() == Some(git2::ObjectType::Blob)
                && Sha256::from_hex(name).is_ok_and(|sha| sha.to_hex() == name)
                && name.starts_with(prefix);
            if is_body {
                by_subshard.entry(name[2..4].to_owned()).or_default().push((
                    name.to_owned(),
                    entry.id(),
                    entry.filemode(),
                ));
            }
        }
        if by_subshard.is_empty() {
            continue;
        }
        let mut shard_builder = repository.treebuilder(Some(&tree)).context(|| "build a tree".to_owned())?;
        for (subshard, entries) in by_subshard {
            let existing = match tree.get_name(&subshard) {
                None => None,
                Some(entry) if entry.kind() == Some(git2::ObjectType::Tree) => {
                    Some(repository.find_tree(entry.id()).context(|| format!("read `bodies/{prefix}/{subshard}`"))?)
                }
                Some(_) => {
                    return Err(RegistryError::Git {
                        context: format!("cannot migrate: `bodies/{prefix}/{subshard}` is a file, not a directory"),
                        source: git2::Error::from_str("not a tree"),
                    });
                }
            };
            let mut builder = repository.treebuilder(existing.as_ref()).context(|| "build a tree".to_owned())?;
            for (name, oid, mode) in &entries {
                // A body already at its two-level path (a package file published to both) stays.
                if builder.get(name).ok().flatten().is_none() {
                    builder.insert(name, *oid, *mode).context(|| format!("move `bodies/{prefix}/{name}`"))?;
                }
                shard_builder.remove(name).context(|| format!("move `bodies/{prefix}/{name}`"))?;
                moved += 1;
            }
            let oid = builder.write().context(|| "write a tree".to_owned())?;
            shard_builder
                .insert(&subshard, oid, i32::from(git2::FileMode::Tree))
                .context(|| format!("add `bodies/{prefix}/{subshard}`"))?;
        }
        let oid = shard_builder.write().context(|| "write a tree".to_owned())?;
        top.insert(prefix, oid, i32::from(git2::FileMode::Tree)).context(|| format!("add `bodies/{prefix}`"))?;
    }
    Ok((top.write().context(|| "write a tree".to_owned())?, moved))
}

/// The tree `top` (`index` or `owners`) with every file at its format-1 path moved to its
/// format-2 path (the same blob), and how many moved. A file anywhere else (not where format 1
/// puts its name) stays where it is, for `agents registry check` to report.
fn move_index_files(repository: &git2::Repository, top: &str, old: &git2::Tree<'_>) -> Result<(git2::Oid, usize)> {
    let mut files: Vec<(String, git2::Oid, i32)> = Vec::new();
    old.walk(git2::TreeWalkMode::PreOrder, |directory, entry| {
        if entry.kind() != Some(git2::ObjectType::Tree) {
            files.push((format!("{directory}{}", entry.name().unwrap_or_default()), entry.id(), entry.filemode()));
        }
        git2::TreeWalkResult::Ok
    })
    .context(|| format!("walk `{top}`"))?;
    let mut root = Dir::default();
    let mut moved = 0;
    // Files that stay go in first, so that a moved file wins a clash with one (the moved file is
    // the one a format-1 client read).
    let mut placed: Vec<(String, git2::Oid, i32, bool)> = files
        .into_iter()
        .map(|(path, oid, mode)| match Layout::V1.name_at_index_path(&format!("index/{path}")) {
            Some(name) => {
                let new = Layout::V2.index_path(&name);
                (new["index/".len()..].to_owned(), oid, mode, true)
            }
            None => (path, oid, mode, false),
        })
        .collect();
    placed.sort_by_key(|(_, _, _, moves)| *moves);
    for (path, oid, mode, moves) in placed {
        root.insert(top, &path, oid, mode)?;
        moved += usize::from(moves);
    }
    Ok((root.write(repository, top)?, moved))
}

/// A tree being built from paths.
#[derive(Default)]
struct Dir {
    files: BTreeMap<String, (git2::Oid, i32)>,
    dirs: BTreeMap<String, Dir>,
}

impl Dir {
    fn insert(&mut self, top: &str, path: &str, oid: git2::Oid, mode: i32) -> Result<()> {
        let clash = || RegistryError::Git {
            context: format!("cannot migrate: `{top}/{path}` clashes with a directory or file of the same name"),
            source: git2::Error::from_str("path clash"),
        };
        match path.split_once('/') {
            Some((dir, rest)) => {
                if self.files.contains_key(dir) {
                    return Err(clash());
                }
                self.dirs.entry(dir.to_owned()).or_default().insert(top, rest, oid, mode)
            }
            None => {
                if self.dirs.contains_key(path) {
                    return Err(clash());
                }
                self.files.insert(path.to_owned(), (oid, mode));
                Ok(())
            }
        }
    }

    fn write(&self, repository: &git2::Repository, top: &str) -> Result<git2::Oid> {
        let mut builder = repository.treebuilder(None).context(|| "build a tree".to_owned())?;
        for (name, (oid, mode)) in &self.files {
            builder.insert(name, *oid, *mode).context(|| format!("add `{top}/…/{name}`"))?;
        }
        for (name, dir) in &self.dirs {
            let oid = dir.write(repository, top)?;
            builder.insert(name, oid, i32::from(git2::FileMode::Tree)).context(|| format!("add `{top}/…/{name}`"))?;
        }
        builder.write().context(|| "write a tree".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `index` tree holding `files` (path under `index/`, contents).
    fn index_tree<'r>(repository: &'r git2::Repository, files: &[(&str, &str)]) -> git2::Tree<'r> {
        let mut root = Dir::default();
        for (path, text) in files {
            let blob = repository.blob(text.as_bytes()).unwrap();
            root.insert("index", path, blob, i32::from(git2::FileMode::Blob)).unwrap();
        }
        repository.find_tree(root.write(repository, "index").unwrap()).unwrap()
    }

    fn listing(repository: &git2::Repository, tree: git2::Oid) -> Vec<(String, String)> {
        let mut files = Vec::new();
        repository
            .find_tree(tree)
            .unwrap()
            .walk(git2::TreeWalkMode::PreOrder, |directory, entry| {
                if entry.kind() == Some(git2::ObjectType::Blob) {
                    let blob = repository.find_blob(entry.id()).unwrap();
                    let text = String::from_utf8(blob.content().to_vec()).unwrap();
                    files.push((format!("{directory}{}", entry.name().unwrap()), text));
                }
                git2::TreeWalkResult::Ok
            })
            .unwrap();
        files.sort();
        files
    }

    #[test]
    fn index_files_move_to_their_hashed_paths_and_anything_else_stays() {
        let dir = tempfile::tempdir().unwrap();
        let repository = git2::Repository::init_bare(dir.path()).unwrap();
        let old = index_tree(
            &repository,
            &[
                ("al/ph/alpha", "alpha"),
                ("1/a", "a"),
                // Not where format 1 puts `beta`: nobody's index file, left for check to report.
                ("zz/zz/beta", "stray beta"),
                ("xx/Not_A_Name", "junk"),
            ],
        );
        let (new, moved) = move_index_files(&repository, "index", &old).unwrap();
        assert_eq!(moved, 2);
        // SHA-256("alpha") = 8ed3…, SHA-256("a") = ca97….
        let expected: Vec<(String, String)> =
            [("8e/d3/alpha", "alpha"), ("ca/97/a", "a"), ("xx/Not_A_Name", "junk"), ("zz/zz/beta", "stray beta")]
                .map(|(path, text)| (path.to_owned(), text.to_owned()))
                .into();
        assert_eq!(listing(&repository, new), expected);

        // A stray file already at the hashed path loses to the index file format 1 read.
        let old = index_tree(&repository, &[("al/ph/alpha", "alpha"), ("8e/d3/alpha", "stray")]);
        let (new, moved) = move_index_files(&repository, "index", &old).unwrap();
        assert_eq!((moved, listing(&repository, new)), (1, vec![("8e/d3/alpha".to_owned(), "alpha".to_owned())]));
    }
}
