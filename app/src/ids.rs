//! Ids parsed once at the edge: Shopify's numeric ids in every shape they arrive in, the
//! storefront's anonymous client id, and the customer id a signed source vouched for.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// A Shopify id as text: `123` or `gid://shopify/Type/123`. Shopify's ids are positive
/// and fit a signed 64-bit column; anything else is not one. The one reader of them all.
pub fn shopify_id_text(raw: &str) -> Option<u64> {
    let digits = raw.trim().rsplit('/').next()?;
    digits
        .parse::<u64>()
        .ok()
        .filter(|id| *id > 0 && *id <= i64::MAX as u64)
}

/// A Shopify id in JSON: a number (ids exceed 2^53, so a parser must keep them whole), a
/// string, or a global id.
pub fn shopify_id(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64().filter(|id| *id > 0 && *id <= i64::MAX as u64),
        Value::String(s) => shopify_id_text(s),
        _ => None,
    }
}

/// The anonymous browser id the storefront script keeps (or a headless frontend chooses).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    pub const MAX_LEN: usize = 128;

    /// Trimmed; 1 to 128 bytes, none of them a control character.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let id = raw.trim();
        if id.is_empty() || id.len() > Self::MAX_LEN || id.chars().any(char::is_control) {
            return Err(format!(
                "`client_id` must be 1 to {} printable characters",
                Self::MAX_LEN
            ));
        }
        Ok(Self(id.to_owned()))
    }

    /// An id the database holds: it was parsed when it was stored.
    pub(crate) fn stored(id: String) -> Self {
        Self(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Shopify customer, as a signed source (the App Proxy, a merchant key, a customer token)
/// named them; never taken from a shopper's own word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct CustomerId(pub u64);

impl CustomerId {
    /// `7` or `gid://shopify/Customer/7`.
    pub fn parse(raw: &str) -> Option<Self> {
        shopify_id_text(raw).map(Self)
    }
}

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Whose purchases: the customer a signed source named, else the browser they bought in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Buyer {
    Customer(CustomerId),
    Client(ClientId),
}

impl Buyer {
    /// The shopper of a request (or of a stored event) as a buyer, if they are known at all.
    pub fn of(customer: Option<CustomerId>, client: Option<&ClientId>) -> Option<Self> {
        match (customer, client) {
            (Some(customer), _) => Some(Self::Customer(customer)),
            (None, Some(client)) => Some(Self::Client(client.clone())),
            (None, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shopify_ids_are_read_in_every_shape_and_only_in_range() {
        for good in [
            json!(7982927872151u64),
            json!("7982927872151"),
            json!(" 7982927872151 "),
            json!("gid://shopify/Product/7982927872151"),
        ] {
            assert_eq!(shopify_id(&good), Some(7_982_927_872_151), "{good}");
        }
        let big = json!(9_223_372_036_854_775_807u64);
        assert_eq!(shopify_id(&big), Some(i64::MAX as u64));
        for bad in [
            json!(0),
            json!(-3),
            json!(1.5),
            json!("12.5"),
            json!("18446744073709551615"),
            json!("gid://shopify/Product/"),
            json!(true),
        ] {
            assert_eq!(shopify_id(&bad), None, "{bad}");
        }
    }

    #[test]
    fn client_ids_are_trimmed_printable_and_bounded() {
        assert_eq!(ClientId::parse("  c1 ").unwrap().as_str(), "c1");
        assert!(ClientId::parse("x".repeat(128).as_str()).is_ok());
        assert!(ClientId::parse("x".repeat(129).as_str()).is_err());
        assert!(ClientId::parse("   ").is_err());
        assert!(ClientId::parse("a\nb").is_err());
    }
}
