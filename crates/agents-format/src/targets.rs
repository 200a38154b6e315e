//! Install targets: the AI coding tools whose layout an agent can be installed into, and the
//! conversion of a Claude Code agent file into each tool's format. Deterministic: the same input
//! always gives the same bytes, so the lockfile can pin the checksum of every converted file.
//!
//! Where each tool's directories and fields come from is documented in `docs/targets.md`.
//! Conversion keeps the prompt body byte for byte and rewrites only the front matter; whatever
//! has no equivalent in the target is left out and named in [`Converted::unmapped`].

use std::fmt;

use crate::agent_file::AgentFile;
use crate::name::AgentName;

/// A tool agents can be installed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    ClaudeCode,
    OpenCode,
    Copilot,
    Cursor,
    Gemini,
    Codex,
}

/// A converted agent file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    pub bytes: Vec<u8>,
    /// What could not be carried over, for the user to see (`model sonnet`, `tools: Task`, …).
    pub unmapped: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown target `{0}` (known: claude-code, opencode, copilot, cursor, gemini, codex)")]
pub struct UnknownTarget(pub String);

impl Target {
    pub const ALL: [Target; 6] =
        [Target::ClaudeCode, Target::OpenCode, Target::Copilot, Target::Cursor, Target::Gemini, Target::Codex];

