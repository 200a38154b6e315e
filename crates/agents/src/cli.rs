//! The command-line surface, declared with clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "agents",
    version,
    about = "Install, publish and keep AI coding agents, skills and slash commands in sync",
    long_about = None
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// Work on the user scope (~/.claude/agents, skills, commands) instead of the current project.
    #[arg(short, long, global = true)]
    pub(crate) global: bool,
    /// Print nothing but errors and requested data (no status or `next:` lines).
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
    /// Log what happens (repeat for more); AGENTS_LOG takes a level, and a level per target (`warn,agents_registry=debug`).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create an agents.toml in the current directory.
    Init,
    /// Install agents, skills and commands (with no names: everything agents.lock and agents.toml list).
    Install(InstallArgs),
    /// Remove agents, skills and commands from the workspace (files with local edits are kept unless --force).
    Uninstall(UninstallArgs),
    /// Move locked versions of agents, skills and commands to the newest the manifest allows (all, or those named).
    Update(UpdateArgs),
    /// Show agents, skills and commands with newer versions (or a yanked locked version).
    Outdated(OutdatedArgs),
    /// List installed agents, skills and commands and their status (ok, modified, missing).
    List(JsonArgs),
    /// Show what the workspace asked for and, below each, the packages it requires (from agents.lock).
    Tree(JsonArgs),
    /// Show why a package is installed: what requires it, up to what the workspace asked for.
    Why {
        /// The installed package.
        name: String,
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Show the description and versions of an agent, skill or command.
    Info(InfoArgs),
    /// Search registries' agents, skills and commands by name and description (none: list all).
    Search(SearchArgs),
    /// Check installed agent, skill and command files against agents.lock's checksums (exit 1 on mismatch).
    Verify(VerifyArgs),
    /// Show local edits to an agent, skill or command: the installed files against the pinned version.
    Diff(DiffArgs),
    /// Settle an update of an agent, skill or command kept aside because it conflicts with your edits.
    Resolve(ResolveArgs),
    /// Bring agent, skill and command files to what agents.lock pins, once, keeping local edits (what the daemon does).
    Sync(SyncArgs),
    /// Check agent files (Markdown with front matter) for problems; never changes them.
    Lint(LintArgs),
    /// Publish an agent file, a skill directory, a command file or a plugin directory to a registry.
    Publish(PublishArgs),
    /// Mark a published version of an agent, skill or command as yanked (new resolutions skip it), or undo that.
    Yank(YankArgs),
    /// Publish a whole existing collection of agents (a directory, a git URL, a plugin marketplace).
    Import(ImportArgs),
    /// Write packages of your registries out as a Claude Code marketplace directory or an Agent
    /// Plugins package, naming what the format cannot carry.
    Export(ExportArgs),
    /// Write a new agent file to start from.
    New(NewArgs),
    /// Create, add, list and remove registries.
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Add, remove and list the SSH keys that may publish an agent, skill or command (signed registries).
    #[command(subcommand)]
    Owner(OwnerCommand),
    /// Control agentsd, the daemon that keeps agent, skill and command files in sync with agents.lock.
    #[command(subcommand)]
    Daemon(DaemonCommand),
    /// Check the setup: git, credentials, registries, the daemon, writable directories.
    Doctor(JsonArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell to write completions for.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `agents man > ~/.local/share/man/man1/agents.1`.
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
    Watch {
        /// A directory of the project to watch (default: the current directory).
        path: Option<PathBuf>,
    },
    /// Stop watching a project.
    Unwatch {
        /// A directory of the project to stop watching (default: the current directory).
        path: Option<PathBuf>,
    },
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
    /// Agents, skills or commands to install, as NAME or NAME@REQUIREMENT (`go-backend-expert@^1`).
    #[arg(add = clap_complete::engine::ArgValueCompleter::new(crate::complete::packages))]
    pub(crate) agents: Vec<String>,
    /// Take new agents, skills and commands from this registry.
    #[arg(long)]
    #[arg(add = clap_complete::engine::ArgValueCompleter::new(crate::complete::registries))]
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
    /// Approve and install the executable content of NAME (an MCP server's name, or a package;
    /// repeatable, or comma-separated): without it, content not approved before is left out.
    #[arg(long = "allow-exec", value_name = "NAME", value_delimiter = ',')]
    pub(crate) allow_exec: Vec<String>,
    /// Print what would change, and change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Print JSON for scripts.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct UninstallArgs {
    /// The agents, skills or commands to remove, by name.
    #[arg(required = true)]
    #[arg(add = clap_complete::engine::ArgValueCompleter::new(crate::complete::installed))]
    pub(crate) agents: Vec<String>,
    /// Delete files even when they have local edits (a backup is kept in the state directory).
    #[arg(long)]
    pub(crate) force: bool,
    /// Print what would be removed, and change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Print JSON for scripts.
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
    /// The agents, skills or commands to update (default: all).
    #[arg(add = clap_complete::engine::ArgValueCompleter::new(crate::complete::installed))]
    pub(crate) agents: Vec<String>,
    /// Overwrite local edits (a backup is kept in the state directory).
    #[arg(long)]
    pub(crate) force: bool,
    /// Use only the cache (do not fetch registries).
    #[arg(long)]
    pub(crate) offline: bool,
    /// Approve and install the executable content of NAME (an MCP server's name, or a package;
    /// repeatable, or comma-separated): without it, content not approved before is left out.
    #[arg(long = "allow-exec", value_name = "NAME", value_delimiter = ',')]
    pub(crate) allow_exec: Vec<String>,
    /// Print what would change, and change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Print JSON for scripts.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct OutdatedArgs {
    /// Use only the cache (do not fetch registries).
    #[arg(long)]
    pub(crate) offline: bool,
    /// Print JSON for scripts.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// A directory of agent files, or a git URL of a collection or plugin marketplace.
    pub(crate) source: String,
    /// The registry to publish to (may be omitted when exactly one is configured).
    #[arg(long)]
    #[arg(add = clap_complete::engine::ArgValueCompleter::new(crate::complete::registries))]
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
    /// Take a marketplace's plugins apart: publish their agents, skills and commands as loose
    /// packages (they lose the plugin's namespace, hooks, MCP servers and scripts). By default
    /// each plugin is published whole, as one package of kind `plugin`.
    #[arg(long)]
    pub(crate) split: bool,
    /// Import agents whose front matter Claude Code cannot parse (it does not load them), each
    /// with a warning, instead of skipping them.
    #[arg(long)]
    pub(crate) allow_unloadable: bool,
    /// Print JSON for scripts.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The packages: NAME (the newest version) or NAME@REQ (`loop@^1`).
    #[arg(required = true)]
    pub(crate) packages: Vec<String>,
    /// The directory to write (it must not exist yet, or be empty).
    #[arg(long, short = 'o', value_name = "DIR")]
    pub(crate) output: PathBuf,
    /// What to write.
    #[arg(long, value_enum, default_value = "claude-marketplace")]
    pub(crate) format: ExportFormat,
    /// The marketplace's (or Agent Plugins package's) name (default: the output directory's name).
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// The Agent Plugins package's version (default: the one plugin's version, else 1.0.0).
    #[arg(long)]
    pub(crate) version: Option<semver::Version>,
    /// Read only what is cached; fetch nothing.
    #[arg(long)]
    pub(crate) offline: bool,
}

/// What `agents export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ExportFormat {
    /// A directory with `.claude-plugin/marketplace.json` (`/plugin marketplace add DIR`).
    ClaudeMarketplace,
    /// An Agent Plugins 1.0 package: `plugin.json`, `skills/`, `mcp.json`.
    AgentPlugin,
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
    /// The agent, skill or command version, as NAME@VERSION (`my-agent@1.0.1`).
    #[arg(add = clap_complete::engine::ArgValueCompleter::new(crate::complete::packages))]
    pub(crate) agent: String,
    /// Clear the yank flag instead.
    #[arg(long)]
    pub(crate) undo: bool,
    /// Your key, which signs the yank in a signed registry (an owner's or the root's; default:
    /// git's `user.signingkey` when `gpg.format = ssh`).
    #[arg(long, value_name = "PATH")]
    pub(crate) sign_key: Option<PathBuf>,
    /// The registry (may be omitted when exactly one is configured).
    #[arg(long)]
    #[arg(add = clap_complete::engine::ArgValueCompleter::new(crate::complete::registries))]
    pub(crate) registry: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("how").required(true).args(["theirs", "ours", "markers", "edit", "from"])))]
