//! Sparse registries: a registry made with `agents registry init` and `agents publish`, its tree
//! exported with `git archive` and served by a real static web server on loopback.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use agents_test_support::TestEnv;
use agents_test_support::servers::{Logged, StaticServer};

struct Fixture {
    env: TestEnv,
    /// The git registry the tree comes from (no longer configured in the test user's config).
    git: PathBuf,
    /// The directory the web server serves: the registry's tree as `git archive` gives it.
    www: PathBuf,
    server: StaticServer,
}

/// A git registry holding `agents` (name, version), exported to a served directory and added as
/// the sparse registry `team`.
fn fixture(agents: &[(&str, &str)]) -> Fixture {
    let env = TestEnv::new();
    let git = env.registry("origin");
    for (name, version) in agents {
        env.publish(name, version);
    }
    env.run(["registry", "remove", "origin"]).success();
    let www = env.path("www");
    export(&git, &www);
    let server = StaticServer::start(&www);
    env.run(["registry", "add", "team", &server.url()]).success();
    Fixture { env, git, www, server }
}

fn export(git: &Path, www: &Path) {
    agents_test_support::export_tree(git, www);
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

fn body_path_of(www: &Path, name: &str, version: &str) -> String {
    let index = std::fs::read_to_string(served(www, "index", &format!("/{name}"))).unwrap();
    let record: serde_json::Value = index
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|record| record["version"] == version)
        .unwrap();
    let sha = record["sha256"].as_str().unwrap().to_owned();
    format!("bodies/{}/{}/{sha}", &sha[..2], &sha[2..4])
}

#[test]
fn sparse_install_fetches_only_what_it_needs_and_a_repeat_is_a_304() {
    let f = fixture(&[("alpha", "1.0.0"), ("alpha", "1.1.0"), ("beta", "1.0.0")]);
    // `registry add` read config.json and nothing else.
    assert_eq!(log(&f.server.requests()), [(200, "config.json".to_owned())]);
    f.server.clear_log();

    f.env.run(["install", "alpha"]).success().stderr_contains("Installed alpha v1.1.0");
    let index = served(&f.www, "index", "/alpha").strip_prefix(&f.www).unwrap().to_string_lossy().into_owned();
    let body = body_path_of(&f.www, "alpha", "1.1.0");
    let mut first = log(&f.server.requests());
    first.sort();
    assert_eq!(first, [(200, body.clone()), (200, index.clone()), (304, "config.json".to_owned())]);
    assert!(f.server.requests().iter().all(|r| r.method == "GET" && !r.proxied));
    assert_eq!(
        std::fs::read_to_string(f.env.agents_dir().join("alpha.md")).unwrap(),
        TestEnv::agent_text("alpha", "1.1.0")
    );

    // Asked again: the index file is revalidated (304), the body is never fetched twice.
    f.server.clear_log();
    f.env.run(["install", "alpha"]).success();
    let mut second = log(&f.server.requests());
    second.sort();
    assert_eq!(second, [(304, "config.json".to_owned()), (304, index)]);

    // A lockfile install of what is cached asks the server nothing.
    f.server.clear_log();
    std::fs::remove_file(f.env.agents_dir().join("alpha.md")).unwrap();
    f.env.run(["install"]).success();
    assert_eq!(log(&f.server.requests()), []);
}

#[test]
fn sparse_unknown_agent_is_a_404_and_reported() {
    let f = fixture(&[("alpha", "1.0.0")]);
    f.server.clear_log();
    f.env.run(["install", "nosuch"]).fails_with("nosuch");
    let requests = log(&f.server.requests());
    assert!(requests.iter().any(|(status, path)| *status == 404 && path.ends_with("/nosuch")), "{requests:?}");
}

#[test]
fn sparse_tampered_body_is_refused_naming_agent_and_version() {
    let f = fixture(&[("alpha", "1.0.0")]);
    let body = f.www.join(body_path_of(&f.www, "alpha", "1.0.0"));
    std::fs::write(&body, TestEnv::agent_text("alpha", "6.6.6")).unwrap();
    f.env.run(["install", "alpha"]).fails_with("checksum mismatch for alpha@1.0.0");
    assert!(!f.env.agents_dir().join("alpha.md").exists());
    // A tampered body is never cached: restored on the server, the install goes through.
    std::fs::write(&body, TestEnv::agent_text("alpha", "1.0.0")).unwrap();
    f.env.run(["install", "alpha"]).success();
}

