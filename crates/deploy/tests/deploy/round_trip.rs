//! Round trip (issue 14, item 7): every LLM example, the 405B replica over two nodes of the
//! render tests, the TensorRT-LLM, TGI and LMDeploy plans below, and a generated matrix of
//! workloads (models × GPU families × formats × engines × weights sources) is planned, its plan's
//! first candidate render writes (vLLM or SGLang on GPUs; TensorRT-LLM, TGI or LMDeploy inside
//! one instance; vLLM's Neuron backend on inf2 and trn) rendered, and the rendered manifests are
//! read back to check that the server would start:
//!
//! - the weights cache holds the checkpoint's download with a margin (the download as
//!   `inferplan_serving::checkpoint::download_size` / `derived_size` count it);
//! - the GPU memory at load holds the load peak (`online_fp8_load_peak_bytes` for online FP8,
//!   the weights' share per GPU otherwise);
//! - `--max-model-len` covers the workload's longest request, or the share refused is stated;
//! - the startup probe allows the cold start (`cold_start_s` of the same bytes, source and
//!   instance), and readiness and liveness probes are there;
//! - `lint` reports no warning and no error on the manifests.
//!
//! The checks read what was rendered (YAML), not the renderer's input, so a renderer that writes
//! something other than what it computed fails here.

use inferplan_catalog::Arch;
use inferplan_deploy::render::{self, from_plan, read_plan, renderable_candidates, RenderInput};
use inferplan_deploy::yaml::{self, Node};
use inferplan_plan::contract::PlanJson;
use inferplan_plan::diagnostic::Severity;
use inferplan_plan::search::plan;
use inferplan_plan::workload::Length;
use inferplan_plan::Workload;
use inferplan_serving::checkpoint::{
    derived_size, download_size, online_fp8_load_peak_bytes, ONLINE_FP8_LOAD_FRACTION,
};
use inferplan_serving::new_replica;

use crate::planner::inputs;
use crate::support::catalog;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// A generated workload: one point of the matrix.
fn generated(model: &str, family: &str, precision: &str, engines: &str, source: &str) -> String {
    format!(
        r#"
name = "rt-{slug}"
[model]
name = "{model}"
precision = "{precision}"
engines = [{engines}]
[traffic]
rate_rps = 1.0
[lengths]
input_tokens = 1000
output_tokens = 200
[slo]
ttft_ms = 5000.0
tpot_ms = 150.0
[constraints]
instance_families = ["{family}"]
weights_source = "{source}"
"#,
        slug = format!("{model}-{family}-{precision}-{source}")
            .to_ascii_lowercase()
            .replace([' ', '.'], "-"),
    )
}

/// TensorRT-LLM plans (`trtllm-serve`): one per weights source, over models, GPU families and
/// formats.
fn trtllm_cases() -> Vec<(String, Workload)> {
    [
        ("Llama 3.1 8B", "g6e", "fp8", "s3"),
        ("Qwen2.5 14B", "g6e", "bf16", "fsx"),
        ("Llama 3.3 70B", "p5", "fp8", "nvme"),
        ("Mistral 7B v0.3", "g5", "bf16", "hub"),
    ]
    .into_iter()
    .map(|(m, f, p, s)| {
        let w = Workload::from_toml(&generated(m, f, p, "\"trtllm\"", s), "round-trip").unwrap();
        w.validate().unwrap();
        (format!("{m} on {f}, {p}, [trtllm], {s}"), w)
    })
    .collect()
}

