//! Install and tokens: the OAuth authorization code grant (nonces checked once), expiring
//! offline tokens sealed at rest and refreshed before they lapse, and the Admin GraphQL
//! calls made with them.

use rand::RngCore;
use serde_json::Value;

use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::shopify::api::TokenGrant;
use crate::shopify::service::{ShopStatus, ShopifyService};
use crate::shopify::signature::single_value;
use crate::stores::SealedGrant;

/// An OAuth `state` is good for this long.
const OAUTH_STATE_TTL_MS: i64 = 10 * 60 * 1000;
/// Access tokens this close to expiry are refreshed first.
const REFRESH_MARGIN_MS: i64 = 5 * 60 * 1000;

impl ShopifyService {
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
        self.stores()
            .installs
            .save_oauth_state(shop, &nonce)
            .await?;
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
            .stores()
            .installs
            .take_oauth_state(&shop, state, OAUTH_STATE_TTL_MS)
            .await?
        {
            return Err(AppError::InvalidOAuthState);
        }
        let grant = self.inner.api.exchange_code(&shop, code).await?;
        self.save_grant(&shop, &grant).await?;
        tracing::info!(%shop, scopes = %grant.scope, "installed");
        self.after_install(&shop).await?;
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
            .stores()
            .installs
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
        self.after_install(shop).await?;
        Ok(())
    }

    /// A new install's first steps: the catalogue and order history read, and the web
    /// pixel connected. A pixel Shopify refuses does not undo the install: it is logged,
    /// and the next install tries again.
    async fn after_install(&self, shop: &ShopDomain) -> Result<(), AppError> {
        self.request_sync(shop).await?;
        if let Err(err) = self.connect_pixel(shop).await {
            tracing::warn!(%shop, error = %err, "web pixel not connected");
        }
        Ok(())
    }

    async fn save_grant(&self, shop: &ShopDomain, grant: &TokenGrant) -> Result<(), AppError> {
        let now = self.stores().now();
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
        self.stores().installs.save_install(shop, &sealed).await?;
        self.inner.keys.invalidate();
        Ok(())
    }

    /// A usable offline access token for the shop, refreshed first when it is about to expire.
    pub async fn access_token(&self, shop: &ShopDomain) -> Result<String, AppError> {
        let install = self
            .stores()
            .installs
            .install(shop)
            .await?
            .filter(|i| i.active())
            .ok_or_else(|| AppError::UnknownShop(shop.to_string()))?;
        let sealed = install
            .access_token
            .ok_or_else(|| AppError::ShopifyUnauthorized(format!("no access token for {shop}")))?;
        match install.access_expires_at {
            Some(expires) if expires - self.stores().now() < REFRESH_MARGIN_MS => {
                self.refresh(shop).await
            }
            _ => self.inner.cipher.open(shop, &sealed),
        }
    }

    /// Refresh-token rotation, one at a time: the old refresh token dies with its first use.
    async fn refresh(&self, shop: &ShopDomain) -> Result<String, AppError> {
        let _one_at_a_time = self.inner.refreshing.lock().await;
        let install = self
            .stores()
            .installs
            .install(shop)
            .await?
            .ok_or_else(|| AppError::UnknownShop(shop.to_string()))?;
        // Someone else may have refreshed while this call waited.
        if let (Some(token), Some(expires)) = (&install.access_token, install.access_expires_at) {
            if expires - self.stores().now() >= REFRESH_MARGIN_MS {
                return self.inner.cipher.open(shop, token);
            }
        }
        let refresh = install
            .refresh_token
            .filter(|_| {
                install
                    .refresh_expires_at
                    .is_none_or(|e| e > self.stores().now())
            })
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
    pub(in crate::shopify) async fn admin_graphql(
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
        let install = self.stores().installs.install(shop).await?;
        let (products, indexed) = self.stores().products.catalogue_counts(shop).await?;
        let (orders, test_orders) = self.stores().orders.order_counts(shop).await?;
        Ok(ShopStatus {
            shop: shop.to_string(),
            installed: install.as_ref().is_some_and(|i| i.active()),
            scopes: install.map(|i| i.scopes),
            products,
            indexed,
            sync: self.stores().syncs.sync_state(shop).await?,
            order_sync: self.stores().syncs.order_sync_state(shop).await?,
            orders,
            test_orders,
            web_pixel: self
                .stores()
                .installs
                .web_pixel(shop)
                .await?
                .map(|p| p.pixel_id),
            webhooks: self.stores().inbox.inbox_counts(Some(shop)).await?,
        })
    }
}
