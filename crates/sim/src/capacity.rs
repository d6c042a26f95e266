//! Per-replica capacity by simulation, and the agreement of the planner's analytic capacity
//! with it.
//!
//! [`simulated`] finds the highest request rate one replica serves with every SLO met at the
//! workload's percentile: a fixed seed, a fixed number of requests, gamma arrivals with the
//! workload's burstiness and its length distributions, the first tenth of the requests left
//! out as warm-up; the rate is searched up or down from a hint, then bisected. [`MATRIX`] is
//! the set of workloads `inferplan validate --capacity` scores the planner on (VALIDATION.md).

use crate::fleet::{simulate, Client, FleetConfig, Router, SimReport, Slo};
use crate::traffic::{Arrivals, LengthDist, Limit, Traffic, TrafficSpec};
use inferplan_catalog::Dtype;
use inferplan_perf::parallel::{self, Progress};
use inferplan_perf::step::Efficiency;
use inferplan_perf::{Engine, Replica};
use inferplan_plan::error::PlanError;
use inferplan_plan::search::{analytic_capacity, Inputs, LayoutChoice};
use inferplan_plan::workload::{Mode, Workload};
use serde::Serialize;

/// Share of the requests left out of the latency figures at the start (an empty replica
/// answers faster than one in steady state).
const WARMUP_SHARE: f64 = 0.1;
/// The search stops when the rate is known within this ratio.
const PRECISION: f64 = 1.02;

/// The traffic of `w` at `rate_rps`: gamma arrivals with its burstiness (Poisson at 1), its
/// length distributions, `requests` requests.
pub fn traffic_spec(w: &Workload, rate_rps: f64, requests: u64) -> TrafficSpec {
    let cv = w.traffic.burstiness;
    let arrivals = if (cv - 1.0).abs() < 1e-9 {
        Arrivals::Poisson { rate_rps }
    } else {
        Arrivals::Gamma { rate_rps, cv }
    };
    TrafficSpec {
        arrivals,
        input: LengthDist::from(w.lengths.input_tokens),
        output: LengthDist::from(w.lengths.output_tokens),
        limit: Limit::Requests(requests),
    }
}

/// The router in front of a rendered fleet serving `w`: requests that arrive on their own go
/// through the Kubernetes Service `render` writes, whose kube-proxy sends each connection to a
/// pod drawn at random (SageMaker's default routing is random too); a batch job's requests
/// are its client's backlog, handed to the replicas as they free a slot, which pools the
/// queue as a least-outstanding router does.
pub fn rendered_router(w: &Workload) -> Router {
    if w.slo.mode == Mode::Batch {
        Router::LeastOutstanding
    } else {
        Router::Random
    }
}

/// A fixed fleet of `replicas` replicas serving `w` behind its [`rendered_router`], with no
/// autoscaler, spot, timeouts or cold starts: what sizing is checked on.
pub fn fixed_fleet(
    replica: Replica,
    efficiency: Efficiency,
    replicas: u32,
    w: &Workload,
    usd_per_replica_hour: f64,
) -> FleetConfig {
    FleetConfig {
        replica,
        efficiency,
        replicas,
        router: rendered_router(w),
        autoscaler: None,
        managed: None,
        spot: None,
        client: Client {
            timeout_s: None,
            max_retries: 0,
            idempotency_keys: true,
        },
        cold_start_s: 0.0,
        usd_per_replica_hour,
        nodes: None,
        // An async workload is held to its deadline, as in `simulate --workload` and the day.
        slo: Slo::of(&w.slo),
        sample_s: 60.0,
        closed_loop: None,
        warmup_s: 0.0,
        prefix_hit_rate: 0.0,
    }
}

