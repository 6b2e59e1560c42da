//! The idle watchdog (`idle_watchdog`): a connected session that has
//! received no incoming message for the knob's duration is forced to
//! reconnect, as openclaw's watchdog does for an account that went quiet.
//!
//! Its timer ("the last incoming message") is kept per user for the whole
//! process, not per socket, so that `idle_watchdog_resets_on_reconnect =
//! false` can model openclaw#60337: there the timer was set once and only
//! messages moved it, so after the first expiry every fresh socket was
//! already idle and was dropped again at the watchdog's next check.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use tokio::time::Instant;

use super::policy::Policy;
use crate::endpoint::protocol::ServerFrame;

/// Whether a frame received on a connected socket is an incoming message
/// for the watchdog: anything the endpoint sends except the answer to our
/// own ping. Written as an exclusion so that a new frame type (such as
/// message traffic) counts without touching this function.
pub(crate) fn counts_as_message(frame: &ServerFrame) -> bool {
    !matches!(frame, ServerFrame::Pong { .. })
}

/// Each user's watchdog timer: when it was last started.
#[derive(Debug, Default)]
pub(crate) struct IdleTimers {
    started: Mutex<BTreeMap<String, Instant>>,
}

impl IdleTimers {
    /// A socket of `user` reached CONNECTED at `now`: the timer restarts if
    /// the policy resets it on reconnect, or if it never ran in this process.
    pub fn on_connected(&self, policy: &Policy, user: &str, now: Instant) {
        let mut started = self.started.lock().unwrap_or_else(PoisonError::into_inner);
        if policy.idle_watchdog_resets_on_reconnect || !started.contains_key(user) {
            started.insert(user.to_string(), now);
        }
    }

    /// An incoming message for `user` arrived at `now`.
    pub fn on_message(&self, user: &str, now: Instant) {
        self.started
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(user.to_string(), now);
    }

    /// Whether the watchdog, checked at `now`, forces `user`'s session off:
    /// on, and no message for at least `idle_watchdog`.
    pub fn expired(&self, policy: &Policy, user: &str, now: Instant) -> bool {
        if policy.idle_watchdog.is_zero() {
            return false;
        }
        self.started
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(user)
            .is_some_and(|t| now.saturating_duration_since(*t) >= policy.idle_watchdog)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn policy(resets: bool) -> Policy {
        let mut p = Policy::preset("stable").unwrap();
        p.idle_watchdog = Duration::from_secs(60);
        p.idle_watchdog_resets_on_reconnect = resets;
        p
    }

    #[test]
    fn a_pong_is_not_an_incoming_message_and_every_other_frame_is() {
        assert!(!counts_as_message(&ServerFrame::Pong { id: 1 }));
        assert!(counts_as_message(&ServerFrame::Paired {
            credentials: "c".into()
        }));
        assert!(counts_as_message(&ServerFrame::Qr {
            index: 1,
            ttl_ms: 1
        }));
    }

    #[tokio::test(start_paused = true)]
    async fn a_reconnect_restarts_the_timer_only_when_the_policy_resets_it() {
        let t0 = Instant::now();
        for (resets, expired) in [(true, false), (false, true)] {
            let p = policy(resets);
            let timers = IdleTimers::default();
            timers.on_connected(&p, "alice", t0);
            timers.on_connected(&p, "alice", t0 + Duration::from_secs(50));
            assert_eq!(
                timers.expired(&p, "alice", t0 + Duration::from_secs(60)),
                expired,
                "resets = {resets}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_message_restarts_the_timer_and_zero_turns_the_watchdog_off() {
        let t0 = Instant::now();
        let mut p = policy(false);
        let timers = IdleTimers::default();
        timers.on_connected(&p, "alice", t0);
        timers.on_message("alice", t0 + Duration::from_secs(30));
        assert!(!timers.expired(&p, "alice", t0 + Duration::from_secs(89)));
        assert!(timers.expired(&p, "alice", t0 + Duration::from_secs(90)));
        p.idle_watchdog = Duration::ZERO;
        assert!(!timers.expired(&p, "alice", t0 + Duration::from_secs(900)));
    }
}
