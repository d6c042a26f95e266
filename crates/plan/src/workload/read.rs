//! Reading a workload from TOML, with errors naming the line and the dotted field path, and
//! taking its lengths from a trace.

use super::length::Length;
use super::types::Workload;
use crate::error::PlanError;
use crate::toml_location::{backticked_after, field_at, line_of_offset, one_line};
use crate::trace::Trace;
use serde::de;
use std::path::Path;

/// Reads a TOML document into `T`, with errors naming the line and the dotted field path.
pub(crate) fn parse_toml<T: de::DeserializeOwned>(
    text: &str,
    origin: &str,
) -> Result<T, PlanError> {
    let root = toml::de::DeTable::parse(text).map_err(|e| {
        let line = e.span().map(|s| line_of_offset(text, s.start));
        PlanError::Workload {
            origin: origin.to_owned(),
            line,
            field: None,
            message: one_line(e.message()),
        }
    })?;
    T::deserialize(toml::de::Deserializer::from(root.clone())).map_err(|e| {
        let (line, mut field) = match e.span() {
            Some(span) if !span.is_empty() => (
                Some(line_of_offset(text, span.start)),
                field_at(root.get_ref(), span),
            ),
            _ => (None, String::new()),
        };
        // A missing field is reported at its table; name the field itself.
        if let Some(missing) = backticked_after(e.message(), "missing field ") {
            if !field.is_empty() {
                field.push('.');
            }
            field.push_str(missing);
        }
        PlanError::Workload {
            origin: origin.to_owned(),
            line,
            field: (!field.is_empty()).then_some(field),
            message: one_line(e.message()),
        }
    })
}

impl Workload {
    /// Reads a workload from TOML text. `origin` (usually the file name) is used in errors.
    ///
    /// Syntax errors, unknown fields, missing required fields and values of the wrong type
    /// are errors naming the line and the dotted field path. The values are not checked for
    /// sense here: call [`Workload::validate`] after applying any overrides.
    pub fn from_toml(text: &str, origin: &str) -> Result<Workload, PlanError> {
        parse_toml(text, origin)
    }

    /// Reads a workload file: parses it, takes the lengths from its trace if it names one
    /// (relative to the file's directory), and validates it, with errors naming the file and
    /// line. To apply overrides (command-line flags) before validating, use
    /// [`Workload::from_toml`], [`Workload::resolve_lengths`], then [`Workload::validate`]
    /// with [`PlanError::locate`].
    pub fn load(path: &Path) -> Result<Workload, PlanError> {
        let text = std::fs::read_to_string(path).map_err(|source| PlanError::Io {
            path: path.to_owned(),
            source,
        })?;
        Workload::from_file_text(path, &text)
    }

    /// [`Workload::load`] of a file already read: `text` is the content of `path`.
    pub fn from_file_text(path: &Path, text: &str) -> Result<Workload, PlanError> {
        let origin = path.display().to_string();
        let mut workload = Workload::from_toml(text, &origin)?;
        workload.resolve_lengths(path.parent().unwrap_or(Path::new(".")))?;
        workload.validate().map_err(|e| e.locate(&origin, text))?;
        Ok(workload)
    }

    /// When `lengths.trace` names a trace, reads it and replaces the input and output lengths
    /// by the trace's mean and 99th percentile. A relative path is resolved against
    /// `base_dir` (the directory of the workload file). Without a trace, does nothing.
    ///
    /// A percentile below the mean (a trace whose top 1 % is far out) is raised to the mean,
    /// so that the result validates.
    pub fn resolve_lengths(&mut self, base_dir: &Path) -> Result<(), PlanError> {
        let Some(trace) = &self.lengths.trace else {
            return Ok(());
        };
        let path = Path::new(trace);
        let path = if path.is_absolute() {
            path.to_owned()
        } else {
            base_dir.join(path)
        };
        let trace = Trace::read(&path)?;
        let stats = trace.stats();
        let dist = |s: crate::trace::LengthStats| Length::Dist {
            mean: s.mean,
            p99: (s.p99 as f64).max(s.mean),
        };
        self.lengths.input_tokens = dist(stats.input);
        self.lengths.output_tokens = dist(stats.output);
        Ok(())
    }
}
