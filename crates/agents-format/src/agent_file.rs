//! Agent files: Markdown with YAML front matter, parsed leniently and never rewritten.
//!
//! Real agent files are often not strict YAML (an unquoted `description` containing `: `, literal
//! `\n` sequences), and Claude Code loads them anyway. So parsing is two-staged: strict YAML
//! first; when that fails for a reason other than resource limits, a line-oriented reading of
//! `key: value` pairs, reported as a lint warning. The bytes are only ever read, never
//! re-serialised: a published or installed file is the exact input.

use std::fmt;

use crate::name::{AgentName, NameError};
use crate::unicode;

/// The largest agent file accepted, in bytes (1 MiB). The corpus's largest is about 13 KB.
pub const MAX_AGENT_FILE_LEN: usize = 1024 * 1024;
/// The largest front matter accepted, in bytes (64 KiB).
pub const MAX_FRONT_MATTER_LEN: usize = 64 * 1024;
/// The longest description kept in an index record, in characters.
pub const MAX_INDEX_DESCRIPTION_CHARS: usize = 280;

/// Model values Claude Code understands besides full model ids (`claude-…`).
pub const KNOWN_MODELS: [&str; 4] = ["sonnet", "opus", "haiku", "inherit"];
/// Colours Claude Code offers for an agent.
pub const KNOWN_COLORS: [&str; 8] = ["red", "blue", "green", "yellow", "purple", "orange", "pink", "cyan"];
/// Front-matter keys Claude Code (or this tool: `version`) gives a meaning to: the sixteen
/// fields of <https://code.claude.com/docs/en/sub-agents#supported-frontmatter-fields>.
pub const KNOWN_FIELDS: [&str; 17] = [
    "name",
    "description",
    "tools",
    "disallowedTools",
    "model",
    "permissionMode",
    "maxTurns",
    "skills",
    "mcpServers",
    "hooks",
    "memory",
    "background",
    "effort",
    "isolation",
    "color",
    "initialPrompt",
    "version",
];

/// Front-matter keys Claude Code gives a meaning to in a slash command or a skill (the one loader
/// reads both), beside [`KNOWN_FIELDS`]: inside a lenient `description`, a column-0 line with one
/// of these opens a new field too (<https://code.claude.com/docs/en/skills>, frontmatter reference).
const COMMAND_FIELDS: [&str; 10] = [
    "allowed-tools",
    "disallowed-tools",
    "argument-hint",
    "arguments",
    "disable-model-invocation",
    "user-invocable",
    "context",
    "agent",
    "when_to_use",
    "paths",
];

/// Claude Code fields whose values are checked by lint, with what they may be (empty: a
/// positive whole number), from <https://code.claude.com/docs/en/sub-agents#supported-frontmatter-fields>.
const CHECKED_VALUES: [(&str, &[&str]); 5] = [
    ("permissionMode", &["default", "acceptEdits", "dontAsk", "bypassPermissions", "plan"]),
    ("memory", &["user", "project", "local"]),
    ("isolation", &["worktree"]),
    ("background", &["true", "false"]),
    ("maxTurns", &[]),
];

/// A parsed agent file. Holds what was extracted; the bytes stay with the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentFile {
    pub name: AgentName,
    pub description: Option<String>,
    /// The `version` field, verbatim (validated as semver by whoever uses it).
    pub version: Option<String>,
    pub model: Option<String>,
    pub color: Option<String>,
    pub tools: Option<Vec<String>>,
    /// `disallowedTools`: removed from `tools` (or from every tool when `tools` is absent).
    pub disallowed_tools: Option<Vec<String>>,
    /// Top-level front-matter keys in file order.
    pub keys: Vec<String>,
    /// The values of Claude Code's enumerated and numeric fields (`permissionMode`, `memory`,
    /// `isolation`, `background`, `maxTurns`), as text, for lint.
    settings: Vec<(String, String)>,
    /// Whether the front matter is strict YAML (otherwise it was read line by line).
    pub strict_yaml: bool,
    /// Byte offset where the body starts (after the closing `---` line).
    pub body_offset: usize,
    /// What `agents lint` reports about this file, except what depends on its path.
    pub warnings: Vec<Warning>,
}

