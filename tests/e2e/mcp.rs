//! MCP servers declared in agents.toml, written as managed entries into each tool's own
//! configuration file (issue 27, points 3, 4 and 7): the user's entries, key order and comments
//! kept byte for byte; only our entries removed; consent before a stdio command is written.

use agents_test_support::TestEnv;

const SERVERS: &str = r#"targets = ["cursor", "copilot", "opencode", "codex", "gemini"]

[mcp.servers.github]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-github"]
env = { GITHUB_TOKEN = "${GITHUB_TOKEN}" }

[mcp.servers.docs]
url = "https://mcp.example.com/mcp"
headers = { Authorization = "Bearer ${DOCS_TOKEN}" }
"#;

const USER_MCP: &str = "{\n  // my own server\n  \"mcpServers\": {\n    \"mine\": {\n      \"command\": \"my-server\"\n    }\n  },\n  \"zzz\": true\n}\n";

fn read(env: &TestEnv, path: &str) -> String {
    std::fs::read_to_string(env.project.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn manifest(env: &TestEnv, text: &str) {
    std::fs::write(env.project.join("agents.toml"), text).unwrap();
}

#[test]
fn servers_go_into_every_tools_file_with_references_translated() {
    let env = TestEnv::new();
    env.set_env("GITHUB_TOKEN", "ghp_secret_value");
    manifest(&env, SERVERS);
    env.run(["install", "--allow-exec", "github"]).success().stderr_contains("Added");
    let claude: serde_json::Value = serde_json::from_str(&read(&env, ".mcp.json")).unwrap();
    assert_eq!(claude["mcpServers"]["github"]["env"]["GITHUB_TOKEN"], "${GITHUB_TOKEN}");
    assert_eq!(claude["mcpServers"]["docs"]["headers"]["Authorization"], "Bearer ${DOCS_TOKEN}");
    let cursor: serde_json::Value = serde_json::from_str(&read(&env, ".cursor/mcp.json")).unwrap();
    assert_eq!(cursor["mcpServers"]["github"]["env"]["GITHUB_TOKEN"], "${env:GITHUB_TOKEN}");
    let vscode: serde_json::Value = serde_json::from_str(&read(&env, ".vscode/mcp.json")).unwrap();
    assert_eq!(vscode["servers"]["github"]["type"], "stdio");
    let opencode: serde_json::Value = serde_json::from_str(&read(&env, "opencode.json")).unwrap();
    assert_eq!(opencode["mcp"]["github"]["command"][0], "npx");
    assert_eq!(opencode["mcp"]["github"]["environment"]["GITHUB_TOKEN"], "{env:GITHUB_TOKEN}");
    let gemini: serde_json::Value = serde_json::from_str(&read(&env, ".gemini/settings.json")).unwrap();
    assert_eq!(gemini["mcpServers"]["docs"]["httpUrl"], "https://mcp.example.com/mcp");
    let codex: toml::Table = toml::from_str(&read(&env, ".codex/config.toml")).unwrap();
    assert_eq!(codex["mcp_servers"]["github"]["env_vars"][0].as_str(), Some("GITHUB_TOKEN"));
    assert_eq!(codex["mcp_servers"]["docs"]["bearer_token_env_var"].as_str(), Some("DOCS_TOKEN"));
    for file in [
        ".mcp.json",
        ".cursor/mcp.json",
        ".vscode/mcp.json",
        "opencode.json",
        ".gemini/settings.json",
        ".codex/config.toml",
    ] {
        assert!(!read(&env, file).contains("ghp_secret_value"), "{file} holds the secret");
    }
    let lockfile = read(&env, "agents.lock");
    assert!(lockfile.contains("[[config]]\nfile = \".mcp.json\"\nkey = [\"mcpServers\", \"github\"]"), "{lockfile}");

    // Installing again changes no byte and adds no duplicate.
    let before = read(&env, ".mcp.json");
    env.run(["install"]).success();
    env.run(["sync"]).success();
    assert_eq!(read(&env, ".mcp.json"), before);

    // Removing the declarations removes the files we created (and nothing else is left).
    manifest(&env, "targets = [\"cursor\", \"copilot\", \"opencode\", \"codex\", \"gemini\"]\n");
    env.run(["install"]).success().stderr_contains("Removed");
    // The directories created for them go too: the project is as it was.
    for path in [".mcp.json", ".cursor", ".vscode", "opencode.json", ".gemini", ".codex"] {
        assert!(!env.project.join(path).exists(), "{path} is left behind");
    }
}

#[test]
fn dry_run_and_locked_cover_config_entries() {
    let env = TestEnv::new();
    manifest(&env, "targets = [\"cursor\"]\n[mcp.servers.docs]\nurl = \"https://mcp.example.com/mcp\"\n");
    env.run(["install", "--dry-run"]).success().stderr_contains("Would add `mcpServers.docs`");
    assert!(!env.project.join(".mcp.json").exists() && !env.project.join(".cursor").exists());
    env.run(["install", "--locked"]).fails_with("agents.lock");
    assert!(!env.project.join(".mcp.json").exists());
    env.run(["install"]).success();
    env.run(["install", "--locked"]).success();
    manifest(&env, "targets = [\"cursor\"]\n[mcp.servers.docs]\nurl = \"https://mcp.example.com/v2\"\n");
    env.run(["install", "--locked"]).fails_with("agents.lock");
    env.run(["install"]).success().stderr_contains("Updated `mcpServers.docs`");
    assert!(read(&env, ".cursor/mcp.json").contains("/v2"));
}

#[test]
fn the_users_own_entries_and_comments_are_kept_byte_for_byte() {
    let env = TestEnv::new();
    std::fs::write(env.project.join(".mcp.json"), USER_MCP).unwrap();
    std::fs::create_dir_all(env.project.join(".codex")).unwrap();
    let user_codex = "# my codex settings\nmodel = \"o3\"\n\n[mcp_servers.mine]\ncommand = \"my-server\" # keep me\n";
    std::fs::write(env.project.join(".codex/config.toml"), user_codex).unwrap();
    manifest(&env, "targets = [\"codex\"]\n[mcp.servers.docs]\nurl = \"https://mcp.example.com/mcp\"\n");
    env.run(["install"]).success();
    let written = read(&env, ".mcp.json");
    assert!(
        written.starts_with(
            "{\n  // my own server\n  \"mcpServers\": {\n    \"mine\": {\n      \"command\": \"my-server\"\n    },"
        ),
        "{written}"
    );
    assert!(written.contains("\"docs\"") && written.ends_with("  \"zzz\": true\n}\n"), "{written}");
    assert!(read(&env, ".codex/config.toml").starts_with(user_codex), "{}", read(&env, ".codex/config.toml"));

    manifest(&env, "targets = [\"codex\"]\n");
    env.run(["install"]).success();
    assert_eq!(read(&env, ".mcp.json"), USER_MCP);
    assert_eq!(read(&env, ".codex/config.toml"), user_codex);
}

#[test]
fn a_users_entry_of_the_same_name_is_never_overwritten() {
    let env = TestEnv::new();
    std::fs::write(env.project.join(".mcp.json"), USER_MCP).unwrap();
    manifest(&env, "[mcp.servers.mine]\nurl = \"https://mcp.example.com/mcp\"\n");
    env.run(["install"]).fails_with(".mcp.json already has its own `mcpServers.mine`");
    // What a tool cannot express is said, and that tool alone goes without the server.
    manifest(&env, "targets = [\"codex\"]\n[mcp.servers.x]\nurl = \"https://h/${HOST_PATH}\"\n");
    env.run(["install"])
        .success()
        .stderr_contains("MCP server `x` not written for codex: Codex cannot expand `${HOST_PATH}`");
    assert!(!env.project.join(".codex/config.toml").exists());
    assert!(read(&env, ".mcp.json").contains("\"x\""), "{}", read(&env, ".mcp.json"));
    manifest(&env, "");
    env.run(["install"]).success();
    assert_eq!(read(&env, ".mcp.json"), USER_MCP);
    // An identical entry is adopted, and left to the user when the declaration goes.
    manifest(&env, "[mcp.servers.mine]\ncommand = \"my-server\"\n");
    env.run(["install", "--allow-exec", "mine"]).success().stderr_contains("Adopted");
    assert_eq!(read(&env, ".mcp.json"), USER_MCP);
    manifest(&env, "");
    env.run(["install"]).success();
    assert_eq!(read(&env, ".mcp.json"), USER_MCP);
}

#[test]
fn an_unparsable_or_symlinked_config_file_is_left_untouched() {
    let env = TestEnv::new();
    let broken = "{\n  \"mcpServers\": {,\n}\n";
    std::fs::write(env.project.join(".mcp.json"), broken).unwrap();
    manifest(&env, "[mcp.servers.docs]\nurl = \"https://mcp.example.com/mcp\"\n");
    env.run(["install"]).fails_with(".mcp.json does not parse at line 2");
    assert_eq!(read(&env, ".mcp.json"), broken);

    std::fs::remove_file(env.project.join(".mcp.json")).unwrap();
    let outside = env.path("outside.json");
    std::fs::write(&outside, "{}\n").unwrap();
    std::os::unix::fs::symlink(&outside, env.project.join(".mcp.json")).unwrap();
    env.run(["install"]).fails_with("symlink");
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "{}\n");

    // A symlinked directory on the way is refused too.
    std::fs::remove_file(env.project.join(".mcp.json")).unwrap();
    let elsewhere = env.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, env.project.join(".cursor")).unwrap();
    manifest(&env, "targets = [\"cursor\"]\n[mcp.servers.docs]\nurl = \"https://mcp.example.com/mcp\"\n");
    env.run(["install"]).fails_with(".cursor");
    assert!(std::fs::read_dir(&elsewhere).unwrap().next().is_none());
}

