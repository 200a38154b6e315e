//! The cache of registry clones: one bare repository per registry URL, fetched and read straight
//! from the object database. The cache is disposable: anything wrong with it is repaired by
//! fetching again, never trusted over the remote. Every fetch is checked against the previous
//! one: a published version may not change its checksum or disappear. Sparse registries
//! (`sparse+https://…`) are cached file by file beside the clones (`sparse.rs`).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use agents_format::{
    AgentName, IndexFile, Layout, MAX_CONFIG_LEN, MAX_INDEX_FILE_LEN, RegistryConfig, RegistryUrl, Rewrites, Sha256,
};

use crate::error::{GitContext, RegistryError, Result, io_error};
use crate::http::{Http, HttpConfig};
use crate::registry::Registry;
use crate::source::{self, Source};
use crate::transport::{self, NetConfig};

/// The ref a cache clone keeps the remote's default branch under, once verified.
const TIP_REF: &str = "refs/remotes/origin/HEAD";
/// Where a fetch lands before it is verified against [`TIP_REF`].
const INCOMING_REF: &str = "refs/agents/incoming";
/// The config key a cache clone remembers the remote's default branch under.
const BRANCH_KEY: &str = "agents.branch";
/// The config key a cache clone remembers the first registry id it saw under. Every later fetch
/// is compared with it, so an id cannot change in any number of steps (a broken `config.json`
/// first, then a new id); deleting the clone is how a user accepts a new id.
const ID_KEY: &str = "agents.registry-id";

/// When to contact the remote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchMode {
    /// Always fetch before reading.
    Always,
    /// Fetch only when the cache has no clone yet.
    IfMissing,
    /// Never touch the network; a missing clone is an error.
    Offline,
}

/// The directory holding registry clones, and how to reach remotes.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
    net: NetConfig,
    http_config: HttpConfig,
    /// One HTTP client per cache, made when a sparse registry is first opened, so connections
    /// are reused across registries and files.
    http: Arc<OnceLock<Arc<Http>>>,
}

impl Cache {
    pub fn new(root: impl Into<PathBuf>) -> Cache {
        Cache::with_net(root, NetConfig::default())
    }

    pub fn with_net(root: impl Into<PathBuf>, net: NetConfig) -> Cache {
        Cache { root: root.into(), net, http_config: HttpConfig::default(), http: Arc::default() }
    }

