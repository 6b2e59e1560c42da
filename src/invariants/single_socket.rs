//! `single_socket`: one client-side socket per user at a time, and no 440
//! on a socket its own client still holds.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::trace::truth::{ClientSocket, EndpointSocket, Truth};
use crate::trace::{EventKind, TraceEvent};

use super::common::{client_sockets_by_conn, secs, violation};
use super::{Invariant, Params, RunContext, Violation};

/// (a) A user never has two client-side sockets open at once, across all app
/// hosts: one violation per overlap (a stretch with two or more open), at
/// the moment the second opens. (b) An `EndpointReplaced` that is not a
/// scripted takeover, landing on a socket whose client has not closed it,
/// is a self-inflicted conflict, unless the socket that replaced it had
/// already been closed by its own client (a zombie: the client's close was
/// lost to a partition and the endpoint answered its hello late; the
/// client never held two sockets, so no supervisor could have avoided it).
pub struct SingleSocket;

const ID: &str = "single_socket";

impl Invariant for SingleSocket {
    fn id(&self) -> &'static str {
        ID
    }

    fn meaning(&self) -> &'static str {
        "a user never has two sockets open at once on the client side (across all app instances), \
         and no 440 lands on a socket that its client still holds"
    }

    fn check(
        &self,
        trace: &[TraceEvent],
        truth: &Truth,
        ctx: &RunContext,
        _params: &Params,
    ) -> Vec<Violation> {
        let mut out = Vec::new();
        for (user, ut) in &truth.users {
            out.extend(overlaps(trace, user, &ut.client_sockets, ctx.run_end));
        }
        out.extend(self_inflicted_conflicts(trace, truth));
        out
    }
}

fn describe(s: &ClientSocket) -> String {
    format!("conn {} on {}", s.conn, s.host)
}

/// One violation per stretch of time with two or more client sockets open.
fn overlaps(
    trace: &[TraceEvent],
    user: &str,
    sockets: &[ClientSocket],
    run_end: Duration,
) -> Vec<Violation> {
    // (row, socket index, opens?)
    let mut steps: Vec<(usize, usize, bool)> = Vec::new();
    for (i, s) in sockets.iter().enumerate() {
        steps.push((s.opened_row, i, true));
        if let Some(row) = s.closed_row {
            steps.push((row, i, false));
        }
    }
    steps.sort_unstable();

    struct Stretch {
        at: Duration,
        second: usize,
        already_open: Vec<usize>,
        peak: usize,
        end: Option<Duration>,
    }
    let mut stretches: Vec<Stretch> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut current: Option<Stretch> = None;
    for (row, i, opens) in steps {
        if opens {
            if !open.is_empty() && current.is_none() {
                current = Some(Stretch {
                    at: trace[row].at,
                    second: i,
                    already_open: open.clone(),
                    peak: 0,
                    end: None,
                });
            }
            open.push(i);
            if let Some(c) = current.as_mut() {
                c.peak = c.peak.max(open.len());
            }
        } else {
            open.retain(|o| *o != i);
            if open.len() < 2 {
                if let Some(mut c) = current.take() {
                    c.end = Some(trace[row].at);
                    stretches.push(c);
                }
            }
        }
    }
    stretches.extend(current);

    stretches
        .into_iter()
        .map(|s| {
            let others: Vec<String> = s.already_open.iter().map(|o| describe(&sockets[*o])).collect();
            let verb = if others.len() == 1 { "was" } else { "were" };
            let lasted = match s.end {
                Some(end) => format!("for {}", secs(end.saturating_sub(s.at))),
                None => format!(
                    "until the run ended ({})",
                    secs(run_end.saturating_sub(s.at))
                ),
            };
            let message = format!(
                "{} opened while {} {verb} still open: {} client sockets at once {lasted}; the limit is 1",
                describe(&sockets[s.second]),
                others.join(" and "),
                s.peak,
            );
            let mut rows: Vec<usize> = s.already_open.iter().map(|o| sockets[*o].opened_row).collect();
            rows.push(sockets[s.second].opened_row);
            violation(ID, s.at, user, message, trace, &rows)
        })
        .collect()
}

/// 440s that the endpoint sent because the supervisor itself authenticated
/// a second socket while still holding the first.
fn self_inflicted_conflicts(trace: &[TraceEvent], truth: &Truth) -> Vec<Violation> {
    let mut by_sock: BTreeMap<u64, (&str, &EndpointSocket)> = BTreeMap::new();
    for (user, ut) in &truth.users {
        for s in &ut.endpoint_sockets {
            by_sock.insert(s.sock, (user.as_str(), s));
        }
    }
    let clients = client_sockets_by_conn(truth);
    let client_of = |sock: u64| -> Option<(&str, &ClientSocket)> {
        let (user, es) = by_sock.get(&sock)?;
        let conn = es.client_conn?;
        clients
            .get(&conn)
            .filter(|(owner, _)| owner == user)
            .map(|(_, c)| (*user, *c))
    };

    let mut out = Vec::new();
    for (row, e) in trace.iter().enumerate() {
        let EventKind::EndpointReplaced {
            old_sock,
            new_sock,
            by_fault: false,
        } = &e.kind
        else {
            continue;
        };
        let Some((user, old)) = client_of(*old_sock) else {
            continue;
        };
        if old.closed_row.is_some_and(|closed| closed < row) {
            continue;
        }
        let new = new_sock.and_then(client_of).map(|(_, c)| c);
        // The winner is a socket its client had already closed (its close
        // was lost to a partition, its hello answered late): the client
        // never held two sockets, the network replayed a dead one.
        if new.is_some_and(|n| n.closed_row.is_some_and(|closed| closed < row)) {
            continue;
        }
        let mut rows = vec![row, old.opened_row];
        let by = match new {
            Some(new) => {
                rows.push(new.opened_row);
                format!(" with its own {}", describe(new))
            }
            None => String::new(),
        };
        let message = format!(
            "a 440 replaced socket {old_sock} ({}) while its client still held it: a self-inflicted conflict{by}",
            describe(old),
        );
        out.push(violation(ID, e.at, user, message, trace, &rows));
    }
    out
}
