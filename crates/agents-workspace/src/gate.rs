//! The hidden-Unicode gate every body passes before it is written into a workspace (install,
//! update, sync, the daemon). It is `agents_format::scan_hidden_unicode`, the same scan publish
//! and import use; this module only turns its answer into the policy's outcome.

use agents_format::HiddenScan;

use crate::error::{Result, WorkspaceError};

/// Checks the body of `agent` (`name@version`). Under the deny policy a body with hidden
/// characters, or one that cannot be scanned (not UTF-8, too large), is refused; otherwise a
/// finding is returned as a warning.
pub(crate) fn hidden_unicode(agent: &str, bytes: &[u8], deny: bool) -> Result<Option<String>> {
    let found = match agents_format::scan_hidden_unicode(bytes) {
        HiddenScan::Clean => return Ok(None),
        HiddenScan::Unscannable { .. } if !deny => return Ok(None),
        found => found.to_string(),
    };
    if deny {
        return Err(WorkspaceError::HiddenUnicode { agent: agent.to_owned(), found });
    }
    Ok(Some(format!("{agent} contains hidden Unicode: {found}")))
}
