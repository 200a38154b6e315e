//! Real git servers on loopback for transport tests: `git daemon` (git://), OpenSSH's `sshd`
//! (ssh://) and lighttpd running `git http-backend` over TLS with basic auth (https://); for
//! sparse registries, lighttpd as a static site over TLS (`StaticSite`, with the faults a real
//! server has: slow answers, throttled transfers, a kill mid-transfer) and a homemade static
//! server (`StaticServer`) for what lighttpd cannot be: a forward proxy, a server that fails
//! the next N requests or drops the next connection on cue, and one that counts requests in
//! flight. Each is started in the test's temporary directory on a free port and killed when
//! dropped.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::TestEnv;

/// A running server; killed on drop.
pub struct Server {
    child: Child,
    /// Prefix of repository URLs: append `team.git`.
    pub base_url: String,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn url(&self, repository: &str) -> String {
        format!("{}{repository}", self.base_url)
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        let after_host = self.base_url.rsplit_once(':').map_or("", |(_, rest)| rest);
        after_host.trim_end_matches('/').split('/').next().and_then(|p| p.parse().ok()).expect("a URL with a port")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn require(program: &str, package: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin", "/bin", "/sbin"] {
        let path = Path::new(dir).join(program);
        if path.exists() {
            return path;
        }
    }
    panic!("`{program}` is not installed: `cargo xtask test` installs the Debian package `{package}`");
}

fn run(command: &mut Command) {
    let output = command.output().unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(output.status.success(), "{command:?} failed: {}", String::from_utf8_lossy(&output.stderr));
}

fn wait_for(port: u16, child: &mut Child, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "server exited with {status} before listening:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("server did not listen on port {port}:\n{}", std::fs::read_to_string(log).unwrap_or_default());
}

fn spawn(mut command: Command, log: &Path, port: u16) -> Child {
    let file = std::fs::File::create(log).unwrap();
    command.stdin(Stdio::null()).stdout(file.try_clone().unwrap()).stderr(file);
    let mut child = command.spawn().unwrap_or_else(|e| panic!("{command:?}: {e}"));
    wait_for(port, &mut child, log);
    child
}

fn git_exec_path() -> PathBuf {
    let output = Command::new("git").arg("--exec-path").output().expect("git is installed");
    PathBuf::from(String::from_utf8(output.stdout).unwrap().trim())
}

/// Debian's chromedriver driving Debian's headless Chromium, listening on a loopback port
/// (WebDriver over HTTP/JSON), with a fresh browser profile under `env`. The browser runs
/// without its sandbox, which needs user namespaces a test machine (or root) may not have.
pub fn chromedriver(env: &TestEnv) -> Server {
    let driver = require("chromedriver", "chromium-driver");
    require("chromium", "chromium");
    let dir = env.path("chromedriver");
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let mut command = Command::new(driver);
    command.arg(format!("--port={port}")).arg("--allowed-ips=127.0.0.1");
    let child = spawn(command, &dir.join("log"), port);
    Server { child, base_url: format!("http://127.0.0.1:{port}/"), log: dir.join("log") }
}

/// `git daemon` serving every repository under `root`, pushes allowed.
pub fn git_daemon(root: &Path) -> Server {
    let port = free_port();
    let log = root.join("git-daemon.log");
    // `git-daemon` itself, not `git daemon`: the `git` wrapper would leave the daemon running
    // as an orphan when the test kills it.
    let mut command = Command::new(git_exec_path().join("git-daemon"));
    command
        .arg("--reuseaddr")
        .arg("--export-all")
        .arg("--enable=receive-pack")
        .arg("--listen=127.0.0.1")
        .arg(format!("--port={port}"))
        .arg(format!("--base-path={}", root.display()))
        .arg(root);
    let child = spawn(command, &log, port);
    Server { child, base_url: format!("git://127.0.0.1:{port}/"), log }
}

fn user_name() -> String {
    let output = Command::new("id").arg("-un").output().expect("id is installed");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// An OpenSSH server accepting a fresh key that is put in `env`'s `~/.ssh` (with the server's
/// host key in `~/.ssh/known_hosts`). Repositories are addressed by absolute path.
pub fn sshd(env: &TestEnv) -> Server {
    let sshd = require("sshd", "openssh-server");
    let keygen = require("ssh-keygen", "openssh-client");
    let dir = env.path("sshd");
    std::fs::create_dir_all(&dir).unwrap();
    let ssh_dir = env.home.join(".ssh");
    std::fs::create_dir_all(&ssh_dir).unwrap();
    let host_key = dir.join("host_ed25519");
    let user_key = ssh_dir.join("id_ed25519");
    for (key, comment) in [(&host_key, "host"), (&user_key, "agents-test")] {
        run(Command::new(&keygen).args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"]).arg(key));
    }
    std::fs::copy(user_key.with_extension("pub"), dir.join("authorized_keys")).unwrap();
    let port = free_port();
    let host_public = std::fs::read_to_string(host_key.with_extension("pub")).unwrap();
    let host_public: Vec<&str> = host_public.split_whitespace().take(2).collect();
    std::fs::write(ssh_dir.join("known_hosts"), format!("[127.0.0.1]:{port} {}\n", host_public.join(" "))).unwrap();
    let config = dir.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\nPidFile {}\nStrictModes no\n\
             UsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
             PermitRootLogin prohibit-password\nLogLevel ERROR\n",
            host_key.display(),
            dir.join("authorized_keys").display(),
            dir.join("sshd.pid").display()
        ),
    )
    .unwrap();
    // sshd insists on its privilege-separation directory.
    let _ = std::fs::create_dir_all("/run/sshd");
    let log = dir.join("sshd.log");
    let mut command = Command::new(sshd);
    command.arg("-D").arg("-e").arg("-f").arg(&config);
    let child = spawn(command, &log, port);
    // The git command line uses OpenSSH, which finds keys through the password database rather
    // than $HOME: point it at this user's files, as a real user's ~/.ssh would be.
    env.set_env(
        "GIT_SSH_COMMAND",
        format!(
            "ssh -i {} -o UserKnownHostsFile={} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes",
            user_key.display(),
            ssh_dir.join("known_hosts").display()
        ),
    );
    Server { child, base_url: format!("ssh://{}@127.0.0.1:{port}", user_name()), log }
}

/// A self-signed certificate for `127.0.0.1`, written into `dir`: the certificate a client is
/// told to trust (`cert.pem`), and the certificate with its key as lighttpd reads them
/// (`server.pem`).
fn self_signed_loopback(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    run(Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert));
    let pem = dir.join("server.pem");
    std::fs::write(&pem, [std::fs::read(&cert).unwrap(), std::fs::read(&key).unwrap()].concat()).unwrap();
    (cert, pem)
}

