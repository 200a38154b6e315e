//! Packages on the registry side: reading a skill directory or a command file to publish,
//! publishing it (one schema-2 record, each file a body where the registry's layout puts it), and
//! reading a package's files back, every one verified.

use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use agents_format::{
    FileMode, IndexRecord, Kind, MAX_PACKAGE_FILE_LEN, MAX_PACKAGE_FILES, PACKAGE_RECORD_SCHEMA, PackageError,
    PackageFile, RelativePath, SKILL_FILE, Sha256, check_listing, check_skill, check_skill_name, package_digest,
    read_skill_file, scan_package_file,
};

use crate::error::{RegistryError, Result, io_error};
use crate::publish::{sign_for_publish, transact};
use crate::registry::Registry;
use crate::signing::Signer;

/// One file of a package with its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageContent {
    pub file: PackageFile,
    pub bytes: Vec<u8>,
}

impl PackageContent {
    pub fn new(path: RelativePath, mode: FileMode, bytes: Vec<u8>) -> PackageContent {
        let file = PackageFile { path, mode, length: bytes.len() as u64, sha256: Sha256::of(&bytes) };
        PackageContent { file, bytes }
    }
}

/// What to publish as a package.
pub struct PublishPackage<'a> {
    pub kind: Kind,
    /// The skill directory or the command file, for messages and, for a skill, its name.
    pub label: &'a str,
    /// For a skill, the directory's name: the skill's name, as Claude Code loads it (a `SKILL.md`
    /// `name` that differs is warned about, [`skill_name_warning`]).
    pub directory_name: &'a str,
    pub files: Vec<PackageContent>,
    pub version: Option<semver::Version>,
    pub now: i64,
    pub deny_hidden_unicode: bool,
    /// What the version requires (`publish --requires`).
    pub requires: Vec<agents_format::Requirement>,
    /// Where an import took the package from, recorded in the record (`agents_format::Source`).
    pub source: Option<agents_format::Source>,
}

/// A skill directory as read for publishing: its files, and the hidden entries left out.
#[derive(Debug, Clone, Default)]
pub struct SkillDirectory {
    pub files: Vec<PackageContent>,
    /// Hidden files and directories (`.git`, `.DS_Store`), relative, never published.
    pub skipped: Vec<String>,
}

/// Reads a skill directory: every regular file below it, without following symlinks. A symlink
/// or anything that is neither a regular file nor a directory is refused, as are more than
/// [`MAX_PACKAGE_FILES`] files or a file over [`MAX_PACKAGE_FILE_LEN`] bytes; hidden files and
/// directories (`.git`) are left out and listed. Nothing outside `directory` is read.
pub fn read_skill_directory(directory: &Path) -> Result<SkillDirectory> {
    let mut out = SkillDirectory::default();
    let top = std::fs::symlink_metadata(directory).map_err(io_error(directory))?;
    if !top.is_dir() {
        return Err(RegistryError::NotARegularFile { path: directory.to_owned() });
    }
    walk(directory, "", &|_| false, &mut out)?;
    out.files.sort_by(|a, b| a.file.path.cmp(&b.file.path));
    Ok(out)
}

/// Reads a plugin directory as [`read_skill_directory`] reads a skill, keeping the hidden paths
/// a plugin is made of (`.claude-plugin/`, `.mcp.json`, `.lsp.json`).
pub fn read_plugin_directory(directory: &Path) -> Result<SkillDirectory> {
    let mut out = SkillDirectory::default();
    let top = std::fs::symlink_metadata(directory).map_err(io_error(directory))?;
    if !top.is_dir() {
        return Err(RegistryError::NotARegularFile { path: directory.to_owned() });
    }
    let keep = |relative: &str| {
        agents_format::plugin_hidden_path_allowed(relative)
            || agents_format::plugin_hidden_path_allowed(&format!("{relative}/plugin.json"))
    };
    walk(directory, "", &keep, &mut out)?;
    out.files.sort_by(|a, b| a.file.path.cmp(&b.file.path));
    Ok(out)
}

