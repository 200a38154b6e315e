//! Process-wide libgit2 settings: the CA set-up each binary applies first thing in `main`, and
//! the read settings (pack windows, hash checks) applied when this crate first opens
//! repositories; and libgit2's errors in plain words ([`plain_message`]).
//!
//! Pack windows. libgit2 maps pack files in windows of 1 GiB (on 64-bit) and keeps up to 8 GiB
//! of them mapped. Pages of a mapped pack that a command touched count as its resident memory,
//! so reading the objects spread over a 100,000-agent registry (a 1.6 GB pack) cost over
//! 100 MiB: installing 50 agents peaked at 72 MiB, and 27 MiB with these limits. Smaller
//! windows under a mapped limit keep a command's footprint near what it reads at one time; a
//! window is re-mapped (no copy, the page cache keeps the data) when it is needed again.
//!
//! Hash checks. By default libgit2 hashes every object it reads again and compares the result
//! with its id; git itself does not (only `git fsck` does). That was a tenth of the time of
//! installing a bundle of 251 packages (~1,300 objects), and it guards only against this
//! user's own disk: what arrives from a registry is hashed when it is written (a fetched pack
//! is indexed by hashing every object; a copy from a registry on this machine stores each
//! object under the hash of its content), and a body is checked against its record's SHA-256
//! whenever it is read. So reads skip it.
//!
//! CA certificates. libgit2 creates its OpenSSL context when it starts, and OpenSSL then parses
//! the whole CA bundle (`X509_STORE_set_default_paths`): about 4 ms of every command that opens
//! a git registry, half of a lookup, though most commands never make a TLS connection. Where
//! the system keeps its CAs in a hashed directory as well (`c_rehash`, `update-ca-certificates`),
//! the bundle is left out (`SSL_CERT_FILE=/dev/null`) and OpenSSL reads from the directory the
//! one certificate a connection needs, when it needs it. Verification is unchanged; a user who
//! names a bundle in `SSL_CERT_FILE` keeps it, and child processes get the environment back as
//! it was.

use std::ffi::OsString;
use std::path::Path;
use std::sync::OnceLock;

/// Size of one mapped window of a pack file.
const WINDOW: usize = 8 << 20;
/// The most pack data mapped at once; least recently used windows are unmapped beyond it.
const MAPPED_LIMIT: usize = 16 << 20;

const CERT_FILE: &str = "SSL_CERT_FILE";
const CERT_DIR: &str = "SSL_CERT_DIR";

/// What `configure` changed in this process's environment: `(variable, value before)`.
static CHANGED_ENV: OnceLock<Vec<(&'static str, Option<OsString>)>> = OnceLock::new();

/// Sets up lazy CA loading. Call it first thing in `main`, before any thread exists and before
/// anything touches libgit2 (whose start-up reads these variables). It does not start libgit2
/// itself, so commands that never open a repository do not pay for it.
#[allow(unsafe_code)]
pub fn configure() {
    CHANGED_ENV.get_or_init(|| {
        let mut changed = Vec::new();
        if let Some(dir) = lazy_cert_dir() {
            changed.push((CERT_FILE, None));
            if std::env::var_os(CERT_DIR).as_deref() != Some(dir.as_os_str()) {
                changed.push((CERT_DIR, std::env::var_os(CERT_DIR)));
            }
            // SAFETY: `set_var` must not race with other threads reading the environment; this
            // runs at the top of `main`, single-threaded, before libgit2 is touched.
            unsafe {
                std::env::set_var(CERT_FILE, "/dev/null");
                std::env::set_var(CERT_DIR, &dir);
            }
        }
        changed
    });
}

/// Limits libgit2's pack windows and turns off its second hashing of objects read. Called where
/// this crate opens registries (`Cache::open`, `Cache::with_clone`, a registry check), before
/// it reads them.
#[allow(unsafe_code)]
pub(crate) fn configure_reads() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: these setters write libgit2's global options without synchronisation. They
        // run before this crate opens its first repository, and every repository it reads was
        // opened through one of the callers: the `Once` makes all that libgit2 work happen
        // after this call (a second thread waits for it), and runs it once.
        unsafe {
            let _ = git2::opts::set_mwindow_size(WINDOW);
            let _ = git2::opts::set_mwindow_mapped_limit(MAPPED_LIMIT);
        }
        git2::opts::strict_hash_verification(false);
    });
}

/// Gives a child process the environment this process started with (for `git`, `agentsd`).
pub fn restore_env(command: &mut std::process::Command) {
    for (key, before) in CHANGED_ENV.get().into_iter().flatten() {
        match before {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
}

/// The hashed CA directory to read certificates from lazily, when that is safe: the user has
/// not named a bundle, and the directory holds OpenSSL's hash links.
fn lazy_cert_dir() -> Option<std::path::PathBuf> {
    if !cfg!(target_os = "linux") || std::env::var_os(CERT_FILE).is_some() {
        return None;
    }
    let dir = std::env::var_os(CERT_DIR)
        .map(std::path::PathBuf::from)
        .or_else(|| openssl_probe::probe().cert_dir)
        .filter(|dir| dir.is_dir())?;
    hashed(&dir).then_some(dir)
}

/// Whether `dir` holds OpenSSL hash links (`1a2b3c4d.0`).
fn hashed(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else { return false };
    entries.flatten().any(|entry| {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        name.split_once('.').is_some_and(|(hash, n)| {
            hash.len() == 8
                && hash.bytes().all(|b| b.is_ascii_hexdigit())
                && !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
        })
    })
}

/// libgit2's own words when `error` is a libgit2 error: its message without the `; class=Net
/// (12); code=…` that its `Display` appends, which means nothing to a user. `None` for any
/// other error.
pub fn plain_message<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a str> {
    error.downcast_ref::<git2::Error>().map(git2::Error::message)
}
