//! A new user's first hour (issue 25): names that are found, logs that can be read, help that
//! says what each command acts on, and errors that name their way out.

use std::ffi::OsStr;
use std::time::Duration;

use agents_test_support::TestEnv;

/// Publishes `name` with `description` as version 1.0.0 to the only registry configured.
fn publish(env: &TestEnv, name: &str, description: &str) {
    let file = env.path(&format!("{name}.md"));
    std::fs::write(&file, format!("---\nname: {name}\ndescription: {description}\n---\n{name}\n")).unwrap();
    env.run([OsStr::new("publish"), file.as_os_str(), OsStr::new("--version"), OsStr::new("1.0.0")]).success();
}

fn names(search: &serde_json::Value) -> Vec<String> {
    search["packages"].as_array().unwrap().iter().map(|hit| hit["name"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn an_unknown_name_gets_the_closest_name_of_every_registry_searched() {
    let env = TestEnv::new();
    env.registry("team");
    publish(&env, "team-helper", "Knows our conventions");

    // A name in the built-in registry and one in the team's: both are offered.
    env.run(["install", "go-backend-exprt"])
        .fails_with("agent `go-backend-exprt` was not found in registries `team`, `builtin`")
        .stderr_contains("hint: did you mean `go-backend-expert`?");
    env.run(["install", "team-helpr"]).fails_with("not found").stderr_contains("did you mean `team-helper`?");
    env.run(["info", "team-helpr", "--registry", "team"])
        .fails_with("not found in registry `team`")
        .stderr_contains("did you mean `team-helper`?");
    let far = env.run(["install", "nothing-like-any-name"]).fails_with("not found");
    assert!(!far.stderr().contains("did you mean"), "{}", far.stderr());

    // Names are lowercase: the lowercase form is offered.
    env.run(["install", "Go-Backend-Expert"])
        .fails_with("uppercase")
        .stderr_contains("hint: did you mean `go-backend-expert`?");
}

#[test]
fn search_ranks_the_name_before_the_description_and_lists_everything_without_a_query() {
    let env = TestEnv::new();
    env.registry("team");
    publish(&env, "canvas-design", "Posters as PNG and PDF");
    publish(&env, "my-pdf", "Mine");
    publish(&env, "pdf-tools", "Tools");
    publish(&env, "pdf", "Fill forms");
    publish(&env, "algorithmic-art", "Generative art");
    publish(&env, "clean_gone", "Deletes merged branches");

    let hits = env.run(["search", "pdf", "--json"]).success().json();
    assert_eq!(names(&hits), ["pdf", "pdf-tools", "my-pdf", "canvas-design"]);
    // The built-in registry's `go-backend-expert` begins with the query: it leads the team's
    // names that merely hold it.
    let hits = names(&env.run(["search", "go", "--json"]).success().json());
    assert_eq!(hits[..3], ["go-backend-expert", "algorithmic-art", "clean_gone"], "{hits:?}");
    let text = env.run(["search", "pdf"]).success().stdout();
    assert!(text.lines().next().unwrap().starts_with("pdf "), "{text}");

    let everything = names(&env.run(["search", "--json"]).success().json());
    for name in ["algorithmic-art", "canvas-design", "code-reviewer", "go-backend-expert", "pdf", "test-writer"] {
        assert!(everything.iter().any(|hit| hit == name), "{name} missing from {everything:?}");
    }
    let mut sorted = everything.clone();
    sorted.sort();
    assert_eq!(everything, sorted, "without a query, every hit ranks alike: alphabetical");
}

#[test]
fn search_alone_is_paged_on_a_terminal_only() {
    let env = TestEnv::new();
    let paged = env.path("paged.txt");
    env.set_env("PAGER", format!("cat > '{}'", paged.display()));
    // `script` runs the command on a pseudo-terminal.
    let command = format!("'{}' search", agents_test_support::bin("agents").display());
    let mut script = std::process::Command::new("script");
    env.isolate(&mut script);
    let output = script.current_dir(&env.project).args(["-qec", &command, "/dev/null"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = std::fs::read_to_string(&paged).unwrap();
    assert!(text.lines().any(|line| line.starts_with("go-backend-expert ")), "{text}");

    std::fs::remove_file(&paged).unwrap();
    env.run(["search"]).success().stdout_contains("go-backend-expert ");
    assert!(!paged.exists(), "a pipe was paged");
}

#[test]
fn a_misspelt_subcommand_is_offered_the_closest_first() {
    let env = TestEnv::new();
    let run = env.run(["instal"]);
    assert_eq!(run.code(), Some(2));
    let stderr = run.stderr();
    let tip = stderr.lines().find(|line| line.contains("similar subcommand")).unwrap_or_else(|| panic!("{stderr}"));
    let first = tip.split('\'').nth(1).unwrap_or_else(|| panic!("{tip}"));
    assert_eq!(first, "install", "{stderr}");
}

/// Neither an escape character nor its escaped spelling, as `-v` printed them to a pipe.
fn assert_no_escapes(text: &str) {
    assert!(!text.contains('\u{1b}'), "an escape character reached a pipe:\n{text}");
    assert!(!text.contains("\\u{1b}"), "an escaped escape sequence was printed:\n{text}");
}

#[test]
fn verbose_logs_in_a_pipe_have_no_colour_codes_even_without_no_color() {
    let env = TestEnv::new();
    env.registry("team");
    env.remove_env("NO_COLOR");
    // Installing fetches the team's registry, which logs at debug level.
    let run = env.run(["-vv", "install", "code-reviewer"]).success();
    assert!(run.stderr().contains("DEBUG"), "-vv logged nothing:\n{}", run.stderr());
    assert_no_escapes(&run.stderr());

    env.set_env("AGENTS_LOG", "debug");
    let run = env.run(["install", "test-writer"]).success();
    assert!(run.stderr().contains("DEBUG"), "AGENTS_LOG=debug logged nothing:\n{}", run.stderr());
    assert_no_escapes(&run.stderr());

    // A level per target: the registry's debug records (fetching the team's registry for a
    // version published there), and nothing else's.
    env.publish("logged", "1.0.0");
    env.set_env("AGENTS_LOG", "warn,agents_registry=debug");
    let stderr = env.run(["install", "logged"]).success().stderr();
    let debug: Vec<&str> = stderr.lines().filter(|l| l.contains("DEBUG")).collect();
    assert!(!debug.is_empty(), "AGENTS_LOG=warn,agents_registry=debug logged nothing:\n{stderr}");
    assert!(debug.iter().all(|l| l.contains("agents_registry")), "{stderr}");
}

#[test]
fn help_describes_every_argument_and_names_the_kinds() {
    let env = TestEnv::new();
    let top = env.run(["--help"]).success().stdout();
    let install = top.lines().find(|line| line.trim_start().starts_with("install ")).unwrap();
    assert!(install.contains("skills") && install.contains("commands"), "{install}");

    let init = env.run(["registry", "init", "--help"]).success().stdout();
    let path = init.lines().skip_while(|line| !line.starts_with("Arguments:")).nth(1).unwrap();
    assert!(path.trim() != "<PATH>" && path.contains("bare repository"), "{init}");
    let resolve = env.run(["resolve", "--help"]).success().stdout();
    let agent = resolve.lines().skip_while(|line| !line.starts_with("Arguments:")).nth(1).unwrap();
    assert!(agent.contains("skill"), "{resolve}");
}

#[test]
fn global_shows_only_where_it_acts() {
    let env = TestEnv::new();
    for args in [
        &["registry", "init", "--help"][..],
        &["completions", "--help"],
        &["lint", "--help"],
        &["daemon", "start", "--help"],
    ] {
        let help = env.run(args).success().stdout();
        assert!(!help.contains("--global"), "{args:?} offers --global:\n{help}");
    }
    for args in [
        &["install", "--help"][..],
        &["list", "--help"],
        &["registry", "add", "--help"],
        &["daemon", "watch", "--help"],
    ] {
        let help = env.run(args).success().stdout();
        assert!(help.contains("-g, --global"), "{args:?} lacks --global:\n{help}");
    }
    // Given where it changes nothing, it is still accepted, as before.
    let path = env.path("scoped.git");
    env.run([OsStr::new("registry"), OsStr::new("init"), OsStr::new("-g"), path.as_os_str()]).success();
    env.run(["-g", "list"]).success();
}

#[test]
fn the_man_page_is_one_documented_command_away() {
    let env = TestEnv::new();
    let help = env.run(["--help"]).success().stdout();
    assert!(help.lines().any(|line| line.trim_start().starts_with("man ")), "{help}");
    let page = env.run(["man"]).success().stdout();
    assert!(page.starts_with(".ie") || page.contains(".TH agents"), "{}", &page[..page.len().min(300)]);
}

#[test]
fn quiet_silences_next_lines() {
    let env = TestEnv::new();
    let path = env.path("new.git");
    let loud = env.run([OsStr::new("registry"), OsStr::new("init"), path.as_os_str()]).success();
    assert!(loud.stderr().contains("next: agents registry add NAME"), "{}", loud.stderr());
    let path = env.path("quiet.git");
    // `--unsigned`: without a signing key, init warns that the registry is unsigned, and a
    // warning is not silenced by -q.
    let quiet = env
        .run([OsStr::new("registry"), OsStr::new("init"), OsStr::new("-q"), OsStr::new("--unsigned"), path.as_os_str()])
        .success();
    assert_eq!(quiet.stderr(), "");
}

#[test]
fn several_registries_to_publish_to_are_named() {
    let env = TestEnv::new();
    env.registry("team");
    env.registry("other");
    let file = env.path("helper.md");
    std::fs::write(&file, TestEnv::agent_text("helper", "1.0.0")).unwrap();
    env.run([OsStr::new("publish"), file.as_os_str(), OsStr::new("--version"), OsStr::new("1.0.0")])
        .fails_with("several registries are configured (")
        .stderr_contains("`team`")
        .stderr_contains("`other`");
}

#[test]
fn a_libgit2_network_failure_points_at_the_git_program() {
    let env = TestEnv::new();
    // A port nothing listens on: libgit2 cannot connect.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/team.git");
    let config = env.home.join(".config/agents");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("config.toml"), format!("[registries.team]\nurl = \"{url}\"\n")).unwrap();
    env.run(["install", "some-agent"]).fails_with("127.0.0.1").stderr_contains("git-fetch-with-cli = true");

    // Without a `git` program there is nothing to fall back to: no such hint.
    env.set_env("PATH", env.path("no-programs-here"));
    let run = env.run(["install", "some-agent"]).fails_with("127.0.0.1");
    assert!(!run.stderr().contains("git-fetch-with-cli"), "{}", run.stderr());
}

#[test]
fn a_missing_daemon_program_is_named_with_the_command_that_installs_it() {
    let env = TestEnv::new();
    // `agents` installed alone: a directory with no agentsd beside it, and none on PATH.
    let alone = env.path("bin");
    std::fs::create_dir_all(&alone).unwrap();
    std::fs::copy(agents_test_support::bin("agents"), alone.join("agents")).unwrap();
    let run = |args: &[&str]| {
        let mut command = std::process::Command::new(alone.join("agents"));
        env.isolate(&mut command);
        command.current_dir(&env.project).env("PATH", "/usr/bin:/bin").args(args);
        command.output().unwrap()
    };

    let start = run(&["daemon", "start"]);
    let stderr = String::from_utf8_lossy(&start.stderr);
    assert_eq!(start.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("agentsd is not installed"), "{stderr}");
    assert!(stderr.contains("cargo install --locked --path crates/agents"), "{stderr}");

    let doctor = run(&["doctor", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&doctor.stdout).unwrap();
    let daemon = report["checks"].as_array().unwrap().iter().find(|check| check["name"] == "daemon").unwrap();
    let detail = daemon["detail"].as_str().unwrap();
    assert!(
        detail.contains("not installed") && detail.contains("cargo install --locked --path crates/agents"),
        "{detail}"
    );
}

/// `cargo install --path crates/agents` installs every binary target of the package: the
/// daemon must be one of them, so the README's one command gives both programs.
#[test]
fn one_package_gives_both_programs() {
    let output = std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(agents_test_support::repo_root())
        .args(["metadata", "--no-deps", "--offline", "--format-version", "1"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let agents = metadata["packages"].as_array().unwrap().iter().find(|package| package["name"] == "agents").unwrap();
    let mut binaries: Vec<&str> = agents["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|target| target["kind"].as_array().unwrap().iter().any(|kind| kind == "bin"))
        .map(|target| target["name"].as_str().unwrap())
        .collect();
    binaries.sort();
    assert_eq!(binaries, ["agents", "agentsd"]);
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A server that accepts connections and never answers, for as long as the test runs.
fn silent_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

fn user_registries(env: &TestEnv, registries: &[(&str, String)]) {
    let config = env.home.join(".config/agents");
    std::fs::create_dir_all(&config).unwrap();
    let text: String = registries.iter().map(|(name, url)| format!("[registries.{name}]\nurl = \"{url}\"\n")).collect();
    std::fs::write(config.join("config.toml"), text).unwrap();
}

/// A registry that is down blocks only what needs it: a name locked to another registry is
/// read from that one alone, `outdated` asks only the registries the lockfile names, and a new
/// name found elsewhere fails naming both facts (it might be in the one that is down too),
/// with `--registry` as the way on.
#[test]
fn an_unreachable_registry_blocks_only_what_needs_it() {
    let env = TestEnv::new();
    env.run(["install", "docs-writer"]).success();
    user_registries(
        &env,
        &[
            ("vpn", format!("sparse+http://127.0.0.1:{}/", closed_port())),
            ("office", format!("http://127.0.0.1:{}/team.git", closed_port())),
        ],
    );
    // Locked to builtin: the others are never asked.
    let converted = env.run(["install", "docs-writer", "--target", "gemini"]).success();
    assert!(!converted.stderr().contains("unreachable"), "{}", converted.stderr());
    let outdated = env.run(["outdated"]).success();
    assert!(!outdated.stderr().contains("unreachable"), "{}", outdated.stderr());
    env.run(["update"]).success();

    // A new name: found in builtin, but the others could have it too.
    env.run(["install", "go-backend-expert"])
        .fails_with("`go-backend-expert` is in registry `builtin`, but registry `office` could not be reached")
        .stderr_contains("registry `vpn` could not be reached")
        .stderr_contains("warning: registry `vpn` unreachable, skipped")
        .stderr_contains("--registry builtin");
    env.run(["install", "go-backend-expert", "--registry", "builtin"]).success();
    // Found nowhere reached: both facts.
    env.run(["install", "no-such-agent"])
        .fails_with("was not found in registry `builtin`, and registry `office` could not be reached");
}

/// A sparse registry that accepts connections and never answers costs a command one timeout,
/// not one per attempt and per file (it was 30 s × 4 attempts before any error).
#[test]
fn a_registry_that_never_answers_costs_one_timeout() {
    let env = TestEnv::new();
    env.set_env("AGENTS_HTTP_TIMEOUT", "3");
    user_registries(&env, &[("hang", format!("sparse+http://127.0.0.1:{}/", silent_server()))]);
    let started = std::time::Instant::now();
    env.run(["install", "no-such-agent"])
        .fails_with("registry `hang` could not be reached")
        .stderr_contains("no answer within 3 s");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(7), "one timeout is 3 s; the command took {took:?}");
}

/// A wait on a sparse registry shows progress on a terminal, naming the URL it waits for; none
/// in a pipe, and none with `-q`.
#[test]
fn a_network_wait_shows_progress_on_a_terminal_only() {
    let env = TestEnv::new();
    env.set_env("AGENTS_HTTP_TIMEOUT", "2");
    let port = silent_server();
    user_registries(&env, &[("hang", format!("sparse+http://127.0.0.1:{port}/"))]);
    let on_terminal = |quiet: &str| {
        let command = format!("'{}' {quiet} install no-such-agent", agents_test_support::bin("agents").display());
        let mut script = std::process::Command::new("script");
        env.isolate(&mut script);
        let output = script.current_dir(&env.project).args(["-qec", &command, "/dev/null"]).output().unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let shown = on_terminal("");
    assert!(shown.contains("Fetching"), "{shown}");
    assert!(shown.contains(&format!("waiting 1 s for http://127.0.0.1:{port}/config.json")), "{shown}");
    let quiet = on_terminal("-q");
    assert!(!quiet.contains("Fetching"), "{quiet}");
    let piped = env.run(["install", "no-such-agent"]).fails_with("could not be reached");
    assert!(!piped.stderr().contains("Fetching"), "{}", piped.stderr());
}

/// Completions offer the project's package names and the registry names, asked of `agents`
/// itself by the script `agents completions bash` prints, run in a real bash.
#[test]
fn completions_offer_installed_packages_and_registries() {
    let env = TestEnv::new();
    env.run(["install", "docs-writer"]).success();
    user_registries(&env, &[("team", format!("http://127.0.0.1:{}/team.git", closed_port()))]);
    let script = env.path("agents.bash");
    std::fs::write(&script, env.run(["completions", "bash"]).success().stdout()).unwrap();
    let bin_dir = agents_test_support::bin("agents").parent().unwrap().to_path_buf();
    let complete = |line: &str| -> Vec<String> {
        // What bash does on TAB: COMP_WORDS and COMP_CWORD for the line, then the function.
        let program = format!(
            "source '{}'; COMP_LINE='{line}'; read -ra COMP_WORDS <<< \"$COMP_LINE\"; \
             [[ \"$COMP_LINE\" == *' ' ]] && COMP_WORDS+=(''); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             COMP_POINT=${{#COMP_LINE}}; _clap_complete_agents agents \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let mut bash = std::process::Command::new("bash");
        env.isolate(&mut bash);
        let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
        let output = bash.current_dir(&env.project).env("PATH", path).args(["-c", &program]).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).lines().map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()).collect()
    };
    // On an empty word clap offers the flags too; the names are the project's only.
    let names: Vec<String> = complete("agents uninstall ").into_iter().filter(|c| !c.starts_with('-')).collect();
    assert_eq!(names, ["docs-writer"]);
    assert_eq!(complete("agents update do"), ["docs-writer"]);
    let install = complete("agents install go");
    assert_eq!(install, ["go-backend-expert"]);
    assert_eq!(complete("agents install x --registry "), ["builtin", "team"]);
}
