//! The workload a plan is for: model, traffic, request lengths, SLOs and constraints, read
//! from a TOML file (`inferplan plan WORKLOAD.toml`) or built from flags. Every field but
//! `model.name` and `traffic.rate_rps` has a default (see `docs/plan.md`); unknown fields are
//! an error.
//!
//! [`Workload::from_toml`] reads the text, [`Workload::resolve_lengths`] takes the lengths
//! from a trace, and [`Workload::validate`] checks the values; [`Workload::load`] does all
//! three for a file.

use crate::error::{line_of_offset, PlanError};
use crate::trace::Trace;
use inferplan_catalog::bounds;
use serde::{de, Deserialize, Serialize};
use std::fmt;
use std::ops::Range;
use std::path::Path;

/// A whole workload description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// A short name for reports.
    #[serde(default = "default_name")]
    pub name: String,
    /// What is served.
    pub model: ModelSpecIn,
    /// How much traffic.
    pub traffic: Traffic,
    /// Request lengths.
    #[serde(default)]
    pub lengths: Lengths,
    /// Latency promises.
    #[serde(default)]
    pub slo: Slo,
    /// What the deployment may use.
    #[serde(default)]
    pub constraints: Constraints,
    /// Pricing assumptions.
    #[serde(default)]
    pub pricing: Pricing,
}

fn default_name() -> String {
    "workload".to_owned()
}

/// The model and its precision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpecIn {
    /// Catalog name, alias or Hugging Face id.
    pub name: String,
    /// Weight format (`bf16`, `fp8`, `int4`, `fp4`, ...) or `any` (the planner chooses).
    #[serde(default = "default_precision")]
    pub precision: String,
    /// Serving engines to consider (`vllm`, `sglang`, `trtllm`, `tgi`, `lmdeploy`).
    #[serde(default = "default_engines")]
    pub engines: Vec<String>,
}

fn default_precision() -> String {
    "bf16".to_owned()
}

fn default_engines() -> Vec<String> {
    vec!["vllm".to_owned()]
}

/// Request rates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Traffic {
    /// Mean request rate over the day, requests/s.
    pub rate_rps: f64,
    /// Peak request rate the deployment must serve within the SLOs. Default: the highest hour
    /// of `daily_profile`, else `rate_rps`.
    #[serde(default)]
    pub peak_rps: Option<f64>,
    /// 24 relative weights, one per hour (UTC), scaled so that their mean is `rate_rps`.
    #[serde(default)]
    pub daily_profile: Option<Vec<f64>>,
    /// Coefficient of variation of the inter-arrival times: 1 for Poisson, higher for bursty
    /// traffic.
    #[serde(default = "one")]
    pub burstiness: f64,
    /// Models served with this same traffic each (e.g. customer-specific fine-tunes). More than
    /// one with little traffic each points to a shared multi-model endpoint.
    #[serde(default = "one_model")]
    pub models: u32,
}

fn one_model() -> u32 {
    1
}

fn one() -> f64 {
    1.0
}

/// A length: a fixed number of tokens, or a distribution given by its mean and p99.
///
/// In TOML: `input_tokens = 1000`, `input_tokens = { mean = 1000, p99 = 4000 }`, or a
/// histogram `input_tokens = { histogram = [[tokens, weight], ...] }`. A histogram is read
/// as a distribution: its weighted mean and its 99th percentile (the smallest bin whose
/// cumulative weight reaches 99 %) become a [`Length::Dist`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Length {
    /// Always this many tokens.
    Fixed(u64),
    /// Mean and 99th percentile.
    Dist {
        /// Mean tokens.
        mean: f64,
        /// 99th-percentile tokens.
        p99: f64,
    },
}

impl Length {
    /// Mean tokens.
    pub fn mean(&self) -> f64 {
        match *self {
            Length::Fixed(n) => n as f64,
            Length::Dist { mean, .. } => mean,
        }
    }

