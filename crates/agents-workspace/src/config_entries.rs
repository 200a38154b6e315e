//! Managed entries in configuration files the user also edits: an MCP server in `.mcp.json`
//! or `.codex/config.toml`, a switch in `.claude/settings.json`. The second kind of managed
//! thing beside files, planned after them and applied after them in every change.
//!
//! `agents` owns only its entries. Each one written is recorded (file, key path, owner, sha256
//! of the value as written: [`EntryState`] in the state, `[[config]]` in the lockfile). The rule,
//! per entry:
//! - wanted, absent: added (at the end of its table; the file is created when missing);
//! - wanted, the same value there: kept (adopted when it was the user's: managed from now on,
//!   but left to the user, not removed, when the declaration goes);
//! - wanted, another value there that we wrote (its sha256 is the recorded one): updated;
//! - wanted, another value there that we did not write: refused, naming file and key, never
//!   overwritten;
//! - recorded, no longer wanted: removed when it still holds what we wrote (the tables we
//!   created on the way go with it, and a file we created that holds nothing else is removed);
//!   a value the user changed is left and forgotten, with a warning;
//! - held (executable content awaiting consent): left exactly as it is.
//!
//! Every file is read once through [`Root`] (no symlink followed, on the way or at the file),
//! parsed before anything is written (a file that does not parse stops the change, untouched),
//! edited in memory with [`crate::config_edit`], and replaced by compare-and-swap on the bytes
//! read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use agents_format::{ConfigFormat, LockedEntry, RelativePath, Sha256};
use serde_json::Value;

use crate::config_edit::{self, EditError};
use crate::error::{Result, WorkspaceError};
use crate::fs::{Expect, Root, Swap};

/// The largest configuration file read.
pub const MAX_CONFIG_FILE_LEN: u64 = 4 * 1024 * 1024;

/// One entry `agents` wants in a configuration file.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigEntry {
    /// Relative to the workspace boundary (the project root, or the home in user scope).
    pub file: RelativePath,
    pub format: ConfigFormat,
    /// The key path, e.g. `["mcpServers", "github"]` or `["enabledPlugins", "foo@agents"]`.
    pub key: Vec<String>,
    pub value: Value,
    /// `manifest`, or the package that brings the entry.
    pub owner: String,
}

/// What the state remembers of an entry it wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EntryState {
    pub file: RelativePath,
    pub key: Vec<String>,
    pub owner: String,
    pub sha256: Sha256,
    /// The file did not exist before `agents` wrote an entry into it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub created_file: bool,
    /// How many tables on the way to the key `agents` created (innermost first).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub created_tables: usize,
    /// The user had this very entry before `agents` wanted it: when the declaration goes, it
    /// is left to them as it was, not removed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adopted: bool,
    /// The user's object this entry went into, as it was written on one line before `agents`
    /// added to it (JSON only: adding makes it multi-line), so removing the last of ours can
    /// give it back its bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_before: Option<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// What happened (or, in a dry run, would happen) to one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryAction {
    Added,
    Updated,
    Removed,
    /// The user's identical entry, ours from now on.
    Adopted,
    Unchanged,
    /// Ours no longer, because the user changed or removed it: left as it is.
    LeftToYou,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EntryChange {
    pub file: PathBuf,
    /// The key path joined with `.`.
    pub key: String,
    pub owner: String,
    pub action: EntryAction,
}

/// The sha256 of a value as recorded (over its canonical compact JSON).
pub fn value_sha256(value: &Value) -> Sha256 {
    Sha256::of(config_edit::canonical(value).as_bytes())
}

/// The plan for one file.
#[derive(Debug)]
struct FilePlan {
    file: RelativePath,
    /// The bytes read (`None`: no file).
    before: Option<Vec<u8>>,
    /// The new text; `None` removes the file (it was ours alone).
    after: Option<String>,
    changes: Vec<EntryChange>,
    records: Vec<EntryState>,
}

