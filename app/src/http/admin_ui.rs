//! The embedded admin's files (`admin_ui/`), compiled into the binary: no build step and
//! nothing fetched at run time but Shopify's App Bridge, which Shopify requires from its CDN.

use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

use super::extract::query_pairs;
use super::AppState;
use crate::domain::ShopDomain;
use crate::error::AppError;

const INDEX: &str = include_str!("admin_ui/index.html");

/// Each asset: its name under `/app/assets/`, its type, its text.
const ASSETS: [(&str, &str, &str); 7] = [
    (
        "admin.js",
        "text/javascript",
        include_str!("admin_ui/admin.js"),
    ),
    (
        "i18n.js",
        "text/javascript",
        include_str!("admin_ui/i18n.js"),
    ),
    (
        "charts.js",
        "text/javascript",
        include_str!("admin_ui/charts.js"),
    ),
    (
        "insights.js",
        "text/javascript",
        include_str!("admin_ui/insights.js"),
    ),
    (
        "merchandising.js",
        "text/javascript",
        include_str!("admin_ui/merchandising.js"),
    ),
    (
        "settings.js",
        "text/javascript",
        include_str!("admin_ui/settings.js"),
    ),
    ("admin.css", "text/css", include_str!("admin_ui/admin.css")),
];

/// The languages the admin speaks; Shopify's `locale` (`fr`, `de-DE`) picks one.
const LANGUAGES: [&str; 3] = ["en", "fr", "de"];

/// `GET /app`: the embedded admin page. App Bridge supplies session tokens to `fetch`.
/// Only Shopify's admin may frame it (the shop's own admin when the request names a valid
/// shop), so no other site can overlay it to trick a merchant into clicks.
pub async fn app_page(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let client_id = state.shopify()?.api().client_id().to_owned();
    let pairs = query_pairs(query.as_deref());
    let single = |name| crate::shopify::signature::single_value(&pairs, name);
    let language = single("locale")
        .and_then(|locale| locale.split(['-', '_']).next())
        .map(str::to_ascii_lowercase)
        .filter(|l| LANGUAGES.contains(&l.as_str()))
        .unwrap_or_else(|| "en".to_owned());
    let page = INDEX
        .replace("{{client_id}}", &html_escape(&client_id))
        .replace("{{lang}}", &language);
    let shop = single("shop").and_then(|raw| ShopDomain::parse(raw).ok());
    let frame_ancestors = match shop {
        Some(shop) => format!("frame-ancestors https://{shop} https://admin.shopify.com"),
        None => "frame-ancestors https://*.myshopify.com https://admin.shopify.com".to_owned(),
    };
    Ok((
        [
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (header::CONTENT_SECURITY_POLICY, frame_ancestors),
        ],
        Html(page),
    )
        .into_response())
}

/// `GET /app/assets/{name}`: a script or the style sheet. Cached briefly: the page names
/// them without a version, and a deploy should reach merchants within minutes.
pub async fn asset(Path(name): Path<String>) -> Result<Response, AppError> {
    let (_, content_type, text) = ASSETS
        .iter()
        .find(|(asset, _, _)| *asset == name)
        .ok_or_else(|| AppError::NotFound(format!("asset `{name}`")))?;
    Ok((
        [
            (header::CONTENT_TYPE, *content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        *text,
    )
        .into_response())
}

fn html_escape(raw: &str) -> String {
    raw.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
