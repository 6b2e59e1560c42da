//! `junit.xml`: one test case per scenario × preset, for the CI page.

use std::path::Path;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{RunSummary, Verdict};

/// Writes `junit.xml` for `runs` (in the order given) to `path`.
pub fn write_junit(path: &Path, runs: &[RunSummary], bad_inputs: &[String]) -> std::io::Result<()> {
    let mut report = Report::new("loopguard");
    let mut suite = TestSuite::new("loopguard check");
    for run in runs {
        let status = match run.verdict {
            Verdict::Pass => TestCaseStatus::success(),
            verdict => {
                // A run that did not finish (crashed, hung, runaway,
                // interrupted) is an error of the harness's run, not a
                // judged failure of the supervisor.
                let kind = if verdict == Verdict::Fail {
                    NonSuccessKind::Failure
                } else {
                    NonSuccessKind::Error
                };
                let mut s = TestCaseStatus::non_success(kind);
                s.set_message(run.unmet.first().cloned().unwrap_or_default());
                s.set_description(format!("{}\nreplay: {}", run.unmet.join("\n"), run.replay));
                s
            }
        };
        let mut case = TestCase::new(format!("{} [{}]", run.scenario, run.preset), status);
        case.set_classname(run.scenario.clone());
        suite.add_test_case(case);
    }
    for err in bad_inputs {
        let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
        s.set_message(err.clone());
        suite.add_test_case(TestCase::new(format!("bad input: {err}"), s));
    }
    report.add_test_suite(suite);
    let xml = report.to_string().map_err(std::io::Error::other)?;
    crate::output::write_atomic(path, xml.as_bytes())
}
