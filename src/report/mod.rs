//! Run outputs: summaries, metrics, timelines, the stability report.

mod summary;

pub use summary::*;
