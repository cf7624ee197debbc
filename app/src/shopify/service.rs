//! The Shopify app's core: installs and tokens, the durable webhook inbox and its worker,
//! bulk catalogue sync, reconciliation and the privacy topics. HTTP handlers only parse and
//! call in here.
//!
//! Ordering rules that keep the catalogue equal to the store's whatever the delivery does:
//! a delivery is committed to the inbox before it is acknowledged; applying it is
//! idempotent; an older version of a product never replaces a newer one (`updated_at`);
//! a deleted product leaves a tombstone, so no late create or update brings it back.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::io::AsyncBufReadExt;
use tokio::sync::Notify;

use super::api::{ShopifyApi, TokenGrant};
use super::bulk::BulkAssembler;
use super::crypto::TokenCipher;
use super::graphql::{
    product_from_graphql_node, BULK_OPERATION_STATUS, BULK_PRODUCTS_QUERY, PRODUCTS_UPDATED_SINCE,
    PRODUCT_OF_INVENTORY_ITEM, RUN_BULK_QUERY,
};
use super::signature::single_value;
use super::webhooks::{DeliveryHeaders, Topic};
use crate::catalog::service::CatalogService;
use crate::domain::{Product, ProductId, ShopDomain};
use crate::error::AppError;
use crate::http::KeyCache;
use crate::progress::Silent;
use crate::storage::{now_millis, InboxDelivery, PendingDelivery, SealedGrant, SqlStore, SyncRow};

/// Deliveries applied per round of the inbox worker.
const INBOX_BATCH: i64 = 200;
/// Attempts before a delivery is parked as failed (backoff from 2 s to 68 min: about six hours in all).
const MAX_ATTEMPTS: i64 = 16;
/// An OAuth `state` is good for this long.
const OAUTH_STATE_TTL_MS: i64 = 10 * 60 * 1000;
/// Access tokens this close to expiry are refreshed first.
const REFRESH_MARGIN_MS: i64 = 5 * 60 * 1000;

/// What the app is to Shopify.
#[derive(Debug, Clone)]
pub struct ShopifyAppConfig {
    pub scopes: String,
    /// Public URL of this server, for the OAuth redirect.
    pub app_url: Option<String>,
    pub bulk_poll_interval: Duration,
}

#[derive(Clone)]
pub struct ShopifyService {
    inner: Arc<Inner>,
}

struct Inner {
    catalog: CatalogService,
    api: ShopifyApi,
    cipher: TokenCipher,
    keys: KeyCache,
    config: ShopifyAppConfig,
    inbox_ready: Notify,
    bulk_finished: Notify,
    syncing: Mutex<HashSet<ShopDomain>>,
    refreshing: tokio::sync::Mutex<()>,
}

/// What became of a delivery at the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Receipt {
    Accepted,
    Duplicate,
    /// A privacy topic for a shop Kindred holds nothing of.
    NothingHeld,
}

/// Whether products carry their collections. The Admin REST shape of product webhooks has
/// none, so a webhook keeps what the bulk sync or reconciliation last read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collections {
    Included,
    Unknown,
}

/// A shop's Shopify state, for the merchant's admin page and operators.
#[derive(Debug, Serialize)]
pub struct ShopStatus {
    pub shop: String,
    pub installed: bool,
    pub scopes: Option<String>,
    pub products: i64,
    pub indexed: i64,
    pub sync: Option<SyncRow>,
    pub webhooks: crate::storage::InboxCounts,
}

