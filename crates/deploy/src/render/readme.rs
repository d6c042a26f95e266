//! `README.md` of a rendered directory: what was rendered from which plan, every engine
//! argument with its reason, the scaling and startup numbers, the alerts, and how to apply.

use super::input::RenderInput;
use super::{karpenter, keda, pod, rules, vllm};
use inferplan_serving::checkpoint::{self, Quantization};
use inferplan_serving::flags::vllm as flag;
use std::fmt::Write as _;

/// The README text; `files` are the other rendered files with a one-line description each.
pub fn readme(input: &RenderInput, files: &[(String, &str)]) -> String {
    let mut s = String::new();
    let i = input;
    let layout = if i.pp > 1 {
        format!("TP{} × PP{}", i.tp, i.pp)
    } else {
        format!("TP{}", i.tp)
    };
    let _ = writeln!(s, "# {}: {} on {}\n", i.name, i.model, i.instance);
    let _ = writeln!(
        s,
        "Rendered by `inferplan render` from candidate {} of the plan for workload `{}`: {} \
         ({}) served by vLLM, {} weights and {} KV cache, {layout} on {} ({} × {} per \
         instance), {}-{} replicas ({} per instance, {} instances at the peak), priced in {}.\n",
        i.candidate,
        i.workload,
        i.model,
        i.checkpoint,
        i.precision,
        i.kv_dtype,
        i.instance,
        i.gpus_per_instance,
        i.gpu,
        i.min_replicas,
        i.replicas,
        i.replicas_per_instance,
        i.instances,
        if i.region.is_empty() { "-" } else { &i.region },
    );
    if !i.notes.is_empty() {
        let _ = writeln!(s, "## Before applying\n");
        for n in &i.notes {
            let _ = writeln!(s, "- {n}");
        }
        let _ = writeln!(s);
    }

    let _ = writeln!(s, "## Files\n");
    let _ = writeln!(s, "| file | what |\n|---|---|");
    for (f, what) in files {
        let _ = writeln!(s, "| `{f}` | {what} |");
    }
    let _ = writeln!(s, "| `README.md` | this file |\n");

    let _ = writeln!(s, "## Engine\n");
    let _ = writeln!(
        s,
        "Image `{}` (pinned by digest). The init container `prewarm-weights` downloads `{}` \
         (safetensors, configs, tokenizer) to `{}` on the pod's `models` volume before the \
         engine starts; the engine then reads local files with `HF_HUB_OFFLINE=1`. Set a \
         `hf-token` secret (key `token`) for gated models.\n",
        i.image,
        i.checkpoint,
        vllm::WEIGHTS_DIR
    );
    let _ = writeln!(
        s,
        "Checkpoint `{}`{}: {:.1} GiB to download ({}). The `models` volume is {} GiB (the \
         download plus a fifth, plus 5 GiB), so the kubelet does not evict the pod while it \
         downloads.\n",
        i.checkpoint,
        if i.checkpoint_catalogued {
            ""
        } else {
            " (checkpoint unknown: not in the catalog)"
        },
        i.download_bytes as f64 / (1u64 << 30) as f64,
        i.download_source,
        super::pod::models_volume_gib(i)
    );
    let _ = writeln!(s, "| argument | value | why |\n|---|---|---|");
    let q = checkpoint::quantization(i.precision, i.native_weights);
    let mut rows: Vec<(String, String, String)> = vec![
        (
            flag::SERVED_MODEL_NAME.write.into(),
            i.served_model_name.clone(),
            "clients and metrics keep the Hugging Face id while the weights are read locally"
                .into(),
        ),
        (
            flag::TENSOR_PARALLEL.write.into(),
            i.tp.to_string(),
            format!("the plan's layout: {} GPUs per replica", i.gpus_per_replica),
        ),
        (
            flag::PIPELINE_PARALLEL.write.into(),
            i.pp.to_string(),
            if i.pp > 1 {
                format!("one stage per node over {} nodes", i.nodes_per_replica)
            } else {
                "the replica fits in one node".into()
            },
        ),
        (
            flag::MAX_MODEL_LEN.write.into(),
            i.max_model_len.to_string(),
            match i.refused_share {
                Some(share) => format!(
                    "{}; about {} of requests (prompt + output above it) are refused with HTTP 400",
                    i.max_model_len_basis,
                    percent(share)
                ),
                None => i.max_model_len_basis.clone(),
            },
        ),
        (
            flag::MAX_NUM_SEQS.write.into(),
            i.max_num_seqs.to_string(),
            "vLLM's default on this GPU, which the plan's capacity assumes".into(),
        ),
        (
            flag::MAX_NUM_BATCHED_TOKENS.write.into(),
            i.max_num_batched_tokens.to_string(),
            "vLLM's default on this GPU (the prefill chunk), which the plan assumes".into(),
        ),
        (
            flag::GPU_MEMORY_UTILIZATION.write.into(),
            vllm::format_fraction(i.gpu_memory_utilization),
            "the memory budget the plan's fit check used".into(),
        ),
    ];
    match q {
        Quantization::Dtype(d) => rows.push((
            flag::DTYPE.write.into(),
            d.into(),
            format!("{} weights", i.precision),
        )),
        Quantization::OnlineFp8 => rows.push((
            flag::QUANTIZATION.write.into(),
            checkpoint::online_fp8().into(),
            "the checkpoint is 16-bit; vLLM quantizes the weights to FP8 when loading".into(),
        )),
        Quantization::FromCheckpoint => rows.push((
            "(none)".into(),
            "-".into(),
            format!(
                "the checkpoint is already {}; vLLM reads its quantization config",
                i.precision
            ),
        )),
        Quantization::NeedsCheckpoint => rows.push((
            "(none)".into(),
            "-".into(),
            format!(
                "{} needs a pre-quantized checkpoint (see Before applying)",
                i.precision
            ),
        )),
    }
    if i.kv_dtype == inferplan_catalog::Dtype::Fp8 {
        rows.push((
            flag::KV_CACHE_DTYPE.write.into(),
            checkpoint::KV_FP8.into(),
            "the plan's KV format: half the KV memory of 16 bit, twice the sequences".into(),
        ));
    }
    if i.nodes_per_replica > 1 {
        rows.push((
            flag::DISTRIBUTED_EXECUTOR_BACKEND.write.into(),
            vllm::RAY.into(),
            "a replica spans nodes; the leader pod runs the Ray head".into(),
        ));
    }
    for (a, v, why) in rows {
        let _ = writeln!(s, "| `{a}` | `{v}` | {why} |");
    }
    let _ = writeln!(s);

    let _ = writeln!(s, "## Scheduling, startup and scaling\n");
    let _ = writeln!(
        s,
        "- Each pod requests {} × `nvidia.com/gpu` (requests equal limits), {} vCPU and {} GiB \
         of memory ({} % of the instance shared by {} pod(s)), tolerates the `{}` taint and \
         runs only on the `{}` NodePool's {} nodes.",
        i.gpus_per_pod,
        pod::cpu(i),
        pod::memory_gib(i),
        (pod::NODE_SHARE * 100.0).round(),
        if i.nodes_per_replica > 1 {
            1
        } else {
            i.replicas_per_instance
        },
        pod::GPU_TAINT,
        i.name,
        i.instance
    );
    if pod::needs_shm(i) {
        let _ = writeln!(
            s,
            "- `/dev/shm` is a {} GiB memory volume: NCCL between the {} GPUs of a pod (and \
             Ray) need more than the runtime's 64 MiB default.",
            pod::shm_gib(i),
            i.gpus_per_pod
        );
    }
    let _ = writeln!(
        s,
        "- Cold start estimate: {} s ({}). The startup probe allows {} s ({} × {} s) before \
         the liveness probe takes over, so a replica that is still loading is not restarted.",
        i.cold_start.seconds.round(),
        i.cold_start.basis,
        pod::startup_failure_threshold(i) * pod::STARTUP_PERIOD_S,
        pod::startup_failure_threshold(i),
        pod::STARTUP_PERIOD_S
    );
    let _ = writeln!(
        s,
        "- Drain: a stopping pod leaves the Service, then its `preStop` hook sleeps {} s (the \
         p99 end-to-end latency) so that the requests it holds finish before vLLM gets \
         SIGTERM, within the {} s termination grace period.",
        pod::drain_s(i),
        pod::grace_period_s(i)
    );
    let _ = writeln!(
        s,
        "- KEDA scales between {} (the quietest hour of the daily profile, or more where the replicas kept for one hour could not carry the next until new ones start) and {} replicas \
         ({}): out when running + waiting requests exceed {} per replica (80 % of the \
         {:.1} a replica holds at its SLO capacity of {:.2} req/s by Little's law with its mean latency), or \
         waiting requests exceed {} per replica.",
        i.min_replicas,
        i.max_replicas,
        if i.max_replicas > i.replicas {
            format!(
                "the peak's {} plus one instance's worth, since the quietest hour already \
                 needs the peak's replicas and an autoscaler whose minimum equals its maximum \
                 could not move",
                i.replicas
            )
        } else {
            "the peak".to_owned()
        },
        i.target_in_flight,
        i.in_flight_at_capacity,
        i.max_rps_per_replica,
        keda::waiting_threshold(i)
    );
    let _ = writeln!(
        s,
        "- The NodePool launches only `{}` as {} capacity ({} savings-plan, {} on-demand, {} \
         spot instances in the plan; a savings plan discounts on-demand usage), at most {} \
         GPUs, and removes nodes only when empty.",
        i.instance,
        i.capacity_types().join(" and "),
        i.purchase.savings_plan_instances,
        i.purchase.on_demand_instances,
        i.purchase.spot_instances,
        karpenter::gpu_limit(i)
    );
    let _ = writeln!(
        s,
        "- The PodDisruptionBudget lets drains and consolidation take one pod at a time.\n"
    );

    let _ = writeln!(s, "## Alerts\n");
    let (checks, skipped) = rules::slo_checks(i);
    let budget = rules::error_budget(i);
    for c in &checks {
        let _ = writeln!(
            s,
            "- {} SLO {} ms at p{}: burn-rate alerts on `{}` (requests over {} s count \
             against the {} error budget; fast burn > {} over 1 h and 5 m, slow burn > {} \
             over 6 h and 30 m).",
            c.kind.to_uppercase(),
            rules::num(c.limit_ms),
            rules::num(i.slo.quantile * 100.0),
            c.metric,
            rules::num(c.bucket_s),
            rules::num(budget),
            rules::num(rules::burn_threshold(budget, 14.4)),
            rules::num(rules::burn_threshold(budget, 6.0)),
        );
    }
    for n in skipped {
        let _ = writeln!(s, "- {n}");
    }
    let _ = writeln!(
        s,
        "- Engine: queue above {} waiting per replica for 5 m, KV cache above 90 % for 10 m, \
         TTFT or TPOT p99 above twice p50 for 15 m, vLLM metrics missing.",
        rules::queue_threshold(i)
    );
    let _ = writeln!(
        s,
        "- GPU (dcgm-exporter): double-bit ECC errors > 0 and fatal XIDs (critical), any XID, \
         temperature above {} C, {}SM clock slowed by heat or power protection, framebuffer \
         above {} %, utilisation below 30 % for 5 m at the peak (info).\n",
        rules::num(i.gpu_temp_alert_c),
        match i.gpu_tdp_w {
            Some(t) => format!(
                "power above {} W (95 % of the {} W TDP), ",
                rules::num(rules::POWER_FRACTION * t),
                rules::num(t)
            ),
            None => String::new(),
        },
        rules::num(rules::framebuffer_threshold(i) * 100.0)
    );

    let _ = writeln!(s, "## Apply\n");
    let _ = writeln!(
        s,
        "Needs: Karpenter v1 (AWS provider), the NVIDIA device plugin (or GPU Operator), KEDA \
         2.x, a Prometheus Operator, dcgm-exporter with pod labels (the GPU Operator's \
         default) and the counters in `dcgm-exporter-counters.csv`{}. Set the cluster name \
         (`{}` here) in `ec2nodeclass.yaml` if it differs.\n",
        if i.nodes_per_replica > 1 {
            ", and the LeaderWorkerSet controller"
        } else {
            ""
        },
        i.cluster
    );
    let _ = writeln!(s, "```sh");
    let _ = writeln!(s, "kubectl apply -f ec2nodeclass.yaml -f nodepool.yaml");
    let _ = writeln!(
        s,
        "kubectl create namespace {} --dry-run=client -o yaml | kubectl apply -f -",
        i.namespace
    );
    for (f, _) in files {
        if f.ends_with(".yaml")
            && f != "ec2nodeclass.yaml"
            && f != "nodepool.yaml"
            && f != "prometheus-rules.yaml"
        {
            let _ = writeln!(s, "kubectl apply -f {f}");
        }
    }
    let _ = writeln!(s, "promtool check rules prometheus-rules.yaml");
    let _ = writeln!(s, "```\n");
    let _ = writeln!(
        s,
        "Load `prometheus-rules.yaml` through Prometheus's `rule_files`, or as the `spec` of a \
         `PrometheusRule` object for the Prometheus Operator."
    );
    s
}

/// A share as a percentage with enough digits to show a small one (`0.012 %`, `1.3 %`).
fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p >= 1.0 {
        format!("{p:.1} %")
    } else if p >= 0.01 {
        format!("{p:.2} %")
    } else {
        format!("{p:.1e} %")
    }
}
