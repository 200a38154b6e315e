//! Plugins in a change: consent for what they run, and their activation in Claude Code.
//!
//! A plugin's files sit in its own directory marketplace (`placement.rs`); Claude Code loads it
//! only once its settings name that marketplace and enable the plugin. Those two entries are
//! managed configuration entries (`config_entries.rs`) in the user's own settings file: the
//! project's `.claude/settings.local.json` (Claude Code's personal settings file, meant to stay
//! out of git, so a teammate's choice of plugins is not enabled for you), or, in user scope,
//! Claude Code's `settings.json`.
//!
//! A plugin that can run something (a hook, an MCP or LSP server, a runnable file) is installed
//! and enabled only once the user approved that exact version: the approval ([`crate::consent`])
//! covers its command lines and its package digest, so a changed script is a new approval too.
//! A version awaiting approval is not written (its files stay as they are, like a package whose
//! contents cannot be had) and, for sync and the daemon, reported; the version approved before
//! stays enabled only while its files are still the ones `agents` wrote, so files that reached
//! the project some other way (a commit) are never enabled unapproved.

use agents_format::{AgentName, ConfigFormat, Kind, LockedAgent, RelativePath};
use serde_json::json;

use crate::config_entries::ConfigEntry;
use crate::consent::{Approvals, Executable, Pending};
use crate::error::{Result, WorkspaceError};
use crate::model::{Disk, Loader, Package};
use crate::placement::{Contents, Placement, plugin_marketplace_name};
use crate::state::WorkspaceState;
use crate::workspace::{Scope, Workspace};

/// What a plugin runs, for consent: its command lines, the files a command may run, and the
/// package digest that binds every other byte (`None` when it runs nothing).
pub(crate) fn executable(pin: &LockedAgent, contents: &Contents) -> Option<Executable> {
    let Contents::Package(files) = contents else { return None };
    let refs: Vec<(&agents_format::PackageFile, &[u8])> = files.iter().map(|c| (&c.file, c.bytes.as_slice())).collect();
    let plugin = agents_format::parse_plugin(&refs).ok()?;
    if !plugin.executes() {
        return None;
    }
    let mut lines: Vec<String> = plugin.commands.iter().map(|c| format!("{}: {}", c.what, c.line)).collect();
    lines.extend(plugin.runnable_files.iter().map(|file| format!("runnable file: {file}")));
    lines.push(digest_line(pin));
    Some(Executable { subject: pin.name.to_string(), lines })
}

/// Whether this user approved the plugin version `pin` pins (a version that runs nothing is
/// approved by the change that first writes it).
pub(crate) fn approved(approvals: &Approvals, pin: &LockedAgent) -> bool {
    approvals.covers(pin.name.as_str(), &digest_line(pin))
}

/// The line of a plugin's approval that binds it to one version's bytes.
fn digest_line(pin: &LockedAgent) -> String {
    format!("every file of {} {} (package digest {})", pin.name, pin.version, pin.sha256)
}

/// The plugins of a change split by consent, before the model.
#[derive(Debug, Default)]
pub(crate) struct PluginConsent {
    /// Held back: the pin, whether the command is about it, and what waits for approval.
    pub(crate) awaiting: Vec<(LockedAgent, bool, Pending)>,
    /// Approved by this run (`--allow-exec`): recorded once the change is applied.
    approve: Vec<Executable>,
}

