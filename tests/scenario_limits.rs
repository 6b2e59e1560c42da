//! Input that cannot hurt: every file the fuzzer found crashing, hanging or
//! exhausting the parser is refused at its file, line and field, and nothing
//! a file says makes `run_length` or `faults_end` overflow.

use std::path::Path;
use std::time::Duration;

use loopguard::scenario::{limits, load, parse, Scenario, ScenarioError};

const FILE: &str = "scenarios/x.toml";

fn err(src: &str) -> ScenarioError {
    match parse(Path::new(FILE), src) {
        Ok(_) => panic!("should be refused:\n{src}"),
        Err(e) => e,
    }
}

fn ok(src: &str) -> Scenario {
    parse(Path::new(FILE), src).unwrap_or_else(|e| panic!("should parse: {e}"))
}

/// Refused at `line` about `field`, with `words` in its one-line form.
fn assert_at(e: &ScenarioError, line: usize, field: &str, words: &str) {
    let shown = e.to_string();
    assert_eq!(e.line(), Some(line), "{shown}");
    assert_eq!(e.field(), Some(field), "{shown}");
    assert!(shown.starts_with(&format!("{FILE}:{line}: ")), "{shown}");
    assert!(shown.contains(words), "`{words}` not in: {shown}");
}

#[test]
fn a_duration_and_quiet_tail_of_500_billion_years_are_refused_not_added() {
    let e = err("duration = \"500000000000y\"\nquiet_tail = \"500000000000y\"\n");
    assert_at(&e, 1, "duration", "longer than the 7days limit");
}

#[test]
fn a_repeat_every_300_billion_years_is_refused() {
    let e = err(
        "[[events]]\nat = \"1m\"\naction = \"close\"\ncode = 440\nrepeat = { every = \"300000000000y\", times = 3 }\n",
    );
    assert_at(
        &e,
        5,
        "events[0].repeat.every",
        "longer than the 7days limit",
    );
}

#[test]
fn an_event_at_u64_max_seconds_with_a_repeat_is_refused() {
    let e = err(
        "[[events]]\nat = \"18446744073709551615s\"\naction = \"close\"\ncode = 440\nrepeat = { every = \"1s\", times = 3 }\n",
    );
    assert_at(&e, 2, "events[0].at", "limit");
}

#[test]
fn a_quiet_tail_past_the_limit_is_refused() {
    let e = err("duration = \"1m\"\nquiet_tail = \"8d\"\n");
    assert_at(&e, 2, "quiet_tail", "8days is longer than the 7days limit");
}

#[test]
fn four_billion_repetitions_are_refused_before_they_are_expanded() {
    let e = err(
        "duration = \"20m\"\n[[events]]\nat = \"1m\"\naction = \"close\"\ncode = 440\nrepeat = { every = \"1ns\", times = 4294967295 }\n",
    );
    assert_at(
        &e,
        6,
        "events[0].repeat.times",
        "the events fire 4294967295 times in all, more than 100000",
    );
}

#[test]
fn occurrences_are_counted_across_events() {
    let event = "[[events]]\nat = \"1s\"\naction = \"close\"\ncode = 440\nrepeat = { every = \"1ms\", times = 60000 }\n";
    let e = err(&format!("duration = \"2m\"\n{event}{event}"));
    assert_at(&e, 11, "events[1].repeat.times", "120000 times in all");
}

#[test]
fn thirty_days_is_past_the_duration_limit() {
    let e = err("duration = \"30d\"\n");
    assert_at(&e, 1, "duration", "30days is longer than the 7days limit");
}

#[test]
fn seven_days_at_the_default_tick_is_the_largest_run() {
    let s = ok("duration = \"7d\"\nquiet_tail = \"0s\"\n");
    assert_eq!(s.run_length(), limits::MAX_DURATION);
    let e = err("duration = \"7d\"\nquiet_tail = \"1m\"\n");
    assert_at(&e, 1, "duration", "more than 60480000");
}

#[test]
fn a_one_nanosecond_tick_is_refused() {
    let e = err("tick = \"1ns\"\n");
    assert_at(&e, 1, "tick", "tick 1ns is finer than 1ms");
}

#[test]
fn a_one_hour_tick_is_refused() {
    let e = err("duration = \"1d\"\ntick = \"1h\"\n");
    assert_at(&e, 2, "tick", "tick 1h is coarser than 1s");
    assert_eq!(e.help(), Some("a tick is 1ms to 1s"));
}

#[test]
fn a_tick_is_at_most_a_hundredth_of_the_run() {
    let e = err("duration = \"10s\"\ntick = \"200ms\"\n");
    assert_at(&e, 2, "tick", "more than a 100th of the run's duration 10s");
    assert_eq!(e.help(), Some("use a tick of at most 100ms"));
}

#[test]
fn a_zero_length_run_is_refused() {
    let e = err("duration = \"0s\"\nquiet_tail = \"0s\"\n");
    assert_at(&e, 1, "duration", "a run of 0s judges nothing");
}

#[test]
fn an_empty_file_is_refused() {
    let e = err("");
    assert_eq!((e.line(), e.field()), (Some(1), None));
    assert!(
        e.to_string()
            .starts_with("scenarios/x.toml:1: the file is empty"),
        "{e}"
    );
}

#[test]
fn a_file_of_only_comments_is_refused() {
    let e = err("# a scenario\n\n# to be written\n");
    assert!(e.to_string().contains("only comments"), "{e}");
}

