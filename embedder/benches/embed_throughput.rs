//! Embedding throughput on the CPU: ours against sentence-transformers (PyTorch) and ONNX
//! Runtime on the same texts, in the same run, alternating, model loading excluded from all.
//!
//! `cargo bench -p kindred-embedder --bench embed_throughput`; the reference sides need a
//! Python with sentence-transformers, ONNX Runtime and the ONNX exporter:
//! `KINDRED_BENCH_PYTHON=$(scripts/bench/setup-python.sh)`. The ONNX model is exported from
//! the same safetensors at the start of the run (`scripts/bench/export_onnx.py`, which checks
//! it against sentence-transformers). `KINDRED_BENCH_ROUNDS` (default 3),
//! `KINDRED_MAX_BATCH_TOKENS` (default 2048) and `KINDRED_CPU_INSTRUCTIONS` (auto, avx512,
//! avx2, scalar) tune it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use kindred_embedder::product_text::{product_text, ProductFields};
use kindred_embedder::{
    cpu_features, default_model_dir, BertEmbedder, CpuKernels, DevicePreference, Embedder,
    InstructionSet,
};
use serde_json::Value;

/// A Python implementation timed beside ours: its script prints one JSON line with the
/// seconds of each round it was asked for.
struct Reference {
    name: &'static str,
    script: PathBuf,
    args: Vec<OsString>,
    seconds: Vec<f64>,
    detail: String,
}

impl Reference {
    fn round(&mut self, python: &Path) {
        let output = Command::new(python)
            .arg(&self.script)
            .args(&self.args)
            .arg("1")
            .output()
            .expect("run the reference");
        assert!(
            output.status.success(),
            "{}: {}",
            self.name,
            String::from_utf8_lossy(&output.stderr)
        );
        let report = last_json_line(&output.stdout);
        self.seconds.push(report["seconds"][0].as_f64().unwrap());
        self.detail = match self.name {
            "PyTorch" => format!(
                "sentence-transformers {} on PyTorch {} (batch 32, {} threads)",
                report["sentence_transformers"].as_str().unwrap_or("?"),
                report["torch"].as_str().unwrap_or("?"),
                report["threads"]
            ),
            _ => format!(
                "ONNX Runtime {} (length-sorted batches of 32, {} threads)",
                report["onnxruntime"].as_str().unwrap_or("?"),
                report["threads"]
            ),
        };
    }
}

