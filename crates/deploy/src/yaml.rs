//! YAML documents with the line of every node, for `lint`.
//!
//! [`parse`] reads a YAML stream (several `---` documents, comments, anchors and aliases,
//! merge keys `<<: *base`, Helm's `# Source:` comments) into [`Doc`]s whose nodes remember
//! their 1-based line. Malformed input is a [`YamlError`] naming the file and line, never a
//! panic; nesting and alias expansion are bounded so hostile input cannot exhaust the stack
//! or memory. [`collect`] turns command-line paths (files, directories, `-` for stdin) into
//! `(origin, text)` pairs.
//!
//! Scalars are resolved with the YAML 1.2 core schema: plain `true`/`false`, integers,
//! floats and `null`/`~`/empty are typed; quoted and block scalars are always strings.
//! Accessors such as [`Node::as_i64`] accept both (`"1"` and `1`).

use inferplan_catalog::error::shown;
use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Deepest nesting of sequences and mappings accepted.
pub const MAX_DEPTH: usize = 256;

/// Most nodes one file may expand to (aliases included).
pub const MAX_NODES: usize = 2_000_000;

/// What went wrong reading YAML.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum YamlError {
    /// The text is not well-formed YAML.
    #[error("{origin}:{line}:{column}: malformed YAML: {message}")]
    Syntax {
        /// File name (`<stdin>` for standard input).
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser expected.
        message: String,
    },
    /// Well-formed, but beyond what `lint` accepts (nesting depth, alias expansion).
    #[error("{origin}:{line}: {message}")]
    Limit {
        /// File name.
        origin: String,
        /// 1-based line.
        line: usize,
        /// Which limit.
        message: String,
    },
    /// A mapping repeats a key. YAML forbids it and kubectl refuses it ("mapping key already
    /// defined"); other tools keep the first or the last value, so what runs is a guess.
    #[error(
        "{origin}:{line}: duplicate key `{key}` (first at line {first}): keep one; YAML forbids \
         repeated keys and tools disagree on which value counts"
    )]
    Duplicate {
        /// File name.
        origin: String,
        /// 1-based line of the repeat.
        line: usize,
        /// The key.
        key: String,
        /// 1-based line of its first occurrence.
        first: usize,
    },
    /// A path cannot be read (missing, not UTF-8, a directory without YAML files).
    #[error("{origin}: {message}")]
    Io {
        /// The path.
        origin: String,
        /// Why.
        message: String,
    },
}

impl YamlError {
    /// The file the error is about.
    pub fn origin(&self) -> &str {
        match self {
            YamlError::Syntax { origin, .. }
            | YamlError::Limit { origin, .. }
            | YamlError::Duplicate { origin, .. }
            | YamlError::Io { origin, .. } => origin,
        }
    }

    /// The 1-based line, when the error has one.
    pub fn line(&self) -> Option<usize> {
        match self {
            YamlError::Syntax { line, .. }
            | YamlError::Limit { line, .. }
            | YamlError::Duplicate { line, .. } => Some(*line),
            YamlError::Io { .. } => None,
        }
    }
}

/// One document of a YAML stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    /// Position in the stream, from 0, counting empty documents.
    pub index: usize,
    /// 1-based line where the document starts (its `---`, or its first node).
    pub line: usize,
    /// The template named by the last Helm `# Source: ...` comment before the document.
    pub source: Option<String>,
    /// The root node.
    pub value: Node,
}

/// A node and the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// 1-based line (for a block scalar `|` or `>`, the line of its first content line).
    pub line: usize,
    /// The content.
    pub value: Value,
}

/// The content of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A mapping, in source order, with merge keys (`<<`) applied.
    Map(Vec<Entry>),
    /// A sequence.
    Seq(Vec<Node>),
    /// A string (every quoted or block scalar, and plain scalars that are not typed).
    Str(String),
    /// A plain integer.
    Int(i64),
    /// A plain float.
    Float(f64),
    /// A plain `true` or `false`.
    Bool(bool),
    /// `null`, `~` or nothing.
    Null,
}

/// One key of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key as text (a non-scalar key becomes `<complex key>`).
    pub key: String,
    /// 1-based line of the key.
    pub line: usize,
    /// The value.
    pub value: Node,
}

static NULL: Node = Node {
    line: 0,
    value: Value::Null,
};

