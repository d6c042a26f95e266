//! Checking that the values of a workload make sense; errors name the dotted field path.

use super::length::Length;
use super::types::{Constraints, Mode, Pricing, Workload, ADAPTER_TARGETS, WEIGHTS_SOURCES};
use crate::error::PlanError;
use inferplan_catalog::bounds;

impl Constraints {
    /// Checks the values; errors name the field (`constraints.regions`, ...).
    pub fn validate(&self) -> Result<(), PlanError> {
        let c = self;
        if c.regions.is_empty() {
            return Err(err("constraints.regions", "needs at least one region"));
        }
        for (i, region) in c.regions.iter().enumerate() {
            if region.trim().is_empty() {
                return Err(err(
                    format!("constraints.regions[{i}]"),
                    "must not be empty",
                ));
            }
        }
        within(
            bounds::GPUS,
            f64::from(c.max_gpus_per_replica),
            "constraints.max_gpus_per_replica",
        )?;
        for (i, family) in c.instance_families.iter().enumerate() {
            if family.trim().is_empty() {
                return Err(err(
                    format!("constraints.instance_families[{i}]"),
                    "must not be empty",
                ));
            }
        }
        if let Some(budget) = c.cold_start_budget_s {
            within(bounds::SECONDS, budget, "constraints.cold_start_budget_s")?;
        }
        if c.platforms.is_empty() {
            return Err(err(
                "constraints.platforms",
                "needs at least one platform (eks, sagemaker)",
            ));
        }
        if c.eks_operations_usd_per_hour != 0.0 {
            within(
                bounds::USD,
                c.eks_operations_usd_per_hour,
                "constraints.eks_operations_usd_per_hour",
            )?;
        }
        if !WEIGHTS_SOURCES.contains(&c.weights_source.as_str()) {
            return Err(err(
                "constraints.weights_source",
                format!(
                    "unknown weights source `{}`; expected one of: {}",
                    c.weights_source,
                    WEIGHTS_SOURCES.join(", ")
                ),
            ));
        }
        Ok(())
    }
}

impl Pricing {
    /// Checks the values; errors name the field (`pricing.savings_plan_discount`, ...).
    pub fn validate(&self) -> Result<(), PlanError> {
        let p = self;
        if !(0.0..=0.9).contains(&p.savings_plan_discount) {
            return Err(err(
                "pricing.savings_plan_discount",
                format!(
                    "must be a fraction between 0 and 0.9, got {}",
                    p.savings_plan_discount
                ),
            ));
        }
        if !(0.0..=1.0).contains(&p.spot_interruption_overhead) {
            return Err(err(
                "pricing.spot_interruption_overhead",
                format!(
                    "must be a fraction between 0 and 1, got {}",
                    p.spot_interruption_overhead
                ),
            ));
        }
        Ok(())
    }
}

/// Checks 24 non-negative hourly weights with a positive sum.
pub(crate) fn check_profile(profile: &[f64], field: &str) -> Result<(), PlanError> {
    if profile.len() != 24 {
        return Err(err(
            field,
            format!(
                "needs exactly 24 hourly weights (hour 0 to 23, UTC), got {}",
                profile.len()
            ),
        ));
    }
    for (i, &w) in profile.iter().enumerate() {
        if !(w.is_finite() && w >= 0.0) {
            return Err(err(
                format!("{field}[{i}]"),
                format!("an hourly weight must be a non-negative number, got {w}"),
            ));
        }
    }
    let sum: f64 = profile.iter().sum();
    if !(sum > 0.0 && sum.is_finite()) {
        return Err(err(
            field,
            "the hourly weights must have a positive, finite sum",
        ));
    }
    Ok(())
}

/// Checks a coefficient of variation of inter-arrival times.
/// The batch window (`slo.window_hours`, `slo.window_start_utc`): within a day, and only for
/// batch work.
pub(crate) fn check_window(
    mode: Mode,
    hours: Option<f64>,
    start: Option<u32>,
) -> Result<(), PlanError> {
    if let Some(h) = hours {
        within(bounds::WINDOW_HOURS, h, "slo.window_hours")?;
    }
    if let Some(s) = start {
        within(bounds::HOUR_OF_DAY, f64::from(s), "slo.window_start_utc")?;
    }
    if mode != Mode::Batch {
        for (set, field) in [
            (hours.is_some(), "slo.window_hours"),
            (start.is_some(), "slo.window_start_utc"),
        ] {
            if set {
                return Err(err(
                    field,
                    format!(
                        "a window applies to mode = \"batch\" only (this workload is {}); async \
                         work states `slo.deadline_s`",
                        mode.as_str()
                    ),
                ));
            }
        }
    }
    Ok(())
}

