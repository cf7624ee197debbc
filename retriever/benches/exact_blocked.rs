//! All-pairs exact top-20 ("similar products" for a whole catalogue) by blocked matrix
//! products: time, pairs per second, and the memory-bandwidth bound of the passes (each
//! block of queries reads the whole catalogue once: N x d x bytes per element).
//!
//!   cargo bench -p kindred-retriever --bench exact_blocked                       # CPU
//!   cargo bench -p kindred-retriever --bench exact_blocked --features cuda       # GPU, f16
//!
//! Settings: KINDRED_BENCH_SIZES (catalogue sizes, default "10000,20000"), KINDRED_BENCH_DIM
//! (384), KINDRED_BENCH_K (20), KINDRED_BENCH_BANDWIDTH_GBPS (the device's memory bandwidth,
//! for the bound column; e.g. 3350 for an H100 SXM, 4800 for an H200). Random unit vectors:
//! timing does not depend on what they mean.

use std::time::Instant;

use candle_core::{DType, Device};
use kindred_retriever::exact_batched::{synthetic_vectors, BlockSizes, ResidentVectors};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let sizes: Vec<usize> = std::env::var("KINDRED_BENCH_SIZES")
        .unwrap_or_else(|_| "10000,20000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let dimension: usize = env_or("KINDRED_BENCH_DIM", 384);
    let k: usize = env_or("KINDRED_BENCH_K", 20);
    let bandwidth_gbps: Option<f64> = std::env::var("KINDRED_BENCH_BANDWIDTH_GBPS")
        .ok()
        .and_then(|v| v.parse().ok());
    let (device, dtype, name) = match Device::cuda_if_available(0) {
        Ok(device) if device.is_cuda() => (device, DType::F16, "CUDA f16"),
        _ => (Device::Cpu, DType::F32, "CPU f32"),
    };
    let blocks = BlockSizes::default();
    println!("| device | N x d | k | seconds | queries/s | bandwidth bound s | x bound |");
    println!("|---|---|---|---|---|---|---|");
    for n in sizes {
        let vectors = synthetic_vectors(n, dimension, n as u64);
        let ids: Vec<u64> = (0..n as u64).collect();
        let resident = ResidentVectors::new(&device, dtype, ids, &vectors)
            .expect("vectors fit the device")
            .with_blocks(blocks);
        drop(vectors);
        let started = Instant::now();
        let answers = resident.all_pairs(k).expect("all-pairs search");
        let seconds = started.elapsed().as_secs_f64();
        assert_eq!(answers.len(), n);
        let passes = n.div_ceil(blocks.queries) as f64;
        let bytes = passes * (n * dimension * dtype.size_in_bytes()) as f64;
        let (bound, ratio) = match bandwidth_gbps {
            Some(gbps) => {
                let bound = bytes / (gbps * 1e9);
                (format!("{bound:.3}"), format!("{:.1}", seconds / bound))
            }
            None => ("n/a".into(), "n/a".into()),
        };
        println!(
            "| {name} | {n} x {dimension} | {k} | {seconds:.2} | {:.0} | {bound} | {ratio} |",
            n as f64 / seconds
        );
    }
}