fn walk(directory: &Path, prefix: &str, keep_hidden: &dyn Fn(&str) -> bool, out: &mut SkillDirectory) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(directory)
        .map_err(io_error(directory))?
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(io_error(directory))?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            return Err(package_error(&path, PackageError::Hidden { path: path.display().to_string() }));
        };
        let relative = if prefix.is_empty() { name.to_owned() } else { format!("{prefix}/{name}") };
        if name.starts_with('.') && !keep_hidden(&relative) {
            out.skipped.push(relative);
            continue;
        }
        let metadata = std::fs::symlink_metadata(&path).map_err(io_error(&path))?;
        let file_type = metadata.file_type();
        if file_type.is_symlink() {
            return Err(RegistryError::SymlinkInPackage { path });
        }
        if file_type.is_dir() {
            walk(&path, &relative, keep_hidden, out)?;
            continue;
        }
        if !file_type.is_file() {
            return Err(RegistryError::NotARegularFile { path });
        }
        if out.files.len() >= MAX_PACKAGE_FILES {
            return Err(package_error(&path, PackageError::TooManyFiles { count: out.files.len() + 1 }));
        }
        let relative = RelativePath::parse(&relative).map_err(|error| RegistryError::InvalidPackage {
            path: path.display().to_string(),
            message: error.to_string(),
        })?;
        let bytes = read_regular(&path, &metadata)?;
        out.files.push(PackageContent::new(relative, FileMode::from_permissions(metadata.permissions().mode()), bytes));
    }
    Ok(())
}

