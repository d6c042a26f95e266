//! Lists the Hugging Face `config.json` copies under `data/models/hf/` so that the catalog can
//! embed every one of them without a hand-kept list.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest).join("../../data/models/hf");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out = String::from("/// Embedded `config.json` copies: (file name, text).\npub const HF_CONFIGS: &[(&str, &str)] = &[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f
            .file_name()
            .and_then(|n| n.to_str())
            .expect("UTF-8 file name");
        let path = f.canonicalize().expect("config file path");
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("write to string");
    }
    out.push_str("];\n");
    let sources = dir.join("SOURCES.csv");
    println!("cargo:rerun-if-changed={}", sources.display());
    let text = std::fs::read_to_string(&sources).unwrap_or_default();
    writeln!(
        out,
        "/// Embedded `SOURCES.csv` of the config copies.\npub const HF_SOURCES: &str = {text:?};"
    )
    .expect("write to string");
    let dest =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("hf_configs.rs");
    std::fs::write(dest, out).expect("write generated file");
}
