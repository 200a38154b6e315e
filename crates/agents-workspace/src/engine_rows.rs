//! The model's rows, beside `decide`'s: each row is a workspace (files on disk, the state, the
//! lockfile before) and a command's wanted packages, run through the one model (`wanted`,
//! `managed`) and the one plan; the row names the decision each path gets. Real files in a
//! temporary directory; the registry is an in-memory set of published versions.

use std::collections::BTreeMap;

use agents_format::{AgentName, FileMode, Kind, LockedAgent, Lockfile, RegistryId, RelativePath, Sha256, Target};
use agents_registry::PackageContent;

use super::{Blocker, Decision, plan};
use crate::error::Result;
use crate::fs::{Expect, Root};
use crate::model::{self, Disk, Loaded, Loader, Package, Pins, Published};
use crate::placement::{Contents, Placement, Scope, ToolHomes};
use crate::state::WorkspaceState;

fn path(text: &str) -> RelativePath {
    RelativePath::parse(text).unwrap()
}

fn version(text: &str) -> semver::Version {
    semver::Version::parse(text).unwrap()
}

fn agent(body: &str) -> Contents {
    Contents::Agent(format!("---\nname: rev\ndescription: Reviews code\n---\n{body}").into_bytes())
}

fn skill(files: &[(&str, &str)]) -> Contents {
    Contents::Package(
        files
            .iter()
            .map(|(p, bytes)| PackageContent::new(path(p), FileMode::Regular, bytes.as_bytes().to_vec()))
            .collect(),
    )
}

/// Published versions of one package.
struct Registry {
    name: AgentName,
    kind: Kind,
    versions: BTreeMap<semver::Version, Contents>,
}

impl Registry {
    fn new(name: &str, kind: Kind, versions: &[(&str, Contents)]) -> Registry {
        Registry {
            name: AgentName::new(name).unwrap(),
            kind,
            versions: versions.iter().map(|(v, c)| (version(v), c.clone())).collect(),
        }
    }

    fn published(&self) -> Published {
        let mut published = Published::default();
        for (v, contents) in &self.versions {
            match contents {
                Contents::Agent(bytes) => published.bodies.push((v.clone(), Sha256::of(bytes))),
                Contents::Package(files) => {
                    published.files.extend(files.iter().map(|f| (v.clone(), f.file.path.clone(), f.file.sha256)))
                }
            }
        }
        published
    }

    /// The pin of `v`, placed for `tools`.
    fn pin(&self, placement: Placement<'_>, tools: &[Target], v: &str) -> LockedAgent {
        let contents = &self.versions[&version(v)];
        let sha256 = match contents {
            Contents::Agent(bytes) => Sha256::of(bytes),
            Contents::Package(_) => Sha256::of(b"digest"),
        };
        let pin = LockedAgent {
            name: self.name.clone(),
            version: version(v),
            registry: RegistryId::new("team").unwrap(),
            kind: self.kind,
            sha256,
            signer: None,
            files: Vec::new(),
            requires: Vec::new(),
            requested: true,
        };
        model::lock_entry(placement, tools, pin, contents)
    }
}

impl Loader for Registry {
    fn load(&mut self, pin: &LockedAgent) -> Result<Loaded> {
        Ok(Loaded { contents: self.versions[&pin.version].clone(), published: self.published() })
    }

    fn load_version(&mut self, _: &LockedAgent, v: &semver::Version) -> Result<Option<Contents>> {
        Ok(self.versions.get(v).cloned())
    }
}

/// A workspace in a temporary directory.
struct Scene {
    dir: tempfile::TempDir,
    state: WorkspaceState,
    before: Lockfile,
    homes: ToolHomes,
}

impl Scene {
    fn new() -> Scene {
        Scene {
            dir: tempfile::tempdir().unwrap(),
            state: WorkspaceState::default(),
            before: Lockfile::default(),
            homes: ToolHomes::default(),
        }
    }