impl Node {
    /// The value of `key` when this is a mapping that has it (the last one when repeated).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// The entry of `key` (with the key's line) when this is a mapping that has it.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().rev().find(|e| e.key == key),
            _ => None,
        }
    }

    /// Follows mapping keys: `node.path(&["spec", "template", "spec"])`.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |n, k| n.get(k))
    }

    /// The entries of a mapping (empty for anything else).
    pub fn entries(&self) -> &[Entry] {
        match &self.value {
            Value::Map(e) => e,
            _ => &[],
        }
    }

    /// The items of a sequence (empty for anything else).
    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(s) => s,
            _ => &[],
        }
    }

    /// True for a mapping.
    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// The string of a string node.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Any scalar as text (`1`, `true`, `0.5`, `abc`); `None` for null, mappings and
    /// sequences.
    pub fn text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// An integer, also from a string (`"2"`), a whole float (`2.0`) or a plain quantity
    /// without suffix.
    pub fn as_i64(&self) -> Option<i64> {
        match &self.value {
            Value::Int(i) => Some(*i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            Value::Str(s) => {
                let t = s.trim();
                t.parse::<i64>().ok().or_else(|| {
                    let f = t.parse::<f64>().ok().filter(|f| f.is_finite())?;
                    (f.fract() == 0.0 && f.abs() < 9.0e15 && looks_numeric(t)).then_some(f as i64)
                })
            }
            _ => None,
        }
    }

    /// A number, also from a string (`"0.9"`).
    pub fn as_f64(&self) -> Option<f64> {
        match &self.value {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Str(s) if looks_numeric(s.trim()) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// A boolean, also from a string (`"true"`, `"false"`, any case).
    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Bool(b) => Some(*b),
            Value::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// A Kubernetes quantity (`50Gi`, `500M`, `1.5`, `100m`, `1e3`) in base units.
    pub fn as_quantity(&self) -> Option<f64> {
        match &self.value {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Str(s) => quantity(s),
            _ => None,
        }
    }

    /// The node of `key`, or a null node (line 0) when absent, for chaining.
    pub fn at(&self, key: &str) -> &Node {
        self.get(key).unwrap_or(&NULL)
    }
}

/// Parses a Kubernetes quantity (`50Gi`, `500M`, `1.5`, `100m`, `2k`, `1e3`) into base units.
pub fn quantity(s: &str) -> Option<f64> {
    let t = s.trim();
    let split = t
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(t.len());
    let (num, suffix) = t.split_at(split);
    if num.is_empty() || !looks_numeric(num) {
        return None;
    }
    let n: f64 = num.parse().ok()?;
    let k = 1024f64;
    let mult = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => k,
        "Mi" => k * k,
        "Gi" => k * k * k,
        "Ti" => k * k * k * k,
        "Pi" => k * k * k * k * k,
        "Ei" => k * k * k * k * k * k,
        _ => return None,
    };
    let v = n * mult;
    v.is_finite().then_some(v)
}

/// Digits with an optional sign, point and exponent (rejects `inf`, `nan`, `0x1`).
fn looks_numeric(t: &str) -> bool {
    !t.is_empty()
        && t.chars().any(|c| c.is_ascii_digit())
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
}

/// Parses a YAML stream into its non-empty documents. `origin` names the text in errors.
///
/// Like the Go parser Kubernetes uses, this accepts continuation lines of a flow collection
/// that are not indented past the key that opens it (the closing `]` of
/// `args: [\n  "..."\n]` under the key, as in vLLM's own Kubernetes example), which strict
/// YAML 1.2 rejects: such lines are re-indented before parsing; line numbers do not change.
pub fn parse(text: &str, origin: &str) -> Result<Vec<Doc>, YamlError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut current = std::borrow::Cow::Borrowed(text);
    // Each retry fixes one more line; a few dozen covers any real manifest.
    for _ in 0..64 {
        match parse_strict(&current, origin) {
            Err(YamlError::Syntax { line, message, .. })
                if message.contains("indentation") || message.contains("flow") =>
            {
                match relax_flow_line(&current, line) {
                    Some(fixed) => current = std::borrow::Cow::Owned(fixed),
                    None => break,
                }
            }
            other => return other,
        }
    }
    parse_strict(&current, origin)
}

