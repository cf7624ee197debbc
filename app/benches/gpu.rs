//! The GPU benchmarks in one run; `scripts/gpu/bench.sh` runs it on a GPU machine from the
//! bundle `scripts/gpu/prepare.sh` builds. Without a GPU (or without the `cuda` feature) it
//! runs the same steps on the CPU, which is how it is checked on machines that have none.
//!
//! 1. Embedding throughput: a synthetic catalogue made from the real yoga-store products (each
//!    in many colourways: new titles, real descriptions, so the token lengths are a real
//!    catalogue's), ours (candle, f16 on a GPU) against sentence-transformers (PyTorch, f16)
//!    on the same device, same texts, alternating rounds, model loading excluded.
//! 2. Agreement: the same product texts embedded on the GPU and by the CPU path; cosine per text,
//!    against the CPU path with the bundle's f16 weights and against vectors the CPU server
//!    computed with the original f32 weights (`KINDRED_BENCH_REFERENCE_VECTORS`, written by
//!    `scripts/gpu/prepare.sh` with `KINDRED_BENCH_WRITE_REFERENCE`).
//! 3. Exact all-pairs top-20 by blocked matrix products (`retriever::blocked`), f16 on the GPU,
//!    next to the memory-bandwidth bound (each block pass reads N x d x 2 bytes) and the CPU.
//!
//! Settings: KINDRED_MODEL_DIR (model folder), KINDRED_BENCH_CATALOGUE (a folder of the real
//! catalogue; default the shared data's yoga-store capture), KINDRED_BENCH_PRODUCTS (100000),
//! KINDRED_BENCH_ROUNDS (2), KINDRED_BENCH_PYTHON (a python with sentence-transformers;
//! unset: the reference is not run), KINDRED_BENCH_REFERENCE (its script, st_embed.py), KINDRED_MAX_BATCH_TOKENS (our token budget, 32768 on a
//! GPU), KINDRED_BENCH_AGREEMENT (texts compared, 1000), KINDRED_BENCH_SIZES (all-pairs
//! sizes, "100000,1000000"), KINDRED_BENCH_CPU_SIZE (all-pairs size on the CPU, the first
//! size; 0 skips), KINDRED_BENCH_BANDWIDTH_GBPS (the GPU's memory bandwidth).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use candle_core::{DType, Device};
use kindred::catalog::read_catalogue;
use kindred::catalog::service::text_of;
use kindred_embedder::{default_model_dir, BertEmbedder, DevicePreference, Embedder};
use kindred_retriever::exact_batched::{synthetic_vectors, ResidentVectors};
use serde_json::Value;

/// Colourways that turn each real product into many.
const COLOURS: [&str; 24] = [
    "Black", "White", "Sage", "Clay", "Indigo", "Rose", "Sand", "Charcoal", "Olive", "Navy",
    "Plum", "Ivory", "Coral", "Teal", "Mocha", "Slate", "Lilac", "Rust", "Mint", "Berry", "Stone",
    "Ocean", "Amber", "Moss",
];

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// `n` product texts: the real products, each in colourways and sizes, as the app embeds them.
fn catalogue_texts(folder: &Path, n: usize) -> Vec<String> {
    let real = read_catalogue(folder)
        .expect("the catalogue folder (KINDRED_BENCH_CATALOGUE)")
        .products;
    assert!(!real.is_empty(), "no products in {}", folder.display());
    (0..n)
        .map(|i| {
            let mut product = real[i % real.len()].clone();
            let round = i / real.len();
            let colour = COLOURS[round % COLOURS.len()];
            if round > 0 {
                product.title =
                    format!("{} - {colour} {}", product.title, round / COLOURS.len() + 1);
                product.tags.push(colour.to_lowercase());
            }
            text_of(&product)
        })
        .collect()
}

