//! Issue 14 (5): a plan whose #1 runs on an AWS Neuron chip (inf2, trn1, trn2) renders it with
//! vLLM's Neuron backend: the Neuron DLC, `aws.amazon.com/neuron` devices, NeuronCores as the
//! tensor-parallel degree, graphs compiled for the plan's batch and sequence length, the
//! compiled-artifacts cache, and a startup probe that allows compiling.

use inferplan_deploy::render::{self, neuron, RenderInput};
use inferplan_plan::workload::Length;

use crate::render::{
    assert_snapshots, check_structure, doc, engine_args, example, from_json, lint_warnings, list,
    plan_json, s, stored_plan,
};
use crate::support::catalog;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// The value after `flag` in the engine's arguments.
fn value(args: &[String], flag: &str) -> Option<String> {
    let at = args.iter().position(|a| a == flag)?;
    args.get(at + 1).cloned()
}

fn env(files: &[(String, String)], name: &str) -> Option<String> {
    let d = doc(files, "deployment.yaml");
    list(&d["spec"]["template"]["spec"]["containers"][0]["env"])
        .iter()
        .find(|e| s(&e["name"]) == name)
        .map(|e| s(&e["value"]).to_owned())
}

/// The rendered pieces agree with each other and with the plan, for every example whose #1
/// runs on a Neuron chip.
#[test]
fn neuron_candidates_render_with_the_neuron_backend() {
    let mut checked = 0;
    for name in [
        "inf2-vs-gpu-8b",
        "single-gpu-13b-fp8",
        "batch-summaries",
        "gdpr-eu-west-1",
    ] {
        let w = example(name);
        let planned = inferplan_plan::search::plan(&crate::planner::inputs(), &w).unwrap();
        let p = serde_json::to_value(inferplan_plan::contract::PlanJson::new(
            &planned,
            usize::MAX,
        ))
        .unwrap();
        let input = from_json(&p, 1).unwrap();
        let setup = input
            .neuron
            .clone()
            .unwrap_or_else(|| panic!("{name}: #1 is not on a Neuron chip"));
        assert_eq!(input.engine, inferplan_perf::Engine::Neuron, "{name}");
        let files = render::render(&input);
        check_structure(&input, &files);
        let args = engine_args(&files);
        let d = doc(&files, "deployment.yaml");
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(s(&c["image"]), neuron::IMAGE, "{name}");
        // Devices are chips; the tensor-parallel degree counts their NeuronCores.
        let devices: u32 = s(&c["resources"]["limits"][neuron::RESOURCE])
            .parse()
            .unwrap();
        assert_eq!(devices, input.tp, "{name}: one device per planned chip");
        let gpu = catalog().gpu(&input.gpu).unwrap();
        let per_chip = neuron::logical_cores_per_chip(gpu).unwrap();
        assert_eq!(
            value(&args, "--tensor-parallel-size"),
            Some((devices * per_chip).to_string()),
            "{name}"
        );
        // One compiled batch end to end: the plan chose it for the SLOs and wrote it, render
        // compiles it, and the replica `plan --verify` simulates pads every decode step to it
        // (`inferplan_perf::neuron::Shapes::decode`).
        let seqs = value(&args, "--max-num-seqs").unwrap();
        let best = &planned.candidates[0];
        assert_eq!(
            best.max_num_seqs.map(|n| n.to_string()),
            Some(seqs.clone()),
            "{name}"
        );
        let (replica, _) =
            inferplan_plan::search::replica_for(&crate::planner::inputs(), &w, best).unwrap();
        let shapes = replica.neuron_shapes().expect("a Neuron replica");
        assert_eq!(shapes.max_num_seqs.to_string(), seqs, "{name}");
        assert_eq!(shapes.decode(1).0.to_string(), seqs, "{name}: padded");
        assert_eq!(replica.limits().max_num_seqs.to_string(), seqs, "{name}");
        // One contiguous KV block per compiled sequence.
        let seqs = value(&args, "--max-num-seqs").unwrap();
        assert_eq!(
            value(&args, neuron::NUM_BLOCKS_OVERRIDE),
            Some(seqs.clone())
        );
        assert!(args.iter().any(|a| a == neuron::NO_PREFIX_CACHING));
        assert!(!args
            .iter()
            .any(|a| a == "--quantization" || a == "--gpu-memory-utilization"));
        // The compiled length is what the plan sized: the fixed prompt + output, else p99s.
        let len: u64 = value(&args, "--max-model-len").unwrap().parse().unwrap();
        if let (Length::Fixed(i), Length::Fixed(o)) =
            (&w.lengths.input_tokens, &w.lengths.output_tokens)
        {
            assert_eq!(len, i + o, "{name}");
        }
        // The compiled batch's KV cache and the weights fit the chips' memory.
        let model = catalog().model(&input.model).unwrap();
        let seqs: f64 = seqs.parse().unwrap();
        let kv_per_token =
            model.kv_bytes_per_token_full(if input.kv_dtype == inferplan_catalog::Dtype::Fp8 {
                1.0
            } else {
                2.0
            });
        let need = seqs * len as f64 * kv_per_token + input.weights_gib * GIB;
        let have = f64::from(input.tp) * input.gpu_memory_gib * GIB;
        assert!(need <= have, "{name}: {need} B > {have} B");
        assert!(seqs >= 1.0);
        // Compiled graphs on the node; FP8 through NxD Inference's own quantization.
        assert_eq!(
            env(&files, neuron::COMPILED_ARTIFACTS_ENV).as_deref(),
            Some(setup.artifacts.as_str())
        );
        let fp8 = input.precision == inferplan_catalog::Dtype::Fp8;
        let cfg = value(&args, neuron::ADDITIONAL_CONFIG);
        assert_eq!(
            cfg.as_ref()
                .is_some_and(|c| c.contains("\"quantized\": true")),
            fp8
        );
        if let Some(cfg) = &cfg {
            let v: serde_json::Value = serde_json::from_str(cfg).unwrap();
            assert!(v["override_neuron_config"].is_object(), "{cfg}");
            assert_eq!(
                env(&files, neuron::SPECIAL_SCALAR_ENV).as_deref(),
                Some("1")
            );
        }
        // The cold start counts compiling on a new node (as the plan's IP105 does), and the
        // startup probe allows it.
        assert_eq!(
            input.cold_start.engine_start_s,
            inferplan_serving::cold_start::ENGINE_COLD_START_S + setup.compile_allowance_s,
            "{name}"
        );
        let probe = &c["startupProbe"];
        let budget =
            probe["periodSeconds"].as_i64().unwrap() * probe["failureThreshold"].as_i64().unwrap();
        assert!(
            budget as f64 >= input.cold_start.in_container_s(),
            "{name}: {budget} s"
        );
        // No NVIDIA pieces: no dcgm counters, no GPU rules, the Neuron taint.
        assert!(!files.iter().any(|(n, _)| n == "dcgm-exporter-counters.csv"));
        let rules = &files
            .iter()
            .find(|(n, _)| n == "prometheus-rules.yaml")
            .unwrap()
            .1;
        assert!(!rules.contains("DCGM_"), "{name}");
        let readme = &files.iter().find(|(n, _)| n == "README.md").unwrap().1;
        assert!(readme.contains("Neuron device plugin") && readme.contains("IP115"));
        // Lint reads it as vLLM on Neuron devices and finds nothing to warn about.
        let warnings = lint_warnings(&files);
        assert!(warnings.is_empty(), "{name}: {warnings:?}");
        checked += 1;
    }
    assert_eq!(checked, 4);
}

