//! Proof of value: what Kindred earned (orders attributed to clicks on its shelves), what
//! it adds (an always-on holdout and A/B experiments, measured on every visitor's orders),
//! and the plans a merchant pays for it on.

pub mod assignment;
pub mod attribution;
pub mod experiments;
pub mod plans;
pub mod report;
pub mod results;
pub mod service;
pub mod settings;
pub mod stats;

pub use service::Proof;
