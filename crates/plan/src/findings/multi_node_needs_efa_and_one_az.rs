//! IP102 `multi-node-needs-efa-and-one-az`.

use super::{finding, nodes_per_replica, num, Context, Finding, Rule, Severity};

crate::declare_rule! {
    /// **What it checks.** One replica needs more GPUs than one instance has (`tp × pp` greater than
    /// the GPUs of the instance), so it is spread over several instances: pipeline stages on
    /// different nodes, or tensor parallelism wider than a node.
    ///
    /// **Why it matters.** Every step then sends activations or all-reduces between instances. That
    /// is fast enough only over EFA with GPUDirect RDMA and with the instances in one cluster
    /// placement group. A cluster placement group lives in a single Availability Zone, so a multi-node
    /// replica cannot span AZs and fails with its AZ. [A]: "you cannot distribute a multi-node
    /// inference cluster across AZs without losing GPUDirect RDMA"; without a placement group
    /// "all-reduce latency can increase 10x, making model sharding economically unviable"; and "the
    /// correct design is independent clusters per AZ with failover routing at the load balancer, not
    /// a single multi-AZ cluster". Without EFA at all, the inter-node traffic goes over TCP: the
    /// finding is an error.
    ///
    /// **What to do.**
    ///
    /// - Put the instances of each replica in one cluster placement group, on an EFA instance type.
    /// - Run each replica (or group of replicas) as an independent cluster inside one AZ, in at least
    ///   two AZs, with failover at the load balancer. Keep enough replicas that losing one AZ leaves
    ///   the capacity you need.
    /// - Prefer a layout that fits one instance when one exists (a larger instance, or a smaller
    ///   precision) ([A]: start on a single node before considering multi-node).
    ///
    /// **Example.**
    ///
    /// > Each replica spans 2 × p5.48xlarge (TP 8 × PP 2 = 16 GPUs): the instances need EFA (here
    /// > 3200 Gbps), one cluster placement group and therefore one AZ, so an AZ failure takes the
    /// > replica down. Run each replica as an independent cluster inside one AZ and spread the 4
    /// > replicas over at least 3 AZs (2 per AZ), with failover at the load balancer; never stretch
    /// > one cluster across AZs.
    ///
    /// Without EFA (error):
    ///
    /// > Each replica spans 2 × p3.16xlarge (TP 8 × PP 2 = 16 GPUs), but p3.16xlarge has no EFA: the
    /// > inter-node traffic of every step would go over TCP without GPUDirect RDMA. Use an EFA
    /// > instance type in one cluster placement group (one AZ), or a layout that fits one instance.
    pub struct MultiNodeNeedsEfaAndOneAz {
        code: "IP102",
        name: "multi-node-needs-efa-and-one-az",
        severity: Warning,
        severity_note: "error without EFA",
        summary: "a replica spans several instances",
        docs: "docs/findings.md#ip102-multi-node-needs-efa-and-one-az",
    }
}

impl Rule for MultiNodeNeedsEfaAndOneAz {
    fn check(&self, ctx: &Context<'_>) -> Option<Finding> {
        let c = ctx.candidate;
        let nodes = nodes_per_replica(c);
        if nodes < 2 {
            return None;
        }
        let inst = &ctx.instance.name;
        let layout = format!(
            "{nodes} × {inst} (TP {} × PP {} = {} GPUs)",
            c.tp, c.pp, c.gpus_per_replica
        );
        let spread = if c.replicas >= 2 {
            let azs = c.replicas.min(3);
            format!(
                "spread the {} replicas over at least {azs} AZs ({} per AZ)",
                c.replicas,
                c.replicas.div_ceil(azs)
            )
        } else {
            "add a second replica in another AZ: with one replica an AZ failure is an outage"
                .to_owned()
        };
        if ctx.instance.efa {
            let efa = match ctx.instance.network_gbps {
                Some(g) => format!("here {} Gbps", num(g, 0)),
                None => "present here".to_owned(),
            };
            Some(finding(
                self,
                Severity::Warning,
                format!(
                    "Each replica spans {layout}: the instances need EFA ({efa}), one cluster \
                     placement group and therefore one AZ, so an AZ failure takes the replica \
                     down. Run each replica as an independent cluster inside one AZ and \
                     {spread}, with failover at the load balancer; never stretch one cluster \
                     across AZs."
                ),
            ))
        } else {
            Some(finding(
                self,
                Severity::Error,
                format!(
                    "Each replica spans {layout}, but {inst} has no EFA: the \
                     inter-node traffic of every step would go over TCP without GPUDirect \
                     RDMA. Use an EFA instance type in one cluster placement group (one AZ), \
                     or a layout that fits one instance."
                ),
            ))
        }
    }
}
