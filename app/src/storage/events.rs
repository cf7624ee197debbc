//! Shopper events in the database: stored once per (shop, event id), read back per client
//! or customer, pruned after the retention window, and erased for a customer on request.

use async_trait::async_trait;
use sqlx::Row;

use super::SqlStore;
use crate::domain::{ClientId, CustomerId, ShopDomain};
use crate::error::AppError;
use crate::events::{EventKind, EventSource, LineItem, ShopperEvent, MAX_HISTORY_EVENTS};
use crate::recommend::training_log::{LoggedEvent, LoggedKind};
use crate::stores::EventStore;

#[async_trait]
impl EventStore for SqlStore {
    async fn insert_events(
        &self,
        shop: &ShopDomain,
        events: &[ShopperEvent],
    ) -> Result<u64, AppError> {
        let mut tx = self.begin_write().await?;
        let received = self.now();
        let mut inserted = 0;
        for event in events {
            if self
                .reported_by_the_other_sender(&mut tx, shop, event)
                .await?
            {
                continue;
            }
            let line_items = (!event.line_items.is_empty())
                .then(|| serde_json::to_string(&event.line_items))
                .transpose()
                .map_err(|e| AppError::Internal(e.to_string()))?;
            let result = sqlx::query(
                "INSERT INTO shopper_events (shop_domain, event_id, client_id, customer_id, kind, product_id, \
                 collection_id, search_query, line_items, occurred_at, received_at, strategy, source, \
                 order_id, checkout_token, placement) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                 ON CONFLICT (shop_domain, event_id) DO NOTHING",
            )
            .bind(shop.as_str())
            .bind(&event.event_id)
            .bind(event.client_id.as_str())
            .bind(event.customer_id.map(|c| c.0 as i64))
            .bind(event.kind.as_str())
            .bind(event.product_id.map(|p| p as i64))
            .bind(event.collection_id.map(|c| c as i64))
            .bind(&event.search_query)
            .bind(line_items)
            .bind(event.occurred_at)
            .bind(received)
            .bind(&event.strategy)
            .bind(event.source.unwrap_or(EventSource::Storefront).as_str())
            .bind(event.order_id.map(|o| o as i64))
            .bind(&event.checkout_token)
            .bind(&event.placement)
            .execute(&mut *tx)
            .await?;
            inserted += result.rows_affected();
        }
        tx.commit().await?;
        Ok(inserted)
    }

    async fn client_events(
        &self,
        shop: &ShopDomain,
        client_id: &ClientId,
    ) -> Result<Vec<ShopperEvent>, AppError> {
        self.latest_of_client(shop, client_id.as_str(), SHOPPER_INTENT, MAX_HISTORY_EVENTS)
            .await
    }

    async fn customer_events(
        &self,
        shop: &ShopDomain,
        customer_id: CustomerId,
    ) -> Result<Vec<ShopperEvent>, AppError> {
        self.latest_of_customer(shop, customer_id, SHOPPER_INTENT, MAX_HISTORY_EVENTS)
            .await
    }

    async fn customer_export_events(
        &self,
        shop: &ShopDomain,
        customer_id: CustomerId,
    ) -> Result<Vec<ShopperEvent>, AppError> {
        self.latest_of_customer(shop, customer_id, "", i64::MAX as usize)
            .await
    }

