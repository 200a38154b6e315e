//! The registries a workspace can use, in search order: the project manifest's, then the user's,
//! then `builtin`. Opened lazily, at most once each.
//!
//! A name is one registry: when the project and the user both define it with different URLs,
//! that is an error naming both ([`is_name_clash`]), never a silent choice.

use std::collections::HashMap;

use agents_format::{AgentName, IndexFile, Lockfile, Manifest, ManifestError, RegistryId, RegistryUrl};
use agents_registry::{BUILTIN_NAME, Cache, FetchMode, Registry};

use crate::error::{Result, WorkspaceError};
use crate::signatures::Trust;
use crate::workspace::Workspace;

/// What a [`ManifestError::Registry`] message for a name clash says.
const NAME_CLASH: &str = "refusing to guess which registry";

/// Whether `error` says that a registry name means one URL in the project's manifest and
/// another in the user's config (so the binary can say how to choose).
pub fn is_name_clash(error: &WorkspaceError) -> bool {
    matches!(error, WorkspaceError::Manifest { source: ManifestError::Registry { message, .. }, .. }
        if message.contains(NAME_CLASH))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Project,
    User,
    Builtin,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RegistryEntry {
    pub name: String,
    pub url: String,
    pub origin: Origin,
}

pub struct Registries {
    entries: Vec<RegistryEntry>,
    cache: Cache,
    mode: FetchMode,
    opened: HashMap<String, Registry>,
    /// Registries that could not be opened in this run (unreachable, broken), with why. A
    /// command that does not need them goes on without them.
    unreachable: Vec<(String, String)>,
    /// The first of those registries' errors, for the error a command ends with.
    first_unreachable: Option<WorkspaceError>,
    /// The user's trust in signed registries, for this run.
    trust: Trust,
}

impl Registries {
    /// The registries `workspace` can see, given its parsed manifest.
    pub fn new(workspace: &Workspace, manifest: &Manifest, cache: Cache, mode: FetchMode) -> Result<Registries> {
        let mut entries: Vec<RegistryEntry> = manifest
            .registries
            .iter()
            .map(|(name, source)| RegistryEntry {
                name: name.clone(),
                url: source.url.clone(),
                origin: Origin::Project,
            })
            .collect();
        let (_, user_config) = workspace.read_user_config()?;
        let trust = Trust::new(user_config.security.require_signatures == Some(true) || manifest.require_signatures);
        for (name, source) in user_config.registries {
            match entries.iter().find(|entry| entry.name == name) {
                None => entries.push(RegistryEntry { name, url: source.url, origin: Origin::User }),
                Some(project) if project.url == source.url => {}
                // A name must mean one registry: the project's silently winning would send
                // `publish --registry team` somewhere the user never configured.
                Some(project) => {
                    let message = format!(
                        "means `{}` here but `{}` in {}; {NAME_CLASH} `{name}` is",
                        project.url,
                        source.url,
                        workspace.user_config_path().display()
                    );
                    return Err(WorkspaceError::Manifest {
                        path: workspace.manifest_path(),
                        source: ManifestError::Registry { key: name, message },
                    });
                }
            }
        }
        entries.retain(|entry| entry.name != BUILTIN_NAME);
        entries.push(RegistryEntry {
            name: BUILTIN_NAME.to_owned(),
            url: BUILTIN_NAME.to_owned(),
            origin: Origin::Builtin,
        });
        Ok(Registries {
            entries,
            cache,
            mode,
            opened: HashMap::new(),
            unreachable: Vec::new(),
            first_unreachable: None,
            trust,
        })
    }

    pub fn entries(&self) -> &[RegistryEntry] {
        &self.entries
    }

    pub fn mode(&self) -> FetchMode {
        self.mode
    }

    /// Opens the registry called `name` (fetching as the mode says, once per run).
    pub fn open(&mut self, name: &str) -> Result<&Registry> {
        if !self.opened.contains_key(name) {
            let entry = self
                .entries
                .iter()
                .find(|entry| entry.name == name)
                .ok_or_else(|| WorkspaceError::UnknownRegistry(name.to_owned()))?;
            let registry = match entry.origin {
                Origin::Builtin => Registry::builtin(),
                _ => self.cache.open(&entry.name, &entry.url, self.mode)?,
            };
            self.opened.insert(name.to_owned(), registry);
        }
        Ok(&self.opened[name])
    }

    /// Opens `name` (as [`Registries::open`]) with this run's trust, for a signature check.
    pub(crate) fn open_trusted(&mut self, name: &str) -> Result<(&Registry, &mut Trust)> {
        self.open(name)?;
        Ok((&self.opened[name], &mut self.trust))
    }

    /// Re-opens `name` after fetching, unless offline (used when a cached snapshot lacks a
    /// locked version). Returns whether a fetch happened.
    pub fn refresh(&mut self, name: &str) -> Result<bool> {
        if self.mode == FetchMode::Offline || name == BUILTIN_NAME || self.mode == FetchMode::Always {
            return Ok(false);
        }
        let entry = self
            .entries
            .iter()
            .find(|entry| entry.name == name)
            .ok_or_else(|| WorkspaceError::UnknownRegistry(name.to_owned()))?;
        let registry = self.cache.open(&entry.name, &entry.url, FetchMode::Always)?;
        self.opened.insert(name.to_owned(), registry);
        Ok(true)
    }

    /// Fetches ahead, in parallel, what resolving `wanted` will read from sparse registries
    /// (index files, then likely bodies); git and built-in registries need nothing. Failures
    /// are left for the resolve that follows to report.
    ///
    /// `wanted` holds each agent with its requirement and the registry it is bound to, if any
    /// (then no other registry is asked for it).
    pub fn prefetch(
        &mut self,
        wanted: &[(AgentName, Option<semver::VersionReq>, Option<String>)],
        lockfile: &Lockfile,
    ) {
        if self.mode == FetchMode::Offline {
            return;
        }
        let sparse: Vec<String> = self
            .entries
            .iter()
            .filter(|entry| RegistryUrl::parse(&entry.url).is_ok_and(|url| url.sparse_base().is_some()))
            .map(|entry| entry.name.clone())
            .collect();
        for name in sparse {
            let Ok(registry) = self.open(&name) else { continue };
            let wanted: Vec<_> = wanted
                .iter()
                .filter(|(_, _, bound)| bound.as_ref().is_none_or(|bound| *bound == name))
                .map(|(agent, requirement, _)| {
                    let locked = lockfile.get(agent).filter(|locked| locked.registry == registry.config.id);
                    (agent.clone(), locked.map(|locked| locked.sha256), requirement.clone())
                })
                .collect();
            registry.prefetch(&wanted);
        }
    }

    /// The local name of the registry with id `id` (a lockfile entry's registry), fetching only
    /// that registry: the ids of registries already cached are read from the cache, and only
    /// those not cached yet are opened as the mode says, in search order. A registry that cannot
    /// be reached is skipped; when no registry reached has the id, the error names those that
    /// were not.
    pub fn name_for_id(&mut self, id: &RegistryId) -> Result<Option<String>> {
        if let Some(name) = self.opened.iter().find(|(_, registry)| &registry.config.id == id).map(|(n, _)| n.clone()) {
            return Ok(Some(name));
        }
        let mut not_cached = Vec::new();
        for entry in self.entries.clone() {
            let cached = match entry.origin {
                Origin::Builtin => Some(Registry::builtin().config.id),
                _ => self.cache.open(&entry.name, &entry.url, FetchMode::Offline).ok().map(|r| r.config.id),
            };
            match cached {
                // Opened as the mode says: its id is checked again on what was fetched.
                Some(cached) if &cached == id => match self.open(&entry.name) {
                    Ok(registry) if &registry.config.id == id => return Ok(Some(entry.name)),
                    Ok(_) => {}
                    Err(error) => return Err(error),
                },
                Some(_) => {}
                None => not_cached.push(entry.name),
            }
        }
        for name in not_cached {
            if self.try_open(&name).is_some_and(|registry| &registry.config.id == id) {
                return Ok(Some(name));
            }
        }
        match self.unreachable_text() {
            Some(unreachable) => {
                Err(WorkspaceError::RegistryIdUnreached { id: id.clone(), unreachable, cause: self.cause() })
            }
            None => Ok(None),
        }
    }

    /// [`Registries::open`], remembering a registry that cannot be opened (and why) instead of
    /// failing.
    fn try_open(&mut self, name: &str) -> Option<&Registry> {
        if self.unreachable.iter().any(|(down, _)| down == name) {
            return None;
        }
        if let Err(error) = self.open(name) {
            let why = error.to_string();
            tracing::warn!("registry `{name}` unreachable, skipped: {why}");
            self.unreachable.push((name.to_owned(), why));
            self.first_unreachable.get_or_insert(error);
            return None;
        }
        self.opened.get(name)
    }

    /// The registries this run could not open, with why.
    pub fn unreachable(&self) -> &[(String, String)] {
        &self.unreachable
    }

    /// The first unreachable registry's error, for the error a command ends with.
    fn cause(&mut self) -> Option<Box<WorkspaceError>> {
        self.first_unreachable.take().map(Box::new)
    }

    /// "registry `a` could not be reached (why)" for the registries this run could not open.
    fn unreachable_text(&self) -> Option<String> {
        let parts: Vec<String> = self
            .unreachable
            .iter()
            .map(|(name, why)| format!("registry `{name}` could not be reached ({why})"))
            .collect();
        (!parts.is_empty()).then(|| parts.join("; "))
    }

    /// The error for `name` found in none of the registries `searched`, with the closest name
    /// any of them publishes (any kind) as a suggestion. Only this failure reads every name; a
    /// registry that cannot list its names (a sparse host without `search.json`) adds none.
    pub fn unknown_agent(&mut self, name: &AgentName, searched: &[String]) -> WorkspaceError {
        let mut known = Vec::new();
        for registry_name in searched {
            let summaries = self.open(registry_name).and_then(|registry| Ok(registry.summaries()?));
            match summaries {
                Ok(summaries) => known.extend(summaries.into_iter().map(|summary| summary.name)),
                Err(error) => tracing::debug!("no names from registry `{registry_name}` to suggest: {error}"),
            }
        }
        let suggestion =
            agents_format::closest_name(name.as_str(), known.iter().map(AgentName::as_str)).map(str::to_owned);
        let reached: Vec<&String> =
            searched.iter().filter(|n| !self.unreachable.iter().any(|(down, _)| down == *n)).collect();
        let mut searched = match reached.as_slice() {
            [one] => format!("registry `{one}`"),
            many => format!("registries {}", many.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")),
        };
        if let Some(unreachable) = self.unreachable_text() {
            searched = format!("{searched}, and {unreachable}");
        }
        WorkspaceError::UnknownAgent { name: name.clone(), searched, suggestion, cause: self.cause() }
    }

    /// Finds which registry publishes `name`: exactly one must. A registry that cannot be
    /// reached is skipped with a warning; the answer stands only when it could not have changed
    /// the answer, so a name found elsewhere fails naming both facts (it may be in both).
    pub fn locate(&mut self, name: &AgentName) -> Result<(String, IndexFile)> {
        let names: Vec<String> = self.entries.iter().map(|entry| entry.name.clone()).collect();
        let mut found = Vec::new();
        for registry_name in &names {
            let Some(registry) = self.try_open(registry_name) else { continue };
            if let Some(index) = registry.index_file(name)? {
                found.push((registry_name.clone(), index));
            }
        }
        match found.len() {
            0 => Err(self.unknown_agent(name, &names)),
            1 => match self.unreachable_text() {
                None => Ok(found.remove(0)),
                Some(unreachable) => Err(WorkspaceError::MaybeElsewhere {
                    name: name.clone(),
                    found: found.remove(0).0,
                    unreachable,
                    cause: self.cause(),
                }),
            },
            _ => Err(WorkspaceError::Ambiguous {
                name: name.clone(),
                registries: found.iter().map(|(n, _)| format!("`{n}`")).collect::<Vec<_>>().join(", "),
            }),
        }
    }
}
