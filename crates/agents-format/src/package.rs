//! Packages: records of kind `skill` or `command`, each a set of files pinned by checksum.
//!
//! An agent is one file whose record's `sha256` is the file's own checksum (schema 1). A package
//! (an Agent Skill directory, or a slash command) lists its files in its record (schema 2), and
//! the record's `sha256` is the [`package_digest`] over that listing, so the one checksum the
//! lockfile pins and the publisher signs covers the kind, every path, every mode and every byte.
//! Each file's bytes stay content-addressed under `bodies/`, shared across versions.

use crate::checksum::Sha256;
use crate::name::AgentName;
use crate::relative_path::RelativePath;

/// The record schema of packages (kinds other than `agent`).
pub const PACKAGE_RECORD_SCHEMA: u32 = 2;

/// The first line of the text [`package_digest`] hashes.
pub const PACKAGE_DIGEST_NAMESPACE: &str = "agents-package-v1";

/// The largest file a package may hold, in bytes (the agent-file limit).
pub const MAX_PACKAGE_FILE_LEN: u64 = 1024 * 1024;
/// The most bytes a package may hold, all files together.
pub const MAX_PACKAGE_LEN: u64 = 8 * 1024 * 1024;
/// The most files a package may hold.
pub const MAX_PACKAGE_FILES: usize = 256;
/// The longest skill name, as the Agent Skills rules set it.
pub const MAX_SKILL_NAME_LEN: usize = 64;
/// The longest skill description, in characters, as the Agent Skills rules set it.
pub const MAX_SKILL_DESCRIPTION_CHARS: usize = 1024;
/// The file every skill directory holds at its top.
pub const SKILL_FILE: &str = "SKILL.md";

/// What a record publishes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A subagent: one file, `.claude/agents/NAME.md`. A record without `kind` is an agent.
    #[default]
    Agent,
    /// An Agent Skill: a directory with `SKILL.md`, `.claude/skills/NAME/`.
    Skill,
    /// A slash command: one file, `.claude/commands/NAME.md`.
    Command,
    /// A bundle: only requirements ("the backend team's set"); it puts no file anywhere.
    Bundle,
    /// A plugin: a Claude Code plugin or an Agent Plugins package, whole (`plugin.rs`).
    Plugin,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Agent => "agent",
            Kind::Skill => "skill",
            Kind::Command => "command",
            Kind::Bundle => "bundle",
            Kind::Plugin => "plugin",
        }
    }

    pub fn is_agent(&self) -> bool {
        *self == Kind::Agent
    }

    pub fn parse(text: &str) -> Option<Kind> {
        match text {
            "agent" => Some(Kind::Agent),
            "skill" => Some(Kind::Skill),
            "command" => Some(Kind::Command),
            "bundle" => Some(Kind::Bundle),
            "plugin" => Some(Kind::Plugin),
            _ => None,
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A file's mode: git's two modes for a regular file. Only the run bit is kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum FileMode {
    #[default]
    #[serde(rename = "644")]
    Regular,
    #[serde(rename = "755")]
    Executable,
}

impl FileMode {
    pub fn as_str(self) -> &'static str {
        match self {
            FileMode::Regular => "644",
            FileMode::Executable => "755",
        }
    }

    /// The mode of a file whose permission bits are `mode`: executable when its owner may run it.
    pub fn from_permissions(mode: u32) -> FileMode {
        if mode & 0o100 != 0 { FileMode::Executable } else { FileMode::Regular }
    }

    pub fn is_executable(self) -> bool {
        self == FileMode::Executable
    }
}

/// One file of a package, as its record lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PackageFile {
    /// Relative to the package's directory (`SKILL.md`, `scripts/run.sh`).
    pub path: RelativePath,
    pub mode: FileMode,
    pub length: u64,
    pub sha256: Sha256,
}

