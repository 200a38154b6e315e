//! `agents import` (publish an existing collection in one commit) and `agents new` (scaffold).

use std::collections::BTreeMap;
use std::io::Write as _;

use agents_format::{AgentFile, AgentName, KNOWN_MODELS, Kind, Sha256, Source};
use agents_registry::Publish;
use anyhow::{Context as _, bail};

use crate::cli::{Bump, ImportArgs, NewArgs};
use crate::commands::publish::writable_registry;
use crate::context::{Context, now};
use crate::printer::Printer;

#[derive(serde::Serialize)]
struct ImportReport {
    registry: String,
    imported: Vec<Imported>,
    /// Files whose exact bytes are already published: nothing to do.
    unchanged: Vec<Imported>,
    skipped: Vec<SkippedFile>,
    /// What was imported all the same but may not be what its author meant (a skill published
    /// under its directory's name), each also printed as a warning.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<Warned>,
}

#[derive(serde::Serialize)]
struct Warned {
    file: String,
    warning: String,
}

#[derive(serde::Serialize)]
struct Imported {
    name: String,
    #[serde(skip_serializing_if = "agents_format::Kind::is_agent")]
    kind: agents_format::Kind,
    version: String,
    file: String,
    /// The latest version published before, when this is a changed file (a re-import).
    #[serde(skip_serializing_if = "Option::is_none")]
    previous: Option<String>,
}

#[derive(serde::Serialize)]
struct SkippedFile {
    file: String,
    reason: String,
}

