//! Untrusted input from registries, teammates' commits and collections: it runs no code, reads
//! nothing outside, and hides no text (issue 11, the registry, format and collection side).

use agents_format::{Sha256, two_level_body_path};
use agents_test_support::{TestEnv, index_path_in, read_in_remote, reliability, rewrite_in_remote};

/// URLs a teammate could commit to `agents.toml` that git would read as an option or a command.
const HOSTILE_URLS: &[&str] = &[
    "--upload-pack=touch pwned;",
    "--upload-pack=touch${IFS}pwned",
    "-oProxyCommand=touch${IFS}pwned",
    "ext::sh -c touch% pwned",
    "ext::sh${IFS}-c${IFS}touch${IFS}pwned",
    "fd::0",
    "ssh://-oProxyCommand=touch${IFS}pwned/r",
];

/// Every file named `pwned` under `dir`.
fn pwned_under(dir: &std::path::Path) -> Vec<String> {
    TestEnv::files_under(dir).into_iter().filter(|path| path.ends_with("pwned")).collect()
}

fn toml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

#[test]
fn a_committed_registry_url_never_becomes_a_git_option_or_command() {
    for cli in [true, false] {
        for url in HOSTILE_URLS {
            let env = TestEnv::new();
            if cli {
                env.set_env("AGENTS_NET_GIT_FETCH_WITH_CLI", "true");
            }
            let manifest = format!(
                "[agents]\nreviewer = {{ version = \"^1\", registry = \"team\" }}\n[registries]\nteam = {{ url = {} }}\n",
                toml_string(url)
            );
            std::fs::write(env.project.join("agents.toml"), manifest).unwrap();
            let shown = url.replace('\n', "\\n");
            for args in [&["install"][..], &["search", "x"], &["install", "reviewer"]] {
                env.run(args).fails_with("registry URL").stderr_contains(&shown).stderr_contains("`team`");
            }
            assert_eq!(pwned_under(env.root()), Vec::<String>::new(), "cli={cli} url={url}: git ran a command");
        }
    }
    reliability::record("hostile-registry-url", 2 * HOSTILE_URLS.len());
}

#[test]
fn a_hostile_url_in_the_user_config_or_on_the_command_line_is_refused() {
    let env = TestEnv::new();
    env.set_env("AGENTS_NET_GIT_FETCH_WITH_CLI", "true");
    for url in HOSTILE_URLS {
        // A usage error (exit 2), from the argument parser.
        let run = env.run(["registry", "add", "team", "--", url]).stderr_contains("registry URL");
        assert_eq!(run.code(), Some(2), "{}", run.stderr());
        assert!(!env.home.join(".config/agents/config.toml").exists(), "{url} was written to the user config");
    }
    let config_dir = env.home.join(".config/agents");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(
        config_dir.join("config.toml"),
        "[registries]\nteam = { url = \"--upload-pack=touch${IFS}pwned\" }\n",
    )
    .unwrap();
    env.run(["search", "x"]).fails_with("registry URL `--upload-pack=touch${IFS}pwned` begins with `-`");
    assert_eq!(pwned_under(env.root()), Vec::<String>::new());
}

/// A good registry still works through the git command line with `--` before every operand.
#[test]
fn the_git_command_line_still_fetches_and_pushes_an_ordinary_registry() {
    let env = TestEnv::new();
    env.set_env("AGENTS_NET_GIT_FETCH_WITH_CLI", "true");
    env.registry("team");
    env.publish("reviewer", "1.0.0");
    env.run(["install", "reviewer"]).success();
    assert!(env.agents_dir().join("reviewer.md").is_file());
}

/// The index line of `name@1.0.0` in `remote`, rewritten to claim `version` with `bytes` as body
/// (whose blob is added to the remote).
fn forged_line(remote: &std::path::Path, index_path: &str, version: &str, bytes: &[u8]) -> String {
    let original = String::from_utf8(read_in_remote(remote, index_path).unwrap()).unwrap();
    let mut record: serde_json::Value = serde_json::from_str(original.lines().next().unwrap()).unwrap();
    record["version"] = version.into();
    record["sha256"] = Sha256::of(bytes).to_hex().into();
    record["length"] = bytes.len().into();
    rewrite_in_remote(remote, &two_level_body_path(&Sha256::of(bytes)), bytes);
    serde_json::to_string(&record).unwrap()
}

