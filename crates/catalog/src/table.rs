//! A small reader for CSV files with a header row, giving typed access to cells by column name
//! and errors that name the file, line and column.

use crate::error::{shown, CatalogError, Result};
use std::collections::HashMap;
use std::fmt;

/// A parsed CSV file: header plus records, with the origin kept for error messages.
#[derive(Debug, Clone)]
pub struct Table {
    origin: String,
    columns: HashMap<String, usize>,
    header: Vec<String>,
    records: Vec<(u64, csv::StringRecord)>,
}

/// One data row of a [`Table`].
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    table: &'a Table,
    line: u64,
    record: &'a csv::StringRecord,
}

impl Table {
    /// Parses CSV text. `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Table> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| csv_error(origin, &e))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_owned())
            .collect();
        if header.iter().all(String::is_empty) {
            return Err(CatalogError::invalid(
                origin,
                Some(1),
                None,
                "empty file or header",
            ));
        }
        if let Some(d) = duplicate_column(&header, false) {
            return Err(CatalogError::invalid(origin, Some(1), None, d.to_string()));
        }
        let columns = header
            .iter()
            .enumerate()
            .map(|(i, h)| (h.clone(), i))
            .collect();
        let mut records = Vec::new();
        for rec in reader.records() {
            let rec = rec.map_err(|e| csv_error(origin, &e))?;
            let line = rec.position().map_or(0, csv::Position::line);
            if rec.iter().all(str::is_empty) {
                continue;
            }
            records.push((line, rec));
        }
        Ok(Table {
            origin: origin.to_owned(),
            columns,
            header,
            records,
        })
    }

    /// The file name used in errors.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The header row.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// True when the header has this column.
    pub fn has(&self, column: &str) -> bool {
        self.columns.contains_key(column)
    }

    /// Fails unless every named column is present.
    pub fn require(&self, columns: &[&str]) -> Result<()> {
        for c in columns {
            if !self.has(c) {
                return Err(CatalogError::invalid(
                    &self.origin,
                    Some(1),
                    Some(c),
                    "required column is missing from the header",
                ));
            }
        }
        Ok(())
    }

    /// The data rows.
    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.records.iter().map(|(line, record)| Row {
            table: self,
            line: *line,
            record,
        })
    }

    /// Number of data rows.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when there are no data rows.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

/// A column named twice in a CSV header: which value would count is a guess, so every CSV
/// reader refuses the file (see [`duplicate_column`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateColumn {
    /// The name as written the second time.
    pub name: String,
    /// 1-based position of its first occurrence.
    pub first: usize,
    /// 1-based position of the repeat.
    pub second: usize,
}

impl fmt::Display for DuplicateColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "column `{}` appears twice in the header (columns {} and {}); keep one",
            shown(&self.name),
            self.first,
            self.second
        )
    }
}

/// The first column of `header` whose name repeats an earlier one (surrounding white space
/// and a byte-order mark ignored, letter case too when `ignore_case`, as the reader matches
/// names); empty names are not columns and never repeat. Every CSV reader of the workspace
/// checks its header with it.
pub fn duplicate_column<S: AsRef<str>>(header: &[S], ignore_case: bool) -> Option<DuplicateColumn> {
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(header.len());
    for (i, h) in header.iter().enumerate() {
        let name = h.as_ref().trim_start_matches('\u{feff}').trim();
        if name.is_empty() {
            continue;
        }
        let key = if ignore_case {
            name.to_lowercase()
        } else {
            name.to_owned()
        };
        if let Some(&first) = seen.get(&key) {
            return Some(DuplicateColumn {
                name: name.to_owned(),
                first: first + 1,
                second: i + 1,
            });
        }
        seen.insert(key, i);
    }
    None
}

fn csv_error(origin: &str, e: &csv::Error) -> CatalogError {
    let line = e.position().map(csv::Position::line);
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("row has {len} fields, the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_owned(),
        _ => e.to_string(),
    };
    CatalogError::invalid(origin, line, None, message)
}

