//! The system under test: a port, in async Rust that could run in
//! production, of the connection supervisor that the reference fixes. It
//! reaches the network only through the [`Dialer`](crate::transport::Dialer)
//! and listener it is handed, reads time only through `tokio::time` and the
//! shared clock, and draws jitter only from its seed.

mod connection;
pub mod events;
mod init_paths;
mod leak;
mod manager;
pub mod policy;
mod policy_limits;
pub mod presets;
mod reconnector;
mod session;
mod startup;
pub mod status_api;
pub mod status_auth;
pub mod store;
mod stream_error;
mod watchdog;

pub use events::Events;
pub use manager::{ConnectOutcome, StatusView, Supervisor, SupervisorConfig};
pub use policy::Policy;
pub use store::Store;
