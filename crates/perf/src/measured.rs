//! Measured performance rows, read from the two schemas of `shared/data/measured`
//! (`llm_throughput.csv`: one metric per row; `aic_silicon_sample.csv`: TTFT and TPOT per row)
//! into one normalised form: whole-system throughput, latencies in ms, a load description.
//! Rows that cannot be turned into a prediction are kept with a named reason.

use crate::engine::Engine;
use crate::estimate::Load;
use inferplan_catalog::table::{Row, Table};
use inferplan_catalog::CatalogError;
use serde::Serialize;

/// Columns that identify `llm_throughput.csv`.
pub const THROUGHPUT_COLUMNS: [&str; 6] = ["model", "gpu", "input_len", "metric", "value", "unit"];
/// Columns that identify `aic_silicon_sample.csv`.
pub const AIC_COLUMNS: [&str; 5] = [
    "model_path",
    "system",
    "isl",
    "silicon_ttft_ms",
    "silicon_tpot_ms",
];

/// Metric families scored separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Output, total or request throughput of the whole system.
    Throughput,
    /// Time to first token.
    Ttft,
    /// Time per output token or inter-token latency.
    Tpot,
    /// End-to-end request latency.
    E2e,
}

impl Family {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Throughput => "throughput",
            Family::Ttft => "ttft",
            Family::Tpot => "tpot",
            Family::E2e => "e2e",
        }
    }
}

/// What exactly was measured, in normalised units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Generated tokens/s, whole system.
    OutputTokS,
    /// Prompt plus generated tokens/s, whole system.
    TotalTokS,
    /// Completed requests/s.
    RequestsS,
    /// Time to first token, ms.
    TtftMs,
    /// Time per output token of a request (its decode time over its tokens after the first),
    /// ms.
    TpotMs,
    /// Inter-token latency: the gap between two tokens of a stream, ms. Its mean is the mean
    /// TPOT; its percentiles are those of single steps, not of per-request means.
    ItlMs,
    /// End-to-end latency, ms.
    E2eMs,
}

impl Metric {
    /// The family it is scored in.
    pub fn family(self) -> Family {
        match self {
            Metric::OutputTokS | Metric::TotalTokS | Metric::RequestsS => Family::Throughput,
            Metric::TtftMs => Family::Ttft,
            Metric::TpotMs | Metric::ItlMs => Family::Tpot,
            Metric::E2eMs => Family::E2e,
        }
    }
}

/// Request lengths of a row.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Lengths {
    /// Fixed (or nearly fixed) token counts.
    Fixed {
        /// Prompt tokens.
        input: u64,
        /// Generated tokens.
        output: u64,
    },
    /// A dataset whose mean lengths are looked up (`data/perf/dataset_lengths.csv`); a fixed
    /// side, when the benchmark fixed it, overrides the dataset's.
    Dataset {
        /// Dataset key.
        name: String,
        /// Fixed prompt length, if any.
        input: Option<u64>,
        /// Fixed output length, if any.
        output: Option<u64>,
    },
}

/// One measured value, normalised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation {
    /// Row id (`_ttft`/`_tpot` appended for the AIConfigurator rows).
    pub id: String,
    /// Source the row comes from (id prefix), the unit of cross-validation.
    pub source: String,
    /// Line in the file.
    pub line: u64,
    /// Engine.
    pub engine: Engine,
    /// Model as written (a quantized checkpoint in parentheses is kept).
    pub model: String,
    /// Precision as written.
    pub precision: String,
    /// GPU as written.
    pub gpu: String,
    /// GPUs of the measured system.
    pub gpus: u32,
    /// GPUs each layer spreads over: the tensor-parallel degree, or with attention data
    /// parallelism its ranks × their attention TP (experts over all of them).
    pub tp: u32,
    /// Attention data-parallel ranks among the `tp` GPUs (1 without attention DP).
    pub attention_dp: u32,
    /// Pipeline-parallel degree.
    pub pp: u32,
    /// Request lengths.
    pub lengths: Lengths,
    /// Squared coefficient of variation of the output lengths the benchmark drew: 0 when every
    /// request generates the same count (fixed lengths, `ignore_eos`), [`INFERENCEX_OUTPUT_CV2`]
    /// for InferenceX's random lengths. A prefill-first engine's closed loop stays in lockstep
    /// rounds only when every request of a round ends at the same step.
    pub output_cv2: f64,
    /// Load.
    pub load: Load,
    /// `max_num_seqs` when the row states it.
    pub max_num_seqs: Option<u64>,
    /// The run's recipe set an FP8 KV cache (`--kv-cache-dtype fp8`) where its checkpoint
    /// alone would not say so (InferenceX recipes, `data/perf/inferencex_recipes.csv`).
    pub kv_fp8: bool,
    /// The engine's memory fraction the run's recipe set (`--gpu-memory-utilization`), where a
    /// source states it; the engine's default otherwise.
    pub memory_fraction: Option<f64>,
    /// The engine's release as the row writes it (`0.5.8.post1`, `v0.1.0a1`); empty when not
    /// stated. The engine's defaults of that release apply (`Engine::defaults_for`).
    pub engine_version: String,
    /// Metric.
    pub metric: Metric,
    /// Statistic as written (`mean`, `p50`, `p90`, `p99`); rows that state none are skipped.
    pub stat: &'static str,
    /// Value in the metric's unit.
    pub value: f64,
    /// The prefill pool of a disaggregated row's TTFT (`None` for every other row).
    pub disaggregated: Option<PrefillPool>,
}

