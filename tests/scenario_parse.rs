//! The scenario parser: defaults, durations, and errors that name file, line
//! and field exactly.

use std::path::{Path, PathBuf};
use std::time::Duration;

use loopguard::scenario::{load, load_dir, parse, Action, Link, Scenario, ScenarioError};

const FILE: &str = "scenarios/x.toml";

fn ok(src: &str) -> Scenario {
    parse(Path::new(FILE), src).unwrap_or_else(|e| panic!("should parse: {e}"))
}

fn err(src: &str) -> ScenarioError {
    match parse(Path::new(FILE), src) {
        Ok(_) => panic!("should be refused:\n{src}"),
        Err(e) => e,
    }
}

/// The error is at `line` about `field`, its Display is one line starting
/// with `file:line:`, and it mentions `words`.
fn assert_at(e: &ScenarioError, line: usize, field: &str, words: &str) {
    let shown = e.to_string();
    assert_eq!(e.file(), Path::new(FILE), "{shown}");
    assert_eq!(e.line(), Some(line), "{shown}");
    assert_eq!(e.field(), Some(field), "{shown}");
    assert!(!shown.contains('\n'), "one line: {shown}");
    assert!(shown.starts_with(&format!("{FILE}:{line}: ")), "{shown}");
    assert!(shown.contains(words), "`{words}` not in: {shown}");
}

#[test]
fn a_file_naming_only_its_seed_gets_every_other_default_and_its_name_from_the_file_stem() {
    let s = parse(Path::new("scenarios/quiet_day.toml"), "seed = 1\n").unwrap();
    assert_eq!(s.name, "quiet_day");
    assert_eq!(s.source, PathBuf::from("scenarios/quiet_day.toml"));
    assert_eq!(s.description, "");
    assert_eq!(s.seed, 1);
    assert_eq!(s.duration, Duration::from_secs(600));
    assert_eq!(s.quiet_tail, Duration::from_secs(300));
    assert_eq!(s.tick, Duration::from_millis(10));
    assert_eq!(s.instances, 1);
    assert_eq!(s.users.len(), 1);
    assert_eq!(
        (
            s.users[0].id.as_str(),
            s.users[0].paired,
            s.users[0].enabled
        ),
        ("alice", true, true)
    );
    assert_eq!(s.supervisor.preset, "stable");
    assert!(s.supervisor.overrides.is_empty());
    assert_eq!(s.tabs.count, 0);
    assert_eq!(s.tabs.poll_interval, Duration::from_secs(5));
    assert_eq!(s.tabs.jitter, Duration::ZERO);
    assert_eq!(s.tabs.user, None);
    assert_eq!(s.network.min_latency, Duration::from_millis(1));
    assert_eq!(s.network.max_latency, Duration::from_millis(20));
    assert!(s.events.is_empty());
    assert!(s.expect.is_empty());
    assert_eq!(s.run_length(), Duration::from_secs(900));
}

