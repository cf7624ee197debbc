//! Product search over one shop's catalogue: the lexical index (`lexical`, on the terms of
//! `text`) and its fusion with the semantic neighbours and the shopper's session
//! (`hybrid`). Pure: the caller brings the products, the query's vector search and the
//! session's closeness.

pub mod hybrid;
pub mod lexical;
pub mod text;

pub use hybrid::{fuse, rerank_for_session, Hit, HybridWeights};
pub use lexical::{LexicalIndex, ProductText};
pub use text::Analyzer;
