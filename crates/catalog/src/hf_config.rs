//! Import of a Hugging Face `config.json` into a [`ModelSpec`].
//!
//! Handles dense and GQA models, MoE (Mixtral, Qwen-MoE, DeepSeek, Llama 4, gpt-oss), MLA
//! (DeepSeek, Kimi), sliding-window and chunked attention (Mistral v0.1, Gemma 2/3, gpt-oss,
//! Llama 4), and multimodal wrappers whose language model sits under `text_config`,
//! `llm_config` or `language_config`.

use crate::error::{CatalogError, Result};
use crate::model::{Mla, ModelSpec, Moe, Window};
use serde_json::Value;

/// Parses `config.json` text. `origin` names the file in errors; `name` is the display name
/// (for example the file stem or the repository id).
pub fn parse(text: &str, origin: &str, name: &str) -> Result<ModelSpec> {
    let root: Value = serde_json::from_str(text).map_err(|e| {
        CatalogError::invalid(
            origin,
            Some(e.line() as u64),
            None,
            format!("not valid JSON: {e}"),
        )
    })?;
    if !root.is_object() {
        return Err(CatalogError::invalid(
            origin,
            None,
            None,
            "expected a JSON object",
        ));
    }
    let hf_id = root
        .get("_name_or_path")
        .and_then(Value::as_str)
        .filter(|s| s.contains('/') && !s.starts_with('/') && !s.starts_with('.'))
        .map(str::to_owned);
    let cfg = Config::new(&root, origin);
    cfg.spec(name, hf_id)
}

/// A view of the config object that reads fields under their many historical names.
struct Config<'a> {
    v: &'a Value,
    origin: &'a str,
}

