//! Findings: each rule fires on a deployment built to trip it and stays silent on one that
//! does not; codes, names and docs anchors are unique and documented.

use inferplan_catalog::{Arch, Catalog, Dtype, Gpu, Instance, ModelSpec};
use inferplan_perf::Engine;
use inferplan_plan::findings::{self, Context, Rule};
use inferplan_plan::{Candidate, Finding, PurchaseMix, Severity, Workload};
use inferplan_serving::{new_replica, Delivery, WeightsSource};
use std::collections::HashSet;

/// A workload from TOML on top of a minimal one (model and traffic).
fn workload(extra: &str) -> Workload {
    let text =
        format!("[model]\nname = \"Llama 3.1 8B\"\n\n[traffic]\nrate_rps = 10.0\n\n{extra}\n");
    toml::from_str(&text).unwrap_or_else(|e| panic!("workload: {e}\n{text}"))
}

/// A plain candidate: `replicas` replicas of `tp × pp` GPUs on `inst`, all on a savings plan.
fn candidate(inst: &Instance, gpu: &Gpu, tp: u32, pp: u32, replicas: u32) -> Candidate {
    let per_instance = inst.whole_gpus();
    let gpus = tp * pp;
    let rpi = if gpus >= per_instance {
        1
    } else {
        per_instance / gpus
    };
    let nodes = gpus.div_ceil(per_instance);
    let instances = replicas.div_ceil(rpi) * nodes;
    let od = inst.on_demand("us-east-1").unwrap_or(1.0);
    Candidate {
        rank: 0,
        platform: inferplan_plan::workload::Platform::Eks,
        instance: inst.name.clone(),
        family: inst.family.clone(),
        region: "us-east-1".to_owned(),
        gpu: gpu.name.clone(),
        accelerator: gpu.arch,
        gpus_per_instance: per_instance,
        gpus_per_replica: gpus,
        tp,
        pp,
        precision: Dtype::Bf16,
        kv_dtype: Dtype::Bf16,
        engine: Engine::Vllm,
        replicas,
        replicas_per_instance: rpi,
        instances,
        max_rps_per_replica: 2.0,
        ttft_p99_ms: 400.0,
        tpot_p99_ms: 30.0,
        e2e_p99_ms: 6400.0,
        usd_per_hour: od * f64::from(instances),
        usd_per_million_output_tokens: 1.0,
        usd_per_million_total_tokens: 0.2,
        utilization: 0.5,
        purchase_mix: PurchaseMix {
            savings_plan_instances: instances,
            on_demand_instances: 0,
            spot_instances: 0,
            usd_per_hour: od * f64::from(instances),
            all_on_demand_usd_per_hour: od * f64::from(instances),
            saving_pct: 0.0,
            assumptions: Vec::new(),
            ..PurchaseMix::default()
        },
        slo_headroom: 1.2,
        checkpoint: None,
        weights_gib: 15.0,
        findings: Vec::new(),
        sagemaker: None,
        max_num_seqs: None,
    }
}

struct Fixture {
    catalog: &'static Catalog,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            catalog: crate::support::catalog(),
        }
    }

    fn instance(&self, name: &str) -> &Instance {
        self.catalog.instance(name).expect("instance in catalog")
    }

    fn gpu_of(&self, inst: &Instance) -> &Gpu {
        self.catalog.instance_gpu(inst).expect("GPU in catalog")
    }

    fn model(&self, name: &str) -> &ModelSpec {
        self.catalog.model(name).expect("model in catalog")
    }

    /// The finding of `rule` for `c` on its instance under `w`, if any.
    fn run(&self, rule: &dyn Rule, w: &Workload, c: &Candidate) -> Option<Finding> {
        let inst = self.instance(&c.instance);
        let ctx = Context {
            workload: w,
            candidate: c,
            instance: inst,
            gpu: self.gpu_of(inst),
            model: self.model("Llama 3.1 8B"),
        };
        let f = rule.check(&ctx);
        if let Some(f) = &f {
            assert_eq!(f.code, rule.meta().code);
            assert_eq!(f.name, rule.meta().name);
            assert_eq!(f.docs, rule.meta().docs);
            assert!(!f.message.is_empty());
        }
        f
    }

    fn plain(&self, inst: &str, tp: u32, pp: u32, replicas: u32) -> Candidate {
        let i = self.instance(inst);
        candidate(i, self.gpu_of(i), tp, pp, replicas)
    }
}

