//! The behaviour every `VectorIndex` backend must have, written once and run per backend.

use kindred_retriever::{
    exact_top_k, ProductPayload, ProductPoint, RetrieverError, SearchFilter, SearchQuery,
    VectorIndex,
};

pub const DIM: usize = 384;

/// Deterministic pseudo-random unit vectors (a small LCG), so failures reproduce.
pub fn unit_vector(seed: u64) -> Vec<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut v: Vec<f32> = (0..DIM)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        })
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

pub fn payload(i: u64) -> ProductPayload {
    ProductPayload {
        available: i % 3 != 0,
        price: (i % 13 != 0).then_some(10.0 + (i % 10) as f64 * 10.0),
        product_type: Some(if i % 2 == 0 { "Mat" } else { "Strap" }.to_owned()),
        vendor: Some(format!("vendor-{}", i % 4)),
        tags: vec![format!("tag-{}", i % 5), "all".to_owned()],
        collections: vec![i % 7, 100 + i % 3],
        status: if i % 11 == 0 { "draft" } else { "active" }.to_owned(),
    }
}

pub fn points(ids: std::ops::Range<u64>, seed_offset: u64) -> Vec<ProductPoint> {
    ids.map(|i| ProductPoint {
        product_id: i,
        vector: unit_vector(i + seed_offset),
        payload: payload(i),
    })
    .collect()
}

fn query(vector: Vec<f32>, limit: usize, filter: SearchFilter) -> SearchQuery {
    SearchQuery {
        vector,
        limit,
        filter,
    }
}

pub async fn nearest_neighbours_are_exact_and_ordered(index: &dyn VectorIndex, shop: &str) {
    let pts = points(1..301, 0);
    index.upsert(shop, pts.clone()).await.unwrap();
    let all: Vec<(u64, Vec<f32>)> = pts
        .iter()
        .map(|p| (p.product_id, p.vector.clone()))
        .collect();
    for q in 0..10 {
        let probe = unit_vector(10_000 + q);
        let expected = exact_top_k(&all, &probe, 10);
        let got = index
            .search(shop, &query(probe, 10, SearchFilter::default()))
            .await
            .unwrap();
        let got_ids: Vec<u64> = got.iter().map(|h| h.product_id).collect();
        let expected_ids: Vec<u64> = expected.iter().map(|h| h.product_id).collect();
        assert_eq!(got_ids, expected_ids);
        for (g, e) in got.iter().zip(&expected) {
            assert!(
                (g.score - e.score).abs() < 1e-4,
                "score {} vs cosine {}",
                g.score,
                e.score
            );
        }
    }
    assert_eq!(index.count(shop).await.unwrap(), 300);
}

/// Searches with `filter` and expects exactly the nearest of the products for which
/// `holds` is true: nothing that fails the filter, nothing that passes it left out.
async fn check(
    index: &dyn VectorIndex,
    shop: &str,
    all: &[ProductPoint],
    probe: &[f32],
    name: &str,
    filter: SearchFilter,
    holds: &dyn Fn(u64) -> bool,
) {
    let allowed: Vec<(u64, Vec<f32>)> = all
        .iter()
        .filter(|p| holds(p.product_id))
        .map(|p| (p.product_id, p.vector.clone()))
        .collect();
    assert!(
        !allowed.is_empty() && allowed.len() < all.len(),
        "{name}: the test data must have products on both sides of the filter"
    );
    let expected: Vec<u64> = exact_top_k(&allowed, probe, 50)
        .iter()
        .map(|h| h.product_id)
        .collect();
    let got: Vec<u64> = index
        .search(shop, &query(probe.to_vec(), 50, filter))
        .await
        .unwrap()
        .iter()
        .map(|h| h.product_id)
        .collect();
    assert_eq!(got, expected, "{name}");
}

/// Whether a product (by id) passes a filter, by the test's own reckoning.
type Holds = Box<dyn Fn(u64) -> bool>;

