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

/// Token-mixing layers that keep a fixed-size state per sequence instead of a KV cache that
/// grows with the context: linear attention (Gated DeltaNet in Qwen3-Next and Qwen3.5) and
/// Mamba-2 (Nemotron-H).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recurrent {
    /// `gated_deltanet` or `mamba2`.
    pub kind: String,
    /// Layers of this kind.
    pub layers: u64,
    /// Weights of one such layer: projections, convolution, gates, norm.
    pub params_per_layer: u64,
    /// Convolution state of one sequence in one layer, in values (all heads).
    pub conv_state: u64,
    /// Recurrent (SSM) state of one sequence in one layer, in values (all heads).
    pub ssm_state: u64,
    /// Bytes per value of the convolution state (the model's 16-bit activations).
    pub conv_state_bytes: u64,
    /// Bytes per value of the recurrent state (4 when the config asks for float32).
    pub ssm_state_bytes: u64,
    /// Heads the state splits over under tensor parallelism (the smallest such head count).
    pub heads: u64,
}

impl Recurrent {
    /// State bytes of one sequence in one layer on one GPU of a `tp`-way tensor-parallel group.
    pub fn state_bytes_per_layer(&self, tp: u32) -> f64 {
        let split = u64::from(tp.max(1)).min(self.heads.max(1)) as f64;
        (self.conv_state as f64 * self.conv_state_bytes as f64
            + self.ssm_state as f64 * self.ssm_state_bytes as f64)
            / split
    }
}

