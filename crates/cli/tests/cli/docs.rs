//! The docs cannot drift: every `$ inferplan ...` command shown in README.md and docs/*.md runs
//! here and must print what the docs show, and README's Rust version is the one the workspace and
//! every dependency in Cargo.lock allow.
//!
//! In a fenced block, a line `$ COMMAND` (continued by a trailing `\`) is run by `sh` in a
//! scratch copy of the checkout (symbolic links, with `../shared` beside it), with this build's
//! `inferplan` first on `PATH`, so pipes (`| grep`, `| inferplan lint -`), `cat` and files written
//! by one command and read by the next (`--out deploy/`) work as they would for a reader. The
//! lines up to the next `$` line or the end of the block are its output: standard output and
//! standard error as a terminal shows them, compared without trailing whitespace or trailing
//! blank lines. A line `...` stands for any run of lines, to trim long outputs. Commands of a
//! document run in order, in one scratch directory.
//!
//! Lines of ```sh (bash, shell, console) blocks without a `$` are commands shown without output; each must be in
//! [`NOT_RUN`] with the reason, so a new command is run unless someone says why not.
//!
//! After an output change, refresh the docs with `UPDATE_DOCS=1 cargo test -p inferplan --test
//! docs`: it rewrites each stale output with the real one, keeping the `...` elisions whose
//! neighbours it can still find, and passes. Review the diff.
//!
//! Unix only: the commands run in `sh`, as a reader's would.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Commands shown in ```sh blocks that this test does not run: (start of the command, why).
const NOT_RUN: &[(&str, &str)] = &[
    (
        "cargo run --release -p inferplan -- plan examples/chat-70b-fp8.toml",
        "README's setup; the same plan runs below as `$ inferplan plan examples/chat-70b-fp8.toml`",
    ),
    (
        "cargo test --workspace",
        "README's setup; it runs this test",
    ),
    (
        "inferplan lint deploy/",
        "lint.md's summary of input forms: the reader's own manifests",
    ),
    (
        "inferplan lint deployment.yaml pdb.yaml hpa.yaml",
        "lint.md's summary of input forms: the reader's own manifests",
    ),
    (
        "inferplan lint k8s/",
        "lint.md's summary of input forms: the reader's own manifests",
    ),
    ("helm template ", "needs helm and the reader's chart"),
    ("kubectl ", "needs a Kubernetes cluster"),
    (
        "curl ",
        "needs a server: Prometheus (rightsize.md), or `inferplan serve` (serve.md, whose curl \
         examples crates/serve/tests/serve/docs.rs runs against one)",
    ),
    (
        "cargo build -p inferplan",
        "serve.md's browser test: building the binary it drives",
    ),
    (
        "python3 .ci/browser_test.py",
        "serve.md's browser test: it needs Chromium and ChromeDriver; .ci/run runs it",
    ),
    (
        "cargo run --release -p inferplan -- serve",
        "README's setup; a server runs until stopped (crates/cli/tests/cli/serve.rs runs one)",
    ),
    (
        "inferplan serve",
        "serve.md's start; a server runs until stopped (crates/cli/tests/cli/serve.rs runs one)",
    ),
    (
        "printf ",
        "serve.md's bad workload piped to curl; crates/serve/tests/serve/docs.rs runs it",
    ),
];

use crate::support::repo;

/// A command shown with its output, by line index (0-based) in its document.
struct Example {
    /// Index of the `$` line.
    line: usize,
    /// The command, without `$ `; continuation lines joined by newlines.
    command: String,
    /// Indices of the output lines, trailing blank lines excluded.
    output: std::ops::Range<usize>,
}

/// The examples of one document, and the ```sh lines (index, command) shown without output.
fn parse(lines: &[&str]) -> (Vec<Example>, Vec<(usize, String)>) {
    let mut examples: Vec<Example> = Vec::new();
    let mut shown = Vec::new();
    let mut fence: Option<String> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(info) = line.trim_start().strip_prefix("```") {
            fence = match fence {
                None => Some(info.trim().to_string()),
                Some(_) => None,
            };
            i += 1;
            continue;
        }
        let Some(info) = &fence else {
            i += 1;
            continue;
        };
        let start = i;
        let mut command = line.to_string();
        while command.ends_with('\\') && i + 1 < lines.len() {
            i += 1;
            command = format!("{command}\n{}", lines[i]);
        }
        i += 1;
        if let Some(command) = command.strip_prefix("$ ") {
            let first = i;
            while i < lines.len()
                && !lines[i].starts_with("$ ")
                && !lines[i].trim_start().starts_with("```")
            {
                i += 1;
            }
            let mut end = i;
            while end > first && lines[end - 1].trim().is_empty() {
                end -= 1;
            }
            examples.push(Example {
                line: start,
                command: command.to_string(),
                output: first..end,
            });
        } else if matches!(info.as_str(), "sh" | "bash" | "shell" | "console")
            && !command.trim().is_empty()
            && !command.starts_with('#')
        {
            shown.push((start, command));
        }
    }
    (examples, shown)
}

