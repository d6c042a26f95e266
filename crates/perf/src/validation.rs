//! Scores `estimate` against measured performance rows: maps each row to a deployment and a
//! workload, predicts its metric, and reports absolute percentage errors by metric family,
//! GPU, engine and source, with every row it cannot map counted under a reason.

use crate::efficiency::{EfficiencyTable, Key};
use crate::engine::{Engine, Setup};
use crate::estimate::{Deployment, Load, Replica, Workload};
use crate::measured::{Lengths, Measured, Metric, Observation, PrefillPool, SkipReason, Skipped};
use crate::memory::Placement;
use crate::params::MemoryParams;
use crate::step::Efficiency;
use inferplan_catalog::names::split_quantized;
use inferplan_catalog::stats::quantile_sorted;
use inferplan_catalog::table::Table;
use inferplan_catalog::{Arch, Catalog, Dtype, Interconnect, ModelSpec, Support};
use serde::Serialize;
use std::collections::BTreeMap;

const DATASET_LENGTHS_CSV: &str = include_str!("../../../data/perf/dataset_lengths.csv");

/// A measured row ready to predict.
#[derive(Debug, Clone)]
pub struct Case {
    /// The row.
    pub obs: Observation,
    /// Catalog model.
    pub model: String,
    /// Catalog GPU.
    pub gpu: String,
    /// GPU generation.
    pub arch: Arch,
    /// Weight format assumed.
    pub weights: Dtype,
    /// KV format assumed.
    pub kv: Dtype,
    /// Replicas in the measured system (GPUs / (TP × PP)).
    pub replicas: f64,
    /// The workload of one replica.
    pub workload: Workload,
    replica: Replica,
    /// A disaggregated TTFT's decode worker and the pool it feeds (see [`PrefillPool`]).
    decode: Option<(Replica, PrefillPool)>,
}

impl Case {
    /// The prepared replica of the measured deployment.
    pub fn replica(&self) -> &Replica {
        &self.replica
    }

    /// The same row predicted by the roofline, whether or not its GPU has kernel curves.
    pub fn on_roofline(&self) -> Case {
        Case {
            replica: self.replica.on_roofline(),
            ..self.clone()
        }
    }

    /// The parameter keys for this row, in the order a lookup tries them.
    pub fn keys(&self) -> impl Iterator<Item = Key> {
        Key::fallbacks(self.arch, self.obs.engine, self.weights)
    }

    /// Predicted value of the row's metric with efficiencies `e`, as the statistic the row
    /// states: a mean, or a quantile of the predicted distribution (TTFT from the prompt wait
    /// and the spread of prompts that arrive together, TPOT from the mix of light and heavy
    /// iterations a request meets, an inter-token gap from single iterations). Throughputs
    /// are means.
    pub fn predict(&self, e: &Efficiency) -> f64 {
        if let Some((decode, pool)) = &self.decode {
            return self.prefill_pool_ttft_ms(decode, pool, e);
        }
        // The output lengths' spread decides whether a prefill-first engine's closed loop
        // stays in lockstep rounds (`Replica::run_spread`).
        let est = self
            .replica
            .run_spread(&self.workload, e, self.obs.output_cv2);
        let output = self.workload.output_tokens;
        // Closed loops and Poisson arrivals are both scored with Poisson-like variability.
        let cv = 1.0;
        let q = match self.obs.stat {
            "p50" => Some(0.5),
            "p90" => Some(0.9),
            "p99" => Some(0.99),
            _ => None,
        };
        match (self.obs.metric, q) {
            (Metric::OutputTokS, _) => est.output_tok_s * self.replicas,
            (Metric::TotalTokS, _) => est.total_tok_s * self.replicas,
            (Metric::RequestsS, _) => est.requests_s * self.replicas,
            (Metric::TtftMs, None) => est.ttft_ms,
            (Metric::TtftMs, Some(q)) => est.ttft_quantile_ms(q, cv, 0.0),
            (Metric::TpotMs | Metric::ItlMs, None) => est.tpot_ms,
            (Metric::TpotMs, Some(q)) => est.tpot_quantile_ms(q, output),
            (Metric::ItlMs, Some(q)) => est.itl_quantile_ms(q),
            (Metric::E2eMs, None) => est.e2e_ms,
            (Metric::E2eMs, Some(q)) => est.e2e_quantile_ms(q, cv, output),
        }
    }
}

