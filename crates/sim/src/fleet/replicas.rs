//! The replicas' side of the event loop: starting and retiring replicas, routing, engine
//! steps and the requests they finish, spot interruptions and the autoscaler.

use super::config::Router;
use super::sim::Sim;
use super::state::{us, Ev, Slot, State, US};
use crate::replica::{ReplicaSim, Seq};

impl Sim<'_> {
    pub(super) fn live_replicas(&self) -> u32 {
        self.slots
            .iter()
            .filter(|s| matches!(s.state, State::Starting | State::Ready | State::Draining))
            .count() as u32
    }

    pub(super) fn account_cost(&mut self) {
        let dt = self.now - self.last_cost_mark;
        self.tally.replica_us += u128::from(dt) * u128::from(self.live_replicas());
        let per_group = self.cfg.nodes.map_or(0, |n| n.nodes_per_replica.max(1));
        self.tally.node_us += u128::from(dt) * u128::from(self.nodes_alive * per_group);
        self.last_cost_mark = self.now;
    }

    pub(super) fn add_replica(&mut self, warm: bool) {
        self.account_cost();
        // Without nodes a replica starts now; with them, when its node can start it.
        let placed = self.place(warm);
        let start = placed.map_or(self.now, |(_, at)| at);
        let sim = ReplicaSim::new(&self.cfg.replica).with_prefix_hit_rate(self.cfg.prefix_hit_rate);
        self.slots.push(Slot {
            sim,
            state: State::Starting,
            since_us: self.now,
            epoch: 0,
            stepping: false,
            step_started_us: 0,
            busy_mark: 0,
            node: placed.map(|(n, _)| n),
        });
        let idx = self.slots.len() - 1;
        let delay = if warm { 0 } else { us(self.cfg.cold_start_s) };
        if !warm {
            self.tally.started += 1;
        }
        self.push(start + delay, Ev::Ready(idx));
        self.tally.replicas_max = self.tally.replicas_max.max(self.live_replicas());
    }

    pub(super) fn ready_replicas(&self) -> Vec<usize> {
        (0..self.slots.len())
            .filter(|&i| self.slots[i].state == State::Ready)
            .collect()
    }

    pub(super) fn dispatch(&mut self, w: usize) {
        let ready = self.ready_replicas();
        if ready.is_empty() {
            self.pending.push_back(w);
            return;
        }
        let pick = match self.cfg.router {
            Router::Random => ready[self.router_rng.below(ready.len() as u64) as usize],
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
    pub(super) fn kick(&mut self, i: usize) {
        let slot = &mut self.slots[i];
        if slot.stepping || !matches!(slot.state, State::Ready | State::Draining) {
            return;
        }
        if let Some(d) = slot.sim.start_step(&mut self.times) {
            slot.stepping = true;
            slot.step_started_us = self.now;
            self.tally.steps += 1;
            let at = self.now + d;
            self.push(at, Ev::Step(i));
        }
    }

    pub(super) fn on_step(&mut self, i: usize) {
        if !self.slots[i].stepping || self.slots[i].state == State::Dead {
            return;
        }
        self.slots[i].stepping = false;
        self.slots[i].sim.finish_step_into(&mut self.outcome);
        let now = self.now;
        let started = self.slots[i].step_started_us;
        let out = &self.outcome;
        self.tally.tokens_computed += out.prefill_tokens + out.next_tokens.len() as u64;
        for &w in &out.admitted {
            let Some(r) = self.works.get(w).map(|x| x.req) else {
                continue;
            };
            if let Some(req) = self.reqs.get_mut(r) {
                if req.admitted_us.is_none() {
                    req.admitted_us = Some(started);
                    self.tally
                        .queue
                        .record(started.saturating_sub(req.arrival_us));
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
        // Most tokens of a step follow their previous one by the same time: each run of
        // equal gaps is recorded at once (the histogram is the same as one record each).
        let mut gap = (0u64, 0u64);
        for &w in &out.next_tokens {
            let Some(r) = self.works.get(w).map(|x| x.req) else {
                continue;
            };
            if let Some(req) = self.reqs.get_mut(r) {
                if req.first_us.is_some() && !req.done {
                    let v = now.saturating_sub(req.last_token_us);
                    if v == gap.0 {
                        gap.1 += 1;
                    } else {
                        self.tally.itl.record_n(gap.0, gap.1);
                        gap = (v, 1);
                    }
                    req.last_token_us = now;
                }
            }
        }
        self.tally.itl.record_n(gap.0, gap.1);
        for k in 0..self.outcome.finished.len() {
            let w = self.outcome.finished[k];
            self.finish_work(w);
        }
        if self.slots[i].state == State::Draining && self.slots[i].sim.outstanding() == 0 {
            self.retire(i);
        } else {
            self.kick(i);
        }
    }

    pub(super) fn finish_work(&mut self, w: usize) {
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
        self.tally.completed += 1;
        self.tally.answered(now);
        self.in_flight = self.in_flight.saturating_sub(1);
        self.client_done();
        if arrival < self.warmup_end_us {
            return;
        }
        self.tally
            .record(self.cfg.slo, arrival, ttft, tpot, e2e, input, output);
    }

    pub(super) fn on_ready(&mut self, i: usize) {
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

    pub(super) fn on_notice(&mut self, i: usize, epoch: u32) {
        let Some(spot) = self.cfg.spot else { return };
        if self.slots[i].epoch != epoch || self.slots[i].state != State::Ready {
            return;
        }
        self.tally.interruptions += 1;
        self.slots[i].state = State::Draining;
        // A replacement starts now; the lost replica keeps serving until the notice ends.
        self.add_replica(false);
        self.push(self.now + us(spot.notice_s), Ev::SpotKill(i, epoch));
    }

    pub(super) fn on_kill(&mut self, i: usize, epoch: u32) {
        if self.slots[i].epoch != epoch || self.slots[i].state == State::Dead {
            return;
        }
        let lost = self.slots[i].sim.evict_all();
        self.retire_from(i, true);
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
                self.tally.retries += 1;
                self.attempt(r);
            }
        }
    }

    pub(super) fn retire(&mut self, i: usize) {
        self.retire_from(i, false);
    }

    /// Retires replica `i`; its node is `lost` with it (a spot interruption) or left to
    /// consolidation.
    fn retire_from(&mut self, i: usize, lost: bool) {
        if self.slots[i].state == State::Dead {
            return;
        }
        if let Some(n) = self.slots[i].node {
            self.vacate(n, lost);
        }
        self.account_cost();
        self.slots[i].state = State::Dead;
        self.slots[i].stepping = false;
        self.slots[i].epoch += 1;
    }
}
