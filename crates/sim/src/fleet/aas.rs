//! Application Auto Scaling of a SageMaker endpoint variant, the managed autoscaler beside
//! the HPA ([`super::hpa`]): target tracking with the CloudWatch alarms it creates, step
//! scaling on `HasBacklogWithoutCapacity` (out of zero), cooldowns, one-minute metrics
//! published with a delay. Written from AWS's descriptions (read 2026-12-07):
//!
//! - **Metrics.** `InvocationsPerInstance` adds `1/n` per request, `n` the instances in
//!   service at that moment (SageMaker API reference, `ScalingPolicyMetric`,
//!   <https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ScalingPolicyMetric.html>);
//!   target tracking reads its one-minute `Sum` ("Define a scaling policy",
//!   <https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-add-code-define.html>:
//!   "invocations per instance per minute"). The asynchronous policy the renderer writes
//!   tracks the `Average` of `ApproximateBacklogSizePerInstance`, the backlog ("items in the
//!   queue for an endpoint that are currently being processed or yet to be processed")
//!   divided by the instances ("Monitor Asynchronous Endpoint",
//!   `doc_source/async-inference-monitor.md` in awsdocs/amazon-sagemaker-developer-guide,
//!   commit 4ac846c8fab6053ddc6b4eb8a250709dc454f2bf).
//! - **Alarms.** Target tracking creates two alarms ("Target tracking scaling policies for
//!   Application Auto Scaling", Application Auto Scaling User Guide,
//!   `doc_source/application-auto-scaling-target-tracking.md` in
//!   awsdocs/application-auto-scaling-user-guide, commit
//!   04798a9f7b18bda27a43c0b9d0650db335308565). AWS does not print their datapoints; the
//!   alarms of a SageMaker endpoint read "InvocationsPerInstance > 1500 for 3 datapoints
//!   within 3 minutes" and "InvocationsPerInstance < 1350 for 15 datapoints within 15
//!   minutes" for a target of 1500 (re:Post, "Sagemaker autoscaling delay",
//!   <https://repost.aws/questions/QUf450Wsd9RROGGOIwaolN9w/sagemaker-autoscaling-delay>):
//!   [`SCALE_OUT_DATAPOINTS`], [`SCALE_IN_DATAPOINTS`], [`SCALE_IN_RATIO`] (the guide: scale in
//!   only below "a threshold that is far enough below the target value (usually more than 10%
//!   lower)").
//! - **Adjustment.** "scales out proportionally to the metric as fast as it can, but scales
//!   in more gradually", rounding so as "to prevent adding insufficient capacity or removing
//!   too much" (same guide): `desired = ceil(capacity × metric / target)`, rounded up both
//!   ways, with the latest datapoint when scaling out and the highest of the scale-in alarm's
//!   datapoints when scaling in (our reading of "more gradually": AWS does not say which
//!   datapoint it uses). The capacity is the scalable dimension,
//!   `sagemaker:variant:DesiredInstanceCount`, so instances still launching count.
//! - **Alarm actions.** "Except for Auto Scaling actions, the actions happen only on state
//!   transitions" (CloudWatch User Guide, "Alarm actions",
//!   <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-actions.html>): an
//!   alarm in ALARM runs its scaling policy at every evaluation, once per period.
//! - **Cooldowns** (the guide above, and "Step scaling policies",
//!   `doc_source/application-auto-scaling-step-scaling-policies.md`, same commit): after a
//!   scale-out, the policy "won't increase the desired capacity again unless either a larger
//!   scale out is triggered or the cooldown period ends", and "the capacity added by the
//!   initiating scale-out activity is calculated as part of the desired capacity for the next
//!   scale-out" (during the cooldown the proposal is counted from the capacity before the
//!   scale-out); scale-ins are "blocked until the cooldown period has expired", but a
//!   scale-out during a scale-in cooldown happens at once and ends that cooldown. A scale-out
//!   cooldown does not block a scale-in (nothing says it does). Defaults: 300 s for SageMaker
//!   variants ([`DEFAULT_COOLDOWN_S`]; AWS CDK, `BaseTargetTrackingProps`,
//!   <https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_applicationautoscaling.TargetTrackingScalingPolicyProps.html>).
//! - **Several policies.** Scale out if any policy asks, to the largest capacity; scale in
//!   only when every policy with scale-in enabled asks (the guide above). `DisableScaleIn`
//!   leaves scale-in to other policies.
//! - **Missing data.** "A target tracking scaling policy does not scale in when the state of
//!   the alarm is INSUFFICIENT_DATA" (the guide above). A minute without invocations is taken
//!   to publish no `InvocationsPerInstance` datapoint, and a per-instance metric to be
//!   unpublished while no instance is in service (both assumptions), so an alarm needs all
//!   its datapoints present to fire.
//!
//! Not published by AWS, and therefore labelled assumptions: the delay before a minute's
//! datapoint can be evaluated ([`METRIC_DELAY_S`]) and the evaluation on whole minutes.
//! Time is integer microseconds, capacities integers.

