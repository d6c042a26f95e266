//! IL117 `autoscaler-will-flap`.

use super::super::context::{Autoscaler, Signal};
use super::super::{finding, num, Context, Finding, Rule, Severity};
use super::{weights_bytes, weights_dtype};
use crate::yaml::Node;
use inferplan_serving::cold_start::ENGINE_START_S;
use inferplan_serving::startup::{least_start, least_start_s};

inferplan_plan::declare_rule! {
    /// **What it checks.** Each HorizontalPodAutoscaler and KEDA ScaledObject whose target runs an
    /// inference server, for two causes of flapping (replicas removed and added again, each
    /// addition a cold start):
    ///
    /// - its load triggers watch only the queue (`vllm:num_requests_waiting`,
    ///   `sglang:num_queue_reqs`, `tgi_queue_size`, or any metric named for waiting or queued
    ///   requests), with none on requests in flight or concurrency (`num_requests_running`).
    ///   KEDA's `aws-sqs-queue` trigger counts the messages being worked on too (running plus
    ///   waiting) unless it sets `scaleOnInFlight: "false"`, which makes it queue-only. A
    ///   `cron` trigger sets replicas by the clock and is not a load signal either way;
    /// - its scale-down stabilization window (`behavior.scaleDown.stabilizationWindowSeconds`;
    ///   300 s when unset, the Kubernetes default) is shorter than a lower bound of the target's
    ///   cold start: the engine start without weights, 64 s, plus the weights read by the fastest
    ///   delivery, a stream from S3 at 6.25 GB/s (the bound of IL104; 64 s when the model is not in the
    ///   catalog). The message quotes the scale-down policies, which say how many replicas one
    ///   lull removes.
    ///
    /// **Why it matters.** A queue reads zero whenever the replicas have room, so it cannot say
    /// how many replicas are enough: after the stabilization window of zeros the autoscaler
    /// removes replicas until requests queue again, and the queue then asks for many at once,
    /// which arrive one cold start later. `inferplan simulate --autoscale queue:2
    /// --scale-behavior kubernetes` shows it: Llama 3.1 8B on g6e.xlarge at 8 requests/s swings
    /// between 1 and 10 replicas, about 12 reversals and 60 replica starts in an hour, with a TTFT
    /// p99 of 24 s; with an in-flight trigger beside the queue it settles at 4 to 5 replicas. A
    /// scale-down window shorter than the cold start removes, in a lull that short, replicas the
    /// next rise needs before any replacement could be ready.
    ///
    /// **Example.**
    ///
    /// > ScaledObject/llm scales Deployment/llm (vLLM) on the queue only (prometheus trigger
    /// > `sum(vllm:num_requests_waiting)`): the queue reads zero whenever the replicas have room,
    /// > so it cannot say how many are enough, and the autoscaler swings between removing replicas
    /// > and adding them back (each a cold start). Add a trigger on requests in flight, running +
    /// > waiting (vLLM: `sum(vllm:num_requests_running) + sum(vllm:num_requests_waiting)`; SGLang:
    /// > `sglang:num_running_reqs` + `sglang:num_queue_reqs`), with a threshold below what one
    /// > replica holds at its SLO.
    ///
    /// **Fix.** Scale on requests in flight (running + waiting) with the queue as a second
    /// trigger, and keep replicas at least a cold start after the last need, as `inferplan render`
    /// writes:
    ///
    /// ```yaml
    /// advanced:
    ///   horizontalPodAutoscalerConfig:
    ///     behavior:
    ///       scaleDown:
    ///         stabilizationWindowSeconds: 600
    ///         policies: [{type: Pods, value: 1, periodSeconds: 300}]
    /// ```
    pub struct AutoscalerWillFlap {
        code: "IL117",
        name: "autoscaler-will-flap",
        severity: Warning,
        summary: "queue-only triggers, or a scale-down window shorter than the cold start",
        docs: "docs/lint.md#il117-autoscaler-will-flap",
    }
}

/// Metric text of requests waiting (lower case).
const QUEUE: [&str; 5] = [
    "num_requests_waiting",
    "num_queue_reqs",
    "queue_size",
    "waiting",
    "queue",
];

/// Metric text of requests in flight or concurrency (lower case); `batch_current_size` is
/// TGI's gauge of the requests in the running batch (`tgi_batch_current_size`).
const IN_FLIGHT: [&str; 5] = [
    "num_requests_running",
    "batch_current_size",
    "running",
    "in_flight",
    "concurrency",
];

/// The scale-down rules of an autoscaler, if written.
fn scale_down<'n>(a: &'n Autoscaler<'_>) -> Option<&'n Node> {
    let spec = a.object.node.at("spec");
    if a.object.kind == "ScaledObject" {
        spec.path(&[
            "advanced",
            "horizontalPodAutoscalerConfig",
            "behavior",
            "scaleDown",
        ])
    } else {
        spec.path(&["behavior", "scaleDown"])
    }
}

