//! `store_matches_truth`: the stored status follows the truth within a
//! grace.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::trace::truth::{Truth, UserTruth};
use crate::trace::{ConnectionState, EventKind, TraceEvent};

use super::common::{connected_at, param, secs, truth_rows_at, violation};
use super::{Invariant, Params, RunContext, Violation};

/// The stored status of U is its latest `StoreWritten` by any host
/// (`DISCONNECTED` before the first). It is compared with the client-side
/// sockets (SPEC): U is connected while its client holds a socket the
/// endpoint authenticated, even if the endpoint's end closed in a message
/// the network lost. It mismatches when it says `CONNECTED` while U is not
/// connected, or `DISCONNECTED`/`QR_PENDING` while U is. `CONNECTING`
/// claims neither (the answer to a hello may still be on its way), but only
/// for `connect_timeout` (20 s, the longest a dial plus handshake may take)
/// from the first of a run of `CONNECTING` writes: past that it is a
/// mismatch, with or without a live socket, so a status stuck in CONNECTING
/// is a violation once it lasts `connect_timeout` + `store_grace`.
/// A mismatch is not counted while the host that last wrote U's row is
/// crashed, nor for `store_grace` after it restarts. A counted mismatch
/// lasting longer than `store_grace` is one violation, at its start plus
/// `store_grace`. Judged until `run_end`.
pub struct StoreMatchesTruth;

const ID: &str = "store_matches_truth";

impl Invariant for StoreMatchesTruth {
    fn id(&self) -> &'static str {
        ID
    }

    fn meaning(&self) -> &'static str {
        "the stored status agrees with the client-side sockets (CONNECTED while the client holds \
         an authenticated socket, never DISCONNECTED then) within a 5 s grace; CONNECTING lasts \
         at most the 20 s connect timeout plus that grace"
    }

    fn check(
        &self,
        trace: &[TraceEvent],
        truth: &Truth,
        ctx: &RunContext,
        params: &Params,
    ) -> Vec<Violation> {
        let windows = crash_windows(trace, params.store_grace);
        let mut writes: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (row, e) in trace.iter().enumerate() {
            if let (EventKind::StoreWritten { .. }, Some(user)) = (&e.kind, e.user.as_deref()) {
                writes.entry(user).or_default().push(row);
            }
        }
        let mut users: BTreeSet<&str> = ctx.users.iter().map(|u| u.id.as_str()).collect();
        users.extend(truth.users.keys().map(String::as_str));
        users.extend(writes.keys().copied());

        let empty = UserTruth::default();
        let mut out = Vec::new();
        for user in users {
            let ut = truth.user(user).unwrap_or(&empty);
            let w = writes.get(user).map(Vec::as_slice).unwrap_or(&[]);
            out.extend(judge_user(
                trace,
                user,
                ut,
                w,
                &windows,
                ctx.run_end,
                params,
            ));
        }
        out
    }
}

/// Per app host: `[crashed, restarted + grace)`, open-ended if it never
/// restarted.
type Windows<'a> = BTreeMap<&'a str, Vec<(Duration, Option<Duration>)>>;

fn crash_windows(trace: &[TraceEvent], grace: Duration) -> Windows<'_> {
    let mut windows: Windows<'_> = BTreeMap::new();
    for e in trace {
        match &e.kind {
            EventKind::InstanceCrashed { instance } => {
                windows
                    .entry(instance.as_str())
                    .or_default()
                    .push((e.at, None));
            }
            EventKind::InstanceStarted { instance } => {
                if let Some(last) = windows
                    .get_mut(instance.as_str())
                    .and_then(|w| w.last_mut())
                    .filter(|w| w.1.is_none())
                {
                    last.1 = Some(e.at + grace);
                }
            }
            _ => {}
        }
    }
    windows
}

struct Stretch {
    start: Duration,
    /// The write in effect at the start, if any.
    write: Option<usize>,
    stored: ConnectionState,
    connected: bool,
}

