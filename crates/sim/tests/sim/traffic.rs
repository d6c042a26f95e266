//! Request generation: determinism, arrival statistics, length distributions, parsing and
//! trace replay.

use inferplan_plan::{Trace, TraceRequest, Workload};
use inferplan_sim::rng::Rng;
use inferplan_sim::traffic::{
    Arrivals, LengthDist, Limit, Request, Traffic, TrafficError, TrafficSpec,
};
use proptest::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;

fn spec(arrivals: Arrivals, limit: Limit) -> TrafficSpec {
    TrafficSpec {
        arrivals,
        input: LengthDist::LogNormal {
            mean: 800.0,
            p99: 6000.0,
        },
        output: LengthDist::Uniform { lo: 50, hi: 400 },
        limit,
    }
}

fn generate(spec: TrafficSpec, seed: u64) -> Vec<Request> {
    Traffic::new(spec, seed).expect("valid spec").collect()
}

/// Mean and coefficient of variation of the gaps between consecutive arrivals, µs.
fn gap_stats(requests: &[Request]) -> (f64, f64) {
    let gaps: Vec<f64> = requests
        .windows(2)
        .map(|w| (w[1].arrival_us - w[0].arrival_us) as f64)
        .collect();
    let n = gaps.len() as f64;
    let mean = gaps.iter().sum::<f64>() / n;
    let var = gaps.iter().map(|g| (g - mean) * (g - mean)).sum::<f64>() / n;
    (mean, var.sqrt() / mean)
}

fn assert_well_formed(requests: &[Request]) {
    for (i, r) in requests.iter().enumerate() {
        assert_eq!(r.id, i as u64);
        assert!(r.input_tokens >= 1 && r.output_tokens >= 1, "{r:?}");
    }
    assert!(requests
        .windows(2)
        .all(|w| w[0].arrival_us <= w[1].arrival_us));
}

#[test]
fn same_seed_same_stream_different_seed_different_stream() {
    let s = spec(
        Arrivals::Gamma {
            rate_rps: 30.0,
            cv: 1.5,
        },
        Limit::Requests(10_000),
    );
    let a = generate(s.clone(), 42);
    let b = generate(s.clone(), 42);
    let c = generate(s, 43);
    assert_eq!(a.len(), 10_000);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_well_formed(&a);
    assert_well_formed(&c);
}

#[test]
fn arrival_times_do_not_depend_on_the_length_distributions() {
    let mut s = spec(Arrivals::Poisson { rate_rps: 10.0 }, Limit::Requests(1000));
    let a = generate(s.clone(), 9);
    s.input = LengthDist::Fixed(5);
    s.output = LengthDist::Normal {
        mean: 100.0,
        sd: 10.0,
    };
    let b = generate(s, 9);
    let times = |v: &[Request]| v.iter().map(|r| r.arrival_us).collect::<Vec<_>>();
    assert_eq!(times(&a), times(&b));
    assert!(b.iter().all(|r| r.input_tokens == 5));
}

#[test]
fn poisson_has_the_mean_rate_and_unit_cv() {
    let requests = generate(
        spec(
            Arrivals::Poisson { rate_rps: 100.0 },
            Limit::Requests(100_000),
        ),
        1,
    );
    assert_eq!(requests.len(), 100_000);
    let (mean_gap, cv) = gap_stats(&requests);
    let rate = 1e6 / mean_gap;
    assert!((rate - 100.0).abs() < 1.5, "rate {rate}");
    assert!((cv - 1.0).abs() < 0.03, "cv {cv}");
    assert_well_formed(&requests);
}

#[test]
fn gamma_has_the_given_cv() {
    for (seed, cv_wanted) in [(2, 2.0), (3, 0.5), (4, 3.0)] {
        let requests = generate(
            spec(
                Arrivals::Gamma {
                    rate_rps: 50.0,
                    cv: cv_wanted,
                },
                Limit::Requests(100_000),
            ),
            seed,
        );
        let (mean_gap, cv) = gap_stats(&requests);
        let rate = 1e6 / mean_gap;
        assert!(
            (rate - 50.0).abs() < 0.04 * 50.0,
            "cv {cv_wanted}: rate {rate}"
        );
        assert!(
            (cv - cv_wanted).abs() < 0.05 * cv_wanted,
            "cv {cv_wanted}: measured {cv}"
        );
    }
    // cv = 0: evenly spaced.
    let requests = generate(
        spec(
            Arrivals::Gamma {
                rate_rps: 50.0,
                cv: 0.0,
            },
            Limit::Requests(1000),
        ),
        5,
    );
    assert!(requests
        .windows(2)
        .all(|w| w[1].arrival_us - w[0].arrival_us == 20_000));
}

