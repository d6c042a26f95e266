//! Cold start of a replica and how its weights reach it: instance boot, the copy of the
//! weights to the node (when the delivery has one), engine start and reading the weights.
//!
//! ```text
//! seconds = boot + fetch (to the node's cache) + engine start + weights / read bandwidth
//! ```
//!
//! [`cold_start_s`] is the one function of (delivery, bytes, engine start, instance, node):
//! the planner (rule IP105 `cold-start-over-budget`, the billing of short spikes, the
//! diffusion search), the renderer (the startup probe and the README, through
//! [`startup`](crate::startup)), the linter (IL104's least start, through
//! [`startup::least_start`](crate::startup::least_start)) and the simulator's default
//! `--cold-start-s` all call it. [`Delivery::of`] says how each `weights_source` reaches an
//! engine; the renderer writes the objects of that delivery. Every constant below says where
//! it comes from; those without a source say they are assumptions.
//! `docs/findings.md#ip105-cold-start-over-budget` and `docs/render.md` explain the model.

use inferplan_catalog::{Arch, Instance};
use inferplan_perf::Engine;
use serde::Serialize;
use std::fmt;

/// Launch of a new instance until it can start a container, seconds.
///
/// depot.dev ("Making EC2 boot time 8x faster", 2024) measured about 40 s from
/// `RunInstances` to a usable instance with a stock AMI; brevdev/ec2-coldboot-research
/// measured 25.8 s on average from the API call to SSH. A GPU node also loads the NVIDIA
/// driver, registers with the cluster and starts the device plugin: the 20 s added for
/// that are an assumption, as is the image being cached or lazily pulled (a 10-20 GB
/// inference image pulled in full adds minutes).
pub const INSTANCE_BOOT_S: f64 = 60.0;

/// Engine start without reading the weights, seconds: imports, engine init,
/// `torch.compile` and CUDA-graph capture with their caches on a shared volume.
///
/// tensorfuse.io ("Reducing GPU cold start time when using vLLM", 2025-09-01, Llama 3.1 8B
/// on L40S) measured 10 s Dynamo transformation + 13 s graph compilation + 7 s graph
/// capture + 34 s engine init and imports = 64 s with warm caches (200 s without).
pub const ENGINE_START_S: f64 = 64.0;

/// Engine start without warm `torch.compile` and CUDA-graph caches, seconds: what a new node
/// pays, since its cache directory is empty.
///
/// tensorfuse.io (as for [`ENGINE_START_S`]) measured 200 s for vLLM without caches.
pub const ENGINE_COLD_START_S: f64 = 200.0;

/// Download rate from the Hugging Face Hub with `huggingface_hub`'s Python downloader, GB/s,
/// however fast the instance's network.
///
/// huggingface/hf_transfer (README): the Rust transfer library exists "to go beyond ~500MB/s
/// on very high bandwidth network, where Python cannot cap out the available bandwidth". The
/// rendered init container uses the Python downloader, so 0.5 GB/s is its ceiling; the Hub's
/// own rate limits and CDN are not modelled (an assumption).
pub const HUB_CEILING_GBS: f64 = 0.5;

/// Sequential read of the node's root EBS volume when the instance has no instance store,
/// GB/s: a gp3 volume provisioned at 1,000 MiB/s (the rendered EC2NodeClass asks for it).
///
/// Amazon EBS User Guide, "General Purpose SSD volumes": gp3 throughput can be provisioned up
/// to 1,000 MiB/s, at most 0.25 MiB/s per provisioned IOPS (so 4,000 IOPS for 1,000 MiB/s).
pub const EBS_GP3_GBS: f64 = 1.048_576;

/// Fraction of the instance's network bandwidth a parallel download reaches.
///
/// dvassallo/s3-benchmark (2019, many parallel byte-range GETs) measured 1,156 MB/s on
/// c5.4xlarge (10 Gbps: 92 %), 2,710 MB/s on c5.18xlarge (25 Gbps: 87 %) and 5,741 MB/s on
/// c5n.9xlarge (50 Gbps: 92 %). The S3 performance guidelines ask for one concurrent request
/// per 85-90 MB/s of throughput (about 15 to fill 10 Gb/s). Applied to FSx for Lustre too
/// (an assumption).
pub const NETWORK_EFFICIENCY: f64 = 0.85;

