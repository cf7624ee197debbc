//! A product JSON file in any of the shapes merchants export: a product, a list, or
//! `{"products": [...]}`, from any bytes. Every product read has an id and a title.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(document) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    for product in kindred::catalog::read_json_document(&document, "fuzz")
        .into_iter()
        .flatten()
    {
        assert!(product.id > 0, "a product without an id: {document}");
        assert!(!product.title.trim().is_empty(), "a product without a title: {document}");
    }
});
