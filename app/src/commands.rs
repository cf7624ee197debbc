//! What each subcommand does; `main` only parses and dispatches.

use std::io::Write;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;

use crate::app::App;
use crate::background::{
    finish_pending_indexing, spawn_catalogue_jobs, spawn_limit_sharing, start_shopify_tasks,
};
use crate::catalog::{read_catalogue, Catalogue};
use crate::config::{Command, ImportArgs, KeysCommand, ServeArgs, Settings, ShopCommand};
use crate::domain::ShopDomain;
use crate::error::AppError;
use crate::progress::Reporter;
use crate::recommend::similar_lists::ListJob;
use crate::startup;
use crate::stores::prelude::*;
use crate::stores::{KeyOrigin, KeyScope};

pub async fn run(settings: Settings, command: Command) -> Result<(), AppError> {
    match command {
        Command::Serve(args) => serve(&settings, args).await,
        Command::Import(args) => import(&settings, args).await,
        Command::Shop(cmd) => shop(&settings, cmd).await,
        Command::AdminKey { key } => {
            let store = startup::open_store(&settings).await?;
            let key = match key {
                Some(key) => {
                    store
                        .add_key(&key, KeyScope::Admin, None, KeyOrigin::Given)
                        .await?;
                    key
                }
                None => store.issue_key(KeyScope::Admin, None).await?.0,
            };
            println!("{key}");
            Ok(())
        }
        Command::Keys(cmd) => keys(&settings, cmd).await,
        Command::Reindex { shop, force } => reindex(&settings, shop, force).await,
        Command::Optimize => {
            let components = startup::open(&settings).await?;
            let started = Instant::now();
            components.catalog.index().optimize().await?;
            println!("index optimised in {:.1}s", started.elapsed().as_secs_f64());
            Ok(())
        }
        Command::SimilarLists { shop } => similar_lists(&settings, shop).await,
        Command::Eval {
            search: true,
            catalogs,
            ..
        } => evaluate_search(&settings, &catalogs),
        Command::Eval {
            data, no_content, ..
        } => evaluate(&settings, &data, no_content),
        Command::Migrate => {
            startup::open_store(&settings).await?;
            println!("database is up to date");
            Ok(())
        }
    }
}

async fn serve(settings: &Settings, args: ServeArgs) -> Result<(), AppError> {
    let app = App::build(settings).await?;
    let stores = app.components.catalog.stores().clone();
    if let Some(admin_key) = &settings.admin_key {
        // Stored as a hash, like every other key; an earlier KINDRED_ADMIN_KEY is revoked.
        let retired = stores.keys.set_environment_admin_key(admin_key).await?;
        if retired > 0 {
            tracing::info!(retired, "earlier KINDRED_ADMIN_KEY revoked");
        }
    }
    spawn_catalogue_jobs(&app.components, settings);
    match &app.shopify {
        Some(shopify) => start_shopify_tasks(shopify, settings).await?,
        None => tracing::info!("Shopify app not configured (SHOPIFY_API_KEY/SHOPIFY_API_SECRET); serving the REST API only"),
    }
    let index = app.components.catalog.index().clone();
    let limits = app.state.limits.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(60)).await;
            limits.forget_idle();
        }
    });
    spawn_limit_sharing(&app, settings.lease());
    let listener = TcpListener::bind(args.listen).await?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    // The peer address feeds the per-client rate limits.
    let service = app
        .router()
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    // Vectors written in the last second are flushed before the process goes.
    index.flush().await?;
    // The others take back their whole share of the rate limits at once, not after a lease.
    if let Err(err) = crate::leases::leave(&stores.leases).await {
        tracing::warn!(error = %err, "could not say this replica stopped; its presence lapses");
    }
    tracing::info!("stopped");
    Ok(())
}