/// Where a disaggregated run's prompts queue: `clients` closed-loop clients share
/// `prefill_workers` prefill workers (the row's `tp`/`pp` and load are one such worker's, a
/// prompt at a time), and each client comes back for its next prompt after its decode on a
/// decode worker of `decode_tp` × `decode_pp` GPUs running `decode_batch` sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PrefillPool {
    /// Prefill workers (`prefill_num_workers`).
    pub prefill_workers: u64,
    /// Clients of the whole system (`silicon_concurrency`, else decode batch × workers × DP).
    pub clients: u64,
    /// GPUs one decode worker spreads its layers over (as `tp` of the TPOT value).
    pub decode_tp: u32,
    /// Attention data-parallel ranks of a decode worker.
    pub decode_attention_dp: u32,
    /// Pipeline stages of a decode worker.
    pub decode_pp: u32,
    /// Sequences a decode worker runs, over all its attention ranks (the TPOT value's static
    /// batch).
    pub decode_batch: u64,
}

/// Why a row is not scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The GPU is not in the catalog.
    UnknownGpu,
    /// The model is not in the catalog.
    UnknownModel,
    /// The engine is not one we model.
    UnknownEngine,
    /// Lengths vary and no mean is known for the dataset.
    VariableLengths,
    /// Prefill and decode run on separate workers.
    DisaggregatedServing,
    /// The source does not say which tokens it counts.
    AmbiguousUnit,
    /// TP/PP or instances per system are not stated.
    LayoutNotStated,
    /// The load (rate, concurrency) is not stated precisely enough.
    LoadNotStated,
    /// A metric we do not predict.
    UnknownMetric,
    /// The precision cannot be mapped to a format.
    UnknownPrecision,
    /// The source does not say which statistic (mean, median, percentile) a latency is.
    StatisticNotStated,
    /// The performance model refuses the configuration (does not fit, heads not divisible,
    /// GPU figures missing).
    Refused,
}

impl SkipReason {
    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::UnknownGpu => "unknown_gpu",
            SkipReason::UnknownModel => "unknown_model",
            SkipReason::UnknownEngine => "unknown_engine",
            SkipReason::VariableLengths => "variable_lengths",
            SkipReason::DisaggregatedServing => "disaggregated_serving",
            SkipReason::AmbiguousUnit => "ambiguous_unit",
            SkipReason::LayoutNotStated => "layout_not_stated",
            SkipReason::LoadNotStated => "load_not_stated",
            SkipReason::UnknownMetric => "unknown_metric",
            SkipReason::UnknownPrecision => "unknown_precision",
            SkipReason::StatisticNotStated => "statistic_not_stated",
            SkipReason::Refused => "refused_by_model",
        }
    }
}

/// A row that is not scored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    /// Row id.
    pub id: String,
    /// Source.
    pub source: String,
    /// GPU as written.
    pub gpu: String,
    /// Why.
    pub reason: SkipReason,
    /// Details.
    pub detail: String,
}

/// What reading a file gives.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    /// Rows to score.
    pub observations: Vec<Observation>,
    /// Rows that cannot be scored.
    pub skipped: Vec<Skipped>,
}