fn rule(code: &str) -> Box<dyn Rule> {
    findings::all()
        .into_iter()
        .find(|r| r.meta().code == code)
        .unwrap_or_else(|| panic!("no rule {code}"))
}

#[test]
fn ip101_isolated_tenant_without_mig() {
    let fx = Fixture::new();
    let r = rule("IP101");
    let isolated = workload("[constraints]\ntenancy = \"isolated\"");
    let c = fx.plain("g6e.xlarge", 1, 1, 3);
    let f = fx.run(&*r, &isolated, &c).expect("L40S has no MIG");
    assert_eq!(f.severity, Severity::Warning);
    assert!(
        f.message.contains("L40S (g6e.xlarge) has no MIG"),
        "{}",
        f.message
    );
    assert!(f.message.contains("$1.86/h"), "{}", f.message);

    // Shared tenancy, or a MIG-capable GPU: silent.
    assert!(fx.run(&*r, &workload(""), &c).is_none());
    let h100 = fx.plain("p5.48xlarge", 8, 1, 1);
    assert!(fx.run(&*r, &isolated, &h100).is_none());
}

#[test]
fn ip102_multi_node_needs_efa_and_one_az() {
    let fx = Fixture::new();
    let r = rule("IP102");
    let w = workload("");
    let c = fx.plain("p5.48xlarge", 8, 2, 4);
    let f = fx.run(&*r, &w, &c).expect("a replica spans two instances");
    assert_eq!(f.severity, Severity::Warning);
    assert!(
        f.message
            .contains("2 × p5.48xlarge (TP 8 × PP 2 = 16 GPUs)"),
        "{}",
        f.message
    );
    assert!(f.message.contains("3200 Gbps"), "{}", f.message);
    assert!(
        f.message.contains("4 replicas over at least 3 AZs"),
        "{}",
        f.message
    );

    // Without EFA the layout is an error.
    let no_efa = fx.plain("p3.16xlarge", 8, 2, 2);
    let f = fx.run(&*r, &w, &no_efa).expect("p3.16xlarge has no EFA");
    assert_eq!(f.severity, Severity::Error);

    // A replica inside one instance: silent.
    assert!(fx.run(&*r, &w, &fx.plain("p5.48xlarge", 8, 1, 4)).is_none());
}

#[test]
fn ip103_single_gpu_replicas_on_large_instances() {
    let fx = Fixture::new();
    let r = rule("IP103");
    let w = workload("");
    let c = fx.plain("p5.48xlarge", 1, 1, 32);
    assert_eq!(c.replicas_per_instance, 8);
    let f = fx.run(&*r, &w, &c).expect("8 replicas per instance");
    assert_eq!(
        f.message.split(". ").next().unwrap(),
        "1-GPU replicas on p5.48xlarge (8 GPUs): losing the instance takes 8 replicas (25 % \
         of capacity) down at once"
    );

    // One-GPU instances, or replicas that fill the instance: silent.
    assert!(fx.run(&*r, &w, &fx.plain("p5.4xlarge", 1, 1, 32)).is_none());
    assert!(fx.run(&*r, &w, &fx.plain("p5.48xlarge", 8, 1, 4)).is_none());
}

