//! Sparse registries: a registry made with `agents registry init` and `agents publish`, its tree
//! exported with `git archive` and served on loopback by lighttpd over TLS (`StaticSite`: the
//! faults a real static host has, and its access log to count requests), or by the homemade
//! `StaticServer` where a test needs what lighttpd cannot be (a forward proxy; failing or
//! dropping the next N requests on cue; counting requests in flight).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use agents_test_support::TestEnv;
use agents_test_support::servers::{Logged, Served, SiteOptions, StaticServer, StaticSite};

struct Fixture {
    env: TestEnv,
    server: StaticServer,
}

/// A git registry holding `agents` (name, version), published from the test user's config.
fn published(agents: &[(&str, &str)]) -> (TestEnv, PathBuf, PathBuf) {
    let env = TestEnv::new();
    let git = env.registry("origin");
    for (name, version) in agents {
        env.publish(name, version);
    }
    env.run(["registry", "remove", "origin"]).success();
    let www = env.path("www");
    export(&git, &www);
    (env, git, www)
}

/// `agents`, exported to a served directory and added as the sparse registry `team`, served by
/// the homemade [`StaticServer`].
fn fixture(agents: &[(&str, &str)]) -> Fixture {
    let (env, _git, www) = published(agents);
    let server = StaticServer::start(&www);
    env.run(["registry", "add", "team", &server.url()]).success();
    Fixture { env, server }
}

struct Site {
    env: TestEnv,
    /// The git registry the tree comes from (no longer configured in the test user's config).
    git: PathBuf,
    /// The directory the web server serves: the registry's tree as `git archive` gives it.
    www: PathBuf,
    site: StaticSite,
}

/// `agents`, exported and served by lighttpd over TLS with `options`, added as `team`.
fn site(agents: &[(&str, &str)], options: &SiteOptions) -> Site {
    let (env, git, www) = published(agents);
    let site = StaticSite::start(&www, &env, options);
    env.run(["registry", "add", "team", &site.url()]).success();
    Site { env, git, www, site }
}

fn export(git: &Path, www: &Path) {
    agents_test_support::export_tree(git, www);
}

/// Deploys the registry's new tree over the served one as a CI sync does: only the files whose
/// bytes changed are replaced, removed ones removed, the others keep their mtime and so their
/// ETag (a full `git archive` gives every file the new commit's time).
fn redeploy(git: &Path, www: &Path) {
    let next = www.with_extension("next");
    export(git, &next);
    let (old, new) = (TestEnv::files_under(www), TestEnv::files_under(&next));
    for file in &new {
        let (from, to) = (next.join(file), www.join(file));
        if from.is_file() && std::fs::read(&from).ok() != std::fs::read(&to).ok() {
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            deploy(&to, std::fs::read(&from).unwrap());
        }
    }
    for file in old.iter().filter(|file| !new.contains(file)) {
        let path = www.join(file);
        if path.is_file() {
            std::fs::remove_file(path).unwrap();
        }
    }
    std::fs::remove_dir_all(&next).unwrap();
}

/// The served file under `dir` (`index`, `bodies`) whose path ends with `suffix`.
fn served(www: &Path, dir: &str, suffix: &str) -> PathBuf {
    let mut pending = vec![www.join(dir)];
    while let Some(directory) = pending.pop() {
        for entry in std::fs::read_dir(&directory).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                return path;
            }
        }
    }
    panic!("no served file under {dir} ends with {suffix}");
}

/// `(status, path)` of each request, in order, for assertions that read like the log.
fn log(requests: &[Logged]) -> Vec<(u16, String)> {
    requests.iter().map(|r| (r.status, r.path.clone())).collect()
}

/// The same for lighttpd's access log.
fn access(requests: &[Served]) -> Vec<(u16, String)> {
    requests.iter().map(|r| (r.status, r.path.clone())).collect()
}

/// The checksum the served index file records for `name@version`.
fn sha_of(www: &Path, name: &str, version: &str) -> String {
    let index = std::fs::read_to_string(served(www, "index", &format!("/{name}"))).unwrap();
    let record: serde_json::Value = index
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|record| record["version"] == version)
        .unwrap();
    record["sha256"].as_str().unwrap().to_owned()
}

/// The served path of `name@version`'s body, relative to the registry root, wherever the
/// registry's layout puts bodies (found by the checksum its file is named by).
fn body_path_of(www: &Path, name: &str, version: &str) -> String {
    let body = served(www, "bodies", &format!("/{}", sha_of(www, name, version)));
    body.strip_prefix(www).unwrap().to_string_lossy().into_owned()
}

fn index_path_of(www: &Path, name: &str) -> String {
    served(www, "index", &format!("/{name}")).strip_prefix(www).unwrap().to_string_lossy().into_owned()
}