    fn placement(&self) -> Placement<'_> {
        Placement { scope: Scope::Project, tools: &self.homes }
    }

    fn write(&self, relative: &str, bytes: &[u8]) {
        let file = self.dir.path().join(relative);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, bytes).unwrap();
    }

    /// `registry`'s version `v` installed for `tools` as this tool would: its files written and
    /// recorded, and pinned in the lockfile before the command.
    fn installed(&mut self, registry: &Registry, tools: &[Target], v: &str) {
        let pin = registry.pin(self.placement(), tools, v);
        let placed = self.placement().place(registry.kind, &registry.name, tools, &registry.versions[&version(v)]);
        for file in placed.files {
            self.write(file.path.as_str(), &file.bytes);
            self.state.record(&file.path, &registry.name, Sha256::of(&file.bytes), &version(v));
        }
        self.before.insert(pin);
    }

    /// The decision each path gets when the command wants `registry` at `v` for `tools` (`None`:
    /// the package is not wanted at all).
    fn decide(&self, registry: &mut Registry, tools: &[Target], v: Option<&str>) -> Vec<(String, Decision)> {
        let root = Root::open(self.dir.path()).unwrap();
        let disk = Disk::new(&root, &self.state);
        let packages: Vec<Package> = v
            .map(|v| {
                let pin = registry.pin(self.placement(), tools, v);
                let mut package = Package::pinned(&pin, true);
                package.loaded =
                    Some(Loaded { contents: registry.versions[&pin.version].clone(), published: registry.published() });
                package
            })
            .into_iter()
            .collect();
        let placement = self.placement();
        let wanted =
            model::wanted(placement, tools, packages, &disk, &self.state, &self.before, registry, false).unwrap();
        let pins = Pins::of(placement, &self.before);
        let files = model::managed(&wanted, &pins, &self.before, &self.state, &disk, &[]).unwrap();
        let steps = plan(&root, files, false).unwrap();
        steps.into_iter().map(|step| (step.file.path.to_string(), step.decision)).collect()
    }
}

fn expect_bytes(bytes: &[u8]) -> Expect {
    Expect::Bytes(Sha256::of(bytes))
}

fn decision<'a>(decisions: &'a [(String, Decision)], at: &str) -> &'a Decision {
    &decisions.iter().find(|(p, _)| p == at).unwrap_or_else(|| panic!("no step for {at}: {decisions:?}")).1
}

#[test]
fn a_merged_file_is_the_users_and_merges_again_never_removed() {
    let v1 = agent("Rule one.\nRule two.\nRule three.\n");
    let v2 = agent("Rule one, improved.\nRule two.\nRule three.\n");
    let mut registry = Registry::new("rev", Kind::Agent, &[("1.0.0", v1), ("1.1.0", v2)]);
    let mut scene = Scene::new();
    scene.installed(&registry, &[], "1.0.0");
    // The user's edit, merged earlier onto 1.0.0: recorded as theirs.
    let merged = b"---\nname: rev\ndescription: Reviews code\n---\nRule one.\nRule two.\nRule three, ours.\n";
    scene.write(".claude/agents/rev.md", merged);
    scene.state.record_merge(
        &path(".claude/agents/rev.md"),
        &registry.name,
        Sha256::of(merged),
        &version("1.0.0"),
        None,
    );
    // The pin moves: merged again.
    let rows = scene.decide(&mut registry, &[], Some("1.1.0"));
    assert_eq!(decision(&rows, ".claude/agents/rev.md"), &Decision::Merge(expect_bytes(merged)));
    // The package goes: the merged file is kept, never removed as if it were ours.
    let rows = scene.decide(&mut registry, &[], None);
    assert_eq!(decision(&rows, ".claude/agents/rev.md"), &Decision::Conflict(Blocker::LocalEdit));
}

#[test]
fn a_kept_edit_stays_and_a_pristine_file_is_restored() {
    let mut registry = Registry::new("rev", Kind::Agent, &[("1.0.0", agent("Rules.\n"))]);
    let mut scene = Scene::new();
    scene.installed(&registry, &[], "1.0.0");
    let rows = scene.decide(&mut registry, &[], Some("1.0.0"));
    assert_eq!(decision(&rows, ".claude/agents/rev.md"), &Decision::Keep);
    std::fs::remove_file(scene.dir.path().join(".claude/agents/rev.md")).unwrap();
    let rows = scene.decide(&mut registry, &[], Some("1.0.0"));
    assert_eq!(decision(&rows, ".claude/agents/rev.md"), &Decision::Write(Expect::Missing));
    scene.write(".claude/agents/rev.md", b"mine\n");
    let rows = scene.decide(&mut registry, &[], Some("1.0.0"));
    assert_eq!(decision(&rows, ".claude/agents/rev.md"), &Decision::Conflict(Blocker::LocalEdit));
}