use serde::Serialize;

const US_PER_S: f64 = 1e6;

pub use inferplan_plan::autoscaling::sagemaker::{
    DEFAULT_COOLDOWN_S, METRIC_DELAY_S, PERIOD_S, SCALE_IN_DATAPOINTS, SCALE_IN_RATIO,
    SCALE_OUT_DATAPOINTS,
};

/// What a target-tracking policy tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// `SageMakerVariantInvocationsPerInstance` (real-time): invocations per instance in the
    /// minute.
    InvocationsPerInstance,
    /// `ApproximateBacklogSizePerInstance` (asynchronous): queued requests per instance,
    /// averaged over the minute.
    BacklogPerInstance,
}

/// A target-tracking scaling policy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TargetTracking {
    /// The metric.
    pub metric: Metric,
    /// `TargetValue`.
    pub target: f64,
    /// `ScaleOutCooldown`, seconds.
    pub scale_out_cooldown_s: f64,
    /// `ScaleInCooldown`, seconds.
    pub scale_in_cooldown_s: f64,
    /// `DisableScaleIn`.
    pub disable_scale_in: bool,
}

/// A step scaling policy run by an alarm on `HasBacklogWithoutCapacity` (1 while requests
/// wait and no instance serves): adds capacity out of zero.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StepOut {
    /// The alarm fires at or above this average.
    pub threshold: f64,
    /// `DatapointsToAlarm`.
    pub datapoints: u32,
    /// `EvaluationPeriods`.
    pub evaluation_periods: u32,
    /// `ScalingAdjustment` of the step (`ChangeInCapacity`).
    pub adjustment: u32,
    /// `Cooldown`, seconds.
    pub cooldown_s: f64,
}

/// The Application Auto Scaling of one variant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Managed {
    /// `MinCapacity` (0 lets an asynchronous endpoint scale to zero).
    pub min: u32,
    /// `MaxCapacity`.
    pub max: u32,
    /// The target-tracking policy, if any.
    pub tracking: Option<TargetTracking>,
    /// The step policy out of zero, if any.
    pub from_zero: Option<StepOut>,
    /// [`METRIC_DELAY_S`] unless told.
    pub metric_delay_s: f64,
}

/// One minute of published metrics.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Datapoint {
    /// The tracked metric; `None` when nothing was published.
    pub tracked: Option<f64>,
    /// `HasBacklogWithoutCapacity`, averaged over the minute.
    pub backlog_without_capacity: f64,
}

/// A scale-out cooldown: until when, and the capacity before the scale-out that began it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cooldown {
    until_us: u64,
    base: u32,
}

/// The scalable target and its policies' memory.
#[derive(Debug, Clone)]
pub struct Policies {
    cfg: Managed,
    desired: u32,
    tracking_out: Option<Cooldown>,
    step_out: Option<Cooldown>,
    scale_in_until_us: u64,
}

fn us(s: f64) -> u64 {
    (s.max(0.0) * US_PER_S).round() as u64
}

/// The last `n` datapoints, when there are that many.
fn last(published: &[Datapoint], n: usize) -> Option<&[Datapoint]> {
    (n > 0 && published.len() >= n).then(|| &published[published.len() - n..])
}

impl Policies {
    /// The policies of `cfg` over a variant at `desired` instances.
    pub fn new(cfg: Managed, desired: u32) -> Policies {
        Policies {
            desired: desired.clamp(cfg.min, cfg.max.max(cfg.min)),
            cfg,
            tracking_out: None,
            step_out: None,
            scale_in_until_us: 0,
        }
    }