    /// 99th-percentile tokens.
    pub fn p99(&self) -> f64 {
        match *self {
            Length::Fixed(n) => n as f64,
            Length::Dist { p99, .. } => p99,
        }
    }

    /// The distribution of a histogram of `(tokens, weight)` bins: weighted mean and the
    /// smallest bin whose cumulative weight reaches 99 % of the total.
    ///
    /// Errors (as a message) when the histogram is empty, a bin has fewer than one token or a
    /// negative or non-finite weight, or the weights sum to zero.
    pub fn from_histogram(bins: &[(f64, f64)]) -> Result<Length, String> {
        if bins.is_empty() {
            return Err("a histogram needs at least one `[tokens, weight]` bin".to_owned());
        }
        for (i, &(tokens, weight)) in bins.iter().enumerate() {
            if !(tokens.is_finite() && tokens >= 1.0) {
                return Err(format!(
                    "histogram bin {i}: tokens must be at least 1, got {tokens}"
                ));
            }
            if !(weight.is_finite() && weight >= 0.0) {
                return Err(format!(
                    "histogram bin {i}: weight must be a non-negative number, got {weight}"
                ));
            }
        }
        let total: f64 = bins.iter().map(|b| b.1).sum();
        if !(total > 0.0 && total.is_finite()) {
            return Err("histogram weights must have a positive, finite sum".to_owned());
        }
        let mean = bins.iter().map(|&(t, w)| t * w).sum::<f64>() / total;
        let mut sorted = bins.to_vec();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let target = 0.99 * total;
        let mut cumulative = 0.0;
        let mut p99 = sorted[sorted.len() - 1].0;
        for &(tokens, weight) in &sorted {
            cumulative += weight;
            // A relative tolerance, so that weights given as percentages summing to 99 reach it.
            if cumulative >= target * (1.0 - 1e-12) {
                p99 = tokens;
                break;
            }
        }
        Ok(Length::Dist { mean, p99 })
    }
}

const LENGTH_KEYS: &[&str] = &["mean", "p99", "histogram"];
const LENGTH_EXPECTING: &str = "a whole number of tokens, `{ mean = .., p99 = .. }` or \
     `{ histogram = [[tokens, weight], ...] }`";

impl<'de> Deserialize<'de> for Length {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LengthVisitor)
    }
}

struct LengthVisitor;

