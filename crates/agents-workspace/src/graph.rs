//! The workspace's side of resolution: the registries as the solver's [`Catalog`], the two
//! passes (locked versions as they are, then the registries in full), and the solution turned
//! into the packages a change installs, each new version's record verified and loaded.
//!
//! The first pass reads no registry for a locked package the command does not unlock: its one
//! candidate is its lockfile entry, requirements included, so an install that changes nothing
//! stays offline. Only when that has no solution (a new requirement a locked version does not
//! meet) does the second pass read every name's versions, still preferring the locked ones.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use agents_format::{AgentName, IndexFile, Lockfile, RegistryId};

use crate::error::{Result, WorkspaceError};
use crate::model::Package;
use crate::registries::Registries;
use crate::resolve::{Inputs, Policy, Resolution, RootPlan, Unlock, forgery, load_record, no_match};
use crate::solve::{Candidate, Catalog, Fact, Selected, SolveError};
use crate::workspace::Workspace;

/// The most times a forged version is skipped and the solve run again.
const MAX_RESOLVES: usize = 16;

/// The registries as the solver reads them.
struct RegistryCatalog<'r> {
    registries: &'r mut Registries,
    lockfile: &'r Lockfile,
    /// Locked versions the command keeps, by name.
    kept: &'r BTreeMap<AgentName, semver::Version>,
    /// Whether kept names are read from their registries too (the second pass).
    full: bool,
    /// Versions refused after the solve chose them (a signature that does not hold).
    excluded: &'r BTreeSet<(AgentName, semver::Version)>,
    /// Index files read, by registry id and name, with the registry's local name.
    read: HashMap<(RegistryId, AgentName), (String, IndexFile)>,
    /// The first registry error, returned instead of the solver's text of it.
    failure: Option<WorkspaceError>,
}

impl RegistryCatalog<'_> {
    fn fail(&mut self, error: WorkspaceError) -> String {
        let text = error.to_string();
        self.failure.get_or_insert(error);
        text
    }
}

impl RegistryCatalog<'_> {
    /// Fetches ahead, in parallel, what the solver will most likely read next from sparse
    /// registries: the index files (and likely bodies) of what the newest version requires, one
    /// level of the graph at a time instead of one request after another. Git and built-in
    /// registries need nothing; a failure is left for the read that follows to report.
    fn prefetch(&mut self, own: &str, requires: &[agents_format::Requirement]) {
        let mut ahead = Vec::new();
        for requirement in requires {
            let registry = match &requirement.registry {
                None => Some(own.to_owned()),
                Some(id) => self.registries.name_for_id(id).ok().flatten(),
            };
            ahead.push((requirement.name.clone(), Some(requirement.requirement.clone()), registry));
        }
        if !ahead.is_empty() {
            self.registries.prefetch(&ahead, self.lockfile);
        }
    }
}

impl Catalog for RegistryCatalog<'_> {
    fn versions(&mut self, registry: &RegistryId, name: &AgentName) -> Result<Option<Vec<Candidate>>, String> {
        let locked = self.lockfile.get(name).filter(|l| &l.registry == registry);
        let kept = locked.filter(|l| self.kept.get(name) == Some(&l.version));
        if !self.full
            && let Some(kept) = kept
        {
            return Ok(Some(vec![Candidate { version: kept.version.clone(), requires: kept.requires.clone() }]));
        }
        let registry_name = self.registry_name(registry)?;
        let index = match self.registries.open(&registry_name).and_then(|r| Ok(r.index_file(name)?)) {
            Ok(Some(index)) => index,
            Ok(None) => return Ok(None),
            Err(error) => return Err(self.fail(error)),
        };
        let mut candidates: Vec<Candidate> = index
            .records()
            .filter(|r| !r.yanked || kept.is_some_and(|k| k.version == r.version))
            .filter(|r| !self.excluded.contains(&(name.clone(), r.version.clone())))
            .map(|r| Candidate { version: r.version.clone(), requires: r.requires.clone() })
            .collect();
        candidates.sort_by(|a, b| a.version.cmp(&b.version));
        self.read.insert((registry.clone(), name.clone()), (registry_name.clone(), index));
        if let Some(newest) = candidates.last() {
            self.prefetch(&registry_name, &newest.requires);
        }
        Ok(Some(candidates))
    }

    fn registry_name(&mut self, registry: &RegistryId) -> Result<String, String> {
        match self.registries.name_for_id(registry) {
            Ok(Some(name)) => Ok(name),
            Ok(None) => Err(format!(
                "none of your registries has id `{registry}` (add the registry that publishes it with `agents registry add`)"
            )),
            Err(error) => Err(self.fail(error)),
        }
    }
}

