//! Read-only commands: `list`, `info`, `search`, `verify`.

use agents_format::{AgentName, IndexFile, IndexRecord, select};
use agents_registry::FetchMode;
use agents_workspace::Status;

use super::json;
use crate::cli::{InfoArgs, OutdatedArgs, SearchArgs, VerifyArgs};
use crate::context::Context;
use crate::printer::Printer;

pub(crate) fn list(context: &Context, printer: &Printer, json: bool) -> anyhow::Result<i32> {
    let workspace = context.workspace();
    let statuses = agents_workspace::status(&workspace)?;
    // A manifest that cannot be read is `status`'s error to report; here it only means no list.
    let awaiting = agents_workspace::config_entries::pending_approvals(&workspace).unwrap_or_default();
    if json {
        printer.json(&json::document(json::List { packages: json::packages(&statuses), awaiting_approval: awaiting }));
        return Ok(0);
    }
    for pending in &awaiting {
        let name = pending.subject.strip_prefix("mcp:").unwrap_or(&pending.subject);
        printer.warn(format!(
            "{} awaits your approval to run `{}` (`agents install --allow-exec {name}`)",
            pending.subject,
            pending.lines.join(" ")
        ));
    }
    if statuses.is_empty() {
        printer.status("Finished", "nothing installed here (`agents install NAME` adds a package)");
    }
    let width = statuses.iter().map(|s| s.name.as_str().len()).max().unwrap_or(0);
    // One write for the whole table, not one per line.
    let mut lines: Vec<String> = Vec::with_capacity(statuses.len());
    for status in &statuses {
        let version = status.version.as_ref().map_or("-".to_owned(), |v| format!("v{v}"));
        let mut extra = String::new();
        if !status.kind.is_agent() {
            extra.push_str(&format!(" ({})", status.kind));
        }
        if let Some(conflict) = &status.conflict {
            extra.push_str(&format!(" (v{} kept aside: `agents resolve {}`)", conflict.version, status.name));
        } else if let Some(version) = &status.edited_on {
            extra.push_str(&format!(" (your edits on v{version})"));
        } else if let Some(version) = &status.installed {
            extra.push_str(&format!(" (v{version} installed until you approve: `agents install`)"));
        }
        // A package's status is the worst of its files'; its line names the file that has it
        // when one file does (a deleted converted file, not the Claude Code file beside it),
        // and a line below names each other file that is not as pinned.
        let worst: Vec<&agents_workspace::FileStatus> =
            status.files.iter().filter(|f| f.status == status.status && f.status != Status::Ok).collect();
        let shown = match worst.as_slice() {
            [only] => &only.path,
            _ => &status.path,
        };
        lines.push(format!(
            "{:width$}  {version:10}  {:13}  {}{extra}",
            status.name.as_str(),
            status.status.as_str(),
            printer.path(shown)
        ));
        let listed = |f: &&agents_workspace::FileStatus| {
            !matches!(f.status, Status::Ok | Status::AwaitingApproval) && f.path != *shown
        };
        for file in status.files.iter().filter(listed) {
            lines.push(format!("{:width$}    {} {}", "", file.status.as_str(), printer.path(&file.path)));
        }
    }
    if !lines.is_empty() {
        printer.line(lines.join("\n"));
    }
    Ok(0)
}

pub(crate) fn verify(context: &Context, printer: &Printer, args: VerifyArgs) -> anyhow::Result<i32> {
    let workspace = context.workspace();
    let statuses = agents_workspace::status(&workspace)?;
    let signatures = match statuses.iter().any(|s| s.signer.is_some()) {
        true => recheck_signers(context, &workspace)?,
        false => Vec::new(),
    };
    let failing = |status: Status| status.fails(args.strict);
    let ok = !statuses.iter().flat_map(|s| &s.files).any(|f| failing(f.status)) && signatures.is_empty();
    if args.json {
        printer.json(&json::document(json::Verify {
            ok,
            strict: args.strict,
            packages: json::packages(&statuses),
            signatures,
        }));
        return Ok(if ok { 0 } else { 1 });
    }
    for problem in &signatures {
        printer.error(problem);
    }
    for status in &statuses {
        let version = status.version.as_ref().map(|v| format!(" v{v}")).unwrap_or_default();
        if let Some(installed) = &status.installed {
            printer.error(format!(
                "{}{version} awaits your approval: v{installed}'s files are installed (`agents install` shows what it runs; `agents install --allow-exec {}` approves it)",
                status.name, status.name
            ));
        }
        for file in &status.files {
            let path = printer.path(&file.path);
            let what = match file.status {
                Status::Ok | Status::NotInstalled => continue,
                Status::Missing => "is missing".to_owned(),
                Status::Modified => "does not match the checksum in agents.lock".to_owned(),
                Status::Conflict => {
                    format!("has your edits and an update kept aside (`agents resolve {}` settles it)", status.name)
                }
                Status::Edited => format!("is edited by you on{version} (your edits, kept)"),
                Status::AwaitingApproval => continue,
            };
            let line = format!("{}{version}: {path} {what}", status.name);
            if failing(file.status) { printer.error(line) } else { printer.note("note", line) }
        }
    }
    if ok {
        let installed: Vec<&agents_workspace::PackageStatus> =
            statuses.iter().filter(|s| s.version.is_some()).collect();
        let kinds = super::report::plural(installed.iter().map(|s| s.kind));
        let edited = installed.iter().filter(|s| s.status == Status::Edited).count();
        let edited = if edited > 0 { format!(" ({edited} edited by you)") } else { String::new() };
        let verb = if installed.len() == 1 { "matches" } else { "match" };
        printer.status("Verified", format!("{} {kinds} {verb} agents.lock{edited}", installed.len()));
    }
    Ok(if ok { 0 } else { 1 })
}

