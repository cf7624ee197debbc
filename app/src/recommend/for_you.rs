//! "For you": recommendations from a shopper's live session. The session vector is a
//! recency- and event-weighted mean of the vectors of the products they touched and of the
//! embeddings of their searches, computed from their events at request time, so the next
//! request already reflects the last event (no batch job). Its nearest products are blended
//! (reciprocal-rank fusion) with what the shop's shoppers bought together, viewed in similar
//! sessions, viewed next after the session's products and viewed two steps away on the
//! co-view graph. A logged-in customer's history
//! spans every browser they used. A shopper with no history gets what is trending.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use kindred_retriever::exact_batched::ResidentVectors;
use kindred_retriever::recommend::{distinct, Blender, Candidate, RankedList, SourceWeight};

use super::ranked::on_sale;
use super::searches::MAX_SESSION_SEARCHES;
use super::tuned::SERVED;
use super::Recommendation;
use super::Recommender;
use super::ShoppingContext;
use crate::domain::{Product, ShopDomain};
use crate::error::AppError;
use crate::events::{EventKind, ShopperEvent};

/// Events of a session that count (the most recent ones).
const SESSION_EVENTS: usize = 50;
/// Products a shopper touched that are left out of their shelf: the latest this many.
const MAX_EXCLUDED: usize = 200;
/// An event this many events back weighs half as much as the latest.
const HALF_LIFE_EVENTS: f32 = 10.0;

/// How much one event of each kind says about what the shopper wants.
fn kind_weight(kind: EventKind) -> f32 {
    match kind {
        EventKind::ProductViewed => 1.0,
        EventKind::SearchSubmitted => 1.5,
        EventKind::ProductAddedToCart => 3.0,
        EventKind::CheckoutCompleted => 2.0,
        EventKind::ProductRemovedFromCart
        | EventKind::CollectionViewed
        | EventKind::RecommendationViewed
        | EventKind::RecommendationClicked => 0.0,
    }
}

/// Something the session vector is made of, kept to explain each recommendation.
#[derive(Debug)]
struct Signal {
    vector: Vec<f32>,
    weight: f32,
    because: String,
}

/// Which strategy answered.
pub enum ForYouSource {
    Session,
    Trending,
}

/// A shopper's live session, ready to be scored.
#[derive(Debug)]
pub(crate) struct LiveSession {
    signals: Vec<Signal>,
    /// Unit length: the weighted mean of the signals.
    vector: Vec<f32>,
    /// The session's products in time order: what the collaborative sources read.
    items: Vec<u64>,
    /// The title of the latest of them, for the collaborative sources' reasons.
    latest_title: Option<String>,
    /// Never suggested: on screen, in the cart, viewed, carted or bought.
    exclude: HashSet<u64>,
}

/// What a shopper's history allows.
#[derive(Debug)]
pub(crate) enum Prepared {
    Session(LiveSession),
    /// Nothing to build a session from: trending, without these products.
    NoSession {
        exclude: HashSet<u64>,
    },
}

/// A session prepared and its content candidates found elsewhere (many shoppers' session
/// vectors scored in one batch), carried in the shopper's context.
#[derive(Debug)]
pub(crate) struct Batched {
    pub(crate) prepared: Prepared,
    pub(crate) content: Vec<Candidate>,
}

/// Candidates the content part reads: as deep as the blend reads each of its sources (the
/// shelf itself, when asked for more), since the blend never looks further.
fn content_depth(limit: usize) -> usize {
    limit.max(SERVED.blend.depth)
}

impl Recommender {
    pub async fn for_you(
        &self,
        shop: &ShopDomain,
        context: &ShoppingContext,
    ) -> Result<(ForYouSource, Vec<Recommendation>), AppError> {
        let limit = context.limit;
        let prepared;
        let (prepared, content) = match &context.batched {
            Some(batched) => (&batched.prepared, Some(&batched.content)),
            None => {
                prepared = self.live_session(shop, context).await?;
                (&prepared, None)
            }
        };
        let session = match prepared {
            Prepared::Session(session) => session,
            Prepared::NoSession { exclude } => {
                return Ok((
                    ForYouSource::Trending,
                    self.trending(shop, exclude, limit).await?,
                ))
            }
        };
        let content = match content {
            Some(content) => content.clone(),
            None => {
                let exclude = session.exclude.iter().copied().collect();
                let (vector, depth) = (session.vector.clone(), content_depth(limit));
                self.nearest_on_sale(shop, vector, depth, exclude).await?
            }
        };
        Ok((
            ForYouSource::Session,
            self.blend_session(shop, session, content, limit).await?,
        ))
    }

