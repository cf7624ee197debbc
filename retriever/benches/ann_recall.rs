//! Recall@10 of the embedded Qdrant engine's HNSW index against the exact answer, on a
//! synthetic catalogue, with its build time and search latency next to exact search, for
//! several search widths (`ef`) over the one graph.
//!
//!   cargo bench -p kindred-retriever --bench ann_recall
//!
//! Settings: KINDRED_BENCH_ANN_SIZE (catalogue size, default 100000), KINDRED_BENCH_ANN_QUERIES
//! (1000), KINDRED_BENCH_ANN_DATA (`clustered`, `uniform` or `both`, default both). The exact
//! answer comes from the blocked exact search (`blocked::ResidentVectors`, itself checked
//! against brute force in the tests), so the ground truth does not depend on the index.
//!
//! - `uniform`: random unit vectors, the hard case for HNSW (all distances look alike).
//! - `clustered`: 2,000 random centres, each product a centre plus noise as large as the
//!   centre (cosine about 0.7 to its centre), queries drawn the same way: closer to how
//!   product embeddings gather by kind.

use std::time::{Duration, Instant};

use candle_core::{DType, Device};
use kindred_retriever::exact_batched::{synthetic_vectors, ResidentVectors};
use kindred_retriever::{
    EdgeIndex, EdgeOptions, ProductPayload, ProductPoint, SearchFilter, SearchQuery, VectorIndex,
};

const DIMENSION: usize = 384;
const K: usize = 10;
const SHOP: &str = "recall.myshopify.com";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn normalised(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v
        .iter()
        .map(|x| x * x)
        .sum::<f32>()
        .sqrt()
        .max(f32::EPSILON);
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

/// `n` products (and `queries` held-out probes) of one kind of synthetic data.
fn data(kind: &str, n: usize, queries: usize) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    match kind {
        "uniform" => (
            synthetic_vectors(n, DIMENSION, 7)
                .into_iter()
                .map(normalised)
                .collect(),
            synthetic_vectors(queries, DIMENSION, 8)
                .into_iter()
                .map(normalised)
                .collect(),
        ),
        _ => {
            let centres: Vec<Vec<f32>> = synthetic_vectors(2_000, DIMENSION, 9)
                .into_iter()
                .map(normalised)
                .collect();
            let around = |count: usize, seed: u64| -> Vec<Vec<f32>> {
                synthetic_vectors(count, DIMENSION, seed)
                    .into_iter()
                    .enumerate()
                    .map(|(i, noise)| {
                        let centre = &centres[(i * 7919) % centres.len()];
                        let noise = normalised(noise);
                        normalised(centre.iter().zip(&noise).map(|(c, e)| c + e).collect())
                    })
                    .collect()
            };
            (around(n, 10), around(queries, 11))
        }
    }
}

fn payload() -> ProductPayload {
    ProductPayload {
        available: true,
        price: Some(10.0),
        product_type: None,
        vendor: None,
        tags: Vec::new(),
        collections: Vec::new(),
        status: "active".into(),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at].as_secs_f64() * 1e3
}

/// Recall@10 against `exact`, and the latencies, of searching every probe.
async fn measure(
    index: &EdgeIndex,
    probes: &[Vec<f32>],
    exact: &[Vec<u64>],
) -> (f64, Vec<Duration>) {
    let (mut found, mut latencies) = (0usize, Vec::with_capacity(probes.len()));
    for (probe, truth) in probes.iter().zip(exact) {
        let query = SearchQuery {
            vector: probe.clone(),
            limit: K,
            filter: SearchFilter::default(),
        };
        let started = Instant::now();
        let hits = index.search(SHOP, &query).await.expect("search");
        latencies.push(started.elapsed());
        found += hits
            .iter()
            .filter(|h| truth.contains(&h.product_id))
            .count();
    }
    latencies.sort();
    (found as f64 / (probes.len() * K) as f64, latencies)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let n: usize = env_or("KINDRED_BENCH_ANN_SIZE", 100_000);
    let queries: usize = env_or("KINDRED_BENCH_ANN_QUERIES", 1_000);
    let kinds = match std::env::var("KINDRED_BENCH_ANN_DATA").as_deref() {
        Ok("uniform") => vec!["uniform"],
        Ok("clustered") => vec!["clustered"],
        _ => vec!["clustered", "uniform"],
    };
    // The graph is measured at every size; "exact" is the scan small shops get instead.
    let options = EdgeOptions {
        exact_below_kb: 0,
        ..EdgeOptions::default()
    };
    println!(
        "| data | N x d | HNSW build s | ef | recall@{K} | HNSW p50 / p99 ms | exact p50 / p99 ms |"
    );
    println!("|---|---|---|---|---|---|---|");
    for kind in kinds {
        let (vectors, probes) = data(kind, n, queries);
        let ids: Vec<u64> = (1..=n as u64).collect();
        let truth: Vec<Vec<u64>> =
            ResidentVectors::new(&Device::Cpu, DType::F32, ids.clone(), &vectors)
                .and_then(|exact| exact.top_k(&probes, K))
                .expect("exact search")
                .into_iter()
                .map(|hits| hits.into_iter().map(|(id, _)| id).collect())
                .collect();

        let dir = tempfile::tempdir().expect("temporary directory");
        let mut index =
            EdgeIndex::open_with(dir.path(), DIMENSION, options.clone()).expect("index");
        for chunk in ids.chunks(1_000) {
            let points = chunk
                .iter()
                .map(|id| ProductPoint {
                    product_id: *id,
                    vector: vectors[*id as usize - 1].clone(),
                    payload: payload(),
                })
                .collect();
            index.upsert(SHOP, points).await.expect("upsert");
        }
        drop(vectors);
        // Before optimize() the engine searches exactly: the baseline latency.
        let (exact_recall, exact_latency) = measure(&index, &probes, &truth).await;
        assert!(
            exact_recall > 0.999,
            "exact search agrees with the ground truth"
        );
        let started = Instant::now();
        index.optimize().await.expect("HNSW build");
        let build = started.elapsed().as_secs_f64();
        // The graph once built, searched with fewer or more candidates: recall against speed.
        for ef in [32, 64, 128, options.hnsw_ef] {
            index.set_search_ef(ef);
            let (recall, latency) = measure(&index, &probes, &truth).await;
            println!(
                "| {kind} | {n} x {DIMENSION} | {build:.1} | {ef} | {recall:.4} | {:.2} / {:.2} | {:.2} / {:.2} |",
                percentile(&latency, 0.5),
                percentile(&latency, 0.99),
                percentile(&exact_latency, 0.5),
                percentile(&exact_latency, 0.99),
            );
        }
        eprintln!(
            "{kind}: {} of {n} vectors in the HNSW graph (m {}, ef_construct {}, ef {})",
            index.indexed_vectors(),
            options.hnsw_m,
            options.hnsw_ef_construct,
            options.hnsw_ef
        );
    }
}
