//! [`analyze`]: samples summarised per GPU and over the fleet, and judged.

use super::error::RightsizeError;
use super::metrics::{Metrics, Sample, Source};
use super::statistics::{compute, median_interval, positive, Stats};
use super::thresholds::{Thresholds, IMBALANCE_SPREAD_PCT};
use super::verdict::{judge, pct, Verdict, VerdictCode};
use inferplan_catalog::Catalog;
use serde::Serialize;
use std::collections::BTreeMap;

/// Settings of [`analyze`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    /// Framebuffer size of one GPU in MiB, for samples with neither a total nor a free value
    /// (from the catalog when the instance type or GPU is known: see
    /// [`catalog_fb_total_mib`]).
    pub fb_total_mib: Option<f64>,
}

/// One GPU's statistics and verdicts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GpuReport {
    /// Host.
    pub instance: String,
    /// GPU on the host.
    pub gpu: String,
    /// Statistics (flattened into this object in JSON).
    #[serde(flatten)]
    pub stats: Stats,
    /// Verdicts for this GPU.
    pub verdicts: Vec<Verdict>,
}

/// The answer of [`analyze`]: fleet statistics (flattened into the top level in JSON), each
/// GPU's, and the verdicts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Statistics over every sample of every GPU.
    #[serde(flatten)]
    pub overall: Stats,
    /// Per GPU, sorted by host and GPU.
    pub gpus: Vec<GpuReport>,
    /// Fleet verdicts.
    pub verdicts: Vec<Verdict>,
    /// Framebuffer size assumed where the data had none ([`Options::fb_total_mib`]), MiB.
    pub fb_total_fallback_mib: Option<f64>,
    /// The thresholds used.
    pub thresholds: Thresholds,
    /// The files read (empty when [`analyze`] is called on samples directly).
    pub sources: Vec<Source>,
}

impl Report {
    /// The fleet verdict with this code, if any.
    pub fn verdict(&self, code: VerdictCode) -> Option<&Verdict> {
        self.verdicts.iter().find(|v| v.code == code)
    }

    /// True when the fleet has this verdict.
    pub fn has(&self, code: VerdictCode) -> bool {
        self.verdict(code).is_some()
    }

    /// True when the fleet needs action: over- or under-provisioned, or memory at risk.
    pub fn needs_action(&self) -> bool {
        self.has(VerdictCode::OverProvisioned)
            || self.has(VerdictCode::UnderProvisioned)
            || self.has(VerdictCode::MemoryAtRisk)
    }
}

impl Metrics {
    /// [`analyze`] these samples, with the sources echoed in the report.
    pub fn analyze(&self, options: &Options) -> Report {
        let mut r = analyze(&self.samples, options);
        r.sources = self.sources.clone();
        r
    }
}

/// Summarises samples per GPU (host and GPU) and over the fleet, and judges them. Never
/// panics: samples with a non-finite timestamp are left out, as are non-finite or negative
/// values.
pub fn analyze(samples: &[Sample], options: &Options) -> Report {
    let fallback = options.fb_total_mib.filter(|t| t.is_finite() && *t > 0.0);
    let usable: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.timestamp_s.is_finite())
        .collect();
    let mut groups: BTreeMap<(&str, &str), Vec<&Sample>> = BTreeMap::new();
    for s in &usable {
        groups
            .entry((s.instance.as_str(), s.gpu.as_str()))
            .or_default()
            .push(s);
    }
    let gpus: Vec<GpuReport> = groups
        .into_iter()
        .map(|((instance, gpu), ss)| {
            let stats = compute(&ss, fallback, None);
            let verdicts = judge(&stats);
            GpuReport {
                instance: instance.to_owned(),
                gpu: gpu.to_owned(),
                stats,
                verdicts,
            }
        })
        .collect();
    let intervals: Vec<f64> = gpus.iter().filter_map(|g| g.stats.interval_s).collect();
    let overall = compute(&usable, fallback, median_interval(intervals));
    let mut verdicts = judge(&overall);
    let avgs: Vec<(&GpuReport, f64)> = gpus
        .iter()
        .filter_map(|g| g.stats.avg_util_pct.map(|a| (g, a)))
        .collect();
    if avgs.len() >= 2 {
        let lo = avgs.iter().min_by(|a, b| a.1.total_cmp(&b.1));
        let hi = avgs.iter().max_by(|a, b| a.1.total_cmp(&b.1));
        if let (Some(lo), Some(hi)) = (lo, hi) {
            if hi.1 - lo.1 > IMBALANCE_SPREAD_PCT {
                verdicts.push(Verdict {
                    code: VerdictCode::Imbalanced,
                    message: format!(
                        "the GPUs' average utilisation ranges from {} ({}) to {} ({}), more \
                         than {IMBALANCE_SPREAD_PCT:.0} points apart: the load is uneven; fix \
                         the routing or the replica layout before resizing",
                        pct(lo.1),
                        gpu_name(lo.0),
                        pct(hi.1),
                        gpu_name(hi.0)
                    ),
                    provisional: false,
                });
            }
        }
    }
    Report {
        overall,
        gpus,
        verdicts,
        fb_total_fallback_mib: fallback,
        thresholds: Thresholds::default(),
        sources: Vec::new(),
    }
}

fn gpu_name(g: &GpuReport) -> String {
    format!("{}/{}", g.instance, g.gpu)
}

/// Framebuffer size of one GPU in MiB from the catalog: the instance type's GPU memory as the
/// cloud reports it (else its GPU's), or the GPU's. `None` when neither is given or the
/// catalog has no figure; an error for an unknown name (with suggestions).
pub fn catalog_fb_total_mib(
    catalog: &Catalog,
    instance: Option<&str>,
    gpu: Option<&str>,
) -> Result<Option<f64>, RightsizeError> {
    if let Some(name) = instance {
        let inst = catalog.instance(name)?;
        if let Some(m) = positive(inst.gpu_mem_mib) {
            return Ok(Some(m));
        }
        if let Some(g) = catalog.instance_gpu(inst).and_then(|g| g.memory_gib()) {
            return Ok(Some(g * 1024.0));
        }
    }
    if let Some(name) = gpu {
        return Ok(catalog.gpu(name)?.memory_gib().map(|g| g * 1024.0));
    }
    Ok(None)
}
