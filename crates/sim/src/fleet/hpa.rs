//! The HorizontalPodAutoscaler's decision, as the Kubernetes documentation describes it
//! ("Horizontal Pod Autoscaling": algorithm details, configurable scaling behavior), written
//! from that description:
//!
//! 1. per metric, `desired = ceil(current × value / target)`, or no change while the ratio
//!    is within the tolerance of 1; the largest over the metrics;
//! 2. stabilization: the recommendation is kept between the lowest recommendation of the
//!    scale-up window and the highest of the scale-down window (both include this one);
//! 3. rate policies: the change allowed over each policy's period, counted from the replicas
//!    at the start of that period (now minus the changes made within it); `selectPolicy`
//!    picks the most (`Max`) or least (`Min`) change, or none (`Disabled`);
//! 4. `min` and `max` (a count outside them is brought back at once, without policies).
//!
//! Time is integer microseconds, replica counts integers, percent limits integer arithmetic.

use inferplan_plan::autoscaling::{Behavior, PolicyKind, ScalingRules, SelectPolicy};
use std::collections::VecDeque;

const US_PER_S: u64 = 1_000_000;

/// One metric as the HPA reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reading {
    /// A total over the pods with a target per pod (KEDA's external metrics, `AverageValue`):
    /// `desired = ceil(value / target)`.
    Total {
        /// The metric summed over the pods.
        value: f64,
        /// Target per pod.
        target: f64,
    },
    /// An average over the pods with a target average (utilization):
    /// `desired = ceil(current × value / target)`.
    Average {
        /// The average.
        value: f64,
        /// Its target.
        target: f64,
    },
}

impl Reading {
    /// Replicas this metric asks for with `current` replicas (at least 1), or `current` when
    /// the ratio is within `tolerance` of 1.
    pub fn desired(self, current: u32, tolerance: f64) -> u32 {
        let current = current.max(1);
        let n = f64::from(current);
        let (ratio, proposal) = match self {
            Reading::Total { value, target } => {
                let t = target.max(1e-12);
                (value / (t * n), (value / t).ceil())
            }
            Reading::Average { value, target } => {
                let r = value / target.max(1e-12);
                (r, (n * r).ceil())
            }
        };
        if (ratio - 1.0).abs() <= tolerance || !proposal.is_finite() {
            current
        } else {
            proposal.clamp(0.0, f64::from(u32::MAX)) as u32
        }
    }
}

/// One HPA: its settings and what it remembers (recommendations, past scalings).
#[derive(Debug, Clone)]
pub struct Hpa {
    behavior: Behavior,
    min: u32,
    max: u32,
    tolerance: f64,
    /// (time µs, recommendation before stabilization).
    recommendations: VecDeque<(u64, u32)>,
    /// (time µs, replicas added).
    ups: VecDeque<(u64, u32)>,
    /// (time µs, replicas removed).
    downs: VecDeque<(u64, u32)>,
}

impl Hpa {
    /// An HPA keeping between `min` (at least 1) and `max` replicas.
    pub fn new(behavior: Behavior, min: u32, max: u32, tolerance: f64) -> Hpa {
        let min = min.max(1);
        Hpa {
            behavior,
            min,
            max: max.max(min),
            tolerance,
            recommendations: VecDeque::new(),
            ups: VecDeque::new(),
            downs: VecDeque::new(),
        }
    }

    /// Remembers `replicas` as the recommendation at `now_us`: a fleet that has been running
    /// steadily with them, so the scale-down window holds them for its length.
    pub fn assume(&mut self, now_us: u64, replicas: u32) {
        self.recommendations.push_back((now_us, replicas));
    }

