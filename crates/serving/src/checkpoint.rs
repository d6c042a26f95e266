//! Weight and KV-cache formats: which format a server runs, how the renderer asks vLLM for
//! one ([`quantization`]), and how the linter recognises one in a manifest ([`format_of`],
//! [`kv_format_of`]). The flag values the two sides write and read are the tables below.

use inferplan_catalog::{ChatTemplate, Checkpoint, Dtype, ModelSpec};
use serde::{Deserialize, Serialize};

/// `--dtype` values and the 16- or 32-bit weight format each means; the first of each row
/// is the one the renderer writes. Anything else (`auto`, nothing) is read as BF16.
const DTYPE_VALUES: [(Dtype, &[&str]); 3] = [
    (Dtype::Bf16, &["bfloat16"]),
    (Dtype::Fp16, &["float16", "half", "fp16"]),
    (Dtype::Fp32, &["float32", "float", "fp32"]),
];

/// `--quantization` / `--quantize` values (lower case, `_` for `-`) and the weight format
/// each means; the first of the FP8 row is the one the renderer writes for online FP8.
const QUANTIZATION_VALUES: [(Dtype, &[&str]); 5] = [
    (
        Dtype::Fp8,
        &[
            "fp8",
            "fbgemm_fp8",
            "modelopt",
            "ptpc_fp8",
            "fp8_e4m3",
            "deepspeedfp",
        ],
    ),
    (
        Dtype::Int4,
        &[
            "awq",
            "awq_marlin",
            "gptq",
            "gptq_marlin",
            "marlin",
            "bitsandbytes",
            "bitsandbytes_nf4",
            "bitsandbytes_fp4",
            "exl2",
            "gguf",
        ],
    ),
    (Dtype::Fp4, &["modelopt_fp4", "nvfp4", "fp4"]),
    (Dtype::Mxfp4, &["mxfp4"]),
    (
        Dtype::Int8,
        &[
            "int8",
            "w8a8",
            "smoothquant",
            "experts_int8",
            "eetq",
            "bitsandbytes_8bit",
        ],
    ),
];

/// `--kv-cache-dtype` value of an FP8 KV cache as the renderer writes it; any value that
/// starts with it (`fp8_e4m3`, `fp8_e5m2`) is read as FP8.
pub const KV_FP8: &str = "fp8";

/// How vLLM loads weights of one format, and whether a pre-quantized checkpoint is needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quantization {
    /// 16- or 32-bit weights: `--dtype` with this value.
    Dtype(&'static str),
    /// vLLM quantizes a 16-bit checkpoint to FP8 at load (`--quantization` [`online_fp8`]).
    OnlineFp8,
    /// The checkpoint is already in the format; vLLM reads its `quantization_config`.
    FromCheckpoint,
    /// A pre-quantized checkpoint (AWQ/GPTQ for INT4, compressed-tensors W8A8 for INT8,
    /// ModelOpt NVFP4 for FP4, ...) is needed; the catalog's checkpoint is not one.
    NeedsCheckpoint,
}

/// How the weights of `precision` are loaded from a checkpoint stored as `native`.
pub fn quantization(precision: Dtype, native: Option<Dtype>) -> Quantization {
    if native == Some(precision) && precision.is_quantized() {
        return Quantization::FromCheckpoint;
    }
    match precision {
        Dtype::Bf16 | Dtype::Fp16 | Dtype::Fp32 => Quantization::Dtype(dtype_value(precision)),
        Dtype::Fp8 => Quantization::OnlineFp8,
        Dtype::Int8 | Dtype::Int4 | Dtype::Fp4 | Dtype::Mxfp4 => Quantization::NeedsCheckpoint,
    }
}

/// The `--quantization` value that makes vLLM quantize 16-bit weights to FP8 at load.
pub fn online_fp8() -> &'static str {
    QUANTIZATION_VALUES[0].1[0]
}

/// The `--dtype` value of a 16- or 32-bit format (`bfloat16` for any other).
fn dtype_value(d: Dtype) -> &'static str {
    DTYPE_VALUES
        .iter()
        .find(|(f, _)| *f == d)
        .unwrap_or(&DTYPE_VALUES[0])
        .1[0]
}

/// The weight format a `--quantization` / `--quantize` value means, when it says.
pub fn quantization_format(value: &str) -> Option<Dtype> {
    let v = value.trim().to_ascii_lowercase().replace('-', "_");
    QUANTIZATION_VALUES
        .iter()
        .find(|(_, names)| names.contains(&v.as_str()))
        .map(|(d, _)| *d)
}