fn judge_user(
    trace: &[TraceEvent],
    user: &str,
    ut: &UserTruth,
    writes: &[usize],
    windows: &Windows<'_>,
    run_end: Duration,
    params: &Params,
) -> Vec<Violation> {
    let grace = params.store_grace;
    let mut writes: Vec<usize> = writes.to_vec();
    writes.sort_by_key(|r| (trace[*r].at, *r));

    // When each write's CONNECTING began: the first of a run of CONNECTING
    // writes (a rewrite of CONNECTING does not restart the clock, unless the
    // writer crashed in between: a restarted process's connect is new).
    let crashed_between = |host: &str, from: Duration, to: Duration| {
        windows
            .get(host)
            .is_some_and(|ws| ws.iter().any(|(start, _)| from < *start && *start <= to))
    };
    let mut connecting_since: Vec<Option<Duration>> = Vec::with_capacity(writes.len());
    for (k, r) in writes.iter().enumerate() {
        let since = match trace[*r].kind {
            EventKind::StoreWritten {
                status: ConnectionState::Connecting,
                ..
            } => Some(
                k.checked_sub(1)
                    .filter(|j| {
                        !crashed_between(&trace[*r].host, trace[writes[*j]].at, trace[*r].at)
                    })
                    .and_then(|j| connecting_since[j])
                    .unwrap_or(trace[*r].at),
            ),
            _ => None,
        };
        connecting_since.push(since);
    }
    let mut points: Vec<Duration> = vec![Duration::ZERO];
    points.extend(writes.iter().map(|r| trace[*r].at));
    points.extend(
        connecting_since
            .iter()
            .flatten()
            .map(|t| *t + params.connect_timeout),
    );
    for i in &ut.client_connected {
        points.push(i.start);
        points.extend(i.end);
    }
    for w in windows.values().flatten() {
        points.push(w.0);
        points.extend(w.1);
    }
    points.retain(|p| *p < run_end);
    points.sort_unstable();
    points.dedup();

    let mut out = Vec::new();
    let mut next_write = 0;
    let mut current: Option<Stretch> = None;
    let close = |s: Stretch, end: Duration, ran_out: bool, out: &mut Vec<Violation>| {
        let lasted = end.saturating_sub(s.start);
        if lasted <= grace {
            return;
        }
        let how_long = if ran_out {
            format!("{}, until the run ended", secs(lasted))
        } else {
            secs(lasted)
        };
        let message = if s.stored == ConnectionState::Connecting {
            format!(
                "the store said CONNECTING for {how_long} past the {} a connect may take (from {}); \
                 the grace is {}",
                param(params.connect_timeout),
                secs(s.start),
                param(grace),
            )
        } else if s.connected {
            format!(
                "the user was connected but the store said {} for {how_long} (from {}); the grace is {}",
                s.stored,
                secs(s.start),
                param(grace),
            )
        } else {
            format!(
                "the store said CONNECTED for {how_long} (from {}) while the user was not connected; the grace is {}",
                secs(s.start),
                param(grace),
            )
        };
        let mut evidence: Vec<usize> = s.write.into_iter().collect();
        if let Some(t) = last_truth_change(ut, s.start) {
            evidence.extend(truth_rows_at(trace, ut, t));
        }
        out.push(violation(
            ID,
            s.start + grace,
            user,
            message,
            trace,
            &evidence,
        ));
    };

    for p in points {
        while writes.get(next_write).is_some_and(|r| trace[*r].at <= p) {
            next_write += 1;
        }
        let write = next_write.checked_sub(1).map(|k| writes[k]);
        let (stored, writer) = match write.map(|r| (&trace[r].kind, trace[r].host.as_str())) {
            Some((EventKind::StoreWritten { status, .. }, host)) => (*status, Some(host)),
            _ => (ConnectionState::Disconnected, None),
        };
        let connected = connected_at(&ut.client_connected, p).is_some();
        let stuck = next_write
            .checked_sub(1)
            .and_then(|k| connecting_since[k])
            .is_some_and(|since| p >= since + params.connect_timeout);
        let exempt = writer.and_then(|h| windows.get(h)).is_some_and(|ws| {
            ws.iter()
                .any(|(from, to)| *from <= p && to.is_none_or(|to| p < to))
        });
        let mismatch = match stored {
            ConnectionState::Connected => !connected,
            ConnectionState::Connecting => stuck,
            ConnectionState::Disconnected | ConnectionState::QrPending => connected,
        };
        let counted = mismatch && !exempt;
        match (counted, current.is_some()) {
            (true, false) => {
                current = Some(Stretch {
                    start: p,
                    write,
                    stored,
                    connected,
                });
            }
            (false, true) => {
                if let Some(s) = current.take() {
                    close(s, p, false, &mut out);
                }
            }
            _ => {}
        }
    }
    if let Some(s) = current.take() {
        close(s, run_end, true, &mut out);
    }
    out
}

/// The latest moment at or before `t` where the user's truth changed.
fn last_truth_change(ut: &UserTruth, t: Duration) -> Option<Duration> {
    ut.client_connected
        .iter()
        .flat_map(|i| [Some(i.start), i.end])
        .flatten()
        .filter(|c| *c <= t)
        .max()
}