#[test]
fn a_stdio_server_waits_for_consent() {
    let env = TestEnv::new();
    manifest(&env, SERVERS);
    // Without a terminal and without --allow-exec, the command is not written; the rest is.
    env.run(["install"]).success().stderr_contains("mcp:github: it is awaiting your approval");
    let claude: serde_json::Value = serde_json::from_str(&read(&env, ".mcp.json")).unwrap();
    assert!(claude["mcpServers"]["github"].is_null() && claude["mcpServers"]["docs"].is_object(), "{claude}");
    let listed = env.run(["list", "--json"]).success().json();
    assert_eq!(listed["awaiting_approval"][0]["subject"], "mcp:github", "{listed}");
    env.run(["list"]).success().stderr_contains("mcp:github awaits your approval");
    env.run(["sync", "--allow-exec", "github"]).success();
    let claude: serde_json::Value = serde_json::from_str(&read(&env, ".mcp.json")).unwrap();
    assert_eq!(claude["mcpServers"]["github"]["command"], "npx");
    // The approval is the user's: in the state directory, never in the project.
    let approvals = std::fs::read_to_string(env.state_dir().join("approvals.json")).unwrap();
    assert!(approvals.contains("mcp:github"), "{approvals}");
    assert!(!TestEnv::files_under(&env.project).iter().any(|f| f.contains("approv")));

    // A changed command (a teammate's pull) is not activated by install or sync: the approved
    // version stays as it was.
    manifest(&env, &SERVERS.replace("@modelcontextprotocol/server-github", "evil-package"));
    env.run(["install"]).success().stderr_contains("what it runs changed");
    env.run(["sync"]).success();
    assert!(!read(&env, ".mcp.json").contains("evil-package"));
    assert!(read(&env, ".mcp.json").contains("@modelcontextprotocol/server-github"));
    env.run(["install", "--allow-exec", "mcp:github"]).success();
    assert!(read(&env, ".mcp.json").contains("evil-package"));
}