    /// The replicas to run at `now_us` with `current` replicas and these metrics; the change,
    /// if any, is remembered for the rate policies.
    pub fn decide(&mut self, now_us: u64, current: u32, readings: &[Reading]) -> u32 {
        let next = if current < self.min {
            self.min
        } else if current > self.max {
            self.max
        } else {
            let wanted = readings
                .iter()
                .map(|r| r.desired(current, self.tolerance))
                .max()
                .unwrap_or(current);
            let stable = self.stabilize(now_us, current, wanted);
            self.limit(now_us, current, stable)
        };
        if next > current {
            self.ups.push_back((now_us, next - current));
        } else if next < current {
            self.downs.push_back((now_us, current - next));
        }
        next
    }

    /// Step 2: between the lowest recommendation of the scale-up window and the highest of the
    /// scale-down window.
    fn stabilize(&mut self, now_us: u64, current: u32, wanted: u32) -> u32 {
        let window = |r: &ScalingRules| u64::from(r.stabilization_window_s) * US_PER_S;
        let (up_w, down_w) = (
            window(&self.behavior.scale_up),
            window(&self.behavior.scale_down),
        );
        let longest = up_w.max(down_w);
        while self
            .recommendations
            .front()
            .is_some_and(|&(t, _)| t + longest <= now_us)
        {
            self.recommendations.pop_front();
        }
        let (mut up, mut down) = (wanted, wanted);
        for &(t, rec) in &self.recommendations {
            if t + up_w > now_us {
                up = up.min(rec);
            }
            if t + down_w > now_us {
                down = down.max(rec);
            }
        }
        self.recommendations.push_back((now_us, wanted));
        current.max(up).min(down)
    }

    /// Steps 3 and 4: the rate policies of the direction, then `min` and `max`.
    fn limit(&mut self, now_us: u64, current: u32, wanted: u32) -> u32 {
        let longest = [&self.behavior.scale_up, &self.behavior.scale_down]
            .iter()
            .flat_map(|r| r.policies.iter())
            .map(|p| u64::from(p.period_s) * US_PER_S)
            .max()
            .unwrap_or(0);
        for events in [&mut self.ups, &mut self.downs] {
            while events.front().is_some_and(|&(t, _)| t + longest <= now_us) {
                events.pop_front();
            }
        }
        // Replicas at the start of a period of `period_s`: now minus the changes since.
        let period_start = |period_s: u32| -> i64 {
            let since = |ev: &VecDeque<(u64, u32)>| -> i64 {
                ev.iter()
                    .filter(|&&(t, _)| t + u64::from(period_s) * US_PER_S > now_us)
                    .map(|&(_, n)| i64::from(n))
                    .sum()
            };
            i64::from(current) - since(&self.ups) + since(&self.downs)
        };
        if wanted > current {
            let rules = &self.behavior.scale_up;
            let limits = rules.policies.iter().map(|p| {
                let start = period_start(p.period_s);
                match p.kind {
                    PolicyKind::Pods => start + i64::from(p.value),
                    // ceil(start × (100 + value) / 100)
                    PolicyKind::Percent => {
                        (start * (100 + i64::from(p.value)) + 99).div_euclid(100)
                    }
                }
            });
            let allowed = match rules.select {
                SelectPolicy::Max => limits.max(),
                SelectPolicy::Min => limits.min(),
                SelectPolicy::Disabled => None,
            }
            .unwrap_or(i64::from(current))
            .max(i64::from(current));
            let top = allowed.min(i64::from(self.max)) as u32;
            wanted.min(top)
        } else if wanted < current {
            let rules = &self.behavior.scale_down;
            let limits = rules.policies.iter().map(|p| {
                let start = period_start(p.period_s);
                match p.kind {
                    PolicyKind::Pods => start - i64::from(p.value),
                    // floor(start × (100 − value) / 100)
                    PolicyKind::Percent => {
                        (start * (100 - i64::from(p.value).min(100))).div_euclid(100)
                    }
                }
            });
            // For scaling down the most change is the lowest count.
            let allowed = match rules.select {
                SelectPolicy::Max => limits.min(),
                SelectPolicy::Min => limits.max(),
                SelectPolicy::Disabled => None,
            }
            .unwrap_or(i64::from(current))
            .min(i64::from(current));
            let bottom = allowed.max(i64::from(self.min)) as u32;
            wanted.max(bottom)
        } else {
            current
        }
    }
}

