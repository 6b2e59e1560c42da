//! Refused files rendered the way rustc shows a compile error: one `error:`
//! line, `--> file:line:col`, the source line, a caret under the offending
//! key or value, and a `help:` line. Each test pins the whole rendering.

use std::path::Path;

use loopguard::scenario::{load, parse, render};

fn rendered(src: &str) -> String {
    match parse(Path::new("scenarios/x.toml"), src) {
        Ok(_) => panic!("should be refused:\n{src}"),
        Err(e) => render(&e),
    }
}

#[test]
fn an_unknown_close_code_is_underlined_with_the_known_codes_as_help() {
    let got = rendered("name = \"x\"\n[[events]]\nat = \"1m\"\ncode = 999\naction = \"close\"\n");
    assert_eq!(
        got,
        "error: events[0].code: unknown close code 999
  --> scenarios/x.toml:4:8
  |
4 | code = 999
  |        ^^^
  |
  = help: known: 401, 403, 408, 411, 428, 440, 500, 503, 515

"
    );
}

#[test]
fn an_unknown_field_is_underlined_at_its_key_with_a_suggestion() {
    let got = rendered("seed = 1\ndurration = \"5m\"\n");
    assert!(
        got.starts_with(
            "error: unknown field `durration`
  --> scenarios/x.toml:2:1
  |
2 | durration = \"5m\"
  | ^^^^^^^^^
  |
  = help: did you mean `duration`? expected one of `name`,"
        ),
        "{got}"
    );
}

#[test]
fn an_inline_table_left_open_on_line_9_is_reported_at_line_9() {
    let src = "name = \"x\"\nduration = \"10m\"\n\n[[users]]\nid = \"alice\"\n\n# c\n\n\
               repeat = { every = \"3m\", times = 5\n\n[[events]]\nat = \"1m\"\n";
    assert_eq!(
        rendered(src),
        "error: invalid TOML: missing key for inline table element, expected `,`
  --> scenarios/x.toml:9:10
  |
9 | repeat = { every = \"3m\", times = 5
  |          ^
  |
  = help: this inline table is never closed: an inline table `{ ... }` ends with `}` on the line it starts on

"
    );
}

#[test]
fn json_in_place_of_toml_gets_a_hint() {
    let got = rendered("{\"name\": \"x\", \"duration\": \"10m\"}\n");
    assert!(
        got.ends_with(
            "  = help: this looks like JSON: scenario files are TOML, `key = value` lines and [tables], as in scenarios/*.toml\n\n"
        ),
        "{got}"
    );
}

#[test]
fn a_limit_says_what_is_allowed() {
    assert_eq!(
        rendered("duration = \"1d\"\ntick = \"1h\"\n"),
        "error: tick: tick 1h is coarser than 1s: latencies and timers would be rounded to it
  --> scenarios/x.toml:2:8
  |
2 | tick = \"1h\"
  |        ^^^^
  |
  = help: a tick is 1ms to 1s

"
    );
}

#[test]
fn an_error_known_only_by_its_line_underlines_the_whole_line() {
    let got = rendered("duration = \"2m\"\n[[events]]\nat = \"3m\"\naction = \"logout\"\n");
    assert_eq!(
        got,
        "error: events[0].at: fires at 3m, after the scenario's duration 2m
  --> scenarios/x.toml:3:1
  |
3 | at = \"3m\"
  | ^^^^^^^^^
  |
  = help: the scenario format is described in src/scenario/mod.rs; scenarios/*.toml are examples

"
    );
}

#[test]
fn invalid_utf8_points_at_the_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.toml");
    std::fs::write(&path, b"seed = 1\ndescription = \"caf\xe9\"\n").unwrap();
    let got = render(&load(&path).unwrap_err());
    let expected = format!(
        "error: not valid UTF-8: byte 0xe9 at byte offset 27 (line 2, byte 19 of the line)
  --> {}:2:19
  |
2 | description = \"caf\u{fffd}\"
  |                   ^
  |
  = help: save the file as UTF-8

",
        path.display()
    );
    assert_eq!(got, expected);
}

#[test]
fn an_unreadable_file_has_one_error_line() {
    let got = render(&load(Path::new("/nonexistent/x.toml")).unwrap_err());
    assert_eq!(
        got,
        "error: /nonexistent/x.toml: cannot read: No such file or directory\n"
    );
}
