//! The registry index: one JSON-lines file per agent under a sharded path, one line per version.
//!
//! Lines are kept in publish order. A line whose `schema` this client does not know is carried
//! through untouched (so an old client that yanks a version does not destroy a newer record), and
//! a line that does not parse is reported, never fatal to the rest of the file.
//!
//! Records are strict where a lenient reading would let a registry change a published version: a
//! version with build metadata (`1.0.0+evil`, which semver lets satisfy `=1.0.0`) is not a record,
//! and a second record for a version already recorded is listed in [`IndexFile::duplicates`],
//! which readers refuse.

use std::collections::BTreeMap;

use crate::checksum::Sha256;
use crate::name::AgentName;
use crate::package::{Kind, PACKAGE_RECORD_SCHEMA, PackageFile, check_listing, package_digest};
use crate::plugin::PLUGIN_RECORD_SCHEMA;
use crate::requirement::{Requirement, bundle_digest, check_requirements};

/// The record schema of agents, which this client reads and writes (packages use
/// [`PACKAGE_RECORD_SCHEMA`]).
pub const RECORD_SCHEMA: u32 = 1;

/// The record schema of a version with requirements, and of every bundle: a client that does not
/// know requirements must skip such a version rather than install it without what it needs.
pub const REQUIRES_RECORD_SCHEMA: u32 = 3;

/// The largest index file a client reads, in bytes (about 20 000 versions of one agent).
pub const MAX_INDEX_FILE_LEN: usize = 8 * 1024 * 1024;

/// One published version of one agent.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IndexRecord {
    pub schema: u32,
    pub name: AgentName,
    pub version: semver::Version,
    /// SHA-256 over the exact bytes of the body.
    pub sha256: Sha256,
    /// Byte length of the body.
    pub length: u64,
    /// Publish time, RFC 3339 in UTC (`2026-11-24T02:50:41Z`).
    pub published: String,
    /// The only mutable bit of a published version. In a signed registry it counts only when
    /// [`IndexRecord::yank`] signs it.
    pub yanked: bool,
    /// One line of the agent's description, for `search` and `info` without fetching bodies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The publisher's SSH signature (armored SSHSIG, namespace `agents-registry-record-v1`)
    /// over [`crate::record_payload`]: who published this version. Absent in unsigned registries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// The owner's signed statement of `yanked` (signed registries): absent until the version is
    /// first yanked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yank: Option<YankStatement>,
    /// What the version publishes; absent (an agent) in schema 1.
    #[serde(default, skip_serializing_if = "Kind::is_agent")]
    pub kind: Kind,
    /// A package's files (schema 2); `sha256` is then their [`package_digest`] and `length`
    /// the sum of their lengths. Empty for an agent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<PackageFile>,
    /// What this version needs installed beside it (schema 3), sorted; covered by the signature.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Requirement>,
    /// Fields written by newer clients, kept so rewriting a line never loses them.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// An owner's (or the root's) signature over a version's yank state: armored SSHSIG in namespace
/// `agents-registry-yank-v1` over [`crate::yank_payload`] with the record's `yanked` and this
/// `change`, the number of the statement (1 for the first yank, 2 for the unyank after it…).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct YankStatement {
    pub change: u64,
    pub signature: String,
}