pub(crate) fn import(context: &Context, printer: &Printer, args: ImportArgs) -> anyhow::Result<i32> {
    let entry = writable_registry(context, args.registry.as_deref())?;
    let cache = context.cache()?;
    let local = context.cwd.join(&args.source);
    // A clone of a remote collection lives only as long as the import.
    let _clone;
    let root = if local.is_dir() {
        local.canonicalize()?
    } else {
        let temp = tempfile::Builder::new().prefix("agents-import-").tempdir()?;
        let destination = temp.path().join("collection");
        printer.status("Cloning", &args.source);
        agents_registry::clone_collection(&args.source, &destination, &net_of(context)?)?;
        _clone = temp;
        destination
    };
    // What names this collection in the records it writes: the URL it was cloned from, or the
    // origin of the repository a local directory is in (nothing for a directory outside git).
    let origin = if local.is_dir() { agents_registry::collection_origin(&root) } else { Some(args.source.clone()) };
    let collection = origin.as_deref().and_then(agents_format::collection_identity);
    let source_of = |plugin: Option<&str>| {
        collection
            .as_ref()
            .map(|collection| Source { collection: collection.clone(), plugin: plugin.map(str::to_owned) })
    };
    if !args.split
        && let Some((plugins, skipped)) = agents_registry::find_marketplace_plugins(&root, &args.plugins)?
    {
        return import_whole_plugins(context, printer, &args, (&entry, collection.as_deref()), plugins, skipped);
    }
    // A plugin's own directory is one plugin.
    if !args.split && crate::commands::package::is_plugin_directory(&root) {
        let plugin = agents_registry::FoundPackage {
            kind: Kind::Plugin,
            label: args.source.clone(),
            path: root.clone(),
            plugin: None,
            entry: None,
        };
        return import_whole_plugins(
            context,
            printer,
            &args,
            (&entry, collection.as_deref()),
            vec![plugin],
            Vec::new(),
        );
    }
    let (found, skipped_parts) = agents_registry::find_agent_files(&root, &args.plugins)?;
    // Skills and slash commands are imported as what they are (below), not reported as skipped.
    let mut skipped: Vec<SkippedFile> = skipped_parts
        .into_iter()
        .filter(|s| !agents_registry::is_in_package(&root, &root.join(&s.label)))
        .map(|s| SkippedFile { file: s.label, reason: s.reason })
        .collect();
    let deny_hidden = context.deny_hidden_unicode()?;
    // The registry as it is now: a re-import publishes only the files whose bytes changed.
    let workspace = context.workspace();
    let mut registries = context.registries(&workspace, agents_registry::FetchMode::Always)?;
    let registry = registries.open(&entry.name)?;

    // (label, bytes, version, name, the latest version published before, where it is from)
    type Accepted = (String, Vec<u8>, semver::Version, String, Option<semver::Version>, Option<Source>);
    let mut accepted: Vec<Accepted> = Vec::new();
    let mut unchanged = Vec::new();
    let mut taken: BTreeMap<AgentName, Taken> = BTreeMap::new();
    let mut warnings: Vec<Warned> = Vec::new();
    for file in found {
        // SKILL.md, a skill's references and commands are imported as what they are, below.
        if agents_registry::is_in_package(&root, &root.join(&file.label)) {
            continue;
        }
        let skip = |reason: String| SkippedFile { file: file.label.clone(), reason };
        // Only a regular file inside the collection, bounded; a bad entry is skipped, not fatal.
        let bytes = match agents_registry::read_found(&file) {
            Ok(bytes) => bytes,
            Err(error) => {
                skipped.push(skip(error.to_string()));
                continue;
            }
        };
        let agent = match AgentFile::parse(&bytes) {
            Ok(agent) => agent,
            Err(error) => {
                skipped.push(skip(format!("not a valid agent file: {error}")));
                continue;
            }
        };
        if let Some(first) = taken.get(&agent.name) {
            skipped.push(skip(first.clash(&agent.name, Kind::Agent, file.plugin.as_deref())));
            continue;
        }
        // Under a deny policy the gate in `prepare_record` refuses the file (below); otherwise warn.
        if agent.has_hidden_unicode() && !deny_hidden {
            printer.warn(format!("{} contains hidden Unicode (see `agents lint`)", file.label));
        }
        let published = match registry.index_file(&agent.name) {
            Ok(index) => index.unwrap_or_default(),
            Err(error) => {
                skipped.push(skip(error.to_string()));
                continue;
            }
        };
        let sha256 = Sha256::of(&bytes);
        if let Some(same) = published.records().find(|r| r.sha256 == sha256) {
            taken.insert(agent.name.clone(), Taken::new(&file.label, file.plugin.as_deref(), Kind::Agent));
            unchanged.push(Imported {
                name: agent.name.to_string(),
                kind: agents_format::Kind::Agent,
                version: same.version.to_string(),
                file: file.label.clone(),
                previous: None,
            });
            continue;
        }
        let source = source_of(file.plugin.as_deref());
        let unrecorded = match check_source(&published, Kind::Agent, source.as_ref(), &agent.name, &entry.name) {
            Ok(unrecorded) => unrecorded,
            Err(reason) => {
                skipped.push(skip(reason));
                continue;
            }
        };
        let latest = published.records().map(|r| r.version.clone()).max();
        let version = match (&args.version, agent.semver()) {
            _ if args.bump.is_some() && latest.is_some() => {
                bumped(latest.as_ref().expect("checked above"), args.bump.expect("checked above"))
            }
            (Some(version), _) => version.clone(),
            (None, Some(Ok((version, completed)))) => {
                if completed {
                    printer.note(
                        "note",
                        format!(
                            "{}: `version: {}` published as {version}",
                            file.label,
                            agent.version.as_deref().unwrap_or_default()
                        ),
                    );
                }
                version
            }
            (None, Some(Err(error))) => {
                let text = agent.version.as_deref().unwrap_or_default();
                skipped.push(skip(format!("`version: {text}` is not a semantic version: {error}")));
                continue;
            }
            (None, None) => semver::Version::new(1, 0, 0),
        };
        if let Some(latest) = &latest
            && published.claims(&version)
        {
            skipped.push(skip(changed_since(&version, latest, unrecorded.as_deref())));
            continue;
        }
        if let Some(unrecorded) = &unrecorded {
            warnings.push(Warned { file: file.label.clone(), warning: format!("{unrecorded}: taken for this one's") });
        }
        let request = Publish {
            bytes: &bytes,
            label: &file.label,
            version: Some(version.clone()),
            now: now(),
            deny_hidden_unicode: deny_hidden,
            requires: &[],
            allow_unloadable: args.allow_unloadable,
            source: source.clone(),
        };
        if let Err(error) = agents_registry::prepare_record(&request) {
            skipped.push(skip(error.to_string()));
            continue;
        }
        if agent.claude_code_cannot_load() {
            printer.warn(format!(
                "{} is imported under --allow-unloadable: Claude Code cannot parse its front matter and will not \
                 load it where it is installed (see `agents lint`)",
                file.label
            ));
        }
        taken.insert(agent.name.clone(), Taken::new(&file.label, file.plugin.as_deref(), Kind::Agent));
        accepted.push((file.label, bytes, version, agent.name.to_string(), latest, source));
    }

    let requests: Vec<Publish<'_>> = accepted
        .iter()
        .map(|(label, bytes, version, _, _, source)| Publish {
            bytes,
            label,
            version: Some(version.clone()),
            now: now(),
            deny_hidden_unicode: deny_hidden,
            requires: &[],
            allow_unloadable: args.allow_unloadable,
            source: source.clone(),
        })
        .collect();
    // A signed registry takes only signed records: the same key as `agents publish` would use.
    let signer = crate::commands::owner::signer(context, None)?;
    let outcomes = agents_registry::publish_many_signed(&cache, &entry.name, &entry.url, &requests, signer.as_deref())?;
    let mut imported = Vec::new();
    for ((label, _, version, name, previous, _), outcome) in accepted.iter().zip(outcomes) {
        match outcome {
            Ok(_) => imported.push(Imported {
                name: name.clone(),
                kind: agents_format::Kind::Agent,
                version: version.to_string(),
                file: label.clone(),
                previous: previous.as_ref().map(ToString::to_string),
            }),
            Err(error) => skipped.push(SkippedFile { file: label.clone(), reason: error.to_string() }),
        }
    }
    let options = PackageOptions {
        version: args.version.as_ref(),
        bump: args.bump,
        deny_hidden_unicode: deny_hidden,
        collection: collection.as_deref(),
    };
    let (packages, not_packages) = agents_registry::find_collection_packages(&root, &args.plugins)?;
    skipped.extend(not_packages.into_iter().map(|s| SkippedFile { file: s.label, reason: s.reason }));
    let outcome = import_packages(context, &cache, &entry, registry, &packages, &options, &mut taken)?;
    let package_count = outcome.imported.len();
    imported.extend(outcome.imported);
    unchanged.extend(outcome.unchanged);
    skipped.extend(outcome.skipped);
    warnings.extend(outcome.warnings);
    for warned in &warnings {
        printer.warn(format!("{}: {}", warned.file, warned.warning));
    }
    let report = ImportReport { registry: entry.name.clone(), imported, unchanged, skipped, warnings };
    if args.json {
        printer.json(&report);
    } else {
        print_skipped(printer, &report.skipped, context.verbose);
        for changed in report.imported.iter().filter(|i| i.previous.is_some()) {
            printer.status(
                "Changed",
                format!(
                    "{} v{} → v{} ({})",
                    changed.name,
                    changed.previous.as_deref().unwrap_or("?"),
                    changed.version,
                    changed.file
                ),
            );
        }
        let packages =
            if package_count == 0 { String::new() } else { format!(" and {package_count} skill(s) or command(s)") };
        printer.status(
            "Imported",
            format!(
                "{} agent(s){packages} to registry `{}` ({} changed), {} unchanged, skipped {}",
                report.imported.len() - package_count,
                report.registry,
                report.imported.iter().filter(|i| i.previous.is_some()).count(),
                report.unchanged.len(),
                report.skipped.len()
            ),
        );
    }
    Ok(0)
}

