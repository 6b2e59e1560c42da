//! The batch outputs for CI, from run summaries: a short `report.md`, the
//! JUnit for any verdict, GitHub's step summary.

mod report_fixtures;

use std::time::Duration;

use loopguard::report::{
    metrics, render_junit, render_report_md, render_step_summary, BadInput, FinishedRun, RunTiming,
    Verdict,
};

fn finished(s: loopguard::report::RunSummary, t: &[loopguard::trace::TraceEvent]) -> FinishedRun {
    let m = metrics(t, Duration::from_millis(s.run_length_ms));
    FinishedRun {
        summary: s,
        metrics: m,
        timing: Some(RunTiming {
            started_unix_ms: 1_764_633_600_000,
            wall_ms: 1_250,
        }),
    }
}

/// 13 scenarios × 3 presets like the shipped check (names as long as its
/// longest, `endpoint_unavailable_503`), every run failing with
/// 100 kept violations carrying evidence: the worst case for report size.
fn thirty_nine_failing_runs() -> Vec<FinishedRun> {
    let (base, trace) = report_fixtures::one_minute();
    let mut runs = Vec::new();
    for sc in 0..13 {
        for preset in ["legacy", "seed-fix", "stable"] {
            let mut s = base.clone();
            s.scenario = format!("endpoint_unavailable_{sc:02}");
            s.preset = preset.to_string();
            s.run = format!("{}.{preset}", s.scenario);
            s.violations = (0..100)
                .map(|i| {
                    let mut v = base.violations[i % base.violations.len()].clone();
                    v.at = Duration::from_millis(1_000 * i as u64);
                    v
                })
                .collect();
            s.violation_counts = [("single_socket".to_string(), 4_000)].into_iter().collect();
            runs.push(finished(s, &trace));
        }
    }
    runs
}

#[test]
fn report_md_of_thirty_nine_failing_runs_stays_under_20_kb() {
    let md = render_report_md(&thirty_nine_failing_runs());
    eprintln!("report.md of 39 failing runs: {} bytes", md.len());
    assert!(md.len() < 20_000, "{} bytes", md.len());
    assert!(md.contains("## Failures (39)"), "{md:.400}");
    assert!(
        md.contains("36 more failing runs: "),
        "three are spelled out"
    );
    assert!(!md.contains("<details>"), "no evidence rows in report.md");
}

#[test]
fn report_md_spells_out_a_failure_with_its_replay_command_and_no_evidence() {
    let (s, t) = report_fixtures::one_minute();
    let replay = s.replay.clone();
    let md = render_report_md(&[finished(s, &t)]);
    let failures = &md[md.find("## Failures (1)").expect("a failures section")..];
    assert!(
        failures.contains("### one-minute · legacy — ❌ FAIL"),
        "{failures}"
    );
    assert!(
        failures.contains(&format!("- replay: ` {replay} `")),
        "{failures}"
    );
    assert!(
        failures.contains("- 1. At 0:00:40.000, for alice, single\\_socket broke"),
        "{failures}"
    );
    assert!(md.find("## Failures").unwrap() < md.find("## Scenarios × presets").unwrap());
}

#[test]
fn a_report_of_passing_runs_has_no_failures_section() {
    let (mut s, t) = report_fixtures::one_minute();
    s.verdict = Verdict::Pass;
    s.unmet.clear();
    let md = render_report_md(&[finished(s, &t)]);
    assert!(!md.contains("## Failures"), "{md}");
}

#[test]
fn a_failing_case_in_junit_has_the_verdict_as_its_type_and_the_replay_in_its_text() {
    let (s, t) = report_fixtures::one_minute();
    let replay = s.replay.clone();
    let xml = render_junit(&[finished(s, &t)], &[]);
    assert!(
        xml.contains(
            "<failure message=\"single_socket was violated but had to hold\" type=\"fail\">"
        ),
        "{xml}"
    );
    assert!(xml.contains(&format!("replay: {replay}")), "{xml}");
    assert!(xml.contains(r#"time="1.250""#), "{xml}");
    assert!(xml.contains(r#"timestamp="2025-12-02T00:00:00"#), "{xml}");
}

#[test]
fn a_bad_input_case_in_junit_is_named_by_its_file_with_the_error_inside() {
    let bad = BadInput {
        file: "scenarios/typo.toml".into(),
        message: "scenarios/typo.toml:3: unknown field `quiet_tial`".into(),
    };
    let xml = render_junit(&[], &[bad]);
    assert!(
        xml.contains(r#"<testcase name="bad input: scenarios/typo.toml""#),
        "{xml}"
    );
    assert!(xml.contains("<error message=\"scenarios/typo.toml:3: unknown field `quiet_tial`\" type=\"bad input\">"), "{xml}");
}

#[test]
fn the_step_summary_of_passing_runs_is_a_count_table_alone() {
    let (mut s, t) = report_fixtures::one_minute();
    s.verdict = Verdict::Pass;
    let md = render_step_summary(&[finished(s, &t)], &[]);
    assert_eq!(
        md,
        "### loopguard: ✅ all as expected — 1 run\n\n| verdict | runs |\n|---|---:|\n| pass | 1 |\n\n"
    );
}

#[test]
fn the_step_summary_lists_bad_inputs_by_file() {
    let bad = BadInput {
        file: "scenarios/typo.toml".into(),
        message: "scenarios/typo.toml:3: unknown field\nmore".into(),
    };
    let md = render_step_summary(&[], &[bad]);
    assert!(md.contains("| bad input | 1 |"), "{md}");
    assert!(
        md.contains("| scenarios/typo.toml | scenarios/typo.toml:3: unknown field |"),
        "{md}"
    );
}

/// The one-minute fixture as a run the harness stopped: no violation
/// judged, the reason in `unmet`.
fn stopped(verdict: Verdict, why: &str) -> FinishedRun {
    let (mut s, t) = report_fixtures::one_minute();
    s.verdict = verdict;
    s.violated.clear();
    s.violations.clear();
    s.violation_counts.clear();
    s.unmet = vec![why.to_string()];
    finished(s, &t)
}

#[test]
fn a_run_that_did_not_finish_is_a_junit_error_with_its_verdict_word_as_type() {
    let xml = render_junit(
        &[stopped(
            Verdict::Hung,
            "the run passed its wall-clock limit (--run-timeout 8s) and was stopped",
        )],
        &[],
    );
    assert!(
        xml.contains("<error message=\"the run passed its wall-clock limit (--run-timeout 8s) and was stopped\" type=\"hung\">"),
        "{xml}"
    );
    assert!(!xml.contains("<failure"), "{xml}");
}

#[test]
fn the_step_summary_counts_and_lists_a_crashed_run_by_its_word() {
    let md = render_step_summary(&[stopped(Verdict::Crashed, "the run panicked: boom")], &[]);
    assert!(md.contains("| crashed | 1 |"), "{md}");
    assert!(
        md.contains(" | crashed | the run panicked: boom | `"),
        "{md}"
    );
}
