//! Hand-built traces for the report tests: a one-minute run whose metrics
//! are known exactly, and a generator of long, busy runs (a reconnect loop,
//! flapping, a second instance) for the timeline's legibility and speed.
#![allow(dead_code)]

use std::time::Duration;

use loopguard::invariants::Violation;
use loopguard::report::{RunSummary, Verdict};
use loopguard::trace::{
    AttemptCause, CloseAction, ConnectionState, EventKind, FaultKind, TraceEvent,
};

use ConnectionState::{Connected, Connecting, Disconnected};

/// Builds a trace row by row, keeping socket numbers.
#[derive(Default)]
pub struct Builder {
    pub events: Vec<TraceEvent>,
    next_conn: u64,
    session: u64,
}

/// One socket, seen from both sides.
#[derive(Clone, Copy, Debug)]
pub struct Sock {
    pub conn: u64,
}

impl Builder {
    pub fn push(&mut self, ms: u64, host: &str, user: Option<&str>, kind: EventKind) {
        self.events.push(TraceEvent {
            at: Duration::from_millis(ms),
            host: host.to_string(),
            user: user.map(str::to_string),
            kind,
        });
    }

    pub fn state(
        &mut self,
        ms: u64,
        host: &str,
        user: &str,
        from: ConnectionState,
        to: ConnectionState,
    ) {
        let session = self.session;
        self.push(
            ms,
            host,
            Some(user),
            EventKind::StateChanged {
                session,
                from,
                to,
                reason: String::new(),
            },
        );
    }

    pub fn attempt(&mut self, ms: u64, host: &str, user: &str, cause: AttemptCause) {
        self.session += 1;
        let session = self.session;
        self.push(
            ms,
            host,
            Some(user),
            EventKind::AttemptStarted {
                session,
                cause,
                attempt: 1,
            },
        );
    }

    /// The client opens a socket at `ms`; the endpoint accepts it and, when
    /// `auth`, authenticates it as paired at the same millisecond.
    pub fn open(&mut self, ms: u64, host: &str, user: &str, auth: bool) -> Sock {
        self.next_conn += 1;
        let conn = self.next_conn;
        let local = format!("{host}:{conn}");
        self.push(
            ms,
            host,
            Some(user),
            EventKind::SocketOpened {
                conn,
                local: local.clone(),
            },
        );
        self.push(
            ms,
            "wa",
            None,
            EventKind::EndpointAccepted {
                sock: conn,
                peer: local,
            },
        );
        if auth {
            self.push(
                ms,
                "wa",
                Some(user),
                EventKind::EndpointAuthenticated {
                    sock: conn,
                    paired: true,
                },
            );
        }
        Sock { conn }
    }

    /// The endpoint closes the socket with `code`; the client drops it at
    /// the same millisecond.
    pub fn close(&mut self, ms: u64, host: &str, user: &str, s: Sock, code: Option<u16>) {
        self.push(
            ms,
            "wa",
            Some(user),
            EventKind::EndpointClosed {
                sock: s.conn,
                code,
                reason: String::new(),
            },
        );
        if let Some(code) = code {
            let session = self.session;
            self.push(
                ms,
                host,
                Some(user),
                EventKind::CloseHandled {
                    session,
                    conn: s.conn,
                    code,
                    action: CloseAction::Backoff,
                    delay_ms: None,
                },
            );
        }
        self.push(
            ms,
            host,
            Some(user),
            EventKind::SocketClosed { conn: s.conn },
        );
    }

    pub fn fault(&mut self, from_ms: u64, to_ms: Option<u64>, fault: FaultKind, target: &str) {
        self.push(
            from_ms,
            "sim",
            None,
            EventKind::FaultStarted {
                fault,
                target: target.into(),
            },
        );
        if let Some(to) = to_ms {
            self.push(
                to,
                "sim",
                None,
                EventKind::FaultEnded {
                    fault,
                    target: target.into(),
                },
            );
        }
    }

    pub fn finish(mut self) -> Vec<TraceEvent> {
        // Stable: rows of one millisecond keep their order.
        self.events.sort_by_key(|e| e.at);
        self.events
    }
}