/// Replaces a served file as a deploy does: a new file (with a new mtime) renamed over the old
/// one. (The site's ETags are made of mtime and size, so a same-size rewrite within one second
/// would keep its ETag, and a client's conditional request would rightly get a 304.)
fn deploy(path: &Path, bytes: impl AsRef<[u8]>) {
    let temp = path.with_extension("deploying");
    std::fs::write(&temp, bytes).unwrap();
    std::fs::rename(&temp, path).unwrap();
}

/// The files the sparse cache holds whose name ends with `suffix` (an agent's name, a
/// checksum), wherever the cache's layout puts them.
fn cached(env: &TestEnv, suffix: &str) -> Vec<PathBuf> {
    let cache = env.home.join(".cache/agents/sparse");
    TestEnv::files_under(&cache)
        .into_iter()
        .map(|file| cache.join(file))
        .filter(|file| file.is_file() && file.to_string_lossy().ends_with(suffix))
        .collect()
}

/// Every file under the project and every body in the sparse cache, to assert that a failed
/// command wrote nothing (the index files it fetched and verified may be cached).
fn written(env: &TestEnv, www: &Path) -> Vec<String> {
    let mut files = TestEnv::files_under(&env.project);
    let bodies = TestEnv::files_under(&www.join("bodies"));
    for body in bodies.iter().filter_map(|b| b.rsplit('/').next()).filter(|b| b.len() == 64) {
        files.extend(cached(env, body).into_iter().map(|file| file.display().to_string()));
    }
    files
}

#[test]
fn sparse_install_fetches_only_what_it_needs_and_a_repeat_is_a_304() {
    let f = site(&[("alpha", "1.0.0"), ("alpha", "1.1.0"), ("beta", "1.0.0")], &SiteOptions::default());
    // `registry add` read config.json and nothing else.
    assert_eq!(access(&f.site.requests()), [(200, "config.json".to_owned())]);
    f.site.clear_log();

    f.env.run(["install", "alpha"]).success().stderr_contains("Installed alpha v1.1.0");
    let index = index_path_of(&f.www, "alpha");
    let body = body_path_of(&f.www, "alpha", "1.1.0");
    let requests = f.site.requests();
    let mut first = access(&requests);
    first.sort();
    assert_eq!(first, [(200, body.clone()), (200, index.clone()), (304, "config.json".to_owned())]);
    assert!(requests.iter().all(|r| r.method == "GET"));
    // Bytes on the wire: the index file and the body, nothing for the 304.
    let sizes = |path: &str| std::fs::metadata(f.www.join(path)).unwrap().len();
    assert_eq!(requests.iter().map(|r| r.bytes).sum::<u64>(), sizes(&index) + sizes(&body));
    assert_eq!(
        std::fs::read_to_string(f.env.agents_dir().join("alpha.md")).unwrap(),
        TestEnv::agent_text("alpha", "1.1.0")
    );

    // The cache is one flat directory whatever the registry's layout, one file per file served
    // (each directory and file is an inode to allocate, which dominated a cold 50-agent
    // install), and a body, named by its checksum, is kept bare.
    let cache = f.env.home.join(".cache/agents/sparse");
    let under = TestEnv::files_under(&cache);
    let dirs: Vec<&String> = under.iter().filter(|path| cache.join(path).is_dir()).collect();
    assert!(dirs.len() == 2 && dirs[1].ends_with("/files"), "{dirs:?}");
    // registry-id, then config.json, the index file and the body.
    assert_eq!(under.len(), 2 + 1 + 3, "{under:?}");
    let cached_body = cached(&f.env, &sha_of(&f.www, "alpha", "1.1.0"));
    assert_eq!(std::fs::read_to_string(&cached_body[0]).unwrap(), TestEnv::agent_text("alpha", "1.1.0"));

    // Asked again: the index file is revalidated (304), the body is never fetched twice.
    f.site.clear_log();
    f.env.run(["install", "alpha"]).success();
    let mut second = access(&f.site.requests());
    second.sort();
    assert_eq!(second, [(304, "config.json".to_owned()), (304, index)]);

    // A lockfile install of what is cached asks the server nothing.
    f.site.clear_log();
    std::fs::remove_file(f.env.agents_dir().join("alpha.md")).unwrap();
    f.env.run(["install"]).success();
    assert_eq!(access(&f.site.requests()), []);

    // A cache an older client wrote (a file's bytes alone, here a one-line config.json, which
    // is JSON as metadata is) is never read as metadata: the file is fetched again.
    let config = cached(&f.env, "config.json");
    let one_line: serde_json::Value =
        serde_json::from_slice(&std::fs::read(f.www.join("config.json")).unwrap()).unwrap();
    std::fs::write(&config[0], format!("{one_line}\n")).unwrap();
    std::fs::remove_file(f.env.agents_dir().join("alpha.md")).unwrap();
    f.site.clear_log();
    f.env.run(["install"]).success();
    assert_eq!(access(&f.site.requests()), [(200, "config.json".to_owned())]);
}