/// The weight format a `--dtype` value means: FP16 or FP32 when it says so, else BF16.
pub fn dtype_format(value: Option<&str>) -> Dtype {
    let v = value.map(str::to_ascii_lowercase);
    DTYPE_VALUES
        .iter()
        .find(|(_, names)| v.as_deref().is_some_and(|v| names.contains(&v)))
        .map_or(Dtype::Bf16, |(d, _)| *d)
}

/// What a server's manifest and the catalog say about the weights it runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Served<'a> {
    /// The `--quantization` / `--quantize` value.
    pub quantization: Option<&'a str>,
    /// The format the model's name carried when the catalog resolved it (`-FP8`, `-AWQ`).
    pub named: Option<Dtype>,
    /// The model argument as written (a hub id or a path), whose suffix may name a format.
    pub model: Option<&'a str>,
    /// The format the model ships in (`native_weights` in the catalog: DeepSeek-V3 ships FP8).
    pub native: Option<Dtype>,
    /// The `--dtype` value.
    pub dtype: Option<&'a str>,
}

/// The weight format a server runs, first that says: `--quantization`, the checkpoint's
/// name (`-FP8`, `-AWQ`, as resolved, then as written), the model's own format, `--dtype`,
/// else BF16.
pub fn format_of(s: &Served<'_>) -> Dtype {
    if let Some(d) = s.quantization.and_then(quantization_format) {
        return d;
    }
    if let Some(d) = s.named {
        return d;
    }
    if let Some(name) = s.model {
        if let (_, Some(d)) = inferplan_catalog::names::split_quantized(name) {
            return d;
        }
    }
    if let Some(d) = s.native {
        return d;
    }
    dtype_format(s.dtype)
}

/// The KV-cache format of a server running `weights` with `--kv-cache-dtype` `value`:
/// FP8 when the value starts with [`KV_FP8`]; LMDeploy's `--quant-policy` values as
/// [`lmdeploy::policy_format`](crate::lmdeploy::policy_format) reads them; otherwise the activations' 16-bit format
/// (`auto`): FP16 or FP32 weights keep theirs, anything else is BF16.
pub fn kv_format_of(value: Option<&str>, weights: Dtype) -> Dtype {
    // LMDeploy's `--quant-policy` (`int8`, `8`, `fp8`, ...).
    if let Some(d) = value.and_then(crate::lmdeploy::policy_format) {
        return d;
    }
    match value.map(str::to_ascii_lowercase) {
        Some(v) if v.starts_with(KV_FP8) => Dtype::Fp8,
        _ if matches!(weights, Dtype::Fp16 | Dtype::Fp32) => weights,
        _ => Dtype::Bf16,
    }
}

/// How a checkpoint's weights are stored, as an engine's loader tells checkpoints apart: the
/// catalog's `method` column (`data/models/checkpoints.csv`), which names the tool or the
/// `quantization_config.quant_method` of the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// 16- or 32-bit weights without a quantization config (`method` empty).
    Plain,
    /// llm-compressor's `compressed-tensors` (`quant_method: compressed-tensors`; RedHatAI and
    /// neuralmagic repositories).
    CompressedTensors,
    /// An NVIDIA TensorRT Model Optimizer export (`hf_quant_config.json`, `quant_method:
    /// modelopt`; the `nvidia/` repositories).
    ModelOpt,
    /// AutoAWQ (`quant_method: awq`).
    Awq,
    /// AutoGPTQ / GPTQModel (`quant_method: gptq`).
    Gptq,
    /// Meta's row-wise FP8 (`quant_method: fbgemm_fp8`).
    FbgemmFp8,
    /// Block-scaled FP8 (`quant_method: fp8` with `weight_block_size` 128 × 128: DeepSeek-V3,
    /// Qwen3 `-FP8`).
    Fp8Block,
    /// MXFP4 (`quant_method: mxfp4`: gpt-oss).
    Mxfp4,
    /// A method no loader table below names.
    Other,
}

impl Container {
    /// The container of a catalogued checkpoint, from its `method`.
    pub fn of(c: &Checkpoint) -> Container {
        let m = c.method.trim().to_ascii_lowercase();
        let first = m.split([' ', '(']).next().unwrap_or("");
        match first {
            "" if !c.format.is_quantized() => Container::Plain,
            "compressed-tensors" => Container::CompressedTensors,
            "modelopt" => Container::ModelOpt,
            "awq" => Container::Awq,
            "gptq" => Container::Gptq,
            "fbgemm_fp8" => Container::FbgemmFp8,
            "fp8" if m.contains("block") => Container::Fp8Block,
            "mxfp4" => Container::Mxfp4,
            _ => Container::Other,
        }
    }

