//! `render`: snapshots of every file rendered for one example, determinism, structural checks
//! of the manifests and rules (requests equal limits, `/dev/shm`, startup budget, PDB, node
//! pool, CRD shapes), YAML round trips, and the files of every example written for the
//! validators of `.ci/run` (`promtool check rules`, `kubernetes-validate`).
//!
//! Snapshots live in `tests/snapshots/render/`; regenerate them with
//! `UPDATE_SNAPSHOTS=1 cargo test -p inferplan-deploy --test deploy render::`.
//! The per-example files go to `$INFERPLAN_RENDER_CHECK_DIR` (default
//! `target/render-check`), one directory per example.

use inferplan_deploy::render::{
    self, from_plan, read_plan, renderable_candidates, RenderError, RenderInput,
};
use inferplan_plan::contract::PlanJson;
use inferplan_plan::search::plan;
use inferplan_plan::Workload;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use yaml_rust2::{Yaml, YamlLoader};

use crate::planner::inputs;
use crate::support::{catalog, repo, snapshot_mismatch, updating};

/// The plan of a workload as `inferplan plan --format json --top 5` writes it (`candidates`:
/// one per hardware and layout, best first).
pub(crate) fn plan_json(w: &Workload) -> Value {
    let p = plan(&inputs(), w).unwrap();
    serde_json::to_value(PlanJson::new(&p, usize::MAX)).unwrap()
}

/// Candidate `n` of a plan JSON, read as `inferplan render --plan` reads it.
pub(crate) fn from_json(p: &Value, n: usize) -> Result<RenderInput, RenderError> {
    from_plan(&read_plan(p)?, n, catalog())
}

/// The vLLM candidates of a plan JSON that render writes on GPUs (not vLLM's Neuron backend,
/// which renders as `Engine::Neuron`).
fn vllm(p: &Value) -> Vec<usize> {
    of_engine(p, inferplan_perf::Engine::Vllm)
}

/// The candidates of a plan JSON that render writes with `engine`.
fn of_engine(p: &Value, engine: inferplan_perf::Engine) -> Vec<usize> {
    let plan = read_plan(p).unwrap();
    renderable_candidates(&plan, catalog())
        .into_iter()
        .filter(|&n| from_plan(&plan, n, catalog()).is_ok_and(|i| i.engine == engine))
        .collect()
}

/// The candidates render writes (vLLM and SGLang on GPUs, vLLM's Neuron backend).
fn renderable(p: &Value) -> Vec<usize> {
    renderable_candidates(&read_plan(p).unwrap(), catalog())
}

pub(crate) fn example(name: &str) -> Workload {
    Workload::load(&crate::support::example(&format!("{name}.toml"))).unwrap()
}

/// The LLM examples (diffusion workloads are planned, not rendered: `render` writes vLLM
/// manifests).
fn examples() -> Vec<String> {
    crate::support::examples()
        .into_iter()
        .filter_map(|p| {
            let llm = !inferplan_plan::diffusion::is_diffusion(&std::fs::read_to_string(&p).ok()?);
            llm.then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .collect()
}

/// A replica of Llama 3.1 405B in BF16 (810 GB) does not fit one p5.48xlarge (8 × 80 GB):
/// the planner spreads it over two nodes with pipeline parallelism.
pub(crate) fn multi_node_workload() -> Workload {
    let text = r#"
name = "llama-405b-multinode"
[model]
name = "Llama 3.1 405B"
precision = "bf16"
engines = ["vllm"]
[traffic]
rate_rps = 0.5
[lengths]
input_tokens = 1000
output_tokens = 200
[slo]
ttft_ms = 5000.0
tpot_ms = 200.0
[constraints]
max_gpus_per_replica = 16
instance_families = ["p5"]
"#;
    let w = Workload::from_toml(text, "multi-node").unwrap();
    w.validate().unwrap();
    w
}

/// The input for the first vLLM candidate of a plan.
fn first_vllm(p: &Value) -> RenderInput {
    let n = *vllm(p).first().expect("the plan has a vLLM candidate");
    from_json(p, n).unwrap()
}

/// Issue 14 (3): each `weights_source` renders its delivery, for both engines, and the
/// startup probe, the README and the plan's IP105 read the same cold start.
#[test]
fn every_weights_source_renders_its_delivery() {
    use inferplan_serving::{Delivery, WeightsSource};
    let base = example("chat-70b-fp8");
    let mut seen = BTreeSet::new();
    for source in WeightsSource::ALL {
        let mut w = base.clone();
        w.constraints.weights_source = source.as_str().to_owned();
        let p = plan_json(&w);
        let plan = read_plan(&p).unwrap();
        for n in renderable(&p) {
            let c = &plan.candidates[n - 1];
            let input = from_json(&p, n).unwrap();
            // On a Neuron chip the server is vLLM's Neuron backend (`Engine::Neuron`), which
            // reads a local checkpoint: S3 is copied to the node, not streamed, and the graphs
            // are compiled on a new node. The plan counts the same
            // (`inferplan_serving::served_engine`), so the candidate's engine and accelerator
            // give the render's delivery and cold start.
            let inst = catalog().instance(&c.instance).unwrap();
            let arch = catalog().instance_gpu(inst).unwrap().arch;
            let engine = inferplan_serving::served_engine(c.engine, arch);
            assert_eq!(
                engine == inferplan_perf::Engine::Neuron,
                input.neuron.is_some()
            );
            assert_eq!(input.delivery, Delivery::of(source, Some(engine)));
            // One cold start: the candidate's, as IP105 and the billing count it.
            let bytes = input.download_bytes as f64 / f64::from(input.nodes_per_replica);
            let cold =
                inferplan_serving::new_replica(source.as_str(), Some(c.engine), arch, bytes, inst);
            assert_eq!(cold, input.cold_start, "{source} #{n}");
            let files = render::render(&input);
            check_structure(&input, &files);
            assert!(file(&files, "README.md").contains(&input.cold_start.basis));
            seen.insert(format!("{:?}", input.delivery));
        }
    }
    assert_eq!(seen.len(), 5, "every delivery rendered: {seen:?}");
}

fn load(text: &str, file: &str) -> Vec<Yaml> {
    YamlLoader::load_from_str(text).unwrap_or_else(|e| panic!("{file} is not YAML: {e}"))
}

fn file<'a>(files: &'a [(String, String)], name: &str) -> &'a str {
    files
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, t)| t.as_str())
        .unwrap_or_else(|| panic!("{name} not rendered"))
}

pub(crate) fn doc(files: &[(String, String)], name: &str) -> Yaml {
    load(file(files, name), name).remove(0)
}

pub(crate) fn s(y: &Yaml) -> &str {
    y.as_str().unwrap_or_else(|| panic!("not a string: {y:?}"))
}

fn i(y: &Yaml) -> i64 {
    y.as_i64()
        .unwrap_or_else(|| panic!("not an integer: {y:?}"))
}

pub(crate) fn list(y: &Yaml) -> &Vec<Yaml> {
    y.as_vec().unwrap_or_else(|| panic!("not a list: {y:?}"))
}

/// The pod templates of the workload object (one for a Deployment, two for an LWS).
pub(crate) fn templates(files: &[(String, String)]) -> Vec<Yaml> {
    if files.iter().any(|(n, _)| n == "leaderworkerset.yaml") {
        let l = doc(files, "leaderworkerset.yaml");
        let t = &l["spec"]["leaderWorkerTemplate"];
        vec![t["leaderTemplate"].clone(), t["workerTemplate"].clone()]
    } else {
        vec![doc(files, "deployment.yaml")["spec"]["template"].clone()]
    }
}