    /// The shopper's live session as one unit vector (what search re-ranks by); `None` when
    /// their history has nothing to build one from.
    pub(crate) async fn session_vector(
        &self,
        shop: &ShopDomain,
        context: &ShoppingContext,
    ) -> Result<Option<Vec<f32>>, AppError> {
        Ok(match self.live_session(shop, context).await? {
            Prepared::Session(session) => Some(session.vector),
            Prepared::NoSession { .. } => None,
        })
    }

    /// The session vector and what goes with it, from the shopper's history.
    pub(crate) async fn live_session(
        &self,
        shop: &ShopDomain,
        context: &ShoppingContext,
    ) -> Result<Prepared, AppError> {
        let history = self.shopper_history(shop, context).await?;
        let recent: Vec<&ShopperEvent> = history.iter().rev().take(SESSION_EVENTS).collect();
        // Products the shopper already has in view, in the cart or bought are not suggested:
        // the latest ones, so a long history does not make every search ask for thousands.
        let mut touched: HashSet<u64> = HashSet::new();
        for product in history.iter().rev().flat_map(|e| {
            e.product_id
                .into_iter()
                .chain(e.line_items.iter().map(|l| l.product_id))
        }) {
            if touched.len() >= MAX_EXCLUDED {
                break;
            }
            touched.insert(product);
        }
        let exclude: HashSet<u64> = touched.union(&context.in_view()).copied().collect();
        let (signals, titles) = self.signals(shop, &recent).await?;
        if signals.is_empty() {
            return Ok(Prepared::NoSession { exclude });
        }
        let mut vector = vec![0f32; signals[0].vector.len()];
        for signal in &signals {
            vector
                .iter_mut()
                .zip(&signal.vector)
                .for_each(|(s, v)| *s += signal.weight * v);
        }
        let norm = vector
            .iter()
            .map(|x| x * x)
            .sum::<f32>()
            .sqrt()
            .max(f32::EPSILON);
        vector.iter_mut().for_each(|x| *x /= norm);
        let items = distinct(
            &recent
                .iter()
                .rev()
                .filter(|e| kind_weight(e.kind) > 0.0)
                .flat_map(|e| {
                    e.product_id
                        .into_iter()
                        .chain(e.line_items.iter().map(|l| l.product_id))
                })
                .collect::<Vec<_>>(),
        );
        let latest_title = items.last().and_then(|id| titles.get(id).cloned());
        Ok(Prepared::Session(LiveSession {
            signals,
            vector,
            items,
            latest_title,
            exclude,
        }))
    }