/// Why a package's listing or contents are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageError {
    #[error("a {kind} lists no files")]
    Empty { kind: Kind },
    #[error("`{path}` is listed twice")]
    Duplicate { path: String },
    #[error("`{path}` is listed as a file and also holds other files")]
    FileAndDirectory { path: String },
    #[error("`{path}` is a hidden file or directory (its name starts with `.`)")]
    Hidden { path: String },
    #[error("`{path}` is {length} bytes, over the limit of {MAX_PACKAGE_FILE_LEN} bytes per file")]
    FileTooLarge { path: String, length: u64 },
    #[error("the package holds {length} bytes, over the limit of {MAX_PACKAGE_LEN} bytes")]
    TooLarge { length: u64 },
    #[error("the package holds {count} files, over the limit of {MAX_PACKAGE_FILES}")]
    TooManyFiles { count: usize },
    #[error("a skill needs a `SKILL.md` at its top")]
    NoSkillFile,
    #[error("a plugin needs its manifest: `.claude-plugin/plugin.json` (Claude Code) or `plugin.json` (Agent Plugins)")]
    NoPluginManifest,
    #[error("a command is one file, `{expected}`")]
    CommandShape { expected: String },
    #[error("{path} holds a NUL byte: the file a tool reads as the package's instructions is text, never binary")]
    BinaryMainFile { path: String },
    #[error("skill name `{name}` is invalid: {reason}")]
    SkillName { name: String, reason: &'static str },
    #[error(
        "SKILL.md names the skill `{declared}`, but its directory is `{directory}`; the Agent Skills rules want them equal (rename the directory or the `name`)"
    )]
    DirectoryName { declared: String, directory: String },
    #[error("SKILL.md has no `description`; Agent Skills need one (1 to {MAX_SKILL_DESCRIPTION_CHARS} characters)")]
    MissingDescription,
    #[error("SKILL.md's `description` is {chars} characters, over the limit of {MAX_SKILL_DESCRIPTION_CHARS}")]
    DescriptionTooLong { chars: usize },
}

/// The package digest: SHA-256 over the canonical listing
///
/// ```text
/// agents-package-v1
/// kind <kind>
/// file <mode> <length> <sha256> <path>     (one line per file, sorted by path, byte order)
/// ```
///
/// each line ending in `\n`. It is what the record's `sha256`, the lockfile and the signature hold.
pub fn package_digest(kind: Kind, files: &[PackageFile]) -> Sha256 {
    Sha256::of(package_listing(kind, files).as_bytes())
}

/// The text [`package_digest`] hashes.
pub fn package_listing(kind: Kind, files: &[PackageFile]) -> String {
    let mut sorted: Vec<&PackageFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.as_str().cmp(b.path.as_str()));
    let mut out = format!("{PACKAGE_DIGEST_NAMESPACE}\nkind {kind}\n");
    for file in sorted {
        out.push_str(&format!("file {} {} {} {}\n", file.mode.as_str(), file.length, file.sha256, file.path));
    }
    out
}

/// Checks a package's listing: not empty, within the caps, no path twice, no file that is also a
/// directory, no hidden component, and the shape its kind needs (a skill has `SKILL.md`; a
/// command is exactly `<name>.md`). Returns the listing sorted by path.
pub fn check_listing(kind: Kind, name: &AgentName, files: &[PackageFile]) -> Result<Vec<PackageFile>, PackageError> {
    let mut sorted = files.to_vec();
    sorted.sort_by(|a, b| a.path.as_str().cmp(b.path.as_str()));
    if sorted.is_empty() {
        return Err(PackageError::Empty { kind });
    }
    if sorted.len() > MAX_PACKAGE_FILES {
        return Err(PackageError::TooManyFiles { count: sorted.len() });
    }
    let mut total = 0u64;
    for (index, file) in sorted.iter().enumerate() {
        let path = file.path.as_str();
        let hidden = path.split('/').any(|component| component.starts_with('.'));
        if hidden && !(kind == Kind::Plugin && crate::plugin::plugin_hidden_path_allowed(path)) {
            return Err(PackageError::Hidden { path: path.to_owned() });
        }
        if file.length > MAX_PACKAGE_FILE_LEN {
            return Err(PackageError::FileTooLarge { path: path.to_owned(), length: file.length });
        }
        total = total.saturating_add(file.length);
        if sorted.get(index + 1).is_some_and(|next| next.path == file.path) {
            return Err(PackageError::Duplicate { path: path.to_owned() });
        }
    }
    // Checked as a tree: no directory on the way to a file is itself a file, whatever names sort
    // between them (`a`, `a-b`, `a/b`: `a-b` sorts between the file `a` and `a/b`).
    let paths: std::collections::HashSet<&str> = sorted.iter().map(|f| f.path.as_str()).collect();
    for file in &sorted {
        let path = file.path.as_str();
        let mut directories = path.match_indices('/').map(|(end, _)| &path[..end]);
        if let Some(directory) = directories.find(|directory| paths.contains(directory)) {
            return Err(PackageError::FileAndDirectory { path: directory.to_owned() });
        }
    }
    if total > MAX_PACKAGE_LEN {
        return Err(PackageError::TooLarge { length: total });
    }
    match kind {
        Kind::Skill if !sorted.iter().any(|f| f.path.as_str() == SKILL_FILE) => Err(PackageError::NoSkillFile),
        Kind::Command if sorted.len() != 1 || sorted[0].path.as_str() != name.file_name() => {
            Err(PackageError::CommandShape { expected: name.file_name() })
        }
        Kind::Plugin if crate::plugin::plugin_manifest_path(sorted.iter().map(|f| f.path.as_str())).is_none() => {
            Err(PackageError::NoPluginManifest)
        }
        Kind::Agent | Kind::Bundle => Err(PackageError::Empty { kind }),
        _ => Ok(sorted),
    }
}

