//! `inferplan catalog`: list and show GPUs, instance types and models.

use crate::args::{
    CatalogCommand, Format, FormatArg, InstanceListArgs, ListArgs, PricesArgs, RegionArg, ShowArgs,
};
use crate::output::{emit, emit_json, num, table};
use inferplan_catalog::{Catalog, CatalogError, Gpu, Instance, ModelSpec};
use inferplan_perf::diffusion::{DiffusionCatalog, DiffusionJob};
use serde::Serialize;
use std::process::ExitCode;

/// Runs a `catalog` subcommand.
pub fn run(c: &Catalog, cmd: &CatalogCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        CatalogCommand::Gpus(ListArgs {
            format: FormatArg { format },
        }) => gpus(c, *format)?,
        CatalogCommand::Instances(InstanceListArgs {
            region: RegionArg { region },
            format: FormatArg { format },
        }) => instances(c, c.region(region)?, *format)?,
        CatalogCommand::Models(ListArgs {
            format: FormatArg { format },
        }) => models(c, *format)?,
        CatalogCommand::Diffusion(ListArgs {
            format: FormatArg { format },
        }) => diffusion_models(*format)?,
        CatalogCommand::Show(ShowArgs {
            name,
            format: FormatArg { format },
        }) => show(c, name, *format)?,
        CatalogCommand::Prices(PricesArgs {
            instance,
            format: FormatArg { format },
        }) => prices(c.instance(instance)?, *format)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn gpus(c: &Catalog, f: Format) -> anyhow::Result<()> {
    if f == Format::Json {
        return emit_json(&c.gpus());
    }
    let rows: Vec<Vec<String>> = c
        .gpus()
        .iter()
        .map(|g| {
            vec![
                g.name.clone(),
                format!("{:?}", g.arch).to_lowercase(),
                num(g.memory_gib(), 1),
                num(g.mem_bandwidth_gbs, 0),
                num(g.bf16_tflops.or(g.fp16_tflops), 0),
                num(g.fp8_tflops, 0),
                num(g.fp4_tflops, 0),
                if g.nvlink {
                    num(g.nvlink_gbs, 0)
                } else {
                    "-".into()
                },
                g.mig_max_instances.map_or("-".into(), |n| n.to_string()),
            ]
        })
        .collect();
    emit(&table(
        &[
            "gpu",
            "arch",
            "mem GiB",
            "GB/s",
            "bf16 TF",
            "fp8 TF",
            "fp4 TF",
            "nvlink GB/s",
            "mig",
        ],
        &rows,
        f == Format::Md,
    ))
}

fn instances(c: &Catalog, region: &str, f: Format) -> anyhow::Result<()> {
    if f == Format::Json {
        return emit_json(&c.instances());
    }
    let rows: Vec<Vec<String>> = c
        .instances()
        .iter()
        .map(|i| {
            let p = i.price(region);
            vec![
                i.name.clone(),
                i.gpu
                    .clone()
                    .unwrap_or_else(|| format!("({})", i.gpu_label)),
                format!("{}", i.gpu_count),
                num(i.gpu_mem_gib(), 1),
                format!("{:?}", i.interconnect).to_lowercase(),
                num(i.vcpus, 0),
                num(p.and_then(|p| p.on_demand_usd_hr), 3),
                num(p.and_then(|p| p.spot_usd_hr), 3),
                match i
                    .prices
                    .iter()
                    .filter(|p| p.on_demand_usd_hr.is_some())
                    .count()
                {
                    0 => "none".to_owned(),
                    n => n.to_string(),
                },
            ]
        })
        .collect();
    let od = format!("on-demand $/h {region}");
    let spot = format!("spot $/h {region}");
    let mut text = table(
        &[
            "instance",
            "gpu",
            "gpus",
            "GiB/gpu",
            "link",
            "vcpus",
            &od,
            &spot,
            "regions priced",
        ],
        &rows,
        f == Format::Md,
    );
    text +=
        "\n'-' = no price in the catalog for that region (see `inferplan catalog prices TYPE`); \
             regions priced = regions with an on-demand price.\n";
    let unpriced: Vec<&str> = c
        .instances()
        .iter()
        .filter(|i| i.prices.iter().all(|p| p.on_demand_usd_hr.is_none()))
        .map(|i| i.name.as_str())
        .collect();
    if !unpriced.is_empty() {
        text += &format!(
            "no on-demand price in any region ({}): {}; the planner skips them (add prices with prices.csv)\n",
            unpriced.len(),
            unpriced.join(", ")
        );
    }
    for n in c.notes() {
        text += &format!("note: {n}\n");
    }
    emit(&text)
}

fn models(c: &Catalog, f: Format) -> anyhow::Result<()> {
    if f == Format::Json {
        let rows: Vec<ModelJson<'_>> = c.models().iter().map(ModelJson::from).collect();
        return emit_json(&rows);
    }
    let rows: Vec<Vec<String>> = c
        .models()
        .iter()
        .map(|m| {
            let p = m.params();
            vec![
                m.name.clone(),
                m.hf_id.clone().unwrap_or_default(),
                format!("{:.2}", p.total / 1e9),
                format!("{:.2}", p.active / 1e9),
                attention_kind(m),
                format!("{:.0}", m.kv_bytes_per_token_full(2.0) / 1024.0),
                m.max_context.to_string(),
            ]
        })
        .collect();
    let mut text = table(
        &[
            "model",
            "hf id",
            "params B",
            "active B",
            "attention",
            "KV KiB/token (16-bit)",
            "max context",
        ],
        &rows,
        f == Format::Md,
    );
    for n in c.notes().iter().filter(|n| n.starts_with("model")) {
        text += &format!("note: {n}\n");
    }
    emit(&text)
}

fn diffusion_models(f: Format) -> anyhow::Result<()> {
    let models = DiffusionCatalog::embedded().models();
    if f == Format::Json {
        return emit_json(&models);
    }
    let rows: Vec<Vec<String>> = models
        .iter()
        .map(|m| {
            let job = DiffusionJob::default_for(m);
            let clip = match (m.video, job.clip_seconds(m)) {
                (true, Some(s)) => format!("{} frames ({s:.1} s)", job.frames),
                (true, None) => format!("{} frames", job.frames),
                (false, _) => "image".to_owned(),
            };
            vec![
                m.name.clone(),
                m.hf_id.clone(),
                format!("{:?}", m.denoiser).to_lowercase(),
                format!("{:.2}", m.denoiser_params / 1e9),
                format!("{:.2}", m.text_encoder_params / 1e9),
                format!("{}x{}", job.width, job.height),
                clip,
                job.steps.to_string(),
                if m.cfg { "yes" } else { "distilled" }.to_owned(),
            ]
        })
        .collect();
    emit(&table(
        &[
            "model",
            "hf id",
            "denoiser",
            "denoiser B",
            "text enc B",
            "default size",
            "output",
            "steps",
            "CFG",
        ],
        &rows,
        f == Format::Md,
    ))
}

fn attention_kind(m: &ModelSpec) -> String {
    let mut s = if m.mla.is_some() {
        "MLA".to_owned()
    } else if m.kv_heads == m.heads {
        "MHA".to_owned()
    } else {
        format!("GQA {}/{}", m.heads, m.kv_heads)
    };
    if let Some(w) = &m.window {
        s += &format!(" + window {} on {}/{} layers", w.tokens, w.layers, m.layers);
    }
    if let Some(moe) = &m.moe {
        s += &format!(", MoE {}×top{}", moe.experts, moe.top_k);
        if moe.shared_experts > 0 {
            s += &format!("+{} shared", moe.shared_experts);
        }
    }
    s
}

/// A model with its derived numbers, for JSON output.
#[derive(Serialize)]
struct ModelJson<'a> {
    #[serde(flatten)]
    spec: &'a ModelSpec,
    params_b: f64,
    active_params_b: f64,
    kv_cache_bytes_per_token_16bit: f64,
}