/// A marketplace imported plugin by plugin, each one package of kind `plugin` (its namespace,
/// hooks, MCP servers and scripts with it).
fn import_whole_plugins(
    context: &Context,
    printer: &Printer,
    args: &ImportArgs,
    (entry, collection): (&agents_workspace::RegistryEntry, Option<&str>),
    plugins: Vec<agents_registry::FoundPackage>,
    not_found: Vec<agents_registry::Skipped>,
) -> anyhow::Result<i32> {
    let cache = context.cache()?;
    let workspace = context.workspace();
    let mut registries = context.registries(&workspace, agents_registry::FetchMode::Always)?;
    let registry = registries.open(&entry.name)?;
    let options = PackageOptions {
        version: args.version.as_ref(),
        bump: args.bump,
        deny_hidden_unicode: context.deny_hidden_unicode()?,
        collection,
    };
    let mut taken = BTreeMap::new();
    let outcome = import_packages(context, &cache, entry, registry, &plugins, &options, &mut taken)?;
    let mut skipped: Vec<SkippedFile> =
        not_found.into_iter().map(|s| SkippedFile { file: s.label, reason: s.reason }).collect();
    skipped.extend(outcome.skipped);
    let report = ImportReport {
        registry: entry.name.clone(),
        imported: outcome.imported,
        unchanged: outcome.unchanged,
        skipped,
        warnings: outcome.warnings,
    };
    if args.json {
        printer.json(&report);
        return Ok(0);
    }
    for note in &outcome.notes {
        printer.note("note", note);
    }
    for warned in &report.warnings {
        printer.warn(format!("{}: {}", warned.file, warned.warning));
    }
    print_skipped(printer, &report.skipped, context.verbose);
    printer.status(
        "Imported",
        format!(
            "{} plugin(s) whole to registry `{}` ({} changed), {} unchanged, skipped {} (--split takes plugins apart)",
            report.imported.len(),
            report.registry,
            report.imported.iter().filter(|i| i.previous.is_some()).count(),
            report.unchanged.len(),
            report.skipped.len()
        ),
    );
    Ok(0)
}

