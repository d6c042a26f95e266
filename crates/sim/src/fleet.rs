//! The fleet: replicas behind a router, an autoscaler, spot interruptions and clients that
//! retry, driven by one event queue in integer microseconds.

use crate::metrics::{Downsample, Histogram, Series, Summary};
use crate::replica::{ReplicaSim, Seq};
use crate::rng::Rng;
use crate::traffic::{Request, Traffic, TrafficError, TrafficSpec};
use inferplan_perf::parallel::{self, Progress};
use inferplan_perf::step::Efficiency;
use inferplan_perf::Replica;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// How the router picks a replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Router {
    /// In turn.
    RoundRobin,
    /// Fewest requests waiting or running.
    LeastOutstanding,
    /// Lowest KV-cache use.
    LeastKv,
}

/// What the autoscaler tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleMetric {
    /// Requests waiting for admission per replica.
    QueueDepth,
    /// Requests waiting or running per replica.
    InFlight,
    /// Fraction of time the GPUs run steps (shown to fail for LLM serving).
    GpuUtilization,
}

/// Target-tracking autoscaler.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Autoscaler {
    /// Metric to track.
    pub metric: ScaleMetric,
    /// Target value of the metric per replica.
    pub target: f64,
    /// Fewest replicas.
    pub min: u32,
    /// Most replicas.
    pub max: u32,
    /// Seconds between decisions.
    pub interval_s: f64,
    /// Seconds after a scale-out before the next one.
    pub scale_out_cooldown_s: f64,
    /// Seconds after any scaling before a scale-in.
    pub scale_in_cooldown_s: f64,
}

/// Spot interruptions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spot {
    /// Interruptions per replica-hour.
    pub rate_per_hour: f64,
    /// Warning before the replica is lost, seconds (AWS gives two minutes).
    pub notice_s: f64,
}

/// Client behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Client {
    /// Seconds without a first token after which a client retries (none: waits forever).
    pub timeout_s: Option<f64>,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Requests carry idempotency keys: a retry attaches to the work already running instead of
    /// adding a duplicate.
    pub idempotency_keys: bool,
}

/// Latency promises for attainment and goodput.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Slo {
    /// TTFT limit, ms.
    pub ttft_ms: Option<f64>,
    /// TPOT limit, ms.
    pub tpot_ms: Option<f64>,
    /// End-to-end limit, ms.
    pub e2e_ms: Option<f64>,
}

/// Everything about the fleet.
#[derive(Debug, Clone)]
pub struct FleetConfig {
    /// The deployment of one replica.
    pub replica: Replica,
    /// Its efficiencies.
    pub efficiency: Efficiency,
    /// Replicas at the start.
    pub replicas: u32,
    /// Router policy.
    pub router: Router,
    /// Autoscaling, if any.
    pub autoscaler: Option<Autoscaler>,
    /// Spot interruptions, if any.
    pub spot: Option<Spot>,
    /// Clients.
    pub client: Client,
    /// Cold start of a new replica (boot, engine start, weights), seconds.
    pub cold_start_s: f64,
    /// Price of one replica-hour (its share of the instance), USD.
    pub usd_per_replica_hour: f64,
    /// SLOs for attainment and goodput.
    pub slo: Slo,
    /// Keep one sample of replicas and latency per this many seconds for plots.
    pub sample_s: f64,
    /// Closed loop: this many clients, each sending its next request as soon as the previous
    /// one is answered (the traffic's arrival times are ignored, its lengths used).
    pub closed_loop: Option<u32>,
    /// Warm-up, seconds: closed-loop clients start spread evenly over it (not all at once),
    /// and requests that arrive during it are served but left out of the latency figures.
    pub warmup_s: f64,
}

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
    /// Answered requests per second within every SLO.
    pub goodput_rps: f64,
    /// SLO attainment.
    pub slo_attainment: Attainment,
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
    /// Cost of the replicas over the simulated period, USD.
    pub cost_usd: f64,
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Arrival,
    ClientStart,
    Dispatch(usize),
    Step(usize),
    Ready(usize),
    Tick,
    Sample,
    SpotNotice(usize, u32),
    SpotKill(usize, u32),
    Timeout(usize, u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Starting,
    Ready,
    Draining,
    Dead,
}