/// The Agent Skills name rules: 1 to 64 of `a`–`z`, `0`–`9` and `-`, not starting or ending
/// with `-`, no `--`.
pub fn check_skill_name(name: &str) -> Result<(), PackageError> {
    let fail = |reason| Err(PackageError::SkillName { name: name.escape_debug().to_string(), reason });
    if name.is_empty() {
        return fail("it is empty");
    }
    if name.len() > MAX_SKILL_NAME_LEN {
        return fail("it is longer than 64 characters");
    }
    if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return fail("only a-z, 0-9 and `-` are allowed");
    }
    if name.starts_with('-') || name.ends_with('-') {
        return fail("it starts or ends with `-`");
    }
    if name.contains("--") {
        return fail("it holds `--`");
    }
    Ok(())
}

/// Checks a parsed `SKILL.md` against the Agent Skills rules: the name (already an
/// [`AgentName`]) passes [`check_skill_name`] and equals `directory`, the directory's name; the
/// description has 1 to 1,024 characters.
pub fn check_skill(name: &AgentName, description: Option<&str>, directory: &str) -> Result<(), PackageError> {
    check_skill_name(name.as_str())?;
    if name.as_str() != directory {
        return Err(PackageError::DirectoryName { declared: name.to_string(), directory: directory.to_owned() });
    }
    let description = description.map(str::trim).filter(|d| !d.is_empty()).ok_or(PackageError::MissingDescription)?;
    let chars = description.chars().count();
    if chars > MAX_SKILL_DESCRIPTION_CHARS {
        return Err(PackageError::DescriptionTooLong { chars });
    }
    Ok(())
}

/// Reads a `SKILL.md` as Claude Code does: a skill is named by its directory (Claude Code's skill
/// loader takes the directory's name whatever the `name` field says, and the Agent Skills
/// guidance for clients is to warn and load anyway). Returns the file with `name` set to
/// `directory`, and a warning when its `name` field is missing, is no skill name (`name: PDF
/// Forms`) or names another skill. The bytes are only read, never rewritten.
pub fn read_skill_file(
    bytes: &[u8],
    directory: &AgentName,
) -> Result<(crate::AgentFile, Option<String>), crate::AgentFileError> {
    use crate::{AgentFile, AgentFileError};
    let because = format!("Claude Code loads a skill by its directory, so it is published as `{directory}`");
    let (mut file, declared) = match AgentFile::parse(bytes) {
        Ok(file) => {
            let declared = file.name.to_string();
            (file, declared)
        }
        Err(AgentFileError::MissingName | AgentFileError::NameNotAString | AgentFileError::InvalidName(_)) => {
            // Read the other fields with the directory's name in front (only for reading).
            let text = std::str::from_utf8(bytes).map_err(|e| AgentFileError::NotUtf8 { offset: e.valid_up_to() })?;
            let opening = text.find('\n').map_or(text.len(), |i| i + 1);
            let copy = format!("{}name: {directory}\n{}", &text[..opening], &text[opening..]);
            let mut file = AgentFile::parse(copy.as_bytes())?;
            file.body_offset -= format!("name: {directory}\n").len();
            (file, declared_name(&text[opening..]).unwrap_or_default())
        }
        Err(error) => return Err(error),
    };
    file.name = directory.clone();
    let warning = if declared.is_empty() {
        Some(format!("SKILL.md has no `name`: {because}"))
    } else if let Err(PackageError::SkillName { reason, .. }) = check_skill_name(&declared) {
        Some(format!("SKILL.md's `name: {declared}` is not a skill name ({reason}): {because}"))
    } else if declared != directory.as_str() {
        Some(format!("SKILL.md's `name: {declared}` differs from its directory `{directory}`: {because}"))
    } else {
        None
    };
    Ok((file, warning))
}

