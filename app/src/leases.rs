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

/// Runs `work` under the lease `name` as `while_holding` does, waiting up to `patience` for
/// the replica holding it to let it go (`None` when it does not by then).
pub async fn when_free<T>(
    leases: &Arc<dyn LeaseStore>,
    name: &str,
    ttl: Duration,
    patience: Duration,
    work: impl Future<Output = T>,
) -> Result<Option<T>, AppError> {
    let deadline = tokio::time::Instant::now() + patience;
    let pause = (ttl / 20).clamp(Duration::from_millis(20), Duration::from_secs(1));
    while !leases.try_hold(name, millis(ttl)).await? {
        if tokio::time::Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(pause).await;
    }
    while_holding(leases, name, ttl, work).await
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

/// Says this replica is alive (a lease of its own, `replica <name>`, renewed for `ttl`) and
/// counts the replicas alive on the database, itself included.
pub async fn replicas_alive(leases: &Arc<dyn LeaseStore>, ttl: Duration) -> Result<u32, AppError> {
    let ttl_ms = millis(ttl);
    leases.try_hold(&presence(leases.as_ref()), ttl_ms).await?;
    let alive = leases.live_leases("replica ").await?;
    Ok(u32::try_from(alive).unwrap_or(u32::MAX).max(1))
}

/// Says this replica stopped, so the others count it out at once.
pub async fn leave(leases: &Arc<dyn LeaseStore>) -> Result<(), AppError> {
    leases.release(&presence(leases.as_ref())).await
}

fn presence(leases: &dyn LeaseStore) -> String {
    format!("replica {}", leases.replica())
}

/// A lease's length in the milliseconds the stores count in.
pub(crate) fn millis(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2)
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
    let ttl_ms = millis(ttl);
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;

    /// Grants the lease `granted` times, then says another replica holds it.
    #[derive(Default)]
    struct Scripted {
        granted: AtomicUsize,
        released: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl LeaseStore for Scripted {
        async fn try_hold(&self, _name: &str, _ttl_ms: i64) -> Result<bool, AppError> {
            let left = self.granted.load(Ordering::SeqCst);
            self.granted.store(left.saturating_sub(1), Ordering::SeqCst);
            Ok(left > 0)
        }
        async fn release(&self, name: &str) -> Result<(), AppError> {
            self.released.lock().unwrap().push(name.to_owned());
            Ok(())
        }
        async fn live_leases(&self, _prefix: &str) -> Result<u64, AppError> {
            Ok(1)
        }
        fn replica(&self) -> &str {
            "test"
        }
    }

    fn granting(times: usize) -> (Arc<Scripted>, Arc<dyn LeaseStore>) {
        let store = Arc::new(Scripted::default());
        store.granted.store(times, Ordering::SeqCst);
        (store.clone(), store)
    }

    #[tokio::test]
    async fn work_runs_under_the_lease_and_stops_when_another_replica_takes_it() {
        let ttl = Duration::from_millis(30);
        // Held elsewhere: the work never starts.
        let (_, leases) = granting(0);
        assert!(while_holding(&leases, "job", ttl, async { 1 })
            .await
            .unwrap()
            .is_none());
        // Held: it runs to its end and the lease is let go at once...
        let (store, leases) = granting(1);
        assert_eq!(
            while_holding(&leases, "job", ttl, async { 2 })
                .await
                .unwrap(),
            Some(2)
        );
        assert_eq!(*store.released.lock().unwrap(), ["job"]);
        // ...or, for a periodic job, kept to lapse.
        let (store, leases) = granting(1);
        assert_eq!(
            once_per(&leases, "job", ttl, async { 3 }).await.unwrap(),
            Some(3)
        );
        assert!(store.released.lock().unwrap().is_empty());
        // Renewed twice, then lost: work that would run on for ever is stopped.
        let (_, leases) = granting(3);
        let forever = std::future::pending::<()>();
        assert!(while_holding(&leases, "job", ttl, forever)
            .await
            .unwrap()
            .is_none());
    }
}
