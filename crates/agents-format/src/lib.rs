//! The agents registry format: pure types and parsing, no IO, no clock, no environment.
//!
//! A short tour:
//! - [`AgentFile`] parses an agent definition (Markdown with YAML front matter) leniently and
//!   lints it; the bytes themselves are never rewritten. [`AgentName`] is the validated identity.
//! - [`Sha256`] is the checksum over an agent file's exact bytes.
//! - [`RegistryConfig`] is a registry's `config.json`; [`IndexFile`] holds the JSON-lines records
//!   of one agent ([`IndexRecord`], one per version); index files, owners lists and bodies live
//!   where the config's [`Layout`] (format 1 or 2) says ([`Layout::index_path`]).
//! - A record of [`Kind`] `skill` or `command` is a package: its [`PackageFile`]s, each
//!   content-addressed, pinned together by their [`package_digest`].
//! - A record may carry [`Requirement`]s (schema 3, [`REQUIRES_RECORD_SCHEMA`]); a record of
//!   kind `bundle` is only requirements, pinned by their [`bundle_digest`].
//! - [`Manifest`] is `agents.toml` (requirements, and the team's [`McpServer`]s), [`Lockfile`]
//!   is `agents.lock` (exact pins, and each managed entry in a tool's config file).
//! - [`RegistryUrl`] is a registry URL git can never read as an option or a command.
//! - [`select`] picks the version to install.
//! - [`record_payload`], [`owners_payload`] and [`config_payload`] are the byte strings SSH
//!   signatures cover (the cryptography is in `agents-registry`).
//! - [`scan_hidden_unicode`] is the one hidden-Unicode gate: [`HiddenScan::Clean`], `Found` or
//!   `Unscannable` (a deny policy refuses the last as it does the second).

mod agent_file;
mod checksum;
mod commands;
mod config;
mod export;
#[doc(hidden)]
pub mod fuzzing;
mod index;
mod layout;
mod lockfile;
mod manifest;
mod mcp;
mod name;
mod owners;
mod package;
mod plugin;
mod relative_path;
mod requirement;
mod select;
mod signing;
mod source;
mod targets;
mod timestamp;
mod unicode;
mod url;
mod user_config;

pub use agent_file::{
    AgentFile, AgentFileError, KNOWN_COLORS, KNOWN_FIELDS, KNOWN_MODELS, MAX_AGENT_FILE_LEN, MAX_FRONT_MATTER_LEN,
    MAX_INDEX_DESCRIPTION_CHARS, Warning, WarningCode, parse_version,
};
pub use checksum::{ChecksumError, Sha256};
pub use commands::{CLAUDE_CODE_BUILTIN_COMMANDS, ConvertedCommand, builtin_command_warning};
pub use config::{BUILTIN_REGISTRY_ID, ConfigError, MAX_CONFIG_LEN, RegistryConfig, RegistryId, RegistryIdError};
pub use export::{
    AGENT_PLUGINS_MCP_SCHEMA, AGENT_PLUGINS_SCHEMA, ExportError, ExportFile, ExportPackage, Exported, to_agent_plugin,
    to_claude_marketplace,
};
pub use index::{
    IndexError, IndexFile, IndexLine, IndexRecord, InvalidLine, MAX_INDEX_FILE_LEN, RECORD_SCHEMA,
    REQUIRES_RECORD_SCHEMA, Rewrites, YankStatement,
};
pub use layout::{BodyDepth, Layout, body_depth, one_level_body_path, two_level_body_path};
pub use lockfile::{LOCKFILE_VERSION, LockedAgent, LockedEntry, LockedFile, Lockfile, LockfileError};
pub use manifest::{
    Dependency, EMPTY_MANIFEST, Manifest, ManifestError, RegistrySource, remove_dependency, set_dependency,
    set_targets, validate_registry_name,
};
pub use mcp::{
    ConfigFormat, MAX_MCP_ITEMS, MAX_MCP_SERVERS, MAX_MCP_STRING_LEN, McpEntry, McpServer, McpServerName, RawMcpServer,
    RemoteKind, shell_quote,
};
pub use name::{AgentName, MAX_NAME_LEN, NameError, closest_name};
pub use owners::{OWNERS_SCHEMA, Owners, OwnersRevision, Retained};
pub use package::{
    CommandFile, FileMode, Kind, MAX_PACKAGE_FILE_LEN, MAX_PACKAGE_FILES, MAX_PACKAGE_LEN, MAX_SKILL_DESCRIPTION_CHARS,
    MAX_SKILL_NAME_LEN, PACKAGE_DIGEST_NAMESPACE, PACKAGE_RECORD_SCHEMA, PackageError, PackageFile, SKILL_FILE,
    check_listing, check_skill, check_skill_name, command_for_gemini, package_digest, package_listing, parse_command,
    read_skill_file,
};
pub use plugin::{
    AGENT_PLUGINS_MANIFEST, AGENT_PLUGINS_SCHEMA_PREFIX, CLAUDE_PLUGIN_MANIFEST, MAX_PLUGIN_CONFIG_LEN,
    PLUGIN_RECORD_SCHEMA, Plugin, PluginCommand, PluginDependency, PluginError, PluginFormat, parse_plugin,
    plugin_dependencies, plugin_hidden_path_allowed, plugin_manifest_path, reserved_plugin_name,
};
pub use relative_path::{MAX_RELATIVE_PATH_LEN, RelativePath, RelativePathError};
pub use requirement::{
    BUNDLE_DIGEST_NAMESPACE, MAX_REQUIREMENTS, Requirement, RequirementError, bundle_digest, check_requirements,
    parse_version_req, requirement_lines,
};
pub use select::{caret, select};
pub use signing::{
    CONFIG_NAMESPACE, CONFIG_ROOT_FIELD, CONFIG_ROTATIONS_FIELD, CONFIG_SIGNATURE_FIELD, OWNERS_NAMESPACE,
    RECORD_NAMESPACE, ROTATE_NAMESPACE, YANK_NAMESPACE, config_payload, key_without_comment, owners_payload,
    record_payload, record_signing_payload, rotation_payload, yank_payload,
};
pub use source::{SOURCE_FIELD, Source, collection_identity};
pub use targets::{COPILOT_MAX_BODY_CHARS, Converted, Target, UnknownTarget, loss_kind};
pub use timestamp::{format_utc, is_valid_utc};
pub use unicode::{
    BINARY_SNIFF_LEN, FileScan, HiddenChar, HiddenKind, HiddenScan, MAX_HIDDEN_SCAN_LEN, classify as classify_hidden,
    find_hidden, is_binary, is_instructions, scan_hidden_unicode, scan_package_file,
};
pub use url::{MAX_REGISTRY_URL_LEN, RegistryUrl, RegistryUrlError};
pub use user_config::{
    AutoUpdate, DaemonSettings, HiddenUnicodePolicy, NetSettings, SecuritySettings, UserConfig, remove_registry,
    set_registry,
};