/// Every configuration file a change touches, planned.
#[derive(Debug, Default)]
pub struct ConfigPlan {
    files: Vec<FilePlan>,
    pub warnings: Vec<String>,
}

impl ConfigPlan {
    /// Every entry's change, for the report.
    pub fn changes(&self) -> Vec<EntryChange> {
        self.files.iter().flat_map(|f| f.changes.iter().cloned()).collect()
    }

    /// The lockfile's `[[config]]` entries: every wanted entry, approved or not (the lockfile
    /// is the team's; consent is each user's).
    pub fn locked(wanted: &[ConfigEntry]) -> Vec<LockedEntry> {
        wanted
            .iter()
            .map(|e| LockedEntry {
                file: e.file.clone(),
                key: e.key.clone(),
                owner: e.owner.clone(),
                sha256: value_sha256(&e.value),
            })
            .collect()
    }
}

fn display_key(key: &[String]) -> String {
    key.join(".")
}

fn parse_error(root: &Root, file: &RelativePath, error: EditError) -> WorkspaceError {
    let path = root.absolute(file);
    match error {
        EditError::Parse { line, column, message } => WorkspaceError::ConfigFile {
            path,
            message: format!("does not parse at line {line}, column {column}: {message}; it was left untouched"),
        },
        EditError::NotATable { key } => {
            WorkspaceError::ConfigFile { path, message: format!("`{key}` is not a table; it was left untouched") }
        }
    }
}

/// What one file is planned from: its format, the entries wanted in it, the entries recorded.
type FileInputs<'a> = (Option<ConfigFormat>, Vec<&'a ConfigEntry>, Vec<&'a EntryState>);

/// Plans every configuration entry: `wanted` (each entry once: two owners of one key is an
/// error naming both), the state's `recorded` entries, and `held` (file, key) pairs to leave
/// exactly as they are. Reads each file involved; writes nothing.
pub fn plan(
    root: &Root,
    recorded: &[EntryState],
    wanted: &[ConfigEntry],
    held: &BTreeSet<(RelativePath, Vec<String>)>,
) -> Result<ConfigPlan> {
    let mut by_file: BTreeMap<&RelativePath, FileInputs<'_>> = BTreeMap::new();
    let mut seen: BTreeMap<(&RelativePath, &Vec<String>), &str> = BTreeMap::new();
    for entry in wanted {
        if let Some(other) = seen.insert((&entry.file, &entry.key), &entry.owner) {
            return Err(WorkspaceError::ConfigFile {
                path: root.absolute(&entry.file),
                message: format!(
                    "`{}` is declared by both {other} and {}; rename one of them",
                    display_key(&entry.key),
                    entry.owner
                ),
            });
        }
        let slot = by_file.entry(&entry.file).or_default();
        slot.0 = Some(entry.format);
        slot.1.push(entry);
    }
    for record in recorded {
        by_file.entry(&record.file).or_default().2.push(record);
    }
    let mut plan = ConfigPlan::default();
    for (file, (format, wants, records)) in by_file {
        let format = format.unwrap_or_else(|| format_of(file));
        let file_plan = plan_file(root, file, format, &wants, &records, held, &mut plan.warnings)?;
        plan.files.push(file_plan);
    }
    Ok(plan)
}

/// A recorded file's format, from its name (`.toml` or JSON).
fn format_of(file: &RelativePath) -> ConfigFormat {
    if file.as_str().ends_with(".toml") { ConfigFormat::Toml } else { ConfigFormat::Json }
}

