//! The seven blind spots of issue 7, each closed: a deliberately broken
//! supervisor (a test-only fault switch, or a policy knob turned the wrong
//! way) that passed every invariant before is now caught by the scenario
//! gate, and the test names the invariant that catches it. The runs are
//! `stable` (which holds everything on its own) with one thing broken.
//!
//! Fault switches exist only with the `test-faults` feature (`make test`).

#![cfg(feature = "test-faults")]

use std::path::Path;

use loopguard::report::{RunSummary, Verdict};
use loopguard::run::execute;
use loopguard::scenario::{load, parse, Scenario};
use loopguard::test_faults;

fn shipped(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(format!("{name}.toml"));
    load(&path).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn written(name: &str, source: &str) -> Scenario {
    parse(Path::new(&format!("tests/{name}.toml")), source).unwrap_or_else(|e| panic!("{e}"))
}

/// Ten quiet minutes for one paired user: nothing should happen at all.
fn quiet() -> Scenario {
    written(
        "quiet",
        "description = \"One paired user, no faults.\"\nduration = \"10m\"\n",
    )
}

fn with_overrides(mut s: Scenario, overrides: &[(&str, toml::Value)]) -> Scenario {
    for (k, v) in overrides {
        s.supervisor.overrides.insert((*k).to_string(), v.clone());
    }
    s
}

/// Runs `scenario` on `stable` with `faults` on.
fn run_stable(scenario: &Scenario, faults: &[&str]) -> RunSummary {
    test_faults::with(faults, || {
        execute(scenario, "stable", None, &mut |_| {})
            .unwrap_or_else(|e| panic!("{}: {e}", scenario.name))
            .summary
    })
}

/// The gate fails the run, and `invariant` is among the violated, with a
/// kept violation whose message contains `words`.
fn assert_caught_by(run: &RunSummary, invariant: &str, words: &str) {
    assert_eq!(run.verdict, Verdict::Fail, "{}: not caught", run.run);
    assert!(
        run.violated.iter().any(|v| v == invariant),
        "{}: `{invariant}` held (violated: {:?})",
        run.run,
        run.violated
    );
    assert!(
        run.violations
            .iter()
            .any(|v| v.invariant == invariant && v.message.contains(words)),
        "{}: no `{invariant}` violation saying {words:?}: {:#?}",
        run.run,
        run.violations
            .iter()
            .filter(|v| v.invariant == invariant)
            .map(|v| &v.message)
            .collect::<Vec<_>>()
    );
}

#[test]
fn blind_spot_1_two_instances_fighting_to_the_end_are_not_eventually_connected() {
    // Without leases both instances connect the user; each 440 is waited out
    // and answered by stealing the session back, to the end of the run.
    let s = with_overrides(shipped("second_instance"), &[("lease", false.into())]);
    let run = run_stable(&s, &[]);
    assert_caught_by(&run, "eventually_connected", "the connection dropped");
}

#[test]
fn blind_spot_2_automatic_qr_sessions_after_a_401_break_terminal_codes_respected() {
    let s = with_overrides(
        shipped("logged_out_401"),
        &[
            ("skip_logged_out", false.into()),
            ("unpaired_needs_person", false.into()),
        ],
    );
    let run = run_stable(&s, &[]);
    assert_caught_by(&run, "terminal_codes_respected", "closed socket");
}

fn closed_with_403() -> Scenario {
    written(
        "forbidden_403",
        "description = \"WhatsApp closes the socket with 403 at 2 min.\"\n\
         duration = \"15m\"\n\
         [[events]]\nat = \"2m\"\naction = \"close\"\ncode = 403\n",
    )
}

#[test]
fn blind_spot_2_retrying_403_every_cooldown_breaks_terminal_codes_respected() {
    let s = with_overrides(closed_with_403(), &[("skip_logged_out", false.into())]);
    let run = run_stable(&s, &[]);
    assert_caught_by(&run, "terminal_codes_respected", "with 403");
}

#[test]
fn stable_leaves_a_user_closed_with_403_to_a_person() {
    let run = run_stable(&closed_with_403(), &[]);
    assert_eq!(run.verdict, Verdict::Pass, "{:?}", run.unmet);
    assert!(run.violated.is_empty(), "{:?}", run.violations);
}

#[test]
fn blind_spot_3_a_status_stuck_in_connecting_breaks_store_matches_truth() {
    let run = run_stable(&quiet(), &["supervisor_never_stores_connected"]);
    assert_caught_by(&run, "store_matches_truth", "the store said CONNECTING");
}

#[test]
fn blind_spot_4_a_status_made_attempt_labelled_auto_breaks_status_read_only() {
    let s = with_overrides(
        shipped("many_tabs_polling"),
        &[("status_starts_connection", true.into())],
    );
    let run = run_stable(&s, &["supervisor_relabels_status_attempt"]);
    assert_caught_by(&run, "status_read_only", "while serving status request");
    assert!(
        run.violations
            .iter()
            .any(|v| v.message.contains("labelled the attempt `auto`")),
        "the evidence names the false label"
    );
}

#[test]
fn blind_spot_5_a_task_left_behind_by_every_closed_session_breaks_no_zombie_work() {
    let run = run_stable(&shipped("repeated_440"), &["supervisor_leaks_session_task"]);
    assert_caught_by(&run, "no_zombie_work", "tasks of its own");
}

#[test]
fn blind_spot_6_a_dead_link_never_closed_breaks_dead_link_detected() {
    let run = run_stable(
        &shipped("keepalive_silence"),
        &["supervisor_ignores_dead_link"],
    );
    assert_caught_by(&run, "dead_link_detected", "past the dead-link deadline");
}

#[test]
fn blind_spot_7_reconnecting_a_recovered_user_breaks_settles() {
    let run = run_stable(&quiet(), &["supervisor_churns_connected_sessions"]);
    assert_caught_by(&run, "settles", "had been connected since");
}

#[test]
fn blind_spot_7_a_status_flipping_ten_times_a_second_breaks_settles() {
    let run = run_stable(&quiet(), &["supervisor_status_flaps"]);
    assert_caught_by(&run, "settles", "status changes within 60 s");
}
