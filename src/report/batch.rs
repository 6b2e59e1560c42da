//! A batch's outputs, written by `check` as it finishes and rebuilt by
//! `report DIR...` from run folders, merging several output directories:
//!
//! ```text
//! <out>/index.html, report.md   the stability report
//! <out>/junit.xml               one test case per run, one per bad input
//! <out>/summary.json            the whole batch for scripts (BatchSummary)
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::ReportError;
use super::{
    junit, load_runs_checked, markdown, run_metrics, write_stability_report, write_timeline,
    BadInput, BatchSummary, FinishedRun, IncompleteRun, RunMetrics, RunSummary, RunTiming,
};

/// Writes `index.html`, `report.md`, `junit.xml` and `summary.json` into
/// `out` for `runs` (in the order given) and the refused inputs.
pub fn write_batch(
    out: &Path,
    runs: &[FinishedRun],
    bad_inputs: &[BadInput],
    timing: Option<RunTiming>,
) -> Result<(), ReportError> {
    std::fs::create_dir_all(out).map_err(|e| ReportError::io(out, e))?;
    let pairs: Vec<(RunSummary, RunMetrics)> = runs
        .iter()
        .map(|r| (r.summary.clone(), r.metrics.clone()))
        .collect();
    write_stability_report(out, &pairs)?;
    junit::write_batch_junit(&out.join("junit.xml"), runs, bad_inputs)?;
    BatchSummary::of(runs, bad_inputs, timing).write(&out.join("summary.json"))
}

/// The Markdown report alone, as `report.md` holds it.
pub fn render_report_md(runs: &[FinishedRun]) -> String {
    let pairs: Vec<(RunSummary, RunMetrics)> = runs
        .iter()
        .map(|r| (r.summary.clone(), r.metrics.clone()))
        .collect();
    markdown::render(&pairs)
}

/// What [`merge_into`] found.
#[derive(Debug, Clone, Default)]
pub struct Merged {
    /// Every run, by folder name.
    pub runs: Vec<FinishedRun>,
    /// Refused inputs recorded in the directories' batch `summary.json`.
    pub bad_inputs: Vec<BadInput>,
    /// Run folders found in more than one directory: the later one is kept.
    pub duplicates: Vec<String>,
    /// Folders that look like run folders but hold no complete run (left
    /// out, not copied).
    pub incomplete: Vec<IncompleteRun>,
}

/// Gathers the complete run folders of `dirs` into `out`: a run folder from
/// another directory is copied there (every file in it), every timeline is
/// redrawn, and the runs come back sorted by folder. A later directory's
/// run replaces an earlier one of the same name. Incomplete folders (see
/// [`load_runs_checked`]) are listed, not copied.
pub fn merge_into(out: &Path, dirs: &[PathBuf]) -> Result<Merged, ReportError> {
    std::fs::create_dir_all(out).map_err(|e| ReportError::io(out, e))?;
    let out_real = std::fs::canonicalize(out).map_err(|e| ReportError::io(out, e))?;
    let mut by_name: BTreeMap<String, FinishedRun> = BTreeMap::new();
    let mut merged = Merged::default();
    for dir in dirs {
        let same = std::fs::canonicalize(dir).map_err(|e| ReportError::io(dir, e))? == out_real;
        let (runs, incomplete) = load_runs_checked(dir)?;
        merged.incomplete.extend(incomplete);
        for (summary, trace) in runs {
            let from = dir.join(&summary.run);
            let to = out.join(&summary.run);
            if !same {
                copy_run_folder(&from, &to)?;
            }
            write_timeline(&to, &summary, &trace)?;
            let metrics = run_metrics(&summary, &trace);
            let timing = RunTiming::read(&to);
            let name = summary.run.clone();
            if by_name
                .insert(
                    name.clone(),
                    FinishedRun {
                        summary,
                        metrics,
                        timing,
                    },
                )
                .is_some()
            {
                merged.duplicates.push(name);
            }
        }
        if let Some(batch) = read_batch_summary(dir) {
            for bad in batch.bad_inputs {
                if !merged.bad_inputs.contains(&bad) {
                    merged.bad_inputs.push(bad);
                }
            }
        }
    }
    merged.runs = by_name.into_values().collect();
    Ok(merged)
}

/// `<dir>/summary.json` of a batch, when it holds one.
pub fn read_batch_summary(dir: &Path) -> Option<BatchSummary> {
    let text = std::fs::read_to_string(dir.join("summary.json")).ok()?;
    serde_json::from_str(&text).ok()
}

fn copy_run_folder(from: &Path, to: &Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(to).map_err(|e| ReportError::io(to, e))?;
    let entries = std::fs::read_dir(from).map_err(|e| ReportError::io(from, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| ReportError::io(from, e))?;
        let src = entry.path();
        if src.is_file() {
            std::fs::copy(&src, to.join(entry.file_name()))
                .map_err(|e| ReportError::io(&src, e))?;
        }
    }
    Ok(())
}