impl<'de> de::Visitor<'de> for LengthVisitor {
    type Value = Length;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(LENGTH_EXPECTING)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Length, E> {
        Ok(Length::Fixed(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Length, E> {
        u64::try_from(v)
            .map(Length::Fixed)
            .map_err(|_| E::custom(format!("a length must be at least 1 token, got {v}")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Length, E> {
        if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 1e15 {
            Ok(Length::Fixed(v as u64))
        } else {
            Err(E::custom(format!(
                "a fixed length is a whole number of tokens, got {v}; write \
                 `{{ mean = .., p99 = .. }}` for a distribution"
            )))
        }
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Length, A::Error> {
        let mut mean: Option<f64> = None;
        let mut p99: Option<f64> = None;
        let mut histogram: Option<Vec<Vec<f64>>> = None;
        while let Some(key) = map.next_key_seed(LengthKeySeed)? {
            match key {
                LengthKey::Mean => mean = Some(map.next_value()?),
                LengthKey::P99 => p99 = Some(map.next_value()?),
                LengthKey::Histogram => histogram = Some(map.next_value()?),
            }
        }
        match (mean, p99, histogram) {
            (None, None, Some(bins)) => {
                let mut pairs = Vec::with_capacity(bins.len());
                for (i, bin) in bins.iter().enumerate() {
                    match bin[..] {
                        [tokens, weight] => pairs.push((tokens, weight)),
                        _ => {
                            return Err(de::Error::custom(format!(
                                "histogram bin {i}: expected `[tokens, weight]`, got {} numbers",
                                bin.len()
                            )))
                        }
                    }
                }
                Length::from_histogram(&pairs).map_err(de::Error::custom)
            }
            (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => Err(de::Error::custom(
                "give either `histogram` or `mean` and `p99`, not both",
            )),
            (Some(mean), Some(p99), None) => Ok(Length::Dist { mean, p99 }),
            (Some(_), None, None) => Err(de::Error::missing_field("p99")),
            (None, Some(_), None) => Err(de::Error::missing_field("mean")),
            (None, None, None) => Err(de::Error::custom(format!(
                "empty table; expected {LENGTH_EXPECTING}"
            ))),
        }
    }
}

/// The keys of a length table.
enum LengthKey {
    Mean,
    P99,
    Histogram,
}

/// Reads a key of a length table, so that an unknown key is reported at the key itself.
struct LengthKeySeed;

impl<'de> de::DeserializeSeed<'de> for LengthKeySeed {
    type Value = LengthKey;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<LengthKey, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de> de::Visitor<'de> for LengthKeySeed {
    type Value = LengthKey;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("`mean`, `p99` or `histogram`")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<LengthKey, E> {
        match v {
            "mean" => Ok(LengthKey::Mean),
            "p99" => Ok(LengthKey::P99),
            "histogram" => Ok(LengthKey::Histogram),
            other => Err(E::unknown_field(other, LENGTH_KEYS)),
        }
    }
}

/// Request lengths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lengths {
    /// Prompt tokens.
    #[serde(default = "default_input")]
    pub input_tokens: Length,
    /// Generated tokens.
    #[serde(default = "default_output")]
    pub output_tokens: Length,
    /// A trace (`TIMESTAMP,ContextTokens,GeneratedTokens` as in the Azure LLM traces, or
    /// `arrival_s,input_tokens,output_tokens`) to take the lengths from instead.
    #[serde(default)]
    pub trace: Option<String>,
}

fn default_input() -> Length {
    Length::Fixed(1000)
}

fn default_output() -> Length {
    Length::Fixed(200)
}

impl Default for Lengths {
    fn default() -> Self {
        Lengths {
            input_tokens: default_input(),
            output_tokens: default_output(),
            trace: None,
        }
    }
}

/// What the SLO percentiles refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Percentile {
    /// Median.
    P50,
    /// 90th percentile.
    P90,
    /// 99th percentile.
    P99,
}

impl Percentile {
    /// As a fraction (0.5, 0.9, 0.99).
    pub fn quantile(self) -> f64 {
        match self {
            Percentile::P50 => 0.5,
            Percentile::P90 => 0.9,
            Percentile::P99 => 0.99,
        }
    }
}

/// How latency matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Real-time: the SLOs hold at the peak rate.
    Interactive,
    /// Queueing allowed: every request done within `deadline_s`.
    Async,
    /// Throughput only.
    Batch,
}

/// Latency promises. A missing limit is not checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slo {
    /// Time to first token limit, ms.
    #[serde(default)]
    pub ttft_ms: Option<f64>,
    /// Time per output token limit, ms.
    #[serde(default)]
    pub tpot_ms: Option<f64>,
    /// End-to-end latency limit, ms.
    #[serde(default)]
    pub e2e_ms: Option<f64>,
    /// Percentile the limits refer to.
    #[serde(default = "default_percentile")]
    pub percentile: Percentile,
    /// Interactive, async or batch.
    #[serde(default = "default_mode")]
    pub mode: Mode,
    /// For async work: every request finished within this many seconds of its arrival.
    /// Required with `mode = "async"`, unused otherwise.
    #[serde(default)]
    pub deadline_s: Option<f64>,
}

fn default_percentile() -> Percentile {
    Percentile::P99
}

fn default_mode() -> Mode {
    Mode::Interactive
}

impl Default for Slo {
    fn default() -> Self {
        Slo {
            ttft_ms: None,
            tpot_ms: None,
            e2e_ms: None,
            percentile: default_percentile(),
            mode: default_mode(),
            deadline_s: None,
        }
    }
}

/// Tenancy of the deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tenancy {
    /// GPUs may be shared with other workloads.
    Shared,
    /// The tenant needs hardware isolation: MIG partitions or whole instances.
    Isolated,
}

/// Data classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataClass {
    /// No special handling.
    General,
    /// Regulated data: dedicated-capable instance sizes in the allowed regions only.
    Regulated,
}

/// What the deployment may use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constraints {
    /// Allowed regions; the cheapest is chosen.
    #[serde(default = "default_regions")]
    pub regions: Vec<String>,
    /// Shared or isolated.
    #[serde(default = "default_tenancy")]
    pub tenancy: Tenancy,
    /// General or regulated.
    #[serde(default = "default_data_class")]
    pub data_class: DataClass,
    /// Most GPUs one replica may span.
    #[serde(default = "default_max_gpus")]
    pub max_gpus_per_replica: u32,
    /// Instance families allowed (e.g. `g6e`, `p5`); empty = all.
    #[serde(default)]
    pub instance_families: Vec<String>,
    /// Longest acceptable cold start of a new replica, seconds.
    #[serde(default)]
    pub cold_start_budget_s: Option<f64>,
    /// Keep one instance of spare replicas (N+1 instances).
    #[serde(default)]
    pub redundancy: bool,
    /// Where weights are loaded from on a cold start: `s3`, `nvme` or `fsx`.
    #[serde(default = "default_weights_source")]
    pub weights_source: String,
}

fn default_regions() -> Vec<String> {
    vec![inferplan_catalog::DEFAULT_REGION.to_owned()]
}

fn default_tenancy() -> Tenancy {
    Tenancy::Shared
}

fn default_data_class() -> DataClass {
    DataClass::General
}

fn default_max_gpus() -> u32 {
    8
}

fn default_weights_source() -> String {
    "s3".to_owned()
}

impl Default for Constraints {
    fn default() -> Self {
        Constraints {
            regions: default_regions(),
            tenancy: default_tenancy(),
            data_class: default_data_class(),
            max_gpus_per_replica: default_max_gpus(),
            instance_families: Vec::new(),
            cold_start_budget_s: None,
            redundancy: false,
            weights_source: default_weights_source(),
        }
    }
}

/// Pricing assumptions where the catalog has no rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pricing {
    /// Discount of a 1-year compute savings plan off on-demand (an assumption: the catalog
    /// has no savings-plan rates).
    #[serde(default = "default_savings_plan")]
    pub savings_plan_discount: f64,
    /// Extra work spot capacity needs for interruptions (re-running lost requests), as a
    /// fraction.
    #[serde(default = "default_spot_overhead")]
    pub spot_interruption_overhead: f64,
    /// Allow spot capacity for async and batch work.
    #[serde(default = "yes")]
    pub allow_spot: bool,
}

