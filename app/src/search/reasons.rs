//! Why a search result is shown, in the shopper's words: the query they typed.

use kindred_retriever::search::Hit;

/// The query's words quoted back, at most this many characters of them.
const QUOTED_CHARS: usize = 60;

pub(super) fn why(query: &str, hit: &Hit, raised_by_session: bool) -> String {
    let quoted: String = query.trim().chars().take(QUOTED_CHARS).collect();
    let base = if hit.lexical {
        format!("matches \u{201c}{quoted}\u{201d}")
    } else {
        format!("close in meaning to \u{201c}{quoted}\u{201d}")
    };
    if raised_by_session {
        format!("{base}, like what you looked at")
    } else {
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_says_how_the_query_found_the_product() {
        let hit = |lexical| Hit {
            item: 1,
            score: 1.0,
            lexical,
            semantic: true,
        };
        assert_eq!(
            why(" yoga mat ", &hit(true), false),
            "matches \u{201c}yoga mat\u{201d}"
        );
        assert_eq!(
            why("mat for hot yoga", &hit(false), true),
            "close in meaning to \u{201c}mat for hot yoga\u{201d}, like what you looked at"
        );
    }
}
