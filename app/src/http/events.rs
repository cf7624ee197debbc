//! `POST /api/v1/events`: shopper events from the storefront script, a web pixel or a
//! headless frontend. The shop comes from the storefront key. Each event is checked on its
//! own: the good ones are stored, the bad ones come back with their index and reason.

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::{json, Value};

use super::auth::StorefrontShop;
use super::extract::{ApiJson, ApiQuery};
use super::views::RecommendationView;
use super::AppState;
use crate::catalog::ForYouSource;
use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::events::{parse_event, MAX_BATCH};
use crate::storage::now_millis;

/// Events per shop per minute, with a minute's worth as burst; a batch costs one per event.
#[derive(Clone)]
pub struct EventLimiter {
    limiter: Arc<DefaultKeyedRateLimiter<ShopDomain>>,
}

impl EventLimiter {
    pub fn per_minute(events: u32) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(events.max(1)).unwrap_or(NonZeroU32::MIN));
        Self {
            limiter: Arc::new(RateLimiter::keyed(quota)),
        }
    }

    fn admit(&self, shop: &ShopDomain, events: usize) -> Result<(), AppError> {
        let Some(cells) = NonZeroU32::new(events as u32) else {
            return Ok(());
        };
        match self.limiter.check_key_n(shop, cells) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(AppError::RateLimited {
                    retry_after_secs: wait.as_secs() + 1,
                })
            }
            // A batch larger than the whole burst can never pass.
            Err(_) => Err(AppError::RateLimited {
                retry_after_secs: 60,
            }),
        }
    }
}

pub async fn record_events(
    State(state): State<AppState>,
    StorefrontShop(shop): StorefrontShop,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, AppError> {
    let events = body
        .get("events")
        .and_then(Value::as_array)
        .ok_or_else(|| AppError::InvalidInput("the body must be {\"events\": [...]}".into()))?;
    if events.is_empty() || events.len() > MAX_BATCH {
        return Err(AppError::InvalidInput(format!(
            "send 1 to {MAX_BATCH} events per request"
        )));
    }
    state.event_limiter.admit(&shop, events.len())?;
    let now = now_millis();
    let mut good = Vec::with_capacity(events.len());
    let mut rejected = Vec::new();
    for (index, raw) in events.iter().enumerate() {
        match parse_event(raw, now, || {
            format!("kindred-{:032x}", rand::random::<u128>())
        }) {
            Ok(event) => good.push(event),
            Err(reason) => rejected.push(json!({ "index": index, "error": reason })),
        }
    }
    let stored = state.catalog.store().insert_events(&shop, &good).await?;
    metrics::counter!("kindred_events_received_total").increment(good.len() as u64);
    metrics::counter!("kindred_events_rejected_total").increment(rejected.len() as u64);
    Ok(Json(json!({
        "accepted": good.len(),
        "duplicates": good.len() as u64 - stored,
        "rejected": rejected,
    })))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForYouParams {
    client_id: String,
    limit: Option<usize>,
}

impl ForYouParams {
    /// The client id and the number of items, checked.
    fn checked(&self) -> Result<(&str, usize), AppError> {
        let limit = checked_limit(self.limit)?;
        let client = self.client_id.trim();
        if client.is_empty() || client.len() > 128 {
            return Err(AppError::InvalidInput(
                "`client_id` must be 1 to 128 characters".into(),
            ));
        }
        Ok((client, limit))
    }
}

/// `GET /api/v1/recommendations/for-you?client_id=…`: from the shopper's live session, or
/// what is trending for a shopper with no history yet.
pub async fn for_you(
    State(state): State<AppState>,
    StorefrontShop(shop): StorefrontShop,
    ApiQuery(params): ApiQuery<ForYouParams>,
) -> Result<Json<Value>, AppError> {
    let (client, limit) = params.checked()?;
    let (source, recommendations) = state.catalog.for_you(&shop, client, limit).await?;
    let strategy = match source {
        ForYouSource::Session => "for_you",
        ForYouSource::Trending => "trending",
    };
    let views: Vec<RecommendationView> = recommendations
        .iter()
        .map(RecommendationView::from)
        .collect();
    Ok(Json(
        json!({ "strategy": strategy, "recommendations": views }),
    ))
}

/// `GET /api/v1/recommendations/recently-viewed?client_id=…`: what the shopper looked at,
/// most recent first.
pub async fn recently_viewed(
    State(state): State<AppState>,
    StorefrontShop(shop): StorefrontShop,
    ApiQuery(params): ApiQuery<ForYouParams>,
) -> Result<Json<Value>, AppError> {
    let (client, limit) = params.checked()?;
    let recommendations = state.catalog.recently_viewed(&shop, client, limit).await?;
    let views: Vec<RecommendationView> = recommendations
        .iter()
        .map(RecommendationView::from)
        .collect();
    Ok(Json(
        json!({ "strategy": "recently_viewed", "recommendations": views }),
    ))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CartParams {
    product_ids: String,
    limit: Option<usize>,
}

/// `GET /api/v1/recommendations/cart?product_ids=1,2`: what goes with the cart's items.
pub async fn cart(
    State(state): State<AppState>,
    StorefrontShop(shop): StorefrontShop,
    ApiQuery(params): ApiQuery<CartParams>,
) -> Result<Json<Value>, AppError> {
    let limit = checked_limit(params.limit)?;
    let cart: Vec<u64> = crate::domain::split_list(&params.product_ids)
        .iter()
        .map(|id| crate::domain::ProductId::parse(id).map(|p| p.0))
        .collect::<Result<_, _>>()?;
    if cart.is_empty() || cart.len() > 50 {
        return Err(AppError::InvalidInput(
            "`product_ids` must list 1 to 50 product ids".into(),
        ));
    }
    let recommendations = state.catalog.cart(&shop, &cart, limit).await?;
    let views: Vec<RecommendationView> = recommendations
        .iter()
        .map(RecommendationView::from)
        .collect();
    Ok(Json(
        json!({ "strategy": "cart", "recommendations": views }),
    ))
}

/// Items wanted: 10 unless asked, at most 50.
fn checked_limit(limit: Option<usize>) -> Result<usize, AppError> {
    let limit = limit.unwrap_or(10);
    if (1..=50).contains(&limit) {
        Ok(limit)
    } else {
        Err(AppError::InvalidInput(
            "`limit` must be a whole number from 1 to 50".into(),
        ))
    }
}
