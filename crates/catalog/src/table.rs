//! A small reader for CSV files with a header row, giving typed access to cells by column name
//! and errors that name the file, line and column.

use crate::error::{CatalogError, Result};
use std::collections::HashMap;

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
