//! Self-contained SVG charts of simulation results: stacked panels sharing one time axis
//! (simulated seconds), e.g. TTFT p50/p99 per window above the replica count.
//!
//! No dependencies and deterministic output: coordinates are written with two decimals and tick
//! values are computed with plain arithmetic, so the same input gives the same bytes.

use std::fmt::Write as _;

/// One line of a [`Panel`]: a label for the legend and `(time_s, value)` points.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Line {
    /// Legend label.
    pub label: String,
    /// `(x, y)` points, x in simulated seconds; non-finite points break the line.
    pub points: Vec<(f64, f64)>,
}

/// One chart in the stack: a title, a y-axis label and its lines.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Panel {
    /// Title written above the panel.
    pub title: String,
    /// Label of the y axis (with its unit, e.g. `TTFT (ms)`).
    pub y_label: String,
    /// Lines drawn in this panel, each in its own colour.
    pub lines: Vec<Line>,
}

/// Line colours, in order (Tableau 10); later cycles are dashed so lines stay distinct.
const PALETTE: [&str; 10] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];
const DASHES: [&str; 3] = ["", "6,3", "2,2"];

const WIDTH: f64 = 960.0;
const LEFT: f64 = 80.0;
const PLOT_W: f64 = 660.0;
const LEGEND_X: f64 = LEFT + PLOT_W + 20.0;
const TOP: f64 = 50.0;
const PANEL_TITLE_H: f64 = 24.0;
const PLOT_H: f64 = 180.0;
const PANEL_H: f64 = PANEL_TITLE_H + PLOT_H + 36.0;
const BOTTOM: f64 = 30.0;

/// Renders `panels` stacked vertically under `title`, sharing the x axis (simulated time in
/// seconds), as a standalone SVG document.
///
/// Each panel has its own y axis starting at zero (or below, for negative values), ticks at
/// round values, grid lines and a legend. An empty panel list gives a document with the title.
pub fn svg(title: &str, panels: &[Panel]) -> String {
    let all_x = panels
        .iter()
        .flat_map(|p| p.lines.iter())
        .flat_map(|l| l.points.iter())
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|&(x, _)| x);
    let x_axis = Axis::new(all_x, false);

    let height = TOP + PANEL_H * panels.len() as f64 + BOTTOM;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#,
        w = fmt2(WIDTH),
        h = fmt2(height),
    );
    let _ = writeln!(out, "<title>{}</title>", escape(title));
    let _ = writeln!(
        out,
        r##"<rect x="0" y="0" width="{}" height="{}" fill="#ffffff"/>"##,
        fmt2(WIDTH),
        fmt2(height)
    );
    let _ = writeln!(
        out,
        r#"<text x="{}" y="30" text-anchor="middle" font-size="16" font-weight="bold">{}</text>"#,
        fmt2(WIDTH / 2.0),
        escape(title)
    );

    for (i, panel) in panels.iter().enumerate() {
        let top = TOP + PANEL_H * i as f64;
        write_panel(&mut out, panel, top, &x_axis);
    }

    if !panels.is_empty() {
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" text-anchor="middle">time (s)</text>"#,
            fmt2(LEFT + PLOT_W / 2.0),
            fmt2(height - 10.0)
        );
    }
    out.push_str("</svg>\n");
    out
}