#[test]
fn sparse_rewritten_record_is_refused_and_the_cache_keeps_what_it_had() {
    let f = fixture(&[("alpha", "1.0.0"), ("alpha", "1.1.0")]);
    f.env.run(["install", "alpha@1.0.0"]).success();
    let index = served(&f.www, "index", "/alpha");
    let original = std::fs::read_to_string(&index).unwrap();

    // A published version whose checksum changed.
    let other = format!("{:064x}", 7);
    let sha = body_path_of(&f.www, "alpha", "1.0.0").rsplit('/').next().unwrap().to_owned();
    std::fs::write(&index, original.replace(&sha, &other)).unwrap();
    f.env
        .run(["install", "alpha@1.0.0"])
        .fails_with("was rewritten")
        .stderr_contains("published versions changed their checksum: alpha@1.0.0");

    // A published version that disappeared.
    let without: String = original.lines().filter(|l| !l.contains("\"1.1.0\"")).map(|l| format!("{l}\n")).collect();
    std::fs::write(&index, without).unwrap();
    f.env.run(["install", "alpha@1.0.0"]).fails_with("published versions disappeared: alpha@1.1.0");

    // An index file that had records and is now gone (a 404).
    std::fs::remove_file(&index).unwrap();
    f.env.run(["install", "alpha@1.0.0"]).fails_with("published versions disappeared: alpha@1.0.0, alpha@1.1.0");

    // The cache kept the index file it had verified.
    f.env.run(["install", "alpha@1.0.0", "--offline"]).success();
}

#[test]
fn sparse_size_limits_hold_and_a_corrupt_cached_body_is_fetched_again() {
    let f = fixture(&[("alpha", "1.0.0"), ("beta", "1.0.0")]);
    // An index file over 8 MiB is refused before it is read whole.
    let index = served(&f.www, "index", "/beta");
    let mut big = std::fs::read(&index).unwrap();
    big.resize(8 * 1024 * 1024 + 1, b'\n');
    std::fs::write(&index, big).unwrap();
    f.env.run(["install", "beta"]).fails_with("over the limit of 8388608 bytes");

    // The cache is disposable: a cached body that no longer matches its checksum is fetched
    // again, never installed.
    f.env.run(["install", "alpha"]).success();
    let cache = f.env.home.join(".cache/agents/sparse");
    let cached_body = std::fs::read_dir(&cache).unwrap().next().unwrap().unwrap().path().join("files");
    let cached_body = cached_body.join(body_path_of(&f.www, "alpha", "1.0.0"));
    std::fs::write(&cached_body, "tampered in the cache").unwrap();
    std::fs::remove_file(f.env.agents_dir().join("alpha.md")).unwrap();
    f.server.clear_log();
    f.env.run(["install"]).success();
    assert_eq!(
        std::fs::read_to_string(f.env.agents_dir().join("alpha.md")).unwrap(),
        TestEnv::agent_text("alpha", "1.0.0")
    );
    assert_eq!(log(&f.server.requests()), [(200, body_path_of(&f.www, "alpha", "1.0.0"))]);
}

#[test]
fn sparse_changed_registry_id_is_refused() {
    let f = fixture(&[("alpha", "1.0.0")]);
    let other = f.env.path("other.git");
    f.env.run([OsStr::new("registry"), OsStr::new("init"), other.as_os_str()]).success();
    let config = Command::new("git").arg("--git-dir").arg(&other).args(["show", "main:config.json"]).output().unwrap();
    std::fs::write(f.www.join("config.json"), config.stdout).unwrap();
    f.env.run(["install", "alpha"]).fails_with("its id changed from");
    let _ = &f.git;
}

#[test]
fn sparse_offline_installs_from_the_cache_only() {
    let f = fixture(&[("alpha", "1.0.0"), ("beta", "1.0.0")]);
    f.env.run(["install", "alpha"]).success();
    drop(f.server);
    std::fs::remove_file(f.env.agents_dir().join("alpha.md")).unwrap();
    f.env.run(["install", "--offline"]).success();
    assert!(f.env.agents_dir().join("alpha.md").exists());
    f.env.run(["install", "beta", "--offline"]).fails_with("not in the cache yet");
}

#[test]
fn sparse_publish_says_to_publish_to_the_git_source() {
    let f = fixture(&[("alpha", "1.0.0")]);
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
    let f = fixture(&[("alpha", "1.0.0")]);
    f.server.require_basic_auth("agent", "s3cret");
    f.env.run(["install", "alpha"]).fails_with("authentication failed");

    let credentials = f.env.path("git-credentials");
    std::fs::write(&credentials, format!("http://agent:s3cret@127.0.0.1:{}\n", f.server.port)).unwrap();
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
    f.server.clear_log();
    f.env.run(["install", "alpha"]).success();
    // Told once that the credential worked, not once per file (`store` answered the `get`, so
    // git asked no further helper).
    assert_eq!(std::fs::read_to_string(&asked).unwrap(), "store\n");
    let requests = f.server.requests();
    // Asked once without credentials, then every request carries them.
    assert_eq!(requests[0].status, 401);
    assert!(requests[0].authorization.is_none());
    assert!(requests[1..].iter().all(|r| r.status != 401 && r.authorization.is_some()), "{requests:?}");
    for file in ["agents.toml", "agents.lock"] {
        assert!(!std::fs::read_to_string(f.env.project.join(file)).unwrap().contains("s3cret"));
    }
}

