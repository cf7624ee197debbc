//! The shared suite on the embedded engine, plus what only it has: files on disk and `optimize`.

mod suite;

use std::sync::Arc;
use std::time::Instant;

use kindred_retriever::{
    exact_top_k, EdgeIndex, EdgeOptions, SearchFilter, SearchQuery, VectorIndex,
};
use suite::{points, unit_vector, DIM};

fn open(dir: &tempfile::TempDir) -> EdgeIndex {
    EdgeIndex::open(dir.path(), DIM).unwrap()
}

#[tokio::test]
async fn nearest_neighbours_are_exact_and_ordered() {
    let dir = tempfile::tempdir().unwrap();
    suite::nearest_neighbours_are_exact_and_ordered(&open(&dir), "a.myshopify.com").await;
}

#[tokio::test]
async fn every_filter_excludes_what_it_should() {
    let dir = tempfile::tempdir().unwrap();
    suite::every_filter_excludes_what_it_should(&open(&dir), "a.myshopify.com").await;
}

#[tokio::test]
async fn shops_never_see_or_touch_each_other() {
    let dir = tempfile::tempdir().unwrap();
    suite::shops_never_see_or_touch_each_other(&open(&dir), "a.myshopify.com", "b.myshopify.com")
        .await;
}

#[tokio::test]
async fn payload_updates_keep_the_vector() {
    let dir = tempfile::tempdir().unwrap();
    suite::payload_updates_keep_the_vector(&open(&dir), "a.myshopify.com").await;
}

#[tokio::test]
async fn bad_vectors_are_clean_errors() {
    let dir = tempfile::tempdir().unwrap();
    suite::bad_vectors_are_clean_errors(&open(&dir), "a.myshopify.com").await;
}

#[tokio::test]
async fn points_survive_closing_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let index = open(&dir);
        index
            .upsert("a.myshopify.com", points(1..51, 0))
            .await
            .unwrap();
        index.delete("a.myshopify.com", &[7]).await.unwrap();
    }
    let index = open(&dir);
    assert_eq!(index.count("a.myshopify.com").await.unwrap(), 49);
    let stored = index.fetch("a.myshopify.com", 8).await.unwrap().unwrap();
    assert!(suite::close(&stored.vector, &unit_vector(8)));
    assert_eq!(stored.payload, suite::payload(8));
    assert!(index.fetch("a.myshopify.com", 7).await.unwrap().is_none());
    assert!(
        EdgeIndex::open(dir.path(), 128).is_err(),
        "a different dimension is refused, not mixed in"
    );
}

/// Recall of the HNSW index against exact search, measured, with searches running while it builds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ann_index_keeps_recall_and_searches_go_on_while_it_builds() {
    let dir = tempfile::tempdir().unwrap();
    let options = EdgeOptions {
        indexing_threshold_kb: 1_000,
        ..Default::default()
    };
    let index = Arc::new(EdgeIndex::open_with(dir.path(), DIM, options).unwrap());
    let shop = "recall.myshopify.com";
    let pts = points(1..5_001, 0);
    for chunk in pts.chunks(1_000) {
        index.upsert(shop, chunk.to_vec()).await.unwrap();
    }
    assert_eq!(
        index.indexed_vectors(),
        0,
        "nothing indexed before optimize"
    );

    let building = {
        let index = index.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            index.optimize().await.unwrap();
            started.elapsed()
        })
    };
    let mut searches_during_build = 0;
    while !building.is_finished() {
        let hits = index
            .search(
                shop,
                &SearchQuery {
                    vector: unit_vector(42),
                    limit: 10,
                    filter: SearchFilter::default(),
                },
            )
            .await
            .unwrap();
        assert_eq!(hits.len(), 10);
        searches_during_build += 1;
    }
    let took = building.await.unwrap();
    assert!(
        index.indexed_vectors() >= 4_000,
        "HNSW built: {} indexed",
        index.indexed_vectors()
    );

    let all: Vec<(u64, Vec<f32>)> = pts
        .iter()
        .map(|p| (p.product_id, p.vector.clone()))
        .collect();
    let (mut found, mut wanted) = (0, 0);
    for q in 0..100 {
        let probe = unit_vector(1_000_000 + q);
        let exact: Vec<u64> = exact_top_k(&all, &probe, 10)
            .iter()
            .map(|h| h.product_id)
            .collect();
        let hits = index
            .search(
                shop,
                &SearchQuery {
                    vector: probe,
                    limit: 10,
                    filter: SearchFilter::default(),
                },
            )
            .await
            .unwrap();
        found += hits
            .iter()
            .filter(|h| exact.contains(&h.product_id))
            .count();
        wanted += exact.len();
    }
    let recall = found as f64 / wanted as f64;
    println!("recall@10 = {recall:.3} over 100 queries on 5,000 x {DIM}; optimize took {took:?}; {searches_during_build} searches ran meanwhile");
    assert!(recall >= 0.95, "recall@10 {recall:.3}");
    assert!(searches_during_build > 0);
}
