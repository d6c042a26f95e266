//! Reading a serving engine's arguments out of a container's `command`, `args` and `env`.
//!
//! Understands vLLM (`vllm serve MODEL ...`, `python -m vllm.entrypoints.openai.api_server
//! --model MODEL ...`, or the `vllm/vllm-openai` image with only `args`), SGLang
//! (`python -m sglang.launch_server --model-path ... --tp N`), Hugging Face TGI
//! (`text-generation-launcher --model-id ... --num-shard N`, or its `MODEL_ID` / `NUM_SHARD`
//! environment), TensorRT-LLM (`trtllm-serve MODEL --tp_size N`), LMDeploy (`lmdeploy serve
//! api_server MODEL --tp N`) and NVIDIA Triton Inference Server (`tritonserver
//! --model-repository DIR`, `launch_triton_server.py`, or the leader of a launcher script that
//! takes `--triton_model_repo_dir`, as LWS's and NVIDIA's multi-node TensorRT-LLM examples run
//! it; the TensorRT-LLM engine's degrees are built in, so by default it takes the pod's GPUs).
//! Flags are read as
//! `--flag value` or `--flag=value`, with `_` and `-` equivalent, under the names that
//! [`inferplan_serving::flags`] lists; `$(VAR)` references are expanded from the container's
//! literal `env` values, as Kubernetes does; `sh -c` scripts are split into words (and `$VAR` /
//! `${VAR}` expanded) first.

use crate::yaml::Node;
use inferplan_serving::flags;
use serde::Serialize;
use std::fmt;

/// A serving engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EngineKind {
    /// vLLM.
    Vllm,
    /// SGLang.
    Sglang,
    /// Hugging Face Text Generation Inference.
    Tgi,
    /// NVIDIA TensorRT-LLM (`trtllm-serve`).
    TrtLlm,
    /// LMDeploy (`lmdeploy serve api_server`).
    Lmdeploy,
    /// NVIDIA Triton Inference Server (`tritonserver`), e.g. with its TensorRT-LLM backend.
    Triton,
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EngineKind::Vllm => "vLLM",
            EngineKind::Sglang => "SGLang",
            EngineKind::Tgi => "TGI",
            EngineKind::TrtLlm => "TensorRT-LLM",
            EngineKind::Lmdeploy => "LMDeploy",
            EngineKind::Triton => "Triton",
        })
    }
}

/// One word of a command line and the line it is written on.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    /// The word, after variable expansion.
    pub text: String,
    /// 1-based line in the manifest.
    pub line: usize,
}

/// A flag: normalised name (no leading dashes, lower case, `_` read as `-`), value, line.
#[derive(Debug, Clone, PartialEq)]
pub struct Flag {
    /// `tensor-parallel-size`, `tp`, `num-shard`, ...
    pub name: String,
    /// The value, when one follows.
    pub value: Option<String>,
    /// 1-based line.
    pub line: usize,
}

/// The engine a container runs and its arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineArgs {
    /// Which engine.
    pub kind: EngineKind,
    /// The model given as a positional argument (`vllm serve MODEL`, `trtllm-serve MODEL`).
    pub positional_model: Option<Word>,
    /// Every flag, in order.
    pub flags: Vec<Flag>,
    /// Line of the command (or of the container when only the image tells the engine).
    pub line: usize,
}

impl EngineArgs {
    /// The last flag with one of `names`.
    pub fn flag(&self, names: &[&str]) -> Option<&Flag> {
        self.flags
            .iter()
            .rev()
            .find(|f| names.contains(&f.name.as_str()))
    }

    /// The value of the last flag with one of `names`.
    pub fn value(&self, names: &[&str]) -> Option<&str> {
        self.flag(names).and_then(|f| f.value.as_deref())
    }

    fn number<T: std::str::FromStr>(&self, names: &[&str]) -> Option<(T, usize)> {
        let f = self.flag(names)?;
        Some((f.value.as_deref()?.trim().parse().ok()?, f.line))
    }

    /// True when a flag with one of `names` is written but its value is not a number (a
    /// variable the manifest does not define, a missing value): rules that need it stay
    /// silent rather than assume the default.
    pub fn unreadable(&self, names: &[&str]) -> bool {
        self.flag(names).is_some_and(|f| {
            f.value
                .as_deref()
                .is_none_or(|v| v.trim().parse::<f64>().is_err())
        })
    }