/// Whether a simulation met every SLO of `w` at its percentile: for each limit, at least the
/// percentile's share of the requests is within it (the percentile of that latency is within
/// the limit). Requests never answered count as outside.
pub fn meets(r: &SimReport, w: &Workload) -> bool {
    let q = w.slo.percentile.quantile();
    let Some(a) = r.slo_attainment else {
        return r.requests_failed == 0;
    };
    let answered = r.requests_completed as f64;
    let scale = answered / (answered + r.requests_failed as f64).max(1.0);
    [a.ttft, a.tpot, a.e2e]
        .into_iter()
        .flatten()
        .all(|share| share * scale >= q)
}

/// One simulation of `fleet` serving `w` at `rate_rps` for `requests` requests, the first
/// tenth of them left out of the figures as warm-up.
pub fn run(
    fleet: &FleetConfig,
    w: &Workload,
    rate_rps: f64,
    requests: u64,
    seed: u64,
) -> Result<SimReport, PlanError> {
    let cfg = FleetConfig {
        warmup_s: requests as f64 * WARMUP_SHARE / rate_rps,
        prefix_hit_rate: 0.0,
        ..fleet.clone()
    };
    let spec = traffic_spec(w, rate_rps, requests);
    let traffic =
        Traffic::new(spec, seed).map_err(|e| PlanError::input("simulate", e.to_string()))?;
    Ok(simulate(&cfg, traffic, seed))
}

/// The highest rate (requests/s) one replica serves with every SLO of `w` met at its
/// percentile, within 2 %: from `hint` (the analytic capacity), up by a quarter while it
/// passes or down while it fails, then bisected. Zero when even a hundredth of the hint fails.
pub fn simulated(
    replica: &Replica,
    eff: &Efficiency,
    w: &Workload,
    hint: f64,
    requests: u64,
    seed: u64,
) -> Result<f64, PlanError> {
    let one = fixed_fleet(replica.clone(), *eff, 1, w, 0.0);
    let passes = |rate: f64| -> Result<bool, PlanError> {
        Ok(meets(&run(&one, w, rate, requests, seed)?, w))
    };
    let step = 1.25;
    let mut rate = hint.max(1e-6);
    let (mut lo, mut hi);
    if passes(rate)? {
        lo = rate;
        loop {
            rate *= step;
            if !passes(rate)? {
                hi = rate;
                break;
            }
            lo = rate;
            if lo > hint * 100.0 {
                return Ok(lo);
            }
        }
    } else {
        hi = rate;
        loop {
            rate /= step;
            if passes(rate)? {
                lo = rate;
                break;
            }
            hi = rate;
            if rate < hint / 100.0 {
                return Ok(0.0);
            }
        }
    }
    while hi / lo > PRECISION {
        let mid = (lo * hi).sqrt();
        if passes(mid)? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}

/// Request shapes of the matrix: (prompt mean, p99), (output mean, p99) tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// The Azure conversation trace's lengths: 1155 / 4142 → 211 / 601.
    Chat,
    /// Long prompts, short answers (summaries, RAG): 6000 / 14000 → 150 / 400.
    LongPrompt,
    /// Short prompts, long answers (reasoning, code): 300 / 1200 → 1500 / 4000.
    LongOutput,
}

impl Shape {
    fn lengths(self) -> ((u32, u32), (u32, u32)) {
        match self {
            Shape::Chat => ((1155, 4142), (211, 601)),
            Shape::LongPrompt => ((6000, 14000), (150, 400)),
            Shape::LongOutput => ((300, 1200), (1500, 4000)),
        }
    }

    /// The SLO of the shape: TTFT and TPOT limits, ms (p99 unless the case says otherwise).
    const fn slo(self) -> (f64, f64) {
        match self {
            Shape::Chat => (500.0, 50.0),
            Shape::LongPrompt => (3000.0, 60.0),
            Shape::LongOutput => (1000.0, 40.0),
        }
    }

    /// Its name in the matrix.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Chat => "chat",
            Shape::LongPrompt => "long-prompt",
            Shape::LongOutput => "long-output",
        }
    }
}

