//! The strategies as the evaluation builds them, and their parameters tuned on the
//! validation window: each source alone first, then the blend's weights and fusion.

use std::collections::{HashMap, HashSet};

use kindred_retriever::recommend::{
    Blender, Candidate, CandidateSource, CoOccurrence, ContentSimilarity, Evaluation, Fusion,
    ItemId, ItemWalk, Metrics, Popularity, SequentialRules, Session, SessionKnn, SourceWeight,
};

use super::{Split, BLEND_DEPTH, DAY};
use crate::recommend::tuned::{CoOccurrenceTuning, WalkTuning, SERVED};

/// The parameters of every strategy, as tuned.
#[derive(Debug, Clone, Copy)]
pub(super) struct Parameters {
    pub(super) half_life_days: Option<f64>,
    pub(super) cooc_normalise: f64,
    pub(super) cooc_decay: f64,
    pub(super) knn_neighbours: usize,
    pub(super) knn_sample: usize,
    pub(super) knn_decay: f64,
    pub(super) content_decay: f64,
    pub(super) rules_window: usize,
    pub(super) rules_decay: f64,
    pub(super) walk_second_step: f64,
    pub(super) walk_decay: f64,
    /// Blend weights: co-occurrence, session-kNN, sequential rules, walk, content, popularity.
    pub(super) weights: [f64; 6],
    pub(super) fusion: Fusion,
}

impl Parameters {
    pub(super) const START: Self = Self {
        half_life_days: None,
        cooc_normalise: 0.0,
        cooc_decay: 0.0,
        knn_neighbours: 100,
        knn_sample: 500,
        knn_decay: 0.0,
        content_decay: 0.0,
        rules_window: 5,
        rules_decay: 0.0,
        walk_second_step: 1.0,
        walk_decay: 0.0,
        weights: [1.0, 1.0, 1.0, 1.0, 0.5, 0.1],
        fusion: Fusion::Score,
    };
}

pub(super) struct Sources {
    pub(super) popularity: Popularity,
    pub(super) cooccurrence: CoOccurrence,
    pub(super) knn: SessionKnn,
    pub(super) rules: SequentialRules,
    pub(super) walk: ItemWalk,
    pub(super) content: Option<ContentSimilarity>,
}

pub(super) fn build(
    train: &[Session],
    vectors: &Option<Vec<(ItemId, Vec<f32>)>>,
    p: &Parameters,
) -> Sources {
    Sources {
        popularity: Popularity::train(train, p.half_life_days.map(|d| d * DAY as f64)),
        cooccurrence: cooccurrence(train, p.cooc_normalise, p.cooc_decay),
        knn: SessionKnn::train(train, p.knn_neighbours, p.knn_sample, p.knn_decay),
        rules: SequentialRules::train(train, p.rules_window, p.rules_decay),
        walk: walk(train, p.walk_second_step, p.walk_decay),
        content: vectors
            .clone()
            .map(|v| ContentSimilarity::new(v, p.content_decay)),
    }
}

/// The co-view walk with the link and session bounds the server uses.
pub(super) fn walk(train: &[Session], second_step: f64, decay: f64) -> ItemWalk {
    WalkTuning {
        second_step,
        recency_decay: decay,
        ..SERVED.walk
    }
    .train(train)
}

/// Co-occurrence with the server's cap on links per item.
fn cooccurrence(train: &[Session], normalise: f64, decay: f64) -> CoOccurrence {
    CoOccurrenceTuning {
        normalise,
        recency_decay: decay,
        ..SERVED.cooccurrence
    }
    .train(train)
}

/// A source's answers computed once per case, so many blend weightings can be tried cheaply.
pub(super) struct Cached {
    name: &'static str,
    lists: HashMap<Vec<ItemId>, Vec<Candidate>>,
}

impl Cached {
    /// A source with nothing to say (a data set without item texts has no content part).
    pub(super) fn empty(name: &'static str) -> Self {
        Self {
            name,
            lists: HashMap::new(),
        }
    }

    pub(super) fn of(source: &dyn CandidateSource, cases: &[Evaluation]) -> Self {
        let lists = cases
            .iter()
            .map(|case| {
                let exclude: HashSet<ItemId> = case.context.iter().copied().collect();
                (
                    case.context.clone(),
                    source.recommend(&case.context, BLEND_DEPTH, &exclude),
                )
            })
            .collect();
        Self {
            name: source.name(),
            lists,
        }
    }
}

impl CandidateSource for Cached {
    fn name(&self) -> &'static str {
        self.name
    }
    fn recommend(
        &self,
        context: &[ItemId],
        k: usize,
        _exclude: &HashSet<ItemId>,
    ) -> Vec<Candidate> {
        let mut list = self.lists.get(context).cloned().unwrap_or_default();
        list.truncate(k);
        list
    }
}

pub(super) fn blend(sources: Vec<Box<dyn CandidateSource>>, p: &Parameters) -> Blender {
    let weighted = sources
        .into_iter()
        .zip(p.weights)
        .map(|(source, weight)| SourceWeight { source, weight })
        .collect();
    Blender::new(weighted, p.fusion, BLEND_DEPTH)
}

/// What tuning maximises: MRR@20 and HR@20 together.
fn objective(m: &Metrics) -> f64 {
    m.mrr20 + m.hr20
}

