//! The allowed range of every numeric input, in one place.
//!
//! Flags, workload files, plan files and (later) the JSON API check their numbers against these
//! bounds, so a value means the same thing and fails the same way wherever it comes from. Each
//! [`Bound`] says whether the value must be an integer and which interval it lives in; its
//! [`Bound::check`] returns a message naming the allowed range, for the caller to prefix with
//! the field (`--rate-rps`, `traffic.rate_rps`). The table is documented in `docs/limits.md`
//! (a test keeps the two in step).
//!
//! The upper bounds are ceilings on work and on nonsense, not physics: far above any real
//! deployment, low enough that the planner, simulator and renderer finish in seconds and never
//! write a number Kubernetes rejects.

use std::fmt;

/// An interval of allowed values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    /// What the value is, for the documentation table (`requests/s`, `tokens`).
    pub unit: &'static str,
    /// Smallest allowed value.
    pub min: f64,
    /// Whether `min` itself is excluded (`> 0` rather than `≥ 0`).
    pub min_exclusive: bool,
    /// Largest allowed value (inclusive).
    pub max: f64,
    /// Whether the value must be a whole number.
    pub integer: bool,
}

impl Bound {
    const fn interval(unit: &'static str, min: f64, min_exclusive: bool, max: f64) -> Bound {
        Bound {
            unit,
            min,
            min_exclusive,
            max,
            integer: false,
        }
    }

    const fn count(unit: &'static str, min: u64, max: u64) -> Bound {
        Bound {
            unit,
            min: min as f64,
            min_exclusive: false,
            max: max as f64,
            integer: true,
        }
    }

    /// The same interval for a value that may have a fraction (a mean number of tokens).
    pub const fn allowing_fractions(self) -> Bound {
        Bound {
            integer: false,
            ..self
        }
    }

    /// Checks `value`; the error says what is allowed (`must be a number in (0, 100000]
    /// requests/s, got -1`).
    pub fn check(&self, value: f64) -> Result<f64, String> {
        let inside = value.is_finite()
            && if self.min_exclusive {
                value > self.min
            } else {
                value >= self.min
            }
            && value <= self.max
            && (!self.integer || value.fract() == 0.0);
        if inside {
            Ok(value)
        } else {
            Err(format!("must be {self}, got {}", short(value)))
        }
    }

    /// Checks a whole number (see [`Bound::check`]).
    pub fn check_u64(&self, value: u64) -> Result<u64, String> {
        // Exact for every value the bounds allow (all far below 2^53).
        self.check(value as f64).map(|_| value)
    }

    /// Checks an optional value: `None` passes.
    pub fn check_opt(&self, value: Option<f64>) -> Result<(), String> {
        value.map_or(Ok(()), |v| self.check(v).map(|_| ()))
    }
}

/// A number as a person writes it: `1e308` rather than 309 digits.
fn short(v: f64) -> String {
    if v.is_finite() && v != 0.0 && !(1e-6..1e15).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

impl fmt::Display for Bound {
    /// `a number in (0, 100000] requests/s`, `a whole number from 1 to 10000 replicas`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = if self.unit.is_empty() {
            String::new()
        } else {
            format!(" {}", self.unit)
        };
        if self.integer {
            write!(
                f,
                "a whole number from {} to {}{unit}",
                self.min as u64, self.max as u64
            )
        } else {
            write!(
                f,
                "a number in {}{}, {}]{unit}",
                if self.min_exclusive { "(" } else { "[" },
                self.min,
                self.max
            )
        }
    }
}

/// The largest count Kubernetes stores (`int32`): replicas, `maxReplicaCount`.
pub const KUBERNETES_INT32_MAX: u32 = i32::MAX as u32;

