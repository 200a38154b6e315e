//! HTTP for sparse registries: one blocking client (ureq over OpenSSL, the system's CA
//! certificates) shared by a process, conditional GETs, timeouts, retries with full-jitter
//! backoff, proxies chosen per host (`HTTPS_PROXY`, `NO_PROXY`, read by the binary), and
//! credentials for private hosts from netrc or `git credential fill`, asked for only after a 401.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use crate::error::{RegistryError, Result};

/// How sparse registries are reached over HTTP. Built by the binary from the environment; the
/// library reads none.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Proxy for `http://` URLs (`HTTP_PROXY` / `http_proxy`).
    pub http_proxy: Option<String>,
    /// Proxy for `https://` URLs (`HTTPS_PROXY` / `https_proxy`).
    pub https_proxy: Option<String>,
    /// Hosts reached directly (`NO_PROXY`): comma-separated names, `.suffix`, or `*`.
    pub no_proxy: Option<String>,
    /// A netrc file to take credentials from (`NETRC`, else `~/.netrc`).
    pub netrc: Option<PathBuf>,
    /// The longest one request may take, connection included.
    pub timeout: Duration,
    /// The longest a connection may take to open.
    pub connect_timeout: Duration,
    /// How many times a failed request (connection error, timeout, 5xx, 429) is tried again.
    pub retries: u32,
    /// How many requests a multi-agent install keeps in flight at once.
    pub parallel: usize,
}

impl Default for HttpConfig {
    fn default() -> HttpConfig {
        HttpConfig {
            http_proxy: None,
            https_proxy: None,
            no_proxy: None,
            netrc: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retries: 3,
            parallel: 8,
        }
    }
}

/// What a server said about a file last time, for a conditional request.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Validators {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_modified: Option<String>,
}

impl Validators {
    fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// The outcome of one GET.
#[derive(Debug)]
pub(crate) enum Fetched {
    Body { bytes: Vec<u8>, validators: Validators },
    NotModified,
    NotFound,
}

#[derive(Clone)]
struct Credential {
    username: String,
    password: String,
    /// Where it came from: a credential from git is approved or rejected back to git.
    from_git: bool,
}

/// A process's HTTP client.
pub(crate) struct Http {
    config: HttpConfig,
    direct: ureq::Agent,
    http_proxied: Option<ureq::Agent>,
    https_proxied: Option<ureq::Agent>,
    /// Credentials per origin (`https://host:port`), once a server asked for them.
    credentials: Mutex<HashMap<String, Credential>>,
    /// Origins whose credential from git was already reported good (once per process: each
    /// report runs `git credential approve`, and a `store` helper rewrites its file).
    approved: Mutex<std::collections::HashSet<String>>,
    /// Origins that did not answer (a timeout, or every retry failed), with why: not asked again
    /// by this process, so a host that accepts and never answers costs a command one timeout.
    down: Mutex<HashMap<String, String>>,
    /// Told when each request starts and ends (the binary shows a wait that lasts).
    progress: Option<std::sync::Arc<dyn crate::Progress>>,
}

impl Http {
    pub(crate) fn new(config: HttpConfig) -> Result<Http> {
        let agent = |proxy: Option<&str>| -> Result<ureq::Agent> {
            let proxy = match proxy {
                Some(proxy) => Some(ureq::Proxy::new(proxy).map_err(|error| RegistryError::Http {
                    url: proxy.to_owned(),
                    message: format!("invalid proxy: {error}"),
                })?),
                None => None,
            };
            let tls = ureq::tls::TlsConfig::builder()
                .provider(ureq::tls::TlsProvider::NativeTls)
                .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                .build();
            Ok(ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(config.timeout))
                .timeout_connect(Some(config.connect_timeout))
                .user_agent(concat!("agents/", env!("CARGO_PKG_VERSION")))
                .max_idle_connections_per_host(config.parallel.max(1))
                // Redirects are followed here, within the registry's origin only (get_once).
                .max_redirects(0)
                .tls_config(tls)
                .proxy(proxy)
                .build()
                .new_agent())
        };
        Ok(Http {
            direct: agent(None)?,
            http_proxied: config.http_proxy.as_deref().filter(|p| !p.is_empty()).map(|p| agent(Some(p))).transpose()?,
            https_proxied: config
                .https_proxy
                .as_deref()
                .filter(|p| !p.is_empty())
                .map(|p| agent(Some(p)))
                .transpose()?,
            credentials: Mutex::new(HashMap::new()),
            approved: Mutex::new(std::collections::HashSet::new()),
            down: Mutex::new(HashMap::new()),
            progress: None,
            config,
        })
    }

