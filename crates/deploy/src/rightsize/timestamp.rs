//! Timestamps of the CSV format: unix seconds or RFC 3339.

use inferplan_plan::error::shown;
use inferplan_plan::trace::{days_from_civil, days_in_month};

/// Unix seconds (≥ 0) or RFC 3339 (`2024-05-01T10:00:00Z`, `…+02:00`, `…` with a space for the
/// `T`, fractional seconds; without an offset, UTC) as seconds since 1970.
pub(super) fn parse_timestamp(cell: &str) -> Result<f64, String> {
    if cell.is_empty() {
        return Err("empty; expected RFC 3339 or unix seconds".to_owned());
    }
    if let Ok(v) = cell.parse::<f64>() {
        if !v.is_finite() || v < 0.0 {
            return Err(format!(
                "`{}` is not a time: unix seconds must be finite and ≥ 0",
                shown(cell)
            ));
        }
        if v > 1e11 {
            return Err(format!(
                "`{}` looks like milliseconds since 1970; give seconds",
                shown(cell)
            ));
        }
        return Ok(v);
    }
    parse_rfc3339(cell.as_bytes())
        .filter(|t| *t >= 0.0)
        .ok_or_else(|| {
            format!(
                "`{}` is not RFC 3339 (`2024-05-01T10:00:00Z`) or unix seconds",
                shown(cell)
            )
        })
}

fn parse_rfc3339(b: &[u8]) -> Option<f64> {
    fn digits(b: &[u8]) -> Option<i64> {
        if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(b.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
    }
    let sep = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (
        digits(b.get(0..4)?)?,
        digits(b.get(5..7)?)?,
        digits(b.get(8..10)?)?,
    );
    let (hour, minute, second) = (
        digits(b.get(11..13)?)?,
        digits(b.get(14..16)?)?,
        digits(b.get(17..19)?)?,
    );
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = b.get(19..)?;
    let mut frac = 0.0;
    if let [b'.', tail @ ..] = rest {
        let n = tail.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        let mut scale = 0.1;
        for &d in &tail[..n] {
            frac += f64::from(d - b'0') * scale;
            scale /= 10.0;
        }
        rest = &tail[n..];
    }
    let offset_s = match rest {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let h = digits(&[*h1, *h2])?;
            let m = digits(&[*m1, *m2])?;
            if h > 23 || m > 59 {
                return None;
            }
            let s = (h * 60 + m) * 60;
            if *sign == b'+' {
                s
            } else {
                -s
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = ((days * 24 + hour) * 60 + minute) * 60 + second - offset_s;
    Some(secs as f64 + frac)
}