    /// How the README and rejection reasons name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Container::Plain => "16-bit",
            Container::CompressedTensors => "compressed-tensors",
            Container::ModelOpt => "ModelOpt",
            Container::Awq => "AWQ",
            Container::Gptq => "GPTQ",
            Container::FbgemmFp8 => "fbgemm_fp8",
            Container::Fp8Block => "block FP8",
            Container::Mxfp4 => "MXFP4",
            Container::Other => "other",
        }
    }
}

/// An engine release the renderer pins and the checkpoint containers its loader reads.
#[derive(Debug, Clone, Copy)]
pub struct Loader {
    /// The engine (`vllm`, `sglang`, `trtllm`, `tgi`, `neuron`).
    pub engine: &'static str,
    /// Its display name and the release the renderer pins.
    pub release: &'static str,
    /// The containers it loads.
    pub reads: &'static [Container],
}

/// What each rendered engine release loads (read 2026-12-07):
///
/// - vLLM 0.11.0: every container here. `vllm/model_executor/layers/quantization/__init__.py`
///   (`QuantizationMethods`: `awq`, `fp8`, `fbgemm_fp8`, `modelopt`, `modelopt_fp4`, `gptq`,
///   `compressed-tensors`, `mxfp4`, ...) is read from the checkpoint's `quantization_config`.
/// - SGLang 0.5.3: every container here. `python/sglang/srt/layers/quantization/__init__.py`
///   (sgl-project/sglang, commit 0116a682fcad45950388dc51d67a4f78721c00fa):
///   `BASE_QUANTIZATION_METHODS` has `fp8`, `modelopt`, `modelopt_fp8`, `modelopt_fp4`, `awq`,
///   `gptq`, `compressed-tensors`, `fbgemm_fp8`, and `mxfp4` on CUDA.
/// - TensorRT-LLM 1.2.1 (PyTorch backend): ModelOpt exports, block FP8 and MXFP4 only.
///   `tensorrt_llm/_torch/model_config.py` `ModelConfig.from_pretrained` (the stored version
///   with DeepSeek-V3.2 support and `get_mxfp4_quant_algo`, before compressed-tensors): a
///   `hf_quant_config.json` goes to `load_modelopt_quant_config`; otherwise
///   `load_hf_quant_config` knows `quant_method == "fp8"` with `weight_block_size` ("DeepSeek
///   V3 FP8 ckpt", `FP8_BLOCK_SCALES`) and `"mxfp4"`, and any other `quantization_config` is
///   not read. compressed-tensors came with NVIDIA/TensorRT-LLM#10796 (reviewed 2026-01-21, on
///   main for 1.3); Meta's row-wise FP8 is not planned ("we don't plan on supporting the
///   row-wise fp8 format", NVIDIA/TensorRT-LLM#3554, 2025-05-09); AutoAWQ/GPTQ repositories are
///   not read ("The PyTorch backend supports FP8 and NVFP4 quantization ... generated by
///   TensorRT Model Optimizer", quoted in NVIDIA/TensorRT-LLM#5716).
/// - TGI 3.3.7: 16-bit, compressed-tensors, AWQ, GPTQ, fbgemm_fp8 and (block) FP8.
///   `server/text_generation_server/utils/quantization.py` at the `v3.3.7` tag
///   (huggingface/text-generation-inference, commit dfb3fbe78e0d1d69251bd33065591c61bafdfaa8):
///   `get_loader` reads `compressed-tensors`, `awq`/`gptq` (GPTQ or Marlin kernels),
///   `fbgemm_fp8` and FP8 weights with their `weight_block_size`; the launcher's
///   `Quantization` (`launcher/src/main.rs`) has no `modelopt` or `mxfp4`.
/// - vLLM's Neuron backend (NxD Inference): 16-bit checkpoints only; FP8 is NxD Inference's own,
///   quantized from the 16-bit checkpoint on the host before compiling (`render/neuron.rs`,
///   aws-neuron-sdk `developer_guides/feature-guide.rst`, "Model Weight Quantization").
pub const LOADERS: [Loader; 5] = [
    Loader {
        engine: "vllm",
        release: "vLLM 0.11.0",
        reads: &[
            Container::Plain,
            Container::CompressedTensors,
            Container::ModelOpt,
            Container::Awq,
            Container::Gptq,
            Container::FbgemmFp8,
            Container::Fp8Block,
            Container::Mxfp4,
        ],
    },
    Loader {
        engine: "sglang",
        release: "SGLang 0.5.3",
        reads: &[
            Container::Plain,
            Container::CompressedTensors,
            Container::ModelOpt,
            Container::Awq,
            Container::Gptq,
            Container::FbgemmFp8,
            Container::Fp8Block,
            Container::Mxfp4,
        ],
    },
    Loader {
        engine: "trtllm",
        release: "TensorRT-LLM 1.2.1",
        reads: &[
            Container::Plain,
            Container::ModelOpt,
            Container::Fp8Block,
            Container::Mxfp4,
        ],
    },
    Loader {
        engine: "tgi",
        release: "TGI 3.3.7",
        reads: &[
            Container::Plain,
            Container::CompressedTensors,
            Container::Awq,
            Container::Gptq,
            Container::FbgemmFp8,
            Container::Fp8Block,
        ],
    },
    Loader {
        engine: "neuron",
        release: "vLLM's Neuron backend (NxD Inference)",
        reads: &[Container::Plain],
    },
];