impl ShopifyService {
    pub fn new(
        catalog: CatalogService,
        api: ShopifyApi,
        cipher: TokenCipher,
        keys: KeyCache,
        config: ShopifyAppConfig,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                catalog,
                api,
                cipher,
                keys,
                config,
                inbox_ready: Notify::new(),
                bulk_finished: Notify::new(),
                syncing: Mutex::default(),
                refreshing: Default::default(),
            }),
        }
    }

    pub fn store(&self) -> &SqlStore {
        self.inner.catalog.store()
    }

    pub fn api(&self) -> &ShopifyApi {
        &self.inner.api
    }

    // ---- webhooks: receiving -------------------------------------------------------------

    /// Verifies and durably records a delivery. Only when this returns `Ok` may Shopify get
    /// its 200; nothing is applied here.
    pub async fn receive(
        &self,
        headers: &HeaderMap,
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
        let topic = Topic::parse(&headers.topic)
            .ok_or_else(|| AppError::UnknownTopic(headers.topic.chars().take(100).collect()))?;
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
        let shop = ShopDomain::parse(&headers.shop_domain)?;
        let event_key = headers
            .event_id
            .as_ref()
            .map(|event| format!("{shop} {topic} {event}"));
        if self
            .store()
            .delivery_seen(&headers.webhook_id, event_key.as_deref())
            .await?
        {
            metrics::counter!("kindred_webhooks_duplicate_total").increment(1);
            return Ok(Receipt::Duplicate);
        }
        let body = std::str::from_utf8(body)
            .map_err(|_| AppError::InvalidJson("the body is not UTF-8".into()))?;
        let parsed = match serde_json::from_str::<Value>(body) {
            Ok(parsed @ Value::Object(_)) => parsed,
            Ok(_) => {
                return Err(AppError::InvalidJson(
                    "the body is not a JSON object".into(),
                ))
            }
            Err(err) => return Err(AppError::InvalidJson(err.to_string())),
        };
        if let Err(reason) = topic.check_body(&parsed, shop.as_str()) {
            metrics::counter!("kindred_webhooks_rejected_total", "reason" => "body").increment(1);
            return Err(AppError::InvalidInput(reason));
        }
        if self.store().install(&shop).await?.is_none() {
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
            topic: topic.as_str().to_owned(),
            api_version: headers.api_version,
            triggered_at: headers.triggered_at,
            body: body.to_owned(),
        };
        if !self.store().enqueue_delivery(&delivery).await? {
            return Ok(Receipt::Duplicate);
        }
        metrics::counter!("kindred_webhooks_received_total", "topic" => topic.as_str())
            .increment(1);
        self.inner.inbox_ready.notify_one();
        Ok(Receipt::Accepted)
    }

    // ---- webhooks: applying --------------------------------------------------------------

    /// Applies every delivery that is due; returns how many were taken.
    pub async fn process_inbox(&self) -> Result<usize, AppError> {
        let mut total = 0;
        loop {
            let batch = self.store().due_deliveries(INBOX_BATCH).await?;
            if batch.is_empty() {
                return Ok(total);
            }
            total += batch.len();
            self.apply_batch(batch).await?;
        }
    }

    /// The inbox worker: applies deliveries as they arrive, and retries failed ones when due.
    pub async fn run_inbox_worker(self) {
        loop {
            if let Err(err) = self.process_inbox().await {
                tracing::warn!(error = %err, "webhook inbox round failed; will retry");
            }
            tokio::select! {
                _ = self.inner.inbox_ready.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            }
        }
    }

    /// Product upserts of one shop are applied together (one embedding batch; the newest
    /// version of each product wins); any other delivery is applied in arrival order, after
    /// the upserts of its shop that came before it.
    async fn apply_batch(&self, batch: Vec<PendingDelivery>) -> Result<(), AppError> {
        let mut upserts: BTreeMap<String, Vec<(PendingDelivery, Product)>> = BTreeMap::new();
        for delivery in batch {
            let Some(topic) = Topic::parse(&delivery.topic) else {
                self.give_up(&delivery, "unknown topic").await?;
                continue;
            };
            let Ok(shop) = ShopDomain::parse(&delivery.shop_domain) else {
                self.give_up(&delivery, "invalid shop domain").await?;
                continue;
            };
            if matches!(topic, Topic::ProductsCreate | Topic::ProductsUpdate) {
                let parsed = serde_json::from_str::<Value>(&delivery.body)
                    .map_err(|e| e.to_string())
                    .and_then(|body| crate::catalog::product_from_json(&body));
                match parsed {
                    Ok(product) => upserts
                        .entry(shop.to_string())
                        .or_default()
                        .push((delivery, product)),
                    Err(reason) => self.give_up(&delivery, &reason).await?,
                }
                continue;
            }
            if let Some(pending) = upserts.remove(shop.as_str()) {
                self.apply_upserts(&shop, pending).await?;
            }
            let outcome = self.apply_one(&shop, topic, &delivery).await;
            self.record(&delivery, outcome).await?;
        }
        for (shop, pending) in upserts {
            let shop = ShopDomain::parse(&shop)?;
            self.apply_upserts(&shop, pending).await?;
        }
        Ok(())
    }

    async fn apply_upserts(
        &self,
        shop: &ShopDomain,
        pending: Vec<(PendingDelivery, Product)>,
    ) -> Result<(), AppError> {
        let (deliveries, products): (Vec<_>, Vec<_>) = pending.into_iter().unzip();
        match self
            .upsert_from_shopify(shop, products, Collections::Unknown)
            .await
        {
            Ok(_) => {
                let ids: Vec<String> = deliveries.iter().map(|d| d.webhook_id.clone()).collect();
                self.store().mark_applied(&ids).await?;
                metrics::counter!("kindred_webhooks_applied_total").increment(ids.len() as u64);
            }
            Err(err) => {
                for delivery in &deliveries {
                    self.record(delivery, Err(err.to_string())).await?;
                }
            }
        }
        Ok(())
    }

    async fn record(
        &self,
        delivery: &PendingDelivery,
        outcome: Result<(), String>,
    ) -> Result<(), AppError> {
        match outcome {
            Ok(()) => {
                metrics::counter!("kindred_webhooks_applied_total").increment(1);
                self.store()
                    .mark_applied(std::slice::from_ref(&delivery.webhook_id))
                    .await
            }
            Err(reason) => {
                let attempts = delivery.attempts + 1;
                let retry = (attempts < MAX_ATTEMPTS).then(|| 1000 * (1i64 << attempts.min(12)));
                tracing::warn!(webhook = %delivery.webhook_id, topic = %delivery.topic, shop = %delivery.shop_domain,
                    attempts, %reason, "webhook not applied");
                if retry.is_none() {
                    metrics::counter!("kindred_webhooks_failed_total").increment(1);
                }
                self.store()
                    .mark_attempt_failed(&delivery.webhook_id, &reason, retry)
                    .await
            }
        }
    }

    /// A delivery that can never apply (its body is unusable): parked, not retried.
    async fn give_up(&self, delivery: &PendingDelivery, reason: &str) -> Result<(), AppError> {
        tracing::warn!(webhook = %delivery.webhook_id, topic = %delivery.topic, %reason, "webhook cannot be applied");
        metrics::counter!("kindred_webhooks_failed_total").increment(1);
        self.store()
            .mark_attempt_failed(&delivery.webhook_id, reason, None)
            .await
    }

    async fn apply_one(
        &self,
        shop: &ShopDomain,
        topic: Topic,
        delivery: &PendingDelivery,
    ) -> Result<(), String> {
        let body: Value = serde_json::from_str(&delivery.body).map_err(|e| e.to_string())?;
        let result = match topic {
            Topic::ProductsCreate | Topic::ProductsUpdate => {
                unreachable!("product upserts are applied in groups")
            }
            Topic::ProductsDelete => {
                let id = body
                    .get("id")
                    .and_then(Value::as_u64)
                    .ok_or("products/delete without a numeric `id`")?;
                self.delete_from_shopify(shop, id).await
            }
            Topic::InventoryLevelsUpdate => self.apply_inventory_update(shop, &body).await,
            Topic::AppUninstalled => self.uninstall(shop).await,
            Topic::BulkOperationsFinish => {
                // The sync task waits on this; it reads the operation's result itself.
                self.inner.bulk_finished.notify_waiters();
                Ok(())
            }
            Topic::CustomersDataRequest => self.export_customer(shop, &body).await,
            Topic::CustomersRedact => {
                let customer = customer_id(&body)?;
                self.inner
                    .catalog
                    .redact_customer(shop, customer)
                    .await
                    .map(|_| ())
            }
            Topic::ShopRedact => self.redact_shop(shop).await,
        };
        result.map_err(|err| err.to_string())
    }

    /// Creates and updates from Shopify (webhooks, bulk sync, reconciliation), minus what
    /// was deleted there and what is older than what Kindred already has.
    pub async fn upsert_from_shopify(
        &self,
        shop: &ShopDomain,
        products: Vec<Product>,
        collections: Collections,
    ) -> Result<usize, AppError> {
        if !self.serving(shop).await? {
            return Ok(0);
        }
        let mut newest: HashMap<u64, Product> = HashMap::with_capacity(products.len());
        for product in products {
            match newest.get(&product.id) {
                Some(kept) if is_older(&product, kept) => {}
                _ => {
                    newest.insert(product.id, product);
                }
            }
        }
        let ids: Vec<u64> = newest.keys().copied().collect();
        for id in self.store().tombstoned(shop, &ids).await? {
            newest.remove(&id);
        }
        for chunk in ids.chunks(500) {
            for stored in self.store().get_products(shop, chunk).await? {
                if newest
                    .get(&stored.id)
                    .is_some_and(|incoming| is_older(incoming, &stored))
                {
                    newest.remove(&stored.id);
                } else if let (Collections::Unknown, Some(incoming)) =
                    (collections, newest.get_mut(&stored.id))
                {
                    incoming.collections = stored.collections;
                }
            }
        }
        let mut products: Vec<Product> = newest.into_values().collect();
        products.sort_by_key(|p| p.id);
        let count = products.len();
        if count > 0 {
            self.inner.catalog.ingest(shop, products, &Silent).await?;
        }
        Ok(count)
    }

    async fn delete_from_shopify(&self, shop: &ShopDomain, id: u64) -> Result<(), AppError> {
        let id = ProductId::parse(&id.to_string())?;
        // The tombstone first: from here on no late update can bring the product back.
        self.store().add_tombstone(shop, id.0).await?;
        self.inner.catalog.delete_product(shop, id).await?;
        Ok(())
    }

    async fn apply_inventory_update(
        &self,
        shop: &ShopDomain,
        body: &Value,
    ) -> Result<(), AppError> {
        if !self.serving(shop).await? {
            return Ok(());
        }
        let item = body
            .get("inventory_item_id")
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                AppError::InvalidInput("inventory_levels/update without `inventory_item_id`".into())
            })?;
        // The delivery names only the inventory item: read the product it belongs to, whole,
        // so availability is computed from every variant as Shopify has it now.
        let data = self
            .admin_graphql(
                shop,
                PRODUCT_OF_INVENTORY_ITEM,
                json!({ "id": format!("gid://shopify/InventoryItem/{item}") }),
            )
            .await?;
        let Some(node) = data
            .pointer("/inventoryItem/variant/product")
            .filter(|n| !n.is_null())
        else {
            return Ok(()); // the item or its product is gone; products/delete covers that
        };
        let product = product_from_graphql_node(node).map_err(AppError::Upstream)?;
        self.upsert_from_shopify(shop, vec![product], Collections::Included)
            .await?;
        Ok(())
    }

    /// app/uninstalled: tokens revoked and the storefront no longer served at once; the
    /// catalogue waits for shop/redact (Shopify sends it 48 hours later), so a merchant who
    /// reinstalls in between finds it intact.
    async fn uninstall(&self, shop: &ShopDomain) -> Result<(), AppError> {
        self.store().mark_uninstalled(shop).await?;
        self.inner.keys.invalidate();
        tracing::info!(%shop, "app uninstalled; tokens and storefront keys revoked");
        Ok(())
    }

    /// shop/redact: every row and vector of the shop.
    async fn redact_shop(&self, shop: &ShopDomain) -> Result<(), AppError> {
        self.inner.catalog.delete_shop(shop).await?;
        self.inner.keys.invalidate();
        tracing::info!(%shop, "shop redacted");
        Ok(())
    }

    /// customers/data_request: what Kindred holds about the customer, kept for the merchant
    /// (`GET /api/v1/shops/{shop}/privacy/exports`). Kindred's catalogue holds no customer
    /// data; the export lists every store of shopper data it has, each empty or filled.
    async fn export_customer(&self, shop: &ShopDomain, body: &Value) -> Result<(), AppError> {
        let customer = customer_id(body).map_err(|e| AppError::InvalidInput(e.to_owned()))?;
        let request_id = body
            .pointer("/data_request/id")
            .map(|v| v.to_string())
            .unwrap_or_else(|| format!("customer-{customer}-{}", now_millis()));
        let export = json!({
            "shop": shop.as_str(),
            "customer_id": customer.to_string(),
            "generated_at": Utc::now().to_rfc3339(),
            "orders_requested": body.get("orders_requested").cloned().unwrap_or(json!([])),
            "data": {
                "events": self.store().customer_export_events(shop, customer).await?,
            },
        });
        self.store()
            .save_customer_export(shop, customer, &request_id, &export.to_string())
            .await
    }

    /// Whether the shop is installed and served now.
    async fn serving(&self, shop: &ShopDomain) -> Result<bool, AppError> {
        Ok(self
            .store()
            .install(shop)
            .await?
            .is_some_and(|i| i.active()))
    }

    // ---- install and tokens --------------------------------------------------------------

    /// Start of the authorization code grant: where to send the merchant.
    pub async fn begin_install(&self, shop: &ShopDomain) -> Result<String, AppError> {
        let app_url =
            self.inner
                .config
                .app_url
                .as_deref()
                .ok_or(AppError::ShopifyNotConfigured(
                    "KINDRED_APP_URL (the public URL for the OAuth redirect) is not set",
                ))?;
        let mut nonce = [0u8; 16];
        rand::rng().fill_bytes(&mut nonce);
        let nonce = hex::encode(nonce);
        self.store().save_oauth_state(shop, &nonce).await?;
        let authorize = format!("{}/admin/oauth/authorize", self.inner.api.admin_base(shop));
        let redirect_uri = format!("{}/auth/callback", app_url.trim_end_matches('/'));
        let url = url::Url::parse_with_params(
            &authorize,
            [
                ("client_id", self.inner.api.client_id()),
                ("scope", self.inner.config.scopes.as_str()),
                ("redirect_uri", redirect_uri.as_str()),
                ("state", nonce.as_str()),
            ],
        )
        .map_err(|err| AppError::Config(format!("Shopify admin URL: {err}")))?;
        Ok(url.into())
    }

    /// The install callback: signature, shop and state checked, code exchanged, tokens
    /// stored sealed, the first catalogue sync started. Returns the shop.
    pub async fn complete_install(
        &self,
        query: &[(String, String)],
    ) -> Result<ShopDomain, AppError> {
        if !self.inner.api.secrets().verify_oauth_query(query) {
            return Err(AppError::InvalidSignature(
                "the `hmac` of the install callback does not match".into(),
            ));
        }
        let param = |name: &'static str| {
            single_value(query, name).ok_or(AppError::InvalidInput(format!(
                "`{name}` must appear exactly once"
            )))
        };
        let shop = ShopDomain::parse(param("shop")?)?;
        let state = param("state")?;
        let code = param("code")?;
        if !self
            .store()
            .take_oauth_state(&shop, state, OAUTH_STATE_TTL_MS)
            .await?
        {
            return Err(AppError::InvalidOAuthState);
        }
        let grant = self.inner.api.exchange_code(&shop, code).await?;
        self.save_grant(&shop, &grant).await?;
        tracing::info!(%shop, scopes = %grant.scope, "installed");
        self.request_sync(&shop).await?;
        Ok(shop)
    }

    /// Embedded admin: the first request with a session token from a shop without a usable
    /// token exchanges it for an expiring offline token (and starts the first sync).
    pub async fn ensure_installed(
        &self,
        shop: &ShopDomain,
        session_token: &str,
    ) -> Result<(), AppError> {
        let usable = self
            .store()
            .install(shop)
            .await?
            .is_some_and(|i| i.active() && (i.access_token.is_some()));
        if usable {
            return Ok(());
        }
        let grant = self
            .inner
            .api
            .exchange_session_token(shop, session_token)
            .await?;
        self.save_grant(shop, &grant).await?;
        tracing::info!(%shop, "installed through token exchange");
        self.request_sync(shop).await?;
        Ok(())
    }

    async fn save_grant(&self, shop: &ShopDomain, grant: &TokenGrant) -> Result<(), AppError> {
        let now = now_millis();
        let cipher = &self.inner.cipher;
        let sealed = SealedGrant {
            scopes: grant.scope.clone(),
            access_token: cipher.seal(shop, &grant.access_token)?,
            access_expires_at: grant.expires_in.map(|s| now + s * 1000),
            refresh_token: grant
                .refresh_token
                .as_deref()
                .map(|t| cipher.seal(shop, t))
                .transpose()?,
            refresh_expires_at: grant.refresh_token_expires_in.map(|s| now + s * 1000),
        };
        self.store().save_install(shop, &sealed).await?;
        self.inner.keys.invalidate();
        Ok(())
    }

    /// A usable offline access token for the shop, refreshed first when it is about to expire.
    pub async fn access_token(&self, shop: &ShopDomain) -> Result<String, AppError> {
        let install = self
            .store()
            .install(shop)
            .await?
            .filter(|i| i.active())
            .ok_or_else(|| AppError::UnknownShop(shop.to_string()))?;
        let sealed = install
            .access_token
            .ok_or_else(|| AppError::ShopifyUnauthorized(format!("no access token for {shop}")))?;
        match install.access_expires_at {
            Some(expires) if expires - now_millis() < REFRESH_MARGIN_MS => self.refresh(shop).await,
            _ => self.inner.cipher.open(shop, &sealed),
        }
    }

    /// Refresh-token rotation, one at a time: the old refresh token dies with its first use.
    async fn refresh(&self, shop: &ShopDomain) -> Result<String, AppError> {
        let _one_at_a_time = self.inner.refreshing.lock().await;
        let install = self
            .store()
            .install(shop)
            .await?
            .ok_or_else(|| AppError::UnknownShop(shop.to_string()))?;
        // Someone else may have refreshed while this call waited.
        if let (Some(token), Some(expires)) = (&install.access_token, install.access_expires_at) {
            if expires - now_millis() >= REFRESH_MARGIN_MS {
                return self.inner.cipher.open(shop, token);
            }
        }
        let refresh = install
            .refresh_token
            .filter(|_| install.refresh_expires_at.is_none_or(|e| e > now_millis()))
            .ok_or_else(|| {
                AppError::ShopifyUnauthorized(format!(
                    "the refresh token of {shop} expired; open the app in Shopify admin again"
                ))
            })?;
        let refresh = self.inner.cipher.open(shop, &refresh)?;
        let grant = self.inner.api.refresh(shop, &refresh).await?;
        self.save_grant(shop, &grant).await?;
        tracing::info!(%shop, "access token refreshed");
        Ok(grant.access_token)
    }

    /// A GraphQL call to the shop's Admin API with a fresh (refreshed if need be) token.
    async fn admin_graphql(
        &self,
        shop: &ShopDomain,
        document: &str,
        variables: Value,
    ) -> Result<Value, AppError> {
        let token = self.access_token(shop).await?;
        self.inner
            .api
            .graphql(shop, &token, document, variables)
            .await
    }

    pub async fn status(&self, shop: &ShopDomain) -> Result<ShopStatus, AppError> {
        let install = self.store().install(shop).await?;
        let (products, indexed) = self.store().catalogue_counts(shop).await?;
        Ok(ShopStatus {
            shop: shop.to_string(),
            installed: install.as_ref().is_some_and(|i| i.active()),
            scopes: install.map(|i| i.scopes),
            products,
            indexed,
            sync: self.store().sync_state(shop).await?,
            webhooks: self.store().inbox_counts(Some(shop)).await?,
        })
    }

    // ---- bulk sync -----------------------------------------------------------------------

    /// Asks for a full catalogue sync and starts it in the background.
    /// Refused for a shop that has not installed the app (or has uninstalled it).
    pub async fn request_sync(&self, shop: &ShopDomain) -> Result<bool, AppError> {
        if !self.serving(shop).await? {
            return Err(AppError::UnknownShop(shop.to_string()));
        }
        let requested = self.store().request_sync(shop).await?;
        self.spawn_sync(shop.clone());
        Ok(requested)
    }

    /// Picks up syncs that a stop or crash interrupted.
    pub async fn resume_syncs(&self) -> Result<usize, AppError> {
        let shops = self.store().unfinished_syncs().await?;
        for shop in &shops {
            tracing::info!(%shop, "resuming catalogue sync");
            self.spawn_sync(shop.clone());
        }
        Ok(shops.len())
    }

    fn spawn_sync(&self, shop: ShopDomain) {
        let this = self.clone();
        tokio::spawn(async move {
            let _ = this.run_sync(&shop).await;
        });
    }

    /// Runs (or resumes) the shop's sync to the end. One runner per shop at a time.
    pub async fn run_sync(&self, shop: &ShopDomain) -> Result<(), AppError> {
        let first = self
            .inner
            .syncing
            .lock()
            .map(|mut s| s.insert(shop.clone()))
            .unwrap_or(false);
        if !first {
            return Ok(());
        }
        let result = self.run_sync_steps(shop).await;
        if let Ok(mut syncing) = self.inner.syncing.lock() {
            syncing.remove(shop);
        }
        if let Err(err) = &result {
            tracing::warn!(%shop, error = %err, "catalogue sync failed");
            self.store().sync_failed(shop, &err.to_string()).await?;
        }
        result
    }

    async fn run_sync_steps(&self, shop: &ShopDomain) -> Result<(), AppError> {
        let Some(sync) = self.store().sync_state(shop).await? else {
            return Ok(());
        };
        let operation_id = match (sync.state.as_str(), &sync.operation_id) {
            ("requested", _) | ("running" | "ingesting", None) => self.start_bulk(shop).await?,
            ("running" | "ingesting", Some(id)) => id.clone(),
            _ => return Ok(()),
        };
        let (url, objects) = self.wait_for_bulk(shop, &operation_id).await?;
        self.store()
            .sync_progress(shop, "ingesting", objects, 0)
            .await?;

        let mut assembler = BulkAssembler::default();
        if let Some(url) = url {
            let mut lines = self.inner.api.download(&url).await?.lines();
            while let Some(line) = lines.next_line().await? {
                assembler.push_line(&line);
            }
        }
        let (products, skipped) = assembler.finish();
        for skip in &skipped {
            tracing::warn!(%shop, location = %skip.location, reason = %skip.reason, "bulk record skipped");
        }
        let watermark = products
            .iter()
            .filter_map(|p| p.updated_at.as_deref().and_then(parse_time))
            .max()
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let seen: HashSet<u64> = products.iter().map(|p| p.id).collect();
        let count = products.len() as i64;
        self.upsert_from_shopify(shop, products, Collections::Included)
            .await?;
        self.store()
            .sync_progress(shop, "ingesting", objects, count)
            .await?;

        // What Shopify no longer has: rows written before this sync began and absent from it.
        // (Rows written since came from webhooks newer than the snapshot.)
        let started = sync.requested_at.unwrap_or_else(now_millis);
        let gone: Vec<u64> = self
            .store()
            .products_written_before(shop, started)
            .await?
            .into_iter()
            .filter(|id| !seen.contains(id))
            .collect();
        for id in &gone {
            self.delete_from_shopify(shop, *id).await?;
        }
        self.store()
            .sync_completed(shop, gone.len() as i64, watermark.as_deref())
            .await?;
        tracing::info!(%shop, products = count, deleted = gone.len(), skipped = skipped.len(), "catalogue sync completed");
        Ok(())
    }

    async fn start_bulk(&self, shop: &ShopDomain) -> Result<String, AppError> {
        let data = self
            .admin_graphql(
                shop,
                RUN_BULK_QUERY,
                json!({ "query": BULK_PRODUCTS_QUERY }),
            )
            .await?;
        let result = &data["bulkOperationRunQuery"];
        if let Some(errors) = result["userErrors"].as_array().filter(|e| !e.is_empty()) {
            return Err(AppError::Upstream(format!(
                "bulk operation refused: {}",
                Value::Array(errors.clone())
            )));
        }
        let id = result
            .pointer("/bulkOperation/id")
            .and_then(Value::as_str)
            .ok_or_else(|| AppError::Upstream("bulk operation started without an id".into()))?
            .to_owned();
        self.store().sync_started(shop, &id).await?;
        tracing::info!(%shop, operation = %id, "bulk operation started");
        Ok(id)
    }

    /// Polls until the operation ends (the finish webhook cuts the wait short); returns its
    /// result URL (none when it found nothing) and object count.
    async fn wait_for_bulk(
        &self,
        shop: &ShopDomain,
        id: &str,
    ) -> Result<(Option<String>, i64), AppError> {
        loop {
            let data = self
                .admin_graphql(shop, BULK_OPERATION_STATUS, json!({ "id": id }))
                .await?;
            let node = &data["node"];
            let objects = node["objectCount"]
                .as_str()
                .and_then(|c| c.parse().ok())
                .or_else(|| node["objectCount"].as_i64())
                .unwrap_or(0);
            match node["status"].as_str() {
                Some("COMPLETED") => return Ok((node["url"].as_str().map(str::to_owned), objects)),
                Some(status @ ("FAILED" | "CANCELED" | "EXPIRED")) => {
                    return Err(AppError::Upstream(format!(
                        "bulk operation {status}: {}",
                        node["errorCode"].as_str().unwrap_or("no error code")
                    )))
                }
                None => return Err(AppError::Upstream(format!("bulk operation {id} not found"))),
                Some(_) => {
                    self.store()
                        .sync_progress(shop, "running", objects, 0)
                        .await?;
                    tokio::select! {
                        _ = self.inner.bulk_finished.notified() => {}
                        _ = tokio::time::sleep(self.inner.config.bulk_poll_interval) => {}
                    }
                }
            }
        }
    }

    // ---- reconciliation ------------------------------------------------------------------

    /// Re-reads products updated since the shop's watermark: webhooks are neither
    /// guaranteed nor ordered, so this pass repairs what they missed. Returns products read.
    pub async fn reconcile(&self, shop: &ShopDomain) -> Result<usize, AppError> {
        let Some(sync) = self.store().sync_state(shop).await? else {
            return Ok(0);
        };
        let Some(since) = sync.reconciled_until.filter(|_| sync.state == "completed") else {
            return Ok(0); // the first full sync sets the watermark
        };
        let mut after: Option<String> = None;
        let mut watermark = parse_time(&since);
        let mut read = 0;
        loop {
            let data = self
                .admin_graphql(
                    shop,
                    PRODUCTS_UPDATED_SINCE,
                    json!({ "query": format!("updated_at:>'{since}'"), "after": after }),
                )
                .await?;
            let page = &data["products"];
            let mut products = Vec::new();
            for node in page["nodes"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                match product_from_graphql_node(node) {
                    Ok(product) => {
                        watermark =
                            watermark.max(product.updated_at.as_deref().and_then(parse_time));
                        products.push(product);
                    }
                    Err(reason) => {
                        tracing::warn!(%shop, %reason, "reconciliation skipped a product")
                    }
                }
            }
            read += products.len();
            self.upsert_from_shopify(shop, products, Collections::Included)
                .await?;
            match page.pointer("/pageInfo/endCursor").and_then(Value::as_str) {
                Some(cursor)
                    if page.pointer("/pageInfo/hasNextPage") == Some(&Value::Bool(true)) =>
                {
                    after = Some(cursor.to_owned())
                }
                _ => break,
            }
        }
        if let Some(mark) = watermark {
            self.store()
                .save_watermark(
                    shop,
                    &mark.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                )
                .await?;
        }
        Ok(read)
    }

    /// One reconciliation pass over every installed shop.
    pub async fn reconcile_all(&self) {
        let shops = match self.store().active_installs().await {
            Ok(shops) => shops,
            Err(err) => return tracing::warn!(error = %err, "reconciliation could not list shops"),
        };
        for shop in shops {
            match self.reconcile(&shop).await {
                Ok(0) => {}
                Ok(read) => tracing::info!(%shop, read, "reconciled"),
                Err(err) => {
                    tracing::warn!(%shop, error = %err, "reconciliation failed; next pass retries")
                }
            }
        }
    }
}