/// Reads the regular file `checked` described, refusing one swapped in since (another device
/// and inode once open) and one over the per-file cap.
fn read_regular(path: &Path, checked: &std::fs::Metadata) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(io_error(path))?;
    let opened = file.metadata().map_err(io_error(path))?;
    if !opened.file_type().is_file() || (opened.dev(), opened.ino()) != (checked.dev(), checked.ino()) {
        return Err(RegistryError::NotARegularFile { path: path.to_owned() });
    }
    let too_large =
        |length| package_error(path, PackageError::FileTooLarge { path: path.display().to_string(), length });
    if opened.len() > MAX_PACKAGE_FILE_LEN {
        return Err(too_large(opened.len()));
    }
    let mut bytes = Vec::new();
    file.take(MAX_PACKAGE_FILE_LEN + 1).read_to_end(&mut bytes).map_err(io_error(path))?;
    if bytes.len() as u64 > MAX_PACKAGE_FILE_LEN {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

fn package_error(path: &Path, error: PackageError) -> RegistryError {
    RegistryError::InvalidPackage { path: path.display().to_string(), message: error.to_string() }
}

/// Validates a package for publishing and builds its record: the listing (caps, shape), the
/// main file (`SKILL.md`, or the command file) parsed as leniently as an agent file, a skill's
/// Agent Skills rules, the hidden-Unicode gate over every file when asked, and a version.
pub fn prepare_package(request: &PublishPackage<'_>) -> Result<IndexRecord> {
    let invalid = |error: PackageError| RegistryError::InvalidPackage {
        path: request.label.to_owned(),
        message: error.to_string(),
    };
    if request.kind == Kind::Plugin {
        return prepare_plugin(request);
    }
    let main_path = match request.kind {
        Kind::Skill => SKILL_FILE.to_owned(),
        _ => request.files.first().map(|f| f.file.path.to_string()).unwrap_or_default(),
    };
    let main = request.files.iter().find(|f| f.file.path.as_str() == main_path).ok_or_else(|| {
        invalid(if request.kind == Kind::Skill {
            PackageError::NoSkillFile
        } else {
            PackageError::Empty { kind: request.kind }
        })
    })?;
    // The file a tool reads as the package's instructions is text, never binary.
    if main.bytes.contains(&0) {
        return Err(invalid(PackageError::BinaryMainFile { path: main_path.clone() }));
    }
    deny_hidden_unicode(request)?;
    let main_label = || {
        if request.kind == Kind::Skill { format!("{}/{main_path}", request.label) } else { request.label.to_owned() }
    };
    let (name, version_field, summary) = if request.kind == Kind::Skill {
        // Claude Code names a skill by its directory, whatever SKILL.md's `name` says
        // (`skill_name_warning` says so): the directory's name is the package's.
        let directory = skill_directory_name(request)?;
        let (parsed, _) = read_skill_file(&main.bytes, &directory)
            .map_err(|source| RegistryError::InvalidAgent { path: main_label(), source })?;
        check_skill(&parsed.name, parsed.description.as_deref(), request.directory_name).map_err(invalid)?;
        let summary = parsed.summary();
        (parsed.name, parsed.version, summary)
    } else {
        // A command is named by its file, `NAME.md`.
        let stem = main_path.strip_suffix(".md").unwrap_or(&main_path);
        let name = agents_format::AgentName::new(stem).map_err(|error| RegistryError::InvalidPackage {
            path: request.label.to_owned(),
            message: error.to_string(),
        })?;
        let parsed = agents_format::parse_command(&name, &main.bytes)
            .map_err(|source| RegistryError::InvalidAgent { path: main_label(), source })?;
        (name, parsed.version, parsed.summary)
    };
    let files: Vec<PackageFile> = request.files.iter().map(|c| c.file.clone()).collect();
    let files = check_listing(request.kind, &name, &files).map_err(invalid)?;
    let field = version_field.map(|text| (format!("`version: {text}` in {}", main_label()), text));
    let version = chosen_version(request, &name, field)?;
    let record = package_record(request, name, version, summary, files);
    crate::publish::with_requirements(record, &request.requires)
}

/// Refuses a package any of whose files holds hidden Unicode, when the policy says to.
fn deny_hidden_unicode(request: &PublishPackage<'_>) -> Result<()> {
    if !request.deny_hidden_unicode {
        return Ok(());
    }
    for content in &request.files {
        if let Some(found) = scan_package_file(content.file.path.as_str(), content.file.mode, &content.bytes).denied() {
            return Err(RegistryError::HiddenUnicode {
                path: format!("{}/{}", request.label, content.file.path),
                found,
            });
        }
    }
    Ok(())
}

/// The version to publish: `--version`, else the package's own field (`(where, text)`), never
/// one with build metadata.
fn chosen_version(
    request: &PublishPackage<'_>,
    name: &agents_format::AgentName,
    field: Option<(String, String)>,
) -> Result<semver::Version> {
    let version = match (&request.version, field) {
        (Some(version), _) => version.clone(),
        (None, Some((place, text))) => text.trim().parse().map_err(|e: semver::Error| {
            RegistryError::InvalidVersion { name: name.clone(), message: format!("{place}: {e}") }
        })?,
        (None, None) => return Err(RegistryError::NoVersion { name: name.clone() }),
    };
    if !version.build.is_empty() {
        return Err(RegistryError::InvalidVersion {
            name: name.clone(),
            message: format!(
                "{version}: build metadata does not order versions, so it cannot tell two publishes apart"
            ),
        });
    }
    Ok(version)
}

/// A package's record (schema 2; [`prepare_plugin`] makes a plugin's schema 4), with the
/// import's source when there is one.
fn package_record(
    request: &PublishPackage<'_>,
    name: agents_format::AgentName,
    version: semver::Version,
    description: Option<String>,
    files: Vec<PackageFile>,
) -> IndexRecord {
    let mut record = IndexRecord {
        schema: PACKAGE_RECORD_SCHEMA,
        name,
        version,
        sha256: package_digest(request.kind, &files),
        length: files.iter().map(|f| f.length).sum(),
        published: agents_format::format_utc(request.now),
        yanked: false,
        description,
        signature: None,
        yank: None,
        kind: request.kind,
        files,
        requires: Vec::new(),
        extra: Default::default(),
    };
    if let Some(source) = &request.source {
        record.set_source(source);
    }
    record
}

/// [`prepare_package`] for a plugin: the manifest read as the tool reads it (name, version,
/// description, paths that stay inside), the listing, the hidden-Unicode gate over every file,
/// and its `dependencies` as requirements (beside those given), so installing it installs them.
fn prepare_plugin(request: &PublishPackage<'_>) -> Result<IndexRecord> {
    let invalid = |message: String| RegistryError::InvalidPackage { path: request.label.to_owned(), message };
    let refs: Vec<(&PackageFile, &[u8])> = request.files.iter().map(|c| (&c.file, c.bytes.as_slice())).collect();
    let plugin = agents_format::parse_plugin(&refs).map_err(|error| invalid(error.to_string()))?;
    deny_hidden_unicode(request)?;
    let name = plugin.name.clone();
    let files: Vec<PackageFile> = request.files.iter().map(|c| c.file.clone()).collect();
    let files = check_listing(Kind::Plugin, &name, &files).map_err(|error| invalid(error.to_string()))?;
    let field =
        plugin.version.clone().map(|text| (format!("`\"version\": \"{text}\"` in {}'s manifest", request.label), text));
    let version = chosen_version(request, &name, field)?;
    let mut requires = request.requires.clone();
    for dependency in &plugin.dependencies {
        if requires.iter().any(|r| r.name == dependency.name) {
            continue;
        }
        let range = dependency.range.as_deref().unwrap_or("*");
        let requirement =
            agents_format::parse_version_req(range).map_err(|message| RegistryError::InvalidRequirements {
                name: name.clone(),
                message: format!("dependency `{}` in the manifest: {message}", dependency.name),
            })?;
        requires.push(agents_format::Requirement { name: dependency.name.clone(), requirement, registry: None });
    }
    let description = plugin.description.as_deref().map(|text| {
        let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
        line.chars().take(agents_format::MAX_INDEX_DESCRIPTION_CHARS).collect()
    });
    let mut record = package_record(request, name.clone(), version, description, files);
    record.schema = agents_format::PLUGIN_RECORD_SCHEMA;
    record.requires = agents_format::check_requirements(&name, &requires)
        .map_err(|message| RegistryError::InvalidRequirements { name: name.clone(), message })?;
    Ok(record)
}

/// The name of the skill `request` publishes: its directory's, which must be a skill name.
fn skill_directory_name(request: &PublishPackage<'_>) -> Result<agents_format::AgentName> {
    let refuse = |reason: String| RegistryError::InvalidPackage {
        path: request.label.to_owned(),
        message: format!(
            "the directory name `{}` is no skill name ({reason}); Claude Code names a skill by its directory: \
             rename the directory (1 to 64 of a-z, 0-9 and `-`)",
            request.directory_name.escape_debug()
        ),
    };
    check_skill_name(request.directory_name).map_err(|error| match error {
        PackageError::SkillName { reason, .. } => refuse(reason.to_owned()),
        other => refuse(other.to_string()),
    })?;
    agents_format::AgentName::new(request.directory_name).map_err(|error| refuse(error.to_string()))
}

/// What to tell the publisher of the skill `request` about its `SKILL.md`'s `name`: missing, no
/// skill name, or another name than its directory's, under which it is published all the same.
/// `None` for a command, a skill whose `name` is its directory's, or one that does not parse
/// (which [`prepare_package`] refuses).
pub fn skill_name_warning(request: &PublishPackage<'_>) -> Option<String> {
    if request.kind != Kind::Skill {
        return None;
    }
    let directory = skill_directory_name(request).ok()?;
    let main = request.files.iter().find(|f| f.file.path.as_str() == SKILL_FILE)?;
    read_skill_file(&main.bytes, &directory).ok()?.1
}

/// Publishes a package version to the registry at `url`, signed by `signer` where the registry
/// signs. Every record of one name has one kind: publishing a skill over an agent's name fails.
pub fn publish_package(
    cache: &crate::Cache,
    registry_name: &str,
    url: &str,
    request: &PublishPackage<'_>,
    signer: Option<&dyn Signer>,
) -> Result<IndexRecord> {
    publish_prepared(cache, registry_name, url, prepare_package(request)?, &request.files, signer)
}

/// Publishes a bundle (a record of requirements only, [`crate::prepare_bundle`]).
pub fn publish_bundle(
    cache: &crate::Cache,
    registry_name: &str,
    url: &str,
    record: IndexRecord,
    signer: Option<&dyn Signer>,
) -> Result<IndexRecord> {
    publish_prepared(cache, registry_name, url, record, &[], signer)
}

/// Publishes a prepared package record and its files.
fn publish_prepared(
    cache: &crate::Cache,
    registry_name: &str,
    url: &str,
    prepared: IndexRecord,
    contents: &[PackageContent],
    signer: Option<&dyn Signer>,
) -> Result<IndexRecord> {
    let message = format!("Publish {} {}@{}", prepared.kind, prepared.name, prepared.version);
    let mut published = None;
    transact(cache, registry_name, url, &message, |registry| {
        let root = crate::signing::registry_root(&registry.config, registry_name)?;
        let mut index = registry.index_file(&prepared.name)?.unwrap_or_default();
        if let Some(other) = index.records().find(|r| r.kind != prepared.kind) {
            return Err(RegistryError::KindMismatch {
                registry: registry_name.to_owned(),
                name: prepared.name.clone(),
                published: other.kind,
                publishing: prepared.kind,
            });
        }
        if index.claims(&prepared.version) {
            return Err(RegistryError::VersionExists {
                registry: registry_name.to_owned(),
                name: prepared.name.clone(),
                version: prepared.version.clone(),
            });
        }
        let mut record = prepared.clone();
        let mut files = Vec::new();
        if let Some(owners) = sign_for_publish(registry, root.as_ref(), signer, &mut record)? {
            files.push(owners);
        }
        index.push(record.clone()).expect("the version is not claimed");
        for content in contents {
            files.push((registry.layout().body_path(record.kind, &content.file.sha256), content.bytes.clone()));
        }
        files.push((registry.layout().index_path(&record.name), index.to_text().into_bytes()));
        published = Some(record);
        Ok(files)
    })?;
    Ok(published.expect("a successful publish recorded its record"))
}

impl Registry {
    /// Every file of a package version, each verified against its listing (sha256 and length),
    /// read from where the registry's layout puts it.
    pub fn package_files(&self, record: &IndexRecord) -> Result<Vec<PackageContent>> {
        let agent = || format!("{}@{}", record.name, record.version);
        let mut out = Vec::with_capacity(record.files.len());
        for file in &record.files {
            let limit = MAX_PACKAGE_FILE_LEN as usize;
            if file.length > MAX_PACKAGE_FILE_LEN {
                return Err(RegistryError::TooLarge {
                    what: format!("`{}` of {} from registry `{}`", file.path, agent(), self.name),
                    len: file.length,
                    limit: MAX_PACKAGE_FILE_LEN,
                });
            }
            let bytes =
                self.read_body(record.kind, &file.sha256, limit)?.ok_or_else(|| RegistryError::MissingBody {
                    registry: self.name.clone(),
                    name: record.name.clone(),
                    version: record.version.clone(),
                })?;
            let actual = Sha256::of(&bytes);
            if actual != file.sha256 || bytes.len() as u64 != file.length {
                return Err(RegistryError::ChecksumMismatch {
                    registry: self.name.clone(),
                    agent: format!("{} (`{}`)", agent(), file.path),
                    expected: file.sha256.to_hex(),
                    actual: actual.to_hex(),
                });
            }
            out.push(PackageContent { file: file.clone(), bytes });
        }
        Ok(out)
    }
}

/// Reads the publishable files of `path`: a directory is a skill, a file a command.
pub fn read_package(path: &Path, kind: Kind) -> Result<SkillDirectory> {
    match kind {
        Kind::Skill => read_skill_directory(path),
        Kind::Plugin => read_plugin_directory(path),
        _ => {
            let metadata = std::fs::symlink_metadata(path).map_err(io_error(path))?;
            if !metadata.file_type().is_file() {
                return Err(RegistryError::NotARegularFile { path: path.to_owned() });
            }
            let bytes = read_regular(path, &metadata)?;
            // A command is named by its file, as Claude Code names `/NAME` after `NAME.md`.
            let invalid = |message: String| RegistryError::InvalidPackage { path: path.display().to_string(), message };
            let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let stem =
                file_name.strip_suffix(".md").ok_or_else(|| invalid("a command file is named NAME.md".to_owned()))?;
            let name = agents_format::AgentName::new(stem).map_err(|error| invalid(error.to_string()))?;
            let name = RelativePath::parse(&name.file_name()).map_err(|error| invalid(error.to_string()))?;
            let file = PackageContent::new(name, FileMode::from_permissions(metadata.permissions().mode()), bytes);
            Ok(SkillDirectory { files: vec![file], skipped: Vec::new() })
        }
    }
}

/// A package found in a collection being imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundPackage {
    pub kind: Kind,
    /// The skill directory or the command file (inside the collection, not a symlink).
    pub path: std::path::PathBuf,
    /// Relative to the collection, for messages.
    pub label: String,
    /// The marketplace plugin the package belongs to (`None` outside a marketplace).
    pub plugin: Option<String>,
    /// For a whole plugin of a marketplace, its entry in `marketplace.json`.
    pub entry: Option<serde_json::Value>,
}