/// Highest S3 read rate one instance reaches, GB/s, however fast its network.
///
/// dvassallo/s3-benchmark measured 6,269 MB/s on p3dn.24xlarge and 8,003 MB/s on
/// c5n.18xlarge (both 100 Gbps); Anyscale ("Loading Llama-2 70b 20x faster", 2023) loaded
/// Llama 2 70B (~128 GiB) from S3 on a p4de.24xlarge in about 20 s including engine start
/// (≳ 6.9 GB/s) with many parallel streams. 6.25 GB/s (50 Gbps) is the conservative end.
/// A naive single-stream download is far slower (Anyscale's starting point was 4 min 25 s).
pub const S3_CEILING_GBS: f64 = 6.25;

/// Sequential read of one local NVMe instance-store device, GB/s.
///
/// cloudperf ("3 Million Storage IOPS on AWS Cloud Instance", 2017) measured 15 GB/s over
/// the 8 NVMe devices of an i3.16xlarge, about 1.9 GB/s per device. The weights are assumed
/// to sit on one device; a RAID 0 over several devices reads proportionally faster. AWS
/// publishes IOPS, not throughput, per GPU instance store.
pub const NVME_DEVICE_GBS: f64 = 1.9;

/// Throughput per TiB of the fastest FSx for Lustre Persistent_2 SSD tier, MB/s.
///
/// FSx for Lustre User Guide, "Managing provisioned throughput capacity": Persistent_2 SSD
/// file systems offer 125, 250, 500 and 1000 MB/s/TiB; file system throughput = storage
/// capacity (TiB) × throughput per TiB.
pub const FSX_MBPS_PER_TIB: f64 = 1000.0;

/// Size of the reference FSx for Lustre file system, TiB (an assumption: a file system
/// sized for a handful of models; a bigger one reads proportionally faster).
pub const FSX_REFERENCE_TIB: f64 = 4.8;

/// Network bandwidth assumed when the catalog has none for the instance, Gbps (an
/// assumption).
pub const DEFAULT_NETWORK_GBPS: f64 = 10.0;

/// Cold start assumed when no instance is known (the simulator given only a GPU), seconds
/// (an assumption).
pub const WITHOUT_INSTANCE_S: f64 = 180.0;

/// Compile time assumed per GB (10^9 bytes) of weights on a Neuron chip, seconds: AWS's guide
/// says "a small-ish model of 15GB might take around 15min to compile" (one minute per GB). An
/// assumption: no table of compile times is published; graphs and buckets change it.
pub const NEURON_COMPILE_S_PER_GB: f64 = 60.0;

/// The least Neuron compile allowance, seconds (an assumption: even a small model compiles two
/// graphs per bucket).
pub const NEURON_MIN_COMPILE_S: f64 = 600.0;

/// Seconds a Neuron replica spends compiling its graphs on a node without them (a new node:
/// the compiled-artifacts cache is on the node): [`NEURON_COMPILE_S_PER_GB`] per GB of
/// weights, at least [`NEURON_MIN_COMPILE_S`].
pub fn neuron_compile_s(bytes: f64) -> f64 {
    let gb = if bytes.is_finite() {
        bytes.max(0.0) / 1e9
    } else {
        0.0
    };
    (gb * NEURON_COMPILE_S_PER_GB).max(NEURON_MIN_COMPILE_S)
}

/// The engine that really serves `engine` on an accelerator of `arch`: on a Neuron chip vLLM
/// runs through its Neuron backend (NxD Inference), which the renderer writes as
/// [`Engine::Neuron`] whatever engine name the plan wrote; elsewhere the engine itself. Plan,
/// render and simulation all pass the engine through this before [`new_replica`], so a Neuron
/// candidate's cold start is the Neuron server's (S3 copied to the node, graphs compiled), not
/// vLLM's stream.
pub fn served_engine(engine: Engine, arch: Arch) -> Engine {
    if arch == Arch::Neuron {
        Engine::Neuron
    } else {
        engine
    }
}

/// Where the weights of a new replica come from (`constraints.weights_source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightsSource {
    /// The Hugging Face Hub, downloaded into a cache on the node.
    Hub,
    /// Amazon S3 in the same region, over the instance network.
    S3,
    /// A node-local cache on the instance store, filled from S3 by a pre-pull DaemonSet.
    Nvme,
    /// An FSx for Lustre file system, mounted through a PersistentVolumeClaim.
    Fsx,
}

