//! Talking to remotes: libgit2 with the credentials git already uses (ssh-agent, key files, git
//! credential helpers), or the `git` command line when the user asks for it (like cargo's
//! `net.git-fetch-with-cli`), for setups libgit2 does not understand (`~/.ssh/config` tricks,
//! exotic credential helpers).

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use agents_format::RegistryUrl;

use crate::error::{RegistryError, Result};

/// How to reach remotes. Built by the binary; the library reads no environment of its own.
#[derive(Clone, Default)]
pub struct NetConfig {
    /// Use the `git` command line for fetch and push instead of libgit2.
    pub git_fetch_with_cli: bool,
    /// The user's home, where default ssh keys live (`~/.ssh/id_ed25519`, …).
    pub home: Option<PathBuf>,
    /// The user name for ssh URLs that name none.
    pub default_username: Option<String>,
    /// Told how a fetch is going (the binary draws a progress bar; the library never prints).
    pub progress: Option<Arc<dyn Progress>>,
}

impl std::fmt::Debug for NetConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetConfig")
            .field("git_fetch_with_cli", &self.git_fetch_with_cli)
            .field("home", &self.home)
            .field("default_username", &self.default_username)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// Receives fetch progress. Called often; implementations decide what is worth showing.
pub trait Progress: Send + Sync {
    /// `received` of `total` objects (`bytes` so far) from `url`.
    fn update(&self, url: &str, received: usize, total: usize, bytes: usize);
    /// The fetch from `url` is over.
    fn finish(&self, url: &str);
    /// An HTTP request for `url` (a sparse registry's file) starts.
    fn request(&self, _url: &str) {}
    /// The request for `url` is over, with `bytes` received (0 when it failed or was a 304).
    fn response(&self, _url: &str, _bytes: usize) {}
}

/// The result of a push attempt.
pub(crate) enum PushOutcome {
    Pushed,
    /// Someone else moved the branch first: fetch and try again.
    LostRace(String),
}

/// Asks the remote for its default branch (`refs/heads/main`), then fetches it into `into`.
/// Returns the branch.
/// A `sparse+https://` URL never reaches git, which would look for a remote helper named
/// `git-remote-sparse+https` and run it.
fn refuse_sparse(url: &RegistryUrl) -> Result<()> {
    match url.sparse_base() {
        Some(_) => Err(crate::error::RegistryError::ReadOnly { url: url.to_string() }),
        None => Ok(()),
    }
}

pub(crate) fn fetch(repository: &git2::Repository, url: &RegistryUrl, into: &str, net: &NetConfig) -> Result<String> {
    refuse_sparse(url)?;
    if net.git_fetch_with_cli {
        return fetch_cli(repository, url, into);
    }
    if let Some(path) = local_path(url) {
        return fetch_local(repository, url, &path, into);
    }
    let auth = RefCell::new(AuthState::default());
    let mut remote = repository.remote_anonymous(url).map_err(|e| git_error(url, "invalid registry URL", e))?;
    let mut connection = remote
        .connect_auth(git2::Direction::Fetch, Some(callbacks(url, net, &auth)), None)
        .map_err(|e| network_error(url, "could not reach registry", e))?;
    let branch = connection.default_branch().ok().and_then(|b| b.as_str().map(str::to_owned));
    let Some(branch) = branch else {
        let heads: Vec<String> = connection
            .list()
            .map(|refs| refs.iter().map(|r| r.name().to_owned()).filter(|n| n.starts_with("refs/heads/")).collect())
            .unwrap_or_default();
        return Err(unborn_head(url, None, &heads));
    };
    let refspec = format!("+{branch}:{into}");
    let remote = connection.remote();
    let mut options = git2::FetchOptions::new();
    options.remote_callbacks(callbacks(url, net, &auth));
    remote
        .download(&[refspec.as_str()], Some(&mut options))
        .map_err(|e| network_error(url, "could not fetch registry", e))?;
    remote.disconnect().map_err(|e| network_error(url, "could not fetch registry", e))?;
    remote
        .update_tips(None, git2::RemoteUpdateFlags::empty(), git2::AutotagOption::None, Some("agents: fetch"))
        .map_err(|e| git_error(url, "could not update the cache clone", e))?;
    Ok(branch)
}