    pub(crate) fn with_progress(mut self, progress: Option<std::sync::Arc<dyn crate::Progress>>) -> Http {
        self.progress = progress;
        self
    }

    pub(crate) fn parallel(&self) -> usize {
        self.config.parallel.max(1)
    }

    fn agent_for(&self, url: &str) -> &ureq::Agent {
        let (scheme, host) = scheme_and_host(url);
        if no_proxy_matches(self.config.no_proxy.as_deref().unwrap_or(""), host) {
            return &self.direct;
        }
        let proxied = if scheme.eq_ignore_ascii_case("https") { &self.https_proxied } else { &self.http_proxied };
        proxied.as_ref().unwrap_or(&self.direct)
    }

    /// GETs `url`, conditionally when `validators` are given, reading at most `limit` bytes.
    /// Connection errors, 5xx and 429 are retried with full-jitter backoff. A timeout is not
    /// (waiting again would double the wait): the host is then taken as down for the rest of
    /// this process, as it is after the last retry fails.
    pub(crate) fn get(&self, url: &str, validators: Option<&Validators>, limit: usize) -> Result<Fetched> {
        if let Some(progress) = &self.progress {
            progress.request(url);
        }
        let fetched = self.get_retried(url, validators, limit);
        if let Some(progress) = &self.progress {
            let bytes = match &fetched {
                Ok(Fetched::Body { bytes, .. }) => bytes.len(),
                _ => 0,
            };
            progress.response(url, bytes);
        }
        fetched
    }

