//! App processes that exited on their own (`exit_on_codes`): the supervisor
//! pushes its instance number from inside the simulation, and the driver
//! takes them between steps to crash the host and schedule its restart.

use std::sync::{Arc, Mutex, PoisonError};

/// Instances that asked to exit since the last drain, in order.
pub(crate) type Exits = Arc<Mutex<Vec<u32>>>;

pub(crate) fn push(exits: &Exits, instance: u32) {
    exits
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(instance);
}

pub(crate) fn drain(exits: &Exits) -> Vec<u32> {
    std::mem::take(&mut *exits.lock().unwrap_or_else(PoisonError::into_inner))
}
