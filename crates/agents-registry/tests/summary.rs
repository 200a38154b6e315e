//! Search summaries against a real git registry: read when current, brought up to date from
//! only the index files that changed, rebuilt when damaged.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use agents_format::RegistryId;
use agents_registry::{Cache, FetchMode, Registry, Summary};

mod common;
use common::publish;

fn open(cache: &Cache, url: &str) -> Registry {
    cache.open("team", url, FetchMode::IfMissing).unwrap()
}

fn shown(summaries: &[Summary]) -> Vec<String> {
    summaries.iter().map(|s| format!("{}@{} {}", s.name, s.version, s.description.as_deref().unwrap_or("-"))).collect()
}

/// The summary file of the only registry in `cache`.
fn summary_file(cache_root: &Path) -> std::path::PathBuf {
    let files: Vec<_> = std::fs::read_dir(cache_root.join("registries"))
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "summary"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

#[test]
fn summaries_follow_the_registry_and_read_only_what_changed() {
    let temp = tempfile::tempdir().unwrap();
    let remote = temp.path().join("team.git");
    agents_registry::init_registry(&remote, RegistryId::from_random([7; 16]), None).unwrap();
    let url = remote.display().to_string();
    let cache = Cache::new(temp.path().join("cache"));
    publish(&cache, &url, "alpha", "1.0.0", "First agent");
    publish(&cache, &url, "beta", "1.0.0", "Second agent");

    let summaries = open(&cache, &url).summaries().unwrap();
    assert_eq!(shown(&summaries), ["alpha@1.0.0 First agent", "beta@1.0.0 Second agent"]);
    let file = summary_file(cache.root());
    let written = std::fs::read_to_string(&file).unwrap();

    // A current summary is what search reads: plant a marker in beta's line to see it used.
    std::fs::write(&file, written.replace("Second agent", "Planted")).unwrap();
    let summaries = open(&cache, &url).summaries().unwrap();
    assert_eq!(shown(&summaries), ["alpha@1.0.0 First agent", "beta@1.0.0 Planted"]);

    // The registry moves on: alpha gets a version, gamma arrives. Only their index files are
    // read again; beta's unchanged line (still the marker) is carried over.
    publish(&cache, &url, "alpha", "1.1.0", "First agent, improved");
    publish(&cache, &url, "gamma", "0.1.0", "Third agent");
    let summaries = open(&cache, &url).summaries().unwrap();
    assert_eq!(
        shown(&summaries),
        ["alpha@1.1.0 First agent, improved", "beta@1.0.0 Planted", "gamma@0.1.0 Third agent"]
    );

    // Yanking the newest version moves the summary back to the previous one.
    agents_registry::yank(&cache, "team", &url, &"alpha".parse().unwrap(), &"1.1.0".parse().unwrap(), true, None)
        .unwrap();
    let summaries = open(&cache, &url).summaries().unwrap();
    assert_eq!(shown(&summaries)[0], "alpha@1.0.0 First agent");

    // A file cut short (here: its last line lost) is not trusted: rebuilt from the index.
    let text = std::fs::read_to_string(&file).unwrap();
    let cut = &text[..text.trim_end().rfind('\n').unwrap() + 1];
    std::fs::write(&file, cut).unwrap();
    let summaries = open(&cache, &url).summaries().unwrap();
    assert_eq!(shown(&summaries), ["alpha@1.0.0 First agent", "beta@1.0.0 Second agent", "gamma@0.1.0 Third agent"]);

    // Garbage, or a summary of a tree this clone has never seen: rebuilt too.
    std::fs::write(&file, "not json\n").unwrap();
    assert_eq!(open(&cache, &url).summaries().unwrap(), summaries);
    let other = written.replace(
        &written[written.find("\"index\":\"").unwrap() + 9..][..40],
        "0123456789012345678901234567890123456789",
    );
    std::fs::write(&file, other).unwrap();
    assert_eq!(open(&cache, &url).summaries().unwrap(), summaries);

    // Search streams the current file: words are matched in names and descriptions, and a word
    // JSON would escape (a quote) still finds its agent.
    publish(&cache, &url, "delta", "1.0.0", "Says \"hi\" loudly");
    let words = |text: &str| text.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>();
    let registry = open(&cache, &url);
    let names = |hits: Vec<Summary>| hits.into_iter().map(|s| s.name.to_string()).collect::<Vec<_>>();
    assert_eq!(names(registry.search(&words("AGENT")).unwrap()), ["alpha", "beta", "gamma"]);
    assert_eq!(names(registry.search(&words("third agent")).unwrap()), ["gamma"]);
    assert_eq!(names(registry.search(&words("\"hi\"")).unwrap()), ["delta"]);
    assert_eq!(names(registry.search(&words("gamma third")).unwrap()), ["gamma"]);
    assert!(registry.search(&words("nowhere")).unwrap().is_empty());
    assert_eq!(registry.search(&[]).unwrap().len(), 4);
}