    /// The last flag with one of `names` when its value is a number but not a parallel degree
    /// (a whole number from 1 to 2³² − 1): `--tensor-parallel-size 0`, `--tp -1`, `--pp 1.5`.
    /// The engine refuses it; rules that need the degree stay silent.
    pub fn bad_degree(&self, names: &[&str]) -> Option<&Flag> {
        self.flag(names).filter(|f| {
            f.value
                .as_deref()
                .and_then(|v| v.trim().parse::<f64>().ok())
                .is_some_and(|v| !(v.fract() == 0.0 && (1.0..=f64::from(u32::MAX)).contains(&v)))
        })
    }

    /// Tensor-parallel degree and its line, when set.
    pub fn tp(&self) -> Option<(u32, usize)> {
        self.number(flags::TENSOR_PARALLEL.read)
    }

    /// Pipeline-parallel degree and its line, when set.
    pub fn pp(&self) -> Option<(u32, usize)> {
        self.number(flags::PIPELINE_PARALLEL.read)
    }

    /// Data-parallel degree inside one server, when set.
    pub fn dp(&self) -> Option<(u32, usize)> {
        self.number(flags::DATA_PARALLEL.read)
    }

    /// Nodes one server spans, when set (SGLang and TensorRT-LLM `--nnodes`).
    pub fn nnodes(&self) -> Option<(u32, usize)> {
        self.number(flags::NODES.read)
    }

    /// The model: positional, `--model`, `--model-path` or `--model-id`.
    pub fn model(&self) -> Option<Word> {
        if let Some(w) = &self.positional_model {
            return Some(w.clone());
        }
        let f = self.flag(flags::MODEL.read)?;
        Some(Word {
            text: f.value.clone()?,
            line: f.line,
        })
    }

    /// `--quantization` / `-q` / `--quantize`.
    pub fn quantization(&self) -> Option<&Flag> {
        self.flag(flags::QUANTIZATION.read)
    }

    /// `--kv-cache-dtype`.
    pub fn kv_cache_dtype(&self) -> Option<&Flag> {
        self.flag(flags::KV_CACHE_DTYPE.read)
    }

    /// `--dtype`.
    pub fn dtype(&self) -> Option<&str> {
        self.value(flags::DTYPE.read)
    }

    /// Longest sequence: `--max-model-len`, `--context-length`, `--max-total-tokens`,
    /// `--max-seq-len`.
    pub fn max_model_len(&self) -> Option<(u64, usize)> {
        let f = self.flag(flags::MAX_MODEL_LEN.read)?;
        let v = f.value.as_deref()?.trim().to_ascii_lowercase();
        // vLLM accepts `32k` / `1m` suffixes.
        let n = if let Some(k) = v.strip_suffix('k') {
            k.parse::<f64>().ok().map(|x| x * 1000.0)
        } else if let Some(m) = v.strip_suffix('m') {
            m.parse::<f64>().ok().map(|x| x * 1e6)
        } else {
            v.parse::<f64>().ok()
        }?;
        (1.0..1e12).contains(&n).then_some((n as u64, f.line))
    }

    /// `--max-num-seqs` (vLLM), `--max-running-requests` (SGLang).
    pub fn max_num_seqs(&self) -> Option<u64> {
        self.number(flags::MAX_NUM_SEQS.read).map(|x| x.0)
    }

    /// `--max-num-batched-tokens` (vLLM).
    pub fn max_num_batched_tokens(&self) -> Option<u64> {
        self.number(flags::MAX_NUM_BATCHED_TOKENS.read).map(|x| x.0)
    }

    /// `--gpu-memory-utilization` (vLLM), `--mem-fraction-static` (SGLang).
    pub fn gpu_memory_utilization(&self) -> Option<(f64, usize)> {
        self.number(flags::GPU_MEMORY_UTILIZATION.read)
    }

    /// `--download-dir` (vLLM).
    pub fn download_dir(&self) -> Option<&str> {
        self.value(flags::DOWNLOAD_DIR.read)
    }

    /// `--load-format` (vLLM: `runai_streamer` streams from object storage).
    pub fn load_format(&self) -> Option<&str> {
        self.value(flags::LOAD_FORMAT.read)
    }
}

