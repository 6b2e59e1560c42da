//! What `check`, `run`, `report` and `completions` print and write, end to
//! end in temporary directories: lines streamed as runs finish, the plan,
//! the heartbeat, the recap, the words and colours of a verdict, selection,
//! `run` leaving a batch's report alone, `report DIR...` merging with its
//! exit codes, the JUnit attributes, the batch's `summary.json`, GitHub's
//! step summary, help and completions.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use loopguard::report::BatchSummary;
use tempfile::TempDir;

/// Nothing happens: the user connects and stays connected (2 + 3 min).
const QUIET: &str = "description = \"nothing happens\"\nduration = \"2m\"\nquiet_tail = \"3m\"\n";

/// Expected of every preset: all hold (so each preset is one run).
const ALL_PRESETS: &str = "\n[expect.legacy]\nholds = [\"all\"]\n\n[expect.seed-fix]\nholds = [\"all\"]\n\n[expect.stable]\nholds = [\"all\"]\n";

/// Five dashboard tabs polling for 20 virtual minutes: a second or more of
/// work, against a fraction of one for [`QUIET`].
const SLOW: &str =
    "duration = \"20m\"\nquiet_tail = \"3m\"\n\n[tabs]\ncount = 5\npoll_interval = \"2s\"\n";

/// [`SLOW`] with one tab fewer: less work, so `check` starts it after
/// [`SLOW`] (longest first), and still a second or so of work.
const SLOW_BUT_LESS: &str =
    "duration = \"20m\"\nquiet_tail = \"3m\"\n\n[tabs]\ncount = 4\npoll_interval = \"2s\"\n";

/// A bug that must be caught, in a run where nothing happens: a failure.
const NOT_CAUGHT: &str = "\n[expect.stable]\nviolates = [\"single_socket\"]\n";

fn loopguard_cmd(cwd: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_loopguard"));
    c.args(args)
        .current_dir(cwd)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("GITHUB_STEP_SUMMARY");
    c
}

fn loopguard(cwd: &Path, args: &[&str]) -> Output {
    loopguard_cmd(cwd, args)
        .output()
        .expect("the loopguard binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

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

/// The `<testcase …>` opening tags of a JUnit file.
fn testcases(junit: &str) -> Vec<&str> {
    junit
        .match_indices("<testcase ")
        .map(|(i, _)| {
            let rest = &junit[i..];
            &rest[..rest.find('>').expect("a closed tag") + 1]
        })
        .collect()
}

/// `quiet.toml` (passes) and `missed.toml` (a bug not caught: fails), both stable only.
fn one_pass_one_fail(dir: &Path) {
    write(dir, "quiet.toml", QUIET);
    write(dir, "missed.toml", &format!("{QUIET}{NOT_CAUGHT}"));
}

#[test]
fn piped_check_prints_the_first_runs_line_before_the_second_run_finishes() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("scenarios");
    let out = tmp.path().join("out");
    // Longest first: b_slow starts first, a_less second (one at a time).
    write(&dir, "a_less.toml", SLOW_BUT_LESS);
    write(&dir, "b_slow.toml", SLOW);
    let mut child = loopguard_cmd(
        tmp.path(),
        &["check", s(&dir), "--out", s(&out), "--jobs", "1"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .expect("loopguard starts");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let mut seen = Vec::new();
    let first = loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("no line for b_slow: {seen:?}"))
            .expect("utf-8 line");
        if line.contains("b_slow [stable]") {
            break line;
        }
        seen.push(line);
    };
    let second_done = out.join("a_less.stable/summary.json").exists();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().expect("loopguard ends");
    assert!(first.starts_with("ok "), "{first}");
    assert!(
        !second_done,
        "the first line came only after the second run finished: {first}\n{rest:?}"
    );
    assert!(
        rest.iter().any(|l| l.contains("a_less [stable]")),
        "{rest:?}"
    );
    assert_eq!(status.code(), Some(0), "{seen:?} {first} {rest:?}");
}

#[test]
fn check_opens_with_the_plan_line() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("scenarios");
    write(&dir, "a.toml", &format!("{QUIET}{ALL_PRESETS}"));
    write(&dir, "b.toml", &format!("{QUIET}{ALL_PRESETS}"));

    let o = loopguard(
        tmp.path(),
        &[
            "check",
            s(&dir),
            "--out",
            s(&tmp.path().join("out")),
            "--jobs",
            "2",
        ],
    );

    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
    assert_eq!(
        stdout(&o).lines().next(),
        Some("6 runs: 2 scenarios × 3 presets (legacy, seed-fix, stable), 2 at a time"),
        "{}",
        shown(&o)
    );
}

