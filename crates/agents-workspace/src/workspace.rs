//! A workspace: where a manifest, its lockfile and its agents directory live, in project or user
//! scope, plus the per-user directories (cache, state, config) every operation needs.

use std::fs::File;
use std::path::{Path, PathBuf};

use agents_format::{EMPTY_MANIFEST, Lockfile, Manifest, RelativePath, Sha256, Target, UserConfig};

use crate::error::{Result, WorkspaceError, io_error};
use crate::fs::{self, Root};
pub use crate::placement::Scope;
use crate::placement::{Placement, ToolHomes};

pub const MANIFEST_FILE: &str = "agents.toml";
pub const LOCKFILE_FILE: &str = "agents.lock";
pub const USER_CONFIG_FILE: &str = "config.toml";

/// Per-user directories, decided by the binary (the library never reads the environment).
#[derive(Debug, Clone)]
pub struct Dirs {
    /// The user's home: user-scope agents go to `<home>/.claude/agents`.
    pub home: PathBuf,
    /// Holds `config.toml` and the user-scope manifest and lockfile.
    pub config: PathBuf,
    /// Disposable: registry clones.
    pub cache: PathBuf,
    /// Backups, conflict copies and locks: never inside an agents directory.
    pub state: PathBuf,
    /// Where the other tools read user-scope agents (their own environment variables).
    pub tools: ToolHomes,
}

#[derive(Debug, Clone)]
pub struct Workspace {
    pub scope: Scope,
    /// The directory holding `agents.toml` and `agents.lock`.
    pub root: PathBuf,
    /// Where agent files are installed.
    pub agents_dir: PathBuf,
    /// The directory nothing may be written outside of (the project root, or the home).
    pub boundary: PathBuf,
    pub dirs: Dirs,
}

impl Workspace {
    /// The project around `start`, as git finds a repository: the nearest ancestor holding an
    /// `agents.toml` owned by this user, looking no further up than the nearest `.git` (the
    /// repository root, which is the project when it has no manifest). A manifest above the
    /// repository, or owned by another account (a shared or world-writable parent directory), is
    /// never used; those passed over are listed in [`Discovered::ignored`].
    pub fn discover(start: &Path, dirs: Dirs) -> Discovered {
        let me = rustix::process::geteuid().as_raw();
        let mut ignored = Vec::new();
        use std::os::unix::fs::MetadataExt as _;
        // As git's safe.directory: a directory is this user's project only when it is theirs.
        let mine = |dir: &Path| std::fs::metadata(dir).is_ok_and(|m| m.uid() == me);
        for dir in start.ancestors() {
            let manifest = dir.join(MANIFEST_FILE);
            let mut foreign = false;
            if let Ok(metadata) = std::fs::metadata(&manifest)
                && metadata.is_file()
            {
                if metadata.uid() == me && mine(dir) {
                    return Discovered { workspace: Some(Workspace::project(dir.to_path_buf(), dirs)), ignored };
                }
                foreign = true;
                ignored.push(manifest);
            }
            if std::fs::symlink_metadata(dir.join(".git")).is_ok() {
                // The repository ends the search: it is the project when it is this user's and
                // holds no manifest another account left (a planted `.git` never brings one back).
                let workspace = (!foreign && mine(dir)).then(|| Workspace::project(dir.to_path_buf(), dirs));
                return Discovered { workspace, ignored };
            }
        }
        Discovered { workspace: None, ignored }
    }

    pub fn project(root: PathBuf, dirs: Dirs) -> Workspace {
        Workspace {
            scope: Scope::Project,
            agents_dir: root.join(".claude").join("agents"),
            boundary: root.clone(),
            root,
            dirs,
        }
    }

    pub fn user(dirs: Dirs) -> Workspace {
        Workspace {
            scope: Scope::User,
            root: dirs.config.clone(),
            agents_dir: dirs.home.join(dirs.tools.user_dir(Target::ClaudeCode)),
            boundary: dirs.home.clone(),
            dirs,
        }
    }