/// Every check that holds for any rendered deployment.
pub(crate) fn check_structure(input: &RenderInput, files: &[(String, String)]) {
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.last(), Some(&"README.md"));
    let unique: BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(unique.len(), names.len(), "duplicate file names: {names:?}");

    // Every YAML file loads, and writing what was loaded gives the same text back.
    for (name, text) in files.iter().filter(|(n, _)| n.ends_with(".yaml")) {
        let docs = load(text, name);
        assert_eq!(docs.len(), 1, "{name}");
        assert_eq!(
            &render::yaml::emit(&docs[0]),
            text,
            "{name} does not round-trip"
        );
        if name != "prometheus-rules.yaml" {
            let d = &docs[0];
            assert!(d["apiVersion"].as_str().is_some(), "{name}: apiVersion");
            assert!(d["kind"].as_str().is_some(), "{name}: kind");
            assert!(
                s(&d["metadata"]["name"]).starts_with(&input.name),
                "{name}: name"
            );
            let cluster_scoped = matches!(s(&d["kind"]), "NodePool" | "EC2NodeClass");
            assert_eq!(
                d["metadata"]["namespace"].as_str().is_none(),
                cluster_scoped,
                "{name}: namespace"
            );
        }
    }

    // The pods: GPU requests equal limits, the GPU taint is tolerated, the node pool is
    // selected, /dev/shm when TP > 1, the startup probe covers the cold start.
    let shm = input.neuron.is_none() && (input.tp > 1 || input.nodes_per_replica > 1);
    let (taint, resource) = (input.accelerator_taint(), input.accelerator_resource());
    for t in templates(files) {
        let spec = &t["spec"];
        let tolerated = list(&spec["tolerations"])
            .iter()
            .any(|x| s(&x["key"]) == taint && s(&x["effect"]) == "NoSchedule");
        assert!(tolerated, "pods must tolerate the GPU taint");
        assert_eq!(
            s(&spec["nodeSelector"]["karpenter.sh/nodepool"]),
            input.name
        );
        assert_eq!(
            s(&spec["nodeSelector"]["node.kubernetes.io/instance-type"]),
            input.instance
        );
        let containers = list(&spec["containers"]);
        let engine = &containers[0];
        let gpu_req = s(&engine["resources"]["requests"][resource]);
        let gpu_lim = s(&engine["resources"]["limits"][resource]);
        assert_eq!(gpu_req, gpu_lim, "{resource} requests == limits");
        assert_eq!(gpu_req, input.gpus_per_pod.to_string());
        for c in spec["initContainers"].as_vec().into_iter().flatten() {
            assert!(
                c["resources"]["requests"][resource].is_badvalue(),
                "init containers take no GPU"
            );
        }
        let has_shm_volume = spec["volumes"].as_vec().is_some_and(|v| {
            v.iter().any(|x| {
                s(&x["name"]) == "dshm" && x["emptyDir"]["medium"].as_str() == Some("Memory")
            })
        });
        let has_shm_mount = engine["volumeMounts"]
            .as_vec()
            .into_iter()
            .flatten()
            .any(|m| s(&m["mountPath"]) == "/dev/shm");
        assert_eq!(has_shm_volume, shm, "/dev/shm volume iff TP > 1");
        assert_eq!(has_shm_mount, shm, "/dev/shm mount iff TP > 1");
        if !engine["startupProbe"].is_badvalue() {
            // The startup probe starts with the engine container: it covers what happens in it
            // (engine start without compile caches and reading the weights), and never less
            // than the least start IL104 checks.
            let p = &engine["startupProbe"];
            let budget = i(&p["failureThreshold"]) * i(&p["periodSeconds"]);
            let c = &input.cold_start;
            assert!(
                budget as f64 >= c.in_container_s(),
                "startup budget {budget} s < engine start + load {} s",
                c.in_container_s()
            );
            let gb = input.download_bytes as f64 / 1e9 / f64::from(input.nodes_per_replica);
            assert!(
                budget as f64 >= inferplan_serving::startup::least_start_s(gb),
                "startup budget {budget} s below IL104's least start"
            );
            assert_eq!(s(&p["httpGet"]["path"]), "/health");
            assert!(!engine["readinessProbe"].is_badvalue());
            assert!(!engine["livenessProbe"].is_badvalue());
            // The drain: a preStop sleep of the p99 end-to-end latency, within the grace period.
            let hook = list(&engine["lifecycle"]["preStop"]["exec"]["command"]);
            assert_eq!(s(&hook[0]), "sleep");
            let sleep: i64 = s(&hook[1]).parse().unwrap();
            let grace = i(&spec["terminationGracePeriodSeconds"]);
            assert!(
                1 <= sleep && sleep < grace,
                "preStop {sleep} s, grace {grace} s"
            );
            assert!(
                sleep as f64 >= (input.e2e_p99_ms / 1000.0).min((grace - 30) as f64),
                "preStop {sleep} s shorter than the p99 e2e {} ms",
                input.e2e_p99_ms
            );
        }
    }
    let first = &templates(files)[0];
    let args: Vec<String> = {
        let c = &list(&first["spec"]["containers"])[0];
        let mut v: Vec<String> = list(&c["args"]).iter().map(|a| s(a).to_owned()).collect();
        v.extend(list(&c["command"]).iter().map(|a| s(a).to_owned()));
        v
    };
    let joined = args.join(" ");
    let flags = if let Some(n) = &input.neuron {
        vec![
            format!("--tensor-parallel-size {}", n.cores),
            format!("--max-model-len {}", input.max_model_len),
            format!("--max-num-seqs {}", input.max_num_seqs),
            format!("--num-gpu-blocks-override {}", input.max_num_seqs),
        ]
    } else if input.engine == inferplan_perf::Engine::Sglang {
        vec![
            format!("--tp {}", input.tp),
            format!("--pp-size {}", input.pp),
            format!("--context-length {}", input.max_model_len),
            format!("--max-running-requests {}", input.max_num_seqs),
            format!("--chunked-prefill-size {}", input.max_num_batched_tokens),
            "--mem-fraction-static 0.".to_owned(),
            "--enable-metrics".to_owned(),
            "sglang.launch_server".to_owned(),
        ]
    } else if input.engine == inferplan_perf::Engine::Trtllm {
        vec![
            format!("--tp_size {}", input.tp),
            format!("--pp_size {}", input.pp),
            format!("--max_seq_len {}", input.max_model_len),
            format!("--max_batch_size {}", input.max_num_seqs),
            format!("--max_num_tokens {}", input.max_num_batched_tokens),
            "--kv_cache_free_gpu_memory_fraction 0.9".to_owned(),
            "return_perf_metrics: true".to_owned(),
        ]
    } else if input.engine == inferplan_perf::Engine::Tgi {
        vec![
            "text-generation-launcher".to_owned(),
            format!("--num-shard {}", input.tp),
            format!("--max-total-tokens {}", input.max_model_len),
            format!("--max-input-tokens {}", input.max_model_len - 1),
            format!(
                "--max-batch-prefill-tokens {}",
                input.max_num_batched_tokens.max(input.max_model_len - 1)
            ),
            format!("--max-concurrent-requests {}", 2 * input.max_num_seqs),
            format!(
                "--cuda-memory-fraction {}",
                inferplan_deploy::render::vllm::format_fraction(input.gpu_memory_utilization)
            ),
        ]
    } else if input.engine == inferplan_perf::Engine::Lmdeploy {
        vec![
            "lmdeploy serve api_server".to_owned(),
            format!("--tp {}", input.tp),
            format!("--session-len {}", input.max_model_len),
            format!("--max-batch-size {}", input.max_num_seqs),
            format!("--max-prefill-token-num {}", input.max_num_batched_tokens),
            format!(
                "--cache-max-entry-count {}",
                inferplan_deploy::render::vllm::format_fraction(
                    input.lmdeploy.as_ref().unwrap().cache_max_entry_count
                )
            ),
            format!("--model-name {}", input.served_model_name),
            "--server-port 23333".to_owned(),
        ]
    } else {
        vec![
            format!("--tensor-parallel-size {}", input.tp),
            format!("--pipeline-parallel-size {}", input.pp),
            format!("--max-model-len {}", input.max_model_len),
            format!("--max-num-seqs {}", input.max_num_seqs),
            "--gpu-memory-utilization 0.9".to_owned(),
        ]
    };
    for flag in flags {
        assert!(joined.contains(&flag), "{flag} missing from {joined}");
    }
    check_weights(input, files, &joined);
    // On Neuron an FP8 KV cache is NxD Inference's `kv_cache_quant`.
    let fp8_kv = if input.neuron.is_some() {
        "\"kv_cache_quant\": true"
    } else if input.engine == inferplan_perf::Engine::Trtllm {
        "dtype: fp8"
    } else if input.engine == inferplan_perf::Engine::Tgi {
        "--kv-cache-dtype fp8_e4m3fn"
    } else if input.engine == inferplan_perf::Engine::Lmdeploy {
        // TurboMind holds a one-byte KV cache as INT8; the PyTorch engine has FP8.
        match input.lmdeploy.as_ref().map(|l| l.backend) {
            Some(inferplan_serving::lmdeploy::Backend::PyTorch) => "--quant-policy fp8",
            _ => "--quant-policy int8",
        }
    } else {
        "--kv-cache-dtype fp8"
    };
    assert_eq!(
        joined.contains(fp8_kv),
        input.kv_dtype == inferplan_catalog::Dtype::Fp8
    );
    assert!(input.max_model_len <= input.model_max_context);

    // The PDB covers the engine pods.
    let pdb = doc(files, "pdb.yaml");
    assert_eq!(s(&pdb["kind"]), "PodDisruptionBudget");
    assert_eq!(s(&pdb["apiVersion"]), "policy/v1");
    let sel = &pdb["spec"]["selector"]["matchLabels"];
    let pod_labels = &first["metadata"]["labels"];
    for (k, v) in sel.as_hash().unwrap() {
        assert_eq!(&pod_labels[s(k)], v, "PDB selector must match the pods");
    }

    // The Service selects the API pods on the named port.
    let svc = doc(files, "service.yaml");
    assert_eq!(s(&svc["spec"]["ports"][0]["targetPort"]), "http");
    for (k, v) in svc["spec"]["selector"].as_hash().unwrap() {
        assert_eq!(
            &pod_labels[s(k)],
            v,
            "Service selector must match the API pods"
        );
    }

    check_node_pool(input, files);
    check_keda(input, files);
    check_pod_monitor(input, files);
    check_rules(input, files);
    if input.nodes_per_replica > 1 {
        check_lws(input, files);
    }
}

