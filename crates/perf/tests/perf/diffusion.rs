//! Tests of the diffusion model: hand-computed token and FLOP counts, monotonicity, and the
//! validation against the measured diffusion rows of `../shared/data/measured`.

#![allow(clippy::print_stderr)]

use inferplan_catalog::table::Table;
use inferplan_catalog::Dtype;
use inferplan_perf::calibrate::TooFewSources;
use inferplan_perf::diffusion::{
    cross_validate, diffusion_model, fit, fit_efficiencies, gemm_ceiling, memory,
    prepare_diffusion, time, time_of, to_csv, validate_diffusion, work, DiffusionEfficiencies,
    DiffusionJob, Execution, JobSpec, Offload, MIN_ARCH_ROWS, PCIE_COPY_EFFICIENCY, RUNTIME_GIB,
};
use inferplan_perf::parallel::QUIET;
use inferplan_perf::PerfError;

use crate::support::{catalog, shared};

fn close(a: f64, b: f64, rel: f64) -> bool {
    ((a - b) / b).abs() <= rel
}

fn measured() -> Option<String> {
    std::fs::read_to_string(shared().join("data/measured/diffusion_latency.csv")).ok()
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
        fps: Some(16.0),
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
fn job_spec_seconds_frames_and_errors() {
    let wan = diffusion_model("Wan2.1 T2V 14B").unwrap();
    // 5 s at the model's 16 fps on a causal VAE: 5 x 16 + 1 = 81 frames, 5 s of video.
    let job = JobSpec {
        seconds: Some(5.0),
        ..JobSpec::default()
    }
    .resolve(wan)
    .unwrap();
    assert_eq!(job.frames, 81);
    assert_eq!(job.clip_seconds(wan), Some(5.0));
    assert_eq!((job.width, job.height, job.steps), (1280, 720, 50));
    // 1080p, 24 fps, 4 steps without guidance.
    let spec = JobSpec {
        width: Some(1920),
        height: Some(1080),
        seconds: Some(2.0),
        fps: Some(24.0),
        steps: Some(4),
        cfg: Some(false),
        ..JobSpec::default()
    };
    let job = spec.resolve(wan).unwrap();
    assert_eq!((job.frames, job.steps, job.cfg), (49, 4, false));
    let field = |spec: JobSpec, m| match spec.resolve(m) {
        Err(PerfError::Refused { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    let both = JobSpec {
        frames: Some(81),
        seconds: Some(5.0),
        ..JobSpec::default()
    };
    assert_eq!(field(both, wan), "seconds");
    let zero = JobSpec {
        steps: Some(0),
        ..JobSpec::default()
    };
    assert_eq!(field(zero, wan), "steps");
    let tiny = JobSpec {
        width: Some(8),
        ..JobSpec::default()
    };
    assert_eq!(field(tiny, wan), "width");
    let sd = diffusion_model("SD 1.5").unwrap();
    let clip = JobSpec {
        seconds: Some(2.0),
        ..JobSpec::default()
    };
    assert_eq!(field(clip, sd), "seconds");
}

#[test]
fn long_clips_are_generated_in_segments() {
    // 30 s at 16 fps = 481 frames = 5 passes of 81 frames and one of 76: attention stays
    // within a pass, so the cost is six 5-second passes, not one quadratic 30-second one.
    let wan = diffusion_model("Wan2.1 T2V 14B").unwrap();
    let job = JobSpec {
        seconds: Some(30.0),
        ..JobSpec::default()
    }
    .resolve(wan)
    .unwrap();
    assert_eq!(job.frames, 481);
    let w30 = work(wan, &job);
    let w5 = work(wan, &DiffusionJob::default_for(wan));
    assert_eq!(w30.passes, 6);
    assert_eq!(w30.tokens, w5.tokens);
    let rest = work(wan, &DiffusionJob { frames: 76, ..job });
    assert!(close(
        w30.flops_per_step,
        5.0 * w5.flops_per_step + rest.flops_per_step,
        1e-12
    ));
    let gib = |j: &DiffusionJob| memory(wan, j, Dtype::Bf16, Offload::None).total_gib;
    assert_eq!(gib(&job), gib(&DiffusionJob::default_for(wan)));
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
    let e = DiffusionEfficiencies::embedded().global;
    for name in [
        "Wan2.1 T2V 1.3B",
        "Wan2.1 T2V 14B",
        "HunyuanVideo",
        "SVD-XT",
    ] {
        let m = diffusion_model(name).unwrap();
        let base = DiffusionJob::default_for(m);
        let mut prev: Option<(f64, f64)> = None;
        for offload in Offload::ALL {
            for frames in (1..=129).step_by(4) {
                let job = DiffusionJob { frames, ..base };
                let t = time(m, &job, gpu, Dtype::Bf16, offload, &e).unwrap().e2e_s;
                let mem = memory(m, &job, Dtype::Bf16, offload).total_gib;
                if let Some((pt, pm)) = prev {
                    assert!(t >= pt, "{name} {offload:?}: {frames} frames faster");
                    assert!(mem >= pm, "{name} {offload:?}: {frames} frames smaller");
                }
                prev = Some((t, mem));
            }
            prev = None;
            let mut prev_t = 0.0;
            for steps in 1..=60 {
                let job = DiffusionJob { steps, ..base };
                let t = time(m, &job, gpu, Dtype::Bf16, offload, &e).unwrap().e2e_s;
                assert!(t > prev_t, "{name} {offload:?}: {steps} steps not slower");
                prev_t = t;
            }
        }
        // Offloading never needs more memory, and never takes less time.
        let job = base;
        let mems = Offload::ALL.map(|o| memory(m, &job, Dtype::Bf16, o).total_gib);
        let times = Offload::ALL.map(|o| time(m, &job, gpu, Dtype::Bf16, o, &e).unwrap().e2e_s);
        assert!(mems[0] >= mems[1] && mems[1] >= mems[2], "{name}: {mems:?}");
        assert!(
            times[0] <= times[1] && times[1] <= times[2],
            "{name}: {times:?}"
        );
    }
}

#[test]
fn memory_by_hand_wan14b_720p() {
    // Wan2.1 T2V 14B, 1280x720, 81 frames, CFG, BF16: 21 latent frames x 80 x 45 = 75,600
    // tokens; activations 24 B x 5120 x 75,600 x 2 passes; VAE decode 768 B x 1280 x 720 x
    // 4 frames (diffusers decodes one latent frame, 4 output frames, per call); weights
    // (14e9 + 5.681e9 + 126.893e6) x 2 B.
    let m = diffusion_model("Wan2.1 T2V 14B").unwrap();
    let job = DiffusionJob::default_for(m);
    let gib = 1024f64.powi(3);
    let den = 14e9 * 2.0;
    let text = 5.681e9 * 2.0;
    let vae = 126.893e6 * 2.0;
    let act = 24.0 * 5120.0 * 75_600.0 * 2.0;
    let decode = 768.0 * 1280.0 * 720.0 * 4.0;
    let none = memory(m, &job, Dtype::Bf16, Offload::None);
    assert!(close(none.weights_gib, (den + text + vae) / gib, 1e-12));
    assert!(close(none.activations_gib, act / gib, 1e-12));
    assert!(close(none.vae_decode_gib, decode / gib, 1e-12));
    let expect = RUNTIME_GIB + (den + text + vae + act) / gib;
    assert!(close(none.total_gib, expect, 1e-12), "{none:?}");
    // 55.2 GiB: fits an 80 GB H100, not a 48 GB L40S.
    assert!(none.fits(79.2) && !none.fits(44.5));
    // Model offload: the denoiser and its activations are the largest phase.
    let model = memory(m, &job, Dtype::Bf16, Offload::Model);
    assert!(close(
        model.total_gib,
        RUNTIME_GIB + (den + act) / gib,
        1e-12
    ));
    // Sequential: one of 40 blocks plus activations.
    let seq = memory(m, &job, Dtype::Bf16, Offload::Sequential);
    assert!(close(
        seq.total_gib,
        RUNTIME_GIB + (den / 40.0 + act) / gib,
        1e-12
    ));
    // The least offloading that fits.
    assert_eq!(
        fit(m, &job, Dtype::Bf16, 79.2).unwrap().offload,
        Offload::None
    );
    assert_eq!(
        fit(m, &job, Dtype::Bf16, 44.5).unwrap().offload,
        Offload::Model
    );
    assert_eq!(
        fit(m, &job, Dtype::Bf16, 22.0).unwrap().offload,
        Offload::Sequential
    );
    assert!(fit(m, &job, Dtype::Bf16, 16.0).is_none());
    // FP8 halves the denoiser only.
    let fp8 = memory(m, &job, Dtype::Fp8, Offload::None);
    assert!(close(
        fp8.weights_gib,
        (den / 2.0 + text + vae) / gib,
        1e-12
    ));
    let sd = diffusion_model("SD 1.5").unwrap();
    let sd_job = DiffusionJob::default_for(sd);
    assert_eq!(
        fit(sd, &sd_job, Dtype::Fp16, 15.0).unwrap().offload,
        Offload::None
    );
}

#[test]
fn offload_time_by_hand() {
    // Sequential offload streams the denoiser over PCIe once per evaluation: on an L40S
    // (PCIe gen4, 32 GB/s x efficiency) 28 GB x 2 passes per step.
    let c = catalog();
    let gpu = c.gpu("L40S").unwrap();
    let m = diffusion_model("Wan2.1 T2V 14B").unwrap();
    let job = DiffusionJob::default_for(m);
    let e = DiffusionEfficiencies::embedded().global;
    let none = time(m, &job, gpu, Dtype::Bf16, Offload::None, &e).unwrap();
    let seq = time(m, &job, gpu, Dtype::Bf16, Offload::Sequential, &e).unwrap();
    let pcie = 32e9 * PCIE_COPY_EFFICIENCY;
    let per_step = 14e9 * 2.0 * 2.0 / pcie;
    assert!(close(seq.step_s - none.step_s, per_step, 1e-9));
    let moves = (5.681e9 + 126.893e6) * 2.0 / pcie;
    assert!(close(seq.offload_s, 50.0 * per_step + moves, 1e-9));
    assert!(close(seq.e2e_s - none.e2e_s, seq.offload_s, 1e-9));
    let model = time(m, &job, gpu, Dtype::Bf16, Offload::Model, &e).unwrap();
    let all = (14e9 + 5.681e9 + 126.893e6) * 2.0 / pcie;
    assert!(close(model.e2e_s - none.e2e_s, all, 1e-9));
}

/// The written file reads back: a provenance with a quote, a comma and a line break comes
/// back as written (the writer once turned quotes into apostrophes).
#[test]
fn efficiency_file_round_trips_any_provenance() {
    let e = DiffusionEfficiencies::embedded();
    let rows = [("*".to_owned(), 133), ("ampere".to_owned(), 72)].into();
    let provenance = "refit \"by hand\", twice\nthen checked";
    let text = to_csv(e, &rows, provenance);
    assert_eq!(&DiffusionEfficiencies::parse(&text, "d.csv").unwrap(), e);
    let t = Table::parse(&text, "d.csv").unwrap();
    assert!(t.rows().all(|r| r.get("source") == Some(provenance)));
    assert_eq!(t.rows().next().unwrap().get("rows"), Some("133"));
}

#[test]
fn embedded_efficiency_is_the_fit() {
    let Some(text) = measured() else {
        eprintln!("skipped: diffusion_latency.csv absent");
        return;
    };
    let (cases, _) = prepare_diffusion(&text, "diffusion_latency.csv", catalog()).unwrap();
    let e = DiffusionEfficiencies::embedded();
    let refs: Vec<&_> = cases.iter().collect();
    let (fit, rows) = fit_efficiencies(&refs, e.global.bandwidth);
    eprintln!("fit {fit:?} on {rows:?}");
    assert_eq!(
        &fit, e,
        "refit with `inferplan calibrate ... --output data/perf/diffusion_efficiency.csv`"
    );
    // Architectures fit only on rows that state their format, and never on too few.
    assert!(rows.iter().all(|(a, &n)| a == "*" || n >= MIN_ARCH_ROWS));
    // The MLPerf SDXL rows run NVIDIA's harness, whose UNet is FP8: with the format known
    // they count for Hopper.
    assert!(fit.by_arch.contains_key("hopper"), "{:?}", fit.by_arch);
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
    assert!(r.overall.median_ape <= 25.0, "{:?}", r.overall);
    assert!(r.skipped.contains_key("cache_trick"));
    assert!(r.skipped.contains_key("unstated_steps"));
}

#[test]
fn cross_validation_leaves_each_source_out_and_needs_two() {
    let Some(text) = measured() else {
        eprintln!("skipped: diffusion_latency.csv absent");
        return;
    };
    let (mut cases, _) = prepare_diffusion(&text, "diffusion_latency.csv", catalog()).unwrap();
    let bandwidth = DiffusionEfficiencies::embedded().global.bandwidth;
    // The two smallest sources, to keep the grid searches short.
    let mut rows: std::collections::BTreeMap<String, usize> = Default::default();
    for c in &cases {
        *rows.entry(c.source.clone()).or_default() += 1;
    }
    let mut sources: Vec<(usize, String)> = rows.into_iter().map(|(s, n)| (n, s)).collect();
    sources.sort();
    let sources: Vec<String> = sources.into_iter().take(2).map(|(_, s)| s).collect();
    cases.retain(|c| sources.contains(&c.source));
    let predicted = cross_validate(&cases, bandwidth, QUIET).unwrap();
    assert_eq!(predicted.len(), cases.len());
    for held in &sources {
        let train: Vec<&_> = cases.iter().filter(|c| c.source != *held).collect();
        let (t, _) = fit_efficiencies(&train, bandwidth);
        for (c, p) in cases
            .iter()
            .zip(&predicted)
            .filter(|(c, _)| c.source == *held)
        {
            assert_eq!(*p, c.predict_with(&t), "{}", c.id);
        }
    }
    // One source: nothing to fit a fold on (it used to fit on no rows and score the default).
    cases.retain(|c| c.source == sources[0]);
    assert_eq!(
        cross_validate(&cases, bandwidth, QUIET),
        Err(TooFewSources { sources: 1 })
    );
}

#[test]
fn svd_attention_is_spatial_per_frame_plus_temporal() {
    // SVD-XT, 1024x576, 25 frames: 128 x 72 = 9,216 positions per frame. Spatial attention
    // within each frame (22.8 x 320 x 9,216^2 x 25), temporal attention across the 25 frames at
    // each position (35.25 x 320 x 9,216 x 25^2), params over the SD 1.5 layout's token share.
    let m = diffusion_model("SVD-XT").unwrap();
    let job = DiffusionJob::default_for(m);
    assert_eq!((job.width, job.height, job.frames), (1024, 576, 25));
    let w = work(m, &job);
    let positions = 9_216.0;
    let linear = 2.0 * 1.525e9 * positions * 25.0 * 0.0947;
    let spatial = 22.8 * 320.0 * positions * positions * 25.0;
    let temporal = 35.25 * 320.0 * positions * 625.0;
    assert!(close(w.tokens, positions * 25.0, 1e-12));
    assert!(
        close(w.flops_per_eval, linear + spatial + temporal, 1e-12),
        "{w:?}"
    );
    // Charging spatial attention over all frames' tokens at once (full 3D attention) would
    // cost more than 4x as much: what made SVD-XT predictions 4-8x too slow.
    let full_3d = linear + 22.8 * 320.0 * (positions * 25.0) * (positions * 25.0);
    assert!(full_3d / w.flops_per_eval > 4.0);
    // A 25-frame evaluation costs about 25 single-frame evaluations, not 25^2.
    let one = work(m, &DiffusionJob { frames: 1, ..job });
    let ratio = w.flops_per_eval / one.flops_per_eval;
    assert!((25.0..26.0).contains(&ratio), "{ratio}");
    // Full 3D attention stays quadratic for video DiTs: doubling the frames of a Wan pass
    // more than doubles its attention FLOPs.
    let wan = diffusion_model("Wan2.1 T2V 14B").unwrap();
    let wjob = DiffusionJob::default_for(wan);
    let short = work(wan, &DiffusionJob { frames: 41, ..wjob });
    let long = work(wan, &wjob);
    let attn =
        |w: &inferplan_perf::diffusion::DiffusionWork| w.flops_per_eval - 2.0 * 14e9 * w.tokens;
    let r = attn(&long) / attn(&short);
    let t = long.tokens / short.tokens;
    assert!(close(r, t * t, 1e-9), "{r} vs {t}^2");
}

#[test]
fn vae_decodes_in_the_pipelines_chunks() {
    let gib = 1024f64.powi(3);
    // SVD-XT: diffusers decodes all frames of a call at once (decode_chunk_size defaults to
    // num_frames); a clip longer than the 25 frames of one pass is made and decoded pass by
    // pass, so the decode peak is 768 B x 1024 x 576 x 25 frames whatever the clip's length.
    let svd = diffusion_model("SVD-XT").unwrap();
    let base = DiffusionJob::default_for(svd);
    let per_pass = 768.0 * 1024.0 * 576.0 * 25.0 / gib;
    for frames in [25, 98, 250] {
        let job = DiffusionJob { frames, ..base };
        let mem = memory(svd, &job, Dtype::Fp16, Offload::None);
        assert!(close(mem.vae_decode_gib, per_pass, 1e-12), "{frames}");
        // Weights 1.62 B params x 2 B + runtime + the decode peak: about 14.6 GiB, where
        // decoding 250 frames at once would need over 100 GiB.
        assert!(mem.total_gib < 15.0, "{frames}: {mem:?}");
        let w = work(svd, &job);
        assert_eq!(w.vae_calls, frames.div_ceil(25));
        assert!(close(
            w.vae_flops,
            2.0 * 97.743e6 * 1024.0 * 576.0 * frames as f64 / 16.0,
            1e-9
        ));
    }
    // HunyuanVideo: frame-wise decoding of 17-frame tiles every 12 frames (diffusers
    // AutoencoderKLHunyuanVideo defaults): 17 frames live, 129 x 17 / 12 frames decoded.
    let hy = diffusion_model("HunyuanVideo").unwrap();
    let job = DiffusionJob::default_for(hy);
    assert_eq!(job.frames, 129);
    let w = work(hy, &job);
    assert_eq!((w.vae_live_frames, w.vae_calls), (17, 11));
    let px = 1280.0 * 720.0;
    assert!(close(
        w.vae_flops,
        2.0 * 246.479e6 * px * 129.0 * 17.0 / 12.0 / 16.0,
        1e-9
    ));
    let mem = memory(hy, &job, Dtype::Bf16, Offload::None);
    assert!(close(mem.vae_decode_gib, 768.0 * px * 17.0 / gib, 1e-12));
    // Images decode the whole batch in one call.
    let sd = diffusion_model("SD 1.5").unwrap();
    let sd_job = DiffusionJob {
        batch: 4,
        ..DiffusionJob::default_for(sd)
    };
    let w = work(sd, &sd_job);
    assert_eq!((w.vae_live_frames, w.vae_calls), (1, 1));
}

#[test]
fn leave_one_source_out_beats_the_issue_7_model() {
    // Issue 16: the issue 7 model scored 39.8 % median APE cross-validated by source; the
    // activation traffic and the measured GEMM ceiling brought it to 25.8 %, the engines'
    // execution (eager dispatch, compiled and TensorRT fusion) to 21.5 %. Target: 25 %.
    let Some(text) = measured() else {
        eprintln!("skipped: diffusion_latency.csv absent");
        return;
    };
    let (cases, _) = prepare_diffusion(&text, "diffusion_latency.csv", catalog()).unwrap();
    let bandwidth = DiffusionEfficiencies::embedded().global.bandwidth;
    let predicted = cross_validate(&cases, bandwidth, QUIET).unwrap();
    let mut apes: Vec<f64> = cases
        .iter()
        .zip(&predicted)
        .map(|(c, p)| (p - c.value).abs() / c.value * 100.0)
        .collect();
    apes.sort_by(f64::total_cmp);
    let median = apes[apes.len() / 2];
    assert!(median <= 25.0, "cross-validated median APE {median:.1} %");
}

#[test]
fn activation_traffic_and_gemm_ceiling() {
    // SD 1.5 at 512x512, CFG, batch 1: 18 units x 320 channels x 4,096 tokens x 2 evaluations.
    let sd = diffusion_model("SD 1.5").unwrap();
    let w = work(sd, &DiffusionJob::default_for(sd));
    assert!(close(
        w.activation_units_per_step,
        18.0 * 320.0 * 4096.0 * 2.0,
        1e-12
    ));
    // Wan 14B: layers x hidden x tokens.
    let wan = diffusion_model("Wan2.1 T2V 14B").unwrap();
    let ww = work(wan, &DiffusionJob::default_for(wan));
    assert!(close(
        ww.activation_units_per_step,
        40.0 * 5120.0 * 75_600.0 * 2.0,
        1e-12
    ));
    // The ceiling is the measured GEMM curve where there is one, else the median of them.
    let a100 = catalog().gpu("A100 80GB SXM4").unwrap();
    let t4 = catalog().gpu("T4").unwrap();
    let curve = inferplan_perf::kernels::CurveSet::embedded()
        .unwrap()
        .entries
        .iter()
        .find(|e| e.gpu == a100.name && e.op == inferplan_perf::kernels::Op::Gemm)
        .map(|e| e.curve.compute)
        .unwrap();
    assert_eq!(gemm_ceiling(a100, Dtype::Bf16), curve);
    let c = gemm_ceiling(t4, Dtype::Fp16);
    assert!((0.5..1.0).contains(&c), "{c}");
    // With the same efficiencies, a GPU with less bandwidth per FLOP spends a larger share of
    // an SD 1.5 step on activation traffic: a T4 (65 TFLOPS, 320 GB/s) step is more than
    // the peak ratio slower than an A100's (312 TFLOPS, 2,039 GB/s) at batch 16.
    let e = DiffusionEfficiencies::embedded().global;
    let job = DiffusionJob {
        batch: 16,
        ..DiffusionJob::default_for(sd)
    };
    let step = |g| {
        time(sd, &job, g, Dtype::Fp16, Offload::None, &e)
            .unwrap()
            .step_s
    };
    let no_traffic = inferplan_perf::diffusion::DiffusionEfficiency {
        activation_bytes: 0.0,
        ..e
    };
    let step0 = |g| {
        time(sd, &job, g, Dtype::Fp16, Offload::None, &no_traffic)
            .unwrap()
            .step_s
    };
    assert!(step(t4) / step(a100) > step0(t4) / step0(a100));
}

#[test]
fn engines_run_eager_compiled_or_tensorrt() {
    // The engine names of the measured rows, as written.
    for (engine, x) in [
        (
            "diffusers 0.17.0.dev0 (torch 2.0 - no compile)",
            Execution::Eager,
        ),
        (
            "diffusers 0.17.0.dev0 (torch 2.0 - compile)",
            Execution::Compiled,
        ),
        ("Diffusers (torch 2.1, SDPA, compiled)", Execution::Compiled),
        ("onnxruntime (CUDA)", Execution::Compiled),
        ("OneFlow", Execution::Compiled),
        ("Stable Fast (torch 2.1)", Execution::Compiled),
        ("onnxruntime (Tensorrt (cuda graph))", Execution::TensorRt),
        ("TensorRT (NVIDIA MLPerf harness)", Execution::TensorRt),
        ("Comfy (torch 2.1, xformers)", Execution::Eager),
        ("LightX2V_2 (BF16)", Execution::Eager),
    ] {
        assert_eq!(Execution::of_engine(engine), x, "{engine}");
    }
    // One SD 1.5 step at batch 1 on an H100: eager is bound by its dispatch, TensorRT moves a
    // share of the activations and is faster than compiled, which is faster than eager.
    let c = catalog();
    let h100 = c.gpu("H100 SXM").unwrap();
    let sd = diffusion_model("sd15").unwrap();
    let job = DiffusionJob::default_for(sd);
    let w = work(sd, &job);
    let e = DiffusionEfficiencies::embedded().lookup(h100.arch);
    let step = |x| {
        time_of(sd, &job, &w, h100, Dtype::Fp16, Offload::None, x, &e)
            .unwrap()
            .step_s
    };
    assert!(e.eager_dispatch_ms > 0.0);
    assert!(step(Execution::Eager) >= e.eager_dispatch_ms / 1e3);
    assert!(step(Execution::TensorRt) < step(Execution::Compiled));
    assert!(step(Execution::Compiled) < step(Execution::Eager));
    assert_eq!(
        time(sd, &job, h100, Dtype::Fp16, Offload::None, &e)
            .unwrap()
            .step_s,
        step(Execution::Eager),
        "`time` is the diffusers (eager) pipeline"
    );
}

#[test]
fn mlperf_sdxl_runs_an_fp8_tensorrt_unet() {
    // NVIDIA's MLPerf v4.1 SDXL harness quantizes the UNet to FP8 and runs TensorRT; modelled
    // as BF16 eager the rows were predicted at 0.47x the measured throughput.
    let Some(text) = measured() else {
        eprintln!("skipped: diffusion_latency.csv absent");
        return;
    };
    let (cases, _) = prepare_diffusion(&text, "diffusion_latency.csv", catalog()).unwrap();
    let t = DiffusionEfficiencies::embedded();
    let mut ratios: Vec<f64> = cases
        .iter()
        .filter(|c| c.source == "mlperf-v4.1-sdxl")
        .inspect(|c| {
            assert_eq!(c.dtype, Dtype::Fp8, "{}", c.id);
            assert_eq!(c.execution, Execution::TensorRt, "{}", c.id);
            assert!(c.precision_stated, "{}", c.id);
        })
        .map(|c| c.predict_with(t) / c.value)
        .collect();
    assert_eq!(ratios.len(), 11);
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    assert!(
        (0.8..1.25).contains(&median),
        "median pred/meas {median:.2}"
    );
}
