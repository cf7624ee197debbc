//! Embedding throughput on the CPU: ours against sentence-transformers (PyTorch) and ONNX
//! Runtime on the same texts, in the same run, alternating, model loading excluded from all.
//!
//! `cargo bench -p kindred-embedder --bench embed_throughput`; the reference sides need a
//! Python with sentence-transformers, ONNX Runtime and the ONNX exporter:
//! `KINDRED_BENCH_PYTHON=$(scripts/bench/setup-python.sh)`. The ONNX model is exported from
//! the same safetensors at the start of the run (`scripts/bench/export_onnx.py`, which checks
//! it against sentence-transformers). `KINDRED_BENCH_ROUNDS` (default 3),
//! `KINDRED_MAX_BATCH_TOKENS` (default 2048) and `KINDRED_CPU_INSTRUCTIONS` (auto, avx512,
//! avx2, scalar) tune it. The opt-in int8 mode is timed in the same rounds.

mod catalogue;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use catalogue::{env_or, median, options, shop_files, shop_texts, today};
use kindred_embedder::{
    cpu_features, default_model_dir, BertEmbedder, DevicePreference, Embedder, InstructionSet,
    Precision,
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
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let texts: Vec<String> =
        shop_files(&root.join("../shared/data/catalogs/yoga-stores/2026-01-13"))
            .iter()
            .flat_map(|f| shop_texts(f))
            .collect();
    let model_dir = default_model_dir();
    let load = |precision| {
        BertEmbedder::load_with(
            &model_dir,
            DevicePreference::Cpu,
            budget,
            options(precision),
        )
        .expect("model (run scripts/fetch-model.sh)")
    };
    let embedder = load(Precision::F32);
    let int8 = load(Precision::Int8);
    let instructions = embedder
        .cpu_instructions()
        .unwrap_or(InstructionSet::Scalar);
    let tokens: usize = embedder.token_lengths(&texts).unwrap().iter().sum();
    embedder.embed(&texts[..64]).unwrap(); // warm-up
    int8.embed(&texts[..64]).unwrap();

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

    let (mut ours, mut ours_int8) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let started = Instant::now();
        embedder.embed(&texts).unwrap();
        ours.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        int8.embed(&texts).unwrap();
        ours_int8.push(started.elapsed().as_secs_f64());
        let mut line = format!(
            "round {}: ours {:.2}s, ours int8 {:.2}s",
            round + 1,
            ours[round],
            ours_int8[round]
        );
        for reference in &mut references {
            reference.round(python.as_deref().unwrap());
            line += &format!(", {} {:.2}s", reference.name, reference.seconds[round]);
        }
        eprintln!("{line}");
    }

    let n = texts.len() as f64;
    let ours_rate = n / median(&mut ours);
    let int8_rate = n / median(&mut ours_int8);
    println!(
        "\n## Embedding throughput, CPU ({}, {})",
        kindred_embedder::host_description(),
        today()
    );
    println!("CPU features: {}.", cpu_features().join(", "));
    println!("{} product texts of the yoga-store catalogue, {tokens} tokens after truncation at 256; median of {rounds} alternating rounds. {export_note}\n", texts.len());
    println!("| implementation | products/s | ours f32 / it | ours int8 / it |\n|---|---|---|---|");
    println!("| Kindred (native CPU kernels: {instructions}, 2 lanes, token budget {budget}) | {ours_rate:.1} | | |");
    println!("| Kindred, opt-in int8 projections (same kernels otherwise) | {int8_rate:.1} | | |");
    if references.is_empty() {
        println!("| PyTorch and ONNX Runtime | not run: set KINDRED_BENCH_PYTHON | |");
    }
    for reference in &mut references {
        let rate = n / median(&mut reference.seconds);
        println!(
            "| {} | {rate:.1} | **{:.2}x** | {:.2}x |",
            reference.detail,
            ours_rate / rate,
            int8_rate / rate
        );
    }
}

fn last_json_line(stdout: &[u8]) -> Value {
    let text = String::from_utf8_lossy(stdout);
    serde_json::from_str(text.lines().last().unwrap_or("{}")).unwrap()
}
