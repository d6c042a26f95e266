//! KEDA on the job queue: a `keda.sh/v1alpha1` ScaledObject with an `aws-sqs-queue` trigger
//! and the plan's hourly pool as `cron` triggers, and the TriggerAuthentication it reads the
//! queue with.
//!
//! Sources, read in kedacore/keda at commit `8b4f083ca8c8c2baf8477e322bd4d16ac4dfa09a` (the
//! commit of the stored CRDs, `.ci/crds/README.md`) and the keda.sh docs ("Scalers: AWS SQS
//! Queue", "Scalers: Cron", "Authentication providers: AWS", checked 2026-12-07):
//!
//! - `aws-sqs-queue` (`pkg/scalers/aws_sqs_queue_scaler.go`) reads `queueURL` (or
//!   `queueURLFromEnv`, the name of an environment variable of the scale target),
//!   `queueLength` (integer, default 5: messages per replica), `activationQueueLength`
//!   (integer, default 0: scale from zero above it), `awsRegion`, `scaleOnInFlight` (default
//!   true: messages = `ApproximateNumberOfMessages` + `ApproximateNumberOfMessagesNotVisible`,
//!   so the job a worker holds counts) and `scaleOnDelayed` (default false). Desired replicas
//!   = ⌈messages / queueLength⌉.
//! - `cron` (`pkg/scalers/cron_scaler.go`) reads `timezone`, `start` and `end` (five-field cron
//!   expressions) and `desiredReplicas`, which it asks for between start and end.
//! - `TriggerAuthentication.spec.podIdentity.provider: aws` (`pkg/scalers/aws/aws_common.go`):
//!   the scaler uses the AWS identity of the KEDA operator (`identityOwner: keda`, the
//!   default; an EKS Pod Identity association or IRSA on its service account), which needs
//!   `sqs:GetQueueAttributes` on the queue. The trigger-level `identityOwner` is deprecated
//!   since KEDA 2.13.
//!
//! The HPA takes the highest of the triggers, so the workers are the plan's pool for the hour
//! (cron) or what the queue asks for, whichever is more, between the warm pool and the plan's
//! peak.

use super::WorkerInput;
use crate::render::k8s::{Labels, ObjectMeta};
use crate::render::keda::{behavior, Advanced, Behavior, HpaConfig, ScaleTargetRef};
use crate::render::pod;
use inferplan_plan::autoscaling;
use serde::Serialize;

/// The ScaledObject of the workers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkerScaledObject {
    /// `keda.sh/v1alpha1`.
    pub api_version: String,
    /// `ScaledObject`.
    pub kind: String,
    /// Name, namespace, labels.
    pub metadata: ObjectMeta,
    /// The spec.
    pub spec: WorkerScaledObjectSpec,
}

/// Spec of the workers' ScaledObject.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkerScaledObjectSpec {
    /// The Deployment.
    pub scale_target_ref: ScaleTargetRef,
    /// Seconds between queries.
    pub polling_interval: u32,
    /// Seconds without an active trigger before scaling to zero.
    pub cooldown_period: u32,
    /// Fewest workers: the plan's warm pool.
    pub min_replica_count: u32,
    /// Most workers: the plan's peak.
    pub max_replica_count: u32,
    /// HPA behaviour.
    pub advanced: Advanced,
    /// The queue and the hourly pool.
    pub triggers: Vec<QueueTrigger>,
}

/// A trigger, with its authentication.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueTrigger {
    /// `aws-sqs-queue` or `cron`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Trigger name.
    pub name: String,
    /// Scaler settings, all strings.
    pub metadata: Labels,
    /// The TriggerAuthentication (the SQS trigger).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication_ref: Option<AuthenticationRef>,
}

/// A reference to a TriggerAuthentication.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuthenticationRef {
    /// Its name.
    pub name: String,
}

/// A TriggerAuthentication.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerAuthentication {
    /// `keda.sh/v1alpha1`.
    pub api_version: String,
    /// `TriggerAuthentication`.
    pub kind: String,
    /// Name, namespace, labels.
    pub metadata: ObjectMeta,
    /// The spec.
    pub spec: TriggerAuthenticationSpec,
}

/// Spec of a TriggerAuthentication.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerAuthenticationSpec {
    /// The platform identity.
    pub pod_identity: PodIdentity,
}

/// A platform identity.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodIdentity {
    /// `aws`.
    pub provider: String,
    /// `keda`: the operator's own identity.
    pub identity_owner: String,
}

/// Name of the TriggerAuthentication.
pub fn authentication_name(input: &WorkerInput) -> String {
    format!("{}-sqs", input.base.name)
}

/// Seconds a message may wait for a worker: the limit (latency promise, deadline or batch
/// window) less a cold start when the pool scales to zero (the first job waits for a worker).
pub fn wait_budget_s(input: &WorkerInput) -> f64 {
    let cold = if input.scale_to_zero {
        input.base.cold_start.seconds
    } else {
        0.0
    };
    input.limit_s - cold
}