#[test]
fn ip104_spot_for_stateful_chat() {
    let fx = Fixture::new();
    let r = rule("IP104");
    let mut c = fx.plain("g6e.xlarge", 1, 1, 10);
    c.purchase_mix.savings_plan_instances = 7;
    c.purchase_mix.spot_instances = 3;
    let f = fx
        .run(&*r, &workload(""), &c)
        .expect("spot in interactive serving");
    assert!(
        f.message.starts_with("3 of 10 instances (30 %) are spot"),
        "{}",
        f.message
    );

    // Spot for async work, or no spot: silent.
    let batch = workload("[slo]\nmode = \"async\"\ndeadline_s = 3600");
    assert!(fx.run(&*r, &batch, &c).is_none());
    assert!(fx
        .run(&*r, &workload(""), &fx.plain("g6e.xlarge", 1, 1, 10))
        .is_none());
}

#[test]
fn ip105_cold_start_over_budget() {
    let fx = Fixture::new();
    let r = rule("IP105");
    let tight = workload("[constraints]\ncold_start_budget_s = 120");
    let mut c = fx.plain("p5.48xlarge", 8, 1, 2);
    c.weights_gib = 131.4;
    let f = fx
        .run(&*r, &tight, &c)
        .expect("boot + engine + 131 GiB > 120 s");
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.message.contains("over the 120 s budget"), "{}", f.message);
    // vLLM streams from S3 at the per-instance ceiling; a new node has no compile caches.
    assert!(
        f.message.contains("141.1 GB read at 6.25 GB/s"),
        "{}",
        f.message
    );
    assert!(f.message.contains("engine start 200 s"), "{}", f.message);
    assert!(f.message.contains("warm pool"), "{}", f.message);

    // A generous budget, no budget, or weights already on the local NVMe: silent.
    let generous = workload("[constraints]\ncold_start_budget_s = 600");
    assert!(fx.run(&*r, &generous, &c).is_none());
    assert!(fx.run(&*r, &workload(""), &c).is_none());
    // Pre-pulled to NVMe, a new node still boots, copies, compiles and reads: 357 s.
    let nvme = workload("[constraints]\ncold_start_budget_s = 150\nweights_source = \"nvme\"");
    let f = fx.run(&*r, &nvme, &c).expect("357 s > 150 s");
    assert!(f.message.contains("pre-pulled"), "{}", f.message);
    let nvme = workload("[constraints]\ncold_start_budget_s = 400\nweights_source = \"nvme\"");
    assert!(fx.run(&*r, &nvme, &c).is_none());

    // A replica over two instances reads half the weights on each.
    let mut two = fx.plain("p5.48xlarge", 8, 2, 1);
    two.weights_gib = 700.0;
    let f = fx.run(&*r, &tight, &two).expect("350 GiB per instance");
    assert!(f.message.contains("375.8 GB read"), "{}", f.message);
}

#[test]
fn ip106_fp8_without_native_support() {
    let fx = Fixture::new();
    let r = rule("IP106");
    let w = workload("");
    let mut c = fx.plain("p4de.24xlarge", 1, 1, 8);
    c.precision = Dtype::Fp8;
    let f = fx.run(&*r, &w, &c).expect("A100 has no FP8");
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.message.contains("weight-only"), "{}", f.message);
    assert!(f.message.contains("312 TFLOPS"), "{}", f.message);

    let mut t4 = fx.plain("g4dn.xlarge", 1, 1, 1);
    t4.precision = Dtype::Fp8;
    assert_eq!(fx.run(&*r, &w, &t4).unwrap().severity, Severity::Error);

    // FP8 on Hopper, or BF16 on Ampere: silent.
    let mut h100 = fx.plain("p5.48xlarge", 8, 1, 1);
    h100.precision = Dtype::Fp8;
    h100.kv_dtype = Dtype::Fp8;
    assert!(fx.run(&*r, &w, &h100).is_none());
    assert!(fx
        .run(&*r, &w, &fx.plain("p4de.24xlarge", 1, 1, 8))
        .is_none());
}

