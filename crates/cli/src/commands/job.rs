//! The diffusion job flags (`--width`, `--steps`, ...) applied over a job spec, for `fit`,
//! `estimate` and `plan`.

use crate::args::DiffusionJobArgs;
use inferplan_perf::diffusion::JobSpec;

/// Applies the job flags that were given over `spec` (`--frames` replaces `seconds` and the
/// other way round).
pub fn overlay(j: &DiffusionJobArgs, spec: &mut JobSpec) {
    let DiffusionJobArgs {
        width,
        height,
        frames,
        seconds,
        fps,
        steps,
        batch,
        no_cfg,
    } = *j;
    for (flag, field) in [
        (width, &mut spec.width),
        (height, &mut spec.height),
        (steps, &mut spec.steps),
        (batch, &mut spec.batch),
    ] {
        if flag.is_some() {
            *field = flag;
        }
    }
    if frames.is_some() {
        spec.frames = frames;
        spec.seconds = None;
    }
    if seconds.is_some() {
        spec.seconds = seconds;
        spec.frames = None;
    }
    if fps.is_some() {
        spec.fps = fps;
    }
    if no_cfg {
        spec.cfg = Some(false);
    }
}