impl IndexRecord {
    /// Serialises the record as one canonical line, without the newline.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("an index record always serialises to JSON")
    }

    /// Whether this is a package (a skill or a command) rather than an agent.
    pub fn is_package(&self) -> bool {
        !self.kind.is_agent()
    }

    /// Why this record's kind, schema and listing do not agree, if they do not: an agent is
    /// schema 1 without files; a package is schema 2 with a valid listing whose digest and total
    /// length are the record's `sha256` and `length`.
    pub fn check_shape(&self) -> Result<(), String> {
        if self.kind == Kind::Plugin || self.schema == PLUGIN_RECORD_SCHEMA {
            return self.check_plugin_shape();
        }
        if self.schema == REQUIRES_RECORD_SCHEMA {
            return self.check_requires_shape();
        }
        if !self.requires.is_empty() {
            return Err(format!(
                "a record with `requires` must be schema {REQUIRES_RECORD_SCHEMA}, not {}",
                self.schema
            ));
        }
        match (self.kind, self.schema) {
            (Kind::Agent, RECORD_SCHEMA) if self.files.is_empty() => Ok(()),
            (Kind::Agent, RECORD_SCHEMA) => Err("an agent record lists files".to_owned()),
            (Kind::Agent, _) => Err(format!("a schema-{} record needs a `kind` other than agent", self.schema)),
            (Kind::Bundle, schema) => {
                Err(format!("a bundle record must be schema {REQUIRES_RECORD_SCHEMA}, not {schema}"))
            }
            (_, PACKAGE_RECORD_SCHEMA) => self.check_listing_shape(),
            (kind, schema) => Err(format!("a {kind} record must be schema {PACKAGE_RECORD_SCHEMA}, not {schema}")),
        }
    }

    /// The listing of a package record: valid for its kind, sorted, and adding up to the
    /// record's `sha256` and `length`.
    fn check_listing_shape(&self) -> Result<(), String> {
        let sorted = check_listing(self.kind, &self.name, &self.files).map_err(|e| e.to_string())?;
        if sorted != self.files {
            return Err("files are not sorted by path".to_owned());
        }
        if package_digest(self.kind, &self.files) != self.sha256 {
            return Err("`sha256` is not the package digest of `files`".to_owned());
        }
        let total: u64 = self.files.iter().map(|f| f.length).sum();
        if total != self.length {
            return Err(format!("`length` is {}, but the files hold {total} bytes", self.length));
        }
        Ok(())
    }

    /// [`IndexRecord::check_shape`] for a plugin: schema 4, its requirements (if any) checked
    /// and sorted, and its listing as a package's.
    fn check_plugin_shape(&self) -> Result<(), String> {
        if self.kind != Kind::Plugin || self.schema != PLUGIN_RECORD_SCHEMA {
            return Err(format!(
                "a plugin record is schema {PLUGIN_RECORD_SCHEMA}, and a schema-{PLUGIN_RECORD_SCHEMA} record is a plugin"
            ));
        }
        let sorted = check_requirements(&self.name, &self.requires)?;
        if sorted != self.requires {
            return Err("`requires` is not sorted by name".to_owned());
        }
        self.check_listing_shape()
    }

    /// [`IndexRecord::check_shape`] for schema 3: requirements checked and sorted, then each
    /// kind as in its own schema; a bundle has no files, its `sha256` is the [`bundle_digest`]
    /// of its requirements and its `length` 0.
    fn check_requires_shape(&self) -> Result<(), String> {
        let sorted = check_requirements(&self.name, &self.requires)?;
        if sorted != self.requires {
            return Err("`requires` is not sorted by name".to_owned());
        }
        match self.kind {
            Kind::Bundle if !self.files.is_empty() => Err("a bundle record lists files".to_owned()),
            Kind::Bundle if self.requires.is_empty() => Err("a bundle requires nothing".to_owned()),
            Kind::Bundle if bundle_digest(&self.requires) != self.sha256 => {
                Err("`sha256` is not the bundle digest of `requires`".to_owned())
            }
            Kind::Bundle if self.length != 0 => Err(format!("a bundle's `length` is 0, not {}", self.length)),
            Kind::Bundle => Ok(()),
            Kind::Agent => IndexRecord { schema: RECORD_SCHEMA, requires: Vec::new(), ..self.clone() }.check_shape(),
            _ => IndexRecord { schema: PACKAGE_RECORD_SCHEMA, requires: Vec::new(), ..self.clone() }.check_shape(),
        }
    }
}

/// One line of an index file.
// Nearly every line is a record; boxing them to shrink the rare verbatim line would cost every
// record an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum IndexLine {
    Record(IndexRecord),
    /// A line from a newer schema, kept verbatim.
    Unknown(String),
}