fn plan_file(
    root: &Root,
    file: &RelativePath,
    format: ConfigFormat,
    wants: &[&ConfigEntry],
    records: &[&EntryState],
    held: &BTreeSet<(RelativePath, Vec<String>)>,
    warnings: &mut Vec<String>,
) -> Result<FilePlan> {
    let before = root.read(file, MAX_CONFIG_FILE_LEN)?;
    let text = match &before {
        Some(bytes) => Some(String::from_utf8(bytes.clone()).map_err(|_| WorkspaceError::ConfigFile {
            path: root.absolute(file),
            message: "is not UTF-8; it was left untouched".to_owned(),
        })?),
        None => None,
    };
    if let Some(text) = &text {
        config_edit::check(text, format).map_err(|e| parse_error(root, file, e))?;
    }
    let created_file = records.iter().any(|r| r.created_file) || (text.is_none() && !wants.is_empty());
    // Tables on the way that we created are ours to remove once empty, whichever entry's
    // removal empties them.
    let prune = records.iter().map(|r| r.created_tables).max().unwrap_or(0);
    let previous = records.iter().map(|r| (*r).clone()).collect();
    let mut edit = Edit { root, file, format, text, prune, changes: Vec::new(), records: Vec::new(), previous };
    let is_held = |key: &Vec<String>| held.contains(&(file.clone(), key.clone()));
    for record in records.iter().filter(|r| is_held(&r.key)) {
        edit.records.push((*record).clone());
    }
    for record in records.iter().filter(|r| !is_held(&r.key) && !wants.iter().any(|w| w.key == r.key)) {
        edit.forget_or_remove(record, warnings)?;
    }
    for want in wants {
        let record = records.iter().find(|r| r.key == want.key).copied();
        edit.put(want, record, created_file)?;
    }
    let Edit { text, changes, mut records, .. } = edit;
    for record in &mut records {
        record.created_file = created_file;
    }
    let after = match text {
        Some(text) if created_file && records.is_empty() && config_edit::is_empty(&text, format) => None,
        other => other,
    };
    Ok(FilePlan { file: file.clone(), before, after, changes, records })
}

/// The in-memory edit of one file.
struct Edit<'a> {
    root: &'a Root,
    file: &'a RelativePath,
    format: ConfigFormat,
    text: Option<String>,
    prune: usize,
    changes: Vec<EntryChange>,
    records: Vec<EntryState>,
    /// What the state recorded for this file when the change began.
    previous: Vec<EntryState>,
}

