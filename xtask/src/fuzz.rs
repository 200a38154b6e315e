//! `cargo xtask fuzz [--seconds N] [TARGET...]`: coverage-guided fuzzing of the format crate with
//! cargo-fuzz (libFuzzer), each target for a fixed time, seeded from `../shared/corpus` (when
//! it is there), the built-in registry and the saved regressions. Memory is capped and slow inputs count as hangs.
//! A finding stays in `crates/agents-format/fuzz/artifacts/`; copy it into `fuzz/regressions/`
//! (which `cargo test` replays) together with the fix.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

use crate::{root, run};

const TARGETS: [&str; 4] = ["agent_file", "index", "manifest", "lockfile"];

pub(crate) fn fuzz(args: &[&str]) -> anyhow::Result<()> {
    let mut seconds = 60;
    let mut targets: Vec<&str> = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match *arg {
            "--seconds" => {
                let value = rest.next().context("--seconds needs a number")?;
                seconds = value.parse().with_context(|| format!("--seconds must be a number, not `{value}`"))?;
            }
            target if TARGETS.contains(&target) => targets.push(target),
            other => bail!("unknown fuzz argument `{other}` (targets: {})", TARGETS.join(", ")),
        }
    }
    if targets.is_empty() {
        targets = TARGETS.to_vec();
    }
    if Command::new("cargo").args(["fuzz", "--version"]).output().map_or(true, |o| !o.status.success()) {
        run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))?;
    }
    let fuzz_dir = root().join("crates/agents-format/fuzz");
    for target in targets {
        let corpus = fuzz_dir.join("corpus").join(target);
        seed(&corpus, target)?;
        run(Command::new("cargo")
            // cargo-fuzz passes nightly flags; this toolchain is stable.
            .env("RUSTC_BOOTSTRAP", "1")
            .args(["fuzz", "run", "--fuzz-dir"])
            .arg(&fuzz_dir)
            .arg(target)
            .arg(&corpus)
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .args(["-rss_limit_mb=1024", "-timeout=10", "-max_len=1100000"]))?;
    }
    let artifacts = fuzz_dir.join("artifacts");
    let findings: Vec<PathBuf> = files(&artifacts);
    if !findings.is_empty() {
        bail!("fuzzing found {} input(s) under {}", findings.len(), artifacts.display());
    }
    eprintln!("xtask: fuzzing found nothing in {seconds}s per target");
    Ok(())
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = fs_err::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() { pending.push(path) } else { found.push(path) }
        }
    }
    found
}

/// Fills a target's corpus with realistic inputs: the shared corpus of real agent files, the
/// built-in registry's index files, and every saved regression.
fn seed(corpus: &Path, target: &str) -> anyhow::Result<()> {
    fs_err::create_dir_all(corpus)?;
    let mut sources = files(&root().join("crates/agents-format/fuzz/regressions").join(target));
    match target {
        "agent_file" => {
            // The shared corpus lives beside the repository, not in it; a fresh clone lacks it.
            let shared = root().join("../shared/corpus");
            if !shared.is_dir() {
                eprintln!("xtask: note: {} not found; seeding from the built-in registry only", shared.display());
            }
            sources.extend(files(&shared).into_iter().filter(|p| p.extension().is_some_and(|e| e == "md")));
            sources.extend(files(&root().join("registry/bodies")));
        }
        "index" => sources.extend(files(&root().join("registry/index"))),
        _ => {}
    }
    for (index, source) in sources.iter().enumerate() {
        fs_err::copy(source, corpus.join(format!("seed-{index}")))?;
    }
    Ok(())
}
