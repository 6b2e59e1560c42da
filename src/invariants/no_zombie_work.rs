//! `no_zombie_work`: nothing acts for a session or socket that is gone.

use std::collections::{BTreeMap, BTreeSet};

use crate::trace::truth::Truth;
use crate::trace::{EventKind, TraceEvent};

use super::common::{secs, violation};
use super::{Invariant, Params, RunContext, Violation};

/// (a) A `KeepAliveSent{session}` or `AttemptStarted{session}` on host H
/// after `SessionEnded{session}` on H: one violation per session, at its
/// first such act. Session ids are scoped to one life of a host: a crash or
/// a (re)start of H forgets the sessions that ended before. (b) A
/// `KeepAliveSent{conn}` after that conn's client-side `SocketClosed`: one
/// violation per conn, unless its first such keep-alive was already
/// reported under (a).
///
/// (c), the ground truth: the harness samples every app host every 10 s
/// (`host_work_sampled`: the live tasks of the host's tokio runtime, the
/// HTTP connections its listener holds, the streams its dialer holds). The
/// supervisor's own tasks (live tasks minus HTTP connections) may be at most
/// `work_fixed_tasks` (2: the auto-reconnector and a task in its last poll),
/// plus `work_tasks_per_user` (1: a backoff timer or a dial in flight) per
/// user of the run, plus one per open socket. A host over that budget in two
/// consecutive samples of one life (a crash or restart starts a new one) is
/// one violation, at the second sample, with the peak: work left behind by
/// closed or replaced sessions, which grows with every reconnect whether or
/// not the supervisor writes a row for it.
pub struct NoZombieWork;

const ID: &str = "no_zombie_work";

impl Invariant for NoZombieWork {
    fn id(&self) -> &'static str {
        ID
    }

    fn meaning(&self) -> &'static str {
        "no keep-alive, timer or reconnect acts for a session that was closed or replaced"
    }

    fn check(
        &self,
        trace: &[TraceEvent],
        truth: &Truth,
        ctx: &RunContext,
        params: &Params,
    ) -> Vec<Violation> {
        let mut out = task_budget(trace, ctx, params);
        out.extend(acts_after_end(trace, truth));
        out
    }
}

/// (c): the supervisor's live tasks per host against the budget.
fn task_budget(trace: &[TraceEvent], ctx: &RunContext, params: &Params) -> Vec<Violation> {
    struct Life {
        /// The previous sample's row, if it was over budget.
        over: Option<usize>,
        reported: bool,
        peak: Option<(u64, u64, usize)>,
        first: Option<(usize, usize)>,
    }
    let users = ctx.users.len() as u64;
    let mut lives: BTreeMap<&str, Life> = BTreeMap::new();
    let mut found: Vec<(&str, (usize, usize))> = Vec::new();
    let mut peaks: BTreeMap<(&str, usize), (u64, u64, usize)> = BTreeMap::new();
    for (row, e) in trace.iter().enumerate() {
        match &e.kind {
            EventKind::InstanceCrashed { instance } | EventKind::InstanceStarted { instance } => {
                lives.remove(instance.as_str());
            }
            EventKind::HostWorkSampled {
                alive_tasks,
                http_connections,
                open_sockets,
            } => {
                let own = alive_tasks.saturating_sub(*http_connections);
                let budget =
                    params.work_fixed_tasks + params.work_tasks_per_user * users + open_sockets;
                let life = lives.entry(e.host.as_str()).or_insert(Life {
                    over: None,
                    reported: false,
                    peak: None,
                    first: None,
                });
                if own > budget {
                    if let (Some(prev), false) = (life.over, life.reported) {
                        life.reported = true;
                        life.first = Some((prev, row));
                        found.push((e.host.as_str(), (prev, row)));
                    }
                    life.over = Some(row);
                    if life.reported && life.peak.is_none_or(|(n, _, _)| own > n) {
                        life.peak = Some((own, budget, row));
                    }
                } else {
                    life.over = None;
                }
                if let (Some(first), Some(peak)) = (life.first, life.peak) {
                    peaks.insert((e.host.as_str(), first.1), peak);
                }
            }
            _ => {}
        }
    }
    found
        .into_iter()
        .map(|(host, (prev, row))| {
            let e = &trace[row];
            let (own, budget) = match e.kind {
                EventKind::HostWorkSampled {
                    alive_tasks,
                    http_connections,
                    open_sockets,
                } => (
                    alive_tasks.saturating_sub(http_connections),
                    params.work_fixed_tasks + params.work_tasks_per_user * users + open_sockets,
                ),
                _ => (0, 0),
            };
            let mut evidence = vec![prev, row];
            let peak = match peaks.get(&(host, row)) {
                Some(&(n, b, r)) if r != row => {
                    evidence.push(r);
                    format!(
                        "; it reached {n} tasks against {b} at {}",
                        secs(trace[r].at)
                    )
                }
                _ => String::new(),
            };
            let message = format!(
                "{host} ran {own} tasks of its own in two samples running, over its budget of \
                 {budget} ({} fixed + {} per user × {users} + one per open socket){peak}",
                params.work_fixed_tasks, params.work_tasks_per_user,
            );
            violation(ID, e.at, "", message, trace, &evidence)
        })
        .collect()
}