fn default_savings_plan() -> f64 {
    0.30
}

fn default_spot_overhead() -> f64 {
    0.10
}

fn yes() -> bool {
    true
}

impl Default for Pricing {
    fn default() -> Self {
        Pricing {
            savings_plan_discount: default_savings_plan(),
            spot_interruption_overhead: default_spot_overhead(),
            allow_spot: true,
        }
    }
}

/// Reads a TOML document into `T`, with errors naming the line and the dotted field path.
pub(crate) fn parse_toml<T: de::DeserializeOwned>(
    text: &str,
    origin: &str,
) -> Result<T, PlanError> {
    let root = toml::de::DeTable::parse(text).map_err(|e| {
        let line = e.span().map(|s| line_of_offset(text, s.start));
        PlanError::Workload {
            origin: origin.to_owned(),
            line,
            field: None,
            message: one_line(e.message()),
        }
    })?;
    T::deserialize(toml::de::Deserializer::from(root.clone())).map_err(|e| {
        let (line, mut field) = match e.span() {
            Some(span) if !span.is_empty() => (
                Some(line_of_offset(text, span.start)),
                field_at(root.get_ref(), span),
            ),
            _ => (None, String::new()),
        };
        // A missing field is reported at its table; name the field itself.
        if let Some(missing) = backticked_after(e.message(), "missing field ") {
            if !field.is_empty() {
                field.push('.');
            }
            field.push_str(missing);
        }
        PlanError::Workload {
            origin: origin.to_owned(),
            line,
            field: (!field.is_empty()).then_some(field),
            message: one_line(e.message()),
        }
    })
}

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