    pub fn as_str(self) -> &'static str {
        match self {
            Target::ClaudeCode => "claude-code",
            Target::OpenCode => "opencode",
            Target::Copilot => "copilot",
            Target::Cursor => "cursor",
            Target::Gemini => "gemini",
            Target::Codex => "codex",
        }
    }

    pub fn parse(name: &str) -> Result<Target, UnknownTarget> {
        Target::ALL.into_iter().find(|t| t.as_str() == name).ok_or_else(|| UnknownTarget(name.to_owned()))
    }

    /// Where the agent goes in a project, relative to the project root.
    pub fn project_path(self, name: &AgentName) -> String {
        match self {
            Target::ClaudeCode => format!(".claude/agents/{name}.md"),
            Target::OpenCode => format!(".opencode/agent/{name}.md"),
            Target::Copilot => format!(".github/agents/{name}.agent.md"),
            Target::Cursor => format!(".cursor/agents/{name}.md"),
            Target::Gemini => format!(".gemini/agents/{name}.md"),
            Target::Codex => format!(".codex/agents/{name}.toml"),
        }
    }

    /// Where the agent goes for the user, relative to the home directory, when the tool's own
    /// environment variables do not move its directory (see [`Target::user_dir`]).
    pub fn user_path(self, name: &AgentName) -> String {
        format!("{}/{}", self.user_dir(), self.file_name(name))
    }

    /// The directory the tool reads user-scope agents from by default, relative to the home.
    /// The binary moves it where the tool's own variable says (`XDG_CONFIG_HOME`, `COPILOT_HOME`,
    /// `GEMINI_CLI_HOME`, `CODEX_HOME`; see `docs/targets.md`).
    pub fn user_dir(self) -> &'static str {
        match self {
            Target::ClaudeCode => ".claude/agents",
            Target::OpenCode => ".config/opencode/agent",
            Target::Copilot => ".copilot/agents",
            Target::Cursor => ".cursor/agents",
            Target::Gemini => ".gemini/agents",
            Target::Codex => ".codex/agents",
        }
    }

    /// The file name the agent `name` has in this tool's directory.
    pub fn file_name(self, name: &AgentName) -> String {
        match self {
            Target::Copilot => format!("{name}.agent.md"),
            Target::Codex => format!("{name}.toml"),
            _ => format!("{name}.md"),
        }
    }

    /// Converts a Claude Code agent file (`bytes`, parsed as `file`) into this target's format.
    ///
    /// Every field is mapped so that the tool means what the Claude Code file means (what the
    /// agent may read, edit, write and run; its model), checked against each tool's own loader
    /// (see `docs/targets.md` and `tests/e2e/tool_rules.rs`); whatever cannot be carried is named.
    pub fn convert(self, file: &AgentFile, bytes: &[u8]) -> Converted {
        let body = String::from_utf8_lossy(&bytes[file.body_offset.min(bytes.len())..]).into_owned();
        let mut unmapped = Vec::new();
        if self == Target::ClaudeCode {
            return Converted { bytes: bytes.to_vec(), unmapped };
        }
        for key in &file.keys {
            if !["name", "description", "tools", "disallowedTools", "model", "color", "version"].contains(&key.as_str())
            {
                unmapped.push(format!("field `{key}`"));
            }
        }
        // Copilot, Gemini CLI and Codex refuse an agent without a description (Claude Code does
        // not load one either); the agent's name stands in, and the loss is named.
        let description = match &file.description {
            Some(description) => description.clone(),
            None => {
                unmapped.push("description (none; the agent's name written in its place)".to_owned());
                file.name.to_string()
            }
        };
        // What the agent may use: `tools` less `disallowedTools`; with `disallowedTools` alone,
        // every built-in tool but those (`derived`: a list the author did not write, so tools
        // it leaves out, such as MCP tools, are named once below, not one by one).
        let (effective, derived) = effective_tools(file, &mut unmapped);
        let tools = effective.as_ref();
        // A derived list holds only what the target can name (no note per built-in it lacks).
        let list_for = |table: &[(&str, &str)]| -> Option<Vec<String>> {
            let tools = tools?;
            if !derived {
                return Some(tools.clone());
            }
            Some(
                tools
                    .iter()
                    .filter(|t| table.iter().any(|(claude, mapped)| *claude == tool_base(t) && !mapped.is_empty()))
                    .cloned()
                    .collect(),
            )
        };
        let text = match self {
            Target::ClaudeCode => unreachable!("returned above"),
            Target::OpenCode => {
                let mut front = vec![format!("description: {}", quote(&description)), "mode: subagent".to_owned()];
                match file.model.as_deref() {
                    None | Some("inherit") => {}
                    Some(model) if model.starts_with("claude-") => front.push(format!("model: anthropic/{model}")),
                    Some(model) => unmapped.push(format!("model `{model}` (OpenCode wants provider/model-id)")),
                }
                if derived {
                    // OpenCode's map allows what it does not mention: deny exactly what Claude denies.
                    // A denied tool OpenCode does not have needs no denying.
                    let denied: Vec<String> = file
                        .disallowed_tools
                        .iter()
                        .flatten()
                        .filter(|t| tool_base(t) == t.as_str())
                        .filter(|t| OPENCODE_TOOLS.iter().any(|(claude, mapped)| claude == t && !mapped.is_empty()))
                        .cloned()
                        .collect();
                    let denied = map_tools(&denied, OPENCODE_TOOLS, &mut unmapped);
                    let kept: Vec<&str> = tools.map(|t| t.iter().map(|t| tool_base(t)).collect()).unwrap_or_default();
                    let edit_kept = kept.iter().any(|t| ["Write", "Edit", "MultiEdit"].contains(t));
                    front.push("tools:".to_owned());
                    for name in denied {
                        if name == "edit" && edit_kept {
                            unmapped.push(
                                "disallowedTools (OpenCode has one edit permission for Write and Edit; kept allowed)"
                                    .to_owned(),
                            );
                            continue;
                        }
                        front.push(format!("  {name}: false"));
                    }
                } else if let Some(tools) = tools {
                    let allowed = map_tools(tools, OPENCODE_TOOLS, &mut unmapped);
                    // OpenCode folds `write`, `edit` and `patch` into one `permission.edit`, the
                    // last key winning: so only `edit` is written, allowed when Claude allows
                    // either, and a file that allows one but not the other is named.
                    let writes = tools.iter().any(|t| tool_base(t) == "Write");
                    let edits = tools.iter().any(|t| ["Edit", "MultiEdit"].contains(&tool_base(t)));
                    if writes != edits {
                        let (has, lacks) = if writes { ("Write", "Edit") } else { ("Edit", "Write") };
                        unmapped.push(format!(
                            "tool `{has}` without `{lacks}` (OpenCode has one edit permission for both)"
                        ));
                    }
                    front.push("tools:".to_owned());
                    for name in OPENCODE_KEYS {
                        front.push(format!("  {name}: {}", allowed.contains(&name)));
                    }
                }
                unmapped.extend(file.color.iter().map(|c| format!("color `{c}` (OpenCode takes only #RRGGBB)")));
                markdown(&front, &body)
            }
            Target::Copilot => {
                let mut front = vec![
                    format!("name: {}", quote(file.name.as_str())),
                    format!("description: {}", quote(&description)),
                ];
                if derived {
                    unmapped.push(
                        "disallowedTools (written as the list of every other built-in tool; MCP tools are left out)"
                            .to_owned(),
                    );
                }
                if let Some(tools) = &list_for(COPILOT_TOOLS) {
                    front.push(copilot_tools(tools, &mut unmapped));
                }
                unmapped.extend(model_note(file, "Copilot names models by display name"));
                unmapped.extend(file.color.iter().map(|c| format!("color `{c}`")));
                let length = body.chars().count();
                if length > COPILOT_MAX_BODY_CHARS {
                    unmapped
                        .push(format!("prompt of {length} characters (GitHub reads at most {COPILOT_MAX_BODY_CHARS})"));
                }
                markdown(&front, &body)
            }
            Target::Cursor => {
                let mut front = vec![
                    format!("name: {}", quote(file.name.as_str())),
                    format!("description: {}", quote(&description)),
                ];
                if file.model.as_deref() == Some("inherit") {
                    front.push("model: inherit".to_owned());
                } else {
                    unmapped.extend(model_note(file, "Cursor takes fast, inherit or its own model ids"));
                }
                if let Some(tools) = tools {
                    if !writes_or_runs(tools) {
                        front.push("readonly: true".to_owned());
                    }
                    unmapped.push(format!(
                        "tools `{}` (Cursor has no tool list; read-only agents get readonly)",
                        tools.join(", ")
                    ));
                }
                unmapped.extend(file.color.iter().map(|c| format!("color `{c}`")));
                markdown(&front, &body)
            }
            Target::Gemini => {
                // Gemini CLI names are slugs of [a-z0-9_-] (its `nameSchema`).
                let slug: String = file
                    .name
                    .as_str()
                    .chars()
                    .map(|c| c.to_ascii_lowercase())
                    .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
                    .collect();
                if slug != file.name.as_str() {
                    unmapped.push(format!("name `{}` (written as `{slug}`: Gemini names are [a-z0-9_-])", file.name));
                }
                let mut front = vec![format!("name: {slug}"), format!("description: {}", quote(&description))];
                if derived {
                    unmapped.push(
                        "disallowedTools (written as the list of every other built-in tool; MCP tools are left out)"
                            .to_owned(),
                    );
                }
                if let Some(tools) = &list_for(GEMINI_TOOLS) {
                    let allowed = map_tools(tools, GEMINI_TOOLS, &mut unmapped);
                    // Gemini's schema takes a list or no key, never null: an agent none of whose
                    // tools map gets an empty list (no tools), as in the Claude file.
                    if allowed.is_empty() {
                        front.push("tools: []".to_owned());
                    } else {
                        front.push("tools:".to_owned());
                        front.extend(allowed.iter().map(|t| format!("  - {t}")));
                    }
                }
                unmapped.extend(model_note(file, "Gemini CLI runs Gemini models; the agent inherits the session's"));
                unmapped.extend(file.color.iter().map(|c| format!("color `{c}`")));
                markdown(&front, &body)
            }
            Target::Codex => {
                let mut text = format!(
                    "name = {}\ndescription = {}\n",
                    toml_string(file.name.as_str()),
                    toml_string(&description)
                );
                if let Some(tools) = tools {
                    if !writes_or_runs(tools) {
                        text.push_str("sandbox_mode = \"read-only\"\n");
                    }
                    unmapped.push(format!(
                        "tools `{}` (Codex has no tool list; read-only agents get sandbox_mode = \"read-only\")",
                        tools.join(", ")
                    ));
                }
                unmapped.extend(model_note(file, "Codex runs OpenAI models; the agent inherits the session's"));
                unmapped.extend(file.color.iter().map(|c| format!("color `{c}`")));
                let instructions = body.trim_start_matches(['\n', '\r']);
                if instructions.trim().is_empty() {
                    unmapped.push("empty prompt (Codex refuses a role without developer_instructions)".to_owned());
                }
                text.push_str(&format!("developer_instructions = {}\n", toml_string(instructions)));
                text
            }
        };
        Converted { bytes: text.into_bytes(), unmapped }
    }
}