    /// Reaches sparse registries with `http` (proxies, timeouts, netrc).
    pub fn with_http(mut self, http: HttpConfig) -> Cache {
        self.http_config = http;
        self.http = Arc::default();
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn net(&self) -> &NetConfig {
        &self.net
    }

    /// The bare clone for `url`: readable, unique per URL, stable across runs.
    pub fn clone_dir(&self, url: &str) -> PathBuf {
        let tail: String = url
            .trim_end_matches('/')
            .rsplit(['/', '\\', ':'])
            .next()
            .unwrap_or("registry")
            .trim_end_matches(".git")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .take(32)
            .collect();
        let hash = Sha256::of(url.as_bytes()).to_hex();
        let tail = if tail.is_empty() { "registry" } else { &tail };
        self.root.join("registries").join(format!("{tail}-{}", &hash[..16]))
    }

    /// Opens the registry at `url` under the local name `name`, fetching as `mode` says.
    pub fn open(&self, name: &str, url: &str, mode: FetchMode) -> Result<Registry> {
        // Whatever the caller read the URL from, it reaches git only as a `RegistryUrl`.
        let url = &RegistryUrl::parse(url)?;
        if let Some(base) = url.sparse_base() {
            return self.open_sparse(name, url, base, mode);
        }
        crate::libgit2::configure_reads();
        let dir = self.clone_dir(url);
        // Reading needs no lock: objects are immutable and the tip ref moves atomically. So a
        // reader (the daemon reconciling) never waits for a fetch that is talking to a remote.
        if mode != FetchMode::Always
            && let Ok(repository) = git2::Repository::open_bare(&dir)
            && repository.find_reference(TIP_REF).is_ok()
        {
            return Ok(snapshot(name, url, repository, &dir)?.with_summary_file(dir.with_extension("summary")));
        }
        let _lock = self.lock(&dir)?;
        let repository = match git2::Repository::open_bare(&dir) {
            Ok(repository) if repository.find_reference(TIP_REF).is_ok() => {
                if mode == FetchMode::Always {
                    self.fetch(&repository, url)?;
                }
                repository
            }
            _ if mode == FetchMode::Offline => {
                return Err(RegistryError::NotARegistry {
                    url: url.to_string(),
                    reason: "it is not in the cache yet, and the network is off (--offline)".to_owned(),
                });
            }
            _ => self.clone_fresh(&dir, url)?,
        };
        Ok(snapshot(name, url, repository, &dir)?.with_summary_file(dir.with_extension("summary")))
    }

    /// The directory a sparse registry's files are cached in.
    pub fn sparse_dir(&self, url: &str) -> PathBuf {
        let clone = self.clone_dir(url);
        self.root.join("sparse").join(clone.file_name().expect("clone dirs have a name"))
    }

    /// Opens a sparse registry: nothing is fetched until a file is read, and `config.json` is
    /// read first of all (revalidated, or fetched, as `mode` says).
    fn open_sparse(&self, name: &str, url: &RegistryUrl, base: String, mode: FetchMode) -> Result<Registry> {
        let http = match self.http.get() {
            Some(http) => http.clone(),
            None => {
                let made = Arc::new(Http::new(self.http_config.clone())?.with_progress(self.net.progress.clone()));
                self.http.get_or_init(|| made).clone()
            }
        };
        let sparse = crate::sparse::Sparse::new(url.to_string(), base, self.sparse_dir(url), http, mode);
        Registry::from_source(name.to_owned(), url.to_string(), Source::Sparse(Box::new(sparse)))
    }

    /// Runs `f` with the clone for `url` locked, fetched and opened (used by publish and yank).
    pub(crate) fn with_clone<T>(&self, url: &RegistryUrl, f: impl FnOnce(&git2::Repository) -> Result<T>) -> Result<T> {
        if url.sparse_base().is_some() {
            return Err(RegistryError::ReadOnly { url: url.to_string() });
        }
        crate::libgit2::configure_reads();
        let dir = self.clone_dir(url);
        let _lock = self.lock(&dir)?;
        let repository = match git2::Repository::open_bare(&dir) {
            Ok(repository) if repository.find_reference(TIP_REF).is_ok() => {
                self.fetch(&repository, url)?;
                repository
            }
            _ => self.clone_fresh(&dir, url)?,
        };
        f(&repository)
    }

    fn lock(&self, dir: &Path) -> Result<File> {
        let registries = dir.parent().expect("clone dirs live under registries/");
        fs_err::create_dir_all(registries).map_err(io_error(registries))?;
        let path = dir.with_extension("lock");
        let file = File::options().create(true).truncate(false).write(true).open(&path).map_err(io_error(&path))?;
        file.lock().map_err(io_error(&path))?;
        clear_stale_git_locks(dir);
        Ok(file)
    }

    /// Clones into a temporary directory, then renames it into place, so a crash never leaves a
    /// half-made clone where a good one is expected. Any old, broken clone is replaced.
    fn clone_fresh(&self, dir: &Path, url: &RegistryUrl) -> Result<git2::Repository> {
        let parent = dir.parent().expect("clone dirs live under registries/");
        let temp = tempfile::Builder::new().prefix(".clone-").tempdir_in(parent).map_err(io_error(parent))?;
        let linked = transport::local_path(url).filter(|_| !self.net.git_fetch_with_cli).and_then(|_| {
            // A registry on this machine: link (or copy) its objects as `git clone` does for a
            // local path, instead of having libgit2 build a pack of all of them. The fetch below
            // then only sets and verifies the tip.
            git2::build::RepoBuilder::new()
                .bare(true)
                .clone_local(git2::build::CloneLocal::Local)
                .clone(url.as_str(), temp.path())
                .ok()
        });
        let repository = match linked {
            Some(repository) => repository,
            None => git2::Repository::init_bare(temp.path()).context(|| format!("create a cache clone for `{url}`"))?,
        };
        let was_linked = repository.find_reference(TIP_REF).is_ok();
        self.fetch(&repository, url)?;
        // A linked clone already had its tip, so the fetch saw nothing arrive; but it brought
        // the registry's loose objects. (Into an empty clone, the fetch tidied itself.)
        if was_linked {
            tidy(&repository, url);
        }
        drop(repository);
        if dir.exists() {
            fs_err::remove_dir_all(dir).map_err(io_error(dir))?;
        }
        let temp = temp.keep();
        fs_err::rename(&temp, dir).map_err(io_error(dir))?;
        git2::Repository::open_bare(dir).context(|| format!("open the cache clone {}", dir.display()))
    }

    /// Fetches the remote's default branch, verifies it against what was fetched before, and only
    /// then makes it the tip this cache serves.
    pub(crate) fn fetch(&self, repository: &git2::Repository, url: &RegistryUrl) -> Result<()> {
        tracing::debug!(url = url.as_str(), "fetching registry");
        let branch = transport::fetch(repository, url, INCOMING_REF, &self.net)?;
        let incoming = repository.find_reference(INCOMING_REF).and_then(|r| r.peel_to_commit()).map_err(|_| {
            RegistryError::NotARegistry { url: url.to_string(), reason: format!("it has no branch `{branch}`") }
        })?;
        // A commit without a readable config.json never becomes the tip: serving it would fail
        // anyway, and skipping its id would let the id change unnoticed in two steps.
        let incoming_config = read_config(repository, url, &incoming)?;
        let remembered = match repository.config().and_then(|config| config.get_string(ID_KEY)) {
            Ok(id) => Some(id),
            // A clone made before the id was remembered: its tip's id is the first one known.
            Err(_) => tip(repository)
                .ok()
                .and_then(|previous| read_config(repository, url, &previous).ok())
                .map(|c| c.id.to_string()),
        };
        if let Some(remembered) = &remembered
            && remembered != incoming_config.id.as_str()
        {
            return Err(RegistryError::Rewritten {
                url: url.to_string(),
                what: format!("its id changed from `{remembered}` to `{}`", incoming_config.id),
                cache: self.clone_dir(url),
            });
        }
        let previous = tip(repository).ok();
        if let Some(previous) = &previous
            && previous.id() != incoming.id()
        {
            verify_history(repository, url, previous, &incoming, self.clone_dir(url))?;
        }
        let moved = previous.is_none_or(|previous| previous.id() != incoming.id());
        set_tip(repository, incoming.id())?;
        let mut config = repository.config().context(|| "open the cache clone's config".to_owned())?;
        config.set_str(BRANCH_KEY, &branch).context(|| "remember the registry's branch".to_owned())?;
        if remembered.is_none() {
            config.set_str(ID_KEY, incoming_config.id.as_str()).context(|| "remember the registry's id".to_owned())?;
        }
        // Objects arrive only with a new tip: then the clone may be worth tidying.
        if moved {
            tidy(repository, url);
        }
        Ok(())
    }
}

/// Packs the loose objects of the cache clone `repository` when they are many, and merges its
/// small packs ([`crate::upkeep`]); failing costs later reads some speed only.
fn tidy(repository: &git2::Repository, url: &RegistryUrl) {
    match crate::upkeep::tidy(repository) {
        Ok(tidied) if tidied == crate::upkeep::Tidied::default() => {}
        Ok(tidied) => {
            tracing::debug!(url = url.as_str(), loose = tidied.loose, packs = tidied.packs, "tidied the cache clone")
        }
        Err(error) => tracing::debug!(url = url.as_str(), "could not tidy the cache clone: {error}"),
    }
}

/// Removes git's own lock files from a cache clone. Only agents touches its clones, and only while
/// holding the clone's file lock, so a git lock file found then was left by a process that was
/// killed mid-fetch: without this, every later fetch would fail on it.
fn clear_stale_git_locks(dir: &Path) {
    let mut pending = vec![dir.join("refs")];
    let mut stale: Vec<PathBuf> =
        ["packed-refs.lock", "config.lock", "HEAD.lock", "shallow.lock"].iter().map(|name| dir.join(name)).collect();
    while let Some(directory) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&directory) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "lock") {
                stale.push(path);
            }
        }
    }
    for path in stale {
        if std::fs::remove_file(&path).is_ok() {
            tracing::warn!(path = %path.display(), "removed a lock file left by a killed process");
        }
    }
}