/// Every TensorRT-LLM case plans a TensorRT-LLM #1 and renders it with `trtllm-serve`.
#[test]
fn trtllm_plans_render_their_first_candidate_with_trtllm_serve() {
    for (name, w) in trtllm_cases() {
        let p = plan(&inputs(), &w).unwrap_or_else(|e| panic!("{name}: {e}"));
        let json = serde_json::to_value(PlanJson::new(&p, 5)).unwrap();
        let plan_json = read_plan(&json).unwrap();
        assert_eq!(
            renderable_candidates(&plan_json, catalog()).first(),
            Some(&1),
            "{name}"
        );
        let input = from_plan(&plan_json, 1, catalog()).unwrap();
        assert_eq!(input.engine, inferplan_perf::Engine::Trtllm, "{name}");
        let files = render::render(&input);
        let d = docs(&files);
        let specs = pod_specs(&d);
        let server = &specs[0].at("containers").items()[0];
        assert_eq!(
            arg(server, "--max_seq_len"),
            Some(input.max_model_len.to_string()),
            "{name}"
        );
        assert_eq!(arg(server, "--tp_size"), Some(input.tp.to_string()));
        assert_eq!(
            arg(server, "--extra_llm_api_options").as_deref(),
            Some(render::trtllm::OPTIONS_PATH)
        );
    }
}

/// TGI plans (`text-generation-launcher`): one per weights source, over models, GPU families
/// and formats (FP8 from a 16-bit checkpoint where the catalog has no FP8 one).
fn tgi_cases() -> Vec<(String, Workload)> {
    [
        ("Llama 3.1 8B", "g6e", "fp8", "hub"),
        ("Qwen2.5 14B", "g6e", "bf16", "s3"),
        ("Llama 3.3 70B", "p5", "fp8", "fsx"),
        ("Mistral 7B v0.3", "g5", "bf16", "nvme"),
    ]
    .into_iter()
    .map(|case| engine_case("tgi", case))
    .collect()
}

/// A generated workload of one engine: `(model, GPU family, format, weights source)`, named.
fn engine_case(engine: &str, (m, f, p, s): (&str, &str, &str, &str)) -> (String, Workload) {
    let w = Workload::from_toml(
        &generated(m, f, p, &format!("\"{engine}\""), s),
        "round-trip",
    )
    .unwrap();
    w.validate().unwrap();
    (format!("{m} on {f}, {p}, [{engine}], {s}"), w)
}

/// The plan of `w`, which must rank a candidate of `engine` first and render it: its input
/// and the first container of its server pod, as YAML.
fn first_rendered(name: &str, w: &Workload, engine: inferplan_perf::Engine) -> (RenderInput, Node) {
    let p = plan(&inputs(), w).unwrap_or_else(|e| panic!("{name}: {e}"));
    let json = serde_json::to_value(PlanJson::new(&p, 5)).unwrap();
    let plan_json = read_plan(&json).unwrap();
    assert_eq!(
        renderable_candidates(&plan_json, catalog()).first(),
        Some(&1),
        "{name}"
    );
    let input = from_plan(&plan_json, 1, catalog()).unwrap();
    assert_eq!(input.engine, engine, "{name}");
    let files = render::render(&input);
    let d = docs(&files);
    let specs = pod_specs(&d);
    let server = specs[0].at("containers").items()[0].clone();
    (input, server)
}

/// Every TGI case plans a TGI #1 and renders it with `text-generation-launcher`, with limits
/// TGI's router accepts (prompt < total, prefill budget ≥ prompt).
#[test]
fn tgi_plans_render_their_first_candidate_with_text_generation_launcher() {
    for (name, w) in tgi_cases() {
        let (input, server) = first_rendered(&name, &w, inferplan_perf::Engine::Tgi);
        let server = &server;
        let num = |f: &str| -> u64 {
            arg(server, f)
                .unwrap_or_else(|| panic!("{name}: {f}"))
                .parse()
                .unwrap()
        };
        assert_eq!(num("--max-total-tokens"), input.max_model_len, "{name}");
        assert_eq!(num("--num-shard"), u64::from(input.tp), "{name}");
        assert!(
            num("--max-input-tokens") < num("--max-total-tokens"),
            "{name}"
        );
        assert!(
            num("--max-batch-prefill-tokens") >= num("--max-input-tokens"),
            "{name}"
        );
    }
}