#[test]
fn durations_read_like_90s_5m_2h_250ms() {
    let s = ok(r#"
duration = "2h"
quiet_tail = "5m"
tick = "250ms"
[tabs]
poll_interval = "90s"
jitter = "1h 30m"
"#);
    assert_eq!(s.duration, Duration::from_secs(7200));
    assert_eq!(s.quiet_tail, Duration::from_secs(300));
    assert_eq!(s.tick, Duration::from_millis(250));
    assert_eq!(s.tabs.poll_interval, Duration::from_secs(90));
    assert_eq!(s.tabs.jitter, Duration::from_secs(5400));
}

#[test]
fn a_full_file_parses_into_the_model() {
    let s = ok(r#"
name = "full"
description = "all of it"
seed = 7
duration = "30m"
instances = 2
[[users]]
id = "alice"
[[users]]
id = "bob"
paired = false
enabled = false
[supervisor]
preset = "legacy"
[supervisor.overrides]
cooldown = "90s"
max_attempts = 3
[tabs]
count = 20
poll_interval = "2s"
user = "bob"
[[events]]
at = "2m"
action = "close"
code = 440
repeat = { every = "3m", times = 5 }
[[events]]
at = "3m"
action = "flap"
link = "browser-app"
duration = "10m"
down = "20s"
up = "40s"
[[events]]
at = "4m"
action = "pair"
user = "bob"
[[events]]
at = "5m"
action = "crash"
instance = 2
[[events]]
at = "6m"
action = "loss"
rate = 1
duration = "1m"
[expect.legacy]
violates = ["single_socket", "reconnect_cooldown"]
[expect.stable]
holds = ["all"]
"#);
    assert_eq!(s.name, "full");
    assert_eq!(s.users[1].id, "bob");
    assert!(!s.users[1].paired && !s.users[1].enabled);
    assert_eq!(s.supervisor.preset, "legacy");
    assert_eq!(
        s.supervisor
            .overrides
            .get("cooldown")
            .and_then(|v| v.as_str()),
        Some("90s")
    );
    assert_eq!(
        s.supervisor
            .overrides
            .get("max_attempts")
            .and_then(|v| v.as_integer()),
        Some(3)
    );
    assert_eq!(s.tabs.user.as_deref(), Some("bob"));
    assert_eq!(
        s.events[0].action,
        Action::Close {
            user: "alice".into(),
            code: 440
        }
    );
    assert_eq!(s.events[0].line, 22);
    assert_eq!(
        s.events[1].action,
        Action::Flap {
            link: Link::BrowserApp,
            duration: Duration::from_secs(600),
            down: Duration::from_secs(20),
            up: Duration::from_secs(40),
            jitter: Duration::ZERO,
        }
    );
    assert_eq!(
        s.events[3].action,
        Action::Crash {
            instance: 2,
            restart_after: None
        }
    );
    assert_eq!(
        s.events[4].action,
        Action::Loss {
            link: Link::AppWa,
            rate: 1.0,
            duration: Duration::from_secs(60)
        }
    );
    let legacy = &s.expect["legacy"];
    assert_eq!(legacy.violates, ["single_socket", "reconnect_cooldown"]);
    assert!(legacy.holds.is_empty());
    assert_eq!(
        s.expect["stable"].holds.len(),
        loopguard::invariants::INVARIANT_IDS.len(),
        "`all` expands to every invariant"
    );
}

#[test]
fn holds_all_means_every_invariant_not_violated() {
    let s = ok(r#"
[expect.seed-fix]
violates = ["reconnect_cooldown"]
holds = ["all"]
"#);
    let e = &s.expect["seed-fix"];
    assert_eq!(
        e.holds.len(),
        loopguard::invariants::INVARIANT_IDS.len() - 1
    );
    assert!(!e.holds.contains(&"reconnect_cooldown".to_string()));
    assert_eq!(e.holds[0], "single_socket", "report order");
}

#[test]
fn timeline_expands_repeats_in_time_order() {
    let s = ok(r#"
duration = "20m"
[[events]]
at = "2m"
action = "close"
code = 440
repeat = { every = "3m", times = 3 }
[[events]]
at = "5m"
action = "partition"
duration = "1m"
[[events]]
at = "1m"
action = "logout"
"#);
    let got: Vec<(u64, &str)> = s
        .timeline()
        .iter()
        .map(|(t, e)| (t.as_secs(), e.action.name()))
        .collect();
    assert_eq!(
        got,
        [
            (60, "logout"),
            (120, "close"),
            (300, "close"),
            (300, "partition"),
            (480, "close")
        ],
        "repeats expanded; equal times keep file order"
    );
    assert_eq!(s.faults_end(), Duration::from_secs(480));
}

#[test]
fn an_unknown_top_level_field_names_its_line_and_a_suggestion() {
    let e = err("name = \"x\"\nseed = 3\ndurration = \"5m\"\n");
    assert_at(&e, 3, "durration", "unknown field `durration`");
    assert!(e.to_string().contains("did you mean `duration`?"), "{e}");
    assert!(
        e.to_string()
            .starts_with("scenarios/x.toml:3: unknown field"),
        "{e}"
    );
}

#[test]
fn an_unknown_field_in_a_table_names_the_table() {
    let e = err("[tabs]\ncount = 2\npoll = \"2s\"\n");
    assert_at(&e, 3, "tabs.poll", "tabs: unknown field `poll`");
    let e = err("[[users]]\nid = \"a\"\n[[users]]\nid = \"b\"\npared = false\n");
    assert_at(&e, 5, "users[1].pared", "did you mean `paired`?");
}

#[test]
fn an_unknown_event_parameter_is_refused_for_its_action() {
    let src = r#"
[[events]]
at = "2m"
action = "close"
code = 440

[[events]]
at = "3m"
action = "close"
code = 440
count = 3
"#;
    let e = err(src);
    assert_at(
        &e,
        11,
        "events[1].count",
        "events[1]: unknown field `count` for action `close`",
    );
}

#[test]
fn an_unknown_action_is_refused_with_the_known_ones() {
    let e = err("[[events]]\nat = \"2m\"\naction = \"clsoe\"\ncode = 440\n");
    assert_at(
        &e,
        3,
        "events[0].action",
        "unknown action `clsoe` (did you mean `close`?",
    );
    assert!(e.to_string().contains("start_instance"), "{e}");
}

#[test]
fn a_bad_duration_is_refused_at_its_value() {
    let e = err("seed = 1\n\nquiet_tail = \"5 fortnights\"\n");
    assert_at(&e, 3, "quiet_tail", "unknown unit `fortnights`");
    let e = err("[[events]]\naction = \"partition\"\nat = \"1m\"\nduration = \"20\"\n");
    assert_at(&e, 4, "events[0].duration", "no unit");
    let e = err("duration = 90\n");
    assert_at(
        &e,
        1,
        "duration",
        "expected a duration string like \"90s\", found integer 90",
    );
}

#[test]
fn a_negative_duration_says_so() {
    let e = err("[network]\nmin_latency = \"1ms\"\nmax_latency = \"-20ms\"\n");
    assert_at(&e, 3, "network.max_latency", "negative duration");
    let e = err("[[events]]\nat = \"-2m\"\naction = \"logout\"\n");
    assert_at(&e, 2, "events[0].at", "cannot be negative");
}

#[test]
fn zero_is_refused_where_it_would_stall_the_run() {
    assert_at(&err("tick = \"0s\"\n"), 1, "tick", "longer than zero");
    assert_at(
        &err("[tabs]\npoll_interval = \"0ms\"\n"),
        2,
        "tabs.poll_interval",
        "longer than zero",
    );
    let e = err("[[events]]\nat = \"1m\"\naction = \"close\"\ncode = 440\nrepeat = { every = \"0s\", times = 3 }\n");
    assert_at(&e, 5, "events[0].repeat.every", "longer than zero");
    let e = err("[[events]]\nat = \"1m\"\naction = \"unavailable\"\nduration = \"0s\"\n");
    assert_at(&e, 4, "events[0].duration", "longer than zero");
}

#[test]
fn an_unknown_override_knob_is_refused_at_its_line() {
    let src = "[supervisor]\npreset = \"legacy\"\n[supervisor.overrides]\ncooldown = \"90s\"\ncooldwn = \"90s\"\n";
    let e = err(src);
    assert_at(
        &e,
        5,
        "supervisor.overrides.cooldwn",
        "supervisor.overrides: unknown knob `cooldwn`",
    );
    assert!(e.to_string().contains("did you mean `cooldown`?"), "{e}");
}

#[test]
fn a_bad_override_value_is_refused_at_its_line() {
    let e = err("[supervisor.overrides]\nmax_attempts = \"five\"\n");
    assert_at(
        &e,
        2,
        "supervisor.overrides.max_attempts",
        "bad value for knob `max_attempts`",
    );
    let e = err("[supervisor.overrides]\n\ncooldown = \"-1m\"\n");
    assert_at(&e, 3, "supervisor.overrides.cooldown", "negative duration");
    let e = err("[supervisor.overrides]\ncheck_interval = \"0s\"\n");
    assert_at(
        &e,
        2,
        "supervisor.overrides.check_interval",
        "must not be zero",
    );
}

#[test]
fn an_unknown_invariant_id_is_refused_at_its_element() {
    let src = "[expect.legacy]\nviolates = [\n  \"single_socket\",\n  \"reconect_cooldown\",\n]\n";
    let e = err(src);
    assert_at(
        &e,
        4,
        "expect.legacy.violates[1]",
        "unknown invariant `reconect_cooldown`",
    );
    assert!(
        e.to_string().contains("did you mean `reconnect_cooldown`?"),
        "{e}"
    );
}

#[test]
fn expect_and_supervisor_take_any_preset_name_the_run_looks_up() {
    // A user preset (presets/<name>.toml) is looked up when the scenario runs;
    // an unknown one exits 2 there (tests/presets.rs).
    let s = ok("[supervisor]\npreset = \"my-team\"\n[expect.my-team]\nholds = [\"all\"]\n");
    assert_eq!(s.supervisor.preset, "my-team");
    assert!(s.expect.contains_key("my-team"));
}

#[test]
fn a_preset_name_that_is_no_file_stem_is_refused() {
    let e = err("[expect.\"a/b\"]\nholds = [\"all\"]\n");
    assert_at(&e, 1, "expect.a/b", "`a/b` is not a preset name");
    let e = err("[supervisor]\npreset = \"seed fix\"\n");
    assert_at(
        &e,
        2,
        "supervisor.preset",
        "unknown preset `seed fix` (did you mean `seed-fix`?",
    );
}

#[test]
fn an_invariant_cannot_both_hold_and_be_violated() {
    let e = err("[expect.legacy]\nholds = [\"single_socket\"]\nviolates = [\"single_socket\"]\n");
    assert_at(
        &e,
        3,
        "expect.legacy.violates[0]",
        "cannot both hold and be violated",
    );
}

#[test]
fn a_missing_file_cannot_be_read() {
    let e = load(Path::new("scenarios/does_not_exist.toml")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "scenarios/does_not_exist.toml: cannot read: No such file or directory"
    );
    assert_eq!(e.file(), Path::new("scenarios/does_not_exist.toml"));
    assert_eq!(e.line(), None);
    assert_eq!(e.field(), None);
}

#[test]
fn an_unknown_close_code_lists_the_known_ones() {
    let e = err("[[events]]\nat = \"1m\"\naction = \"close\"\ncode = 999\n");
    assert_eq!(
        e.to_string(),
        "scenarios/x.toml:4: events[0].code: unknown close code 999 (known: 401, 403, 408, 411, 428, 440, 500, 503, 515)"
    );
}

#[test]
fn a_missing_required_parameter_names_the_event() {
    let e = err("[[events]]\nat = \"1m\"\naction = \"close\"\n");
    assert_at(&e, 1, "events[0].code", "events[0]: missing field `code`");
    let e = err("\n[[events]]\naction = \"logout\"\n");
    assert_at(&e, 2, "events[0].at", "missing field `at`");
}

#[test]
fn events_must_name_existing_users_and_instances() {
    let e = err("[[events]]\nat = \"1m\"\naction = \"logout\"\nuser = \"bob\"\n");
    assert_at(&e, 4, "events[0].user", "unknown user `bob` (users: alice)");
    let e = err("[tabs]\nuser = \"bob\"\n");
    assert_at(&e, 2, "tabs.user", "unknown user `bob`");
    // Instance 2 exists only once it has been started.
    let src = r#"
[[events]]
at = "5m"
action = "start_instance"
[[events]]
at = "2m"
action = "crash"
instance = 2
"#;
    assert_at(
        &err(src),
        8,
        "events[1].instance",
        "instance 2 does not exist at 2m",
    );
    ok(&src.replace("at = \"2m\"", "at = \"6m\""));
    ok("instances = 2\n[[events]]\nat = \"1m\"\naction = \"connect\"\ninstance = 2\n");
}

#[test]
fn numbers_are_checked_for_range() {
    let e = err("[[events]]\nat = \"1m\"\naction = \"loss\"\nrate = 1.5\nduration = \"1m\"\n");
    assert_at(&e, 4, "events[0].rate", "outside 0..=1");
    let e = err("[network]\nmin_latency = \"30ms\"\nmax_latency = \"10ms\"\n");
    assert_at(&e, 3, "network.max_latency", "below min_latency");
    assert_at(&err("instances = 0\n"), 1, "instances", "at least one");
    assert_at(&err("seed = -4\n"), 1, "seed", "must not be negative");
}

#[test]
fn user_ids_must_be_unique_and_non_empty() {
    let e = err("[[users]]\nid = \"alice\"\n[[users]]\nid = \"alice\"\n");
    assert_at(
        &e,
        4,
        "users[1].id",
        "duplicate user id `alice` (first at line 2)",
    );
    assert_at(
        &err("[[users]]\nid = \"\"\n"),
        2,
        "users[0].id",
        "must not be empty",
    );
    assert_at(
        &err("[[users]]\npaired = false\n"),
        1,
        "users[0].id",
        "missing field `id`",
    );
}

#[test]
fn events_after_the_duration_are_refused() {
    let e = err("duration = \"10m\"\n[[events]]\nat = \"12m\"\naction = \"logout\"\n");
    assert_at(&e, 3, "events[0].at", "after the scenario's duration 10m");
    let e = err("[[events]]\nat = \"2m\"\naction = \"close\"\ncode = 440\nrepeat = { every = \"3m\", times = 5 }\n");
    assert_at(&e, 5, "events[0].repeat", "repetition 4 of 5 fires at 11m");
    assert!(
        e.to_string().contains("(the default; set `duration`)"),
        "{e}"
    );
}

#[test]
fn overlapping_repeated_windows_are_refused() {
    let e = err("[[events]]\nat = \"1m\"\naction = \"partition\"\nduration = \"2m\"\nrepeat = { every = \"1m\", times = 3 }\n");
    assert_at(&e, 5, "events[0].repeat.every", "windows would overlap");
}

#[test]
fn tabs_and_pairing_follow_the_timeline() {
    let e = err("[tabs]\ncount = 2\n[[events]]\nat = \"1m\"\naction = \"close_tabs\"\ncount = 3\n");
    assert_at(&e, 6, "events[0].count", "only 2 are open");
    let e = err("[[events]]\nat = \"1m\"\naction = \"pair\"\n");
    assert_at(&e, 1, "events[0].user", "already paired");
    ok("[[events]]\nat = \"1m\"\naction = \"logout\"\n[[events]]\nat = \"2m\"\naction = \"pair\"\n");
}

#[test]
fn a_toml_syntax_error_names_its_line() {
    let e = err("name = \"x\"\nseed = 7\nseed = 8\n");
    assert_at(&e, 3, "seed", "duplicate key");
    let e = err("name = \"x\"\n\nseed = = 7\n");
    assert_eq!(e.line(), Some(3), "{e}");
    assert!(
        e.to_string()
            .starts_with("scenarios/x.toml:3: invalid TOML"),
        "{e}"
    );
}

#[test]
fn a_wrong_type_says_what_was_expected() {
    assert_at(
        &err("seed = \"seven\"\n"),
        1,
        "seed",
        "expected an integer, found string \"seven\"",
    );
    assert_at(
        &err("[[users]]\nid = \"a\"\npaired = \"yes\"\n"),
        3,
        "users[0].paired",
        "expected true or false",
    );
    assert_at(
        &err("[events]\nat = \"1m\"\n"),
        1,
        "events",
        "expected an array of tables ([[events]])",
    );
}

#[test]
fn load_dir_reads_every_toml_file_in_name_order_and_keeps_going_past_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("b_bad.toml"), "durration = \"5m\"\n").unwrap();
    std::fs::write(dir.path().join("a_good.toml"), "seed = 2\n").unwrap();
    std::fs::write(dir.path().join("c_good.toml"), "seed = 3\n").unwrap();
    std::fs::write(dir.path().join("notes.md"), "not a scenario").unwrap();
    let got = load_dir(dir.path());
    let names: Vec<String> = got
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["a_good.toml", "b_bad.toml", "c_good.toml"]);
    assert_eq!(got[0].1.as_ref().unwrap().seed, 2);
    let e = got[1].1.as_ref().unwrap_err();
    assert_eq!((e.line(), e.field()), (Some(1), Some("durration")));
    assert_eq!(got[2].1.as_ref().unwrap().name, "c_good");
}

#[test]
fn the_format_example_in_the_module_doc_parses() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/scenario/mod.rs"))
        .unwrap();
    let lines: Vec<&str> = doc
        .lines()
        .map(|l| l.strip_prefix("//!").unwrap_or(l))
        .collect();
    let start = lines
        .iter()
        .position(|l| l.trim() == "```toml")
        .expect("a toml example")
        + 1;
    let len = lines[start..]
        .iter()
        .position(|l| l.trim() == "```")
        .unwrap();
    let example: String = lines[start..start + len]
        .iter()
        .map(|l| format!("{}\n", l.strip_prefix(' ').unwrap_or(l)))
        .collect();
    let s = ok(&example);
    assert_eq!(s.name, "repeated_440");
    assert_eq!(s.timeline().len(), 6);
    assert_eq!(s.expect["seed-fix"].violates, ["reconnect_cooldown"]);
}
