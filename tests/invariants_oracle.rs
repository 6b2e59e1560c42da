//! The oracle's invariants, one behaviour per test, on hand-written traces.

use std::collections::BTreeMap;
use std::time::Duration;

use loopguard::invariants::{self, Invariant, Params, RunContext, UserFacts, Violation};
use loopguard::trace::truth::Truth;
use loopguard::trace::{AttemptCause, ConnectionState, EventKind, FaultKind, TraceEvent};

// ---------------------------------------------------------------- builder

/// A trace written by hand, one row per call; times in milliseconds. Each
/// call returns the index of the row it wrote (composites: the main row).
/// Endpoint socket ids equal the client conn ids they pair with.
#[derive(Default)]
struct Trace {
    rows: Vec<TraceEvent>,
    /// conn → (host, user)
    conns: BTreeMap<u64, (String, String)>,
}

fn local(conn: u64) -> String {
    format!("10.0.0.2:{}", 40_000 + conn)
}

impl Trace {
    fn push(&mut self, ms: u64, host: &str, user: Option<&str>, kind: EventKind) -> usize {
        self.rows.push(TraceEvent {
            at: Duration::from_millis(ms),
            host: host.to_string(),
            user: user.map(str::to_string),
            kind,
        });
        self.rows.len() - 1
    }

    fn owner(&self, conn: u64) -> (String, String) {
        self.conns
            .get(&conn)
            .cloned()
            .unwrap_or_else(|| panic!("conn {conn} was never opened"))
    }

    // -- ground truth, client side
    fn open(&mut self, ms: u64, host: &str, user: &str, conn: u64) -> usize {
        self.conns.insert(conn, (host.into(), user.into()));
        let kind = EventKind::SocketOpened {
            conn,
            local: local(conn),
        };
        self.push(ms, host, Some(user), kind)
    }

    fn close(&mut self, ms: u64, conn: u64) -> usize {
        let (host, user) = self.owner(conn);
        self.push(ms, &host, Some(&user), EventKind::SocketClosed { conn })
    }

    fn dial_failed(&mut self, ms: u64, host: &str, user: &str) -> usize {
        let kind = EventKind::DialFailed {
            error: "connection refused".into(),
        };
        self.push(ms, host, Some(user), kind)
    }

    // -- ground truth, endpoint side
    fn accept(&mut self, ms: u64, conn: u64) -> usize {
        let kind = EventKind::EndpointAccepted {
            sock: conn,
            peer: local(conn),
        };
        self.push(ms, "wa", None, kind)
    }

    fn auth(&mut self, ms: u64, conn: u64) -> usize {
        let (_, user) = self.owner(conn);
        let kind = EventKind::EndpointAuthenticated {
            sock: conn,
            paired: true,
        };
        self.push(ms, "wa", Some(&user), kind)
    }

    fn ep_close(&mut self, ms: u64, conn: u64, code: Option<u16>) -> usize {
        let (_, user) = self.owner(conn);
        let kind = EventKind::EndpointClosed {
            sock: conn,
            code,
            reason: "closed".into(),
        };
        self.push(ms, "wa", Some(&user), kind)
    }

    fn replaced(&mut self, ms: u64, old: u64, new: Option<u64>, by_fault: bool) -> usize {
        let (_, user) = self.owner(old);
        let kind = EventKind::EndpointReplaced {
            old_sock: old,
            new_sock: new,
            by_fault,
        };
        self.push(ms, "wa", Some(&user), kind)
    }

    /// Open, accept and authenticate in one millisecond: truly connected.
    fn connect(&mut self, ms: u64, host: &str, user: &str, conn: u64) -> usize {
        let row = self.open(ms, host, user, conn);
        self.accept(ms, conn);
        self.auth(ms, conn);
        row
    }

    /// The endpoint closes with `code`, then the client drops the socket,
    /// in one millisecond. Returns the endpoint's row.
    fn drop_link(&mut self, ms: u64, conn: u64, code: Option<u16>) -> usize {
        let row = self.ep_close(ms, conn, code);
        self.close(ms, conn);
        row
    }

    // -- the supervisor's account
    fn attempt(
        &mut self,
        ms: u64,
        host: &str,
        user: &str,
        session: u64,
        cause: AttemptCause,
    ) -> usize {
        let kind = EventKind::AttemptStarted {
            session,
            cause,
            attempt: 1,
        };
        self.push(ms, host, Some(user), kind)
    }

    fn keepalive(&mut self, ms: u64, host: &str, user: &str, session: u64, conn: u64) -> usize {
        self.push(
            ms,
            host,
            Some(user),
            EventKind::KeepAliveSent { session, conn },
        )
    }

    fn session_ended(&mut self, ms: u64, host: &str, user: &str, session: u64) -> usize {
        let kind = EventKind::SessionEnded {
            session,
            reason: "replaced".into(),
        };
        self.push(ms, host, Some(user), kind)
    }

    fn store(&mut self, ms: u64, host: &str, user: &str, status: ConnectionState) -> usize {
        let kind = EventKind::StoreWritten {
            status,
            reason: String::new(),
        };
        self.push(ms, host, Some(user), kind)
    }

    fn served(&mut self, ms: u64, host: &str, user: &str) -> usize {
        let kind = EventKind::StatusServed {
            state: ConnectionState::Disconnected,
        };
        self.push(ms, host, Some(user), kind)
    }

    fn polled(&mut self, ms: u64, user: &str) -> usize {
        let kind = EventKind::StatusPolled {
            tab: 1,
            http_status: 200,
            state: Some(ConnectionState::Disconnected),
        };
        self.push(ms, "browser", Some(user), kind)
    }

    // -- the simulator
    fn sim(&mut self, ms: u64, user: Option<&str>, kind: EventKind) -> usize {
        self.push(ms, "sim", user, kind)
    }

    /// A person's press, scripted by the scenario and delivered to app-1 by
    /// the harness's listener 30 ms later.
    fn press(&mut self, ms: u64, user: &str, connect: bool) {
        let (scripted, button) = if connect {
            (EventKind::ManualConnect {}, "connect")
        } else {
            (EventKind::ManualDisconnect {}, "disconnect")
        };
        self.sim(ms, Some(user), scripted);
        self.push(
            ms + 30,
            "app-1",
            Some(user),
            EventKind::PressDelivered {
                button: button.into(),
            },
        );
    }

    fn fault(&mut self, from_ms: u64, to_ms: u64, fault: FaultKind, user: Option<&str>) -> usize {
        let target = user.unwrap_or("app-1").to_string();
        let row = self.sim(
            from_ms,
            user,
            EventKind::FaultStarted {
                fault,
                target: target.clone(),
            },
        );
        self.sim(to_ms, user, EventKind::FaultEnded { fault, target });
        row
    }

