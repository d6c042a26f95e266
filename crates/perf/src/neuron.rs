//! The AWS Neuron serving stack (NxD Inference, directly or under vLLM's Neuron backend) on
//! Inferentia2 and Trainium chips: what it serves, and the shape of what it compiles.
//!
//! Sources (aws-neuron/aws-neuron-sdk at commit 81ce03ae, 2026-08-21):
//! - `libraries/nxd-inference/developer_guides/vllm-user-guide-v1.rst`: vLLM configures NxD
//!   Inference with `batch_size = max_num_seqs`, `seq_len = max_model_len`, `ctx_batch_size = 1`
//!   and `enable_bucketing`, which "creates context encoding and token generation buckets with
//!   powers of two from 128 and `max-model-len`".
//!   The same guide's configuration sets `ctx_batch_size = 1` (one prompt per context-encoding
//!   call) and `tkg_batch_size = batch_size` (the token-generation graph is compiled for the
//!   batch of `max_num_seqs` sequences).
//! - aws-neuron/neuronx-distributed-inference at commit 0d0a638f,
//!   `src/neuronx_distributed_inference/models/model_wrapper.py`, `ModelWrapper.forward`: a
//!   call with fewer sequences than the compiled `batch_size` is padded up to it
//!   (`_forward_with_pad`: "pad the inputs up to the compiled batch size"); the only buckets
//!   are sequence lengths (`get_target_bucket` over `neuron_config.buckets`), none of batch
//!   size. So a token-generation step costs the compiled batch whatever runs.
//! - `libraries/nxd-inference/developer_guides/model-reference.rst`: the supported model
//!   architectures (`data/perf/neuron_models.csv`).
//! - `libraries/nxd-inference/developer_guides/migrate-from-tnx-to-nxdi.rst`: compiled
//!   artifacts are reused through `NEURON_COMPILED_ARTIFACTS`, else the model is compiled when
//!   it is loaded.

use crate::engine::Engine;
use inferplan_catalog::table::Table;
use inferplan_catalog::{Arch, Gpu, ModelSpec};
use std::sync::OnceLock;

const MODELS_CSV: &str = include_str!("../../../data/perf/neuron_models.csv");

/// Smallest sequence bucket: buckets are powers of two from 128.
pub const MIN_BUCKET: u64 = 128;

/// The bucket a sequence of `tokens` runs in: the smallest power of two from 128 that holds it,
/// at most `max_model_len` (the last bucket).
pub fn bucket(tokens: u64, max_model_len: u64) -> u64 {
    let b = tokens.max(MIN_BUCKET).next_power_of_two();
    b.min(max_model_len.max(tokens))
}

/// The sequence buckets compiled for `max_model_len`: powers of two from 128 below it, and
/// `max_model_len` itself.
pub fn buckets(max_model_len: u64) -> Vec<u64> {
    let mut out = Vec::new();
    let mut b = MIN_BUCKET;
    while b < max_model_len {
        out.push(b);
        b *= 2;
    }
    out.push(max_model_len.max(1));
    out
}

/// The most sequences NxD Inference can compile the batch for (vLLM's `max_num_seqs`): the
/// sequences of `max_model_len` tokens the KV cache holds after the weights (the cache is
/// allocated for `max_num_seqs × max_model_len` when the graphs are compiled), at least one, at
/// most `engine_max` (the engine's default, or the batch the planner chose,
/// [`batch_choices`]). The one home of the figure: the replica the planner and the simulator
/// run ([`crate::Replica`]) and the `--max-num-seqs` render writes read it here.
pub fn max_num_seqs(kv_tokens: u64, max_model_len: u64, engine_max: u64) -> u64 {
    (kv_tokens / max_model_len.max(1)).clamp(1, engine_max.max(1))
}

/// The compiled batches worth comparing when the cache holds `most` sequences: 1, 2, then
/// powers of two and their midpoints (3 × 2^k) below it, and `most` itself. Every decode step
/// costs the compiled batch ([`Shapes::decode`]), so a smaller batch decodes faster and serves
/// fewer at once; the planner keeps the one with the most capacity within the SLOs (the
/// capacity falls steeply once the padded step nears the TPOT limit, so the grid is finer than
/// powers of two).
pub fn batch_choices(most: u64) -> Vec<u64> {
    let most = most.max(1);
    let mut out: Vec<u64> = std::iter::successors(Some(2u64), |b| Some(b * 2))
        .flat_map(|b| [b, b + b / 2])
        .take_while(|&b| b < most)
        .collect();
    out.insert(0, 1);
    out.retain(|&b| b < most);
    out.push(most);
    out
}

/// What one Neuron engine step computes, the padded shapes of its compiled graphs: a prompt
/// encoded alone (`ctx_batch_size = 1`) runs as its context-encoding bucket; a
/// token-generation step runs the compiled batch, `max_num_seqs` rows however many sequences
/// are running (NxD Inference pads a smaller batch up to it, `tkg_batch_size = batch_size`), at
/// the bucket of the longest one. The estimate and the simulator both price decode steps by
/// [`Shapes::decode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shapes {
    /// Compiled batch: most sequences running, and the rows of every decode step.
    pub max_num_seqs: u64,
    /// Compiled sequence length (the last bucket).
    pub max_model_len: u64,
}

impl Shapes {
    /// Tokens a context-encoding step of a `prompt`-token prompt computes: its bucket.
    pub fn prompt(&self, prompt: u64) -> u64 {
        bucket(prompt.max(1), self.max_model_len)
    }