/// Whether a changed `name` (of `kind`) may take a new version from this import, whose source is
/// `ours`: refused, with why, when its latest version was imported from another collection (a
/// registry knows a package by its name: another collection's package is never replaced, under
/// `--bump` neither); `Ok(Some(note))` when that version records no source (published with
/// `agents publish`, or by an older client), so which collection it is cannot be told.
fn check_source(
    published: &agents_format::IndexFile,
    kind: Kind,
    ours: Option<&Source>,
    name: &AgentName,
    registry: &str,
) -> Result<Option<String>, String> {
    let Some(latest) = published.records().filter(|r| r.kind == kind).max_by(|a, b| a.version.cmp(&b.version)) else {
        return Ok(None);
    };
    let version = &latest.version;
    match (latest.source(), ours) {
        (Some(theirs), Some(ours)) if theirs.same_collection(ours) => Ok(None),
        (Some(theirs), ours) => {
            let ours = ours.map_or("a directory with no git remote".to_owned(), |ours| ours.collection.clone());
            Err(format!(
                "`{name}` in registry `{registry}` is another collection's: v{version} was imported from {theirs}, \
                 and this is {ours}; a registry knows a package by its name, so it is left as it is (--bump does \
                 not replace it): import this collection into another registry (`--registry OTHER`)"
            ))
        }
        (None, _) => Ok(Some(format!(
            "`{name}` v{version} in registry `{registry}` records no source (published with `agents publish`, or by \
             an older agents), so whether it is this collection's cannot be told"
        ))),
    }
}

/// Why a changed file whose version is already published is skipped, and what to do.
fn changed_since(version: &semver::Version, latest: &semver::Version, unrecorded: Option<&str>) -> String {
    let changed = format!(
        "changed since v{version} was published (latest v{latest}): pass --bump patch|minor|major to publish the \
         changed files as new versions"
    );
    match unrecorded {
        None => changed,
        Some(note) => format!(
            "{changed}, if it is this collection's; {note}: if it is another's, import this collection into \
             another registry (`--registry OTHER`)"
        ),
    }
}

/// `latest` with the part `bump` names raised (and the parts after it reset).
fn bumped(latest: &semver::Version, bump: Bump) -> semver::Version {
    match bump {
        Bump::Patch => semver::Version::new(latest.major, latest.minor, latest.patch + 1),
        Bump::Minor => semver::Version::new(latest.major, latest.minor + 1, 0),
        Bump::Major => semver::Version::new(latest.major + 1, 0, 0),
    }
}

