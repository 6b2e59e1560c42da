//! `eventually_connected`: once faults end, every user that should be
//! connected is, within `recover_within`, and stays so.

use std::time::Duration;

use crate::trace::truth::{Interval, Truth, UserTruth};
use crate::trace::{EventKind, FaultKind, TraceEvent};

use super::common::{failures, press_delivered, rows_by_user, secs, truth_rows_at, violation};
use super::{Invariant, Params, RunContext, Violation};

/// Judges the users of the run context that are enabled, paired (in the
/// context or by a `UserPaired` row), not logged out (no logout fault
/// started for them) and not left manually disconnected (a disconnect press
/// delivered to the app with no delivered connect press after it).
///
/// The clock starts at `faults_end`, or later at the `UserPaired` row of a
/// user paired during the run, or at the delivered connect press that ended
/// a manual disconnect; the user must be truly connected at start + `recover_within`
/// (or at `run_end` if that comes first) on a connection that lasts to
/// `run_end`. One violation per user: at the judging time if not connected
/// then, else at the first drop after it.
pub struct EventuallyConnected;

const ID: &str = "eventually_connected";

impl Invariant for EventuallyConnected {
    fn id(&self) -> &'static str {
        ID
    }

    fn meaning(&self) -> &'static str {
        "once faults end, every paired, enabled, logged-in user is connected within 3 min and \
         stays so until the run ends"
    }

    fn check(
        &self,
        trace: &[TraceEvent],
        truth: &Truth,
        ctx: &RunContext,
        params: &Params,
    ) -> Vec<Violation> {
        let by_user = rows_by_user(trace);
        let last_fault_end = trace
            .iter()
            .enumerate()
            .rev()
            .find(|(_, e)| matches!(e.kind, EventKind::FaultEnded { .. }) && e.at <= ctx.faults_end)
            .map(|(row, _)| row);
        let empty = UserTruth::default();

        let mut out = Vec::new();
        for facts in ctx.users.iter().filter(|u| u.enabled) {
            let user = facts.id.as_str();
            let rows = by_user.get(user).map(Vec::as_slice).unwrap_or(&[]);
            let Some(start) =
                clock_start(trace, user, facts.paired, rows, ctx, last_fault_end, params)
            else {
                continue;
            };
            let ut = truth.user(user).unwrap_or(&empty);
            out.extend(judge(trace, user, ut, rows, &start, ctx, params));
        }
        out
    }
}

/// When the user's `recover_within` begins, and the row that says why.
struct Start {
    at: Duration,
    row: Option<usize>,
    after: &'static str,
}

/// `None` when the user is exempt.
fn clock_start(
    trace: &[TraceEvent],
    user: &str,
    paired_in_ctx: bool,
    rows: &[usize],
    ctx: &RunContext,
    last_fault_end: Option<usize>,
    params: &Params,
) -> Option<Start> {
    let mut paired_row = None;
    let mut manual_connect_after_disconnect = None;
    let mut disconnected = false;
    let mut ever_disconnected = false;
    for &row in rows {
        match &trace[row].kind {
            EventKind::EndpointClosed {
                code: Some(code), ..
            } if params.terminal_codes.contains(code) => {
                disconnected = true;
                ever_disconnected = true;
            }
            EventKind::UserPaired {} => {
                paired_row.get_or_insert(row);
            }
            _ if press_delivered(&trace[row]) == Some(false) => {
                disconnected = true;
                ever_disconnected = true;
            }
            _ if press_delivered(&trace[row]) == Some(true) => {
                disconnected = false;
                if ever_disconnected {
                    manual_connect_after_disconnect = Some(row);
                }
            }
            EventKind::FaultStarted {
                fault: FaultKind::Logout,
                ..
            } => return None,
            _ => {}
        }
    }
    // A logout fault written without a user names it as its target.
    let logged_out = trace.iter().any(|e| {
        e.user.is_none()
            && matches!(&e.kind, EventKind::FaultStarted { fault: FaultKind::Logout, target } if target == user)
    });
    if logged_out || disconnected || (!paired_in_ctx && paired_row.is_none()) {
        return None;
    }

    let mut start = Start {
        at: ctx.faults_end,
        row: last_fault_end,
        after: "faults ended",
    };
    if !paired_in_ctx {
        if let Some(row) = paired_row.filter(|r| trace[*r].at > start.at) {
            start = Start {
                at: trace[row].at,
                row: Some(row),
                after: "the user was paired",
            };
        }
    }
    if let Some(row) = manual_connect_after_disconnect.filter(|r| trace[*r].at > start.at) {
        start = Start {
            at: trace[row].at,
            row: Some(row),
            after: "a manual connect",
        };
    }
    Some(start)
}

fn span(d: Duration) -> String {
    if d.as_millis().is_multiple_of(60_000) && d >= Duration::from_secs(60) {
        format!("{} min", d.as_secs() / 60)
    } else {
        secs(d)
    }
}

fn judge(
    trace: &[TraceEvent],
    user: &str,
    ut: &UserTruth,
    rows: &[usize],
    start: &Start,
    ctx: &RunContext,
    params: &Params,
) -> Option<Violation> {
    let deadline = start.at + params.recover_within;
    let judged = deadline.min(ctx.run_end);
    let holding: Option<&Interval> = ut
        .connected
        .iter()
        .find(|i| i.start <= judged && i.end.is_none_or(|e| e > judged || e >= ctx.run_end));

    if let Some(i) = holding {
        let end = i.end.filter(|e| *e < ctx.run_end)?;
        let back = ut
            .connected
            .iter()
            .find(|j| j.start >= end)
            .map(|j| format!("it came back at {}", secs(j.start)))
            .unwrap_or_else(|| "it never came back".to_string());
        let message = format!(
            "the connection dropped at {}, after the user had recovered from {} at {}; {back}",
            secs(end),
            start.after,
            secs(start.at),
        );
        let mut evidence = truth_rows_at(trace, ut, end);
        evidence.extend(start.row);
        return Some(violation(ID, end, user, message, trace, &evidence));
    }

    let when = if judged < deadline {
        format!(
            "when the run ended at {}, {} after {} at {}",
            secs(judged),
            secs(judged.saturating_sub(start.at)),
            start.after,
            secs(start.at),
        )
    } else {
        format!(
            "{} after {} at {}",
            span(params.recover_within),
            start.after,
            secs(start.at),
        )
    };
    let mut evidence: Vec<usize> = start.row.into_iter().collect();
    let last = ut.connected.iter().rev().find(|i| i.start <= judged);
    let history = match last.and_then(|i| i.end) {
        Some(end) => {
            evidence.extend(truth_rows_at(trace, ut, end));
            format!("it was last connected until {}", secs(end))
        }
        None => "it had not been connected".to_string(),
    };
    let later = ut
        .connected
        .iter()
        .find(|i| i.start > judged)
        .map(|i| format!(" and connected only at {}", secs(i.start)))
        .unwrap_or_default();
    if let Some(f) = failures(trace, Some(ut), rows)
        .into_iter()
        .rev()
        .find(|f| f.at <= judged)
    {
        evidence.push(f.row);
    }
    let message = format!("not connected {when}; {history}{later}");
    Some(violation(ID, judged, user, message, trace, &evidence))
}
