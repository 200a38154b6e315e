//! The daemon's control protocol: one JSON request line, one JSON response line, over a Unix
//! socket in the runtime directory. Versioned, so a newer CLI talking to an older daemon gets a
//! clear answer instead of a misunderstanding.
//!
//! Anyone who can reach the socket can stop the daemon, and anyone who can write the daemon's
//! directories can replace its watch list: [`private_dir`] keeps both to this user (0700,
//! owned by us, not a symlink), and the daemon bounds each request ([`MAX_REQUEST_LEN`],
//! [`REQUEST_TIMEOUT`]).

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The protocol version this build speaks.
pub const PROTOCOL: u32 = 1;

/// The longest request line the daemon reads; a longer one (or one without a newline) is
/// refused without reading further.
pub const MAX_REQUEST_LEN: usize = 64 * 1024;

/// How long the daemon waits for a client's request line, and for it to take the answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Command {
    Status,
    /// Fetch registries and reconcile every workspace now.
    SyncNow,
    /// Re-read the watch list and configuration, then reconcile.
    Reload,
    /// Finish the current write and exit.
    Stop,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Request {
    pub protocol: u32,
    pub command: Command,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Response {
    pub protocol: u32,
    pub ok: bool,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub status: Option<DaemonStatus>,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct DaemonStatus {
    pub pid: u32,
    /// Seconds since the epoch.
    pub started: i64,
    pub last_fetch: Option<i64>,
    pub next_fetch: Option<i64>,
    pub fetch_failures: u32,
    pub fetch_error: Option<String>,
    /// Fetches since the daemon started.
    #[serde(default)]
    pub fetches: u64,
    pub reconcile_passes: u64,
    /// File events the watcher delivered since the daemon started.
    #[serde(default)]
    pub events: u64,
    /// Lockfiles the daemon read to route events: each is read again only after it changed, so
    /// this does not grow with events.
    #[serde(default)]
    pub lockfile_reads: u64,
    /// What the fetch under way is doing (`fetching registry `team` for 12 s`), if one is.
    #[serde(default)]
    pub fetching: Option<String>,
    #[serde(default)]
    pub workspaces: Vec<WorkspaceStatus>,
    /// Each registry's last fetch (kept across restarts).
    #[serde(default)]
    pub registries: Vec<RegistryFetch>,
    /// What the daemon did lately, oldest first (at most [`RECENT_ACTIONS`]).
    #[serde(default)]
    pub recent: Vec<Action>,
}

/// How many recent actions status keeps.
pub const RECENT_ACTIONS: usize = 50;

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RegistryFetch {
    pub name: String,
    pub url: String,
    /// Seconds since the epoch of the last fetch that reached it.
    #[serde(default)]
    pub last_fetch: Option<i64>,
    /// Why the last attempt failed, when it did.
    #[serde(default)]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Action {
    /// Seconds since the epoch.
    pub at: i64,
    pub root: PathBuf,
    pub action: ActionKind,
    pub agent: String,
    /// The version written, merged onto, set aside or moved to, when there is one.
    #[serde(default)]
    pub version: Option<semver::Version>,
    /// The version an auto-update moved from.
    #[serde(default)]
    pub from: Option<semver::Version>,
    /// The file acted on, relative to `root`, when the action is about one file.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// The same, in words, for people.
    #[serde(default)]
    pub detail: String,
    /// How many times it happened (the same action on the same file, with the same detail):
    /// a repeat is counted on one entry, which moves to the end with the time of the last.
    #[serde(default = "one")]
    pub count: u64,
}

fn one() -> u64 {
    1
}

impl DaemonStatus {
    /// Adds `action` to [`DaemonStatus::recent`]: an entry already there for the same thing is
    /// taken out and counted in (so one conflict or kept edit is one line however often it
    /// comes back), and the oldest entries past [`RECENT_ACTIONS`] are dropped.
    pub fn record(&mut self, mut action: Action) {
        let same = |known: &Action| {
            known.root == action.root
                && known.action == action.action
                && known.agent == action.agent
                && known.detail == action.detail
        };
        if let Some(position) = self.recent.iter().position(same) {
            let known = self.recent.remove(position);
            action.count = action.count.saturating_add(known.count);
        }
        self.recent.push(action);
        let excess = self.recent.len().saturating_sub(RECENT_ACTIONS);
        self.recent.drain(..excess);
    }
}

/// What the daemon did to a package. Serialised in kebab-case; a daemon from before these names
/// sent the phrases of [`ActionKind::as_str`], read here as their aliases, and a kind this build
/// does not know reads as `other`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    /// A file deleted behind the daemon's back was written again.
    Restored,
    /// A new version's file was written.
    Wrote,
    /// The user's edits were merged onto a new version.
    Merged,
    /// A file with the user's edits was left as it is.
    #[serde(alias = "kept an edit")]
    KeptEdit,
    /// A new version conflicting with the user's edits was kept aside.
    #[serde(alias = "set an update aside")]
    SetAside,
    /// A package left the lockfile and its files were removed.
    Removed,
    /// The lockfile's pin was moved forward (opt-in auto-update).
    AutoUpdated,
    #[default]
    #[serde(other)]
    Other,
}

impl ActionKind {
    /// The phrase `agents daemon status` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Restored => "restored",
            ActionKind::Wrote => "wrote",
            ActionKind::Merged => "merged",
            ActionKind::KeptEdit => "kept an edit",
            ActionKind::SetAside => "set an update aside",
            ActionKind::Removed => "removed",
            ActionKind::AutoUpdated => "auto-updated",
            ActionKind::Other => "did something",
        }
    }
}

