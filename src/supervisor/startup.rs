//! Start-up after a restart: the last disconnect a user had before the
//! process went down is kept in the store, so a restart inside the cooldown
//! (a deploy or a crash right after a 440) does not reconnect at once and
//! restart the takeover fight. The auto-reconnector connects the user once
//! the cooldown has passed.

use std::time::Duration;

use super::Supervisor;
use crate::trace::ConnectionState;

/// A user kept off at start-up (inside the cooldown, held by a person's
/// disconnect, disabled) may still have the status row this instance wrote
/// before it went down (CONNECTED, say): the process that wrote it is gone,
/// so the row says DISCONNECTED until the user is connected again (explore's
/// stable seeds 181 and 247: a crash right after a reconnect, or right after
/// a disconnect pressed on another instance, left the dashboard showing
/// CONNECTED). A row another instance wrote is that instance's to keep.
pub(crate) fn forget_stale_status(sup: &Supervisor, user: &str) {
    let Ok(Some(row)) = sup.store().status(user) else {
        return;
    };
    if row.instance == sup.instance() && row.status != ConnectionState::Disconnected {
        let _ = sup.store().write_status(
            sup.instance(),
            user,
            ConnectionState::Disconnected,
            "restarted",
            None,
        );
    }
}

/// Whether the policy keeps `user` off at start-up because its stored last
/// disconnect lies within the cooldown.
pub(crate) fn in_cooldown(sup: &Supervisor, user: &str) -> bool {
    let policy = sup.policy();
    if !policy.startup_respects_cooldown || policy.cooldown.is_zero() {
        return false;
    }
    let Some(last) = sup
        .store()
        .episode(user)
        .ok()
        .and_then(|e| e.last_disconnect_ms)
        .map(Duration::from_millis)
    else {
        return false;
    };
    sup.events().now().saturating_sub(last) < policy.cooldown
}
