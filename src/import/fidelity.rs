//! `import --check`: does the simulation of an imported scenario do what the
//! log shows the real supervisor did?
//!
//! Minute by minute, it sets the log's attempts, closes by code and most
//! sockets open at once beside the simulation's. The simulation side reads the
//! trace: `attempt_started` rows (the supervisor's attempts, the same thing the
//! log's lines count), `close_handled` rows (the closes the supervisor saw,
//! as its log would print them) and the dialer wrapper's `socket_opened` /
//! `socket_closed` rows (ground truth).
//!
//! **Tolerance.** The loop is reproduced when, over the whole run, the
//! simulation's attempts and its closes of each code the log shows are each
//! within [`TOLERANCE_PERCENT`] % of the log's count, or within
//! [`TOLERANCE_ABSOLUTE`] of it for small counts: the simulation's backoff and
//! handshake times are the preset's, not the service's, so a loop of the
//! same period drifts by a few cycles over a long log. The same tolerance
//! holds for each minute's attempts (the loop runs at the log's rate, not
//! only to the log's total), and the most sockets open at once for a user
//! must be the log's (a preset that adds a second socket is another loop).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use std::time::Duration;

use super::infer::{Inference, LogMinute, Mark};
use crate::trace::{EventKind, TraceEvent};

/// Relative tolerance on totals, in percent.
pub const TOLERANCE_PERCENT: u32 = 25;
/// Absolute tolerance on totals, for small counts.
pub const TOLERANCE_ABSOLUTE: u32 = 3;

/// The comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Fidelity {
    pub log: Vec<LogMinute>,
    pub sim: Vec<LogMinute>,
    /// Totals that are out of tolerance, in words; empty when reproduced.
    pub misses: Vec<String>,
}

impl Fidelity {
    pub fn reproduced(&self) -> bool {
        self.misses.is_empty()
    }
}

/// The simulation's minutes, read from its trace.
pub fn sim_minutes(trace: &[TraceEvent], minutes: usize) -> Vec<LogMinute> {
    sim_minutes_until(trace, minutes, Duration::MAX)
}

/// The simulation's minutes up to scenario time `end` (the log's last
/// line: what came after it, the log does not show).
pub fn sim_minutes_until(trace: &[TraceEvent], minutes: usize, end: Duration) -> Vec<LogMinute> {
    let mut rows = vec![LogMinute::default(); minutes];
    let mut open: BTreeMap<String, u32> = BTreeMap::new();
    let mut owner: BTreeMap<u64, String> = BTreeMap::new();
    for e in trace.iter().take_while(|e| e.at <= end) {
        let Ok(m) = usize::try_from(e.at.as_secs() / 60) else {
            continue;
        };
        let Some(row) = rows.get_mut(m) else { continue };
        match &e.kind {
            EventKind::AttemptStarted { .. } => row.attempts += 1,
            EventKind::CloseHandled { code, .. } => *row.closes.entry(*code).or_insert(0) += 1,
            EventKind::SocketOpened { conn, .. } => {
                let user = e.user().to_owned();
                *open.entry(user.clone()).or_insert(0) += 1;
                owner.insert(*conn, user);
            }
            EventKind::SocketClosed { conn } => {
                if let Some(user) = owner.remove(conn) {
                    if let Some(n) = open.get_mut(&user) {
                        *n = n.saturating_sub(1);
                    }
                }
            }
            _ => {}
        }
        let now = open.values().copied().max().unwrap_or(0);
        row.max_sockets = row.max_sockets.max(now);
    }
    rows
}

fn within(log: u32, sim: u32) -> bool {
    let diff = log.abs_diff(sim);
    diff <= TOLERANCE_ABSOLUTE
        || u64::from(diff) * 100 <= u64::from(log) * u64::from(TOLERANCE_PERCENT)
}