/// What took a name earlier in this import: the first file (or skill directory) to claim a name
/// keeps it, in the collection's order.
struct Taken {
    label: String,
    plugin: Option<String>,
    kind: Kind,
}

impl Taken {
    fn new(label: &str, plugin: Option<&str>, kind: Kind) -> Taken {
        Taken { label: label.to_owned(), plugin: plugin.map(str::to_owned), kind }
    }

    /// Why `name`, of `kind` in `plugin`, cannot be imported after this.
    fn clash(&self, name: &AgentName, kind: Kind, plugin: Option<&str>) -> String {
        let first = &self.label;
        let article = if self.kind == Kind::Agent { "an" } else { "a" };
        let what = match (&self.plugin, self.kind == kind) {
            (Some(a), true) => format!(" (plugin `{a}`)"),
            (Some(a), false) => format!(" ({article} {}, plugin `{a}`; one name, one kind)", self.kind),
            (None, true) => String::new(),
            (None, false) => format!(" ({article} {}; one name, one kind)", self.kind),
        };
        match (self.plugin.as_deref(), plugin) {
            (Some(a), Some(b)) if a != b => format!(
                "`{name}` is already taken by {first}{what}; Claude Code keeps them apart as \
                 `{a}:{name}` and `{b}:{name}`, but a registry knows a package by its name: import plugin `{b}` \
                 into another registry (`--plugin {b} --registry OTHER`)"
            ),
            _ => format!("`{name}` is already taken by {first}{what}"),
        }
    }
}

/// How `import` versions and gates the skills and commands it publishes.
struct PackageOptions<'a> {
    version: Option<&'a semver::Version>,
    bump: Option<Bump>,
    deny_hidden_unicode: bool,
    /// The collection's identity, recorded with each package (`agents_format::Source`).
    collection: Option<&'a str>,
}

#[derive(Default)]
struct PackageOutcome {
    imported: Vec<Imported>,
    unchanged: Vec<Imported>,
    skipped: Vec<SkippedFile>,
    warnings: Vec<Warned>,
    /// What was done to a package to publish it (a plugin's manifest taken from its entry).
    notes: Vec<String>,
}

/// What `found` publishes: its files, and for a marketplace plugin the version and requirements
/// its entry gives where its own manifest is silent.
fn read_found_package(
    found: &agents_registry::FoundPackage,
    notes: &mut Vec<String>,
) -> Result<(agents_registry::SkillDirectory, Option<semver::Version>, Vec<agents_format::Requirement>), String> {
    if found.kind != Kind::Plugin {
        return agents_registry::read_package(&found.path, found.kind)
            .map(|read| (read, None, Vec::new()))
            .map_err(|error| error.to_string());
    }
    let plugin = agents_registry::read_marketplace_plugin(found).map_err(|error| error.to_string())?;
    notes.extend(plugin.notes.iter().map(|note| format!("{}: {note}", found.label)));
    let mut requires = Vec::new();
    for dependency in &plugin.dependencies {
        let range = dependency.range.as_deref().unwrap_or("*");
        let requirement = agents_format::parse_version_req(range)
            .map_err(|message| format!("dependency `{}` in its marketplace entry: {message}", dependency.name))?;
        requires.push(agents_format::Requirement { name: dependency.name.clone(), requirement, registry: None });
    }
    Ok((plugin.files, plugin.version, requires))
}

