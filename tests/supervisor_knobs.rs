//! The supervisor knobs that model other services' bugs: the idle watchdog
//! (`idle_watchdog`, `idle_watchdog_resets_on_reconnect`) and the leaked
//! socket (`leaks_old_socket`). Their behaviour pinned at exact virtual
//! times on one paused runtime, and the scenario gate naming the invariant
//! that catches each one when it is configured on purpose.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use loopguard::report::Verdict;
use loopguard::run::execute;
use loopguard::scenario::load;
use loopguard::supervisor::Policy;
use loopguard::trace::{CloseAction, EventKind};

use common::{run_for, secs, World};

/// `stable` with knobs changed (any TOML value), the auto-reconnector idle.
fn stable_with(knobs: &[(&str, toml::Value)]) -> Policy {
    let mut t = toml::Table::new();
    t.insert("check_interval".into(), toml::Value::String("10h".into()));
    for (k, v) in knobs {
        t.insert(k.to_string(), v.clone());
    }
    Policy::preset("stable")
        .unwrap()
        .with_overrides(&t)
        .unwrap()
}

fn watchdog(after: &str, resets: bool) -> Policy {
    stable_with(&[
        ("idle_watchdog", toml::Value::String(after.into())),
        (
            "idle_watchdog_resets_on_reconnect",
            toml::Value::Boolean(resets),
        ),
    ])
}

/// Times of the closes the supervisor handled with `code`.
fn closes_with(w: &World, code: u16) -> Vec<Duration> {
    w.closes_handled()
        .into_iter()
        .filter(|(_, c, _)| *c == code)
        .map(|(t, _, _)| t)
        .collect()
}

/// Client-side sockets of the run still open at its end (ground truth).
fn open_client_sockets(w: &World) -> usize {
    let trace = w.trace();
    let opened = trace
        .iter()
        .filter(|e| matches!(e.kind, EventKind::SocketOpened { .. }))
        .count();
    let closed = trace
        .iter()
        .filter(|e| matches!(e.kind, EventKind::SocketClosed { .. }))
        .count();
    opened - closed
}

#[tokio::test(start_paused = true)]
async fn the_idle_watchdog_forces_a_quiet_session_off_at_the_first_keep_alive_tick_after_60s() {
    let w = World::new(&[("alice", true)]);
    let sup = w.supervisor("app-1", watchdog("60s", true));
    sup.start();
    run_for(secs(100)).await;
    // Connected at 0 s; the pong at 30 s is not a message; the tick at
    // 60 s finds 60 s of silence and closes with 428, backed off by 2 s.
    assert_eq!(
        w.closes_handled().first(),
        Some(&(secs(60), 428, CloseAction::Backoff))
    );
    assert_eq!(w.authenticated("alice"), [secs(0), secs(62)]);
}

#[tokio::test(start_paused = true)]
async fn a_watchdog_that_resets_on_reconnect_gives_each_new_socket_a_full_60s() {
    let w = World::new(&[("alice", true)]);
    let sup = w.supervisor("app-1", watchdog("60s", true));
    sup.start();
    run_for(secs(190)).await;
    // 0 → 60, reconnect 62 → 122, reconnect 124 → 184.
    assert_eq!(closes_with(&w, 428), [secs(60), secs(122), secs(184)]);
}

#[tokio::test(start_paused = true)]
async fn a_watchdog_that_never_resets_drops_every_fresh_socket_at_its_first_tick() {
    let w = World::new(&[("alice", true)]);
    let sup = w.supervisor("app-1", watchdog("60s", false));
    sup.start();
    run_for(secs(170)).await;
    // The timer started at 0 s and no message moved it: after 60 s each new
    // socket is already idle and goes at its first keep-alive tick, 30 s
    // after it connected (openclaw#60337's ~63 s loop). Uptimes of 30 s do
    // not end the episode, so the backoff grows: 62, 96, 134.
    assert_eq!(
        closes_with(&w, 428),
        [secs(60), secs(92), secs(126), secs(164)]
    );
}