struct Slot {
    sim: ReplicaSim,
    state: State,
    since_us: u64,
    epoch: u32,
    stepping: bool,
    step_started_us: u64,
    busy_mark: u64,
}

/// One client request.
struct Req {
    arrival_us: u64,
    input: u32,
    output: u32,
    first_us: Option<u64>,
    admitted_us: Option<u64>,
    last_token_us: u64,
    attempts: u32,
    done: bool,
    /// Live work items of this request.
    work: u32,
}

impl Req {
    /// A request that has just arrived.
    fn new(arrival_us: u64, input: u32, output: u32) -> Req {
        Req {
            arrival_us,
            input,
            output,
            first_us: None,
            admitted_us: None,
            last_token_us: 0,
            attempts: 0,
            done: false,
            work: 0,
        }
    }
}

/// One attempt on a replica.
struct Work {
    req: usize,
    replica: usize,
    alive: bool,
}

/// A slab with reuse, so memory follows what is in flight.
struct Slab<T> {
    items: Vec<Option<T>>,
    free: Vec<usize>,
}

impl<T> Slab<T> {
    fn new() -> Self {
        Slab {
            items: Vec::new(),
            free: Vec::new(),
        }
    }
    fn insert(&mut self, t: T) -> usize {
        match self.free.pop() {
            Some(i) => {
                self.items[i] = Some(t);
                i
            }
            None => {
                self.items.push(Some(t));
                self.items.len() - 1
            }
        }
    }
    fn get(&self, i: usize) -> Option<&T> {
        self.items.get(i).and_then(Option::as_ref)
    }
    fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.items.get_mut(i).and_then(Option::as_mut)
    }
    fn remove(&mut self, i: usize) -> Option<T> {
        let t = self.items.get_mut(i)?.take();
        if t.is_some() {
            self.free.push(i);
        }
        t
    }
}

const US: f64 = 1e6;

fn us(s: f64) -> u64 {
    (s * US).round().max(0.0) as u64
}

/// The simulation state.
struct Sim<'a> {
    cfg: &'a FleetConfig,
    traffic: Traffic,
    rng: Rng,
    now: u64,
    seq: u64,
    events: BinaryHeap<Reverse<(u64, u64, Ev)>>,
    slots: Vec<Slot>,
    pending: VecDeque<usize>,
    reqs: Slab<Req>,
    works: Slab<Work>,
    rr: usize,
    last_out_us: u64,
    last_any_us: u64,
    ttft: Histogram,
    tpot: Histogram,
    itl: Histogram,
    e2e: Histogram,
    queue: Histogram,
    window_ttft: Histogram,
    replicas_series: Series,
    ttft_series: Series,
    total: u64,
    completed: u64,
    failed: u64,
    good: u64,
    within: [u64; 3],
    out_tokens: u64,
    all_tokens: u64,
    retries: u64,
    duplicates: u64,
    interruptions: u64,
    started: u64,
    replicas_max: u32,
    replica_us: u128,
    last_cost_mark: u64,
    steps: u64,
    /// The next request, created at its arrival event's scheduling.
    pending_arrival: Option<usize>,
    /// Client requests not yet answered or failed.
    in_flight: u64,
    /// ∫ in_flight dt, request·µs.
    in_flight_area: u128,
    tokens_computed: u64,
    /// Closed loop: clients waiting to send their next request.
    free_clients: u32,
    /// Closed loop: clients started so far. Client k starts at `warm-up · k / clients`; its
    /// start event is queued only when client k − 1 starts, so memory grows with the requests
    /// sent, never with the number of clients.
    clients_started: u32,
    /// Closed loop: the event sequence number of client 0's start; client k's is this plus
    /// k, as if every start had been queued at the beginning (ties with other events at the
    /// same microsecond break the same way).
    client_seq0: u64,
    /// The traffic has run out: clients not yet started would never send a request.
    traffic_out: bool,
    /// Requests arriving before this are left out of the latency figures.
    warmup_end_us: u64,
    /// Completed requests in the latency figures (after the warm-up).
    measured: u64,
}