impl WeightsSource {
    /// Every source, in display order.
    pub const ALL: [WeightsSource; 4] = [
        WeightsSource::Hub,
        WeightsSource::S3,
        WeightsSource::Nvme,
        WeightsSource::Fsx,
    ];

    /// Reads `hub` (or `huggingface`, `hf`), `s3`, `nvme` (or `local`, `instance-store`) and
    /// `fsx` (or `lustre`, `fsx-lustre`), ignoring case.
    pub fn parse(s: &str) -> Option<WeightsSource> {
        match s.trim().to_ascii_lowercase().as_str() {
            "hub" | "hf" | "huggingface" | "hugging-face" => Some(WeightsSource::Hub),
            "s3" => Some(WeightsSource::S3),
            "nvme" | "local" | "local-nvme" | "instance-store" => Some(WeightsSource::Nvme),
            "fsx" | "lustre" | "fsx-lustre" | "fsx_lustre" => Some(WeightsSource::Fsx),
            _ => None,
        }
    }

    /// The name used in workload files: `hub`, `s3`, `nvme`, `fsx`.
    pub fn as_str(self) -> &'static str {
        match self {
            WeightsSource::Hub => "hub",
            WeightsSource::S3 => "s3",
            WeightsSource::Nvme => "nvme",
            WeightsSource::Fsx => "fsx",
        }
    }
}

impl fmt::Display for WeightsSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the weights reach the engine: what the renderer writes for a `weights_source`, and
/// what the cold start counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Delivery {
    /// `hub`: an init container downloads the checkpoint from the Hugging Face Hub into a
    /// node-wide cache (a `hostPath` on the instance store), shared by the pods of the node;
    /// the engine reads it locally.
    HubToNodeCache,
    /// `s3` with vLLM: the engine streams the safetensors from S3 straight into GPU memory
    /// (`--load-format runai_streamer`); nothing is written to the node.
    S3Stream,
    /// `s3` with an engine without a streaming loader: an init container copies the
    /// checkpoint from S3 with parallel requests into the node cache; the engine reads it
    /// locally.
    S3ToNodeCache,
    /// `fsx`: the engine reads the checkpoint from an FSx for Lustre file system mounted
    /// through a PersistentVolumeClaim.
    FsxVolume,
    /// `nvme`: a DaemonSet on every node of the pool copies the checkpoint from S3 into the
    /// node cache when the node starts; the engine pod waits for it, then reads locally.
    NvmePrepull,
}

impl Delivery {
    /// The delivery of `source` for `engine` (`None`: a diffusion worker, which has no
    /// streaming loader).
    ///
    /// vLLM streams from S3 with the Run:ai Model Streamer (vLLM docs, "Loading models with
    /// Run:ai Model Streamer": `vllm serve s3://bucket/path --load-format runai_streamer`);
    /// the others get a parallel copy.
    pub fn of(source: WeightsSource, engine: Option<Engine>) -> Delivery {
        match source {
            WeightsSource::Hub => Delivery::HubToNodeCache,
            WeightsSource::S3 if engine == Some(Engine::Vllm) => Delivery::S3Stream,
            WeightsSource::S3 => Delivery::S3ToNodeCache,
            WeightsSource::Fsx => Delivery::FsxVolume,
            WeightsSource::Nvme => Delivery::NvmePrepull,
        }
    }

    /// Every delivery.
    pub const ALL: [Delivery; 5] = [
        Delivery::HubToNodeCache,
        Delivery::S3Stream,
        Delivery::S3ToNodeCache,
        Delivery::FsxVolume,
        Delivery::NvmePrepull,
    ];

    /// Whether the weights are written to the node's cache before the engine reads them.
    pub fn uses_node_cache(self) -> bool {
        matches!(
            self,
            Delivery::HubToNodeCache | Delivery::S3ToNodeCache | Delivery::NvmePrepull
        )
    }

    /// The source it reads from.
    pub fn source(self) -> WeightsSource {
        match self {
            Delivery::HubToNodeCache => WeightsSource::Hub,
            Delivery::S3Stream | Delivery::S3ToNodeCache => WeightsSource::S3,
            Delivery::FsxVolume => WeightsSource::Fsx,
            Delivery::NvmePrepull => WeightsSource::Nvme,
        }
    }

