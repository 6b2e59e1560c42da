use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::invariants::Violation;

/// Violations of one invariant kept in `summary.json`.
pub const KEPT_PER_INVARIANT: usize = 100;
/// Evidence rows kept per violation in `summary.json`.
pub const KEPT_EVIDENCE_ROWS: usize = 12;

pub use crate::verdict::Verdict;

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
    /// Every violation found, counted per invariant.
    #[serde(default)]
    pub violation_counts: BTreeMap<String, u64>,
    /// The earliest violations of each invariant, with their evidence
    /// trimmed ([`KEPT_PER_INVARIANT`], [`KEPT_EVIDENCE_ROWS`]): a looping
    /// preset finds tens of thousands, and the trace holds them all.
    pub violations: Vec<Violation>,
    /// The one command that replays this run.
    pub replay: String,
    pub trace_events: usize,
    /// The folder's own copies of the run's inputs, and the hashes that make
    /// it checkable; absent in folders of runs that never finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<RunFiles>,
}

/// What a complete run folder holds besides `summary.json`, each with its
/// SHA-256 (hex): `replay` runs the copies, from any directory, and
/// `report` checks the trace against its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunFiles {
    /// Copy of the scenario file, in the run folder.
    pub scenario: String,
    pub scenario_sha256: String,
    /// The resolved policy (the preset after the scenario's overrides), TOML.
    pub policy: String,
    pub policy_sha256: String,
    /// `trace.csv` as written.
    pub trace_sha256: String,
}

impl RunSummary {
    /// Violations found in all, kept or not.
    pub fn violations_total(&self) -> u64 {
        if self.violation_counts.is_empty() {
            self.violations.len() as u64
        } else {
            self.violation_counts.values().sum()
        }
    }

    /// How many violations of `id` were found, kept or not.
    pub fn violation_count(&self, id: &str) -> u64 {
        match self.violation_counts.get(id) {
            Some(n) => *n,
            None => self.violations.iter().filter(|v| v.invariant == id).count() as u64,
        }
    }
}

/// Counts `all` per invariant and keeps the earliest of each, evidence trimmed.
/// A run does the same while it checks, one checker at a time
/// ([`crate::invariants::check_kept`]), so it never holds them all.
pub fn keep_violations(all: Vec<Violation>) -> (BTreeMap<String, u64>, Vec<Violation>) {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut kept = Vec::new();
    for mut v in all {
        let n = counts.entry(v.invariant.clone()).or_default();
        *n += 1;
        if *n <= KEPT_PER_INVARIANT as u64 {
            v.evidence.truncate(KEPT_EVIDENCE_ROWS);
            kept.push(v);
        }
    }
    (counts, kept)
}

/// The word a verdict is written as (`pass`, `fail`, `crashed`, `hung`,
/// `runaway`, `interrupted`): its `summary.json` spelling, shared by the
/// console, JUnit, the step summary and the batch's `summary.json`.
pub fn verdict_word(v: &Verdict) -> String {
    v.word().to_string()
}

impl RunSummary {
    /// Invariants that had to be violated and were: the bug, caught.
    pub fn caught(&self) -> Vec<&str> {
        self.expected_violations
            .iter()
            .filter(|id| self.violated.contains(id))
            .map(String::as_str)
            .collect()
    }

    /// Invariants that had to be violated and held: the bug, missed.
    pub fn missed(&self) -> Vec<&str> {
        self.expected_violations
            .iter()
            .filter(|id| !self.violated.contains(id))
            .map(String::as_str)
            .collect()
    }

    /// Invariants that had to hold and were violated.
    pub fn broken(&self) -> Vec<&str> {
        self.expected_holds
            .iter()
            .filter(|id| self.violated.contains(id))
            .map(String::as_str)
            .collect()
    }

    /// Violated invariants the scenario expects nothing of (they do not
    /// decide the verdict).
    pub fn unjudged(&self) -> Vec<&str> {
        self.violated
            .iter()
            .filter(|id| {
                !self.expected_holds.contains(id) && !self.expected_violations.contains(id)
            })
            .map(String::as_str)
            .collect()
    }
}