/// Request rate, requests/s (`--rate-rps`, `traffic.rate_rps`, `traffic.peak_rps`).
pub const RATE_RPS: Bound = Bound::interval("requests/s", 0.0, true, 100_000.0);
/// Tokens of a prompt or an output; each command also refuses lengths beyond the model's
/// context window.
pub const TOKENS: Bound = Bound::count("tokens", 1, 10_000_000);
/// A latency limit or measurement, milliseconds (`--ttft-ms`, `slo.e2e_ms`).
pub const LATENCY_MS: Bound = Bound::interval("ms", 0.0, true, 86_400_000.0);
/// A duration the user gives, seconds (deadlines, timeouts, cold starts, warm-up, budgets).
pub const SECONDS: Bound = Bound::interval("s", 0.0, true, 2_678_400.0);
/// A duration that may be zero, seconds (warm-up, a known cold start, spot notice).
pub const SECONDS_OR_ZERO: Bound = Bound::interval("s", 0.0, false, 2_678_400.0);
/// Coefficient of variation of inter-arrival gaps (1 = Poisson).
pub const BURSTINESS: Bound = Bound::interval("", 0.0, false, 10.0);
/// A fraction of a whole, exclusive of 0 (`--gpu-memory-utilization`).
pub const FRACTION: Bound = Bound::interval("", 0.0, true, 1.0);
/// A multiplier on memory of at least 1 (`--safety-margin`).
pub const SAFETY_MARGIN: Bound = Bound::interval("", 1.0, false, 10.0);
/// Money per hour or per output, dollars (`--current-usd-per-hour`, managed prices).
pub const USD: Bound = Bound::interval("$", 0.0, false, 1_000_000.0);
/// Replicas of one deployment: the simulator's ceiling, and the most a plan proposes.
pub const REPLICAS: Bound = Bound::count("replicas", 1, 10_000);
/// GPUs per instance or replica, and a tensor- or pipeline-parallel degree.
pub const GPUS: Bound = Bound::count("GPUs", 1, 1_024);
/// Sequences in flight in one replica (`fit --concurrency`, `--max-num-seqs`).
pub const SEQUENCES: Bound = Bound::count("sequences", 1, 1_000_000);
/// Closed-loop clients of a simulation (`simulate --concurrency`).
pub const CLIENTS: Bound = Bound::count("clients", 1, 1_000_000);
/// Requests one simulation may be asked to serve (`--requests`, `--max-sim-requests`).
pub const REQUESTS: Bound = Bound::count("requests", 1, 1_000_000_000);
/// The requests a simulation serves unless `--max-sim-requests` allows more: about half a
/// minute of one core (BENCHMARKS.md: 1 M requests in 5.5 s).
pub const DEFAULT_MAX_SIM_REQUESTS: u64 = 5_000_000;
/// Simulated seconds of one simulation (`--duration`, a trace's span over its repeats).
pub const SIM_SECONDS: Bound = Bound::interval("simulated s", 0.0, true, 2_678_400.0);
/// Configurations one `plan` may evaluate (instances × layouts × precisions × engines; the
/// embedded catalog gives about 2,000 at most).
pub const SEARCH: Bound = Bound::count("configurations", 1, 200_000);
/// Seconds between two autoscaling decisions.
pub const SCALE_INTERVAL: Bound = Bound::interval("s", 1.0, false, 3_600.0);
/// Fewest replicas of an autoscaler (0: KEDA scales to zero).
pub const MIN_REPLICAS: Bound = Bound::count("replicas", 0, 10_000);
/// An autoscaler trigger's target per replica (`simulate --autoscale queue:N`).
pub const SCALE_TARGET: Bound = Bound::interval("", 0.0, true, 1_000_000.0);
/// An autoscaler trigger's activation threshold (`simulate --autoscale queue:N,activation=A`).
pub const ACTIVATION: Bound = Bound::interval("", 0.0, false, 1_000_000.0);
/// A stabilization window, seconds (Kubernetes allows at most an hour).
pub const STABILIZATION_WINDOW: Bound = Bound::count("s", 0, 3_600);
/// Pods or percent a scaling policy allows per period.
pub const POLICY_VALUE: Bound = Bound::count("pods or %", 1, 10_000);
/// A scaling policy's period, seconds (Kubernetes allows 1 to 1800).
pub const POLICY_PERIOD: Bound = Bound::count("s", 1, 1_800);
/// Seeds of one `simulate --seeds` sweep.
pub const SEEDS: Bound = Bound::count("seeds", 1, 1_024);
/// Retries of one request.
pub const RETRIES: Bound = Bound::count("retries", 0, 100);
/// Spot interruptions per replica-hour.
pub const SPOT_RATE: Bound = Bound::interval("per hour", 0.0, false, 60.0);
/// A share of prompt tokens found in the prefix cache (`simulate --prefix-hit-rate`).
pub const HIT_RATE: Bound = Bound::interval("", 0.0, false, 1.0);
/// A factor on a replayed trace's speed (`--time-scale`).
pub const TIME_SCALE: Bound = Bound::interval("", 0.0, true, 1_000_000.0);
/// Passes over a replayed trace (`--repeat`).
pub const REPEAT: Bound = Bound::count("passes", 1, 10_000);
/// Candidates to show or pick (`--top`, `--candidate`).
pub const TOP: Bound = Bound::count("candidates", 1, 10_000);
/// Rows of a listing that may be empty (`--worst`).
pub const LISTED: Bound = Bound::count("rows", 0, 10_000);
/// Tokens per KV-cache block.
pub const BLOCK_TOKENS: Bound = Bound::count("tokens", 1, 1_024);
/// Fewest measured rows for a calibration group of its own.
pub const MIN_ROWS: Bound = Bound::count("rows", 1, 1_000_000);
/// Pull of a calibration group towards its parent.
pub const SHRINK: Bound = Bound::interval("", 0.0, false, 1_000_000.0);
/// An image or frame side, pixels.
pub const PIXELS: Bound = Bound::count("pixels", 16, 16_384);
/// Frames of one video clip (an hour at 24 fps).
pub const FRAMES: Bound = Bound::count("frames", 1, 86_400);
/// Seconds of one video clip.
pub const CLIP_SECONDS: Bound = Bound::interval("s", 0.0, true, 3_600.0);
/// Frames per second of a video.
pub const FPS: Bound = Bound::interval("frames/s", 0.0, true, 240.0);
/// Denoising steps of one job.
pub const STEPS: Bound = Bound::count("steps", 1, 1_000);
/// Images or clips generated together.
pub const BATCH: Bound = Bound::count("outputs", 1, 1_024);
/// Diffusion jobs per day.
pub const JOBS_PER_DAY: Bound = Bound::interval("jobs/day", 0.0, true, 100_000_000.0);
/// Minutes of a day (how long the traffic peak lasts): above zero, at most 24 × 60.
pub const MINUTES_PER_DAY: Bound = Bound::interval("min/day", 0.0, true, 1_440.0);
/// Hours of a day a batch job may run in: above zero, at most 24.
pub const WINDOW_HOURS: Bound = Bound::interval("h", 0.0, true, 24.0);
/// An hour of the day, UTC.
pub const HOUR_OF_DAY: Bound = Bound::count("hour (UTC)", 0, 23);
/// Models one workload serves (`traffic.models`).
pub const MODELS: Bound = Bound::count("models", 1, 1_000);
/// LoRA rank of an adapter (`model.adapters.rank`).
pub const LORA_RANK: Bound = Bound::count("", 1, 1_024);

