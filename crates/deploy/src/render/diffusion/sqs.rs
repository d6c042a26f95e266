//! The job queue itself, as a CloudFormation template (`queue.cfn.yaml`): the SQS queue the
//! workers read and KEDA watches, its dead-letter queue, and the IAM managed policies of the
//! workers' role and of the KEDA operator's role.
//!
//! Property names and limits from the CloudFormation template reference and the Amazon SQS
//! Developer Guide (checked 2026-12-07): `AWS::SQS::Queue` (`QueueName`, `FifoQueue`,
//! `VisibilityTimeout` 0-43,200 s, `MessageRetentionPeriod` 60-1,209,600 s, default 345,600
//! (4 days), `ReceiveMessageWaitTimeSeconds` 0-20, `RedrivePolicy` with `deadLetterTargetArn`
//! and `maxReceiveCount`, `SqsManagedSseEnabled`), `AWS::IAM::ManagedPolicy` (`Description`,
//! `PolicyDocument`); `Ref` of a queue is its URL and of a managed policy its ARN,
//! `Fn::GetAtt Queue.Arn` the queue's ARN. The Developer Guide's dead-letter queue page: "The
//! expiration of a message is always based on its original enqueue timestamp. When a message
//! is moved to a dead-letter queue, the enqueue timestamp is unchanged", so the dead-letter
//! queue keeps its messages longer than the source queue (here the maximum, 14 days); and a
//! FIFO queue's dead-letter queue must be FIFO too. `.ci/run` checks the template with
//! `cfn-lint`.
//!
//! One number ties the queue to the workers: the queue's `VisibilityTimeout` is the workers'
//! grace period, the per-clip timeout (`JOB_TIMEOUT_S`) plus the shutdown allowance
//! ([`queue_visibility_s`]), so a message received without an explicit visibility (a worker
//! image that skips the heartbeat) is not handed to a second worker while the first may still
//! run it. The heartbeat of the worker contract (120 s, extended every 60 s) still brings a
//! clip lost with its node back within two minutes.

use super::worker::{grace_period_s, SQS_MAX_VISIBILITY_S};
use super::WorkerInput;
use crate::render::sagemaker::cfn::{get_att, reference, Resource};
use crate::render::yaml::{emit, to_yaml};
use serde::Serialize;
use serde_json::{json, Value};
use yaml_rust2::yaml::Hash;
use yaml_rust2::Yaml;

/// The template's file name.
pub const TEMPLATE: &str = "queue.cfn.yaml";

/// Receives of one message before SQS moves it to the dead-letter queue: a clip that kills
/// its worker (out of memory, a driver fault) three times is not retried forever.
pub const MAX_RECEIVE_COUNT: u32 = 3;

/// SQS's default message retention, seconds (4 days): the least the queue keeps.
pub const SQS_DEFAULT_RETENTION_S: u32 = 345_600;

/// SQS's longest message retention, seconds (14 days): the dead-letter queue's.
pub const SQS_MAX_RETENTION_S: u32 = 1_209_600;

/// Long polling of a receive, seconds (SQS's longest, the `WaitTimeSeconds` of the worker
/// contract).
pub const RECEIVE_WAIT_S: u32 = 20;

/// Logical ids.
pub mod ids {
    /// The job queue.
    pub const QUEUE: &str = "JobQueue";
    /// Its dead-letter queue.
    pub const DEAD_LETTER_QUEUE: &str = "JobDeadLetterQueue";
    /// The workers' policy.
    pub const WORKER_POLICY: &str = "WorkerQueuePolicy";
    /// The KEDA operator's policy.
    pub const KEDA_POLICY: &str = "KedaQueuePolicy";
}

/// The queue's visibility timeout, seconds: the workers' grace period (per-clip timeout +
/// shutdown), capped at SQS's 12 hours.
pub fn queue_visibility_s(input: &WorkerInput) -> u32 {
    grace_period_s(input).min(SQS_MAX_VISIBILITY_S)
}

/// How long the queue keeps a message, seconds: its deadline (the workload's limit: latency
/// promise, deadline or batch window) plus every receive it may take, at least SQS's default
/// 4 days, at most its 14 days.
pub fn retention_s(input: &WorkerInput) -> u32 {
    let need = input.limit_s.max(0.0).ceil()
        + f64::from(MAX_RECEIVE_COUNT) * f64::from(queue_visibility_s(input));
    let need = if need.is_finite() {
        need.min(f64::from(SQS_MAX_RETENTION_S)) as u32
    } else {
        SQS_MAX_RETENTION_S
    };
    need.max(SQS_DEFAULT_RETENTION_S)
}