/// A line that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidLine {
    /// 1-based line number.
    pub line: usize,
    pub message: String,
    pub text: String,
}

/// A parsed index file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexFile {
    pub lines: Vec<IndexLine>,
    pub invalid: Vec<InvalidLine>,
    /// Versions recorded by more than one record. Only the first is kept as a record (the others
    /// are carried verbatim and listed in `invalid`); a reader refuses the file all the same,
    /// since a second record is how a published version's bytes would be replaced.
    pub duplicates: Vec<semver::Version>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error("{name}@{version} is already published")]
    VersionExists { name: AgentName, version: semver::Version },
    #[error("{name}@{version} is not published")]
    VersionMissing { name: AgentName, version: semver::Version },
    #[error("{name}@{version} has more than one record in its index file; a published version is immutable")]
    DuplicateVersion { name: AgentName, version: semver::Version },
}

impl IndexFile {
    /// Parses an index file. Never fails: unreadable lines are listed in `invalid`.
    pub fn parse(text: &str) -> IndexFile {
        let mut file = IndexFile::default();
        // Split on `\n` alone: `lines()` would also eat one `\r` of a line kept verbatim, and a
        // rewrite would then differ from the original (found by fuzzing).
        for (index, raw) in text.split('\n').enumerate() {
            if raw.trim().is_empty() {
                continue;
            }
            // An unreadable line is reported and also kept verbatim, so rewriting the file (a
            // publish or a yank) never destroys what this client could not read.
            let mut invalid = |message: String| {
                file.invalid.push(InvalidLine { line: index + 1, message, text: raw.to_owned() });
                file.lines.push(IndexLine::Unknown(raw.to_owned()));
            };
            // The common case, a record of this client's schema, parses in one pass; anything
            // else is classified through a generic JSON value below.
            if let Ok(record) = serde_json::from_str::<IndexRecord>(raw)
                && record.schema == RECORD_SCHEMA
                && record.kind.is_agent()
                && record.files.is_empty()
            {
                file.push_parsed(record, index + 1, raw);
                continue;
            }
            let value: serde_json::Value = match serde_json::from_str(raw) {
                Ok(value) => value,
                Err(error) => {
                    invalid(format!("not JSON: {error}"));
                    continue;
                }
            };
            match value.get("schema").and_then(serde_json::Value::as_u64) {
                Some(schema)
                    if [RECORD_SCHEMA, PACKAGE_RECORD_SCHEMA, REQUIRES_RECORD_SCHEMA, PLUGIN_RECORD_SCHEMA]
                        .iter()
                        .any(|known| u64::from(*known) == schema) => {}
                Some(_) => {
                    file.lines.push(IndexLine::Unknown(raw.to_owned()));
                    continue;
                }
                None => {
                    invalid("no numeric `schema` field".to_owned());
                    continue;
                }
            }
            match serde_json::from_value::<IndexRecord>(value) {
                Ok(record) => file.push_parsed(record, index + 1, raw),
                Err(error) => invalid(error.to_string()),
            }
        }
        file
    }

    /// Adds a schema-1 record read from line `line`, unless it has build metadata or repeats a
    /// version: those are kept verbatim and reported.
    fn push_parsed(&mut self, record: IndexRecord, line: usize, raw: &str) {
        let refuse = |file: &mut IndexFile, message: String| {
            file.invalid.push(InvalidLine { line, message, text: raw.to_owned() });
            file.lines.push(IndexLine::Unknown(raw.to_owned()));
        };
        if let Err(message) = record.check_shape() {
            return refuse(self, message);
        }
        if !record.version.build.is_empty() {
            let message = format!(
                "version {} has build metadata, which published versions never carry (it would satisfy `={}`)",
                record.version,
                base_version(&record.version)
            );
            return refuse(self, message);
        }
        if self.find(&record.version).is_some() {
            if !self.duplicates.contains(&record.version) {
                self.duplicates.push(record.version.clone());
            }
            let message = format!("a second record for {}@{}", record.name, record.version);
            return refuse(self, message);
        }
        self.lines.push(IndexLine::Record(record));
    }

