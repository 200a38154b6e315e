//! Keeps docs/RELIABILITY.md true: every fault-injection test calls [`record`] when it passes,
//! which fails the test unless the document has a row for it naming the trials it ran.

use crate::repo_root;

/// Asserts that docs/RELIABILITY.md has a row for `test` that names `trials`.
pub fn record(test: &str, trials: usize) {
    let path = repo_root().join("docs/RELIABILITY.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let row = text
        .lines()
        .find(|line| line.starts_with(&format!("| `{test}` |")))
        .unwrap_or_else(|| panic!("docs/RELIABILITY.md has no row for `{test}`"));
    let numbers: Vec<usize> = row
        .split('|')
        .nth(3)
        .unwrap_or_default()
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert!(
        numbers.contains(&trials),
        "docs/RELIABILITY.md's row for `{test}` does not name the {trials} trials this run made:\n{row}"
    );
}
