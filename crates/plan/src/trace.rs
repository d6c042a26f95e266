//! Request traces: arrival times and token counts of real requests.
//!
//! Two CSV formats are read, told apart by their header (column names are matched ignoring
//! case, in any order; extra columns are ignored):
//!
//! - the Azure LLM inference traces (`TIMESTAMP,ContextTokens,GeneratedTokens`), whose
//!   timestamps are `YYYY-MM-DD HH:MM:SS.fffffff` (up to 9 fractional digits, not sorted);
//! - a plain form, `arrival_s,input_tokens,output_tokens`, with arrivals in seconds.
//!
//! Arrivals become integer microseconds relative to the earliest request, sorted ascending
//! (requests that arrive at the same time keep their file order). A bad row is an error
//! naming the file, the line and the column; no input makes the reader panic.

use crate::error::PlanError;
use inferplan_catalog::stats::nearest_rank;
use inferplan_catalog::table::duplicate_column;
use serde::Serialize;
use std::io::Read;
use std::path::Path;

/// One request of a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TraceRequest {
    /// Arrival time, microseconds after the earliest request of the trace.
    pub arrival_us: i64,
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Generated tokens.
    pub output_tokens: u64,
}

/// A request trace, sorted by arrival.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trace {
    /// The requests, by ascending `arrival_us`; the first arrives at 0.
    pub requests: Vec<TraceRequest>,
}

/// Summary of one token-count column. Percentiles are nearest-rank: the smallest value that
/// at least that fraction of the requests does not exceed (an observed value).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LengthStats {
    /// Mean tokens.
    pub mean: f64,
    /// Median tokens.
    pub p50: u64,
    /// 99th-percentile tokens.
    pub p99: u64,
    /// Largest value.
    pub max: u64,
}

impl LengthStats {
    /// The statistics of `values` (all zero when there are none).
    pub fn of(values: impl IntoIterator<Item = u64>) -> LengthStats {
        let mut v: Vec<u64> = values.into_iter().collect();
        if v.is_empty() {
            return LengthStats {
                mean: 0.0,
                p50: 0,
                p99: 0,
                max: 0,
            };
        }
        v.sort_unstable();
        let sum: u128 = v.iter().map(|&x| u128::from(x)).sum();
        LengthStats {
            mean: sum as f64 / v.len() as f64,
            p50: nearest_rank(&v, 0.50).unwrap_or_default(),
            p99: nearest_rank(&v, 0.99).unwrap_or_default(),
            max: v[v.len() - 1],
        }
    }
}

/// Everything [`Trace::stats`] measures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TraceStats {
    /// Requests in the trace.
    pub requests: usize,
    /// From the first to the last arrival, seconds.
    pub duration_s: f64,
    /// Requests per second: (requests − 1) / duration, the reciprocal of the mean gap
    /// between arrivals; `None` when the trace has fewer than two distinct arrival times.
    pub mean_rate_rps: Option<f64>,
    /// Prompt tokens.
    pub input: LengthStats,
    /// Generated tokens.
    pub output: LengthStats,
}

impl Trace {
    /// Reads a trace file. Errors name the file.
    pub fn read(path: &Path) -> Result<Trace, PlanError> {
        let file = std::fs::File::open(path).map_err(|source| PlanError::Io {
            path: path.to_owned(),
            source,
        })?;
        Trace::from_reader(std::io::BufReader::new(file), &path.display().to_string())
    }

    /// Reads a trace from bytes; `origin` names it in errors.
    pub fn parse(bytes: &[u8], origin: &str) -> Result<Trace, PlanError> {
        Trace::from_reader(bytes, origin)
    }

