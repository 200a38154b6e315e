//! Real git servers on loopback for transport tests: `git daemon` (git://), OpenSSH's `sshd`
//! (ssh://) and lighttpd running `git http-backend` over TLS with basic auth (https://). Each is
//! started in the test's temporary directory on a free port and killed when dropped.

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
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    run(Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert));
    let pem = dir.join("server.pem");
    std::fs::write(&pem, [std::fs::read(&cert).unwrap(), std::fs::read(&key).unwrap()].concat()).unwrap();
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
