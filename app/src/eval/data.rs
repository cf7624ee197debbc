//! The two public data sets, read and split in time: Online Retail (baskets, last item held
//! out; and by customer, for the next basket) and Diginetica (view sessions, every next view
//! predicted).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::NaiveDateTime;
use kindred_retriever::recommend::{Evaluation, ItemId, Session, ShopperId};

use super::{Split, DAY};
use crate::error::AppError;

/// One Online Retail invoice: when, its items in line order, and its customer if known.
struct Invoice {
    time: i64,
    items: Vec<ItemId>,
    customer: Option<ShopperId>,
}

/// Invoices by number, and the items' descriptions.
type Invoices = (BTreeMap<String, Invoice>, BTreeMap<ItemId, String>);

/// Online Retail's invoices (cancellations, returns and non-product lines left out).
fn retail_invoices(path: &Path) -> Result<Invoices, AppError> {
    const NOT_PRODUCTS: &[&str] = &[
        "POST",
        "DOT",
        "M",
        "m",
        "C2",
        "D",
        "S",
        "AMAZONFEE",
        "BANK CHARGES",
        "CRUK",
        "PADS",
    ];
    let mut reader = csv::Reader::from_path(path)
        .map_err(|e| AppError::InvalidInput(format!("{}: {e}", path.display())))?;
    let mut codes: HashMap<String, ItemId> = HashMap::new();
    let mut texts = BTreeMap::new();
    let mut invoices: BTreeMap<String, Invoice> = BTreeMap::new();
    for (line, record) in reader.records().enumerate() {
        let record = record
            .map_err(|e| AppError::InvalidInput(format!("{}:{}: {e}", path.display(), line + 2)))?;
        let field = |i: usize| record.get(i).unwrap_or_default().trim();
        let (invoice, code, description, quantity, date) =
            (field(0), field(1), field(2), field(3), field(4));
        if invoice.starts_with('C') || NOT_PRODUCTS.contains(&code) || code.starts_with("gift_") {
            continue;
        }
        if quantity.parse::<i64>().map_or(true, |q| q <= 0) {
            continue;
        }
        let Ok(time) = NaiveDateTime::parse_from_str(date, "%Y-%m-%d %H:%M:%S") else {
            continue;
        };
        let next = codes.len() as ItemId + 1;
        let item = *codes.entry(code.to_owned()).or_insert(next);
        if !description.is_empty() {
            texts.entry(item).or_insert_with(|| description.to_owned());
        }
        // `17850.0`: the customer column is a float in the export.
        let customer = field(6).parse::<f64>().ok().map(|c| c as ShopperId);
        let entry = invoices.entry(invoice.to_owned()).or_insert(Invoice {
            time: time.and_utc().timestamp(),
            items: Vec::new(),
            customer,
        });
        entry.items.push(item);
    }
    Ok((invoices, texts))
}

/// Online Retail: invoices as baskets, the last item of each January basket held out.
pub fn online_retail(path: &Path) -> Result<Split, AppError> {
    let (invoices, texts) = retail_invoices(path)?;
    let baskets = invoices.into_values().map(|i| (i.time, i.items));
    let sessions: Vec<Session> = baskets
        .map(|(time, items)| Session {
            items: kindred_retriever::recommend::distinct(&items),
            time,
        })
        .collect();
    let at = |date: &str| {
        NaiveDateTime::parse_from_str(&format!("{date} 00:00:00"), "%Y-%m-%d %H:%M:%S")
            .map(|t| t.and_utc().timestamp())
            .unwrap_or_default()
    };
    let (tune_end, test_start) = (at("2010-12-13"), at("2011-01-01"));
    let window = |from: i64, to: i64| {
        sessions
            .iter()
            .filter(move |s| s.time >= from && s.time < to)
    };
    Ok(Split {
        name: "Online Retail",
        tune_train: window(i64::MIN, tune_end).cloned().collect(),
        validation: last_item_cases(window(tune_end, test_start)),
        train: window(i64::MIN, test_start).cloned().collect(),
        test: last_item_cases(window(test_start, i64::MAX)),
        texts,
    })
}

