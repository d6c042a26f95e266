//! The AWS Neuron serving stack (NxD Inference, directly or under vLLM's Neuron backend) on
//! Inferentia2 and Trainium chips: what it serves, and the shape of what it compiles.
//!
//! Sources (aws-neuron/aws-neuron-sdk at commit 81ce03ae, 2026-08-21):
//! - `libraries/nxd-inference/developer_guides/vllm-user-guide-v1.rst`: vLLM configures NxD
//!   Inference with `batch_size = max_num_seqs`, `seq_len = max_model_len`, `ctx_batch_size = 1`
//!   and `enable_bucketing`, which "creates context encoding and token generation buckets with
//!   powers of two from 128 and `max-model-len`".
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
    fn the_model_list_parses() {
        let families: Vec<&str> = supported().iter().map(|s| s.family.as_str()).collect();
        assert!(families.contains(&"llama") && families.contains(&"qwen3_moe"));
        assert!(supported()
            .iter()
            .all(|s| s.source.contains("model-reference.rst")));
    }
}