    async fn daily_product_interest(
        &self,
        shop: &ShopDomain,
        since_ms: i64,
    ) -> Result<Vec<(u64, i64, i64)>, AppError> {
        let rows = sqlx::query(
            "SELECT product_id, occurred_at / 86400000 AS day, COUNT(*) AS n FROM shopper_events \
             WHERE shop_domain = $1 AND occurred_at >= $2 AND product_id IS NOT NULL \
             AND kind IN ('product_viewed', 'product_added_to_cart') GROUP BY product_id, occurred_at / 86400000",
        )
        .bind(shop.as_str())
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get::<i64, _>(0)? as u64,
                    row.try_get::<i64, _>(1)?,
                    row.try_get::<i64, _>(2)?,
                ))
            })
            .collect()
    }

    async fn logged_events(
        &self,
        shop: &ShopDomain,
        received_from_ms: i64,
        occurred_since_ms: i64,
    ) -> Result<Vec<LoggedEvent>, AppError> {
        let rows = sqlx::query(
            "SELECT event_id, client_id, kind, product_id, occurred_at, received_at FROM shopper_events \
             WHERE shop_domain = $1 AND received_at >= $2 AND occurred_at >= $3 \
             AND kind IN ('product_viewed', 'product_added_to_cart') AND product_id IS NOT NULL \
             ORDER BY received_at, event_id",
        )
        .bind(shop.as_str())
        .bind(received_from_ms)
        .bind(occurred_since_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let kind = if row.try_get::<String, _>(2)? == "product_viewed" {
                    LoggedKind::View
                } else {
                    LoggedKind::CartAddition
                };
                Ok(LoggedEvent {
                    event_id: row.try_get(0)?,
                    client_id: row.try_get(1)?,
                    kind,
                    product_id: row.try_get::<i64, _>(3)? as u64,
                    occurred_at: row.try_get(4)?,
                    received_at: row.try_get(5)?,
                })
            })
            .collect()
    }

    async fn checkouts(
        &self,
        shop: &ShopDomain,
        since_ms: i64,
    ) -> Result<Vec<ShopperEvent>, AppError> {
        let sql = format!(
            "{EVENT_COLUMNS} WHERE shop_domain = $1 AND occurred_at >= $2 \
             AND kind = 'checkout_completed' ORDER BY occurred_at, event_id"
        );
        let rows = sqlx::query(&sql)
            .bind(shop.as_str())
            .bind(since_ms)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(event_of).collect()
    }

    async fn prune_events(&self, occurred_before_ms: i64) -> Result<u64, AppError> {
        let mut tx = self.pool.begin().await?;
        self.allow_long_statements(&mut tx).await?;
        let result = sqlx::query("DELETE FROM shopper_events WHERE occurred_at < $1")
            .bind(occurred_before_ms)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(result.rows_affected())
    }
}

/// How far apart in time the two reports of one thing may be (their clocks differ).
const SAME_MOMENT_MS: i64 = 30_000;

impl SqlStore {
    /// Whether the same browser's same view, search or cart addition came moments ago from
    /// the other kind of sender (the web pixel against a storefront script): a shop that
    /// runs both counts it once. Two reports from one sender are two things that happened.
    async fn reported_by_the_other_sender(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        shop: &ShopDomain,
        event: &ShopperEvent,
    ) -> Result<bool, AppError> {
        let storefront = [EventSource::AppProxy, EventSource::Storefront];
        let other = match event.source {
            Some(EventSource::Pixel) => "source IN ('app_proxy', 'storefront')",
            Some(source) if storefront.contains(&source) => "source = 'pixel'",
            _ => return Ok(false),
        };
        if !event.kind.seen_by_page_and_pixel() {
            return Ok(false);
        }
        let sql = format!(
            "SELECT 1 FROM shopper_events WHERE shop_domain = $1 AND client_id = $2 AND kind = $3 \
             AND occurred_at BETWEEN $4 AND $5 AND {other} \
             AND COALESCE(product_id, 0) = $6 AND COALESCE(collection_id, 0) = $7 \
             AND COALESCE(search_query, '') = $8 LIMIT 1"
        );
        let found = sqlx::query(&sql)
            .bind(shop.as_str())
            .bind(event.client_id.as_str())
            .bind(event.kind.as_str())
            .bind(event.occurred_at - SAME_MOMENT_MS)
            .bind(event.occurred_at + SAME_MOMENT_MS)
            .bind(event.product_id.map_or(0, |p| p as i64))
            .bind(event.collection_id.map_or(0, |c| c as i64))
            .bind(event.search_query.as_deref().unwrap_or_default())
            .fetch_optional(&mut **tx)
            .await?;
        Ok(found.is_some())
    }

    /// The customer's browsers first (the `(shop_domain, customer_id)` index), then each
    /// browser's latest events (the `(shop_domain, client_id, occurred_at)` index): one
    /// statement with `client_id IN (…) ORDER BY occurred_at LIMIT` lets a planner walk the
    /// shop's whole timeline instead.
    async fn latest_of_customer(
        &self,
        shop: &ShopDomain,
        customer_id: CustomerId,
        kinds: &str,
        limit: usize,
    ) -> Result<Vec<ShopperEvent>, AppError> {
        let named: Vec<String> = sqlx::query_scalar(CUSTOMER_BROWSERS)
            .bind(shop.as_str())
            .bind(customer_id.0 as i64)
            .bind(CUSTOMER_EVENTS_SCANNED)
            .fetch_all(&self.pool)
            .await?;
        let browsers: Vec<String> = named
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .take(MAX_CUSTOMER_BROWSERS)
            .collect();
        let mut events = Vec::new();
        for browser in &browsers {
            events.extend(self.latest_of_client(shop, browser, kinds, limit).await?);
        }
        events.sort_by(|a, b| {
            a.occurred_at
                .cmp(&b.occurred_at)
                .then_with(|| a.event_id.cmp(&b.event_id))
        });
        let surplus = events.len().saturating_sub(limit);
        events.drain(..surplus);
        Ok(events)
    }

