//! `agents daemon start|stop|status|run|watch|unwatch|install-service`: controls for agentsd
//! over its versioned control socket.

use std::ffi::OsString;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use agents_workspace::Workspace;
use agents_workspace::control::{self, DaemonStatus};
use anyhow::{Context as _, bail};

use crate::cli::DaemonCommand;
use crate::context::Context;
use crate::printer::Printer;

const TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) fn run(context: &Context, printer: &Printer, command: DaemonCommand) -> anyhow::Result<i32> {
    let socket = control::socket_path(&context.runtime_dir);
    // A socket in a directory another account controls could be theirs: talk to agentsd only
    // through directories that are this user's alone (created 0700, repaired if loose).
    for dir in [&context.runtime_dir, &context.dirs.daemon_dir()] {
        if control::private_dir(dir)? {
            printer.warn(format!("{} was accessible to other users; it is now private (0700)", dir.display()));
        }
    }
    match command {
        DaemonCommand::Start => {
            match reach(&socket) {
                Reached::Status(status) => {
                    printer.status("Running", format!("agentsd is already running (pid {})", status.pid));
                    return Ok(0);
                }
                Reached::Busy(why) => {
                    printer.status("Running", format!("agentsd is already running, and busy: {why}"));
                    return Ok(0);
                }
                // A holder of the lock that does not answer may be a daemon still exiting (just
                // killed): start one all the same. agentsd waits a little for such a holder and
                // refuses to start beside one that answers.
                Reached::Unanswered(_) | Reached::NotRunning => {}
            }
            let log = context.dirs.daemon_dir().join("agentsd.log");
            let log_file = std::fs::File::options().create(true).append(true).mode(0o600).open(&log)?;
            control::make_private(&log_file)?;
            let log_start = log_file.metadata()?.len();
            let mut command = Command::new(agentsd()?);
            agents_registry::libgit2::restore_env(&mut command);
            // The daemon writes (and caps) the log itself; stderr catches what comes before.
            command.args(daemon_args(context)?).arg("--log-file").arg(&log);
            command.stdin(Stdio::null()).stdout(log_file.try_clone()?).stderr(log_file);
            // Its own process group: a Ctrl-C in this terminal must not reach the daemon.
            std::os::unix::process::CommandExt::process_group(&mut command, 0);
            let mut child = command.spawn().context("cannot start agentsd")?;
            let started = Instant::now();
            while started.elapsed() < TIMEOUT {
                if let Some(status) = query(&socket) {
                    printer.status("Started", format!("agentsd (pid {}), log: {}", status.pid, log.display()));
                    return Ok(0);
                }
                if let Some(exit) = child.try_wait()? {
                    let said = last_error(&log, log_start);
                    // It found a daemon that answers (busy) where this command got no answer.
                    if let Some(line) = said.as_deref().filter(|line| line.contains("already running (")) {
                        printer.status("Running", line);
                        return Ok(0);
                    }
                    let said = said.map(|line| format!(": {line}")).unwrap_or_default();
                    bail!("agentsd did not start ({exit}){said}\n(log: {})", log.display());
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            bail!("agentsd did not answer on {} within {TIMEOUT:?}; see {}", socket.display(), log.display())
        }
        DaemonCommand::Stop => {
            if matches!(reach(&socket), Reached::NotRunning) {
                printer.status("Stopped", "agentsd is not running");
                return Ok(0);
            }
            control::request(&socket, control::Command::Stop, TIMEOUT).context("cannot reach agentsd")?;
            let lock = control::lock_path(&context.runtime_dir);
            let started = Instant::now();
            while started.elapsed() < TIMEOUT {
                let free = std::fs::File::options().write(true).open(&lock).is_ok_and(|file| file.try_lock().is_ok());
                if free {
                    printer.status("Stopped", "agentsd");
                    return Ok(0);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            bail!("agentsd did not stop within {TIMEOUT:?}")
        }
        DaemonCommand::Status(args) => {
            let status = match reach(&socket) {
                Reached::Status(status) => status,
                Reached::Busy(why) | Reached::Unanswered(why) => {
                    if args.json {
                        printer.json(&super::json::daemon(true, Some(why), None));
                    } else {
                        printer.line(format!("agentsd is running but did not answer: {why} (try again)"));
                    }
                    return Ok(1);
                }
                Reached::NotRunning => {
                    if args.json {
                        printer.json(&super::json::daemon(false, None, None));
                    } else {
                        printer.line("agentsd is not running (`agents daemon start` starts it)");
                    }
                    return Ok(1);
                }
            };
            if args.json {
                printer.json(&super::json::daemon(true, None, Some(&status)));
            } else {
                print_status(printer, &status);
                print_recent(printer, &status);
            }
            Ok(0)
        }
        DaemonCommand::Sync => {
            if matches!(reach(&socket), Reached::NotRunning) {
                bail!("agentsd is not running (`agents daemon start` starts it; `agents sync` syncs without it)");
            }
            control::request(&socket, control::Command::SyncNow, TIMEOUT).context("cannot reach agentsd")?;
            printer.status("Requested", "a fetch and a full reconcile");
            Ok(0)
        }
        DaemonCommand::Run => {
            let mut command = Command::new(agentsd()?);
            agents_registry::libgit2::restore_env(&mut command);
            let status = command.args(daemon_args(context)?).status().context("cannot run agentsd")?;
            Ok(status.code().unwrap_or(1))
        }
        DaemonCommand::Watch { path } | DaemonCommand::Unwatch { path } if context.global => {
            let _ = path;
            bail!("the user scope is always watched")
        }
        DaemonCommand::Watch { path } => {
            let root = project_root(context, path);
            let changed = context.dirs.set_watched(&root, true)?;
            notify_reload(&socket);
            printer.status(if changed { "Watching" } else { "Watched" }, root.display());
            Ok(0)
        }
        DaemonCommand::Unwatch { path } => {
            let root = project_root(context, path);
            if !context.dirs.set_watched(&root, false)? {
                bail!("{} is not watched", root.display());
            }
            notify_reload(&socket);
            printer.status("Unwatched", root.display());
            Ok(0)
        }
        DaemonCommand::InstallService => install_service(context, printer),
    }
}

/// The last line agentsd wrote to its log after `offset` (where this start began), without the
/// timestamp and level `tracing` puts in front: what it said when it gave up.
fn last_error(log: &Path, offset: u64) -> Option<String> {
    let text = std::fs::read(log).ok()?;
    let tail = text.get(usize::try_from(offset).ok()?..)?;
    let line = String::from_utf8_lossy(tail).lines().rev().find(|line| !line.trim().is_empty())?.to_owned();
    // `2026-11-24T05:14:25.229023Z ERROR agentsd: message`
    let mut rest = line.as_str();
    for _ in 0..2 {
        rest = rest.trim_start().split_once(' ').map_or("", |(_, after)| after);
    }
    let message = rest.trim_start().split_once(": ").filter(|(target, _)| target.starts_with("agentsd"));
    Some(message.map_or(line.trim(), |(_, message)| message.trim()).to_owned())
}

fn query(socket: &Path) -> Option<DaemonStatus> {
    match reach(socket) {
        Reached::Status(status) => Some(status),
        Reached::Busy(_) | Reached::Unanswered(_) | Reached::NotRunning => None,
    }
}

/// What asking the daemon for its status gave.
enum Reached {
    Status(DaemonStatus),
    /// The daemon answered that it is busy (every control connection taken): running, never
    /// "not running".
    Busy(String),
    /// No answer, while a daemon holds its lock: running and busy, or still exiting.
    Unanswered(String),
    /// Nothing listens: no socket, or a stale one.
    NotRunning,
}

fn reach(socket: &Path) -> Reached {
    // The status socket first (its connections are status's alone), then the control socket (a
    // daemon from before it had one).
    let status_socket = socket.parent().map(control::status_socket_path);
    let answered =
        match status_socket.map(|path| control::request(&path, control::Command::Status, Duration::from_secs(2))) {
            Some(Err(error))
                if matches!(error.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused) =>
            {
                control::request(socket, control::Command::Status, Duration::from_secs(2))
            }
            Some(answered) => answered,
            None => control::request(socket, control::Command::Status, Duration::from_secs(2)),
        };
    match answered {
        Ok(response) => match response.status {
            Some(status) => Reached::Status(status),
            None => Reached::Busy(response.error.unwrap_or_else(|| "it answered without a status".to_owned())),
        },
        Err(error) if matches!(error.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused) => {
            Reached::NotRunning
        }
        // Busy only while a daemon holds its lock: a daemon that just died (its socket not yet
        // closed, say) is not running.
        Err(error) if daemon_holds_lock(socket) => Reached::Unanswered(error.to_string()),
        Err(_) => Reached::NotRunning,
    }
}

/// Whether a live agentsd holds the lock beside `socket` (the one every daemon takes at start).
fn daemon_holds_lock(socket: &Path) -> bool {
    let Some(dir) = socket.parent() else { return false };
    let lock = control::lock_path(dir);
    std::fs::File::options().write(true).open(&lock).is_ok_and(|file| file.try_lock().is_err())
}

fn notify_reload(socket: &Path) {
    let _ = control::request(socket, control::Command::Reload, Duration::from_secs(2));
}

fn project_root(context: &Context, path: Option<PathBuf>) -> PathBuf {
    let start = path.map_or_else(|| context.cwd.clone(), |p| if p.is_absolute() { p } else { context.cwd.join(p) });
    let start = start.canonicalize().unwrap_or(start);
    Workspace::discover(&start, context.dirs.clone()).workspace.map_or(start, |w| w.root)
}

/// The command that installs agentsd (beside agents: they are one package's two binaries), for
/// messages about a missing one.
pub(crate) const INSTALL_AGENTSD: &str = "cargo install --locked --path crates/agents";

/// `agentsd` beside this executable (they are built and installed together), else on PATH.
pub(crate) fn find_agentsd() -> Option<PathBuf> {
    let file_name = format!("agentsd{}", std::env::consts::EXE_SUFFIX);
    let beside = std::env::current_exe().ok().and_then(|exe| exe.parent().map(|dir| dir.join(&file_name)));
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join(&file_name));
    beside.into_iter().chain(on_path).find(|path| path.is_file())
}

/// [`find_agentsd`], or an error that says where it was looked for and how to install it.
fn agentsd() -> anyhow::Result<PathBuf> {
    find_agentsd().with_context(|| {
        let beside = std::env::current_exe().ok().and_then(|exe| exe.parent().map(Path::to_path_buf));
        let beside = beside.map_or_else(String::new, |dir| format!("beside agents in {} or ", dir.display()));
        format!(
            "the daemon program agentsd is not installed: no `agentsd` {beside}on PATH; \
             `{INSTALL_AGENTSD}` in a checkout of agents installs it beside agents"
        )
    })
}

fn daemon_args(context: &Context) -> anyhow::Result<Vec<OsString>> {
    let dirs = &context.dirs;
    let mut args: Vec<OsString> = vec![
        "--home".into(),
        dirs.home.clone().into(),
        "--config-dir".into(),
        dirs.config.clone().into(),
        "--cache-dir".into(),
        dirs.cache.clone().into(),
        "--state-dir".into(),
        dirs.state.clone().into(),
        "--runtime-dir".into(),
        context.runtime_dir.clone().into(),
    ];
    if context.git_fetch_with_cli()? {
        args.push("--git-fetch-with-cli".into());
    }
    Ok(args)
}

fn print_status(printer: &Printer, status: &DaemonStatus) {
    let ago = |at: Option<i64>| match at {
        None => "never".to_owned(),
        Some(at) => agents_format::format_utc(at),
    };
    printer.line(format!("agentsd running, pid {}, since {}", status.pid, agents_format::format_utc(status.started)));
    printer.line(format!(
        "last fetch: {}, next fetch: {}{}",
        ago(status.last_fetch),
        ago(status.next_fetch),
        status.fetch_error.as_ref().map(|e| format!(" (failing: {e})")).unwrap_or_default()
    ));
    for registry in &status.registries {
        printer.line(format!(
            "registry `{}` ({}): last fetched {}{}",
            registry.name,
            registry.url,
            ago(registry.last_fetch),
            registry.error.as_ref().map(|e| format!(" (last attempt failed: {e})")).unwrap_or_default()
        ));
    }
    if let Some(fetching) = &status.fetching {
        printer.line(format!("now: {fetching}"));
    }
    for workspace in &status.workspaces {
        printer.line(format!(
            "{} ({}): last reconciled {}",
            workspace.root.display(),
            workspace.scope,
            ago(workspace.last_reconcile)
        ));
        if workspace.missing {
            printer.line("  missing: the directory is gone (moved or deleted); it is resynced when it is back");
        }
        if let Some(activity) = &workspace.activity {
            printer.line(format!("  now: {activity}"));
        }
        for name in &workspace.drift {
            printer.line(format!("  drift: {name} has local edits (kept)"));
        }
        for conflict in &workspace.conflicts {
            printer.line(format!("  conflict: {conflict} kept aside (see `agents diff`)"));
        }
        for error in &workspace.errors {
            printer.line(format!("  error: {error}"));
        }
    }
}

/// The tail of what the daemon did, newest last.
fn print_recent(printer: &Printer, status: &DaemonStatus) {
    const SHOWN: usize = 10;
    if status.recent.is_empty() {
        return;
    }
    printer.line("recent:");
    for action in status.recent.iter().rev().take(SHOWN).rev() {
        let detail = if action.detail.is_empty() { String::new() } else { format!(" ({})", action.detail) };
        // One line for a repeat: the time of the last, and how many times.
        let times = if action.count > 1 { format!(" ({} times)", action.count) } else { String::new() };
        printer.line(format!(
            "  {} {} {}{detail} in {}{times}",
            agents_format::format_utc(action.at),
            action.action,
            action.agent,
            action.root.display()
        ));
    }
}

/// The variables a service needs from the session it was installed from, passed explicitly
/// (a login service does not inherit the shell's environment): the ssh agent's socket, for
/// registries over ssh, and the proxy settings ([`agents_workspace::PROXY_VARIABLES`]). Only
/// those set when the service is installed are written.
fn service_variables() -> impl Iterator<Item = &'static str> {
    std::iter::once("SSH_AUTH_SOCK").chain(agents_workspace::PROXY_VARIABLES.iter().copied())
}

/// The values of [`service_variables`] set now, each as text (a value that is not UTF-8 cannot
/// be written into a unit file or a plist, and is refused).
fn service_environment() -> anyhow::Result<Vec<(&'static str, String)>> {
    service_variables()
        .filter_map(|name| std::env::var_os(name).map(|value| (name, value)))
        .map(|(name, value)| Ok((name, service_text(&value, name)?.to_owned())))
        .collect()
}

/// `value` as text for a service definition, or an error naming `what`.
fn service_text<'a>(value: &'a std::ffi::OsStr, what: &str) -> anyhow::Result<&'a str> {
    value.to_str().with_context(|| {
        format!(
            "cannot write the service: {what} ({}) is not UTF-8, which a service definition cannot hold",
            Path::new(value).display()
        )
    })
}