/// lighttpd serving `git http-backend` for the repositories under `root` over TLS, behind basic
/// auth as user `agent` with `password`. `env` trusts the certificate and gets the credentials in
/// a git credential helper (`credential.helper = store`), as a real user would set it up.
pub fn https(root: &Path, env: &TestEnv, password: &str) -> Server {
    let lighttpd = require("lighttpd", "lighttpd");
    assert!(
        Path::new("/usr/lib/lighttpd/mod_openssl.so").exists(),
        "lighttpd's TLS module is missing: `cargo xtask test` installs the Debian package `lighttpd-mod-openssl`"
    );
    let dir = env.path("https");
    std::fs::create_dir_all(dir.join("www")).unwrap();
    let (cert, pem) = self_signed_loopback(&dir);
    std::fs::write(dir.join("users"), "agent:s3cret\n").unwrap();
    let port = free_port();
    let log = dir.join("lighttpd.log");
    let config = dir.join("lighttpd.conf");
    std::fs::write(
        &config,
        format!(
            r#"server.document-root = "{www}"
server.bind = "127.0.0.1"
server.port = {port}
server.errorlog = "{log}"
server.modules = ("mod_alias", "mod_setenv", "mod_cgi", "mod_auth", "mod_authn_file", "mod_openssl")
ssl.engine = "enable"
ssl.pemfile = "{pem}"
auth.backend = "plain"
auth.backend.plain.userfile = "{users}"
auth.require = ( "" => ( "method" => "basic", "realm" => "agents", "require" => "valid-user" ) )
alias.url = ( "/git" => "{backend}" )
$HTTP["url"] =~ "^/git" {{
    cgi.assign = ( "" => "" )
    setenv.add-environment = ( "GIT_PROJECT_ROOT" => "{root}", "GIT_HTTP_EXPORT_ALL" => "" )
}}
"#,
            www = dir.join("www").display(),
            log = dir.join("lighttpd-error.log").display(),
            pem = pem.display(),
            users = dir.join("users").display(),
            backend = git_exec_path().join("git-http-backend").display(),
            root = root.display(),
        ),
    )
    .unwrap();
    let mut command = Command::new(lighttpd);
    command.arg("-D").arg("-f").arg(&config);
    let child = spawn(command, &log, port);

    let credentials = dir.join("credentials");
    std::fs::write(&credentials, format!("https://agent:{password}@127.0.0.1:{port}\n")).unwrap();
    std::fs::write(
        env.home.join(".gitconfig"),
        format!("[credential]\n\thelper = store --file={}\n", credentials.display()),
    )
    .unwrap();
    // libgit2 (through OpenSSL) and git (through curl) both trust the test certificate.
    env.set_env("SSL_CERT_FILE", &cert);
    env.set_env("GIT_SSL_CAINFO", &cert);
    Server { child, base_url: format!("https://127.0.0.1:{port}/git/"), log: dir.join("lighttpd-error.log") }
}

