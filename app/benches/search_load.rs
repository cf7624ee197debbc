//! Load benchmark of search, run by `cargo bench -p kindred --bench search_load`.
//!
//! The 10,160-product catalogue of the large benchmarks (the real yoga-store products in 20
//! colourways), imported with the release `kindred` binary; `kindred serve` as a separate
//! process on loopback; 40 shoppers with live sessions. Queries are the real products'
//! titles as shoppers would shorten them (brand and variant left out), half of the
//! requests from a shopper with a session. Driven open-loop at a fixed rate (latency from
//! each request's scheduled start):
//!
//! - repeated queries: the shop's searches are the distinct queries over and over, each
//!   embedded once (a shop's searches repeat; 10,000 query vectors are cached);
//! - new queries: every request a text the model has not seen (a word and a number
//!   added), so each costs an embedding;
//! - suggestions: each query typed out keystroke by keystroke (the words alone, no model).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

mod support;
use support::load::open_loop;
use support::{
    env_or, machine, peak_rss_kib, percentile, percentiles, run, serve, stop, wait_ready,
};

const SHOP: &str = "bench-search.myshopify.com";
const SHOPPERS: usize = 40;

fn main() {
    let rate: u64 = env_or("KINDRED_BENCH_RATE", 200);
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
    let (seed_path, ids) = support::seed_catalogue(&yoga, work.path());
    run(
        kindred,
        &data_dir,
        &["import", "--shop", SHOP, seed_path.to_str().unwrap()],
    );
    let key = String::from_utf8(run(
        kindred,
        &data_dir,
        &["shop", "create-key", "--shop", SHOP],
    ))
    .unwrap()
    .trim()
    .to_owned();
    let queries = Arc::new(shopper_queries(&yoga));

    let (mut server, base) = serve(kindred, &data_dir, &[]);
    let runs = runtime.block_on(async {
        let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        let client = Arc::new(client);
        wait_ready(&client, &base).await;
        start_sessions(&base, &key, &ids).await;
        let search = |q: String, i: usize| {
            let mut uri = format!("{base}/api/v1/search?limit=10&q={}", encode(&q));
            if i % 2 == 0 {
                uri.push_str(&format!("&client_id=shopper-{}", (i / 2) % SHOPPERS));
            }
            uri
        };
        let repeated = |i: usize| search(queries[(i * 7919) % queries.len()].clone(), i);
        let novel = |i: usize| {
            let base_query = &queries[(i * 7919) % queries.len()];
            search(format!("{base_query} gift {i}"), i)
        };
        let keystrokes: Vec<String> = queries
            .iter()
            .flat_map(|q| {
                (3..=q.len())
                    .filter(|&n| q.is_char_boundary(n))
                    .map(|n| q[..n].to_owned())
            })
            .collect();
        let typed = |i: usize| {
            let prefix = &keystrokes[(i * 7919) % keystrokes.len()];
            format!(
                "{base}/api/v1/search/suggest?q={}&client_id=shopper-{}",
                encode(prefix),
                i % SHOPPERS
            )
        };
        // Every distinct query once (their vectors cached, the index built), then measured.
        for i in 0..queries.len() {
            open_loop(&client, &key, &|_| search(queries[i].clone(), 1), 1, 1).await;
        }
        vec![
            (
                "repeated queries",
                open_loop(&client, &key, &repeated, rate, seconds).await,
            ),
            (
                "new queries (one embedding each)",
                open_loop(&client, &key, &novel, rate, seconds).await,
            ),
            (
                "suggestions, per keystroke",
                open_loop(&client, &key, &typed, rate, seconds).await,
            ),
        ]
    });
    let peak_rss_mib = peak_rss_kib(&server) as f64 / 1024.0;
    stop(&mut server);

    println!(
        "\n## Search under load ({} products, {} distinct queries, {})",
        ids.len(),
        queries.len(),
        machine()
    );
    println!("| at {rate} req/s for {seconds} s | achieved | errors | p50 / p90 / p99 / max |\n|---|---|---|---|");
    for (name, (latencies, achieved, errors)) in &runs {
        println!(
            "| {name} | {achieved:.0} req/s | {errors} | {} |",
            percentiles(latencies)
        );
    }
    println!("| server peak RSS | {peak_rss_mib:.0} MiB | | |");
    let (_, (repeated, _, errors)) = &runs[0];
    let p99 = percentile(repeated, 0.99);
    println!(
        "\ntarget: p99 < 20 ms at {rate} req/s on repeated queries -> {}",
        if p99 < Duration::from_millis(20) && errors.total() == 0 {
            "met"
        } else {
            "NOT met"
        }
    );
}

/// The real products' titles as shoppers shorten them: no brand, no variant part, at most
/// four words; each once.
fn shopper_queries(yoga: &std::path::Path) -> Vec<String> {
    let mut queries = BTreeSet::new();
    for entry in std::fs::read_dir(yoga).unwrap().filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('_') {
            continue;
        }
        let doc: Value = serde_json::from_slice(&std::fs::read(entry.path()).unwrap()).unwrap();
        for product in doc["products"].as_array().unwrap() {
            let vendor = product["vendor"]
                .as_str()
                .unwrap_or_default()
                .to_lowercase();
            let title = product["title"].as_str().unwrap_or_default().to_lowercase();
            let line = title
                .split([',', '|', '-', '\u{2013}'])
                .next()
                .unwrap_or_default();
            let words: Vec<&str> = line
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.len() > 1 && !vendor.contains(w))
                .take(4)
                .collect();
            if words.len() >= 2 {
                queries.insert(words.join(" "));
            }
        }
    }
    queries.into_iter().collect()
}

/// Live sessions for the shoppers: each viewed six products.
async fn start_sessions(base: &str, key: &str, ids: &[u64]) {
    let client = reqwest::Client::new();
    let events: Vec<Value> = (0..SHOPPERS * 6)
        .map(|n| {
            json!({
                "type": "product_viewed",
                "client_id": format!("shopper-{}", n % SHOPPERS),
                "product_id": ids[(n * 104_729) % ids.len()].to_string(),
            })
        })
        .collect();
    for chunk in events.chunks(100) {
        let status = client
            .post(format!("{base}/api/v1/events"))
            .bearer_auth(key)
            .json(&json!({ "events": chunk }))
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success(), "events: {status}");
    }
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