    fn crash(&mut self, ms: u64, host: &str) -> usize {
        let kind = EventKind::InstanceCrashed {
            instance: host.into(),
        };
        self.sim(ms, None, kind)
    }

    fn started(&mut self, ms: u64, host: &str) -> usize {
        let kind = EventKind::InstanceStarted {
            instance: host.into(),
        };
        self.sim(ms, None, kind)
    }

    fn ev(&self, rows: &[usize]) -> Vec<TraceEvent> {
        rows.iter().map(|r| self.rows[*r].clone()).collect()
    }
}

const ALICE: &str = "alice";

fn ctx_for(users: &[&str], faults_end_s: u64, run_end_s: u64) -> RunContext {
    RunContext {
        users: users
            .iter()
            .map(|id| UserFacts {
                id: (*id).into(),
                paired: true,
                enabled: true,
            })
            .collect(),
        faults_end: Duration::from_secs(faults_end_s),
        run_end: Duration::from_secs(run_end_s),
    }
}

/// Alice alone, no faults, ten minutes.
fn ctx() -> RunContext {
    ctx_for(&[ALICE], 0, 600)
}

fn check_with(inv: &dyn Invariant, t: &Trace, ctx: &RunContext) -> Vec<Violation> {
    inv.check(
        &t.rows,
        &Truth::from_trace(&t.rows),
        ctx,
        &Params::default(),
    )
}

fn check(inv: &dyn Invariant, t: &Trace) -> Vec<Violation> {
    check_with(inv, t, &ctx())
}

fn ms(v: &Violation) -> u64 {
    u64::try_from(v.at.as_millis()).unwrap()
}

/// Asserts there is exactly one violation, of `id`, for alice, at `at_ms`,
/// proven by exactly `evidence` rows; returns it for more checks.
#[track_caller]
fn only(vs: Vec<Violation>, id: &str, at_ms: u64, evidence: Vec<TraceEvent>) -> Violation {
    assert_eq!(vs.len(), 1, "expected one violation, got {vs:#?}");
    let v = vs.into_iter().next().unwrap();
    assert_eq!(v.invariant, id);
    assert_eq!(ms(&v), at_ms, "{}", v.message);
    assert_eq!(v.user.as_deref(), Some(ALICE));
    assert_eq!(v.evidence, evidence, "{}", v.message);
    v
}

#[track_caller]
fn none(vs: Vec<Violation>) {
    assert!(vs.is_empty(), "expected no violation, got {vs:#?}");
}

/// `count` backoff attempts on app-1, each exactly on schedule after the
/// previous failure and failing to dial 10 ms later; the first is the
/// episode's `first_n`-th. Returns the attempt rows and the last failure's
/// time.
fn failing_backoffs(
    t: &mut Trace,
    last_failure_ms: u64,
    first_n: u32,
    count: u32,
) -> (Vec<usize>, u64) {
    let mut at = last_failure_ms;
    let mut rows = Vec::new();
    for n in first_n..first_n + count {
        at += delay_ms(n);
        rows.push(t.attempt(at, "app-1", ALICE, 1, AttemptCause::Backoff));
        at += 10;
        t.dial_failed(at, "app-1", ALICE);
    }
    (rows, at)
}

fn delay_ms(n: u32) -> u64 {
    (2_000u64 << (n - 1)).min(60_000)
}

// ---------------------------------------------------------------- settles

mod settles {
    use super::*;
    use loopguard::invariants::Settles;

    /// Alice connected at 1 s, a partition from 99 s to 300 s cuts her
    /// socket at 100 s, and the run's faults end at 300 s.
    fn cut_at_100_s(t: &mut Trace) -> RunContext {
        t.connect(1_000, "app-1", ALICE, 1);
        t.fault(99_000, 300_000, FaultKind::Partition, None);
        t.drop_link(100_000, 1, Some(428));
        ctx_for(&[ALICE], 300, 600)
    }

    #[test]
    fn a_persons_press_starts_a_new_episode_whose_backoff_attempts_the_budget_allows() {
        let mut t = Trace::default();
        let ctx = cut_at_100_s(&mut t);
        let (_, last) = failing_backoffs(&mut t, 100_000, 1, 4);
        t.press(last + 1_000, ALICE, true);
        t.attempt(last + 1_040, "app-1", ALICE, 2, AttemptCause::Manual);
        t.dial_failed(last + 1_040, "app-1", ALICE);
        // Nine attempts between 102 s and 161 s: four of the first episode,
        // the press's own and four of the episode it started.
        failing_backoffs(&mut t, last + 1_040, 1, 4);
        none(check_with(&Settles, &t, &ctx));
    }

    #[test]
    fn fourteen_attempts_in_a_minute_after_a_press_are_over_budget_at_the_fourteenth() {
        let mut t = Trace::default();
        let ctx = cut_at_100_s(&mut t);
        t.press(110_000, ALICE, true);
        let failed: Vec<usize> = (0..14)
            .map(|n| t.dial_failed(111_000 + n * 1_000, "app-1", ALICE))
            .collect();
        let v = only(
            check_with(&Settles, &t, &ctx),
            "settles",
            124_000,
            t.ev(&[failed[0], failed[13]]),
        );
        assert_eq!(
            v.message,
            "14 attempts within 60 s up to 124.0 s (budget 13: 7, plus 6 per person's act and 1 \
             per 515 close in the window)"
        );
    }

    #[test]
    fn eight_attempts_in_a_minute_without_a_person_are_over_budget_at_the_eighth() {
        let mut t = Trace::default();
        let ctx = cut_at_100_s(&mut t);
        let failed: Vec<usize> = (0..8)
            .map(|n| t.dial_failed(101_000 + n * 1_000, "app-1", ALICE))
            .collect();
        only(
            check_with(&Settles, &t, &ctx),
            "settles",
            108_000,
            t.ev(&[failed[0], failed[7]]),
        );
    }
}

// ---------------------------------------------------------------- single_socket

mod single_socket {
    use super::*;
    use loopguard::invariants::SingleSocket;

    #[test]
    fn two_client_sockets_open_at_once_are_one_violation_at_the_second_open() {
        let mut t = Trace::default();
        let first = t.connect(1_000, "app-1", ALICE, 1);
        let second = t.open(5_000, "app-2", ALICE, 2);
        t.close(6_000, 2);
        let v = only(
            check(&SingleSocket, &t),
            "single_socket",
            5_000,
            t.ev(&[first, second]),
        );
        assert_eq!(
            v.message,
            "conn 2 on app-2 opened while conn 1 on app-1 was still open: 2 client sockets at once \
             for 1.0 s; the limit is 1"
        );
    }

