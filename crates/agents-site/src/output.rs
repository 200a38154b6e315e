//! The output directory: each file replaced by a rename (a reader or a crash sees the old page
//! or the new one), written only when its bytes change, and `site-manifest.json`, written last,
//! recording for each package page the digest of its inputs and what it skipped, so the next
//! build renders only what changed and still lists what it skipped.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use agents_format::{AgentName, Sha256};

use crate::{SiteError, SiteReport, Skipped};

/// The manifest of a build, in the output directory.
pub const MANIFEST_FILE: &str = "site-manifest.json";

pub(crate) const CSS: &str = include_str!("../assets/site.css");
pub(crate) const JS: &str = include_str!("../assets/site.js");

#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Manifest {
    schema: u32,
    /// Package name → the page's input digest and what was skipped making it.
    #[serde(default)]
    pages: BTreeMap<String, Page>,
    /// The browse pages written (`browse/1.html` …), to remove those a shorter list leaves.
    #[serde(default)]
    browse_pages: usize,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Page {
    digest: Sha256,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    skipped: Vec<(String, String)>,
}

pub(crate) struct Output {
    dir: PathBuf,
    old: Manifest,
    new: Manifest,
}

impl Output {
    /// Opens `dir` (created when missing) and reads the manifest of the build that wrote it; a
    /// manifest that cannot be read means every page is rendered again.
    pub(crate) fn open(dir: &Path) -> Result<Output, SiteError> {
        for sub in ["packages", "browse", "assets"] {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path).map_err(|source| SiteError::Write { path, source })?;
        }
        let old = std::fs::read(dir.join(MANIFEST_FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Manifest>(&bytes).ok())
            .filter(|manifest| manifest.schema == 1)
            .unwrap_or_default();
        Ok(Output { dir: dir.to_owned(), old, new: Manifest { schema: 1, ..Manifest::default() } })
    }

    fn page_path(&self, name: &AgentName) -> PathBuf {
        self.dir.join("packages").join(format!("{name}.html"))
    }

    /// Whether the page of `name` was made from inputs with `digest` and is still there.
    pub(crate) fn is_current(&self, name: &AgentName, digest: &Sha256) -> bool {
        self.old.pages.get(name.as_str()).is_some_and(|page| &page.digest == digest) && self.page_path(name).is_file()
    }

    /// Keeps the page of `name` as it is, with what it skipped when it was made.
    pub(crate) fn keep(&mut self, name: &AgentName, report: &mut SiteReport) {
        if let Some(page) = self.old.pages.get(name.as_str()) {
            report
                .skipped
                .extend(page.skipped.iter().map(|(what, why)| Skipped { what: what.clone(), why: why.clone() }));
            self.new.pages.insert(name.to_string(), page.clone());
        }
    }

    pub(crate) fn has_page(&self, name: &AgentName) -> bool {
        self.new.pages.contains_key(name.as_str())
    }

    /// Writes the page of `name`, made from inputs with `digest`, which skipped `skipped`.
    pub(crate) fn write_page(
        &mut self,
        name: &AgentName,
        digest: Sha256,
        skipped: &[Skipped],
        bytes: &[u8],
    ) -> Result<(), SiteError> {
        write_atomic(&self.page_path(name), bytes)?;
        let skipped = skipped.iter().map(|s| (s.what.clone(), s.why.clone())).collect();
        self.new.pages.insert(name.to_string(), Page { digest, skipped });
        Ok(())
    }

    /// Writes `relative` (a path we chose, never a publisher's) unless it already holds `bytes`.
    pub(crate) fn write_file(
        &mut self,
        relative: &str,
        bytes: &[u8],
        report: &mut SiteReport,
    ) -> Result<(), SiteError> {
        if let Some(number) = relative.strip_prefix("browse/").and_then(|rest| rest.strip_suffix(".html")) {
            self.new.browse_pages = self.new.browse_pages.max(number.parse().unwrap_or(0));
        }
        let path = self.dir.join(relative);
        if std::fs::read(&path).is_ok_and(|old| old == bytes) {
            return Ok(());
        }
        write_atomic(&path, bytes)?;
        report.written.push(relative.to_owned());
        Ok(())
    }

