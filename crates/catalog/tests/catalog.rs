//! Integration tests of the catalog crate: embedded data, derived numbers, importers, names,
//! overrides and bad input.

use inferplan_catalog::table::Table;
use inferplan_catalog::{hf_config, Catalog, CatalogError, Dtype, DEFAULT_REGION};
use proptest::prelude::*;
use std::path::PathBuf;

const MODELS_CSV: &str = include_str!("../../../data/catalog/models.csv");
const HF_SOURCES: &str = include_str!("../../../data/models/hf/SOURCES.csv");

fn catalog() -> Catalog {
    Catalog::embedded().expect("embedded catalog loads")
}

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
    assert_eq!(c.gpus().len(), 24);
    assert_eq!(c.instances().len(), 88);
    assert!(c.models().len() >= 27 + 15, "{}", c.models().len());
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
fn unsupported_architectures_are_noted_not_fatal() {
    let c = catalog();
    assert!(
        c.notes()
            .iter()
            .any(|n| n.contains("Qwen3.5") && n.contains("linear")),
        "{:?}",
        c.notes()
    );
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
    // The snapshot's other-region on-demand prices for P5 predate the price cut: dropped.
    let west = p5.price("us-west-2").expect("snapshot row");
    assert_eq!(west.on_demand_usd_hr, None);
    assert!(west.note.contains("stale"));
    assert!(west.spot_usd_hr.is_some());
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
            r#"{"num_hidden_layers":2,"hidden_size":64,"num_attention_heads":6,"num_key_value_heads":4,"intermediate_size":1,"vocab_size":1}"#,
            "KV heads",
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
