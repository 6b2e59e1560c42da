//! The supervisor's behaviour per preset, pinned at exact virtual times:
//! one tokio runtime with paused time, the fake endpoint over in-memory
//! pipes.

mod common;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use loopguard::supervisor::status_api::{self, StatusBody};
use loopguard::trace::{AttemptCause, CloseAction, ConnectionState, EventKind};
use tower::ServiceExt;

use common::{preset_with, run_for, secs, World};

const NO_AUTO: [(&str, &str); 1] = [("check_interval", "10h")];

fn times(s: &[u64]) -> Vec<std::time::Duration> {
    s.iter().map(|&t| secs(t)).collect()
}

async fn backoff_schedule_while_unreachable(preset: &str) -> Vec<std::time::Duration> {
    let w = World::new(&[("alice", true)]);
    w.link.set_reachable(false);
    let sup = w.supervisor("app-1", preset_with(preset, &NO_AUTO));
    sup.start();
    run_for(secs(1200)).await;
    w.attempts("app-1", AttemptCause::Backoff)
}

#[tokio::test(start_paused = true)]
async fn stable_retries_after_2_4_8_16_32_seconds_then_stops() {
    assert_eq!(
        backoff_schedule_while_unreachable("stable").await,
        times(&[2, 6, 14, 30, 62])
    );
}

#[tokio::test(start_paused = true)]
async fn seed_fix_retries_after_2_4_8_16_32_seconds_then_stops() {
    assert_eq!(
        backoff_schedule_while_unreachable("seed-fix").await,
        times(&[2, 6, 14, 30, 62])
    );
}

#[tokio::test(start_paused = true)]
async fn legacy_retries_after_1_2_4_seconds_capped_at_30_ten_times() {
    // Delays 1, 2, 4, 8, 16, 30, 30, 30, 30, 30.
    assert_eq!(
        backoff_schedule_while_unreachable("legacy").await,
        times(&[1, 3, 7, 15, 31, 61, 91, 121, 151, 181])
    );
}