/// Reads a measured file in either schema (detected by its header).
pub fn read_measured(text: &str, origin: &str) -> Result<Measured, CatalogError> {
    let table = Table::parse(text, origin)?;
    let mut out = Measured::default();
    if THROUGHPUT_COLUMNS.iter().all(|c| table.has(c)) {
        table.require(&[
            "id",
            "engine",
            "gpu_count",
            "tp",
            "pp",
            "output_len",
            "concurrency_or_batch",
            "request_rate",
        ])?;
        for r in table.rows() {
            match throughput_row(&r)? {
                Ok(o) => out.observations.push(o),
                Err(s) => out.skipped.push(s),
            }
        }
    } else if AIC_COLUMNS.iter().all(|c| table.has(c)) {
        table.require(&[
            "id",
            "backend",
            "mode",
            "osl",
            "batch_size",
            "tp_size",
            "pp_size",
        ])?;
        for r in table.rows() {
            aic_row(&r, &mut out)?;
        }
    } else {
        return Err(CatalogError::Invalid {
            origin: origin.to_owned(),
            line: Some(1),
            field: Some("header".to_owned()),
            message: format!(
                "not a measured-performance file: expected the columns of llm_throughput.csv ({}) or aic_silicon_sample.csv ({})",
                THROUGHPUT_COLUMNS.join(","),
                AIC_COLUMNS.join(",")
            ),
        });
    }
    Ok(out)
}

fn skip(
    id: &str,
    source: &str,
    gpu: &str,
    reason: SkipReason,
    detail: impl Into<String>,
) -> Skipped {
    Skipped {
        id: id.to_owned(),
        source: source.to_owned(),
        gpu: gpu.to_owned(),
        reason,
        detail: detail.into(),
    }
}

/// Leading integer of texts like `80 (sonnet, prefix 50)` or `~20000 (+-15%)`.
fn leading_int(s: &str) -> Option<u64> {
    let t = s.trim().trim_start_matches('~');
    let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The number after `key` in `text` (`generated tokens 472` → 472).
fn number_after(text: &str, key: &str) -> Option<f64> {
    let at = text.find(key)? + key.len();
    let rest = text[at..].trim_start_matches([' ', '=', ':']);
    let num: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    num.parse().ok()
}

fn dataset_key(text: &str, engine: Engine) -> Option<&'static str> {
    let l = text.to_ascii_lowercase();
    if l.contains("sharegpt") {
        Some(match engine {
            Engine::Lmdeploy => "sharegpt-lmdeploy",
            Engine::Tgi => "sharegpt-prompt-tgi",
            _ => "sharegpt-vllm-bench",
        })
    } else if l.contains("openorca") {
        Some("openorca-mlperf-llama2-70b")
    } else if l.contains("cnn") {
        Some("cnndm-mlperf-gptj")
    } else {
        None
    }
}