/// Fetches from a registry on this machine by copying only the objects the cache lacks, walking
/// just the changed paths. libgit2's local transport would instead walk the whole old tree to
/// build a pack, which costs seconds on a large registry for a one-agent change.
fn fetch_local(repository: &git2::Repository, url: &str, path: &Path, into: &str) -> Result<String> {
    let source = git2::Repository::open(path).map_err(|e| git_error(url, "could not reach registry", e))?;
    let head = source.find_reference("HEAD").map_err(|e| git_error(url, "could not reach registry", e))?;
    let heads = || -> Vec<String> {
        source
            .references_glob("refs/heads/*")
            .map(|refs| refs.flatten().filter_map(|r| r.name().map(str::to_owned)).collect())
            .unwrap_or_default()
    };
    let branch = match head.symbolic_target() {
        Some(branch) => branch.to_owned(),
        None => return Err(unborn_head(url, None, &heads())),
    };
    let tip = match source.refname_to_id(&branch) {
        Ok(tip) => tip,
        Err(_) => return Err(unborn_head(url, Some(&branch), &heads())),
    };
    copy_missing_objects(&source, repository, tip).map_err(|e| git_error(url, "could not fetch registry", e))?;
    repository
        .reference(into, tip, true, "agents: fetch")
        .map_err(|e| git_error(url, "could not update the cache clone", e))?;
    Ok(branch)
}

/// Pushes `refspec` (`<commit>:<branch>`, never forced).
pub(crate) fn push(
    repository: &git2::Repository,
    url: &RegistryUrl,
    refspec: &str,
    net: &NetConfig,
) -> Result<PushOutcome> {
    refuse_sparse(url)?;
    if net.git_fetch_with_cli {
        return push_cli(repository, url, refspec);
    }
    let auth = RefCell::new(AuthState::default());
    let mut remote = repository.remote_anonymous(url).map_err(|e| git_error(url, "invalid registry URL", e))?;
    let mut rejection: Option<String> = None;
    let mut callbacks = callbacks(url, net, &auth);
    callbacks.push_update_reference(|_, status| {
        if let Some(status) = status {
            rejection = Some(status.to_owned());
        }
        Ok(())
    });
    let mut options = git2::PushOptions::new();
    options.remote_callbacks(callbacks);
    let result = remote.push(&[refspec], Some(&mut options));
    drop(options);
    match result {
        Ok(()) => match rejection {
            None => Ok(PushOutcome::Pushed),
            Some(reason) if is_lost_race(&reason) => Ok(PushOutcome::LostRace(reason)),
            // A hook or a protected branch said no: retrying would only be refused again.
            Some(message) => Err(RegistryError::PushRejected { url: url.to_string(), message }),
        },
        // libgit2 refuses a non-fast-forward push itself, and a ref lock can be held by a
        // concurrent publisher: both mean "someone else moved the branch".
        Err(error)
            if error.code() == git2::ErrorCode::NotFastForward
                || error.code() == git2::ErrorCode::Locked
                || error.message().contains("non-fastforwardable") =>
        {
            Ok(PushOutcome::LostRace(error.message().to_owned()))
        }
        Err(error) => Err(network_error(url, "could not push to registry", error)),
    }
}

/// Whether a server's reason for refusing a ref update means "someone else moved it first".
fn is_lost_race(reason: &str) -> bool {
    [
        "fetch first",
        "non-fast-forward",
        "non-fastforward",
        "stale info",
        "failed to lock",
        "cannot lock",
        "failed to update ref",
    ]
    .iter()
    .any(|needle| reason.contains(needle))
}

fn empty_registry(url: &str) -> RegistryError {
    unborn_head(url, None, &[])
}

