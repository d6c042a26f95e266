//! Prometheus recording and alerting rules, in the plain rule-file format (`groups:`) that
//! `promtool check rules` reads and Prometheus loads with `rule_files` (wrap the groups in a
//! `PrometheusRule` object's `spec` for the Prometheus Operator).
//!
//! Engine rules read the engine's metrics (vLLM's, see [`vllm`](super::vllm), or SGLang's,
//! see [`sglang`](super::sglang), through [`Server`](super::engine::Server)); GPU rules read
//! dcgm-exporter's (`etc/default-counters.csv` in NVIDIA/dcgm-exporter, field meanings in
//! `dcgm_fields.h` of NVIDIA/DCGM). `docs/render.md` lists every rule with its threshold and
//! source.

use super::input::RenderInput;
use super::k8s::Labels;
use serde::Serialize;

/// A rule file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleFile {
    /// Rule groups, evaluated independently.
    pub groups: Vec<RuleGroup>,
}

/// A group of rules evaluated together, in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleGroup {
    /// Unique name in the file.
    pub name: String,
    /// Rules.
    pub rules: Vec<Rule>,
}

/// A recording rule (`record`) or an alerting rule (`alert`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    /// Name of the recorded series.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// Name of the alert.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    /// PromQL.
    pub expr: String,
    /// How long the condition must hold before the alert fires.
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<String>,
    /// Labels added to the series or alert.
    #[serde(skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    /// Alert annotations (`summary`, `description`).
    #[serde(skip_serializing_if = "Labels::is_empty")]
    pub annotations: Labels,
}

/// Windows of the burn-rate recording rules.
pub const WINDOWS: [&str; 4] = ["5m", "30m", "1h", "6h"];

/// Multiwindow burn-rate alerts, from the Google SRE Workbook ("Alerting on SLOs"): a fast
/// burn (14.4 × the error budget over 1 h and 5 m: 2 % of a 30-day budget in an hour) pages;
/// a slow burn (6 × over 6 h and 30 m: 5 % in six hours) warns.
pub const BURNS: [(&str, f64, &str, &str, &str, &str); 2] = [
    ("FastBurn", 14.4, "1h", "5m", "2m", "critical"),
    ("SlowBurn", 6.0, "6h", "30m", "15m", "warning"),
];

/// XID errors that mean the GPU must be drained and reset or replaced (NVIDIA, "XID Errors"
/// in the GPU deployment and management documentation): 48 double-bit ECC error, 64 ECC page
/// retirement or row-remapping failure, 74 NVLink error, 79 GPU has fallen off the bus,
/// 95 uncontained ECC error.
pub const FATAL_XIDS: [u32; 5] = [48, 64, 74, 79, 95];

/// Clock-event reason bits that mean the GPU is slowed down by heat or power protection
/// (`DCGM_CLOCKS_EVENT_REASON_*` in `dcgm_fields.h`): HW slowdown 0x8, SW thermal 0x20,
/// HW thermal 0x40, HW power brake 0x80. The SW power cap (0x4) is left out: a loaded GPU at
/// its power limit reports it normally, and the power alert covers it.
pub const THROTTLE_BITS: [(u32, &str); 4] = [
    (0x8, "hw_slowdown"),
    (0x20, "sw_thermal"),
    (0x40, "hw_thermal"),
    (0x80, "hw_power_brake"),
];

/// GPU utilisation below which GPUs at the peak are wasted, %.
pub const WASTE_UTIL_PCT: f64 = 30.0;

/// Power draw over TDP above which the power alert fires.
pub const POWER_FRACTION: f64 = 0.95;

/// KV-cache use above which the engine is about to preempt requests.
pub const KV_CACHE_ALERT: f64 = 0.9;

/// One latency SLO the rules check.
#[derive(Debug, Clone, PartialEq)]
pub struct SloCheck {
    /// `ttft`, `tpot` or `e2e`.
    pub kind: &'static str,
    /// `Ttft`, `Tpot`, `E2e` (in alert names).
    pub title: &'static str,
    /// The workload's limit, ms.
    pub limit_ms: f64,
    /// The histogram bucket the rules count as "within the SLO", seconds: the largest bound
    /// at or below the limit (so the check is never looser than the SLO).
    pub bucket_s: f64,
    /// The engine's histogram.
    pub metric: &'static str,
}