#[test]
fn ip107_regulated_on_shared_hardware() {
    let fx = Fixture::new();
    let r = rule("IP107");
    let regulated = workload("[constraints]\ndata_class = \"regulated\"");
    let c = fx.plain("g6f.large", 1, 1, 4);
    let f = fx
        .run(&*r, &regulated, &c)
        .expect("g6f is a fractional GPU");
    assert_eq!(f.severity, Severity::Error);
    assert!(
        f.message
            .starts_with("g6f.large is a fractional-GPU size (0.125 of one L4)"),
        "{}",
        f.message
    );
    assert!(f.message.contains("g6.xlarge"), "{}", f.message);

    // A whole-GPU size, or general data: silent.
    assert!(fx
        .run(&*r, &regulated, &fx.plain("g6.xlarge", 1, 1, 4))
        .is_none());
    assert!(fx.run(&*r, &workload(""), &c).is_none());
}

#[test]
fn ip108_scale_on_queue_not_gpu_utilization() {
    let fx = Fixture::new();
    let r = rule("IP108");
    let c = fx.plain("g6e.xlarge", 1, 1, 5);
    let f = fx.run(&*r, &workload(""), &c).expect("interactive");
    assert_eq!(f.severity, Severity::Info);
    // 2 req/s × a mean 6.4 s (p99 TTFT + p99 TPOT × the mean output) = 12.8 in flight.
    assert!(
        f.message.contains("about 13 requests in flight"),
        "{}",
        f.message
    );
    assert!(f.message.contains("above 10 (80 %"), "{}", f.message);

    let async_w = workload("[slo]\nmode = \"async\"\ndeadline_s = 600");
    let f = fx.run(&*r, &async_w, &c).expect("async");
    assert!(
        f.message.contains("above about 1200 requests"),
        "{}",
        f.message
    );

    // Batch work: silent.
    let batch = workload("[slo]\nmode = \"batch\"");
    assert!(fx.run(&*r, &batch, &c).is_none());
}

#[test]
fn ip109_retries_need_idempotency_keys() {
    let fx = Fixture::new();
    let r = rule("IP109");
    let c = fx.plain("g6e.xlarge", 1, 1, 10);
    let f = fx.run(&*r, &workload(""), &c).expect("interactive");
    assert_eq!(f.severity, Severity::Info);
    assert!(
        f.message.contains("10 replicas serve up to 20 req/s"),
        "{}",
        f.message
    );
    assert!(f.message.contains("(40 req/s)"), "{}", f.message);

    let async_w = workload("[slo]\nmode = \"async\"\ndeadline_s = 600");
    assert!(fx.run(&*r, &async_w, &c).is_some());

    // Without a capacity figure the advice stays, without numbers.
    let mut none = c.clone();
    none.replicas = 0;
    let f = fx.run(&*r, &workload(""), &none).expect("still advice");
    assert!(!f.message.contains("req/s"), "{}", f.message);

    // Batch work, whose runner paces its own submissions: silent.
    let batch = workload("[slo]\nmode = \"batch\"");
    assert!(fx.run(&*r, &batch, &c).is_none());
}

#[test]
fn ip110_one_instance_holds_every_replica() {
    let fx = Fixture::new();
    let r = rule("IP110");
    let w = workload("");
    let c = fx.plain("p5.48xlarge", 2, 1, 4);
    assert_eq!(c.instances, 1);
    let f = fx.run(&*r, &w, &c).expect("4 replicas on one instance");
    assert!(
        f.message
            .starts_with("All 4 replicas run on one p5.48xlarge: losing it stops the service."),
        "{}",
        f.message
    );
    let spare = workload("[constraints]\nredundancy = true");
    let f = fx.run(&*r, &spare, &c).expect("spare on the same host");
    assert!(
        f.message.contains("N+1 spare shares the host"),
        "{}",
        f.message
    );
    // Replicas spread over several instances: silent.
    assert!(fx.run(&*r, &w, &fx.plain("p5.48xlarge", 8, 1, 2)).is_none());
    assert!(fx.run(&*r, &w, &fx.plain("g6e.xlarge", 1, 1, 3)).is_none());
}

