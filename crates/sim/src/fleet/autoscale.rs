//! The autoscaler's side of the event loop: KEDA reads the triggers through the metric
//! pipeline's lag, scales from and to zero on its activation thresholds, and leaves the rest to
//! the HPA ([`super::hpa`]); the replica count changes as a Deployment's would.

use super::config::{Autoscaler, ScaleMetric};
use super::hpa::{Hpa, Reading};
use super::sim::Sim;
use super::state::{us, Ev, State};
use crate::replica::ReplicaSim;
use std::collections::VecDeque;

/// What the autoscaler remembers between decisions.
pub(super) struct Scaler {
    hpa: Hpa,
    /// (time µs, one value per trigger), oldest first.
    observations: VecDeque<(u64, Vec<f64>)>,
    /// When a trigger was last above its activation threshold.
    last_active_us: u64,
    /// Direction of the last scaling: +1 up, −1 down, 0 none yet.
    last_direction: i8,
}

impl Scaler {
    /// The autoscaler `a` of a fleet that starts with `replicas`, as if it had run steadily
    /// with them.
    pub(super) fn new(a: &Autoscaler, replicas: u32) -> Scaler {
        let mut hpa = Hpa::new(a.behavior.clone(), a.min.max(1), a.max, a.tolerance);
        hpa.assume(0, replicas.max(1));
        Scaler {
            hpa,
            observations: VecDeque::new(),
            last_active_us: 0,
            last_direction: 0,
        }
    }
}

impl Sim<'_> {
    /// Replicas the Deployment counts: starting or ready (not those terminating).
    pub(super) fn scaled_replicas(&self) -> u32 {
        self.slots
            .iter()
            .filter(|s| matches!(s.state, State::Starting | State::Ready))
            .count() as u32
    }

    /// Each trigger's value now.
    fn observe(&mut self, a: &Autoscaler, interval_us: u64) -> Vec<f64> {
        let ready = self.ready_replicas();
        let total = |count: fn(&ReplicaSim) -> usize| {
            let held: usize = ready.iter().map(|&i| count(&self.slots[i].sim)).sum();
            (held + self.pending.len()) as f64
        };
        let queued = total(ReplicaSim::queued);
        let in_flight = total(ReplicaSim::outstanding);
        let mut busy = 0u64;
        for &i in &ready {
            let s = &mut self.slots[i];
            busy += s.sim.busy_us - s.busy_mark;
            s.busy_mark = s.sim.busy_us;
        }
        let gpu = if ready.is_empty() {
            0.0
        } else {
            busy as f64 / (ready.len() as f64 * interval_us.max(1) as f64)
        };
        a.triggers
            .iter()
            .map(|t| match t.metric {
                ScaleMetric::QueueDepth => queued,
                ScaleMetric::InFlight => in_flight,
                ScaleMetric::GpuUtilization => gpu,
                ScaleMetric::Schedule { .. } => 0.0,
            })
            .collect()
    }

    /// One decision: observe, read the metrics as old as the lag, decide, scale.
    pub(super) fn on_tick(&mut self) {
        if self.cfg.managed.is_some() {
            self.on_managed_tick();
            return;
        }
        let cfg = self.cfg;
        let Some(a) = cfg.autoscaler.as_ref() else {
            return;
        };
        let interval = us(a.interval_s.max(0.001));
        self.push(self.now + interval, Ev::Tick);
        let values = self.observe(a, interval);
        let now = self.now;
        let current = self.scaled_replicas();
        let Some(s) = self.scaler.as_mut() else {
            return;
        };
        s.observations.push_back((now, values));
        let lag = us(a.metric_lag_s);
        while s.observations.len() > 1 && s.observations[1].0 + lag <= now {
            s.observations.pop_front();
        }
        let Some((seen_at, seen)) = s.observations.front() else {
            return;
        };
        if seen_at + lag > now {
            // The pipeline has nothing that old yet.
            return;
        }
        // Schedules are read now, not through the metric pipeline.
        let seen: Vec<f64> = a
            .triggers
            .iter()
            .zip(seen)
            .map(|(t, &v)| t.metric.scheduled(now).unwrap_or(v))
            .collect();
        let seen = &seen;
        let active = a.triggers.iter().zip(seen).any(|(t, &v)| v > t.activation);
        if active {
            s.last_active_us = now;
        }
        let next = if current == 0 {
            u32::from(active)
        } else if a.min == 0 && now >= s.last_active_us + us(a.scale_to_zero_after_s) {
            0
        } else {
            let readings: Vec<Reading> = a
                .triggers
                .iter()
                .zip(seen)
                .map(|(t, &value)| match t.metric {
                    ScaleMetric::GpuUtilization => Reading::Average {
                        value,
                        target: t.target,
                    },
                    _ => Reading::Total {
                        value,
                        target: t.target,
                    },
                })
                .collect();
            s.hpa.decide(now, current, &readings)
        };
        if next == current {
            return;
        }
        let direction = if next > current { 1 } else { -1 };
        self.tally.scale_events += 1;
        if s.last_direction == -direction {
            self.tally.scale_reversals += 1;
        }
        s.last_direction = direction;
        if next > current {
            for _ in current..next {
                self.add_replica(false);
            }
        } else {
            self.remove_replicas(current - next);
        }
    }

    /// Removes `n` replicas as a ReplicaSet picks them: starting ones first, then the most
    /// recently ready; a ready one stops taking requests and finishes those it holds.
    pub(super) fn remove_replicas(&mut self, n: u32) {
        let mut order: Vec<usize> = (0..self.slots.len())
            .filter(|&i| matches!(self.slots[i].state, State::Starting | State::Ready))
            .collect();
        order.sort_by_key(|&i| {
            let s = &self.slots[i];
            (
                s.state == State::Ready,
                std::cmp::Reverse(s.since_us),
                std::cmp::Reverse(i),
            )
        });
        for &i in order.iter().take(n as usize) {
            if self.slots[i].state == State::Starting {
                self.retire(i);
                continue;
            }
            self.account_cost();
            self.slots[i].state = State::Draining;
            if self.slots[i].sim.outstanding() == 0 && !self.slots[i].stepping {
                self.retire(i);
            }
        }
    }
}
