//! Measurement settings, experiments and plans in the database.

use async_trait::async_trait;
use sqlx::Row;

use super::SqlStore;
use crate::domain::{ClientId, CustomerId, ShopDomain};
use crate::error::AppError;
use crate::proof::attribution::RecommendationClick;
use crate::proof::experiments::{Arm, Experiment, ExperimentStatus};
use crate::proof::plans::PlanRow;
use crate::proof::report::{CartAddition, RecommendationDay};
use crate::stores::ProofStore;

#[async_trait]
impl ProofStore for SqlStore {
    async fn settings_or_insert(
        &self,
        shop: &ShopDomain,
        initial: &str,
    ) -> Result<String, AppError> {
        // Read first: the storefront asks on every cache miss, and a write per miss would
        // queue behind the shop's writers (SQLite has one).
        let select = "SELECT settings FROM shop_settings WHERE shop_domain = $1";
        let stored = sqlx::query(select)
            .bind(shop.as_str())
            .fetch_optional(&self.pool)
            .await?;
        if let Some(row) = stored {
            return Ok(row.try_get(0)?);
        }
        sqlx::query(
            "INSERT INTO shop_settings (shop_domain, settings, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (shop_domain) DO NOTHING",
        )
        .bind(shop.as_str())
        .bind(initial)
        .bind(self.now())
        .execute(&self.pool)
        .await?;
        // Another replica may have inserted first; its settings stand.
        let row = sqlx::query(select)
            .bind(shop.as_str())
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }

