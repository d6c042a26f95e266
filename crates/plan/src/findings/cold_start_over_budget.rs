//! IP105 `cold-start-over-budget`.

use super::{duration, finding, nodes_per_replica, num, Context, Finding, Rule, Severity};
use inferplan_serving::{cold_start_s, WeightsSource};

crate::declare_rule! {
    /// **What it checks.** The workload sets `constraints.cold_start_budget_s`, and the estimated cold
    /// start of a new replica is longer. Without a budget, or within it, the rule is silent (the
    /// estimate is shown with the plan, not as a finding).
    ///
    /// **Why it matters.** Autoscaling only helps if the new replica serves before the surge is over.
    /// Until then requests queue on the replicas already running, and a scale-from-zero path waits the
    /// whole cold start. [A] names "loading models directly from S3 on pod cold start" an
    /// anti-pattern and recommends pre-warming local NVMe with the weights and keeping FSx for Lustre
    /// as a cache; [B] keeps a warm pool of pre-loaded replicas because 30-90 s cold starts were
    /// unacceptable for its SLO.
    ///
    /// **How the estimate is made.** `cold_start_s(weights_gib, source, instance)` in
    /// `crates/serving/src/cold_start.rs` (the renderer and the simulator use the same function):
    ///
    /// ```text
    /// cold start = boot + engine start + weights (GB) / read bandwidth (GB/s)
    /// ```
    ///
    /// `weights` is what one instance reads: the whole model, or its share when a replica spans
    /// several instances (they read in parallel). The source is `constraints.weights_source`:
    ///
    /// | source | boot | read bandwidth |
    /// |---|---|---|
    /// | `s3` | 60 s | min(network × 0.85, 6.25 GB/s) |
    /// | `nvme` | 0 s: the weights are already on the instance store, so the instance is running (a restarted replica, or a node from a warm pool). Falls back to `s3` when the instance has no instance store or less than the weights. | 1.9 GB/s (one NVMe device) |
    /// | `fsx` | 60 s | min(4.8 GB/s, network × 0.85) |
    ///
    /// Plus 64 s of engine start in every case. The network is the catalog's baseline
    /// `network_gbps`; small instances can burst higher for a while, so their estimate is
    /// conservative.
    ///
    /// | figure | value | source |
    /// |---|---|---|
    /// | instance boot | 60 s | depot.dev, "Making EC2 boot time 8x faster" (2024): about 40 s from `RunInstances` to a usable instance with a stock AMI; brevdev/ec2-coldboot-research: 25.8 s on average to SSH. The 20 s added for the NVIDIA driver, cluster registration and the device plugin are an **assumption**, as is a cached or lazily pulled image (pulling a 10-20 GB inference image in full adds minutes). |
    /// | engine start | 64 s | tensorfuse.io, "Reducing GPU cold start time when using vLLM" (2025-09-01), Llama 3.1 8B on L40S with warm caches: Dynamo 10 s + graph compilation 13 s + CUDA-graph capture 7 s + engine init and imports 34 s. Without the caches: 200 s. |
    /// | network efficiency | 0.85 | dvassallo/s3-benchmark (2019, parallel byte-range GETs): 92 % of 10 Gbps on c5.4xlarge, 87 % of 25 Gbps on c5.18xlarge, 92 % of 50 Gbps on c5n.9xlarge. AWS's S3 performance guidelines: one concurrent request per 85-90 MB/s, about 15 to fill 10 Gb/s. Applied to FSx for Lustre too: an **assumption**. |
    /// | S3 ceiling per instance | 6.25 GB/s | dvassallo/s3-benchmark: 6,269 MB/s on p3dn.24xlarge and 8,003 MB/s on c5n.18xlarge (both 100 Gbps); Anyscale, "Loading Llama-2 70b 20x faster" (2023): about 128 GiB from S3 into a p4de.24xlarge in about 20 s including engine start, with many parallel streams. 6.25 GB/s (50 Gbps) is the conservative end. |
    /// | NVMe read per device | 1.9 GB/s | cloudperf, "3 Million Storage IOPS on AWS Cloud Instance" (2017): 15 GB/s over the 8 NVMe devices of an i3.16xlarge. AWS publishes IOPS, not throughput, for GPU instance stores; newer Nitro SSDs may be faster. One device is assumed; a RAID 0 over the instance store (Karpenter `instanceStorePolicy: RAID0`) reads about N times faster. |
    /// | FSx for Lustre | 4.8 GB/s | FSx for Lustre User Guide, "Managing provisioned throughput capacity": Persistent_2 SSD tiers are 125, 250, 500 and 1000 MB/s per TiB, and file system throughput = storage (TiB) × throughput per TiB. The 4.8 TiB size at the 1000 MB/s/TiB tier is an **assumption**; a larger file system reads proportionally faster, up to the client's network. |
    /// | network when unknown | 10 Gbps | an **assumption**, said in the estimate's basis |
    ///
    /// Two article claims, against these figures: "loading from S3 at pod startup creates 5-15 minute
    /// cold starts" for 140 GB ([A]) describes a naive, single-stream download (Anyscale's starting
    /// point was 4 min 25 s for Llama 2 70B); with parallel range requests a 100 Gbps instance reads
    /// 140 GB in about 22 s. And FSx for Lustre brings a 140 GB load "to the single-digit second
    /// range" ([A]) only with a file system provisioned for more than 14 GB/s (14 TiB or more at
    /// the 1000 MB/s/TiB tier) and a client network to match.
    ///
    /// **What to do.**
    ///
    /// - Keep a warm pool: instances started ahead of demand, with the weights pre-staged on local
    ///   NVMe by an init container that copies them from S3 with parallel streams ([A]); size it for
    ///   the traffic growth expected during one cold start.
    /// - Scale on queue depth so that new capacity is requested early (IP108).
    /// - Load from a fast source: parallel S3 range reads or a streaming loader instead of a
    ///   sequential download, an FSx for Lustre file system sized for the throughput you need, or a
    ///   RAID 0 over the instance store.
    /// - Cache `torch.compile` and CUDA-graph artifacts on a shared volume; it cuts the engine start
    ///   from about 200 s to about 64 s in the tensorfuse measurements.
    ///
    /// **Example.**
    ///
    /// > Cold start ≈ 2 min 27 s, over the 120 s budget by 27 s (p5.48xlarge: boot 60 s + engine
    /// > start 64 s + 131.4 GiB from s3 at 6.25 GB/s (the per-instance S3 ceiling) = 23 s). Keep a
    /// > warm pool: pre-started instances with the weights pre-staged on local NVMe (init container
    /// > with a parallel S3 copy), scaled ahead of demand; scale on queue depth so new capacity is
    /// > asked for early.
    pub struct ColdStartOverBudget {
        code: "IP105",
        name: "cold-start-over-budget",
        severity: Warning,
        summary: "the estimated cold start exceeds `cold_start_budget_s`",
        docs: "docs/findings.md#ip105-cold-start-over-budget",
    }
}

