//! Helpers shared by the checkers: wording, evidence, per-user row indexes
//! and the list of a user's failures.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::trace::truth::{ClientSocket, EndpointSocket, Interval, Truth, UserTruth};
use crate::trace::{EventKind, FaultKind, TraceEvent};

use super::Violation;

/// A measured time or gap: `12.0 s`, or `1.234 s` when the tenths would lie.
/// A person's button press that reached the app (the harness's listener
/// delivered it): `Some(true)` for connect, `Some(false)` for disconnect.
/// The scenario's own `ManualConnect`/`ManualDisconnect` rows say what the
/// person tried; a press lost to a partition or a crashed host never reached
/// the supervisor, so it neither excuses nor exempts anything.
pub(crate) fn press_delivered(e: &TraceEvent) -> Option<bool> {
    match &e.kind {
        EventKind::PressDelivered { button } => Some(button == "connect"),
        _ => None,
    }
}

pub(crate) fn secs(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(100) {
        format!("{}.{} s", ms / 1000, (ms % 1000) / 100)
    } else {
        format!("{}.{:03} s", ms / 1000, ms % 1000)
    }
}

/// A parameter: `60 s`, or as [`secs`] when it is not whole seconds.
pub(crate) fn param(d: Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{} s", d.as_secs())
    } else {
        secs(d)
    }
}

/// `1st`, `2nd`, `3rd`, `4th`, … `11th`, `21st`.
pub(crate) fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// A violation whose evidence is the given rows, deduplicated and in trace
/// order.
pub(crate) fn violation(
    invariant: &str,
    at: Duration,
    user: &str,
    message: String,
    trace: &[TraceEvent],
    rows: &[usize],
) -> Violation {
    let mut rows: Vec<usize> = rows.iter().copied().filter(|r| *r < trace.len()).collect();
    rows.sort_unstable();
    rows.dedup();
    Violation {
        invariant: invariant.to_string(),
        at,
        user: (!user.is_empty()).then(|| user.to_string()),
        message,
        evidence: rows.into_iter().map(|r| trace[r].clone()).collect(),
    }
}

/// Row indexes of every row that names a user, per user, in trace order.
pub(crate) fn rows_by_user(trace: &[TraceEvent]) -> BTreeMap<&str, Vec<usize>> {
    let mut map: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (row, e) in trace.iter().enumerate() {
        if let Some(user) = e.user.as_deref() {
            map.entry(user).or_default().push(row);
        }
    }
    map
}

/// Every user the trace or the truth names, in id order.
pub(crate) fn users_seen<'a>(
    by_user: &BTreeMap<&'a str, Vec<usize>>,
    truth: &'a Truth,
) -> BTreeSet<&'a str> {
    let mut users: BTreeSet<&str> = by_user.keys().copied().collect();
    users.extend(truth.users.keys().map(String::as_str));
    users
}

/// Every client socket of the run by its conn id (unique in a run), with
/// its user.
pub(crate) fn client_sockets_by_conn(truth: &Truth) -> BTreeMap<u64, (&str, &ClientSocket)> {
    truth
        .users
        .iter()
        .flat_map(|(user, ut)| {
            ut.client_sockets
                .iter()
                .map(move |s| (s.conn, (user.as_str(), s)))
        })
        .collect()
}

/// The connected interval holding `t`, if any. `intervals` are sorted and
/// do not overlap, as [`UserTruth::connected`] is.
pub(crate) fn connected_at(intervals: &[Interval], t: Duration) -> Option<&Interval> {
    let after = intervals.partition_point(|i| i.start <= t);
    after
        .checked_sub(1)
        .map(|k| &intervals[k])
        .filter(|i| i.contains(t))
}

/// Something that went wrong with a user's link, as ground truth saw it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    pub at: Duration,
    pub row: usize,
    /// What happened, for messages: "conn 3 closed client-side".
    pub what: String,
}

/// A user's failures, in trace order: every endpoint close of one of its
/// sockets, every client-side socket close, and every failed dial.
pub(crate) fn failures(
    trace: &[TraceEvent],
    ut: Option<&UserTruth>,
    rows: &[usize],
) -> Vec<Failure> {
    let mut out: Vec<Failure> = Vec::new();
    if let Some(ut) = ut {
        // One failure per stream: the two ends of a broken stream close at
        // different moments, and the failure is the first of them.
        let mut by_conn: BTreeMap<u64, usize> = BTreeMap::new();
        for s in &ut.client_sockets {
            if let (Some(at), Some(row)) = (s.closed, s.closed_row) {
                by_conn.insert(s.conn, out.len());
                out.push(Failure {
                    at,
                    row,
                    what: format!("conn {} closed client-side", s.conn),
                });
            }
        }
        for s in &ut.endpoint_sockets {
            if let (Some((at, code)), Some(row)) = (s.closed, s.closed_row) {
                let what = endpoint_close_words(s.sock, code);
                match s.client_conn.and_then(|c| by_conn.get(&c)) {
                    Some(&i) if out[i].row < row => {}
                    Some(&i) => out[i] = Failure { at, row, what },
                    None => out.push(Failure { at, row, what }),
                }
            }
        }
    }
    for &row in rows {
        if matches!(trace[row].kind, EventKind::DialFailed { .. }) {
            out.push(Failure {
                at: trace[row].at,
                row,
                what: "a dial failed".to_string(),
            });
        }
    }
    out.sort_by_key(|f| f.row);
    out
}

