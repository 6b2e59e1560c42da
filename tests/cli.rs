//! The `loopguard` command end to end, in temporary directories: exit codes
//! (0 all as expected, 1 a violation or an unexpected result, 2 bad input),
//! errors that name file, line and field, the outputs a batch still writes
//! around bad input, the CI gate, the console summary, `junit.xml`, and
//! `replay`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use loopguard::report::{RunSummary, Verdict};
use tempfile::TempDir;

/// A short, fault-free scenario: the user connects and stays connected.
const QUIET: &str = r#"description = "nothing happens"
duration = "2m"
quiet_tail = "3m"
"#;

fn loopguard(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loopguard"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the loopguard binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Both streams, for assertion messages.
fn shown(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        stdout(o),
        stderr(o)
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    fs::create_dir_all(dir).expect("scenario dir");
    let path = dir.join(name);
    fs::write(&path, text).expect("scenario written");
    path
}

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temp path")
}

fn read_summary(run_dir: &Path) -> RunSummary {
    let path = run_dir.join("summary.json");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Asserts `run_dir` holds a finished run: a non-empty `trace.csv` with its
/// header and a `summary.json` that parses.
fn assert_run_written(run_dir: &Path) -> RunSummary {
    let trace = fs::read_to_string(run_dir.join("trace.csv"))
        .unwrap_or_else(|e| panic!("{}/trace.csv: {e}", run_dir.display()));
    assert!(
        trace.starts_with("time_ms,host,user,kind,details\n"),
        "{}/trace.csv: {trace:.200}",
        run_dir.display()
    );
    assert!(
        trace.lines().count() > 1,
        "{}: no events",
        run_dir.display()
    );
    read_summary(run_dir)
}

/// `testcase` elements of a JUnit file.
fn testcases(junit: &str) -> Vec<&str> {
    junit
        .match_indices("<testcase ")
        .map(|(i, _)| {
            let rest = &junit[i..];
            &rest[..rest.find('>').expect("a closed tag") + 1]
        })
        .collect()
}

#[test]
fn check_exits_2_on_an_unknown_field_naming_file_line_and_field_and_still_runs_the_other_scenarios()
{
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("scenarios");
    let out = tmp.path().join("out");
    write(&dir, "good.toml", QUIET);
    let typo = write(
        &dir,
        "typo.toml",
        "description = \"a typo\"\nduration = \"2m\"\nquiet_tial = \"3m\"\n",
    );

    let o = loopguard(tmp.path(), &["check", s(&dir), "--out", s(&out)]);

    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("--> {}:3:", typo.display())),
        "stderr must name file and line 3: {}",
        shown(&o)
    );
    assert!(
        err.contains("unknown field `quiet_tial`"),
        "stderr must name the field: {}",
        shown(&o)
    );
    let good = assert_run_written(&out.join("good.stable"));
    assert_eq!(good.verdict, Verdict::Pass, "{:?}", good.unmet);
    let junit = fs::read_to_string(out.join("junit.xml")).expect("junit.xml written");
    let cases = testcases(&junit);
    assert_eq!(cases.len(), 2, "{junit}");
    assert!(cases[0].contains(r#"name="good [stable]""#), "{junit}");
    assert!(
        cases[1].contains(&format!("name=\"bad input: {}\"", typo.display())),
        "{junit}"
    );
    assert!(junit.contains("typo.toml:3"), "{junit}");
    assert!(
        junit.contains("<error"),
        "the bad input is an error: {junit}"
    );
}

#[test]
fn run_exits_2_on_a_duration_in_unknown_units_naming_file_line_and_field() {
    let tmp = TempDir::new().unwrap();
    let bad = write(
        tmp.path(),
        "parsecs.toml",
        "description = \"far\"\nseed = 3\nduration = \"10 parsecs\"\n",
    );
    let out = tmp.path().join("out");

    let o = loopguard(tmp.path(), &["run", s(&bad), "--out", s(&out)]);

    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("--> {}:3:", bad.display())) && err.contains("error: duration: "),
        "stderr must name file, line 3 and `duration`: {}",
        shown(&o)
    );
    assert!(err.contains("parsecs"), "{}", shown(&o));
}

#[test]
fn run_exits_2_on_a_negative_duration_naming_file_line_and_field() {
    let tmp = TempDir::new().unwrap();
    let bad = write(
        tmp.path(),
        "negative.toml",
        "duration = \"2m\"\n\n[tabs]\ncount = 1\npoll_interval = \"-5s\"\n",
    );
    let out = tmp.path().join("out");

    let o = loopguard(tmp.path(), &["run", s(&bad), "--out", s(&out)]);

    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("--> {}:5:", bad.display()))
            && err.contains("error: tabs.poll_interval: "),
        "stderr must name file, line 5 and `tabs.poll_interval`: {}",
        shown(&o)
    );
    assert!(err.contains("\"-5s\""), "{}", shown(&o));
    assert!(err.contains("negative"), "{}", shown(&o));
}

