//! Product search over one shop's catalogue: the lexical index (`lexical`, on the terms of
//! `text`, forgiving typos by `spelling`) and its fusion with the semantic neighbours and
//! the shopper's session (`hybrid`). Pure: the caller brings the products, the query's
//! vector search and the session's closeness.

pub mod hybrid;
pub mod lexical;
mod spelling;
pub mod text;

pub use hybrid::{fuse, rerank_for_session, Hit, HybridWeights};
pub use lexical::{LexicalIndex, Matches, ProductText};
pub use text::Analyzer;