    /// One line for messages and READMEs.
    pub fn describe(self) -> &'static str {
        match self {
            Delivery::HubToNodeCache => "downloaded from the Hugging Face Hub into the node cache",
            Delivery::S3Stream => "streamed from S3 into GPU memory (Run:ai Model Streamer)",
            Delivery::S3ToNodeCache => "copied from S3 into the node cache",
            Delivery::FsxVolume => "read from FSx for Lustre",
            Delivery::NvmePrepull => "pre-pulled from S3 into the node cache by a DaemonSet",
        }
    }
}

/// The node a replica starts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Node {
    /// A node launched for it: boot, then the delivery's copy to the node, if any.
    New,
    /// A running node whose cache already holds the weights (a restarted pod, a second
    /// replica on the node, a warm pool).
    Running,
}

/// Engine start without the weights, seconds: [`ENGINE_START_S`] with warm compile caches,
/// [`ENGINE_COLD_START_S`] without. The figures are vLLM's; SGLang (CUDA-graph capture, no
/// `torch.compile` by default) is given the same (an assumption: no published measurement),
/// and a diffusion worker (`None`) the warm figure (an assumption: no graph compilation).
pub fn engine_start_s(engine: Option<Engine>, compile_cache: bool) -> f64 {
    match (engine, compile_cache) {
        (None, _) | (Some(_), true) => ENGINE_START_S,
        (Some(_), false) => ENGINE_COLD_START_S,
    }
}

/// How long a replica takes to serve its first request, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColdStart {
    /// Total: `boot_s + fetch_s + engine_start_s + load_s`.
    pub seconds: f64,
    /// Instance launch to a running container (0 on a running node).
    pub boot_s: f64,
    /// Copying the weights to the node's cache before the engine starts (an init container
    /// or the pre-pull DaemonSet); 0 when the delivery has no copy or the cache is warm.
    pub fetch_s: f64,
    /// Engine start without the weights.
    pub engine_start_s: f64,
    /// The engine reading the weights: `bytes / read_gbs`.
    pub load_s: f64,
    /// Rate of the copy to the node, GB/s (10^9 bytes per second), when there is one.
    pub fetch_gbs: Option<f64>,
    /// Rate the engine reads the weights at, GB/s.
    pub read_gbs: f64,
    /// The delivery.
    pub delivery: Delivery,
    /// The source it reads from.
    pub source: WeightsSource,
    /// How the figure was obtained, in one line.
    pub basis: String,
}

impl ColdStart {
    /// What happens inside the engine container, which is what a startup probe must allow:
    /// engine start and reading the weights (the boot and an init container's copy come
    /// before the container starts).
    pub fn in_container_s(&self) -> f64 {
        self.engine_start_s + self.load_s
    }
}