/// Simulates the same fleet and traffic for each seed, in parallel across the cores; the
/// reports come back in seed order (each deterministic for its seed).
pub fn sweep(
    cfg: &FleetConfig,
    spec: &TrafficSpec,
    seeds: &[u64],
    progress: Progress<'_>,
) -> Result<Vec<SimReport>, TrafficError> {
    parallel::map(seeds, progress, |&seed| {
        Traffic::new(spec.clone(), seed).map(|tr| simulate(cfg, tr, seed))
    })
    .into_iter()
    .collect()
}

/// Simulates `traffic` through the fleet. Deterministic for a seed.
pub fn simulate(cfg: &FleetConfig, traffic: Traffic, seed: u64) -> SimReport {
    let mut sim = Sim {
        cfg,
        traffic,
        rng: Rng::new(seed ^ 0x5eed_f1ee_7000_0001),
        now: 0,
        seq: 0,
        events: BinaryHeap::new(),
        slots: Vec::new(),
        pending: VecDeque::new(),
        reqs: Slab::new(),
        works: Slab::new(),
        rr: 0,
        last_out_us: 0,
        last_any_us: 0,
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
        replica_us: 0,
        last_cost_mark: 0,
        steps: 0,
        pending_arrival: None,
        in_flight: 0,
        in_flight_area: 0,
        tokens_computed: 0,
        free_clients: 0,
        clients_started: 0,
        client_seq0: 0,
        traffic_out: false,
        warmup_end_us: us(cfg.warmup_s),
        measured: 0,
    };
    for _ in 0..cfg.replicas.max(1) {
        sim.add_replica(true);
    }
    if let Some(clients) = cfg.closed_loop {
        sim.client_seq0 = sim.seq + 1;
        sim.seq += u64::from(clients);
        sim.queue_client_start();
    } else {
        sim.next_arrival();
    }
    if cfg.autoscaler.is_some() {
        let every = us(cfg.autoscaler.map_or(15.0, |a| a.interval_s.max(0.001)));
        sim.push(every, Ev::Tick);
    }
    sim.push(us(cfg.sample_s.max(0.001)), Ev::Sample);
    sim.run();
    sim.report()
}

