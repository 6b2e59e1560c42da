//! `terminal_codes_respected`: after 401, 403 or 411 nothing connects the
//! user again until a person acts; an unpaired user gets no QR session
//! nobody asked for.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::trace::truth::Truth;
use crate::trace::{EventKind, TraceEvent};

use super::common::{reaches_client, rows_by_user, violation, LinkCut};
use super::{Invariant, Params, RunContext, Violation};

/// Judged per user on ground truth: the endpoint's closes and QR sessions,
/// and the client-side attempts (every `socket_opened` and `dial_failed`).
/// The user *waits for a person* (1) after the endpoint closes one of its
/// sockets with a code in `terminal_codes` (401 logged out, 403 forbidden,
/// 411 multi-device mismatch: no retry can succeed, so each one only shows
/// WhatsApp a misbehaving client), (2) from the start when it is not paired,
/// and (3) after an unscanned QR session ends (the endpoint closes a socket
/// it authenticated without credentials while the user is still unpaired:
/// a QR shown to nobody). A person ends the wait: a connect press that reached
/// the app (`press_delivered`, recorded by the harness's listener), or a
/// `user_paired` (the scan). While the user waits, every attempt is a
/// violation; one violation per wait, at its first attempt, with the count.
/// Why: the post-mortem's service reconnected a logged-out user every 30 s
/// and on every dashboard poll, and showed QR codes to nobody.
pub struct TerminalCodesRespected;

const ID: &str = "terminal_codes_respected";

impl Invariant for TerminalCodesRespected {
    fn id(&self) -> &'static str {
        ID
    }

    fn meaning(&self) -> &'static str {
        "after a 401, 403 or 411 close no automatic attempt until a person connects or re-pairs; \
         an unpaired user gets no QR session nobody asked for"
    }

    fn check(
        &self,
        trace: &[TraceEvent],
        truth: &Truth,
        ctx: &RunContext,
        params: &Params,
    ) -> Vec<Violation> {
        let by_user = rows_by_user(trace);
        // Endpoint sockets that authenticated without credentials (QR).
        let mut qr_socks: BTreeMap<u64, ()> = BTreeMap::new();
        for e in trace {
            if let EventKind::EndpointAuthenticated {
                sock,
                paired: false,
            } = e.kind
            {
                qr_socks.insert(sock, ());
            }
        }
        let cut = LinkCut::from_trace(trace);
        let mut out = Vec::new();
        for (user, rows) in &by_user {
            let paired_at_start = ctx
                .users
                .iter()
                .find(|u| u.id == *user)
                .is_none_or(|u| u.paired);
            // A terminal close the client could not hear (sent on a cut or
            // lossy link, or after the client let go of the socket) tells
            // the supervisor nothing; the endpoint repeats it at the next
            // connect, and that one starts the wait.
            let ut = truth.user(user);
            let heard = |sock: u64, at: Duration| {
                let reached = ut
                    .and_then(|u| {
                        let s = u.endpoint_sockets.iter().find(|s| s.sock == sock)?;
                        Some(reaches_client(u, s))
                    })
                    .unwrap_or(true);
                reached && !cut.contains(at)
            };
            out.extend(judge(
                trace,
                user,
                rows,
                paired_at_start,
                &qr_socks,
                &heard,
                params,
            ));
        }
        out
    }
}

/// Why the user waits for a person, and the row that says so.
struct Wait {
    row: Option<usize>,
    why: String,
    first: Option<usize>,
    attempts: usize,
}

fn judge(
    trace: &[TraceEvent],
    user: &str,
    rows: &[usize],
    paired_at_start: bool,
    qr_socks: &BTreeMap<u64, ()>,
    heard: &dyn Fn(u64, Duration) -> bool,
    params: &Params,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut paired = paired_at_start;
    let mut wait: Option<Wait> = (!paired).then(|| Wait {
        row: None,
        why: "the user is not paired".into(),
        first: None,
        attempts: 0,
    });
    let report = |w: Wait, out: &mut Vec<Violation>| {
        let Some(first) = w.first else { return };
        let more = if w.attempts > 1 {
            format!(" ({} attempts in all before a person acted)", w.attempts)
        } else {
            String::new()
        };
        let message = format!(
            "{} on {} although {}: only a person may connect the user now{more}",
            match trace[first].kind {
                EventKind::DialFailed { .. } => "an automatic dial was made",
                _ => "an automatic socket opened",
            },
            trace[first].host,
            w.why,
        );
        let mut evidence: Vec<usize> = w.row.into_iter().collect();
        evidence.push(first);
        out.push(violation(
            ID,
            trace[first].at,
            user,
            message,
            trace,
            &evidence,
        ));
    };
    for &row in rows {
        let e = &trace[row];
        match &e.kind {
            _ if matches!(e.kind, EventKind::UserPaired {})
                || super::common::press_delivered(e) == Some(true) =>
            {
                if matches!(e.kind, EventKind::UserPaired {}) {
                    paired = true;
                }
                if let Some(w) = wait.take() {
                    report(w, &mut out);
                }
            }
            EventKind::EndpointClosed { sock, code, .. } => {
                let terminal = code
                    .filter(|c| params.terminal_codes.contains(c))
                    .filter(|_| heard(*sock, e.at));
                let qr_ended = !paired && qr_socks.contains_key(sock);
                if terminal.is_none() && !qr_ended {
                    continue;
                }
                if terminal == Some(401) {
                    paired = false;
                }
                if wait.is_none() {
                    let why = match terminal {
                        Some(code) => format!("the endpoint closed socket {sock} with {code}"),
                        None => format!("the QR session on socket {sock} ended unscanned"),
                    };
                    wait = Some(Wait {
                        row: Some(row),
                        why,
                        first: None,
                        attempts: 0,
                    });
                }
            }
            EventKind::SocketOpened { .. } | EventKind::DialFailed { .. } => {
                if let Some(w) = wait.as_mut() {
                    w.attempts += 1;
                    w.first.get_or_insert(row);
                }
            }
            _ => {}
        }
    }
    if let Some(w) = wait.take() {
        report(w, &mut out);
    }
    out
}
