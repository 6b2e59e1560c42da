//! `settles`: once faults are over and a user is connected, nothing
//! reconnects it; and at no time do attempts or status changes churn.

use std::collections::VecDeque;
use std::time::Duration;

use crate::trace::truth::{Interval, Truth, UserTruth};
use crate::trace::{ConnectionState, EventKind, TraceEvent};

use super::common::{param, rows_by_user, secs, violation};
use super::{Invariant, Params, RunContext, Violation};

/// Judged per user on ground truth: attempts are the client-side
/// `socket_opened` and `dial_failed` rows; connected is [`UserTruth::connected`]
/// (exactly one authenticated socket); faults and a person's acts are the
/// simulator's rows. Three rules:
///
/// 1. **Quiet after recovery.** From `faults_end`, or a later act of a person
///    for the user (a `press_delivered` row: a button press that reached the
///    app; or `user_paired`) or
///    a later fault, the first moment the user is connected (once faults
///    end: on a connection that began after them, or before the first of
///    them; one that began during them may carry their damage, a stalled
///    stream, and its replacement is recovery) starts a quiet
///    stretch that lasts until the next such act or fault; any attempt in it
///    is a violation (one per stretch, with the count).
/// 2. **Attempt budget.** Within any `churn_window` (60 s) a user gets at
///    most `max_attempts + 2` attempts, plus `max_attempts + 1` per person's
///    act and one per 515 close in the window. Why: the reference's policy
///    allows one episode's backoff attempts (2+4+8+16+32 s puts all five
///    within 62 s), one auto-reconnect (at most one per 60 s cooldown) and
///    one restart after 515; a person's press starts a new episode (its own
///    attempt and up to `max_attempts` backoff attempts, as `max_attempts`
///    judges it). So at most 7 a minute without a person, about 420 an hour
///    at the very worst and a handful in practice.
/// 3. **Status budget.** Within any `churn_window` the stored status (the
///    latest `store_written` by any host) changes at most
///    `transitions_per_attempt` × the attempt budget (3 × 7 = 21 without a
///    person's act or a 515) times: each
///    attempt moves it through at most CONNECTING, CONNECTED or QR_PENDING,
///    and DISCONNECTED. The production incident it catches: about 2,000
///    status updates in minutes.
///
/// Rules 2 and 3 give one violation per stretch of consecutive windows over
/// budget, at the row that first broke it.
pub struct Settles;

const ID: &str = "settles";

impl Invariant for Settles {
    fn id(&self) -> &'static str {
        ID
    }

    fn meaning(&self) -> &'static str {
        "once faults end and a user is connected, no attempt until a new fault or a person acts; \
         at most 7 attempts and 21 status changes a minute"
    }

    fn check(
        &self,
        trace: &[TraceEvent],
        truth: &Truth,
        ctx: &RunContext,
        params: &Params,
    ) -> Vec<Violation> {
        let by_user = rows_by_user(trace);
        let faults: Vec<usize> = trace
            .iter()
            .enumerate()
            .filter(|(_, e)| matches!(e.kind, EventKind::FaultStarted { .. }))
            .map(|(row, _)| row)
            .collect();
        let empty = UserTruth::default();
        let mut out = Vec::new();
        for (user, rows) in &by_user {
            let ut = truth.user(user).unwrap_or(&empty);
            out.extend(quiet_after_recovery(trace, user, ut, rows, &faults, ctx));
            out.extend(attempt_budget(trace, user, rows, params));
            out.extend(status_budget(trace, user, rows, params));
        }
        out
    }
}

fn is_attempt(e: &TraceEvent) -> bool {
    matches!(
        e.kind,
        EventKind::SocketOpened { .. } | EventKind::DialFailed { .. }
    )
}

fn is_person_act(e: &TraceEvent) -> bool {
    matches!(e.kind, EventKind::UserPaired {}) || super::common::press_delivered(e).is_some()
}

fn quiet_after_recovery(
    trace: &[TraceEvent],
    user: &str,
    ut: &UserTruth,
    rows: &[usize],
    faults: &[usize],
    ctx: &RunContext,
) -> Vec<Violation> {
    // Where quiet stretches may begin: the end of faults, then every later
    // person's act or fault start.
    let first_fault = faults.first().map(|r| trace[*r].at);
    let mut resets: Vec<(Duration, Option<usize>)> = vec![(ctx.faults_end, None)];
    resets.extend(
        rows.iter()
            .copied()
            .chain(faults.iter().copied())
            .filter(|r| {
                (is_person_act(&trace[*r]) || faults.contains(r)) && trace[*r].at >= ctx.faults_end
            })
            .map(|r| (trace[r].at, Some(r))),
    );
    resets.sort();
    let mut out = Vec::new();
    for (k, &(from, reset_row)) in resets.iter().enumerate() {
        let until = resets.get(k + 1).map_or(ctx.run_end, |r| r.0);
        // A connection that began while faults were on may carry their
        // damage past their end (a frame lost to a lossy link stalls the
        // stream for good; TCP here does not retransmit), so once faults end
        // the quiet begins on a connection that began after them, or one
        // that was up before the first of them and lived through.
        let suspect = |i: &&Interval| {
            reset_row.is_none() && first_fault.is_some_and(|f| i.start >= f && i.start < from)
        };
        // The first connected moment at or after `from`.
        let Some(quiet_from) = ut
            .connected
            .iter()
            .filter(|i| !suspect(i))
            .find(|i| i.end.is_none_or(|e| e > from))
            .map(|i| i.start.max(from))
            .filter(|t| *t < until)
        else {
            continue;
        };
        let late: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|r| {
                let t = trace[*r].at;
                is_attempt(&trace[*r]) && t > quiet_from && t < until
            })
            .collect();
        let Some(&first) = late.first() else {
            continue;
        };
        let after = match reset_row {
            Some(r) if is_person_act(&trace[r]) => "a person's act",
            Some(_) => "the last fault",
            None => "faults ended",
        };
        let more = if late.len() > 1 {
            format!("; {} attempts in all", late.len())
        } else {
            String::new()
        };
        let message = format!(
            "an attempt on {} at {}, though the user had been connected since {} after {after} \
             at {} and no fault or person acted since{more}",
            trace[first].host,
            secs(trace[first].at),
            secs(quiet_from),
            secs(from),
        );
        let mut evidence = vec![first];
        evidence.extend(reset_row);
        out.push(violation(
            ID,
            trace[first].at,
            user,
            message,
            trace,
            &evidence,
        ));
    }
    out
}