/// Takes out of `packages` each plugin whose pinned version runs something the user has not
/// approved and `allow` does not name. A version approved before (its package digest is in an
/// approval) is not read again, so a reconcile of an approved workspace costs no plugin read;
/// any other plugin is loaded and its commands read. One that runs nothing is recorded as
/// approved, so it is not read again either. A plugin whose contents cannot be had stays in
/// `packages`, for the model to report.
pub(crate) fn consent(
    workspace: &Workspace,
    packages: &mut Vec<Package>,
    loader: &mut dyn Loader,
    allow: &[String],
) -> PluginConsent {
    let approvals = Approvals::read(&workspace.dirs.state);
    let mut out = PluginConsent::default();
    let mut kept = Vec::with_capacity(packages.len());
    for mut package in packages.drain(..) {
        if package.pin.kind != Kind::Plugin || package.held {
            kept.push(package);
            continue;
        }
        let subject = package.pin.name.to_string();
        if package.loaded.is_none() && approved(&approvals, &package.pin) {
            kept.push(package);
            continue;
        }
        if package.loaded.is_none() {
            match loader.load(&package.pin) {
                Ok(loaded) => package.loaded = Some(loaded),
                Err(_) => {
                    kept.push(package);
                    continue;
                }
            }
        }
        let Some(executable) = package.loaded.as_ref().and_then(|l| executable(&package.pin, &l.contents)) else {
            let runs_nothing = Executable { subject, lines: vec![digest_line(&package.pin)] };
            if package.loaded.is_some() && !approvals.is_approved(&runs_nothing) {
                out.approve.push(runs_nothing);
            }
            kept.push(package);
            continue;
        };
        if approvals.is_approved(&executable) {
            kept.push(package);
        } else if allow.iter().any(|name| executable.is_named_by(name)) {
            out.approve.push(executable);
            kept.push(package);
        } else {
            let pending = Pending {
                subject: executable.subject.clone(),
                digest: executable.digest(),
                changed: approvals.was_approved_before(&executable),
                lines: executable.lines,
            };
            out.awaiting.push((package.pin, package.subject, pending));
        }
    }
    *packages = kept;
    out
}

impl PluginConsent {
    /// Records this run's approvals (after the change is applied); a failure is a warning.
    pub(crate) fn record(&self, workspace: &Workspace, warnings: &mut Vec<String>) {
        if self.approve.is_empty() {
            return;
        }
        let mut approvals = Approvals::read(&workspace.dirs.state);
        for executable in &self.approve {
            approvals.approve(executable);
        }
        if let Err(error) = approvals.write(&workspace.dirs.state) {
            warnings.push(format!("could not record your approval ({error}); you will be asked again"));
        }
    }

    /// The error a command about an awaiting plugin stops with.
    pub(crate) fn error(pin: &LockedAgent, pending: &Pending) -> WorkspaceError {
        WorkspaceError::AwaitingApproval {
            name: pin.name.clone(),
            version: pin.version.clone(),
            lines: pending.lines.clone(),
        }
    }
}

/// The settings file Claude Code reads plugins' activation from, for this user: the project's
/// `.claude/settings.local.json`, or Claude Code's own `settings.json` in user scope.
fn settings_file(placement: Placement<'_>) -> Option<RelativePath> {
    let text = match placement.scope {
        Scope::Project => ".claude/settings.local.json".to_owned(),
        Scope::User => placement.claude_relative("settings.json"),
    };
    RelativePath::parse(&text).ok()
}

/// The two entries that make Claude Code load plugin `name` from its directory: the marketplace
/// (`extraKnownMarketplaces.agents-NAME`, a directory source: `./…` in a project, the absolute
/// path in user scope) and the switch (`enabledPlugins."NAME@agents-NAME"`).
pub(crate) fn activation(workspace: &Workspace, name: &AgentName) -> Vec<ConfigEntry> {
    let placement = workspace.placement();
    let Some(file) = settings_file(placement) else { return Vec::new() };
    let dir = placement.plugin_dir(name);
    let path = match placement.scope {
        Scope::Project => format!("./{dir}"),
        Scope::User => workspace.resolve(&RelativePath::parse(&dir).expect("a plain path")).display().to_string(),
    };
    let marketplace = plugin_marketplace_name(name);
    let entry = |key: Vec<String>, value| ConfigEntry {
        file: file.clone(),
        format: ConfigFormat::Json,
        key,
        value,
        owner: name.to_string(),
    };
    vec![
        entry(
            vec!["extraKnownMarketplaces".to_owned(), marketplace.clone()],
            json!({ "source": { "source": "directory", "path": path } }),
        ),
        entry(vec!["enabledPlugins".to_owned(), format!("{name}@{marketplace}")], json!(true)),
    ]
}