/// Publishes the skills and commands of the collection, one commit each (a package is several
/// bodies and one record; the agents went in one commit before). A version comes from
/// `--version`, else the package's own `version` field, else 1.0.0, as for agents; as for
/// agents, a package whose digest is already published is unchanged, and a changed one takes its
/// latest version bumped under `--bump`. A name an earlier agent or package of the collection
/// took is refused, with the one that took it.
fn import_packages(
    context: &Context,
    cache: &agents_registry::Cache,
    entry: &agents_workspace::RegistryEntry,
    registry: &agents_registry::Registry,
    packages: &[agents_registry::FoundPackage],
    options: &PackageOptions<'_>,
    taken: &mut BTreeMap<AgentName, Taken>,
) -> anyhow::Result<PackageOutcome> {
    let mut out = PackageOutcome::default();
    let signer = crate::commands::owner::signer(context, None)?;
    for found in packages {
        let skip = |reason: String| SkippedFile { file: found.label.clone(), reason };
        let (read, entry_version, requires) = match read_found_package(found, &mut out.notes) {
            Ok(read) => read,
            Err(error) => {
                out.skipped.push(skip(error));
                continue;
            }
        };
        // Hidden entries (`.DS_Store`) are never published, as `agents publish` says too.
        for hidden in &read.skipped {
            out.skipped.push(SkippedFile {
                file: format!("{}/{hidden}", found.label),
                reason: format!("a hidden entry of a {}: never published", found.kind),
            });
        }
        let directory_name = found.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut request = agents_registry::PublishPackage {
            kind: found.kind,
            label: &found.label,
            directory_name: &directory_name,
            files: read.files,
            version: options.version.cloned().or(entry_version),
            now: now(),
            deny_hidden_unicode: options.deny_hidden_unicode,
            requires,
            source: options
                .collection
                .map(|collection| Source { collection: collection.to_owned(), plugin: found.plugin.clone() }),
        };
        let prepared = match agents_registry::prepare_package(&request) {
            Err(agents_registry::RegistryError::NoVersion { .. }) => {
                request.version = Some(semver::Version::new(1, 0, 0));
                agents_registry::prepare_package(&request)
            }
            other => other,
        };
        let prepared = match prepared {
            Ok(prepared) => prepared,
            Err(error) => {
                out.skipped.push(skip(error.to_string()));
                continue;
            }
        };
        if let Some(first) = taken.get(&prepared.name) {
            out.skipped.push(skip(first.clash(&prepared.name, found.kind, found.plugin.as_deref())));
            continue;
        }
        let published = match registry.index_file(&prepared.name) {
            Ok(index) => index.unwrap_or_default(),
            Err(error) => {
                out.skipped.push(skip(error.to_string()));
                continue;
            }
        };
        let report = |version: &semver::Version, previous: Option<&semver::Version>| Imported {
            name: prepared.name.to_string(),
            kind: found.kind,
            version: version.to_string(),
            file: found.label.clone(),
            previous: previous.map(ToString::to_string),
        };
        if let Some(same) = published.records().find(|r| r.kind == found.kind && r.sha256 == prepared.sha256) {
            taken.insert(prepared.name.clone(), Taken::new(&found.label, found.plugin.as_deref(), found.kind));
            out.unchanged.push(report(&same.version, None));
            continue;
        }
        let unrecorded =
            match check_source(&published, found.kind, request.source.as_ref(), &prepared.name, &entry.name) {
                Ok(unrecorded) => unrecorded,
                Err(reason) => {
                    out.skipped.push(skip(reason));
                    continue;
                }
            };
        let latest = published.records().filter(|r| r.kind == found.kind).map(|r| r.version.clone()).max();
        let version = match (options.bump, &latest) {
            (Some(bump), Some(latest)) => bumped(latest, bump),
            _ => prepared.version.clone(),
        };
        if let Some(latest) = &latest
            && published.claims(&version)
        {
            out.skipped.push(skip(changed_since(&version, latest, unrecorded.as_deref())));
            continue;
        }
        if let Some(unrecorded) = &unrecorded {
            let warning = format!("{unrecorded}: taken for this one's");
            out.warnings.push(Warned { file: found.label.clone(), warning });
        }
        request.version = Some(version);
        match agents_registry::publish_package(cache, &entry.name, &entry.url, &request, signer.as_deref()) {
            Ok(record) => {
                taken.insert(record.name.clone(), Taken::new(&found.label, found.plugin.as_deref(), found.kind));
                out.imported.push(report(&record.version, latest.as_ref()));
                let warnings = [
                    agents_registry::skill_name_warning(&request),
                    (found.kind == Kind::Command)
                        .then(|| agents_format::builtin_command_warning(record.name.as_str()))
                        .flatten(),
                ];
                for warning in warnings.into_iter().flatten() {
                    out.warnings.push(Warned { file: found.label.clone(), warning });
                }
            }
            Err(error) => out.skipped.push(skip(error.to_string())),
        }
    }
    Ok(out)
}