/// Finds the engine of a container from its image, `command`, `args` and literal `env`.
pub fn detect(container: &Node, image: &str, env: &[(String, String)]) -> Option<EngineArgs> {
    let mut words = Vec::new();
    for key in ["command", "args"] {
        let Some(n) = container.get(key) else {
            continue;
        };
        match n.items() {
            [] => {
                if let Some(t) = n.text() {
                    push_words(&mut words, &t, n.line, env, true);
                }
            }
            items => {
                for it in items {
                    if let Some(t) = it.text() {
                        words.push(Word {
                            text: expand_k8s(&t, env),
                            line: it.line,
                        });
                    }
                }
            }
        }
    }
    // Split shell scripts (`sh -c "vllm serve ..."`).
    let mut expanded = Vec::new();
    let mut shell = false;
    let mut dash_c = false;
    for w in words {
        if dash_c {
            push_words(&mut expanded, &w.text, w.line, env, false);
            dash_c = false;
            continue;
        }
        let base = w.text.rsplit('/').next().unwrap_or("");
        if matches!(base, "sh" | "bash" | "dash" | "zsh" | "ash") {
            shell = true;
        } else if shell && (w.text == "-c" || w.text == "-lc" || w.text == "-ec") {
            dash_c = true;
        }
        expanded.push(w);
    }
    // A `command` replaces the image's entrypoint: only without one does the image tell.
    let image = if container.get("command").is_some() {
        ""
    } else {
        image
    };
    detect_words(&expanded, image, env, container.line)
}

fn detect_words(
    words: &[Word],
    image: &str,
    env: &[(String, String)],
    line: usize,
) -> Option<EngineArgs> {
    let n = words.len();
    let t = |i: usize| words.get(i).map(|w| w.text.as_str()).unwrap_or("");
    let base = |i: usize| t(i).rsplit('/').next().unwrap_or("").to_owned();
    for i in 0..n {
        let b = base(i);
        let w = t(i);
        // vllm serve MODEL
        if b == "vllm" && t(i + 1) == "serve" {
            let (model, start) = positional(words, i + 2);
            return Some(build(EngineKind::Vllm, model, words, start, words[i].line));
        }
        if w.starts_with("vllm.entrypoints") {
            return Some(build(EngineKind::Vllm, None, words, i + 1, words[i].line));
        }
        if w.starts_with("sglang.launch_server") || (b == "sglang" && t(i + 1) == "serve") {
            let start = if b == "sglang" { i + 2 } else { i + 1 };
            return Some(build(EngineKind::Sglang, None, words, start, words[i].line));
        }
        if b == "text-generation-launcher" {
            let mut e = build(EngineKind::Tgi, None, words, i + 1, words[i].line);
            tgi_env(&mut e, env, words[i].line);
            return Some(e);
        }
        // lmdeploy serve api_server MODEL
        if b == "lmdeploy" && t(i + 1) == "serve" && t(i + 2) == "api_server" {
            let (model, start) = positional(words, i + 3);
            return Some(build(
                EngineKind::Lmdeploy,
                model,
                words,
                start,
                words[i].line,
            ));
        }
        // tritonserver --model-repository=DIR; the TensorRT-LLM backend's MPI launcher.
        if b == "tritonserver" || b == "launch_triton_server.py" {
            return Some(build(EngineKind::Triton, None, words, i + 1, words[i].line));
        }
        // A launcher script that starts Triton on a LeaderWorkerSet's leader (`python3
        // ./server.py leader --triton_model_repo_dir=... --tp=8 --pp=2`); its workers only
        // join the MPI world and serve nothing.
        if b.ends_with(".py") && t(i + 1) != "worker" && triton_launcher(&words[i + 1..]) {
            return Some(build(EngineKind::Triton, None, words, i + 1, words[i].line));
        }
        if b == "trtllm-serve" {
            let mut j = i + 1;
            if t(j) == "serve" {
                j += 1;
            }
            let (model, start) = positional(words, j);
            return Some(build(
                EngineKind::TrtLlm,
                model,
                words,
                start,
                words[i].line,
            ));
        }
    }
    // Only the image tells: its entrypoint receives `args`.
    if image.is_empty() {
        return None;
    }
    let img = image.to_ascii_lowercase();
    let repo = img.split('@').next().unwrap_or("");
    let repo = repo
        .rsplit_once(':')
        .map_or(repo, |(r, tag)| if tag.contains('/') { repo } else { r });
    let kind = if repo.contains("vllm") {
        EngineKind::Vllm
    } else if repo.contains("sglang") {
        EngineKind::Sglang
    } else if repo.contains("text-generation-inference") || repo.ends_with("/tgi") {
        EngineKind::Tgi
    } else if repo.contains("tensorrt-llm") || repo.contains("trtllm") {
        EngineKind::TrtLlm
    } else {
        return None;
    };
    let (model, start) = if matches!(kind, EngineKind::Vllm | EngineKind::TrtLlm) {
        positional(words, 0)
    } else {
        (None, 0)
    };
    let at = words.first().map_or(line, |w| w.line);
    let mut e = build(kind, model, words, start, at);
    if kind == EngineKind::Tgi {
        tgi_env(&mut e, env, at);
    }
    Some(e)
}