    /// The desired capacity.
    pub fn desired(&self) -> u32 {
        self.desired
    }

    /// Evaluates the alarms at `now_us` over the datapoints published so far (oldest first)
    /// and returns the desired capacity.
    pub fn evaluate(&mut self, now_us: u64, published: &[Datapoint]) -> u32 {
        let (min, max) = (self.cfg.min, self.cfg.max.max(self.cfg.min));
        let c = self.desired;
        let in_cooldown = |cd: Option<Cooldown>| cd.filter(|cd| now_us < cd.until_us);
        // Scale out: any policy, the largest capacity.
        let mut out_tracking = None;
        if let Some(t) = self.cfg.tracking {
            let high = last(published, SCALE_OUT_DATAPOINTS)
                .filter(|d| d.iter().all(|p| p.tracked.is_some_and(|v| v > t.target)));
            if let Some(d) = high {
                let latest = d[d.len() - 1].tracked.unwrap_or(0.0);
                let base = in_cooldown(self.tracking_out).map_or(c, |cd| cd.base);
                let want = proportional(base, latest, t.target).clamp(min, max);
                if want > c {
                    out_tracking = Some(want);
                }
            }
        }
        let mut out_step = None;
        if let Some(s) = self.cfg.from_zero {
            let n = s.evaluation_periods.max(1) as usize;
            let breaching = last(published, n).map_or(0, |d| {
                d.iter()
                    .filter(|p| p.backlog_without_capacity >= s.threshold)
                    .count()
            });
            if breaching >= s.datapoints.max(1) as usize {
                let base = in_cooldown(self.step_out).map_or(c, |cd| cd.base);
                let want = base.saturating_add(s.adjustment).clamp(min, max);
                if want > c {
                    out_step = Some(want);
                }
            }
        }
        let out = out_tracking.max(out_step);
        if let Some(next) = out {
            let start = |cd: Option<Cooldown>, secs: f64| {
                Some(Cooldown {
                    until_us: now_us + us(secs),
                    base: in_cooldown(cd).map_or(c, |cd| cd.base),
                })
            };
            if let (Some(_), Some(t)) = (out_tracking, self.cfg.tracking) {
                self.tracking_out = start(self.tracking_out, t.scale_out_cooldown_s);
            }
            if let (Some(_), Some(s)) = (out_step, self.cfg.from_zero) {
                self.step_out = start(self.step_out, s.cooldown_s);
            }
            // A scale-out ends a scale-in cooldown.
            self.scale_in_until_us = 0;
            self.desired = next;
            return next;
        }
        // Scale in: only the tracking policy scales in, when enabled and out of cooldown.
        let Some(t) = self.cfg.tracking else {
            return c;
        };
        if t.disable_scale_in || now_us < self.scale_in_until_us {
            return c;
        }
        let low = last(published, SCALE_IN_DATAPOINTS).filter(|d| {
            d.iter()
                .all(|p| p.tracked.is_some_and(|v| v < SCALE_IN_RATIO * t.target))
        });
        if let Some(d) = low {
            let highest = d.iter().filter_map(|p| p.tracked).fold(0.0, f64::max);
            let want = proportional(c, highest, t.target).clamp(min, max);
            if want < c {
                self.scale_in_until_us = now_us + us(t.scale_in_cooldown_s);
                self.desired = want;
            }
        }
        self.desired
    }
}

