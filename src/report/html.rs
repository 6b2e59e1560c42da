//! `index.html`: the stability report as one self-contained page (inline
//! CSS, no script, nothing fetched). Every text that comes from a scenario
//! or a trace goes through [`format::html`].

use std::fmt::Write;

use crate::trace::TraceEvent;

use super::explain::{self, Outcome, Overview};
use super::format::{self, html as esc};
use super::timeline::interactive;
use super::{RunMetrics, RunSummary, Verdict};

const CSS: &str = r#"
:root{--ink:#1f2328;--muted:#5f6773;--line:#e3e6ea;--zebra:#f6f7f9;--pass:#2e7d32;--pass-bg:#e8f5e9;--fail:#c62828;--fail-bg:#fdecea;--warn:#8a5a00;--warn-bg:#fff4d6;--chip440:#ffd23f}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--ink);background:#fff}
main{max-width:1280px;margin:0 auto;padding:24px 16px}
h1{font-size:22px;margin:0 0 6px}
h2{font-size:18px;margin:32px 0 10px}
h3{font-size:15px;margin:20px 0 8px}
a{color:#2f6db5}
code{font:12px/1.4 ui-monospace,"DejaVu Sans Mono",monospace;background:var(--zebra);padding:1px 4px;border-radius:3px;word-break:break-all}
.banner{border-radius:8px;padding:16px 20px;border-left:6px solid}
.banner.pass{background:var(--pass-bg);border-color:var(--pass)}
.banner.fail{background:var(--fail-bg);border-color:var(--fail)}
.summary{margin:0;font-size:15px}
.verdict{display:inline-block;font-weight:700;font-size:12px;letter-spacing:.04em;padding:2px 8px;border-radius:4px;color:#fff}
.verdict.pass{background:var(--pass)}
.verdict.fail{background:var(--fail)}
table{border-collapse:collapse;width:100%;margin:6px 0 12px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.03em}
tbody tr:nth-child(even){background:var(--zebra)}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.small{font-size:12px;color:var(--muted)}
.chip{display:inline-block;font-size:11px;padding:1px 6px;margin:1px 2px 1px 0;border-radius:10px;border:1px solid transparent;white-space:nowrap}
.chip.held{background:var(--pass-bg);color:var(--pass)}
.chip.caught{background:var(--warn-bg);color:var(--warn);border-color:#e0b84a}
.chip.broken{background:var(--fail);color:#fff}
.chip.missed{background:#fff;color:var(--fail);border-color:var(--fail)}
.chip.none{background:var(--zebra);color:var(--muted)}
.chip.allowed{background:#eceff3;color:#4a515c;border-color:#c9ced6}
.chip.code{background:var(--zebra);color:var(--ink)}
.chip.c440{background:var(--chip440);color:#111;border-color:#111;font-weight:700}
.meter{display:inline-block;width:64px;height:8px;background:var(--line);border-radius:4px;overflow:hidden;vertical-align:middle;margin-right:6px}
.meter>span{display:block;height:100%;background:var(--pass)}
.meter.trusted>span{background:var(--pass)}
.meter.caught>span{background:#e8a33d}
.meter.bad>span{background:var(--fail)}
.uptime.bad{color:var(--fail);font-weight:600}
.uptime.caught{color:var(--warn)}
.uptime.trusted{color:var(--pass)}
.failures{border:1px solid var(--line);border-radius:8px;padding:4px 16px 10px;margin:18px 0}
.failures.none{color:var(--pass)}
.failures li{margin:6px 0}
table.runs{table-layout:fixed}
table.runs col.c-run{width:19%}table.runs col.c-inv{width:25%}table.runs col.c-up{width:12%}
table.runs col.c-att{width:10%}table.runs col.c-cl{width:13%}table.runs col.c-dis{width:13%}table.runs col.c-files{width:8%}
table.runs td{overflow-wrap:anywhere}
table.runs td.num{white-space:normal}
table.runs .chip{white-space:normal;overflow-wrap:anywhere}
table.runs .meter{width:44px}
.matrix td,.matrix th{text-align:center}
.matrix td:first-child,.matrix th:first-child{text-align:left}
.run{border-top:1px solid var(--line);margin-top:28px;padding-top:4px}
.run h2{display:flex;gap:10px;align-items:center;flex-wrap:wrap}
.facts{color:var(--muted);margin:4px 0}
.unmet{background:var(--fail-bg);border-radius:6px;padding:8px 12px 8px 28px;margin:8px 0}
.timeline{display:block;margin:10px 0;border:1px solid var(--line);border-radius:6px;overflow:hidden}
.timeline img{display:block;width:100%;height:auto}
.violation td.sentence{width:60%}
details{margin:2px 0 4px}
summary{cursor:pointer;color:#2f6db5;font-size:12px}
details table{font-size:12px;margin:6px 0}
details td{font-family:ui-monospace,"DejaVu Sans Mono",monospace;word-break:break-all}
footer{margin:40px 0 10px;color:var(--muted);font-size:12px}
"#;

/// The whole page, with static timelines only.
pub fn render(runs: &[(RunSummary, RunMetrics)]) -> String {
    render_with(runs, &[])
}

/// The whole page; `data[i]`, when there, is run `i`'s interactive
/// timeline data ([`interactive::data_json`]).
pub fn render_with(runs: &[(RunSummary, RunMetrics)], data: &[Option<String>]) -> String {
    let o = Overview::of(runs);
    let mut h = String::with_capacity(16_384);
    let class = if o.all_passed() { "pass" } else { "fail" };
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>loopguard stability report — {verdict}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n\
         <div class=\"banner {class}\">\n<h1>loopguard stability report</h1>\n\
         <p class=\"summary\"><span class=\"verdict {class}\">{verdict}</span> {line}</p>\n</div>\n",
        verdict = if o.all_passed() { "PASS" } else { "FAIL" },
        line = esc(o.line().split_once(" — ").map_or("", |(_, rest)| rest)),
    );
    failures(&mut h, runs);
    matrix(&mut h, runs, &o);
    runs_table(&mut h, runs);
    for (i, (s, m)) in runs.iter().enumerate() {
        let d = data.get(i).and_then(Option::as_deref);
        run_section(&mut h, i, s, m, d, &run_prefix(&s.run));
    }
    h.push_str(
        "<footer>Times are virtual, from the start of each run. Uptime and recovery count \
         only true connections (exactly one authenticated socket, open on both sides), never \
         what the supervisor says of itself; uptime is green only on a clean pass, amber on a \
         bug preset caught as expected, red on a failed run. Generated by \
         <code>loopguard report</code>.</footer>\n</main>\n",
    );
    h.push_str(&interactive::page_script());
    h.push_str("</body>\n</html>\n");
    h
}

fn verdict_badge(v: Verdict) -> String {
    let class = if v.is_pass() { "pass" } else { "fail" };
    format!("<span class=\"verdict {class}\">{}</span>", v.label())
}

fn anchor(i: usize) -> String {
    format!("run-{}", i + 1)
}

/// A run's page: its section of the report, alone, inside its folder, with
/// its interactive timeline holding every trace row.
pub fn run_page(s: &RunSummary, m: &RunMetrics, data: &str) -> String {
    let mut h = String::with_capacity(16_384 + data.len());
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{sc} · {p} — loopguard run</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n\
         <p class=\"small\"><a href=\"../index.html\">← stability report</a></p>\n",
        sc = esc(&s.scenario),
        p = esc(&s.preset),
    );
    run_section(&mut h, 0, s, m, Some(data), "");
    h.push_str("</main>\n");
    h.push_str(&interactive::page_script());
    h.push_str("</body>\n</html>\n");
    h
}

/// Links from the stability report into a run's folder.
fn run_prefix(run: &str) -> String {
    format!("{}/", format::url_segment(run))
}

fn run_link(run: &str, file: &str) -> String {
    esc(&format!("{}/{file}", format::url_segment(run)))
}

/// Uptime as a bar and a number, coloured by what it means for this run
/// ([`explain::uptime_tone`]), not by how large it is.
fn meter(pct: f64, s: &RunSummary) -> String {
    let (tone, why) = explain::uptime_tone(s);
    let class = tone.class();
    format!(
        "<span class=\"uptime {class}\" title=\"{why}\"><span class=\"meter {class}\"><span style=\"width:{:.1}%\"></span></span>{}</span>",
        pct.clamp(0.0, 100.0),
        format::percent(pct),
        why = esc(&why),
    )
}

/// The page opens with what failed, how, and how to replay it.
fn failures(h: &mut String, runs: &[(RunSummary, RunMetrics)]) {
    let failed: Vec<(usize, &RunSummary)> = runs
        .iter()
        .enumerate()
        .filter(|(_, (s, _))| s.verdict != Verdict::Pass)
        .map(|(i, (s, _))| (i, s))
        .collect();
    if failed.is_empty() {
        let _ = writeln!(
            h,
            "<section class=\"failures none\" id=\"failures\">\n<h2>Failures</h2>\n\
             <p>None: all {} run{} got the verdict their scenario expects.</p>\n</section>",
            runs.len(),
            explain::plural(runs.len())
        );
        return;
    }
    let _ = writeln!(
        h,
        "<section class=\"failures\" id=\"failures\">\n<h2>Failures ({})</h2>\n<ul>",
        failed.len()
    );
    for (i, s) in failed {
        let _ = write!(
            h,
            "<li><a href=\"#{a}\">{sc} · {p}</a> {v}",
            a = anchor(i),
            sc = esc(&s.scenario),
            p = esc(&s.preset),
            v = verdict_badge(s.verdict),
        );
        for (id, o, count) in explain::outcomes(s) {
            if matches!(o, Outcome::Broken | Outcome::Missed) && !explain::is_allowed(s, &id, o) {
                let n = if count > 0 {
                    format!(" ×{count}")
                } else {
                    String::new()
                };
                let _ = write!(
                    h,
                    " <span class=\"chip {}\" title=\"{}\">{}{n}</span>",
                    o.tag(),
                    esc(o.label()),
                    esc(&id)
                );
            }
        }
        if !s.unmet.is_empty() {
            h.push_str("<ul>");
            for u in &s.unmet {
                let _ = write!(h, "<li>{}</li>", esc(u));
            }
            h.push_str("</ul>");
        }
        if !s.replay.is_empty() {
            let _ = write!(
                h,
                "<div class=\"small\">replay: <code>{}</code></div>",
                esc(&s.replay)
            );
        }
        h.push_str("</li>\n");
    }
    h.push_str("</ul>\n</section>\n");
}

fn closes_chips(m: &std::collections::BTreeMap<u16, u32>, without: u32) -> String {
    let mut out = String::new();
    for (code, n) in m {
        let class = if *code == 440 {
            "chip c440"
        } else {
            "chip code"
        };
        let _ = write!(out, "<span class=\"{class}\">{code} ×{n}</span>");
    }
    if without > 0 {
        let _ = write!(out, "<span class=\"chip none\">no code ×{without}</span>");
    }
    if out.is_empty() {
        out.push_str("<span class=\"small\">none</span>");
    }
    out
}

fn matrix(h: &mut String, runs: &[(RunSummary, RunMetrics)], o: &Overview) {
    let _ = write!(
        h,
        "<h2>Scenarios × presets</h2>\n<table class=\"matrix\">\n<thead><tr><th>scenario</th>"
    );
    for p in &o.presets {
        let _ = write!(h, "<th>{}</th>", esc(p));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for sc in &o.scenarios {
        let _ = write!(h, "<tr><td>{}</td>", esc(sc));
        for p in &o.presets {
            h.push_str("<td>");
            for (i, (s, m)) in runs.iter().enumerate() {
                if &s.scenario == sc && &s.preset == p {
                    let _ = write!(
                        h,
                        "<a href=\"#{}\">{}</a> <span class=\"small uptime {}\">{}</span> ",
                        anchor(i),
                        verdict_badge(s.verdict),
                        explain::uptime_tone(s).0.class(),
                        format::percent(m.uptime_pct)
                    );
                }
            }
            h.push_str("</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n");
}

/// The class and label of an invariant's chip: an allowed violation (one
/// the preset need not hold) is grey, never red.
fn chip_of(s: &RunSummary, id: &str, o: Outcome) -> (&'static str, &'static str) {
    if explain::is_allowed(s, id, o) {
        ("allowed", explain::ALLOWED_LABEL)
    } else {
        (o.tag(), o.label())
    }
}

fn runs_table(h: &mut String, runs: &[(RunSummary, RunMetrics)]) {
    h.push_str("<h2>Runs</h2>\n<p class=\"small\">Invariants: ");
    for o in [
        Outcome::Held,
        Outcome::Caught,
        Outcome::Broken,
        Outcome::Missed,
    ] {
        let _ = write!(h, "<span class=\"chip {}\">{}</span> ", o.tag(), o.label());
    }
    let _ = write!(
        h,
        "<span class=\"chip allowed\">{}</span>",
        explain::ALLOWED_LABEL
    );
    h.push_str(
        "</p>\n<table class=\"runs\">\n<colgroup><col class=\"c-run\"><col class=\"c-inv\"><col class=\"c-up\">\
         <col class=\"c-att\"><col class=\"c-cl\"><col class=\"c-dis\"><col class=\"c-files\"></colgroup>\n\
         <thead><tr><th>run</th><th>invariants</th><th>uptime</th><th>attempts</th><th>closes</th>\
         <th>longest down · recover</th><th>files</th></tr></thead>\n<tbody>\n",
    );
    for (i, (s, m)) in runs.iter().enumerate() {
        let outcomes = explain::outcomes(s);
        let held = outcomes
            .iter()
            .filter(|(_, o, _)| matches!(o, Outcome::Held | Outcome::Missed))
            .count();
        let _ = write!(
            h,
            "<tr><td><a href=\"#{a}\">{sc}</a><br><span class=\"small\">{p}</span> {v}</td>\
             <td><span class=\"small\">{held}/{n} held</span><br>",
            a = anchor(i),
            sc = esc(&s.scenario),
            p = esc(&s.preset),
            v = verdict_badge(s.verdict),
            n = outcomes.len(),
        );
        for (id, o, count) in &outcomes {
            if matches!(o, Outcome::Caught | Outcome::Broken | Outcome::Missed) {
                let n = if *count > 0 {
                    format!(" ×{count}")
                } else {
                    String::new()
                };
                let (class, label) = chip_of(s, id, *o);
                let _ = write!(
                    h,
                    "<span class=\"chip {class}\" title=\"{}\">{}{n}</span>",
                    esc(label),
                    esc(id)
                );
            }
        }
        let _ = writeln!(
            h,
            "</td><td class=\"num\">{up}</td><td class=\"num\">{at}<br><span class=\"small\">{by}</span></td>\
             <td>{cl}</td><td class=\"num\">{ld}<br><span class=\"small\">{rec}</span></td>\
             <td><a href=\"{page}\">run page</a><br><a href=\"{svg}\">svg</a> <a href=\"{png}\">png</a><br><a href=\"{csv}\">trace</a></td></tr>",
            up = meter(m.uptime_pct, s),
            at = m.attempts_total,
            by = esc(&explain::attempts_by_cause(&m.attempts)),
            cl = closes_chips(&m.closes, m.closes_without_code),
            ld = esc(&format::duration(m.longest_disconnected)),
            rec = esc(&explain::recovery(m.recover_median, m.recover_max, m.unrecovered)),
            page = run_link(&s.run, "index.html"),
            png = run_link(&s.run, "timeline.png"),
            svg = run_link(&s.run, "timeline.svg"),
            csv = run_link(&s.run, "trace.csv"),
        );
    }
    h.push_str("</tbody>\n</table>\n");
}

fn run_section(
    h: &mut String,
    i: usize,
    s: &RunSummary,
    m: &RunMetrics,
    data: Option<&str>,
    prefix: &str,
) {
    let _ = write!(
        h,
        "<section class=\"run\" id=\"{a}\">\n<h2>{sc} · {p} {v}</h2>\n",
        a = anchor(i),
        sc = esc(&s.scenario),
        p = esc(&s.preset),
        v = verdict_badge(s.verdict),
    );
    if !s.description.trim().is_empty() {
        let _ = writeln!(h, "<p>{}</p>", esc(s.description.trim()));
    }
    let _ = writeln!(
        h,
        "<p class=\"facts\">{src} · seed {seed} · {len} virtual · users {users} · {inst} · {ev} trace rows{crashes}</p>",
        src = esc(&s.source),
        seed = s.seed,
        len = esc(&format::duration(m.run_length)),
        users = esc(&s.users.join(", ")),
        inst = esc(&s.instances.join(", ")),
        ev = s.trace_events,
        crashes = if m.crashes > 0 {
            format!(" · {} instance crash{}", m.crashes, if m.crashes == 1 { "" } else { "es" })
        } else {
            String::new()
        },
    );
    if !s.replay.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"facts\">replay: <code>{}</code></p>",
            esc(&s.replay)
        );
    }
    if !s.unmet.is_empty() {
        h.push_str("<ul class=\"unmet\">\n");
        for u in &s.unmet {
            let _ = writeln!(h, "<li>{}</li>", esc(u));
        }
        h.push_str("</ul>\n");
    }

    // Invariants, all of them.
    h.push_str("<p>");
    for (id, o, count) in explain::outcomes(s) {
        let n = if count > 0 {
            format!(" ×{count}")
        } else {
            String::new()
        };
        let (class, label) = chip_of(s, &id, o);
        let _ = write!(
            h,
            "<span class=\"chip {class}\" title=\"{}: {}\">{}{n}</span>",
            esc(label),
            esc(&explain::meaning(&id)),
            esc(&id)
        );
    }
    h.push_str("</p>\n");

    h.push_str(&interactive::figure(
        prefix,
        "timeline.png",
        &format!("Timeline of {} · {}", s.scenario, s.preset),
        data,
    ));

    // Per user.
    h.push_str(
        "<h3>Users</h3>\n<table>\n<thead><tr><th>user</th><th>uptime</th><th>attempts</th>\
         <th>closes by code</th><th>longest disconnected</th><th>recover median / max</th></tr></thead>\n<tbody>\n",
    );
    for (user, u) in &m.users {
        let _ = writeln!(
            h,
            "<tr><td>{user}</td><td class=\"num\">{up}</td><td class=\"num\">{at} <span class=\"small\">{by}</span></td>\
             <td>{cl}</td><td class=\"num\">{ld}</td><td class=\"num\">{rec}</td></tr>",
            user = esc(user),
            up = meter(u.uptime_pct, s),
            at = u.attempts_total,
            by = esc(&explain::attempts_by_cause(&u.attempts)),
            cl = closes_chips(&u.closes, u.closes_without_code),
            ld = esc(&format::duration(u.longest_disconnected)),
            rec = esc(&explain::recovery(u.recover_median, u.recover_max, u.unrecovered)),
        );
    }
    h.push_str("</tbody>\n</table>\n");

    // Violations.
    if s.violations.is_empty() {
        h.push_str("<p class=\"small\">No violation.</p>\n");
    } else {
        let _ = write!(
            h,
            "<h3>Violations ({})</h3>\n<table>\n<thead><tr><th>invariant</th><th>time</th><th>user</th>\
             <th>what happened</th></tr></thead>\n<tbody>\n",
            s.violations_total()
        );
        let (shown, _) = explain::split_violations(&s.violations);
        let (unlisted, by) = explain::unlisted_by_invariant(s, &shown);
        for v in &shown {
            violation_row(h, s, v);
        }
        if unlisted > 0 {
            let _ = writeln!(
                h,
                "<tr><td colspan=\"4\" class=\"small\">{unlisted} more violation{pl} of the same invariants \
                 ({by}): the earliest are in <code>summary.json</code>, all of them in \
                 <a href=\"{prefix}trace.csv\">trace.csv</a></td></tr>",
                pl = explain::plural(unlisted as usize),
                by = esc(&by),
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("</section>\n");
}

fn violation_row(h: &mut String, s: &RunSummary, v: &crate::invariants::Violation) {
    let tag = if s.expected_violations.contains(&v.invariant) {
        "caught"
    } else if s.expected_holds.contains(&v.invariant) {
        "broken"
    } else {
        "allowed"
    };
    let _ = write!(
        h,
        "<tr class=\"violation\"><td><span class=\"chip {tag}\" title=\"{meaning}\">{id}</span></td>\
         <td class=\"num\">{at}</td><td>{user}</td><td class=\"sentence\">{sentence}",
        meaning = esc(&explain::meaning(&v.invariant)),
        id = esc(&v.invariant),
        at = esc(&format::instant(v.at)),
        user = esc(v.user.as_deref().unwrap_or("—")),
        sentence = esc(&explain::sentence(v)),
    );
    if !v.evidence.is_empty() {
        evidence(h, &v.evidence);
    }
    h.push_str("</td></tr>\n");
}

fn evidence(h: &mut String, rows: &[TraceEvent]) {
    let _ = write!(
        h,
        "<details><summary>evidence: {} trace row{}</summary>\n<table>\n\
         <thead><tr><th>time</th><th>host</th><th>user</th><th>kind</th><th>details</th></tr></thead>\n<tbody>\n",
        rows.len(),
        explain::plural(rows.len())
    );
    for e in rows {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&format::instant(e.at)),
            esc(&e.host),
            esc(e.user()),
            esc(&e.kind.name()),
            esc(&e.kind.details())
        );
    }
    h.push_str("</tbody>\n</table>\n</details>");
}