/// Why an agent file cannot be used at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentFileError {
    #[error("file is {len} bytes, over the limit of {MAX_AGENT_FILE_LEN} bytes")]
    TooLarge { len: usize },
    #[error("file is not valid UTF-8 (invalid byte at offset {offset})")]
    NotUtf8 { offset: usize },
    #[error("file does not start with a `---` front-matter line")]
    MissingFrontMatter,
    #[error("front matter is not closed: no `---` line after the opening one")]
    UnclosedFrontMatter,
    #[error("front matter is {len} bytes, over the limit of {MAX_FRONT_MATTER_LEN} bytes")]
    FrontMatterTooLarge { len: usize },
    #[error("front matter is too deeply nested or expands too many aliases: {message}")]
    FrontMatterTooComplex { message: String },
    #[error("front matter is not a mapping of `key: value` lines")]
    NotAMapping,
    #[error("front matter has no `name` field")]
    MissingName,
    #[error("front-matter field `name` is not a plain string")]
    NameNotAString,
    #[error(transparent)]
    InvalidName(#[from] NameError),
}

/// A lint finding: something Claude Code may tolerate but a careful author would fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub code: WarningCode,
    pub message: String,
}

/// Stable identifiers for lint findings (shown by `agents lint` and in `--json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WarningCode {
    NotStrictYaml,
    ClaudeCodeDropsFields,
    MissingDescription,
    UnknownModel,
    UnknownColor,
    UnknownField,
    InvalidFieldValue,
    InvalidVersion,
    NameDiffersFromFile,
    NoTrailingNewline,
    CrlfLineEndings,
    ByteOrderMark,
    HiddenUnicode,
    ReplacementCharacter,
    EmptyBody,
}

impl WarningCode {
    pub fn as_str(self) -> &'static str {
        match self {
            WarningCode::NotStrictYaml => "not-strict-yaml",
            WarningCode::ClaudeCodeDropsFields => "claude-code-drops-fields",
            WarningCode::MissingDescription => "missing-description",
            WarningCode::UnknownModel => "unknown-model",
            WarningCode::UnknownColor => "unknown-color",
            WarningCode::UnknownField => "unknown-field",
            WarningCode::InvalidFieldValue => "invalid-field-value",
            WarningCode::InvalidVersion => "invalid-version",
            WarningCode::NameDiffersFromFile => "name-differs-from-file",
            WarningCode::NoTrailingNewline => "no-trailing-newline",
            WarningCode::CrlfLineEndings => "crlf-line-endings",
            WarningCode::ByteOrderMark => "byte-order-mark",
            WarningCode::HiddenUnicode => "hidden-unicode",
            WarningCode::ReplacementCharacter => "replacement-character",
            WarningCode::EmptyBody => "empty-body",
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.message, self.code.as_str())
    }
}

impl AgentFile {
    /// Parses an agent file from its exact bytes.
    pub fn parse(bytes: &[u8]) -> Result<AgentFile, AgentFileError> {
        if bytes.len() > MAX_AGENT_FILE_LEN {
            return Err(AgentFileError::TooLarge { len: bytes.len() });
        }
        let text = std::str::from_utf8(bytes).map_err(|e| AgentFileError::NotUtf8 { offset: e.valid_up_to() })?;
        let has_bom = text.starts_with('\u{FEFF}');
        let text_start = if has_bom { '\u{FEFF}'.len_utf8() } else { 0 };
        let split = split_front_matter(&text[text_start..])?;
        let front_matter = &text[text_start + split.front_matter.0..text_start + split.front_matter.1];
        let body_offset = text_start + split.body_offset;

        let mut warnings = Vec::new();
        let (fields, strict_yaml) = match read_strict(front_matter) {
            Ok(fields) => (fields, true),
            Err(StrictError::Limits(message)) => return Err(AgentFileError::FrontMatterTooComplex { message }),
            Err(StrictError::NotAMapping) => return Err(AgentFileError::NotAMapping),
            Err(StrictError::Syntax(message)) => {
                let fields = read_lenient(front_matter);
                if fields.is_empty() {
                    return Err(AgentFileError::NotAMapping);
                }
                warnings.push(Warning {
                    code: WarningCode::NotStrictYaml,
                    message: format!("front matter is not strict YAML ({message}); read it line by line"),
                });
                if !claude_code_parses(front_matter) {
                    warnings.push(Warning {
                        code: WarningCode::ClaudeCodeDropsFields,
                        message: unloadable_message(&continued_field(front_matter)),
                    });
                }
                (fields, false)
            }
        };

        let field = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let name = match field("name") {
            None | Some(FieldValue::Null) => return Err(AgentFileError::MissingName),
            Some(FieldValue::Text(name)) => AgentName::new(name.trim())?,
            Some(FieldValue::List(_) | FieldValue::Other) => return Err(AgentFileError::NameNotAString),
        };
        let text_field = |key: &str| match field(key) {
            Some(FieldValue::Text(value)) => Some(value.clone()),
            _ => None,
        };
        let description = text_field("description").filter(|d| !d.trim().is_empty());
        let model = text_field("model");
        let color = text_field("color");
        let version = text_field("version");
        let list_field = |key: &str| match field(key) {
            Some(FieldValue::Text(list)) => Some(split_tool_list(list)),
            Some(FieldValue::List(items)) => Some(items.iter().map(|t| t.trim().to_owned()).collect()),
            _ => None,
        };
        let tools = list_field("tools");
        let disallowed_tools = list_field("disallowedTools");

        let settings = CHECKED_VALUES
            .iter()
            .filter_map(|(key, _)| text_field(key).map(|value| ((*key).to_owned(), value)))
            .collect();
        let mut file = AgentFile {
            settings,
            name,
            description,
            version,
            model,
            color,
            tools,
            disallowed_tools,
            keys: fields.iter().map(|(k, _)| k.clone()).collect(),
            strict_yaml,
            body_offset,
            warnings,
        };
        file.lint_content(text, has_bom);
        Ok(file)
    }

