//! The job summary GitHub Actions shows (`$GITHUB_STEP_SUMMARY`): a few
//! lines of Markdown, a count per verdict and a table of the failures with
//! their replay commands. Everything else is in the report.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::io::Write as _;
use std::path::Path;

use super::error::ReportError;
use super::format::markdown as esc;
use super::{verdict_word, BadInput, FinishedRun};

/// Failing runs listed in the step summary; the rest are counted.
pub const LISTED_FAILURES: usize = 30;

/// The step summary's Markdown.
pub fn render_step_summary(runs: &[FinishedRun], bad_inputs: &[BadInput]) -> String {
    let failed: Vec<&FinishedRun> = runs.iter().filter(|r| !r.passed()).collect();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for r in runs {
        *counts.entry(verdict_word(&r.summary.verdict)).or_default() += 1;
    }
    let ok = failed.is_empty() && bad_inputs.is_empty();
    let mut m = String::new();
    let _ = writeln!(
        m,
        "### loopguard: {} — {} run{}\n",
        if ok {
            "✅ all as expected"
        } else {
            "❌ failed"
        },
        runs.len(),
        if runs.len() == 1 { "" } else { "s" }
    );
    m.push_str("| verdict | runs |\n|---|---:|\n");
    for (word, n) in &counts {
        let _ = writeln!(m, "| {} | {n} |", esc(word));
    }
    if !bad_inputs.is_empty() {
        let _ = writeln!(m, "| bad input | {} |", bad_inputs.len());
    }
    if !failed.is_empty() {
        m.push_str("\n| failed run | verdict | why | replay |\n|---|---|---|---|\n");
        for r in failed.iter().take(LISTED_FAILURES) {
            let s = &r.summary;
            let _ = writeln!(
                m,
                "| {} · {} | {} | {} | `{}` |",
                esc(&s.scenario),
                esc(&s.preset),
                esc(&verdict_word(&s.verdict)),
                esc(s.unmet.first().map_or("", String::as_str)),
                s.replay.replace('`', "'")
            );
        }
        if failed.len() > LISTED_FAILURES {
            let _ = writeln!(
                m,
                "\n{} more failing runs: see the report.",
                failed.len() - LISTED_FAILURES
            );
        }
    }
    if !bad_inputs.is_empty() {
        m.push_str("\n| bad input | error |\n|---|---|\n");
        for b in bad_inputs {
            let _ = writeln!(
                m,
                "| {} | {} |",
                esc(&b.file),
                esc(b.message.lines().next().unwrap_or_default())
            );
        }
    }
    m.push('\n');
    m
}

/// Appends [`render_step_summary`] to `path` (GitHub's file collects the
/// summaries of every step of a job).
pub fn append_step_summary(
    path: &Path,
    runs: &[FinishedRun],
    bad_inputs: &[BadInput],
) -> Result<(), ReportError> {
    let io = |e| ReportError::io(path, e);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    f.write_all(render_step_summary(runs, bad_inputs).as_bytes())
        .map_err(io)
}
