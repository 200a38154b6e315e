//! The daemon's control protocol: one JSON request line, one JSON response line, over a Unix
//! socket in the runtime directory. Versioned, so a newer CLI talking to an older daemon gets a
//! clear answer instead of a misunderstanding.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The protocol version this build speaks.
pub const PROTOCOL: u32 = 1;

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
    pub reconcile_passes: u64,
    pub workspaces: Vec<WorkspaceStatus>,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct WorkspaceStatus {
    pub root: PathBuf,
    pub scope: String,
    /// Seconds since the epoch.
    pub last_reconcile: Option<i64>,
    pub drift: Vec<String>,
    pub conflicts: Vec<String>,
    pub errors: Vec<String>,
}

/// The control socket's path in `runtime_dir`.
pub fn socket_path(runtime_dir: &Path) -> PathBuf {
    runtime_dir.join("agentsd.sock")
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
    stream.write_all(&line)?;
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer)?;
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