    fn get_retried(&self, url: &str, validators: Option<&Validators>, limit: usize) -> Result<Fetched> {
        let origin = origin(url);
        if let Some(why) = self.down.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&origin) {
            return Err(RegistryError::Http { url: url.to_owned(), message: why.clone() });
        }
        let mut attempt = 0;
        loop {
            let failed = match self.get_once(url, validators, limit) {
                Err(Retry::Transient(message)) if attempt < self.config.retries => {
                    attempt += 1;
                    let delay = backoff(attempt);
                    tracing::debug!(url, attempt, ?delay, message, "retrying");
                    std::thread::sleep(delay);
                    continue;
                }
                Err(Retry::Transient(message)) => format!("{message} (after {} attempts)", attempt + 1),
                Err(Retry::TimedOut) => format!("no answer within {}", seconds(self.config.timeout)),
                Err(Retry::Fatal(error)) => return Err(error),
                Ok(fetched) => return Ok(fetched),
            };
            self.down.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(origin, failed.clone());
            return Err(RegistryError::Http { url: url.to_owned(), message: failed });
        }
    }

    fn get_once(&self, asked: &str, validators: Option<&Validators>, limit: usize) -> Result<Fetched, Retry> {
        let origin = origin(asked);
        let mut asked_credentials = false;
        let mut current = asked.to_owned();
        let mut redirects = 0;
        loop {
            let url = current.as_str();
            let mut redirected: Option<String> = None;
            let credential = self.credentials.lock().expect("credentials lock is not poisoned").get(&origin).cloned();
            let mut request = self.agent_for(url).get(url);
            if let Some(validators) = validators.filter(|v| !v.is_empty()) {
                if let Some(etag) = &validators.etag {
                    request = request.header("If-None-Match", etag);
                }
                if let Some(date) = &validators.last_modified {
                    request = request.header("If-Modified-Since", date);
                }
            }
            if let Some(credential) = &credential {
                let pair = format!("{}:{}", credential.username, credential.password);
                request = request.header("Authorization", format!("Basic {}", base64(pair.as_bytes())));
            }
            let mut response = request.call().map_err(|error| transient_or_fatal(url, error))?;
            let status = response.status().as_u16();
            tracing::debug!(url, status, "GET");
            match status {
                200..=299 => {
                    let header =
                        |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
                    let fresh = Validators { etag: header("etag"), last_modified: header("last-modified") };
                    if let Some(len) = header("content-length").and_then(|v| v.parse::<u64>().ok())
                        && len > limit as u64
                    {
                        return Err(Retry::Fatal(too_large(url, len, limit)));
                    }
                    let bytes = match response.body_mut().with_config().limit(limit as u64 + 1).read_to_vec() {
                        Ok(bytes) => bytes,
                        Err(ureq::Error::BodyExceedsLimit(_)) => {
                            return Err(Retry::Fatal(too_large(url, limit as u64 + 1, limit)));
                        }
                        Err(error) => return Err(transient_or_fatal(url, error)),
                    };
                    if bytes.len() > limit {
                        return Err(Retry::Fatal(too_large(url, bytes.len() as u64, limit)));
                    }
                    if let Some(credential) = credential.filter(|c| c.from_git)
                        && self.approved.lock().expect("approved lock is not poisoned").insert(origin.clone())
                    {
                        git_credential("approve", url, Some(&credential));
                    }
                    return Ok(Fetched::Body { bytes, validators: fresh });
                }
                301 | 302 | 303 | 307 | 308 => {
                    let location = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("");
                    let target = redirect_target(url, location);
                    let refused = |why: &str| {
                        Retry::Fatal(RegistryError::Http {
                            url: url.to_owned(),
                            message: format!("redirected to {target}: {why}"),
                        })
                    };
                    if self::origin(&target) != origin {
                        return Err(refused(
                            "another host or scheme, which a registry is never read from (its URL names its one origin)",
                        ));
                    }
                    redirects += 1;
                    if redirects > MAX_REDIRECTS {
                        return Err(refused(&format!("more than {MAX_REDIRECTS} redirects")));
                    }
                    redirected = Some(target);
                }
                304 if validators.is_some() => return Ok(Fetched::NotModified),
                404 | 410 => return Ok(Fetched::NotFound),
                401 if credential.is_none() && !asked_credentials => {
                    asked_credentials = true;
                    if !may_send_credentials(url) {
                        return Err(Retry::Fatal(RegistryError::Auth {
                            url: url.to_owned(),
                            message: "the server wants credentials, which agents never sends over plain http \
                                      but to this machine (use https)"
                                .to_owned(),
                        }));
                    }
                    let found = self.netrc_credential(url).or_else(|| git_credential("fill", url, None));
                    match found {
                        Some(found) => {
                            self.credentials
                                .lock()
                                .expect("credentials lock is not poisoned")
                                .insert(origin.clone(), found);
                        }
                        None => {
                            return Err(Retry::Fatal(RegistryError::Auth {
                                url: url.to_owned(),
                                message: "the server wants credentials and no git credential helper or netrc \
                                          entry has any for this host"
                                    .to_owned(),
                            }));
                        }
                    }
                }
                401 | 403 => {
                    if let Some(credential) = credential.filter(|c| c.from_git) {
                        git_credential("reject", url, Some(&credential));
                    }
                    return Err(Retry::Fatal(RegistryError::Auth {
                        url: url.to_owned(),
                        message: format!("the server answered {status}"),
                    }));
                }
                429 | 500..=599 => return Err(Retry::Transient(format!("the server answered {status}"))),
                _ => {
                    return Err(Retry::Fatal(RegistryError::Http {
                        url: url.to_owned(),
                        message: format!("the server answered {status}"),
                    }));
                }
            }
            if let Some(next) = redirected {
                current = next;
            }
        }
    }

    fn netrc_credential(&self, url: &str) -> Option<Credential> {
        let text = std::fs::read_to_string(self.config.netrc.as_ref()?).ok()?;
        let host = scheme_and_host(url).1;
        let host = host.rsplit_once(':').map_or(host, |(name, _)| name);
        let (username, password) = netrc_lookup(&text, host)?;
        Some(Credential { username, password, from_git: false })
    }
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http").field("config", &self.config).finish_non_exhaustive()
    }
}

enum Retry {
    Transient(String),
    /// No answer within the timeout: not retried.
    TimedOut,
    Fatal(RegistryError),
}

fn transient_or_fatal(url: &str, error: ureq::Error) -> Retry {
    match error {
        ureq::Error::Timeout(_) => Retry::TimedOut,
        ureq::Error::Io(ref io) if io.kind() == std::io::ErrorKind::TimedOut => Retry::TimedOut,
        ureq::Error::Io(ref io) => Retry::Transient(plain_io(io)),
        ureq::Error::ConnectionFailed => Retry::Transient("the connection failed".to_owned()),
        ureq::Error::HostNotFound => Retry::Transient("host not found (DNS)".to_owned()),
        ureq::Error::Protocol(_) => Retry::Transient(error.to_string()),
        error => Retry::Fatal(RegistryError::Http { url: url.to_owned(), message: error.to_string() }),
    }
}

