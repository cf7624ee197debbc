//! The catalogue: files and folders of Shopify product data in any of the shapes merchants
//! have, turned into [`Product`]s with every unusable record reported (here and in the
//! parsers), and the service that stores them and keeps their vectors in step (`service`).

mod lexical;
pub mod service;

pub use lexical::searchable_text;
mod shopify_csv;
mod shopify_json;

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::domain::Product;
use crate::error::AppError;
pub use shopify_csv::{product_id_for_handle, read_csv};
pub use shopify_json::product_from_json;

/// A record that could not be used, and why.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SkippedRecord {
    /// Where it was: `file:line` for CSV and JSON lines, `file#products[i]` for JSON.
    pub location: String,
    pub reason: String,
}

impl SkippedRecord {
    pub fn new(location: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            location: location.into(),
            reason: reason.into(),
        }
    }
}

pub type ParsedRecord = Result<Product, SkippedRecord>;

/// Everything read from a catalogue path.
#[derive(Debug, Default)]
pub struct Catalogue {
    pub files: usize,
    pub products: Vec<Product>,
    pub skipped: Vec<SkippedRecord>,
}

/// Reads a file or folder, keeping good records and reporting the rest.
pub fn read_catalogue(path: &Path) -> Result<Catalogue, AppError> {
    let files = catalogue_files(path)?;
    let mut catalogue = Catalogue {
        files: files.len(),
        ..Default::default()
    };
    for file in &files {
        for record in read_file(file) {
            match record {
                Ok(product) => catalogue.products.push(product),
                Err(skip) => catalogue.skipped.push(skip),
            }
        }
    }
    Ok(catalogue)
}

/// The files an import reads: the path itself, or a folder's catalogue files in name order.
/// Names starting with `_` or `.` (capture metadata, hidden files) are left out.
pub fn catalogue_files(path: &Path) -> Result<Vec<PathBuf>, AppError> {
    if !path.is_dir() {
        if !path.exists() {
            return Err(AppError::NotFound(format!(
                "catalogue path {}",
                path.display()
            )));
        }
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            !name.starts_with('_') && !name.starts_with('.') && format_of(p).is_some()
        })
        .collect();
    files.sort();
    Ok(files)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Json,
    JsonLines,
    Csv,
}

fn format_of(path: &Path) -> Option<Format> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "json" => Some(Format::Json),
        "jsonl" | "ndjson" => Some(Format::JsonLines),
        "csv" => Some(Format::Csv),
        _ => None,
    }
}

/// Reads one catalogue file into records; a file that cannot be read at all is one skipped record.
pub fn read_file(path: &Path) -> Vec<ParsedRecord> {
    let source = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("input")
        .to_owned();
    let Some(format) = format_of(path) else {
        return vec![Err(SkippedRecord::new(
            source,
            "unknown file type; expected .json, .jsonl or .csv",
        ))];
    };
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) => {
            return vec![Err(SkippedRecord::new(
                source,
                format!("cannot read: {err}"),
            ))]
        }
    };
    read_bytes(&bytes, format, &source)
}

fn read_bytes(bytes: &[u8], format: Format, source: &str) -> Vec<ParsedRecord> {
    match format {
        Format::Csv => shopify_csv::read_csv(bytes, source),
        Format::JsonLines => read_json_lines(bytes, source),
        Format::Json => match serde_json::from_slice::<Value>(bytes) {
            Ok(value) => read_json_document(&value, source),
            Err(err) => vec![Err(SkippedRecord::new(
                format!("{source}:{}", err.line()),
                format!("not valid JSON: {err}"),
            ))],
        },
    }
}

/// JSON documents come as `{"products": [...]}`, `{"product": {...}}`, a bare array or one product.
pub fn read_json_document(value: &Value, source: &str) -> Vec<ParsedRecord> {
    let (items, path): (Vec<&Value>, &str) = match value {
        Value::Array(items) => (items.iter().collect(), ""),
        Value::Object(map) => match (map.get("products"), map.get("product")) {
            (Some(Value::Array(items)), _) => (items.iter().collect(), "products"),
            (_, Some(single)) => (vec![single], "product"),
            _ => (vec![value], ""),
        },
        _ => {
            return vec![Err(SkippedRecord::new(
                source,
                "JSON is neither a product, a list nor {\"products\": [...]}",
            ))]
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            product_from_json(item).map_err(|reason| {
                let id = item
                    .get("id")
                    .map(|id| format!(" (id {id})"))
                    .unwrap_or_default();
                SkippedRecord::new(format!("{source}#{path}[{i}]{id}"), reason)
            })
        })
        .collect()
}

/// JSON lines: one product per line; a line that is not JSON or not a product is one skipped
/// record, and the lines around it are still read.
pub fn read_json_lines(bytes: &[u8], source: &str) -> Vec<ParsedRecord> {
    String::from_utf8_lossy(bytes)
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            let location = format!("{source}:{}", i + 1);
            let value: Value = serde_json::from_str(line).map_err(|err| {
                SkippedRecord::new(location.clone(), format!("not valid JSON: {err}"))
            })?;
            product_from_json(&value).map_err(|reason| SkippedRecord::new(location, reason))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/data")
            .join(rel)
    }

    #[test]
    fn a_folder_reads_catalogue_files_and_skips_capture_metadata() {
        let files = catalogue_files(&shared("catalogs/yoga-stores/2026-01-13")).unwrap();
        assert_eq!(files.len(), 23, "23 store captures on that date");
        assert!(files
            .iter()
            .all(|f| !f.file_name().unwrap().to_str().unwrap().starts_with('_')));
        let products: usize = files
            .iter()
            .map(|f| read_file(f).iter().filter(|r| r.is_ok()).count())
            .sum();
        assert_eq!(products, 508, "every product of every store, none skipped");
    }

    #[test]
    fn bad_records_are_reported_and_the_rest_kept() {
        let doc = serde_json::json!({"products": [
            {"id": 1, "title": "Cork mat", "variants": [{"price": "10.00", "available": true}]},
            {"id": "oops", "title": "bad id"},
            {"id": 3, "title": "Strap"}
        ]});
        let records = read_json_document(&doc, "x.json");
        assert_eq!(records.iter().filter(|r| r.is_ok()).count(), 2);
        let skipped = records[1].as_ref().unwrap_err();
        assert_eq!(skipped.location, "x.json#products[1] (id \"oops\")");
    }

    #[test]
    fn json_lines_and_broken_json_report_lines() {
        let lines = b"{\"id\": 5, \"title\": \"a\"}\n\n{nope\n";
        let records = read_bytes(lines, Format::JsonLines, "f.jsonl");
        assert!(records[0].is_ok());
        assert_eq!(records[1].as_ref().unwrap_err().location, "f.jsonl:3");
        let broken = read_bytes(b"{\n \"products\": [\n", Format::Json, "b.json");
        assert_eq!(broken.len(), 1);
        assert!(broken[0]
            .as_ref()
            .unwrap_err()
            .reason
            .contains("not valid JSON"));
    }
}
