//! Webhooks: the topics Kindred subscribes to and a delivery's headers (here), its receipt
//! (`receipt`), the inbox worker (`inbox`) and what each topic does (`apply`).

mod apply;
mod inbox;
mod receipt;
mod topic;

use crate::domain::ShopDomain;
use crate::error::AppError;
pub use topic::Topic;

/// Longest webhook or event id accepted (Shopify's are UUIDs).
const MAX_ID_LEN: usize = 200;

/// The headers of a delivery that say what it is.
#[derive(Debug, Clone)]
pub struct DeliveryHeaders {
    pub hmac: String,
    pub topic: Topic,
    pub shop: ShopDomain,
    pub webhook_id: String,
    pub event_id: Option<String>,
    pub api_version: Option<String>,
    pub triggered_at: Option<String>,
}

impl DeliveryHeaders {
    /// Only the signature is read first: nothing else is trusted until it is checked.
    pub fn hmac<'a>(headers: &impl HeaderLookup<'a>) -> Result<&'a str, AppError> {
        text(headers, "x-shopify-hmac-sha256").ok_or(AppError::InvalidSignature(
            "X-Shopify-Hmac-Sha256 is missing".into(),
        ))
    }

    pub fn read<'a>(headers: &impl HeaderLookup<'a>) -> Result<Self, AppError> {
        let required =
            |name: &'static str| text(headers, name).ok_or(AppError::MissingHeader(name));
        let id = |name: &'static str, value: &str| {
            if value.len() > MAX_ID_LEN {
                Err(AppError::InvalidInput(format!(
                    "`{name}` is longer than {MAX_ID_LEN} characters"
                )))
            } else {
                Ok(value.to_owned())
            }
        };
        Ok(Self {
            hmac: Self::hmac(headers)?.to_owned(),
            topic: Topic::parse(required("x-shopify-topic")?)
                .ok_or_else(|| unknown_topic(headers))?,
            shop: ShopDomain::parse(required("x-shopify-shop-domain")?)?,
            webhook_id: id("x-shopify-webhook-id", required("x-shopify-webhook-id")?)?,
            event_id: text(headers, "x-shopify-event-id")
                .map(|e| id("x-shopify-event-id", e))
                .transpose()?,
            api_version: text(headers, "x-shopify-api-version").map(str::to_owned),
            triggered_at: text(headers, "x-shopify-triggered-at").map(str::to_owned),
        })
    }
}

fn unknown_topic<'a>(headers: &impl HeaderLookup<'a>) -> AppError {
    let topic = text(headers, "x-shopify-topic").unwrap_or_default();
    AppError::UnknownTopic(topic.chars().take(100).collect())
}

/// A request's headers by (lower-case) name, as the HTTP layer reads them: the domain
/// reads a delivery without knowing the server's types.
pub trait HeaderLookup<'a> {
    fn header(&self, name: &str) -> Option<&'a str>;
}

fn text<'a>(headers: &impl HeaderLookup<'a>, name: &str) -> Option<&'a str> {
    headers
        .header(name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
}