#[test]
fn a_long_string_is_refused_by_its_length() {
    let long = "x".repeat(limits::MAX_STRING_CHARS + 1);
    let e = err(&format!(
        "seed = 1\n[[events]]\nat = \"1m\"\naction = \"{long}\"\n"
    ));
    assert_at(&e, 4, "events[0].action", "a string of 257 characters");
}

#[test]
fn a_long_description_is_allowed_up_to_its_own_limit() {
    let text = "y".repeat(limits::MAX_DESCRIPTION_CHARS);
    assert_eq!(
        ok(&format!("description = \"{text}\"\n")).description.len(),
        text.len()
    );
    let e = err(&format!("description = \"{text}y\"\n"));
    assert_at(&e, 1, "description", "10001 characters");
}

#[test]
fn a_long_key_is_refused() {
    let key = "k".repeat(limits::MAX_KEY_CHARS + 1);
    let e = err(&format!("seed = 1\n{key} = 1\n"));
    assert_at(&e, 2, &key, "65 characters long");
}

#[test]
fn a_long_unknown_word_gets_no_suggestion() {
    // 64 characters, one edit from `close`'s family would be absurd: none is
    // looked for past the limit.
    let word = format!("clos{}", "e".repeat(limits::MAX_SUGGEST_CHARS));
    let e = err(&format!("[[events]]\nat = \"1m\"\naction = \"{word}\"\n"));
    assert!(!e.to_string().contains("did you mean"), "{e}");
    let e = err("[[events]]\nat = \"1m\"\naction = \"clsoe\"\n");
    assert!(e.to_string().contains("did you mean `close`"), "{e}");
}

#[test]
fn a_file_over_one_mebibyte_is_refused_without_being_parsed() {
    let big = format!("seed = 1\n{}", "#".repeat(limits::MAX_FILE_BYTES));
    let e = err(&big);
    assert!(
        e.to_string().contains("more than the 1048576-byte limit"),
        "{e}"
    );
    assert_eq!(e.line(), Some(2));
}

#[test]
fn a_name_must_be_safe_as_a_folder_name() {
    for bad in ["../up", "a b", "tab\there", ".hidden", "-flag", "día"] {
        let e = err(&format!("name = {bad:?}\n"));
        assert_at(&e, 1, "name", "names a report folder");
    }
    let e = err(&format!("name = \"{}\"\n", "n".repeat(65)));
    assert_at(&e, 1, "name", "65 characters");
    assert_eq!(ok("name = \"soak_24h.v2-b\"\n").name, "soak_24h.v2-b");
}

#[test]
fn a_file_stem_unsafe_as_a_folder_name_is_made_safe_for_the_default_name() {
    let s = parse(Path::new("scenarios/my first try.toml"), "seed = 1\n").unwrap();
    assert_eq!(s.name, "my_first_try");
}

#[test]
fn too_many_tabs_at_once_are_refused() {
    let e = err("[tabs]\ncount = 10001\n");
    assert_at(&e, 2, "tabs.count", "10001 tabs at once, more than 10000");
    let e = err(
        "[tabs]\ncount = 10000\n[[events]]\nat = \"1m\"\naction = \"open_tabs\"\ncount = 4294967295\n[[events]]\nat = \"2m\"\naction = \"open_tabs\"\ncount = 4294967295\n",
    );
    assert_at(&e, 6, "events[0].count", "4294977295 tabs at once");
}

#[test]
fn too_many_instances_are_refused() {
    let e = err("instances = 65\n");
    assert_at(&e, 1, "instances", "65 app instances at once, more than 64");
    let e = err("instances = 64\n[[events]]\nat = \"1m\"\naction = \"start_instance\"\n");
    assert_at(&e, 2, "events[0]", "65 app instances at once");
}

#[test]
fn too_many_users_are_refused() {
    let users: String = (0..=limits::MAX_USERS)
        .map(|i| format!("[[users]]\nid = \"u{i}\"\n"))
        .collect();
    let e = err(&users);
    assert_at(&e, 2 * limits::MAX_USERS + 1, "users[10000]", "10001 users");
}

#[test]
fn invalid_utf8_is_refused_with_its_line_and_byte_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.toml");
    std::fs::write(&path, b"seed = 1\ndescription = \"caf\xe9\"\n").unwrap();
    let e = load(&path).unwrap_err();
    assert_eq!(e.line(), Some(2));
    assert_eq!(
        e.message(),
        "not valid UTF-8: byte 0xe9 at byte offset 27 (line 2, byte 19 of the line)"
    );
    assert_eq!(e.span(), Some(27..30));
}

#[test]
fn a_huge_file_is_not_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.toml");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(1 << 34).unwrap(); // 16 GiB, sparse
    let e = load(&path).unwrap_err();
    assert!(
        e.to_string().contains("more than the 1048576-byte limit"),
        "{e}"
    );
}

#[test]
fn run_length_and_faults_end_saturate_on_a_scenario_built_in_code() {
    let mut s = ok("[[events]]\nat = \"1m\"\naction = \"partition\"\nduration = \"1m\"\n");
    s.events[0].at = Duration::MAX;
    s.quiet_tail = Duration::MAX;
    assert_eq!(s.faults_end(), Duration::MAX);
    assert_eq!(s.run_length(), Duration::MAX);
}

#[test]
fn long_unit_names_are_a_documented_feature() {
    assert_eq!(
        ok("duration = \"5 minutes\"\n").duration,
        Duration::from_secs(300)
    );
    assert_eq!(
        ok("duration = \"1hour 30min\"\n").duration,
        Duration::from_secs(5400)
    );
}