fn main() {
    let rounds: usize = env_or("KINDRED_BENCH_ROUNDS", 3);
    let budget: usize = env_or("KINDRED_MAX_BATCH_TOKENS", 2_048);
    let kernels = match std::env::var("KINDRED_CPU_INSTRUCTIONS").as_deref() {
        Ok("auto") | Err(_) => CpuKernels::Native,
        Ok(named) => CpuKernels::NativeWith(named.parse::<InstructionSet>().unwrap()),
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let texts = yoga_texts(&root.join("../shared/data/catalogs/yoga-stores/2026-01-13"));
    let model_dir = default_model_dir();
    let embedder = BertEmbedder::load_with(&model_dir, DevicePreference::Cpu, budget, kernels)
        .expect("model (run scripts/fetch-model.sh)");
    let instructions = embedder
        .cpu_instructions()
        .unwrap_or(InstructionSet::Scalar);
    let tokens: usize = embedder.token_lengths(&texts).unwrap().iter().sum();
    embedder.embed(&texts[..64]).unwrap(); // warm-up

    let work = tempfile::tempdir().unwrap();
    let texts_file = work.path().join("texts.json");
    std::fs::write(&texts_file, serde_json::to_vec(&texts).unwrap()).unwrap();
    let python = std::env::var_os("KINDRED_BENCH_PYTHON").map(PathBuf::from);
    let scripts = root.join("scripts/bench");
    let mut references = Vec::new();
    let mut export_note = String::new();
    if let Some(python) = &python {
        let onnx = work.path().join("model.onnx");
        let output = Command::new(python)
            .arg(scripts.join("export_onnx.py"))
            .arg(&model_dir)
            .arg(&onnx)
            .arg(&texts_file)
            .output()
            .expect("export the model to ONNX");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let export = last_json_line(&output.stdout);
        export_note = format!(
            "The ONNX model was exported from the same safetensors in this run; its lowest cosine to sentence-transformers over these texts is {:.7}.",
            export["lowest_cosine"].as_f64().unwrap_or(f64::NAN)
        );
        references.push(Reference {
            name: "PyTorch",
            script: scripts.join("st_embed.py"),
            args: vec![model_dir.clone().into(), texts_file.clone().into()],
            seconds: Vec::new(),
            detail: String::new(),
        });
        references.push(Reference {
            name: "ONNX Runtime",
            script: scripts.join("ort_embed.py"),
            args: vec![
                model_dir.clone().into(),
                onnx.into(),
                texts_file.clone().into(),
            ],
            seconds: Vec::new(),
            detail: String::new(),
        });
    }

    let mut ours = Vec::new();
    for round in 0..rounds {
        let started = Instant::now();
        embedder.embed(&texts).unwrap();
        ours.push(started.elapsed().as_secs_f64());
        let mut line = format!("round {}: ours {:.2}s", round + 1, ours[round]);
        for reference in &mut references {
            reference.round(python.as_deref().unwrap());
            line += &format!(", {} {:.2}s", reference.name, reference.seconds[round]);
        }
        eprintln!("{line}");
    }

    let n = texts.len() as f64;
    let ours_rate = n / median(&mut ours);
    println!(
        "\n## Embedding throughput, CPU ({}, {})",
        kindred_embedder::host_description(),
        today()
    );
    println!("CPU features: {}.", cpu_features().join(", "));
    println!("{} product texts of the yoga-store catalogue, {tokens} tokens after truncation at 256; median of {rounds} alternating rounds. {export_note}\n", texts.len());
    println!("| implementation | products/s | ours / it |\n|---|---|---|");
    println!("| Kindred (native CPU kernels: {instructions}, 2 lanes, token budget {budget}) | {ours_rate:.1} | |");
    if references.is_empty() {
        println!("| PyTorch and ONNX Runtime | not run: set KINDRED_BENCH_PYTHON | |");
    }
    for reference in &mut references {
        let rate = n / median(&mut reference.seconds);
        println!(
            "| {} | {rate:.1} | **{:.2}x** |",
            reference.detail,
            ours_rate / rate
        );
    }
}

fn last_json_line(stdout: &[u8]) -> Value {
    let text = String::from_utf8_lossy(stdout);
    serde_json::from_str(text.lines().last().unwrap_or("{}")).unwrap()
}

/// Product texts as the app builds them, from the storefront `products.json` captures.
fn yoga_texts(dir: &Path) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    let mut texts = Vec::new();
    for file in files
        .iter()
        .filter(|f| !f.file_name().unwrap().to_string_lossy().starts_with('_'))
    {
        let doc: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        for p in doc["products"].as_array().unwrap() {
            let tags: Vec<String> = p["tags"]
                .as_array()
                .map(|t| {
                    t.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let options: Vec<(String, Vec<String>)> = p["options"]
                .as_array()
                .map(|o| {
                    o.iter()
                        .map(|o| {
                            let values = o["values"]
                                .as_array()
                                .map(|v| {
                                    v.iter()
                                        .filter_map(|s| s.as_str().map(str::to_owned))
                                        .collect()
                                })
                                .unwrap_or_default();
                            (o["name"].as_str().unwrap_or_default().to_owned(), values)
                        })
                        .collect()
                })
                .unwrap_or_default();
            texts.push(product_text(&ProductFields {
                title: p["title"].as_str().unwrap_or_default(),
                product_type: p["product_type"].as_str(),
                vendor: p["vendor"].as_str(),
                tags: &tags,
                options: &options,
                description_html: p["body_html"].as_str().unwrap_or_default(),
            }));
        }
    }
    texts
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn today() -> String {
    Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