#[test]
fn sparse_a_404_for_an_index_file_is_an_unknown_agent_and_for_a_body_a_missing_body() {
    let f = site(&[("alpha", "1.0.0")], &SiteOptions::default());
    let before = written(&f.env, &f.www);
    f.site.clear_log();
    f.env
        .run(["install", "nosuch", "--registry", "team"])
        .fails_with("agent `nosuch` was not found in registry `team`");
    f.env.run(["install", "nosuch"]).fails_with("agent `nosuch` was not found in registries").stderr_contains("`team`");
    let requests = access(&f.site.requests());
    assert!(requests.iter().any(|(status, path)| *status == 404 && path.ends_with("/nosuch")), "{requests:?}");
    assert_eq!(written(&f.env, &f.www), before);

    // The index file names a body the host does not have (a deploy that lost files).
    let body = body_path_of(&f.www, "alpha", "1.0.0");
    let bytes = std::fs::read(f.www.join(&body)).unwrap();
    std::fs::remove_file(f.www.join(&body)).unwrap();
    f.site.clear_log();
    f.env
        .run(["install", "alpha"])
        .fails_with("alpha@1.0.0 from registry `team`: the body is missing from the registry");
    assert!(access(&f.site.requests()).contains(&(404, body.clone())));
    assert_eq!(written(&f.env, &f.www), before);
    // The 404 is the host's fault, not a fact to remember: once the body is back, it installs.
    std::fs::write(f.www.join(&body), bytes).unwrap();
    f.env.run(["install", "alpha"]).success();
    assert_eq!(
        std::fs::read_to_string(f.env.agents_dir().join("alpha.md")).unwrap(),
        TestEnv::agent_text("alpha", "1.0.0")
    );
    agents_test_support::reliability::record("sparse-404", 2);
}

#[test]
fn sparse_tampered_body_is_refused_naming_agent_and_version() {
    let f = site(&[("alpha", "1.0.0")], &SiteOptions::default());
    let body = body_path_of(&f.www, "alpha", "1.0.0");
    std::fs::write(f.www.join(&body), TestEnv::agent_text("alpha", "6.6.6")).unwrap();
    let before = written(&f.env, &f.www);
    f.site.clear_log();
    f.env.run(["install", "alpha"]).fails_with("checksum mismatch for alpha@1.0.0");
    // Nothing written: no agent file, no manifest or lockfile, no cached body.
    assert_eq!(written(&f.env, &f.www), before);
    // Fetched once: a body that fails its checksum is not a transient fault to retry.
    let requests = access(&f.site.requests());
    assert_eq!(requests.iter().filter(|(_, path)| *path == body).count(), 1, "{requests:?}");
    // Restored on the server, the install goes through.
    std::fs::write(f.www.join(&body), TestEnv::agent_text("alpha", "1.0.0")).unwrap();
    f.env.run(["install", "alpha"]).success();
    assert_eq!(
        std::fs::read_to_string(f.env.agents_dir().join("alpha.md")).unwrap(),
        TestEnv::agent_text("alpha", "1.0.0")
    );
    agents_test_support::reliability::record("sparse-tampered-body", 1);
}

#[test]
fn sparse_rewritten_record_is_refused_and_the_cache_keeps_what_it_had() {
    let f = site(&[("alpha", "1.0.0"), ("alpha", "1.1.0")], &SiteOptions::default());
    f.env.run(["install", "alpha@=1.0.0"]).success();
    let index = f.www.join(index_path_of(&f.www, "alpha"));
    let original = std::fs::read_to_string(&index).unwrap();
    let installed = f.env.agents_dir().join("alpha.md");
    let lockfile = std::fs::read_to_string(f.env.project.join("agents.lock")).unwrap();

    // A published version whose checksum changed.
    let other = format!("{:064x}", 7);
    let sha = sha_of(&f.www, "alpha", "1.0.0");
    deploy(&index, original.replace(&sha, &other));
    f.site.clear_log();
    f.env
        .run(["update"])
        .fails_with("was rewritten")
        .stderr_contains(&format!("published versions changed their checksum: alpha@1.0.0 (sha256 {sha} → {other})"));
    // The server was asked, and answered with the new file (no 304 hid the change).
    assert!(access(&f.site.requests()).contains(&(200, index_path_of(&f.www, "alpha"))));
    f.env.run(["install", "alpha@=1.0.0"]).fails_with("published versions changed their checksum: alpha@1.0.0");
    assert_eq!(std::fs::read_to_string(&installed).unwrap(), TestEnv::agent_text("alpha", "1.0.0"));
    assert_eq!(std::fs::read_to_string(f.env.project.join("agents.lock")).unwrap(), lockfile);

    // A published version that disappeared.
    let without: String = original.lines().filter(|l| !l.contains("\"1.1.0\"")).map(|l| format!("{l}\n")).collect();
    deploy(&index, without);
    f.env.run(["install", "alpha@1.0.0"]).fails_with("published versions disappeared: alpha@1.1.0");

    // An index file that had records and is now gone (a 404).
    std::fs::remove_file(&index).unwrap();
    f.env.run(["install", "alpha@1.0.0"]).fails_with("published versions disappeared: alpha@1.0.0, alpha@1.1.0");

    // The cache kept the index file it had verified.
    let cached = cached(&f.env, "alpha");
    assert_eq!(cached.len(), 1, "{cached:?}");
    assert!(std::fs::read_to_string(&cached[0]).unwrap().ends_with(&original));
    f.env.run(["install", "alpha@1.0.0", "--offline"]).success();
    agents_test_support::reliability::record("sparse-rewritten-record", 3);
}

