//! Sparse registries: a registry's git tree served as static files (`sparse+https://host/path/`),
//! read file by file over HTTP and kept in an on-disk cache with the server's validators (ETag,
//! Last-Modified), so a repeat read of an unchanged file is a 304.
//!
//! The cache keeps, under `<cache>/sparse/<name>-<hash>/`, `files/<key>` and `registry-id` (the
//! first id this cache saw). `<key>` is the file's path in the registry with `/` written `%`
//! (`index%al%ph%alpha`); a body's file is its bytes as served, any other's is one line (a tag,
//! then JSON: the validators, or that the server had no such index file) and then the bytes. One flat
//! directory, one file per registry file, whatever the registry's layout: each new directory
//! and file is an inode to allocate, and that, not the network, was most of a cold 50-agent
//! install's time (`perf`: ext4's inode allocator) when the cache mirrored the registry's
//! fan-out with a metadata file beside each file. The integrity rules are the git cache's: a fetched index file must
//! still hold every version the cached one held, with the same checksum and length, and no
//! version twice; a fetched `config.json` must keep the remembered id. Otherwise the fetch is
//! `RegistryError::Rewritten` and the cache keeps what it had. Bodies are content-addressed: a
//! cached body is used only while its bytes hash to its path, and is never fetched again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use agents_format::{IndexFile, RegistryConfig, Sha256};

use crate::cache::FetchMode;
use crate::error::{RegistryError, Result, io_error};
use crate::http::{Fetched, Http, Validators};

/// What the cache remembers about one file.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Meta {
    #[serde(flatten)]
    validators: Validators,
    /// The server answered 404: the file does not exist (an agent the registry does not have).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    missing: bool,
}

struct Cached {
    bytes: Option<Vec<u8>>,
    meta: Meta,
}

/// A file read by this command: its bytes (`None`: the server has none), or the URL and message
/// of the network error it failed with.
type Memo = std::result::Result<Option<Vec<u8>>, (String, String)>;

/// One sparse registry, opened for one command.
pub(crate) struct Sparse {
    /// The registry URL as configured (`sparse+https://…`), for messages.
    url: String,
    /// The base URL files are fetched under, ending in `/`.
    base: String,
    dir: PathBuf,
    http: Arc<Http>,
    mode: FetchMode,
    /// What this process already read, so each file is fetched at most once per command: its
    /// bytes, or the network error (URL, message) it failed with after its retries, so that a
    /// later read of the same file (resolving after the prefetch, reporting) fails at once
    /// instead of waiting out every retry again.
    read: Mutex<HashMap<String, Memo>>,
}