/// `kindred keys …`: list and revoke keys of a shop, or admin keys.
async fn keys(settings: &Settings, command: KeysCommand) -> Result<(), AppError> {
    let store = startup::open_store(settings).await?;
    match command {
        KeysCommand::List { shop } => {
            let shop = shop.as_deref().map(ShopDomain::parse).transpose()?;
            for key in store.list_keys(shop.as_ref()).await? {
                let state = match key.revoked_at_ms {
                    Some(_) => "revoked",
                    None => "active",
                };
                println!(
                    "{}\t{}\t{}\t{}\t{state}",
                    key.key_id,
                    key.scope.as_str(),
                    key.shop.as_deref().unwrap_or("-"),
                    key.origin.as_str()
                );
            }
        }
        KeysCommand::Revoke { shop, key_id } => {
            let shop = shop.as_deref().map(ShopDomain::parse).transpose()?;
            match store.revoke_key(shop.as_ref(), &key_id).await? {
                Some(_) => println!("{key_id} revoked"),
                None => {
                    return Err(AppError::NotFound(format!(
                        "key {key_id} (give --shop for a shop's key)"
                    )))
                }
            }
        }
    }
    Ok(())
}

/// `kindred eval`: both data sets, one table.
fn evaluate(
    settings: &Settings,
    folder: &std::path::Path,
    no_content: bool,
) -> Result<(), AppError> {
    let model = if no_content {
        None
    } else {
        Some(startup::load_embedder(settings)?)
    };
    let (retail, diginetica) = crate::eval::datasets(folder);
    let mut rows = Vec::new();
    for split in [
        crate::eval::online_retail(&retail)?,
        crate::eval::diginetica(&diginetica)?,
    ] {
        tracing::info!(
            dataset = split.name,
            train = split.train.len(),
            test_cases = split.test.len(),
            validation_cases = split.validation.len(),
            "evaluating"
        );
        rows.extend(crate::eval::evaluate(
            &split,
            model
                .as_deref()
                .map(|m| m as &dyn kindred_embedder::Embedder),
        )?);
    }
    println!("{}", crate::eval::table(&rows));
    let customers = crate::eval::online_retail_customers(&retail)?;
    tracing::info!(customers = customers.len(), "evaluating the next basket");
    let next = crate::eval::next_basket::evaluate(&customers);
    println!("Next basket, Online Retail's customers:\n");
    println!("{}", crate::eval::next_basket::table(&next));
    Ok(())
}

/// NDCG@10 of search on the real catalogues: the yoga stores of the last capture as one
/// shop, and the Admin-format samples.
fn evaluate_search(settings: &Settings, catalogs: &std::path::Path) -> Result<(), AppError> {
    let model = startup::load_embedder(settings)?;
    let mut rows = Vec::new();
    for (name, path) in [
        ("yoga stores", catalogs.join("yoga-stores/2026-01-13")),
        ("admin samples", catalogs.join("admin-format")),
    ] {
        tracing::info!(catalogue = name, "evaluating search");
        let evaluation = crate::eval::search::evaluate(name, &path, model.as_ref())?;
        let tried: Vec<String> = evaluation
            .tuning
            .iter()
            .map(|(share, ndcg)| format!("{share:.1}: {ndcg:.4}"))
            .collect();
        println!(
            "{name}, tuning half, NDCG@10 by lexical share: {}",
            tried.join(", ")
        );
        rows.extend(evaluation.rows);
    }
    println!("\n{}", crate::eval::search::table(&rows));
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}

async fn import(settings: &Settings, args: ImportArgs) -> Result<(), AppError> {
    let shop = ShopDomain::parse(&args.shop)?;
    let started = Instant::now();
    let Catalogue {
        files,
        products,
        skipped,
    } = read_catalogue(&args.path)?;
    for skip in &skipped {
        eprintln!("skipped {}: {}", skip.location, skip.reason);
        tracing::warn!(location = %skip.location, reason = %skip.reason, "record skipped");
    }
    let components = startup::open(settings).await?;
    let report = components
        .catalog
        .ingest(&shop, products, &Reporter::new("embedding"))
        .await?;
    if report.embedded > 0 || report.payload_updates > 0 {
        components.catalog.optimize_if_dirty().await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{shop}: {} files, {} records read, {} skipped; {} created, {} updated, {} unchanged, {} duplicates; \
         {} embedded, {} payload updates in {seconds:.1}s",
        files,
        report.received + skipped.len(),
        skipped.len(),
        report.created,
        report.updated,
        report.unchanged,
        report.duplicates,
        report.embedded,
        report.payload_updates,
    );
    Ok(())
}

