//! What a simulation measures while it runs ([`Tally`]) and what it answers ([`SimReport`]).

use super::config::{FleetConfig, Slo};
use super::flapping::{diagnose, Flapping};
use super::state::US;
use crate::metrics::{Downsample, Histogram, Series, Summary};
use serde::Serialize;

/// SLO attainment: share of completed requests within each limit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Attainment {
    /// Within the TTFT limit.
    pub ttft: Option<f64>,
    /// Within the TPOT limit.
    pub tpot: Option<f64>,
    /// Within the e2e limit.
    pub e2e: Option<f64>,
    /// Within every limit.
    pub all: f64,
}

/// One hour of a simulation (by the requests' arrival).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Hour {
    /// Hour since the start, from 0.
    pub hour: u32,
    /// Requests that arrived in it and were answered (after the warm-up).
    pub requests: u64,
    /// Share of them within every SLO; `None` without an SLO or without requests.
    pub slo_attainment: Option<f64>,
    /// Most replicas running or starting at a sample in it.
    pub replicas_max: u32,
    /// Most nodes at a sample in it (0 when nodes are not modelled).
    pub nodes_max: u32,
}

/// The answer of a simulation.
#[derive(Debug, Clone, Serialize)]
pub struct SimReport {
    /// Requests sent by clients (not counting retries).
    pub requests_total: u64,
    /// Requests answered.
    pub requests_completed: u64,
    /// Requests given up (retries exhausted, or still unanswered at the end).
    pub requests_failed: u64,
    /// Time to first token, ms.
    pub ttft_ms: Summary,
    /// Mean time per output token of each request, ms.
    pub tpot_ms: Summary,
    /// Time between consecutive tokens, ms.
    pub itl_ms: Summary,
    /// End-to-end latency, ms.
    pub e2e_ms: Summary,
    /// Time from arrival to admission into a running batch (first scheduled step), ms.
    pub queue_ms: Summary,
    /// Generated tokens/s of answered requests.
    pub output_tok_s: f64,
    /// Prompt plus generated tokens/s of answered requests.
    pub total_tok_s: f64,
    /// Answered requests per second within every SLO; `None` without an SLO.
    pub goodput_rps: Option<f64>,
    /// SLO attainment; `None` without an SLO (nothing to attain).
    pub slo_attainment: Option<Attainment>,
    /// Sequences preempted (and recomputed) for lack of KV blocks.
    pub preemptions: u64,
    /// Retries sent by clients (timeouts and lost replicas).
    pub retries: u64,
    /// Retries that added duplicate work (no idempotency key).
    pub duplicates: u64,
    /// Spot interruptions.
    pub interruptions: u64,
    /// Replicas started by the autoscaler or to replace lost ones.
    pub replicas_started: u64,
    /// Most replicas at once.
    pub replicas_max: u32,
    /// Changes of the replica count the autoscaler made.
    pub scale_events: u64,
    /// Scale events in the other direction than the one before.
    pub scale_reversals: u64,
    /// The autoscaler flapped (more than four reversals per hour), with the causes.
    pub flapping: Option<Flapping>,
    /// Cost over the simulated period, USD: node-hours × the node price when nodes are
    /// modelled, else replica-hours × the replica's share of its instance.
    pub cost_usd: f64,
    /// Hours of nodes running (each node of a multi-node replica counted); `None` when nodes
    /// are not modelled.
    pub node_hours: Option<f64>,
    /// Hours of replicas running, starting or draining.
    pub replica_hours: f64,
    /// Nodes launched after the start.
    pub nodes_started: u64,
    /// Most nodes (or node groups) at once.
    pub nodes_max: u32,
    /// Per hour: answered requests, SLO attainment, most replicas and nodes.
    pub hours: Vec<Hour>,
    /// Simulated time, seconds.
    pub simulated_s: f64,
    /// Replicas over time: (seconds, replicas running or starting).
    pub replicas_series: Vec<(f64, f64)>,
    /// TTFT p99 over time per sample window: (seconds, ms).
    pub ttft_p99_series: Vec<(f64, f64)>,
    /// Steps simulated.
    pub steps: u64,
    /// Tokens the replicas computed (prompts, recomputation and generated tokens), including
    /// duplicate and lost work.
    pub tokens_computed: u64,
    /// Time-average of requests in the system (sent, not yet answered or given up); with
    /// the arrival rate and mean latency it checks Little's law.
    pub mean_in_flight: f64,
    /// Requests answered in each minute since the start (a batch run's finish and what it
    /// answered within its window); not in the JSON.
    #[serde(skip)]
    pub answered_per_minute: Vec<u64>,
}