/// The queue's name: the last segment of `--queue-url`
/// (`https://sqs.<region>.amazonaws.com/<account>/<name>`, checked by
/// [`super::queue_region`]), so the queue the template creates is the one the workers and
/// KEDA are given.
pub fn queue_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

/// The account id of `--queue-url`.
pub fn queue_account(url: &str) -> &str {
    let mut parts = url.rsplit('/');
    parts.next();
    parts.next().unwrap_or("")
}

/// Whether the queue is FIFO (its name ends in `.fifo`).
pub fn is_fifo(url: &str) -> bool {
    queue_name(url).ends_with(".fifo")
}

/// The dead-letter queue's name: the queue's with `-dlq` (before `.fifo`), within SQS's 80
/// characters.
pub fn dead_letter_name(url: &str) -> String {
    let name = queue_name(url);
    let (stem, suffix) = match name.strip_suffix(".fifo") {
        Some(stem) => (stem, ".fifo"),
        None => (name, ""),
    };
    let keep = 80 - "-dlq".len() - suffix.len();
    let stem: String = stem.chars().take(keep).collect();
    format!("{stem}-dlq{suffix}")
}

/// `AWS::SQS::Queue`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Queue {
    /// The queue's name.
    pub queue_name: String,
    /// A FIFO queue (`.fifo` names only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fifo_queue: Option<bool>,
    /// Seconds a received message stays invisible unless the receiver says otherwise.
    pub visibility_timeout: u32,
    /// Seconds a message is kept.
    pub message_retention_period: u32,
    /// Long polling, seconds.
    pub receive_message_wait_time_seconds: u32,
    /// Server-side encryption with SQS-owned keys.
    pub sqs_managed_sse_enabled: bool,
    /// Where a message goes after `maxReceiveCount` receives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redrive_policy: Option<RedrivePolicy>,
}

/// `RedrivePolicy` (its keys are camelCase in CloudFormation too).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RedrivePolicy {
    /// The dead-letter queue's ARN.
    pub dead_letter_target_arn: Value,
    /// Receives before the move.
    pub max_receive_count: u32,
}

/// `AWS::IAM::ManagedPolicy`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ManagedPolicy {
    /// What it is for.
    pub description: String,
    /// The policy.
    pub policy_document: Value,
}

/// The SQS actions the workers need: receive, delete, keep invisible, and read the
/// attributes.
pub const WORKER_ACTIONS: [&str; 4] = [
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
];

/// The SQS action KEDA's `aws-sqs-queue` scaler needs (`GetQueueAttributes`).
pub const KEDA_ACTIONS: [&str; 1] = ["sqs:GetQueueAttributes"];

fn policy(actions: &[&str]) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": actions,
            "Resource": get_att(ids::QUEUE, "Arn"),
        }]
    })
}

fn resource<P: Serialize>(kind: &'static str, properties: P) -> Yaml {
    to_yaml(&Resource {
        kind,
        depends_on: Vec::new(),
        properties,
    })
}

/// The job queue, with the numbers the workers use.
pub fn job_queue(input: &WorkerInput) -> Queue {
    Queue {
        queue_name: queue_name(&input.queue_url).to_owned(),
        fifo_queue: is_fifo(&input.queue_url).then_some(true),
        visibility_timeout: queue_visibility_s(input),
        message_retention_period: retention_s(input),
        receive_message_wait_time_seconds: RECEIVE_WAIT_S,
        sqs_managed_sse_enabled: true,
        redrive_policy: Some(RedrivePolicy {
            dead_letter_target_arn: get_att(ids::DEAD_LETTER_QUEUE, "Arn"),
            max_receive_count: MAX_RECEIVE_COUNT,
        }),
    }
}

