//! Sequential rules: "shoppers who viewed A went on to B". Every ordered pair in a training
//! session (B after A, `gap` steps later, within `window` steps) adds `1 / gap` to the rule
//! A -> B; a shopper's context asks the rules of its items, the most recent weighing most.
//! Strong where order matters (browsing), where co-occurrence ignores it.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::{sum_links, top_k, Candidate, CandidateSource, ItemId, Session};

#[derive(Serialize, Deserialize)]
pub struct SequentialRules {
    rules: HashMap<ItemId, HashMap<ItemId, f64>>,
    recency_decay: f64,
}

impl SequentialRules {
    pub fn train(sessions: &[Session], window: usize, recency_decay: f64) -> Self {
        let mut rules: HashMap<ItemId, HashMap<ItemId, f64>> = HashMap::new();
        for session in sessions {
            for (p, a) in session.items.iter().enumerate() {
                for (gap, b) in session.items.iter().skip(p + 1).take(window).enumerate() {
                    if a != b {
                        *rules.entry(*a).or_default().entry(*b).or_default() +=
                            1.0 / (gap as f64 + 1.0);
                    }
                }
            }
        }
        Self {
            rules,
            recency_decay,
        }
    }
}

impl CandidateSource for SequentialRules {
    fn name(&self) -> &'static str {
        "viewed_next"
    }

    fn recommend(&self, context: &[ItemId], k: usize, exclude: &HashSet<ItemId>) -> Vec<Candidate> {
        let scores = sum_links(context, self.recency_decay, &self.rules, |_, strength| {
            strength
        });
        top_k(scores, k, exclude)
    }
}