fn net_of(context: &Context) -> anyhow::Result<agents_registry::NetConfig> {
    Ok(agents_registry::NetConfig {
        git_fetch_with_cli: context.git_fetch_with_cli()?,
        home: Some(context.dirs.home.clone()),
        default_username: std::env::var("USER").ok(),
        progress: None,
    })
}

pub(crate) fn new(context: &Context, printer: &Printer, args: NewArgs) -> anyhow::Result<i32> {
    let name = AgentName::new(&args.name)?;
    if !KNOWN_MODELS.contains(&args.model.as_str()) && !args.model.starts_with("claude-") {
        bail!("unknown model `{}` (expected one of {} or a `claude-…` id)", args.model, KNOWN_MODELS.join(", "));
    }
    let path = args.output.map_or_else(|| context.cwd.join(name.file_name()), |p| context.cwd.join(p));
    if path.exists() {
        bail!("{} already exists; agents new never overwrites a file", printer.path(&path));
    }
    let description = args.description.unwrap_or_else(|| {
        format!("Use this agent when the task calls for {name}. Say when Claude should delegate to it.")
    });
    let tools = args.tools.map(|t| format!("tools: {t}\n")).unwrap_or_default();
    let title = name.as_str().replace(['-', '_', '.'], " ");
    let text = format!(
        "---\nname: {name}\ndescription: {}\n{tools}model: {}\nversion: 0.1.0\n---\n\n\
         You are a {title} specialist.\n\n## How you work\n\n\
         - Start by restating the task and the constraints you were given.\n\
         - Prefer small, verifiable steps; show what you checked.\n\n\
         ## What you report\n\nSummarise what you did, what you found, and what is left to do.\n",
        serde_json::to_string(&description)?,
        args.model,
    );
    AgentFile::parse(text.as_bytes()).context("the scaffold did not parse (a bug)")?;
    // create_new: never overwrite, even a file that appeared since the check above.
    let mut file = std::fs::File::options()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
    printer.status(
        "Created",
        format!("{} (check it with `agents lint`, share it with `agents publish`)", printer.path(&path)),
    );
    Ok(0)
}

/// Each skipped file with its reason; past a screenful, one line per kind of reason with a
/// count (a collection of hundreds of skills would otherwise print hundreds of lines), each file
/// under `-v` or in `--json`.
fn print_skipped(printer: &Printer, skipped: &[SkippedFile], verbose: bool) {
    const MAX_LISTED: usize = 20;
    if verbose || skipped.len() <= MAX_LISTED {
        for skipped in skipped {
            printer.warn(format!("skipped {}: {}", skipped.file, skipped.reason));
        }
        return;
    }
    let mut kinds: Vec<(String, usize, &str)> = Vec::new();
    for file in skipped {
        // A reason that names its own file (`x.md has no …`) groups with the others like it.
        let kind = reason_kind(&file.reason.replace(&file.file, "…"));
        match kinds.iter_mut().find(|(k, _, _)| *k == kind) {
            Some((_, count, _)) => *count += 1,
            None => kinds.push((kind, 1, &file.file)),
        }
    }
    for (kind, count, first) in &kinds {
        match count {
            1 => printer.warn(format!("skipped {first}: {kind}")),
            _ => printer.warn(format!("skipped {count} files: {kind} (first: {first})")),
        }
    }
    printer.note("note", "run with -v (or --json) for each skipped file");
}

/// A skip reason with its particulars (what is quoted in backticks) left out, for grouping.
fn reason_kind(reason: &str) -> String {
    let mut kind = String::new();
    for (index, part) in reason.split('`').enumerate() {
        kind.push_str(if index % 2 == 1 { "`…`" } else { part });
    }
    kind
}