    /// Removes what the last build wrote and this one did not (pages of packages gone or now
    /// skipped, browse pages past the end), then writes the manifest.
    pub(crate) fn finish(self, report: &mut SiteReport) -> Result<(), SiteError> {
        let gone_pages = self.old.pages.keys().filter(|name| !self.new.pages.contains_key(*name));
        let mut gone: Vec<String> = gone_pages
            // Only a valid name ever became a path; anything else in a manifest is not ours.
            .filter(|name| AgentName::new(name).is_ok())
            .map(|name| format!("packages/{name}.html"))
            .collect();
        // Browse pages past the end, from the directory itself (a manifest's count could be
        // anything; the files there are what a build wrote).
        if let Ok(entries) = std::fs::read_dir(self.dir.join("browse")) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let number = name.to_str().and_then(|n| n.strip_suffix(".html")).and_then(|n| n.parse::<usize>().ok());
                if number.is_some_and(|number| number > self.new.browse_pages && number <= self.old.browse_pages) {
                    gone.push(format!("browse/{}", name.to_string_lossy()));
                }
            }
        }
        gone.sort();
        for relative in gone {
            let path = self.dir.join(&relative);
            match std::fs::remove_file(&path) {
                Ok(()) => report.removed.push(relative),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(SiteError::Write { path, source }),
            }
        }
        let mut manifest = serde_json::to_vec_pretty(&self.new).expect("the manifest serialises");
        manifest.push(b'\n');
        write_atomic(&self.dir.join(MANIFEST_FILE), &manifest)
    }
}

/// Replaces `path` with `bytes` by renaming a temporary file of the same directory over it.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SiteError> {
    let error = |source| SiteError::Write { path: path.to_owned(), source };
    let dir = path.parent().expect("every output file is inside the output directory");
    let mut file = tempfile::Builder::new().prefix(".site-").tempfile_in(dir).map_err(error)?;
    file.write_all(bytes).map_err(error)?;
    // A static host's server may run as another user: pages are for everyone to read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.as_file().set_permissions(std::fs::Permissions::from_mode(0o644)).map_err(error)?;
    }
    file.persist(path).map_err(|e| error(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(dir: &Path, browse_pages: usize, pages: &[&str]) -> SiteReport {
        let mut report = SiteReport::default();
        let mut output = Output::open(dir).expect("opens");
        for page in 1..=browse_pages {
            output.write_file(&format!("browse/{page}.html"), b"page", &mut report).expect("writes");
        }
        for name in pages {
            let name = AgentName::new(name).expect("a valid name");
            output.write_page(&name, Sha256::of(name.as_str().as_bytes()), &[], b"page").expect("writes");
        }
        output.finish(&mut report).expect("finishes");
        report
    }

    #[test]
    fn what_the_last_build_wrote_and_this_one_did_not_is_removed_and_nothing_else() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        build(dir.path(), 3, &["alpha", "beta"]);
        std::fs::write(dir.path().join("browse/notes.html"), "someone else's").expect("writes");
        std::fs::write(dir.path().join("browse/9.html"), "someone else's").expect("writes");
        let report = build(dir.path(), 1, &["alpha"]);
        assert_eq!(report.removed, ["browse/2.html", "browse/3.html", "packages/beta.html"]);
        assert!(dir.path().join("browse/1.html").is_file() && dir.path().join("packages/alpha.html").is_file());
        assert!(dir.path().join("browse/notes.html").is_file() && dir.path().join("browse/9.html").is_file());
        // A manifest naming more pages than there are, or a name that is not valid, removes nothing more.
        std::fs::write(
            dir.path().join(MANIFEST_FILE),
            r#"{"schema":1,"browse_pages":1000000000000,"pages":{"../../x":{"digest":"0000000000000000000000000000000000000000000000000000000000000000"}}}"#,
        )
        .expect("writes");
        let report = build(dir.path(), 1, &["alpha"]);
        assert_eq!(report.removed, ["browse/9.html"]);
    }
}