fn parse_strict(text: &str, origin: &str) -> Result<Vec<Doc>, YamlError> {
    let mut b = Builder {
        origin,
        docs: Vec::new(),
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        nodes: 0,
        index: 0,
        doc_line: 1,
        error: None,
    };
    let mut parser = Parser::new_from_str(text);
    let loaded = parser.load(&mut b, true);
    if let Some(e) = b.error {
        return Err(e);
    }
    loaded.map_err(|e| YamlError::Syntax {
        origin: origin.to_owned(),
        line: e.marker().line().max(1),
        column: e.marker().col() + 1,
        message: e.info().to_owned(),
    })?;
    let mut docs = b.docs;
    attach_sources(text, &mut docs);
    Ok(docs)
}

/// When 1-based `line` lies inside a flow collection (`[...]`, `{...}`) and is indented no
/// further than the line that opened it, the text with that line indented one space past
/// the opener; otherwise `None`.
fn relax_flow_line(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let target = line.checked_sub(1)?;
    if target >= lines.len() {
        return None;
    }
    let indent = |l: &str| l.len() - l.trim_start_matches(' ').len();
    let mut depth = 0usize;
    let mut opener_indent = 0usize;
    let mut quote: Option<char> = None;
    for (i, l) in lines.iter().enumerate() {
        if i == target {
            let needed = opener_indent + 1;
            if depth == 0 || indent(l) >= needed || l.trim().is_empty() {
                return None;
            }
            let mut out: Vec<String> = lines.iter().map(|x| (*x).to_owned()).collect();
            out[i] = format!("{}{}", " ".repeat(needed - indent(l)), l);
            return Some(out.join("\n"));
        }
        if l.trim_start().starts_with("---") && depth == 0 {
            continue;
        }
        let mut prev = ' ';
        for c in l.chars() {
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None => match c {
                    '"' | '\'' if depth > 0 || prev == ' ' || prev == ':' => quote = Some(c),
                    '#' if prev == ' ' || prev == '\t' => break,
                    '[' | '{' => {
                        if depth == 0 {
                            opener_indent = indent(l);
                        }
                        depth += 1;
                    }
                    ']' | '}' => depth = depth.saturating_sub(1),
                    _ => {}
                },
            }
            prev = c;
        }
        // Single quotes do not span lines in manifests; double quotes may.
        if quote == Some('\'') {
            quote = None;
        }
    }
    None
}

/// Sets each document's `source` from the last Helm `# Source: ...` comment between the
/// previous document's root and its own.
fn attach_sources(text: &str, docs: &mut [Doc]) {
    let sources: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let rest = l.trim_start().strip_prefix('#')?.trim_start();
            let name = rest.strip_prefix("Source:")?.trim();
            (!name.is_empty()).then_some((i + 1, name))
        })
        .collect();
    if sources.is_empty() {
        return;
    }
    let mut prev = 0;
    for d in docs.iter_mut() {
        let root = d.value.line;
        d.source = sources
            .iter()
            .rev()
            .find(|(l, _)| *l > prev && *l < root)
            .map(|(_, s)| (*s).to_owned());
        prev = root;
    }
}

enum Frame {
    Seq {
        line: usize,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        line: usize,
        anchor: usize,
        entries: Vec<Entry>,
        merges: Vec<Node>,
        key: Option<(String, usize)>,
        /// Keys written so far, with their lines (merged keys do not count).
        seen: HashMap<String, usize>,
    },
}

struct Builder<'o> {
    origin: &'o str,
    docs: Vec<Doc>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    root: Option<Node>,
    nodes: usize,
    index: usize,
    doc_line: usize,
    error: Option<YamlError>,
}

