//! Tests of the diffusion model: hand-computed token and FLOP counts, monotonicity, and the
//! validation against the measured diffusion rows of `../shared/data/measured`.

#![allow(clippy::print_stderr)]

use inferplan_catalog::{Catalog, Dtype};
use inferplan_perf::diffusion::{
    diffusion_model, fit_efficiency, memory, prepare_diffusion, time, validate_diffusion, work,
    DiffusionEfficiency, DiffusionJob,
};

fn catalog() -> &'static Catalog {
    static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
    CATALOG.get_or_init(|| Catalog::embedded().unwrap())
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    ((a - b) / b).abs() <= rel
}

fn measured() -> Option<String> {
    let path = format!(
        "{}/../../../shared/data/measured/diffusion_latency.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).ok()
}

#[test]
fn lookup_by_name_alias_and_id() {
    for (q, want) in [
        ("SD 1.5", "Stable Diffusion 1.5"),
        (
            "SD 1.5 (runwayml/stable-diffusion-v1-5)",
            "Stable Diffusion 1.5",
        ),
        ("sdxl 1.0 BASE", "Stable Diffusion XL 1.0 base"),
        (
            "Wan2.1-I2V-14B-480P (image-to-video)",
            "Wan2.1 I2V 14B 480P",
        ),
        ("Wan-AI/Wan2.1-T2V-14B", "Wan2.1 T2V 14B"),
        ("flux.1-dev", "FLUX.1 [dev]"),
    ] {
        assert_eq!(
            diffusion_model(q).map(|m| m.name.as_str()),
            Some(want),
            "{q}"
        );
    }
    assert!(diffusion_model("not a model").is_none());
}

#[test]
fn sd15_512_tokens_and_flops() {
    let m = diffusion_model("SD 1.5").unwrap();
    let job = DiffusionJob::default_for(m);
    assert_eq!(
        (job.width, job.height, job.steps, job.cfg),
        (512, 512, 50, true)
    );
    let w = work(m, &job);
    // 512 / 8 = 64 latent positions a side, no patching.
    assert_eq!(w.tokens, 4096.0);
    assert_eq!(w.latent_frames, 1.0);
    // UNet: 2 × 0.86e9 × 4096 × 0.0947 + 22.8 × 320 × 4096².
    let eval = 2.0 * 0.86e9 * 4096.0 * 0.0947 + 22.8 * 320.0 * 4096.0 * 4096.0;
    assert!(close(w.flops_per_eval, eval, 1e-9));
    assert!(
        close(w.flops_per_eval, 0.79e12, 0.05),
        "{}",
        w.flops_per_eval
    );
    assert!(close(w.flops_per_step, 2.0 * eval, 1e-9));
    // CLIP-L over 77 tokens; KL-f8 decoder 2 × 83.654e6 × 512² / 16.
    assert!(close(w.text_flops, 2.0 * 0.123e9 * 77.0, 1e-9));
    assert!(close(
        w.vae_flops,
        2.0 * 83.654e6 * 512.0 * 512.0 / 16.0,
        1e-9
    ));
    assert!(close(
        w.total_flops,
        50.0 * w.flops_per_step + w.text_flops + w.vae_flops,
        1e-12
    ));
}

#[test]
fn wan14b_720p_81_frames_tokens_and_flops() {
    let m = diffusion_model("Wan2.1-T2V-14B").unwrap();
    let job = DiffusionJob {
        width: 1280,
        height: 720,
        frames: 81,
        steps: 50,
        batch: 1,
        cfg: true,
    };
    let w = work(m, &job);
    // 1 + 80 / 4 = 21 latent frames; 160 × 90 latents, 2×2 patches.
    assert_eq!(w.latent_frames, 21.0);
    assert_eq!(w.tokens, 75600.0);
    let t = 75600.0_f64;
    let eval = 2.0 * 14e9 * t + 4.0 * 40.0 * 5120.0 * t * t;
    assert!(close(w.flops_per_eval, eval, 1e-9));
    // Attention dominates at this length: about 6.8 PFLOP per evaluation.
    assert!(
        close(w.flops_per_eval, 6.79e15, 0.01),
        "{}",
        w.flops_per_eval
    );
    assert!(close(w.flops_per_step, 2.0 * eval, 1e-9));
    // UMT5-XXL sees 512 tokens.
    assert!(close(w.text_flops, 2.0 * 5.681e9 * 512.0, 1e-9));
}

#[test]
fn distilled_models_run_one_evaluation() {
    let m = diffusion_model("FLUX.1-dev").unwrap();
    let job = DiffusionJob::default_for(m);
    assert!(!job.cfg);
    let w = work(m, &job);
    // 1360×768 / 16 per side: 85 × 48 tokens.
    assert_eq!(w.tokens, 85.0 * 48.0);
    assert!(close(w.flops_per_step, w.flops_per_eval, 1e-12));
}

#[test]
fn more_frames_or_steps_never_cost_less() {
    let c = catalog();
    let gpu = c.gpu("H200").unwrap();
    let e = DiffusionEfficiency::embedded();
    for name in [
        "Wan2.1 T2V 1.3B",
        "Wan2.1 T2V 14B",
        "HunyuanVideo",
        "SVD-XT",
    ] {
        let m = diffusion_model(name).unwrap();
        let base = DiffusionJob::default_for(m);
        let mut prev: Option<(f64, f64)> = None;
        for frames in (1..=129).step_by(4) {
            let job = DiffusionJob { frames, ..base };
            let t = time(m, &job, gpu, Dtype::Bf16, &e).unwrap().e2e_s;
            let mem = memory(m, &job, 2.0).total_gib;
            if let Some((pt, pm)) = prev {
                assert!(t >= pt, "{name}: {frames} frames faster");
                assert!(mem >= pm, "{name}: {frames} frames smaller");
            }
            prev = Some((t, mem));
        }
        let mut prev_t = 0.0;
        for steps in 1..=60 {
            let job = DiffusionJob { steps, ..base };
            let t = time(m, &job, gpu, Dtype::Bf16, &e).unwrap().e2e_s;
            assert!(t > prev_t, "{name}: {steps} steps not slower");
            prev_t = t;
        }
    }
}

#[test]
fn memory_breakdown_and_fit() {
    let m = diffusion_model("Wan2.1 T2V 14B").unwrap();
    let job = DiffusionJob::default_for(m);
    let mem = memory(m, &job, 2.0);
    // 14e9 + 5.681e9 + 0.127e9 parameters at 2 bytes.
    let weights = (14e9 + 5.681e9 + 126.893e6) * 2.0 / 1024f64.powi(3);
    assert!(close(mem.weights_gib, weights, 1e-9));
    assert!(mem.total_gib > mem.weights_gib);
    assert!(mem.fits(80.0));
    assert!(!mem.fits(24.0));
    let sd = diffusion_model("SD 1.5").unwrap();
    assert!(memory(sd, &DiffusionJob::default_for(sd), 2.0).fits(16.0));
}

#[test]
fn embedded_efficiency_is_the_fit() {
    let Some(text) = measured() else {
        eprintln!("skipped: diffusion_latency.csv absent");
        return;
    };
    let (cases, _) = prepare_diffusion(&text, "diffusion_latency.csv", catalog()).unwrap();
    let e = DiffusionEfficiency::embedded();
    let (fit, err) = fit_efficiency(&cases, e.bandwidth);
    eprintln!(
        "fit {fit:?} median |log error| {err:.4} over {} rows",
        cases.len()
    );
    assert!(close(fit.compute, e.compute, 1e-9), "refit: {fit:?}");
    assert!(
        close(fit.step_overhead_ms, e.step_overhead_ms, 1e-9)
            || fit.step_overhead_ms == e.step_overhead_ms,
        "refit: {fit:?}"
    );
}

#[test]
fn validation_against_measured_rows() {
    let Some(text) = measured() else {
        eprintln!("skipped: diffusion_latency.csv absent");
        return;
    };
    let r = validate_diffusion(&text, "diffusion_latency.csv", catalog()).unwrap();
    eprintln!(
        "rows {} evaluated {} overall {:?}",
        r.rows_total, r.rows_evaluated, r.overall
    );
    eprintln!("skipped {:?}", r.skipped);
    for (k, v) in &r.skipped_details {
        eprintln!("  {k}: {v:?}");
    }
    for (k, s) in r
        .by_metric
        .iter()
        .chain(&r.by_source)
        .chain(&r.by_gpu)
        .chain(&r.by_model)
    {
        eprintln!(
            "  {k}: n {} median {:.1}% p90 {:.1}% ratio {:.2}",
            s.n, s.median_ape, s.p90_ape, s.median_ratio
        );
    }
    for s in r.rows.iter().take(12) {
        eprintln!(
            "  worst {} {} {} {:.3} vs {:.3} ({:.0}%)",
            s.id,
            s.gpu,
            s.metric.as_str(),
            s.predicted,
            s.measured,
            s.ape
        );
    }
    assert_eq!(r.rows_total, 143);
    assert!(r.rows_evaluated >= 80, "{}", r.rows_evaluated);
    assert!(r.overall.median_ape < 30.0, "{:?}", r.overall);
    assert!(r.skipped.contains_key("cache_trick"));
    assert!(r.skipped.contains_key("unstated_steps"));
}
