//! Words shared by the HTML and Markdown reports: what each invariant
//! means, how each came out in a run, a sentence per violation, the summary
//! line over all runs.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::invariants::{Violation, INVARIANT_IDS};

use super::format;
use super::{RunMetrics, RunSummary, Verdict};

/// An invariant's one-line meaning, as the oracle states it, with a
/// capital and a full stop (empty for an unknown id).
pub fn meaning(id: &str) -> String {
    let Some(m) = crate::invariants::meaning(id) else {
        return String::new();
    };
    let mut chars = m.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// How one invariant came out in one run, against the scenario's expectation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Held, as it had to (or had no expectation).
    Held,
    /// Violated, and the scenario expected it to be caught.
    Caught,
    /// Violated though it had to hold.
    Broken,
    /// Held though the scenario expected a violation.
    Missed,
    /// Not judged in this run.
    NotJudged,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Held => "held",
            Outcome::Caught => "violated, as expected",
            Outcome::Broken => "violated",
            Outcome::Missed => "held, but a violation was expected",
            Outcome::NotJudged => "not judged",
        }
    }

    /// CSS class / short tag.
    pub fn tag(self) -> &'static str {
        match self {
            Outcome::Held => "held",
            Outcome::Caught => "caught",
            Outcome::Broken => "broken",
            Outcome::Missed => "missed",
            Outcome::NotJudged => "none",
        }
    }
}

/// Every invariant of the run (SPEC's eight, then any other the run names)
/// with its outcome and violation count.
pub fn outcomes(s: &RunSummary) -> Vec<(String, Outcome, usize)> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for v in &s.violations {
        counts
            .entry(v.invariant.as_str())
            .or_insert_with(|| s.violation_count(&v.invariant) as usize);
    }
    for (id, n) in &s.violation_counts {
        counts.insert(id.as_str(), *n as usize);
    }
    let violated: BTreeSet<&str> = s
        .violated
        .iter()
        .map(String::as_str)
        .chain(counts.keys().copied())
        .collect();
    let held: BTreeSet<&str> = s.held.iter().map(String::as_str).collect();
    let expected_v: BTreeSet<&str> = s.expected_violations.iter().map(String::as_str).collect();

    let mut ids: Vec<&str> = INVARIANT_IDS.to_vec();
    let named = violated
        .iter()
        .chain(&held)
        .chain(&expected_v)
        .copied()
        .chain(s.expected_holds.iter().map(String::as_str));
    for id in named {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids.into_iter()
        .map(|id| {
            let outcome = match (
                violated.contains(id),
                held.contains(id),
                expected_v.contains(id),
            ) {
                (true, _, true) => Outcome::Caught,
                (true, _, false) => Outcome::Broken,
                (false, true, true) => Outcome::Missed,
                (false, true, false) => Outcome::Held,
                (false, false, _) => Outcome::NotJudged,
            };
            (
                id.to_string(),
                outcome,
                counts.get(id).copied().unwrap_or(0),
            )
        })
        .collect()
}

/// One sentence: when, for whom, which invariant, what happened.
pub fn sentence(v: &Violation) -> String {
    let who = match &v.user {
        Some(u) => format!(", for {u}"),
        None => String::new(),
    };
    let message = v.message.trim();
    let mut out = if message.is_empty() {
        format!(
            "At {}{who}, {} did not hold",
            format::instant(v.at),
            v.invariant
        )
    } else {
        format!(
            "At {}{who}, {} broke: {message}",
            format::instant(v.at),
            v.invariant
        )
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// How many violations of one invariant a run's section spells out before
/// collapsing the rest.
pub const SHOWN_PER_INVARIANT: usize = 10;

/// The violations to spell out (the first [`SHOWN_PER_INVARIANT`] of each
/// invariant) and the rest, both in the run's order.
pub fn split_violations(all: &[Violation]) -> (Vec<&Violation>, Vec<&Violation>) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    all.iter().partition(|v| {
        let n = seen.entry(v.invariant.as_str()).or_default();
        *n += 1;
        *n <= SHOWN_PER_INVARIANT
    })
}

/// The violations a section does not spell out, per invariant:
/// `single_socket ×381, max_attempts ×2` (report order).
pub fn unlisted_by_invariant(s: &RunSummary, shown: &[&Violation]) -> (u64, String) {
    let mut total = 0;
    let mut parts = Vec::new();
    for id in crate::invariants::INVARIANT_IDS {
        let listed = shown.iter().filter(|v| v.invariant == id).count() as u64;
        let n = s.violation_count(id).saturating_sub(listed);
        if n > 0 {
            total += n;
            parts.push(format!("{id} ×{n}"));
        }
    }
    (total, parts.join(", "))
}

/// Counts over all runs, for the summary line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overview {
    pub runs: usize,
    pub passed: usize,
    pub failed: usize,
    pub violations: usize,
    /// Violations of runs that expected them (a bug preset being caught).
    pub expected_violations: usize,
    pub by_invariant: BTreeMap<String, usize>,
    pub mean_uptime: f64,
    pub attempts: u64,
    pub closes: u64,
    pub closes_440: u64,
    pub scenarios: Vec<String>,
    pub presets: Vec<String>,
}

