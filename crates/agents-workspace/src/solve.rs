//! Which version of every package a workspace holds, requirements and all: PubGrub (the
//! `pubgrub` crate) over what the registries publish, with one version per name.
//!
//! The solver sees a [`Catalog`]: every usable version of a name in a registry, with what each
//! requires. Usable means not yanked, or yanked but the version the lockfile keeps. A name comes
//! from one registry: the manifest's (or the lockfile's, or the one registry that publishes it)
//! for a name the workspace asks for, else the registry a requirement names, else the registry of
//! the version that requires it. Among the versions a range allows, the kept one (the lockfile's)
//! is chosen first, then the highest; pre-releases match only a requirement that names one
//! (semver's rule). PubGrub's search is deterministic, so the same manifest, lockfile and
//! registries always give the same solution.
//!
//! A failure is a [`Derivation`]: the facts PubGrub's proof rests on (who requires what, which
//! range has no version), each checkable against the registries, in plain words.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use agents_format::{AgentName, RegistryId, Requirement};
use pubgrub::{
    DependencyConstraints, DependencyProvider, DerivationTree, External, PackageResolutionStatistics, PubGrubError,
    Ranges,
};

/// The most packages (names) one resolution may reach through requirements.
pub const MAX_PACKAGES: usize = 4096;
/// The most versions the solver may try before it gives up.
pub const MAX_STEPS: u32 = 200_000;

/// The most facts a failure's message lists (a long chain says how many it left out).
const SHOWN_FACTS: usize = 40;

/// One usable version of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub version: semver::Version,
    pub requires: Vec<Requirement>,
}

/// What the solver may read: the usable versions of `name` in the registry `registry`, sorted
/// by version (`None`: no such package there), or why they cannot be read.
pub trait Catalog {
    fn versions(&mut self, registry: &RegistryId, name: &AgentName) -> Result<Option<Vec<Candidate>>, String>;
    /// The registry's name for messages (`team`), or why the user has no registry with this id.
    fn registry_name(&mut self, registry: &RegistryId) -> Result<String, String>;
}

/// A requirement of the workspace itself (the manifest, the command line, the lockfile).
#[derive(Debug, Clone)]
pub struct Root {
    pub name: AgentName,
    pub requirement: semver::VersionReq,
    pub registry: RegistryId,
}

/// The solution: every package with its version, registry and requirements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    pub version: semver::Version,
    pub registry: RegistryId,
    pub requires: Vec<Requirement>,
    /// One of the roots.
    pub requested: bool,
}

/// A fact a failed resolution rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// `by` (the workspace when `None`) requires `name` `requirement`.
    Requires { by: Option<(AgentName, semver::Version)>, name: AgentName, requirement: String },
    /// No usable version of `name` is in `range` (`published`: its usable versions).
    NoVersion { name: AgentName, range: String, published: Vec<semver::Version> },
    /// `name` (at `version`, when one) cannot be used, for `reason`.
    Unusable { name: AgentName, version: Option<semver::Version>, reason: String },
}

/// Why no solution exists: the facts, in the order the proof uses them, and the names whose
/// requirements clash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derivation {
    pub facts: Vec<Fact>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SolveError {
    NoSolution(Derivation),
    /// A catalog read failed, or a limit was passed.
    Failed(String),
}

/// Solves `roots` against `catalog`, preferring the versions in `kept` (the lockfile's).
pub fn solve(
    catalog: &mut dyn Catalog,
    roots: &[Root],
    kept: &BTreeMap<AgentName, semver::Version>,
) -> Result<BTreeMap<AgentName, Selected>, SolveError> {
    let provider = Provider {
        catalog: RefCell::new(catalog),
        known: RefCell::new(HashMap::new()),
        bindings: RefCell::new(roots.iter().map(|r| (r.name.clone(), r.registry.clone())).collect()),
        roots: roots.to_vec(),
        kept,
        steps: Cell::new(0),
    };
    let solution = match pubgrub::resolve(&provider, Node::Workspace, semver::Version::new(0, 0, 0)) {
        Ok(solution) => solution,
        Err(PubGrubError::NoSolution(tree)) => {
            return Err(SolveError::NoSolution(provider.explain(&tree)));
        }
        Err(PubGrubError::ErrorRetrievingDependencies { source, .. })
        | Err(PubGrubError::ErrorChoosingVersion { source, .. })
        | Err(PubGrubError::ErrorInShouldCancel(source)) => return Err(SolveError::Failed(source.0)),
    };
    let bindings = provider.bindings.borrow();
    let known = provider.known.borrow();
    let mut out = BTreeMap::new();
    for (node, version) in solution {
        let Node::Package(name) = node else { continue };
        let registry = bindings.get(&name).cloned().expect("a selected package was bound to a registry");
        let requires = known
            .get(&name)
            .and_then(|c| c.iter().find(|c| c.version == version))
            .map(|c| c.requires.clone())
            .unwrap_or_default();
        let requested = roots.iter().any(|r| r.name == name);
        out.insert(name, Selected { version, registry, requires, requested });
    }
    Ok(out)
}