    #[test]
    fn a_long_overlap_with_a_third_socket_is_still_one_violation() {
        let mut t = Trace::default();
        let first = t.connect(1_000, "app-1", ALICE, 1);
        let second = t.open(5_000, "app-1", ALICE, 2);
        t.open(6_000, "app-2", ALICE, 3);
        t.close(7_000, 3);
        t.close(9_000, 2);
        let v = only(
            check(&SingleSocket, &t),
            "single_socket",
            5_000,
            t.ev(&[first, second]),
        );
        assert!(
            v.message.contains("3 client sockets at once for 4.0 s"),
            "{}",
            v.message
        );
    }

    #[test]
    fn a_socket_opened_after_the_previous_one_closed_is_clean() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.drop_link(5_000, 1, Some(428));
        t.connect(5_000, "app-1", ALICE, 2);
        none(check(&SingleSocket, &t));
    }

    #[test]
    fn sockets_of_different_users_do_not_overlap() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.connect(1_000, "app-1", "bob", 2);
        none(check(&SingleSocket, &t));
    }

    #[test]
    fn a_440_on_a_socket_its_client_still_holds_is_a_self_inflicted_conflict() {
        let mut t = Trace::default();
        let old = t.connect(1_000, "app-1", ALICE, 1);
        let new = t.open(5_000, "app-2", ALICE, 2);
        t.accept(5_100, 2);
        t.auth(5_100, 2);
        let replaced = t.replaced(5_100, 1, Some(2), false);
        t.ep_close(5_100, 1, Some(440));
        t.close(5_150, 1);
        let vs = check(&SingleSocket, &t);
        assert_eq!(vs.len(), 2, "{vs:#?}");
        assert_eq!(ms(&vs[0]), 5_000, "the overlap itself");
        let conflict = &vs[1];
        assert_eq!(ms(conflict), 5_100);
        assert_eq!(conflict.user.as_deref(), Some(ALICE));
        assert_eq!(conflict.evidence, t.ev(&[old, new, replaced]));
        assert_eq!(
            conflict.message,
            "a 440 replaced socket 1 (conn 1 on app-1) while its client still held it: a \
             self-inflicted conflict with its own conn 2 on app-2"
        );
    }

    #[test]
    fn a_takeover_by_another_device_is_not_a_violation() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.replaced(5_000, 1, None, true);
        t.drop_link(5_000, 1, Some(440));
        none(check(&SingleSocket, &t));
    }

    #[test]
    fn a_440_on_a_socket_the_client_already_dropped_is_not_a_conflict() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.close(4_000, 1); // the client gave up on it; the endpoint has not noticed
        t.connect(4_500, "app-1", ALICE, 2);
        t.replaced(4_500, 1, Some(2), false);
        t.ep_close(4_500, 1, Some(440));
        none(check(&SingleSocket, &t));
    }
}

// ---------------------------------------------------------------- reconnect_cooldown

mod reconnect_cooldown {
    use super::*;
    use loopguard::invariants::ReconnectCooldown;

    #[test]
    fn a_reconnect_within_the_cooldown_of_a_440_is_a_violation_at_the_open() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        let close = t.drop_link(10_000, 1, Some(440));
        let attempt = t.attempt(22_000, "app-1", ALICE, 1, AttemptCause::Backoff);
        let open = t.connect(22_000, "app-1", ALICE, 2);
        let v = only(
            check(&ReconnectCooldown, &t),
            "reconnect_cooldown",
            22_000,
            t.ev(&[close, attempt, open]),
        );
        assert_eq!(
            v.message,
            "conn 2 opened on app-1 12.0 s after a 440 close of socket 1 (the supervisor's backoff \
             attempt), with no manual connect in between; the cooldown is 60 s"
        );
    }

    #[test]
    fn every_non_retryable_code_starts_a_cooldown() {
        for code in [401, 403, 411, 440] {
            let mut t = Trace::default();
            t.connect(1_000, "app-1", ALICE, 1);
            t.drop_link(10_000, 1, Some(code));
            t.open(12_000, "app-1", ALICE, 2);
            let vs = check(&ReconnectCooldown, &t);
            assert_eq!(vs.len(), 1, "code {code}: {vs:#?}");
            assert!(vs[0].message.contains(&format!("after a {code} close")));
        }
    }

    #[test]
    fn several_reconnects_after_one_close_are_one_violation() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.drop_link(10_000, 1, Some(440));
        t.open(12_000, "app-1", ALICE, 2);
        t.close(13_000, 2);
        t.open(15_000, "app-1", ALICE, 3);
        let vs = check(&ReconnectCooldown, &t);
        assert_eq!(vs.len(), 1, "{vs:#?}");
        assert_eq!(ms(&vs[0]), 12_000);
    }

    #[test]
    fn a_manual_connect_is_exempt_from_the_cooldown() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.drop_link(10_000, 1, Some(440));
        t.press(15_000, ALICE, true);
        t.attempt(15_030, "app-1", ALICE, 2, AttemptCause::Manual);
        t.connect(15_040, "app-1", ALICE, 2);
        none(check(&ReconnectCooldown, &t));
    }

    #[test]
    fn a_manual_connect_the_network_lost_excuses_nothing() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.drop_link(10_000, 1, Some(440));
        // Scripted, but never delivered to the app (a cut browser link).
        t.sim(15_000, Some(ALICE), EventKind::ManualConnect {});
        t.attempt(15_000, "app-1", ALICE, 2, AttemptCause::Manual);
        t.connect(15_010, "app-1", ALICE, 2);
        let vs = check(&ReconnectCooldown, &t);
        assert_eq!(vs.len(), 1, "{vs:#?}");
        assert_eq!(ms(&vs[0]), 15_010);
    }

    #[test]
    fn the_supervisor_calling_its_attempt_manual_is_not_a_manual_connect() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.drop_link(10_000, 1, Some(440));
        t.attempt(15_000, "app-1", ALICE, 2, AttemptCause::Manual);
        t.connect(15_010, "app-1", ALICE, 2);
        assert_eq!(check(&ReconnectCooldown, &t).len(), 1);
    }

    #[test]
    fn a_reconnect_a_full_cooldown_after_a_440_is_clean() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.drop_link(10_000, 1, Some(440));
        t.connect(70_000, "app-1", ALICE, 2);
        none(check(&ReconnectCooldown, &t));
    }

    #[test]
    fn a_retryable_close_allows_a_prompt_backoff_reconnect() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.drop_link(10_000, 1, Some(428));
        t.attempt(12_000, "app-1", ALICE, 1, AttemptCause::Backoff);
        t.connect(12_000, "app-1", ALICE, 2);
        none(check(&ReconnectCooldown, &t));
    }

    #[test]
    fn an_auto_attempt_within_the_cooldown_of_the_last_disconnect_is_a_violation() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.ep_close(10_000, 1, Some(428));
        let last = t.close(10_000, 1);
        let auto = t.attempt(40_000, "app-1", ALICE, 2, AttemptCause::Auto);
        t.dial_failed(40_010, "app-1", ALICE);
        let v = only(
            check(&ReconnectCooldown, &t),
            "reconnect_cooldown",
            40_000,
            t.ev(&[last, auto]),
        );
        assert_eq!(
            v.message,
            "the auto-reconnector started an attempt on app-1 30.0 s after the user's last \
             disconnect (conn 1 closed client-side, leaving none open at 10.0 s); the cooldown is 60 s"
        );
    }

    #[test]
    fn an_auto_attempt_a_full_cooldown_after_the_last_disconnect_is_clean() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.drop_link(10_000, 1, Some(428));
        t.attempt(70_000, "app-1", ALICE, 2, AttemptCause::Auto);
        t.connect(70_010, "app-1", ALICE, 2);
        none(check(&ReconnectCooldown, &t));
    }

    #[test]
    fn a_socket_dropped_by_its_hosts_crash_is_no_disconnect_for_the_auto_reconnector() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        // The crash's teardown drops the socket; the endpoint sees the peer go.
        t.close(100_000, 1);
        t.crash(100_000, "app-1");
        t.ep_close(100_000, 1, None);
        t.started(101_000, "app-1");
        t.attempt(131_000, "app-1", ALICE, 1, AttemptCause::Auto);
        t.connect(131_000, "app-1", ALICE, 2);
        none(check(&ReconnectCooldown, &t));
    }

    #[test]
    fn a_disconnect_the_client_saw_before_its_host_crashed_still_holds_the_auto_reconnector_off() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        let last = t.drop_link(90_000, 1, Some(428));
        t.attempt(92_000, "app-1", ALICE, 2, AttemptCause::Backoff);
        t.connect(92_000, "app-1", ALICE, 2);
        t.close(100_000, 2);
        t.crash(100_000, "app-1");
        t.started(101_000, "app-1");
        let auto = t.attempt(131_000, "app-1", ALICE, 1, AttemptCause::Auto);
        let v = only(
            check(&ReconnectCooldown, &t),
            "reconnect_cooldown",
            131_000,
            t.ev(&[last + 1, auto]),
        );
        assert!(
            v.message
                .contains("41.0 s after the user's last disconnect"),
            "{}",
            v.message
        );
    }

    #[test]
    fn an_auto_attempt_that_opened_a_socket_too_soon_after_a_440_is_reported_once() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        let close = t.drop_link(10_000, 1, Some(440));
        let auto = t.attempt(30_000, "app-1", ALICE, 2, AttemptCause::Auto);
        let open = t.connect(30_010, "app-1", ALICE, 2);
        only(
            check(&ReconnectCooldown, &t),
            "reconnect_cooldown",
            30_010,
            t.ev(&[close, auto, open]),
        );
    }
}