    async fn put_settings(&self, shop: &ShopDomain, settings: &str) -> Result<(), AppError> {
        sqlx::query(
            "INSERT INTO shop_settings (shop_domain, settings, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (shop_domain) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
        )
        .bind(shop.as_str())
        .bind(settings)
        .bind(self.now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn experiments(&self, shop: &ShopDomain) -> Result<Vec<Experiment>, AppError> {
        let rows = sqlx::query(
            "SELECT experiment_id, name, placement, arms, salt, status, created_at, started_at, stopped_at \
             FROM experiments WHERE shop_domain = $1 ORDER BY created_at DESC, experiment_id",
        )
        .bind(shop.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(experiment_of).collect()
    }

    async fn insert_experiment(
        &self,
        shop: &ShopDomain,
        experiment: &Experiment,
    ) -> Result<(), AppError> {
        let arms = serde_json::to_string(&experiment.arms)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        sqlx::query(
            "INSERT INTO experiments (shop_domain, experiment_id, name, placement, arms, salt, status, \
             created_at, started_at, stopped_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(shop.as_str())
        .bind(&experiment.id)
        .bind(&experiment.name)
        .bind(&experiment.placement)
        .bind(arms)
        .bind(&experiment.salt)
        .bind(experiment.status.as_str())
        .bind(experiment.created_at)
        .bind(experiment.started_at)
        .bind(experiment.stopped_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn move_experiment(
        &self,
        shop: &ShopDomain,
        id: &str,
        from: ExperimentStatus,
        to: ExperimentStatus,
        at: i64,
    ) -> Result<bool, AppError> {
        let stamp = match to {
            ExperimentStatus::Running => "started_at",
            _ => "stopped_at",
        };
        let sql = format!(
            "UPDATE experiments SET status = $1, {stamp} = $2 \
             WHERE shop_domain = $3 AND experiment_id = $4 AND status = $5"
        );
        let result = sqlx::query(&sql)
            .bind(to.as_str())
            .bind(at)
            .bind(shop.as_str())
            .bind(id)
            .bind(from.as_str())
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn recommendation_days(
        &self,
        shop: &ShopDomain,
        since_ms: i64,
    ) -> Result<Vec<RecommendationDay>, AppError> {
        let rows = sqlx::query(
            "SELECT occurred_at / 86400000 AS day, strategy, placement, \
               SUM(CASE WHEN kind = 'recommendation_viewed' THEN 1 ELSE 0 END), \
               SUM(CASE WHEN kind = 'recommendation_clicked' THEN 1 ELSE 0 END) \
             FROM shopper_events WHERE shop_domain = $1 AND occurred_at >= $2 \
             AND kind IN ('recommendation_viewed', 'recommendation_clicked') \
             GROUP BY occurred_at / 86400000, strategy, placement",
        )
        .bind(shop.as_str())
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(RecommendationDay {
                    day: row.try_get(0)?,
                    strategy: row.try_get::<Option<String>, _>(1)?.unwrap_or_default(),
                    placement: row.try_get(2)?,
                    shown: row.try_get(3)?,
                    clicked: row.try_get(4)?,
                    carted: 0,
                })
            })
            .collect()
    }

    async fn cart_additions(
        &self,
        shop: &ShopDomain,
        since_ms: i64,
    ) -> Result<Vec<CartAddition>, AppError> {
        let rows = sqlx::query(
            "SELECT client_id, product_id, occurred_at FROM shopper_events \
             WHERE shop_domain = $1 AND kind = 'product_added_to_cart' AND occurred_at >= $2 \
             AND product_id IS NOT NULL",
        )
        .bind(shop.as_str())
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(CartAddition {
                    client_id: row.try_get(0)?,
                    product_id: row.try_get::<i64, _>(1)? as u64,
                    at: row.try_get(2)?,
                })
            })
            .collect()
    }

    async fn recommendation_clicks(
        &self,
        shop: &ShopDomain,
        since_ms: i64,
    ) -> Result<Vec<RecommendationClick>, AppError> {
        let rows = sqlx::query(
            "SELECT client_id, customer_id, source, product_id, strategy, placement, occurred_at \
             FROM shopper_events WHERE shop_domain = $1 AND kind = 'recommendation_clicked' \
             AND occurred_at >= $2 AND product_id IS NOT NULL",
        )
        .bind(shop.as_str())
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let source: String = row.try_get(2)?;
                // Only a signed source's word links a click to a customer's orders.
                let vouched = source != "unverified";
                Ok(RecommendationClick {
                    client_id: row.try_get(0)?,
                    customer_id: row
                        .try_get::<Option<i64>, _>(1)?
                        .filter(|_| vouched)
                        .map(|c| CustomerId(c as u64)),
                    product_id: row.try_get::<i64, _>(3)? as u64,
                    strategy: row.try_get::<Option<String>, _>(4)?.unwrap_or_default(),
                    placement: row.try_get(5)?,
                    at: row.try_get(6)?,
                })
            })
            .collect()
    }

    async fn visitors(
        &self,
        shop: &ShopDomain,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<String>, AppError> {
        let rows = sqlx::query(
            "SELECT DISTINCT client_id FROM shopper_events WHERE shop_domain = $1 \
             AND occurred_at >= $2 AND occurred_at <= $3",
        )
        .bind(shop.as_str())
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok(row.try_get(0)?)).collect()
    }

    async fn recent_shoppers(
        &self,
        shop: &ShopDomain,
        limit: usize,
    ) -> Result<Vec<(ClientId, i64, i64)>, AppError> {
        let since = self.now() - 24 * 3_600_000;
        let rows = sqlx::query(
            "SELECT client_id, MAX(occurred_at) AS last_seen, COUNT(*) FROM shopper_events \
             WHERE shop_domain = $1 AND occurred_at >= $2 \
             AND kind NOT IN ('recommendation_viewed', 'recommendation_clicked') \
             GROUP BY client_id ORDER BY last_seen DESC LIMIT $3",
        )
        .bind(shop.as_str())
        .bind(since)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    ClientId::stored(row.try_get(0)?),
                    row.try_get(1)?,
                    row.try_get(2)?,
                ))
            })
            .collect()
    }

    async fn shop_currency(&self, shop: &ShopDomain) -> Result<Option<String>, AppError> {
        let row = sqlx::query(
            "SELECT currency FROM orders WHERE shop_domain = $1 AND currency IS NOT NULL \
             ORDER BY created_at DESC LIMIT 1",
        )
        .bind(shop.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| r.try_get(0)).transpose().map_err(Into::into)
    }

    async fn plan(&self, shop: &ShopDomain) -> Result<Option<PlanRow>, AppError> {
        let row = sqlx::query(
            "SELECT plan, subscription_id, status, test, updated_at FROM shop_plans WHERE shop_domain = $1",
        )
        .bind(shop.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(PlanRow {
                plan: row.try_get(0)?,
                subscription_id: row.try_get(1)?,
                status: row.try_get(2)?,
                test: row.try_get::<i64, _>(3)? != 0,
                updated_at: row.try_get(4)?,
            })
        })
        .transpose()
    }

    async fn put_plan(&self, shop: &ShopDomain, plan: &PlanRow) -> Result<(), AppError> {
        sqlx::query(
            "INSERT INTO shop_plans (shop_domain, plan, subscription_id, status, test, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (shop_domain) DO UPDATE SET plan = excluded.plan, \
             subscription_id = excluded.subscription_id, status = excluded.status, test = excluded.test, \
             updated_at = excluded.updated_at",
        )
        .bind(shop.as_str())
        .bind(&plan.plan)
        .bind(&plan.subscription_id)
        .bind(&plan.status)
        .bind(i64::from(plan.test))
        .bind(plan.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

fn experiment_of(row: &sqlx::any::AnyRow) -> Result<Experiment, AppError> {
    let arms: String = row.try_get(3)?;
    let status: String = row.try_get(5)?;
    Ok(Experiment {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        placement: row.try_get(2)?,
        arms: serde_json::from_str::<Vec<Arm>>(&arms)
            .map_err(|e| AppError::Internal(format!("stored experiment arms: {e}")))?,
        salt: row.try_get(4)?,
        status: ExperimentStatus::parse(&status)
            .ok_or_else(|| AppError::Internal(format!("stored experiment status `{status}`")))?,
        created_at: row.try_get(6)?,
        started_at: row.try_get(7)?,
        stopped_at: row.try_get(8)?,
    })
}
