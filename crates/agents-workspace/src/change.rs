//! One change to a workspace, the same for every verb: the model computes what the workspace
//! should hold and the evidence for each path, the engine plans and (unless `--dry-run`)
//! applies, then the manifest, the lockfile and the state are written, in that order. Install,
//! update, uninstall and sync differ only in the packages they hand in and in [`Change`]'s
//! policy fields.

use std::collections::BTreeMap;
use std::path::PathBuf;

use agents_format::{AgentName, Kind, RelativePath, Target};

use crate::engine::{self, Decision, Step, StepResult};
use crate::error::{Result, WorkspaceError};
use crate::fs::{self, OnDisk, Root};
use crate::model::{self, Disk, Package, Pins};
use crate::registries::Registries;
use crate::report::{self, ConflictReport, FileChange, Loss, MissingPin, PackageChange, Report};
use crate::resolve::{Inputs, RegistryLoader};
use crate::workspace::Workspace;

/// What a verb asks of a change.
pub(crate) struct Change<'a> {
    /// The manifest and lockfile the change starts from.
    pub(crate) inputs: &'a Inputs,
    /// Every package the workspace should hold afterwards.
    pub(crate) packages: Vec<Package>,
    /// The tools the project installs for (Claude Code always).
    pub(crate) tools: Vec<Target>,
    /// The manifest to write, when it changes.
    pub(crate) manifest: Option<String>,
    /// Packages being removed (`uninstall`): their files are the subject of the change.
    pub(crate) removing: Vec<AgentName>,
    /// Overwrite (after a backup) what is in the way, for the change's subjects.
    pub(crate) force: bool,
    /// Fail rather than change the lockfile (`--locked`, `--frozen`).
    pub(crate) locked: bool,
    /// Plan only: change nothing.
    pub(crate) dry_run: bool,
    /// Whether a package that cannot be loaded stops the change (install) or is reported and
    /// left as it is (sync, the daemon).
    pub(crate) strict: bool,
    /// Whether the user watches (yanked pins and unsigned registries are said).
    pub(crate) notify: bool,
    pub(crate) deny_hidden_unicode: bool,
    /// Seconds since the epoch, for naming backups.
    pub(crate) now: i64,
    pub(crate) warnings: Vec<String>,
    /// The roots of the signed registries resolve accepted versions from, to pin in the
    /// lockfile's `[roots]` (with those the model's loads accepted).
    pub(crate) roots: crate::resolve::Roots,
    /// Executable content the user allowed for this run (`--allow-exec NAME…`): approved and
    /// written. Anything else not approved before waits.
    pub(crate) allow_exec: Vec<String>,
    /// Managed configuration entries the packages bring besides the manifest's MCP servers:
    /// their MCP servers (merged with the manifest's; one name, two owners: an error), and any
    /// other entry (`.claude/settings.json` switches), each with the executable content it
    /// activates, if any. Empty until packages bring them.
    pub(crate) package_entries: crate::config_entries::PackageEntries,
}

