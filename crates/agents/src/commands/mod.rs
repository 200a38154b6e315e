//! One module per group of commands; each exposes `exec` functions over library operations.

mod consent;
mod daemon;
mod doctor;
mod export;
mod graph;
mod import;
mod install;
mod json;
mod lint;
mod owner;
mod package;
mod publish;
mod query;
mod registry;
mod report;
mod sync;

use agents_registry::RegistryError;
use agents_workspace::WorkspaceError;

use crate::cli::{Cli, Command};
use crate::context::Context;
use crate::printer::Printer;

/// Runs a command; returns the exit code for a command that ran but found problems.
pub(crate) fn run(cli: Cli, printer: &Printer) -> anyhow::Result<i32> {
    let context = Context::from_env(cli.global, cli.quiet, cli.verbose > 0)?;
    match cli.command {
        Command::Init => install::init(&context, printer),
        Command::Install(args) => install::install(&context, printer, args),
        Command::Uninstall(args) => install::uninstall(&context, printer, args),
        Command::Update(args) => install::update(&context, printer, args),
        Command::Outdated(args) => query::outdated(&context, printer, args),
        Command::List(args) => query::list(&context, printer, args.json),
        Command::Tree(args) => graph::tree(&context, printer, args.json),
        Command::Why { name, json } => graph::why(&context, printer, &name, json),
        Command::Info(args) => query::info(&context, printer, args),
        Command::Export(args) => export::export(&context, printer, args),
        Command::Search(args) => query::search(&context, printer, args),
        Command::Verify(args) => query::verify(&context, printer, args),
        Command::Diff(args) => sync::diff(&context, printer, args),
        Command::Resolve(args) => install::resolve(&context, printer, args),
        Command::Sync(args) => sync::sync(&context, printer, args),
        Command::Lint(args) => lint::lint(printer, args),
        Command::Publish(args) => publish::publish(&context, printer, args),
        Command::Yank(args) => publish::yank(&context, printer, args),
        Command::Import(args) => import::import(&context, printer, args),
        Command::New(args) => import::new(&context, printer, args),
        Command::Registry(command) => registry::run(&context, printer, command),
        Command::Owner(command) => owner::run(&context, printer, command),
        Command::Daemon(command) => daemon::run(&context, printer, command),
        Command::Doctor(args) => doctor::doctor(&context, printer, args.json),
        Command::Completions { shell } => {
            // The script asks `agents` itself for each completion (package and registry names
            // come from the project), the same as `COMPLETE=<shell> agents` prints.
            let name = shell.to_string();
            let shells = clap_complete::env::Shells::builtins();
            let completer =
                shells.completer(&name).ok_or_else(|| anyhow::anyhow!("no completion for the shell `{name}`"))?;
            let mut buffer = Vec::new();
            completer.write_registration("COMPLETE", "agents", "agents", "agents", &mut buffer)?;
            printer.line(String::from_utf8_lossy(&buffer).trim_end());
            Ok(0)
        }
        Command::Man => {
            let mut buffer = Vec::new();
            clap_mangen::Man::new(crate::cli::command()).render(&mut buffer)?;
            printer.line(String::from_utf8_lossy(&buffer).trim_end());
            Ok(0)
        }
    }
}

/// What to try next, for errors where there is a clear next step.
pub(crate) fn hint(error: &anyhow::Error) -> Option<String> {
    if let Some(error) = error.downcast_ref::<WorkspaceError>() {
        if agents_workspace::is_name_clash(error) {
            return Some(
                "a registry name must mean one registry: rename one of them (`agents registry remove NAME --project`, \
                 then `agents registry add NEW-NAME URL --project`; without --project for your config.toml)"
                    .to_owned(),
            );
        }
        // A registry out of reach: how to reach it (the git program, credentials), after what
        // to do without it.
        let reach = match error.unreachable_cause() {
            Some(WorkspaceError::Registry(cause)) => registry_hint(cause),
            _ => None,
        };
        let hint = workspace_hint(error);
        return match (hint, reach) {
            (Some(hint), Some(reach)) => Some(format!("{hint}; {reach}")),
            (hint, reach) => hint.or(reach),
        };
    }
    if let Some(error) = error.downcast_ref::<agents_format::NameError>() {
        return name_hint(error);
    }
    error.downcast_ref::<RegistryError>().and_then(registry_hint)
}