pub(crate) fn check_burstiness(b: f64, field: &str) -> Result<(), PlanError> {
    within(bounds::BURSTINESS, b, field).map_err(|e| match e {
        PlanError::Workload { field, message, .. } => PlanError::input(
            field.unwrap_or_default(),
            format!("{message} (1 = Poisson)"),
        ),
        other => other,
    })
}

/// Checks `value` against its [`bounds`] entry; the error names `field` and the range.
pub(crate) fn within(bound: bounds::Bound, value: f64, field: &str) -> Result<(), PlanError> {
    bound
        .check(value)
        .map(|_| ())
        .map_err(|m| PlanError::input(field, m))
}

/// A workload error about `field`.
pub(crate) fn err(field: impl Into<String>, message: impl Into<String>) -> PlanError {
    PlanError::input(field, message)
}

impl Workload {
    /// Checks that every value makes sense. The first problem is returned as a
    /// [`PlanError::Workload`] naming the field (origin `workload`, no line; see
    /// [`PlanError::locate`] to point into the file).
    pub fn validate(&self) -> Result<(), PlanError> {
        if self.name.trim().is_empty() {
            return Err(err("name", "must not be empty"));
        }

        // Model.
        if self.model.name.trim().is_empty() {
            return Err(err("model.name", "must not be empty"));
        }
        let precision = self.model.precision.trim();
        if !precision.eq_ignore_ascii_case("any") {
            precision
                .parse::<inferplan_catalog::Dtype>()
                .map_err(|m| err("model.precision", format!("{m}, or `any`")))?;
        }
        if self.model.engines.is_empty() {
            return Err(err(
                "model.engines",
                "needs at least one engine (vllm, sglang, trtllm, tgi, lmdeploy, neuron)",
            ));
        }
        for (i, engine) in self.model.engines.iter().enumerate() {
            if inferplan_perf::Engine::from_text(engine).is_none() {
                return Err(err(
                    format!("model.engines[{i}]"),
                    format!(
                        "unknown engine `{engine}`; expected one of: vllm, sglang, trtllm, tgi, \
                         lmdeploy"
                    ),
                ));
            }
        }

        // Traffic.
        let t = &self.traffic;
        within(bounds::RATE_RPS, t.rate_rps, "traffic.rate_rps")?;
        if let Some(peak) = t.peak_rps {
            within(bounds::RATE_RPS, peak, "traffic.peak_rps")?;
            if peak < t.rate_rps {
                return Err(err(
                    "traffic.peak_rps",
                    format!(
                        "the peak ({peak} requests/s) is below the mean rate `traffic.rate_rps` \
                         ({} requests/s)",
                        t.rate_rps
                    ),
                ));
            }
        }
        if let Some(minutes) = t.peak_minutes_per_day {
            within(
                bounds::MINUTES_PER_DAY,
                minutes,
                "traffic.peak_minutes_per_day",
            )?;
            if t.peak_rps.is_none() {
                return Err(err(
                    "traffic.peak_minutes_per_day",
                    "says how long the peak lasts, but `traffic.peak_rps` gives no peak",
                ));
            }
        }
        if let Some(profile) = &t.daily_profile {
            check_profile(profile, "traffic.daily_profile")?;
            if let Some(peak) = t.peak_rps {
                let busiest = self.hourly_rates().into_iter().fold(0.0, f64::max);
                if peak < busiest * (1.0 - 1e-9) {
                    return Err(err(
                        "traffic.peak_rps",
                        format!(
                            "the peak ({peak} requests/s) is below the busiest hour of \
                             `traffic.daily_profile` ({busiest:.4} requests/s)"
                        ),
                    ));
                }
            }
        }
        check_burstiness(t.burstiness, "traffic.burstiness")?;
        self.validate_models()?;

        // Lengths.
        check_length(&self.lengths.input_tokens, "lengths.input_tokens")?;
        check_length(&self.lengths.output_tokens, "lengths.output_tokens")?;
        if let Some(trace) = &self.lengths.trace {
            if trace.trim().is_empty() {
                return Err(err("lengths.trace", "must not be empty"));
            }
        }

        // SLOs.
        let slo = &self.slo;
        for (value, field, bound) in [
            (slo.ttft_ms, "slo.ttft_ms", bounds::LATENCY_MS),
            (slo.tpot_ms, "slo.tpot_ms", bounds::LATENCY_MS),
            (slo.e2e_ms, "slo.e2e_ms", bounds::LATENCY_MS),
            (slo.deadline_s, "slo.deadline_s", bounds::SECONDS),
        ] {
            if let Some(v) = value {
                within(bound, v, field)?;
            }
        }
        check_window(slo.mode, slo.window_hours, slo.window_start_utc)?;
        if slo.mode == Mode::Async && slo.deadline_s.is_none() {
            return Err(err(
                "slo.deadline_s",
                "mode = \"async\" needs a deadline: every request finished within this many \
                 seconds",
            ));
        }

        self.constraints.validate()?;
        self.pricing.validate()
    }
}

