//! What the renderer needs, resolved from a plan candidate, its workload and the catalog.

use super::error::RenderError;
use super::k8s::MAX_REPLICAS;
use inferplan_catalog::{Arch, Catalog, Dtype};
use inferplan_perf::Engine;
use inferplan_plan::contract::{CandidateJson, PlanJson};
use inferplan_plan::cost::Sizing;
use inferplan_plan::workload::Mode;
use inferplan_plan::{PurchaseMix, Workload};
use inferplan_serving::{new_replica, startup, ColdStart, Delivery, WeightsSource};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// Namespace the manifests are written for when none is given.
pub const DEFAULT_NAMESPACE: &str = "inference";

/// Prometheus the KEDA scaler queries when none is given: the `prometheus-operated` service
/// that the Prometheus Operator creates, in a `monitoring` namespace.
pub const DEFAULT_PROMETHEUS_URL: &str = "http://prometheus-operated.monitoring.svc:9090";

/// EKS cluster name used in the node class's discovery tags and node role when none is
/// given (change it to the cluster's name, or pass one).
pub const DEFAULT_CLUSTER: &str = "inference";

/// GPU temperature above which the alert fires, °C, when the catalog has no slowdown
/// temperature for the GPU (it has none today). An assumption: NVIDIA data-center GPUs report
/// slowdown thresholds around 87-92 °C in `nvidia-smi -q`; 85 °C warns before clocks drop. The
/// clock-event alert catches actual thermal slowdown whatever the threshold.
pub const DEFAULT_THROTTLE_TEMP_C: f64 = 85.0;

/// Where the weights volume (node cache or FSx) is mounted in the pods.
pub const MODELS_MOUNT: &str = "/models";

/// The S3 prefix the `s3` and `nvme` deliveries read when none is given:
/// `s3://<cluster>-models/<hf id>` (a bucket to create, or replace with `--weights-uri`).
pub fn default_weights_uri(cluster: &str, checkpoint: &str) -> String {
    format!("s3://{cluster}-models/{checkpoint}")
}

/// `--max-model-len`, when the KV cache bounds it, is rounded down to this many tokens.
pub const MODEL_LEN_STEP: u64 = 256;

/// The latency promises the alert rules check, from the workload's `[slo]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SloTargets {
    /// TTFT limit, ms.
    pub ttft_ms: Option<f64>,
    /// TPOT limit (a request's mean time per output token), ms.
    pub tpot_ms: Option<f64>,
    /// End-to-end limit, ms (for async work without one: the deadline).
    pub e2e_ms: Option<f64>,
    /// The quantile the limits refer to (0.99 for p99).
    pub quantile: f64,
    /// Interactive, async or batch.
    pub mode: Mode,
}

