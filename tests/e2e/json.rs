//! `--json` is data (issue 25, point 7): every read command's document carries `schema`, typed
//! fields (enums as lowercase strings, versions as semver strings), and exactly the fields
//! docs/json.md lists; the bot script docs/json.md shows updates agents.lock as it says.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use agents_test_support::{DaemonGuard, TestEnv, eventually, repo_root};
use serde_json::Value;

/// Every command docs/json.md documents, as its section heading names it, with the documents it
/// printed in [`scenario`].
type Outputs = BTreeMap<&'static str, Vec<Value>>;

/// A project with a team registry and three packages: `alpha` (with a compatible and an
/// incompatible update), `beta` (up to date) and `gamma` (updated, the new version kept aside
/// beside an edit),
/// installed for OpenCode too; then every `--json` command, the daemon's before it starts and
/// once it has restored a deleted file.
fn scenario(env: &TestEnv) -> Outputs {
    env.registry("team");
    for (name, version) in [("alpha", "1.0.0"), ("beta", "1.0.0"), ("gamma", "1.0.0")] {
        env.publish(name, version);
    }
    env.run(["install", "alpha@^1", "beta", "gamma", "--registry", "team", "--target", "opencode"]).success();
    env.publish("alpha", "1.1.0");
    env.publish("alpha", "2.0.0");
    std::fs::write(env.agents_dir().join("gamma.md"), "my own gamma\n").unwrap();
    env.publish("gamma", "1.0.1");
    env.run(["update", "gamma"]).fails_with("conflict");
    // An MCP server whose command this user has not approved: `list` names it.
    let manifest = std::fs::read_to_string(env.project.join("agents.toml")).unwrap();
    let server = "\n[mcp.servers.probe]\ncommand = \"probe-server\"\n";
    std::fs::write(env.project.join("agents.toml"), format!("{manifest}{server}")).unwrap();

    let mut outputs = Outputs::new();
    let mut record = |heading: &'static str, args: &[&str], code: i32| {
        let run = env.run(args);
        assert_eq!(run.code(), Some(code), "{heading}: {}", run.stderr());
        assert!(run.stdout().starts_with("{\n  \"schema\": 1,\n"), "{heading}: schema comes first:\n{}", run.stdout());
        outputs.entry(heading).or_default().push(run.json());
    };
    record("agents list --json", &["list", "--json"], 0);
    record("agents verify --json", &["verify", "--json"], 1);
    record("agents info NAME --json", &["info", "alpha", "--json"], 0);
    record("agents search --json", &["search", "a", "--json"], 0);
    record("agents outdated --json", &["outdated", "--json"], 0);
    record("agents doctor --json", &["doctor", "--json"], 0);
    record("agents registry list --json", &["registry", "list", "--json"], 0);
    record("agents daemon status --json", &["daemon", "status", "--json"], 1);

    env.run(["daemon", "watch"]).success();
    let daemon = DaemonGuard::start(env);
    let beta = env.agents_dir().join("beta.md");
    let settled = |status: &Value| {
        status["workspaces"].as_array().is_some_and(|w| w.iter().all(|w| w["last_reconcile"].is_i64()))
            && status["registries"].as_array().is_some_and(|r| !r.is_empty())
    };
    assert!(eventually(Duration::from_secs(20), || settled(&daemon.status())), "{}", daemon.status());
    std::fs::remove_file(&beta).unwrap();
    let restored = |status: &Value| status["recent"].as_array().is_some_and(|r| r.iter().any(|a| a["agent"] == "beta"));
    assert!(eventually(Duration::from_secs(10), || restored(&daemon.status())), "{}", daemon.status());
    outputs.entry("agents daemon status --json").or_default().push(daemon.status());
    outputs
}

fn strings<'a>(value: &'a Value, field: &str) -> Vec<&'a str> {
    value.as_array().unwrap().iter().map(|v| v[field].as_str().unwrap_or_else(|| panic!("{field}: {v}"))).collect()
}

fn is_version(value: &Value) -> bool {
    value.as_str().is_some_and(|v| semver::Version::parse(v).is_ok())
}

fn one<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array().unwrap().iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("no {name} in {list}"))
}

