//! Karpenter v1 objects: the `karpenter.sh/v1` NodePool limited to the plan's instance type
//! and capacity types, with the GPU taint, and the `karpenter.k8s.aws/v1` EC2NodeClass it
//! refers to.
//!
//! Fields follow the Karpenter v1 API (karpenter.sh docs, "NodePools" and "NodeClasses";
//! CRDs `karpenter.sh_nodepools.yaml` in kubernetes-sigs/karpenter and
//! `karpenter.k8s.aws_ec2nodeclasses.yaml` in aws/karpenter-provider-aws).

use super::input::RenderInput;
use super::k8s::{labels, Labels, ObjectMeta};
use super::pod;
use serde::Serialize;

/// A NodePool.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodePool {
    /// `karpenter.sh/v1`.
    pub api_version: String,
    /// `NodePool`.
    pub kind: String,
    /// Name and labels (cluster-scoped: no namespace).
    pub metadata: ObjectMeta,
    /// The spec.
    pub spec: NodePoolSpec,
}

/// Spec of a NodePool.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodePoolSpec {
    /// The nodes it launches.
    pub template: NodeClaimTemplate,
    /// When it may remove nodes.
    pub disruption: Disruption,
    /// Most capacity it may launch.
    pub limits: Labels,
}

/// Template of the nodes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeClaimTemplate {
    /// Node labels.
    pub metadata: NodeMetadata,
    /// Node requirements.
    pub spec: NodeClaimSpec,
}

/// Labels of the nodes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeMetadata {
    /// Labels.
    pub labels: Labels,
}

/// What a node must be.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeClaimSpec {
    /// The cloud-specific settings.
    pub node_class_ref: NodeClassRef,
    /// Label requirements (instance type, capacity type).
    pub requirements: Vec<Requirement>,
    /// Taints of every node.
    pub taints: Vec<Taint>,
    /// Node lifetime before replacement.
    pub expire_after: String,
}

/// A reference to an EC2NodeClass.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeClassRef {
    /// `karpenter.k8s.aws`.
    pub group: String,
    /// `EC2NodeClass`.
    pub kind: String,
    /// Its name.
    pub name: String,
}

/// A node-label requirement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Requirement {
    /// The label.
    pub key: String,
    /// `In`.
    pub operator: String,
    /// Allowed values.
    pub values: Vec<String>,
}

/// A node taint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Taint {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
    /// `NoSchedule`.
    pub effect: String,
}

/// When Karpenter may remove nodes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Disruption {
    /// `WhenEmpty`: only nodes without engine pods.
    pub consolidation_policy: String,
    /// How long a node must be empty first.
    pub consolidate_after: String,
    /// Nodes disrupted at once.
    pub budgets: Vec<Budget>,
}

/// A disruption budget.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Budget {
    /// Nodes (a count or a percentage) that may be disrupted at once.
    pub nodes: String,
}

/// An EC2NodeClass.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ec2NodeClass {
    /// `karpenter.k8s.aws/v1`.
    pub api_version: String,
    /// `EC2NodeClass`.
    pub kind: String,
    /// Name (cluster-scoped).
    pub metadata: ObjectMeta,
    /// The spec.
    pub spec: Ec2NodeClassSpec,
}

/// Spec of an EC2NodeClass.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ec2NodeClassSpec {
    /// IAM role of the nodes.
    pub role: String,
    /// AMIs (an alias picks the EKS-optimized AMI with the NVIDIA driver for GPU types).
    pub ami_selector_terms: Vec<AmiSelectorTerm>,
    /// Subnets, by discovery tag.
    pub subnet_selector_terms: Vec<TagSelectorTerm>,
    /// Security groups, by discovery tag.
    pub security_group_selector_terms: Vec<TagSelectorTerm>,
    /// `RAID0`: the NVMe instance store becomes the node's ephemeral storage, so that
    /// `emptyDir` volumes (the weights) live on local NVMe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_store_policy: Option<String>,
    /// Root volume.
    pub block_device_mappings: Vec<BlockDeviceMapping>,
    /// The EC2 placement group the nodes launch into (multi-node replicas: a cluster
    /// placement group keeps a replica's nodes in one AZ, close on the network).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placement_group_selector: Option<PlacementGroupSelector>,
    /// Tags of the instances.
    pub tags: Labels,
}

/// A placement group, by name (`spec.placementGroupSelector` of the EC2NodeClass: `name` or
/// `id` of an existing placement group; Karpenter does not create it). Added by
/// aws/karpenter-provider-aws#9030 (merged 2026-03-23); older Karpenter releases reject the
/// field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlacementGroupSelector {
    /// The placement group's name.
    pub name: String,
}

/// An AMI selector.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AmiSelectorTerm {
    /// `family@version`.
    pub alias: String,
}

/// A selector by tags.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TagSelectorTerm {
    /// Tags that must match.
    pub tags: Labels,
}

/// A block device.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockDeviceMapping {
    /// `/dev/xvda` (the root device of AL2023).
    pub device_name: String,
    /// The EBS volume.
    pub ebs: Ebs,
}

/// An EBS volume.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ebs {
    /// Size, e.g. `200Gi`.
    pub volume_size: String,
    /// `gp3`.
    pub volume_type: String,
    /// Encrypted at rest.
    pub encrypted: bool,
    /// Deleted with the instance.
    pub delete_on_termination: bool,
    /// Provisioned IOPS (gp3), when the volume holds the node cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iops: Option<u32>,
    /// Provisioned throughput, MiB/s (gp3), when the volume holds the node cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throughput: Option<u32>,
}