pub fn violation(
    ms: u64,
    invariant: &str,
    user: Option<&str>,
    message: &str,
    evidence: Vec<TraceEvent>,
) -> Violation {
    Violation {
        invariant: invariant.into(),
        at: Duration::from_millis(ms),
        user: user.map(Into::into),
        message: message.into(),
        evidence,
    }
}

pub fn summary(
    run: &str,
    scenario: &str,
    preset: &str,
    run_length_ms: u64,
    users: &[&str],
    instances: &[&str],
) -> RunSummary {
    RunSummary {
        run: run.into(),
        scenario: scenario.into(),
        description: String::new(),
        source: format!("scenarios/{scenario}.toml"),
        preset: preset.into(),
        seed: 7,
        run_length_ms,
        faults_end_ms: 0,
        users: users.iter().map(|u| u.to_string()).collect(),
        instances: instances.iter().map(|u| u.to_string()).collect(),
        verdict: Verdict::Pass,
        expected_holds: loopguard::invariants::INVARIANT_IDS
            .iter()
            .map(|s| s.to_string())
            .collect(),
        expected_violations: vec![],
        held: loopguard::invariants::INVARIANT_IDS
            .iter()
            .map(|s| s.to_string())
            .collect(),
        violated: vec![],
        unmet: vec![],
        violation_counts: Default::default(),
        violations: vec![],
        replay: format!("loopguard replay scenarios/{scenario}.toml --preset {preset} --seed 7"),
        trace_events: 0,
        files: None,
    }
}

/// One minute, two users on one instance, every number known:
///
/// - alice: connected 0–20 s, 408 at 20 s, back at 25 s; 440 at 40 s, back
///   at 50 s to the end. Connected 45 s of 60: 75 %. Recoveries 5 s and
///   10 s (median 7.5 s, max 10 s); longest disconnected 10 s. Attempts:
///   startup, backoff, auto.
/// - bob: connected 0–30 s, 401 at 30 s; a backoff attempt at 35 s whose
///   socket the peer leaves at 36 s (no code); never back. 50 %; no
///   recovery, one unrecovered loss; longest disconnected 30 s. Attempts:
///   startup, backoff, status.
/// - faults: partition 18–24 s, unavailable 33–38 s, ping silence from 55 s
///   never ended.
/// - violations: single_socket (alice, 40 s), reconnect_cooldown (alice,
///   49 s), max_attempts (bob, 45 s).
pub fn one_minute() -> (RunSummary, Vec<TraceEvent>) {
    let mut b = Builder::default();
    let h = "app-1";
    b.push(
        0,
        "sim",
        None,
        EventKind::InstanceStarted { instance: h.into() },
    );
    for u in ["alice", "bob"] {
        b.attempt(0, h, u, AttemptCause::Startup);
        b.state(0, h, u, Disconnected, Connecting);
    }
    let a1 = b.open(0, h, "alice", true);
    b.state(0, h, "alice", Connecting, Connected);
    let b1 = b.open(0, h, "bob", true);
    b.state(0, h, "bob", Connecting, Connected);

    b.fault(18_000, Some(24_000), FaultKind::Partition, "app-1<->wa");
    b.close(20_000, h, "alice", a1, Some(408));
    b.state(20_000, h, "alice", Connected, Disconnected);
    b.attempt(24_000, h, "alice", AttemptCause::Backoff);
    b.state(24_000, h, "alice", Disconnected, Connecting);
    let a2 = b.open(25_000, h, "alice", true);
    b.state(25_000, h, "alice", Connecting, Connected);

    b.close(30_000, h, "bob", b1, Some(401));
    b.state(30_000, h, "bob", Connected, Disconnected);
    b.fault(33_000, Some(38_000), FaultKind::Unavailable, "wa");
    b.attempt(35_000, h, "bob", AttemptCause::Backoff);
    b.state(35_000, h, "bob", Disconnected, Connecting);
    let b2 = b.open(35_000, h, "bob", false);
    b.close(36_000, h, "bob", b2, None);
    b.state(36_000, h, "bob", Connecting, Disconnected);

    b.close(40_000, h, "alice", a2, Some(440));
    b.state(40_000, h, "alice", Connected, Disconnected);
    b.attempt(45_000, h, "bob", AttemptCause::Status);
    b.attempt(49_000, h, "alice", AttemptCause::Auto);
    b.state(49_000, h, "alice", Disconnected, Connecting);
    b.open(50_000, h, "alice", true);
    b.state(50_000, h, "alice", Connecting, Connected);
    b.fault(55_000, None, FaultKind::PingSilence, "wa");
    b.push(60_000, "sim", None, EventKind::RunEnded {});
    let trace = b.finish();

    let mut s = summary(
        "one-minute.legacy",
        "one-minute",
        "legacy",
        60_000,
        &["alice", "bob"],
        &["app-1"],
    );
    let ev = |i: usize| trace[i].clone();
    let close_440 = trace
        .iter()
        .position(|e| {
            matches!(
                e.kind,
                EventKind::EndpointClosed {
                    code: Some(440),
                    ..
                }
            )
        })
        .unwrap();
    s.violations = vec![
        violation(
            40_000,
            "single_socket",
            Some("alice"),
            "a 440 landed on a socket its client still held",
            vec![ev(close_440), ev(close_440 + 1)],
        ),
        violation(
            45_000,
            "max_attempts",
            Some("bob"),
            "a sixth backoff attempt came within one episode",
            vec![],
        ),
        violation(
            49_000,
            "reconnect_cooldown",
            Some("alice"),
            "the auto-reconnector attempted 9 s after a 440, within the 60 s cooldown",
            vec![ev(close_440)],
        ),
    ];
    s.verdict = Verdict::Fail;
    s.violated = vec![
        "single_socket".into(),
        "reconnect_cooldown".into(),
        "max_attempts".into(),
    ];
    s.held.retain(|i| !s.violated.contains(i));
    s.unmet = vec!["single_socket was violated but had to hold".into()];
    s.trace_events = trace.len();
    (s, trace)
}