#[test]
fn every_json_output_has_a_schema_and_typed_fields() {
    let env = TestEnv::new();
    let outputs = scenario(&env);
    for (heading, documents) in &outputs {
        for document in documents {
            assert_eq!(document["schema"], 1, "{heading}: {document}");
        }
    }

    let list = &outputs["agents list --json"][0]["packages"];
    assert_eq!(strings(list, "name"), ["alpha", "beta", "gamma"], "{list}");
    assert_eq!(strings(list, "kind"), ["agent", "agent", "agent"]);
    assert_eq!(strings(list, "status"), ["ok", "ok", "conflict"]);
    let ids = strings(list, "registry_id");
    assert!(ids.iter().all(|id| *id == ids[0] && *id != "builtin"), "one id, the team registry's: {list}");
    let gamma = one(list, "gamma");
    // The lockfile moved on; the new version waits beside the edited file.
    assert_eq!(gamma["version"], "1.0.1");
    assert_eq!(gamma["conflict"]["version"], "1.0.1", "{gamma}");
    let targets: BTreeSet<&str> = strings(&gamma["files"], "target").into_iter().collect();
    assert_eq!(targets, BTreeSet::from(["claude-code", "opencode"]), "{gamma}");
    assert_eq!(one(list, "alpha")["requirement"], "^1");

    let verify = &outputs["agents verify --json"][0];
    assert_eq!((&verify["ok"], &verify["strict"]), (&Value::Bool(false), &Value::Bool(false)));
    assert_eq!(verify["packages"], *list, "verify and list show packages alike");

    let info = &outputs["agents info NAME --json"][0];
    assert_eq!((&info["name"], &info["kind"], &info["registry"]), (&"alpha".into(), &"agent".into(), &"team".into()));
    assert_eq!(info["installed"], "1.0.0");
    assert_eq!(strings(&info["versions"], "version"), ["2.0.0", "1.1.0", "1.0.0"]);
    assert!(info["versions"].as_array().unwrap().iter().all(|v| v["yanked"] == false && v["signed"] == false));

    // An agent's kind is named, as a skill's is.
    let search = &outputs["agents search --json"][0]["packages"];
    let alpha = one(search, "alpha");
    assert_eq!(
        (&alpha["kind"], &alpha["version"], &alpha["registry"]),
        (&"agent".into(), &"2.0.0".into(), &"team".into())
    );

    // What a bot needs to propose `agents update alpha`, and to leave `alpha@^2` to a person.
    let outdated = &outputs["agents outdated --json"][0]["packages"];
    assert_eq!(strings(outdated, "name"), ["alpha"], "{outdated}");
    let alpha = one(outdated, "alpha");
    for (field, value) in [
        ("kind", "agent"),
        ("registry", "team"),
        ("requirement", "^1"),
        ("current", "1.0.0"),
        ("compatible", "1.1.0"),
        ("latest", "2.0.0"),
    ] {
        assert_eq!(alpha[field], value, "{field}: {alpha}");
    }
    assert_eq!(alpha["registry_id"], one(list, "alpha")["registry_id"]);
    assert_eq!(alpha["yanked"], false);

    let doctor = &outputs["agents doctor --json"][0];
    assert_eq!(doctor["ok"], true, "{doctor}");
    assert!(strings(&doctor["checks"], "name").contains(&"registry `team`"), "{doctor}");

    let registries = &outputs["agents registry list --json"][0]["registries"];
    assert_eq!(strings(registries, "name"), ["team", "builtin"]);
    assert_eq!(strings(registries, "origin"), ["project", "builtin"]);

    let [stopped, running] = outputs["agents daemon status --json"].as_slice() else { panic!("two statuses") };
    assert_eq!((&stopped["running"], &stopped["busy"]), (&Value::Bool(false), &Value::Null), "{stopped}");
    assert_eq!(stopped.as_object().unwrap().len(), 3, "a daemon that is not running has no status: {stopped}");
    assert_eq!(running["running"], true);
    assert!(running["pid"].is_u64() && running["started"].is_i64(), "{running}");
    let restored = running["recent"].as_array().unwrap().iter().find(|a| a["agent"] == "beta").unwrap();
    assert_eq!(restored["action"], "restored", "{restored}");
    assert_eq!(restored["version"], "1.0.0");
    assert_eq!(restored["from"], Value::Null);
    let path = std::path::Path::new(restored["path"].as_str().unwrap());
    assert!(path.is_absolute() && path.ends_with(".claude/agents/beta.md"), "{restored}");

    // Versions are semver strings wherever they appear.
    for version in [&one(list, "alpha")["version"], &alpha["current"], &info["installed"], &restored["version"]] {
        assert!(is_version(version), "{version}");
    }
}

