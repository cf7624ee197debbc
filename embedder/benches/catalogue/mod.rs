#![allow(dead_code)] // each benchmark uses a part of it
//! What the embedding benchmarks share: the real catalogues' product texts, built as the app
//! builds them, and the knobs every run reads from the environment.

use std::path::{Path, PathBuf};
use std::process::Command;

use kindred_embedder::product_text::{product_text, ProductFields};
use kindred_embedder::{CpuKernels, CpuOptions, InstructionSet, Precision};
use serde_json::Value;

/// The storefront `products.json` captures in a folder, one shop per file, in name order.
pub fn shop_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|f| !f.file_name().unwrap().to_string_lossy().starts_with('_'))
        .collect();
    files.sort();
    files
}

/// Product texts as the app builds them, from one `products.json` capture.
pub fn shop_texts(file: &Path) -> Vec<String> {
    let doc: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    // Storefront captures wrap the list in `products`; Admin-format exports are the bare list.
    let products = doc["products"].as_array().or(doc.as_array()).unwrap();
    let mut texts = Vec::new();
    for p in products {
        let tags = match &p["tags"] {
            Value::String(joined) => joined.split(',').map(|t| t.trim().to_owned()).collect(),
            other => strings(other),
        };
        let options: Vec<(String, Vec<String>)> = p["options"]
            .as_array()
            .map(|o| {
                o.iter()
                    .map(|o| {
                        (
                            o["name"].as_str().unwrap_or_default().to_owned(),
                            strings(&o["values"]),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        texts.push(product_text(&ProductFields {
            title: p["title"].as_str().unwrap_or_default(),
            product_type: p["product_type"].as_str(),
            vendor: p["vendor"].as_str(),
            tags: &tags,
            options: &options,
            description_html: p["body_html"].as_str().unwrap_or_default(),
        }));
    }
    texts
}

/// `KINDRED_CPU_INSTRUCTIONS` (auto, avx512, avx2, scalar), as the app reads it.
pub fn kernels_from_env() -> CpuKernels {
    match std::env::var("KINDRED_CPU_INSTRUCTIONS").as_deref() {
        Ok("auto") | Err(_) => CpuKernels::Native,
        Ok(named) => CpuKernels::NativeWith(named.parse::<InstructionSet>().unwrap()),
    }
}

pub fn options(precision: Precision) -> CpuOptions {
    CpuOptions {
        kernels: kernels_from_env(),
        precision,
    }
}

pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

pub fn today() -> String {
    Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

pub fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The UCI Online Retail items, one text per stock code (its description), in first-seen
/// order: a text-only catalogue of a few thousand products.
pub fn online_retail_texts(file: &Path) -> Vec<String> {
    let mut reader = csv::Reader::from_path(file).unwrap();
    let mut seen = std::collections::HashSet::new();
    let mut texts = Vec::new();
    for record in reader.records() {
        let record = record.unwrap();
        let (code, description) = (&record[1], record[2].trim());
        if !description.is_empty() && seen.insert(code.to_owned()) {
            texts.push(product_text(&ProductFields {
                title: description,
                product_type: None,
                vendor: None,
                tags: &[],
                options: &[],
                description_html: "",
            }));
        }
    }
    texts
}
