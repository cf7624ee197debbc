//! The App Proxy's query string from any bytes, verified as the proxy route does. The
//! first byte says whether to sign the decoded pairs correctly first, so the fuzzer reaches
//! the checks behind the signature (shop, time, repeated parameters) as well as the
//! signature itself.
#![no_main]

use kindred::shopify::app_proxy;
use kindred::shopify::signature::{app_proxy_message, hex_hmac};
use kindred::shopify::{AppSecrets, Secret};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "fuzz-app-secret";
const NOW_SECS: i64 = 1_767_000_000;

fuzz_target!(|data: &[u8]| {
    let Some((&sign, query)) = data.split_first() else {
        return;
    };
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let secrets = AppSecrets::new(Secret::new(SECRET), None);
    if sign % 2 == 1 {
        pairs.retain(|(k, _)| k != "signature");
        let signature = hex_hmac(&Secret::new(SECRET), app_proxy_message(&pairs).as_bytes());
        pairs.push(("signature".into(), signature));
    }
    if let Ok(proxied) = app_proxy::verify(&secrets, &pairs, NOW_SECS) {
        // Believed only when the query named that shop (domains compare without case).
        let named = pairs
            .iter()
            .any(|(k, v)| k == "shop" && v.trim().eq_ignore_ascii_case(proxied.shop.as_str()));
        assert!(named, "verified a shop the query did not name: {pairs:?}");
    }
});