impl std::fmt::Display for ActionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct WorkspaceStatus {
    pub root: PathBuf,
    pub scope: String,
    /// Seconds since the epoch.
    pub last_reconcile: Option<i64>,
    /// Passes started for this workspace since the daemon started.
    #[serde(default)]
    pub passes: u64,
    /// The project's directory is gone (moved away or deleted); it is resynced when back.
    #[serde(default)]
    pub missing: bool,
    /// What this workspace's pass under way is doing or waiting on, if one is.
    #[serde(default)]
    pub activity: Option<String>,
    #[serde(default)]
    pub drift: Vec<String>,
    #[serde(default)]
    pub conflicts: Vec<String>,
    #[serde(default)]
    pub errors: Vec<String>,
}

/// `error` and its causes on one line, each cause once: a cause whose text the line already
/// holds (a message that quotes its source) is not repeated, and libgit2's words come without
/// its error class and code. The form of every error string in [`DaemonStatus`] and
/// [`WorkspaceStatus`], and of errors carried on inside warnings.
pub fn error_text(error: &(dyn std::error::Error + 'static)) -> String {
    let words = |error: &(dyn std::error::Error + 'static)| {
        agents_registry::libgit2::plain_message(error).map_or_else(|| error.to_string(), str::to_owned)
    };
    let mut text = words(error);
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = words(cause);
        if !cause_text.trim().is_empty() && !text.contains(cause_text.trim()) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The control socket's path in `runtime_dir`.
pub fn socket_path(runtime_dir: &Path) -> PathBuf {
    runtime_dir.join("agentsd.sock")
}

/// The socket that answers `status` alone, with connections of its own: however many clients
/// hold the control socket, status has a path.
pub fn status_socket_path(runtime_dir: &Path) -> PathBuf {
    runtime_dir.join("agentsd.status.sock")
}

/// The single-instance lock's path in `runtime_dir`.
pub fn lock_path(runtime_dir: &Path) -> PathBuf {
    runtime_dir.join("agentsd.lock")
}

/// Sends one request and waits for the answer (blocking; for the CLI).
#[cfg(unix)]
pub fn request(socket: &Path, command: Command, timeout: Duration) -> std::io::Result<Response> {
    let mut stream = std::os::unix::net::UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut line = serde_json::to_vec(&Request { protocol: PROTOCOL, command }).expect("requests serialise");
    line.push(b'\n');
    // A daemon with every connection taken answers "busy" at once and closes, perhaps before
    // the request is written: its answer is read all the same.
    let wrote = stream.write_all(&line);
    let mut answer = String::new();
    let read = BufReader::new(stream).read_line(&mut answer);
    match (wrote, read) {
        (_, Ok(n)) if n > 0 => {}
        (Err(error), _) | (Ok(()), Err(error)) => return Err(error),
        (Ok(()), Ok(_)) => {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the daemon closed without answering"));
        }
    }
    let response: Response =
        serde_json::from_str(&answer).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    if response.protocol != PROTOCOL {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("the daemon speaks control protocol {}, this CLI {PROTOCOL}: restart it", response.protocol),
        ));
    }
    Ok(response)
}