async fn shop(settings: &Settings, command: ShopCommand) -> Result<(), AppError> {
    match command {
        ShopCommand::CreateKey {
            shop,
            key,
            merchant,
        } => {
            let store = startup::open_store(settings).await?;
            let shop = ShopDomain::parse(&shop)?;
            store.ensure_shop(&shop).await?;
            let scope = if merchant {
                KeyScope::Merchant
            } else {
                KeyScope::Storefront
            };
            let key = match key {
                // A key already in use (another shop's, an admin key) is refused, not "created".
                Some(key) => {
                    store
                        .add_key(&key, scope, Some(&shop), KeyOrigin::Given)
                        .await?;
                    key
                }
                None => store.issue_key(scope, Some(&shop)).await?.0,
            };
            println!("{key}");
        }
        ShopCommand::List => {
            let store = startup::open_store(settings).await?;
            for (domain, products) in store.list_shops().await? {
                println!("{domain}\t{products} products");
            }
        }
        ShopCommand::FindProduct { shop, title } => {
            let store = startup::open_store(settings).await?;
            let found = store
                .find_products_by_title(&ShopDomain::parse(&shop)?, &title)
                .await?;
            let mut out = std::io::stdout().lock();
            for (id, title) in found {
                // A reader that stops early (`| head -n 1`, as scripts/demo.sh does) is no error.
                match writeln!(out, "{id}\t{title}") {
                    Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => break,
                    written => written
                        .map_err(|e| AppError::Internal(format!("writing to stdout: {e}")))?,
                }
            }
        }
        ShopCommand::Delete { shop } => {
            let shop = ShopDomain::parse(&shop)?;
            let components = startup::open(settings).await?;
            let existed = components.recommender.delete_shop(&shop).await?;
            println!(
                "{shop}: {}",
                if existed { "deleted" } else { "no such shop" }
            );
        }
    }
    Ok(())
}

/// The one shop named, or every shop.
async fn shops_to_process(
    catalog: &crate::catalog::service::CatalogService,
    shop: Option<String>,
) -> Result<Vec<ShopDomain>, AppError> {
    Ok(match shop {
        Some(shop) => vec![ShopDomain::parse(&shop)?],
        None => catalog
            .stores()
            .shops
            .list_shops()
            .await?
            .into_iter()
            .filter_map(|(domain, _)| ShopDomain::parse(&domain).ok())
            .collect(),
    })
}

async fn similar_lists(settings: &Settings, shop: Option<String>) -> Result<(), AppError> {
    let components = startup::open(settings).await?;
    // Vectors of products embedded but not yet marked (an interrupted import) come first.
    finish_pending_indexing(&components.catalog).await;
    for shop in shops_to_process(&components.catalog, shop).await? {
        match components.recommender.build_similar_lists(&shop).await? {
            ListJob::Built {
                products,
                device,
                seconds,
            } => println!("{shop}: {products} lists computed on the {device} in {seconds:.1}s"),
            ListJob::CatalogueChanging => println!(
                "{shop}: not built: some products are waiting for their vectors or changed meanwhile; run `kindred reindex` or try again"
            ),
        }
    }
    Ok(())
}

async fn reindex(settings: &Settings, shop: Option<String>, force: bool) -> Result<(), AppError> {
    let components = startup::open(settings).await?;
    let shops = shops_to_process(&components.catalog, shop).await?;
    for shop in shops {
        if force {
            components
                .catalog
                .stores()
                .products
                .mark_all_stale(&shop)
                .await?;
        }
        let (embedded, payloads) = components
            .catalog
            .sync_index(&shop, &Reporter::new("reindex"))
            .await?;
        println!("{shop}: {embedded} embedded, {payloads} payload updates");
    }
    components.catalog.optimize_if_dirty().await?;
    Ok(())
}