impl Sparse {
    pub(crate) fn new(url: String, base: String, dir: PathBuf, http: Arc<Http>, mode: FetchMode) -> Sparse {
        Sparse { url, base, dir, http, mode, read: Mutex::new(HashMap::new()) }
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The file at `path` (relative to the registry root), `None` when the server has none;
    /// refused when over `limit` bytes.
    pub(crate) fn read(&self, path: &str, limit: usize) -> Result<Option<Vec<u8>>> {
        if let Some(hit) = self.read.lock().expect("read memo is not poisoned").get(path) {
            return hit.clone().map_err(|(url, message)| RegistryError::Http { url, message });
        }
        let bytes = self.fetch(path, limit);
        let memo = match &bytes {
            Ok(bytes) => Ok(bytes.clone()),
            Err(RegistryError::Http { url, message }) => Err((url.clone(), message.clone())),
            Err(_) => return bytes,
        };
        self.read.lock().expect("read memo is not poisoned").insert(path.to_owned(), memo);
        bytes
    }

    /// Reads every path in `paths`, at most [`Http::parallel`] at a time, and returns each
    /// path's error (the bytes stay in this command's memo for the reads that follow).
    pub(crate) fn read_many(&self, paths: Vec<String>, limit: usize) -> Vec<(String, RegistryError)> {
        let queue = Mutex::new(paths);
        let errors = Mutex::new(Vec::new());
        let workers = self.http.parallel().min(queue.lock().expect("queue is not poisoned").len());
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        let Some(path) = queue.lock().expect("queue is not poisoned").pop() else { break };
                        if let Err(error) = self.read(&path, limit) {
                            errors.lock().expect("errors are not poisoned").push((path, error));
                        }
                    }
                });
            }
        });
        errors.into_inner().expect("errors are not poisoned")
    }

    /// Whether the cache holds `path` (without reading or checking it).
    pub(crate) fn holds(&self, path: &str) -> bool {
        self.file_path(path).is_file()
    }

    /// The paths of every index file this cache holds (for a revalidation).
    pub(crate) fn cached_index_paths(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.dir.join("files")) else { return Vec::new() };
        let mut paths: Vec<String> = entries
            .flatten()
            .filter_map(|entry| Some(entry.file_name().to_str()?.replace(KEY_SEPARATOR, "/")))
            .filter(|path| path.starts_with("index/"))
            .collect();
        paths.sort();
        paths
    }

    fn fetch(&self, path: &str, limit: usize) -> Result<Option<Vec<u8>>> {
        let is_body = is_body(path);
        let mut cached = self.cached(path, limit)?;
        // A body is the same bytes at either depth: one cached from a registry's format-1 path
        // serves its format-2 path after a migration (and the other way round), offline too.
        if is_body
            && !matches!(cached, Some(Cached { bytes: Some(_), .. }))
            && let Some(bytes) = self.cached_at_other_depth(path, limit)
        {
            self.store(path, Some(&bytes), Meta::default())?;
            cached = Some(Cached { bytes: Some(bytes), meta: Meta::default() });
        }
        match (self.mode, &cached) {
            (FetchMode::Offline, Some(cached)) => return Ok(cached.bytes.clone()),
            (FetchMode::Offline, None) => {
                return Err(RegistryError::NotCached { url: self.url.clone(), path: path.to_owned() });
            }
            // The search summary changes with every publish and costs one conditional request:
            // it is revalidated whenever the network may be used.
            (FetchMode::IfMissing, Some(cached)) if path != crate::sparse_summary::SEARCH_SUMMARY_PATH => {
                return Ok(cached.bytes.clone());
            }
            // A body is named by its checksum: once held and verified it never changes.
            (FetchMode::Always, Some(Cached { bytes: Some(bytes), .. })) if is_body => return Ok(Some(bytes.clone())),
            _ => {}
        }
        let (old, validators) = match cached {
            Some(Cached { bytes: Some(bytes), meta }) => (Some(bytes), Some(meta.validators)),
            _ => (None, None),
        };
        let url = format!("{}{path}", self.base);
        match self.http.get(&url, validators.as_ref(), limit)? {
            Fetched::NotModified => match old {
                Some(old) => Ok(Some(old)),
                None => unreachable!("validators are sent only for a cached file"),
            },
            // A registry's config.json does not go away while the registry lives: a 404 for one
            // the cache holds is a broken deploy, a failed fetch like any other, and the cached
            // registry stays usable (restores and pins already fetched need no network).
            Fetched::NotFound if path == CONFIG_PATH && old.is_some() => {
                Err(broken_config(url, "the server answered 404 Not Found"))
            }
            Fetched::NotFound => {
                self.check(path, old.as_deref(), None)?;
                // A missing index file is a fact about the registry (no such agent); a missing
                // body is the host's fault (a deploy that lost files), asked again next time, and
                // so is a missing config.json (never remembered as missing).
                if !is_body && path != CONFIG_PATH {
                    self.store(path, None, Meta { validators: Validators::default(), missing: true })?;
                }
                Ok(None)
            }
            Fetched::Body { bytes, validators } => {
                match self.check(path, old.as_deref(), Some(&bytes)) {
                    // Garbage where a config.json the cache holds was: a broken deploy, as above.
                    Err(RegistryError::NotARegistry { reason: error, .. }) if path == CONFIG_PATH && old.is_some() => {
                        return Err(broken_config(url, &error));
                    }
                    Err(error @ RegistryError::Config { .. }) if path == CONFIG_PATH && old.is_some() => {
                        let text = std::error::Error::source(&error).map_or(error.to_string(), ToString::to_string);
                        return Err(broken_config(url, &text));
                    }
                    checked => checked?,
                }
                // A body that does not hash to its path is returned for the caller to refuse
                // (naming agent@version), and never cached.
                if !is_body || body_matches_path(path, &bytes) {
                    self.store(path, Some(&bytes), Meta { validators, missing: false })?;
                }
                Ok(Some(bytes))
            }
        }
    }

    /// What the cache holds for `path`: `None` when nothing (or nothing usable) is cached.
    fn cached(&self, path: &str, limit: usize) -> Result<Option<Cached>> {
        let file = self.file_path(path);
        let too_large =
            |len: u64| RegistryError::TooLarge { what: format!("`{}`", file.display()), len, limit: limit as u64 };
        match std::fs::metadata(&file) {
            Ok(metadata) if metadata.len() > (limit + MAX_META_LEN) as u64 => return Err(too_large(metadata.len())),
            Ok(_) => {}
            Err(_) => return Ok(None),
        }
        let Ok(bytes) = std::fs::read(&file) else { return Ok(None) };
        // A body is stored bare: its name is its checksum, and nothing is asked of it again.
        if is_body(path) {
            // The cache is disposable: a corrupt body is fetched again, never trusted.
            if bytes.len() > limit || !body_matches_path(path, &bytes) {
                tracing::warn!(path, "cached body does not match its checksum; fetching it again");
                return Ok(None);
            }
            return Ok(Some(Cached { bytes: Some(bytes), meta: Meta::default() }));
        }
        // Any other file: a line of what the server said of it, then its bytes. A file without
        // the tag (an older client's cache held the bytes alone) is not used: fetched again.
        let Some(newline) = bytes.iter().position(|b| *b == b'\n') else { return Ok(None) };
        let Some(line) = bytes[..newline].strip_prefix(META_TAG) else { return Ok(None) };
        let Ok(meta) = serde_json::from_slice::<Meta>(line) else { return Ok(None) };
        if meta.missing {
            // An older client remembered a config.json as missing: not a fact worth keeping.
            if path == CONFIG_PATH {
                return Ok(None);
            }
            return Ok(Some(Cached { bytes: None, meta }));
        }
        let bytes = bytes[newline + 1..].to_vec();
        if bytes.len() > limit {
            return Err(too_large(bytes.len() as u64));
        }
        Ok(Some(Cached { bytes: Some(bytes), meta }))
    }

    /// The bytes cached for the body at `path` under its other content address (`bodies/ab/<sha>`
    /// for `bodies/ab/cd/<sha>`, and back), when they hash to its name.
    fn cached_at_other_depth(&self, path: &str, limit: usize) -> Option<Vec<u8>> {
        let sha256 = Sha256::from_hex(path.rsplit('/').next()?).ok()?;
        let other = match agents_format::body_depth(path, &sha256)? {
            agents_format::BodyDepth::OneLevel => agents_format::two_level_body_path(&sha256),
            agents_format::BodyDepth::TwoLevel => agents_format::one_level_body_path(&sha256),
        };
        match self.cached(&other, limit) {
            Ok(Some(Cached { bytes: Some(bytes), .. })) => Some(bytes),
            _ => None,
        }
    }

    /// Refuses a fetched file that rewrites what the cache held: a `config.json` with another id
    /// than the first one seen, or an index file that lost, changed or doubled a version.
    fn check(&self, path: &str, old: Option<&[u8]>, new: Option<&[u8]>) -> Result<()> {
        let rewritten =
            |what: String| RegistryError::Rewritten { url: self.url.clone(), what, cache: self.dir.clone() };
        if path == CONFIG_PATH {
            let Some(new) = new else { return Ok(()) };
            let text = std::str::from_utf8(new).map_err(|_| RegistryError::NotARegistry {
                url: self.url.clone(),
                reason: "config.json is not UTF-8".to_owned(),
            })?;
            let config = RegistryConfig::parse(text)
                .map_err(|source| RegistryError::Config { url: self.url.clone(), source })?;
            let id_file = self.dir.join("registry-id");
            match std::fs::read_to_string(&id_file) {
                Ok(remembered) if remembered.trim() != config.id.as_str() => {
                    return Err(rewritten(format!("its id changed from `{}` to `{}`", remembered.trim(), config.id)));
                }
                Ok(_) => {}
                Err(_) => {
                    fs_err::create_dir_all(&self.dir).map_err(io_error(&self.dir))?;
                    write_atomic(&id_file, format!("{}\n", config.id).as_bytes())?;
                }
            }
            return Ok(());
        }
        if !path.starts_with("index/") {
            return Ok(());
        }
        let name = path.rsplit('/').next().unwrap_or(path);
        // The layout may have changed since (a `config.json` switched to another format moves
        // every index file): what was seen of the name at another layout's path counts as much.
        let elsewhere;
        let old = match old {
            Some(old) => old,
            None => {
                elsewhere = self.index_seen_elsewhere(path, name);
                match elsewhere.as_deref() {
                    Some(old) => old,
                    None => return Ok(()),
                }
            }
        };
        let new_index = IndexFile::parse(&String::from_utf8_lossy(new.unwrap_or_default()));
        let old_index = IndexFile::parse(&String::from_utf8_lossy(old));
        match agents_format::Rewrites::of(name, Some(&old_index), &new_index).reason(None) {
            Some(what) => Err(rewritten(what)),
            None => Ok(()),
        }
    }

    /// The cached index file of `name` at another layout's path than `path`, if any.
    fn index_seen_elsewhere(&self, path: &str, name: &str) -> Option<Vec<u8>> {
        let name = agents_format::AgentName::new(name).ok()?;
        [agents_format::Layout::V1, agents_format::Layout::V2]
            .into_iter()
            .map(|layout| layout.index_path(&name))
            .filter(|other| other != path)
            .find_map(|other| match self.cached(&other, agents_format::MAX_INDEX_FILE_LEN) {
                Ok(Some(Cached { bytes: Some(bytes), .. })) => Some(bytes),
                _ => None,
            })
    }

    /// Writes what the cache keeps of `path`, in one file (one rename: the bytes and the
    /// validators they came with are replaced together).
    fn store(&self, path: &str, bytes: Option<&[u8]>, meta: Meta) -> Result<()> {
        let file = self.file_path(path);
        if is_body(path) {
            return match bytes {
                Some(bytes) => write_atomic(&file, bytes),
                None => Ok(()),
            };
        }
        let mut record = META_TAG.to_vec();
        record.extend(serde_json::to_vec(&meta).expect("metadata serialises"));
        record.push(b'\n');
        record.extend_from_slice(bytes.unwrap_or_default());
        write_atomic(&file, &record)
    }

    fn file_path(&self, path: &str) -> PathBuf {
        self.dir.join("files").join(key(path))
    }
}