/// The counts, latency histograms and time series a simulation collects.
pub(super) struct Tally {
    pub(super) ttft: Histogram,
    pub(super) tpot: Histogram,
    pub(super) itl: Histogram,
    pub(super) e2e: Histogram,
    pub(super) queue: Histogram,
    pub(super) window_ttft: Histogram,
    pub(super) replicas_series: Series,
    pub(super) ttft_series: Series,
    pub(super) total: u64,
    pub(super) completed: u64,
    pub(super) failed: u64,
    pub(super) good: u64,
    pub(super) within: [u64; 3],
    pub(super) out_tokens: u64,
    pub(super) all_tokens: u64,
    pub(super) retries: u64,
    pub(super) duplicates: u64,
    pub(super) interruptions: u64,
    pub(super) started: u64,
    pub(super) replicas_max: u32,
    pub(super) scale_events: u64,
    pub(super) scale_reversals: u64,
    pub(super) replica_us: u128,
    pub(super) steps: u64,
    /// ∫ in_flight dt, request·µs.
    pub(super) in_flight_area: u128,
    pub(super) tokens_computed: u64,
    /// Completed requests in the latency figures (after the warm-up).
    pub(super) measured: u64,
    /// ∫ nodes dt, node·µs.
    pub(super) node_us: u128,
    pub(super) nodes_started: u64,
    pub(super) nodes_max: u32,
    /// Per hour of arrival: (answered, within every SLO, most replicas, most nodes).
    pub(super) hours: Vec<(u64, u64, u32, u32)>,
    /// Requests answered per minute since the start.
    pub(super) answered_per_minute: Vec<u64>,
}

const US_PER_HOUR: u64 = 3_600_000_000;

impl Tally {
    /// Nothing counted yet.
    pub(super) fn new() -> Tally {
        Tally {
            ttft: Histogram::new(),
            tpot: Histogram::new(),
            itl: Histogram::new(),
            e2e: Histogram::new(),
            queue: Histogram::new(),
            window_ttft: Histogram::new(),
            replicas_series: Series::new(2000, Downsample::Max),
            ttft_series: Series::new(2000, Downsample::Max),
            total: 0,
            completed: 0,
            failed: 0,
            good: 0,
            within: [0; 3],
            out_tokens: 0,
            all_tokens: 0,
            retries: 0,
            duplicates: 0,
            interruptions: 0,
            started: 0,
            replicas_max: 0,
            scale_events: 0,
            scale_reversals: 0,
            replica_us: 0,
            steps: 0,
            in_flight_area: 0,
            tokens_computed: 0,
            measured: 0,
            node_us: 0,
            nodes_started: 0,
            nodes_max: 0,
            hours: Vec::new(),
            answered_per_minute: Vec::new(),
        }
    }

    /// One more request answered at `at_us`.
    pub(super) fn answered(&mut self, at_us: u64) {
        let m = (at_us / 60_000_000) as usize;
        if self.answered_per_minute.len() <= m {
            self.answered_per_minute.resize(m + 1, 0);
        }
        self.answered_per_minute[m] += 1;
    }

    fn hour(&mut self, at_us: u64) -> &mut (u64, u64, u32, u32) {
        let h = (at_us / US_PER_HOUR) as usize;
        if self.hours.len() <= h {
            self.hours.resize(h + 1, (0, 0, 0, 0));
        }
        &mut self.hours[h]
    }

