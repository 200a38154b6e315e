//! The remote side of agents: registries, read and written through git.
//!
//! A short tour:
//! - [`Registry`] is one registry opened at one snapshot: its [`agents_format::RegistryConfig`],
//!   its index files and its bodies, every body verified against its checksum on read.
//!   [`Registry::builtin`] is the registry compiled into the binary.
//! - [`Cache`] keeps one bare clone per registry URL and opens registries from it, fetching as a
//!   [`FetchMode`] says. A `sparse+https://` URL opens a sparse registry instead: the same tree
//!   served by a static web server, read file by file over HTTP ([`HttpConfig`]) and cached with
//!   the server's validators.
//! - [`init_registry`], [`publish`] and [`yank`] write to registries: a commit on the fetched tip,
//!   pushed without force, re-applied when another publisher won the race. [`migrate_registry`]
//!   moves a format-1 registry's bodies to format 2's two-level paths in one such commit.
//! - [`publish_package`] publishes a skill directory or a command file
//!   ([`read_skill_directory`], [`read_package`]); [`Registry::package_files`] reads a
//!   package's files back, each verified.
//! - [`signing`] signs and verifies with SSH keys: [`publish_signed`] and [`change_owners`]
//!   sign, [`verify_version`] is the check a client makes before it accepts a version.

mod cache;
mod check;
mod collection;
mod error;
mod http;
mod known_entries;
pub mod libgit2;
mod migrate;
mod package;
mod publish;
mod registry;
mod root;
pub mod signing;
mod source;
mod sparse;
mod sparse_summary;
mod summary;
mod transport;
mod upkeep;

pub use cache::{Cache, FetchMode};
pub use check::{CheckReport, check_registry};
pub use collection::{
    Found, MAX_COLLECTION_FILE_LEN, MarketplacePlugin, Skipped, clone_collection, collection_origin, find_agent_files,
    find_collection_packages, find_marketplace_plugins, read_found, read_marketplace_plugin,
};
pub use error::{RegistryError, Result};
pub use http::HttpConfig;
pub use migrate::{Migrated, migrate_registry};
pub use package::{
    FoundPackage, PackageContent, PublishPackage, SkillDirectory, find_packages, is_in_package, prepare_package,
    publish_bundle, publish_package, read_package, read_plugin_directory, read_skill_directory, skill_name_warning,
};
pub use publish::{
    OwnersChange, Publish, change_owners, init_registry, init_signed_registry, prepare_bundle, prepare_record, publish,
    publish_many, publish_many_signed, publish_signed, with_requirements, yank,
};
pub use registry::{BUILTIN_NAME, Registry};
pub use root::{RotatedRoot, SignedRegistry, rotate_root, sign_registry};
pub use signing::{KeySigner, SignatureError, Signer, Verdict, verify_version};
pub use source::builtin_files;
pub use sparse_summary::{
    MAX_SEARCH_SUMMARY_LEN, SEARCH_SUMMARY_PATH, search_summary, search_summary_header, search_summary_line,
};
pub use summary::Summary;
pub use transport::{NetConfig, Progress};
