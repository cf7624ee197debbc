//! Every GraphQL document Kindred sends to Shopify is valid against Shopify's published
//! Admin API schema for the pinned version (2025-10), as apollo-compiler validates it.

use std::fmt::Write;
use std::io::Read;

use apollo_compiler::{ExecutableDocument, Schema};
use serde_json::Value;

use kindred::shopify::graphql::ALL_DOCUMENTS;
use kindred::shopify::API_VERSION;

use crate::common::shared_data;

const BUILT_IN_SCALARS: &[&str] = &["String", "Int", "Float", "Boolean", "ID"];
const BUILT_IN_DIRECTIVES: &[&str] = &["include", "skip", "deprecated", "specifiedBy", "oneOf"];

/// A type reference of the introspection result, as SDL (`[Product!]!`).
fn type_ref(reference: &Value) -> String {
    match reference["kind"].as_str() {
        Some("NON_NULL") => format!("{}!", type_ref(&reference["ofType"])),
        Some("LIST") => format!("[{}]", type_ref(&reference["ofType"])),
        _ => reference["name"].as_str().unwrap().to_owned(),
    }
}

fn arguments(args: &Value) -> String {
    let args: Vec<String> = args
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|arg| {
            let mut out = format!(
                "{}: {}",
                arg["name"].as_str().unwrap(),
                type_ref(&arg["type"])
            );
            if let Some(default) = arg["defaultValue"].as_str() {
                let _ = write!(out, " = {default}");
            }
            out
        })
        .collect();
    if args.is_empty() {
        String::new()
    } else {
        format!("({})", args.join(", "))
    }
}

fn implements(t: &Value) -> String {
    let names: Vec<&str> = t["interfaces"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|i| i["name"].as_str())
        .collect();
    if names.is_empty() {
        String::new()
    } else {
        format!(" implements {}", names.join(" & "))
    }
}

/// Shopify publishes the schema as an introspection result; apollo-compiler reads SDL.
fn introspection_to_sdl(schema: &Value) -> String {
    let mut sdl = String::new();
    let root = |key: &str| schema[key]["name"].as_str().map(str::to_owned);
    sdl.push_str("schema {");
    if let Some(query) = root("queryType") {
        let _ = write!(sdl, " query: {query}");
    }
    if let Some(mutation) = root("mutationType") {
        let _ = write!(sdl, " mutation: {mutation}");
    }
    sdl.push_str(" }\n");
    for directive in schema["directives"].as_array().unwrap() {
        let name = directive["name"].as_str().unwrap();
        if BUILT_IN_DIRECTIVES.contains(&name) {
            continue;
        }
        let locations: Vec<&str> = directive["locations"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let _ = writeln!(
            sdl,
            "directive @{name}{} on {}",
            arguments(&directive["args"]),
            locations.join(" | ")
        );
    }
    for t in schema["types"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        if name.starts_with("__") || BUILT_IN_SCALARS.contains(&name) {
            continue;
        }
        let fields = |key: &str, with_args: bool| -> String {
            t[key]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|f| {
                    let args = if with_args {
                        arguments(&f["args"])
                    } else {
                        String::new()
                    };
                    let mut line = format!(
                        "  {}{args}: {}",
                        f["name"].as_str().unwrap(),
                        type_ref(&f["type"])
                    );
                    if let Some(default) = f["defaultValue"].as_str() {
                        let _ = write!(line, " = {default}");
                    }
                    line + "\n"
                })
                .collect()
        };
        match t["kind"].as_str().unwrap() {
            "SCALAR" => {
                let _ = writeln!(sdl, "scalar {name}");
            }
            "OBJECT" => {
                let _ = writeln!(
                    sdl,
                    "type {name}{} {{\n{}}}",
                    implements(t),
                    fields("fields", true)
                );
            }
            "INTERFACE" => {
                let _ = writeln!(
                    sdl,
                    "interface {name}{} {{\n{}}}",
                    implements(t),
                    fields("fields", true)
                );
            }
            "INPUT_OBJECT" => {
                let _ = writeln!(sdl, "input {name} {{\n{}}}", fields("inputFields", false));
            }
            "UNION" => {
                let members: Vec<&str> = t["possibleTypes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|m| m["name"].as_str())
                    .collect();
                let _ = writeln!(sdl, "union {name} = {}", members.join(" | "));
            }
            "ENUM" => {
                let values: Vec<&str> = t["enumValues"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|v| v["name"].as_str())
                    .collect();
                let _ = writeln!(sdl, "enum {name} {{ {} }}", values.join(" "));
            }
            other => panic!("unexpected kind {other} for {name}"),
        }
    }
    sdl
}

fn admin_schema() -> apollo_compiler::validation::Valid<Schema> {
    let path = shared_data(&format!("shopify-schema/admin_{API_VERSION}.json.gz"));
    let mut json = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap())
        .read_to_string(&mut json)
        .unwrap();
    let introspection: Value = serde_json::from_str(&json).unwrap();
    let sdl = introspection_to_sdl(&introspection["data"]["__schema"]);
    Schema::parse_and_validate(sdl, "admin.graphql")
        .unwrap_or_else(|err| panic!("Shopify's schema did not load: {}", err.errors))
}

#[test]
fn every_document_kindred_sends_is_valid_against_the_admin_schema() {
    let schema = admin_schema();
    // The converter is faithful enough to matter: the schema knows the fields Kindred reads.
    assert!(schema.types.contains_key("BulkOperation"));
    for (name, document) in ALL_DOCUMENTS {
        ExecutableDocument::parse_and_validate(&schema, *document, format!("{name}.graphql"))
            .unwrap_or_else(|err| {
                panic!(
                    "{name} is not valid against Admin {API_VERSION}: {}",
                    err.errors
                )
            });
    }
}

#[test]
fn the_validation_catches_a_document_that_shopify_would_refuse() {
    let schema = admin_schema();
    for broken in [
        "{ products(first: 10) { nodes { id nonsenseField } } }",
        "query ($id: ID!) { node(id: $id) { ... on BulkOperation { id objectCount(x: 1) } } }",
        "{ products(first: \"ten\") { nodes { id } } }",
    ] {
        assert!(
            ExecutableDocument::parse_and_validate(&schema, broken, "broken.graphql").is_err(),
            "accepted: {broken}"
        );
    }
}