impl Case {
    /// Mean TTFT of a disaggregated run: each prefill worker is a queue that a closed loop of
    /// `clients / prefill_workers` clients feeds, each coming back one decode later
    /// (`(output - 1) × TPOT` of its decode worker, at that worker's batch). The arrivals are
    /// taken as Poisson at the loop's rate, `n / (TTFT + decode)`, solved for TTFT by fixed
    /// point (the rate falls as TTFT grows); when the worker cannot keep up the loop
    /// saturates it, and a prompt waits for the `n` prompts ahead of it less the decode.
    fn prefill_pool_ttft_ms(&self, decode: &Replica, pool: &PrefillPool, e: &Efficiency) -> f64 {
        let (input, output) = (self.workload.input_tokens, self.workload.output_tokens);
        let tpot_s = decode
            .run(
                &Workload {
                    input_tokens: input,
                    output_tokens: output,
                    load: Load::Static {
                        batch: pool.decode_batch,
                    },
                },
                e,
            )
            .tpot_ms
            / 1e3;
        let away_s = output.saturating_sub(1) as f64 * tpot_s;
        let n = pool.clients as f64 / pool.prefill_workers.max(1) as f64;
        let prompt = |rate_rps: f64| {
            self.replica.run(
                &Workload {
                    input_tokens: input,
                    output_tokens: 1,
                    load: Load::Poisson { rate_rps },
                },
                e,
            )
        };
        let full = self.replica.run(
            &Workload {
                input_tokens: input,
                output_tokens: 1,
                load: Load::Saturated,
            },
            e,
        );
        let saturated_s = n / full.requests_s.max(1e-9) - away_s;
        let mut ttft_s = prompt(1e-9).ttft_ms / 1e3;
        // The damped iteration converges in a few steps on light pools; eight bound the cost
        // (calibration predicts every row many times).
        for _ in 0..8 {
            let est = prompt(n / (ttft_s + away_s).max(1e-9));
            let next = if est.overloaded {
                saturated_s.max(ttft_s)
            } else {
                est.ttft_ms / 1e3
            };
            if (next - ttft_s).abs() <= 1e-3 * ttft_s.max(1e-3) {
                ttft_s = next;
                break;
            }
            ttft_s = 0.5 * (ttft_s + next);
        }
        ttft_s * 1e3
    }
}

/// Mean request lengths of benchmark datasets (`data/perf/dataset_lengths.csv`).
fn dataset_lengths() -> BTreeMap<String, (Option<f64>, Option<f64>)> {
    let mut out = BTreeMap::new();
    if let Ok(t) = Table::parse(DATASET_LENGTHS_CSV, "data/perf/dataset_lengths.csv") {
        for r in t.rows() {
            if let Some(name) = r.get("dataset") {
                let i = r.f64("mean_input_tokens").ok().flatten();
                let o = r.f64("mean_output_tokens").ok().flatten();
                out.insert(name.to_owned(), (i, o));
            }
        }
    }
    out
}

/// Splits `Llama-2-70B (TheBloke/Llama-2-70B-GPTQ)` into the model and the checkpoint.
fn model_and_checkpoint(s: &str) -> (&str, Option<&str>) {
    match s.split_once(" (") {
        Some((base, rest)) => (base.trim(), Some(rest.trim_end_matches(')').trim())),
        None => (s.trim(), None),
    }
}

fn resolve_model<'c>(catalog: &'c Catalog, text: &str) -> Option<(&'c ModelSpec, Option<Dtype>)> {
    let (base, checkpoint) = model_and_checkpoint(text);
    let from_checkpoint = checkpoint.and_then(|c| {
        let (_, q) = split_quantized(c);
        let lower = c.to_ascii_lowercase();
        q.or(lower.contains("fp8").then_some(Dtype::Fp8))
    });
    let (stripped, q) = split_quantized(base);
    let model = catalog
        .model(&stripped)
        .or_else(|_| catalog.model(base))
        .ok()?;
    Some((model, q.or(from_checkpoint)))
}

