//! The App Proxy's Liquid shelves (`/proxy/*/cards`): the same products as the JSON answers,
//! as Liquid that Shopify renders in the shopper's market, with nothing the shopper sent
//! written into it. (The browser test renders them in a second market: storefront_browser.rs.)

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{databases, error_code, TestApp};
use crate::storefront::{proxied, proxy_get};

const SHOP: &str = "cards-yoga.myshopify.com";
const MAT: &str = "4357742755898";

/// What Kindred assigned before its card markup: `kindred_{name} = '…'`.
fn assigned<'a>(liquid: &'a str, name: &str) -> Option<&'a str> {
    let start = format!("assign kindred_{name} = ");
    let rest = &liquid[liquid.find(&start)? + start.len()..];
    let value = rest.split(" -%}").next()?;
    Some(value.split(" | ").next()?.trim_matches('\''))
}

fn handles_of(body: &Value, field: &str) -> Vec<String> {
    body[field]
        .as_array()
        .unwrap_or_else(|| panic!("no {field} in {body}"))
        .iter()
        .map(|p| p["handle"].as_str().unwrap().to_owned())
        .collect()
}

async fn liquid(app: &TestApp, path: &str, params: &[(&str, &str)]) -> String {
    let (status, headers, body) = proxy_get(app, &proxied(path, params, SHOP, "", 0)).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    assert_eq!(headers["content-type"], "application/liquid", "{path}");
    assert_eq!(headers["cache-control"], "private, no-store");
    let text = body
        .as_str()
        .unwrap_or_else(|| panic!("not Liquid: {body}"));
    assert!(
        text.contains("{%- layout none -%}"),
        "rendered in the theme's layout: {text}"
    );
    assert!(text.contains("all_products[kindred_handle]"));
    text.to_owned()
}

#[tokio::test]
async fn the_proxy_answers_shelves_as_liquid_for_shopify_to_render_in_the_shoppers_market() {
    for db in databases() {
        let app = TestApp::spawn(&db).await;
        app.import(SHOP, "catalogs/yoga-stores/2026-01-13").await;

        // The same products, in the same order, as the JSON answer: by handle, for
        // `all_products` to read in the shopper's market.
        let params = [("strategy", "similar"), ("product_id", MAT), ("limit", "6")];
        let cards = liquid(&app, "/proxy/recommendations/cards", &params).await;
        let (_, _, answer) = proxy_get(
            &app,
            &proxied("/proxy/recommendations", &params, SHOP, "", 0),
        )
        .await;
        let handles = handles_of(&answer, "recommendations");
        assert_eq!(handles.len(), 6, "{answer}");
        assert_eq!(
            assigned(&cards, "handles"),
            Some(handles.join(",").as_str()),
            "{db:?}"
        );
        assert_eq!(assigned(&cards, "strategy"), Some("similar"));
        assert_eq!(assigned(&cards, "holdout"), Some("false"));

        // What a shopper typed is searched, never written into the Liquid: Liquid in a query
        // would run in the storefront with the shopper's objects.
        let hostile = "{{ customer.email }} {% render 'x' %} cork block";
        let search = liquid(&app, "/proxy/search/cards", &[("q", hostile)]).await;
        let (_, _, results) = proxy_get(
            &app,
            &proxied("/proxy/search", &[("q", hostile)], SHOP, "", 0),
        )
        .await;
        assert_eq!(
            assigned(&search, "handles"),
            Some(handles_of(&results, "results").join(",").as_str())
        );
        assert!(!search.contains("customer.email") && !search.contains("render 'x'"));
        assert_eq!(assigned(&search, "strategy"), Some("search"));
        assert_eq!(assigned(&search, "personalised"), Some("false"));

        // Suggestions carry their completed queries, words only.
        let suggest = liquid(
            &app,
            "/proxy/search/suggest/cards",
            &[("q", "cork yoga b"), ("limit", "3")],
        )
        .await;
        let (_, _, suggested) = proxy_get(
            &app,
            &proxied(
                "/proxy/search/suggest",
                &[("q", "cork yoga b"), ("limit", "3")],
                SHOP,
                "",
                0,
            ),
        )
        .await;
        let queries: Vec<&str> = suggested["queries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q.as_str().unwrap())
            .collect();
        assert!(!queries.is_empty(), "{suggested}");
        // Of each completed query its completion alone: what was typed stays out.
        let completions: Vec<&str> = queries
            .iter()
            .map(|q| q.rsplit(' ').next().unwrap())
            .collect();
        assert_eq!(
            assigned(&suggest, "queries"),
            Some(completions.join("|").as_str())
        );
        let typed = liquid(
            &app,
            "/proxy/search/suggest/cards",
            &[("q", "{{ shop.name }} yoga b")],
        )
        .await;
        assert!(!typed.contains("shop.name"), "{typed}");
        assert_eq!(
            assigned(&suggest, "handles"),
            Some(handles_of(&suggested, "products").join(",").as_str())
        );

        // Bad input is the JSON routes' clear 400, not a page.
        let (status, _, body) = proxy_get(
            &app,
            &proxied(
                "/proxy/recommendations/cards",
                &[("strategy", "best")],
                SHOP,
                "",
                0,
            ),
        )
        .await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{body}"
        );

        // A shopper the holdout keeps gets no Kindred products, and the control to show.
        let merchant = app.merchant_key(SHOP).await;
        let holdout =
            json!({"holdout": {"enabled": true, "share_percent": 50, "control": "shopify"}});
        let (status, settings) = app
            .request(
                Method::PUT,
                &format!("/api/v1/shops/{SHOP}/settings"),
                Some(&merchant),
                Some(holdout.to_string().into_bytes()),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{settings}");
        // Half the browsers are held: the first one the JSON answer says is.
        let mut browser = None;
        for n in 0..64 {
            let client = format!("browser-{n}");
            let asked = [
                ("strategy", "similar"),
                ("product_id", MAT),
                ("client_id", client.as_str()),
            ];
            let uri = proxied("/proxy/recommendations", &asked, SHOP, "", 0);
            let (_, _, answer) = proxy_get(&app, &uri).await;
            if answer["experiment"]["holdout"] == true {
                browser = Some(client);
                break;
            }
        }
        let browser = browser.expect("no browser of 64 in a 50% holdout");
        let held = [
            ("strategy", "similar"),
            ("product_id", MAT),
            ("client_id", browser.as_str()),
        ];
        let cards = liquid(&app, "/proxy/recommendations/cards", &held).await;
        assert_eq!(assigned(&cards, "handles"), Some(""));
        assert_eq!(assigned(&cards, "holdout"), Some("true"));
        assert_eq!(assigned(&cards, "control"), Some("shopify"));
        assert_eq!(assigned(&cards, "arm"), Some("holdout"));
    }
}
