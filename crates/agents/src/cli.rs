//! The command-line surface, declared with clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "agents", version, about = "Install, publish and keep AI coding agents in sync", long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// Work on the user scope (~/.claude/agents) instead of the current project.
    #[arg(short, long, global = true)]
    pub(crate) global: bool,
    /// Print nothing but errors and requested data.
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
    /// Log what happens (repeat for more); AGENTS_LOG takes a tracing filter.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create an agents.toml in the current directory.
    Init,
    /// Install agents (with no names: everything agents.lock and agents.toml list).
    Install(InstallArgs),
    /// Remove agents from the workspace (files with local edits are kept unless --force).
    Uninstall(UninstallArgs),
    /// Move locked versions to the newest the manifest allows (all agents, or those named).
    Update(UpdateArgs),
    /// Show agents with newer versions (or a yanked locked version).
    Outdated(OutdatedArgs),
    /// List installed agents and their status (ok, modified, missing).
    List(JsonArgs),
    /// Show an agent's description and versions.
    Info(InfoArgs),
    /// Search registries by name and description.
    Search(SearchArgs),
    /// Check installed files against the checksums in agents.lock (exit 1 on mismatch).
    Verify(VerifyArgs),
    /// Show local edits: the installed file against the pinned version (or a kept-aside update).
    Diff(DiffArgs),
    /// Settle an update kept aside because it conflicts with your edits.
    Resolve(ResolveArgs),
    /// Bring agent files to what agents.lock pins, once, keeping local edits (what the daemon does).
    Sync(SyncArgs),
    /// Check agent files for problems; never changes them.
    Lint(LintArgs),
    /// Publish an agent file, a skill directory or a command file to a registry.
    Publish(PublishArgs),
    /// Mark a published version as yanked (new resolutions skip it), or undo that.
    Yank(YankArgs),
    /// Publish a whole existing collection (a directory, a git URL, a plugin marketplace).
    Import(ImportArgs),
    /// Write a new agent file to start from.
    New(NewArgs),
    /// Create, add, list and remove registries.
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Add, remove and list the SSH keys that may publish an agent (signed registries).
    #[command(subcommand)]
    Owner(OwnerCommand),
    /// Control agentsd, the daemon that keeps agent files in sync with agents.lock.
    #[command(subcommand)]
    Daemon(DaemonCommand),
    /// Check the setup: git, credentials, registries, the daemon, writable directories.
    Doctor(JsonArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff).
    #[command(hide = true)]
    Man,
}

#[derive(Debug, Subcommand)]
pub(crate) enum DaemonCommand {
    /// Start agentsd in the background.
    Start,
    /// Stop agentsd (it finishes the write in progress first).
    Stop,
    /// Show workspaces, last fetch, drift, conflicts and errors.
    Status(JsonArgs),
    /// Run agentsd in the foreground (for service managers and debugging).
    Run,
    /// Ask agentsd to fetch registries and reconcile every workspace now.
    Sync,
    /// Have agentsd watch a project (default: the one around the current directory).
    Watch { path: Option<PathBuf> },
    /// Stop watching a project.
    Unwatch { path: Option<PathBuf> },
    /// Write a systemd user unit (a launchd agent on macOS) that runs agentsd at login.
    InstallService,
}

