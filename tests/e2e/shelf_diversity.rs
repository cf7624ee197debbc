//! Shelves worth looking at, measured on every real catalogue: each store its own shop
//! (most are one vendor, where a per-vendor cap does nothing), every product an anchor,
//! its similar shelf (as the theme block asks for it) served with diversity off, with variant families collapsed, and with
//! the default (families collapsed, MMR on the vectors). Near-duplicates must mostly go
//! while the share of same-kind neighbours stays; the table goes to BENCHMARKS.md.

use std::collections::HashMap;

use kindred::domain::{Product, ProductStatus, ShopDomain};
use kindred::recommend::diversity::variant_family;
use kindred::recommend::rules::MerchandisingRules;
use kindred::stores::prelude::*;
use serde_json::Value;

use crate::common::{Database, TestApp};
use crate::similar_products::kind;

/// Products on a shelf, as a theme block shows them.
const SHELF: usize = 8;
/// Two products this close are near-duplicates: with this model, colourways of one item
/// and prints of one line (where most of a yoga store's mats sit near 0.8).
const NEAR_DUPLICATE: f32 = 0.95;

/// Every catalogue file of the shared data, each one shop.
fn catalogues() -> Vec<(String, String)> {
    let yoga = crate::common::shared_data(crate::common::YOGA_2026_01_13);
    let mut files: Vec<(String, String)> = std::fs::read_dir(&yoga)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json") && !name.starts_with('_'))
        .map(|name| {
            let store = name.trim_end_matches(".json").to_owned();
            (store, format!("{}/{name}", crate::common::YOGA_2026_01_13))
        })
        .collect();
    for store in ["devstore", "unitedbyblue"] {
        files.push((
            store.to_owned(),
            format!("catalogs/admin-format/{store}_products.json"),
        ));
    }
    files.sort();
    files
}

#[derive(Default)]
struct Figures {
    shelves: usize,
    pairwise: f64,
    pairs: usize,
    with_near_duplicate: usize,
    with_family_pair: usize,
    same_type: (usize, usize),
    /// Among the items of other product lines than the anchor's (its colourways are the
    /// same product, not a similar one): the same store type, the same coarse kind.
    other_lines_same_type: (usize, usize),
    other_lines_same_kind: (usize, usize),
    to_anchor: f64,
    items: usize,
}

impl Figures {
    fn add(&mut self, anchor: &Product, shelf: &[&Product], vectors: &HashMap<u64, Vec<f32>>) {
        let cosine = |a: u64, b: u64| -> f32 {
            vectors[&a]
                .iter()
                .zip(&vectors[&b])
                .map(|(x, y)| x * y)
                .sum()
        };
        self.shelves += 1;
        let (mut near, mut family) = (false, false);
        for (i, a) in shelf.iter().enumerate() {
            for b in &shelf[i + 1..] {
                let similarity = cosine(a.id, b.id);
                self.pairwise += f64::from(similarity);
                self.pairs += 1;
                near |= similarity >= NEAR_DUPLICATE;
                family |= variant_family(&a.title) == variant_family(&b.title);
            }
            self.to_anchor += f64::from(cosine(anchor.id, a.id));
            self.items += 1;
            let other_line = variant_family(&a.title) != variant_family(&anchor.title);
            if let Some(kind) = anchor.product_type.as_ref().filter(|t| !t.is_empty()) {
                let same = usize::from(a.product_type.as_ref() == Some(kind));
                add(&mut self.same_type, same);
                if other_line {
                    add(&mut self.other_lines_same_type, same);
                }
            }
            if other_line {
                let same = kind(&a.title) == kind(&anchor.title);
                add(&mut self.other_lines_same_kind, usize::from(same));
            }
        }
        self.with_near_duplicate += usize::from(near);
        self.with_family_pair += usize::from(family);
    }

    fn near_duplicate_share(&self) -> f64 {
        self.with_near_duplicate as f64 / self.shelves as f64
    }

    fn family_share(&self) -> f64 {
        self.with_family_pair as f64 / self.shelves as f64
    }

    fn same_type_share(&self) -> f64 {
        share(self.same_type)
    }

    fn row(&self, name: &str) -> String {
        format!(
            "| {name} | {} | {:.3} | {:.1}% | {:.1}% | {:.1}% | {:.1}% | {:.1}% | {:.3} |",
            self.shelves,
            self.pairwise / self.pairs as f64,
            100.0 * self.near_duplicate_share(),
            100.0 * self.family_share(),
            100.0 * self.same_type_share(),
            100.0 * share(self.other_lines_same_type),
            100.0 * share(self.other_lines_same_kind),
            self.to_anchor / self.items as f64,
        )
    }
}

fn add(counts: &mut (usize, usize), hit: usize) {
    counts.0 += hit;
    counts.1 += 1;
}

fn share(counts: (usize, usize)) -> f64 {
    counts.0 as f64 / counts.1 as f64
}