    /// The description cut to what an index record keeps: one line, at most
    /// [`MAX_INDEX_DESCRIPTION_CHARS`] characters.
    pub fn summary(&self) -> Option<String> {
        let description = self.description.as_deref()?;
        // The first paragraph: up to a literal `\n` (as in the seed) or a blank line.
        let first = description.split("\\n").next().unwrap_or(description);
        let first = first.split("\n\n").next().unwrap_or(first);
        let line = first.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.chars().count() <= MAX_INDEX_DESCRIPTION_CHARS {
            return Some(line);
        }
        let mut cut: String = line.chars().take(MAX_INDEX_DESCRIPTION_CHARS - 1).collect();
        cut.push('\u{2026}');
        Some(cut)
    }

    /// Whether Claude Code cannot parse the front matter, and so does not load the agent from an
    /// agents directory at all (the [`WarningCode::ClaudeCodeDropsFields`] finding says why and
    /// what to fix).
    pub fn claude_code_cannot_load(&self) -> bool {
        self.warnings.iter().any(|w| w.code == WarningCode::ClaudeCodeDropsFields)
    }

    /// Adds the warning that depends on where the file lives: its stem should be its name.
    pub fn lint_file_stem(&mut self, stem: &str) {
        if stem != self.name.as_str() {
            self.warnings.push(Warning {
                code: WarningCode::NameDiffersFromFile,
                message: format!("name `{}` differs from the file name `{stem}.md`", self.name),
            });
        }
    }

    fn lint_content(&mut self, text: &str, has_bom: bool) {
        let mut warn = |code, message: String| self.warnings.push(Warning { code, message });
        if self.description.is_none() {
            warn(
                WarningCode::MissingDescription,
                "no `description`: Claude Code uses it to decide when to delegate".into(),
            );
        }
        if let Some(model) = &self.model
            && !KNOWN_MODELS.contains(&model.as_str())
            && !model.starts_with("claude-")
        {
            warn(
                WarningCode::UnknownModel,
                format!("unknown model `{model}` (expected one of {} or a `claude-…` id)", KNOWN_MODELS.join(", ")),
            );
        }
        if let Some(color) = &self.color
            && !KNOWN_COLORS.contains(&color.as_str())
        {
            warn(
                WarningCode::UnknownColor,
                format!("unknown color `{color}` (expected one of {})", KNOWN_COLORS.join(", ")),
            );
        }
        match (&self.version, self.version.as_deref().map(parse_version)) {
            (Some(version), Some(Err(_))) => {
                warn(WarningCode::InvalidVersion, format!("`version: {version}` is not a semantic version like 1.2.3"))
            }
            (Some(version), Some(Ok((full, true)))) => warn(
                WarningCode::InvalidVersion,
                format!("`version: {version}` is read as {full}; write the full version"),
            ),
            _ => {}
        }
        for key in &self.keys {
            if !KNOWN_FIELDS.contains(&key.as_str()) {
                warn(WarningCode::UnknownField, format!("unknown front-matter field `{key}`"));
            }
        }
        for (key, value) in &self.settings {
            let (_, allowed) = CHECKED_VALUES.iter().find(|(k, _)| k == key).expect("only checked keys are kept");
            let valid = match *allowed {
                [] => value.trim().parse::<u32>().is_ok_and(|n| n > 0),
                allowed => allowed.contains(&value.trim()),
            };
            if !valid {
                let expected =
                    if allowed.is_empty() { "a positive whole number".to_owned() } else { allowed.join(", ") };
                warn(WarningCode::InvalidFieldValue, format!("`{key}: {value}` is not one of {expected}"));
            }
        }
        if !text.ends_with('\n') {
            warn(WarningCode::NoTrailingNewline, "file does not end with a newline".into());
        }
        if text.contains("\r\n") {
            warn(WarningCode::CrlfLineEndings, "file uses CRLF line endings".into());
        }
        if has_bom {
            warn(WarningCode::ByteOrderMark, "file starts with a byte-order mark".into());
        }
        for hidden in unicode::find_hidden(text) {
            warn(WarningCode::HiddenUnicode, hidden.to_string());
        }
        if let Some(line) = text.split('\n').position(|line| line.contains('\u{FFFD}')) {
            warn(
                WarningCode::ReplacementCharacter,
                format!("U+FFFD replacement character at line {} (a lost character?)", line + 1),
            );
        }
        if text[self.body_offset..].trim().is_empty() {
            warn(WarningCode::EmptyBody, "the body (the agent's prompt) is empty".into());
        }
    }

