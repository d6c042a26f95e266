//! Integration tests of the catalog crate: embedded data, derived numbers, importers, names,
//! overrides and bad input.

#[path = "../../../tests/support.rs"]
mod support;

use inferplan_catalog::table::Table;
use inferplan_catalog::{hf_config, Catalog, CatalogError, Dtype, DEFAULT_REGION};
use proptest::prelude::*;
use std::path::PathBuf;
use support::catalog;

const MODELS_CSV: &str = include_str!("../../../data/catalog/models.csv");
const HF_SOURCES: &str = include_str!("../../../data/models/hf/SOURCES.csv");
const ALIASES_CSV: &str = include_str!("../../../data/catalog/aliases.csv");

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "inferplan-catalog-test-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn embedded_catalog_has_every_source_row() {
    let c = catalog();
    assert_eq!(c.gpus().len(), 31);
    assert_eq!(c.instances().len(), 88);
    assert!(c.models().len() >= 27 + 15, "{}", c.models().len());
}

/// Every checkpoint row names a catalog model; a size always has its source; the models the
/// examples serve have an instruct checkpoint with a chat template, and base repositories say
/// they have none.
#[test]
fn checkpoints_are_catalog_facts() {
    let c = catalog();
    let all = c.all_checkpoints();
    assert_eq!(all.len(), 69);
    for k in all {
        assert!(c.model(&k.model).is_ok(), "{}", k.hf_id);
        assert!(
            k.download_bytes.is_none() || !k.source.is_empty(),
            "{}",
            k.hf_id
        );
        assert!(!k.retrieved.is_empty(), "{}", k.hf_id);
    }
    for model in [
        "Llama 3.3 70B",
        "Llama 3.1 8B",
        "Llama 3.1 405B",
        "Llama 2 13B",
        "Qwen2.5 32B",
        "Llama 3.2 1B",
    ] {
        let rows = c.checkpoints(&c.model(model).unwrap().name);
        assert!(
            rows.iter()
                .any(|k| k.chat_template == inferplan_catalog::ChatTemplate::Yes),
            "{model}"
        );
    }
    for base in [
        "meta-llama/Llama-3.1-8B",
        "meta-llama/Llama-2-13b-hf",
        "meta-llama/Llama-3.1-405B",
    ] {
        let k = all.iter().find(|k| k.hf_id == base).unwrap();
        assert_eq!(
            k.chat_template,
            inferplan_catalog::ChatTemplate::No,
            "{base}"
        );
    }
}

#[test]
fn a_bad_checkpoint_row_names_file_line_and_field() {
    let text = "model,hf_id,format,chat_template,download_bytes,source\n\
                Llama 3.1 8B,x/y,fp8,maybe,,\n";
    let t = Table::parse(text, "checkpoints.csv").unwrap();
    let r = t.rows().next().unwrap();
    let e = inferplan_catalog::Checkpoint::from_row(&r, "Llama 3.1 8B".into())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("checkpoints.csv:2") && e.contains("chat_template"),
        "{e}"
    );
    let text = "model,hf_id,format,chat_template,download_bytes,source\n\
                Llama 3.1 8B,x/y,fp8,yes,123,\n";
    let t = Table::parse(text, "checkpoints.csv").unwrap();
    let r = t.rows().next().unwrap();
    let e = inferplan_catalog::Checkpoint::from_row(&r, "Llama 3.1 8B".into())
        .unwrap_err()
        .to_string();
    assert!(e.contains("source"), "{e}");
}

#[test]
fn derived_params_and_kv_match_catalog_rows() {
    let c = catalog();
    let t = Table::parse(MODELS_CSV, "models.csv").unwrap();
    for r in t.rows() {
        let name = r.req("name").unwrap();
        let m = c.model(name).unwrap();
        let p = m.params();
        let want_total = r.req_f64("params_b").unwrap() * 1e9;
        let want_active = r.req_f64("active_params_b").unwrap() * 1e9;
        let e_total = (p.total - want_total) / want_total;
        let e_active = (p.active - want_active) / want_active;
        assert!(
            e_total.abs() < 0.005,
            "{name}: total {} vs {want_total}",
            p.total
        );
        assert!(
            e_active.abs() < 0.005,
            "{name}: active {} vs {want_active}",
            p.active
        );
        let kv = r.req_f64("kv_cache_bytes_per_token_16bit").unwrap();
        assert_eq!(m.kv_bytes_per_token_full(2.0), kv, "{name}");
    }
}

