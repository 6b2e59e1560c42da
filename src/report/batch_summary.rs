//! `<out>/summary.json`: the whole batch in one file for CI scripts. Every
//! time is a number of milliseconds in a field ending `_ms`; a verdict is
//! its word; evidence rows stay in the run folders' own `summary.json`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::{write_file, ReportError};
use super::{verdict_word, RunMetrics, RunSummary, Verdict};

/// The file holding a run's wall-clock timing, next to its `summary.json`.
/// Kept apart so `summary.json` stays the same for the same seed.
pub const TIMING_FILE: &str = "timing.json";

/// When a run (or a batch) started on the wall clock and how long it took.
/// Wall-clock only: it never reaches a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunTiming {
    /// Milliseconds since the Unix epoch.
    pub started_unix_ms: u64,
    pub wall_ms: u64,
}

impl RunTiming {
    /// Writes `<dir>/timing.json`.
    pub fn write(&self, dir: &Path) -> Result<(), ReportError> {
        let path = dir.join(TIMING_FILE);
        let json = serde_json::to_string(self).map_err(|e| ReportError::Summary {
            path: path.clone(),
            source: e,
        })?;
        write_file(&path, (json + "\n").as_bytes())
    }

    /// `<dir>/timing.json`, when there is a readable one (runs written by
    /// an older loopguard have none).
    pub fn read(dir: &Path) -> Option<RunTiming> {
        let text = std::fs::read_to_string(dir.join(TIMING_FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }
}

/// A scenario file that was refused, named by its path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadInput {
    pub file: String,
    /// The error as the parser renders it.
    pub message: String,
}

/// One finished run as the batch outputs see it.
#[derive(Debug, Clone)]
pub struct FinishedRun {
    pub summary: RunSummary,
    pub metrics: RunMetrics,
    pub timing: Option<RunTiming>,
}

impl FinishedRun {
    pub fn passed(&self) -> bool {
        self.summary.verdict == Verdict::Pass
    }
}

/// The batch's `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchSummary {
    /// `pass` when every run passed and no input was refused, else `fail`.
    pub verdict: String,
    pub runs_total: usize,
    /// Runs per verdict word.
    pub verdicts: BTreeMap<String, usize>,
    pub bad_inputs: Vec<BadInput>,
    /// The batch's wall clock, when it ran as one (`check`); absent when
    /// `report` rebuilt it from folders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_unix_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_ms: Option<u64>,
    pub runs: Vec<BatchRun>,
}

/// One run in the batch's `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchRun {
    /// Its folder under the output directory.
    pub run: String,
    pub scenario: String,
    /// The scenario file.
    pub file: String,
    pub preset: String,
    pub seed: u64,
    pub verdict: String,
    pub virtual_length_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_unix_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_ms: Option<u64>,
    /// Expected violations found (the bug caught).
    pub caught: Vec<String>,
    /// Expected violations not found.
    pub missed: Vec<String>,
    /// Invariants that had to hold and were violated.
    pub broken: Vec<String>,
    /// Violated invariants the scenario expects nothing of.
    pub unjudged: Vec<String>,
    pub violation_counts: BTreeMap<String, u64>,
    /// Why the verdict is not `pass`, a sentence each.
    pub unmet: Vec<String>,
    pub replay: String,
    pub uptime_pct: f64,
    pub attempts_total: u32,
    /// The earliest violation of each invariant.
    pub first_violations: Vec<FirstViolation>,
}

/// The earliest violation of one invariant in a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FirstViolation {
    pub invariant: String,
    pub at_ms: u64,
    pub user: Option<String>,
    pub message: String,
}

impl BatchSummary {
    pub fn of(runs: &[FinishedRun], bad_inputs: &[BadInput], batch: Option<RunTiming>) -> Self {
        let mut verdicts: BTreeMap<String, usize> = BTreeMap::new();
        for r in runs {
            *verdicts
                .entry(verdict_word(&r.summary.verdict))
                .or_default() += 1;
        }
        let all_passed = runs.iter().all(FinishedRun::passed) && bad_inputs.is_empty();
        BatchSummary {
            verdict: if all_passed { "pass" } else { "fail" }.to_string(),
            runs_total: runs.len(),
            verdicts,
            bad_inputs: bad_inputs.to_vec(),
            started_unix_ms: batch.map(|t| t.started_unix_ms),
            wall_ms: batch.map(|t| t.wall_ms),
            runs: runs.iter().map(BatchRun::of).collect(),
        }
    }

    /// Writes it to `path`, pretty-printed.
    pub fn write(&self, path: &Path) -> Result<(), ReportError> {
        let json = serde_json::to_string_pretty(self).map_err(|e| ReportError::Summary {
            path: path.to_path_buf(),
            source: e,
        })?;
        write_file(path, (json + "\n").as_bytes())
    }
}

impl BatchRun {
    fn of(r: &FinishedRun) -> Self {
        let s = &r.summary;
        let owned = |ids: Vec<&str>| ids.into_iter().map(str::to_string).collect();
        let mut first: BTreeMap<&str, &crate::invariants::Violation> = BTreeMap::new();
        for v in &s.violations {
            first
                .entry(v.invariant.as_str())
                .and_modify(|f| {
                    if v.at < f.at {
                        *f = v;
                    }
                })
                .or_insert(v);
        }
        BatchRun {
            run: s.run.clone(),
            scenario: s.scenario.clone(),
            file: s.source.clone(),
            preset: s.preset.clone(),
            seed: s.seed,
            verdict: verdict_word(&s.verdict),
            virtual_length_ms: s.run_length_ms,
            started_unix_ms: r.timing.map(|t| t.started_unix_ms),
            wall_ms: r.timing.map(|t| t.wall_ms),
            caught: owned(s.caught()),
            missed: owned(s.missed()),
            broken: owned(s.broken()),
            unjudged: owned(s.unjudged()),
            violation_counts: s
                .violated
                .iter()
                .map(|id| (id.clone(), s.violation_count(id)))
                .collect(),
            unmet: s.unmet.clone(),
            replay: s.replay.clone(),
            uptime_pct: r.metrics.uptime_pct,
            attempts_total: r.metrics.attempts_total,
            first_violations: first
                .into_values()
                .map(|v| FirstViolation {
                    invariant: v.invariant.clone(),
                    at_ms: crate::util::ms(v.at),
                    user: v.user.clone(),
                    message: v.message.clone(),
                })
                .collect(),
        }
    }
}
