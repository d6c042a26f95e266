//! The SageMaker Large Model Inference (LMI) container running vLLM: its image and the
//! environment that configures it, derived from the same `vllm serve` arguments the EKS
//! Deployment runs ([`super::super::vllm::serve_args`]), so both platforms serve one
//! configuration.
//!
//! Sources (read 2026-12-07):
//! - image: `inferplan_serving::sagemaker::LMI_VLLM` (LMI V18, with its source), the same
//!   container the planner's SageMaker candidates name.
//! - environment: the vLLM user guide of LMI (`serving/docs/lmi/user_guides/vllm_user_guide.md`
//!   in deepjavalibrary/djl-serving): `HF_MODEL_ID`, `OPTION_ROLLING_BATCH=vllm`,
//!   `OPTION_MAX_ROLLING_BATCH_SIZE` (vLLM's `max_num_seqs`),
//!   `OPTION_MAX_ROLLING_BATCH_PREFILL_TOKENS` (alias of `max_num_batched_tokens`),
//!   `OPTION_QUANTIZE` (runtime `fp8`), and every other vLLM engine argument passed through
//!   as `OPTION_<ARGUMENT>`; `OPTION_TENSOR_PARALLEL_DEGREE` from LMI's configuration guide
//!   (`serving/docs/lmi/deployment_guide/configurations.md`).

use super::super::input::RenderInput;
use super::super::vllm::serve_args;
use inferplan_serving::flags::vllm as flag;

/// LMI release, for the README.
pub const LMI_RELEASE: &str = inferplan_serving::sagemaker::LMI_VLLM.release;

/// The image URI in `region` (the one LMI (vLLM) release, `inferplan_serving::sagemaker`).
pub fn image(region: &str) -> String {
    inferplan_serving::sagemaker::LMI_VLLM.image(region)
}

/// The vLLM flags the container environment carries, and the LMI variable each becomes. The
/// flags left out (`--host`, `--port`, `--served-model-name` and the weights path) are the
/// container's own business: LMI serves on SageMaker's port and reads `HF_MODEL_ID`.
/// `--dtype` is left out too: LMI spells `option.dtype` its own way (`bf16`, `fp16`), and its
/// default (`auto`) loads the checkpoint's own 16-bit type, which is what the plan runs.
const ENV_OF_FLAG: &[(&str, &str)] = &[
    (flag::TENSOR_PARALLEL.write, "OPTION_TENSOR_PARALLEL_DEGREE"),
    (
        flag::PIPELINE_PARALLEL.write,
        "OPTION_PIPELINE_PARALLEL_DEGREE",
    ),
    (flag::MAX_MODEL_LEN.write, "OPTION_MAX_MODEL_LEN"),
    (flag::MAX_NUM_SEQS.write, "OPTION_MAX_ROLLING_BATCH_SIZE"),
    (
        flag::MAX_NUM_BATCHED_TOKENS.write,
        "OPTION_MAX_ROLLING_BATCH_PREFILL_TOKENS",
    ),
    (
        flag::GPU_MEMORY_UTILIZATION.write,
        "OPTION_GPU_MEMORY_UTILIZATION",
    ),
    (flag::QUANTIZATION.write, "OPTION_QUANTIZE"),
    (flag::KV_CACHE_DTYPE.write, "OPTION_KV_CACHE_DTYPE"),
];

/// The container environment, in a fixed order: the checkpoint, the vLLM backend, then the
/// engine arguments in the order `vllm serve` gets them.
pub fn environment(input: &RenderInput) -> Vec<(String, String)> {
    let mut env = vec![
        ("HF_MODEL_ID".to_owned(), input.checkpoint.clone()),
        ("OPTION_ROLLING_BATCH".to_owned(), "vllm".to_owned()),
    ];
    let args = serve_args(input, &input.checkpoint);
    let mut i = 1; // args[0] is the weights path
    while i + 1 < args.len() {
        let (name, value) = (&args[i], &args[i + 1]);
        if let Some((_, var)) = ENV_OF_FLAG.iter().find(|(f, _)| f == name) {
            let skip_default = *var == "OPTION_PIPELINE_PARALLEL_DEGREE" && value == "1";
            if !skip_default {
                env.push(((*var).to_owned(), value.clone()));
            }
        }
        i += 2;
    }
    env
}