/// Cosine of each pair (the vectors are unit length), lowest and mean.
fn cosines(a: &[Vec<f32>], b: &[Vec<f32>]) -> (f64, f64) {
    let cosines: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(x, y)| {
            x.iter()
                .zip(y)
                .map(|(p, q)| f64::from(*p) * f64::from(*q))
                .sum()
        })
        .collect();
    let lowest = cosines.iter().copied().fold(f64::INFINITY, f64::min);
    (
        lowest,
        cosines.iter().sum::<f64>() / cosines.len().max(1) as f64,
    )
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let catalogue: PathBuf = std::env::var("KINDRED_BENCH_CATALOGUE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("../shared/data/catalogs/yoga-stores/2026-01-13"));
    let products: usize = env_or("KINDRED_BENCH_PRODUCTS", 100_000);
    let rounds: usize = env_or("KINDRED_BENCH_ROUNDS", 2).max(1);
    let agreement: usize = env_or("KINDRED_BENCH_AGREEMENT", 1_000);
    let model_dir = default_model_dir();

    // On the build machine: the CPU server's vectors of the agreement texts, for the GPU run.
    if let Ok(path) = std::env::var("KINDRED_BENCH_WRITE_REFERENCE") {
        let texts = catalogue_texts(&catalogue, agreement);
        let cpu = BertEmbedder::load(&model_dir, DevicePreference::Cpu, 2_048).expect("model");
        let vectors = cpu.embed(&texts).expect("embed on the CPU");
        std::fs::write(
            &path,
            serde_json::to_vec(&vectors).expect("vectors as JSON"),
        )
        .expect("write the reference vectors");
        println!("{} reference vectors written to {path}", vectors.len());
        return;
    }

    let on_gpu = Device::cuda_if_available(0).is_ok_and(|d| d.is_cuda());
    let budget: usize = env_or(
        "KINDRED_MAX_BATCH_TOKENS",
        if on_gpu { 32_768 } else { 2_048 },
    );
    let ours = BertEmbedder::load(&model_dir, DevicePreference::Auto, budget)
        .expect("model (scripts/fetch-model.sh or KINDRED_MODEL_DIR)");
    let device = if on_gpu { "cuda" } else { "cpu" };
    println!("# Kindred GPU benchmarks ({device})\n");
    println!("{}\n", describe_gpu());

    // ---- 1. embedding throughput -------------------------------------------------------
    let texts = catalogue_texts(&catalogue, products);
    let tokens: usize = ours.token_lengths(&texts).expect("tokenise").iter().sum();
    ours.embed(&texts[..texts.len().min(512)]).expect("warm-up");
    let texts_file =
        std::env::temp_dir().join(format!("kindred-gpu-texts-{}.json", std::process::id()));
    std::fs::write(
        &texts_file,
        serde_json::to_vec(&texts).expect("texts as JSON"),
    )
    .expect("write texts");
    let python = std::env::var("KINDRED_BENCH_PYTHON")
        .ok()
        .filter(|p| !p.is_empty());
    let script: PathBuf = std::env::var("KINDRED_BENCH_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("scripts/bench/st_embed.py"));
    let (mut our_times, mut their_times) = (Vec::new(), Vec::new());
    let mut reference =
        String::from("not run: set KINDRED_BENCH_PYTHON to a python with sentence-transformers");
    for round in 0..rounds {
        let started = Instant::now();
        let vectors = ours.embed(&texts).expect("embed");
        our_times.push(started.elapsed().as_secs_f64());
        assert_eq!(vectors.len(), texts.len());
        if let Some(python) = &python {
            let output = Command::new(python)
                .arg(&script)
                .arg(&model_dir)
                .arg(&texts_file)
                .arg("1")
                .arg(device)
                .arg(if on_gpu { "float16" } else { "float32" })
                .output()
                .expect("run the sentence-transformers reference");
            if output.status.success() {
                let line = String::from_utf8_lossy(&output.stdout);
                let report: Value =
                    serde_json::from_str(line.lines().last().unwrap_or("{}")).unwrap_or_default();
                if let Some(seconds) = report["seconds"][0].as_f64() {
                    their_times.push(seconds);
                    reference = format!(
                        "sentence-transformers {} on PyTorch {} ({}, batch {})",
                        report["sentence_transformers"].as_str().unwrap_or("?"),
                        report["torch"].as_str().unwrap_or("?"),
                        report["dtype"].as_str().unwrap_or("?"),
                        report["batch_size"]
                    );
                }
            } else {
                reference = format!(
                    "failed: {}",
                    String::from_utf8_lossy(&output.stderr)
                        .lines()
                        .last()
                        .unwrap_or("no message")
                );
            }
        }
        eprintln!(
            "embedding round {}: ours {:.2}s{}",
            round + 1,
            our_times[round],
            their_times
                .get(round)
                .map(|t| format!(", reference {t:.2}s"))
                .unwrap_or_default()
        );
    }
    let _ = std::fs::remove_file(&texts_file);
    let n = texts.len() as f64;
    println!("## Embedding throughput\n");
    println!("{products} product texts ({tokens} tokens after truncation at 256), median of {rounds} alternating rounds.\n");
    println!("| implementation | products/s | seconds |\n|---|---|---|");
    let our_rate = n / median(&our_times);
    println!(
        "| Kindred (candle, {}, token budget {budget}) | {our_rate:.0} | {:.2} |",
        if on_gpu { "CUDA f16" } else { "CPU" },
        median(&our_times)
    );
    if their_times.is_empty() {
        println!("| reference | {reference} | |");
    } else {
        let their_rate = n / median(&their_times);
        println!(
            "| {reference} | {their_rate:.0} | {:.2} |",
            median(&their_times)
        );
        println!(
            "| **ours / reference** | **{:.2}x** | |",
            our_rate / their_rate
        );
    }

    // ---- 2. GPU / CPU agreement ----------------------------------------------------------
    println!("\n## GPU and CPU embeddings of the same texts\n");
    let sample: Vec<String> = texts.iter().take(agreement).cloned().collect();
    let cpu =
        BertEmbedder::load(&model_dir, DevicePreference::Cpu, 2_048).expect("model on the CPU");
    let here = ours.embed(&sample).expect("embed");
    let there = cpu.embed(&sample).expect("embed on the CPU");
    println!(
        "| texts | compared with | lowest cosine | mean cosine | target |\n|---|---|---|---|---|"
    );
    let verdict = |lowest: f64| if lowest >= 0.999 { "met" } else { "NOT met" };
    let (lowest, mean) = cosines(&here, &there);
    println!(
        "| {} | the CPU path, same weights | {lowest:.5} | {mean:.5} | >= 0.999: {} |",
        sample.len(),
        verdict(lowest)
    );
    let reference: Option<Vec<Vec<f32>>> = std::env::var("KINDRED_BENCH_REFERENCE_VECTORS")
        .ok()
        .and_then(|path| std::fs::read(path).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    match reference {
        Some(reference) if reference.len() == sample.len() => {
            let (lowest, mean) = cosines(&here, &reference);
            println!(
                "| {} | the CPU server's vectors (f32 weights) | {lowest:.5} | {mean:.5} | >= 0.999: {} |",
                sample.len(),
                verdict(lowest)
            );
        }
        _ => println!("| | the CPU server's vectors (f32 weights) | not compared: no reference vectors for these texts | | |"),
    }
    drop((ours, cpu));

    // ---- 3. exact all-pairs top-20 -------------------------------------------------------
    let sizes: Vec<usize> = std::env::var("KINDRED_BENCH_SIZES")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let cpu_size: usize = env_or(
        "KINDRED_BENCH_CPU_SIZE",
        sizes.first().copied().unwrap_or(0),
    );
    let bandwidth: Option<f64> = std::env::var("KINDRED_BENCH_BANDWIDTH_GBPS")
        .ok()
        .and_then(|v| v.parse().ok());
    let (dimension, k) = (384, 20);
    println!("\n## Exact all-pairs top-{k}, blocked matrix products\n");
    println!("| device | N x d | seconds | products/s | bandwidth bound s | x bound |\n|---|---|---|---|---|---|");
    let gpu = Device::cuda_if_available(0).ok().filter(Device::is_cuda);
    let mut runs: Vec<(Device, DType, usize)> = Vec::new();
    if let Some(gpu) = &gpu {
        runs.extend(sizes.iter().map(|n| (gpu.clone(), DType::F16, *n)));
    }
    if cpu_size > 0 {
        runs.push((Device::Cpu, DType::F32, cpu_size));
    }
    for (device, dtype, n) in runs {
        let vectors = synthetic_vectors(n, dimension, n as u64);
        let resident = ResidentVectors::new(&device, dtype, (0..n as u64).collect(), &vectors)
            .expect("vectors fit the device");
        drop(vectors);
        let started = Instant::now();
        let answers = resident.all_pairs(k).expect("all-pairs search");
        let seconds = started.elapsed().as_secs_f64();
        assert_eq!(answers.len(), n);
        let passes = n.div_ceil(1024) as f64;
        let bytes = passes * (n * dimension * dtype.size_in_bytes()) as f64;
        let (bound, ratio) = match (bandwidth, device.is_cuda()) {
            (Some(gbps), true) => {
                let bound = bytes / (gbps * 1e9);
                (format!("{bound:.3}"), format!("{:.1}", seconds / bound))
            }
            _ => ("n/a".into(), "n/a".into()),
        };
        println!(
            "| {} | {n} x {dimension} | {seconds:.2} | {:.0} | {bound} | {ratio} |",
            if device.is_cuda() {
                "GPU f16"
            } else {
                "CPU f32"
            },
            n as f64 / seconds
        );
    }
}

/// The GPU's name, memory and driver, from `nvidia-smi` when there is one.
fn describe_gpu() -> String {
    Command::new("nvidia-smi")
        .args([
            "--query-gpu=name,memory.total,driver_version",
            "--format=csv,noheader",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| format!("GPU: {}", String::from_utf8_lossy(&o.stdout).trim()))
        .unwrap_or_else(|| "GPU: none found (nvidia-smi did not answer)".to_owned())
}
