use serde::{Deserialize, Serialize};

use crate::invariants::Violation;

/// Whether a run came out as its scenario expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
}

/// `summary.json` of one run: everything the console, JUnit and the
/// stability report say about it, besides what they compute from the trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Folder name under the output directory: `<scenario>.<preset>`.
    pub run: String,
    pub scenario: String,
    pub description: String,
    /// The scenario file, as given.
    pub source: String,
    pub preset: String,
    pub seed: u64,
    /// Virtual length of the run.
    pub run_length_ms: u64,
    /// When the last fault ended.
    pub faults_end_ms: u64,
    pub users: Vec<String>,
    /// App hosts that ran (`app-1`, …).
    pub instances: Vec<String>,
    pub verdict: Verdict,
    /// Invariants that had to hold / had to be violated.
    pub expected_holds: Vec<String>,
    pub expected_violations: Vec<String>,
    /// Invariants with no violation / with at least one.
    pub held: Vec<String>,
    pub violated: Vec<String>,
    /// Why the verdict is `fail`, one sentence each; empty on `pass`.
    pub unmet: Vec<String>,
    pub violations: Vec<Violation>,
    /// The one command that replays this run.
    pub replay: String,
    pub trace_events: usize,
}