impl Builder<'_> {
    fn fail(&mut self, line: usize, message: String) {
        if self.error.is_none() {
            self.error = Some(YamlError::Limit {
                origin: self.origin.to_owned(),
                line: line.max(1),
                message,
            });
        }
    }

    fn count(&mut self, n: usize, line: usize) -> bool {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            self.fail(
                line,
                format!("the document expands to more than {MAX_NODES} nodes (aliases included)"),
            );
            return false;
        }
        true
    }

    fn open(&mut self, frame: Frame, line: usize) {
        if self.stack.len() >= MAX_DEPTH {
            self.fail(line, format!("nesting deeper than {MAX_DEPTH} levels"));
            return;
        }
        if self.count(1, line) {
            self.stack.push(frame);
        }
    }

    fn complete(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            let size = size(&node);
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                merges,
                key,
                seen,
                ..
            }) => match key.take() {
                None => *key = Some((key_text(&node), node.line)),
                Some((k, _)) if k == "<<" => merges.push(node),
                Some((k, line)) => {
                    if k != COMPLEX_KEY {
                        if let Some(&first) = seen.get(&k) {
                            if self.error.is_none() {
                                self.error = Some(YamlError::Duplicate {
                                    origin: self.origin.to_owned(),
                                    line: line.max(1),
                                    key: shown(&k),
                                    first: first.max(1),
                                });
                            }
                            return;
                        }
                        seen.insert(k.clone(), line);
                    }
                    entries.push(Entry {
                        key: k,
                        line,
                        value: node,
                    });
                }
            },
        }
    }
}

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let line = mark.line().max(1);
        match ev {
            Event::DocumentStart => {
                self.doc_line = line;
                self.root = None;
                self.stack.clear();
            }
            Event::DocumentEnd => {
                if let Some(root) = self.root.take() {
                    if !root.is_null() {
                        self.docs.push(Doc {
                            index: self.index,
                            line: self.doc_line,
                            source: None,
                            value: root,
                        });
                    }
                }
                self.index += 1;
            }
            Event::Alias(id) => match self.anchors.get(&id) {
                Some((node, size)) => {
                    let (mut node, size) = (node.clone(), *size);
                    if self.count(size, line) {
                        node.line = line;
                        self.complete(node, 0);
                    }
                }
                None => self.fail(line, "alias to an unknown anchor".to_owned()),
            },
            Event::Scalar(text, style, anchor, tag) => {
                if self.count(1, line) {
                    // Block scalars (`|`, `>`) are marked at their first content line.
                    let value = resolve(text, style, tag.as_ref());
                    self.complete(Node { line, value }, anchor);
                }
            }
            Event::SequenceStart(anchor, _) => self.open(
                Frame::Seq {
                    line,
                    anchor,
                    items: Vec::new(),
                },
                line,
            ),
            Event::MappingStart(anchor, _) => self.open(
                Frame::Map {
                    line,
                    anchor,
                    entries: Vec::new(),
                    merges: Vec::new(),
                    key: None,
                    seen: HashMap::new(),
                },
                line,
            ),
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq {
                    line,
                    anchor,
                    items,
                }) => self.complete(
                    Node {
                        line,
                        value: Value::Seq(items),
                    },
                    anchor,
                ),
                Some(Frame::Map {
                    line,
                    anchor,
                    mut entries,
                    merges,
                    key,
                    ..
                }) => {
                    if let Some((k, kline)) = key {
                        // A key without a value (cannot happen with a well-formed stream).
                        entries.push(Entry {
                            key: k,
                            line: kline,
                            value: Node {
                                line: kline,
                                value: Value::Null,
                            },
                        });
                    }
                    merge(&mut entries, merges);
                    self.complete(
                        Node {
                            line,
                            value: Value::Map(entries),
                        },
                        anchor,
                    );
                }
                None => self.fail(line, "unbalanced collection end".to_owned()),
            },
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
    }
}

/// Applies merge keys: entries of the merged mappings whose keys the mapping does not set.
fn merge(entries: &mut Vec<Entry>, merges: Vec<Node>) {
    for m in merges {
        let maps: Vec<Node> = match m.value {
            Value::Seq(items) => items,
            other => vec![Node {
                line: m.line,
                value: other,
            }],
        };
        for map in maps {
            if let Value::Map(es) = map.value {
                for e in es {
                    if !entries.iter().any(|x| x.key == e.key) {
                        entries.push(e);
                    }
                }
            }
        }
    }
}

/// Nodes in a tree (bounded by [`MAX_DEPTH`]).
fn size(n: &Node) -> usize {
    1 + match &n.value {
        Value::Map(es) => es.iter().map(|e| size(&e.value)).sum(),
        Value::Seq(items) => items.iter().map(size).sum(),
        _ => 0,
    }
}

/// The text a mapping or sequence key becomes (such keys are not compared).
const COMPLEX_KEY: &str = "<complex key>";

fn key_text(n: &Node) -> String {
    match &n.value {
        Value::Null => String::new(),
        Value::Map(_) | Value::Seq(_) => COMPLEX_KEY.to_owned(),
        _ => n.text().unwrap_or_default(),
    }
}

/// The typed value of a scalar (YAML 1.2 core schema for plain scalars).
fn resolve(text: String, style: TScalarStyle, tag: Option<&Tag>) -> Value {
    if let Some(t) = tag {
        if t.handle == "tag:yaml.org,2002:" || t.handle == "!!" {
            return match t.suffix.as_str() {
                "str" | "binary" | "timestamp" => Value::Str(text),
                "null" => Value::Null,
                _ => resolve_plain(text),
            };
        }
        if t.handle == "!" && t.suffix.is_empty() {
            return Value::Str(text);
        }
    }
    if style != TScalarStyle::Plain {
        return Value::Str(text);
    }
    resolve_plain(text)
}

