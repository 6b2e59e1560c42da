//! `status_private`: the status API shows each user only their own state
//! and lets each user press only their own buttons.

use std::time::Duration;

use crate::trace::truth::Truth;
use crate::trace::{EventKind, TraceEvent};

use super::common::violation;
use super::{Invariant, Params, RunContext, Violation};

/// Judged on the harness's listener in front of every app's API (rows
/// `api_cross_user`: requests where the sending tab's logged-in user is not
/// the user asked for or answered about; the tab is named by the harness,
/// not by anything the supervisor says). (a) An answer that shows the state
/// of a user other than the sending tab's is a violation. (b) A press of
/// another user's connect or disconnect button that the API accepted (2xx)
/// is a violation; its evidence adds the target's next client socket opened
/// (connect) or closed (disconnect) on that host within [`EFFECT_WINDOW`],
/// the ground truth of what the press did.
pub struct StatusPrivate;

const ID: &str = "status_private";
/// How long after an accepted foreign press its effect on the target's
/// sockets is looked for (evidence only).
pub const EFFECT_WINDOW: Duration = Duration::from_secs(5);

impl Invariant for StatusPrivate {
    fn id(&self) -> &'static str {
        ID
    }

    fn meaning(&self) -> &'static str {
        "no status answer reveals another user's state, no button acts on another user's session"
    }

    fn check(
        &self,
        trace: &[TraceEvent],
        _truth: &Truth,
        _ctx: &RunContext,
        _params: &Params,
    ) -> Vec<Violation> {
        let mut out = Vec::new();
        for (row, e) in trace.iter().enumerate() {
            let EventKind::ApiCrossUser {
                caller,
                tab,
                button,
                http_status,
                revealed,
                about,
            } = &e.kind
            else {
                continue;
            };
            if let (Some(state), Some(about)) = (revealed, about) {
                if about != caller {
                    let message = format!(
                        "{}'s tab {tab} read {about}'s status on {} and was shown {state} \
                         (HTTP {http_status}); another user's state must be refused",
                        caller, e.host
                    );
                    out.push(violation(ID, e.at, about, message, trace, &[row]));
                }
            }
            let target = e.user();
            let accepted = (200..300).contains(http_status);
            if let (Some(button), true, false) = (button, accepted, target == caller) {
                let effect = effect_of(trace, row, button == "connect");
                let caused = match effect.map(|r| &trace[r]) {
                    Some(t) => format!(
                        "; {} at {} ms",
                        if button == "connect" {
                            "a socket of the target opened"
                        } else {
                            "the target's socket closed"
                        },
                        t.at_ms()
                    ),
                    None => String::new(),
                };
                let message = format!(
                    "{caller}'s tab {tab} pressed {target}'s {button} button on {} and it was \
                     accepted (HTTP {http_status}){caused}; another user's session must not be touched",
                    e.host
                );
                let mut rows = vec![row];
                rows.extend(effect);
                out.push(violation(ID, e.at, target, message, trace, &rows));
            }
        }
        out
    }
}

/// The target's first client socket opened (`connect`) or closed on the
/// press's host within [`EFFECT_WINDOW`] after row `press`.
fn effect_of(trace: &[TraceEvent], press: usize, connect: bool) -> Option<usize> {
    let p = &trace[press];
    let until = p.at + EFFECT_WINDOW;
    trace[press + 1..]
        .iter()
        .take_while(|e| e.at <= until)
        .position(|e| {
            e.host == p.host
                && e.user == p.user
                && match e.kind {
                    EventKind::SocketOpened { .. } => connect,
                    EventKind::SocketClosed { .. } => !connect,
                    _ => false,
                }
        })
        .map(|i| press + 1 + i)
}