/// LMDeploy plans (`lmdeploy serve api_server`): one per weights source, over models, GPU
/// families, both backends (Mistral runs on the PyTorch engine) and the formats TurboMind
/// loads (AWQ INT4, block-128 FP8, 16-bit).
fn lmdeploy_cases() -> Vec<(String, Workload)> {
    [
        ("Llama 3.1 8B", "g6e", "int4", "hub"),
        ("Qwen2.5 14B", "g6e", "bf16", "s3"),
        ("Qwen3 8B", "p5", "fp8", "fsx"),
        ("Mistral 7B v0.3", "g5", "bf16", "nvme"),
    ]
    .into_iter()
    .map(|case| engine_case("lmdeploy", case))
    .collect()
}

/// Every LMDeploy case plans an LMDeploy #1 and renders it with `lmdeploy serve api_server`
/// on the backend that serves the model, with the checkpoint's format and the plan's limits.
#[test]
fn lmdeploy_plans_render_their_first_candidate_with_lmdeploy_serve() {
    for (name, w) in lmdeploy_cases() {
        let (input, server) = first_rendered(&name, &w, inferplan_perf::Engine::Lmdeploy);
        let server = &server;
        let backend = if name.starts_with("Mistral") {
            "pytorch"
        } else {
            "turbomind"
        };
        assert_eq!(arg(server, "--backend").as_deref(), Some(backend), "{name}");
        assert_eq!(
            arg(server, "--session-len"),
            Some(input.max_model_len.to_string()),
            "{name}"
        );
        assert_eq!(arg(server, "--tp"), Some(input.tp.to_string()), "{name}");
        let format = match input.precision {
            inferplan_catalog::Dtype::Int4 => Some("awq"),
            inferplan_catalog::Dtype::Fp8 => Some("fp8"),
            _ => None,
        };
        assert_eq!(arg(server, "--model-format").as_deref(), format, "{name}");
    }
}

/// The matrix: 4 models × 3 GPU families × 2 formats × 2 engine sets × 3 weights sources, taken
/// with a stride so that every value of every axis appears (deterministic).
fn matrix() -> Vec<(String, Workload)> {
    let models = [
        "Llama 3.1 8B",
        "Qwen2.5 14B",
        "Llama 3.3 70B",
        "Mistral 7B v0.3",
    ];
    let families = ["g6e", "g5", "p5"];
    let precisions = ["bf16", "fp8"];
    let engines = ["\"vllm\"", "\"vllm\", \"sglang\""];
    let sources = ["s3", "nvme", "fsx"];
    let mut out = Vec::new();
    let mut i = 0usize;
    for m in models {
        for f in families {
            for p in precisions {
                for e in engines {
                    for s in sources {
                        i += 1;
                        // 144 points; every third keeps each axis covered. FP8 on g5 (A10G,
                        // Ampere) is left out: a workload that forces it gets FP8 run as
                        // weight-only kernels, which IL110 rightly warns about.
                        if !i.is_multiple_of(3) || (f == "g5" && p == "fp8") {
                            continue;
                        }
                        let text = generated(m, f, p, e, s);
                        let w = Workload::from_toml(&text, "round-trip").unwrap();
                        w.validate().unwrap();
                        out.push((format!("{m} on {f}, {p}, [{e}], {s}"), w));
                    }
                }
            }
        }
    }
    out
}

fn examples() -> Vec<(String, Workload)> {
    crate::support::examples()
        .into_iter()
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            !inferplan_plan::diffusion::is_diffusion(&text)
        })
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, Workload::load(&p).unwrap())
        })
        .collect()
}

/// The rendered documents of every YAML file, parsed with lint's reader.
fn docs(files: &[(String, String)]) -> Vec<yaml::Doc> {
    files
        .iter()
        .filter(|(n, _)| n.ends_with(".yaml"))
        .flat_map(|(n, t)| yaml::parse(t, n).unwrap_or_else(|e| panic!("{n}: {e}")))
        .collect()
}

/// The pod specs of the serving workload (a Deployment's, or a LeaderWorkerSet's leader and
/// worker).
fn pod_specs(docs: &[yaml::Doc]) -> Vec<&Node> {
    let mut out = Vec::new();
    for d in docs {
        let v = &d.value;
        match v.get("kind").and_then(Node::text).as_deref() {
            Some("Deployment") => out.extend(v.path(&["spec", "template", "spec"])),
            Some("LeaderWorkerSet") => {
                for t in ["leaderTemplate", "workerTemplate"] {
                    out.extend(v.path(&["spec", "leaderWorkerTemplate", t, "spec"]));
                }
            }
            _ => {}
        }
    }
    out
}