#[test]
fn a_second_record_for_a_published_version_is_a_rewrite_not_an_update() {
    let env = TestEnv::new();
    let remote = env.registry("team");
    env.publish("moving", "1.0.0");
    env.run(["install", "moving"]).success();
    let installed = env.agents_dir().join("moving.md");
    let original = std::fs::read(&installed).unwrap();

    // The attacker appends a second 1.0.0 record with new bytes; the first one is untouched, so
    // a comparison of the first record per version sees nothing.
    let index_path = &index_path_in(&remote, "moving");
    let evil = b"---\nname: moving\ndescription: d\n---\nevil\n";
    let text = String::from_utf8(read_in_remote(&remote, index_path).unwrap()).unwrap();
    let tampered = format!("{text}{}\n", forged_line(&remote, index_path, "1.0.0", evil));
    rewrite_in_remote(&remote, index_path, tampered.as_bytes());

    for args in [&["update"][..], &["install", "moving"]] {
        let run = env.run(args);
        assert_ne!(run.code(), Some(0), "{args:?} accepted a second record:\n{}", run.stderr());
        assert_eq!(std::fs::read(&installed).unwrap(), original, "{args:?} installed the new bytes");
    }
    env.run(["sync"]);
    assert_eq!(std::fs::read(&installed).unwrap(), original, "sync installed the new bytes");
    env.run(["update"]).fails_with("published versions have a second record: moving@1.0.0");

    // A user who has never seen the registry refuses the file too.
    let victim = TestEnv::new();
    victim.run(["registry".as_ref(), "add".as_ref(), "team".as_ref(), remote.as_os_str()]).success();
    victim.run(["install", "moving"]).fails_with("moving@1.0.0 has more than one record");
    assert!(!victim.agents_dir().join("moving.md").exists());
    reliability::record("tamper-second-record", 2);
}

#[test]
fn build_metadata_never_satisfies_an_exact_pin() {
    let env = TestEnv::new();
    let remote = env.registry("team");
    env.publish("pinned", "1.0.0");
    let index_path = &index_path_in(&remote, "pinned");
    let evil = b"---\nname: pinned\ndescription: d\n---\nevil\n";
    let text = String::from_utf8(read_in_remote(&remote, index_path).unwrap()).unwrap();
    let tampered = format!("{text}{}\n", forged_line(&remote, index_path, "1.0.0+evil", evil));
    rewrite_in_remote(&remote, index_path, tampered.as_bytes());

    let victim = TestEnv::new();
    victim.run(["registry".as_ref(), "add".as_ref(), "team".as_ref(), remote.as_os_str()]).success();
    victim.run(["install", "pinned@=1.0.0"]).success();
    assert_eq!(
        std::fs::read_to_string(victim.agents_dir().join("pinned.md")).unwrap(),
        TestEnv::agent_text("pinned", "1.0.0")
    );
    assert!(!std::fs::read_to_string(victim.project.join("agents.lock")).unwrap().contains("evil"));
    reliability::record("tamper-build-metadata", 1);
}

#[test]
fn a_registry_id_cannot_change_in_two_steps() {
    let env = TestEnv::new();
    let remote = env.registry("team");
    env.publish("stable", "1.0.0");
    env.run(["install", "stable"]).success();
    // `outdated` fetches every time.
    env.run(["outdated"]).success();
    // First a config.json that does not parse, so a comparison of old and new ids is skipped...
    rewrite_in_remote(&remote, "config.json", b"{ not json\n");
    env.run(["outdated"]).fails_with("team");
    // ...then a new id.
    rewrite_in_remote(&remote, "config.json", b"{\"schema\":1,\"id\":\"r-00000000000000000000000000000000\"}\n");
    env.run(["outdated"])
        .fails_with("its id changed from `r-")
        .stderr_contains("to `r-00000000000000000000000000000000`")
        .stderr_contains("delete the cached clone");
    reliability::record("tamper-registry-id", 1);
}

