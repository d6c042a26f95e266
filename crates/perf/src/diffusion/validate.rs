//! Validation against `shared/data/measured/diffusion_latency.csv`.

use super::catalog::{parse_resolution, DiffusionCatalog, DiffusionModel};
use super::model::{
    fit, peak_tflops, time_of, work, DiffusionEfficiencies, DiffusionEfficiency, DiffusionJob,
    DiffusionWork, Execution, Offload,
};
use super::perr;
use crate::error::PerfError;
use crate::measured::Family;
use crate::validation::{ape, stats, stats_by, tally_skipped, ErrorStats};
use inferplan_catalog::table::Table;
use inferplan_catalog::{Catalog, Dtype, Gpu};
use serde::Serialize;
use std::collections::BTreeMap;

/// Columns that identify `diffusion_latency.csv`.
pub const DIFFUSION_COLUMNS: [&str; 7] = [
    "model",
    "gpu",
    "resolution",
    "steps",
    "metric",
    "value",
    "unit",
];

/// What a row measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffusionMetric {
    /// Seconds per image / batch / video, end to end.
    E2eS,
    /// Denoising iterations per second (one step of the whole batch).
    DenoiseItS,
    /// Images or queries per second of the whole system.
    ImagesS,
}

impl DiffusionMetric {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            DiffusionMetric::E2eS => "e2e_s",
            DiffusionMetric::DenoiseItS => "denoise_it_s",
            DiffusionMetric::ImagesS => "images_s",
        }
    }

    /// The family (as in the LLM validation).
    pub fn family(self) -> Family {
        match self {
            DiffusionMetric::E2eS | DiffusionMetric::DenoiseItS => Family::E2e,
            DiffusionMetric::ImagesS => Family::Throughput,
        }
    }
}

/// Why a diffusion row is not scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffusionSkip {
    /// The model is not in `diffusion_models.csv`.
    UnknownModel,
    /// The GPU is not in the catalog.
    UnknownGpu,
    /// The GPU has no published peak or bandwidth.
    NoGpuFigures,
    /// Step caching (TeaCache, Cache-DiT, DBCache, TaylorSeer) skips denoiser work.
    CacheTrick,
    /// A different decoder (tiny VAE, consistency decoder) replaces the model's VAE.
    DecoderSwap,
    /// The job does not fit the GPU even streaming the denoiser from host memory.
    DoesNotFit,
    /// The number of steps is not stated.
    UnstatedSteps,
    /// Resolution, batch or value cannot be read.
    Unparsable,
    /// A metric this model does not predict.
    UnknownMetric,
}

impl DiffusionSkip {
    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            DiffusionSkip::UnknownModel => "unknown_model",
            DiffusionSkip::UnknownGpu => "unknown_gpu",
            DiffusionSkip::NoGpuFigures => "no_gpu_figures",
            DiffusionSkip::CacheTrick => "cache_trick",
            DiffusionSkip::DecoderSwap => "decoder_swap",
            DiffusionSkip::DoesNotFit => "does_not_fit",
            DiffusionSkip::UnstatedSteps => "unstated_steps",
            DiffusionSkip::Unparsable => "unparsable",
            DiffusionSkip::UnknownMetric => "unknown_metric",
        }
    }
}

/// A measured row ready to predict.
#[derive(Debug, Clone)]
pub struct DiffusionCase {
    /// Row id.
    pub id: String,
    /// Source (id prefix).
    pub source: String,
    /// Engine as written.
    pub engine: String,
    /// Catalog model.
    pub model: &'static DiffusionModel,
    /// Catalog GPU.
    pub gpu: Gpu,
    /// GPUs of the measured system.
    pub gpus: u64,
    /// Math and weight format assumed.
    pub dtype: Dtype,
    /// Offloading the job needs on this GPU (the least that fits).
    pub offload: Offload,
    /// Whether the row states its number format (else BF16 is assumed).
    pub precision_stated: bool,
    /// How its engine runs the kernels ([`Execution::of_engine`]).
    pub execution: Execution,
    /// The job.
    pub job: DiffusionJob,
    /// Its work (counted once; the fit predicts each row many times).
    pub work: DiffusionWork,
    /// Metric.
    pub metric: DiffusionMetric,
    /// Measured value.
    pub value: f64,
}

