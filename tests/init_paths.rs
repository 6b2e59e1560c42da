//! `init_paths_own_sessions`: two init paths that each own the user's
//! session (enudler/nudlers#105's two clients) replace each other's socket
//! with 440 for ever; sharing one session map, the second takes the first
//! one's session over and one socket survives. Exact virtual times on one
//! paused runtime (the in-memory link has no latency).

mod common;

use loopguard::supervisor::Policy;
use loopguard::trace::{AttemptCause, CloseAction};

use common::{run_for, secs, World};

/// nudlers' two init paths: each reconnects on 440 one second later, and
/// every open resets the count. The auto-reconnector is idle.
fn two_init_paths(own_sessions: bool) -> Policy {
    let mut t = toml::Table::new();
    t.insert("init_paths".into(), toml::Value::Integer(2));
    t.insert("connect_skips_busy".into(), toml::Value::Boolean(false));
    t.insert(
        "init_paths_own_sessions".into(),
        toml::Value::Boolean(own_sessions),
    );
    t.insert(
        "stop_codes".into(),
        toml::Value::Array(vec![401.into(), 403.into(), 411.into()]),
    );
    t.insert("backoff_base".into(), "1s".into());
    t.insert("episode_min_uptime".into(), "0s".into());
    t.insert("check_interval".into(), "10h".into());
    Policy::preset("stable")
        .unwrap()
        .with_overrides(&t)
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn init_paths_that_own_their_sessions_replace_each_other_with_440_every_second() {
    let w = World::new(&[("alice", true)]);
    w.supervisor("app-1", two_init_paths(true)).start();
    run_for(secs(4) + std::time::Duration::from_millis(500)).await;
    // Both paths connect at 0 s; the second's authentication closes the
    // first with 440, whose handler reconnects at 1 s and closes the second
    // in turn, and so on.
    assert_eq!(
        w.closes_handled(),
        (0..5)
            .map(|s| (secs(s), 440, CloseAction::Backoff))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        w.authenticated("alice"),
        [secs(0), secs(0), secs(1), secs(2), secs(3), secs(4)]
    );
    assert_eq!(
        w.attempts("app-1", AttemptCause::Backoff),
        [secs(1), secs(2), secs(3), secs(4)]
    );
}

#[tokio::test(start_paused = true)]
async fn init_paths_sharing_one_session_map_leave_one_socket_after_the_race() {
    let w = World::new(&[("alice", true)]);
    w.supervisor("app-1", two_init_paths(false)).start();
    run_for(secs(60)).await;
    // The second connect takes the session over; the first socket's 440 is
    // a replaced session's close, which nobody handles.
    assert!(w.closes_handled().is_empty(), "{:?}", w.closes_handled());
    assert_eq!(w.authenticated("alice"), [secs(0), secs(0)]);
    assert!(w.attempts("app-1", AttemptCause::Backoff).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_crash_halts_every_init_paths_sessions() {
    let w = World::new(&[("alice", true)]);
    let sup = w.supervisor("app-1", two_init_paths(true));
    sup.start();
    run_for(secs(2) + std::time::Duration::from_millis(500)).await;
    sup.halt();
    let before = w.closes_handled().len();
    run_for(secs(10)).await;
    assert_eq!(w.closes_handled().len(), before, "{:?}", w.closes_handled());
}
