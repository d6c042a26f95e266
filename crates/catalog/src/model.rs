//! Model architectures (`ModelSpec`) and what follows from them: parameter counts and KV-cache
//! bytes per token.

use crate::error::{CatalogError, Result};
use crate::table::Row;
use serde::Serialize;

/// Multi-head latent attention (DeepSeek V2/V3, Kimi K2): the KV cache holds one compressed
/// latent per token and layer instead of per-head keys and values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mla {
    /// Rank of the compressed KV latent.
    pub kv_lora_rank: u64,
    /// Rank of the compressed query, when queries are compressed.
    pub q_lora_rank: Option<u64>,
    /// Rotary part of the query/key head.
    pub qk_rope_head_dim: u64,
    /// Non-rotary part of the query/key head.
    pub qk_nope_head_dim: u64,
    /// Value head size.
    pub v_head_dim: u64,
}

/// Mixture of experts in the feed-forward blocks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Moe {
    /// Routed experts per MoE layer.
    pub experts: u64,
    /// Routed experts each token uses.
    pub top_k: u64,
    /// Hidden size of one routed expert.
    pub expert_intermediate: u64,
    /// Always-on shared experts per MoE layer.
    pub shared_experts: u64,
    /// Hidden size of one shared expert.
    pub shared_intermediate: u64,
    /// Number of layers whose feed-forward block is MoE (the rest are dense).
    pub moe_layers: u64,
    /// Experts carry biases (gpt-oss).
    pub expert_bias: bool,
}

/// Layers that attend only to a recent window (sliding window or chunked attention).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Window {
    /// Tokens kept per sequence in a windowed layer.
    pub tokens: u64,
    /// Number of windowed layers; the others attend to the full context.
    pub layers: u64,
}

/// One open model's architecture, as far as serving cost is concerned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelSpec {
    /// Display name, e.g. `Llama 3.3 70B`.
    pub name: String,
    /// Hugging Face repository id, when known.
    pub hf_id: Option<String>,
    /// Other names the model is known by.
    pub aliases: Vec<String>,
    /// `model_type` / family, e.g. `llama`.
    pub family: String,
    /// Transformer layers.
    pub layers: u64,
    /// Hidden (model) size.
    pub hidden: u64,
    /// Feed-forward size of dense layers.
    pub intermediate: u64,
    /// Attention (query) heads.
    pub heads: u64,
    /// Key/value heads (GQA); equals `heads` for MHA.
    pub kv_heads: u64,
    /// Query/key head size.
    pub head_dim: u64,
    /// Value head size (differs from `head_dim` only with MLA).
    pub v_head_dim: u64,
    /// Vocabulary size.
    pub vocab: u64,
    /// Longest context the config allows (`max_position_embeddings`).
    pub max_context: u64,
    /// Input embedding and output head share weights.
    pub tie_embeddings: bool,
    /// Feed-forward uses a gated unit (SwiGLU/GeGLU: three matrices) rather than two.
    pub gated_mlp: bool,
    /// Query/key/value projections carry biases.
    pub qkv_bias: bool,
    /// Output projection and MLP carry biases (GPT-J, gpt-oss).
    pub proj_bias: bool,
    /// Norm vectors per layer (2 for most models, 4 for Gemma 2/3).
    pub norms_per_layer: u64,
    /// Per-head query/key norms (Qwen3).
    pub qk_norm: bool,
    /// Multi-head latent attention.
    pub mla: Option<Mla>,
    /// Mixture of experts.
    pub moe: Option<Moe>,
    /// Windowed attention layers.
    pub window: Option<Window>,
    /// Format the published checkpoint stores its weights in, when not 16-bit (DeepSeek
    /// FP8, gpt-oss MXFP4 experts).
    pub native_weights: Option<crate::Dtype>,
    /// Where the architecture comes from.
    pub source: String,
    /// Caveats.
    pub notes: String,
}

/// Parameter counts of a model, split the way serving needs them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ParamCounts {
    /// Every weight, including embeddings and all experts.
    pub total: f64,
    /// Weights one token uses (all but the unused routed experts); includes embeddings.
    pub active: f64,
    /// Input embedding table.
    pub embedding: f64,
    /// Output head (0 when tied to the embedding).
    pub lm_head: f64,
    /// Attention weights of all layers.
    pub attention: f64,
    /// Dense feed-forward weights of all layers (including shared experts and routers).
    pub dense_ffn: f64,
    /// Routed expert weights of all layers.
    pub experts: f64,
    /// Norms (and other small vectors).
    pub norms: f64,
}

