//! vLLM's Neuron backend on AWS Inferentia2 and Trainium (inf2, trn1, trn2) as the renderer
//! runs it: the Neuron Deep Learning Container, the `vllm serve` arguments that fix the graphs
//! NxD Inference compiles, the compiled-artifacts cache, the Neuron device plugin's resource
//! and the compile-time allowance of the startup probe.
//!
//! Sources (checked when this file was written; see `docs/render.md`, "Neuron"):
//! - image: aws-neuron/deep-learning-containers `README.md` at commit 2be9ed1d (2026-08-17),
//!   table `vllm-inference-neuronx`: `pytorch-inference-vllm-neuronx:0.16.0-neuronx-py312-
//!   sdk2.31.1-ubuntu24.04` is the newest image listed for `trn1,trn2,trn3,inf2` (the vLLM
//!   0.21 and 0.24 images list `trn2,trn3` only); its Dockerfile
//!   (`vllm/inference/0.16.0/Dockerfile.neuronx`) installs vLLM with the `vllm-neuron`
//!   plugin (branch `release-0.5.3`) and NxD Inference, entrypoint `vllm_entrypoint.py`, which
//!   runs its arguments.
//! - arguments: aws-neuron/aws-neuron-sdk at commit 81ce03ae (2026-08-21),
//!   `libraries/nxd-inference/developer_guides/vllm-user-guide-v1.rst`: vLLM configures NxD
//!   Inference with `tp_degree = tensor_parallel_size` (NeuronCores: "adjust the
//!   `tensor_parallel_size` according to the number of Neuron Cores available"),
//!   `batch_size = max_num_seqs`, `seq_len = max_model_len`, bucketing on; "Chunked prefill is
//!   not supported"; without prefix caching the KV cache is contiguous and
//!   `num_gpu_blocks_override` must be exactly `max_num_seqs`; quantization is NxD Inference's
//!   (`override_neuron_config`), not vLLM's `--quantization`.
//! - compiled artifacts: the same guide, "Loading pre-compiled models": `NEURON_COMPILED_ARTIFACTS`
//!   names where compiled graphs are loaded from, and where they are saved when loading fails;
//!   "a small-ish model of 15GB might take around 15min to compile".
//! - vllm-project/vllm-neuron at commit a5ef7c88 (`vllm_neuron/platform.py`,
//!   `worker/neuronx_distributed_model_loader.py`): the Neuron scheduler turns chunked prefill
//!   off and sets `block_size = max_model_len` without prefix caching; a `quantized` model is
//!   quantized (`save_quantized_state_dict`, on the host) before it is compiled.
//! - quantization: `developer_guides/feature-guide.rst` (81ce03ae), "Model Weight Quantization"
//!   (`quantized`, `quantization_dtype` `f8e4m3`, `quantization_type`,
//!   `quantized_checkpoints_path`) and "KV Cache Quantization" (`kv_cache_quant`); both need
//!   `XLA_HANDLE_SPECIAL_SCALAR=1`.
//! - cores: `about-neuron/arch/neuron-features/logical-neuroncore-config.rst` (81ce03ae): "On
//!   Trn2, each chip has 8 physical NeuronCores. With LNC=2 (default), these are grouped into 4
//!   Logical NeuronCores"; Inferentia2 and Trainium chips have 2 (`data/catalog/gpus.csv`).
//! - Kubernetes: `deploy/includes/k8s-neuron-device-plugin.rst` (81ce03ae): the Neuron device
//!   plugin registers `aws.amazon.com/neuroncore` (single cores) and `aws.amazon.com/neuron`
//!   (whole devices, all their cores), installed with the `neuron-helm-chart`.
//! - metrics: vLLM's own (the plugin replaces the model runner, not vLLM's frontend, scheduler
//!   or Prometheus logger), so [`super::vllm`]'s names hold.

use super::input::RenderInput;
use inferplan_catalog::Dtype;
use inferplan_serving::flags::{vllm as flag, Flag};

/// The Neuron DLC with vLLM 0.16 and the `vllm-neuron` plugin, Neuron SDK 2.31.1, the newest
/// that supports inf2 and trn1 as well as trn2 (see the module's sources). Pinned by tag: no
/// public file we read gives its digest (`docker buildx imagetools inspect` it before applying).
pub const IMAGE: &str =
    "public.ecr.aws/neuron/pytorch-inference-vllm-neuronx:0.16.0-neuronx-py312-sdk2.31.1-ubuntu24.04";

/// The Neuron device plugin's resource for whole Neuron devices (chips) and all their cores.
pub const RESOURCE: &str = "aws.amazon.com/neuron";