fn throughput_row(r: &Row<'_>) -> Result<Result<Observation, Skipped>, CatalogError> {
    let id = r.req("id")?;
    let source = id.rsplit_once('-').map_or(id, |(p, _)| p);
    let gpu = r.req("gpu")?;
    let s = |reason, detail: String| Ok(Err(skip(id, source, gpu, reason, detail)));
    let engine_text = r.get("engine").unwrap_or_default();
    let Some(engine) = Engine::from_text(engine_text) else {
        return s(SkipReason::UnknownEngine, format!("engine `{engine_text}`"));
    };
    let unit = r.get("unit").unwrap_or_default();
    let metric_text = r.req("metric")?;
    let value = r.req_f64("value")?;
    let gpus = r.u64("gpu_count")?.unwrap_or(1).max(1) as u32;
    let (metric, stat, value) = match metric_text {
        "output_tok_s" => (Metric::OutputTokS, "mean", value),
        "total_tok_s" => (Metric::TotalTokS, "mean", value),
        "tok_s_per_gpu" => (Metric::OutputTokS, "mean", value * f64::from(gpus)),
        "requests_s" => (Metric::RequestsS, "mean", value),
        "tok_s_unspecified" => {
            return s(
                SkipReason::AmbiguousUnit,
                format!("`{metric_text}` ({unit})"),
            );
        }
        m => {
            let family = if m.starts_with("ttft") {
                Metric::TtftMs
            } else if m.starts_with("tpot") {
                Metric::TpotMs
            } else if m.starts_with("itl") {
                Metric::ItlMs
            } else if m.starts_with("e2e") {
                Metric::E2eMs
            } else {
                return s(SkipReason::UnknownMetric, format!("metric `{m}`"));
            };
            let scale = if m.contains("_s_") || unit == "s" {
                1e3
            } else {
                1.0
            };
            // A latency is predicted as the statistic it states; one that states none is not
            // compared with a mean (a median or a percentile may be meant).
            let Some(stat) = ["mean", "p50", "p90", "p99"]
                .into_iter()
                .find(|st| m.ends_with(st))
            else {
                return s(
                    SkipReason::StatisticNotStated,
                    format!("`{m}` does not say mean, median or percentile"),
                );
            };
            (family, stat, value * scale)
        }
    };
    let (tp, pp) = match (r.u64("tp")?, r.u64("pp")?) {
        (Some(tp), pp) => (tp.max(1) as u32, pp.unwrap_or(1).max(1) as u32),
        // A one-GPU system (MLPerf `..._x1` systems) has one layout.
        (None, _) if gpus == 1 => (1, 1),
        (None, _) => {
            return s(
                SkipReason::LayoutNotStated,
                "TP/PP not stated (MLPerf system result)".to_owned(),
            );
        }
    };
    let notes = r.get("notes").unwrap_or_default();
    let input_text = r.get("input_len").unwrap_or_default();
    let output_text = r.get("output_len").unwrap_or_default();
    let batch_text = r.get("concurrency_or_batch").unwrap_or_default();
    let concurrency = leading_int(batch_text);
    let (input, mut output) = (leading_int(input_text), leading_int(output_text));
    // dstack bursts: the mean generated length is in the notes' file totals.
    if output.is_none() && output_text.contains("sonnet") {
        if let (Some(total), Some(n)) = (
            number_after(notes, "generated tokens"),
            number_after(notes, "num_prompts"),
        ) {
            output = Some((total / n.max(1.0)).round().max(1.0) as u64);
        }
    }
    let lengths = match (input, output) {
        (Some(i), Some(o)) => Lengths::Fixed {
            input: i,
            output: o,
        },
        _ => match dataset_key(&format!("{input_text} {output_text}"), engine) {
            Some(name) => Lengths::Dataset {
                name: name.to_owned(),
                input,
                output,
            },
            None => {
                return s(
                    SkipReason::VariableLengths,
                    format!("input `{input_text}`, output `{output_text}`"),
                );
            }
        },
    };
    let rate = r.get("request_rate").unwrap_or_default();
    let rate_l = rate.to_ascii_lowercase();
    let static_engine = matches!(engine, Engine::Trtllm | Engine::Lmdeploy | Engine::Neuron);
    let mut max_num_seqs = None;
    let load = if rate_l.starts_with("inf") {
        if batch_text.starts_with("max_num_seqs") {
            max_num_seqs = number_after(batch_text, "max_num_seqs").map(|v| v as u64);
            Load::Saturated
        } else if let Some(n) = concurrency {
            Load::Burst { requests: n }
        } else {
            Load::Saturated
        }
    } else if rate_l.contains("static") || rate_l.contains("single request") {
        let batch = concurrency.unwrap_or(1);
        if static_engine {
            Load::Static { batch }
        } else {
            Load::Burst { requests: batch }
        }
    } else if rate_l.starts_with("closed-loop") {
        match concurrency {
            Some(c) => Load::Closed { concurrency: c },
            None => {
                return s(
                    SkipReason::LoadNotStated,
                    format!("`{rate}` without concurrency"),
                )
            }
        }
    } else if let Some(rps) = rate
        .split_whitespace()
        .next()
        .and_then(|t| t.parse::<f64>().ok())
    {
        Load::Poisson { rate_rps: rps }
    } else {
        return s(SkipReason::LoadNotStated, format!("request rate `{rate}`"));
    };
    // Latency under saturation is queueing, not service time.
    if matches!(load, Load::Saturated) && metric.family() != Family::Throughput {
        return s(
            SkipReason::LoadNotStated,
            format!("{metric_text} of a saturated run is queueing"),
        );
    }
    Ok(Ok(Observation {
        id: id.to_owned(),
        source: source.to_owned(),
        line: r.line(),
        engine,
        model: r.req("model")?.to_owned(),
        precision: r.get("precision").unwrap_or_default().to_owned(),
        gpu: gpu.to_owned(),
        gpus,
        tp,
        attention_dp: trtllm_moe_attention_dp(engine, tp, notes),
        pp,
        lengths,
        // Not stated by these sources: counted as fixed (no prefill-first closed loop among
        // them is scored on its TTFT).
        output_cv2: 0.0,
        load,
        max_num_seqs,
        kv_fp8: false,
        memory_fraction: None,
        engine_version: r.get("engine_version").unwrap_or_default().to_owned(),
        metric,
        stat,
        value,
        disaggregated: None,
    }))
}

