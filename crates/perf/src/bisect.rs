//! The search of the estimate's latency quantiles: the least value whose tail probability is
//! at most the one wanted, by bisection of a decreasing tail, either to the end or, with a
//! test of the answer, only until the bracket decides the test (the capacity search asks
//! "within the SLO?" at every rate it tries, not "how much?").

/// How the bracket of a search is widened and narrowed.
pub(crate) struct Bracket<W, C> {
    /// Lowest and first highest value tried.
    pub start: (f64, f64),
    /// The next highest value to try while the tail at the highest is above the wanted
    /// probability (`None`: stop widening). Never below the value it widens.
    pub widen: W,
    /// Most halvings after widening.
    pub halvings: u32,
    /// Whether the bracket `(lo, hi)` is narrow enough.
    pub close: C,
}

/// What a search found: without a test, the highest end of its last bracket; with one, the
/// test's answer for the quantile.
pub(crate) enum Found {
    /// The bracket's highest end after the last halving.
    Hi(f64),
    /// The test's answer.
    Passes(bool),
}

/// Searches `bracket` for the least value whose tail is at most the one wanted: `above(x)`
/// tells whether the tail at `x` is above it (it is decreasing in `x`). The quantile is
/// `answer(hi)`, `hi` the bracket's highest end after the last halving, and `answer` is
/// non-decreasing.
///
/// With a `test` that holds up to some answer and not beyond (true for every answer below one
/// it is true for), the search stops as soon as the bracket decides the test, with the test's
/// answer for the quantile the full search would give: that `hi` is at least the bracket's
/// lowest end at any time (halving keeps both ends within the bracket and widening moves
/// the lowest end up to the highest) and, once widening stops, at most its highest end. Ends
/// whose answers are not finite decide nothing, nor does a bracket that starts upside down.
pub(crate) fn search<W, C>(
    bracket: Bracket<W, C>,
    above: impl Fn(f64) -> bool,
    answer: impl Fn(f64) -> f64,
    test: Option<&dyn Fn(f64) -> bool>,
) -> Found
where
    W: Fn(f64) -> Option<f64>,
    C: Fn(f64, f64) -> bool,
{
    let Bracket {
        start: (mut lo, mut hi),
        widen,
        halvings,
        close,
    } = bracket;
    // The test's answer when the bracket decides it (`hi`: once widening has stopped).
    let ordered = lo <= hi;
    let decided = |lo: f64, hi: Option<f64>| -> Option<bool> {
        let test = test.filter(|_| ordered)?;
        if let Some(hi) = hi.map(&answer).filter(|a| a.is_finite()) {
            if test(hi) {
                return Some(true);
            }
        }
        let low = answer(lo);
        (low.is_finite() && !test(low)).then_some(false)
    };
    loop {
        if let Some(passes) = decided(lo, None) {
            return Found::Passes(passes);
        }
        if !above(hi) {
            break;
        }
        match widen(hi) {
            Some(next) => {
                debug_assert!(
                    next >= hi || next.is_nan() || hi.is_nan(),
                    "widening from {hi} to {next}"
                );
                lo = hi;
                hi = next;
            }
            None => break,
        }
    }
    for _ in 0..halvings {
        if let Some(passes) = decided(lo, Some(hi)) {
            return Found::Passes(passes);
        }
        let mid = (lo + hi) / 2.0;
        if above(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
        if close(lo, hi) {
            break;
        }
    }
    match test {
        Some(test) => Found::Passes(test(answer(hi))),
        None => Found::Hi(hi),
    }
}