/// A package of the problem: the workspace itself, or a named package.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Node {
    Workspace,
    Package(AgentName),
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Workspace => f.write_str("the workspace"),
            Node::Package(name) => write!(f, "{name}"),
        }
    }
}

/// A failed read, as the solver carries it.
#[derive(Debug)]
struct Failure(String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failure {}

struct Provider<'a, 'c> {
    catalog: RefCell<&'c mut dyn Catalog>,
    /// The usable versions of each name read so far, in its bound registry.
    known: RefCell<HashMap<AgentName, Vec<Candidate>>>,
    /// The registry each name comes from.
    bindings: RefCell<HashMap<AgentName, RegistryId>>,
    roots: Vec<Root>,
    kept: &'a BTreeMap<AgentName, semver::Version>,
    steps: Cell<u32>,
}

impl Provider<'_, '_> {
    /// The versions of `name` in `registry` (read once).
    fn candidates(&self, name: &AgentName, registry: &RegistryId) -> Result<Option<Vec<Candidate>>, Failure> {
        if let Some(known) = self.known.borrow().get(name) {
            return Ok(Some(known.clone()));
        }
        if self.known.borrow().len() >= MAX_PACKAGES {
            return Err(Failure(format!(
                "the requirements reach more than {MAX_PACKAGES} packages; refusing to resolve a graph this large"
            )));
        }
        let found = self.catalog.borrow_mut().versions(registry, name).map_err(Failure)?;
        if let Some(found) = &found {
            self.known.borrow_mut().insert(name.clone(), found.clone());
        }
        Ok(found)
    }

    /// The set of `name`'s versions `requirement` allows, over the versions it has: each run of
    /// consecutive allowed versions is one range, from its first version up to the next one.
    fn range(&self, name: &AgentName, requirement: &semver::VersionReq) -> Ranges<semver::Version> {
        let known = self.known.borrow();
        let versions: Vec<&semver::Version> =
            known.get(name).map(|c| c.iter().map(|c| &c.version).collect()).unwrap_or_default();
        let mut range = Ranges::empty();
        let mut start: Option<&semver::Version> = None;
        for (index, version) in versions.iter().enumerate() {
            let allowed = requirement.matches(version);
            match (allowed, start) {
                (true, None) => start = Some(version),
                (false, Some(first)) => {
                    range = range.union(&Ranges::between(first.clone(), (*version).clone()));
                    start = None;
                }
                _ => {}
            }
            if index + 1 == versions.len()
                && let Some(first) = start
            {
                range = range.union(&Ranges::higher_than(first.clone()));
            }
        }
        range
    }

    fn root_dependencies(&self) -> Result<DependencyConstraints<Node, Ranges<semver::Version>>, Failure> {
        let mut constraints = Vec::new();
        for root in &self.roots {
            let range = match self.candidates(&root.name, &root.registry)? {
                Some(_) => self.range(&root.name, &root.requirement),
                None => Ranges::empty(),
            };
            constraints.push((Node::Package(root.name.clone()), range));
        }
        Ok(constraints.into_iter().collect())
    }

    /// What `name@version` requires, as ranges, or why it cannot be used.
    fn package_dependencies(
        &self,
        name: &AgentName,
        version: &semver::Version,
    ) -> Result<pubgrub::Dependencies<Node, Ranges<semver::Version>, String>, Failure> {
        let requires = self
            .known
            .borrow()
            .get(name)
            .and_then(|c| c.iter().find(|c| &c.version == version))
            .map(|c| c.requires.clone())
            .unwrap_or_default();
        let own = self.bindings.borrow().get(name).cloned().expect("a chosen package is bound");
        let mut constraints = Vec::new();
        for requirement in &requires {
            let registry = requirement.registry.clone().unwrap_or_else(|| own.clone());
            if let Err(reason) = self.catalog.borrow_mut().registry_name(&registry) {
                return Ok(pubgrub::Dependencies::Unavailable(format!("it requires {requirement}, but {reason}")));
            }
            let bound = self.bindings.borrow().get(&requirement.name).cloned();
            match bound {
                Some(bound) if bound != registry => {
                    let (theirs, ours) = (self.describe(&bound), self.describe(&registry));
                    return Ok(pubgrub::Dependencies::Unavailable(format!(
                        "it requires `{}` from registry {ours}, but the workspace takes `{}` from registry {theirs} \
                         (one name, one registry)",
                        requirement.name, requirement.name
                    )));
                }
                Some(_) => {}
                None => {
                    self.bindings.borrow_mut().insert(requirement.name.clone(), registry.clone());
                }
            }
            let range = match self.candidates(&requirement.name, &registry)? {
                Some(_) => self.range(&requirement.name, &requirement.requirement),
                None => Ranges::empty(),
            };
            constraints.push((Node::Package(requirement.name.clone()), range));
        }
        Ok(pubgrub::Dependencies::Available(constraints.into_iter().collect()))
    }

    fn describe(&self, registry: &RegistryId) -> String {
        match self.catalog.borrow_mut().registry_name(registry) {
            Ok(name) => format!("`{name}`"),
            Err(_) => format!("`{registry}`"),
        }
    }
}

impl DependencyProvider for Provider<'_, '_> {
    type P = Node;
    type V = semver::Version;
    type VS = Ranges<semver::Version>;
    type M = String;
    type Err = Failure;
    type Priority = (u32, std::cmp::Reverse<usize>);

    fn prioritize(&self, node: &Node, range: &Self::VS, statistics: &PackageResolutionStatistics) -> Self::Priority {
        let Node::Package(name) = node else { return (u32::MAX, std::cmp::Reverse(0)) };
        let count =
            self.known.borrow().get(name).map_or(0, |c| c.iter().filter(|c| range.contains(&c.version)).count());
        if count == 0 {
            return (u32::MAX, std::cmp::Reverse(0));
        }
        (statistics.conflict_count(), std::cmp::Reverse(count))
    }

    fn choose_version(&self, node: &Node, range: &Self::VS) -> Result<Option<semver::Version>, Failure> {
        let steps = self.steps.get() + 1;
        self.steps.set(steps);
        if steps > MAX_STEPS {
            return Err(Failure(format!("resolution gave up after trying {MAX_STEPS} versions")));
        }
        let Node::Package(name) = node else { return Ok(Some(semver::Version::new(0, 0, 0))) };
        let known = self.known.borrow();
        let Some(candidates) = known.get(name) else { return Ok(None) };
        if let Some(kept) = self.kept.get(name).filter(|kept| range.contains(kept))
            && candidates.iter().any(|c| &c.version == kept)
        {
            return Ok(Some(kept.clone()));
        }
        Ok(candidates.iter().rev().find(|c| range.contains(&c.version)).map(|c| c.version.clone()))
    }

    fn get_dependencies(
        &self,
        node: &Node,
        version: &semver::Version,
    ) -> Result<pubgrub::Dependencies<Node, Self::VS, String>, Failure> {
        match node {
            Node::Workspace => Ok(pubgrub::Dependencies::Available(self.root_dependencies()?)),
            Node::Package(name) => self.package_dependencies(name, version),
        }
    }
}

type Tree = DerivationTree<Node, Ranges<semver::Version>, String>;

impl Provider<'_, '_> {
    /// The facts of a derivation tree, walked without recursion (a chain of thousands of
    /// packages makes a tree as deep) and each shared node once.
    fn explain(&self, tree: &Tree) -> Derivation {
        let mut facts: Vec<Fact> = Vec::new();
        let mut seen: BTreeSet<usize> = BTreeSet::new();
        let mut stack: Vec<&Tree> = vec![tree];
        while let Some(node) = stack.pop() {
            match node {
                DerivationTree::Derived(derived) => {
                    if let Some(id) = derived.shared_id
                        && !seen.insert(id)
                    {
                        continue;
                    }
                    stack.push(Arc::as_ref(&derived.cause2));
                    stack.push(Arc::as_ref(&derived.cause1));
                }
                DerivationTree::External(external) => {
                    for fact in self.facts(external) {
                        if !facts.contains(&fact) {
                            facts.push(fact);
                        }
                    }
                }
            }
        }
        // Requirements first, from the workspace down, then what they could not meet.
        let depth: HashMap<AgentName, usize> =
            requirement_depths(&facts).into_iter().map(|(name, depth)| (name.clone(), depth)).collect();
        facts.sort_by_key(|fact| match fact {
            // By how far below the workspace the requiring package is.
            Fact::Requires { by: None, .. } => (0, 0),
            Fact::Requires { by: Some((by, _)), .. } => (0, depth.get(by).map_or(usize::MAX, |d| d + 1)),
            Fact::Unusable { .. } => (1, 0),
            Fact::NoVersion { .. } => (2, 0),
        });
        Derivation { facts }
    }

    /// The facts of one external incompatibility: a requirement, and when it allows no usable
    /// version at all, that too (PubGrub then records only the requirement).
    fn facts(&self, external: &External<Node, Ranges<semver::Version>, String>) -> Vec<Fact> {
        let mut out: Vec<Fact> = self.fact(external).into_iter().collect();
        if let External::FromDependencyOf(_, _, Node::Package(name), range) = external
            && self.highest_in(name, range).is_none()
        {
            // The requirement as written (`^2`) says it better than the versions it allows,
            // which are none of those published.
            let range = match out.first() {
                Some(Fact::Requires { requirement, .. }) => format!("matches {requirement}"),
                _ => format!("is {}", show_range(range)),
            };
            out.push(Fact::NoVersion { name: name.clone(), range, published: self.usable(name) });
        }
        out
    }

    fn usable(&self, name: &AgentName) -> Vec<semver::Version> {
        self.known.borrow().get(name).map(|c| c.iter().map(|c| c.version.clone()).collect()).unwrap_or_default()
    }

    fn fact(&self, external: &External<Node, Ranges<semver::Version>, String>) -> Option<Fact> {
        match external {
            External::NotRoot(..) => None,
            // "No version above the newest": true, and implied by the versions a fact lists.
            External::NoVersions(Node::Package(name), range) if self.above_every_version(name, range) => None,
            External::NoVersions(Node::Package(name), range) => Some(Fact::NoVersion {
                name: name.clone(),
                range: format!("is {}", show_range(range)),
                published: self.usable(name),
            }),
            External::NoVersions(Node::Workspace, _) => None,
            External::Custom(Node::Package(name), range, reason) => Some(Fact::Unusable {
                name: name.clone(),
                version: self.highest_in(name, range),
                reason: reason.clone(),
            }),
            External::Custom(Node::Workspace, _, reason) => Some(Fact::Unusable {
                name: AgentName::new("workspace").expect("a valid name"),
                version: None,
                reason: reason.clone(),
            }),
            External::FromDependencyOf(by, by_range, Node::Package(name), _) => {
                let by = match by {
                    Node::Workspace => None,
                    Node::Package(by) => Some((by.clone(), self.highest_in(by, by_range)?)),
                };
                let requirement = self.requirement_text(by.as_ref(), name)?;
                Some(Fact::Requires { by, name: name.clone(), requirement })
            }
            External::FromDependencyOf(_, _, Node::Workspace, _) => None,
        }
    }

    /// Whether `range` starts above every usable version of `name` (a name with none is not).
    fn above_every_version(&self, name: &AgentName, range: &Ranges<semver::Version>) -> bool {
        use std::ops::Bound::{Excluded, Included};
        let known = self.known.borrow();
        let Some(newest) = known.get(name).and_then(|c| c.last()) else { return false };
        match range.bounding_range() {
            Some((Excluded(start), _)) => *start >= newest.version,
            Some((Included(start), _)) => *start > newest.version,
            _ => false,
        }
    }

    /// The highest usable version of `name` in `range`: the one a fact about the range names.
    fn highest_in(&self, name: &AgentName, range: &Ranges<semver::Version>) -> Option<semver::Version> {
        self.known.borrow().get(name)?.iter().rev().find(|c| range.contains(&c.version)).map(|c| c.version.clone())
    }

    /// The requirement on `name` as its author wrote it: by the workspace, or by `by`.
    fn requirement_text(&self, by: Option<&(AgentName, semver::Version)>, name: &AgentName) -> Option<String> {
        match by {
            None => self.roots.iter().find(|r| &r.name == name).map(|r| r.requirement.to_string()),
            Some((by, version)) => self
                .known
                .borrow()
                .get(by)?
                .iter()
                .find(|c| &c.version == version)?
                .requires
                .iter()
                .find(|r| &r.name == name)
                .map(|r| r.requirement.to_string()),
        }
    }
}

/// How far below the workspace each required name is, along the requirement facts.
fn requirement_depths(facts: &[Fact]) -> HashMap<&AgentName, usize> {
    let mut below: HashMap<Option<&AgentName>, Vec<&AgentName>> = HashMap::new();
    for fact in facts {
        if let Fact::Requires { by, name, .. } = fact {
            below.entry(by.as_ref().map(|(by, _)| by)).or_default().push(name);
        }
    }
    let mut depth: HashMap<&AgentName, usize> = HashMap::new();
    let mut queue: std::collections::VecDeque<(Option<&AgentName>, usize)> = [(None, 0)].into();
    while let Some((at, level)) = queue.pop_front() {
        for name in below.get(&at).into_iter().flatten() {
            if !depth.contains_key(name) {
                depth.insert(name, level);
                queue.push_back((Some(name), level + 1));
            }
        }
    }
    depth
}

/// A range of versions in semver's words (`>=1.0.0, <2.0.0`; several joined by ` or `).
fn show_range(range: &Ranges<semver::Version>) -> String {
    use std::ops::Bound::{Excluded, Included, Unbounded};
    let parts: Vec<String> = range
        .iter()
        .map(|segment| match segment {
            (Included(a), Included(b)) if a == b => format!("={a}"),
            (Unbounded, Unbounded) => "any version".to_owned(),
            (start, end) => {
                let start = match start {
                    Included(a) => Some(format!(">={a}")),
                    Excluded(a) => Some(format!(">{a}")),
                    Unbounded => None,
                };
                let end = match end {
                    Included(b) => Some(format!("<={b}")),
                    Excluded(b) => Some(format!("<{b}")),
                    Unbounded => None,
                };
                start.into_iter().chain(end).collect::<Vec<_>>().join(", ")
            }
        })
        .collect();
    if parts.is_empty() { "no version".to_owned() } else { parts.join(" or ") }
}

impl fmt::Display for Fact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fact::Requires { by: None, name, requirement } => write!(f, "the workspace requires {name} {requirement}"),
            Fact::Requires { by: Some((by, version)), name, requirement } => {
                write!(f, "{by} {version} requires {name} {requirement}")
            }
            Fact::NoVersion { name, range, published } if published.is_empty() => {
                write!(f, "{name} has no usable version (one that {range} was needed)")
            }
            Fact::NoVersion { name, range, published } => {
                let shown: Vec<String> = published.iter().rev().take(8).map(ToString::to_string).collect();
                let more = if published.len() > 8 { ", …" } else { "" };
                write!(f, "no version of {name} {range} (usable: {}{more})", shown.join(", "))
            }
            Fact::Unusable { name, version: Some(version), reason } => {
                write!(f, "{name} {version} cannot be used: {reason}")
            }
            Fact::Unusable { name, version: None, reason } => write!(f, "{name} cannot be used: {reason}"),
        }
    }
}

impl fmt::Display for Derivation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The clash in one sentence first: two requirements on one name that no version meets.
        let mut on: BTreeMap<&AgentName, Vec<&Fact>> = BTreeMap::new();
        for fact in &self.facts {
            if let Fact::Requires { name, .. } = fact {
                on.entry(name).or_default().push(fact);
            }
        }
        let clash = on.iter().find(|(_, facts)| facts.len() >= 2);
        match clash {
            Some((name, facts)) => {
                let said: Vec<String> = facts.iter().map(ToString::to_string).collect();
                write!(f, "{}; no version of {name} satisfies both", said.join(", but "))?;
            }
            None => f.write_str("no set of versions satisfies every requirement")?,
        }
        f.write_str("\nbecause:")?;
        for fact in self.facts.iter().take(SHOWN_FACTS) {
            write!(f, "\n  {fact}")?;
        }
        if self.facts.len() > SHOWN_FACTS {
            write!(f, "\n  … and {} more", self.facts.len() - SHOWN_FACTS)?;
        }
        Ok(())
    }
}

impl fmt::Display for SolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SolveError::NoSolution(derivation) => derivation.fmt(f),
            SolveError::Failed(reason) => f.write_str(reason),
        }
    }
}

#[cfg(test)]
mod tests;