/// Attention data-parallel ranks of a TensorRT-LLM `trtllm-bench` row whose notes say the
/// documentation ran MoE models with attention DP. The v1.0 revision of TensorRT-LLM's
/// `docs/source/performance/perf-overview.md` (NVIDIA/TensorRT-LLM @00f37686aa85, the
/// `trtllm-v1.0` rows) gives MoE models their own command, `trtllm-bench --tp $tp_size --pp
/// $pp_size --ep $ep_size ...`, with `enable_attention_dp: true` in its `llm_options.yml`
/// (dense models: no such option); the v0.20 revision runs every model with one file without
/// it. With attention DP each of the `tp` GPUs of a pipeline stage is an attention rank of its
/// own (own sequences, own KV cache, no all-reduce after attention), the experts spread over
/// all of them. A one-GPU row has no ranks to split.
fn trtllm_moe_attention_dp(engine: Engine, tp: u32, notes: &str) -> u32 {
    if engine == Engine::Trtllm && tp > 1 && notes.contains("attention-DP options for MoE runs") {
        tp
    } else {
        1
    }
}

/// Share of the nominal length InferenceX's random prompts and outputs have on average: its
/// client draws each length uniformly from `[int(L × 0.8), L]` (`--random-range-ratio 0.8`,
/// `sample_uniform` in SemiAnalysisAI/InferenceX `utils/bench_serving/benchmark_serving.py`
/// @086eabbe; `RANDOM_RANGE_RATIO` 0.8 in its benchmark configuration).
pub const INFERENCEX_MEAN_LENGTH: f64 = 0.9;

/// Squared coefficient of variation of InferenceX's random lengths: uniform on `[0.8 L, L]`,
/// standard deviation `0.2 L / √12` about the mean `0.9 L`, so `0.2² / 12 / 0.9²`.
pub const INFERENCEX_OUTPUT_CV2: f64 =
    0.04 / 12.0 / (INFERENCEX_MEAN_LENGTH * INFERENCEX_MEAN_LENGTH);

/// The mean lengths of an AIConfigurator silicon row: InferenceX runs (the sample's
/// `workflow_run_id=` rows and its dated `source_file=20..` exports, at InferenceX's
/// 1024/1024, 1024/8192 and 8192/1024) ran random lengths of mean 0.9 × the nominal; other
/// rows ran the stated lengths; with the output lengths' squared coefficient of variation.
fn inferencex_mean_lengths(source: Option<&str>, isl: u64, osl: u64) -> (u64, u64, f64) {
    let inferencex = is_inferencex(source);
    let nominal = matches!((isl, osl), (1024, 1024) | (1024, 8192) | (8192, 1024));
    if inferencex && nominal {
        let mean = |l: u64| ((l as f64) * INFERENCEX_MEAN_LENGTH).round() as u64;
        (mean(isl), mean(osl), INFERENCEX_OUTPUT_CV2)
    } else {
        (isl, osl, 0.0)
    }
}

/// Whether an AIConfigurator row is an InferenceX run: the sample's `workflow_run_id=` rows
/// and its dated `source_file=20..` exports.
fn is_inferencex(source: Option<&str>) -> bool {
    let source = source.unwrap_or_default();
    source.contains("workflow_run_id=") || source.starts_with("source_file=20")
}

const INFERENCEX_RECIPES_CSV: &str = include_str!("../../../data/perf/inferencex_recipes.csv");

/// What an InferenceX recipe set beyond the engine's defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Recipe {
    kv_fp8: bool,
    memory_fraction: Option<f64>,
}

/// The container image an AIConfigurator row names in `silicon_data_source`
/// (`image=vllm/vllm-openai:v0.18.0` or, in the database dumps, a bare
/// `vllm/vllm-openai:v0.19.0-cu130` field); empty when it names none.
fn stated_image(source: &str) -> &str {
    source
        .split(';')
        .map(str::trim)
        .find_map(|f| {
            f.strip_prefix("image=")
                .or_else(|| (!f.contains('=') && f.contains('/') && f.contains(':')).then_some(f))
        })
        .unwrap_or("")
}