    /// The `version` field as a semantic version, if there is one. `1.0` and `1` (short forms
    /// authors write, and YAML reads `1.0` as a number) are completed with zeros; the flag says
    /// the text was completed, for a note.
    pub fn semver(&self) -> Option<Result<(semver::Version, bool), semver::Error>> {
        self.version.as_deref().map(parse_version)
    }

    /// Whether any warning reports hidden Unicode.
    pub fn has_hidden_unicode(&self) -> bool {
        self.warnings.iter().any(|w| w.code == WarningCode::HiddenUnicode)
    }
}

/// Reads a version as [`AgentFile::semver`] does.
pub fn parse_version(text: &str) -> Result<(semver::Version, bool), semver::Error> {
    let text = text.trim();
    match semver::Version::parse(text) {
        Ok(version) => Ok((version, false)),
        Err(error) => {
            let parts: Vec<&str> = text.split('.').collect();
            let numeric = |p: &&str| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit());
            if (1..=2).contains(&parts.len()) && parts.iter().all(numeric) {
                let completed = format!("{text}{}", ".0".repeat(3 - parts.len()));
                if let Ok(version) = semver::Version::parse(&completed) {
                    return Ok((version, true));
                }
            }
            Err(error)
        }
    }
}

struct Split {
    /// Byte range of the front matter between the delimiter lines.
    front_matter: (usize, usize),
    body_offset: usize,
}

fn is_delimiter(line: &str) -> bool {
    line.trim_end_matches(['\n', '\r']).trim_end_matches([' ', '\t']) == "---"
}

fn split_front_matter(text: &str) -> Result<Split, AgentFileError> {
    let first_end = text.find('\n').map_or(text.len(), |i| i + 1);
    if !is_delimiter(&text[..first_end]) {
        return Err(AgentFileError::MissingFrontMatter);
    }
    let mut offset = first_end;
    while offset < text.len() {
        let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i + 1);
        if is_delimiter(&text[offset..line_end]) {
            if offset - first_end > MAX_FRONT_MATTER_LEN {
                return Err(AgentFileError::FrontMatterTooLarge { len: offset - first_end });
            }
            return Ok(Split { front_matter: (first_end, offset), body_offset: line_end });
        }
        offset = line_end;
    }
    if offset - first_end > MAX_FRONT_MATTER_LEN {
        return Err(AgentFileError::FrontMatterTooLarge { len: offset - first_end });
    }
    Err(AgentFileError::UnclosedFrontMatter)
}

/// A front-matter value as [`front_matter_texts`] gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FrontValue {
    Text(String),
    List(Vec<String>),
}