impl ModelSpec {
    /// Attention weights of one layer.
    pub fn attention_params_per_layer(&self) -> f64 {
        let h = self.hidden as f64;
        let heads = self.heads as f64;
        let hd = self.head_dim as f64;
        if let Some(m) = &self.mla {
            let qk = (m.qk_nope_head_dim + m.qk_rope_head_dim) as f64;
            let q = match m.q_lora_rank {
                Some(r) => h * r as f64 + r as f64 + r as f64 * heads * qk,
                None => h * heads * qk,
            };
            let kv_a = h * (m.kv_lora_rank + m.qk_rope_head_dim) as f64 + m.kv_lora_rank as f64;
            let kv_b = m.kv_lora_rank as f64 * heads * (m.qk_nope_head_dim + m.v_head_dim) as f64;
            let o = heads * m.v_head_dim as f64 * h;
            return q + kv_a + kv_b + o;
        }
        let kv = self.kv_heads as f64;
        let mut p = h * heads * hd + 2.0 * h * kv * hd + heads * self.v_head_dim as f64 * h;
        if self.qkv_bias {
            p += (heads + 2.0 * kv) * hd;
        }
        if self.proj_bias {
            p += h;
        }
        if self.qk_norm {
            p += 2.0 * hd;
        }
        p
    }

    /// Weights of one dense feed-forward block of size `inter`.
    fn ffn_params(&self, inter: u64, bias: bool) -> f64 {
        let h = self.hidden as f64;
        let i = inter as f64;
        let mats = if self.gated_mlp { 3.0 } else { 2.0 };
        let b = if bias { i * (mats - 1.0) + h } else { 0.0 };
        mats * h * i + b
    }

    /// Weights of one routed expert.
    pub fn expert_params(&self) -> f64 {
        self.moe.as_ref().map_or(0.0, |m| {
            self.ffn_params(m.expert_intermediate, m.expert_bias)
        })
    }

    /// Parameter counts derived from the architecture.
    pub fn params(&self) -> ParamCounts {
        let h = self.hidden as f64;
        let layers = self.layers as f64;
        let embedding = self.vocab as f64 * h;
        let lm_head = if self.tie_embeddings { 0.0 } else { embedding };
        let attention = self.attention_params_per_layer() * layers;
        let (moe_layers, dense_layers) = match &self.moe {
            Some(m) => (m.moe_layers as f64, layers - m.moe_layers as f64),
            None => (0.0, layers),
        };
        let mut dense_ffn = dense_layers * self.ffn_params(self.intermediate, self.proj_bias);
        let mut experts = 0.0;
        let mut active_experts = 0.0;
        if let Some(m) = &self.moe {
            let router = h * m.experts as f64 + if m.expert_bias { m.experts as f64 } else { 0.0 };
            let shared = m.shared_experts as f64 * self.ffn_params(m.shared_intermediate, false);
            dense_ffn += moe_layers * (router + shared);
            experts = moe_layers * m.experts as f64 * self.expert_params();
            active_experts = moe_layers * m.top_k as f64 * self.expert_params();
        }
        let norms = layers * self.norms_per_layer as f64 * h + h;
        let total = embedding + lm_head + attention + dense_ffn + experts + norms;
        let active = total - experts + active_experts;
        ParamCounts {
            total,
            active,
            embedding,
            lm_head,
            attention,
            dense_ffn,
            experts,
            norms,
        }
    }

    /// Layers that attend to the full context.
    pub fn full_attention_layers(&self) -> u64 {
        self.layers - self.window.as_ref().map_or(0, |w| w.layers)
    }

    /// KV-cache elements (not bytes) one token adds in one layer, for the whole model
    /// (all KV heads; for MLA the latent plus the rotary key).
    pub fn kv_elements_per_token_layer(&self) -> u64 {
        match &self.mla {
            Some(m) => m.kv_lora_rank + m.qk_rope_head_dim,
            None => self.kv_heads * (self.head_dim + self.v_head_dim),
        }
    }

    /// KV-cache bytes one token adds when every layer attends to the full context (the
    /// catalog's `kv_cache_bytes_per_token_16bit` at `bytes_per_value` = 2).
    pub fn kv_bytes_per_token_full(&self, bytes_per_value: f64) -> f64 {
        (self.kv_elements_per_token_layer() * self.layers) as f64 * bytes_per_value
    }

    /// KV-cache bytes one sequence of `context` tokens holds, with windowed layers capped at
    /// their window.
    pub fn kv_bytes_per_sequence(&self, context: u64, bytes_per_value: f64) -> f64 {
        let per_layer = self.kv_elements_per_token_layer() as f64 * bytes_per_value;
        let full = self.full_attention_layers() as f64 * context as f64;
        let windowed = self
            .window
            .as_ref()
            .map_or(0.0, |w| w.layers as f64 * context.min(w.tokens) as f64);
        per_layer * (full + windowed)
    }

