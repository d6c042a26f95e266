//! A deterministic YAML serializer for the typed manifests: a `Serialize` value becomes a
//! [`Yaml`] tree with its keys in declaration order, which [`YamlEmitter`] writes out.
//!
//! The value goes through JSON text: `serde_json` writes struct fields in declaration order
//! (its `Value` map would sort them, since the workspace does not enable `preserve_order`),
//! and JSON is YAML, so [`YamlLoader`] reads it back into insertion-ordered hashes. Strings
//! that YAML would read as something else (`"8"`, `"true"`, `"1.0"`, values with `: `) are
//! quoted by the emitter; strings with line breaks are written as literal blocks (`|`).

use serde::Serialize;
use yaml_rust2::{Yaml, YamlEmitter, YamlLoader};

/// The YAML tree of a value, keys in declaration order.
///
/// Panics only on a serializer bug (a value that serde_json cannot write, such as a map with
/// non-string keys, or a non-finite float): the render types never contain those.
pub fn to_yaml<T: Serialize>(value: &T) -> Yaml {
    let json = serde_json::to_string(value).expect("render types serialize to JSON");
    let mut docs = YamlLoader::load_from_str(&json).expect("JSON text is YAML");
    docs.pop().unwrap_or(Yaml::Null)
}

/// One YAML document, without the `---` header, ending with a newline.
pub fn document<T: Serialize>(value: &T) -> String {
    emit(&to_yaml(value))
}

/// Several documents in one file, separated by `---` lines.
pub fn documents(docs: &[Yaml]) -> String {
    docs.iter().map(emit).collect::<Vec<_>>().join("---\n")
}

/// Writes one tree as a document without the leading `---` line.
pub fn emit(doc: &Yaml) -> String {
    let mut out = String::new();
    {
        let mut emitter = YamlEmitter::new(&mut out);
        emitter.multiline_strings(true);
        emitter
            .dump(doc)
            .expect("writing YAML to a String cannot fail");
    }
    let body = out.strip_prefix("---\n").unwrap_or(&out).to_owned();
    let body = body
        .strip_prefix("---")
        .unwrap_or(&body)
        .trim_start_matches(' ');
    let mut s = body.to_owned();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Sample {
        zeta: &'static str,
        alpha: u32,
        number_like: &'static str,
        boolish: &'static str,
        ratio: f64,
        multi: &'static str,
        list: Vec<&'static str>,
        empty: Vec<u32>,
    }

    #[test]
    fn keeps_field_order_and_quotes_what_needs_it() {
        let s = Sample {
            zeta: "first",
            alpha: 2,
            number_like: "8",
            boolish: "true",
            ratio: 0.9,
            multi: "a\nb\n",
            list: vec!["x: y", "plain"],
            empty: vec![],
        };
        let text = document(&s);
        assert_eq!(
            text,
            "zeta: first\nalpha: 2\nnumber_like: \"8\"\nboolish: \"true\"\nratio: 0.9\nmulti: |\n  a\n  b\nlist:\n  - \"x: y\"\n  - plain\nempty: []\n"
        );
        let back = YamlLoader::load_from_str(&text).unwrap();
        assert_eq!(back[0]["number_like"].as_str(), Some("8"));
        assert_eq!(back[0]["multi"].as_str(), Some("a\nb\n"));
    }

    #[test]
    fn joins_documents() {
        let a = to_yaml(&serde_json::json!({"a": 1}));
        let b = to_yaml(&serde_json::json!({"b": 2}));
        assert_eq!(documents(&[a, b]), "a: 1\n---\nb: 2\n");
    }
}
