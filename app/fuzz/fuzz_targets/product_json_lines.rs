//! A JSON-lines catalogue from any bytes: a bad line is one skipped record, never a panic,
//! and never more records than lines.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let records = kindred::catalog::read_json_lines(data, "fuzz");
    let lines = String::from_utf8_lossy(data).lines().count();
    assert!(records.len() <= lines, "{} records from {lines} lines", records.len());
});