/// A teammate's pushed change to a server's command is never activated by the daemon before
/// this user approves it, while the rest of the same change is applied.
#[test]
fn the_daemon_never_activates_a_changed_command() {
    use agents_test_support::{DaemonGuard, eventually};
    let (alice, bob) = (TestEnv::new(), TestEnv::new());
    let (_, origin) = alice.team_project();
    let github = "[mcp.servers.github]\ncommand = \"npx\"\nargs = [\"-y\", \"@modelcontextprotocol/server-github\"]\n";
    let push = |text: &str, message: &str| {
        std::fs::write(alice.project.join("agents.toml"), text).unwrap();
        alice.run(["install", "--allow-exec", "github"]).success();
        alice.git(&alice.project, &["add", "agents.toml", "agents.lock"]);
        alice.git(&alice.project, &["commit", "-q", "-m", message]);
        alice.git(&alice.project, &["push", "-q", "origin", "HEAD:main"]);
    };
    let registries = read(&alice, "agents.toml");
    push(&format!("{registries}\n{github}"), "share the github server");

    bob.clone_project(&origin);
    bob.run(["install", "--allow-exec", "github"]).success();
    assert!(read(&bob, ".mcp.json").contains("server-github"));
    bob.run(["daemon", "watch"]).success();
    let _daemon = DaemonGuard::start(&bob);

    let changed = github.replace("@modelcontextprotocol/server-github", "evil-package");
    push(&format!("{registries}\n{changed}[mcp.servers.docs]\nurl = \"https://mcp.example.com/mcp\"\n"), "change it");
    bob.git(&bob.project, &["pull", "-q", "--ff-only", "origin", "main"]);
    let docs_arrived = || std::fs::read_to_string(bob.project.join(".mcp.json")).is_ok_and(|t| t.contains("\"docs\""));
    assert!(eventually(std::time::Duration::from_secs(20), docs_arrived), "{}", read(&bob, ".mcp.json"));
    let text = read(&bob, ".mcp.json");
    assert!(!text.contains("evil-package") && text.contains("server-github"), "{text}");
    bob.run(["sync"]).success().stderr_contains("mcp:github: what it runs changed, and it is awaiting your approval");
    assert!(!read(&bob, ".mcp.json").contains("evil-package"));
}

