//! Embedding throughput on the CPU: ours against sentence-transformers (PyTorch) on the same
//! texts, in the same run, alternating, model loading excluded from both.
//!
//! `cargo bench -p kindred-embedder --bench embed_throughput`; the reference side needs a
//! Python with sentence-transformers: `KINDRED_BENCH_PYTHON=$(scripts/bench/setup-python.sh)`.
//! `KINDRED_BENCH_ROUNDS` (default 3) and `KINDRED_MAX_BATCH_TOKENS` (default 2048) tune it.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use kindred_embedder::product_text::{product_text, ProductFields};
use kindred_embedder::{default_model_dir, BertEmbedder, DevicePreference, Embedder};
use serde_json::Value;

fn main() {
    let rounds: usize = env_or("KINDRED_BENCH_ROUNDS", 3);
    let budget: usize = env_or("KINDRED_MAX_BATCH_TOKENS", 2_048);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let texts = yoga_texts(&root.join("../shared/data/catalogs/yoga-stores/2026-01-13"));
    let model_dir = default_model_dir();
    let embedder = BertEmbedder::load(&model_dir, DevicePreference::Cpu, budget)
        .expect("model (run scripts/fetch-model.sh)");
    let tokens: usize = embedder.token_lengths(&texts).unwrap().iter().sum();
    embedder.embed(&texts[..64]).unwrap(); // warm-up

    let texts_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(texts_file.path(), serde_json::to_vec(&texts).unwrap()).unwrap();
    let python = std::env::var("KINDRED_BENCH_PYTHON").ok();
    let script = root.join("scripts/bench/st_embed.py");

    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let mut torch_threads = String::from("-");
    for round in 0..rounds {
        let started = Instant::now();
        embedder.embed(&texts).unwrap();
        ours.push(started.elapsed().as_secs_f64());
        if let Some(python) = &python {
            let output = Command::new(python)
                .arg(&script)
                .arg(&model_dir)
                .arg(texts_file.path())
                .arg("1")
                .output()
                .expect("run the sentence-transformers reference");
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let line = String::from_utf8_lossy(&output.stdout);
            let report: Value = serde_json::from_str(line.lines().last().unwrap_or("{}")).unwrap();
            theirs.push(report["seconds"][0].as_f64().unwrap());
            torch_threads = format!(
                "{} (torch {})",
                report["threads"],
                report["torch"].as_str().unwrap_or("?")
            );
        }
        eprintln!(
            "round {}: ours {:.2}s{}",
            round + 1,
            ours[round],
            theirs
                .get(round)
                .map(|t| format!(", PyTorch {t:.2}s"))
                .unwrap_or_default()
        );
    }

    let n = texts.len() as f64;
    let ours_rate = n / median(&mut ours);
    println!(
        "\n## Embedding throughput, CPU ({}, {})",
        kindred_embedder::host_description(),
        today()
    );
    println!("{} product texts of the yoga-store catalogue, {tokens} tokens after truncation at 256; median of {rounds} alternating rounds.\n", texts.len());
    println!("| implementation | products/s | ratio |\n|---|---|---|");
    println!("| Kindred (native CPU kernels, 2 lanes, token budget {budget}) | {ours_rate:.1} | |");
    if theirs.is_empty() {
        println!("| sentence-transformers (PyTorch) | not run: set KINDRED_BENCH_PYTHON | |");
    } else {
        let theirs_rate = n / median(&mut theirs);
        println!("| sentence-transformers (PyTorch, batch 32, threads {torch_threads}) | {theirs_rate:.1} | |");
        println!(
            "| **ratio ours / PyTorch** | | **{:.2}x** |",
            ours_rate / theirs_rate
        );
    }
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