/// The SLOs the rules can check, and notes on those they cannot (a limit below the
/// histogram's smallest bucket).
pub fn slo_checks(input: &RenderInput) -> (Vec<SloCheck>, Vec<String>) {
    let mut checks = Vec::new();
    let mut notes = Vec::new();
    let s = &input.slo;
    let sv = input.server();
    for (kind, title, limit, metric, buckets) in [
        ("ttft", "Ttft", s.ttft_ms, sv.ttft, sv.ttft_buckets),
        ("tpot", "Tpot", s.tpot_ms, Some(sv.tpot), sv.tpot_buckets),
        ("e2e", "E2e", s.e2e_ms, Some(sv.e2e), sv.e2e_buckets),
    ] {
        let Some(limit_ms) = limit else { continue };
        let Some(metric) = metric else {
            notes.push(format!(
                "No burn-rate alert for the {} SLO ({} ms): {} exports no {} histogram.",
                kind.to_uppercase(),
                num(limit_ms),
                sv.display,
                kind.to_uppercase()
            ));
            continue;
        };
        let limit_s = limit_ms / 1000.0;
        match buckets.iter().rev().find(|b| **b <= limit_s * (1.0 + 1e-9)) {
            Some(&bucket_s) => checks.push(SloCheck {
                kind,
                title,
                limit_ms,
                bucket_s,
                metric,
            }),
            None => notes.push(format!(
                "No burn-rate alert for the {} SLO ({} ms): `{metric}` has no bucket at or \
                 below it (the smallest is {} s).",
                kind.to_uppercase(),
                num(limit_ms),
                num(buckets[0])
            )),
        }
    }
    (checks, notes)
}

/// The error budget of a quantile SLO: 1 − quantile (0.01 for p99).
pub fn error_budget(input: &RenderInput) -> f64 {
    (1.0 - input.slo.quantile).clamp(1e-6, 1.0)
}

/// The error-ratio threshold of a burn factor; when `factor × budget` reaches 1 (an SLO at
/// p50 or p90) the alert could never fire, so the threshold is halfway between the budget
/// and 1.
pub fn burn_threshold(budget: f64, factor: f64) -> f64 {
    let t = factor * budget;
    if t < 1.0 {
        t
    } else {
        (1.0 + budget) / 2.0
    }
}

/// Framebuffer use above which the memory alert fires: 85 %, or 5 points above what the
/// engine reserves (`--gpu-memory-utilization`), whichever is higher (vLLM takes its share
/// at start, so 85 % alone would always fire).
pub fn framebuffer_threshold(input: &RenderInput) -> f64 {
    (input.gpu_memory_utilization + 0.05).clamp(0.85, 0.98)
}

/// Waiting requests per replica above which the queue alert fires (a quarter of the
/// in-flight target, at least 1).
pub fn queue_threshold(input: &RenderInput) -> u32 {
    super::keda::waiting_threshold(input)
}

/// The PromQL selector of this deployment's GPU series from dcgm-exporter (which labels them
/// with the pod holding the GPU).
pub fn gpu_selector(input: &RenderInput) -> String {
    format!(
        "namespace=\"{}\",pod=~\"{}-.+\"",
        input.namespace, input.name
    )
}

/// The rule file of a deployment.
pub fn rule_file(input: &RenderInput) -> RuleFile {
    let name = &input.name;
    let mut groups = vec![
        RuleGroup {
            name: format!("{name}-engine-recording"),
            rules: engine_recording(input),
        },
        RuleGroup {
            name: format!("{name}-slo"),
            rules: slo_alerts(input),
        },
        RuleGroup {
            name: format!("{name}-engine"),
            rules: engine_alerts(input),
        },
        RuleGroup {
            name: format!("{name}-gpu"),
            rules: gpu_rules(input),
        },
    ];
    // dcgm-exporter reads NVIDIA GPUs only: a Neuron deployment gets no GPU rules (the README
    // says so; neuron-monitor is the Neuron analogue, not rendered).
    if input.neuron.is_some() {
        groups.retain(|g| !g.name.ends_with("-gpu"));
    }
    groups.retain(|g| !g.rules.is_empty());
    RuleFile { groups }
}

fn record(name: String, expr: String) -> Rule {
    Rule {
        record: Some(name),
        alert: None,
        expr: block(expr),
        for_: None,
        labels: Labels::new(),
        annotations: Labels::new(),
    }
}