/// Makes `dir` (and its missing parents) a directory only this user can use: created 0700
/// whatever the umask; an existing one must be a real directory (not a symlink) owned by this
/// user, and loses any group or other permission bits. Returns whether it had to be repaired.
///
/// The check and the repair go through one handle opened without following symlinks, so the
/// directory cannot be swapped between them.
#[cfg(unix)]
pub fn private_dir(dir: &Path) -> crate::error::Result<bool> {
    use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, PermissionsExt as _};

    use rustix::fs::{Mode, OFlags};

    let failed = |source: std::io::Error| crate::error::WorkspaceError::Io { path: dir.to_path_buf(), source };
    let refuse = |message: String| failed(std::io::Error::new(std::io::ErrorKind::PermissionDenied, message));
    if let Some(parent) = dir.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|source| crate::error::WorkspaceError::Io { path: parent.to_path_buf(), source })?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(failed(error)),
    }
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let handle = match rustix::fs::open(dir, flags, Mode::empty()) {
        Ok(fd) => std::fs::File::from(fd),
        Err(rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR) => {
            return Err(refuse(
                "is a symlink or not a directory; refusing to keep the daemon's files there".to_owned(),
            ));
        }
        Err(errno) => return Err(failed(errno.into())),
    };
    let metadata = handle.metadata().map_err(failed)?;
    let me = rustix::process::geteuid().as_raw();
    if metadata.uid() != me {
        return Err(refuse(format!(
            "is owned by uid {}, not by this user (uid {me}); refusing to keep the daemon's files there",
            metadata.uid()
        )));
    }
    if metadata.mode() & 0o077 == 0 {
        return Ok(false);
    }
    handle.set_permissions(std::fs::Permissions::from_mode(0o700)).map_err(failed)?;
    Ok(true)
}

/// Makes an open file readable and writable by this user only (the daemon's log and lock).
#[cfg(unix)]
pub fn make_private(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

#[cfg(test)]
mod tests {
    use super::{Action, ActionKind, DaemonStatus, RECENT_ACTIONS, error_text};

    fn action(at: i64, action: ActionKind, agent: &str) -> Action {
        Action { at, root: "/p".into(), action, agent: agent.to_owned(), count: 1, ..Action::default() }
    }

    #[test]
    fn a_repeat_is_counted_on_one_entry() {
        let mut status = DaemonStatus::default();
        status.record(action(1, ActionKind::SetAside, "beta"));
        status.record(action(2, ActionKind::Restored, "alpha"));
        status.record(action(3, ActionKind::SetAside, "beta"));
        status.record(action(4, ActionKind::SetAside, "beta"));
        let seen: Vec<(i64, &str, u64)> = status.recent.iter().map(|a| (a.at, a.agent.as_str(), a.count)).collect();
        assert_eq!(seen, [(2, "alpha", 1), (4, "beta", 3)]);
        // Another file or another root is another entry.
        status.record(Action { root: "/q".into(), ..action(5, ActionKind::Restored, "alpha") });
        assert_eq!(status.recent.len(), 3);
        for at in 0..100 {
            status.record(action(at, ActionKind::Restored, &format!("a{at}")));
        }
        assert_eq!(status.recent.len(), RECENT_ACTIONS);
        // An old daemon's entries have no count: each is one.
        let old: Action = serde_json::from_str(r#"{"at":1,"root":"/p","action":"wrote","agent":"a"}"#).unwrap();
        assert_eq!(old.count, 1);
    }

    #[derive(Debug, thiserror::Error)]
    #[error("{message}")]
    struct Layer {
        message: String,
        #[source]
        source: Option<Box<Layer>>,
    }

    fn chain(messages: &[&str]) -> Layer {
        messages
            .iter()
            .rev()
            .fold(None, |source, message| Some(Layer { message: (*message).to_owned(), source: source.map(Box::new) }))
            .expect("at least one message")
    }

    fn check(messages: &[&str], expected: &str) {
        assert_eq!(error_text(&chain(messages)), expected);
    }

    #[test]
    fn each_cause_once() {
        check(&["could not reach `r`", "no such path"], "could not reach `r`: no such path");
        check(&["agents.lock is not valid: bad toml", "bad toml"], "agents.lock is not valid: bad toml");
        check(&["a: b: c", "b: c", "c"], "a: b: c");
        check(&["cannot start", "x.lock: busy", "busy"], "cannot start: x.lock: busy");
    }

    /// A daemon from before the action kinds sent phrases; one newer than this build may send a
    /// kind it does not know. Both still read, so `agents daemon status` keeps working across an
    /// upgrade that leaves the old daemon running.
    #[test]
    fn action_kinds_read_old_phrases_and_unknown_kinds() {
        use super::{Action, ActionKind};
        let kind = |text: &str| {
            let line = format!(r#"{{"at":1,"root":"/p","action":"{text}","agent":"a","detail":"d"}}"#);
            serde_json::from_str::<Action>(&line).expect("an action line parses").action
        };
        assert_eq!(kind("kept an edit"), ActionKind::KeptEdit);
        assert_eq!(kind("set an update aside"), ActionKind::SetAside);
        assert_eq!(kind("kept-edit"), ActionKind::KeptEdit);
        assert_eq!(kind("auto-updated"), ActionKind::AutoUpdated);
        assert_eq!(kind("teleported"), ActionKind::Other);
        let written = serde_json::to_value(ActionKind::SetAside).expect("serialises");
        assert_eq!(written, "set-aside");
    }
}
