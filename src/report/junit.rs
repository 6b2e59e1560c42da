//! `junit.xml`: one test case per scenario × preset, for the CI page. Each
//! case carries its wall-clock `time` and `timestamp` (when known), the
//! scenario's `file`, and the preset, seed and replay command as
//! properties; a refused scenario file is an `error` case named by its file.

use std::path::Path;

use chrono::{DateTime, FixedOffset, Utc};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::error::{write_file, ReportError};
use super::{verdict_word, BadInput, FinishedRun, RunSummary, RunTiming, Verdict};

/// The JUnit XML for `runs` (in the order given) and the refused inputs.
pub fn render_junit(runs: &[FinishedRun], bad_inputs: &[BadInput]) -> String {
    let mut report = Report::new("loopguard");
    let mut suite = TestSuite::new("loopguard check");
    for run in runs {
        suite.add_test_case(case(&run.summary, run.timing));
    }
    for bad in bad_inputs {
        let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
        s.set_message(bad.message.lines().next().unwrap_or_default().to_string());
        s.set_type("bad input");
        s.set_description(bad.message.clone());
        let mut case = TestCase::new(format!("bad input: {}", bad.file), s);
        case.set_classname(bad.file.clone());
        case.extra.insert("file".into(), bad.file.clone().into());
        suite.add_test_case(case);
    }
    report.add_test_suite(suite);
    // Serialising an in-memory report only fails on a broken writer.
    report.to_string().unwrap_or_default()
}

/// Writes [`render_junit`] to `path` (atomically).
pub fn write_batch_junit(
    path: &Path,
    runs: &[FinishedRun],
    bad_inputs: &[BadInput],
) -> Result<(), ReportError> {
    write_file(path, render_junit(runs, bad_inputs).as_bytes())
}

/// `junit.xml` for runs known only by their summaries (no wall-clock
/// timing) and errors known only by their text, each error a case of its
/// own: what `explore` writes.
pub fn write_junit(path: &Path, runs: &[RunSummary], errors: &[String]) -> std::io::Result<()> {
    let mut report = Report::new("loopguard");
    let mut suite = TestSuite::new("loopguard check");
    for s in runs {
        suite.add_test_case(case(s, None));
    }
    for err in errors {
        let mut st = TestCaseStatus::non_success(NonSuccessKind::Error);
        st.set_message(err.clone());
        suite.add_test_case(TestCase::new(format!("bad input: {err}"), st));
    }
    report.add_test_suite(suite);
    let xml = report.to_string().map_err(std::io::Error::other)?;
    crate::output::write_atomic(path, xml.as_bytes())
}

fn case(s: &RunSummary, timing: Option<RunTiming>) -> TestCase {
    let status = if s.verdict == Verdict::Pass {
        TestCaseStatus::success()
    } else {
        // A run that did not finish (crashed, hung, runaway, interrupted)
        // is an error of the harness's run, not a judged failure of the
        // supervisor; the verdict word is the case's type either way.
        let kind = if s.verdict == Verdict::Fail {
            NonSuccessKind::Failure
        } else {
            NonSuccessKind::Error
        };
        let mut st = TestCaseStatus::non_success(kind);
        let word = verdict_word(&s.verdict);
        st.set_type(word.clone());
        st.set_message(s.unmet.first().cloned().unwrap_or(word));
        st.set_description(format!("{}\nreplay: {}", s.unmet.join("\n"), s.replay));
        st
    };
    let mut case = TestCase::new(format!("{} [{}]", s.scenario, s.preset), status);
    case.set_classname(s.scenario.clone());
    if let Some(t) = timing {
        case.set_time(std::time::Duration::from_millis(t.wall_ms));
        if let Some(at) = timestamp(t) {
            case.set_timestamp(at);
        }
    }
    case.extra.insert("file".into(), s.source.clone().into());
    case.add_property(Property::new("preset", s.preset.clone()));
    case.add_property(Property::new("seed", s.seed.to_string()));
    case.add_property(Property::new("replay", s.replay.clone()));
    case
}

fn timestamp(t: RunTiming) -> Option<DateTime<FixedOffset>> {
    let ms = i64::try_from(t.started_unix_ms).ok()?;
    DateTime::<Utc>::from_timestamp_millis(ms).map(|d| d.fixed_offset())
}
