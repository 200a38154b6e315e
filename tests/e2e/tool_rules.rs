//! Every converted file of the seed, the corpus and a set of hard cases is checked against the
//! rules each tool's own loader applies, and against what the Claude Code file means.
//!
//! Each rule below is the tool's schema written out, with its source (repository, file, commit;
//! or the documentation page where the tool publishes no source). When a tool changes its loader,
//! the citation says where to look and the rule is updated here and in `docs/targets.md`.
//!
//! Three tools' loaders also run offline from npm packages, so they are run for real on every
//! converted file: Gemini CLI's (`@google/gemini-cli-core`, `parseAgentMarkdown`), OpenCode's
//! (`opencode-ai`, `opencode debug config`, which prints each agent's resolved permissions) and
//! Codex's (`@openai/codex`, `codex debug prompt-input`, whose spawn tool lists the roles loaded). The
//! pinned versions are installed with npm once per target directory; without npm or network
//! those tests are skipped with a note.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use agents_format::{AgentFile, AgentName, COPILOT_MAX_BODY_CHARS, Target};
use agents_test_support::{corpus_files, seed_path, shared_dir};
use serde_yaml::Value;

/// Hard cases written for this test (no corpus text): lenient front matter in the shape of
/// Anthropic's plugin agents, a flow-sequence tool list, edit without write, tools that map to
/// nothing, a restricted `Agent(…)`, MCP tools, no description, an empty prompt.
const CASES: &[(&str, &str)] = &[
    (
        "examples-in-description",
        "---\nname: checker\ndescription: Use this agent after code is written. Examples:\n\n<example>\nContext: the user wrote a function\nuser: \"Check it\"\nassistant: \"I will use the checker agent.\"\n</example>\nmodel: inherit\ncolor: green\ntools: [\"Read\", \"Grep\", \"Glob\"]\n---\nYou check code.\n",
    ),
    ("edit-without-write", "---\nname: editor\ndescription: Edits files\ntools: Read, Edit, Grep\n---\nYou edit.\n"),
    ("write-without-edit", "---\nname: writer\ndescription: Writes files\ntools: Read, Write\n---\nYou write.\n"),
    ("nothing-maps", "---\nname: dispatcher\ndescription: Dispatches\ntools: Task, NotebookEdit\n---\nYou dispatch.\n"),
    (
        "restricted-and-mcp",
        "---\nname: lead\ndescription: Leads\ntools: Agent(reviewer, tester), Bash(git diff:*), mcp__github__get_issue, mcp__db\nmodel: claude-sonnet-4-5\n---\nYou lead.\n",
    ),
    ("no-description", "---\nname: bare\ntools: Read\n---\nYou are bare.\n"),
    ("empty-prompt", "---\nname: empty\ndescription: Has no prompt\n---\n"),
    ("deny-only", "---\nname: careful\ndescription: Careful\ndisallowedTools: Bash, WebFetch\n---\nYou are careful.\n"),
    (
        "deny-from-list",
        "---\nname: reader\ndescription: Reads\ntools: Read, Grep, Bash, Edit\ndisallowedTools: [Bash, Edit]\n---\nYou read.\n",
    ),
    ("dotted-name", "---\nname: dotted.name\ndescription: A dotted name\n---\nPrompt.\n"),
];

