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

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

mod support;
use support::{
    env_or, machine, peak_rss_kib, percentile, percentiles, run, serve, stop, wait_ready,
};

const SHOP: &str = "bench-load.myshopify.com";
const COLOURWAYS: [&str; 20] = [
    "Sage",
    "Charcoal",
    "Sand",
    "Ocean",
    "Plum",
    "Terracotta",
    "Midnight",
    "Coral",
    "Olive",
    "Slate",
    "Blush",
    "Indigo",
    "Moss",
    "Rust",
    "Pearl",
    "Ink",
    "Clay",
    "Lilac",
    "Forest",
    "Stone",
];

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

    let (seed_path, ids) = write_seed_catalogue(&yoga, work.path());
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
        if p99 < Duration::from_millis(10) && fixed_errors == 0 {
            "met"
        } else {
            "NOT met"
        }
    );
}

type Sampled = (Vec<Duration>, f64, usize);

async fn open_loop<C>(
    client: &Arc<Client<C, Empty<Bytes>>>,
    key: &str,
    request: &impl Fn(usize) -> String,
    rate: u64,
    seconds: u64,
) -> Sampled
where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
{
    let total = (rate * seconds) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let started = Instant::now();
    let mut handles = Vec::with_capacity(total);
    for i in 0..total {
        let scheduled = started + interval * i as u32;
        tokio::time::sleep_until(scheduled.into()).await;
        let client = client.clone();
        let (uri, key) = (request(i), key.to_owned());
        handles.push(tokio::spawn(async move {
            let ok = get(&client, &uri, &key).await;
            (scheduled.elapsed(), ok)
        }));
    }
    collect(handles, started).await
}

async fn closed_loop<C>(
    client: &Arc<Client<C, Empty<Bytes>>>,
    key: &str,
    request: &impl Fn(usize) -> String,
    connections: usize,
    seconds: u64,
) -> Sampled
where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
{
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut handles = Vec::new();
    for worker in 0..connections {
        let client = client.clone();
        let key = key.to_owned();
        let uris: Vec<String> = (0..2_000).map(|i| request(worker * 2_000 + i)).collect();
        handles.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut i = 0;
            while Instant::now() < deadline {
                let sent = Instant::now();
                let ok = get(&client, &uris[i % uris.len()], &key).await;
                samples.push((sent.elapsed(), ok));
                i += 1;
            }
            samples
        }));
    }
    let mut all = Vec::new();
    for handle in handles {
        all.extend(handle.await.unwrap());
    }
    summarise(all, started)
}

async fn collect(
    handles: Vec<tokio::task::JoinHandle<(Duration, bool)>>,
    started: Instant,
) -> Sampled {
    let mut all = Vec::with_capacity(handles.len());
    for handle in handles {
        all.push(handle.await.unwrap());
    }
    summarise(all, started)
}

fn summarise(samples: Vec<(Duration, bool)>, started: Instant) -> Sampled {
    let errors = samples.iter().filter(|(_, ok)| !ok).count();
    let rps = samples.len() as f64 / started.elapsed().as_secs_f64();
    let mut latencies: Vec<Duration> = samples.into_iter().map(|(d, _)| d).collect();
    latencies.sort();
    (latencies, rps, errors)
}

async fn get<C>(client: &Client<C, Empty<Bytes>>, uri: &str, key: &str) -> bool
where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
{
    let Ok(request) = hyper::Request::get(uri)
        .header("authorization", format!("Bearer {key}"))
        .body(Empty::new())
    else {
        return false;
    };
    match client.request(request).await {
        Ok(response) => {
            let ok = response.status().is_success();
            ok && response.into_body().collect().await.is_ok()
        }
        Err(_) => false,
    }
}

/// Each real product in 20 colourways, as one storefront `products.json`.
fn write_seed_catalogue(yoga: &Path, dir: &Path) -> (std::path::PathBuf, Vec<u64>) {
    let mut products = Vec::new();
    let mut ids = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(yoga)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    for file in files
        .iter()
        .filter(|f| !f.file_name().unwrap().to_str().unwrap().starts_with('_'))
    {
        let doc: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        for product in doc["products"].as_array().unwrap() {
            for (n, colour) in COLOURWAYS.iter().enumerate() {
                let mut variant = product.clone();
                let id = product["id"].as_u64().unwrap() * 100 + n as u64;
                variant["id"] = json!(id);
                variant["title"] =
                    json!(format!("{} - {colour}", product["title"].as_str().unwrap()));
                variant["handle"] = json!(format!(
                    "{}-{}",
                    product["handle"].as_str().unwrap(),
                    colour.to_lowercase()
                ));
                products.push(variant);
                ids.push(id);
            }
        }
    }
    let path = dir.join("seed-products.json");
    std::fs::write(
        &path,
        serde_json::to_vec(&json!({ "products": products })).unwrap(),
    )
    .unwrap();
    (path, ids)
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
