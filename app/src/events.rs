//! Shopper events: what the storefront script, a Shopify web pixel or a headless frontend
//! reports (views, cart changes, checkouts, searches, collection views), validated one by
//! one so a bad event is refused with its reason and the rest of its batch is kept.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::{ClientId, CustomerId};

/// Most events in one batch.
pub const MAX_BATCH: usize = 100;
/// A shopper's history as the strategies read it: their latest events, at most this many,
/// so a shopper with a long (or forged) past costs what any other does.
pub const MAX_HISTORY_EVENTS: usize = 500;
const MAX_ID_LEN: usize = 128;
const MAX_QUERY_LEN: usize = 200;
const MAX_LABEL_LEN: usize = 40;
const MAX_LINE_ITEMS: usize = 100;
/// Events older than this are refused (a device whose queue held them too long).
const MAX_AGE_MS: i64 = 7 * 24 * 3600 * 1000;
/// Clocks run ahead; more than this is an error.
const MAX_SKEW_MS: i64 = 5 * 60 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    ProductViewed,
    ProductAddedToCart,
    ProductRemovedFromCart,
    CheckoutCompleted,
    SearchSubmitted,
    CollectionViewed,
    RecommendationViewed,
    RecommendationClicked,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProductViewed => "product_viewed",
            Self::ProductAddedToCart => "product_added_to_cart",
            Self::ProductRemovedFromCart => "product_removed_from_cart",
            Self::CheckoutCompleted => "checkout_completed",
            Self::SearchSubmitted => "search_submitted",
            Self::CollectionViewed => "collection_viewed",
            Self::RecommendationViewed => "recommendation_viewed",
            Self::RecommendationClicked => "recommendation_clicked",
        }
    }

    /// Whether the event says what the shopper wants (as opposed to how a recommendation did).
    pub fn is_shopper_intent(self) -> bool {
        !matches!(
            self,
            Self::RecommendationViewed | Self::RecommendationClicked
        )
    }

    /// What a page both the theme embed and the web pixel see reports through each: a
    /// view, a collection view, a search, a cart addition.
    pub fn seen_by_page_and_pixel(self) -> bool {
        matches!(
            self,
            Self::ProductViewed
                | Self::CollectionViewed
                | Self::SearchSubmitted
                | Self::ProductAddedToCart
        )
    }

    fn parse(raw: &str) -> Option<Self> {
        serde_json::from_value(Value::String(raw.to_owned())).ok()
    }
}

/// Who vouched for an event, and so whether its customer id is believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventSource {
    /// The public storefront key: anonymous; a customer id it claims is dropped.
    Storefront,
    /// Shopify's App Proxy, which signs the logged-in customer.
    AppProxy,
    /// The shop's own server, with its secret merchant key.
    Merchant,
    /// A browser holding a customer token the shop's server minted.
    CustomerToken,
    /// The shop's web pixel (its public key): anonymous like the storefront; its checkouts
    /// name an order and only link that order to the browser.
    Pixel,
}

impl EventSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Storefront => "storefront",
            Self::AppProxy => "app_proxy",
            Self::Merchant => "merchant",
            Self::CustomerToken => "customer_token",
            Self::Pixel => "pixel",
        }
    }

    /// Stored events read back; events from before provenance was kept have none.
    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Storefront,
            Self::AppProxy,
            Self::Merchant,
            Self::CustomerToken,
            Self::Pixel,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// A bought line of a completed checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    pub product_id: u64,
    pub quantity: u32,
}

/// A validated event, ready to store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShopperEvent {
    pub event_id: String,
    pub client_id: ClientId,
    pub customer_id: Option<CustomerId>,
    pub kind: EventKind,
    pub product_id: Option<u64>,
    pub collection_id: Option<u64>,
    pub search_query: Option<String>,
    pub line_items: Vec<LineItem>,
    /// recommendation_viewed / _clicked: the strategy that produced the item.
    pub strategy: Option<String>,
    /// recommendation_viewed / _clicked: where the shelf was (the theme's page type, or what
    /// a headless frontend names).
    pub placement: Option<String>,
    /// Milliseconds since the epoch.
    pub occurred_at: i64,
    /// Who vouched for it; `None` for events stored before that was kept.
    pub source: Option<EventSource>,
    /// checkout_completed: the Shopify order it became, when the sender knows (the web pixel).
    pub order_id: Option<u64>,
    /// checkout_completed: Shopify's checkout token, which the order carries too: an event
    /// links its browser to an order only when both agree.
    pub checkout_token: Option<String>,
}

