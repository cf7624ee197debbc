//! The text a product is embedded as, and the hash that says when it changed.

use ego_tree::iter::Edge;
use scraper::{Html, Node};
use sha2::{Digest, Sha256};

/// What of a product is worth embedding.
#[derive(Debug, Clone, Copy)]
pub struct ProductFields<'a> {
    pub title: &'a str,
    pub product_type: Option<&'a str>,
    pub vendor: Option<&'a str>,
    pub tags: &'a [String],
    /// Option names with their values, e.g. ("Color", ["Black", "Sage"]).
    pub options: &'a [(String, Vec<String>)],
    pub description_html: &'a str,
}

/// Title first (the model truncates long texts, and the title matters most), then the
/// short facts, then the description as plain text.
pub fn product_text(fields: &ProductFields) -> String {
    let mut parts: Vec<String> = vec![fields.title.trim().to_owned()];
    if let Some(kind) = fields.product_type.map(str::trim).filter(|s| !s.is_empty()) {
        parts.push(format!("Type: {kind}."));
    }
    if let Some(vendor) = fields.vendor.map(str::trim).filter(|s| !s.is_empty()) {
        parts.push(format!("Brand: {vendor}."));
    }
    let tags: Vec<&str> = fields
        .tags
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .collect();
    if !tags.is_empty() {
        parts.push(format!("Tags: {}.", tags.join(", ")));
    }
    for (name, values) in fields.options {
        // Shopify's placeholder for products without options says nothing.
        if name == "Title" && values.iter().all(|v| v == "Default Title") {
            continue;
        }
        let values: Vec<&str> = values
            .iter()
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        if !values.is_empty() {
            parts.push(format!("{}: {}.", name.trim(), values.join(", ")));
        }
    }
    let description = html_to_text(fields.description_html);
    if !description.is_empty() {
        parts.push(description);
    }
    parts.retain(|p| !p.is_empty());
    parts.join(" ")
}

const HIDDEN: [&str; 4] = ["script", "style", "noscript", "template"];
const INLINE: [&str; 14] = [
    "a", "abbr", "b", "code", "em", "i", "mark", "s", "small", "span", "strong", "sub", "sup", "u",
];

/// Visible text of an HTML fragment: entities decoded, scripts and styles dropped,
/// whitespace collapsed.
pub fn html_to_text(html: &str) -> String {
    if !html.contains('<') && !html.contains('&') {
        return collapse_whitespace(html);
    }
    let fragment = Html::parse_fragment(html);
    let mut text = String::with_capacity(html.len() / 2);
    let mut hidden_depth = 0usize;
    for edge in fragment.tree.root().traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(e) if HIDDEN.contains(&e.name()) => hidden_depth += 1,
                Node::Element(e) if e.name() == "br" => text.push(' '),
                Node::Text(t) if hidden_depth == 0 => text.push_str(t),
                _ => {}
            },
            Edge::Close(node) => {
                if let Node::Element(e) = node.value() {
                    if HIDDEN.contains(&e.name()) {
                        hidden_depth = hidden_depth.saturating_sub(1);
                    } else if !INLINE.contains(&e.name()) {
                        // Block boundaries separate words; inline tags do not.
                        text.push(' ');
                    }
                }
            }
        }
    }
    collapse_whitespace(&text)
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Hex SHA-256 of the model id and the text: equal hashes mean the stored vector is current.
pub fn content_hash(model_id: &str, text: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(model_id.as_bytes());
    hasher.update([0u8]);
    hasher.update(text.as_bytes());
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_stripped_to_visible_text() {
        let html = "<h2>\n<meta charset=\"utf-8\"> <span>A studio-quality mat</span></h2><p>Grip &amp; cushion&nbsp;&mdash; 6mm</p>\
                    <script>track()</script><style>p{}</style><ul><li>Latex-free</li><li>PVC</li></ul>";
        assert_eq!(
            html_to_text(html),
            "A studio-quality mat Grip & cushion — 6mm Latex-free PVC"
        );
        assert_eq!(html_to_text("plain   text\n here"), "plain text here");
        assert_eq!(html_to_text("<p>unclosed <b>bold"), "unclosed bold");
        assert_eq!(html_to_text(""), "");
    }

    #[test]
    fn real_catalogue_descriptions_lose_every_tag() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/data/catalogs/yoga-stores/2026-01-13/manduka.json"
        );
        let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        for product in doc["products"].as_array().unwrap() {
            let html = product["body_html"].as_str().unwrap_or_default();
            let text = html_to_text(html);
            assert!(
                !text.contains('<') && !text.contains("&amp;") && !text.contains("&nbsp;"),
                "{text}"
            );
            // Every word outside the tags survives (scripts and styles aside).
            let mut naive = String::new();
            let mut in_tag = false;
            for c in html.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => {
                        in_tag = false;
                        naive.push(' ');
                    }
                    c if !in_tag => naive.push(c),
                    _ => {}
                }
            }
            for word in naive
                .split_whitespace()
                .filter(|w| w.chars().all(char::is_alphanumeric))
            {
                assert!(text.contains(word), "`{word}` lost from {text}");
            }
        }
    }

    #[test]
    fn text_leads_with_the_title_and_skips_placeholders() {
        let tags = vec!["cork".to_owned(), " ".to_owned()];
        let options = vec![
            ("Title".to_owned(), vec!["Default Title".to_owned()]),
            ("Size".to_owned(), vec!["4mm".to_owned(), "6mm".to_owned()]),
        ];
        let fields = ProductFields {
            title: "Cork Mat",
            product_type: Some("Mats"),
            vendor: Some("Scoria"),
            tags: &tags,
            options: &options,
            description_html: "<p>Natural <em>cork</em>.</p>",
        };
        assert_eq!(
            product_text(&fields),
            "Cork Mat Type: Mats. Brand: Scoria. Tags: cork. Size: 4mm, 6mm. Natural cork."
        );
    }

    #[test]
    fn the_hash_changes_with_text_or_model() {
        let a = content_hash("m1", "text");
        assert_eq!(a, content_hash("m1", "text"));
        assert_ne!(a, content_hash("m2", "text"));
        assert_ne!(a, content_hash("m1", "text."));
        assert_eq!(a.len(), 64);
    }
}