/// Cold start of a replica whose `delivery` brings `bytes` bytes of weights to an engine that
/// takes `engine_start_s` to start ([`engine_start_s`]), on `instance` (`None`: no instance
/// known, the per-instance ceilings are used: a lower bound), on a new or a running `node`.
///
/// Rates (GB/s):
/// - network: min(network × [`NETWORK_EFFICIENCY`], [`S3_CEILING_GBS`]) for S3,
///   min(network × [`NETWORK_EFFICIENCY`], [`HUB_CEILING_GBS`]) for the Hub,
///   min([`FSX_MBPS_PER_TIB`] × [`FSX_REFERENCE_TIB`], network × [`NETWORK_EFFICIENCY`])
///   for FSx for Lustre;
/// - the node cache: [`NVME_DEVICE_GBS`] on the instance store, [`EBS_GP3_GBS`] on the root
///   EBS volume when the instance has no instance store or one smaller than the weights.
///
/// A new node pays [`INSTANCE_BOOT_S`], then the copy of a node-cache delivery; a running
/// node neither. Streams and FSx are read by the engine whatever the node.
///
/// `bytes` is what this instance reads: the whole checkpoint for a replica inside one
/// instance, its share for a replica spread over several.
pub fn cold_start_s(
    delivery: Delivery,
    bytes: f64,
    engine_start_s: f64,
    instance: Option<&Instance>,
    node: Node,
) -> ColdStart {
    let gb = if bytes.is_finite() {
        bytes.max(0.0) / 1e9
    } else {
        0.0
    };
    let engine_start_s = if engine_start_s.is_finite() {
        engine_start_s.max(0.0)
    } else {
        ENGINE_COLD_START_S
    };
    let mut notes = Vec::new();
    // Network rate after efficiency; `None` without an instance (the ceilings apply).
    let network: Option<(f64, String)> =
        instance.map(|inst| match inst.network_gbps.filter(|g| *g > 0.0) {
            Some(g) => (g / 8.0 * NETWORK_EFFICIENCY, format!("{} Gbps", trim1(g))),
            None => (
                DEFAULT_NETWORK_GBPS / 8.0 * NETWORK_EFFICIENCY,
                format!(
                    "{} Gbps assumed (no network figure)",
                    trim(DEFAULT_NETWORK_GBPS)
                ),
            ),
        });
    let capped = |ceiling: f64, what: &str| -> (f64, String) {
        match &network {
            Some((net, note)) if *net < ceiling => (*net, format!("{note} × {NETWORK_EFFICIENCY}")),
            _ => (ceiling, format!("the {what} ceiling")),
        }
    };
    let fsx_fs = FSX_MBPS_PER_TIB * FSX_REFERENCE_TIB / 1000.0;
    // The node cache: the instance store when it holds the weights, else the root volume.
    let nvme = (
        NVME_DEVICE_GBS,
        "one NVMe device of the node cache".to_owned(),
    );
    let ebs = (EBS_GP3_GBS, "the gp3 root volume at 1,000 MiB/s".to_owned());
    let local = match instance.map(|i| i.local_nvme_gb.filter(|d| *d > 0.0)) {
        None => nvme,
        Some(Some(disk)) if disk >= gb => nvme,
        Some(Some(disk)) => {
            notes.push(format!(
                "{} GB of instance store cannot hold {} GB: the node cache is the root EBS volume",
                trim(disk),
                trim1(gb)
            ));
            ebs
        }
        Some(None) => {
            notes.push("no instance store: the node cache is the root EBS volume".to_owned());
            ebs
        }
    };
    let s3 = capped(S3_CEILING_GBS, "per-instance S3");
    let (fetch, (read_gbs, read_how)) = match delivery {
        Delivery::HubToNodeCache => (
            Some(capped(HUB_CEILING_GBS, "Python Hub downloader")),
            local,
        ),
        Delivery::S3ToNodeCache | Delivery::NvmePrepull => (Some(s3), local),
        Delivery::S3Stream => (None, s3),
        Delivery::FsxVolume => (
            None,
            match &network {
                Some((net, note)) if *net < fsx_fs => {
                    (*net, format!("{note} × {NETWORK_EFFICIENCY}"))
                }
                _ => (
                    fsx_fs,
                    format!(
                        "a {FSX_REFERENCE_TIB} TiB FSx for Lustre at {FSX_MBPS_PER_TIB} MB/s/TiB"
                    ),
                ),
            },
        ),
    };
    let new = node == Node::New;
    let boot_s = if new { INSTANCE_BOOT_S } else { 0.0 };
    let (fetch_s, fetch_gbs, fetch_part) = match fetch {
        Some((rate, how)) if new => {
            let s = if gb > 0.0 { gb / rate } else { 0.0 };
            (
                s,
                Some(rate),
                format!(
                    " + copy to the node {} s ({} GB from {} at {} GB/s, {how})",
                    trim(s.round()),
                    trim1(gb),
                    match delivery {
                        Delivery::HubToNodeCache => "the Hub",
                        _ => "S3",
                    },
                    trim2(rate)
                ),
            )
        }
        Some(_) => (0.0, None, " (the node cache is warm)".to_owned()),
        None => (0.0, None, String::new()),
    };
    let load_s = if gb > 0.0 { gb / read_gbs } else { 0.0 };
    let seconds = boot_s + fetch_s + engine_start_s + load_s;
    let mut basis = format!(
        "{}{}: boot {} s{fetch_part} + engine start {} s + {} GB read at {} GB/s ({read_how}) {} s = {} s",
        instance.map_or("any instance", |i| i.name.as_str()),
        match delivery {
            Delivery::S3Stream | Delivery::FsxVolume => format!(", {}", delivery.describe()),
            _ => format!(", weights {}", delivery.describe()),
        },
        trim(boot_s),
        trim(engine_start_s),
        trim1(gb),
        trim2(read_gbs),
        trim(load_s.round()),
        trim(seconds.round()),
    );
    for n in notes {
        basis.push_str("; ");
        basis.push_str(&n);
    }
    ColdStart {
        seconds,
        boot_s,
        fetch_s,
        engine_start_s,
        load_s,
        fetch_gbs,
        read_gbs,
        delivery,
        source: delivery.source(),
        basis,
    }
}