/// The remote's HEAD names no commit. Either the repository is empty (a registry is made with
/// `agents registry init` and pushed), or HEAD names a branch that was never pushed while
/// another was: a stock `git init --bare` points HEAD at `master`, and registries push `main`.
fn unborn_head(url: &str, head: Option<&str>, heads: &[String]) -> RegistryError {
    let other = heads.iter().find(|h| *h == "refs/heads/main").or_else(|| heads.first());
    let reason = match other {
        Some(other) => {
            let short = other.trim_start_matches("refs/heads/");
            let head = head.map_or_else(
                || "its default branch".to_owned(),
                |h| format!("`{}`", h.trim_start_matches("refs/heads/")),
            );
            format!(
                "its HEAD names {head}, which has no commits, but `{short}` has them (a stock `git init --bare` \
                 points HEAD at master): make `{short}` the default branch, e.g. `git --git-dir PATH symbolic-ref HEAD \
                 refs/heads/{short}` on the server"
            )
        }
        None => "the repository has no commits yet (or no default branch)".to_owned(),
    };
    RegistryError::NotARegistry { url: url.to_owned(), reason }
}

/// Sorts libgit2 errors: authentication failures get their own variant (the binary adds what to
/// try), everything else keeps libgit2's message.
/// [`git_error`] for a failure of libgit2 talking to a remote: a [`RegistryError::Network`]
/// unless it is about credentials or a host key.
fn network_error(url: &str, what: &str, source: git2::Error) -> RegistryError {
    match git_error(url, what, source) {
        RegistryError::Git { context, source } => RegistryError::Network { context, source },
        other => other,
    }
}

fn git_error(url: &str, what: &str, source: git2::Error) -> RegistryError {
    let message = source.message().to_lowercase();
    // libgit2's ssh transport says "failed to authenticate SSH session" or names the public
    // key that was refused; its https transport speaks of authentication replays.
    let is_auth = source.code() == git2::ErrorCode::Auth
        || message.contains("authenticat")
        || message.contains("publickey")
        || message.contains("permission denied")
        || message.contains("unsupported credential")
        || message.contains("username/password")
        || message.contains("no more credentials")
        || message.contains("credentials callback")
        || message.contains("401")
        || message.contains("403");
    if source.class() == git2::ErrorClass::Ssh && source.code() == git2::ErrorCode::Certificate {
        return RegistryError::HostKey { url: url.to_owned(), message: source.message().to_owned() };
    }
    if is_auth {
        return RegistryError::Auth { url: url.to_owned(), message: source.message().to_owned() };
    }
    RegistryError::Git { context: format!("{what} `{url}`"), source }
}

/// What has been tried, so a failing credential is not offered again (libgit2 asks until the
/// callback gives up).
#[derive(Default)]
struct AuthState {
    tried_agent: bool,
    tried_keys: usize,
    tried_helper: bool,
    tried_username: bool,
    tried_default: bool,
}

fn callbacks<'a>(url: &'a str, net: &'a NetConfig, auth: &'a RefCell<AuthState>) -> git2::RemoteCallbacks<'a> {
    let mut callbacks = git2::RemoteCallbacks::new();
    callbacks.credentials(move |_url, username_from_url, allowed| {
        let mut state = auth.borrow_mut();
        let username = username_from_url.or(net.default_username.as_deref()).unwrap_or("git");
        if allowed.contains(git2::CredentialType::USERNAME) && !state.tried_username {
            state.tried_username = true;
            return git2::Cred::username(username);
        }
        if allowed.contains(git2::CredentialType::SSH_KEY) {
            if !state.tried_agent {
                state.tried_agent = true;
                if let Ok(credential) = git2::Cred::ssh_key_from_agent(username) {
                    return Ok(credential);
                }
            }
            let keys = default_keys(net.home.as_deref());
            if let Some(key) = keys.get(state.tried_keys) {
                state.tried_keys += 1;
                return git2::Cred::ssh_key(username, None, key, None);
            }
        }
        if allowed.contains(git2::CredentialType::USER_PASS_PLAINTEXT) && !state.tried_helper {
            state.tried_helper = true;
            // No helper, or one that has nothing for this URL: try what is left, then say
            // "no more credentials" (an authentication failure), not libgit2's config error.
            if let Ok(config) = git2::Config::open_default()
                && let Ok(credential) = git2::Cred::credential_helper(&config, url, username_from_url)
            {
                return Ok(credential);
            }
        }
        if allowed.contains(git2::CredentialType::DEFAULT) && !state.tried_default {
            state.tried_default = true;
            return git2::Cred::default();
        }
        Err(git2::Error::new(
            git2::ErrorCode::Auth,
            git2::ErrorClass::Callback,
            "no more credentials to try (ssh-agent, ~/.ssh keys, git credential helpers)",
        ))
    });
    callbacks
}