pub(super) fn catalogue_size(sessions: &[Session]) -> usize {
    sessions
        .iter()
        .flat_map(|s| s.items.iter())
        .collect::<HashSet<_>>()
        .len()
}

/// Tunes each strategy and then the blend weights on the validation window.
pub(super) fn tune(split: &Split, vectors: &Option<Vec<(ItemId, Vec<f32>)>>) -> Parameters {
    let mut p = tune_each_source(split, vectors);
    let (weights, fusion) = tune_blend(split, vectors, &p);
    p.weights = weights;
    p.fusion = fusion;
    p
}

/// Each source's own parameters, one source at a time, by grid search.
fn tune_each_source(split: &Split, vectors: &Option<Vec<(ItemId, Vec<f32>)>>) -> Parameters {
    let size = catalogue_size(&split.tune_train);
    let train = &split.tune_train;
    let cases = &split.validation;
    let mut p = Parameters::START;
    let score = |source: &dyn CandidateSource| objective(&Metrics::measure(source, cases, size));

    p.half_life_days = [None, Some(30.0), Some(7.0), Some(2.0)]
        .into_iter()
        .max_by(|a, b| {
            let s = |h: &Option<f64>| score(&Popularity::train(train, h.map(|d| d * DAY as f64)));
            s(a).total_cmp(&s(b))
        })
        .flatten();
    let mut best = f64::MIN;
    for normalise in [0.0, 0.25, 0.5, 0.75] {
        for decay in [0.0, 0.2, 0.5] {
            let s = score(&cooccurrence(train, normalise, decay));
            if s > best {
                (best, p.cooc_normalise, p.cooc_decay) = (s, normalise, decay);
            }
        }
    }
    best = f64::MIN;
    for neighbours in [20, 50, 100, 200, 500] {
        for sample in [200, 1000, 5000] {
            for decay in [0.0, 0.2, 0.5] {
                let s = score(&SessionKnn::train(train, neighbours, sample, decay));
                if s > best {
                    (best, p.knn_neighbours, p.knn_sample, p.knn_decay) =
                        (s, neighbours, sample, decay);
                }
            }
        }
    }
    best = f64::MIN;
    for window in [1, 3, 10] {
        for decay in [0.0, 0.5, 1.0] {
            let s = score(&SequentialRules::train(train, window, decay));
            if s > best {
                (best, p.rules_window, p.rules_decay) = (s, window, decay);
            }
        }
    }
    best = f64::MIN;
    for second_step in [0.0, 0.5, 1.0, 2.0, 4.0] {
        for decay in [0.0, 0.5, 1.0] {
            let s = score(&walk(train, second_step, decay));
            if s > best {
                (best, p.walk_second_step, p.walk_decay) = (s, second_step, decay);
            }
        }
    }
    if let Some(vectors) = vectors {
        best = f64::MIN;
        for decay in [0.0, 0.3, 1.0] {
            let s = score(&ContentSimilarity::new(vectors.clone(), decay));
            if s > best {
                (best, p.content_decay) = (s, decay);
            }
        }
    }
    p
}

/// The blend's weights and fusion, by grid search over each source's answers, computed once.
fn tune_blend(
    split: &Split,
    vectors: &Option<Vec<(ItemId, Vec<f32>)>>,
    p: &Parameters,
) -> ([f64; 6], Fusion) {
    let size = catalogue_size(&split.tune_train);
    let cases = &split.validation;
    let score = |source: &dyn CandidateSource| objective(&Metrics::measure(source, cases, size));
    let sources = build(&split.tune_train, vectors, p);
    let mut cached: Vec<Box<dyn CandidateSource>> = vec![
        Box::new(Cached::of(&sources.cooccurrence, cases)),
        Box::new(Cached::of(&sources.knn, cases)),
        Box::new(Cached::of(&sources.rules, cases)),
        Box::new(Cached::of(&sources.walk, cases)),
        Box::new(match &sources.content {
            Some(content) => Cached::of(content, cases),
            None => Cached::empty("similar"),
        }),
        Box::new(Cached::of(&sources.popularity, cases)),
    ];
    let grid = [0.0, 0.5, 1.0, 2.0];
    let content_grid: &[f64] = if vectors.is_some() { &grid } else { &[0.0] };
    let mut best = (f64::MIN, p.weights, p.fusion);
    let fusions = [
        Fusion::Score,
        Fusion::ReciprocalRank { constant: 5.0 },
        Fusion::ReciprocalRank { constant: 20.0 },
        Fusion::ReciprocalRank { constant: 60.0 },
    ];
    for fusion in fusions {
        for &w_cooc in &grid {
            for &w_knn in &grid {
                for &w_rules in &grid {
                    for &w_walk in &grid {
                        for &w_content in content_grid {
                            for w_pop in [0.0, 0.1, 0.25] {
                                if w_cooc + w_knn + w_rules + w_walk + w_content == 0.0 {
                                    continue;
                                }
                                let trial = Parameters {
                                    weights: [w_cooc, w_knn, w_rules, w_walk, w_content, w_pop],
                                    fusion,
                                    ..*p
                                };
                                let blender = blend(std::mem::take(&mut cached), &trial);
                                let s = score(&blender);
                                cached = blender.into_sources();
                                if s > best.0 {
                                    best = (s, trial.weights, fusion);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    (best.1, best.2)
}
