//! A webhook at the door: signature, headers, topic, body shape and shop checked, then
//! committed to the inbox. Only then may Shopify get its 200; nothing is applied here.

use serde_json::Value;

use crate::error::AppError;
use crate::shopify::service::{Receipt, ShopifyService};
use crate::shopify::webhooks::{DeliveryHeaders, HeaderLookup};
use crate::stores::InboxDelivery;

impl ShopifyService {
    /// Verifies and durably records a delivery. Only when this returns `Ok` may Shopify get
    /// its 200; nothing is applied here.
    pub async fn receive<'a>(
        &self,
        headers: &impl HeaderLookup<'a>,
        body: &[u8],
        compliance_endpoint: bool,
    ) -> Result<Receipt, AppError> {
        // The signature first: nothing in an unsigned request is read.
        let hmac = DeliveryHeaders::hmac(headers)?;
        if !self.inner.api.secrets().verify_webhook(body, hmac) {
            metrics::counter!("kindred_webhooks_rejected_total", "reason" => "signature")
                .increment(1);
            return Err(AppError::InvalidSignature(
                "X-Shopify-Hmac-Sha256 does not match the body".into(),
            ));
        }
        let headers = DeliveryHeaders::read(headers)?;
        let topic = headers.topic;
        if topic.is_compliance() != compliance_endpoint {
            return Err(AppError::UnknownTopic(format!(
                "{topic} is not delivered to this endpoint (use /webhooks{})",
                if topic.is_compliance() {
                    "/compliance"
                } else {
                    ""
                }
            )));
        }
        let shop = headers.shop;
        let event_key = headers
            .event_id
            .as_ref()
            .map(|event| format!("{shop} {topic} {event}"));
        if self
            .stores()
            .inbox
            .delivery_seen(&headers.webhook_id, event_key.as_deref())
            .await?
        {
            metrics::counter!("kindred_webhooks_duplicate_total").increment(1);
            return Ok(Receipt::Duplicate);
        }
        let (body, parsed) = json_object(body)?;
        if let Err(reason) = topic.check_body(&parsed, shop.as_str()) {
            metrics::counter!("kindred_webhooks_rejected_total", "reason" => "body").increment(1);
            return Err(AppError::InvalidInput(reason));
        }
        if self.stores().installs.install(&shop).await?.is_none() {
            // A privacy topic for a shop Kindred never installed on (or long forgot) has
            // nothing to act on, and Shopify wants a 2xx for it all the same.
            if topic.is_compliance() {
                return Ok(Receipt::NothingHeld);
            }
            return Err(AppError::UnknownShop(shop.to_string()));
        }
        let delivery = InboxDelivery {
            webhook_id: headers.webhook_id,
            event_key,
            shop,
            topic,
            api_version: headers.api_version,
            triggered_at: headers.triggered_at,
            body: body.to_owned(),
        };
        if !self.stores().inbox.enqueue_delivery(&delivery).await? {
            return Ok(Receipt::Duplicate);
        }
        metrics::counter!("kindred_webhooks_received_total", "topic" => topic.as_str())
            .increment(1);
        self.inner.inbox_ready.notify_one();
        Ok(Receipt::Accepted)
    }
}

/// The body as text and as the JSON object every topic's body is.
fn json_object(body: &[u8]) -> Result<(&str, Value), AppError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| AppError::InvalidJson("the body is not UTF-8".into()))?;
    match serde_json::from_str::<Value>(text) {
        Ok(parsed @ Value::Object(_)) => Ok((text, parsed)),
        Ok(_) => Err(AppError::InvalidJson(
            "the body is not a JSON object".into(),
        )),
        Err(err) => Err(AppError::InvalidJson(err.to_string())),
    }
}