#[test]
fn profile_hourly_counts_follow_the_rates() {
    let mut hourly_rps = [0.0; 24];
    for (h, r) in hourly_rps.iter_mut().enumerate() {
        *r = f64::from((h % 6) as u32 + 1) * 0.5;
    }
    hourly_rps[3] = 0.0;
    let days = 2;
    let requests = generate(
        spec(
            Arrivals::Profile {
                hourly_rps,
                cv: 1.0,
            },
            Limit::DurationUs(days * 24 * 3_600_000_000),
        ),
        6,
    );
    assert_well_formed(&requests);
    let mut counts = [0u64; 24];
    for r in &requests {
        counts[((r.arrival_us / 3_600_000_000) % 24) as usize] += 1;
    }
    assert_eq!(counts[3], 0, "an hour at rate 0 has no arrivals");
    for h in 0..24 {
        let expected = hourly_rps[h] * 3600.0 * days as f64;
        let got = counts[h] as f64;
        assert!(
            (got - expected).abs() <= 0.06 * expected,
            "hour {h}: {got} arrivals, expected {expected}"
        );
    }

    // Bursty: the daily total still matches.
    let requests = generate(
        spec(
            Arrivals::Profile {
                hourly_rps,
                cv: 2.0,
            },
            Limit::DurationUs(days * 24 * 3_600_000_000),
        ),
        7,
    );
    let expected = hourly_rps.iter().sum::<f64>() * 3600.0 * days as f64;
    let got = requests.len() as f64;
    assert!(
        (got - expected).abs() < 0.03 * expected,
        "{got} vs {expected}"
    );
    assert!(requests
        .iter()
        .all(|r| (r.arrival_us / 3_600_000_000) % 24 != 3));
}

#[test]
fn duration_limit_stops_before_the_end() {
    let requests = generate(
        spec(
            Arrivals::Poisson { rate_rps: 20.0 },
            Limit::DurationUs(60_000_000),
        ),
        8,
    );
    assert!(requests.iter().all(|r| r.arrival_us < 60_000_000));
    assert!((1000..1400).contains(&requests.len()), "{}", requests.len());
    let none = generate(
        spec(Arrivals::Poisson { rate_rps: 20.0 }, Limit::Requests(0)),
        8,
    );
    assert!(none.is_empty());
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u32], q: f64) -> u32 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[test]
fn lognormal_sample_mean_and_p99() {
    let dist: LengthDist = "lognormal:mean=800,p99=6000".parse().expect("parses");
    let mut rng = Rng::new(11);
    let mut xs: Vec<u32> = (0..200_000).map(|_| dist.sample(&mut rng)).collect();
    let mean = xs.iter().map(|&x| f64::from(x)).sum::<f64>() / xs.len() as f64;
    xs.sort_unstable();
    let p99 = f64::from(percentile(&xs, 0.99));
    assert!((mean - 800.0).abs() < 0.03 * 800.0, "mean {mean}");
    assert!((p99 - 6000.0).abs() < 0.05 * 6000.0, "p99 {p99}");
    assert_eq!(dist.mean(), 800.0);

    // The same through the generator (which solves σ and μ once).
    let mut s = spec(
        Arrivals::Poisson { rate_rps: 10.0 },
        Limit::Requests(200_000),
    );
    s.output = dist;
    let mut out: Vec<u32> = generate(s, 12).iter().map(|r| r.output_tokens).collect();
    let mean = out.iter().map(|&x| f64::from(x)).sum::<f64>() / out.len() as f64;
    out.sort_unstable();
    assert!((mean - 800.0).abs() < 0.03 * 800.0, "mean {mean}");
    let p99 = f64::from(percentile(&out, 0.99));
    assert!((p99 - 6000.0).abs() < 0.05 * 6000.0, "p99 {p99}");
}