impl DiffusionCase {
    /// Predicted value of the row's metric with the efficiencies of its GPU's architecture.
    pub fn predict_with(&self, t: &DiffusionEfficiencies) -> f64 {
        self.predict(&t.lookup(self.gpu.arch))
    }

    /// Predicted value of the row's metric.
    pub fn predict(&self, e: &DiffusionEfficiency) -> f64 {
        let Some(t) = time_of(
            self.model,
            &self.job,
            &self.work,
            &self.gpu,
            self.dtype,
            self.offload,
            self.execution,
            e,
        ) else {
            return f64::NAN;
        };
        match self.metric {
            DiffusionMetric::E2eS => t.e2e_s,
            DiffusionMetric::DenoiseItS => 1.0 / t.step_s,
            DiffusionMetric::ImagesS => self.gpus as f64 * self.job.batch as f64 / t.e2e_s,
        }
    }
}

/// A row not scored.
#[derive(Debug, Clone, Serialize)]
pub struct DiffusionSkipped {
    /// Row id.
    pub id: String,
    /// Reason.
    pub reason: DiffusionSkip,
    /// What exactly.
    pub detail: String,
}

fn leading_number(s: &str) -> Option<f64> {
    let t: String = s
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    t.parse().ok()
}

/// Reads `diffusion_latency.csv` rows into cases and skipped rows.
pub fn prepare_diffusion(
    text: &str,
    origin: &str,
    catalog: &Catalog,
) -> Result<(Vec<DiffusionCase>, Vec<DiffusionSkipped>), PerfError> {
    let t = Table::parse(text, origin).map_err(|e| perr(origin, e.to_string()))?;
    t.require(&DIFFUSION_COLUMNS)
        .map_err(|e| perr(origin, e.to_string()))?;
    let dcat = DiffusionCatalog::embedded();
    let mut cases = Vec::new();
    let mut skipped = Vec::new();
    for r in t.rows() {
        let g = |c: &str| r.get(c).unwrap_or_default();
        let id = g("id").to_owned();
        let mut skip = |reason, detail: String| {
            skipped.push(DiffusionSkipped {
                id: id.clone(),
                reason,
                detail,
            })
        };
        let metric = match g("metric") {
            "e2e_s" | "e2e_s_mean" | "e2e_s_p50" => DiffusionMetric::E2eS,
            "denoise_it_s" => DiffusionMetric::DenoiseItS,
            "images_s" | "queries_s" => DiffusionMetric::ImagesS,
            other => {
                skip(DiffusionSkip::UnknownMetric, format!("metric `{other}`"));
                continue;
            }
        };
        let Some(model) = dcat.model(g("model")) else {
            skip(
                DiffusionSkip::UnknownModel,
                format!("model `{}`", g("model")),
            );
            continue;
        };
        let gpu = match catalog.gpu(g("gpu")) {
            Ok(gpu) => gpu.clone(),
            Err(e) => {
                skip(DiffusionSkip::UnknownGpu, e.to_string());
                continue;
            }
        };
        let engine = g("engine").to_owned();
        let context = format!("{} {}", engine, g("notes")).to_ascii_lowercase();
        if ["teacache", "cache-dit", "dbcache", "taylorseer"]
            .iter()
            .any(|k| context.contains(k))
        {
            skip(DiffusionSkip::CacheTrick, format!("engine `{engine}`"));
            continue;
        }
        let el = engine.to_ascii_lowercase();
        if el.contains("tiny vae") || el.contains("consistency decoder") {
            skip(DiffusionSkip::DecoderSwap, format!("engine `{engine}`"));
            continue;
        }
        let steps_cell = g("steps");
        let Some(steps) = leading_number(steps_cell)
            .map(|v| v as u64)
            .filter(|&s| s > 0)
        else {
            skip(
                DiffusionSkip::UnstatedSteps,
                format!("steps `{steps_cell}`"),
            );
            continue;
        };
        let Some((width, height)) = parse_resolution(g("resolution")) else {
            skip(
                DiffusionSkip::Unparsable,
                format!("resolution `{}`", g("resolution")),
            );
            continue;
        };
        let Some(value) = leading_number(g("value")).filter(|v| *v > 0.0) else {
            skip(DiffusionSkip::Unparsable, format!("value `{}`", g("value")));
            continue;
        };
        let batch = leading_number(g("batch_size")).map_or(1, |v| v.max(1.0) as u64);
        let gpus = leading_number(g("gpu_count")).map_or(1, |v| v.max(1.0) as u64);
        // Frames: a number, "N s video" (N × fps + 1, Wan's 81 = 5 s × 16 + 1), else default.
        let frames_cell = g("frames");
        let frames = if !model.video {
            1
        } else if let Some(n) = leading_number(frames_cell) {
            if frames_cell.contains(" s ") || frames_cell.trim_end().ends_with(" s") {
                (n * model.default_fps.unwrap_or(16.0)) as u64 + 1
            } else {
                n as u64
            }
        } else {
            model.default_frames.unwrap_or(1)
        };
        // Format: FP8 when the engine or precision says so, FP16 when stated, else BF16.
        let p = format!("{} {}", g("precision"), engine).to_ascii_lowercase();
        let mlperf_harness = el.contains("nvidia mlperf harness");
        let dtype = if el.contains("fp8") || mlperf_harness {
            // NVIDIA's MLPerf SDXL harness (also run by Dell and Cisco) quantizes the UNet to
            // FP8 on datacenter systems ("UNet is quantized to FP8-FP16 and VAE is quantized
            // to INT8-FP32 on datacenter systems": mlcommons/inference_results_v4.1 @b06ceefc
            // `closed/NVIDIA/code/stable-diffusion-xl/tensorrt/README.md`); the summaries the
            // rows come from do not restate it.
            Dtype::Fp8
        } else if p.contains("fp16") {
            Dtype::Fp16
        } else {
            Dtype::Bf16
        };
        let precision_stated =
            mlperf_harness || ["fp8", "fp16", "bf16"].iter().any(|k| p.contains(k));
        // Distilled variants: no unconditional pass.
        let cfg = model.cfg && !el.contains("distill") && !context.contains("enable_cfg=false");
        let job = DiffusionJob {
            width,
            height,
            frames,
            fps: model.default_fps.filter(|_| model.video),
            steps,
            batch,
            cfg,
        };
        let Some(mem_gib) = gpu.memory_gib() else {
            skip(
                DiffusionSkip::NoGpuFigures,
                format!("memory of {}", gpu.name),
            );
            continue;
        };
        if peak_tflops(&gpu, dtype).is_none() || gpu.mem_bandwidth_gbs.is_none() {
            skip(DiffusionSkip::NoGpuFigures, format!("peak of {}", gpu.name));
            continue;
        }
        let Some(mem) = fit(model, &job, dtype, mem_gib) else {
            skip(
                DiffusionSkip::DoesNotFit,
                format!(
                    "{} {}x{} on {} {mem_gib:.0} GiB",
                    model.name, width, height, gpu.name
                ),
            );
            continue;
        };
        let execution = Execution::of_engine(&engine);
        cases.push(DiffusionCase {
            source: id
                .rsplit_once('-')
                .map_or(id.as_str(), |(s, _)| s)
                .to_owned(),
            id,
            engine,
            model,
            gpu,
            gpus,
            dtype,
            offload: mem.offload,
            precision_stated,
            execution,
            work: work(model, &job),
            job,
            metric,
            value,
        });
    }
    Ok((cases, skipped))
}

