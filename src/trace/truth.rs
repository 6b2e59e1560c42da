//! Ground truth derived from the harness's own rows of a trace: which
//! sockets each user had, on which side, and when it was really connected.
//!
//! Only rows written by the transport wrapper and the endpoint count here;
//! the supervisor's own account never enters.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{EventKind, TraceEvent, UserId};

/// A stretch of virtual time; `end` is `None` when it lasted to the run's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub start: Duration,
    pub end: Option<Duration>,
}

impl Interval {
    pub fn end_or(&self, run_end: Duration) -> Duration {
        self.end.unwrap_or(run_end)
    }

    pub fn contains(&self, t: Duration) -> bool {
        self.start <= t && self.end.is_none_or(|e| t < e)
    }
}

/// A stream the supervisor opened, as the transport wrapper saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientSocket {
    pub conn: u64,
    /// App host that opened it.
    pub host: String,
    pub local: String,
    pub opened: Duration,
    pub closed: Option<Duration>,
    /// Index in the trace of the `socket_opened` row.
    pub opened_row: usize,
    pub closed_row: Option<usize>,
}

/// A socket the endpoint accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointSocket {
    pub sock: u64,
    pub peer: String,
    pub accepted: Duration,
    /// When hello was accepted, and whether with valid credentials.
    pub authenticated: Option<(Duration, bool)>,
    /// When it closed, with the stream_error code sent (if any).
    pub closed: Option<(Duration, Option<u16>)>,
    /// The client socket on the other end, matched by address.
    pub client_conn: Option<u64>,
    pub accepted_row: usize,
    pub closed_row: Option<usize>,
}

/// Everything the harness saw of one user.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserTruth {
    pub client_sockets: Vec<ClientSocket>,
    pub endpoint_sockets: Vec<EndpointSocket>,
    /// When the user was really connected: exactly one socket the endpoint
    /// authenticated with credentials, open on both sides, and no other
    /// socket of the user open client-side beside it. Two sockets at once are
    /// a conflict (holders fighting over the session), not uptime. One
    /// interval per socket: a hand-over from one socket to the next ends an
    /// interval and starts another, so a ping-pong never reads as one long
    /// connection. Sorted, not overlapping (intervals may touch).
    pub connected: Vec<Interval>,
    /// When an authenticated socket was open on both sides while another
    /// socket of the user was open client-side too. Sorted, merged.
    pub conflicts: Vec<Interval>,
    /// The same from the client's side alone: an authenticated socket the
    /// client still holds, whether or not the endpoint's end is gone (a
    /// close the network lost is news the client cannot have).
    pub client_connected: Vec<Interval>,
}

impl UserTruth {
    /// Client sockets open at `t`.
    pub fn open_client_sockets_at(&self, t: Duration) -> usize {
        self.client_sockets
            .iter()
            .filter(|s| s.opened <= t && s.closed.is_none_or(|c| t < c))
            .count()
    }

    pub fn is_connected_at(&self, t: Duration) -> bool {
        self.connected.iter().any(|i| i.contains(t))
    }

    /// Total connected time within `[0, run_end)`.
    pub fn connected_time(&self, run_end: Duration) -> Duration {
        self.connected
            .iter()
            .map(|i| i.end_or(run_end).min(run_end).saturating_sub(i.start))
            .sum()
    }

    /// The client socket with id `conn` (ids grow in opening order, so the
    /// list is sorted by them).
    pub fn client_socket(&self, conn: u64) -> Option<&ClientSocket> {
        self.client_sockets
            .binary_search_by_key(&conn, |s| s.conn)
            .ok()
            .map(|i| &self.client_sockets[i])
    }
}

/// Ground truth of a whole run, per user.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Truth {
    pub users: BTreeMap<UserId, UserTruth>,
}

