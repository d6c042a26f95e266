//! Import of a Hugging Face `config.json` into a [`ModelSpec`].
//!
//! Handles dense and GQA models, MoE (Mixtral, Qwen-MoE, DeepSeek, Llama 4, gpt-oss), MLA
//! (DeepSeek, Kimi), sliding-window and chunked attention (Mistral v0.1, Gemma 2/3, gpt-oss,
//! Llama 4), multimodal wrappers whose language model sits under `text_config`,
//! `llm_config` or `language_config`, and models whose layers are not all alike:
//!
//! * linear attention (Gated DeltaNet: Qwen3-Next, Qwen3.5), from `layer_types` with
//!   `linear_attention` entries and the `linear_*` fields;
//! * hybrid Mamba-2 / attention / MoE (Nemotron-H), from `hybrid_override_pattern`;
//! * NAS-pruned models with one configuration per layer (DeciLM / Nemotron Super), from
//!   `block_configs`.
//!
//! Pure state-space models (Mamba without attention) are refused.

use crate::error::{CatalogError, Result};
use crate::model::{plain_mlp_family, DenseFfn, Mla, ModelSpec, Moe, Recurrent, Window};
use serde_json::Value;

/// Largest dimension accepted for linear-attention and Mamba fields (keeps the arithmetic far
/// from overflow on bad input).
const MAX_DIM: u64 = 100_000;

/// What differs from a stack of identical transformer layers.
struct LayerMix {
    attention_layers: u64,
    recurrent: Option<Recurrent>,
    dense_ffn: Option<Vec<DenseFfn>>,
    linear_blocks: u64,
    /// MoE layers, when the config lists them layer by layer.
    moe_layers: Option<u64>,
    /// KV heads, when they come from per-layer configs.
    kv_heads: Option<u64>,
    /// Widest dense FFN, when the top-level `intermediate_size` is not used.
    intermediate: Option<u64>,
    norms_per_layer: Option<u64>,
}

