//! Tests of the streaming metrics (histogram, summary, series) and the SVG plotter.

use inferplan_sim::metrics::{Downsample, Histogram, Series};
use inferplan_sim::plot::{svg, Line, Panel};
use proptest::prelude::*;

/// Exact nearest-rank quantile of sorted values.
fn exact_quantile(sorted: &[u64], q: f64) -> u64 {
    let n = sorted.len();
    let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
    sorted[rank - 1]
}

fn assert_close(got: u64, want: u64, what: &str) {
    let err = got.abs_diff(want) as f64 / (want as f64).max(1.0);
    assert!(
        err <= 0.01,
        "{what}: got {got}, want {want} (error {err:.4})"
    );
}

const QS: [f64; 9] = [0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999];

#[test]
fn uniform_quantiles_within_one_percent() {
    let mut h = Histogram::new();
    for v in 1..=1_000_000u64 {
        h.record(v);
    }
    assert_eq!(h.count(), 1_000_000);
    assert_eq!(h.min(), 1);
    assert_eq!(h.max(), 1_000_000);
    assert_eq!(h.mean(), 500_000.5);
    for q in QS {
        let want = (q * 1_000_000.0).ceil() as u64;
        assert_close(h.quantile(q), want, &format!("uniform q={q}"));
    }
    assert_eq!(h.quantile(0.0), 1);
    assert_eq!(h.quantile(1.0), 1_000_000);
}

/// SplitMix64: a fixed pseudo-random sequence independent of the crate under test.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[test]
fn exponential_quantiles_within_one_percent_and_mean_exact() {
    let mut state = 42;
    let values: Vec<u64> = (0..200_000)
        .map(|_| {
            let u = (splitmix(&mut state) >> 11) as f64 / (1u64 << 53) as f64;
            // Mean 250 ms in microseconds.
            (-(1.0 - u).ln() * 250_000.0) as u64
        })
        .collect();
    let mut h = Histogram::new();
    for &v in &values {
        h.record(v);
    }
    let mut sorted = values.clone();
    sorted.sort_unstable();
    for q in QS {
        assert_close(
            h.quantile(q),
            exact_quantile(&sorted, q),
            &format!("exp q={q}"),
        );
    }
    let sum: u128 = values.iter().map(|&v| u128::from(v)).sum();
    assert_eq!(h.sum(), sum);
    assert_eq!(h.mean(), sum as f64 / values.len() as f64);
    assert_eq!(h.min(), sorted[0]);
    assert_eq!(h.max(), *sorted.last().unwrap());
}

#[test]
fn small_values_are_exact() {
    let mut h = Histogram::new();
    for v in 0..128u64 {
        h.record(v);
    }
    for v in 0..128u64 {
        let q = (v + 1) as f64 / 128.0;
        assert_eq!(h.quantile(q), v);
    }
}

#[test]
fn record_n_equals_repeated_record() {
    let mut a = Histogram::new();
    let mut b = Histogram::new();
    a.record_n(1234, 5);
    a.record_n(99, 0);
    for _ in 0..5 {
        b.record(1234);
    }
    assert_eq!(a, b);
    assert_eq!(a.count(), 5);
    assert_eq!(a.mean(), 1234.0);
}

#[test]
fn merge_equals_recording_everything() {
    let mut state = 7;
    let values: Vec<u64> = (0..10_000)
        .map(|_| splitmix(&mut state) % 10_000_000)
        .collect();
    let mut all = Histogram::new();
    let mut left = Histogram::new();
    let mut right = Histogram::new();
    for (i, &v) in values.iter().enumerate() {
        all.record(v);
        if i % 3 == 0 {
            left.record(v);
        } else {
            right.record(v);
        }
    }
    left.merge(&right);
    assert_eq!(left, all);
    for q in QS {
        assert_eq!(left.quantile(q), all.quantile(q));
    }
    // Merging an empty histogram changes nothing, and merging into one copies.
    let mut empty = Histogram::new();
    left.merge(&Histogram::new());
    assert_eq!(left, all);
    empty.merge(&all);
    assert_eq!(empty, all);
}

#[test]
fn empty_histogram_and_clear() {
    let mut h = Histogram::new();
    assert!(h.is_empty());
    assert_eq!(
        (h.count(), h.mean(), h.min(), h.max(), h.quantile(0.5)),
        (0, 0.0, 0, 0, 0)
    );
    h.record(5_000);
    h.clear();
    assert_eq!(h, Histogram::new());
}

