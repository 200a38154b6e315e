//! The properties the fuzz targets check, shared with the regression tests that replay every
//! past finding (`fuzz/regressions/<target>/`). Each function panics when a property fails; on
//! any input, none may panic, hang or allocate without bound.

use crate::{AgentFile, AgentName, Dependency, IndexFile, Lockfile, Manifest, UserConfig, set_dependency};

/// Agent files: parsing never panics; the summary is bounded; the body offset is in range; the
/// hidden-Unicode gate agrees with the lint, and scans every file that parses.
pub fn agent_file(data: &[u8]) {
    let scan = crate::scan_hidden_unicode(data);
    if let Ok(mut file) = AgentFile::parse(data) {
        assert!(!matches!(scan, crate::HiddenScan::Unscannable { .. }), "a parsed file was unscannable");
        assert_eq!(file.has_hidden_unicode(), !scan.is_clean(), "the gate and the lint disagree");
        assert!(file.body_offset <= data.len());
        file.lint_file_stem("fuzz");
        if let Some(summary) = file.summary() {
            assert!(summary.chars().count() <= crate::MAX_INDEX_DESCRIPTION_CHARS);
        }
    }
}

/// Index files: parsing never panics, and rewriting a file keeps every line this client could
/// not read while giving back the same records.
pub fn index(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let file = IndexFile::parse(&text);
    let again = IndexFile::parse(&file.to_text());
    let records: Vec<_> = file.records().collect();
    let records_again: Vec<_> = again.records().collect();
    assert_eq!(records, records_again, "a rewrite changed the records");
    assert_eq!(file.duplicates, again.duplicates, "a rewrite changed which versions are recorded twice");
    let mut versions: Vec<_> = records.iter().map(|record| &record.version).collect();
    versions.sort();
    versions.dedup();
    assert_eq!(versions.len(), records.len(), "two records for one version");
    assert_eq!(file.to_text(), again.to_text(), "rewriting is not stable");
}

/// Manifests: parsing never panics, and adding a requirement yields a manifest that parses
/// and holds it (when the input was a valid manifest).
pub fn manifest(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = UserConfig::parse(text);
    if Manifest::parse(text).is_err() {
        return;
    }
    let name = AgentName::new("fuzz-agent").expect("a valid name");
    let dependency = Dependency { requirement: "^1.2.3".parse().expect("a valid requirement"), registry: None };
    if let Ok(edited) = set_dependency(text, &name, &dependency) {
        let manifest = Manifest::parse(&edited).expect("an edited manifest parses");
        assert_eq!(manifest.agents.get(&name), Some(&dependency));
    }
}

/// Lockfiles: parsing never panics, and a parsed lockfile serialises to text that parses back
/// to the same lockfile, byte-stable.
pub fn lockfile(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(lockfile) = Lockfile::parse(text) {
        let written = lockfile.to_text();
        let again = Lockfile::parse(&written).expect("a written lockfile parses");
        assert_eq!(again, lockfile);
        assert_eq!(again.to_text(), written);
    }
}

#[cfg(test)]
mod tests {
    /// Replays every saved finding and seed under `fuzz/regressions/<target>/`.
    #[test]
    fn replay_fuzz_regressions() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
        type Check = fn(&[u8]);
        let targets: [(&str, Check); 4] = [
            ("agent_file", super::agent_file),
            ("index", super::index),
            ("manifest", super::manifest),
            ("lockfile", super::lockfile),
        ];
        let mut replayed = 0;
        for (target, check) in targets {
            let Ok(entries) = std::fs::read_dir(root.join(target)) else { continue };
            for entry in entries {
                let path = entry.expect("readable regression directory").path();
                check(&std::fs::read(&path).expect("readable regression input"));
                replayed += 1;
            }
        }
        assert!(replayed > 0, "no regression inputs under {}", root.display());
    }
}