impl LayerMix {
    fn uniform(layers: u64) -> LayerMix {
        LayerMix {
            attention_layers: layers,
            recurrent: None,
            dense_ffn: None,
            linear_blocks: 0,
            moe_layers: None,
            kv_heads: None,
            intermediate: None,
            norms_per_layer: None,
        }
    }
}

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
    /// The whole file (differs from `v` for multimodal wrappers).
    root: &'a Value,
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
                    return Config { v: t, root, origin };
                }
            }
        }
        Config {
            v: root,
            root,
            origin,
        }
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
                            // Whole floats up to 2^53 (exact); larger ones are nonsense.
                            v.as_f64()
                                .filter(|f| f.fract() == 0.0 && (0.0..=9.007e15).contains(f))
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
        flag_in(self.v, key).map_err(|m| self.err(key, m))
    }

    /// A flag of the language model, or else of the wrapper around it.
    fn flag_or_root(&self, key: &str) -> Result<Option<bool>> {
        match self.flag(key)? {
            Some(b) => Ok(Some(b)),
            None => flag_in(self.root, key).map_err(|m| self.err(key, m)),
        }
    }

    /// A dimension of a linear-attention or Mamba layer: present, at least 1, plausible.
    fn dim(&self, keys: &[&str], default: Option<u64>) -> Result<u64> {
        let v = match (self.uint(keys)?, default) {
            (Some(v), _) | (None, Some(v)) => v,
            (None, None) => return Err(self.err(keys[0], "required field is missing")),
        };
        if v == 0 || v > MAX_DIM {
            return Err(self.err(keys[0], format!("{v} is out of range (1 to {MAX_DIM})")));
        }
        Ok(v)
    }

    /// Bytes per value of a state-cache dtype field (`float32`, `bfloat16`, ...).
    fn state_dtype_bytes(&self, keys: &[&str], default: u64) -> Result<u64> {
        for k in keys {
            match self.v.get(*k) {
                None | Some(Value::Null) => continue,
                Some(Value::String(s)) => {
                    return match s.to_ascii_lowercase().as_str() {
                        "float32" | "fp32" | "torch.float32" => Ok(4),
                        "bfloat16" | "float16" | "bf16" | "fp16" | "torch.bfloat16"
                        | "torch.float16" => Ok(2),
                        "auto" => Ok(default),
                        other => Err(self.err(k, format!("unknown state dtype `{other}`"))),
                    }
                }
                Some(v) => return Err(self.err(k, format!("expected a dtype name, found {v}"))),
            }
        }
        Ok(default)
    }

    fn string(&self, key: &str) -> Option<&'a str> {
        self.v.get(key).and_then(Value::as_str)
    }

    fn spec(&self, name: &str, hf_id: Option<String>) -> Result<ModelSpec> {
        let family = self.string("model_type").unwrap_or("unknown").to_owned();
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
            None if heads > 0 && !hidden.is_multiple_of(heads) => {
                return Err(self.err(
                    "num_attention_heads",
                    format!(
                        "{heads} heads do not divide hidden_size {hidden}, and no head_dim is \
                         given"
                    ),
                ))
            }
            None if heads > 0 => hidden / heads,
            None => 0,
        };
        let mix = self.layer_mix(layers, hidden, heads, &family)?;
        let kv_heads = mix.kv_heads.unwrap_or(kv_heads);
        let plain_mlp = plain_mlp_family(&family)
            || matches!(
                self.string("mlp_hidden_act").or(self.string("hidden_act")),
                Some("relu2")
            );
        let intermediate = match (
            mix.intermediate,
            self.uint(&[
                "intermediate_size_mlp",
                "intermediate_size",
                "n_inner",
                "ffn_hidden_size",
                "ffn_dim",
                // Every layer is MoE (Qwen3.5): no dense width is given.
                "moe_intermediate_size",
            ])?,
        ) {
            (Some(i), _) | (None, Some(i)) => i,
            (None, None) if plain_mlp => 4 * hidden,
            (None, None) => return Err(self.err("intermediate_size", "required field is missing")),
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
            .flag_or_root("tie_word_embeddings")?
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
        let mut moe = self.moe(layers, expert_default, &family)?;
        if let (Some(m), Some(n)) = (moe.as_mut(), mix.moe_layers) {
            m.moe_layers = n;
        }
        let window = self.window(layers, &family)?;
        let attention_bias = self.flag("attention_bias")?;
        let qkv_bias = attention_bias.unwrap_or(matches!(
            family.as_str(),
            "qwen2" | "qwen2_moe" | "qwen2_vl" | "internlm"
        )) || self.flag("qkv_bias")?.unwrap_or(false)
            || self.flag("bias")?.unwrap_or(false);
        let gated_attention = family.starts_with("qwen3_next") || family.starts_with("qwen3_5");
        let spec = ModelSpec {
            name: name.to_owned(),
            hf_id,
            aliases: Vec::new(),
            layers,
            attention_layers: mix.attention_layers,
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
            norms_per_layer: mix.norms_per_layer.unwrap_or(
                if family.starts_with("gemma2") || family.starts_with("gemma3") {
                    4
                } else {
                    2
                },
            ),
            qk_norm: family.starts_with("qwen3") || family.starts_with("gemma3"),
            attn_output_gate: self.flag("attn_output_gate")?.unwrap_or(gated_attention),
            mla,
            moe,
            window,
            recurrent: mix.recurrent,
            dense_ffn: mix.dense_ffn,
            linear_blocks: mix.linear_blocks,
            native_weights: self.native_weights(),
            source: self.origin.to_owned(),
            notes: String::new(),
            family,
        };
        spec.validate(self.origin)?;
        Ok(spec)
    }

    /// Reads how the layers differ: `hybrid_override_pattern` (Nemotron-H), `block_configs`
    /// (NAS), or `layer_types` with linear-attention layers (Qwen3-Next, Qwen3.5).
    fn layer_mix(&self, layers: u64, hidden: u64, heads: u64, family: &str) -> Result<LayerMix> {
        if hidden > 1_000_000 {
            return Err(self.err("hidden_size", "implausibly large architecture"));
        }
        if let Some(p) = self.v.get("hybrid_override_pattern") {
            let pattern = p.as_str().ok_or_else(|| {
                self.err(
                    "hybrid_override_pattern",
                    format!("expected a string, found {p}"),
                )
            })?;
            return self.hybrid_mamba(layers, hidden, pattern);
        }
        if let Some(b) = self.v.get("block_configs") {
            return self.nas(layers, hidden, heads, b);
        }
        if family.contains("mamba") {
            return Err(self.err(
                "model_type",
                format!(
                    "`{family}`: state-space models without attention layers are not supported"
                ),
            ));
        }
        let kinds: Vec<String> = match self.v.get("layer_types") {
            None | Some(Value::Null) => match self.uint(&["full_attention_interval"])? {
                // Qwen3-Next configs may give only the interval: every n-th layer is full
                // attention, the others linear attention.
                Some(n) if n > 0 && self.v.get("linear_num_value_heads").is_some() => (0..layers)
                    .map(|i| {
                        if (i + 1) % n == 0 {
                            "full_attention"
                        } else {
                            "linear_attention"
                        }
                        .to_owned()
                    })
                    .collect(),
                _ => return Ok(LayerMix::uniform(layers)),
            },
            Some(Value::Array(a)) => a
                .iter()
                .map(|k| {
                    k.as_str().map(str::to_owned).ok_or_else(|| {
                        self.err(
                            "layer_types",
                            format!("expected layer type names, found {k}"),
                        )
                    })
                })
                .collect::<Result<_>>()?,
            Some(v) => return Err(self.err("layer_types", format!("expected a list, found {v}"))),
        };
        if kinds.len() as u64 != layers {
            return Err(self.err(
                "layer_types",
                format!("{} entries for {layers} layers", kinds.len()),
            ));
        }
        let mut linear = 0;
        for k in &kinds {
            match k.as_str() {
                "full_attention" | "sliding_attention" | "chunked_attention" => {}
                "linear_attention" => linear += 1,
                other => {
                    return Err(self.err(
                        "layer_types",
                        format!("layer type `{other}` is not supported yet"),
                    ))
                }
            }
        }
        let mut mix = LayerMix::uniform(layers);
        if linear > 0 {
            mix.attention_layers = layers - linear;
            mix.recurrent = Some(self.gated_deltanet(hidden, linear)?);
        }
        Ok(mix)
    }

    /// Gated DeltaNet layers (Qwen3-Next, Qwen3.5): fused q/k/v projection into a short causal
    /// convolution, an output gate `z`, per-head `a` (decay) and `b` (write strength), and a
    /// recurrent state of `value heads × key dim × value dim` per sequence.
    fn gated_deltanet(&self, hidden: u64, layers: u64) -> Result<Recurrent> {
        let k_heads = self.dim(&["linear_num_key_heads"], None)?;
        let v_heads = self.dim(&["linear_num_value_heads"], None)?;
        let k_dim = self.dim(&["linear_key_head_dim"], None)?;
        let v_dim = self.dim(&["linear_value_head_dim"], None)?;
        let kernel = self.dim(&["linear_conv_kernel_dim"], Some(4))?;
        let key = k_heads * k_dim;
        let value = v_heads * v_dim;
        let conv_dim = 2 * key + value;
        // in_proj_qkv + in_proj_z + in_proj_b + in_proj_a (Qwen3-Next fuses them as
        // in_proj_qkvz and in_proj_ba: same size), depthwise conv without bias, dt_bias and
        // A_log per value head, gated RMSNorm over one value head, out_proj.
        let params = hidden * (conv_dim + value + 2 * v_heads)
            + conv_dim * kernel
            + 2 * v_heads
            + v_dim
            + value * hidden;
        Ok(Recurrent {
            kind: "gated_deltanet".to_owned(),
            layers,
            params_per_layer: params,
            conv_state: conv_dim * (kernel - 1),
            ssm_state: v_heads * k_dim * v_dim,
            conv_state_bytes: 2,
            ssm_state_bytes: self
                .state_dtype_bytes(&["mamba_ssm_dtype", "mamba_ssm_cache_dtype"], 2)?,
            heads: k_heads.min(v_heads),
        })
    }

    /// Nemotron-H: one character per layer, `M` Mamba-2 mixer, `*` attention, `E` MoE
    /// feed-forward, `-` dense feed-forward. Each layer has one norm.
    fn hybrid_mamba(&self, layers: u64, hidden: u64, pattern: &str) -> Result<LayerMix> {
        let field = "hybrid_override_pattern";
        if pattern.chars().count() as u64 != layers {
            return Err(self.err(
                field,
                format!("{} characters for {layers} layers", pattern.chars().count()),
            ));
        }
        let (mut mamba, mut attention, mut moe, mut mlp) = (0, 0, 0, 0);
        for c in pattern.chars() {
            match c {
                'M' => mamba += 1,
                '*' => attention += 1,
                'E' => moe += 1,
                '-' => mlp += 1,
                other => {
                    return Err(self.err(
                        field,
                        format!("unknown layer kind `{other}` (expected M, *, E or -)"),
                    ))
                }
            }
        }
        let m_heads = self.dim(&["mamba_num_heads"], None)?;
        let m_head_dim = self.dim(&["mamba_head_dim"], None)?;
        let groups = self.dim(&["n_groups", "mamba_n_groups"], Some(1))?;
        let state = self.dim(&["ssm_state_size", "mamba_d_state"], None)?;
        let kernel = self.dim(&["conv_kernel", "mamba_d_conv"], Some(4))?;
        let bias = self.flag("use_bias")?.unwrap_or(false);
        let conv_bias = self.flag("use_conv_bias")?.unwrap_or(true);
        let inner = m_heads * m_head_dim;
        let conv_dim = inner + 2 * groups * state;
        let in_proj = inner + conv_dim + m_heads;
        // in_proj (z, x, B, C, dt), depthwise conv, dt_bias/A_log/D per head, gated RMSNorm
        // over the inner size, out_proj.
        let params = hidden * in_proj
            + u64::from(bias) * in_proj
            + conv_dim * kernel
            + u64::from(conv_bias) * conv_dim
            + 3 * m_heads
            + inner
            + inner * hidden
            + u64::from(bias) * hidden;
        let mut mix = LayerMix::uniform(layers);
        mix.attention_layers = attention;
        mix.recurrent = (mamba > 0).then(|| Recurrent {
            kind: "mamba2".to_owned(),
            layers: mamba,
            params_per_layer: params,
            conv_state: conv_dim * (kernel - 1),
            ssm_state: m_heads * m_head_dim * state,
            conv_state_bytes: 2,
            ssm_state_bytes: 0,
            heads: m_heads,
        });
        if let Some(r) = mix.recurrent.as_mut() {
            // vLLM keeps Nemotron-H's SSM state in float32 unless the config says otherwise.
            r.ssm_state_bytes = self.state_dtype_bytes(&["mamba_ssm_cache_dtype"], 4)?;
        }
        mix.moe_layers = Some(moe);
        let width = self.uint(&["intermediate_size"])?.unwrap_or(4 * hidden);
        mix.dense_ffn = Some(if mlp > 0 {
            vec![DenseFfn { width, layers: mlp }]
        } else {
            Vec::new()
        });
        mix.norms_per_layer = Some(1);
        Ok(mix)
    }

    /// NAS-pruned DeciLM models (Nemotron Super/Ultra): `block_configs` gives each layer's
    /// attention (`no_op`, `replace_with_linear`, or GQA with `n_heads_in_group`) and FFN
    /// (`no_op`, `replace_with_linear`, or a gated MLP of width derived from `ffn_mult`).
    fn nas(&self, layers: u64, hidden: u64, heads: u64, blocks: &Value) -> Result<LayerMix> {
        let blocks = blocks
            .as_array()
            .ok_or_else(|| self.err("block_configs", format!("expected a list, found {blocks}")))?;
        if blocks.len() as u64 != layers {
            return Err(self.err(
                "block_configs",
                format!("{} entries for {layers} layers", blocks.len()),
            ));
        }
        let mut mix = LayerMix::uniform(layers);
        mix.attention_layers = 0;
        let mut widths: Vec<DenseFfn> = Vec::new();
        let mut kv_heads: Option<u64> = None;
        for (i, b) in blocks.iter().enumerate() {
            let part = |name: &str| -> Result<&Value> {
                b.get(name).filter(|v| v.is_object()).ok_or_else(|| {
                    self.err(&format!("block_configs[{i}].{name}"), "expected an object")
                })
            };
            let field = |name: &str, key: &str| format!("block_configs[{i}].{name}.{key}");
            let bool_of = |name: &str, v: &Value, key: &str| -> Result<bool> {
                flag_in(v, key)
                    .map(|f| f.unwrap_or(false))
                    .map_err(|m| self.err(&field(name, key), m))
            };
            let attn = part("attention")?;
            if bool_of("attention", attn, "no_op")? {
            } else if bool_of("attention", attn, "replace_with_linear")? {
                mix.linear_blocks += 1;
            } else {
                if !attn.get("window_length").is_none_or(Value::is_null) {
                    return Err(self.err(
                        &field("attention", "window_length"),
                        "windowed attention in per-layer configs is not supported yet",
                    ));
                }
                let group = attn
                    .get("n_heads_in_group")
                    .and_then(Value::as_u64)
                    .filter(|g| *g > 0 && heads.is_multiple_of(*g))
                    .ok_or_else(|| {
                        self.err(
                            &field("attention", "n_heads_in_group"),
                            format!("must be a whole number that divides the {heads} heads"),
                        )
                    })?;
                let kv = heads / group;
                if kv_heads.is_some_and(|k| k != kv) {
                    return Err(self.err(
                        &field("attention", "n_heads_in_group"),
                        "attention layers with different KV head counts are not supported yet",
                    ));
                }
                kv_heads = Some(kv);
                mix.attention_layers += 1;
            }
            let ffn = part("ffn")?;
            if bool_of("ffn", ffn, "no_op")? {
            } else if bool_of("ffn", ffn, "replace_with_linear")? {
                mix.linear_blocks += 1;
            } else {
                let mult = ffn
                    .get("ffn_mult")
                    .and_then(Value::as_f64)
                    .filter(|m| m.is_finite() && *m > 0.0 && *m < 1000.0)
                    .ok_or_else(|| {
                        self.err(&field("ffn", "ffn_mult"), "expected a positive number")
                    })?;
                let width = nas_ffn_width(mult, hidden);
                match widths.iter_mut().find(|g| g.width == width) {
                    Some(g) => g.layers += 1,
                    None => widths.push(DenseFfn { width, layers: 1 }),
                }
            }
        }
        if kv_heads.is_none() {
            return Err(self.err("block_configs", "no layer has attention"));
        }
        mix.kv_heads = kv_heads;
        widths.sort_by_key(|g| std::cmp::Reverse(g.width));
        mix.intermediate = widths.first().map(|g| g.width);
        mix.dense_ffn = Some(widths);
        Ok(mix)
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
        let (shared_experts, shared_intermediate) = match self.uint(&[
            "shared_expert_intermediate_size",
            "moe_shared_expert_intermediate_size",
        ])? {
            Some(s) if s > 0 => (self.uint(&["n_shared_experts"])?.unwrap_or(1), s),
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
        if self.flag("use_sliding_window")? == Some(false) {
            return Ok(None);
        }
        if tokens == 0 {
            return Err(self.err(
                "sliding_window",
                "a window of 0 tokens attends to nothing; use null (no window) or the window size",
            ));
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

/// A flag under `key` of the object `v`; `Err` holds the message for a non-boolean value.
fn flag_in(v: &Value, key: &str) -> std::result::Result<Option<bool>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(v) => Err(format!("expected true or false, found {v}")),
    }
}

/// DeciLM's FFN width for `ffn_mult`: two thirds of `ffn_mult × hidden` (gated MLP), rounded
/// up to a multiple of 256. 5.25 × 8192 gives Llama 3 70B's 28672.
fn nas_ffn_width(mult: f64, hidden: u64) -> u64 {
    let raw = (2.0 * mult * hidden as f64 / 3.0).floor() as u64;
    raw.div_ceil(256) * 256
}
