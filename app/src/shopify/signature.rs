//! Shopify's HMAC-SHA256 signatures, checked in constant time against the current app
//! secret and, during a rotation, the previous one.
//!
//! - Webhooks: base64 of the HMAC of the raw body, in `X-Shopify-Hmac-Sha256`.
//! - OAuth redirects: hex HMAC of the query without `hmac`, pairs sorted and joined by `&`.
//! - App proxy requests: hex HMAC of the query without `signature`, pairs sorted and
//!   concatenated with no separator, repeated values joined by `,`.

use std::collections::BTreeMap;
use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// A secret that never shows in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl std::str::FromStr for Secret {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

/// The app's client secret, and the previous one while a rotation is under way.
#[derive(Clone, Debug)]
pub struct AppSecrets {
    current: Secret,
    previous: Option<Secret>,
}

impl AppSecrets {
    pub fn new(current: Secret, previous: Option<Secret>) -> Self {
        Self { current, previous }
    }

    /// The secret used when Kindred itself talks to Shopify.
    pub fn current(&self) -> &Secret {
        &self.current
    }

    /// Every secret a signature may have been made with, current first.
    pub fn all(&self) -> impl Iterator<Item = &Secret> {
        std::iter::once(&self.current).chain(self.previous.as_ref())
    }

    /// Checks `X-Shopify-Hmac-Sha256` against the raw body.
    pub fn verify_webhook(&self, body: &[u8], header: &str) -> bool {
        let Ok(tag) = BASE64.decode(header.trim()) else {
            return false;
        };
        self.all().any(|secret| verify(secret, body, &tag))
    }

    /// Checks the `hmac` parameter of an OAuth redirect (install callback, admin launch).
    pub fn verify_oauth_query(&self, pairs: &[(String, String)]) -> bool {
        let Some(tag) = single_value(pairs, "hmac").and_then(|h| hex::decode(h).ok()) else {
            return false;
        };
        let message = oauth_message(pairs);
        self.all()
            .any(|secret| verify(secret, message.as_bytes(), &tag))
    }

    /// Checks the `signature` parameter of an app proxy request.
    pub fn verify_app_proxy_query(&self, pairs: &[(String, String)]) -> bool {
        let Some(tag) = single_value(pairs, "signature").and_then(|h| hex::decode(h).ok()) else {
            return false;
        };
        let message = app_proxy_message(pairs);
        self.all()
            .any(|secret| verify(secret, message.as_bytes(), &tag))
    }
}

fn verify(secret: &Secret, message: &[u8], tag: &[u8]) -> bool {
    let Ok(mut mac) = HmacSha256::new_from_slice(secret.expose().as_bytes()) else {
        return false;
    };
    mac.update(message);
    // `verify_slice` compares in constant time.
    mac.verify_slice(tag).is_ok()
}

/// The one value of `name`; `None` when it is absent or repeated (a repeated signature is forged).
pub fn single_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let mut values = pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str());
    let first = values.next()?;
    values.next().is_none().then_some(first)
}

