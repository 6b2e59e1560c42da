//! `report.md`: the stability report for a pull request or a CI summary,
//! short (under 20 KB for the shipped check): the verdict line, the
//! failures and why, the scenarios × presets table and one row per run.
//! Evidence rows stay in `index.html` and the run folders.
//! Every text that comes from a scenario or a trace goes through
//! [`format::markdown`], so it shows as written and never as markup.

use std::fmt::Write;

use super::explain::{self, Outcome, Overview};
use super::format::{self, markdown as esc};
use super::{RunMetrics, RunSummary, Verdict};

pub fn render(runs: &[(RunSummary, RunMetrics)]) -> String {
    let o = Overview::of(runs);
    let mut m = String::with_capacity(8_192);
    let line = o.line();
    let (verdict, rest) = line.split_once(" — ").unwrap_or((&line, ""));
    let _ = write!(
        m,
        "# loopguard stability report\n\n**{verdict}** — {}\n\n",
        esc(rest)
    );

    failures(&mut m, runs);

    // Scenarios × presets.
    m.push_str("## Scenarios × presets\n\n| scenario |");
    for p in &o.presets {
        let _ = write!(m, " {} |", esc(p));
    }
    m.push_str("\n|---|");
    for _ in &o.presets {
        m.push_str("---|");
    }
    m.push('\n');
    for sc in &o.scenarios {
        let _ = write!(m, "| {} |", esc(sc));
        for p in &o.presets {
            let cell: Vec<String> = runs
                .iter()
                .filter(|(s, _)| &s.scenario == sc && &s.preset == p)
                .map(|(s, r)| {
                    format!(
                        "{} {}",
                        verdict_word(s.verdict),
                        esc(&format::percent(r.uptime_pct))
                    )
                })
                .collect();
            let cell = if cell.is_empty() {
                "—".to_string()
            } else {
                cell.join(" ")
            };
            let _ = write!(m, " {cell} |");
        }
        m.push('\n');
    }

    // Runs.
    m.push_str(
        "\n## Runs\n\n| run | verdict | held | violated | uptime | attempts | closes by code | \
         longest disconnected | recover median / max | files |\n\
         |---|---|---|---|---:|---:|---|---:|---:|---|\n",
    );
    for (s, r) in runs {
        let outcomes = explain::outcomes(s);
        let held = outcomes
            .iter()
            .filter(|(_, o, _)| matches!(o, Outcome::Held | Outcome::Missed))
            .count();
        let violated: Vec<String> = outcomes
            .iter()
            .filter(|(_, o, _)| matches!(o, Outcome::Caught | Outcome::Broken | Outcome::Missed))
            .map(|(id, o, n)| {
                let note = match o {
                    Outcome::Caught => " (expected)",
                    Outcome::Missed => " (expected, not caught)",
                    _ => "",
                };
                if *n > 0 {
                    format!("{} ×{n}{note}", esc(id))
                } else {
                    format!("{}{note}", esc(id))
                }
            })
            .collect();
        let _ = writeln!(
            m,
            "| {sc} · {p} | {v} | {held}/{n} | {vi} | {up} | {at} | {cl} | {ld} | {rec} | {files} |",
            sc = esc(&s.scenario),
            p = esc(&s.preset),
            v = verdict_word(s.verdict),
            n = outcomes.len(),
            vi = if violated.is_empty() { "—".to_string() } else { violated.join(", ") },
            up = esc(&format::percent(r.uptime_pct)),
            at = r.attempts_total,
            cl = esc(&explain::closes_by_code(&r.closes, r.closes_without_code)),
            ld = esc(&format::duration(r.longest_disconnected)),
            rec = esc(&explain::recovery(r.recover_median, r.recover_max, r.unrecovered)),
            files = links(&s.run),
        );
    }

    m
}

fn verdict_word(v: Verdict) -> String {
    let mark = if v.is_pass() { "✅" } else { "❌" };
    format!("{mark} {}", v.label())
}

fn links(run: &str) -> String {
    let dir = format::url_segment(run);
    format!("[timeline]({dir}/timeline.svg) · [trace]({dir}/trace.csv)")
}

/// Inline code that shows `s` verbatim: fenced with more backticks than
/// any run inside it.
fn code(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    format!("{fence} {s} {fence}")
}

/// Failing runs spelled out in `report.md`; the rest are named in a line.
pub const DETAILED_FAILURES: usize = 3;
/// Violation sentences per failing run in `report.md`.
pub const SENTENCES_PER_FAILURE: usize = 3;

/// The failing runs, each with why, its first violations and its replay
/// command; at most [`DETAILED_FAILURES`] of them, without evidence rows
/// (the run folders and `index.html` hold those).
fn failures(m: &mut String, runs: &[(RunSummary, RunMetrics)]) {
    let failed: Vec<&RunSummary> = runs
        .iter()
        .map(|(s, _)| s)
        .filter(|s| s.verdict != Verdict::Pass)
        .collect();
    if failed.is_empty() {
        return;
    }
    let _ = writeln!(m, "## Failures ({})", failed.len());
    for s in failed.iter().take(DETAILED_FAILURES) {
        failure(m, s);
    }
    if failed.len() > DETAILED_FAILURES {
        let rest = failed.len() - DETAILED_FAILURES;
        let _ = write!(
            m,
            "\n{rest} more failing run{}: marked in the runs table below, detailed in `index.html` and each run folder.\n",
            explain::plural(rest),
        );
    }
    m.push('\n');
}

fn failure(m: &mut String, s: &RunSummary) {
    let _ = write!(
        m,
        "\n### {} · {} — {}\n\n",
        esc(&s.scenario),
        esc(&s.preset),
        verdict_word(s.verdict)
    );
    if !s.description.trim().is_empty() {
        let _ = writeln!(m, "{}\n", esc(s.description.trim()));
    }
    for u in &s.unmet {
        let _ = writeln!(m, "- **unmet:** {}", esc(u));
    }
    let (shown, _) = explain::split_violations(&s.violations);
    for (i, v) in shown.iter().take(SENTENCES_PER_FAILURE).enumerate() {
        violation_item(m, s, i + 1, v);
    }
    let total = s.violations_total();
    let listed = shown.len().min(SENTENCES_PER_FAILURE) as u64;
    if total > listed {
        let _ = writeln!(
            m,
            "- {} more violation{} in all ({}): the earliest are in `summary.json`, all of them in `trace.csv`.",
            total - listed,
            explain::plural((total - listed) as usize),
            esc(&explain::unlisted_by_invariant(s, &shown[..listed as usize]).1)
        );
    }
    if !s.replay.is_empty() {
        let _ = writeln!(m, "- replay: {}", code(&s.replay));
    }
    let _ = writeln!(m, "- {}", links(&s.run));
}

fn violation_item(m: &mut String, s: &RunSummary, n: usize, v: &crate::invariants::Violation) {
    let expected = if s.expected_violations.contains(&v.invariant) {
        " (expected)"
    } else {
        ""
    };
    let _ = writeln!(m, "- {n}. {}{expected}", esc(&explain::sentence(v)));
}
