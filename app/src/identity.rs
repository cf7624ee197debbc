//! Signed customer identity for headless storefronts. A browser's word about who is logged
//! in is worth nothing (anyone holding the public key could claim to be any customer), so a
//! customer id is believed only from a source that signed it: Shopify's App Proxy, the
//! shop's own server with its merchant key, or a customer token that server minted with
//! that key and handed to its logged-in shopper's browser.
//!
//! A token is `kdr_ct_<payload>.<mac>`: the payload (`shop|customer|expiry`) in base64url,
//! and an HMAC-SHA256 of it under a key only this server (and its replicas) holds. Tokens
//! are stateless and short-lived; they cannot be revoked one by one, which is why they expire.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::domain::{CustomerId, ShopDomain};
use crate::error::AppError;

const PREFIX: &str = "kdr_ct_";
/// A token lives a day unless asked for less; never longer than a week.
pub const DEFAULT_TTL_SECS: u64 = 24 * 3600;
pub const MAX_TTL_SECS: u64 = 7 * 24 * 3600;

/// Mints and checks customer tokens.
#[derive(Clone)]
pub struct CustomerTokens {
    key: [u8; 32],
}

impl std::fmt::Debug for CustomerTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CustomerTokens([redacted])")
    }
}

impl CustomerTokens {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    fn mac(&self) -> Hmac<Sha256> {
        // An HMAC takes a key of any length; 32 bytes never fails.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC accepts any key length")
    }

    /// A token saying `customer` is logged in at `shop` until `expires_at_ms`.
    pub fn mint(&self, shop: &ShopDomain, customer: CustomerId, expires_at_ms: i64) -> String {
        let payload = B64URL.encode(format!("{shop}|{customer}|{expires_at_ms}"));
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        let tag = B64URL.encode(mac.finalize().into_bytes());
        format!("{PREFIX}{payload}.{tag}")
    }

    /// The customer a token vouches for at `shop`, if it is genuine, this shop's and current.
    pub fn verify(
        &self,
        token: &str,
        shop: &ShopDomain,
        now_ms: i64,
    ) -> Result<CustomerId, AppError> {
        let malformed = AppError::InvalidCustomerToken("it is malformed");
        let (payload, tag) = token
            .trim()
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once('.'))
            .ok_or(malformed)?;
        let tag = B64URL
            .decode(tag)
            .map_err(|_| AppError::InvalidCustomerToken("it is malformed"))?;
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        mac.verify_slice(&tag)
            .map_err(|_| AppError::InvalidCustomerToken("its signature is wrong"))?;
        let decoded = B64URL
            .decode(payload)
            .ok()
            .and_then(|raw| String::from_utf8(raw).ok())
            .ok_or(AppError::InvalidCustomerToken("it is malformed"))?;
        let mut fields = decoded.split('|');
        let (Some(for_shop), Some(customer), Some(expires), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(AppError::InvalidCustomerToken("it is malformed"));
        };
        if for_shop != shop.as_str() {
            return Err(AppError::InvalidCustomerToken(
                "it was minted for another shop",
            ));
        }
        let expires: i64 = expires
            .parse()
            .map_err(|_| AppError::InvalidCustomerToken("it is malformed"))?;
        if expires <= now_ms {
            return Err(AppError::InvalidCustomerToken("it has expired"));
        }
        CustomerId::parse(customer).ok_or(AppError::InvalidCustomerToken("it is malformed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_customer_only_in_its_own_shop_until_it_expires() {
        let tokens = CustomerTokens::new([9; 32]);
        let shop = ShopDomain::parse("one.myshopify.com").unwrap();
        let other = ShopDomain::parse("two.myshopify.com").unwrap();
        let token = tokens.mint(&shop, CustomerId(77), 2_000);
        assert_eq!(tokens.verify(&token, &shop, 1_000).unwrap(), CustomerId(77));
        for (token, shop, now, why) in [
            (token.clone(), &other, 1_000, "another shop"),
            (token.clone(), &shop, 2_000, "expired"),
            (
                CustomerTokens::new([8; 32]).mint(&shop, CustomerId(77), 2_000),
                &shop,
                1_000,
                "signature",
            ),
            (
                token.replace("kdr_ct_", "kdr_ct_x"),
                &shop,
                1_000,
                "signature",
            ),
            ("77".to_owned(), &shop, 1_000, "malformed"),
        ] {
            let err = tokens.verify(&token, shop, now).unwrap_err().to_string();
            assert!(err.contains(why), "{why}: {err}");
        }
        // A payload changed to another customer no longer matches its signature.
        let (_, tag) = token.split_once('.').unwrap();
        let forged = format!(
            "{PREFIX}{}.{tag}",
            B64URL.encode("one.myshopify.com|78|2000")
        );
        assert!(tokens.verify(&forged, &shop, 1_000).is_err());
    }
}