/// The loader table of `engine`; `None` for LMDeploy, whose loaders depend on the backend
/// that serves the model ([`engine_reads`]).
pub fn loader(engine: &str) -> Option<&'static Loader> {
    LOADERS.iter().find(|l| l.engine == engine)
}

/// Whether `engine` loads a checkpoint stored as `container`.
pub fn loads(engine: &str, container: Container) -> bool {
    loader(engine).is_none_or(|l| l.reads.contains(&container))
}

/// How the download size of a checkpoint is known.
pub const DERIVED: &str = "derived";

/// The checkpoint a deployment serves, as the plan JSON names it (`checkpoint`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServedCheckpoint {
    /// Hugging Face repository id: what the init container downloads and the name clients
    /// ask for.
    pub hf_id: String,
    /// Weight format it is stored in.
    pub format: Dtype,
    /// Bytes of its weight files: what the weights cache must hold.
    pub download_bytes: u64,
    /// Where `download_bytes` comes from: the catalog's source, or `derived: ...` (parameters
    /// × bytes per parameter) when no source gives the size.
    pub size_source: String,
    /// Whether it carries a chat template (`yes`, `no`, `unknown`).
    pub chat_template: String,
    /// vLLM quantizes it to FP8 while loading (`--quantization fp8`).
    pub online_fp8: bool,
}

/// What a deployment asks of its checkpoint.
#[derive(Debug, Clone, Copy)]
pub struct Want<'a> {
    /// Weight format the deployment runs.
    pub precision: Dtype,
    /// Chat / interactive traffic: only a checkpoint with a chat template will do.
    pub chat: bool,
    /// A checkpoint the workload names (`model.checkpoint`), a Hugging Face id.
    pub named: Option<&'a str>,
    /// Serving engine (`vllm`, `sglang`, ...), for the load-time peak of online quantization.
    pub engine: &'a str,
    /// GPUs one replica spreads its weights over (tp × pp).
    pub gpus: u32,
    /// Memory of one GPU, GiB.
    pub gpu_mem_gib: f64,
}

/// The checkpoint chosen for a deployment.
#[derive(Debug, Clone, PartialEq)]
pub enum Choice {
    /// Serve this one.
    Serve(ServedCheckpoint),
    /// The catalog lists no checkpoint for the model (and the workload names none): the
    /// model's own repository is used, as before checkpoints were catalogued.
    Unknown,
    /// No checkpoint serves the format (reason `no_checkpoint`), with the detail.
    None(String),
}

/// Fraction of a GPU's memory the 16-bit weights may take while an engine quantizes them to
/// FP8 at load: vLLM's `--gpu-memory-utilization` default, which the renderer writes.
pub const ONLINE_FP8_LOAD_FRACTION: f64 = 0.9;

/// Peak memory per GPU, bytes, while `engine` loads a 16-bit checkpoint of `bytes16` and
/// quantizes it to FP8, over `gpus` GPUs; `None` when the engine has no documented online
/// FP8 path (a pre-quantized checkpoint is then needed).
///
/// - vLLM up to 0.14 (the renderer pins v0.11.0) materialises every weight at its original
///   precision before quantizing: "we load the model at original precision before quantizing
///   down to 8-bits, so you need enough memory to load the whole model"
///   (docs/features/quantization/fp8.md, quoted in vllm-project/vllm#19967, 2025-06-23).
///   Streaming quantization (vllm-project/vllm#29196) raised the peak in 0.13 and 0.14
///   (vllm-project/vllm#32773, 2026-01-21); vllm-project/vllm#31914 (merged 2026-01-07)
///   lowers it for later releases, which the renderer does not use.
/// - SGLang: "online dynamic quantization requires loading all bf16 weights into VRAM first"
///   (sgl-project/sglang#2895, 2025-01-15).
/// - vLLM's Neuron backend: NxD Inference quantizes on the host (`save_quantized_state_dict`)
///   before it compiles, so the device holds only the FP8 weights, which `fit` counts: no
///   16-bit peak on the device (0).
/// - TensorRT-LLM 1.2.1 and TGI 3.3.7: none documented here; a pre-quantized checkpoint is
///   needed.
pub fn online_fp8_load_peak_bytes(engine: &str, bytes16: u64, gpus: u32) -> Option<f64> {
    match engine {
        "vllm" | "sglang" => Some(bytes16 as f64 / f64::from(gpus.max(1))),
        "neuron" => Some(0.0),
        _ => None,
    }
}

