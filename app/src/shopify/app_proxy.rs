//! Requests that reach Kindred through Shopify's App Proxy (`/apps/kindred/...` on the
//! shop's own domain, forwarded to `/proxy/...`). Shopify signs the query; only a request
//! with a good signature, a fresh timestamp and one value of each signed parameter is
//! trusted, and only then is its `logged_in_customer_id` believed.

use super::signature::{single_value, AppSecrets};
use crate::domain::{CustomerId, ShopDomain};

/// Shopify's own libraries refuse app proxy requests signed more than 90 seconds away.
pub const MAX_CLOCK_DIFFERENCE_SECS: i64 = 90;

/// The parameters Shopify adds; everything else is the storefront script's.
const SHOPIFY_PARAMETERS: [&str; 5] = [
    "shop",
    "logged_in_customer_id",
    "path_prefix",
    "timestamp",
    "signature",
];

/// A request Shopify vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxiedRequest {
    pub shop: ShopDomain,
    /// The customer logged in to the storefront; `None` for a guest.
    pub customer_id: Option<CustomerId>,
    /// The storefront's own parameters, in order, Shopify's taken out.
    pub parameters: Vec<(String, String)>,
}

/// Why a proxied request was refused. Signature problems are 401s, the rest 403s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyRefusal {
    #[error("the `signature` parameter is missing")]
    MissingSignature,
    #[error("the `{0}` parameter appears more than once")]
    Repeated(&'static str),
    #[error("the signature does not match the request")]
    BadSignature,
    #[error("the `timestamp` parameter is missing or not a number")]
    MissingTimestamp,
    #[error("the request was signed {0} s away from now (at most {MAX_CLOCK_DIFFERENCE_SECS} s); it may be a replay")]
    Stale(i64),
    #[error("the `shop` parameter is missing or not a shop domain")]
    BadShop,
    #[error("`logged_in_customer_id` is not a customer id")]
    BadCustomer,
}

impl ProxyRefusal {
    /// A signature that is absent or wrong means "who are you" (401); a signed request
    /// that is malformed or too old is refused (403).
    pub fn is_authentication_failure(&self) -> bool {
        matches!(self, Self::MissingSignature | Self::BadSignature)
    }
}

impl From<ProxyRefusal> for crate::error::AppError {
    fn from(refusal: ProxyRefusal) -> Self {
        if refusal.is_authentication_failure() {
            Self::ProxyUnsigned(refusal.to_string())
        } else {
            Self::ProxyRefused(refusal.to_string())
        }
    }
}

