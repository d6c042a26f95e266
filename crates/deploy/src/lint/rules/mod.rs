//! The lint rules, one per file, and what several of them share: the serving containers of
//! the workloads, their parallelism, the formats they run and the size of their weights.
//!
//! Articles A, B and C cited in the rules' doc comments are the practitioner articles listed
//! in `docs/lint.md`.

mod autoscale_on_gpu_utilization;
mod autoscaler_will_flap;
mod claimed_cache_below_download;
mod count_out_of_range;
mod ephemeral_storage_below_weights;
mod fp8_without_native_support;
mod gpu_count_parallelism_mismatch;
mod gpu_document_not_linted;
mod gpu_request_limit_mismatch;
mod kv_cache_cannot_fit;
mod missing_dev_shm;
mod missing_pod_disruption_budget;
mod missing_readiness_probe;
mod multi_node_without_placement;
mod mutable_image_tag;
mod online_quantization_cannot_load;
mod probe_before_model_load;
pub(crate) mod sagemaker;
mod sagemaker_async_cannot_scale_to_zero;
mod sagemaker_endpoint_without_scaling;
mod sagemaker_model_does_not_fit;
mod sagemaker_startup_timeout_below_cold_start;
mod sagemaker_volume_below_checkpoint;
mod single_gpu_pods_on_large_nodes;
mod spot_for_stateful_inference;
mod tensor_parallel_not_dividing_heads;
mod weights_from_object_storage_at_start;

pub use autoscale_on_gpu_utilization::AutoscaleOnGpuUtilization;
pub use autoscaler_will_flap::AutoscalerWillFlap;
pub use claimed_cache_below_download::ClaimedCacheBelowDownload;
pub use count_out_of_range::CountOutOfRange;
pub use ephemeral_storage_below_weights::EphemeralStorageBelowWeights;
pub use fp8_without_native_support::Fp8WithoutNativeSupport;
pub use gpu_count_parallelism_mismatch::GpuCountParallelismMismatch;
pub use gpu_document_not_linted::GpuDocumentNotLinted;
pub use gpu_request_limit_mismatch::GpuRequestLimitMismatch;
pub use kv_cache_cannot_fit::KvCacheCannotFit;
pub use missing_dev_shm::MissingDevShm;
pub use missing_pod_disruption_budget::MissingPodDisruptionBudget;
pub use missing_readiness_probe::MissingReadinessProbe;
pub use multi_node_without_placement::MultiNodeWithoutPlacement;
pub use mutable_image_tag::MutableImageTag;
pub use online_quantization_cannot_load::OnlineQuantizationCannotLoad;
pub use probe_before_model_load::ProbeBeforeModelLoad;
pub use sagemaker_async_cannot_scale_to_zero::SageMakerAsyncCannotScaleToZero;
pub use sagemaker_endpoint_without_scaling::SageMakerEndpointWithoutScaling;
pub use sagemaker_model_does_not_fit::SageMakerModelDoesNotFit;
pub use sagemaker_startup_timeout_below_cold_start::SageMakerStartupTimeoutBelowColdStart;
pub use sagemaker_volume_below_checkpoint::SageMakerVolumeBelowCheckpoint;
pub use single_gpu_pods_on_large_nodes::SingleGpuPodsOnLargeNodes;
pub use spot_for_stateful_inference::SpotForStatefulInference;
pub use tensor_parallel_not_dividing_heads::TensorParallelNotDividingHeads;
pub use weights_from_object_storage_at_start::WeightsFromObjectStorageAtStart;

use super::context::{Container, Context, PodTemplate, Volume, Workload};
use super::engine::{EngineArgs, EngineKind};
use inferplan_catalog::{Dtype, ModelSpec};
use inferplan_serving::checkpoint::{self, Served};
use inferplan_serving::flags;

/// A workload's serving container and its engine.
pub(crate) struct Server<'w, 'a> {
    /// The workload.
    pub workload: &'w Workload<'a>,
    /// The pod template the engine runs in.
    pub pod: &'w PodTemplate<'a>,
    /// The container.
    pub container: &'w Container<'a>,
    /// Its engine.
    pub engine: &'w EngineArgs,
}

