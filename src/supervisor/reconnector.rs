//! The auto-reconnector (the reference's `whatsapp-auto-reconnect.ts`):
//! every `check_interval` it walks the enabled users and reconnects one only
//! when it has no session, or is DISCONNECTED and not connected, and the
//! cooldown since its last disconnect has passed.

use std::time::Duration;

use tokio::time::{interval_at, Instant, MissedTickBehavior};

use super::Supervisor;
use crate::trace::{AttemptCause, ConnectionState};

pub(crate) async fn run(sup: Supervisor) {
    let period = sup.policy().check_interval;
    let mut tick = interval_at(Instant::now() + period, period);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        check_and_reconnect(&sup);
    }
}

/// One pass over the enabled users.
pub(crate) fn check_and_reconnect(sup: &Supervisor) {
    let policy = sup.policy();
    let Ok(users) = sup.store().users() else {
        return;
    };
    let now = sup.events().now();
    for user in users.into_iter().filter(|u| u.enabled) {
        if crate::test_faults::active("supervisor_churns_connected_sessions") {
            // Test-only fault: a connected user is dropped, to be
            // reconnected once its cooldown has passed.
            sup.churn(&user.id);
        }
        if !policy.auto_checks_state {
            sup.connect(&user.id, AttemptCause::Auto);
            continue;
        }
        if (policy.manual_disconnect_holds && user.held)
            || (policy.skip_logged_out && user.logged_out)
            || (policy.unpaired_needs_person && user.credentials.is_none())
        {
            continue;
        }
        let last_disconnect = match sup.reconnect_view(&user.id) {
            Some(view) => {
                if view.state != ConnectionState::Disconnected || view.live {
                    continue;
                }
                view.last_disconnect
            }
            // Never owned here: another instance may have just lost it.
            None if policy.lease || policy.startup_respects_cooldown => sup
                .store()
                .episode(&user.id)
                .ok()
                .and_then(|e| e.last_disconnect_ms)
                .map(Duration::from_millis),
            None => None,
        };
        if last_disconnect.is_some_and(|t| now.saturating_sub(t) < policy.cooldown) {
            continue;
        }
        sup.connect(&user.id, AttemptCause::Auto);
    }
}
