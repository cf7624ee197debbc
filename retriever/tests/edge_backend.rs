//! The shared suite on the embedded engine, plus what only it has: files on disk and `optimize`.

mod suite;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kindred_retriever::{
    exact_top_k, EdgeIndex, EdgeOptions, ProductPoint, RetrieverError, SearchFilter, SearchQuery,
    VectorIndex,
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
async fn empty_requests_and_unknown_shops_are_harmless() {
    let dir = tempfile::tempdir().unwrap();
    suite::empty_requests_and_unknown_shops_are_harmless(&open(&dir), "a.myshopify.com").await;
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
    drop(index);
    assert!(
        matches!(
            EdgeIndex::open(dir.path(), 128),
            Err(RetrieverError::DimensionMismatch {
                expected: 384,
                got: 128
            })
        ),
        "a different dimension is refused, not mixed in"
    );
}

/// A folder removed under an open index (an operator's mistake, or a test's temporary
/// folder going before the process's last task) makes flushes fail; it once aborted the
/// whole process, from the shard's own `Drop` panicking while a failed flush unwound.
#[tokio::test]
async fn a_folder_removed_under_the_index_is_an_error_not_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    let index = open(&dir);
    let shop = "a.myshopify.com";
    index.upsert(shop, points(1..51, 0)).await.unwrap();
    index.flush().await.unwrap();
    std::fs::remove_dir_all(dir.path()).unwrap();
    index.upsert(shop, points(51..61, 0)).await.unwrap();
    assert!(
        matches!(index.flush().await, Err(RetrieverError::Backend(_))),
        "the flush reports that it could not write"
    );
    assert_eq!(
        index.count(shop).await.unwrap(),
        60,
        "what is in memory still serves"
    );
    // The last handle: the shard's closing flush fails too, and must not take the process.
    drop(index);
}

const CRASH_DIR: &str = "KINDRED_TEST_CRASH_DIR";
const CRASH_AFTER_FLUSH: &str = "KINDRED_TEST_CRASH_AFTER_FLUSH";

/// Not a test by itself: the child process of `writes_survive_a_crash`, which writes and
/// then aborts, so that nothing is dropped or flushed on the way out.
#[tokio::test]
async fn crash_helper() {
    let Ok(dir) = std::env::var(CRASH_DIR) else {
        return;
    };
    let options = EdgeOptions {
        flush_interval: Duration::from_millis(100),
        ..Default::default()
    };
    let index = EdgeIndex::open_with(Path::new(&dir), DIM, options).unwrap();
    let shop = "a.myshopify.com";
    index.upsert(shop, points(1..1_001, 0)).await.unwrap();
    index.delete(shop, &[5]).await.unwrap();
    index.set_payload(shop, 6, suite::payload(9)).await.unwrap();
    if std::env::var(CRASH_AFTER_FLUSH).is_ok() {
        index.flush().await.unwrap();
    } else {
        // The flush thread's turn.
        std::thread::sleep(Duration::from_millis(600));
    }
    std::process::abort();
}

#[tokio::test]
async fn writes_survive_a_crash() {
    for explicit_flush in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(std::env::current_exe().unwrap());
        child
            .args(["--exact", "crash_helper", "--nocapture", "--test-threads=1"])
            .env(CRASH_DIR, dir.path());
        if explicit_flush {
            child.env(CRASH_AFTER_FLUSH, "1");
        }
        let status = child.status().unwrap();
        assert!(!status.success(), "the helper process aborts");

        let index = open(&dir);
        let shop = "a.myshopify.com";
        assert_eq!(
            index.count(shop).await.unwrap(),
            999,
            "explicit flush: {explicit_flush}"
        );
        assert!(index.fetch(shop, 5).await.unwrap().is_none());
        let changed = index.fetch(shop, 6).await.unwrap().unwrap();
        assert_eq!(changed.payload, suite::payload(9));
        assert!(suite::close(&changed.vector, &unit_vector(6)));
    }
}

fn search(vector: Vec<f32>, filter: SearchFilter) -> SearchQuery {
    SearchQuery {
        vector,
        limit: 10,
        filter,
    }
}