/// Everything the manifests and rules are built from. Build it with [`RenderInput::new`]
/// (a workload and a candidate) or [`from_plan`] (a plan, [`read_plan`] reads its JSON); every field
/// is public so that a caller can adjust one (namespace, cluster, Prometheus address) before
/// calling [`render`](super::render).
#[derive(Debug, Clone, PartialEq)]
pub struct RenderInput {
    /// Object name (DNS-1123, from the workload name).
    pub name: String,
    /// Namespace of the namespaced objects.
    pub namespace: String,
    /// EKS cluster name for the node class's discovery tags and node role.
    pub cluster: String,
    /// Prometheus address the KEDA scaler queries.
    pub prometheus_url: String,
    /// The engine.
    pub engine: Engine,
    /// Container image of the engine (pinned).
    pub image: String,
    /// Which candidate of the plan (1-based), for the README.
    pub candidate: usize,
    /// Workload name as written in the workload file.
    pub workload: String,
    /// Catalog model name.
    pub model: String,
    /// Hugging Face checkpoint the init container downloads.
    pub checkpoint: String,
    /// Name the API serves the model under (also the `model_name` metric label).
    pub served_model_name: String,
    /// Format the checkpoint is stored in, when it is not 16-bit.
    pub native_weights: Option<Dtype>,
    /// Longest context the model supports.
    pub model_max_context: u64,
    /// Instance type.
    pub instance: String,
    /// Region the plan priced.
    pub region: String,
    /// GPU name.
    pub gpu: String,
    /// GPUs of one instance.
    pub gpus_per_instance: u32,
    /// Memory of one GPU, GiB.
    pub gpu_memory_gib: f64,
    /// Board power, W, when the catalog knows it.
    pub gpu_tdp_w: Option<f64>,
    /// GPU temperature alert threshold, °C.
    pub gpu_temp_alert_c: f64,
    /// vCPUs of the instance, when known.
    pub vcpus: Option<f64>,
    /// Memory of the instance, GiB, when known.
    pub ram_gib: Option<f64>,
    /// Local NVMe instance store, GB, when the instance has one.
    pub local_nvme_gb: Option<f64>,
    /// Tensor-parallel degree.
    pub tp: u32,
    /// Pipeline-parallel degree.
    pub pp: u32,
    /// GPUs of one replica.
    pub gpus_per_replica: u32,
    /// Nodes one replica spans (> 1: a LeaderWorkerSet).
    pub nodes_per_replica: u32,
    /// GPUs each pod asks for (`tp` for a replica inside one node, the whole node otherwise).
    pub gpus_per_pod: u32,
    /// Replicas at the peak (the autoscaler's maximum).
    pub replicas: u32,
    /// The autoscaler's minimum: the quietest hour's replicas, or the replicas after the
    /// steepest rise, in whole instances ([`inferplan_plan::autoscaling::targets`]); the plan
    /// bills it every hour.
    pub min_replicas: u32,
    /// The scale-up stabilization window, seconds ([`inferplan_plan::autoscaling::Targets`]:
    /// for deadline work the time a request may wait in the queue, else a minute of load).
    pub scale_up_window_s: u32,
    /// A batch job's run: the `cron` trigger holding its replicas from the window's opening
    /// ([`inferplan_plan::autoscaling::Run`]); `min_replicas` is then 0.
    pub run: Option<inferplan_plan::autoscaling::Run>,
    /// The plan's hourly floor above `min_replicas`: one `cron` trigger per block of hours
    /// billed for the same replicas ([`inferplan_plan::autoscaling::Floor::schedule`]).
    pub floors: Vec<inferplan_plan::autoscaling::Floor>,
    /// The scale-down stabilization window, seconds
    /// ([`inferplan_plan::autoscaling::scale_down_window_s`]: at least a replica's start).
    pub scale_down_window_s: u32,
    /// Replicas that share one instance.
    pub replicas_per_instance: u32,
    /// Instances at the peak.
    pub instances: u32,
    /// Weight format.
    pub precision: Dtype,
    /// KV-cache format.
    pub kv_dtype: Dtype,
    /// `--max-model-len`: the longest request of the workload (fixed lengths), else the
    /// model's context window, capped by what one sequence can hold in the KV cache.
    pub max_model_len: u64,
    /// Share of requests longer than `max_model_len` (refused with HTTP 400), when it is
    /// above zero.
    pub refused_share: Option<f64>,
    /// Why `max_model_len` is what it is, for the README.
    pub max_model_len_basis: String,
    /// The autoscaler's maximum: `replicas`, or one instance's worth of replicas more when
    /// the quietest hour already needs the peak's replicas (so that the maximum is above the
    /// minimum).
    pub max_replicas: u32,
    /// `--max-num-seqs` (the engine default the plan assumed).
    pub max_num_seqs: u64,
    /// `--max-num-batched-tokens` (the engine default the plan assumed).
    pub max_num_batched_tokens: u64,
    /// `--gpu-memory-utilization`.
    pub gpu_memory_utilization: f64,
    /// Highest request rate one replica sustains within the SLOs, requests/s.
    pub max_rps_per_replica: f64,
    /// End-to-end p99 at that rate, ms.
    pub e2e_p99_ms: f64,
    /// Requests in flight per replica the autoscaler aims at.
    pub target_in_flight: u32,
    /// Requests one replica holds at its SLO capacity (Little's law with the mean latency).
    pub in_flight_at_capacity: f64,
    /// The SLOs.
    pub slo: SloTargets,
    /// Hours (UTC) within 80 % of the busiest hour; all 24 without a daily profile.
    pub peak_hours_utc: Vec<u32>,
    /// How the instances are bought.
    pub purchase: PurchaseMix,
    /// Weights of the whole model, GiB.
    pub weights_gib: f64,
    /// Bytes the init container downloads: the checkpoint's weight files (16-bit ones when
    /// vLLM quantizes at load).
    pub download_bytes: u64,
    /// Where `download_bytes` comes from (a source, or `derived: ...`).
    pub download_source: String,
    /// Whether the checkpoint came from the catalog (`false`: checkpoint unknown, the model's
    /// own repository).
    pub checkpoint_catalogued: bool,
    /// Where a cold start reads weights from (`hub`, `s3`, `nvme`, `fsx`).
    pub weights_source: String,
    /// How the weights reach the engine ([`Delivery::of`] the source and the engine).
    pub delivery: Delivery,
    /// Where the checkpoint is for the `s3` and `nvme` deliveries: an S3 prefix holding the
    /// checkpoint's files (default `s3://<cluster>-models/<hf id>`, to be changed).
    pub weights_uri: String,
    /// Cold start of a replica on a new node: what the startup probe is built from.
    pub cold_start: ColdStart,
    /// EFA interfaces each pod of a multi-node replica requests (`vpc.amazonaws.com/efa`):
    /// every interface of the instance, when it has EFA and the catalog knows how many.
    pub efa_interfaces: Option<u32>,
    /// EC2 placement group the node class launches a multi-node replica's nodes into.
    pub placement_group: Option<String>,
    /// Warnings for the README (an action needed before applying).
    pub notes: Vec<String>,
    /// Where alerts and autoscaling read metrics from (`render --monitoring`).
    pub monitoring: super::cloudwatch::Monitoring,
    /// How the replica uses its Neuron chips, on Inferentia2 and Trainium.
    pub neuron: Option<super::neuron::Setup>,
    /// LMDeploy's backend and format flags, for an LMDeploy candidate.
    pub lmdeploy: Option<super::lmdeploy::Setup>,
}