fn write_panel(out: &mut String, panel: &Panel, top: f64, x_axis: &Axis) {
    let plot_top = top + PANEL_TITLE_H;
    let plot_bottom = plot_top + PLOT_H;
    let ys = panel
        .lines
        .iter()
        .flat_map(|l| l.points.iter())
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|&(_, y)| y);
    let y_axis = Axis::new(ys, true);
    let px = |x: f64| LEFT + x_axis.frac(x) * PLOT_W;
    let py = |y: f64| plot_bottom - y_axis.frac(y) * PLOT_H;

    let _ = writeln!(out, "<g>");
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" font-size="13" font-weight="bold">{}</text>"#,
        fmt2(LEFT),
        fmt2(top + 16.0),
        escape(&panel.title)
    );

    // Grid and ticks.
    for &(v, ref label) in &x_axis.ticks {
        let x = fmt2(px(v));
        let _ = writeln!(
            out,
            r##"<line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="#e0e0e0"/>"##,
            fmt2(plot_top),
            fmt2(plot_bottom)
        );
        let _ = writeln!(
            out,
            r##"<line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="#333333"/>"##,
            fmt2(plot_bottom),
            fmt2(plot_bottom + 4.0)
        );
        let _ = writeln!(
            out,
            r#"<text x="{x}" y="{}" text-anchor="middle">{}</text>"#,
            fmt2(plot_bottom + 17.0),
            escape(label)
        );
    }
    for &(v, ref label) in &y_axis.ticks {
        let y = fmt2(py(v));
        let _ = writeln!(
            out,
            r##"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#e0e0e0"/>"##,
            fmt2(LEFT),
            fmt2(LEFT + PLOT_W)
        );
        let _ = writeln!(
            out,
            r##"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#333333"/>"##,
            fmt2(LEFT - 4.0),
            fmt2(LEFT)
        );
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            fmt2(LEFT - 7.0),
            fmt2(py(v) + 4.0),
            escape(label)
        );
    }
    let _ = writeln!(
        out,
        r##"<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#333333"/>"##,
        fmt2(LEFT),
        fmt2(plot_top),
        fmt2(PLOT_W),
        fmt2(PLOT_H)
    );
    let mid_y = fmt2(plot_top + PLOT_H / 2.0);
    let _ = writeln!(
        out,
        r#"<text x="18" y="{mid_y}" text-anchor="middle" transform="rotate(-90 18 {mid_y})">{}</text>"#,
        escape(&panel.y_label)
    );

    // Lines and legend.
    for (j, line) in panel.lines.iter().enumerate() {
        let colour = PALETTE[j % PALETTE.len()];
        let dash = DASHES[(j / PALETTE.len()) % DASHES.len()];
        let dash_attr = if dash.is_empty() {
            String::new()
        } else {
            format!(r#" stroke-dasharray="{dash}""#)
        };
        for run in line
            .points
            .split(|(x, y)| !(x.is_finite() && y.is_finite()))
            .filter(|run| !run.is_empty())
        {
            if let [(x, y)] = run {
                let _ = writeln!(
                    out,
                    r#"<circle cx="{}" cy="{}" r="2.5" fill="{colour}"/>"#,
                    fmt2(px(*x)),
                    fmt2(py(*y))
                );
                continue;
            }
            let coords: Vec<String> = run
                .iter()
                .map(|&(x, y)| format!("{},{}", fmt2(px(x)), fmt2(py(y))))
                .collect();
            let _ = writeln!(
                out,
                r#"<polyline fill="none" stroke="{colour}" stroke-width="1.5"{dash_attr} points="{}"/>"#,
                coords.join(" ")
            );
        }
        let ly = plot_top + 12.0 + 18.0 * j as f64;
        let _ = writeln!(
            out,
            r#"<line x1="{}" y1="{ly}" x2="{}" y2="{ly}" stroke="{colour}" stroke-width="2"{dash_attr}/>"#,
            fmt2(LEGEND_X),
            fmt2(LEGEND_X + 20.0),
            ly = fmt2(ly)
        );
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}">{}</text>"#,
            fmt2(LEGEND_X + 26.0),
            fmt2(ly + 4.0),
            escape(&line.label)
        );
    }
    let _ = writeln!(out, "</g>");
}

/// An axis: its domain, rounded out to whole ticks, and the ticks with their labels.
struct Axis {
    lo: f64,
    hi: f64,
    ticks: Vec<(f64, String)>,
}

impl Axis {
    /// The axis covering `values` (and zero when `from_zero`, or when time starts at zero).
    fn new(values: impl Iterator<Item = f64>, from_zero: bool) -> Self {
        let (mut lo, mut hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        if lo > hi {
            (lo, hi) = (0.0, 1.0);
        }
        if from_zero || lo >= 0.0 {
            lo = lo.min(0.0);
        }
        if !(hi - lo).is_finite() {
            // Values near f64::MAX: give up on nice ticks but keep a usable domain.
            return Self {
                lo,
                hi,
                ticks: Vec::new(),
            };
        }
        if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
            hi = lo + lo.abs().max(1.0);
        }
        let step = nice_step(hi - lo);
        lo = (lo / step).floor() * step;
        hi = (hi / step).ceil() * step;
        let decimals = decimals(step);
        let n = ((hi - lo) / step).round().clamp(1.0, 50.0) as usize;
        let ticks = (0..=n)
            .map(|i| {
                let v = lo + step * i as f64;
                (v, fmt_fixed(v, decimals))
            })
            .collect();
        Self { lo, hi, ticks }
    }

    /// Position of `v` along the axis, 0 at `lo` and 1 at `hi`.
    fn frac(&self, v: f64) -> f64 {
        let span = self.hi - self.lo;
        if span > 0.0 && span.is_finite() {
            (v - self.lo) / span
        } else {
            0.5
        }
    }
}

/// A round tick step (1, 2 or 5 times a power of ten) giving about five ticks over `span`.
fn nice_step(span: f64) -> f64 {
    let raw = span / 5.0;
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mut mag = 1.0_f64;
    for _ in 0..400 {
        if mag * 10.0 <= raw {
            mag *= 10.0;
        } else if mag > raw {
            mag /= 10.0;
        } else {
            break;
        }
    }
    if !(mag.is_finite() && mag > 0.0) {
        return raw;
    }
    let r = raw / mag;
    let f = if r <= 1.0 {
        1.0
    } else if r <= 2.0 {
        2.0
    } else if r <= 5.0 {
        5.0
    } else {
        10.0
    };
    f * mag
}

/// Decimals needed to write multiples of `step` exactly enough.
fn decimals(step: f64) -> usize {
    let mut d = 0;
    let mut s = step;
    while s < 0.999_999 && d < 9 {
        s *= 10.0;
        d += 1;
    }
    d
}

/// `v` with `d` decimals, never "-0".
fn fmt_fixed(v: f64, d: usize) -> String {
    let s = format!("{v:.d$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// A coordinate with two decimals.
fn fmt2(v: f64) -> String {
    fmt_fixed(v, 2)
}

/// Escapes text for XML content and attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters other than tab and newlines are not allowed in XML 1.0.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}
