//! The simulated world on turmoil: the endpoint, the supervisor instances
//! and the browser as hosts on a simulated network, virtual time, seeded
//! randomness, and the scenario's faults fired at their times.

mod api_witness;
mod browser;
mod capacity;
mod clock;
mod director;
mod engine;
mod exits;
pub mod fast;
mod faults;
mod memory;
mod net;
mod order;
mod served;
mod world;

pub use api_witness::CALLER_HEADER;
pub use browser::ApiConnect;
pub use capacity::{tcp_capacity, DEFAULT_TCP_CAPACITY};
pub use clock::TurmoilClock;
pub use engine::Engine;
pub use memory::MemoryConnect;
pub use net::{TurmoilConnect, TurmoilListener, API_PORT, ENDPOINT_ADDR};
pub use order::in_time_order;
pub use served::SAMPLE_PERIOD;
pub use world::{run, run_guarded, RunOutput};

/// Why a simulation could not run to its end.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("simulation: {0}")]
    Turmoil(String),
    #[error(transparent)]
    Store(#[from] crate::supervisor::store::StoreError),
    #[error("writing the trace as the run goes: {0}")]
    TraceSink(String),
    /// The engine has no meaning for this scenario action yet; it refuses
    /// the run rather than give the action another meaning.
    #[error("the fast engine does not support action `{0}` yet (run it with --engine turmoil)")]
    Unsupported(String),
}

impl SimError {
    pub(crate) fn trace_sink(e: csv::Error) -> Self {
        SimError::TraceSink(e.to_string())
    }
}