#[test]
fn other_length_distributions_match_their_means() {
    let cases = [
        LengthDist::Fixed(300),
        LengthDist::Uniform { lo: 100, hi: 900 },
        LengthDist::Normal {
            mean: 500.0,
            sd: 100.0,
        },
        // Heavily truncated: the mean is well above 2.
        LengthDist::Normal {
            mean: 2.0,
            sd: 10.0,
        },
        LengthDist::Empirical(vec![1, 10, 100, 0]),
    ];
    for (seed, dist) in cases.into_iter().enumerate() {
        let mut rng = Rng::new(seed as u64);
        let xs: Vec<u32> = (0..100_000).map(|_| dist.sample(&mut rng)).collect();
        assert!(xs.iter().all(|&x| x >= 1));
        let mean = xs.iter().map(|&x| f64::from(x)).sum::<f64>() / xs.len() as f64;
        let want = dist.mean();
        assert!(
            (mean - want).abs() < 0.02 * want,
            "{dist}: sample mean {mean}, mean() {want}"
        );
    }
    let mut rng = Rng::new(1);
    let u = LengthDist::Uniform { lo: 3, hi: 5 };
    let xs: Vec<u32> = (0..1000).map(|_| u.sample(&mut rng)).collect();
    assert!(xs.iter().all(|x| (3..=5).contains(x)));
    assert!([3, 4, 5].iter().all(|v| xs.contains(v)));
}

#[test]
fn parsing_accepts_the_documented_forms_and_writes_them_back() {
    let lengths = [
        ("800", LengthDist::Fixed(800)),
        (
            " uniform: lo=100, hi=900 ",
            LengthDist::Uniform { lo: 100, hi: 900 },
        ),
        (
            "normal:mean=500,sd=100",
            LengthDist::Normal {
                mean: 500.0,
                sd: 100.0,
            },
        ),
        (
            "LogNormal:p99=6000,mean=800",
            LengthDist::LogNormal {
                mean: 800.0,
                p99: 6000.0,
            },
        ),
    ];
    for (text, want) in lengths {
        let got: LengthDist = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(got, want, "{text}");
        assert_eq!(
            got.to_string().parse::<LengthDist>().expect("round trip"),
            got
        );
    }
    let arrivals = [
        ("poisson", Arrivals::Poisson { rate_rps: 1.0 }),
        ("poisson:rate=20", Arrivals::Poisson { rate_rps: 20.0 }),
        (
            "gamma:cv=2",
            Arrivals::Gamma {
                rate_rps: 1.0,
                cv: 2.0,
            },
        ),
        (
            "gamma:rate=7.5,cv=0.5",
            Arrivals::Gamma {
                rate_rps: 7.5,
                cv: 0.5,
            },
        ),
    ];
    for (text, want) in arrivals {
        let got: Arrivals = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(got, want, "{text}");
        assert_eq!(
            got.to_string().parse::<Arrivals>().expect("round trip"),
            got
        );
    }
    let mut hourly_rps = [1.0; 24];
    hourly_rps[0] = 2.5;
    hourly_rps[23] = 0.0;
    let profile = Arrivals::Profile {
        hourly_rps,
        cv: 1.5,
    };
    assert_eq!(
        profile.to_string().parse::<Arrivals>().expect("round trip"),
        profile
    );
    assert_eq!(
        "gamma:cv=2"
            .parse::<Arrivals>()
            .expect("parses")
            .with_mean_rate(30.0),
        Arrivals::Gamma {
            rate_rps: 30.0,
            cv: 2.0
        }
    );
}