/// Bytes of a checkpoint's weights: the catalog's figure with its source, else parameters ×
/// bytes per parameter of its format, labelled [`DERIVED`].
pub fn download_size(c: &Checkpoint, model: &ModelSpec) -> (u64, String) {
    match c.download_bytes {
        Some(b) => (b, c.source.clone()),
        None => derived_size(model, c.format),
    }
}

/// The weights of `model` stored in `format`, as the memory model counts them
/// ([`inferplan_perf::memory::weight_bytes`]: block scales included, embeddings and output head
/// kept 16-bit), labelled derived. The same bytes the cold start reads.
pub fn derived_size(model: &ModelSpec, format: Dtype) -> (u64, String) {
    let (bytes, _) = inferplan_perf::memory::weight_bytes(model, format, 1, 1);
    (
        bytes.ceil() as u64,
        format!(
            "{DERIVED}: the {format} weights of {:.2}B parameters (embeddings and head 16-bit), \
             as the memory model counts them; no published size",
            model.params().total / 1e9
        ),
    )
}

fn served(c: &Checkpoint, model: &ModelSpec, online_fp8: bool) -> ServedCheckpoint {
    let (download_bytes, size_source) = download_size(c, model);
    ServedCheckpoint {
        hf_id: c.hf_id.clone(),
        format: c.format,
        download_bytes,
        size_source,
        chat_template: c.chat_template.as_str().to_owned(),
        online_fp8,
    }
}