impl Truth {
    pub fn from_trace(trace: &[TraceEvent]) -> Truth {
        let mut users: BTreeMap<UserId, UserTruth> = BTreeMap::new();
        // Endpoint rows name the user only from hello on; keep sockets by id.
        let mut endpoint: BTreeMap<u64, (Option<UserId>, EndpointSocket)> = BTreeMap::new();
        // Where each client conn sits: its user and index in that user's list.
        let mut by_conn: BTreeMap<u64, (UserId, usize)> = BTreeMap::new();

        for (row, e) in trace.iter().enumerate() {
            match &e.kind {
                EventKind::SocketOpened { conn, local } => {
                    let user = e.user().to_string();
                    let sockets = &mut users.entry(user.clone()).or_default().client_sockets;
                    by_conn.insert(*conn, (user, sockets.len()));
                    sockets.push(ClientSocket {
                        conn: *conn,
                        host: e.host.clone(),
                        local: local.clone(),
                        opened: e.at,
                        closed: None,
                        opened_row: row,
                        closed_row: None,
                    });
                }
                EventKind::SocketClosed { conn } => {
                    if let Some(s) = by_conn
                        .get(conn)
                        .and_then(|(user, i)| users.get_mut(user)?.client_sockets.get_mut(*i))
                    {
                        s.closed.get_or_insert(e.at);
                        s.closed_row.get_or_insert(row);
                    }
                }
                EventKind::EndpointAccepted { sock, peer } => {
                    let s = EndpointSocket {
                        sock: *sock,
                        peer: peer.clone(),
                        accepted: e.at,
                        authenticated: None,
                        closed: None,
                        client_conn: None,
                        accepted_row: row,
                        closed_row: None,
                    };
                    endpoint.insert(*sock, (None, s));
                }
                EventKind::EndpointAuthenticated { sock, paired } => {
                    if let Some((user, s)) = endpoint.get_mut(sock) {
                        s.authenticated = Some((e.at, *paired));
                        if e.user.is_some() {
                            user.clone_from(&e.user);
                        }
                    }
                }
                EventKind::EndpointClosed { sock, code, .. } => {
                    if let Some((user, s)) = endpoint.get_mut(sock) {
                        if s.closed.is_none() {
                            s.closed = Some((e.at, *code));
                            s.closed_row = Some(row);
                        }
                        if user.is_none() {
                            user.clone_from(&e.user);
                        }
                    }
                }
                _ => {}
            }
        }

        let ends = ClientEnds::new(&users);
        let matched: Vec<(UserId, EndpointSocket)> = endpoint
            .into_values()
            .filter_map(|(user, mut s)| {
                // The two ends of one TCP stream share an address; ports
                // come round again, so the nearest in time is the one.
                let client = ends.nearest(&s.peer, s.accepted);
                s.client_conn = client.map(|(_, conn)| conn);
                let user = user.or_else(|| client.map(|(u, _)| u.to_string()))?;
                Some((user, s))
            })
            .collect();
        for (user, s) in matched {
            users.entry(user).or_default().endpoint_sockets.push(s);
        }
        for u in users.values_mut() {
            let (connected, conflicts) = exclusive_spans(u);
            u.connected = connected;
            u.conflicts = conflicts;
            u.client_connected = merged(&authenticated_spans(u, Side::Client));
        }
        Truth { users }
    }

    pub fn user(&self, id: &str) -> Option<&UserTruth> {
        self.users.get(id)
    }
}

/// Client sockets by local address, in opening order.
struct ClientEnds<'a> {
    by_local: BTreeMap<&'a str, Vec<(Duration, &'a str, u64)>>,
}

impl<'a> ClientEnds<'a> {
    fn new(users: &'a BTreeMap<UserId, UserTruth>) -> Self {
        let mut by_local: BTreeMap<&str, Vec<(Duration, &str, u64)>> = BTreeMap::new();
        for (user, u) in users {
            for s in &u.client_sockets {
                by_local
                    .entry(&s.local)
                    .or_default()
                    .push((s.opened, user, s.conn));
            }
        }
        for v in by_local.values_mut() {
            v.sort();
        }
        ClientEnds { by_local }
    }

    /// The client socket at `peer` opened nearest to `at`: (user, conn).
    fn nearest(&self, peer: &str, at: Duration) -> Option<(&'a str, u64)> {
        let list = self.by_local.get(peer)?;
        let i = list.partition_point(|(t, _, _)| *t < at);
        let gap = |j: usize| list.get(j).map(|(t, _, _)| t.abs_diff(at));
        let best = match (
            i.checked_sub(1).and_then(|j| gap(j).map(|g| (g, j))),
            gap(i).map(|g| (g, i)),
        ) {
            (Some(a), Some(b)) => {
                if b.0 <= a.0 {
                    b.1
                } else {
                    a.1
                }
            }
            (Some(a), None) => a.1,
            (None, Some(b)) => b.1,
            (None, None) => return None,
        };
        list.get(best).map(|(_, user, conn)| (*user, *conn))
    }
}

/// Whose end of a stream bounds a connection.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    /// Either end closing ends it.
    Both,
    /// Only the client letting go ends it.
    Client,
}