/// The value of the first column-0 `name:` line of front matter that starts at `text`, unquoted.
fn declared_name(text: &str) -> Option<String> {
    let line = text.lines().take_while(|l| l.trim_end() != "---").find(|l| l.starts_with("name:"))?;
    let value = line["name:".len()..].trim();
    Some(value.trim_matches(|c| c == '"' || c == '\'').to_owned())
}

/// What publishing reads from a slash command file. A command is named by its file (Claude
/// Code's `/NAME` is `NAME.md`), and real command files often have no `name` field or no front
/// matter at all: both are accepted, and the fields are read as leniently as an agent file's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandFile {
    pub description: Option<String>,
    /// The index record's one-line summary of `description`.
    pub summary: Option<String>,
    /// The `version` field, verbatim.
    pub version: Option<String>,
    /// Front-matter keys, in file order.
    pub keys: Vec<String>,
    /// Where the prompt starts (after the front matter; 0 without one).
    pub body_offset: usize,
}

/// Reads the command file `name` (its file stem) from its exact bytes; a `name` field, when
/// present, is not its identity and is ignored.
pub fn parse_command(name: &AgentName, bytes: &[u8]) -> Result<CommandFile, crate::AgentFileError> {
    use crate::{AgentFile, AgentFileError, MAX_AGENT_FILE_LEN};
    if bytes.len() > MAX_AGENT_FILE_LEN {
        return Err(AgentFileError::TooLarge { len: bytes.len() });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| AgentFileError::NotUtf8 { offset: e.valid_up_to() })?;
    let fields = |file: AgentFile, shift: usize| CommandFile {
        summary: file.summary(),
        description: file.description,
        version: file.version,
        keys: file.keys.into_iter().filter(|k| shift == 0 || k != "name").collect(),
        body_offset: file.body_offset - shift,
    };
    match AgentFile::parse(bytes) {
        Ok(file) => Ok(fields(file, 0)),
        Err(AgentFileError::MissingFrontMatter) => Ok(CommandFile::default()),
        Err(AgentFileError::MissingName | AgentFileError::NameNotAString | AgentFileError::InvalidName(_)) => {
            // Read the other fields with the name the file gives: a copy with a `name` line
            // first in the front matter (only for reading; the published bytes are the input).
            let opening = text.find('\n').map_or(text.len(), |i| i + 1);
            let inserted = format!("name: {name}\n");
            let copy = format!("{}{inserted}{}", &text[..opening], &text[opening..]);
            AgentFile::parse(copy.as_bytes()).map(|file| fields(file, inserted.len()))
        }
        Err(error) => Err(error),
    }
}