impl RenderInput {
    /// Resolves candidate `number` (1-based, for messages) of a plan of `workload`.
    pub fn new(
        workload: &Workload,
        c: &CandidateJson,
        catalog: &Catalog,
        number: usize,
    ) -> Result<RenderInput, RenderError> {
        let field = |f: &str| format!("candidates[{}].{f}", number.saturating_sub(1));
        let Some(server) = super::engine::server(c.engine) else {
            return Err(RenderError::UnsupportedEngine {
                candidate: number,
                engine: c.engine.to_string(),
                alternatives: Vec::new(),
            });
        };
        let (precision, kv_dtype) = (c.precision, c.kv_dtype);
        for (v, f) in [
            (c.tp, "tp"),
            (c.pp, "pp"),
            (c.gpus_per_instance, "gpus_per_instance"),
            (c.replicas, "replicas"),
            (c.replicas_per_instance, "replicas_per_instance"),
        ] {
            if v == 0 {
                return Err(RenderError::invalid(field(f), "must be at least 1"));
            }
        }
        // Written into int32 fields: Deployment and LeaderWorkerSet `replicas`, KEDA
        // `minReplicaCount`/`maxReplicaCount` and its scale-up step.
        for (v, f) in [
            (c.replicas, "replicas"),
            (c.replicas_per_instance, "replicas_per_instance"),
        ] {
            if v > MAX_REPLICAS {
                return Err(RenderError::invalid(
                    field(f),
                    format!(
                        "{v} is above {MAX_REPLICAS}, the largest replica count Kubernetes \
                         accepts (replica fields are int32); nothing was written"
                    ),
                ));
            }
        }
        let gpus_per_replica = c.tp.checked_mul(c.pp).ok_or_else(|| {
            RenderError::invalid(
                field("pp"),
                format!("TP {} × PP {} is too many GPUs for one replica", c.tp, c.pp),
            )
        })?;
        let instances = c
            .replicas
            .div_ceil(c.replicas_per_instance)
            .checked_mul(c.pp)
            .ok_or_else(|| {
                RenderError::invalid(
                    field("pp"),
                    format!(
                        "{} replicas at PP {} are too many instances to count",
                        c.replicas, c.pp
                    ),
                )
            })?
            // The plan's instances at the peak, which its autoscaler headroom may raise.
            .max(c.instances);
        if !(c.max_rps_per_replica.is_finite() && c.max_rps_per_replica > 0.0) {
            return Err(RenderError::invalid(
                field("max_rps_per_replica"),
                "must be a positive number",
            ));
        }
        let model = catalog.model(&workload.model.name)?;
        let inst = catalog.instance(&c.instance)?;
        let gpu = catalog.instance_gpu(inst).ok_or_else(|| {
            RenderError::invalid(
                field("instance"),
                format!("{} has no GPU in the catalog", inst.name),
            )
        })?;
        // On a Neuron chip vLLM runs through its Neuron backend (NxD Inference): the renderer
        // names that server `Engine::Neuron`, whatever engine name the plan wrote.
        let neuron_chip = gpu.arch == Arch::Neuron;
        let engine = if neuron_chip {
            Engine::Neuron
        } else {
            c.engine
        };
        let unsupported = |why: String| RenderError::UnsupportedEngine {
            candidate: number,
            engine: why,
            alternatives: Vec::new(),
        };
        if c.engine == Engine::Neuron && !neuron_chip {
            return Err(unsupported(format!(
                "neuron on {} (not a Neuron chip)",
                gpu.name
            )));
        }
        // Engines render writes inside one instance, and why.
        let one_instance = match c.engine {
            Engine::Trtllm => Some((
                "TensorRT-LLM",
                "render writes `trtllm-serve` inside one instance (several nodes start under \
                 MPI, `trtllm-llmapi-launch`)",
            )),
            Engine::Tgi => Some((
                "TGI",
                "TGI shards a model over the GPUs of one machine only (`--num-shard`, no \
                 pipeline parallelism)",
            )),
            Engine::Lmdeploy => Some((
                "LMDeploy",
                "render writes `lmdeploy serve api_server` inside one instance (several nodes \
                 need its Ray or `--nnodes` launch, and TurboMind has no pipeline parallelism)",
            )),
            _ => None,
        };
        if let Some((name, why)) = one_instance {
            if c.pp > 1 || c.tp > c.gpus_per_instance {
                return Err(unsupported(format!(
                    "{name} over {} nodes of {} (TP {} × PP {}): {why}",
                    gpus_per_replica.div_ceil(c.gpus_per_instance),
                    inst.name,
                    c.tp,
                    c.pp
                )));
            }
        }
        if neuron_chip && (c.pp > 1 || c.tp > c.gpus_per_instance) {
            return Err(unsupported(format!(
                "vLLM's Neuron backend over {} nodes of {} (TP {} × PP {}): render writes \
                 Neuron replicas inside one instance",
                gpus_per_replica.div_ceil(c.gpus_per_instance),
                inst.name,
                c.tp,
                c.pp
            )));
        }
        let server = super::engine::server(engine).unwrap_or(server);
        let gpu_memory_gib = inst
            .gpu_mem_gib()
            .or_else(|| gpu.memory_gib())
            .ok_or_else(|| {
                RenderError::invalid(field("gpu"), format!("memory of {} not known", gpu.name))
            })?;
        let defaults = c.engine.defaults_on(gpu, gpu_memory_gib, c.tp, c.pp);
        let sizing = Sizing::of(workload);
        let (max_model_len, refused_share, max_model_len_basis) = if neuron_chip {
            neuron_len(workload, &sizing, model)
        } else {
            model_len(
                workload,
                &sizing,
                model,
                gpu,
                inst,
                c,
                &defaults,
                gpu_memory_gib,
            )
        };
        // The KV cache's tokens at `max_model_len`, as the plan's replica holds them.
        let kv = || {
            kv_tokens(
                model,
                gpu,
                inst,
                c,
                &defaults,
                gpu_memory_gib,
                max_model_len,
            )
        };
        // On Neuron the batch is compiled: the one the plan chose for the SLOs (every decode
        // step runs that many rows, `inferplan_perf::neuron::Shapes`), within the sequences of
        // `max_model_len` the chips hold after the weights; a plan written before the choice
        // gets what they hold, at most the engine's default.
        let max_num_seqs = if neuron_chip {
            let chosen = c.max_num_seqs.unwrap_or(defaults.limits.max_num_seqs);
            kv().map_or(1, |t| {
                inferplan_perf::neuron::max_num_seqs(t, max_model_len, chosen)
            })
        } else if engine == Engine::Sglang {
            // SGLang derives its running requests from the KV pool, as the plan's replica does
            // (`inferplan_perf::engine::sglang_max_running_requests`).
            kv().map_or(defaults.limits.max_num_seqs, |t| {
                inferplan_perf::engine::sglang_max_running_requests(t, model.max_context)
            })
            .min(defaults.limits.max_num_seqs)
        } else {
            defaults.limits.max_num_seqs
        };
        let nodes_per_replica = gpus_per_replica.div_ceil(c.gpus_per_instance);
        let gpus_per_pod = if nodes_per_replica > 1 {
            c.gpus_per_instance
        } else {
            c.tp
        };
        // The ScaledObject's targets, as the plan bills them and `plan --verify` simulates them.
        let targets = inferplan_plan::autoscaling::of(
            workload,
            &inferplan_plan::autoscaling::Replicas {
                peak: c.replicas,
                per_instance: c.replicas_per_instance,
                max_rps: c.max_rps_per_replica,
                ttft_p99_ms: c.ttft_p99_ms,
                tpot_p99_ms: c.tpot_p99_ms,
                e2e_p99_ms: c.e2e_p99_ms,
                run: c.purchase_mix.batch_job.as_ref().and_then(|j| {
                    inferplan_plan::autoscaling::Run::of(j, c.purchase_mix.cold_start_s)
                }),
                start_s: inferplan_plan::autoscaling::replica_start_s(c.purchase_mix.cold_start_s),
            },
        );
        let (min_replicas, max_replicas) = (targets.min, targets.max);
        let rates = workload.hourly_rates();
        let busiest = rates.iter().copied().fold(0.0, f64::max);
        let peak_hours_utc = (0..24u32)
            .filter(|&h| rates[h as usize] >= 0.8 * busiest)
            .collect();
        let target_in_flight = targets.in_flight;
        let in_flight_at_capacity = targets.in_flight_at_capacity;
        let slo = &workload.slo;
        let e2e_ms = slo.e2e_ms.or(match slo.mode {
            Mode::Async => slo.deadline_s.map(|d| d * 1000.0),
            _ => None,
        });
        // The checkpoint the plan chose; without one (checkpoint unknown) the model's own
        // repository in its own format, with a derived size.
        let (checkpoint, native_weights, download_bytes, download_source) = match &c.checkpoint {
            Some(ck) => (
                ck.hf_id.clone(),
                Some(ck.format).filter(|f| f.is_quantized()),
                ck.download_bytes,
                ck.size_source.clone(),
            ),
            None => {
                let (bytes, source) = inferplan_serving::checkpoint::derived_size(
                    model,
                    model.native_weights.unwrap_or(Dtype::Bf16),
                );
                (
                    model.hf_id.clone().unwrap_or_else(|| model.name.clone()),
                    model.native_weights,
                    bytes,
                    source,
                )
            }
        };
        // The cold start of a new node, from the bytes each node of a replica reads.
        let cold_start = new_replica(
            &workload.constraints.weights_source,
            Some(engine),
            gpu.arch,
            download_bytes as f64 / f64::from(nodes_per_replica.max(1)),
            inst,
        );
        let source =
            WeightsSource::parse(&workload.constraints.weights_source).unwrap_or(WeightsSource::S3);
        let delivery = Delivery::of(source, Some(engine));
        let weights_uri = default_weights_uri(DEFAULT_CLUSTER, &checkpoint);
        let mut notes = Vec::new();
        if c.checkpoint.is_none() {
            notes.push(format!(
                "Checkpoint unknown: the catalog lists no checkpoint of {} \
                 (data/models/checkpoints.csv), so `{checkpoint}` is rendered; check that it \
                 is the one to serve (a chat template for chat traffic, the planned format).",
                model.name
            ));
        }
        match super::vllm::quantization(precision, native_weights) {
            super::vllm::Quantization::NeedsCheckpoint => notes.push(format!(
                "The plan runs {precision} weights, but `{checkpoint}` is not stored in {precision} \
                 checkpoint: replace it (the init container's `MODEL_ID` and \
                 `--served-model-name`) with a pre-quantized one ({}) before applying; vLLM \
                 reads the format from its `quantization_config`.",
                match precision {
                    Dtype::Int4 => "AWQ or GPTQ, 4-bit, group size 128",
                    Dtype::Int8 => "compressed-tensors W8A8 or GPTQ 8-bit",
                    Dtype::Fp4 => "NVFP4, e.g. from NVIDIA ModelOpt",
                    _ => "MXFP4",
                }
            )),
            super::vllm::Quantization::OnlineFp8
                if !neuron_chip
                    && gpu.support(Dtype::Fp8) != inferplan_catalog::Support::Native =>
            {
                notes.push(format!(
                    "{} has no FP8 tensor cores: vLLM runs FP8 weights there as weight-only \
                     (Marlin kernels), as the plan assumed.",
                    gpu.name
                ))
            }
            _ => {}
        }
        if nodes_per_replica > 1 {
            notes.push(format!(
                "A replica spans {nodes_per_replica} nodes (pipeline parallel over the network): \
                 install the LeaderWorkerSet controller; the pods of a group are kept in one \
                 availability zone (required pod affinity on the group key, Kubernetes 1.33+)."
            ));
            if inst.efa {
                notes.push(format!(
                    "{} has EFA: install the EFA device plugin (Karpenter configures every \
                     interface of a node launched for a pod that requests \
                     `vpc.amazonaws.com/efa` as EFA){}",
                    inst.name,
                    match inst.efa_max_interfaces {
                        Some(n) => format!(
                            "; each pod requests its {n} interface(s), so that NCCL between the \
                             nodes runs over EFA instead of TCP (finding IP102)."
                        ),
                        None => ". The catalog has no interface count for it, so none is \
                                 requested: add `vpc.amazonaws.com/efa` to both templates."
                            .to_owned(),
                    }
                ));
            }
        }
        let lmdeploy = if engine == Engine::Lmdeploy {
            fit_report(
                model,
                gpu,
                inst,
                c,
                &defaults,
                gpu_memory_gib,
                max_model_len,
            )
            .ok_or_else(|| {
                RenderError::invalid(
                    field("instance"),
                    format!("{} does not fit on {}", model.name, inst.name),
                )
            })?;
            let mut setup = lmdeploy_setup(
                catalog,
                model,
                &checkpoint,
                precision,
                native_weights,
                kv_dtype,
            )
            .map_err(unsupported)?;
            // The share of the memory free after the weights that holds the KV cache: the
            // plan's replica sizes LMDeploy's cache by that rule (`KvBasis::OfFreeAfterWeights`).
            setup.cache_max_entry_count = defaults.kv_memory_fraction;
            Some(setup)
        } else {
            None
        };
        let neuron = if neuron_chip {
            let cores_per_chip = super::neuron::logical_cores_per_chip(gpu).unwrap_or(1);
            let cores = c.tp.saturating_mul(cores_per_chip);
            let setup = super::neuron::Setup {
                devices: c.tp,
                cores_per_chip,
                cores,
                artifacts: super::neuron::artifacts_dir(
                    &checkpoint,
                    cores,
                    max_num_seqs,
                    max_model_len,
                    precision,
                    kv_dtype,
                ),
                compile_allowance_s: super::neuron::compile_allowance_s(download_bytes),
            };
            notes.extend(neuron_notes(&setup, inst, gpu, precision, download_bytes));
            Some(setup)
        } else {
            None
        };
        Ok(RenderInput {
            name: dns_name(&workload.name),
            namespace: DEFAULT_NAMESPACE.to_owned(),
            cluster: DEFAULT_CLUSTER.to_owned(),
            prometheus_url: DEFAULT_PROMETHEUS_URL.to_owned(),
            engine,
            image: server.image.to_owned(),
            candidate: number,
            workload: workload.name.clone(),
            model: model.name.clone(),
            served_model_name: checkpoint.clone(),
            checkpoint,
            native_weights,
            checkpoint_catalogued: c.checkpoint.is_some(),
            download_bytes,
            download_source,
            model_max_context: model.max_context,
            instance: inst.name.clone(),
            region: c.region.clone(),
            gpu: gpu.name.clone(),
            gpus_per_instance: c.gpus_per_instance,
            gpu_memory_gib,
            gpu_tdp_w: gpu.tdp_w.filter(|w| *w > 0.0),
            gpu_temp_alert_c: DEFAULT_THROTTLE_TEMP_C,
            vcpus: inst.vcpus,
            ram_gib: inst.ram_gib,
            local_nvme_gb: inst.local_nvme_gb.filter(|g| *g > 0.0),
            tp: c.tp,
            pp: c.pp,
            gpus_per_replica,
            nodes_per_replica,
            gpus_per_pod,
            replicas: c.replicas,
            min_replicas,
            scale_up_window_s: targets.scale_up_window_s,
            run: targets.run,
            floors: targets.floors.clone(),
            scale_down_window_s: targets.scale_down_window_s,
            replicas_per_instance: c.replicas_per_instance,
            instances,
            precision,
            kv_dtype,
            max_model_len,
            refused_share,
            max_model_len_basis,
            max_replicas,
            max_num_seqs,
            max_num_batched_tokens: defaults.limits.max_num_batched_tokens,
            gpu_memory_utilization: defaults.kv_memory_fraction,
            max_rps_per_replica: c.max_rps_per_replica,
            e2e_p99_ms: c.e2e_p99_ms,
            target_in_flight,
            in_flight_at_capacity,
            slo: SloTargets {
                ttft_ms: slo.ttft_ms,
                tpot_ms: slo.tpot_ms,
                e2e_ms,
                quantile: slo.percentile.quantile(),
                mode: slo.mode,
            },
            peak_hours_utc,
            purchase: c.purchase_mix.clone(),
            weights_gib: c.weights_gib,
            weights_source: source.as_str().to_owned(),
            delivery,
            weights_uri,
            cold_start,
            efa_interfaces: if nodes_per_replica > 1 && inst.efa {
                inst.efa_max_interfaces
            } else {
                None
            },
            placement_group: (nodes_per_replica > 1).then(|| dns_name(&workload.name)),
            notes,
            monitoring: super::cloudwatch::Monitoring::Prometheus,
            neuron,
            lmdeploy,
        })
    }