/// The signed message of an OAuth redirect, as Shopify builds it: every pair but `hmac`
/// (and the legacy `signature`), `%`, `&` (and `=` in keys) escaped, sorted by key, repeated
/// keys as a list `["a", "b"]`, joined by `&`.
pub fn oauth_message(pairs: &[(String, String)]) -> String {
    let escape_value = |v: &str| v.replace('%', "%25").replace('&', "%26");
    let escape_key = |k: &str| escape_value(k).replace('=', "%3D");
    let grouped = group(pairs, &["hmac", "signature"]);
    grouped
        .iter()
        .map(|(key, values)| {
            let value = match values.as_slice() {
                [one] => escape_value(one),
                many => format!(
                    "[{}]",
                    many.iter()
                        .map(|v| format!("\"{}\"", escape_value(v)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            format!("{}={value}", escape_key(key))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The signed message of an app proxy request: every pair but `signature`, repeated values
/// joined by `,`, the `key=value` strings sorted and concatenated with no separator. The
/// strings are sorted, not the keys: `a1=…` comes before `a=…`, as in Shopify's own example.
pub fn app_proxy_message(pairs: &[(String, String)]) -> String {
    let mut joined: Vec<String> = group(pairs, &["signature"])
        .iter()
        .map(|(key, values)| format!("{key}={}", values.join(",")))
        .collect();
    joined.sort();
    joined.concat()
}

fn group<'a>(pairs: &'a [(String, String)], skip: &[&str]) -> BTreeMap<&'a str, Vec<&'a str>> {
    let mut grouped: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (key, value) in pairs {
        if !skip.contains(&key.as_str()) {
            grouped.entry(key).or_default().push(value);
        }
    }
    grouped
}

/// Signs a message the way Shopify does (base64), for Kindred's own tools and tests.
pub fn base64_hmac(secret: &Secret, message: &[u8]) -> String {
    BASE64.encode(raw_hmac(secret, message))
}

/// Signs a message the way Shopify does (hex).
pub fn hex_hmac(secret: &Secret, message: &[u8]) -> String {
    hex::encode(raw_hmac(secret, message))
}

fn raw_hmac(secret: &Secret, message: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(raw: &[(&str, &str)]) -> Vec<(String, String)> {
        raw.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn webhook_signatures_accept_current_and_previous_secret_only() {
        let body = br#"{"id":788032119674292922}"#;
        let old = Secret::new("old-secret");
        let new = Secret::new("new-secret");
        let secrets = AppSecrets::new(new.clone(), Some(old.clone()));
        assert!(secrets.verify_webhook(body, &base64_hmac(&new, body)));
        assert!(secrets.verify_webhook(body, &base64_hmac(&old, body)));
        assert!(!secrets.verify_webhook(body, &base64_hmac(&Secret::new("other"), body)));
        assert!(!secrets.verify_webhook(b"{\"id\":1}", &base64_hmac(&new, body)));
        assert!(!secrets.verify_webhook(body, "not base64!"));
        assert!(!secrets.verify_webhook(body, ""));
        let only_new = AppSecrets::new(new, None);
        assert!(!only_new.verify_webhook(body, &base64_hmac(&old, body)));
    }

    /// The example from Shopify's OAuth documentation.
    #[test]
    fn oauth_hmac_matches_shopifys_documented_example() {
        let query = pairs(&[
            ("code", "0907a61c0c8d55e99db179b68161bc00"),
            (
                "hmac",
                "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf",
            ),
            ("shop", "some-shop.myshopify.com"),
            ("state", "0.6784241404160823"),
            ("timestamp", "1337178173"),
        ]);
        assert_eq!(
            oauth_message(&query),
            "code=0907a61c0c8d55e99db179b68161bc00&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173"
        );
        let secrets = AppSecrets::new(Secret::new("hush"), None);
        assert!(secrets.verify_oauth_query(&query));
        let mut tampered = query.clone();
        tampered[2].1 = "other-shop.myshopify.com".into();
        assert!(!secrets.verify_oauth_query(&tampered));
        let mut doubled = query.clone();
        doubled.push(("hmac".into(), query[1].1.clone()));
        assert!(!secrets.verify_oauth_query(&doubled));
    }

    #[test]
    fn oauth_message_escapes_and_lists_repeated_keys() {
        let query = pairs(&[("b", "x&y%"), ("a=", "1"), ("ids[]", "2"), ("ids[]", "3")]);
        assert_eq!(
            oauth_message(&query),
            "a%3D=1&b=x%26y%25&ids[]=[\"2\", \"3\"]"
        );
    }

    #[test]
    fn app_proxy_message_joins_repeats_with_commas() {
        let query = pairs(&[
            ("shop", "a.myshopify.com"),
            ("extra", "1"),
            ("extra", "2"),
            ("path_prefix", "/apps/kindred"),
            ("signature", "x"),
            ("timestamp", "1317327555"),
        ]);
        assert_eq!(
            app_proxy_message(&query),
            "extra=1,2path_prefix=/apps/kindredshop=a.myshopify.comtimestamp=1317327555"
        );
        let prefixed = pairs(&[("a", "x"), ("a1", "y")]);
        assert_eq!(app_proxy_message(&prefixed), "a1=ya=x");
    }

    /// The example of Shopify's app proxy documentation.
    #[test]
    fn app_proxy_signature_matches_shopifys_documented_example() {
        let query = pairs(&[
            ("extra", "1"),
            ("extra", "2"),
            ("shop", "shop-name.myshopify.com"),
            ("path_prefix", "/apps/awesome_reviews"),
            ("timestamp", "1317327555"),
            (
                "signature",
                "a9718877bea71c2484f91608a7eaea1532bdf71f5c56825065fa4ccabe549ef3",
            ),
        ]);
        assert!(AppSecrets::new(Secret::new("hush"), None).verify_app_proxy_query(&query));
    }
}