/// The cold start of a replica on a new node of `instance` (whose accelerator is of `arch`),
/// as the plan, the renderer and the simulator count it: `source` (a workload's
/// `weights_source`; anything unrecognised is read as `s3`) delivered to the engine that
/// serves `engine` on `arch` ([`served_engine`], [`Delivery::of`]), `bytes` per instance, the
/// engine started without compile caches (a new node has none: [`ENGINE_COLD_START_S`], and
/// on a Neuron chip the graphs' compilation, [`neuron_compile_s`]).
pub fn new_replica(
    source: &str,
    engine: Option<Engine>,
    arch: Arch,
    bytes: f64,
    instance: &Instance,
) -> ColdStart {
    let engine = engine.map(|e| served_engine(e, arch));
    let src = WeightsSource::parse(source).unwrap_or(WeightsSource::S3);
    let compile_s = if engine == Some(Engine::Neuron) {
        neuron_compile_s(bytes)
    } else {
        0.0
    };
    let mut c = cold_start_s(
        Delivery::of(src, engine),
        bytes,
        engine_start_s(engine, false) + compile_s,
        Some(instance),
        Node::New,
    );
    if compile_s > 0.0 {
        c.basis.push_str(&format!(
            "; the engine start includes {} s compiling the Neuron graphs (none on a new node)",
            trim(compile_s)
        ));
    }
    if WeightsSource::parse(source).is_none() {
        c.basis
            .push_str(&format!("; unknown weights source `{source}`, read as s3"));
    }
    c
}
fn trim(x: f64) -> String {
    num(x, 0)
}

fn trim1(x: f64) -> String {
    num(x, 1)
}

fn trim2(x: f64) -> String {
    num(x, 2)
}

