//! `agents registry init|migrate|sign|rotate-root|add|list|check|summary|site|remove`.

use std::path::Path;

use agents_format::{Layout, RegistryId, remove_registry, set_registry, validate_registry_name};
use agents_registry::{BUILTIN_NAME, FetchMode, Migrated};
use agents_workspace::Workspace;
use agents_workspace::fs::write_atomic;
use anyhow::{Context as _, bail};

use crate::cli::RegistryCommand;
use crate::context::Context;
use crate::printer::Printer;

pub(crate) fn run(context: &Context, printer: &Printer, command: RegistryCommand) -> anyhow::Result<i32> {
    match command {
        RegistryCommand::Init { path, description, sign_key, unsigned, format } => {
            let layout = Layout::from_schema(u64::from(format)).context("--format is 1 or 2")?;
            let path = absolute(&context.cwd, &path);
            let mut random = [0u8; 16];
            getrandom::fill(&mut random).map_err(|e| anyhow::anyhow!("no randomness for a registry id: {e}"))?;
            // Signed by default: the key given, else the one git signs with (`user.signingkey`
            // with `gpg.format = ssh`); `--unsigned` is the explicit way out.
            let root = if unsigned { None } else { crate::commands::owner::signer(context, sign_key.as_deref())? };
            if root.is_none() && !unsigned {
                printer.warn(
                    "no signing key found, so this registry is unsigned: anyone who can push to it can publish \
                     any agent as anyone (`--sign-key PATH`, or git's `user.signingkey` with `gpg.format = ssh`, \
                     makes it signed; `--unsigned` says this is meant)",
                );
            }
            let config = agents_registry::init_signed_registry(
                &path,
                layout,
                RegistryId::from_random(random),
                description,
                root.as_deref(),
            )?;
            printer.status("Created", format!("registry {} ({layout}) at {}", config.id, printer.path(&path)));
            if let Some(root) = &root {
                printer.note(
                    "root",
                    format!(
                        "{}; share it so teammates can `agents registry add NAME URL --trust {}`",
                        agents_registry::signing::fingerprint(root.public_key()),
                        agents_registry::signing::fingerprint(root.public_key())
                    ),
                );
            }
            printer.next(format!("agents registry add NAME {}", printer.path(&path)));
            Ok(0)
        }
        RegistryCommand::Migrate { registry, sign_key } => {
            let entry = crate::commands::publish::writable_registry(context, registry.as_deref())?;
            let signer = crate::commands::owner::signer(context, sign_key.as_deref())?;
            let cache = context.cache()?;
            match agents_registry::migrate_registry(&cache, &entry.name, &entry.url, signer.as_deref())? {
                Migrated::AlreadyLatest => printer
                    .status("Unchanged", format!("registry `{}` ({}) is already format 2", entry.name, entry.url)),
                Migrated::Moved { bodies, index_files } => printer.status(
                    "Migrated",
                    format!(
                        "registry `{}` ({}) to format 2: {bodies} bod{} moved two levels deep, {index_files} index \
                         file{} to hashed paths",
                        entry.name,
                        entry.url,
                        if bodies == 1 { "y" } else { "ies" },
                        if index_files == 1 { "" } else { "s" }
                    ),
                ),
            }
            Ok(0)
        }
        RegistryCommand::Sign { registry, sign_key, owners } => {
            let entry = crate::commands::publish::writable_registry(context, registry.as_deref())?;
            let root = crate::commands::owner::signer(context, sign_key.as_deref())?.context(
                "signing a registry needs the key that becomes its root: --sign-key PATH, or git's \
                 user.signingkey with gpg.format = ssh",
            )?;
            let owners = owners
                .iter()
                .map(|key| crate::commands::owner::read_public_key_argument(key))
                .collect::<Result<Vec<_>, _>>()?;
            let cache = context.cache()?;
            let fingerprint = agents_registry::signing::fingerprint(root.public_key());
            match agents_registry::sign_registry(&cache, &entry.name, &entry.url, root.as_ref(), &owners)? {
                agents_registry::SignedRegistry::AlreadySigned => printer
                    .status("Unchanged", format!("registry `{}` is already signed by root {fingerprint}", entry.name)),
                agents_registry::SignedRegistry::Signed { agents, versions, yanks, unreadable } => {
                    printer.status(
                        "Signed",
                        format!(
                            "registry `{}` ({}): root {fingerprint}; {versions} version{} of {agents} package{} and \
                             {yanks} yank{} signed by it",
                            entry.name,
                            entry.url,
                            plural(versions),
                            plural(agents),
                            plural(yanks)
                        ),
                    );
                    if unreadable > 0 {
                        printer.warn(format!(
                            "{unreadable} index line{} this agents cannot read (a newer record schema, or not a record) \
                             left unsigned: clients will skip them until a newer agents signs them",
                            plural(unreadable)
                        ));
                    }
                    printer.note(
                        "root",
                        format!(
                            "{fingerprint}; teammates who used the registry before trust it on next use; share it so \
                             others can `agents registry add NAME URL --trust {fingerprint}`"
                        ),
                    );
                }
            }
            Ok(0)
        }
        RegistryCommand::RotateRoot { new_key, registry, sign_key } => {
            let entry = crate::commands::publish::writable_registry(context, registry.as_deref())?;
            let old = crate::commands::owner::signer(context, sign_key.as_deref())?.context(
                "the current root signs the handover: --sign-key PATH, or git's user.signingkey with gpg.format = ssh",
            )?;
            let new = crate::commands::owner::signer(context, Some(&new_key))?.context("--new-key names no key")?;
            let cache = context.cache()?;
            let fingerprint = agents_registry::signing::fingerprint(new.public_key());
            match agents_registry::rotate_root(&cache, &entry.name, &entry.url, old.as_ref(), new.as_ref())? {
                agents_registry::RotatedRoot::AlreadyRoot => printer
                    .status("Unchanged", format!("the root of registry `{}` already is {fingerprint}", entry.name)),
                agents_registry::RotatedRoot::Rotated { resigned, owner_lists } => {
                    printer.status(
                        "Rotated",
                        format!(
                            "the root of registry `{}` from {} to {fingerprint}: {resigned} signature{} made again, \
                             {owner_lists} owners list{} naming the new key instead of the old",
                            entry.name,
                            agents_registry::signing::fingerprint(old.public_key()),
                            plural(resigned),
                            plural(owner_lists)
                        ),
                    );
                    printer.note(
                        "trust",
                        "clients that trusted the old root follow the signed handover; projects' agents.lock pins \
                         move on their next install or update",
                    );
                }
            }
            Ok(0)
        }
        RegistryCommand::Add { name, url, project, trust } => {
            validate_registry_name(&name)
                .map_err(|message| anyhow::anyhow!("invalid registry name `{name}`: {message}"))?;
            if name == BUILTIN_NAME {
                bail!("`{BUILTIN_NAME}` is the registry built into agents; choose another name");
            }
            let url = normalize_url(&context.cwd, &url);
            if has_password(&url) {
                bail!(
                    "`{name}`: the URL contains a password; agents never writes credentials into config files. \
                     Keep them in a git credential helper or ssh-agent and add the URL without them"
                );
            }
            // Fetch it now so a typo or a non-registry is reported here, not at the next install.
            let registry = context.cache()?.open(&name, &url, FetchMode::Always)?;
            if let Some(expected) = &trust {
                let root = agents_workspace::signatures::trust_root(
                    &Workspace::user(context.dirs.clone()),
                    &registry,
                    expected,
                )?;
                printer.status("Trusted", format!("registry `{name}` ({}) with root {root}", registry.config.id));
            }
            let (path, _lock) = config_path(context, project)?;
            let text = read_text(&path)?;
            let new = set_registry(&text, &name, &url).with_context(|| format!("cannot edit {}", path.display()))?;
            write_atomic(&path, new.as_bytes())?;
            printer.status("Added", format!("registry `{name}` ({}) \u{2192} {url}", registry.config.id));
            // Trust travels with the project: the root is pinned in agents.lock, which a
            // teammate's fresh clone then holds the registry to.
            if let (true, Some(root)) = (project, &trust) {
                let workspace = context.workspace_to_change()?;
                let (_, mut lockfile) = workspace.read_lockfile()?;
                lockfile.pin_root(registry.config.id.clone(), root.clone());
                write_atomic(&workspace.lockfile_path(), lockfile.to_text().as_bytes())?;
                printer.status("Pinned", format!("the root of `{name}` in agents.lock: {root}"));
            }
            Ok(0)
        }
        RegistryCommand::List(args) => {
            let workspace = context.workspace();
            let registries = context.registries(&workspace, FetchMode::Offline)?;
            if args.json {
                let registries = registries.entries().iter().map(super::json::Registry::from).collect();
                printer.json(&super::json::document(super::json::RegistryList { registries }));
            } else {
                for entry in registries.entries() {
                    let origin = serde_json::to_value(entry.origin).ok().and_then(|v| v.as_str().map(str::to_owned));
                    printer.line(format!("{:16} {:8} {}", entry.name, origin.unwrap_or_default(), entry.url));
                }
            }
            Ok(0)
        }
        RegistryCommand::Check { path, since, json } => {
            let path = absolute(&context.cwd, &path.unwrap_or_else(|| context.cwd.clone()));
            let report = agents_registry::check_registry(&path, since.as_deref())?;
            if json {
                printer.json(&report);
            } else {
                for problem in &report.problems {
                    printer.error(problem);
                }
                let verdict = if report.problems.is_empty() { "Checked" } else { "Failed" };
                printer.status(
                    verdict,
                    format!(
                        "{} agent(s), {} version(s), {} commit(s) against owners: {} problem(s)",
                        report.agents,
                        report.versions,
                        report.commits_checked,
                        report.problems.len()
                    ),
                );
            }
            Ok(if report.problems.is_empty() { 0 } else { 1 })
        }
        RegistryCommand::Summary { path, output } => {
            let path = absolute(&context.cwd, &path.unwrap_or_else(|| context.cwd.clone()));
            let summary = agents_registry::search_summary(&path)?;
            match output {
                Some(output) => {
                    let output = absolute(&context.cwd, &output);
                    write_atomic(&output, summary.as_bytes())?;
                    let agents = summary.lines().count().saturating_sub(1);
                    printer
                        .status("Wrote", format!("search summary of {agents} agent(s) to {}", printer.path(&output)));
                }
                None => printer.line(summary.trim_end()),
            }
            Ok(0)
        }
        RegistryCommand::Site { path, output } => site(context, printer, path, &output),
        RegistryCommand::Remove { name, project } => {
            let (path, _lock) = config_path(context, project)?;
            let text = read_text(&path)?;
            let (new, removed) =
                remove_registry(&text, &name).with_context(|| format!("cannot edit {}", path.display()))?;
            if !removed {
                bail!("no registry named `{name}` in {}", path.display());
            }
            write_atomic(&path, new.as_bytes())?;
            printer.status("Removed", format!("registry `{name}`"));
            Ok(0)
        }
    }
}

