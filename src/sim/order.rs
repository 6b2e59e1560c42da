//! Trace time that never goes backwards.
//!
//! turmoil runs the hosts one after the other within a step, each from the
//! step's start to its end, so a host that runs later in a step can record
//! a row stamped earlier than the last row of the host before it (a tab's
//! poll at 64,815,873 ms before the app's row at 64,815,800 ms). Each host's
//! own rows are in time order already.

use crate::trace::TraceEvent;

/// Puts `trace` in time order, keeping recording order among rows of the
/// same millisecond (a stable sort): each host's rows keep their order.
pub fn in_time_order(trace: &mut [TraceEvent]) {
    trace.sort_by_key(|e| e.at);
}
