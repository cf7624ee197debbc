//! The theme app extension keeps Shopify's rules and our budgets: only the file types a theme
//! app extension may hold, Liquid under 100 KB in all, each locale under 15 KB, each script
//! under 10 KB gzipped, and every editor string the blocks name present in every language.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::Value;

fn extension() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shopify-extension/theme")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            found.push(path);
        }
    }
    found.sort();
    found
}

fn gzipped_len(bytes: &[u8]) -> usize {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap().len()
}

#[test]
fn only_allowed_files_within_budget() {
    let root = extension();
    let mut liquid_bytes = 0;
    let mut scripts = 0;
    for path in files(&root) {
        let relative = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let folder = relative.split('/').next().unwrap();
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = std::fs::read(&path).unwrap();
        let allowed = match folder {
            "blocks" | "snippets" => extension == "liquid",
            "assets" => [
                "js", "css", "png", "jpg", "jpeg", "gif", "svg", "webp", "woff", "woff2",
            ]
            .contains(&extension.as_str()),
            "locales" => extension == "json",
            _ => ["shopify.extension.toml", "README.md"].contains(&relative.as_str()),
        };
        assert!(allowed, "{relative} may not be in a theme app extension");
        if extension == "liquid" {
            liquid_bytes += bytes.len();
        }
        if folder == "locales" {
            assert!(
                bytes.len() < 15 * 1024,
                "{relative} is {} bytes",
                bytes.len()
            );
            serde_json::from_slice::<Value>(&bytes)
                .unwrap_or_else(|e| panic!("{relative} is not JSON: {e}"));
        }
        if extension == "js" || extension == "css" {
            let compressed = gzipped_len(&bytes);
            assert!(
                compressed < 10 * 1024,
                "{relative} is {compressed} bytes gzipped"
            );
            scripts += 1;
        }
    }
    assert!(liquid_bytes < 100 * 1024, "{liquid_bytes} bytes of Liquid");
    assert!(
        liquid_bytes > 0 && scripts >= 2,
        "the extension has its blocks and scripts"
    );
}

/// The JSON inside a block's `{% schema %}` tag.
fn schema_of(liquid: &str) -> Value {
    let start = liquid.find("{% schema %}").expect("a block has a schema") + "{% schema %}".len();
    let end = liquid.find("{% endschema %}").expect("the schema ends");
    serde_json::from_str(&liquid[start..end]).expect("the schema is JSON")
}

fn translation_keys(value: &Value, prefix: &str, keys: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                translation_keys(v, &key, keys);
            }
        }
        _ => {
            keys.insert(prefix.to_owned());
        }
    }
}

fn referenced(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::String(s) if s.starts_with("t:") => {
            found.insert(s[2..].to_owned());
        }
        Value::Array(items) => items.iter().for_each(|v| referenced(v, found)),
        Value::Object(map) => map.values().for_each(|v| referenced(v, found)),
        _ => {}
    }
}

#[test]
fn the_recommendations_block_offers_every_strategy_and_its_strings_exist_in_every_language() {
    let root = extension();
    let block = std::fs::read_to_string(root.join("blocks/recommendations.liquid")).unwrap();
    let schema = schema_of(&block);
    assert_eq!(schema["target"], "section");
    let settings = schema["settings"].as_array().unwrap();
    let strategy = settings
        .iter()
        .find(|s| s["id"] == "strategy")
        .expect("a strategy setting");
    let options: BTreeSet<&str> = strategy["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["value"].as_str().unwrap())
        .collect();
    for strategy in kindred::recommend::strategies::Strategy::ALL {
        let name = strategy.as_str();
        assert!(options.contains(name), "strategy option {name} missing");
    }
    let product = settings
        .iter()
        .find(|s| s["type"] == "product")
        .expect("a product setting");
    assert_eq!(product["autofill"], true);

    let embed = schema_of(&std::fs::read_to_string(root.join("blocks/tracking.liquid")).unwrap());
    assert_eq!(embed["target"], "body");

    let mut wanted = BTreeSet::new();
    referenced(&schema, &mut wanted);
    referenced(&embed, &mut wanted);
    assert!(!wanted.is_empty());
    let mut languages = 0;
    for path in files(&root.join("locales")) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".schema.json") {
            continue;
        }
        languages += 1;
        let mut keys = BTreeSet::new();
        translation_keys(
            &serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap(),
            "",
            &mut keys,
        );
        let missing: Vec<&String> = wanted.difference(&keys).collect();
        assert!(missing.is_empty(), "{name} lacks {missing:?}");
    }
    assert!(languages >= 2, "English and at least one more language");
}