fn resolve_plain(text: String) -> Value {
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let t = text.as_str();
    let unsigned = t.strip_prefix(['-', '+']).unwrap_or(t);
    if !unsigned.is_empty() && unsigned.chars().all(|c| c.is_ascii_digit()) {
        if let Ok(i) = t.parse::<i64>() {
            return Value::Int(i);
        }
    }
    if let Some(hex) = t.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return Value::Int(i);
        }
    }
    if let Some(oct) = t.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(oct, 8) {
            return Value::Int(i);
        }
    }
    if looks_numeric(t) && !t.ends_with(['e', 'E', '+', '-']) {
        if let Ok(f) = t.parse::<f64>() {
            return Value::Float(f);
        }
    }
    Value::Str(text)
}

/// Origin used for standard input.
pub const STDIN: &str = "<stdin>";

/// Reads the inputs named on the command line: files as given, directories recursively
/// (files ending in `.yaml` or `.yml`, sorted; hidden entries skipped; symbolic links to
/// directories not followed), and `-` for standard input (origin [`STDIN`]).
///
/// Returns `(origin, text)` pairs in the order given. A missing or unreadable path, a file
/// that is not UTF-8, or a directory without YAML files is an error.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<(String, String)>, YamlError> {
    let (files, errors) = collect_each(paths);
    match errors.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(files),
    }
}

/// Like [`collect`], but reads every path it can: the files read, and an error for each path
/// that could not be (missing, unreadable, not UTF-8, an empty directory).
pub fn collect_each(paths: &[PathBuf]) -> (Vec<(String, String)>, Vec<YamlError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            let mut bytes = Vec::new();
            let read = std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| io(STDIN, e.to_string()))
                .and_then(|_| String::from_utf8(bytes).map_err(|_| io(STDIN, "not UTF-8 text")));
            match read {
                Ok(text) => out.push((STDIN.to_owned(), text)),
                Err(e) => errors.push(e),
            }
            continue;
        }
        let meta = match fs::metadata(p) {
            Ok(m) => m,
            Err(e) => {
                errors.push(io(&p.display().to_string(), e.to_string()));
                continue;
            }
        };
        if meta.is_dir() {
            let mut files = Vec::new();
            if let Err(e) = walk(p, &mut files, 0) {
                errors.push(e);
                continue;
            }
            if files.is_empty() {
                errors.push(io(
                    &p.display().to_string(),
                    "directory has no .yaml or .yml files",
                ));
                continue;
            }
            files.sort();
            for f in files {
                match read(&f) {
                    Ok(x) => out.push(x),
                    Err(e) => errors.push(e),
                }
            }
        } else {
            match read(p) {
                Ok(x) => out.push(x),
                Err(e) => errors.push(e),
            }
        }
    }
    (out, errors)
}

fn io(origin: &str, message: impl Into<String>) -> YamlError {
    YamlError::Io {
        origin: origin.to_owned(),
        message: message.into(),
    }
}