/// The weights' delivery matches `weights_source`: the engine's model path, the volume, the
/// init containers, the extra objects; the node cache holds the download; the Deployment's
/// progress deadline covers the whole cold start.
fn check_weights(input: &RenderInput, files: &[(String, String)], args: &str) {
    use inferplan_serving::Delivery;
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    let has = |n: &str| names.contains(&n);
    let t = &templates(files)[0];
    let spec = &t["spec"];
    let init: Vec<String> = spec["initContainers"]
        .as_vec()
        .map(|v| v.iter().map(|c| s(&c["name"]).to_owned()).collect())
        .unwrap_or_default();
    let models = spec["volumes"]
        .as_vec()
        .and_then(|v| v.iter().find(|x| s(&x["name"]) == "models").cloned());
    let cache_dir = input.model_path();
    match input.delivery {
        Delivery::S3Stream => {
            assert!(args.contains(&format!("{} ", input.weights_uri)), "{args}");
            assert!(args.contains("--load-format runai_streamer"), "{args}");
            assert!(models.is_none() && init.is_empty());
            assert!(has("serviceaccount.yaml"));
            assert_eq!(
                s(&spec["serviceAccountName"]),
                format!("{}-weights", input.name)
            );
        }
        Delivery::FsxVolume => {
            let m = models.expect("models volume");
            assert_eq!(
                s(&m["persistentVolumeClaim"]["claimName"]),
                format!("{}-weights", input.name)
            );
            assert!(has("weights-pvc.yaml") && init.is_empty());
            assert!(args.contains(&cache_dir), "{args}");
        }
        Delivery::HubToNodeCache | Delivery::S3ToNodeCache | Delivery::NvmePrepull => {
            let m = models.expect("models volume");
            let path = s(&m["hostPath"]["path"]);
            assert!(args.contains(&cache_dir), "{args}");
            let want = if input.delivery == Delivery::NvmePrepull {
                "wait-for-weights"
            } else {
                "fetch-weights"
            };
            assert_eq!(init, vec![want.to_owned()]);
            assert_eq!(
                has("weights-prepull-daemonset.yaml"),
                input.delivery == Delivery::NvmePrepull
            );
            // The cache holds the download: on the instance store, or on a root volume sized
            // for it.
            let cache_bytes = inferplan_deploy::render::pod::models_volume_gib(input) as f64
                * (1u64 << 30) as f64;
            assert!(cache_bytes >= input.download_bytes as f64 * 1.1);
            let nc = doc(files, "ec2nodeclass.yaml");
            let root: f64 = s(&nc["spec"]["blockDeviceMappings"][0]["ebs"]["volumeSize"])
                .trim_end_matches("Gi")
                .parse()
                .unwrap();
            if path.starts_with("/mnt/k8s-disks/0") {
                assert!(input.local_nvme_gb.unwrap() * 1e9 >= cache_bytes);
                assert_eq!(s(&nc["spec"]["instanceStorePolicy"]), "RAID0");
            } else {
                assert!(root * (1u64 << 30) as f64 >= cache_bytes + 100.0 * (1u64 << 30) as f64);
            }
        }
    }
    if files.iter().any(|(n, _)| n == "deployment.yaml") {
        let d = doc(files, "deployment.yaml");
        assert!(i(&d["spec"]["progressDeadlineSeconds"]) as f64 >= input.cold_start.seconds);
    }
}

/// Karpenter v1 NodePool and EC2NodeClass (a CRD: no schema in kubernetes-validate).
fn check_node_pool(input: &RenderInput, files: &[(String, String)]) {
    let np = doc(files, "nodepool.yaml");
    assert_eq!(s(&np["apiVersion"]), "karpenter.sh/v1");
    assert_eq!(s(&np["kind"]), "NodePool");
    let spec = &np["spec"]["template"]["spec"];
    let r = &spec["nodeClassRef"];
    assert_eq!(s(&r["group"]), "karpenter.k8s.aws");
    assert_eq!(s(&r["kind"]), "EC2NodeClass");
    assert_eq!(s(&r["name"]), input.name);
    let req = |key: &str| -> Vec<String> {
        let r = list(&spec["requirements"])
            .iter()
            .find(|r| s(&r["key"]) == key)
            .unwrap_or_else(|| panic!("requirement {key} missing"));
        assert_eq!(s(&r["operator"]), "In");
        list(&r["values"]).iter().map(|v| s(v).to_owned()).collect()
    };
    assert_eq!(
        req("node.kubernetes.io/instance-type"),
        vec![input.instance.clone()]
    );
    let mut want = Vec::new();
    let m = &input.purchase;
    if m.savings_plan_instances + m.on_demand_instances > 0 || m.spot_instances == 0 {
        want.push("on-demand".to_owned());
    }
    if m.spot_instances > 0 {
        want.push("spot".to_owned());
    }
    assert_eq!(req("karpenter.sh/capacity-type"), want);
    let taints = list(&spec["taints"]);
    assert!(taints
        .iter()
        .any(|t| s(&t["key"]) == input.accelerator_taint() && s(&t["effect"]) == "NoSchedule"));
    assert!(spec["expireAfter"].as_str().is_some());
    let d = &np["spec"]["disruption"];
    assert!(["WhenEmpty", "WhenEmptyOrUnderutilized"].contains(&s(&d["consolidationPolicy"])));
    assert!(s(&d["consolidateAfter"]).ends_with('m'));
    for b in list(&d["budgets"]) {
        assert!(b["nodes"].as_str().is_some(), "budget nodes is a string");
    }
    let limit: u32 = s(&np["spec"]["limits"][input.accelerator_resource()])
        .parse()
        .unwrap();
    assert!(limit >= input.instances * input.gpus_per_instance);

    let nc = doc(files, "ec2nodeclass.yaml");
    assert_eq!(s(&nc["apiVersion"]), "karpenter.k8s.aws/v1");
    assert_eq!(s(&nc["kind"]), "EC2NodeClass");
    let spec = &nc["spec"];
    assert!(s(&spec["role"]).contains(&input.cluster));
    assert!(!list(&spec["amiSelectorTerms"]).is_empty());
    assert!(!list(&spec["subnetSelectorTerms"]).is_empty());
    assert!(!list(&spec["securityGroupSelectorTerms"]).is_empty());
    assert_eq!(
        spec["instanceStorePolicy"].as_str(),
        input.local_nvme_gb.map(|_| "RAID0")
    );
}

