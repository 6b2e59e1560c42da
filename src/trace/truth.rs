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
    /// When the user was really connected: an endpoint socket authenticated
    /// with credentials, open on both sides. Sorted, not overlapping.
    pub connected: Vec<Interval>,
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

    pub fn client_socket(&self, conn: u64) -> Option<&ClientSocket> {
        self.client_sockets.iter().find(|s| s.conn == conn)
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
        // Latest client socket per local address, to match endpoint peers.
        let mut by_local: BTreeMap<String, (UserId, u64)> = BTreeMap::new();

        for (row, e) in trace.iter().enumerate() {
            match &e.kind {
                EventKind::SocketOpened { conn, local } => {
                    let user = e.user().to_string();
                    by_local.insert(local.clone(), (user.clone(), *conn));
                    users
                        .entry(user)
                        .or_default()
                        .client_sockets
                        .push(ClientSocket {
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
                    if let Some(s) = users
                        .get_mut(e.user())
                        .and_then(|u| u.client_sockets.iter_mut().find(|s| s.conn == *conn))
                    {
                        s.closed.get_or_insert(e.at);
                        s.closed_row.get_or_insert(row);
                    }
                }
                EventKind::EndpointAccepted { sock, peer } => {
                    let client = by_local.get(peer).cloned();
                    endpoint.insert(
                        *sock,
                        (
                            client.as_ref().map(|(u, _)| u.clone()),
                            EndpointSocket {
                                sock: *sock,
                                peer: peer.clone(),
                                accepted: e.at,
                                authenticated: None,
                                closed: None,
                                client_conn: client.map(|(_, c)| c),
                                accepted_row: row,
                                closed_row: None,
                            },
                        ),
                    );
                }
                EventKind::EndpointAuthenticated { sock, paired } => {
                    if let Some((user, s)) = endpoint.get_mut(sock) {
                        s.authenticated = Some((e.at, *paired));
                        if e.user.is_some() {
                            *user = e.user.clone();
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

        for (_, (user, s)) in endpoint {
            if let Some(user) = user {
                users.entry(user).or_default().endpoint_sockets.push(s);
            }
        }
        for u in users.values_mut() {
            u.connected = connected_intervals(u);
        }
        Truth { users }
    }

    pub fn user(&self, id: &str) -> Option<&UserTruth> {
        self.users.get(id)
    }
}

fn connected_intervals(u: &UserTruth) -> Vec<Interval> {
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
            let end = match (s.closed.map(|c| c.0), client.closed) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            (end.is_none_or(|e| e > start)).then_some(Interval { start, end })
        })
        .collect();
    spans.sort_by_key(|i| i.start);
    let mut merged: Vec<Interval> = Vec::new();
    for s in spans {
        match merged.last_mut() {
            Some(last) if last.end.is_none_or(|e| s.start <= e) => {
                last.end = match (last.end, s.end) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
            _ => merged.push(s),
        }
    }
    merged
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
}
