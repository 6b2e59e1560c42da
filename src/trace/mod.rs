//! The run's single ordered record of what happened.
//!
//! Three voices write into one trace: the harness's ground truth (client-side
//! transport wrapper, endpoint), the supervisor's own account (attempts, state
//! changes, lease), and the simulator (faults, tabs, instances). The oracle in
//! `invariants` judges ground truth and uses the supervisor's account only to
//! explain a verdict.

mod csv_io;
mod event;
pub mod guard;
mod recorder;
pub mod truth;

pub use csv_io::{read_trace, write_trace, TraceReadError, TraceWriter};
pub use event::{
    AttemptCause, CloseAction, ConnectionState, EventKind, FaultKind, TraceEvent, UserId,
};
pub use guard::{Runaway, TraceCaps, TraceGuard};
pub use recorder::{Clock, Recorder, TokioClock};