/// The fields of each command's document as docs/json.md lists them: the first column of every
/// table whose header is `| field | type | meaning |`, under a `## \`agents … --json\`` heading.
fn documented() -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(repo_root().join("docs/json.md")).unwrap();
    let mut sections: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut heading: Option<String> = None;
    let mut in_fields = false;
    for line in text.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            heading = title.strip_prefix('`').and_then(|t| t.strip_suffix('`')).map(str::to_owned);
            in_fields = false;
        } else if line.starts_with("| field | type | meaning |") {
            in_fields = heading.is_some();
        } else if !line.starts_with('|') {
            in_fields = false;
        } else if in_fields && let Some(field) = line.strip_prefix("| `") {
            let field = field.split('`').next().unwrap().to_owned();
            sections.entry(heading.clone().unwrap()).or_default().insert(field);
        }
    }
    sections
}

/// Every field path of `value`: `a`, `a.b`, `list[].c` (a list's elements share one path).
fn paths(value: &Value, prefix: &str, into: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                into.insert(path.clone());
                paths(value, &path, into);
            }
        }
        Value::Array(items) => {
            for item in items {
                paths(item, &format!("{prefix}[]"), into);
            }
        }
        _ => {}
    }
}

#[test]
fn docs_json_lists_exactly_the_fields_each_command_prints() {
    let documented = documented();
    let env = TestEnv::new();
    let outputs = scenario(&env);
    let headings: BTreeSet<&str> = outputs.keys().copied().collect();
    assert_eq!(documented.keys().map(String::as_str).collect::<BTreeSet<_>>(), headings);
    let mut problems = Vec::new();
    for (heading, documents) in &outputs {
        let mut printed = BTreeSet::new();
        for document in documents {
            paths(document, "", &mut printed);
        }
        let listed = &documented[*heading];
        for field in printed.difference(listed) {
            problems.push(format!("{heading}: `{field}` is printed but docs/json.md does not list it"));
        }
        for field in listed.difference(&printed) {
            problems.push(format!("{heading}: `{field}` is in docs/json.md but was not printed"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The first `sh` block under "### A script" in docs/json.md.
fn bot_script() -> String {
    let text = std::fs::read_to_string(repo_root().join("docs/json.md")).unwrap();
    let section = text.split("### A script").nth(1).expect("docs/json.md has the script section");
    let block = section.split("```sh\n").nth(1).expect("a sh block");
    block.split("```").next().unwrap().to_owned()
}

#[test]
fn the_documented_bot_script_updates_agents_lock_within_requirements() {
    let env = TestEnv::new();
    env.registry("team");
    env.publish("alpha", "1.0.0");
    env.publish("beta", "1.0.0");
    env.run(["install", "alpha@^1", "beta@^1", "--registry", "team"]).success();
    env.publish("alpha", "1.1.0");
    env.publish("alpha", "2.0.0");
    let script = env.path("agents-bump.sh");
    std::fs::write(&script, bot_script()).unwrap();

    let mut command = std::process::Command::new("sh");
    env.isolate(&mut command);
    let path = std::env::join_paths(
        std::iter::once(agents_test_support::bin_dir())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    command.current_dir(&env.project).env("PATH", path).arg(&script);
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the script failed (it needs jq on PATH):\n{stderr}");
    assert!(stderr.contains("Updated alpha 1.0.0 \u{2192} v1.1.0"), "{stderr}");

    let lockfile = std::fs::read_to_string(env.project.join("agents.lock")).unwrap();
    assert!(lockfile.contains("version = \"1.1.0\"") && !lockfile.contains("2.0.0"), "{lockfile}");
    env.run(["verify"]).success();
    let outdated = env.run(["outdated", "--json"]).success().json();
    let alpha = one(&outdated["packages"], "alpha");
    assert_eq!((&alpha["current"], &alpha["compatible"]), (&"1.1.0".into(), &"1.1.0".into()), "{alpha}");
    assert_eq!(alpha["latest"], "2.0.0", "what needs a person is still reported");
}
