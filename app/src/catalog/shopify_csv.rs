//! Shopify's product-import CSV: one row per variant or extra image, grouped by `Handle`;
//! the first row of a handle carries the product fields.

use std::collections::BTreeMap;
use std::io::Read;

use sha2::{Digest, Sha256};

use super::{ParsedRecord, SkippedRecord};
use crate::domain::{parse_price, split_list, Product, ProductOption, ProductStatus};

/// CSV exports carry no product id, so one is derived from the handle, which is unique
/// within a shop: the same file imports to the same ids every time.
pub fn product_id_for_handle(handle: &str) -> u64 {
    let digest = Sha256::digest(format!("kindred-csv-handle:{handle}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    // Keep it positive in a signed 64-bit column and never zero.
    (u64::from_be_bytes(bytes) >> 1).max(1)
}

struct Draft {
    product: Product,
    option_names: [Option<String>; 3],
    option_values: [Vec<String>; 3],
    prices: Vec<i64>,
    compare_at: Vec<i64>,
    any_available: bool,
}

pub fn read_csv(reader: impl Read, source: &str) -> Vec<ParsedRecord> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let headers = match csv.headers() {
        Ok(h) => h.clone(),
        Err(err) => {
            return vec![Err(SkippedRecord::new(
                format!("{source}:1"),
                format!("unreadable header: {err}"),
            ))]
        }
    };
    let Some((handle_col, cols)) = Columns::find(&headers) else {
        return vec![Err(SkippedRecord::new(
            format!("{source}:1"),
            "no `Handle` column: not a Shopify product CSV",
        ))];
    };

    let mut drafts: BTreeMap<String, Draft> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut results = Vec::new();
    for (index, row) in csv.records().enumerate() {
        let line = index as u64 + 2;
        let row = match row {
            Ok(row) => row,
            Err(err) => {
                results.push(Err(SkippedRecord::new(
                    format!("{source}:{line}"),
                    format!("malformed row: {err}"),
                )));
                continue;
            }
        };
        let get = |col: Option<usize>| {
            col.and_then(|c| row.get(c))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let Some(handle) = get(Some(handle_col)) else {
            results.push(Err(SkippedRecord::new(
                format!("{source}:{line}"),
                "empty `Handle`",
            )));
            continue;
        };
        if !drafts.contains_key(handle) {
            let Some(title) = get(cols.title) else {
                results.push(Err(SkippedRecord::new(
                    format!("{source}:{line}"),
                    format!("first row of handle `{handle}` has no `Title`"),
                )));
                continue;
            };
            order.push(handle.to_owned());
            drafts.insert(handle.to_owned(), cols.start_product(handle, title, &get));
        }
        if let Some(draft) = drafts.get_mut(handle) {
            cols.add_variant_row(draft, &get);
        }
    }
    results.extend(
        order
            .into_iter()
            .filter_map(|h| drafts.remove(&h))
            .map(|d| Ok(finish(d))),
    );
    results
}

impl Columns {
    /// Where each column is, by Shopify's header names (any case); `None` without the
    /// `Handle` column that every product CSV has.
    fn find(headers: &csv::StringRecord) -> Option<(usize, Self)> {
        let column = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(name))
        };
        let handle = column("Handle")?;
        let columns = Columns {
            title: column("Title"),
            body: column("Body (HTML)"),
            vendor: column("Vendor"),
            product_type: column("Type").or_else(|| column("Product Type")),
            tags: column("Tags"),
            status: column("Status"),
            published: column("Published"),
            option_names: [
                column("Option1 Name"),
                column("Option2 Name"),
                column("Option3 Name"),
            ],
            option_values: [
                column("Option1 Value"),
                column("Option2 Value"),
                column("Option3 Value"),
            ],
            price: column("Variant Price"),
            compare_at: column("Variant Compare At Price"),
            tracker: column("Variant Inventory Tracker"),
            quantity: column("Variant Inventory Qty"),
            policy: column("Variant Inventory Policy"),
            image: column("Image Src"),
            gift_card: column("Gift Card"),
        };
        Some((handle, columns))
    }
}

struct Columns {
    title: Option<usize>,
    body: Option<usize>,
    vendor: Option<usize>,
    product_type: Option<usize>,
    tags: Option<usize>,
    status: Option<usize>,
    published: Option<usize>,
    option_names: [Option<usize>; 3],
    option_values: [Option<usize>; 3],
    price: Option<usize>,
    compare_at: Option<usize>,
    tracker: Option<usize>,
    quantity: Option<usize>,
    policy: Option<usize>,
    image: Option<usize>,
    gift_card: Option<usize>,
}