/// The InferenceX recipe that ran a row, from `data/perf/inferencex_recipes.csv`: the
/// benchmark script of the row's engine, model, GPU and precision at the revision that used the
/// row's container image (rows without an image: the only revision of their recipe). Other
/// rows keep the engine's defaults.
fn inferencex_recipe(r: &Row<'_>) -> Recipe {
    static TABLE: std::sync::OnceLock<Option<Table>> = std::sync::OnceLock::new();
    let source = r.get("silicon_data_source");
    if !is_inferencex(source) {
        return Recipe::default();
    }
    let table = TABLE.get_or_init(|| {
        Table::parse(INFERENCEX_RECIPES_CSV, "data/perf/inferencex_recipes.csv").ok()
    });
    let Some(table) = table else {
        return Recipe::default();
    };
    let image = stated_image(source.unwrap_or_default());
    let field = |name: &str| r.get(name).unwrap_or_default();
    table
        .rows()
        .find(|t| {
            ["backend", "model_path", "system", "precision"]
                .iter()
                .all(|c| t.get(c).unwrap_or_default() == field(c))
                && t.get("image").unwrap_or_default() == image
        })
        .map(|t| Recipe {
            kv_fp8: t.get("kv_cache_dtype") == Some("fp8"),
            memory_fraction: t
                .f64("gpu_memory_utilization")
                .ok()
                .flatten()
                .filter(|f| *f > 0.0 && *f <= 1.0),
        })
        .unwrap_or_default()
}