fn settings() -> [(&'static str, MerchandisingRules); 4] {
    let off = MerchandisingRules {
        collapse_variants: false,
        diversity: 0.0,
        ..Default::default()
    };
    let families = MerchandisingRules {
        diversity: 0.0,
        ..Default::default()
    };
    let strong = MerchandisingRules {
        diversity: 0.5,
        ..Default::default()
    };
    [
        ("off", off),
        ("variant families collapsed", families),
        (
            "default (families + MMR 0.3)",
            MerchandisingRules::default(),
        ),
        ("families + MMR 0.5", strong),
    ]
}

#[tokio::test]
async fn shelves_of_real_catalogues_lose_their_near_duplicates_and_keep_their_kind() {
    let app = TestApp::spawn(&Database::Sqlite).await;
    let settings = settings();
    let mut figures: Vec<Figures> = settings.iter().map(|_| Figures::default()).collect();
    for (store, file) in catalogues() {
        let domain = format!("{store}.myshopify.com");
        let shop = ShopDomain::parse(&domain).unwrap();
        app.import(&domain, &file).await;
        let listed = kindred::catalog::read_catalogue(&crate::common::shared_data(&file))
            .unwrap()
            .products;
        let listed: Vec<u64> = listed.iter().map(|p| p.id).collect();
        let mut products = app.store.get_products(&shop, &listed).await.unwrap();
        products.retain(|p| p.status == ProductStatus::Active);
        // A shelf can only choose where the catalogue offers more than one shelf.
        if products.len() < 2 * SHELF {
            continue;
        }
        let key = app.storefront_key(&domain).await;
        let ids: Vec<u64> = products.iter().map(|p| p.id).collect();
        let vectors: HashMap<u64, Vec<f32>> = app
            .catalog
            .index()
            .fetch_many(shop.as_str(), &ids)
            .await
            .unwrap()
            .into_iter()
            .map(|p| (p.product_id, p.vector))
            .collect();
        let by_id: HashMap<u64, &Product> = products.iter().map(|p| (p.id, p)).collect();
        for ((_, rules), figures) in settings.iter().zip(&mut figures) {
            app.recommender.set_rules(&shop, rules).await.unwrap();
            for anchor in &products {
                let path = format!(
                    "/api/v1/recommendations?strategy=similar&product_id={}&limit={SHELF}",
                    anchor.id
                );
                let (status, body) = app.get(&path, &key).await;
                assert_eq!(status, 200, "{store}: {body}");
                let shelf: Vec<&Product> = body["recommendations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| by_id[&id_of(r)])
                    .collect();
                assert!(!shelf.iter().any(|p| p.id == anchor.id));
                // Sold-out products never show: a small shop's shelf may be short.
                if shelf.len() == SHELF {
                    figures.add(anchor, &shelf, &vectors);
                }
            }
        }
    }
    println!("| shelves | shelves | mean pairwise cosine | with a near-duplicate pair (≥ {NEAR_DUPLICATE}) | with two of one family | same product type as the anchor | same type, other lines | same kind, other lines | mean cosine to the anchor |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for ((name, _), figures) in settings.iter().zip(&figures) {
        println!("{}", figures.row(name));
    }

    let [off, families, default, _] = &figures[..] else {
        unreachable!()
    };
    assert!(off.shelves > 400, "{} shelves", off.shelves);
    assert!(
        off.near_duplicate_share() > 0.3 && off.family_share() > 0.1,
        "the real catalogues do have near-duplicates on their shelves"
    );
    // Not to zero: some stores have fewer product lines than a shelf has places, and a
    // family then gives way rather than leave the shelf short.
    assert!(
        families.family_share() < 0.7 * off.family_share(),
        "collapsing families removes family pairs: {:.3} against {:.3}",
        families.family_share(),
        off.family_share()
    );
    assert!(
        default.near_duplicate_share() < 0.8 * off.near_duplicate_share(),
        "the default removes most near-duplicates: {:.3} against {:.3}",
        default.near_duplicate_share(),
        off.near_duplicate_share()
    );
    assert!(default.pairwise / (default.pairs as f64) < off.pairwise / (off.pairs as f64));
    // Relevance, among the neighbours that are other products (colourways of the anchor
    // share its type by definition, and leave by design). The coarse kind holds; the
    // stores' own fine types ("Women:Bras") fall a little, since a bra's shelf now shows
    // one colourway of each other bra line and then the store's nearest other products.
    let (by_type, by_kind) = (
        |f: &Figures| share(f.other_lines_same_type),
        |f: &Figures| share(f.other_lines_same_kind),
    );
    assert!(
        by_kind(default) >= by_kind(off) - 0.02,
        "the anchor's kind holds: {:.3} against {:.3}",
        by_kind(default),
        by_kind(off)
    );
    assert!(
        by_type(default) >= by_type(off) - 0.08,
        "the anchor's store type mostly holds: {:.3} against {:.3}",
        by_type(default),
        by_type(off)
    );
}

fn id_of(recommendation: &Value) -> u64 {
    recommendation["id"].as_str().unwrap().parse().unwrap()
}