pub async fn every_filter_excludes_what_it_should(index: &dyn VectorIndex, shop: &str) {
    let all = points(1..201, 0);
    index.upsert(shop, all.clone()).await.unwrap();
    let probe = unit_vector(77);
    let cases: Vec<(&str, SearchFilter, Holds)> = vec![
        (
            "available",
            SearchFilter {
                available_only: true,
                ..Default::default()
            },
            Box::new(|i| payload(i).available),
        ),
        (
            "price range (a product without a price fails it)",
            SearchFilter {
                price_min: Some(30.0),
                price_max: Some(50.0),
                ..Default::default()
            },
            Box::new(|i| payload(i).price.is_some_and(|p| (30.0..=50.0).contains(&p))),
        ),
        (
            "price floor",
            SearchFilter {
                price_min: Some(60.0),
                ..Default::default()
            },
            Box::new(|i| payload(i).price.is_some_and(|p| p >= 60.0)),
        ),
        (
            "type",
            SearchFilter {
                product_type: Some("Strap".into()),
                ..Default::default()
            },
            Box::new(|i| i % 2 == 1),
        ),
        (
            "vendor",
            SearchFilter {
                vendor: Some("vendor-2".into()),
                ..Default::default()
            },
            Box::new(|i| i % 4 == 2),
        ),
        (
            "tags",
            SearchFilter {
                tags_any: vec!["tag-1".into(), "tag-3".into()],
                ..Default::default()
            },
            Box::new(|i| i % 5 == 1 || i % 5 == 3),
        ),
        (
            "collection",
            SearchFilter {
                collection: Some(4),
                ..Default::default()
            },
            Box::new(|i| payload(i).collections.contains(&4)),
        ),
        (
            "status",
            SearchFilter {
                status: Some("active".into()),
                ..Default::default()
            },
            Box::new(|i| i % 11 != 0),
        ),
        (
            "all at once",
            SearchFilter {
                available_only: true,
                price_max: Some(80.0),
                product_type: Some("Mat".into()),
                status: Some("active".into()),
                ..Default::default()
            },
            Box::new(|i| {
                let p = payload(i);
                p.available && p.price.is_some_and(|p| p <= 80.0) && i % 2 == 0 && i % 11 != 0
            }),
        ),
    ];
    for (name, filter, holds) in cases {
        check(index, shop, &all, &probe, name, filter, &*holds).await;
    }

    let excluded: Vec<u64> = index
        .search(shop, &query(probe.clone(), 5, SearchFilter::default()))
        .await
        .unwrap()
        .iter()
        .map(|h| h.product_id)
        .collect();
    let filter = SearchFilter {
        exclude_product_ids: excluded.clone(),
        ..Default::default()
    };
    // The page still fills: 50 hits although the 5 best are excluded.
    check(index, shop, &all, &probe, "exclude", filter, &|i| {
        !excluded.contains(&i)
    })
    .await;
}

pub async fn shops_never_see_or_touch_each_other(
    index: &dyn VectorIndex,
    shop_a: &str,
    shop_b: &str,
) {
    // Same product ids, different vectors and payloads.
    index.upsert(shop_a, points(1..101, 0)).await.unwrap();
    index.upsert(shop_b, points(1..51, 5_000)).await.unwrap();
    assert_eq!(index.count(shop_a).await.unwrap(), 100);
    assert_eq!(index.count(shop_b).await.unwrap(), 50);

    let a1 = index.fetch(shop_a, 1).await.unwrap().unwrap();
    let b1 = index.fetch(shop_b, 1).await.unwrap().unwrap();
    assert!(close(&a1.vector, &unit_vector(1)));
    assert!(close(&b1.vector, &unit_vector(5_001)));
    assert!(
        index.fetch(shop_b, 80).await.unwrap().is_none(),
        "B has no product 80; A's must not show"
    );
    // Several at once: B's own, never A's 80, unknown ids left out.
    let mut many = index.fetch_many(shop_b, &[2, 80, 1, 9_999]).await.unwrap();
    many.sort_by_key(|p| p.product_id);
    assert_eq!(
        many.iter().map(|p| p.product_id).collect::<Vec<_>>(),
        [1, 2]
    );
    assert!(close(&many[0].vector, &unit_vector(5_001)));
    assert!(index.fetch_many(shop_b, &[]).await.unwrap().is_empty());

    // B's exact vector, searched in A, finds A's points only.
    let hits = index
        .search(
            shop_a,
            &query(unit_vector(5_001), 100, SearchFilter::default()),
        )
        .await
        .unwrap();
    assert_eq!(hits.len(), 100);
    assert!(hits[0].score < 0.5, "A does not hold B's vector");

    // 1-3 both shops hold; 70 and 80 only A does.
    index.delete(shop_b, &[1, 2, 3, 70, 80]).await.unwrap();
    assert_eq!(
        index.count(shop_a).await.unwrap(),
        100,
        "B's delete left A alone"
    );
    assert_eq!(index.count(shop_b).await.unwrap(), 47);
    assert!(index.fetch(shop_b, 1).await.unwrap().is_none());
    assert!(index.fetch(shop_a, 1).await.unwrap().is_some());
    assert!(matches!(
        index.set_payload(shop_b, 80, payload(80)).await,
        Err(RetrieverError::NotFound)
    ));
    index.drop_shop(shop_b).await.unwrap();
    assert_eq!(index.count(shop_b).await.unwrap(), 0);
    assert_eq!(index.count(shop_a).await.unwrap(), 100);
    assert!(index.fetch(shop_a, 1).await.unwrap().is_some());
}