/// One workload of the agreement matrix: a model in a layout, a request shape, an arrival
/// burstiness (1 = Poisson) and an SLO percentile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Case {
    /// Catalog model.
    pub model: &'static str,
    /// Weight format.
    pub precision: Dtype,
    /// Instance type.
    pub instance: &'static str,
    /// Tensor-parallel degree.
    pub tp: u32,
    /// Engine.
    pub engine: Engine,
    /// Request shape.
    pub shape: Shape,
    /// Coefficient of variation of the inter-arrival times.
    pub burstiness: f64,
    /// SLO percentile: "p90" or "p99".
    pub percentile: &'static str,
    /// TTFT limit, ms (the shape's unless set).
    pub ttft_ms: f64,
}

impl Case {
    /// The workload of the case (one replica's worth of traffic; the rate is searched).
    pub fn workload(&self) -> Result<Workload, PlanError> {
        let ((im, ip), (om, op)) = self.shape.lengths();
        let (_, tpot) = self.shape.slo();
        let ttft = self.ttft_ms;
        let text = format!(
            "name = \"capacity\"\n\
             [model]\nname = \"{}\"\nprecision = \"{}\"\nengines = [\"{}\"]\n\
             [traffic]\nrate_rps = 1.0\nburstiness = {}\n\
             [lengths]\ninput_tokens = {{ mean = {im}, p99 = {ip} }}\n\
             output_tokens = {{ mean = {om}, p99 = {op} }}\n\
             [slo]\nttft_ms = {ttft}\ntpot_ms = {tpot}\npercentile = \"{}\"\nmode = \"interactive\"\n",
            self.model, self.precision, self.engine, self.burstiness, self.percentile
        );
        Workload::from_toml(&text, "capacity matrix")
    }

    /// `instance TPn precision engine`.
    pub fn deployment(&self) -> String {
        format!(
            "{} TP{} {} {}",
            self.instance, self.tp, self.precision, self.engine
        )
    }

    /// Model, deployment and shape, to name the case.
    pub fn describe(&self) -> String {
        format!(
            "{} on {}, {}",
            self.model,
            self.deployment(),
            self.shape.name()
        )
    }

    /// The layout of the case.
    pub fn layout(&self) -> LayoutChoice {
        LayoutChoice {
            instance: self.instance.to_owned(),
            tp: self.tp,
            pp: 1,
            precision: self.precision,
            engine: self.engine,
        }
    }
}

/// A row of the agreement matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Agreement {
    /// Model.
    pub model: String,
    /// `instance TPn precision engine`.
    pub deployment: String,
    /// Request shape.
    pub shape: &'static str,
    /// Arrival burstiness (1 = Poisson).
    pub burstiness: f64,
    /// SLO percentile.
    pub percentile: &'static str,
    /// The planner's capacity of one replica, req/s.
    pub analytic_rps: f64,
    /// The simulator's, req/s.
    pub simulated_rps: f64,
    /// (analytic − simulated) / simulated, %.
    pub error_pct: f64,
}

/// The analytic and simulated capacities of each case, in parallel across the cores.
pub fn agreement(
    inputs: &Inputs<'_>,
    cases: &[Case],
    requests: u64,
    seed: u64,
    progress: Progress<'_>,
) -> Result<Vec<Agreement>, PlanError> {
    parallel::map(cases, progress, |c| {
        let w = c.workload()?;
        let (replica, eff, analytic) = analytic_capacity(inputs, &w, &c.layout())
            .map_err(|e| PlanError::input("capacity matrix", format!("{}: {e}", c.describe())))?;
        let sim = simulated(&replica, &eff, &w, analytic, requests, seed)?;
        Ok(Agreement {
            model: c.model.to_owned(),
            deployment: c.deployment(),
            shape: c.shape.name(),
            burstiness: c.burstiness,
            percentile: c.percentile,
            analytic_rps: analytic,
            simulated_rps: sim,
            error_pct: if sim > 0.0 {
                (analytic - sim) / sim * 100.0
            } else {
                f64::INFINITY
            },
        })
    })
    .into_iter()
    .collect()
}