/// KEDA ScaledObject (a CRD).
fn check_keda(input: &RenderInput, files: &[(String, String)]) {
    let so = doc(files, "keda-scaledobject.yaml");
    assert_eq!(s(&so["apiVersion"]), "keda.sh/v1alpha1");
    assert_eq!(s(&so["kind"]), "ScaledObject");
    let spec = &so["spec"];
    let target = &spec["scaleTargetRef"];
    assert_eq!(s(&target["name"]), input.name);
    let kind = if input.nodes_per_replica > 1 {
        "LeaderWorkerSet"
    } else {
        "Deployment"
    };
    assert_eq!(s(&target["kind"]), kind);
    let (min, max) = (i(&spec["minReplicaCount"]), i(&spec["maxReplicaCount"]));
    // A batch job's run scales to zero outside its `cron` window; other work keeps a replica.
    let least = if input.run.is_some() { 0 } else { 1 };
    assert!(
        least <= min && min < max,
        "the autoscaler must be able to move: {min} {max}"
    );
    assert_eq!(max, i64::from(input.max_replicas));
    assert!(input.max_replicas >= input.replicas);
    let triggers = list(&spec["triggers"]);
    assert!(!triggers.is_empty());
    let cron = triggers.iter().filter(|t| s(&t["type"]) == "cron").count();
    assert_eq!(cron, usize::from(input.run.is_some()) + input.floors.len());
    // The autoscaler owns the count: no `spec.replicas` a re-apply would reset it to.
    let workload = if input.nodes_per_replica > 1 {
        doc(files, "leaderworkerset.yaml")
    } else {
        doc(files, "deployment.yaml")
    };
    assert!(
        workload["spec"]["replicas"].is_badvalue(),
        "spec.replicas written"
    );
    for t in triggers.iter().filter(|t| s(&t["type"]) != "cron") {
        assert_eq!(s(&t["type"]), "prometheus");
        let m = &t["metadata"];
        for key in ["serverAddress", "query", "threshold"] {
            assert!(
                m[key].as_str().is_some(),
                "trigger metadata {key} is a string"
            );
        }
        assert!(s(&m["threshold"]).parse::<u32>().unwrap() >= 1);
        assert!(balanced(s(&m["query"])));
    }
    let waiting = match input.engine {
        inferplan_perf::Engine::Sglang => "sglang:num_queue_reqs",
        inferplan_perf::Engine::Trtllm => "rate(request_queue_time_seconds_sum{",
        inferplan_perf::Engine::Tgi => "sum(tgi_queue_size{",
        inferplan_perf::Engine::Lmdeploy => "sum(lmdeploy:num_requests_waiting{",
        _ => "vllm:num_requests_waiting",
    };
    assert!(triggers.iter().any(|t| t["metadata"]["query"]
        .as_str()
        .is_some_and(|q| q.contains(waiting))));
    let b = &spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"];
    assert!(!b["scaleUp"].is_badvalue() && !b["scaleDown"].is_badvalue());
}

/// Prometheus Operator PodMonitor (a CRD).
fn check_pod_monitor(input: &RenderInput, files: &[(String, String)]) {
    let pm = doc(files, "podmonitor.yaml");
    assert_eq!(s(&pm["apiVersion"]), "monitoring.coreos.com/v1");
    assert_eq!(s(&pm["kind"]), "PodMonitor");
    assert_eq!(
        s(&pm["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]),
        input.name
    );
    let ep = &list(&pm["spec"]["podMetricsEndpoints"])[0];
    assert_eq!(s(&ep["port"]), "http");
    assert_eq!(s(&ep["path"]), input.server().metrics_path);
}

/// LeaderWorkerSet (a CRD).
fn check_lws(input: &RenderInput, files: &[(String, String)]) {
    let l = doc(files, "leaderworkerset.yaml");
    assert_eq!(s(&l["apiVersion"]), "leaderworkerset.x-k8s.io/v1");
    assert_eq!(s(&l["kind"]), "LeaderWorkerSet");
    let t = &l["spec"]["leaderWorkerTemplate"];
    assert_eq!(i(&t["size"]), i64::from(input.nodes_per_replica));
    assert!(i(&t["size"]) >= 2);
    assert!(["RecreateGroupOnPodRestart", "None"].contains(&s(&t["restartPolicy"])));
    assert!(["LeaderCreated", "LeaderReady"].contains(&s(&l["spec"]["startupPolicy"])));
    let leader = &list(&t["leaderTemplate"]["spec"]["containers"])[0];
    let worker = &list(&t["workerTemplate"]["spec"]["containers"])[0];
    let args = |c: &Yaml| -> String {
        list(&c["args"])
            .iter()
            .map(|a| s(a).to_owned())
            .collect::<Vec<_>>()
            .join(" ")
    };
    if input.engine == inferplan_perf::Engine::Sglang {
        for c in [leader, worker] {
            assert!(args(c).contains("--node-rank $(LWS_WORKER_INDEX)"));
            assert!(args(c).contains("--dist-init-addr $(LWS_LEADER_ADDRESS):"));
        }
    } else {
        assert!(args(leader).contains("--ray_cluster_size=$(LWS_GROUP_SIZE)"));
        assert!(args(worker).contains("--ray_address=$(LWS_LEADER_ADDRESS)"));
    }
    assert!(worker["ports"].is_badvalue(), "workers serve no API");
    // EFA: every pod asks for the instance's interfaces, requests equal limits; the node
    // class launches the group into its placement group.
    for c in [leader, worker] {
        let r = &c["resources"];
        match input.efa_interfaces {
            Some(n) => {
                assert_eq!(s(&r["requests"]["vpc.amazonaws.com/efa"]), n.to_string());
                assert_eq!(s(&r["limits"]["vpc.amazonaws.com/efa"]), n.to_string());
            }
            None => assert!(r["requests"]["vpc.amazonaws.com/efa"].is_badvalue()),
        }
    }
    let nc = doc(files, "ec2nodeclass.yaml");
    assert_eq!(
        nc["spec"]["placementGroupSelector"]["name"].as_str(),
        input.placement_group.as_deref()
    );
    assert!(input.placement_group.is_some());
}

/// The rule file: groups with unique names, each rule a record or an alert with a valid
/// duration, balanced PromQL, severities on alerts, and the alerts the issue asks for.
fn check_rules(input: &RenderInput, files: &[(String, String)]) {
    let r = doc(files, "prometheus-rules.yaml");
    let groups = list(&r["groups"]);
    let mut names = BTreeSet::new();
    let mut alerts = BTreeSet::new();
    for g in groups {
        assert!(names.insert(s(&g["name"]).to_owned()), "duplicate group");
        for rule in list(&g["rules"]) {
            let is_record = rule["record"].as_str().is_some();
            let is_alert = rule["alert"].as_str().is_some();
            assert!(
                is_record != is_alert,
                "a rule is a record or an alert: {rule:?}"
            );
            let expr = s(&rule["expr"]);
            assert!(!expr.trim().is_empty());
            assert!(balanced(expr), "unbalanced: {expr}");
            if is_alert {
                alerts.insert(s(&rule["alert"]).to_owned());
                let sev = s(&rule["labels"]["severity"]);
                assert!(["critical", "warning", "info"].contains(&sev), "{sev}");
                assert!(rule["annotations"]["summary"].as_str().is_some());
                assert!(rule["annotations"]["description"].as_str().is_some());
                if let Some(f) = rule["for"].as_str() {
                    assert!(
                        f.trim_end_matches(['m', 'h', 's']).parse::<u32>().is_ok(),
                        "duration {f}"
                    );
                }
            } else {
                let name = s(&rule["record"]);
                assert!(
                    name.split(':').count() == 3,
                    "level:metric:operation: {name}"
                );
            }
        }
    }
    for a in [
        "GpuDoubleBitEccError",
        "GpuXidError",
        "GpuTemperatureHigh",
        "GpuClockThrottled",
        "GpuFramebufferNearlyFull",
        "GpuUnderutilizedAtPeak",
        "InferenceQueueBacklog",
        "InferenceKvCacheNearlyFull",
        "InferenceTtftTailSpread",
        "InferenceTpotTailSpread",
    ] {
        // dcgm-exporter reads NVIDIA GPUs: no GPU alerts on a Neuron chip. No rule reads a
        // series the engine does not export (TGI has no TTFT histogram and no KV gauge).
        let exported = match a {
            "InferenceKvCacheNearlyFull" => input.server().kv_usage.is_some(),
            "InferenceTtftTailSpread" => input.server().ttft.is_some(),
            _ => true,
        };
        let expected = (input.neuron.is_none() || !a.starts_with("Gpu")) && exported;
        assert_eq!(alerts.contains(a), expected, "{a}");
    }
    assert_eq!(
        alerts.contains("GpuPowerNearTdp"),
        input.gpu_tdp_w.is_some() && input.neuron.is_none()
    );
    if input.slo.ttft_ms.is_some_and(|t| t >= 1.0) && input.server().ttft.is_some() {
        assert!(alerts.contains("InferenceTtftSloFastBurn"));
        assert!(alerts.contains("InferenceTtftSloSlowBurn"));
    }
    if input.slo.tpot_ms.is_some_and(|t| t >= 10.0) {
        assert!(alerts.contains("InferenceTpotSloFastBurn"));
    }
    let text = file(files, "prometheus-rules.yaml");
    assert_eq!(
        text.contains("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL"),
        input.neuron.is_none()
    );
    assert!(text.contains(&format!("model_name=\"{}\"", input.served_model_name)));
}

/// Parentheses, brackets and braces nest (outside string literals).
fn balanced(expr: &str) -> bool {
    let mut stack = Vec::new();
    let mut quote: Option<char> = None;
    for c in expr.chars() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '`' | '\'' => quote = Some(c),
            '(' | '[' | '{' => stack.push(c),
            ')' | ']' | '}' => {
                let open = stack.pop();
                let want = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                if open != Some(want) {
                    return false;
                }
            }
            _ => {}
        }
    }
    stack.is_empty() && quote.is_none()
}