#[tokio::test(start_paused = true)]
async fn an_idle_watchdog_of_zero_never_fires() {
    let w = World::new(&[("alice", true)]);
    let sup = w.supervisor("app-1", watchdog("0s", false));
    sup.start();
    run_for(secs(600)).await;
    assert!(w.closes_handled().is_empty(), "{:?}", w.closes_handled());
    assert_eq!(w.authenticated("alice"), [secs(0)]);
}

/// Silences the endpoint from 100 s and returns the world at 130 s: the
/// dead link is given up at 125 s and the retry's socket opened at 127 s.
async fn a_dead_link_given_up(leaks: bool) -> World {
    let w = World::new(&[("alice", true)]);
    let sup = w.supervisor(
        "app-1",
        stable_with(&[("leaks_old_socket", toml::Value::Boolean(leaks))]),
    );
    sup.start();
    run_for(secs(100)).await;
    w.endpoint.set_ping_silence(true);
    run_for(secs(30)).await;
    assert_eq!(
        w.closes_handled().first(),
        Some(&(secs(125), 408, CloseAction::Backoff))
    );
    w
}

#[tokio::test(start_paused = true)]
async fn a_leaking_supervisor_keeps_the_dead_socket_open_beside_the_new_one() {
    let w = a_dead_link_given_up(true).await;
    assert_eq!(open_client_sockets(&w), 2);
}

#[tokio::test(start_paused = true)]
async fn a_leaked_socket_keeps_two_tasks_running() {
    let tasks = || {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    };
    let closed = a_dead_link_given_up(false).await;
    let without = tasks();
    drop(closed);
    let leaked = a_dead_link_given_up(true).await;
    // Both worlds' tasks are alive: the leaking one adds its own (as many
    // as the first) plus the old socket's reader and keep-alive.
    assert_eq!(tasks(), 2 * without + 2);
    drop(leaked);
}

#[tokio::test(start_paused = true)]
async fn without_the_leak_the_dead_socket_is_let_go_before_the_retry() {
    let w = a_dead_link_given_up(false).await;
    assert_eq!(open_client_sockets(&w), 1);
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs shipped scenario `file` on `stable` with `knobs` overridden and
/// returns the invariants it violated.
fn violated_on_stable_with(file: &str, knobs: &[(&str, toml::Value)]) -> Vec<String> {
    let mut s = load(&repo().join(file)).unwrap();
    for (k, v) in knobs {
        s.supervisor.overrides.insert(k.to_string(), v.clone());
    }
    let r = execute(&s, "stable", None, &mut |_| {}).unwrap();
    assert_eq!(r.summary.verdict, Verdict::Fail, "{file} {knobs:?}");
    r.summary.violated
}

#[test]
fn the_gate_catches_an_idle_watchdog_on_a_quiet_account_as_settles() {
    let v = violated_on_stable_with(
        "scenarios/keepalive_silence.toml",
        &[("idle_watchdog", toml::Value::String("2m".into()))],
    );
    assert!(v.contains(&"settles".to_string()), "{v:?}");
}

#[test]
fn the_gate_catches_a_watchdog_that_never_resets_as_settles() {
    let v = violated_on_stable_with(
        "scenarios/keepalive_silence.toml",
        &[
            ("idle_watchdog", toml::Value::String("10m".into())),
            (
                "idle_watchdog_resets_on_reconnect",
                toml::Value::Boolean(false),
            ),
        ],
    );
    assert!(v.contains(&"settles".to_string()), "{v:?}");
}

#[test]
fn the_gate_catches_a_leaked_socket_as_single_socket() {
    let v = violated_on_stable_with(
        "scenarios/keepalive_silence.toml",
        &[("leaks_old_socket", toml::Value::Boolean(true))],
    );
    assert!(v.contains(&"single_socket".to_string()), "{v:?}");
}