/// Distinct per-model rates a workload may give: each is planned on its own.
pub const MAX_DISTINCT_MODEL_RATES: usize = 100;

impl Workload {
    /// Checks `traffic.models`, `traffic.model_rates_rps` and `model.adapters`.
    fn validate_models(&self) -> Result<(), PlanError> {
        let t = &self.traffic;
        within(bounds::MODELS, f64::from(t.models), "traffic.models")?;
        if let Some(rates) = &t.model_rates_rps {
            if rates.len() != t.models as usize {
                return Err(err(
                    "traffic.model_rates_rps",
                    format!(
                        "gives {} rates for the {} models of `traffic.models`: one rate per model",
                        rates.len(),
                        t.models
                    ),
                ));
            }
            for (i, &r) in rates.iter().enumerate() {
                within(
                    bounds::RATE_RPS,
                    r,
                    &format!("traffic.model_rates_rps[{i}]"),
                )?;
            }
            let mean = rates.iter().sum::<f64>() / rates.len() as f64;
            if (mean - t.rate_rps).abs() > 0.01 * t.rate_rps {
                return Err(err(
                    "traffic.model_rates_rps",
                    format!(
                        "the mean of the per-model rates ({mean:.6} requests/s) must be \
                         `traffic.rate_rps` ({} requests/s, the mean rate per model), within 1 %",
                        t.rate_rps
                    ),
                ));
            }
            let mut distinct: Vec<u64> = rates.iter().map(|r| r.to_bits()).collect();
            distinct.sort_unstable();
            distinct.dedup();
            if distinct.len() > MAX_DISTINCT_MODEL_RATES {
                return Err(err(
                    "traffic.model_rates_rps",
                    format!(
                        "{} distinct rates, more than the {MAX_DISTINCT_MODEL_RATES} a plan \
                         sizes one by one: round them to fewer values",
                        distinct.len()
                    ),
                ));
            }
        }
        if let Some(a) = &self.model.adapters {
            within(bounds::LORA_RANK, f64::from(a.rank), "model.adapters.rank")?;
            if !ADAPTER_TARGETS.contains(&a.targets.as_str()) {
                return Err(err(
                    "model.adapters.targets",
                    format!(
                        "unknown target set `{}`; expected one of: {}",
                        a.targets,
                        ADAPTER_TARGETS.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn check_length(length: &Length, field: &str) -> Result<(), PlanError> {
    match *length {
        Length::Fixed(n) => within(bounds::TOKENS, n as f64, field),
        Length::Dist { mean, p99 } => {
            within(
                bounds::TOKENS.allowing_fractions(),
                mean,
                &format!("{field}.mean"),
            )?;
            within(
                bounds::TOKENS.allowing_fractions(),
                p99,
                &format!("{field}.p99"),
            )?;
            if p99 < mean {
                return Err(PlanError::input(
                    format!("{field}.p99"),
                    format!("must be at least the mean ({mean}), got {p99}"),
                ));
            }
            Ok(())
        }
    }
}