/// Reads one event of a batch. `fallback_id` names it when the sender gave no id.
pub fn parse_event(
    raw: &Value,
    now_ms: i64,
    fallback_id: impl FnOnce() -> String,
) -> Result<ShopperEvent, String> {
    let object = raw.as_object().ok_or("an event must be a JSON object")?;
    let text = |name: &str| object.get(name).filter(|v| !v.is_null());
    let kind = parse_kind(text("type"))?;
    let client_id = parse_client_id(text("client_id"))?;
    let event_id = match bounded_id(text("id"), "id")? {
        Some(id) => id,
        None => fallback_id(),
    };
    let id_of = |name: &'static str| text(name).map(|v| numeric_id(v, name)).transpose();
    let event = ShopperEvent {
        event_id,
        client_id,
        customer_id: id_of("customer_id")?.map(CustomerId),
        kind,
        product_id: id_of("product_id")?,
        collection_id: id_of("collection_id")?,
        search_query: text("query").map(parse_query).transpose()?,
        line_items: text("line_items")
            .map(parse_line_items)
            .transpose()?
            .unwrap_or_default(),
        strategy: text("strategy")
            .map(|v| parse_label(v, "strategy"))
            .transpose()?,
        placement: text("placement")
            .map(|v| parse_label(v, "placement"))
            .transpose()?,
        occurred_at: parse_occurred_at(text("occurred_at"), now_ms)?,
        source: None,
        order_id: id_of("order_id")?,
        checkout_token: bounded_id(text("checkout_token"), "checkout_token")?,
    };
    check_needs(&event)?;
    Ok(event)
}

fn parse_kind(raw: Option<&Value>) -> Result<EventKind, String> {
    let raw = raw.and_then(Value::as_str).ok_or("`type` is required")?;
    EventKind::parse(raw).ok_or_else(|| {
        format!(
            "`type` `{}` is not one of product_viewed, product_added_to_cart, product_removed_from_cart, checkout_completed, search_submitted, collection_viewed, recommendation_viewed, recommendation_clicked",
            raw.chars().take(40).collect::<String>()
        )
    })
}

fn parse_query(value: &Value) -> Result<String, String> {
    let query = value.as_str().ok_or("`query` must be a string")?.trim();
    if query.is_empty() || query.chars().count() > MAX_QUERY_LEN {
        return Err(format!("`query` must be 1 to {MAX_QUERY_LEN} characters"));
    }
    Ok(query.to_owned())
}

fn parse_line_items(value: &Value) -> Result<Vec<LineItem>, String> {
    let items = value.as_array().ok_or("`line_items` must be an array")?;
    if items.len() > MAX_LINE_ITEMS {
        return Err(format!("at most {MAX_LINE_ITEMS} `line_items`"));
    }
    items
        .iter()
        .map(|item| {
            let product_id = item
                .get("product_id")
                .ok_or_else(|| "each line item needs `product_id`".to_owned())
                .and_then(|v| numeric_id(v, "line_items[].product_id"))?;
            let quantity = match item.get("quantity") {
                None => 1,
                Some(q) => q
                    .as_u64()
                    .filter(|q| (1..=10_000).contains(q))
                    .ok_or("`quantity` must be a whole number from 1 to 10000")?
                    as u32,
            };
            Ok(LineItem {
                product_id,
                quantity,
            })
        })
        .collect()
}

/// A strategy or a placement: a short lower-case label, so reports group what was sent.
pub fn parse_label(value: &Value, name: &str) -> Result<String, String> {
    let label = value
        .as_str()
        .ok_or_else(|| format!("`{name}` must be a string"))?;
    well_formed_label(label).map(str::to_owned).ok_or_else(|| {
        format!("`{name}` must be 1 to {MAX_LABEL_LEN} characters of a-z, 0-9 and _")
    })
}

/// The label trimmed, when it is 1 to 40 characters of a-z, 0-9 and _.
pub fn well_formed_label(raw: &str) -> Option<&str> {
    let label = raw.trim();
    let well_formed = !label.is_empty()
        && label.len() <= MAX_LABEL_LEN
        && label
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    well_formed.then_some(label)
}

/// When it happened: now when unsaid, else an RFC 3339 time within the last week.
fn parse_occurred_at(value: Option<&Value>, now_ms: i64) -> Result<i64, String> {
    let occurred_at = match value {
        None => now_ms,
        Some(v) => {
            let raw = v.as_str().ok_or("`occurred_at` must be an RFC 3339 time")?;
            chrono::DateTime::parse_from_rfc3339(raw)
                .map_err(|_| {
                    format!(
                        "`occurred_at` `{}` is not an RFC 3339 time",
                        raw.chars().take(40).collect::<String>()
                    )
                })?
                .timestamp_millis()
        }
    };
    if occurred_at < now_ms - MAX_AGE_MS || occurred_at > now_ms + MAX_SKEW_MS {
        return Err("`occurred_at` must be within the last 7 days (and not in the future)".into());
    }
    Ok(occurred_at)
}

/// What each kind needs.
fn check_needs(event: &ShopperEvent) -> Result<(), String> {
    let kind = event.kind;
    match kind {
        EventKind::ProductViewed
        | EventKind::ProductAddedToCart
        | EventKind::ProductRemovedFromCart
        | EventKind::RecommendationViewed
        | EventKind::RecommendationClicked
            if event.product_id.is_none() =>
        {
            Err(format!("`{}` needs `product_id`", kind.as_str()))
        }
        EventKind::CheckoutCompleted if event.line_items.is_empty() => {
            Err("`checkout_completed` needs `line_items`".into())
        }
        _ if kind != EventKind::CheckoutCompleted
            && (event.order_id.is_some() || event.checkout_token.is_some()) =>
        {
            Err("only `checkout_completed` names an `order_id` or a `checkout_token`".into())
        }
        EventKind::SearchSubmitted if event.search_query.is_none() => {
            Err("`search_submitted` needs `query`".into())
        }
        EventKind::CollectionViewed if event.collection_id.is_none() => {
            Err("`collection_viewed` needs `collection_id`".into())
        }
        EventKind::RecommendationViewed | EventKind::RecommendationClicked
            if event.strategy.is_none() =>
        {
            Err(format!("`{}` needs `strategy`", kind.as_str()))
        }
        _ => Ok(()),
    }
}