/// A Claude Code command converted into a Gemini CLI custom command (`.gemini/commands/NAME.toml`:
/// `description`, and `prompt` with `$ARGUMENTS` as `{{args}}`), with what could not be carried
/// over. Deterministic; `None` when the file cannot be read.
pub fn command_for_gemini(name: &AgentName, bytes: &[u8]) -> Option<(Vec<u8>, Vec<String>)> {
    let command = parse_command(name, bytes).ok()?;
    let text = std::str::from_utf8(bytes).ok()?;
    let body = text.get(command.body_offset..)?;
    let mut notes = Vec::new();
    for key in &command.keys {
        if !matches!(key.as_str(), "description" | "version") {
            notes.push(format!("field `{key}`"));
        }
    }
    let (prompt, positional) = crate::commands::gemini_arguments(body);
    if positional {
        notes.push("positional arguments ($0, $1, ...): Gemini CLI passes all arguments as {{args}}".to_owned());
    }
    // `!{…}` runs a shell command and `@{…}` reads a file into the prompt in Gemini CLI; in a
    // Claude Code command both are plain text, so they are written as text (`! {`, `@ {`).
    let mut prompt = prompt;
    for (syntax, what) in [("!{", "shell command"), ("@{", "file injection")] {
        if prompt.contains(syntax) {
            let text = format!("{} {{", &syntax[..1]);
            prompt = prompt.replace(syntax, &text);
            notes.push(format!(
                "`{syntax}…}}` (Gemini CLI's {what} syntax; plain text in the Claude Code file, written as `{text}…}}`)"
            ));
        }
    }
    let mut out = String::new();
    if let Some(description) = &command.description {
        out.push_str(&format!("description = {}\n", toml_edit::Value::from(description.as_str()).to_string().trim()));
    }
    out.push_str(&format!("prompt = {}\n", toml_edit::Value::from(prompt.as_str()).to_string().trim()));
    Some((out.into_bytes(), notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, mode: FileMode, bytes: &[u8]) -> PackageFile {
        PackageFile {
            path: RelativePath::parse(path).unwrap(),
            mode,
            length: bytes.len() as u64,
            sha256: Sha256::of(bytes),
        }
    }

    #[test]
    fn the_digest_is_over_the_documented_listing_in_path_order() {
        let files = vec![file("scripts/run.sh", FileMode::Executable, b"x"), file("SKILL.md", FileMode::Regular, b"")];
        let listing = package_listing(Kind::Skill, &files);
        assert_eq!(
            listing,
            format!(
                "agents-package-v1\nkind skill\nfile 644 0 {} SKILL.md\nfile 755 1 {} scripts/run.sh\n",
                Sha256::of(b""),
                Sha256::of(b"x")
            )
        );
        assert_eq!(package_digest(Kind::Skill, &files), Sha256::of(listing.as_bytes()));
        // The kind and the run bit are part of what is pinned and signed.
        assert_ne!(package_digest(Kind::Command, &files), package_digest(Kind::Skill, &files));
        let mut plain = files.clone();
        plain[0].mode = FileMode::Regular;
        assert_ne!(package_digest(Kind::Skill, &plain), package_digest(Kind::Skill, &files));
        // Mode serialises as git writes it.
        assert_eq!(
            serde_json::to_string(&files[0]).unwrap(),
            format!(
                "{{\"path\":\"scripts/run.sh\",\"mode\":\"755\",\"length\":1,\"sha256\":\"{}\"}}",
                Sha256::of(b"x")
            )
        );
    }

    #[test]
    fn listings_are_checked() {
        let name = AgentName::new("pdf").unwrap();
        let check =
            |kind, files: &[PackageFile]| check_listing(kind, &name, files).map(|_| ()).map_err(|e| e.to_string());
        let skill = file("SKILL.md", FileMode::Regular, b"s");
        assert_eq!(check(Kind::Skill, &[skill.clone(), file("a/b", FileMode::Regular, b"")]), Ok(()));
        assert!(check(Kind::Skill, &[]).unwrap_err().contains("no files"));
        assert!(check(Kind::Skill, &[file("README.md", FileMode::Regular, b"")]).unwrap_err().contains("SKILL.md"));
        assert!(check(Kind::Skill, &[skill.clone(), skill.clone()]).unwrap_err().contains("twice"));
        assert!(
            check(
                Kind::Skill,
                &[skill.clone(), file("a", FileMode::Regular, b""), file("a/b", FileMode::Regular, b"")]
            )
            .unwrap_err()
            .contains("also holds")
        );
        // Names that sort between a file and what is below it do not hide the clash.
        let between = [
            skill.clone(),
            file("a", FileMode::Regular, b""),
            file("a-b", FileMode::Regular, b""),
            file("a.c", FileMode::Regular, b""),
            file("a/b/c", FileMode::Regular, b""),
        ];
        assert!(check(Kind::Skill, &between).unwrap_err().contains("`a`"), "{:?}", check(Kind::Skill, &between));
        assert!(
            check(
                Kind::Skill,
                &[skill.clone(), file("x/y", FileMode::Regular, b""), file("x/y-z/w", FileMode::Regular, b"")]
            )
            .is_ok()
        );
        assert!(
            check(Kind::Skill, &[skill.clone(), file("x/.git/config", FileMode::Regular, b"")])
                .unwrap_err()
                .contains("hidden")
        );
        let mut big = skill.clone();
        big.length = MAX_PACKAGE_FILE_LEN + 1;
        assert!(check(Kind::Skill, &[big]).unwrap_err().contains("per file"));
        assert_eq!(check(Kind::Command, &[file("pdf.md", FileMode::Regular, b"")]), Ok(()));
        assert!(check(Kind::Command, &[skill]).unwrap_err().contains("pdf.md"));
    }

    #[test]
    fn a_skill_file_is_named_by_its_directory_with_a_warning_when_its_name_says_otherwise() {
        let check = |text: &str, expected: Option<&str>| {
            let directory = AgentName::new("pdf-forms").unwrap();
            let (file, warning) = read_skill_file(text.as_bytes(), &directory).unwrap();
            assert_eq!(file.name, directory);
            assert_eq!(file.description.as_deref(), Some("Fill"), "{text}");
            assert_eq!(&text[file.body_offset..], "body\n", "{text}");
            match (warning, expected) {
                (None, None) => {}
                (Some(warning), Some(fragment)) => assert!(warning.contains(fragment), "{warning}"),
                (warning, _) => panic!("{text}: {warning:?}, want {expected:?}"),
            }
        };
        check("---\nname: pdf-forms\ndescription: Fill\n---\nbody\n", None);
        check("---\nname: PDF Forms\ndescription: Fill\n---\nbody\n", Some("`name: PDF Forms` is not a skill name"));
        check("---\nname: \"PDF Forms\"\ndescription: Fill\n---\nbody\n", Some("`name: PDF Forms` is not a skill"));
        check("---\nname: pdf_forms\ndescription: Fill\n---\nbody\n", Some("only a-z, 0-9 and `-`"));
        check("---\nname: pdf\ndescription: Fill\n---\nbody\n", Some("differs from its directory `pdf-forms`"));
        check("---\ndescription: Fill\n---\nbody\n", Some("has no `name`"));
        let directory = AgentName::new("pdf-forms").unwrap();
        assert!(read_skill_file(b"no front matter\n", &directory).is_err());
    }

    #[test]
    fn skill_rules() {
        let check = |name: &str, description: Option<&str>, directory: &str| {
            check_skill(&AgentName::new(name).unwrap(), description, directory).map_err(|e| e.to_string())
        };
        assert_eq!(check("pdf-tools", Some("Reads PDFs"), "pdf-tools"), Ok(()));
        assert!(check("pdf-tools", Some("Reads PDFs"), "pdf").unwrap_err().contains("directory is `pdf`"));
        assert!(check("pdf_tools", Some("x"), "pdf_tools").unwrap_err().contains("a-z, 0-9"));
        assert!(check("pdf.tools", Some("x"), "pdf.tools").unwrap_err().contains("a-z, 0-9"));
        assert!(check("pdf--tools", Some("x"), "pdf--tools").unwrap_err().contains("--"));
        assert!(check("pdf", None, "pdf").unwrap_err().contains("no `description`"));
        assert!(check("pdf", Some("  "), "pdf").unwrap_err().contains("no `description`"));
        assert_eq!(check("pdf", Some(&"é".repeat(1024)), "pdf"), Ok(()));
        assert!(check("pdf", Some(&"é".repeat(1025)), "pdf").unwrap_err().contains("1025 characters"));
    }

    #[test]
    fn commands_are_named_by_their_file() {
        let name = AgentName::new("review").unwrap();
        let check = |text: &str| parse_command(&name, text.as_bytes()).map_err(|e| e.to_string());
        assert_eq!(check("Review $ARGUMENTS\n"), Ok(CommandFile::default()));
        let described =
            check("---\ndescription: Review the diff\nallowed-tools: Bash(git diff:*)\nversion: 1.2.0\n---\nGo\n")
                .unwrap();
        assert_eq!(described.description.as_deref(), Some("Review the diff"));
        assert_eq!(described.version.as_deref(), Some("1.2.0"));
        let named = check("---\nname: Other Name\ndescription: x: y\n---\n").unwrap();
        assert_eq!(named.description.as_deref(), Some("x: y"));
        assert!(check("---\ndescription: never closed\n").unwrap_err().contains("not closed"));
    }

    #[test]
    fn a_command_converts_for_gemini() {
        let name = AgentName::new("fix").unwrap();
        let text = "---\ndescription: Fix \"it\"\nallowed-tools: Bash\n---\nFix $ARGUMENTS now, $1 first\n";
        let (bytes, notes) = command_for_gemini(&name, text.as_bytes()).unwrap();
        let toml: toml::Table = toml::from_str(std::str::from_utf8(&bytes).unwrap()).unwrap();
        assert_eq!(toml["description"].as_str(), Some("Fix \"it\""));
        assert_eq!(toml["prompt"].as_str(), Some("Fix {{args}} now, $1 first\n"));
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("allowed-tools"));
        let (plain, notes) = command_for_gemini(&name, b"Just do it\n").unwrap();
        assert_eq!(plain, b"prompt = \"\"\"\nJust do it\n\"\"\"\n");
        assert!(notes.is_empty());
    }
}
