//! Start-up after a restart: the last disconnect a user had before the
//! process went down is kept in the store, so a restart inside the cooldown
//! (a deploy or a crash right after a 440) does not reconnect at once and
//! restart the takeover fight. The auto-reconnector connects the user once
//! the cooldown has passed.

use std::time::Duration;

use super::Supervisor;

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