impl Sim<'_> {
    fn push(&mut self, at: u64, ev: Ev) {
        self.seq += 1;
        self.events.push(Reverse((at, self.seq, ev)));
    }

    /// Closed loop: queues the start of the next client, if there is one and the traffic has
    /// requests left for it.
    fn queue_client_start(&mut self) {
        let clients = self.cfg.closed_loop.unwrap_or(0);
        let k = self.clients_started;
        if k >= clients || self.traffic_out {
            return;
        }
        let ramp = u128::from(us(self.cfg.warmup_s));
        // At most the warm-up, so it fits in u64.
        let at = (ramp * u128::from(k) / u128::from(clients)) as u64;
        let seq = self.client_seq0 + u64::from(k);
        self.events.push(Reverse((at, seq, Ev::ClientStart)));
    }

    fn live_replicas(&self) -> u32 {
        self.slots
            .iter()
            .filter(|s| matches!(s.state, State::Starting | State::Ready | State::Draining))
            .count() as u32
    }

    fn account_cost(&mut self) {
        let dt = self.now - self.last_cost_mark;
        self.replica_us += u128::from(dt) * u128::from(self.live_replicas());
        self.last_cost_mark = self.now;
    }

    fn add_replica(&mut self, warm: bool) {
        self.account_cost();
        let sim = ReplicaSim::new(&self.cfg.replica, self.cfg.efficiency);
        self.slots.push(Slot {
            sim,
            state: State::Starting,
            since_us: self.now,
            epoch: 0,
            stepping: false,
            step_started_us: 0,
            busy_mark: 0,
        });
        let idx = self.slots.len() - 1;
        let delay = if warm { 0 } else { us(self.cfg.cold_start_s) };
        if !warm {
            self.started += 1;
        }
        self.push(self.now + delay, Ev::Ready(idx));
        self.replicas_max = self.replicas_max.max(self.live_replicas());
    }

    fn next_arrival(&mut self) {
        self.pending_arrival = None;
        if let Some(r) = self.traffic.next() {
            let Request {
                arrival_us,
                input_tokens,
                output_tokens,
                ..
            } = r;
            self.push(arrival_us.max(self.now), Ev::Arrival);
            // Stash the request until its arrival event (one at a time).
            let slot = self
                .reqs
                .insert(Req::new(arrival_us, input_tokens, output_tokens));
            self.pending_arrival = Some(slot);
        }
    }

    fn run(&mut self) {
        while let Some(Reverse((at, _, ev))) = self.events.pop() {
            self.in_flight_area += u128::from(at - self.now) * u128::from(self.in_flight);
            self.now = at;
            match ev {
                Ev::Arrival => self.on_arrival(),
                Ev::ClientStart => {
                    self.clients_started += 1;
                    self.free_clients += 1;
                    self.release_clients();
                    self.queue_client_start();
                }
                Ev::Dispatch(r) => self.attempt(r),
                Ev::Step(i) => self.on_step(i),
                Ev::Ready(i) => self.on_ready(i),
                Ev::Tick => self.on_tick(),
                Ev::Sample => self.on_sample(),
                Ev::SpotNotice(i, e) => self.on_notice(i, e),
                Ev::SpotKill(i, e) => self.on_kill(i, e),
                Ev::Timeout(r, a) => self.on_timeout(r, a),
            }
            if self.finished() {
                break;
            }
        }
        self.account_cost();
    }

    /// True when no traffic is left and nothing is in flight.
    fn finished(&self) -> bool {
        let clients_left = self.clients_started < self.cfg.closed_loop.unwrap_or(0);
        self.pending_arrival.is_none() && self.in_flight == 0 && (self.traffic_out || !clients_left)
    }

    /// Closed loop: every free client sends its next request now.
    fn release_clients(&mut self) {
        while self.free_clients > 0 {
            let Some(r) = self.traffic.next() else {
                self.free_clients = 0;
                self.traffic_out = true;
                return;
            };
            self.free_clients -= 1;
            let slot = self
                .reqs
                .insert(Req::new(self.now, r.input_tokens, r.output_tokens));
            self.pending_arrival = Some(slot);
            self.on_arrival();
        }
    }

    /// A request was answered or given up: in a closed loop its client sends the next one.
    fn client_done(&mut self) {
        if self.cfg.closed_loop.is_some() {
            self.free_clients += 1;
            self.release_clients();
        }
    }

    fn on_arrival(&mut self) {
        let Some(r) = self.pending_arrival else {
            return;
        };
        self.total += 1;
        self.in_flight += 1;
        if self.cfg.closed_loop.is_none() {
            self.next_arrival();
        } else {
            self.pending_arrival = None;
        }
        // The API server (tokenization, scheduling) takes the request overhead of the
        // efficiency table before the engine sees the request, as in `estimate`.
        let overhead = us(self.cfg.efficiency.request_overhead_s);
        if overhead == 0 {
            self.attempt(r);
        } else {
            self.push(self.now + overhead, Ev::Dispatch(r));
        }
        if let Some(t) = self.cfg.client.timeout_s {
            self.push(self.now + us(t), Ev::Timeout(r, 1));
        }
    }

    /// Sends one attempt of request `r` to a replica (or to the fleet queue if none is ready).
    fn attempt(&mut self, r: usize) {
        let Some(req) = self.reqs.get_mut(r) else {
            return;
        };
        req.attempts += 1;
        req.work += 1;
        let w = self.works.insert(Work {
            req: r,
            replica: usize::MAX,
            alive: true,
        });
        self.dispatch(w);
    }

    fn ready_replicas(&self) -> Vec<usize> {
        (0..self.slots.len())
            .filter(|&i| self.slots[i].state == State::Ready)
            .collect()
    }

    fn dispatch(&mut self, w: usize) {
        let ready = self.ready_replicas();
        if ready.is_empty() {
            self.pending.push_back(w);
            return;
        }
        let pick = match self.cfg.router {
            Router::RoundRobin => {
                self.rr = self.rr.wrapping_add(1);
                ready[self.rr % ready.len()]
            }
            Router::LeastOutstanding => *ready
                .iter()
                .min_by_key(|&&i| (self.slots[i].sim.outstanding(), i))
                .unwrap_or(&ready[0]),
            Router::LeastKv => *ready
                .iter()
                .min_by(|&&a, &&b| {
                    self.slots[a]
                        .sim
                        .kv_load()
                        .total_cmp(&self.slots[b].sim.kv_load())
                        .then(a.cmp(&b))
                })
                .unwrap_or(&ready[0]),
        };
        let (input, output) = match self.works.get(w).and_then(|x| self.reqs.get(x.req)) {
            Some(req) => (req.input, req.output),
            None => return,
        };
        if let Some(x) = self.works.get_mut(w) {
            x.replica = pick;
        }
        self.slots[pick].sim.enqueue(Seq::new(w, input, output));
        self.kick(pick);
    }

    /// Starts a step on replica `i` if it is idle and has work.
    fn kick(&mut self, i: usize) {
        let slot = &mut self.slots[i];
        if slot.stepping || !matches!(slot.state, State::Ready | State::Draining) {
            return;
        }
        if let Some(d) = slot.sim.start_step() {
            slot.stepping = true;
            slot.step_started_us = self.now;
            self.steps += 1;
            let at = self.now + d;
            self.push(at, Ev::Step(i));
        }
    }

    fn on_step(&mut self, i: usize) {
        if !self.slots[i].stepping || self.slots[i].state == State::Dead {
            return;
        }
        self.slots[i].stepping = false;
        let out = self.slots[i].sim.finish_step();
        let now = self.now;
        let started = self.slots[i].step_started_us;
        self.tokens_computed += out.prefill_tokens + out.next_tokens.len() as u64;
        for &w in &out.admitted {
            let Some(r) = self.works.get(w).map(|x| x.req) else {
                continue;
            };
            if let Some(req) = self.reqs.get_mut(r) {
                if req.admitted_us.is_none() {
                    req.admitted_us = Some(started);
                    self.queue.record(started.saturating_sub(req.arrival_us));
                }
            }
        }
        for &w in &out.first_tokens {
            let Some(r) = self.works.get(w).map(|x| x.req) else {
                continue;
            };
            if let Some(req) = self.reqs.get_mut(r) {
                if req.first_us.is_none() {
                    req.first_us = Some(now);
                    req.last_token_us = now;
                }
            }
        }
        for &w in &out.next_tokens {
            let Some(r) = self.works.get(w).map(|x| x.req) else {
                continue;
            };
            if let Some(req) = self.reqs.get_mut(r) {
                if req.first_us.is_some() && !req.done {
                    self.itl.record(now.saturating_sub(req.last_token_us));
                    req.last_token_us = now;
                }
            }
        }
        for &w in &out.finished {
            self.finish_work(w);
        }
        if self.slots[i].state == State::Draining && self.slots[i].sim.outstanding() == 0 {
            self.retire(i);
        } else {
            self.kick(i);
        }
    }

    fn finish_work(&mut self, w: usize) {
        let Some(work) = self.works.remove(w) else {
            return;
        };
        let r = work.req;
        let now = self.now;
        let Some(req) = self.reqs.get_mut(r) else {
            return;
        };
        req.work = req.work.saturating_sub(1);
        if !work.alive || req.done {
            if req.done && req.work == 0 {
                self.reqs.remove(r);
            }
            return;
        }
        req.done = true;
        let first = req.first_us.unwrap_or(now);
        let ttft = first.saturating_sub(req.arrival_us);
        let e2e = now.saturating_sub(req.arrival_us);
        let tpot = if req.output > 1 {
            now.saturating_sub(first) / u64::from(req.output - 1)
        } else {
            0
        };
        let (input, output, remaining, arrival) = (req.input, req.output, req.work, req.arrival_us);
        if remaining == 0 {
            self.reqs.remove(r);
        }
        self.completed += 1;
        self.in_flight = self.in_flight.saturating_sub(1);
        self.client_done();
        if arrival < self.warmup_end_us {
            return;
        }
        self.measured += 1;
        self.ttft.record(ttft);
        self.window_ttft.record(ttft);
        self.e2e.record(e2e);
        if output > 1 {
            self.tpot.record(tpot);
        }
        self.out_tokens += u64::from(output);
        self.all_tokens += u64::from(input) + u64::from(output);
        let slo = self.cfg.slo;
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
        if checks.iter().all(|c| *c) {
            self.good += 1;
        }
    }

    fn on_ready(&mut self, i: usize) {
        if self.slots[i].state != State::Starting {
            return;
        }
        self.account_cost();
        self.slots[i].state = State::Ready;
        self.slots[i].since_us = self.now;
        if let Some(spot) = self.cfg.spot {
            if spot.rate_per_hour > 0.0 {
                let mean_us = 3600.0 * US / spot.rate_per_hour;
                let at = self.now + self.rng.exp(mean_us) as u64;
                let epoch = self.slots[i].epoch;
                self.push(at, Ev::SpotNotice(i, epoch));
            }
        }
        while let Some(w) = self.pending.pop_front() {
            self.dispatch(w);
        }
        self.kick(i);
    }

    fn on_notice(&mut self, i: usize, epoch: u32) {
        let Some(spot) = self.cfg.spot else { return };
        if self.slots[i].epoch != epoch || self.slots[i].state != State::Ready {
            return;
        }
        self.interruptions += 1;
        self.slots[i].state = State::Draining;
        // A replacement starts now; the lost replica keeps serving until the notice ends.
        self.add_replica(false);
        self.push(self.now + us(spot.notice_s), Ev::SpotKill(i, epoch));
    }

    fn on_kill(&mut self, i: usize, epoch: u32) {
        if self.slots[i].epoch != epoch || self.slots[i].state == State::Dead {
            return;
        }
        let lost = self.slots[i].sim.evict_all();
        self.retire(i);
        for w in lost {
            // The client sees an error and retries on another replica.
            let Some(work) = self.works.remove(w) else {
                continue;
            };
            let r = work.req;
            let retry = match self.reqs.get_mut(r) {
                Some(req) => {
                    req.work = req.work.saturating_sub(1);
                    work.alive && !req.done
                }
                None => false,
            };
            if retry {
                self.retries += 1;
                self.attempt(r);
            }
        }
    }

    fn retire(&mut self, i: usize) {
        self.account_cost();
        self.slots[i].state = State::Dead;
        self.slots[i].stepping = false;
        self.slots[i].epoch += 1;
    }

    /// A streaming client times out when no first token arrived within `timeout_s` of its
    /// attempt; once tokens stream, it waits.
    fn on_timeout(&mut self, r: usize, attempt: u32) {
        let client = self.cfg.client;
        let Some(req) = self.reqs.get(r) else { return };
        if req.done || req.attempts != attempt || req.first_us.is_some() {
            return;
        }
        if attempt > client.max_retries {
            // Out of retries: the client gives up; the work may still run (wasted).
            self.failed += 1;
            self.in_flight = self.in_flight.saturating_sub(1);
            if let Some(req) = self.reqs.get_mut(r) {
                req.done = true;
            }
            self.client_done();
            return;
        }
        self.retries += 1;
        if client.idempotency_keys {
            // The gateway attaches the retry to the work already running.
            if let Some(req) = self.reqs.get_mut(r) {
                req.attempts += 1;
            }
        } else {
            self.duplicates += 1;
            self.attempt(r);
        }
        if let Some(t) = client.timeout_s {
            self.push(self.now + us(t), Ev::Timeout(r, attempt + 1));
        }
    }

    fn on_tick(&mut self) {
        let Some(a) = self.cfg.autoscaler else { return };
        let interval = us(a.interval_s.max(0.001));
        self.push(self.now + interval, Ev::Tick);
        let active: Vec<usize> = (0..self.slots.len())
            .filter(|&i| self.slots[i].state == State::Ready)
            .collect();
        let live = self.live_replicas();
        let n = active.len().max(1) as f64;
        // Requests per ready replica, counting those the gateway holds.
        let per_replica = |count: fn(&ReplicaSim) -> usize| {
            let held: usize = active.iter().map(|&i| count(&self.slots[i].sim)).sum();
            (held + self.pending.len()) as f64 / n
        };
        let metric = match a.metric {
            ScaleMetric::QueueDepth => per_replica(ReplicaSim::queued),
            ScaleMetric::InFlight => per_replica(ReplicaSim::outstanding),
            ScaleMetric::GpuUtilization => {
                let mut busy = 0u64;
                for &i in &active {
                    let s = &mut self.slots[i];
                    busy += s.sim.busy_us - s.busy_mark;
                    s.busy_mark = s.sim.busy_us;
                }
                busy as f64 / (n * interval as f64)
            }
        };
        let current = f64::from(live);
        let desired = ((current * metric / a.target.max(1e-9)).ceil() as u32)
            .clamp(a.min.max(1), a.max.max(1));
        if desired > live && self.now >= self.last_out_us + us(a.scale_out_cooldown_s) {
            for _ in live..desired {
                self.add_replica(false);
            }
            self.last_out_us = self.now;
            self.last_any_us = self.now;
        } else if desired < live && self.now >= self.last_any_us + us(a.scale_in_cooldown_s) {
            // Drain the replicas with the least work.
            let mut by_load: Vec<usize> = active.clone();
            by_load.sort_by_key(|&i| (self.slots[i].sim.outstanding(), i));
            for &i in by_load.iter().take((live - desired) as usize) {
                self.account_cost();
                self.slots[i].state = State::Draining;
                if self.slots[i].sim.outstanding() == 0 && !self.slots[i].stepping {
                    self.retire(i);
                }
            }
            self.last_any_us = self.now;
        }
    }

    fn on_sample(&mut self) {
        self.replicas_series
            .push(self.now, f64::from(self.live_replicas()));
        if self.window_ttft.count() > 0 {
            self.ttft_series
                .push(self.now, self.window_ttft.quantile(0.99) as f64 / 1e3);
            self.window_ttft.clear();
        }
        if !self.finished() {
            self.push(self.now + us(self.cfg.sample_s.max(0.001)), Ev::Sample);
        }
    }

    fn report(&mut self) -> SimReport {
        // Requests still unanswered at the end count as failed.
        self.failed += self.in_flight;
        let secs = (self.now as f64 / US).max(1e-9);
        let done = self.measured.max(1) as f64;
        let slo = self.cfg.slo;
        let share = |k: usize, limit: Option<f64>| limit.map(|_| self.within[k] as f64 / done);
        let preemptions = self.slots.iter().map(|s| s.sim.preemptions).sum();
        let pts = |s: &Series| s.points_secs();
        SimReport {
            requests_total: self.total,
            requests_completed: self.completed,
            requests_failed: self.failed,
            ttft_ms: self.ttft.summary_ms(),
            tpot_ms: self.tpot.summary_ms(),
            itl_ms: self.itl.summary_ms(),
            e2e_ms: self.e2e.summary_ms(),
            queue_ms: self.queue.summary_ms(),
            output_tok_s: self.out_tokens as f64 / secs,
            total_tok_s: self.all_tokens as f64 / secs,
            goodput_rps: self.good as f64 / secs,
            slo_attainment: Attainment {
                ttft: share(0, slo.ttft_ms),
                tpot: share(1, slo.tpot_ms),
                e2e: share(2, slo.e2e_ms),
                all: self.good as f64 / done,
            },
            preemptions,
            retries: self.retries,
            duplicates: self.duplicates,
            interruptions: self.interruptions,
            replicas_started: self.started,
            replicas_max: self.replicas_max,
            cost_usd: self.replica_us as f64 / US / 3600.0 * self.cfg.usd_per_replica_hour,
            simulated_s: secs,
            replicas_series: pts(&self.replicas_series),
            ttft_p99_series: pts(&self.ttft_series),
            steps: self.steps,
            tokens_computed: self.tokens_computed,
            mean_in_flight: self.in_flight_area as f64 / self.now.max(1) as f64,
        }
    }
}