// ---------------------------------------------------------------- max_attempts

mod max_attempts {
    use super::*;
    use loopguard::invariants::MaxAttempts;

    #[test]
    fn a_sixth_backoff_attempt_in_one_episode_is_a_violation_at_the_sixth() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        let start = t.drop_link(100_000, 1, Some(428));
        let (attempts, _) = failing_backoffs(&mut t, 100_000, 1, 6);
        let mut evidence = vec![start];
        evidence.extend(&attempts);
        let v = only(
            check(&MaxAttempts, &t),
            "max_attempts",
            ms_of(&t, attempts[5]),
            t.ev(&evidence),
        );
        assert_eq!(
            v.message,
            "6th backoff attempt of one episode (6 in all), which began at 100.0 s when the \
             endpoint closed socket 1 with 428, with no connection up for 60 s since; the limit is 5"
        );
    }

    #[test]
    fn five_backoff_attempts_are_within_the_limit() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.drop_link(100_000, 1, Some(428));
        failing_backoffs(&mut t, 100_000, 1, 5);
        none(check(&MaxAttempts, &t));
    }

    #[test]
    fn an_episode_is_reported_once_however_many_attempts_follow() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.drop_link(100_000, 1, Some(428));
        failing_backoffs(&mut t, 100_000, 1, 9);
        let vs = check(&MaxAttempts, &t);
        assert_eq!(vs.len(), 1, "{vs:#?}");
        assert!(vs[0].message.contains("(9 in all)"), "{}", vs[0].message);
    }

    #[test]
    fn a_brief_open_does_not_reset_the_attempt_count() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.drop_link(100_000, 1, Some(428));
        let (_, last) = failing_backoffs(&mut t, 100_000, 1, 3);
        // The 4th attempt connects, for 10 s only.
        let at = last + delay_ms(4);
        t.attempt(at, "app-1", ALICE, 1, AttemptCause::Backoff);
        t.connect(at, "app-1", ALICE, 2);
        t.drop_link(at + 10_000, 2, Some(428));
        let (rest, _) = failing_backoffs(&mut t, at + 10_000, 5, 2);
        let vs = check(&MaxAttempts, &t);
        assert_eq!(vs.len(), 1, "{vs:#?}");
        assert_eq!(ms(&vs[0]), ms_of(&t, rest[1]));
    }

    #[test]
    fn a_connection_up_for_60_s_ends_the_episode_and_resets_the_count() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.drop_link(100_000, 1, Some(428));
        let (_, last) = failing_backoffs(&mut t, 100_000, 1, 3);
        let at = last + delay_ms(4);
        t.attempt(at, "app-1", ALICE, 1, AttemptCause::Backoff);
        t.connect(at, "app-1", ALICE, 2);
        t.drop_link(at + 60_000, 2, Some(428));
        failing_backoffs(&mut t, at + 60_000, 1, 5);
        none(check(&MaxAttempts, &t));
    }

    #[test]
    fn attempts_of_different_users_are_counted_apart() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.connect(1_000, "app-1", "bob", 2);
        t.drop_link(100_000, 1, Some(428));
        t.drop_link(100_000, 2, Some(428));
        for n in 1..=3u64 {
            let at = 100_000 + 70_000 * n;
            t.attempt(at, "app-1", ALICE, 1, AttemptCause::Backoff);
            t.dial_failed(at + 10, "app-1", ALICE);
            t.attempt(at, "app-1", "bob", 2, AttemptCause::Backoff);
            t.dial_failed(at + 10, "app-1", "bob");
        }
        none(check(&MaxAttempts, &t));
    }

    fn ms_of(t: &Trace, row: usize) -> u64 {
        u64::try_from(t.rows[row].at.as_millis()).unwrap()
    }
}