/// `Pods 1 per 300 s, Percent 100 per 15 s`, or the default.
fn policies(down: Option<&Node>) -> String {
    let list: Vec<String> = down
        .map(|d| d.at("policies").items())
        .unwrap_or_default()
        .iter()
        .map(|p| {
            let field = |k: &str| p.get(k).and_then(Node::text).unwrap_or_default();
            format!(
                "{} {} per {} s",
                field("type"),
                field("value"),
                field("periodSeconds")
            )
        })
        .collect();
    if list.is_empty() {
        "Percent 100 per 15 s, the default".to_owned()
    } else {
        list.join(", ")
    }
}

impl Rule for AutoscalerWillFlap {
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for a in &ctx.autoscalers {
            let Some(w) = ctx.workloads.iter().find(|w| {
                w.object.name == a.target_name
                    && w.object.kind == a.target_kind
                    && w.object.same_namespace(&a.object)
            }) else {
                continue;
            };
            if !w.is_inference() {
                continue;
            }
            let server = w.main_pod().and_then(|p| p.server());
            let engine = server.and_then(|c| c.engine.as_ref());
            let what = format!(
                "{}/{} scales {}/{}{}",
                a.object.kind,
                a.object.name,
                a.target_kind,
                a.target_name,
                engine.map(|e| format!(" ({})", e.kind)).unwrap_or_default()
            );
            let load: Vec<_> = a
                .metrics
                .iter()
                .filter(|m| m.signal == Signal::Other)
                .collect();
            let text = |m: &&super::super::context::Metric| m.description.to_ascii_lowercase();
            let queue_only = !load.is_empty()
                && load.iter().all(|m| {
                    let t = text(m);
                    QUEUE.iter().any(|q| t.contains(q)) && !IN_FLIGHT.iter().any(|q| t.contains(q))
                });
            if queue_only {
                out.push(finding(
                    self,
                    Severity::Warning,
                    &a.object,
                    load[0].line,
                    format!(
                        "{what} on the queue only ({}): the queue reads zero whenever the \
                         replicas have room, so it cannot say how many are enough, and the \
                         autoscaler swings between removing replicas and adding them back (each \
                         a cold start). Add a trigger on requests in flight, running + waiting \
                         (vLLM: `sum(vllm:num_requests_running) + \
                         sum(vllm:num_requests_waiting)`; SGLang: `sglang:num_running_reqs` + \
                         `sglang:num_queue_reqs`), with a threshold below what one replica holds \
                         at its SLO.",
                        load.iter()
                            .map(|m| m.description.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            // Lower bound of the cold start, as IL104.
            let mut cold = least_start_s(0.0);
            let mut why = format!("{} s engine start", num(ENGINE_START_S, 0));
            if let Some(e) = engine {
                if let Some((m, from_name)) = ctx.model(e) {
                    let dtype = weights_dtype(e, Some(m), from_name);
                    let gb = weights_bytes(m, dtype) / 1e9;
                    let least = least_start(gb);
                    cold = least.seconds;
                    why = format!(
                        "{why} + {} GB of {dtype} weights of {} at {} GB/s, {}",
                        num(gb, 1),
                        m.name,
                        num(least.read_gbs, 2),
                        least.delivery.describe()
                    );
                }
            }
            let down = scale_down(a);
            let entry = down.and_then(|d| d.entry("stabilizationWindowSeconds"));
            let window = match entry.map(|e| e.value.text()) {
                None => 300.0,
                Some(t) => match t.and_then(|t| t.trim().parse::<f64>().ok()) {
                    Some(v) => v,
                    None => continue,
                },
            };
            if window < cold {
                let line = entry.map_or(down.map_or(a.object.line, |d| d.line), |e| e.line);
                out.push(finding(
                    self,
                    Severity::Warning,
                    &a.object,
                    line,
                    format!(
                        "{what} with a scale-down stabilization window of {} s{} and policies \
                         {}, shorter than the cold start of at least {} s ({why}): a lull that \
                         short removes replicas the next rise needs before a replacement could \
                         be ready. Set stabilizationWindowSeconds to {} s or more.",
                        num(window, 0),
                        if entry.is_none() {
                            " (the default)"
                        } else {
                            ""
                        },
                        policies(down),
                        num(cold, 0),
                        num((cold * 2.0 / 60.0).ceil() * 60.0, 0)
                    ),
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::{lint_with, Rule};
    use inferplan_catalog::Catalog;

    const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: llm}
spec:
  template:
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.11.0
          args: [--model, meta-llama/Llama-3.1-70B-Instruct, --tensor-parallel-size, '4']
          resources:
            limits: {nvidia.com/gpu: 4}
";

    fn lint(scaled_object: &str) -> Vec<String> {
        let files = vec![(
            "a.yaml".to_owned(),
            format!("{DEPLOYMENT}---\n{scaled_object}"),
        )];
        let rules: Vec<Box<dyn Rule>> = vec![Box::new(super::AutoscalerWillFlap)];
        lint_with(&files, &Catalog::embedded().unwrap(), &rules)
            .unwrap()
            .into_iter()
            .map(|f| format!("{}:{} {}", f.code, f.location.line, f.message))
            .collect()
    }

    fn scaled_object(triggers: &str, behavior: &str) -> String {
        format!(
            "apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {{name: llm}}
spec:
  scaleTargetRef: {{name: llm}}
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown:
{behavior}
  triggers:
{triggers}"
        )
    }

    const QUEUE: &str = "    - type: prometheus
      metadata: {query: 'sum(vllm:num_requests_waiting)', threshold: '2'}
";
    const IN_FLIGHT: &str = "    - type: prometheus
      metadata: {query: 'sum(vllm:num_requests_running) + sum(vllm:num_requests_waiting)', threshold: '24'}
";
    const SLOW: &str = "          stabilizationWindowSeconds: 600
          policies: [{type: Pods, value: 1, periodSeconds: 300}]";
    const FAST: &str = "          stabilizationWindowSeconds: 60
          policies: [{type: Percent, value: 100, periodSeconds: 15}]";

    #[test]
    fn a_queue_only_trigger_is_flagged_and_an_in_flight_one_beside_it_is_not() {
        let f = lint(&scaled_object(QUEUE, SLOW));
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].starts_with(
                "IL117:26 ScaledObject/llm scales Deployment/llm (vLLM) on the queue only"
            ),
            "{f:?}"
        );
        let both = format!("{IN_FLIGHT}{QUEUE}");
        assert!(lint(&scaled_object(&both, SLOW)).is_empty());
        // TGI's running batch is a gauge of requests in flight; its queue alone is not.
        let tgi = |q: &str| {
            format!("    - type: prometheus\n      metadata: {{query: '{q}', threshold: '24'}}\n")
        };
        let in_flight = tgi("sum(tgi_batch_current_size) + sum(tgi_queue_size)");
        assert!(lint(&scaled_object(&in_flight, SLOW)).is_empty());
        assert_eq!(
            lint(&scaled_object(&tgi("sum(tgi_queue_size)"), SLOW)).len(),
            1
        );
    }

    /// KEDA's SQS scaler counts the messages being worked on unless `scaleOnInFlight` is
    /// false: by default it is running + waiting, not the queue alone.
    #[test]
    fn an_sqs_trigger_is_queue_only_when_it_leaves_in_flight_messages_out() {
        let sqs = |extra: &str| {
            format!(
                "    - type: aws-sqs-queue
      metadata: {{queueURLFromEnv: QUEUE_URL, queueLength: '1', awsRegion: us-east-1{extra}}}
"
            )
        };
        assert!(lint(&scaled_object(&sqs(""), SLOW)).is_empty());
        assert!(lint(&scaled_object(&sqs(", scaleOnInFlight: 'true'"), SLOW)).is_empty());
        let f = lint(&scaled_object(&sqs(", scaleOnInFlight: 'false'"), SLOW));
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].contains("on the queue only (aws-sqs-queue trigger: messages waiting only"),
            "{f:?}"
        );
    }

    /// A `cron` trigger sets replicas by the clock, not by load: beside a queue-only trigger
    /// the queue is still the only load signal.
    #[test]
    fn a_cron_trigger_is_not_a_load_signal() {
        let cron = "    - type: cron
      metadata: {timezone: Etc/UTC, start: 0 8 * * *, end: 0 18 * * *, desiredReplicas: '2'}
";
        let f = lint(&scaled_object(&format!("{QUEUE}{cron}"), SLOW));
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].contains("on the queue only (prometheus trigger"),
            "{f:?}"
        );
        assert!(!f[0].contains("cron"), "{f:?}");
        let both = format!("{IN_FLIGHT}{QUEUE}{cron}");
        assert!(lint(&scaled_object(&both, SLOW)).is_empty());
    }

    #[test]
    fn a_scale_down_window_shorter_than_the_cold_start_is_flagged() {
        let both = format!("{IN_FLIGHT}{QUEUE}");
        let f = lint(&scaled_object(&both, FAST));
        assert_eq!(f.len(), 1, "{f:?}");
        // 64 s engine start + 141 GB of bf16 weights at 6.25 GB/s: about 87 s.
        assert!(f[0].contains("window of 60 s and policies Percent 100 per 15 s, shorter than the cold start of at least 87 s"), "{f:?}");
        assert!(
            f[0].contains("Set stabilizationWindowSeconds to 180 s or more"),
            "{f:?}"
        );
    }
}
