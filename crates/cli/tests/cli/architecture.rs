//! The source layout keeps its shape: no import circle between the files of a crate.
//!
//! Every `crate::…` or `super::…` path in a file's non-test, non-comment code is an edge to
//! the module it names (the longest module prefix that exists). A file's own ancestors are
//! facades (`mod.rs` re-exports) and do not count. Any strongly connected set of more than one
//! file fails the test, naming the files.

use crate::support::repo;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Module = Vec<String>;

/// The module path of a source file below `src` (`lint/context/pod.rs` → `lint::context::pod`).
fn module_of(src: &Path, file: &Path) -> Module {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Module = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file without its unit tests and comment lines.
fn code(text: &str) -> String {
    let body = text.split("#[cfg(test)]").next().unwrap_or_default();
    body.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `crate::a::b` and `super::c` paths written in `code`, as segments.
fn paths(code: &str) -> Vec<Vec<String>> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(i) = code[from..].find(start) {
            let at = from + i;
            from = at + start.len();
            let prev = at.checked_sub(1).map(|j| bytes[j]);
            if prev.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':') {
                continue;
            }
            let rest = &code[at..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            out.push(
                rest[..end]
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            );
        }
    }
    out
}

/// The files of one crate that import each other in a circle.
fn circles(src: &Path) -> Vec<Vec<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeMap<Module, String> = files
        .iter()
        .map(|f| (module_of(src, f), std::fs::read_to_string(f).unwrap()))
        .collect();
    let mut edges: BTreeMap<&Module, BTreeSet<&Module>> = BTreeMap::new();
    for (m, text) in &modules {
        let is_dir_module = m.is_empty()
            || files
                .iter()
                .any(|f| module_of(src, f) == *m && f.ends_with("mod.rs"));
        for path in paths(&code(text)) {
            let target: Module = if path[0] == "crate" {
                path[1..].to_vec()
            } else {
                let mut base = if is_dir_module {
                    m.clone()
                } else {
                    m[..m.len().saturating_sub(1)].to_vec()
                };
                let mut rest = &path[..];
                while rest.first().is_some_and(|s| s == "super") {
                    base.pop();
                    rest = &rest[1..];
                }
                base.extend(rest.iter().cloned());
                base
            };
            let found = (1..=target.len())
                .rev()
                .find_map(|k| modules.get_key_value(&target[..k]).map(|(k, _)| k));
            if let Some(t) = found {
                let ancestor = t.len() < m.len() && m[..t.len()] == t[..];
                if t != m && !ancestor {
                    edges.entry(m).or_default().insert(t);
                }
            }
        }
    }
    // Modules that reach themselves through another file, grouped by the set they share.
    let reach = |from: &Module| -> BTreeSet<&Module> {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<&Module> = edges.get(from).into_iter().flatten().copied().collect();
        while let Some(m) = todo.pop() {
            if seen.insert(m) {
                todo.extend(edges.get(m).into_iter().flatten().copied());
            }
        }
        seen
    };
    let reaches: BTreeMap<&Module, BTreeSet<&Module>> =
        modules.keys().map(|m| (m, reach(m))).collect();
    let mut groups: BTreeSet<Vec<String>> = BTreeSet::new();
    for (m, r) in &reaches {
        if r.contains(m) {
            let group: Vec<String> = r
                .iter()
                .filter(|o| reaches[*o].contains(m))
                .map(|o| {
                    if o.is_empty() {
                        "lib".to_owned()
                    } else {
                        o.join("/")
                    }
                })
                .collect();
            groups.insert(group);
        }
    }
    groups.into_iter().collect()
}

#[test]
fn no_crate_has_an_import_circle_between_files() {
    let crates = repo().join("crates");
    let mut found = Vec::new();
    for e in std::fs::read_dir(&crates).unwrap() {
        let src = e.unwrap().path().join("src");
        if src.is_dir() {
            for group in circles(&src) {
                found.push(format!("{}: {}", src.display(), group.join(" ↔ ")));
            }
        }
    }
    assert!(found.is_empty(), "import circles:\n{}", found.join("\n"));
}

#[test]
fn the_circle_check_finds_a_circle() {
    let dir = std::env::temp_dir().join(format!("inferplan-circle-{}", std::process::id()));
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("a")).unwrap();
    std::fs::write(src.join("lib.rs"), "mod a;\nmod b;\n").unwrap();
    std::fs::write(src.join("a/mod.rs"), "use crate::b::B;\n").unwrap();
    std::fs::write(
        src.join("b.rs"),
        "use crate::a::A;\n// crate::c::C in a comment\n",
    )
    .unwrap();
    assert_eq!(circles(&src), vec![vec!["a".to_owned(), "b".to_owned()]]);
    std::fs::write(src.join("b.rs"), "pub struct B;\n").unwrap();
    assert!(circles(&src).is_empty());
}
