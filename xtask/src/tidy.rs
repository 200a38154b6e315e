//! Checks on the repository itself, run by `cargo test` and `cargo xtask tidy`: the built-in
//! registry is canonical and every checksum holds; every Rust file says what it is for; xtask
//! reaches the file system only through `fs_err` (so every error names its file); every crate
//! appears in ARCHITECTURE.md.

use std::path::Path;

use anyhow::Context as _;

use agents_format::{AgentName, IndexFile, Layout, RegistryConfig, Sha256};

use crate::builtin::index_files;

pub(crate) fn check(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut problems = check_registry(&root.join("registry"))?;
    problems.extend(check_sources(root)?);
    problems.extend(check_architecture(root)?);
    Ok(problems)
}

pub(crate) fn check_registry(registry: &Path) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    let config_text = fs_err::read_to_string(registry.join("config.json"))?;
    // Bodies are looked up where the config's format puts them (format 2 when it is unreadable,
    // which is reported).
    let layout = RegistryConfig::parse(&config_text).map_or(Layout::LATEST, |config| config.layout);
    match RegistryConfig::parse(&config_text) {
        Ok(config) if config.to_text() != config_text => {
            problems.push("registry/config.json is not canonical (run `cargo xtask registry fmt`)".to_owned())
        }
        Ok(config) if config.id.as_str() != agents_format::BUILTIN_REGISTRY_ID => {
            problems.push(format!("registry/config.json has id `{}`, expected `builtin`", config.id))
        }
        Ok(_) => {}
        Err(error) => problems.push(format!("registry/config.json: {error}")),
    }
    let mut referenced = std::collections::BTreeSet::new();
    for path in index_files(registry)? {
        let shown = path.strip_prefix(registry).unwrap_or(&path).display().to_string();
        let text = fs_err::read_to_string(&path)?;
        let index = IndexFile::parse(&text);
        for invalid in &index.invalid {
            problems.push(format!("registry/{shown}:{}: {}", invalid.line, invalid.message));
        }
        if index.to_text() != text {
            problems.push(format!("registry/{shown} is not canonical (run `cargo xtask registry fmt`)"));
        }
        let leaf = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        match AgentName::new(leaf) {
            Ok(name) if layout.index_path(&name) != shown.replace('\\', "/") => {
                problems.push(format!("registry/{shown} should be at {}", layout.index_path(&name)))
            }
            Ok(_) => {}
            Err(error) => problems.push(format!("registry/{shown}: {error}")),
        }
        for record in index.records() {
            if record.name.as_str() != leaf {
                problems.push(format!("registry/{shown}: record for `{}` in the wrong file", record.name));
            }
            let body = registry.join(layout.body_path(record.kind, &record.sha256));
            referenced.insert(body.clone());
            match fs_err::read(&body) {
                Ok(bytes) if Sha256::of(&bytes) != record.sha256 || bytes.len() as u64 != record.length => problems
                    .push(format!("{}@{}: body does not match its sha256 and length", record.name, record.version)),
                Ok(_) => {}
                Err(_) => {
                    problems.push(format!("{}@{}: body {} is missing", record.name, record.version, body.display()))
                }
            }
            if !agents_format::is_valid_utc(&record.published) {
                problems.push(format!("{}@{}: bad publish time `{}`", record.name, record.version, record.published));
            }
        }
    }
    for entry in walk(&registry.join("bodies"))? {
        if !referenced.contains(&entry) {
            problems.push(format!("{} is not referenced by any index record", entry.display()));
        }
    }
    Ok(problems)
}

fn walk(dir: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs_err::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.with_context(|| format!("listing {}", dir.display()))?.path();
            if path.is_dir() { stack.push(path) } else { files.push(path) }
        }
    }
    Ok(files)
}

fn check_sources(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    for top in ["crates", "xtask", "tests"] {
        for path in walk(&root.join(top))? {
            let is_rust = path.extension().is_some_and(|e| e == "rs");
            let in_target = path.components().any(|c| c.as_os_str() == "target");
            if !is_rust || in_target {
                continue;
            }
            let text = fs_err::read_to_string(&path)?;
            let shown = path.strip_prefix(root).unwrap_or(&path).display().to_string();
            if !text.starts_with("//!") {
                problems.push(format!("{shown} does not open with a `//!` line saying what it is for"));
            }
            if top == "xtask" {
                problems.extend(std_fs_uses(&shown, &text));
            }
        }
    }
    Ok(problems)
}

/// Lines of an xtask source that call `std::fs`, whose errors do not say which file failed.
fn std_fs_uses(shown: &str, text: &str) -> Vec<String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            let code = !line.trim_start().starts_with("//");
            code && (line.contains(concat!("std", "::fs::")) || line.contains(concat!("std", "::fs;")))
        })
        .map(|(number, _)| {
            format!("{shown}:{}: use `fs_err` instead of `std::fs` in xtask, so the error names the file", number + 1)
        })
        .collect()
}

fn check_architecture(root: &Path) -> anyhow::Result<Vec<String>> {
    let text = fs_err::read_to_string(root.join("ARCHITECTURE.md")).unwrap_or_default();
    let mut problems = Vec::new();
    for entry in fs_err::read_dir(root.join("crates"))? {
        let name = entry.context("listing crates/")?.file_name().to_string_lossy().into_owned();
        if !text.contains(&format!("`{name}`")) {
            problems.push(format!("ARCHITECTURE.md does not describe crate `{name}`"));
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_is_tidy() {
        let problems = check(&crate::root()).expect("tidy can read the repository");
        assert!(problems.is_empty(), "tidy problems:\n{}", problems.join("\n"));
    }

    #[test]
    fn tidy_catches_a_tampered_body_and_a_non_canonical_index() {
        let temp = tempfile_dir();
        copy_dir(&crate::root().join("registry"), &temp);
        assert_eq!(check_registry(&temp).unwrap(), Vec::<String>::new());
        let body = walk(&temp.join("bodies")).unwrap().remove(0);
        let mut bytes = fs_err::read(&body).unwrap();
        bytes.push(b'!');
        fs_err::write(&body, bytes).unwrap();
        let index = index_files(&temp).unwrap().remove(0);
        let text = fs_err::read_to_string(&index).unwrap();
        fs_err::write(&index, text.replace("\":", "\" :")).unwrap();
        let problems = check_registry(&temp).unwrap();
        assert!(problems.iter().any(|p| p.contains("does not match its sha256")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("not canonical")), "{problems:?}");
        fs_err::remove_dir_all(&temp).unwrap();
    }

    #[test]
    fn tidy_refuses_std_fs_in_xtask_but_not_in_comments() {
        let text = concat!("//! std", "::fs is fine here\nlet x = std", "::fs::read(p)?;\n");
        assert_eq!(
            std_fs_uses("xtask/src/x.rs", text),
            ["xtask/src/x.rs:2: use `fs_err` instead of `std::fs` in xtask, so the error names the file"]
        );
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-tidy-{}", std::process::id()));
        let _ = fs_err::remove_dir_all(&dir);
        fs_err::create_dir_all(&dir).unwrap();
        dir
    }

    fn copy_dir(from: &Path, to: &Path) {
        for file in walk(from).unwrap() {
            let target = to.join(file.strip_prefix(from).unwrap());
            fs_err::create_dir_all(target.parent().unwrap()).unwrap();
            fs_err::copy(&file, &target).unwrap();
        }
    }
}
