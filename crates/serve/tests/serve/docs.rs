//! docs/serve.md's `curl` examples are real: each runs (with `sh`, in a scratch directory that
//! sees the repository's `examples/` and `crates/`) against a server of this build, and prints
//! what the block after it shows. A `...` line in a shown output stands for any run of lines.

use crate::equality::{root, scratch};
use crate::http::shared;

/// `(command, shown output)` of each `curl` line of the document's ```sh blocks; the output is
/// the block right after, when its ```sh block holds one command.
fn examples(doc: &str) -> Vec<(String, Option<Vec<String>>)> {
    let mut blocks: Vec<(String, Vec<String>)> = Vec::new();
    let mut open: Option<(String, Vec<String>)> = None;
    for line in doc.lines() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(lang)) => open = Some((lang.to_owned(), Vec::new())),
            (Some(_), Some(_)) => blocks.push(open.take().unwrap()),
            (Some((_, lines)), None) => lines.push(line.to_owned()),
            (None, None) => {}
        }
    }
    let mut out = Vec::new();
    for (i, (lang, lines)) in blocks.iter().enumerate() {
        if lang != "sh" {
            continue;
        }
        let commands: Vec<&String> = lines.iter().filter(|l| l.contains("curl ")).collect();
        let shown = blocks
            .get(i + 1)
            .filter(|(lang, _)| commands.len() == 1 && (lang == "json" || lang == "text"))
            .map(|(_, l)| l.clone());
        for c in &commands {
            out.push(((*c).clone(), shown.clone()));
        }
    }
    out
}

/// Whether `actual` is `expected` with each `...` line standing for any run of lines.
fn matches(expected: &[String], actual: &[&str]) -> bool {
    let Some((first, rest)) = expected.split_first() else {
        return actual.is_empty();
    };
    if first == "..." {
        return (0..=actual.len()).any(|k| matches(rest, &actual[k..]));
    }
    actual
        .split_first()
        .is_some_and(|(a, tail)| a.trim_end() == first.trim_end() && matches(rest, tail))
}

#[test]
fn the_curl_examples_of_docs_serve_md_print_what_it_shows() {
    let doc = std::fs::read_to_string(root().join("docs/serve.md")).unwrap();
    let examples = examples(&doc);
    assert!(
        examples.len() >= 10,
        "only {} curl examples",
        examples.len()
    );
    let dir = scratch("docs");
    for name in ["examples", "crates"] {
        std::os::unix::fs::symlink(root().join(name), dir.join(name)).unwrap();
    }
    let addr = shared();
    for (command, shown) in examples {
        let run = command.replace("http://127.0.0.1:8080", &format!("http://{addr}"));
        let out = std::process::Command::new("sh")
            .args(["-c", &run])
            .current_dir(&dir)
            .output()
            .expect("sh runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!text.trim().is_empty(), "{command}: no output");
        if let Some(shown) = shown {
            let lines: Vec<&str> = text.lines().collect();
            assert!(
                matches(&shown, &lines),
                "{command} printed:\n{text}\nwhich is not what docs/serve.md shows:\n{}",
                shown.join("\n")
            );
        }
    }
}