/// Verifies a proxied query (as decoded pairs, in order) at `now_secs`.
pub fn verify(
    secrets: &AppSecrets,
    pairs: &[(String, String)],
    now_secs: i64,
) -> Result<ProxiedRequest, ProxyRefusal> {
    // A repeated signed parameter would let a forger add a second `shop` that the signed
    // message joins with the first; refuse before anything else.
    for name in ["signature", "shop", "timestamp", "logged_in_customer_id"] {
        if pairs.iter().filter(|(k, _)| k == name).count() > 1 {
            return Err(ProxyRefusal::Repeated(name));
        }
    }
    if single_value(pairs, "signature").is_none() {
        return Err(ProxyRefusal::MissingSignature);
    }
    if !secrets.verify_app_proxy_query(pairs) {
        return Err(ProxyRefusal::BadSignature);
    }
    let timestamp: i64 = single_value(pairs, "timestamp")
        .and_then(|t| t.parse().ok())
        .ok_or(ProxyRefusal::MissingTimestamp)?;
    let difference = (now_secs - timestamp).abs();
    if difference > MAX_CLOCK_DIFFERENCE_SECS {
        return Err(ProxyRefusal::Stale(difference));
    }
    let shop = single_value(pairs, "shop")
        .and_then(|s| ShopDomain::parse(s).ok())
        .ok_or(ProxyRefusal::BadShop)?;
    // Shopify sends the parameter empty for a guest.
    let customer_id = match single_value(pairs, "logged_in_customer_id").map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(CustomerId::parse(raw).ok_or(ProxyRefusal::BadCustomer)?),
    };
    let parameters = pairs
        .iter()
        .filter(|(k, _)| !SHOPIFY_PARAMETERS.contains(&k.as_str()))
        .cloned()
        .collect();
    Ok(ProxiedRequest {
        shop,
        customer_id,
        parameters,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shopify::signature::{app_proxy_message, hex_hmac, Secret};

    const NOW: i64 = 1_790_000_000;

    fn signed(secret: &str, raw: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = raw
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let signature = hex_hmac(&Secret::new(secret), app_proxy_message(&pairs).as_bytes());
        pairs.push(("signature".into(), signature));
        pairs
    }

    fn secrets() -> AppSecrets {
        AppSecrets::new(Secret::new("hush"), Some(Secret::new("old")))
    }

    #[test]
    fn a_signed_fresh_request_names_its_shop_customer_and_parameters() {
        let now = NOW.to_string();
        let pairs = signed(
            "hush",
            &[
                ("strategy", "similar"),
                ("shop", "yoga.myshopify.com"),
                ("logged_in_customer_id", "7"),
                ("path_prefix", "/apps/kindred"),
                ("timestamp", &now),
                ("ids", "1"),
                ("ids", "2"),
            ],
        );
        let request = verify(&secrets(), &pairs, NOW + 30).unwrap();
        assert_eq!(request.shop.as_str(), "yoga.myshopify.com");
        assert_eq!(request.customer_id, Some(CustomerId(7)));
        assert_eq!(
            request.parameters,
            [("strategy", "similar"), ("ids", "1"), ("ids", "2")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        // The previous secret still works during a rotation; a guest has no customer.
        let guest = signed(
            "old",
            &[
                ("shop", "yoga.myshopify.com"),
                ("logged_in_customer_id", ""),
                ("timestamp", &now),
            ],
        );
        assert_eq!(verify(&secrets(), &guest, NOW).unwrap().customer_id, None);
    }

    #[test]
    fn forged_stale_and_ambiguous_requests_are_refused() {
        let now = NOW.to_string();
        let good = signed(
            "hush",
            &[("shop", "yoga.myshopify.com"), ("timestamp", &now)],
        );
        let mut tampered = good.clone();
        tampered[0].1 = "other.myshopify.com".into();
        assert_eq!(
            verify(&secrets(), &tampered, NOW),
            Err(ProxyRefusal::BadSignature)
        );
        let wrong_secret = signed(
            "guess",
            &[("shop", "yoga.myshopify.com"), ("timestamp", &now)],
        );
        assert_eq!(
            verify(&secrets(), &wrong_secret, NOW),
            Err(ProxyRefusal::BadSignature)
        );
        assert_eq!(
            verify(&secrets(), &good, NOW + 91),
            Err(ProxyRefusal::Stale(91))
        );
        assert_eq!(
            verify(&secrets(), &good, NOW - 91),
            Err(ProxyRefusal::Stale(91))
        );
        assert!(verify(&secrets(), &good, NOW + 90).is_ok());
        assert_eq!(
            verify(&secrets(), &good[..1], NOW),
            Err(ProxyRefusal::MissingSignature)
        );
        // A second shop after signing: `shop=a,b` would be what was signed, so refuse outright.
        let mut second_shop = good.clone();
        second_shop.push(("shop".into(), "other.myshopify.com".into()));
        assert_eq!(
            verify(&secrets(), &second_shop, NOW),
            Err(ProxyRefusal::Repeated("shop"))
        );
        let mut second_signature = good.clone();
        second_signature.push(good[2].clone());
        assert_eq!(
            verify(&secrets(), &second_signature, NOW),
            Err(ProxyRefusal::Repeated("signature"))
        );
        let no_time = signed("hush", &[("shop", "yoga.myshopify.com")]);
        assert_eq!(
            verify(&secrets(), &no_time, NOW),
            Err(ProxyRefusal::MissingTimestamp)
        );
        let not_a_shop = signed("hush", &[("shop", "evil.com"), ("timestamp", &now)]);
        assert_eq!(
            verify(&secrets(), &not_a_shop, NOW),
            Err(ProxyRefusal::BadShop)
        );
    }
}
