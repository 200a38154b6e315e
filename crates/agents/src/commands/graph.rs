//! `agents tree` and `agents why NAME`: the lockfile's graph, down from what the workspace asked
//! for, or up from one package to what asked for it.

use agents_format::AgentName;
use agents_workspace::TreeNode;
use anyhow::bail;

use crate::commands::json;
use crate::context::Context;
use crate::printer::Printer;

/// `agents tree --json`.
#[derive(serde::Serialize)]
struct Tree {
    packages: Vec<TreeNode>,
}

/// `agents why NAME --json`.
#[derive(serde::Serialize)]
struct Why {
    package: TreeNode,
}

pub(crate) fn tree(context: &Context, printer: &Printer, as_json: bool) -> anyhow::Result<i32> {
    let workspace = context.workspace();
    let (_, lockfile) = workspace.read_lockfile()?;
    let packages = agents_workspace::dependency_tree(&lockfile);
    if as_json {
        printer.json(&json::document(Tree { packages }));
        return Ok(0);
    }
    if packages.is_empty() {
        printer.status("Finished", "nothing installed here (`agents install NAME` adds a package)");
    }
    let mut lines = Vec::new();
    for package in &packages {
        draw(package, "", None, &mut lines);
    }
    printer.line(lines.join("\n"));
    Ok(0)
}

pub(crate) fn why(context: &Context, printer: &Printer, name: &str, as_json: bool) -> anyhow::Result<i32> {
    let name = AgentName::new(name)?;
    let workspace = context.workspace();
    let (_, lockfile) = workspace.read_lockfile()?;
    let Some(package) = agents_workspace::dependents_tree(&lockfile, &name) else {
        bail!("`{name}` is not installed in this workspace (see `agents list`)");
    };
    if as_json {
        printer.json(&json::document(Why { package }));
        return Ok(0);
    }
    let mut lines = Vec::new();
    draw(&package, "", None, &mut lines);
    printer.line(lines.join("\n"));
    Ok(0)
}

/// One line per node, cargo tree's way: `├── name v1.0.0 (^1)`, `(*)` where a package already
/// shown is not expanded again, `(requested)` for what the manifest asked for.
fn draw(node: &TreeNode, indent: &str, last: Option<bool>, lines: &mut Vec<String>) {
    let branch = match last {
        None => "",
        Some(true) => "└── ",
        Some(false) => "├── ",
    };
    let mut line = format!("{indent}{branch}{} v{}", node.name, node.version);
    if !node.kind.is_agent() {
        line.push_str(&format!(" ({})", node.kind));
    }
    if let Some(requirement) = &node.requirement {
        line.push_str(&format!(" [{requirement}]"));
    }
    if node.requested && last.is_some() {
        line.push_str(" (requested)");
    }
    if node.repeated {
        line.push_str(" (*)");
    }
    lines.push(line);
    let below = match last {
        None => indent.to_owned(),
        Some(true) => format!("{indent}    "),
        Some(false) => format!("{indent}│   "),
    };
    for (index, child) in node.children.iter().enumerate() {
        draw(child, &below, Some(index + 1 == node.children.len()), lines);
    }
}