#[test]
fn sparse_private_host_takes_credentials_from_netrc() {
    let f = fixture(&[("alpha", "1.0.0")]);
    f.server.require_basic_auth("agent", "t0ken");
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
fn sparse_slow_server_times_out_after_retries() {
    let f = fixture(&[("alpha", "1.0.0")]);
    f.env.set_env("AGENTS_HTTP_TIMEOUT", "0.3");
    f.server.set_delay(Duration::from_millis(1500));
    f.server.clear_log();
    let started = std::time::Instant::now();
    f.env.run(["install", "alpha"]).fails_with("(after 4 attempts)");
    assert!(started.elapsed() < Duration::from_secs(20));
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
    let f = fixture(&[("alpha", "1.0.0")]);
    // Said for that registry; the others' results still show.
    f.env.run(["search", "alpha"]).success().stderr_contains("is a sparse registry and publishes no search summary");
}

#[test]
fn sparse_over_tls_from_lighttpd_with_basic_auth_and_a_304_on_repeat() {
    let env = TestEnv::new();
    let git = env.registry("origin");
    env.publish("alpha", "1.0.0");
    env.run(["registry", "remove", "origin"]).success();
    let www = env.path("www");
    export(&git, &www);
    let server = agents_test_support::servers::https_static(&www, &env, Some("s3cret"));
    let credentials = env.path("git-credentials");
    let port = server.base_url.trim_end_matches('/').rsplit(':').next().unwrap().to_owned();
    std::fs::write(&credentials, format!("https://agent:s3cret@127.0.0.1:{port}\n")).unwrap();
    std::fs::write(
        env.home.join(".gitconfig"),
        format!("[credential]\n\thelper = store --file={}\n", credentials.display()),
    )
    .unwrap();

    env.run(["registry", "add", "team", &server.base_url]).success();
    env.run(["install", "alpha"]).success().stderr_contains("Installed alpha v1.0.0");
    env.run(["install", "alpha"]).success();
    // lighttpd writes its access log about once a second.
    agents_test_support::eventually(Duration::from_secs(5), || server.log().contains("\" 304 "));
    let log = server.log();
    assert!(log.contains("\"GET /index/al/ph/alpha HTTP/1.1\" 200"), "{log}");
    assert!(log.contains("\"GET /index/al/ph/alpha HTTP/1.1\" 304"), "{log}");
    assert_eq!(log.matches("GET /bodies/").count(), 1, "{log}");

    // Without the CA the certificate is refused, and said so.
    env.set_env("SSL_CERT_FILE", "/dev/null");
    env.set_env("SSL_CERT_DIR", env.path("no-certs"));
    env.run(["update"]).fails_with("certificate");
}

#[test]
fn sparse_the_daemon_fetches_with_conditional_requests_and_applies_a_pulled_lockfile() {
    let f = fixture(&[("alpha", "1.0.0")]);
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
    export(&f.git, &f.www);
    f.server.clear_log();
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
        log(&f.server.requests()),
        f.env.run(["daemon", "status", "--json"]).stdout()
    );
    let requests = log(&f.server.requests());
    // config.json revalidated, the cached index file refetched (it changed), the new body once
    // (the old one is cached).
    assert!(requests.contains(&(304, "config.json".to_owned())), "{requests:?}");
    assert!(requests.iter().any(|(status, path)| *status == 200 && path.ends_with("/alpha")), "{requests:?}");
    assert_eq!(requests.iter().filter(|(_, path)| path.starts_with("bodies/")).count(), 1, "{requests:?}");
}

#[test]
fn sparse_search_reads_the_published_summary_checked_against_cached_index_files() {
    let f = fixture(&[("alpha", "1.0.0"), ("beta", "1.0.0")]);
    let summary = f.www.join("search.json");
    f.env
        .run([OsStr::new("registry"), OsStr::new("summary"), f.git.as_os_str(), OsStr::new("-o"), summary.as_os_str()])
        .success()
        .stderr_contains("search summary of 2 agent(s)");
    f.server.clear_log();
    let hits = f.env.run(["search", "alpha", "--json"]).success().json();
    let hits: Vec<(String, String)> = hits
        .as_array()
        .unwrap()
        .iter()
        .filter(|hit| hit["registry"] == "team")
        .map(|hit| (hit["name"].as_str().unwrap().to_owned(), hit["version"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(hits, [("alpha".to_owned(), "1.0.0".to_owned())]);
    // One file, not every index file.
    assert_eq!(log(&f.server.requests()), [(200, "search.json".to_owned())]);

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
    export(&f.git, &f.www);
    std::fs::write(&summary, stale).unwrap();
    f.env.run(["install", "alpha", "--registry", "team"]).success().stderr_contains("alpha v1.1.0");
    let hits = f.env.run(["search", "alpha", "--json"]).success().json();
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
