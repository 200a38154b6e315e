//! The registry's website (`agents registry site`): pages built from a real git registry, every
//! publisher-supplied string kept as text, bad input skipped and listed, rebuilt incrementally,
//! served beside the sparse tree without sparse clients noticing. The browser tests are in
//! `site_browser.rs`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use agents_test_support::TestEnv;
use agents_test_support::servers::StaticServer;

/// A registry `team` with an agent (1.0.0 yanked, 1.1.0), a skill and a command.
pub(crate) fn registry_with_every_kind(env: &TestEnv) -> PathBuf {
    let git = env.registry("team");
    for version in ["1.0.0", "1.1.0"] {
        let file = env.path(&format!("reviewer-{version}.md"));
        let text = format!(
            "---\nname: code-reviewer\ndescription: Reviews diffs for bugs\nmodel: sonnet\ntools: Read, Grep, Task\n---\n\
             # Code reviewer\n\nReads the *diff* {version} and reports [bugs](https://example.com/bugs).\n"
        );
        std::fs::write(&file, text).unwrap();
        env.run([OsStr::new("publish"), file.as_os_str(), "--version".as_ref(), version.as_ref()]).success();
    }
    env.run(["yank", "code-reviewer@1.0.0"]).success();
    let skill = env.path("skills/pdf-forms");
    std::fs::create_dir_all(skill.join("scripts")).unwrap();
    std::fs::write(
        skill.join("SKILL.md"),
        "---\nname: pdf-forms\ndescription: Fills PDF forms\nversion: 1.0.0\n---\nUse `scripts/fill.sh`.\n",
    )
    .unwrap();
    std::fs::write(skill.join("scripts/fill.sh"), "#!/bin/sh\necho fill\n").unwrap();
    let mode = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755);
    std::fs::set_permissions(skill.join("scripts/fill.sh"), mode).unwrap();
    env.run([OsStr::new("publish"), skill.as_os_str()]).success();
    let command = env.path("commands/review.md");
    std::fs::create_dir_all(command.parent().unwrap()).unwrap();
    std::fs::write(&command, "---\ndescription: Review the diff\nversion: 2.0.0\n---\nReview $ARGUMENTS\n").unwrap();
    env.run([OsStr::new("publish"), command.as_os_str(), "--kind".as_ref(), "command".as_ref()]).success();
    git
}