    /// Instances at the autoscaler's maximum (`max_replicas`).
    pub fn max_instances(&self) -> u64 {
        u64::from(
            self.max_replicas
                .div_ceil(self.replicas_per_instance.max(1)),
        )
        .saturating_mul(u64::from(self.pp))
        .max(u64::from(self.instances))
    }

    /// Seconds the startup probe allows: [`startup::probe_budget_s`] of the cold start (on a
    /// Neuron chip its engine start includes compiling the graphs, which a new node has none
    /// of: [`inferplan_serving::cold_start::neuron_compile_s`]).
    pub fn startup_budget_s(&self) -> u32 {
        startup::probe_budget_s(&self.cold_start)
    }

    /// The accelerator resource each pod requests and the taint of its node pool:
    /// `nvidia.com/gpu`, or the Neuron device plugin's `aws.amazon.com/neuron`.
    pub fn accelerator_resource(&self) -> &'static str {
        if self.neuron.is_some() {
            super::neuron::RESOURCE
        } else {
            super::pod::GPU_RESOURCE
        }
    }

    /// The taint of the node pool, which the pods tolerate.
    pub fn accelerator_taint(&self) -> &'static str {
        if self.neuron.is_some() {
            super::neuron::TAINT
        } else {
            super::pod::GPU_TAINT
        }
    }

    /// What must exist before applying for the weights to arrive, for the README.
    pub fn delivery_notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if matches!(
            self.delivery,
            Delivery::S3Stream | Delivery::S3ToNodeCache | Delivery::NvmePrepull
        ) {
            notes.push(format!(
                "The weights are read from `{uri}` (`weights_source = \"{source}\"`): copy the \
                 checkpoint's files there first (`hf download {ck} --local-dir ckpt && aws s3 \
                 sync ckpt {uri}`), or render with `--weights-uri` naming where they are; and \
                 give the `{name}-weights` service account read access to it (an EKS Pod \
                 Identity association with a role allowing `s3:GetObject` and `s3:ListBucket`).",
                uri = self.weights_uri,
                source = self.weights_source,
                ck = self.checkpoint,
                name = self.name,
            ));
        }
        if self.delivery == Delivery::FsxVolume {
            notes.push(format!(
                "The weights are read from FSx for Lustre (`weights_source = \"fsx\"`): create a \
                 PersistentVolume named `{name}-weights` for the file system with the FSx for \
                 Lustre CSI driver (static provisioning: its file system id and mount name), \
                 holding the checkpoint under `{ck}/` (for example through a data repository \
                 association with the S3 prefix it is stored in); the PersistentVolumeClaim \
                 `{name}-weights` binds to it.",
                name = self.name,
                ck = self.checkpoint,
            ));
        }
        notes
    }

    /// The engine's server (image, port, metrics).
    pub fn server(&self) -> &'static super::engine::Server {
        super::engine::server(self.engine).unwrap_or(&super::engine::VLLM)
    }

    /// Where the engine reads the model: the S3 prefix it streams, or the checkpoint's
    /// directory in the node cache or on the FSx volume.
    pub fn model_path(&self) -> String {
        match self.delivery {
            Delivery::S3Stream => self.weights_uri.clone(),
            _ => format!("{}/{}", MODELS_MOUNT, self.checkpoint),
        }
    }

    /// Capacity types the node pool may launch: `on-demand` for the savings-plan baseline
    /// and the on-demand peak (a savings plan is a discount on on-demand usage), `spot` when
    /// the purchase mix has spot instances.
    pub fn capacity_types(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self
            .purchase
            .savings_plan_instances
            .saturating_add(self.purchase.on_demand_instances)
            > 0
            || self.purchase.spot_instances == 0
        {
            v.push("on-demand");
        }
        if self.purchase.spot_instances > 0 {
            v.push("spot");
        }
        v
    }
}

