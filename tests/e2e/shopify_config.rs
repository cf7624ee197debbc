//! `shopify.app.toml` (what Shopify CLI deploys) and the server agree: the same scopes, a
//! subscription for every topic the server handles at the endpoint that takes it, and the
//! one pinned API version.

use std::collections::BTreeSet;

use clap::CommandFactory;

use kindred::config::Cli;
use kindred::shopify::webhooks::Topic;
use kindred::shopify::API_VERSION;

fn app_toml() -> toml::Table {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shopify.app.toml");
    std::fs::read_to_string(path).unwrap().parse().unwrap()
}

fn default_scopes() -> String {
    let command = Cli::command();
    let argument = command
        .get_arguments()
        .find(|a| a.get_id() == "shopify_scopes")
        .expect("the SHOPIFY_SCOPES setting");
    argument.get_default_values()[0]
        .to_string_lossy()
        .into_owned()
}

#[test]
fn the_app_toml_declares_what_the_server_handles() {
    let config = app_toml();
    let scopes = config["access_scopes"]["scopes"].as_str().unwrap();
    assert_eq!(
        scopes,
        default_scopes(),
        "scopes differ from SHOPIFY_SCOPES' default"
    );
    for needed in [
        "read_products",
        "read_inventory",
        "read_orders",
        "write_app_proxy",
    ] {
        assert!(scopes.split(',').any(|s| s == needed), "{needed} missing");
    }
    // Pinned: webhooks arrive in the version the Admin API client speaks (the fake Shopify
    // of the other tests serves only this version's GraphQL path).
    assert_eq!(API_VERSION, "2025-10");
    assert_eq!(
        config["webhooks"]["api_version"].as_str(),
        Some(API_VERSION)
    );

    let mut data = BTreeSet::new();
    let mut compliance = BTreeSet::new();
    for subscription in config["webhooks"]["subscriptions"].as_array().unwrap() {
        let uri = subscription["uri"].as_str().unwrap();
        assert!(
            uri.starts_with("https://"),
            "Shopify CLI takes absolute https URIs: {uri}"
        );
        for (key, set, path) in [
            ("topics", &mut data, "/webhooks"),
            ("compliance_topics", &mut compliance, "/webhooks/compliance"),
        ] {
            for topic in subscription
                .get(key)
                .and_then(|t| t.as_array())
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                assert!(uri.ends_with(path), "{topic} goes to {uri}");
                set.insert(topic.as_str().unwrap().to_owned());
            }
        }
    }
    let handled = |compliant: bool| -> BTreeSet<String> {
        Topic::ALL
            .into_iter()
            .filter(|t| t.is_compliance() == compliant)
            .map(|t| t.as_str().to_owned())
            .collect()
    };
    assert_eq!(data, handled(false));
    assert_eq!(compliance, handled(true));

    let proxy = &config["app_proxy"];
    assert!(proxy["url"].as_str().unwrap().ends_with("/proxy"));
    assert_eq!(proxy["prefix"].as_str(), Some("apps"));
    assert!(config["auth"]["redirect_urls"][0]
        .as_str()
        .unwrap()
        .ends_with("/auth/callback"));
}