/// Config fixtures written from the catalog's own rows: the importer must derive the same
/// parameter counts as the catalog.
#[test]
fn config_import_matches_catalog_rows() {
    let c = catalog();
    let cases = [
        (
            "Llama 3.1 8B",
            r#"{"model_type":"llama","num_hidden_layers":32,"hidden_size":4096,"intermediate_size":14336,
               "num_attention_heads":32,"num_key_value_heads":8,"vocab_size":128256,
               "max_position_embeddings":131072,"tie_word_embeddings":false}"#,
        ),
        (
            "Mixtral 8x7B",
            r#"{"model_type":"mixtral","num_hidden_layers":32,"hidden_size":4096,"intermediate_size":14336,
               "num_attention_heads":32,"num_key_value_heads":8,"vocab_size":32000,"num_local_experts":8,
               "num_experts_per_tok":2,"max_position_embeddings":32768,"tie_word_embeddings":false}"#,
        ),
        (
            "DeepSeek-V3",
            r#"{"model_type":"deepseek_v3","num_hidden_layers":61,"hidden_size":7168,"intermediate_size":18432,
               "moe_intermediate_size":2048,"num_attention_heads":128,"num_key_value_heads":128,
               "vocab_size":129280,"max_position_embeddings":163840,"n_routed_experts":256,
               "num_experts_per_tok":8,"n_shared_experts":1,"first_k_dense_replace":3,"kv_lora_rank":512,
               "q_lora_rank":1536,"qk_rope_head_dim":64,"qk_nope_head_dim":128,"v_head_dim":128,
               "tie_word_embeddings":false,"quantization_config":{"quant_method":"fp8"}}"#,
        ),
        (
            "Gemma 2 9B",
            r#"{"model_type":"gemma2","num_hidden_layers":42,"hidden_size":3584,"intermediate_size":14336,
               "num_attention_heads":16,"num_key_value_heads":8,"head_dim":256,"vocab_size":256000,
               "max_position_embeddings":8192,"sliding_window":4096}"#,
        ),
        (
            "Qwen3 30B-A3B",
            r#"{"model_type":"qwen3_moe","num_hidden_layers":48,"hidden_size":2048,"intermediate_size":6144,
               "moe_intermediate_size":768,"num_attention_heads":32,"num_key_value_heads":4,"head_dim":128,
               "vocab_size":151936,"num_experts":128,"num_experts_per_tok":8,"max_position_embeddings":40960,
               "tie_word_embeddings":false}"#,
        ),
    ];
    for (name, json) in cases {
        let imported = hf_config::parse(json, "fixture.json", name).unwrap();
        let row = c.model(name).unwrap();
        let (a, b) = (imported.params(), row.params());
        assert!(
            (a.total - b.total).abs() / b.total < 1e-9,
            "{name}: {} vs {}",
            a.total,
            b.total
        );
        assert!((a.active - b.active).abs() / b.active < 1e-9, "{name}");
        assert_eq!(
            imported.kv_bytes_per_token_full(2.0),
            row.kv_bytes_per_token_full(2.0),
            "{name}"
        );
        assert_eq!(imported.window, row.window, "{name}");
    }
    let ds = hf_config::parse(cases[2].1, "f.json", "ds").unwrap();
    assert_eq!(ds.native_weights, Some(Dtype::Fp8));
    assert_eq!(ds.moe.as_ref().unwrap().moe_layers, 58);
}

#[test]
fn embedded_configs_match_published_totals() {
    let c = catalog();
    let t = Table::parse(HF_SOURCES, "SOURCES.csv").unwrap();
    let mut checked = 0;
    for r in t.rows() {
        let Some(published) = r.f64("published_total_params_b").unwrap() else {
            continue;
        };
        let name = r.req("name").unwrap();
        let Ok(m) = c.model(name) else {
            continue;
        };
        let derived = m.params().total / 1e9;
        assert!(
            (derived - published).abs() / published < 0.03,
            "{name}: {derived} vs {published}"
        );
        checked += 1;
    }
    assert!(checked >= 1);
    // Vendor figures checked by hand (model cards): Llama 4 Scout 109B, Maverick 400B, Kimi K2.5 ~1T.
    for (name, total) in [
        ("llama-4-scout", 109.0),
        ("llama-4-maverick", 400.0),
        ("kimi-k2.5", 1030.0),
    ] {
        let p = c.model(name).unwrap().params().total / 1e9;
        assert!((p - total).abs() / total < 0.04, "{name}: {p}");
    }
}

#[test]
fn every_embedded_config_imports() {
    let c = catalog();
    let failed: Vec<_> = c
        .notes()
        .iter()
        .filter(|n| n.starts_with("model config not imported"))
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
}

/// Strips a trailing ` (...)` checkpoint note: `Llama-2-70B (TheBloke/Llama-2-70B-GPTQ)`.
fn strip_note(name: &str) -> &str {
    match name.trim().strip_suffix(')').and_then(|s| s.rfind(" (")) {
        Some(i) => name[..i].trim(),
        None => name.trim(),
    }
}

/// Every model the measured data names resolves, after the checkpoint note is stripped and
/// a quantization suffix split off (as `validate` does).
#[test]
fn measured_model_names_resolve() {
    let dir = support::shared().join("data/measured");
    let mut names = std::collections::BTreeSet::new();
    for (file, column) in [
        ("llm_throughput.csv", "model"),
        ("aic_silicon_sample.csv", "model_path"),
    ] {
        let path = dir.join(file);
        // The measured data sits beside the repository; without it there is nothing to check.
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let t = Table::parse(&text, file).unwrap();
        for r in t.rows() {
            if let Some(m) = r.get(column) {
                names.insert(m.to_owned());
            }
        }
    }
    let c = catalog();
    let failed: Vec<String> = names
        .iter()
        .filter_map(|raw| {
            let (base, _) = inferplan_catalog::names::split_quantized(strip_note(raw));
            c.model(&base)
                .err()
                .map(|e| format!("{raw} -> {base}: {e}"))
        })
        .collect();
    assert!(failed.is_empty(), "unresolved:\n{}", failed.join("\n"));
}