/// Weight and KV formats a row ran in.
fn formats(
    obs: &Observation,
    m: &ModelSpec,
    quant: Option<Dtype>,
    gpu_fp8: bool,
) -> Option<(Dtype, Dtype)> {
    let p = obs.precision.to_ascii_lowercase();
    let stated = if p.is_empty() || p.starts_with("not stated") {
        None
    } else if p.starts_with("bf16 weights") {
        Some(Dtype::Bf16)
    } else if p.contains("gptq") || p.starts_with("int4") {
        Some(Dtype::Int4)
    } else if p.contains("fp4") {
        Some(Dtype::Fp4)
    } else if p.contains("fp8") {
        Some(Dtype::Fp8)
    } else if p.starts_with("fp16") {
        Some(Dtype::Fp16)
    } else if p.starts_with("bf16") {
        Some(Dtype::Bf16)
    } else if p.starts_with("int8") {
        Some(Dtype::Int8)
    } else {
        return None;
    };
    let weights = match (stated.or(quant), m.native_weights) {
        // An FP4 row of a model published in MXFP4 (gpt-oss) serves that checkpoint: MXFP4
        // experts, 16-bit attention. AIConfigurator's rows label it `nvfp4` on every GPU,
        // Hopper included, where NVFP4 does not run.
        (Some(Dtype::Fp4), Some(Dtype::Mxfp4)) => Dtype::Mxfp4,
        (given, native) => given.or(native).unwrap_or(Dtype::Bf16),
    };
    let small = weights.bytes() <= 1.0;
    // An FP4 row of a model not published in FP4 serves a ModelOpt NVFP4 checkpoint, whose
    // `hf_quant_config.json` states `kv_cache_quant_algo: FP8`; vLLM's `--kv-cache-dtype auto`
    // takes it from there since vllm-project/vllm#29980 (merged 2025-12, vLLM 0.13). A model
    // published in MXFP4 (gpt-oss) states no KV format: its cache stays 16 bit.
    let nvfp4_checkpoint =
        weights == Dtype::Fp4 && !matches!(m.native_weights, Some(Dtype::Mxfp4 | Dtype::Fp4));
    let kv = if obs.kv_fp8
        || p.contains("kv cache fp8")
        || p.contains("weights+kv")
        || obs.model.to_ascii_lowercase().contains("fp8-kv")
        || (small && gpu_fp8 && matches!(obs.engine, Engine::Trtllm | Engine::Sglang))
        || (nvfp4_checkpoint && gpu_fp8 && obs.engine == Engine::Vllm)
    {
        Dtype::Fp8
    } else if weights == Dtype::Fp16 {
        Dtype::Fp16
    } else {
        Dtype::Bf16
    };
    Some((weights, kv))
}