/// `--flag value` or `--flag=value` among a container's args (also inside a `bash -c`
/// script, as TensorRT-LLM's container runs), with `_` and `-` alike (`--max_seq_len`).
fn arg(container: &Node, flag: &str) -> Option<String> {
    let words: Vec<String> = ["command", "args"]
        .iter()
        .flat_map(|k| container.at(k).items().iter().filter_map(Node::text))
        .flat_map(|t| {
            t.split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<String>>()
        })
        .collect();
    let norm = inferplan_serving::flags::normalise;
    words.iter().enumerate().find_map(|(i, w)| {
        if w.starts_with('-') && norm(w) == norm(flag) {
            words.get(i + 1).cloned()
        } else {
            w.split_once('=')
                .filter(|(f, _)| f.starts_with('-') && norm(f) == norm(flag))
                .map(|(_, v)| v.to_owned())
        }
    })
}

/// Seconds a probe allows before the first restart.
fn budget(probe: &Node) -> f64 {
    let get = |k: &str, d: f64| probe.get(k).and_then(Node::as_f64).unwrap_or(d);
    get("initialDelaySeconds", 0.0) + get("failureThreshold", 3.0) * get("periodSeconds", 10.0)
}

/// The bytes the checkpoint the plan chose downloads, as the serving crate counts them.
fn expected_download(input: &RenderInput) -> u64 {
    let c = catalog();
    let model = c.model(&input.model).unwrap();
    let rows = c.checkpoints(&model.name);
    match rows
        .iter()
        .find(|r| r.hf_id.eq_ignore_ascii_case(&input.checkpoint))
    {
        Some(row) => download_size(row, model).0,
        None => {
            let format = inferplan_catalog::names::split_quantized(&input.checkpoint)
                .1
                .or(model.native_weights)
                .unwrap_or(inferplan_catalog::Dtype::Bf16);
            derived_size(model, format).0
        }
    }
}