// ---------------------------------------------------------------- backoff_schedule

mod backoff_schedule {
    use super::*;
    use loopguard::invariants::BackoffSchedule;

    #[test]
    fn attempts_on_the_doubling_schedule_are_clean() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.drop_link(100_000, 1, Some(428));
        failing_backoffs(&mut t, 100_000, 1, 8);
        none(check(&BackoffSchedule, &t));
    }

    #[test]
    fn an_attempt_sooner_than_its_delay_is_a_violation() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.drop_link(10_000, 1, Some(428));
        t.attempt(12_000, "app-1", ALICE, 1, AttemptCause::Backoff);
        let failure = t.dial_failed(12_010, "app-1", ALICE);
        let early = t.attempt(13_010, "app-1", ALICE, 1, AttemptCause::Backoff);
        let v = only(
            check(&BackoffSchedule, &t),
            "backoff_schedule",
            13_010,
            t.ev(&[failure, early]),
        );
        assert_eq!(
            v.message,
            "2nd backoff attempt of the episode came 1.0 s after the last failure (a dial failed \
             at 12.010 s); the schedule requires at least 4.0 s"
        );
    }

    #[test]
    fn one_millisecond_of_slack_is_allowed_and_no_more() {
        for (at, violations) in [(16_009, 0), (16_008, 1)] {
            let mut t = Trace::default();
            t.connect(1_000, "app-1", ALICE, 1);
            t.drop_link(10_000, 1, Some(428));
            t.attempt(12_000, "app-1", ALICE, 1, AttemptCause::Backoff);
            t.dial_failed(12_010, "app-1", ALICE);
            t.attempt(at, "app-1", ALICE, 1, AttemptCause::Backoff);
            assert_eq!(
                check(&BackoffSchedule, &t).len(),
                violations,
                "attempt at {at} ms"
            );
        }
    }

    #[test]
    fn the_delay_counts_from_the_latest_failure() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.drop_link(10_000, 1, Some(428));
        // 2 s after the drop, but the socket had failed again since.
        t.dial_failed(11_000, "app-1", ALICE);
        t.attempt(12_000, "app-1", ALICE, 1, AttemptCause::Backoff);
        let vs = check(&BackoffSchedule, &t);
        assert_eq!(vs.len(), 1, "{vs:#?}");
        assert!(
            vs[0].message.contains("came 1.0 s after"),
            "{}",
            vs[0].message
        );
    }

    #[test]
    fn a_brief_open_does_not_restart_the_schedule() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.drop_link(100_000, 1, Some(428));
        let (_, last) = failing_backoffs(&mut t, 100_000, 1, 3);
        let at = last + delay_ms(4);
        t.attempt(at, "app-1", ALICE, 1, AttemptCause::Backoff);
        t.connect(at, "app-1", ALICE, 2);
        t.drop_link(at + 10_000, 2, Some(428));
        // The supervisor reset its count on the brief open: it waits 2 s.
        let early = t.attempt(at + 12_000, "app-1", ALICE, 1, AttemptCause::Backoff);
        let vs = check(&BackoffSchedule, &t);
        assert_eq!(vs.len(), 1, "{vs:#?}");
        assert_eq!(vs[0].evidence.last(), Some(&t.rows[early]));
        assert!(
            vs[0].message.starts_with("5th backoff attempt"),
            "{}",
            vs[0].message
        );
        assert!(
            vs[0].message.ends_with("at least 32.0 s"),
            "{}",
            vs[0].message
        );
    }
}

// ---------------------------------------------------------------- status_read_only

mod status_read_only {
    use super::*;
    use loopguard::invariants::StatusReadOnly;

    #[test]
    fn an_attempt_caused_by_a_status_request_is_a_violation() {
        let mut t = Trace::default();
        t.polled(5_000, ALICE);
        let served = t.served(5_000, "app-1", ALICE);
        let attempt = t.attempt(5_000, "app-1", ALICE, 3, AttemptCause::Status);
        t.open(5_020, "app-1", ALICE, 1);
        let v = only(
            check(&StatusReadOnly, &t),
            "status_read_only",
            5_000,
            t.ev(&[served, attempt]),
        );
        assert_eq!(
            v.message,
            "a status request started a connection attempt (session 3) on app-1; the status API \
             must only read"
        );
    }

    #[test]
    fn a_socket_no_attempt_owns_after_a_status_answer_is_a_violation() {
        let mut t = Trace::default();
        t.polled(5_000, ALICE);
        let served = t.served(5_000, "app-1", ALICE);
        let open = t.open(5_000, "app-1", ALICE, 1);
        only(
            check(&StatusReadOnly, &t),
            "status_read_only",
            5_000,
            t.ev(&[served, open]),
        );
    }

    #[test]
    fn a_socket_opened_with_a_status_answer_but_by_a_backoff_attempt_is_clean() {
        let mut t = Trace::default();
        t.served(5_000, "app-1", ALICE);
        t.attempt(5_000, "app-1", ALICE, 1, AttemptCause::Backoff);
        t.open(5_000, "app-1", ALICE, 1);
        none(check(&StatusReadOnly, &t));
    }

    #[test]
    fn a_status_answer_between_an_attempt_and_its_socket_is_clean() {
        let mut t = Trace::default();
        t.attempt(5_000, "app-1", ALICE, 1, AttemptCause::Auto);
        t.served(5_005, "app-1", ALICE);
        t.open(5_010, "app-1", ALICE, 1);
        none(check(&StatusReadOnly, &t));
    }

    #[test]
    fn status_polls_that_only_read_are_clean() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        for s in 1..=10 {
            t.polled(s * 5_000, ALICE);
            t.served(s * 5_000, "app-1", ALICE);
        }
        none(check(&StatusReadOnly, &t));
    }
}

// ---------------------------------------------------------------- eventually_connected

mod eventually_connected {
    use super::*;
    use loopguard::invariants::EventuallyConnected;

    /// Faults end at 60 s; the run ends at 600 s.
    fn run() -> RunContext {
        ctx_for(&[ALICE], 60, 600)
    }

    #[test]
    fn a_user_not_connected_3_min_after_faults_end_is_a_violation_then() {
        let mut t = Trace::default();
        let fault_end = t.fault(10_000, 60_000, FaultKind::Partition, None) + 1;
        let failed = t.dial_failed(200_000, "app-1", ALICE);
        let v = only(
            check_with(&EventuallyConnected, &t, &run()),
            "eventually_connected",
            240_000,
            t.ev(&[fault_end, failed]),
        );
        assert_eq!(
            v.message,
            "not connected 3 min after faults ended at 60.0 s; it had not been connected"
        );
    }