#[test]
fn sparse_slow_server_times_out_naming_the_url_at_the_first_timeout() {
    let delay = Duration::from_millis(1000);
    let f =
        site(&[("alpha", "1.0.0")], &SiteOptions { slow: Some(("^/index/".to_owned(), delay)), ..Default::default() });
    let url = format!("{}{}", f.site.url().trim_start_matches("sparse+"), index_path_of(&f.www, "alpha"));
    f.env.set_env("AGENTS_HTTP_TIMEOUT", "0.3");
    let before = written(&f.env, &f.www);
    let started = Instant::now();
    f.env.run(["install", "alpha"]).fails_with(&format!("`{url}`: no answer within 0.3 s"));
    let took = started.elapsed();
    // A timeout is not tried again (that would double the wait): one request reached the
    // server and was given up after 0.3 s, not after the 1 s answer.
    assert_eq!(f.site.slow_calls().len(), 1, "{:?}", f.site.slow_calls());
    assert!(took < Duration::from_millis(1500), "{took:?}");
    assert_eq!(written(&f.env, &f.www), before);

    // The same server within the timeout is only slow.
    f.env.set_env("AGENTS_HTTP_TIMEOUT", "5");
    f.env.run(["install", "alpha"]).success();
    assert_eq!(
        std::fs::read_to_string(f.env.agents_dir().join("alpha.md")).unwrap(),
        TestEnv::agent_text("alpha", "1.0.0")
    );
    agents_test_support::reliability::record("sparse-slow-server", 1);
}

#[test]
fn sparse_server_killed_mid_transfer_is_an_error_after_retries_and_the_cache_is_not_poisoned() {
    // A body of ~200 KiB sent at 32 KiB/s: ~6 s to transfer, cut after a fraction of it.
    let (env, git, www) = published(&[]);
    env.run([OsStr::new("registry"), OsStr::new("add"), OsStr::new("origin"), git.as_os_str()]).success();
    let text =
        format!("---\nname: big\ndescription: d\n---\n{}", "A line of instructions for a big agent.\n".repeat(5000));
    let file = env.path("big.md");
    std::fs::write(&file, &text).unwrap();
    env.run([OsStr::new("publish"), file.as_os_str(), OsStr::new("--version"), OsStr::new("1.0.0")]).success();
    env.run(["registry", "remove", "origin"]).success();
    export(&git, &www);
    let throttled = SiteOptions { throttle: Some(("^/bodies/".to_owned(), 32)), ..Default::default() };
    let mut site = StaticSite::start(&www, &env, &throttled);
    env.run(["registry", "add", "team", &site.url()]).success();
    let body = body_path_of(&www, "big", "1.0.0");
    let before = written(&env, &www);

    let mut install = env.agents();
    install.args(["install", "big"]).env("AGENTS_LOG", "agents_registry=debug");
    install.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let child = install.spawn().unwrap();
    // The index file arrived (cached): the body's transfer is under way.
    assert!(agents_test_support::eventually(Duration::from_secs(10), || !cached(&env, "big").is_empty()));
    std::thread::sleep(Duration::from_millis(500));
    site.kill();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    let url = format!("{}{body}", site.url().trim_start_matches("sparse+"));
    // Cut mid-body, retried against a server that is gone, then reported.
    assert!(stderr.contains(&format!("`{url}`: ")) && stderr.contains("(after 4 attempts)"), "{stderr}");
    // The first attempt was cut mid-body (the connection closed or reset under it); the next
    // ones found no server.
    let first = stderr.lines().find(|line| line.contains("retrying") && line.contains("attempt=1")).unwrap_or_default();
    assert!(!first.is_empty() && !first.contains("refused"), "{stderr}");
    assert_eq!(written(&env, &www), before);

    // With the server back, the same command succeeds with the exact bytes.
    site.restart(&SiteOptions::default());
    env.run(["install", "big"]).success();
    assert_eq!(std::fs::read_to_string(env.agents_dir().join("big.md")).unwrap(), text);
    agents_test_support::reliability::record("sparse-dropped-connection", 1);
}