/// Runs `change` under the workspace lock the caller holds (or, for a dry run, may not).
pub(crate) fn run(workspace: &Workspace, registries: &mut Registries, mut change: Change<'_>) -> Result<Report> {
    let root = workspace.open_root()?;
    if !change.dry_run {
        workspace.remove_stale_temp_files();
    }
    let mut state = workspace.read_state();
    let original = state.clone();
    let disk = Disk::new(&root, &state);
    let placement = workspace.placement();
    let packages = std::mem::take(&mut change.packages);
    let pinned_roots = change.inputs.lockfile.roots().clone();
    let mut loader =
        RegistryLoader::new(workspace, registries, (change.deny_hidden_unicode, change.notify), pinned_roots);
    let wanted = model::wanted(
        placement,
        &change.tools,
        packages,
        &disk,
        &state,
        &change.inputs.lockfile,
        &mut loader,
        change.force,
    )?;
    let warnings = std::mem::take(&mut change.warnings);
    let mut report = Report { dry_run: change.dry_run, warnings, ..Report::default() };
    report.warnings.append(&mut loader.warnings);
    unavailable(&wanted, change.strict, &mut report)?;
    let pins = Pins::of(placement, &change.inputs.lockfile);
    let files = model::managed(&wanted, &pins, &change.inputs.lockfile, &state, &disk, &change.removing)?;
    let steps = engine::plan(&root, files, change.force)?;
    check_names(workspace, &root, &steps)?;
    if let Some(step) = steps.iter().find(|s| s.refuses()) {
        return Err(refusal(&root, &steps, step));
    }
    let (consent, config_plan, locked_entries) = plan_config(workspace, &root, &state, &change, &mut report)?;
    let (mut pinned, mut with_new_roots) = lockfiles(&wanted, &change, &loader.roots);
    pinned.set_entries(locked_entries.clone());
    with_new_roots.set_entries(locked_entries);
    let changes = |lockfile: &agents_format::Lockfile| match &change.inputs.lockfile_text {
        Some(text) => *text != lockfile.to_text(),
        None => !lockfile.agents().is_empty() || !lockfile.entries().is_empty(),
    };
    if change.locked && changes(&pinned) {
        return Err(WorkspaceError::LockfileWouldChange { reason: "agents.lock is missing or out of date".to_owned() });
    }
    // A root pinned for the first time never fails `--locked`: that lockfile is left as it is.
    let lockfile = if change.locked { pinned } else { with_new_roots };
    report.bundles = report::bundle_changes(&change.inputs.lockfile, &lockfile);
    let lockfile_text = lockfile.to_text();
    let lockfile_changes = changes(&lockfile);
    report.manifest_changed =
        change.manifest.as_deref().is_some_and(|m| Some(m) != change.inputs.manifest_text.as_deref());
    report.lockfile_changed = lockfile_changes;
    if change.dry_run {
        describe(workspace, &wanted, &steps, None, &[], &mut report);
        report.config = config_plan.changes();
        return Ok(report);
    }
    let mut kept_aside = Vec::new();
    for step in steps.iter().filter(|s| s.sets_aside()) {
        let (upstream, new) = engine::set_aside(workspace, &mut state, step)?;
        let conflict = ConflictReport {
            name: step.file.owner.name.clone(),
            version: step.file.owner.version.clone(),
            path: root.absolute(&step.file.path),
            upstream,
        };
        if new {
            report.conflicts.push(conflict.clone());
        }
        kept_aside.push((conflict, new));
    }
    let applied = engine::apply(workspace, &root, steps, &mut state, change.now);
    if applied.is_err() && state != original {
        // What was applied before the failure is recorded, so the next command knows those
        // bytes as ours (and a merge as the user's) rather than guessing from the lockfile.
        let _ = workspace.write_state(&state);
    }
    let results = applied?;
    describe(workspace, &wanted, &[], Some(&results), &kept_aside, &mut report);
    // Configuration entries come after the files: a plugin's entry may name its files.
    let configured = crate::config_entries::apply(&root, config_plan, &mut state.entries, &mut state.dirs);
    state.dirs.extend(root.take_created());
    if configured.is_err() {
        let _ = workspace.write_state(&state);
    }
    report.config = configured?;
    consent.record(workspace, &mut report);
    let written = |report: &Report| -> Vec<String> {
        report.written().iter().map(|(_, f)| f.path.display().to_string()).collect()
    };
    if report.manifest_changed
        && let Some(manifest) = &change.manifest
    {
        fs::write_atomic(&workspace.manifest_path(), manifest.as_bytes())
            .map_err(|source| partly(&written(&report), "agents.toml, agents.lock", source))?;
    }
    if lockfile_changes {
        fs::write_atomic(&workspace.lockfile_path(), lockfile_text.as_bytes()).map_err(|source| {
            let mut done = written(&report);
            if report.manifest_changed {
                done.push("agents.toml".to_owned());
            }
            partly(&done, "agents.lock", source)
        })?;
    }
    // The state is a cache of what was written: failing to save it loses nothing the next
    // command cannot re-derive, so it is a warning, not a failed change.
    // A change of fingerprints alone (a file restored as it was pinned) is not worth a write
    // and its fsyncs: without it, that file is read once more by the next command.
    if state.differs_beyond_fingerprints(&original)
        && let Err(error) = workspace.write_state(&state)
    {
        report
            .warnings
            .push(format!("could not record what was written ({error}); the next command will re-check the files"));
    }
    Ok(report)
}