    /// Refuses a file that records one version twice, naming the first such agent@version.
    pub fn check_unique(&self, name: &AgentName) -> Result<(), IndexError> {
        match self.duplicates.first() {
            Some(version) => Err(IndexError::DuplicateVersion { name: name.clone(), version: version.clone() }),
            None => Ok(()),
        }
    }

    /// The canonical text: every record as this client writes it and every other line verbatim,
    /// each ending in a newline.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            match line {
                IndexLine::Record(record) => out.push_str(&record.to_line()),
                IndexLine::Unknown(raw) => out.push_str(raw),
            }
            out.push('\n');
        }
        out
    }

    /// Records this client understands, in publish order.
    pub fn records(&self) -> impl Iterator<Item = &IndexRecord> {
        self.lines.iter().filter_map(|line| match line {
            IndexLine::Record(record) => Some(record),
            IndexLine::Unknown(_) => None,
        })
    }

    pub fn find(&self, version: &semver::Version) -> Option<&IndexRecord> {
        self.records().find(|record| &record.version == version)
    }

    /// Whether any line, including one of a newer schema or one refused for its build metadata,
    /// claims `version`. Build metadata is ignored: `1.0.0+x` claims `1.0.0`.
    pub fn claims(&self, version: &semver::Version) -> bool {
        let version = base_version(version);
        self.lines.iter().any(|line| match line {
            IndexLine::Record(record) => base_version(&record.version) == version,
            IndexLine::Unknown(raw) => serde_json::from_str::<serde_json::Value>(raw)
                .ok()
                .and_then(|value| value.get("version")?.as_str()?.parse::<semver::Version>().ok())
                .is_some_and(|claimed| base_version(&claimed) == version),
        })
    }

    /// Appends a new version. Published versions are immutable: a version any line already
    /// claims (even one of a newer schema) is an error.
    pub fn push(&mut self, record: IndexRecord) -> Result<(), IndexError> {
        if self.claims(&record.version) {
            return Err(IndexError::VersionExists { name: record.name, version: record.version });
        }
        self.lines.push(IndexLine::Record(record));
        Ok(())
    }

    /// Sets the yank flag of a version. Returns whether anything changed.
    pub fn set_yanked(
        &mut self,
        name: &AgentName,
        version: &semver::Version,
        yanked: bool,
    ) -> Result<bool, IndexError> {
        let record = self.lines.iter_mut().find_map(|line| match line {
            IndexLine::Record(record) if &record.version == version => Some(record),
            _ => None,
        });
        let Some(record) = record else {
            return Err(IndexError::VersionMissing { name: name.clone(), version: version.clone() });
        };
        let changed = record.yanked != yanked;
        record.yanked = yanked;
        Ok(changed)
    }
}

/// What a newer copy of index files does to the versions an older copy published, each entry
/// `name@version`: a published version is immutable, so a registry with any of these is refused
/// as rewritten. Gathered over one or more files ([`Rewrites::add`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rewrites {
    /// Versions the new copy records twice: a second record is how a published version's bytes
    /// would be replaced while the first record stays as it was.
    pub doubled: Vec<String>,
    /// Versions whose checksum or length changed (`name@version (sha256 OLD → NEW)`).
    pub changed: Vec<String>,
    /// Versions the old copy recorded and the new one does not.
    pub dropped: Vec<String>,
    /// Versions whose signed yank statement went back to an earlier one, or disappeared
    /// (`name@version (change OLD → NEW)`): how a replayed or stripped unyank would look.
    pub rolled_back: Vec<String>,
}

