//! The output directory: run folders in, stability report out.
//!
//! ```text
//! <out>/index.html, report.md          the stability report
//! <out>/<run>/summary.json, trace.csv  one run, as the runner wrote it
//! <out>/<run>/timeline.svg, .png       its timeline
//! ```

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
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

/// A folder that looks like a run folder but holds no complete run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncompleteRun {
    pub dir: PathBuf,
    /// Why, one sentence.
    pub why: String,
}

/// The files that make a folder a run folder, finished or not.
const RUN_FILES: [&str; 5] = [
    "summary.json",
    "trace.csv",
    ".trace.csv.tmp",
    "scenario.toml",
    "policy.toml",
];

/// Every run folder under `out`, sorted by name: the complete ones loaded,
/// the others listed with the reason. A folder is complete when its
/// `summary.json` (written last) reads, its `trace.csv` holds as many rows as
/// the summary counts, and every file the summary hashes has that hash.
#[allow(clippy::type_complexity)]
pub fn load_runs_checked(
    out: &Path,
) -> Result<(Vec<(RunSummary, Vec<TraceEvent>)>, Vec<IncompleteRun>), ReportError> {
    let entries = std::fs::read_dir(out).map_err(|e| ReportError::io(out, e))?;
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| ReportError::io(out, e))?;
        let path = entry.path();
        if path.is_dir() && RUN_FILES.iter().any(|f| path.join(f).is_file()) {
            dirs.push((entry.file_name(), path));
        }
    }
    dirs.sort();
    let (mut runs, mut incomplete) = (Vec::new(), Vec::new());
    for (name, dir) in dirs {
        match load_complete_run(&dir) {
            Ok((mut summary, trace)) => {
                summary.run = name.to_string_lossy().into_owned();
                runs.push((summary, trace));
            }
            Err(why) => incomplete.push(IncompleteRun { dir, why }),
        }
    }
    Ok((runs, incomplete))
}

/// One run folder's summary and trace, once it is known to be complete;
/// otherwise why not.
pub fn load_complete_run(dir: &Path) -> Result<(RunSummary, Vec<TraceEvent>), String> {
    let summary_path = dir.join("summary.json");
    if !summary_path.is_file() {
        return Err("no summary.json: the run never finished (or was being rewritten)".into());
    }
    let trace_path = dir.join("trace.csv");
    if !trace_path.is_file() {
        return Err("no trace.csv under its summary.json".into());
    }
    let (summary, trace) = load_run(dir).map_err(|e| e.to_string())?;
    if let Some(files) = &summary.files {
        let checks = [
            ("trace.csv", files.trace_sha256.as_str()),
            (files.scenario.as_str(), files.scenario_sha256.as_str()),
            (files.policy.as_str(), files.policy_sha256.as_str()),
        ];
        for (file, want) in checks {
            let path = dir.join(file);
            match crate::output::sha256_file(&path) {
                Ok(got) if got == want => {}
                Ok(_) => {
                    return Err(format!(
                        "{file} does not match the SHA-256 its summary.json recorded \
                         (damaged, or left from another run)"
                    ))
                }
                Err(e) => return Err(format!("{file}: {e}")),
            }
        }
    }
    if trace.len() != summary.trace_events {
        return Err(format!(
            "trace.csv holds {} rows but its summary.json counts {} (cut short, or left \
             from another run)",
            trace.len(),
            summary.trace_events
        ));
    }
    Ok((summary, trace))
}

/// [`rebuild`] over complete run folders only; the incomplete ones are
/// left out of the report and returned.
pub fn rebuild_checked(out: &Path) -> Result<(usize, Vec<IncompleteRun>), ReportError> {
    let (runs, incomplete) = load_runs_checked(out)?;
    let mut reported = Vec::with_capacity(runs.len());
    for (summary, trace) in runs {
        write_timeline(&out.join(&summary.run), &summary, &trace)?;
        let m = run_metrics(&summary, &trace);
        reported.push((summary, m));
    }
    write_stability_report(out, &reported)?;
    Ok((reported.len(), incomplete))
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
            let dir = out.join(&s.run);
            std::fs::read_to_string(dir.join(super::timeline::INDEX_DATA_FILE))
                .ok()
                // A folder written before the capped copy existed.
                .or_else(|| {
                    std::fs::read_to_string(dir.join(super::timeline::DATA_FILE))
                        .ok()
                        .map(|d| {
                            super::timeline::interactive::capped(
                                &d,
                                super::timeline::interactive::INDEX_EVENT_CAP,
                            )
                        })
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
