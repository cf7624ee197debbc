//! Shelves as Liquid for the App Proxy (`/proxy/recommendations/cards`,
//! `/proxy/search/cards`, `/proxy/search/suggest/cards`). Shopify renders a proxy answer of type `application/liquid` in the
//! shopper's storefront context, so the cards come back with the buyer's currency, the
//! market's rounding and price adjustments, the storefront's language and its locale's URLs:
//! what Kindred stores is the shop's default currency and language, which are right only in
//! the primary market. The JSON routes stay for headless frontends, which price in their own
//! context.
//!
//! Nothing from the request is written into the Liquid (a proxy answer that echoes input
//! lets a shopper run Liquid): only handles, strategy and experiment names from Kindred's own
//! data, and only when every character of them is one Liquid cannot read as a delimiter.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::views::{ProductView, RecommendationsResponse, SearchResponse, SuggestResponse};
use crate::proof::experiments::Treatment;
use crate::proof::settings::Control;

/// The cards' markup; Kindred prepends its assignments.
const CARDS: &str = include_str!("cards.liquid");
/// `all_products` reads at most 20 distinct handles per page.
const MAX_HANDLES: usize = 20;

/// The Liquid answer for a shelf of recommendations.
pub(super) fn recommendations(answer: &RecommendationsResponse) -> Response {
    let products = answer.recommendations.iter().map(|r| &r.product);
    liquid(
        &answer.strategy,
        products,
        answer.experiment.as_ref(),
        None,
        &[],
    )
}

/// The Liquid answer for search results (their events say strategy `search`), saying whether
/// the shopper's session re-ranked them.
pub(super) fn search(answer: &SearchResponse) -> Response {
    let products = answer.results.iter().map(|r| &r.product);
    liquid("search", products, None, Some(answer.personalised), &[])
}

/// The Liquid answer for search suggestions: the products as cards, and of each completed
/// query only its completion, a word of the catalogue: the words the shopper typed before it
/// stay out of the Liquid (the storefront's script puts them back in front).
pub(super) fn suggestions(answer: &SuggestResponse) -> Response {
    let products = answer.products.iter().map(|r| &r.product);
    let mut completions: Vec<String> = Vec::new();
    for query in &answer.queries {
        let word = query.rsplit(' ').next().unwrap_or_default().to_owned();
        if !completions.contains(&word) {
            completions.push(word);
        }
    }
    liquid(
        "search",
        products,
        None,
        Some(answer.personalised),
        &completions,
    )
}

fn liquid<'a>(
    strategy: &str,
    products: impl Iterator<Item = &'a ProductView>,
    experiment: Option<&Treatment>,
    personalised: Option<bool>,
    queries: &[String],
) -> Response {
    let handles: Vec<&str> = products
        .map(|p| p.handle.as_str())
        .filter(|h| is_inert_handle(h))
        .take(MAX_HANDLES)
        .collect();
    let control = match experiment.and_then(|t| t.control) {
        Some(Control::Shopify) => "shopify",
        Some(Control::None) => "none",
        None => "",
    };
    let mut assignments = vec![
        format!(
            "{{%- assign kindred_handles = '{}' | split: ',' -%}}",
            handles.join(",")
        ),
        format!("{{%- assign kindred_strategy = '{}' -%}}", name(strategy)),
        format!(
            "{{%- assign kindred_arm = '{}' -%}}",
            name(experiment.map_or("", |t| t.arm.as_str()))
        ),
        format!(
            "{{%- assign kindred_holdout = {} -%}}",
            experiment.is_some_and(|t| t.holdout)
        ),
        format!("{{%- assign kindred_control = '{control}' -%}}"),
    ];
    let queries: Vec<&str> = queries
        .iter()
        .map(String::as_str)
        .filter(|q| is_inert_query(q))
        .collect();
    if !queries.is_empty() {
        assignments.push(format!(
            "{{%- assign kindred_queries = '{}' | split: '|' -%}}",
            queries.join("|")
        ));
    }
    if let Some(personalised) = personalised {
        assignments.push(format!(
            "{{%- assign kindred_personalised = {personalised} -%}}"
        ));
    }
    let body = format!("{}\n{CARDS}", assignments.join("\n"));
    (
        [
            (
                header::CONTENT_TYPE,
                // Exactly the type Shopify looks for: the body is UTF-8 Liquid.
                HeaderValue::from_static("application/liquid"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        body,
    )
        .into_response()
}

/// A handle Liquid reads only as a string between quotes, and `split` only at its commas:
/// Shopify's handles are letters, digits and hyphens (in any script), so one outside that is
/// left off the shelf rather than escaped.
fn is_inert_handle(handle: &str) -> bool {
    !handle.is_empty()
        && handle
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '.')
}

/// A query Liquid reads only as a string between quotes, and `split` only at its `|`.
fn is_inert_query(query: &str) -> bool {
    !query.trim().is_empty()
        && query
            .chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || c == '-')
}

/// A strategy or arm name as a data attribute may carry it: a-z, 0-9, `_` and `-`, else dropped.
fn name(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .take(40)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_handles_that_cannot_leave_their_quotes_are_written() {
        assert!(is_inert_handle("cork-yoga-block"));
        assert!(is_inert_handle("tapis-de-yoga-écru"));
        assert!(is_inert_handle("ヨガマット"));
        for hostile in [
            "a'b",
            "x{{ shop.name }}",
            "{% raw %}",
            "a,b",
            "a b",
            "",
            "a%7Bb",
        ] {
            assert!(!is_inert_handle(hostile), "{hostile}");
        }
    }

    #[test]
    fn only_queries_of_words_are_written() {
        assert!(is_inert_query("cork yoga block"));
        assert!(is_inert_query("tapis de yoga écru"));
        for hostile in ["a'b", "{{ customer.email }}", "a|b", "50%", " ", "x\ny"] {
            assert!(!is_inert_query(hostile), "{hostile}");
        }
    }

    #[test]
    fn names_keep_only_attribute_safe_characters() {
        assert_eq!(name("for_you"), "for_you");
        assert_eq!(name("arm-b' onload='x"), "arm-bonloadx");
        assert_eq!(name("{{ cart }}"), "cart");
    }
}
