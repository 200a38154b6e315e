//! The hidden-Unicode gate every body passes before it is written into a workspace (install,
//! update, sync, the daemon). It is `agents_format::scan_hidden_unicode` for an agent and
//! `agents_format::scan_package_file` for each file of a package, the same scans publish and
//! import use; this module only turns their answer into the policy's outcome.

use agents_format::FileScan;

use crate::error::{Result, WorkspaceError};

/// Checks the body of `agent` (`name@version`). Under the deny policy a body with hidden
/// characters, or one that cannot be scanned (not UTF-8, too large), is refused; otherwise a
/// finding is returned as a warning.
pub(crate) fn hidden_unicode(agent: &str, bytes: &[u8], deny: bool) -> Result<Option<String>> {
    outcome(agent, &FileScan::Text(agents_format::scan_hidden_unicode(bytes)), deny)
}

/// Checks `file` of a package (`label` names it): as [`hidden_unicode`], except that a binary
/// file by git's rule that is not Markdown and cannot run (an image) is not scanned, so not
/// refused.
pub(crate) fn package_file(
    label: &str,
    file: &agents_format::PackageFile,
    bytes: &[u8],
    deny: bool,
) -> Result<Option<String>> {
    outcome(label, &agents_format::scan_package_file(file.path.as_str(), file.mode, bytes), deny)
}

fn outcome(label: &str, scan: &FileScan, deny: bool) -> Result<Option<String>> {
    if deny {
        return match scan.denied() {
            Some(found) => Err(WorkspaceError::HiddenUnicode { agent: label.to_owned(), found }),
            None => Ok(None),
        };
    }
    Ok(scan.warning().map(|found| format!("{label} contains hidden Unicode: {found}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(path: &str) -> agents_format::PackageFile {
        agents_format::PackageFile {
            path: agents_format::RelativePath::parse(path).unwrap(),
            mode: agents_format::FileMode::Regular,
            length: 0,
            sha256: agents_format::Sha256::of(b""),
        }
    }

    #[test]
    fn a_binary_asset_passes_under_deny_and_text_is_held_to_the_rule() {
        let png: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xe2\x80\xae";
        assert_eq!(package_file("s@1 (logo.png)", &listed("assets/logo.png"), png, true).unwrap(), None);
        // The same bytes as an agent, or as Markdown, are scanned: refused under deny.
        assert!(hidden_unicode("a@1", png, true).is_err());
        assert!(package_file("s@1 (SKILL.md)", &listed("SKILL.md"), png, true).is_err());
        let latin1 = package_file("s@1 (notes.txt)", &listed("notes.txt"), b"caf\xe9", true).unwrap_err();
        assert!(latin1.to_string().contains("not valid UTF-8"), "{latin1}");
        assert_eq!(package_file("s@1 (notes.txt)", &listed("notes.txt"), b"caf\xe9", false).unwrap(), None);
        let warning = package_file("s@1 (run.sh)", &listed("run.sh"), "a\u{202E}b".as_bytes(), false).unwrap();
        assert!(warning.is_some_and(|w| w.contains("s@1 (run.sh) contains hidden Unicode")));
    }
}
