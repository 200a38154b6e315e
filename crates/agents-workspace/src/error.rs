//! Errors from workspace operations, each naming the file, registry or agent@version involved.

use std::path::PathBuf;

use agents_format::{AgentName, LockfileError, ManifestError, NameError, RegistryId};
use agents_registry::RegistryError;

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not valid: {source}")]
    Manifest {
        path: PathBuf,
        #[source]
        source: ManifestError,
    },
    #[error("{path} is not valid: {source}")]
    Lockfile {
        path: PathBuf,
        #[source]
        source: LockfileError,
    },
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("{path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
    /// A configuration file a managed entry goes into (`.mcp.json`, `.codex/config.toml`…).
    #[error("{path} {message}")]
    ConfigFile { path: PathBuf, message: String },
    #[error(transparent)]
    Name(#[from] NameError),
    #[error("no registry named `{0}`")]
    UnknownRegistry(String),
    #[error("agent `{name}` was not found in {searched}")]
    UnknownAgent {
        name: AgentName,
        searched: String,
        /// The closest name those registries publish, for "did you mean".
        suggestion: Option<String>,
        /// Why the first registry that could not be reached was not (its text is in `searched`).
        cause: Option<Box<WorkspaceError>>,
    },
    #[error("agent `{name}` is published in several registries: {registries}")]
    Ambiguous { name: AgentName, registries: String },
    #[error(
        "agent `{name}` is in registry `{found}`, but {unreachable}, and it may publish `{name}` too \
         (a name in two registries must be chosen)"
    )]
    MaybeElsewhere { name: AgentName, found: String, unreachable: String, cause: Option<Box<WorkspaceError>> },
    #[error("no version of `{name}` in registry `{registry}` matches `{requirement}`{available}")]
    NoMatchingVersion { name: AgentName, registry: String, requirement: semver::VersionReq, available: String },
    #[error("cannot resolve the workspace's requirements: {derivation}")]
    Unresolvable { derivation: String, hint: Option<String> },
    #[error("the lockfile pins {name} to registry id `{id}`, which no configured registry has")]
    UnknownRegistryId { name: AgentName, id: RegistryId },
    #[error("no registry reached has id `{id}`, which agents.lock names; {unreachable}")]
    RegistryIdUnreached { id: RegistryId, unreachable: String, cause: Option<Box<WorkspaceError>> },
    #[error(
        "checksum mismatch for {agent}: agents.lock says sha256 {locked}, registry `{registry}` now says {published} (the registry was tampered with or rewritten)"
    )]
    LockedChecksumChanged { agent: String, registry: String, locked: String, published: String },
    #[error("{name}@{version} is locked but registry `{registry}` no longer has it")]
    LockedVersionMissing { name: AgentName, version: semver::Version, registry: String },
    #[error("{count} file(s) of {agents} have local edits or are not managed by agents: {paths}")]
    Conflicts { count: usize, paths: String, agents: String },
    #[error(
        "conflict: your edits to {agents} conflict with {first}@{version}; your file is unchanged and the new version is kept in {upstream}"
    )]
    MergeConflicts { agents: String, first: AgentName, version: semver::Version, upstream: PathBuf },
    #[error(
        "`{name}` has {count} files with updates kept aside; settle them one by one with --edit, or with --theirs or --ours"
    )]
    SeveralConflicts { name: AgentName, count: usize },
    #[error("the file for `{name}` still has conflict markers (<<<<<<<, =======, >>>>>>>); nothing was changed")]
    MarkersLeft { name: AgentName },
    #[error("`{name}` has no update kept aside to resolve")]
    NoConflict { name: AgentName },
    #[error("{path} changed since it was kept aside; run `agents sync` to set the update aside again")]
    ConflictCopyChanged { path: PathBuf },
    #[error("{path} kept changing while agents resolved; run the command again")]
    ChangedMeanwhile { path: PathBuf },
    #[error("agents.lock needs to change but --locked was passed ({reason})")]
    LockfileWouldChange { reason: String },
    #[error("{agent} contains hidden Unicode, refused by policy: {found}")]
    HiddenUnicode { agent: String, found: String },
    #[error("`{name}` is not installed in this workspace")]
    NotInstalled { name: AgentName },
    #[error("{path} resolves to {resolved}, outside {root}; refusing to write through it")]
    EscapesRoot { path: PathBuf, resolved: PathBuf, root: PathBuf },
    #[error("{path} is a symlink; agents never reads or writes through one, which could lead outside {within}")]
    SymlinkedPath { path: PathBuf, within: PathBuf },
    #[error("{path} is {why}; agents never writes into a directory another account can change")]
    ForeignDirectory { path: PathBuf, why: &'static str },
    #[error("{path} is not a regular file")]
    NotRegular { path: PathBuf },
    #[error("{path} is larger than the limit of {limit} bytes")]
    TooLarge { path: PathBuf, limit: u64 },
    #[error(
        "{path}: agent `{agent}` lists `{file}` for target `{target}`, but agents writes that target's file at `{expected}`"
    )]
    LockfileEntry { path: PathBuf, agent: AgentName, target: String, file: String, expected: String },
    #[error("stopped part way: applied {applied}; not applied {not_applied}")]
    PartlyApplied {
        applied: String,
        not_applied: String,
        #[source]
        source: Box<WorkspaceError>,
    },
    #[error("no project here: {start} is not inside a git repository and no agents.toml was found above it")]
    NoProject { start: PathBuf },
    #[error("{first} and {second} both declare the agent name `{name}`; a tool would load two agents with one name")]
    DuplicateName { name: String, first: PathBuf, second: PathBuf },
    #[error(
        "{first} and {second} both put files at {path} (a plugin's skill is installed for the other tools under its own name, .agents/skills/NAME); a file has one owner: uninstall one of them"
    )]
    SharedPath { path: String, first: String, second: String },
    #[error("{agent} cannot be installed now: {reason}")]
    Unavailable { agent: String, reason: String },
    #[error(
        "plugin {name} {version} runs commands on your machine and is not approved:\n  {}\ninstall it once you trust them: agents install --allow-exec {name}",
        lines.join("\n  ")
    )]
    AwaitingApproval { name: AgentName, version: semver::Version, lines: Vec<String> },
    #[error("{path} is {what}; move it away to install `{agent}` there")]
    Unreplaceable { path: PathBuf, what: &'static str, agent: AgentName },
}

impl WorkspaceError {
    /// For an error that a registry out of reach may have caused (a name not found, or found
    /// where another registry could not be asked), that registry's own error.
    pub fn unreachable_cause(&self) -> Option<&WorkspaceError> {
        match self {
            WorkspaceError::UnknownAgent { cause, .. }
            | WorkspaceError::MaybeElsewhere { cause, .. }
            | WorkspaceError::RegistryIdUnreached { cause, .. } => cause.as_deref(),
            _ => None,
        }
    }
}

pub type Result<T, E = WorkspaceError> = std::result::Result<T, E>;

pub(crate) fn io_error(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> WorkspaceError {
    let path = path.into();
    move |source| WorkspaceError::Io { path, source }
}
