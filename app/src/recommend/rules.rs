//! A shop's merchandising rules, applied to every strategy's answer: what never shows
//! (excluded products, gift cards, what the shopper already bought), what the merchant wants
//! first (pins), more (boosts) or last (buries), and how varied a shelf is (one product per
//! variant family, novelty on the stored vectors, items per vendor: `diversity`). Rules
//! rearrange and filter candidates; they never invent relevance, so a pin is the only way
//! in for a product no strategy proposed.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::diversity::DEFAULT_DIVERSITY;
use crate::domain::{parse_price, Product, ProductId};
use crate::error::AppError;

const MAX_RULES_PER_LIST: usize = 100;
const MAX_PINS: usize = 20;

/// Which products a rule is about. Every condition given must hold; at least one is given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductMatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// A collection id: the product is in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection: Option<String>,
    /// The product has this tag (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// The product's vendor (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// The product's type (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_type: Option<String>,
    /// Lowest price at least this, e.g. "25" or "25.50".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_min: Option<String>,
    /// Lowest price at most this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_max: Option<String>,
}

/// A match with a score factor: above 1 lifts, below 1 lowers. Written flat,
/// `{"vendor": "Manduka", "factor": 1.5}`; read through a map so that an unknown field is
/// refused (serde's `flatten` would swallow it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "serde_json::Map<String, serde_json::Value>")]
pub struct Boost {
    #[serde(flatten)]
    pub products: ProductMatch,
    pub factor: f32,
}

impl TryFrom<serde_json::Map<String, serde_json::Value>> for Boost {
    type Error = String;

    fn try_from(mut map: serde_json::Map<String, serde_json::Value>) -> Result<Self, String> {
        let factor = map
            .remove("factor")
            .and_then(|f| f.as_f64())
            .ok_or("a boost needs a numeric `factor`")? as f32;
        let products =
            serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| e.to_string())?;
        Ok(Self { products, factor })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MerchandisingRules {
    /// Never recommended.
    pub exclude: Vec<ProductMatch>,
    /// Product ids shown first, in this order, wherever they are available and not on screen.
    pub pin: Vec<String>,
    /// Scores multiplied by the factor, then re-ranked.
    pub boost: Vec<Boost>,
    /// Kept, but after everything else.
    pub bury: Vec<ProductMatch>,
    /// At most this many items of one vendor, unless the shelf would otherwise be short.
    pub max_per_vendor: Option<usize>,
    /// At most one product of a variant family (colourways or pack sizes sold as products of
    /// their own) per shelf, unless the shelf would otherwise be short.
    pub collapse_variants: bool,
    /// How much a shelf trades relevance for novelty, 0 (off) to 1: maximal marginal
    /// relevance on the products' vectors.
    pub diversity: f32,
    pub exclude_gift_cards: bool,
    /// Products the shopper already bought (their checkouts) are left out.
    pub exclude_purchased: bool,
}

impl Default for MerchandisingRules {
    fn default() -> Self {
        Self {
            exclude: Vec::new(),
            pin: Vec::new(),
            boost: Vec::new(),
            bury: Vec::new(),
            max_per_vendor: None,
            collapse_variants: true,
            diversity: DEFAULT_DIVERSITY,
            exclude_gift_cards: true,
            exclude_purchased: true,
        }
    }
}

/// A match with its values parsed once.
pub(super) struct Matcher {
    product_id: Option<u64>,
    collection: Option<u64>,
    tag: Option<String>,
    vendor: Option<String>,
    product_type: Option<String>,
    price_min: Option<i64>,
    price_max: Option<i64>,
}

impl Matcher {
    fn parse(raw: &ProductMatch, place: &str) -> Result<Self, AppError> {
        let invalid = |what: &str| AppError::InvalidInput(format!("{place}: {what}"));
        let id = |v: &Option<String>, name: &str| {
            v.as_deref()
                .map(|raw| {
                    ProductId::parse(raw)
                        .map(|p| p.0)
                        .map_err(|_| invalid(&format!("`{name}` is not a Shopify id")))
                })
                .transpose()
        };
        let price = |v: &Option<String>, name: &str| {
            v.as_deref()
                .map(|raw| {
                    parse_price(raw).ok_or_else(|| {
                        invalid(&format!("`{name}` must be an amount such as 25 or 25.50"))
                    })
                })
                .transpose()
        };
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(|t| t.trim().to_lowercase())
                .filter(|t| !t.is_empty())
        };
        let matcher = Self {
            product_id: id(&raw.product_id, "product_id")?,
            collection: id(&raw.collection, "collection")?,
            tag: text(&raw.tag),
            vendor: text(&raw.vendor),
            product_type: text(&raw.product_type),
            price_min: price(&raw.price_min, "price_min")?,
            price_max: price(&raw.price_max, "price_max")?,
        };
        let any = matcher.product_id.is_some()
            || matcher.collection.is_some()
            || matcher.tag.is_some()
            || matcher.vendor.is_some()
            || matcher.product_type.is_some()
            || matcher.price_min.is_some()
            || matcher.price_max.is_some();
        if !any {
            return Err(invalid(
                "give at least one of product_id, collection, tag, vendor, product_type, price_min, price_max",
            ));
        }
        Ok(matcher)
    }