/// The autoscaler's bounds ([`inferplan_plan::autoscaling::bounds`]) within the replica
/// counts Kubernetes accepts.
pub fn scaler_bounds(min: u32, max: u32, per_instance: u32) -> (u32, u32) {
    inferplan_plan::autoscaling::bounds(min, max, per_instance, MAX_REPLICAS)
}

/// `--max-model-len` and the share of requests above it.
///
/// Fixed prompt and output lengths: their sum, every request fits. A length given as a
/// distribution (mean and p99, a histogram) has no maximum, so the limit is the model's
/// context window, lowered when one sequence of it does not fit in the KV cache vLLM
/// allocates on the plan's GPUs (vLLM refuses to start then, lint IL109) to the tokens that
/// cache holds, rounded down to [`MODEL_LEN_STEP`]. The plan sized the batch at p99 lengths;
/// the few requests longer than that take KV blocks only for the tokens they use (paged
/// attention), so admitting them does not change the memory fit. Never below the p99 prompt
/// plus p99 output (the plan's own fit).
#[allow(clippy::too_many_arguments)]
fn model_len(
    workload: &Workload,
    sizing: &Sizing,
    model: &inferplan_catalog::ModelSpec,
    gpu: &inferplan_catalog::Gpu,
    inst: &inferplan_catalog::Instance,
    c: &CandidateJson,
    defaults: &inferplan_perf::engine::EngineDefaults,
    gpu_memory_gib: f64,
) -> (u64, Option<f64>, String) {
    use inferplan_plan::workload::Length;
    let ctx = model.max_context.max(1);
    let (input, output) = (
        &workload.lengths.input_tokens,
        &workload.lengths.output_tokens,
    );
    if let (Length::Fixed(i), Length::Fixed(o)) = (input, output) {
        let sum = i.saturating_add(*o);
        return if sum <= ctx {
            (
                sum.max(1),
                None,
                "the workload's fixed prompt + output: its longest request".to_owned(),
            )
        } else {
            (
                ctx,
                Some(1.0),
                format!("the model's context window ({ctx}), below the fixed prompt + output"),
            )
        };
    }
    let p99 = (sizing.input_p99 + sizing.output_p99).min(ctx);
    let kv_tokens = kv_tokens(model, gpu, inst, c, defaults, gpu_memory_gib, ctx);
    let (limit, basis) = match kv_tokens {
        Some(t) if t < ctx => (
            (t / MODEL_LEN_STEP * MODEL_LEN_STEP).max(p99),
            format!(
                "the tokens one sequence can hold in the KV cache vLLM allocates here, rounded \
                 down to {MODEL_LEN_STEP}: the model's {ctx}-token context window does not fit"
            ),
        ),
        _ => (
            ctx,
            "the model's context window: the workload's lengths have no maximum, and one \
             sequence of it fits in the KV cache"
                .to_owned(),
        ),
    };
    // Below the context window the share refused is stated, even when it is none.
    let refused = (limit < ctx).then(|| share_above(input, output, limit));
    (limit, refused, basis)
}

