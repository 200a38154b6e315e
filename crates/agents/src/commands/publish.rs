//! `agents publish FILE`: validate an agent file and publish it to a git registry.

use agents_format::{AgentFile, AgentName, MAX_AGENT_FILE_LEN};
use agents_registry::{BUILTIN_NAME, Publish};
use agents_workspace::{Origin, RegistryEntry};
use anyhow::{Context as _, bail};

use crate::cli::{PublishArgs, YankArgs};
use crate::context::{Context, now};
use crate::printer::Printer;

pub(crate) fn publish(context: &Context, printer: &Printer, args: PublishArgs) -> anyhow::Result<i32> {
    if let Some(bundle) = &args.bundle {
        return publish_bundle(context, printer, &args, bundle);
    }
    let path = args.file.clone().context("publish needs a FILE (or --bundle NAME)")?;
    if let Some(kind) = crate::commands::package::kind_of(&args, &path)? {
        return crate::commands::package::publish(context, printer, args, kind, &path);
    }
    let label = printer.path(&path);
    let bytes = read_agent_file(&path, &label)?;
    // Parse first so a bad file is reported before any registry is contacted.
    let file = AgentFile::parse(&bytes).with_context(|| format!("{label} is not a valid agent file"))?;
    let deny_hidden_unicode = args.deny_hidden_unicode || context.deny_hidden_unicode()?;
    let entry = writable_registry(context, args.registry.as_deref())?;
    let requires = requirements(context, &entry, &args.requires)?;
    let request = Publish {
        bytes: &bytes,
        label: &label,
        version: args.version,
        now: now(),
        deny_hidden_unicode,
        requires: &requires,
        allow_unloadable: args.allow_unloadable,
        source: None,
    };
    // The hidden-Unicode gate (and every other check of the file) before any registry is contacted.
    agents_registry::prepare_record(&request)
        .with_context(|| format!("{label} is refused (see `agents lint {label}`)"))?;
    for warning in &file.warnings {
        printer.warn(format!("{label}: {warning}"));
    }
    if file.claude_code_cannot_load() {
        printer.warn(format!(
            "{label} is published under --allow-unloadable: Claude Code will not load it where it is installed"
        ));
    }
    if request.version.is_none()
        && let Some(Ok((version, true))) = file.semver()
    {
        printer.note(
            "note",
            format!("{label}: `version: {}` published as {version}", file.version.as_deref().unwrap_or_default()),
        );
    }

    let cache = context.cache()?;
    let signer = crate::commands::owner::signer(context, args.sign_key.as_deref())?;

    let record = agents_registry::publish_signed(&cache, &entry.name, &entry.url, &request, signer.as_deref())?;
    // A signature is claimed only where clients check it: a registry with a root key.
    let checked = cache
        .open(&entry.name, &entry.url, agents_registry::FetchMode::Offline)
        .ok()
        .and_then(|registry| agents_registry::signing::registry_root(&registry.config, &entry.name).ok().flatten())
        .is_some();
    let signed = match &signer {
        Some(signer) if record.signature.is_some() && checked => {
            format!(", signed by {}", agents_registry::signing::fingerprint(signer.public_key()))
        }
        Some(_) if record.signature.is_some() => {
            printer.warn(format!(
                "registry `{}` has no root key, so no client checks the signature this publish carries \
                 (`agents registry init --sign-key` makes a signed registry)",
                entry.name
            ));
            String::new()
        }
        _ => String::new(),
    };
    printer.status(
        "Published",
        format!("{} v{} to registry `{}` ({}){signed}", record.name, record.version, entry.name, entry.url),
    );
    Ok(0)
}

/// `agents publish --bundle NAME --version V --description TEXT --requires …`.
fn publish_bundle(context: &Context, printer: &Printer, args: &PublishArgs, name: &str) -> anyhow::Result<i32> {
    let name = AgentName::new(name).with_context(|| format!("`{name}` cannot be a bundle's name"))?;
    let version = args.version.clone().context("a bundle needs --version")?;
    let entry = writable_registry(context, args.registry.as_deref())?;
    let requires = requirements(context, &entry, &args.requires)?;
    let description = args.description.as_deref().unwrap_or_default();
    let record = agents_registry::prepare_bundle(&name, &version, description, &requires, now())
        .with_context(|| format!("bundle {name} is refused"))?;
    let cache = context.cache()?;
    let signer = crate::commands::owner::signer(context, args.sign_key.as_deref())?;
    let record = agents_registry::publish_bundle(&cache, &entry.name, &entry.url, record, signer.as_deref())?;
    printer.status(
        "Published",
        format!(
            "bundle {} v{} ({} requirement{}) to registry `{}` ({})",
            record.name,
            record.version,
            record.requires.len(),
            if record.requires.len() == 1 { "" } else { "s" },
            entry.name,
            entry.url
        ),
    );
    Ok(0)
}