/// The simulation's closes and socket counts, as the log's [`Mark`]s.
pub fn sim_marks(trace: &[TraceEvent]) -> Vec<Mark> {
    let mut marks = Vec::new();
    let mut open: BTreeMap<String, u32> = BTreeMap::new();
    let mut owner: BTreeMap<u64, String> = BTreeMap::new();
    for e in trace {
        match &e.kind {
            EventKind::CloseHandled { code, .. } => marks.push(Mark::Close {
                at: e.at,
                code: *code,
            }),
            EventKind::SocketOpened { conn, .. } => {
                let n = open.entry(e.user().to_owned()).or_insert(0);
                *n += 1;
                owner.insert(*conn, e.user().to_owned());
                marks.push(Mark::Sockets { at: e.at, open: *n });
            }
            EventKind::SocketClosed { conn } => {
                if let Some(user) = owner.remove(conn) {
                    let n = open.entry(user).or_insert(0);
                    *n = n.saturating_sub(1);
                    marks.push(Mark::Sockets { at: e.at, open: *n });
                }
            }
            _ => {}
        }
    }
    marks
}

/// Compares the log with a simulation's trace, up to the log's last line:
/// a log excerpt that stops in the middle of a loop says nothing of what
/// came after it (enudler/nudlers#105's ends 40 s into its second minute).
/// The simulation is compared until [`END_GRACE`] after that line, room for
/// its last reply to land a moment after the log's.
pub fn compare_imported(inference: &Inference, trace: &[TraceEvent]) -> Fidelity {
    compare_until(&inference.minutes, trace, inference.log_end + END_GRACE)
}

/// How long after the log's last line the simulation is still compared: a
/// loop at the log's period runs a few seconds ahead or behind over a long
/// log (the reference's last 440 comes 1.6 s after the log's).
pub const END_GRACE: Duration = Duration::from_secs(5);

/// Compares the log with a simulation's whole trace.
pub fn compare(log: &[LogMinute], trace: &[TraceEvent]) -> Fidelity {
    compare_until(log, trace, Duration::MAX)
}

/// Compares the log with a simulation's trace up to scenario time `end`.
pub fn compare_until(log: &[LogMinute], trace: &[TraceEvent], end: Duration) -> Fidelity {
    let sim = sim_minutes_until(trace, log.len(), end);
    let total = |rows: &[LogMinute]| rows.iter().map(|r| r.attempts).sum::<u32>();
    let closes = |rows: &[LogMinute]| {
        let mut all: BTreeMap<u16, u32> = BTreeMap::new();
        for r in rows {
            for (code, n) in &r.closes {
                *all.entry(*code).or_insert(0) += n;
            }
        }
        all
    };
    let mut misses = Vec::new();
    let (la, sa) = (total(log), total(&sim));
    if !within(la, sa) {
        misses.push(format!("attempts: log {la}, simulation {sa}"));
    }
    for (m, (l, s)) in log.iter().zip(&sim).enumerate() {
        if !within(l.attempts, s.attempts) {
            misses.push(format!(
                "attempts in minute {m}: log {}, simulation {}",
                l.attempts, s.attempts
            ));
        }
    }
    let most = |rows: &[LogMinute]| rows.iter().map(|r| r.max_sockets).max().unwrap_or(0);
    let (ls, ss) = (most(log), most(&sim));
    if ls != ss {
        misses.push(format!(
            "most sockets open at once: log {ls}, simulation {ss}"
        ));
    }
    let (lc, sc) = (closes(log), closes(&sim));
    for (code, n) in &lc {
        let s = sc.get(code).copied().unwrap_or(0);
        if !within(*n, s) {
            misses.push(format!("closes with {code}: log {n}, simulation {s}"));
        }
    }
    Fidelity {
        log: log.to_vec(),
        sim,
        misses,
    }
}

fn closes_cell(closes: &BTreeMap<u16, u32>) -> String {
    if closes.is_empty() {
        return "-".into();
    }
    closes
        .iter()
        .map(|(c, n)| format!("{c}×{n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The side-by-side table, one row per minute (markdown, readable as text).
pub fn table(f: &Fidelity) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| minute | attempts (log / sim) | closes by code (log / sim) | sockets open (log / sim) |"
    );
    let _ = writeln!(out, "|---:|---:|---|---:|");
    for (m, (l, s)) in f.log.iter().zip(&f.sim).enumerate() {
        let _ = writeln!(
            out,
            "| {m} | {} / {} | {} / {} | {} / {} |",
            l.attempts,
            s.attempts,
            closes_cell(&l.closes),
            closes_cell(&s.closes),
            l.max_sockets,
            s.max_sockets
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_within_a_quarter_or_three_are_reproduced() {
        assert!(within(100, 76));
        assert!(!within(100, 74));
        assert!(within(2, 5));
        assert!(!within(2, 6));
    }
}