#[test]
fn run_exits_2_naming_a_missing_file_and_still_writes_the_outputs_of_the_good_one() {
    let tmp = TempDir::new().unwrap();
    let missing = tmp.path().join("no_such_scenario.toml");
    let good = write(tmp.path(), "good.toml", QUIET);
    let out = tmp.path().join("out");

    let o = loopguard(
        tmp.path(),
        &["run", s(&missing), s(&good), "--out", s(&out)],
    );

    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    assert!(
        stderr(&o).contains(&format!("{}: cannot read", missing.display())),
        "stderr must name the missing file: {}",
        shown(&o)
    );
    let summary = assert_run_written(&out.join("good.stable"));
    assert_eq!(summary.verdict, Verdict::Pass, "{:?}", summary.unmet);
    assert_eq!(summary.source, s(&good));
    assert!(
        !out.join("junit.xml").exists(),
        "`run` leaves the batch's junit.xml to `check` and `report`"
    );
}

/// `scenarios/repeated_440.toml` with its `[expect.legacy]` table replaced by
/// `holds = ["all"]`: the gate no longer expects legacy to be caught.
fn repeated_440_without_the_legacy_catch() -> String {
    let text = include_str!("../scenarios/repeated_440.toml");
    let header = "[expect.legacy]\n";
    let start = text.find(header).expect("repeated_440 has [expect.legacy]") + header.len();
    let end = start
        + text[start..]
            .find("\n[")
            .expect("a table after [expect.legacy]");
    assert!(
        text[start..end].contains("violates"),
        "[expect.legacy] of repeated_440 no longer lists violations: {}",
        &text[start..end]
    );
    format!("{}holds = [\"all\"]\n{}", &text[..start], &text[end..])
}

#[test]
fn check_exits_1_and_prints_the_replay_command_when_legacy_is_no_longer_expected_to_be_caught() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("scenarios");
    let out = tmp.path().join("out");
    let file = write(
        &dir,
        "repeated_440.toml",
        &repeated_440_without_the_legacy_catch(),
    );
    let seed = loopguard::scenario::load(&file).unwrap().seed;

    let o = loopguard(tmp.path(), &["check", s(&dir), "--out", s(&out)]);

    assert_eq!(o.status.code(), Some(1), "{}", shown(&o));
    let text = stdout(&o);
    assert!(
        text.lines()
            .any(|l| l.starts_with("FAIL") && l.contains("repeated_440 [legacy]")),
        "{}",
        shown(&o)
    );
    for preset in ["seed-fix", "stable"] {
        assert!(
            text.lines()
                .any(|l| l.starts_with("ok ") && l.contains(&format!("repeated_440 [{preset}]"))),
            "{preset} is still as expected: {}",
            shown(&o)
        );
    }
    let replay = format!(
        "replay: loopguard run {} --preset legacy --seed {seed}",
        file.display()
    );
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("replay:"))
        .unwrap_or_else(|| panic!("no replay line: {}", shown(&o)));
    assert_eq!(line, replay, "{}", shown(&o));
    assert_eq!(
        text.matches("replay:").count(),
        1,
        "only the failing run gets a replay line: {}",
        shown(&o)
    );
    let summary = read_summary(&out.join("repeated_440.legacy"));
    assert_eq!(summary.verdict, Verdict::Fail);
    assert_eq!(format!("replay: {}", summary.replay), replay);

    // The printed command reproduces the failing run, trace byte for byte.
    let again = tmp.path().join("again");
    let args: Vec<&str> = line
        .trim_start_matches("replay: loopguard ")
        .split(' ')
        .chain(["--out", s(&again)])
        .collect();
    let r = loopguard(tmp.path(), &args);
    assert_eq!(r.status.code(), Some(1), "{}", shown(&r));
    assert_eq!(
        fs::read(again.join("repeated_440.legacy/trace.csv")).unwrap(),
        fs::read(out.join("repeated_440.legacy/trace.csv")).unwrap(),
        "the replay command gives another trace"
    );
}

#[test]
fn check_exits_0_on_an_unmodified_copy_of_repeated_440() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("scenarios");
    let out = tmp.path().join("out");
    write(
        &dir,
        "repeated_440.toml",
        include_str!("../scenarios/repeated_440.toml"),
    );

    let o = loopguard(tmp.path(), &["check", s(&dir), "--out", s(&out)]);

    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
    let text = stdout(&o);
    assert!(!text.contains("FAIL"), "{}", shown(&o));
    assert!(!text.contains("replay:"), "{}", shown(&o));
    for preset in ["legacy", "seed-fix", "stable"] {
        let summary = assert_run_written(&out.join(format!("repeated_440.{preset}")));
        assert_eq!(
            summary.verdict,
            Verdict::Pass,
            "{preset}: {:?}",
            summary.unmet
        );
    }
}

