//! IP102 `multi-node-needs-efa-and-one-az`.

use super::{finding, nodes_per_replica, num, Context, Finding, Rule, Severity};

/// IP102 `multi-node-needs-efa-and-one-az`: a replica that spans several instances.
///
/// **What it checks.** One replica needs more GPUs than one instance has (pipeline
/// parallelism across nodes, or tensor parallelism wider than the instance), so the
/// replica is spread over several instances.
///
/// **Why it matters.** The activations (PP) or all-reduces (TP) between those instances
/// cross the network on every step. That is only fast enough with EFA (GPUDirect RDMA) and
/// with the instances in one cluster placement group, which lives in a single Availability
/// Zone: without a placement group all-reduce latency can grow tenfold. A multi-node replica
/// therefore cannot span AZs and dies with its AZ. Stretching one cluster across AZs for high
/// availability breaks the fast path; the resilient design is independent clusters, one per
/// AZ, with failover at the load balancer. Without EFA the layout should not be used at all
/// (error).
///
/// **Example.** `Each replica spans 2 × p5.48xlarge (TP 8 × PP 2 = 16 GPUs): the instances
/// need EFA (here 3200 Gbps), one cluster placement group and therefore one AZ, so an AZ
/// failure takes the replica down. Run each replica as an independent cluster inside one
/// AZ and spread the 4 replicas over at least 2 AZs (2 per AZ), with failover at the load
/// balancer; never stretch one cluster across AZs.`
pub struct MultiNodeNeedsEfaAndOneAz;

impl Rule for MultiNodeNeedsEfaAndOneAz {
    fn code(&self) -> &'static str {
        "IP102"
    }

    fn name(&self) -> &'static str {
        "multi-node-needs-efa-and-one-az"
    }

    fn docs(&self) -> &'static str {
        "docs/findings.md#ip102-multi-node-needs-efa-and-one-az"
    }

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
