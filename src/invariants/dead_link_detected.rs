//! `dead_link_detected`: a connection whose far end went silent is closed
//! within the dead-link deadline.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::trace::truth::Truth;
use crate::trace::{EventKind, TraceEvent};

use super::common::{param, secs, violation};
use super::{Invariant, Params, RunContext, Violation};

/// Judged on the dialer wrapper's records: for every client socket the
/// endpoint authenticated with credentials (a live connection, where
/// keep-alives run), `socket_last_received` says when it last received
/// bytes. The client must let go of it (`socket_closed`) within
/// `keepalive_interval` + `dead_link_grace` + one `tick` of that moment
/// (30 s + 5 s + 10 ms by default): a healthy endpoint answers every ping,
/// so that much silence means the link is dead, and a supervisor that keeps
/// the socket shows a connected user who receives nothing. The wrapper
/// also records every silence over 35 s that ended with bytes arriving on
/// a socket the client still held (a dead link never closed, then revived).
/// A socket still open when the run ends is judged at the run's end. One
/// violation per socket, at its first missed deadline.
pub struct DeadLinkDetected;

const ID: &str = "dead_link_detected";

impl Invariant for DeadLinkDetected {
    fn id(&self) -> &'static str {
        ID
    }

    fn meaning(&self) -> &'static str {
        "a connected socket that has received nothing for keep-alive interval + 5 s (+ one tick) \
         is closed by the client"
    }

    fn check(
        &self,
        trace: &[TraceEvent],
        truth: &Truth,
        ctx: &RunContext,
        params: &Params,
    ) -> Vec<Violation> {
        // Per conn, every recorded silence: (last receive, row). A row
        // stamped later than the socket's close is its final one; earlier
        // rows mark a silence that ended while the client still held it.
        let mut silences: BTreeMap<u64, Vec<(Duration, usize)>> = BTreeMap::new();
        for (row, e) in trace.iter().enumerate() {
            if let EventKind::SocketLastReceived { conn, at_ms } = e.kind {
                silences
                    .entry(conn)
                    .or_default()
                    .push((Duration::from_millis(at_ms), row));
            }
        }
        let limit = params.keepalive_interval + params.dead_link_grace + params.tick;
        let mut out = Vec::new();
        for (user, ut) in &truth.users {
            for s in &ut.endpoint_sockets {
                let Some((auth_at, true)) = s.authenticated else {
                    continue;
                };
                let Some(client) = s.client_conn.and_then(|c| ut.client_socket(c)) else {
                    continue;
                };
                let let_go = client.closed.unwrap_or(ctx.run_end);
                // The first silence the client outlasted the deadline of:
                // (last receive, its row, when the client was seen holding on).
                let late = silences
                    .get(&client.conn)
                    .into_iter()
                    .flatten()
                    .filter_map(|&(rx, row)| {
                        let rx = rx.max(auth_at);
                        let held_until = trace[row].at.min(let_go);
                        (held_until > rx + limit && rx + limit < ctx.run_end)
                            .then_some((rx, row, held_until))
                    })
                    .next();
                let Some((rx, rx_row, held_until)) = late else {
                    continue;
                };
                let deadline = rx + limit;
                let held = if held_until < let_go {
                    format!(
                        "still held it at {}, when bytes came again",
                        secs(held_until)
                    )
                } else {
                    match client.closed {
                        Some(t) => format!("held it until {}", secs(t)),
                        None => "still held it when the run ended".to_string(),
                    }
                };
                let message = format!(
                    "conn {} on {} last received at {}; the client {held}, past the dead-link \
                     deadline of {} (keep-alive {} + grace {} + tick {})",
                    client.conn,
                    client.host,
                    secs(rx),
                    secs(deadline),
                    param(params.keepalive_interval),
                    param(params.dead_link_grace),
                    secs(params.tick),
                );
                let mut evidence = vec![client.opened_row, rx_row];
                evidence.extend(client.closed_row);
                out.push(violation(ID, deadline, user, message, trace, &evidence));
            }
        }
        out
    }
}