/// Every agent whose lockfile entry pins a signer, re-checked against its registry as fetched.
fn recheck_signers(context: &Context, workspace: &agents_workspace::Workspace) -> anyhow::Result<Vec<String>> {
    let (_, lockfile) = workspace.read_lockfile()?;
    let pinned = agents_workspace::signatures::signed_pins(&lockfile);
    if pinned.is_empty() {
        return Ok(Vec::new());
    }
    let mut registries = context.registries(workspace, FetchMode::Always)?;
    let mut problems = Vec::new();
    for name in pinned {
        let locked = lockfile.get(&name).expect("a pinned name is locked");
        let Some(registry_name) = registries.name_for_id(&locked.registry)? else {
            problems.push(format!("{name}@{}: no configured registry has id `{}`", locked.version, locked.registry));
            continue;
        };
        problems.extend(agents_workspace::signatures::recheck(workspace, &mut registries, &registry_name, locked)?);
    }
    Ok(problems)
}

fn latest(index: &IndexFile) -> Option<&IndexRecord> {
    select(index.records(), &semver::VersionReq::STAR)
        .or_else(|| index.records().max_by(|a, b| a.version.cmp(&b.version)))
}

fn mode(offline: bool) -> FetchMode {
    if offline { FetchMode::Offline } else { FetchMode::IfMissing }
}

pub(crate) fn info(context: &Context, printer: &Printer, args: InfoArgs) -> anyhow::Result<i32> {
    let name = AgentName::new(&args.agent)?;
    let workspace = context.workspace();
    let mut registries = context.registries(&workspace, mode(args.offline))?;
    let (registry_name, index) = match &args.registry {
        Some(registry) => {
            let index = match registries.open(registry)?.index_file(&name)? {
                Some(index) => index,
                None => return Err(registries.unknown_agent(&name, std::slice::from_ref(registry)).into()),
            };
            (registry.clone(), index)
        }
        None => registries.locate(&name)?,
    };
    let (_, lockfile) = workspace.read_lockfile()?;
    let installed = lockfile.get(&name).map(|l| l.version.clone());
    let description = latest(&index).and_then(|r| r.description.clone());
    let mut versions: Vec<&IndexRecord> = index.records().collect();
    versions.sort_by(|a, b| b.version.cmp(&a.version));
    if args.json {
        printer.json(&json::document(json::Info {
            name,
            kind: latest(&index).map(|r| r.kind).unwrap_or_default(),
            registry: registry_name,
            description,
            installed,
            versions: versions.into_iter().map(json::Version::from).collect(),
        }));
        return Ok(0);
    }
    let kind = latest(&index).map(|r| r.kind).unwrap_or_default();
    if kind.is_agent() {
        printer.line(format!("{name} (registry `{registry_name}`)"));
    } else {
        printer.line(format!("{name} ({kind}, registry `{registry_name}`)"));
    }
    if let Some(description) = description {
        printer.line(format!("  {description}"));
    }
    if let Some(installed) = installed {
        printer.line(format!("  installed here: v{installed}"));
    }
    printer.line("  versions:");
    for record in versions {
        let yanked = if record.yanked { "  (yanked)" } else { "" };
        printer.line(format!(
            "    {:12} {}  sha256 {}{yanked}",
            record.version.to_string(),
            record.published,
            record.sha256
        ));
        if !record.requires.is_empty() {
            let requires: Vec<String> = record.requires.iter().map(|r| r.to_text()).collect();
            printer.line(format!("    {:12} requires {}", "", requires.join(", ")));
        }
    }
    Ok(0)
}