    #[test]
    fn a_user_connected_only_after_the_deadline_is_a_violation_at_the_deadline() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.drop_link(30_000, 1, Some(428));
        t.connect(300_000, "app-1", ALICE, 2);
        let vs = check_with(&EventuallyConnected, &t, &run());
        assert_eq!(vs.len(), 1, "{vs:#?}");
        assert_eq!(ms(&vs[0]), 240_000);
        assert!(
            vs[0]
                .message
                .ends_with("it was last connected until 30.0 s and connected only at 300.0 s"),
            "{}",
            vs[0].message
        );
    }

    #[test]
    fn a_user_connected_within_3_min_and_staying_so_is_clean() {
        let mut t = Trace::default();
        t.connect(200_000, "app-1", ALICE, 1);
        none(check_with(&EventuallyConnected, &t, &run()));
    }

    #[test]
    fn a_drop_after_recovering_is_a_violation_at_the_drop() {
        let mut t = Trace::default();
        t.connect(100_000, "app-1", ALICE, 1);
        let ep = t.drop_link(400_000, 1, Some(428));
        let v = only(
            check_with(&EventuallyConnected, &t, &run()),
            "eventually_connected",
            400_000,
            t.ev(&[ep, ep + 1]),
        );
        assert_eq!(
            v.message,
            "the connection dropped at 400.0 s, after the user had recovered from faults ended at \
             60.0 s; it never came back"
        );
    }

    #[test]
    fn a_run_shorter_than_the_deadline_is_judged_at_its_end() {
        let mut t = Trace::default();
        t.dial_failed(100_000, "app-1", ALICE);
        let vs = check_with(&EventuallyConnected, &t, &ctx_for(&[ALICE], 60, 120));
        assert_eq!(vs.len(), 1, "{vs:#?}");
        assert_eq!(ms(&vs[0]), 120_000);
        assert!(vs[0]
            .message
            .starts_with("not connected when the run ended at 120.0 s"));
    }

    #[test]
    fn users_that_need_not_be_connected_are_exempt() {
        let mut t = Trace::default();
        // bob is logged out, carol left manually disconnected; dave is
        // disabled, erin unpaired.
        t.fault(10_000, 20_000, FaultKind::Logout, Some("bob"));
        t.press(30_000, "carol", false);
        let mut ctx = ctx_for(&["bob", "carol", "dave", "erin"], 60, 600);
        ctx.users[2].enabled = false;
        ctx.users[3].paired = false;
        none(check_with(&EventuallyConnected, &t, &ctx));
    }

    #[test]
    fn a_user_paired_during_the_run_must_connect() {
        let mut t = Trace::default();
        t.sim(100_000, Some(ALICE), EventKind::UserPaired {});
        let mut ctx = run();
        ctx.users[0].paired = false;
        let vs = check_with(&EventuallyConnected, &t, &ctx);
        assert_eq!(vs.len(), 1, "{vs:#?}");
        assert_eq!(ms(&vs[0]), 280_000, "3 min after the pairing");
    }

    #[test]
    fn a_manual_connect_after_a_manual_disconnect_restarts_the_clock() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.press(100_000, ALICE, false);
        t.drop_link(100_030, 1, None);
        t.press(300_000, ALICE, true);
        t.connect(301_000, "app-1", ALICE, 2);
        none(check_with(&EventuallyConnected, &t, &run()));
    }

    #[test]
    fn a_disconnect_that_never_reached_the_app_exempts_nobody() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.drop_link(50_000, 1, None);
        // Scripted, but lost on the way (no press_delivered row).
        t.sim(100_000, Some(ALICE), EventKind::ManualDisconnect {});
        let vs = check_with(&EventuallyConnected, &t, &run());
        assert_eq!(vs.len(), 1, "{vs:#?}");
    }
}

// ---------------------------------------------------------------- store_matches_truth

mod store_matches_truth {
    use super::*;
    use loopguard::invariants::StoreMatchesTruth;

    /// Ends at 60 s.
    fn run() -> RunContext {
        ctx_for(&[ALICE], 0, 60)
    }

    #[test]
    fn a_stale_connected_row_beyond_the_grace_is_a_violation() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        let written = t.store(1_000, "app-1", ALICE, ConnectionState::Connected);
        let ep = t.drop_link(10_000, 1, Some(428));
        let v = only(
            check_with(&StoreMatchesTruth, &t, &run()),
            "store_matches_truth",
            15_000,
            t.ev(&[written, ep, ep + 1]),
        );
        assert_eq!(
            v.message,
            "the store said CONNECTED for 50.0 s, until the run ended (from 10.0 s) while the user \
             was not connected; the grace is 5 s"
        );
    }

    #[test]
    fn a_connected_row_while_the_client_holds_a_socket_whose_close_the_network_lost_is_clean() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.store(1_000, "app-1", ALICE, ConnectionState::Connected);
        // The endpoint closes with 503 but the segment is lost: the client
        // still holds its end, and learns 20 s later.
        t.ep_close(10_000, 1, Some(503));
        t.close(30_000, 1);
        t.store(30_000, "app-1", ALICE, ConnectionState::Disconnected);
        none(check_with(&StoreMatchesTruth, &t, &run()));
    }

    #[test]
    fn a_connecting_row_claims_neither_state() {
        let mut t = Trace::default();
        t.store(1_000, "app-1", ALICE, ConnectionState::Connecting);
        // Authenticated at once, but the answer is slow to arrive.
        t.connect(1_000, "app-1", ALICE, 1);
        t.store(21_000, "app-1", ALICE, ConnectionState::Connected);
        none(check_with(&StoreMatchesTruth, &t, &run()));
    }

    #[test]
    fn a_disconnected_row_while_the_client_holds_an_authenticated_socket_is_a_violation() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.store(1_000, "app-1", ALICE, ConnectionState::Connected);
        t.store(2_000, "app-1", ALICE, ConnectionState::Disconnected);
        let v = check_with(&StoreMatchesTruth, &t, &run());
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].at, Duration::from_millis(7_000));
    }

    #[test]
    fn an_update_within_the_grace_is_clean() {
        for update in [14_000, 15_000] {
            let mut t = Trace::default();
            t.connect(1_000, "app-1", ALICE, 1);
            t.store(1_000, "app-1", ALICE, ConnectionState::Connected);
            t.drop_link(10_000, 1, Some(428));
            t.store(update, "app-1", ALICE, ConnectionState::Disconnected);
            none(check_with(&StoreMatchesTruth, &t, &run()));
        }
    }

    #[test]
    fn a_connection_the_store_never_recorded_is_a_violation() {
        let mut t = Trace::default();
        let open = t.connect(1_000, "app-1", ALICE, 1);
        t.store(20_000, "app-1", ALICE, ConnectionState::Connected);
        let v = only(
            check_with(&StoreMatchesTruth, &t, &run()),
            "store_matches_truth",
            6_000,
            t.ev(&[open, open + 2]),
        );
        assert_eq!(
            v.message,
            "the user was connected but the store said DISCONNECTED for 19.0 s (from 1.0 s); the \
             grace is 5 s"
        );
    }

    #[test]
    fn a_mismatch_while_the_writer_is_crashed_and_just_restarted_is_not_counted() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.store(1_000, "app-1", ALICE, ConnectionState::Connected);
        t.crash(10_000, "app-1");
        t.drop_link(10_000, 1, None);
        t.started(30_000, "app-1");
        t.store(34_000, "app-1", ALICE, ConnectionState::Disconnected);
        none(check_with(&StoreMatchesTruth, &t, &run()));
    }

    #[test]
    fn a_mismatch_left_after_the_restart_grace_is_counted_from_its_end() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.store(1_000, "app-1", ALICE, ConnectionState::Connected);
        t.crash(10_000, "app-1");
        t.drop_link(10_000, 1, None);
        t.started(30_000, "app-1");
        let vs = check_with(&StoreMatchesTruth, &t, &run());
        assert_eq!(vs.len(), 1, "{vs:#?}");
        assert_eq!(ms(&vs[0]), 40_000, "exempt until 35 s, then 5 s of grace");
    }

    #[test]
    fn a_crash_of_a_host_that_did_not_write_the_row_exempts_nothing() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.store(1_000, "app-1", ALICE, ConnectionState::Connected);
        t.crash(9_000, "app-2");
        t.drop_link(10_000, 1, Some(428));
        let vs = check_with(&StoreMatchesTruth, &t, &run());
        assert_eq!(vs.len(), 1, "{vs:#?}");
        assert_eq!(ms(&vs[0]), 15_000);
    }
}