/// Weight sources a cold start may load from.
pub const WEIGHTS_SOURCES: [&str; 3] = ["s3", "nvme", "fsx"];

impl Workload {
    /// Reads a workload from TOML text. `origin` (usually the file name) is used in errors.
    ///
    /// Syntax errors, unknown fields, missing required fields and values of the wrong type
    /// are errors naming the line and the dotted field path. The values are not checked for
    /// sense here: call [`Workload::validate`] after applying any overrides.
    pub fn from_toml(text: &str, origin: &str) -> Result<Workload, PlanError> {
        parse_toml(text, origin)
    }

    /// Reads a workload file: parses it, takes the lengths from its trace if it names one
    /// (relative to the file's directory), and validates it, with errors naming the file and
    /// line. To apply overrides (command-line flags) before validating, use
    /// [`Workload::from_toml`], [`Workload::resolve_lengths`], then [`Workload::validate`]
    /// with [`PlanError::locate`].
    pub fn load(path: &Path) -> Result<Workload, PlanError> {
        let text = std::fs::read_to_string(path).map_err(|source| PlanError::Io {
            path: path.to_owned(),
            source,
        })?;
        let origin = path.display().to_string();
        let mut workload = Workload::from_toml(&text, &origin)?;
        workload.resolve_lengths(path.parent().unwrap_or(Path::new(".")))?;
        workload.validate().map_err(|e| e.locate(&origin, &text))?;
        Ok(workload)
    }

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
                "needs at least one engine (vllm, sglang, trtllm, tgi, lmdeploy)",
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

    /// The peak request rate the deployment must serve: `traffic.peak_rps` when given, else
    /// the busiest hour of the daily profile, else the mean rate.
    pub fn peak_rps(&self) -> f64 {
        match (self.traffic.peak_rps, &self.traffic.daily_profile) {
            (Some(peak), _) => peak,
            (None, Some(_)) => self.hourly_rates().into_iter().fold(0.0, f64::max),
            (None, None) => self.traffic.rate_rps,
        }
    }

    /// Mean request rate of each hour of the day (UTC): the daily profile scaled so that its
    /// mean is `traffic.rate_rps`, or `rate_rps` in every hour without a (valid) profile.
    pub fn hourly_rates(&self) -> [f64; 24] {
        let rate = self.traffic.rate_rps;
        let mut rates = [rate; 24];
        if let Some(profile) = &self.traffic.daily_profile {
            let sum: f64 = profile.iter().sum();
            let valid = profile.len() == 24
                && sum > 0.0
                && sum.is_finite()
                && profile.iter().all(|w| w.is_finite() && *w >= 0.0);
            if valid {
                for (r, w) in rates.iter_mut().zip(profile) {
                    *r = rate * w * 24.0 / sum;
                }
            }
        }
        rates
    }

    /// When `lengths.trace` names a trace, reads it and replaces the input and output lengths
    /// by the trace's mean and 99th percentile. A relative path is resolved against
    /// `base_dir` (the directory of the workload file). Without a trace, does nothing.
    ///
    /// A percentile below the mean (a trace whose top 1 % is far out) is raised to the mean,
    /// so that the result validates.
    pub fn resolve_lengths(&mut self, base_dir: &Path) -> Result<(), PlanError> {
        let Some(trace) = &self.lengths.trace else {
            return Ok(());
        };
        let path = Path::new(trace);
        let path = if path.is_absolute() {
            path.to_owned()
        } else {
            base_dir.join(path)
        };
        let trace = Trace::read(&path)?;
        let stats = trace.stats();
        let dist = |s: crate::trace::LengthStats| Length::Dist {
            mean: s.mean,
            p99: (s.p99 as f64).max(s.mean),
        };
        self.lengths.input_tokens = dist(stats.input);
        self.lengths.output_tokens = dist(stats.output);
        Ok(())
    }
}

