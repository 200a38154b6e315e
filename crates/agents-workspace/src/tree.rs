//! The lockfile's graph as trees: `agents tree` (from what the workspace asked for down to what
//! it requires) and `agents why NAME` (from NAME up to what asked for it). Each package is
//! expanded once per tree; a later mention is marked `repeated`, so the output stays as small as
//! the graph, cycles included.

use std::collections::BTreeSet;

use agents_format::{AgentName, Kind, LockedAgent, Lockfile};

/// One package in a tree, and the packages below it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TreeNode {
    pub name: AgentName,
    pub version: semver::Version,
    pub kind: Kind,
    /// Whether the manifest (or the command line) asked for it.
    pub requested: bool,
    /// The requirement of the edge that leads here (`^1`), none at a tree's top.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requirement: Option<String>,
    /// Shown in full elsewhere in this tree (or a cycle back up): not expanded again.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub repeated: bool,
    /// `tree`: what it requires; `why`: what requires it.
    pub children: Vec<TreeNode>,
}

fn node(entry: &LockedAgent, requirement: Option<String>) -> TreeNode {
    TreeNode {
        name: entry.name.clone(),
        version: entry.version.clone(),
        kind: entry.kind,
        requested: entry.requested,
        requirement,
        repeated: false,
        children: Vec::new(),
    }
}

/// Every package the workspace asked for, each with what it requires below it.
pub fn dependency_tree(lockfile: &Lockfile) -> Vec<TreeNode> {
    let mut shown = BTreeSet::new();
    lockfile
        .agents()
        .iter()
        .filter(|a| a.requested)
        .map(|a| walk(a, None, &mut shown, &|entry| requirements(lockfile, entry)))
        .collect()
}

/// `name` with what requires it above it (as children), up to what the workspace asked for;
/// `None` when the lockfile does not hold `name`.
pub fn dependents_tree(lockfile: &Lockfile, name: &AgentName) -> Option<TreeNode> {
    let entry = lockfile.get(name)?;
    let mut shown = BTreeSet::new();
    Some(walk(entry, None, &mut shown, &|entry| dependents(lockfile, entry)))
}

/// The entries `entry` requires, each with the requirement.
fn requirements<'a>(lockfile: &'a Lockfile, entry: &LockedAgent) -> Vec<(&'a LockedAgent, String)> {
    entry
        .requires
        .iter()
        .filter_map(|required| Some((lockfile.get(&required.name)?, required.requirement.to_string())))
        .collect()
}

/// The entries that require `entry`, each with its requirement on it.
fn dependents<'a>(lockfile: &'a Lockfile, entry: &LockedAgent) -> Vec<(&'a LockedAgent, String)> {
    lockfile
        .agents()
        .iter()
        .filter_map(|dependent| {
            let required = dependent.requires.iter().find(|r| r.name == entry.name)?;
            Some((dependent, required.requirement.to_string()))
        })
        .collect()
}

/// `entry` and, below it, the tree `edges` leads to; an entry already shown is marked repeated
/// and not followed again (a cycle, or a shared dependency).
fn walk<'a>(
    entry: &'a LockedAgent,
    requirement: Option<String>,
    shown: &mut BTreeSet<AgentName>,
    edges: &dyn Fn(&'a LockedAgent) -> Vec<(&'a LockedAgent, String)>,
) -> TreeNode {
    let mut out = node(entry, requirement);
    if !shown.insert(entry.name.clone()) {
        out.repeated = true;
        return out;
    }
    for (child, requirement) in edges(entry) {
        out.children.push(walk(child, Some(requirement), shown, edges));
    }
    out
}

/// The locked packages nothing needs once `removed` go: those not reachable from any other
/// package the workspace asked for. `removed` themselves are included unless something else
/// still requires them (then they stay, as dependencies).
pub fn unneeded(lockfile: &Lockfile, removed: &[AgentName]) -> (Vec<AgentName>, Vec<AgentName>) {
    let roots: Vec<AgentName> = lockfile
        .agents()
        .iter()
        .filter(|a| a.requested && !removed.contains(&a.name))
        .map(|a| a.name.clone())
        .collect();
    let needed = crate::graph::reachable(lockfile, &roots);
    let (stay, go): (Vec<AgentName>, Vec<AgentName>) =
        lockfile.agents().iter().map(|a| a.name.clone()).partition(|name| needed.contains(name));
    let still_required = stay.into_iter().filter(|name| removed.contains(name)).collect();
    (go, still_required)
}

#[cfg(test)]
mod tests {
    use super::*;
    use agents_format::{RegistryId, Requirement, Sha256};

    fn entry(name: &str, requested: bool, requires: &[&str]) -> LockedAgent {
        LockedAgent {
            name: AgentName::new(name).unwrap(),
            version: semver::Version::new(1, 0, 0),
            registry: RegistryId::builtin(),
            kind: Kind::Agent,
            sha256: Sha256::of(name.as_bytes()),
            signer: None,
            files: Vec::new(),
            requires: requires.iter().map(|r| Requirement::parse(r).unwrap()).collect(),
            requested,
        }
    }

    fn names(node: &TreeNode) -> String {
        let children: Vec<String> = node.children.iter().map(names).collect();
        let mark = if node.repeated { "*" } else { "" };
        if children.is_empty() {
            format!("{}{mark}", node.name)
        } else {
            format!("{}({})", node.name, children.join(" "))
        }
    }

    #[test]
    fn trees_expand_each_package_once_and_survive_cycles() {
        let mut lockfile = Lockfile::default();
        lockfile.insert(entry("acme", true, &["reviewer@^1", "writer@^1"]));
        lockfile.insert(entry("reviewer", false, &["writer@^1"]));
        lockfile.insert(entry("writer", false, &["reviewer@^1"]));
        lockfile.insert(entry("solo", true, &[]));
        let tree: Vec<String> = dependency_tree(&lockfile).iter().map(names).collect();
        assert_eq!(tree, ["acme(reviewer(writer(reviewer*)) writer*)", "solo"]);
        let why = dependents_tree(&lockfile, &AgentName::new("writer").unwrap()).unwrap();
        assert_eq!(names(&why), "writer(acme reviewer(acme* writer*))");
        assert!(dependents_tree(&lockfile, &AgentName::new("none").unwrap()).is_none());

        // Removing acme leaves nothing needing reviewer and writer; removing solo takes only solo.
        let name = |n: &str| AgentName::new(n).unwrap();
        assert_eq!(
            unneeded(&lockfile, &[name("acme")]),
            (vec![name("acme"), name("reviewer"), name("writer")], vec![])
        );
        assert_eq!(unneeded(&lockfile, &[name("solo")]), (vec![name("solo")], vec![]));
        // A requested package another still requires stays, as a dependency.
        lockfile.insert(entry("reviewer", true, &["writer@^1"]));
        assert_eq!(unneeded(&lockfile, &[name("reviewer")]), (vec![], vec![name("reviewer")]));
    }
}
