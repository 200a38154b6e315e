//! Format-preserving edits of one key path in a configuration file the user also edits: JSON
//! (read as JSONC: comments and trailing commas tolerated) through `jsonc-parser`'s CST, TOML
//! through `toml_edit`. Every other entry, the key order, whitespace and comments stay as they
//! were; removing what an earlier `set` added gives back the bytes from before. Pure: text in,
//! text out.

use agents_format::ConfigFormat;
use jsonc_parser::cst::{CstInputValue, CstObject, CstRootNode};
use serde_json::Value;

/// Why a file could not be edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EditError {
    /// The file does not parse: line and column (1-based) and the parser's message.
    Parse { line: usize, column: usize, message: String },
    /// A key on the way holds something that is not a table/object.
    NotATable { key: String },
}

fn json_options() -> jsonc_parser::ParseOptions {
    jsonc_parser::ParseOptions::default()
}

/// Checks that `text` parses, and (for JSON) that it is an object.
pub(crate) fn check(text: &str, format: ConfigFormat) -> Result<(), EditError> {
    match format {
        ConfigFormat::Json => {
            let root = parse_json(text)?;
            if root.value().is_some() && root.object_value().is_none() {
                return Err(EditError::NotATable { key: "(the whole file)".to_owned() });
            }
            Ok(())
        }
        ConfigFormat::Toml => parse_toml(text).map(|_| ()),
    }
}

fn parse_json(text: &str) -> Result<CstRootNode, EditError> {
    CstRootNode::parse(text, &json_options()).map_err(|e| EditError::Parse {
        line: e.line_display(),
        column: e.column_display(),
        message: e.kind().to_string(),
    })
}

fn parse_toml(text: &str) -> Result<toml_edit::DocumentMut, EditError> {
    text.parse::<toml_edit::DocumentMut>().map_err(|e| {
        let (line, column) = e.span().map(|span| line_column(text, span.start)).unwrap_or((1, 1));
        EditError::Parse { line, column, message: e.message().to_owned() }
    })
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let column = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
    (line, column)
}

/// The value at `key`, if any.
pub(crate) fn get(text: &str, format: ConfigFormat, key: &[String]) -> Result<Option<Value>, EditError> {
    match format {
        ConfigFormat::Json => {
            let root = parse_json(text)?;
            let Some(object) = root.object_value() else { return Ok(None) };
            let Some((last, parents)) = key.split_last() else { return Ok(None) };
            let mut object = object;
            for part in parents {
                match object.get(part).map(|p| p.object_value()) {
                    Some(Some(inner)) => object = inner,
                    _ => return Ok(None),
                }
            }
            Ok(object.get(last).and_then(|p| p.value()).and_then(|v| v.to_serde_value()))
        }
        ConfigFormat::Toml => {
            let document = parse_toml(text)?;
            let mut item = document.as_item();
            for part in key {
                match item.get(part.as_str()) {
                    Some(inner) => item = inner,
                    None => return Ok(None),
                }
            }
            Ok(toml_to_json(item))
        }
    }
}

/// `text` with `value` at `key` (added at the end of its table, or replacing what is there);
/// `None` for `text` creates the file. Returns the new text, how many tables on the way it
/// created (counted from the innermost), so [`remove`] can take them away again, and, when the
/// key went into a JSON object the user wrote on one line (which adding makes multi-line), that
/// object's text before, so [`remove`] can give it back.
pub(crate) fn set(
    text: Option<&str>,
    format: ConfigFormat,
    key: &[String],
    value: &Value,
) -> Result<(String, usize, Option<String>), EditError> {
    let Some((last, parents)) = key.split_last() else { return Err(EditError::NotATable { key: String::new() }) };
    match (format, text) {
        (ConfigFormat::Json, None) => {
            let mut whole = value.clone();
            for part in key.iter().rev() {
                whole = Value::Object(std::iter::once((part.clone(), whole)).collect());
            }
            let pretty = serde_json::to_string_pretty(&whole).unwrap_or_else(|_| "{}".to_owned());
            Ok((format!("{pretty}\n"), parents.len(), None))
        }
        (ConfigFormat::Json, Some(text)) => {
            let root = parse_json(text)?;
            let mut object = root.object_value_or_set();
            let mut created = 0;
            for part in parents {
                object = match object.get(part) {
                    Some(prop) => prop.object_value().ok_or_else(|| EditError::NotATable { key: part.clone() })?,
                    None => {
                        created += 1;
                        object.append(part, CstInputValue::Object(Vec::new())).object_value_or_set()
                    }
                };
            }
            let mut before = None;
            match object.get(last) {
                Some(prop) => prop.set_value(json_input(value)),
                None => {
                    let one_line = object.to_string();
                    if created == 0 && !one_line.contains('\n') {
                        before = Some(one_line);
                    }
                    object.append(last, json_input(value));
                }
            }
            Ok((root.to_string(), created, before))
        }
        (ConfigFormat::Toml, text) => set_toml(text.unwrap_or(""), parents, last, value).map(|(t, c)| (t, c, None)),
    }
}

