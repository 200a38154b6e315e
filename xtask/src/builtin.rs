//! Maintenance of the built-in registry in `registry/`: publish new versions, rewrite canonically,
//! migrate it to format 2 (every body two levels deep, index files at hashed paths).

use std::path::{Path, PathBuf};

use agents_format::{
    AgentFile, BodyDepth, IndexFile, IndexRecord, Kind, Layout, RECORD_SCHEMA, RegistryConfig, Sha256, body_depth,
    two_level_body_path,
};
use anyhow::{Context as _, bail};

pub(crate) fn publish(registry: &Path, files: &[PathBuf], version: Option<semver::Version>) -> anyhow::Result<()> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let layout = read_config(registry)?.layout;
    for file in files {
        let bytes = fs_err::read(file)?;
        let agent =
            AgentFile::parse(&bytes).with_context(|| format!("{} is not a valid agent file", file.display()))?;
        if agent.has_hidden_unicode() {
            bail!("{} contains hidden Unicode; the built-in registry refuses it", file.display());
        }
        let version = match (&version, &agent.version) {
            (Some(version), _) => version.clone(),
            (None, Some(text)) => {
                text.trim().parse().with_context(|| format!("{}: bad version `{text}`", file.display()))?
            }
            (None, None) => bail!("{} has no `version` field; pass --version", file.display()),
        };
        let sha256 = Sha256::of(&bytes);
        let index_file = registry.join(layout.index_path(&agent.name));
        let mut index = match fs_err::read_to_string(&index_file) {
            Ok(text) => IndexFile::parse(&text),
            Err(_) => IndexFile::default(),
        };
        index
            .push(IndexRecord {
                schema: RECORD_SCHEMA,
                name: agent.name.clone(),
                version: version.clone(),
                sha256,
                length: bytes.len() as u64,
                published: agents_format::format_utc(i64::try_from(now)?),
                yanked: false,
                description: agent.summary(),
                signature: None,
                yank: None,
                kind: Default::default(),
                files: Vec::new(),
                requires: Vec::new(),
                extra: Default::default(),
            })
            .with_context(|| format!("{}: cannot add {}@{version}", index_file.display(), agent.name))?;
        write(&registry.join(layout.body_path(Kind::Agent, &sha256)), &bytes)?;
        write(&index_file, index.to_text().as_bytes())?;
        eprintln!("xtask: published {}@{version} to the built-in registry", agent.name);
    }
    Ok(())
}

fn read_config(registry: &Path) -> anyhow::Result<RegistryConfig> {
    let config_path = registry.join("config.json");
    RegistryConfig::parse(&fs_err::read_to_string(&config_path)?)
        .with_context(|| format!("{} is not a valid registry config", config_path.display()))
}

/// `cargo xtask registry migrate`: what `agents registry migrate` does to a git registry, for the
/// built-in one (a directory): every one-level body moves to its two-level path, every index
/// file at its format-1 path to its format-2 (hashed) path, and `config.json` says schema 2.
/// Index files are moved in a registry that already says format 2 as well (it was migrated
/// before format 2 hashed index paths).
pub(crate) fn migrate(registry: &Path) -> anyhow::Result<()> {
    let mut config = read_config(registry)?;
    let mut index_moved = 0;
    for path in index_files(registry)? {
        let relative = path.strip_prefix(registry)?.to_string_lossy().replace('\\', "/");
        let Some(name) = Layout::V1.name_at_index_path(&relative) else { continue };
        let target = registry.join(Layout::V2.index_path(&name));
        if target != path {
            fs_err::create_dir_all(target.parent().expect("index files are in directories"))?;
            fs_err::rename(&path, &target)?;
            index_moved += 1;
        }
    }
    remove_empty_dirs(&registry.join("index"))?;
    if config.layout == Layout::V2 {
        eprintln!("xtask: the built-in registry is already in format 2 ({index_moved} index files moved)");
        return Ok(());
    }
    let mut moved = 0;
    for shard in fs_err::read_dir(registry.join("bodies"))? {
        let shard = shard?.path();
        if !shard.is_dir() {
            continue;
        }
        for entry in fs_err::read_dir(&shard)? {
            let path = entry?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
            let Ok(sha256) = Sha256::from_hex(name) else { continue };
            let relative = format!("bodies/{}/{name}", shard.file_name().and_then(|n| n.to_str()).unwrap_or_default());
            if path.is_file() && body_depth(&relative, &sha256) == Some(BodyDepth::OneLevel) {
                let target = registry.join(two_level_body_path(&sha256));
                fs_err::create_dir_all(target.parent().expect("bodies are in directories"))?;
                fs_err::rename(&path, &target)?;
                moved += 1;
            }
        }
    }
    config.layout = Layout::V2;
    write(&registry.join("config.json"), config.to_text().as_bytes())?;
    eprintln!("xtask: migrated the built-in registry to format 2 ({moved} bodies, {index_moved} index files moved)");
    Ok(())
}

/// Removes the directories under `dir` that hold no file (left behind by moves).
fn remove_empty_dirs(dir: &Path) -> anyhow::Result<bool> {
    let mut empty = true;
    for entry in fs_err::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() && remove_empty_dirs(&path)? {
            fs_err::remove_dir(&path)?;
        } else {
            empty = false;
        }
    }
    Ok(empty)
}

pub(crate) fn format(registry: &Path) -> anyhow::Result<()> {
    let config_path = registry.join("config.json");
    let config = read_config(registry)?;
    write(&config_path, config.to_text().as_bytes())?;
    for path in index_files(registry)? {
        let text = fs_err::read_to_string(&path)?;
        let index = IndexFile::parse(&text);
        if !index.invalid.is_empty() {
            bail!("{}: invalid lines {:?}; fix them by hand first", path.display(), index.invalid);
        }
        write(&path, index.to_text().as_bytes())?;
    }
    Ok(())
}

pub(crate) fn index_files(registry: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![registry.join("index")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs_err::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.with_context(|| format!("listing {}", dir.display()))?.path();
            if path.is_dir() { stack.push(path) } else { files.push(path) }
        }
    }
    files.sort();
    Ok(files)
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    fs_err::create_dir_all(path.parent().expect("registry files are in directories"))?;
    Ok(fs_err::write(path, bytes)?)
}