/// One request a [`StaticServer`] answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub method: String,
    /// The path asked for, relative to the served directory (no leading `/`).
    pub path: String,
    pub status: u16,
    /// The request came in absolute form (`GET http://host/path`): sent to us as a proxy.
    pub proxied: bool,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
}

#[derive(Default)]
struct StaticSettings {
    basic_auth: Option<String>,
    delay: Duration,
    drop_next: usize,
    fail_next: usize,
    log: Vec<Logged>,
    in_flight: usize,
    max_in_flight: usize,
    /// Answer every request with `302 Found` to this base URL followed by the requested path.
    redirect_to: Option<String>,
}

/// A static web server on loopback (HTTP/1.1 with keep-alive, std::net, one thread per
/// connection) serving the files under a directory as any static host does: `ETag` and
/// `Last-Modified` on every file, 304 to a matching `If-None-Match` / `If-Modified-Since`, 404
/// for anything missing. It can require basic auth, answer slowly, drop connections or fail
/// with 503, and logs every request. It also answers requests in proxy form and `CONNECT`
/// (tunnelling to itself), so it can stand in for an HTTP proxy. Stopped when dropped.
pub struct StaticServer {
    pub port: u16,
    root: PathBuf,
    settings: std::sync::Arc<std::sync::Mutex<StaticSettings>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl StaticServer {
    pub fn start(root: &Path) -> StaticServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let settings: std::sync::Arc<std::sync::Mutex<StaticSettings>> = Default::default();
        let stop: std::sync::Arc<std::sync::atomic::AtomicBool> = Default::default();
        let (root_dir, shared, stopping) = (root.to_owned(), settings.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (root, settings) = (root_dir.clone(), shared.clone());
                std::thread::spawn(move || serve_connection(stream, &root, &settings));
            }
        });
        StaticServer { port, root: root.to_owned(), settings, stop }
    }

    /// The sparse registry URL of the served directory.
    pub fn url(&self) -> String {
        format!("sparse+http://127.0.0.1:{}/", self.port)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Requires `Authorization: Basic` with `user:password` (401 otherwise).
    pub fn require_basic_auth(&self, user: &str, password: &str) {
        let token = base64(format!("{user}:{password}").as_bytes());
        self.settings.lock().unwrap().basic_auth = Some(format!("Basic {token}"));
    }

    /// Waits this long before answering each request.
    pub fn set_delay(&self, delay: Duration) {
        self.settings.lock().unwrap().delay = delay;
    }

    /// Closes the next `count` requests' connections without answering.
    pub fn drop_next(&self, count: usize) {
        self.settings.lock().unwrap().drop_next = count;
    }

    /// Answers every request from now on with `302 Found` to `base` followed by the path asked
    /// for (another port on loopback stands for another host).
    pub fn redirect_to(&self, base: &str) {
        self.settings.lock().unwrap().redirect_to = Some(base.to_owned());
    }

    /// Answers the next `count` requests with 503.
    pub fn fail_next(&self, count: usize) {
        self.settings.lock().unwrap().fail_next = count;
    }

    /// Every request answered so far, in order.
    pub fn requests(&self) -> Vec<Logged> {
        self.settings.lock().unwrap().log.clone()
    }

    pub fn clear_log(&self) {
        let mut settings = self.settings.lock().unwrap();
        settings.log.clear();
        settings.max_in_flight = 0;
    }

    /// The most requests it was answering at one time (since the last `clear_log`).
    pub fn max_in_flight(&self) -> usize {
        self.settings.lock().unwrap().max_in_flight
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve_connection(stream: TcpStream, root: &Path, settings: &std::sync::Mutex<StaticSettings>) {
    use std::io::{BufRead, BufReader, Write};
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    // Requests through a `CONNECT` tunnel came through us as a proxy.
    let mut tunnelled = false;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((key, value)) = line.split_once(':') {
                headers.push((key.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        let header = |key: &str| headers.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let target = parts.next().unwrap_or_default().to_owned();
        if method == "CONNECT" {
            tunnelled = true;
            if stream.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").is_err() {
                return;
            }
            continue;
        }
        let (proxied, path) = match target.split_once("://") {
            Some((_, rest)) => (true, rest.split_once('/').map_or("", |(_, path)| path).to_owned()),
            None => (tunnelled, target.trim_start_matches('/').to_owned()),
        };
        let path = path.split(['?', '#']).next().unwrap_or_default().to_owned();
        let (delay, drop_it, fail_it, auth, redirect) = {
            let mut s = settings.lock().unwrap();
            s.in_flight += 1;
            s.max_in_flight = s.max_in_flight.max(s.in_flight);
            let drop_it = s.drop_next > 0;
            s.drop_next = s.drop_next.saturating_sub(1);
            let fail_it = !drop_it && s.fail_next > 0;
            if fail_it {
                s.fail_next -= 1;
            }
            (s.delay, drop_it, fail_it, s.basic_auth.clone(), s.redirect_to.clone())
        };
        if drop_it {
            let mut s = settings.lock().unwrap();
            s.log.push(Logged { method, path, status: 0, proxied, authorization: header("authorization") });
            s.in_flight -= 1;
            return;
        }
        std::thread::sleep(delay);
        let file = root.join(&path);
        let (status, body, extra) = if let Some(base) = &redirect {
            (302, Vec::new(), format!("Location: {base}{path}\r\n"))
        } else if fail_it {
            (503, Vec::new(), String::new())
        } else if auth.is_some() && header("authorization") != auth {
            (401, Vec::new(), "WWW-Authenticate: Basic realm=\"agents\"\r\n".to_owned())
        } else if path.split('/').any(|c| c == ".." || c.starts_with('.')) || !file.is_file() {
            (404, Vec::new(), String::new())
        } else {
            let bytes = std::fs::read(&file).unwrap();
            let etag = format!("\"{}\"", &agents_format::Sha256::of(&bytes).to_hex()[..20]);
            let modified = http_date(std::fs::metadata(&file).unwrap().modified().unwrap());
            let extra = format!("ETag: {etag}\r\nLast-Modified: {modified}\r\n");
            let not_modified = match header("if-none-match") {
                Some(tags) => tags.split(',').any(|tag| tag.trim() == etag),
                None => header("if-modified-since").is_some_and(|since| since == modified),
            };
            if not_modified { (304, Vec::new(), extra) } else { (200, bytes, extra) }
        };
        let reason = match status {
            200 => "OK",
            304 => "Not Modified",
            302 => "Found",
            401 => "Unauthorized",
            404 => "Not Found",
            _ => "Service Unavailable",
        };
        {
            let mut s = settings.lock().unwrap();
            s.in_flight -= 1;
            s.log.push(Logged {
                method: method.clone(),
                path,
                status,
                proxied,
                authorization: header("authorization"),
            });
        }
        let body = if method == "HEAD" { Vec::new() } else { body };
        // What a static host says a file is, so a browser renders pages and applies styles.
        let extra = match (status, file.extension().and_then(|e| e.to_str())) {
            (200, Some("html")) => format!("{extra}Content-Type: text/html; charset=utf-8\r\n"),
            (200, Some("css")) => format!("{extra}Content-Type: text/css\r\n"),
            (200, Some("js")) => format!("{extra}Content-Type: text/javascript\r\n"),
            (200, Some("json")) => format!("{extra}Content-Type: application/json\r\n"),
            (200, Some("png")) => format!("{extra}Content-Type: image/png\r\n"),
            _ => extra,
        };
        let head = format!("HTTP/1.1 {status} {reason}\r\n{extra}Content-Length: {}\r\n\r\n", body.len());
        if stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&body)).is_err() {
            return;
        }
        if header("connection").is_some_and(|c| c.eq_ignore_ascii_case("close")) {
            return;
        }
    }
}

/// An IMF-fixdate (`Tue, 01 Dec 2026 10:00:00 GMT`), as `Last-Modified` carries.
fn http_date(time: std::time::SystemTime) -> String {
    let seconds = time.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let month_name =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][month as usize - 1];
    format!("{weekday}, {day:02} {month_name} {year} {:02}:{:02}:{:02} GMT", rest / 3600, rest / 60 % 60, rest % 60)
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() { char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]) } else { '=' });
        }
    }
    out
}