/// Maps measured rows to cases; rows that cannot be mapped join `skipped`.
pub fn prepare(
    measured: Measured,
    catalog: &Catalog,
    params: &MemoryParams,
) -> (Vec<Case>, Vec<Skipped>) {
    let lengths = dataset_lengths();
    let mut skipped = measured.skipped;
    let mut cases = Vec::new();
    for obs in measured.observations {
        let skip = |reason, detail: String| Skipped {
            id: obs.id.clone(),
            source: obs.source.clone(),
            gpu: obs.gpu.clone(),
            reason,
            detail,
        };
        let gpu = match catalog.gpu(&obs.gpu.replace('_', " ")) {
            Ok(g) => g,
            Err(e) => {
                skipped.push(skip(SkipReason::UnknownGpu, e.to_string()));
                continue;
            }
        };
        let Some((model, quant)) = resolve_model(catalog, &obs.model) else {
            skipped.push(skip(
                SkipReason::UnknownModel,
                format!("model `{}`", obs.model),
            ));
            continue;
        };
        let gpu_fp8 = gpu.support(Dtype::Fp8) == Support::Native;
        let Some((weights, kv)) = formats(&obs, model, quant, gpu_fp8) else {
            skipped.push(skip(
                SkipReason::UnknownPrecision,
                format!("precision `{}`", obs.precision),
            ));
            continue;
        };
        let (input, output) = match &obs.lengths {
            Lengths::Fixed { input, output } => (*input, *output),
            Lengths::Dataset {
                name,
                input,
                output,
            } => {
                let (mi, mo) = lengths.get(name).copied().unwrap_or((None, None));
                match (
                    input.or(mi.map(|v| v.round() as u64)),
                    output.or(mo.map(|v| v.round() as u64)),
                ) {
                    (Some(i), Some(o)) => (i, o),
                    _ => {
                        skipped.push(skip(
                            SkipReason::VariableLengths,
                            format!("no mean lengths for dataset `{name}`"),
                        ));
                        continue;
                    }
                }
            }
        };
        let Some(mem) = gpu.memory_gib() else {
            skipped.push(skip(
                SkipReason::Refused,
                format!("memory of {} not published", gpu.name),
            ));
            continue;
        };
        let per_replica = obs.tp * obs.pp;
        let replicas = (obs.gpus / per_replica.max(1)).max(1);
        let defaults = obs.engine.defaults_for(&Setup {
            version: Some(&obs.engine_version),
            gpu_name: Some(&gpu.name),
            gpu_mem_gib: mem,
            arch: gpu.arch,
            tp: obs.tp,
            pp: obs.pp,
        });
        let mut limits = defaults.limits;
        if let Some(n) = obs.max_num_seqs {
            limits.max_num_seqs = n;
        } else if gpu.arch == Arch::Neuron {
            // The batch a Neuron row's graphs were compiled for: its static batch or its
            // clients (`data/measured/README.md`: the Inf2/Trn1 tables run "a static batch
            // compiled for the sequence length", the Trn2 tutorial "batch size 1"); every
            // decode step runs that many rows (`neuron::Shapes::decode`).
            match obs.load {
                Load::Static { batch } => limits.max_num_seqs = batch.max(1),
                Load::Closed { concurrency } => limits.max_num_seqs = concurrency.max(1),
                _ => {}
            }
        }
        let linked = gpu.nvlink || gpu.nvlink_gbs.is_some();
        // With attention data parallelism each rank runs its own scheduler. TensorRT-LLM's
        // and vLLM's batch and step-token limits hold per rank, `dp` times over the worker;
        // SGLang divides its `chunked_prefill_size` and `max_running_requests` among the ranks
        // (sgl-project/sglang `server_args.py` `_handle_data_parallelism`:
        // `chunked_prefill_size // dp_size`; `max_running_requests // dp_size` per rank), so
        // its limits stay the worker's.
        let replica_of = |tp: u32, dp: u32, pp: u32| {
            let gpus = tp * pp;
            let mut limits = limits;
            if obs.engine != Engine::Sglang {
                limits.max_num_seqs *= u64::from(dp.max(1));
                limits.max_num_batched_tokens *= u64::from(dp.max(1));
            }
            let d = Deployment {
                placement: Placement {
                    model,
                    gpu,
                    gpu_mem_gib: mem,
                    gpus,
                    interconnect: match (gpus, linked) {
                        (1, _) => Interconnect::Single,
                        _ if gpu.arch == Arch::Neuron => Interconnect::NeuronLink,
                        (_, true) => Interconnect::NvSwitch,
                        (_, false) => Interconnect::Pcie,
                    },
                    tp,
                    attention_dp: dp,
                    pp,
                    weights,
                    kv,
                },
                engine: obs.engine,
                limits,
                kv_memory_fraction: obs.memory_fraction.unwrap_or(defaults.kv_memory_fraction),
            };
            Replica::new(&d, input + output, params)
        };
        let replica = match replica_of(obs.tp, obs.attention_dp, obs.pp) {
            Ok(r) => r,
            Err(e) => {
                skipped.push(skip(SkipReason::Refused, e.to_string()));
                continue;
            }
        };
        let decode = match obs.disaggregated {
            Some(pool) => {
                match replica_of(pool.decode_tp, pool.decode_attention_dp, pool.decode_pp) {
                    Ok(r) => Some((r, pool)),
                    Err(e) => {
                        skipped.push(skip(SkipReason::Refused, format!("decode worker: {e}")));
                        continue;
                    }
                }
            }
            None => None,
        };
        let r = f64::from(replicas);
        let load = match obs.load {
            Load::Closed { concurrency } => Load::Closed {
                concurrency: concurrency.div_ceil(u64::from(replicas)),
            },
            Load::Burst { requests } => Load::Burst {
                requests: requests.div_ceil(u64::from(replicas)),
            },
            Load::Poisson { rate_rps } => Load::Poisson {
                rate_rps: rate_rps / r,
            },
            other => other,
        };
        cases.push(Case {
            model: model.name.clone(),
            gpu: gpu.name.clone(),
            arch: gpu.arch,
            weights,
            kv,
            replicas: r,
            workload: Workload {
                input_tokens: input,
                output_tokens: output,
                load,
            },
            replica,
            decode,
            obs,
        });
    }
    (cases, skipped)
}

