//! agentsd against other accounts and hostile clients: its directories and files are private
//! whatever the umask, and a control client that floods it or says nothing cannot hold it up.

use std::io::{Read as _, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use agents_test_support::{DaemonGuard, TestEnv, exited, reliability};

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

/// `agents ARGS` under `umask 002` (a shell sets it; the test process's own umask stays).
fn agents_with_umask_002(env: &TestEnv, args: &[&str]) -> std::process::Output {
    let mut command = Command::new("sh");
    env.isolate(&mut command);
    command.current_dir(&env.project).arg("-c").arg("umask 002 && exec \"$0\" \"$@\"");
    command.arg(agents_test_support::bin("agents")).args(args);
    command.output().unwrap()
}

/// Stops the daemon of `env` when the test ends, however it ends.
struct Stop<'a>(&'a TestEnv);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        let _ = self.0.run(["daemon", "stop"]);
    }
}

#[test]
fn without_xdg_runtime_dir_and_under_umask_002_the_daemons_files_are_private() {
    let env = TestEnv::new();
    env.remove_env("XDG_RUNTIME_DIR");
    let daemon_dir = env.state_dir().join("daemon");
    let runtime = daemon_dir.join("run");
    let started = agents_with_umask_002(&env, &["daemon", "start"]);
    assert!(started.status.success(), "{}", String::from_utf8_lossy(&started.stderr));
    let _stop = Stop(&env);

    assert_eq!(mode(&daemon_dir), 0o700, "the daemon's directory (watch list, log)");
    assert_eq!(mode(&runtime), 0o700, "the runtime directory");
    assert_eq!(mode(&runtime.join("agentsd.sock")), 0o600, "the control socket");
    assert_eq!(mode(&runtime.join("agentsd.lock")), 0o600, "the instance lock");
    assert_eq!(mode(&daemon_dir.join("agentsd.log")), 0o600, "the log");

    let watched = agents_with_umask_002(&env, &["daemon", "watch"]);
    assert!(watched.status.success(), "{}", String::from_utf8_lossy(&watched.stderr));
    assert_eq!(mode(&daemon_dir), 0o700);
}

#[test]
fn a_loose_runtime_directory_is_repaired_and_a_symlinked_one_refused() {
    let env = TestEnv::new();
    let runtime = env.home.join(".run/agents");
    std::fs::create_dir_all(&runtime).unwrap();
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o777)).unwrap();
    let daemon = DaemonGuard::start(&env);
    assert!(daemon.pid() > 0);
    assert_eq!(mode(&runtime), 0o700);
    drop(daemon);

    // Someone else's directory behind a symlink: nothing is created in it, nothing talks to it.
    let elsewhere = env.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::remove_dir_all(&runtime).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &runtime).unwrap();
    env.run(["daemon", "start"]).fails_with("is a symlink or not a directory");
    env.run(["daemon", "status"]).fails_with("is a symlink or not a directory");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0, "wrote into the symlinked directory");
    reliability::record("hostile-daemon-permissions", 3);
}

fn socket(env: &TestEnv) -> std::path::PathBuf {
    env.home.join(".run/agents/agentsd.sock")
}

/// The most memory the process has ever had resident, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|line| line.starts_with("VmHWM:")).expect("VmHWM in /proc/PID/status");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_request_without_a_newline_is_cut_off_and_memory_stays_small() {
    let env = TestEnv::new();
    let daemon = DaemonGuard::start(&env);
    let pid = daemon.pid();
    let before = peak_rss_kib(pid);

    let mut stream = UnixStream::connect(socket(&env)).unwrap();
    stream.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    let mut sent = 0;
    while sent < 10 * 1024 * 1024 {
        match stream.write(&chunk) {
            Ok(n) => sent += n,
            Err(_) => break,
        }
    }
    assert!(sent < 10 * 1024 * 1024, "the daemon read all {sent} bytes of a request without a newline");
    drop(stream);

    let status = daemon.status();
    assert_eq!(status["pid"], pid, "{status}");
    let grown = peak_rss_kib(pid).saturating_sub(before);
    assert!(grown < 4 * 1024, "agentsd's resident memory grew by {grown} KiB for one oversized request");
    reliability::record("hostile-daemon-clients", 4);
}

