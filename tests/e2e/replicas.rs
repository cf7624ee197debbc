//! Several replicas on one database: leases and inbox claims held by one replica at a time
//! and passed on when it dies, and three replicas applying a real store's week of webhook
//! traffic (duplicates, reordering, one replica dying mid-flood) to exactly its last capture.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use rand::SeedableRng;
use sqlx::Row;

use kindred::clock::{Clock, ManualClock, SystemClock};
use kindred::domain::ShopDomain;
use kindred::leases::{leave, replicas_alive};
use kindred::shopify::webhooks::Topic;
use kindred::storage::SqlStore;
use kindred::stores::prelude::*;
use kindred::stores::{DueDelivery, InboxDelivery, LeaseStore};

use crate::common::{databases, Database, TestApp};
use crate::fake_shopify::{webhook_headers, FakeShopify};
use crate::kindred_process::Delivery;
use crate::shopify_app::{install, wait_for_sync};
use crate::shopify_replay::{assert_catalogue_is_capture, by_id, week_of_traffic, CAPTURES};

const SHOP: &str = "yoga-replicas.myshopify.com";

/// Two replicas' views of one database, on one clock.
async fn two_replicas(db: &Database) -> (TestApp, SqlStore, SqlStore, Arc<ManualClock>) {
    let app = TestApp::spawn(db).await;
    let clock = ManualClock::at(SystemClock.now_millis());
    let open = |name: &'static str| {
        let (url, clock) = (app.database_url.clone(), clock.clone() as Arc<dyn Clock>);
        async move {
            SqlStore::connect(&url)
                .await
                .unwrap()
                .with_replica(name)
                .with_clock(clock)
        }
    };
    let (a, b) = (open("replica-a").await, open("replica-b").await);
    (app, a, b, clock)
}

fn ids(claimed: &[DueDelivery]) -> Vec<&str> {
    claimed.iter().map(DueDelivery::webhook_id).collect()
}

async fn enqueue(store: &SqlStore, shop: &str, webhook_id: &str) {
    let delivery = InboxDelivery {
        webhook_id: webhook_id.into(),
        event_key: None,
        shop: ShopDomain::parse(shop).unwrap(),
        topic: Topic::ProductsUpdate,
        api_version: None,
        triggered_at: None,
        body: "{}".into(),
    };
    assert!(store.enqueue_delivery(&delivery).await.unwrap());
}

#[tokio::test]
async fn a_lease_is_one_replicas_until_it_lets_go_or_lapses() {
    for db in databases() {
        let (_app, a, b, clock) = two_replicas(&db).await;
        assert!(a.try_hold("sync shop", 1_000).await.unwrap());
        assert!(!b.try_hold("sync shop", 1_000).await.unwrap(), "{db:?}");
        assert!(b.try_hold("another job", 1_000).await.unwrap());
        // Renewed by its holder, it runs on from the renewal.
        clock.advance(900);
        assert!(a.try_hold("sync shop", 1_000).await.unwrap());
        clock.advance(900);
        assert!(!b.try_hold("sync shop", 1_000).await.unwrap(), "{db:?}");
        // Its holder died: once it lapses, the other takes it, and the first cannot renew.
        clock.advance(101);
        assert!(b.try_hold("sync shop", 1_000).await.unwrap(), "{db:?}");
        assert!(!a.try_hold("sync shop", 1_000).await.unwrap(), "{db:?}");
        // Let go, it is free at once; letting go of another's lease does nothing.
        assert!(b.try_hold("another job", 1_000).await.unwrap());
        a.release("another job").await.unwrap();
        assert!(!a.try_hold("another job", 1_000).await.unwrap());
        b.release("sync shop").await.unwrap();
        assert!(a.try_hold("sync shop", 1_000).await.unwrap(), "{db:?}");
    }
}