#[test]
fn piped_check_prints_a_heartbeat_while_runs_are_going() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("scenarios");
    write(&dir, "slow.toml", SLOW);

    let o = loopguard(
        tmp.path(),
        &[
            "check",
            s(&dir),
            "--out",
            s(&tmp.path().join("out")),
            "--heartbeat",
            "50ms",
        ],
    );

    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
    let beat = stdout(&o)
        .lines()
        .find(|l| l.starts_with("… "))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no heartbeat: {}", shown(&o)));
    assert!(beat.starts_with("… 0/1 runs done, 0 failed · "), "{beat}");
    assert!(beat.contains(" elapsed · ETA "), "{beat}");
    assert!(beat.ends_with("running: slow [stable]"), "{beat}");
}

#[test]
fn a_bug_caught_as_expected_reads_ok_with_caught_and_a_virtual_length_in_minutes() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("scenarios");
    write(
        &dir,
        "open_then_440.toml",
        include_str!("../scenarios/open_then_440.toml"),
    );

    let o = loopguard(
        tmp.path(),
        &[
            "check",
            s(&dir),
            "--out",
            s(&tmp.path().join("out")),
            "--filter",
            "legacy",
        ],
    );

    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
    let line = stdout(&o)
        .lines()
        .find(|l| l.contains("open_then_440 [legacy]") && !l.starts_with("… "))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("{}", shown(&o)));
    assert!(line.starts_with("ok    open_then_440 [legacy]"), "{line}");
    assert!(line.contains("  caught: reconnect_cooldown"), "{line}");
    assert!(!line.contains("  violated:"), "{line}");
    assert!(!line.contains("PASS"), "{line}");
    let length = loopguard::scenario::load(&dir.join("open_then_440.toml"))
        .unwrap()
        .run_length()
        .as_secs();
    assert!(
        line.contains(&format!("{}m{:02}.0s in ", length / 60, length % 60)),
        "the virtual length as XmYY.Ys: {line}"
    );
}

#[test]
fn a_failing_run_reads_its_verdict_in_capitals_and_the_recap_gives_its_replay_command() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("scenarios");
    one_pass_one_fail(&dir);

    let o = loopguard(
        tmp.path(),
        &["check", s(&dir), "--out", s(&tmp.path().join("out"))],
    );

    assert_eq!(o.status.code(), Some(1), "{}", shown(&o));
    let text = stdout(&o);
    let fail = text
        .lines()
        .find(|l| l.starts_with("FAIL  missed [stable]"))
        .unwrap_or_else(|| panic!("{}", shown(&o)));
    assert!(fail.contains("5m00.0s in "), "{fail}");
    assert!(fail.ends_with("not caught: single_socket"), "{fail}");
    let recap = &text[text
        .find("\nfailures (1):\n")
        .unwrap_or_else(|| panic!("{}", shown(&o)))..];
    assert!(recap.contains("  FAIL  missed [stable]"), "{recap}");
    assert!(
        recap.contains(&format!(
            "replay: loopguard run {} --preset stable --seed 1",
            dir.join("missed.toml").display()
        )),
        "{recap}"
    );
    let last = text.lines().rev().nth(2).unwrap_or_default();
    assert!(
        last.starts_with("1 passed, 1 failed in ") && last.ends_with('s'),
        "counts and elapsed time: {last}"
    );
}

