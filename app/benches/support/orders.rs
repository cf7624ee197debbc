//! Order histories for the benchmarks that need a busy shop: real baskets (the Online Retail
//! customers' invoices as orders of the catalogue's products) repeated to any size. Included
//! beside `tests/e2e/retail_orders.rs`.

/// `count` orders of real baskets: the retail customers' orders, repeated under new ids.
pub fn repeated_orders(
    catalogue: &[serde_json::Value],
    count: usize,
    first_id: u64,
) -> Vec<serde_json::Value> {
    let base = crate::retail_orders::retail_orders(catalogue, 400, chrono::Utc::now());
    (0..count)
        .map(|n| {
            let round = (n / base.len()) as u64;
            let mut order = base[n % base.len()].clone();
            let id = first_id + n as u64;
            order["id"] = serde_json::json!(id);
            order["customer"]["id"] =
                serde_json::json!(order["customer"]["id"].as_u64().unwrap() + round * 1_000_000);
            for (i, line) in order["line_items"]
                .as_array_mut()
                .unwrap()
                .iter_mut()
                .enumerate()
            {
                line["id"] = serde_json::json!(id * 100 + i as u64);
            }
            order
        })
        .collect()
}
