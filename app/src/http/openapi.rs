//! The OpenAPI document of `/api/v1`, generated from the handlers and types themselves, so
//! it cannot drift from what the server does.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kindred",
        description = "Product recommendations for Shopify and headless shops. Storefront \
            endpoints take the shop's public storefront key (`Authorization: Bearer kdr_sf_…`); \
            browsers may call them only from the shop's allowed origins. Every error is JSON \
            with a stable `code`."
    ),
    servers((url = "/api/v1")),
    paths(
        super::storefront::recommendations,
        super::storefront::recommendations_by_path,
        super::storefront::cart,
        super::search::search,
        super::search::suggest,
        super::events::record_events,
        super::routes::get_product,
        super::routes::similar_products,
    ),
    modifiers(&StorefrontKey),
    tags((name = "storefront", description = "Recommendations, search and events, for shoppers' browsers and headless frontends"))
)]
pub struct ApiDoc;

struct StorefrontKey;

impl Modify for StorefrontKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "storefront_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A shop's storefront key, `kdr_sf_…`"))
                    .build(),
            ),
        );
    }
}

/// `GET /api/v1/openapi.json`
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
