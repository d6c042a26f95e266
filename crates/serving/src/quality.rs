//! What published evaluations say about the quality of low-bit checkpoints: one row per
//! evaluated checkpoint, with the benchmark, the 16-bit baseline, the quantized score, the share
//! of the baseline it keeps (recovery) and its source (`data/models/quantization_quality.csv`).
//! The planner's finding IP114 reads it; a checkpoint without a row has no published figure
//! here, and the finding says so.

use inferplan_catalog::table::Table;
use inferplan_catalog::{CatalogError, Dtype};
use std::sync::OnceLock;

const CSV: &str = include_str!("../../../data/models/quantization_quality.csv");
const ORIGIN: &str = "data/models/quantization_quality.csv";

/// One published evaluation of a quantized checkpoint against its 16-bit baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    /// Catalog name of the model.
    pub model: String,
    /// Weight format of the evaluated checkpoint.
    pub format: Dtype,
    /// The evaluated checkpoint (Hugging Face id).
    pub hf_id: String,
    /// Quantization method (`GPTQ (W4A16)`, `NVFP4 (quantization-aware training)`, ...).
    pub method: String,
    /// What was measured.
    pub benchmark: String,
    /// The 16-bit score, where the source gives it.
    pub baseline: Option<f64>,
    /// The quantized score, where the source gives it.
    pub quantized: Option<f64>,
    /// Quantized over baseline, %.
    pub recovery_pct: f64,
    /// Where the figures come from.
    pub source: String,
    /// Anything else the source says.
    pub notes: String,
}

fn read(text: &str, origin: &str) -> Result<Vec<Published>, CatalogError> {
    let t = Table::parse(text, origin)?;
    t.require(&[
        "model",
        "format",
        "hf_id",
        "benchmark",
        "recovery_pct",
        "source",
    ])?;
    t.rows()
        .map(|r| {
            let format = r
                .req("format")?
                .parse::<Dtype>()
                .map_err(|e| r.error("format", e.to_string()))?;
            Ok(Published {
                model: r.req("model")?.to_owned(),
                format,
                hf_id: r.req("hf_id")?.to_owned(),
                method: r.get("method").unwrap_or_default().to_owned(),
                benchmark: r.req("benchmark")?.to_owned(),
                baseline: r.f64("baseline")?,
                quantized: r.f64("quantized")?,
                recovery_pct: r.req_f64("recovery_pct")?,
                source: r.req("source")?.to_owned(),
                notes: r.get("notes").unwrap_or_default().to_owned(),
            })
        })
        .collect()
}

/// Every published evaluation, in file order.
pub fn published() -> Result<&'static [Published], &'static CatalogError> {
    static ROWS: OnceLock<Result<Vec<Published>, CatalogError>> = OnceLock::new();
    ROWS.get_or_init(|| read(CSV, ORIGIN))
        .as_ref()
        .map(Vec::as_slice)
}

/// What is published about serving `hf_id` of `model` in `format`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Evidence<'a> {
    /// An evaluation of this very checkpoint.
    This(&'a Published),
    /// None of this checkpoint; one of another checkpoint of the same model and format.
    Other(&'a Published),
    /// None of the same model and format.
    None,
}

/// The evaluation of `hf_id` (case-insensitive) if one is published, else one of another
/// checkpoint of the same `model` and `format`.
pub fn evidence<'a>(
    rows: &'a [Published],
    model: &str,
    format: Dtype,
    hf_id: &str,
) -> Evidence<'a> {
    if let Some(p) = rows.iter().find(|p| p.hf_id.eq_ignore_ascii_case(hf_id)) {
        return Evidence::This(p);
    }
    rows.iter()
        .find(|p| p.format == format && p.model.eq_ignore_ascii_case(model))
        .map_or(Evidence::None, Evidence::Other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_file_reads_and_every_row_is_sourced() {
        let rows = published().expect("embedded quantization_quality.csv reads");
        assert!(!rows.is_empty());
        for p in rows {
            assert!(
                p.source.starts_with("https://"),
                "{}: {}",
                p.hf_id,
                p.source
            );
            assert!(
                p.recovery_pct > 50.0 && p.recovery_pct < 120.0,
                "{}",
                p.hf_id
            );
            if let (Some(b), Some(q)) = (p.baseline, p.quantized) {
                // The stated recovery is the ratio of the stated scores.
                assert!((q / b * 100.0 - p.recovery_pct).abs() < 0.1, "{}", p.hf_id);
            }
        }
    }

    #[test]
    fn this_checkpoint_before_another_of_the_same_format() {
        let rows = published().unwrap();
        let id = "neuralmagic/Meta-Llama-3.1-70B-Instruct-quantized.w4a16";
        assert!(matches!(
            evidence(rows, "Llama 3.1 70B", Dtype::Int4, id),
            Evidence::This(p) if p.hf_id == id
        ));
        assert!(matches!(
            evidence(rows, "Llama 3.1 70B", Dtype::Int4, "hugging-quants/x-AWQ-INT4"),
            Evidence::Other(p) if p.hf_id == id
        ));
        assert_eq!(
            evidence(rows, "Llama 3.1 70B", Dtype::Fp4, "nvidia/x-FP4"),
            Evidence::None
        );
    }

    #[test]
    fn a_bad_row_names_its_line_and_field() {
        let text = "model,format,hf_id,benchmark,recovery_pct,source\nm,int3,x,b,99,s\n";
        let e = read(text, "q.csv").unwrap_err().to_string();
        assert!(e.contains("q.csv:2") && e.contains("format"), "{e}");
    }
}