#[test]
fn parsing_errors_are_one_line_and_say_what_is_wrong() {
    let lengths = [
        ("weibull:k=2", "unknown kind `weibull`"),
        ("", "empty"),
        ("lognormal:mean=800", "missing key `p99`"),
        ("uniform:lo=100", "missing key `hi`"),
        (
            "normal:mean=abc,sd=1",
            "`mean`: `abc` is not a finite number",
        ),
        ("normal:mean=inf,sd=1", "not a finite number"),
        ("uniform:lo=1.5,hi=9", "`lo`: `1.5` is not a whole number"),
        ("800.5", "`800.5` is not a whole number"),
        ("-3", "`-3` is not a whole number"),
        ("99999999999", "is not a whole number"),
        ("0", "must be at least 1 token"),
        (
            "lognormal:mean=800,p99=100",
            "`p99` must be at least the mean (800)",
        ),
        ("uniform:lo=9,hi=3", "`hi` must be at least lo (9)"),
        (
            "normal:mean=5,sd=-1",
            "`sd` must be finite and not negative",
        ),
        ("normal:mean=5,sd=1,x=2", "unknown key `x`"),
        ("normal:mean=5,mean=6,sd=1", "`mean` is given twice"),
        ("normal:mean", "expected `key=value`"),
    ];
    for (text, want) in lengths {
        let e = text.parse::<LengthDist>().expect_err(text).to_string();
        assert!(e.contains(want), "{text:?}: {e}");
        assert!(e.starts_with("invalid length distribution"), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }
    let arrivals = [
        ("uniform", "unknown kind `uniform`"),
        ("gamma", "missing key `cv`"),
        ("gamma:cv=x", "`cv`: `x` is not a finite number"),
        ("gamma:cv=1000", "`cv` must be a number in [0, 10]"),
        ("poisson:rate=0", "`rate` must be a number in (0, 100000]"),
        ("poisson:rate=-2", "`rate` must be a number in (0, 100000]"),
        ("poisson:cv=2", "unknown key `cv`"),
        ("profile:hourly=1/2/3", "needs 24 rates"),
        ("profile:cv=1", "missing key `hourly`"),
    ];
    for (text, want) in arrivals {
        let e = text.parse::<Arrivals>().expect_err(text).to_string();
        assert!(e.contains(want), "{text:?}: {e}");
        assert!(e.starts_with("invalid arrival process"), "{e}");
    }
    let e = "a\nb".parse::<Arrivals>().expect_err("newline").to_string();
    assert!(!e.contains('\n'), "{e}");
}

#[test]
fn invalid_specs_are_refused_with_the_field() {
    let bad = [
        (
            spec(Arrivals::Poisson { rate_rps: 0.0 }, Limit::Requests(1)),
            "arrivals.rate_rps",
        ),
        (
            spec(
                Arrivals::Gamma {
                    rate_rps: 1.0,
                    cv: f64::NAN,
                },
                Limit::Requests(1),
            ),
            "arrivals.cv",
        ),
        (
            spec(
                Arrivals::Profile {
                    hourly_rps: [0.0; 24],
                    cv: 1.0,
                },
                Limit::Requests(1),
            ),
            "arrivals.hourly_rps",
        ),
        (
            spec(
                Arrivals::Profile {
                    hourly_rps: {
                        let mut r = [1.0; 24];
                        r[7] = -1.0;
                        r
                    },
                    cv: 1.0,
                },
                Limit::Requests(1),
            ),
            "arrivals.hourly_rps[7]",
        ),
        (
            TrafficSpec {
                input: LengthDist::Empirical(vec![]),
                ..spec(Arrivals::Poisson { rate_rps: 1.0 }, Limit::Requests(1))
            },
            "input",
        ),
        (
            TrafficSpec {
                output: LengthDist::LogNormal {
                    mean: 800.0,
                    p99: 10.0,
                },
                ..spec(Arrivals::Poisson { rate_rps: 1.0 }, Limit::Requests(1))
            },
            "output.p99",
        ),
    ];
    for (s, field) in bad {
        match Traffic::new(s, 0) {
            Err(TrafficError::Invalid { field: f, message }) => {
                assert_eq!(f, field, "{message}");
            }
            other => panic!("{field}: expected an error, got {other:?}"),
        }
    }
}

fn small_trace_file(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    // Unsorted on purpose: the reader sorts by arrival.
    std::fs::write(
        &path,
        "arrival_s,input_tokens,output_tokens\n\
         10.0,100,10\n\
         11.0,200,20\n\
         13.0,300,0\n",
    )
    .expect("write trace");
    path
}

#[test]
fn trace_replay_with_time_scale_and_repeat() {
    let path = small_trace_file("traffic-replay.csv");
    let once = Arrivals::read_trace(&path).expect("reads");
    let requests = generate(
        TrafficSpec {
            arrivals: once.clone(),
            ..spec(Arrivals::Poisson { rate_rps: 1.0 }, Limit::Requests(100))
        },
        0,
    );
    // Relative to the first request; output 0 becomes 1 token.
    let rows: Vec<(u64, u32, u32)> = requests
        .iter()
        .map(|r| (r.arrival_us, r.input_tokens, r.output_tokens))
        .collect();
    assert_eq!(
        rows,
        [(0, 100, 10), (1_000_000, 200, 20), (3_000_000, 300, 1)]
    );

    // Twice as fast, three passes; each pass starts span (3 s) + mean gap (1.5 s) later.
    let Arrivals::Trace { trace, .. } = once else {
        unreachable!()
    };
    let arrivals = Arrivals::Trace {
        trace: Arc::clone(&trace),
        time_scale: 2.0,
        repeat: 3,
        input_from_trace: true,
        output_from_trace: false,
    };
    let s = TrafficSpec {
        arrivals,
        output: LengthDist::Fixed(7),
        ..spec(Arrivals::Poisson { rate_rps: 1.0 }, Limit::Requests(100))
    };
    let requests = generate(s.clone(), 0);
    let times: Vec<u64> = requests.iter().map(|r| r.arrival_us).collect();
    assert_eq!(
        times,
        [
            0, 500_000, 1_500_000, //
            2_250_000, 2_750_000, 3_750_000, //
            4_500_000, 5_000_000, 6_000_000,
        ]
    );
    assert!(requests.iter().all(|r| r.output_tokens == 7));
    let inputs: Vec<u32> = requests.iter().map(|r| r.input_tokens).collect();
    assert_eq!(inputs, [100, 200, 300, 100, 200, 300, 100, 200, 300]);
    assert_well_formed(&requests);

    // Limits: whichever comes first.
    let first4 = generate(
        TrafficSpec {
            limit: Limit::Requests(4),
            ..s.clone()
        },
        0,
    );
    assert_eq!(first4.len(), 4);
    let early = generate(
        TrafficSpec {
            limit: Limit::DurationUs(2_750_000),
            ..s
        },
        0,
    );
    assert_eq!(early.len(), 4);

    // The replayed trace's rate, and speeding it up.
    let replay = Arrivals::replay(Arc::clone(&trace));
    assert_eq!(replay.mean_rate_rps(), Some(2.0 / 3.0));
    let faster = replay.with_mean_rate(2.0);
    assert!(
        matches!(faster, Arrivals::Trace { time_scale, .. } if (time_scale - 3.0).abs() < 1e-12)
    );

    // Empirical lengths from the trace.
    let input = LengthDist::trace_input(&trace);
    let output = LengthDist::trace_output(&trace);
    assert_eq!(input, LengthDist::Empirical(vec![100, 200, 300]));
    assert_eq!(output, LengthDist::Empirical(vec![10, 20, 1]));
    let mut rng = Rng::new(3);
    assert!((0..100).all(|_| [100, 200, 300].contains(&input.sample(&mut rng))));

    // A missing file is an error naming it.
    let e = Arrivals::read_trace(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("nope.csv"))
        .expect_err("missing");
    assert!(e.to_string().contains("nope.csv"), "{e}");
}

#[test]
fn workload_traffic_becomes_a_spec() {
    let w = Workload::from_toml(
        r#"
[model]
name = "Llama 3.1 8B"

[traffic]
rate_rps = 4.0
burstiness = 2.0

[lengths]
input_tokens = { mean = 1000, p99 = 4000 }
output_tokens = 200
"#,
        "w.toml",
    )
    .expect("workload");
    let s = TrafficSpec::of_workload(&w, Limit::Requests(10));
    assert_eq!(
        s.arrivals,
        Arrivals::Gamma {
            rate_rps: 4.0,
            cv: 2.0
        }
    );
    assert_eq!(
        s.input,
        LengthDist::LogNormal {
            mean: 1000.0,
            p99: 4000.0
        }
    );
    assert_eq!(s.output, LengthDist::Fixed(200));
    assert_eq!(generate(s, 1).len(), 10);
}

#[test]
fn generated_replay_of_a_trace_built_in_memory_is_monotone() {
    // Out-of-order and negative arrivals (not produced by the reader) still come out sorted
    // enough: never decreasing.
    let trace = Trace {
        requests: vec![
            TraceRequest {
                arrival_us: 5,
                input_tokens: 1,
                output_tokens: 1,
            },
            TraceRequest {
                arrival_us: -3,
                input_tokens: u64::MAX,
                output_tokens: 2,
            },
        ],
    };
    let requests = generate(
        TrafficSpec {
            arrivals: Arrivals::replay(trace),
            ..spec(Arrivals::Poisson { rate_rps: 1.0 }, Limit::Requests(10))
        },
        0,
    );
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].input_tokens, u32::MAX);
    assert_well_formed(&requests);
}

