//! Orders and their refunds in the database. The newest version of an order wins inside one statement (`WHERE
//! orders.updated_at <= excluded.updated_at`), so concurrent writers cannot undo each other.

use std::collections::HashSet;

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{numbered_placeholders, SqlStore, IDS_PER_STATEMENT};
use crate::domain::{ClientId, CustomerId, ShopDomain};
use crate::error::AppError;
use crate::purchases::{FinancialStatus, Order, OrderBook, OrderSource, Refund};
use crate::stores::{OrderStore, OrdersWritten};

/// An order's browser: its own, else the one a checkout event with the same order id and
/// checkout token reported (the web pixel's).
const ORDER_COLUMNS: &str = "SELECT o.order_id, o.customer_id, COALESCE(o.client_id, \
     (SELECT e.client_id FROM shopper_events e WHERE e.shop_domain = o.shop_domain \
     AND e.order_id = o.order_id AND e.kind = 'checkout_completed' \
     AND e.checkout_token = o.checkout_token LIMIT 1)), o.checkout_token, o.created_at, \
     o.updated_at, o.cancelled_at, o.financial_status, o.test, o.currency, o.line_items, \
     o.attributes, o.refund_ids FROM orders o";

/// The `updated_at` of a deleted order's tombstone: newer than any version Shopify can send.
const DELETED: i64 = i64::MAX;

const REFUND_COLUMNS: &str =
    "SELECT r.refund_id, r.order_id, r.created_at, r.line_items FROM order_refunds r";