/// One scored row.
#[derive(Debug, Clone, Serialize)]
pub struct DiffusionScored {
    /// Row id.
    pub id: String,
    /// Source.
    pub source: String,
    /// Catalog model.
    pub model: String,
    /// Catalog GPU.
    pub gpu: String,
    /// Metric.
    pub metric: DiffusionMetric,
    /// Measured.
    pub measured: f64,
    /// Predicted.
    pub predicted: f64,
    /// Absolute percentage error, %.
    pub ape: f64,
}

/// The diffusion validation report.
#[derive(Debug, Clone, Serialize)]
pub struct DiffusionReport {
    /// File read.
    pub origin: String,
    /// Rows read.
    pub rows_total: usize,
    /// Rows scored.
    pub rows_evaluated: usize,
    /// Skipped rows by reason.
    pub skipped: BTreeMap<String, usize>,
    /// Skipped rows by reason, with their details and counts.
    pub skipped_details: BTreeMap<String, Vec<(String, usize)>>,
    /// Efficiencies used.
    pub efficiency: DiffusionEfficiencies,
    /// Over every scored row.
    pub overall: ErrorStats,
    /// By metric.
    pub by_metric: BTreeMap<String, ErrorStats>,
    /// By catalog GPU.
    pub by_gpu: BTreeMap<String, ErrorStats>,
    /// By model.
    pub by_model: BTreeMap<String, ErrorStats>,
    /// By source.
    pub by_source: BTreeMap<String, ErrorStats>,
    /// Every scored row, worst first.
    pub rows: Vec<DiffusionScored>,
}