/// A million requests; run with `cargo test --release -p inferplan-sim -- --ignored`.
#[test]
#[ignore = "timing; meaningful in release builds only"]
fn a_million_requests_in_well_under_a_second() {
    let start = std::time::Instant::now();
    let mut s = spec(
        Arrivals::Gamma {
            rate_rps: 100.0,
            cv: 2.0,
        },
        Limit::Requests(1_000_000),
    );
    s.output = LengthDist::Normal {
        mean: 300.0,
        sd: 100.0,
    };
    let (n, tokens) = Traffic::new(s, 1)
        .expect("valid")
        .fold((0u64, 0u64), |(n, t), r| {
            (n + 1, t + u64::from(r.input_tokens + r.output_tokens))
        });
    let elapsed = start.elapsed();
    assert_eq!(n, 1_000_000);
    assert!(tokens > 0);
    assert!(elapsed.as_secs_f64() < 0.5, "{elapsed:?}");
}

fn arb_length() -> impl Strategy<Value = LengthDist> {
    prop_oneof![
        (1u32..10_000).prop_map(LengthDist::Fixed),
        (1u32..5000, 0u32..5000).prop_map(|(lo, d)| LengthDist::Uniform { lo, hi: lo + d }),
        (1.0f64..5000.0, 0.0f64..3000.0).prop_map(|(mean, sd)| LengthDist::Normal { mean, sd }),
        (1.0f64..5000.0, 1.0f64..30.0).prop_map(|(mean, k)| LengthDist::LogNormal {
            mean,
            p99: mean * k
        }),
        prop::collection::vec(0u32..100_000, 1..20).prop_map(LengthDist::Empirical),
    ]
}