#[test]
fn measured_names_pick_the_right_model() {
    let c = catalog();
    for (q, want) in [
        ("GPT-J-6B", "GPT-J 6B"),
        ("Llama-3-70B", "Llama 3.1 70B"),
        ("meta-llama/Meta-Llama-3-70B-Instruct", "Llama 3.1 70B"),
        ("Meta-Llama-3-8B", "Llama 3.1 8B"),
        ("Llama-2-70B-chat", "Llama 2 70B"),
        ("zhipuai/GLM-5", "GLM-5"),
        ("Qwen/Qwen3-235B-A22B", "Qwen3 235B-A22B"),
        ("nvidia/DeepSeek-R1", "DeepSeek-R1"),
        ("Llama-3.1-8B-Instruct", "Llama 3.1 8B"),
        ("NVIDIA Nemotron Nano 30B", "Nemotron Nano 30B"),
        ("NVIDIA Nemotron Super 49B", "Nemotron Super 49B"),
        ("Qwen/Qwen3.5-397B-A17B", "Qwen3.5 397B-A17B"),
    ] {
        assert_eq!(c.model(q).unwrap().name, want, "{q}");
    }
}

#[test]
fn gpt_j_matches_its_model_card() {
    let m = catalog().model("EleutherAI/gpt-j-6b").unwrap().clone();
    assert!(!m.gated_mlp && m.proj_bias && !m.tie_embeddings);
    let total = m.params().total;
    // Model card: n_parameters 6053381344.
    assert!(
        (total - 6_053_381_344.0).abs() / 6_053_381_344.0 < 0.01,
        "{total}"
    );
    // MHA: 28 layers × 16 heads × (256 + 256) values × 2 bytes.
    assert_eq!(m.kv_bytes_per_token_full(2.0), 458_752.0);
}

#[test]
fn qwen3_5_counts_linear_attention_layers() {
    let m = catalog().model("Qwen/Qwen3.5-397B-A17B").unwrap().clone();
    let p = m.params();
    // The name: 397B total, 17B active (MTP layer and vision tower not counted here).
    assert!((p.total / 1e9 - 397.0).abs() / 397.0 < 0.01, "{}", p.total);
    assert!((p.active / 1e9 - 17.0).abs() / 17.0 < 0.05, "{}", p.active);
    assert_eq!((m.layers, m.attention_layers), (60, 15));
    assert_eq!(m.full_attention_layers(), 15);
    assert!(m.attn_output_gate && m.qk_norm);
    let r = m.recurrent.as_ref().unwrap();
    assert_eq!((r.kind.as_str(), r.layers), ("gated_deltanet", 45));
    // Per layer: in_proj 4096 × (2·2048 + 8192 + 8192 + 2·64), conv 12288 × 4,
    // dt_bias + A_log 2·64, norm 128, out_proj 8192 × 4096.
    let gdn = 4096 * (4096 + 8192 + 8192 + 128) + 12288 * 4 + 128 + 128 + 8192 * 4096;
    assert_eq!(r.params_per_layer, gdn);
    // Only the 15 attention layers grow: 15 × 2 KV heads × (256 + 256) × 2 bytes.
    assert_eq!(m.kv_bytes_per_token_full(2.0), 30_720.0);
    // Fixed state: conv 12288 × 3 values at 2 bytes + 64 heads × 128 × 128 at float32.
    let state = 45.0 * (12288.0 * 3.0 * 2.0 + 64.0 * 128.0 * 128.0 * 4.0);
    assert_eq!(m.recurrent_state_bytes(1), state);
    assert_eq!(m.recurrent_state_bytes(8), state / 8.0);
    assert_eq!(
        m.kv_bytes_per_sequence(1000, 2.0),
        30_720.0 * 1000.0 + state
    );
}

#[test]
fn nemotron_h_counts_mamba_and_moe_layers() {
    let m = catalog()
        .model("nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16")
        .unwrap()
        .clone();
    let p = m.params();
    // Model card: 31.6B total (hub metadata; the text rounds to 30B), 3.5B active (3.2B
    // without embeddings).
    assert!((p.total / 1e9 - 31.6).abs() / 31.6 < 0.01, "{}", p.total);
    assert!((p.active / 1e9 - 3.5).abs() / 3.5 < 0.05, "{}", p.active);
    assert_eq!(
        (m.layers, m.attention_layers, m.norms_per_layer),
        (52, 6, 1)
    );
    assert!(!m.gated_mlp);
    assert_eq!(m.moe.as_ref().unwrap().moe_layers, 23);
    assert_eq!(m.dense_ffn, Some(Vec::new()));
    let r = m.recurrent.as_ref().unwrap();
    assert_eq!((r.kind.as_str(), r.layers), ("mamba2", 23));
    // inner 64 × 64 = 4096, conv_dim 4096 + 2 · 8 · 128 = 6144.
    let mamba = 2688 * (4096 + 6144 + 64) + 6144 * 4 + 6144 + 3 * 64 + 4096 + 4096 * 2688;
    assert_eq!(r.params_per_layer, mamba);
    assert_eq!(m.kv_bytes_per_token_full(2.0), 6.0 * 2.0 * 256.0 * 2.0);
    // SSM state in float32 (mamba_ssm_cache_dtype), conv state 16-bit.
    assert_eq!(
        m.recurrent_state_bytes(1),
        23.0 * (6144.0 * 3.0 * 2.0 + 64.0 * 64.0 * 128.0 * 4.0)
    );
}

