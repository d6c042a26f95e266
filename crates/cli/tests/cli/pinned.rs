//! Pinned output bytes: the same inputs (and seed) give the same JSON on every platform.
//!
//! These tests pin the bytes so that platform `libm` differences show up. The expected-experts
//! term of a MoE step time is a power, and the simulator's traffic is drawn through
//! logarithms and exponentials; all of them must come from `inferplan_perf::portable`, never
//! from the platform's `powf`, `ln` or `exp`, whose last bits differ between systems. A
//! deliberate change to the model regenerates the snapshots with `UPDATE_SNAPSHOTS=1`.

use crate::common::{inferplan, stderr};
use crate::support::assert_snapshot;
use std::path::Path;

/// Runs `inferplan args` and compares its standard output with the snapshot
/// `tests/snapshots/pinned/<file>`, byte for byte, naming the first line that differs.
fn assert_pinned(args: &[&str], file: &str) {
    let out = inferplan(args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let got = String::from_utf8(out.stdout).expect("UTF-8 JSON");
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots/pinned")
        .join(file);
    assert_snapshot(&path, &got);
}

/// A MoE estimate at low concurrency, where the expected number of experts a step touches is
/// far from saturated, so the last bit of the power reaches the printed figures.
#[test]
fn moe_estimate_output_is_pinned_to_the_byte() {
    assert_pinned(
        &[
            "estimate",
            "--model",
            "qwen3-30b-a3b",
            "--gpu",
            "H100",
            "--gpus",
            "2",
            "--tp",
            "2",
            "--input-tokens",
            "900",
            "--output-tokens",
            "300",
            "--concurrency",
            "5",
            "--format",
            "json",
        ],
        "estimate_moe.json",
    );
}

/// A MoE simulation: Qwen3 30B-A3B on two H100s with TP 2, log-normal lengths, bursty
/// arrivals, seed 7. Simulated time is whole microseconds, so a last-bit difference in a step
/// time moves these bytes only near a rounding boundary; a different draw of the traffic
/// moves them all.
#[test]
fn moe_simulation_output_is_pinned_to_the_byte() {
    assert_pinned(
        &[
            "simulate",
            "--model",
            "qwen3-30b-a3b",
            "--gpu",
            "H100",
            "--gpus",
            "2",
            "--tp",
            "2",
            "--rate-rps",
            "30",
            "--requests",
            "400",
            "--input-tokens",
            "lognormal:mean=800,p99=6000",
            "--output-tokens",
            "lognormal:mean=200,p99=1500",
            "--arrivals",
            "gamma:cv=2",
            "--seed",
            "7",
            "--format",
            "json",
        ],
        "simulate_moe_seed7.json",
    );
}
