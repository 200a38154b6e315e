//! The documents `--json` prints for `list`, `verify`, `info`, `search`, `outdated`, `doctor`,
//! `registry list` and `daemon status`: typed views, each carrying [`SCHEMA`], documented field by
//! field in docs/json.md (a test holds the two together).
//!
//! The views are this module's own structs, not the library's: a field added to a library type
//! must not change what scripts read without a line here and in the docs. Within one schema
//! version fields are only added; removing one or changing its meaning bumps [`SCHEMA`].

use std::path::PathBuf;

use agents_format::{AgentName, IndexRecord, Kind};
use agents_workspace::control::DaemonStatus;
use agents_workspace::{Origin, Status};

/// The version of every `--json` document's shape.
pub(crate) const SCHEMA: u32 = 1;

/// A document: `schema` first, then the command's fields.
#[derive(serde::Serialize)]
pub(crate) struct Document<T> {
    schema: u32,
    #[serde(flatten)]
    body: T,
}

pub(crate) fn document<T: serde::Serialize>(body: T) -> Document<T> {
    Document { schema: SCHEMA, body }
}

/// `agents list --json`.
#[derive(serde::Serialize)]
pub(crate) struct List {
    pub(crate) packages: Vec<Package>,
    /// Executable content (an MCP server's command) not written until the user approves it.
    pub(crate) awaiting_approval: Vec<agents_workspace::consent::Pending>,
}

/// `agents verify --json`.
#[derive(serde::Serialize)]
pub(crate) struct Verify {
    pub(crate) ok: bool,
    pub(crate) strict: bool,
    pub(crate) packages: Vec<Package>,
    /// Signature problems, one line each.
    pub(crate) signatures: Vec<String>,
}

/// One package of the workspace against the lockfile.
#[derive(serde::Serialize)]
pub(crate) struct Package {
    name: AgentName,
    kind: Kind,
    version: Option<semver::Version>,
    requirement: Option<String>,
    registry_id: Option<String>,
    sha256: Option<String>,
    signer: Option<String>,
    path: PathBuf,
    status: Status,
    files: Vec<PackageFile>,
    edited_on: Option<semver::Version>,
    conflict: Option<Conflict>,
    installed: Option<semver::Version>,
}

#[derive(serde::Serialize)]
struct PackageFile {
    target: String,
    path: PathBuf,
    status: Status,
}

#[derive(serde::Serialize)]
struct Conflict {
    version: semver::Version,
    upstream: PathBuf,
}

impl From<&agents_workspace::PackageStatus> for Package {
    fn from(status: &agents_workspace::PackageStatus) -> Package {
        Package {
            name: status.name.clone(),
            kind: status.kind,
            version: status.version.clone(),
            requirement: status.requirement.clone(),
            registry_id: status.registry.clone(),
            sha256: status.sha256.clone(),
            signer: status.signer.clone(),
            path: status.path.clone(),
            status: status.status,
            files: status
                .files
                .iter()
                .map(|f| PackageFile { target: f.target.clone(), path: f.path.clone(), status: f.status })
                .collect(),
            edited_on: status.edited_on.clone(),
            conflict: status
                .conflict
                .as_ref()
                .map(|c| Conflict { version: c.version.clone(), upstream: c.upstream.clone() }),
            installed: status.installed.clone(),
        }
    }
}

pub(crate) fn packages(statuses: &[agents_workspace::PackageStatus]) -> Vec<Package> {
    statuses.iter().map(Package::from).collect()
}

/// `agents info NAME --json`.
#[derive(serde::Serialize)]
pub(crate) struct Info {
    pub(crate) name: AgentName,
    pub(crate) kind: Kind,
    pub(crate) registry: String,
    pub(crate) description: Option<String>,
    /// The version the lockfile pins here.
    pub(crate) installed: Option<semver::Version>,
    /// Newest first.
    pub(crate) versions: Vec<Version>,
}

/// One published version, as `info` shows it.
#[derive(serde::Serialize)]
pub(crate) struct Version {
    version: semver::Version,
    sha256: String,
    length: u64,
    published: String,
    yanked: bool,
    signed: bool,
    /// What the version requires (`NAME@REQ`, `REGISTRY-ID/NAME@REQ`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    requires: Vec<String>,
}

impl From<&IndexRecord> for Version {
    fn from(record: &IndexRecord) -> Version {
        Version {
            version: record.version.clone(),
            sha256: record.sha256.to_string(),
            length: record.length,
            published: record.published.clone(),
            yanked: record.yanked,
            signed: record.signature.is_some(),
            requires: record.requires.iter().map(|r| r.to_text()).collect(),
        }
    }
}

/// `agents search --json`.
#[derive(serde::Serialize)]
pub(crate) struct Search {
    pub(crate) packages: Vec<Hit>,
}

/// One package a search found, at its newest version.
#[derive(serde::Serialize)]
pub(crate) struct Hit {
    pub(crate) name: AgentName,
    pub(crate) kind: Kind,
    pub(crate) version: semver::Version,
    pub(crate) registry: String,
    pub(crate) description: Option<String>,
}

/// `agents outdated --json`.
#[derive(serde::Serialize)]
pub(crate) struct Outdated {
    pub(crate) packages: Vec<OutdatedPackage>,
}

#[derive(serde::Serialize)]
pub(crate) struct OutdatedPackage {
    name: AgentName,
    kind: Kind,
    registry: String,
    registry_id: String,
    requirement: Option<String>,
    current: semver::Version,
    compatible: Option<semver::Version>,
    latest: Option<semver::Version>,
    yanked: bool,
    /// The locked packages that require it (empty: only the manifest asked for it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    required_by: Vec<AgentName>,
}

impl From<&agents_workspace::Outdated> for OutdatedPackage {
    fn from(outdated: &agents_workspace::Outdated) -> OutdatedPackage {
        OutdatedPackage {
            name: outdated.name.clone(),
            kind: outdated.kind,
            registry: outdated.registry.clone(),
            registry_id: outdated.registry_id.to_string(),
            requirement: outdated.requirement.clone(),
            current: outdated.current.clone(),
            compatible: outdated.compatible.clone(),
            latest: outdated.latest.clone(),
            yanked: outdated.yanked,
            required_by: outdated.required_by.clone(),
        }
    }
}

/// `agents doctor --json`.
#[derive(serde::Serialize)]
pub(crate) struct Doctor<'a, C: serde::Serialize> {
    pub(crate) ok: bool,
    pub(crate) checks: &'a [C],
}

/// `agents registry list --json`.
#[derive(serde::Serialize)]
pub(crate) struct RegistryList {
    pub(crate) registries: Vec<Registry>,
}

#[derive(serde::Serialize)]
pub(crate) struct Registry {
    name: String,
    url: String,
    origin: Origin,
}

impl From<&agents_workspace::RegistryEntry> for Registry {
    fn from(entry: &agents_workspace::RegistryEntry) -> Registry {
        Registry { name: entry.name.clone(), url: entry.url.clone(), origin: entry.origin }
    }
}

/// `agents daemon status --json`: whether a daemon runs, and when it answered, its status.
#[derive(serde::Serialize)]
pub(crate) struct Daemon<'a> {
    running: bool,
    /// Why a running daemon did not answer.
    busy: Option<String>,
    #[serde(flatten)]
    status: Option<&'a DaemonStatus>,
}

pub(crate) fn daemon(running: bool, busy: Option<String>, status: Option<&DaemonStatus>) -> Document<Daemon<'_>> {
    document(Daemon { running, busy, status })
}