/// True when the words up to the next shell separator pass a Triton model repository to a
/// launcher script (`--triton_model_repo_dir`).
fn triton_launcher(words: &[Word]) -> bool {
    words
        .iter()
        .take_while(|w| !is_separator(&w.text))
        .any(|w| {
            let n = flags::normalise(w.text.split('=').next().unwrap_or(""));
            w.text.starts_with('-') && n == "triton-model-repo-dir"
        })
}

/// A positional argument at `i` (not a flag, not a shell operator), and where flags start.
fn positional(words: &[Word], i: usize) -> (Option<Word>, usize) {
    match words.get(i) {
        Some(w) if !w.text.starts_with('-') && !is_separator(&w.text) => (Some(w.clone()), i + 1),
        _ => (None, i),
    }
}

fn is_separator(s: &str) -> bool {
    matches!(s, "&&" | "||" | ";" | "|" | "&")
}

fn build(
    kind: EngineKind,
    positional_model: Option<Word>,
    words: &[Word],
    start: usize,
    line: usize,
) -> EngineArgs {
    let mut flags = Vec::new();
    let mut i = start;
    while i < words.len() {
        let w = &words[i];
        if is_separator(&w.text) {
            break;
        }
        if let Some(raw) = w.text.strip_prefix('-').filter(|r| !r.is_empty()) {
            let raw = raw.trim_start_matches('-');
            if raw.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                i += 1;
                continue;
            }
            let (name, inline) = match raw.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (raw, None),
            };
            let name = flags::normalise(name);
            let value = match inline {
                Some(v) => Some(v),
                None => match words.get(i + 1) {
                    Some(next) if takes_value(&next.text) => {
                        i += 1;
                        Some(next.text.clone())
                    }
                    _ => None,
                },
            };
            flags.push(Flag {
                name,
                value,
                line: w.line,
            });
        }
        i += 1;
    }
    EngineArgs {
        kind,
        positional_model,
        flags,
        line,
    }
}

/// The next word is a flag's value: not a flag itself (negative numbers are values).
fn takes_value(next: &str) -> bool {
    if is_separator(next) {
        return false;
    }
    match next.strip_prefix('-') {
        None => true,
        Some(rest) => rest.chars().next().is_some_and(|c| c.is_ascii_digit()),
    }
}

/// TGI reads its options from the environment too (`MODEL_ID`, `NUM_SHARD`, ...).
fn tgi_env(e: &mut EngineArgs, env: &[(String, String)], line: usize) {
    for (var, flag) in flags::tgi::FROM_ENV {
        let name = flags::normalise(flag.write);
        if e.flag(&[name.as_str()]).is_some() {
            continue;
        }
        if let Some((_, v)) = env.iter().find(|(k, _)| k == var) {
            e.flags.insert(
                0,
                Flag {
                    name,
                    value: Some(v.clone()),
                    line,
                },
            );
        }
    }
}

