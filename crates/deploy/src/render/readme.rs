//! `README.md` of a rendered directory: what was rendered from which plan, every engine
//! argument with its reason, the scaling and startup numbers, the alerts, and how to apply.

use super::input::RenderInput;
use super::{karpenter, keda, pod, rules, sglang, vllm, weights};
use inferplan_perf::Engine;
use inferplan_serving::checkpoint::{self, Quantization};
use inferplan_serving::flags::{self, Flag};
use inferplan_serving::Delivery;
use std::fmt::Write as _;

/// How the engine writes a flag: its vLLM or SGLang spelling.
fn write(i: &RenderInput, v: Flag, s: Flag) -> String {
    match i.engine {
        Engine::Sglang => s.write.to_owned(),
        _ => v.write.to_owned(),
    }
}

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
         ({}) served by {}, {} weights and {} KV cache, {layout} on {} ({} × {} per \
         instance), {}-{} replicas ({} per instance, {} instances at the peak), priced in {}.\n",
        i.candidate,
        i.workload,
        i.model,
        i.checkpoint,
        i.server().display,
        i.precision,
        i.kv_dtype,
        i.instance,
        i.gpus_per_instance,
        i.gpu,
        i.min_replicas,
        i.max_replicas,
        i.replicas_per_instance,
        i.instances,
        if i.region.is_empty() { "-" } else { &i.region },
    );
    let notes: Vec<String> = i.notes.iter().cloned().chain(i.delivery_notes()).collect();
    if !notes.is_empty() {
        let _ = writeln!(s, "## Before applying\n");
        for n in &notes {
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
        "Image `{}`{}. Set a `hf-token` secret (key `token`) for gated models when the weights \
         come from the Hub.\n",
        i.image,
        if i.image.contains("@sha256:") {
            " (pinned by digest)"
        } else {
            " (pin its digest before applying)"
        }
    );
    let gib = i.download_bytes as f64 / (1u64 << 30) as f64;
    let _ = writeln!(
        s,
        "Checkpoint `{}`{}: {:.1} GiB ({}).\n",
        i.checkpoint,
        if i.checkpoint_catalogued {
            ""
        } else {
            " (checkpoint unknown: not in the catalog)"
        },
        gib,
        i.download_source,
    );
    let _ = writeln!(
        s,
        "### Weights (`weights_source = \"{}\"`)\n",
        i.weights_source
    );
    let cache = format!(
        "the node cache `{}` ({}), a `hostPath` shared by the pods of a node and kept across \
         them, which needs {} GiB (the download plus a fifth, plus 5 GiB) once per node",
        weights::node_cache_dir(i),
        if weights::cache_on_instance_store(i) {
            "the NVMe instance store, a RAID 0 through the EC2NodeClass's `instanceStorePolicy`"
        } else {
            "the gp3 root volume, sized and provisioned at 1,000 MiB/s for it"
        },
        pod::models_volume_gib(i)
    );
    let how = match i.delivery {
        Delivery::HubToNodeCache => format!(
            "The init container `fetch-weights` downloads `{}` from the Hugging Face Hub into {cache}; \
             the first pod on a node downloads, the others wait for it, and the engine reads \
             `{}` with `HF_HUB_OFFLINE=1`.",
            i.checkpoint,
            i.model_path()
        ),
        Delivery::S3Stream => format!(
            "vLLM streams the safetensors from `{}` straight into GPU memory \
             (`--load-format {}`, the Run:ai Model Streamer, with the credentials of the \
             `{}` service account); nothing is written to the node.",
            i.weights_uri,
            vllm::RUNAI_STREAMER,
            weights::service_account_name(i)
        ),
        Delivery::S3ToNodeCache => format!(
            "The init container `fetch-weights` copies `{}` with {} parallel requests (`aws s3 \
             sync`) into {cache}; the first pod on a node copies, the others wait, and the engine \
             reads `{}`.",
            i.weights_uri,
            weights::S3_CONCURRENCY,
            i.model_path()
        ),
        Delivery::FsxVolume => format!(
            "The pods mount the FSx for Lustre claim `{}` read-only at `/models` and the engine \
             reads `{}`.",
            weights::claim_name(i),
            i.model_path()
        ),
        Delivery::NvmePrepull => format!(
            "The DaemonSet `{}-weights-prepull` runs on every node of the NodePool and copies `{}` \
             with {} parallel requests into {cache} as the node starts; the engine pod's init \
             container `wait-for-weights` waits for the copy, and the engine reads `{}`. A \
             restarted pod, a second replica on the node or a rollout reads the cache at once.",
            i.name,
            i.weights_uri,
            weights::S3_CONCURRENCY,
            i.model_path()
        ),
    };
    let _ = writeln!(s, "{how}\n");
    let c = &i.cold_start;
    let _ = writeln!(
        s,
        "Cold start of a replica on a new node: {} s = boot {} s + copy to the node {} s + \
         engine start {} s (no compile caches on a new node) + reading the weights {} s ({}). \
         The startup probe covers what happens in the engine container (engine start and \
         reading{}), a quarter more: {} s.\n",
        c.seconds.round(),
        c.boot_s.round(),
        c.fetch_s.round(),
        c.engine_start_s.round(),
        c.load_s.round(),
        c.basis,
        if i.neuron.is_some() {
            ", and compiling the Neuron graphs: see Neuron"
        } else {
            ""
        },
        pod::startup_failure_threshold(i) * pod::STARTUP_PERIOD_S,
    );
    let _ = writeln!(s, "### Arguments\n");
    let _ = writeln!(s, "| argument | value | why |\n|---|---|---|");
    if let Some(setup) = &i.neuron {
        for (a, v, why) in super::neuron::argument_rows(i, setup) {
            let _ = writeln!(s, "| `{a}` | `{v}` | {why} |");
        }
        let _ = writeln!(s);
        neuron_section(i, setup, &mut s);
    } else if i.engine == Engine::Trtllm {
        s.push_str(&super::trtllm::readme_section(i));
    } else if i.engine == Engine::Tgi {
        s.push_str(&super::tgi::readme_section(i));
    } else if let (Engine::Lmdeploy, Some(setup)) = (i.engine, &i.lmdeploy) {
        s.push_str(&super::lmdeploy::readme_section(i, setup));
    } else {
        gpu_arguments(i, &mut s);
    }
    scheduling(i, files, s)
}

