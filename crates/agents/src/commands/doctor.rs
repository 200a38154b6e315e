//! `agents doctor`: checks what agents needs from this machine and says what to fix.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use agents_registry::FetchMode;
use agents_workspace::control;

use crate::context::Context;
use crate::printer::Printer;

#[derive(serde::Serialize)]
struct Check {
    name: String,
    ok: bool,
    /// Not fatal: worth knowing, nothing is broken.
    warning: bool,
    detail: String,
}

fn check(name: &str, ok: bool, detail: impl Into<String>) -> Check {
    Check { name: name.to_owned(), ok, warning: false, detail: detail.into() }
}

fn advice(name: &str, detail: impl Into<String>) -> Check {
    Check { name: name.to_owned(), ok: true, warning: true, detail: detail.into() }
}

/// Whether `directory` (or, when missing, its nearest existing ancestor) accepts a new file.
fn writable(directory: &Path) -> Result<(), String> {
    let existing = directory.ancestors().find(|d| d.exists()).ok_or("no existing ancestor")?;
    tempfile::Builder::new()
        .prefix(".agents-doctor-")
        .tempfile_in(existing)
        .map(|_| ())
        .map_err(|e| format!("{}: {e}", existing.display()))
}

pub(crate) fn doctor(context: &Context, printer: &Printer, json: bool) -> anyhow::Result<i32> {
    let mut checks = Vec::new();
    let git = || {
        let mut command = Command::new("git");
        agents_registry::libgit2::restore_env(&mut command);
        command
    };
    match git().arg("--version").output() {
        Ok(output) if output.status.success() => {
            checks.push(check("git", true, String::from_utf8_lossy(&output.stdout).trim().to_owned()))
        }
        _ => checks.push(if context.git_fetch_with_cli()? {
            check("git", false, "git is not on PATH, but [net] git-fetch-with-cli needs it")
        } else {
            advice("git", "git is not on PATH: fine for agents itself (it uses libgit2), needed for git-fetch-with-cli")
        }),
    }
    let agent = std::env::var_os("SSH_AUTH_SOCK").is_some_and(|sock| Path::new(&sock).exists());
    let keys: Vec<String> = ["id_ed25519", "id_ecdsa", "id_rsa"]
        .iter()
        .filter(|k| context.dirs.home.join(".ssh").join(k).is_file())
        .map(|k| (*k).to_owned())
        .collect();
    let helper = git().args(["config", "--get", "credential.helper"]).output().ok().filter(|o| o.status.success());
    checks.push(advice(
        "credentials",
        format!(
            "ssh-agent: {}; ssh keys: {}; git credential helper: {}",
            if agent { "running" } else { "not found" },
            if keys.is_empty() { "none".to_owned() } else { keys.join(", ") },
            helper.map_or("none".to_owned(), |o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        ),
    ));

    let workspace = context.workspace();
    match context.registries(&workspace, FetchMode::IfMissing) {
        Ok(mut registries) => {
            let entries = registries.entries().to_vec();
            for entry in entries {
                let name = format!("registry `{}`", entry.name);
                checks.push(match registries.open(&entry.name) {
                    Ok(registry) => check(&name, true, format!("{} (id {})", entry.url, registry.config.id)),
                    Err(error) => check(&name, false, format!("{}: {}", entry.url, control::error_text(&error))),
                });
            }
        }
        Err(error) => checks.push(check("configuration", false, control::error_text(error.as_ref()))),
    }

    let socket = control::socket_path(&context.runtime_dir);
    checks.push(match control::request(&socket, control::Command::Status, Duration::from_secs(2)) {
        Ok(response) => {
            check("daemon", true, format!("agentsd running (pid {})", response.status.map_or(0, |s| s.pid)))
        }
        Err(_) if crate::commands::daemon::find_agentsd().is_none() => advice(
            "daemon",
            format!(
                "agentsd is not installed (not beside agents, not on PATH): `{}` installs both",
                crate::commands::daemon::INSTALL_AGENTSD
            ),
        ),
        Err(_) => advice("daemon", "agentsd is not running (`agents daemon start` keeps agents in sync)"),
    });

    for (name, directory) in [
        ("config directory", context.dirs.config.clone()),
        ("cache directory", context.dirs.cache.clone()),
        ("state directory", context.dirs.state.clone()),
        ("agents directory", workspace.agents_dir.clone()),
    ] {
        checks.push(match writable(&directory) {
            Ok(()) => check(name, true, directory.display().to_string()),
            Err(error) => check(name, false, format!("not writable: {error}")),
        });
    }

    let failed = checks.iter().filter(|c| !c.ok).count();
    if json {
        printer.json(&super::json::document(super::json::Doctor { ok: failed == 0, checks: &checks }));
    } else {
        for check in &checks {
            let mark = if !check.ok {
                "✗"
            } else if check.warning {
                "!"
            } else {
                "✓"
            };
            printer.line(format!("{mark} {:18} {}", check.name, check.detail));
        }
    }
    Ok(if failed == 0 { 0 } else { 1 })
}