#[derive(Debug, Args)]
pub(crate) struct JsonArgs {
    /// Print JSON for scripts.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct InstallArgs {
    /// Agents to install, as NAME or NAME@REQUIREMENT (`go-backend-expert@^1`).
    pub(crate) agents: Vec<String>,
    /// Take new agents from this registry.
    #[arg(long)]
    pub(crate) registry: Option<String>,
    /// Overwrite local edits (a backup is kept in the state directory).
    #[arg(long)]
    pub(crate) force: bool,
    /// Fail if agents.lock would change.
    #[arg(long)]
    pub(crate) locked: bool,
    /// --locked and --offline together.
    #[arg(long)]
    pub(crate) frozen: bool,
    /// Do not touch the network: use the cache and the built-in registry only.
    #[arg(long)]
    pub(crate) offline: bool,
    /// Refuse agent files with hidden Unicode (also `[security] hidden-unicode = "deny"`).
    #[arg(long)]
    pub(crate) deny_hidden_unicode: bool,
    /// Also install for this tool (repeatable): opencode, copilot, cursor, gemini, codex.
    /// Recorded in agents.toml's `targets`; Claude Code is always installed.
    #[arg(long = "target", value_name = "TOOL")]
    pub(crate) targets: Vec<String>,
    /// Print what would change, and change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Print JSON for scripts.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct UninstallArgs {
    #[arg(required = true)]
    pub(crate) agents: Vec<String>,
    /// Delete files even when they have local edits (a backup is kept in the state directory).
    #[arg(long)]
    pub(crate) force: bool,
    /// Print what would be removed, and change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// Also fail on files that hold your edits kept on the locked version (a clean merge, or a
    /// conflict settled with `agents resolve`), not only on files that match nothing recorded.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Print JSON for scripts.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct UpdateArgs {
    /// Agents to update (default: all).
    pub(crate) agents: Vec<String>,
    /// Overwrite local edits (a backup is kept in the state directory).
    #[arg(long)]
    pub(crate) force: bool,
    /// Use only the cache (do not fetch registries).
    #[arg(long)]
    pub(crate) offline: bool,
    /// Print what would change, and change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct OutdatedArgs {
    #[arg(long)]
    pub(crate) offline: bool,
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// A directory of agent files, or a git URL of a collection or plugin marketplace.
    pub(crate) source: String,
    /// The registry to publish to (may be omitted when exactly one is configured).
    #[arg(long)]
    pub(crate) registry: Option<String>,
    /// The version for every agent (default: each file's `version` field, else 1.0.0).
    #[arg(long, conflicts_with = "bump")]
    pub(crate) version: Option<semver::Version>,
    /// Re-import: publish each file whose bytes changed since its latest published version as
    /// that version bumped (unchanged files are left alone).
    #[arg(long, value_enum)]
    pub(crate) bump: Option<Bump>,
    /// Import only this plugin of a marketplace (repeatable).
    #[arg(long = "plugin", value_name = "NAME")]
    pub(crate) plugins: Vec<String>,
    #[arg(long)]
    pub(crate) json: bool,
}

/// Which part of a version `import --bump` raises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Bump {
    Patch,
    Minor,
    Major,
}

#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    /// The agent's name (lowercase letters, digits, `-`, `_`, `.`).
    pub(crate) name: String,
    /// When Claude should use it.
    #[arg(long)]
    pub(crate) description: Option<String>,
    /// sonnet, opus, haiku, inherit, or a full model id.
    #[arg(long, default_value = "inherit")]
    pub(crate) model: String,
    /// Comma-separated tools (default: all tools).
    #[arg(long)]
    pub(crate) tools: Option<String>,
    /// Where to write it (default: ./NAME.md).
    #[arg(long)]
    pub(crate) output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct YankArgs {
    /// NAME@VERSION, for example `my-agent@1.0.1`.
    pub(crate) agent: String,
    /// Clear the yank flag instead.
    #[arg(long)]
    pub(crate) undo: bool,
    /// The registry (may be omitted when exactly one is configured).
    #[arg(long)]
    pub(crate) registry: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("how").required(true).args(["theirs", "ours", "markers", "edit", "from"])))]