pub(crate) struct ResolveArgs {
    /// The agent, skill or command whose update was kept aside (`agents list` shows `conflict`).
    #[arg(add = clap_complete::engine::ArgValueCompleter::new(crate::complete::installed))]
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
    /// Print JSON for scripts.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    /// The installed agent, skill or command to compare.
    #[arg(add = clap_complete::engine::ArgValueCompleter::new(crate::complete::installed))]
    pub(crate) agent: String,
    /// Use only the cache (do not fetch the pinned version).
    #[arg(long)]
    pub(crate) offline: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SyncArgs {
    /// Use only the cache (do not fetch registries).
    #[arg(long)]
    pub(crate) offline: bool,
    /// Approve and install the executable content of NAME (an MCP server's name, or a package;
    /// repeatable, or comma-separated): without it, content not approved before is left out.
    #[arg(long = "allow-exec", value_name = "NAME", value_delimiter = ',')]
    pub(crate) allow_exec: Vec<String>,
    /// Print what would change, and change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Print JSON for scripts.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct InfoArgs {
    /// The agent, skill or command to show, by name.
    #[arg(add = clap_complete::engine::ArgValueCompleter::new(crate::complete::packages))]
    pub(crate) agent: String,
    /// Look only in this registry.
    #[arg(long)]
    #[arg(add = clap_complete::engine::ArgValueCompleter::new(crate::complete::registries))]
    pub(crate) registry: Option<String>,
    /// Use only the cache (do not fetch registries).
    #[arg(long)]
    pub(crate) offline: bool,
    /// Print JSON for scripts.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SearchArgs {
    /// Words to find in the names and descriptions of agents, skills and commands
    /// (case-insensitive; none lists everything).
    pub(crate) query: Vec<String>,
    /// Use only the cache (do not fetch registries).
    #[arg(long)]
    pub(crate) offline: bool,
    /// Print JSON for scripts.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct LintArgs {
    /// The agent files to check.
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,
    /// Print JSON for scripts.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct PublishArgs {
    /// An agent file, a skill directory (with SKILL.md), a command file, or a plugin directory
    /// (with .claude-plugin/plugin.json, or an Agent Plugins plugin.json).
    #[arg(required_unless_present = "bundle", conflicts_with = "bundle")]
    pub(crate) file: Option<PathBuf>,
    /// Publish a bundle called NAME: no files, only a description and requirements
    /// (`--requires`), so installing it installs that set.
    #[arg(long, value_name = "NAME", requires_all = ["description", "version", "requires"])]
    pub(crate) bundle: Option<String>,
    /// The bundle's one-line description.
    #[arg(long, requires = "bundle")]
    pub(crate) description: Option<String>,
    /// A package this version needs: `NAME@REQ` (from this registry) or `REGISTRY/NAME@REQ`
    /// (REGISTRY a configured registry's name); repeat for each. Recorded in the published
    /// record (signed with it), never in the file.
    #[arg(long, value_name = "[REGISTRY/]NAME@REQ")]
    pub(crate) requires: Vec<String>,
    /// What FILE is: agent, skill, command or plugin (default: a directory with a plugin
    /// manifest is a plugin, any other directory a skill, a file in a `commands/` directory a
    /// command, any other file an agent). A plugin's version is its manifest's `version`, and
    /// its manifest's `dependencies` become requirements.
    #[arg(long, value_name = "KIND")]
    pub(crate) kind: Option<String>,
    /// The registry to publish to (may be omitted when exactly one is configured).
    #[arg(long)]
    #[arg(add = clap_complete::engine::ArgValueCompleter::new(crate::complete::registries))]
    pub(crate) registry: Option<String>,
    /// The version to publish (default: the file's `version` field).
    #[arg(long)]
    pub(crate) version: Option<semver::Version>,
    /// Refuse a file with hidden Unicode instead of warning.
    #[arg(long)]
    pub(crate) deny_hidden_unicode: bool,
    /// Publish an agent whose front matter Claude Code cannot parse (it does not load it), with a
    /// warning, instead of refusing it.
    #[arg(long)]
    pub(crate) allow_unloadable: bool,
    /// The SSH key to sign with (default: git's `user.signingkey` when `gpg.format = ssh`).
    #[arg(long, value_name = "PATH")]
    pub(crate) sign_key: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum OwnerCommand {
    /// Add an SSH public key (a line or a `.pub` file) to NAME's owners, signed by an owner or the root.
    Add {
        /// The agent, skill or command.
        name: String,
        /// The public key: a line (`ssh-ed25519 AAAA…`) or a `.pub` file.
        key: String,
        /// The registry (may be omitted when exactly one is configured).
        #[arg(long)]
        registry: Option<String>,
        /// The SSH key to sign with (default: git's `user.signingkey` when `gpg.format = ssh`).
        #[arg(long, value_name = "PATH")]
        sign_key: Option<PathBuf>,
    },
    /// Remove a key (its `SHA256:` fingerprint, a line or a `.pub` file) from NAME's owners.
    Remove {
        /// The agent, skill or command.
        name: String,
        /// The key: its `SHA256:` fingerprint, a line or a `.pub` file.
        key: String,
        /// The registry (may be omitted when exactly one is configured).
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
        /// The agent, skill or command.
        name: String,
        /// The registry (may be omitted when exactly one is configured).
        #[arg(long)]
        registry: Option<String>,
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum RegistryCommand {
    /// Create an empty registry (a bare git repository) at PATH, for agents, skills and commands.
    Init {
        /// The directory to create the bare repository in (new, or empty).
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
    /// Make an unsigned registry signed, in one commit: your key becomes its root and signs
    /// config.json, every version published so far (vouching for the bytes it holds today) and
    /// every yank; each package gets an owners list.
    Sign {
        /// The registry to sign (default: the only one configured besides the built-in).
        #[arg(long)]
        registry: Option<String>,
        /// The key that becomes the root (default: git's `user.signingkey` when `gpg.format = ssh`).
        #[arg(long, value_name = "PATH")]
        sign_key: Option<PathBuf>,
        /// A public key (a `.pub` file or an OpenSSH line) to make the owner of every package
        /// (repeatable; default: the root itself). Change them later with `agents owner`.
        #[arg(long = "owner", value_name = "KEY")]
        owners: Vec<String>,
    },
    /// Hand a signed registry to a new root key. The current root signs the handover, so
    /// clients that trusted it follow; everything it signed is signed again by the new root.
    RotateRoot {
        /// The new root's key (a private key file, or a `.pub` whose key ssh-agent holds).
        #[arg(long, value_name = "PATH")]
        new_key: PathBuf,
        /// The registry (default: the only one configured besides the built-in).
        #[arg(long)]
        registry: Option<String>,
        /// The current root's key (default: git's `user.signingkey` when `gpg.format = ssh`).
        #[arg(long, value_name = "PATH")]
        sign_key: Option<PathBuf>,
    },
    /// Add a registry by path or git URL (user config; --project for this project's agents.toml).
    Add {
        /// The name to refer to it by (`--registry NAME`).
        name: String,
        /// Its path or git URL (or `sparse+https://…` for a static host); refused when git
        /// could read it as an option or a command (`-…`, `ext::`, `fd::`).
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
        /// Print JSON for scripts.
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
    /// Build the registry's website into DIR (for its CI): a search page and one page per
    /// package, static files to serve beside the registry's tree.
    Site {
        /// The registry repository, or its tree exported into a directory (default: the
        /// current directory).
        path: Option<PathBuf>,
        /// The directory to write the site into (created when missing; a later build there
        /// renders only the pages whose package changed).
        #[arg(long, short, value_name = "DIR")]
        output: PathBuf,
    },
    /// Remove a registry from the user config (or the project's agents.toml with --project).
    Remove {
        /// The registry's name (`agents registry list` shows them).
        name: String,
        /// Remove it from the project's agents.toml instead of the user config.
        #[arg(long)]
        project: bool,
    },
}

/// The commands where `-g/--global` changes nothing: no workspace, user config or registry list
/// is read. Each gets its own hidden `--global`, so the global one is not propagated to them
/// and their help does not offer it (a `-g` given anyway is accepted and ignored).
const WITHOUT_SCOPE: &[&[&str]] = &[
    &["new"],
    &["lint"],
    &["completions"],
    &["man"],
    &["registry", "init"],
    &["registry", "check"],
    &["registry", "summary"],
    &["registry", "site"],
    &["daemon", "start"],
    &["daemon", "stop"],
    &["daemon", "status"],
    &["daemon", "run"],
    &["daemon", "sync"],
    &["daemon", "install-service"],
];

/// The command line as parsed and shown (help, completions, the man page): [`Cli`] with
/// `--global` only where it acts.
pub(crate) fn command() -> clap::Command {
    let mut command = <Cli as clap::CommandFactory>::command();
    for path in WITHOUT_SCOPE {
        command = hide_global(command, path);
    }
    command
}

fn hide_global(command: clap::Command, path: &[&str]) -> clap::Command {
    match path {
        [] => {
            command.arg(clap::Arg::new("global").short('g').long("global").action(clap::ArgAction::SetTrue).hide(true))
        }
        [first, rest @ ..] => command.mut_subcommand(*first, |subcommand| hide_global(subcommand, rest)),
    }
}

/// Parses the process's arguments against [`command`].
pub(crate) fn parse() -> Result<Cli, clap::Error> {
    let mut command = command();
    let matches = command.try_get_matches_from_mut(std::env::args_os())?;
    <Cli as clap::FromArgMatches>::from_arg_matches(&matches).map_err(|error| error.format(&mut command))
}

/// A registry URL as typed: refused here when git could read it as an option or a command, so
/// `agents registry add team -- --upload-pack=…` never reaches git.
fn parse_registry_url(url: &str) -> Result<String, agents_format::RegistryUrlError> {
    agents_format::RegistryUrl::parse(url).map(|_| url.to_owned())
}

#[cfg(test)]
mod tests {

    /// Every subcommand and argument in `--help` says what it is for.
    /// `-g` shows where it acts and nowhere else.
    #[test]
    fn global_shows_only_where_it_acts() {
        let mut command = super::command();
        command.build();
        let shows_global = |path: &[&str]| {
            let mut subcommand = &command;
            for name in path {
                subcommand = subcommand.find_subcommand(name).expect("a subcommand in WITHOUT_SCOPE");
            }
            subcommand.get_arguments().any(|arg| arg.get_id() == "global" && !arg.is_hide_set())
        };
        for path in super::WITHOUT_SCOPE {
            assert!(!shows_global(path), "{path:?} offers --global");
        }
        for path in [&["install"][..], &["list"], &["registry", "add"], &["daemon", "watch"], &["publish"]] {
            assert!(shows_global(path), "{path:?} lacks --global");
        }
    }

    #[test]
    fn every_subcommand_and_argument_is_described() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in command.get_arguments() {
                if arg.is_hide_set() || matches!(arg.get_id().as_str(), "help" | "version") {
                    continue;
                }
                if arg.get_help().is_none() {
                    missing.push(format!("{path} {}", arg.get_id()));
                }
            }
            for subcommand in command.get_subcommands() {
                if subcommand.is_hide_set() || subcommand.get_name() == "help" {
                    continue;
                }
                let path = format!("{path} {}", subcommand.get_name());
                if subcommand.get_about().is_none() {
                    missing.push(path.clone());
                }
                walk(subcommand, &path, missing);
            }
        }
        let mut command = super::command();
        command.build();
        let mut missing = Vec::new();
        walk(&command, "agents", &mut missing);
        assert!(missing.is_empty(), "without a description: {missing:#?}");
    }
}