/// How a [`StaticSite`] serves its files, beyond the plain static site.
#[derive(Debug, Clone, Default)]
pub struct SiteOptions {
    /// Basic auth as user `agent` with this password.
    pub password: Option<String>,
    /// URL paths matching this regular expression (lighttpd's `=~`) are answered by a CGI
    /// script that waits this long, then sends the file: a server slow to answer.
    pub slow: Option<(String, Duration)>,
    /// URL paths matching this regular expression are sent at this many KiB per second
    /// (lighttpd's own `connection.kbytes-per-second`): a slow transfer, to cut in the middle.
    pub throttle: Option<(String, u32)>,
}

/// One request a [`StaticSite`] answered, from lighttpd's access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub status: u16,
    /// Response body bytes sent.
    pub bytes: u64,
    pub method: String,
    /// The path asked for, relative to the served directory (no leading `/`).
    pub path: String,
    /// The request carried an `Authorization` header.
    pub authorized: bool,
}

/// lighttpd serving the files under `www` as a static site over TLS, the way any static host
/// does (its own ETag, Last-Modified and 304 handling, 404 for what is missing), with the stat
/// cache off so a file changed on disk is served changed at once, and ETags made of mtime and
/// size only: `git archive | tar -x` gives each file its commit's time, so a redeploy keeps the
/// ETag of every file it did not change, as a host with content-hash ETags does. `env` trusts the test CA
/// through `SSL_CERT_FILE`, the documented setting (README, "Certificates"). Its access log
/// goes through a pipe, which lighttpd writes at once (a log file it flushes every 4 s), and
/// [`StaticSite::requests`] reads it. A second, plain-HTTP port serves the marker requests that
/// tell when the log holds everything answered before. Killed when dropped.
pub struct StaticSite {
    child: Option<Child>,
    lighttpd: PathBuf,
    dir: PathBuf,
    www: PathBuf,
    pem: PathBuf,
    pub port: u16,
    marker_port: u16,
    markers: std::sync::atomic::AtomicUsize,
}