fn inputs() -> Vec<(String, Vec<u8>)> {
    let mut inputs: Vec<(String, Vec<u8>)> =
        CASES.iter().map(|(label, text)| ((*label).to_owned(), text.as_bytes().to_vec())).collect();
    if shared_dir().join("corpus").is_dir() {
        let mut files: Vec<PathBuf> = corpus_files();
        files.push(seed_path());
        for path in files {
            inputs.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    } else {
        eprintln!("note: {} is absent: checking the built-in cases only", shared_dir().join("corpus").display());
    }
    inputs
}

#[test]
fn every_converted_file_loads_in_its_tool_and_means_what_the_claude_file_means() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for (label, bytes) in inputs() {
        let file = AgentFile::parse(&bytes).unwrap_or_else(|e| panic!("{label}: {e}"));
        let claude = Claude::of(&file, &bytes);
        for target in Target::ALL {
            let converted = target.convert(&file, &bytes);
            let result = match target {
                Target::ClaudeCode => Ok(()),
                Target::OpenCode => opencode(&converted.bytes, &claude),
                Target::Copilot => copilot(&converted.bytes, &claude, &converted.unmapped),
                Target::Cursor => cursor(&converted.bytes, &claude),
                Target::Gemini => gemini(&converted.bytes, &claude),
                Target::Codex => codex(&converted.bytes, &claude, &converted.unmapped),
            };
            checked += 1;
            if let Err(why) = result {
                failures.push(format!("{label} → {target}: {why}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} conversions break a tool's rules:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// What the Claude Code file means, as the rules below compare it.
struct Claude {
    name: String,
    /// `None`: every tool (the `tools` key is absent).
    tools: Option<Vec<String>>,
    /// `disallowedTools`, taken away from `tools` (or from every tool).
    denied: Vec<String>,
    body: String,
}

impl Claude {
    fn of(file: &AgentFile, bytes: &[u8]) -> Claude {
        Claude {
            name: file.name.to_string(),
            tools: file.tools.clone(),
            denied: file.disallowed_tools.clone().unwrap_or_default(),
            body: String::from_utf8_lossy(&bytes[file.body_offset..]).into_owned(),
        }
    }

    fn base_tools(&self) -> Option<BTreeSet<String>> {
        self.tools.as_ref().map(|tools| {
            tools.iter().map(|t| t.split_once('(').map_or(t.as_str(), |(base, _)| base).trim().to_owned()).collect()
        })
    }

    fn allows(&self, tools: &[&str]) -> bool {
        let base = self.base_tools();
        tools.iter().any(|t| base.as_ref().is_none_or(|b| b.contains(*t)) && !self.denied.iter().any(|d| d == t))
    }

    /// Whether the agent may use less than every tool.
    fn restricted(&self) -> bool {
        self.tools.is_some() || !self.denied.is_empty()
    }

    fn read_only(&self) -> bool {
        !self.allows(&["Write", "Edit", "MultiEdit", "Bash", "NotebookEdit"])
    }
}

/// Splits `---\n<yaml>\n---\n<body>` as the tools' front-matter regexes do, and parses the YAML
/// strictly (the tools use js-yaml / gray-matter, which refuse what serde_yaml refuses here).
fn front_matter(bytes: &[u8]) -> Result<(serde_yaml::Mapping, String), String> {
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    let rest = text.strip_prefix("---\n").ok_or("no opening `---` line")?;
    let end = rest.find("\n---\n").ok_or("no closing `---` line")?;
    let yaml: Value = serde_yaml::from_str(&rest[..end]).map_err(|e| format!("front matter is not YAML: {e}"))?;
    match yaml {
        Value::Mapping(mapping) => Ok((mapping, rest[end + "\n---\n".len()..].to_owned())),
        other => Err(format!("front matter is not a mapping: {other:?}")),
    }
}

fn string<'a>(map: &'a serde_yaml::Mapping, key: &str) -> Result<Option<&'a str>, String> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!("`{key}` is not a string: {other:?}")),
    }
}

fn keys(map: &serde_yaml::Mapping) -> Vec<String> {
    map.keys().filter_map(|k| k.as_str().map(str::to_owned)).collect()
}

/// OpenCode: anomalyco/opencode `packages/opencode/src/config/agent.ts`, commit
/// 4602084a57bf890431c6bca4668468f90fa54509 (`AgentSchema`, `normalize`, `load`).
fn opencode(bytes: &[u8], claude: &Claude) -> Result<(), String> {
    let (map, body) = front_matter(bytes)?;
    if body != claude.body {
        return Err("the body changed".into());
    }
    string(&map, "description")?;
    if let Some(model) = string(&map, "model")? {
        // `ConfigModelID`: provider/model.
        if !model.contains('/') {
            return Err(format!("model `{model}` is not provider/model"));
        }
    }
    if let Some(mode) = string(&map, "mode")?
        && !["subagent", "primary", "all"].contains(&mode)
    {
        return Err(format!("mode `{mode}`"));
    }
    if let Some(color) = string(&map, "color")? {
        let hex = color.len() == 7 && color.starts_with('#') && color[1..].chars().all(|c| c.is_ascii_hexdigit());
        let theme = ["primary", "secondary", "accent", "success", "warning", "error", "info"].contains(&color);
        if !hex && !theme {
            return Err(format!("color `{color}`"));
        }
    }
    // `tools`: Record<string, boolean>, folded by `normalize` into permissions: write, edit
    // and patch all set `permission.edit`, in key order, the last one winning.
    let mut permission: Vec<(String, bool)> = Vec::new();
    match map.get("tools") {
        None => {
            if claude.restricted() {
                return Err("the Claude tool list was dropped".into());
            }
            return Ok(());
        }
        Some(Value::Mapping(tools)) => {
            for (tool, enabled) in tools {
                let (Some(tool), Some(enabled)) = (tool.as_str(), enabled.as_bool()) else {
                    return Err(format!("tools entry {tool:?}: {enabled:?} is not string: boolean"));
                };
                let key = if ["write", "edit", "patch"].contains(&tool) { "edit" } else { tool };
                permission.retain(|(k, _)| k != key);
                permission.push((key.to_owned(), enabled));
            }
        }
        Some(other) => return Err(format!("tools is not a map: {other:?}")),
    }
    // A tool the map does not mention keeps OpenCode's default: allowed.
    let allowed = |key: &str| permission.iter().find(|(k, _)| k == key).is_none_or(|(_, on)| *on);
    for (key, claude_tools) in [
        ("edit", &["Write", "Edit", "MultiEdit"][..]),
        ("read", &["Read"]),
        ("bash", &["Bash"]),
        ("grep", &["Grep"]),
        ("task", &["Task", "Agent"]),
    ] {
        if allowed(key) != claude.allows(claude_tools) {
            return Err(format!("permission `{key}` is {} but Claude's tools say otherwise", allowed(key)));
        }
    }
    Ok(())
}

/// Gemini CLI: google-gemini/gemini-cli `packages/core/src/agents/agentLoader.ts`, commit
/// 5411f113cafae26161b4969b0237b8e1e024e2c2 (`localAgentSchema`, strict; `nameSchema`;
/// `FRONTMATTER_REGEX` from `skills/skillLoader.ts`), tool names from
/// `packages/core/src/tools/tool-names.ts` (`ALL_BUILTIN_TOOL_NAMES`, `isValidToolName`).
fn gemini(bytes: &[u8], claude: &Claude) -> Result<(), String> {
    const LOCAL_KEYS: [&str; 10] = [
        "kind",
        "name",
        "description",
        "display_name",
        "tools",
        "mcp_servers",
        "model",
        "temperature",
        "max_turns",
        "timeout_mins",
    ];
    const TOOLS: [&str; 27] = [
        "glob",
        "write_todos",
        "write_file",
        "google_web_search",
        "web_fetch",
        "replace",
        "run_shell_command",
        "grep_search",
        "read_many_files",
        "read_file",
        "list_directory",
        "activate_skill",
        "ask_user",
        "tracker_create_task",
        "tracker_update_task",
        "tracker_get_task",
        "tracker_list_tasks",
        "tracker_add_dependency",
        "tracker_visualize",
        "get_internal_docs",
        "enter_plan_mode",
        "exit_plan_mode",
        "update_topic",
        "complete_task",
        "invoke_agent",
        "read_mcp_resource",
        "list_mcp_resources",
    ];
    let (map, body) = front_matter(bytes)?;
    if body != claude.body {
        return Err("the body changed".into());
    }
    for key in keys(&map) {
        if !LOCAL_KEYS.contains(&key.as_str()) {
            return Err(format!("unknown key `{key}` (the schema is strict)"));
        }
    }
    let name = string(&map, "name")?.ok_or("no name")?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_') {
        return Err(format!("name `{name}` is not a valid slug"));
    }
    match string(&map, "description")? {
        Some(d) if !d.is_empty() => {}
        _ => return Err("description missing or empty (z.string().min(1))".into()),
    }
    match (map.get("tools"), claude.restricted().then_some(())) {
        (None, None) => {}
        (None, Some(_)) => return Err("the Claude tool list was dropped (Gemini would allow every tool)".into()),
        (Some(_), None) => return Err("a tool list where Claude allows every tool".into()),
        (Some(Value::Sequence(items)), Some(_)) => {
            for item in items {
                let tool = item.as_str().ok_or_else(|| format!("tool {item:?} is not a string"))?;
                if !TOOLS.contains(&tool) {
                    return Err(format!("invalid tool name `{tool}`"));
                }
            }
            let has = |t: &str| items.iter().any(|i| i.as_str() == Some(t));
            if has("write_file") != claude.allows(&["Write"]) || has("read_file") != claude.allows(&["Read"]) {
                return Err("read/write tools differ from the Claude file".into());
            }
        }
        (Some(other), _) => return Err(format!("tools is not a list: {other:?}")),
    }
    Ok(())
}

/// GitHub Copilot: "Custom agents configuration", https://docs.github.com/en/copilot/reference/custom-agents-configuration
/// (github/docs `content/copilot/reference/custom-agents-configuration.md`; no loader source is
/// published): `description` required, `name` optional string, `tools` a list or a comma
/// string (unset: every tool; `[]`: none), tool aliases, MCP tools as `server/tool`, and a
/// prompt of at most 30,000 characters.
fn copilot(bytes: &[u8], claude: &Claude, unmapped: &[String]) -> Result<(), String> {
    const ALIASES: [&str; 7] = ["execute", "read", "edit", "search", "agent", "web", "todo"];
    let (map, body) = front_matter(bytes)?;
    if body != claude.body {
        return Err("the body changed".into());
    }
    string(&map, "name")?;
    match string(&map, "description")? {
        Some(d) if !d.trim().is_empty() => {}
        _ => return Err("description is required".into()),
    }
    match (map.get("tools"), claude.restricted().then_some(())) {
        (None, None) => {}
        (None, Some(_)) => return Err("the Claude tool list was dropped (Copilot would allow every tool)".into()),
        (Some(_), None) => return Err("a tool list where Claude allows every tool".into()),
        (Some(Value::Sequence(items)), Some(_)) => {
            for item in items {
                let tool = item.as_str().ok_or_else(|| format!("tool {item:?} is not a string"))?;
                if !ALIASES.contains(&tool) && !tool.contains('/') {
                    return Err(format!("unknown tool alias `{tool}`"));
                }
            }
            let has = |t: &str| items.iter().any(|i| i.as_str() == Some(t));
            if has("edit") != claude.allows(&["Write", "Edit", "MultiEdit", "NotebookEdit"])
                || has("read") != claude.allows(&["Read", "NotebookRead"])
                || has("execute") != claude.allows(&["Bash"])
            {
                return Err("read/edit/execute differ from the Claude file".into());
            }
        }
        (Some(other), _) => return Err(format!("tools is not a list: {other:?}")),
    }
    if body.chars().count() > COPILOT_MAX_BODY_CHARS && !unmapped.iter().any(|u| u.starts_with("prompt of")) {
        return Err("a prompt over 30,000 characters passed without a note".into());
    }
    Ok(())
}

/// Cursor: no primary source was found (see `docs/targets.md`, **UNCONFIRMED**); the fields
/// secondary sources agree on: `name`, `description`, `model`, `readonly`.
fn cursor(bytes: &[u8], claude: &Claude) -> Result<(), String> {
    let (map, body) = front_matter(bytes)?;
    if body != claude.body {
        return Err("the body changed".into());
    }
    string(&map, "name")?.ok_or("no name")?;
    string(&map, "description")?.ok_or("no description")?;
    let readonly = map.get("readonly").and_then(Value::as_bool).unwrap_or(false);
    if readonly != (claude.restricted() && claude.read_only()) {
        return Err(format!("readonly is {readonly} for a file whose tools say otherwise"));
    }
    Ok(())
}

/// Codex: openai/codex `codex-rs/core/src/config/agent_roles.rs`, commit
/// 13730471d804ca158c0f987f8b3307a26d22572b (`RawAgentRoleFileToml` with
/// `deny_unknown_fields` over `name`, `description`, `nickname_candidates` and the flattened
/// `ConfigToml`; `normalize_agent_role_description` refuses a blank description;
/// `validate_required_agent_role_file_developer_instructions` a missing or blank prompt).
fn codex(bytes: &[u8], claude: &Claude, unmapped: &[String]) -> Result<(), String> {
    // The keys we write, all of them `RawAgentRoleFileToml` or `ConfigToml` fields.
    const KEYS: [&str; 4] = ["name", "description", "sandbox_mode", "developer_instructions"];
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    let table: toml::Table = toml::from_str(text).map_err(|e| format!("not TOML: {e}"))?;
    for key in table.keys() {
        if !KEYS.contains(&key.as_str()) {
            return Err(format!("unknown key `{key}`"));
        }
    }
    let name = table.get("name").and_then(toml::Value::as_str).ok_or("no name")?;
    if name.trim().is_empty() || name != claude.name {
        return Err(format!("name `{name}`"));
    }
    match table.get("description").and_then(toml::Value::as_str) {
        Some(d) if !d.trim().is_empty() => {}
        _ => return Err("description missing or blank".into()),
    }
    let instructions =
        table.get("developer_instructions").and_then(toml::Value::as_str).ok_or("no developer_instructions")?;
    if instructions.trim().is_empty() && !unmapped.iter().any(|u| u.starts_with("empty prompt")) {
        return Err("blank developer_instructions without a note".into());
    }
    if instructions.trim() != claude.body.trim() {
        return Err("developer_instructions differ from the prompt".into());
    }
    match table.get("sandbox_mode").map(|v| v.as_str()) {
        None => {
            if claude.restricted() && claude.read_only() {
                return Err("a read-only agent without sandbox_mode = \"read-only\"".into());
            }
        }
        Some(Some("read-only")) => {
            if !claude.read_only() {
                return Err("sandbox_mode read-only for an agent that writes".into());
            }
        }
        Some(other) => return Err(format!("sandbox_mode {other:?}")),
    }
    Ok(())
}

/// The Gemini CLI loader run for real: the version pinned here, installed under the target dir.
const GEMINI_CLI_CORE: &str = "@google/gemini-cli-core@0.61.0";

/// Installs [`GEMINI_CLI_CORE`] into `dir` unless it is there; `None` (with the reason) when it
/// cannot be had on this machine.
fn gemini_loader(dir: &Path) -> Result<(), String> {
    if dir.join("node_modules/@google/gemini-cli-core/package.json").is_file() {
        return Ok(());
    }
    for tool in ["node", "npm"] {
        if Command::new(tool).arg("--version").output().is_err() {
            return Err(format!("`{tool}` is not installed"));
        }
    }
    std::fs::create_dir_all(dir).unwrap();
    let output = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--ignore-scripts", "--omit=optional", "--prefix"])
        .arg(dir)
        .arg(GEMINI_CLI_CORE)
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!("npm install {GEMINI_CLI_CORE} failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    Ok(())
}

#[test]
fn gemini_cli_s_own_loader_accepts_every_converted_file() {
    let loader = Path::new(env!("CARGO_TARGET_TMPDIR")).join("gemini-cli-core-0.61.0");
    if let Err(why) = gemini_loader(&loader) {
        eprintln!("note: skipping Gemini CLI's own loader: {why}");
        return;
    }
    let files = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (index, (label, bytes)) in inputs().into_iter().enumerate() {
        let file = AgentFile::parse(&bytes).unwrap();
        let converted = Target::Gemini.convert(&file, &bytes);
        let path = files.path().join(format!("{index}.md"));
        std::fs::write(&path, &converted.bytes).unwrap();
        paths.push((path, label));
    }
    let script = loader.join("check.mjs");
    std::fs::write(
        &script,
        "import { parseAgentMarkdown } from '@google/gemini-cli-core';\n\
         for (const file of process.argv.slice(2)) {\n\
           try { await parseAgentMarkdown(file); } catch (e) { console.log(file + '\\t' + e.message.split('\\n').join(' ')); }\n\
         }\n",
    )
    .unwrap();
    let output = Command::new("node").arg(&script).args(paths.iter().map(|(p, _)| p)).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let refused: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let (path, why) = line.split_once('\t').unwrap_or((line, ""));
            let label = paths.iter().find(|(p, _)| p.to_str() == Some(path)).map_or(path, |(_, l)| l.as_str());
            format!("{label}: {why}")
        })
        .collect();
    assert!(refused.is_empty(), "Gemini CLI refuses {} converted file(s):\n{}", refused.len(), refused.join("\n"));
}

/// OpenCode's own loader: the version pinned here, installed under the target dir.
const OPENCODE: &str = "opencode-ai@1.18.33";

/// The OpenCode binary for this platform, installed if need be; the reason when it cannot be had.
/// The pinned OpenCode binary under cargo's test temp directory, installed on first use; `None`
/// (with a printed note) when it cannot be installed, e.g. offline: the test then skips.
pub(crate) fn pinned_opencode() -> Option<PathBuf> {
    match opencode_binary(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("opencode-1.18.33")) {
        Ok(binary) => Some(binary),
        Err(why) => {
            eprintln!("note: skipping OpenCode's own loader: {why}");
            None
        }
    }
}

fn opencode_binary(dir: &Path) -> Result<PathBuf, String> {
    let find = || {
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir.join("node_modules"))
            .ok()?
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("opencode-") && e.file_name() != "opencode-ai")
            .map(|e| e.path().join("bin/opencode"))
            .filter(|p| p.is_file())
            .collect();
        // The baseline build is for CPUs without AVX2: the other one first.
        found.sort_by_key(|p| p.to_string_lossy().contains("baseline"));
        found.into_iter().next()
    };
    agents_test_support::npm_binary(dir, OPENCODE, "OpenCode", find)
}