/// Kubernetes `$(VAR)` expansion from literal env values; `$$(VAR)` escapes.
fn expand_k8s(s: &str, env: &[(String, String)]) -> String {
    if !s.contains("$(") {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(a) = after.strip_prefix('$') {
            out.push('$');
            rest = a;
        } else if let Some(inner) = after.strip_prefix('(') {
            match inner.find(')') {
                Some(end) => {
                    let name = &inner[..end];
                    match env.iter().find(|(k, _)| k == name) {
                        Some((_, v)) => out.push_str(v),
                        None => {
                            out.push_str("$(");
                            out.push_str(name);
                            out.push(')');
                        }
                    }
                    rest = &inner[end + 1..];
                }
                None => {
                    out.push('$');
                    rest = after;
                }
            }
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Splits a shell script into words (quotes, backslash-newline), expanding `$(VAR)` and, for
/// scripts, `$VAR` / `${VAR}` from `env`. Each word gets the line it starts on.
fn push_words(
    out: &mut Vec<Word>,
    script: &str,
    line: usize,
    env: &[(String, String)],
    k8s_only: bool,
) {
    let script = expand_k8s(script, env);
    let mut cur = String::new();
    let mut cur_line = line;
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut ln = line;
    let mut chars = script.chars().peekable();
    let flush = |cur: &mut String, in_word: &mut bool, out: &mut Vec<Word>, at: usize| {
        if *in_word {
            out.push(Word {
                text: std::mem::take(cur),
                line: at,
            });
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        if c == '\n' {
            ln += 1;
        }
        match quote {
            Some(q) if c == q => quote = None,
            Some('"') if c == '\\' => {
                if let Some(&n) = chars.peek() {
                    chars.next();
                    if n == '\n' {
                        ln += 1;
                    } else {
                        cur.push(n);
                    }
                }
            }
            Some(q) if c == '$' && q == '"' && !k8s_only => shell_var(&mut chars, &mut cur, env),
            Some(_) => cur.push(c),
            None => match c {
                '\'' | '"' => {
                    if !in_word {
                        in_word = true;
                        cur_line = ln;
                    }
                    quote = Some(c);
                }
                '\\' => {
                    if let Some(&n) = chars.peek() {
                        chars.next();
                        if n == '\n' {
                            ln += 1;
                            flush(&mut cur, &mut in_word, out, cur_line);
                        } else {
                            if !in_word {
                                in_word = true;
                                cur_line = ln;
                            }
                            cur.push(n);
                        }
                    }
                }
                '#' if !in_word => {
                    // Comment to the end of the line.
                    for n in chars.by_ref() {
                        if n == '\n' {
                            ln += 1;
                            break;
                        }
                    }
                }
                ';' | '|' | '&' => {
                    flush(&mut cur, &mut in_word, out, cur_line);
                    let mut op = c.to_string();
                    if chars.peek() == Some(&c) {
                        chars.next();
                        op.push(c);
                    }
                    out.push(Word { text: op, line: ln });
                }
                c if c.is_whitespace() => flush(&mut cur, &mut in_word, out, cur_line),
                '$' if !k8s_only => {
                    if !in_word {
                        in_word = true;
                        cur_line = ln;
                    }
                    shell_var(&mut chars, &mut cur, env);
                }
                c => {
                    if !in_word {
                        in_word = true;
                        cur_line = ln;
                    }
                    cur.push(c);
                }
            },
        }
    }
    flush(&mut cur, &mut in_word, out, cur_line);
}

/// Expands `$VAR` or `${VAR}` (the `$` already read) from `env`; unknown names stay as text.
fn shell_var(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    cur: &mut String,
    env: &[(String, String)],
) {
    let braced = chars.peek() == Some(&'{');
    if braced {
        chars.next();
    }
    let mut name = String::new();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_alphanumeric() || c == '_' {
            name.push(c);
            chars.next();
        } else {
            break;
        }
    }
    if braced {
        // Skip to the closing brace (defaults like ${X:-1} keep the default).
        let mut default = String::new();
        let mut in_default = false;
        for c in chars.by_ref() {
            if c == '}' {
                break;
            }
            if in_default {
                default.push(c);
            } else if c == '-' {
                in_default = true;
            }
        }
        let default = default.trim_start_matches(['-', '=']).to_owned();
        match env.iter().find(|(k, _)| *k == name) {
            Some((_, v)) => cur.push_str(v),
            None if in_default => cur.push_str(&default),
            None => {
                cur.push_str("${");
                cur.push_str(&name);
                cur.push('}');
            }
        }
        return;
    }
    match env.iter().find(|(k, _)| *k == name) {
        Some((_, v)) => cur.push_str(v),
        None => {
            cur.push('$');
            cur.push_str(&name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse;

    fn engine(yaml: &str, image: &str, env: &[(&str, &str)]) -> Option<EngineArgs> {
        let docs = parse(yaml, "t").unwrap();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect();
        detect(&docs[0].value, image, &env)
    }

    #[test]
    fn vllm_serve_with_both_flag_styles() {
        let e = engine(
            "command: [vllm, serve, meta-llama/Llama-3.1-8B-Instruct]\nargs:\n  - --tensor-parallel-size=2\n  - --max_model_len\n  - \"8192\"\n  - --enforce-eager\n  - --gpu-memory-utilization\n  - \"0.85\"\n",
            "vllm/vllm-openai:v0.8.0",
            &[],
        )
        .unwrap();
        assert_eq!(e.kind, EngineKind::Vllm);
        assert_eq!(e.model().unwrap().text, "meta-llama/Llama-3.1-8B-Instruct");
        assert_eq!(e.tp(), Some((2, 3)));
        assert_eq!(e.max_model_len(), Some((8192, 4)));
        assert!(e.flag(&["enforce-eager"]).unwrap().value.is_none());
        assert_eq!(e.gpu_memory_utilization().unwrap().0, 0.85);
    }

    #[test]
    fn api_server_module_and_shell_scripts() {
        let e = engine(
            "command: [python3, -m, vllm.entrypoints.openai.api_server]\nargs: [--model, /models/x, -tp, \"4\"]\n",
            "my/image:1",
            &[],
        )
        .unwrap();
        assert_eq!(e.model().unwrap().text, "/models/x");
        assert_eq!(e.tp().unwrap().0, 4);
        let e = engine(
            "command: [/bin/sh, -c]\nargs:\n  - |\n    pip list && \\\n    exec vllm serve $MODEL \\\n      --tensor-parallel-size ${TP} --max-model-len $(LEN)\n",
            "x",
            &[("MODEL", "Qwen/Qwen3-8B"), ("TP", "2"), ("LEN", "4096")],
        )
        .unwrap();
        assert_eq!(e.model().unwrap().text, "Qwen/Qwen3-8B");
        assert_eq!(e.tp(), Some((2, 6)));
        assert_eq!(e.max_model_len().unwrap().0, 4096);
    }

    #[test]
    fn other_engines() {
        let e = engine(
            "command: [python3, -m, sglang.launch_server, --model-path, Qwen/Qwen3-8B, --tp, \"2\"]",
            "lmsysorg/sglang:latest",
            &[],
        )
        .unwrap();
        assert_eq!((e.kind, e.tp().unwrap().0), (EngineKind::Sglang, 2));
        let e = engine(
            "args: [--max-total-tokens, \"4096\"]",
            "ghcr.io/huggingface/text-generation-inference:3.0",
            &[
                ("MODEL_ID", "meta-llama/Llama-3.1-8B-Instruct"),
                ("NUM_SHARD", "2"),
            ],
        )
        .unwrap();
        assert_eq!(e.kind, EngineKind::Tgi);
        assert_eq!(e.tp().unwrap().0, 2);
        assert_eq!(e.model().unwrap().text, "meta-llama/Llama-3.1-8B-Instruct");
        let e = engine(
            "command: [trtllm-serve, /engines/llama, --tp_size, \"8\", --pp_size, \"2\"]",
            "nvcr.io/nvidia/tensorrt-llm/release:1.0",
            &[],
        )
        .unwrap();
        assert_eq!((e.tp().unwrap().0, e.pp().unwrap().0), (8, 2));
        assert!(engine("command: [nginx]", "nginx:1.27", &[]).is_none());
        let e = engine(
            "command: [/bin/sh, -c]\nargs: [\"lmdeploy serve api_server internlm/internlm2-chat-7b --server-port 23333 --tp 2 --session-len 8192 --quant-policy 8\"]",
            "openmmlab/lmdeploy:latest",
            &[],
        )
        .unwrap();
        assert_eq!(e.kind, EngineKind::Lmdeploy);
        assert_eq!(e.model().unwrap().text, "internlm/internlm2-chat-7b");
        assert_eq!(e.tp().unwrap().0, 2);
        assert_eq!(e.max_model_len().unwrap().0, 8192);
        assert_eq!(e.kv_cache_dtype().unwrap().value.as_deref(), Some("8"));
        let e = engine(
            "command: [tritonserver, --model-repository=/models, --http-port=8000]",
            "nvcr.io/nvidia/tritonserver:24.08-trtllm-python-py3",
            &[],
        )
        .unwrap();
        assert_eq!(e.kind, EngineKind::Triton);
        let leader = "command: [sh, -c, \"python3 ./server.py leader --pp=2 --tp=8 --triton_model_repo_dir=/data/all_models/inflight_batcher_llm/\"]";
        let e = engine(leader, "<image>", &[]).unwrap();
        assert_eq!(
            (e.kind, e.tp().unwrap().0, e.pp().unwrap().0),
            (EngineKind::Triton, 8, 2)
        );
        let worker =
            "command: [sh, -c, \"python3 ./server.py worker --triton_model_repo_dir=/data/x\"]";
        assert!(engine(worker, "<image>", &[]).is_none());
        assert!(engine("command: [python3, app.py, --port, \"80\"]", "x", &[]).is_none());
    }
}
