//! Load benchmark of the similar-products API, run by `cargo bench -p kindred --bench similar_load`.
//!
//! Builds a 10k-product catalogue from the real yoga-store captures (each product in 20
//! colourways: new ids, new titles, the real descriptions), imports it with the release
//! `kindred` binary, starts `kindred serve` as a separate process on loopback, and drives it:
//! first open-loop at a fixed rate (latency measured from each request's scheduled start,
//! so a stalled server cannot hide its queueing), then closed-loop for peak throughput.
//! Prints a markdown table with the server's peak RSS.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

mod support;
use support::load::{closed_loop, open_loop};
use support::{
    env_or, machine, peak_rss_kib, percentile, percentiles, run, serve, stop, wait_ready,
};

const SHOP: &str = "bench-load.myshopify.com";

fn main() {
    let rate: u64 = env_or("KINDRED_BENCH_RATE", 500);
    let seconds: u64 = env_or("KINDRED_BENCH_SECONDS", 20);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    let kindred = env!("CARGO_BIN_EXE_kindred");
    let data_dir = work.path().join("data");
    let yoga = support::yoga_catalogue();

    // Import speed on the real catalogue, end to end (parse, embed, index, ANN build).
    let yoga_seconds = timed(|| {
        run(
            kindred,
            &data_dir,
            &[
                "import",
                "--shop",
                "bench-yoga.myshopify.com",
                yoga.to_str().unwrap(),
            ],
        )
    });
    let yoga_products = 508.0;

    let (seed_path, ids) = support::seed_catalogue(&yoga, work.path());
    let seed_seconds = timed(|| {
        run(
            kindred,
            &data_dir,
            &["import", "--shop", SHOP, seed_path.to_str().unwrap()],
        )
    });
    let key = String::from_utf8(run(
        kindred,
        &data_dir,
        &["shop", "create-key", "--shop", SHOP],
    ))
    .unwrap()
    .trim()
    .to_owned();

    let (mut server, base) = serve(kindred, &data_dir, &[]);
    let results = runtime.block_on(async {
        let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        let client = Arc::new(client);
        wait_ready(&client, &base).await;
        let ids = Arc::new(ids);
        let request = |i: usize| {
            let id = ids[(i * 7919) % ids.len()];
            format!("{base}/api/v1/products/{id}/similar?limit=10")
        };
        // Warm caches and connections before measuring.
        open_loop(&client, &key, &request, 100, 2).await;
        let fixed = open_loop(&client, &key, &request, rate, seconds).await;
        let peak = closed_loop(&client, &key, &request, 16, 10).await;
        (fixed, peak)
    });
    let peak_rss_mib = peak_rss_kib(&server) as f64 / 1024.0;
    stop(&mut server);
    let ((fixed_lat, fixed_rps, fixed_errors), (peak_lat, peak_rps, peak_errors)) = results;

    println!(
        "\n## Similar-products API under load ({} indexed products, {})",
        ids_len(&seed_path),
        machine()
    );
    println!("| measure | value |\n|---|---|");
    println!("| import, real yoga catalogue (508 products, end to end) | {:.1} products/s ({yoga_seconds:.1} s) |", yoga_products / yoga_seconds);
    println!(
        "| import, 10,160-product catalogue | {:.1} products/s ({seed_seconds:.1} s) |",
        10_160.0 / seed_seconds
    );
    println!("| open loop at {rate} req/s for {seconds} s: achieved | {fixed_rps:.0} req/s, {fixed_errors} errors |");
    println!(
        "| open loop p50 / p90 / p99 / max | {} |",
        percentiles(&fixed_lat)
    );
    println!(
        "| closed loop, 16 connections: throughput | {peak_rps:.0} req/s, {peak_errors} errors |"
    );
    println!(
        "| closed loop p50 / p90 / p99 / max | {} |",
        percentiles(&peak_lat)
    );
    println!("| server peak RSS | {peak_rss_mib:.0} MiB |");
    let p99 = percentile(&fixed_lat, 0.99);
    println!(
        "\ntarget: p99 < 10 ms at {rate} req/s -> {}",
        if p99 < Duration::from_millis(10) && fixed_errors.total() == 0 {
            "met"
        } else {
            "NOT met"
        }
    );
}

fn ids_len(path: &Path) -> usize {
    let doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    doc["products"].as_array().map(Vec::len).unwrap_or_default()
}

fn timed<T>(f: impl FnOnce() -> T) -> f64 {
    let started = Instant::now();
    f();
    started.elapsed().as_secs_f64()
}
