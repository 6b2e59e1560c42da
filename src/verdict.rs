//! Judging a run against its scenario's `[expect.<preset>]`: which
//! invariants had to hold, which violations had to be found.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::invariants::{Violation, INVARIANT_IDS};
use crate::scenario::Expectation;

/// How a run ended. `pass` is the only good verdict: every other one fails
/// the gate.
///
/// - `fail`: the run finished and its expectation was not met;
/// - `crashed`: something inside the run panicked (supervisor, endpoint,
///   oracle or report writing); the panic message is in `unmet`;
/// - `hung`: the run stopped making progress or passed its wall-clock
///   limit (`--run-timeout`) and was stopped;
/// - `runaway`: its trace passed a cap (events in all or per virtual minute,
///   see `trace::TraceCaps`) and it was stopped;
/// - `interrupted`: `check` was interrupted (SIGINT or SIGTERM) while it ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    Crashed,
    Hung,
    Runaway,
    Interrupted,
}

impl Verdict {
    /// The word in `summary.json`, and (upper-cased) on the console.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Crashed => "crashed",
            Verdict::Hung => "hung",
            Verdict::Runaway => "runaway",
            Verdict::Interrupted => "interrupted",
        }
    }

    /// The word as the console and the reports show it: `PASS`, `CRASHED`…
    pub fn label(self) -> String {
        self.word().to_ascii_uppercase()
    }

    /// Whether the run passed the gate.
    pub fn is_pass(self) -> bool {
        self == Verdict::Pass
    }
}

/// The judgement of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    pub verdict: Verdict,
    pub expected_holds: Vec<String>,
    pub expected_violations: Vec<String>,
    pub held: Vec<String>,
    pub violated: Vec<String>,
    /// Why it failed, a sentence each.
    pub unmet: Vec<String>,
}

/// What is expected of a preset the scenario says nothing about: every
/// invariant holds.
pub fn default_expectation() -> Expectation {
    Expectation {
        holds: vec!["all".into()],
        violates: Vec::new(),
    }
}

pub fn judge(expect: &Expectation, violations: &[Violation]) -> Judgement {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for v in violations {
        *counts.entry(v.invariant.clone()).or_default() += 1;
    }
    judge_counted(expect, &counts, violations)
}

/// [`judge`] on what a run keeps of its violations: `counts` of every
/// violation per invariant, and `kept`, a prefix of each invariant's
/// violations in time order (at least the first of each counted one), as
/// [`crate::invariants::check_kept`] returns them. Gives what [`judge`] gives
/// on the whole list.
pub fn judge_counted(
    expect: &Expectation,
    counts: &BTreeMap<String, u64>,
    kept: &[Violation],
) -> Judgement {
    let violated: BTreeSet<&str> = counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(id, _)| id.as_str())
        .collect();
    let must_violate: Vec<String> = expect.violates.clone();
    let must_hold: Vec<String> = if expect.holds.iter().any(|h| h == "all") {
        INVARIANT_IDS
            .iter()
            .filter(|id| !must_violate.iter().any(|v| v == *id))
            .map(|id| id.to_string())
            .collect()
    } else {
        expect.holds.clone()
    };
    let mut unmet = Vec::new();
    for id in &must_hold {
        let hits = counts.get(id).copied().unwrap_or(0);
        if hits == 0 {
            continue;
        }
        // A violation counted but not kept still fails the run.
        let first = kept
            .iter()
            .find(|v| &v.invariant == id)
            .map(|v| format!("; first at {:.1} s: {}", v.at.as_secs_f64(), v.message))
            .unwrap_or_default();
        unmet.push(format!(
            "`{id}` must hold but was violated {hits} time(s){first}"
        ));
    }
    for id in &must_violate {
        if !violated.contains(id.as_str()) {
            unmet.push(format!(
                "`{id}` must be violated (the bug caught) but it held"
            ));
        }
    }
    Judgement {
        verdict: if unmet.is_empty() {
            Verdict::Pass
        } else {
            Verdict::Fail
        },
        expected_holds: must_hold,
        expected_violations: must_violate,
        held: INVARIANT_IDS
            .iter()
            .filter(|id| !violated.contains(*id))
            .map(|id| id.to_string())
            .collect(),
        violated: INVARIANT_IDS
            .iter()
            .filter(|id| violated.contains(*id))
            .map(|id| id.to_string())
            .collect(),
        unmet,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn violation(id: &str) -> Violation {
        Violation {
            invariant: id.into(),
            at: Duration::from_secs(3),
            user: Some("alice".into()),
            message: "m".into(),
            evidence: vec![],
        }
    }

    #[test]
    fn a_run_passes_when_every_must_hold_held_and_every_bug_was_caught() {
        let expect = Expectation {
            holds: vec!["all".into()],
            violates: vec!["single_socket".into()],
        };
        let j = judge(&expect, &[violation("single_socket")]);
        assert_eq!(j.verdict, Verdict::Pass);
        assert!(!j.expected_holds.contains(&"single_socket".to_string()));
    }

    #[test]
    fn a_bug_that_was_not_caught_fails_the_run() {
        let expect = Expectation {
            holds: vec![],
            violates: vec!["single_socket".into()],
        };
        let j = judge(&expect, &[]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(j.unmet.len(), 1);
    }

    #[test]
    fn a_must_hold_counted_as_violated_fails_the_run_even_with_none_kept() {
        let counts = BTreeMap::from([("max_attempts".to_string(), 3)]);
        let j = judge_counted(&default_expectation(), &counts, &[]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(
            j.unmet,
            ["`max_attempts` must hold but was violated 3 time(s)"]
        );
    }

    #[test]
    fn a_violated_must_hold_fails_the_run() {
        let j = judge(&default_expectation(), &[violation("max_attempts")]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(j.violated, vec!["max_attempts".to_string()]);
    }

    #[test]
    fn violations_outside_the_expectation_do_not_decide_the_verdict() {
        let expect = Expectation {
            holds: vec!["single_socket".into()],
            violates: vec![],
        };
        assert_eq!(
            judge(&expect, &[violation("max_attempts")]).verdict,
            Verdict::Pass
        );
    }
}