#[test]
fn check_prints_every_scenario_and_preset_with_its_verdict_and_writes_one_junit_testcase_each() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("scenarios");
    let out = tmp.path().join("out");
    write(
        &dir,
        "quiet_a.toml",
        &format!(
            "{QUIET}\n[expect.legacy]\nholds = [\"all\"]\n\n[expect.seed-fix]\nholds = [\"all\"]\n\n[expect.stable]\nholds = [\"all\"]\n"
        ),
    );
    // Nothing happens, so a bug that must be caught is not: an unexpected result.
    write(
        &dir,
        "quiet_b.toml",
        &format!("{QUIET}\n[expect.stable]\nviolates = [\"single_socket\"]\n"),
    );

    // One at a time, so the lines come in plan order.
    let o = loopguard(
        tmp.path(),
        &["check", s(&dir), "--out", s(&out), "--jobs", "1"],
    );

    assert_eq!(o.status.code(), Some(1), "{}", shown(&o));
    let text = stdout(&o);
    let verdicts: Vec<(String, String)> = text
        .lines()
        .filter(|l| l.starts_with("ok ") || l.starts_with("FAIL "))
        .map(|l| {
            let (verdict, rest) = l.split_once(' ').unwrap();
            let name = rest.trim_start().split("  ").next().unwrap().to_string();
            (verdict.to_string(), name)
        })
        .collect();
    let expected = [
        ("ok", "quiet_a [legacy]"),
        ("ok", "quiet_a [seed-fix]"),
        ("ok", "quiet_a [stable]"),
        ("FAIL", "quiet_b [stable]"),
    ];
    assert_eq!(
        verdicts,
        expected.map(|(v, n)| (v.to_string(), n.to_string())),
        "{}",
        shown(&o)
    );
    assert!(
        text.contains("`single_socket` must be violated"),
        "the failing line says why: {}",
        shown(&o)
    );
    assert!(text.contains("3 passed, 1 failed"), "{}", shown(&o));
    for (verdict, name) in expected {
        let run = name.replace(" [", ".").replace(']', "");
        let summary = assert_run_written(&out.join(&run));
        let want = if verdict == "ok" {
            Verdict::Pass
        } else {
            Verdict::Fail
        };
        assert_eq!(summary.verdict, want, "{run}");
    }

    let junit = fs::read_to_string(out.join("junit.xml")).expect("junit.xml written");
    let cases = testcases(&junit);
    assert_eq!(
        cases.len(),
        4,
        "one testcase per scenario × preset: {junit}"
    );
    for (case, (_, name)) in cases.iter().zip(expected) {
        assert!(case.contains(&format!("name=\"{name}\"")), "{case}");
    }
    assert_eq!(junit.matches("<failure").count(), 1, "{junit}");
    assert!(junit.contains(r#"tests="4""#), "{junit}");
    assert!(junit.contains(r#"failures="1""#), "{junit}");
}

/// Runs the quiet scenario into `<tmp>/out/quiet.stable` and returns that folder.
fn a_fresh_run(tmp: &TempDir) -> PathBuf {
    let file = write(tmp.path(), "quiet.toml", QUIET);
    let out = tmp.path().join("out");
    let o = loopguard(tmp.path(), &["run", s(&file), "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
    let run_dir = out.join("quiet.stable");
    assert_run_written(&run_dir);
    run_dir
}

#[test]
fn replay_of_a_just_written_run_exits_0_and_says_identical() {
    let tmp = TempDir::new().unwrap();
    let run_dir = a_fresh_run(&tmp);

    let o = loopguard(tmp.path(), &["replay", s(&run_dir)]);

    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
    assert!(stdout(&o).starts_with("identical: "), "{}", shown(&o));
    let bytes = fs::metadata(run_dir.join("trace.csv")).unwrap().len();
    assert!(
        stdout(&o).contains(&format!(" {bytes} bytes")),
        "{}",
        shown(&o)
    );
}

/// One byte changed behind the hash `summary.json` keeps of its trace: the
/// folder is damaged, and replay refuses it rather than blame determinism
/// (a replay that really differs is tested in `tests/run_isolation.rs`).
#[test]
fn replay_refuses_a_run_folder_whose_stored_trace_was_altered_by_one_byte() {
    let tmp = TempDir::new().unwrap();
    let run_dir = a_fresh_run(&tmp);
    let trace = run_dir.join("trace.csv");
    let mut bytes = fs::read(&trace).unwrap();
    // The first byte of line 2: the first event's time, `0` → `1`.
    let i = bytes.iter().position(|b| *b == b'\n').unwrap() + 1;
    assert_eq!(bytes[i], b'0', "the first event is at time 0");
    bytes[i] = b'1';
    fs::write(&trace, &bytes).unwrap();

    let o = loopguard(tmp.path(), &["replay", s(&run_dir)]);

    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    assert!(
        stderr(&o).contains("trace.csv does not match the SHA-256"),
        "{}",
        shown(&o)
    );
    assert!(!stdout(&o).contains("identical"), "{}", shown(&o));
}