fn alert(
    input: &RenderInput,
    name: &str,
    expr: String,
    for_: &str,
    severity: &str,
    summary: String,
    description: String,
) -> Rule {
    let mut labels = Labels::new();
    labels.insert("severity".to_owned(), severity.to_owned());
    labels.insert("deployment".to_owned(), input.name.clone());
    let mut annotations = Labels::new();
    annotations.insert("summary".to_owned(), summary);
    annotations.insert("description".to_owned(), description);
    Rule {
        record: None,
        alert: Some(name.to_owned()),
        expr: block(expr),
        for_: (!for_.is_empty()).then(|| for_.to_owned()),
        labels,
        annotations,
    }
}

/// Expressions end with a line break so that they are written as literal blocks (`|`),
/// which keeps the quotes of label matchers readable.
fn block(mut expr: String) -> String {
    if !expr.ends_with('\n') {
        expr.push('\n');
    }
    expr
}

/// `le` matcher of a bucket bound as vLLM's Python client writes it (`0.5`, `1.0`) and as
/// Prometheus 3 stores it after normalising (`1`).
pub fn le_matcher(bound: f64) -> String {
    if bound.fract() == 0.0 {
        let n = bound as u64;
        format!("le=~\"{n}|{n}.0\"")
    } else {
        format!("le=\"{bound}\"")
    }
}

const BY: &str = "by (namespace, model_name)";

fn engine_recording(input: &RenderInput) -> Vec<Rule> {
    let sel = super::keda::engine_selector(input);
    let p = input.server().name;
    let mut rules = Vec::new();
    let (checks, _) = slo_checks(input);
    for c in &checks {
        for w in WINDOWS {
            rules.push(record(
                format!("inferplan:{}_slo_errors:ratio_rate{w}", c.kind),
                format!(
                    "1 - (\n  sum {BY} (rate({m}_bucket{{{sel},{le}}}[{w}]))\n  /\n  sum {BY} (rate({m}_count{{{sel}}}[{w}]))\n)",
                    m = c.metric,
                    le = le_matcher(c.bucket_s),
                ),
            ));
        }
    }
    for (short, metric) in [
        ("ttft", input.server().ttft),
        ("tpot", Some(input.server().tpot)),
    ] {
        let Some(metric) = metric else { continue };
        for (q, label) in [(0.5, "p50"), (0.99, "p99")] {
            rules.push(record(
                format!("inferplan:{p}_{short}_seconds:{label}_10m"),
                format!(
                    "histogram_quantile({q}, sum by (namespace, model_name, le) (rate({metric}_bucket{{{sel}}}[10m])))"
                ),
            ));
        }
    }
    rules.push(record(
        format!("inferplan:{p}_requests:rate10m"),
        format!(
            "sum {BY} (rate({}_count{{{sel}}}[10m]))",
            input.server().e2e
        ),
    ));
    rules.push(record(
        format!("inferplan:{p}_requests_waiting:sum"),
        input.server().waiting_sum(BY, &sel),
    ));
    rules.push(record(
        format!("inferplan:{p}_requests_running:sum"),
        input.server().running_sum(BY, &sel),
    ));
    rules.push(record(
        format!("inferplan:{p}_engines:count"),
        input.server().engines_count(BY, &sel),
    ));
    if let Some(kv) = input.server().kv_usage {
        rules.push(record(
            format!("inferplan:{p}_kv_cache_usage:max"),
            format!("max {BY} ({kv}{{{sel}}})"),
        ));
    }
    rules
}

fn slo_alerts(input: &RenderInput) -> Vec<Rule> {
    let sel = super::keda::engine_selector(input);
    let budget = error_budget(input);
    let pct = format!("p{}", num(input.slo.quantile * 100.0));
    let (checks, _) = slo_checks(input);
    let mut rules = Vec::new();
    for c in &checks {
        for (burn, factor, long, short, for_, severity) in BURNS {
            let t = burn_threshold(budget, factor);
            rules.push(alert(
                input,
                &format!("Inference{}Slo{burn}", c.title),
                format!(
                    "inferplan:{k}_slo_errors:ratio_rate{long}{{{sel}}} > {t}\nand\ninferplan:{k}_slo_errors:ratio_rate{short}{{{sel}}} > {t}",
                    k = c.kind,
                    t = num(t),
                ),
                for_,
                severity,
                format!(
                    "{} of {} is burning its {pct} SLO error budget {}x too fast",
                    c.kind.to_uppercase(),
                    input.name,
                    num(factor)
                ),
                format!(
                    "{{{{ $value | humanizePercentage }}}} of requests over the last {long} took longer than {} s ({} SLO {pct} <= {} ms; budget {}). Source: {}.",
                    num(c.bucket_s),
                    c.kind.to_uppercase(),
                    num(c.limit_ms),
                    num(budget),
                    c.metric
                ),
            ));
        }
    }
    rules
}

