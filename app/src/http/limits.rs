//! Rate limits of the public surface, each a keyed token bucket (governor): events per
//! shop, requests per client of a key and per key, requests per shop and per shopper through
//! the App Proxy (every shopper of a shop arrives from Shopify's servers; Shopify names the
//! shopper's address in `X-Forwarded-For`), and install starts per client. Budgets are for
//! all replicas together: each replica enforces its share of them.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, RwLock};

use axum::extract::{ConnectInfo, Request};
use axum::http::request::Parts;
use axum::http::HeaderName;
use axum::middleware::Next;
use axum::response::Response;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::AppError;

/// Per-minute budgets, with a minute's worth as burst.
#[derive(Clone)]
pub struct RateLimits {
    /// Shopper events per shop (a batch costs one per event).
    pub events: RateLimit,
    /// Requests per key, all its clients together.
    pub per_key: RateLimit,
    /// Requests per client address of one key.
    pub per_client: RateLimit,
    /// Requests per shop through the App Proxy.
    pub proxy: RateLimit,
    /// Requests per shopper address of one shop through the App Proxy (the per-client budget).
    pub proxy_shopper: RateLimit,
    /// Install starts (`/auth`, unauthenticated) per client address.
    pub installs: RateLimit,
}

/// The budgets an operator sets, per minute (`KINDRED_*_PER_MINUTE`).
#[derive(Debug, Clone, Copy)]
pub struct Budgets {
    pub events: u32,
    pub key_requests: u32,
    pub client_requests: u32,
    pub proxy_requests: u32,
}

impl RateLimits {
    pub fn per_minute(budgets: Budgets) -> Self {
        Self {
            events: RateLimit::per_minute(budgets.events),
            per_key: RateLimit::per_minute(budgets.key_requests),
            per_client: RateLimit::per_minute(budgets.client_requests),
            proxy: RateLimit::per_minute(budgets.proxy_requests),
            proxy_shopper: RateLimit::per_minute(budgets.client_requests),
            installs: RateLimit::per_minute(INSTALLS_PER_CLIENT_MINUTE),
        }
    }
}

impl RateLimits {
    fn all(&self) -> [&RateLimit; 6] {
        [
            &self.events,
            &self.per_key,
            &self.per_client,
            &self.proxy,
            &self.proxy_shopper,
            &self.installs,
        ]
    }

    /// Every budget shared among `replicas` replicas (see [`RateLimit::share_among`]).
    pub fn share_among(&self, replicas: u32) {
        for limit in self.all() {
            limit.share_among(replicas);
        }
    }

    /// Forgets the buckets that have refilled (idle for their window): a keyed limiter
    /// otherwise keeps every address and key it has ever seen, which a client rotating
    /// addresses would grow without bound.
    pub fn forget_idle(&self) {
        for limit in self.all() {
            let limiter = limit.limiter();
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// A merchant starts an install a handful of times; a script starting thousands is refused.
const INSTALLS_PER_CLIENT_MINUTE: u32 = 30;

/// The address a request came from: the socket's peer, or, behind a proxy the operator
/// named (`KINDRED_CLIENT_IP_HEADER`), the last address that proxy appended.
#[derive(Debug, Clone)]
pub struct ClientAddress {
    address: String,
    /// The operator's proxy appends to `X-Forwarded-For` itself (it is the header named).
    operator_appends_forwarded_for: bool,
}

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Notes each request's client address for the rate limits.
pub async fn identify_client(
    header: Option<HeaderName>,
    mut request: Request,
    next: Next,
) -> Response {
    let from_header = header.as_ref().and_then(|name| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    });
    let address = from_header.or_else(|| {
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip().to_string())
    });
    if let Some(address) = address {
        request.extensions_mut().insert(ClientAddress {
            address,
            operator_appends_forwarded_for: header.as_ref() == Some(&X_FORWARDED_FOR),
        });
    }
    next.run(request).await
}

/// The key of a proxied request's shopper budget: the shop and the shopper's address as
/// Shopify's App Proxy wrote it, the last `X-Forwarded-For` entry (or the one before it when
/// the operator's own proxy appends to that same header); the forwarding peer's address when
/// Shopify sent none. Read only on signed App Proxy requests.
pub fn proxy_shopper_key(parts: &Parts, shop: &str) -> String {
    let skip = parts
        .extensions
        .get::<ClientAddress>()
        .is_some_and(|c| c.operator_appends_forwarded_for);
    let entries: Vec<&str> = parts
        .headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    let shopper = entries
        .len()
        .checked_sub(1 + usize::from(skip))
        .map_or_else(|| client_address(parts), |at| entries[at].to_owned());
    format!("{shop}|{shopper}")
}

/// The request's client address, as an extractor.
pub struct Client(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(client_address(parts)))
    }
}