/// Whether `actual` matches `expected`, where an `expected` line `...` stands for any run of
/// lines (none included). Both without trailing whitespace.
fn matches(expected: &[String], actual: &[String]) -> bool {
    let parts: Vec<&[String]> = expected.split(|l| l == "...").collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if parts.len() == 1 {
        return expected == actual;
    }
    if first.len() + last.len() > actual.len()
        || !actual.starts_with(first)
        || !actual.ends_with(last)
    {
        return false;
    }
    // Each middle part at its first place after the previous one: if any placement works, this
    // one does.
    let mut rest = &actual[first.len()..actual.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        if part.is_empty() {
            continue;
        }
        match rest.windows(part.len()).position(|w| w == *part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// The line without digits, dots and spaces: what stays when only numbers change.
fn shape(line: &str) -> String {
    line.chars()
        .filter(|c| !c.is_ascii_digit() && !c.is_whitespace() && *c != '.')
        .collect()
}

/// The documented output refreshed from `actual`: as many lines at the start and the end as the
/// docs show there, and each elided middle part where a line of its shape starts it.
fn refresh(expected: &[String], actual: &[String]) -> Vec<String> {
    let parts: Vec<&[String]> = expected.split(|l| l == "...").collect();
    let (head, tail) = (parts[0].len(), parts[parts.len() - 1].len());
    if parts.len() == 1 || head + tail >= actual.len() {
        return actual.to_vec();
    }
    let end = actual.len() - tail;
    let mut out = actual[..head].to_vec();
    let mut at = head;
    for part in &parts[1..parts.len() - 1] {
        let Some(first) = part.first() else { continue };
        let found =
            (at..end.saturating_sub(part.len() - 1)).find(|&j| shape(&actual[j]) == shape(first));
        if let Some(j) = found {
            out.push("...".into());
            out.extend_from_slice(&actual[j..j + part.len()]);
            at = j + part.len();
        }
    }
    out.push("...".into());
    out.extend_from_slice(&actual[end..]);
    out
}

fn trimmed(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text.lines().map(|l| l.trim_end().to_string()).collect();
    while v.last().is_some_and(|l| l.is_empty()) {
        v.pop();
    }
    v
}

/// A scratch copy of the checkout for one document: symbolic links to the repository's entries
/// and `../shared`, so commands read what a reader's would and write into the scratch directory.
fn scratch(doc: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "inferplan-docs-{}-{}",
        std::process::id(),
        doc.replace('/', "-")
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let checkout = dir.join("checkout");
    std::fs::create_dir_all(&checkout).unwrap();
    for entry in std::fs::read_dir(repo()).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != ".git" && entry.file_name() != "target" {
            std::os::unix::fs::symlink(entry.path(), checkout.join(entry.file_name())).unwrap();
        }
    }
    std::os::unix::fs::symlink(repo().join("../shared"), dir.join("shared")).unwrap();
    checkout
}

/// What a terminal shows for `command` run by `sh` in `dir`: standard output and error.
fn run(command: &str, dir: &Path) -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_inferplan")).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("exec 2>&1\n{command}"))
        .current_dir(dir)
        .env("PATH", path)
        .env_remove("INFERPLAN_CATALOG_DIR")
        .output()
        .expect("sh runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn docs() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(repo().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    v.sort();
    v.insert(0, "README.md".into());
    v
}

#[test]
fn doc_commands_print_what_the_docs_show() {
    let update = std::env::var_os("UPDATE_DOCS").is_some_and(|v| !v.is_empty() && v != "0");
    let mut stale = Vec::new();
    let mut unlisted = Vec::new();
    let mut run_count = 0;
    for doc in docs() {
        let path = repo().join(&doc);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let (examples, shown) = parse(&lines);
        for (i, command) in shown {
            if !NOT_RUN.iter().any(|(start, _)| command.starts_with(start)) {
                unlisted.push(format!("{doc}:{}: {command}", i + 1));
            }
        }
        if examples.is_empty() {
            continue;
        }
        let dir = scratch(&doc);
        let mut replaced: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        let mut changes = Vec::new();
        for ex in &examples {
            let expected: Vec<String> = lines[ex.output.clone()]
                .iter()
                .map(|l| l.trim_end().to_string())
                .collect();
            let actual = trimmed(&run(&ex.command, &dir));
            run_count += 1;
            if !matches(&expected, &actual) {
                stale.push(format!(
                    "{doc}:{}: $ {}\n--- shown\n{}\n--- printed\n{}\n",
                    ex.line + 1,
                    ex.command,
                    expected.join("\n"),
                    actual.join("\n")
                ));
                changes.push((ex.output.clone(), refresh(&expected, &actual)));
            }
        }
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
        if update && !changes.is_empty() {
            for (range, new) in changes.into_iter().rev() {
                replaced.splice(range, new);
            }
            let mut out = replaced.join("\n");
            if text.ends_with('\n') {
                out.push('\n');
            }
            std::fs::write(&path, out).unwrap();
        }
    }
    assert!(run_count > 0, "no `$ inferplan` command found in the docs");
    let mut failures = Vec::new();
    if !unlisted.is_empty() {
        failures.push(format!(
            "commands in ```sh blocks that no test runs; show them as `$ COMMAND` with their \
             output, or add them to NOT_RUN with the reason:\n{}\n",
            unlisted.join("\n")
        ));
    }
    if !update && !stale.is_empty() {
        failures.push(format!(
            "{} documented outputs differ from what the commands print (refresh them with \
             `UPDATE_DOCS=1 cargo test -p inferplan --test cli docs::` and review the diff):\n\n{}",
            stale.len(),
            stale.join("\n")
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn elisions_match_any_run_of_lines_and_survive_a_refresh() {
    let v = |s: &str| -> Vec<String> { s.split('|').map(String::from).collect() };
    assert!(matches(&v("a|...|d"), &v("a|b|c|d")));
    assert!(matches(&v("a|...|d"), &v("a|d")));
    assert!(matches(&v("...|c|...|e"), &v("a|b|c|d|e")));
    assert!(!matches(&v("a|...|c|...|e"), &v("a|b|d|e")));
    assert!(!matches(&v("a|b"), &v("a|b|c")));
    assert!(!matches(&v("a|...|a"), &v("a")));
    // Numbers changed: the head, the middle part found by its shape, and the tail are kept.
    assert_eq!(
        refresh(
            &v("x 1|...|mid 2|m|...|end 3"),
            &v("x 9|p|q|mid 8|m2|r|end 7")
        ),
        v("x 9|...|mid 8|m2|...|end 7")
    );
    // A middle part that is gone is left out; without elisions the whole output is taken.
    assert_eq!(refresh(&v("a|...|gone|...|z"), &v("a|b|z")), v("a|...|z"));
    assert_eq!(refresh(&v("a|b"), &v("c")), v("c"));
}

/// `1.88` or `1.85.0` as numbers, for comparing.
fn rust_version(v: &str) -> Vec<u64> {
    let mut n: Vec<u64> = v.split('.').map(|p| p.parse().unwrap()).collect();
    n.resize(3, 0);
    n
}

/// README's Rust version is the workspace's `rust-version`, and no package that Cargo.lock
/// resolves for this host, dev-dependencies included, declares a newer one.
#[test]
fn readme_states_the_rust_version_every_locked_package_allows() {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let vv = Command::new(&cargo)
        .arg("-vV")
        .output()
        .expect("cargo runs");
    let vv = String::from_utf8_lossy(&vv.stdout).into_owned();
    let host = vv
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("cargo -vV names the host");
    let out = Command::new(&cargo)
        .args(["metadata", "--offline", "--locked", "--format-version", "1"])
        .args(["--filter-platform", host, "--manifest-path"])
        .arg(repo().join("Cargo.toml"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata (run `cargo fetch` first when offline): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = meta["packages"].as_array().unwrap();
    let members = meta["workspace_members"].as_array().unwrap();
    let declared: Vec<&str> = packages
        .iter()
        .filter(|p| members.contains(&p["id"]))
        .map(|p| {
            p["rust_version"]
                .as_str()
                .expect("every crate inherits rust-version")
        })
        .collect();
    assert_eq!(declared.len(), members.len());
    let ours = declared[0];
    assert!(declared.iter().all(|v| *v == ours), "{declared:?}");
    let newer: Vec<String> = packages
        .iter()
        .filter_map(|p| {
            let v = p["rust_version"].as_str()?;
            let name = format!("{} {}", p["name"].as_str()?, p["version"].as_str()?);
            (rust_version(v) > rust_version(ours)).then(|| format!("{name} needs {v}"))
        })
        .collect();
    assert!(
        newer.is_empty(),
        "packages in Cargo.lock need a newer Rust than the workspace's rust-version {ours}: {newer:?}; \
         raise it in Cargo.toml and README, or pin them down"
    );
    assert!(
        packages.len() > members.len(),
        "cargo metadata listed no dependencies"
    );
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("Rust {ours} or newer")),
        "README must say `Rust {ours} or newer`, the workspace's rust-version"
    );
}
