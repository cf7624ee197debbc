//! Builds the running parts from [`Settings`]: database, vector index, model, catalogue core.

use std::fs::File;
use std::sync::Arc;
use std::time::Duration;

use kindred_embedder::{
    default_model_dir, BertEmbedder, CpuKernels, CpuOptions, DevicePreference, Embedder,
    EmbeddingWorker, InstructionSet, Precision,
};
use kindred_retriever::{EdgeIndex, RetrieverError, ServerIndex, VectorIndex};

use crate::catalog::service::CatalogService;
use crate::clock::Clock;
use crate::config::Settings;
use crate::error::AppError;
use crate::key_cache::KeyCache;
use crate::recommend::{ModelSharing, Recommender};
use crate::shopify::{AppSecrets, ShopifyApi, ShopifyAppConfig, ShopifyService, TokenCipher};
use crate::storage::SqlStore;
use kindred_retriever::exact_batched::ExactDevice;

/// Catalogue requests that may wait for the model at once; more are answered "overloaded".
const EMBED_QUEUE: usize = 64;
/// Storefront requests (shoppers' searches) that may wait for the model: few, as a shopper
/// is waiting and a full lane only means a session without its newest searches.
const STOREFRONT_EMBED_QUEUE: usize = 16;

/// Everything a command needs, opened once.
pub struct Components {
    /// The database, for what only an adapter does with it (closing it, for one).
    pub store: SqlStore,
    pub catalog: CatalogService,
    /// Recommendations over that catalogue.
    pub recommender: Recommender,
    pub model_id: String,
    /// Held for the life of the process when the embedded vector store is in use: two
    /// processes must never write the same on-disk index.
    _data_dir_lock: Option<File>,
}

/// What a caller brings instead of what the settings would open.
#[derive(Default)]
pub struct Parts {
    /// A model already loaded (the tests share one), with where its exact searches run.
    pub model: Option<LoadedModel>,
    /// The clock every store and strategy reads; the wall clock when `None`.
    pub clock: Option<Arc<dyn Clock>>,
    /// A vector index already open, which replicas in one process (tests) share; the one
    /// the settings name when `None`.
    pub index: Option<Arc<dyn VectorIndex>>,
}

pub struct LoadedModel {
    pub embedder: Arc<dyn Embedder>,
    pub exact_device: ExactDevice,
}

pub async fn open(settings: &Settings) -> Result<Components, AppError> {
    open_with(settings, Parts::default()).await
}

pub async fn open_with(settings: &Settings, parts: Parts) -> Result<Components, AppError> {
    std::fs::create_dir_all(&settings.data_dir)?;
    let data_dir_lock = match (&settings.qdrant_url, &parts.index) {
        (None, None) => Some(lock_data_dir(settings)?),
        _ => None,
    };
    let mut store = SqlStore::connect(&settings.database_url()).await?;
    if let Some(replica) = &settings.replica_id {
        store = store.with_replica(replica);
    }
    if let Some(clock) = parts.clock {
        store = store.with_clock(clock);
    }
    let model = match parts.model {
        Some(model) => model,
        None => {
            let embedder = load_embedder(settings)?;
            LoadedModel {
                exact_device: ExactDevice::new(embedder.device().clone()),
                embedder,
            }
        }
    };
    let dimension = model.embedder.dimension();
    let model_id = model.embedder.model_id().to_owned();
    let index = match parts.index {
        Some(index) => index,
        None => open_index(settings, dimension).await?,
    };
    let worker = Arc::new(EmbeddingWorker::spawn_with_lanes(
        model.embedder,
        EMBED_QUEUE,
        STOREFRONT_EMBED_QUEUE,
    ));
    let catalog = CatalogService::new(store.stores(), index, worker, model_id.clone());
    Ok(Components {
        recommender: Recommender::with_exact_device(catalog.clone(), model.exact_device)
            .sharing_models(ModelSharing {
                lease: settings.lease(),
                event_retention_ms: i64::from(settings.event_retention_days) * 24 * 3600 * 1000,
            }),
        store,
        catalog,
        model_id,
        _data_dir_lock: data_dir_lock,
    })
}

/// Only the database: for commands that touch no vectors or model.
pub async fn open_store(settings: &Settings) -> Result<SqlStore, AppError> {
    std::fs::create_dir_all(&settings.data_dir)?;
    SqlStore::connect(&settings.database_url()).await
}

/// Loads the model on the device `KINDRED_DEVICE` chooses. That choice is the one device
/// policy: exact search runs where the model runs (`BertEmbedder::device`).
pub fn load_embedder(settings: &Settings) -> Result<Arc<BertEmbedder>, AppError> {
    let model_dir = settings.model_dir.clone().unwrap_or_else(default_model_dir);
    let device = match settings.device.as_str() {
        "auto" => DevicePreference::Auto,
        "cpu" => DevicePreference::Cpu,
        "cuda" => DevicePreference::Cuda,
        other => {
            return Err(AppError::InvalidInput(format!(
                "KINDRED_DEVICE must be auto, cpu or cuda, not `{other}`"
            )))
        }
    };
    let kernels = match settings.cpu_instructions.as_str() {
        "auto" => CpuKernels::Native,
        named => CpuKernels::NativeWith(named.parse::<InstructionSet>().map_err(|reason| {
            AppError::InvalidInput(format!("KINDRED_CPU_INSTRUCTIONS: {reason} or auto"))
        })?),
    };
    let precision = settings
        .cpu_precision
        .parse::<Precision>()
        .map_err(|reason| AppError::InvalidInput(format!("KINDRED_CPU_PRECISION: {reason}")))?;
    let options = CpuOptions { kernels, precision };
    let embedder = BertEmbedder::load_with(&model_dir, device, settings.max_batch_tokens, options)?;
    tracing::info!(model = embedder.model_id(), dimension = embedder.dimension(), dir = %model_dir.display(), "model loaded");
    Ok(Arc::new(embedder))
}

