//! IL123 `sagemaker-async-cannot-scale-to-zero`.

use super::super::context::cloudformation::{Eval, SageMakerEndpoint};
use super::super::{finding, Context, Finding, Rule, Severity};
use crate::yaml::Node;

/// Metrics of the asynchronous queue a policy can scale out on.
const BACKLOG_METRICS: [&str; 3] = [
    "ApproximateBacklogSizePerInstance",
    "ApproximateBacklogSize",
    "HasBacklogWithoutCapacity",
];

inferplan_plan::declare_rule! {
    /// **What it checks.** An asynchronous SageMaker endpoint (its endpoint config has an
    /// `AsyncInferenceConfig`) whose scalable target keeps instances when the queue is empty
    /// (`MinCapacity` above 0), or whose scaling reads nothing of the queue: no target-tracking
    /// policy on `ApproximateBacklogSizePerInstance` (or `ApproximateBacklogSize`), and no
    /// step policy run by an alarm on `HasBacklogWithoutCapacity`. Endpoints without any
    /// scaling are IL122's.
    ///
    /// **Why it matters.** Scale to zero is what asynchronous inference is for: "you only pay
    /// when your endpoint is processing requests" (SageMaker's asynchronous inference guide,
    /// article 003). A minimum above zero pays for idle GPUs between batches. The backlog is
    /// the signal that says work waits: invocations per instance are not published for
    /// asynchronous endpoints, and CPU or GPU utilisation is zero at zero instances, so
    /// without a backlog metric the endpoint cannot come back from zero. Target tracking
    /// alone starts from zero only once the backlog exceeds its target; the step policy on
    /// `HasBacklogWithoutCapacity` adds the first instance for the first request.
    ///
    /// **Example.**
    ///
    /// > Asynchronous SageMaker endpoint `Endpoint` keeps 1 instance (`MinCapacity` of
    /// > `ScalableTarget`) with an empty queue: it pays for idle GPUs between batches. Set
    /// > MinCapacity: 0 and scale out of zero with a step policy on HasBacklogWithoutCapacity.
    ///
    /// **Fix.** `MinCapacity: 0`, target tracking on `ApproximateBacklogSizePerInstance`, and:
    ///
    /// ```yaml
    /// ScaleOutFromZero:
    ///   Type: AWS::ApplicationAutoScaling::ScalingPolicy
    ///   Properties:
    ///     PolicyName: documents-scale-out-from-zero
    ///     PolicyType: StepScaling
    ///     ScalingTargetId: !Ref ScalableTarget
    ///     StepScalingPolicyConfiguration:
    ///       AdjustmentType: ChangeInCapacity
    ///       Cooldown: 300
    ///       MetricAggregationType: Average
    ///       StepAdjustments: [{MetricIntervalLowerBound: 0, ScalingAdjustment: 1}]
    /// HasBacklogWithoutCapacity:
    ///   Type: AWS::CloudWatch::Alarm
    ///   Properties:
    ///     Namespace: AWS/SageMaker
    ///     MetricName: HasBacklogWithoutCapacity
    ///     Dimensions: [{Name: EndpointName, Value: documents}]
    ///     Statistic: Average
    ///     Period: 60
    ///     EvaluationPeriods: 2
    ///     Threshold: 1
    ///     ComparisonOperator: GreaterThanOrEqualToThreshold
    ///     AlarmActions: [!Ref ScaleOutFromZero]
    /// ```
    pub struct SageMakerAsyncCannotScaleToZero {
        code: "IL123",
        name: "sagemaker-async-cannot-scale-to-zero",
        severity: Warning,
        summary: "an asynchronous SageMaker endpoint should scale to zero and out on its backlog",
        docs: "docs/lint.md#il123-sagemaker-async-cannot-scale-to-zero",
    }
}

impl Rule for SageMakerAsyncCannotScaleToZero {
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for t in &ctx.templates {
            for e in SageMakerEndpoint::all(t) {
                if !e.is_async() {
                    continue;
                }
                let s = e.scaling();
                if s.policies.is_empty() {
                    continue;
                }
                let object = e.endpoint.object();
                for target in &s.targets {
                    match t.int(target.props().get("MinCapacity")) {
                        Eval::Value(min) if min > 0 => out.push(finding(
                            self,
                            Severity::Warning,
                            &target.object(),
                            target.line_of(&["MinCapacity"]),
                            format!(
                                "Asynchronous SageMaker endpoint `{}` keeps {min} instance{} \
                                 (`MinCapacity` of `{}`) with an empty queue: it pays for idle \
                                 GPUs between batches. Set MinCapacity: 0 and scale out of \
                                 zero with a step policy on HasBacklogWithoutCapacity.",
                                e.endpoint.id,
                                if min == 1 { "" } else { "s" },
                                target.id
                            ),
                        )),
                        Eval::Opaque(x) => out.push(finding(
                            self,
                            Severity::Info,
                            &target.object(),
                            target.line_of(&["MinCapacity"]),
                            format!(
                                "Cannot tell whether asynchronous SageMaker endpoint `{}` \
                                 scales to zero: MinCapacity of `{}` is `{x}`, which lint does \
                                 not evaluate.",
                                e.endpoint.id, target.id
                            ),
                        )),
                        _ => {}
                    }
                }
                let on_backlog = s.policies.iter().any(|p| {
                    let metric = p
                        .props()
                        .at("TargetTrackingScalingPolicyConfiguration")
                        .at("CustomizedMetricSpecification")
                        .get("MetricName")
                        .and_then(Node::as_str);
                    metric.is_some_and(|m| BACKLOG_METRICS.contains(&m))
                        || e.alarms_running(p).iter().any(|a| {
                            a.props()
                                .get("MetricName")
                                .and_then(Node::as_str)
                                .is_some_and(|m| BACKLOG_METRICS.contains(&m))
                        })
                });
                if !on_backlog {
                    out.push(finding(
                        self,
                        Severity::Warning,
                        &object,
                        0,
                        format!(
                            "Asynchronous SageMaker endpoint `{}` scales on no backlog metric \
                             ({}): at zero instances nothing else is published, so it never \
                             scales out of zero, and above zero it does not see queued work. \
                             Track ApproximateBacklogSizePerInstance and add a step policy on \
                             HasBacklogWithoutCapacity.",
                            e.endpoint.id,
                            s.policies
                                .iter()
                                .map(|p| format!("`{}`", p.id))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            }
        }
        out
    }
}