    pub(super) fn matches(&self, p: &Product) -> bool {
        let same = |want: &Option<String>, have: Option<&String>| {
            want.as_ref()
                .is_none_or(|w| have.is_some_and(|h| h.trim().to_lowercase() == *w))
        };
        let price = p.price_cents;
        self.product_id.is_none_or(|id| id == p.id)
            && self.collection.is_none_or(|c| p.collections.contains(&c))
            && self
                .tag
                .as_ref()
                .is_none_or(|t| p.tags.iter().any(|have| have.trim().to_lowercase() == *t))
            && same(&self.vendor, p.vendor.as_ref())
            && same(&self.product_type, p.product_type.as_ref())
            && self
                .price_min
                .is_none_or(|min| price.is_some_and(|have| have >= min))
            && self
                .price_max
                .is_none_or(|max| price.is_some_and(|have| have <= max))
    }
}

/// Rules checked and ready to apply.
pub struct CompiledRules {
    pub(super) exclude: Vec<Matcher>,
    pub(super) pins: Vec<u64>,
    pub(super) boost: Vec<(Matcher, f32)>,
    pub(super) bury: Vec<Matcher>,
    pub(super) max_per_vendor: Option<usize>,
    pub(super) collapse_variants: bool,
    pub(super) diversity: f32,
    pub(super) exclude_gift_cards: bool,
    pub exclude_purchased: bool,
}