/// The file `registry add|remove` edits: the user's config, or (`--project`) the project's
/// manifest, with the project's lock held while it is edited (a concurrent install or the
/// daemon writes it too). Outside any project, `--project` refuses, as every writing command.
fn config_path(
    context: &Context,
    project: bool,
) -> anyhow::Result<(std::path::PathBuf, Option<agents_workspace::WorkspaceLock>)> {
    if !project {
        return Ok((context.workspace().user_config_path(), None));
    }
    let workspace = context.workspace_to_change()?;
    let lock = workspace.lock()?;
    Ok((workspace.manifest_path(), Some(lock)))
}

/// The text of a manifest or user config, empty when missing: a regular file, bounded, as every
/// read of them is.
fn read_text(path: &Path) -> anyhow::Result<String> {
    let bytes = agents_workspace::fs::read_optional(path, agents_workspace::fs::MAX_MANIFEST_LEN)?;
    String::from_utf8(bytes.unwrap_or_default()).with_context(|| format!("{} is not UTF-8", path.display()))
}

fn absolute(cwd: &Path, path: &Path) -> std::path::PathBuf {
    if path.is_absolute() { path.to_owned() } else { cwd.join(path) }
}

/// A URL stays as given; a local path becomes absolute, so the config works from any directory.
fn normalize_url(cwd: &Path, url: &str) -> String {
    if url.contains("://") || (url.contains(':') && !Path::new(url).exists() && !url.starts_with('/')) {
        return url.to_owned();
    }
    let path = absolute(cwd, Path::new(url));
    path.canonicalize().unwrap_or(path).display().to_string()
}