/// Efficiencies for a case from a table.
pub fn efficiency_for(table: &EfficiencyTable, c: &Case) -> Efficiency {
    table.lookup(c.arch, c.obs.engine, c.weights).eff
}

/// Error statistics of a group of rows.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ErrorStats {
    /// Rows.
    pub n: usize,
    /// Median absolute percentage error, %.
    pub median_ape: f64,
    /// 90th percentile of the absolute percentage error, %.
    pub p90_ape: f64,
    /// Median of predicted / measured (above 1: over-predicts).
    pub median_ratio: f64,
}

/// One scored row.
#[derive(Debug, Clone, Serialize)]
pub struct Scored {
    /// Row id.
    pub id: String,
    /// Source.
    pub source: String,
    /// Catalog model.
    pub model: String,
    /// Catalog GPU.
    pub gpu: String,
    /// Engine.
    pub engine: Engine,
    /// Metric.
    pub metric: Metric,
    /// Statistic as measured.
    pub stat: &'static str,
    /// TP × PP and formats, e.g. `tp4 fp8/fp8`.
    pub setup: String,
    /// Prompt and output tokens used.
    pub lengths: (u64, u64),
    /// Load used.
    pub load: Load,
    /// Measured value.
    pub measured: f64,
    /// Predicted value.
    pub predicted: f64,
    /// Absolute percentage error, %.
    pub ape: f64,
}

/// The validation report.
#[derive(Debug, Clone, Serialize)]
pub struct PerfReport {
    /// Measured values read (a row of the AIConfigurator sample holds two: TTFT and TPOT).
    pub rows_total: usize,
    /// Values predicted and scored.
    pub rows_evaluated: usize,
    /// Share of the values whose GPU and model are in the catalog that were scored, %.
    pub coverage_pct: f64,
    /// Values not scored, by reason.
    pub skipped: BTreeMap<String, usize>,
    /// For each reason, the most frequent details (what exactly could not be mapped) with
    /// their counts.
    pub skipped_details: BTreeMap<String, Vec<(String, usize)>>,
    /// Errors over every scored value.
    pub overall: ErrorStats,
    /// By metric family.
    pub by_metric: BTreeMap<String, ErrorStats>,
    /// By catalog GPU.
    pub by_gpu: BTreeMap<String, ErrorStats>,
    /// By engine.
    pub by_engine: BTreeMap<String, ErrorStats>,
    /// By source.
    pub by_source: BTreeMap<String, ErrorStats>,
    /// By source and metric family (`source/family`).
    pub by_source_metric: BTreeMap<String, ErrorStats>,
    /// The worst-predicted values.
    pub worst: Vec<Scored>,
}

/// Absolute percentage error, %.
pub fn ape(predicted: f64, measured: f64) -> f64 {
    ((predicted - measured) / measured).abs() * 100.0
}

/// Statistics of (predicted, measured) pairs.
pub fn stats(pairs: &[(f64, f64)]) -> ErrorStats {
    let mut apes: Vec<f64> = pairs.iter().map(|(p, m)| ape(*p, *m)).collect();
    let mut ratios: Vec<f64> = pairs.iter().map(|(p, m)| p / m).collect();
    apes.sort_by(f64::total_cmp);
    ratios.sort_by(f64::total_cmp);
    // No pairs, no statistics: NaN rather than a zero that would read as a perfect score.
    let q = |sorted: &[f64], q: f64| quantile_sorted(sorted, q).unwrap_or(f64::NAN);
    ErrorStats {
        n: pairs.len(),
        median_ape: q(&apes, 0.5),
        p90_ape: q(&apes, 0.9),
        median_ratio: q(&ratios, 0.5),
    }
}