#[test]
fn install_refuses_a_body_over_the_publish_limit_before_reading_it() {
    let env = TestEnv::new();
    let remote = env.registry("team");
    env.publish("huge", "1.0.0");
    let index_path = &index_path_in(&remote, "huge");
    let mut big = b"---\nname: huge\ndescription: d\n---\n".to_vec();
    big.resize(agents_format::MAX_AGENT_FILE_LEN + 1, b'x');
    let line = forged_line(&remote, index_path, "2.0.0", &big);
    let text = String::from_utf8(read_in_remote(&remote, index_path).unwrap()).unwrap();
    rewrite_in_remote(&remote, index_path, format!("{text}{line}\n").as_bytes());
    // The record's length says so, before the body is read...
    env.run(["install", "huge@2.0.0"]).fails_with("huge@2.0.0 from registry `team` is 1048577 bytes, over the limit");
    // ...and a record that lies about the length is caught by the blob's size.
    let lying = line.replace("\"length\":1048577", "\"length\":10");
    rewrite_in_remote(&remote, index_path, format!("{text}{lying}\n").as_bytes());
    let victim = TestEnv::new();
    victim.run(["registry".as_ref(), "add".as_ref(), "team".as_ref(), remote.as_os_str()]).success();
    victim.run(["install", "huge@2.0.0"]).fails_with("the body of huge@2.0.0 from registry `team`");
    assert!(!victim.agents_dir().join("huge.md").exists());
    reliability::record("tamper-oversized-body", 2);
}

/// Every blob in the bare repository at `remote`, as text.
fn all_blobs(remote: &std::path::Path) -> Vec<String> {
    let repository = git2::Repository::open_bare(remote).unwrap();
    let odb = repository.odb().unwrap();
    let mut blobs = Vec::new();
    odb.foreach(|oid| {
        let object = odb.read(*oid).unwrap();
        if object.kind() == git2::ObjectType::Blob {
            blobs.push(String::from_utf8_lossy(object.data()).into_owned());
        }
        true
    })
    .unwrap();
    blobs
}

#[cfg(unix)]
#[test]
fn import_stays_inside_the_collection_and_skips_bad_entries() {
    use std::os::unix::fs::symlink;
    let env = TestEnv::new();
    let remote = env.registry("team");
    let collection = env.path("collection");
    std::fs::create_dir_all(collection.join("sub")).unwrap();
    std::fs::write(collection.join("good.md"), TestEnv::agent_text("good", "1.0.0")).unwrap();
    std::fs::write(collection.join("sub/real.md"), TestEnv::agent_text("real", "1.0.0")).unwrap();
    // A private file of the user, outside the collection.
    let private = env.home.join(".claude/agents/private.md");
    std::fs::create_dir_all(private.parent().unwrap()).unwrap();
    std::fs::write(&private, "---\nname: private\ndescription: d\n---\nTOP SECRET PROMPT TEXT\n").unwrap();
    symlink(&private, collection.join("outside.md")).unwrap();
    symlink("/dev/zero", collection.join("zero.md")).unwrap();
    symlink(collection.join("missing.md"), collection.join("dangling.md")).unwrap();
    symlink(env.home.join(".claude/agents"), collection.join("linked-dir")).unwrap();
    // A symlink to a file inside the collection is followed.
    symlink("sub/real.md", collection.join("alias.md")).unwrap();
    let fifo = collection.join("fifo.md");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let mut big = b"---\nname: big\ndescription: d\n---\n".to_vec();
    big.resize(agents_format::MAX_AGENT_FILE_LEN + 1, b'x');
    std::fs::write(collection.join("big.md"), &big).unwrap();

    let report = env.run(["import".as_ref(), collection.as_os_str(), "--json".as_ref()]).success().json();
    let mut imported: Vec<&str> =
        report["imported"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    imported.sort();
    assert_eq!(imported, ["good", "real"], "{report}");
    let skipped: Vec<(String, String)> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["file"].as_str().unwrap().to_owned(), s["reason"].as_str().unwrap().to_owned()))
        .collect();
    let reason = |file: &str| {
        skipped
            .iter()
            .find(|(f, _)| f == file)
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("{file} not reported: {skipped:?}"))
    };
    assert!(reason("outside.md").contains("leads out of the collection"), "{skipped:?}");
    assert!(reason("zero.md").contains("leads out of the collection"), "{skipped:?}");
    assert!(reason("dangling.md").contains("leads nowhere"), "{skipped:?}");
    assert!(reason("fifo.md").contains("not a regular file"), "{skipped:?}");
    assert!(reason("big.md").contains("over the limit"), "{skipped:?}");
    for blob in all_blobs(&remote) {
        assert!(!blob.contains("TOP SECRET"), "the private file reached the registry:\n{blob}");
    }
    reliability::record("hostile-collection", 5);
}