/// How deep under `index/` an index file can sit in either format (`index/ab/cd/NAME`,
/// `index/3/a/abc`): nothing deeper is any agent's, so a comparison never descends further.
const INDEX_DEPTH: usize = 3;

/// The agent names of the blobs that differ between the trees `old` and `new` (either may be
/// absent), at most `depth` levels down. Only subtrees whose ids differ are read, so a publish
/// costs the few trees on its path, whatever the registry's size: libgit2's tree diff with a
/// pathspec reads every tree under `index/`, tens of thousands once index files are hashed.
fn changed_leaves(
    repository: &git2::Repository,
    old: Option<git2::Oid>,
    new: Option<git2::Oid>,
    depth: usize,
    names: &mut std::collections::BTreeSet<AgentName>,
) -> Result<()> {
    if old == new || depth == 0 {
        return Ok(());
    }
    let tree = |id: Option<git2::Oid>| -> Result<Option<git2::Tree<'_>>> {
        match id {
            None => Ok(None),
            Some(id) => {
                match repository.find_object(id, None).context(|| format!("read registry tree {id}"))?.into_tree() {
                    Ok(tree) => Ok(Some(tree)),
                    Err(_) => Ok(None),
                }
            }
        }
    };
    let (old_tree, new_tree) = (tree(old)?, tree(new)?);
    let mut entries: std::collections::BTreeMap<Vec<u8>, [Option<(git2::Oid, bool)>; 2]> = Default::default();
    for (side, listed) in [&old_tree, &new_tree].into_iter().enumerate() {
        for entry in listed.iter().flat_map(|tree| tree.iter()) {
            let is_tree = entry.kind() == Some(git2::ObjectType::Tree);
            entries.entry(entry.name_bytes().to_vec()).or_default()[side] = Some((entry.id(), is_tree));
        }
    }
    for (name, [before, after]) in entries {
        if before.map(|(id, _)| id) == after.map(|(id, _)| id) {
            continue;
        }
        let subtree = |side: Option<(git2::Oid, bool)>| side.filter(|(_, is_tree)| *is_tree).map(|(id, _)| id);
        changed_leaves(repository, subtree(before), subtree(after), depth - 1, names)?;
        let is_blob = |side: Option<(git2::Oid, bool)>| side.is_some_and(|(_, is_tree)| !is_tree);
        if (is_blob(before) || is_blob(after))
            && let Some(name) = std::str::from_utf8(&name).ok().and_then(|leaf| AgentName::new(leaf).ok())
        {
            names.insert(name);
        }
    }
    Ok(())
}