#[test]
fn opencode_s_own_loader_loads_every_converted_file_with_the_claude_permissions() {
    let Some(binary) = pinned_opencode() else { return };
    let temp = tempfile::tempdir().unwrap();
    let project = temp.path().join("project");
    let agents = project.join(".opencode/agent");
    std::fs::create_dir_all(&agents).unwrap();
    std::fs::create_dir_all(project.join(".git")).unwrap();
    let mut expected = Vec::new();
    for (index, (label, bytes)) in inputs().into_iter().enumerate() {
        let file = AgentFile::parse(&bytes).unwrap();
        std::fs::write(agents.join(format!("a{index:03}.md")), Target::OpenCode.convert(&file, &bytes).bytes).unwrap();
        expected.push((format!("a{index:03}"), label, Claude::of(&file, &bytes)));
    }
    let config = opencode_config(&binary, temp.path(), &project);
    let mut failures = Vec::new();
    for (name, label, claude) in &expected {
        let agent = &config["agent"][name];
        if agent.is_null() {
            failures.push(format!("{label}: not loaded"));
            continue;
        }
        for (permission, tools) in [
            ("edit", &["Write", "Edit", "MultiEdit"][..]),
            ("bash", &["Bash"]),
            ("read", &["Read"]),
            ("task", &["Task", "Agent"]),
        ] {
            // What OpenCode resolved; a permission it was not told about stays allowed.
            let resolved = agent["permission"][permission].as_str().unwrap_or("allow");
            let wanted = if claude.allows(tools) { "allow" } else { "deny" };
            if resolved != wanted {
                failures
                    .push(format!("{label}: OpenCode resolves `{permission}` to {resolved}, Claude means {wanted}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Codex's own loader: the version pinned here, installed under the target dir.
const CODEX: &str = "@openai/codex@0.171.0";

/// The Codex binary for this platform, installed if need be; the reason when it cannot be had.
pub(crate) fn codex_binary(dir: &Path) -> Result<PathBuf, String> {
    let find = || -> Option<PathBuf> {
        for package in std::fs::read_dir(dir.join("node_modules/@openai")).ok()?.flatten() {
            for triple in std::fs::read_dir(package.path().join("vendor")).into_iter().flatten().flatten() {
                let binary = triple.path().join("bin/codex");
                if binary.is_file() {
                    return Some(binary);
                }
            }
        }
        None
    };
    agents_test_support::npm_binary(dir, CODEX, "Codex", find)
}

/// Every string in a JSON value.
fn strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

#[test]
fn codex_s_own_loader_loads_every_converted_role() {
    let binary = match codex_binary(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("codex-0.171.0")) {
        Ok(binary) => binary,
        Err(why) => {
            eprintln!("note: skipping Codex's own loader: {why}");
            return;
        }
    };
    let temp = tempfile::tempdir().unwrap();
    let codex_home = temp.path().join("codex-home");
    std::fs::create_dir_all(codex_home.join("agents")).unwrap();
    let project = temp.path().join("project");
    std::fs::create_dir_all(project.join(".git")).unwrap();
    let mut expected = Vec::new();
    for (index, (label, bytes)) in inputs().into_iter().enumerate() {
        let file = AgentFile::parse(&bytes).unwrap();
        let converted = Target::Codex.convert(&file, &bytes);
        // An empty prompt is named as a loss: Codex refuses such a role, as it should.
        if converted.unmapped.iter().any(|u| u.starts_with("empty prompt")) {
            continue;
        }
        std::fs::write(codex_home.join(format!("agents/a{index:03}.toml")), &converted.bytes).unwrap();
        expected.push((label, file.name.to_string()));
    }
    let printed = temp.path().join("prompt.json");
    let output = Command::new(&binary)
        .args(["debug", "prompt-input", "hello"])
        .current_dir(&project)
        .stdout(std::fs::File::create(&printed).unwrap())
        .env("CODEX_HOME", &codex_home)
        .env("HOME", temp.path().join("home"))
        .env_remove("OPENAI_API_KEY")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let prompt: serde_json::Value = serde_json::from_slice(&std::fs::read(&printed).unwrap()).unwrap();
    let mut texts = Vec::new();
    strings(&prompt, &mut texts);
    let roles = texts.iter().find(|t| t.contains("Available roles:")).expect("Codex lists the roles it loaded");
    let missing: Vec<String> = expected
        .iter()
        .filter(|(_, name)| !roles.contains(&format!("\n{name}: {{\n")))
        .map(|(label, name)| format!("{label}: role `{name}` not loaded"))
        .collect();
    assert!(missing.is_empty(), "{}\n--- roles:\n{roles}", missing.join("\n"));
}

// ---- Slash commands -------------------------------------------------------------------------
//
// Each command conversion is checked against the tool's own loader rules, as for agents:
// OpenCode's `ConfigCommand.Info` (anomalyco/opencode `packages/opencode/src/config/command.ts`,
// commit 01b622ed: `template` string, optional `description`, `agent`, `model` provider/model,
// `subtask` boolean; unknown keys dropped) and its command runner (`session/prompt.ts`, commit
// 00078e84: `$N` counted from 1, `` !`cmd` `` run unasked); Gemini CLI's `TomlCommandDefSchema`
// (google-gemini/gemini-cli `packages/cli/src/services/FileCommandLoader.ts`, commit 010895b4:
// `prompt` or `run`, optional `description`); Copilot's prompt-file fields (microsoft/vscode-docs
// `docs/agent-customization/prompt-files.md`, commit be85c191: `description`, `name`,
// `argument-hint`, `agent`, `model`, `tools`); Cursor's plain Markdown. OpenCode's is also run
// for real on every converted command. And each means no more than the Claude file: a command
// that denies tools gets no file where the tool cannot deny them, and OpenCode runs only the
// shell lines the Claude file's `allowed-tools` lets run unasked.

/// Commands written for this test (no corpus text), in the shapes real command files take.
const COMMANDS: &[(&str, &str)] = &[
    (
        "commit",
        "---\ndescription: Write a commit message for the staged changes\nallowed-tools: Bash(git diff --cached:*), Bash(git log:*)\nargument-hint: [scope]\n---\nStaged changes:\n!`git diff --cached`\nRecent history:\n!`git log --oneline -5`\n\nWrite a conventional commit message for the $0 scope.\n",
    ),
    (
        "fix-issue",
        "---\ndescription: Fix a GitHub issue\nargument-hint: \"[issue-number]\"\nallowed-tools: Bash(gh issue view:*), Read, Edit, Bash(cargo test:*)\nmodel: claude-sonnet-4-5\n---\nRead issue $ARGUMENTS, fix it, and run `cargo test`.\n!`gh issue view $0 --json title,body`\n",
    ),
    ("explain", "Explain @src/main.rs to a new contributor, then list three places to start reading.\n"),
    (
        "plan",
        "---\ndescription: Plan a change without touching files\ndisallowed-tools: Write, Edit, MultiEdit, NotebookEdit, Bash\n---\nMake a step-by-step plan for: $ARGUMENTS\n",
    ),
    (
        "release-notes",
        "---\ndescription: \"Draft release notes: from tags\"\nmodel: haiku\ndisable-model-invocation: true\n---\nDraft notes for the changes between $ARGUMENTS[0] and $ARGUMENTS[1].\n!`git tag --sort=-creatordate`\n",
    ),
    (
        "lenient",
        "---\ndescription: Review a pull request: carefully\nallowed-tools: [\"Read\", \"Grep\", \"Bash(gh pr diff:*)\"]\n---\n---\nA body that starts with a rule.\n!`gh pr diff $0`\nPrices like $5 or $9x.\n",
    ),
    ("empty", "---\ndescription: Nothing to say\n---\n"),
    ("no-front-matter", "Summarise the open TODOs in this repository.\n"),
];

/// The commands to check: [`COMMANDS`], and every corpus file and the seed read as a command
/// (named after its file), for the lenient front matter real files have.
fn command_inputs() -> Vec<(String, AgentName, Vec<u8>)> {
    let mut inputs: Vec<(String, AgentName, Vec<u8>)> = COMMANDS
        .iter()
        .map(|(name, text)| ((*name).to_owned(), AgentName::new(name).unwrap(), text.as_bytes().to_vec()))
        .collect();
    if shared_dir().join("corpus").is_dir() {
        let mut files: Vec<PathBuf> = corpus_files();
        files.push(seed_path());
        for path in files {
            let Some(name) = path.file_stem().and_then(|s| s.to_str()).and_then(|s| AgentName::new(s).ok()) else {
                continue;
            };
            inputs.push((path.display().to_string(), name, std::fs::read(&path).unwrap()));
        }
    } else {
        eprintln!("note: {} is absent: checking the built-in commands only", shared_dir().join("corpus").display());
    }
    inputs
}

/// What the Claude Code command means, as the rules below compare it.
struct ClaudeCommand {
    description: Option<String>,
    /// `allowed-tools` entries naming Bash (what may run unasked).
    bash: Vec<String>,
    /// Whether it denies any tool.
    denies: bool,
    /// The shell lines of its body.
    shell: Vec<String>,
    body: String,
}

impl ClaudeCommand {
    fn of(name: &AgentName, bytes: &[u8]) -> ClaudeCommand {
        let command = agents_format::parse_command(name, bytes).unwrap();
        let text = std::str::from_utf8(bytes).unwrap();
        let front: serde_yaml::Mapping = if command.body_offset > 0 {
            let yaml = text[4..command.body_offset].trim_end_matches("---\n");
            serde_yaml::from_str(yaml).unwrap_or_else(|_| {
                // Claude Code's own fallback: each plain `key: value` value quoted.
                let quoted: Vec<String> = yaml
                    .lines()
                    .map(|line| match line.split_once(": ") {
                        Some((key, value))
                            if !line.starts_with([' ', '\t'])
                                && !value.starts_with(['"', '\'', '[', '{'])
                                && !value.trim().is_empty() =>
                        {
                            format!("{key}: {}", serde_json::to_string(value.trim()).unwrap())
                        }
                        _ => line.to_owned(),
                    })
                    .collect();
                serde_yaml::from_str(&quoted.join("\n")).unwrap_or_default()
            })
        } else {
            serde_yaml::Mapping::new()
        };
        let allowed = match front.get("allowed-tools") {
            Some(Value::Sequence(items)) => items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect(),
            Some(Value::String(text)) => vec![text.clone()],
            _ => Vec::new(),
        };
        let body = text[command.body_offset..].to_owned();
        ClaudeCommand {
            description: command.description,
            bash: allowed.iter().filter(|t| t.contains("Bash")).cloned().collect(),
            denies: front.contains_key("disallowed-tools") || front.contains_key("disallowedTools"),
            shell: shell_lines(&body),
            body,
        }
    }
}

/// The commands OpenCode would run from a template (its `` /!`([^`]+)`/g ``).
fn shell_lines(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("!`") {
        let after = &rest[at + 2..];
        match after.find('`') {
            Some(end) if end > 0 => {
                found.push(after[..end].to_owned());
                rest = &after[end + 1..];
            }
            Some(_) => rest = &after[1..],
            None => break,
        }
    }
    found
}

fn opencode_command(bytes: &[u8], claude: &ClaudeCommand) -> Result<(), String> {
    // An empty block (`---` twice) keeps a body that starts with `---` from being read as one.
    let (front, body) = match bytes.strip_prefix(b"---\n---\n") {
        Some(body) => (serde_yaml::Mapping::new(), String::from_utf8_lossy(body).into_owned()),
        None => front_matter(bytes)?,
    };
    for key in keys(&front) {
        if !["description", "agent", "model", "subtask"].contains(&key.as_str()) {
            return Err(format!("key `{key}` is not in ConfigCommand.Info"));
        }
    }
    if string(&front, "description")? != claude.description.as_deref() {
        return Err("description changed".to_owned());
    }
    if claude.description.as_deref().is_some_and(|d| d.contains("\nallowed-tools:")) {
        return Err("a command field was read as part of the description".to_owned());
    }
    if let Some(model) = string(&front, "model")?
        && !model.contains('/')
    {
        return Err(format!("model `{model}` is not provider/model"));
    }
    // OpenCode runs these unasked: each must be one the Claude file runs, and only with a Bash grant.
    for line in shell_lines(&body) {
        if !claude.shell.iter().any(|c| line.replace("$1", "$0") == *c || line == *c) {
            return Err(format!("shell line `{line}` is not the Claude file's"));
        }
        if claude.bash.is_empty() {
            return Err(format!("shell line `{line}` runs though allowed-tools grants no Bash"));
        }
    }
    Ok(())
}

fn copilot_command(bytes: &[u8], claude: &ClaudeCommand) -> Result<(), String> {
    if claude.description.is_none() && !String::from_utf8_lossy(bytes).starts_with("---\n") {
        return (bytes == claude.body.as_bytes()).then_some(()).ok_or_else(|| "body changed".to_owned());
    }
    let (front, body) = front_matter(bytes)?;
    for key in keys(&front) {
        if !["description", "name", "argument-hint", "agent", "model", "tools"].contains(&key.as_str()) {
            return Err(format!("key `{key}` is not a prompt-file field"));
        }
    }
    if body != claude.body {
        return Err("body changed".to_owned());
    }
    match (claude.denies, front.get("tools")) {
        (true, Some(Value::Sequence(tools))) if !tools.is_empty() => Ok(()),
        (true, _) => Err("denies tools but has no tool list".to_owned()),
        (false, None) => Ok(()),
        (false, Some(_)) => Err("a tool list from a grant limits the prompt".to_owned()),
    }
}

fn gemini_command(bytes: &[u8], claude: &ClaudeCommand) -> Result<(), String> {
    let table: toml::Table =
        toml::from_str(std::str::from_utf8(bytes).map_err(|e| e.to_string())?).map_err(|e| format!("not TOML: {e}"))?;
    for key in table.keys() {
        if !["prompt", "description", "run"].contains(&key.as_str()) {
            return Err(format!("key `{key}` is not in TomlCommandDefSchema"));
        }
    }
    let prompt = table.get("prompt").and_then(|p| p.as_str()).ok_or("no prompt string")?;
    if prompt.contains("!{") != claude.body.contains("!{") {
        return Err("a shell injection appeared".to_owned());
    }
    if table.get("description").and_then(|d| d.as_str()) != claude.description.as_deref() {
        return Err("description changed".to_owned());
    }
    Ok(())
}

#[test]
fn every_converted_command_follows_its_tool_s_rules_and_means_no_more_than_the_claude_file() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for (label, name, bytes) in command_inputs() {
        let claude = ClaudeCommand::of(&name, &bytes);
        for target in Target::ALL {
            let converted = target.convert_command(&name, &bytes);
            assert_eq!(converted, target.convert_command(&name, &bytes), "{label} → {target}: not deterministic");
            let converted = match converted {
                Ok(converted) => converted,
                Err(why) => {
                    // Only Codex has no commands; a denial keeps the others out but Copilot.
                    let expected = target == Target::Codex
                        || (claude.denies && target != Target::Copilot && target != Target::ClaudeCode);
                    if !expected {
                        failures.push(format!("{label} → {target}: not written: {why}"));
                    }
                    continue;
                }
            };
            if claude.denies && ![Target::Copilot, Target::ClaudeCode].contains(&target) {
                failures.push(format!("{label} → {target}: written though it cannot deny tools"));
            }
            let result = match target {
                Target::ClaudeCode => (converted.bytes == bytes).then_some(()).ok_or_else(|| "changed".to_owned()),
                Target::OpenCode => opencode_command(&converted.bytes, &claude),
                Target::Copilot => copilot_command(&converted.bytes, &claude),
                Target::Cursor => (converted.bytes == claude.body.as_bytes())
                    .then_some(())
                    .ok_or_else(|| "not the body alone".to_owned()),
                Target::Gemini => gemini_command(&converted.bytes, &claude),
                Target::Codex => Err("Codex has no commands".to_owned()),
            };
            checked += 1;
            if let Err(why) = result {
                failures.push(format!("{label} → {target}: {why}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} command conversions break a tool's rules:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn opencode_s_own_loader_loads_every_converted_command() {
    let Some(binary) = pinned_opencode() else { return };
    let temp = tempfile::tempdir().unwrap();
    let project = temp.path().join("project");
    let commands = project.join(".opencode/command");
    std::fs::create_dir_all(&commands).unwrap();
    std::fs::create_dir_all(project.join(".git")).unwrap();
    let mut expected = Vec::new();
    for (index, (label, name, bytes)) in command_inputs().into_iter().enumerate() {
        let Ok(converted) = Target::OpenCode.convert_command(&name, &bytes) else { continue };
        std::fs::write(commands.join(format!("c{index:03}.md")), &converted.bytes).unwrap();
        let text = String::from_utf8(converted.bytes).unwrap();
        let body = text.splitn(3, "---\n").nth(2).unwrap().trim().to_owned();
        expected.push((format!("c{index:03}"), label, body, ClaudeCommand::of(&name, &bytes)));
    }
    let config = opencode_config(&binary, temp.path(), &project);
    let mut failures = Vec::new();
    for (name, label, body, claude) in &expected {
        let command = &config["command"][name];
        if command.is_null() {
            failures.push(format!("{label}: not loaded"));
            continue;
        }
        if command["template"].as_str() != Some(body.as_str()) {
            failures.push(format!("{label}: template is {}", command["template"]));
        }
        if command["description"].as_str() != claude.description.as_deref() {
            failures.push(format!("{label}: description is {}", command["description"]));
        }
        let template = command["template"].as_str().unwrap_or_default();
        if !claude.bash.is_empty() || shell_lines(template).is_empty() {
            continue;
        }
        failures.push(format!("{label}: OpenCode would run {:?} unasked", shell_lines(template)));
    }
    assert!(expected.len() >= COMMANDS.len() - 1, "{} commands converted", expected.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The configuration OpenCode's own binary loads in `project` (`opencode debug config --pure`),
/// with a fresh home under `temp`; fails the test when OpenCode refuses it, which one invalid
/// agent or command file is enough for.
fn opencode_config(binary: &Path, temp: &Path, project: &Path) -> serde_json::Value {
    let home = temp.join("home");
    // Into a file: OpenCode (a Bun binary) can exit before a pipe has taken all of a large output.
    let printed = temp.join("config.json");
    let output = Command::new(binary)
        .args(["debug", "config", "--pure"])
        .stdout(std::fs::File::create(&printed).unwrap())
        .current_dir(project)
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("XDG_STATE_HOME", home.join(".local/state"))
        .env("OPENCODE_DISABLE_AUTOUPDATE", "1")
        .env_remove("OPENCODE_CONFIG")
        .env_remove("OPENCODE_CONFIG_DIR")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "OpenCode refuses the converted files:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&std::fs::read(&printed).unwrap()).unwrap()
}
