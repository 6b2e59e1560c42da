//! The parser on issue 8's fault vocabulary: defaults, and a bad field of
//! each new action (and of `[endpoint]`) refused at its file, line and field.

use std::path::Path;
use std::time::Duration;

use loopguard::scenario::{parse, Action, ScenarioError, DEFAULT_IDLE_TIMEOUT};

const FILE: &str = "scenarios/x.toml";

fn err(src: &str) -> ScenarioError {
    match parse(Path::new(FILE), src) {
        Ok(_) => panic!("should be refused:\n{src}"),
        Err(e) => e,
    }
}

fn assert_at(e: &ScenarioError, line: usize, field: &str, words: &str) {
    let shown = e.to_string();
    assert_eq!(e.line(), Some(line), "{shown}");
    assert_eq!(e.field(), Some(field), "{shown}");
    assert!(shown.starts_with(&format!("{FILE}:{line}: ")), "{shown}");
    assert!(shown.contains(words), "`{words}` not in: {shown}");
}

fn event(body: &str) -> String {
    format!("duration = \"10m\"\n[[events]]\nat = \"1m\"\n{body}\n")
}

fn action(body: &str) -> Action {
    parse(Path::new(FILE), &event(body))
        .unwrap_or_else(|e| panic!("{e}"))
        .events[0]
        .action
        .clone()
}

#[test]
fn the_idle_timeout_defaults_to_60s_and_off_turns_it_off() {
    let s = parse(Path::new(FILE), "seed = 1\n").unwrap();
    assert_eq!(s.endpoint.idle_timeout, Some(DEFAULT_IDLE_TIMEOUT));
    assert_eq!(DEFAULT_IDLE_TIMEOUT, Duration::from_secs(60));
    let s = parse(Path::new(FILE), "[endpoint]\nidle_timeout = \"off\"\n").unwrap();
    assert_eq!(s.endpoint.idle_timeout, None);
}

#[test]
fn a_zero_idle_timeout_is_refused_at_its_line() {
    let e = err("seed = 1\n[endpoint]\nidle_timeout = \"0s\"\n");
    assert_at(&e, 3, "endpoint.idle_timeout", "longer than zero");
}

#[test]
fn rival_device_defaults_to_one_login_5s_after() {
    assert_eq!(
        action("action = \"rival_device\""),
        Action::RivalDevice {
            user: "alice".into(),
            after: Duration::from_secs(5),
            times: 1,
            until: None
        }
    );
}

#[test]
fn rival_device_until_before_at_is_refused() {
    let e = err(&event("action = \"rival_device\"\nuntil = \"30s\""));
    assert_at(&e, 5, "events[0].until", "not after the event's at");
}

#[test]
fn stall_of_instance_zero_is_refused() {
    let e = err(&event(
        "action = \"stall\"\ninstance = 0\nduration = \"12s\"",
    ));
    assert_at(&e, 5, "events[0].instance", "numbered from 1");
}

#[test]
fn churn_without_after_is_refused() {
    let e = err(&event("action = \"churn\"\nduration = \"1h\""));
    assert_at(&e, 2, "events[0].after", "missing field `after`");
}

#[test]
fn churn_defaults_to_408() {
    assert!(matches!(
        action("action = \"churn\"\nafter = \"3m\"\nduration = \"1h\""),
        Action::Churn { code: 408, .. }
    ));
}

#[test]
fn stale_close_with_a_code_other_than_440_or_401_is_refused() {
    let e = err(&event("action = \"stale_close\"\ncode = 503"));
    assert_at(&e, 5, "events[0].code", "440 (replaced) or 401");
}

#[test]
fn stream_error_type_without_a_child_is_refused() {
    let e = err(&event(
        "action = \"stream_error\"\ncode = 401\ntype = \"device_removed\"",
    ));
    assert_at(&e, 6, "events[0].type", "give `child` too");
}

#[test]
fn stream_error_with_neither_code_nor_child_is_refused() {
    let e = err(&event("action = \"stream_error\""));
    assert_at(&e, 2, "events[0].code", "missing field `code`");
}

#[test]
fn messages_with_a_zero_period_is_refused() {
    let e = err(&event(
        "action = \"messages\"\nevery = \"0s\"\nduration = \"5m\"",
    ));
    assert_at(&e, 5, "events[0].every", "longer than zero");
}

#[test]
fn every_new_action_and_the_endpoint_table_are_written_back_as_read() {
    let src = r#"
duration = "1h"
[endpoint]
idle_timeout = "off"
[[events]]
at = "1m"
action = "rival_device"
after = "3s"
until = "20m"
[[events]]
at = "2m"
action = "rival_device"
times = 4
[[events]]
at = "3m"
action = "stall"
duration = "12s"
[[events]]
at = "4m"
action = "churn"
after = "3m"
code = 428
duration = "30m"
[[events]]
at = "5m"
action = "stale_close"
code = 401
[[events]]
at = "6m"
action = "stream_error"
code = 401
child = "conflict"
type = "device_removed"
[[events]]
at = "7m"
action = "stream_error"
child = "conflict"
[[events]]
at = "8m"
action = "messages"
duration = "10m"
"#;
    let first = parse(Path::new(FILE), src).unwrap();
    let text = loopguard::scenario::to_toml(&first);
    let mut again = parse(Path::new(FILE), &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    again.source = first.source.clone();
    for (a, b) in again.events.iter_mut().zip(&first.events) {
        a.line = b.line;
    }
    assert_eq!(again, first, "{text}");
}