#[test]
fn colour_follows_color_and_no_color() {
    let tmp = TempDir::new().unwrap();
    let file = write(tmp.path(), "quiet.toml", QUIET);
    let out = tmp.path().join("out");
    let esc = "\u{1b}[";

    let piped = loopguard(tmp.path(), &["run", s(&file), "--out", s(&out)]);
    let always = loopguard(
        tmp.path(),
        &["run", s(&file), "--out", s(&out), "--color", "always"],
    );
    let forced = loopguard_cmd(tmp.path(), &["run", s(&file), "--out", s(&out)])
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    let no_color = loopguard_cmd(tmp.path(), &["run", s(&file), "--out", s(&out)])
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let never = loopguard_cmd(
        tmp.path(),
        &["run", s(&file), "--out", s(&out), "--color", "never"],
    )
    .env("CLICOLOR_FORCE", "1")
    .output()
    .unwrap();

    assert!(!stdout(&piped).contains(esc), "{}", shown(&piped));
    assert!(
        stdout(&always).contains("\u{1b}[1m\u{1b}[32mok"),
        "green ok: {}",
        shown(&always)
    );
    assert!(stdout(&forced).contains(esc), "{}", shown(&forced));
    assert!(!stdout(&no_color).contains(esc), "{}", shown(&no_color));
    assert!(!stdout(&never).contains(esc), "{}", shown(&never));
}

#[test]
fn check_takes_files_and_folders_and_filter_globs_on_scenario_and_preset() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("scenarios");
    write(&dir, "alpha.toml", &format!("{QUIET}{ALL_PRESETS}"));
    write(&dir, "beta.toml", &format!("{QUIET}{ALL_PRESETS}"));
    let lone = write(tmp.path(), "gamma.toml", &format!("{QUIET}{ALL_PRESETS}"));
    let list = |args: &[&str]| {
        let mut all = vec!["check", "--list"];
        all.extend_from_slice(args);
        let o = loopguard(tmp.path(), &all);
        assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
        stdout(&o)
            .lines()
            .skip(1)
            .map(|l| l.split("  ").next().unwrap_or_default().to_string())
            .collect::<Vec<String>>()
    };

    assert_eq!(
        list(&[s(&lone), s(&dir), "--filter", "stable"]),
        ["gamma [stable]", "alpha [stable]", "beta [stable]"]
    );
    assert_eq!(
        list(&[s(&dir), "--filter", "a*"]),
        ["alpha [legacy]", "alpha [seed-fix]", "alpha [stable]"]
    );
    assert_eq!(
        list(&[s(&dir), "--filter", "*.seed-fix", "--filter", "beta.legacy"]),
        ["alpha [seed-fix]", "beta [legacy]", "beta [seed-fix]"]
    );
}

#[test]
fn list_prints_the_plan_and_runs_nothing() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("scenarios");
    let file = write(&dir, "alpha.toml", &format!("{QUIET}{ALL_PRESETS}"));
    let out = tmp.path().join("out");

    let o = loopguard(tmp.path(), &["check", s(&dir), "--out", s(&out), "--list"]);

    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "3 runs: 1 scenario × 3 presets (legacy, seed-fix, stable)"
    );
    assert_eq!(
        lines[1],
        format!("alpha [legacy]  {}  seed 1", file.display())
    );
    assert_eq!(lines.len(), 4, "{text}");
    assert!(!out.exists(), "--list wrote {}", out.display());
}

