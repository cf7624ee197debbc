//! A Shopify product CSV export from any bytes: rows read or skipped, never a panic, and
//! every product read has an id and a title.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for product in kindred::catalog::read_csv(data, "fuzz").into_iter().flatten() {
        assert!(product.id > 0, "a product without an id");
        assert!(!product.title.trim().is_empty(), "a product without a title");
    }
});