impl<'a> Row<'a> {
    /// The 1-based line number of this row in its file.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The file name used in errors.
    pub fn origin(&self) -> &'a str {
        &self.table.origin
    }

    /// The cell of `column`, or `None` when the column is absent or the cell is empty.
    pub fn get(&self, column: &str) -> Option<&'a str> {
        let i = *self.table.columns.get(column)?;
        self.record.get(i).filter(|s| !s.is_empty())
    }

    /// The cell of `column`; an error when it is absent or empty.
    pub fn req(&self, column: &str) -> Result<&'a str> {
        self.get(column)
            .ok_or_else(|| self.error(column, "required value is empty"))
    }

    /// An error about `column` of this row.
    pub fn error(&self, column: &str, message: impl Into<String>) -> CatalogError {
        CatalogError::invalid(&self.table.origin, Some(self.line), Some(column), message)
    }

    /// A finite, non-negative number, or `None` when empty.
    pub fn f64(&self, column: &str) -> Result<Option<f64>> {
        match self.get(column) {
            None => Ok(None),
            Some(s) => parse_number(s)
                .map(Some)
                .ok_or_else(|| self.error(column, format!("`{s}` is not a non-negative number"))),
        }
    }

    /// A finite number that may be negative (measured differences), or `None` when empty.
    pub fn f64_signed(&self, column: &str) -> Result<Option<f64>> {
        match self.get(column) {
            None => Ok(None),
            Some(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(Some)
                .ok_or_else(|| self.error(column, format!("`{s}` is not a number"))),
        }
    }

    /// A required finite, non-negative number.
    pub fn req_f64(&self, column: &str) -> Result<f64> {
        self.f64(column)?
            .ok_or_else(|| self.error(column, "required number is empty"))
    }

    /// A non-negative whole number, or `None` when empty (`8.0` is accepted as 8).
    pub fn u64(&self, column: &str) -> Result<Option<u64>> {
        match self.f64(column)? {
            None => Ok(None),
            Some(v) if v.fract() == 0.0 && v <= 1e15 => Ok(Some(v as u64)),
            Some(v) => Err(self.error(column, format!("`{v}` is not a whole number"))),
        }
    }

    /// A `true`/`false`/`yes`/`no` flag, or `None` when empty.
    pub fn bool(&self, column: &str) -> Result<Option<bool>> {
        match self.get(column) {
            None => Ok(None),
            Some(s) => match s.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => Ok(Some(true)),
                "false" | "no" | "0" => Ok(Some(false)),
                _ => Err(self.error(column, format!("`{s}` is not true/false"))),
            },
        }
    }
}

/// Parses a finite, non-negative decimal number.
pub fn parse_number(s: &str) -> Option<f64> {
    let v: f64 = s.trim().parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_column_is_an_error_naming_file_line_and_column() {
        let e = Table::parse("name,tflops,name\na,1,b\n", "gpus.csv").unwrap_err();
        assert_eq!(
            e.to_string(),
            "gpus.csv:1: column `name` appears twice in the header (columns 1 and 3); keep one"
        );
        // White space and a byte-order mark do not make a different name.
        let e = Table::parse("\u{feff}a, b ,b\n1,2,3\n", "x.csv").unwrap_err();
        assert!(e.to_string().contains("column `b`"), "{e}");
    }

    #[test]
    fn duplicates_by_the_readers_rules() {
        assert_eq!(duplicate_column(&["a", "b", "c"], false), None);
        // Empty names (a trailing comma) are not columns.
        assert_eq!(duplicate_column(&["a", "", ""], false), None);
        assert_eq!(duplicate_column(&["GPU", "gpu"], false), None);
        let d = duplicate_column(&["GPU", "x", "gpu"], true).unwrap();
        assert_eq!((d.name.as_str(), d.first, d.second), ("gpu", 1, 3));
        assert!(Table::parse("a,b\n1,2\n", "x.csv").is_ok());
    }
}
