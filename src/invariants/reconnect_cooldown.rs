//! `reconnect_cooldown`: nothing automatic reconnects a user within the
//! cooldown of a non-retryable close or of its last disconnect.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::trace::truth::{Truth, UserTruth};
use crate::trace::{AttemptCause, EventKind, TraceEvent};

use super::common::{
    endpoint_close_words, param, reaches_client, rows_by_user, secs, users_seen, violation, LinkCut,
};
use super::{Invariant, Params, RunContext, Violation};

/// (a) After an endpoint close of user U with a non-retryable code at t, sent
/// on a socket whose client still held its end while the app↔endpoint link
/// was neither cut nor lossy (else the code may never have arrived), no
/// client socket of U opens in [t, t + cooldown) (rows after the close)
/// unless a connect press of U delivered to the app lies between the close and the open; one
/// violation per close, at the first such open. (b) No
/// `AttemptStarted{cause: auto}` of U comes within the cooldown of U's last
/// disconnect: the last time its client sockets dropped to none, or the last
/// endpoint close of one of its sockets; one violation per disconnect, and
/// none for an attempt that (a) already reported through the socket it
/// opened. A client socket dropped by its own host's crash is no disconnect:
/// the process that held it saw no close code and is gone, and the cooldown
/// is about what a client saw (the reference's remedy for a stuck user is
/// even to restart the server so it reconnects at once). A close code the
/// client saw before its host went down still counts, in (a) and (b).
pub struct ReconnectCooldown;

const ID: &str = "reconnect_cooldown";

impl Invariant for ReconnectCooldown {
    fn id(&self) -> &'static str {
        ID
    }

    fn meaning(&self) -> &'static str {
        "after a non-retryable close (440, 401, 403, 411) no automatic attempt comes within the \
         cooldown (60 s); the auto-reconnector never starts one within the cooldown of the user's \
         last disconnect; a manual connect is exempt"
    }

    fn check(
        &self,
        trace: &[TraceEvent],
        truth: &Truth,
        _ctx: &RunContext,
        params: &Params,
    ) -> Vec<Violation> {
        let by_user = rows_by_user(trace);
        let empty = UserTruth::default();
        let users = users_seen(&by_user, truth);
        let cut = LinkCut::from_trace(trace);

        let mut out = Vec::new();
        for user in users {
            let ut = truth.user(user).unwrap_or(&empty);
            let rows = by_user.get(user).map(Vec::as_slice).unwrap_or(&[]);
            let (found, explained) = after_non_retryable(trace, user, ut, rows, &cut, params);
            out.extend(found);
            out.extend(auto_after_disconnect(
                trace, user, ut, rows, &explained, params,
            ));
        }
        out
    }
}

/// Part (a). Returns the violations and the attempt rows that explain them.
fn after_non_retryable(
    trace: &[TraceEvent],
    user: &str,
    ut: &UserTruth,
    rows: &[usize],
    cut: &LinkCut,
    params: &Params,
) -> (Vec<Violation>, BTreeSet<usize>) {
    // (row, at, code, sock) of every non-retryable endpoint close.
    let mut closes: Vec<(usize, Duration, u16, u64)> = ut
        .endpoint_sockets
        .iter()
        .filter_map(|s| {
            let (at, code) = s.closed?;
            let code = code.filter(|c| params.non_retryable_codes.contains(c))?;
            let row = s.closed_row?;
            // A code that could not reach the client tells the supervisor
            // nothing, so it starts no cooldown.
            (reaches_client(ut, s) && !cut.contains(at)).then_some((row, at, code, s.sock))
        })
        .collect();
    closes.sort_unstable();
    let manual: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|r| super::common::press_delivered(&trace[*r]) == Some(true))
        .collect();
    let mut opens: Vec<_> = ut.client_sockets.iter().collect();
    opens.sort_by_key(|s| s.opened_row);

    let mut out = Vec::new();
    let mut explained = BTreeSet::new();
    let mut reported: BTreeSet<usize> = BTreeSet::new();
    for open in opens {
        let before = closes.partition_point(|c| c.0 < open.opened_row);
        let Some(&(close_row, close_at, code, sock)) = before.checked_sub(1).map(|k| &closes[k])
        else {
            continue;
        };
        let gap = open.opened.saturating_sub(close_at);
        if gap >= params.cooldown || reported.contains(&close_row) {
            continue;
        }
        let next_manual = manual.partition_point(|m| *m <= close_row);
        if manual
            .get(next_manual)
            .is_some_and(|m| *m < open.opened_row)
        {
            continue;
        }
        reported.insert(close_row);
        // The supervisor's own account of why it opened: the latest attempt
        // on that host between the close and the open.
        let between = &rows[rows.partition_point(|r| *r <= close_row)
            ..rows.partition_point(|r| *r < open.opened_row)];
        let attempt = between.iter().rev().copied().find(|r| {
            trace[*r].host == open.host
                && matches!(trace[*r].kind, EventKind::AttemptStarted { .. })
        });
        let why = match attempt.map(|r| &trace[r].kind) {
            Some(EventKind::AttemptStarted { cause, .. }) => {
                format!(" (the supervisor's {} attempt)", cause.as_str())
            }
            _ => String::new(),
        };
        let mut evidence = vec![close_row, open.opened_row];
        if let Some(a) = attempt {
            explained.insert(a);
            evidence.push(a);
        }
        let message = format!(
            "conn {} opened on {} {} after a {code} close of socket {sock}{why}, with no manual \
             connect in between; the cooldown is {}",
            open.conn,
            open.host,
            secs(gap),
            param(params.cooldown),
        );
        out.push(violation(ID, open.opened, user, message, trace, &evidence));
    }
    (out, explained)
}