#[test]
fn nas_config_sums_per_layer_blocks() {
    let m = catalog()
        .model("nvidia/Llama-3_3-Nemotron-Super-49B-v1")
        .unwrap()
        .clone();
    let p = m.params();
    assert!(p.total / 1e9 > 49.0 && p.total / 1e9 < 50.5, "{}", p.total);
    assert_eq!(p.total, p.active);
    assert_eq!((m.layers, m.attention_layers, m.kv_heads), (80, 49, 8));
    assert_eq!(m.intermediate, 28672);
    let groups = m.dense_ffn.as_ref().unwrap();
    assert_eq!(groups.iter().map(|g| g.layers).sum::<u64>(), 80);
    // ffn_mult 1.0 → 2/3 · 8192 = 5461 → next multiple of 256.
    assert!(groups.iter().any(|g| g.width == 5632 && g.layers == 8));
    assert_eq!(m.kv_bytes_per_token_full(2.0), 49.0 * 8.0 * 256.0 * 2.0);
    assert_eq!(m.recurrent_state_bytes(1), 0.0);
}

/// Small hand-computed fixtures of the three layer mixes.
#[test]
fn hybrid_fixtures_count_by_hand() {
    // 4 layers, every 2nd full attention; GDN: 2 key heads × 8, 4 value heads × 8, kernel 4.
    let gdn = r#"{"model_type":"qwen3_next","num_hidden_layers":4,"hidden_size":64,"intermediate_size":128,
        "num_attention_heads":4,"num_key_value_heads":2,"head_dim":16,"vocab_size":100,
        "full_attention_interval":2,"linear_num_key_heads":2,"linear_key_head_dim":8,
        "linear_num_value_heads":4,"linear_value_head_dim":8,"linear_conv_kernel_dim":4,
        "tie_word_embeddings":true}"#;
    let m = hf_config::parse(gdn, "g.json", "g").unwrap();
    assert_eq!(
        (m.attention_layers, m.recurrent.as_ref().unwrap().layers),
        (2, 2)
    );
    // key 16, value 32, conv_dim 64.
    let linear = 64 * (64 + 32 + 8) + 64 * 4 + 8 + 8 + 32 * 64;
    // q doubled by the output gate: 64·4·16·2, k/v 2·64·2·16, o 4·16·64, q/k norms 2·16.
    let attn = 64 * 64 * 2 + 2 * 64 * 32 + 64 * 64 + 32;
    let mlp = 3 * 64 * 128;
    let p = m.params();
    assert_eq!(
        p.total,
        (100 * 64 + 2 * (attn + linear) + 4 * mlp + 4 * 2 * 64 + 64) as f64
    );
    // State: conv 64 × 3 at 2 bytes, 4 heads × 8 × 8 at 2 bytes (no dtype given).
    assert_eq!(m.recurrent_state_bytes(1), 2.0 * (64.0 * 3.0 + 256.0) * 2.0);

    // M * E -: one of each.
    let mamba = r#"{"model_type":"nemotron_h","num_hidden_layers":4,"hidden_size":32,"intermediate_size":48,
        "num_attention_heads":4,"num_key_value_heads":1,"head_dim":8,"vocab_size":100,
        "hybrid_override_pattern":"M*E-","mamba_num_heads":4,"mamba_head_dim":8,"n_groups":1,
        "ssm_state_size":16,"conv_kernel":4,"n_routed_experts":4,"num_experts_per_tok":2,
        "moe_intermediate_size":16,"moe_shared_expert_intermediate_size":24,"n_shared_experts":1,
        "mlp_hidden_act":"relu2","tie_word_embeddings":false}"#;
    let m = hf_config::parse(mamba, "m.json", "m").unwrap();
    // inner 32, conv_dim 32 + 32 = 64, in_proj 32 + 64 + 4 = 100.
    let mixer = 32 * 100 + 64 * 4 + 64 + 12 + 32 + 32 * 32;
    assert_eq!(m.recurrent.as_ref().unwrap().params_per_layer, mixer);
    let attn = 32 * 32 + 2 * 32 * 8 + 32 * 32;
    let router = 32 * 4;
    let experts = 4 * 2 * 32 * 16;
    let shared = 2 * 32 * 24;
    let mlp = 2 * 32 * 48;
    let p = m.params();
    assert_eq!(p.experts, experts as f64);
    assert_eq!(
        p.total,
        (2 * 100 * 32 + mixer + attn + router + shared + experts + mlp + 4 * 32 + 32) as f64
    );
    assert_eq!(p.active, p.total - (2 * 2 * 32 * 16) as f64);
    assert_eq!(m.kv_bytes_per_token_full(2.0), 1.0 * 16.0 * 2.0);

    // NAS: a full layer, an attention-free layer, a linear-replaced attention, a no-op FFN.
    let nas = r#"{"model_type":"nemotron-nas","num_hidden_layers":3,"hidden_size":96,"intermediate_size":null,
        "num_attention_heads":4,"num_key_value_heads":null,"vocab_size":100,"tie_word_embeddings":false,
        "block_configs":[
          {"attention":{"n_heads_in_group":2,"no_op":false,"replace_with_linear":false},"ffn":{"ffn_mult":2.0,"no_op":false}},
          {"attention":{"n_heads_in_group":null,"no_op":true},"ffn":{"ffn_mult":1.0}},
          {"attention":{"replace_with_linear":true},"ffn":{"no_op":true}}]}"#;
    let m = hf_config::parse(nas, "n.json", "n").unwrap();
    assert_eq!((m.attention_layers, m.kv_heads, m.linear_blocks), (1, 2, 1));
    // ffn_mult 2 → 128 → 256; 1 → 64 → 256.
    assert_eq!(m.dense_ffn.as_ref().unwrap()[0].layers, 2);
    let attn = 96 * 96 + 2 * 96 * 48 + 96 * 96;
    let p = m.params();
    assert_eq!(
        p.total,
        (2 * 100 * 96 + attn + 96 * 96 + 2 * 3 * 96 * 256 + 3 * 2 * 96 + 96) as f64
    );
}