/// The managed configuration entries of the change (`config_entries.rs`), split by consent
/// and planned against the files as they are, and what the lockfile records of them.
fn plan_config(
    workspace: &Workspace,
    root: &Root,
    state: &crate::state::WorkspaceState,
    change: &Change<'_>,
    report: &mut Report,
) -> Result<(crate::config_entries::Consented, crate::config_entries::ConfigPlan, Vec<agents_format::LockedEntry>)> {
    use crate::config_entries as entries;
    let wanted =
        entries::for_workspace(workspace, &change.inputs.manifest, &change.package_entries, &change.tools, report)?;
    let consent = entries::consent(workspace, &wanted, &change.allow_exec, report);
    let plan = entries::plan(root, &state.entries, &consent.wanted, &consent.held)?;
    report.warnings.extend(plan.warnings.iter().cloned());
    let locked = entries::ConfigPlan::locked(&wanted.into_iter().map(|(entry, _)| entry).collect::<Vec<_>>());
    Ok((consent, plan, locked))
}

/// The lockfile the change leads to: with every root `agents.lock` already pins (one pinned by
/// `registry add --trust` before any package comes from that registry stays), and the same with
/// the roots of signed registries accepted for the first time pinned too (`[roots]`: trust that
/// travels with the project).
fn lockfiles(
    wanted: &model::Wanted,
    change: &Change<'_>,
    loaded: &crate::resolve::Roots,
) -> (agents_format::Lockfile, agents_format::Lockfile) {
    let mut pinned = wanted.lockfile(&change.inputs.lockfile);
    let used: std::collections::BTreeSet<agents_format::RegistryId> =
        pinned.agents().iter().map(|a| a.registry.clone()).collect();
    for (id, root) in change.inputs.lockfile.roots() {
        pinned.pin_root(id.clone(), root.clone());
    }
    let mut all = pinned.clone();
    // Pinned by the commands a user runs to install or update; sync and the daemon enforce the
    // pins they find and add none.
    let loaded = loaded.iter().filter(|_| change.notify);
    for (id, root) in change.roots.iter().chain(loaded).filter(|(id, _)| used.contains(*id)) {
        // A root accepted although another is pinned was handed over by a signed rotation from
        // the pinned one (`signatures::accept` refuses any other): the pin follows it.
        if all.root(id).is_none() || (change.notify && all.root(id) != Some(root.as_str())) {
            all.pin_root(id.clone(), root.clone());
        }
    }
    (pinned, all)
}

/// Packages whose contents could not be had: an error for a command about them, a warning for
/// the others it keeps (their files are left as they are), a report line (and a reason to
/// fetch) for sync and the daemon.
fn unavailable(wanted: &model::Wanted, strict: bool, report: &mut Report) -> Result<()> {
    for model::Unavailable { pin, subject, error } in &wanted.unavailable {
        if strict && *subject {
            return Err(clone_error(error, pin));
        }
        if strict {
            report.warnings.push(format!(
                "left {}@{} as it is: {}",
                pin.name,
                pin.version,
                crate::control::error_text(error)
            ));
            continue;
        }
        if let WorkspaceError::LockedVersionMissing { name, version, registry } = error {
            report.missing.push(MissingPin {
                name: name.clone(),
                version: version.clone(),
                registry: registry.clone(),
            });
        }
        report.needs_fetch |= matches!(
            error,
            WorkspaceError::LockedVersionMissing { .. }
                | WorkspaceError::UnknownRegistryId { .. }
                | WorkspaceError::Registry(agents_registry::RegistryError::NotARegistry { .. })
                // A sparse registry's file this cache never fetched (a pulled pin's body).
                | WorkspaceError::Registry(agents_registry::RegistryError::NotCached { .. })
        );
        report.errors.push(format!("{}@{}: {error}", pin.name, pin.version));
    }
    Ok(())
}