/// The dead-letter queue: kept 14 days, encrypted.
pub fn dead_letter_queue(input: &WorkerInput) -> Queue {
    Queue {
        queue_name: dead_letter_name(&input.queue_url),
        fifo_queue: is_fifo(&input.queue_url).then_some(true),
        visibility_timeout: queue_visibility_s(input),
        message_retention_period: SQS_MAX_RETENTION_S,
        receive_message_wait_time_seconds: RECEIVE_WAIT_S,
        sqs_managed_sse_enabled: true,
        redrive_policy: None,
    }
}

/// The CloudFormation template, YAML.
pub fn template(input: &WorkerInput) -> String {
    let key = |s: &str| Yaml::String(s.to_owned());
    let mut root = Hash::new();
    root.insert(key("AWSTemplateFormatVersion"), key("2010-09-09"));
    root.insert(
        key("Description"),
        key(&format!(
            "{}: the SQS job queue of the {} workers, its dead-letter queue and the IAM \
             policies of the workers and of KEDA (inferplan render, candidate {}); deploy in \
             account {} and region {} so that its URL is {}",
            input.base.workload,
            input.model,
            input.base.candidate,
            queue_account(&input.queue_url),
            input.queue_region,
            input.queue_url
        )),
    );
    let mut res = Hash::new();
    res.insert(
        key(ids::DEAD_LETTER_QUEUE),
        resource("AWS::SQS::Queue", dead_letter_queue(input)),
    );
    res.insert(
        key(ids::QUEUE),
        resource("AWS::SQS::Queue", job_queue(input)),
    );
    res.insert(
        key(ids::WORKER_POLICY),
        resource(
            "AWS::IAM::ManagedPolicy",
            ManagedPolicy {
                description: format!(
                    "Queue access of the {} workers (attach to the role of service account {})",
                    input.base.name,
                    super::worker::service_account_name(input)
                ),
                policy_document: policy(&WORKER_ACTIONS),
            },
        ),
    );
    res.insert(
        key(ids::KEDA_POLICY),
        resource(
            "AWS::IAM::ManagedPolicy",
            ManagedPolicy {
                description: format!(
                    "Queue depth for KEDA's aws-sqs-queue scaler of {} (attach to the KEDA \
                     operator's role)",
                    input.base.name
                ),
                policy_document: policy(&KEDA_ACTIONS),
            },
        ),
    );
    root.insert(key("Resources"), Yaml::Hash(res));
    let mut outputs = Hash::new();
    for (name, what, value) in [
        (
            "QueueUrl",
            "The queue's URL: must equal --queue-url",
            reference(ids::QUEUE),
        ),
        ("QueueArn", "The queue's ARN", get_att(ids::QUEUE, "Arn")),
        (
            "DeadLetterQueueArn",
            "The dead-letter queue's ARN",
            get_att(ids::DEAD_LETTER_QUEUE, "Arn"),
        ),
        (
            "WorkerPolicyArn",
            "Attach to the workers' role",
            reference(ids::WORKER_POLICY),
        ),
        (
            "KedaPolicyArn",
            "Attach to the KEDA operator's role",
            reference(ids::KEDA_POLICY),
        ),
    ] {
        let mut out = Hash::new();
        out.insert(key("Description"), key(what));
        out.insert(key("Value"), to_yaml(&value));
        outputs.insert(key(name), Yaml::Hash(out));
    }
    root.insert(key("Outputs"), Yaml::Hash(outputs));
    // YAML readers resolve a plain 2010-09-09 (or 2012-10-17) to a date; CloudFormation and
    // IAM want the strings.
    emit(&Yaml::Hash(root))
        .replacen(
            "AWSTemplateFormatVersion: 2010-09-09",
            "AWSTemplateFormatVersion: \"2010-09-09\"",
            1,
        )
        .replace("Version: 2012-10-17", "Version: \"2012-10-17\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_the_url() {
        let url = "https://sqs.us-east-1.amazonaws.com/123456789012/report-clips";
        assert_eq!(queue_name(url), "report-clips");
        assert_eq!(queue_account(url), "123456789012");
        assert_eq!(dead_letter_name(url), "report-clips-dlq");
        assert!(!is_fifo(url));
        let fifo = "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs.fifo";
        assert!(is_fifo(fifo));
        assert_eq!(dead_letter_name(fifo), "jobs-dlq.fifo");
        let long = format!(
            "https://sqs.us-east-1.amazonaws.com/123456789012/{}",
            "q".repeat(80)
        );
        assert_eq!(dead_letter_name(&long).len(), 80);
    }
}