fn arb_arrivals() -> impl Strategy<Value = Arrivals> {
    prop_oneof![
        (0.001f64..1e5).prop_map(|rate_rps| Arrivals::Poisson { rate_rps }),
        (0.001f64..1e5, 0.0f64..10.0).prop_map(|(rate_rps, cv)| Arrivals::Gamma { rate_rps, cv }),
        (
            prop::array::uniform24(0.0f64..50.0),
            0.0f64..10.0,
            0usize..24
        )
            .prop_map(|(mut hourly_rps, cv, busy)| {
                hourly_rps[busy] += 1.0;
                Arrivals::Profile { hourly_rps, cv }
            }),
        (
            prop::collection::vec((0i64..10_000_000, 0u64..5000, 0u64..5000), 1..30),
            0.01f64..100.0,
            1u32..4,
            any::<bool>(),
        )
            .prop_map(|(rows, time_scale, repeat, from_trace)| {
                let mut requests: Vec<TraceRequest> = rows
                    .into_iter()
                    .map(|(arrival_us, input_tokens, output_tokens)| TraceRequest {
                        arrival_us,
                        input_tokens,
                        output_tokens,
                    })
                    .collect();
                requests.sort_by_key(|r| r.arrival_us);
                Arrivals::Trace {
                    trace: Arc::new(Trace { requests }),
                    time_scale,
                    repeat,
                    input_from_trace: from_trace,
                    output_from_trace: !from_trace,
                }
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn parsing_any_string_never_panics(text in "\\PC{0,40}", structured in
        "(poisson|gamma|profile|uniform|normal|lognormal|[0-9.+-]{1,6})(:([a-z0-9]{0,5}=[-0-9.e/a-z]{0,8},?){0,3})?")
    {
        for t in [&text, &structured] {
            if let Err(e) = t.parse::<LengthDist>() {
                prop_assert!(!e.to_string().contains('\n'));
            }
            if let Err(e) = t.parse::<Arrivals>() {
                prop_assert!(!e.to_string().contains('\n'));
            }
        }
    }

    #[test]
    fn generated_traffic_is_non_decreasing(
        arrivals in arb_arrivals(),
        input in arb_length(),
        output in arb_length(),
        seed in any::<u64>(),
        n in 0u64..2000,
    ) {
        let s = TrafficSpec { arrivals, input, output, limit: Limit::Requests(n) };
        let requests: Vec<Request> = Traffic::new(s, seed).expect("valid").collect();
        prop_assert!(requests.len() as u64 <= n);
        for (i, r) in requests.iter().enumerate() {
            prop_assert_eq!(r.id, i as u64);
            prop_assert!(r.input_tokens >= 1 && r.output_tokens >= 1);
        }
        prop_assert!(requests.windows(2).all(|w| w[0].arrival_us <= w[1].arrival_us));
    }
}