impl Edit<'_> {
    fn change(&mut self, key: &[String], owner: &str, action: EntryAction) {
        self.changes.push(EntryChange {
            file: self.root.absolute(self.file),
            key: display_key(key),
            owner: owner.to_owned(),
            action,
        });
    }

    fn current(&self, key: &[String]) -> Result<Option<Value>> {
        match &self.text {
            None => Ok(None),
            Some(text) => config_edit::get(text, self.format, key).map_err(|e| parse_error(self.root, self.file, e)),
        }
    }

    fn forget_or_remove(&mut self, record: &EntryState, warnings: &mut Vec<String>) -> Result<()> {
        let current = self.current(&record.key)?;
        match current {
            Some(_) if record.adopted => {}
            Some(value) if value_sha256(&value) == record.sha256 => {
                let text = self.text.as_deref().unwrap_or_default();
                let before = record.object_before.clone().or_else(|| self.sibling_before(&record.key));
                let removed = config_edit::remove(text, self.format, &record.key, self.prune, before.as_deref())
                    .map_err(|e| parse_error(self.root, self.file, e))?;
                self.text = Some(removed);
                self.change(&record.key, &record.owner, EntryAction::Removed);
            }
            Some(_) => {
                warnings.push(format!(
                    "{}: `{}` was changed by you; it is left as it is and no longer managed",
                    self.root.absolute(self.file).display(),
                    display_key(&record.key)
                ));
                self.change(&record.key, &record.owner, EntryAction::LeftToYou);
            }
            None => {}
        }
        Ok(())
    }

    fn put(&mut self, want: &ConfigEntry, record: Option<&EntryState>, created_file: bool) -> Result<()> {
        let sha256 = value_sha256(&want.value);
        let current = self.current(&want.key)?;
        let mut state = EntryState {
            file: want.file.clone(),
            key: want.key.clone(),
            owner: want.owner.clone(),
            sha256,
            created_file,
            created_tables: record.map_or(0, |r| r.created_tables),
            adopted: record.is_some_and(|r| r.adopted),
            object_before: record.and_then(|r| r.object_before.clone()),
        };
        let action = match (&current, record) {
            (Some(value), _) if value_sha256(value) == sha256 => {
                if record.is_some() {
                    EntryAction::Unchanged
                } else {
                    state.adopted = true;
                    EntryAction::Adopted
                }
            }
            (Some(value), Some(record)) if value_sha256(value) == record.sha256 => {
                // Our value from now on, removed with its declaration.
                state.adopted = false;
                self.write(want, &mut state)?;
                EntryAction::Updated
            }
            (Some(_), _) => {
                return Err(WorkspaceError::ConfigFile {
                    path: self.root.absolute(self.file),
                    message: format!(
                        "already has its own `{}`, different from the one {} declares; it was left untouched \
                         (rename or remove one of them, or make yours identical to adopt it)",
                        display_key(&want.key),
                        want.owner
                    ),
                });
            }
            (None, _) => {
                self.write(want, &mut state)?;
                EntryAction::Added
            }
        };
        self.change(&want.key, &want.owner, action);
        self.records.push(state);
        Ok(())
    }

    fn write(&mut self, want: &ConfigEntry, state: &mut EntryState) -> Result<()> {
        let existed = self.current(&want.key)?.is_some();
        let (text, created, before) = config_edit::set(self.text.as_deref(), self.format, &want.key, &want.value)
            .map_err(|e| parse_error(self.root, self.file, e))?;
        if !existed {
            state.created_tables = created.max(self.prune);
            // The one-line object as the user wrote it: from this insertion, or from an entry of
            // ours that went into the same object before (which made it multi-line).
            state.object_before = before.or_else(|| self.sibling_before(&want.key));
        }
        self.text = Some(text);
        Ok(())
    }

    /// The one-line text recorded for the object holding `key`, by any entry of ours in it.
    fn sibling_before(&self, key: &[String]) -> Option<String> {
        let parent = &key[..key.len().saturating_sub(1)];
        let siblings = self.records.iter().chain(self.previous.iter());
        siblings
            .filter(|r| r.key.len() == key.len() && r.key[..parent.len()] == *parent)
            .find_map(|r| r.object_before.clone())
    }
}

/// Applies `plan`, file by file, each by compare-and-swap on the bytes planned from, and
/// keeps `records` (the state's list) true after each file. A file that changed since it was
/// read is left to the user's save and reported as an error naming it: nothing of theirs is
/// lost, and running the command again plans from what is there now.
/// A file removed takes with it the directories this tool created for it (`dirs`, the state's)
/// once they are empty.
pub fn apply(
    root: &Root,
    plan: ConfigPlan,
    records: &mut Vec<EntryState>,
    dirs: &mut BTreeSet<RelativePath>,
) -> Result<Vec<EntryChange>> {
    let mut changes = Vec::new();
    for file in plan.files {
        let unchanged = file.before.as_deref() == file.after.as_deref().map(str::as_bytes);
        let expect = file.before.as_deref().map_or(Expect::Missing, |b| Expect::Bytes(Sha256::of(b)));
        let swap = match &file.after {
            _ if unchanged => Swap::Done,
            Some(text) => root.replace(&file.file, text.as_bytes(), expect)?,
            None => root.remove(&file.file, expect)?,
        };
        if swap != Swap::Done {
            return Err(WorkspaceError::ConfigFile {
                path: root.absolute(&file.file),
                message: "changed while agents was editing it; your save was kept, run the command again".to_owned(),
            });
        }
        records.retain(|r| r.file != file.file);
        records.extend(file.records);
        changes.extend(file.changes);
        if file.after.is_none() && !unchanged {
            prune_dirs(root, &file.file, dirs)?;
        }
    }
    Ok(changes)
}

