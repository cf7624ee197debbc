//! "Similar products" on the real yoga-store catalogue: relevant, never the product itself,
//! filters honoured.

use kindred::stores::prelude::*;
use std::collections::HashMap;

use serde_json::Value;

use crate::common::{Database, TestApp, YOGA_2026_01_13};

const SHOP: &str = "demo-yoga.myshopify.com";

/// A coarse kind from the title, independent of each store's own product types.
pub(crate) fn kind(title: &str) -> &'static str {
    let t = title.to_lowercase();
    let words: Vec<&str> = t.split(|c: char| !c.is_alphanumeric()).collect();
    let has = |w: &str| words.contains(&w);
    if has("mat") || has("mats") {
        "mat"
    } else if [
        "legging", "leggings", "bra", "tank", "tee", "shorts", "top", "pant", "pants", "jogger",
        "hoodie", "sock", "socks",
    ]
    .iter()
    .any(|w| has(w))
    {
        "apparel"
    } else {
        "other"
    }
}

fn ids(recs: &[Value]) -> Vec<u64> {
    recs.iter()
        .map(|r| r["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

#[tokio::test]
async fn similar_products_of_the_yoga_catalogue_share_kind_and_material_far_above_chance() {
    let app = TestApp::spawn(&Database::Sqlite).await;
    app.import(SHOP, YOGA_2026_01_13).await;
    let key = app.storefront_key(SHOP).await;
    let catalogue = kindred::catalog::read_catalogue(&crate::common::shared_data(YOGA_2026_01_13))
        .unwrap()
        .products;
    let title_of: HashMap<u64, String> =
        catalogue.iter().map(|p| (p.id, p.title.clone())).collect();

    // Non-mats are the discriminating case: 88% of this catalogue is mats, so a random
    // neighbour of a legging is a mat almost every time.
    let mut per_kind: HashMap<&str, (usize, usize)> = HashMap::new();
    let mut cork = (0usize, 0usize);
    for product in &catalogue {
        let recs = app
            .similar(&key, product.id, "limit=5&include_unavailable=true")
            .await;
        let neighbours = ids(&recs);
        assert!(
            !neighbours.contains(&product.id),
            "{} is in its own list",
            product.title
        );
        assert!(
            neighbours.len() == 5,
            "five neighbours for {}",
            product.title
        );
        let own_kind = kind(&product.title);
        let entry = per_kind.entry(own_kind).or_default();
        entry.0 += neighbours
            .iter()
            .filter(|id| kind(&title_of[id]) == own_kind)
            .count();
        entry.1 += neighbours.len();
        if own_kind == "mat" && product.title.to_lowercase().contains("cork") {
            cork.0 += neighbours
                .iter()
                .filter(|id| title_of[id].to_lowercase().contains("cork"))
                .count();
            cork.1 += neighbours.len();
        }
        for rec in &recs {
            assert!(rec["reason"].as_str().unwrap().starts_with("similar to "));
            assert!(rec["score"].as_f64().unwrap() <= 1.0001);
        }
    }
    let total = catalogue.len() as f64;
    let base_rate =
        |k: &str| catalogue.iter().filter(|p| kind(&p.title) == k).count() as f64 / total;
    for (k, (same, all)) in &per_kind {
        let rate = *same as f64 / *all as f64;
        println!(
            "{k}: {:.2} of neighbours share the kind (chance {:.2})",
            rate,
            base_rate(k)
        );
    }
    let rate = |k: &str| per_kind[k].0 as f64 / per_kind[k].1 as f64;
    assert!(
        rate("mat") >= 0.95,
        "mats' neighbours are mats: {:.2}",
        rate("mat")
    );
    assert!(
        rate("apparel") >= 0.6 && rate("apparel") > 5.0 * base_rate("apparel"),
        "apparel: {:.2}",
        rate("apparel")
    );
    // Blocks, straps, bottles, bundles: a mixed group, still far above chance.
    assert!(
        rate("other") > 4.0 * base_rate("other"),
        "other: {:.2}",
        rate("other")
    );
    let cork_rate = cork.0 as f64 / cork.1 as f64;
    let cork_base = catalogue
        .iter()
        .filter(|p| p.title.to_lowercase().contains("cork"))
        .count() as f64
        / total;
    println!("cork mats: {cork_rate:.2} of neighbours are cork (chance {cork_base:.2})");
    assert!(
        cork_rate > 3.0 * cork_base,
        "cork mats find cork: {cork_rate:.2} vs {cork_base:.2}"
    );
}

#[tokio::test]
async fn unavailable_products_are_left_out_unless_asked_for_and_filters_hold() {
    let app = TestApp::spawn(&Database::Sqlite).await;
    app.import(SHOP, YOGA_2026_01_13).await;
    let key = app.storefront_key(SHOP).await;
    let catalogue = kindred::catalog::read_catalogue(&crate::common::shared_data(YOGA_2026_01_13))
        .unwrap()
        .products;
    let by_id: HashMap<u64, &kindred::domain::Product> =
        catalogue.iter().map(|p| (p.id, p)).collect();
    let unavailable = catalogue.iter().filter(|p| !p.available).count();
    assert!(
        unavailable > 30,
        "the capture has sold-out products to test with"
    );
    let anchor = catalogue
        .iter()
        .find(|p| p.title.contains("Manduka PRO"))
        .unwrap();

    let default = ids(&app.similar(&key, anchor.id, "limit=50").await);
    assert_eq!(default.len(), 50);
    assert!(
        default.iter().all(|id| by_id[id].available),
        "sold-out products are excluded by default"
    );
    let all = ids(&app
        .similar(&key, anchor.id, "limit=50&include_unavailable=true")
        .await);
    assert!(
        all.iter().any(|id| !by_id[id].available),
        "and come back when asked for"
    );

    let cheap = ids(&app
        .similar(&key, anchor.id, "limit=20&price_min=20&price_max=60")
        .await);
    assert!(!cheap.is_empty());
    for id in &cheap {
        let price = by_id[id].price_cents.unwrap();
        assert!(
            (2000..=6000).contains(&price),
            "{} costs {price}",
            by_id[id].title
        );
    }
    let vendor = ids(&app.similar(&key, anchor.id, "limit=10&vendor=Gaiam").await);
    assert!(
        !vendor.is_empty()
            && vendor
                .iter()
                .all(|id| by_id[id].vendor.as_deref() == Some("Gaiam"))
    );
    let typed = ids(&app
        .similar(&key, anchor.id, "limit=10&product_type=Cork%20Mat")
        .await);
    assert!(
        !typed.is_empty()
            && typed
                .iter()
                .all(|id| by_id[id].product_type.as_deref() == Some("Cork Mat"))
    );
    let tagged = ids(&app
        .similar(&key, anchor.id, "limit=10&tags=PRO%20Mat,cork")
        .await);
    assert!(!tagged.is_empty());
    assert!(tagged
        .iter()
        .all(|id| by_id[id].tags.iter().any(|t| t == "PRO Mat" || t == "cork")));
}

#[tokio::test]
async fn product_lookup_returns_the_stored_product_with_string_ids() {
    let app = TestApp::spawn(&Database::Sqlite).await;
    app.import(SHOP, "catalogs/admin-format/devstore_products.json")
        .await;
    let key = app.storefront_key(SHOP).await;
    let (status, body) = app.get("/api/v1/products/8546664251674", &key).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], "8546664251674");
    assert_eq!(body["title"], "ADIDAS | CLASSIC BACKPACK");
    assert_eq!(body["price"], "70.00");
    assert_eq!(body["url"], "/products/adidas-classic-backpack");
}

/// Ids and scores of a similar-products answer.
fn ranked(recs: &[Value]) -> Vec<(u64, f64)> {
    recs.iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().parse().unwrap(),
                r["score"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// The stored lists (exact all-pairs search over the whole catalogue) answer as the index's
/// exact search does, honour every filter, are served from storage, and are dropped as soon
/// as a product's vector changes (not when only its price does); each shop has its own.
#[tokio::test]
async fn stored_similar_lists_equal_exact_search_and_drop_when_a_vector_changes() {
    use kindred::domain::ShopDomain;
    use kindred::recommend::similar_lists::ListJob;

    const OTHER: &str = "other-yoga.myshopify.com";
    for db in crate::common::databases() {
        let app = TestApp::spawn(&db).await;
        app.import(SHOP, YOGA_2026_01_13).await;
        app.import(OTHER, YOGA_2026_01_13).await;
        let key = app.storefront_key(SHOP).await;
        let shop = ShopDomain::parse(SHOP).unwrap();
        let other = ShopDomain::parse(OTHER).unwrap();
        let mut catalogue =
            kindred::catalog::read_catalogue(&crate::common::shared_data(YOGA_2026_01_13))
                .unwrap()
                .products;
        catalogue.sort_by_key(|p| p.id);
        // The catalogue is under the index's exact-search threshold: the live answers are exact.
        let queries = [
            "limit=50&include_unavailable=true",
            "limit=10",
            "limit=8&vendor=Gaiam",
            "limit=10&price_min=20&price_max=60",
            "limit=10&tags=PRO%20Mat,cork",
        ];
        let anchors: Vec<u64> = catalogue.iter().step_by(17).map(|p| p.id).collect();
        let mut live = Vec::new();
        for anchor in &anchors {
            for query in queries {
                live.push(ranked(&app.similar(&key, *anchor, query).await));
            }
        }

        let job = app.recommender.build_similar_lists(&shop).await.unwrap();
        assert!(
            matches!(
                job,
                ListJob::Built {
                    products: 508,
                    device: "cpu",
                    ..
                }
            ),
            "{job:?}"
        );
        assert_eq!(app.store.similar_list_count(&shop).await.unwrap(), 508);
        assert_eq!(app.store.similar_list_count(&other).await.unwrap(), 0);

        let (mut same, mut total) = (0, 0);
        let mut answers = live.iter();
        for anchor in &anchors {
            for query in queries {
                let expected = answers.next().unwrap();
                let got = ranked(&app.similar(&key, *anchor, query).await);
                assert_eq!(got.len(), expected.len(), "{anchor} {query}");
                for ((_, a), (_, b)) in got.iter().zip(expected) {
                    assert!(
                        (a - b).abs() < 1e-4,
                        "{anchor} {query}: {got:?} vs {expected:?}"
                    );
                }
                total += got.len();
                same += got
                    .iter()
                    .filter(|(id, _)| expected.iter().any(|(e, _)| e == id))
                    .count();
            }
        }
        // Only near-ties (equal scores to 1e-4) may come out in another order or cut.
        assert!(same as f64 >= 0.99 * total as f64, "{same} of {total}");

        // What is served comes from the stored list: write one by hand and see it served.
        let anchor = anchors[0];
        let planted: Vec<(u64, f32)> = catalogue
            .iter()
            .rev()
            .filter(|p| p.id != anchor && p.available)
            .take(60)
            .map(|p| (p.id, 0.5))
            .collect();
        let mut lists: Vec<(u64, Vec<(u64, f32)>)> = vec![(anchor, planted.clone())];
        lists.extend(
            catalogue
                .iter()
                .filter(|p| p.id != anchor)
                .map(|p| (p.id, Vec::new())),
        );
        assert!(app
            .store
            .replace_similar_lists(
                &shop,
                kindred::clock::Clock::now_millis(&kindred::clock::SystemClock),
                &lists
            )
            .await
            .unwrap());
        // Written behind this recommender's back, as another replica's job would: this one
        // serves its copy of the list for a while, a recommender that has none reads it.
        let planted_ids: Vec<u64> = planted.iter().take(5).map(|(id, _)| *id).collect();
        let held = ids(&app.similar(&key, anchor, "limit=5").await);
        assert_ne!(
            held, planted_ids,
            "the list read before the write, from memory"
        );
        let replica = kindred::recommend::Recommender::new(app.catalog.clone());
        let request = kindred::recommend::SimilarRequest {
            limit: 5,
            ..Default::default()
        };
        let served: Vec<u64> = replica
            .similar(&shop, kindred::domain::ProductId(anchor), &request)
            .await
            .unwrap()
            .iter()
            .map(|r| r.product.id)
            .collect();
        assert_eq!(served, planted_ids);

        // A price change rewrites a payload, not a vector: the lists stay.
        let mut repriced = catalogue[3].clone();
        repriced.price_cents = repriced.price_cents.map(|p| p + 100);
        app.catalog
            .ingest(&shop, vec![repriced], &kindred::progress::Silent)
            .await
            .unwrap();
        assert_eq!(app.store.similar_list_count(&shop).await.unwrap(), 508);
        // New text is a new vector: every list of the shop goes, the other shop's do not.
        app.recommender.build_similar_lists(&other).await.unwrap();
        let mut renamed = catalogue[5].clone();
        renamed.title = format!("{} travel edition", renamed.title);
        renamed
            .description_html
            .push_str("<p>Folds small for travel.</p>");
        let report = app
            .catalog
            .ingest(&shop, vec![renamed.clone()], &kindred::progress::Silent)
            .await
            .unwrap();
        assert_eq!(report.embedded, 1);
        assert_eq!(app.store.similar_list_count(&shop).await.unwrap(), 0);
        assert_eq!(app.store.similar_list_count(&other).await.unwrap(), 508);
        // The index answers meanwhile, with the new text.
        let (status, body) = app
            .get(&format!("/api/v1/products/{anchor}/similar?limit=5"), &key)
            .await;
        assert_eq!(status, axum::http::StatusCode::OK, "{body}");
        assert_ne!(
            ids(body["recommendations"].as_array().unwrap()),
            planted_ids
        );

        // The server's job rebuilds the shops that are due: this one, not the current other.
        let rebuilt = app
            .recommender
            .build_due_similar_lists(std::time::Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(rebuilt, 1);
        assert_eq!(app.store.similar_list_count(&shop).await.unwrap(), 508);
        let neighbours = app
            .store
            .similar_list(&shop, renamed.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(neighbours.len(), 50);
        assert!(neighbours.windows(2).all(|w| w[0].1 >= w[1].1));
    }
}
