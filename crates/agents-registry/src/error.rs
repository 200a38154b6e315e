//! Errors from registry operations. Each names the registry, URL or agent@version involved.

use std::path::PathBuf;

use agents_format::{AgentFileError, AgentName, ConfigError, IndexError, RegistryUrlError};

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Signature(#[from] crate::signing::SignatureError),
    #[error("{context}")]
    Git {
        context: String,
        #[source]
        source: git2::Error,
    },
    /// libgit2 failed talking to a remote registry (connecting, fetching, pushing, cloning):
    /// the `git` program, with its own transports and configuration, may do better.
    #[error("{context}")]
    Network {
        context: String,
        #[source]
        source: git2::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{url}` is not an agents registry: {reason}")]
    NotARegistry { url: String, reason: String },
    #[error("registry `{url}`: {source}")]
    Config {
        url: String,
        #[source]
        source: ConfigError,
    },
    #[error(
        "checksum mismatch for {agent} from registry `{registry}`: the index says sha256 {expected}, the body has {actual}"
    )]
    ChecksumMismatch { registry: String, agent: String, expected: String, actual: String },
    #[error("{name}@{version} from registry `{registry}`: the body is missing from the registry")]
    MissingBody { registry: String, name: AgentName, version: semver::Version },
    #[error("{name}@{version} is already published to registry `{registry}`; published versions are immutable")]
    VersionExists { registry: String, name: AgentName, version: semver::Version },
    #[error("registry `{registry}`: {source}")]
    Index {
        registry: String,
        #[source]
        source: IndexError,
    },
    #[error("{path} is not a valid agent file: {source}")]
    InvalidAgent {
        path: String,
        #[source]
        source: AgentFileError,
    },
    #[error("`{path}` already exists and is not empty")]
    AlreadyExists { path: PathBuf },
    #[error("could not update registry `{url}`: {attempts} attempts lost a race with other publishers")]
    TooManyRetries { url: String, attempts: u32 },
    #[error("registry `{url}` was rewritten: {what}")]
    Rewritten { url: String, what: String, cache: PathBuf },
    #[error("the ssh host key of `{url}` is not trusted: {message}")]
    HostKey { url: String, message: String },
    #[error("authentication failed for `{url}`: {message}")]
    Auth { url: String, message: String },
    #[error("git command line, registry `{url}`: {message}")]
    GitCli { url: String, message: String },
    #[error("push to `{url}` was refused: {message}")]
    PushRejected { url: String, message: String },
    #[error(
        "{path} has no `description`: Claude Code does not load an agent without one (add `description:` saying when to delegate to it)"
    )]
    NoDescription { path: String },
    #[error("{path}: {why}; or pass --allow-unloadable to publish it as it is")]
    Unloadable { path: String, why: String },
    #[error("{name} has no version: add `version: 1.0.0` to its front matter or pass --version")]
    NoVersion { name: AgentName },
    #[error("{name}: invalid version {message}")]
    InvalidVersion { name: AgentName, message: String },
    #[error("{name}: invalid requirements: {message}")]
    InvalidRequirements { name: AgentName, message: String },
    #[error("{0}")]
    InvalidUrl(#[from] RegistryUrlError),
    #[error("{path} contains hidden Unicode, refused by policy: {found}")]
    HiddenUnicode { path: String, found: String },
    #[error(
        "{name}@{version} from registry `{registry}` declares `name: {declared}` in its front matter: Claude Code \
         would load it as `{declared}`, not as `{name}` (tell the registry's maintainers)"
    )]
    NameMismatch { registry: String, name: AgentName, version: semver::Version, declared: AgentName },
    #[error("{path}: not a regular file")]
    NotARegularFile { path: PathBuf },
    #[error("{path}: a symlink; a package is published from regular files only, never through a link")]
    SymlinkInPackage { path: PathBuf },
    #[error("{path}: {message}")]
    InvalidPackage { path: String, message: String },
    #[error(
        "`{name}` is published to registry `{registry}` with kind `{published}`; it cannot also have kind `{publishing}` (one name, one kind)"
    )]
    KindMismatch { registry: String, name: AgentName, published: agents_format::Kind, publishing: agents_format::Kind },
    #[error("{what} is {len} bytes, over the limit of {limit} bytes")]
    TooLarge { what: String, len: u64, limit: u64 },
    #[error("`{url}`: {message}")]
    Http { url: String, message: String },
    #[error("sparse registry `{url}`: `{path}` is not in the cache yet, and the network is off (--offline)")]
    NotCached { url: String, path: String },
    #[error(
        "`{url}` is a sparse registry, read-only over HTTP: publish and yank through the git repository it is \
         served from"
    )]
    ReadOnly { url: String },
    #[error(
        "registry `{registry}` ({url}) is a sparse registry and publishes no search summary: search it \
         through its git URL, or ask its maintainers to publish `search.json` (`agents registry summary`)"
    )]
    SearchUnsupported { registry: String, url: String },
    #[error("registry `{registry}`: {source}")]
    Duplicate {
        registry: String,
        #[source]
        source: IndexError,
    },
}

pub type Result<T, E = RegistryError> = std::result::Result<T, E>;

impl RegistryError {
    /// Whether libgit2 failed talking to a remote registry, where the `git` program may not.
    pub fn is_libgit2_network(&self) -> bool {
        matches!(self, RegistryError::Network { .. })
    }
}

pub(crate) trait GitContext<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> GitContext<T> for Result<T, git2::Error> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| RegistryError::Git { context: context(), source })
    }
}

pub(crate) fn io_error(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> RegistryError {
    let path = path.into();
    move |source| RegistryError::Io { path, source }
}