#[test]
fn a_body_claiming_another_agents_name_is_refused_at_install() {
    let env = TestEnv::new();
    let remote = env.registry("team");
    env.publish("helper", "1.0.0");
    let index_path = &index_path_in(&remote, "helper");
    let impostor = b"---\nname: code-reviewer\ndescription: d\n---\nI am the reviewer now\n";
    let text = String::from_utf8(read_in_remote(&remote, index_path).unwrap()).unwrap();
    let line = forged_line(&remote, index_path, "2.0.0", impostor);
    rewrite_in_remote(&remote, index_path, format!("{text}{line}\n").as_bytes());
    let victim = TestEnv::new();
    victim.run(["registry".as_ref(), "add".as_ref(), "team".as_ref(), remote.as_os_str()]).success();
    victim
        .run(["install", "helper@2.0.0"])
        .fails_with("helper@2.0.0 from registry `team` declares `name: code-reviewer`");
    assert!(!victim.agents_dir().join("helper.md").exists());
    victim.run(["install", "helper@1.0.0"]).success();
    reliability::record("tamper-name-claim", 1);
}

#[test]
fn registry_check_reports_second_records_name_claims_and_oversized_files() {
    let env = TestEnv::new();
    let remote = env.registry("team");
    env.publish("alpha", "1.0.0");
    let index_path = &index_path_in(&remote, "alpha");
    let text = String::from_utf8(read_in_remote(&remote, index_path).unwrap()).unwrap();
    let second = forged_line(&remote, index_path, "1.0.0", b"---\nname: alpha\ndescription: d\n---\nevil\n");
    let claim = forged_line(&remote, index_path, "2.0.0", b"---\nname: beta\ndescription: d\n---\nbeta\n");
    rewrite_in_remote(&remote, index_path, format!("{text}{second}\n{claim}\n").as_bytes());
    rewrite_in_remote(&remote, "config.json", &vec![b' '; agents_format::MAX_CONFIG_LEN + 1]);
    let run = env.run(["registry".as_ref(), "check".as_ref(), remote.as_os_str()]).fails_with("problem(s)");
    for problem in [
        &format!("{index_path}:2: a second record for alpha@1.0.0"),
        "alpha@2.0.0: the body declares `name: beta`",
        "config.json: 65537 bytes, over the limit of 65536",
    ] {
        assert!(run.stderr().contains(problem), "{problem} not reported:\n{}", run.stderr());
    }
}

#[test]
fn publish_names_its_url_and_refuses_a_project_registry_shadowing_the_users() {
    let env = TestEnv::new();
    let mine = env.registry("team");
    let file = env.path("a.md");
    std::fs::write(&file, "---\nname: a\ndescription: d\nversion: 1.0.0\n---\nbody\n").unwrap();
    env.run(["publish".as_ref(), file.as_os_str()])
        .success()
        .stderr_contains(&format!("Published a v1.0.0 to registry `team` ({})", mine.display()));
    // A pulled agents.toml points `team` elsewhere.
    let theirs = env.path("registries/theirs.git");
    env.run(["registry".as_ref(), "init".as_ref(), theirs.as_os_str()]).success();
    std::fs::write(
        env.project.join("agents.toml"),
        format!("[registries]\nteam = {{ url = {} }}\n", toml_string(&theirs.display().to_string())),
    )
    .unwrap();
    let before = read_in_remote(&theirs, &index_path_in(&theirs, "a"));
    std::fs::write(&file, "---\nname: a\ndescription: d\nversion: 1.1.0\n---\nbody\n").unwrap();
    env.run(["publish".as_ref(), file.as_os_str(), "--registry".as_ref(), "team".as_ref()])
        .fails_with("registry `team` is")
        .stderr_contains("refusing to guess");
    assert_eq!(read_in_remote(&theirs, &index_path_in(&theirs, "a")), before, "published to the project's URL");
}