#[test]
fn memory_does_not_grow() {
    let mut h = Histogram::new();
    let size = std::mem::size_of::<Histogram>();
    let (buckets, heap) = (h.bucket_count(), h.heap_bytes());
    assert_eq!(buckets, Histogram::BUCKETS);
    assert!(heap <= 32 * 1024, "histogram holds {heap} bytes");
    let mut state = 1;
    for i in 0..1_000_000u64 {
        h.record(splitmix(&mut state) >> (i % 64));
    }
    h.record(u64::MAX);
    h.record(0);
    assert_eq!(std::mem::size_of::<Histogram>(), size);
    assert_eq!(h.bucket_count(), buckets);
    assert_eq!(h.heap_bytes(), heap);
}

#[test]
fn summary_is_in_milliseconds() {
    let mut h = Histogram::new();
    for v in [1_000u64, 2_000, 3_000, 4_000] {
        h.record(v);
    }
    let s = h.summary_ms();
    assert_eq!(s.mean, 2.5);
    assert_eq!(s.max, 4.0);
    assert!((s.p50 - 2.0).abs() <= 0.02, "{s:?}");
    assert!(s.p50 <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.p999 && s.p999 <= s.max);
}

#[test]
fn series_keeps_at_most_capacity_and_preserves_max() {
    let mut s = Series::new(100, Downsample::Max);
    for i in 0..100_000u64 {
        let v = if i == 31_337 { 1e9 } else { (i % 17) as f64 };
        s.push(i * 1_000, v);
        assert!(s.len() <= 100, "{} points after {i} pushes", s.len());
        assert_eq!(s.points().len(), s.len());
    }
    let points = s.points();
    assert!(points.len() >= 50, "too few points: {}", points.len());
    assert!(points.contains(&(31_337_000, 1e9)));
    assert!(points.windows(2).all(|w| w[0].0 <= w[1].0), "out of order");

    let mut last = Series::new(10, Downsample::Last);
    for i in 0..1_000u64 {
        last.push(i, i as f64);
    }
    assert!(last.len() <= 10);
    assert_eq!(last.points().last(), Some(&(999, 999.0)));

    let secs = last.points_secs();
    assert_eq!(secs.last(), Some(&(999.0 / 1e6, 999.0)));
}

#[test]
fn series_small_capacity_and_nan() {
    let mut s = Series::new(0, Downsample::Max);
    assert_eq!(s.capacity(), 2);
    s.push(0, f64::NAN);
    s.push(1, 3.0);
    s.push(2, 1.0);
    assert!(s.len() <= 2);
    assert!(s.points().iter().any(|&(_, v)| v == 3.0));
    assert!(Series::default().is_empty());
}

/// Checks that every tag is closed in order; returns the names of the elements seen.
fn check_well_formed(doc: &str) -> Vec<String> {
    let mut stack: Vec<String> = Vec::new();
    let mut seen = Vec::new();
    let mut rest = doc;
    while let Some(start) = rest.find('<') {
        let text = &rest[..start];
        assert!(!text.contains('>'), "stray '>' in text {text:?}");
        let end = rest[start..].find('>').expect("unterminated tag") + start;
        let tag = &rest[start + 1..end];
        assert!(!tag.contains('<'), "'<' inside tag {tag:?}");
        assert_eq!(
            tag.matches('"').count() % 2,
            0,
            "unbalanced quotes in {tag:?}"
        );
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack.pop().expect("closing tag without opening");
            assert_eq!(open, name.trim(), "mismatched closing tag");
        } else {
            let name: String = tag
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '/')
                .collect();
            seen.push(name.clone());
            if !tag.ends_with('/') {
                stack.push(name);
            }
        }
        rest = &rest[end + 1..];
    }
    assert!(rest.trim().is_empty(), "text after the root element");
    assert!(stack.is_empty(), "unclosed tags: {stack:?}");
    // Every '&' starts an entity.
    for (i, _) in doc.match_indices('&') {
        let entity = &doc[i..doc[i..].find(';').map_or(doc.len(), |j| i + j + 1)];
        assert!(
            ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].contains(&entity),
            "bad entity {entity:?}"
        );
    }
    seen
}

