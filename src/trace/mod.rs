//! The run's single ordered record of what happened.
//!
//! Three voices write into one trace: the harness's ground truth (client-side
//! transport wrapper, endpoint), the supervisor's own account (attempts, state
//! changes, lease), and the simulator (faults, tabs, instances). The oracle in
//! `invariants` judges ground truth and uses the supervisor's account only to
//! explain a verdict.

mod csv_io;
mod event;
mod recorder;
pub mod truth;

pub use csv_io::{read_trace, write_trace, TraceReadError};
pub use event::{
    AttemptCause, CloseAction, ConnectionState, EventKind, FaultKind, TraceEvent, UserId,
};
pub use recorder::{Clock, Recorder, TokioClock};
