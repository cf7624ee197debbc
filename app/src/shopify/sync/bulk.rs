//! Reading a bulk operation's JSONL. Each line is one object; nested connections' nodes
//! (a product's variants and collections, an order's line items) are lines of their own that
//! name their parent in `__parentId`, wherever in the file they are, so objects are assembled
//! as lines stream in and read once the file has ended.

use std::collections::HashMap;

use serde_json::Value;

use crate::catalog::SkippedRecord;
use crate::domain::Product;
use crate::shopify::graphql::product_from_graphql;

/// The objects of one bulk file: top-level nodes of one type, and their children by type.
pub struct BulkLines {
    /// The file's name in skip reports (`bulk.jsonl:12`).
    file: &'static str,
    /// The top-level nodes' gid prefix (`gid://shopify/Product/`).
    parent: &'static str,
    /// The children's gid prefixes, in the order `finish` hands them over.
    children: &'static [&'static str],
    /// Parent gid, line number and node, in file order.
    parents: Vec<(String, usize, Value)>,
    /// (child type, parent gid) -> its nodes.
    kids: HashMap<(usize, String), Vec<Value>>,
    skipped: Vec<SkippedRecord>,
    lines: usize,
}

impl BulkLines {
    pub fn new(
        file: &'static str,
        parent: &'static str,
        children: &'static [&'static str],
    ) -> Self {
        Self {
            file,
            parent,
            children,
            parents: Vec::new(),
            kids: HashMap::new(),
            skipped: Vec::new(),
            lines: 0,
        }
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
            Some(parent) => match self.children.iter().position(|c| id.starts_with(c)) {
                Some(kind) => self
                    .kids
                    .entry((kind, parent.to_owned()))
                    .or_default()
                    .push(value),
                None => self.skip(line_no, format!("unexpected child object `{id}`")),
            },
            None if id.starts_with(self.parent) => {
                self.parents.push((id.to_owned(), line_no, value))
            }
            None => self.skip(line_no, format!("unexpected object `{id}`")),
        }
    }

    fn skip(&mut self, line: usize, reason: String) {
        self.skipped
            .push(SkippedRecord::new(format!("{}:{line}", self.file), reason));
    }

    /// Each parent read with its children (one list per child type, in `children`'s
    /// order), in file order, and the lines that could not be used.
    pub fn finish<T>(
        mut self,
        read: impl Fn(&Value, &[Vec<Value>]) -> Result<T, String>,
    ) -> (Vec<T>, Vec<SkippedRecord>) {
        let mut objects = Vec::with_capacity(self.parents.len());
        for (gid, line, node) in std::mem::take(&mut self.parents) {
            let kids: Vec<Vec<Value>> = (0..self.children.len())
                .map(|kind| self.kids.remove(&(kind, gid.clone())).unwrap_or_default())
                .collect();
            match read(&node, &kids) {
                Ok(object) => objects.push(object),
                Err(reason) => self.skip(line, reason),
            }
        }
        let mut orphans: Vec<&String> = self.kids.keys().map(|(_, parent)| parent).collect();
        orphans.sort();
        orphans.dedup();
        let orphans: Vec<SkippedRecord> = orphans
            .into_iter()
            .map(|orphan| {
                SkippedRecord::new(
                    self.file,
                    format!("children of `{orphan}`, which is not in the file"),
                )
            })
            .collect();
        self.skipped.extend(orphans);
        (objects, self.skipped)
    }
}

/// The catalogue's bulk file: products with their variants and collections.
pub fn catalogue_lines() -> BulkLines {
    BulkLines::new(
        "bulk.jsonl",
        "gid://shopify/Product/",
        &["gid://shopify/ProductVariant/", "gid://shopify/Collection/"],
    )
}

/// The products of a catalogue bulk file.
pub fn products_of(lines: BulkLines) -> (Vec<Product>, Vec<SkippedRecord>) {
    lines.finish(|node, kids| product_from_graphql(node, &kids[0], &kids[1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_join_their_parent_wherever_they_are() {
        let mut bulk = catalogue_lines();
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
        let (products, skipped) = products_of(bulk);
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