/// `ceil(capacity × metric / target)`, in integers where the ratio is exact.
fn proportional(capacity: u32, metric: f64, target: f64) -> u32 {
    let t = target.max(1e-12);
    let x = f64::from(capacity) * metric.max(0.0) / t;
    // A hair below an integer is that integer (floating error in metric / target).
    let rounded = x.round();
    let v = if (x - rounded).abs() < 1e-9 {
        rounded
    } else {
        x.ceil()
    };
    v.clamp(0.0, f64::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {
    //! Worked scenarios of the documented behaviour, one test each.

    use super::*;

    const MIN: u64 = 60_000_000;

    fn tracking(target: f64, out_s: f64, in_s: f64) -> Managed {
        Managed {
            min: 1,
            max: 50,
            tracking: Some(TargetTracking {
                metric: Metric::InvocationsPerInstance,
                target,
                scale_out_cooldown_s: out_s,
                scale_in_cooldown_s: in_s,
                disable_scale_in: false,
            }),
            from_zero: None,
            metric_delay_s: METRIC_DELAY_S,
        }
    }

    fn points(values: &[f64]) -> Vec<Datapoint> {
        values
            .iter()
            .map(|&v| Datapoint {
                tracked: Some(v),
                backlog_without_capacity: 0.0,
            })
            .collect()
    }

    /// Three datapoints above the target scale out to ceil(capacity × metric / target); two
    /// are not enough, and a missing one breaks the run.
    #[test]
    fn three_datapoints_above_the_target_scale_out_proportionally() {
        let mut p = Policies::new(tracking(100.0, 0.0, 600.0), 4);
        assert_eq!(p.evaluate(MIN, &points(&[90.0, 150.0, 150.0])), 4);
        // 4 × 250 / 100 = 10.
        assert_eq!(p.evaluate(2 * MIN, &points(&[150.0, 150.0, 250.0])), 10);
        let mut gap = points(&[150.0, 150.0, 150.0]);
        gap[1].tracked = None;
        let mut q = Policies::new(tracking(100.0, 0.0, 600.0), 4);
        assert_eq!(q.evaluate(MIN, &gap), 4);
        // Exactly the target is not above it.
        assert_eq!(q.evaluate(2 * MIN, &points(&[100.0, 100.0, 100.0])), 4);
        // 4 × 101 / 100 = 4.04: rounded up to 5.
        assert_eq!(q.evaluate(3 * MIN, &points(&[101.0, 101.0, 101.0])), 5);
    }

    /// During the scale-out cooldown the proposal counts from the capacity before the
    /// scale-out: the same high metric adds nothing, a larger one adds the difference only;
    /// after the cooldown the capacity that launched counts and the metric (still high while
    /// the new instances start) multiplies it again.
    #[test]
    fn the_scale_out_cooldown_counts_the_capacity_already_added() {
        let mut p = Policies::new(tracking(100.0, 300.0, 600.0), 4);
        let high = points(&[200.0, 200.0, 200.0]);
        assert_eq!(p.evaluate(MIN, &high), 8);
        assert_eq!(p.evaluate(2 * MIN, &high), 8);
        // Larger: 4 × 300 / 100 = 12, 4 more (not 8 × 3 = 24).
        assert_eq!(p.evaluate(3 * MIN, &points(&[200.0, 200.0, 300.0])), 12);
        // Still within 300 s of the first scale-out's cooldown restart at 3 min.
        assert_eq!(p.evaluate(7 * MIN, &high), 12);
        // After it: 12 × 200 / 100.
        assert_eq!(p.evaluate(9 * MIN, &high), 24);
        // Without a cooldown each minute multiplies.
        let mut q = Policies::new(tracking(100.0, 0.0, 600.0), 4);
        assert_eq!(q.evaluate(MIN, &high), 8);
        assert_eq!(q.evaluate(2 * MIN, &high), 16);
        assert_eq!(q.evaluate(3 * MIN, &high), 32);
        assert_eq!(q.evaluate(4 * MIN, &high), 50, "the maximum");
    }

    /// Scale-in needs 15 datapoints below 90 % of the target; then it removes capacity
    /// proportionally (rounded up) and waits out its cooldown before the next.
    #[test]
    fn fifteen_datapoints_below_ninety_percent_scale_in_then_the_cooldown_blocks() {
        let mut p = Policies::new(tracking(100.0, 300.0, 600.0), 10);
        let mut d = points(&[50.0; 14]);
        assert_eq!(p.evaluate(MIN, &d), 10, "14 datapoints are not enough");
        d.push(Datapoint {
            tracked: Some(50.0),
            backlog_without_capacity: 0.0,
        });
        // 10 × 50 / 100 = 5.
        assert_eq!(p.evaluate(16 * MIN, &d), 5);
        assert_eq!(p.evaluate(17 * MIN, &points(&[30.0; 15])), 5, "cooldown");
        // 600 s after the scale-in: 5 × 30 / 100 = 1.5, rounded up to 2.
        assert_eq!(p.evaluate(26 * MIN, &points(&[30.0; 15])), 2);
        // 89.9 and 90 % of the target: only below 90 % counts.
        let mut q = Policies::new(tracking(100.0, 300.0, 0.0), 10);
        assert_eq!(q.evaluate(MIN, &points(&[90.0; 15])), 10);
        assert_eq!(q.evaluate(2 * MIN, &points(&[89.0; 15])), 9);
        // The highest of the fifteen sizes the scale-in: 10 × 60 / 100.
        let mut varied = points(&[10.0; 15]);
        varied[7].tracked = Some(60.0);
        let mut v = Policies::new(tracking(100.0, 300.0, 0.0), 10);
        assert_eq!(v.evaluate(MIN, &varied), 6);
        // One datapoint at the target in the fifteen keeps the alarm OK.
        let mut mixed = points(&[50.0; 15]);
        mixed[3].tracked = Some(95.0);
        let mut r = Policies::new(tracking(100.0, 300.0, 0.0), 10);
        assert_eq!(r.evaluate(MIN, &mixed), 10);
    }

    /// A scale-out during the scale-in cooldown happens at once and ends the cooldown;
    /// `DisableScaleIn` never removes capacity; the minimum holds.
    #[test]
    fn scale_out_interrupts_the_scale_in_cooldown_and_scale_in_can_be_disabled() {
        let mut p = Policies::new(tracking(100.0, 0.0, 3600.0), 10);
        assert_eq!(p.evaluate(MIN, &points(&[50.0; 15])), 5);
        assert_eq!(p.evaluate(2 * MIN, &points(&[150.0; 15])), 8);
        // The scale-in cooldown ended with the scale-out.
        assert_eq!(p.evaluate(3 * MIN, &points(&[10.0; 15])), 1);
        let mut cfg = tracking(100.0, 0.0, 0.0);
        cfg.tracking = cfg.tracking.map(|t| TargetTracking {
            disable_scale_in: true,
            ..t
        });
        let mut q = Policies::new(cfg, 6);
        assert_eq!(q.evaluate(MIN, &points(&[0.0; 15])), 6);
        let mut floor = tracking(100.0, 0.0, 0.0);
        floor.min = 3;
        let mut r = Policies::new(floor, 6);
        assert_eq!(r.evaluate(MIN, &points(&[0.0; 15])), 3);
    }

    /// Asynchronous: target tracking on the backlog cannot leave zero (no instance, no
    /// per-instance datapoint), the
    /// step policy on `HasBacklogWithoutCapacity` adds one instance after two breaching
    /// minutes, once per cooldown; zero backlog for 15 minutes scales back to zero.
    #[test]
    fn the_step_policy_leaves_zero_and_tracking_returns_to_it() {
        let cfg = Managed {
            min: 0,
            max: 8,
            tracking: Some(TargetTracking {
                metric: Metric::BacklogPerInstance,
                target: 5.0,
                scale_out_cooldown_s: 300.0,
                scale_in_cooldown_s: 600.0,
                disable_scale_in: false,
            }),
            from_zero: Some(StepOut {
                threshold: 1.0,
                datapoints: 2,
                evaluation_periods: 2,
                adjustment: 1,
                cooldown_s: 300.0,
            }),
            metric_delay_s: METRIC_DELAY_S,
        };
        let mut p = Policies::new(cfg, 0);
        let waiting = |n: usize| {
            vec![
                Datapoint {
                    tracked: None,
                    backlog_without_capacity: 1.0,
                };
                n
            ]
        };
        assert_eq!(p.evaluate(MIN, &waiting(1)), 0, "one minute is not enough");
        assert_eq!(p.evaluate(2 * MIN, &waiting(2)), 1);
        // Within the step cooldown the instance is still starting: no second one.
        assert_eq!(p.evaluate(3 * MIN, &waiting(3)), 1);
        // The backlog per instance (tracking) now multiplies the one instance: 1 × 30 / 5.
        let busy = points(&[30.0, 30.0, 30.0]);
        assert_eq!(p.evaluate(4 * MIN, &busy), 6);
        assert_eq!(p.evaluate(30 * MIN, &points(&[0.0; 15])), 0);
    }

    #[test]
    fn proportional_rounds_up_except_exact_ratios() {
        assert_eq!(proportional(3, 70.0, 70.0), 3);
        assert_eq!(proportional(3, 0.1 + 0.2, 0.3), 3);
        assert_eq!(proportional(3, 71.0, 70.0), 4);
        assert_eq!(proportional(0, 500.0, 70.0), 0);
    }
}
