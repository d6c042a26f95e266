//! Karpenter NodePools (and v1alpha5 Provisioners).

use super::object::{string_map, Object};
use super::pod::{requirements, Requirement};
use crate::yaml::Node;

/// A Karpenter NodePool (or v1alpha5 Provisioner).
#[derive(Debug, Clone)]
pub struct NodePool<'a> {
    /// The object.
    pub object: Object<'a>,
    /// Labels its nodes get.
    pub labels: Vec<(String, String)>,
    /// Its requirements (`spec.template.spec.requirements`).
    pub requirements: Vec<Requirement>,
    /// Taint keys of its nodes.
    pub taints: Vec<String>,
}

pub(super) fn node_pool(object: Object<'_>) -> NodePool<'_> {
    let spec = object.node.at("spec");
    // karpenter.sh/v1 and v1beta1: spec.template.{metadata,spec}; v1alpha5: spec directly.
    let (labels_node, inner) = match spec.get("template") {
        Some(t) => (t.path(&["metadata", "labels"]), t.at("spec")),
        None => (spec.get("labels"), spec),
    };
    let labels = labels_node.map(string_map).unwrap_or_default();
    let requirements = requirements(inner.at("requirements"));
    let taints = inner
        .at("taints")
        .items()
        .iter()
        .filter_map(|t| t.get("key").and_then(Node::text))
        .collect();
    NodePool {
        object,
        labels,
        requirements,
        taints,
    }
}