/// Messages per worker KEDA aims at (`queueLength`): the jobs one worker finishes, one after
/// the other, within the wait budget: ⌊budget / job time⌋, at least 1. A worker holding that
/// many finishes the last of them within the limit.
pub fn queue_length(input: &WorkerInput) -> u32 {
    let n = (wait_budget_s(input) / input.job_s).floor();
    if n.is_finite() && n >= 1.0 {
        n.min(1e6) as u32
    } else {
        1
    }
}

/// The plan's hourly pool above the warm pool, as (first hour, hours, workers) windows of
/// equal workers (UTC, within one day).
pub fn schedule(input: &WorkerInput) -> Vec<(u32, u32, u32)> {
    let min = input.base.min_replicas;
    let mut out: Vec<(u32, u32, u32)> = Vec::new();
    for h in 0..24u32 {
        let n = input.hourly_workers[h as usize].min(input.base.max_replicas);
        if n <= min {
            continue;
        }
        match out.last_mut() {
            Some((start, len, w)) if *w == n && *start + *len == h => *len += 1,
            _ => out.push((h, 1, n)),
        }
    }
    out
}

/// Minutes a scheduled window opens before its hour: the cold start, so that the hour's
/// workers are loaded when it begins.
pub fn lead_minutes(input: &WorkerInput) -> u32 {
    let s = (input.base.cold_start.seconds / 60.0).ceil();
    if s.is_finite() {
        (s.max(0.0) as u32).min(59)
    } else {
        0
    }
}

/// A cron expression at `minute_of_day` (0-1439), every day.
fn at(minute_of_day: u32) -> String {
    let m = minute_of_day % 1440;
    format!("{} {} * * *", m % 60, m / 60)
}

/// The ScaledObject.
pub fn scaled_object(input: &WorkerInput) -> WorkerScaledObject {
    let base = &input.base;
    let mut triggers = vec![QueueTrigger {
        kind: "aws-sqs-queue".to_owned(),
        name: "queue".to_owned(),
        metadata: [
            ("queueURLFromEnv", "QUEUE_URL".to_owned()),
            ("queueLength", queue_length(input).to_string()),
            ("activationQueueLength", "0".to_owned()),
            ("awsRegion", input.queue_region.clone()),
            ("scaleOnInFlight", "true".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
        authentication_ref: Some(AuthenticationRef {
            name: authentication_name(input),
        }),
    }];
    let lead = lead_minutes(input);
    for (start, len, workers) in schedule(input) {
        triggers.push(QueueTrigger {
            kind: "cron".to_owned(),
            name: format!("pool-{start:02}h-{:02}h", (start + len) % 24),
            metadata: [
                ("timezone", "Etc/UTC".to_owned()),
                ("start", at(start * 60 + 1440 - lead)),
                ("end", at((start + len) * 60)),
                ("desiredReplicas", workers.to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
            authentication_ref: None,
        });
    }
    WorkerScaledObject {
        api_version: "keda.sh/v1alpha1".to_owned(),
        kind: "ScaledObject".to_owned(),
        metadata: ObjectMeta {
            name: Some(base.name.clone()),
            namespace: Some(base.namespace.clone()),
            labels: pod::common_labels(base),
            annotations: Labels::new(),
        },
        spec: WorkerScaledObjectSpec {
            scale_target_ref: ScaleTargetRef {
                api_version: "apps/v1".to_owned(),
                kind: "Deployment".to_owned(),
                name: base.name.clone(),
            },
            polling_interval: autoscaling::POLLING_INTERVAL_S,
            cooldown_period: autoscaling::KEDA_COOLDOWN_PERIOD_S,
            min_replica_count: base.min_replicas,
            max_replica_count: base.max_replicas,
            advanced: Advanced {
                horizontal_pod_autoscaler_config: HpaConfig {
                    behavior: worker_behavior(input),
                },
            },
            triggers,
        },
    }
}

/// The HPA behaviour: render's (scale up by one node's worth per minute, down by one worker
/// per five minutes after a ten-minute window). A worker removed by a scale-in finishes its
/// clip first (its grace period is the per-clip timeout).
pub fn worker_behavior(input: &WorkerInput) -> Behavior {
    behavior(&autoscaling::Behavior::rendered(
        input.base.replicas_per_instance,
    ))
}

/// The TriggerAuthentication: KEDA reads the queue's attributes with its operator's AWS
/// identity.
pub fn trigger_authentication(input: &WorkerInput) -> TriggerAuthentication {
    TriggerAuthentication {
        api_version: "keda.sh/v1alpha1".to_owned(),
        kind: "TriggerAuthentication".to_owned(),
        metadata: ObjectMeta {
            name: Some(authentication_name(input)),
            namespace: Some(input.base.namespace.clone()),
            labels: pod::common_labels(&input.base),
            annotations: Labels::new(),
        },
        spec: TriggerAuthenticationSpec {
            pod_identity: PodIdentity {
                provider: "aws".to_owned(),
                identity_owner: "keda".to_owned(),
            },
        },
    }
}