/// Counts `rows` (already filtered, in time order) in every window ending at
/// one of them; one violation per stretch over `budget(window rows)`.
/// A churn budget: `base` per window, plus `per_attempt` times each
/// allowance's attempts in the window.
#[derive(Clone, Copy)]
struct Budget {
    base: u32,
    per_attempt: u32,
    /// The attempts a person's act allows (for the message).
    per_act: u32,
    window: Duration,
    what: &'static str,
}

/// When, and by how many attempts, the user's budget grows.
struct Allowance {
    at: Duration,
    attempts: u32,
}

fn over_budget(
    trace: &[TraceEvent],
    user: &str,
    counted: &[usize],
    allowance: &[Allowance],
    b: &Budget,
) -> Vec<Violation> {
    let Budget {
        base,
        per_attempt,
        per_act,
        window,
        what,
    } = *b;
    let mut out = Vec::new();
    let mut win: VecDeque<usize> = VecDeque::new();
    let mut over = false;
    for &row in counted {
        let t = trace[row].at;
        win.push_back(row);
        while win.front().is_some_and(|r| trace[*r].at + window <= t) {
            win.pop_front();
        }
        let from = t.saturating_sub(window);
        let in_window = allowance.iter().filter(|a| a.at > from && a.at <= t);
        let extra: u32 = in_window.map(|a| a.attempts).sum();
        let budget = base + per_attempt * extra;
        let n = win.len() as u32;
        if n > budget && !over {
            let message = format!(
                "{n} {what} within {} up to {} (budget {budget}: {base}, plus {} per person's act \
                 and {per_attempt} per 515 close in the window)",
                param(window),
                secs(t),
                per_attempt * per_act,
            );
            let rows: Vec<usize> = win.iter().copied().collect();
            let evidence: Vec<usize> = [rows[0], row].into();
            out.push(violation(ID, t, user, message, trace, &evidence));
        }
        over = n > budget;
    }
    out
}

/// When the user's budget grows: a person's act (a new episode: its own
/// attempt and up to `max_attempts` backoff attempts), or the endpoint asking
/// for a restart (515: one attempt).
fn allowances(trace: &[TraceEvent], rows: &[usize], params: &Params) -> Vec<Allowance> {
    rows.iter()
        .filter_map(|&r| {
            let e = &trace[r];
            let attempts = if is_person_act(e) {
                params.max_attempts + 1
            } else if matches!(
                e.kind,
                EventKind::EndpointClosed {
                    code: Some(515),
                    ..
                }
            ) {
                1
            } else {
                return None;
            };
            Some(Allowance { at: e.at, attempts })
        })
        .collect()
}

fn attempt_budget(
    trace: &[TraceEvent],
    user: &str,
    rows: &[usize],
    params: &Params,
) -> Vec<Violation> {
    let attempts: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|r| is_attempt(&trace[*r]))
        .collect();
    over_budget(
        trace,
        user,
        &attempts,
        &allowances(trace, rows, params),
        &Budget {
            base: params.max_attempts + 2,
            per_attempt: 1,
            per_act: params.max_attempts + 1,
            window: params.churn_window,
            what: "attempts",
        },
    )
}

fn status_budget(
    trace: &[TraceEvent],
    user: &str,
    rows: &[usize],
    params: &Params,
) -> Vec<Violation> {
    let mut stored = ConnectionState::Disconnected;
    let mut changes: Vec<usize> = Vec::new();
    for &r in rows {
        if let EventKind::StoreWritten { status, .. } = trace[r].kind {
            if status != stored {
                changes.push(r);
                stored = status;
            }
        }
    }
    over_budget(
        trace,
        user,
        &changes,
        &allowances(trace, rows, params),
        &Budget {
            base: params.transitions_per_attempt * (params.max_attempts + 2),
            per_attempt: params.transitions_per_attempt,
            per_act: params.max_attempts + 1,
            window: params.churn_window,
            what: "status changes",
        },
    )
}