#[test]
fn sparse_size_limits_hold_and_a_corrupt_cached_body_is_fetched_again() {
    let f = site(&[("alpha", "1.0.0"), ("beta", "1.0.0")], &SiteOptions::default());
    // An index file over 8 MiB is refused before it is read whole.
    let index = served(&f.www, "index", "/beta");
    let mut big = std::fs::read(&index).unwrap();
    big.resize(8 * 1024 * 1024 + 1, b'\n');
    std::fs::write(&index, big).unwrap();
    f.env.run(["install", "beta"]).fails_with("over the limit of 8388608 bytes");

    // The cache is disposable: a cached body that no longer matches its checksum is fetched
    // again, never installed.
    f.env.run(["install", "alpha"]).success();
    let cached_body = cached(&f.env, &sha_of(&f.www, "alpha", "1.0.0"));
    assert_eq!(cached_body.len(), 1, "{cached_body:?}");
    std::fs::write(&cached_body[0], "tampered in the cache").unwrap();
    std::fs::remove_file(f.env.agents_dir().join("alpha.md")).unwrap();
    f.site.clear_log();
    f.env.run(["install"]).success();
    assert_eq!(
        std::fs::read_to_string(f.env.agents_dir().join("alpha.md")).unwrap(),
        TestEnv::agent_text("alpha", "1.0.0")
    );
    assert_eq!(access(&f.site.requests()), [(200, body_path_of(&f.www, "alpha", "1.0.0"))]);
}

#[test]
fn sparse_changed_registry_id_is_refused() {
    let f = site(&[("alpha", "1.0.0")], &SiteOptions::default());
    let other = f.env.path("other.git");
    f.env.run([OsStr::new("registry"), OsStr::new("init"), other.as_os_str()]).success();
    let config = Command::new("git").arg("--git-dir").arg(&other).args(["show", "main:config.json"]).output().unwrap();
    std::fs::write(f.www.join("config.json"), config.stdout).unwrap();
    f.env.run(["install", "alpha"]).fails_with("its id changed from");
    let _ = &f.git;
}

#[test]
fn sparse_offline_installs_from_the_cache_only() {
    let f = site(&[("alpha", "1.0.0"), ("beta", "1.0.0")], &SiteOptions::default());
    f.env.run(["install", "alpha"]).success();
    drop(f.site);
    std::fs::remove_file(f.env.agents_dir().join("alpha.md")).unwrap();
    f.env.run(["install", "--offline"]).success();
    assert!(f.env.agents_dir().join("alpha.md").exists());
    f.env.run(["install", "beta", "--offline"]).fails_with("not in the cache yet");
}

#[test]
fn sparse_publish_says_to_publish_to_the_git_source() {
    let f = site(&[("alpha", "1.0.0")], &SiteOptions::default());
    let file = f.env.path("new.md");
    std::fs::write(&file, TestEnv::agent_text("gamma", "1.0.0")).unwrap();
    f.env
        .run(
            [OsStr::new("publish"), file.as_os_str(), "--version".as_ref(), "1.0.0".as_ref(), "--registry".as_ref()]
                .into_iter()
                .chain([OsStr::new("team")]),
        )
        .fails_with("is a sparse registry, read-only over HTTP");
}

#[test]
fn sparse_private_host_takes_credentials_from_a_git_credential_helper() {
    let mut f = site(&[("alpha", "1.0.0")], &SiteOptions::default());
    f.site.restart(&SiteOptions { password: Some("s3cret".to_owned()), ..Default::default() });
    f.env.run(["install", "alpha"]).fails_with("authentication failed");

    let credentials = f.env.path("git-credentials");
    std::fs::write(&credentials, format!("https://agent:s3cret@127.0.0.1:{}\n", f.site.port)).unwrap();
    // A second helper logs what git asks of the helpers.
    let asked = f.env.path("helper-log");
    std::fs::write(
        f.env.home.join(".gitconfig"),
        format!(
            "[credential]\n\thelper = store --file={}\n\thelper = \"!f() {{ echo $1 >> {}; }}; f\"\n",
            credentials.display(),
            asked.display()
        ),
    )
    .unwrap();
    f.site.clear_log();
    f.env.run(["install", "alpha"]).success();
    // Told once that the credential worked, not once per file (`store` answered the `get`, so
    // git asked no further helper).
    assert_eq!(std::fs::read_to_string(&asked).unwrap(), "store\n");
    let requests = f.site.requests();
    // Asked once without credentials, then every request carries them.
    assert_eq!((requests[0].status, requests[0].authorized), (401, false), "{requests:?}");
    assert!(requests[1..].iter().all(|r| r.status != 401 && r.authorized), "{requests:?}");
    for file in ["agents.toml", "agents.lock"] {
        assert!(!std::fs::read_to_string(f.env.project.join(file)).unwrap().contains("s3cret"));
    }
}

