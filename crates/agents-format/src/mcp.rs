//! MCP servers: the `[mcp.servers.NAME]` tables of `agents.toml` (a team's shared servers) and
//! the entry each tool's own configuration file gets for one. Pure: the workspace writes the
//! entries ([`McpServer::entry_for`] says which file, which key, which value).
//!
//! The manifest arrives by `git pull`, so everything here is hostile until parsed: names are
//! checked, sizes bounded, control characters refused. A value is never resolved: `${VAR}`
//! stays a reference, translated to each tool's own syntax, so no secret is ever written.
//!
//! Each tool's file and syntax, from its documentation (checked 2026-12):
//! - Claude Code: `.mcp.json`, `mcpServers`; `${VAR}` and `${VAR:-default}` are expanded in
//!   `command`, `args`, `env`, `url` and `headers` (code.claude.com/docs/en/mcp, "Environment
//!   variable expansion in .mcp.json"). Copilot's portable format reads the same file.
//! - Cursor: `.cursor/mcp.json`, `mcpServers`; `${env:NAME}` in the same fields (cursor.com/docs/mcp).
//! - VS Code / Copilot in the editor: `.vscode/mcp.json`, `servers`, each with `type` (`stdio`,
//!   `http`, `sse`); `${env:NAME}` (code.visualstudio.com/docs/copilot/reference/mcp-configuration).
//! - OpenCode: `opencode.json`, `mcp`, `{ "type": "local", "command": [argv…], "environment" }`
//!   or `{ "type": "remote", "url", "headers" }`; `{env:NAME}` substitution in the config file
//!   (opencode.ai/docs/mcp-servers, opencode.ai/docs/config).
//! - Codex: `.codex/config.toml`, `[mcp_servers.NAME]` with `command`, `args`, `env`; it expands
//!   nothing, but forwards variables by name (`env_vars = ["NAME"]`); remote servers take `url`,
//!   `http_headers`, `env_http_headers = { Header = "VAR" }` and `bearer_token_env_var`
//!   (developers.openai.com/codex/mcp, codex-rs/config/src/mcp_types.rs).
//! - Gemini CLI: `.gemini/settings.json`, `mcpServers`; `url` is SSE and `httpUrl` streamable
//!   HTTP; `$VAR` and `${VAR}` are expanded in settings values (geminicli.com/docs/tools/mcp-server).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::targets::Target;

/// The most servers one manifest (or one package) declares.
pub const MAX_MCP_SERVERS: usize = 128;
/// The most arguments, environment variables or headers one server has.
pub const MAX_MCP_ITEMS: usize = 256;
/// The longest string in a server's declaration.
pub const MAX_MCP_STRING_LEN: usize = 4096;

/// A server's name: 1 to 64 characters from `A-Z a-z 0-9 - _ .`, starting with a letter or
/// digit, so it is a plain key in every tool's file and safe in a terminal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct McpServerName(String);

