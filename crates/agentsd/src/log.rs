//! The daemon's log file, capped in size: past [`Log::cap`] bytes the file is renamed to
//! `<name>.1` (replacing the previous one) and a new one begins, so a daemon running for months
//! keeps at most twice the cap on disk.

use std::fs::File;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

/// The default cap: a few weeks of an ordinary machine's log.
pub(crate) const DEFAULT_CAP: u64 = 2 * 1024 * 1024;

pub(crate) struct Log {
    path: PathBuf,
    cap: u64,
    file: File,
    len: u64,
}

impl Log {
    /// Opens `path` for appending (0600).
    pub(crate) fn open(path: &Path, cap: u64) -> std::io::Result<Log> {
        let file = open_private(path)?;
        let len = file.metadata()?.len();
        Ok(Log { path: path.to_path_buf(), cap: cap.max(1024), file, len })
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        let mut rotated = self.path.clone().into_os_string();
        rotated.push(".1");
        std::fs::rename(&self.path, &rotated)?;
        self.file = open_private(&self.path)?;
        self.len = 0;
        Ok(())
    }
}

fn open_private(path: &Path) -> std::io::Result<File> {
    let file = File::options().create(true).append(true).mode(0o600).open(path)?;
    agents_workspace::control::make_private(&file)?;
    Ok(file)
}

impl std::io::Write for Log {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.len > 0 && self.len + bytes.len() as u64 > self.cap {
            // A log that cannot rotate keeps logging where it is rather than lose lines.
            let _ = self.rotate();
        }
        let written = self.file.write(bytes)?;
        self.len += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}