    /// Rows and context per row of a token-generation step whose longest sequence holds
    /// `longest` tokens: the compiled batch (a partly full step is padded to it), each row at
    /// the longest one's bucket.
    pub fn decode(&self, longest: u64) -> (u64, u64) {
        (
            self.max_num_seqs.max(1),
            bucket(longest.max(1), self.max_model_len),
        )
    }
}

/// Graphs compiled for one deployment: a context-encoding and a token-generation graph per
/// sequence bucket.
pub fn graphs(max_model_len: u64) -> usize {
    2 * buckets(max_model_len).len()
}

/// Logical NeuronCores per chip of `gpu`, the unit of vLLM's `--tensor-parallel-size` on
/// Neuron: the physical cores of `data/catalog/gpus.csv`, halved on NeuronCore-v3
/// (Trainium2), whose default Logical NeuronCore configuration is 2 (aws-neuron-sdk at commit
/// 81ce03ae, `about-neuron/arch/neuron-features/logical-neuroncore-config.rst`: "On Trn2, each
/// chip has 8 physical NeuronCores. With LNC=2 (default), these are grouped into 4 Logical
/// NeuronCores"). `None` for GPUs.
pub fn logical_cores_per_chip(gpu: &Gpu) -> Option<u32> {
    let physical = gpu.cores_per_chip()?;
    Some(if gpu.architecture.starts_with("NeuronCore-v3") {
        (physical / 2).max(1)
    } else {
        physical
    })
}

/// A model architecture NxD Inference supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supported {
    /// `model_type` family (`llama`, `qwen3_moe`, ...).
    pub family: String,
    /// NxD Inference's model class.
    pub class: String,
    /// Where it is listed.
    pub source: String,
}

/// The architectures of `data/perf/neuron_models.csv` (empty if the embedded file does not
/// parse; a test checks it does).
pub fn supported() -> &'static [Supported] {
    static LIST: OnceLock<Vec<Supported>> = OnceLock::new();
    LIST.get_or_init(|| {
        let Ok(t) = Table::parse(MODELS_CSV, "data/perf/neuron_models.csv") else {
            return Vec::new();
        };
        t.rows()
            .filter_map(|r| {
                Some(Supported {
                    family: r.get("family")?.to_owned(),
                    class: r.get("neuron_class").unwrap_or_default().to_owned(),
                    source: r.get("source").unwrap_or_default().to_owned(),
                })
            })
            .collect()
    })
}

/// Whether NxD Inference (and so vLLM on a Neuron chip) serves `model`'s architecture.
pub fn supports(model: &ModelSpec) -> bool {
    supported().iter().any(|s| s.family == model.family)
}

/// Why `engine` cannot serve `model` on `gpu` when it is a Neuron chip: an engine other than
/// vLLM's Neuron backend or the Neuron runtime, or an architecture NxD Inference does not list.
/// `None` on GPUs and for what the Neuron stack serves.
pub fn refusal(engine: Engine, model: &ModelSpec, gpu: &Gpu) -> Option<String> {
    if gpu.arch != Arch::Neuron {
        return None;
    }
    if !engine.runs_on(gpu.arch) {
        return Some(format!(
            "{engine} does not run on {} (AWS Neuron: vLLM's Neuron backend or the Neuron runtime do)",
            gpu.name
        ));
    }
    (!supports(model)).then(|| {
        format!(
            "NxD Inference (vLLM's Neuron backend) does not list {} models (data/perf/neuron_models.csv): {} cannot serve {}",
            model.family, gpu.name, model.name
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_powers_of_two_from_128_to_the_length() {
        assert_eq!(buckets(1000), vec![128, 256, 512, 1000]);
        assert_eq!(buckets(4096), vec![128, 256, 512, 1024, 2048, 4096]);
        assert_eq!(graphs(4096), 12);
        assert_eq!(bucket(1, 4096), 128);
        assert_eq!(bucket(3968, 8192), 4096);
        assert_eq!(bucket(4097, 6000), 6000);
        assert_eq!(bucket(9000, 8192), 9000);
    }

    #[test]
    fn the_compiled_batch_is_what_the_cache_holds_at_full_length() {
        assert_eq!(max_num_seqs(100_000, 768, 256), 130);
        assert_eq!(max_num_seqs(100_000, 768, 64), 64);
        assert_eq!(max_num_seqs(500, 768, 256), 1);
        let s = Shapes {
            max_num_seqs: 8,
            max_model_len: 4743,
        };
        assert_eq!(s.prompt(800), 1024);
        // Every decode step runs the compiled batch, padded.
        assert_eq!(s.decode(1), (8, 128));
        assert_eq!(s.decode(4200), (8, 4743));
    }

    #[test]
    fn the_batches_compared_are_powers_of_two_up_to_what_the_cache_holds() {
        assert_eq!(
            batch_choices(130),
            vec![1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 130]
        );
        assert_eq!(
            batch_choices(64),
            vec![1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64]
        );
        assert_eq!(batch_choices(2), vec![1, 2]);
        assert_eq!(batch_choices(0), vec![1]);
    }

    #[test]
    fn the_model_list_parses() {
        let families: Vec<&str> = supported().iter().map(|s| s.family.as_str()).collect();
        assert!(families.contains(&"llama") && families.contains(&"qwen3_moe"));
        assert!(supported()
            .iter()
            .all(|s| s.source.contains("model-reference.rst")));
    }
}