/// The locked versions a command keeps: every locked package it does not unlock. `update NAME`
/// unlocks NAME and everything NAME requires, directly or not, in the lockfile's graph.
fn kept(lockfile: &Lockfile, policy: &Policy<'_>) -> BTreeMap<AgentName, semver::Version> {
    let unlocked: BTreeSet<AgentName> = match policy.unlock {
        Unlock::None => BTreeSet::new(),
        Unlock::All => lockfile.agents().iter().map(|a| a.name.clone()).collect(),
        Unlock::Some(names) => reachable(lockfile, names),
    };
    lockfile
        .agents()
        .iter()
        .filter(|a| !unlocked.contains(&a.name))
        .map(|a| (a.name.clone(), a.version.clone()))
        .collect()
}

/// `names` and every lockfile entry they require, directly or not.
pub(crate) fn reachable(lockfile: &Lockfile, names: &[AgentName]) -> BTreeSet<AgentName> {
    let mut seen: BTreeSet<AgentName> = BTreeSet::new();
    let mut stack: Vec<AgentName> = names.to_vec();
    while let Some(name) = stack.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(entry) = lockfile.get(&name) {
            stack.extend(entry.requires.iter().map(|r| r.name.clone()).filter(|n| !seen.contains(n)));
        }
    }
    seen
}

/// Solves the workspace and turns the solution into packages: a locked version kept as pinned,
/// every other version's record read, verified and loaded. A version whose signature does not
/// hold is skipped with a warning and the solve runs again without it.
pub(crate) fn solve_workspace(
    workspace: &Workspace,
    registries: &mut Registries,
    inputs: &Inputs,
    policy: &Policy<'_>,
    roots: &[RootPlan],
    resolution: &mut Resolution,
) -> Result<Vec<(Package, Option<String>)>> {
    let kept = kept(&inputs.lockfile, policy);
    let solver_roots: Vec<crate::solve::Root> = roots.iter().map(|r| r.root.clone()).collect();
    let mut excluded: BTreeSet<(AgentName, semver::Version)> = BTreeSet::new();
    let mut first_forgery = None;
    for _ in 0..MAX_RESOLVES {
        // With forged versions left out and nothing valid left, the refusal of the best one
        // says why, as it does for a single package.
        let (solution, read) = match solve_twice(registries, inputs, policy, &solver_roots, &kept, &excluded) {
            Ok(solved) => solved,
            Err(error) => match first_forgery {
                Some(forgery) => {
                    return Err(WorkspaceError::Registry(agents_registry::RegistryError::Signature(forgery)));
                }
                None => return Err(error),
            },
        };
        match packages(workspace, registries, inputs, policy, roots, solution, read, resolution) {
            Ok(packages) => return Ok(packages),
            Err(Refused::Forged(name, version, error)) => {
                resolution.warnings.push(format!("skipped {name}@{version}: {error}"));
                first_forgery.get_or_insert(*error);
                excluded.insert((name, version));
            }
            Err(Refused::Other(error)) => return Err(error),
        }
    }
    Err(first_forgery.map_or_else(
        || WorkspaceError::Unresolvable {
            derivation: "too many versions with invalid signatures".to_owned(),
            hint: None,
        },
        |e| WorkspaceError::Registry(agents_registry::RegistryError::Signature(e)),
    ))
}

type Read = HashMap<(RegistryId, AgentName), (String, IndexFile)>;

/// The first pass (locked versions as they are), then, when it has no solution and the command
/// may change pins, the second (every registry read).
fn solve_twice(
    registries: &mut Registries,
    inputs: &Inputs,
    policy: &Policy<'_>,
    roots: &[crate::solve::Root],
    kept: &BTreeMap<AgentName, semver::Version>,
    excluded: &BTreeSet<(AgentName, semver::Version)>,
) -> Result<(BTreeMap<AgentName, Selected>, Read)> {
    let mut first = RegistryCatalog {
        registries: &mut *registries,
        lockfile: &inputs.lockfile,
        kept,
        full: false,
        excluded,
        read: HashMap::new(),
        failure: None,
    };
    let outcome = crate::solve::solve(&mut first, roots, kept);
    let (first_failure, first_read) = (first.failure.take(), std::mem::take(&mut first.read));
    match outcome {
        Ok(solution) => return Ok((solution, first_read)),
        Err(SolveError::Failed(reason)) => {
            return Err(first_failure.unwrap_or(WorkspaceError::Unresolvable { derivation: reason, hint: None }));
        }
        Err(SolveError::NoSolution(_)) if policy.locked => {
            return Err(WorkspaceError::LockfileWouldChange {
                reason: "the locked versions no longer meet the requirements".to_owned(),
            });
        }
        Err(SolveError::NoSolution(_)) => {}
    }
    let mut second = RegistryCatalog {
        registries: &mut *registries,
        lockfile: &inputs.lockfile,
        kept,
        full: true,
        excluded,
        read: HashMap::new(),
        failure: None,
    };
    let outcome = crate::solve::solve(&mut second, roots, kept);
    let (failure, read) = (second.failure.take(), std::mem::take(&mut second.read));
    match outcome {
        Ok(solution) => Ok((solution, read)),
        Err(SolveError::Failed(reason)) => {
            Err(failure.unwrap_or(WorkspaceError::Unresolvable { derivation: reason, hint: None }))
        }
        Err(SolveError::NoSolution(derivation)) => Err(unresolvable(registries, roots, &read, derivation)),
    }
}

