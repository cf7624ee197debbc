//! Importing keeps the catalogue and its vectors in step: nothing re-embedded without a
//! reason, nothing lost on bad input or a crash, everything still there after a restart.

use axum::http::{Method, StatusCode};
use kindred::domain::ShopDomain;
use kindred::progress::Silent;
use kindred::stores::prelude::*;
use kindred::stores::ProductRow;

use crate::common::{databases, TestApp, YOGA_2026_01_13};

const SHOP: &str = "sync-test.myshopify.com";

#[tokio::test]
async fn reimporting_the_same_catalogue_changes_nothing_and_embeds_nothing() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        let first = app.import(SHOP, YOGA_2026_01_13).await;
        assert_eq!(
            (first.created, first.embedded, first.unchanged),
            (508, 508, 0),
            "{db:?}"
        );
        let again = app.import(SHOP, YOGA_2026_01_13).await;
        assert_eq!(
            (
                again.created,
                again.updated,
                again.unchanged,
                again.embedded,
                again.payload_updates
            ),
            (0, 0, 508, 0, 0)
        );
        assert_eq!(app.catalog.index().count(SHOP).await.unwrap(), 508);
    }
}

#[tokio::test]
async fn a_later_capture_updates_prices_without_embedding_and_reembeds_changed_text() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        app.import(SHOP, "catalogs/yoga-stores/2026-01-06").await;
        let report = app.import(SHOP, YOGA_2026_01_13).await;
        // Between the captures: new products, price/stock changes and a few text edits.
        assert!(report.created > 20, "{report:?}");
        assert!(
            report.payload_updates > 20,
            "price and stock changes only touch payloads: {report:?}"
        );
        assert!(
            report.embedded >= report.created && report.embedded < report.created + report.updated,
            "{report:?}"
        );
        assert_eq!(
            report.embedded + report.payload_updates,
            report.created + report.updated
        );

        // The index now answers with the newest availability.
        let shop = ShopDomain::parse(SHOP).unwrap();
        let (total, indexed) = app.store.catalogue_counts(&shop).await.unwrap();
        assert_eq!(total, indexed);
        let latest = kindred::catalog::read_catalogue(&crate::common::shared_data(YOGA_2026_01_13))
            .unwrap()
            .products;
        for product in latest.iter().take(100) {
            let stored = app
                .catalog
                .index()
                .fetch(SHOP, product.id)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                stored.payload.available, product.available,
                "{}",
                product.title
            );
        }
    }
}

#[tokio::test]
async fn bad_records_are_reported_and_nothing_already_stored_is_lost() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        app.import(SHOP, "catalogs/admin-format/devstore_products.json")
            .await;
        let before = app.catalog.index().count(SHOP).await.unwrap();
        let body = serde_json::json!({"products": [
            {"id": 8546664251674u64, "title": "ADIDAS | CLASSIC BACKPACK", "status": "no-such-status"},
            {"id": "not-a-number", "title": "x"},
            {"title": "no id"},
            {"id": 7001, "title": "Cork yoga block", "product_type": "Blocks", "variants": [{"price": "18.00", "available": true}]}
        ]});
        let path = format!("/api/v1/shops/{SHOP}/products");
        let (status, reply) = app
            .request(
                Method::POST,
                &path,
                Some(&app.admin_key),
                Some(body.to_string().into_bytes()),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{reply}");
        assert_eq!(reply["created"], 1);
        let skipped = reply["skipped"].as_array().unwrap();
        assert_eq!(skipped.len(), 3);
        assert_eq!(
            skipped[0]["location"],
            "body#products[0] (id 8546664251674)"
        );
        assert!(skipped[0]["reason"].as_str().unwrap().contains("status"));
        assert_eq!(
            app.catalog.index().count(SHOP).await.unwrap(),
            before + 1,
            "{db:?}"
        );
        let shop = ShopDomain::parse(SHOP).unwrap();
        let kept = app
            .store
            .get_product(&shop, 8546664251674)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            kept.status,
            kindred::domain::ProductStatus::Active,
            "the bad record did not overwrite the stored one"
        );
    }
}

#[tokio::test]
async fn work_cut_off_by_a_crash_is_finished_after_restart_and_data_survives() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        app.import(SHOP, "catalogs/admin-format/unitedbyblue_products.json")
            .await;
        let shop = ShopDomain::parse(SHOP).unwrap();
        let count = app.catalog.index().count(SHOP).await.unwrap();
        assert!(count > 10);

        // A crash after the rows were written but before their vectors were: the rows say so.
        let extra = kindred::catalog::read_catalogue(&crate::common::shared_data(
            "catalogs/csv/jewelery.csv",
        ))
        .unwrap()
        .products;
        let rows: Vec<ProductRow> = extra
            .iter()
            .map(|p| ProductRow {
                product: p.clone(),
                document: serde_json::to_string(p).unwrap(),
                content_hash: "pending".into(),
            })
            .collect();
        app.store.upsert_products(&shop, &rows).await.unwrap();

        let app = app.restart().await;
        assert_eq!(
            app.catalog.index().count(SHOP).await.unwrap(),
            count,
            "vectors persisted on disk"
        );
        let (embedded, _) = app.catalog.sync_index(&shop, &Silent).await.unwrap();
        assert_eq!(embedded, extra.len(), "{db:?}");
        assert_eq!(
            app.catalog.index().count(SHOP).await.unwrap(),
            count + extra.len() as u64
        );
        let (total, indexed) = app.store.catalogue_counts(&shop).await.unwrap();
        assert_eq!(total, indexed);
        // A re-import of the same file now finds nothing to do.
        let again = app.import(SHOP, "catalogs/csv/jewelery.csv").await;
        assert_eq!(
            (again.embedded, again.payload_updates, again.unchanged),
            (0, 0, extra.len())
        );
    }
}

#[tokio::test]
async fn deleting_a_product_removes_its_row_and_vector() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        app.import(SHOP, "catalogs/admin-format/devstore_products.json")
            .await;
        let path = format!("/api/v1/shops/{SHOP}/products/8546664251674");
        let (status, _) = app
            .request(Method::DELETE, &path, Some(&app.admin_key), None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{db:?}");
        assert!(app
            .catalog
            .index()
            .fetch(SHOP, 8546664251674)
            .await
            .unwrap()
            .is_none());
        let (status, body) = app
            .request(Method::DELETE, &path, Some(&app.admin_key), None)
            .await;
        assert_eq!(
            (status, crate::common::error_code(&body)),
            (StatusCode::NOT_FOUND, "not_found")
        );
    }
}