/// The kind of loss an [`Converted::unmapped`] entry names, for grouping many agents' notes into
/// one line: the words before the first backtick, with the reason in parentheses when there is
/// one (`model (OpenCode wants provider/model-id)` for every model OpenCode cannot take); an
/// entry without a reason is its own kind (`tool `Task``, `field `hooks``).
pub fn loss_kind(detail: &str) -> String {
    let (Some(tick), Some(open)) = (detail.find('`'), detail.find(" (")) else { return detail.to_owned() };
    if !detail.ends_with(')') || open < tick {
        return detail.to_owned();
    }
    format!("{} {}", detail[..tick].trim_end(), &detail[open + 1..])
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Claude Code tools that change files or run commands.
const WRITING_TOOLS: [&str; 5] = ["Write", "Edit", "MultiEdit", "Bash", "NotebookEdit"];

/// The longest prompt GitHub reads from a custom agent file, in characters
/// (docs.github.com, "Custom agents configuration").
pub const COPILOT_MAX_BODY_CHARS: usize = 30_000;

/// The OpenCode tool keys written, in order. `write` is absent on purpose: OpenCode folds it into
/// `edit` (see [`Target::convert`]).
const OPENCODE_KEYS: [&str; 10] =
    ["bash", "edit", "glob", "grep", "list", "read", "task", "todowrite", "webfetch", "websearch"];

/// Claude Code's built-in tools, for an agent that names only what it may not use.
pub(crate) const CLAUDE_BUILTIN_TOOLS: [&str; 13] = [
    "Read",
    "Write",
    "Edit",
    "MultiEdit",
    "Bash",
    "Glob",
    "Grep",
    "LS",
    "WebFetch",
    "WebSearch",
    "TodoWrite",
    "Task",
    "NotebookEdit",
];

/// The tools the agent may use (see [`Target::convert`]), and whether the list was derived from
/// `disallowedTools` alone. A restricted deny entry (`Bash(rm:*)`) cannot be subtracted from a
/// list: the whole tool is left out (narrower than asked, never wider), and named.
fn effective_tools(file: &AgentFile, unmapped: &mut Vec<String>) -> (Option<Vec<String>>, bool) {
    let denied: Vec<&str> = file.disallowed_tools.iter().flatten().map(String::as_str).collect();
    for restricted in denied.iter().filter(|d| tool_base(d) != **d) {
        unmapped.push(format!(
            "disallowedTools `{restricted}` (only whole tools can be left out: all of `{}` is left out)",
            tool_base(restricted)
        ));
    }
    let whole: Vec<&str> = denied.iter().map(|d| tool_base(d)).collect();
    let keep = |tool: &str| {
        // `Agent` is `Task`'s newer name: denying one denies both.
        let base = tool_base(tool);
        let alias = match base {
            "Agent" => "Task",
            "Task" => "Agent",
            other => other,
        };
        !whole.contains(&base) && !whole.contains(&alias)
    };
    match (&file.tools, file.disallowed_tools.is_some()) {
        (Some(tools), _) => (Some(tools.iter().filter(|t| keep(t)).cloned().collect()), false),
        (None, true) => {
            (Some(CLAUDE_BUILTIN_TOOLS.iter().filter(|t| keep(t)).map(|t| (*t).to_owned()).collect()), true)
        }
        (None, false) => (None, false),
    }
}

/// Whether a Claude tool list lets the agent change files or run commands (`Bash(git diff:*)`
/// counts: it runs commands).
fn writes_or_runs(tools: &[String]) -> bool {
    tools.iter().any(|t| WRITING_TOOLS.contains(&tool_base(t)))
}

/// The tool a Claude tool entry names: `Bash` for `Bash(git diff:*)`, `Agent` for `Agent(a, b)`.
pub(crate) fn tool_base(tool: &str) -> &str {
    tool.split_once('(').map_or(tool, |(base, _)| base).trim()
}

/// Claude tool → OpenCode tool ("" = no equivalent).
const OPENCODE_TOOLS: &[(&str, &str)] = &[
    ("Read", "read"),
    ("Write", "edit"),
    ("Edit", "edit"),
    ("MultiEdit", "edit"),
    ("Bash", "bash"),
    ("Glob", "glob"),
    ("Grep", "grep"),
    ("LS", "list"),
    ("WebFetch", "webfetch"),
    ("WebSearch", "websearch"),
    ("TodoWrite", "todowrite"),
    ("Task", "task"),
    ("Agent", "task"),
    ("NotebookEdit", ""),
];

/// Claude tool → Copilot tool alias.
pub(crate) const COPILOT_TOOLS: &[(&str, &str)] = &[
    ("Read", "read"),
    ("NotebookRead", "read"),
    ("Write", "edit"),
    ("Edit", "edit"),
    ("MultiEdit", "edit"),
    ("NotebookEdit", "edit"),
    ("Bash", "execute"),
    ("Glob", "search"),
    ("Grep", "search"),
    ("WebFetch", "web"),
    ("WebSearch", "web"),
    ("TodoWrite", "todo"),
    ("Task", "agent"),
    ("Agent", "agent"),
];

/// Claude tool → Gemini CLI tool.
const GEMINI_TOOLS: &[(&str, &str)] = &[
    ("Read", "read_file"),
    ("Write", "write_file"),
    ("Edit", "replace"),
    ("MultiEdit", "replace"),
    ("Bash", "run_shell_command"),
    ("Glob", "glob"),
    ("Grep", "grep_search"),
    ("LS", "list_directory"),
    ("WebFetch", "web_fetch"),
    ("WebSearch", "google_web_search"),
    ("TodoWrite", "write_todos"),
    ("Task", ""),
    ("Agent", ""),
];

/// Maps Claude tool names through `table`: the target names, sorted and unique; names with no
/// equivalent are reported. A restricted entry (`Bash(git diff:*)`, `Agent(a, b)`) maps to its
/// whole tool, and the restriction is reported as lost.
fn map_tools(tools: &[String], table: &[(&str, &'static str)], unmapped: &mut Vec<String>) -> Vec<&'static str> {
    let mut mapped = std::collections::BTreeSet::new();
    for tool in tools {
        let base = tool_base(tool);
        match table.iter().find(|(claude, _)| *claude == base) {
            Some((_, target)) if !target.is_empty() => {
                mapped.insert(*target);
                if base != tool {
                    unmapped.push(format!("tool `{tool}` (carried over as the whole `{target}` tool)"));
                }
            }
            _ => unmapped.push(format!("tool `{tool}`")),
        }
    }
    mapped.into_iter().collect()
}

/// Copilot's `tools: [...]` line for a Claude tool list: primary aliases, sorted and unique; MCP
/// tools keep their meaning as `server/tool` (`server/*` for a whole server).
pub(crate) fn copilot_tools(tools: &[String], unmapped: &mut Vec<String>) -> String {
    let (mcp, builtin): (Vec<String>, Vec<String>) = tools.iter().cloned().partition(|t| t.starts_with("mcp__"));
    let mut allowed: Vec<String> =
        map_tools(&builtin, COPILOT_TOOLS, unmapped).into_iter().map(str::to_owned).collect();
    for tool in &mcp {
        match tool["mcp__".len()..].split_once("__") {
            Some((server, name)) if !server.is_empty() && !name.is_empty() => allowed.push(format!("{server}/{name}")),
            None if tool.len() > "mcp__".len() => allowed.push(format!("{}/*", &tool["mcp__".len()..])),
            _ => unmapped.push(format!("tool `{tool}`")),
        }
    }
    allowed.sort();
    allowed.dedup();
    format!("tools: [{}]", allowed.iter().map(|t| quote(t)).collect::<Vec<_>>().join(", "))
}

fn model_note(file: &AgentFile, why: &str) -> Option<String> {
    file.model.as_deref().filter(|m| *m != "inherit").map(|m| format!("model `{m}` ({why})"))
}

pub(crate) fn markdown(front: &[String], body: &str) -> String {
    format!("---\n{}\n---\n{body}", front.join("\n"))
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
pub(crate) fn quote(text: &str) -> String {
    serde_json::to_string(text).expect("strings always serialise")
}

/// A TOML basic string (multi-line when the text has newlines).
pub(crate) fn toml_string(text: &str) -> String {
    toml_edit::Value::from(text).to_string().trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const AGENT: &str = "---\nname: reviewer\ndescription: Reviews \"diffs\": carefully\ntools: Read, Grep, Glob, Task\nmodel: sonnet\ncolor: blue\n---\nYou review code.\n";

    fn convert(target: Target) -> Converted {
        target.convert(&AgentFile::parse(AGENT.as_bytes()).unwrap(), AGENT.as_bytes())
    }

    #[test]
    fn claude_code_is_the_identity() {
        assert_eq!(convert(Target::ClaudeCode).bytes, AGENT.as_bytes());
    }

    #[test]
    fn markdown_targets_keep_the_body_and_map_fields() {
        let opencode = convert(Target::OpenCode);
        let text = String::from_utf8(opencode.bytes.clone()).unwrap();
        assert!(
            text.starts_with("---\ndescription: \"Reviews \\\"diffs\\\": carefully\"\nmode: subagent\ntools:\n"),
            "{text}"
        );
        assert!(
            text.contains("  read: true\n") && text.contains("  bash: false\n") && text.contains("  task: true\n"),
            "{text}"
        );
        assert!(text.ends_with("---\nYou review code.\n"), "{text}");
        assert!(opencode.unmapped.iter().any(|u| u.contains("model `sonnet`")), "{:?}", opencode.unmapped);
        let parsed = AgentFile::parse(&opencode.bytes);
        assert!(parsed.is_err(), "OpenCode files carry no name field");

        let copilot = String::from_utf8(convert(Target::Copilot).bytes).unwrap();
        assert!(copilot.contains("tools: [\"agent\", \"read\", \"search\"]"), "{copilot}");
        let gemini = convert(Target::Gemini);
        let text = String::from_utf8(gemini.bytes).unwrap();
        assert!(text.contains("tools:\n  - glob\n  - grep_search\n  - read_file\n"), "{text}");
        assert!(gemini.unmapped.contains(&"tool `Task`".to_owned()), "{:?}", gemini.unmapped);
        let cursor = String::from_utf8(convert(Target::Cursor).bytes).unwrap();
        assert!(cursor.contains("readonly: true"), "{cursor}");
        for target in [Target::Copilot, Target::Cursor, Target::Gemini] {
            let converted = convert(target);
            let file = AgentFile::parse(&converted.bytes).unwrap();
            assert_eq!(file.description.as_deref(), Some("Reviews \"diffs\": carefully"), "{target}");
            assert!(file.strict_yaml, "{target}: front matter is not strict YAML");
        }
    }

    #[test]
    fn codex_is_toml_with_the_prompt_as_developer_instructions() {
        let codex = convert(Target::Codex);
        let text = String::from_utf8(codex.bytes).unwrap();
        let value: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(value["name"].as_str(), Some("reviewer"));
        assert_eq!(value["developer_instructions"].as_str(), Some("You review code.\n"));
        assert_eq!(value["sandbox_mode"].as_str(), Some("read-only"));
        assert!(!value.contains_key("tools") && !value.contains_key("color"));
    }

    fn convert_text(target: Target, text: &str) -> (String, Vec<String>) {
        let converted = target.convert(&AgentFile::parse(text.as_bytes()).unwrap(), text.as_bytes());
        (String::from_utf8(converted.bytes).unwrap(), converted.unmapped)
    }

    fn agent_with_tools(tools: &str) -> String {
        format!("---\nname: a\ndescription: d\ntools: {tools}\n---\nPrompt.\n")
    }

    #[test]
    fn opencode_writes_one_edit_permission() {
        // OpenCode folds write/edit/patch into one permission, the last key winning: an agent
        // with Edit but no Write must still be able to edit.
        let (text, unmapped) = convert_text(Target::OpenCode, &agent_with_tools("Read, Edit"));
        assert!(text.contains("  edit: true\n") && !text.contains("\n  write:"), "{text}");
        assert!(unmapped.iter().any(|u| u.contains("`Edit` without `Write`")), "{unmapped:?}");
        let (text, _) = convert_text(Target::OpenCode, &agent_with_tools("Read, Write"));
        assert!(text.contains("  edit: true\n"), "{text}");
        let (text, unmapped) = convert_text(Target::OpenCode, &agent_with_tools("Read, Grep"));
        assert!(text.contains("  edit: false\n") && text.contains("  read: true\n"), "{text}");
        assert!(unmapped.is_empty(), "{unmapped:?}");
    }

    #[test]
    fn gemini_never_writes_a_null_tool_list() {
        let (text, unmapped) = convert_text(Target::Gemini, &agent_with_tools("Task, NotebookEdit"));
        assert!(text.contains("\ntools: []\n"), "{text}");
        assert_eq!(unmapped, ["tool `Task`", "tool `NotebookEdit`"]);
        let front: serde_yaml::Value = serde_yaml::from_str(text.split("---\n").nth(1).unwrap()).unwrap();
        assert_eq!(front["tools"], serde_yaml::Value::Sequence(Vec::new()));
    }

    #[test]
    fn restricted_and_mcp_tools_keep_their_meaning() {
        let (text, unmapped) = convert_text(
            Target::Copilot,
            &agent_with_tools("Agent(reviewer, tester), Read, mcp__github__get_issue, mcp__db"),
        );
        assert!(text.contains("tools: [\"agent\", \"db/*\", \"github/get_issue\", \"read\"]"), "{text}");
        assert_eq!(unmapped, ["tool `Agent(reviewer, tester)` (carried over as the whole `agent` tool)"]);
        // A restricted Bash still runs commands: not read-only.
        let (text, _) = convert_text(Target::Codex, &agent_with_tools("Read, Bash(git diff:*)"));
        assert!(!text.contains("read-only"), "{text}");
    }

    #[test]
    fn lenient_front_matter_converts_whole() {
        let text = "---\nname: checker\ndescription: Use it. Examples:\n<example>\nContext: code was written\nuser: \"check\"\n</example>\ntools: [\"Read\", \"Grep\"]\n---\nPrompt.\n";
        for target in [Target::OpenCode, Target::Copilot, Target::Cursor, Target::Gemini] {
            let (converted, unmapped) = convert_text(target, text);
            let file = AgentFile::parse(converted.as_bytes());
            if target != Target::OpenCode {
                let file = file.unwrap();
                assert_eq!(
                    file.description.as_deref(),
                    Some("Use it. Examples:\n<example>\nContext: code was written\nuser: \"check\"\n</example>"),
                    "{target}"
                );
            }
            assert!(!unmapped.iter().any(|u| u.contains("Context") || u.contains("user")), "{target}: {unmapped:?}");
        }
        let (copilot, _) = convert_text(Target::Copilot, text);
        assert!(copilot.contains("tools: [\"read\", \"search\"]"), "{copilot}");
        let (cursor, _) = convert_text(Target::Cursor, text);
        assert!(cursor.contains("readonly: true"), "{cursor}");
    }

    #[test]
    fn required_descriptions_and_prompts_are_named_when_missing() {
        let (text, unmapped) = convert_text(Target::Codex, "---\nname: bare\n---\n");
        let value: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(value["description"].as_str(), Some("bare"));
        assert!(unmapped.iter().any(|u| u.starts_with("description")), "{unmapped:?}");
        assert!(unmapped.iter().any(|u| u.starts_with("empty prompt")), "{unmapped:?}");
        let long = format!("---\nname: long\ndescription: d\n---\n{}\n", "x".repeat(COPILOT_MAX_BODY_CHARS + 1));
        let (_, unmapped) = convert_text(Target::Copilot, &long);
        assert!(unmapped.iter().any(|u| u.contains("at most 30000")), "{unmapped:?}");
    }

    #[test]
    fn disallowed_tools_are_taken_away() {
        let text =
            "---\nname: a\ndescription: d\ndisallowedTools: Bash, Write, Edit, MultiEdit, NotebookEdit\n---\nP.\n";
        let (opencode, unmapped) = convert_text(Target::OpenCode, text);
        assert!(opencode.contains("tools:\n  bash: false\n  edit: false\n---"), "{opencode}");
        assert!(unmapped.is_empty(), "{unmapped:?}");
        let (gemini, unmapped) = convert_text(Target::Gemini, text);
        assert!(gemini.contains("  - read_file\n") && !gemini.contains("run_shell_command"), "{gemini}");
        assert!(!gemini.contains("write_file") && !gemini.contains("replace"), "{gemini}");
        assert_eq!(
            unmapped,
            ["disallowedTools (written as the list of every other built-in tool; MCP tools are left out)"]
        );
        let (codex, _) = convert_text(Target::Codex, text);
        assert!(codex.contains("sandbox_mode = \"read-only\""), "{codex}");
        // With a tool list, the denied ones are subtracted.
        let (copilot, _) = convert_text(
            Target::Copilot,
            "---\nname: a\ndescription: d\ntools: Read, Bash\ndisallowedTools: Bash\n---\nP.\n",
        );
        assert!(copilot.contains("tools: [\"read\"]"), "{copilot}");
        // Part of a tool denied: no tool can say so, so the whole tool goes (never kept whole).
        let (copilot, unmapped) = convert_text(
            Target::Copilot,
            "---\nname: a\ndescription: d\ntools: Read, Bash\ndisallowedTools: Bash(rm:*)\n---\nP.\n",
        );
        assert!(copilot.contains("tools: [\"read\"]"), "{copilot}");
        assert!(unmapped.iter().any(|u| u.contains("all of `Bash` is left out")), "{unmapped:?}");
    }

    #[test]
    fn losses_group_by_kind() {
        for (detail, kind) in [
            ("model `sonnet` (OpenCode wants provider/model-id)", "model (OpenCode wants provider/model-id)"),
            (
                "tools `Read, Grep` (Cursor has no tool list; read-only agents get readonly)",
                "tools (Cursor has no tool list; read-only agents get readonly)",
            ),
            ("tool `Task`", "tool `Task`"),
            ("field `hooks`", "field `hooks`"),
            (
                "description (none; the agent's name written in its place)",
                "description (none; the agent's name written in its place)",
            ),
        ] {
            assert_eq!(loss_kind(detail), kind, "{detail}");
        }
    }

    #[test]
    fn conversion_is_deterministic_and_names_parse() {
        for target in Target::ALL {
            assert_eq!(convert(target), convert(target));
            assert_eq!(Target::parse(target.as_str()), Ok(target));
        }
        assert!(Target::parse("vim").is_err());
    }
}
