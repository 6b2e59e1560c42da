//! The output directory: run folders in, stability report out.
//!
//! ```text
//! <out>/index.html, report.md          the stability report
//! <out>/<run>/summary.json, trace.csv  one run, as the runner wrote it
//! <out>/<run>/timeline.svg, .png       its timeline
//! ```

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::time::Duration;

use crate::trace::{read_trace, TraceEvent};

use super::error::{write_file, ReportError};
use super::{html, markdown, metrics_for_users, write_timeline, RunMetrics, RunSummary};

/// Every subfolder of `out` holding both `summary.json` and `trace.csv`,
/// sorted by folder name. A run's `run` field is set to its folder's name
/// (they agree when the runner wrote them), since the report links there.
pub fn load_runs(out: &Path) -> Result<Vec<(RunSummary, Vec<TraceEvent>)>, ReportError> {
    let entries = std::fs::read_dir(out).map_err(|e| ReportError::io(out, e))?;
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| ReportError::io(out, e))?;
        let path = entry.path();
        if path.is_dir() && path.join("summary.json").is_file() && path.join("trace.csv").is_file()
        {
            dirs.push((entry.file_name(), path));
        }
    }
    dirs.sort();
    dirs.into_iter()
        .map(|(name, dir)| {
            let (mut summary, trace) = load_run(&dir)?;
            summary.run = name.to_string_lossy().into_owned();
            Ok((summary, trace))
        })
        .collect()
}

/// One run folder's summary and trace.
pub fn load_run(dir: &Path) -> Result<(RunSummary, Vec<TraceEvent>), ReportError> {
    let summary_path = dir.join("summary.json");
    let text =
        std::fs::read_to_string(&summary_path).map_err(|e| ReportError::io(&summary_path, e))?;
    let summary: RunSummary =
        serde_json::from_str(&text).map_err(|source| ReportError::Summary {
            path: summary_path.clone(),
            source,
        })?;
    let trace_path = dir.join("trace.csv");
    let file = File::open(&trace_path).map_err(|e| ReportError::io(&trace_path, e))?;
    let trace = read_trace(BufReader::new(file)).map_err(|source| ReportError::Trace {
        path: trace_path.clone(),
        source,
    })?;
    Ok((summary, trace))
}

/// The metrics the report shows for a run: over the summary's users and
/// its run length.
pub fn run_metrics(summary: &RunSummary, trace: &[TraceEvent]) -> RunMetrics {
    metrics_for_users(
        trace,
        Duration::from_millis(summary.run_length_ms),
        &summary.users,
    )
}

/// Writes `index.html` and `report.md` into `out`, runs in the order given.
/// Each run whose folder holds its timeline data gets the interactive
/// timeline in `index.html` (with the first trace rows for the hover list;
/// the run's own page has them all).
pub fn write_stability_report(
    out: &Path,
    runs: &[(RunSummary, RunMetrics)],
) -> Result<(), ReportError> {
    let data: Vec<Option<String>> = runs
        .iter()
        .map(|(s, _)| {
            let path = out.join(&s.run).join(super::timeline::DATA_FILE);
            std::fs::read_to_string(path)
                .ok()
                .map(|d| {
                    super::timeline::interactive::capped(
                        &d,
                        super::timeline::interactive::INDEX_EVENT_CAP,
                    )
                })
                .filter(|d| !d.is_empty())
        })
        .collect();
    write_file(
        &out.join("index.html"),
        html::render_with(runs, &data).as_bytes(),
    )?;
    write_file(&out.join("report.md"), markdown::render(runs).as_bytes())
}

/// `loopguard report DIR`: reloads every run folder of `out`, redraws its
/// timeline and rewrites the stability report. Returns how many runs.
pub fn rebuild(out: &Path) -> Result<usize, ReportError> {
    let runs = load_runs(out)?;
    let mut reported = Vec::with_capacity(runs.len());
    for (summary, trace) in runs {
        write_timeline(&out.join(&summary.run), &summary, &trace)?;
        let m = run_metrics(&summary, &trace);
        reported.push((summary, m));
    }
    write_stability_report(out, &reported)?;
    Ok(reported.len())
}