fn default_keys(home: Option<&Path>) -> Vec<PathBuf> {
    let Some(home) = home else { return Vec::new() };
    ["id_ed25519", "id_ecdsa", "id_rsa"]
        .iter()
        .map(|name| home.join(".ssh").join(name))
        .filter(|p| p.is_file())
        .collect()
}

/// The transports a spawned git may use, as git's `GIT_ALLOW_PROTOCOL` spells them: never `ext`
/// (runs a command) or `fd`, nor any remote helper. [`RegistryUrl`] already refuses them; this
/// holds for whatever git reaches on its own (submodules, redirects, `insteadOf` rewrites).
const GIT_ALLOW_PROTOCOL: &str = "file:git:ssh:http:https";

/// A `git` command with the user's environment, no terminal prompt and only safe transports.
/// Callers put `--` before every operand, so none can be read as an option.
fn git(git_dir: Option<&Path>) -> Command {
    let mut command = Command::new("git");
    crate::libgit2::restore_env(&mut command);
    if let Some(git_dir) = git_dir {
        let mut argument = std::ffi::OsString::from("--git-dir=");
        argument.push(git_dir);
        command.arg(argument);
    }
    command
        // Git reads this as `protocol.allow=never` plus `protocol.<name>.allow=always` for each
        // one listed, overriding any configuration.
        .env("GIT_ALLOW_PROTOCOL", GIT_ALLOW_PROTOCOL)
        // Never wait for a password on a terminal nobody watches; fail with a message instead.
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null());
    command
}

fn git_command(repository: &git2::Repository) -> Command {
    git(Some(repository.path()))
}

