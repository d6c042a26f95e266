//! Engine flags: one table per engine ([`vllm`], [`sglang`], [`tgi`], [`trtllm`],
//! [`lmdeploy`]) saying how
//! the engine writes each [`Setting`], and one list of names per setting that a manifest may
//! use for it. The renderer writes `vllm serve` arguments through [`vllm`] and
//! `sglang.launch_server` arguments through [`sglang`]; the linter reads
//! any engine's arguments back through [`Setting::read`] after [`normalise`]. A flag that is
//! renamed here is renamed for both.

/// A setting of a serving engine, whatever the engine calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// What it sets.
    pub meaning: &'static str,
    /// Every name a manifest may give it, as [`normalise`] leaves a flag: each engine's
    /// spelling and its aliases.
    pub read: &'static [&'static str],
}

/// A flag as one engine writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag {
    /// What it sets, and the names it is read back under.
    pub setting: Setting,
    /// How the engine spells it on a command line: `--tensor-parallel-size`.
    pub write: &'static str,
}

impl Flag {
    /// The names it is read back under ([`Setting::read`] of its setting).
    pub fn read(&self) -> &'static [&'static str] {
        self.setting.read
    }
}

/// A flag's name as the linter compares it: no leading dashes, lower case, `_` read as `-`
/// (`--tp_size` → `tp-size`).
pub fn normalise(flag: &str) -> String {
    flag.trim_start_matches('-')
        .to_ascii_lowercase()
        .replace('_', "-")
}

