//! Run outputs: summaries, metrics, timelines, the stability report.
//!
//! - [`metrics`]: uptime, attempts, closes by code, recoveries of a run;
//! - [`write_timeline`]: `timeline.svg` and `timeline.png` of a run;
//! - [`write_stability_report`]: `index.html` and `report.md` over runs;
//! - [`write_batch`]: those, `junit.xml` and the batch's `summary.json`;
//! - [`merge_into`]: run folders of several output directories in one;
//! - [`append_step_summary`]: the short table GitHub shows for a job step;
//! - [`rebuild`]: all of it again from the run folders of an output
//!   directory (`loopguard report DIR`).

mod batch;
mod batch_summary;
mod error;
mod explain;
mod folder;
pub mod format;
mod html;
mod junit;
mod markdown;
mod metrics;
mod step_summary;
mod summary;
pub mod timeline;

pub use batch::{merge_into, read_batch_summary, render_report_md, write_batch, Merged};
pub use batch_summary::*;
pub use junit::{render_junit, write_batch_junit, write_junit};
pub use step_summary::{append_step_summary, render_step_summary};

pub use error::ReportError;
pub use folder::{
    load_complete_run, load_run, load_runs, load_runs_checked, rebuild, rebuild_checked,
    run_metrics, write_stability_report, IncompleteRun,
};
pub use metrics::{metrics, metrics_for_users, RunMetrics, UserMetrics};
pub use summary::*;
pub use timeline::write_timeline;

/// The HTML report as a string (what `index.html` holds).
pub fn render_html(runs: &[(RunSummary, RunMetrics)]) -> String {
    html::render(runs)
}

/// The Markdown report as a string (what `report.md` holds).
pub fn render_markdown(runs: &[(RunSummary, RunMetrics)]) -> String {
    markdown::render(runs)
}
