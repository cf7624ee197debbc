//! A signed webhook body under each topic: the first line names the topic (as the
//! `X-Shopify-Topic` header does), the rest is the body. It is refused at the door or read by the parser that applies it, never a panic;
//! a body the door lets in is one the applier can read.
#![no_main]

use kindred::shopify::orders::payload::{order_from_webhook, refund_from};
use kindred::shopify::webhooks::Topic;
use libfuzzer_sys::fuzz_target;

const SHOP: &str = "fuzz-shop.myshopify.com";

fuzz_target!(|data: &[u8]| {
    let Some(newline) = data.iter().position(|&b| b == b'\n') else {
        return;
    };
    let (name, body) = (&data[..newline], &data[newline + 1..]);
    let Some(topic) = std::str::from_utf8(name).ok().and_then(Topic::parse) else {
        return;
    };
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(body) else {
        return;
    };
    if topic.check_body(&body, SHOP).is_err() {
        return;
    }
    match topic {
        Topic::ProductsCreate | Topic::ProductsUpdate => {
            let _ = kindred::catalog::product_from_json(&body);
        }
        Topic::OrdersCreate | Topic::OrdersUpdated | Topic::OrdersCancelled => {
            assert!(order_from_webhook(&body).is_ok(), "{topic} let in an unreadable order");
        }
        Topic::RefundsCreate => {
            assert!(refund_from(&body, None).is_ok(), "{topic} let in an unreadable refund");
        }
        _ => {}
    }
});