impl Overview {
    pub fn of(runs: &[(RunSummary, RunMetrics)]) -> Overview {
        let mut o = Overview {
            runs: runs.len(),
            ..Overview::default()
        };
        for (s, m) in runs {
            match s.verdict {
                Verdict::Pass => o.passed += 1,
                Verdict::Fail
                | Verdict::Crashed
                | Verdict::Hung
                | Verdict::Runaway
                | Verdict::Interrupted => o.failed += 1,
            }
            o.violations += s.violations_total() as usize;
            for id in crate::invariants::INVARIANT_IDS {
                let n = s.violation_count(id) as usize;
                if n == 0 {
                    continue;
                }
                *o.by_invariant.entry(id.to_string()).or_default() += n;
                if s.expected_violations.iter().any(|e| e == id) {
                    o.expected_violations += n;
                }
            }
            o.mean_uptime += m.uptime_pct;
            o.attempts += u64::from(m.attempts_total);
            o.closes += u64::from(m.closes_total());
            o.closes_440 += u64::from(m.closes.get(&440).copied().unwrap_or(0));
            if !o.scenarios.contains(&s.scenario) {
                o.scenarios.push(s.scenario.clone());
            }
            if !o.presets.contains(&s.preset) {
                o.presets.push(s.preset.clone());
            }
        }
        if !runs.is_empty() {
            o.mean_uptime /= runs.len() as f64;
        }
        o
    }

    pub fn all_passed(&self) -> bool {
        self.failed == 0
    }

    /// The summary line, as plain text.
    pub fn line(&self) -> String {
        let verdict = if self.all_passed() { "PASS" } else { "FAIL" };
        let mut parts = vec![format!(
            "{} run{}: {} pass, {} fail",
            self.runs,
            plural(self.runs),
            self.passed,
            self.failed
        )];
        if self.violations == 0 {
            parts.push("no violations".to_string());
        } else {
            let by: Vec<String> = self
                .by_invariant
                .iter()
                .map(|(id, n)| format!("{id} ×{n}"))
                .collect();
            parts.push(format!(
                "{} violation{} ({}), {} of them expected",
                self.violations,
                plural(self.violations),
                by.join(", "),
                self.expected_violations
            ));
        }
        parts.push(format!("mean uptime {}", format::percent(self.mean_uptime)));
        parts.push(format!(
            "{} attempts, {} closes ({} × 440)",
            self.attempts, self.closes, self.closes_440
        ));
        format!("{verdict} — {}", parts.join(" · "))
    }
}

pub fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `startup 2 · backoff 1`, causes in their fixed order.
pub fn attempts_by_cause(m: &BTreeMap<crate::trace::AttemptCause, u32>) -> String {
    m.iter()
        .map(|(c, n)| format!("{} {n}", c.as_str()))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// `408 ×3, 440 ×1, no code ×2`.
pub fn closes_by_code(closes: &BTreeMap<u16, u32>, without_code: u32) -> String {
    let mut parts: Vec<String> = closes.iter().map(|(c, n)| format!("{c} ×{n}")).collect();
    if without_code > 0 {
        parts.push(format!("no code ×{without_code}"));
    }
    if parts.is_empty() {
        "none".to_string()
    } else {
        parts.join(", ")
    }
}

/// `7.5 s / 10 s`, or `—` with no recovery; notes unrecovered losses.
pub fn recovery(median: Option<Duration>, max: Option<Duration>, unrecovered: u32) -> String {
    let mut out = match (median, max) {
        (Some(med), Some(max)) => format!("{} / {}", format::duration(med), format::duration(max)),
        _ => "—".to_string(),
    };
    if unrecovered > 0 {
        out.push_str(&format!(" ({unrecovered} not recovered)"));
    }
    out
}

/// The chip label of a violation the run's expectation neither required
/// nor forbade (a bug preset breaking more than the scenario asks about).
pub const ALLOWED_LABEL: &str = "violated, allowed on this preset";

/// Whether a violated invariant is one this run's expectation did not
/// require to hold: shown grey, never as a failure.
pub fn is_allowed(s: &RunSummary, id: &str, o: Outcome) -> bool {
    o == Outcome::Broken && !s.expected_holds.iter().any(|h| h == id)
}

/// What a run's uptime figure means, which is what its colour says: a
/// large number on a looping bug preset is no success, and a correct run
/// that rode out the scenario's outages is no failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UptimeTone {
    /// A clean pass: every invariant held; the figure is what a correct
    /// supervisor got under this scenario's faults.
    Trusted,
    /// A pass by catching the bug the preset carries: the figure is a
    /// buggy supervisor's, whatever its size.
    Caught,
    /// The run failed: the figure is no credit.
    Failed,
}

impl UptimeTone {
    /// CSS class.
    pub fn class(self) -> &'static str {
        match self {
            UptimeTone::Trusted => "trusted",
            UptimeTone::Caught => "caught",
            UptimeTone::Failed => "bad",
        }
    }
}

/// The tone of a run's uptime and the sentence saying why.
pub fn uptime_tone(s: &RunSummary) -> (UptimeTone, String) {
    const DEF: &str = "uptime counts only time with exactly one authenticated socket";
    if s.verdict != Verdict::Pass {
        (
            UptimeTone::Failed,
            format!("{DEF}; this run failed, so its uptime is no credit"),
        )
    } else if !s.violated.is_empty() {
        (
            UptimeTone::Caught,
            format!(
                "{DEF}; this preset broke {} as expected, so the figure is a buggy supervisor's",
                s.violated.join(", ")
            ),
        )
    } else {
        (
            UptimeTone::Trusted,
            format!("{DEF}; every invariant held, so any time down is the scenario's faults"),
        )
    }
}