impl Rule for ColdStartOverBudget {
    fn check(&self, ctx: &Context<'_>) -> Option<Finding> {
        let budget = ctx
            .workload
            .constraints
            .cold_start_budget_s
            .filter(|b| b.is_finite() && *b >= 0.0)?;
        let c = ctx.candidate;
        let nodes = nodes_per_replica(c);
        let per_node_gib = c.weights_gib / f64::from(nodes);
        let cs = cold_start_s(
            per_node_gib,
            &ctx.workload.constraints.weights_source,
            ctx.instance,
        );
        if cs.seconds <= budget {
            return None;
        }
        let share = if nodes > 1 {
            format!("; each of the {nodes} instances of a replica reads its share")
        } else {
            String::new()
        };
        let remedy = match cs.source {
            WeightsSource::Nvme => {
                "Keep a warm pool: replicas already running (N+1 or more) absorb the surge \
                 while new ones start; scale on queue depth so new capacity is asked for early."
            }
            WeightsSource::S3 | WeightsSource::Fsx => {
                "Keep a warm pool: pre-started instances with the weights pre-staged on local \
                 NVMe (init container with a parallel S3 copy), scaled ahead of demand; scale \
                 on queue depth so new capacity is asked for early."
            }
        };
        Some(finding(
            self,
            Severity::Warning,
            format!(
                "Cold start ≈ {total}, over the {budget} s budget by {over} ({basis}{share}). \
                 {remedy}",
                total = duration(cs.seconds),
                basis = cs.basis,
                budget = num(budget, 0),
                over = duration(cs.seconds - budget),
            ),
        ))
    }
}