fn write_dir(dir: &Path, files: &[(String, String)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

/// The pod templates of a LeaderWorkerSet wrapped in `apps/v1` Deployments, so that
/// kubernetes-validate checks them against the core schemas (it has none for the CRD).
fn pod_templates(files: &[(String, String)]) -> Vec<(String, String)> {
    if !files.iter().any(|(n, _)| n == "leaderworkerset.yaml") {
        return Vec::new();
    }
    let lws = doc(files, "leaderworkerset.yaml");
    ["leader", "worker"]
        .iter()
        .zip(templates(files))
        .map(|(role, template)| {
            let wrapper = json!({
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": format!("{}-{role}", s(&lws["metadata"]["name"]))},
                "spec": {
                    "selector": {"matchLabels": {"role": role}},
                    "template": "TEMPLATE",
                },
            });
            let mut y = render::yaml::to_yaml(&wrapper);
            if let Yaml::Hash(h) = &mut y {
                if let Some(Yaml::Hash(spec)) = h.get_mut(&Yaml::String("spec".into())) {
                    spec.insert(Yaml::String("template".into()), template);
                }
            }
            (format!("{role}.yaml"), render::yaml::emit(&y))
        })
        .collect()
}

fn check_dir() -> PathBuf {
    std::env::var_os("INFERPLAN_RENDER_CHECK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target").join("render-check"))
}

/// Every example (and a multi-node replica) renders, passes the structural checks, and is
/// written for `.ci/run`'s validators.
#[test]
fn every_example_renders_and_is_written_for_the_validators() {
    let out = check_dir();
    if out.exists() {
        std::fs::remove_dir_all(&out).unwrap();
    }
    let mut cases: Vec<(String, Value)> = examples()
        .into_iter()
        .map(|e| {
            let p = plan_json(&example(&e));
            (e, p)
        })
        .collect();
    cases.push((
        crate::trtllm::CASE.to_owned(),
        plan_json(&crate::trtllm::chat_trtllm()),
    ));
    cases.push((
        crate::tgi::CASE.to_owned(),
        plan_json(&crate::tgi::chat_tgi()),
    ));
    cases.push((
        crate::lmdeploy::CASE.to_owned(),
        plan_json(&crate::lmdeploy::chat_lmdeploy()),
    ));
    cases.push((
        "llama-405b-multinode".to_owned(),
        plan_json(&multi_node_workload()),
    ));
    assert!(cases.len() >= 7, "{} cases", cases.len());
    for (name, p) in &cases {
        // What `inferplan render` renders by default: the plan's #1, on a GPU or a Neuron chip.
        let first = *renderable(p).first().expect("a renderable candidate");
        assert_eq!(first, 1, "{name}: #1 renders");
        let input = from_json(p, first).unwrap();
        let files = render::render(&input);
        check_structure(&input, &files);
        write_dir(&out.join(name), &files);
        write_dir(
            &out.join(name).join("pod-templates"),
            &pod_templates(&files),
        );
        // The ScaledObject variant on CloudWatch (`--monitoring cloudwatch`), for its CRD.
        write_dir(
            &out.join(name),
            &[(
                "keda-scaledobject-cloudwatch.yaml".to_owned(),
                render::yaml::document(&render::keda::scaled_object_cloudwatch(&input)),
            )],
        );
        // And the first vLLM and SGLang candidates when #1 runs another engine.
        for (engine, suffix) in [
            (inferplan_perf::Engine::Vllm, "vllm"),
            (inferplan_perf::Engine::Sglang, "sglang"),
        ] {
            if let Some(&n) = of_engine(p, engine).first().filter(|n| **n != 1) {
                let input = from_json(p, n).unwrap();
                let files = render::render(&input);
                check_structure(&input, &files);
                let dir = out.join(format!("{name}-{suffix}"));
                write_dir(&dir, &files);
                write_dir(&dir.join("pod-templates"), &pod_templates(&files));
            }
        }
    }
    let multi = from_json(&cases.last().unwrap().1, 1).unwrap();
    assert!(multi.nodes_per_replica > 1, "the 405B case spans nodes");
    assert!(out
        .join("llama-405b-multinode/leaderworkerset.yaml")
        .exists());
    // The diffusion examples' queue workers (`.ci/run` checks `diffusion/*/`).
    crate::diffusion::write_for_validators(&out);
    // The SageMaker templates (`.ci/run` checks `cloudformation/*.yaml` with cfn-lint).
    let cfn = out.join(crate::sagemaker::CHECK_SUBDIR);
    std::fs::create_dir_all(&cfn).unwrap();
    for (name, text) in crate::sagemaker::templates_for_ci()
        .into_iter()
        .chain(crate::cloudwatch::templates_for_ci())
    {
        std::fs::write(cfn.join(format!("{name}.yaml")), text).unwrap();
    }
}

/// Rendering is a pure function of its input.
#[test]
fn rendering_is_deterministic() {
    let p = plan_json(&example("chat-70b-fp8"));
    let n = vllm(&p)[0];
    let a = render::render(&from_json(&p, n).unwrap());
    let b = render::render(&from_json(&p, n).unwrap());
    assert_eq!(a, b);
    let p2 = plan_json(&example("chat-70b-fp8"));
    assert_eq!(p, p2, "the plan itself is deterministic");
}

/// Candidate numbers are 1-based; a candidate on another engine names the vLLM ones.
#[test]
fn candidate_errors_say_what_to_do() {
    let p = plan_json(&example("chat-70b-fp8"));
    let count = p["candidates"].as_array().unwrap().len();
    assert!(matches!(
        from_json(&p, 0),
        Err(RenderError::NoSuchCandidate { candidate: 0, .. })
    ));
    assert!(matches!(
        from_json(&p, count + 1),
        Err(RenderError::NoSuchCandidate { .. })
    ));
    // A candidate on an engine render does not write names the ones it does.
    let mut q = p.clone();
    q["candidates"][0]["engine"] = json!("neuron");
    let err = from_json(&q, 1).unwrap_err();
    let msg = err.to_string();
    match err {
        RenderError::UnsupportedEngine { alternatives, .. } => {
            assert_eq!(alternatives, renderable(&q));
            assert!(!alternatives.contains(&1));
            assert!(msg.contains("--candidate"), "{msg}");
        }
        other => panic!("{other}"),
    }
    let err = from_json(&json!({"candidates": []}), 1).unwrap_err();
    assert!(err.to_string().contains("workload"), "{err}");
    // A diffusion plan says what it is, not which field of an LLM workload it lacks.
    let err = from_json(&json!({"workload": {"job": {}}, "job": {}}), 1).unwrap_err();
    assert!(err.to_string().contains("diffusion"), "{err}");
}

/// Replica counts beyond Kubernetes' int32 and layouts whose GPU or instance counts overflow
/// are one-line errors naming the field, never manifests (nor a panic on overflow).
#[test]
fn counts_kubernetes_cannot_hold_are_errors() {
    let p = plan_json(&example("chat-70b-fp8"));
    let n = *vllm(&p).first().unwrap();
    let with = |key: &str, v: u64| {
        let mut q = p.clone();
        q["candidates"][n - 1][key] = json!(v);
        from_json(&q, n)
    };
    let e = with("replicas", 3_000_000_000).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "candidates[{}].replicas: 3000000000 is above 2147483647, the largest replica count \
             Kubernetes accepts (replica fields are int32); nothing was written",
            n - 1
        )
    );
    let e = with("replicas_per_instance", 2_147_483_648)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("replicas_per_instance: 2147483648 is above"),
        "{e}"
    );
    // The largest count Kubernetes takes still renders.
    let input = with("replicas", 2_147_483_647).unwrap();
    let keda = render::render(&input)
        .into_iter()
        .find(|(name, _)| name == "keda-scaledobject.yaml")
        .map(|(_, text)| text)
        .unwrap();
    assert!(keda.contains("maxReplicaCount: 2147483647"), "{keda}");
    let mut q = p.clone();
    q["candidates"][n - 1]["tp"] = json!(65_536);
    q["candidates"][n - 1]["pp"] = json!(65_536);
    let e = from_json(&q, n).unwrap_err().to_string();
    assert!(
        e.contains("].pp: TP 65536 × PP 65536 is too many GPUs"),
        "{e}"
    );
    let mut q = p.clone();
    q["candidates"][n - 1]["pp"] = json!(4_000_000_000u32);
    let e = from_json(&q, n).unwrap_err().to_string();
    assert!(e.contains("].pp: "), "{e}");
}

