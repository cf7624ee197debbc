//! One shop's requests never read or change another shop's data.

use axum::http::{Method, StatusCode};

use crate::common::{databases, error_code, TestApp};

const SHOP_A: &str = "shop-a.myshopify.com";
const SHOP_B: &str = "shop-b.myshopify.com";

#[tokio::test]
async fn shops_with_the_same_product_ids_never_see_each_other() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        // The same product ids in both shops, with different texts: the devstore catalogue
        // in A, and in B the same ids re-titled.
        app.import(SHOP_A, "catalogs/admin-format/devstore_products.json")
            .await;
        let mut catalogue = kindred::catalog::read_catalogue(&crate::common::shared_data(
            "catalogs/admin-format/devstore_products.json",
        ))
        .unwrap()
        .products;
        for product in &mut catalogue {
            product.title = format!("Shop B edition of {}", product.title);
        }
        let shop_b = kindred::domain::ShopDomain::parse(SHOP_B).unwrap();
        app.catalog
            .ingest(&shop_b, catalogue.clone(), &kindred::progress::Silent)
            .await
            .unwrap();
        let b_only = kindred::domain::Product {
            id: 999_000_000_001,
            handle: "b-only".into(),
            title: "Only in B".into(),
            ..catalogue[0].clone()
        };
        app.catalog
            .ingest(&shop_b, vec![b_only], &kindred::progress::Silent)
            .await
            .unwrap();

        let key_a = app.storefront_key(SHOP_A).await;
        let key_b = app.storefront_key(SHOP_B).await;
        let some_id = catalogue[0].id;

        let (_, a) = app
            .get(&format!("/api/v1/products/{some_id}"), &key_a)
            .await;
        let (_, b) = app
            .get(&format!("/api/v1/products/{some_id}"), &key_b)
            .await;
        assert!(
            !a["title"].as_str().unwrap().starts_with("Shop B"),
            "{db:?}"
        );
        assert!(b["title"].as_str().unwrap().starts_with("Shop B"));
        let (status, body) = app.get("/api/v1/products/999000000001", &key_a).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::NOT_FOUND, "not_found")
        );

        for rec in app
            .similar(&key_a, some_id, "limit=50&include_unavailable=true")
            .await
        {
            assert!(
                !rec["title"].as_str().unwrap().starts_with("Shop B")
                    && rec["title"] != "Only in B"
            );
        }
        for rec in app
            .similar(&key_b, some_id, "limit=50&include_unavailable=true")
            .await
        {
            assert!(
                rec["title"].as_str().unwrap().starts_with("Shop B") || rec["title"] == "Only in B"
            );
        }

        // Deleting B removes all of B and none of A.
        let path = format!("/api/v1/shops/{SHOP_B}");
        let (status, _) = app
            .request(Method::DELETE, &path, Some(&app.admin_key), None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(app.catalog.index().count(SHOP_B).await.unwrap(), 0);
        assert_eq!(
            app.catalog.index().count(SHOP_A).await.unwrap(),
            catalogue.len() as u64
        );
        let (status, _) = app
            .get(&format!("/api/v1/products/{some_id}"), &key_b)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "B's keys died with B");
        assert_eq!(app.similar(&key_a, some_id, "limit=5").await.len(), 5);
    }
}