impl<'w, 'a> Server<'w, 'a> {
    /// Where the weights of model argument `model` are on disk: the directory the engine
    /// downloads into ([`download_dir`]) for a Hub id or an object-storage URI, else the local
    /// path itself.
    pub(crate) fn weights_dir(&self, model: &str) -> String {
        if model_source(model) == ModelSource::Local {
            model.to_owned()
        } else {
            download_dir(self)
        }
    }

    /// The volume mounted at `path` in the server's container, and whether an init container
    /// of the pod writes into it (a pre-fetch).
    pub(crate) fn volume_at(&self, path: &str) -> (Option<&'w Volume>, bool) {
        let mount = self.container.mount_for(path);
        let volume = mount.and_then(|m| self.pod.volume(&m.name));
        let prefetched = mount.is_some_and(|m| {
            self.pod
                .init_containers
                .iter()
                .any(|ic| ic.mounts.iter().any(|im| im.name == m.name))
        });
        (volume, prefetched)
    }
}

/// Every container that runs a recognised engine, in workload order.
pub(crate) fn servers<'w, 'a>(ctx: &'w Context<'a>) -> Vec<Server<'w, 'a>> {
    let mut out = Vec::new();
    for w in &ctx.workloads {
        for pod in &w.pods {
            for c in &pod.containers {
                if let Some(engine) = &c.engine {
                    out.push(Server {
                        workload: w,
                        pod,
                        container: c,
                        engine,
                    });
                }
            }
        }
    }
    out
}

/// The flags of each parallel degree, with what the degree is called in messages.
pub(crate) const DEGREE_FLAGS: [(&str, &[&str]); 3] = [
    ("tensor-parallel", flags::TENSOR_PARALLEL.read),
    ("pipeline-parallel", flags::PIPELINE_PARALLEL.read),
    ("data-parallel", flags::DATA_PARALLEL.read),
];

/// Parallel degrees of a server and the line of the TP flag (0 when it is not set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Parallelism {
    /// Tensor parallel (TGI: `--num-shard`, all the pod's GPUs by default).
    pub tp: u32,
    /// Pipeline parallel.
    pub pp: u32,
    /// Data parallel inside the server.
    pub dp: u32,
    /// Line of the TP flag.
    pub tp_line: usize,
}

impl Parallelism {
    /// GPUs the engine uses: TP × PP × DP.
    pub fn gpus(&self) -> u32 {
        self.tp.saturating_mul(self.pp).saturating_mul(self.dp)
    }

    /// `TP 4 × PP 2`, with `× DP n` when DP > 1.
    pub fn describe(&self) -> String {
        let mut s = format!("TP {} × PP {}", self.tp, self.pp);
        if self.dp > 1 {
            s.push_str(&format!(" × DP {}", self.dp));
        }
        s
    }
}

/// The parallel degrees of `s`; `None` when one is written but cannot be read (an undefined
/// variable) or is not a degree (`0`, negative: IL116 reports it), so that rules do not
/// assume the default.
pub(crate) fn parallelism(s: &Server<'_, '_>) -> Option<Parallelism> {
    if DEGREE_FLAGS
        .iter()
        .any(|(_, f)| s.engine.unreadable(f) || s.engine.bad_degree(f).is_some())
    {
        return None;
    }
    let tp = s.engine.tp();
    let pp = s.engine.pp();
    let dp = s.engine.dp();
    // TGI shards over every GPU of the pod by default; Triton's TensorRT-LLM engines are built
    // for the GPUs they are given.
    let default_tp = if matches!(s.engine.kind, EngineKind::Tgi | EngineKind::Triton) {
        s.pod.gpus().max(1)
    } else {
        1
    };
    Some(Parallelism {
        tp: tp.map_or(default_tp, |t| t.0.max(1)),
        pp: pp.map_or(1, |p| p.0.max(1)),
        dp: dp.map_or(1, |d| d.0.max(1)),
        tp_line: tp.map_or(0, |t| t.1),
    })
}