async fn open_index(
    settings: &Settings,
    dimension: usize,
) -> Result<Arc<dyn VectorIndex>, AppError> {
    let index: Arc<dyn VectorIndex> = match &settings.qdrant_url {
        Some(url) => {
            let wait = Duration::from_secs(settings.index_wait_secs);
            let connect = || {
                ServerIndex::connect(
                    url,
                    settings.qdrant_api_key.clone(),
                    &settings.qdrant_collection,
                    dimension,
                )
            };
            Arc::new(retry_while_unavailable(wait, connect).await?)
        }
        None => Arc::new(EdgeIndex::open(&settings.vectors_dir(), dimension)?),
    };
    tracing::info!(backend = index.backend_name(), "vector index ready");
    Ok(index)
}

/// Runs `attempt` until it succeeds, fails for another reason than the index being
/// unreachable, or `wait` has passed: a replica started while its Qdrant server restarts
/// comes up when the server does, instead of exiting at once.
async fn retry_while_unavailable<T, F, Fut>(wait: Duration, mut attempt: F) -> Result<T, AppError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, RetrieverError>>,
{
    let deadline = tokio::time::Instant::now() + wait;
    let mut pause = Duration::from_millis(250);
    loop {
        match attempt().await {
            Err(RetrieverError::Unavailable(reason)) if tokio::time::Instant::now() < deadline => {
                tracing::warn!(%reason, retry_in_ms = pause.as_millis() as u64, "vector index unreachable; waiting for it");
                tokio::time::sleep(pause.min(deadline - tokio::time::Instant::now())).await;
                pause = (pause * 2).min(Duration::from_secs(10));
            }
            done => return Ok(done?),
        }
    }
}

fn lock_data_dir(settings: &Settings) -> Result<File, AppError> {
    let path = settings.data_dir.join("kindred.lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(_) => Err(AppError::DataDirLocked(format!(
            "{} is held by a running Kindred (stop it, or send the catalogue to its REST API instead)",
            settings.data_dir.display()
        ))),
    }
}

/// The key customer tokens are signed with: configured, or a file in the data folder.
pub fn customer_tokens(settings: &Settings) -> Result<crate::identity::CustomerTokens, AppError> {
    let encoded = match &settings.identity_key {
        Some(key) => key.expose().to_owned(),
        None => crate::key_file::load_or_create(
            &settings.identity_key_path(),
            "customer-token signing key",
        )?,
    };
    Ok(crate::identity::CustomerTokens::new(
        crate::key_file::decode(&encoded, "KINDRED_IDENTITY_KEY")?,
    ))
}

/// The Shopify app, when its credentials are configured; `None` runs Kindred headless only.
pub fn open_shopify(
    settings: &Settings,
    recommender: &Recommender,
    keys: &KeyCache,
) -> Result<Option<ShopifyService>, AppError> {
    let (client_id, secret) = match (&settings.shopify_api_key, &settings.shopify_api_secret) {
        (Some(id), Some(secret)) => (id.clone(), secret.clone()),
        (None, None) => return Ok(None),
        _ => {
            return Err(AppError::Config(
                "set both SHOPIFY_API_KEY and SHOPIFY_API_SECRET, or neither".into(),
            ))
        }
    };
    let cipher = match &settings.token_key {
        Some(key) => TokenCipher::from_base64(key.expose())?,
        None => TokenCipher::load_or_create(&settings.token_key_path())?,
    };
    let secrets = AppSecrets::new(secret, settings.shopify_api_secret_previous.clone());
    let api = ShopifyApi::new(client_id, secrets, settings.shopify_admin_url.clone())?;
    let bulk_poll_interval =
        std::time::Duration::try_from_secs_f64(settings.bulk_poll_secs.max(0.1)).map_err(|_| {
            AppError::Config("KINDRED_BULK_POLL_SECS must be a number of seconds".into())
        })?;
    let config = ShopifyAppConfig {
        scopes: settings.shopify_scopes.clone(),
        app_url: settings.app_url.clone(),
        bulk_poll_interval,
        lease: settings.lease(),
    };
    Ok(Some(ShopifyService::new(
        recommender.clone(),
        api,
        cipher,
        keys.clone(),
        config,
    )))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn down() -> RetrieverError {
        RetrieverError::Unavailable("connection refused".into())
    }

    #[tokio::test]
    async fn an_unreachable_index_is_waited_for_and_other_failures_are_not() {
        // Back after two refusals: connected, on the third try.
        let tries = AtomicUsize::new(0);
        let connected = retry_while_unavailable(Duration::from_secs(30), || async {
            match tries.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(down()),
                _ => Ok("connected"),
            }
        })
        .await;
        assert_eq!(connected.unwrap(), "connected");
        assert_eq!(tries.load(Ordering::SeqCst), 3);

        // A real failure (a wrong dimension, say) is not waited out.
        let tries = AtomicUsize::new(0);
        let failed = retry_while_unavailable(Duration::from_secs(30), || async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(RetrieverError::DimensionMismatch {
                expected: 3,
                got: 4,
            })
        })
        .await;
        assert!(matches!(
            failed,
            Err(AppError::Index(RetrieverError::DimensionMismatch { .. }))
        ));
        assert_eq!(tries.load(Ordering::SeqCst), 1);

        // Still down when the wait is over: the start fails, saying why.
        let gave_up = retry_while_unavailable(Duration::from_millis(300), || async {
            Err::<(), _>(down())
        })
        .await;
        assert!(matches!(
            gave_up,
            Err(AppError::Index(RetrieverError::Unavailable(_)))
        ));
    }
}