/// Lint counts NeuronCores on `aws.amazon.com/neuron` devices: a degree above the devices'
/// cores is an error (IL102), one that matches is not.
#[test]
fn lint_counts_neuron_cores() {
    let input: RenderInput = from_json(&plan_json(&example("inf2-vs-gpu-8b")), 1).unwrap();
    let files = render::render(&input);
    let deployment = &files
        .iter()
        .find(|(n, _)| n == "deployment.yaml")
        .unwrap()
        .1;
    let cores = input.neuron.as_ref().unwrap().cores;
    let lint = |text: String| {
        inferplan_deploy::lint::lint(&[("deployment.yaml".to_owned(), text)], catalog())
            .unwrap()
            .into_iter()
            .filter(|f| f.code == "IL102")
            .map(|f| f.message)
            .collect::<Vec<_>>()
    };
    assert!(lint(deployment.clone()).is_empty());
    let doubled = deployment.replacen(
        &format!("- \"--tensor-parallel-size\"\n            - \"{cores}\""),
        &format!(
            "- \"--tensor-parallel-size\"\n            - \"{}\"",
            cores * 2
        ),
        1,
    );
    assert_ne!(&doubled, deployment, "the degree was replaced");
    let found = lint(doubled);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("NeuronCores"), "{}", found[0]);
}

/// `simulate --deploy` reads a rendered Neuron deployment as the plan's replica: the degree in
/// chips (the engine's NeuronCores ÷ the chip's cores), on the plan's instance.
#[test]
fn a_rendered_neuron_deployment_is_read_as_the_plan_s_replica() {
    let input: RenderInput = from_json(&plan_json(&example("inf2-vs-gpu-8b")), 1).unwrap();
    let files: Vec<(String, String)> = render::render(&input)
        .into_iter()
        .filter(|(n, _)| n.ends_with(".yaml"))
        .collect();
    let params = inferplan_perf::MemoryParams::embedded().unwrap();
    let d = inferplan_deploy::deployed::read(&files, catalog(), &params).unwrap();
    assert_eq!(d.served.tp, input.tp, "chips, not NeuronCores");
    assert_eq!(d.served.pp, 1);
    assert_eq!(d.served.instance.name, input.instance);
    assert_eq!(d.served.max_num_seqs, Some(input.max_num_seqs));
    assert_eq!(d.served.max_model_len, Some(input.max_model_len));
}

/// `--platform sagemaker` writes the CUDA LMI container: it skips a Neuron #1 for the first GPU
/// candidate, and refuses a Neuron candidate asked for by number.
#[test]
fn sagemaker_does_not_put_a_cuda_container_on_a_neuron_instance() {
    use inferplan_deploy::render::{from_plan, read_plan, sagemaker};
    let p = read_plan(&plan_json(&example("inf2-vs-gpu-8b"))).unwrap();
    let n = sagemaker::first_candidate(&p, catalog()).expect("a GPU candidate");
    assert!(
        from_plan(&p, n, catalog()).unwrap().neuron.is_none(),
        "#{n}"
    );
    let neuron = from_plan(&p, 1, catalog()).unwrap();
    let e = sagemaker::Endpoint::of(&neuron).unwrap_err().to_string();
    assert!(e.contains("Neuron"), "{e}");
}

/// Every file rendered for the plan's #1 of `examples/inf2-vs-gpu-8b.toml` (vLLM's Neuron
/// backend on inf2.xlarge).
#[test]
fn snapshot_of_a_neuron_candidate() {
    let case = "inf2-vs-gpu-8b";
    let p = stored_plan(case, || plan_json(&example(case)));
    let input = from_json(&p, 1).unwrap();
    assert!(input.neuron.is_some());
    let files = render::render(&input);
    check_structure(&input, &files);
    assert_snapshots(case, &files);
}
