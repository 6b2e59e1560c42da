//! `status_read_only`: the status API never starts a connection.

use std::collections::BTreeMap;

use crate::trace::truth::Truth;
use crate::trace::{AttemptCause, EventKind, TraceEvent};

use super::common::violation;
use super::{Invariant, Params, RunContext, Violation};

/// (c), the ground truth: every `DialDuringRequest` for a status path (one
/// ending in `/status`) is a violation, whatever the attempt was labelled.
/// The harness's listener runs each request it serves in a task-local
/// context, carried into the tasks spawned while it is served (one
/// generation); the dialer wrapper records the context it dials in (see
/// `src/request_context.rs`). A supervisor that relabels a status-made
/// attempt as `auto` is still caught. Evidence: the dial row, the socket
/// row, and the attempt the supervisor recorded for it, if any.
///
/// (a) Every `AttemptStarted{cause: status}` is a violation (the
/// supervisor's own confession); its evidence
/// adds the latest status poll or answer before it (of the same user when
/// there is one). (b) A client socket of U on host H that no attempt owns
/// (H has recorded no more attempts of U than sockets opened and dials
/// failed for U so far) while a status answer for U was served on H since
/// H's previous socket or attempt for U: a status-caused connection the
/// supervisor did not own up to. An attempt of any cause owns the socket it
/// leads to; (a) already reports attempts of cause status.
pub struct StatusReadOnly;

const ID: &str = "status_read_only";

impl Invariant for StatusReadOnly {
    fn id(&self) -> &'static str {
        ID
    }

    fn meaning(&self) -> &'static str {
        "no status request ever causes a connection attempt"
    }

    fn check(
        &self,
        trace: &[TraceEvent],
        _truth: &Truth,
        _ctx: &RunContext,
        _params: &Params,
    ) -> Vec<Violation> {
        let mut out = Vec::new();
        let mut last_status_of: BTreeMap<&str, usize> = BTreeMap::new();
        let mut last_status: Option<usize> = None;
        // Per (host, user): attempts not yet matched by a socket or a failed
        // dial, and the latest status answer since the last of those.
        let mut owed: BTreeMap<(&str, &str), u64> = BTreeMap::new();
        let mut served_since: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        // Ground truth (c): conns a status request dialled, and the latest
        // attempt per (host, user).
        let request_conns: std::collections::BTreeSet<u64> = trace
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::DialDuringRequest {
                    path,
                    conn: Some(conn),
                    ..
                } if is_status_path(path) => Some(*conn),
                _ => None,
            })
            .collect();
        let mut last_attempt: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        let mut last_socket: BTreeMap<(&str, &str), usize> = BTreeMap::new();

        for (row, e) in trace.iter().enumerate() {
            let user = e.user();
            let key = (e.host.as_str(), user);
            match &e.kind {
                EventKind::StatusPolled { .. } | EventKind::StatusServed { .. } => {
                    last_status_of.insert(user, row);
                    last_status = Some(row);
                    if matches!(e.kind, EventKind::StatusServed { .. }) {
                        served_since.insert(key, row);
                    }
                }
                EventKind::DialDuringRequest {
                    request,
                    path,
                    conn,
                } if is_status_path(path) => {
                    let label = last_attempt.get(&key).and_then(|r| match trace[*r].kind {
                        EventKind::AttemptStarted { cause, .. } => Some(cause),
                        _ => None,
                    });
                    let labelled = match label {
                        Some(cause) => {
                            format!("the supervisor labelled the attempt `{}`", cause.as_str())
                        }
                        None => "the supervisor recorded no attempt".to_string(),
                    };
                    let what = match conn {
                        Some(conn) => format!("opened conn {conn}"),
                        None => "dialled (and failed)".to_string(),
                    };
                    let message = format!(
                        "{} {what} while serving status request {request} ({path}); {labelled}; \
                         the status API must only read",
                        e.host,
                    );
                    let mut rows = vec![row];
                    rows.extend(last_socket.get(&key).filter(|_| conn.is_some()));
                    rows.extend(last_attempt.get(&key));
                    out.push(violation(ID, e.at, user, message, trace, &rows));
                }
                EventKind::AttemptStarted { session, cause, .. } => {
                    last_attempt.insert(key, row);
                    *owed.entry(key).or_insert(0) += 1;
                    served_since.remove(&key);
                    if *cause == AttemptCause::Status {
                        let before = last_status_of.get(user).copied().or(last_status);
                        let message = format!(
                            "a status request started a connection attempt (session {session}) \
                             on {}; the status API must only read",
                            e.host,
                        );
                        let mut rows = vec![row];
                        rows.extend(before);
                        out.push(violation(ID, e.at, user, message, trace, &rows));
                    }
                }
                EventKind::DialFailed { .. } => {
                    let n = owed.entry(key).or_insert(0);
                    *n = n.saturating_sub(1);
                }
                EventKind::SocketOpened { conn, .. } => {
                    last_socket.insert(key, row);
                    let n = owed.entry(key).or_insert(0);
                    let owned = *n > 0;
                    *n = n.saturating_sub(1);
                    let served = served_since.remove(&key);
                    if request_conns.contains(conn) {
                        // Reported on ground truth, (c).
                    } else if let (false, Some(served_row)) = (owned, served) {
                        let message = format!(
                            "conn {conn} opened on {} after a status answer for the user, with \
                             no connection attempt to own it; the status API must only read",
                            e.host,
                        );
                        out.push(violation(
                            ID,
                            e.at,
                            user,
                            message,
                            trace,
                            &[served_row, row],
                        ));
                    }
                }
                _ => {}
            }
        }
        out
    }
}

/// Whether an HTTP path is a status read (`/api/whatsapp/status`).
fn is_status_path(path: &str) -> bool {
    path.ends_with("/status")
}