/// A network error in plain words ("connection refused", not "io: Connection refused (os
/// error 111)").
fn plain_io(error: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match error.kind() {
        ErrorKind::ConnectionRefused => "connection refused (nothing listens there)".to_owned(),
        ErrorKind::ConnectionReset => "the connection was reset".to_owned(),
        ErrorKind::ConnectionAborted => "the connection was aborted".to_owned(),
        ErrorKind::UnexpectedEof => "the server closed the connection mid-answer".to_owned(),
        ErrorKind::NetworkUnreachable | ErrorKind::HostUnreachable => "no route to the host".to_owned(),
        _ => error.to_string(),
    }
}

/// `3 s`, `0.3 s`.
fn seconds(duration: Duration) -> String {
    let text = format!("{:.1}", duration.as_secs_f64());
    format!("{} s", text.strip_suffix(".0").unwrap_or(&text))
}

fn too_large(url: &str, len: u64, limit: usize) -> RegistryError {
    RegistryError::TooLarge { what: format!("`{url}`"), len, limit: limit as u64 }
}

/// A random delay in `[0, 100 ms · 2^attempt)`: full jitter, so parallel clients spread out.
fn backoff(attempt: u32) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
    let ceiling = 100u64 << attempt.min(6);
    Duration::from_millis(random % ceiling)
}

/// `(scheme, host[:port])` of an absolute URL.
fn scheme_and_host(url: &str) -> (&str, &str) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    (scheme, authority.rsplit_once('@').map_or(authority, |(_, host)| host))
}

/// The most redirects one GET follows (within its origin).
const MAX_REDIRECTS: usize = 5;

/// Where a `Location` sent in answer to `url` points: absolute, or resolved against `url`.
fn redirect_target(url: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_owned();
    }
    if location.starts_with("//") {
        let (scheme, _) = scheme_and_host(url);
        return format!("{scheme}:{location}");
    }
    if location.starts_with('/') {
        return format!("{}{location}", origin(url));
    }
    let base = url.split(['?', '#']).next().unwrap_or(url);
    let directory = base.rsplit_once('/').map_or(base, |(directory, _)| directory);
    format!("{directory}/{location}")
}

/// Whether a credential may go to `url`: over https, or plain http to this machine only (a
/// password sent in clear over a network is everyone's on the way).
pub(crate) fn may_send_credentials(url: &str) -> bool {
    let (scheme, host) = scheme_and_host(url);
    if !scheme.eq_ignore_ascii_case("http") {
        return true;
    }
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn origin(url: &str) -> String {
    let (scheme, host) = scheme_and_host(url);
    format!("{}://{host}", scheme.to_ascii_lowercase())
}

/// Whether `host` (possibly with a port) is listed in a `NO_PROXY` value: `*`, an exact name,
/// or a domain (`example.com` and `.example.com` both cover `a.example.com`), as curl reads it.
pub(crate) fn no_proxy_matches(no_proxy: &str, host: &str) -> bool {
    let host = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    }
    .to_ascii_lowercase();
    no_proxy.split(',').map(str::trim).filter(|entry| !entry.is_empty()).any(|entry| {
        if entry == "*" {
            return true;
        }
        let entry = entry.strip_prefix("*.").or_else(|| entry.strip_prefix('.')).unwrap_or(entry);
        let entry = entry.rsplit_once(':').filter(|(_, port)| port.parse::<u16>().is_ok()).map_or(entry, |(n, _)| n);
        let entry = entry.to_ascii_lowercase();
        host == entry || host.ends_with(&format!(".{entry}"))
    })
}

/// The login and password a netrc file gives for `host` (its `machine` entry, else `default`).
pub(crate) fn netrc_lookup(text: &str, host: &str) -> Option<(String, String)> {
    // Each entry: whether it is `default` or names `host`, then its login and password.
    struct Entry {
        matches: bool,
        is_default: bool,
        login: Option<String>,
        password: Option<String>,
    }
    let mut entries: Vec<Entry> = Vec::new();
    let mut tokens = text.split_whitespace();
    while let Some(token) = tokens.next() {
        match token {
            "machine" => {
                let name = tokens.next().unwrap_or_default();
                entries.push(Entry {
                    matches: name.eq_ignore_ascii_case(host),
                    is_default: false,
                    login: None,
                    password: None,
                });
            }
            "default" => entries.push(Entry { matches: false, is_default: true, login: None, password: None }),
            "login" | "password" => {
                let value = tokens.next().map(str::to_owned);
                if let Some(entry) = entries.last_mut() {
                    if token == "login" { entry.login = value } else { entry.password = value }
                }
            }
            _ => {}
        }
    }
    let pick = |want_default: bool| {
        entries
            .iter()
            .find(|e| if want_default { e.is_default } else { e.matches })
            .and_then(|e| Some((e.login.clone()?, e.password.clone()?)))
    };
    pick(false).or_else(|| pick(true))
}

