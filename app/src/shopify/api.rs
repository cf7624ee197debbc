//! Kindred's client of Shopify's Admin API: OAuth token endpoints, GraphQL with cost-based
//! throttling and retries, and bulk-operation downloads. Every request goes to the shop's
//! Admin base URL, built from a template so tests can point it at a local fake Shopify.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use futures_util::TryStreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::AsyncBufRead;

use super::signature::AppSecrets;
use crate::domain::ShopDomain;
use crate::error::AppError;

/// The Admin API version every call uses (and `shopify.app.toml` declares).
pub const API_VERSION: &str = "2025-10";
/// Most waits for throttled GraphQL calls before giving up on one call.
const MAX_THROTTLE_WAITS: usize = 10;

/// Tokens Shopify grants at install, token exchange or refresh. Its `Debug` leaves the
/// tokens out, so no log line can carry them.
#[derive(Clone, Deserialize)]
pub struct TokenGrant {
    pub access_token: String,
    #[serde(default)]
    pub scope: String,
    /// Seconds; present for expiring offline tokens.
    #[serde(default)]
    pub expires_in: Option<i64>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub refresh_token_expires_in: Option<i64>,
}

impl std::fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenGrant")
            .field("access_token", &"[redacted]")
            .field("scope", &self.scope)
            .field("expires_in", &self.expires_in)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("refresh_token_expires_in", &self.refresh_token_expires_in)
            .finish()
    }
}

#[derive(Clone, Debug)]
pub struct ShopifyApi {
    http: reqwest::Client,
    client_id: String,
    secrets: AppSecrets,
    /// `https://{shop}` in production; `{shop}` is replaced by the shop's domain.
    admin_url_template: String,
}

/// Why a call to Shopify failed, and whether trying again can help.
#[derive(Debug)]
enum CallError {
    Transient(String),
    Permanent(AppError),
}

impl ShopifyApi {
    pub fn new(
        client_id: String,
        secrets: AppSecrets,
        admin_url_template: String,
    ) -> Result<Self, AppError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("Kindred/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| AppError::Config(format!("HTTP client: {err}")))?;
        Ok(Self {
            http,
            client_id,
            secrets,
            admin_url_template,
        })
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn secrets(&self) -> &AppSecrets {
        &self.secrets
    }

    /// The shop's Admin base URL, e.g. `https://demo.myshopify.com`.
    pub fn admin_base(&self, shop: &ShopDomain) -> String {
        self.admin_url_template
            .replace("{shop}", shop.as_str())
            .trim_end_matches('/')
            .to_owned()
    }

    /// Authorization code grant: the code from the install callback for an offline token.
    pub async fn exchange_code(
        &self,
        shop: &ShopDomain,
        code: &str,
    ) -> Result<TokenGrant, AppError> {
        self.token_request(
            shop,
            json!({
                "code": code,
            }),
        )
        .await
    }

    /// Token exchange: an App Bridge session token for an expiring offline access token.
    pub async fn exchange_session_token(
        &self,
        shop: &ShopDomain,
        session_token: &str,
    ) -> Result<TokenGrant, AppError> {
        self.token_request(
            shop,
            json!({
                "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                "subject_token": session_token,
                "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
                "requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
                "expiring": "1",
            }),
        )
        .await
    }

    /// A new access token (and a new refresh token: the old one stops working).
    pub async fn refresh(
        &self,
        shop: &ShopDomain,
        refresh_token: &str,
    ) -> Result<TokenGrant, AppError> {
        self.token_request(
            shop,
            json!({
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
            }),
        )
        .await
    }

    /// POSTs a grant to the shop's token endpoint, as this app (client id and secret added).
    async fn token_request(
        &self,
        shop: &ShopDomain,
        mut form: Value,
    ) -> Result<TokenGrant, AppError> {
        form["client_id"] = json!(self.client_id);
        form["client_secret"] = json!(self.secrets.current().expose());
        let url = format!("{}/admin/oauth/access_token", self.admin_base(shop));
        let body = self.post_json(&url, None, &form).await?;
        serde_json::from_value(body).map_err(|err| {
            AppError::Upstream(format!(
                "Shopify's token response was not understood: {err}"
            ))
        })
    }

    /// POSTs JSON and reads the JSON answer, retrying transient failures (connection
    /// errors, 5xx, 429) with backoff.
    async fn post_json(
        &self,
        url: &str,
        access_token: Option<&str>,
        body: &Value,
    ) -> Result<Value, AppError> {
        (|| async {
            let mut request = self
                .http
                .post(url)
                .header("accept", "application/json")
                .json(body);
            if let Some(token) = access_token {
                request = request.header("x-shopify-access-token", token);
            }
            let response = request
                .send()
                .await
                .map_err(|err| CallError::Transient(err.to_string()))?;
            read_response(response).await
        })
        .retry(retry_policy())
        .when(|err| matches!(err, CallError::Transient(_)))
        .await
        .map_err(CallError::into_app_error)
    }

    /// Runs a GraphQL document. Transient failures are retried with backoff; a throttled
    /// call waits as long as Shopify's leaky bucket needs to refill, then runs again.
    pub async fn graphql(
        &self,
        shop: &ShopDomain,
        access_token: &str,
        query: &str,
        variables: Value,
    ) -> Result<Value, AppError> {
        let url = format!(
            "{}/admin/api/{API_VERSION}/graphql.json",
            self.admin_base(shop)
        );
        let request = json!({ "query": query, "variables": variables });
        for _ in 0..MAX_THROTTLE_WAITS {
            let body = self.post_json(&url, Some(access_token), &request).await?;

            if let Some(wait) = throttled_wait(&body) {
                metrics::counter!("kindred_shopify_throttled_total").increment(1);
                tracing::info!(%shop, wait_ms = wait.as_millis() as u64, "GraphQL throttled; waiting");
                tokio::time::sleep(wait).await;
                continue;
            }
            if let Some(errors) = body.get("errors").filter(|e| !e.is_null()) {
                return Err(AppError::Upstream(format!("GraphQL errors: {errors}")));
            }
            // Stay under the bucket: when a call leaves little, let it refill before the next.
            if let Some(wait) = low_bucket_wait(&body) {
                tokio::time::sleep(wait).await;
            }
            return body
                .get("data")
                .cloned()
                .ok_or_else(|| AppError::Upstream("GraphQL response without data".into()));
        }
        Err(AppError::Upstream(
            "GraphQL stayed throttled; will retry later".into(),
        ))
    }

    /// Opens a bulk operation's JSONL for streaming, line by line.
    pub async fn download(&self, url: &str) -> Result<impl AsyncBufRead + Unpin, AppError> {
        let response = (|| async {
            let response = self
                .http
                .get(url)
                .timeout(Duration::from_secs(3600))
                .send()
                .await
                .map_err(|err| CallError::Transient(err.to_string()))?;
            let status = response.status();
            if status.is_server_error() || status.as_u16() == 429 {
                return Err(CallError::Transient(format!("download answered {status}")));
            }
            if !status.is_success() {
                return Err(CallError::Permanent(AppError::Upstream(format!(
                    "bulk download answered {status}"
                ))));
            }
            Ok(response)
        })
        .retry(retry_policy())
        .when(|err| matches!(err, CallError::Transient(_)))
        .await
        .map_err(CallError::into_app_error)?;
        let stream = response.bytes_stream().map_err(std::io::Error::other);
        Ok(tokio::io::BufReader::new(
            tokio_util::io::StreamReader::new(stream),
        ))
    }
}

fn retry_policy() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(20))
        .with_max_times(5)
        .with_jitter()
}

