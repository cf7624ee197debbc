//! The strategies a storefront asks for by name (the theme block's setting, a headless
//! frontend's parameter).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::shelf::Variety;
use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Nearest in meaning to the current product.
    Similar,
    /// From the shopper's live session (or the customer's history when logged in).
    ForYou,
    /// Bought together with the current product or the cart.
    Complementary,
    /// Most viewed and carted lately, recent days weighing more.
    Trending,
    /// The shopper's own viewed products, newest first.
    RecentlyViewed,
    /// The most recently published products.
    NewArrivals,
    /// What the shopper bought before and is likely to buy again.
    BuyAgain,
}

impl Strategy {
    pub const ALL: [Strategy; 7] = [
        Self::Similar,
        Self::ForYou,
        Self::Complementary,
        Self::Trending,
        Self::RecentlyViewed,
        Self::NewArrivals,
        Self::BuyAgain,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Similar => "similar",
            Self::ForYou => "for_you",
            Self::Complementary => "complementary",
            Self::Trending => "trending",
            Self::RecentlyViewed => "recently_viewed",
            Self::NewArrivals => "new_arrivals",
            Self::BuyAgain => "buy_again",
        }
    }

    /// How far the shop's variety settings may re-order this strategy's shelf: not at all
    /// where the order is the point (the shopper's own views, their likely re-buys); one
    /// product per variant family where the order is a promise (newest first, most
    /// popular first); fully, on the given embeddings, where relevance is a similarity.
    pub fn variety(self, vectors: &HashMap<u64, Vec<f32>>) -> Variety<'_> {
        match self {
            Self::RecentlyViewed | Self::BuyAgain => Variety::Kept,
            Self::NewArrivals | Self::Trending => Variety::Families,
            Self::Similar | Self::ForYou | Self::Complementary => Variety::Full(vectors),
        }
    }

    /// Whether `variety` needs the candidates' embeddings.
    pub fn mixes_on_embeddings(self) -> bool {
        matches!(self.variety(&HashMap::new()), Variety::Full(_))
    }

    pub fn parse(raw: &str, parameter: &str) -> Result<Self, AppError> {
        let raw = raw.trim();
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw || s.as_str().replace('_', "-") == raw)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|s| s.as_str()).collect();
                AppError::InvalidInput(format!(
                    "`{parameter}` must be one of {}, not `{}`",
                    names.join(", "),
                    raw.chars().take(40).collect::<String>()
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_parse_by_their_names_and_refuse_others_clearly() {
        for strategy in Strategy::ALL {
            assert_eq!(
                Strategy::parse(strategy.as_str(), "strategy").unwrap(),
                strategy
            );
        }
        assert_eq!(
            Strategy::parse("new-arrivals", "strategy").unwrap(),
            Strategy::NewArrivals
        );
        let err = Strategy::parse("bestsellers", "fallback").unwrap_err();
        assert!(err
            .to_string()
            .contains("`fallback` must be one of similar, for_you"));
    }
}
