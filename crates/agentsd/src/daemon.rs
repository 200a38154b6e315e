//! The event loop: file events (debounced), the fetch schedule (wall-clock, with full-jitter
//! backoff), a periodic full reconcile, signals and the control socket. Reconciliation itself is
//! `agents_workspace::reconcile`, the same operation `agents sync` runs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use agents_format::{AutoUpdate, Sha256};
use agents_registry::{Cache, FetchMode, NetConfig};
use agents_workspace::control::{
    self, Action, ActionKind, Command, DaemonStatus, RegistryFetch, Request, Response, WorkspaceStatus,
};
use agents_workspace::{Dirs, FileAction, MissingPin, Origin, Registries, Scope, Workspace};
use anyhow::{Context as _, bail};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::signal::unix::{SignalKind, signal};

use crate::schedule::{self, Deadline};
use crate::watch::{Routes, Watcher};

/// Quiet time after the last event before reconciling.
const DEBOUNCE: Duration = Duration::from_millis(50);
/// Longest wait after the first event of a burst.
const DEBOUNCE_MAX: Duration = Duration::from_millis(500);
/// Quiet time after the last removal before a pass may restore anything: longer than the
/// pauses of a slow `rm -rf` or `git clean`, short enough that a file deleted by hand comes back
/// at once.
const REMOVAL_SETTLE: Duration = Duration::from_millis(100);
/// Longest wait for removals to settle (a removal that never ends must not stop restores).
const REMOVAL_MAX: Duration = Duration::from_secs(10);
/// A full reconcile of everything, whatever the events said: the last safety net (a change no
/// event reported, as on some network filesystems), so rare; the watch audit already
/// reconciles every workspace whose watch it had to re-establish. At 50 projects one costs
/// about 70 ms of CPU (docs/BENCHMARKS.md), so every 3 hours it is 0.4 ms a minute.
const FULL_RECONCILE: Duration = Duration::from_secs(3 * 60 * 60);
/// How often every watch is checked, in case an event that would have re-established one was
/// lost (a queue overflow is flagged as a rescan instead; this is for a race with a directory
/// replaced twice). A safety net, not the way watches follow a directory (events do that at
/// once), so rare: each audit wakes the daemon's threads (and makes one `statx` per watched
/// directory and per lockfile), about 8 ms at 50 projects on the benchmark machine, and
/// wake-ups are what an idle daemon costs.
const WATCH_AUDIT: Duration = Duration::from_secs(30 * 60);
/// Environment variables that shorten [`WATCH_AUDIT`] and [`FULL_RECONCILE`] (seconds, 1 to
/// 86400), so `cargo xtask bench daemon` can measure what each costs; nobody else needs them.
const WATCH_AUDIT_ENV: &str = "AGENTSD_WATCH_AUDIT_SECS";
const FULL_RECONCILE_ENV: &str = "AGENTSD_FULL_RECONCILE_SECS";

/// `default`, or the seconds the environment variable `name` gives.
fn interval(name: &str, default: Duration) -> Duration {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse::<u64>().ok())
        .filter(|seconds| (1..=86_400).contains(seconds))
        .map_or(default, Duration::from_secs)
}
/// How often a vanished project's directory is looked for (one `stat` each).
const PRESENCE_CHECK: Duration = Duration::from_secs(1);
/// The default time between registry fetches.
const DEFAULT_FETCH_INTERVAL: u64 = 60 * 60;
/// Backoff while offline: the first retry window, and the longest.
const BACKOFF_BASE: u64 = 30;
const BACKOFF_CAP: u64 = 60 * 60;
/// A pin the registry still lacks after a fetch is retried after this long, doubling each time
/// up to [`PIN_RETRY_CAP`]: never a fetch loop, never given up on.
const PIN_RETRY_BASE: u64 = 5;
const PIN_RETRY_CAP: u64 = 60 * 60;
/// The longest single sleep: wall-clock deadlines are re-checked at least this often, so a
/// laptop that slept through a fetch time fetches within this long after waking.
const MAX_SLEEP: Duration = Duration::from_secs(5 * 60);
/// How long a stopping daemon waits for passes under way.
const DRAIN: Duration = Duration::from_secs(3);
/// How long a new instance waits for a previous one that holds the lock but no longer answers.
const INSTANCE_LOCK_WAIT: Duration = Duration::from_secs(5);

pub(crate) struct Settings {
    pub(crate) dirs: Dirs,
    pub(crate) runtime_dir: PathBuf,
    /// `--git-fetch-with-cli`: wins over the environment and config.toml.
    pub(crate) git_fetch_with_cli: bool,
    /// What the process's environment said at start, for the shared loader.
    pub(crate) environment: agents_workspace::Environment,
}

struct Daemon {
    settings: Settings,
    workspaces: Vec<Workspace>,
    /// Where each event goes, from each workspace's directories (kept in memory).
    routes: Routes,
    /// What status answers from (see [`Published`]).
    shared: Shared,
    statuses: Vec<WorkspaceStatus>,
    status: DaemonStatus,
    /// Agent file → the hash the daemon last wrote there: events that show exactly those bytes
    /// are the daemon's own writes and are ignored.
    expected: HashMap<PathBuf, Sha256>,
    fetch_interval: u64,
    auto_update: Option<AutoUpdate>,
    /// A reconcile found pins the cache lacks: fetch soon.
    wants_fetch: bool,
    /// Passes in flight, by workspace root.
    jobs: HashMap<PathBuf, Job>,
    /// Fetches of every registry under way (more than one only while a registry hangs).
    full_fetches: usize,
    /// A fetch was asked for while one ran.
    fetch_queued: bool,
    /// The registry the running fetch is on, and since when.
    fetching: BTreeMap<String, (String, Instant)>,
    /// Each registry's own failures and when it may be tried again, by URL: one that fails
    /// backs off alone, and a pin from another is fetched at once.
    failing: HashMap<String, (u32, Deadline)>,
    /// When each registry that answered is next due, by URL: every registry on its own
    /// schedule, so one that fails or hangs moves no other's.
    due: HashMap<String, Deadline>,
    /// When each registry (by name) was last fetched, on the monotonic clock.
    registry_fetched: HashMap<String, Instant>,
    /// The last fetch ended: the user scope's next pass auto-updates first (when configured).
    pending_auto_update: bool,
    /// Shutting down: passes under way finish, no new one starts.
    stopping: bool,
    reports: tokio::sync::mpsc::UnboundedSender<Report>,
    /// Network settings from the shared loader (re-read on reload).
    net: NetConfig,
    /// When the next interval fetch is due, on both clocks.
    next_fetch: Deadline,
    /// When the last fetch ended, on the monotonic clock.
    fetched_at: Option<Instant>,
    /// Locked versions the cache lacks (`name@version`), by workspace root, with when each
    /// was first seen missing: one not fetched since is fetched at once.
    missing: HashMap<PathBuf, Vec<(MissingPin, Instant)>>,
    /// Workspaces whose last pass wanted a fetch.
    needing: BTreeSet<PathBuf>,
    /// Fetches made for pins that were still missing after them.
    pin_retries: u32,
    /// The registry URLs each workspace's last pass named (by root): a registry none names
    /// leaves status.
    named: HashMap<PathBuf, BTreeSet<String>>,
    /// The last auto-update's error, logged once until it changes.
    auto_update_error: Option<String>,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

pub(crate) fn run(settings: Settings) -> anyhow::Result<()> {
    // Whoever can enter these can stop the daemon or replace its watch list: this user only,
    // whatever the umask and whoever made them first.
    for dir in [&settings.runtime_dir, &settings.dirs.daemon_dir()] {
        if control::private_dir(dir)? {
            tracing::warn!(dir = %dir.display(), "removed group and other permissions from the daemon's directory");
        }
    }
    let lock_path = control::lock_path(&settings.runtime_dir);
    let mut lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock_path)
        .with_context(|| format!("cannot open {}", lock_path.display()))?;
    control::make_private(&lock).with_context(|| format!("cannot restrict {}", lock_path.display()))?;
    take_instance_lock(&lock, &settings.runtime_dir)?;
    lock.set_len(0)?;
    writeln!(lock, "{}", std::process::id())?;