#[tokio::test]
async fn replicas_count_each_other_while_they_are_alive() {
    for db in databases() {
        let (_app, a, b, clock) = two_replicas(&db).await;
        assert!(a.try_hold("sync shop", 1_000).await.unwrap());
        let (a, b): (Arc<dyn LeaseStore>, Arc<dyn LeaseStore>) = (Arc::new(a), Arc::new(b));
        let ttl = Duration::from_secs(1);
        assert_eq!(replicas_alive(&a, ttl).await.unwrap(), 1, "{db:?}");
        assert_eq!(replicas_alive(&b, ttl).await.unwrap(), 2, "{db:?}");
        assert_eq!(replicas_alive(&a, ttl).await.unwrap(), 2, "{db:?}");
        // B stops: A counts itself alone at once.
        leave(&b).await.unwrap();
        assert_eq!(replicas_alive(&a, ttl).await.unwrap(), 1, "{db:?}");
        // B comes back, then dies without a word: once its presence lapses, A counts itself
        // alone again (and so enforces the whole of each rate budget).
        assert_eq!(replicas_alive(&b, ttl).await.unwrap(), 2, "{db:?}");
        clock.advance(1_001);
        assert_eq!(replicas_alive(&a, ttl).await.unwrap(), 1, "{db:?}");
    }
}

#[tokio::test]
async fn a_shops_deliveries_are_claimed_by_one_replica_and_a_dead_ones_pass_on() {
    for db in databases() {
        let (_app, a, b, clock) = two_replicas(&db).await;
        for id in ["d1", "d2", "d3"] {
            enqueue(&a, "one.myshopify.com", id).await;
        }
        enqueue(&a, "two.myshopify.com", "e1").await;

        // A claims the oldest two; while it holds the shop, B gets only the other shop's.
        assert_eq!(
            ids(&a.claim_due_deliveries(2, 1_000).await.unwrap()),
            ["d1", "d2"]
        );
        assert_eq!(
            ids(&b.claim_due_deliveries(10, 1_000).await.unwrap()),
            ["e1"],
            "{db:?}"
        );
        assert!(b.claim_due_deliveries(10, 1_000).await.unwrap().is_empty());
        // A, which holds the shop, may take the shop's newer deliveries.
        assert_eq!(
            ids(&a.claim_due_deliveries(10, 1_000).await.unwrap()),
            ["d3"],
            "{db:?}"
        );
        assert_eq!(a.mark_applied(&["d1".into()]).await.unwrap(), 1);
        // Nobody marks what another replica holds.
        assert_eq!(b.mark_applied(&["d2".into()]).await.unwrap(), 0, "{db:?}");
        assert_eq!(b.mark_applied(&["e1".into()]).await.unwrap(), 1);

        // Renewed claims hold past the first lease.
        clock.advance(800);
        assert_eq!(a.extend_claims(1_000).await.unwrap(), 2);
        clock.advance(800);
        assert!(
            b.claim_due_deliveries(10, 1_000).await.unwrap().is_empty(),
            "{db:?}"
        );

        // A dies holding d2: when its claim lapses, B takes the shop on, in arrival order,
        // and A's late mark is refused.
        clock.advance(201);
        assert_eq!(
            ids(&b.claim_due_deliveries(10, 1_000).await.unwrap()),
            ["d2", "d3"],
            "{db:?}"
        );
        assert_eq!(a.mark_applied(&["d2".into()]).await.unwrap(), 0, "{db:?}");
        assert_eq!(
            b.mark_applied(&["d2".into(), "d3".into()]).await.unwrap(),
            2
        );

        // A failed attempt lets the claim go: the retry is anyone's when it is due.
        enqueue(&a, "one.myshopify.com", "d4").await;
        assert_eq!(
            ids(&b.claim_due_deliveries(10, 1_000).await.unwrap()),
            ["d4"]
        );
        b.mark_attempt_failed("d4", "model away", Some(50))
            .await
            .unwrap();
        clock.advance(50);
        assert_eq!(
            ids(&a.claim_due_deliveries(10, 1_000).await.unwrap()),
            ["d4"],
            "{db:?}"
        );
        assert_eq!(a.mark_applied(&["d4".into()]).await.unwrap(), 1);
        let counts = a.inbox_counts(None).await.unwrap();
        assert_eq!(
            (counts.pending, counts.applied, counts.failed),
            (0, 5, 0),
            "{db:?}"
        );
    }
}