#[test]
fn sparse_private_host_takes_credentials_from_netrc() {
    let mut f = site(&[("alpha", "1.0.0")], &SiteOptions::default());
    f.site.restart(&SiteOptions { password: Some("t0ken".to_owned()), ..Default::default() });
    let netrc = f.env.path("netrc");
    std::fs::write(&netrc, "machine 127.0.0.1\n  login agent\n  password t0ken\n").unwrap();
    f.env.set_env("NETRC", &netrc);
    f.env.run(["install", "alpha"]).success();
}

#[test]
fn sparse_multi_agent_install_fetches_in_parallel_within_a_bound() {
    let names: Vec<String> = (0..20).map(|i| format!("agent-{i:02}")).collect();
    let agents: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "1.0.0")).collect();
    let f = fixture(&agents);
    let manifest: String =
        names.iter().map(|n| format!("{n} = {{ version = \"^1\", registry = \"team\" }}\n")).collect();
    // An agent bound to another registry is not asked of this one.
    let manifest = format!("{manifest}go-backend-expert = {{ version = \"^1\", registry = \"builtin\" }}\n");
    std::fs::write(f.env.project.join("agents.toml"), format!("[agents]\n{manifest}")).unwrap();
    f.server.set_delay(Duration::from_millis(50));
    f.server.clear_log();
    f.env.run(["install"]).success();
    for name in &names {
        assert!(f.env.agents_dir().join(format!("{name}.md")).exists(), "{name} not installed");
    }
    let requests = f.server.requests();
    // 20 index files and 20 bodies, each once.
    // Each file once, and config.json not at all: it is cached since `registry add`.
    assert_eq!(requests.len(), 40, "{:?}", log(&requests));
    let in_flight = f.server.max_in_flight();
    assert!((2..=8).contains(&in_flight), "{in_flight} requests in flight at once");
}

#[test]
fn sparse_retries_dropped_connections_and_server_errors() {
    let f = fixture(&[("alpha", "1.0.0")]);
    f.server.drop_next(1);
    f.env.run(["install", "alpha"]).success();
    std::fs::remove_file(f.env.agents_dir().join("alpha.md")).unwrap();
    f.env.run(["uninstall", "alpha"]).success();
    f.server.fail_next(2);
    f.env.run(["install", "alpha"]).success();
    assert_eq!(f.server.requests().iter().filter(|r| r.status == 503).count(), 2);
}

#[test]
fn sparse_goes_through_the_proxy_unless_no_proxy_names_the_host() {
    let f = fixture(&[("alpha", "1.0.0")]);
    // The registry's host does not resolve: only the proxy (our server) can answer for it.
    f.env.run(["registry", "remove", "team"]).success();
    f.env.set_env("HTTP_PROXY", format!("http://127.0.0.1:{}", f.server.port));
    f.server.clear_log();
    f.env.run(["registry", "add", "team", "sparse+http://agents.invalid/"]).success();
    f.env.run(["install", "alpha"]).success();
    assert!(f.server.requests().iter().all(|r| r.proxied), "{:?}", f.server.requests());

    f.env.set_env("NO_PROXY", "localhost,.invalid");
    f.env.run(["install", "alpha"]).fails_with("agents.invalid");
}

#[test]
fn sparse_search_without_a_published_summary_says_to_use_the_git_url() {
    let f = site(&[("alpha", "1.0.0")], &SiteOptions::default());
    // Said for that registry; the others' results still show.
    f.env.run(["search", "alpha"]).success().stderr_contains("is a sparse registry and publishes no search summary");
}