// ---------------------------------------------------------------- no_zombie_work

mod no_zombie_work {
    use super::*;
    use loopguard::invariants::NoZombieWork;

    #[test]
    fn keep_alives_for_an_ended_session_are_one_violation_at_the_first() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.keepalive(5_000, "app-1", ALICE, 1, 1);
        let ended = t.session_ended(10_000, "app-1", ALICE, 1);
        t.drop_link(10_000, 1, Some(440));
        t.connect(80_000, "app-1", ALICE, 2);
        let zombie = t.keepalive(35_000, "app-1", ALICE, 1, 2);
        t.keepalive(65_000, "app-1", ALICE, 1, 2);
        let v = only(
            check(&NoZombieWork, &t),
            "no_zombie_work",
            35_000,
            t.ev(&[ended, zombie]),
        );
        assert_eq!(
            v.message,
            "a keep-alive went out on app-1 for session 1, 25.0 s after that session ended \
             (replaced); 2 such acts in all"
        );
    }

    #[test]
    fn an_attempt_for_an_ended_session_is_a_violation() {
        let mut t = Trace::default();
        let ended = t.session_ended(10_000, "app-1", ALICE, 1);
        let zombie = t.attempt(12_000, "app-1", ALICE, 1, AttemptCause::Backoff);
        only(
            check(&NoZombieWork, &t),
            "no_zombie_work",
            12_000,
            t.ev(&[ended, zombie]),
        );
    }

    #[test]
    fn the_same_session_id_on_another_host_is_another_session() {
        let mut t = Trace::default();
        t.session_ended(10_000, "app-1", ALICE, 1);
        t.attempt(12_000, "app-2", ALICE, 1, AttemptCause::Backoff);
        none(check(&NoZombieWork, &t));
    }

    #[test]
    fn a_restarted_host_may_reuse_session_ids() {
        let mut t = Trace::default();
        t.session_ended(10_000, "app-1", ALICE, 1);
        t.crash(11_000, "app-1");
        t.started(20_000, "app-1");
        t.attempt(20_000, "app-1", ALICE, 1, AttemptCause::Startup);
        none(check(&NoZombieWork, &t));
    }

    #[test]
    fn a_keep_alive_over_a_closed_socket_is_a_violation() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        let closed = t.close(10_000, 1);
        let zombie = t.keepalive(31_000, "app-1", ALICE, 1, 1);
        let v = only(
            check(&NoZombieWork, &t),
            "no_zombie_work",
            31_000,
            t.ev(&[closed, zombie]),
        );
        assert_eq!(
            v.message,
            "a keep-alive went out on app-1 over conn 1 (session 1), 21.0 s after that socket was \
             closed client-side"
        );
    }

    #[test]
    fn a_keep_alive_for_an_ended_session_over_a_closed_socket_is_reported_once() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.session_ended(10_000, "app-1", ALICE, 1);
        t.close(10_000, 1);
        t.keepalive(31_000, "app-1", ALICE, 1, 1);
        let vs = check(&NoZombieWork, &t);
        assert_eq!(vs.len(), 1, "{vs:#?}");
        assert!(vs[0].message.contains("after that session ended"));
    }

    #[test]
    fn keep_alives_of_a_live_session_are_clean() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.keepalive(31_000, "app-1", ALICE, 1, 1);
        t.keepalive(61_000, "app-1", ALICE, 1, 1);
        none(check(&NoZombieWork, &t));
    }
}

// ---------------------------------------------------------------- all together

mod check_all {
    use super::*;
    use loopguard::invariants::{check_all, check_kept, INVARIANT_IDS};