/// Runs `git credential fill|approve|reject` for `url`, never prompting on a terminal (the
/// daemon has none, and a CLI waiting on a hidden prompt looks hung). `fill` returns what the
/// helpers know.
fn git_credential(action: &str, url: &str, credential: Option<&Credential>) -> Option<Credential> {
    let (scheme, host) = scheme_and_host(url);
    let path = url.split_once("://").and_then(|(_, rest)| rest.split_once('/')).map_or("", |(_, path)| path);
    let mut input = format!("protocol={}\nhost={host}\npath={path}\n", scheme.to_ascii_lowercase());
    if let Some(credential) = credential {
        input.push_str(&format!("username={}\npassword={}\n", credential.username, credential.password));
    }
    input.push('\n');
    let mut command = Command::new("git");
    crate::libgit2::restore_env(&mut command);
    command
        .args(["credential", action])
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "")
        .env("SSH_ASKPASS", "")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = command.spawn().ok()?;
    child.stdin.take()?.write_all(input.as_bytes()).ok()?;
    let output = child.wait_with_output().ok()?;
    if action != "fill" || !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let field = |key: &str| text.lines().find_map(|line| line.strip_prefix(key)?.strip_prefix('=').map(str::to_owned));
    Some(Credential { username: field("username").unwrap_or_default(), password: field("password")?, from_git: true })
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_lists_match_as_curl_reads_them() {
        let check = |list: &str, host: &str, expected: bool| {
            assert_eq!(no_proxy_matches(list, host), expected, "NO_PROXY={list} host={host}");
        };
        check("", "example.com", false);
        check("*", "example.com", true);
        check("example.com", "example.com", true);
        check("example.com", "a.example.com", true);
        check(".example.com", "a.example.com", true);
        check("*.example.com", "a.example.com", true);
        check("example.com", "badexample.com", false);
        check("localhost, 127.0.0.1", "127.0.0.1:8080", true);
        check("127.0.0.1:8080", "127.0.0.1:9", true);
        check("other.org", "example.com:443", false);
        check("EXAMPLE.com", "Example.COM", true);
    }

    #[test]
    fn credentials_never_go_over_plain_http_but_to_this_machine() {
        assert!(may_send_credentials("https://team.example.com/agents/config.json"));
        assert!(may_send_credentials("http://127.0.0.1:8080/config.json"));
        assert!(may_send_credentials("http://localhost/config.json"));
        assert!(may_send_credentials("http://[::1]:9/config.json"));
        assert!(!may_send_credentials("http://team.example.com/config.json"));
        assert!(!may_send_credentials("http://10.0.0.5/config.json"));
        assert!(!may_send_credentials("HTTP://user@team.example.com:80/x"));
    }

    #[test]
    fn a_location_is_resolved_against_the_url_it_answers() {
        let url = "http://127.0.0.1:9/team/index/ab/cd/x?q";
        assert_eq!(redirect_target(url, "https://other.example/x"), "https://other.example/x");
        assert_eq!(redirect_target(url, "//other.example/x"), "http://other.example/x");
        assert_eq!(redirect_target(url, "/moved/x"), "http://127.0.0.1:9/moved/x");
        assert_eq!(redirect_target(url, "y"), "http://127.0.0.1:9/team/index/ab/cd/y");
    }

    #[test]
    fn netrc_gives_the_machine_entry_else_the_default() {
        let text = "machine other.org login o password p\n\
                    machine example.com\n  login alice\n  password s3cret\n\
                    default login anon password guest\n";
        assert_eq!(netrc_lookup(text, "example.com"), Some(("alice".into(), "s3cret".into())));
        assert_eq!(netrc_lookup(text, "other.org"), Some(("o".into(), "p".into())));
        assert_eq!(netrc_lookup(text, "third.net"), Some(("anon".into(), "guest".into())));
        assert_eq!(netrc_lookup("machine a login x password y", "b"), None);
    }

    #[test]
    fn base64_encodes_basic_credentials() {
        assert_eq!(base64(b"agent:s3cret"), "YWdlbnQ6czNjcmV0");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b""), "");
    }
}
