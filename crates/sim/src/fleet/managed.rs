//! The managed autoscaler's side of the event loop: SageMaker's metrics gathered minute by
//! minute (invocations per instance counted at each arrival, the backlog sampled every
//! [`SAMPLE_S`] seconds), published after the metric delay, evaluated by Application Auto
//! Scaling ([`super::aas`]) once a minute, and the variant's instances brought to the desired
//! count: new ones are launched (the nodes' start, then the container's cold start), removed
//! ones drain.

use super::aas::{Datapoint, Managed, Metric, Policies, PERIOD_S};
use super::sim::Sim;
use super::state::{us, Ev, State};
use std::collections::VecDeque;

/// Seconds between samples of the backlog within a minute.
pub const SAMPLE_S: f64 = 10.0;

/// Minutes kept: enough for the longest alarm (15 datapoints) and the unpublished ones.
const KEEP_MINUTES: usize = 32;

/// What the managed autoscaler gathers between evaluations.
pub(super) struct ManagedState {
    policies: Policies,
    /// This minute: Σ 1/n over the invocations.
    invocations: f64,
    /// This minute: Σ backlog per instance over the samples with an instance in service.
    backlog_sum: f64,
    backlog_samples: u32,
    /// This minute: Σ `HasBacklogWithoutCapacity` over the samples.
    no_capacity_sum: f64,
    samples: u32,
    minute_start_us: u64,
    /// Closed minutes (end µs, datapoint), oldest first.
    minutes: VecDeque<(u64, Datapoint)>,
    last_direction: i8,
}

impl ManagedState {
    /// The autoscaler of a variant that starts with `instances`.
    pub(super) fn new(m: &Managed, instances: u32) -> ManagedState {
        ManagedState {
            policies: Policies::new(m.clone(), instances),
            invocations: 0.0,
            backlog_sum: 0.0,
            backlog_samples: 0,
            no_capacity_sum: 0.0,
            samples: 0,
            minute_start_us: 0,
            minutes: VecDeque::new(),
            last_direction: 0,
        }
    }
}

impl Sim<'_> {
    /// An invocation reached the endpoint while `in_service` instances served (SageMaker adds
    /// `1/in_service` to `InvocationsPerInstance`).
    pub(super) fn count_invocation(&mut self, in_service: usize) {
        if let Some(m) = self.managed.as_mut() {
            m.invocations += 1.0 / in_service.max(1) as f64;
        }
    }

    /// The endpoint's backlog: requests being processed or yet to be processed (those no
    /// instance holds, and every request an instance in service holds).
    fn backlog(&self) -> usize {
        let held: usize = self
            .slots
            .iter()
            .filter(|s| s.state == State::Ready)
            .map(|s| s.sim.outstanding())
            .sum();
        held + self.pending.len()
    }

    /// One sample; on a minute's end, its datapoint, the evaluation and the scaling.
    pub(super) fn on_managed_tick(&mut self) {
        let cfg = self.cfg;
        let Some(m) = cfg.managed.as_ref() else {
            return;
        };
        let now = self.now;
        self.push(now + us(SAMPLE_S), Ev::Tick);
        let in_service = self.ready_replicas().len();
        let backlog = self.backlog() as f64;
        let period = u64::from(PERIOD_S) * 1_000_000;
        let delay = us(m.metric_delay_s);
        let Some(st) = self.managed.as_mut() else {
            return;
        };
        let mut evaluate = false;
        if now >= st.minute_start_us + period {
            let tracked = match m.tracking.map(|t| t.metric) {
                Some(Metric::InvocationsPerInstance) => {
                    (st.invocations > 0.0).then_some(st.invocations)
                }
                Some(Metric::BacklogPerInstance) => {
                    (st.backlog_samples > 0).then(|| st.backlog_sum / f64::from(st.backlog_samples))
                }
                None => None,
            };
            let dp = Datapoint {
                tracked,
                backlog_without_capacity: if st.samples > 0 {
                    st.no_capacity_sum / f64::from(st.samples)
                } else {
                    0.0
                },
            };
            st.minute_start_us += period;
            st.minutes.push_back((st.minute_start_us, dp));
            while st.minutes.len() > KEEP_MINUTES {
                st.minutes.pop_front();
            }
            st.invocations = 0.0;
            st.backlog_sum = 0.0;
            st.backlog_samples = 0;
            st.no_capacity_sum = 0.0;
            st.samples = 0;
            evaluate = true;
        }
        st.samples += 1;
        if in_service > 0 {
            st.backlog_sum += backlog / in_service as f64;
            st.backlog_samples += 1;
        } else if backlog > 0.0 {
            st.no_capacity_sum += 1.0;
        }
        if !evaluate {
            return;
        }
        let published: Vec<Datapoint> = st
            .minutes
            .iter()
            .filter(|(end, _)| end + delay <= now)
            .map(|&(_, d)| d)
            .collect();
        let before = st.policies.desired();
        let desired = st.policies.evaluate(now, &published);
        if desired != before {
            let direction = if desired > before { 1 } else { -1 };
            if st.last_direction == -direction {
                self.tally.scale_reversals += 1;
            }
            st.last_direction = direction;
            self.tally.scale_events += 1;
        }
        // SageMaker keeps the variant at the desired count (and replaces what was lost).
        let current = self.scaled_replicas();
        if desired > current {
            for _ in current..desired {
                self.add_replica(false);
            }
        } else if desired < current {
            self.remove_replicas(current - desired);
        }
    }
}