#[test]
fn ip114_low_bit_quality() {
    let fx = Fixture::new();
    let r = rule("IP114");
    let mut any = workload("");
    any.model.precision = "any".to_owned();
    let served = |id: &str, format: Dtype| inferplan_serving::checkpoint::ServedCheckpoint {
        hf_id: id.to_owned(),
        format,
        download_bytes: 1,
        size_source: String::new(),
        chat_template: "yes".to_owned(),
        online_fp8: false,
    };
    let mut c = fx.plain("g6e.xlarge", 1, 1, 1);
    // 16 bits: nothing to say.
    assert!(fx.run(r.as_ref(), &any, &c).is_none());
    // INT4 AWQ: no figure for this checkpoint, the published one of another INT4 checkpoint of
    // the same model, with its source.
    c.precision = Dtype::Int4;
    c.checkpoint = Some(served(
        "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4",
        Dtype::Int4,
    ));
    let f = fx
        .run(r.as_ref(), &any, &c)
        .expect("fires on int4 under any");
    assert_eq!(f.severity, Severity::Info);
    for part in [
        "INT4 weights",
        "no published evaluation of this checkpoint",
        "neuralmagic/Meta-Llama-3.1-8B-Instruct-quantized.w4a16",
        "97.9 %",
        "https://huggingface.co/",
    ] {
        assert!(f.message.contains(part), "{part}: {}", f.message);
    }
    // The evaluated checkpoint itself.
    c.checkpoint = Some(served(
        "neuralmagic/Meta-Llama-3.1-8B-Instruct-quantized.w4a16",
        Dtype::Int4,
    ));
    let f = fx.run(r.as_ref(), &any, &c).unwrap();
    assert!(
        f.message.contains("this checkpoint keeps 97.9 %"),
        "{}",
        f.message
    );
    // FP8 of Llama 3.1 8B: nothing published in the data file, and the finding says so.
    c.precision = Dtype::Fp8;
    c.checkpoint = Some(served(
        "RedHatAI/Meta-Llama-3.1-8B-Instruct-FP8",
        Dtype::Fp8,
    ));
    let f = fx.run(r.as_ref(), &any, &c).unwrap();
    assert!(
        f.message
            .contains("no published evaluation of an FP8 checkpoint"),
        "{}",
        f.message
    );
    // A precision the workload chose itself: the planner offered nothing.
    let fp8 = workload("");
    assert!(fx.run(r.as_ref(), &fp8, &c).is_none());
}

#[test]
fn ip115_neuron_compiles_ahead() {
    let fx = Fixture::new();
    let r = rule("IP115");
    let w = workload("");
    let f = fx
        .run(&*r, &w, &fx.plain("inf2.xlarge", 1, 1, 1))
        .expect("a Neuron replica");
    assert_eq!(f.severity, Severity::Warning);
    assert!(
        f.message.contains("NEURON_COMPILED_ARTIFACTS"),
        "{}",
        f.message
    );
    assert!(
        f.message.contains("compiled ahead for TP 1"),
        "{}",
        f.message
    );
    // GPUs compile nothing ahead: silent.
    assert!(fx.run(&*r, &w, &fx.plain("g6e.xlarge", 1, 1, 1)).is_none());
}