/// Sends one signed delivery to a replica, as Shopify's load-balanced traffic reaches one.
async fn deliver(replica: &TestApp, delivery: &Delivery) {
    let headers = webhook_headers(
        delivery.topic,
        SHOP,
        &delivery.webhook_id,
        &delivery.event_id,
        &delivery.body,
    );
    let (status, _, answer) = replica
        .request_with_headers(
            Method::POST,
            "/webhooks",
            None,
            &headers,
            Some(delivery.body.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{}: {answer}", delivery.webhook_id);
}

/// Deliveries a replica holds a claim on and has not marked applied.
async fn held_by(store: &SqlStore, replica: &str) -> Vec<String> {
    sqlx::query("SELECT webhook_id FROM webhook_inbox WHERE state = 'pending' AND claimed_by = $1")
        .bind(replica)
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<String, _>(0))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_apply_a_week_of_traffic_once_though_one_dies_mid_flood() {
    for db in databases() {
        let fake = FakeShopify::start().await;
        let captures: Vec<_> = CAPTURES
            .iter()
            .map(|d| by_id(crate::fake_shopify::capture(d)))
            .collect();
        fake.set_products(SHOP, &captures[0].values().cloned().collect::<Vec<_>>());
        let first = TestApp::spawn_with_shopify(&db, &fake.admin_template()).await;
        install(&first, SHOP).await;
        wait_for_sync(&first, SHOP).await;
        let replicas = [first.replica().await, first.replica().await, first];
        let names: Vec<String> = replicas
            .iter()
            .map(|r| r.store.replica().to_owned())
            .collect();
        let workers: Vec<_> = replicas
            .iter()
            .map(|r| tokio::spawn(r.shopify.clone().run_inbox_worker()))
            .collect();

        let mut rng = rand::rngs::StdRng::seed_from_u64(20260113);
        let traffic = week_of_traffic(&captures, &mut rng);
        let last = captures.len() - 1;
        fake.set_products(SHOP, &captures[last].values().cloned().collect::<Vec<_>>());
        let half = traffic.len() / 2;
        for (i, delivery) in traffic[..half].iter().enumerate() {
            deliver(&replicas[i % 3], delivery).await;
        }
        // The replica applying the shop's deliveries dies: its task stops where it stands
        // (mid-batch, perhaps between applying and marking), its claims are never renewed.
        let deadline = Instant::now() + Duration::from_secs(120);
        let (dead, orphaned) = 'found: loop {
            for (i, name) in names.iter().enumerate() {
                if !held_by(&replicas[0].store, name).await.is_empty() {
                    workers[i].abort();
                    break 'found (i, held_by(&replicas[0].store, name).await);
                }
            }
            assert!(Instant::now() < deadline, "no replica claimed a delivery");
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        assert!(
            !orphaned.is_empty(),
            "{db:?}: the replica died holding nothing"
        );
        let survivors: Vec<&TestApp> = (0..3)
            .filter(|&i| i != dead)
            .map(|i| &replicas[i])
            .collect();
        for (i, delivery) in traffic[half..].iter().enumerate() {
            deliver(survivors[i % 2], delivery).await;
        }

        let store = &replicas[2].store;
        let shop = ShopDomain::parse(SHOP).unwrap();
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let counts = store.inbox_counts(Some(&shop)).await.unwrap();
            let (total, indexed) = store.catalogue_counts(&shop).await.unwrap();
            if counts.pending == 0 && total == indexed {
                assert_eq!(counts.failed, 0, "{db:?}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{db:?}: the inbox did not drain: {counts:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Stopped and gone before the folders they write in are removed.
        for worker in workers {
            worker.abort();
            let _ = worker.await;
        }

        // What the dead replica held was applied by the others (a shop's deliveries go to
        // one replica at a time, so which survivor took them over is the race's to decide).
        let appliers: Vec<(String, String)> = sqlx::query(
            "SELECT webhook_id, claimed_by FROM webhook_inbox WHERE shop_domain = $1 AND state = 'applied' \
             AND topic LIKE 'products/%'",
        )
        .bind(SHOP)
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
        for id in &orphaned {
            let applier = appliers.iter().find(|(w, _)| w == id).map(|(_, by)| by);
            assert!(
                applier.is_some_and(|by| *by != names[dead]),
                "{db:?}: {id} held by the dead replica was applied by {applier:?}"
            );
        }
        let stored = assert_catalogue_is_capture(store, &shop, CAPTURES[last], &db).await;
        assert_eq!(stored.len(), 508);
        assert_eq!(
            replicas[2].catalog.index().count(SHOP).await.unwrap(),
            508,
            "{db:?}"
        );
    }
}
