//! SIGINT and SIGTERM during a batch.
//!
//! The first one sets the batch's stop flag: no new run starts, running
//! ones are stopped and judged `interrupted`, the reports are written for
//! what finished, and loopguard exits 130. A second one, while that is under
//! way, exits 130 at once.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use signal_hook::consts::{SIGINT, SIGTERM};

/// Exit status of an interrupted batch (128 + SIGINT, as shells report).
pub const INTERRUPTED_EXIT: u8 = 130;

/// Installs the handlers; returns the stop flag they set.
pub fn install() -> std::io::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        // Registered first, so it sees the flag as it was before this signal:
        // it exits only when an earlier signal had already set it.
        signal_hook::flag::register_conditional_shutdown(
            signal,
            i32::from(INTERRUPTED_EXIT),
            stop.clone(),
        )?;
        signal_hook::flag::register(signal, stop.clone())?;
    }
    Ok(stop)
}
