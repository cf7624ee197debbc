//! The whole app, as its own process, following a real store through a week of Shopify
//! traffic: installed by OAuth on the 2026-01-06 capture (and killed in the middle of the
//! first sync), then fed the differences up to the 2026-01-13 capture as signed webhooks
//! with duplicates, reordering, stale versions after newer ones, late updates of deleted
//! products, and a SIGKILL in the middle. At the end the database equals the 2026-01-13
//! capture exactly and the vector store agrees with the database.

use std::collections::{BTreeMap, HashSet};

use rand::seq::IndexedRandom;
use rand::SeedableRng;
use serde_json::{json, Value};

use kindred::catalog::read_catalogue;
use kindred::catalog::service::text_of;
use kindred::domain::ShopDomain;
use kindred::storage::SqlStore;
use kindred::stores::prelude::*;
use kindred_retriever::{EdgeIndex, ServerIndex, VectorIndex};

use crate::common::{
    collection_of, databases, model, process_env, qdrant_url, shared_data, Database,
};
use crate::fake_shopify::{capture, webhook_body, FakeShopify, SECRET};
use crate::kindred_process::{disorder, log_tail, send, Delivery, KindredServer};

const SHOP: &str = "yoga-week.myshopify.com";
pub(crate) const CAPTURES: [&str; 5] = [
    "2026-01-06",
    "2026-01-07",
    "2026-01-09",
    "2026-01-11",
    "2026-01-13",
];

/// The signed traffic that turns one capture into the next: creates, updates, deletes.
pub(crate) fn traffic_between(
    date: &str,
    old: &BTreeMap<u64, Value>,
    new: &BTreeMap<u64, Value>,
) -> Vec<Delivery> {
    let mut deliveries = Vec::new();
    let mut push = |topic: &'static str, id: u64, body: Value| {
        deliveries.push(Delivery {
            topic,
            webhook_id: format!("{date}-{topic}-{id}"),
            event_id: format!("event-{date}-{topic}-{id}"),
            body: serde_json::to_vec(&body).unwrap(),
        })
    };
    for (id, product) in new {
        match old.get(id) {
            None => push("products/create", *id, webhook_body(product)),
            Some(before) if before != product => {
                push("products/update", *id, webhook_body(product))
            }
            Some(_) => {}
        }
    }
    for id in old.keys().filter(|id| !new.contains_key(id)) {
        push("products/delete", *id, json!({ "id": id }));
    }
    deliveries
}