#[cfg(test)]
mod tests {
    //! The worked examples of the Kubernetes HPA documentation ("Horizontal Pod Autoscaling",
    //! kubernetes.io), one test each.

    use super::*;
    use inferplan_plan::autoscaling::{ScalingPolicy, TOLERANCE};

    const S: u64 = US_PER_S;

    fn pods(value: u32, period_s: u32) -> ScalingPolicy {
        ScalingPolicy {
            kind: PolicyKind::Pods,
            value,
            period_s,
        }
    }

    fn percent(value: u32, period_s: u32) -> ScalingPolicy {
        ScalingPolicy {
            kind: PolicyKind::Percent,
            value,
            period_s,
        }
    }

    /// Kubernetes' default behavior with the scale-down rules replaced.
    fn with_scale_down(window_s: u32, policies: Vec<ScalingPolicy>, select: SelectPolicy) -> Hpa {
        let mut b = Behavior::kubernetes_default();
        b.scale_down = ScalingRules {
            stabilization_window_s: window_s,
            policies,
            select,
        };
        Hpa::new(b, 1, 1000, TOLERANCE)
    }

    /// "Algorithm details": a current value of 200m against a desired 100m doubles the
    /// replicas; 50m halves them; a ratio within 0.1 of 1 changes nothing.
    #[test]
    fn the_ratio_doubles_halves_or_stays_within_the_tolerance() {
        let avg = |value: f64| Reading::Average { value, target: 0.1 };
        assert_eq!(avg(0.2).desired(4, TOLERANCE), 8);
        assert_eq!(avg(0.05).desired(4, TOLERANCE), 2);
        assert_eq!(avg(0.109).desired(4, TOLERANCE), 4);
        assert_eq!(avg(0.091).desired(4, TOLERANCE), 4);
        assert_eq!(avg(0.111).desired(4, TOLERANCE), 5);
        // KEDA's AverageValue: ceil(total / target per pod).
        let total = Reading::Total {
            value: 13.0,
            target: 2.0,
        };
        assert_eq!(total.desired(3, TOLERANCE), 7);
        // 6.5 / (2 × 3) = 1.083: within the tolerance.
        let near = Reading::Total {
            value: 6.5,
            target: 2.0,
        };
        assert_eq!(near.desired(3, TOLERANCE), 3);
    }

    /// "Scaling on multiple metrics": each metric proposes a scale, the largest wins (within
    /// the maximum).
    #[test]
    fn the_largest_metric_wins_within_the_maximum() {
        let mut hpa = Hpa::new(Behavior::kubernetes_default(), 1, 6, TOLERANCE);
        let readings = [
            Reading::Total {
                value: 4.0,
                target: 2.0,
            },
            Reading::Total {
                value: 10.0,
                target: 2.0,
            },
        ];
        assert_eq!(hpa.decide(0, 2, &readings), 5);
        let more = [Reading::Total {
            value: 40.0,
            target: 2.0,
        }];
        assert_eq!(hpa.decide(15 * S, 5, &more), 6);
    }