pub(crate) fn endpoint_close_words(sock: u64, code: Option<u16>) -> String {
    match code {
        Some(code) => format!("the endpoint closed socket {sock} with {code}"),
        None => format!("the endpoint closed socket {sock}"),
    }
}

/// Ground-truth rows of a user stamped exactly `t`: its client sockets'
/// opens and closes, its endpoint sockets' authentications and closes.
/// These are the rows that can start or end a connected interval at `t`.
pub(crate) fn truth_rows_at(trace: &[TraceEvent], ut: &UserTruth, t: Duration) -> Vec<usize> {
    let mut rows = Vec::new();
    for s in &ut.client_sockets {
        if s.opened == t {
            rows.push(s.opened_row);
        }
        if let (Some(c), Some(row)) = (s.closed, s.closed_row) {
            if c == t {
                rows.push(row);
            }
        }
    }
    for s in &ut.endpoint_sockets {
        if s.authenticated.is_some_and(|(at, _)| at == t) {
            if let Some(row) = authenticated_row(trace, s.accepted_row, s.sock) {
                rows.push(row);
            }
        }
        if let (Some((c, _)), Some(row)) = (s.closed, s.closed_row) {
            if c == t {
                rows.push(row);
            }
        }
    }
    rows.sort_unstable();
    rows.dedup();
    rows
}

/// The row where endpoint socket `sock` (accepted at `from`) authenticated.
fn authenticated_row(trace: &[TraceEvent], from: usize, sock: u64) -> Option<usize> {
    trace
        .iter()
        .enumerate()
        .skip(from)
        .find(|(_, e)| matches!(e.kind, EventKind::EndpointAuthenticated { sock: s, .. } if s == sock))
        .map(|(row, _)| row)
}

/// Whether the endpoint closed `s` while its client still held the other
/// end: a close sent after the client let go reaches no one.
pub(crate) fn reaches_client(ut: &UserTruth, s: &EndpointSocket) -> bool {
    let Some(row) = s.closed_row else {
        return false;
    };
    s.client_conn
        .and_then(|c| ut.client_socket(c))
        .and_then(|c| c.closed_row)
        .is_none_or(|closed| closed >= row)
}

/// Stretches when the app↔endpoint link was cut or lossy (partition, flap,
/// loss): a close sent then may never arrive.
pub(crate) struct LinkCut(Vec<(Duration, Option<Duration>)>);

impl LinkCut {
    pub(crate) fn from_trace(trace: &[TraceEvent]) -> Self {
        let mut open: BTreeMap<(FaultKind, &str), Duration> = BTreeMap::new();
        let mut spans = Vec::new();
        for e in trace {
            match &e.kind {
                EventKind::FaultStarted { fault, target } if cuts(*fault, target) => {
                    open.entry((*fault, target.as_str())).or_insert(e.at);
                }
                EventKind::FaultEnded { fault, target } if cuts(*fault, target) => {
                    if let Some(start) = open.remove(&(*fault, target.as_str())) {
                        spans.push((start, Some(e.at)));
                    }
                }
                _ => {}
            }
        }
        spans.extend(open.into_values().map(|start| (start, None)));
        LinkCut(spans)
    }

    pub(crate) fn contains(&self, t: Duration) -> bool {
        self.0
            .iter()
            .any(|(from, to)| *from <= t && to.is_none_or(|to| t <= to))
    }
}

fn cuts(fault: FaultKind, target: &str) -> bool {
    matches!(
        fault,
        FaultKind::Partition | FaultKind::Flap | FaultKind::Loss
    ) && target.starts_with("app-wa")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_read_with_tenths_unless_milliseconds_matter() {
        assert_eq!(secs(Duration::from_millis(12_000)), "12.0 s");
        assert_eq!(secs(Duration::from_millis(1_500)), "1.5 s");
        assert_eq!(secs(Duration::from_millis(1_999)), "1.999 s");
        assert_eq!(secs(Duration::from_millis(7)), "0.007 s");
    }

    #[test]
    fn parameters_read_as_whole_seconds() {
        assert_eq!(param(Duration::from_secs(60)), "60 s");
        assert_eq!(param(Duration::from_millis(2_500)), "2.5 s");
    }

    #[test]
    fn ordinals_read_as_english() {
        let got: Vec<String> = [1, 2, 3, 4, 6, 11, 12, 13, 21, 22, 101]
            .into_iter()
            .map(ordinal)
            .collect();
        assert_eq!(
            got,
            ["1st", "2nd", "3rd", "4th", "6th", "11th", "12th", "13th", "21st", "22nd", "101st"]
        );
    }
}