impl MerchandisingRules {
    /// Checks every rule; the error names the first bad one.
    pub fn compile(&self) -> Result<CompiledRules, AppError> {
        let lists = [
            ("exclude", self.exclude.len()),
            ("boost", self.boost.len()),
            ("bury", self.bury.len()),
        ];
        for (name, len) in lists {
            if len > MAX_RULES_PER_LIST {
                return Err(AppError::InvalidInput(format!(
                    "at most {MAX_RULES_PER_LIST} rules in `{name}`"
                )));
            }
        }
        if self.pin.len() > MAX_PINS {
            return Err(AppError::InvalidInput(format!("at most {MAX_PINS} pins")));
        }
        let matchers = |list: &[ProductMatch], name: &str| {
            list.iter()
                .enumerate()
                .map(|(i, m)| Matcher::parse(m, &format!("`{name}[{i}]`")))
                .collect::<Result<Vec<_>, _>>()
        };
        let boost = self
            .boost
            .iter()
            .enumerate()
            .map(|(i, b)| {
                if !(b.factor.is_finite() && b.factor > 0.0 && b.factor <= 100.0) {
                    return Err(AppError::InvalidInput(format!(
                        "`boost[{i}]`: `factor` must be above 0 and at most 100"
                    )));
                }
                Ok((
                    Matcher::parse(&b.products, &format!("`boost[{i}]`"))?,
                    b.factor,
                ))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let pins = self
            .pin
            .iter()
            .map(|p| ProductId::parse(p).map(|id| id.0))
            .collect::<Result<Vec<_>, _>>()?;
        if self.max_per_vendor == Some(0) {
            return Err(AppError::InvalidInput(
                "`max_per_vendor` must be at least 1 (leave it out for no cap)".into(),
            ));
        }
        if !(0.0..=1.0).contains(&self.diversity) {
            return Err(AppError::InvalidInput(
                "`diversity` must be from 0 (off) to 1".into(),
            ));
        }
        Ok(CompiledRules {
            exclude: matchers(&self.exclude, "exclude")?,
            pins,
            boost,
            bury: matchers(&self.bury, "bury")?,
            max_per_vendor: self.max_per_vendor,
            collapse_variants: self.collapse_variants,
            diversity: self.diversity,
            exclude_gift_cards: self.exclude_gift_cards,
            exclude_purchased: self.exclude_purchased,
        })
    }
}

impl CompiledRules {
    /// Whether more candidates than asked are needed (some may be filtered away).
    pub fn filters(&self) -> bool {
        !self.exclude.is_empty() || self.max_per_vendor.is_some() || self.exclude_gift_cards
    }

    pub fn caps_vendors(&self) -> bool {
        self.max_per_vendor.is_some()
    }

    pub fn pins(&self) -> &[u64] {
        &self.pins
    }

    /// Whether a variant family takes one place on a shelf.
    pub fn collapses_variants(&self) -> bool {
        self.collapse_variants
    }

    /// The weight of novelty on shelves; above 0, `apply` wants the candidates' vectors.
    pub fn diversity(&self) -> f32 {
        self.diversity
    }

    /// The rules as they shape search results: what the merchant excludes, boosts and
    /// buries; not what makes a shelf (pins, the vendor cap, variety), since a shopper who
    /// searched asked for the matches themselves.
    pub fn for_search(self) -> Self {
        Self {
            pins: Vec::new(),
            max_per_vendor: None,
            collapse_variants: false,
            diversity: 0.0,
            ..self
        }
    }

    /// Never recommended under these rules (on top of sold-out, unpublished and on-screen).
    pub fn excludes(&self, product: &Product, purchased: &HashSet<u64>) -> bool {
        (self.exclude_gift_cards && product.gift_card)
            || purchased.contains(&product.id)
            || self.exclude.iter().any(|m| m.matches(product))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommend::shelf::Variety;
    use crate::recommend::Recommendation;
    use serde_json::json;
    use std::collections::HashMap;

    fn product(id: u64, vendor: &str, tags: &[&str], cents: i64) -> Product {
        let mut p = crate::catalog::product_from_json(
            &json!({"id": id, "title": format!("P{id}"), "vendor": vendor}),
        )
        .unwrap();
        p.tags = tags.iter().map(|t| t.to_string()).collect();
        p.price_cents = Some(cents);
        p
    }

    fn shelf(rules: Value) -> Vec<u64> {
        shelf_for(rules, &[5])
    }

    fn shelf_for(rules: Value, purchased: &[u64]) -> Vec<u64> {
        let rules: MerchandisingRules = serde_json::from_value(rules).unwrap();
        let compiled = rules.compile().unwrap();
        let candidates: Vec<Recommendation> = [
            product(1, "Manduka", &["mat"], 12_000),
            product(2, "Manduka", &["mat"], 9_000),
            product(3, "Gaiam", &["block", "sale"], 1_500),
            product(4, "Manduka", &["strap"], 2_000),
            product(5, "Jade", &["mat"], 8_000),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, product)| Recommendation {
            product,
            score: 1.0 - i as f32 * 0.1,
            reason: "similar".into(),
        })
        .collect();
        compiled
            .apply(
                candidates,
                vec![product(9, "Kindred", &[], 100)],
                &purchased.iter().copied().collect(),
                4,
                Variety::Full(&HashMap::new()),
            )
            .into_iter()
            .map(|r| r.product.id)
            .collect()
    }

    use serde_json::Value;

    #[test]
    fn rules_filter_pin_boost_bury_and_cap() {
        // Defaults: the purchased product (5) is left out; the pin comes first.
        assert_eq!(shelf(json!({})), [9, 1, 2, 3]);
        assert_eq!(
            shelf(json!({"exclude": [{"vendor": "manduka", "price_min": "100"}]})),
            [9, 2, 3, 4]
        );
        assert_eq!(shelf(json!({"bury": [{"tag": "mat"}]})), [9, 3, 4, 1]);
        assert_eq!(
            shelf(json!({"boost": [{"tag": "sale", "factor": 3.0}]})),
            [9, 3, 1, 2]
        );
        assert_eq!(shelf_for(json!({"max_per_vendor": 1}), &[]), [9, 1, 3, 5]);
        // A cap that would leave the shelf short gives way.
        assert_eq!(
            shelf(json!({"max_per_vendor": 1, "exclude": [{"vendor": "Gaiam"}]})),
            [9, 1, 2, 4]
        );
    }

    #[test]
    fn bad_rules_are_named() {
        for (rules, needle) in [
            (json!({"exclude": [{}]}), "`exclude[0]`: give at least one"),
            (
                json!({"exclude": [{"price_max": "cheap"}]}),
                "`price_max` must be an amount",
            ),
            (
                json!({"boost": [{"vendor": "x", "factor": 0}]}),
                "`boost[0]`: `factor`",
            ),
            (json!({"pin": ["abc"]}), "not a product id"),
            (json!({"max_per_vendor": 0}), "`max_per_vendor`"),
        ] {
            let parsed: MerchandisingRules = serde_json::from_value(rules.clone()).unwrap();
            let err = parsed
                .compile()
                .err()
                .unwrap_or_else(|| panic!("{rules} accepted"));
            assert!(err.to_string().contains(needle), "{rules}: {err}");
        }
        for unknown in [
            json!({"exclude": [{"colour": "red"}]}),
            json!({"boost": [{"colour": "red", "factor": 2.0}]}),
            json!({"pins": ["1"]}),
        ] {
            assert!(
                serde_json::from_value::<MerchandisingRules>(unknown.clone()).is_err(),
                "{unknown}"
            );
        }
    }
}