pub(crate) fn engine_args(files: &[(String, String)]) -> Vec<String> {
    let d = doc(files, "deployment.yaml");
    list(&d["spec"]["template"]["spec"]["containers"][0]["args"])
        .iter()
        .map(|a| s(a).to_owned())
        .collect()
}

/// The checkpoint the engine serves: its `--served-model-name`, which is also the directory
/// (or S3 prefix) it reads.
fn model_id(files: &[(String, String)]) -> String {
    let t = &templates(files)[0];
    let c = &list(&t["spec"]["containers"])[0];
    let args: Vec<&str> = list(&c["args"]).iter().map(s).collect();
    let joined = args.join(" ");
    let at = joined
        .find("--served-model-name ")
        .expect("--served-model-name");
    let id = joined[at + "--served-model-name ".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    assert!(
        joined.contains(&format!("/{id} ")),
        "the engine reads {id}: {joined}"
    );
    id
}

/// Room the node cache keeps for the checkpoint (or the FSx claim's size), bytes.
fn models_volume_bytes(input: &RenderInput) -> f64 {
    render::pod::models_volume_gib(input) as f64 * (1u64 << 30) as f64
}

/// A pre-quantized checkpoint is served as it is; FP8 from a 16-bit checkpoint asks vLLM to
/// quantize at load, and the cache holds the 16-bit download; INT4 serves an AWQ/GPTQ one.
#[test]
fn quantization_flags_follow_the_precision() {
    let p = plan_json(&example("chat-70b-fp8"));
    let input = first_vllm(&p);
    let files = render::render(&input);
    assert!(!engine_args(&files).iter().any(|a| a == "--quantization"));
    assert_eq!(
        model_id(&files),
        "RedHatAI/Llama-3.3-70B-Instruct-FP8-dynamic"
    );

    // Llama 2 13B has no FP8 checkpoint in the catalog: vLLM quantizes the 16-bit chat one.
    let p = plan_json(&example("single-gpu-13b-fp8"));
    let input = first_vllm(&p);
    let files = render::render(&input);
    let args = engine_args(&files);
    let at = args.iter().position(|a| a == "--quantization").unwrap();
    assert_eq!(args[at + 1], "fp8");
    assert_eq!(model_id(&files), "meta-llama/Llama-2-13b-chat-hf");
    // The cache holds the 16-bit download, not the FP8 weights.
    assert!(models_volume_bytes(&input) >= 2.0 * input.weights_gib * (1u64 << 30) as f64);

    let p = plan_json(&example("async-documents"));
    let int4 = p["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .position(|x| x["precision"] == "int4");
    if let Some(n) = int4 {
        let input = from_json(&p, n + 1).unwrap();
        assert!(!input.notes.iter().any(|n| n.contains("replace it")));
        let files = render::render(&input);
        assert!(!file(&files, "deployment.yaml").contains("--quantization"));
        assert_eq!(model_id(&files), "Qwen/Qwen2.5-32B-Instruct-AWQ");
    }
}

/// Issue 14 (7): for every vLLM and SGLang candidate of every example, the engine serves the
/// plan's checkpoint and the node cache keeps room for its download with a margin (its
/// location is checked by `check_weights`). Chat workloads are served a checkpoint with a chat
/// template.
#[test]
fn every_example_caches_its_whole_download() {
    let mut cases: Vec<(String, Value)> = examples()
        .into_iter()
        .map(|e| {
            let p = plan_json(&example(&e));
            (e, p)
        })
        .collect();
    cases.push((
        "llama-405b-multinode".to_owned(),
        plan_json(&multi_node_workload()),
    ));
    let mut checked = 0;
    for (name, p) in &cases {
        let chat = p["workload"]["slo"]["mode"] == "interactive";
        for n in renderable(p) {
            let input = from_json(p, n).unwrap();
            let files = render::render(&input);
            let ck = &p["candidates"][n - 1]["checkpoint"];
            let download = input.download_bytes as f64;
            if !ck.is_null() {
                assert_eq!(ck["download_bytes"].as_f64(), Some(download), "{name} #{n}");
                assert_eq!(
                    model_id(&files),
                    ck["hf_id"].as_str().unwrap(),
                    "{name} #{n}"
                );
                if chat {
                    assert_eq!(ck["chat_template"], "yes", "{name} #{n}");
                }
                if ck["online_fp8"] == true {
                    // A 16-bit download, larger than the FP8 weights it becomes (embeddings and
                    // head stay 16-bit, so not quite twice).
                    assert!(
                        matches!(ck["format"].as_str(), Some("bf16" | "fp16")),
                        "{name} #{n}"
                    );
                    assert!(
                        download >= 1.5 * input.weights_gib * (1u64 << 30) as f64,
                        "{name} #{n}: {download} bytes downloaded for {} GiB of weights ({:?})",
                        input.weights_gib,
                        input.engine
                    );
                }
            }
            let cache = models_volume_bytes(&input);
            let margin = 1.1 * download + 4.0 * (1u64 << 30) as f64;
            assert!(
                cache >= margin,
                "{name} candidate {n}: models volume {cache} bytes < download {download} + margin"
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked} candidates checked");
}

const SNAPSHOT_EXAMPLE: &str = "chat-70b-fp8";

fn snapshot_dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots/render")
        .join(case)
}

/// The messages of the warnings and errors `lint` finds in the rendered manifests (the YAML
/// files but the alert rules, which are not Kubernetes objects).
pub(crate) fn lint_warnings(files: &[(String, String)]) -> Vec<String> {
    let manifests: Vec<(String, String)> = files
        .iter()
        .filter(|(n, _)| n.ends_with(".yaml") && n != "prometheus-rules.yaml")
        .cloned()
        .collect();
    inferplan_deploy::lint::lint(&manifests, catalog())
        .unwrap()
        .into_iter()
        .filter(|f| f.severity >= inferplan_plan::diagnostic::Severity::Warning)
        .map(|f| f.message)
        .collect()
}

/// Compares every rendered file with its snapshot, naming all that differ.
pub(crate) fn assert_snapshots(case: &str, files: &[(String, String)]) {
    let dir = snapshot_dir(case);
    let mismatched: Vec<String> = files
        .iter()
        .filter_map(|(name, text)| snapshot_mismatch(&dir.join(name), text))
        .collect();
    assert!(
        mismatched.is_empty(),
        "rendered files differ from the snapshots:\n{}",
        mismatched.join("\n")
    );
}

/// The plan a snapshot is rendered from is stored beside it, so that the snapshots change
/// when rendering changes, not when the planner's numbers move. `UPDATE_SNAPSHOTS=1` plans
/// it again.
pub(crate) fn stored_plan(case: &str, make: impl FnOnce() -> Value) -> Value {
    let path = snapshot_dir(case).join("plan.json");
    if updating() {
        let p = make();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, serde_json::to_string_pretty(&p).unwrap() + "\n").unwrap();
        return p;
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_SNAPSHOTS=1 to write it",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap()
}

/// Every file rendered for the first SGLang option of `examples/chat-70b-fp8.toml` (weights
/// pre-pulled into the nodes' NVMe cache); the other snapshots render vLLM, TensorRT-LLM, TGI,
/// LMDeploy and the Neuron backend.
#[test]
fn snapshot_of_one_example() {
    let p = stored_plan(SNAPSHOT_EXAMPLE, || plan_json(&example(SNAPSHOT_EXAMPLE)));
    let n = *of_engine(&p, inferplan_perf::Engine::Sglang)
        .first()
        .expect("chat has an SGLang option");
    let input = from_json(&p, n).unwrap();
    let files = render::render(&input);
    check_structure(&input, &files);
    assert_snapshots(SNAPSHOT_EXAMPLE, &files);
}

/// The LeaderWorkerSet of a replica that spans two nodes.
#[test]
fn snapshot_of_a_multi_node_replica() {
    let case = "llama-405b-multinode";
    let p = stored_plan(case, || plan_json(&multi_node_workload()));
    let input = first_vllm(&p);
    assert!(input.nodes_per_replica > 1);
    let files = render::render(&input);
    check_structure(&input, &files);
    let lws: Vec<(String, String)> = files
        .into_iter()
        .filter(|(n, _)| {
            ["leaderworkerset.yaml", "ec2nodeclass.yaml", "README.md"].contains(&n.as_str())
        })
        .collect();
    assert_snapshots(case, &lws);
}

/// The batch job of `examples/batch-summaries.toml` as rendered (#1, vLLM's Neuron backend on
/// inf2.xlarge): the ScaledObject with its `cron` run, the Deployment it scales from zero, the
/// README that tells the batch client when to submit.
#[test]
fn snapshot_of_a_batch_job() {
    let case = "batch-summaries";
    let p = stored_plan(case, || plan_json(&example(case)));
    let input = from_json(&p, 1).unwrap();
    assert!(input.run.is_some());
    let files = render::render(&input);
    check_structure(&input, &files);
    let shown: Vec<(String, String)> = files
        .into_iter()
        .filter(|(n, _)| {
            ["keda-scaledobject.yaml", "deployment.yaml", "README.md"].contains(&n.as_str())
        })
        .collect();
    assert_eq!(shown.len(), 3);
    assert_snapshots(case, &shown);
}

/// A workload the plan puts on spot (async and batch work) says that its pods tolerate
/// interruption, with a reason, and IL108 does not fire on it; the others do not say so.
#[test]
fn spot_workloads_say_they_tolerate_interruption() {
    let key = inferplan_deploy::render::k8s::INTERRUPTION_TOLERANT;
    let mut spot = 0;
    for e in examples() {
        let p = plan_json(&example(&e));
        let input = from_json(&p, renderable(&p)[0]).unwrap();
        let files = render::render(&input);
        let workload = if input.nodes_per_replica > 1 {
            "leaderworkerset.yaml"
        } else {
            "deployment.yaml"
        };
        let d = doc(&files, workload);
        let on_spot = input.capacity_types().contains(&"spot");
        assert_eq!(
            d["metadata"]["annotations"][key].as_str() == Some("true"),
            on_spot,
            "{e}"
        );
        if !on_spot {
            continue;
        }
        spot += 1;
        assert_ne!(
            input.slo.mode,
            inferplan_plan::workload::Mode::Interactive,
            "{e}"
        );
        let reason = &d["metadata"]["annotations"]
            [inferplan_deploy::render::k8s::INTERRUPTION_TOLERANT_REASON];
        assert!(s(reason).contains("retried"), "{e}");
        let manifests: Vec<(String, String)> = files
            .into_iter()
            .filter(|(n, _)| n.ends_with(".yaml") && n != "prometheus-rules.yaml")
            .collect();
        let findings = inferplan_deploy::lint::lint(&manifests, catalog()).unwrap();
        assert!(findings.iter().all(|f| f.code != "IL108"), "{e}");
    }
    assert!(spot >= 2, "async-documents and batch-summaries run on spot");
}

/// The rendered manifests of every example pass `inferplan lint` without errors.
#[test]
fn rendered_manifests_pass_lint() {
    let mut cases: Vec<Value> = examples().iter().map(|e| plan_json(&example(e))).collect();
    cases.push(plan_json(&multi_node_workload()));
    for p in &cases {
        let input = from_json(p, renderable(p)[0]).unwrap();
        let manifests: Vec<(String, String)> = render::render(&input)
            .into_iter()
            .filter(|(n, _)| n.ends_with(".yaml") && n != "prometheus-rules.yaml")
            .collect();
        let findings = inferplan_deploy::lint::lint(&manifests, catalog()).unwrap();
        let shown: Vec<String> = findings
            .iter()
            .map(|f| {
                format!(
                    "{:?} {} {}:{} {}",
                    f.severity, f.code, f.location.file, f.location.line, f.message
                )
            })
            .collect();
        assert!(
            !inferplan_deploy::lint::has_errors(&findings),
            "{}: lint errors:\n{}",
            input.name,
            shown.join("\n")
        );
    }
}

/// The ScaledObject `render` writes for deadline work carries the targets the plan bills and
/// `plan --verify`'s day simulates (`autoscaling::of_candidate`): the same minimum (billed
/// every hour), maximum, thresholds and the scale-up window of a request's queue slack; the
/// plan bills the minimum's instances all day.
#[test]
fn the_async_scaled_object_is_what_the_plan_bills() {
    use inferplan_deploy::render::keda;
    use inferplan_plan::autoscaling::of_candidate;
    let w = Workload::load(&crate::support::example("async-documents.toml")).unwrap();
    let p = plan(&inputs(), &w).unwrap();
    let value = serde_json::to_value(PlanJson::new(&p, 5)).unwrap();
    let json = read_plan(&value).unwrap();
    let mut checked = 0;
    for n in renderable_candidates(&json, catalog()) {
        // `n` is the option's number, as `inferplan plan` shows it.
        let j = json.candidates.iter().find(|j| j.rank == n).unwrap();
        let c = p
            .candidates
            .iter()
            .find(|c| {
                (c.platform, &c.instance, c.tp, c.pp, c.precision, c.engine)
                    == (j.platform, &j.instance, j.tp, j.pp, j.precision, j.engine)
                    && c.usd_per_hour.to_bits() == j.usd_per_hour.to_bits()
            })
            .unwrap();
        let input = from_plan(&json, n, catalog()).unwrap();
        let so = keda::scaled_object(&input);
        let t = of_candidate(&w, c);
        assert_eq!(
            (so.spec.min_replica_count, so.spec.max_replica_count),
            (t.min, t.max),
            "{}",
            c.instance
        );
        let up = &so
            .spec
            .advanced
            .horizontal_pod_autoscaler_config
            .behavior
            .scale_up;
        assert_eq!(up.stabilization_window_seconds, t.scale_up_window_s);
        assert!(t.scale_up_window_s > 0 && t.scale_up_window_s <= 600);
        let instances = t.min.div_ceil(c.replicas_per_instance.max(1)) * c.pp.max(1);
        assert!(f64::from(instances) * 24.0 <= c.purchase_mix.billed_instance_hours_per_day + 1e-6);
        checked += 1;
    }
    assert!(checked >= 2, "{checked}");
}

/// The minute of the day of a daily KEDA `cron` expression, `M H * * *`.
fn cron_minute(expr: &str) -> u32 {
    let f: Vec<u32> = expr
        .split(' ')
        .take(2)
        .map(|x| x.parse().unwrap())
        .collect();
    assert!(expr.ends_with(" * * *"), "{expr}");
    f[1] * 60 + f[0]
}

/// Every batch example's ScaledObject holds the job the plan bills: a `cron` trigger from the
/// window's opening (UTC) for the hours each instance is billed, rounded up to the minute and
/// within the window, asking for the job's replicas; none outside it (`minReplicaCount: 0`);
/// the load triggers beside it; the scale-up step asks for all of them at once; and lint finds
/// nothing to warn of. Checked for every option render writes, from the plan JSON as `render
/// --plan` reads it.
#[test]
fn the_batch_cron_window_is_the_planned_window() {
    use inferplan_deploy::render::keda;
    let mut checked = 0;
    for name in examples() {
        let w = example(&name);
        if w.slo.mode != inferplan_plan::workload::Mode::Batch {
            continue;
        }
        let value = plan_json(&w);
        let json = read_plan(&value).unwrap();
        for n in renderable_candidates(&json, catalog()).into_iter().take(3) {
            let j = json.candidates.iter().find(|j| j.rank == n).unwrap();
            let job = j.purchase_mix.batch_job.as_ref().unwrap();
            let input = from_plan(&json, n, catalog()).unwrap();
            let so = keda::scaled_object(&input);
            assert_eq!(so.spec.min_replica_count, 0, "{name} #{n}");
            assert_eq!(so.spec.max_replica_count, job.units, "{name} #{n}");
            let cron: Vec<_> = so
                .spec
                .triggers
                .iter()
                .filter(|t| t.kind == "cron")
                .collect();
            assert_eq!(cron.len(), 1, "{name} #{n}");
            let m = |k: &str| cron[0].metadata[k].clone();
            assert_eq!(m("timezone"), "Etc/UTC");
            assert_eq!(m("desiredReplicas"), job.units.to_string());
            let (start, end) = (cron_minute(&m("start")), cron_minute(&m("end")));
            assert_eq!(start, job.window_start_utc * 60, "{name} #{n}");
            let minutes = (end + 1440 - start) % 1440;
            assert_eq!(
                f64::from(minutes),
                (job.run_hours * 60.0 - 1e-6).ceil(),
                "{name} #{n}: the hours billed"
            );
            assert!(f64::from(minutes) <= job.window_hours * 60.0);
            assert!(job.finish_p99_hours <= job.window_hours + 1e-9);
            assert!(so.spec.triggers.iter().any(|t| t.name == "in-flight"));
            let up = &so
                .spec
                .advanced
                .horizontal_pod_autoscaler_config
                .behavior
                .scale_up;
            assert!(up.policies[0].value >= job.units, "{up:?}");
            let files = render::render(&input);
            let warnings = lint_warnings(&files);
            assert!(warnings.is_empty(), "{name} #{n}: {warnings:?}");
            checked += 1;
        }
    }
    assert!(checked >= 1, "{checked}");
}

/// Every interactive example's ScaledObject keeps, hour by hour, the replicas the plan bills:
/// its `cron` floors (UTC, `M H * * *`, one per block of hours with the same replicas, none
/// at or below `minReplicaCount`) give each hour the plan's hourly replicas (the SLO's with
/// the N+1 spares, or the in-flight target's at 80 % when more) in whole instances, at least
/// the minimum and at most the maximum; the instances they keep all day are at most the
/// instance-hours the plan bills. Checked on the options render writes from the plan JSON.
#[test]
fn the_hourly_floor_is_the_billed_replicas() {
    use inferplan_deploy::render::keda;
    use inferplan_plan::cost::Sizing;
    let mut with_floors = 0;
    for name in examples() {
        let w = example(&name);
        if w.slo.mode != inferplan_plan::workload::Mode::Interactive {
            continue;
        }
        let value = plan_json(&w);
        let json = read_plan(&value).unwrap();
        for n in renderable_candidates(&json, catalog()).into_iter().take(3) {
            let j = json.candidates.iter().find(|j| j.rank == n).unwrap();
            let input = from_plan(&json, n, catalog()).unwrap();
            let so = keda::scaled_object(&input);
            let (min, max) = (so.spec.min_replica_count, so.spec.max_replica_count);
            let mut floor = [min; 24];
            for t in so.spec.triggers.iter().filter(|t| t.kind == "cron") {
                assert_eq!(t.metadata["timezone"], "Etc/UTC");
                let (start, end) = (
                    cron_minute(&t.metadata["start"]),
                    cron_minute(&t.metadata["end"]),
                );
                assert_eq!((start % 60, end % 60), (0, 0), "{name} #{n}: on the hour");
                assert_ne!(start, end);
                let replicas: u32 = t.metadata["desiredReplicas"].parse().unwrap();
                assert!(replicas > min && replicas <= max, "{name} #{n}: {t:?}");
                let mut h = start / 60;
                while h != end / 60 {
                    assert_eq!(floor[h as usize], min, "{name} #{n}: hour {h} twice");
                    floor[h as usize] = replicas;
                    h = (h + 1) % 24;
                }
            }
            let per = input.replicas_per_instance.max(1);
            let spare = if w.constraints.redundancy { per } else { 0 };
            let hourly = Sizing::of(&w).hourly_replicas(j.max_rps_per_replica, spare, &w);
            for h in 0..24 {
                let billed = hourly[h].div_ceil(per).saturating_mul(per).min(max);
                assert_eq!(floor[h], billed.max(min), "{name} #{n}: hour {h}");
            }
            let kept: f64 = floor
                .iter()
                .map(|&r| f64::from(r.div_ceil(per) * input.nodes_per_replica.max(1)))
                .sum();
            let billed = j.purchase_mix.billed_instance_hours_per_day;
            assert!(
                kept <= billed + 1e-6,
                "{name} #{n}: {kept} kept, {billed} billed"
            );
            with_floors += usize::from(!input.floors.is_empty());
        }
    }
    assert!(
        with_floors >= 1,
        "no interactive example has an hourly floor"
    );
}