/// A tiny deterministic PRNG for the generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo).max(1)
    }
}

/// A long, busy run: `users` on `app-1`, plus `app-2` started a third of
/// the way in and fighting `app-1` for the first user (a 440 ping-pong)
/// for a while; flapping and a partition; keep-alives and dashboard polls
/// as background rows. With `len_ms` = 24 h this is a few hundred thousand
/// rows.
pub fn busy(len_ms: u64, users: &[&str], seed: u64) -> (RunSummary, Vec<TraceEvent>) {
    let mut r = Rng::new(seed);
    let mut b = Builder::default();
    b.push(
        0,
        "sim",
        None,
        EventKind::InstanceStarted {
            instance: "app-1".into(),
        },
    );
    let app2_at = len_ms / 3;
    b.push(
        app2_at,
        "sim",
        None,
        EventKind::InstanceStarted {
            instance: "app-2".into(),
        },
    );
    let fight = (app2_at, app2_at + len_ms / 8);

    // Faults: flapping windows and one partition.
    let partition = (len_ms * 6 / 10, len_ms * 6 / 10 + len_ms / 40);
    b.fault(
        partition.0,
        Some(partition.1),
        FaultKind::Partition,
        "app-1<->wa",
    );
    let flap = (len_ms / 10, len_ms / 10 + len_ms / 12);
    b.fault(flap.0, Some(flap.1), FaultKind::Flap, "app-1<->wa");
    let unavailable = (len_ms * 8 / 10, len_ms * 8 / 10 + len_ms / 50);
    b.fault(
        unavailable.0,
        Some(unavailable.1),
        FaultKind::Unavailable,
        "wa",
    );
    let silence = (len_ms * 9 / 10, len_ms * 9 / 10 + len_ms / 60);
    b.fault(silence.0, Some(silence.1), FaultKind::PingSilence, "wa");

    let mut violations = Vec::new();
    for (ui, &u) in users.iter().enumerate() {
        let h = "app-1";
        let mut t = r.range(50, 400);
        b.attempt(t, h, u, AttemptCause::Startup);
        b.state(t, h, u, Disconnected, Connecting);
        let mut failures = 0u32;
        let mut replaced: Option<Sock> = None;
        while t < len_ms {
            // Connect; the endpoint replaces app-2's socket, if any.
            t += r.range(150, 900);
            let s = b.open(t, h, u, true);
            b.state(t, h, u, Connecting, Connected);
            if let Some(s2) = replaced.take() {
                b.close(t + 5, "app-2", u, s2, Some(440));
                b.state(t + 5, "app-2", u, Connected, Disconnected);
                if violations.len() < 400 {
                    violations.push(violation(
                        t + 5,
                        "single_socket",
                        Some(u),
                        "two instances held the user's socket",
                        vec![],
                    ));
                }
            }
            // Stay up: short while faults are on, long otherwise.
            let in_fault = |x: u64| {
                (flap.0..flap.1).contains(&x)
                    || (partition.0..partition.1).contains(&x)
                    || (unavailable.0..unavailable.1).contains(&x)
                    || (silence.0..silence.1).contains(&x)
            };
            let fighting = ui == 0 && (fight.0..fight.1).contains(&t);
            let up = if fighting {
                r.range(1_500, 4_000)
            } else if in_fault(t) {
                r.range(2_000, 40_000)
            } else {
                r.range(5 * 60_000, 90 * 60_000)
            };
            let end = (t + up).min(len_ms);
            // Keep-alives every 30 s.
            let mut k = t + 30_000;
            while k < end {
                b.push(
                    k,
                    h,
                    Some(u),
                    EventKind::KeepAliveSent {
                        session: 1,
                        conn: s.conn,
                    },
                );
                b.push(
                    k + 40,
                    h,
                    Some(u),
                    EventKind::StatusServed {
                        state: ConnectionState::Connected,
                    },
                );
                k += 30_000;
            }
            t = end;
            if t >= len_ms {
                break;
            }
            let code = if fighting {
                440
            } else if (silence.0..silence.1).contains(&t) {
                408
            } else if (unavailable.0..unavailable.1).contains(&t) {
                503
            } else {
                [408, 428, 408, 515, 500][r.range(0, 5) as usize]
            };
            if fighting {
                // app-2 takes the user over; app-1 takes it back soon after.
                b.attempt(t - 5, "app-2", u, AttemptCause::Auto);
                b.state(t - 5, "app-2", u, Disconnected, Connecting);
                let s2 = b.open(t - 2, "app-2", u, true);
                b.close(t, h, u, s, Some(code));
                b.state(t, h, u, Connected, Disconnected);
                b.state(t, "app-2", u, Connecting, Connected);
                replaced = Some(s2);
                t += r.range(600, 1_400);
                b.attempt(t, h, u, AttemptCause::Auto);
                b.state(t, h, u, Disconnected, Connecting);
                continue;
            }
            b.close(t, h, u, s, Some(code));
            b.state(t, h, u, Connected, Disconnected);
            failures += 1;
            // Backoff attempts, some of which fail straight away.
            loop {
                let delay = (1_000u64 << failures.min(5)).min(30_000);
                t += delay;
                if t >= len_ms {
                    break;
                }
                b.attempt(t, h, u, AttemptCause::Backoff);
                b.state(t, h, u, Disconnected, Connecting);
                if in_fault(t) && r.range(0, 3) > 0 {
                    t += r.range(100, 2_000);
                    let s = b.open(t, h, u, false);
                    b.close(t + 50, h, u, s, Some(428));
                    t += 50;
                    b.state(t, h, u, Connecting, Disconnected);
                    failures += 1;
                    if failures == 6 && violations.len() < 400 {
                        violations.push(violation(
                            t,
                            "max_attempts",
                            Some(u),
                            "a sixth backoff attempt in one episode",
                            vec![],
                        ));
                    }
                    continue;
                }
                failures = 0;
                break;
            }
        }
    }
    // Dashboard tabs polling every 5 s.
    let mut t = 0;
    while t < len_ms {
        b.push(
            t,
            "browser",
            Some(users[0]),
            EventKind::StatusPolled {
                tab: 1,
                http_status: 200,
                state: Some(Connected),
            },
        );
        t += 5_000;
    }
    b.push(len_ms, "sim", None, EventKind::RunEnded {});
    let trace = b.finish();
    let mut s = summary(
        "busy.legacy",
        "busy",
        "legacy",
        len_ms,
        users,
        &["app-1", "app-2"],
    );
    violations.sort_by_key(|v| v.at);
    s.verdict = if violations.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    s.violations = violations;
    s.trace_events = trace.len();
    (s, trace)
}