fn read(p: &Path) -> Result<(String, String), YamlError> {
    let origin = p.display().to_string();
    let bytes = fs::read(p).map_err(|e| io(&origin, e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|_| io(&origin, "not UTF-8 text"))?;
    Ok((origin, text))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> Result<(), YamlError> {
    if depth > 64 {
        return Ok(());
    }
    let origin = dir.display().to_string();
    let entries = fs::read_dir(dir).map_err(|e| io(&origin, e.to_string()))?;
    for e in entries {
        let e = e.map_err(|e| io(&origin, e.to_string()))?;
        let path = e.path();
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let ft = e.file_type().map_err(|e| io(&origin, e.to_string()))?;
        if ft.is_dir() {
            walk(&path, out, depth + 1)?;
        } else if is_yaml(&path) && (ft.is_file() || path.is_file()) {
            out.push(path);
        }
    }
    Ok(())
}

fn is_yaml(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_key_is_an_error_naming_file_and_lines() {
        let text = "kind: Deployment\nspec:\n  replicas: 1\n  template: {}\n  replicas: 8\n";
        let e = parse(text, "d.yaml").unwrap_err();
        assert_eq!(
            e,
            YamlError::Duplicate {
                origin: "d.yaml".to_owned(),
                line: 5,
                key: "replicas".to_owned(),
                first: 3,
            }
        );
        let msg = e.to_string();
        assert!(
            msg.starts_with("d.yaml:5: duplicate key `replicas` (first at line 3)"),
            "{msg}"
        );
        assert_eq!((e.origin(), e.line()), ("d.yaml", Some(5)));
        // In flow mappings and later documents too.
        let e = parse("a: 1\n---\nb: {x: 1, x: 2}\n", "f.yaml").unwrap_err();
        assert!(
            e.to_string().starts_with("f.yaml:3: duplicate key `x`"),
            "{e}"
        );
        // A merge key brings keys without repeating them; the same key in sibling maps is fine.
        let ok = "base: &b {x: 1}\nuse:\n  <<: *b\n  x: 2\nother: {x: 3}\n";
        assert_eq!(
            parse(ok, "ok.yaml").unwrap()[0]
                .value
                .at("use")
                .at("x")
                .as_i64(),
            Some(2)
        );
    }

    #[test]
    fn lines_anchors_merges_and_sources() {
        let text = "\
---
# Source: chart/templates/a.yaml
base: &b
  x: 1
  y: \"2\"
use:
  <<: *b
  y: 3
list: [a, 'b', 1.5, true, ~]
---
---
# Source: chart/templates/c.yaml
kind: Pod
lit: |
  one
  two
";
        let docs = parse(text, "t.yaml").unwrap();
        assert_eq!(docs.len(), 2);
        let d = &docs[0];
        assert_eq!(d.source.as_deref(), Some("chart/templates/a.yaml"));
        assert_eq!(d.value.line, 3);
        let base = d.value.get("base").unwrap();
        assert_eq!(base.line, 4);
        assert_eq!(base.entry("y").unwrap().line, 5);
        assert_eq!(base.get("y").unwrap().as_i64(), Some(2));
        let used = d.value.get("use").unwrap();
        assert_eq!(used.get("x").unwrap().as_i64(), Some(1));
        assert_eq!(used.get("y").unwrap().value, Value::Int(3));
        assert_eq!(used.entries().len(), 2);
        let list = d.value.get("list").unwrap().items();
        assert_eq!(list[1].value, Value::Str("b".into()));
        assert_eq!(list[2].value, Value::Float(1.5));
        assert_eq!(list[3].value, Value::Bool(true));
        assert!(list[4].is_null());
        assert_eq!(docs[1].index, 2);
        assert_eq!(docs[1].source.as_deref(), Some("chart/templates/c.yaml"));
        assert_eq!(docs[1].value.get("lit").unwrap().line, 15);
        assert_eq!(docs[1].value.path(&["kind"]).unwrap().as_str(), Some("Pod"));
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = parse("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml").unwrap_err();
        assert_eq!(e.origin(), "bad.yaml");
        assert!(e.line().is_some());
        assert!(e.to_string().starts_with("bad.yaml:"), "{e}");
        let deep = "[".repeat(MAX_DEPTH + 10);
        let e = parse(&deep, "deep.yaml").unwrap_err();
        assert!(e.to_string().contains("deep.yaml"), "{e}");
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut t = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            t.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let e = parse(&t, "bomb.yaml").unwrap_err();
        assert!(matches!(e, YamlError::Limit { .. }), "{e}");
    }

    #[test]
    fn flow_collections_closed_under_their_key_are_accepted() {
        let text = "spec:\n  args: [\n    \"vllm serve x\"\n  ]\n  other: {a: 1,\n  b: 2}\n";
        let docs = parse(text, "k.yaml").unwrap();
        let spec = docs[0].value.get("spec").unwrap();
        assert_eq!(spec.get("args").unwrap().items()[0].line, 3);
        assert_eq!(spec.path(&["other", "b"]).unwrap().as_i64(), Some(2));
        assert_eq!(spec.entry("other").unwrap().line, 5);
        // Real indentation errors stay errors.
        assert!(parse("a:\n  b: 1\n c: 2\n", "k.yaml").is_err());
    }

    #[test]
    fn quantities() {
        assert_eq!(quantity("50Gi"), Some(50.0 * 1024.0 * 1024.0 * 1024.0));
        assert_eq!(quantity("500M"), Some(5e8));
        assert_eq!(quantity("100m"), Some(0.1));
        assert_eq!(quantity("1e3"), Some(1000.0));
        assert_eq!(quantity("2"), Some(2.0));
        assert_eq!(quantity("lots"), None);
        assert_eq!(quantity("inf"), None);
    }
}
