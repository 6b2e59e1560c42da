//! What the report shows at a glance: uptime coloured by what it means,
//! failures first, allowed violations grey, the timeline's labelled lanes,
//! per-invariant colours, counted 440 buckets, its embedded font, and the
//! interactive timeline's data and pages. (Its behaviour in a browser is
//! tests/browser.rs, `make browser-test`.)

mod report_fixtures;

use std::time::Duration;

use loopguard::report::timeline::{interactive, render_svg, Timeline};
use loopguard::report::{metrics, render_html, write_timeline, RunMetrics, RunSummary, Verdict};

fn run(s: RunSummary, t: &[loopguard::trace::TraceEvent]) -> (RunSummary, RunMetrics) {
    let m = metrics(t, Duration::from_millis(s.run_length_ms));
    (s, m)
}

/// The one-minute fixture judged three ways: failed (as built), a bug
/// preset that passes by being caught, and a clean pass.
fn three_ways() -> [(RunSummary, RunMetrics); 3] {
    let (failed, t) = report_fixtures::one_minute();
    let mut caught = failed.clone();
    caught.preset = "caught".into();
    caught.verdict = Verdict::Pass;
    caught.unmet.clear();
    caught.expected_violations = caught.violated.clone();
    caught
        .expected_holds
        .retain(|h| !caught.violated.contains(h));
    let mut clean = failed.clone();
    clean.preset = "clean".into();
    clean.verdict = Verdict::Pass;
    clean.unmet.clear();
    clean.violations.clear();
    clean.violated.clear();
    clean.violation_counts.clear();
    [run(failed, &t), run(caught, &t), run(clean, &t)]
}

/// The uptime cell of the runs table row of `preset`.
fn uptime_class(html: &str, preset: &str) -> String {
    let table = &html[html.find("<table class=\"runs\">").unwrap()..];
    let row = &table[table
        .find(&format!("<span class=\"small\">{preset}</span>"))
        .unwrap()..];
    let cell = &row[row.find("<span class=\"uptime ").unwrap() + 20..];
    cell[..cell.find('"').unwrap()].to_string()
}

#[test]
fn uptime_is_red_on_a_failed_run_amber_on_a_caught_bug_and_green_on_a_clean_pass_whatever_its_size()
{
    let html = render_html(&three_ways());
    // All three show the same 62.5 %: the colour says what it means.
    assert!(html.matches("62.5%").count() >= 3);
    assert_eq!(uptime_class(&html, "legacy"), "bad");
    assert_eq!(uptime_class(&html, "caught"), "caught");
    assert_eq!(uptime_class(&html, "clean"), "trusted");
    assert!(html.contains(
        "uptime counts only time with exactly one authenticated socket; this run failed"
    ));
}

#[test]
fn the_report_opens_with_a_failures_section_naming_each_failed_run_its_unmet_promise_and_replay() {
    let mut runs = three_ways();
    runs[0].0.replay = "loopguard run one-minute.toml --preset legacy --seed 7".into();
    let html = render_html(&runs);
    let failures = html
        .find("<section class=\"failures\" id=\"failures\">")
        .unwrap();
    assert!(failures < html.find("Scenarios × presets").unwrap());
    assert!(failures < html.find("<h2>Runs</h2>").unwrap());
    let section = &html[failures..html[failures..].find("</section>").unwrap() + failures];
    assert!(section.contains("<h2>Failures (1)</h2>"));
    assert!(section.contains("one-minute · legacy"));
    assert!(section.contains("single_socket was violated but had to hold"));
    assert!(section.contains("loopguard run one-minute.toml --preset legacy --seed 7"));
    assert!(!section.contains("caught"), "a passing run is no failure");

    let html = render_html(&runs[1..]);
    assert!(html.contains("<h2>Failures</h2>\n<p>None: all 2 runs got the verdict"));
}

#[test]
fn a_violation_the_preset_need_not_hold_is_a_grey_chip_and_an_expected_one_amber_never_red() {
    let (mut s, t) = report_fixtures::one_minute();
    s.verdict = Verdict::Pass;
    s.unmet.clear();
    s.expected_violations = vec!["single_socket".into()];
    // The scenario asks nothing of max_attempts or reconnect_cooldown here.
    s.expected_holds = vec!["eventually_connected".into()];
    let html = render_html(&[run(s, &t)]);
    assert!(html.contains(
        "<span class=\"chip caught\" title=\"violated, as expected\">single_socket ×1</span>"
    ));
    assert!(html.contains(
        "<span class=\"chip allowed\" title=\"violated, allowed on this preset\">max_attempts ×1</span>"
    ));
    // Red is left for the legend's key.
    assert!(
        !html.contains("chip broken\" title"),
        "a red chip on a passing run"
    );
}

#[test]
fn the_runs_table_has_seven_columns_with_fixed_widths() {
    let html = render_html(&three_ways());
    let table = &html[html.find("<table class=\"runs\">").unwrap()..];
    let head = &table[..table.find("</thead>").unwrap()];
    assert_eq!(head.matches("<th>").count(), 7);
    assert_eq!(head.matches("<col class=").count(), 7);
}