fn parse_client_id(value: Option<&Value>) -> Result<ClientId, String> {
    let id = bounded_id(value, "client_id")?.ok_or("`client_id` is required")?;
    ClientId::parse(&id)
}

fn bounded_id(value: Option<&Value>, name: &str) -> Result<Option<String>, String> {
    let Some(value) = value else { return Ok(None) };
    let id = match value {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return Err(format!("`{name}` must be a string")),
    };
    if id.is_empty() || id.len() > MAX_ID_LEN || id.chars().any(char::is_control) {
        return Err(format!(
            "`{name}` must be 1 to {MAX_ID_LEN} printable characters"
        ));
    }
    Ok(Some(id))
}

/// A Shopify id of any shape (`crate::ids::shopify_id`), or what is wrong with it.
pub(crate) fn numeric_id(value: &Value, name: &str) -> Result<u64, String> {
    crate::ids::shopify_id(value).ok_or_else(|| match value {
        Value::Number(_) | Value::String(_) => format!(
            "`{name}` `{}` is not a Shopify id",
            value
                .to_string()
                .trim_matches('"')
                .chars()
                .take(40)
                .collect::<String>()
        ),
        _ => format!("`{name}` must be a Shopify id"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_790_000_000_000;

    fn parse(raw: Value) -> Result<ShopperEvent, String> {
        parse_event(&raw, NOW, || "generated".into())
    }

    #[test]
    fn each_kind_needs_its_fields_and_ids_come_in_every_shopify_form() {
        let viewed = parse(json!({"type": "product_viewed", "client_id": "c1", "product_id": "gid://shopify/Product/42"})).unwrap();
        assert_eq!(
            (
                viewed.product_id,
                viewed.event_id.as_str(),
                viewed.occurred_at
            ),
            (Some(42), "generated", NOW)
        );
        let bought = parse(
            json!({"type": "checkout_completed", "client_id": "c1", "customer_id": "7", "id": "e-1",
            "line_items": [{"product_id": 42, "quantity": 2}, {"product_id": "43"}]}),
        )
        .unwrap();
        assert_eq!(bought.customer_id, Some(CustomerId(7)));
        let clicked = parse(json!({"type": "recommendation_clicked", "client_id": "c1", "product_id": "42", "strategy": "for_you"})).unwrap();
        assert_eq!(
            (
                clicked.kind.is_shopper_intent(),
                clicked.strategy.as_deref()
            ),
            (false, Some("for_you"))
        );
        assert_eq!(
            bought.line_items,
            [
                LineItem {
                    product_id: 42,
                    quantity: 2
                },
                LineItem {
                    product_id: 43,
                    quantity: 1
                }
            ]
        );
        for (event, reason) in [
            (
                json!({"type": "product_viewed", "client_id": "c1"}),
                "needs `product_id`",
            ),
            (
                json!({"type": "checkout_completed", "client_id": "c1"}),
                "needs `line_items`",
            ),
            (
                json!({"type": "search_submitted", "client_id": "c1", "query": "  "}),
                "`query` must be",
            ),
            (
                json!({"type": "collection_viewed", "client_id": "c1"}),
                "needs `collection_id`",
            ),
            (
                json!({"type": "page_viewed", "client_id": "c1"}),
                "is not one of",
            ),
            (
                json!({"type": "product_viewed", "product_id": 1}),
                "`client_id` is required",
            ),
            (
                json!({"type": "product_viewed", "client_id": "c1", "product_id": -4}),
                "is not a Shopify id",
            ),
            (
                json!({"type": "product_viewed", "client_id": "c1", "product_id": 1, "occurred_at": "2020-01-01T00:00:00Z"}),
                "last 7 days",
            ),
            (
                json!({"type": "product_viewed", "client_id": "x".repeat(200), "product_id": 1}),
                "printable characters",
            ),
            (
                json!({"type": "recommendation_clicked", "client_id": "c1", "product_id": 1}),
                "needs `strategy`",
            ),
            (
                json!({"type": "recommendation_viewed", "client_id": "c1", "product_id": 1, "strategy": "Similar!"}),
                "`strategy` must be",
            ),
            (
                json!({"type": "recommendation_clicked", "client_id": "c1", "product_id": 1, "strategy": "similar", "placement": "Product page"}),
                "`placement` must be",
            ),
            (json!([1]), "JSON object"),
        ] {
            let err = parse(event.clone()).unwrap_err();
            assert!(err.contains(reason), "{event}: {err}");
        }
    }
}