/// Whether a URL carries `user:password@` (a user name alone, as in `ssh://git@host`, is fine).
fn has_password(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else { return false };
    let authority = rest.split('/').next().unwrap_or_default();
    authority.rsplit_once('@').is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

/// `agents registry site`: builds the site of the registry at `path` (a git repository or its
/// exported tree) into `output`, and
/// lists what it skipped (a build that skipped something still succeeds: the rest is served).
fn site(context: &Context, printer: &Printer, path: Option<std::path::PathBuf>, output: &Path) -> anyhow::Result<i32> {
    let path = absolute(&context.cwd, &path.unwrap_or_else(|| context.cwd.clone()));
    let output = absolute(&context.cwd, output);
    let registry = agents_registry::Registry::open_path(&path)?;
    let report = agents_site::build(&registry, &output)
        .with_context(|| format!("cannot build the site of {} in {}", path.display(), output.display()))?;
    for skipped in &report.skipped {
        printer.warn(format!("skipped {}: {}", skipped.what, skipped.why));
    }
    printer.status(
        "Built",
        format!(
            "site of {} package(s) in {}: {} page(s) rendered, {} unchanged, {} removed",
            report.packages,
            printer.path(&output),
            report.rendered.len(),
            report.kept,
            report.removed.len()
        ),
    );
    Ok(0)
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}
