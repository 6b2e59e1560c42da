//! The stability report: escaped, self-contained, explained; and rebuilt
//! from run folders by `loopguard report DIR`.

mod report_fixtures;

use std::time::Duration;

use loopguard::report::{
    load_runs, metrics, rebuild, render_html, render_markdown, write_stability_report, ReportError,
    RunMetrics, RunSummary, Verdict,
};
use loopguard::trace::write_trace;

fn one_minute_run() -> (RunSummary, RunMetrics) {
    let (s, t) = report_fixtures::one_minute();
    let m = metrics(&t, Duration::from_millis(s.run_length_ms));
    (s, m)
}

fn hostile_run() -> (RunSummary, RunMetrics) {
    let (mut s, t) = report_fixtures::one_minute();
    s.scenario = "<script>alert(1)</script>".into();
    s.run = "<script>alert(1)</script>.legacy".into();
    s.description = "<img src=x onerror=alert(2)> | *bold* [link](http://evil)".into();
    s.unmet = vec!["<b>unmet</b>".into()];
    s.violations[0].message = "<script>alert(3)</script>".into();
    let m = metrics(&t, Duration::from_millis(s.run_length_ms));
    (s, m)
}

#[test]
fn a_scenario_named_script_is_shown_as_text_in_the_html_report() {
    let html = render_html(&[hostile_run()]);
    // The one script is the timeline viewer's, after everything else.
    assert_eq!(
        html.matches("<script").count(),
        1,
        "markup leaked into the page"
    );
    assert!(html.rfind("<script>").unwrap() > html.find("</main>").unwrap());
    assert!(!html.contains("<img src=x"));
    assert!(!html.contains("<b>unmet"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"));
    assert!(html.contains("&lt;script&gt;alert(3)&lt;/script&gt;"));
    // The run folder in links is percent-encoded.
    assert!(html.contains("href=\"%3Cscript%3Ealert%281%29%3C%2Fscript%3E.legacy/trace.csv\""));
}

#[test]
fn a_scenario_named_script_is_shown_as_text_in_the_markdown_report() {
    let md = render_markdown(&[hostile_run()]);
    assert!(!md.contains("<script"));
    assert!(!md.contains("<img"));
    assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(md.contains("\\*bold\\* \\[link\\](http://evil)"));
    assert!(md.contains("&lt;img src=x onerror=alert(2)&gt; \\| "));
}

#[test]
fn the_html_report_is_self_contained() {
    let html = render_html(&[one_minute_run()]);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<style>"));
    // The SVG namespace's name (in the viewer's script) is no address fetched.
    let html = html.replace("\"http://www.w3.org/2000/svg\"", "");
    for external in ["http://", "https://", "<link", "<script src", "@import"] {
        assert!(!html.contains(external), "found {external}");
    }
    // The only url(…) is the viewer's reference to its own clip path.
    assert_eq!(html.matches("url(").count(), html.matches("url(#").count());
}

#[test]
fn the_summary_line_comes_first_and_counts_every_run() {
    let (mut pass, pm) = one_minute_run();
    pass.preset = "stable".into();
    pass.run = "one-minute.stable".into();
    pass.verdict = Verdict::Pass;
    pass.violations.clear();
    pass.violated.clear();
    pass.unmet.clear();
    let runs = vec![one_minute_run(), (pass, pm)];
    let md = render_markdown(&runs);
    let first_lines: Vec<&str> = md.lines().take(3).collect();
    assert_eq!(
        first_lines,
        vec![
            "# loopguard stability report",
            "",
            "**FAIL** — 2 runs: 1 pass, 1 fail · 3 violations (max\\_attempts ×1, reconnect\\_cooldown ×1, single\\_socket ×1), 0 of them expected · mean uptime 62.5% · 12 attempts, 8 closes (2 × 440)",
        ]
    );
    let html = render_html(&runs);
    let banner = html.find("class=\"summary\"").unwrap();
    assert!(banner < html.find("Scenarios × presets").unwrap());
    assert!(html[banner..].starts_with(
        "class=\"summary\"><span class=\"verdict fail\">FAIL</span> 2 runs: 1 pass, 1 fail"
    ));
}

#[test]
fn the_runs_table_shows_every_metric_and_links_to_the_run_folder() {
    let md = render_markdown(&[one_minute_run()]);
    let row = md
        .lines()
        .find(|l| l.starts_with("| one\\-minute") || l.starts_with("| one-minute · legacy"))
        .unwrap();
    assert_eq!(
        row,
        "| one-minute · legacy | ❌ FAIL | 10/13 | single\\_socket ×1, reconnect\\_cooldown ×1, max\\_attempts ×1 | 62.5% | 6 | 401 ×1, 408 ×1, 440 ×1, no code ×1 | 30 s | 7.5 s / 10 s (1 not recovered) | [timeline](one-minute.legacy/timeline.svg) · [trace](one-minute.legacy/trace.csv) |"
    );
    let html = render_html(&[one_minute_run()]);
    for link in [
        "one-minute.legacy/timeline.png",
        "one-minute.legacy/timeline.svg",
        "one-minute.legacy/trace.csv",
    ] {
        assert!(html.contains(&format!("href=\"{link}\"")), "{link}");
    }
}

#[test]
fn each_violation_is_explained_in_a_sentence_with_its_evidence_rows() {
    let html = render_html(&[one_minute_run()]);
    assert!(html.contains(
        "At 0:00:40.000, for alice, single_socket broke: a 440 landed on a socket its client still held."
    ));
    // Evidence collapsed, one row per trace event: time, host, user, kind, details.
    let details = &html[html
        .find("<details><summary>evidence: 2 trace rows</summary>")
        .unwrap()..];
    assert!(details.contains(
        "<tr><td>0:00:40.000</td><td>wa</td><td>alice</td><td>endpoint_closed</td><td>{&quot;code&quot;:440,&quot;reason&quot;:&quot;&quot;,&quot;sock&quot;:3}</td></tr>"
    ));
    let md = render_markdown(&[one_minute_run()]);
    assert!(md.contains(
        "1. At 0:00:40.000, for alice, single\\_socket broke: a 440 landed on a socket its client still held."
    ));
    // report.md stays short: the evidence rows are in index.html and the run folder.
    assert!(!md.contains("| 0:00:40.000 | wa | alice | endpoint\\_closed |"));
}

fn write_run_folder(
    out: &std::path::Path,
    folder: &str,
    s: &RunSummary,
    t: &[loopguard::trace::TraceEvent],
) {
    let dir = out.join(folder);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("summary.json"),
        serde_json::to_string_pretty(s).unwrap(),
    )
    .unwrap();
    write_trace(std::fs::File::create(dir.join("trace.csv")).unwrap(), t).unwrap();
}

#[test]
fn rebuild_redraws_every_run_folder_and_writes_the_report() {
    let out = tempfile::tempdir().unwrap();
    let (s1, t1) = report_fixtures::one_minute();
    let (mut s2, t2) = report_fixtures::busy(3_600_000, &["alice"], 9);
    s2.run = "a-busy.legacy".into();
    write_run_folder(out.path(), "one-minute.legacy", &s1, &t1);
    write_run_folder(out.path(), "a-busy.legacy", &s2, &t2);
    std::fs::create_dir_all(out.path().join("not-a-run")).unwrap();

    let runs = load_runs(out.path()).unwrap();
    let names: Vec<&str> = runs.iter().map(|(s, _)| s.run.as_str()).collect();
    assert_eq!(names, vec!["a-busy.legacy", "one-minute.legacy"]);
    assert_eq!(runs[1].1, t1);

    assert_eq!(rebuild(out.path()).unwrap(), 2);
    for f in [
        "index.html",
        "report.md",
        "a-busy.legacy/timeline.svg",
        "a-busy.legacy/timeline.png",
        "one-minute.legacy/timeline.png",
    ] {
        assert!(out.path().join(f).is_file(), "{f}");
    }
    let html = std::fs::read_to_string(out.path().join("index.html")).unwrap();
    assert!(
        html.find("a-busy.legacy/trace.csv").unwrap()
            < html.find("one-minute.legacy/trace.csv").unwrap()
    );

    // Same folders, same report, byte for byte.
    let md = std::fs::read(out.path().join("report.md")).unwrap();
    rebuild(out.path()).unwrap();
    assert_eq!(std::fs::read(out.path().join("report.md")).unwrap(), md);
    assert_eq!(
        std::fs::read_to_string(out.path().join("index.html")).unwrap(),
        html
    );
}

#[test]
fn a_broken_run_folder_is_named_in_the_error() {
    let out = tempfile::tempdir().unwrap();
    let (s, t) = report_fixtures::one_minute();
    write_run_folder(out.path(), "x.legacy", &s, &t);
    std::fs::write(out.path().join("x.legacy/summary.json"), "{ not json").unwrap();
    let err = rebuild(out.path()).unwrap_err();
    assert!(matches!(err, ReportError::Summary { .. }));
    assert!(err.path().ends_with("x.legacy/summary.json"));
    assert!(err.to_string().contains("x.legacy/summary.json"), "{err}");
}

#[test]
fn the_report_keeps_runs_in_the_order_given() {
    let out = tempfile::tempdir().unwrap();
    let (mut a, am) = one_minute_run();
    a.scenario = "zeta".into();
    a.run = "zeta.legacy".into();
    let (mut b, bm) = one_minute_run();
    b.scenario = "alpha".into();
    b.run = "alpha.legacy".into();
    write_stability_report(out.path(), &[(a, am), (b, bm)]).unwrap();
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(md.find("## zeta · legacy").unwrap() < md.find("## alpha · legacy").unwrap());
}

#[test]
fn beyond_ten_violations_of_one_invariant_the_rest_are_counted_and_pointed_to_the_trace() {
    let (mut s, m) = one_minute_run();
    let v = s.violations[0].clone();
    s.violations = (0..25)
        .map(|i| {
            let mut v = v.clone();
            v.at = Duration::from_millis(1_000 * i);
            v
        })
        .collect();
    s.violation_counts = [("single_socket".to_string(), 40)].into_iter().collect();
    let html = render_html(&[(s.clone(), m.clone())]);
    assert!(html.contains("<h3>Violations (40)</h3>"));
    assert_eq!(html.matches("<tr class=\"violation\">").count(), 10);
    assert!(html.contains("30 more violations of the same invariants (single_socket ×30)"));
    assert!(html.contains("/trace.csv\">trace.csv</a>"));
    let md = render_markdown(&[(s, m)]);
    // report.md spells out the first three and counts the rest.
    assert!(md.contains("\n- 3. At 0:00:02.000"));
    assert!(!md.contains("\n- 4. At"));
    assert!(md.contains("- 37 more violations in all (single\\_socket ×37)"));
}