/// The error for a failed resolution: a single root with no matching version says so as it
/// always has (with the versions published); anything else is the derivation.
fn unresolvable(
    registries: &mut Registries,
    roots: &[crate::solve::Root],
    read: &Read,
    derivation: crate::solve::Derivation,
) -> WorkspaceError {
    if let [Fact::Requires { by: None, name, .. }, Fact::NoVersion { name: missing, .. }] = derivation.facts.as_slice()
        && name == missing
        && let Some(root) = roots.iter().find(|r| &r.name == name)
        && let Some((registry_name, index)) = read.get(&(root.registry.clone(), name.clone()))
    {
        return no_match(name, registry_name, index, &root.requirement);
    }
    let _ = registries;
    let clash = derivation.facts.iter().any(|f| matches!(f, Fact::Requires { by: Some(_), .. }));
    let hint = clash.then(|| {
        "each name is installed at one version per workspace: loosen a requirement in agents.toml, or update \
         the package whose requirement is older (`agents update NAME`)"
            .to_owned()
    });
    WorkspaceError::Unresolvable { derivation: derivation.to_string(), hint }
}

/// Why turning a solution into packages stopped.
enum Refused {
    /// A chosen version's signature does not hold: skip it and solve again.
    Forged(AgentName, semver::Version, Box<agents_registry::signing::SignatureError>),
    Other(WorkspaceError),
}

impl From<WorkspaceError> for Refused {
    fn from(error: WorkspaceError) -> Self {
        Refused::Other(error)
    }
}

/// Each selected package: kept at its pin when the lockfile already holds that version from that
/// registry, else its record loaded (contents verified, signature and hidden-Unicode gate).
#[allow(clippy::too_many_arguments)]
fn packages(
    workspace: &Workspace,
    registries: &mut Registries,
    inputs: &Inputs,
    policy: &Policy<'_>,
    roots: &[RootPlan],
    solution: BTreeMap<AgentName, Selected>,
    read: Read,
    resolution: &mut Resolution,
) -> std::result::Result<Vec<(Package, Option<String>)>, Refused> {
    let mut out = Vec::with_capacity(solution.len());
    for (name, selected) in solution {
        let root = roots.iter().find(|r| r.root.name == name);
        let explicit = root.is_some_and(|r| r.explicit);
        let registry_name = root.and_then(|r| r.registry_name.clone());
        let subject = match policy.unlock {
            _ if !policy.requests.is_empty() => explicit,
            Unlock::Some(names) => names.contains(&name),
            Unlock::None | Unlock::All => true,
        };
        let locked = inputs.lockfile.get(&name);
        if let Some(locked) = locked.filter(|l| l.version == selected.version && l.registry == selected.registry) {
            let mut pin = locked.clone();
            pin.requested = selected.requested;
            pin.requires = selected.requires.clone();
            let recheck = explicit || policy.unlock.covers(&name);
            out.push((Package { recheck, ..Package::pinned(&pin, subject) }, registry_name));
            continue;
        }
        if policy.locked {
            return Err(Refused::Other(WorkspaceError::LockfileWouldChange {
                reason: format!("`{name}` is not locked at a version matching the manifest"),
            }));
        }
        let Some((registry_name, index)) = read.get(&(selected.registry.clone(), name.clone())) else {
            return Err(Refused::Other(WorkspaceError::UnknownRegistryId { name, id: selected.registry }));
        };
        let record = index.find(&selected.version).cloned().ok_or_else(|| WorkspaceError::LockedVersionMissing {
            name: name.clone(),
            version: selected.version.clone(),
            registry: registry_name.clone(),
        })?;
        let pinned_root = inputs.lockfile.root(&selected.registry).map(str::to_owned);
        let loaded = load_record(
            workspace,
            registries,
            (registry_name, index, &record),
            (locked, pinned_root.as_deref()),
            policy,
            resolution,
        );
        match loaded {
            Err(WorkspaceError::Registry(agents_registry::RegistryError::Signature(error))) if forgery(&error) => {
                return Err(Refused::Forged(name, selected.version, Box::new(error)));
            }
            Err(error) => return Err(Refused::Other(error)),
            Ok((mut pin, loaded)) => {
                pin.requested = selected.requested;
                let package = Package { pin, subject: true, loaded: Some(loaded), held: false, recheck: false };
                out.push((package, Some(registry_name.clone())));
            }
        }
    }
    Ok(out)
}