/// What runs differently on a Neuron chip.
fn neuron_section(i: &RenderInput, setup: &super::neuron::Setup, s: &mut String) {
    let _ = writeln!(s, "### Neuron\n");
    let _ = writeln!(
        s,
        "- vLLM runs NxD Inference through its Neuron plugin: each pod gets {} Neuron device(s) \
         (`{}`, {} logical NeuronCores each: `--tensor-parallel-size {}`). The graphs are \
         compiled for batch size {} and sequence length {} (a context-encoding and a \
         token-generation graph per bucket: {} graphs); chunked prefill is off on Neuron.",
        setup.devices,
        super::neuron::RESOURCE,
        setup.cores_per_chip,
        setup.cores,
        i.max_num_seqs,
        i.max_model_len,
        inferplan_perf::neuron::graphs(i.max_model_len),
    );
    let _ = writeln!(
        s,
        "- Compiled graphs: `{}={}` on the node's `{}` (mounted at `{}`). vLLM loads them from \
         there, or compiles and saves them there when they are missing.",
        super::neuron::COMPILED_ARTIFACTS_ENV,
        setup.artifacts,
        super::neuron::COMPILED_HOST_DIR,
        super::neuron::COMPILED_MOUNT,
    );
    let _ = writeln!(
        s,
        "- Startup probe: the cold start's engine part, a quarter more, plus {:.0} s of \
         compiling × 1.25. Compile time is not published: the allowance is an assumption of {} \
         s per GB of weights (AWS: \"a small-ish model of 15GB might take around 15min to \
         compile\"), at least {} s. With the artifacts on the node, the engine starts in the \
         cold start's time.",
        setup.compile_allowance_s,
        super::neuron::COMPILE_S_PER_GB,
        super::neuron::MIN_COMPILE_S,
    );
    let _ = writeln!(
        s,
        "- Metrics: vLLM's own (`{}`, `{}`, `{}`); the plugin replaces the model runner only. \
         No GPU alerts: dcgm-exporter reads NVIDIA GPUs; neuron-monitor's Prometheus exporter \
         is the Neuron counterpart (not rendered).\n",
        i.server().waiting,
        i.server().running,
        super::vllm::KV_CACHE_USAGE,
    );
}