/// The `--requires` of a publish to `target`: `NAME@REQ` means the package of that name in the
/// registry being published to; `REGISTRY/NAME@REQ` names another configured registry, recorded
/// by its id (the publisher's local names mean nothing to the installer).
pub(crate) fn requirements(
    context: &Context,
    target: &RegistryEntry,
    texts: &[String],
) -> anyhow::Result<Vec<agents_format::Requirement>> {
    let mut registries = None;
    let mut out = Vec::new();
    for text in texts {
        let (registry, name, requirement) = agents_format::Requirement::parse_cli(text)?;
        let registry = match registry {
            None => None,
            Some(local) if local == target.name => None,
            Some(local) => {
                if registries.is_none() {
                    let workspace = context.workspace();
                    registries = Some(context.registries(&workspace, agents_registry::FetchMode::IfMissing)?);
                }
                let registries = registries.as_mut().expect("set just above");
                if !registries.entries().iter().any(|e| e.name == local) {
                    bail!("`--requires {text}`: no registry named `{local}` (see `agents registry list`)");
                }
                Some(registries.open(&local)?.config.id.clone())
            }
        };
        out.push(agents_format::Requirement { name, requirement, registry });
    }
    Ok(out)
}

/// Reads the file the user named: it may be a symlink (their own), but it must end at a regular
/// file (not `/dev/zero` or a FIFO), and no more than the agent-file limit is ever read.
fn read_agent_file(path: &std::path::Path, label: &str) -> anyhow::Result<Vec<u8>> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {label}"))?;
    let metadata = file.metadata().with_context(|| format!("cannot read {label}"))?;
    if !metadata.is_file() {
        bail!("{label} is not a regular file");
    }
    let mut bytes = Vec::new();
    file.take(MAX_AGENT_FILE_LEN as u64 + 1).read_to_end(&mut bytes).with_context(|| format!("cannot read {label}"))?;
    if metadata.len() > MAX_AGENT_FILE_LEN as u64 || bytes.len() > MAX_AGENT_FILE_LEN {
        bail!(
            "{label} is {} bytes, over the limit of {MAX_AGENT_FILE_LEN} bytes",
            metadata.len().max(bytes.len() as u64)
        );
    }
    Ok(bytes)
}

pub(crate) fn yank(context: &Context, printer: &Printer, args: YankArgs) -> anyhow::Result<i32> {
    let (name, version) =
        args.agent.split_once('@').with_context(|| format!("expected NAME@VERSION, got `{}`", args.agent))?;
    let name = AgentName::new(name)?;
    let version: semver::Version = version.parse().with_context(|| format!("invalid version `{version}`"))?;
    let entry = writable_registry(context, args.registry.as_deref())?;
    let cache = context.cache()?;
    let signer = crate::commands::owner::signer(context, args.sign_key.as_deref())?;
    let changed =
        agents_registry::yank(&cache, &entry.name, &entry.url, &name, &version, !args.undo, signer.as_deref())?;
    let verb = if args.undo { "Unyanked" } else { "Yanked" };
    if changed {
        printer.status(verb, format!("{name}@{version} in registry `{}` ({})", entry.name, entry.url));
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
            several => bail!(
                "several registries are configured ({}): choose one with --registry NAME",
                several.iter().map(|entry| format!("`{}`", entry.name)).collect::<Vec<_>>().join(", ")
            ),
        },
    };
    // A project's agents.toml arrives with `git pull`: it must not quietly redirect a name the
    // user configured to another remote, where this would push.
    if entry.origin == Origin::Project {
        let (_, user_config) = workspace.read_user_config()?;
        if let Some(user) = user_config.registries.get(&entry.name)
            && user.url != entry.url
        {
            bail!(
                "registry `{}` is `{}` in this project's agents.toml but `{}` in your config.toml; \
                 refusing to guess which to write to: rename one of them (`agents registry remove {} --project`, \
                 then `agents registry add NEW-NAME URL --project`)",
                entry.name,
                entry.url,
                user.url,
                entry.name
            );
        }
    }
    Ok((*entry).clone())
}
