//! Hybrid retrieval: the lexical and the semantic lists fused by a convex combination of
//! their scores, each scaled to 0..1 (the lexical score as a share of the best match, the
//! cosine above the similarity floor as a share of the best neighbour's), so a strong word
//! match leads and meaning breaks its ties and finds what the words miss. Meaning is trusted
//! where the words found little: the lexical share shrinks with the part of the query the
//! best word match does not answer, down to none when the words found nothing. Then
//! re-ranked for one shopper by fusing that order with how close each result is to their
//! live session. The session only re-orders what the query found: it never brings in a
//! product the query did not.

use std::collections::{HashMap, HashSet};

use super::lexical::Matches;
use crate::recommend::{Blender, Candidate, Fusion, ItemId, RankedList, SourceWeight};

/// How the lists are weighed; serving and the offline evaluation read the same values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HybridWeights {
    /// The lexical score's share of the fused score when the words answer the whole query;
    /// it shrinks in proportion with what they leave unanswered, and the semantic score has
    /// the rest.
    pub lexical_share: f64,
    /// The session's order against the query's, in the re-rank (reciprocal-rank fusion).
    pub session: f64,
    /// The re-rank's reciprocal-rank constant: larger flattens the difference between ranks.
    pub constant: f64,
    /// How deep each list is read.
    pub depth: usize,
    /// Semantic hits less similar than this to the query are not results (a nearest
    /// neighbour always exists, even of nonsense).
    pub min_similarity: f32,
}

/// What the served search uses (`kindred eval --search` measures it and the other shares).
pub const SERVED: HybridWeights = HybridWeights {
    // Where the words answer the whole query they lead, with a tenth for meaning: on the
    // tuning half a share of 1.0 was ahead by 0.004 (yoga stores) and 0.005 (samples), but
    // those queries are the catalogue's own words, and where a shopper's words match the
    // catalogue only in part of its sense ("cork block" in a shop with one cork bundle: cork
    // mats by their title, blocks and kits by their descriptions) meaning is what keeps the
    // results about cork and blocks.
    lexical_share: 0.9,
    session: 0.5,
    constant: 20.0,
    depth: 50,
    min_similarity: 0.2,
};

/// A result and which of the lists found it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub item: ItemId,
    pub score: f64,
    pub lexical: bool,
    pub semantic: bool,
}

/// The two lists (each best first) fused, best first, at most `k`.
pub fn fuse(
    lexical: &Matches,
    semantic: &[Candidate],
    weights: &HybridWeights,
    k: usize,
) -> Vec<Hit> {
    let floor = f64::from(weights.min_similarity);
    // Two words of four answered leave half the query to meaning's judgement.
    let lexical_share = weights.lexical_share * lexical.coverage.clamp(0.0, 1.0);
    let lexical = &lexical.candidates;
    let best_lexical = lexical.first().map_or(1.0, |c| c.score).max(f64::EPSILON);
    let best_semantic = semantic.first().map_or(1.0, |c| c.score);
    let semantic_span = (best_semantic - floor).max(f64::EPSILON);
    // Per product: the hit, and its closeness in meaning (to break ties in the fused score).
    let mut fused: HashMap<ItemId, (Hit, f64)> = HashMap::new();
    for c in lexical {
        let (hit, _) = fused
            .entry(c.item)
            .or_insert_with(|| (Hit::of(c.item), 0.0));
        hit.lexical = true;
        hit.score += lexical_share * c.score / best_lexical;
    }
    for c in semantic.iter().filter(|c| c.score >= floor) {
        let (hit, closeness) = fused
            .entry(c.item)
            .or_insert_with(|| (Hit::of(c.item), 0.0));
        hit.semantic = true;
        hit.score += (1.0 - lexical_share) * (c.score - floor) / semantic_span;
        *closeness = c.score;
    }
    let mut hits: Vec<(Hit, f64)> = fused.into_values().collect();
    hits.sort_by(|(a, a_closeness), (b, b_closeness)| {
        b.score
            .total_cmp(&a.score)
            .then(b_closeness.total_cmp(a_closeness))
            .then(a.item.cmp(&b.item))
    });
    hits.truncate(k);
    hits.into_iter().map(|(hit, _)| hit).collect()
}

impl Hit {
    fn of(item: ItemId) -> Self {
        Self {
            item,
            score: 0.0,
            lexical: false,
            semantic: false,
        }
    }
}

