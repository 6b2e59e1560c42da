//! The auto-reconnector (the reference's `whatsapp-auto-reconnect.ts`):
//! every `check_interval` it walks the enabled users and reconnects one only
//! when it has no session, or is DISCONNECTED and not connected, and the
//! cooldown since its last disconnect has passed.

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
        if let Some(view) = sup.reconnect_view(&user.id) {
            if view.state != ConnectionState::Disconnected || view.live {
                continue;
            }
            if view
                .last_disconnect
                .is_some_and(|t| now.saturating_sub(t) < policy.cooldown)
            {
                continue;
            }
        }
        sup.connect(&user.id, AttemptCause::Auto);
    }
}