/// Scores cases with efficiencies `e`.
pub fn report_diffusion(
    origin: &str,
    cases: &[DiffusionCase],
    skipped: &[DiffusionSkipped],
    e: &DiffusionEfficiencies,
) -> DiffusionReport {
    let predicted: Vec<f64> = cases.iter().map(|c| c.predict_with(e)).collect();
    report_predicted(origin, cases, &predicted, skipped, e)
}

/// Scores cases against predictions made elsewhere (cross-validation), `e` being the
/// efficiencies to report.
pub fn report_predicted(
    origin: &str,
    cases: &[DiffusionCase],
    predicted: &[f64],
    skipped: &[DiffusionSkipped],
    e: &DiffusionEfficiencies,
) -> DiffusionReport {
    let mut rows: Vec<DiffusionScored> = cases
        .iter()
        .zip(predicted)
        .map(|(c, &p)| DiffusionScored {
            id: c.id.clone(),
            source: c.source.clone(),
            model: c.model.name.clone(),
            gpu: c.gpu.name.clone(),
            metric: c.metric,
            measured: c.value,
            predicted: p,
            ape: ape(p, c.value),
        })
        .collect();
    let group =
        |k: &dyn Fn(&DiffusionScored) -> String| stats_by(&rows, k, |s| (s.predicted, s.measured));
    let by_metric = group(&|s| s.metric.as_str().to_owned());
    let by_gpu = group(&|s| s.gpu.clone());
    let by_model = group(&|s| s.model.clone());
    let by_source = group(&|s| s.source.clone());
    let all: Vec<(f64, f64)> = rows.iter().map(|s| (s.predicted, s.measured)).collect();
    let (reasons, details) = tally_skipped(
        skipped
            .iter()
            .map(|s| (s.reason.as_str(), s.detail.as_str())),
    );
    rows.sort_by(|a, b| b.ape.total_cmp(&a.ape).then_with(|| a.id.cmp(&b.id)));
    DiffusionReport {
        origin: origin.to_owned(),
        rows_total: cases.len() + skipped.len(),
        rows_evaluated: cases.len(),
        skipped: reasons,
        skipped_details: details
            .into_iter()
            .map(|(k, v)| (k, v.into_iter().collect()))
            .collect(),
        efficiency: e.clone(),
        overall: stats(&all),
        by_metric,
        by_gpu,
        by_model,
        by_source,
        rows,
    }
}

/// Reads `diffusion_latency.csv` text, predicts every row it can map with the embedded
/// efficiencies and reports the errors.
pub fn validate_diffusion(
    text: &str,
    origin: &str,
    catalog: &Catalog,
) -> Result<DiffusionReport, PerfError> {
    let (cases, skipped) = prepare_diffusion(text, origin, catalog)?;
    Ok(report_diffusion(
        origin,
        &cases,
        &skipped,
        DiffusionEfficiencies::embedded(),
    ))
}