#[test]
fn check_runs_every_rule_in_order() {
    let fx = Fixture::new();
    let w = workload(
        "[constraints]\ntenancy = \"isolated\"\ndata_class = \"regulated\"\n\
         cold_start_budget_s = 10",
    );
    let mut c = fx.plain("g6f.large", 1, 1, 4);
    c.purchase_mix.spot_instances = 1;
    let inst = fx.instance("g6f.large");
    let out = findings::check(&Context {
        workload: &w,
        candidate: &c,
        instance: inst,
        gpu: fx.gpu_of(inst),
        model: fx.model("Llama 3.1 8B"),
    });
    let codes: Vec<_> = out.iter().map(|f| f.code).collect();
    assert_eq!(
        codes,
        ["IP101", "IP104", "IP105", "IP107", "IP108", "IP109"],
        "{out:#?}"
    );
}

#[test]
fn codes_names_and_anchors_are_unique_and_documented() {
    let docs_path = crate::support::repo().join("docs/findings.md");
    let docs = std::fs::read_to_string(docs_path).expect("docs/findings.md");
    let headings: HashSet<String> = docs
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .map(github_anchor)
        .collect();
    let mut codes = HashSet::new();
    let mut names = HashSet::new();
    assert_eq!(findings::all().len(), 13);
    let rules = findings::metas();
    assert_eq!(rules.len(), 15);
    for (i, r) in rules.iter().enumerate() {
        assert_eq!(r.code, format!("IP{}", 101 + i), "codes in order");
        assert!(codes.insert(r.code), "duplicate code {}", r.code);
        assert!(names.insert(r.name), "duplicate name {}", r.name);
        assert!(
            r.name
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-'),
            "{} is not kebab-case",
            r.name
        );
        let anchor = r
            .docs
            .strip_prefix("docs/findings.md#")
            .expect("docs/findings.md anchor");
        assert!(
            headings.contains(anchor),
            "docs/findings.md has no heading for #{anchor}"
        );
    }
}

/// GitHub's heading anchor: lower case, spaces to `-`, punctuation other than `-` and `_`
/// dropped.
fn github_anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[test]
fn cold_start_uses_the_catalog_network_and_disks() {
    let fx = Fixture::new();
    let g6e = fx.instance("g6e.xlarge");
    let gb = 15.0 * (1u64 << 30) as f64;
    let s3 = new_replica("s3", Some(Engine::Vllm), Arch::Ada, gb, g6e);
    assert_eq!(s3.source, WeightsSource::S3);
    assert_eq!(s3.delivery, Delivery::S3Stream);
    // 2.5 Gbps baseline × 0.85 / 8 = 0.27 GB/s: about a minute for 15 GiB.
    assert!((s3.read_gbs - 0.265_625).abs() < 1e-9, "{}", s3.basis);
    assert!(s3.load_s > 55.0 && s3.load_s < 65.0, "{}", s3.basis);
    // The same bytes copied to the node first with SGLang, or from the Hub.
    let copy = new_replica("s3", Some(Engine::Sglang), Arch::Ada, gb, g6e);
    assert_eq!(copy.delivery, Delivery::S3ToNodeCache);
    assert!(copy.fetch_s > 55.0 && copy.load_s > 0.0, "{}", copy.basis);
    let hub = new_replica("hub", Some(Engine::Vllm), Arch::Ada, gb, g6e);
    assert!(hub.fetch_s >= copy.fetch_s, "{}", hub.basis);
    // g6f.large has 100 GB of instance store: too small for 131 GiB, the cache is the root
    // volume.
    let small = new_replica(
        "nvme",
        Some(Engine::Vllm),
        Arch::Ada,
        131.0 * (1u64 << 30) as f64,
        fx.instance("g6f.large"),
    );
    assert_eq!(small.delivery, Delivery::NvmePrepull);
    assert!(small.basis.contains("root EBS"), "{}", small.basis);
    let p5 = new_replica(
        "fsx",
        Some(Engine::Vllm),
        Arch::Hopper,
        131.0 * (1u64 << 30) as f64,
        fx.instance("p5.48xlarge"),
    );
    assert!((p5.read_gbs - 4.8).abs() < 1e-9, "{}", p5.basis);
}