/// Checks that nothing published before `previous` changed or vanished in `incoming`. A force
/// push that only rewrites history is fine; one that alters a published version is not.
fn verify_history(
    repository: &git2::Repository,
    url: &str,
    previous: &git2::Commit<'_>,
    incoming: &git2::Commit<'_>,
    cache: PathBuf,
) -> Result<()> {
    let (old_tree, new_tree) = (
        previous.tree().context(|| "read the previous registry tree".to_owned())?,
        incoming.tree().context(|| "read the fetched registry tree".to_owned())?,
    );
    let read = |tree: &git2::Tree<'_>, path: &Path| -> Result<Option<String>> {
        let Ok(entry) = tree.get_path(path) else { return Ok(None) };
        if entry.kind() != Some(git2::ObjectType::Blob) {
            return Ok(None);
        }
        let bytes = source::read_blob(repository, entry.id(), &path.display().to_string(), MAX_INDEX_FILE_LEN)?;
        Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
    };
    // Each agent's index file is compared where each tree's layout puts it: a migration moves
    // every index file, and a client reads an agent's versions at its layout's path only.
    let layout_of = |tree: &git2::Tree<'_>| -> Layout {
        tree.get_path(Path::new("config.json"))
            .ok()
            .and_then(|entry| source::read_blob(repository, entry.id(), "config.json", MAX_CONFIG_LEN).ok())
            .and_then(|bytes| RegistryConfig::parse(&String::from_utf8_lossy(&bytes)).ok())
            .map_or(Layout::V1, |config| config.layout)
    };
    let (old_layout, new_layout) = (layout_of(&old_tree), layout_of(&new_tree));
    let subtree = |tree: &git2::Tree<'_>| tree.get_path(Path::new("index")).ok().map(|entry| entry.id());
    let mut names = std::collections::BTreeSet::new();
    changed_leaves(repository, subtree(&old_tree), subtree(&new_tree), INDEX_DEPTH, &mut names)?;
    let mut rewrites = Rewrites::default();
    for name in names {
        let old = read(&old_tree, Path::new(&old_layout.index_path(&name)))?.map(|text| IndexFile::parse(&text));
        let new = IndexFile::parse(&read(&new_tree, Path::new(&new_layout.index_path(&name)))?.unwrap_or_default());
        rewrites.add(name.as_str(), old.as_ref(), &new);
    }
    if let Some(what) = rewrites.reason(Some("a force push?")) {
        return Err(RegistryError::Rewritten { url: url.to_owned(), what, cache });
    }
    let descends = repository.graph_descendant_of(incoming.id(), previous.id()).unwrap_or(false);
    if !descends {
        tracing::warn!(url, "the registry's history was rewritten; every published version is intact");
    }
    Ok(())
}