    /// Reads a trace from any reader; `origin` names it in errors.
    pub fn from_reader<R: Read>(reader: R, origin: &str) -> Result<Trace, PlanError> {
        let err = |line: Option<u64>, field: Option<&str>, message: String| PlanError::Trace {
            origin: origin.to_owned(),
            line: line.map(|l| usize::try_from(l).unwrap_or(usize::MAX)),
            field: field.map(str::to_owned),
            message,
        };
        let csv_err = |e: csv::Error| {
            let line = e.position().map(csv::Position::line);
            let message = match e.kind() {
                csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => format!("expected {expected_len} fields, found {len}"),
                csv::ErrorKind::Io(io) => format!("read error: {io}"),
                _ => one_line(&e.to_string()),
            };
            err(line, None, message)
        };

        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(reader);
        let header = rdr.byte_headers().map_err(csv_err)?.clone();
        let names: Vec<std::borrow::Cow<'_, str>> =
            header.iter().map(String::from_utf8_lossy).collect();
        if let Some(d) = duplicate_column(&names, true) {
            return Err(err(Some(1), None, d.to_string()));
        }
        let columns = Columns::find(&header).ok_or_else(|| {
            err(
                Some(1),
                None,
                format!(
                    "not a trace header: expected `TIMESTAMP,ContextTokens,GeneratedTokens` or \
                     `arrival_s,input_tokens,output_tokens`, found `{}`",
                    shown(header.as_slice())
                ),
            )
        })?;
        let name = |i: usize| {
            String::from_utf8_lossy(header.get(i).unwrap_or_default())
                .trim_start_matches('\u{feff}')
                .to_owned()
        };
        let (time_name, input_name, output_name) = (
            name(columns.time),
            name(columns.input),
            name(columns.output),
        );

        let mut requests = Vec::new();
        let mut record = csv::ByteRecord::new();
        while rdr.read_byte_record(&mut record).map_err(csv_err)? {
            let line = record.position().map(csv::Position::line);
            if record.len() != header.len() {
                return Err(err(
                    line,
                    None,
                    format!("expected {} fields, found {}", header.len(), record.len()),
                ));
            }
            let cell = |i: usize| record.get(i).unwrap_or_default();
            let arrival_us = match columns.time_kind {
                TimeKind::Timestamp => parse_timestamp_us(cell(columns.time)),
                TimeKind::Seconds => parse_seconds_us(cell(columns.time)),
            }
            .ok_or_else(|| {
                let expected = match columns.time_kind {
                    TimeKind::Timestamp => "a timestamp `YYYY-MM-DD HH:MM:SS.fffffff`",
                    TimeKind::Seconds => "a number of seconds",
                };
                err(
                    line,
                    Some(&time_name),
                    format!("`{}` is not {expected}", shown(cell(columns.time))),
                )
            })?;
            let tokens = |i: usize, field: &str| {
                parse_tokens(cell(i)).ok_or_else(|| {
                    err(
                        line,
                        Some(field),
                        format!("`{}` is not a whole number of tokens", shown(cell(i))),
                    )
                })
            };
            requests.push(TraceRequest {
                arrival_us,
                input_tokens: tokens(columns.input, &input_name)?,
                output_tokens: tokens(columns.output, &output_name)?,
            });
        }
        if requests.is_empty() {
            return Err(err(None, None, "the trace has no requests".to_owned()));
        }
        requests.sort_by_key(|r| r.arrival_us);
        let first = requests[0].arrival_us;
        for r in &mut requests {
            // Both ends are bounded (see the parsers), so this cannot overflow.
            r.arrival_us -= first;
        }
        Ok(Trace { requests })
    }

    /// Counts, duration, mean rate and length statistics.
    pub fn stats(&self) -> TraceStats {
        let duration_s = self.duration_s();
        let mean_rate_rps = (self.requests.len() >= 2 && duration_s > 0.0)
            .then(|| (self.requests.len() - 1) as f64 / duration_s);
        TraceStats {
            requests: self.requests.len(),
            duration_s,
            mean_rate_rps,
            input: self.input_stats(),
            output: self.output_stats(),
        }
    }

    /// Prompt-token statistics.
    pub fn input_stats(&self) -> LengthStats {
        LengthStats::of(self.requests.iter().map(|r| r.input_tokens))
    }

    /// Output-token statistics.
    pub fn output_stats(&self) -> LengthStats {
        LengthStats::of(self.requests.iter().map(|r| r.output_tokens))
    }

    /// From the first to the last arrival, seconds.
    pub fn duration_s(&self) -> f64 {
        match (self.requests.first(), self.requests.last()) {
            (Some(a), Some(b)) => (b.arrival_us - a.arrival_us) as f64 / 1e6,
            _ => 0.0,
        }
    }
}

/// How the arrival column is written.
#[derive(Debug, Clone, Copy)]
enum TimeKind {
    /// A calendar timestamp (Azure traces).
    Timestamp,
    /// Seconds as a number.
    Seconds,
}

/// Positions of the three columns in the header.
struct Columns {
    time: usize,
    time_kind: TimeKind,
    input: usize,
    output: usize,
}

impl Columns {
    fn find(header: &csv::ByteRecord) -> Option<Columns> {
        let names: Vec<String> = header
            .iter()
            .map(|h| {
                String::from_utf8_lossy(h)
                    .trim_start_matches('\u{feff}')
                    .trim()
                    .to_ascii_lowercase()
            })
            .collect();
        let position =
            |candidates: &[&str]| names.iter().position(|n| candidates.contains(&n.as_str()));
        let (time, time_kind) = match (position(&["timestamp"]), position(&["arrival_s"])) {
            (Some(i), _) => (i, TimeKind::Timestamp),
            (None, Some(i)) => (i, TimeKind::Seconds),
            (None, None) => return None,
        };
        Some(Columns {
            time,
            time_kind,
            input: position(&["contexttokens", "input_tokens"])?,
            output: position(&["generatedtokens", "output_tokens"])?,
        })
    }
}

