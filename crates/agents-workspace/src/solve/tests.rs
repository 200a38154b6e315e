//! The solver against registries held in memory (resolution is a pure function of the records
//! it reads): table cases, the hostile shapes, and a property over random registries.

use std::collections::BTreeMap;

use agents_format::{AgentName, RegistryId, Requirement};
use proptest::prelude::*;

use super::{Candidate, Catalog, Fact, Root, SolveError, solve};

/// Registry id → name → versions.
#[derive(Default, Clone, Debug)]
struct Memory {
    registries: BTreeMap<String, BTreeMap<String, Vec<Candidate>>>,
    reads: usize,
}

impl Memory {
    fn add(&mut self, registry: &str, name: &str, version: &str, requires: &[&str]) {
        let requires = requires.iter().map(|r| Requirement::parse(r).unwrap()).collect::<Vec<_>>();
        let versions = self.registries.entry(registry.to_owned()).or_default().entry(name.to_owned()).or_default();
        versions.push(Candidate { version: version.parse().unwrap(), requires: sorted(requires) });
        versions.sort_by(|a, b| a.version.cmp(&b.version));
    }
}

fn sorted(mut requires: Vec<Requirement>) -> Vec<Requirement> {
    requires.sort();
    requires
}

impl Catalog for Memory {
    fn versions(&mut self, registry: &RegistryId, name: &AgentName) -> Result<Option<Vec<Candidate>>, String> {
        self.reads += 1;
        Ok(self.registries.get(registry.as_str()).and_then(|r| r.get(name.as_str())).cloned())
    }

    fn registry_name(&mut self, registry: &RegistryId) -> Result<String, String> {
        if self.registries.contains_key(registry.as_str()) {
            Ok(registry.to_string())
        } else {
            Err(format!("none of your registries has id `{registry}`"))
        }
    }
}

fn root(name: &str, requirement: &str) -> Root {
    Root {
        name: AgentName::new(name).unwrap(),
        requirement: requirement.parse().unwrap(),
        registry: RegistryId::new("main").unwrap(),
    }
}

fn versions(solution: &BTreeMap<AgentName, super::Selected>) -> Vec<String> {
    solution.iter().map(|(name, s)| format!("{name}@{}", s.version)).collect()
}

#[test]
fn a_bundle_resolves_to_the_highest_versions_that_fit_together() {
    let mut registry = Memory::default();
    registry.add("main", "acme-backend", "1.3.0", &["reviewer@^1", "test-writer@^1", "pdf@^1"]);
    registry.add("main", "reviewer", "1.0.0", &["test-writer@^1"]);
    registry.add("main", "reviewer", "1.1.0", &["test-writer@^1.2"]);
    registry.add("main", "reviewer", "2.0.0", &["test-writer@^2"]);
    for v in ["1.0.0", "1.2.0", "1.3.0", "2.0.0"] {
        registry.add("main", "test-writer", v, &[]);
    }
    registry.add("main", "pdf", "1.0.0", &[]);
    registry.add("main", "pdf", "1.1.0-beta.1", &[]);
    let solution = solve(&mut registry, &[root("acme-backend", "^1")], &BTreeMap::new()).unwrap();
    assert_eq!(versions(&solution), ["acme-backend@1.3.0", "pdf@1.0.0", "reviewer@1.1.0", "test-writer@1.3.0"]);
    assert!(solution[&AgentName::new("acme-backend").unwrap()].requested);
    assert!(!solution[&AgentName::new("reviewer").unwrap()].requested);

    // A kept version is preferred while it fits; a pre-release only when asked for.
    let kept = BTreeMap::from([(AgentName::new("test-writer").unwrap(), "1.2.0".parse().unwrap())]);
    let solution = solve(&mut registry, &[root("acme-backend", "^1")], &kept).unwrap();
    assert_eq!(versions(&solution), ["acme-backend@1.3.0", "pdf@1.0.0", "reviewer@1.1.0", "test-writer@1.2.0"]);
    let solution = solve(&mut registry, &[root("pdf", "^1.1.0-beta")], &BTreeMap::new()).unwrap();
    assert_eq!(versions(&solution), ["pdf@1.1.0-beta.1"]);
    // The bundle's `^1` does not take the pre-release, so asking for both cannot be met.
    let error = solve(&mut registry, &[root("acme-backend", "^1"), root("pdf", "^1.1.0-beta")], &BTreeMap::new());
    let text = error.unwrap_err().to_string();
    assert!(text.contains("acme-backend 1.3.0 requires pdf ^1"), "{text}");
}