/// Diginetica: `session_id;user_id;item_id;timeframe;eventdate`, views in time order.
pub fn diginetica(path: &Path) -> Result<Split, AppError> {
    let raw = std::fs::read_to_string(path)
        .map_err(|e| AppError::InvalidInput(format!("{}: {e}", path.display())))?;
    let mut views: BTreeMap<u64, Vec<(i64, ItemId)>> = BTreeMap::new();
    for (line, row) in raw.lines().enumerate().skip(1) {
        let fields: Vec<&str> = row.split(';').collect();
        let parsed = (|| {
            let session = fields.first()?.parse::<u64>().ok()?;
            let item = fields.get(2)?.parse::<u64>().ok()?;
            let frame = fields.get(3)?.parse::<i64>().ok()?;
            let day = chrono::NaiveDate::parse_from_str(fields.get(4)?, "%Y-%m-%d").ok()?;
            let time = day.and_hms_opt(0, 0, 0)?.and_utc().timestamp() + frame / 1000;
            Some((session, time, item))
        })();
        let (session, time, item) = parsed.ok_or_else(|| {
            AppError::InvalidInput(format!("{}:{}: not a view", path.display(), line + 1))
        })?;
        views.entry(session).or_default().push((time, item));
    }
    let sessions: Vec<Session> = views
        .into_values()
        .filter_map(|mut events| {
            events.sort();
            let items: Vec<ItemId> = events.iter().map(|(_, item)| *item).collect();
            let time = events.last()?.0;
            (items.len() >= 2).then_some(Session { items, time })
        })
        .collect();
    let last = sessions.iter().map(|s| s.time).max().unwrap_or(0);
    let last_day = last - last.rem_euclid(DAY);
    let (test_start, validation_start) = (last_day - 6 * DAY, last_day - 13 * DAY);
    let window = |from: i64, to: i64| {
        sessions
            .iter()
            .filter(move |s| s.time >= from && s.time < to)
    };
    Ok(Split {
        name: "Diginetica (sample)",
        tune_train: window(i64::MIN, validation_start).cloned().collect(),
        validation: next_item_cases(window(validation_start, test_start)),
        train: window(i64::MIN, test_start).cloned().collect(),
        test: next_item_cases(window(test_start, i64::MAX)),
        texts: BTreeMap::new(),
    })
}

/// Online Retail by customer: each known customer's baskets in time order.
pub fn online_retail_customers(path: &Path) -> Result<Vec<(ShopperId, Vec<Session>)>, AppError> {
    let (invoices, _) = retail_invoices(path)?;
    let mut customers: BTreeMap<ShopperId, Vec<Session>> = BTreeMap::new();
    for invoice in invoices.into_values() {
        if let Some(customer) = invoice.customer {
            customers.entry(customer).or_default().push(Session {
                items: kindred_retriever::recommend::distinct(&invoice.items),
                time: invoice.time,
            });
        }
    }
    Ok(customers
        .into_iter()
        .map(|(customer, mut baskets)| {
            baskets.sort_by_key(|b| b.time);
            (customer, baskets)
        })
        .collect())
}

fn last_item_cases<'a>(sessions: impl Iterator<Item = &'a Session>) -> Vec<Evaluation> {
    sessions
        .filter(|s| s.items.len() >= 2)
        .map(|s| Evaluation {
            context: s.items[..s.items.len() - 1].to_vec(),
            target: s.items[s.items.len() - 1],
        })
        .collect()
}

fn next_item_cases<'a>(sessions: impl Iterator<Item = &'a Session>) -> Vec<Evaluation> {
    let mut cases = Vec::new();
    for session in sessions {
        for next in 1..session.items.len() {
            let context = &session.items[..next];
            let target = session.items[next];
            if !context.contains(&target) {
                cases.push(Evaluation {
                    context: context.to_vec(),
                    target,
                });
            }
        }
    }
    cases
}