/// Removes the empty directories above `file` that this tool created, deepest first.
fn prune_dirs(root: &Root, file: &RelativePath, dirs: &mut BTreeSet<RelativePath>) -> Result<()> {
    let components: Vec<&str> = file.parent_components().collect();
    for depth in (1..=components.len()).rev() {
        let Ok(dir) = RelativePath::parse(&components[..depth].join("/")) else { break };
        if !dirs.contains(&dir) || !root.remove_empty_dir(&dir)? {
            break;
        }
        dirs.remove(&dir);
    }
    Ok(())
}

/// An MCP server and who declares it (`manifest`, or a package: a plugin's `.mcp.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpDeclaration {
    pub owner: String,
    pub name: agents_format::McpServerName,
    pub server: agents_format::McpServer,
}

/// A wanted entry, with the executable content it activates (an MCP stdio server's command).
pub type WantedEntry = (ConfigEntry, Option<crate::consent::Executable>);

/// The entries `declarations` put into each tool's file (Claude Code's always, then each of
/// `tools`), and what a tool cannot express (one note per server and tool, that tool's entry
/// left out). A name two owners declare is an error naming both.
pub fn mcp_entries(
    declarations: &[McpDeclaration],
    tools: &[agents_format::Target],
) -> Result<(Vec<WantedEntry>, Vec<String>)> {
    let mut owners: BTreeMap<&agents_format::McpServerName, &str> = BTreeMap::new();
    for declaration in declarations {
        if let Some(other) = owners.insert(&declaration.name, &declaration.owner).filter(|o| *o != declaration.owner) {
            return Err(WorkspaceError::Invalid {
                path: PathBuf::from("agents.toml"),
                message: format!(
                    "MCP server `{}` is declared by both {other} and {}",
                    declaration.name, declaration.owner
                ),
            });
        }
    }
    let mut all_tools = vec![agents_format::Target::ClaudeCode];
    all_tools.extend(tools.iter().copied().filter(|t| *t != agents_format::Target::ClaudeCode));
    let (mut entries, mut notes) = (Vec::new(), Vec::new());
    for declaration in declarations {
        let executable = declaration
            .server
            .command_lines()
            .map(|lines| crate::consent::Executable { subject: format!("mcp:{}", declaration.name), lines });
        let label = format!("MCP server `{}`", declaration.name);
        for entry in server_entries(declaration, &all_tools, &label, &mut notes)? {
            entries.push((entry, executable.clone()));
        }
    }
    Ok((entries, notes))
}

/// The entry `declaration` puts into each of `tools`' files; what a tool cannot express goes
/// into `notes` (`{label} not written for TOOL: why`), that tool's entry left out.
pub(crate) fn server_entries(
    declaration: &McpDeclaration,
    tools: &[agents_format::Target],
    label: &str,
    notes: &mut Vec<String>,
) -> Result<Vec<ConfigEntry>> {
    let mut out = Vec::new();
    for tool in tools {
        match declaration.server.entry_for(*tool, &declaration.name) {
            Ok(entry) => {
                let file = RelativePath::parse(entry.file)
                    .map_err(|e| WorkspaceError::Invalid { path: PathBuf::from(entry.file), message: e.to_string() })?;
                out.push(ConfigEntry {
                    file,
                    format: entry.format,
                    key: entry.key,
                    value: entry.value,
                    owner: declaration.owner.clone(),
                });
            }
            Err(why) => notes.push(format!("{label} not written for {}: {why}", tool.as_str())),
        }
    }
    Ok(out)
}