    /// "Scaling policies": Pods 4 and Percent 10 per 60 s, the most change selected. From 80
    /// replicas towards 10: 8 are removed (10 %), then at 72 again 8 (7.2 rounded up), and
    /// below 40 replicas 4 at a time; nothing more within a period.
    #[test]
    fn scaling_policies_remove_ten_percent_above_forty_replicas_and_four_below() {
        // The example sets no window: the default 300 s applies (the target stays at 10).
        let mut hpa = with_scale_down(300, vec![pods(4, 60), percent(10, 60)], SelectPolicy::Max);
        let ten = [Reading::Total {
            value: 10.0,
            target: 1.0,
        }];
        let mut current = 80;
        let mut steps = Vec::new();
        for tick in 0..(30 * 4) {
            let next = hpa.decide(tick * 15 * S, current, &ten);
            if next != current {
                steps.push(current - next);
            }
            current = next;
        }
        assert_eq!(&steps[..2], &[8, 8], "{steps:?}");
        // 80 → 72 → 64 → 57 → 51 → 45 → 40, then 4 at a time to 12 and the last 2.
        assert_eq!(steps, [8, 8, 7, 6, 6, 5, 4, 4, 4, 4, 4, 4, 4, 2]);
        assert_eq!(current, 10);
        // One change per 60-s period, not one per 15-s tick.
        let mut hpa = with_scale_down(0, vec![pods(4, 60), percent(10, 60)], SelectPolicy::Max);
        assert_eq!(hpa.decide(0, 80, &ten), 72);
        assert_eq!(hpa.decide(15 * S, 72, &ten), 72);
        assert_eq!(hpa.decide(45 * S, 72, &ten), 72);
        assert_eq!(hpa.decide(60 * S, 72, &ten), 64);
    }

    /// "Example: limit scale down rate": 10 % per minute, and with a second policy of 5 pods
    /// and `selectPolicy: Min` no more than 5 pods per minute.
    #[test]
    fn select_policy_min_removes_no_more_than_five_pods_a_minute() {
        let one = [Reading::Total {
            value: 1.0,
            target: 1.0,
        }];
        let mut ten_percent = with_scale_down(0, vec![percent(10, 60)], SelectPolicy::Max);
        assert_eq!(ten_percent.decide(0, 100, &one), 90);
        let mut hpa = with_scale_down(0, vec![percent(10, 60), pods(5, 60)], SelectPolicy::Min);
        assert_eq!(hpa.decide(0, 100, &one), 95);
        assert_eq!(hpa.decide(30 * S, 95, &one), 95);
        assert_eq!(hpa.decide(60 * S, 95, &one), 90);
        // Below 50 replicas 10 % is fewer than 5 pods: the percent policy is the minimum.
        let mut small = with_scale_down(0, vec![percent(10, 60), pods(5, 60)], SelectPolicy::Min);
        assert_eq!(small.decide(0, 30, &one), 27);
    }

    /// "Example: disable scale down": `selectPolicy: Disabled` never removes a replica.
    #[test]
    fn disabled_scale_down_never_removes_a_replica() {
        let mut hpa = with_scale_down(0, vec![percent(100, 15)], SelectPolicy::Disabled);
        let zero = [Reading::Total {
            value: 0.0,
            target: 1.0,
        }];
        for tick in 0..100 {
            assert_eq!(hpa.decide(tick * 15 * S, 7, &zero), 7);
        }
        // Scaling up still works.
        let high = [Reading::Total {
            value: 9.0,
            target: 1.0,
        }];
        assert_eq!(hpa.decide(1600 * S, 7, &high), 9);
    }

    /// "Stabilization window" (300 s): a scale-down uses the highest recommendation of the
    /// past 5 minutes; "change downscale stabilization window" to 60 s shortens that.
    #[test]
    fn the_scale_down_window_keeps_the_highest_recent_recommendation() {
        let total = |value: f64| [Reading::Total { value, target: 1.0 }];
        let mut hpa = Hpa::new(Behavior::kubernetes_default(), 1, 100, TOLERANCE);
        assert_eq!(hpa.decide(0, 10, &total(10.0)), 10);
        // The load drops: for 300 s the earlier recommendation of 10 holds.
        let mut t = 15;
        while t < 300 {
            assert_eq!(hpa.decide(t * S, 10, &total(2.0)), 10, "at {t} s");
            t += 15;
        }
        // At 300 s the recommendation of 10 (at 0 s) has left the window; the default policy
        // (100 % per 15 s) allows going straight to 2.
        assert_eq!(hpa.decide(300 * S, 10, &total(2.0)), 2);

        let mut b = Behavior::kubernetes_default();
        b.scale_down.stabilization_window_s = 60;
        let mut hpa = Hpa::new(b, 1, 100, TOLERANCE);
        assert_eq!(hpa.decide(0, 10, &total(10.0)), 10);
        assert_eq!(hpa.decide(45 * S, 10, &total(2.0)), 10);
        assert_eq!(hpa.decide(60 * S, 10, &total(2.0)), 2);
    }