fn aic_row(r: &Row<'_>, out: &mut Measured) -> Result<(), CatalogError> {
    let id = r.req("id")?;
    let backend = r.req("backend")?;
    let source = format!("aic-{backend}");
    let gpu = r.req("system")?;
    let skipped = |reason, detail: String| {
        [
            skip(&format!("{id}_ttft"), &source, gpu, reason, detail.clone()),
            skip(&format!("{id}_tpot"), &source, gpu, reason, detail),
        ]
    };
    let Some(engine) = Engine::from_text(backend) else {
        out.skipped.extend(skipped(
            SkipReason::UnknownEngine,
            format!("backend `{backend}`"),
        ));
        return Ok(());
    };
    let (Some(isl), Some(osl)) = (r.u64("isl")?, r.u64("osl")?) else {
        out.skipped.extend(skipped(
            SkipReason::LoadNotStated,
            "isl or osl missing".to_owned(),
        ));
        return Ok(());
    };
    let disaggregated = r.get("mode") == Some("disagg");
    // InferenceX ran GB200 (NVL72) only as Dynamo disaggregated deployments: its launcher
    // (SemiAnalysisAI/InferenceX `runners/launch_gb200-nv.sh` @0ba7aa3f, the revision of the
    // sample's 2025-11-17 GB200 runs) calls `submit_disagg.sh` with context workers of one
    // 4-GPU node each and one generation worker (TRT-LLM: attention DP over its TP; SGLang:
    // 6+12 or 12+6 nodes), and the rows exported as `agg` carry their GPU total as `tp_size`
    // (TRT-LLM 8192/1024 `dep` 4 ctx + TP32 gen = 48 GPUs at 256/538 clients, 5 + TP8 = 28 at
    // 2150; SGLang 18 nodes = 72). Scored as aggregated TP over all GPUs they are not what ran.
    if !disaggregated
        && is_inferencex(r.get("silicon_data_source"))
        && matches!(gpu, "gb200" | "gb300")
    {
        out.skipped.extend(skipped(
            SkipReason::DisaggregatedServing,
            format!(
                "InferenceX ran {gpu} only disaggregated (launch_gb200-nv.sh: context workers + \
                 one generation worker); `tp_size` {} is their GPU total, worker counts and \
                 batches not stated",
                r.get("tp_size").unwrap_or("?")
            ),
        ));
        return Ok(());
    }
    // From 2025-11-21 (d22bf9ca) to 2025-12-08 (4e135fd3, "fix h100 docker error") InferenceX's
    // H100 launcher (`benchmarks/gptoss_fp4_h100_docker.sh`, the only script with it) passed the
    // client a fixed `--max-concurrency 512` while the server kept the sweep's
    // `--max-num-seqs $CONC` (4 to 64) and `--num-prompts $CONC × 10`: a row at 512 clients of
    // that window ran a burst of an unstated size into a server holding an unstated number of
    // sequences (its TPOT matches the same layout's 8- to 64-client rows).
    let measured = r
        .get("silicon_data_source")
        .and_then(|s| s.split("measured=").nth(1))
        .map(|d| d.get(..10).unwrap_or(d))
        .unwrap_or("");
    if is_inferencex(r.get("silicon_data_source"))
        && gpu == "h100_sxm"
        && r.u64("batch_size")? == Some(512)
        && ("2025-11-21"..="2025-12-08").contains(&measured)
    {
        out.skipped.extend(skipped(
            SkipReason::LoadNotStated,
            "InferenceX's H100 script of 2025-11-21..12-08 capped the client at 512 and the \
             server at the sweep's unstated concurrency (`--max-num-seqs $CONC`)"
                .to_owned(),
        ));
        return Ok(());
    }
    let recipe = inferencex_recipe(r);
    let (mean_input, mean_output, output_cv2) =
        inferencex_mean_lengths(r.get("silicon_data_source"), isl, osl);
    // Aggregated: one layout serves both phases to `batch_size` clients per attention rank.
    // Disaggregated: the prompt runs on a prefill worker (`prefill_batch_size` prompts at
    // once), the decode on a decode worker (its share of the clients, at most
    // `decode_batch_size` per attention rank). A `batch_size` is per attention-DP rank: the
    // row's clients (`silicon_concurrency`) are `batch_size × attention_dp_size` on 168 of the
    // 169 aggregated attention-DP rows and `decode_batch_size × decode_num_workers ×
    // decode_attention_dp_size` on 105 of the 106 disaggregated ones.
    let phase = |prefix: &str,
                 metric: Metric|
     -> Result<Option<(u32, u32, u32, Load)>, CatalogError> {
        let col = |name: &str| format!("{prefix}{name}");
        let (Some(tp), Some(batch)) = (r.u64(&col("tp_size"))?, r.u64(&col("batch_size"))?) else {
            return Ok(None);
        };
        let pp = r.u64(&col("pp_size"))?.unwrap_or(1).max(1);
        let (mut tp, mut dp) = (
            tp.max(1),
            r.u64(&col("attention_dp_size"))?.unwrap_or(1).max(1),
        );
        let moe_tp = r.u64(&col("moe_tp_size"))?.unwrap_or(1).max(1);
        let moe_ep = r.u64(&col("moe_ep_size"))?.unwrap_or(1).max(1);
        // Sequences of the whole worker: `batch` per attention rank as exported.
        let batch = batch.max(1) * dp;
        let mut moe = moe_tp * moe_ep;
        // InferenceX states a layout as `tp`, `ep` and `dp-attn` over the same GPUs (its
        // benchmark configuration's search space: `{ tp, ep, dp-attn, conc-start, conc-end }`;
        // ep ≤ tp). The sample's export of those runs writes `moe_tp = tp`, `moe_ep = ep`
        // and then `tp_size × attention_dp_size = moe_tp × moe_ep`: an 8-GPU `tp8_ep8` run
        // (its id) on one H200 node reads `tp_size 64`. Such a row ran on `moe_ep` GPUs: TP
        // (or attention DP) `moe_tp`, the experts over the same GPUs.
        if is_inferencex(r.get("silicon_data_source"))
            && moe_tp == moe_ep
            && moe_tp > 1
            && tp * dp == moe
        {
            if dp > 1 {
                dp /= moe_tp;
            } else {
                tp /= moe_tp;
            }
            moe = moe_ep;
        }
        // The layers spread over max(tp × dp, moe_tp × moe_ep) GPUs: `dp` attention ranks
        // of `tp` GPUs each (their own sequences and KV cache), the experts over all of them.
        let gpus = (tp * dp).max(moe);
        let dp = if gpus.is_multiple_of(dp) { dp } else { 1 };
        let load = if !disaggregated {
            Load::Closed { concurrency: batch }
        } else if metric == Metric::TtftMs {
            Load::Static { batch }
        } else {
            let workers = r.u64("decode_num_workers")?.unwrap_or(1).max(1);
            let clients = r.u64("batch_size")?.map_or(batch, |c| c.div_ceil(workers));
            Load::Static {
                batch: clients.clamp(1, batch),
            }
        };
        Ok(Some((gpus as u32, dp as u32, pp as u32, load)))
    };
    let precision = [r.get("precision"), r.get("gemm_quant_mode")]
        .into_iter()
        .flatten()
        .find(|s| !s.is_empty())
        .unwrap_or("")
        .to_owned();
    // A disaggregated TTFT waits in the prefill pool: every client's next prompt arrives
    // when its decode ends, and `prefill_num_workers` workers serve them.
    let pool = if disaggregated {
        let decode = phase("decode_", Metric::TpotMs)?;
        let workers = r.u64("prefill_num_workers")?;
        let decode_workers = r.u64("decode_num_workers")?.unwrap_or(1).max(1);
        let stated_clients = r
            .get("silicon_data_source")
            .and_then(|s| number_after(s, "silicon_concurrency"))
            .map(|c| c as u64);
        match (decode, workers, r.u64("decode_batch_size")?) {
            (Some((decode_tp, decode_dp, decode_pp, Load::Static { batch })), Some(w), Some(_)) => {
                Some(PrefillPool {
                    prefill_workers: w.max(1),
                    clients: stated_clients.unwrap_or(batch * decode_workers).max(1),
                    decode_tp,
                    decode_attention_dp: decode_dp,
                    decode_pp,
                    decode_batch: batch,
                })
            }
            _ => None,
        }
    } else {
        None
    };
    for (suffix, metric, column, prefix) in [
        ("ttft", Metric::TtftMs, "silicon_ttft_ms", "prefill_"),
        ("tpot", Metric::TpotMs, "silicon_tpot_ms", "decode_"),
    ] {
        let Some(value) = r.f64(column)? else {
            continue;
        };
        let layout = phase(if disaggregated { prefix } else { "" }, metric)?;
        let Some((tp, attention_dp, pp, load)) = layout else {
            let (reason, detail) = if disaggregated {
                (
                    SkipReason::DisaggregatedServing,
                    disaggregated_gap(r, prefix)?,
                )
            } else {
                (
                    SkipReason::LoadNotStated,
                    "tp_size or batch_size missing".to_owned(),
                )
            };
            out.skipped.push(skip(
                &format!("{id}_{suffix}"),
                &source,
                gpu,
                reason,
                detail,
            ));
            continue;
        };
        out.observations.push(Observation {
            id: format!("{id}_{suffix}"),
            source: source.clone(),
            line: r.line(),
            engine,
            model: r.req("model_path")?.to_owned(),
            precision: precision.clone(),
            gpu: gpu.to_owned(),
            gpus: tp * pp,
            tp,
            attention_dp,
            pp,
            lengths: Lengths::Fixed {
                input: mean_input,
                output: mean_output,
            },
            output_cv2,
            load,
            max_num_seqs: None,
            kv_fp8: recipe.kv_fp8,
            memory_fraction: recipe.memory_fraction,
            engine_version: r.get("backend_version").unwrap_or_default().to_owned(),
            metric,
            stat: "mean",
            value,
            disaggregated: if metric == Metric::TtftMs { pool } else { None },
        });
    }
    Ok(())
}