/// A group of layers whose dense feed-forward block has the same width (NAS-pruned models).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DenseFfn {
    /// Feed-forward hidden size.
    pub width: u64,
    /// Layers with this width.
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
    /// Decoder layers (blocks), whatever their kind.
    pub layers: u64,
    /// Layers with softmax attention (full or windowed): the only ones whose KV cache grows
    /// with the context. Equals `layers` except in hybrid (linear attention, Mamba) and
    /// NAS-pruned models.
    pub attention_layers: u64,
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
    /// The query projection also produces a sigmoid output gate per head (Qwen3-Next,
    /// Qwen3.5), doubling its size.
    pub attn_output_gate: bool,
    /// Multi-head latent attention.
    pub mla: Option<Mla>,
    /// Mixture of experts.
    pub moe: Option<Moe>,
    /// Windowed attention layers.
    pub window: Option<Window>,
    /// Linear-attention or state-space layers (fixed state per sequence, no KV cache).
    pub recurrent: Option<Recurrent>,
    /// Dense feed-forward blocks when they differ by layer (NAS) or only some layers have one
    /// (Nemotron-H). `None`: every non-MoE layer has one of `intermediate`.
    pub dense_ffn: Option<Vec<DenseFfn>>,
    /// Attention or feed-forward blocks replaced by one hidden × hidden linear layer (NAS).
    pub linear_blocks: u64,
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
    /// Token-mixing weights of all layers: attention, plus linear-attention / Mamba layers and
    /// NAS linear replacements.
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
        if self.attn_output_gate {
            p += h * heads * hd;
        }
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
        let recurrent = self
            .recurrent
            .as_ref()
            .map_or(0.0, |r| r.layers as f64 * r.params_per_layer as f64);
        let attention = self.attention_params_per_layer() * self.attention_layers as f64
            + recurrent
            + self.linear_blocks as f64 * h * h;
        let (moe_layers, dense_layers) = match &self.moe {
            Some(m) => (m.moe_layers as f64, layers - m.moe_layers as f64),
            None => (0.0, layers),
        };
        let mut dense_ffn = match &self.dense_ffn {
            Some(groups) => groups
                .iter()
                .map(|g| g.layers as f64 * self.ffn_params(g.width, self.proj_bias))
                .sum(),
            None => dense_layers * self.ffn_params(self.intermediate, self.proj_bias),
        };
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

    /// Layers that attend to the full context: their KV cache grows with it. Windowed,
    /// linear-attention, Mamba and attention-free layers are not counted.
    pub fn full_attention_layers(&self) -> u64 {
        self.attention_layers
            .saturating_sub(self.window.as_ref().map_or(0, |w| w.layers))
    }

    /// Fixed state bytes one sequence holds in the linear-attention / Mamba layers, on one GPU
    /// of a `tp`-way tensor-parallel group (all such layers; 0 for pure transformers).
    pub fn recurrent_state_bytes(&self, tp: u32) -> f64 {
        self.recurrent
            .as_ref()
            .map_or(0.0, |r| r.layers as f64 * r.state_bytes_per_layer(tp))
    }

    /// KV-cache elements (not bytes) one token adds in one layer, for the whole model
    /// (all KV heads; for MLA the latent plus the rotary key).
    pub fn kv_elements_per_token_layer(&self) -> u64 {
        match &self.mla {
            Some(m) => m.kv_lora_rank + m.qk_rope_head_dim,
            None => self.kv_heads * (self.head_dim + self.v_head_dim),
        }
    }

    /// KV-cache bytes one token adds when every attention layer attends to the full context
    /// (the catalog's `kv_cache_bytes_per_token_16bit` at `bytes_per_value` = 2). Layers
    /// without softmax attention add nothing.
    pub fn kv_bytes_per_token_full(&self, bytes_per_value: f64) -> f64 {
        (self.kv_elements_per_token_layer() * self.attention_layers) as f64 * bytes_per_value
    }

    /// Cache bytes one sequence of `context` tokens holds: the KV cache, with windowed layers
    /// capped at their window, plus the fixed state of linear-attention / Mamba layers (at its
    /// own precision, not `bytes_per_value`).
    pub fn kv_bytes_per_sequence(&self, context: u64, bytes_per_value: f64) -> f64 {
        let per_layer = self.kv_elements_per_token_layer() as f64 * bytes_per_value;
        let full = self.full_attention_layers() as f64 * context as f64;
        let windowed = self
            .window
            .as_ref()
            .map_or(0.0, |w| w.layers as f64 * context.min(w.tokens) as f64);
        per_layer * (full + windowed) + self.recurrent_state_bytes(1)
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
        for (field, v, max) in [
            ("vocab_size", self.vocab, 10_000_000),
            ("head_dim", self.head_dim, 100_000),
            ("num_kv_heads", self.kv_heads, 100_000),
            ("max_position_embeddings", self.max_context, 1_000_000_000),
        ] {
            if v > max {
                return bad(field, &format!("{v} is implausibly large (at most {max})"));
            }
        }
        if self.mla.is_none() && !self.heads.is_multiple_of(self.kv_heads) {
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
            if w.layers > self.attention_layers || w.tokens == 0 {
                return bad("sliding_window", "window layers or size out of range");
            }
        }
        let recurrent = self.recurrent.as_ref().map_or(0, |r| r.layers);
        if self.attention_layers == 0
            || self.attention_layers.saturating_add(recurrent) > self.layers
        {
            return bad(
                "layer_types",
                "attention and linear-attention layers must number between 1 and the layers",
            );
        }
        if let Some(groups) = &self.dense_ffn {
            let ffn_layers = groups.iter().fold(0u64, |n, g| n.saturating_add(g.layers));
            let moe_layers = self.moe.as_ref().map_or(0, |m| m.moe_layers);
            if ffn_layers.saturating_add(moe_layers) > self.layers
                || groups.iter().any(|g| g.width == 0)
            {
                return bad(
                    "intermediate_size",
                    "more feed-forward blocks than layers, or an empty one",
                );
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
            attention_layers: layers,
            hidden,
            intermediate: req("intermediate_size")?,
            heads,
            head_dim,
            v_head_dim,
            vocab: req("vocab_size")?,
            max_context: req("max_position_embeddings")?,
            tie_embeddings: r.bool("tie_word_embeddings")?.unwrap_or(false),
            gated_mlp: !plain_mlp_family(&family),
            qkv_bias: family == "qwen2" || family == "gpt_oss",
            proj_bias: family == "gpt_oss" || family == "gptj",
            norms_per_layer: if gemma { 4 } else { 2 },
            qk_norm: family.starts_with("qwen3") || family.starts_with("gemma3"),
            attn_output_gate: false,
            mla,
            moe,
            window,
            recurrent: None,
            dense_ffn: None,
            linear_blocks: 0,
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

/// Families whose feed-forward block has two matrices (up, down) with a plain activation
/// (GELU, ReLU²) instead of a gated unit.
pub(crate) fn plain_mlp_family(family: &str) -> bool {
    matches!(
        family,
        "gptj" | "falcon" | "gpt_neox" | "gpt2" | "bloom" | "opt" | "nemotron_h"
    )
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