/// Everything that keeps the rendered candidate from starting, one line each.
fn problems(name: &str, input: &RenderInput, w: &Workload) -> Vec<String> {
    let files = render::render(input);
    let docs = docs(&files);
    let mut out = Vec::new();
    let mut say = |s: String| out.push(format!("{name}: {s}"));
    let download = expected_download(input) as f64;
    if input.download_bytes as f64 != download {
        say(format!(
            "renders a download of {} bytes, the serving crate counts {download}",
            input.download_bytes
        ));
    }
    let specs = pod_specs(&docs);
    if specs.is_empty() {
        say("no serving workload rendered".to_owned());
    }
    let c = catalog();
    let inst = c.instance(&input.instance).unwrap();
    let nodes = f64::from(input.nodes_per_replica.max(1));
    for (k, spec) in specs.iter().enumerate() {
        let Some(server) = spec.at("containers").items().first() else {
            say("a pod without containers".to_owned());
            continue;
        };
        // 1. The cache holds the download (an emptyDir's sizeLimit; other volumes are lint's).
        for ic in spec.at("initContainers").items() {
            for m in ic.at("volumeMounts").items() {
                let vname = m.get("name").and_then(Node::text).unwrap_or_default();
                let vol = spec
                    .at("volumes")
                    .items()
                    .iter()
                    .find(|v| v.get("name").and_then(Node::text).as_deref() == Some(&vname));
                if let Some(limit) = vol
                    .and_then(|v| v.get("emptyDir"))
                    .and_then(|e| e.get("sizeLimit"))
                    .and_then(Node::as_quantity)
                {
                    let per_node = download / nodes;
                    if limit < 1.05 * per_node {
                        say(format!(
                            "cache `{vname}` is {:.1} GiB, the download {:.1} GiB (+5 %)",
                            limit / GIB,
                            per_node / GIB
                        ));
                    }
                }
            }
        }
        // 2. GPU memory at load.
        let shards = f64::from(input.tp.max(1) * input.pp.max(1));
        let mem = input.gpu_memory_gib * GIB;
        let util = arg(server, "--gpu-memory-utilization")
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.9);
        let online = arg(server, "--quantization").as_deref() == Some("fp8")
            && !input.checkpoint.to_ascii_lowercase().contains("fp8");
        if online {
            let peak = online_fp8_load_peak_bytes("vllm", download as u64, shards as u32).unwrap();
            if peak > mem * ONLINE_FP8_LOAD_FRACTION {
                say(format!(
                    "online FP8 peaks at {:.1} GiB per GPU, above {:.0} % of {:.1} GiB",
                    peak / GIB,
                    ONLINE_FP8_LOAD_FRACTION * 100.0,
                    input.gpu_memory_gib
                ));
            }
        } else {
            // What the devices load: the download, except on Neuron, where NxD Inference
            // quantizes a 16-bit checkpoint on the host before it compiles (the plan's
            // weights reach the NeuronCores).
            let loaded = if input.engine == inferplan_perf::Engine::Neuron {
                input.weights_gib * GIB
            } else {
                download
            };
            if loaded / shards > mem * util {
                say(format!(
                    "the weights take {:.1} GiB per GPU, above {util} of {:.1} GiB",
                    loaded / shards / GIB,
                    input.gpu_memory_gib
                ));
            }
        }
        // 3. max-model-len against the longest request.
        let model = c.model(&input.model).unwrap();
        let ctx = model.max_context.max(1);
        // Whatever the engine calls it (`--max-model-len`, SGLang's `--context-length`).
        let max_len = inferplan_serving::flags::MAX_MODEL_LEN
            .read
            .iter()
            .find_map(|f| arg(server, &format!("--{f}")));
        match max_len.and_then(|v| v.parse::<u64>().ok()) {
            None if spec.at("containers").items().len() == 1 && specs.len() == 1 => {
                say("no --max-model-len".to_owned())
            }
            None => {}
            Some(len) => {
                let longest = match (&w.lengths.input_tokens, &w.lengths.output_tokens) {
                    (Length::Fixed(i), Length::Fixed(o)) => Some(i.saturating_add(*o)),
                    _ => None,
                };
                match longest {
                    Some(l) if len < l.min(ctx) => {
                        say(format!("--max-model-len {len} < longest request {l}"))
                    }
                    None if len < ctx && input.refused_share.is_none() => say(format!(
                        "--max-model-len {len} below the context {ctx} without a refused share"
                    )),
                    _ => {}
                }
            }
        }
        // 4. Probes, on the pod that serves (a LeaderWorkerSet's leader).
        if k > 0 {
            continue;
        }
        if server.get("readinessProbe").is_none() {
            say("no readinessProbe".to_owned());
        }
        if server.get("livenessProbe").is_none() {
            say("no livenessProbe".to_owned());
        }
        // The startup probe starts with the engine container: after the boot and any init
        // container's copy, so it must allow what happens inside it.
        let cs = new_replica(
            &input.weights_source,
            Some(input.engine),
            c.instance_gpu(inst).map_or(Arch::Other, |g| g.arch),
            download / nodes,
            inst,
        );
        match server.get("startupProbe") {
            None => say("no startupProbe".to_owned()),
            Some(p) if budget(p) < cs.in_container_s() => say(format!(
                "startupProbe allows {} s, the engine container needs {:.0} s",
                budget(p),
                cs.in_container_s()
            )),
            _ => {}
        }
    }
    // 5. Lint: no warning, no error.
    let manifests: Vec<(String, String)> = files
        .into_iter()
        .filter(|(n, _)| n.ends_with(".yaml") && n != "prometheus-rules.yaml")
        .collect();
    for f in inferplan_deploy::lint::lint(&manifests, c).unwrap() {
        if f.severity >= Severity::Warning {
            say(format!("lint {} {}: {}", f.code, f.name, f.message));
        }
    }
    out
}