/// Tokens of KV cache the engine allocates on the candidate's GPUs for sequences of `context`
/// tokens (the memory model's engine view), when the fit runs.
fn kv_tokens(
    model: &inferplan_catalog::ModelSpec,
    gpu: &inferplan_catalog::Gpu,
    inst: &inferplan_catalog::Instance,
    c: &CandidateJson,
    defaults: &inferplan_perf::engine::EngineDefaults,
    gpu_memory_gib: f64,
    context: u64,
) -> Option<u64> {
    fit_report(model, gpu, inst, c, defaults, gpu_memory_gib, context).map(|r| {
        r.engine_kv_blocks
            .saturating_mul(r.engine_limits.block_size)
    })
}

/// The memory fit of the candidate's replica at `context` tokens, with the engine's defaults.
fn fit_report(
    model: &inferplan_catalog::ModelSpec,
    gpu: &inferplan_catalog::Gpu,
    inst: &inferplan_catalog::Instance,
    c: &CandidateJson,
    defaults: &inferplan_perf::engine::EngineDefaults,
    gpu_memory_gib: f64,
    context: u64,
) -> Option<inferplan_perf::FitReport> {
    let used = c.tp.saturating_mul(c.pp);
    inferplan_perf::MemoryParams::embedded()
        .ok()
        .and_then(|params| {
            let input = inferplan_perf::FitInput {
                placement: inferplan_perf::Placement {
                    model,
                    gpu,
                    gpu_mem_gib: gpu_memory_gib,
                    gpus: inst.whole_gpus().max(used),
                    interconnect: if used > 1 {
                        inst.interconnect
                    } else {
                        inferplan_catalog::Interconnect::Single
                    },
                    tp: c.tp,
                    attention_dp: 1,
                    pp: c.pp,
                    weights: c.precision,
                    kv: c.kv_dtype,
                },
                context,
                concurrency: 1,
                gpu_memory_utilization: defaults.kv_memory_fraction,
                safety_margin: 1.0,
                engine: defaults.limits,
            };
            inferplan_perf::fit(&input, &params).ok()
        })
}

/// Share of requests whose prompt plus output is above `limit` tokens, each length
/// log-normal from its mean and p99 ([`quantile_tokens`](inferplan_plan::lengths::quantile_tokens)),
/// the two independent: the output's distribution in 2000 equal-probability slices, the
/// prompt's tail above what each slice leaves.
pub fn share_above(
    input: &inferplan_plan::workload::Length,
    output: &inferplan_plan::workload::Length,
    limit: u64,
) -> f64 {
    const SLICES: u32 = 2000;
    let limit = limit as f64;
    let total: f64 = (0..SLICES)
        .map(|k| {
            let q = (f64::from(k) + 0.5) / f64::from(SLICES);
            let o = quantile_at(output, q);
            tail_above(input, limit - o)
        })
        .sum();
    total / f64::from(SLICES)
}

/// Tokens of `l` at quantile `q` in (0, 1).
fn quantile_at(l: &inferplan_plan::workload::Length, q: f64) -> f64 {
    inferplan_plan::lengths::quantile_tokens(l, q)
}