impl Rewrites {
    /// Adds what `new`, the newer copy of the index file `file_name`, rewrites of `old`, its
    /// previous copy (`None` when there was none: only second records are looked for). A file
    /// that disappeared is `new` empty.
    pub fn add(&mut self, file_name: &str, old: Option<&IndexFile>, new: &IndexFile) {
        self.doubled.extend(new.duplicates.iter().map(|version| format!("{file_name}@{version}")));
        for record in old.iter().flat_map(|old| old.records()) {
            match new.find(&record.version) {
                None => self.dropped.push(format!("{}@{}", record.name, record.version)),
                Some(now) if now.sha256 != record.sha256 || now.length != record.length => self
                    .changed
                    .push(format!("{}@{} (sha256 {} → {})", record.name, record.version, record.sha256, now.sha256)),
                // Requirements are as immutable as the bytes: changing them changes what installs.
                Some(now) if now.requires != record.requires => {
                    self.changed.push(format!("{}@{} (requirements changed)", record.name, record.version))
                }
                Some(now) => {
                    let change = |r: &IndexRecord| r.yank.as_ref().map_or(0, |statement| statement.change);
                    if change(now) < change(record) {
                        self.rolled_back.push(format!(
                            "{}@{} (yank statement {} → {})",
                            record.name,
                            record.version,
                            change(record),
                            change(now)
                        ));
                    }
                }
            }
        }
    }

    /// What [`Rewrites::add`] finds for one file.
    pub fn of(file_name: &str, old: Option<&IndexFile>, new: &IndexFile) -> Rewrites {
        let mut rewrites = Rewrites::default();
        rewrites.add(file_name, old, new);
        rewrites
    }

    /// Why the registry is refused, when it is: a second record first, then a changed checksum,
    /// then a version gone (with `gone_hint`, a likely cause, in parentheses). `None` when every
    /// published version is intact.
    pub fn reason(&self, gone_hint: Option<&str>) -> Option<String> {
        if !self.doubled.is_empty() {
            return Some(format!("published versions have a second record: {}", self.doubled.join(", ")));
        }
        if !self.changed.is_empty() {
            return Some(format!("published versions changed their checksum: {}", self.changed.join(", ")));
        }
        if !self.dropped.is_empty() {
            let hint = gone_hint.map(|hint| format!(" ({hint})")).unwrap_or_default();
            return Some(format!("published versions disappeared{hint}: {}", self.dropped.join(", ")));
        }
        if !self.rolled_back.is_empty() {
            return Some(format!("signed yank statements went back to earlier ones: {}", self.rolled_back.join(", ")));
        }
        None
    }
}