/// The problems of every example and of the generated matrix; at least 20 generated plans
/// render.
fn all_problems() -> (Vec<String>, usize) {
    let mut out = Vec::new();
    let mut generated = 0;
    let cases: Vec<(bool, String, Workload)> = examples()
        .into_iter()
        .chain(trtllm_cases())
        .chain(tgi_cases())
        .chain(lmdeploy_cases())
        .chain([(
            "llama-405b-multinode".to_owned(),
            crate::render::multi_node_workload(),
        )])
        .map(|(n, w)| (false, n, w))
        .chain(matrix().into_iter().map(|(n, w)| (true, n, w)))
        .collect();
    for (is_generated, name, w) in cases {
        let Ok(p) = plan(&inputs(), &w) else {
            continue;
        };
        let json = serde_json::to_value(PlanJson::new(&p, 5)).unwrap();
        let plan_json = read_plan(&json).unwrap();
        let Some(&n) = renderable_candidates(&plan_json, catalog()).first() else {
            continue;
        };
        let input = from_plan(&plan_json, n, catalog()).unwrap();
        out.extend(problems(&name, &input, &w));
        generated += usize::from(is_generated);
    }
    (out, generated)
}

/// What the renderer does not yet get right, each with the issue item that fixes it. The test
/// fails when one of these no longer happens (remove it) or when anything else does.
const KNOWN: &[(&str, &str)] = &[];

#[test]
fn every_rendered_plan_would_start() {
    let (problems, generated) = all_problems();
    assert!(generated >= 20, "only {generated} generated plans rendered");
    let unexpected: Vec<&String> = problems
        .iter()
        .filter(|p| {
            !KNOWN
                .iter()
                .any(|(case, what)| p.starts_with(case) && p.contains(what))
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "{} problems:\n{}",
        unexpected.len(),
        unexpected
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    for (case, what) in KNOWN {
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with(case) && p.contains(what)),
            "{case}: `{what}` no longer happens; remove it from KNOWN"
        );
    }
}

