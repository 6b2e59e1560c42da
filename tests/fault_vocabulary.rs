//! The faults of issue 8's vocabulary, each by its effect on the wire as the
//! endpoint's records (ground truth) and the supervisor's close handling
//! show it: `rival_device`, `stall`, the endpoint's idle timeout, `churn`,
//! `stale_close`, `stream_error` with a child, and `messages`.

use std::path::Path;
use std::time::Duration;

use loopguard::run::execute_on;
use loopguard::scenario::{parse, Scenario};
use loopguard::sim::Engine;
use loopguard::trace::{CloseAction, EventKind, FaultKind, TraceEvent};

fn scenario(src: &str) -> Scenario {
    parse(Path::new("tests/fault_vocabulary.toml"), src).unwrap_or_else(|e| panic!("{e}"))
}

fn trace(engine: Engine, src: &str, preset: &str) -> Vec<TraceEvent> {
    let s = scenario(src);
    execute_on(engine, &s, preset, None, &mut |_| {})
        .unwrap_or_else(|e| panic!("{e}"))
        .trace
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// `(time, sock)` of every authentication of a paired socket.
fn authenticated(t: &[TraceEvent]) -> Vec<(Duration, u64)> {
    t.iter()
        .filter_map(|e| match e.kind {
            EventKind::EndpointAuthenticated { sock, paired: true } => Some((e.at, sock)),
            _ => None,
        })
        .collect()
}

/// `(time, sock)` of every close the endpoint sent with `code`.
fn closed_with(t: &[TraceEvent], code: u16) -> Vec<(Duration, u64)> {
    t.iter()
        .filter_map(|e| match e.kind {
            EventKind::EndpointClosed {
                sock,
                code: Some(c),
                ..
            } if c == code => Some((e.at, sock)),
            _ => None,
        })
        .collect()
}

fn auth_time(t: &[TraceEvent], sock: u64) -> Duration {
    authenticated(t)
        .into_iter()
        .find(|(_, s)| *s == sock)
        .map(|(at, _)| at)
        .unwrap_or_else(|| panic!("socket {sock} never authenticated"))
}

/// Codes of the closes the supervisor handled, in order.
fn handled(t: &[TraceEvent]) -> Vec<(u16, CloseAction)> {
    t.iter()
        .filter_map(|e| match &e.kind {
            EventKind::CloseHandled { code, action, .. } => Some((*code, *action)),
            _ => None,
        })
        .collect()
}

fn fault_rows(t: &[TraceEvent], fault: FaultKind) -> (Vec<Duration>, Vec<Duration>) {
    let started = t
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::FaultStarted { fault: f, .. } if *f == fault))
        .map(|e| e.at)
        .collect();
    let ended = t
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::FaultEnded { fault: f, .. } if *f == fault))
        .map(|e| e.at)
        .collect();
    (started, ended)
}

#[test]
fn a_rival_device_closes_our_socket_with_440_then_again_after_each_of_our_logins() {
    let t = trace(
        Engine::Turmoil,
        r#"
duration = "5m"
quiet_tail = "1m"
[[events]]
at = "30s"
action = "rival_device"
after = "3s"
times = 3
"#,
        "stable",
    );
    let closes = closed_with(&t, 440);
    assert_eq!(closes.len(), 3, "{closes:?}");
    assert_eq!(closes[0].0, secs(30), "the first login is at `at`");
    for (at, sock) in &closes[1..] {
        assert_eq!(
            *at,
            auth_time(&t, *sock) + secs(3),
            "each later login is `after` our socket's authentication"
        );
    }
    let by_fault = t
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::EndpointReplaced {
                    by_fault: true,
                    new_sock: None,
                    ..
                }
            )
        })
        .count();
    assert_eq!(by_fault, 3);
    let (started, ended) = fault_rows(&t, FaultKind::RivalDevice);
    assert_eq!(started, vec![secs(30)]);
    assert_eq!(ended, vec![closes[2].0], "the last login ends the fault");
}

#[test]
fn a_rival_device_with_until_logs_in_no_more_after_that_time() {
    let t = trace(
        Engine::Fast,
        r#"
duration = "6m"
quiet_tail = "1m"
[[events]]
at = "30s"
action = "rival_device"
after = "2s"
until = "3m"
"#,
        "stable",
    );
    let closes = closed_with(&t, 440);
    assert!(closes.len() >= 2, "{closes:?}");
    assert!(closes.iter().all(|(at, _)| *at <= secs(180)), "{closes:?}");
    let (_, ended) = fault_rows(&t, FaultKind::RivalDevice);
    assert_eq!(ended, vec![secs(180)]);
}

#[test]
fn the_endpoint_closes_with_428_a_socket_that_sends_nothing_for_its_idle_timeout() {
    let t = trace(
        Engine::Turmoil,
        r#"
duration = "3m"
quiet_tail = "30s"
[endpoint]
idle_timeout = "40s"
[supervisor.overrides]
keepalive_interval = "2m"
"#,
        "stable",
    );
    let closes = closed_with(&t, 428);
    assert!(!closes.is_empty());
    let (at, sock) = closes[0];
    assert_eq!(at, auth_time(&t, sock) + secs(40));
}

#[test]
fn the_default_idle_timeout_never_closes_a_socket_that_pings_every_30s() {
    let t = trace(Engine::Fast, "duration = \"10m\"\n", "stable");
    assert_eq!(closed_with(&t, 428), vec![]);
    assert_eq!(authenticated(&t).len(), 1);
}

