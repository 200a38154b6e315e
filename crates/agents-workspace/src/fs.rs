//! File-system primitives: atomic writes, optional reads, hashing what is on disk.

use std::io::Write as _;
use std::path::Path;

use agents_format::Sha256;

use crate::error::{Result, io_error};

/// The prefix of the temporary files [`write_atomic`] writes through.
pub const TEMP_PREFIX: &str = ".agents-";
const TEMP_SUFFIX: &str = ".tmp";

/// Removes temporary files a killed writer left in `directory`. Call it only while holding the
/// lock of the workspace that owns the directory, so no live writer's file is taken.
pub fn remove_stale_temp_files(directory: &Path) -> Result<usize> {
    let entries = match std::fs::read_dir(directory) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(error) => return Err(io_error(directory)(error)),
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX) && remove_optional(&entry.path())? {
            removed += 1;
        }
    }
    Ok(removed)
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory (hidden, never
/// named `*.md`), fsync, rename over the target, fsync the directory. A crash leaves either the
/// old file or the new one. A symlink at `path` is replaced, never followed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let directory = path.parent().expect("an absolute file path has a parent");
    fs_err::create_dir_all(directory).map_err(io_error(directory))?;
    let mut temp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(directory)
        .map_err(io_error(directory))?;
    temp.write_all(bytes).map_err(io_error(temp.path()))?;
    temp.as_file().sync_all().map_err(io_error(temp.path()))?;
    temp.persist(path).map_err(|e| io_error(path)(e.error))?;
    sync_directory(directory)
}

#[cfg(unix)]
fn sync_directory(directory: &Path) -> Result<()> {
    std::fs::File::open(directory).and_then(|d| d.sync_all()).map_err(io_error(directory))
}

#[cfg(not(unix))]
fn sync_directory(_directory: &Path) -> Result<()> {
    Ok(())
}

/// Reads `path`, or `None` when it does not exist. A symlink is read as what it points to.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(io_error(path)(error)),
    }
}

/// The checksum of the file at `path`, or `None` when it does not exist.
pub fn hash_file(path: &Path) -> Result<Option<Sha256>> {
    Ok(read_optional(path)?.map(|bytes| Sha256::of(&bytes)))
}

/// Removes `path` if it exists; returns whether it did.
pub fn remove_optional(path: &Path) -> Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(io_error(path)(error)),
    }
}