/// Diffusion workers (issue 14, item 5): every diffusion example and a generated set of
/// diffusion workloads (image and video models × weights sources × interactive and async) is
/// planned, its #1 rendered as a queue worker, and the manifests read back:
///
/// - the node cache (instance store or root volume) or the FSx claim holds the pipeline's
///   weights with a margin: the bytes `inferplan_perf::diffusion::memory` counts for the
///   model, job, format and offload written in the worker's environment;
/// - the GPU of the instance the pods select holds the job's peak, and the pod's memory limit
///   holds the weights offloaded to host memory and the process;
/// - the startup probe allows what happens in the container on a cold start
///   (`new_replica`, no engine: a diffusion worker), the liveness probe does not fire before
///   the per-clip timeout, and the grace period lets a worker finish its clip;
/// - `lint` reports no warning and no error.
fn diffusion_problems(
    name: &str,
    input: &inferplan_deploy::render::diffusion::WorkerInput,
) -> Vec<String> {
    use inferplan_perf::diffusion::{diffusion_model, memory, DiffusionJob, Offload};
    let files = inferplan_deploy::render::diffusion::render(input);
    let docs = docs(&files);
    let mut out = Vec::new();
    let mut say = |s: String| out.push(format!("{name}: {s}"));
    let c = catalog();
    let kind = |k: &str| {
        docs.iter()
            .find(|d| d.value.get("kind").and_then(Node::text).as_deref() == Some(k))
            .map(|d| &d.value)
    };
    let Some(spec) = kind("Deployment").and_then(|d| d.path(&["spec", "template", "spec"])) else {
        return vec![format!("{name}: no Deployment")];
    };
    let Some(worker) = spec.at("containers").items().first() else {
        return vec![format!("{name}: no container")];
    };
    let env = |k: &str| -> Option<String> {
        worker
            .at("env")
            .items()
            .iter()
            .find(|e| e.get("name").and_then(Node::text).as_deref() == Some(k))
            .and_then(|e| e.get("value"))
            .and_then(Node::text)
    };
    let num = |k: &str| env(k).and_then(|v| v.parse::<f64>().ok());
    // What the worker runs, as written.
    let Some(m) = env("MODEL_ID").and_then(|id| diffusion_model(&id)) else {
        return vec![format!("{name}: MODEL_ID is not a diffusion catalog model")];
    };
    let precision = env("PRECISION").and_then(|p| p.parse::<inferplan_catalog::Dtype>().ok());
    let offload = match env("OFFLOAD").as_deref() {
        Some("none") => Some(Offload::None),
        Some("model") => Some(Offload::Model),
        Some("sequential") => Some(Offload::Sequential),
        _ => None,
    };
    let (Some(precision), Some(offload)) = (precision, offload) else {
        return vec![format!("{name}: PRECISION or OFFLOAD missing")];
    };
    let job = DiffusionJob {
        width: num("JOB_WIDTH").unwrap_or(0.0) as u64,
        height: num("JOB_HEIGHT").unwrap_or(0.0) as u64,
        frames: num("JOB_FRAMES").unwrap_or(0.0) as u64,
        fps: num("JOB_FPS"),
        steps: num("JOB_STEPS").unwrap_or(0.0) as u64,
        batch: num("JOB_BATCH").unwrap_or(0.0) as u64,
        cfg: env("JOB_CFG").as_deref() == Some("true"),
    };
    let mem = memory(m, &job, precision, offload);
    let download = mem.weights_gib * GIB;
    let Some(inst) = spec
        .path(&["nodeSelector", "node.kubernetes.io/instance-type"])
        .and_then(Node::text)
        .and_then(|i| c.instance(&i).ok())
    else {
        return vec![format!("{name}: no instance type selected")];
    };
    // 1. The weights' room.
    let volume = spec.at("volumes").items().first().cloned();
    match volume.as_ref() {
        Some(v) if v.get("hostPath").is_some() => {
            let path = v
                .path(&["hostPath", "path"])
                .and_then(Node::text)
                .unwrap_or_default();
            let room = if path.starts_with("/mnt/k8s-disks/") {
                inst.local_nvme_gb.unwrap_or(0.0) * 1e9
            } else {
                let root = kind("EC2NodeClass")
                    .and_then(|n| n.path(&["spec", "blockDeviceMappings"]))
                    .and_then(|b| b.items().first().cloned())
                    .and_then(|b| b.path(&["ebs", "volumeSize"]).and_then(Node::as_quantity))
                    .unwrap_or(0.0);
                // 100 GiB of the root volume are the images'.
                root - 100.0 * GIB
            };
            if room < 1.05 * download {
                say(format!(
                    "node cache `{path}` has {:.1} GiB, the weights {:.1} GiB (+5 %)",
                    room / GIB,
                    download / GIB
                ));
            }
        }
        Some(v) if v.get("persistentVolumeClaim").is_some() => {
            let size = kind("PersistentVolumeClaim")
                .and_then(|p| p.path(&["spec", "resources", "requests", "storage"]))
                .and_then(Node::as_quantity)
                .unwrap_or(0.0);
            if size < 1.05 * download {
                say(format!("FSx claim {:.0} GiB < weights", size / GIB));
            }
        }
        _ => say("no weights volume".to_owned()),
    }
    // 2. GPU memory at load and during a job; host memory of an offloading worker.
    let gpu_gib = c
        .instance_gpu(inst)
        .and_then(|g| inst.gpu_mem_gib().or_else(|| g.memory_gib()))
        .unwrap_or(0.0);
    if mem.total_gib > gpu_gib {
        say(format!(
            "a job peaks at {:.1} GiB on a {gpu_gib:.1} GiB GPU",
            mem.total_gib
        ));
    }
    let limit = worker
        .path(&["resources", "limits", "memory"])
        .and_then(Node::as_quantity)
        .unwrap_or(0.0);
    if mem.host_gib() * GIB > limit {
        say(format!(
            "the worker needs {:.1} GiB of host memory ({:.1} GiB offloaded), its limit is {:.1} GiB",
            mem.host_gib(),
            mem.offloaded_gib(),
            limit / GIB
        ));
    }
    // 3. Probes, timeout and grace period.
    let arch = c.instance_gpu(inst).map_or(Arch::Other, |g| g.arch);
    let cs = new_replica(&input.base.weights_source, None, arch, download, inst);
    match worker.get("startupProbe") {
        None => say("no startupProbe".to_owned()),
        Some(p) if budget(p) < cs.in_container_s() => say(format!(
            "startupProbe allows {} s, the worker needs {:.0} s",
            budget(p),
            cs.in_container_s()
        )),
        _ => {}
    }
    if (cs.seconds - input.base.cold_start.seconds).abs() > 1e-6 {
        say(format!(
            "cold start {:.0} s read back, {:.0} s rendered",
            cs.seconds, input.base.cold_start.seconds
        ));
    }
    for p in ["readinessProbe", "livenessProbe"] {
        if worker.get(p).is_none() {
            say(format!("no {p}"));
        }
    }
    let timeout = num("JOB_TIMEOUT_S").unwrap_or(0.0);
    if timeout < input.job_s {
        say(format!(
            "per-clip timeout {timeout} s < the job {:.0} s",
            input.job_s
        ));
    }
    let grace = spec
        .get("terminationGracePeriodSeconds")
        .and_then(Node::as_f64)
        .unwrap_or(30.0);
    if grace < timeout {
        say(format!(
            "grace period {grace} s < per-clip timeout {timeout} s"
        ));
    }
    // 4. Lint.
    let manifests: Vec<(String, String)> = files
        .into_iter()
        .filter(|(n, _)| n.ends_with(".yaml"))
        .collect();
    for f in inferplan_deploy::lint::lint(&manifests, c).unwrap() {
        if f.severity >= Severity::Warning {
            say(format!("lint {} {}: {}", f.code, f.name, f.message));
        }
    }
    out
}