/// `x` with at most `digits` decimals, trailing zeros dropped.
fn num(x: f64, digits: usize) -> String {
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(name: &str, net: Option<f64>, nvme: Option<f64>) -> Instance {
        Instance {
            name: name.to_owned(),
            family: name.split('.').next().unwrap_or_default().to_owned(),
            cloud: "aws".to_owned(),
            gpu_label: String::new(),
            gpu: None,
            gpu_count: 1.0,
            gpu_mem_mib: None,
            vcpus: None,
            ram_gib: None,
            local_nvme_gb: nvme,
            network_gbps: net,
            efa: false,
            efa_max_interfaces: None,
            interconnect: inferplan_catalog::Interconnect::Single,
            regions_available: Vec::new(),
            prices: Vec::new(),
            source: String::new(),
            notes: String::new(),
        }
    }

    const GB: f64 = 1e9;

    fn s3(gb: f64, inst: &Instance, node: Node) -> ColdStart {
        cold_start_s(
            Delivery::S3Stream,
            gb * GB,
            ENGINE_START_S,
            Some(inst),
            node,
        )
    }

    #[test]
    fn s3_is_network_bound_on_small_instances_and_capped_on_large_ones() {
        let small = s3(10.0, &inst("x.small", Some(2.5), None), Node::New);
        assert!((small.read_gbs - 2.5 / 8.0 * 0.85).abs() < 1e-12);
        assert_eq!(small.boot_s, INSTANCE_BOOT_S);
        assert_eq!(small.fetch_s, 0.0);
        let big = s3(10.0, &inst("x.big", Some(3200.0), None), Node::New);
        assert_eq!(big.read_gbs, S3_CEILING_GBS);
        assert!(big.basis.contains("ceiling"), "{}", big.basis);
        let expect = INSTANCE_BOOT_S + ENGINE_START_S + 10.0 / S3_CEILING_GBS;
        assert!((big.seconds - expect).abs() < 1e-9);
        // A stream reads from S3 on a running node too; only the boot goes.
        let running = s3(10.0, &inst("x.big", Some(3200.0), None), Node::Running);
        assert!((big.seconds - running.seconds - INSTANCE_BOOT_S).abs() < 1e-9);
    }

    #[test]
    fn node_cache_deliveries_copy_first_then_read_locally() {
        let i = inst("x", Some(100.0), Some(3800.0));
        let hub = cold_start_s(
            Delivery::HubToNodeCache,
            100.0 * GB,
            64.0,
            Some(&i),
            Node::New,
        );
        assert_eq!(hub.fetch_gbs, Some(HUB_CEILING_GBS));
        assert!((hub.fetch_s - 200.0).abs() < 1e-9);
        assert_eq!(hub.read_gbs, NVME_DEVICE_GBS);
        assert!((hub.in_container_s() - (64.0 + 100.0 / NVME_DEVICE_GBS)).abs() < 1e-9);
        let pre = cold_start_s(Delivery::NvmePrepull, 100.0 * GB, 64.0, Some(&i), Node::New);
        assert!(pre.fetch_s < hub.fetch_s, "S3 copies faster than the Hub");
        let warm = cold_start_s(
            Delivery::NvmePrepull,
            100.0 * GB,
            64.0,
            Some(&i),
            Node::Running,
        );
        assert_eq!((warm.boot_s, warm.fetch_s), (0.0, 0.0));
        assert!(warm.basis.contains("warm"), "{}", warm.basis);
        // No instance store (or too small a one): the root EBS volume holds the cache.
        for disk in [None, Some(50.0)] {
            let c = cold_start_s(
                Delivery::S3ToNodeCache,
                100.0 * GB,
                64.0,
                Some(&inst("x", Some(100.0), disk)),
                Node::New,
            );
            assert_eq!(c.read_gbs, EBS_GP3_GBS);
            assert!(c.basis.contains("root EBS"), "{}", c.basis);
        }
    }

    #[test]
    fn fsx_is_the_smaller_of_file_system_and_network() {
        let fsx = |net| {
            cold_start_s(
                Delivery::FsxVolume,
                50.0 * GB,
                64.0,
                Some(&inst("x", Some(net), None)),
                Node::New,
            )
        };
        assert!((fsx(400.0).read_gbs - 4.8).abs() < 1e-12);
        assert!((fsx(10.0).read_gbs - 10.0 / 8.0 * 0.85).abs() < 1e-12);
    }

    #[test]
    fn each_source_has_its_delivery() {
        use WeightsSource::*;
        assert_eq!(Delivery::of(S3, Some(Engine::Vllm)), Delivery::S3Stream);
        assert_eq!(
            Delivery::of(S3, Some(Engine::Sglang)),
            Delivery::S3ToNodeCache
        );
        assert_eq!(Delivery::of(S3, None), Delivery::S3ToNodeCache);
        for s in WeightsSource::ALL {
            assert_eq!(WeightsSource::parse(s.as_str()), Some(s));
            assert_eq!(Delivery::of(s, Some(Engine::Vllm)).source(), s);
        }
        assert_eq!(
            engine_start_s(Some(Engine::Vllm), false),
            ENGINE_COLD_START_S
        );
        assert_eq!(engine_start_s(Some(Engine::Vllm), true), ENGINE_START_S);
    }

    #[test]
    fn a_neuron_chip_runs_the_neuron_server_whatever_the_plan_named() {
        let i = inst("inf2.x", Some(30.0), None);
        let gb = 16.0 * GB;
        let neuron = new_replica("s3", Some(Engine::Vllm), Arch::Neuron, gb, &i);
        assert_eq!(neuron.delivery, Delivery::S3ToNodeCache);
        assert_eq!(
            neuron.engine_start_s,
            ENGINE_COLD_START_S + neuron_compile_s(gb)
        );
        assert_eq!(neuron_compile_s(gb), 960.0);
        assert_eq!(neuron_compile_s(1.0 * GB), NEURON_MIN_COMPILE_S);
        assert!(neuron.basis.contains("Neuron graphs"), "{}", neuron.basis);
        assert_eq!(
            new_replica("s3", Some(Engine::Neuron), Arch::Neuron, gb, &i),
            neuron
        );
        let gpu = new_replica("s3", Some(Engine::Vllm), Arch::Ada, gb, &i);
        assert_eq!(gpu.delivery, Delivery::S3Stream);
        assert_eq!(gpu.engine_start_s, ENGINE_COLD_START_S);
        assert_eq!(served_engine(Engine::Sglang, Arch::Hopper), Engine::Sglang);
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let c = new_replica(
            "tape",
            Some(Engine::Vllm),
            Arch::Hopper,
            f64::NAN,
            &inst("x", None, None),
        );
        assert_eq!(c.load_s, 0.0);
        assert_eq!(c.source, WeightsSource::S3);
        assert!(c.basis.contains("unknown weights source"));
        assert!(c.basis.contains("assumed"));
        assert!(c.seconds.is_finite());
        let c = cold_start_s(
            Delivery::HubToNodeCache,
            -1.0,
            f64::INFINITY,
            None,
            Node::New,
        );
        assert!(c.seconds.is_finite());
    }
}