/// Error statistics of scored rows grouped by `key`; `pair` gives (predicted, measured).
pub fn stats_by<T>(
    rows: &[T],
    key: impl Fn(&T) -> String,
    pair: impl Fn(&T) -> (f64, f64),
) -> BTreeMap<String, ErrorStats> {
    let mut groups: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for r in rows {
        groups.entry(key(r)).or_default().push(pair(r));
    }
    groups.into_iter().map(|(k, v)| (k, stats(&v))).collect()
}

/// Skipped rows counted by reason, and by reason and detail, from (reason, detail) pairs.
pub fn tally_skipped<'a>(
    skipped: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> (
    BTreeMap<String, usize>,
    BTreeMap<String, BTreeMap<String, usize>>,
) {
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut details: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for (reason, detail) in skipped {
        *reasons.entry(reason.to_owned()).or_default() += 1;
        *details
            .entry(reason.to_owned())
            .or_default()
            .entry(detail.to_owned())
            .or_default() += 1;
    }
    (reasons, details)
}

/// Scores cases with their predictions.
pub fn score(cases: &[Case], predicted: &[f64]) -> Vec<Scored> {
    cases
        .iter()
        .zip(predicted)
        .map(|(c, &p)| Scored {
            id: c.obs.id.clone(),
            source: c.obs.source.clone(),
            model: c.model.clone(),
            gpu: c.gpu.clone(),
            engine: c.obs.engine,
            metric: c.obs.metric,
            stat: c.obs.stat,
            setup: format!(
                "tp{}{} {}/{}",
                c.obs.tp,
                if c.obs.pp > 1 {
                    format!(" pp{}", c.obs.pp)
                } else {
                    String::new()
                },
                c.weights,
                c.kv
            ),
            lengths: (c.workload.input_tokens, c.workload.output_tokens),
            load: c.workload.load,
            measured: c.obs.value,
            predicted: p,
            ape: ape(p, c.obs.value),
        })
        .collect()
}

/// Builds the report; `worst` keeps that many rows.
pub fn report(scored: &[Scored], skipped: &[Skipped], worst: usize) -> PerfReport {
    let group =
        |key: &dyn Fn(&Scored) -> String| stats_by(scored, key, |s| (s.predicted, s.measured));
    let (reasons, details) = tally_skipped(
        skipped
            .iter()
            .map(|s| (s.reason.as_str(), s.detail.as_str())),
    );
    let skipped_details = details
        .into_iter()
        .map(|(reason, d)| {
            let mut v: Vec<(String, usize)> = d.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            v.truncate(20);
            (reason, v)
        })
        .collect();
    let unmappable = skipped
        .iter()
        .filter(|s| matches!(s.reason, SkipReason::UnknownGpu | SkipReason::UnknownModel))
        .count();
    let known = scored.len() + skipped.len() - unmappable;
    let mut by_ape: Vec<&Scored> = scored.iter().collect();
    by_ape.sort_by(|a, b| b.ape.total_cmp(&a.ape).then_with(|| a.id.cmp(&b.id)));
    let all: Vec<(f64, f64)> = scored.iter().map(|s| (s.predicted, s.measured)).collect();
    PerfReport {
        rows_total: scored.len() + skipped.len(),
        rows_evaluated: scored.len(),
        coverage_pct: if known > 0 {
            scored.len() as f64 / known as f64 * 100.0
        } else {
            0.0
        },
        skipped: reasons,
        skipped_details,
        overall: stats(&all),
        by_metric: group(&|s| s.metric.family().as_str().to_owned()),
        by_gpu: group(&|s| s.gpu.clone()),
        by_engine: group(&|s| s.engine.as_str().to_owned()),
        by_source: group(&|s| s.source.clone()),
        by_source_metric: group(&|s| format!("{}/{}", s.source, s.metric.family().as_str())),
        worst: by_ape.into_iter().take(worst).cloned().collect(),
    }
}

/// Predicts every case with the table's efficiencies.
pub fn predict_all(cases: &[Case], table: &EfficiencyTable) -> Vec<f64> {
    cases
        .iter()
        .map(|c| c.predict(&efficiency_for(table, c)))
        .collect()
}