/// The model: a hub id or a local path.
pub const MODEL: Setting = Setting {
    meaning: "the model to serve",
    read: &["model", "model-path", "model-id", "model-name-or-path"],
};
/// The model's name in the API and in metrics.
pub const SERVED_MODEL_NAME: Setting = Setting {
    meaning: "the model's name in the API",
    read: &["served-model-name", "model-name"],
};
/// The address the server listens on.
pub const HOST: Setting = Setting {
    meaning: "the address the server listens on",
    read: &["host", "hostname", "server-name"],
};
/// The port the server listens on.
pub const PORT: Setting = Setting {
    meaning: "the port the server listens on",
    read: &["port", "server-port"],
};
/// Tensor-parallel degree.
pub const TENSOR_PARALLEL: Setting = Setting {
    meaning: "tensor-parallel degree",
    read: &["tensor-parallel-size", "tp", "tp-size", "num-shard"],
};
/// Pipeline-parallel degree.
pub const PIPELINE_PARALLEL: Setting = Setting {
    meaning: "pipeline-parallel degree",
    read: &["pipeline-parallel-size", "pp", "pp-size"],
};
/// Data-parallel degree inside one server.
pub const DATA_PARALLEL: Setting = Setting {
    meaning: "data-parallel degree inside one server",
    read: &["data-parallel-size", "dp", "dp-size"],
};
/// Nodes one server spans.
pub const NODES: Setting = Setting {
    meaning: "nodes one server spans",
    read: &["nnodes", "num-nodes"],
};
/// Which node of a multi-node server this process is.
pub const NODE_RANK: Setting = Setting {
    meaning: "rank of this node in a multi-node server",
    read: &["node-rank"],
};
/// Address the nodes of a multi-node server meet at.
pub const DIST_INIT_ADDR: Setting = Setting {
    meaning: "rendezvous address of a multi-node server",
    read: &["dist-init-addr", "master-addr"],
};
/// Longest sequence, prompt and output, in tokens.
pub const MAX_MODEL_LEN: Setting = Setting {
    meaning: "longest sequence in tokens",
    read: &[
        "max-model-len",
        "context-length",
        "max-total-tokens",
        "max-seq-len",
        "session-len",
    ],
};
/// Most sequences in the running batch.
pub const MAX_NUM_SEQS: Setting = Setting {
    meaning: "most sequences in the running batch",
    read: &["max-num-seqs", "max-running-requests", "max-batch-size"],
};
/// Most tokens in one engine step (the prefill chunk).
pub const MAX_NUM_BATCHED_TOKENS: Setting = Setting {
    meaning: "most tokens in one engine step",
    read: &[
        "max-num-batched-tokens",
        "chunked-prefill-size",
        "max-num-tokens",
        "max-batch-prefill-tokens",
        "max-prefill-token-num",
    ],
};
/// Fraction of GPU memory the engine takes (weights, activations and the KV cache).
pub const GPU_MEMORY_UTILIZATION: Setting = Setting {
    meaning: "fraction of GPU memory the engine takes",
    read: &[
        "gpu-memory-utilization",
        "mem-fraction-static",
        "cuda-memory-fraction",
    ],
};
/// Longest prompt in tokens (TGI's `--max-input-tokens`; the rest of
/// [`MAX_MODEL_LEN`] is left for the output).
pub const MAX_INPUT_TOKENS: Setting = Setting {
    meaning: "longest prompt in tokens",
    read: &["max-input-tokens", "max-input-length"],
};
/// Most requests admitted at once, running and waiting (TGI refuses the next with HTTP 429).
pub const MAX_CONCURRENT_REQUESTS: Setting = Setting {
    meaning: "most requests admitted at once, running and waiting",
    read: &["max-concurrent-requests"],
};
/// Fraction of the GPU memory left free after the weights and activations that the KV cache
/// takes (TensorRT-LLM's meaning; not [`GPU_MEMORY_UTILIZATION`], a share of the whole GPU).
pub const KV_FREE_MEMORY_FRACTION: Setting = Setting {
    meaning: "fraction of the free GPU memory the KV cache takes",
    read: &[
        "kv-cache-free-gpu-memory-fraction",
        "kv-cache-free-gpu-mem-fraction",
        "cache-max-entry-count",
    ],
};
/// Which runtime serves (TensorRT-LLM `--backend pytorch`).
pub const BACKEND: Setting = Setting {
    meaning: "which runtime of the engine serves",
    read: &["backend"],
};
/// A file of further engine options (TensorRT-LLM's LLM-API options YAML).
pub const EXTRA_OPTIONS: Setting = Setting {
    meaning: "file of further engine options",
    read: &["extra-llm-api-options", "config"],
};
/// 16- or 32-bit weight format ([`checkpoint`](crate::checkpoint) has its values).
pub const DTYPE: Setting = Setting {
    meaning: "16- or 32-bit weight format",
    read: &["dtype"],
};
/// Quantized weight format ([`checkpoint`](crate::checkpoint) has its values).
pub const QUANTIZATION: Setting = Setting {
    meaning: "quantized weight format",
    read: &["quantization", "q", "quantize", "model-format"],
};
/// KV-cache format ([`checkpoint::KV_FP8`](crate::checkpoint::KV_FP8); LMDeploy's
/// `--quant-policy` values are read by [`checkpoint::kv_format_of`](crate::checkpoint::kv_format_of)).
pub const KV_CACHE_DTYPE: Setting = Setting {
    meaning: "KV-cache format",
    read: &["kv-cache-dtype", "quant-policy"],
};
/// Directory hub weights are downloaded into.
pub const DOWNLOAD_DIR: Setting = Setting {
    meaning: "directory hub weights are downloaded into",
    read: &["download-dir", "download-path"],
};
/// How the weights are read (`runai_streamer`: streamed from object storage).
pub const LOAD_FORMAT: Setting = Setting {
    meaning: "how the weights are read",
    read: &["load-format"],
};
/// How one server's workers run (`ray` across nodes).
pub const DISTRIBUTED_EXECUTOR_BACKEND: Setting = Setting {
    meaning: "how one server's workers run",
    read: &["distributed-executor-backend"],
};

/// vLLM (`vllm serve`), the engine the renderer writes.
pub mod vllm {
    use super::*;