/// One span per authenticated socket: from authentication (or the client's
/// open, if later) until the side(s) that bound it close. Sorted by start.
fn authenticated_spans(u: &UserTruth, side: Side) -> Vec<Interval> {
    let mut spans: Vec<Interval> = u
        .endpoint_sockets
        .iter()
        .filter_map(|s| {
            let (auth_at, paired) = s.authenticated?;
            if !paired {
                return None;
            }
            let client = u.client_socket(s.client_conn?)?;
            let start = auth_at.max(client.opened);
            let endpoint_closed = s.closed.map(|c| c.0).filter(|_| side == Side::Both);
            let end = match (endpoint_closed, client.closed) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            (end.is_none_or(|e| e > start)).then_some(Interval { start, end })
        })
        .collect();
    spans.sort_by_key(|i| i.start);
    spans
}

/// Overlapping or touching intervals merged into one, sorted.
fn merged(spans: &[Interval]) -> Vec<Interval> {
    let mut out: Vec<Interval> = Vec::new();
    for s in spans {
        match out.last_mut() {
            Some(last) if last.end.is_none_or(|e| s.start <= e) => {
                last.end = match (last.end, s.end) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
            _ => out.push(*s),
        }
    }
    out
}

/// The user's (connected, conflict) stretches: a sweep over the
/// authenticated spans (both sides) and the client-side sockets. Connected
/// where exactly one authenticated span is open and exactly one client
/// socket; a new interval each time the socket changes. Conflict where an
/// authenticated span is open beside a second client socket.
fn exclusive_spans(u: &UserTruth) -> (Vec<Interval>, Vec<Interval>) {
    let spans = authenticated_spans(u, Side::Both);
    // (time, order, delta, what): closes (order 0) before opens (order 1)
    // at one instant, so a hand-over in one millisecond is no overlap.
    enum What {
        Span(usize),
        Client,
    }
    let mut edges: Vec<(Duration, u8, What)> = Vec::new();
    for (k, s) in spans.iter().enumerate() {
        edges.push((s.start, 1, What::Span(k)));
        if let Some(e) = s.end {
            edges.push((e, 0, What::Span(k)));
        }
    }
    for c in &u.client_sockets {
        edges.push((c.opened, 1, What::Client));
        if let Some(e) = c.closed {
            edges.push((e, 0, What::Client));
        }
    }
    edges.sort_by_key(|(t, order, _)| (*t, *order));

    let mut active: std::collections::BTreeSet<usize> = std::collections::BTreeSet::new();
    let mut clients: usize = 0;
    let mut connected: Vec<Interval> = Vec::new();
    let mut conflicts: Vec<Interval> = Vec::new();
    // The socket the current connected interval is on, and whether a
    // conflict is open.
    let mut on: Option<usize> = None;
    let mut in_conflict = false;
    let mut i = 0;
    while i < edges.len() {
        let t = edges[i].0;
        while i < edges.len() && edges[i].0 == t {
            let opening = edges[i].1 == 1;
            match edges[i].2 {
                What::Span(k) => {
                    if opening {
                        active.insert(k);
                    } else {
                        active.remove(&k);
                    }
                }
                What::Client => {
                    if opening {
                        clients += 1;
                    } else {
                        clients = clients.saturating_sub(1);
                    }
                }
            }
            i += 1;
        }
        let now_on = match (active.len(), clients) {
            (1, 1) => active.first().copied(),
            _ => None,
        };
        if now_on != on {
            if on.is_some() {
                if let Some(last) = connected.last_mut() {
                    last.end = Some(t);
                }
            }
            if now_on.is_some() {
                connected.push(Interval {
                    start: t,
                    end: None,
                });
            }
            on = now_on;
        }
        let now_conflict = !active.is_empty() && clients >= 2;
        if now_conflict != in_conflict {
            if now_conflict {
                conflicts.push(Interval {
                    start: t,
                    end: None,
                });
            } else if let Some(last) = conflicts.last_mut() {
                last.end = Some(t);
            }
            in_conflict = now_conflict;
        }
    }
    (connected, conflicts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ms: u64, host: &str, user: Option<&str>, kind: EventKind) -> TraceEvent {
        TraceEvent {
            at: Duration::from_millis(ms),
            host: host.into(),
            user: user.map(Into::into),
            kind,
        }
    }

    #[test]
    fn a_user_is_connected_from_authentication_until_either_side_closes() {
        let trace = vec![
            ev(
                100,
                "app-1",
                Some("alice"),
                EventKind::SocketOpened {
                    conn: 1,
                    local: "10.0.0.2:4000".into(),
                },
            ),
            ev(
                110,
                "wa",
                None,
                EventKind::EndpointAccepted {
                    sock: 1,
                    peer: "10.0.0.2:4000".into(),
                },
            ),
            ev(
                120,
                "wa",
                Some("alice"),
                EventKind::EndpointAuthenticated {
                    sock: 1,
                    paired: true,
                },
            ),
            ev(
                5000,
                "wa",
                Some("alice"),
                EventKind::EndpointClosed {
                    sock: 1,
                    code: Some(440),
                    reason: "x".into(),
                },
            ),
            ev(
                5010,
                "app-1",
                Some("alice"),
                EventKind::SocketClosed { conn: 1 },
            ),
        ];
        let truth = Truth::from_trace(&trace);
        let alice = truth.user("alice").unwrap();
        assert_eq!(
            alice.connected,
            vec![Interval {
                start: Duration::from_millis(120),
                end: Some(Duration::from_millis(5000))
            }]
        );
        assert_eq!(alice.endpoint_sockets[0].client_conn, Some(1));
        assert_eq!(alice.open_client_sockets_at(Duration::from_millis(5005)), 1);
        assert_eq!(alice.open_client_sockets_at(Duration::from_millis(5010)), 0);
    }

    #[test]
    fn a_qr_socket_is_not_a_connection() {
        let trace = vec![
            ev(
                0,
                "app-1",
                Some("bob"),
                EventKind::SocketOpened {
                    conn: 1,
                    local: "a".into(),
                },
            ),
            ev(
                0,
                "wa",
                None,
                EventKind::EndpointAccepted {
                    sock: 1,
                    peer: "a".into(),
                },
            ),
            ev(
                0,
                "wa",
                Some("bob"),
                EventKind::EndpointAuthenticated {
                    sock: 1,
                    paired: false,
                },
            ),
        ];
        assert!(Truth::from_trace(&trace)
            .user("bob")
            .unwrap()
            .connected
            .is_empty());
    }

    /// Alice's trace with two sockets: conn 1 authenticated at 100 ms, conn 2
    /// opened at `second_open` and authenticated at `second_auth`, replacing
    /// conn 1 (440) then.
    fn hand_over(second_open: u64, second_auth: u64) -> Vec<TraceEvent> {
        let open = |ms, conn: u64, local: &str| {
            ev(
                ms,
                "app-1",
                Some("alice"),
                EventKind::SocketOpened {
                    conn,
                    local: local.into(),
                },
            )
        };
        let accept = |ms, sock: u64, peer: &str| {
            ev(
                ms,
                "wa",
                None,
                EventKind::EndpointAccepted {
                    sock,
                    peer: peer.into(),
                },
            )
        };
        let auth = |ms, sock| {
            ev(
                ms,
                "wa",
                Some("alice"),
                EventKind::EndpointAuthenticated { sock, paired: true },
            )
        };
        vec![
            open(100, 1, "a:1"),
            accept(100, 1, "a:1"),
            auth(100, 1),
            open(second_open, 2, "a:2"),
            accept(second_open, 2, "a:2"),
            auth(second_auth, 2),
            ev(
                second_auth,
                "wa",
                Some("alice"),
                EventKind::EndpointClosed {
                    sock: 1,
                    code: Some(440),
                    reason: "replaced".into(),
                },
            ),
            ev(
                second_auth + 50,
                "app-1",
                Some("alice"),
                EventKind::SocketClosed { conn: 1 },
            ),
        ]
    }

    #[test]
    fn a_hand_over_between_sockets_ends_one_connected_interval_and_starts_another() {
        let truth = Truth::from_trace(&hand_over(5000, 5000));
        let alice = truth.user("alice").unwrap();
        let ms = Duration::from_millis;
        // conn 2 opens at 5000 beside conn 1: no uptime until conn 1 is gone.
        assert_eq!(
            alice.connected,
            vec![
                Interval {
                    start: ms(100),
                    end: Some(ms(5000))
                },
                Interval {
                    start: ms(5050),
                    end: None
                },
            ]
        );
    }

    #[test]
    fn a_second_socket_open_beside_an_authenticated_one_is_a_conflict_not_uptime() {
        let truth = Truth::from_trace(&hand_over(3000, 5000));
        let alice = truth.user("alice").unwrap();
        let ms = Duration::from_millis;
        assert_eq!(
            alice.conflicts,
            vec![Interval {
                start: ms(3000),
                end: Some(ms(5050))
            }]
        );
        assert_eq!(alice.connected_time(ms(10_000)), ms(2900) + ms(4950));
    }
}