impl Columns {
    fn start_product<'r>(
        &self,
        handle: &str,
        title: &str,
        get: &impl Fn(Option<usize>) -> Option<&'r str>,
    ) -> Draft {
        let published = get(self.published).is_none_or(|p| p.eq_ignore_ascii_case("true"));
        let status = get(self.status)
            .and_then(ProductStatus::parse)
            .unwrap_or(if published {
                ProductStatus::Active
            } else {
                ProductStatus::Draft
            });
        Draft {
            product: Product {
                id: product_id_for_handle(handle),
                handle: handle.to_owned(),
                title: title.to_owned(),
                description_html: get(self.body).unwrap_or_default().to_owned(),
                vendor: get(self.vendor).map(str::to_owned),
                product_type: get(self.product_type).map(str::to_owned),
                tags: get(self.tags).map(split_list).unwrap_or_default(),
                options: Vec::new(),
                status,
                available: false,
                price_cents: None,
                compare_at_price_cents: None,
                image_url: None,
                collections: Vec::new(),
                updated_at: None,
                // Shopify's CSV export carries no dates.
                published_at: None,
                gift_card: get(self.gift_card).is_some_and(|g| g.eq_ignore_ascii_case("true")),
            },
            option_names: self.option_names.map(|c| get(c).map(str::to_owned)),
            option_values: Default::default(),
            prices: Vec::new(),
            compare_at: Vec::new(),
            any_available: false,
        }
    }

    fn add_variant_row<'r>(
        &self,
        draft: &mut Draft,
        get: &impl Fn(Option<usize>) -> Option<&'r str>,
    ) {
        if draft.product.image_url.is_none() {
            draft.product.image_url = get(self.image).map(str::to_owned);
        }
        // Image-only rows have no price.
        let Some(price) = get(self.price).and_then(parse_price) else {
            return;
        };
        draft.prices.push(price);
        draft
            .compare_at
            .extend(get(self.compare_at).and_then(parse_price));
        for (slot, col) in self.option_values.iter().enumerate() {
            if let Some(value) = get(*col) {
                if !draft.option_values[slot].iter().any(|v| v == value) {
                    draft.option_values[slot].push(value.to_owned());
                }
            }
        }
        let tracked = get(self.tracker).is_some();
        let oversell = get(self.policy) == Some("continue");
        let in_stock = get(self.quantity)
            .and_then(|q| q.parse::<i64>().ok())
            .is_none_or(|q| q > 0);
        draft.any_available |= !tracked || oversell || in_stock;
    }
}

fn finish(draft: Draft) -> Product {
    let Draft {
        mut product,
        option_names,
        option_values,
        prices,
        compare_at,
        any_available,
    } = draft;
    product.options = option_names
        .into_iter()
        .zip(option_values)
        .filter_map(|(name, values)| {
            Some(ProductOption {
                name: name?,
                values,
            })
        })
        // Shopify writes `Title / Default Title` for products without options.
        .filter(|o| !(o.name == "Title" && o.values == ["Default Title"]))
        .collect();
    product.price_cents = prices.iter().copied().min();
    product.compare_at_price_cents = compare_at.iter().copied().min();
    product.available = any_available;
    product
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_variant_rows_by_handle() {
        let file = include_str!("../../../../shared/data/catalogs/csv/jewelery.csv");
        let records = read_csv(file.as_bytes(), "jewelery.csv");
        let products: Vec<Product> = records.into_iter().map(Result::unwrap).collect();
        let anchor = products
            .iter()
            .find(|p| p.handle == "leather-anchor")
            .unwrap();
        assert_eq!(anchor.title, "Anchor Bracelet Mens");
        assert_eq!(anchor.price_cents, Some(5500));
        assert_eq!(anchor.options[0].values, ["Gold", "Silver"]);
        assert_eq!(anchor.tags, ["Anchor", "Gold", "Leather", "Silver"]);
        assert_eq!(anchor.id, product_id_for_handle("leather-anchor"));
        let bangle = products
            .iter()
            .find(|p| p.handle == "bangle-bracelet")
            .unwrap();
        assert!(bangle.options.is_empty(), "Default Title is not an option");
        let handles: std::collections::HashSet<_> = products.iter().map(|p| &p.handle).collect();
        assert_eq!(handles.len(), products.len());
    }

    #[test]
    fn reports_rows_it_cannot_use() {
        let file = "Handle,Title,Variant Price\n,Nameless,1\norphan,,2\nok,Fine,3\n";
        let records = read_csv(file.as_bytes(), "x.csv");
        let skipped: Vec<_> = records
            .iter()
            .filter_map(|r| r.as_ref().err())
            .map(|s| s.location.clone())
            .collect();
        assert_eq!(skipped, ["x.csv:2", "x.csv:3"]);
        assert_eq!(records.iter().filter(|r| r.is_ok()).count(), 1);
        let not_shopify = read_csv("a,b\n1,2\n".as_bytes(), "y.csv");
        assert!(not_shopify[0]
            .as_ref()
            .unwrap_err()
            .reason
            .contains("Handle"));
    }
}
