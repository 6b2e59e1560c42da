//! How big turmoil's per-host TCP buffers must be for a world. turmoil
//! panics ("server socket buffer full") when more connections wait on a
//! listener than its capacity (64 by default): 70 users dialling `wa` at
//! start-up, or a few hundred tabs polling one app, did.

use crate::scenario::{Action, Scenario};

/// turmoil's default, kept for small worlds so their traces do not change.
pub const DEFAULT_TCP_CAPACITY: usize = 64;

/// The TCP capacity (listener backlog and per-stream segment buffer) for a
/// world: room for every user's socket from every instance that may run,
/// and for every tab that may be open, twice over (a socket being replaced
/// and its successor), never below turmoil's default.
pub fn tcp_capacity(scenario: &Scenario) -> usize {
    let mut instances = u64::from(scenario.instances);
    let mut tabs = u64::from(scenario.tabs.count);
    for (_, e) in scenario.timeline() {
        match &e.action {
            Action::StartInstance => instances += 1,
            Action::OpenTabs { count } => tabs += u64::from(*count),
            Action::ForeignTab { .. } => tabs += 1,
            _ => {}
        }
    }
    let users = scenario.users.len() as u64;
    let need = 2 * (users * instances + tabs);
    usize::try_from(need)
        .unwrap_or(usize::MAX)
        .max(DEFAULT_TCP_CAPACITY)
}
