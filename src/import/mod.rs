//! `loopguard import`: from a production log to a replayable scenario file.
//!
//! A reconnect loop is usually first seen in a log: "Código: 440, Reconectar:
//! true … Esperando 1000ms", once a second, for hours. The importer reads such
//! logs and writes an ordinary scenario that replays what the *outside world*
//! did (the endpoint's closes and their codes, rival logins, network losses,
//! pairing, the instances and tabs the log shows), never what the supervisor
//! did in reply: that is what the simulation is for.
//!
//! The pipeline, one module per step:
//! - [`line`] reads each line of each log into a [`Record`](record::Record):
//!   Baileys' pino JSON lines ([`pino`]) or the reference service's console
//!   lines ([`console`]); anything else is skipped and counted;
//! - [`handshake`] measures the endpoint's handshake time the log shows;
//! - [`close_code`] resolves a close's code in Baileys' own order;
//! - [`infer`] turns the records into world events, keyed by instance
//!   (pid and hostname) and user;
//! - [`write`] writes the scenario, quoting above each event the log lines it
//!   came from;
//! - [`fidelity`] compares, minute by minute, the log with a simulation of
//!   the scenario it produced (`import --check`), and [`page`] draws the
//!   log's timeline above the simulated one.

pub mod close_code;
pub mod console;
mod error;
pub mod fidelity;
pub mod handshake;
pub mod infer;
pub mod line;
pub mod page;
pub mod pino;
pub mod record;
pub mod time;
pub mod user_map;
pub mod write;

pub use error::{ImportError, Warning};
pub use infer::{infer, InferOptions, Inference};
pub use line::{read_logs, LogSet};
pub use write::to_scenario_text;