/// Whether a 16-bit checkpoint can be quantized to FP8 at load within one GPU's memory.
fn online_fits(w: &Want<'_>, bytes16: u64) -> Result<(), String> {
    let budget = w.gpu_mem_gib * ONLINE_FP8_LOAD_FRACTION * GIB;
    match online_fp8_load_peak_bytes(w.engine, bytes16, w.gpus) {
        None => Err(format!(
            "{} has no documented online FP8 path; a pre-quantized FP8 checkpoint is needed",
            w.engine
        )),
        Some(peak) if peak > budget => Err(format!(
            "{} quantizes to FP8 after loading the 16-bit weights: {:.1} GiB per GPU at load, \
             above {:.1} GiB ({} % of {:.1} GiB)",
            w.engine,
            peak / GIB,
            budget / GIB,
            ONLINE_FP8_LOAD_FRACTION * 100.0,
            w.gpu_mem_gib
        )),
        Some(_) => Ok(()),
    }
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Chooses the checkpoint a deployment serves from the catalog's `rows` for `model`
/// (preferred first): the workload's named one; else one stored in the planned format (a
/// pre-quantized checkpoint before online quantization); else, for FP8, a 16-bit one that the
/// engine quantizes at load when the load-time peak fits ([`online_fp8_load_peak_bytes`]).
/// Only checkpoints the engine release the renderer pins can load count ([`engine_reads`]):
/// a TensorRT-LLM FP8 deployment serves a ModelOpt export, not a
/// compressed-tensors one. Chat traffic takes only checkpoints with a chat template. 16-bit
/// formats take either 16-bit checkpoint (the engine casts).
pub fn choose(rows: &[&Checkpoint], model: &ModelSpec, w: &Want<'_>) -> Choice {
    let sixteen = |d: Dtype| matches!(d, Dtype::Bf16 | Dtype::Fp16 | Dtype::Fp32);
    let stored_as =
        |c: &Checkpoint| c.format == w.precision || (sixteen(c.format) && sixteen(w.precision));
    if let Some(name) = w.named {
        let found = rows.iter().find(|c| c.hf_id.eq_ignore_ascii_case(name));
        if let Some(Err(why)) = found.map(|c| engine_reads(w.engine, model, c)) {
            return Choice::None(format!("the named checkpoint `{name}`: {why}"));
        }
        let (c, format) = match found {
            Some(c) => (served(c, model, false), c.format),
            None => {
                // Not catalogued: its format from its name, else the model's own.
                let format = inferplan_catalog::names::split_quantized(name)
                    .1
                    .or(model.native_weights)
                    .unwrap_or(Dtype::Bf16);
                let (download_bytes, size_source) = derived_size(model, format);
                let c = ServedCheckpoint {
                    hf_id: name.to_owned(),
                    format,
                    download_bytes,
                    size_source,
                    chat_template: "unknown".to_owned(),
                    online_fp8: false,
                };
                (c, format)
            }
        };
        if format == w.precision || (sixteen(format) && sixteen(w.precision)) {
            return Choice::Serve(c);
        }
        if w.precision == Dtype::Fp8 && sixteen(format) {
            return match online_fits(w, c.download_bytes) {
                Ok(()) => Choice::Serve(ServedCheckpoint {
                    online_fp8: true,
                    ..c
                }),
                Err(why) => {
                    Choice::None(format!("the named checkpoint `{name}` is {format}: {why}"))
                }
            };
        }
        return Choice::None(format!(
            "the named checkpoint `{name}` is stored in {format}, not {}",
            w.precision
        ));
    }
    if rows.is_empty() {
        return Choice::Unknown;
    }
    let mut unreadable = Vec::new();
    let usable: Vec<&&Checkpoint> = rows
        .iter()
        .filter(|c| !w.chat || c.chat_template == ChatTemplate::Yes)
        .filter(|c| match engine_reads(w.engine, model, c) {
            Ok(()) => true,
            Err(why) => {
                if stored_as(c) {
                    unreadable.push(format!("`{}`: {why}", c.hf_id));
                }
                false
            }
        })
        .collect();
    // Instruct checkpoints first where both would do.
    let mut ordered: Vec<&&Checkpoint> = usable
        .iter()
        .filter(|c| c.chat_template == ChatTemplate::Yes)
        .copied()
        .collect();
    ordered.extend(
        usable
            .iter()
            .filter(|c| c.chat_template != ChatTemplate::Yes),
    );
    if let Some(c) = ordered.iter().find(|c| stored_as(c)) {
        return Choice::Serve(served(c, model, false));
    }
    let what = if w.chat { "with a chat template " } else { "" };
    // The catalog's checkpoints of the format that the engine cannot load, and why.
    let skipped = if unreadable.is_empty() {
        String::new()
    } else {
        format!(
            "; {} cannot load the catalog's {} ones: {}",
            w.engine,
            w.precision,
            unreadable.join("; ")
        )
    };
    if w.precision == Dtype::Fp8 {
        if let Some(c) = ordered.iter().find(|c| sixteen(c.format)) {
            let s = served(c, model, true);
            return match online_fits(w, s.download_bytes) {
                Ok(()) => Choice::Serve(s),
                Err(why) => Choice::None(format!(
                    "no FP8 checkpoint {what}of {} in the catalog, and online FP8 from `{}` does \
                     not fit: {why}{skipped}",
                    model.name, c.hf_id
                )),
            };
        }
    }
    Choice::None(format!(
        "no {} checkpoint {what}of {} in the catalog (data/models/checkpoints.csv); name one \
         with model.checkpoint{skipped}",
        w.precision, model.name
    ))
}

/// Whether `engine` loads checkpoint `c` of `model`; `Err` says why not. LMDeploy's loaders
/// depend on the backend that serves the model ([`crate::lmdeploy::model_format`]); the other
/// engines' on the release the renderer pins ([`LOADERS`]).
pub fn engine_reads(engine: &str, model: &ModelSpec, c: &Checkpoint) -> Result<(), String> {
    if engine == "lmdeploy" {
        return match crate::lmdeploy::backend(model) {
            Some(b) => crate::lmdeploy::model_format(b, c.format, &c.method).map(|_| ()),
            // The renderer refuses the model itself, with its reason.
            None => Ok(()),
        };
    }
    let container = Container::of(c);
    match loader(engine) {
        Some(l) if !l.reads.contains(&container) => Err(format!(
            "{} does not load {} checkpoints",
            l.release,
            container.as_str()
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantization_per_format() {
        assert_eq!(
            quantization(Dtype::Bf16, None),
            Quantization::Dtype("bfloat16")
        );
        assert_eq!(quantization(Dtype::Fp8, None), Quantization::OnlineFp8);
        assert_eq!(
            quantization(Dtype::Fp8, Some(Dtype::Fp8)),
            Quantization::FromCheckpoint
        );
        assert_eq!(
            quantization(Dtype::Int4, Some(Dtype::Bf16)),
            Quantization::NeedsCheckpoint
        );
    }

    #[test]
    fn what_the_renderer_writes_the_linter_reads_back() {
        assert_eq!(quantization_format(online_fp8()), Some(Dtype::Fp8));
        for d in [Dtype::Bf16, Dtype::Fp16, Dtype::Fp32] {
            let Quantization::Dtype(v) = quantization(d, None) else {
                panic!("{d} is written with --dtype");
            };
            assert_eq!(dtype_format(Some(v)), d);
        }
        assert_eq!(kv_format_of(Some(KV_FP8), Dtype::Bf16), Dtype::Fp8);
    }

    #[test]
    fn formats_a_manifest_says() {
        assert_eq!(quantization_format(" AWQ-Marlin "), Some(Dtype::Int4));
        assert_eq!(quantization_format("mxfp4"), Some(Dtype::Mxfp4));
        assert_eq!(quantization_format("none"), None);
        let named = Served {
            model: Some("org/Llama-3.1-8B-Instruct-FP8"),
            dtype: Some("half"),
            ..Served::default()
        };
        assert_eq!(format_of(&named), Dtype::Fp8);
        let q = Served {
            quantization: Some("gptq"),
            ..named
        };
        assert_eq!(format_of(&q), Dtype::Int4);
        let plain = Served {
            dtype: Some("half"),
            ..Served::default()
        };
        assert_eq!(format_of(&plain), Dtype::Fp16);
        assert_eq!(format_of(&Served::default()), Dtype::Bf16);
        assert_eq!(kv_format_of(Some("auto"), Dtype::Fp16), Dtype::Fp16);
        assert_eq!(kv_format_of(None, Dtype::Fp8), Dtype::Bf16);
    }

    fn llama_70b() -> (inferplan_catalog::Catalog, String) {
        let c = inferplan_catalog::Catalog::embedded().unwrap();
        let name = c.model("Llama 3.3 70B").unwrap().name.clone();
        (c, name)
    }

    fn want(precision: Dtype, gpus: u32, mem: f64) -> Want<'static> {
        Want {
            precision,
            chat: true,
            named: None,
            engine: "vllm",
            gpus,
            gpu_mem_gib: mem,
        }
    }

    #[test]
    fn pre_quantized_first_then_online_fp8_where_the_load_peak_fits() {
        let (c, name) = llama_70b();
        let m = c.model(&name).unwrap();
        let rows = c.checkpoints(&name);
        let Choice::Serve(s) = choose(&rows, m, &want(Dtype::Fp8, 2, 80.0)) else {
            panic!("an FP8 checkpoint exists");
        };
        assert_eq!(s.hf_id, "RedHatAI/Llama-3.3-70B-Instruct-FP8-dynamic");
        assert!(!s.online_fp8);
        // Only the 16-bit checkpoint: online FP8 needs 141 GB / GPUs at load.
        let sixteen: Vec<&Checkpoint> = rows
            .iter()
            .copied()
            .filter(|k| k.format == Dtype::Bf16)
            .collect();
        let Choice::Serve(s) = choose(&sixteen, m, &want(Dtype::Fp8, 2, 80.0)) else {
            panic!("70.6 GB per GPU fits 72 GiB");
        };
        assert!(s.online_fp8 && s.format == Dtype::Bf16);
        assert_eq!(s.download_bytes, 141_107_412_992);
        assert!(matches!(
            choose(&sixteen, m, &want(Dtype::Fp8, 1, 80.0)),
            Choice::None(_)
        ));
        assert!(matches!(
            choose(
                &sixteen,
                m,
                &Want {
                    engine: "trtllm",
                    ..want(Dtype::Fp8, 8, 80.0)
                }
            ),
            Choice::None(_)
        ));
        // No MXFP4 checkpoint: rejected, not rendered with a note.
        let Choice::None(why) = choose(&rows, m, &want(Dtype::Mxfp4, 8, 80.0)) else {
            panic!("no mxfp4 checkpoint");
        };
        assert!(why.contains("no mxfp4 checkpoint"), "{why}");
    }

    #[test]
    fn chat_takes_an_instruct_checkpoint_and_a_named_one_wins() {
        let c = inferplan_catalog::Catalog::embedded().unwrap();
        let m = c.model("Llama 3.1 8B").unwrap();
        let rows = c.checkpoints(&m.name);
        let base_only: Vec<&Checkpoint> = rows
            .iter()
            .copied()
            .filter(|k| k.chat_template == ChatTemplate::No)
            .collect();
        assert!(matches!(
            choose(&base_only, m, &want(Dtype::Bf16, 1, 24.0)),
            Choice::None(_)
        ));
        let batch = Want {
            chat: false,
            ..want(Dtype::Bf16, 1, 24.0)
        };
        let Choice::Serve(s) = choose(&base_only, m, &batch) else {
            panic!("batch work may use the base model");
        };
        assert_eq!(s.hf_id, "meta-llama/Llama-3.1-8B");
        let named = Want {
            named: Some("org/My-Llama-3.1-8B-AWQ"),
            ..want(Dtype::Int4, 1, 24.0)
        };
        let Choice::Serve(s) = choose(&rows, m, &named) else {
            panic!("a named checkpoint in the planned format is served");
        };
        assert_eq!(
            (s.hf_id.as_str(), s.format),
            ("org/My-Llama-3.1-8B-AWQ", Dtype::Int4)
        );
        assert!(s.size_source.starts_with(DERIVED));
        assert_eq!(choose(&[], m, &want(Dtype::Bf16, 1, 24.0)), Choice::Unknown);
    }

    #[test]
    fn every_catalogued_checkpoint_has_a_container_the_loaders_know() {
        let c = inferplan_catalog::Catalog::embedded().unwrap();
        for k in c.all_checkpoints() {
            assert_ne!(
                Container::of(k),
                Container::Other,
                "{}: {}",
                k.hf_id,
                k.method
            );
        }
        assert!(
            loads("lmdeploy", Container::Other),
            "unknown engines are not filtered"
        );
    }

    #[test]
    fn tensorrt_llm_fp8_serves_a_modelopt_export() {
        let (c, name) = llama_70b();
        let m = c.model(&name).unwrap();
        let rows = c.checkpoints(&name);
        let trt = Want {
            engine: "trtllm",
            ..want(Dtype::Fp8, 2, 80.0)
        };
        let Choice::Serve(s) = choose(&rows, m, &trt) else {
            panic!("nvidia/Llama-3.3-70B-Instruct-FP8 is catalogued");
        };
        assert_eq!(s.hf_id, "nvidia/Llama-3.3-70B-Instruct-FP8");
        assert!(!s.online_fp8 && s.format == Dtype::Fp8);
        // vLLM keeps the first FP8 checkpoint of the catalog, which it loads.
        let Choice::Serve(v) = choose(&rows, m, &want(Dtype::Fp8, 2, 80.0)) else {
            panic!("vLLM loads compressed-tensors");
        };
        assert_eq!(v.hf_id, "RedHatAI/Llama-3.3-70B-Instruct-FP8-dynamic");
        // Without the ModelOpt row, TensorRT-LLM has no FP8 checkpoint and no online path.
        let without: Vec<&Checkpoint> = rows
            .iter()
            .copied()
            .filter(|k| k.method != "modelopt")
            .collect();
        let Choice::None(why) = choose(&without, m, &trt) else {
            panic!("compressed-tensors is not loaded by TensorRT-LLM 1.2.1");
        };
        assert!(
            why.contains("TensorRT-LLM 1.2.1")
                && why.contains("RedHatAI/Llama-3.3-70B-Instruct-FP8-dynamic"),
            "{why}"
        );
        // A named checkpoint the engine cannot load is refused too.
        let named = Want {
            named: Some("RedHatAI/Llama-3.3-70B-Instruct-FP8-dynamic"),
            ..trt
        };
        assert!(matches!(choose(&rows, m, &named), Choice::None(_)));
    }

    #[test]
    fn an_engine_that_loads_no_existing_checkpoint_of_the_format_is_refused() {
        let (c, name) = llama_70b();
        let m = c.model(&name).unwrap();
        let rows = c.checkpoints(&name);
        // The only FP4 checkpoint is a ModelOpt NVFP4 export, which TGI 3.3.7 does not read.
        let tgi = Want {
            engine: "tgi",
            ..want(Dtype::Fp4, 2, 180.0)
        };
        let Choice::None(why) = choose(&rows, m, &tgi) else {
            panic!("TGI loads no ModelOpt checkpoint");
        };
        assert!(
            why.contains("TGI 3.3.7") && why.contains("nvidia/Llama-3.3-70B-Instruct-FP4"),
            "{why}"
        );
        // The only INT4 checkpoint is compressed-tensors: not for TensorRT-LLM 1.2.1, fine
        // for SGLang.
        let trt = Want {
            engine: "trtllm",
            ..want(Dtype::Int4, 2, 80.0)
        };
        assert!(matches!(choose(&rows, m, &trt), Choice::None(_)));
        let sglang = Want {
            engine: "sglang",
            ..trt
        };
        assert!(matches!(choose(&rows, m, &sglang), Choice::Serve(_)));
    }

    #[test]
    fn neuron_fp8_is_quantized_from_the_sixteen_bit_checkpoint() {
        let (c, name) = llama_70b();
        let m = c.model(&name).unwrap();
        let rows = c.checkpoints(&name);
        let neuron = Want {
            engine: "neuron",
            ..want(Dtype::Fp8, 16, 24.0)
        };
        let Choice::Serve(s) = choose(&rows, m, &neuron) else {
            panic!("NxD Inference quantizes the 16-bit checkpoint on the host");
        };
        assert_eq!(s.hf_id, "meta-llama/Llama-3.3-70B-Instruct");
        assert!(s.online_fp8);
    }
}
