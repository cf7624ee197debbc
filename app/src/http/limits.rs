//! Rate limits of the public surface, each a keyed token bucket (governor): events per
//! shop, requests per public key, and requests per shop through the App Proxy (where every
//! shopper of a shop shares Shopify's forwarding, so the budget is the shop's).

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::AppError;

/// Per-minute budgets, with a minute's worth as burst.
#[derive(Clone)]
pub struct RateLimits {
    /// Shopper events per shop (a batch costs one per event).
    pub events: RateLimit,
    /// Requests per storefront key.
    pub per_key: RateLimit,
    /// Requests per shop through the App Proxy.
    pub proxy: RateLimit,
}

impl RateLimits {
    pub fn per_minute(events: u32, per_key: u32, proxy: u32) -> Self {
        Self {
            events: RateLimit::per_minute(events),
            per_key: RateLimit::per_minute(per_key),
            proxy: RateLimit::per_minute(proxy),
        }
    }
}

#[derive(Clone)]
pub struct RateLimit {
    limiter: Arc<DefaultKeyedRateLimiter<String>>,
}

impl RateLimit {
    pub fn per_minute(budget: u32) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(budget).unwrap_or(NonZeroU32::MIN));
        Self {
            limiter: Arc::new(RateLimiter::keyed(quota)),
        }
    }

    /// Takes `cost` from `key`'s bucket, or says how long to wait (429 with `Retry-After`).
    pub fn admit(&self, key: &str, cost: usize) -> Result<(), AppError> {
        let Some(cells) = NonZeroU32::new(u32::try_from(cost).unwrap_or(u32::MAX)) else {
            return Ok(());
        };
        match self.limiter.check_key_n(&key.to_owned(), cells) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(AppError::RateLimited {
                    retry_after_secs: wait.as_secs() + 1,
                })
            }
            // A cost larger than the whole burst can never pass.
            Err(_) => Err(AppError::RateLimited {
                retry_after_secs: 60,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_has_its_own_budget_and_the_refusal_says_when_to_retry() {
        let limit = RateLimit::per_minute(3);
        assert!(limit.admit("a", 2).is_ok());
        assert!(limit.admit("a", 1).is_ok());
        match limit.admit("a", 1) {
            Err(AppError::RateLimited { retry_after_secs }) => {
                assert!((1..=21).contains(&retry_after_secs), "{retry_after_secs}")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(limit.admit("b", 3).is_ok());
        assert!(matches!(
            limit.admit("c", 4),
            Err(AppError::RateLimited {
                retry_after_secs: 60
            })
        ));
    }
}