/// The taint of the Neuron node pool (the key the Neuron resources use, as the GPU pool's
/// taint is `nvidia.com/gpu`).
pub const TAINT: &str = "aws.amazon.com/neuron";

/// Where the compiled graphs are kept on the node: a `hostPath` shared by the pods of a node
/// and kept across them, so a restarted pod or a second replica loads instead of compiling.
pub const COMPILED_HOST_DIR: &str = "/var/lib/inferplan-neuron-compiled";

/// Where that directory is mounted in the engine container.
pub const COMPILED_MOUNT: &str = "/neuron-compiled";

/// `NEURON_COMPILED_ARTIFACTS`: load compiled graphs from this path; compile and save them
/// there when loading fails.
pub const COMPILED_ARTIFACTS_ENV: &str = "NEURON_COMPILED_ARTIFACTS";

/// `XLA_HANDLE_SPECIAL_SCALAR=1`: needed by FP8 (`f8e4m3`) weights and the FP8 KV cache.
pub const SPECIAL_SCALAR_ENV: &str = "XLA_HANDLE_SPECIAL_SCALAR";

/// Turns prefix caching off: NxD Inference then keeps a contiguous KV cache of `max_num_seqs`
/// sequences of `max_model_len` tokens, the memory the plan counted.
pub const NO_PREFIX_CACHING: &str = "--no-enable-prefix-caching";

/// The KV blocks vLLM's scheduler counts: exactly `max_num_seqs` with a contiguous cache.
pub const NUM_BLOCKS_OVERRIDE: &str = "--num-gpu-blocks-override";

/// NxD Inference settings that vLLM passes through (`override_neuron_config`).
pub const ADDITIONAL_CONFIG: &str = "--additional-config";

/// The compile allowance's figures live with the cold start they are part of
/// ([`inferplan_serving::cold_start::neuron_compile_s`]).
pub use inferplan_serving::cold_start::{
    NEURON_COMPILE_S_PER_GB as COMPILE_S_PER_GB, NEURON_MIN_COMPILE_S as MIN_COMPILE_S,
};

/// How a replica uses its Neuron chips.
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    /// Neuron devices (chips) each pod requests.
    pub devices: u32,
    /// Logical NeuronCores of one chip (2 on Inferentia2 and Trainium, 4 on Trainium2 at its
    /// default LNC=2).
    pub cores_per_chip: u32,
    /// `--tensor-parallel-size`: the NeuronCores of the replica.
    pub cores: u32,
    /// Where the compiled graphs of this configuration are (`NEURON_COMPILED_ARTIFACTS`).
    pub artifacts: String,
    /// Seconds the startup probe adds for compiling the graphs on a node without them.
    pub compile_allowance_s: f64,
}

/// Logical NeuronCores per chip of `gpu` ([`inferplan_perf::neuron::logical_cores_per_chip`]).
pub use inferplan_perf::neuron::logical_cores_per_chip;

/// The compile allowance for `download_bytes` of weights: [`COMPILE_S_PER_GB`] per GB, at least
/// [`MIN_COMPILE_S`] ([`inferplan_serving::cold_start::neuron_compile_s`], which the cold start
/// of every Neuron replica counts in its engine start).
pub fn compile_allowance_s(download_bytes: u64) -> f64 {
    inferplan_serving::cold_start::neuron_compile_s(download_bytes as f64)
}

/// The directory of one compiled configuration: graphs depend on the checkpoint, the cores,
/// the batch size, the sequence length and the formats, so each gets its own.
pub fn artifacts_dir(
    checkpoint: &str,
    cores: u32,
    seqs: u64,
    len: u64,
    weights: Dtype,
    kv: Dtype,
) -> String {
    format!("{COMPILED_MOUNT}/{checkpoint}/tp{cores}-bs{seqs}-len{len}-{weights}-kv{kv}")
}

/// `override_neuron_config` for the formats: FP8 weights quantized by NxD Inference from the
/// 16-bit checkpoint (saved beside the compiled graphs), an FP8 KV cache. `None` for 16-bit
/// weights and KV.
pub fn override_config(input: &RenderInput, setup: &Setup) -> Option<String> {
    let mut parts = Vec::new();
    if input.precision == Dtype::Fp8 {
        parts.push(format!(
            "\"quantized\": true, \"quantization_dtype\": \"f8e4m3\", \"quantization_type\": \
             \"per_channel_symmetric\", \"quantized_checkpoints_path\": \"{}/quantized\"",
            setup.artifacts
        ));
    }
    if input.kv_dtype == Dtype::Fp8 {
        parts.push("\"kv_cache_quant\": true".to_owned());
    }
    (!parts.is_empty()).then(|| format!("{{\"override_neuron_config\": {{{}}}}}", parts.join(", ")))
}