impl StaticSite {
    pub fn start(www: &Path, env: &TestEnv, options: &SiteOptions) -> StaticSite {
        let lighttpd = require("lighttpd", "lighttpd");
        assert!(
            Path::new("/usr/lib/lighttpd/mod_openssl.so").exists(),
            "lighttpd's TLS module is missing: `cargo xtask test` installs the Debian package `lighttpd-mod-openssl`"
        );
        let dir = env.path("https-static");
        std::fs::create_dir_all(&dir).unwrap();
        let (cert, pem) = self_signed_loopback(&dir);
        env.set_env("SSL_CERT_FILE", &cert);
        let mut site = StaticSite {
            child: None,
            lighttpd,
            dir,
            www: www.to_owned(),
            pem,
            port: free_port(),
            marker_port: free_port(),
            markers: std::sync::atomic::AtomicUsize::new(0),
        };
        site.restart(options);
        site
    }

    /// The sparse registry URL of the served directory.
    pub fn url(&self) -> String {
        format!("sparse+https://127.0.0.1:{}/", self.port)
    }

    /// SIGKILL, as a crash or an OOM kill does: every open connection is cut mid-transfer.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// (Re)starts lighttpd on the same ports with `options`.
    pub fn restart(&mut self, options: &SiteOptions) {
        self.kill();
        let dir = &self.dir;
        let auth = match &options.password {
            Some(password) => {
                std::fs::write(dir.join("users"), format!("agent:{password}\n")).unwrap();
                format!(
                    "auth.backend = \"plain\"\nauth.backend.plain.userfile = \"{}\"\n\
                     auth.require = ( \"\" => ( \"method\" => \"basic\", \"realm\" => \"agents\", \"require\" => \"valid-user\" ) )\n",
                    dir.join("users").display()
                )
            }
            None => String::new(),
        };
        let mut faults = String::new();
        if let Some((pattern, delay)) = &options.slow {
            let script = dir.join("slow.sh");
            std::fs::write(
                &script,
                format!(
                    "#!/bin/sh\necho \"$1\" >> '{calls}'\nsleep {delay}\n\
                     printf 'Content-Type: application/octet-stream\\r\\n\\r\\n'\nexec cat \"$1\"\n",
                    calls = dir.join("cgi-calls").display(),
                    delay = delay.as_secs_f64(),
                ),
            )
            .unwrap();
            std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
            // The script is the interpreter of every matching file: lighttpd runs it with the
            // file's path as its argument (and answers 404 itself for a missing file).
            faults.push_str(&format!(
                "$HTTP[\"url\"] =~ \"{pattern}\" {{\n  cgi.assign = ( \"\" => \"{}\" )\n}}\n",
                script.display()
            ));
        }
        if let Some((pattern, kbytes)) = &options.throttle {
            faults.push_str(&format!(
                "$HTTP[\"url\"] =~ \"{pattern}\" {{\n  connection.kbytes-per-second = {kbytes}\n}}\n"
            ));
        }
        let config = dir.join("lighttpd.conf");
        std::fs::write(
            &config,
            format!(
                r#"server.document-root = "{www}"
server.bind = "127.0.0.1"
server.port = {port}
server.errorlog = "{errors}"
server.modules = ("mod_auth", "mod_authn_file", "mod_openssl", "mod_accesslog", "mod_cgi", "mod_staticfile")
server.stat-cache-engine = "disable"
etag.use-inode = "disable"
mimetype.assign = ( ".json" => "application/json", "" => "application/octet-stream" )
accesslog.filename = "|/bin/cat >> '{access}'"
accesslog.format = "%>s %b %m %U %{{Authorization}}i"
ssl.engine = "enable"
ssl.pemfile = "{pem}"
$SERVER["socket"] == "127.0.0.1:{marker}" {{
  ssl.engine = "disable"
}}
{auth}{faults}"#,
                www = self.www.display(),
                port = self.port,
                marker = self.marker_port,
                errors = dir.join("error.log").display(),
                access = dir.join("access.log").display(),
                pem = self.pem.display(),
            ),
        )
        .unwrap();
        let mut command = Command::new(&self.lighttpd);
        command.arg("-D").arg("-f").arg(&config);
        let mut child = spawn(command, &dir.join("lighttpd.out"), self.port);
        wait_for(self.marker_port, &mut child, &dir.join("lighttpd.out"));
        self.child = Some(child);
    }