    /// `--model` (or the positional argument of `vllm serve`).
    pub const MODEL: Flag = Flag {
        setting: super::MODEL,
        write: "--model",
    };
    /// `--served-model-name`.
    pub const SERVED_MODEL_NAME: Flag = Flag {
        setting: super::SERVED_MODEL_NAME,
        write: "--served-model-name",
    };
    /// `--host`.
    pub const HOST: Flag = Flag {
        setting: super::HOST,
        write: "--host",
    };
    /// `--port`.
    pub const PORT: Flag = Flag {
        setting: super::PORT,
        write: "--port",
    };
    /// `--tensor-parallel-size` (`-tp`).
    pub const TENSOR_PARALLEL: Flag = Flag {
        setting: super::TENSOR_PARALLEL,
        write: "--tensor-parallel-size",
    };
    /// `--pipeline-parallel-size` (`-pp`).
    pub const PIPELINE_PARALLEL: Flag = Flag {
        setting: super::PIPELINE_PARALLEL,
        write: "--pipeline-parallel-size",
    };
    /// `--data-parallel-size` (`-dp`).
    pub const DATA_PARALLEL: Flag = Flag {
        setting: super::DATA_PARALLEL,
        write: "--data-parallel-size",
    };
    /// `--max-model-len`.
    pub const MAX_MODEL_LEN: Flag = Flag {
        setting: super::MAX_MODEL_LEN,
        write: "--max-model-len",
    };
    /// `--max-num-seqs`.
    pub const MAX_NUM_SEQS: Flag = Flag {
        setting: super::MAX_NUM_SEQS,
        write: "--max-num-seqs",
    };
    /// `--max-num-batched-tokens`.
    pub const MAX_NUM_BATCHED_TOKENS: Flag = Flag {
        setting: super::MAX_NUM_BATCHED_TOKENS,
        write: "--max-num-batched-tokens",
    };
    /// `--gpu-memory-utilization`.
    pub const GPU_MEMORY_UTILIZATION: Flag = Flag {
        setting: super::GPU_MEMORY_UTILIZATION,
        write: "--gpu-memory-utilization",
    };
    /// `--dtype`.
    pub const DTYPE: Flag = Flag {
        setting: super::DTYPE,
        write: "--dtype",
    };
    /// `--quantization` (`-q`).
    pub const QUANTIZATION: Flag = Flag {
        setting: super::QUANTIZATION,
        write: "--quantization",
    };
    /// `--kv-cache-dtype`.
    pub const KV_CACHE_DTYPE: Flag = Flag {
        setting: super::KV_CACHE_DTYPE,
        write: "--kv-cache-dtype",
    };
    /// `--download-dir`.
    pub const DOWNLOAD_DIR: Flag = Flag {
        setting: super::DOWNLOAD_DIR,
        write: "--download-dir",
    };
    /// `--load-format`.
    pub const LOAD_FORMAT: Flag = Flag {
        setting: super::LOAD_FORMAT,
        write: "--load-format",
    };
    /// `--distributed-executor-backend`.
    pub const DISTRIBUTED_EXECUTOR_BACKEND: Flag = Flag {
        setting: super::DISTRIBUTED_EXECUTOR_BACKEND,
        write: "--distributed-executor-backend",
    };

    /// Every flag of the table.
    pub const ALL: &[Flag] = &[
        MODEL,
        SERVED_MODEL_NAME,
        HOST,
        PORT,
        TENSOR_PARALLEL,
        PIPELINE_PARALLEL,
        DATA_PARALLEL,
        MAX_MODEL_LEN,
        MAX_NUM_SEQS,
        MAX_NUM_BATCHED_TOKENS,
        GPU_MEMORY_UTILIZATION,
        DTYPE,
        QUANTIZATION,
        KV_CACHE_DTYPE,
        DOWNLOAD_DIR,
        LOAD_FORMAT,
        DISTRIBUTED_EXECUTOR_BACKEND,
    ];
}

/// SGLang (`python -m sglang.launch_server`).
pub mod sglang {
    use super::*;