/// The weight format a server runs ([`checkpoint::format_of`]): `--quantization`, the
/// checkpoint's name (`-FP8`, `-AWQ`), the model's own format (DeepSeek-V3 ships FP8),
/// `--dtype`, else BF16.
pub(crate) fn weights_dtype(
    engine: &EngineArgs,
    model: Option<&ModelSpec>,
    from_name: Option<Dtype>,
) -> Dtype {
    let name = engine.model();
    checkpoint::format_of(&Served {
        quantization: engine.quantization().and_then(|f| f.value.as_deref()),
        named: from_name,
        model: name.as_ref().map(|w| w.text.as_str()),
        native: model.and_then(|m| m.native_weights),
        dtype: engine.dtype(),
    })
}

/// The KV-cache format ([`checkpoint::kv_format_of`]): `--kv-cache-dtype fp8*` is FP8;
/// otherwise the activations' 16-bit format (`auto`).
pub(crate) fn kv_dtype(engine: &EngineArgs, weights: Dtype) -> Dtype {
    checkpoint::kv_format_of(
        engine.kv_cache_dtype().and_then(|f| f.value.as_deref()),
        weights,
    )
}

/// Bytes of the whole model's weights in `dtype`.
pub(crate) fn weights_bytes(m: &ModelSpec, dtype: Dtype) -> f64 {
    inferplan_perf::memory::weight_bytes(m, dtype, 1, 1).0
}

/// Where a model argument points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ModelSource {
    /// A Hugging Face Hub id (`org/name`).
    Hub,
    /// Object storage (`s3://`, `gs://`, `az://`, `hf://`).
    ObjectStorage,
    /// A path inside the container.
    Local,
}

/// Classifies a model argument.
pub(crate) fn model_source(model: &str) -> ModelSource {
    let m = model.trim();
    if ["s3://", "gs://", "az://", "abfs://", "hf://", "https://"]
        .iter()
        .any(|p| m.starts_with(p))
    {
        return ModelSource::ObjectStorage;
    }
    let parts: Vec<&str> = m.split('/').collect();
    if parts.len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        })
        && !m.starts_with('.')
        && !m.starts_with('~')
    {
        ModelSource::Hub
    } else {
        ModelSource::Local
    }
}

/// The directory a server downloads hub weights into: `--download-dir`, then the engine's
/// environment (`HF_HUB_CACHE`, `HUGGINGFACE_HUB_CACHE`, `$HF_HOME/hub`, `TRANSFORMERS_CACHE`),
/// then the image's default: TGI's image sets `HF_HOME=/data`; the vLLM, SGLang and TensorRT-LLM
/// images keep the Hugging Face default `~/.cache/huggingface/hub` of root.
pub(crate) fn download_dir(s: &Server<'_, '_>) -> String {
    if let Some(d) = s.engine.download_dir() {
        return d.to_owned();
    }
    for var in ["HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"] {
        if let Some(v) = s.container.env(var) {
            return v.to_owned();
        }
    }
    if let Some(home) = s.container.env("HF_HOME") {
        return format!("{}/hub", home.trim_end_matches('/'));
    }
    if let Some(v) = s.container.env("TRANSFORMERS_CACHE") {
        return v.to_owned();
    }
    if s.engine.kind == EngineKind::Tgi {
        "/data".to_owned()
    } else {
        "/root/.cache/huggingface/hub".to_owned()
    }
}

/// `1 GPU`, `4 GPUs`.
pub(crate) fn gpus(n: u32) -> String {
    format!("{n} GPU{}", if n == 1 { "" } else { "s" })
}

/// GiB with one decimal.
pub(crate) fn gib(bytes: f64) -> String {
    super::num(bytes / super::GIB, 1)
}

/// What a server's weights cache must hold: the checkpoint it downloads.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Download {
    /// Bytes of the checkpoint's weight files.
    pub bytes: f64,
    /// The Hugging Face id downloaded, when the manifest names one (the engine's model, or an
    /// init container's).
    pub hf_id: Option<String>,
    /// The format it is stored in (16-bit when the engine quantizes at load).
    pub format: Dtype,
    /// The engine quantizes a 16-bit checkpoint to FP8 while loading (`--quantization fp8`).
    pub online_fp8: bool,
    /// Where the size comes from: the catalog's source, or derived.
    pub basis: String,
}

