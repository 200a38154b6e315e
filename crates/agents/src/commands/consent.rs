//! Asking for consent to executable content (an MCP stdio server's command lines) on a
//! terminal, before a change: each pending item's exact command lines are shown on stderr
//! (escaped for the terminal) with a y/N question. Without a terminal nothing is asked: only
//! what `--allow-exec` names is approved, and the rest waits (the report says how to approve).

use std::io::IsTerminal as _;

use agents_workspace::Workspace;

use crate::printer::Printer;

/// The names to allow for this run: `allow` plus, on a terminal (and unless `no_prompt`), each
/// pending item the user answers `y` for.
pub(crate) fn ask(
    printer: &Printer,
    workspace: &Workspace,
    mut allow: Vec<String>,
    no_prompt: bool,
) -> anyhow::Result<Vec<String>> {
    if no_prompt || !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Ok(allow);
    }
    for pending in agents_workspace::config_entries::pending_approvals(workspace)? {
        if allow.iter().any(|name| pending.subject == *name || pending.subject.strip_prefix("mcp:") == Some(name)) {
            continue;
        }
        let what = if pending.changed { "changed; it runs" } else { "runs" };
        printer.warn(format!("{} {what} on this machine:", pending.subject));
        if printer.confirm(&pending.lines, &format!("Allow {}?", pending.subject))? {
            allow.push(pending.subject.clone());
        }
    }
    Ok(allow)
}

/// When `error` is a plugin awaiting approval and a person is at the terminal (and unless
/// `no_prompt`): shows exactly what it runs, asks, and returns the name to allow when the answer
/// is yes, for the command to run again. `None`: the error stands.
pub(crate) fn ask_for_plugin(
    printer: &Printer,
    error: &agents_workspace::WorkspaceError,
    no_prompt: bool,
) -> anyhow::Result<Option<String>> {
    let agents_workspace::WorkspaceError::AwaitingApproval { name, version, lines } = error else { return Ok(None) };
    if no_prompt || !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Ok(None);
    }
    printer.warn(format!("plugin {name} {version} runs on this machine:"));
    Ok(printer.confirm(lines, &format!("Allow {name}?"))?.then(|| name.to_string()))
}