fn workspace_hint(error: &WorkspaceError) -> Option<String> {
    match error {
        WorkspaceError::MaybeElsewhere { found, name, .. } => Some(format!(
            "`agents install {name} --registry {found}` takes it from `{found}` without asking the others"
        )),
        WorkspaceError::Conflicts { agents, .. } => Some(format!(
            "`agents diff {agents}` shows the edits; keep them, or pass --force to overwrite these files only \
                 (a backup goes to the state directory)"
        )),
        WorkspaceError::MergeConflicts { first, .. } => Some(format!(
            "`agents diff {first}` shows the version your edits were made on, yours and theirs; \
                 `agents resolve {first} --edit` settles it in your editor (or --theirs, --ours, --from FILE)"
        )),
        WorkspaceError::NoProject { start } => Some(format!(
            "`agents init` makes {} a project (agents.toml, agents.lock and .claude/agents/ go there); \
                 `--global` installs for your user, in ~/.claude/agents",
            start.display()
        )),
        WorkspaceError::Ambiguous { name, .. } => {
            Some(format!("choose one with `agents install {name} --registry NAME`"))
        }
        WorkspaceError::UnknownAgent { suggestion: Some(suggestion), .. } => {
            Some(format!("did you mean `{suggestion}`? (`agents search WORD` lists what the registries have)"))
        }
        WorkspaceError::UnknownAgent { .. } => Some("`agents search WORD` lists what the registries have".to_owned()),
        WorkspaceError::Name(error) => name_hint(error),
        WorkspaceError::UnknownRegistry(_) | WorkspaceError::UnknownRegistryId { .. } => {
            Some("`agents registry list` shows the configured registries; `agents registry add` adds one".to_owned())
        }
        WorkspaceError::LockfileWouldChange { .. } => {
            Some("run without --locked/--frozen to update agents.lock".to_owned())
        }
        WorkspaceError::NoMatchingVersion { name, .. } => Some(format!("`agents info {name}` lists its versions")),
        WorkspaceError::Unresolvable { hint, .. } => hint.clone(),
        WorkspaceError::Registry(error) => registry_hint(error),
        _ => None,
    }
}

/// Names are lowercase: offer the lowercase form when it is a valid name.
fn name_hint(error: &agents_format::NameError) -> Option<String> {
    match error {
        agents_format::NameError::Uppercase { name } => {
            let lowercase = name.to_lowercase();
            agents_format::AgentName::new(&lowercase).ok().map(|name| format!("did you mean `{name}`?"))
        }
        _ => None,
    }
}

fn registry_hint(error: &RegistryError) -> Option<String> {
    match error {
        RegistryError::VersionExists { .. } => Some("bump the version: published versions never change".to_owned()),
        RegistryError::NoVersion { .. } => Some("for example `agents publish FILE --version 1.0.0`".to_owned()),
        RegistryError::Auth { .. } => Some(
            "load your ssh key into ssh-agent (`ssh-add`), set up a git credential helper \
             (`git config --global credential.helper store`), or let git do the talking: \
             `[net] git-fetch-with-cli = true` in the user config.toml (or AGENTS_NET_GIT_FETCH_WITH_CLI=true)"
                .to_owned(),
        ),
        RegistryError::HostKey { .. } => Some(
            "check the host's key fingerprint, then add it to ~/.ssh/known_hosts (connect once with `ssh`, \
             or `ssh-keyscan -p PORT HOST >> ~/.ssh/known_hosts`)"
                .to_owned(),
        ),
        RegistryError::Rewritten { cache, .. } => Some(format!(
            "ask the registry's maintainers; if the change is intended, delete the cached clone {} and fetch again",
            cache.display()
        )),
        RegistryError::NotARegistry { url, reason } if reason.contains("no commits yet") => Some(format!(
            "a new registry starts with `agents registry init DIR`; push it with `git --git-dir DIR push {url} main`, \
             then `agents registry add NAME {url}`"
        )),
        error if error.is_libgit2_network() && program_on_path("git") => Some(
            "if `git ls-remote URL` reaches it, let git do the talking: `[net] git-fetch-with-cli = true` in the \
             user config.toml (or AGENTS_NET_GIT_FETCH_WITH_CLI=true)"
                .to_owned(),
        ),
        RegistryError::ChecksumMismatch { .. } => {
            Some("do not install this version; tell the registry's maintainers it has been altered".to_owned())
        }
        RegistryError::Signature(error) => signature_hint(error),
        _ => None,
    }
}

/// Whether an executable file called `name` is in a directory of `PATH`.
fn program_on_path(name: &str) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join(name)).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        })
    })
}

fn signature_hint(error: &agents_registry::SignatureError) -> Option<String> {
    use agents_registry::SignatureError;
    match error {
        SignatureError::NotOwner { name, .. } => Some(format!(
            "no owner of `{name}` published this version: do not install it, and tell the registry's maintainers \
             (`agents owner list {name}` shows who may publish)"
        )),
        SignatureError::Missing { .. } | SignatureError::Invalid { .. } | SignatureError::Owners { .. } => Some(
            "this was not published through a valid signature: do not install it, and tell the registry's maintainers"
                .to_owned(),
        ),
        SignatureError::Required { .. } => Some(
            "use a signed registry (`agents registry init --sign-key`), or drop `require-signatures` for this              workspace"
                .to_owned(),
        ),
        SignatureError::Refused { .. } => {
            Some("`agents owner list NAME` shows the keys that may publish; an owner can add yours".to_owned())
        }
        _ => None,
    }
}
