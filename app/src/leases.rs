//! Work that runs on one replica at a time across every replica on the database: held by a
//! lease, renewed while the work runs, let go when it ends, lapsed when its holder dies.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::error::AppError;
use crate::stores::LeaseStore;

/// Runs `work` under the lease `name` when no other replica holds it (`None` when one does),
/// and lets the lease go when it ends. The lease is renewed every third of `ttl`; if it is
/// lost all the same (this replica stalled past `ttl` and another took it), the work
/// stops, so two replicas never run it at once.
pub async fn while_holding<T>(
    leases: &Arc<dyn LeaseStore>,
    name: &str,
    ttl: Duration,
    work: impl Future<Output = T>,
) -> Result<Option<T>, AppError> {
    held(leases, name, ttl, work, Release::AtTheEnd).await
}

/// Runs a periodic job at most once per `period` across every replica: the first replica
/// to find the lease free runs the job, and the lease is kept until a period after the
/// job's last renewal, so the others skip it until then.
pub async fn once_per<T>(
    leases: &Arc<dyn LeaseStore>,
    name: &str,
    period: Duration,
    work: impl Future<Output = T>,
) -> Result<Option<T>, AppError> {
    held(leases, name, period, work, Release::Lapse).await
}

#[derive(PartialEq)]
enum Release {
    AtTheEnd,
    Lapse,
}

async fn held<T>(
    leases: &Arc<dyn LeaseStore>,
    name: &str,
    ttl: Duration,
    work: impl Future<Output = T>,
    release: Release,
) -> Result<Option<T>, AppError> {
    let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2);
    if !leases.try_hold(name, ttl_ms).await? {
        return Ok(None);
    }
    let every = (ttl / 3).max(Duration::from_millis(10));
    let renew = async {
        loop {
            tokio::time::sleep(every).await;
            match leases.try_hold(name, ttl_ms).await {
                Ok(true) => {}
                Ok(false) => return,
                // The database is away: keep working, and try again next time.
                Err(err) => tracing::warn!(lease = name, error = %err, "could not renew a lease"),
            }
        }
    };
    let outcome = tokio::select! {
        done = work => Some(done),
        () = renew => None,
    };
    match outcome {
        Some(done) => {
            if release == Release::Lapse {
                return Ok(Some(done));
            }
            if let Err(err) = leases.release(name).await {
                tracing::warn!(lease = name, error = %err, "could not let a lease go; it lapses");
            }
            Ok(Some(done))
        }
        None => {
            tracing::warn!(
                lease = name,
                "lease taken over by another replica; stopped this one's work"
            );
            metrics::counter!("kindred_leases_lost_total").increment(1);
            Ok(None)
        }
    }
}