/// Codex's own configuration loader (the pinned `@openai/codex`, as `tool_rules.rs` installs it)
/// reads the `.codex/config.toml` we edited: the user's server and ours, each as declared.
/// Skipped with a note without npm or the network.
#[test]
fn codex_s_own_loader_reads_the_edited_config() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("codex-0.171.0");
    let binary = match crate::tool_rules::codex_binary(&dir) {
        Ok(binary) => binary,
        Err(why) => {
            eprintln!("note: skipping Codex's own loader: {why}");
            return;
        }
    };
    let env = TestEnv::new();
    std::fs::create_dir_all(env.project.join(".codex")).unwrap();
    let user = "# mine\nmodel = \"o3\"\n\n[mcp_servers.mine]\ncommand = \"my-server\"\n";
    std::fs::write(env.project.join(".codex/config.toml"), user).unwrap();
    manifest(&env, &format!("targets = [\"codex\"]\n{}", SERVERS.split_once('\n').map_or("", |(_, rest)| rest)));
    env.run(["install", "--allow-exec", "github"]).success();
    let codex_home = env.path("codex-home");
    std::fs::create_dir_all(&codex_home).unwrap();
    std::fs::copy(env.project.join(".codex/config.toml"), codex_home.join("config.toml")).unwrap();
    let output = std::process::Command::new(&binary)
        .args(["mcp", "list", "--json"])
        .current_dir(env.root())
        .env("CODEX_HOME", &codex_home)
        .env("HOME", &env.home)
        .env_remove("OPENAI_API_KEY")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let server = |name: &str| listed.as_array().unwrap().iter().find(|s| s["name"] == name).cloned();
    assert_eq!(server("mine").unwrap()["transport"]["command"], "my-server");
    let github = server("github").unwrap();
    assert_eq!(github["transport"]["env_vars"][0], "GITHUB_TOKEN", "{listed}");
    assert_eq!(server("docs").unwrap()["transport"]["bearer_token_env_var"], "DOCS_TOKEN", "{listed}");
}

