//! loopguard: a deterministic-simulation and chaos-test harness for WhatsApp
//! connection supervisors.
//!
//! The crate reads like the simulated world: a [`supervisor`] (the system
//! under test) talks to a fake WhatsApp [`endpoint`] over a [`transport`];
//! the [`sim`] runs both on turmoil in virtual time, driven by a
//! [`scenario`]; everything lands in one [`trace`], which the
//! [`invariants`] judge and the [`report`] draws.

pub mod close_code;
pub mod endpoint;
pub mod explore;
pub mod import;
pub mod invariants;
pub mod output;
pub mod report;
pub mod request_context;
pub mod run;
pub mod scenario;
pub mod sim;
pub mod supervisor;
pub mod teardown;
pub mod test_faults;
pub mod trace;
pub mod transport;
pub mod util;
pub mod verdict;
