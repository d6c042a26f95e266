//! Test support shared by every crate's test binary: the repository's paths, the embedded
//! catalog, and the one snapshot mechanism.
//!
//! Not a test binary of its own: each `crates/*/tests/<crate>/main.rs` (and
//! `crates/catalog/tests/catalog.rs`) includes it with `#[path = …] mod support;`.
//!
//! A snapshot is a committed file holding the exact output of a test, under the crate's
//! `tests/snapshots/`. A test compares its output with the file byte for byte. After an intended
//! change, `UPDATE_SNAPSHOTS=1 cargo test --workspace` rewrites the files that differ; review
//! them with `git diff`. Nothing else writes them, so CI only compares.

// Each binary uses a part of this file.
#![allow(dead_code)]

use inferplan_catalog::Catalog;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The repository's root (every crate lives in `crates/<name>`).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `examples/<name>`.
pub fn example(name: &str) -> PathBuf {
    repo().join("examples").join(name)
}

/// Every workload file in `examples/`, sorted.
pub fn examples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join("examples"))
        .expect("examples/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

/// `../shared`, beside the repository: the design documents and the measured data.
pub fn shared() -> PathBuf {
    repo().join("../shared")
}

/// The embedded catalog, loaded once per test binary.
pub fn catalog() -> &'static Catalog {
    static C: OnceLock<Catalog> = OnceLock::new();
    C.get_or_init(|| Catalog::embedded().expect("embedded catalog loads"))
}

/// Whether this run rewrites snapshots (`UPDATE_SNAPSHOTS=1`) instead of comparing with them.
pub fn updating() -> bool {
    std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// How `actual` differs from the snapshot file `path`: its first differing line, or `None`
/// when they are the same bytes. With `UPDATE_SNAPSHOTS=1` it writes `actual` to `path` first.
pub fn snapshot_mismatch(path: &Path, actual: &str) -> Option<String> {
    if updating() {
        std::fs::create_dir_all(path.parent().expect("a snapshot file has a directory")).unwrap();
        std::fs::write(path, actual).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    let Ok(stored) = std::fs::read_to_string(path) else {
        return Some(format!(
            "no snapshot {}; run with UPDATE_SNAPSHOTS=1 to write it",
            path.display()
        ));
    };
    if stored == actual {
        return None;
    }
    let line = stored
        .lines()
        .zip(actual.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(stored.lines().count().min(actual.lines().count()));
    Some(format!(
        "{} differs at line {}: expected {:?}, got {:?}; review, then run with \
         UPDATE_SNAPSHOTS=1 to accept it",
        path.display(),
        line + 1,
        stored.lines().nth(line),
        actual.lines().nth(line)
    ))
}

/// Fails unless `actual` is, byte for byte, the snapshot file `path`.
pub fn assert_snapshot(path: &Path, actual: &str) {
    if let Some(m) = snapshot_mismatch(path, actual) {
        panic!("{m}");
    }
}
