//! The simulated world on turmoil: the endpoint, the supervisor instances
//! and the browser as hosts on a simulated network, virtual time, seeded
//! randomness, and the scenario's faults fired at their times.

mod api_witness;
mod browser;
mod capacity;
mod clock;
mod memory;
mod net;
mod order;
mod world;

pub use api_witness::CALLER_HEADER;
pub use capacity::{tcp_capacity, DEFAULT_TCP_CAPACITY};
pub use clock::TurmoilClock;
pub use memory::MemoryConnect;
pub use net::{TurmoilConnect, TurmoilListener, API_PORT, ENDPOINT_ADDR};
pub use order::in_time_order;
pub use world::{run, RunOutput};

/// Why a simulation could not run to its end.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("simulation: {0}")]
    Turmoil(String),
    #[error(transparent)]
    Store(#[from] crate::supervisor::store::StoreError),
}
