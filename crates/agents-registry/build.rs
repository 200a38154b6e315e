//! Embeds the repository's `registry/` directory (the built-in registry) into the library, so the
//! default registry works on a fresh machine with no network and no cache.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let registry = manifest_dir.join("../../registry").canonicalize().expect("the workspace has a registry/ directory");
    println!("cargo::rerun-if-changed={}", registry.display());
    let mut files = Vec::new();
    collect(&registry, &registry, &mut files);
    files.sort();
    let mut out = String::from("static FILES: &[(&str, &[u8])] = &[\n");
    for (relative, absolute) in &files {
        println!("cargo::rerun-if-changed={}", absolute.display());
        writeln!(out, "    ({relative:?}, include_bytes!({:?})),", absolute.display().to_string())
            .expect("write to String");
    }
    out.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out_dir.join("builtin_files.rs"), out).expect("write builtin_files.rs");
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("read a registry/ entry").path();
        println!("cargo::rerun-if-changed={}", path.display());
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let relative = path.strip_prefix(root).expect("inside registry/").to_string_lossy().replace('\\', "/");
            if relative != "README.md" {
                files.push((relative, path));
            }
        }
    }
}