    /// `--model-path`.
    pub const MODEL: Flag = Flag {
        setting: super::MODEL,
        write: "--model-path",
    };
    /// `--served-model-name`.
    pub const SERVED_MODEL_NAME: Flag = Flag {
        setting: super::SERVED_MODEL_NAME,
        write: "--served-model-name",
    };
    /// `--host`.
    pub const HOST: Flag = Flag {
        setting: super::HOST,
        write: "--host",
    };
    /// `--port`.
    pub const PORT: Flag = Flag {
        setting: super::PORT,
        write: "--port",
    };
    /// `--tp` (`--tp-size`).
    pub const TENSOR_PARALLEL: Flag = Flag {
        setting: super::TENSOR_PARALLEL,
        write: "--tp",
    };
    /// `--pp-size`.
    pub const PIPELINE_PARALLEL: Flag = Flag {
        setting: super::PIPELINE_PARALLEL,
        write: "--pp-size",
    };
    /// `--nnodes`.
    pub const NODES: Flag = Flag {
        setting: super::NODES,
        write: "--nnodes",
    };
    /// `--node-rank`.
    pub const NODE_RANK: Flag = Flag {
        setting: super::NODE_RANK,
        write: "--node-rank",
    };
    /// `--dist-init-addr`.
    pub const DIST_INIT_ADDR: Flag = Flag {
        setting: super::DIST_INIT_ADDR,
        write: "--dist-init-addr",
    };
    /// `--context-length`.
    pub const MAX_MODEL_LEN: Flag = Flag {
        setting: super::MAX_MODEL_LEN,
        write: "--context-length",
    };
    /// `--max-running-requests`.
    pub const MAX_NUM_SEQS: Flag = Flag {
        setting: super::MAX_NUM_SEQS,
        write: "--max-running-requests",
    };
    /// `--chunked-prefill-size`.
    pub const MAX_NUM_BATCHED_TOKENS: Flag = Flag {
        setting: super::MAX_NUM_BATCHED_TOKENS,
        write: "--chunked-prefill-size",
    };
    /// `--mem-fraction-static`.
    pub const GPU_MEMORY_UTILIZATION: Flag = Flag {
        setting: super::GPU_MEMORY_UTILIZATION,
        write: "--mem-fraction-static",
    };
    /// `--dtype`.
    pub const DTYPE: Flag = Flag {
        setting: super::DTYPE,
        write: "--dtype",
    };
    /// `--quantization`.
    pub const QUANTIZATION: Flag = Flag {
        setting: super::QUANTIZATION,
        write: "--quantization",
    };
    /// `--kv-cache-dtype`.
    pub const KV_CACHE_DTYPE: Flag = Flag {
        setting: super::KV_CACHE_DTYPE,
        write: "--kv-cache-dtype",
    };

    /// Every flag of the table.
    pub const ALL: &[Flag] = &[
        MODEL,
        SERVED_MODEL_NAME,
        HOST,
        PORT,
        TENSOR_PARALLEL,
        PIPELINE_PARALLEL,
        NODES,
        NODE_RANK,
        DIST_INIT_ADDR,
        MAX_MODEL_LEN,
        MAX_NUM_SEQS,
        MAX_NUM_BATCHED_TOKENS,
        GPU_MEMORY_UTILIZATION,
        DTYPE,
        QUANTIZATION,
        KV_CACHE_DTYPE,
    ];
}

/// Hugging Face Text Generation Inference (`text-generation-launcher`), which also reads
/// its options from the environment ([`tgi::FROM_ENV`]).
pub mod tgi {
    use super::*;

