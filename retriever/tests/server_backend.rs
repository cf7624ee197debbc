//! The shared suite on a Qdrant server, when `QDRANT_URL` points at one.

mod suite;

use std::io::Write;

use kindred_retriever::{ServerIndex, VectorIndex};

/// A fresh collection per test, so tests neither see nor clean up after each other.
async fn open(test: &str) -> Option<ServerIndex> {
    let Ok(url) = std::env::var("QDRANT_URL") else {
        // Straight to stderr: the test harness would swallow eprintln! of a passing test.
        let _ = writeln!(
            std::io::stderr(),
            "skipped {test}: QDRANT_URL is not set, so the Qdrant server backend was not tested"
        );
        return None;
    };
    let collection = format!("kindred_test_{test}_{}", std::process::id());
    let api_key = std::env::var("QDRANT_API_KEY").ok();
    Some(
        ServerIndex::connect(&url, api_key, &collection, suite::DIM)
            .await
            .unwrap(),
    )
}

#[tokio::test]
async fn nearest_neighbours_are_exact_and_ordered() {
    if let Some(index) = open("nn").await {
        suite::nearest_neighbours_are_exact_and_ordered(&index, "a.myshopify.com").await;
    }
}

#[tokio::test]
async fn every_filter_excludes_what_it_should() {
    if let Some(index) = open("filters").await {
        suite::every_filter_excludes_what_it_should(&index, "a.myshopify.com").await;
    }
}

#[tokio::test]
async fn shops_never_see_or_touch_each_other() {
    if let Some(index) = open("tenancy").await {
        suite::shops_never_see_or_touch_each_other(&index, "a.myshopify.com", "b.myshopify.com")
            .await;
    }
}

#[tokio::test]
async fn payload_updates_keep_the_vector() {
    if let Some(index) = open("payload").await {
        suite::payload_updates_keep_the_vector(&index, "a.myshopify.com").await;
    }
}

#[tokio::test]
async fn bad_vectors_are_clean_errors() {
    if let Some(index) = open("bad").await {
        suite::bad_vectors_are_clean_errors(&index, "a.myshopify.com").await;
        assert_eq!(index.backend_name(), "qdrant-server");
    }
}