/// Every bound: what it is, the bound, and the inputs it covers, in the order of
/// `docs/limits.md` (whose table `cargo test` checks against this one).
pub const TABLE: &[(&str, Bound, &str)] = &[
    (
        "request rate",
        RATE_RPS,
        "`--rate-rps`, `--peak-rps`, `traffic.rate_rps`, `traffic.peak_rps`",
    ),
    (
        "prompt or output length",
        TOKENS,
        "`--input-tokens`, `--output-tokens`, `--context`, `--max-num-batched-tokens`, `lengths.*`; also at most the model's context window",
    ),
    (
        "latency limit",
        LATENCY_MS,
        "`--ttft-ms`, `--tpot-ms`, `--e2e-ms`, `slo.*_ms`",
    ),
    (
        "duration",
        SECONDS,
        "`--deadline-s`, `--timeout-s`, `--cold-start-budget-s`, `--latency-s`, `slo.deadline_s`, `slo.latency_s`, `constraints.cold_start_budget_s`",
    ),
    (
        "duration that may be zero",
        SECONDS_OR_ZERO,
        "`--warmup-s`, `--cold-start-s`, `--spot-notice-s`, `--metric-lag-s`, `--scale-to-zero-after-s`",
    ),
    (
        "batch window",
        WINDOW_HOURS,
        "`slo.window_hours`",
    ),
    (
        "hour of the day",
        HOUR_OF_DAY,
        "`slo.window_start_utc`",
    ),
    (
        "burstiness",
        BURSTINESS,
        "`--burstiness`, `traffic.burstiness`, `simulate --arrivals gamma:cv=C`",
    ),
    (
        "fraction",
        FRACTION,
        "`--gpu-memory-utilization`",
    ),
    (
        "safety margin",
        SAFETY_MARGIN,
        "`fit --safety-margin`",
    ),
    (
        "price",
        USD,
        "`--current-usd-per-hour`, `--managed-usd-per-clip`, `managed.usd_per_output`, `--eks-operations-usd-per-hour` and `constraints.eks_operations_usd_per_hour` (0 allowed), `on_demand_usd_hr` of a SageMaker row of `prices.csv` (above 0)",
    ),
    (
        "replicas",
        REPLICAS,
        "`simulate --replicas`, `--max-replicas`; the most replicas a plan proposes",
    ),
    (
        "GPUs, TP, PP",
        GPUS,
        "`--gpus`, `--tp`, `--pp`, `--max-gpus-per-replica`, `constraints.max_gpus_per_replica`",
    ),
    (
        "sequences in flight",
        SEQUENCES,
        "`fit --concurrency`, `estimate --concurrency`, `--max-num-seqs`",
    ),
    (
        "simulated clients",
        CLIENTS,
        "`simulate --concurrency`",
    ),
    (
        "simulated requests",
        REQUESTS,
        "`simulate --requests`, `--max-sim-requests` (default 5000000), the rate × `--duration`, a trace's rows × `--repeat`, each `plan --verify` run",
    ),
    (
        "simulated time",
        SIM_SECONDS,
        "`simulate --duration`, the requests at the traffic's mean rate, a trace's span",
    ),
    (
        "plan search",
        SEARCH,
        "instances × layouts × precisions × engines of one `plan`",
    ),
    (
        "autoscaling interval",
        SCALE_INTERVAL,
        "`--scale-interval-s`",
    ),
    (
        "fewest autoscaled replicas",
        MIN_REPLICAS,
        "`simulate --min-replicas` (0 scales to zero)",
    ),
    (
        "autoscaling target",
        SCALE_TARGET,
        "`simulate --autoscale queue:N`, `inflight:N` (`gpu:F` takes a fraction)",
    ),
    (
        "activation threshold",
        ACTIVATION,
        "`simulate --autoscale ...,activation=A`",
    ),
    (
        "stabilization window",
        STABILIZATION_WINDOW,
        "`--scale-up-stabilization-s`, `--scale-down-stabilization-s`",
    ),
    (
        "scaling policy value",
        POLICY_VALUE,
        "`--scale-up-policy`, `--scale-down-policy` (`pods:N/P`, `percent:N/P`)",
    ),
    (
        "scaling policy period",
        POLICY_PERIOD,
        "the `/P` of `--scale-up-policy`, `--scale-down-policy`",
    ),
    (
        "seeds",
        SEEDS,
        "`simulate --seeds`",
    ),
    (
        "retries",
        RETRIES,
        "`simulate --retries`",
    ),
    (
        "spot interruptions",
        SPOT_RATE,
        "`--spot-rate-per-hour`",
    ),
    (
        "trace time scale",
        TIME_SCALE,
        "`--time-scale`",
    ),
    (
        "prefix-cache hit rate",
        HIT_RATE,
        "`simulate --prefix-hit-rate`",
    ),
    (
        "trace repeats",
        REPEAT,
        "`--repeat`",
    ),
    (
        "candidates shown or picked",
        TOP,
        "`plan --top`, `render --candidate`",
    ),
    (
        "listed rows",
        LISTED,
        "`validate --worst`",
    ),
    (
        "KV-cache block",
        BLOCK_TOKENS,
        "`fit --block-size`",
    ),
    (
        "calibration group rows",
        MIN_ROWS,
        "`calibrate --min-rows`",
    ),
    (
        "calibration shrinkage",
        SHRINK,
        "`calibrate --shrink`",
    ),
    (
        "image side",
        PIXELS,
        "`--width`, `--height`, `job.width`, `job.height` (also a multiple of the model's latent patch)",
    ),
    (
        "video frames",
        FRAMES,
        "`--frames`, `job.frames`, and the frames `--seconds` × `--fps` make",
    ),
    (
        "video seconds",
        CLIP_SECONDS,
        "`--seconds`, `job.seconds`",
    ),
    (
        "frames per second",
        FPS,
        "`--fps`, `job.fps`",
    ),
    (
        "denoising steps",
        STEPS,
        "`--steps`, `job.steps`",
    ),
    (
        "batch",
        BATCH,
        "`--batch`, `job.batch`",
    ),
    (
        "jobs per day",
        JOBS_PER_DAY,
        "`--jobs-per-day`, `traffic.jobs_per_day`, 24 × `traffic.jobs_per_hour`",
    ),
    (
        "minutes of a day",
        MINUTES_PER_DAY,
        "`--peak-minutes-per-day`, `traffic.peak_minutes_per_day`",
    ),
    (
        "models served",
        MODELS,
        "`traffic.models` (and the length of `traffic.model_rates_rps`)",
    ),
    (
        "LoRA rank",
        LORA_RANK,
        "`model.adapters.rank`",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_finiteness_range_and_integrality() {
        assert_eq!(RATE_RPS.check(5.0), Ok(5.0));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e308] {
            let e = RATE_RPS.check(bad).unwrap_err();
            assert!(e.contains("(0, 100000] requests/s"), "{e}");
        }
        assert!(TOKENS.check(1.5).is_err());
        assert_eq!(TOKENS.check_u64(8192), Ok(8192));
        assert_eq!(
            REPLICAS.check_u64(4_294_967_295).unwrap_err(),
            "must be a whole number from 1 to 10000 replicas, got 4294967295"
        );
        assert!(SECONDS_OR_ZERO.check(0.0).is_ok());
        assert!(SECONDS.check(0.0).is_err());
        assert!(SECONDS.check_opt(None).is_ok());
    }

    #[test]
    fn every_count_fits_kubernetes() {
        assert!(REPLICAS.max <= f64::from(KUBERNETES_INT32_MAX));
        assert!(TABLE.iter().all(|(_, b, _)| b.min <= b.max));
    }

    /// `docs/limits.md` shows this table; `UPDATE_DOCS=1` rewrites it from the code.
    #[test]
    fn docs_show_the_table() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/limits.md");
        let doc = std::fs::read_to_string(&path).unwrap();
        let (start, end) = ("<!-- bounds table", "<!-- end of bounds table -->");
        let head = doc.find(start).expect("start marker");
        let head = head + doc[head..].find('\n').unwrap() + 1;
        let tail = doc.find(end).expect("end marker");
        let mut table = "| input | allowed | flags and fields |\n|---|---|---|\n".to_owned();
        for (name, bound, inputs) in TABLE {
            table += &format!("| {name} | {bound} | {inputs} |\n");
        }
        if std::env::var_os("UPDATE_DOCS").is_some() {
            let updated = format!("{}{table}{}", &doc[..head], &doc[tail..]);
            std::fs::write(&path, updated).unwrap();
        } else {
            assert_eq!(
                &doc[head..tail],
                table,
                "docs/limits.md is stale: run UPDATE_DOCS=1 cargo test -p inferplan-catalog"
            );
        }
    }
}
