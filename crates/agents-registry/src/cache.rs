//! The cache of registry clones: one bare repository per registry URL, fetched with git2 and
//! read straight from the object database. The cache is disposable: anything wrong with it is
//! repaired by fetching again, never trusted over the remote.

use std::fs::File;
use std::path::{Path, PathBuf};

use agents_format::Sha256;

use crate::error::{GitContext, RegistryError, Result, io_error};
use crate::registry::Registry;
use crate::source::Source;

/// The ref a cache clone keeps the remote's default branch under.
const TIP_REF: &str = "refs/remotes/origin/HEAD";
/// The config key a cache clone remembers the remote's default branch under.
const BRANCH_KEY: &str = "agents.branch";

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

/// The directory holding registry clones.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    pub fn new(root: impl Into<PathBuf>) -> Cache {
        Cache { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
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
        self.root.join("registries").join(format!(
            "{}-{}",
            if tail.is_empty() { "registry" } else { &tail },
            &hash[..16]
        ))
    }

    /// Opens the registry at `url` under the local name `name`, fetching as `mode` says.
    pub fn open(&self, name: &str, url: &str, mode: FetchMode) -> Result<Registry> {
        let dir = self.clone_dir(url);
        let _lock = self.lock(&dir)?;
        let repository = match git2::Repository::open_bare(&dir) {
            Ok(repository) if repository.find_reference(TIP_REF).is_ok() => {
                if mode == FetchMode::Always {
                    fetch(&repository, url)?;
                }
                repository
            }
            _ if mode == FetchMode::Offline => {
                return Err(RegistryError::NotARegistry {
                    url: url.to_owned(),
                    reason: "it is not in the cache yet, and the network is off (--offline)".to_owned(),
                });
            }
            _ => self.clone_fresh(&dir, url)?,
        };
        snapshot(name, url, repository)
    }

    /// Runs `f` with the clone for `url` locked, fetched and opened (used by publish and yank).
    pub(crate) fn with_clone<T>(&self, url: &str, f: impl FnOnce(&git2::Repository) -> Result<T>) -> Result<T> {
        let dir = self.clone_dir(url);
        let _lock = self.lock(&dir)?;
        let repository = match git2::Repository::open_bare(&dir) {
            Ok(repository) if repository.find_reference(TIP_REF).is_ok() => {
                fetch(&repository, url)?;
                repository
            }
            _ => self.clone_fresh(&dir, url)?,
        };
        f(&repository)
    }

    fn lock(&self, dir: &Path) -> Result<File> {
        let registries = dir.parent().expect("clone dirs live under registries/");
        fs_err::create_dir_all(registries).map_err(|e| RegistryError::Io { path: registries.to_owned(), source: e })?;
        let path = dir.with_extension("lock");
        let file = File::options().create(true).truncate(false).write(true).open(&path).map_err(io_error(&path))?;
        file.lock().map_err(io_error(&path))?;
        Ok(file)
    }

    /// Clones into a temporary directory, then renames it into place, so a crash never leaves a
    /// half-made clone where a good one is expected. Any old, broken clone is replaced.
    fn clone_fresh(&self, dir: &Path, url: &str) -> Result<git2::Repository> {
        let parent = dir.parent().expect("clone dirs live under registries/");
        let temp = tempfile::Builder::new().prefix(".clone-").tempdir_in(parent).map_err(io_error(parent))?;
        let repository =
            git2::Repository::init_bare(temp.path()).context(|| format!("create a cache clone for `{url}`"))?;
        fetch(&repository, url)?;
        drop(repository);
        if dir.exists() {
            fs_err::remove_dir_all(dir).map_err(|e| RegistryError::Io { path: dir.to_owned(), source: e })?;
        }
        let temp = temp.keep();
        fs_err::rename(&temp, dir).map_err(|e| RegistryError::Io { path: dir.to_owned(), source: e })?;
        git2::Repository::open_bare(dir).context(|| format!("open the cache clone {}", dir.display()))
    }
}

/// Fetches the remote's default branch into [`TIP_REF`] and remembers the branch's name.
pub(crate) fn fetch(repository: &git2::Repository, url: &str) -> Result<()> {
    tracing::debug!(url, "fetching registry");
    let mut remote = repository.remote_anonymous(url).context(|| format!("invalid registry URL `{url}`"))?;
    let mut connection = remote
        .connect_auth(git2::Direction::Fetch, None, None)
        .context(|| format!("could not reach registry `{url}`"))?;
    let branch = match connection.default_branch() {
        Ok(branch) => branch.as_str().map(str::to_owned),
        Err(_) => None,
    };
    let Some(branch) = branch else {
        return Err(RegistryError::NotARegistry {
            url: url.to_owned(),
            reason: "the repository has no commits (or no default branch)".to_owned(),
        });
    };
    let refspec = format!("+{branch}:{TIP_REF}");
    let remote = connection.remote();
    remote.download(&[refspec.as_str()], None).context(|| format!("could not fetch registry `{url}`"))?;
    remote.disconnect().context(|| format!("could not fetch registry `{url}`"))?;
    remote
        .update_tips(None, git2::RemoteUpdateFlags::empty(), git2::AutotagOption::None, Some("agents: fetch"))
        .context(|| format!("could not update the cache clone of `{url}`"))?;
    if repository.find_reference(TIP_REF).is_err() {
        return Err(RegistryError::NotARegistry {
            url: url.to_owned(),
            reason: format!("it has no branch `{branch}`"),
        });
    }
    repository
        .config()
        .and_then(|mut config| config.set_str(BRANCH_KEY, &branch))
        .context(|| "remember the registry's branch".to_owned())?;
    Ok(())
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
    repository.reference(TIP_REF, commit, true, "agents: publish").context(|| "update the fetched tip".to_owned())?;
    Ok(())
}

fn snapshot(name: &str, url: &str, repository: git2::Repository) -> Result<Registry> {
    let commit = tip(&repository)?;
    let (commit_id, tree) = (commit.id(), commit.tree_id());
    drop(commit);
    Registry::from_source(name.to_owned(), url.to_owned(), Source::Git { repository, tree, commit: commit_id })
}

pub(crate) fn snapshot_at(name: &str, url: &str, repository: &git2::Repository, commit: git2::Oid) -> Result<Registry> {
    let repository = git2::Repository::open_bare(repository.path()).context(|| "reopen the cache clone".to_owned())?;
    let tree = repository.find_commit(commit).context(|| format!("read commit {commit}"))?.tree_id();
    Registry::from_source(name.to_owned(), url.to_owned(), Source::Git { repository, tree, commit })
}