/// The argument table of vLLM and SGLang on GPUs.
fn gpu_arguments(i: &RenderInput, s: &mut String) {
    let q = checkpoint::quantization(i.precision, i.native_weights);
    use flags::{sglang as sg, vllm as vl};
    let mut rows: Vec<(String, String, String)> = vec![
        (
            write(i, vl::MODEL, sg::MODEL),
            i.model_path(),
            "where the weights are (see Weights)".into(),
        ),
        (
            write(i, vl::SERVED_MODEL_NAME, sg::SERVED_MODEL_NAME),
            i.served_model_name.clone(),
            "clients and metrics keep the Hugging Face id while the weights are read locally"
                .into(),
        ),
        (
            write(i, vl::TENSOR_PARALLEL, sg::TENSOR_PARALLEL),
            i.tp.to_string(),
            format!("the plan's layout: {} GPUs per replica", i.gpus_per_replica),
        ),
        (
            write(i, vl::PIPELINE_PARALLEL, sg::PIPELINE_PARALLEL),
            i.pp.to_string(),
            if i.pp > 1 {
                format!("one stage per node over {} nodes", i.nodes_per_replica)
            } else {
                "the replica fits in one node".into()
            },
        ),
        (
            write(i, vl::MAX_MODEL_LEN, sg::MAX_MODEL_LEN),
            i.max_model_len.to_string(),
            match i.refused_share {
                Some(share) if share < 1e-9 => format!(
                    "{}; no request of the workload's lengths is above it",
                    i.max_model_len_basis
                ),
                Some(share) => format!(
                    "{}; about {} of requests (prompt + output above it) are refused with HTTP 400",
                    i.max_model_len_basis,
                    percent(share)
                ),
                None => i.max_model_len_basis.clone(),
            },
        ),
        (
            write(i, vl::MAX_NUM_SEQS, sg::MAX_NUM_SEQS),
            i.max_num_seqs.to_string(),
            format!(
                "{}'s default on this GPU, which the plan's capacity assumes",
                i.server().display
            ),
        ),
        (
            write(i, vl::MAX_NUM_BATCHED_TOKENS, sg::MAX_NUM_BATCHED_TOKENS),
            i.max_num_batched_tokens.to_string(),
            format!(
                "{}'s default on this GPU (the prefill chunk), which the plan assumes",
                i.server().display
            ),
        ),
        (
            write(i, vl::GPU_MEMORY_UTILIZATION, sg::GPU_MEMORY_UTILIZATION),
            vllm::format_fraction(i.gpu_memory_utilization),
            "the memory budget the plan's fit check used".into(),
        ),
    ];
    match q {
        Quantization::Dtype(d) => rows.push((
            write(i, vl::DTYPE, sg::DTYPE),
            d.into(),
            format!("{} weights", i.precision),
        )),
        Quantization::OnlineFp8 => rows.push((
            write(i, vl::QUANTIZATION, sg::QUANTIZATION),
            checkpoint::online_fp8().into(),
            format!(
                "the checkpoint is 16-bit; {} quantizes the weights to FP8 when loading",
                i.server().display
            ),
        )),
        Quantization::FromCheckpoint => rows.push((
            "(none)".into(),
            "-".into(),
            format!(
                "the checkpoint is already {}; {} reads its quantization config",
                i.precision,
                i.server().display
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
            write(i, vl::KV_CACHE_DTYPE, sg::KV_CACHE_DTYPE),
            if i.engine == Engine::Sglang {
                sglang::KV_CACHE_FP8.into()
            } else {
                checkpoint::KV_FP8.into()
            },
            "the plan's KV format: half the KV memory of 16 bit, twice the sequences".into(),
        ));
    }
    if i.delivery == Delivery::S3Stream {
        rows.push((
            vl::LOAD_FORMAT.write.into(),
            vllm::RUNAI_STREAMER.into(),
            "stream the weights from S3 into GPU memory (see Weights)".into(),
        ));
    }
    if i.nodes_per_replica > 1 {
        match i.engine {
            Engine::Sglang => {
                rows.push((
                    sg::NODES.write.into(),
                    i.nodes_per_replica.to_string(),
                    "a replica spans nodes, one pod per node".into(),
                ));
                rows.push((
                    sg::NODE_RANK.write.into(),
                    "$(LWS_WORKER_INDEX)".into(),
                    "the pod's index in its LeaderWorkerSet group".into(),
                ));
                rows.push((
                    sg::DIST_INIT_ADDR.write.into(),
                    format!("$(LWS_LEADER_ADDRESS):{}", sglang::DIST_INIT_PORT),
                    "the nodes meet at the leader pod".into(),
                ));
            }
            _ => rows.push((
                vl::DISTRIBUTED_EXECUTOR_BACKEND.write.into(),
                vllm::RAY.into(),
                "a replica spans nodes; the leader pod runs the Ray head".into(),
            )),
        }
    }
    if i.engine == Engine::Sglang {
        rows.push((
            sglang::ENABLE_METRICS.into(),
            "-".into(),
            "SGLang serves `/metrics` (queue, batch, latency histograms) only with it".into(),
        ));
    }
    for (a, v, why) in rows {
        let _ = writeln!(s, "| `{a}` | `{v}` | {why} |");
    }
    let _ = writeln!(s);
}

/// Scheduling, startup, scaling, alerts and how to apply.
fn scheduling(i: &RenderInput, files: &[(String, &str)], mut s: String) -> String {
    let _ = writeln!(s, "## Scheduling, startup and scaling\n");
    let _ = writeln!(
        s,
        "- Each pod requests {} × `{}` (requests equal limits), {} vCPU and {} GiB \
         of memory ({} % of the instance shared by {} pod(s)), tolerates the `{}` taint and \
         runs only on the `{}` NodePool's {} nodes.",
        i.gpus_per_pod,
        i.accelerator_resource(),
        pod::cpu(i),
        pod::memory_gib(i),
        (pod::NODE_SHARE * 100.0).round(),
        if i.nodes_per_replica > 1 {
            1
        } else {
            i.replicas_per_instance
        },
        i.accelerator_taint(),
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
        "- Drain: a stopping pod leaves the Service, then its `preStop` hook sleeps {} s (the \
         p99 end-to-end latency) so that the requests it holds finish before the engine gets \
         SIGTERM, within the {} s termination grace period.",
        pod::drain_s(i),
        pod::grace_period_s(i)
    );
    if let (Some(run), Some(job)) = (&i.run, &i.purchase.batch_job) {
        let clock = |m: u32| format!("{:02}:{:02}", (m / 60) % 24, m % 60);
        let ready = run.start_minute + (run.cold_start_s / 60.0).ceil() as u32;
        let window_end = run.start_minute + (job.window_hours * 60.0).round() as u32;
        let _ = writeln!(
            s,
            "- Batch run (`cron` trigger `batch-run`, UTC): KEDA asks for {} replicas from {} \
             (the window's opening) to {} (the {} each instance runs and the plan bills), and \
             none outside it (`minReplicaCount: 0`). The replicas start together at the \
             opening and serve after the cold start, about {} ({:.0} s); submit the day's \
             work from then on, at the pace they take it: the plan finishes it {:.1} h after \
             the opening at p99, before the window closes at {}. Work still in flight when the \
             run ends keeps its replicas through the load triggers below; KEDA scales to zero \
             {} s after the last active trigger. Outside the run no replica answers (no queue \
             holds requests).",
            run.replicas,
            clock(run.start_minute),
            clock(run.end_minute()),
            inferplan_plan::job::hours(f64::from(run.minutes) / 60.0),
            clock(ready),
            run.cold_start_s,
            job.finish_p99_hours,
            clock(window_end),
            inferplan_plan::autoscaling::KEDA_COOLDOWN_PERIOD_S,
        );
    }
    if !i.floors.is_empty() {
        let blocks: Vec<String> = i
            .floors
            .iter()
            .map(|f| {
                format!(
                    "{} replicas from {:02}:00 to {:02}:00",
                    f.replicas,
                    f.start_hour,
                    (f.start_hour + f.hours) % 24
                )
            })
            .collect();
        let _ = writeln!(
            s,
            "- Hourly floor (`cron` triggers `floor-*`, UTC): KEDA keeps at least the replicas \
             the plan bills for those hours ({}; the SLO's with the N+1 spares, or \
             those the in-flight target keeps at 80 % of a replica's capacity when more, in \
             whole instances), whatever the load triggers read; the HPA takes the highest \
             trigger, so the load still scales above the floor. A floor opens at its hour, as \
             the plan bills it: the replicas kept before carry the rise until the new ones \
             serve. Outside the floors the minimum below holds.",
            blocks.join(", ")
        );
    }
    let _ = writeln!(
        s,
        "- KEDA scales between {} ({}) and {} replicas \
         ({}): out when running + waiting requests exceed {} per replica (80 % of the \
         {:.1} a replica holds at its SLO capacity of {:.2} req/s by Little's law with its mean latency), or \
         waiting requests exceed {} per replica.",
        i.min_replicas,
        if i.run.is_some() {
            "none outside the batch run"
        } else {
            "the quietest hour of the daily profile, or more where the replicas kept for one \
             hour could not carry the next until new ones start"
        },
        i.max_replicas,
        if i.run.is_some() {
            "the batch run's".to_owned()
        } else if i.max_replicas > i.replicas {
            format!(
                "the peak's {} at their SLO capacity, more at the 80 % of it the autoscaler \
                 aims at, or one instance's worth more where the quietest hour already needs \
                 the peak's replicas and an autoscaler whose minimum equals its maximum could \
                 not move",
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
        "- The {} has no `replicas`: the ScaledObject owns the count, so re-applying the \
         manifest leaves the running replicas alone (a written count would reset them until \
         KEDA's next poll, each one removed costing a cold start). Created, it starts with one \
         replica, Kubernetes' default: {}. Replacing a copy applied with a `replicas:` field \
         drops that field once, so Kubernetes' default of 1 applies until KEDA's next poll: do \
         it {} (kubernetes.io, \"Horizontal Pod Autoscaling\", \"Migrating Deployments and \
         StatefulSets to horizontal autoscaling\").",
        if i.nodes_per_replica > 1 {
            "LeaderWorkerSet"
        } else {
            "Deployment"
        },
        if i.run.is_some() {
            format!(
                "during the run KEDA raises it to the run's replicas; outside it KEDA removes \
                 it once no trigger has been active for {} s",
                inferplan_plan::autoscaling::KEDA_COOLDOWN_PERIOD_S
            )
        } else {
            format!(
                "KEDA raises it to the minimum ({}), or the hour's floor, at its next poll",
                i.min_replicas
            )
        },
        if i.run.is_some() {
            "outside the run"
        } else {
            "in a quiet hour"
        }
    );
    if i.scale_up_window_s > inferplan_plan::autoscaling::SCALE_UP_SUSTAINED_S {
        let _ = writeln!(
            s,
            "- Scale-up waits {} s (`scaleUp.stabilizationWindowSeconds`): the deadline less a \
             request's p99 end-to-end latency, the time a request may wait in the engine's \
             queue. A shorter burst waits there and still meets the deadline; a replica started \
             for it would serve after it and be removed again. The engine's queue exists only \
             while a replica runs, so the minimum stays warm (no scale to zero).",
            i.scale_up_window_s
        );
    } else if i.scale_up_window_s > 0 {
        let _ = writeln!(
            s,
            "- Scale-up waits for {} s of load (`scaleUp.stabilizationWindowSeconds`, the lowest \
             of the readings in that window): requests in flight are a count with the noise of \
             one (about its square root), above the HPA's 10 % tolerance, and a single high \
             reading would start a replica the next minutes remove again.",
            i.scale_up_window_s
        );
    }
    let _ = writeln!(
        s,
        "- Scale-down waits {} s (`scaleDown.stabilizationWindowSeconds`, at least a replica's \
         start on a new node) and removes one replica per 5 minutes: a replica removed sooner \
         could not be back in time for the next rise.",
        i.scale_down_window_s
    );
    let _ = writeln!(
        s,
        "- The NodePool launches only `{}` as {} capacity ({} savings-plan, {} on-demand, {} \
         spot instances in the plan; a savings plan discounts on-demand usage), at most {} \
         {}, and removes nodes only when empty.",
        i.instance,
        i.capacity_types().join(" and "),
        i.purchase.savings_plan_instances,
        i.purchase.on_demand_instances,
        i.purchase.spot_instances,
        karpenter::gpu_limit(i),
        if i.neuron.is_some() {
            "Neuron devices"
        } else {
            "GPUs"
        }
    );
    let _ = writeln!(
        s,
        "- The PodDisruptionBudget lets drains and consolidation take one pod at a time.\n"
    );

    if i.monitoring.prometheus() {
        alerts(i, &mut s);
    }
    if i.monitoring.cloudwatch() {
        s += &super::cloudwatch::readme_section(i);
    }
    apply(i, files, &mut s);
    s
}

fn alerts(i: &RenderInput, s: &mut String) {
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
        "- Engine: queue above {} waiting per replica for 5 m, {}{} p99 above twice p50 for \
         15 m, {} metrics missing.{}",
        rules::queue_threshold(i),
        if i.server().kv_usage.is_some() {
            "KV cache above 90 % for 10 m, "
        } else {
            ""
        },
        if i.server().ttft.is_some() {
            "TTFT or TPOT"
        } else {
            "TPOT"
        },
        i.server().display,
        if i.server().tpot_per_request {
            String::new()
        } else {
            format!(
                " The TPOT SLO is checked on `{}`, one sample per generated token: the share of \
                 slow tokens, which is stricter than the plan's per-request mean ({} has no \
                 per-request TPOT histogram).",
                i.server().tpot,
                i.server().display
            )
        }
    );
    if i.neuron.is_some() {
        let _ = writeln!(s);
        return;
    }
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
}

fn apply(i: &RenderInput, files: &[(String, &str)], s: &mut String) {
    let _ = writeln!(s, "## Apply\n");
    let _ = writeln!(
        s,
        "Needs: Karpenter v1 (AWS provider), {}, KEDA \
         2.x, {}{}. Set the cluster name (`{}` here) in `ec2nodeclass.yaml` if it differs.\n",
        if i.neuron.is_some() {
            "the Neuron device plugin and scheduler extension (`neuron-helm-chart`)"
        } else {
            "the NVIDIA device plugin (or GPU Operator)"
        },
        if i.neuron.is_some() && i.monitoring.prometheus() {
            "a Prometheus Operator"
        } else if i.monitoring.prometheus() {
            "a Prometheus Operator, dcgm-exporter with pod labels (the GPU Operator's \
             default) and the counters in `dcgm-exporter-counters.csv`"
        } else {
            "the Amazon CloudWatch Observability add-on (see CloudWatch above), a KEDA operator \
             role allowed `cloudwatch:GetMetricData`"
        },
        if i.nodes_per_replica > 1 {
            ", and the LeaderWorkerSet controller"
        } else {
            ""
        },
        i.cluster
    );
    if let Some(pg) = &i.placement_group {
        let _ = writeln!(
            s,
            "A replica spans {} nodes: the EC2NodeClass launches them into the cluster placement \
             group `{pg}` (`placementGroupSelector`, Karpenter releases with \
             aws/karpenter-provider-aws#9030, March 2026), which keeps them in one availability \
             zone close on the network. Create it first: `aws ec2 create-placement-group \
             --group-name {pg} --strategy cluster`. With an older Karpenter, remove \
             `placementGroupSelector` and keep the pods' zone affinity (one AZ, no placement \
             group), or run the nodes in a managed node group whose launch template names the \
             placement group.{}\n",
            i.nodes_per_replica,
            match i.efa_interfaces {
                Some(n) => format!(
                    " Each pod requests {n} × `vpc.amazonaws.com/efa` (install the EFA device \
                     plugin; the nodes' security group must allow all traffic to and from \
                     itself for EFA)."
                ),
                None => String::new(),
            }
        );
    }
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
            && f != super::cloudwatch::TEMPLATE
        {
            let _ = writeln!(s, "kubectl apply -f {f}");
        }
    }
    if i.monitoring.cloudwatch() {
        let _ = writeln!(
            s,
            "aws cloudformation deploy --region {} --stack-name {}-alarms --template-file {}",
            i.region,
            i.name,
            super::cloudwatch::TEMPLATE
        );
    }
    if i.monitoring.prometheus() {
        let _ = writeln!(s, "promtool check rules prometheus-rules.yaml");
    }
    let _ = writeln!(s, "```\n");
    if i.monitoring.prometheus() {
        let _ = writeln!(
            s,
            "Load `prometheus-rules.yaml` through Prometheus's `rule_files`, or as the `spec` of a \
             `PrometheusRule` object for the Prometheus Operator."
        );
    }
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