fn sample_panels() -> Vec<Panel> {
    let p50: Vec<(f64, f64)> = (0..60).map(|i| (i as f64, 100.0 + i as f64)).collect();
    let p99: Vec<(f64, f64)> = (0..60)
        .map(|i| (i as f64, 400.0 + 3.0 * i as f64))
        .collect();
    vec![
        Panel {
            title: "TTFT per 1 s window".into(),
            y_label: "TTFT (ms)".into(),
            lines: vec![
                Line {
                    label: "p50".into(),
                    points: p50,
                },
                Line {
                    label: "p99 <slo & \"x\">".into(),
                    points: p99,
                },
            ],
        },
        Panel {
            title: "Replicas".into(),
            y_label: "replicas".into(),
            lines: vec![Line {
                label: "ready".into(),
                points: vec![(0.0, 2.0), (20.0, 2.0), (20.0, 3.0), (59.0, 3.0)],
            }],
        },
    ]
}

#[test]
fn svg_is_well_formed_and_escaped() {
    let doc = svg("Fleet <A&B>", &sample_panels());
    let elements = check_well_formed(&doc);
    assert_eq!(elements.first().map(String::as_str), Some("svg"));
    assert!(doc.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(doc.contains("Fleet &lt;A&amp;B&gt;"));
    assert!(!doc.contains("<A&B>"));
    assert!(doc.contains("TTFT per 1 s window"));
    assert!(doc.contains("Replicas"));
    assert!(doc.contains("TTFT (ms)"));
    assert!(doc.contains("p99 &lt;slo &amp; &quot;x&quot;&gt;"));
    assert!(doc.contains("time (s)"));
    assert_eq!(elements.iter().filter(|e| *e == "polyline").count(), 3);
    // Two lines in the first panel get different colours.
    assert!(doc.contains("#1f77b4") && doc.contains("#d62728"));
    // Deterministic.
    assert_eq!(doc, svg("Fleet <A&B>", &sample_panels()));
}

#[test]
fn svg_handles_degenerate_input() {
    for panels in [
        vec![],
        vec![Panel::default()],
        vec![Panel {
            title: "odd".into(),
            y_label: String::new(),
            lines: vec![
                Line {
                    label: "one point".into(),
                    points: vec![(5.0, 5.0)],
                },
                Line {
                    label: "gaps".into(),
                    points: vec![
                        (0.0, 1.0),
                        (1.0, f64::NAN),
                        (2.0, -3.0),
                        (f64::INFINITY, 0.0),
                        (3.0, 1e300),
                    ],
                },
                Line {
                    label: "empty".into(),
                    points: vec![],
                },
            ],
        }],
    ] {
        let doc = svg("t", &panels);
        check_well_formed(&doc);
        assert!(!doc.contains("NaN") && !doc.contains("inf"), "{doc}");
    }
}

proptest! {
    #[test]
    fn random_values_never_panic_and_quantiles_are_monotone(
        values in prop::collection::vec((any::<u64>(), 0u64..4), 0..200),
        small in prop::collection::vec(0u64..1_000_000, 0..200),
        mut qs in prop::collection::vec(0.0f64..=1.0, 1..20),
    ) {
        let mut h = Histogram::new();
        for &(v, n) in &values {
            h.record_n(v, n);
        }
        for &v in &small {
            h.record(v);
        }
        let _ = h.summary_ms();
        let _ = h.quantile(f64::NAN);
        let _ = h.quantile(-1.0);
        let _ = h.quantile(2.0);
        qs.sort_by(f64::total_cmp);
        let got: Vec<u64> = qs.iter().map(|&q| h.quantile(q)).collect();
        prop_assert!(got.windows(2).all(|w| w[0] <= w[1]), "not monotone: {:?} -> {:?}", qs, got);
        if !h.is_empty() {
            prop_assert!(got.iter().all(|&g| h.min() <= g && g <= h.max()));
        }
    }

    #[test]
    fn quantiles_within_one_percent_of_exact(
        values in prop::collection::vec(any::<u64>(), 1..300),
        q in 0.0f64..=1.0,
    ) {
        let mut h = Histogram::new();
        for &v in &values {
            h.record(v);
        }
        let mut sorted = values.clone();
        sorted.sort_unstable();
        let want = exact_quantile(&sorted, q);
        let got = h.quantile(q);
        prop_assert!(got.abs_diff(want) as f64 <= want as f64 / 100.0, "q={} got {} want {}", q, got, want);
    }
}
