//! The hidden-Unicode gate every body passes before it is written into a workspace (install,
//! update, sync, the daemon): one function, so no path skips it.

use crate::error::{Result, WorkspaceError};

/// Checks the body of `agent` (`name@version`). Under the deny policy a body with hidden
/// characters, or one that cannot be scanned (not UTF-8), is refused; otherwise a finding is
/// returned as a warning.
pub(crate) fn hidden_unicode(agent: &str, bytes: &[u8], deny: bool) -> Result<Option<String>> {
    let found = match std::str::from_utf8(bytes) {
        Ok(text) => {
            let hidden = agents_format::find_hidden(text);
            if hidden.is_empty() {
                return Ok(None);
            }
            hidden
                .iter()
                .map(|h| {
                    format!(
                        "hidden {} U+{:04X} at line {}, column {}",
                        h.kind.describe(),
                        u32::from(h.character),
                        h.line,
                        h.column
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        }
        Err(_) if deny => "it is not UTF-8, so it cannot be scanned".to_owned(),
        Err(_) => return Ok(None),
    };
    if deny {
        return Err(WorkspaceError::HiddenUnicode { agent: agent.to_owned(), found });
    }
    Ok(Some(format!("{agent} contains hidden Unicode: {found}")))
}