/// A whole, non-negative token count.
fn parse_tokens(cell: &[u8]) -> Option<u64> {
    if cell.is_empty() || !cell.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(cell).ok()?.parse().ok()
}

/// Seconds (any finite number within ±10^12 s) as integer microseconds, rounded.
fn parse_seconds_us(cell: &[u8]) -> Option<i64> {
    let s: f64 = std::str::from_utf8(cell).ok()?.parse().ok()?;
    (s.is_finite() && s.abs() <= 1e12).then(|| (s * 1e6).round() as i64)
}

/// `YYYY-MM-DD HH:MM:SS[.f…]` (or with `T`; up to 9 fractional digits) as microseconds since
/// 1970-01-01 00:00:00, rounded to the nearest microsecond. No time zone: the traces are UTC.
fn parse_timestamp_us(cell: &[u8]) -> Option<i64> {
    fn digits(b: &[u8]) -> Option<i64> {
        if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(b.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
    }
    if cell.len() < 19 {
        return None;
    }
    let (date, rest) = cell.split_at(10);
    if date[4] != b'-' || date[7] != b'-' || !matches!(rest[0], b' ' | b'T') {
        return None;
    }
    let time = &rest[1..];
    if time[2] != b':' || time[5] != b':' {
        return None;
    }
    let (year, month, day) = (
        digits(&date[0..4])?,
        digits(&date[5..7])?,
        digits(&date[8..10])?,
    );
    let (hour, minute, second) = (
        digits(&time[0..2])?,
        digits(&time[3..5])?,
        digits(&time[6..8])?,
    );
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut micros = 0;
    match &time[8..] {
        [] => {}
        [b'.', frac @ ..] if (1..=9).contains(&frac.len()) => {
            digits(frac)?;
            for i in 0..6 {
                micros = micros * 10 + frac.get(i).map_or(0, |d| i64::from(d - b'0'));
            }
            if frac.get(6).is_some_and(|&d| d >= b'5') {
                micros += 1;
            }
        }
        _ => return None,
    }
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + hour) * 60 + minute) * 60_000_000 + second * 1_000_000 + micros)
}

/// Days in a month of the proleptic Gregorian calendar.
pub fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A cell or header for an error message (see [`crate::error::shown`]); invalid UTF-8 is replaced.
fn shown(bytes: &[u8]) -> String {
    crate::error::shown(&String::from_utf8_lossy(bytes))
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp_us(b"1970-01-01 00:00:00"), Some(0));
        assert_eq!(
            parse_timestamp_us(b"1970-01-02 00:00:01.5"),
            Some(86_401_500_000)
        );
        // 7 digits: rounded to the microsecond.
        assert_eq!(parse_timestamp_us(b"1970-01-01 00:00:00.0000015"), Some(2));
        assert_eq!(parse_timestamp_us(b"1970-01-01T00:00:00.0000014"), Some(1));
        // 2023-11-16 is day 19677.
        assert_eq!(
            parse_timestamp_us(b"2023-11-16 18:17:03.9799600"),
            Some(((19_677 * 24 + 18) * 60 + 17) * 60_000_000 + 3_979_960)
        );
        for bad in [
            &b"2023-02-29 00:00:00"[..],
            b"2024-13-01 00:00:00",
            b"2024-01-01 24:00:00",
            b"2024-01-01 00:00:00.",
            b"2024-01-01 00:00:00.1234567890",
            b"2024-01-01 00:00:0x",
            b"2024/01/01 00:00:00",
            b"",
        ] {
            assert_eq!(parse_timestamp_us(bad), None, "{}", shown(bad));
        }
        assert!(parse_timestamp_us(b"2024-02-29 00:00:00").is_some());
    }

    #[test]
    fn a_repeated_column_is_an_error_naming_file_line_and_column() {
        // The time column is matched in any case: two of them would be a guess.
        let text = "TIMESTAMP,ContextTokens,GeneratedTokens,timestamp\n\
                    2023-11-16 18:17:03,10,20,2023-11-16 18:17:04\n";
        let e = Trace::parse(text.as_bytes(), "t.csv")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("t.csv:1: column `timestamp` appears twice in the header"),
            "{e}"
        );
        let text = "arrival_s,input_tokens,output_tokens,input_tokens\n0,1,2,3\n";
        let e = Trace::parse(text.as_bytes(), "t.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("(columns 2 and 4)"), "{e}");
    }
}