/// On a terminal (a real pty, through util-linux's `script`), install shows the exact command
/// lines and asks; `n` leaves the server out, `y` writes it and records the approval.
#[test]
fn a_terminal_is_asked_with_the_exact_command_lines() {
    if std::process::Command::new("script").arg("--version").output().is_err() {
        eprintln!("note: skipping the terminal prompt: util-linux `script` is not installed");
        return;
    }
    let env = TestEnv::new();
    manifest(&env, "[mcp.servers.github]\ncommand = \"npx\"\nargs = [\"-y\", \"it's here\"]\n");
    let on_a_terminal = |answer: &str| {
        let agents = agents_test_support::bin("agents");
        let mut command = std::process::Command::new("script");
        env.isolate(&mut command);
        command.current_dir(&env.project).args([
            "-q",
            "-e",
            "-c",
            &format!("'{}' install", agents.display()),
            "/dev/null",
        ]);
        command.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped());
        let mut child = command.spawn().unwrap();
        use std::io::Write as _;
        child.stdin.take().unwrap().write_all(answer.as_bytes()).unwrap();
        let output = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let shown = on_a_terminal("n\n");
    assert!(shown.contains("npx -y 'it'\\''s here'") && shown.contains("Allow mcp:github? [y/N]"), "{shown}");
    assert!(!env.project.join(".mcp.json").exists());
    let shown = on_a_terminal("y\n");
    assert!(read(&env, ".mcp.json").contains("\"github\""), "{shown}");
    // Approved once: not asked again.
    let shown = on_a_terminal("");
    assert!(!shown.contains("Allow mcp:github"), "{shown}");
}

/// A teammate's manifest is hostile input: a server name or command with control characters,
/// or one too large, is refused naming the entry (shown escaped), and nothing is written.
#[test]
fn a_hostile_server_declaration_is_refused() {
    let env = TestEnv::new();
    for (declaration, expected) in [
        ("[mcp.servers.\"evil\\u001b[2J\"]\ncommand = \"npx\"\n", "`[mcp.servers]` entry `evil\\u{1b}[2J`"),
        ("[mcp.servers.ok]\ncommand = \"npx\\u0007\"\n", "control character"),
        ("[mcp.servers.ok]\ncommand = \"npx\"\nargs = [\"$HOME\"]\n", "`${VAR}` reference"),
        ("[mcp.servers.ok]\nurl = \"file:///etc/passwd\"\n", "http(s) URL"),
    ] {
        manifest(&env, declaration);
        let run = env.run(["install"]).fails_with(expected);
        assert!(!run.stderr().contains('\u{1b}') && !run.stderr().contains('\u{7}'), "{}", run.stderr());
        assert!(!env.project.join(".mcp.json").exists());
    }
    let long = "x".repeat(5000);
    manifest(&env, &format!("[mcp.servers.ok]\ncommand = \"{long}\"\n"));
    env.run(["install"]).fails_with("longer than 4096 bytes");
}