/// `text` as one double-quoted word that systemd reads back exactly: `\` and `"` escaped,
/// control characters as `\xNN`, `%` doubled (specifiers), and in a command line `$` doubled
/// (systemd expands `$NAME` there; `Environment=` does not).
fn systemd_quote(text: &str, command_line: bool) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for character in text.chars() {
        match character {
            '\\' => quoted.push_str("\\\\"),
            '"' => quoted.push_str("\\\""),
            '%' => quoted.push_str("%%"),
            '$' if command_line => quoted.push_str("$$"),
            c if c.is_ascii_control() => quoted.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// The systemd user unit: agentsd with `args`, the session's `environment` listed. A daemon
/// already running (started by hand) makes agentsd exit 0 with a message, so
/// `Restart=on-failure` restarts only a daemon that failed.
fn systemd_unit(agentsd: &Path, args: &[OsString], environment: &[(&str, String)]) -> anyhow::Result<String> {
    let mut words = vec![systemd_quote(service_text(agentsd.as_os_str(), "the path of agentsd")?, true)];
    for arg in args {
        words.push(systemd_quote(service_text(arg, "a directory")?, true));
    }
    let exec = words.join(" ");
    let environment: String = environment
        .iter()
        .map(|(name, value)| format!("Environment={}\n", systemd_quote(&format!("{name}={value}"), false)))
        .collect();
    Ok(format!(
        "[Unit]\nDescription=agents daemon: keeps AI coding agents in sync with agents.lock\n\n\
         [Service]\nType=simple\n{environment}ExecStart={exec}\nRestart=on-failure\nRestartSec=5\n\n\
         [Install]\nWantedBy=default.target\n"
    ))
}

fn install_service(context: &Context, printer: &Printer) -> anyhow::Result<i32> {
    let agentsd = agentsd()?.canonicalize().context("cannot resolve the path of agentsd")?;
    let mut args = daemon_args(context)?;
    // The runtime directory is left to agentsd's rule (the CLI's: `$XDG_RUNTIME_DIR/agents`,
    // else `<state>/daemon/run`), applied in the service's own environment: under systemd
    // that is `%t/agents`, under launchd the state directory's, as the CLI sees them there.
    if let Some(position) = args.iter().position(|a| a == "--runtime-dir") {
        args.drain(position..position + 2);
    }
    let environment = service_environment()?;
    if cfg!(target_os = "macos") {
        let plist = launchd_plist(&agentsd, &args, &environment)?;
        let path = context.dirs.home.join("Library/LaunchAgents/dev.agents.agentsd.plist");
        agents_workspace::fs::write_atomic(&path, plist.as_bytes())?;
        printer.status("Wrote", path.display());
        printer.next(format!("launchctl load -w {}", path.display()));
        return Ok(0);
    }
    let unit = systemd_unit(&agentsd, &args, &environment)?;
    let path = context.systemd_user_dir.join("agentsd.service");
    agents_workspace::fs::write_atomic(&path, unit.as_bytes())?;
    printer.status("Wrote", path.display());
    // systemd-analyze needs a user runtime directory; without one there is nothing to ask.
    let runtime = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from).filter(|dir| dir.is_dir());
    if runtime.is_some()
        && let Ok(output) = {
            let mut command = Command::new("systemd-analyze");
            agents_registry::libgit2::restore_env(&mut command);
            command.args(["--user", "verify"]).arg(&path).output()
        }
    {
        let complaints = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        if output.status.success() && complaints.is_empty() {
            printer.status("Verified", "systemd-analyze verify found no problems");
        } else {
            printer.warn(format!("systemd-analyze verify reports: {complaints}"));
        }
    }
    printer.next("systemctl --user daemon-reload && systemctl --user enable --now agentsd");
    Ok(0)
}

/// `text` as XML character data (or an attribute value). XML 1.0 cannot hold most control
/// characters at all: a path with one is refused.
fn xml_text(text: &str) -> anyhow::Result<String> {
    if let Some(control) = text.chars().find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
        bail!("cannot write the service: {text:?} holds the control character {control:?}, which a plist cannot hold");
    }
    Ok(text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;"))
}

/// The launchd agent: agentsd with `args` and the session's `environment`, restarted only when
/// it fails (`KeepAlive` on an unsuccessful exit: one that finds a daemon already running
/// exits 0 and stays down).
fn launchd_plist(agentsd: &Path, args: &[OsString], environment: &[(&str, String)]) -> anyhow::Result<String> {
    let mut program =
        format!("    <string>{}</string>\n", xml_text(service_text(agentsd.as_os_str(), "the path of agentsd")?)?);
    for arg in args {
        program.push_str(&format!("    <string>{}</string>\n", xml_text(service_text(arg, "a directory")?)?));
    }
    let mut variables = String::new();
    for (name, value) in environment {
        variables.push_str(&format!("    <key>{}</key>\n    <string>{}</string>\n", xml_text(name)?, xml_text(value)?));
    }
    let environment = if variables.is_empty() {
        String::new()
    } else {
        format!("  <key>EnvironmentVariables</key>\n  <dict>\n{variables}  </dict>\n")
    };
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
         <plist version=\"1.0\">\n<dict>\n  <key>Label</key>\n  <string>dev.agents.agentsd</string>\n  \
         <key>ProgramArguments</key>\n  <array>\n{program}  </array>\n{environment}  <key>RunAtLoad</key>\n  <true/>\n  \
         <key>KeepAlive</key>\n  <dict>\n    <key>SuccessfulExit</key>\n    <false/>\n  </dict>\n</dict>\n</plist>\n"
    ))
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;
    use std::path::Path;

    use super::{launchd_plist, systemd_quote};

    fn check(text: &str, command_line: bool, expected: &str) {
        assert_eq!(systemd_quote(text, command_line), expected, "{text:?}");
    }

    #[test]
    fn systemd_reads_back_every_character() {
        check("/home/a b/.config", true, r#""/home/a b/.config""#);
        check("/home/100%/x", true, r#""/home/100%%/x""#);
        check("/home/$USER/x", true, r#""/home/$$USER/x""#);
        check("SSH_AUTH_SOCK=/tmp/$x%y", false, r#""SSH_AUTH_SOCK=/tmp/$x%%y""#);
        check(r#"/a"b\c'd"#, true, r#""/a\"b\\c'd""#);
        check("/a\nb\tc", true, r#""/a\x0ab\x09c""#);
        check("/é ü", true, "\"/é ü\"");
    }

    /// The plist escapes what XML needs, restarts agentsd only when it fails, and passes the
    /// environment; `plutil -lint` (macOS) must accept it where it exists.
    #[test]
    fn the_launchd_plist_is_well_formed() {
        let home = "/Users/a <b> & \"c\" 'd' %e $f";
        let args: Vec<OsString> = vec!["--home".into(), home.into()];
        let environment = [("HTTPS_PROXY", "http://p:1/?a=1&b=<2>".to_owned())];
        let plist = launchd_plist(Path::new("/opt/a&b/agentsd"), &args, &environment).unwrap();
        assert!(plist.contains("<string>/opt/a&amp;b/agentsd</string>"), "{plist}");
        assert!(
            plist.contains("<string>/Users/a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; %e $f</string>"),
            "{plist}"
        );
        assert!(
            plist.contains("<key>HTTPS_PROXY</key>\n    <string>http://p:1/?a=1&amp;b=&lt;2&gt;</string>"),
            "{plist}"
        );
        assert!(plist.contains("<key>SuccessfulExit</key>\n    <false/>"), "{plist}");
        let with_control = vec![OsString::from("/a\u{1}b")];
        assert!(launchd_plist(Path::new("/x"), &with_control, &[]).is_err());
        let Ok(plutil) = which("plutil") else {
            eprintln!("note: plutil is not installed (macOS only); the plist was not linted");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dev.agents.agentsd.plist");
        std::fs::write(&path, &plist).unwrap();
        let output = std::process::Command::new(plutil).arg("-lint").arg(&path).output().unwrap();
        assert!(output.status.success(), "plutil -lint: {}", String::from_utf8_lossy(&output.stdout));
    }

    fn which(name: &str) -> Result<std::path::PathBuf, ()> {
        let path = std::env::var_os("PATH").ok_or(())?;
        std::env::split_paths(&path).map(|dir| dir.join(name)).find(|path| path.is_file()).ok_or(())
    }
}