#[test]
fn check_starts_the_longest_run_first_and_reports_in_file_order() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("scenarios");
    let out = tmp.path().join("out");
    // 5 min with one user, 23 min with five tabs, 23 min with four tabs.
    write(&dir, "a_short.toml", QUIET);
    write(&dir, "b_less.toml", SLOW_BUT_LESS);
    write(&dir, "c_long.toml", SLOW);

    let listed = loopguard(tmp.path(), &["check", s(&dir), "--list"]);
    let ran = loopguard(
        tmp.path(),
        &["check", s(&dir), "--out", s(&out), "--jobs", "1"],
    );

    assert_eq!(listed.status.code(), Some(0), "{}", shown(&listed));
    let plan: Vec<String> = stdout(&listed)
        .lines()
        .skip(1)
        .map(|l| l.split("  ").next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        plan,
        ["c_long [stable]", "b_less [stable]", "a_short [stable]"]
    );
    assert_eq!(ran.status.code(), Some(0), "{}", shown(&ran));
    let finished: Vec<String> = stdout(&ran)
        .lines()
        .filter(|l| l.starts_with("ok "))
        .map(|l| {
            l[2..]
                .trim_start()
                .split("  ")
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(
        finished,
        ["c_long [stable]", "b_less [stable]", "a_short [stable]"],
        "one at a time, the lines come in start order: {}",
        shown(&ran)
    );
    let junit = fs::read_to_string(out.join("junit.xml")).unwrap();
    let names: Vec<&str> = testcases(&junit)
        .iter()
        .filter_map(|c| c.split(" name=\"").nth(1)?.split('"').next())
        .collect();
    assert_eq!(
        names,
        ["a_short [stable]", "b_less [stable]", "c_long [stable]"],
        "the reports list runs in file order: {junit}"
    );
}

#[test]
fn a_filter_that_keeps_no_run_exits_2() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("scenarios");
    write(&dir, "alpha.toml", QUIET);

    let o = loopguard(
        tmp.path(),
        &["check", s(&dir), "--filter", "nothing*", "--list"],
    );

    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    assert!(
        stderr(&o).starts_with("error: --filter kept none"),
        "{}",
        shown(&o)
    );
}

#[test]
fn run_into_a_checked_folder_leaves_the_batch_report_alone() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("scenarios");
    let out = tmp.path().join("out");
    write(&dir, "alpha.toml", &format!("{QUIET}{ALL_PRESETS}"));
    let other = write(tmp.path(), "other.toml", QUIET);
    let c = loopguard(tmp.path(), &["check", s(&dir), "--out", s(&out)]);
    assert_eq!(c.status.code(), Some(0), "{}", shown(&c));
    let batch_files = ["index.html", "report.md", "junit.xml", "summary.json"];
    let before: Vec<Vec<u8>> = batch_files
        .iter()
        .map(|f| fs::read(out.join(f)).unwrap())
        .collect();

    let r = loopguard(tmp.path(), &["run", s(&other), "--out", s(&out)]);

    assert_eq!(r.status.code(), Some(0), "{}", shown(&r));
    assert!(out.join("other.stable/trace.csv").is_file());
    for (f, bytes) in batch_files.iter().zip(before) {
        assert_eq!(fs::read(out.join(f)).unwrap(), bytes, "run rewrote {f}");
    }
}

