//! agentsd on real machines: directories replaced under it (`rm -rf .claude`, `git clean`, a
//! branch switch), a CLI holding a workspace lock on a slow registry, clocks that jump, pins not
//! fetched yet. Real watchers, real files, real processes.

use std::path::Path;
use std::time::Duration;

use agents_test_support::{DaemonGuard, TestEnv, eventually};

/// Well under the watch audit's period (30 s): a restore must come from an event.
const WAIT: Duration = Duration::from_secs(5);

fn restored(file: &Path, bytes: &[u8]) -> bool {
    eventually(WAIT, || std::fs::read(file).ok().as_deref() == Some(bytes))
}

/// ext4 hands a freed inode number to the next directory at once, so a watcher that takes "same
/// inode number" for "still watched" goes blind here. Every round replaces the directory, then
/// deletes a file in the new one: the deletion must be seen, not caught by a periodic pass.
#[test]
fn replacing_claude_or_its_agents_directory_never_leaves_the_project_unwatched() {
    let env = TestEnv::new();
    env.run(["install", "code-reviewer"]).success();
    env.run(["daemon", "watch"]).success();
    let agents = env.agents_dir();
    let file = agents.join("code-reviewer.md");
    let bytes = std::fs::read(&file).unwrap();
    let _daemon = DaemonGuard::start(&env);
    let claude = env.project.join(".claude");
    for round in 0..100 {
        // What `rm -rf .claude && mkdir -p .claude/agents` does, then the same one level down.
        for replaced in [&claude, &agents] {
            std::fs::remove_dir_all(replaced).unwrap();
            std::fs::create_dir_all(&agents).unwrap();
            assert!(restored(&file, &bytes), "round {round}: not restored after replacing {}", replaced.display());
            std::fs::remove_file(&file).unwrap();
            assert!(
                restored(&file, &bytes),
                "round {round}: a deletion after replacing {} went unseen",
                replaced.display()
            );
        }
    }
}