/// gp3 throughput the root volume gets when it holds the node cache, MiB/s (the gp3 maximum
/// in the EBS User Guide; the cold start reads it at `EBS_GP3_GBS`).
pub const CACHE_THROUGHPUT_MIBS: u32 = 1000;

/// gp3 IOPS that go with [`CACHE_THROUGHPUT_MIBS`] (at most 0.25 MiB/s per IOPS).
pub const CACHE_IOPS: u32 = 4000;

/// The AMI alias. `@latest` follows new EKS AMI releases; pin a version
/// (`al2023@v20250505`) to roll nodes only when you choose.
pub const AMI_ALIAS: &str = "al2023@latest";

/// Node lifetime: nodes are replaced after 30 days (Karpenter's default), picking up new AMIs.
pub const EXPIRE_AFTER: &str = "720h";

/// GPUs the NodePool may launch: the instances at the autoscaler's maximum plus one replica's
/// nodes for the rolling update's surge.
pub fn gpu_limit(input: &RenderInput) -> u64 {
    (input.max_instances() + u64::from(input.nodes_per_replica))
        .saturating_mul(u64::from(input.gpus_per_instance))
}

/// The NodePool of the deployment.
pub fn node_pool(input: &RenderInput) -> NodePool {
    let capacity: Vec<String> = input
        .capacity_types()
        .into_iter()
        .map(str::to_owned)
        .collect();
    NodePool {
        api_version: "karpenter.sh/v1".to_owned(),
        kind: "NodePool".to_owned(),
        metadata: ObjectMeta {
            name: Some(input.name.clone()),
            namespace: None,
            labels: pod::common_labels(input),
            annotations: Default::default(),
        },
        spec: NodePoolSpec {
            template: NodeClaimTemplate {
                metadata: NodeMetadata {
                    labels: labels([("inferplan.dev/deployment", input.name.as_str())]),
                },
                spec: NodeClaimSpec {
                    node_class_ref: NodeClassRef {
                        group: "karpenter.k8s.aws".to_owned(),
                        kind: "EC2NodeClass".to_owned(),
                        name: input.name.clone(),
                    },
                    requirements: vec![
                        Requirement {
                            key: "node.kubernetes.io/instance-type".to_owned(),
                            operator: "In".to_owned(),
                            values: vec![input.instance.clone()],
                        },
                        Requirement {
                            key: "karpenter.sh/capacity-type".to_owned(),
                            operator: "In".to_owned(),
                            values: capacity,
                        },
                    ],
                    taints: vec![Taint {
                        key: input.accelerator_taint().to_owned(),
                        value: "true".to_owned(),
                        effect: "NoSchedule".to_owned(),
                    }],
                    expire_after: EXPIRE_AFTER.to_owned(),
                },
            },
            disruption: Disruption {
                consolidation_policy: "WhenEmpty".to_owned(),
                consolidate_after: format!(
                    "{}m",
                    inferplan_plan::autoscaling::CONSOLIDATE_AFTER_S / 60
                ),
                budgets: vec![Budget {
                    nodes: "1".to_owned(),
                }],
            },
            limits: labels([(
                input.accelerator_resource(),
                gpu_limit(input).to_string().as_str(),
            )]),
        },
    }
}

/// Root volume, GiB: room for the images, plus the node cache when the weights are cached on
/// the node and the instance store cannot hold them (one copy per node, shared by its pods).
pub fn root_volume_gib(input: &RenderInput) -> u64 {
    let base = 100;
    if root_holds_cache(input) {
        base + pod::models_volume_gib(input)
    } else {
        base
    }
}

/// Whether the root volume holds the node cache.
pub fn root_holds_cache(input: &RenderInput) -> bool {
    input.delivery.uses_node_cache() && !super::weights::cache_on_instance_store(input)
}

/// The EC2NodeClass the NodePool refers to.
pub fn ec2_node_class(input: &RenderInput) -> Ec2NodeClass {
    let discovery = labels([("karpenter.sh/discovery", input.cluster.as_str())]);
    Ec2NodeClass {
        api_version: "karpenter.k8s.aws/v1".to_owned(),
        kind: "EC2NodeClass".to_owned(),
        metadata: ObjectMeta {
            name: Some(input.name.clone()),
            namespace: None,
            labels: pod::common_labels(input),
            annotations: Default::default(),
        },
        spec: Ec2NodeClassSpec {
            role: format!("KarpenterNodeRole-{}", input.cluster),
            ami_selector_terms: vec![AmiSelectorTerm {
                alias: AMI_ALIAS.to_owned(),
            }],
            subnet_selector_terms: vec![TagSelectorTerm {
                tags: discovery.clone(),
            }],
            security_group_selector_terms: vec![TagSelectorTerm { tags: discovery }],
            instance_store_policy: input.local_nvme_gb.map(|_| "RAID0".to_owned()),
            block_device_mappings: vec![BlockDeviceMapping {
                device_name: "/dev/xvda".to_owned(),
                ebs: Ebs {
                    volume_size: format!("{}Gi", root_volume_gib(input)),
                    volume_type: "gp3".to_owned(),
                    encrypted: true,
                    delete_on_termination: true,
                    iops: root_holds_cache(input).then_some(CACHE_IOPS),
                    throughput: root_holds_cache(input).then_some(CACHE_THROUGHPUT_MIBS),
                },
            }],
            placement_group_selector: input
                .placement_group
                .as_ref()
                .map(|name| PlacementGroupSelector { name: name.clone() }),
            tags: labels([("inferplan.dev/deployment", input.name.as_str())]),
        },
    }
}