pub(crate) fn search(context: &Context, printer: &Printer, args: SearchArgs) -> anyhow::Result<i32> {
    let workspace = context.workspace();
    let mut registries = context.registries(&workspace, mode(args.offline))?;
    let query = args.query.join(" ");
    let words: Vec<String> = query.to_lowercase().split_whitespace().map(str::to_owned).collect();
    let names: Vec<String> = registries.entries().iter().map(|e| e.name.clone()).collect();
    let mut hits = Vec::new();
    for registry_name in names {
        let registry = match registries.open(&registry_name) {
            Ok(registry) => registry,
            Err(error) => {
                printer.warn(format!(
                    "skipping registry `{registry_name}`: {}",
                    agents_workspace::control::error_text(&error)
                ));
                continue;
            }
        };
        let summaries = match registry.search(&words) {
            Ok(summaries) => summaries,
            // One registry that cannot be searched (a sparse host without search.json, say)
            // does not hide the others' results.
            Err(error) => {
                printer.warn(format!(
                    "skipping registry `{registry_name}`: {}",
                    agents_workspace::control::error_text(&error)
                ));
                continue;
            }
        };
        for summary in summaries {
            hits.push(json::Hit {
                kind: summary.kind,
                version: summary.version,
                description: summary.description,
                registry: registry_name.clone(),
                name: summary.name,
            });
        }
    }
    // The stable sort keeps registries in search order among hits of one name.
    hits.sort_by_cached_key(|hit| (rank(hit.name.as_str(), &words), hit.name.clone()));
    if args.json {
        printer.json(&json::document(json::Search { packages: hits }));
        return Ok(0);
    }
    if hits.is_empty() {
        match query.is_empty() {
            true => printer.status("Finished", "the registries publish nothing yet"),
            false => printer.status("Finished", format!("no agents match `{query}`")),
        }
    }
    let width = hits.iter().map(|h| h.name.as_str().len()).max().unwrap_or(0);
    let lines = hits.iter().map(|hit| {
        let mut description = hit.description.clone().unwrap_or_default();
        if description.chars().count() > 80 {
            description = description.chars().take(79).collect::<String>() + "\u{2026}";
        }
        // The kind is shown for packages only, so agents' lines stay as they were.
        let kind = if hit.kind.is_agent() { String::new() } else { format!("[{}] ", hit.kind) };
        format!(
            "{:width$}  v{:8}  {:10}  {kind}{description}",
            hit.name.as_str(),
            hit.version.to_string(),
            hit.registry
        )
    });
    // Everything the registries have is more than a screen: it goes through the pager.
    if query.is_empty() {
        printer.paged(lines);
    } else {
        lines.for_each(|line| printer.line(line));
    }
    Ok(0)
}

/// Where a hit for `words` (lowercase) ranks: 0 the name is the query, 1 the name starts with
/// it, 2 the name holds every word, 3 only the description matched. Names break ties.
fn rank(name: &str, words: &[String]) -> u8 {
    let query = words.join("-");
    if words.is_empty() {
        3
    } else if name == query {
        0
    } else if name.starts_with(&query) {
        1
    } else if words.iter().all(|word| name.contains(word.as_str())) {
        2
    } else {
        3
    }
}

pub(crate) fn outdated(context: &Context, printer: &Printer, args: OutdatedArgs) -> anyhow::Result<i32> {
    let workspace = context.workspace();
    let mode = if args.offline { FetchMode::Offline } else { FetchMode::Always };
    let mut registries = context.registries(&workspace, mode)?;
    let outdated = agents_workspace::outdated(&workspace, &mut registries)?;
    if args.json {
        let packages = outdated.iter().map(json::OutdatedPackage::from).collect();
        printer.json(&json::document(json::Outdated { packages }));
        return Ok(0);
    }
    if outdated.is_empty() {
        printer.status("Finished", "every agent is up to date");
        return Ok(0);
    }
    let show = |v: &Option<semver::Version>| v.as_ref().map_or("-".to_owned(), |v| format!("v{v}"));
    let width = outdated.iter().map(|o| o.name.as_str().len()).max().unwrap_or(4).max(4);
    printer.line(format!("{:width$}  {:10}  {:10}  {:10}  registry", "name", "current", "compatible", "latest"));
    for entry in &outdated {
        let mut current = format!("v{}{}", entry.current, if entry.yanked { " (yanked)" } else { "" });
        if !entry.required_by.is_empty() {
            let by: Vec<&str> = entry.required_by.iter().map(AgentName::as_str).collect();
            current.push_str(&format!(" (for {})", by.join(", ")));
        }
        printer.line(format!(
            "{:width$}  {current:10}  {:10}  {:10}  {}",
            entry.name.as_str(),
            show(&entry.compatible),
            show(&entry.latest),
            entry.registry
        ));
    }
    Ok(0)
}