/// Whether the files of plugin `name` on disk are all what `agents` last wrote there (so the
/// version enabled is one the user approved), and there is at least one.
pub(crate) fn files_as_written(
    placement: Placement<'_>,
    name: &AgentName,
    state: &WorkspaceState,
    disk: &Disk<'_>,
) -> Result<bool> {
    let prefix = format!("{}/", placement.plugin_dir(name));
    let mut any = false;
    for (path, written) in &state.files {
        if !path.as_str().starts_with(&prefix) {
            continue;
        }
        any = true;
        match disk.at(path)? {
            crate::fs::OnDisk::File { sha256, .. } if sha256 == written.sha256 => {}
            _ => return Ok(false),
        }
    }
    Ok(any)
}

/// The MCP servers of an installed plugin for the project's other tools (Claude Code loads them
/// from the plugin itself): each server of its `.mcp.json` (or an Agent Plugins `mcp.json`)
/// under the key `PLUGIN.SERVER`, in each tool's file. A server that runs a file inside the
/// plugin (`${CLAUDE_PLUGIN_ROOT}`) or that a tool cannot express is named instead. The
/// plugin's approval covers them, so they carry no consent of their own.
pub(crate) fn mcp_entries(
    name: &AgentName,
    files: &[crate::model::WantedFile],
    placement: Placement<'_>,
    tools: &[agents_format::Target],
    notes: &mut Vec<String>,
) -> Vec<ConfigEntry> {
    let others: Vec<agents_format::Target> =
        tools.iter().copied().filter(|t| *t != agents_format::Target::ClaudeCode).collect();
    if others.is_empty() || placement.scope != Scope::Project {
        return Vec::new();
    }
    let dir = format!("{}/plugin/", placement.plugin_dir(name));
    let config = files
        .iter()
        .find(|f| f.path.as_str().strip_prefix(&dir).is_some_and(|rest| rest == ".mcp.json" || rest == "mcp.json"));
    let Some(bytes) = config.and_then(|f| f.bytes.as_deref()) else { return Vec::new() };
    let Ok(parsed) = serde_json::from_slice::<serde_json::Value>(bytes) else { return Vec::new() };
    let servers = parsed.get("mcpServers").unwrap_or(&parsed).as_object().cloned().unwrap_or_default();
    let mut out = Vec::new();
    for (server, value) in servers.iter().take(agents_format::MAX_MCP_SERVERS) {
        let label = format!("MCP server `{server}` of plugin {name}");
        if value.to_string().contains("${CLAUDE_PLUGIN_ROOT}") {
            notes.push(format!("{label}: not written for the other tools, it runs a file inside the plugin"));
            continue;
        }
        let parsed = serde_json::from_value::<agents_format::RawMcpServer>(value.clone())
            .map_err(|e| e.to_string())
            .and_then(|raw| agents_format::McpServer::from_raw(&raw));
        let key = agents_format::McpServerName::new(&format!("{name}.{server}"));
        let (server, key) = match (parsed, key) {
            (Ok(server), Ok(key)) => (server, key),
            (Err(why), _) | (_, Err(why)) => {
                notes.push(format!("{label}: not written for the other tools: {why}"));
                continue;
            }
        };
        let declaration = crate::config_entries::McpDeclaration { owner: name.to_string(), name: key, server };
        // Every key is a plain relative path from `entry_for`; an error here would be a bug there.
        if let Ok(entries) = crate::config_entries::server_entries(&declaration, &others, &label, notes) {
            out.extend(entries);
        }
    }
    out
}
