//! A diffusion workload: an image or video model, the job every request asks for, how many
//! jobs arrive, the latency promise and the managed price to compare with. Read from TOML
//! (`inferplan plan WORKLOAD.toml` whose `model.name` is a diffusion model) or built from
//! flags; see `docs/diffusion.md`.

use crate::error::PlanError;
use crate::workload::{
    check_burstiness, check_profile, check_window, err, parse_toml, within, Constraints, Mode,
    Percentile, Pricing,
};
use inferplan_catalog::bounds;
use inferplan_perf::diffusion::JobSpec;
use serde::{Deserialize, Serialize};

/// A whole diffusion workload description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiffusionWorkload {
    /// A short name for reports.
    #[serde(default = "default_name")]
    pub name: String,
    /// The model and its precision.
    pub model: DiffusionModelIn,
    /// The job each request asks for (unset fields: the model's defaults).
    #[serde(default)]
    pub job: JobSpec,
    /// How many jobs.
    pub traffic: JobTraffic,
    /// The latency promise.
    #[serde(default)]
    pub slo: JobSlo,
    /// What the deployment may use.
    #[serde(default)]
    pub constraints: Constraints,
    /// Pricing assumptions.
    #[serde(default)]
    pub pricing: Pricing,
    /// A managed service to compare with.
    #[serde(default)]
    pub managed: Managed,
}

fn default_name() -> String {
    "diffusion workload".to_owned()
}

/// The model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiffusionModelIn {
    /// Diffusion catalog name, alias or Hugging Face id (`inferplan catalog diffusion`).
    pub name: String,
    /// Denoiser format: `bf16`, `fp16`, `fp8`, or `any` (the planner chooses).
    #[serde(default = "default_precision")]
    pub precision: String,
}

fn default_precision() -> String {
    "bf16".to_owned()
}

/// Job arrivals. Give `jobs_per_day` or `jobs_per_hour` (the mean over the day).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobTraffic {
    /// Jobs per day.
    #[serde(default)]
    pub jobs_per_day: Option<f64>,
    /// Mean jobs per hour, instead of `jobs_per_day`.
    #[serde(default)]
    pub jobs_per_hour: Option<f64>,
    /// 24 relative weights, one per hour (UTC); default flat.
    #[serde(default)]
    pub daily_profile: Option<Vec<f64>>,
    /// Coefficient of variation of the inter-arrival times: 1 for Poisson.
    #[serde(default = "one")]
    pub burstiness: f64,
}

fn one() -> f64 {
    1.0
}

/// How fast a job must be done, from submission (queueing included) to result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSlo {
    /// Limit on a job's latency at `percentile`, seconds (interactive mode).
    #[serde(default)]
    pub latency_s: Option<f64>,
    /// Percentile the limit refers to.
    #[serde(default = "p99")]
    pub percentile: Percentile,
    /// `interactive` (a caller waits), `async` (results delivered later, within
    /// `deadline_s`) or `batch` (throughput only).
    #[serde(default = "interactive")]
    pub mode: Mode,
    /// Async mode: every job done within this many seconds of its arrival.
    #[serde(default)]
    pub deadline_s: Option<f64>,
    /// Batch mode: the hours of each day the day's jobs run in, as one job sized to finish
    /// within them at p99 and billed only while it runs (default 24).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_hours: Option<f64>,
    /// Batch mode: the hour (UTC, 0 to 23) the window opens (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_start_utc: Option<u32>,
}

fn p99() -> Percentile {
    Percentile::P99
}

fn interactive() -> Mode {
    Mode::Interactive
}

impl Default for JobSlo {
    fn default() -> Self {
        JobSlo {
            latency_s: None,
            percentile: p99(),
            mode: interactive(),
            deadline_s: None,
            window_hours: None,
            window_start_utc: None,
        }
    }
}

/// A managed service's price, for the break-even volume.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Managed {
    /// What it charges per image or clip, $.
    #[serde(default)]
    pub usd_per_output: Option<f64>,
    /// Its name, for reports.
    #[serde(default)]
    pub service: Option<String>,
}

impl DiffusionWorkload {
    /// Reads a diffusion workload from TOML text; errors name the line and field. Call
    /// [`DiffusionWorkload::validate`] after applying overrides.
    pub fn from_toml(text: &str, origin: &str) -> Result<DiffusionWorkload, PlanError> {
        parse_toml(text, origin)
    }

    /// Mean jobs per second over the day.
    pub fn mean_jobs_s(&self) -> f64 {
        match (self.traffic.jobs_per_day, self.traffic.jobs_per_hour) {
            (Some(d), _) => d / 86_400.0,
            (None, Some(h)) => h / 3600.0,
            (None, None) => 0.0,
        }
    }

    /// Jobs per second in each hour of the day (UTC), mean `mean_jobs_s`.
    pub fn hourly_jobs_s(&self) -> [f64; 24] {
        let mean = self.mean_jobs_s();
        match &self.traffic.daily_profile {
            Some(p) if p.len() == 24 => {
                let avg = p.iter().sum::<f64>() / 24.0;
                std::array::from_fn(|h| if avg > 0.0 { mean * p[h] / avg } else { mean })
            }
            _ => [mean; 24],
        }
    }