    // Two workers: the control socket is served beside the event loop, never behind it.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let result = runtime.block_on(event_loop(settings));
    // A fetch still talking to a remote must not hold the exit hostage.
    runtime.shutdown_timeout(Duration::from_secs(2));
    drop(lock);
    result
}

/// Another daemon answers on this runtime directory's socket: this one has nothing to do, and
/// exits 0 (a service started beside a daemon started by hand must not count as failed, or
/// `Restart=on-failure` would start it again every few seconds, forever).
#[derive(Debug)]
pub(crate) struct AlreadyRunning(String);

impl std::fmt::Display for AlreadyRunning {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}; this one exits", self.0)
    }
}

impl std::error::Error for AlreadyRunning {}

/// Takes the one-instance lock. A holder that answers on the control socket is a running
/// daemon: refuse at once. A holder that does not answer is one still exiting (its last thread
/// closes the lock after a kill, or a stop is draining a fetch) or one still starting: wait for
/// it, a little, rather than fail a restart that comes right after a crash.
fn take_instance_lock(lock: &File, runtime_dir: &std::path::Path) -> anyhow::Result<()> {
    let socket = control::socket_path(runtime_dir);
    let started = Instant::now();
    let mut said = false;
    loop {
        if lock.try_lock().is_ok() {
            return Ok(());
        }
        // Any answer, a status or "busy", comes from a running daemon.
        match control::request(&socket, Command::Status, Duration::from_millis(500)) {
            Ok(Response { status: Some(status), .. }) => {
                return Err(AlreadyRunning(format!("agentsd is already running (pid {})", status.pid)).into());
            }
            Ok(_) => return Err(AlreadyRunning("agentsd is already running (and busy)".to_owned()).into()),
            Err(_) => {}
        }
        if started.elapsed() >= INSTANCE_LOCK_WAIT {
            bail!(
                "agentsd is already running or stuck exiting: {} stays locked and nothing answers on {}",
                control::lock_path(runtime_dir).display(),
                socket.display()
            );
        }
        if !said {
            tracing::info!("waiting for the previous agentsd to exit");
            said = true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn event_loop(settings: Settings) -> anyhow::Result<()> {
    let socket_path = control::socket_path(&settings.runtime_dir);
    let listener = listen(&socket_path)?;
    let status_path = control::status_socket_path(&settings.runtime_dir);
    let status_listener = listen(&status_path)?;
    let (request_sender, mut requests) = tokio::sync::mpsc::channel::<Incoming>(MAX_CONNECTIONS);
    let (event_sender, mut events) = tokio::sync::mpsc::unbounded_channel();
    let mut watcher = Watcher::new(event_sender).context("cannot start the file watcher")?;
    let (report_sender, mut reports) = tokio::sync::mpsc::unbounded_channel::<Report>();

    let mut daemon = Daemon::new(settings, report_sender);
    daemon.reload();
    watcher.sync(&daemon.routes);
    daemon.reconcile(None);
    daemon.publish();
    tokio::spawn(accept(listener, Some(request_sender.clone()), daemon.shared.clone()));
    tokio::spawn(accept(status_listener, None, daemon.shared.clone()));
    tracing::info!(pid = std::process::id(), workspaces = daemon.workspaces.len(), "agentsd started");

    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut hangup = signal(SignalKind::hangup())?;
    let mut full = tokio::time::interval(interval(FULL_RECONCILE_ENV, FULL_RECONCILE));
    full.tick().await;
    let mut audit = tokio::time::interval(interval(WATCH_AUDIT_ENV, WATCH_AUDIT));
    audit.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    audit.tick().await;
    let mut presence = tokio::time::interval(PRESENCE_CHECK);
    presence.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut dirty: BTreeSet<usize> = BTreeSet::new();
    let mut rescan = false;
    let mut burst: Option<(Instant, Instant)> = None;
    let mut last_removal: Option<Instant> = None;

    loop {
        let debounce = burst.map(|(first, last)| {
            let quiet = (last + DEBOUNCE).min(first + DEBOUNCE_MAX);
            // Something is being removed (`rm -rf .claude`, `git clean`): restoring into it now
            // would make its last `rmdir` fail. Wait until removals have settled.
            match last_removal {
                Some(at) if at >= first => quiet.max(at + REMOVAL_SETTLE).min(first + REMOVAL_MAX),
                _ => quiet,
            }
        });
        if daemon.wants_fetch {
            daemon.wants_fetch = false;
            daemon.fetch_for_pins();
        }
        let until_fetch = daemon.next_fetch.remaining(Instant::now(), now()).min(MAX_SLEEP);
        tokio::select! {
            Some(event) = events.recv() => {
                let removal = matches!(&event, Ok(event) if matches!(event.kind, notify::EventKind::Remove(_)));
                let now = Instant::now();
                if take_event(&mut daemon, &mut watcher, event, &mut dirty, &mut rescan) {
                    burst = Some((burst.map_or(now, |(first, _)| first), now));
                    // A removal only delays restores when it concerns a workspace.
                    if removal {
                        last_removal = Some(now);
                    }
                }
                // Only the counters changed: publishing them is one lock, not a copy.
                daemon.publish_counters();
                continue;
            }
            _ = sleep_until(debounce), if debounce.is_some() => {
                burst = None;
                // Take whatever else arrived meanwhile into this same pass.
                while let Ok(event) = events.try_recv() {
                    take_event(&mut daemon, &mut watcher, event, &mut dirty, &mut rescan);
                }
                daemon.routes.refresh();
                watcher.sync(&daemon.routes);
                let only = if rescan { None } else { Some(std::mem::take(&mut dirty)) };
                daemon.reconcile(only);
                dirty.clear();
                rescan = false;
            }
            _ = tokio::time::sleep(until_fetch) => {
                if daemon.next_fetch.is_due(Instant::now(), now()) {
                    daemon.spawn_fetch(None, false);
                }
            }
            Some(report) = reports.recv() => {
                daemon.take_report(report);
                // A pass may have created directories (a restored `.claude/agents`): watch
                // them now, not at the next event. A pass that wrote the lockfile changed them.
                daemon.routes.refresh();
                watcher.sync(&daemon.routes);
            }
            _ = presence.tick(), if daemon.statuses.iter().any(|s| s.missing) => {
                // A project that vanished (moved away, deleted, being re-cloned) is resynced as
                // soon as it is back; its parent is not watched, so look.
                let back: BTreeSet<usize> = daemon.vanished_and_back();
                if !back.is_empty() {
                    watcher.sync(&daemon.routes);
                    daemon.reconcile(Some(back));
                }
            }
            _ = audit.tick() => {
                // Cheap: one statx per watched directory and per lockfile.
                daemon.routes.recheck();
                let renewed = watcher.audit(&daemon.routes);
                tracing::trace!(watched = watcher.len(), renewed = renewed.len(), "watch audit");
                // Events may have been missed where a watch had to be re-established.
                let missed: BTreeSet<usize> =
                    renewed.iter().flat_map(|dir| daemon.routes.needing(dir).collect::<Vec<_>>()).collect();
                if !missed.is_empty() {
                    daemon.reconcile(Some(missed));
                }
            }
            _ = full.tick() => {
                daemon.routes.recheck();
                watcher.sync(&daemon.routes);
                daemon.reconcile(None);
            }
            _ = hangup.recv() => {
                tracing::info!("SIGHUP: reloading");
                daemon.reload();
                watcher.sync(&daemon.routes);
                daemon.reconcile(None);
            }
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
            Some(incoming) = requests.recv() => {
                let command = incoming.command.clone();
                let _ = incoming.reply.send(Response { protocol: control::PROTOCOL, ok: true, error: None, status: None });
                match command {
                    Command::Stop => {
                        // Let the client read its answer before the runtime goes away.
                        let _ = tokio::time::timeout(Duration::from_secs(1), incoming.written).await;
                        break;
                    }
                    Command::Reload => {
                        daemon.reload();
                        watcher.sync(&daemon.routes);
                        daemon.reconcile(None);
                    }
                    Command::SyncNow => {
                        daemon.reconcile(None);
                        daemon.spawn_fetch(None, true);
                    }
                    Command::Status => {}
                }
            }
        }
        daemon.publish();
    }
    tracing::info!("agentsd stopping");
    let _ = std::fs::remove_file(&socket_path);
    let _ = std::fs::remove_file(&status_path);
    // Finish the passes under way (not those still waiting for a lock someone else holds).
    daemon.stopping = true;
    let deadline = tokio::time::Instant::now() + DRAIN;
    while daemon.jobs.values().any(|job| job.waiting_since.is_none()) {
        match tokio::time::timeout_at(deadline, reports.recv()).await {
            Ok(Some(report)) => daemon.take_report(report),
            _ => break,
        }
    }
    Ok(())
}

/// Files one watcher event: re-establishes the watches it shows dead, then marks the workspaces
/// it concerns. Returns whether anything became dirty.
fn take_event(
    daemon: &mut Daemon,
    watcher: &mut Watcher,
    event: notify::Result<notify::Event>,
    dirty: &mut BTreeSet<usize>,
    rescan: &mut bool,
) -> bool {
    let resync = match &event {
        Ok(event) => {
            let lost = watcher.note(event);
            // Only a directory some workspace needs (or one above it) is worth a watch.
            let new_dir = matches!(
                event.kind,
                notify::EventKind::Create(notify::event::CreateKind::Folder)
                    | notify::EventKind::Modify(notify::event::ModifyKind::Name(_))
            ) && event.paths.iter().any(|path| daemon.routes.holds(path));
            lost || new_dir
        }
        Err(_) => {
            daemon.routes.recheck();
            watcher.audit(&daemon.routes);
            false
        }
    };
    if resync {
        // Now, not after the debounce: a file deleted in the new directory a moment from now
        // must raise an event.
        watcher.sync(&daemon.routes);
    }
    daemon.note_event(event, dirty, rescan)
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}

/// A well-formed request, handed from its connection's task to the event loop, which answers
/// through `reply`; `written` resolves once the answer has gone out (or could not).
struct Incoming {
    command: Command,
    reply: tokio::sync::oneshot::Sender<Response>,
    written: tokio::sync::oneshot::Receiver<()>,
}

/// Control connections served at once; more are refused until one ends. With the size and time
/// bounds, at most this many requests' worth of memory is ever held.
const MAX_CONNECTIONS: usize = 64;

/// Listens on `path` (a stale socket left there removed first), readable by this user alone.
fn listen(path: &std::path::Path) -> anyhow::Result<tokio::net::UnixListener> {
    let _ = std::fs::remove_file(path);
    let listener =
        tokio::net::UnixListener::bind(path).with_context(|| format!("cannot listen on {}", path.display()))?;
    // The directory (0700) already keeps others out; the socket's own mode says so too.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot restrict {}", path.display()))?;
    Ok(listener)
}

/// Accepts control connections, each served in its own task: a slow or silent client never
/// holds up the event loop, and a busy event loop never holds up status. Without `requests`,
/// the status socket: it answers `status` alone, with its own connections.
async fn accept(
    listener: tokio::net::UnixListener,
    requests: Option<tokio::sync::mpsc::Sender<Incoming>>,
    shared: Shared,
) {
    let connections = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    // Connections over the limit are told the daemon is busy (never dropped unanswered, which a
    // client reads as "not running"), by at most as many short tasks again.
    let refusals = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        match listener.accept().await {
            Ok((stream, _)) => match connections.clone().try_acquire_owned() {
                Ok(permit) => {
                    tokio::spawn(serve(stream, requests.clone(), shared.clone(), permit));
                }
                Err(_) => {
                    tracing::warn!("too many control connections at once; answering one that agentsd is busy");
                    if let Ok(permit) = refusals.clone().try_acquire_owned() {
                        tokio::spawn(busy(stream, permit));
                    }
                }
            },
            Err(error) => {
                // Out of descriptors, most likely: wait rather than spin.
                tracing::warn!("cannot accept a control connection: {error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Answers a connection over the limit that the daemon is busy, within a second, and closes it.
async fn busy(mut stream: tokio::net::UnixStream, _permit: tokio::sync::OwnedSemaphorePermit) {
    let error = format!("agentsd is busy: {MAX_CONNECTIONS} control connections are open at once");
    let response = Response { protocol: control::PROTOCOL, ok: false, error: Some(error), status: None };
    let mut bytes = serde_json::to_vec(&response).expect("responses serialise");
    bytes.push(b'\n');
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(&bytes)).await;
}

/// Reads one request line (at most [`control::MAX_REQUEST_LEN`] bytes, within
/// [`control::REQUEST_TIMEOUT`]), passes it to the event loop and writes the answer.
async fn serve(
    stream: tokio::net::UnixStream,
    requests: Option<tokio::sync::mpsc::Sender<Incoming>>,
    shared: Shared,
    _permit: tokio::sync::OwnedSemaphorePermit,
) {
    let (read, mut write) = stream.into_split();
    let mut line = Vec::new();
    let limit = u64::try_from(control::MAX_REQUEST_LEN).unwrap_or(u64::MAX);
    let mut reader = BufReader::new(read.take(limit + 1));
    let read = tokio::time::timeout(control::REQUEST_TIMEOUT, reader.read_until(b'\n', &mut line)).await;
    let refuse = |error: String| Response { protocol: control::PROTOCOL, ok: false, error: Some(error), status: None };
    let response = match read {
        Err(_) => {
            tracing::debug!("a control client sent no request within {:?}", control::REQUEST_TIMEOUT);
            return;
        }
        Ok(Err(_)) | Ok(Ok(0)) => return,
        Ok(Ok(_)) if line.len() > control::MAX_REQUEST_LEN => {
            tracing::warn!("refused a control request over {} bytes", control::MAX_REQUEST_LEN);
            refuse(format!("request is over {} bytes", control::MAX_REQUEST_LEN))
        }
        Ok(Ok(_)) => match serde_json::from_slice::<Request>(&line) {
            Ok(request) if request.protocol == control::PROTOCOL && request.command == Command::Status => {
                Response { protocol: control::PROTOCOL, ok: true, error: None, status: Some(answer(&shared)) }
            }
            Ok(request) if request.protocol == control::PROTOCOL => {
                let Some(requests) = requests else {
                    let response =
                        refuse("this socket answers `status` only; send other commands to agentsd.sock".to_owned());
                    respond(&mut write, &response).await;
                    return;
                };
                let (reply, answer) = tokio::sync::oneshot::channel();
                let (done, written) = tokio::sync::oneshot::channel();
                if requests.send(Incoming { command: request.command, reply, written }).await.is_err() {
                    return;
                }
                let Ok(response) = answer.await else { return };
                respond(&mut write, &response).await;
                let _ = done.send(());
                return;
            }
            Ok(request) => refuse(format!(
                "protocol {} is not spoken here (this daemon speaks {})",
                request.protocol,
                control::PROTOCOL
            )),
            Err(error) => refuse(format!("bad request: {error}")),
        },
    };
    respond(&mut write, &response).await;
}

async fn respond(write: &mut tokio::net::unix::OwnedWriteHalf, response: &Response) {
    let mut bytes = serde_json::to_vec(response).expect("responses serialise");
    bytes.push(b'\n');
    let _ = tokio::time::timeout(control::REQUEST_TIMEOUT, write.write_all(&bytes)).await;
}

/// What a job on a blocking thread tells the event loop.
enum Report {
    /// The reconcile of the workspace at `root` found its lock held by another process and
    /// waits for it.
    Waiting { root: PathBuf },
    /// The reconcile of the workspace at `root` ended.
    Reconciled { root: PathBuf, outcome: Result<Box<Pass>, String> },
    /// A fetch started on this registry.
    Fetching { registry: String, url: String },
    /// A fetch of one registry ended (with its error if it failed).
    RegistryFetched { name: String, url: String, error: Option<String> },
    /// The fetch ended.
    Fetched(FetchOutcome),
}

/// One workspace's pass: the reconcile's report, the hashes of the files it wrote (so their
/// events are recognised as ours), and what an auto-update before it did.
#[derive(Default)]
struct Pass {
    report: agents_workspace::Report,
    written: Vec<(PathBuf, Sha256)>,
    /// Each package whose pin moved: its name, the version it moved from and the one it moved to.
    auto_updated: Vec<(String, semver::Version, Option<semver::Version>)>,
    auto_update_error: Option<String>,
    /// An auto-update was tried before the pass.
    auto_update_tried: bool,
    /// The project's directory is gone (moved away, deleted, being cloned again).
    vanished: bool,
    /// The URLs of the registries the workspace names (not the built-in one), when its
    /// manifest could be read.
    registries: Option<BTreeSet<String>>,
}

/// A reconcile in flight for one workspace. There is at most one per workspace; events that
/// arrive meanwhile ask for another when it ends.
struct Job {
    started: Instant,
    waiting_since: Option<Instant>,
    again: bool,
}

struct FetchOutcome {
    errors: Vec<String>,
    /// The URL of every registry the workspaces name (fetched or not).
    registries: BTreeSet<String>,
    /// A fetch of every registry (the schedule's), not one for pins.
    full: bool,
}

/// One workspace's pass, on a blocking thread: a workspace whose lock another process holds,
/// or whose disk is slow or full, holds up only this thread.
fn reconcile_job(
    workspace: &Workspace,
    cache: Cache,
    auto_update: Option<AutoUpdate>,
    reports: &tokio::sync::mpsc::UnboundedSender<Report>,
) -> Result<Box<Pass>, String> {
    // Say so before blocking on a lock someone else holds, so status can tell what waits.
    if let Ok(None) = workspace.try_lock() {
        let _ = reports.send(Report::Waiting { root: workspace.root.clone() });
    }
    let mut pass = Pass::default();
    if workspace.scope == Scope::Project && !workspace.root.is_dir() {
        pass.vanished = true;
        return Ok(Box::new(pass));
    }
    let registries = |workspace: &Workspace| {
        workspace
            .read_manifest()
            .and_then(|(_, manifest)| Registries::new(workspace, &manifest, cache.clone(), FetchMode::Offline))
    };
    if let Some(level) = auto_update {
        pass.auto_update_tried = true;
        match registries(workspace).and_then(|mut r| agents_workspace::auto_update(workspace, &mut r, level)) {
            Ok(moved) => {
                pass.auto_updated =
                    moved.iter().map(|a| (a.name.to_string(), a.current.clone(), a.compatible.clone())).collect();
            }
            Err(error) => pass.auto_update_error = Some(control::error_text(&error)),
        }
    }
    let mut registries = registries(workspace).map_err(|error| control::error_text(&error))?;
    pass.registries =
        Some(registries.entries().iter().filter(|e| e.origin != Origin::Builtin).map(|e| e.url.clone()).collect());
    let report =
        agents_workspace::reconcile(workspace, &mut registries).map_err(|error| control::error_text(&error))?;
    pass.written = report
        .written()
        .iter()
        .filter_map(|(_, file)| {
            agents_workspace::fs::hash_file(&file.path).ok().flatten().map(|hash| (file.path.clone(), hash))
        })
        .collect();
    pass.report = report;
    Ok(Box::new(pass))
}

/// Registries fetched at once: a slow or hanging one holds up only its own thread.
const FETCH_PARALLEL: usize = 4;

/// Fetches the registries the workspaces see (those named in `only`, when given), each once,
/// leaving out the URLs in `skip`; up to [`FETCH_PARALLEL`] at once, each reporting when it
/// starts and ends.
fn fetch_job(
    workspaces: &[Workspace],
    cache: &Cache,
    reports: &tokio::sync::mpsc::UnboundedSender<Report>,
    only: Option<&BTreeSet<String>>,
    skip: &BTreeSet<String>,
) -> FetchOutcome {
    let mut errors = Vec::new();
    let mut queue = Vec::new();
    let mut seen = BTreeSet::new();
    for workspace in workspaces {
        let registries = workspace
            .read_manifest()
            .and_then(|(_, manifest)| Registries::new(workspace, &manifest, cache.clone(), FetchMode::Offline));
        let registries = match registries {
            Ok(registries) => registries,
            Err(error) => {
                errors.push(control::error_text(&error));
                continue;
            }
        };
        for entry in registries.entries() {
            let wanted = only.is_none_or(|only| only.contains(&entry.name));
            if entry.origin == Origin::Builtin
                || !wanted
                || !seen.insert(entry.url.clone())
                || skip.contains(&entry.url)
            {
                continue;
            }
            queue.push((entry.name.clone(), entry.url.clone()));
        }
    }
    let queue = std::sync::Mutex::new(queue);
    let failed = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..FETCH_PARALLEL {
            scope.spawn(|| {
                while let Some((name, url)) = queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop() {
                    let _ = reports.send(Report::Fetching { registry: name.clone(), url: url.clone() });
                    // A sparse registry is also revalidated file by file (what its cache holds,
                    // with conditional requests) and the bodies those files name fetched; for
                    // git the open already fetched everything.
                    let fetched = cache.open(&name, &url, FetchMode::Always).and_then(|registry| registry.revalidate());
                    let error = fetched.err().map(|e| control::error_text(&e));
                    if let Some(error) = &error {
                        failed
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push(format!("registry `{name}`: {error}"));
                    }
                    let _ = reports.send(Report::RegistryFetched { name, url, error });
                }
            });
        }
    });
    let mut failed = failed.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    failed.sort();
    errors.extend(failed);
    FetchOutcome { errors, registries: seen, full: only.is_none() }
}

impl Daemon {
    fn new(settings: Settings, reports: tokio::sync::mpsc::UnboundedSender<Report>) -> Daemon {
        let status = DaemonStatus { pid: std::process::id(), started: now(), ..DaemonStatus::default() };
        Daemon {
            settings,
            workspaces: Vec::new(),
            routes: Routes::default(),
            shared: Shared::default(),
            statuses: Vec::new(),
            status,
            expected: HashMap::new(),
            fetch_interval: DEFAULT_FETCH_INTERVAL,
            auto_update: None,
            wants_fetch: false,
            jobs: HashMap::new(),
            full_fetches: 0,
            fetch_queued: false,
            fetching: BTreeMap::new(),
            failing: HashMap::new(),
            due: HashMap::new(),
            registry_fetched: HashMap::new(),
            pending_auto_update: false,
            stopping: false,
            reports,
            net: NetConfig { git_fetch_with_cli: false, home: None, default_username: None, progress: None },
            next_fetch: Deadline::after(0, Instant::now(), now()),
            fetched_at: None,
            missing: HashMap::new(),
            needing: BTreeSet::new(),
            pin_retries: 0,
            named: HashMap::new(),
            auto_update_error: None,
        }
    }
    fn cache(&self) -> Cache {
        let mut net: NetConfig = self.net.clone();
        net.git_fetch_with_cli |= self.settings.git_fetch_with_cli;
        // Sparse registries through the same proxies, netrc and timeout as the CLI's.
        Cache::with_net(&self.settings.dirs.cache, net)
            .with_http(agents_workspace::Settings::http_config(&self.settings.environment))
    }

    /// Re-reads the watch list and the user config.
    fn reload(&mut self) {
        let dirs = &self.settings.dirs;
        let mut workspaces = vec![Workspace::user(dirs.clone())];
        // A watch list someone else could have written is not ours to act on.
        match control::private_dir(&dirs.daemon_dir()) {
            Ok(_) => {
                for root in dirs.read_watch_list().workspaces {
                    workspaces.push(Workspace::project(root, dirs.clone()));
                }
            }
            Err(error) => tracing::warn!("ignoring the watch list: {}", control::error_text(&error)),
        }
        let (_, config) = workspaces[0].read_user_config().unwrap_or_default();
        // The CLI's loader, so a registry that works for `agents install` works here.
        match agents_workspace::Settings::load(&self.settings.environment, dirs.clone()) {
            Ok(loaded) => self.net = loaded.net_config(),
            Err(error) => tracing::warn!("cannot read the network settings: {}", control::error_text(&error)),
        }
        self.fetch_interval = config.daemon.fetch_interval.unwrap_or(DEFAULT_FETCH_INTERVAL).max(1);
        self.auto_update = config.daemon.auto_update;
        self.statuses = workspaces
            .iter()
            .map(|w| {
                let previous = self.statuses.iter().find(|s| s.root == w.root).cloned();
                previous.unwrap_or_else(|| WorkspaceStatus {
                    root: w.root.clone(),
                    scope: if w.scope == Scope::User { "user" } else { "project" }.to_owned(),
                    ..WorkspaceStatus::default()
                })
            })
            .collect();
        self.routes = Routes::new(&workspaces, self.routes.lockfile_reads);
        self.named.retain(|root, _| workspaces.iter().any(|w| w.root == *root));
        self.workspaces = workspaces;
        self.restore_schedule();
        self.forget_unnamed_registries();
    }

    /// The next fetch `seconds` from now.
    fn set_next_fetch(&mut self, seconds: i64) {
        self.next_fetch = Deadline::after(seconds, Instant::now(), now());
        self.status.next_fetch = Some(self.next_fetch.wall(Instant::now(), now()));
    }

    /// Takes the stored schedule, unless a wrong clock wrote it: a next fetch further away than
    /// any interval means fetch now, a last fetch in the future is no last fetch.
    fn restore_schedule(&mut self) {
        let (next, last, registries) = self.read_schedule();
        if self.status.registries.is_empty() {
            self.status.registries = registries
                .into_iter()
                .map(|mut r: RegistryFetch| {
                    r.last_fetch = r.last_fetch.and_then(|at| schedule::stored_past(at, now()));
                    r
                })
                .collect();
        }
        let longest = i64::try_from(self.fetch_interval.max(BACKOFF_CAP)).unwrap_or(i64::MAX);
        let wait = match next {
            None => 0,
            Some(at) => schedule::stored_wait(at, now(), longest).unwrap_or_else(|| {
                tracing::warn!(
                    "the stored next fetch ({}) is further away than any interval (was the clock wrong?): fetching now",
                    agents_format::format_utc(at)
                );
                0
            }),
        };
        self.set_next_fetch(wait);
        if self.status.last_fetch.is_none() {
            self.status.last_fetch = last.and_then(|at| schedule::stored_past(at, now()));
        }
    }

    fn schedule_path(&self) -> PathBuf {
        self.settings.dirs.daemon_dir().join("schedule.json")
    }

    /// The stored next and last fetch times (wall clock), when there are any.
    fn read_schedule(&self) -> (Option<i64>, Option<i64>, Vec<RegistryFetch>) {
        let bytes = agents_workspace::fs::read_optional(&self.schedule_path(), agents_workspace::fs::MAX_STATE_LEN);
        let value: Option<serde_json::Value> = bytes.ok().flatten().and_then(|b| serde_json::from_slice(&b).ok());
        let time = |key: &str| value.as_ref().and_then(|v| v.get(key)).and_then(serde_json::Value::as_i64);
        let registries = value
            .as_ref()
            .and_then(|v| v.get("registries").cloned())
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        (time("next_fetch"), time("last_fetch"), registries)
    }

    fn write_schedule(&self) {
        let value = serde_json::json!({
            "version": 1,
            "next_fetch": self.status.next_fetch,
            "last_fetch": self.status.last_fetch,
            "registries": self.status.registries,
        });
        let bytes = serde_json::to_vec_pretty(&value).expect("json");
        if let Err(error) = agents_workspace::fs::write_atomic(&self.schedule_path(), &bytes) {
            tracing::warn!("cannot save the fetch schedule: {error}");
        }
    }

    /// Files an event under the workspaces it concerns. Returns whether it concerns any.
    fn note_event(
        &mut self,
        event: notify::Result<notify::Event>,
        dirty: &mut BTreeSet<usize>,
        rescan: &mut bool,
    ) -> bool {
        self.status.events += 1;
        let event = match event {
            Ok(event) => event,
            Err(error) => {
                tracing::warn!("watcher error: {error}; rescanning");
                *rescan = true;
                return true;
            }
        };
        if event.need_rescan() {
            *rescan = true;
            return true;
        }
        // Reads are not changes. A close after writing is: a swap left for later because a
        // program had the file open for writing (it may have written nothing) is retried then.
        use notify::event::{AccessKind, AccessMode};
        if matches!(event.kind, notify::EventKind::Access(kind) if kind != AccessKind::Close(AccessMode::Write)) {
            return false;
        }
        let mut any = false;
        for path in &event.paths {
            if let Some(expected) = self.expected.get(path)
                && agents_workspace::fs::hash_file(path).ok().flatten().as_ref() == Some(expected)
            {
                continue;
            }
            any |= self.routes.route(path, dirty);
        }
        any
    }

    /// Starts a pass for the workspaces in `only` (all when `None`). Never touches the network
    /// and never waits: each workspace's pass runs on its own blocking thread.
    /// A pass counts once however many workspaces it starts; one that only asks passes under
    /// way to go again (a burst of events) does not count.
    fn reconcile(&mut self, only: Option<BTreeSet<usize>>) {
        let mut started = false;
        for index in 0..self.workspaces.len() {
            if only.as_ref().is_none_or(|only| only.contains(&index)) {
                started |= self.start_job(index);
            }
        }
        if started {
            self.status.reconcile_passes += 1;
        }
    }

    /// Starts `index`'s pass, or asks the one under way to go again. Returns whether it started.
    fn start_job(&mut self, index: usize) -> bool {
        let workspace = self.workspaces[index].clone();
        if let Some(job) = self.jobs.get_mut(&workspace.root) {
            job.again = true;
            return false;
        }
        if self.stopping {
            return false;
        }
        let auto_update = if workspace.scope == Scope::User && self.pending_auto_update {
            self.pending_auto_update = false;
            self.auto_update
        } else {
            None
        };
        self.jobs.insert(workspace.root.clone(), Job { started: Instant::now(), waiting_since: None, again: false });
        self.statuses[index].passes += 1;
        let cache = self.cache();
        let reports = self.reports.clone();
        tokio::task::spawn_blocking(move || {
            let outcome = reconcile_job(&workspace, cache, auto_update, &reports);
            let _ = reports.send(Report::Reconciled { root: workspace.root, outcome });
        });
        true
    }

    /// A pass found pins the cache lacks. Those first seen since their registry's last fetch
    /// (a lockfile that just arrived) are fetched at once, from their registries alone, whatever
    /// another registry does; otherwise the next fetch comes after a gap that doubles with every
    /// fetch that did not bring them, up to an hour.
    fn fetch_for_pins(&mut self) {
        let fresh: BTreeSet<String> = self
            .missing
            .values()
            .flatten()
            .filter(|(pin, seen)| self.registry_fetched.get(&pin.registry).is_none_or(|fetched| *seen >= *fetched))
            .map(|(pin, _)| pin.registry.clone())
            .collect();
        if !fresh.is_empty() {
            self.pin_retries = 0;
            self.spawn_fetch(Some(fresh), false);
            return;
        }
        let gap = PIN_RETRY_BASE.saturating_mul(1 << self.pin_retries.min(16)).min(PIN_RETRY_CAP);
        self.pin_retries = self.pin_retries.saturating_add(1);
        let since = self.fetched_at.map_or(u64::MAX, |at| at.elapsed().as_secs());
        let wait = i64::try_from(gap.saturating_sub(since)).unwrap_or(0);
        let sooner = self.next_fetch.remaining(Instant::now(), now()).as_secs() > u64::try_from(wait).unwrap_or(0);
        if sooner {
            self.set_next_fetch(wait);
        }
    }

    /// Vanished projects whose directory is there again (and no pass is under way for them).
    fn vanished_and_back(&self) -> BTreeSet<usize> {
        (0..self.workspaces.len())
            .filter(|&index| self.statuses[index].missing && !self.jobs.contains_key(&self.workspaces[index].root))
            .filter(|&index| self.workspaces[index].root.is_dir())
            .collect()
    }

    /// Starts a fetch of every registry that is due (`only: None`; with `forced`, of every
    /// registry, as `sync-now` asks), or of the registries named in `only` (for pins). Registries
    /// being fetched are left out, and, unless forced, those backing off after failures of their
    /// own; for every registry, also those not due yet. A forced fetch while another fetch of
    /// every registry runs is queued for when it ends (`sync-now` asks for what the registries
    /// hold after it was asked).
    fn spawn_fetch(&mut self, only: Option<BTreeSet<String>>, forced: bool) {
        if only.is_none() && forced && self.full_fetches > 0 {
            self.fetch_queued = true;
            return;
        }
        let at = (Instant::now(), now());
        let mut skip: BTreeSet<String> = self.fetching.keys().cloned().collect();
        if !forced {
            let not_due = |deadline: &Deadline| !deadline.is_due(at.0, at.1);
            skip.extend(self.failing.iter().filter(|(_, (_, retry))| not_due(retry)).map(|(url, _)| url.clone()));
            if only.is_none() {
                skip.extend(self.due.iter().filter(|(_, due)| not_due(due)).map(|(url, _)| url.clone()));
            }
        }
        if only.is_none() {
            self.fetch_queued &= !forced;
            self.full_fetches += 1;
            // Until this fetch ends and says when each registry is due next.
            self.set_next_fetch(i64::try_from(self.fetch_interval).unwrap_or(i64::MAX / 2));
        }
        let workspaces = self.workspaces.clone();
        let cache = self.cache();
        let reports = self.reports.clone();
        tokio::task::spawn_blocking(move || {
            let outcome = fetch_job(&workspaces, &cache, &reports, only.as_ref(), &skip);
            let _ = reports.send(Report::Fetched(outcome));
        });
    }

    /// One registry's fetch ended: its own backoff and status entry, and the workspaces waiting
    /// for pins reconciled at once when it worked.
    fn registry_fetched(&mut self, name: String, url: String, error: Option<String>) {
        self.fetching.remove(&url);
        let at = now();
        match &error {
            None => {
                self.failing.remove(&url);
                let interval = i64::try_from(self.fetch_interval).unwrap_or(i64::MAX / 2);
                self.due.insert(url.clone(), Deadline::after(interval, Instant::now(), at));
                self.registry_fetched.insert(name.clone(), Instant::now());
            }
            Some(_) => {
                self.due.remove(&url);
                let failures = self.failing.get(&url).map_or(0, |(failures, _)| *failures).saturating_add(1);
                self.failing.insert(url.clone(), (failures, Deadline::after(backoff(failures), Instant::now(), at)));
            }
        }
        let position = self.status.registries.iter().position(|r| r.name == name && r.url == url);
        let entry = match position {
            Some(position) => &mut self.status.registries[position],
            None => {
                self.status.registries.push(RegistryFetch { name, url, ..RegistryFetch::default() });
                self.status.registries.last_mut().expect("just pushed")
            }
        };
        if error.is_none() {
            entry.last_fetch = Some(at);
        }
        let worked = error.is_none();
        entry.error = error;
        // A retry due before the next wake moves the wake (a fetch of every registry may still
        // wait on another, and only its end would).
        let first_due = self.next_due();
        if u64::try_from(first_due).unwrap_or(0) < self.next_fetch.remaining(Instant::now(), now()).as_secs() {
            self.set_next_fetch(first_due);
        }
        if worked && !self.needing.is_empty() {
            let needing: BTreeSet<usize> =
                (0..self.workspaces.len()).filter(|&i| self.needing.contains(&self.workspaces[i].root)).collect();
            self.reconcile(Some(needing));
        }
    }

    fn take_report(&mut self, report: Report) {
        match report {
            Report::Waiting { root } => {
                if let Some(job) = self.jobs.get_mut(&root) {
                    job.waiting_since = Some(Instant::now());
                    tracing::info!(root = %root.display(), "waiting for the workspace lock: another agents command holds it");
                }
            }
            Report::Reconciled { root, outcome } => self.finish_job(root, outcome),
            Report::Fetching { registry, url } => {
                self.fetching.insert(url, (registry, Instant::now()));
            }
            Report::RegistryFetched { name, url, error } => self.registry_fetched(name, url, error),
            Report::Fetched(outcome) => self.after_fetch(outcome),
        }
    }

    fn finish_job(&mut self, root: PathBuf, outcome: Result<Box<Pass>, String>) {
        let job = self.jobs.remove(&root);
        // A workspace unwatched while its pass ran has no status left to update.
        let Some(index) = self.workspaces.iter().position(|w| w.root == root) else { return };
        let status = &mut self.statuses[index];
        status.last_reconcile = Some(now());
        let vanished = matches!(&outcome, Ok(pass) if pass.vanished);
        if vanished != status.missing {
            if vanished {
                tracing::warn!(root = %root.display(), "the project is gone (moved or deleted); resyncing when it is back");
            } else {
                tracing::info!(root = %root.display(), "the project is back; resyncing");
            }
            status.missing = vanished;
        }
        match outcome {
            Ok(pass) if pass.vanished => {
                status.drift.clear();
                status.conflicts.clear();
                status.errors.clear();
            }
            Ok(pass) => {
                let pass = *pass;
                if let Some(registries) = pass.registries {
                    self.named.insert(root.clone(), registries);
                    self.forget_unnamed_registries();
                }
                if pass.auto_update_tried && pass.auto_update_error != self.auto_update_error {
                    if let Some(error) = &pass.auto_update_error {
                        tracing::warn!("auto-update failed: {error}");
                    }
                    self.auto_update_error = pass.auto_update_error;
                }
                self.record_actions(index, &pass.report, &pass.auto_updated);
                self.expected.extend(pass.written);
                self.take_errors(index, &pass.report);
            }
            Err(text) => {
                let text = explain(&self.workspaces[index], text);
                let status = &mut self.statuses[index];
                if !status.errors.contains(&text) {
                    tracing::warn!(root = %root.display(), "reconcile failed: {text}");
                }
                status.errors = vec![text];
            }
        }
        if job.is_some_and(|job| job.again) && self.start_job(index) {
            self.status.reconcile_passes += 1;
        }
    }

    /// Logs what a pass did and adds it to `recent`, then updates the workspace's drift and
    /// conflicts. What was already known (an edit kept, an update kept aside) is neither logged
    /// nor recorded again; what comes back after it went away is counted on its entry.
    fn record_actions(
        &mut self,
        index: usize,
        report: &agents_workspace::Report,
        auto_updated: &[(String, semver::Version, Option<semver::Version>)],
    ) {
        let root = self.workspaces[index].root.clone();
        let status = &self.statuses[index];
        let at = now();
        let action = |action: ActionKind, agent: String, detail: String| Action {
            at,
            root: root.clone(),
            action,
            agent,
            detail,
            count: 1,
            ..Action::default()
        };
        let mut done = Vec::new();
        for (agent, from, to) in auto_updated {
            tracing::info!(agent = %agent, from = %from, "auto-update");
            done.push(Action {
                from: Some(from.clone()),
                version: to.clone(),
                ..action(ActionKind::AutoUpdated, agent.clone(), format!("from {from}"))
            });
        }
        for (package, file) in report.written() {
            let version = &package.version;
            let (kind, detail) = match &file.action {
                FileAction::Merged { .. } => {
                    (ActionKind::Merged, format!("local edits onto {version} at {}", file.path.display()))
                }
                FileAction::Restored => (ActionKind::Restored, format!("{version} at {}", file.path.display())),
                _ => (ActionKind::Wrote, format!("{version} at {}", file.path.display())),
            };
            tracing::info!(agent = %package.name, %version, path = %file.path.display(), "{kind}");
            done.push(Action {
                version: Some(version.clone()),
                path: Some(file.path.clone()),
                ..action(kind, package.name.to_string(), detail)
            });
        }
        for package in report.packages.iter().filter(|p| p.files.iter().any(|f| f.action == FileAction::Removed)) {
            tracing::info!(agent = %package.name, "removed");
            done.push(Action {
                version: Some(package.version.clone()),
                ..action(ActionKind::Removed, package.name.to_string(), String::new())
            });
        }
        // Configuration entries follow their declarations; executable content nobody approved
        // on this machine is never activated here, only logged (`agents list` names it).
        for change in
            report.config.iter().filter(|c| c.action != agents_workspace::config_entries::EntryAction::Unchanged)
        {
            tracing::info!(key = %change.key, path = %change.file.display(), action = ?change.action, "config entry");
        }
        for pending in &report.awaiting_approval {
            tracing::info!(subject = %pending.subject, "awaiting the user's approval: not activated");
        }
        // One entry per package and version (a skill's files are kept aside together), and
        // none for one already kept aside.
        let mut aside = BTreeSet::new();
        for conflict in &report.conflicts {
            let key = format!("{}@{}", conflict.name, conflict.version);
            if status.conflicts.contains(&key) || !aside.insert(key) {
                continue;
            }
            tracing::warn!(agent = %conflict.name, version = %conflict.version, "update kept aside: the file has local edits");
            done.push(Action {
                version: Some(conflict.version.clone()),
                path: Some(conflict.path.clone()),
                ..action(
                    ActionKind::SetAside,
                    conflict.name.to_string(),
                    format!("{} (the file has local edits; see `agents diff`)", conflict.version),
                )
            });
        }
        for (package, file) in
            report.kept().iter().filter(|(p, _)| !status.drift.iter().any(|known| *known == p.name.as_str()))
        {
            tracing::warn!(agent = %package.name, path = %file.path.display(), "kept a local edit");
            done.push(Action {
                version: Some(package.version.clone()),
                path: Some(file.path.clone()),
                ..action(ActionKind::KeptEdit, package.name.to_string(), file.path.display().to_string())
            });
        }
        for action in done {
            self.status.record(action);
        }
        let status = &mut self.statuses[index];
        status.drift = report.kept().iter().map(|(p, _)| p.name.to_string()).collect();
        status.drift.dedup();
        status.conflicts = report
            .files(|a| matches!(a, FileAction::Conflict { .. }))
            .iter()
            .map(|(p, _)| format!("{}@{}", p.name, p.version))
            .collect();
        status.conflicts.dedup();
    }

    /// A pass's errors into the workspace's status, pins the cache lacks said in the words of
    /// where their fetch is; each error logged once, when it appears.
    fn take_errors(&mut self, index: usize, report: &agents_workspace::Report) {
        let root = self.workspaces[index].root.clone();
        let before = self.missing.remove(&root).unwrap_or_default();
        let pins: Vec<(MissingPin, Instant)> = report
            .missing
            .iter()
            .map(|pin| {
                let seen = before.iter().find(|(known, _)| known == pin).map_or_else(Instant::now, |(_, at)| *at);
                (pin.clone(), seen)
            })
            .collect();
        let is_pin_error =
            |error: &String| pins.iter().any(|(pin, _)| error.starts_with(&format!("{}@{}: ", pin.name, pin.version)));
        let mut errors: Vec<String> = report.errors.iter().filter(|e| !is_pin_error(e)).cloned().collect();
        for (pin, seen) in &pins {
            let fetched_since = self.registry_fetched.get(&pin.registry).is_some_and(|at| at > seen);
            errors.push(if fetched_since {
                format!(
                    "{}@{} is not in registry `{}`, even after fetching it (never published there, or removed): retrying with backoff",
                    pin.name, pin.version, pin.registry
                )
            } else {
                format!("{}@{} is not fetched yet from registry `{}`: fetching it now", pin.name, pin.version, pin.registry)
            });
        }
        if !pins.is_empty() {
            self.missing.insert(root.clone(), pins);
        }
        if report.needs_fetch {
            self.needing.insert(root.clone());
        } else {
            self.needing.remove(&root);
        }
        if self.needing.is_empty() {
            self.pin_retries = 0;
        }
        let status = &mut self.statuses[index];
        // Each error into the log once, when it appears, not on every pass.
        for error in errors.iter().filter(|e| !status.errors.contains(e)) {
            tracing::warn!(root = %root.display(), "{error}");
        }
        status.errors = errors;
        self.wants_fetch |= report.needs_fetch;
    }

    /// Registries no watched workspace names any more leave status, the schedule and their
    /// backoff. Only once every workspace's pass (but a vanished project's) has said which
    /// registries it names: until then, a registry may belong to one not heard from yet.
    fn forget_unnamed_registries(&mut self) {
        let heard = |(workspace, status): (&Workspace, &WorkspaceStatus)| {
            status.missing || self.named.contains_key(&workspace.root)
        };
        if !self.workspaces.iter().zip(&self.statuses).all(heard) {
            return;
        }
        let named: BTreeSet<&String> = self.named.values().flatten().collect();
        let before = self.status.registries.len();
        let had_error = self.status.registries.iter().any(|r| r.error.is_some() && !named.contains(&r.url));
        self.status.registries.retain(|r| named.contains(&r.url));
        self.due.retain(|url, _| named.contains(url));
        self.failing.retain(|url, _| named.contains(url));
        if had_error {
            // The fetch error spoke of a registry no one uses now: say what still fails.
            let errors: Vec<String> = self
                .status
                .registries
                .iter()
                .filter_map(|r| r.error.as_ref().map(|e| format!("registry `{}`: {e}", r.name)))
                .collect();
            self.status.fetch_error = (!errors.is_empty()).then(|| errors.join("; "));
            if self.status.fetch_error.is_none() {
                self.status.fetch_failures = 0;
            }
        }
        if self.status.registries.len() != before {
            self.write_schedule();
        }
    }

    fn after_fetch(&mut self, outcome: FetchOutcome) {
        self.fetched_at = Some(Instant::now());
        self.status.fetches += 1;
        if !outcome.full {
            // A fetch for pins: each registry's own outcome is already in, and the schedule
            // of every registry is not this fetch's to move.
            self.write_schedule();
            for error in &outcome.errors {
                tracing::debug!("a fetch for pins failed: {error}");
            }
            return;
        }
        self.full_fetches = self.full_fetches.saturating_sub(1);
        // Registries no workspace names any more leave the schedule.
        self.due.retain(|url, _| outcome.registries.contains(url));
        self.failing.retain(|url, _| outcome.registries.contains(url));
        self.status.last_fetch = Some(now());
        if outcome.errors.is_empty() {
            if self.status.fetch_error.is_some() {
                tracing::info!("fetching works again");
            }
            self.status.fetch_failures = 0;
            self.status.fetch_error = None;
        } else {
            self.status.fetch_failures += 1;
            let text = outcome.errors.join("; ");
            // Once per change: a registry down for a day is one line, not one per retry.
            if self.status.fetch_error.as_ref() != Some(&text) {
                tracing::warn!("fetch failed (retrying with backoff): {text}");
            } else {
                tracing::debug!(failures = self.status.fetch_failures, "fetch failed again");
            }
            self.status.fetch_error = Some(text);
        }
        self.set_next_fetch(self.next_due());
        self.write_schedule();
        self.pending_auto_update = self.auto_update.is_some();
        self.reconcile(None);
        if self.fetch_queued {
            self.spawn_fetch(None, true);
        }
    }

    /// Seconds until the first registry not being fetched is due (its interval, or its retry
    /// after failures), at most the interval.
    fn next_due(&self) -> i64 {
        let at = (Instant::now(), now());
        let interval = i64::try_from(self.fetch_interval).unwrap_or(i64::MAX / 2);
        let retries = self.failing.iter().map(|(url, (_, retry))| (url, retry));
        self.due
            .iter()
            .chain(retries)
            .filter(|(url, _)| !self.fetching.contains_key(*url))
            .map(|(_, deadline)| {
                let remaining = deadline.remaining(at.0, at.1);
                // Rounded up: a fetch woken a moment early would find nothing due.
                let seconds = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
                i64::try_from(seconds).unwrap_or(interval)
            })
            .min()
            .map_or(interval, |first| first.min(interval))
    }

    /// Hands status what it answers from now.
    fn publish(&self) {
        let mut status = self.status.clone();
        status.lockfile_reads = self.routes.lockfile_reads;
        status.workspaces = self.statuses.clone();
        let published = Published {
            status,
            jobs: self.jobs.iter().map(|(root, job)| (root.clone(), job.started, job.waiting_since)).collect(),
            fetching: self.fetching.values().cloned().collect(),
            next_fetch: Some(self.next_fetch),
        };
        *self.shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = published;
    }

    /// Hands status the event counters alone (after an event, when nothing else changed).
    fn publish_counters(&self) {
        let mut shared = self.shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        shared.status.events = self.status.events;
        shared.status.lockfile_reads = self.routes.lockfile_reads;
    }
}

/// What `status` answers from. The event loop publishes it whenever what status shows changed,
/// and each control connection reads it itself: a loop busy with a flood of events never holds
/// up status. The lines that depend on the time are computed when status is asked.
#[derive(Default)]
struct Published {
    status: DaemonStatus,
    /// Passes under way: workspace root, when it started, since when it waits for the lock.
    jobs: Vec<(PathBuf, Instant, Option<Instant>)>,
    /// The registries being fetched, and since when.
    fetching: Vec<(String, Instant)>,
    next_fetch: Option<Deadline>,
}

type Shared = std::sync::Arc<std::sync::Mutex<Published>>;

/// The status as of now.
fn answer(shared: &Shared) -> DaemonStatus {
    let published = shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut status = published.status.clone();
    status.next_fetch = published.next_fetch.map(|deadline| deadline.wall(Instant::now(), now()));
    let fetching: Vec<String> = published
        .fetching
        .iter()
        .map(|(registry, since)| format!("registry `{registry}` for {} s", since.elapsed().as_secs()))
        .collect();
    status.fetching = (!fetching.is_empty()).then(|| format!("fetching {}", fetching.join(", ")));
    for workspace in &mut status.workspaces {
        let job = published.jobs.iter().find(|(root, _, _)| *root == workspace.root);
        workspace.activity = job.map(|(_, started, waiting_since)| match waiting_since {
            Some(since) => {
                format!(
                    "waiting {} s for the workspace lock: another agents command holds it",
                    since.elapsed().as_secs()
                )
            }
            None => format!("reconciling for {} ms", started.elapsed().as_millis()),
        });
    }
    status
}

/// A pass's error in the words the user needs: a lockfile left with merge conflict markers
/// (a `git pull` that stopped half way) is not a TOML puzzle but something to resolve.
fn explain(workspace: &Workspace, text: String) -> String {
    let lockfile =
        agents_workspace::fs::read_optional(&workspace.lockfile_path(), agents_workspace::fs::MAX_MANIFEST_LEN);
    let conflicted = lockfile.ok().flatten().is_some_and(|bytes| {
        String::from_utf8_lossy(&bytes).lines().any(|line| line.starts_with("<<<<<<<") || line.starts_with(">>>>>>>"))
    });
    if conflicted {
        return format!(
            "{} has merge conflicts: resolve them, then the daemon continues",
            agents_workspace::LOCKFILE_FILE
        );
    }
    text
}

/// Full-jitter exponential backoff: a random delay in [0, min(cap, base·2^failures)].
fn backoff(failures: u32) -> i64 {
    let window = BACKOFF_BASE.saturating_mul(1 << failures.min(16)).min(BACKOFF_CAP);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let seed = u64::from(nanos) ^ u64::from(std::process::id()).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    i64::try_from(1 + seed % window).unwrap_or(1)
}