#[test]
fn an_edit_that_conflicts_with_the_new_version_is_a_merge_conflict() {
    let v1 = agent("Rule one.\n");
    let v2 = agent("Rule one, theirs.\n");
    let mut registry = Registry::new("rev", Kind::Agent, &[("1.0.0", v1), ("1.1.0", v2)]);
    let mut scene = Scene::new();
    scene.installed(&registry, &[], "1.0.0");
    scene.write(".claude/agents/rev.md", b"---\nname: rev\ndescription: Reviews code\n---\nRule one, ours.\n");
    let rows = scene.decide(&mut registry, &[], Some("1.1.0"));
    assert_eq!(decision(&rows, ".claude/agents/rev.md"), &Decision::Conflict(Blocker::MergeConflict));
}

#[test]
fn a_converted_file_is_planned_at_its_own_path() {
    let mut registry = Registry::new("rev", Kind::Agent, &[("1.0.0", agent("Rules.\n"))]);
    let mut scene = Scene::new();
    scene.installed(&registry, &[], "1.0.0");
    // A target added to the project: the converted file is written, the Claude Code file kept.
    let rows = scene.decide(&mut registry, &[Target::OpenCode], Some("1.0.0"));
    assert_eq!(decision(&rows, ".claude/agents/rev.md"), &Decision::Keep);
    assert_eq!(decision(&rows, ".opencode/agent/rev.md"), &Decision::Write(Expect::Missing));
    // Installed for it, then edited there: the edit is the user's, at that path.
    scene.installed(&registry, &[Target::OpenCode], "1.0.0");
    scene.write(".opencode/agent/rev.md", b"my opencode tweaks\n");
    let rows = scene.decide(&mut registry, &[Target::OpenCode], Some("1.0.0"));
    assert_eq!(decision(&rows, ".opencode/agent/rev.md"), &Decision::Conflict(Blocker::LocalEdit));
    assert_eq!(decision(&rows, ".claude/agents/rev.md"), &Decision::Keep);
}

#[test]
fn a_package_file_follows_its_own_history() {
    let v1 = skill(&[("SKILL.md", "# pdf 1\n"), ("forms.md", "# Forms\n"), ("old.md", "old\n")]);
    let v2 = skill(&[("SKILL.md", "# pdf 2\n"), ("forms.md", "# Forms\n"), ("new.md", "new\n")]);
    let mut registry = Registry::new("pdf", Kind::Skill, &[("1.0.0", v1), ("1.1.0", v2)]);
    let mut scene = Scene::new();
    scene.installed(&registry, &[], "1.0.0");
    scene.write(".claude/skills/pdf/forms.md", b"# Forms\nmy notes\n");
    let rows = scene.decide(&mut registry, &[], Some("1.1.0"));
    assert_eq!(decision(&rows, ".claude/skills/pdf/SKILL.md"), &Decision::Write(expect_bytes(b"# pdf 1\n")));
    // The new version did not change the edited file: the edit stays, on the new version.
    assert_eq!(decision(&rows, ".claude/skills/pdf/forms.md"), &Decision::KeepEdit);
    assert_eq!(decision(&rows, ".claude/skills/pdf/new.md"), &Decision::Write(Expect::Missing));
    assert_eq!(decision(&rows, ".claude/skills/pdf/old.md"), &Decision::Remove(expect_bytes(b"old\n")));
}

#[test]
fn a_removed_target_removes_its_files_under_the_same_rule() {
    let mut registry = Registry::new("rev", Kind::Agent, &[("1.0.0", agent("Rules.\n"))]);
    let mut scene = Scene::new();
    scene.installed(&registry, &[Target::OpenCode, Target::Codex], "1.0.0");
    scene.write(".codex/agents/rev.toml", b"my codex tweaks\n");
    let opencode = std::fs::read(scene.dir.path().join(".opencode/agent/rev.md")).unwrap();
    // Both targets dropped: the pristine converted file goes, the edited one stays.
    let rows = scene.decide(&mut registry, &[], Some("1.0.0"));
    assert_eq!(decision(&rows, ".claude/agents/rev.md"), &Decision::Keep);
    assert_eq!(decision(&rows, ".opencode/agent/rev.md"), &Decision::Remove(expect_bytes(&opencode)));
    assert_eq!(decision(&rows, ".codex/agents/rev.toml"), &Decision::Conflict(Blocker::LocalEdit));
}