    /// Every request answered since the last [`StaticSite::clear_log`], in order. A marker
    /// request on the plain port goes in behind them, and the log is read once it shows.
    pub fn requests(&self) -> Vec<Served> {
        use std::io::{Read as _, Write as _};
        let n = self.markers.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let marker = format!("/.marker-{n}");
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.marker_port)) {
            let _ = write!(stream, "GET {marker} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            let _ = stream.read_to_end(&mut Vec::new());
        }
        let access = self.dir.join("access.log");
        let deadline = Instant::now() + Duration::from_secs(5);
        let text = loop {
            let text = std::fs::read_to_string(&access).unwrap_or_default();
            if text.lines().any(|line| line.contains(&format!(" {marker} "))) || Instant::now() > deadline {
                break text;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        text.lines()
            .filter_map(|line| {
                let mut fields = line.split(' ');
                let status = fields.next()?.parse().ok()?;
                let bytes = fields.next()?.parse().unwrap_or(0);
                let method = fields.next()?.to_owned();
                let path = fields.next()?.trim_start_matches('/').to_owned();
                let authorized = fields.next().is_some_and(|auth| auth != "-");
                Some(Served { status, bytes, method, path, authorized })
            })
            .filter(|served| !served.path.starts_with(".marker-"))
            .collect()
    }

    pub fn clear_log(&self) {
        // cat appends (O_APPEND): after the truncation its next line lands at the start.
        let _ = std::fs::write(self.dir.join("access.log"), "");
    }

    /// The paths the slow CGI was started for, one per attempt that reached the server.
    pub fn slow_calls(&self) -> Vec<String> {
        let text = std::fs::read_to_string(self.dir.join("cgi-calls")).unwrap_or_default();
        let root = format!("{}/", self.www.display());
        text.lines().map(|line| line.strip_prefix(&root).unwrap_or(line).to_owned()).collect()
    }
}

impl Drop for StaticSite {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A TCP proxy on loopback that holds every new connection for [`SlowProxy::set_delay`] before
/// passing bytes both ways to `target`: a registry server that takes its time to answer, as a
/// congested or far-away one does. Stops accepting when dropped.
pub struct SlowProxy {
    pub port: u16,
    delay_ms: std::sync::Arc<std::sync::atomic::AtomicU64>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl SlowProxy {
    pub fn start(target: u16) -> SlowProxy {
        use std::sync::atomic::Ordering;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let delay_ms = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (delay, stopping) = (delay_ms.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                let wait = Duration::from_millis(delay.load(Ordering::Relaxed));
                std::thread::spawn(move || {
                    std::thread::sleep(wait);
                    let _ = client.set_nonblocking(false);
                    let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else { return };
                    let (Ok(mut client_read), Ok(mut server_write)) = (client.try_clone(), server.try_clone()) else {
                        return;
                    };
                    let (mut server_read, mut client_write) = (server, client);
                    let upstream = std::thread::spawn(move || {
                        let _ = std::io::copy(&mut client_read, &mut server_write);
                        let _ = server_write.shutdown(std::net::Shutdown::Write);
                    });
                    let _ = std::io::copy(&mut server_read, &mut client_write);
                    let _ = client_write.shutdown(std::net::Shutdown::Write);
                    let _ = upstream.join();
                });
            }
        });
        SlowProxy { port, delay_ms, stop }
    }

    /// How long each connection made from now on waits before it is passed on.
    pub fn set_delay(&self, delay: Duration) {
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.delay_ms.store(millis, std::sync::atomic::Ordering::Relaxed);
    }

    /// The git:// URL of `repository` on a `git daemon` behind this proxy.
    pub fn git_url(&self, repository: &str) -> String {
        format!("git://127.0.0.1:{}/{repository}", self.port)
    }
}

impl Drop for SlowProxy {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
