use std::collections::HashSet;

use super::*;

fn session(items: &[ItemId], time: i64) -> Session {
    Session {
        items: items.to_vec(),
        time,
    }
}

fn ids(list: &[Candidate]) -> Vec<ItemId> {
    list.iter().map(|c| c.item).collect()
}

fn baskets() -> Vec<Session> {
    vec![
        session(&[1, 2, 3], 10),
        session(&[1, 2], 20),
        session(&[1, 2, 4], 30),
        session(&[5, 6], 40),
        session(&[5, 6, 7], 50),
        session(&[7, 8], 60),
    ]
}

#[test]
fn co_occurrence_ranks_what_is_bought_with_the_context_and_never_the_excluded() {
    let model = CoOccurrence::train(&baskets(), 0.0, 0.0, 100);
    let exclude: HashSet<ItemId> = [1].into();
    let list = model.recommend(&[1], 10, &exclude);
    assert_eq!(ids(&list)[0], 2, "2 is in every basket with 1");
    assert_eq!(
        ids(&list).iter().copied().collect::<HashSet<_>>(),
        [2, 3, 4].into()
    );
    assert!(
        model.recommend(&[99], 10, &HashSet::new()).is_empty(),
        "an unknown item has no partners"
    );
}

#[test]
fn session_knn_votes_with_the_most_similar_sessions() {
    let model = SessionKnn::train(&baskets(), 2, 100, 0.0);
    let list = model.recommend(&[5, 7], 10, &[5, 7].into());
    assert_eq!(
        ids(&list)[0],
        6,
        "the session {{5, 6, 7}} is the closest and 6 is in two neighbours"
    );
    assert!(
        !ids(&list).contains(&1),
        "sessions sharing nothing never vote"
    );
}

#[test]
fn popularity_decays_with_age() {
    let sessions = vec![
        session(&[1], 0),
        session(&[1], 0),
        session(&[1], 0),
        session(&[2], 1000),
        session(&[2], 1000),
    ];
    let flat = Popularity::train(&sessions, None);
    assert_eq!(ids(&flat.recommend(&[], 2, &HashSet::new())), [1, 2]);
    let decayed = Popularity::train(&sessions, Some(100.0));
    assert_eq!(
        ids(&decayed.recommend(&[], 2, &HashSet::new())),
        [2, 1],
        "three old sales weigh less than two new ones"
    );
}

#[test]
fn trending_counts_decay_by_age_and_stop_at_the_window() {
    let day = 86_400.0;
    let recency = Recency {
        half_life_secs: Some(day),
        window_secs: Some(7.0 * day),
    };
    // Item 1: 8 views two days ago (weight 2); item 2: 3 views today (3); item 3: 100
    // views eight days ago, past the window.
    let counts = [(1, 2.0 * day, 8.0), (2, 0.0, 3.0), (3, 8.0 * day, 100.0)];
    let trending = Popularity::from_counts(counts, recency);
    let ranked: Vec<(u64, f64)> = trending
        .ranked()
        .iter()
        .map(|c| (c.item, c.score))
        .collect();
    assert_eq!(ranked, [(2, 3.0), (1, 2.0)]);
}

#[test]
fn content_similarity_follows_the_vectors() {
    let unit = |x: f32, y: f32| {
        let n = (x * x + y * y).sqrt();
        vec![x / n, y / n]
    };
    let model = ContentSimilarity::new(
        vec![
            (1, unit(1.0, 0.0)),
            (2, unit(0.9, 0.1)),
            (3, unit(0.0, 1.0)),
        ],
        0.0,
    );
    assert_eq!(ids(&model.recommend(&[1], 2, &[1].into())), [2, 3]);
    assert!(
        model.recommend(&[42], 2, &HashSet::new()).is_empty(),
        "no vector, no answer"
    );
}

#[test]
fn the_blend_falls_back_to_the_sources_that_answer_and_says_why() {
    let blender = Blender::new(
        vec![
            SourceWeight {
                source: Box::new(CoOccurrence::train(&baskets(), 0.0, 0.0, 100)),
                weight: 1.0,
            },
            SourceWeight {
                source: Box::new(Popularity::train(&baskets(), None)),
                weight: 0.2,
            },
        ],
        Fusion::ReciprocalRank { constant: 60.0 },
        50,
    );
    // A new shopper: co-occurrence has nothing, popularity answers.
    let cold = blender.recommend_explained(&[], 3, &HashSet::new());
    assert_eq!(cold.len(), 3);
    assert!(cold.iter().all(|(_, reason)| *reason == "trending"));
    // A shopper with 1 in the basket: 2 comes first, as bought together.
    let warm = blender.recommend_explained(&[1], 3, &[1].into());
    assert_eq!((warm[0].0.item, warm[0].1), (2, "bought_together"));
}

#[test]
fn metrics_count_hits_and_ranks() {
    let model = Popularity::train(&baskets(), None); // 1, 2 (3 baskets each), then 5, 6, 7 ...
    let cases = vec![
        Evaluation {
            context: vec![9],
            target: 1,
        }, // rank 1
        Evaluation {
            context: vec![1],
            target: 2,
        }, // 1 excluded: 2 at rank 1
        Evaluation {
            context: vec![9],
            target: 99,
        }, // never recommended
    ];
    let m = Metrics::measure(&model, &cases, 8);
    assert_eq!(m.cases, 3);
    assert!((m.hr20 - 2.0 / 3.0).abs() < 1e-9);
    assert!((m.mrr20 - 2.0 / 3.0).abs() < 1e-9);
    assert!((m.ndcg20 - 2.0 / 3.0).abs() < 1e-9);
    assert!(m.coverage20 <= 1.0 && m.coverage20 > 0.5);
}

#[test]
fn sequential_rules_follow_the_order_of_views() {
    let sessions = vec![
        session(&[1, 2, 3], 0),
        session(&[1, 2], 1),
        session(&[3, 1], 2),
    ];
    let model = SequentialRules::train(&sessions, 5, 0.0);
    assert_eq!(
        ids(&model.recommend(&[1], 3, &[1].into())),
        [2, 3],
        "2 follows 1 twice, right after it"
    );
    assert_eq!(
        ids(&model.recommend(&[2], 3, &[2].into())),
        [3],
        "nothing but 3 ever came after 2"
    );
}
