//! A workspace: where a manifest, its lockfile and its agents directory live, in project or user
//! scope, plus the per-user directories (cache, state, config) every operation needs.

use std::fs::File;
use std::path::{Path, PathBuf};

use agents_format::{AgentName, EMPTY_MANIFEST, Lockfile, Manifest, Sha256, UserConfig};

use crate::error::{Result, WorkspaceError, io_error};
use crate::fs;

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `agents.toml` at a project root, agents under `.claude/agents/`.
    Project,
    /// `--global`: manifest under the user's config directory, agents under `~/.claude/agents/`.
    User,
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
    /// The project workspace containing `start`: the nearest ancestor with an `agents.toml`, else
    /// the nearest with `.git` or `.claude`, else `start` itself.
    pub fn discover(start: &Path, dirs: Dirs) -> Workspace {
        let find = |marker: &dyn Fn(&Path) -> bool| start.ancestors().find(|dir| marker(dir)).map(Path::to_path_buf);
        let root = find(&|dir| dir.join(MANIFEST_FILE).is_file())
            .or_else(|| find(&|dir| dir.join(".git").exists() || dir.join(".claude").is_dir()))
            .unwrap_or_else(|| start.to_path_buf());
        Workspace::project(root, dirs)
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
            agents_dir: dirs.home.join(".claude").join("agents"),
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

    /// Where `name` is installed.
    pub fn agent_path(&self, name: &AgentName) -> PathBuf {
        self.agents_dir.join(name.file_name())
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

    /// The manifest's text (empty manifest when missing) and its parsed form.
    pub fn read_manifest(&self) -> Result<(Option<String>, Manifest)> {
        let path = self.manifest_path();
        let Some(bytes) = fs::read_optional(&path)? else { return Ok((None, Manifest::default())) };
        let text = String::from_utf8(bytes).map_err(|_| WorkspaceError::Manifest {
            path: path.clone(),
            source: agents_format::ManifestError::Toml("not UTF-8".to_owned()),
        })?;
        let manifest = Manifest::parse(&text).map_err(|source| WorkspaceError::Manifest { path, source })?;
        Ok((Some(text), manifest))
    }

    /// The lockfile's text (when present) and its parsed form.
    pub fn read_lockfile(&self) -> Result<(Option<String>, Lockfile)> {
        let path = self.lockfile_path();
        let Some(bytes) = fs::read_optional(&path)? else { return Ok((None, Lockfile::default())) };
        let text = String::from_utf8(bytes).map_err(|_| WorkspaceError::Lockfile {
            path: path.clone(),
            source: agents_format::LockfileError::Invalid("not UTF-8".to_owned()),
        })?;
        let lockfile = Lockfile::parse(&text).map_err(|source| WorkspaceError::Lockfile { path, source })?;
        Ok((Some(text), lockfile))
    }

    pub fn read_user_config(&self) -> Result<(Option<String>, UserConfig)> {
        let path = self.user_config_path();
        let Some(bytes) = fs::read_optional(&path)? else { return Ok((None, UserConfig::default())) };
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

    /// Refuses an agents directory that resolves outside the workspace boundary (a symlink
    /// pointing elsewhere): nothing is ever written outside the target.
    pub fn check_agents_dir(&self) -> Result<()> {
        let Ok(boundary) = self.boundary.canonicalize() else { return Ok(()) };
        // Check the deepest existing ancestor of the agents directory.
        let Some(existing) = self.agents_dir.ancestors().find(|dir| dir.exists()) else { return Ok(()) };
        let resolved = existing.canonicalize().map_err(io_error(existing))?;
        if !resolved.starts_with(&boundary) {
            return Err(WorkspaceError::EscapesRoot { path: existing.to_owned(), resolved, root: boundary });
        }
        Ok(())
    }
}

/// Held while a workspace is being changed; released on drop.
pub struct WorkspaceLock {
    _file: File,
}