fn run_git(mut command: Command, url: &RegistryUrl, what: &str) -> Result<String> {
    let url = url.as_str();
    let output = command.output().map_err(|source| RegistryError::GitCli {
        url: url.to_owned(),
        message: format!("cannot run git: {source} (is git installed and on PATH?)"),
    })?;
    let mut stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    if !output.status.success() {
        // `git push --porcelain` reports a refused ref on stdout.
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !stdout.trim().is_empty() {
            stderr = format!("{stderr}\n{}", stdout.trim());
        }
        let lower = stderr.to_lowercase();
        if lower.contains("authentication failed")
            || lower.contains("permission denied")
            || lower.contains("could not read username")
            || lower.contains("could not read password")
        {
            return Err(RegistryError::Auth { url: url.to_owned(), message: stderr });
        }
        return Err(RegistryError::GitCli { url: url.to_owned(), message: format!("{what}: {stderr}") });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn fetch_cli(repository: &git2::Repository, url: &RegistryUrl, into: &str) -> Result<String> {
    let mut command = git_command(repository);
    command.args(["ls-remote", "--symref", "--", url.as_str(), "HEAD"]);
    let listing = run_git(command, url, "could not reach registry")?;
    let branch = listing
        .lines()
        .find_map(|line| line.strip_prefix("ref: ")?.strip_suffix("\tHEAD").map(str::to_owned))
        .ok_or_else(|| empty_registry(url))?;
    let mut command = git_command(repository);
    command.args([
        "fetch",
        "--quiet",
        "--no-tags",
        "--no-write-fetch-head",
        "--",
        url.as_str(),
        &format!("+{branch}:{into}"),
    ]);
    run_git(command, url, "could not fetch registry")?;
    Ok(branch)
}

fn push_cli(repository: &git2::Repository, url: &RegistryUrl, refspec: &str) -> Result<PushOutcome> {
    let mut command = git_command(repository);
    command.args(["push", "--quiet", "--porcelain", "--", url.as_str(), refspec]);
    match run_git(command, url, "could not push to registry") {
        Ok(_) => Ok(PushOutcome::Pushed),
        Err(RegistryError::GitCli { message, .. }) if is_lost_race(&message) || message.contains("[rejected]") => {
            Ok(PushOutcome::LostRace(message))
        }
        Err(error) => Err(error),
    }
}

/// Clones `url` with a work tree into `destination` (for importing a collection).
pub(crate) fn clone_work_tree(url: &RegistryUrl, destination: &Path, net: &NetConfig) -> Result<()> {
    refuse_sparse(url)?;
    if net.git_fetch_with_cli {
        let mut command = git(None);
        command.args(["clone", "--quiet", "--depth", "1", "--", url.as_str()]).arg(destination);
        run_git(command, url, "could not clone")?;
        return Ok(());
    }
    let auth = RefCell::new(AuthState::default());
    let mut options = git2::FetchOptions::new();
    options.remote_callbacks(callbacks(url, net, &auth));
    git2::build::RepoBuilder::new()
        .fetch_options(options)
        .clone(url, destination)
        .map_err(|e| network_error(url, "could not clone", e))?;
    Ok(())
}

/// The file-system path of a local registry URL (`/srv/r.git`, `file:///srv/r.git`).
pub(crate) fn local_path(url: &str) -> Option<std::path::PathBuf> {
    if let Some(path) = url.strip_prefix("file://") {
        return Some(std::path::PathBuf::from(path));
    }
    (!url.contains("://") && !is_scp_like(url)).then(|| std::path::PathBuf::from(url))
}

/// `git@host:path` (ssh in scp syntax), as opposed to a local path like `C:\x` or `./a:b`.
fn is_scp_like(url: &str) -> bool {
    match url.split_once(':') {
        Some((host, _)) => !host.is_empty() && host.len() > 1 && !host.contains('/') && !host.contains('\\'),
        None => false,
    }
}

/// Copies `commit` and every object it reaches that `target` lacks. Children are written before
/// the objects that name them, so an object present in `target` always has everything below it,
/// even after a copy killed half-way: a tree `target` already has needs no walk.
pub(crate) fn copy_missing_objects(
    source: &git2::Repository,
    target: &git2::Repository,
    commit: git2::Oid,
) -> Result<(), git2::Error> {
    let (source_odb, target_odb) = (source.odb()?, target.odb()?);
    let copy = |oid: git2::Oid| -> Result<(), git2::Error> {
        let object = source_odb.read(oid)?;
        target_odb.write(object.kind(), object.data())?;
        Ok(())
    };
    fn copy_tree(
        source: &git2::Repository,
        target_odb: &git2::Odb<'_>,
        tree: git2::Oid,
        copy: &dyn Fn(git2::Oid) -> Result<(), git2::Error>,
    ) -> Result<(), git2::Error> {
        if target_odb.exists(tree) {
            return Ok(());
        }
        for entry in source.find_tree(tree)?.iter() {
            match entry.kind() {
                Some(git2::ObjectType::Tree) => copy_tree(source, target_odb, entry.id(), copy)?,
                _ if target_odb.exists(entry.id()) => {}
                _ => copy(entry.id())?,
            }
        }
        copy(tree)
    }
    // The commits `target` lacks, newest first; copied oldest first so that every commit
    // present in `target` has its parents (history checks walk them).
    let mut missing = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut pending = vec![commit];
    while let Some(oid) = pending.pop() {
        if !seen.insert(oid) || target_odb.exists(oid) {
            continue;
        }
        let found = source.find_commit(oid)?;
        pending.extend(found.parent_ids());
        missing.push(oid);
    }
    for oid in missing.into_iter().rev() {
        copy_tree(source, &target_odb, source.find_commit(oid)?.tree_id(), &copy)?;
        copy(oid)?;
    }
    Ok(())
}
