//! The server's background work beside the requests: the catalogue's upkeep, the Shopify
//! app's tasks, and the rate limits' share among replicas. Work that must happen once runs
//! under a lease (`leases`), however many replicas share the database.

use std::time::Duration;

use crate::app::App;
use crate::config::Settings;
use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::leases::{once_per, replicas_alive};
use crate::progress::Silent;
use crate::startup;
use crate::stores::Stores;

/// The rate limits are budgets for all replicas together: each replica says it is alive
/// every third of a lease and enforces its share, budget / live replicas.
pub(crate) fn spawn_limit_sharing(app: &App, lease: Duration) {
    let limits = app.state.limits.clone();
    let leases = app.components.catalog.stores().leases.clone();
    tokio::spawn(async move {
        loop {
            match replicas_alive(&leases, lease).await {
                Ok(replicas) => limits.share_among(replicas),
                Err(err) => {
                    tracing::warn!(error = %err, "could not count the replicas; limits unchanged")
                }
            }
            tokio::time::sleep(lease / 3).await;
        }
    });
}

/// The catalogue's background work, beside the server and never on a request: whatever an
/// interrupted import, a cancelled request or a crash left unindexed is finished, events
/// past retention are dropped, the ANN index is kept fresh, and stored similar-products
/// lists are rebuilt once a changed catalogue has been quiet. Each job runs on one replica
/// at a time (a lease), however many share the database.
pub(crate) fn spawn_catalogue_jobs(components: &startup::Components, settings: &Settings) {
    let background = components.catalog.clone();
    let interval = Duration::from_secs(settings.optimize_interval_secs.max(1));
    let retention_ms = i64::from(settings.event_retention_days) * 24 * 3600 * 1000;
    tokio::spawn(async move {
        let leases = background.stores().leases.clone();
        loop {
            let upkeep = async {
                finish_pending_indexing(&background).await;
                prune_past_retention(background.stores(), retention_ms).await;
                match background.optimize_if_dirty().await {
                    Ok(true) => tracing::info!("ANN index rebuilt"),
                    Ok(false) => {}
                    Err(err) => tracing::warn!(error = %err, "ANN index build failed; will retry"),
                }
            };
            if let Err(err) = once_per(&leases, "catalogue upkeep", interval, upkeep).await {
                tracing::warn!(error = %err, "catalogue upkeep skipped; will retry");
            }
            tokio::time::sleep(interval).await;
        }
    });
    // A loop of its own: an exact all-pairs job over a large catalogue takes minutes on a CPU.
    if settings.similar_lists_quiet_secs > 0 {
        let lists = components.recommender.clone();
        let leases = components.catalog.stores().leases.clone();
        let quiet = Duration::from_secs(settings.similar_lists_quiet_secs);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                let job = lists.build_due_similar_lists(quiet);
                match once_per(&leases, "similar lists", interval, job).await {
                    Ok(None | Some(Ok(0))) => {}
                    Ok(Some(Ok(shops))) => tracing::info!(shops, "similar lists rebuilt"),
                    Ok(Some(Err(err))) | Err(err) => {
                        tracing::warn!(error = %err, "similar-list job failed; will retry")
                    }
                }
            }
        });
    }
}

/// The Shopify app's background work: the webhook inbox worker, interrupted syncs resumed
/// (at the start, and whenever a replica that ran one died), periodic reconciliation, and
/// old delivery bodies pruned.
pub(crate) async fn start_shopify_tasks(
    shopify: &crate::shopify::ShopifyService,
    settings: &Settings,
) -> Result<(), AppError> {
    let worker = shopify.clone();
    tokio::spawn(supervised("webhook inbox worker", move || {
        worker.clone().run_inbox_worker()
    }));
    shopify.resume_syncs().await?;
    let lease = settings.lease();
    let resumer = shopify.clone();
    tokio::spawn(async move {
        loop {
            // A sync's lease lapses when its replica dies: one of the others takes it on.
            tokio::time::sleep(lease).await;
            if let Err(err) = resumer.resume_syncs().await {
                tracing::warn!(error = %err, "could not look for interrupted syncs");
            }
        }
    });
    let reconciler = shopify.clone();
    let every = Duration::from_secs(settings.reconcile_interval_secs.max(10));
    let stores = shopify.stores().clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let pass = async {
                reconciler.reconcile_all().await;
                // Bodies of deliveries applied a week ago are dropped; their ids stay for duplicates.
                let week_ago = stores.now() - 7 * 24 * 3600 * 1000;
                if let Err(err) = stores.inbox.prune_inbox(week_ago).await {
                    tracing::warn!(error = %err, "could not prune the webhook inbox");
                }
            };
            if let Err(err) = once_per(&stores.leases, "reconciliation", every, pass).await {
                tracing::warn!(error = %err, "reconciliation skipped; will retry");
            }
        }
    });
    Ok(())
}

/// Runs a never-ending task again whenever it stops (a panic included), after a pause.
pub async fn supervised<F, Fut>(name: &'static str, task: F)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    loop {
        match tokio::spawn(task()).await {
            Ok(()) => tracing::warn!(task = name, "stopped; starting it again"),
            Err(err) => tracing::error!(task = name, error = %err, "panicked; starting it again"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Shopper events and privacy exports older than the retention window are dropped.
async fn prune_past_retention(stores: &Stores, retention_ms: i64) {
    let before = stores.now() - retention_ms;
    match stores.events.prune_events(before).await {
        Ok(0) => {}
        Ok(pruned) => tracing::info!(pruned, "shopper events past retention dropped"),
        Err(err) => tracing::warn!(error = %err, "could not prune shopper events"),
    }
    match stores.privacy.prune_customer_exports(before).await {
        Ok(0) => {}
        Ok(pruned) => tracing::info!(pruned, "privacy exports past retention dropped"),
        Err(err) => tracing::warn!(error = %err, "could not prune privacy exports"),
    }
}

pub(crate) async fn finish_pending_indexing(catalog: &crate::catalog::service::CatalogService) {
    let shops = match catalog.stores().shops.list_shops().await {
        Ok(shops) => shops,
        Err(err) => return tracing::warn!(error = %err, "could not list shops for indexing"),
    };
    for (domain, _) in shops {
        let Ok(shop) = ShopDomain::parse(&domain) else {
            continue;
        };
        match catalog.sync_index(&shop, &Silent).await {
            Ok((0, 0)) => {}
            Ok((embedded, payloads)) => {
                tracing::info!(%shop, embedded, payloads, "finished pending indexing")
            }
            Err(err) => tracing::warn!(%shop, error = %err, "could not finish indexing"),
        }
    }
}