fn engine_alerts(input: &RenderInput) -> Vec<Rule> {
    let sel = super::keda::engine_selector(input);
    let p = input.server().name;
    let mut rules = vec![
        alert(
            input,
            "InferenceQueueBacklog",
            format!(
                "inferplan:{p}_requests_waiting:sum{{{sel}}}\n  / inferplan:{p}_engines:count{{{sel}}}\n> {}",
                queue_threshold(input)
            ),
            "5m",
            "warning",
            format!("Requests are queueing in {}", input.name),
            format!(
                "{{{{ $value }}}} requests wait per replica (alert above {}, a quarter of the {} in flight the autoscaler aims at): the autoscaler is at its maximum or new replicas are still cold-starting. Source: {}.",
                queue_threshold(input),
                input.target_in_flight,
                input.server().waiting
            ),
        ),
    ];
    if let Some(kv) = input.server().kv_usage {
        rules.push(alert(
            input,
            "InferenceKvCacheNearlyFull",
            format!(
                "inferplan:{p}_kv_cache_usage:max{{{sel}}} > {}",
                num(KV_CACHE_ALERT)
            ),
            "10m",
            "warning",
            format!("KV cache of {} is nearly full", input.name),
            format!(
                "A replica uses {{{{ $value | humanizePercentage }}}} of its KV cache (alert above {}): the engine preempts requests when it runs out, which shows up as TPOT spikes. Source: {}.",
                pct(KV_CACHE_ALERT),
                kv
            ),
        ));
    }
    for (short, title, metric) in [
        ("ttft", "Ttft", input.server().ttft),
        ("tpot", "Tpot", Some(input.server().tpot)),
    ] {
        let Some(metric) = metric else { continue };
        rules.push(alert(
            input,
            &format!("Inference{title}TailSpread"),
            format!(
                "inferplan:{p}_{short}_seconds:p99_10m{{{sel}}}\n  > 2 * inferplan:{p}_{short}_seconds:p50_10m{{{sel}}}\nand\ninferplan:{p}_requests:rate10m{{{sel}}} > 0.1"
            ),
            "15m",
            "warning",
            format!(
                "{} p99 of {} is more than twice its p50",
                short.to_uppercase(),
                input.name
            ),
            format!(
                "p99 {} is {{{{ $value | humanizeDuration }}}} over the last 10 minutes, more than twice the median: a few requests wait far longer than the rest (long prompts, preemption, an unbalanced router). Source: {metric}.",
                short.to_uppercase()
            ),
        ));
    }
    rules.push(alert(
        input,
        "InferenceMetricsMissing",
        format!("absent({}{{{sel}}})", input.server().running),
        "10m",
        "warning",
        format!("No {} metrics from {}", input.server().display, input.name),
        format!(
            "Prometheus has no {} series for model {} in namespace {}: the SLO, queue and KV-cache alerts and the autoscaler cannot see the engine. Check the PodMonitor and the pods.",
            input.server().running,
            input.served_model_name,
            input.namespace
        ),
    ));
    if input.slo.tpot_ms.is_some() && input.engine == inferplan_perf::Engine::Vllm {
        rules.push(alert(
            input,
            "InferenceTpotHistogramMissing",
            format!(
                "absent({}_count{{{sel}}})\nand on (namespace, model_name)\npresent_over_time({}{{{sel}}}[10m])",
                input.server().tpot,
                input.server().running
            ),
            "30m",
            "warning",
            format!("The TPOT SLO of {} cannot be checked", input.name),
            format!(
                "The engine reports metrics but not {}: the vLLM image predates the per-request TPOT histogram (vllm-project/vllm#24015). Upgrade the image.",
                input.server().tpot
            ),
        ));
    }
    rules
}