    /// `--model-id`.
    pub const MODEL: Flag = Flag {
        setting: super::MODEL,
        write: "--model-id",
    };
    /// `--num-shard`.
    pub const TENSOR_PARALLEL: Flag = Flag {
        setting: super::TENSOR_PARALLEL,
        write: "--num-shard",
    };
    /// `--max-total-tokens`.
    pub const MAX_MODEL_LEN: Flag = Flag {
        setting: super::MAX_MODEL_LEN,
        write: "--max-total-tokens",
    };
    /// `--quantize`.
    pub const QUANTIZATION: Flag = Flag {
        setting: super::QUANTIZATION,
        write: "--quantize",
    };
    /// `--dtype`.
    pub const DTYPE: Flag = Flag {
        setting: super::DTYPE,
        write: "--dtype",
    };

    /// `--max-input-tokens`.
    pub const MAX_INPUT_TOKENS: Flag = Flag {
        setting: super::MAX_INPUT_TOKENS,
        write: "--max-input-tokens",
    };
    /// `--max-batch-prefill-tokens`: most prompt tokens in one prefill step.
    pub const MAX_NUM_BATCHED_TOKENS: Flag = Flag {
        setting: super::MAX_NUM_BATCHED_TOKENS,
        write: "--max-batch-prefill-tokens",
    };
    /// `--max-concurrent-requests`.
    pub const MAX_CONCURRENT_REQUESTS: Flag = Flag {
        setting: super::MAX_CONCURRENT_REQUESTS,
        write: "--max-concurrent-requests",
    };
    /// `--cuda-memory-fraction`: share of the GPU's memory the server may take.
    pub const GPU_MEMORY_UTILIZATION: Flag = Flag {
        setting: super::GPU_MEMORY_UTILIZATION,
        write: "--cuda-memory-fraction",
    };
    /// `--kv-cache-dtype` (`fp8_e4m3fn`, `fp8_e5m2`).
    pub const KV_CACHE_DTYPE: Flag = Flag {
        setting: super::KV_CACHE_DTYPE,
        write: "--kv-cache-dtype",
    };
    /// `--hostname`.
    pub const HOST: Flag = Flag {
        setting: super::HOST,
        write: "--hostname",
    };
    /// `--port`.
    pub const PORT: Flag = Flag {
        setting: super::PORT,
        write: "--port",
    };

    /// Every flag of the table.
    pub const ALL: &[Flag] = &[
        MODEL,
        TENSOR_PARALLEL,
        MAX_MODEL_LEN,
        QUANTIZATION,
        DTYPE,
        MAX_INPUT_TOKENS,
        MAX_NUM_BATCHED_TOKENS,
        MAX_CONCURRENT_REQUESTS,
        GPU_MEMORY_UTILIZATION,
        KV_CACHE_DTYPE,
        HOST,
        PORT,
    ];

    /// The environment variables TGI reads when the flag is not given, and their flags.
    pub const FROM_ENV: [(&str, Flag); 5] = [
        ("MODEL_ID", MODEL),
        ("NUM_SHARD", TENSOR_PARALLEL),
        ("QUANTIZE", QUANTIZATION),
        ("MAX_TOTAL_TOKENS", MAX_MODEL_LEN),
        ("DTYPE", DTYPE),
    ];
}

/// NVIDIA TensorRT-LLM (`trtllm-serve`).
pub mod trtllm {
    use super::*;