/// Connects alice, closes her socket with 440 at 100 s, and returns the
/// attempts that followed.
async fn attempts_after_a_440(preset: &str) -> Vec<(std::time::Duration, AttemptCause)> {
    let w = World::new(&[("alice", true)]);
    let sup = w.preset_supervisor("app-1", preset);
    sup.start();
    run_for(secs(100)).await;
    assert_eq!(
        w.authenticated("alice"),
        times(&[0]),
        "connected once before the conflict"
    );
    w.endpoint.close_user("alice", 440);
    run_for(secs(200)).await;
    w.all_attempts("app-1")
        .into_iter()
        .filter(|(t, _)| *t >= secs(100))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn legacy_reconnects_one_second_after_a_440() {
    let after = attempts_after_a_440("legacy").await;
    assert_eq!(after.first(), Some(&(secs(101), AttemptCause::Backoff)));
}

#[tokio::test(start_paused = true)]
async fn seed_fix_does_not_back_off_after_a_440_but_its_next_check_reconnects_within_60s() {
    let after = attempts_after_a_440("seed-fix").await;
    // The session and its last-disconnect time were deleted: the check at
    // 120 s sees no session and reconnects 20 s after the conflict.
    assert_eq!(after.first(), Some(&(secs(120), AttemptCause::Auto)));
    assert!(after.iter().all(|(_, c)| *c != AttemptCause::Backoff));
}

#[tokio::test(start_paused = true)]
async fn stable_waits_at_least_60s_after_a_440() {
    let after = attempts_after_a_440("stable").await;
    // Checks at 120 s and 150 s are inside the cooldown; 180 s is not.
    assert_eq!(after.first(), Some(&(secs(180), AttemptCause::Auto)));
}

async fn status_request(preset: &str) -> (StatusBody, World) {
    let w = World::new(&[("alice", true)]);
    let sup = w.preset_supervisor("app-1", preset);
    let req = Request::get("/api/whatsapp/status?user=alice")
        .body(Body::empty())
        .unwrap();
    let res = status_api::router(sup).oneshot(req).await.unwrap();
    assert_eq!(res.status(), 200);
    let body: StatusBody =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    run_for(secs(5)).await;
    (body, w)
}

#[tokio::test(start_paused = true)]
async fn a_status_request_opens_a_connection_on_legacy() {
    let (body, w) = status_request("legacy").await;
    assert_eq!(body.status, ConnectionState::Disconnected);
    assert_eq!(w.attempts("app-1", AttemptCause::Status), times(&[0]));
    assert_eq!(w.authenticated("alice"), times(&[0]));
}

#[tokio::test(start_paused = true)]
async fn a_status_request_never_opens_a_connection_on_stable() {
    let (body, w) = status_request("stable").await;
    assert_eq!(body.status, ConnectionState::Disconnected);
    assert!(w.all_attempts("app-1").is_empty());
    assert!(!w
        .trace()
        .iter()
        .any(|e| matches!(e.kind, EventKind::SocketOpened { .. })));
}

#[tokio::test(start_paused = true)]
async fn an_unpaired_user_gets_qr_refs_at_0_60_80_100_120_140s_then_a_408_and_stable_stops() {
    let w = World::new(&[("bob", false)]);
    let sup = w.preset_supervisor("app-1", "stable");
    sup.start();
    sup.connect("bob", AttemptCause::Manual);
    run_for(secs(600)).await;
    let trace = w.trace();
    let qr: Vec<_> = trace
        .iter()
        .filter(|e| matches!(e.kind, EventKind::EndpointQr { .. }))
        .map(|e| e.at)
        .collect();
    assert_eq!(qr, times(&[0, 60, 80, 100, 120, 140]));
    let closes = w.closes_handled();
    assert_eq!(closes, vec![(secs(160), 408, CloseAction::Stop)]);
    assert_eq!(
        w.all_attempts("app-1"),
        vec![(secs(0), AttemptCause::Manual)]
    );
}

#[tokio::test(start_paused = true)]
async fn pairing_is_followed_by_515_and_an_immediate_reconnect_that_connects() {
    let w = World::new(&[("bob", false)]);
    let sup = w.preset_supervisor("app-1", "stable");
    sup.start();
    sup.connect("bob", AttemptCause::Manual);
    run_for(secs(30)).await;
    w.endpoint.pair("bob");
    run_for(secs(30)).await;
    let trace = w.trace();
    assert!(trace.iter().any(|e| e.at == secs(30)
        && matches!(
            e.kind,
            EventKind::CloseHandled {
                code: 515,
                action: CloseAction::Restart,
                ..
            }
        )));
    assert_eq!(
        w.all_attempts("app-1"),
        vec![
            (secs(0), AttemptCause::Manual),
            (secs(30), AttemptCause::Restart)
        ]
    );
    assert_eq!(w.authenticated("bob"), times(&[30]));
    assert_eq!(sup.status("bob").unwrap().state, ConnectionState::Connected);
}

#[tokio::test(start_paused = true)]
async fn a_silent_endpoint_is_closed_with_408_35s_after_the_last_frame_then_backed_off() {
    let w = World::new(&[("alice", true)]);
    let sup = w.preset_supervisor("app-1", "stable");
    sup.start();
    // Pings at 30, 60, 90 s are answered; the one at 120 s is not.
    run_for(secs(100)).await;
    w.endpoint.set_ping_silence(true);
    run_for(secs(100)).await;
    let closes = w.closes_handled();
    assert_eq!(
        closes.first(),
        Some(&(secs(125), 408, CloseAction::Backoff))
    );
    assert_eq!(
        w.attempts("app-1", AttemptCause::Backoff).first(),
        Some(&secs(127))
    );
}

#[tokio::test(start_paused = true)]
async fn of_two_stable_instances_one_holds_the_lease_and_the_other_takes_over_only_after_it_expires(
) {
    let w = World::new(&[("alice", true)]);
    let stable = loopguard::supervisor::Policy::preset("stable").unwrap();
    let first = w.supervisor("app-1", stable.clone());
    let second = w.supervisor("app-2", stable);
    first.start();
    second.start();
    run_for(secs(100)).await;
    let opened_on = |host: &str| {
        w.trace()
            .iter()
            .filter(|e| e.host == host && matches!(e.kind, EventKind::SocketOpened { .. }))
            .map(|e| e.at)
            .collect::<Vec<_>>()
    };
    assert_eq!(opened_on("app-1"), times(&[0]));
    assert!(opened_on("app-2").is_empty());
    // app-1 dies at 100 s; its lease was last renewed at 90 s and lasts 75 s.
    first.halt();
    run_for(secs(200)).await;
    // app-2's checks at 120 s and 150 s find the lease held; 180 s is free.
    let denied: Vec<_> = w
        .trace()
        .iter()
        .filter(|e| e.host == "app-2" && matches!(e.kind, EventKind::LeaseDenied { .. }))
        .map(|e| e.at)
        .collect();
    assert_eq!(denied, times(&[0, 30, 60, 90, 120, 150]));
    assert_eq!(opened_on("app-2"), times(&[180]));
    assert_eq!(opened_on("app-1"), times(&[0]));
}

#[tokio::test(start_paused = true)]
async fn cleanup_marks_every_row_disconnected_closes_every_socket_and_forgets_every_session() {
    let w = World::new(&[("alice", true), ("bob", true)]);
    let sup = w.supervisor("app-1", preset_with("stable", &NO_AUTO));
    sup.start();
    run_for(secs(10)).await;
    for user in ["alice", "bob"] {
        assert_eq!(
            w.store.status(user).unwrap().unwrap().status,
            ConnectionState::Connected
        );
    }
    sup.cleanup();
    run_for(secs(1)).await;
    for user in ["alice", "bob"] {
        let row = w.store.status(user).unwrap().unwrap();
        assert_eq!(
            (row.status, row.reason.as_str()),
            (ConnectionState::Disconnected, "cleanup")
        );
        assert_eq!(
            sup.status(user).unwrap().state,
            ConnectionState::Disconnected
        );
    }
    let trace = w.trace();
    let count = |f: fn(&EventKind) -> bool| trace.iter().filter(|e| f(&e.kind)).count();
    assert_eq!(count(|k| matches!(k, EventKind::SocketOpened { .. })), 2);
    assert_eq!(count(|k| matches!(k, EventKind::SocketClosed { .. })), 2);
}

#[tokio::test(start_paused = true)]
async fn on_stable_a_persons_disconnect_holds_until_they_press_connect() {
    let w = World::new(&[("alice", true)]);
    let sup = w.preset_supervisor("app-1", "stable");
    sup.start();
    run_for(secs(10)).await;
    sup.disconnect("alice");
    run_for(secs(290)).await;
    assert_eq!(
        w.all_attempts("app-1"),
        vec![(secs(0), AttemptCause::Startup)]
    );
    assert_eq!(
        sup.status("alice").unwrap().state,
        ConnectionState::Disconnected
    );
    sup.connect("alice", AttemptCause::Manual);
    run_for(secs(1)).await;
    assert_eq!(w.authenticated("alice"), times(&[0, 300]));
}

#[tokio::test(start_paused = true)]
async fn on_stable_a_disconnect_pressed_on_another_instance_closes_the_owners_socket_at_its_next_keep_alive(
) {
    let w = World::new(&[("alice", true)]);
    let stable = loopguard::supervisor::Policy::preset("stable").unwrap();
    let owner = w.supervisor("app-1", stable.clone());
    let other = w.supervisor("app-2", stable);
    owner.start();
    other.start();
    run_for(secs(40)).await;
    other.disconnect("alice");
    run_for(secs(300)).await;
    let closed: Vec<_> = w
        .trace()
        .iter()
        .filter(|e| e.host == "app-1" && matches!(e.kind, EventKind::SocketClosed { .. }))
        .map(|e| e.at)
        .collect();
    // Keep-alives at 30 s and 60 s: the second one finds the user held.
    assert_eq!(closed, times(&[60]));
    assert_eq!(w.authenticated("alice"), times(&[0]));
    other.connect("alice", AttemptCause::Manual);
    run_for(secs(1)).await;
    assert_eq!(w.authenticated("alice"), times(&[0, 340]));
}

#[tokio::test(start_paused = true)]
async fn on_stable_an_instance_taking_a_user_over_carries_its_episode_on_from_the_store() {
    use loopguard::supervisor::store::EpisodeRow;
    let w = World::new(&[("alice", true)]);
    // The previous owner had used 4 of the 5 backoff attempts.
    let earlier = EpisodeRow {
        attempts: 4,
        last_disconnect_ms: None,
    };
    w.store.save_episode("alice", earlier).unwrap();
    w.link.set_reachable(false);
    let sup = w.supervisor("app-2", preset_with("stable", &NO_AUTO));
    sup.start();
    run_for(secs(600)).await;
    // One attempt left, after min(2 s·2^4, 60 s) = 32 s; then it gives up.
    assert_eq!(w.attempts("app-2", AttemptCause::Backoff), times(&[32]));
    assert_eq!(w.store.episode("alice").unwrap().attempts, 5);
}