    pub fn manifest_path(&self) -> PathBuf {
        self.root.join(MANIFEST_FILE)
    }

    pub fn lockfile_path(&self) -> PathBuf {
        self.root.join(LOCKFILE_FILE)
    }

    pub fn user_config_path(&self) -> PathBuf {
        self.dirs.config.join(USER_CONFIG_FILE)
    }

    /// Where every file of this workspace goes ([`Placement`]).
    pub fn placement(&self) -> Placement<'_> {
        Placement { scope: self.scope, tools: &self.dirs.tools }
    }

    /// A path under the boundary made absolute, for messages.
    pub fn resolve(&self, relative: &RelativePath) -> PathBuf {
        self.boundary.join(relative.as_str())
    }

    /// Removes the temporary files a killed writer left beside the manifest and lockfile. Call it
    /// only while holding the workspace lock.
    pub(crate) fn remove_stale_temp_files(&self) {
        let lockfile = RelativePath::parse(LOCKFILE_FILE).expect("a plain file name");
        if let Ok(root) = Root::open(&self.root) {
            let _ = root.remove_stale_temp_files(&lockfile);
        }
    }

    /// Opens the boundary: every managed file is reached through it.
    pub fn open_root(&self) -> Result<Root> {
        Root::open(&self.boundary)
    }

    /// A short, stable key for this workspace in the state directory.
    pub fn key(&self) -> String {
        let hash = Sha256::of(self.root.to_string_lossy().as_bytes()).to_hex();
        hash[..16].to_owned()
    }

    /// Where backups of overwritten local edits go.
    pub fn backup_dir(&self) -> PathBuf {
        self.dirs.state.join("backups").join(self.key())
    }

    /// Takes the workspace lock: CLIs and the daemon hold it while they change this workspace.
    pub fn lock(&self) -> Result<WorkspaceLock> {
        let directory = self.dirs.state.join("locks");
        fs_err::create_dir_all(&directory).map_err(io_error(&directory))?;
        let path = directory.join(format!("{}.lock", self.key()));
        let file = File::options().create(true).truncate(false).write(true).open(&path).map_err(io_error(&path))?;
        file.lock().map_err(io_error(&path))?;
        Ok(WorkspaceLock { _file: file })
    }

    /// Takes the workspace lock if nobody holds it: `None` while another process (a CLI, a
    /// daemon) does. For callers that must report what they wait on rather than block.
    pub fn try_lock(&self) -> Result<Option<WorkspaceLock>> {
        let directory = self.dirs.state.join("locks");
        fs_err::create_dir_all(&directory).map_err(io_error(&directory))?;
        let path = directory.join(format!("{}.lock", self.key()));
        let file = File::options().create(true).truncate(false).write(true).open(&path).map_err(io_error(&path))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(WorkspaceLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(error)) => Err(io_error(&path)(error)),
        }
    }

    /// The manifest's text (empty manifest when missing) and its parsed form.
    pub fn read_manifest(&self) -> Result<(Option<String>, Manifest)> {
        let path = self.manifest_path();
        let Some(bytes) = fs::read_optional(&path, fs::MAX_MANIFEST_LEN)? else {
            return Ok((None, Manifest::default()));
        };
        let text = String::from_utf8(bytes).map_err(|_| WorkspaceError::Manifest {
            path: path.clone(),
            source: agents_format::ManifestError::Toml("not UTF-8".to_owned()),
        })?;
        let cached = self.parsed_cache("manifest", &text);
        let (manifest, fresh) = Manifest::parse_cached(&text, cached.as_deref())
            .map_err(|source| WorkspaceError::Manifest { path, source })?;
        self.keep_parsed("manifest", &text, fresh);
        Ok((Some(text), manifest))
    }

    /// The parsed form of this workspace's `what` (manifest or lockfile) kept for `text`, when
    /// one was kept for exactly these bytes (see [`Lockfile::parse_cached`]).
    fn parsed_cache(&self, what: &str, text: &str) -> Option<Vec<u8>> {
        let path = self.parsed_cache_path(what);
        let bytes = fs::read_optional(&path, fs::MAX_STATE_LEN).ok().flatten()?;
        let newline = bytes.iter().position(|b| *b == b'\n')?;
        let kept = Sha256::from_hex(std::str::from_utf8(&bytes[..newline]).ok()?).ok()?;
        (kept == Sha256::of(text.as_bytes())).then(|| bytes[newline + 1..].to_vec())
    }

    /// Keeps the parsed form `fresh` of `text`, when there is one to keep (best effort: a cache
    /// that cannot be written is only parsed again next time).
    fn keep_parsed(&self, what: &str, text: &str, fresh: Option<Vec<u8>>) {
        let Some(json) = fresh else { return };
        let mut bytes = Sha256::of(text.as_bytes()).to_hex().into_bytes();
        bytes.push(b'\n');
        bytes.extend(json);
        let _ = fs::write_cache(&self.parsed_cache_path(what), &bytes);
    }

    fn parsed_cache_path(&self, what: &str) -> PathBuf {
        self.dirs.state.join("workspaces").join(format!("{}.{what}.json", self.key()))
    }

    /// The lockfile's text (when present) and its parsed form.
    pub fn read_lockfile(&self) -> Result<(Option<String>, Lockfile)> {
        let path = self.lockfile_path();
        let Some(bytes) = fs::read_optional(&path, fs::MAX_MANIFEST_LEN)? else {
            return Ok((None, Lockfile::default()));
        };
        let text = String::from_utf8(bytes).map_err(|_| WorkspaceError::Lockfile {
            path: path.clone(),
            source: agents_format::LockfileError::Invalid("not UTF-8".to_owned()),
        })?;
        let cached = self.parsed_cache("lockfile", &text);
        let (lockfile, fresh) = Lockfile::parse_cached(&text, cached.as_deref())
            .map_err(|source| WorkspaceError::Lockfile { path: path.clone(), source })?;
        self.keep_parsed("lockfile", &text, fresh);
        // Files are written and removed with their package, so a committed lockfile must not be
        // able to name any other file: each path is one its target dictates for that package.
        let placement = self.placement();
        for agent in lockfile.agents() {
            for file in &agent.files {
                if !placement.allowed(agent.kind, &agent.name, &file.target, &file.path) {
                    return Err(WorkspaceError::LockfileEntry {
                        path,
                        agent: agent.name.clone(),
                        target: file.target.escape_debug().to_string(),
                        file: file.path.to_string(),
                        expected: placement.expected_location(agent.kind, &agent.name, &file.target),
                    });
                }
            }
        }
        Ok((Some(text), lockfile))
    }

    pub fn read_user_config(&self) -> Result<(Option<String>, UserConfig)> {
        let path = self.user_config_path();
        let Some(bytes) = fs::read_optional(&path, fs::MAX_MANIFEST_LEN)? else {
            return Ok((None, UserConfig::default()));
        };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let config = UserConfig::parse(&text).map_err(|source| WorkspaceError::Manifest { path, source })?;
        Ok((Some(text), config))
    }

    /// Creates an empty manifest if there is none. Returns whether it created one.
    pub fn init(&self) -> Result<bool> {
        let path = self.manifest_path();
        if path.exists() {
            return Ok(false);
        }
        fs::write_atomic(&path, EMPTY_MANIFEST.as_bytes())?;
        Ok(true)
    }
}

/// What [`Workspace::discover`] found.
#[derive(Debug)]
pub struct Discovered {
    /// `None` outside any repository and with no manifest of ours above.
    pub workspace: Option<Workspace>,
    /// Manifests passed over because another account owns them.
    pub ignored: Vec<PathBuf>,
}

/// Held while a workspace is being changed; released on drop.
pub struct WorkspaceLock {
    _file: File,
}
