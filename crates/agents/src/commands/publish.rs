//! `agents publish FILE`: validate an agent file and publish it to a git registry.

use agents_format::{AgentFile, AgentName, MAX_AGENT_FILE_LEN};
use agents_registry::{BUILTIN_NAME, Publish};
use agents_workspace::{Origin, RegistryEntry};
use anyhow::{Context as _, bail};

use crate::cli::{PublishArgs, YankArgs};
use crate::context::{Context, now};
use crate::printer::Printer;

pub(crate) fn publish(context: &Context, printer: &Printer, args: PublishArgs) -> anyhow::Result<i32> {
    let label = printer.path(&args.file);
    let length = std::fs::metadata(&args.file).with_context(|| format!("cannot read {label}"))?.len();
    if length > MAX_AGENT_FILE_LEN as u64 {
        bail!("{label} is {length} bytes, over the limit of {MAX_AGENT_FILE_LEN} bytes");
    }
    let bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {label}"))?;
    // Parse first so a bad file is reported before any registry is contacted.
    let file = AgentFile::parse(&bytes).with_context(|| format!("{label} is not a valid agent file"))?;
    if file.has_hidden_unicode() && (args.deny_hidden_unicode || context.deny_hidden_unicode()?) {
        bail!(
            "{label} contains hidden Unicode characters (see `agents lint {label}`), refused by --deny-hidden-unicode"
        );
    }
    for warning in &file.warnings {
        printer.warn(format!("{label}: {warning}"));
    }

    let entry = writable_registry(context, args.registry.as_deref())?;
    let cache = context.cache()?;
    let request = Publish { bytes: &bytes, label: &label, version: args.version, now: now() };
    let record = agents_registry::publish(&cache, &entry.name, &entry.url, &request)?;
    printer.status(
        "Published",
        format!("{} v{} to registry `{}` ({})", record.name, record.version, entry.name, entry.url),
    );
    Ok(0)
}

pub(crate) fn yank(context: &Context, printer: &Printer, args: YankArgs) -> anyhow::Result<i32> {
    let (name, version) =
        args.agent.split_once('@').with_context(|| format!("expected NAME@VERSION, got `{}`", args.agent))?;
    let name = AgentName::new(name)?;
    let version: semver::Version = version.parse().with_context(|| format!("invalid version `{version}`"))?;
    let entry = writable_registry(context, args.registry.as_deref())?;
    let cache = context.cache()?;
    let changed = agents_registry::yank(&cache, &entry.name, &entry.url, &name, &version, !args.undo)?;
    let verb = if args.undo { "Unyanked" } else { "Yanked" };
    if changed {
        printer.status(verb, format!("{name}@{version} in registry `{}`", entry.name));
    } else {
        printer.status(
            "Unchanged",
            format!("{name}@{version} was already {}", if args.undo { "not yanked" } else { "yanked" }),
        );
    }
    Ok(0)
}

/// The registry to write to: the one named, or the only non-built-in one configured.
pub(crate) fn writable_registry(context: &Context, name: Option<&str>) -> anyhow::Result<RegistryEntry> {
    let workspace = context.workspace();
    let registries = context.registries(&workspace, agents_registry::FetchMode::Offline)?;
    let candidates: Vec<&RegistryEntry> = registries.entries().iter().filter(|e| e.origin != Origin::Builtin).collect();
    let entry = match name {
        Some(BUILTIN_NAME) => {
            bail!("the built-in registry is part of the agents binary; change it with `cargo xtask registry publish`")
        }
        Some(name) => candidates
            .iter()
            .find(|e| e.name == name)
            .with_context(|| format!("no registry named `{name}` (see `agents registry list`)"))?,
        None => match candidates.as_slice() {
            [only] => only,
            [] => bail!(
                "no registry to write to: create one with `agents registry init PATH` and add it with `agents registry add NAME PATH`"
            ),
            _ => bail!("several registries are configured: choose one with --registry NAME"),
        },
    };
    Ok((*entry).clone())
}
