//! Three `kindred serve` processes on one PostgreSQL database and one Qdrant server, fed a
//! real store's week of webhook traffic through a load balancer's round robin; the replica
//! applying it is SIGKILLed mid-flood. Every acknowledged delivery is applied once by the
//! survivors' count, and the end state is the last capture, in the database and the index.
//! Needs both servers: it says "skipped" without `QDRANT_URL` or a PostgreSQL database.

use std::time::{Duration, Instant};

use rand::SeedableRng;
use sqlx::Row;

use kindred::domain::ShopDomain;
use kindred::storage::SqlStore;
use kindred_retriever::{ServerIndex, VectorIndex};

use crate::common::{databases, model, process_env, qdrant_url, Database};
use crate::fake_shopify::{capture, FakeShopify};
use crate::kindred_process::{send, KindredServer, ServerEnv};
use crate::shopify_replay::{
    assert_catalogue_is_capture, by_id, metric, week_of_traffic, CAPTURES,
};

const SHOP: &str = "yoga-processes.myshopify.com";
const COLLECTION: &str = "kindred_replica_processes";

/// Every replica's settings: one database, one collection, one sealing and signing key
/// (as every replica needs), a name and a data folder of its own, and a short lease.
fn replica_env(first: &ServerEnv, name: &str, data_dir: &std::path::Path) -> ServerEnv {
    let key = "a2luZHJlZC1yZXBsaWNhLXRlc3RzLXNoYXJlZC1rZXk=";
    ServerEnv {
        binary: first.binary.clone(),
        data_dir: data_dir.to_owned(),
        database_url: first.database_url.clone(),
        admin_template: first.admin_template.clone(),
        admin_key: first.admin_key.clone(),
        extra: [
            ("KINDRED_REPLICA_ID", name),
            ("KINDRED_LEASE_SECS", "2"),
            ("KINDRED_QDRANT_COLLECTION", COLLECTION),
            ("KINDRED_TOKEN_KEY", key),
            ("KINDRED_IDENTITY_KEY", key),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replica_processes_apply_a_flood_once_though_one_is_killed() {
    let Some(url) = qdrant_url() else {
        return skipped("QDRANT_URL is not set (replicas need a shared Qdrant server)");
    };
    let Some(db) = databases()
        .into_iter()
        .find(|d| matches!(d, Database::Postgres(_)))
    else {
        return skipped("replicas need PostgreSQL (KINDRED_TEST_DATABASE_URL)");
    };
    let fake = FakeShopify::start().await;
    let captures: Vec<_> = CAPTURES.iter().map(|d| by_id(capture(d))).collect();
    fake.set_products(SHOP, &captures[0].values().cloned().collect::<Vec<_>>());
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let (base_env, client) = process_env(&db, &fake, dirs[0].path()).await;
    let names = ["replica-0", "replica-1", "replica-2"];
    let envs: Vec<ServerEnv> = (0..3)
        .map(|i| replica_env(&base_env, names[i], dirs[i].path()))
        .collect();
    let index = ServerIndex::connect(&url, None, COLLECTION, model().dimension())
        .await
        .unwrap();
    index.drop_shop(SHOP).await.unwrap();

    let first = KindredServer::start(&envs[0], &client).await;
    first.install(&client, SHOP).await;
    first
        .wait_for(&client, &envs[0], SHOP, "the first sync", |s| {
            s["sync"]["state"] == "completed"
        })
        .await;
    let mut servers = vec![
        Some(first),
        Some(KindredServer::start(&envs[1], &client).await),
        Some(KindredServer::start(&envs[2], &client).await),
    ];

    let mut rng = rand::rngs::StdRng::seed_from_u64(20260113);
    let traffic = week_of_traffic(&captures, &mut rng);
    let last = captures.len() - 1;
    fake.set_products(SHOP, &captures[last].values().cloned().collect::<Vec<_>>());
    let store = SqlStore::connect(&base_env.database_url).await.unwrap();
    let half = traffic.len() / 2;
    for (i, delivery) in traffic[..half].iter().enumerate() {
        let base = &servers[i % 3].as_ref().unwrap().base;
        assert!(send(&client, base, SHOP, delivery).await);
    }
    // SIGKILL the replica that holds the shop's claims, mid-batch.
    let deadline = Instant::now() + Duration::from_secs(120);
    let dead = 'found: loop {
        for (i, name) in names.iter().enumerate() {
            if claimed_by(&store, name).await > 0 {
                servers[i].take().unwrap().kill();
                break 'found i;
            }
        }
        assert!(Instant::now() < deadline, "no replica claimed a delivery");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert!(
        claimed_by(&store, names[dead]).await > 0,
        "it died holding nothing"
    );
    let survivors: Vec<&KindredServer> = servers.iter().flatten().collect();
    for (i, delivery) in traffic[half..].iter().enumerate() {
        assert!(send(&client, &survivors[i % 2].base, SHOP, delivery).await);
    }
    let status = survivors[0]
        .wait_for(&client, &envs[0], SHOP, "the inbox to drain", |s| {
            s["webhooks"]["pending"] == 0 && s["products"] == s["indexed"]
        })
        .await;
    assert_eq!(status["webhooks"]["failed"], 0, "{status}");

    // Exactly once among the survivors: each applied exactly the deliveries it marked (none
    // another replica also applied), and what the dead one held went to them.
    for (server, name) in survivors
        .iter()
        .zip(names.iter().filter(|n| **n != names[dead]))
    {
        let exposition = server.metrics(&client).await;
        let applied = metric(&exposition, "kindred_webhooks_applied_total");
        assert_eq!(applied as i64, marked_by(&store, name).await, "{name}");
        assert_eq!(
            metric(&exposition, "kindred_webhook_claims_lost_total"),
            0.0
        );
    }
    assert_eq!(claimed_by(&store, names[dead]).await, 0);
    let shop = ShopDomain::parse(SHOP).unwrap();
    let stored = assert_catalogue_is_capture(&store, &shop, CAPTURES[last], &db).await;
    assert_eq!(stored.len(), 508);
    assert_eq!(index.count(SHOP).await.unwrap(), 508);
    for server in servers.into_iter().flatten() {
        server.stop();
    }
}

/// Straight to stderr: the test harness would swallow eprintln! of a passing test.
fn skipped(why: &str) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "skipped: three_replica_processes_apply_a_flood_once_though_one_is_killed: {why}"
    );
}

/// Deliveries the replica holds claims on and has not marked applied.
async fn claimed_by(store: &SqlStore, replica: &str) -> i64 {
    count(
        store,
        "SELECT COUNT(*) FROM webhook_inbox WHERE state = 'pending' AND claimed_by = $1",
        replica,
    )
    .await
}

/// Deliveries the replica marked applied.
async fn marked_by(store: &SqlStore, replica: &str) -> i64 {
    count(
        store,
        "SELECT COUNT(*) FROM webhook_inbox WHERE state = 'applied' AND claimed_by = $1",
        replica,
    )
    .await
}

async fn count(store: &SqlStore, sql: &str, replica: &str) -> i64 {
    let row = sqlx::query(sql)
        .bind(replica)
        .fetch_one(store.pool())
        .await
        .unwrap();
    row.get::<i64, _>(0)
}
