//! Criterion benchmark of `plan` over the whole embedded catalog (budget: < 1 s, DESIGN.md).

use criterion::Criterion;
use inferplan_catalog::Catalog;
use inferplan_perf::diffusion::DiffusionEfficiencies;
use inferplan_perf::efficiency::EfficiencyTable;
use inferplan_perf::MemoryParams;
use inferplan_plan::diffusion::{plan_diffusion, DiffusionWorkload};
use inferplan_plan::{plan, Inputs, Workload};
use std::hint::black_box;

/// The chat example, and the widest search: any precision, three engines, five regions.
fn benches(c: &mut Criterion) {
    let catalog = Catalog::embedded().unwrap();
    let efficiency = EfficiencyTable::embedded().unwrap();
    let memory = MemoryParams::embedded().unwrap();
    let inputs = Inputs {
        catalog: &catalog,
        efficiency: &efficiency,
        memory: &memory,
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let chat = Workload::load(&dir.join("chat-70b-fp8.toml")).unwrap();
    let mut wide = chat.clone();
    wide.model.precision = "any".to_owned();
    wide.model.engines = vec!["vllm".into(), "sglang".into(), "trtllm".into()];
    wide.constraints.regions = [
        "us-east-1",
        "us-east-2",
        "us-west-2",
        "eu-west-1",
        "ap-northeast-1",
    ]
    .map(String::from)
    .to_vec();
    let mut g = c.benchmark_group("plan");
    g.bench_function("chat_70b_fp8_whole_catalog", |b| {
        b.iter(|| plan(black_box(&inputs), black_box(&chat)).unwrap())
    });
    g.bench_function("any_precision_3_engines_5_regions", |b| {
        b.iter(|| plan(black_box(&inputs), black_box(&wide)).unwrap())
    });
    // Diffusion: the 720p clip example with its break-even search (every candidate).
    let text = std::fs::read_to_string(dir.join("video-720p-report-clips.toml")).unwrap();
    let video = DiffusionWorkload::from_toml(&text, "video-720p-report-clips.toml").unwrap();
    let deff = DiffusionEfficiencies::embedded();
    g.bench_function("diffusion_720p_clips_with_break_even", |b| {
        b.iter(|| plan_diffusion(black_box(&catalog), deff, black_box(&video)).unwrap())
    });
    g.finish();
}

criterion::criterion_main!(group);

/// The benchmark group (written out instead of `criterion_group!`, whose generated function
/// has no doc comment).
pub fn group() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
}
