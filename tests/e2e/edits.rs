//! Local edits are never lost: a property test over random sequences of edit, delete, install,
//! update, yank, lockfile change (a `git pull`) and daemon-style sync.

use agents_test_support::{TestEnv, reliability};
use proptest::prelude::*;

const VERSIONS: [&str; 3] = ["1.0.0", "1.1.0", "1.2.0"];

#[derive(Debug, Clone)]
enum Op {
    Edit(u8),
    Delete,
    Install(usize),
    Update,
    Yank(usize),
    Unyank(usize),
    PullLockfile(usize),
    Sync,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<u8>().prop_map(Op::Edit),
        Just(Op::Delete),
        (0..3usize).prop_map(Op::Install),
        Just(Op::Update),
        (0..3usize).prop_map(Op::Yank),
        (0..3usize).prop_map(Op::Unyank),
        (0..3usize).prop_map(Op::PullLockfile),
        Just(Op::Sync),
    ]
}

fn cases() -> u32 {
    if std::env::var_os("AGENTS_SLOW_TESTS").is_some() { 256 } else { 24 }
}

struct World {
    env: TestEnv,
    /// Lockfiles pinning each version, as a teammate's `git pull` would bring them.
    locks: Vec<Vec<u8>>,
}

impl World {
    fn new() -> World {
        let env = TestEnv::new();
        env.registry("team");
        for version in VERSIONS {
            env.publish("alpha", version);
        }
        let other = env.checkout("other");
        let mut locks = Vec::new();
        for version in VERSIONS {
            let mut command = env.agents();
            command.current_dir(&other).args(["install", &format!("alpha@={version}"), "--registry", "team"]);
            assert!(command.output().unwrap().status.success());
            locks.push(std::fs::read(other.join("agents.lock")).unwrap());
        }
        env.run(["install", "alpha@^1.0"]).success();
        World { env, locks }
    }

    fn file(&self) -> std::path::PathBuf {
        self.env.agents_dir().join("alpha.md")
    }
}

fn apply(world: &World, op: &Op, edit: &mut Option<String>) {
    let env = &world.env;
    let run = |args: &[&str]| {
        let run = env.run(args);
        assert!(!run.stderr().contains("panicked"), "{args:?} panicked: {}", run.stderr());
    };
    match op {
        Op::Edit(seed) => {
            let text = format!("my own alpha, edit {seed}\n");
            std::fs::create_dir_all(env.agents_dir()).unwrap();
            std::fs::write(world.file(), &text).unwrap();
            *edit = Some(text);
        }
        Op::Delete => {
            let _ = std::fs::remove_file(world.file());
            *edit = None;
        }
        Op::Install(v) => run(&["install", &format!("alpha@={}", VERSIONS[*v])]),
        Op::Update => run(&["update"]),
        Op::Yank(v) => run(&["yank", &format!("alpha@{}", VERSIONS[*v])]),
        Op::Unyank(v) => run(&["yank", "--undo", &format!("alpha@{}", VERSIONS[*v])]),
        Op::PullLockfile(v) => std::fs::write(env.project.join("agents.lock"), &world.locks[*v]).unwrap(),
        Op::Sync => run(&["sync"]),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 64, ..ProptestConfig::default() })]

    #[test]
    fn a_local_edit_survives_any_sequence_of_operations(ops in proptest::collection::vec(op(), 1..12)) {
        let world = World::new();
        let mut edit: Option<String> = None;
        for (step, op) in ops.iter().enumerate() {
            apply(&world, op, &mut edit);
            let on_disk = std::fs::read_to_string(world.file()).ok();
            if let Some(edit) = &edit {
                prop_assert_eq!(on_disk.as_ref(), Some(edit), "step {} ({:?}) lost the edit", step, op);
            } else if let Some(text) = &on_disk {
                let published = VERSIONS.iter().any(|v| text == &TestEnv::agent_text("alpha", v));
                prop_assert!(published, "step {} ({:?}): alpha.md is neither an edit nor a version: {}", step, op, text);
            }
            let lockfile = std::fs::read_to_string(world.env.project.join("agents.lock")).unwrap();
            prop_assert!(agents_format::Lockfile::parse(&lockfile).is_ok());
        }
        let agents: Vec<String> = TestEnv::files_under(&world.env.agents_dir());
        prop_assert!(agents.iter().all(|f| f == "alpha.md"), "stray files: {:?}", agents);
    }
}

#[test]
fn the_property_is_recorded() {
    reliability::record("edits-property", cases() as usize);
}