impl Mode {
    /// The name used in workload files (`interactive`, `async`, `batch`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Interactive => "interactive",
            Mode::Async => "async",
            Mode::Batch => "batch",
        }
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

/// Joins the lines of a message, so that every error is one line.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The text between the backticks that follow `prefix` in `message`.
fn backticked_after<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = &message[message.find(prefix)? + prefix.len()..];
    let rest = rest.strip_prefix('`')?;
    Some(&rest[..rest.find('`')?])
}

type DeTable<'i> = toml::de::DeTable<'i>;
type DeValue<'i> = toml::de::DeValue<'i>;

/// The dotted path (`slo.ttft_ms`, `traffic.daily_profile[3]`) of the innermost key or
/// value of `table` whose text contains the error span `target`; empty when none does (an
/// empty span is the document itself).
///
/// The whole tree is searched: the span of a `[header]` table covers only its header, and
/// that of a dotted-key table only the key, so a parent's span need not contain its children.
fn field_at(table: &DeTable<'_>, target: Range<usize>) -> String {
    if target.is_empty() {
        return String::new();
    }
    let mut best: Option<(usize, String)> = None;
    let mut path = String::new();
    search_table(table, &target, &mut path, &mut best);
    best.map(|(_, p)| p).unwrap_or_default()
}

type Best = Option<(usize, String)>;

fn consider(span: Range<usize>, target: &Range<usize>, path: &str, best: &mut Best) {
    let contains = span.start <= target.start && target.end <= span.end;
    if contains && best.as_ref().is_none_or(|(len, _)| span.len() <= *len) {
        *best = Some((span.len(), path.to_owned()));
    }
}

fn search_table(table: &DeTable<'_>, target: &Range<usize>, path: &mut String, best: &mut Best) {
    for (key, value) in table.iter() {
        let len = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key.get_ref());
        consider(key.span(), target, path, best);
        consider(value.span(), target, path, best);
        search_value(value.get_ref(), target, path, best);
        path.truncate(len);
    }
}

fn search_value(value: &DeValue<'_>, target: &Range<usize>, path: &mut String, best: &mut Best) {
    match value {
        DeValue::Table(table) => search_table(table, target, path, best),
        DeValue::Array(array) => {
            for (i, item) in array.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                consider(item.span(), target, path, best);
                search_value(item.get_ref(), target, path, best);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// 1-based line where the field at dotted `path` (as [`PlanError`] names fields) is written
/// in the TOML `text`; the line of the deepest part of the path that is written, or `None`
/// when not even its first part is.
pub(crate) fn line_of_field(text: &str, path: &str) -> Option<usize> {
    let root = toml::de::DeTable::parse(text).ok()?;
    let mut value: Option<&DeValue<'_>> = None;
    let mut table: Option<&DeTable<'_>> = Some(root.get_ref());
    let mut line = None;
    for segment in path.split('.') {
        let (key, indices) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        let t = match (table, value) {
            (Some(t), _) => t,
            (None, Some(DeValue::Table(t))) => t,
            _ => break,
        };
        let Some((k, v)) = t.iter().find(|(k, _)| k.get_ref() == key) else {
            break;
        };
        line = Some(line_of_offset(text, k.span().start));
        let mut current = v;
        for index in indices
            .split(['[', ']'])
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse::<usize>().ok())
        {
            match current.get_ref() {
                DeValue::Array(a) if index < a.len() => {
                    current = &a[index];
                    line = Some(line_of_offset(text, current.span().start));
                }
                _ => return line,
            }
        }
        table = None;
        value = Some(current.get_ref());
    }
    line
}