pub(crate) struct ResolveArgs {
    /// The package whose update was kept aside (`agents list` shows `conflict`).
    pub(crate) agent: String,
    /// Take the new version (your edits are saved in the state directory first).
    #[arg(long)]
    pub(crate) theirs: bool,
    /// Keep your file as it is, as your edit on top of the new version.
    #[arg(long)]
    pub(crate) ours: bool,
    /// Open $VISUAL or $EDITOR on the three-way merge with conflict markers; once it is saved
    /// with no markers left, it is installed as your edit on the new version.
    #[arg(long)]
    pub(crate) edit: bool,
    /// Install FILE, a finished version of the file (no conflict markers), as your edit on the
    /// new version.
    #[arg(long, value_name = "FILE")]
    pub(crate) from: Option<PathBuf>,
    /// Only write the copy with conflict markers (outside the agents directory), to edit by hand
    /// and settle later with --from.
    #[arg(long)]
    pub(crate) markers: bool,
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    pub(crate) agent: String,
    #[arg(long)]
    pub(crate) offline: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SyncArgs {
    #[arg(long)]
    pub(crate) offline: bool,
    /// Print what would change, and change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct InfoArgs {
    pub(crate) agent: String,
    /// Look only in this registry.
    #[arg(long)]
    pub(crate) registry: Option<String>,
    #[arg(long)]
    pub(crate) offline: bool,
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SearchArgs {
    /// Words to find in names and descriptions (case-insensitive).
    pub(crate) query: String,
    #[arg(long)]
    pub(crate) offline: bool,
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct LintArgs {
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct PublishArgs {
    /// An agent file, a skill directory (with SKILL.md) or a command file.
    pub(crate) file: PathBuf,
    /// What FILE is: agent, skill or command (default: a directory is a skill, a file in a
    /// `commands/` directory a command, any other file an agent).
    #[arg(long, value_name = "KIND")]
    pub(crate) kind: Option<String>,
    /// The registry to publish to (may be omitted when exactly one is configured).
    #[arg(long)]
    pub(crate) registry: Option<String>,
    /// The version to publish (default: the file's `version` field).
    #[arg(long)]
    pub(crate) version: Option<semver::Version>,
    /// Refuse a file with hidden Unicode instead of warning.
    #[arg(long)]
    pub(crate) deny_hidden_unicode: bool,
    /// The SSH key to sign with (default: git's `user.signingkey` when `gpg.format = ssh`).
    #[arg(long, value_name = "PATH")]
    pub(crate) sign_key: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum OwnerCommand {
    /// Add an SSH public key (a line or a `.pub` file) to NAME's owners, signed by an owner or the root.
    Add {
        name: String,
        key: String,
        #[arg(long)]
        registry: Option<String>,
        /// The SSH key to sign with (default: git's `user.signingkey` when `gpg.format = ssh`).
        #[arg(long, value_name = "PATH")]
        sign_key: Option<PathBuf>,
    },
    /// Remove a key (its `SHA256:` fingerprint, a line or a `.pub` file) from NAME's owners.
    Remove {
        name: String,
        key: String,
        #[arg(long)]
        registry: Option<String>,
        /// The key is compromised: versions it signed become invalid too (by default they stay
        /// valid, as after a rotation).
        #[arg(long)]
        revoke: bool,
        /// The SSH key to sign with (default: git's `user.signingkey` when `gpg.format = ssh`).
        #[arg(long, value_name = "PATH")]
        sign_key: Option<PathBuf>,
    },
    /// List NAME's owner keys, verified against the registry root.
    List {
        name: String,
        #[arg(long)]
        registry: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum RegistryCommand {
    /// Create an empty registry (a bare git repository) at PATH.
    Init {
        path: PathBuf,
        /// A line describing the registry, stored in config.json.
        #[arg(long)]
        description: Option<String>,
        /// Make this SSH key the registry's root: every publish must then be signed by an owner
        /// (default: git's `user.signingkey` when `gpg.format = ssh`).
        #[arg(long, value_name = "PATH", conflicts_with = "unsigned")]
        sign_key: Option<PathBuf>,
        /// Make a registry without a root key, whose publishes nobody checks, even when a
        /// signing key is configured.
        #[arg(long)]
        unsigned: bool,
        /// The registry format: 2 (every body two levels deep), or 1 for clients older than
        /// format 2 (move it later with `agents registry migrate`).
        #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=2))]
        format: u32,
    },
    /// Move a format-1 registry to format 2 in one commit: every body two levels deep.
    Migrate {
        /// The registry to migrate (default: the only one configured besides the built-in).
        #[arg(long)]
        registry: Option<String>,
        /// The registry root's key, which re-signs config.json in a signed registry (default:
        /// git's `user.signingkey` when `gpg.format = ssh`).
        #[arg(long, value_name = "PATH")]
        sign_key: Option<PathBuf>,
    },
    /// Add a registry by path or git URL (user config; --project for this project's agents.toml).
    Add {
        name: String,
        /// Refused when git could read it as an option or a command (`-…`, `ext::`, `fd::`).
        #[arg(value_parser = parse_registry_url)]
        url: String,
        /// Record it in the project's agents.toml instead of the user config.
        #[arg(long)]
        project: bool,
        /// Trust only this root key fingerprint (`SHA256:…`) for it, instead of whichever
        /// root it shows on first use.
        #[arg(long, value_name = "FINGERPRINT")]
        trust: Option<String>,
    },
    /// List the registries in search order.
    List(JsonArgs),
    /// Validate a registry repository (for its CI): checksums, records, immutability, owners.
    Check {
        /// The registry repository (default: the current directory).
        path: Option<PathBuf>,
        /// Also check every change after this revision: published records may only change
        /// their yank flag, and each commit's author must own the agents it touches.
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Write the search summary a sparse registry's site serves as `search.json` (for its CI).
    Summary {
        /// The registry repository (default: the current directory).
        path: Option<PathBuf>,
        /// Write it to FILE instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Remove a registry from the user config (or the project's agents.toml with --project).
    Remove {
        name: String,
        #[arg(long)]
        project: bool,
    },
}

/// A registry URL as typed: refused here when git could read it as an option or a command, so
/// `agents registry add team -- --upload-pack=…` never reaches git.
fn parse_registry_url(url: &str) -> Result<String, agents_format::RegistryUrlError> {
    agents_format::RegistryUrl::parse(url).map(|_| url.to_owned())
}