async fn read_response(response: reqwest::Response) -> Result<Value, CallError> {
    let status = response.status();
    if status.as_u16() == 429 || status.is_server_error() {
        return Err(CallError::Transient(format!("Shopify answered {status}")));
    }
    let text = response
        .text()
        .await
        .map_err(|err| CallError::Transient(err.to_string()))?;
    if status.as_u16() == 401 || status.as_u16() == 403 {
        return Err(CallError::Permanent(AppError::ShopifyUnauthorized(
            format!(
                "Shopify answered {status}: {}",
                text.chars().take(300).collect::<String>()
            ),
        )));
    }
    if !status.is_success() {
        return Err(CallError::Permanent(AppError::Upstream(format!(
            "Shopify answered {status}: {}",
            text.chars().take(300).collect::<String>()
        ))));
    }
    serde_json::from_str(&text).map_err(|err| {
        CallError::Permanent(AppError::Upstream(format!(
            "Shopify sent invalid JSON: {err}"
        )))
    })
}

impl CallError {
    fn into_app_error(self) -> AppError {
        match self {
            Self::Transient(message) => AppError::Upstream(message),
            Self::Permanent(err) => err,
        }
    }
}

/// How long to wait when a response says THROTTLED: until the bucket holds the query's cost.
fn throttled_wait(body: &Value) -> Option<Duration> {
    let throttled = body
        .get("errors")?
        .as_array()?
        .iter()
        .any(|e| e.pointer("/extensions/code").and_then(Value::as_str) == Some("THROTTLED"));
    if !throttled {
        return None;
    }
    let cost = body.pointer("/extensions/cost");
    let requested = cost
        .and_then(|c| c.get("requestedQueryCost"))
        .and_then(Value::as_f64)
        .unwrap_or(50.0);
    Some(refill_time(cost, requested).max(Duration::from_millis(500)))
}

/// After a successful call: wait when what is left is below what the call itself cost.
fn low_bucket_wait(body: &Value) -> Option<Duration> {
    let cost = body.pointer("/extensions/cost")?;
    let spent = cost.get("actualQueryCost").and_then(Value::as_f64)?;
    let available = cost
        .pointer("/throttleStatus/currentlyAvailable")
        .and_then(Value::as_f64)?;
    (available < spent).then(|| refill_time(Some(cost), spent))
}

fn refill_time(cost: Option<&Value>, needed: f64) -> Duration {
    let status = cost.and_then(|c| c.get("throttleStatus"));
    let available = status
        .and_then(|s| s.get("currentlyAvailable"))
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    let restore = status
        .and_then(|s| s.get("restoreRate"))
        .and_then(Value::as_f64)
        .filter(|r| *r > 0.0)
        .unwrap_or(50.0);
    Duration::from_secs_f64(((needed - available).max(0.0) / restore).min(60.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttled_responses_wait_for_the_bucket_to_refill() {
        let throttled = json!({
            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": {"cost": {"requestedQueryCost": 752, "actualQueryCost": null,
                "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 352, "restoreRate": 100.0}}}
        });
        assert_eq!(throttled_wait(&throttled), Some(Duration::from_secs(4)));
        let fine = json!({"data": {}, "extensions": {"cost": {"requestedQueryCost": 10, "actualQueryCost": 8,
            "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1992, "restoreRate": 100.0}}}});
        assert_eq!(throttled_wait(&fine), None);
        assert_eq!(low_bucket_wait(&fine), None);
        let low = json!({"data": {}, "extensions": {"cost": {"requestedQueryCost": 100, "actualQueryCost": 100,
            "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 50, "restoreRate": 100.0}}}});
        assert_eq!(low_bucket_wait(&low), Some(Duration::from_millis(500)));
    }
}