fn set_toml(text: &str, parents: &[String], last: &str, value: &Value) -> Result<(String, usize), EditError> {
    let mut document = parse_toml(text)?;
    let mut table: &mut toml_edit::Table = document.as_table_mut();
    let mut created = 0;
    for part in parents {
        if !table.contains_key(part) {
            created += 1;
            let mut inner = toml_edit::Table::new();
            inner.set_implicit(true);
            table.insert(part, toml_edit::Item::Table(inner));
        }
        table = table
            .get_mut(part)
            .and_then(toml_edit::Item::as_table_mut)
            .ok_or_else(|| EditError::NotATable { key: part.clone() })?;
    }
    table.insert(last, json_to_toml_item(value));
    Ok((document.to_string(), created))
}

/// `text` without `key`; then the `prune` innermost tables on the way are removed too when
/// that left them empty (they were created by [`set`]). When `object_before` (the one-line text
/// [`set`] found the key's object in) holds exactly what the object holds now, the object is
/// written back as that text: the user's file comes back byte for byte.
pub(crate) fn remove(
    text: &str,
    format: ConfigFormat,
    key: &[String],
    prune: usize,
    object_before: Option<&str>,
) -> Result<String, EditError> {
    let Some((last, parents)) = key.split_last() else { return Ok(text.to_owned()) };
    match format {
        ConfigFormat::Json => {
            let root = parse_json(text)?;
            let Some(top) = root.object_value() else { return Ok(text.to_owned()) };
            let mut chain: Vec<CstObject> = vec![top];
            for part in parents {
                let Some(inner) = chain.last().and_then(|o| o.get(part)).and_then(|p| p.object_value()) else {
                    return Ok(text.to_owned());
                };
                chain.push(inner);
            }
            if let Some(prop) = chain.last().and_then(|o| o.get(last)) {
                prop.remove();
            }
            if let (Some(before), Some(object)) = (object_before, chain.last()) {
                let after = object.to_string();
                let whole = root.to_string();
                let same = |a: &str, b: &str| {
                    let parse = |t: &str| parse_json(t).ok().and_then(|r| r.value()).and_then(|v| v.to_serde_value());
                    parse(a).is_some() && parse(a) == parse(b)
                };
                if after != before && same(&after, before) && whole.matches(after.as_str()).count() == 1 {
                    return Ok(whole.replacen(after.as_str(), before, 1));
                }
            }
            for depth in (0..parents.len()).rev().take(prune) {
                let empty = chain[depth + 1].properties().is_empty();
                match chain[depth].get(&parents[depth]) {
                    Some(prop) if empty => prop.remove(),
                    _ => break,
                }
            }
            Ok(root.to_string())
        }
        ConfigFormat::Toml => {
            let mut document = parse_toml(text)?;
            remove_toml(document.as_table_mut(), parents, last, prune);
            Ok(document.to_string())
        }
    }
}

fn remove_toml(table: &mut toml_edit::Table, parents: &[String], last: &str, prune: usize) {
    let Some((first, rest)) = parents.split_first() else {
        table.remove(last);
        return;
    };
    let Some(inner) = table.get_mut(first).and_then(toml_edit::Item::as_table_mut) else { return };
    remove_toml(inner, rest, last, prune);
    if inner.is_empty() && prune > rest.len() {
        table.remove(first);
    }
}

