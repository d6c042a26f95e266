//! The Application Auto Scaling of a SageMaker endpoint, computed once for
//! `render --platform sagemaker` (the template's scalable target, policies and the alarm that
//! scales out of zero) and for the simulator (`plan --verify`'s day of a SageMaker option).
//!
//! One truth with the EKS render: the target is the same number of requests in flight per
//! replica as KEDA's ([`super::Targets::in_flight`]), turned into invocations per instance
//! per minute by Little's law at the plan's end-to-end p99 (real time), or read directly as
//! the backlog per instance (async).

use serde::Serialize;

// Application Auto Scaling's figures (the simulator's `fleet::aas` documents how they are
// used, and where the rest of its behaviour is described).

/// Length of one datapoint, seconds: SageMaker publishes its endpoint metrics at one-minute
/// resolution ("Amazon SageMaker AI metrics in Amazon CloudWatch",
/// <https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html>), and the
/// alarms evaluate one period each minute.
pub const PERIOD_S: u32 = 60;

/// Datapoints above the target the scale-out alarm needs, out of as many (re:Post, "Sagemaker autoscaling delay",
/// <https://repost.aws/questions/QUf450Wsd9RROGGOIwaolN9w/sagemaker-autoscaling-delay>: the
/// alarms of a SageMaker endpoint's policy read "InvocationsPerInstance > 1500 for 3
/// datapoints within 3 minutes" and "< 1350 for 15 datapoints within 15 minutes").
pub const SCALE_OUT_DATAPOINTS: usize = 3;

/// Datapoints below [`SCALE_IN_RATIO`] of the target the scale-in alarm needs, out of as
/// many (the same alarms: 1350 for a target of 1500).
pub const SCALE_IN_DATAPOINTS: usize = 15;

/// The scale-in alarm's threshold as a share of the target (the same alarms: 1350 / 1500; the Application Auto Scaling User Guide: "usually more than 10%
/// lower").
pub const SCALE_IN_RATIO: f64 = 0.9;

/// Cooldown of a SageMaker variant's policy when the template sets none, seconds (AWS CDK
/// reference, `BaseTargetTrackingProps.scaleInCooldown`/`scaleOutCooldown`: "Default:
/// Duration.seconds(300) for ... Amazon SageMaker endpoint variants",
/// <https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_applicationautoscaling.TargetTrackingScalingPolicyProps.html>).
pub const DEFAULT_COOLDOWN_S: f64 = 300.0;

/// From the end of a minute to the moment an alarm can evaluate its datapoint, seconds. An
/// assumption: AWS publishes no figure. The re:Post thread saw more than 5 minutes from
/// a load step to the scale-out of a 3-datapoint alarm, which a delay of one to two minutes
/// after the three minutes explains.
pub const METRIC_DELAY_S: f64 = 60.0;

/// Seconds between scale-ins: ten minutes, the longest scale-in cooldown of the examples in
/// "Define a scaling policy" (SageMaker developer guide); an assumption, not a measurement.
pub const SCALE_IN_COOLDOWN_S: u32 = 600;

/// The alarm on `HasBacklogWithoutCapacity` that runs the step policy out of zero: at or
/// above this average ...
pub const FROM_ZERO_THRESHOLD: f64 = 1.0;

/// ... for this many one-minute datapoints out of as many ...
pub const FROM_ZERO_DATAPOINTS: u32 = 2;

/// ... adds this many instances.
pub const FROM_ZERO_ADJUSTMENT: u32 = 1;

/// Shortest scale-out cooldown written, seconds.
pub const MIN_SCALE_OUT_COOLDOWN_S: f64 = 60.0;

/// What the template's autoscaling says.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scaling {
    /// An asynchronous endpoint (backlog tracking, scale to zero, the step policy).
    pub is_async: bool,
    /// `MinCapacity`: the plan's minimum replicas (at least 1) in real time, 0 for async.
    pub min: u32,
    /// `InitialInstanceCount`.
    pub initial: u32,
    /// `MaxCapacity`: the plan's maximum replicas.
    pub max: u32,
    /// Real-time target: invocations per instance per minute.
    pub invocations_per_instance_per_minute: f64,
    /// Async target: backlog per instance.
    pub backlog_per_instance: u32,
    /// Async: concurrent requests SageMaker hands one instance.
    pub max_concurrent_per_instance: u32,
    /// Seconds between scale-outs: the start of a new instance, then the scale-out alarm's
    /// datapoints published after it serves ([`SCALE_OUT_DATAPOINTS`] minutes and
    /// [`METRIC_DELAY_S`]). Capacity added is invisible to the metric until the instance
    /// serves and the alarm's minutes postdate it, and outside a cooldown the proportional
    /// step multiplies it again.
    pub scale_out_cooldown_s: u32,
    /// Seconds between scale-ins ([`SCALE_IN_COOLDOWN_S`]).
    pub scale_in_cooldown_s: u32,
}

/// The scaling of an endpoint whose replicas (one per instance) the plan bounds by
/// `min_replicas` and `max_replicas`, with KEDA's in-flight target `target_in_flight` per
/// replica, an end-to-end p99 of `e2e_p99_ms` at `max_rps_per_replica`, and new instances
/// that serve `instance_start_s` after the decision
/// ([`inferplan_serving::sagemaker::instance_start`]).
pub fn scaling(
    is_async: bool,
    min_replicas: u32,
    max_replicas: u32,
    target_in_flight: u32,
    e2e_p99_ms: f64,
    max_rps_per_replica: f64,
    instance_start_s: f64,
) -> Scaling {
    let e2e_s = e2e_p99_ms.max(1.0) / 1000.0;
    // Little's law: the request rate at which KEDA's in-flight target is reached.
    let target_rps = f64::from(target_in_flight) / e2e_s;
    let invocations_per_instance_per_minute = (target_rps * 60.0 * 100.0).round() / 100.0;
    let max_concurrent = (max_rps_per_replica * e2e_s).ceil().max(1.0);
    let (min, initial) = if is_async {
        (0, 1)
    } else {
        (min_replicas.max(1), min_replicas.max(1))
    };
    let start = if instance_start_s.is_finite() {
        instance_start_s
    } else {
        0.0
    } + (SCALE_OUT_DATAPOINTS as f64) * f64::from(PERIOD_S)
        + METRIC_DELAY_S;
    Scaling {
        is_async,
        min,
        initial,
        max: max_replicas.max(1),
        invocations_per_instance_per_minute,
        backlog_per_instance: target_in_flight.max(1),
        max_concurrent_per_instance: max_concurrent.min(f64::from(u32::MAX)) as u32,
        scale_out_cooldown_s: start.ceil().max(MIN_SCALE_OUT_COOLDOWN_S) as u32,
        scale_in_cooldown_s: SCALE_IN_COOLDOWN_S,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_targets_follow_littles_law_and_the_instance_start() {
        // 8 in flight at 250 ms end to end: 32 requests/s, 1920 per minute.
        let s = scaling(false, 2, 6, 8, 250.0, 40.0, 312.4);
        assert_eq!(s.invocations_per_instance_per_minute, 1920.0);
        assert_eq!((s.min, s.initial, s.max), (2, 2, 6));
        // 312.4 s of start, three published minutes and the delay.
        assert_eq!(s.scale_out_cooldown_s, 553);
        assert_eq!(s.max_concurrent_per_instance, 10);
        let a = scaling(true, 2, 6, 8, 250.0, 40.0, 20.0);
        assert_eq!((a.min, a.initial, a.backlog_per_instance), (0, 1, 8));
        assert_eq!(a.scale_out_cooldown_s, 260);
    }
}
