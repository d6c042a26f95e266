//! IP105 `cold-start-over-budget`.

use super::{duration, finding, nodes_per_replica, num, Context, Finding, Rule, Severity};
use inferplan_serving::Delivery;

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
    /// **How the estimate is made.** `Candidate::cold_start`, which calls `new_replica` and
    /// `cold_start_s(delivery, bytes, engine start, instance, node)` in
    /// `crates/serving/src/cold_start.rs`: the same function gives the renderer its startup probe
    /// and the linter's IL104 its least start.
    ///
    /// ```text
    /// cold start = boot + copy to the node cache + engine start + bytes / read bandwidth
    /// ```
    ///
    /// `bytes` is the served checkpoint's download (`download_bytes`), or its share when a replica
    /// spans several instances (they read in parallel). The engine start is the one without compile
    /// caches, 200 s, since a new node has none. `constraints.weights_source` decides the delivery:
    ///
    /// | source | delivery | copy to the node | engine reads at |
    /// |---|---|---|---|
    /// | `hub` | init container downloads into the node cache (instance store, shared by the node's pods) | min(network × 0.85, 0.5 GB/s) | 1.9 GB/s (one NVMe device) |
    /// | `s3`, vLLM | streamed into GPU memory (`--load-format runai_streamer`) | none | min(network × 0.85, 6.25 GB/s) |
    /// | `s3`, other engines | init container copies with parallel requests into the node cache | min(network × 0.85, 6.25 GB/s) | 1.9 GB/s |
    /// | `fsx` | FSx for Lustre PersistentVolumeClaim | none | min(4.8 GB/s, network × 0.85) |
    /// | `nvme` | DaemonSet pre-pulls from S3 into the node cache when the node starts | min(network × 0.85, 6.25 GB/s) | 1.9 GB/s |
    ///
    /// Plus 60 s of boot for the new node. A node cache on an instance without instance store (or
    /// one too small) is the gp3 root volume, read at 1,000 MiB/s. The network is the catalog's
    /// baseline `network_gbps`; small instances can burst higher for a while, so their estimate is
    /// conservative.
    ///
    /// | figure | value | source |
    /// |---|---|---|
    /// | instance boot | 60 s | depot.dev, "Making EC2 boot time 8x faster" (2024): about 40 s from `RunInstances` to a usable instance with a stock AMI; brevdev/ec2-coldboot-research: 25.8 s on average to SSH. The 20 s added for the NVIDIA driver, cluster registration and the device plugin are an **assumption**, as is a cached or lazily pulled image (pulling a 10-20 GB inference image in full adds minutes). |
    /// | engine start | 200 s (64 s with warm caches) | tensorfuse.io, "Reducing GPU cold start time when using vLLM" (2025-09-01), Llama 3.1 8B on L40S: 200 s without `torch.compile` and CUDA-graph caches; with them Dynamo 10 s + graph compilation 13 s + CUDA-graph capture 7 s + engine init and imports 34 s = 64 s. SGLang is given the same (an **assumption**). |
    /// | network efficiency | 0.85 | dvassallo/s3-benchmark (2019, parallel byte-range GETs): 92 % of 10 Gbps on c5.4xlarge, 87 % of 25 Gbps on c5.18xlarge, 92 % of 50 Gbps on c5n.9xlarge. AWS's S3 performance guidelines: one concurrent request per 85-90 MB/s, about 15 to fill 10 Gb/s. Applied to FSx for Lustre and the Hub too: an **assumption**. |
    /// | S3 ceiling per instance | 6.25 GB/s | dvassallo/s3-benchmark: 6,269 MB/s on p3dn.24xlarge and 8,003 MB/s on c5n.18xlarge (both 100 Gbps); Anyscale, "Loading Llama-2 70b 20x faster" (2023): about 128 GiB from S3 into a p4de.24xlarge in about 20 s including engine start, with many parallel streams. 6.25 GB/s (50 Gbps) is the conservative end. |
    /// | Hub download ceiling | 0.5 GB/s | huggingface/hf_transfer README: the Rust library exists "to go beyond ~500MB/s on very high bandwidth network, where Python cannot cap out the available bandwidth"; the rendered init container uses the Python downloader. |
    /// | NVMe read per device | 1.9 GB/s | cloudperf, "3 Million Storage IOPS on AWS Cloud Instance" (2017): 15 GB/s over the 8 NVMe devices of an i3.16xlarge. AWS publishes IOPS, not throughput, for GPU instance stores; newer Nitro SSDs may be faster. One device is assumed; a RAID 0 over the instance store (Karpenter `instanceStorePolicy: RAID0`) reads about N times faster. |
    /// | gp3 root volume | 1,000 MiB/s | Amazon EBS User Guide, "General Purpose SSD volumes": gp3 throughput up to 1,000 MiB/s at 0.25 MiB/s per provisioned IOPS; the rendered EC2NodeClass provisions it. |
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
    /// > Cold start ≈ 5 min 8 s, over the 300 s budget by 8 s (p5.48xlarge, weights pre-pulled
    /// > from S3 into the node cache by a DaemonSet: boot 60 s + copy to the node 11 s + engine start
    /// > 200 s + 70.2 GB read at 1.9 GB/s 37 s = 308 s). Keep a warm pool: nodes already running with
    /// > the weights in their cache (N+1 or more replicas) absorb the surge while new ones start;
    /// > scale on queue depth so new capacity is asked for early.
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
        let cs = c.cold_start(&ctx.workload.constraints.weights_source, ctx.instance);
        if cs.seconds <= budget {
            return None;
        }
        let share = if nodes > 1 {
            format!("; each of the {nodes} instances of a replica reads its share")
        } else {
            String::new()
        };
        let remedy = match cs.delivery {
            Delivery::NvmePrepull => {
                "Keep a warm pool: nodes already running with the weights in their cache (N+1 \
                 or more replicas) absorb the surge while new ones start; scale on queue depth \
                 so new capacity is asked for early."
            }
            Delivery::HubToNodeCache
            | Delivery::S3ToNodeCache
            | Delivery::S3Stream
            | Delivery::FsxVolume => {
                "Keep a warm pool: pre-started nodes with the weights pre-pulled into their \
                 local NVMe cache (`weights_source = \"nvme\"`), scaled ahead of demand; scale \
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