#[test]
fn sparse_over_tls_from_lighttpd_with_basic_auth_and_a_304_on_repeat() {
    let (env, _git, www) = published(&[("alpha", "1.0.0")]);
    let server =
        StaticSite::start(&www, &env, &SiteOptions { password: Some("s3cret".to_owned()), ..Default::default() });
    let credentials = env.path("git-credentials");
    std::fs::write(&credentials, format!("https://agent:s3cret@127.0.0.1:{}\n", server.port)).unwrap();
    std::fs::write(
        env.home.join(".gitconfig"),
        format!("[credential]\n\thelper = store --file={}\n", credentials.display()),
    )
    .unwrap();

    env.run(["registry", "add", "team", &server.url()]).success();
    env.run(["install", "alpha"]).success().stderr_contains("Installed alpha v1.0.0");
    env.run(["install", "alpha"]).success();
    let log = server.requests();
    let index = index_path_of(&www, "alpha");
    assert!(access(&log).contains(&(200, index.clone())), "{log:?}");
    assert!(access(&log).contains(&(304, index)), "{log:?}");
    assert_eq!(log.iter().filter(|r| r.path.starts_with("bodies/")).count(), 1, "{log:?}");
    // Each of the three commands asked once without credentials (config.json, answered 401),
    // then sent them with every request.
    let unauthorized: Vec<&Served> = log.iter().filter(|r| !r.authorized).collect();
    assert_eq!(unauthorized.len(), 3, "{log:?}");
    assert!(unauthorized.iter().all(|r| r.status == 401 && r.path == "config.json"), "{log:?}");
    assert!(log.iter().filter(|r| r.authorized).all(|r| r.status != 401), "{log:?}");

    // Without the CA the certificate is refused, and said so.
    env.set_env("SSL_CERT_FILE", "/dev/null");
    env.set_env("SSL_CERT_DIR", env.path("no-certs"));
    env.run(["update"]).fails_with("certificate");
}

#[test]
fn sparse_the_daemon_fetches_with_conditional_requests_and_applies_a_pulled_lockfile() {
    let f = site(&[("alpha", "1.0.0")], &SiteOptions::default());
    f.env.run(["install", "alpha"]).success();
    f.env.run(["daemon", "watch"]).success();
    let _daemon = agents_test_support::DaemonGuard::start(&f.env);

    // A teammate publishes 1.1.0 (through git; CI redeploys the site) and commits a lockfile
    // pinning it, which arrives here with `git pull`.
    f.env.run([OsStr::new("registry"), OsStr::new("add"), OsStr::new("origin"), f.git.as_os_str()]).success();
    let file = f.env.path("alpha-1.1.0.md");
    std::fs::write(&file, TestEnv::agent_text("alpha", "1.1.0")).unwrap();
    f.env
        .run(
            [OsStr::new("publish"), file.as_os_str(), "--version".as_ref(), "1.1.0".as_ref(), "--registry".as_ref()]
                .into_iter()
                .chain([OsStr::new("origin")]),
        )
        .success();
    f.env.run(["registry", "remove", "origin"]).success();
    redeploy(&f.git, &f.www);
    f.site.clear_log();
    let lockfile = std::fs::read_to_string(f.env.project.join("agents.lock")).unwrap();
    let old_sha = body_path_of(&f.www, "alpha", "1.0.0").rsplit('/').next().unwrap().to_owned();
    let new_sha = body_path_of(&f.www, "alpha", "1.1.0").rsplit('/').next().unwrap().to_owned();
    let pulled = lockfile.replace("version = \"1.0.0\"", "version = \"1.1.0\"").replace(&old_sha, &new_sha);
    std::fs::write(f.env.project.join("agents.lock"), pulled).unwrap();

    let installed = f.env.agents_dir().join("alpha.md");
    assert!(
        agents_test_support::eventually(Duration::from_secs(20), || std::fs::read_to_string(&installed).ok()
            == Some(TestEnv::agent_text("alpha", "1.1.0"))),
        "{:?}\n{:?}\n{}",
        std::fs::read_to_string(&installed),
        access(&f.site.requests()),
        f.env.run(["daemon", "status", "--json"]).stdout()
    );
    let requests = access(&f.site.requests());
    // config.json revalidated, the cached index file refetched (it changed), the new body once
    // (the old one is cached).
    assert!(requests.contains(&(304, "config.json".to_owned())), "{requests:?}");
    assert!(requests.iter().any(|(status, path)| *status == 200 && path.ends_with("/alpha")), "{requests:?}");
    assert_eq!(requests.iter().filter(|(_, path)| path.starts_with("bodies/")).count(), 1, "{requests:?}");
}