/// Part (b): the auto-reconnector's attempts against the user's last
/// disconnect.
fn auto_after_disconnect(
    trace: &[TraceEvent],
    user: &str,
    ut: &UserTruth,
    rows: &[usize],
    explained: &BTreeSet<usize>,
    params: &Params,
) -> Vec<Violation> {
    // (row, what) of every disconnect.
    let mut disconnects: Vec<(usize, String)> = Vec::new();
    let crashes = crashes(trace);
    let mut steps: Vec<(usize, bool, u64)> = Vec::new();
    for s in &ut.client_sockets {
        steps.push((s.opened_row, true, s.conn));
        if let Some(row) = s.closed_row {
            steps.push((row, false, s.conn));
        }
    }
    steps.sort_unstable();
    let mut open = 0usize;
    for (row, opens, conn) in steps {
        if opens {
            open += 1;
        } else {
            open = open.saturating_sub(1);
            let crashed = crashes.contains(&(trace[row].host.as_str(), trace[row].at));
            if open == 0 && !crashed {
                disconnects.push((
                    row,
                    format!("conn {conn} closed client-side, leaving none open"),
                ));
            }
        }
    }
    for s in &ut.endpoint_sockets {
        if let (Some((_, code)), Some(row)) = (s.closed, s.closed_row) {
            if reaches_client(ut, s) {
                disconnects.push((row, endpoint_close_words(s.sock, code)));
            }
        }
    }
    disconnects.sort_by_key(|d| d.0);

    let mut out = Vec::new();
    let mut reported: BTreeSet<usize> = BTreeSet::new();
    for &row in rows {
        let EventKind::AttemptStarted {
            cause: AttemptCause::Auto,
            ..
        } = trace[row].kind
        else {
            continue;
        };
        let before = disconnects.partition_point(|d| d.0 < row);
        let Some((d_row, what)) = before.checked_sub(1).map(|k| &disconnects[k]) else {
            continue;
        };
        let at = trace[row].at;
        let d_at = trace[*d_row].at;
        let gap = at.saturating_sub(d_at);
        if gap >= params.cooldown || explained.contains(&row) || !reported.insert(*d_row) {
            continue;
        }
        let message = format!(
            "the auto-reconnector started an attempt on {} {} after the user's last disconnect \
             ({what} at {}); the cooldown is {}",
            trace[row].host,
            secs(gap),
            secs(d_at),
            param(params.cooldown),
        );
        out.push(violation(ID, at, user, message, trace, &[*d_row, row]));
    }
    out
}

/// (host, time) of every crash of an app host, scripted or its own exit: the
/// host's sockets are closed client-side at that very time, in the crash's
/// teardown.
fn crashes(trace: &[TraceEvent]) -> BTreeSet<(&str, Duration)> {
    trace
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::InstanceCrashed { instance } => Some((instance.as_str(), e.at)),
            _ => None,
        })
        .collect()
}