    /// The session's content candidates blended with what the shop's shoppers did together,
    /// on-sale products only, each with its reason.
    async fn blend_session(
        &self,
        shop: &ShopDomain,
        session: &LiveSession,
        content: Vec<Candidate>,
        limit: usize,
    ) -> Result<Vec<Recommendation>, AppError> {
        let models = self.interactions(shop).await?;
        let weights = SERVED.blend;
        let blender = Blender::new(
            vec![
                SourceWeight {
                    source: Box::new(RankedList {
                        name: "similar",
                        candidates: content,
                    }),
                    weight: weights.content,
                },
                SourceWeight {
                    source: Box::new(models.together.clone()),
                    weight: weights.together,
                },
                SourceWeight {
                    source: Box::new(models.neighbours.clone()),
                    weight: weights.neighbours,
                },
                SourceWeight {
                    source: Box::new(models.next.clone()),
                    weight: weights.next,
                },
                SourceWeight {
                    source: Box::new(models.nearby.clone()),
                    weight: weights.nearby,
                },
            ],
            weights.fusion(),
            weights.depth,
        );
        // More than asked: collaborative sources may propose sold-out or unpublished products.
        let blended = blender.recommend_explained(&session.items, limit * 3, &session.exclude);
        let ids: Vec<u64> = blended.iter().map(|(c, _)| c.item).collect();
        let mut products = self.first_admitted(shop, &ids, limit, on_sale).await?;
        let top = blended.first().map_or(1.0, |(c, _)| c.score);
        // The shelf first; then one vector read for the items whose reason is their closest
        // part of the session (the collaborative sources name the latest product instead).
        let shelf: Vec<(Candidate, &str, Product)> = blended
            .into_iter()
            .filter_map(|(candidate, source)| {
                let product = products.remove(&candidate.item)?;
                Some((candidate, source, product))
            })
            .take(limit)
            .collect();
        let latest = session.latest_title.as_deref();
        let by_content: Vec<u64> = shelf
            .iter()
            .filter(|(_, source, _)| collaborative_reason(source, latest).is_none())
            .map(|(c, _, _)| c.item)
            .collect();
        let vectors = self.vectors_of(shop, &by_content).await?;
        let recommendations = shelf
            .into_iter()
            .map(|(candidate, source, product)| Recommendation {
                reason: collaborative_reason(source, latest).unwrap_or_else(|| {
                    closest_signal(vectors.get(&candidate.item), &session.signals)
                }),
                score: (candidate.score / top) as f32,
                product,
            })
            .collect();
        Ok(recommendations)
    }

