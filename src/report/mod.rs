//! Run outputs: summaries, metrics, timelines, the stability report.

mod junit;
mod summary;

pub use junit::write_junit;

pub use summary::*;