/// The error of an unavailable package, for a command that stops on it. Errors are not `Clone`
/// (they carry I/O errors), so the common ones are rebuilt and the rest carried as text.
fn clone_error(error: &WorkspaceError, pin: &agents_format::LockedAgent) -> WorkspaceError {
    match error {
        WorkspaceError::LockedVersionMissing { name, version, registry } => WorkspaceError::LockedVersionMissing {
            name: name.clone(),
            version: version.clone(),
            registry: registry.clone(),
        },
        WorkspaceError::UnknownRegistryId { name, id } => {
            WorkspaceError::UnknownRegistryId { name: name.clone(), id: id.clone() }
        }
        WorkspaceError::LockedChecksumChanged { agent, registry, locked, published } => {
            WorkspaceError::LockedChecksumChanged {
                agent: agent.clone(),
                registry: registry.clone(),
                locked: locked.clone(),
                published: published.clone(),
            }
        }
        WorkspaceError::HiddenUnicode { agent, found } => {
            WorkspaceError::HiddenUnicode { agent: agent.clone(), found: found.clone() }
        }
        other => WorkspaceError::Unavailable {
            agent: format!("{}@{}", pin.name, pin.version),
            reason: crate::control::error_text(other),
        },
    }
}

/// The error for the first step that stops the change: something not a regular file in the way,
/// or files this tool never managed where a named package goes.
fn refusal(root: &Root, steps: &[Step], first: &Step) -> WorkspaceError {
    if let OnDisk::Foreign(kind) = first.file.evidence.on_disk
        && !matches!(first.decision, Decision::Conflict(b) if b.forceable())
    {
        return WorkspaceError::Unreplaceable {
            path: root.absolute(&first.file.path),
            what: kind.describe(),
            agent: first.file.owner.name.clone(),
        };
    }
    let refused: Vec<&Step> = steps.iter().filter(|s| s.refuses()).collect();
    let paths: Vec<String> = refused.iter().map(|s| root.absolute(&s.file.path).display().to_string()).collect();
    let mut names: Vec<String> = refused.iter().map(|s| s.file.owner.name.to_string()).collect();
    names.dedup();
    WorkspaceError::Conflicts { count: paths.len(), paths: paths.join(", "), agents: names.join(" ") }
}

fn partly(applied: &[String], not_applied: &str, source: WorkspaceError) -> WorkspaceError {
    WorkspaceError::PartlyApplied {
        applied: if applied.is_empty() { "nothing".to_owned() } else { applied.join(", ") },
        not_applied: not_applied.to_owned(),
        source: Box::new(source),
    }
}

/// Fills `report` with every package and each of its files: from the results when the change
/// was applied, from the plan when it was not.
fn describe(
    workspace: &Workspace,
    wanted: &model::Wanted,
    planned: &[Step],
    results: Option<&[StepResult]>,
    kept_aside: &[(ConflictReport, bool)],
    report: &mut Report,
) {
    let placement = workspace.placement();
    let mut packages: BTreeMap<AgentName, PackageChange> = BTreeMap::new();
    let mut add = |file: &model::Managed, change: FileChange| {
        let removed = !wanted.packages.iter().any(|p| p.pin.name == file.owner.name);
        let package = packages.entry(file.owner.name.clone()).or_insert_with(|| PackageChange {
            name: file.owner.name.clone(),
            kind: file.owner.kind,
            version: file.owner.version.clone(),
            removed,
            subject: file.subject,
            path: workspace.resolve(&placement.shown_path(file.owner.kind, &file.owner.name)),
            own_dirs: placement
                .own_dirs(file.owner.kind, &file.owner.name)
                .iter()
                .map(|d| workspace.resolve(&parse(d)))
                .collect(),
            files: Vec::new(),
        });
        package.files.push(change);
    };
    match results {
        Some(results) => {
            for result in results {
                add(&result.step.file, report::file_change(result, workspace.resolve(&result.step.file.path)));
            }
        }
        None => {
            for step in planned {
                let action = report::action(&step.file, step.decision, None);
                let path = workspace.resolve(&step.file.path);
                add(&step.file, FileChange { path, target: step.file.target.clone(), action, backup: None });
            }
        }
    }
    for (conflict, new) in kept_aside {
        for package in packages.values_mut().filter(|p| p.name == conflict.name) {
            for file in package.files.iter_mut().filter(|f| f.path == conflict.path) {
                file.action = report::FileAction::Conflict { upstream: Some(conflict.upstream.clone()), new: *new };
            }
        }
    }
    losses(wanted, &packages, report);
    report.packages = packages.into_values().collect();
}