// A row of the table, positionally, as the table reads.
#[allow(clippy::too_many_arguments)]
const fn case(
    model: &'static str,
    precision: Dtype,
    instance: &'static str,
    tp: u32,
    engine: Engine,
    shape: Shape,
    burstiness: f64,
    percentile: &'static str,
) -> Case {
    Case {
        model,
        precision,
        instance,
        tp,
        engine,
        shape,
        burstiness,
        percentile,
        ttft_ms: shape.slo().0,
    }
}

/// `c` with a TTFT limit of `ms`.
const fn ttft(ms: f64, c: Case) -> Case {
    Case { ttft_ms: ms, ..c }
}

use Dtype::{Bf16, Fp8};
use Engine::{Sglang, Vllm};
use Shape::{Chat, LongOutput, LongPrompt};

/// The agreement matrix: dense and MoE models from 1B to 405B, chat, long-prompt and
/// long-output requests, vLLM and SGLang, Poisson and bursty (CV 1.5) arrivals, p99 and p90,
/// on GPUs and (the last row) on an AWS Inferentia2 chip.
pub const MATRIX: &[Case] = &[
    case("Llama 3.2 1B", Bf16, "g6.xlarge", 1, Vllm, Chat, 1.0, "p99"),
    case(
        "Llama 3.2 1B",
        Bf16,
        "g6.xlarge",
        1,
        Sglang,
        LongOutput,
        1.5,
        "p99",
    ),
    case(
        "Llama 3.2 1B",
        Bf16,
        "g6.xlarge",
        1,
        Vllm,
        LongPrompt,
        1.5,
        "p90",
    ),
    ttft(
        1000.0,
        case(
            "Llama 3.1 8B",
            Bf16,
            "g6e.xlarge",
            1,
            Vllm,
            Chat,
            1.5,
            "p99",
        ),
    ),
    ttft(
        1000.0,
        case(
            "Llama 3.1 8B",
            Bf16,
            "g6e.xlarge",
            1,
            Sglang,
            Chat,
            1.0,
            "p99",
        ),
    ),
    case(
        "Llama 3.1 8B",
        Bf16,
        "g6e.xlarge",
        1,
        Vllm,
        LongOutput,
        1.0,
        "p90",
    ),
    case(
        "Qwen3 8B",
        Fp8,
        "g6e.xlarge",
        1,
        Sglang,
        LongPrompt,
        1.0,
        "p99",
    ),
    ttft(
        1500.0,
        case(
            "Mistral 7B v0.3",
            Bf16,
            "g5.xlarge",
            1,
            Vllm,
            Chat,
            1.0,
            "p90",
        ),
    ),
    case(
        "Qwen3 30B-A3B",
        Fp8,
        "g6e.xlarge",
        1,
        Vllm,
        Chat,
        1.0,
        "p99",
    ),
    case(
        "Qwen3 30B-A3B",
        Fp8,
        "g6e.xlarge",
        1,
        Sglang,
        LongOutput,
        1.5,
        "p99",
    ),
    case(
        "Qwen3 30B-A3B",
        Bf16,
        "p5.48xlarge",
        1,
        Vllm,
        LongPrompt,
        1.5,
        "p99",
    ),
    ttft(
        1500.0,
        case("Qwen3 32B", Fp8, "g6e.12xlarge", 2, Vllm, Chat, 1.5, "p99"),
    ),
    case(
        "Mixtral 8x7B",
        Bf16,
        "p4d.24xlarge",
        4,
        Vllm,
        Chat,
        1.0,
        "p99",
    ),
    case(
        "Mixtral 8x7B",
        Bf16,
        "p4d.24xlarge",
        4,
        Sglang,
        LongPrompt,
        1.5,
        "p90",
    ),
    case(
        "Llama 3.3 70B",
        Fp8,
        "p5.48xlarge",
        8,
        Vllm,
        Chat,
        1.5,
        "p99",
    ),
    case(
        "Llama 3.3 70B",
        Fp8,
        "p5.48xlarge",
        8,
        Sglang,
        Chat,
        1.5,
        "p99",
    ),
    case(
        "Llama 3.3 70B",
        Fp8,
        "p5.48xlarge",
        4,
        Vllm,
        LongOutput,
        1.0,
        "p99",
    ),
    case(
        "Llama 3.3 70B",
        Fp8,
        "p5.48xlarge",
        4,
        Sglang,
        LongPrompt,
        1.0,
        "p99",
    ),
    ttft(
        1000.0,
        case(
            "Llama 3.3 70B",
            Bf16,
            "p4d.24xlarge",
            8,
            Vllm,
            Chat,
            1.0,
            "p90",
        ),
    ),
    case(
        "gpt-oss-120b",
        Fp8,
        "p5.48xlarge",
        2,
        Vllm,
        LongOutput,
        1.5,
        "p99",
    ),
    case(
        "Qwen3 235B-A22B",
        Fp8,
        "p5.48xlarge",
        8,
        Vllm,
        Chat,
        1.0,
        "p99",
    ),
    case(
        "Qwen3 235B-A22B",
        Fp8,
        "p5.48xlarge",
        8,
        Sglang,
        LongOutput,
        1.5,
        "p90",
    ),
    ttft(
        1500.0,
        case(
            "Llama 3.1 405B",
            Fp8,
            "p5.48xlarge",
            8,
            Vllm,
            Chat,
            1.0,
            "p99",
        ),
    ),
    ttft(
        5000.0,
        case(
            "Llama 3.1 405B",
            Fp8,
            "p5.48xlarge",
            8,
            Sglang,
            LongPrompt,
            1.5,
            "p99",
        ),
    ),
    // AWS Neuron: vLLM's Neuron backend (NxD Inference's compiled graphs) on one Inferentia2
    // chip; a prompt step of the chat shape's 2048-token bucket takes about a third of a
    // second, so the TTFT limit is 1.5 s.
    ttft(
        1500.0,
        case(
            "Llama 3.1 8B",
            Fp8,
            "inf2.xlarge",
            1,
            Vllm,
            Chat,
            1.0,
            "p99",
        ),
    ),
];