/// A requirement no published version meets is named as written, with what there is.
#[test]
fn a_requirement_nothing_published_meets_is_said_in_its_own_words() {
    let mut registry = Memory::default();
    registry.add("main", "reviewer", "2.0.0", &["test-writer@^2"]);
    registry.add("main", "test-writer", "1.0.0", &[]);
    let text = solve(&mut registry, &[root("reviewer", "^2")], &BTreeMap::new()).unwrap_err().to_string();
    assert!(text.contains("reviewer 2.0.0 requires test-writer ^2"), "{text}");
    assert!(text.contains("no version of test-writer matches ^2 (usable: 1.0.0)"), "{text}");
}

#[test]
fn a_conflict_names_both_requirements_and_who_made_them() {
    let mut registry = Memory::default();
    registry.add("main", "acme-backend", "1.3.0", &["reviewer@^2", "test-writer@^1"]);
    registry.add("main", "reviewer", "2.0.0", &["test-writer@^2"]);
    registry.add("main", "test-writer", "1.0.0", &[]);
    registry.add("main", "test-writer", "2.0.0", &[]);
    let error = solve(&mut registry, &[root("acme-backend", "^1")], &BTreeMap::new()).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("reviewer 2.0.0 requires test-writer ^2"), "{text}");
    assert!(text.contains("acme-backend 1.3.0 requires test-writer ^1"), "{text}");
    assert!(text.contains("no version of test-writer satisfies both"), "{text}");
}

#[test]
fn cycles_resolve_and_hostile_shapes_end_in_bounded_errors() {
    // A cycle is allowed: one version per name breaks it.
    let mut registry = Memory::default();
    registry.add("main", "a", "1.0.0", &["b@1"]);
    registry.add("main", "b", "1.0.0", &["a@1"]);
    assert_eq!(versions(&solve(&mut registry, &[root("a", "*")], &BTreeMap::new()).unwrap()), ["a@1.0.0", "b@1.0.0"]);

    // A requirement on a registry the user does not have makes that version unusable, said so.
    let mut registry = Memory::default();
    registry.add("main", "a", "1.0.0", &["r-elsewhere/b@1"]);
    let text = solve(&mut registry, &[root("a", "*")], &BTreeMap::new()).unwrap_err().to_string();
    assert!(text.contains("a 1.0.0 cannot be used: it requires r-elsewhere/b@^1"), "{text}");
    assert!(text.contains("none of your registries has id `r-elsewhere`"), "{text}");

    // A 10,000-deep chain stops at the package limit, quickly, without a deep recursion.
    let mut registry = Memory::default();
    for i in 0..10_000 {
        let next = format!("p{}@1", i + 1);
        registry.add("main", &format!("p{i}"), "1.0.0", &[&next]);
    }
    let started = std::time::Instant::now();
    let error = solve(&mut registry, &[root("p0", "*")], &BTreeMap::new()).unwrap_err();
    assert!(matches!(&error, SolveError::Failed(reason) if reason.contains("more than 4096 packages")), "{error}");
    assert!(registry.reads <= super::MAX_PACKAGES + 1, "{}", registry.reads);
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());

    // A chain just under the limit whose last link is missing fails with a derivation, within
    // a test thread's 2 MiB stack (the tree is walked without recursion), its message capped.
    let mut registry = Memory::default();
    for i in 0..4_000 {
        let next = format!("q{}@1", i + 1);
        registry.add("main", &format!("q{i}"), "1.0.0", &[&next]);
    }
    let error = solve(&mut registry, &[root("q0", "*")], &BTreeMap::new()).unwrap_err();
    let SolveError::NoSolution(derivation) = error else { panic!("{error}") };
    assert!(
        derivation.facts.iter().any(|f| matches!(f, Fact::NoVersion { name, .. } if name.as_str() == "q4000")),
        "{}",
        derivation.to_string().chars().take(2000).collect::<String>()
    );
    assert!(derivation.to_string().lines().count() < 50, "the message lists at most 40 facts");
}

