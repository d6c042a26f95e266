//! A Kubernetes object (file, line, kind, name, namespace) and values with their line.

use crate::yaml::Node;

/// A Kubernetes object: where it is and what it is.
#[derive(Debug, Clone)]
pub struct Object<'a> {
    /// The file (`<stdin>` for standard input).
    pub file: &'a str,
    /// The Helm template it was rendered from (`# Source:` comment), when known.
    pub template: Option<&'a str>,
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.name` (empty when missing).
    pub name: String,
    /// `metadata.namespace` (empty when unset: matches any namespace).
    pub namespace: String,
    /// 1-based line of the object.
    pub line: usize,
    /// The whole object.
    pub node: &'a Node,
}

impl Object<'_> {
    /// `Kind/name`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }

    /// True when both are in the same namespace (an unset namespace matches any).
    pub fn same_namespace(&self, other: &Object<'_>) -> bool {
        self.namespace.is_empty() || other.namespace.is_empty() || self.namespace == other.namespace
    }
}

/// A value and the 1-based line it is written on.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// 1-based line.
    pub line: usize,
}

pub(super) fn object<'a>(
    file: &'a str,
    template: Option<&'a str>,
    node: &'a Node,
) -> Option<Object<'a>> {
    let kind = node.get("kind")?.text()?;
    let api_version = node
        .get("apiVersion")
        .and_then(Node::text)
        .unwrap_or_default();
    let meta = node.at("metadata");
    Some(Object {
        file,
        template,
        api_version,
        kind,
        name: meta.get("name").and_then(Node::text).unwrap_or_default(),
        namespace: meta
            .get("namespace")
            .and_then(Node::text)
            .unwrap_or_default(),
        line: node.line,
        node,
    })
}

/// A document without `kind`, named by its `metadata.name` (or `?`), for the note that it was
/// not linted.
pub(super) fn anonymous<'a>(
    file: &'a str,
    template: Option<&'a str>,
    node: &'a Node,
) -> Option<Object<'a>> {
    if !node.is_map() {
        return None;
    }
    Some(Object {
        file,
        template,
        api_version: String::new(),
        kind: "?".to_owned(),
        name: node
            .path(&["metadata", "name"])
            .and_then(Node::text)
            .unwrap_or_else(|| "?".to_owned()),
        namespace: String::new(),
        line: node.line,
        node,
    })
}

pub(super) fn string_map(n: &Node) -> Vec<(String, String)> {
    n.entries()
        .iter()
        .map(|e| (e.key.clone(), e.value.text().unwrap_or_default()))
        .collect()
}