/// The request's client address, `unknown` when the server was not told (in-process tests).
pub fn client_address(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ClientAddress>()
        .map_or_else(|| "unknown".to_owned(), |c| c.address.clone())
}

#[derive(Clone)]
pub struct RateLimit {
    /// The operator's budget for all replicas together.
    budget: u32,
    /// How many replicas share it now: this replica enforces its share.
    replicas: Arc<AtomicU32>,
    limiter: Arc<RwLock<Arc<DefaultKeyedRateLimiter<String>>>>,
}

fn keyed(budget: u32) -> Arc<DefaultKeyedRateLimiter<String>> {
    let quota = Quota::per_minute(NonZeroU32::new(budget).unwrap_or(NonZeroU32::MIN));
    Arc::new(RateLimiter::keyed(quota))
}

impl RateLimit {
    pub fn per_minute(budget: u32) -> Self {
        Self {
            budget,
            replicas: Arc::new(AtomicU32::new(1)),
            limiter: Arc::new(RwLock::new(keyed(budget))),
        }
    }

    /// With `replicas` replicas behind one load balancer, each admits its share of the
    /// budget (rounded up), so together they hold it. Buckets start afresh when the count
    /// changes, which happens when a replica starts or stops.
    pub fn share_among(&self, replicas: u32) {
        let replicas = replicas.max(1);
        if self.replicas.swap(replicas, Ordering::Relaxed) == replicas {
            return;
        }
        let share = keyed(self.budget.div_ceil(replicas));
        *self
            .limiter
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = share;
    }

    fn limiter(&self) -> Arc<DefaultKeyedRateLimiter<String>> {
        self.limiter
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Takes `cost` from `key`'s bucket, or says how long to wait (429 with `Retry-After`).
    pub fn admit(&self, key: &str, cost: usize) -> Result<(), AppError> {
        let Some(cells) = NonZeroU32::new(u32::try_from(cost).unwrap_or(u32::MAX)) else {
            return Ok(());
        };
        match self.limiter().check_key_n(&key.to_owned(), cells) {
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

    #[test]
    fn replicas_share_a_budget_and_together_hold_it() {
        let limit = RateLimit::per_minute(10);
        limit.share_among(3);
        assert!(limit.admit("a", 4).is_ok());
        assert!(
            limit.admit("a", 1).is_err(),
            "a third of 10, rounded up, is 4"
        );
        // The same count again keeps the buckets; a new count starts them afresh.
        limit.share_among(3);
        assert!(limit.admit("a", 1).is_err());
        limit.share_among(1);
        assert!(limit.admit("a", 10).is_ok());
        assert!(limit.admit("a", 1).is_err());
    }

    #[test]
    fn forgetting_idle_budgets_keeps_the_spent_ones() {
        let limits = RateLimits::per_minute(Budgets {
            events: 3,
            key_requests: 3,
            client_requests: 3,
            proxy_requests: 3,
        });
        limits.per_client.admit("a", 3).unwrap();
        limits.forget_idle();
        assert!(limits.per_client.admit("a", 1).is_err());
    }
}