    /// Checks that the fields describe a model that can exist.
    pub fn validate(&self, origin: &str) -> Result<()> {
        let bad = |field: &str, msg: &str| {
            Err(CatalogError::invalid(
                origin,
                None,
                Some(field),
                msg.to_owned(),
            ))
        };
        for (field, v) in [
            ("num_layers", self.layers),
            ("hidden_size", self.hidden),
            ("num_attention_heads", self.heads),
            ("num_kv_heads", self.kv_heads),
            ("head_dim", self.head_dim),
            ("vocab_size", self.vocab),
            ("max_position_embeddings", self.max_context),
        ] {
            if v == 0 {
                return bad(field, "must be greater than zero");
            }
        }
        if self.layers > 10_000 || self.hidden > 1_000_000 || self.heads > 100_000 {
            return bad("num_layers", "implausibly large architecture");
        }
        if self.mla.is_none() && self.heads % self.kv_heads != 0 {
            return bad(
                "num_kv_heads",
                "attention heads must be a multiple of the KV heads",
            );
        }
        if let Some(m) = &self.moe {
            if m.experts == 0 || m.top_k == 0 || m.top_k > m.experts {
                return bad(
                    "moe_top_k",
                    "experts per token must be between 1 and the expert count",
                );
            }
            if m.moe_layers > self.layers {
                return bad("first_k_dense_layers", "more MoE layers than layers");
            }
        }
        if let Some(w) = &self.window {
            if w.layers > self.layers || w.tokens == 0 {
                return bad("sliding_window", "window layers or size out of range");
            }
        }
        Ok(())
    }

    /// Reads a `models.csv` row.
    pub fn from_row(r: &Row<'_>) -> Result<ModelSpec> {
        let req = |c: &str| -> Result<u64> {
            r.u64(c)?
                .ok_or_else(|| r.error(c, "required number is empty"))
        };
        let family = r.get("architecture_family").unwrap_or_default().to_owned();
        let layers = req("num_layers")?;
        let heads = req("num_attention_heads")?;
        let hidden = req("hidden_size")?;
        let head_dim = match r.u64("head_dim")? {
            Some(d) => d,
            None if heads > 0 => hidden / heads,
            None => 0,
        };
        let attention_type = r
            .get("attention_type")
            .unwrap_or("GQA")
            .to_ascii_uppercase();
        let mla = if attention_type.contains("MLA") {
            Some(Mla {
                kv_lora_rank: req("kv_lora_rank")?,
                q_lora_rank: r.u64("q_lora_rank")?,
                qk_rope_head_dim: req("qk_rope_head_dim")?,
                qk_nope_head_dim: req("qk_nope_head_dim")?,
                v_head_dim: req("v_head_dim")?,
            })
        } else {
            None
        };
        let v_head_dim = mla.as_ref().map_or(head_dim, |m| m.v_head_dim);
        let moe = match r.u64("moe_num_experts")? {
            Some(experts) if experts > 0 => {
                let first_dense = r.u64("first_k_dense_layers")?.unwrap_or(0);
                let expert_intermediate = r
                    .u64("moe_intermediate_size")?
                    .unwrap_or(req("intermediate_size")?);
                Some(Moe {
                    experts,
                    top_k: r.u64("moe_top_k")?.ok_or_else(|| {
                        r.error("moe_top_k", "MoE model without experts per token")
                    })?,
                    expert_intermediate,
                    shared_experts: r.u64("moe_shared_experts")?.unwrap_or(0),
                    shared_intermediate: expert_intermediate,
                    moe_layers: layers.saturating_sub(first_dense),
                    expert_bias: family == "gpt_oss",
                })
            }
            _ => None,
        };
        let window = match (r.u64("sliding_window")?, r.u64("sliding_window_pattern")?) {
            (Some(tokens), pattern) if tokens > 0 => {
                let pattern = pattern.unwrap_or(2).max(1);
                let global = layers / pattern;
                Some(Window {
                    tokens,
                    layers: layers - global,
                })
            }
            _ => None,
        };
        let gemma = family.starts_with("gemma2") || family.starts_with("gemma3");
        let spec = ModelSpec {
            name: r.req("name")?.to_owned(),
            hf_id: r.get("hf_id").map(str::to_owned),
            aliases: Vec::new(),
            kv_heads: r.u64("num_kv_heads")?.unwrap_or(heads),
            layers,
            hidden,
            intermediate: req("intermediate_size")?,
            heads,
            head_dim,
            v_head_dim,
            vocab: req("vocab_size")?,
            max_context: req("max_position_embeddings")?,
            tie_embeddings: r.bool("tie_word_embeddings")?.unwrap_or(false),
            gated_mlp: true,
            qkv_bias: family == "qwen2" || family == "gpt_oss",
            proj_bias: family == "gpt_oss",
            norms_per_layer: if gemma { 4 } else { 2 },
            qk_norm: family.starts_with("qwen3") || family.starts_with("gemma3"),
            mla,
            moe,
            window,
            native_weights: match family.as_str() {
                "gpt_oss" => Some(crate::Dtype::Mxfp4),
                "deepseek_v3" => Some(crate::Dtype::Fp8),
                _ => None,
            },
            source: r.get("source").unwrap_or_default().to_owned(),
            notes: r.get("notes").unwrap_or_default().to_owned(),
            family,
        };
        spec.validate(r.origin())
            .map_err(|e| relocate(e, r.line()))?;
        Ok(spec)
    }
}

/// Adds a line number to an error raised without one.
fn relocate(e: CatalogError, line: u64) -> CatalogError {
    match e {
        CatalogError::Invalid {
            origin,
            line: None,
            field,
            message,
        } => CatalogError::Invalid {
            origin,
            line: Some(line),
            field,
            message,
        },
        other => other,
    }
}
