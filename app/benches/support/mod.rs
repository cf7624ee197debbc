//! What the benchmarks that drive a real `kindred serve` share: running the release binary,
//! waiting for the server, reading its memory, stopping it, and summing up latencies.

#![allow(dead_code)] // Each benchmark uses what it needs.

pub mod load;

use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use hyper_util::client::legacy::Client;

/// Runs a `kindred` command on the data folder and returns what it printed.
pub fn run(kindred: &str, data_dir: &Path, args: &[&str]) -> Vec<u8> {
    let output = Command::new(kindred)
        .args(args)
        .env("KINDRED_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn,qdrant_edge=error")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "kindred {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    eprint!("{}", String::from_utf8_lossy(&output.stdout));
    output.stdout
}

/// Starts `kindred serve` on a free loopback port with the rate limits out of the way (a
/// benchmark's load comes from one client address and measures serving, not refusals), plus
/// `extra` settings; returns the process and its base URL.
pub fn serve(kindred: &str, data_dir: &Path, extra: &[(&str, &str)]) -> (Child, String) {
    let port = free_port();
    let server = Command::new(kindred)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("KINDRED_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn,qdrant_edge=error")
        .env("KINDRED_KEY_REQUESTS_PER_MINUTE", "100000000")
        .env("KINDRED_CLIENT_REQUESTS_PER_MINUTE", "100000000")
        .envs(extra.iter().copied())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    (server, format!("http://127.0.0.1:{port}"))
}

/// Polls `/ready` until the server answers.
pub async fn wait_ready<C, B>(client: &Client<C, B>, base: &str)
where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
    B: hyper::body::Body + Default + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    for _ in 0..600 {
        if let Ok(request) = hyper::Request::get(format!("{base}/ready")).body(B::default()) {
            if let Ok(response) = client.request(request).await {
                if response.status().is_success() {
                    return;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("server did not become ready");
}

pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

pub fn percentiles(sorted: &[Duration]) -> String {
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
    format!(
        "{} / {} / {} / {}",
        ms(percentile(sorted, 0.5)),
        ms(percentile(sorted, 0.9)),
        ms(percentile(sorted, 0.99)),
        ms(sorted.last().copied().unwrap_or_default())
    )
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Peak resident memory of the server process (Linux `VmHWM`).
pub fn peak_rss_kib(child: &Child) -> u64 {
    status_kib(child, "VmHWM:")
}

/// Resident memory of the server process now (Linux `VmRSS`).
pub fn rss_kib(child: &Child) -> u64 {
    status_kib(child, "VmRSS:")
}

fn status_kib(child: &Child, field: &str) -> u64 {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_default()
}

pub fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

/// The real yoga-store catalogue every load benchmark imports.
pub fn yoga_catalogue() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/catalogs/yoga-stores/2026-01-13")
}

/// The host, as every benchmark table heads it.
pub fn machine() -> String {
    kindred_embedder::host_description()
}

pub fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Twenty colourways, each a product of its own in the large benchmark catalogues.
pub const COLOURWAYS: [&str; 20] = [
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

/// A storefront-shaped product in each of the `COLOURWAYS`: new ids, titles and handles,
/// the real description, options and prices.
pub fn colourways(product: &serde_json::Value) -> Vec<serde_json::Value> {
    COLOURWAYS
        .iter()
        .enumerate()
        .map(|(n, colour)| {
            let mut variant = product.clone();
            variant["id"] = serde_json::json!(product["id"].as_u64().unwrap() * 100 + n as u64);
            variant["title"] =
                serde_json::json!(format!("{} - {colour}", product["title"].as_str().unwrap()));
            variant["handle"] = serde_json::json!(format!(
                "{}-{}",
                product["handle"].as_str().unwrap(),
                colour.to_lowercase()
            ));
            variant
        })
        .collect()
}

/// The 10,160-product catalogue of the large benchmarks: each real yoga-store product in
/// 20 colourways, as one storefront `products.json`; its path and the product ids.
pub fn seed_catalogue(yoga: &Path, dir: &Path) -> (std::path::PathBuf, Vec<u64>) {
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
        let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        for product in doc["products"].as_array().unwrap() {
            for variant in colourways(product) {
                ids.push(variant["id"].as_u64().unwrap());
                products.push(variant);
            }
        }
    }
    let path = dir.join("seed-products.json");
    std::fs::write(
        &path,
        serde_json::to_vec(&serde_json::json!({ "products": products })).unwrap(),
    )
    .unwrap();
    (path, ids)
}
