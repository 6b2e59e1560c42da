//! `status_read_only`: the status API never starts a connection.

use std::collections::BTreeMap;

use crate::trace::truth::Truth;
use crate::trace::{AttemptCause, EventKind, TraceEvent};

use super::common::violation;
use super::{Invariant, Params, RunContext, Violation};

/// (a) Every `AttemptStarted{cause: status}` is a violation; its evidence
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
                EventKind::AttemptStarted { session, cause, .. } => {
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
                    let n = owed.entry(key).or_insert(0);
                    let owned = *n > 0;
                    *n = n.saturating_sub(1);
                    let served = served_since.remove(&key);
                    if let (false, Some(served_row)) = (owned, served) {
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