impl McpServerName {
    pub fn new(name: &str) -> Result<McpServerName, String> {
        let valid = !name.is_empty()
            && name.len() <= 64
            && name.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !valid {
            return Err("MCP server names use 1 to 64 characters from A-Z, a-z, 0-9, `-`, `_` and `.`, \
                        starting with a letter or digit"
                .to_owned());
        }
        Ok(McpServerName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for McpServerName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a remote server is spoken to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteKind {
    /// Streamable HTTP (the default).
    Http,
    Sse,
}

/// One MCP server, as declared. Strings may hold `${VAR}` references, kept as references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum McpServer {
    /// A local program the tool starts: code that runs on the user's machine.
    Stdio { command: String, args: Vec<String>, env: BTreeMap<String, String> },
    /// A server reached over the network.
    Remote { url: String, kind: RemoteKind, headers: BTreeMap<String, String> },
}

/// `[mcp.servers.NAME]` as written; checked by [`McpServer::from_raw`].
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct RawMcpServer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

/// A piece of a declared string: literal text or a `${VAR}` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Var(&'a str),
}

fn is_variable_name(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Splits `text` at its `${VAR}` references. A `$` not starting one is an error: every tool
/// reads `$` differently, so a literal one cannot be carried faithfully.
fn pieces(text: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('$') {
        if start > 0 {
            out.push(Piece::Text(&rest[..start]));
        }
        let after = &rest[start..];
        let end = after.find('}').filter(|_| after.starts_with("${"));
        let Some(end) = end.filter(|end| is_variable_name(&after[2..*end])) else {
            return Err(format!(
                "`{}`: a `$` must start a `${{VAR}}` reference (letters, digits, `_`)",
                text.escape_debug()
            ));
        };
        out.push(Piece::Var(&after[2..end]));
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

fn check_string(what: &str, text: &str) -> Result<(), String> {
    if text.len() > MAX_MCP_STRING_LEN {
        return Err(format!("{what} is longer than {MAX_MCP_STRING_LEN} bytes"));
    }
    if text.chars().any(char::is_control) {
        return Err(format!("{what} holds a control character"));
    }
    pieces(text).map(|_| ()).map_err(|e| format!("{what}: {e}"))
}

impl McpServer {
    /// Checks a declaration: exactly one of `command` and `url`, bounded, no control characters,
    /// variable names as the shell spells them.
    pub fn from_raw(raw: &RawMcpServer) -> Result<McpServer, String> {
        let count = raw.args.len().max(raw.env.len()).max(raw.headers.len());
        if count > MAX_MCP_ITEMS {
            return Err(format!("more than {MAX_MCP_ITEMS} arguments, variables or headers"));
        }
        for (key, value) in raw.env.iter().chain(&raw.headers) {
            check_string("a key", key)?;
            check_string(&format!("`{}`", key.escape_debug()), value)?;
        }
        if let Some(key) = raw.env.keys().find(|key| !is_variable_name(key)) {
            return Err(format!("`env` key `{}` is not a variable name", key.escape_debug()));
        }
        let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        if let Some(key) = raw.headers.keys().find(|key| key.is_empty() || !key.bytes().all(token)) {
            return Err(format!("header name `{}` is not an HTTP token", key.escape_debug()));
        }
        for arg in &raw.args {
            check_string("an argument", arg)?;
        }
        match (&raw.command, &raw.url) {
            (Some(command), None) => {
                check_string("`command`", command)?;
                if command.is_empty() || !raw.headers.is_empty() || raw.kind.as_deref().is_some_and(|k| k != "stdio") {
                    return Err(
                        "a `command` server has a non-empty command and no `headers` or remote `type`".to_owned()
                    );
                }
                Ok(McpServer::Stdio { command: command.clone(), args: raw.args.clone(), env: raw.env.clone() })
            }
            (None, Some(url)) => {
                check_string("`url`", url)?;
                if !(url.starts_with("https://") || url.starts_with("http://"))
                    || !raw.args.is_empty()
                    || !raw.env.is_empty()
                {
                    return Err("a `url` server has an http(s) URL and no `args` or `env`".to_owned());
                }
                let kind = match raw.kind.as_deref() {
                    None | Some("http") => RemoteKind::Http,
                    Some("sse") => RemoteKind::Sse,
                    Some(other) => return Err(format!("unknown `type` `{}` (http or sse)", other.escape_debug())),
                };
                Ok(McpServer::Remote { url: url.clone(), kind, headers: raw.headers.clone() })
            }
            _ => Err("a server has exactly one of `command` (a local program) and `url` (a remote server)".to_owned()),
        }
    }

    /// The exact command lines this server runs on the user's machine (`None` for a remote
    /// server): the environment it sets, one `NAME=value` a line, then the command and its
    /// arguments, each quoted as a POSIX shell would need. What consent is given for.
    pub fn command_lines(&self) -> Option<Vec<String>> {
        let McpServer::Stdio { command, args, env } = self else { return None };
        let mut lines: Vec<String> = env.iter().map(|(k, v)| format!("{k}={}", shell_quote(v))).collect();
        let argv: Vec<String> = std::iter::once(command).chain(args).map(|a| shell_quote(a)).collect();
        lines.push(argv.join(" "));
        Some(lines)
    }
}

/// `text` as one POSIX shell word (`'…'` unless it is plain).
pub fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./-_${}".contains(&b));
    if plain { text.to_owned() } else { format!("'{}'", text.replace('\'', "'\\''")) }
}

/// Where and how a tool keeps its MCP servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigFormat {
    /// JSON, comments and trailing commas tolerated when read (JSONC).
    Json,
    Toml,
}

/// The entry one server gets in one tool's file.
#[derive(Debug, Clone, PartialEq)]
pub struct McpEntry {
    /// The file, relative to the project root (or the home, in user scope).
    pub file: &'static str,
    pub format: ConfigFormat,
    /// The key path, e.g. `["mcpServers", "github"]`.
    pub key: Vec<String>,
    pub value: Value,
    /// What the tool cannot express (named for the user, as conversions do).
    pub unmapped: Vec<String>,
}

/// Rewrites `text`'s references with `var` (`None`: the tool cannot expand references).
fn translate(text: &str, var: Option<fn(&str) -> String>) -> Result<String, String> {
    let mut out = String::new();
    for piece in pieces(text)? {
        match (piece, var) {
            (Piece::Text(t), _) => out.push_str(t),
            (Piece::Var(name), Some(var)) => out.push_str(&var(name)),
            (Piece::Var(name), None) => return Err(format!("cannot expand `${{{name}}}` there")),
        }
    }
    Ok(out)
}

fn map_all(map: &BTreeMap<String, String>, var: fn(&str) -> String) -> Result<Value, String> {
    let mut out = serde_json::Map::new();
    for (key, value) in map {
        out.insert(key.clone(), Value::String(translate(value, Some(var))?));
    }
    Ok(Value::Object(out))
}

fn list_all(list: &[String], var: fn(&str) -> String) -> Result<Vec<Value>, String> {
    list.iter().map(|a| translate(a, Some(var)).map(Value::String)).collect()
}

impl McpServer {
    /// The entry for `name` in `target`'s project file, or why this server cannot be written
    /// for that tool (said to the user; the other tools still get theirs).
    pub fn entry_for(&self, target: Target, name: &McpServerName) -> Result<McpEntry, String> {
        let dollar: fn(&str) -> String = |v| format!("${{{v}}}");
        let env_colon: fn(&str) -> String = |v| format!("${{env:{v}}}");
        let (file, format, top, value) = match target {
            Target::ClaudeCode => (".mcp.json", ConfigFormat::Json, "mcpServers", self.standard(dollar, false)?),
            Target::Cursor => (".cursor/mcp.json", ConfigFormat::Json, "mcpServers", self.standard(env_colon, false)?),
            Target::Copilot => (".vscode/mcp.json", ConfigFormat::Json, "servers", self.standard(env_colon, true)?),
            Target::Gemini => (".gemini/settings.json", ConfigFormat::Json, "mcpServers", self.gemini()?),
            Target::OpenCode => ("opencode.json", ConfigFormat::Json, "mcp", self.opencode()?),
            Target::Codex => (".codex/config.toml", ConfigFormat::Toml, "mcp_servers", self.codex()?),
        };
        Ok(McpEntry { file, format, key: vec![top.to_owned(), name.as_str().to_owned()], value, unmapped: Vec::new() })
    }

    /// Claude Code's and Cursor's shape (VS Code's adds `type` always).
    fn standard(&self, var: fn(&str) -> String, typed: bool) -> Result<Value, String> {
        let mut out = serde_json::Map::new();
        match self {
            McpServer::Stdio { command, args, env } => {
                if typed {
                    out.insert("type".into(), json!("stdio"));
                }
                out.insert("command".into(), Value::String(translate(command, Some(var))?));
                if !args.is_empty() {
                    out.insert("args".into(), Value::Array(list_all(args, var)?));
                }
                if !env.is_empty() {
                    out.insert("env".into(), map_all(env, var)?);
                }
            }
            McpServer::Remote { url, kind, headers } => {
                out.insert("type".into(), json!(if *kind == RemoteKind::Sse { "sse" } else { "http" }));
                out.insert("url".into(), Value::String(translate(url, Some(var))?));
                if !headers.is_empty() {
                    out.insert("headers".into(), map_all(headers, var)?);
                }
            }
        }
        Ok(Value::Object(out))
    }

    fn gemini(&self) -> Result<Value, String> {
        let var: fn(&str) -> String = |v| format!("${{{v}}}");
        match self {
            McpServer::Stdio { .. } => self.standard(var, false),
            McpServer::Remote { url, kind, headers } => {
                let mut out = serde_json::Map::new();
                let key = if *kind == RemoteKind::Sse { "url" } else { "httpUrl" };
                out.insert(key.into(), Value::String(translate(url, Some(var))?));
                if !headers.is_empty() {
                    out.insert("headers".into(), map_all(headers, var)?);
                }
                Ok(Value::Object(out))
            }
        }
    }

    fn opencode(&self) -> Result<Value, String> {
        let var: fn(&str) -> String = |v| format!("{{env:{v}}}");
        match self {
            McpServer::Stdio { command, args, env } => {
                let mut argv = vec![Value::String(translate(command, Some(var))?)];
                argv.extend(list_all(args, var)?);
                let mut out = serde_json::Map::new();
                out.insert("type".into(), json!("local"));
                out.insert("command".into(), Value::Array(argv));
                if !env.is_empty() {
                    out.insert("environment".into(), map_all(env, var)?);
                }
                Ok(Value::Object(out))
            }
            McpServer::Remote { url, headers, .. } => {
                let mut out = serde_json::Map::new();
                out.insert("type".into(), json!("remote"));
                out.insert("url".into(), Value::String(translate(url, Some(var))?));
                if !headers.is_empty() {
                    out.insert("headers".into(), map_all(headers, var)?);
                }
                Ok(Value::Object(out))
            }
        }
    }

    /// Codex expands nothing: a variable is forwarded by its own name (`env_vars`), a header is
    /// read from a variable (`env_http_headers`, `bearer_token_env_var`); anything else that
    /// holds a reference cannot be written for Codex.
    fn codex(&self) -> Result<Value, String> {
        let whole = |text: &str| match pieces(text).ok()?.as_slice() {
            [Piece::Var(name)] => Some((*name).to_owned()),
            _ => None,
        };
        let literal = |what: &str, text: &str| translate(text, None).map_err(|e| format!("Codex {e} ({what})"));
        let mut out = serde_json::Map::new();
        match self {
            McpServer::Stdio { command, args, env } => {
                out.insert("command".into(), Value::String(literal("command", command)?));
                let args: Result<Vec<Value>, String> =
                    args.iter().map(|a| literal("args", a).map(Value::String)).collect();
                let args = args?;
                if !args.is_empty() {
                    out.insert("args".into(), Value::Array(args));
                }
                let (mut fixed, mut forwarded) = (serde_json::Map::new(), Vec::new());
                for (key, value) in env {
                    match whole(value) {
                        Some(name) if name == *key => forwarded.push(Value::String(name)),
                        Some(name) => {
                            return Err(format!(
                                "Codex forwards a variable only under its own name (`{key}` = `${{{name}}}`)"
                            ));
                        }
                        None => {
                            fixed.insert(key.clone(), Value::String(literal("env", value)?));
                        }
                    }
                }
                if !fixed.is_empty() {
                    out.insert("env".into(), Value::Object(fixed));
                }
                if !forwarded.is_empty() {
                    out.insert("env_vars".into(), Value::Array(forwarded));
                }
            }
            McpServer::Remote { url, headers, .. } => {
                out.insert("url".into(), Value::String(literal("url", url)?));
                let (mut fixed, mut from_env) = (serde_json::Map::new(), serde_json::Map::new());
                for (key, value) in headers {
                    let bearer = value.strip_prefix("Bearer ").and_then(whole);
                    if key.eq_ignore_ascii_case("authorization")
                        && let Some(name) = bearer
                    {
                        out.insert("bearer_token_env_var".into(), Value::String(name));
                    } else if let Some(name) = whole(value) {
                        from_env.insert(key.clone(), Value::String(name));
                    } else {
                        fixed.insert(key.clone(), Value::String(literal("headers", value)?));
                    }
                }
                if !fixed.is_empty() {
                    out.insert("http_headers".into(), Value::Object(fixed));
                }
                if !from_env.is_empty() {
                    out.insert("env_http_headers".into(), Value::Object(from_env));
                }
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(toml_text: &str) -> Result<McpServer, String> {
        let raw: RawMcpServer = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        McpServer::from_raw(&raw)
    }

    fn check(target: Target, declaration: &str, expected: Result<Value, &str>) {
        let name = McpServerName::new("github").expect("valid");
        let entry = server(declaration).expect("valid declaration").entry_for(target, &name);
        match expected {
            Ok(value) => assert_eq!(entry.map(|e| e.value), Ok(value), "{target:?}"),
            Err(part) => assert!(entry.as_ref().is_err_and(|e| e.contains(part)), "{target:?}: {entry:?}"),
        }
    }

    const STDIO: &str = r#"command = "npx"
args = ["-y", "server-github", "--token=${GITHUB_TOKEN}"]
env = { GITHUB_TOKEN = "${GITHUB_TOKEN}", MODE = "ro" }"#;

    #[test]
    fn every_tool_gets_its_own_syntax() {
        check(
            Target::ClaudeCode,
            STDIO,
            Ok(json!({"command": "npx", "args": ["-y", "server-github", "--token=${GITHUB_TOKEN}"],
                "env": {"GITHUB_TOKEN": "${GITHUB_TOKEN}", "MODE": "ro"}})),
        );
        check(
            Target::Cursor,
            STDIO,
            Ok(json!({"command": "npx", "args": ["-y", "server-github", "--token=${env:GITHUB_TOKEN}"],
                "env": {"GITHUB_TOKEN": "${env:GITHUB_TOKEN}", "MODE": "ro"}})),
        );
        check(
            Target::Copilot,
            STDIO,
            Ok(
                json!({"type": "stdio", "command": "npx", "args": ["-y", "server-github", "--token=${env:GITHUB_TOKEN}"],
                "env": {"GITHUB_TOKEN": "${env:GITHUB_TOKEN}", "MODE": "ro"}}),
            ),
        );
        check(
            Target::OpenCode,
            STDIO,
            Ok(json!({"type": "local", "command": ["npx", "-y", "server-github", "--token={env:GITHUB_TOKEN}"],
                "environment": {"GITHUB_TOKEN": "{env:GITHUB_TOKEN}", "MODE": "ro"}})),
        );
        check(Target::Codex, STDIO, Err("Codex cannot expand `${GITHUB_TOKEN}` there (args)"));
        check(
            Target::Codex,
            "command = \"npx\"\nenv = { GITHUB_TOKEN = \"${GITHUB_TOKEN}\", MODE = \"ro\" }",
            Ok(json!({"command": "npx", "env": {"MODE": "ro"}, "env_vars": ["GITHUB_TOKEN"]})),
        );
        check(Target::Codex, "command = \"x\"\nenv = { A = \"${B}\" }", Err("own name"));
    }

    #[test]
    fn remote_servers() {
        let remote = "url = \"https://mcp.example.com/mcp\"\nheaders = { Authorization = \"Bearer ${TOKEN}\", X-Team = \"${TEAM}\" }";
        check(
            Target::Gemini,
            remote,
            Ok(json!({"httpUrl": "https://mcp.example.com/mcp",
                "headers": {"Authorization": "Bearer ${TOKEN}", "X-Team": "${TEAM}"}})),
        );
        check(
            Target::Codex,
            remote,
            Ok(json!({"url": "https://mcp.example.com/mcp", "bearer_token_env_var": "TOKEN",
                "env_http_headers": {"X-Team": "TEAM"}})),
        );
        check(
            Target::ClaudeCode,
            remote,
            Ok(json!({"type": "http", "url": "https://mcp.example.com/mcp",
                "headers": {"Authorization": "Bearer ${TOKEN}", "X-Team": "${TEAM}"}})),
        );
    }

    #[test]
    fn hostile_declarations_are_refused() {
        for bad in [
            "command = \"a\\u001b[31m\"",
            "command = \"npx\"\nurl = \"https://x\"",
            "args = [\"x\"]",
            "command = \"npx\"\nargs = [\"$HOME\"]",
            "command = \"npx\"\nenv = { \"A B\" = \"x\" }",
            "url = \"file:///etc/passwd\"",
            "url = \"https://x\"\nheaders = { \"a:b\" = \"x\" }",
            "command = \"\"",
        ] {
            assert!(server(bad).is_err(), "{bad}");
        }
        assert!(McpServerName::new("-rm").is_err());
        assert!(McpServerName::new("a/b").is_err());
        assert!(McpServerName::new("github.enterprise_2").is_ok());
    }

    #[test]
    fn command_lines_are_quoted() {
        let lines = server(STDIO).expect("valid").command_lines();
        assert_eq!(
            lines,
            Some(vec![
                "GITHUB_TOKEN=${GITHUB_TOKEN}".to_owned(),
                "MODE=ro".to_owned(),
                "npx -y server-github --token=${GITHUB_TOKEN}".to_owned()
            ])
        );
        assert_eq!(shell_quote("it's here"), "'it'\\''s here'");
    }
}