/// OpenCode's own loader (the pinned `opencode debug config`, which prints the configuration it
/// resolved) reads the `opencode.json` agents edited: the user's commented file with its own
/// server, and ours beside it, in OpenCode's shape.
#[test]
fn opencode_s_own_loader_reads_the_edited_config() {
    let Some(binary) = crate::tool_rules::pinned_opencode() else { return };
    let env = TestEnv::new();
    let user =
        "{\n  // mine\n  \"mcp\": {\n    \"mine\": { \"type\": \"local\", \"command\": [\"my-server\"] }\n  }\n}\n";
    std::fs::write(env.project.join("opencode.json"), user).unwrap();
    manifest(&env, &format!("targets = [\"opencode\"]\n{}", SERVERS.split_once('\n').map_or("", |(_, rest)| rest)));
    env.run(["install", "--allow-exec", "github"]).success();
    let home = env.path("opencode-home");
    let output = std::process::Command::new(&binary)
        .args(["debug", "config"])
        .current_dir(&env.project)
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".data"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("XDG_STATE_HOME", home.join(".state"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let config: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(config["mcp"]["mine"]["command"][0], "my-server", "{config}");
    assert_eq!(config["mcp"]["github"]["type"], "local", "{config}");
    assert_eq!(config["mcp"]["github"]["command"][0], "npx", "{config}");
    assert_eq!(config["mcp"]["docs"]["type"], "remote", "{config}");
    assert_eq!(config["mcp"]["docs"]["url"], "https://mcp.example.com/mcp", "{config}");
}

/// Gemini CLI, pinned, installed with npm under the target directory once; the reason when it
/// cannot be had (no npm, no network).
pub(crate) fn gemini_cli() -> Result<std::path::PathBuf, String> {
    const GEMINI_CLI: &str = "@google/gemini-cli@0.61.0";
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("gemini-cli-0.61.0");
    let find = || Some(dir.join("node_modules/.bin/gemini")).filter(|p| p.exists());
    agents_test_support::npm_binary(&dir, GEMINI_CLI, "Gemini CLI", find)
}

/// Runs Gemini CLI with `args` in `project`, with `home` as its home and no API key (it starts
/// no model); what it printed, once it exited 0.
pub(crate) fn run_gemini(
    binary: &std::path::Path,
    project: &std::path::Path,
    home: &std::path::Path,
    args: &[&str],
) -> String {
    let output = std::process::Command::new(binary)
        .args(args)
        .current_dir(project)
        .env("HOME", home)
        .env_remove("GEMINI_API_KEY")
        .env_remove("GEMINI_CLI_HOME")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "gemini {args:?}: {said}");
    said
}

/// Gemini CLI's own loader (the pinned `gemini mcp list`, which lists the servers it read and
/// starts none in a folder it has not been told to trust) reads the `.gemini/settings.json`
/// agents edited: the user's commented file with its own server, and ours beside it.
#[test]
fn gemini_cli_s_own_loader_reads_the_edited_settings() {
    let binary = match gemini_cli() {
        Ok(binary) => binary,
        Err(why) => {
            eprintln!("note: skipping Gemini CLI's own loader: {why}");
            return;
        }
    };
    let env = TestEnv::new();
    std::fs::create_dir_all(env.project.join(".gemini")).unwrap();
    let user = "{\n  // mine\n  \"mcpServers\": {\n    \"mine\": { \"command\": \"my-server\" }\n  }\n}\n";
    std::fs::write(env.project.join(".gemini/settings.json"), user).unwrap();
    manifest(&env, &format!("targets = [\"gemini\"]\n{}", SERVERS.split_once('\n').map_or("", |(_, rest)| rest)));
    env.run(["install", "--allow-exec", "github"]).success();
    let home = env.path("gemini-home");
    std::fs::create_dir_all(&home).unwrap();
    let said = run_gemini(&binary, &env.project, &home, &["mcp", "list"]);
    assert!(said.contains("mine: my-server"), "{said}");
    assert!(said.contains("github: npx -y @modelcontextprotocol/server-github (stdio)"), "{said}");
    assert!(said.contains("docs: https://mcp.example.com/mcp (http)"), "{said}");
}
