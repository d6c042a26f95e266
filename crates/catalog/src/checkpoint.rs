//! Checkpoints: the Hugging Face repositories one would serve a catalog model from, with
//! their weight format, whether they carry a chat template, and their download size where a
//! source gives it (`data/models/checkpoints.csv`).

use crate::error::Result;
use crate::table::Row;
use crate::Dtype;
use serde::Serialize;

/// Whether a checkpoint's tokenizer config carries a chat template (without one,
/// `/v1/chat/completions` fails).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatTemplate {
    /// It has one.
    Yes,
    /// It has none (a base model).
    No,
    /// Not checked.
    Unknown,
}

impl ChatTemplate {
    /// The CSV and text spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatTemplate::Yes => "yes",
            ChatTemplate::No => "no",
            ChatTemplate::Unknown => "unknown",
        }
    }
}

/// One checkpoint of a catalog model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Checkpoint {
    /// Catalog name of the model it holds.
    pub model: String,
    /// Hugging Face repository id.
    pub hf_id: String,
    /// Weight format it is stored in.
    pub format: Dtype,
    /// Quantization method or container (`awq`, `gptq`, `compressed-tensors`, `modelopt`, ...);
    /// empty for 16-bit checkpoints.
    pub method: String,
    /// Whether it carries a chat template.
    pub chat_template: ChatTemplate,
    /// Bytes of its weight files, when a source gives them.
    pub download_bytes: Option<u64>,
    /// Where `download_bytes` comes from (empty when it is missing).
    pub source: String,
    /// When the row was checked.
    pub retrieved: String,
    /// Anything else.
    pub notes: String,
}

impl Checkpoint {
    /// Reads one row of `checkpoints.csv`; `model` is the resolved catalog name.
    pub fn from_row(r: &Row<'_>, model: String) -> Result<Checkpoint> {
        let format = r
            .req("format")?
            .parse::<Dtype>()
            .map_err(|e| r.error("format", e.to_string()))?;
        let chat_template = match r.req("chat_template")?.to_ascii_lowercase().as_str() {
            "yes" => ChatTemplate::Yes,
            "no" => ChatTemplate::No,
            "unknown" => ChatTemplate::Unknown,
            other => {
                return Err(r.error(
                    "chat_template",
                    format!("`{other}` is not yes, no or unknown"),
                ))
            }
        };
        let download_bytes = r.u64("download_bytes")?;
        let source = r.get("source").unwrap_or_default().to_owned();
        if download_bytes.is_some() && source.is_empty() {
            return Err(r.error("source", "a download size needs its source"));
        }
        Ok(Checkpoint {
            model,
            hf_id: r.req("hf_id")?.to_owned(),
            format,
            method: r.get("method").unwrap_or_default().to_owned(),
            chat_template,
            download_bytes,
            source,
            retrieved: r.get("retrieved").unwrap_or_default().to_owned(),
            notes: r.get("notes").unwrap_or_default().to_owned(),
        })
    }
}