fn customer_id(body: &Value) -> Result<u64, &'static str> {
    body.pointer("/customer/id")
        .and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .ok_or("privacy request without `customer.id`")
}

fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Whether `incoming` is an older version than `kept`, by Shopify's `updated_at`. Equal
/// times are not older: inventory changes keep the product's `updated_at`, so a re-read at
/// the same time must still apply.
fn is_older(incoming: &Product, kept: &Product) -> bool {
    match (
        incoming.updated_at.as_deref().and_then(parse_time),
        kept.updated_at.as_deref().and_then(parse_time),
    ) {
        (Some(incoming), Some(kept)) => incoming < kept,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(updated_at: Option<&str>) -> Product {
        let mut p = crate::catalog::product_from_json(&json!({"id": 1, "title": "Mat"})).unwrap();
        p.updated_at = updated_at.map(str::to_owned);
        p
    }

    #[test]
    fn older_means_earlier_in_time_across_offsets() {
        let utc = product(Some("2026-01-13T10:00:00Z"));
        let same_in_new_york = product(Some("2026-01-13T05:00:00-05:00"));
        let earlier = product(Some("2026-01-13T09:59:59+00:00"));
        assert!(!is_older(&same_in_new_york, &utc));
        assert!(is_older(&earlier, &utc));
        assert!(!is_older(&utc, &earlier));
        assert!(!is_older(&product(None), &utc));
    }
}