/// Finds the skills and commands of the collection at `root` (canonical): every directory
/// holding a `SKILL.md` is a skill (its files are not looked into further), every `*.md` file
/// directly in a directory named `commands` is a command. Hidden entries and symlinks are never
/// followed, so nothing outside the collection is found. A plugin marketplace's plugins keep
/// their skills and commands in `skills/` and `commands/`, which this walk finds as well.
pub fn find_packages(root: &Path) -> Vec<FoundPackage> {
    find_packages_under(root, root)
}

/// [`find_packages`] below `directory`, a directory of the collection at `root`, sorted.
pub(crate) fn find_packages_under(root: &Path, directory: &Path) -> Vec<FoundPackage> {
    let mut found = Vec::new();
    find_in(root, directory, &mut found);
    found.sort_by(|a, b| a.label.cmp(&b.label));
    found
}

fn find_in(root: &Path, directory: &Path, found: &mut Vec<FoundPackage>) {
    let label = |path: &Path| path.strip_prefix(root).unwrap_or(path).display().to_string();
    let Ok(entries) = std::fs::read_dir(directory) else { return };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|entry| entry.file_name());
    let in_commands = directory.file_name().is_some_and(|n| n == "commands");
    for entry in entries {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let Ok(file_type) = entry.file_type() else { continue };
        if file_type.is_dir() {
            if std::fs::symlink_metadata(path.join(SKILL_FILE)).is_ok_and(|m| m.file_type().is_file()) {
                found.push(FoundPackage { kind: Kind::Skill, label: label(&path), path, plugin: None, entry: None });
            } else {
                find_in(root, &path, found);
            }
        } else if file_type.is_file() && in_commands && path.extension().is_some_and(|e| e == "md") {
            found.push(FoundPackage { kind: Kind::Command, label: label(&path), path, plugin: None, entry: None });
        }
    }
}

/// Whether a file or directory found by an agent import belongs to a package instead: inside a
/// skill directory, or a command (so `SKILL.md` and a skill's references are never imported as
/// agents).
pub fn is_in_package(root: &Path, path: &Path) -> bool {
    let Ok(relative) = path.strip_prefix(root) else { return false };
    let mut directory = root.to_path_buf();
    let components: Vec<_> = relative.components().collect();
    for (index, component) in components.iter().enumerate() {
        let last = index + 1 == components.len();
        if !last && component.as_os_str() == "commands" && index + 2 == components.len() {
            return true;
        }
        directory.push(component);
        if !last && std::fs::symlink_metadata(directory.join(SKILL_FILE)).is_ok_and(|m| m.file_type().is_file()) {
            return true;
        }
    }
    false
}
