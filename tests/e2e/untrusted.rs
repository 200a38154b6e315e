//! Untrusted input from registries, teammates' commits and collections: it runs no code, reads
//! nothing outside, and hides no text (issue 11, the registry, format and collection side).

use agents_test_support::TestEnv;

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
