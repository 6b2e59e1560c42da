//! `report.md`: the stability report for a pull request or a CI summary.
//! Every text that comes from a scenario or a trace goes through
//! [`format::markdown`], so it shows as written and never as markup.

use std::fmt::Write;

use crate::trace::TraceEvent;

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

    for (s, r) in runs {
        run_section(&mut m, s, r);
    }
    m
}

fn verdict_word(v: Verdict) -> String {
    let mark = if v.is_pass() { "✅" } else { "❌" };
    format!("{mark} {}", v.label())
}

fn links(run: &str) -> String {
    let dir = format::url_segment(run);
    format!("[timeline]({dir}/timeline.png) · [svg]({dir}/timeline.svg) · [trace]({dir}/trace.csv)")
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

fn run_section(m: &mut String, s: &RunSummary, r: &RunMetrics) {
    let _ = write!(
        m,
        "\n## {} · {} — {}\n\n",
        esc(&s.scenario),
        esc(&s.preset),
        verdict_word(s.verdict)
    );
    if !s.description.trim().is_empty() {
        let _ = write!(m, "Description: {}\n\n", esc(s.description.trim()));
    }
    let _ = writeln!(
        m,
        "- {} · seed {} · {} virtual · users {} · {} · {} trace rows",
        esc(&s.source),
        s.seed,
        esc(&format::duration(r.run_length)),
        esc(&s.users.join(", ")),
        esc(&s.instances.join(", ")),
        s.trace_events
    );
    if !s.replay.is_empty() {
        let _ = writeln!(m, "- replay: {}", code(&s.replay));
    }
    let _ = writeln!(m, "- {}", links(&s.run));
    for u in &s.unmet {
        let _ = writeln!(m, "- **unmet:** {}", esc(u));
    }

    m.push_str("\n| user | uptime | attempts | closes by code | longest disconnected | recover median / max |\n|---|---:|---|---|---:|---:|\n");
    for (user, u) in &r.users {
        let by = explain::attempts_by_cause(&u.attempts);
        let _ = writeln!(
            m,
            "| {} | {} | {}{} | {} | {} | {} |",
            esc(user),
            esc(&format::percent(u.uptime_pct)),
            u.attempts_total,
            if by.is_empty() {
                String::new()
            } else {
                format!(" ({})", esc(&by))
            },
            esc(&explain::closes_by_code(&u.closes, u.closes_without_code)),
            esc(&format::duration(u.longest_disconnected)),
            esc(&explain::recovery(
                u.recover_median,
                u.recover_max,
                u.unrecovered
            )),
        );
    }

    if s.violations.is_empty() {
        m.push_str("\nNo violation.\n");
        return;
    }
    let _ = write!(m, "\n### Violations ({})\n", s.violations_total());
    let (shown, _) = explain::split_violations(&s.violations);
    let (unlisted, by) = explain::unlisted_by_invariant(s, &shown);
    for (i, v) in shown.iter().enumerate() {
        violation_item(m, s, i + 1, v);
    }
    if unlisted > 0 {
        let _ = writeln!(
            m,
            "\n{unlisted} more violation{} of the same invariants ({}): the earliest are in `summary.json`, all of them in `trace.csv`.",
            explain::plural(unlisted as usize),
            esc(&by)
        );
    }
}

fn violation_item(m: &mut String, s: &RunSummary, n: usize, v: &crate::invariants::Violation) {
    let expected = if s.expected_violations.contains(&v.invariant) {
        " (expected)"
    } else {
        ""
    };
    let _ = write!(m, "\n{n}. {}{expected}\n", esc(&explain::sentence(v)));
    if !v.evidence.is_empty() {
        evidence(m, &v.evidence);
    }
}

fn evidence(m: &mut String, rows: &[TraceEvent]) {
    let _ = write!(
        m,
        "\n   <details><summary>evidence: {} trace row{}</summary>\n\n   | time | host | user | kind | details |\n   |---|---|---|---|---|\n",
        rows.len(),
        explain::plural(rows.len())
    );
    for e in rows {
        let _ = writeln!(
            m,
            "   | {} | {} | {} | {} | {} |",
            esc(&format::instant(e.at)),
            esc(&e.host),
            esc(e.user()),
            esc(&e.kind.name()),
            esc(&e.kind.details())
        );
    }
    m.push_str("\n   </details>\n");
}