/// A generated diffusion workload.
fn generated_diffusion(model: &str, mode: &str, source: &str) -> String {
    let slo = match mode {
        "async" => "mode = \"async\"\ndeadline_s = 7200",
        _ => "mode = \"interactive\"\nlatency_s = 600",
    };
    format!(
        "name = \"rt-{slug}\"\n[model]\nname = \"{model}\"\nprecision = \"any\"\n\
         [traffic]\njobs_per_day = 500\n[slo]\n{slo}\n[constraints]\nweights_source = \"{source}\"\n",
        slug = format!("{model}-{mode}-{source}")
            .to_ascii_lowercase()
            .replace([' ', '.'], "-"),
    )
}

#[test]
fn every_rendered_diffusion_worker_would_start() {
    use inferplan_deploy::render::diffusion::from_plan;
    use inferplan_perf::diffusion::DiffusionEfficiencies;
    use inferplan_plan::diffusion::{plan_diffusion, DiffusionWorkload};
    let mut cases: Vec<(String, DiffusionWorkload)> = crate::diffusion::examples()
        .into_iter()
        .map(|(n, w, _)| (n, w))
        .collect();
    assert_eq!(cases.len(), 3, "the three diffusion examples");
    let models = [
        "Stable Diffusion XL 1.0 base",
        "Stable Diffusion 3 Medium",
        "Wan2.1 T2V 1.3B",
    ];
    for (i, m) in models.iter().enumerate() {
        for (k, mode) in ["interactive", "async"].iter().enumerate() {
            let source = ["s3", "nvme", "fsx"][(i + k) % 3];
            let text = generated_diffusion(m, mode, source);
            let w = DiffusionWorkload::from_toml(&text, "round-trip").unwrap();
            w.validate().unwrap();
            cases.push((format!("{m}, {mode}, {source}"), w));
        }
    }
    let mut problems = Vec::new();
    let mut rendered = 0;
    for (name, w) in &cases {
        let p = plan_diffusion(catalog(), DiffusionEfficiencies::embedded(), w).unwrap();
        if p.candidates.is_empty() {
            problems.push(format!("{name}: nothing keeps the promise"));
            continue;
        }
        let input = from_plan(&p, 1, catalog(), &crate::diffusion::options(&w.name)).unwrap();
        problems.extend(diffusion_problems(name, &input));
        rendered += 1;
    }
    assert_eq!(rendered, cases.len());
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