    /// The latency a job must meet: the SLO's `latency_s` (interactive) or `deadline_s`
    /// (async); none in batch mode.
    pub fn limit_s(&self) -> Option<f64> {
        match self.slo.mode {
            Mode::Interactive => self.slo.latency_s,
            Mode::Async => self.slo.deadline_s,
            Mode::Batch => None,
        }
    }

    /// Whether the pool is sized on the day's mean rate rather than the busiest hour: batch
    /// work, and async work whose deadline spans an hour or more (the queue carries the peak
    /// into quieter hours).
    pub fn sized_on_mean(&self) -> bool {
        match self.slo.mode {
            Mode::Interactive => false,
            Mode::Async => self.slo.deadline_s.is_some_and(|d| d >= 3600.0),
            Mode::Batch => true,
        }
    }

    /// Checks that every value makes sense; the first problem names its field.
    pub fn validate(&self) -> Result<(), PlanError> {
        if self.name.trim().is_empty() {
            return Err(err("name", "must not be empty"));
        }
        if self.model.name.trim().is_empty() {
            return Err(err("model.name", "must not be empty"));
        }
        let p = self.model.precision.to_ascii_lowercase();
        if !["bf16", "fp16", "fp8", "any"].contains(&p.as_str()) {
            return Err(err(
                "model.precision",
                format!(
                    "`{}` is not modelled for diffusion; use bf16, fp16, fp8 or any",
                    self.model.precision
                ),
            ));
        }
        let t = &self.traffic;
        match (t.jobs_per_day, t.jobs_per_hour) {
            (Some(_), Some(_)) => {
                return Err(err(
                    "traffic.jobs_per_hour",
                    "give jobs_per_day or jobs_per_hour, not both",
                ))
            }
            (None, None) => {
                return Err(err(
                    "traffic.jobs_per_day",
                    "missing: give jobs_per_day or jobs_per_hour",
                ))
            }
            (Some(per_day), None) => within(bounds::JOBS_PER_DAY, per_day, "traffic.jobs_per_day")?,
            (None, Some(per_hour)) => within(
                bounds::JOBS_PER_DAY,
                per_hour * 24.0,
                "traffic.jobs_per_hour (× 24)",
            )?,
        }
        if let Some(profile) = &t.daily_profile {
            check_profile(profile, "traffic.daily_profile")?;
        }
        check_burstiness(t.burstiness, "traffic.burstiness")?;
        let s = &self.slo;
        for (v, field) in [
            (s.latency_s, "slo.latency_s"),
            (s.deadline_s, "slo.deadline_s"),
        ] {
            if let Some(v) = v {
                within(bounds::SECONDS, v, field)?;
            }
        }
        check_window(s.mode, s.window_hours, s.window_start_utc)?;
        match s.mode {
            Mode::Async if s.deadline_s.is_none() => {
                return Err(err(
                    "slo.deadline_s",
                    "mode = \"async\" needs a deadline: every job done within this many seconds",
                ))
            }
            Mode::Interactive if s.latency_s.is_none() => {
                return Err(err(
                    "slo.latency_s",
                    "mode = \"interactive\" needs a latency limit, e.g. latency_s = 90 (or use mode = \"async\" with deadline_s, or \"batch\")",
                ))
            }
            _ => {}
        }
        if let Some(u) = self.managed.usd_per_output {
            if u == 0.0 {
                return Err(err(
                    "managed.usd_per_output",
                    "must be a positive price, got 0",
                ));
            }
            within(bounds::USD, u, "managed.usd_per_output")?;
        }
        self.constraints.validate()?;
        self.pricing.validate()
    }
}

/// The parts of a workload file that tell its kind.
#[derive(Deserialize)]
struct Peek {
    model: Option<PeekModel>,
    job: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct PeekModel {
    name: Option<String>,
}

fn peek(text: &str) -> Option<Peek> {
    toml::from_str::<Peek>(text).ok()
}

/// Whether a workload file is a diffusion workload: its `model.name` is in the diffusion
/// catalog. Unreadable text is not (the LLM reader reports its errors).
pub fn is_diffusion(text: &str) -> bool {
    peek(text)
        .and_then(|p| p.model?.name)
        .is_some_and(|n| inferplan_perf::diffusion::diffusion_model(&n).is_some())
}

/// Why a workload file is a diffusion workload, for the commands that take LLM workloads
/// only (`render`, `rightsize`): ``model `Wan2.1 I2V 14B 720P` `` when its `model.name` is in
/// the diffusion catalog, else ``a `[job]` table`` when it has one. `None` for anything else,
/// unreadable text included (the LLM reader reports it).
pub fn diffusion_sign(text: &str) -> Option<String> {
    let p = peek(text)?;
    let name = p.model.and_then(|m| m.name);
    match name {
        Some(n) if inferplan_perf::diffusion::diffusion_model(&n).is_some() => {
            Some(format!("model `{}`", crate::error::shown(&n)))
        }
        _ => p.job.map(|_| "a `[job]` table".to_owned()),
    }
}