/// What a disaggregated row leaves out, precisely: the worker counts and batch sizes that are
/// empty, with the layout and clients it does state. AIConfigurator's own predictor refuses
/// the same rows (`REQUIRED_DISAGG_FIELDS = prefill_batch_size, prefill_num_workers,
/// decode_batch_size, decode_num_workers` in ai-dynamo/aiconfigurator
/// `tools/accuracy_regression_testing/predict_silicon_sample.py` @095f58a5): with `C` clients
/// over an unknown number of decode workers neither the decode batch (`C / workers`) nor the
/// prefill queue is determined.
fn disaggregated_gap(r: &Row<'_>, prefix: &str) -> Result<String, CatalogError> {
    let mut missing: Vec<String> = Vec::new();
    for col in [
        "prefill_num_workers".to_owned(),
        "prefill_batch_size".to_owned(),
        "decode_num_workers".to_owned(),
        "decode_batch_size".to_owned(),
        format!("{prefix}tp_size"),
    ] {
        if r.get(&col).is_none() && !missing.contains(&col) {
            missing.push(col);
        }
    }
    let stated = |p: &str| -> Result<String, CatalogError> {
        let v = |c: &str| r.u64(&format!("{p}{c}"));
        Ok(match (v("tp_size")?, v("moe_ep_size")?) {
            (Some(tp), Some(ep)) => format!("TP {tp} EP {ep}"),
            (Some(tp), None) => format!("TP {tp}"),
            _ => "layout empty".to_owned(),
        })
    };
    let clients = r
        .get("silicon_data_source")
        .and_then(|s| number_after(s, "silicon_concurrency"))
        .map_or_else(
            || "clients not stated".to_owned(),
            |c| format!("{c} clients"),
        );
    Ok(format!(
        "disaggregated, {} empty (prefill {}, decode {}, {clients}): decode batch and prefill queue undetermined",
        missing.join(", "),
        stated("prefill_")?,
        stated("decode_")?,
    ))
}
