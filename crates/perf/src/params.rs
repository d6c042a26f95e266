//! Fitted engine parameters, stored as data with their provenance (`data/perf/`).

use crate::error::PerfError;
use inferplan_catalog::table::Table;
use inferplan_catalog::Interconnect;

const ENGINE_MEMORY_CSV: &str = include_str!("../../../data/perf/engine_memory.csv");

/// Memory the serving engine (vLLM) needs beyond weights and KV cache, fitted to measured
/// startups. See `data/perf/engine_memory.csv` for the source of each value.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryParams {
    /// Copies of the FP32 logits buffer (`max_num_seqs` x vocab) in the profiled peak.
    pub logits_copies: f64,
    /// Copies of the BF16 MLP buffer (`max_num_batched_tokens` x 2 x intermediate / TP).
    pub mlp_copies: f64,
    /// Memory outside torch with one GPU (CUDA context, allocator), GiB.
    pub non_torch_gib_tp1: f64,
    /// Same with TP over NVLink/NVSwitch (NCCL and custom all-reduce buffers), GiB.
    pub non_torch_gib_nvlink: f64,
    /// Same with TP over PCIe (custom all-reduce disabled), GiB.
    pub non_torch_gib_pcie: f64,
    /// CUDA-graph pool, outside the `gpu_memory_utilization` budget, GiB.
    pub cuda_graph_gib: f64,
}

impl MemoryParams {
    /// The embedded parameters for vLLM.
    pub fn embedded() -> Result<MemoryParams, PerfError> {
        Self::parse(ENGINE_MEMORY_CSV, "data/perf/engine_memory.csv", "vllm")
    }

    /// Parses a parameter file (`engine,param,value,unit,source`) for `engine`.
    pub fn parse(text: &str, origin: &str, engine: &str) -> Result<MemoryParams, PerfError> {
        let err = |message: String| PerfError::Params {
            origin: origin.to_owned(),
            message,
        };
        let table = Table::parse(text, origin).map_err(|e| err(e.to_string()))?;
        let get = |name: &str| -> Result<f64, PerfError> {
            let row = table
                .rows()
                .find(|r| r.get("engine") == Some(engine) && r.get("param") == Some(name))
                .ok_or_else(|| err(format!("no `{name}` for engine `{engine}`")))?;
            row.req_f64("value").map_err(|e| err(e.to_string()))
        };
        Ok(MemoryParams {
            logits_copies: get("logits_copies")?,
            mlp_copies: get("mlp_copies")?,
            non_torch_gib_tp1: get("non_torch_gib_tp1")?,
            non_torch_gib_nvlink: get("non_torch_gib_nvlink")?,
            non_torch_gib_pcie: get("non_torch_gib_pcie")?,
            cuda_graph_gib: get("cuda_graph_gib")?,
        })
    }

    /// Non-torch memory per GPU for a TP degree over a link.
    pub fn non_torch_gib(&self, tp: u32, link: Interconnect) -> f64 {
        match (tp, link) {
            (0 | 1, _) => self.non_torch_gib_tp1,
            (_, Interconnect::Pcie | Interconnect::Single) => self.non_torch_gib_pcie,
            _ => self.non_torch_gib_nvlink,
        }
    }
}