/// `version` without its build metadata: what semver's matching compares.
fn base_version(version: &semver::Version) -> semver::Version {
    semver::Version { build: semver::BuildMetadata::EMPTY, ..version.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(version: &str) -> IndexRecord {
        IndexRecord {
            schema: 1,
            name: AgentName::new("go-backend-expert").unwrap(),
            version: version.parse().unwrap(),
            sha256: Sha256::of(version.as_bytes()),
            length: 5,
            published: "2026-11-24T00:00:00Z".into(),
            yanked: false,
            description: Some("Go".into()),
            signature: None,
            yank: None,
            kind: Kind::Agent,
            files: Vec::new(),
            requires: Vec::new(),
            extra: BTreeMap::new(),
        }
    }

    #[test]
    fn a_newer_copy_may_add_and_yank_but_not_double_change_or_drop_a_published_version() {
        let old = IndexFile::parse(&[record("1.0.0"), record("1.1.0")].map(|r| r.to_line()).join("\n"));
        // Yanking, a new version and a new description are not rewrites.
        let mut yanked = record("1.0.0");
        yanked.yanked = true;
        yanked.description = Some("other".into());
        let grown = IndexFile::parse(&[yanked, record("1.1.0"), record("2.0.0")].map(|r| r.to_line()).join("\n"));
        assert_eq!(Rewrites::of("go-backend-expert", Some(&old), &grown), Rewrites::default());
        assert_eq!(Rewrites::of("go-backend-expert", Some(&old), &grown).reason(None), None);

        let mut changed = record("1.1.0");
        changed.sha256 = Sha256::of(b"other bytes");
        let mut longer = record("1.0.0");
        longer.length = 6;
        let rewritten = IndexFile::parse(&[longer, changed.clone()].map(|r| r.to_line()).join("\n"));
        let rewrites = Rewrites::of("go-backend-expert", Some(&old), &rewritten);
        assert_eq!(rewrites.changed.len(), 2, "{rewrites:?}");
        assert!(rewrites.changed[1].starts_with("go-backend-expert@1.1.0 (sha256 "), "{rewrites:?}");
        assert!(rewrites.reason(None).unwrap().starts_with("published versions changed their checksum: "));

        let shrunk = IndexFile::parse(&record("1.1.0").to_line());
        let rewrites = Rewrites::of("go-backend-expert", Some(&old), &shrunk);
        assert_eq!(rewrites.dropped, ["go-backend-expert@1.0.0"]);
        assert_eq!(
            rewrites.reason(Some("a force push?")).as_deref(),
            Some("published versions disappeared (a force push?): go-backend-expert@1.0.0")
        );
        // A file gone is every version gone.
        let gone = Rewrites::of("go-backend-expert", Some(&old), &IndexFile::default());
        assert_eq!(
            gone.reason(None).as_deref(),
            Some("published versions disappeared: go-backend-expert@1.0.0, go-backend-expert@1.1.0")
        );

        // A second record is refused even in a file seen for the first time, and comes first.
        let doubled = IndexFile::parse(&[record("1.0.0"), changed, record("1.1.0")].map(|r| r.to_line()).join("\n"));
        assert_eq!(Rewrites::of("go-backend-expert", None, &doubled).doubled, ["go-backend-expert@1.1.0"]);
        let mut all = Rewrites::of("go-backend-expert", Some(&old), &shrunk);
        all.add("go-backend-expert", Some(&old), &doubled);
        assert_eq!(
            all.reason(None).as_deref(),
            Some("published versions have a second record: go-backend-expert@1.1.0")
        );
    }

    #[test]
    fn round_trip_is_canonical_and_keeps_unknown_data() {
        let text = concat!(
            r#"{"schema":1,"name":"go-backend-expert","version":"1.0.0","sha256":"2d8c2f6d978ca21712b5f6de36c9d31fa8e96a4fa5d8ff8b0188dfb9e7c2fb1c","length":5,"published":"2026-11-24T00:00:00Z","yanked":false,"future":{"a":1}}"#,
            "\n",
            r#"{"schema":9,"anything":"goes"}"#,
            "\n"
        );
        let file = IndexFile::parse(text);
        assert!(file.invalid.is_empty(), "{:?}", file.invalid);
        assert_eq!(file.records().count(), 1);
        assert_eq!(file.to_text(), text);
    }

    #[test]
    fn a_signature_is_written_after_the_description_and_survives_a_yank() {
        let mut signed = record("1.0.0");
        signed.signature = Some("-----BEGIN SSH SIGNATURE-----\nU1NI\n-----END SSH SIGNATURE-----\n".into());
        signed.extra.insert("future".into(), 1.into());
        let line = signed.to_line();
        assert!(line.contains(r#""description":"Go","signature":"-----BEGIN SSH SIGNATURE-----\nU1NI"#), "{line}");
        assert!(line.ends_with(r#"-----\n","future":1}"#), "{line}");
        let mut file = IndexFile::parse(&format!("{line}\n"));
        assert!(file.set_yanked(&signed.name, &signed.version, true).unwrap());
        let rewritten = file.find(&signed.version).unwrap();
        assert_eq!(rewritten.signature, signed.signature);
        assert_eq!(rewritten.extra, signed.extra);
    }

    #[test]
    fn bad_lines_are_reported_not_fatal() {
        let good = record("1.0.0").to_line();
        let text = format!("not json\n{good}\n{{\"name\":\"x\"}}\n{{\"schema\":1,\"name\":\"x\"}}\n\n");
        let file = IndexFile::parse(&text);
        assert_eq!(file.records().count(), 1);
        let lines: Vec<usize> = file.invalid.iter().map(|i| i.line).collect();
        assert_eq!(lines, [1, 3, 4]);
        // Rewriting keeps what could not be read.
        assert_eq!(file.to_text(), text.trim_end().to_owned() + "\n");
    }

    #[test]
    fn a_second_record_for_a_version_is_reported_and_only_the_first_is_kept() {
        let first = record("1.0.0");
        let mut second = record("1.0.0");
        second.sha256 = Sha256::of(b"evil");
        let text = format!("{}\n{}\n{}\n", first.to_line(), record("1.1.0").to_line(), second.to_line());
        let file = IndexFile::parse(&text);
        assert_eq!(file.records().cloned().collect::<Vec<_>>(), [first.clone(), record("1.1.0")]);
        assert_eq!(file.duplicates, [semver::Version::new(1, 0, 0)]);
        assert_eq!(file.invalid.iter().map(|i| i.line).collect::<Vec<_>>(), [3]);
        let name = AgentName::new("go-backend-expert").unwrap();
        let error = file.check_unique(&name).unwrap_err().to_string();
        assert!(error.starts_with("go-backend-expert@1.0.0 has more than one record"), "{error}");
        // Nothing is lost by a rewrite.
        assert_eq!(file.to_text(), text);
        assert!(IndexFile::parse(&first.to_line()).check_unique(&name).is_ok());
    }

    #[test]
    fn build_metadata_is_never_a_record() {
        let text = format!("{}\n", record("1.0.0+evil").to_line());
        let file = IndexFile::parse(&text);
        assert_eq!(file.records().count(), 0);
        assert!(file.invalid[0].message.contains("build metadata"), "{:?}", file.invalid);
        // A build-metadata line still takes its version, so 1.0.0 cannot be published beside it.
        assert!(file.claims(&"1.0.0".parse().unwrap()));
        let mut file = file;
        assert!(file.push(record("1.0.0")).is_err());
    }

    #[test]
    fn push_refuses_existing_versions_and_yank_toggles() {
        let mut file = IndexFile::default();
        file.push(record("1.0.0")).unwrap();
        file.push(record("1.1.0")).unwrap();
        let error = file.push(record("1.0.0")).unwrap_err();
        assert_eq!(error.to_string(), "go-backend-expert@1.0.0 is already published");
        let mut newer = IndexFile::parse("{\"schema\":9,\"version\":\"3.0.0\"}\n");
        assert!(newer.push(record("3.0.0")).is_err(), "a newer-schema line's version was published over");
        let name = AgentName::new("go-backend-expert").unwrap();
        let v = "1.0.0".parse().unwrap();
        assert!(file.set_yanked(&name, &v, true).unwrap());
        assert!(!file.set_yanked(&name, &v, true).unwrap());
        assert!(file.find(&v).unwrap().yanked);
        assert!(file.set_yanked(&name, &"9.9.9".parse().unwrap(), true).is_err());
    }

    #[test]
    fn package_records_are_schema_2_with_a_listing_their_digest_covers() {
        use crate::package::{FileMode, PackageFile};
        use crate::relative_path::RelativePath;
        let files = vec![
            PackageFile {
                path: RelativePath::parse("SKILL.md").unwrap(),
                mode: FileMode::Regular,
                length: 3,
                sha256: Sha256::of(b"abc"),
            },
            PackageFile {
                path: RelativePath::parse("scripts/run.sh").unwrap(),
                mode: FileMode::Executable,
                length: 1,
                sha256: Sha256::of(b"x"),
            },
        ];
        let mut skill = record("1.0.0");
        skill.schema = PACKAGE_RECORD_SCHEMA;
        skill.kind = Kind::Skill;
        skill.sha256 = package_digest(Kind::Skill, &files);
        skill.length = 4;
        skill.files = files;
        let line = skill.to_line();
        assert!(line.contains(r#","kind":"skill","files":[{"path":"SKILL.md","mode":"644","length":3,"#), "{line}");
        let parsed = IndexFile::parse(&format!("{line}\n"));
        assert!(parsed.invalid.is_empty(), "{:?}", parsed.invalid);
        assert_eq!(parsed.records().next(), Some(&skill));
        assert_eq!(parsed.to_text(), format!("{line}\n"));

        // A listing that disagrees with the digest, a package in schema 1 and an agent in schema 2
        // are not records.
        let check_invalid = |record: IndexRecord, expected: &str| {
            let parsed = IndexFile::parse(&format!("{}\n", record.to_line()));
            assert_eq!(parsed.records().count(), 0);
            assert!(parsed.invalid[0].message.contains(expected), "{:?}", parsed.invalid);
        };
        let mut tampered = skill.clone();
        tampered.files[1].mode = FileMode::Regular;
        check_invalid(tampered, "package digest");
        check_invalid(IndexRecord { schema: 1, ..skill.clone() }, "must be schema 2");
        check_invalid(IndexRecord { length: 5, ..skill.clone() }, "the files hold 4 bytes");
        check_invalid(IndexRecord { schema: 2, ..record("1.0.0") }, "needs a `kind`");
        // An agent record is exactly as before: no `kind`, no `files`.
        assert!(!record("1.0.0").to_line().contains("kind"));
    }

    #[test]
    fn requirements_and_bundles_are_schema_3_and_immutable() {
        use crate::requirement::{Requirement, bundle_digest};
        let req = |t: &str| Requirement::parse(t).unwrap();
        let mut reviewer = record("1.0.0");
        reviewer.schema = REQUIRES_RECORD_SCHEMA;
        reviewer.requires = vec![req("test-writer@^1")];
        let line = reviewer.to_line();
        assert!(line.contains(r#""requires":[{"name":"test-writer","req":"^1"}]"#), "{line}");
        let parsed = IndexFile::parse(&format!("{line}\n"));
        assert!(parsed.invalid.is_empty(), "{:?}", parsed.invalid);
        assert_eq!(parsed.records().next(), Some(&reviewer));

        let bundle = IndexRecord {
            kind: Kind::Bundle,
            sha256: bundle_digest(&[req("pdf@^1"), req("reviewer@^1")]),
            length: 0,
            requires: vec![req("pdf@^1"), req("reviewer@^1")],
            ..reviewer.clone()
        };
        assert!(bundle.check_shape().is_ok(), "{:?}", bundle.check_shape());
        let check_invalid = |record: IndexRecord, expected: &str| {
            let parsed = IndexFile::parse(&format!("{}\n", record.to_line()));
            assert_eq!(parsed.records().count(), 0, "{expected}");
            assert!(parsed.invalid[0].message.contains(expected), "{:?}", parsed.invalid);
        };
        check_invalid(IndexRecord { schema: RECORD_SCHEMA, ..reviewer.clone() }, "must be schema 3");
        check_invalid(
            IndexRecord { requires: vec![req("go-backend-expert@^1")], ..reviewer.clone() },
            "requires itself",
        );
        check_invalid(IndexRecord { requires: vec![req("b@1"), req("a@1")], ..reviewer.clone() }, "not sorted");
        check_invalid(
            IndexRecord { requires: vec![req("pdf@^2"), req("reviewer@^1")], ..bundle.clone() },
            "bundle digest",
        );
        check_invalid(IndexRecord { requires: Vec::new(), ..bundle.clone() }, "requires nothing");
        check_invalid(
            IndexRecord { schema: PACKAGE_RECORD_SCHEMA, requires: Vec::new(), ..bundle.clone() },
            "must be schema 3",
        );
        let many = (0..=crate::MAX_REQUIREMENTS).map(|i| req(&format!("p{i:04}@1"))).collect();
        check_invalid(IndexRecord { requires: many, ..reviewer.clone() }, "over the limit");

        // Changing a published version's requirements is a rewrite.
        let old = IndexFile::parse(&reviewer.to_line());
        let changed = IndexFile::parse(&IndexRecord { requires: vec![req("test-writer@^2")], ..reviewer }.to_line());
        assert_eq!(Rewrites::of("go-backend-expert", Some(&old), &changed).changed.len(), 1);
    }
}