#[test]
fn report_merges_run_folders_of_several_directories_and_exits_1_on_a_failing_verdict() {
    let tmp = TempDir::new().unwrap();
    let a_dir = tmp.path().join("a");
    let b_dir = tmp.path().join("b");
    write(&a_dir, "quiet.toml", QUIET);
    write(&b_dir, "missed.toml", &format!("{QUIET}{NOT_CAUGHT}"));
    let (shard_1, shard_2, merged) = (
        tmp.path().join("shard-1"),
        tmp.path().join("shard-2"),
        tmp.path().join("merged"),
    );
    assert_eq!(
        loopguard(tmp.path(), &["check", s(&a_dir), "--out", s(&shard_1)])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        loopguard(tmp.path(), &["check", s(&b_dir), "--out", s(&shard_2)])
            .status
            .code(),
        Some(1)
    );

    let o = loopguard(
        tmp.path(),
        &["report", s(&shard_1), s(&shard_2), "--out", s(&merged)],
    );

    assert_eq!(o.status.code(), Some(1), "{}", shown(&o));
    for f in [
        "index.html",
        "report.md",
        "junit.xml",
        "summary.json",
        "quiet.stable/trace.csv",
        "missed.stable/timeline.svg",
    ] {
        assert!(merged.join(f).is_file(), "{f}: {}", shown(&o));
    }
    let junit = fs::read_to_string(merged.join("junit.xml")).unwrap();
    let cases = testcases(&junit);
    assert_eq!(cases.len(), 2, "{junit}");
    assert!(cases[0].contains(r#"name="missed [stable]""#), "{junit}");
    assert!(cases[1].contains(r#"name="quiet [stable]""#), "{junit}");
    let summary: BatchSummary =
        serde_json::from_str(&fs::read_to_string(merged.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary.runs_total, 2);
    assert_eq!(summary.verdict, "fail");
    assert!(
        stdout(&o).contains("1 passed, 1 failed in "),
        "{}",
        shown(&o)
    );

    let only_passing = loopguard(tmp.path(), &["report", s(&shard_1)]);
    assert_eq!(
        only_passing.status.code(),
        Some(0),
        "{}",
        shown(&only_passing)
    );
}

#[test]
fn report_exits_2_on_a_folder_without_runs() {
    let tmp = TempDir::new().unwrap();
    let empty = tmp.path().join("empty");
    fs::create_dir_all(&empty).unwrap();

    let o = loopguard(tmp.path(), &["report", s(&empty)]);

    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    assert!(
        stderr(&o).starts_with("error: no runs in "),
        "{}",
        shown(&o)
    );
    assert!(!stdout(&o).contains("0 runs"), "{}", shown(&o));
}

#[test]
fn report_names_a_missing_folder_once() {
    let tmp = TempDir::new().unwrap();
    let missing = tmp.path().join("no-such-reports");

    let o = loopguard(tmp.path(), &["report", s(&missing)]);

    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    assert_eq!(
        stderr(&o),
        format!("error: {}: no such folder\n", missing.display())
    );
}

#[test]
fn junit_cases_carry_time_timestamp_file_and_the_preset_seed_and_replay_properties() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("scenarios");
    let out = tmp.path().join("out");
    let good = write(
        &dir,
        "good.toml",
        "seed = 7\nduration = \"2m\"\nquiet_tail = \"3m\"\n",
    );
    let typo = write(
        &dir,
        "typo.toml",
        "duration = \"2m\"\nquiet_tial = \"3m\"\n",
    );

    let o = loopguard(tmp.path(), &["check", s(&dir), "--out", s(&out)]);

    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    let junit = fs::read_to_string(out.join("junit.xml")).unwrap();
    let cases = testcases(&junit);
    assert_eq!(cases.len(), 2, "{junit}");
    let run = cases[0];
    assert!(run.contains(r#"name="good [stable]""#), "{run}");
    assert!(
        run.contains(&format!(r#"file="{}""#, good.display())),
        "{run}"
    );
    assert!(run.contains(r#" time=""#), "{run}");
    assert!(run.contains(r#" timestamp="20"#), "an RFC 3339 date: {run}");
    for property in [
        r#"<property name="preset" value="stable"/>"#.to_string(),
        r#"<property name="seed" value="7"/>"#.to_string(),
        format!(
            r#"<property name="replay" value="loopguard run {} --preset stable --seed 7"/>"#,
            good.display()
        ),
    ] {
        assert!(junit.contains(&property), "{property}: {junit}");
    }
    let bad = cases[1];
    assert!(
        bad.contains(&format!(r#"name="bad input: {}""#, typo.display())),
        "a bad input is named by its file: {bad}"
    );
    assert!(
        bad.contains(&format!(r#"file="{}""#, typo.display())),
        "{bad}"
    );
    assert!(
        junit.contains("quiet_tial"),
        "the error is in the case: {junit}"
    );
}

#[test]
fn one_batch_summary_json_names_every_time_in_ms_and_never_nests_kind() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("scenarios");
    let out = tmp.path().join("out");
    write(
        &dir,
        "open_then_440.toml",
        include_str!("../scenarios/open_then_440.toml"),
    );

    let o = loopguard(
        tmp.path(),
        &["check", s(&dir), "--out", s(&out), "--filter", "legacy"],
    );

    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
    let text = fs::read_to_string(out.join("summary.json")).unwrap();
    let summary: BatchSummary = serde_json::from_str(&text).unwrap();
    assert_eq!(summary.verdict, "pass");
    assert_eq!(summary.runs_total, 1);
    assert_eq!(summary.verdicts.get("pass"), Some(&1));
    let run = &summary.runs[0];
    assert_eq!(run.run, "open_then_440.legacy");
    assert!(
        run.caught.contains(&"reconnect_cooldown".to_string()),
        "{text}"
    );
    assert!(run.wall_ms.is_some() && summary.wall_ms.is_some(), "{text}");
    assert!(!run.first_violations.is_empty(), "{text}");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut keys = Vec::new();
    collect_keys(&json, &mut keys);
    for k in &keys {
        assert!(k != "at" && k != "kind", "key `{k}` in {text}");
    }
    assert!(keys.iter().any(|k| k == "at_ms"), "{text}");
}

fn collect_keys(v: &serde_json::Value, keys: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                keys.push(k.clone());
                collect_keys(v, keys);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| collect_keys(v, keys)),
        _ => {}
    }
}

#[test]
fn check_writes_a_table_of_the_failures_to_the_github_step_summary() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("scenarios");
    one_pass_one_fail(&dir);
    let step = tmp.path().join("step-summary.md");
    fs::write(&step, "earlier step\n").unwrap();

    let o = loopguard_cmd(
        tmp.path(),
        &["check", s(&dir), "--out", s(&tmp.path().join("out"))],
    )
    .env("GITHUB_STEP_SUMMARY", &step)
    .output()
    .unwrap();

    assert_eq!(o.status.code(), Some(1), "{}", shown(&o));
    let md = fs::read_to_string(&step).unwrap();
    assert!(
        md.starts_with("earlier step\n### loopguard: ❌ failed — 2 runs\n"),
        "{md}"
    );
    assert!(md.contains("| fail | 1 |\n| pass | 1 |\n"), "{md}");
    assert!(
        md.contains("| failed run | verdict | why | replay |"),
        "{md}"
    );
    assert!(
        md.contains(&format!(
            "| missed · stable | fail | \\`single\\_socket\\` must be violated (the bug caught) but it held | `loopguard run {} --preset stable --seed 1` |",
            dir.join("missed.toml").display()
        )),
        "{md}"
    );
    assert!(
        !md.contains("quiet · stable"),
        "only failures are listed: {md}"
    );
}

#[test]
fn every_subcommands_help_shows_examples_and_exit_codes() {
    let tmp = TempDir::new().unwrap();
    for sub in [
        "run",
        "check",
        "report",
        "replay",
        "explore",
        "import",
        "presets",
        "schema",
        "completions",
    ] {
        let o = loopguard(tmp.path(), &[sub, "--help"]);
        assert_eq!(o.status.code(), Some(0), "{sub}: {}", shown(&o));
        let text = stdout(&o);
        assert!(text.contains("Examples:\n  loopguard "), "{sub}: {text}");
        assert!(text.contains("Exit codes:\n  0  "), "{sub}: {text}");
    }
}

#[test]
fn completions_prints_a_script_for_each_shell() {
    let tmp = TempDir::new().unwrap();
    for (shell, marker) in [
        ("bash", "complete -F _loopguard"),
        ("zsh", "#compdef loopguard"),
        ("fish", "complete -c loopguard"),
    ] {
        let o = loopguard(tmp.path(), &["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", shown(&o));
        let script = stdout(&o);
        assert!(script.contains(marker), "{shell}: {script:.300}");
        assert!(
            script.contains("filter"),
            "{shell}: check's flags are completed"
        );
    }
}
