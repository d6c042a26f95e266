//! The event loop and the clients' side of it: arrivals, closed-loop clients, attempts,
//! timeouts and retries, samples for the plots.

use super::autoscale::Scaler;
use super::config::FleetConfig;
use super::managed::{ManagedState, SAMPLE_S};
use super::report::{SimReport, Tally};
use super::state::{us, Clients, Ev, Events, Node, Req, Slab, Slot, State, Work};
use crate::replica::StepOutcome;
use crate::rng::Rng;
use crate::step_times::StepTimes;
use crate::traffic::{Request, Traffic};
use std::collections::VecDeque;

/// The simulation state.
pub(super) struct Sim<'a> {
    pub(super) cfg: &'a FleetConfig,
    pub(super) traffic: Traffic,
    pub(super) rng: Rng,
    pub(super) now: u64,
    pub(super) seq: u64,
    pub(super) events: Events,
    pub(super) slots: Vec<Slot>,
    /// Nodes ever started, when they are modelled.
    pub(super) nodes: Vec<Node>,
    /// Nodes not yet removed.
    pub(super) nodes_alive: u32,
    pub(super) pending: VecDeque<usize>,
    pub(super) reqs: Slab<Req>,
    pub(super) works: Slab<Work>,
    pub(super) rr: usize,
    /// The random router's own stream (the arrivals' draws do not depend on the router).
    pub(super) router_rng: Rng,
    /// The autoscaler's memory, when there is one.
    pub(super) scaler: Option<Scaler>,
    /// The managed autoscaler's memory, when there is one.
    pub(super) managed: Option<ManagedState>,
    pub(super) last_cost_mark: u64,
    /// What is counted and measured for the report.
    pub(super) tally: Tally,
    /// The next request, created at its arrival event's scheduling.
    pub(super) pending_arrival: Option<usize>,
    /// Client requests not yet answered or failed.
    pub(super) in_flight: u64,
    /// Closed loop: the clients.
    pub(super) clients: Clients,
    /// Requests arriving before this are left out of the latency figures.
    pub(super) warmup_end_us: u64,
    /// The buffers of the last finished engine step, reused by the next.
    pub(super) outcome: StepOutcome,
    /// The step times of the replicas' deployment.
    pub(super) times: StepTimes,
}

/// Simulates `traffic` through the fleet. Deterministic for a seed.
pub fn simulate(cfg: &FleetConfig, traffic: Traffic, seed: u64) -> SimReport {
    let mut sim = Sim {
        cfg,
        traffic,
        rng: Rng::new(seed ^ 0x5eed_f1ee_7000_0001),
        now: 0,
        seq: 0,
        events: Events::new(),
        slots: Vec::new(),
        nodes: Vec::new(),
        nodes_alive: 0,
        pending: VecDeque::new(),
        reqs: Slab::new(),
        works: Slab::new(),
        rr: 0,
        router_rng: Rng::new(seed ^ 0x7a11_d0e5_0b0e_7e55),
        scaler: cfg
            .autoscaler
            .as_ref()
            .map(|a| Scaler::new(a, cfg.replicas)),
        managed: cfg
            .managed
            .as_ref()
            .map(|m| ManagedState::new(m, cfg.replicas.max(1))),
        last_cost_mark: 0,
        tally: Tally::new(),
        pending_arrival: None,
        in_flight: 0,
        clients: Clients {
            free: 0,
            started: 0,
            seq0: 0,
            traffic_out: false,
        },
        warmup_end_us: us(cfg.warmup_s),
        outcome: StepOutcome::default(),
        times: StepTimes::new(&cfg.replica, cfg.efficiency),
    };
    // A fleet scaled to zero (an autoscaler with `min` 0 and no initial replica, a batch
    // job before its run) starts with none; any other with at least one.
    let initial = match &cfg.autoscaler {
        Some(a) if a.min == 0 && cfg.managed.is_none() => cfg.replicas,
        _ => cfg.replicas.max(1),
    };
    for _ in 0..initial {
        sim.add_replica(true);
    }
    if let Some(clients) = cfg.closed_loop {
        sim.clients.seq0 = sim.seq + 1;
        sim.seq += u64::from(clients);
        sim.queue_client_start();
    } else {
        sim.next_arrival();
    }
    if cfg.managed.is_some() {
        sim.push(us(SAMPLE_S), Ev::Tick);
    } else if let Some(a) = &cfg.autoscaler {
        sim.push(us(a.interval_s.max(0.001)), Ev::Tick);
    }
    sim.push(us(cfg.sample_s.max(0.001)), Ev::Sample);
    sim.run();
    let preemptions = sim.slots.iter().map(|s| s.sim.preemptions).sum();
    sim.tally.report(cfg, sim.now, sim.in_flight, preemptions)
}