/// Recall@10 over 100 queries against exact search among the points `holds` accepts.
async fn recall(
    index: &EdgeIndex,
    shop: &str,
    pts: &[ProductPoint],
    filter: SearchFilter,
    holds: &dyn Fn(u64) -> bool,
) -> f64 {
    let allowed: Vec<(u64, Vec<f32>)> = pts
        .iter()
        .filter(|p| holds(p.product_id))
        .map(|p| (p.product_id, p.vector.clone()))
        .collect();
    let (mut found, mut wanted) = (0, 0);
    for q in 0..100 {
        let probe = unit_vector(1_000_000 + q);
        let exact: Vec<u64> = exact_top_k(&allowed, &probe, 10)
            .iter()
            .map(|h| h.product_id)
            .collect();
        let hits = index
            .search(shop, &search(probe, filter.clone()))
            .await
            .unwrap();
        assert!(hits.iter().all(|h| holds(h.product_id)), "filter holds");
        found += hits
            .iter()
            .filter(|h| exact.contains(&h.product_id))
            .count();
        wanted += exact.len();
    }
    found as f64 / wanted as f64
}

/// Recall of the HNSW index against exact search, measured, with searches and writes
/// going on while it builds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ann_index_keeps_recall_and_searches_go_on_while_it_builds() {
    let dir = tempfile::tempdir().unwrap();
    // The graph, not the exact scan a shop of this size gets by default, is under test.
    let options = EdgeOptions {
        indexing_threshold_kb: 1_000,
        exact_below_kb: 0,
        ..Default::default()
    };
    let index = Arc::new(EdgeIndex::open_with(dir.path(), DIM, options).unwrap());
    let shop = "recall.myshopify.com";
    let mut pts = points(1..5_001, 0);
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
    let (mut searches, mut next_id) = (0, 5_001);
    while !building.is_finished() {
        let hits = index
            .search(shop, &search(unit_vector(42), SearchFilter::default()))
            .await
            .unwrap();
        assert_eq!(hits.len(), 10);
        searches += 1;
        // A few writes only: optimize() returns when no optimiser has work left, and a
        // steady stream of writes would keep giving it more.
        if searches % 5 == 0 && next_id < 5_031 {
            let added = points(next_id..next_id + 10, 0);
            index.upsert(shop, added.clone()).await.unwrap();
            pts.extend(added);
            next_id += 10;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let took = building.await.unwrap();
    assert!(searches > 0, "searches ran while the index was built");
    assert_eq!(index.count(shop).await.unwrap(), pts.len() as u64);
    assert!(
        index.indexed_vectors() >= 4_000,
        "HNSW built: {} indexed",
        index.indexed_vectors()
    );
    // A point written during the build is there, with its own vector nearest.
    let last = next_id - 1;
    let hits = index
        .search(shop, &search(unit_vector(last), SearchFilter::default()))
        .await
        .unwrap();
    assert_eq!(hits[0].product_id, last);

    let everything = recall(&index, shop, &pts, SearchFilter::default(), &|_| true).await;
    // Two thirds of the points pass: the graph is walked with the filter applied.
    let in_stock = SearchFilter {
        available_only: true,
        status: Some("active".into()),
        ..Default::default()
    };
    let broad = recall(&index, shop, &pts, in_stock, &|i| {
        let p = suite::payload(i);
        p.available && p.status == "active"
    })
    .await;
    // One in six passes: a selective filter, where a graph walk loses the most.
    let one_vendor = SearchFilter {
        available_only: true,
        vendor: Some("vendor-1".into()),
        ..Default::default()
    };
    let narrow = recall(&index, shop, &pts, one_vendor, &|i| {
        suite::payload(i).available && i % 4 == 1
    })
    .await;
    println!(
        "recall@10 over 100 queries on {} x {DIM}: {everything:.3} unfiltered, {broad:.3} \
         in stock, {narrow:.3} one vendor; optimize took {took:?} while {searches} searches \
         ran",
        pts.len()
    );
    assert!(everything >= 0.95, "recall@10 {everything:.3}");
    assert!(broad >= 0.95, "filtered recall@10 {broad:.3}");
    assert!(narrow >= 0.95, "narrowly filtered recall@10 {narrow:.3}");
}