/// The hits re-ordered by fusing their order with their closeness to the session
/// (`closeness`, by item; an item without one keeps only its query rank).
pub fn rerank_for_session(
    hits: Vec<Hit>,
    closeness: &HashMap<ItemId, f32>,
    weights: &HybridWeights,
) -> Vec<Hit> {
    if closeness.is_empty() || hits.len() < 2 {
        return hits;
    }
    let query_order: Vec<Candidate> = hits
        .iter()
        .map(|h| Candidate {
            item: h.item,
            score: h.score,
        })
        .collect();
    let mut session_order: Vec<Candidate> = hits
        .iter()
        .filter_map(|h| {
            closeness.get(&h.item).map(|&score| Candidate {
                item: h.item,
                score: f64::from(score),
            })
        })
        .collect();
    session_order.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.item.cmp(&b.item)));
    let by_item: HashMap<ItemId, Hit> = hits.iter().map(|h| (h.item, *h)).collect();
    let depth = hits.len();
    rrf(
        [
            ("query", query_order, 1.0),
            ("session", session_order, weights.session),
        ],
        &HybridWeights { depth, ..*weights },
        depth,
    )
    .into_iter()
    .filter_map(|c| {
        by_item.get(&c.item).map(|h| Hit {
            score: c.score,
            ..*h
        })
    })
    .collect()
}

fn rrf<const N: usize>(
    lists: [(&'static str, Vec<Candidate>, f64); N],
    weights: &HybridWeights,
    k: usize,
) -> Vec<Candidate> {
    let sources = lists
        .into_iter()
        .map(|(name, candidates, weight)| SourceWeight {
            source: Box::new(RankedList { name, candidates }),
            weight,
        })
        .collect();
    let blender = Blender::new(
        sources,
        Fusion::ReciprocalRank {
            constant: weights.constant,
        },
        weights.depth,
    );
    blender
        .recommend_explained(&[], k, &HashSet::new())
        .into_iter()
        .map(|(c, _)| c)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[(u64, f64)]) -> Vec<Candidate> {
        items
            .iter()
            .map(|&(item, score)| Candidate { item, score })
            .collect()
    }

    /// What the words found, answering `coverage` of the query.
    fn words(items: &[(u64, f64)], coverage: f64) -> Matches {
        Matches {
            candidates: list(items),
            coverage,
        }
    }

    fn items(hits: &[Hit]) -> Vec<u64> {
        hits.iter().map(|h| h.item).collect()
    }

    #[test]
    fn words_lead_meaning_breaks_their_ties_and_weak_meanings_are_dropped() {
        let lexical = words(&[(1, 5.0), (2, 5.0), (3, 1.0)], 1.0);
        let semantic = list(&[(2, 0.8), (4, 0.7), (5, 0.1)]);
        let hits = fuse(&lexical, &semantic, &SERVED, 10);
        // A weak word match still leads a product only the meaning found.
        assert_eq!(items(&hits), [2, 1, 3, 4], "{hits:?}");
        assert!(hits[0].lexical && hits[0].semantic);
        assert!(!hits[3].lexical && hits[3].semantic);
        assert!(!items(&hits).contains(&5), "below the similarity floor");
    }

    #[test]
    fn meaning_weighs_in_as_far_as_the_words_leave_the_query_unanswered() {
        // Products 1 and 3 have words of the query, product 4 its meaning.
        // Words answering the whole query weigh wholly here, to see the share alone move.
        let weights = HybridWeights {
            lexical_share: 1.0,
            ..SERVED
        };
        let semantic = list(&[(4, 0.8), (1, 0.3)]);
        let answered = fuse(&words(&[(1, 5.0), (3, 4.0)], 1.0), &semantic, &weights, 10);
        assert_eq!(items(&answered), [1, 3, 4]);
        let half_answered = fuse(&words(&[(1, 5.0), (3, 4.0)], 0.5), &semantic, &weights, 10);
        assert_eq!(items(&half_answered), [1, 4, 3], "{half_answered:?}");
        let a_quarter = fuse(&words(&[(1, 5.0), (3, 4.0)], 0.25), &semantic, &weights, 10);
        assert_eq!(items(&a_quarter), [4, 1, 3], "{a_quarter:?}");
        let unanswered = fuse(&Matches::default(), &semantic, &weights, 10);
        assert_eq!(items(&unanswered), [4, 1]);
    }

    #[test]
    fn the_session_reorders_but_never_adds() {
        let lexical: Vec<(u64, f64)> = (1..=10).map(|i| (i, 20.0 - i as f64)).collect();
        let hits = fuse(&words(&lexical, 1.0), &[], &SERVED, 10);
        // The shopper's session is about product 8, a little about the rest, and about a
        // product the query did not find.
        let mut closeness: HashMap<u64, f32> = (1..=10).map(|i| (i, 0.1)).collect();
        closeness.insert(8, 0.9);
        closeness.insert(99, 1.0);
        let reranked = rerank_for_session(hits, &closeness, &SERVED);
        let items: Vec<u64> = reranked.iter().map(|h| h.item).collect();
        assert_eq!(items.len(), 10);
        assert!(!items.contains(&99));
        let eighth = items.iter().position(|&i| i == 8).unwrap();
        assert!(
            eighth <= 4,
            "the session's product rose from 8th: {items:?}"
        );
        assert_eq!(
            items[0], 1,
            "a half-weight session does not overturn the query's first"
        );
    }
}