/// A failed fetch of a config.json the cache holds: `why` it is not usable now.
fn broken_config(url: String, why: &str) -> RegistryError {
    RegistryError::Http {
        url,
        message: format!("{why} (a broken deploy?); the cached copy of the registry is used meanwhile"),
    }
}

/// The registry's configuration, read first of all.
const CONFIG_PATH: &str = "config.json";

/// Opens a cached file's line of metadata, so that bytes an older client cached bare (a
/// one-line `config.json` or `search.json` is valid JSON too) are never read as metadata.
const META_TAG: &[u8] = b"agents-sparse-cache-1 ";

/// The most a cached file's line of metadata may take.
const MAX_META_LEN: usize = 16 * 1024;

/// Stands for `/` in a cache key; no registry path holds it (agent names, hex and the fixed
/// file names do not).
const KEY_SEPARATOR: char = '%';

/// The cache's file name for the registry path `path`: one flat name, never a directory.
fn key(path: &str) -> String {
    path.replace('/', &KEY_SEPARATOR.to_string())
}

fn is_body(path: &str) -> bool {
    path.starts_with("bodies/")
}

/// Whether `bytes` hash to the checksum a body's path (`bodies/ab/<sha256>`) names.
fn body_matches_path(path: &str, bytes: &[u8]) -> bool {
    path.rsplit('/').next().is_some_and(|hex| Sha256::of(bytes).to_hex() == hex)
}

/// Writes `bytes` to `path` through a temporary file in its directory and a rename, so a reader
/// (another command, the daemon) sees the old file or the new one.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = path.parent().expect("cache files live in a directory");
    fs_err::create_dir_all(parent).map_err(io_error(parent))?;
    let mut temp = tempfile::NamedTempFile::new_in(parent).map_err(io_error(parent))?;
    std::io::Write::write_all(&mut temp, bytes).map_err(io_error(path))?;
    temp.persist(path).map_err(|error| RegistryError::Io { path: path.to_owned(), source: error.error })?;
    Ok(())
}