/// Share of `l` above `x` tokens (bisection on the quantile function).
fn tail_above(l: &inferplan_plan::workload::Length, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    if let inferplan_plan::workload::Length::Fixed(n) = l {
        return if (*n as f64) > x { 1.0 } else { 0.0 };
    }
    let (mut lo, mut hi) = (1e-12, 1.0 - 1e-12);
    if quantile_at(l, hi) <= x {
        return 0.0;
    }
    if quantile_at(l, lo) > x {
        return 1.0;
    }
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if quantile_at(l, mid) > x {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    1.0 - 0.5 * (lo + hi)
}

/// The plan written by `inferplan plan --format json`, read part by part so that an error
/// names the field (`workload`, `candidates[2]`, ...).
pub fn read_plan(plan_json: &serde_json::Value) -> Result<PlanJson, RenderError> {
    // A diffusion plan (`inferplan plan` of an image or video workload) has a `job`.
    if plan_json.get("job").is_some()
        || plan_json
            .get("workload")
            .and_then(|w| w.get("job"))
            .is_some()
    {
        return Err(RenderError::plan(
            "job",
            "this is the plan of a diffusion workload (image or video jobs): render writes \
             LLM servers; rendering diffusion queue workers is not supported yet",
        ));
    }
    Ok(PlanJson {
        workload: part(plan_json, "workload")?,
        model: part(plan_json, "model")?,
        considered: part(plan_json, "considered")?,
        candidates: plan_json
            .get("candidates")
            .and_then(|c| c.as_array())
            .ok_or_else(|| RenderError::plan("candidates", "missing or not a list"))?
            .iter()
            .enumerate()
            .map(|(i, c)| {
                CandidateJson::deserialize(c)
                    .map_err(|e| RenderError::plan(format!("candidates[{i}]"), e.to_string()))
            })
            .collect::<Result<_, _>>()?,
        rejected: part(plan_json, "rejected")?,
        nearest_misses: part(plan_json, "nearest_misses")?,
        endpoint: part(plan_json, "endpoint")?,
        passed_over: match plan_json.get("passed_over") {
            Some(_) => part(plan_json, "passed_over")?,
            None => Vec::new(),
        },
        verified: match plan_json.get("verified") {
            Some(_) => part(plan_json, "verified")?,
            None => None,
        },
        multi_model: match plan_json.get("multi_model") {
            Some(_) => part(plan_json, "multi_model")?,
            None => None,
        },
        why_nothing: match plan_json.get("why_nothing") {
            Some(_) => part(plan_json, "why_nothing")?,
            None => None,
        },
    })
}

/// The value of `key` in the plan JSON.
fn part<T: DeserializeOwned>(plan_json: &serde_json::Value, key: &str) -> Result<T, RenderError> {
    let value = plan_json.get(key).ok_or_else(|| {
        RenderError::plan(
            key,
            "missing; expected the JSON of `inferplan plan --format json`",
        )
    })?;
    T::deserialize(value).map_err(|e| RenderError::plan(key, e.to_string()))
}

/// The input for candidate `candidate` (1-based, as `inferplan plan` numbers them) of a plan:
/// the workload from its `workload`, the deployment from `candidates[candidate - 1]`, the
/// model and hardware from the catalog.
pub fn from_plan(
    plan: &PlanJson,
    candidate: usize,
    catalog: &Catalog,
) -> Result<RenderInput, RenderError> {
    let Some(spec) = candidate_of(plan, candidate) else {
        return Err(RenderError::NoSuchCandidate {
            candidate,
            count: plan.candidates.len(),
        });
    };
    RenderInput::new(&plan.workload, spec, catalog, candidate).map_err(|e| match e {
        RenderError::UnsupportedEngine {
            candidate, engine, ..
        } => RenderError::UnsupportedEngine {
            candidate,
            engine,
            alternatives: renderable_candidates(plan, catalog),
        },
        other => other,
    })
}

/// The number of `plan.candidates[index]`: its rank among the plan's options (the table's
/// `#`), or its 1-based position in a plan written before ranks were.
pub fn number_of(plan: &PlanJson, index: usize) -> usize {
    match plan.candidates.get(index) {
        Some(c) if c.rank > 0 => c.rank,
        _ => index + 1,
    }
}

/// The candidate numbered `n` ([`number_of`]).
pub fn candidate_of(plan: &PlanJson, n: usize) -> Option<&CandidateJson> {
    (0..plan.candidates.len())
        .find(|&i| number_of(plan, i) == n)
        .map(|i| &plan.candidates[i])
}

/// The numbers ([`number_of`]) of a plan's candidates the renderer writes: vLLM or SGLang on
/// GPUs, vLLM's Neuron backend on one Inferentia2 or Trainium instance (the ones
/// [`from_plan`] renders).
pub fn renderable_candidates(plan: &PlanJson, catalog: &Catalog) -> Vec<usize> {
    plan.candidates
        .iter()
        .enumerate()
        .filter(|(_, c)| from_plan_engine(c, catalog).is_some_and(super::engine::renders))
        .map(|(i, _)| number_of(plan, i))
        .collect()
}

/// The engine the renderer writes for a candidate: [`Engine::Neuron`] (vLLM's Neuron backend)
/// on a Neuron chip inside one instance, the plan's engine on a GPU; `None` when neither holds.
fn from_plan_engine(c: &CandidateJson, catalog: &Catalog) -> Option<Engine> {
    let gpu = catalog
        .instance(&c.instance)
        .ok()
        .and_then(|i| catalog.instance_gpu(i))?;
    match (gpu.arch == Arch::Neuron, c.engine) {
        (true, _) if c.pp > 1 || c.tp > c.gpus_per_instance => None,
        (true, _) => Some(Engine::Neuron),
        (false, Engine::Neuron) => None,
        // `trtllm-serve` over several nodes starts under MPI (`trtllm-llmapi-launch`), which
        // the renderer does not write.
        (false, Engine::Trtllm) if c.pp > 1 || c.tp > c.gpus_per_instance => None,
        // TGI shards over the GPUs of one machine only.
        (false, Engine::Tgi) if c.pp > 1 || c.tp > c.gpus_per_instance => None,
        // `lmdeploy serve api_server` is rendered inside one instance.
        (false, Engine::Lmdeploy) if c.pp > 1 || c.tp > c.gpus_per_instance => None,
        (false, e) => Some(e),
    }
}

/// How LMDeploy serves `model` from `checkpoint` (stored as `native`, 16-bit when `None`) with
/// a `kv` cache: the backend, `--model-format` and `--quant-policy`
/// ([`inferplan_serving::lmdeploy`]); `Err` says why LMDeploy cannot.
fn lmdeploy_setup(
    catalog: &Catalog,
    model: &inferplan_catalog::ModelSpec,
    checkpoint: &str,
    precision: Dtype,
    native: Option<Dtype>,
    kv: Dtype,
) -> Result<super::lmdeploy::Setup, String> {
    use inferplan_serving::lmdeploy as lm;
    let backend = lm::backend(model).ok_or_else(|| {
        format!(
            "LMDeploy with {} (`{}`): LMDeploy {} serves this architecture with neither TurboMind \
             nor its PyTorch engine",
            model.name,
            model.family,
            lm::VERSION
        )
    })?;
    let why = |e: String| format!("LMDeploy with `{checkpoint}`: {e}");
    let model_format = match native {
        None if precision.is_quantized() => {
            return Err(why(format!(
                "the plan runs {precision} weights from a 16-bit checkpoint, and LMDeploy \
                 quantizes no weights while loading"
            )))
        }
        None => None,
        Some(stored) => {
            let method = catalog
                .checkpoints(&model.name)
                .into_iter()
                .find(|c| c.hf_id.eq_ignore_ascii_case(checkpoint))
                .map(|c| c.method.clone());
            match method {
                Some(m) => lm::model_format(backend, stored, &m).map_err(why)?,
                // Not catalogued: the engine reads the checkpoint's `quantization_config`.
                None => None,
            }
        }
    };
    let quant_policy = lm::quant_policy(backend, kv, model.head_dim).map_err(why)?;
    Ok(super::lmdeploy::Setup {
        backend,
        model_format,
        quant_policy,
        cache_max_entry_count: 0.8,
    })
}

/// `--max-model-len` on a Neuron chip: the sequence length the plan's graphs are compiled for
/// (the workload's fixed prompt + output, else p99 prompt + p99 output, within the model's
/// context), and the share of requests above it. NxD Inference compiles `seq_len =
/// max_model_len` with buckets in powers of two from 128 up to it
/// ([`inferplan_perf::neuron::buckets`]), so longer requests cannot run.
fn neuron_len(
    workload: &Workload,
    sizing: &Sizing,
    model: &inferplan_catalog::ModelSpec,
) -> (u64, Option<f64>, String) {
    use inferplan_plan::workload::Length;
    let ctx = model.max_context.max(1);
    let (input, output) = (
        &workload.lengths.input_tokens,
        &workload.lengths.output_tokens,
    );
    let (len, what) = match (input, output) {
        (Length::Fixed(i), Length::Fixed(o)) => {
            (i.saturating_add(*o), "the workload's fixed prompt + output")
        }
        _ => (
            sizing.input_p99 + sizing.output_p99,
            "the workload's p99 prompt + p99 output",
        ),
    };
    let len = len.clamp(1, ctx);
    let buckets = inferplan_perf::neuron::buckets(len);
    let basis = format!(
        "the sequence length the plan's Neuron graphs are compiled for ({what}, at most the \
         model's {ctx}-token context): NxD Inference compiles seq_len = max_model_len with \
         sequence buckets {}; a longer request cannot run",
        buckets
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let refused = (len < ctx).then(|| share_above(input, output, len));
    (len, refused, basis)
}

/// What a Neuron replica needs before applying, for the README.
fn neuron_notes(
    setup: &super::neuron::Setup,
    inst: &inferplan_catalog::Instance,
    gpu: &inferplan_catalog::Gpu,
    precision: Dtype,
    download_bytes: u64,
) -> Vec<String> {
    let mut notes =
        vec![format!(
        "{} ({}): install the Neuron device plugin (it registers `{}`) and the Neuron scheduler \
         extension, e.g. `helm upgrade --install neuron-helm-chart \
         oci://public.ecr.aws/neuron/neuron-helm-chart` (AWS Neuron docs, \
         \"Neuron Device Plugin\"). Karpenter's `al2023` alias picks the EKS-optimized \
         accelerated AL2023 AMI with the Neuron driver for these instances.",
        inst.name, gpu.name, super::neuron::RESOURCE
    )];
    notes.push(format!(
        "Compile ahead (finding IP115): the graphs for this configuration are looked up in \
         `{}` (`{}`, on the node's `{}`); a node without them compiles before serving, which \
         AWS puts at \"around 15min\" for a 15 GB model and does not publish otherwise. The \
         startup probe allows {:.0} s for it (an assumption: {} s per GB of weights, at least \
         {} s). Compile once (the same `vllm serve` on one node, or NxD Inference's compile \
         script) and copy the directory to every node's cache, or to S3 and pre-pull it.",
        setup.artifacts,
        super::neuron::COMPILED_ARTIFACTS_ENV,
        super::neuron::COMPILED_HOST_DIR,
        setup.compile_allowance_s,
        super::neuron::COMPILE_S_PER_GB,
        super::neuron::MIN_COMPILE_S,
    ));
    if precision == Dtype::Fp8 {
        let ram = inst.ram_gib.unwrap_or(0.0) * (1u64 << 30) as f64;
        notes.push(format!(
            "FP8 weights on Neuron are NxD Inference's own quantization of the 16-bit \
             checkpoint, done on the host's CPU before compiling (`quantized`, `f8e4m3`, \
             saved to `{}/quantized`){}.",
            setup.artifacts,
            if ram > 0.0 && (download_bytes as f64) > ram * 0.8 {
                format!(
                    ": it holds the {:.1} GiB of 16-bit weights in host memory, more than the \
                     pod gets on {} ({:.0} GiB), so quantize and compile on a larger instance \
                     and ship the artifacts",
                    download_bytes as f64 / (1u64 << 30) as f64,
                    inst.name,
                    inst.ram_gib.unwrap_or(0.0)
                )
            } else {
                String::new()
            }
        ));
    }
    notes
}

/// A DNS-1123 label from a free-form name: lower case, `[a-z0-9-]`, at most 40 characters
/// (pods add suffixes), `inferplan` when nothing is left.
pub fn dns_name(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        let c = ch.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut out: String = out.chars().take(40).collect();
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        "inferplan".to_owned()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names() {
        assert_eq!(dns_name("chat-70b-fp8"), "chat-70b-fp8");
        assert_eq!(dns_name("My Chat_Bot!"), "my-chat-bot");
        assert_eq!(dns_name("--"), "inferplan");
        assert!(dns_name(&"x".repeat(80)).len() <= 40);
    }

    #[test]
    fn share_above_a_limit_and_scaler_bounds() {
        use inferplan_plan::workload::Length;
        let d = Length::Dist {
            mean: 800.0,
            p99: 6000.0,
        };
        let none = Length::Fixed(0);
        // One length: the share above its p99 is 1 %.
        let s = share_above(&d, &none, 6000);
        assert!((s - 0.01).abs() < 1e-3, "{s}");
        assert_eq!(
            share_above(&Length::Fixed(100), &Length::Fixed(50), 150),
            0.0
        );
        assert_eq!(
            share_above(&Length::Fixed(100), &Length::Fixed(50), 149),
            1.0
        );
        assert!(share_above(&d, &d, 1_000_000) < 1e-9);
        assert_eq!(scaler_bounds(1, 3, 2), (1, 3));
        assert_eq!(scaler_bounds(3, 3, 2), (3, 5));
        assert_eq!(
            scaler_bounds(MAX_REPLICAS, MAX_REPLICAS, 1),
            (MAX_REPLICAS - 1, MAX_REPLICAS)
        );
    }
}
