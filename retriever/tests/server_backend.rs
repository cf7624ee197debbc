//! The shared suite on a Qdrant server, when `QDRANT_URL` points at one (and
//! `QDRANT_API_KEY` holds its key, if it wants one).

mod suite;

use std::io::Write;

use kindred_retriever::{RetrieverError, ServerIndex, VectorIndex};
use qdrant_client::Qdrant;

fn server() -> Option<(String, Option<String>)> {
    Some((
        std::env::var("QDRANT_URL").ok()?,
        std::env::var("QDRANT_API_KEY").ok(),
    ))
}

/// A fresh collection per test, so tests neither see nor clean up after each other.
async fn open(test: &str) -> Option<(ServerIndex, String)> {
    let Some((url, api_key)) = server() else {
        // Straight to stderr: the test harness would swallow eprintln! of a passing test.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: QDRANT_URL is not set, so {test} did not test the Qdrant server backend"
        );
        return None;
    };
    let collection = format!("kindred_test_{test}_{}", std::process::id());
    let index = ServerIndex::connect(&url, api_key, &collection, suite::DIM)
        .await
        .unwrap();
    Some((index, collection))
}

async fn drop_collection(collection: &str) {
    if let Some((url, api_key)) = server() {
        let client = Qdrant::from_url(&url).api_key(api_key).build().unwrap();
        client.delete_collection(collection).await.unwrap();
    }
}

macro_rules! server_test {
    ($name:ident, |$index:ident, $collection:ident| $body:expr) => {
        #[tokio::test]
        async fn $name() {
            let Some(($index, $collection)) = open(stringify!($name)).await else {
                return;
            };
            $body;
            drop_collection(&$collection).await;
        }
    };
}

server_test!(nearest_neighbours_are_exact_and_ordered, |index, _c| {
    suite::nearest_neighbours_are_exact_and_ordered(&index, "a.myshopify.com").await
});

server_test!(every_filter_excludes_what_it_should, |index, _c| {
    suite::every_filter_excludes_what_it_should(&index, "a.myshopify.com").await
});

server_test!(shops_never_see_or_touch_each_other, |index, _c| {
    suite::shops_never_see_or_touch_each_other(&index, "a.myshopify.com", "b.myshopify.com").await
});

server_test!(payload_updates_keep_the_vector, |index, _c| {
    suite::payload_updates_keep_the_vector(&index, "a.myshopify.com").await
});

server_test!(bad_vectors_are_clean_errors, |index, _c| {
    suite::bad_vectors_are_clean_errors(&index, "a.myshopify.com").await;
    assert_eq!(index.backend_name(), "qdrant-server");
});

server_test!(
    empty_requests_and_unknown_shops_are_harmless,
    |index, _c| {
        suite::empty_requests_and_unknown_shops_are_harmless(&index, "a.myshopify.com").await
    }
);

server_test!(
    reconnecting_keeps_points_and_checks_the_dimension,
    |index, collection| {
        index
            .upsert("a.myshopify.com", suite::points(1..11, 0))
            .await
            .unwrap();
        index.optimize().await.unwrap();
        let (url, api_key) = server().unwrap();
        let again = ServerIndex::connect(&url, api_key.clone(), &collection, suite::DIM)
            .await
            .unwrap();
        assert_eq!(again.count("a.myshopify.com").await.unwrap(), 10);
        assert!(matches!(
            ServerIndex::connect(&url, api_key, &collection, 128).await,
            Err(RetrieverError::DimensionMismatch {
                expected: 384,
                got: 128
            })
        ));
    }
);

/// A server that is not there (a port nothing listens on): connecting says "unavailable",
/// which the app answers with 503 and Retry-After and waits out at start, not a backend
/// failure. Runs everywhere: it needs no server.
#[tokio::test]
async fn a_server_that_is_down_is_unavailable_not_failed() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port(); // the listener is dropped here: nothing listens on the port any more
    let connected = ServerIndex::connect(
        &format!("http://127.0.0.1:{port}"),
        None,
        "down",
        suite::DIM,
    )
    .await;
    match connected {
        Err(RetrieverError::Unavailable(reason)) => println!("unavailable: {reason}"),
        Err(other) => panic!("expected Unavailable, got {other:?}"),
        Ok(_) => panic!("connected to a port nobody listens on"),
    }
}
