//! The endpoint's timed behaviour of connected sockets, and the faults that
//! set it: the server-side idle timeout, `churn`, `rival_device`,
//! `messages`, `stale_close` and `stream_error`.
//!
//! Faults are called from outside the serving tasks (between simulation
//! steps, possibly outside any runtime), so they never read a clock: they
//! change these settings under the endpoint's lock and wake every socket
//! (`Inner::change`); each connected socket's task then times itself from
//! its own `tokio::time` now (see `server`).
//!
//! - idle timeout: a connected socket from which nothing was received (no
//!   ping, no frame) for `idle_timeout` is closed with 428;
//! - churn: every connected socket is closed with `code`, `after` its
//!   authentication (`after` the window's start for one already open);
//! - rival device: another client of the account logs in: the user's
//!   connected sockets get 440 now, and each socket of ours that
//!   authenticates afterwards (replacing the rival) gets 440 again `after`
//!   its authentication, until the rival's logins are used up or it stops;
//! - messages: a connected socket gets a `message` frame every `every`;
//! - stale close: the next time a newer socket of the user authenticates
//!   while an older one is connected, the older one is kept open (it still
//!   answers pings) and gets its close `after` later, on that old socket;
//! - stream error: a Baileys `stream:error` node with an optional code and
//!   child, then a close.

use std::collections::BTreeMap;
use std::time::Duration;

use super::control::{reason_for, Command, Phase};
use super::protocol::StreamErrorChild;
use super::Endpoint;
use crate::close_code::stream_error_code;
use crate::trace::{EventKind, FaultKind};

/// A rival client of one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rival {
    /// How long after one of ours authenticates the rival logs in again.
    pub(crate) after: Duration,
    /// Logins left.
    pub(crate) remaining: u32,
}

/// What connected sockets time themselves by.
#[derive(Debug, Default)]
pub(crate) struct Timed {
    pub(crate) idle_timeout: Option<Duration>,
    /// `(after, code)` while a churn window is open.
    pub(crate) churn: Option<(Duration, u16)>,
    pub(crate) rivals: BTreeMap<String, Rival>,
    /// user → message period, while messages flow.
    pub(crate) messages: BTreeMap<String, Duration>,
    /// user → `(code, after)` of an armed stale close.
    pub(crate) stale: BTreeMap<String, (u16, Duration)>,
}

impl Endpoint {
    /// The server-side idle timeout (`None`: never).
    pub fn set_idle_timeout(&self, timeout: Option<Duration>) {
        self.inner.change(|t| t.idle_timeout = timeout);
    }

    /// Opens (`Some((after, code))`) or closes (`None`) a churn window.
    pub fn set_churn(&self, churn: Option<(Duration, u16)>) {
        self.inner.change(|t| t.churn = churn);
    }

    /// A rival client of `user` logs in now: every connected socket of the
    /// user gets 440, recorded as replaced by a fault. It logs in again
    /// `after` each later authentication of ours, `times` times in all.
    /// True when logins are left (the fault goes on).
    pub fn rival_login(&self, user: &str, after: Duration, times: u32) -> bool {
        self.replace_by_fault(user);
        let remaining = times.saturating_sub(1);
        self.inner.change(|t| {
            if remaining > 0 {
                t.rivals
                    .insert(user.to_string(), Rival { after, remaining });
            } else {
                t.rivals.remove(user);
            }
        });
        remaining > 0
    }

    /// The rival stops logging in; true if it had logins left.
    pub fn rival_stop(&self, user: &str) -> bool {
        let mut was = false;
        self.inner.change(|t| was = t.rivals.remove(user).is_some());
        was
    }

    /// Starts (`Some(every)`) or stops message traffic to `user`.
    pub fn set_messages(&self, user: &str, every: Option<Duration>) {
        self.inner.change(|t| match every {
            Some(every) => {
                t.messages.insert(user.to_string(), every);
            }
            None => {
                t.messages.remove(user);
            }
        });
    }

    /// Arms a stale close for the user's next replacement (replacing one
    /// still armed).
    pub fn arm_stale_close(&self, user: &str, code: u16, after: Duration) {
        self.inner
            .lock()
            .timed
            .stale
            .insert(user.to_string(), (code, after));
    }

    /// Sends every connected socket of `user` a `stream:error` node and
    /// closes it. A node that amounts to 440 is recorded as a replacement
    /// by a fault, as `close_user` records one.
    pub fn stream_error(&self, user: &str, code: Option<u16>, child: Option<StreamErrorChild>) {
        let effective = stream_error_code(code, child.as_ref().map(|c| c.tag.as_str()));
        let reason = reason_for(effective).to_string();
        let mut state = self.inner.lock();
        for sock in state.sockets.live_of(user, Phase::Connected) {
            let command = Command::Node {
                code,
                reason: reason.clone(),
                child: child.clone(),
            };
            if state.sockets.command(sock, command) && effective == 440 {
                self.inner.record(
                    Some(user),
                    EventKind::EndpointReplaced {
                        old_sock: sock,
                        new_sock: None,
                        by_fault: true,
                    },
                );
            }
        }
    }

    fn replace_by_fault(&self, user: &str) {
        let mut state = self.inner.lock();
        for sock in state.sockets.live_of(user, Phase::Connected) {
            let command = Command::Close {
                code: 440,
                reason: reason_for(440).to_string(),
            };
            if state.sockets.command(sock, command) {
                self.inner.record(
                    Some(user),
                    EventKind::EndpointReplaced {
                        old_sock: sock,
                        new_sock: None,
                        by_fault: true,
                    },
                );
            }
        }
    }
}

impl super::Inner {
    /// The rival's login falls due on `sock`: true (and the socket is
    /// marked closing, its replacement recorded) if the rival still logs
    /// in and the socket is still ours to close. The rival's last login
    /// ends its fault.
    pub(crate) fn rival_logs_in(&self, sock: u64, user: &str) -> bool {
        let mut guard = self.lock();
        let state = &mut *guard;
        let Some(rival) = state.timed.rivals.get_mut(user) else {
            return false;
        };
        let Some(entry) = state.sockets.get_mut(sock).filter(|e| !e.closing) else {
            return false;
        };
        entry.closing = true;
        rival.remaining = rival.remaining.saturating_sub(1);
        let last = rival.remaining == 0;
        if last {
            state.timed.rivals.remove(user);
        }
        self.record(
            Some(user),
            EventKind::EndpointReplaced {
                old_sock: sock,
                new_sock: None,
                by_fault: true,
            },
        );
        if last {
            self.record(
                Some(user),
                EventKind::FaultEnded {
                    fault: FaultKind::RivalDevice,
                    target: user.to_string(),
                },
            );
        }
        true
    }
}