#[test]
fn each_lane_is_labelled_as_the_supervisors_view_over_a_ground_truth_socket_strip() {
    let (s, t) = report_fixtures::one_minute();
    let model = Timeline::from_run(&s, &t);
    // alice's sockets on app-1: open at 0, replaced at 20 s, 25–40 s, from 50 s.
    let ms = |v: &[(Duration, u32)]| -> Vec<(u64, u32)> {
        v.iter().map(|(d, n)| (d.as_millis() as u64, *n)).collect()
    };
    assert_eq!(
        ms(&model.lanes[0].sockets),
        vec![(0, 1), (20_000, 0), (25_000, 1), (40_000, 0), (50_000, 1)]
    );
    let svg = render_svg(&model).unwrap();
    assert_eq!(
        svg.matches(">\nsupervisor&apos;s view\n</text>").count()
            + svg.matches(">\nsupervisor's view\n</text>").count(),
        2
    );
    assert_eq!(svg.matches(">\nsockets (truth)\n</text>").count(), 2);
    assert!(svg.contains("the strip beneath is ground truth, the sockets the harness saw"));
}

#[test]
fn each_invariant_has_its_own_colour_named_in_the_legend() {
    let (s, t) = report_fixtures::one_minute();
    let svg = render_svg(&Timeline::from_run(&s, &t)).unwrap();
    // single_socket red, reconnect_cooldown purple, max_attempts orange:
    // a marker each, and a legend swatch each.
    for colour in ["#D61F26", "#7B2FBE", "#E06C00"] {
        let dots = svg
            .lines()
            .filter(|l| l.starts_with("<circle") && l.contains(&format!("fill=\"{colour}\"")))
            .count();
        assert_eq!(dots, 2, "{colour}");
    }
    for id in ["single_socket", "reconnect_cooldown", "max_attempts"] {
        // The mark's label and the legend entry.
        assert_eq!(svg.matches(&format!(">\n{id}\n</text>")).count(), 2, "{id}");
    }
}

#[test]
fn a_bucket_of_440_closes_says_how_many_it_holds_and_a_dense_row_still_names_every_invariant() {
    let (mut s, t) = report_fixtures::busy(86_400_000, &["alice", "bob", "carol"], 3);
    let extra = s.violations[0].clone();
    for k in 0..40u64 {
        let mut v = extra.clone();
        v.invariant = "reconnect_cooldown".into();
        v.at = extra.at + Duration::from_millis(700 * k);
        s.violations.push(v);
    }
    let svg = render_svg(&Timeline::from_run(&s, &t)).unwrap();
    let counted = svg
        .split(">\n440×")
        .skip(1)
        .filter(|rest| {
            rest.split('\n')
                .next()
                .is_some_and(|n| n.parse::<u32>().is_ok_and(|n| n > 1))
        })
        .count();
    assert!(counted > 0, "no counted 440 bucket");
    for id in ["single_socket", "reconnect_cooldown"] {
        let labels = svg.matches(&format!(">\n{id}")).count();
        // At least one mark label besides the legend entry.
        assert!(labels >= 2, "{id} labelled {labels} times");
    }
}

#[test]
fn the_svg_embeds_the_subset_of_its_font_that_its_text_needs() {
    let (s, t) = report_fixtures::one_minute();
    let svg = render_svg(&Timeline::from_run(&s, &t)).unwrap();
    let face = svg
        .find("@font-face{font-family:\"DejaVu Sans\";src:url(data:font/ttf;base64,")
        .unwrap();
    assert!(face < svg.find("<text").unwrap());
    let start = face + svg[face..].find("base64,").unwrap() + 7;
    let end = start + svg[start..].find(')').unwrap();
    use base64::Engine;
    let font = base64::engine::general_purpose::STANDARD
        .decode(&svg[start..end])
        .unwrap();
    // A real font, with the glyphs of the text and far smaller than the whole.
    let face = ttf_parser::Face::parse(&font, 0).unwrap();
    let a = face.glyph_index('a').unwrap();
    assert!(face.outline_glyph(a, &mut Sink).is_some());
    assert!(font.len() < 200_000, "{} bytes", font.len());
}

struct Sink;
impl ttf_parser::OutlineBuilder for Sink {
    fn move_to(&mut self, _: f32, _: f32) {}
    fn line_to(&mut self, _: f32, _: f32) {}
    fn quad_to(&mut self, _: f32, _: f32, _: f32, _: f32) {}
    fn curve_to(&mut self, _: f32, _: f32, _: f32, _: f32, _: f32, _: f32) {}
    fn close(&mut self) {}
}

#[test]
fn the_interactive_data_holds_every_trace_row_and_no_markup() {
    let (mut s, t) = report_fixtures::one_minute();
    s.scenario = "</script><script>alert(1)</script>".into();
    let json = interactive::data_json(&Timeline::from_run(&s, &t), &t);
    assert!(!json.contains('<'));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["events"].as_array().unwrap().len(), t.len());
    assert_eq!(v["events_total"], t.len());
    assert_eq!(v["len"], 60_000);
    assert!(v["title"].as_str().unwrap().starts_with("</script>"));
    let capped: serde_json::Value = serde_json::from_str(&interactive::capped(&json, 5)).unwrap();
    assert_eq!(capped["events"].as_array().unwrap().len(), 5);
    assert_eq!(capped["events_total"], t.len());
}

#[test]
fn a_run_folder_gets_its_page_with_the_interactive_timeline_and_the_svg_beneath() {
    let (s, t) = report_fixtures::one_minute();
    let dir = tempfile::tempdir().unwrap();
    write_timeline(dir.path(), &s, &t).unwrap();
    let page = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    assert!(page.contains(
        "<figure class=\"lg-timeline\"><script type=\"application/json\" class=\"lg-data\">{"
    ));
    // Readable without script: the static timeline stays, linked to the SVG.
    assert!(page.contains(
        "<a class=\"timeline lg-static\" href=\"timeline.svg\"><img src=\"timeline.png\""
    ));
    assert!(page.contains("window.loopguardTimelines"));
    assert!(!page.contains("<script src"));
    assert!(dir.path().join("timeline.json").is_file());
}