pub async fn payload_updates_keep_the_vector(index: &dyn VectorIndex, shop: &str) {
    index.upsert(shop, points(1..21, 0)).await.unwrap();
    let available_only = SearchFilter {
        available_only: true,
        ..Default::default()
    };
    let probe = unit_vector(2);
    let top = index
        .search(shop, &query(probe.clone(), 1, available_only.clone()))
        .await
        .unwrap();
    assert_eq!(top[0].product_id, 2);

    let mut sold_out = payload(2);
    sold_out.available = false;
    sold_out.price = Some(999.0);
    index.set_payload(shop, 2, sold_out.clone()).await.unwrap();
    let stored = index.fetch(shop, 2).await.unwrap().unwrap();
    assert_eq!(stored.payload, sold_out);
    assert!(close(&stored.vector, &unit_vector(2)), "vector unchanged");
    let top = index
        .search(shop, &query(probe, 1, available_only))
        .await
        .unwrap();
    assert_ne!(top[0].product_id, 2, "sold out now");
    assert!(matches!(
        index.set_payload(shop, 999, payload(1)).await,
        Err(RetrieverError::NotFound)
    ));

    // Upserting an existing id replaces it.
    index
        .upsert(
            shop,
            vec![ProductPoint {
                product_id: 2,
                vector: unit_vector(900),
                payload: payload(2),
            }],
        )
        .await
        .unwrap();
    assert_eq!(index.count(shop).await.unwrap(), 20);
    assert!(close(
        &index.fetch(shop, 2).await.unwrap().unwrap().vector,
        &unit_vector(900)
    ));
    index.delete(shop, &[2, 3]).await.unwrap();
    assert_eq!(index.count(shop).await.unwrap(), 18);
    assert!(index.fetch(shop, 2).await.unwrap().is_none());
}

pub async fn bad_vectors_are_clean_errors(index: &dyn VectorIndex, shop: &str) {
    let short = ProductPoint {
        product_id: 1,
        vector: vec![0.1; 10],
        payload: payload(1),
    };
    assert!(matches!(
        index.upsert(shop, vec![short]).await,
        Err(RetrieverError::DimensionMismatch {
            expected: 384,
            got: 10
        })
    ));
    let mut nan = unit_vector(1);
    nan[3] = f32::NAN;
    assert!(matches!(
        index
            .upsert(
                shop,
                vec![ProductPoint {
                    product_id: 1,
                    vector: nan,
                    payload: payload(1)
                }]
            )
            .await,
        Err(RetrieverError::InvalidInput(_))
    ));
    assert!(index
        .search(shop, &query(vec![0.0; 3], 5, SearchFilter::default()))
        .await
        .is_err());
    assert_eq!(index.count(shop).await.unwrap(), 0, "nothing half-written");
}

pub fn close(a: &[f32], b: &[f32]) -> bool {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    a.len() == b.len() && dot > 0.9999
}

pub async fn empty_requests_and_unknown_shops_are_harmless(index: &dyn VectorIndex, shop: &str) {
    index.upsert(shop, points(1..11, 0)).await.unwrap();
    let nobody = "nobody.myshopify.com";
    assert_eq!(index.count(nobody).await.unwrap(), 0);
    assert!(index.fetch(nobody, 1).await.unwrap().is_none());
    let probe = unit_vector(1);
    let hits = index
        .search(nobody, &query(probe.clone(), 10, SearchFilter::default()))
        .await
        .unwrap();
    assert!(hits.is_empty());
    index.drop_shop(nobody).await.unwrap();
    index.delete(nobody, &[1, 2]).await.unwrap();
    index.delete(shop, &[]).await.unwrap();
    index.upsert(shop, Vec::new()).await.unwrap();
    let none = index
        .search(shop, &query(probe, 0, SearchFilter::default()))
        .await
        .unwrap();
    assert!(none.is_empty());
    index.flush().await.unwrap();
    assert_eq!(index.count(shop).await.unwrap(), 10);
}