/// Requests of each simulation of the matrix (the first tenth are warm-up).
pub const MATRIX_REQUESTS: u64 = 30_000;
/// Seed of the matrix's simulations.
pub const MATRIX_SEED: u64 = 1;
/// The agreement the matrix must hold: |analytic − simulated| / simulated, %.
pub const TOLERANCE_PCT: f64 = 15.0;

/// The matrix in figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AgreementSummary {
    /// Rows.
    pub rows: usize,
    /// Median |error|, %.
    pub median_abs_error_pct: f64,
    /// Largest |error|, %.
    pub max_abs_error_pct: f64,
    /// Median signed error, % (negative: the planner sizes for less than the simulator serves).
    pub median_error_pct: f64,
    /// Rows within [`TOLERANCE_PCT`].
    pub within_tolerance: usize,
}

/// Median and largest error of the rows.
pub fn summarize(rows: &[Agreement]) -> AgreementSummary {
    use inferplan_catalog::stats::median_sorted;
    let mut abs: Vec<f64> = rows.iter().map(|r| r.error_pct.abs()).collect();
    abs.sort_by(f64::total_cmp);
    let mut signed: Vec<f64> = rows.iter().map(|r| r.error_pct).collect();
    signed.sort_by(f64::total_cmp);
    AgreementSummary {
        rows: rows.len(),
        median_abs_error_pct: median_sorted(&abs).unwrap_or(f64::NAN),
        max_abs_error_pct: abs.last().copied().unwrap_or(f64::NAN),
        median_error_pct: median_sorted(&signed).unwrap_or(f64::NAN),
        within_tolerance: abs.iter().filter(|e| **e <= TOLERANCE_PCT).count(),
    }
}
