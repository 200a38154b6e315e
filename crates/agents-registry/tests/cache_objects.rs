//! How a cache clone of a registry on this machine keeps its objects: loose objects packed once
//! there are many, small packs merged, the registry itself left as it was, and commands reading
//! the clone meanwhile unharmed.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use agents_format::RegistryId;
use agents_registry::{Cache, FetchMode};

mod common;

fn publish(cache: &Cache, url: &str, name: &str) {
    common::publish(cache, url, name, "1.0.0", "An agent");
}

/// The loose object files and the pack files of the git repository whose `objects` is `objects`.
fn objects(objects: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let files = |dir: PathBuf| -> Vec<PathBuf> {
        std::fs::read_dir(dir).map(|entries| entries.flatten().map(|entry| entry.path()).collect()).unwrap_or_default()
    };
    let loose = (0..=255u8).flat_map(|prefix| files(objects.join(format!("{prefix:02x}")))).collect();
    let packs =
        files(objects.join("pack")).into_iter().filter(|path| path.extension().is_some_and(|e| e == "pack")).collect();
    (loose, packs)
}

/// The `objects` directory of the only clone in `cache`.
fn clone_objects(cache: &Cache) -> PathBuf {
    let clones: Vec<PathBuf> = std::fs::read_dir(cache.root().join("registries"))
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    assert_eq!(clones.len(), 1, "{clones:?}");
    clones[0].join("objects")
}

fn reads_every_agent(cache: &Cache, url: &str, names: &[String]) {
    let registry = cache.open("team", url, FetchMode::IfMissing).unwrap();
    for name in names {
        let index = registry.index_file(&name.parse().unwrap()).unwrap().unwrap();
        let record = index.records().next().unwrap();
        let body = registry.body(record).unwrap();
        assert!(String::from_utf8(body).unwrap().contains(&format!("Body of {name} 1.0.0.")));
    }
}

#[test]
fn a_local_registry_s_loose_objects_are_packed_in_the_cache_and_every_version_still_reads() {
    let temp = tempfile::tempdir().unwrap();
    let remote = temp.path().join("team.git");
    agents_registry::init_registry(&remote, RegistryId::from_random([7; 16]), None).unwrap();
    let url = remote.display().to_string();
    let publisher = Cache::new(temp.path().join("publisher"));
    let mut names: Vec<String> = (0..25).map(|n| format!("agent-{n}")).collect();
    for name in &names {
        publish(&publisher, &url, name);
    }
    // Each publish copied its few objects into the registry loose, as `git push` leaves them.
    let (registry_loose, registry_packs) = objects(&remote.join("objects"));
    assert!(registry_loose.len() >= 100, "{}", registry_loose.len());

    // A teammate's first clone links those files, then packs them: none is left loose.
    let teammate = Cache::new(temp.path().join("teammate"));
    reads_every_agent(&teammate, &url, &names);
    let (loose, packs) = objects(&clone_objects(&teammate));
    assert_eq!(loose.len(), 0);
    assert_eq!(packs.len(), registry_packs.len() + 1, "{packs:?}");
    // The registry's own files are as they were.
    assert_eq!(objects(&remote.join("objects")), (registry_loose, registry_packs));

    // A snapshot taken before the next update, as a running command or the daemon holds one
    // (reads take no lock), reading from the first pack.
    let reading = teammate.open("team", &url, FetchMode::IfMissing).unwrap();
    assert!(reading.index_file(&"agent-0".parse().unwrap()).unwrap().is_some());

    // Twenty more publishes: the teammate's update copies about 200 objects. With them, the
    // first pack is less than twice what is new, so both go into one pack, and the first pack
    // is removed.
    let more: Vec<String> = (25..45).map(|n| format!("agent-{n}")).collect();
    for name in &more {
        publish(&publisher, &url, name);
    }
    teammate.open("team", &url, FetchMode::Always).unwrap();
    let (loose_after, packs_after) = objects(&clone_objects(&teammate));
    assert_eq!(loose_after.len(), 0);
    assert_eq!(packs_after.len(), 1, "{packs_after:?}");
    assert!(!packs.contains(&packs_after[0]), "the first pack was merged into a new one");
    // The snapshot taken before still reads every version it holds.
    for name in &names {
        let index = reading.index_file(&name.parse().unwrap()).unwrap().unwrap();
        reading.body(index.records().next().unwrap()).unwrap();
    }
    drop(reading);
    names.extend(more);
    reads_every_agent(&teammate, &url, &names);

    // One more publish: its few objects arrive loose and stay so, under the limit.
    publish(&publisher, &url, "agent-last");
    teammate.open("team", &url, FetchMode::Always).unwrap();
    let (loose_last, packs_last) = objects(&clone_objects(&teammate));
    assert!(!loose_last.is_empty() && loose_last.len() < 100, "{}", loose_last.len());
    assert_eq!(packs_last, packs_after);
    names.push("agent-last".to_owned());
    reads_every_agent(&teammate, &url, &names);
}