/// What conversions could not carry, for the files written (and the tools that got none).
fn losses(wanted: &model::Wanted, packages: &BTreeMap<AgentName, PackageChange>, report: &mut Report) {
    for package in &wanted.packages {
        let Some(change) = packages.get(&package.pin.name) else { continue };
        let written =
            |path: &RelativePath| change.files.iter().any(|f| f.action.changes() && f.path.ends_with(path.as_str()));
        let mut any_written = false;
        for file in &package.files {
            if !written(&file.path) {
                continue;
            }
            any_written = true;
            for detail in &file.notes {
                push_loss(report, &package.pin, &file.target, detail);
            }
        }
        if any_written {
            for (tool, why) in &package.skipped {
                push_loss(report, &package.pin, tool, why);
            }
        }
    }
}

fn push_loss(report: &mut Report, pin: &agents_format::LockedAgent, target: &str, detail: &str) {
    report.notes.push(format!("{} for {target}: not carried over: {detail}", pin.name));
    report.losses.push(Loss {
        agent: pin.name.clone(),
        kind: pin.kind,
        target: target.to_owned(),
        detail: detail.to_owned(),
    });
}

fn parse(dir: &str) -> RelativePath {
    RelativePath::parse(dir).expect("a package's directory is a plain relative path")
}

/// The agent name a file's front matter declares, read as leniently as a tool's loader: the
/// first top-level `name:` line between the opening `---` and the closing one. Cheap, so a plan
/// can ask it of every file in an agents directory.
fn claimed_name(bytes: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(bytes.get(..bytes.len().min(agents_format::MAX_FRONT_MATTER_LEN + 8))?)
        .or_else(|e| std::str::from_utf8(&bytes[..e.valid_up_to()]))
        .ok()?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = text.strip_prefix("---\n").or_else(|| text.strip_prefix("---\r\n"))?;
    for line in rest.lines() {
        if line.trim_end() == "---" {
            break;
        }
        if let Some(value) = line.strip_prefix("name:") {
            let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
            return (!value.is_empty()).then(|| value.to_owned());
        }
    }
    None
}

/// Refuses a plan that would leave two files in Claude Code's agents directory claiming one agent
/// name (the front matter's `name`): a tool would load two agents under it. Only the agent files
/// the plan writes are read from the plan; the rest of the directory is read from disk.
fn check_names(workspace: &Workspace, root: &Root, steps: &[Step]) -> Result<()> {
    let agents_dir = workspace.placement().agents_dir().to_owned();
    let in_agents_dir = |path: &RelativePath| path.parent_components().collect::<Vec<_>>().join("/") == agents_dir;
    let writes: Vec<&Step> = steps
        .iter()
        .filter(|s| in_agents_dir(&s.file.path) && s.file.owner.kind == Kind::Agent)
        .filter(|s| matches!(s.decision, Decision::Write(_) | Decision::BackUpThenWrite(_) | Decision::Merge(_)))
        .collect();
    if writes.is_empty() {
        return Ok(());
    }
    let mut claims: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut claim = |name: String, path: PathBuf| -> Result<()> {
        match claims.get(&name) {
            Some(first) if *first != path => {
                Err(WorkspaceError::DuplicateName { name, first: first.clone(), second: path })
            }
            _ => {
                claims.insert(name, path);
                Ok(())
            }
        }
    };
    for step in &writes {
        let bytes = step.file.want.as_ref().and_then(|w| w.bytes.as_deref()).unwrap_or_default();
        let claimed = claimed_name(bytes).unwrap_or_else(|| step.file.owner.name.to_string());
        claim(claimed, root.absolute(&step.file.path))?;
    }
    let planned: Vec<PathBuf> = writes.iter().map(|s| root.absolute(&s.file.path)).collect();
    // Files already in the agents directory that this plan does not write.
    let Ok(entries) = std::fs::read_dir(workspace.agents_dir.as_path()) else { return Ok(()) };
    for entry in entries.flatten() {
        let path = entry.path();
        if planned.contains(&path) || path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let Ok(relative) = RelativePath::parse(&format!("{agents_dir}/{}", entry.file_name().to_string_lossy())) else {
            continue;
        };
        let Ok(Some(bytes)) = root.read(&relative, agents_format::MAX_AGENT_FILE_LEN as u64) else { continue };
        let claimed = claimed_name(&bytes)
            .unwrap_or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
        claim(claimed, path)?;
    }
    Ok(())
}