    /// "Default Behavior": scale up without a window by 4 pods or 100 % per 15 s, the larger.
    #[test]
    fn default_scale_up_adds_four_pods_or_doubles_every_fifteen_seconds() {
        let want = [Reading::Total {
            value: 100.0,
            target: 1.0,
        }];
        let mut hpa = Hpa::new(Behavior::kubernetes_default(), 1, 100, TOLERANCE);
        let mut current = 1;
        let mut seen = vec![current];
        for tick in 0..6 {
            current = hpa.decide(tick * 15 * S, current, &want);
            seen.push(current);
        }
        // 1 → 5 (4 pods beat 100 %), 5 → 10 (100 % beats 4 pods), 20, 40, 80, 100 (max).
        assert_eq!(seen, [1, 5, 10, 20, 40, 80, 100]);
        // Within one period no more than the policy allows: 5 more after 5 were added.
        let mut hpa = Hpa::new(Behavior::kubernetes_default(), 1, 100, TOLERANCE);
        assert_eq!(hpa.decide(0, 1, &want), 5);
        assert_eq!(hpa.decide(5 * S, 5, &want), 5);
    }

    /// Below `min` or above `max` the count is brought back at once.
    #[test]
    fn counts_outside_min_and_max_are_corrected_at_once() {
        let mut hpa = Hpa::new(Behavior::rendered(1), 3, 5, TOLERANCE);
        let none = [Reading::Total {
            value: 0.0,
            target: 1.0,
        }];
        assert_eq!(hpa.decide(0, 1, &none), 3);
        assert_eq!(hpa.decide(15 * S, 9, &none), 5);
    }

    /// A fleet assumed steady at 4 replicas keeps them for the scale-down window.
    #[test]
    fn an_assumed_recommendation_holds_for_the_scale_down_window() {
        let mut hpa = Hpa::new(Behavior::kubernetes_default(), 1, 10, TOLERANCE);
        hpa.assume(0, 4);
        let one = [Reading::Total {
            value: 1.0,
            target: 1.0,
        }];
        assert_eq!(hpa.decide(30 * S, 4, &one), 4);
        assert_eq!(hpa.decide(300 * S, 4, &one), 1);
    }

    /// The rendered behavior: one pod per minute up; down only after 10 minutes at one pod per
    /// 5 minutes.
    #[test]
    fn the_rendered_behavior_scales_down_one_replica_per_five_minutes_after_ten() {
        let mut hpa = Hpa::new(Behavior::rendered(1), 1, 10, TOLERANCE);
        let total = |value: f64| [Reading::Total { value, target: 1.0 }];
        let mut current = 1;
        let mut ups = Vec::new();
        for tick in 0..12 {
            let next = hpa.decide(tick * 15 * S, current, &total(8.0));
            if next != current {
                ups.push(tick * 15);
            }
            current = next;
        }
        assert_eq!(ups, [0, 60, 120]);
        assert_eq!(current, 4);
        let mut downs = Vec::new();
        for tick in 12..200 {
            let next = hpa.decide(tick * 15 * S, current, &total(0.0));
            if next != current {
                downs.push(tick * 15);
            }
            current = next;
        }
        // Last recommendation of 8 at 165 s: the window ends at 765 s; then one per 300 s.
        assert_eq!(downs, [765, 1065, 1365]);
        assert_eq!(current, 1);
    }
}
