//! The vector index goes away while webhooks arrive: deliveries are still acknowledged and
//! wait in the inbox without using up their attempts, readiness says not ready, and once the
//! index is back the waiting deliveries are applied, to the database and the index.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use axum::http::{Method, StatusCode};
use serde_json::Value;
use sqlx::Row;

use kindred::clock::{Clock, ManualClock, SystemClock};
use kindred::domain::ShopDomain;
use kindred::stores::prelude::*;
use kindred_retriever::{
    EdgeIndex, ProductPayload, ProductPoint, RetrieverError, ScoredProduct, SearchQuery,
    StoredProduct, VectorIndex,
};

use crate::common::{databases, model, TestApp};
use crate::fake_shopify::{capture, webhook_body, FakeShopify};
use crate::shopify_app::{deliver, install, wait_for_sync};

const SHOP: &str = "outage-yoga.myshopify.com";

/// A real index that can be made unreachable, as a Qdrant server that is down answers.
struct Switchable {
    inner: EdgeIndex,
    down: AtomicBool,
}

impl Switchable {
    fn check(&self) -> Result<(), RetrieverError> {
        match self.down.load(Ordering::SeqCst) {
            true => Err(RetrieverError::Unavailable("connection refused".into())),
            false => Ok(()),
        }
    }
}

#[async_trait]
impl VectorIndex for Switchable {
    async fn upsert(&self, shop: &str, points: Vec<ProductPoint>) -> Result<(), RetrieverError> {
        self.check()?;
        self.inner.upsert(shop, points).await
    }
    async fn set_payload(
        &self,
        shop: &str,
        id: u64,
        payload: ProductPayload,
    ) -> Result<(), RetrieverError> {
        self.check()?;
        self.inner.set_payload(shop, id, payload).await
    }
    async fn delete(&self, shop: &str, ids: &[u64]) -> Result<(), RetrieverError> {
        self.check()?;
        self.inner.delete(shop, ids).await
    }
    async fn search(
        &self,
        shop: &str,
        query: &SearchQuery,
    ) -> Result<Vec<ScoredProduct>, RetrieverError> {
        self.check()?;
        self.inner.search(shop, query).await
    }
    async fn fetch(&self, shop: &str, id: u64) -> Result<Option<StoredProduct>, RetrieverError> {
        self.check()?;
        self.inner.fetch(shop, id).await
    }
    async fn fetch_many(
        &self,
        shop: &str,
        ids: &[u64],
    ) -> Result<Vec<StoredProduct>, RetrieverError> {
        self.check()?;
        self.inner.fetch_many(shop, ids).await
    }
    async fn count(&self, shop: &str) -> Result<u64, RetrieverError> {
        self.check()?;
        self.inner.count(shop).await
    }
    async fn drop_shop(&self, shop: &str) -> Result<(), RetrieverError> {
        self.check()?;
        self.inner.drop_shop(shop).await
    }
    async fn optimize(&self) -> Result<(), RetrieverError> {
        self.check()?;
        self.inner.optimize().await
    }
    async fn ready(&self) -> Result<(), RetrieverError> {
        self.check()
    }
    fn backend_name(&self) -> &'static str {
        "switchable"
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_wait_in_the_inbox_while_the_index_is_away_and_apply_when_it_is_back() {
    for db in databases() {
        let folder = tempfile::tempdir().unwrap();
        let index = Arc::new(Switchable {
            inner: EdgeIndex::open(folder.path(), model().dimension()).unwrap(),
            down: AtomicBool::new(false),
        });
        let fake = FakeShopify::start().await;
        let products = capture("2026-01-13");
        fake.set_products(SHOP, &products);
        let clock = ManualClock::at(SystemClock.now_millis());
        let app = TestApp::spawn_with_index(
            &db,
            &fake.admin_template(),
            clock.clone() as Arc<dyn Clock>,
            index.clone(),
        )
        .await;
        install(&app, SHOP).await;
        wait_for_sync(&app, SHOP).await;

        // Down: price changes and a new title are still acknowledged, and wait.
        index.down.store(true, Ordering::SeqCst);
        let mut changed: Vec<Value> = products.iter().take(4).map(webhook_body).collect();
        for (i, body) in changed.iter_mut().enumerate() {
            body["variants"][0]["price"] = Value::from(format!("{}.50", 40 + i));
            body["updated_at"] = Value::from("2026-01-14T10:00:00-05:00");
        }
        changed[0]["title"] = Value::from("Cork Yoga Block, Recycled");
        for body in &changed {
            let (status, answer) = deliver(&app, "/webhooks", "products/update", SHOP, body).await;
            assert_eq!(
                (status, answer["status"].as_str()),
                (StatusCode::OK, Some("accepted")),
                "{answer}"
            );
        }
        let (status, ready, _) = app
            .request_with_headers(Method::GET, "/ready", None, &[], None)
            .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{db:?}: {ready:?}");
        for _ in 0..3 {
            app.shopify.process_inbox().await.unwrap();
            clock.advance(5_000);
        }
        let waiting =
            sqlx::query("SELECT attempts, last_error FROM webhook_inbox WHERE state = 'pending'")
                .fetch_all(app.store.pool())
                .await
                .unwrap();
        assert_eq!(waiting.len(), 4, "{db:?}");
        for row in &waiting {
            assert_eq!(
                row.get::<i64, _>(0),
                0,
                "{db:?}: an outage used up an attempt"
            );
            assert!(
                row.get::<String, _>(1).contains("unreachable")
                    || row.get::<String, _>(1).contains("refused")
            );
        }

        // Back: applied on the next due round, to the database and the index.
        index.down.store(false, Ordering::SeqCst);
        clock.advance(5_000);
        app.shopify.process_inbox().await.unwrap();
        let counts = app.store.inbox_counts(None).await.unwrap();
        assert_eq!(
            (counts.pending, counts.failed),
            (0, 0),
            "{db:?}: {counts:?}"
        );
        let shop = ShopDomain::parse(SHOP).unwrap();
        let ids: Vec<u64> = changed.iter().map(|b| b["id"].as_u64().unwrap()).collect();
        let stored = app.store.get_products(&shop, &ids).await.unwrap();
        for (i, id) in ids.iter().enumerate() {
            let product = stored.iter().find(|p| p.id == *id).unwrap();
            assert_eq!(
                product.price_cents,
                Some((40 + i as i64) * 100 + 50),
                "{db:?}"
            );
            let point = index.fetch(SHOP, *id).await.unwrap().unwrap();
            assert_eq!(point.payload.price, Some((40 + i) as f64 + 0.5), "{db:?}");
        }
        assert!(stored
            .iter()
            .any(|p| p.title == "Cork Yoga Block, Recycled"));
        let (total, indexed) = app.store.catalogue_counts(&shop).await.unwrap();
        assert_eq!(total, indexed, "{db:?}");
        drop(app);
    }
}
