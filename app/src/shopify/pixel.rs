//! The shop's web pixel: at each install Kindred creates it through the Admin API (or, on a
//! reinstall, updates it) with the two settings its extension declares: where to send
//! events and a fresh public key of the shop to send them with (the previous one revoked).
//! The key can only add anonymous events to this one shop (`http/pixel.rs` says what a
//! forged event can and cannot do).

use serde_json::{json, Value};

use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::shopify::graphql::{WEB_PIXEL, WEB_PIXEL_CREATE, WEB_PIXEL_UPDATE};
use crate::shopify::service::ShopifyService;
use crate::stores::{KeyScope, PixelRow};

/// Where the pixel posts, below the app's public URL.
pub const PIXEL_EVENTS_PATH: &str = "/api/v1/pixel/events";

impl ShopifyService {
    /// Creates or updates the shop's web pixel. Without a public URL (`KINDRED_APP_URL`)
    /// there is nowhere to point it: the install goes on without a pixel, and says so.
    pub(in crate::shopify) async fn connect_pixel(
        &self,
        shop: &ShopDomain,
    ) -> Result<(), AppError> {
        let Some(app_url) = self.inner.config.app_url.as_deref() else {
            tracing::warn!(%shop, "no KINDRED_APP_URL: the web pixel is not connected");
            return Ok(());
        };
        let previous = self.stores().installs.web_pixel(shop).await?;
        let (key, info) = self
            .stores()
            .keys
            .issue_key(KeyScope::Storefront, Some(shop))
            .await?;
        let settings = json!({
            "endpoint": format!("{}{PIXEL_EVENTS_PATH}", app_url.trim_end_matches('/')),
            "key": key,
        })
        .to_string();
        let pixel_id = match self
            .save_pixel(
                shop,
                previous.as_ref().map(|p| p.pixel_id.as_str()),
                &settings,
            )
            .await
        {
            Ok(id) => id,
            Err(err) => {
                // The key is useless without the pixel that would carry it.
                self.stores()
                    .keys
                    .revoke_key(Some(shop), &info.key_id)
                    .await?;
                return Err(err);
            }
        };
        if let Some(previous) = previous.filter(|p| p.key_id != info.key_id) {
            self.stores()
                .keys
                .revoke_key(Some(shop), &previous.key_id)
                .await?;
        }
        self.stores()
            .installs
            .save_web_pixel(
                shop,
                &PixelRow {
                    pixel_id: pixel_id.clone(),
                    key_id: info.key_id,
                },
            )
            .await?;
        self.inner.keys.invalidate();
        tracing::info!(%shop, pixel = %pixel_id, "web pixel connected");
        Ok(())
    }

    /// The pixel's id after writing its settings: an update of the known pixel, else a
    /// create, else (Shopify says the app has one already) an update of the one it has.
    async fn save_pixel(
        &self,
        shop: &ShopDomain,
        known: Option<&str>,
        settings: &str,
    ) -> Result<String, AppError> {
        if let Some(id) = known {
            if let Ok(id) = self.update_pixel(shop, id, settings).await? {
                return Ok(id);
            }
        }
        let data = self
            .admin_graphql(shop, WEB_PIXEL_CREATE, json!({ "settings": settings }))
            .await?;
        let created = &data["webPixelCreate"];
        match pixel_written(created) {
            Ok(id) => Ok(id),
            Err(codes) if codes.iter().any(|c| c == "TAKEN") => {
                let existing = self.admin_graphql(shop, WEB_PIXEL, json!({})).await?;
                let id = existing
                    .pointer("/webPixel/id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        AppError::Upstream("Shopify has a pixel but names none".into())
                    })?;
                self.update_pixel(shop, id, settings)
                    .await?
                    .map_err(|codes| {
                        AppError::Upstream(format!("web pixel not updated: {}", codes.join(", ")))
                    })
            }
            Err(codes) => Err(AppError::Upstream(format!(
                "web pixel not created: {}",
                codes.join(", ")
            ))),
        }
    }
}

impl ShopifyService {
    /// `webPixelUpdate`: the pixel's id, or the codes of Shopify's refusal.
    async fn update_pixel(
        &self,
        shop: &ShopDomain,
        id: &str,
        settings: &str,
    ) -> Result<Result<String, Vec<String>>, AppError> {
        let data = self
            .admin_graphql(
                shop,
                WEB_PIXEL_UPDATE,
                json!({ "id": id, "settings": settings }),
            )
            .await?;
        Ok(pixel_written(&data["webPixelUpdate"]))
    }
}

/// The pixel id a create or update returned, or its user errors' codes.
fn pixel_written(payload: &Value) -> Result<String, Vec<String>> {
    let errors: Vec<String> = payload["userErrors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    e["code"]
                        .as_str()
                        .or_else(|| e["message"].as_str())
                        .unwrap_or("error")
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default();
    match payload.pointer("/webPixel/id").and_then(Value::as_str) {
        Some(id) if errors.is_empty() => Ok(id.to_owned()),
        _ if errors.is_empty() => Err(vec!["no pixel returned".to_owned()]),
        _ => Err(errors),
    }
}
