//! Metrics of a run come out exactly: uptime, attempts, closes by code,
//! disconnected stretches, recovery times.

mod report_fixtures;

use std::collections::BTreeMap;
use std::time::Duration;

use loopguard::report::{metrics, metrics_for_users};
use loopguard::trace::{AttemptCause, ConnectionState, EventKind};
use report_fixtures::Builder;

fn s(secs: f64) -> Duration {
    Duration::from_secs_f64(secs)
}

#[test]
fn the_metrics_of_a_fixture_trace_come_out_exactly() {
    let (_, trace) = report_fixtures::one_minute();
    let m = metrics(&trace, Duration::from_secs(60));

    let alice = &m.users["alice"];
    assert_eq!(alice.connected, s(45.0));
    assert_eq!(alice.uptime_pct, 75.0);
    assert_eq!(
        alice.attempts,
        BTreeMap::from([
            (AttemptCause::Backoff, 1),
            (AttemptCause::Auto, 1),
            (AttemptCause::Startup, 1)
        ])
    );
    assert_eq!(alice.attempts_total, 3);
    assert_eq!(alice.closes, BTreeMap::from([(408, 1), (440, 1)]));
    assert_eq!(alice.closes_without_code, 0);
    assert_eq!(alice.recoveries, vec![s(5.0), s(10.0)]);
    assert_eq!(alice.recover_median, Some(s(7.5)));
    assert_eq!(alice.recover_max, Some(s(10.0)));
    assert_eq!(alice.longest_disconnected, s(10.0));
    assert_eq!(alice.unrecovered, 0);

    let bob = &m.users["bob"];
    assert_eq!(bob.connected, s(30.0));
    assert_eq!(bob.uptime_pct, 50.0);
    assert_eq!(
        bob.attempts,
        BTreeMap::from([
            (AttemptCause::Backoff, 1),
            (AttemptCause::Status, 1),
            (AttemptCause::Startup, 1)
        ])
    );
    assert_eq!(bob.closes, BTreeMap::from([(401, 1)]));
    assert_eq!(bob.closes_without_code, 1);
    assert_eq!(bob.recoveries, Vec::<Duration>::new());
    assert_eq!(bob.recover_median, None);
    assert_eq!(bob.recover_max, None);
    assert_eq!(bob.longest_disconnected, s(30.0));
    assert_eq!(bob.unrecovered, 1);

    assert_eq!(m.run_length, s(60.0));
    assert_eq!(m.uptime_pct, 62.5);
    assert_eq!(m.attempts_total, 6);
    assert_eq!(
        m.attempts,
        BTreeMap::from([
            (AttemptCause::Backoff, 2),
            (AttemptCause::Auto, 1),
            (AttemptCause::Status, 1),
            (AttemptCause::Startup, 2)
        ])
    );
    assert_eq!(m.closes, BTreeMap::from([(401, 1), (408, 1), (440, 1)]));
    assert_eq!(m.closes_without_code, 1);
    assert_eq!(m.closes_total(), 4);
    assert_eq!(m.longest_disconnected, s(30.0));
    assert_eq!(m.recoveries, vec![s(5.0), s(10.0)]);
    assert_eq!(m.recover_median, Some(s(7.5)));
    assert_eq!(m.recover_max, Some(s(10.0)));
    assert_eq!(m.unrecovered, 1);
    assert_eq!(m.crashes, 0);
}

#[test]
fn uptime_counts_true_connections_only_not_the_supervisors_word() {
    let mut b = Builder::default();
    // The supervisor says CONNECTED, but its socket only ever got QR refs.
    b.attempt(0, "app-1", "carol", AttemptCause::Startup);
    b.state(
        0,
        "app-1",
        "carol",
        ConnectionState::Disconnected,
        ConnectionState::Connected,
    );
    b.open(1_000, "app-1", "carol", false);
    let m = metrics(&b.finish(), Duration::from_secs(10));
    let carol = &m.users["carol"];
    assert_eq!(carol.connected, Duration::ZERO);
    assert_eq!(carol.uptime_pct, 0.0);
    assert_eq!(carol.longest_disconnected, s(10.0));
    assert_eq!(carol.unrecovered, 0);
}

#[test]
fn a_user_never_seen_in_the_trace_still_counts_with_zero_uptime() {
    let mut b = Builder::default();
    b.open(0, "app-1", "alice", true);
    let m = metrics_for_users(
        &b.finish(),
        Duration::from_secs(20),
        &["alice".into(), "dave".into()],
    );
    assert_eq!(m.users["alice"].uptime_pct, 100.0);
    assert_eq!(m.users["dave"].uptime_pct, 0.0);
    assert_eq!(m.users["dave"].longest_disconnected, s(20.0));
    assert_eq!(m.uptime_pct, 50.0);
}

#[test]
fn a_connection_running_past_the_run_end_is_cut_at_the_end() {
    let mut b = Builder::default();
    let sock = b.open(2_000, "app-1", "alice", true);
    b.close(12_000, "app-1", "alice", sock, Some(428));
    b.push(
        12_000,
        "sim",
        None,
        EventKind::InstanceCrashed {
            instance: "app-1".into(),
        },
    );
    b.open(16_000, "app-1", "alice", true);
    let m = metrics(&b.finish(), Duration::from_secs(20));
    let alice = &m.users["alice"];
    assert_eq!(alice.connected, s(14.0));
    assert_eq!(alice.uptime_pct, 70.0);
    assert_eq!(alice.recoveries, vec![s(4.0)]);
    assert_eq!(alice.longest_disconnected, s(4.0));
    assert_eq!(m.crashes, 1);
}
