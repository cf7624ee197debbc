//! What the opt-in int8 mode costs in quality, on the real catalogues: each product's cosine
//! to its f32 vector, and how much of each product's ten nearest neighbours (the similar
//! shelf, before rules) stays the same.
//!
//! `cargo bench -p kindred-embedder --bench int8_quality`; `KINDRED_CPU_INSTRUCTIONS` holds
//! the kernels to one instruction set (the integers, hence the vectors, are the same on all).

mod catalogue;

use std::path::Path;
use std::time::Instant;

use catalogue::{online_retail_texts, options, shop_files, shop_texts, today};
use kindred_embedder::{
    cpu_features, default_model_dir, BertEmbedder, DevicePreference, Embedder, InstructionSet,
    Precision,
};

const NEIGHBOURS: usize = 10;

struct Row {
    name: String,
    products: usize,
    mean_cosine: f64,
    lowest_cosine: f64,
    overlap: f64,
}

fn main() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    let yoga = shop_files(&data.join("catalogs/yoga-stores/2026-01-13"));
    let mut catalogues: Vec<(String, Vec<String>)> = yoga
        .iter()
        .chain(&shop_files(&data.join("catalogs/admin-format")))
        .map(|f| {
            (
                f.file_stem().unwrap().to_string_lossy().into_owned(),
                shop_texts(f),
            )
        })
        .collect();
    // Larger ones, where more products compete for each neighbour slot.
    catalogues.push((
        "all yoga stores as one catalogue".into(),
        yoga.iter().flat_map(|f| shop_texts(f)).collect(),
    ));
    catalogues.push((
        "online-retail (UCI, descriptions only)".into(),
        online_retail_texts(
            &data.join("interactions/online-retail/online_retail_first49999rows.csv"),
        ),
    ));
    let model_dir = default_model_dir();
    let load = |precision| {
        BertEmbedder::load_with(&model_dir, DevicePreference::Cpu, 2_048, options(precision))
            .expect("model (run scripts/fetch-model.sh)")
    };
    let (f32_model, int8_model) = (load(Precision::F32), load(Precision::Int8));
    let instructions = int8_model
        .cpu_instructions()
        .unwrap_or(InstructionSet::Scalar);

    let mut rows = Vec::new();
    let (mut f32_seconds, mut int8_seconds, mut embedded) = (0.0, 0.0, 0);
    for (name, texts) in catalogues {
        if texts.len() <= NEIGHBOURS {
            continue;
        }
        let started = Instant::now();
        let exact = f32_model.embed(&texts).unwrap();
        f32_seconds += started.elapsed().as_secs_f64();
        let started = Instant::now();
        let quantised = int8_model.embed(&texts).unwrap();
        int8_seconds += started.elapsed().as_secs_f64();
        embedded += texts.len();

        let cosines: Vec<f64> = exact
            .iter()
            .zip(&quantised)
            .map(|(a, b)| dot(a, b))
            .collect();
        let overlap = (0..texts.len())
            .map(|i| {
                let (a, b) = (nearest(&exact, i), nearest(&quantised, i));
                a.iter().filter(|n| b.contains(n)).count() as f64 / NEIGHBOURS as f64
            })
            .sum::<f64>()
            / texts.len() as f64;
        rows.push(Row {
            name,
            products: texts.len(),
            mean_cosine: cosines.iter().sum::<f64>() / cosines.len() as f64,
            lowest_cosine: cosines.iter().copied().fold(f64::INFINITY, f64::min),
            overlap,
        });
    }

    // The pooled and the large catalogues are reported on their own, not summed again.
    let (shops, larger) = rows.split_at(rows.len() - 2);
    let products: usize = shops.iter().map(|r| r.products).sum();
    println!(
        "\n## Int8 mode against f32 ({}, {}, kernels: {instructions})",
        kindred_embedder::host_description(),
        today()
    );
    println!("CPU features: {}.", cpu_features().join(", "));
    println!(
        "{products} products in {} real shops' catalogues, then the same yoga stores pooled, then a {}-item catalogue; f32 {:.1} products/s, int8 {:.1} products/s over all of it (one pass each; the throughput benchmark alternates rounds).\n",
        shops.len(),
        larger[1].products,
        embedded as f64 / f32_seconds,
        embedded as f64 / int8_seconds
    );
    println!("| catalogue | products | mean cosine to f32 | lowest cosine | top-{NEIGHBOURS} neighbours kept |\n|---|---|---|---|---|");
    let print = |row: &Row| {
        println!(
            "| {} | {} | {:.5} | {:.5} | {:.1}% |",
            row.name,
            row.products,
            row.mean_cosine,
            row.lowest_cosine,
            row.overlap * 100.0
        );
    };
    shops.iter().for_each(print);
    let weighted = |f: fn(&Row) -> f64| {
        shops.iter().map(|r| f(r) * r.products as f64).sum::<f64>() / products as f64
    };
    println!(
        "| **every shop, weighted by products** | {products} | {:.5} | {:.5} | {:.1}% |",
        weighted(|r| r.mean_cosine),
        shops
            .iter()
            .map(|r| r.lowest_cosine)
            .fold(f64::INFINITY, f64::min),
        weighted(|r| r.overlap) * 100.0
    );
    larger.iter().for_each(print);
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum()
}

/// The `NEIGHBOURS` products nearest to product `i` by cosine (the vectors are normalised).
fn nearest(vectors: &[Vec<f32>], i: usize) -> Vec<usize> {
    let mut scored: Vec<(f64, usize)> = (0..vectors.len())
        .filter(|&j| j != i)
        .map(|j| (dot(&vectors[i], &vectors[j]), j))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored
        .into_iter()
        .take(NEIGHBOURS)
        .map(|(_, j)| j)
        .collect()
}