    /// `--tp_size`.
    pub const TENSOR_PARALLEL: Flag = Flag {
        setting: super::TENSOR_PARALLEL,
        write: "--tp_size",
    };
    /// `--pp_size`.
    pub const PIPELINE_PARALLEL: Flag = Flag {
        setting: super::PIPELINE_PARALLEL,
        write: "--pp_size",
    };
    /// `--max_seq_len`.
    pub const MAX_MODEL_LEN: Flag = Flag {
        setting: super::MAX_MODEL_LEN,
        write: "--max_seq_len",
    };
    /// `--max_batch_size`: most requests scheduled together.
    pub const MAX_NUM_SEQS: Flag = Flag {
        setting: super::MAX_NUM_SEQS,
        write: "--max_batch_size",
    };
    /// `--max_num_tokens`: most tokens in one step.
    pub const MAX_NUM_BATCHED_TOKENS: Flag = Flag {
        setting: super::MAX_NUM_BATCHED_TOKENS,
        write: "--max_num_tokens",
    };
    /// `--kv_cache_free_gpu_memory_fraction`.
    pub const KV_FREE_MEMORY_FRACTION: Flag = Flag {
        setting: super::KV_FREE_MEMORY_FRACTION,
        write: "--kv_cache_free_gpu_memory_fraction",
    };
    /// `--backend` (`pytorch`).
    pub const BACKEND: Flag = Flag {
        setting: super::BACKEND,
        write: "--backend",
    };
    /// `--host`.
    pub const HOST: Flag = Flag {
        setting: super::HOST,
        write: "--host",
    };
    /// `--port`.
    pub const PORT: Flag = Flag {
        setting: super::PORT,
        write: "--port",
    };
    /// `--extra_llm_api_options`.
    pub const EXTRA_OPTIONS: Flag = Flag {
        setting: super::EXTRA_OPTIONS,
        write: "--extra_llm_api_options",
    };

    /// Every flag of the table.
    pub const ALL: &[Flag] = &[
        TENSOR_PARALLEL,
        PIPELINE_PARALLEL,
        MAX_MODEL_LEN,
        MAX_NUM_SEQS,
        MAX_NUM_BATCHED_TOKENS,
        KV_FREE_MEMORY_FRACTION,
        BACKEND,
        HOST,
        PORT,
        EXTRA_OPTIONS,
    ];
}

/// LMDeploy (`lmdeploy serve api_server MODEL`), TurboMind or PyTorch backend.
///
/// Source: `lmdeploy/cli/serve.py` and `lmdeploy/cli/utils.py` in InternLM/lmdeploy at tag
/// `v0.16.0` (commit 1208bf006bbac69f1f012ceafeeeb70f623b632c): the model is positional
/// (`model_path`); `--server-name` (default `0.0.0.0`), `--server-port` (default 23333),
/// `--backend turbomind|pytorch` (default `turbomind`), `--model-name`, `--tp`, `--nnodes`,
/// `--session-len` (default: the model's context), `--max-batch-size` (default by GPU),
/// `--max-prefill-token-num` (default 8192), `--cache-max-entry-count` (default 0.8: "the
/// percentage of free gpu memory occupied by the k/v cache, excluding weights"),
/// `--quant-policy` (KV cache: `none/int4/int8/fp8/fp8_e5m2/turbo_quant` or `0/4/8/16/17/42`),
/// `--model-format` (`hf`, `awq`, `gptq`, `compressed-tensors`, `fp8`, `mxfp4`), `--dtype`
/// (`auto`, `float16`, `bfloat16`), `--download-dir`, `--max-concurrent-requests`.
pub mod lmdeploy {
    use super::*;