    /// Records the latencies (µs), tokens and SLO checks of an answered request that arrived
    /// (at `arrival_us`) after the warm-up.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn record(
        &mut self,
        slo: Slo,
        arrival_us: u64,
        ttft: u64,
        tpot: u64,
        e2e: u64,
        input: u32,
        output: u32,
    ) {
        self.measured += 1;
        self.ttft.record(ttft);
        self.window_ttft.record(ttft);
        self.e2e.record(e2e);
        if output > 1 {
            self.tpot.record(tpot);
        }
        self.out_tokens += u64::from(output);
        self.all_tokens += u64::from(input) + u64::from(output);
        let ok = |limit: Option<f64>, v: u64| limit.is_none_or(|l| v as f64 / 1e3 <= l);
        let checks = [
            ok(slo.ttft_ms, ttft),
            output <= 1 || ok(slo.tpot_ms, tpot),
            ok(slo.e2e_ms, e2e),
        ];
        for (k, c) in checks.iter().enumerate() {
            if *c {
                self.within[k] += 1;
            }
        }
        let good = checks.iter().all(|c| *c);
        if good {
            self.good += 1;
        }
        let hour = self.hour(arrival_us);
        hour.0 += 1;
        hour.1 += u64::from(good);
    }

    /// Keeps one point of the replica and TTFT p99 series at `now_us`, with `live` replicas
    /// on `nodes` nodes.
    pub(super) fn sample(&mut self, now_us: u64, live: u32, nodes: u32) {
        let hour = self.hour(now_us.saturating_sub(1));
        hour.2 = hour.2.max(live);
        hour.3 = hour.3.max(nodes);
        self.replicas_series.push(now_us, f64::from(live));
        if self.window_ttft.count() > 0 {
            self.ttft_series
                .push(now_us, self.window_ttft.quantile(0.99) as f64 / 1e3);
            self.window_ttft.clear();
        }
    }

    /// The report at the end (`now_us`), with `in_flight` requests still unanswered (counted
    /// as failed) and the fleet's `preemptions`.
    pub(super) fn report(
        &self,
        cfg: &FleetConfig,
        now_us: u64,
        in_flight: u64,
        preemptions: u64,
    ) -> SimReport {
        let secs = (now_us as f64 / US).max(1e-9);
        let done = self.measured.max(1) as f64;
        let slo = cfg.slo;
        let share = |k: usize, limit: Option<f64>| limit.map(|_| self.within[k] as f64 / done);
        let pts = |s: &Series| s.points_secs();
        let any_slo = slo.ttft_ms.is_some() || slo.tpot_ms.is_some() || slo.e2e_ms.is_some();
        SimReport {
            requests_total: self.total,
            requests_completed: self.completed,
            // Requests still unanswered at the end count as failed.
            requests_failed: self.failed + in_flight,
            ttft_ms: self.ttft.summary_ms(),
            tpot_ms: self.tpot.summary_ms(),
            itl_ms: self.itl.summary_ms(),
            e2e_ms: self.e2e.summary_ms(),
            queue_ms: self.queue.summary_ms(),
            output_tok_s: self.out_tokens as f64 / secs,
            total_tok_s: self.all_tokens as f64 / secs,
            goodput_rps: any_slo.then(|| self.good as f64 / secs),
            slo_attainment: any_slo.then(|| Attainment {
                ttft: share(0, slo.ttft_ms),
                tpot: share(1, slo.tpot_ms),
                e2e: share(2, slo.e2e_ms),
                all: self.good as f64 / done,
            }),
            preemptions,
            retries: self.retries,
            duplicates: self.duplicates,
            interruptions: self.interruptions,
            replicas_started: self.started,
            replicas_max: self.replicas_max,
            scale_events: self.scale_events,
            scale_reversals: self.scale_reversals,
            flapping: diagnose(cfg, self.scale_reversals, secs),
            cost_usd: match cfg.nodes {
                Some(n) => self.node_us as f64 / US / 3600.0 * n.usd_per_node_hour,
                None => self.replica_us as f64 / US / 3600.0 * cfg.usd_per_replica_hour,
            },
            node_hours: cfg.nodes.map(|_| self.node_us as f64 / US / 3600.0),
            replica_hours: self.replica_us as f64 / US / 3600.0,
            nodes_started: self.nodes_started,
            nodes_max: self.nodes_max,
            hours: self
                .hours
                .iter()
                .enumerate()
                .map(|(h, &(requests, good, replicas_max, nodes_max))| Hour {
                    hour: h as u32,
                    requests,
                    slo_attainment: (any_slo && requests > 0)
                        .then(|| good as f64 / requests as f64),
                    replicas_max,
                    nodes_max,
                })
                .collect(),
            simulated_s: secs,
            replicas_series: pts(&self.replicas_series),
            ttft_p99_series: pts(&self.ttft_series),
            steps: self.steps,
            tokens_computed: self.tokens_computed,
            mean_in_flight: self.in_flight_area as f64 / now_us.max(1) as f64,
            answered_per_minute: self.answered_per_minute.clone(),
        }
    }
}