/// The text fields of a file's front matter, read as [`AgentFile::parse`] reads them (strict
/// YAML, else line by line), for readers of fields an agent does not have (a command's
/// `allowed-tools`, `argument-hint`, `model`). Values that are neither text nor a list are left
/// out. Empty when the file has no front matter or it cannot be read.
pub(crate) fn front_matter_texts(text: &str) -> Vec<(String, FrontValue)> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let Ok(split) = split_front_matter(text) else { return Vec::new() };
    let front_matter = &text[split.front_matter.0..split.front_matter.1];
    let fields = match read_strict(front_matter) {
        Ok(fields) => fields,
        Err(StrictError::Syntax(_)) => read_lenient(front_matter),
        Err(_) => return Vec::new(),
    };
    fields
        .into_iter()
        .filter_map(|(key, value)| match value {
            FieldValue::Text(text) => Some((key, FrontValue::Text(text))),
            FieldValue::List(items) => Some((key, FrontValue::List(items))),
            FieldValue::Null | FieldValue::Other => None,
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum FieldValue {
    Null,
    Text(String),
    List(Vec<String>),
    Other,
}

enum StrictError {
    Syntax(String),
    Limits(String),
    NotAMapping,
}

fn read_strict(front_matter: &str) -> Result<Vec<(String, FieldValue)>, StrictError> {
    use serde_yaml::Value;
    // serde_yaml bounds both nesting depth and alias expansion, so hostile input errors out
    // quickly instead of hanging; those errors must not fall through to the lenient reader.
    let value: Value = match serde_yaml::from_str(front_matter) {
        Ok(value) => value,
        Err(error) => {
            let message = error.to_string();
            let first_line = message.lines().next().unwrap_or_default().to_owned();
            if message.contains("recursion limit") || message.contains("repetition limit") {
                return Err(StrictError::Limits(first_line));
            }
            return Err(StrictError::Syntax(first_line));
        }
    };
    let mapping = match value {
        Value::Mapping(mapping) => mapping,
        Value::Null => return Ok(Vec::new()),
        _ => return Err(StrictError::NotAMapping),
    };
    let scalar = |value: &Value| match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let mut fields = Vec::with_capacity(mapping.len());
    for (key, value) in &mapping {
        let Some(key) = scalar(key) else { continue };
        if let Value::Number(_) = value
            && let Some(raw) = raw_value(front_matter, &key)
        {
            // A number's text as written: YAML reads `version: 1.10` as 1.1.
            fields.push((key, FieldValue::Text(raw)));
            continue;
        }
        let value = match value {
            Value::Null => FieldValue::Null,
            Value::Sequence(items) => {
                let items: Option<Vec<String>> = items.iter().map(scalar).collect();
                items.map_or(FieldValue::Other, FieldValue::List)
            }
            other => scalar(other).map_or(FieldValue::Other, FieldValue::Text),
        };
        fields.push((key, value));
    }
    Ok(fields)
}

/// Whether Claude Code reads this front matter: as YAML, or, when that fails, as YAML again with
/// the value of every plain column-0 `key: value` line quoted (its fallback for the unquoted
/// `description: … Triggers on: …` that real files have). Checked against Claude Code's own
/// `claude plugin validate` in `tests/e2e/claude_rules.rs`.
/// What `agents lint` says, and `publish` and `import` refuse with, when Claude Code cannot parse
/// the front matter: what Claude Code then does and the fix, for the field `field` whose value
/// runs on over unindented lines. Claude Code 2.1.328 to 2.1.337 (`claude plugin validate`, and
/// its agent loader: a file whose front matter does not parse has no `name`, and is skipped)
/// does not load such a file from `.claude/agents/` or `~/.claude/agents/` at all; in a plugin's
/// `agents/` it loads it named after the file, with every other field dropped.
fn unloadable_message(field: &str) -> String {
    format!(
        "Claude Code cannot parse this front matter, even with its values quoted, so it does not load this agent \
         from .claude/agents/ at all (in a plugin it would load it named after its file, with every other field \
         dropped): write `{field}: |` and indent each line of the {field} below it by two spaces, or put the \
         {field} on one line with `\\n` for its line breaks"
    )
}

/// The top-level field whose value runs on over lines that start at column 0 and are no
/// `key: value` (the lines that make Claude Code's parse fail), or `description`.
fn continued_field(front_matter: &str) -> String {
    let mut last_key = None;
    for raw in front_matter.split('\n') {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with([' ', '\t', '#']) {
            continue;
        }
        match split_key(line) {
            // `Context: …` inside an example is the description running on, not a field.
            Some((key, _)) if KNOWN_FIELDS.contains(&key) || COMMAND_FIELDS.contains(&key) => last_key = Some(key),
            Some(_) => {}
            None => break,
        }
    }
    last_key.unwrap_or("description").to_owned()
}

fn claude_code_parses(front_matter: &str) -> bool {
    let quoted: Vec<String> = front_matter
        .split('\n')
        .map(|raw| {
            let line = raw.trim_end_matches('\r');
            match split_key(line) {
                Some((key, value))
                    if !line.starts_with([' ', '\t'])
                        && !value.trim().is_empty()
                        && !value.trim().starts_with(['"', '\'', '[', '{', '|', '>', '&', '*']) =>
                {
                    format!("{key}: {}", serde_json::to_string(value.trim()).expect("strings always serialise"))
                }
                _ => line.to_owned(),
            }
        })
        .collect();
    matches!(serde_yaml::from_str::<serde_yaml::Value>(&quoted.join("\n")), Ok(serde_yaml::Value::Mapping(_)))
}

/// The text after `key:` on the column-0 line that sets `key`, if it is a plain one-line value.
fn raw_value(front_matter: &str, key: &str) -> Option<String> {
    front_matter.lines().find_map(|line| {
        let rest = line.strip_prefix(key)?.strip_prefix(':')?;
        let value = rest.split(" #").next().unwrap_or(rest).trim();
        (!value.is_empty()).then(|| value.to_owned())
    })
}

/// Reads `key: value` lines the way a forgiving loader does: a line starting with a key at
/// column 0 opens a field whose value is the rest of the line, indented lines continue it.
///
/// Two exceptions keep what the author meant. Inside `description`, a column-0 line opens a new
/// field only when its key is one Claude Code knows ([`KNOWN_FIELDS`], [`COMMAND_FIELDS`]): descriptions that carry
/// examples (`Context: …`, `user: …`, `assistant: …` lines, as in Anthropic's own plugin agents)
/// stay one description, with their line breaks. And a value written as a flow sequence
/// (`["Read", "Grep"]`) is a list, as a YAML reader would see it.
fn read_lenient(front_matter: &str) -> Vec<(String, FieldValue)> {
    let mut fields: Vec<(String, Vec<String>)> = Vec::new();
    for raw in front_matter.split('\n') {
        let line = raw.trim_end_matches('\r');
        if line.trim_start().starts_with('#') && !line.starts_with(' ') {
            continue;
        }
        let starts_indented = line.starts_with([' ', '\t']);
        let in_description = fields.last().is_some_and(|(key, _)| key == "description");
        if !starts_indented
            && let Some((key, value)) = split_key(line)
            && (!in_description || KNOWN_FIELDS.contains(&key) || COMMAND_FIELDS.contains(&key))
        {
            fields.push((key.to_owned(), vec![value.trim().to_owned()]));
            continue;
        }
        if let Some((_, lines)) = fields.last_mut() {
            lines.push(line.trim().to_owned());
        }
    }
    fields
        .into_iter()
        .map(|(key, lines)| {
            let value = if key == "description" {
                // Line breaks are kept (blank lines included), the ends trimmed.
                lines.join("\n").trim().to_owned()
            } else {
                lines.iter().filter(|l| !l.is_empty()).map(String::as_str).collect::<Vec<_>>().join(" ")
            };
            let value = if key != "description" && value.starts_with('[') && value.ends_with(']') {
                FieldValue::List(split_tool_list(&value[1..value.len() - 1]).iter().map(|item| unquote(item)).collect())
            } else {
                let value = unquote(&value);
                if value.is_empty() { FieldValue::Null } else { FieldValue::Text(value) }
            };
            (key, value)
        })
        .collect()
}

/// Splits a comma-separated tool list as Claude Code does: commas inside parentheses or quotes
/// belong to the item (`Agent(reviewer, tester)`, `Bash(git diff:*)`), empty items are dropped.
fn split_tool_list(list: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for c in list.chars() {
        match (c, quote) {
            ('"' | '\'', None) => quote = Some(c),
            (c, Some(open)) if c == open => quote = None,
            ('(', None) => depth += 1,
            (')', None) => depth = depth.saturating_sub(1),
            (',', None) if depth == 0 => {
                items.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    items.push(current);
    items.into_iter().map(|item| item.trim().to_owned()).filter(|item| !item.is_empty()).collect()
}

fn split_key(line: &str) -> Option<(&str, &str)> {
    let colon = line.find(':')?;
    let key = &line[..colon];
    let rest = &line[colon + 1..];
    let valid_key = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    (valid_key && (rest.is_empty() || rest.starts_with([' ', '\t']))).then_some((key, rest))
}

fn unquote(value: &str) -> String {
    let value = value.trim();
    for quote in ['"', '\''] {
        if value.len() >= 2 && value.starts_with(quote) && value.ends_with(quote) {
            return value[1..value.len() - 1].to_owned();
        }
    }
    value.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AgentFile, AgentFileError> {
        AgentFile::parse(text.as_bytes())
    }

    fn codes(file: &AgentFile) -> Vec<&'static str> {
        file.warnings.iter().map(|w| w.code.as_str()).collect()
    }

    #[test]
    fn strict_yaml_file() {
        let file = parse("---\nname: a\ndescription: \"Does: things\"\ntools: Read, Grep\nmodel: sonnet\n---\nbody\n")
            .unwrap();
        assert_eq!(file.name.as_str(), "a");
        assert_eq!(file.description.as_deref(), Some("Does: things"));
        assert_eq!(file.tools, Some(vec!["Read".to_owned(), "Grep".to_owned()]));
        assert!(file.strict_yaml);
        assert_eq!(codes(&file), Vec::<&str>::new());
        assert_eq!(
            &"---\nname: a\ndescription: \"Does: things\"\ntools: Read, Grep\nmodel: sonnet\n---\nbody\n"
                [file.body_offset..],
            "body\n"
        );
    }

    #[test]
    fn unquoted_colon_is_read_leniently() {
        let text = "---\nname: b\ndescription: Use it. Triggers on: 'x', 'y'\nmodel: opus\n---\nbody\n";
        let file = parse(text).unwrap();
        assert!(!file.strict_yaml);
        assert_eq!(file.description.as_deref(), Some("Use it. Triggers on: 'x', 'y'"));
        assert_eq!(file.model.as_deref(), Some("opus"));
        assert_eq!(codes(&file), ["not-strict-yaml"]);
    }

    #[test]
    fn lenient_reading_keeps_lists_and_whole_descriptions() {
        // The shape of Anthropic's own plugin agents: an unquoted description with examples whose
        // lines look like keys, then fields after it, and a flow-sequence tool list.
        let text = "---\nname: checker\ndescription: Use this agent when checking. Examples:\n\n<example>\nContext: the user wrote code\nuser: \"Check it\"\nassistant: \"I will use the checker agent.\"\n</example>\nmodel: inherit\ncolor: blue\ntools: [\"Read\", \"Grep\", \"Agent(a, b)\"]\n---\nbody\n";
        let file = parse(text).unwrap();
        assert!(!file.strict_yaml);
        assert_eq!(file.keys, ["name", "description", "model", "color", "tools"]);
        assert_eq!(
            file.description.as_deref(),
            Some(
                "Use this agent when checking. Examples:\n\n<example>\nContext: the user wrote code\nuser: \"Check it\"\nassistant: \"I will use the checker agent.\"\n</example>"
            )
        );
        assert_eq!(file.tools, Some(vec!["Read".to_owned(), "Grep".to_owned(), "Agent(a, b)".to_owned()]));
        assert_eq!(file.model.as_deref(), Some("inherit"));
        assert_eq!(file.summary().as_deref(), Some("Use this agent when checking. Examples:"));
        // Claude Code itself gives up on this one: the lint says what it then loads.
        assert_eq!(codes(&file), ["not-strict-yaml", "claude-code-drops-fields"]);
        let message = &file.warnings[1].message;
        assert!(message.contains("does not load this agent from .claude/agents/ at all"), "{message}");
        assert!(message.contains("write `description: |`"), "{message}");
        assert!(file.claude_code_cannot_load());

        // Outside a description, a column-0 key still opens a field.
        let file = parse("---\nname: x\ntools: Read\nextra: y: z\n---\nb\n").unwrap();
        assert_eq!(file.keys, ["name", "tools", "extra"]);
    }

    #[test]
    fn tool_lists_split_outside_parentheses() {
        let check = |tools: &str, expected: &[&str]| {
            let file = parse(&format!("---\nname: t\ndescription: d\ntools: {tools}\n---\nb\n")).unwrap();
            assert_eq!(file.tools.unwrap(), expected, "{tools}");
        };
        check("Read, Grep", &["Read", "Grep"]);
        check("Agent(reviewer, tester), Read", &["Agent(reviewer, tester)", "Read"]);
        check("Bash(git diff:*), Read,", &["Bash(git diff:*)", "Read"]);
        check("[Read, Grep]", &["Read", "Grep"]);
        check("\"Read, Grep\"", &["Read", "Grep"]);
    }

    #[test]
    fn current_claude_code_fields_are_known() {
        let file = parse("---\nname: f\ndescription: d\neffort: high\ninitialPrompt: go\nmaxTurns: 5\nmemory: project\nbackground: true\nisolation: worktree\npermissionMode: plan\n---\nb\n").unwrap();
        assert_eq!(codes(&file), Vec::<&str>::new());
        let file =
            parse("---\nname: f\ndescription: d\nmaxTurns: lots\nmemory: global\npermissionMode: yolo\n---\nb\n")
                .unwrap();
        assert_eq!(codes(&file), ["invalid-field-value"; 3]);
        assert!(
            file.warnings[0].message.contains("`permissionMode: yolo` is not one of default, acceptEdits"),
            "{:?}",
            file.warnings
        );
    }

    #[test]
    fn short_versions_are_completed_with_a_note() {
        let check = |version: &str, expected: &str, completed: bool| {
            let file = parse(&format!("---\nname: v\ndescription: d\nversion: {version}\n---\nb\n")).unwrap();
            let (parsed, was_completed) = file.semver().unwrap().unwrap();
            assert_eq!((parsed.to_string().as_str(), was_completed), (expected, completed), "{version}");
            assert_eq!(codes(&file).contains(&"invalid-version"), completed, "{version}");
        };
        check("1.0", "1.0.0", true);
        check("1.10", "1.10.0", true);
        check("2", "2.0.0", true);
        check("\"1.0\"", "1.0.0", true);
        check("1.2.3", "1.2.3", false);
        let file = parse("---\nname: v\ndescription: d\nversion: one\n---\nb\n").unwrap();
        assert!(file.semver().unwrap().is_err());
    }

    #[test]
    fn crlf_and_bom_are_accepted_and_reported() {
        let file = parse("\u{FEFF}---\r\nname: c\r\ndescription: d\r\n---\r\nbody\r\n").unwrap();
        assert_eq!(file.name.as_str(), "c");
        assert_eq!(codes(&file), ["crlf-line-endings", "byte-order-mark"]);
    }

    #[test]
    fn lint_findings() {
        let file =
            parse("---\nname: d\nmodel: gpt-9\ncolor: mauve\nversion: one\nextra: 1\n---\n\u{202E}hi\u{FFFD}").unwrap();
        assert_eq!(
            codes(&file),
            [
                "missing-description",
                "unknown-model",
                "unknown-color",
                "invalid-version",
                "unknown-field",
                "no-trailing-newline",
                "hidden-unicode",
                "replacement-character"
            ]
        );
        let mut file = parse("---\nname: e\ndescription: x\n---\n").unwrap();
        file.lint_file_stem("other");
        assert_eq!(codes(&file), ["empty-body", "name-differs-from-file"]);
    }

    fn check_error(text: &str, fragment: &str) {
        let error = parse(text).expect_err(text).to_string();
        assert!(error.contains(fragment), "{text:?}: {error:?} lacks {fragment:?}");
    }

    #[test]
    fn errors() {
        check_error("no front matter\n", "does not start");
        check_error("---\nname: a\nbody\n", "not closed");
        check_error("---\ndescription: x\n---\n", "no `name`");
        check_error("---\n---\n", "no `name`");
        check_error("---\nname:\n---\n", "no `name`");
        check_error("---\nname: [a, b]\n---\n", "not a plain string");
        check_error("---\nname: ../x\n---\n", "path separator");
        check_error("---\n- a\n- b\n---\n", "not a mapping");
        check_error("---\njust some text\n---\n", "not a mapping");
        check_error(
            &format!("---\nname: a\ndescription: {}\n---\n", "x".repeat(MAX_FRONT_MATTER_LEN)),
            "over the limit",
        );
        check_error(&format!("---\nname: a\n{}", "x: y\n".repeat(MAX_FRONT_MATTER_LEN)), "over the limit");
        let error = AgentFile::parse(b"---\nname: a\xff\n---\n").unwrap_err();
        assert_eq!(error, AgentFileError::NotUtf8 { offset: 11 });
        let huge = vec![b'a'; MAX_AGENT_FILE_LEN + 1];
        assert_eq!(AgentFile::parse(&huge).unwrap_err(), AgentFileError::TooLarge { len: MAX_AGENT_FILE_LEN + 1 });
    }

    #[test]
    fn alias_bomb_is_refused_quickly() {
        let mut yaml = String::from("---\nname: bomb\na0: [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..12 {
            let previous = format!("*a{}", level - 1);
            yaml.push_str(&format!("a{level}: &a{level} [{}]\n", [previous.as_str(); 10].join(", ")));
        }
        let yaml = yaml.replacen("a0: [", "a0: &a0 [", 1) + "---\nbody\n";
        check_error(&yaml, "aliases");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let yaml = format!("---\nname: deep\nx: {}{}\n---\n", "[".repeat(10_000), "]".repeat(10_000));
        check_error(&yaml, "nested");
    }

    #[test]
    fn summary_is_one_bounded_line() {
        let file = parse("---\nname: a\ndescription: first line\\nsecond\n---\nb\n").unwrap();
        assert_eq!(file.summary().as_deref(), Some("first line"));
        let long = format!("---\nname: a\ndescription: \"{}\"\n---\nb\n", "word ".repeat(200));
        let summary = parse(&long).unwrap().summary().unwrap();
        assert_eq!(summary.chars().count(), MAX_INDEX_DESCRIPTION_CHARS);
        assert!(summary.ends_with('\u{2026}'));
    }
}