/// The `config.json` of `commit`, read with its size limit; missing or invalid is an error.
fn read_config(repository: &git2::Repository, url: &str, commit: &git2::Commit<'_>) -> Result<RegistryConfig> {
    let not_a_registry = |reason: String| RegistryError::NotARegistry { url: url.to_owned(), reason };
    let tree = commit.tree().context(|| "read the fetched registry tree".to_owned())?;
    let entry = tree
        .get_path(Path::new("config.json"))
        .ok()
        .filter(|entry| entry.kind() == Some(git2::ObjectType::Blob))
        .ok_or_else(|| not_a_registry("it has no config.json at its root".to_owned()))?;
    let bytes = source::read_blob(repository, entry.id(), "config.json", MAX_CONFIG_LEN)?;
    let text = String::from_utf8(bytes).map_err(|_| not_a_registry("config.json is not UTF-8".to_owned()))?;
    RegistryConfig::parse(&text).map_err(|source| RegistryError::Config { url: url.to_owned(), source })
}

/// The remote's default branch, as remembered by the last fetch.
pub(crate) fn remembered_branch(repository: &git2::Repository) -> Result<String> {
    repository
        .config()
        .and_then(|config| config.get_string(BRANCH_KEY))
        .context(|| "the cache clone does not know the registry's branch".to_owned())
}

pub(crate) fn tip(repository: &git2::Repository) -> Result<git2::Commit<'_>> {
    repository
        .find_reference(TIP_REF)
        .and_then(|reference| reference.peel_to_commit())
        .context(|| "read the registry's fetched tip".to_owned())
}

pub(crate) fn set_tip(repository: &git2::Repository, commit: git2::Oid) -> Result<()> {
    repository
        .reference(TIP_REF, commit, true, "agents: update tip")
        .context(|| "update the fetched tip".to_owned())?;
    Ok(())
}

/// The clone `repository` (at `dir`) as its tip shows it, remembering the tree entries it reads
/// beside the clone (`<dir>.trees`).
fn snapshot(name: &str, url: &str, repository: git2::Repository, dir: &Path) -> Result<Registry> {
    let commit = tip(&repository)?;
    let (commit_id, tree) = (commit.id(), commit.tree_id());
    drop(commit);
    let trees = crate::source::TreeMemo::remembered(dir.with_extension("trees"));
    Registry::from_source(name.to_owned(), url.to_owned(), Source::Git { repository, tree, commit: commit_id, trees })
}

pub(crate) fn snapshot_at(name: &str, url: &str, repository: &git2::Repository, commit: git2::Oid) -> Result<Registry> {
    let repository = git2::Repository::open_bare(repository.path()).context(|| "reopen the cache clone".to_owned())?;
    let tree = repository.find_commit(commit).context(|| format!("read commit {commit}"))?.tree_id();
    Registry::from_source(
        name.to_owned(),
        url.to_owned(),
        Source::Git { repository, tree, commit, trees: Default::default() },
    )
}
