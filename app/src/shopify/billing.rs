//! Billing through Shopify: a paid plan is an app subscription the merchant approves on
//! Shopify's page; Kindred records what Shopify says of it, and reads it again whenever the
//! merchant opens Billing, so a cancelled or frozen charge stops the plan.

use serde_json::{json, Value};

use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::proof::plans::{plan, PlanId, PlanRow};
use crate::shopify::graphql::{
    ACTIVE_SUBSCRIPTIONS, APP_SUBSCRIPTION_CANCEL, APP_SUBSCRIPTION_CREATE, SHOP_PLAN,
};
use crate::shopify::service::ShopifyService;

/// Where Shopify sends the merchant back after the approval page.
pub const BILLING_RETURN_PATH: &str = "/app/billing/return";

impl ShopifyService {
    /// Starts the merchant's move to `plan`: for a paid plan, the URL of Shopify's approval
    /// page (a test charge on a development store); for the free plan, the paid
    /// subscription is cancelled at once and there is nothing to approve.
    pub async fn subscribe(
        &self,
        shop: &ShopDomain,
        choice: PlanId,
    ) -> Result<Option<String>, AppError> {
        if choice == PlanId::Free {
            self.cancel_subscription(shop).await?;
            return Ok(None);
        }
        let app_url =
            self.inner
                .config
                .app_url
                .as_deref()
                .ok_or(AppError::ShopifyNotConfigured(
                    "set KINDRED_APP_URL: Shopify returns the merchant there",
                ))?;
        let chosen = plan(choice);
        let test = self
            .admin_graphql(shop, SHOP_PLAN, json!({}))
            .await?
            .pointer("/shop/plan/partnerDevelopment")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let return_url = format!(
            "{}{BILLING_RETURN_PATH}?shop={}",
            app_url.trim_end_matches('/'),
            shop.as_str()
        );
        let data = self
            .admin_graphql(
                shop,
                APP_SUBSCRIPTION_CREATE,
                json!({
                    "name": subscription_name(choice),
                    "returnUrl": return_url,
                    "test": test,
                    "trialDays": chosen.trial_days,
                    "price": format!("{:.2}", chosen.price),
                    "currency": chosen.currency,
                }),
            )
            .await?;
        let created = &data["appSubscriptionCreate"];
        refused(created)?;
        let confirmation = created["confirmationUrl"]
            .as_str()
            .ok_or_else(|| AppError::Upstream("Shopify returned no confirmation URL".into()))?;
        let row = PlanRow {
            plan: choice.as_str().to_owned(),
            subscription_id: created
                .pointer("/appSubscription/id")
                .and_then(Value::as_str)
                .map(str::to_owned),
            status: status_of(created.pointer("/appSubscription/status")),
            test,
            updated_at: self.stores().now(),
        };
        self.stores().proof.put_plan(shop, &row).await?;
        Ok(Some(confirmation.to_owned()))
    }

    /// Reads the shop's subscriptions from Shopify and records the plan they pay for: the
    /// paid plan while a subscription of ours is active, else free.
    pub async fn refresh_plan(&self, shop: &ShopDomain) -> Result<PlanRow, AppError> {
        let data = self
            .admin_graphql(shop, ACTIVE_SUBSCRIPTIONS, json!({}))
            .await?;
        let active = data
            .pointer("/currentAppInstallation/activeSubscriptions")
            .and_then(Value::as_array)
            .and_then(|subs| {
                subs.iter()
                    .find(|s| {
                        s["name"].as_str() == Some(subscription_name(PlanId::Growth).as_str())
                    })
                    .cloned()
            });
        let row = match active {
            Some(sub) => PlanRow {
                plan: PlanId::Growth.as_str().to_owned(),
                subscription_id: sub["id"].as_str().map(str::to_owned),
                status: status_of(sub.get("status")),
                test: sub["test"].as_bool().unwrap_or(false),
                updated_at: self.stores().now(),
            },
            None => PlanRow {
                plan: PlanId::Free.as_str().to_owned(),
                subscription_id: None,
                status: "active".into(),
                test: false,
                updated_at: self.stores().now(),
            },
        };
        self.stores().proof.put_plan(shop, &row).await?;
        Ok(row)
    }

    async fn cancel_subscription(&self, shop: &ShopDomain) -> Result<(), AppError> {
        let current = self.refresh_plan(shop).await?;
        if let Some(id) = current.subscription_id.filter(|_| current.plan != "free") {
            let data = self
                .admin_graphql(shop, APP_SUBSCRIPTION_CANCEL, json!({ "id": id }))
                .await?;
            refused(&data["appSubscriptionCancel"])?;
        }
        self.refresh_plan(shop).await.map(|_| ())
    }
}

/// Shopify's user errors as a 400 the merchant can read.
fn refused(payload: &Value) -> Result<(), AppError> {
    let messages: Vec<&str> = payload["userErrors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["message"].as_str())
                .collect()
        })
        .unwrap_or_default();
    if messages.is_empty() {
        Ok(())
    } else {
        Err(AppError::InvalidInput(format!(
            "Shopify refused the charge: {}",
            messages.join("; ")
        )))
    }
}

fn status_of(raw: Option<&Value>) -> String {
    raw.and_then(Value::as_str)
        .unwrap_or("pending")
        .to_ascii_lowercase()
}

/// The subscription's name on the merchant's bill, and how Kindred finds it again.
fn subscription_name(id: PlanId) -> String {
    format!("Kindred {}", plan(id).name)
}