fn gpu_rules(input: &RenderInput) -> Vec<Rule> {
    let g = gpu_selector(input);
    let mut rules = vec![
        record(
            "inferplan:dcgm_clock_event_reasons:bitmask".to_owned(),
            format!(
                "DCGM_FI_DEV_CLOCK_THROTTLE_REASONS{{{g}}}\nor\nDCGM_FI_DEV_CLOCKS_EVENT_REASONS{{{g}}}"
            ),
        ),
        alert(
            input,
            "GpuDoubleBitEccError",
            format!("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL{{{g}}} > 0"),
            "",
            "critical",
            "Uncorrectable (double-bit) ECC error on a GPU of {{ $labels.pod }}".to_owned(),
            "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} has {{ $value }} double-bit ECC errors since the driver loaded: results may be corrupt. Drain the node and reset or replace the GPU. Source: DCGM_FI_DEV_ECC_DBE_VOL_TOTAL.".to_owned(),
        ),
        alert(
            input,
            "GpuXidErrorFatal",
            FATAL_XIDS
                .iter()
                .map(|x| format!("DCGM_FI_DEV_XID_ERRORS{{{g}}} == {x}"))
                .collect::<Vec<_>>()
                .join("\nor\n"),
            "",
            "critical",
            "GPU XID {{ $value }} on {{ $labels.Hostname }}".to_owned(),
            format!(
                "GPU {{{{ $labels.gpu }}}} of pod {{{{ $labels.pod }}}} reported XID {{{{ $value }}}}, one that needs a GPU reset or replacement ({}). Drain the node. Source: DCGM_FI_DEV_XID_ERRORS.",
                FATAL_XIDS
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        alert(
            input,
            "GpuXidError",
            format!("DCGM_FI_DEV_XID_ERRORS{{{g}}} > 0"),
            "",
            "warning",
            "GPU XID {{ $value }} on {{ $labels.Hostname }}".to_owned(),
            "GPU {{ $labels.gpu }} of pod {{ $labels.pod }} reported XID {{ $value }} (the last XID error the driver logged). Look it up in NVIDIA's XID catalogue. Source: DCGM_FI_DEV_XID_ERRORS.".to_owned(),
        ),
        alert(
            input,
            "GpuTemperatureHigh",
            format!(
                "DCGM_FI_DEV_GPU_TEMP{{{g}}} > {}",
                num(input.gpu_temp_alert_c)
            ),
            "5m",
            "warning",
            "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} is at {{ $value }} C".to_owned(),
            format!(
                "Above {} C, close to the {} slowdown temperature: clocks drop next. Check cooling and airflow. Source: DCGM_FI_DEV_GPU_TEMP.",
                num(input.gpu_temp_alert_c),
                input.gpu
            ),
        ),
        alert(
            input,
            "GpuClockThrottled",
            THROTTLE_BITS
                .iter()
                .map(|(bit, _)| format!("floor(inferplan:dcgm_clock_event_reasons:bitmask{{{g}}} / {bit}) % 2 == 1"))
                .collect::<Vec<_>>()
                .join("\nor\n"),
            "5m",
            "warning",
            "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} is slowed down by heat or power protection".to_owned(),
            format!(
                "The SM clock is held down by {} (clock-event reason bits {}): throughput and latency are worse than planned. Source: DCGM_FI_DEV_CLOCK_THROTTLE_REASONS (DCGM_FI_DEV_CLOCKS_EVENT_REASONS in DCGM 3.3+).",
                THROTTLE_BITS
                    .iter()
                    .map(|(_, n)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
                THROTTLE_BITS
                    .iter()
                    .map(|(b, _)| format!("{b:#x}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        alert(
            input,
            "GpuFramebufferNearlyFull",
            format!(
                "DCGM_FI_DEV_FB_USED{{{g}}}\n  / (DCGM_FI_DEV_FB_USED{{{g}}} + DCGM_FI_DEV_FB_FREE{{{g}}})\n> {}",
                num(framebuffer_threshold(input))
            ),
            "10m",
            "warning",
            "GPU memory of {{ $labels.pod }} is {{ $value | humanizePercentage }} used".to_owned(),
            format!(
                "Above {}: vLLM reserves {} of GPU memory at start, so more means memory the engine did not plan for (another process, CUDA graphs, fragmentation) and an out-of-memory risk. Source: DCGM_FI_DEV_FB_USED, DCGM_FI_DEV_FB_FREE.",
                pct(framebuffer_threshold(input)),
                pct(input.gpu_memory_utilization)
            ),
        ),
    ];
    if let Some(tdp) = input.gpu_tdp_w {
        let limit = POWER_FRACTION * tdp;
        rules.push(alert(
            input,
            "GpuPowerNearTdp",
            format!("DCGM_FI_DEV_POWER_USAGE{{{g}}} > {}", num(limit)),
            "15m",
            "warning",
            "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} draws {{ $value }} W".to_owned(),
            format!(
                "Above {} W, {} of the {} TDP ({} W): the GPU is at its power limit and will lower clocks under more load. Source: DCGM_FI_DEV_POWER_USAGE.",
                num(limit),
                pct(POWER_FRACTION),
                input.gpu,
                num(tdp)
            ),
        ));
    }
    let hours = peak_hours_condition(&input.peak_hours_utc);
    let (expr, when) = match &hours {
        Some(h) => (
            format!(
                "avg by (namespace) (DCGM_FI_DEV_GPU_UTIL{{{g}}}) < {}\nand on ()\n{h}",
                num(WASTE_UTIL_PCT)
            ),
            format!(
                "during the peak hours of the plan's daily profile ({} UTC)",
                hours_text(&input.peak_hours_utc)
            ),
        ),
        None => (
            format!(
                "avg by (namespace) (DCGM_FI_DEV_GPU_UTIL{{{g}}}) < {}",
                num(WASTE_UTIL_PCT)
            ),
            "(the plan's traffic is flat: every hour is the peak)".to_owned(),
        ),
    };
    rules.push(alert(
        input,
        "GpuUnderutilizedAtPeak",
        expr,
        "5m",
        "info",
        format!("GPUs of {} are mostly idle at the peak", input.name),
        format!(
            "Mean GPU utilisation is {{{{ $value }}}} % {when}, below {} %: the deployment is larger than the traffic needs (fewer replicas, a smaller instance or a lower minimum). Source: DCGM_FI_DEV_GPU_UTIL.",
            num(WASTE_UTIL_PCT)
        ),
    ));
    rules
}

/// `(hour() >= 12 and hour() <= 17)` for the runs of consecutive peak hours, joined with
/// `or`; `None` when every hour is a peak hour.
pub fn peak_hours_condition(hours: &[u32]) -> Option<String> {
    if hours.len() >= 24 || hours.is_empty() {
        return None;
    }
    let parts: Vec<String> = runs(hours)
        .into_iter()
        .map(|(a, b)| {
            if a == b {
                format!("hour() == {a}")
            } else {
                format!("(hour() >= {a} and hour() <= {b})")
            }
        })
        .collect();
    Some(if parts.len() == 1 {
        parts[0].clone()
    } else {
        format!("(\n  {}\n)", parts.join("\n  or\n  "))
    })
}

/// `12-17, 20`.
pub fn hours_text(hours: &[u32]) -> String {
    runs(hours)
        .into_iter()
        .map(|(a, b)| {
            if a == b {
                format!("{a}:00")
            } else {
                format!("{a}:00-{b}:59")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn runs(hours: &[u32]) -> Vec<(u32, u32)> {
    let mut sorted = hours.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out: Vec<(u32, u32)> = Vec::new();
    for h in sorted {
        match out.last_mut() {
            Some((_, b)) if *b + 1 == h => *b = h,
            _ => out.push((h, h)),
        }
    }
    out
}

/// A number without trailing zeros (`0.144`, `665`, `2.5`).
pub fn num(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

fn pct(x: f64) -> String {
    format!("{} %", num(x * 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matchers_and_numbers() {
        assert_eq!(le_matcher(0.5), "le=\"0.5\"");
        assert_eq!(le_matcher(1.0), "le=~\"1|1.0\"");
        assert_eq!(num(14.4 * 0.01), "0.144");
        assert_eq!(num(665.0), "665");
        assert_eq!(burn_threshold(0.01, 6.0), 0.06);
        assert_eq!(burn_threshold(0.5, 14.4), 0.75);
    }

    #[test]
    fn peak_hours() {
        assert_eq!(peak_hours_condition(&(0..24).collect::<Vec<_>>()), None);
        assert_eq!(
            peak_hours_condition(&[13, 14, 15]).as_deref(),
            Some("(hour() >= 13 and hour() <= 15)")
        );
        assert_eq!(
            peak_hours_condition(&[9, 13, 14]).as_deref(),
            Some("(\n  hour() == 9\n  or\n  (hour() >= 13 and hour() <= 14)\n)")
        );
        assert_eq!(hours_text(&[9, 13, 14]), "9:00, 13:00-14:59");
    }
}