/// Whether the pods need [`SPECIAL_SCALAR_ENV`].
pub fn needs_special_scalar(input: &RenderInput) -> bool {
    input.precision == Dtype::Fp8 || input.kv_dtype == Dtype::Fp8
}

/// The arguments after `vllm serve` on a Neuron chip; `model_path` is the checkpoint's local
/// directory.
pub fn serve_args(input: &RenderInput, setup: &Setup, model_path: &str) -> Vec<String> {
    let mut a = vec![model_path.to_owned()];
    let mut arg = |f: Flag, value: &str| {
        a.push(f.write.to_owned());
        a.push(value.to_owned());
    };
    arg(flag::SERVED_MODEL_NAME, &input.served_model_name);
    arg(flag::HOST, "0.0.0.0");
    arg(flag::PORT, &super::vllm::PORT.to_string());
    arg(flag::TENSOR_PARALLEL, &setup.cores.to_string());
    arg(flag::MAX_MODEL_LEN, &input.max_model_len.to_string());
    arg(flag::MAX_NUM_SEQS, &input.max_num_seqs.to_string());
    arg(flag::DTYPE, dtype(input.precision));
    a.push(NO_PREFIX_CACHING.to_owned());
    a.push(NUM_BLOCKS_OVERRIDE.to_owned());
    a.push(input.max_num_seqs.to_string());
    if let Some(cfg) = override_config(input, setup) {
        a.push(ADDITIONAL_CONFIG.to_owned());
        a.push(cfg);
    }
    a
}

/// `--dtype`: the 16-bit type the graphs compute in (`bfloat16` also for FP8 weights, which
/// NxD Inference dequantizes to it).
fn dtype(precision: Dtype) -> &'static str {
    match precision {
        Dtype::Fp16 => "float16",
        _ => "bfloat16",
    }
}

/// The README's rows for the arguments: (argument, value, why).
pub fn argument_rows(input: &RenderInput, setup: &Setup) -> Vec<(String, String, String)> {
    let mut rows = vec![
        (
            "(positional)".to_owned(),
            input.model_path(),
            "the checkpoint's directory in the node cache (see Weights)".to_owned(),
        ),
        (
            flag::SERVED_MODEL_NAME.write.to_owned(),
            input.served_model_name.clone(),
            "clients and metrics keep the Hugging Face id".to_owned(),
        ),
        (
            flag::TENSOR_PARALLEL.write.to_owned(),
            setup.cores.to_string(),
            format!(
                "NeuronCores, not chips: the plan's TP{} over {} chip(s) × {} logical cores",
                input.tp, setup.devices, setup.cores_per_chip
            ),
        ),
        (
            flag::MAX_MODEL_LEN.write.to_owned(),
            input.max_model_len.to_string(),
            input.max_model_len_basis.clone(),
        ),
        (
            flag::MAX_NUM_SEQS.write.to_owned(),
            input.max_num_seqs.to_string(),
            "the batch size the graphs are compiled for, chosen by the plan for the SLOs: \
             NxD Inference pads every decode step to it, so a larger batch serves more at once \
             and decodes slower; within the sequences of max-model-len the chips hold"
                .to_owned(),
        ),
        (
            flag::DTYPE.write.to_owned(),
            dtype(input.precision).to_owned(),
            "the 16-bit type the graphs compute in".to_owned(),
        ),
        (
            NO_PREFIX_CACHING.to_owned(),
            "-".to_owned(),
            "contiguous KV cache of max-num-seqs × max-model-len tokens, what the plan counted"
                .to_owned(),
        ),
        (
            NUM_BLOCKS_OVERRIDE.to_owned(),
            input.max_num_seqs.to_string(),
            "one block per sequence with a contiguous cache: vLLM's scheduler counts what was \
             compiled"
                .to_owned(),
        ),
    ];
    if let Some(cfg) = override_config(input, setup) {
        rows.push((
            ADDITIONAL_CONFIG.to_owned(),
            cfg,
            "NxD Inference's own FP8: weights quantized from the 16-bit checkpoint on the host \
             before compiling (vLLM's `--quantization` is not used on Neuron), and/or the FP8 KV \
             cache"
                .to_owned(),
        ));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compile_allowance_is_a_minute_per_gb_and_at_least_ten() {
        assert_eq!(compile_allowance_s(15_000_000_000), 900.0);
        assert_eq!(compile_allowance_s(1_000_000_000), MIN_COMPILE_S);
        assert_eq!(
            artifacts_dir("m/x", 2, 8, 768, Dtype::Bf16, Dtype::Bf16),
            "/neuron-compiled/m/x/tp2-bs8-len768-bf16-kvbf16"
        );
    }
}
