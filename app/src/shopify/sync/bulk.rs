//! Reading a bulk operation's JSONL. Each line is one object; variants and collections are
//! lines of their own that name their product in `__parentId`, so products are assembled
//! as lines stream in and read once the file has ended.

use std::collections::HashMap;

use serde_json::Value;

use crate::catalog::SkippedRecord;
use crate::domain::Product;
use crate::shopify::graphql::product_from_graphql;

#[derive(Default)]
pub struct BulkAssembler {
    /// Product gid -> (line number, node), in file order.
    products: Vec<(String, usize, Value)>,
    variants: HashMap<String, Vec<Value>>,
    collections: HashMap<String, Vec<Value>>,
    skipped: Vec<SkippedRecord>,
    lines: usize,
}

impl BulkAssembler {
    pub fn lines(&self) -> usize {
        self.lines
    }

    /// Takes one JSONL line; a bad line is recorded and the rest go on.
    pub fn push_line(&mut self, line: &str) {
        self.lines += 1;
        let line_no = self.lines;
        let line = line.trim();
        if line.is_empty() {
            return;
        }
        let value: Value = match serde_json::from_str(line) {
            Ok(value) => value,
            Err(err) => return self.skip(line_no, format!("not JSON: {err}")),
        };
        let id = value.get("id").and_then(Value::as_str).unwrap_or_default();
        match value.get("__parentId").and_then(Value::as_str) {
            Some(parent) if id.starts_with("gid://shopify/ProductVariant/") => self
                .variants
                .entry(parent.to_owned())
                .or_default()
                .push(value),
            Some(parent) if id.starts_with("gid://shopify/Collection/") => self
                .collections
                .entry(parent.to_owned())
                .or_default()
                .push(value),
            Some(_) => self.skip(line_no, format!("unexpected child object `{id}`")),
            None if id.starts_with("gid://shopify/Product/") => {
                self.products.push((id.to_owned(), line_no, value))
            }
            None => self.skip(line_no, format!("unexpected object `{id}`")),
        }
    }

    fn skip(&mut self, line: usize, reason: String) {
        self.skipped
            .push(SkippedRecord::new(format!("bulk.jsonl:{line}"), reason));
    }

    /// The products, in file order, and the lines that could not be used.
    pub fn finish(mut self) -> (Vec<Product>, Vec<SkippedRecord>) {
        let mut products = Vec::with_capacity(self.products.len());
        for (gid, line, node) in std::mem::take(&mut self.products) {
            let variants = self.variants.remove(&gid).unwrap_or_default();
            let collections = self.collections.remove(&gid).unwrap_or_default();
            match product_from_graphql(&node, &variants, &collections) {
                Ok(product) => products.push(product),
                Err(reason) => self.skip(line, reason),
            }
        }
        for orphan in self.variants.keys().chain(self.collections.keys()) {
            self.skipped.push(SkippedRecord::new(
                "bulk.jsonl",
                format!("children of `{orphan}`, which is not in the file"),
            ));
        }
        (products, self.skipped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_join_their_parent_wherever_they_are() {
        let mut bulk = BulkAssembler::default();
        for line in [
            r#"{"id":"gid://shopify/ProductVariant/11","price":"20.00","compareAtPrice":null,"availableForSale":true,"__parentId":"gid://shopify/Product/1"}"#,
            r#"{"id":"gid://shopify/Product/1","title":"Cork block","handle":"cork-block","descriptionHtml":"","vendor":"Keep","productType":"Blocks","tags":[],"status":"ACTIVE","updatedAt":"2026-01-06T10:00:00Z","options":[]}"#,
            r#"{"id":"gid://shopify/Collection/5","__parentId":"gid://shopify/Product/1"}"#,
            r#"{"id":"gid://shopify/Product/2","handle":"no-title"}"#,
            "not json",
            r#"{"id":"gid://shopify/ProductVariant/99","price":"1.00","__parentId":"gid://shopify/Product/404"}"#,
        ] {
            bulk.push_line(line);
        }
        let (products, skipped) = bulk.finish();
        assert_eq!(products.len(), 1);
        assert_eq!(products[0].price_cents, Some(2000));
        assert_eq!(products[0].collections, [5]);
        let reasons: Vec<String> = skipped
            .iter()
            .map(|s| format!("{}: {}", s.location, s.reason))
            .collect();
        assert_eq!(skipped.len(), 3, "{reasons:?}");
        assert!(reasons
            .iter()
            .any(|r| r.starts_with("bulk.jsonl:4") && r.contains("title")));
        assert!(reasons.iter().any(|r| r.starts_with("bulk.jsonl:5")));
        assert!(reasons.iter().any(|r| r.contains("Product/404")));
    }
}