#[test]
fn sparse_search_reads_the_published_summary_checked_against_cached_index_files() {
    let f = site(&[("alpha", "1.0.0"), ("beta", "1.0.0")], &SiteOptions::default());
    let summary = f.www.join("search.json");
    f.env
        .run([OsStr::new("registry"), OsStr::new("summary"), f.git.as_os_str(), OsStr::new("-o"), summary.as_os_str()])
        .success()
        .stderr_contains("search summary of 2 agent(s)");
    f.site.clear_log();
    let hits = f.env.run(["search", "alpha", "--json"]).success().json()["packages"].clone();
    let hits: Vec<(String, String)> = hits
        .as_array()
        .unwrap()
        .iter()
        .filter(|hit| hit["registry"] == "team")
        .map(|hit| (hit["name"].as_str().unwrap().to_owned(), hit["version"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(hits, [("alpha".to_owned(), "1.0.0".to_owned())]);
    // One file, not every index file.
    assert_eq!(access(&f.site.requests()), [(200, "search.json".to_owned())]);

    // 1.1.0 is published and deployed, but the summary was not regenerated: once the client
    // holds alpha's index file, it shows what the index file says.
    f.env.run([OsStr::new("registry"), OsStr::new("add"), OsStr::new("origin"), f.git.as_os_str()]).success();
    let file = f.env.path("alpha-1.1.0.md");
    std::fs::write(&file, TestEnv::agent_text("alpha", "1.1.0")).unwrap();
    f.env
        .run(
            [OsStr::new("publish"), file.as_os_str(), "--version".as_ref(), "1.1.0".as_ref(), "--registry".as_ref()]
                .into_iter()
                .chain([OsStr::new("origin")]),
        )
        .success();
    f.env.run(["registry", "remove", "origin"]).success();
    let stale = std::fs::read(&summary).unwrap();
    redeploy(&f.git, &f.www);
    std::fs::write(&summary, stale).unwrap();
    f.env.run(["install", "alpha", "--registry", "team"]).success().stderr_contains("alpha v1.1.0");
    let hits = f.env.run(["search", "alpha", "--json"]).success().json()["packages"].clone();
    let team: Vec<&serde_json::Value> = hits.as_array().unwrap().iter().filter(|h| h["registry"] == "team").collect();
    assert_eq!(team[0]["version"], "1.1.0");

    // A summary of another registry is refused.
    let other = f.env.path("other.git");
    f.env.run([OsStr::new("registry"), OsStr::new("init"), other.as_os_str()]).success();
    f.env
        .run([OsStr::new("registry"), OsStr::new("summary"), other.as_os_str(), OsStr::new("-o"), summary.as_os_str()])
        .success();
    f.env.run(["search", "alpha"]).success().stderr_contains("summarises registry");
}

/// A sparse registry is read from the one origin its URL names: a redirect to another host (here
/// another port on loopback) is refused, naming where it pointed, and nothing is fetched there.
#[test]
fn sparse_redirect_to_another_origin_is_refused() {
    let (env, _git, www) = published(&[("alpha", "1.0.0")]);
    let elsewhere = StaticServer::start(&www);
    let server = StaticServer::start(&www);
    server.redirect_to(&format!("http://127.0.0.1:{}/", elsewhere.port));
    env.run(["registry", "add", "team", &server.url()])
        .fails_with("another host or scheme")
        .stderr_contains(&format!("127.0.0.1:{}", elsewhere.port));
    assert!(elsewhere.requests().is_empty(), "{:?}", elsewhere.requests());
}

#[test]
fn sparse_a_broken_config_json_is_a_failed_fetch_and_the_cache_still_restores_and_syncs() {
    let f = fixture(&[("alpha", "1.0.0")]);
    f.env.run(["install", "alpha"]).success();
    f.env.run(["daemon", "watch"]).success();
    let installed = f.env.agents_dir().join("alpha.md");
    let expected = TestEnv::agent_text("alpha", "1.0.0");
    let restored = || std::fs::read_to_string(&installed).ok().as_ref() == Some(&expected);
    // A deploy that lost config.json: the daemon's first fetch sees it answer 404.
    let config = f.server.root().join("config.json");
    let good = std::fs::read(&config).unwrap();
    std::fs::remove_file(&config).unwrap();
    {
        let daemon = agents_test_support::DaemonGuard::start(&f.env);
        let failed = agents_test_support::eventually(Duration::from_secs(20), || {
            daemon.status()["fetch_error"].as_str().is_some_and(|e| e.contains("404"))
        });
        assert!(failed, "the 404 was not a failed fetch: {}", daemon.status());
        let error = daemon.status()["fetch_error"].as_str().unwrap_or_default().to_owned();
        assert!(!error.contains("not an agents registry"), "{error}");
        // Every body is cached: a deleted agent comes back without the registry.
        std::fs::remove_file(&installed).unwrap();
        assert!(
            agents_test_support::eventually(Duration::from_secs(20), restored),
            "not restored from the cache: {}",
            daemon.status()
        );
    }
    std::fs::remove_file(&installed).unwrap();
    f.env.run(["sync"]).success();
    assert!(restored(), "`agents sync` did not restore from the cache");

    // Garbage where config.json was: a failed fetch too, and the cache still serves.
    std::fs::write(&config, b"\xff\xfe<html>maintenance</html>").unwrap();
    let update = f.env.run(["update"]);
    assert!(!update.stderr().contains("not an agents registry"), "{}", update.stderr());
    std::fs::remove_file(&installed).unwrap();
    f.env.run(["sync"]).success();
    assert!(restored(), "`agents sync` did not restore from the cache");

    // Fixed: fetching works again.
    std::fs::write(&config, good).unwrap();
    f.env.run(["update"]).success();
}
