//! IL122 `sagemaker-endpoint-without-scaling`.

use super::super::context::cloudformation::SageMakerEndpoint;
use super::super::{finding, Context, Finding, Rule, Severity};

inferplan_plan::declare_rule! {
    /// **What it checks.** An `AWS::SageMaker::Endpoint` in a CloudFormation template with no
    /// `AWS::ApplicationAutoScaling::ScalableTarget` for it (namespace `sagemaker`, a
    /// `ResourceId` of `endpoint/<name>/variant/<variant>` that names it literally, by `!Sub`,
    /// or by `!Join` of a `!Ref`/`!GetAtt` of it), or a scalable target without an
    /// `AWS::ApplicationAutoScaling::ScalingPolicy`. When a target's or policy's link cannot be
    /// evaluated (a parameter, an import), the finding says which value and stays at info
    /// level.
    ///
    /// **Why it matters.** A SageMaker endpoint runs the `InitialInstanceCount` of its
    /// production variant and nothing else: autoscaling is "not enabled by default" (article
    /// 003) and needs a scalable target and a policy from Application Auto Scaling. Without
    /// them the endpoint is sized for one moment: it queues and times out (60 s per real-time
    /// request) at the peak, and pays for the peak all night.
    ///
    /// **Example.**
    ///
    /// > SageMaker endpoint `Endpoint` has no scalable target: it keeps its initial instance
    /// > count whatever the load. Add an AWS::ApplicationAutoScaling::ScalableTarget
    /// > (`endpoint/<name>/variant/<variant>`, `sagemaker:variant:DesiredInstanceCount`) and a
    /// > target-tracking ScalingPolicy on SageMakerVariantInvocationsPerInstance.
    ///
    /// **Fix.**
    ///
    /// ```yaml
    /// ScalableTarget:
    ///   Type: AWS::ApplicationAutoScaling::ScalableTarget
    ///   DependsOn: [Endpoint]
    ///   Properties:
    ///     MinCapacity: 2
    ///     MaxCapacity: 8
    ///     ResourceId: endpoint/fraud-scoring/variant/AllTraffic
    ///     ScalableDimension: sagemaker:variant:DesiredInstanceCount
    ///     ServiceNamespace: sagemaker
    /// TargetTracking:
    ///   Type: AWS::ApplicationAutoScaling::ScalingPolicy
    ///   Properties:
    ///     PolicyName: fraud-scoring-invocations
    ///     PolicyType: TargetTrackingScaling
    ///     ScalingTargetId: !Ref ScalableTarget
    ///     TargetTrackingScalingPolicyConfiguration:
    ///       TargetValue: 2000
    ///       PredefinedMetricSpecification:
    ///         PredefinedMetricType: SageMakerVariantInvocationsPerInstance
    /// ```
    ///
    /// `inferplan render --platform sagemaker` writes both, with the target from the plan's
    /// capacity at the SLO.
    pub struct SageMakerEndpointWithoutScaling {
        code: "IL122",
        name: "sagemaker-endpoint-without-scaling",
        severity: Warning,
        summary: "a SageMaker endpoint needs a scalable target and a scaling policy",
        docs: "docs/lint.md#il122-sagemaker-endpoint-without-scaling",
    }
}

impl Rule for SageMakerEndpointWithoutScaling {
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for t in &ctx.templates {
            for e in SageMakerEndpoint::all(t) {
                let s = e.scaling();
                if !s.policies.is_empty() {
                    continue;
                }
                let object = e.endpoint.object();
                if !s.opaque.is_empty() {
                    out.push(finding(
                        self,
                        Severity::Info,
                        &object,
                        0,
                        format!(
                            "Cannot tell whether SageMaker endpoint `{}` scales: {}, which lint \
                             does not evaluate.",
                            e.endpoint.id,
                            s.opaque.join("; ")
                        ),
                    ));
                    continue;
                }
                let message = match s.targets.first() {
                    None => format!(
                        "SageMaker endpoint `{}` has no scalable target: it keeps its initial \
                         instance count whatever the load. Add an \
                         AWS::ApplicationAutoScaling::ScalableTarget \
                         (`endpoint/<name>/variant/<variant>`, \
                         `sagemaker:variant:DesiredInstanceCount`) and a target-tracking \
                         ScalingPolicy on {}.",
                        e.endpoint.id,
                        if e.is_async() {
                            "ApproximateBacklogSizePerInstance"
                        } else {
                            "SageMakerVariantInvocationsPerInstance"
                        }
                    ),
                    Some(target) => format!(
                        "SageMaker endpoint `{}` has a scalable target (`{}`) but no scaling \
                         policy uses it: the instance count never moves. Add an \
                         AWS::ApplicationAutoScaling::ScalingPolicy with ScalingTargetId \
                         `!Ref {}`.",
                        e.endpoint.id, target.id, target.id
                    ),
                };
                out.push(finding(self, Severity::Warning, &object, 0, message));
            }
        }
        out
    }
}
