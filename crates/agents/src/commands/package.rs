//! `agents publish DIR` (a skill) and `agents publish FILE --kind command`: packages.

use agents_format::Kind;
use agents_registry::PublishPackage;
use std::path::Path;

use anyhow::{Context as _, bail};

use crate::cli::PublishArgs;
use crate::context::{Context, now};
use crate::printer::Printer;

/// The kind `args` publishes when it is a package: `--kind`, else a directory is a skill and a
/// file inside a `commands/` directory a command. `None`: an agent, published as before.
pub(crate) fn kind_of(args: &PublishArgs, file: &Path) -> anyhow::Result<Option<Kind>> {
    let kind = match args.kind.as_deref() {
        Some("bundle") => bail!("a bundle has no file: publish it with `--bundle NAME`"),
        Some(text) => {
            Kind::parse(text).with_context(|| format!("unknown kind `{text}`: agent, skill, command or plugin"))?
        }
        None if is_plugin_directory(file) => Kind::Plugin,
        None if std::fs::symlink_metadata(file).is_ok_and(|m| m.is_dir()) => Kind::Skill,
        None if file.parent().and_then(|p| p.file_name()).is_some_and(|n| n == "commands") => Kind::Command,
        None => Kind::Agent,
    };
    Ok((!kind.is_agent()).then_some(kind))
}

/// Whether `path` is a plugin's directory: it holds a Claude Code plugin manifest, or an Agent
/// Plugins `plugin.json` (without following links).
pub(crate) fn is_plugin_directory(path: &Path) -> bool {
    let is_file = |below: &str| std::fs::symlink_metadata(path.join(below)).is_ok_and(|m| m.is_file());
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
        && (is_file(agents_format::CLAUDE_PLUGIN_MANIFEST) || is_file(agents_format::AGENT_PLUGINS_MANIFEST))
}

pub(crate) fn publish(
    context: &Context,
    printer: &Printer,
    args: PublishArgs,
    kind: Kind,
    file: &Path,
) -> anyhow::Result<i32> {
    let label = printer.path(file);
    let is_dir = std::fs::symlink_metadata(file).is_ok_and(|m| m.is_dir());
    match kind {
        Kind::Skill if !is_dir => bail!("{label}: a skill is published from its directory (the one holding SKILL.md)"),
        Kind::Command if is_dir => bail!("{label}: a command is one file"),
        Kind::Plugin if !is_dir => {
            bail!("{label}: a plugin is published from its directory (the one holding .claude-plugin/)")
        }
        _ => {}
    }
    let read = agents_registry::read_package(file, kind).with_context(|| format!("{label} is refused"))?;
    for skipped in &read.skipped {
        printer.warn(format!("{label}: left out {skipped}: hidden files are not published"));
    }
    let files = read.files;
    let directory_name = file.canonicalize().ok().and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()));
    let directory_name = directory_name.unwrap_or_default();
    let deny_hidden_unicode = args.deny_hidden_unicode || context.deny_hidden_unicode()?;
    let entry = crate::commands::publish::writable_registry(context, args.registry.as_deref())?;
    let request = PublishPackage {
        kind,
        label: &label,
        directory_name: &directory_name,
        files,
        version: args.version.clone(),
        now: now(),
        deny_hidden_unicode,
        requires: crate::commands::publish::requirements(context, &entry, &args.requires)?,
        source: None,
    };
    // Every check of the package before any registry is contacted.
    agents_registry::prepare_package(&request).with_context(|| format!("{label} is refused"))?;
    if let Some(warning) = agents_registry::skill_name_warning(&request) {
        printer.warn(format!("{label}: {warning}"));
    }
    let cache = context.cache()?;
    let signer = crate::commands::owner::signer(context, args.sign_key.as_deref())?;
    let record = agents_registry::publish_package(&cache, &entry.name, &entry.url, &request, signer.as_deref())?;
    printer.status(
        "Published",
        format!(
            "{} {} v{} ({} files) to registry `{}` ({})",
            record.kind,
            record.name,
            record.version,
            record.files.len(),
            entry.name,
            entry.url
        ),
    );
    Ok(0)
}