impl Download {
    /// `meta-llama/Llama-2-13b-chat-hf (bf16, 26.0 GB)`, or `the bf16 checkpoint (26.0 GB)`.
    pub fn describe(&self) -> String {
        let gb = super::num(self.bytes / 1e9, 1);
        match &self.hf_id {
            Some(id) => format!("{id} ({}, {gb} GB)", self.format),
            None => format!("the {} checkpoint ({gb} GB)", self.format),
        }
    }
}

/// The Hugging Face id a server's weights come from: its model argument when that is a Hub id,
/// else a Hub id in the env or arguments of an init container (a pre-fetch), preferring one the
/// catalog lists for `m`.
fn hub_id(s: &Server<'_, '_>, m: &ModelSpec, ctx: &Context<'_>) -> Option<String> {
    if let Some(w) = s.engine.model() {
        let t = w.text.trim().trim_start_matches("hf://").to_owned();
        if model_source(&t) == ModelSource::Hub {
            return Some(t);
        }
    }
    let rows = ctx.catalog.checkpoints(&m.name);
    let mut candidates: Vec<String> = Vec::new();
    for ic in &s.pod.init_containers {
        candidates.extend(ic.env.iter().map(|(_, v)| v.clone()));
        for key in ["args", "command"] {
            candidates.extend(ic.node.at(key).items().iter().filter_map(|n| n.text()));
        }
    }
    let hub: Vec<String> = candidates
        .into_iter()
        .map(|c| c.trim().trim_start_matches("hf://").to_owned())
        .filter(|c| model_source(c) == ModelSource::Hub)
        .collect();
    hub.iter()
        .find(|c| rows.iter().any(|r| r.hf_id.eq_ignore_ascii_case(c)))
        .or_else(|| {
            hub.iter().find(|c| {
                let last = c.rsplit('/').next().unwrap_or("");
                let (base, _) = inferplan_catalog::names::split_quantized(last);
                ctx.catalog.model(c).is_ok_and(|x| x.name == m.name)
                    || ctx.catalog.model(&base).is_ok_and(|x| x.name == m.name)
            })
        })
        .cloned()
}

/// The checkpoint a server downloads and its size ([`checkpoint::download_size`] for a catalog
/// checkpoint, [`checkpoint::derived_size`] otherwise): FP8 served with `--quantization fp8`
/// from a checkpoint not stored in FP8 is a 16-bit download.
pub(crate) fn download(
    ctx: &Context<'_>,
    s: &Server<'_, '_>,
    m: &ModelSpec,
    from_name: Option<Dtype>,
) -> Download {
    let served = weights_dtype(s.engine, Some(m), from_name);
    let hf_id = hub_id(s, m, ctx);
    let id_format = hf_id
        .as_deref()
        .and_then(|id| inferplan_catalog::names::split_quantized(id).1);
    let asks_fp8 = s
        .engine
        .quantization()
        .and_then(|f| f.value.as_deref())
        .and_then(checkpoint::quantization_format)
        == Some(Dtype::Fp8);
    let row = hf_id.as_deref().and_then(|id| {
        ctx.catalog
            .checkpoints(&m.name)
            .into_iter()
            .find(|r| r.hf_id.eq_ignore_ascii_case(id))
    });
    let stored = row
        .map(|r| r.format)
        .or(id_format)
        .or(m.native_weights)
        .unwrap_or(if asks_fp8 { Dtype::Bf16 } else { served });
    let sixteen = matches!(stored, Dtype::Bf16 | Dtype::Fp16 | Dtype::Fp32);
    let online_fp8 = asks_fp8 && sixteen && from_name != Some(Dtype::Fp8);
    let format = if online_fp8 || row.is_some() || id_format.is_some() {
        stored
    } else {
        served
    };
    let (bytes, basis) = match row {
        Some(r) => checkpoint::download_size(r, m),
        None => checkpoint::derived_size(m, format),
    };
    Download {
        bytes: bytes as f64,
        hf_id,
        format,
        online_fp8,
        basis,
    }
}
