//! Validated domain types, parsed once at the edge.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::AppError;
pub use crate::ids::{Buyer, ClientId, CustomerId};

/// A shop's permanent `*.myshopify.com` domain, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShopDomain(String);

impl ShopDomain {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let domain = raw.trim().to_ascii_lowercase();
        let invalid = || AppError::InvalidShop(raw.chars().take(100).collect());
        let name = domain.strip_suffix(".myshopify.com").ok_or_else(invalid)?;
        let well_formed = !name.is_empty()
            && name.len() <= 60
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !name.starts_with('-')
            && !name.ends_with('-');
        if well_formed {
            Ok(Self(domain))
        } else {
            Err(invalid())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ShopDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Shopify product id. Ids exceed 2^53, so they travel as strings in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProductId(pub u64);

impl ProductId {
    /// Shopify ids are positive and fit in a signed 64-bit column.
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        crate::ids::shopify_id_text(raw)
            .map(Self)
            .ok_or_else(|| AppError::InvalidInput(format!("`{raw}` is not a product id")))
    }
}

impl fmt::Display for ProductId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for ProductId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// Publication state, as Shopify's Admin API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ProductStatus {
    #[default]
    Active,
    Draft,
    Archived,
}

impl ProductStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Draft => "draft",
            Self::Archived => "archived",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "active" => Some(Self::Active),
            "draft" => Some(Self::Draft),
            "archived" => Some(Self::Archived),
            _ => None,
        }
    }
}

/// A product as Kindred keeps it, whatever shape it arrived in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub id: u64,
    pub handle: String,
    pub title: String,
    #[serde(default)]
    pub description_html: String,
    pub vendor: Option<String>,
    pub product_type: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub options: Vec<ProductOption>,
    #[serde(default)]
    pub status: ProductStatus,
    pub available: bool,
    /// Lowest variant price in minor units (cents).
    pub price_cents: Option<i64>,
    pub compare_at_price_cents: Option<i64>,
    pub image_url: Option<String>,
    #[serde(default)]
    pub collections: Vec<u64>,
    /// Shopify's `updated_at`, as sent.
    pub updated_at: Option<String>,
    /// When the product went on sale in the online store (Shopify's `published_at`, else
    /// `created_at`), as sent; what "new arrivals" sorts by.
    #[serde(default)]
    pub published_at: Option<String>,
    /// A gift card: sold in the shop, never worth recommending.
    #[serde(default)]
    pub gift_card: bool,
}

impl Product {
    /// `published_at` in milliseconds since the epoch, when it is a valid RFC 3339 time.
    pub fn published_at_ms(&self) -> Option<i64> {
        self.published_at.as_deref().and_then(parse_timestamp_ms)
    }
}

/// An RFC 3339 time (Shopify's format) in milliseconds since the epoch.
pub fn parse_timestamp_ms(raw: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(raw.trim())
        .ok()
        .map(|t| t.timestamp_millis())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductOption {
    pub name: String,
    pub values: Vec<String>,
}

/// Splits a comma-separated list (Shopify's tag strings, query parameters), trimming items
/// and dropping empty ones.
pub fn split_list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Formats minor units as a decimal amount, e.g. 14400 -> "144.00".
pub fn format_price(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Parses a decimal amount such as "144.00", "19.9" or "70" into minor units without floats.
pub fn parse_price(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let (whole, frac) = raw.split_once('.').unwrap_or((raw, ""));
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    if whole < 0 || frac.len() > 2 || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    whole.checked_mul(100)?.checked_add(frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shop_domains_must_be_myshopify() {
        assert_eq!(
            ShopDomain::parse(" Demo-Yoga.myshopify.com ")
                .unwrap()
                .as_str(),
            "demo-yoga.myshopify.com"
        );
        for bad in [
            "",
            "evil.com",
            ".myshopify.com",
            "a_b.myshopify.com",
            "x.myshopify.com.evil.com",
            "-x.myshopify.com",
            "../x.myshopify.com",
        ] {
            assert!(ShopDomain::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn product_ids_above_2_pow_53_survive() {
        assert_eq!(
            ProductId::parse("788032119674292922").unwrap().0,
            788032119674292922
        );
        assert!(ProductId::parse("0").is_err());
        assert!(ProductId::parse("18446744073709551615").is_err());
        assert!(ProductId::parse("12.5").is_err());
    }

    #[test]
    fn prices_parse_without_floats() {
        assert_eq!(parse_price("144.00"), Some(14400));
        assert_eq!(parse_price("19.9"), Some(1990));
        assert_eq!(parse_price("70"), Some(7000));
        assert_eq!(parse_price("-1"), None);
        assert_eq!(parse_price("1.234"), None);
        assert_eq!(parse_price("abc"), None);
        assert_eq!(format_price(14400), "144.00");
        assert_eq!(format_price(5), "0.05");
    }
}
