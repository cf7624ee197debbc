//! Interaction models shared across replicas: one replica builds a shop's models and the
//! others load that build instead of training their own; a shop with no build yet is
//! answered at once from content; each build reads only the events received since the
//! previous one and trains what a full scan would; an erasure waits for a build in flight.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{json, Value};

use kindred::clock::{Clock, ManualClock, SystemClock};
use kindred::domain::{CustomerId, ShopDomain};
use kindred::storage::SqlStore;
use kindred::stores::prelude::*;

use crate::common::{databases, TestApp, YOGA_2026_01_13};

const SHOP: &str = "shared-models.myshopify.com";
const MAT: &str = "4357742755898";
const LEGGINGS: &str = "6239910789300";
const BRA: &str = "6239914426548";

fn shop() -> ShopDomain {
    ShopDomain::parse(SHOP).unwrap()
}

/// `clients` browsers each put every one of `products` in their cart.
async fn carts(app: &TestApp, key: &str, clients: std::ops::Range<u32>, products: &[&str]) {
    let events: Vec<Value> = clients
        .flat_map(|n| {
            products.iter().map(move |p| {
                json!({"type": "product_added_to_cart", "client_id": format!("cart-{n}"), "product_id": p})
            })
        })
        .collect();
    let (status, body) = app.send_events(key, Value::Array(events)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// A shelf's items as (id, reason).
async fn shelf(app: &TestApp, key: &str, path: &str) -> Vec<(String, String)> {
    let (status, body) = app.get(path, key).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_owned(),
                r["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn complementary(app: &TestApp, key: &str) -> Vec<(String, String)> {
    let path = format!("/api/v1/recommendations/complementary?product_id={MAT}&limit=6");
    shelf(app, key, &path).await
}

fn bought_with(shelf: &[(String, String)]) -> Vec<&str> {
    shelf
        .iter()
        .filter(|(_, reason)| reason.starts_with("often bought with"))
        .map(|(id, _)| id.as_str())
        .collect()
}

#[tokio::test]
async fn one_replica_builds_a_shops_models_and_the_others_serve_its_build() {
    for db in databases() {
        let a = TestApp::spawn(&db).await;
        a.import(SHOP, YOGA_2026_01_13).await;
        let b = a.replica().await;
        let key = a.storefront_key(SHOP).await;
        carts(&a, &key, 0..20, &[MAT, LEGGINGS]).await;

        // No build yet: the shelf comes at once, from content alone, and one build starts.
        let first = complementary(&a, &key).await;
        assert_eq!(first.len(), 6, "{db:?}");
        assert!(bought_with(&first).is_empty(), "{db:?} {first:?}");
        a.recommender.refresh_interactions(&shop()).await.unwrap();
        assert_eq!(a.recommender.interaction_builds().trainings, 1, "{db:?}");
        assert_eq!(
            bought_with(&complementary(&a, &key).await),
            [LEGGINGS],
            "{db:?}"
        );

        // The other replica loads that build: it trains nothing and answers the same.
        b.recommender.refresh_interactions(&shop()).await.unwrap();
        let builds = b.recommender.interaction_builds();
        assert_eq!((builds.trainings, builds.loads), (0, 1), "{db:?}");
        assert_eq!(
            bought_with(&complementary(&b, &key).await),
            [LEGGINGS],
            "{db:?}"
        );

        // New purchases, which only the replica that applied them hears of, want a newer
        // build than the stored one: B builds it, and A, finding its copy older than the
        // stored one, loads it.
        carts(&b, &key, 20..40, &[MAT, BRA]).await;
        b.recommender.purchases_changed(&shop());
        b.recommender.refresh_interactions(&shop()).await.unwrap();
        assert_eq!(b.recommender.interaction_builds().trainings, 1, "{db:?}");
        a.recommender.refresh_interactions(&shop()).await.unwrap();
        let builds = a.recommender.interaction_builds();
        assert_eq!((builds.trainings, builds.loads), (1, 1), "{db:?}");
        let shelf = complementary(&a, &key).await;
        let mut partners = bought_with(&shelf);
        partners.sort_unstable();
        assert_eq!(partners, [LEGGINGS, BRA], "{db:?}");
    }
}

/// `client` views `products`, now.
async fn views(app: &TestApp, key: &str, client: &str, products: &[&str]) {
    let events: Vec<Value> = products
        .iter()
        .map(|p| json!({"type": "product_viewed", "client_id": client, "product_id": p}))
        .collect();
    let (status, body) = app.send_events(key, Value::Array(events)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn for_you(app: &TestApp, key: &str, client: &str) -> Vec<(String, String)> {
    let path = format!("/api/v1/recommendations/for-you?client_id={client}&limit=8");
    shelf(app, key, &path).await
}

#[tokio::test]
async fn each_build_reads_only_what_arrived_since_and_trains_what_a_full_scan_would() {
    for db in databases() {
        let clock = ManualClock::at(SystemClock.now_millis());
        let app = TestApp::spawn_with_clock(&db, clock.clone() as Arc<dyn Clock>).await;
        app.import(SHOP, YOGA_2026_01_13).await;
        let key = app.storefront_key(SHOP).await;
        let builds = || app.recommender.interaction_builds();
        carts(&app, &key, 0..10, &[MAT, LEGGINGS]).await;
        views(&app, &key, "browser", &[MAT, LEGGINGS]).await;
        app.recommender.refresh_interactions(&shop()).await.unwrap();
        assert_eq!(
            builds().events_read,
            22,
            "{db:?}: the first build scans everything"
        );

        // The browser's session goes on across builds; more carts arrive.
        let mut previous = 22;
        for round in 0..3u32 {
            clock.advance(61_000);
            views(&app, &key, "browser", &[BRA, MAT]).await;
            carts(&app, &key, 10 + round..11 + round, &[MAT, BRA]).await;
            let before = builds().events_read;
            app.recommender.refresh_interactions(&shop()).await.unwrap();
            // This round's four events, and the previous round's once more: those were
            // received within the settling minute, and are skipped as already absorbed.
            assert_eq!(
                builds().events_read - before,
                4 + previous,
                "{db:?} round {round}"
            );
            previous = 4;
        }
        assert_eq!(builds().trainings, 4, "{db:?}");
        let incremental = (
            complementary(&app, &key).await,
            for_you(&app, &key, "browser").await,
        );

        // A replica without the stored build scans everything once, and answers the same.
        app.store.delete_models(&shop()).await.unwrap();
        let other = app.replica().await;
        other
            .recommender
            .refresh_interactions(&shop())
            .await
            .unwrap();
        assert_eq!(
            other.recommender.interaction_builds().events_read,
            34,
            "{db:?}"
        );
        let full = (
            complementary(&other, &key).await,
            for_you(&other, &key, "browser").await,
        );
        assert_eq!(incremental, full, "{db:?}");
        assert!(!bought_with(&full.0).is_empty(), "{db:?} {full:?}");
    }
}

#[tokio::test]
async fn an_erasure_waits_for_a_build_in_flight_and_drops_the_stored_build() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        app.import(SHOP, YOGA_2026_01_13).await;
        let key = app.storefront_key(SHOP).await;
        carts(&app, &key, 0..5, &[MAT, LEGGINGS]).await;
        app.recommender.refresh_interactions(&shop()).await.unwrap();
        assert!(app.store.models_built_at(&shop()).await.unwrap().is_some());

        // Another replica is building the shop's models (it holds the lease for 2 s).
        let builder = SqlStore::connect(&app.database_url)
            .await
            .unwrap()
            .with_replica("builder");
        assert!(builder
            .try_hold(&format!("models {SHOP}"), 2_000)
            .await
            .unwrap());
        let started = Instant::now();
        app.recommender
            .redact_customer(&shop(), CustomerId(41), &[])
            .await
            .unwrap();
        assert!(started.elapsed() >= Duration::from_millis(1_500), "{db:?}");
        // The stored build was learnt from the erased data: it is gone, and the next build
        // scans what is left.
        assert_eq!(
            app.store.models_built_at(&shop()).await.unwrap(),
            None,
            "{db:?}"
        );
        let before = app.recommender.interaction_builds().events_read;
        app.recommender.refresh_interactions(&shop()).await.unwrap();
        assert_eq!(
            app.recommender.interaction_builds().events_read - before,
            10,
            "{db:?}"
        );
    }
}