/// The entries a change wants for the manifest's `[mcp.servers]`, in every tool's file (a
/// plugin's entries come from `plugins.rs`). In user scope no MCP server is written: each
/// tool keeps user-scope servers in a file of its own making (Claude Code's `~/.claude.json`,
/// which it rewrites itself), so servers are a project's only, said once.
pub(crate) fn for_workspace(
    workspace: &crate::workspace::Workspace,
    manifest: &agents_format::Manifest,
    tools: &[agents_format::Target],
    report: &mut crate::report::Report,
) -> Result<Vec<WantedEntry>> {
    let declarations: Vec<McpDeclaration> = manifest
        .mcp_servers
        .iter()
        .map(|(name, server)| McpDeclaration {
            owner: "manifest".to_owned(),
            name: name.clone(),
            server: server.clone(),
        })
        .collect();
    let mut entries = Vec::new();
    if !declarations.is_empty() && workspace.scope == crate::workspace::Scope::User {
        report
            .warnings
            .push("MCP servers are written in project scope only; the user manifest's are ignored".to_owned());
    } else if !declarations.is_empty() {
        let (mcp, notes) = mcp_entries(&declarations, tools)?;
        // A tool left without a server is worth a warning, not a `-v` note: it will not see it.
        report.warnings.extend(notes);
        entries = mcp;
    }
    Ok(entries)
}

/// The entries a change may write after consent, and what waits for it.
#[derive(Debug, Default)]
pub(crate) struct Consented {
    pub(crate) wanted: Vec<ConfigEntry>,
    /// Entries left exactly as they are (their new version awaits approval).
    pub(crate) held: BTreeSet<(RelativePath, Vec<String>)>,
    /// Approved by this run (`--allow-exec`): recorded once the change is applied.
    approve: Vec<crate::consent::Executable>,
}

/// Splits `entries` by consent: approved before, allowed now, or awaiting approval (listed in
/// the report; its entry held).
pub(crate) fn consent(
    workspace: &crate::workspace::Workspace,
    entries: &[WantedEntry],
    allow: &[String],
    report: &mut crate::report::Report,
) -> Consented {
    let approvals = crate::consent::Approvals::read(&workspace.dirs.state);
    let mut out = Consented::default();
    for (entry, executable) in entries {
        let Some(executable) = executable else {
            out.wanted.push(entry.clone());
            continue;
        };
        if approvals.is_approved(executable) {
            out.wanted.push(entry.clone());
        } else if allow.iter().any(|name| executable.is_named_by(name)) {
            out.wanted.push(entry.clone());
            if !out.approve.contains(executable) {
                out.approve.push(executable.clone());
            }
        } else {
            out.held.insert((entry.file.clone(), entry.key.clone()));
            let pending = crate::consent::Pending {
                subject: executable.subject.clone(),
                lines: executable.lines.clone(),
                digest: executable.digest(),
                changed: approvals.was_approved_before(executable),
            };
            if !report.awaiting_approval.contains(&pending) {
                report.awaiting_approval.push(pending);
            }
        }
    }
    out
}

impl Consented {
    /// Records this run's approvals (after the change is applied). A failure is a warning: the
    /// entries are written, and the next run asks again.
    pub(crate) fn record(&self, workspace: &crate::workspace::Workspace, report: &mut crate::report::Report) {
        if self.approve.is_empty() {
            return;
        }
        let mut approvals = crate::consent::Approvals::read(&workspace.dirs.state);
        for executable in &self.approve {
            approvals.approve(executable);
        }
        if let Err(error) = approvals.write(&workspace.dirs.state) {
            report.warnings.push(format!("could not record your approval ({error}); you will be asked again"));
        }
    }
}

/// The executable content the workspace's manifest declares that the user has not approved
/// (for the CLI to ask about before a change).
pub fn pending_approvals(workspace: &crate::workspace::Workspace) -> Result<Vec<crate::consent::Pending>> {
    let (_, manifest) = workspace.read_manifest()?;
    let mut report = crate::report::Report::default();
    let entries = for_workspace(workspace, &manifest, &manifest.targets, &mut report)?;
    consent(workspace, &entries, &[], &mut report);
    Ok(report.awaiting_approval)
}