impl Sim<'_> {
    pub(super) fn push(&mut self, at: u64, ev: Ev) {
        self.seq += 1;
        self.events.push(at, self.seq, ev);
    }

    /// Closed loop: queues the start of the next client, if there is one and the traffic has
    /// requests left for it.
    pub(super) fn queue_client_start(&mut self) {
        let clients = self.cfg.closed_loop.unwrap_or(0);
        let k = self.clients.started;
        if k >= clients || self.clients.traffic_out {
            return;
        }
        let ramp = u128::from(us(self.cfg.warmup_s));
        // At most the warm-up, so it fits in u64.
        let at = (ramp * u128::from(k) / u128::from(clients)) as u64;
        let seq = self.clients.seq0 + u64::from(k);
        self.events.push(at, seq, Ev::ClientStart);
    }

    pub(super) fn next_arrival(&mut self) {
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

    pub(super) fn run(&mut self) {
        while let Some((at, ev)) = self.events.pop() {
            self.tally.in_flight_area += u128::from(at - self.now) * u128::from(self.in_flight);
            self.now = at;
            match ev {
                Ev::Arrival => self.on_arrival(),
                Ev::ClientStart => {
                    self.clients.started += 1;
                    self.clients.free += 1;
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
                Ev::Consolidate(n, e) => self.on_consolidate(n, e),
            }
            if self.finished() {
                break;
            }
        }
        self.account_cost();
    }

    /// True when no traffic is left and nothing is in flight; a fleet on a schedule that
    /// scales to zero (a batch run's `cron` trigger, `min` 0) runs on until it has scaled to
    /// zero and its nodes are gone, so their hours after the last answer are counted. A
    /// schedule above a minimum of one or more (the plan's hourly floor) never reaches zero:
    /// its day ends with the traffic.
    pub(super) fn finished(&self) -> bool {
        self.pending_arrival.is_none()
            && self.in_flight == 0
            && (self.clients.traffic_out
                || self.clients.started >= self.cfg.closed_loop.unwrap_or(0))
            && (!self.scheduled() || (self.live_replicas() == 0 && self.nodes_alive == 0))
    }

    /// Whether the autoscaler follows a schedule and may scale to zero.
    fn scheduled(&self) -> bool {
        self.cfg.autoscaler.as_ref().is_some_and(|a| {
            a.min == 0
                && a.triggers
                    .iter()
                    .any(|t| matches!(t.metric, super::config::ScaleMetric::Schedule { .. }))
        })
    }

    /// Closed loop: every free client sends its next request now.
    pub(super) fn release_clients(&mut self) {
        while self.clients.free > 0 {
            let Some(r) = self.traffic.next() else {
                self.clients.free = 0;
                self.clients.traffic_out = true;
                return;
            };
            self.clients.free -= 1;
            let slot = self
                .reqs
                .insert(Req::new(self.now, r.input_tokens, r.output_tokens));
            self.pending_arrival = Some(slot);
            self.on_arrival();
        }
    }

    /// A request was answered or given up: in a closed loop its client sends the next one.
    pub(super) fn client_done(&mut self) {
        if self.cfg.closed_loop.is_some() {
            self.clients.free += 1;
            self.release_clients();
        }
    }

    pub(super) fn on_arrival(&mut self) {
        let Some(r) = self.pending_arrival else {
            return;
        };
        self.tally.total += 1;
        self.in_flight += 1;
        if self.cfg.closed_loop.is_none() {
            self.next_arrival();
        } else {
            self.pending_arrival = None;
        }
        // The API server (tokenization, scheduling) takes the request overhead of the
        // efficiency table before the engine sees the request, as in `estimate`: its fixed
        // part and its part per stream open on a replica when the request arrives.
        let ready = self
            .slots
            .iter()
            .filter(|s| s.state == State::Ready)
            .count()
            .max(1);
        self.count_invocation(ready);
        let others = self.in_flight.saturating_sub(1) as f64 / ready as f64;
        let overhead = us(self
            .cfg
            .replica
            .request_overhead_s(&self.cfg.efficiency, others));
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
    pub(super) fn attempt(&mut self, r: usize) {
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

    /// A streaming client times out when no first token arrived within `timeout_s` of its
    /// attempt; once tokens stream, it waits.
    pub(super) fn on_timeout(&mut self, r: usize, attempt: u32) {
        let client = self.cfg.client;
        let Some(req) = self.reqs.get(r) else { return };
        if req.done || req.attempts != attempt || req.first_us.is_some() {
            return;
        }
        if attempt > client.max_retries {
            // Out of retries: the client gives up; the work may still run (wasted).
            self.tally.failed += 1;
            self.in_flight = self.in_flight.saturating_sub(1);
            if let Some(req) = self.reqs.get_mut(r) {
                req.done = true;
            }
            self.client_done();
            return;
        }
        self.tally.retries += 1;
        if client.idempotency_keys {
            // The gateway attaches the retry to the work already running.
            if let Some(req) = self.reqs.get_mut(r) {
                req.attempts += 1;
            }
        } else {
            self.tally.duplicates += 1;
            self.attempt(r);
        }
        if let Some(t) = client.timeout_s {
            self.push(self.now + us(t), Ev::Timeout(r, attempt + 1));
        }
    }

    pub(super) fn on_sample(&mut self) {
        let live = self.live_replicas();
        self.tally.sample(self.now, live, self.nodes_alive);
        if !self.finished() {
            self.push(self.now + us(self.cfg.sample_s.max(0.001)), Ev::Sample);
        }
    }
}