impl<'a> From<&'a ModelSpec> for ModelJson<'a> {
    fn from(m: &'a ModelSpec) -> Self {
        let p = m.params();
        ModelJson {
            spec: m,
            params_b: p.total / 1e9,
            active_params_b: p.active / 1e9,
            kv_cache_bytes_per_token_16bit: m.kv_bytes_per_token_full(2.0),
        }
    }
}

/// One entry found by `show`.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Entry<'a> {
    Gpu(&'a Gpu),
    Instance(&'a Instance),
    Model(ModelJson<'a>),
}

fn show(c: &Catalog, name: &str, f: Format) -> anyhow::Result<()> {
    let entry = if let Ok(i) = c.instance(name) {
        Entry::Instance(i)
    } else if let Ok(g) = c.gpu(name) {
        Entry::Gpu(g)
    } else {
        match c.model(name) {
            Ok(m) => Entry::Model(ModelJson::from(m)),
            Err(CatalogError::Unknown {
                mut suggestions, ..
            }) => {
                for k in [c.gpu(name).err(), c.instance(name).err()]
                    .into_iter()
                    .flatten()
                {
                    if let CatalogError::Unknown { suggestions: s, .. } = k {
                        suggestions.extend(s);
                    }
                }
                suggestions.truncate(5);
                return Err(CatalogError::Unknown {
                    kind: "gpu, instance or model",
                    name: name.to_owned(),
                    suggestions,
                }
                .into());
            }
            Err(e) => return Err(e.into()),
        }
    };
    if f == Format::Json {
        return emit_json(&entry);
    }
    // Text: the JSON fields as `key: value` lines, which keeps every field and its source;
    // an instance's prices as a table.
    let mut value = serde_json::to_value(&entry)?;
    let prices = value.as_object_mut().and_then(|o| o.remove("prices"));
    let mut text = String::new();
    flatten("", &value, &mut text);
    if let (Entry::Instance(i), Some(_)) = (&entry, prices) {
        let rows: Vec<Vec<String>> = i
            .prices
            .iter()
            .map(|p| {
                vec![
                    p.region.clone(),
                    num(p.on_demand_usd_hr, 4),
                    num(p.spot_usd_hr, 4),
                    num(p.spot_min_usd_hr, 4),
                    if p.note.is_empty() {
                        p.on_demand_source.clone()
                    } else {
                        p.note.clone()
                    },
                ]
            })
            .collect();
        text += "\nprices (USD per hour; '-' = not in the catalog)\n";
        text += &table(
            &[
                "region",
                "on-demand",
                "spot median",
                "spot min",
                "on-demand source / note",
            ],
            &rows,
            f == Format::Md,
        );
    }
    emit(&text)
}

/// One region's price for `catalog prices --format json`.
#[derive(Serialize)]
struct PriceJson<'a> {
    #[serde(flatten)]
    price: &'a inferplan_catalog::RegionPrice,
    older_than_newest_source: bool,
}

fn prices(i: &Instance, f: Format) -> anyhow::Result<()> {
    if f == Format::Json {
        let rows: Vec<PriceJson<'_>> = i
            .prices
            .iter()
            .map(|p| PriceJson {
                price: p,
                older_than_newest_source: i.price_is_older(p),
            })
            .collect();
        return emit_json(&rows);
    }
    let rows: Vec<Vec<String>> = i
        .prices
        .iter()
        .map(|p| {
            let date = p.as_of.clone().unwrap_or_else(|| "undated".to_owned());
            vec![
                p.region.clone(),
                num(p.on_demand_usd_hr, 4),
                num(p.spot_usd_hr, 4),
                num(p.spot_min_usd_hr, 4),
                if i.price_is_older(p) {
                    format!("{date} *")
                } else {
                    date
                },
                if p.note.is_empty() {
                    p.on_demand_source.clone()
                } else {
                    p.note.clone()
                },
            ]
        })
        .collect();
    let mut text = format!(
        "{} prices, USD per hour ('-' = not in the catalog)\n",
        i.name
    );
    if rows.is_empty() {
        text += "no price in any region; add one with prices.csv (docs/catalog.md)\n";
        return emit(&text);
    }
    text += &table(
        &[
            "region",
            "on-demand",
            "spot median",
            "spot min",
            "as of",
            "on-demand source / note",
        ],
        &rows,
        f == Format::Md,
    );
    if let Some(newest) = i
        .newest_price_date()
        .filter(|_| i.prices.iter().any(|p| i.price_is_older(p)))
    {
        text += &format!(
            "* older than the newest source for {} ({newest}): check it, or override the region in prices.csv\n",
            i.name
        );
    }
    emit(&text)
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, x) in map {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&p, x, out);
            }
        }
        serde_json::Value::Array(items) if items.iter().any(|x| x.is_object()) => {
            for (i, x) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), x, out);
            }
        }
        serde_json::Value::Null => out.push_str(&format!("{prefix}: -\n")),
        serde_json::Value::String(s) => out.push_str(&format!("{prefix}: {s}\n")),
        other => out.push_str(&format!("{prefix}: {other}\n")),
    }
}