fn json_text<T: serde::Serialize>(value: &T) -> Result<String, AppError> {
    serde_json::to_string(value).map_err(|e| AppError::Internal(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(raw: &str, what: &str) -> Result<T, AppError> {
    serde_json::from_str(raw).map_err(|e| AppError::Storage(format!("stored {what}: {e}")))
}

fn order_of(row: &AnyRow) -> Result<Order, AppError> {
    let status: Option<String> = row.try_get(7)?;
    Ok(Order {
        id: row.try_get::<i64, _>(0)? as u64,
        customer_id: row
            .try_get::<Option<i64>, _>(1)?
            .map(|c| CustomerId(c as u64)),
        client_id: row.try_get::<Option<String>, _>(2)?.map(ClientId::stored),
        checkout_token: row.try_get(3)?,
        created_at: row.try_get(4)?,
        updated_at: row.try_get(5)?,
        cancelled_at: row.try_get(6)?,
        financial_status: status.as_deref().and_then(FinancialStatus::parse),
        test: row.try_get::<i64, _>(8)? != 0,
        currency: row.try_get(9)?,
        lines: from_json(&row.try_get::<String, _>(10)?, "order lines")?,
        attributes: from_json(&row.try_get::<String, _>(11)?, "order attributes")?,
        refund_ids: from_json(&row.try_get::<String, _>(12)?, "order refunds")?,
    })
}

fn refund_of(row: &AnyRow) -> Result<Refund, AppError> {
    Ok(Refund {
        id: row.try_get::<i64, _>(0)? as u64,
        order_id: row.try_get::<i64, _>(1)? as u64,
        created_at: row.try_get(2)?,
        lines: from_json(&row.try_get::<String, _>(3)?, "refund lines")?,
    })
}

impl SqlStore {
    /// The orders a statement selects ($1 the shop, then `binds`), with the refunds stored
    /// for them.
    async fn order_book(
        &self,
        shop: &ShopDomain,
        sql: &str,
        binds: &[i64],
    ) -> Result<OrderBook, AppError> {
        let mut query = sqlx::query(sql).bind(shop.as_str());
        for bind in binds {
            query = query.bind(*bind);
        }
        let orders = query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(order_of)
            .collect::<Result<Vec<_>, _>>()?;
        let ids: Vec<u64> = orders.iter().map(|o| o.id).collect();
        let refunds = self
            .rows_among_ids(
                &format!("{REFUND_COLUMNS} WHERE r.shop_domain = $1"),
                "r.order_id",
                shop,
                &ids,
            )
            .await?
            .iter()
            .map(refund_of)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(OrderBook { orders, refunds })
    }

    /// The shop's orders among `ids`.
    async fn stored_order_ids(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        shop: &ShopDomain,
        ids: &[u64],
    ) -> Result<HashSet<u64>, AppError> {
        let mut found = HashSet::new();
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let sql = format!(
                "SELECT order_id FROM orders WHERE shop_domain = $1 AND order_id IN ({})",
                numbered_placeholders(2, chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(shop.as_str());
            for id in chunk {
                query = query.bind(*id as i64);
            }
            for row in query.fetch_all(&mut **tx).await? {
                found.insert(row.try_get::<i64, _>(0)? as u64);
            }
        }
        Ok(found)
    }

    /// Orders of a customer ($2) among the rows of `orders` (the table or its alias):
    /// theirs, and guests' orders placed in a browser a signed source said they used (by its
    /// cart attribute, or a checkout event with the order's token). Another customer's
    /// order on a shared device is that customer's.
    fn customer_order_filter(orders: &str) -> String {
        let browsers = "SELECT client_id FROM shopper_events WHERE shop_domain = $1 \
             AND customer_id = $2 AND source <> 'unverified'";
        format!(
            "({orders}.customer_id = $2 OR ({orders}.customer_id IS NULL AND ({orders}.client_id IN ({browsers}) \
             OR {orders}.order_id IN (SELECT e.order_id FROM shopper_events e WHERE e.shop_domain = $1 \
             AND e.kind = 'checkout_completed' AND e.order_id IS NOT NULL \
             AND e.checkout_token = {orders}.checkout_token AND e.client_id IN ({browsers})))))"
        )
    }
}

#[async_trait]
impl OrderStore for SqlStore {
    async fn upsert_orders(
        &self,
        shop: &ShopDomain,
        orders: &[Order],
        source: OrderSource,
    ) -> Result<OrdersWritten, AppError> {
        let mut tx = self.begin_write().await?;
        let ids: Vec<u64> = orders.iter().map(|o| o.id).collect();
        let mut stored = self.stored_order_ids(&mut tx, shop, &ids).await?;
        let received = self.now();
        let mut written = OrdersWritten::default();
        for order in orders {
            let result = sqlx::query(
                "INSERT INTO orders (shop_domain, order_id, customer_id, client_id, checkout_token, created_at, \
                 updated_at, cancelled_at, financial_status, test, currency, line_items, attributes, refund_ids, \
                 source, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                 ON CONFLICT (shop_domain, order_id) DO UPDATE SET customer_id = excluded.customer_id, \
                 client_id = COALESCE(excluded.client_id, orders.client_id), \
                 checkout_token = COALESCE(excluded.checkout_token, orders.checkout_token), \
                 created_at = excluded.created_at, updated_at = excluded.updated_at, \
                 cancelled_at = excluded.cancelled_at, financial_status = excluded.financial_status, \
                 test = excluded.test, currency = excluded.currency, line_items = excluded.line_items, \
                 attributes = excluded.attributes, refund_ids = excluded.refund_ids, source = excluded.source, \
                 received_at = excluded.received_at WHERE orders.updated_at < excluded.updated_at \
                 OR (orders.updated_at = excluded.updated_at \
                 AND (excluded.cancelled_at IS NOT NULL OR orders.cancelled_at IS NULL))",
            )
            .bind(shop.as_str())
            .bind(order.id as i64)
            .bind(order.customer_id.map(|c| c.0 as i64))
            .bind(order.client_id.as_ref().map(ClientId::as_str))
            .bind(order.checkout_token.as_deref())
            .bind(order.created_at)
            .bind(order.updated_at)
            .bind(order.cancelled_at)
            .bind(order.financial_status.map(FinancialStatus::as_str))
            .bind(i64::from(order.test))
            .bind(order.currency.as_deref())
            .bind(json_text(&order.lines)?)
            .bind(json_text(&order.attributes)?)
            .bind(json_text(&order.refund_ids)?)
            .bind(source.as_str())
            .bind(received)
            .execute(&mut *tx)
            .await?;
            match (result.rows_affected(), stored.insert(order.id)) {
                (0, _) => written.stale += 1,
                (_, true) => written.created += 1,
                (_, false) => written.updated += 1,
            }
        }
        tx.commit().await?;
        Ok(written)
    }

    async fn add_refunds(&self, shop: &ShopDomain, refunds: &[Refund]) -> Result<u64, AppError> {
        let mut tx = self.begin_write().await?;
        let mut added = 0;
        for refund in refunds {
            let result = sqlx::query(
                "INSERT INTO order_refunds (shop_domain, refund_id, order_id, line_items, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (shop_domain, refund_id) DO NOTHING",
            )
            .bind(shop.as_str())
            .bind(refund.id as i64)
            .bind(refund.order_id as i64)
            .bind(json_text(&refund.lines)?)
            .bind(refund.created_at)
            .execute(&mut *tx)
            .await?;
            added += result.rows_affected();
        }
        tx.commit().await?;
        Ok(added)
    }

    async fn delete_order(&self, shop: &ShopDomain, order_id: u64) -> Result<bool, AppError> {
        // The row stays as a tombstone, emptied, with a version no delivery can be newer
        // than: a create or update that arrives after the delete changes nothing.
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM order_refunds WHERE shop_domain = $1 AND order_id = $2")
            .bind(shop.as_str())
            .bind(order_id as i64)
            .execute(&mut *tx)
            .await?;
        let existed = sqlx::query_scalar::<_, i64>(
            "SELECT updated_at FROM orders WHERE shop_domain = $1 AND order_id = $2",
        )
        .bind(shop.as_str())
        .bind(order_id as i64)
        .fetch_optional(&mut *tx)
        .await?
        .is_some_and(|updated| updated != DELETED);
        let now = self.now();
        sqlx::query(
            "INSERT INTO orders (shop_domain, order_id, created_at, updated_at, cancelled_at, test, \
             line_items, attributes, refund_ids, source, received_at) \
             VALUES ($1, $2, $3, $4, $3, 0, '[]', '{}', '[]', 'webhook', $3) \
             ON CONFLICT (shop_domain, order_id) DO UPDATE SET customer_id = NULL, client_id = NULL, \
             checkout_token = NULL, updated_at = excluded.updated_at, \
             cancelled_at = COALESCE(orders.cancelled_at, excluded.cancelled_at), \
             line_items = '[]', attributes = '{}', refund_ids = '[]', received_at = excluded.received_at",
        )
        .bind(shop.as_str())
        .bind(order_id as i64)
        .bind(now)
        .bind(DELETED)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(existed)
    }

    async fn orders_since(&self, shop: &ShopDomain, since_ms: i64) -> Result<OrderBook, AppError> {
        let sql = format!(
            "{ORDER_COLUMNS} WHERE o.shop_domain = $1 AND o.created_at >= $2 ORDER BY o.created_at, o.order_id"
        );
        self.order_book(shop, &sql, &[since_ms]).await
    }

    async fn shopper_orders(
        &self,
        shop: &ShopDomain,
        customer: Option<CustomerId>,
        client: Option<&ClientId>,
        limit: usize,
    ) -> Result<OrderBook, AppError> {
        // Each way in is its own indexed lookup (an OR of them would scan the shop's orders).
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut ids: Vec<(i64, i64)> = Vec::new();
        if let Some(customer) = customer {
            ids.extend(
                sqlx::query_as::<_, (i64, i64)>(
                    "SELECT order_id, created_at FROM orders WHERE shop_domain = $1 AND customer_id = $2 \
                     ORDER BY created_at DESC LIMIT $3",
                )
                .bind(shop.as_str())
                .bind(customer.0 as i64)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
            );
        }
        if let Some(client) = client {
            ids.extend(
                sqlx::query_as::<_, (i64, i64)>(
                    "SELECT order_id, created_at FROM orders WHERE shop_domain = $1 AND client_id = $2 \
                     ORDER BY created_at DESC LIMIT $3",
                )
                .bind(shop.as_str())
                .bind(client.as_str())
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
            );
            // Orders a checkout event of this browser names, with the order's own token.
            ids.extend(
                sqlx::query_as::<_, (i64, i64)>(
                    "SELECT o.order_id, o.created_at FROM shopper_events e JOIN orders o \
                     ON o.shop_domain = e.shop_domain AND o.order_id = e.order_id \
                     AND o.checkout_token = e.checkout_token \
                     WHERE e.shop_domain = $1 AND e.client_id = $2 AND e.kind = 'checkout_completed' \
                     AND e.order_id IS NOT NULL LIMIT $3",
                )
                .bind(shop.as_str())
                .bind(client.as_str())
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
            );
        }
        ids.sort_by_key(|(id, at)| (std::cmp::Reverse(*at), std::cmp::Reverse(*id)));
        ids.dedup_by_key(|(id, _)| *id);
        ids.truncate(limit as usize);
        if ids.is_empty() {
            return Ok(OrderBook::default());
        }
        let list: Vec<String> = ids.iter().map(|(id, _)| id.to_string()).collect();
        let sql = format!(
            "{ORDER_COLUMNS} WHERE o.shop_domain = $1 AND o.order_id IN ({}) ORDER BY o.created_at, o.order_id",
            list.join(", ")
        );
        self.order_book(shop, &sql, &[]).await
    }

    async fn order_counts(&self, shop: &ShopDomain) -> Result<(i64, i64), AppError> {
        let row = sqlx::query(
            "SELECT COUNT(*), CAST(COALESCE(SUM(test), 0) AS BIGINT) FROM orders \
             WHERE shop_domain = $1 AND updated_at < $2",
        )
        .bind(shop.as_str())
        .bind(DELETED)
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }

    async fn customer_orders(
        &self,
        shop: &ShopDomain,
        customer: CustomerId,
        named: &[u64],
    ) -> Result<OrderBook, AppError> {
        let named_list = named_orders(named);
        let sql = format!(
            "{ORDER_COLUMNS} WHERE o.shop_domain = $1 AND ({} {named_list}) ORDER BY o.created_at, o.order_id",
            SqlStore::customer_order_filter("o"),
        );
        self.order_book(shop, &sql, &[customer.0 as i64]).await
    }

    async fn redact_orders(
        &self,
        shop: &ShopDomain,
        customer: CustomerId,
        named: &[u64],
    ) -> Result<u64, AppError> {
        let mut tx = self.begin_write().await?;
        // Parenthesised whole: the shop condition must hold for every alternative.
        let filter = format!(
            "({} {})",
            SqlStore::customer_order_filter("orders"),
            named_orders(named)
        );
        sqlx::query(&format!(
            "DELETE FROM order_refunds WHERE shop_domain = $1 AND (order_id IN \
             (SELECT order_id FROM orders WHERE shop_domain = $1 AND {filter}) {})",
            named_orders(named)
        ))
        .bind(shop.as_str())
        .bind(customer.0 as i64)
        .execute(&mut *tx)
        .await?;
        let deleted = sqlx::query(&format!(
            "DELETE FROM orders WHERE shop_domain = $1 AND {filter}"
        ))
        .bind(shop.as_str())
        .bind(customer.0 as i64)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(deleted.rows_affected())
    }
}

/// `OR order_id IN (…)` for the orders a privacy request names (ids are numbers, so they
/// are written into the statement; at most a few hundred per request).
fn named_orders(named: &[u64]) -> String {
    if named.is_empty() {
        return String::new();
    }
    let ids: Vec<String> = named.iter().map(|id| (*id as i64).to_string()).collect();
    format!("OR order_id IN ({})", ids.join(", "))
}
