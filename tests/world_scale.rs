//! Big worlds: 70 users or more used to crash turmoil ("server socket
//! buffer full": a listener backlog of 64). A modest big world runs here,
//! cheaply; `make bench` runs 1,000 users and 500 tabs and reports time
//! and memory.

use std::collections::BTreeSet;
use std::path::Path;

use loopguard::run::execute;
use loopguard::scenario::parse;
use loopguard::sim::{tcp_capacity, DEFAULT_TCP_CAPACITY};
use loopguard::trace::EventKind;

/// A scenario text with `users` users and `tabs` dashboard tabs.
fn big_world(users: usize, tabs: u32) -> String {
    let mut s = format!(
        "seed = 5\nduration = \"1m\"\nquiet_tail = \"1m\"\ntick = \"50ms\"\n\n[tabs]\ncount = {tabs}\npoll_interval = \"5s\"\njitter = \"1s\"\n"
    );
    for n in 1..=users {
        s.push_str(&format!("\n[[users]]\nid = \"user{n}\"\n"));
    }
    s
}

#[test]
fn two_hundred_users_and_a_hundred_tabs_all_connect_without_a_panic() {
    let s = parse(Path::new("big.toml"), &big_world(200, 100)).expect("parses");
    let result = execute(&s, "stable", None, &mut |_| {}).expect("runs to its end");
    let connected: BTreeSet<&str> = result
        .trace
        .iter()
        .filter(|e| matches!(e.kind, EventKind::EndpointAuthenticated { .. }))
        .map(|e| e.user())
        .collect();
    assert_eq!(
        connected.len(),
        200,
        "every user authenticated once at least"
    );
    let polled_ok = result
        .trace
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::StatusPolled {
                    http_status: 200,
                    ..
                }
            )
        })
        .count();
    // 100 tabs polling every 5-6 s for 2 min: well over 1,000 answers.
    assert!(polled_ok > 1000, "{polled_ok} status answers");
}

#[test]
fn the_tcp_capacity_grows_with_users_and_tabs_and_stays_at_turmoils_default_when_small() {
    let small = parse(Path::new("small.toml"), &big_world(2, 3)).expect("parses");
    assert_eq!(tcp_capacity(&small), DEFAULT_TCP_CAPACITY);
    let big = parse(Path::new("big.toml"), &big_world(1000, 500)).expect("parses");
    assert_eq!(tcp_capacity(&big), 2 * (1000 + 500));
}