pub(crate) fn by_id(products: Vec<Value>) -> BTreeMap<u64, Value> {
    products
        .into_iter()
        .map(|p| (p["id"].as_u64().unwrap(), p))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_week_of_shopify_traffic_with_a_crash_ends_equal_to_the_last_capture() {
    for db in databases() {
        replay(&db).await;
    }
}

async fn replay(db: &Database) {
    let fake = FakeShopify::start().await;
    let captures: Vec<BTreeMap<u64, Value>> = CAPTURES.iter().map(|d| by_id(capture(d))).collect();
    fake.set_products(SHOP, &captures[0].values().cloned().collect::<Vec<_>>());
    let data_dir = tempfile::tempdir().unwrap();
    let (env, client) = process_env(db, &fake, data_dir.path()).await;

    // Install by OAuth; the bulk operation is held RUNNING and the app killed meanwhile.
    fake.set_hold_bulk(true);
    let server = KindredServer::start(&env, &client).await;
    server.install(&client, SHOP).await;
    server
        .wait_for(&client, &env, SHOP, "the bulk operation to run", |s| {
            s["sync"]["state"] == "running" && s["sync"]["operation_id"].is_string()
        })
        .await;
    server.kill();

    // Restarted, the app resumes the same operation (no second one) and finishes the sync.
    let server = KindredServer::start(&env, &client).await;
    fake.set_hold_bulk(false);
    let status = server
        .wait_for(&client, &env, SHOP, "the first sync", |s| {
            s["sync"]["state"] == "completed"
        })
        .await;
    assert_eq!(
        fake.bulk_runs(),
        1,
        "the sync was resumed, not started again:\n{}",
        log_tail(data_dir.path())
    );
    assert_eq!(status["products"], 460, "{status}");

    let mut rng = rand::rngs::StdRng::seed_from_u64(20260113);
    let traffic = week_of_traffic(&captures, &mut rng);
    let last = captures.len() - 1;
    fake.set_products(SHOP, &captures[last].values().cloned().collect::<Vec<_>>());

    // Half the traffic, then SIGKILL while the worker is applying it; deliveries sent while
    // the app is down are retried after the restart, as Shopify does.
    let half = traffic.len() / 2;
    let mut retry = Vec::new();
    for delivery in &traffic[..half] {
        assert!(send(&client, &server.base, SHOP, delivery).await);
    }
    server.kill();
    for delivery in &traffic[half..half + 20] {
        if !send(&client, "http://127.0.0.1:9", SHOP, delivery).await {
            retry.push(delivery.clone());
        }
    }
    assert_eq!(retry.len(), 20);
    let server = KindredServer::start(&env, &client).await;
    for delivery in retry.iter().chain(&traffic[half + 20..]) {
        assert!(send(&client, &server.base, SHOP, delivery).await);
    }
    let status = server
        .wait_for(&client, &env, SHOP, "the inbox to drain", |s| {
            s["webhooks"]["pending"] == 0 && s["products"] == s["indexed"]
        })
        .await;
    assert_eq!(
        status["webhooks"]["failed"],
        0,
        "{status}\n{}",
        log_tail(data_dir.path())
    );
    let metrics = server.metrics(&client).await;
    server.stop();

    // Neither the app secret nor any token Shopify issued reached the logs.
    let log = std::fs::read_to_string(data_dir.path().join("server.log")).unwrap();
    assert!(
        log.contains("catalogue sync completed"),
        "the log is the server's"
    );
    for secret in fake
        .issued_access_tokens(SHOP)
        .iter()
        .map(String::as_str)
        .chain([SECRET])
    {
        assert!(!log.contains(secret), "a secret is in the server log");
    }

    // The database equals the last capture, read the way the import reads it.
    let store = SqlStore::connect(&env.database_url).await.unwrap();
    let shop = ShopDomain::parse(SHOP).unwrap();
    let stored = assert_catalogue_is_capture(&store, &shop, CAPTURES[last], db).await;
    let (total, indexed) = store.catalogue_counts(&shop).await.unwrap();
    assert_eq!((total, indexed), (508, 508));

    // The vector store agrees: one point per product, payloads as in the database, and
    // vectors that are the model's embedding of the stored text.
    let model = model();
    let index: Box<dyn VectorIndex> = match qdrant_url() {
        Some(url) => Box::new(
            ServerIndex::connect(
                &url,
                None,
                &collection_of(data_dir.path()),
                model.dimension(),
            )
            .await
            .unwrap(),
        ),
        None => {
            Box::new(EdgeIndex::open(&data_dir.path().join("vectors"), model.dimension()).unwrap())
        }
    };
    assert_eq!(index.count(SHOP).await.unwrap(), 508);
    let stored_ids: HashSet<u64> = stored.iter().map(|p| p.id).collect();
    for product in &stored {
        let point = index
            .fetch(SHOP, product.id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no vector for {}", product.id));
        assert_eq!(
            point.payload.available, product.available,
            "{}",
            product.title
        );
        assert_eq!(
            point.payload.price,
            product.price_cents.map(|c| c as f64 / 100.0),
            "{}",
            product.title
        );
        assert_eq!(
            point.payload.collections, product.collections,
            "{}",
            product.title
        );
        // Product webhooks carry no collections: what the install's sync read is kept.
        let synced: &[u64] = if captures[0].contains_key(&product.id) {
            &[1001]
        } else {
            &[]
        };
        assert_eq!(product.collections, synced, "{}", product.title);
    }
    let sample: Vec<_> = stored.choose_multiple(&mut rng, 12).collect();
    let texts: Vec<String> = sample.iter().map(|p| text_of(p)).collect();
    let fresh = model.embed(&texts).unwrap();
    for (product, vector) in sample.iter().zip(fresh) {
        let point = index.fetch(SHOP, product.id).await.unwrap().unwrap();
        let cosine: f32 = point.vector.iter().zip(&vector).map(|(a, b)| a * b).sum();
        assert!(cosine > 0.999, "{}: cosine {cosine}", product.title);
    }
    assert!(stored_ids.len() == 508);
    // Price and stock changes were payload updates: the restarted app embedded only new
    // products, text edits, and what the kill left unindexed, not its ~1,000 updates.
    let embedded = metric(&metrics, "kindred_products_embedded_total");
    assert!(
        embedded < 400.0,
        "the restarted app embedded {embedded} products"
    );
}

/// A week of traffic from the first capture to the last, in Shopify's delivery order:
/// roughly in order, never reliably (stale versions after newer ones, retries, the same
/// event under a second webhook id), and late updates of deleted products.
pub(crate) fn week_of_traffic(
    captures: &[BTreeMap<u64, Value>],
    rng: &mut rand::rngs::StdRng,
) -> Vec<Delivery> {
    let mut deliveries: Vec<Delivery> = Vec::new();
    for (pair, date) in captures.windows(2).zip(&CAPTURES[1..]) {
        deliveries.extend(traffic_between(date, &pair[0], &pair[1]));
    }
    let in_order = deliveries.len();
    // Bounded reordering: each delivery may overtake those up to ~600 places ahead, which
    // crosses capture boundaries (stale versions arrive after newer ones); and retries.
    let mut traffic = disorder(deliveries, rng, 600, 150);
    // Late updates of deleted products: their last version, after the delete.
    let last = captures.len() - 1;
    for (i, capture) in captures.iter().enumerate().take(last) {
        for (id, product) in capture
            .iter()
            .filter(|(id, _)| !captures[i + 1].contains_key(id))
        {
            traffic.push(Delivery {
                topic: "products/update",
                webhook_id: format!("late-update-{id}"),
                event_id: format!("late-event-{id}"),
                body: serde_json::to_vec(&webhook_body(product)).unwrap(),
            });
        }
    }
    assert!(traffic.len() > in_order + 150);
    let stale_pairs = count_stale_arrivals(&traffic);
    assert!(
        stale_pairs > 100,
        "the reordering produced only {stale_pairs} stale arrivals"
    );
    traffic
}

/// Asserts the shop's stored catalogue equals the capture of `date` (read the way the
/// import reads it), fact by fact; returns the stored products, by id.
pub(crate) async fn assert_catalogue_is_capture(
    store: &SqlStore,
    shop: &ShopDomain,
    date: &str,
    db: &Database,
) -> Vec<kindred::domain::Product> {
    let expected = read_catalogue(&shared_data(&format!("catalogs/yoga-stores/{date}")))
        .unwrap()
        .products;
    let ids = store.products_written_before(shop, i64::MAX).await.unwrap();
    let mut stored = store.get_products(shop, &ids).await.unwrap();
    stored.sort_by_key(|p| p.id);
    let facts = |p: &kindred::domain::Product| {
        (
            p.id,
            p.available,
            p.price_cents,
            p.compare_at_price_cents,
            p.title.clone(),
            p.updated_at.clone(),
        )
    };
    let mut want: Vec<_> = expected.iter().map(facts).collect();
    want.sort();
    let got: Vec<_> = stored.iter().map(facts).collect();
    let missing: Vec<_> = want.iter().filter(|w| !got.contains(w)).take(3).collect();
    let extra: Vec<_> = got.iter().filter(|g| !want.contains(g)).take(3).collect();
    assert_eq!(
        got.len(),
        want.len(),
        "{db:?}: missing {missing:?}, extra {extra:?}"
    );
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{db:?}: missing {missing:?}, extra {extra:?}"
    );
    stored
}

/// Deliveries of a product that arrive after a newer version of it.
fn count_stale_arrivals(traffic: &[Delivery]) -> usize {
    let mut newest: BTreeMap<u64, String> = BTreeMap::new();
    let mut stale = 0;
    for delivery in traffic {
        let body: Value = serde_json::from_slice(&delivery.body).unwrap();
        let (Some(id), Some(updated)) = (body["id"].as_u64(), body["updated_at"].as_str()) else {
            continue;
        };
        let updated = chrono::DateTime::parse_from_rfc3339(updated)
            .unwrap()
            .with_timezone(&chrono::Utc)
            .to_rfc3339();
        match newest.get(&id) {
            Some(seen) if *seen > updated => stale += 1,
            _ => {
                newest.insert(id, updated);
            }
        }
    }
    stale
}

pub(crate) fn metric(exposition: &str, name: &str) -> f64 {
    exposition
        .lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