#[test]
fn bad_layer_mixes_are_errors() {
    let base = r#""num_hidden_layers":2,"hidden_size":64,"intermediate_size":128,"num_attention_heads":4,"vocab_size":10"#;
    let cases = [
        (
            format!(r#"{{{base},"layer_types":["full_attention"]}}"#),
            "1 entries for 2 layers",
        ),
        (
            format!(r#"{{{base},"layer_types":["full_attention","mamba"]}}"#),
            "`mamba` is not supported",
        ),
        (
            format!(r#"{{{base},"layer_types":["full_attention","linear_attention"]}}"#),
            "linear_num_key_heads",
        ),
        (
            format!(r#"{{{base},"hybrid_override_pattern":"M*X"}}"#),
            "3 characters for 2 layers",
        ),
        (
            format!(r#"{{{base},"hybrid_override_pattern":"MX"}}"#),
            "unknown layer kind `X`",
        ),
        (
            format!(
                r#"{{{base},"hybrid_override_pattern":"MM","mamba_num_heads":2,"mamba_head_dim":4,"ssm_state_size":4}}"#
            ),
            "between 1 and the layers",
        ),
        (
            format!(
                r#"{{{base},"block_configs":[{{"attention":{{"n_heads_in_group":3}},"ffn":{{"ffn_mult":1}}}},{{"attention":{{"no_op":true}},"ffn":{{"no_op":true}}}}]}}"#
            ),
            "block_configs[0].attention.n_heads_in_group",
        ),
        (
            format!(
                r#"{{{base},"block_configs":[{{"attention":{{"n_heads_in_group":1}},"ffn":{{"ffn_mult":"x"}}}},{{"attention":{{"n_heads_in_group":2}},"ffn":{{"no_op":true}}}}]}}"#
            ),
            "block_configs[0].ffn.ffn_mult",
        ),
        (
            format!(
                r#"{{{base},"block_configs":[{{"attention":{{"n_heads_in_group":1}},"ffn":{{"ffn_mult":1}}}},{{"attention":{{"n_heads_in_group":2}},"ffn":{{"no_op":true}}}}]}}"#
            ),
            "different KV head counts",
        ),
        (
            format!(r#"{{{base},"model_type":"mamba"}}"#),
            "without attention layers",
        ),
    ];
    for (json, want) in cases {
        let e = hf_config::parse(&json, "c.json", "m")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("c.json") && e.contains(want), "{json}: {e}");
    }
}

#[test]
fn model_aliases_name_catalog_models() {
    let c = catalog();
    let t = Table::parse(ALIASES_CSV, "aliases.csv").unwrap();
    for r in t.rows() {
        if r.get("kind") == Some("model") {
            let (alias, name) = (r.req("alias").unwrap(), r.req("name").unwrap());
            assert_eq!(c.model(alias).unwrap().name, name, "{alias}");
        }
    }
}

#[test]
fn names_are_forgiving() {
    let c = catalog();
    for q in [
        "llama-3.3-70b",
        "meta-llama/Llama-3.3-70B-Instruct",
        "LLAMA 3.3 70B",
        "Llama-3.3-70B-Instruct",
    ] {
        assert_eq!(c.model(q).unwrap().name, "Llama 3.3 70B", "{q}");
    }
    assert_eq!(
        c.model("Meta-Llama-3.1-8B-Instruct").unwrap().name,
        "Llama 3.1 8B"
    );
    assert_eq!(c.model("llama-2-7b").unwrap().name, "Llama 2 7B");
    assert_eq!(c.gpu("h100").unwrap().name, "H100 SXM");
    assert_eq!(c.gpu("a10g").unwrap().name, "A10G");
    assert_eq!(
        c.gpu("RTX PRO 6000").unwrap().name,
        "RTX PRO 6000 Blackwell Server Edition"
    );
    assert_eq!(
        c.gpu("B200-180GB").unwrap().name,
        "B200 (HGX/DGX B200, per GPU)"
    );
    assert_eq!(c.instance("G6E.12XLARGE").unwrap().name, "g6e.12xlarge");
}

#[test]
fn unknown_names_suggest_the_closest() {
    let c = catalog();
    match c.model("llama-3.3-7b") {
        Err(CatalogError::Unknown { suggestions, .. }) => {
            assert!(
                suggestions.iter().any(|s| s.starts_with("Llama 3")),
                "{suggestions:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    let e = c.instance("g6e.12xlarg").unwrap_err().to_string();
    assert!(
        e.contains("did you mean") && e.contains("g6e.12xlarge"),
        "{e}"
    );
    let e = c.gpu("H10").unwrap_err().to_string();
    assert!(e.starts_with("unknown gpu `H10`"), "{e}");
}

#[test]
fn prices_follow_the_newer_dated_source() {
    let c = catalog();
    let p5 = c.instance("p5.48xlarge").unwrap();
    assert_eq!(p5.on_demand(DEFAULT_REGION), Some(55.04));
    let east = p5.price(DEFAULT_REGION).unwrap();
    assert!(
        east.note.is_empty() && east.on_demand_source.contains("2026-07-20"),
        "{east:?}"
    );
    assert_eq!(east.as_of.as_deref(), Some("2026-07-20"));
    // The snapshot's other-region on-demand prices for P5 predate the price cut: kept, with
    // their own (missing) date, and flagged.
    let west = p5.price("us-west-2").expect("snapshot row");
    assert_eq!(west.on_demand_usd_hr, Some(98.32));
    assert_eq!(west.as_of, None);
    assert!(west.note.contains("probably changed"), "{west:?}");
    assert!(p5.price_is_older(west) && !p5.price_is_older(east));
    assert!(west.spot_usd_hr.is_some());
    assert!(c.notes().iter().any(|n| n.starts_with("p5.48xlarge:")));
    // H100 and A100 are priced outside Virginia.
    for t in [
        "p5.48xlarge",
        "p4d.24xlarge",
        "p4de.24xlarge",
        "p5en.48xlarge",
    ] {
        let i = c.instance(t).unwrap();
        let outside = i
            .prices
            .iter()
            .filter(|p| p.region != DEFAULT_REGION && p.on_demand_usd_hr.is_some())
            .count();
        assert!(outside > 0, "{t}");
    }
    let g6 = c.instance("g6.2xlarge").unwrap();
    assert_eq!(g6.on_demand(DEFAULT_REGION), Some(0.9776));
    assert!(g6.prices.len() > 5, "regions: {}", g6.prices.len());
    assert!(g6.price(DEFAULT_REGION).unwrap().spot_usd_hr.is_some());
    // No price anywhere: stays missing.
    assert_eq!(
        c.instance("p5e.48xlarge")
            .unwrap()
            .on_demand(DEFAULT_REGION),
        None
    );
    assert_eq!(
        c.instance("g7e.12xlarge")
            .unwrap()
            .on_demand(DEFAULT_REGION),
        Some(8.28608)
    );
}

#[test]
fn override_directory_adds_and_replaces() {
    let d = tmpdir("overlay");
    std::fs::write(
        d.join("prices.csv"),
        "instance_type,region,on_demand_usd_hr,source\ng6e.12xlarge,us-east-1,7.00,negotiated 2026\n",
    )
    .unwrap();
    std::fs::write(
        d.join("gpus.csv"),
        "name,vendor,architecture,memory_gib_reported,mem_bandwidth_gbs,bf16_dense_tflops,fp8_dense_tflops\nAcme X1,Acme,Hopper (custom),120,4000,1000,2000\n",
    )
    .unwrap();
    std::fs::write(
        d.join("instances.csv"),
        "instance_type,gpus_csv_name,gpu_count,gpu_mem_per_gpu_mib_ec2,gpu_interconnect,on_demand_usd_hr_us_east_1\nacme.8x,Acme X1,8,122880,NVSwitch,40\n",
    )
    .unwrap();
    std::fs::write(
        d.join("my-org--tiny.json"),
        r#"{"model_type":"llama","num_hidden_layers":2,"hidden_size":256,"intermediate_size":512,"num_attention_heads":4,"vocab_size":1000}"#,
    )
    .unwrap();
    let c = Catalog::load(Some(&d)).unwrap();
    let g6e = c.instance("g6e.12xlarge").unwrap();
    assert_eq!(g6e.on_demand(DEFAULT_REGION), Some(7.0));
    assert_eq!(
        g6e.price(DEFAULT_REGION).unwrap().on_demand_source,
        "negotiated 2026"
    );
    let x = c.instance("acme.8x").unwrap();
    assert_eq!(c.instance_gpu(x).unwrap().name, "Acme X1");
    assert_eq!(c.gpu("acme x1").unwrap().memory_gib(), Some(120.0));
    assert_eq!(c.model("my-org/tiny").unwrap().layers, 2);

    // Overriding through an alias keeps the name instances refer to.
    let d = tmpdir("alias-override");
    std::fs::write(d.join("gpus.csv"), "name,memory_gib_reported\nH100,79.19\n").unwrap();
    let c = Catalog::load(Some(&d)).unwrap();
    let p5 = c.instance("p5.48xlarge").unwrap();
    assert_eq!(c.instance_gpu(p5).unwrap().memory_gib(), Some(79.19));
}

#[test]
fn skypilot_vms_csv_refreshes_prices() {
    let d = tmpdir("vms");
    std::fs::write(
        d.join("vms.csv"),
        "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone\n\
         g6.xlarge,L4,1.0,4.0,16.0,\"{'Gpus': []}\",0.70,0.20,us-east-1,use1-az1\n\
         g6.xlarge,L4,1.0,4.0,16.0,\"{'Gpus': []}\",0.70,0.30,us-east-1,use1-az2\n\
         nosuch.type,L4,1.0,4.0,16.0,x,1.0,,us-east-1,use1-az1\n",
    )
    .unwrap();
    let c = Catalog::load(Some(&d)).unwrap();
    let p = c
        .instance("g6.xlarge")
        .unwrap()
        .price(DEFAULT_REGION)
        .unwrap()
        .clone();
    assert_eq!(p.on_demand_usd_hr, Some(0.70));
    assert!((p.spot_usd_hr.unwrap() - 0.25).abs() < 1e-12);
    assert!(c.notes().iter().any(|n| n.contains("1 price rows")));
}

#[test]
fn bad_override_files_name_file_line_and_field() {
    let d = tmpdir("bad");
    std::fs::write(
        d.join("prices.csv"),
        "instance_type,region,on_demand_usd_hr\ng6.xlarge,us-east-1,cheap\n",
    )
    .unwrap();
    let e = Catalog::load(Some(&d)).unwrap_err().to_string();
    assert!(e.contains("prices.csv:2: field `on_demand_usd_hr`"), "{e}");

    let d = tmpdir("bad2");
    std::fs::write(d.join("gpus.csv"), "name,memory_gib_reported\nX,1\nY,2,3\n").unwrap();
    let e = Catalog::load(Some(&d)).unwrap_err().to_string();
    assert!(e.contains("gpus.csv:3") && e.contains("3 fields"), "{e}");

    let d = tmpdir("bad3");
    std::fs::write(d.join("pricing.csv"), "a\n1\n").unwrap();
    let e = Catalog::load(Some(&d)).unwrap_err().to_string();
    assert!(e.contains("unknown catalog file `pricing.csv`"), "{e}");

    let d = tmpdir("bad4");
    std::fs::write(
        d.join("m.json"),
        r#"{"model_type":"llama","num_hidden_layers":"many"}"#,
    )
    .unwrap();
    let e = Catalog::load(Some(&d)).unwrap_err().to_string();
    assert!(e.contains("m.json: field `num_hidden_layers`"), "{e}");

    let e = Catalog::load(Some(&d.join("missing")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing"), "{e}");
}

#[test]
fn config_errors_are_specific() {
    let cases = [
        ("not json", "not valid JSON"),
        ("[1,2]", "expected a JSON object"),
        (r#"{"num_hidden_layers":2}"#, "hidden_size"),
        (
            r#"{"num_hidden_layers":2,"hidden_size":64,"num_attention_heads":0,"intermediate_size":1,"vocab_size":1}"#,
            "num_attention_heads",
        ),
        (
            r#"{"num_hidden_layers":2,"hidden_size":96,"num_attention_heads":6,"num_key_value_heads":4,"intermediate_size":1,"vocab_size":1}"#,
            "KV heads",
        ),
        // Issue 12: nonsense that used to be accepted.
        (
            r#"{"num_hidden_layers":2,"hidden_size":64,"num_attention_heads":6,"intermediate_size":1,"vocab_size":1}"#,
            "6 heads do not divide hidden_size 64",
        ),
        (
            r#"{"num_hidden_layers":2,"hidden_size":64,"num_attention_heads":4,"intermediate_size":1,"vocab_size":1,"sliding_window":0}"#,
            "field `sliding_window`",
        ),
        (
            r#"{"num_hidden_layers":2,"hidden_size":64,"num_attention_heads":4,"intermediate_size":1,"vocab_size":1e308}"#,
            "field `vocab_size`",
        ),
        (
            r#"{"num_hidden_layers":2,"hidden_size":64,"num_attention_heads":4,"intermediate_size":1,"vocab_size":1000000000}"#,
            "implausibly large",
        ),
        (
            r#"{"num_hidden_layers":2,"hidden_size":64,"num_attention_heads":4,"intermediate_size":1,"vocab_size":1,"num_local_experts":4,"num_experts_per_tok":9}"#,
            "experts per token",
        ),
    ];
    for (json, want) in cases {
        let e = hf_config::parse(json, "c.json", "m")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("c.json") && e.contains(want), "{json}: {e}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn csv_parsers_never_panic(text in "[a-z0-9_,.\"\n -]{0,300}") {
        if let Ok(t) = Table::parse(&text, "fuzz.csv") {
            for r in t.rows() {
                let _ = inferplan_catalog::Gpu::from_row(&r);
                let _ = inferplan_catalog::Instance::from_row(&r);
                let _ = inferplan_catalog::ModelSpec::from_row(&r);
            }
            let _ = inferplan_catalog::prices::read_region_prices(&t);
            let _ = inferplan_catalog::prices::read_vms_csv(&t);
        }
    }

    #[test]
    fn catalog_rows_with_garbage_cells_never_panic(cells in proptest::collection::vec("[-0-9a-z.e]{0,8}", 12)) {
        let header = "name,num_layers,hidden_size,intermediate_size,num_attention_heads,num_kv_heads,head_dim,vocab_size,max_position_embeddings,moe_num_experts,moe_top_k,sliding_window";
        let text = format!("{header}\n{}\n", cells.join(","));
        if let Ok(t) = Table::parse(&text, "m.csv") {
            for r in t.rows() {
                if let Ok(m) = inferplan_catalog::ModelSpec::from_row(&r) {
                    let p = m.params();
                    prop_assert!(p.total.is_finite() && p.active <= p.total);
                }
            }
        }
    }

    #[test]
    fn hybrid_config_parser_never_panics(
        pattern in "[ME*\\-X]{0,12}", layers in 0u64..14, dims in proptest::collection::vec(0u64..300_000, 8),
        kinds in proptest::collection::vec(0usize..4, 0..14), mult in -2.0f64..2000.0,
    ) {
        let names = ["full_attention", "linear_attention", "sliding_attention", "mamba"];
        let kinds: Vec<&str> = kinds.iter().map(|k| names[*k]).collect();
        let common = format!(
            r#""num_hidden_layers":{layers},"hidden_size":{},"num_attention_heads":4,"intermediate_size":{},"vocab_size":100"#,
            dims[0], dims[1]
        );
        let texts = [
            format!(
                r#"{{{common},"hybrid_override_pattern":"{pattern}","mamba_num_heads":{},"mamba_head_dim":{},"ssm_state_size":{},"n_groups":{},"n_routed_experts":4,"num_experts_per_tok":2}}"#,
                dims[2], dims[3], dims[4], dims[5]
            ),
            format!(
                r#"{{{common},"layer_types":{},"linear_num_key_heads":{},"linear_num_value_heads":{},"linear_key_head_dim":{},"linear_value_head_dim":{},"linear_conv_kernel_dim":{}}}"#,
                serde_json::to_string(&kinds).unwrap(), dims[2], dims[3], dims[4], dims[5], dims[6]
            ),
            format!(
                r#"{{{common},"block_configs":[{{"attention":{{"n_heads_in_group":{}}},"ffn":{{"ffn_mult":{mult}}}}}]}}"#,
                dims[7] % 6
            ),
        ];
        for text in texts {
            if let Ok(m) = hf_config::parse(&text, "h.json", "h") {
                let p = m.params();
                prop_assert!(p.total.is_finite() && p.active <= p.total + 1e-6);
                prop_assert!(m.kv_bytes_per_sequence(4096, 2.0) >= 0.0);
                prop_assert!(m.attention_layers <= m.layers);
            }
        }
    }

    #[test]
    fn config_parser_never_panics(
        layers in proptest::option::of(0u64..200), hidden in proptest::option::of(0u64..20000),
        heads in proptest::option::of(0u64..200), kv in proptest::option::of(0u64..200),
        experts in proptest::option::of(0u64..300), topk in proptest::option::of(0u64..20),
        window in proptest::option::of(0u64..9000), junk in "[{}\\[\\]\":,a-z0-9]{0,40}",
    ) {
        let mut obj = serde_json::Map::new();
        let mut put = |k: &str, v: Option<u64>| { if let Some(v) = v { obj.insert(k.into(), v.into()); } };
        put("num_hidden_layers", layers);
        put("hidden_size", hidden);
        put("num_attention_heads", heads);
        put("num_key_value_heads", kv);
        put("num_local_experts", experts);
        put("num_experts_per_tok", topk);
        put("sliding_window", window);
        put("intermediate_size", hidden.map(|h| h * 3));
        put("vocab_size", Some(1000));
        let text = serde_json::Value::Object(obj).to_string();
        if let Ok(m) = hf_config::parse(&text, "p.json", "p") {
            let p = m.params();
            prop_assert!(p.total > 0.0 && p.active <= p.total + 1e-6);
            prop_assert!(m.kv_bytes_per_sequence(4096, 2.0) >= 0.0);
        }
        let _ = hf_config::parse(&junk, "junk.json", "j");
    }
}

#[test]
fn every_region_of_every_instance_is_an_aws_region() {
    use inferplan_catalog::instance::AWS_REGIONS;
    let c = Catalog::embedded().unwrap();
    for i in c.instances() {
        for r in i
            .regions_available
            .iter()
            .chain(i.prices.iter().map(|p| &p.region))
        {
            assert!(
                AWS_REGIONS.contains(&r.as_str()),
                "{}: region `{r}`",
                i.name
            );
        }
    }
    let g7 = c.instance("g7.12xlarge").unwrap();
    assert_eq!(
        g7.regions_available,
        ["us-east-2", "us-west-2", "us-east-1", "eu-south-2"]
    );
}

#[test]
fn user_prices_carry_their_date_and_clear_the_flag() {
    let dir = tmpdir("prices-date");
    std::fs::write(
        dir.join("prices.csv"),
        "instance_type,region,on_demand_usd_hr,source,date\np5.48xlarge,us-west-2,55.04,our quote,2026-11-01\n",
    )
    .unwrap();
    let c = Catalog::load(Some(&dir)).unwrap();
    let p5 = c.instance("p5.48xlarge").unwrap();
    let west = p5.price("us-west-2").unwrap();
    assert_eq!(west.on_demand_usd_hr, Some(55.04));
    assert_eq!(west.as_of.as_deref(), Some("2026-11-01"));
    assert!(west.note.is_empty(), "{west:?}");
    // Now us-east-1 (2026-07-20) is the older one.
    assert_eq!(p5.newest_price_date(), Some("2026-11-01"));
    assert!(p5.price_is_older(p5.price(DEFAULT_REGION).unwrap()));
    std::fs::write(
        dir.join("prices.csv"),
        "instance_type,region,on_demand_usd_hr,date\np5.48xlarge,us-west-2,55.04,1 Nov\n",
    )
    .unwrap();
    let e = Catalog::load(Some(&dir)).unwrap_err().to_string();
    assert!(e.contains("prices.csv:2") && e.contains("`date`"), "{e}");
}

#[test]
fn every_aws_gpu_instance_has_a_gpu_with_speed_figures() {
    let c = catalog();
    for i in c.instances() {
        if i.cloud != "aws" {
            continue;
        }
        let Some(g) = c.instance_gpu(i) else {
            continue;
        };
        if g.vendor != "NVIDIA" {
            continue;
        }
        assert!(
            g.mem_bandwidth_gbs.is_some() && (g.bf16_tflops.is_some() || g.fp16_tflops.is_some()),
            "{} ({}) has no speed figures",
            i.name,
            g.name
        );
    }
    // g5g carries the T4G, a catalog GPU now.
    assert_eq!(
        c.instance_gpu(c.instance("g5g.xlarge").unwrap())
            .map(|g| g.name.as_str()),
        Some("T4G")
    );
}