    /// A browser's latest `limit` events of these kinds, oldest first.
    async fn latest_of_client(
        &self,
        shop: &ShopDomain,
        client_id: &str,
        kinds: &str,
        limit: usize,
    ) -> Result<Vec<ShopperEvent>, AppError> {
        let sql = format!(
            "{EVENT_COLUMNS} WHERE shop_domain = $1 AND client_id = $2 {kinds} \
             ORDER BY occurred_at DESC, event_id DESC LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(shop.as_str())
            .bind(client_id)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        let mut events = rows.iter().map(event_of).collect::<Result<Vec<_>, _>>()?;
        events.reverse();
        Ok(events)
    }
}

/// What the shopper did, not which recommendations they were shown.
const SHOPPER_INTENT: &str = "AND kind NOT IN ('recommendation_viewed', 'recommendation_clicked')";

const EVENT_COLUMNS: &str =
    "SELECT event_id, client_id, customer_id, kind, product_id, collection_id, \
     search_query, line_items, occurred_at, strategy, source, order_id, checkout_token, placement FROM shopper_events";

/// The browsers a signed source said the customer used ($1 the shop, $2 the customer id,
/// an integer compared as one, so the `(shop_domain, customer_id)` index answers; $3 how
/// many of their events to look at). Every event that names the customer came from one of
/// these browsers. No DISTINCT or ORDER BY: either lets a planner prefer the client index,
/// which is sorted by browser, and walk every event of the shop (1.3 s at 1M events);
/// duplicates are dropped after.
const CUSTOMER_BROWSERS: &str = "SELECT client_id FROM shopper_events WHERE shop_domain = $1 \
     AND customer_id = $2 AND source <> 'unverified' LIMIT $3";

/// The customer's events read to find their browsers, and the browsers kept: a person's
/// devices, not a crowd.
const CUSTOMER_EVENTS_SCANNED: i64 = 2_000;
const MAX_CUSTOMER_BROWSERS: usize = 20;

/// customers/redact: the customer's events, those of every browser they used, and any event
/// that merely claimed to be theirs (unverified), so nothing in their name is left.
pub(super) const DELETE_CUSTOMER_EVENTS: &str = "DELETE FROM shopper_events WHERE shop_domain = $1 \
     AND (customer_id = $2 OR client_id IN (SELECT client_id FROM shopper_events WHERE shop_domain = $1 \
     AND customer_id = $2))";

/// A checkout's stored line items (JSON), none when the column is empty.
fn line_items_of(raw: Option<String>) -> Result<Vec<LineItem>, AppError> {
    raw.map(|r| serde_json::from_str(&r))
        .transpose()
        .map_err(|e| AppError::Internal(format!("stored line items: {e}")))
        .map(Option::unwrap_or_default)
}

fn event_of(row: &sqlx::any::AnyRow) -> Result<ShopperEvent, AppError> {
    let kind: String = row.try_get(3)?;
    let source: String = row.try_get(10)?;
    Ok(ShopperEvent {
        event_id: row.try_get(0)?,
        client_id: ClientId::stored(row.try_get(1)?),
        customer_id: row
            .try_get::<Option<i64>, _>(2)?
            .map(|c| CustomerId(c as u64)),
        kind: serde_json::from_value::<EventKind>(serde_json::Value::String(kind))
            .map_err(|e| AppError::Internal(format!("stored event kind: {e}")))?,
        product_id: row.try_get::<Option<i64>, _>(4)?.map(|p| p as u64),
        collection_id: row.try_get::<Option<i64>, _>(5)?.map(|c| c as u64),
        search_query: row.try_get(6)?,
        line_items: line_items_of(row.try_get(7)?)?,
        occurred_at: row.try_get(8)?,
        strategy: row.try_get(9)?,
        source: EventSource::parse(&source),
        order_id: row.try_get::<Option<i64>, _>(11)?.map(|o| o as u64),
        checkout_token: row.try_get(12)?,
        placement: row.try_get(13)?,
    })
}