    /// Prepares many shoppers' for-you at once (a mailing, a back-office job): their session
    /// vectors are scored against the whole catalogue in one exact batched search (on the GPU
    /// in a CUDA build) instead of one index search each; each context then carries its
    /// session and candidates, so the strategy, the fallback and the rules run as for one.
    pub(crate) async fn batch_for_you(
        &self,
        shop: &ShopDomain,
        contexts: &mut [ShoppingContext],
    ) -> Result<(), AppError> {
        let mut prepared = Vec::with_capacity(contexts.len());
        for context in contexts.iter_mut() {
            context.history = Some(self.shopper_history(shop, context).await?);
            prepared.push(self.live_session(shop, context).await?);
        }
        let mut wanted = Vec::new();
        let mut queries = Vec::new();
        for (context, prepared) in contexts.iter().zip(&prepared) {
            if let Prepared::Session(session) = prepared {
                // Past what the shopper has touched: the index leaves those out for one shopper.
                wanted.push(content_depth(context.limit) + session.exclude.len());
                queries.push(session.vector.clone());
            }
        }
        let mut found = if queries.is_empty() {
            Vec::new()
        } else {
            // What the index's filter does for one shopper: on-sale products only.
            let on_sale: HashSet<u64> = self
                .stores()
                .products
                .on_sale_products(shop)
                .await?
                .into_iter()
                .collect();
            let catalogue = self.catalogue_vectors(shop).await?;
            let (ids, vectors): (Vec<u64>, Vec<Vec<f32>>) = catalogue
                .ids
                .into_iter()
                .zip(catalogue.vectors)
                .filter(|(id, _)| on_sale.contains(id))
                .unzip();
            let k = wanted.iter().copied().max().unwrap_or(0);
            let device = self.exact_device.clone();
            tokio::task::spawn_blocking(move || {
                ResidentVectors::on(&device, ids, &vectors)?.top_k(&queries, k)
            })
            .await
            .map_err(|e| AppError::Internal(format!("batched session scoring: {e}")))??
        }
        .into_iter();
        for (context, prepared) in contexts.iter_mut().zip(prepared) {
            let content = match &prepared {
                Prepared::Session(session) => found
                    .next()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|(id, _)| !session.exclude.contains(id))
                    .take(content_depth(context.limit))
                    .map(|(item, score)| Candidate {
                        item,
                        score: f64::from(score),
                    })
                    .collect(),
                Prepared::NoSession { .. } => Vec::new(),
            };
            context.batched = Some(Arc::new(Batched { prepared, content }));
        }
        Ok(())
    }

    /// The stored vectors of these products, by id, in one read.
    pub(crate) async fn vectors_of(
        &self,
        shop: &ShopDomain,
        ids: &[u64],
    ) -> Result<HashMap<u64, Vec<f32>>, AppError> {
        Ok(self
            .index()
            .fetch_many(shop.as_str(), ids)
            .await?
            .into_iter()
            .map(|p| (p.product_id, p.vector))
            .collect())
    }

    /// The session's products (their stored vectors) and searches (embedded now), weighted.
    async fn signals(
        &self,
        shop: &ShopDomain,
        recent: &[&ShopperEvent],
    ) -> Result<(Vec<Signal>, HashMap<u64, String>), AppError> {
        // Per product: its summed weight, and the kind of its weightiest event (for the reason).
        let mut weights: HashMap<u64, (f32, EventKind, f32)> = HashMap::new();
        let mut queries: HashMap<String, f32> = HashMap::new();
        for (age, event) in recent.iter().enumerate() {
            let weight = kind_weight(event.kind) * 0.5f32.powf(age as f32 / HALF_LIFE_EVENTS);
            if weight == 0.0 {
                continue;
            }
            // The latest few searches only: each is work for the model (`searches`).
            if let Some(query) = &event.search_query {
                if queries.contains_key(query) || queries.len() < MAX_SESSION_SEARCHES {
                    *queries.entry(query.clone()).or_default() += weight;
                }
            }
            for product in event
                .product_id
                .into_iter()
                .chain(event.line_items.iter().map(|l| l.product_id))
            {
                let entry = weights.entry(product).or_insert((0.0, event.kind, 0.0));
                entry.0 += weight;
                if weight > entry.2 {
                    (entry.1, entry.2) = (event.kind, weight);
                }
            }
        }
        let mut ids: Vec<u64> = weights.keys().copied().collect();
        ids.sort_unstable();
        let titles = self.stores().products.product_titles(shop, &ids).await?;
        let mut vectors = self.vectors_of(shop, &ids).await?;
        let mut signals = Vec::new();
        for id in ids {
            // A product deleted or not yet embedded says nothing.
            if let (Some(vector), Some(title)) = (vectors.remove(&id), titles.get(&id)) {
                let (weight, kind, _) = weights[&id];
                let because = match kind {
                    EventKind::ProductAddedToCart => format!("goes with {title}, in your cart"),
                    EventKind::CheckoutCompleted => format!("because you bought {title}"),
                    _ => format!("because you looked at {title}"),
                };
                signals.push(Signal {
                    vector,
                    weight,
                    because,
                });
            }
        }
        let mut queries: Vec<(String, f32)> = queries.into_iter().collect();
        queries.sort_by(|a, b| a.0.cmp(&b.0));
        if !queries.is_empty() {
            let texts: Vec<String> = queries.iter().map(|(q, _)| q.clone()).collect();
            let vectors = self.search_vectors(&texts).await?;
            for ((query, weight), vector) in queries.into_iter().zip(vectors) {
                let Some(vector) = vector else { continue };
                signals.push(Signal {
                    vector: vector.as_ref().clone(),
                    weight,
                    because: format!("matches your search \u{201c}{query}\u{201d}"),
                });
            }
        }
        Ok((signals, titles))
    }
}

/// The reason a collaborative source gives, naming the session's latest product.
fn collaborative_reason(source: &str, latest: Option<&str>) -> Option<String> {
    let title = latest?;
    match source {
        "bought_together" => Some(format!("often bought with {title}")),
        "shoppers_like_you" => Some(format!("shoppers who viewed {title} also viewed this")),
        "viewed_next" => Some(format!("often viewed after {title}")),
        "browsed_nearby" => Some(format!(
            "viewed alongside products shoppers view with {title}"
        )),
        _ => None,
    }
}

/// The part of the session a product is closest to, as the reason it is shown.
fn closest_signal(vector: Option<&Vec<f32>>, signals: &[Signal]) -> String {
    vector
        .and_then(|v| {
            signals
                .iter()
                .max_by(|a, b| dot(&a.vector, v).total_cmp(&dot(&b.vector, v)))
        })
        .map_or_else(|| "picked for you".to_owned(), |s| s.because.clone())
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
