//! Version selection: the highest version that matches a requirement and is not yanked.

use crate::index::IndexRecord;

/// Picks the highest non-yanked record matching `requirement`. Pre-releases match only when the
/// requirement names one (semver's rule), as in cargo. A version with build metadata is never
/// picked: semver's matching ignores it, so `1.0.0+evil` would satisfy `=1.0.0` and, ordering
/// above `1.0.0`, win (index parsing already refuses such records; this holds for any caller).
pub fn select<'a>(
    records: impl IntoIterator<Item = &'a IndexRecord>,
    requirement: &semver::VersionReq,
) -> Option<&'a IndexRecord> {
    records
        .into_iter()
        .filter(|record| !record.yanked && record.version.build.is_empty() && requirement.matches(&record.version))
        .max_by(|a, b| a.version.cmp(&b.version))
}

/// The caret requirement `cargo add` would write for `version`: `^1.2.3`.
pub fn caret(version: &semver::Version) -> semver::VersionReq {
    format!("^{version}").parse().expect("a caret on a valid version is a valid requirement")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AgentName, Sha256};

    fn record(version: &str, yanked: bool) -> IndexRecord {
        IndexRecord {
            schema: 1,
            name: AgentName::new("a").unwrap(),
            version: version.parse().unwrap(),
            sha256: Sha256::of(version.as_bytes()),
            length: 1,
            published: "2026-01-01T00:00:00Z".into(),
            yanked,
            description: None,
            signature: None,
            yank: None,
            kind: Default::default(),
            files: Vec::new(),
            requires: Vec::new(),
            extra: Default::default(),
        }
    }

    fn check(requirement: &str, expected: Option<&str>) {
        let records = [
            record("0.9.0", false),
            record("1.0.0", false),
            record("1.2.0", false),
            record("1.3.0", true),
            record("2.0.0-beta.1", false),
            record("1.2.0+evil", false),
            record("0.9.0+evil", false),
        ];
        let requirement: semver::VersionReq = requirement.parse().unwrap();
        let selected = select(&records, &requirement).map(|r| r.version.to_string());
        assert_eq!(selected.as_deref(), expected, "{requirement}");
    }

    #[test]
    fn selection() {
        check("*", Some("1.2.0"));
        check("^1", Some("1.2.0"));
        check("=1.3.0", None);
        check("^0.9", Some("0.9.0"));
        check(">=2.0.0-beta.1", Some("2.0.0-beta.1"));
        check("^3", None);
        check("=1.2.0", Some("1.2.0"));
        check("=0.9.0", Some("0.9.0"));
    }
}