/// (a) and (b): the supervisor's own acts after a session or socket ended.
fn acts_after_end(trace: &[TraceEvent], truth: &Truth) -> Vec<Violation> {
    // conn → row of its client-side close.
    let closed: BTreeMap<u64, usize> = truth
        .users
        .values()
        .flat_map(|u| &u.client_sockets)
        .filter_map(|s| Some((s.conn, s.closed_row?)))
        .collect();

    struct Zombie {
        ended_row: usize,
        first_row: usize,
        acts: usize,
    }
    // (host, session) → row of SessionEnded, for this life of the host.
    let mut ended: BTreeMap<(&str, u64), usize> = BTreeMap::new();
    let mut sessions: Vec<Zombie> = Vec::new();
    let mut session_index: BTreeMap<(&str, u64, usize), usize> = BTreeMap::new();
    let mut conns: Vec<Zombie> = Vec::new();
    let mut conn_index: BTreeMap<u64, usize> = BTreeMap::new();

    for (row, e) in trace.iter().enumerate() {
        let host = e.host.as_str();
        let (session, conn) = match &e.kind {
            EventKind::SessionEnded { session, .. } => {
                ended.entry((host, *session)).or_insert(row);
                continue;
            }
            EventKind::InstanceCrashed { instance } | EventKind::InstanceStarted { instance } => {
                ended.retain(|(h, _), _| *h != instance.as_str());
                continue;
            }
            EventKind::KeepAliveSent { session, conn } => (*session, Some(*conn)),
            EventKind::AttemptStarted { session, .. } => (*session, None),
            _ => continue,
        };
        if let Some(&ended_row) = ended.get(&(host, session)) {
            let i = *session_index
                .entry((host, session, ended_row))
                .or_insert_with(|| {
                    sessions.push(Zombie {
                        ended_row,
                        first_row: row,
                        acts: 0,
                    });
                    sessions.len() - 1
                });
            sessions[i].acts += 1;
        }
        if let Some(conn) = conn {
            if let Some(&closed_row) = closed.get(&conn).filter(|c| **c < row) {
                let i = *conn_index.entry(conn).or_insert_with(|| {
                    conns.push(Zombie {
                        ended_row: closed_row,
                        first_row: row,
                        acts: 0,
                    });
                    conns.len() - 1
                });
                conns[i].acts += 1;
            }
        }
    }

    let in_all = |acts: usize| {
        if acts > 1 {
            format!("; {acts} such acts in all")
        } else {
            String::new()
        }
    };
    let mut out = Vec::new();
    let mut reported: BTreeSet<usize> = BTreeSet::new();
    for z in &sessions {
        let (act, e, end) = (
            &trace[z.first_row],
            &trace[z.first_row].kind,
            &trace[z.ended_row],
        );
        let (what, session) = match e {
            EventKind::KeepAliveSent { session, .. } => ("a keep-alive went out", *session),
            EventKind::AttemptStarted { session, .. } => ("a connection attempt started", *session),
            _ => continue,
        };
        let why = match &end.kind {
            EventKind::SessionEnded { reason, .. } if !reason.is_empty() => {
                format!(" ({reason})")
            }
            _ => String::new(),
        };
        let message = format!(
            "{what} on {} for session {session}, {} after that session ended{why}{}",
            act.host,
            secs(act.at.saturating_sub(end.at)),
            in_all(z.acts),
        );
        reported.insert(z.first_row);
        out.push(violation(
            ID,
            act.at,
            act.user(),
            message,
            trace,
            &[z.ended_row, z.first_row],
        ));
    }
    for z in &conns {
        if reported.contains(&z.first_row) {
            continue;
        }
        let (act, end) = (&trace[z.first_row], &trace[z.ended_row]);
        let EventKind::KeepAliveSent { session, conn } = &act.kind else {
            continue;
        };
        let message = format!(
            "a keep-alive went out on {} over conn {conn} (session {session}), {} after that \
                 socket was closed client-side{}",
            act.host,
            secs(act.at.saturating_sub(end.at)),
            in_all(z.acts),
        );
        out.push(violation(
            ID,
            act.at,
            act.user(),
            message,
            trace,
            &[z.ended_row, z.first_row],
        ));
    }
    out
}