    /// Alice's ten minutes on the `stable` supervisor: start-up, keep-alives,
    /// dashboard polls, a dropped link retried on schedule, and another
    /// device taking over, waited out for the cooldown.
    fn a_good_run() -> (Trace, RunContext) {
        let mut t = Trace::default();
        t.started(0, "app-1");
        t.attempt(0, "app-1", ALICE, 1, AttemptCause::Startup);
        t.store(0, "app-1", ALICE, ConnectionState::Connecting);
        t.connect(50, "app-1", ALICE, 1);
        t.store(60, "app-1", ALICE, ConnectionState::Connected);
        t.keepalive(30_050, "app-1", ALICE, 1, 1);
        t.keepalive(60_050, "app-1", ALICE, 1, 1);
        for s in 1..=20 {
            t.polled(s * 10_000, ALICE);
            t.served(s * 10_000, "app-1", ALICE);
        }
        // A partition drops the link; one backoff later it is back.
        t.fault(90_000, 95_000, FaultKind::Partition, None);
        t.drop_link(90_000, 1, Some(428));
        t.store(90_000, "app-1", ALICE, ConnectionState::Disconnected);
        t.attempt(92_000, "app-1", ALICE, 1, AttemptCause::Backoff);
        t.dial_failed(92_010, "app-1", ALICE);
        t.attempt(96_010, "app-1", ALICE, 1, AttemptCause::Backoff);
        t.connect(96_020, "app-1", ALICE, 2);
        t.store(96_030, "app-1", ALICE, ConnectionState::Connected);
        t.keepalive(126_020, "app-1", ALICE, 1, 2);
        // Another device takes over; the supervisor stops and the
        // auto-reconnector waits out the cooldown.
        t.fault(200_000, 200_000, FaultKind::Takeover, Some(ALICE));
        t.replaced(200_000, 2, None, true);
        t.drop_link(200_000, 2, Some(440));
        t.session_ended(200_000, "app-1", ALICE, 1);
        t.store(200_010, "app-1", ALICE, ConnectionState::Disconnected);
        t.attempt(270_000, "app-1", ALICE, 2, AttemptCause::Auto);
        t.connect(270_010, "app-1", ALICE, 3);
        t.store(270_020, "app-1", ALICE, ConnectionState::Connected);
        t.keepalive(300_010, "app-1", ALICE, 2, 3);
        t.sim(600_000, None, EventKind::RunEnded {});
        (t, ctx_for(&[ALICE], 200, 600))
    }

    #[test]
    fn a_good_run_has_no_violations() {
        let (t, ctx) = a_good_run();
        none(check_all(&t.rows, &ctx, &Params::default()));
    }

    #[test]
    fn violations_come_sorted_by_time_then_invariant_and_the_same_every_time() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.served(5_000, "app-1", ALICE);
        t.attempt(5_000, "app-1", ALICE, 2, AttemptCause::Status);
        t.open(5_000, "app-1", ALICE, 2);
        let ctx = ctx_for(&[ALICE], 0, 60);
        let vs = check_all(&t.rows, &ctx, &Params::default());
        let order: Vec<(u64, &str)> = vs.iter().map(|v| (ms(v), v.invariant.as_str())).collect();
        // The second socket beside the connected one is also an attempt
        // after the user settled, and a conflict that ends its uptime.
        assert_eq!(
            order,
            [
                (5_000, "single_socket"),
                (5_000, "status_read_only"),
                (5_000, "settles"),
                (6_000, "store_matches_truth"),
                (60_000, "eventually_connected"),
            ]
        );
        assert_eq!(vs, check_all(&t.rows, &ctx, &Params::default()));
    }

    #[test]
    fn check_kept_keeps_the_first_of_each_invariant_and_counts_them_all_as_trimming_check_all_does()
    {
        // Status reads that each open another socket beside the connected
        // one: several violations of several invariants, out of time order
        // across users.
        const BOB: &str = "bob";
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.connect(1_500, "app-1", BOB, 2);
        for (k, user) in [(0u64, BOB), (1, ALICE), (2, BOB), (3, ALICE), (4, ALICE)] {
            let at = 5_000 + k * 7_000;
            t.served(at, "app-1", user);
            t.attempt(at, "app-1", user, 2 + k, AttemptCause::Status);
            t.open(at, "app-1", user, 3 + k);
        }
        let ctx = ctx_for(&[ALICE, BOB], 0, 60);
        let (per_invariant, evidence_rows) = (2, 1);
        let all = check_all(&t.rows, &ctx, &Params::default());
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        let mut trimmed = Vec::new();
        for mut v in all.clone() {
            let n = counts.entry(v.invariant.clone()).or_default();
            *n += 1;
            if *n <= per_invariant {
                v.evidence.truncate(evidence_rows);
                trimmed.push(v);
            }
        }
        assert!(trimmed.len() < all.len(), "the caps must trim something");
        assert_eq!(
            check_kept(
                &t.rows,
                &ctx,
                &Params::default(),
                per_invariant as usize,
                evidence_rows
            ),
            (counts, trimmed)
        );
    }

    #[test]
    fn every_invariant_is_listed_in_report_order_with_its_meaning() {
        let ids: Vec<&str> = invariants::all().iter().map(|inv| inv.id()).collect();
        assert_eq!(ids, INVARIANT_IDS);
        for id in INVARIANT_IDS {
            let meaning = invariants::meaning(id).unwrap();
            assert!(
                !meaning.is_empty() && !meaning.contains('\n'),
                "{id}: {meaning}"
            );
        }
        assert_eq!(invariants::meaning("no_such_invariant"), None);
    }
}

mod reconnect_cooldown_on_codes_that_cannot_arrive {
    use super::*;
    use loopguard::invariants::ReconnectCooldown;

    #[test]
    fn a_440_sent_after_the_client_let_go_of_its_socket_starts_no_cooldown() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        // The client finds the link dead and drops its end; the endpoint
        // learns only when a newer socket replaces the old one with 440.
        t.close(40_000, 1);
        t.connect(42_000, "app-1", ALICE, 2);
        t.replaced(42_000, 1, Some(2), false);
        t.ep_close(42_000, 1, Some(440));
        t.drop_link(50_000, 2, None);
        t.connect(52_000, "app-1", ALICE, 3);
        none(check(&ReconnectCooldown, &t));
    }

    #[test]
    fn a_401_sent_while_the_app_link_is_lossy_starts_no_cooldown() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.sim(
            10_000,
            None,
            EventKind::FaultStarted {
                fault: FaultKind::Loss,
                target: "app-wa".into(),
            },
        );
        t.ep_close(12_000, 1, Some(401));
        t.sim(
            20_000,
            None,
            EventKind::FaultEnded {
                fault: FaultKind::Loss,
                target: "app-wa".into(),
            },
        );
        t.close(15_000, 1);
        t.connect(17_000, "app-1", ALICE, 2);
        none(check(&ReconnectCooldown, &t));
    }

    #[test]
    fn the_same_401_on_a_sound_link_starts_the_cooldown() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.ep_close(12_000, 1, Some(401));
        t.close(15_000, 1);
        t.connect(17_000, "app-1", ALICE, 2);
        assert_eq!(check(&ReconnectCooldown, &t).len(), 1);
    }

    #[test]
    fn an_auto_attempt_soon_after_the_endpoint_closes_a_socket_the_client_had_dropped_is_clean() {
        let mut t = Trace::default();
        t.connect(1_000, "app-1", ALICE, 1);
        t.close(40_000, 1);
        t.ep_close(100_000, 1, Some(401));
        t.attempt(130_000, "app-1", ALICE, 2, AttemptCause::Auto);
        none(check(&ReconnectCooldown, &t));
    }
}
