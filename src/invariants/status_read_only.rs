//! `status_read_only`: the status API never starts a connection.

use std::collections::{BTreeMap, BTreeSet};

use crate::trace::truth::Truth;
use crate::trace::{AttemptCause, EventKind, TraceEvent};

use super::common::violation;
use super::{Invariant, Params, RunContext, Violation};

/// (a) Every `AttemptStarted{cause: status}` is a violation; its evidence
/// adds the latest status poll or answer before it (of the same user when
/// there is one). (b) A client socket of U that opens in the same
/// millisecond as a `StatusServed` for U, with no `AttemptStarted` of U in
/// that millisecond, is one too: a status-caused connection the supervisor
/// did not own up to. (An attempt of cause status in that millisecond is
/// already reported by (a); one of another cause explains the socket.)
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
        // Per user: millisecond → rows of status answers; milliseconds with
        // an attempt of any cause.
        let mut served: BTreeMap<(&str, u64), usize> = BTreeMap::new();
        let mut attempted: BTreeSet<(&str, u64)> = BTreeSet::new();
        let mut opened: Vec<usize> = Vec::new();

        for (row, e) in trace.iter().enumerate() {
            let user = e.user();
            match &e.kind {
                EventKind::StatusPolled { .. } | EventKind::StatusServed { .. } => {
                    last_status_of.insert(user, row);
                    last_status = Some(row);
                    if matches!(e.kind, EventKind::StatusServed { .. }) {
                        served.entry((user, e.at_ms())).or_insert(row);
                    }
                }
                EventKind::AttemptStarted { session, cause, .. } => {
                    attempted.insert((user, e.at_ms()));
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
                EventKind::SocketOpened { .. } => opened.push(row),
                _ => {}
            }
        }

        for row in opened {
            let e = &trace[row];
            let key = (e.user(), e.at_ms());
            let Some(&served_row) = served.get(&key) else {
                continue;
            };
            if attempted.contains(&key) {
                continue;
            }
            let EventKind::SocketOpened { conn, .. } = &e.kind else {
                continue;
            };
            let message = format!(
                "conn {conn} opened on {} in the same millisecond as a status answer for the \
                 user, with no connection attempt recorded; the status API must only read",
                e.host,
            );
            out.push(violation(
                ID,
                e.at,
                e.user(),
                message,
                trace,
                &[served_row, row],
            ));
        }
        out
    }
}