/// Whether nothing is left in the document but whitespace (a comment is the user's).
pub(crate) fn is_empty(text: &str, format: ConfigFormat) -> bool {
    match format {
        ConfigFormat::Json => {
            let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            compact == "{}" || compact.is_empty()
        }
        ConfigFormat::Toml => text.trim().is_empty(),
    }
}

fn json_input(value: &Value) -> CstInputValue {
    match value {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(items) => CstInputValue::Array(items.iter().map(json_input).collect()),
        Value::Object(map) => CstInputValue::Object(map.iter().map(|(k, v)| (k.clone(), json_input(v))).collect()),
    }
}

fn json_to_toml_value(value: &Value) -> toml_edit::Value {
    match value {
        Value::Null => toml_edit::Value::from(""),
        Value::Bool(b) => toml_edit::Value::from(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => toml_edit::Value::from(i),
            None => toml_edit::Value::from(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => toml_edit::Value::from(s.as_str()),
        Value::Array(items) => toml_edit::Value::Array(items.iter().map(json_to_toml_value).collect()),
        Value::Object(map) => {
            let mut inline = toml_edit::InlineTable::new();
            for (k, v) in map {
                inline.insert(k, json_to_toml_value(v));
            }
            toml_edit::Value::InlineTable(inline)
        }
    }
}

/// An object becomes a `[table]` of its own (its objects inline), anything else a value.
fn json_to_toml_item(value: &Value) -> toml_edit::Item {
    match value {
        Value::Object(map) => {
            let mut table = toml_edit::Table::new();
            for (k, v) in map {
                table.insert(k, toml_edit::Item::Value(json_to_toml_value(v)));
            }
            toml_edit::Item::Table(table)
        }
        other => toml_edit::Item::Value(json_to_toml_value(other)),
    }
}

fn toml_value_to_json(value: &toml_edit::Value) -> Value {
    match value {
        toml_edit::Value::String(s) => Value::String(s.value().clone()),
        toml_edit::Value::Integer(i) => Value::from(*i.value()),
        toml_edit::Value::Float(f) => serde_json::Number::from_f64(*f.value()).map_or(Value::Null, Value::Number),
        toml_edit::Value::Boolean(b) => Value::Bool(*b.value()),
        toml_edit::Value::Datetime(d) => Value::String(d.value().to_string()),
        toml_edit::Value::Array(items) => Value::Array(items.iter().map(toml_value_to_json).collect()),
        toml_edit::Value::InlineTable(table) => {
            Value::Object(table.iter().map(|(k, v)| (k.to_owned(), toml_value_to_json(v))).collect())
        }
    }
}

fn toml_to_json(item: &toml_edit::Item) -> Option<Value> {
    match item {
        toml_edit::Item::None => None,
        toml_edit::Item::Value(value) => Some(toml_value_to_json(value)),
        toml_edit::Item::Table(table) => {
            Some(Value::Object(table.iter().filter_map(|(k, v)| Some((k.to_owned(), toml_to_json(v)?))).collect()))
        }
        toml_edit::Item::ArrayOfTables(tables) => Some(Value::Array(
            tables
                .iter()
                .map(|t| Value::Object(t.iter().filter_map(|(k, v)| Some((k.to_owned(), toml_to_json(v)?))).collect()))
                .collect(),
        )),
    }
}

/// The canonical text of a value (object keys sorted, compact), which its sha256 is taken of.
pub(crate) fn canonical(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            Value::Object(map) => {
                let ordered: std::collections::BTreeMap<&String, Value> =
                    map.iter().map(|(k, v)| (k, sorted(v))).collect();
                Value::Object(ordered.into_iter().map(|(k, v)| (k.clone(), v)).collect())
            }
            other => other.clone(),
        }
    }
    serde_json::to_string(&sorted(value)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|p| (*p).to_owned()).collect()
    }

    /// Adding then removing gives back the exact bytes, and the value reads back as set.
    fn round_trip(format: ConfigFormat, before: &str, path: &[&str]) -> String {
        let value = json!({"command": "npx", "args": ["-y", "x"], "env": {"A": "${A}"}});
        let (added, created, one_line) = set(Some(before), format, &key(path), &value).expect("set");
        assert_eq!(get(&added, format, &key(path)).expect("parses"), Some(value.clone()), "{added}");
        let removed = remove(&added, format, &key(path), created, one_line.as_deref()).expect("remove");
        assert_eq!(removed, before, "after adding:\n{added}");
        added
    }

    #[test]
    fn json_edits_keep_everything_else() {
        let user = "{\n  // the user's comment\n  \"mcpServers\": {\n    \"mine\": { \"command\": \"my-server\" }\n  },\n  \"zz\": 1\n}\n";
        let added = round_trip(ConfigFormat::Json, user, &["mcpServers", "github"]);
        assert!(added.contains("// the user's comment") && added.contains("\"mine\": { \"command\": \"my-server\" }"));
        round_trip(ConfigFormat::Json, "{\n  \"theme\": \"dark\"\n}\n", &["mcpServers", "github"]);
        round_trip(ConfigFormat::Json, "{}\n", &["mcpServers", "github"]);
        round_trip(ConfigFormat::Json, "{\n\t\"a\": 1\n}", &["enabledPlugins", "x@agents"]);
        // A one-line object is made multi-line by the CST when a key is added; removing the key
        // gives the user's line back.
        let one_line = "{\n  \"enabledPlugins\": { \"mine@elsewhere\": true },\n  \"theme\": \"dark\"\n}\n";
        let added = round_trip(ConfigFormat::Json, one_line, &["enabledPlugins", "x@agents"]);
        assert!(added.contains("\"mine@elsewhere\": true,\n"), "{added}");
        round_trip(ConfigFormat::Json, "{ \"enabledPlugins\": {} }", &["enabledPlugins", "x@agents"]);
    }

    #[test]
    fn a_one_line_object_the_user_changed_since_is_left_multi_line() {
        let one_line = "{\"enabledPlugins\": {\"mine@elsewhere\": true}}";
        let path = key(&["enabledPlugins", "x@agents"]);
        let (added, created, before) = set(Some(one_line), ConfigFormat::Json, &path, &json!(true)).expect("set");
        assert_eq!(before.as_deref(), Some("{\"mine@elsewhere\": true}"));
        let edited = added.replace("\"mine@elsewhere\": true", "\"mine@elsewhere\": false");
        let removed = remove(&edited, ConfigFormat::Json, &path, created, before.as_deref()).expect("remove");
        assert!(removed.contains("false") && !removed.contains("x@agents"), "{removed}");
    }

    #[test]
    fn toml_edits_keep_everything_else() {
        let user = "# my codex config\nmodel = \"o3\"\n\n[mcp_servers.mine]\ncommand = \"my-server\" # mine\n";
        let added = round_trip(ConfigFormat::Toml, user, &["mcp_servers", "github"]);
        assert!(added.contains("[mcp_servers.github]"), "{added}");
        round_trip(ConfigFormat::Toml, "model = \"o3\"\n", &["mcp_servers", "github"]);
        round_trip(ConfigFormat::Toml, "", &["mcp_servers", "github"]);
    }

    #[test]
    fn a_new_file_holds_only_the_entry() {
        let (text, created, _) =
            set(None, ConfigFormat::Json, &key(&["mcpServers", "a"]), &json!({"url": "u"})).expect("set");
        assert_eq!(created, 1);
        let removed = remove(&text, ConfigFormat::Json, &key(&["mcpServers", "a"]), created, None).expect("remove");
        assert!(is_empty(&removed, ConfigFormat::Json), "{removed}");
    }

    #[test]
    fn bad_files_are_reported_with_a_position() {
        let error = check("{\n  \"a\": 1,,\n}", ConfigFormat::Json).expect_err("invalid");
        assert!(matches!(error, EditError::Parse { line: 2, .. }), "{error:?}");
        let error = check("a = 1\nb = \n", ConfigFormat::Toml).expect_err("invalid");
        assert!(matches!(error, EditError::Parse { line: 2, .. }), "{error:?}");
        assert!(check("[1, 2]", ConfigFormat::Json).is_err());
        let not_table = set(Some("{\"mcpServers\": 3}"), ConfigFormat::Json, &key(&["mcpServers", "a"]), &json!(1));
        assert!(matches!(not_table, Err(EditError::NotATable { .. })));
    }
}