/// Random registries: up to 6 names, up to 4 versions each, each version requiring up to 3
/// other names with a caret or tilde requirement on a random version.
fn registry_strategy() -> impl Strategy<Value = Memory> {
    let version = (0u64..3, 0u64..3).prop_map(|(major, minor)| format!("{major}.{minor}.0"));
    let requirement = (0usize..6, prop::sample::select(vec!["^", "~", "="]), version.clone());
    let release = (version, prop::collection::vec(requirement, 0..3));
    prop::collection::vec((0usize..6, release), 1..20).prop_map(|releases| {
        let mut memory = Memory::default();
        for (name, (version, requires)) in releases {
            let name = format!("n{name}");
            let known = memory.registries.get("main").and_then(|r| r.get(&name));
            if known.is_some_and(|v| v.iter().any(|c| c.version.to_string() == version)) {
                continue;
            }
            let mut texts: Vec<String> = Vec::new();
            for (target, op, v) in requires {
                let target = format!("n{target}");
                if target != name && !texts.iter().any(|t| t.starts_with(&format!("{target}@"))) {
                    texts.push(format!("{target}@{op}{v}"));
                }
            }
            let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
            memory.add("main", &name, &version, &texts);
        }
        memory
    })
}

/// Whether a fact of a derivation holds in `memory`.
fn holds(memory: &Memory, roots: &[Root], fact: &Fact) -> bool {
    let main = &memory.registries["main"];
    match fact {
        Fact::Requires { by: None, name, requirement } => {
            roots.iter().any(|r| &r.name == name && r.requirement.to_string() == *requirement)
        }
        Fact::Requires { by: Some((by, version)), name, requirement } => main
            .get(by.as_str())
            .and_then(|v| v.iter().find(|c| &c.version == version))
            .is_some_and(|c| c.requires.iter().any(|r| &r.name == name && r.requirement.to_string() == *requirement)),
        Fact::NoVersion { name, published, .. } => {
            let usable: Vec<semver::Version> =
                main.get(name.as_str()).map(|v| v.iter().map(|c| c.version.clone()).collect()).unwrap_or_default();
            usable == *published
        }
        Fact::Unusable { .. } => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Every solution meets every requirement with one version per name; every failure's
    /// facts hold in the registry; the same input always gives the same answer.
    #[test]
    fn solutions_satisfy_every_requirement_and_failures_are_true(
        memory in registry_strategy(),
        wanted in prop::collection::vec((0usize..6, prop::sample::select(vec!["*", "^0", "^1", "^2", "~1.1"])), 1..3),
        locked in prop::collection::vec((0usize..6, 0u64..3, 0u64..3), 0..4),
    ) {
        let mut roots: Vec<Root> = Vec::new();
        for (name, requirement) in wanted {
            let name = format!("n{name}");
            if !roots.iter().any(|r| r.name.as_str() == name) {
                roots.push(root(&name, requirement));
            }
        }
        // Kept versions (a lockfile's) change which solution is found, never whether it holds.
        let kept: BTreeMap<AgentName, semver::Version> = locked
            .into_iter()
            .map(|(name, major, minor)| (AgentName::new(&format!("n{name}")).unwrap(), semver::Version::new(major, minor, 0)))
            .collect();
        let first = solve(&mut memory.clone(), &roots, &kept);
        let second = solve(&mut memory.clone(), &roots, &kept);
        prop_assert_eq!(&first, &second);
        match first {
            Ok(solution) => {
                for r in &roots {
                    let chosen = &solution.get(&r.name).expect("every root is in the solution").version;
                    prop_assert!(r.requirement.matches(chosen), "{} {} chose {}", r.name, r.requirement, chosen);
                }
                for (name, selected) in &solution {
                    let published = &memory.registries["main"][name.as_str()];
                    let candidate = published.iter().find(|c| c.version == selected.version);
                    prop_assert!(candidate.is_some(), "{name}@{} is not published", selected.version);
                    for requirement in &selected.requires {
                        let chosen = solution.get(&requirement.name);
                        prop_assert!(
                            chosen.is_some_and(|c| requirement.requirement.matches(&c.version)),
                            "{name}@{} requires {requirement}, solution has {:?}", selected.version, chosen.map(|c| &c.version)
                        );
                    }
                }
            }
            Err(SolveError::NoSolution(derivation)) => {
                prop_assert!(!derivation.facts.is_empty());
                for fact in &derivation.facts {
                    prop_assert!(holds(&memory, &roots, fact), "false fact: {fact}\n{derivation}");
                }
            }
            Err(SolveError::Failed(reason)) => prop_assert!(false, "failed: {reason}"),
        }
    }
}