#[test]
fn a_stall_holds_a_keep_alive_and_delivers_it_after_so_the_socket_survives() {
    for engine in [Engine::Turmoil, Engine::Fast] {
        let t = trace(
            engine,
            r#"
duration = "4m"
quiet_tail = "30s"
[[events]]
at = "1m58s"
action = "stall"
duration = "6s"
"#,
            "stable",
        );
        // The keep-alive of 2m is sent during the stall and its pong is due
        // before the link counts as dead (35 s after the pong of 1m30s).
        // Dropped bytes would stall the stream for good (no retransmission)
        // and the supervisor would reconnect; held ones arrive late.
        assert_eq!(authenticated(&t).len(), 1, "{engine:?}");
        let ends: Vec<_> = t
            .iter()
            .filter(|e| matches!(e.kind, EventKind::EndpointClosed { .. }) && e.at < secs(240))
            .collect();
        assert!(ends.is_empty(), "{engine:?}: {ends:?}");
        let (started, ended) = fault_rows(&t, FaultKind::Stall);
        assert_eq!((started, ended), (vec![secs(118)], vec![secs(124)]));
    }
}

#[test]
fn a_stall_longer_than_the_idle_timeout_gets_the_socket_closed_with_428_during_it() {
    let t = trace(
        Engine::Turmoil,
        r#"
duration = "4m"
quiet_tail = "1m"
[endpoint]
idle_timeout = "10s"
[supervisor.overrides]
keepalive_interval = "5s"
[[events]]
at = "2m"
action = "stall"
duration = "12s"
"#,
        "stable",
    );
    let closes = closed_with(&t, 428);
    assert_eq!(closes.len(), 1, "{closes:?}");
    let at = closes[0].0;
    assert!(at > secs(125) && at <= secs(130), "closed at {at:?}");
}

#[test]
fn churn_closes_every_socket_after_its_authentication_with_the_code() {
    let t = trace(
        Engine::Turmoil,
        r#"
duration = "6m"
quiet_tail = "1m"
[[events]]
at = "1m"
action = "churn"
after = "40s"
duration = "4m"
"#,
        "stable",
    );
    let closes = closed_with(&t, 408);
    assert!(closes.len() >= 3, "{closes:?}");
    assert_eq!(
        closes[0].0,
        secs(100),
        "one open at the start: `after` the start"
    );
    for (at, sock) in &closes[1..] {
        assert_eq!(*at, auth_time(&t, *sock) + secs(40));
    }
    assert!(closes.iter().all(|(at, _)| *at <= secs(300)));
}

#[test]
fn a_stale_close_arrives_on_the_old_socket_after_the_new_one_authenticated() {
    let t = trace(
        Engine::Turmoil,
        r#"
duration = "2m"
quiet_tail = "30s"
[supervisor.overrides]
init_paths = 2
connect_skips_busy = false
[[events]]
at = "0s"
action = "stale_close"
after = "2s"
"#,
        "stable",
    );
    let (at, old, new) = t
        .iter()
        .find_map(|e| match e.kind {
            EventKind::EndpointReplaced {
                old_sock,
                new_sock: Some(new_sock),
                by_fault: false,
            } => Some((e.at, old_sock, new_sock)),
            _ => None,
        })
        .expect("the second init path's socket replaced the first");
    assert_eq!(auth_time(&t, new), at);
    assert!(closed_with(&t, 440).contains(&(at + secs(2), old)));
    let (_, ended) = fault_rows(&t, FaultKind::StaleClose);
    assert_eq!(ended, vec![at + secs(2)]);
}

fn stream_error_src(extra: &str) -> String {
    format!(
        "duration = \"4m\"\nquiet_tail = \"1m\"\n[[events]]\nat = \"1m\"\naction = \"stream_error\"\n{extra}\n"
    )
}

#[test]
fn a_conflict_device_removed_with_code_401_is_a_logout_and_stable_stops() {
    let t = trace(
        Engine::Turmoil,
        &stream_error_src("code = 401\nchild = \"conflict\"\ntype = \"device_removed\""),
        "stable",
    );
    assert_eq!(closed_with(&t, 401).len(), 1);
    assert_eq!(handled(&t), vec![(401, CloseAction::Stop)]);
    assert_eq!(authenticated(&t).len(), 1, "no reconnect after a logout");
}

#[test]
fn a_bare_conflict_is_decoded_as_440() {
    let t = trace(
        Engine::Turmoil,
        &stream_error_src("child = \"conflict\""),
        "stable",
    );
    assert_eq!(closed_with(&t, 440), vec![(secs(60), 1)]);
    assert_eq!(handled(&t).first().map(|h| h.0), Some(440));
}

#[test]
fn an_unknown_child_without_a_code_is_decoded_as_500() {
    let t = trace(
        Engine::Turmoil,
        &stream_error_src("child = \"xml-not-well-formed\""),
        "stable",
    );
    assert_eq!(closed_with(&t, 500), vec![(secs(60), 1)]);
    assert_eq!(handled(&t).first().map(|h| h.0), Some(500));
}

#[test]
fn messages_arrive_every_period_during_the_window_and_the_supervisor_ignores_them() {
    let t = trace(
        Engine::Turmoil,
        r#"
duration = "4m"
quiet_tail = "30s"
[[events]]
at = "1m"
action = "messages"
every = "25s"
duration = "2m"
"#,
        "stable",
    );
    let sent: Vec<Duration> = t
        .iter()
        .filter(|e| matches!(e.kind, EventKind::EndpointMessage { sock: 1, .. }))
        .map(|e| e.at)
        .collect();
    assert_eq!(sent.len(), 4, "{sent:?}");
    for pair in sent.windows(2) {
        assert_eq!(pair[1] - pair[0], secs(25));
    }
    assert!(sent[0] >= secs(85) && sent[0] < secs(86), "{sent:?}");
    assert_eq!(authenticated(&t).len(), 1, "ignored without error");
    assert!(handled(&t).is_empty());
}