/// Builds the site of `git` into `out`, as the README's Pages job does.
pub(crate) fn build(env: &TestEnv, git: &Path, out: &Path) -> agents_test_support::Run {
    env.run([OsStr::new("registry"), OsStr::new("site"), git.as_os_str(), OsStr::new("-o"), out.as_os_str()])
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every HTML file under `dir`, relative.
fn pages(dir: &Path) -> Vec<String> {
    TestEnv::files_under(dir).into_iter().filter(|file| file.ends_with(".html")).collect()
}

#[test]
fn site_shows_every_package_its_versions_files_and_what_each_tool_gets() {
    let env = TestEnv::new();
    let git = registry_with_every_kind(&env);
    let www = env.path("www");
    agents_test_support::export_tree(&git, &www);
    build(&env, &git, &www).success().stderr_contains("Built site of 3 package(s)");

    let home = read(&www.join("index.html"));
    for name in ["code-reviewer", "pdf-forms", "review"] {
        assert!(home.contains(&format!("<a href=\"packages/{name}.html\">{name}</a>")), "{home}");
    }
    let page = read(&www.join("packages/code-reviewer.html"));
    assert!(page.contains("Reviews diffs for bugs"), "{page}");
    assert!(page.contains("<h3>Code reviewer</h3>"), "the body is rendered from Markdown: {page}");
    assert!(page.contains("<em>diff</em> 1.1.0"), "the page shows the latest version not yanked: {page}");
    assert!(page.contains("<code id=\"install-command\">agents install code-reviewer</code>"), "{page}");
    assert!(page.contains("<strong class=\"yanked\">yanked</strong>"), "{page}");
    assert_eq!(page.matches("<strong class=\"yanked\">").count(), 1, "only 1.0.0 is yanked: {page}");
    // What each tool gets: the conversion notes `install --target` prints.
    assert!(
        page.contains(".opencode/agent/code-reviewer.md") || page.contains(".opencode/agents/code-reviewer.md"),
        "{page}"
    );
    assert!(page.contains("Task"), "a tool a target cannot carry is named: {page}");
    // Every version's raw bytes are a link away, in the tree served beside the pages.
    for href in page.split("href=\"../").skip(1).map(|rest| &rest[..rest.find('"').unwrap()]) {
        if !href.ends_with(".css") && !href.ends_with(".js") && !href.ends_with(".html") {
            assert!(www.join(href).is_file(), "{href} is not served");
        }
    }
    let skill = read(&www.join("packages/pdf-forms.html"));
    assert!(skill.contains("scripts/fill.sh") && skill.contains("SKILL.md"), "the files of a skill: {skill}");
    assert!(skill.contains(".agents/skills/pdf-forms/"), "{skill}");
    let command = read(&www.join("packages/review.html"));
    assert!(command.contains("Codex has no custom commands"), "{command}");
    for page in pages(&www) {
        let text = read(&www.join(&page));
        assert!(
            text.contains(&format!(
                "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">",
                agents_site::CONTENT_SECURITY_POLICY
            )),
            "{page} has no CSP"
        );
        assert!(!text.contains("http://") && !text.contains("src=\"https://"), "{page} loads from elsewhere");
        // Relative links only: a link elsewhere is a publisher's, in a body, never followed for us.
        for attribute in ["href=\"", "src=\""] {
            for value in text.split(attribute).skip(1) {
                let value = &value[..value.find('"').unwrap()];
                let relative = !value.starts_with('/') && !value.contains(':');
                assert!(relative || value.starts_with("https://"), "{page}: {attribute}{value}");
            }
        }
        assert_eq!(
            text.matches("href=\"https://").count(),
            text.matches(" rel=\"nofollow noopener noreferrer\"").count(),
            "{page}: a link elsewhere that is not a body's"
        );
    }
}

#[test]
fn hostile_bodies_and_descriptions_stay_text() {
    let env = TestEnv::new();
    let git = env.registry("team");
    for (number, body) in agents_site::HOSTILE_BODIES.iter().enumerate() {
        let name = format!("hostile-{number}");
        let description = format!("\"><script>window.__hostile='description'</script> abc\u{202E}cba {number}");
        let text =
            format!("---\nname: {name}\ndescription: {}\n---\n{body}\n", serde_json::to_string(&description).unwrap());
        let file = env.path(&format!("{name}.md"));
        std::fs::write(&file, text).unwrap();
        env.run([OsStr::new("publish"), file.as_os_str(), "--version".as_ref(), "1.0.0".as_ref()]).success();
    }
    // An index file at a path no valid name has: never a page, never a path.
    let layout = agents_test_support::layout_of_remote(&git);
    let valid = layout.index_path(&agents_format::AgentName::new("evil").unwrap());
    let invalid = format!("{}Evil..<script>", &valid[..valid.len() - "evil".len()]);
    agents_test_support::rewrite_in_remote(&git, &invalid, b"{}\n");
    let www = env.path("www");
    build(&env, &git, &www).success();
    let files = TestEnv::files_under(&www);
    assert!(files.iter().all(|file| !file.contains("Evil") && !file.contains("script>")), "{files:?}");
    for page in pages(&www) {
        let text = read(&www.join(&page)).to_lowercase();
        assert_no_hostile_markup(&page, &text);
    }
    let last = agents_site::HOSTILE_BODIES.len() - 1;
    let trojan = read(&www.join(format!("packages/hostile-{last}.html")));
    assert!(trojan.contains("bidi [U+202E]reversed[U+202C] text"), "a body's bidi control is shown: {trojan}");
    let page = read(&www.join("packages/hostile-0.html"));
    assert!(page.contains("abc[U+202E]cba"), "a bidi control is shown, not obeyed: {page}");
    assert!(page.contains("&lt;script&gt;window.__hostile="), "markup in a description is text: {page}");
}

/// Fails when `text` (a page, lowercased) holds markup that could run, load or send anything,
/// besides the page's own stylesheet and script.
pub(crate) fn assert_no_hostile_markup(page: &str, text: &str) {
    let own = text.matches("<script src=\"").count();
    assert_eq!(own, 1, "{page}: one script, our own");
    assert_eq!(text.matches("<script").count(), 1, "{page}: a script of the publisher's survived");
    for bad in [
        "<iframe",
        "<form",
        "<svg",
        "<img",
        "<style",
        "<object",
        "<embed",
        "<base",
        "javascript:",
        "data:",
        " onerror",
        " onload",
        " ontoggle",
        "http-equiv=\"refresh\"",
        "style=\"",
    ] {
        assert!(!text.contains(bad), "{page}: {bad} survived");
    }
    assert_eq!(text.matches("<link ").count(), 1, "{page}: one stylesheet, our own");
    assert_eq!(
        text.matches("id=\"search\"").count(),
        usize::from(page == "index.html"),
        "{page}: an id of ours was clobbered"
    );
}

#[test]
fn a_broken_index_file_or_unreadable_body_is_skipped_and_listed() {
    let env = TestEnv::new();
    let git = env.registry("team");
    for name in ["fine", "broken-index", "bad-body"] {
        env.publish(name, "1.0.0");
    }
    agents_test_support::rewrite_in_remote(
        &git,
        &agents_test_support::index_path_in(&git, "broken-index"),
        b"not json\n",
    );
    let body = {
        let index =
            agents_test_support::read_in_remote(&git, &agents_test_support::index_path_in(&git, "bad-body")).unwrap();
        let record: agents_format::IndexRecord =
            serde_json::from_slice(index.split(|b| *b == b'\n').next().unwrap()).unwrap();
        agents_test_support::layout_of_remote(&git).body_path(agents_format::Kind::Agent, &record.sha256)
    };
    agents_test_support::rewrite_in_remote(&git, &body, b"---\nname: bad-body\n---\ntampered\n");
    let www = env.path("www");
    build(&env, &git, &www)
        .success()
        .stderr_contains("skipped line 1 of the index file of `broken-index`")
        .stderr_contains("skipped the index file of `broken-index`: it holds no version")
        .stderr_contains("skipped the body of bad-body@1.0.0");
    assert!(www.join("packages/fine.html").is_file());
    assert!(!www.join("packages/broken-index.html").exists());
    let bad = read(&www.join("packages/bad-body.html"));
    assert!(bad.contains("cannot be shown") && !bad.contains("tampered"), "{bad}");
    // A rebuild with nothing changed still lists what the site leaves out.
    build(&env, &git, &www)
        .success()
        .stderr_contains("skipped the body of bad-body@1.0.0")
        .stderr_contains("0 page(s) rendered");
}

#[test]
fn after_one_publish_only_that_page_is_rendered_again() {
    let env = TestEnv::new();
    let git = env.registry("team");
    for name in ["alpha", "beta", "gamma"] {
        env.publish(name, "1.0.0");
    }
    let www = env.path("www");
    build(&env, &git, &www).success().stderr_contains("3 page(s) rendered, 0 unchanged");
    let before = std::fs::metadata(www.join("packages/alpha.html")).unwrap().modified().unwrap();
    env.publish("beta", "1.1.0");
    build(&env, &git, &www).success().stderr_contains("1 page(s) rendered, 2 unchanged");
    assert_eq!(std::fs::metadata(www.join("packages/alpha.html")).unwrap().modified().unwrap(), before);
    assert!(read(&www.join("packages/beta.html")).contains("1.1.0"));
    assert!(read(&www.join("search.json")).contains("\"version\":\"1.1.0\""));
    // A page deleted by hand is made again; a package gone from the registry loses its page.
    std::fs::remove_file(www.join("packages/gamma.html")).unwrap();
    let index = agents_test_support::index_path_in(&git, "alpha");
    let repository = git2::Repository::open_bare(&git).unwrap();
    let head = repository.head().unwrap().peel_to_commit().unwrap();
    let mut builder = git2::build::TreeUpdateBuilder::new();
    builder.remove(&index);
    let tree = builder.create_updated(&repository, &head.tree().unwrap()).unwrap();
    let signature = git2::Signature::now("admin", "admin@localhost").unwrap();
    repository
        .commit(Some("HEAD"), &signature, &signature, "remove alpha", &repository.find_tree(tree).unwrap(), &[&head])
        .unwrap();
    build(&env, &git, &www).success().stderr_contains("1 page(s) rendered, 1 unchanged, 1 removed");
    assert!(!www.join("packages/alpha.html").exists() && www.join("packages/gamma.html").is_file());
}

#[test]
fn sparse_clients_ignore_the_site_served_beside_the_tree() {
    let env = TestEnv::new();
    let git = registry_with_every_kind(&env);
    env.run(["registry", "remove", "team"]).success();
    let www = env.path("www");
    agents_test_support::export_tree(&git, &www);
    build(&env, &git, &www).success();
    let server = StaticServer::start(&www);
    env.run(["registry", "add", "team", &server.url()]).success();
    env.run(["search", "review"]).success().stdout_contains("code-reviewer");
    env.run(["init"]).success();
    env.run(["install", "code-reviewer", "pdf-forms", "review", "--registry", "team"]).success();
    let asked: Vec<String> = server.requests().into_iter().map(|request| request.path).collect();
    assert!(asked.iter().any(|path| path == "search.json"), "{asked:?}");
    for path in &asked {
        assert!(
            path == "config.json"
                || path == "search.json"
                || path.starts_with("index/")
                || path.starts_with("bodies/")
                || path.starts_with("owners/"),
            "a sparse client asked for {path}, which is the site's"
        );
    }
}

#[test]
fn an_exported_tree_builds_the_same_site_and_its_links_are_never_followed() {
    let env = TestEnv::new();
    let git = registry_with_every_kind(&env);
    let tree = env.path("tree");
    agents_test_support::export_tree(&git, &tree);
    let (from_git, from_tree) = (env.path("from-git"), env.path("from-tree"));
    build(&env, &git, &from_git).success();
    build(&env, &tree, &from_tree).success().stderr_contains("Built site of 3 package(s)");
    let files = TestEnv::files_under(&from_git);
    assert_eq!(files, TestEnv::files_under(&from_tree));
    for file in files.iter().filter(|file| from_git.join(file).is_file()) {
        assert_eq!(std::fs::read(from_git.join(file)).unwrap(), std::fs::read(from_tree.join(file)).unwrap(), "{file}");
    }
    // A pusher's symbolic link in the tree is never followed, even to the very bytes it names.
    let page = read(&from_tree.join("packages/review.html"));
    let body = page.split("href=\"../").find(|rest| rest.starts_with("bodies/")).unwrap();
    let body = &body[..body.find('"').unwrap()];
    let outside = env.path("outside");
    std::fs::copy(tree.join(body), &outside).unwrap();
    std::fs::remove_file(tree.join(body)).unwrap();
    std::os::unix::fs::symlink(&outside, tree.join(body)).unwrap();
    build(&env, &tree, &env.path("linked"))
        .success()
        .stderr_contains("skipped the body of review@2.0.0")
        .stderr_contains("is a symbolic link");
}

/// A page names what its package requires and which packages require it, as links; publishing a
/// new dependent renders the page of what it requires again (its dependents are among its
/// inputs), and a bundle's page lists its set and offers no conversion table.
#[test]
fn pages_show_dependencies_and_dependents_and_follow_a_new_dependent() {
    let env = TestEnv::new();
    let git = env.registry("team");
    env.publish("test-writer", "1.0.0");
    let publish = |name: &str, requires: &[&str]| {
        let file = env.path(&format!("{name}.md"));
        std::fs::write(&file, TestEnv::agent_text(name, "1.0.0")).unwrap();
        let mut args: Vec<&OsStr> = vec!["publish".as_ref(), file.as_os_str(), "--version".as_ref(), "1.0.0".as_ref()];
        for requirement in requires {
            args.extend(["--requires".as_ref(), OsStr::new(requirement)]);
        }
        env.run(args).success();
    };
    publish("reviewer", &["test-writer@^1"]);
    env.run([
        "publish",
        "--bundle",
        "acme-backend",
        "--version",
        "1.0.0",
        "--description",
        "The backend set",
        "--requires",
        "reviewer@^1",
        "--requires",
        "test-writer@^1",
    ])
    .success();
    let www = env.path("www");
    build(&env, &git, &www).success();
    let reviewer = read(&www.join("packages/reviewer.html"));
    assert!(reviewer.contains("<h2 id=\"dependencies\">Dependencies</h2>"), "{reviewer}");
    assert!(reviewer.contains("<a href=\"test-writer.html\">test-writer</a> <code>^1</code>"), "{reviewer}");
    assert!(reviewer.contains("Required by") && reviewer.contains("<a href=\"acme-backend.html\">"), "{reviewer}");
    let writer = read(&www.join("packages/test-writer.html"));
    assert!(writer.contains("<a href=\"acme-backend.html\">") && writer.contains("<a href=\"reviewer.html\">"));
    let bundle = read(&www.join("packages/acme-backend.html"));
    assert!(bundle.contains("<a href=\"reviewer.html\">reviewer</a>"), "{bundle}");
    assert!(!bundle.contains("What each tool gets"), "{bundle}");

    // A new dependent of test-writer: its page is made again, with the new name.
    publish("linter", &["test-writer@^1"]);
    build(&env, &git, &www).success().stderr_contains("2 page(s) rendered, 2 unchanged");
    assert!(read(&www.join("packages/test-writer.html")).contains("<a href=\"linter.html\">linter</a>"));
}