impl<'a> Config<'a> {
    fn new(root: &'a Value, origin: &'a str) -> Config<'a> {
        let has_layers = |v: &Value| {
            ["num_hidden_layers", "n_layer", "num_layers"]
                .iter()
                .any(|k| v.get(k).is_some())
        };
        if !has_layers(root) {
            for k in [
                "text_config",
                "llm_config",
                "language_config",
                "thinker_config",
            ] {
                if let Some(t) = root.get(k).filter(|t| has_layers(t)) {
                    return Config { v: t, origin };
                }
            }
        }
        Config { v: root, origin }
    }

    fn err(&self, field: &str, msg: impl Into<String>) -> CatalogError {
        CatalogError::invalid(self.origin, None, Some(field), msg)
    }

    /// The first present, non-null key among `keys` as a positive integer.
    fn uint(&self, keys: &[&str]) -> Result<Option<u64>> {
        for k in keys {
            match self.v.get(*k) {
                None | Some(Value::Null) => continue,
                Some(v) => {
                    let n = v
                        .as_u64()
                        .or_else(|| {
                            v.as_f64()
                                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                                .map(|f| f as u64)
                        })
                        .ok_or_else(|| {
                            self.err(k, format!("expected a whole number, found {v}"))
                        })?;
                    return Ok(Some(n));
                }
            }
        }
        Ok(None)
    }

    fn req(&self, keys: &[&str]) -> Result<u64> {
        self.uint(keys)?
            .ok_or_else(|| self.err(keys[0], "required field is missing"))
    }

    fn flag(&self, key: &str) -> Result<Option<bool>> {
        match self.v.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(self.err(key, format!("expected true or false, found {v}"))),
        }
    }

    fn string(&self, key: &str) -> Option<&'a str> {
        self.v.get(key).and_then(Value::as_str)
    }

    fn spec(&self, name: &str, hf_id: Option<String>) -> Result<ModelSpec> {
        let family = self.string("model_type").unwrap_or("unknown").to_owned();
        if let Some(kinds) = self.v.get("layer_types").and_then(Value::as_array) {
            if let Some(other) = kinds.iter().filter_map(Value::as_str).find(|k| {
                !matches!(
                    *k,
                    "full_attention" | "sliding_attention" | "chunked_attention"
                )
            }) {
                return Err(self.err(
                    "layer_types",
                    format!("layer type `{other}` (linear attention or state-space layers) is not supported yet"),
                ));
            }
        }
        if self.v.get("hybrid_override_pattern").is_some() || family.contains("mamba") {
            return Err(self.err(
                "hybrid_override_pattern",
                "hybrid Mamba/attention models are not supported yet",
            ));
        }
        if self.v.get("block_configs").is_some() {
            return Err(self.err(
                "block_configs",
                "models with a different configuration per layer (NAS) are not supported yet",
            ));
        }
        let layers = self.req(&["num_hidden_layers", "n_layer", "num_layers"])?;
        let hidden = self.req(&["hidden_size", "n_embd", "d_model"])?;
        let heads = self.req(&["num_attention_heads", "n_head", "num_heads"])?;
        let multi_query = self.flag("multi_query")?.unwrap_or(false)
            && !self.flag("new_decoder_architecture")?.unwrap_or(false);
        let kv_heads = match self.uint(&[
            "num_key_value_heads",
            "num_kv_heads",
            "n_head_kv",
            "multi_query_group_num",
        ])? {
            Some(k) => k,
            None if multi_query => 1,
            None => heads,
        };
        let head_dim = match self.uint(&["head_dim"])? {
            Some(d) => d,
            None if heads > 0 => hidden / heads,
            None => 0,
        };
        let plain_mlp = matches!(
            family.as_str(),
            "gptj" | "falcon" | "gpt_neox" | "gpt2" | "bloom" | "opt"
        );
        let intermediate = match self.uint(&[
            "intermediate_size_mlp",
            "intermediate_size",
            "n_inner",
            "ffn_hidden_size",
            "ffn_dim",
        ])? {
            Some(i) => i,
            None if plain_mlp => 4 * hidden,
            None => return Err(self.err("intermediate_size", "required field is missing")),
        };
        let vocab = self.req(&["vocab_size", "padded_vocab_size"])?;
        let max_context = self
            .uint(&[
                "max_position_embeddings",
                "n_positions",
                "max_sequence_length",
                "seq_length",
                "model_max_length",
            ])?
            .unwrap_or(2048);
        let gemma = family.starts_with("gemma");
        let tie = self
            .flag("tie_word_embeddings")?
            .unwrap_or(gemma || family == "falcon");
        let mla = match self.uint(&["kv_lora_rank"])? {
            Some(kv_lora_rank) => Some(Mla {
                kv_lora_rank,
                q_lora_rank: self.uint(&["q_lora_rank"])?,
                qk_rope_head_dim: self.req(&["qk_rope_head_dim"])?,
                qk_nope_head_dim: self.req(&["qk_nope_head_dim"])?,
                v_head_dim: self.req(&["v_head_dim"])?,
            }),
            None => None,
        };
        let (head_dim, v_head_dim) = match &mla {
            Some(m) => (m.qk_nope_head_dim + m.qk_rope_head_dim, m.v_head_dim),
            None => (head_dim, head_dim),
        };
        let expert_default = self.uint(&["intermediate_size"])?.unwrap_or(intermediate);
        let moe = self.moe(layers, expert_default, &family)?;
        let window = self.window(layers, &family)?;
        let attention_bias = self.flag("attention_bias")?;
        let qkv_bias = attention_bias.unwrap_or(matches!(
            family.as_str(),
            "qwen2" | "qwen2_moe" | "qwen2_vl" | "internlm"
        )) || self.flag("qkv_bias")?.unwrap_or(false)
            || self.flag("bias")?.unwrap_or(false);
        let spec = ModelSpec {
            name: name.to_owned(),
            hf_id,
            aliases: Vec::new(),
            layers,
            hidden,
            intermediate,
            heads,
            kv_heads,
            head_dim,
            v_head_dim,
            vocab,
            max_context,
            tie_embeddings: tie,
            gated_mlp: !plain_mlp,
            qkv_bias,
            proj_bias: family == "gpt_oss"
                || family == "gptj"
                || self.flag("mlp_bias")?.unwrap_or(false),
            norms_per_layer: if family.starts_with("gemma2") || family.starts_with("gemma3") {
                4
            } else {
                2
            },
            qk_norm: family.starts_with("qwen3") || family.starts_with("gemma3"),
            mla,
            moe,
            window,
            native_weights: self.native_weights(),
            source: self.origin.to_owned(),
            notes: String::new(),
            family,
        };
        spec.validate(self.origin)?;
        Ok(spec)
    }

    /// The weight format named by `quantization_config`, when the checkpoint is quantized.
    fn native_weights(&self) -> Option<crate::Dtype> {
        use crate::Dtype;
        let q = self.v.get("quantization_config")?;
        let method = q
            .get("quant_method")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        let text = q.to_string().to_ascii_lowercase();
        match method.as_str() {
            "mxfp4" => Some(Dtype::Mxfp4),
            "fp8" => Some(Dtype::Fp8),
            "gptq" | "awq" => Some(Dtype::Int4),
            _ if text.contains("nvfp4") || text.contains("fp4") => Some(Dtype::Fp4),
            _ if text.contains("\"num_bits\":4") || text.contains("int4") => Some(Dtype::Int4),
            _ if text.contains("fp8") || text.contains("float8") => Some(Dtype::Fp8),
            _ if text.contains("\"num_bits\":8") => Some(Dtype::Int8),
            _ => None,
        }
    }

    fn moe(&self, layers: u64, intermediate: u64, family: &str) -> Result<Option<Moe>> {
        let Some(experts) = self.uint(&[
            "num_local_experts",
            "n_routed_experts",
            "num_experts",
            "moe_num_experts",
        ])?
        else {
            return Ok(None);
        };
        if experts == 0 {
            return Ok(None);
        }
        let top_k = self.req(&[
            "num_experts_per_tok",
            "moe_top_k",
            "top_k",
            "experts_per_token",
        ])?;
        let expert_intermediate = self
            .uint(&["moe_intermediate_size", "expert_intermediate_size"])?
            .unwrap_or(intermediate);
        let llama4 = family.starts_with("llama4");
        let (shared_experts, shared_intermediate) =
            match self.uint(&["shared_expert_intermediate_size"])? {
                Some(s) if s > 0 => (1, s),
                _ => {
                    let n = self.uint(&[
                        "n_shared_experts",
                        "num_shared_experts",
                        "moe_shared_expert_count",
                    ])?;
                    (n.unwrap_or(u64::from(llama4)), expert_intermediate)
                }
            };
        let first_dense = self
            .uint(&["first_k_dense_replace"])?
            .unwrap_or(0)
            .min(layers);
        let step = self
            .uint(&[
                "interleave_moe_layer_step",
                "decoder_sparse_step",
                "moe_layer_freq",
            ])?
            .unwrap_or(1)
            .max(1);
        let mlp_only = self
            .v
            .get("mlp_only_layers")
            .and_then(Value::as_array)
            .map_or(0, Vec::len) as u64;
        let moe_layers =
            (layers - first_dense) / step - mlp_only.min((layers - first_dense) / step);
        Ok(Some(Moe {
            experts,
            top_k,
            expert_intermediate,
            shared_experts,
            shared_intermediate,
            moe_layers,
            expert_bias: family == "gpt_oss",
        }))
    }

    fn window(&self, layers: u64, family: &str) -> Result<Option<Window>> {
        if let Some(kinds) = self.v.get("layer_types").and_then(Value::as_array) {
            let windowed = kinds
                .iter()
                .filter(|k| matches!(k.as_str(), Some("sliding_attention" | "chunked_attention")))
                .count() as u64;
            let tokens = self.uint(&["sliding_window", "attention_chunk_size"])?;
            return Ok(match tokens {
                Some(t) if windowed > 0 && t > 0 => Some(Window {
                    tokens: t,
                    layers: windowed.min(layers),
                }),
                _ => None,
            });
        }
        if family.starts_with("llama4") {
            if let Some(chunk) = self.uint(&["attention_chunk_size"])? {
                // Every fourth layer attends globally (no RoPE); the others to 8K chunks.
                return Ok(Some(Window {
                    tokens: chunk,
                    layers: layers - layers / 4,
                }));
            }
        }
        let Some(tokens) = self.uint(&["sliding_window"])? else {
            return Ok(None);
        };
        if tokens == 0 || self.flag("use_sliding_window")? == Some(false) {
            return Ok(None);
        }
        let windowed = match self.uint(&["sliding_window_pattern"])? {
            Some(p) if p > 0 => layers - layers / p,
            _ if family.starts_with("gemma2") || family == "gpt_oss" => layers - layers / 2,
            _ if family.starts_with("gemma3") => layers - layers / 6,
            _ => layers,
        };
        Ok(Some(Window {
            tokens,
            layers: windowed,
        }))
    }
}
