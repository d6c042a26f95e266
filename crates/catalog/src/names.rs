//! Forgiving name matching: case-insensitive keys, aliases, and "did you mean" suggestions.

use std::collections::BTreeMap;

/// Reduces a name to a lookup key: lower case, letters and digits only.
///
/// `Llama-3.3-70B`, `llama 3.3 70b` and `LLAMA_3.3_70B` all become `llama3370b`.
pub fn key(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Variant suffixes that do not change a model's architecture.
const MODEL_SUFFIXES: [&str; 6] = ["instruct", "chat", "hf", "it", "base", "v01"];

/// Lookup keys for a model name or Hugging Face id: the whole name, the name without its
/// organisation, and both without variant suffixes such as `-Instruct` or `-chat`.
pub fn model_keys(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let repo = name.rsplit('/').next().unwrap_or(name);
    for base in [name, repo] {
        let mut k = key(base);
        push_unique(&mut out, k.clone());
        if let Some(rest) = k.strip_prefix("meta") {
            if rest.starts_with("llama") {
                push_unique(&mut out, rest.to_owned());
            }
        }
        loop {
            let before = k.len();
            for s in MODEL_SUFFIXES {
                if k.len() > s.len() + 2 {
                    if let Some(stripped) = k.strip_suffix(s) {
                        k = stripped.to_owned();
                    }
                }
            }
            if k.len() == before {
                break;
            }
            push_unique(&mut out, k.clone());
            if let Some(rest) = k.strip_prefix("meta") {
                if rest.starts_with("llama") {
                    push_unique(&mut out, rest.to_owned());
                }
            }
        }
    }
    out
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !s.is_empty() && !v.contains(&s) {
        v.push(s);
    }
}

/// Levenshtein edit distance between two strings (by characters).
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The up to three display names closest to `query`, best first.
///
/// `candidates` maps a lookup key to the display name it belongs to. A candidate is kept when
/// its key contains the query's key (or the reverse), or when the edit distance is small
/// relative to the length.
pub fn closest(query: &str, candidates: &BTreeMap<String, String>) -> Vec<String> {
    let q = key(query);
    if q.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(usize, &str)> = candidates
        .iter()
        .filter_map(|(k, display)| {
            let d = distance(&q, k);
            let contains = k.contains(&q) || q.contains(k.as_str());
            let limit = (q.len().max(k.len()) / 3).max(2);
            (contains || d <= limit).then_some((if contains { d / 4 } else { d }, display.as_str()))
        })
        .collect();
    scored.sort();
    let mut out: Vec<String> = Vec::new();
    for (_, name) in scored {
        if !out.iter().any(|n| n == name) {
            out.push(name.to_owned());
        }
        if out.len() == 3 {
            break;
        }
    }
    out
}

/// Splits a checkpoint name into the base model name and the weight format its suffix names:
/// `RedHatAI/Llama-3.3-70B-Instruct-FP8-dynamic` → (`RedHatAI/Llama-3.3-70B-Instruct`, FP8),
/// `TheBloke/Llama-2-13B-GPTQ` → (`TheBloke/Llama-2-13B`, INT4).
pub fn split_quantized(name: &str) -> (String, Option<crate::Dtype>) {
    use crate::Dtype;
    const SUFFIXES: [(&str, Dtype); 13] = [
        ("-quantized.w4a16", Dtype::Int4),
        ("-quantized.w8a8", Dtype::Int8),
        ("-quantized.w8a16", Dtype::Int8),
        ("-fp8-dynamic", Dtype::Fp8),
        ("-fp8-kv", Dtype::Fp8),
        ("-fp8", Dtype::Fp8),
        ("-nvfp4", Dtype::Fp4),
        ("-fp4", Dtype::Fp4),
        ("-mxfp4", Dtype::Mxfp4),
        ("-gptq", Dtype::Int4),
        ("-awq", Dtype::Int4),
        ("-w4a16", Dtype::Int4),
        ("-w8a8", Dtype::Int8),
    ];
    let lower = name.to_ascii_lowercase();
    for (s, d) in SUFFIXES {
        if lower.ends_with(s) {
            return (name[..name.len() - s.len()].to_owned(), Some(d));
        }
    }
    (name.to_owned(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_case_and_punctuation() {
        assert_eq!(key("Llama-3.3-70B"), "llama3370b");
        assert_eq!(key("meta-llama/Llama 3.3 70B"), "metallamallama3370b");
    }

    #[test]
    fn model_keys_strip_org_and_suffixes() {
        let k = model_keys("meta-llama/Llama-3.3-70B-Instruct");
        assert!(k.contains(&"llama3370b".to_owned()), "{k:?}");
        let k = model_keys("Meta-Llama-3.1-8B-Instruct");
        assert!(k.contains(&"llama318b".to_owned()), "{k:?}");
        let k = model_keys("google/gemma-2-9b-it");
        assert!(k.contains(&"gemma29b".to_owned()), "{k:?}");
    }

    #[test]
    fn quantized_suffixes_map_to_formats() {
        use crate::Dtype;
        assert_eq!(
            split_quantized("RedHatAI/Llama-3.3-70B-Instruct-FP8-dynamic"),
            (
                "RedHatAI/Llama-3.3-70B-Instruct".to_owned(),
                Some(Dtype::Fp8)
            )
        );
        assert_eq!(
            split_quantized("TheBloke/Llama-2-13B-GPTQ").1,
            Some(Dtype::Int4)
        );
        assert_eq!(
            split_quantized("nvidia/Llama-3.1-405B-Instruct-FP4").1,
            Some(Dtype::Fp4)
        );
        assert_eq!(
            split_quantized("Qwen/Qwen3-8B"),
            ("Qwen/Qwen3-8B".to_owned(), None)
        );
    }

    #[test]
    fn distance_is_levenshtein() {
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("same", "same"), 0);
    }

    #[test]
    fn closest_finds_near_names() {
        let mut c = BTreeMap::new();
        c.insert("llama3170b".to_owned(), "Llama 3.1 70B".to_owned());
        c.insert("llama318b".to_owned(), "Llama 3.1 8B".to_owned());
        c.insert("qwen38b".to_owned(), "Qwen3 8B".to_owned());
        let s = closest("llama-70b", &c);
        assert_eq!(s.first().map(String::as_str), Some("Llama 3.1 70B"));
        assert!(closest("zzzzzzzzzzzz", &c).is_empty());
    }
}