    /// `--model-name`: the name in the API and the `model_name` label of the metrics.
    pub const SERVED_MODEL_NAME: Flag = Flag {
        setting: super::SERVED_MODEL_NAME,
        write: "--model-name",
    };
    /// `--server-name`.
    pub const HOST: Flag = Flag {
        setting: super::HOST,
        write: "--server-name",
    };
    /// `--server-port`.
    pub const PORT: Flag = Flag {
        setting: super::PORT,
        write: "--server-port",
    };
    /// `--backend` (`turbomind`, `pytorch`).
    pub const BACKEND: Flag = Flag {
        setting: super::BACKEND,
        write: "--backend",
    };
    /// `--tp`.
    pub const TENSOR_PARALLEL: Flag = Flag {
        setting: super::TENSOR_PARALLEL,
        write: "--tp",
    };
    /// `--nnodes`.
    pub const NODES: Flag = Flag {
        setting: super::NODES,
        write: "--nnodes",
    };
    /// `--session-len`: the longest sequence, prompt and output.
    pub const MAX_MODEL_LEN: Flag = Flag {
        setting: super::MAX_MODEL_LEN,
        write: "--session-len",
    };
    /// `--max-batch-size`: most requests in the running batch.
    pub const MAX_NUM_SEQS: Flag = Flag {
        setting: super::MAX_NUM_SEQS,
        write: "--max-batch-size",
    };
    /// `--max-prefill-token-num`: most prompt tokens in one step.
    pub const MAX_NUM_BATCHED_TOKENS: Flag = Flag {
        setting: super::MAX_NUM_BATCHED_TOKENS,
        write: "--max-prefill-token-num",
    };
    /// `--cache-max-entry-count`: share of the free memory after the weights for the KV cache.
    pub const KV_FREE_MEMORY_FRACTION: Flag = Flag {
        setting: super::KV_FREE_MEMORY_FRACTION,
        write: "--cache-max-entry-count",
    };
    /// `--quant-policy`: the KV-cache format.
    pub const KV_CACHE_DTYPE: Flag = Flag {
        setting: super::KV_CACHE_DTYPE,
        write: "--quant-policy",
    };
    /// `--model-format`: the checkpoint's quantized format.
    pub const QUANTIZATION: Flag = Flag {
        setting: super::QUANTIZATION,
        write: "--model-format",
    };
    /// `--dtype`.
    pub const DTYPE: Flag = Flag {
        setting: super::DTYPE,
        write: "--dtype",
    };
    /// `--download-dir`.
    pub const DOWNLOAD_DIR: Flag = Flag {
        setting: super::DOWNLOAD_DIR,
        write: "--download-dir",
    };
    /// `--max-concurrent-requests`.
    pub const MAX_CONCURRENT_REQUESTS: Flag = Flag {
        setting: super::MAX_CONCURRENT_REQUESTS,
        write: "--max-concurrent-requests",
    };

    /// Every flag of the table.
    pub const ALL: &[Flag] = &[
        SERVED_MODEL_NAME,
        HOST,
        PORT,
        BACKEND,
        TENSOR_PARALLEL,
        NODES,
        MAX_MODEL_LEN,
        MAX_NUM_SEQS,
        MAX_NUM_BATCHED_TOKENS,
        KV_FREE_MEMORY_FRACTION,
        KV_CACHE_DTYPE,
        QUANTIZATION,
        DTYPE,
        DOWNLOAD_DIR,
        MAX_CONCURRENT_REQUESTS,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flag_an_engine_writes_is_read_back_as_its_setting() {
        for table in [vllm::ALL, sglang::ALL, tgi::ALL, trtllm::ALL, lmdeploy::ALL] {
            for f in table {
                assert!(
                    f.read().contains(&normalise(f.write).as_str()),
                    "{} is not read back as {}",
                    f.write,
                    f.setting.meaning
                );
            }
        }
    }

    #[test]
    fn no_name_means_two_settings() {
        let all = [
            MODEL,
            SERVED_MODEL_NAME,
            HOST,
            PORT,
            TENSOR_PARALLEL,
            PIPELINE_PARALLEL,
            DATA_PARALLEL,
            NODES,
            NODE_RANK,
            DIST_INIT_ADDR,
            MAX_MODEL_LEN,
            MAX_NUM_SEQS,
            MAX_NUM_BATCHED_TOKENS,
            GPU_MEMORY_UTILIZATION,
            DTYPE,
            QUANTIZATION,
            KV_CACHE_DTYPE,
            DOWNLOAD_DIR,
            LOAD_FORMAT,
            DISTRIBUTED_EXECUTOR_BACKEND,
            KV_FREE_MEMORY_FRACTION,
            BACKEND,
            EXTRA_OPTIONS,
            MAX_INPUT_TOKENS,
            MAX_CONCURRENT_REQUESTS,
        ];
        let mut names: Vec<&str> = all.iter().flat_map(|s| s.read.iter().copied()).collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
    }

    #[test]
    fn names_are_normalised() {
        assert_eq!(normalise("--tp_size"), "tp-size");
        assert_eq!(normalise("-TP"), "tp");
    }
}
