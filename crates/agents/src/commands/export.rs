//! `agents export`: packages of the registries written out as a Claude Code marketplace
//! directory or an Agent Plugins package (the conversion is `agents_format::export`).

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use agents_format::{AgentName, ExportFile, ExportPackage, FileMode, IndexRecord, Kind, RelativePath};
use agents_registry::FetchMode;
use anyhow::{Context as _, bail};

use crate::cli::{ExportArgs, ExportFormat};
use crate::context::Context;
use crate::printer::Printer;

pub(crate) fn export(context: &Context, printer: &Printer, args: ExportArgs) -> anyhow::Result<i32> {
    let output = context.cwd.join(&args.output);
    if std::fs::read_dir(&output).is_ok_and(|mut entries| entries.next().is_some()) || output.is_file() {
        bail!("{} is not empty; export writes a new directory", printer.path(&output));
    }
    let packages = read_packages(context, &args)?;
    let name = match &args.name {
        Some(name) => AgentName::new(name)?,
        None => default_name(&output, &packages)?,
    };
    let exported = match args.format {
        ExportFormat::ClaudeMarketplace => agents_format::to_claude_marketplace(&name, &packages)?,
        ExportFormat::AgentPlugin => {
            let plugins: Vec<&ExportPackage> = packages.iter().filter(|p| p.kind == Kind::Plugin).collect();
            let (version, description) = match plugins.as_slice() {
                [one] if packages.len() == 1 => (one.version.clone(), one.description.clone()),
                _ => (semver::Version::new(1, 0, 0), None),
            };
            let version = args.version.clone().unwrap_or(version);
            agents_format::to_agent_plugin(&name, &version, description.as_deref(), &packages)?
        }
    };
    write_directory(&output, &exported.files)?;
    for lost in &exported.not_carried {
        printer.warn(format!("not carried: {lost}"));
    }
    let what = match args.format {
        ExportFormat::ClaudeMarketplace => format!("a Claude Code marketplace `{name}`"),
        ExportFormat::AgentPlugin => format!("an Agent Plugins package `{name}`"),
    };
    printer.status(
        "Exported",
        format!("{} package(s) to {} as {what}, {} files", packages.len(), printer.path(&output), exported.files.len()),
    );
    if args.format == ExportFormat::ClaudeMarketplace {
        printer.next(format!("claude plugin marketplace add {}", printer.path(&output)));
    }
    Ok(0)
}

/// Each package the arguments name, its newest version matching the requirement, its signature
/// checked as an install checks it, and every byte verified.
fn read_packages(context: &Context, args: &ExportArgs) -> anyhow::Result<Vec<ExportPackage>> {
    let workspace = context.workspace();
    let mode = if args.offline { FetchMode::Offline } else { FetchMode::IfMissing };
    let mut registries = context.registries(&workspace, mode)?;
    let mut out = Vec::new();
    for spec in &args.packages {
        let (name, requirement) = match spec.split_once('@') {
            Some((name, requirement)) => {
                (name, agents_format::parse_version_req(requirement).map_err(anyhow::Error::msg)?)
            }
            None => (spec.as_str(), semver::VersionReq::STAR),
        };
        let name = AgentName::new(name)?;
        let (registry_name, index) = registries.locate(&name)?;
        let record: IndexRecord = agents_format::select(index.records(), &requirement)
            .cloned()
            .with_context(|| format!("no version of {name} matches {requirement} in registry `{registry_name}`"))?;
        agents_workspace::signatures::accept(&workspace, &mut registries, &registry_name, &record, (None, None))?;
        let registry = registries.open(&registry_name)?;
        let files = if record.is_package() {
            registry
                .package_files(&record)?
                .into_iter()
                .map(|c| ExportFile { path: c.file.path.to_string(), mode: c.file.mode, bytes: c.bytes })
                .collect()
        } else {
            vec![ExportFile { path: name.file_name(), mode: FileMode::Regular, bytes: registry.body(&record)? }]
        };
        out.push(ExportPackage {
            kind: record.kind,
            name,
            version: record.version.clone(),
            description: record.description.clone(),
            files,
        });
    }
    Ok(out)
}

/// The one plugin's name when only a plugin is exported, else the output directory's name.
fn default_name(output: &Path, packages: &[ExportPackage]) -> anyhow::Result<AgentName> {
    if let [one] = packages
        && one.kind == Kind::Plugin
    {
        return Ok(one.name.clone());
    }
    let base = output.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    AgentName::new(&base)
        .with_context(|| format!("name the export with --name (the directory's name `{base}` is none)"))
}

/// Writes `files` into a new directory beside `output`, then renames it into place, so a failed
/// export leaves nothing half written.
fn write_directory(output: &Path, files: &[ExportFile]) -> anyhow::Result<()> {
    let parent = output.parent().context("the output directory has no parent")?;
    std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let temp = tempfile::Builder::new().prefix(".agents-export-").tempdir_in(parent)?;
    for file in files {
        let relative = RelativePath::parse(&file.path).map_err(|e| anyhow::anyhow!("{}: {e}", file.path))?;
        let path = temp.path().join(relative.as_str());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, &file.bytes).with_context(|| format!("cannot write {}", path.display()))?;
        let mode = if file.mode.is_executable() { 0o755 } else { 0o644 };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
    }
    let temp = temp.keep();
    std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(0o755))?;
    if let Err(error) = std::fs::rename(&temp, output) {
        let _ = std::fs::remove_dir_all(&temp);
        return Err(error).with_context(|| format!("cannot create {}", output.display()));
    }
    Ok(())
}