#[test]
fn idle_connections_do_not_stall_the_daemon_and_are_closed() {
    let env = TestEnv::new();
    let daemon = DaemonGuard::start(&env);
    let pid = daemon.pid();
    // Silent clients, and one that starts a request and never finishes it.
    let mut idle: Vec<UnixStream> = (0..3).map(|_| UnixStream::connect(socket(&env)).unwrap()).collect();
    idle[0].write_all(b"{\"protocol\":1,").unwrap();

    let started = Instant::now();
    let run = env.run(["daemon", "status", "--json"]).success();
    assert!(started.elapsed() < Duration::from_secs(2), "status took {:?}", started.elapsed());
    assert_eq!(run.json()["pid"], pid);

    // The daemon does not wait for them forever either: each is closed after its timeout.
    for stream in &mut idle {
        stream.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut buffer = Vec::new();
        let read = stream.read_to_end(&mut buffer);
        assert!(read.is_ok(), "an idle connection was still open after 15 s: {read:?}");
    }
    assert!(!exited(pid));
    reliability::record("hostile-daemon-clients", 4);
}

/// Every control connection taken by idle clients: status still answers, on its own socket.
/// With that one flooded too, status says the daemon is running and busy, never that it is not
/// running, and answers again once the idle ones time out.
#[test]
fn a_daemon_whose_connections_are_all_taken_says_it_is_busy() {
    let env = TestEnv::new();
    let daemon = DaemonGuard::start(&env);
    let pid = daemon.pid();
    let mut idle: Vec<UnixStream> = (0..200).map(|_| UnixStream::connect(socket(&env)).unwrap()).collect();
    // The daemon accepts them all before it can answer the next.
    std::thread::sleep(Duration::from_millis(300));
    let reserved = env.run(["daemon", "status", "--json"]).success().json();
    assert_eq!(reserved["pid"], pid, "status has a path of its own: {reserved}");
    let status_socket = env.home.join(".run/agents/agentsd.status.sock");
    // It answers status alone: a stop sent there is refused, and the daemon runs on.
    let mut stop = UnixStream::connect(&status_socket).unwrap();
    stop.write_all(b"{\"protocol\":1,\"command\":\"stop\"}\n").unwrap();
    let mut answer = String::new();
    stop.read_to_string(&mut answer).unwrap();
    assert!(answer.contains("answers `status` only"), "{answer}");
    std::thread::sleep(Duration::from_millis(200));
    assert!(!exited(pid), "a stop on the status socket stopped the daemon");
    idle.extend((0..200).map(|_| UnixStream::connect(&status_socket).unwrap()));
    std::thread::sleep(Duration::from_millis(300));
    let busy = env.run(["daemon", "status"]);
    assert_eq!(busy.code(), Some(1), "{}", busy.stdout());
    assert!(busy.stdout().contains("running but did not answer"), "{}", busy.stdout());
    assert!(busy.stdout().contains("busy"), "{}", busy.stdout());
    assert!(!busy.stdout().contains("not running"), "{}", busy.stdout());
    let json = env.run(["daemon", "status", "--json"]).json();
    assert_eq!(json["running"], true, "{json}");
    // `daemon start` does not start a second one.
    env.run(["daemon", "start"]).success().stderr_contains("already running");
    drop(idle);
    let answered = agents_test_support::eventually(Duration::from_secs(15), || {
        env.run(["daemon", "status", "--json"]).json()["pid"] == pid
    });
    assert!(answered, "status never answered again");
    assert!(!exited(pid));
}

/// A daemon still exiting (killed, its lock and socket not yet closed) does not answer: `daemon
/// start` right then starts a new one once it is gone, instead of taking the dying one for a
/// busy daemon and starting nothing (seen after a `kill -9` on a loaded machine).
#[test]
fn start_right_after_a_daemon_died_starts_a_new_one() {
    let env = TestEnv::new();
    // What a dying daemon leaves for a moment: its lock held and its socket listening, with
    // nobody accepting.
    let runtime = env.home.join(".run/agents");
    std::fs::create_dir_all(&runtime).unwrap();
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    let lock =
        std::fs::File::options().create(true).truncate(false).write(true).open(runtime.join("agentsd.lock")).unwrap();
    lock.try_lock().unwrap();
    let listener = std::os::unix::net::UnixListener::bind(socket(&env)).unwrap();
    let dying = std::thread::spawn(move || {
        // Longer than one status request waits for an answer (2 s).
        std::thread::sleep(Duration::from_millis(2500));
        drop(listener);
        drop(lock);
    });
    let started = env.run(["daemon", "start"]).success();
    assert!(started.stderr().contains("Started"), "{}", started.stderr());
    dying.join().unwrap();
    let daemon = DaemonGuard::start(&env);
    let pid = daemon.pid();
    assert!(!exited(pid), "the new daemon is running");
}
