//! The timeline plot of a run: what it holds, that it is reproducible, and
//! that a day-long run draws fast.

mod report_fixtures;

use std::time::{Duration, Instant};

use loopguard::report::timeline::{render_svg, Timeline};
use loopguard::report::write_timeline;
use loopguard::trace::{ConnectionState, EventKind, FaultKind};

/// How many SVG elements of `tag` carry `attr` (e.g. `fill="#D61F26"`).
fn count(svg: &str, tag: &str, attr: &str) -> usize {
    svg.lines()
        .filter(|l| l.starts_with(&format!("<{tag} ")) && l.contains(attr))
        .count()
}

/// Text elements reading exactly `text`.
fn texts(svg: &str, text: &str) -> usize {
    svg.matches(&format!(">\n{text}\n</text>")).count()
}

#[test]
fn a_timeline_holds_a_lane_per_user_and_a_mark_per_close_and_per_violation() {
    let (summary, trace) = report_fixtures::one_minute();
    let t = Timeline::from_run(&summary, &trace);

    let lanes: Vec<(&str, &str)> = t
        .lanes
        .iter()
        .map(|l| (l.user.as_str(), l.instance.as_str()))
        .collect();
    assert_eq!(lanes, vec![("alice", "app-1"), ("bob", "app-1")]);
    let closes: Vec<Vec<(u64, Option<u16>)>> = t
        .lanes
        .iter()
        .map(|l| {
            l.closes
                .iter()
                .map(|c| (c.at.as_millis() as u64, c.code))
                .collect()
        })
        .collect();
    assert_eq!(
        closes,
        vec![
            vec![(20_000, Some(408)), (40_000, Some(440))],
            vec![(30_000, Some(401)), (36_000, None)]
        ]
    );
    assert_eq!(t.violations.len(), 3);
    assert_eq!(t.lanes[0].attempts.len(), 3);
    assert_eq!(t.lanes[1].attempts.len(), 3);

    let svg = render_svg(&t).unwrap();
    // One lane label and one socket-panel label per user.
    assert_eq!(texts(&svg, "alice"), 2);
    assert_eq!(texts(&svg, "bob"), 2);
    // Violation marks are dots in their invariant's colour, each labelled
    // with its invariant; the legend names each once more, with its dot.
    let dots = ["#D61F26", "#7B2FBE", "#E06C00"]
        .iter()
        .map(|c| count(&svg, "circle", &format!("fill=\"{c}\"")))
        .sum::<usize>();
    assert_eq!(dots, 3 + 3);
    for id in ["single_socket", "reconnect_cooldown", "max_attempts"] {
        assert_eq!(texts(&svg, id), 2, "{id}");
    }
    // Close marks: a tick per close in its style (coded, 440, no code),
    // plus one of each in the legend; each code labelled.
    assert_eq!(count(&svg, "polyline", "stroke=\"#2B2F36\""), 2 + 1);
    assert_eq!(count(&svg, "polyline", "stroke=\"#111111\""), 1 + 1);
    assert_eq!(count(&svg, "polyline", "stroke=\"#9AA0A6\""), 1 + 1);
    for code in ["408", "401"] {
        assert_eq!(texts(&svg, code), 1, "{code}");
    }
    // 440 on the lane and in the legend, the lane's in its yellow chip;
    // the legend's counted-bucket entry has a chip of its own.
    assert_eq!(texts(&svg, "440"), 2);
    assert_eq!(count(&svg, "rect", "fill=\"#FFD23F\""), 3);
}

#[test]
fn states_fill_each_lane_back_to_back_from_start_to_end() {
    let (summary, trace) = report_fixtures::one_minute();
    let t = Timeline::from_run(&summary, &trace);
    let bob: Vec<(u64, u64, Option<ConnectionState>)> = t.lanes[1]
        .spans
        .iter()
        .map(|s| {
            (
                s.start.as_millis() as u64,
                s.end.as_millis() as u64,
                s.state,
            )
        })
        .collect();
    use ConnectionState::*;
    assert_eq!(
        bob,
        vec![
            (0, 30_000, Some(Connected)),
            (30_000, 35_000, Some(Disconnected)),
            (35_000, 36_000, Some(Connecting)),
            (36_000, 60_000, Some(Disconnected)),
        ]
    );
}

#[test]
fn faults_pair_by_kind_and_target_and_one_never_ended_lasts_to_the_end() {
    let (summary, trace) = report_fixtures::one_minute();
    let t = Timeline::from_run(&summary, &trace);
    let faults: Vec<(FaultKind, &str, u64, u64)> = t
        .faults
        .iter()
        .map(|f| {
            (
                f.fault,
                f.target.as_str(),
                f.start.as_millis() as u64,
                f.end.as_millis() as u64,
            )
        })
        .collect();
    assert_eq!(
        faults,
        vec![
            (FaultKind::Partition, "app-1<->wa", 18_000, 24_000),
            (FaultKind::Unavailable, "wa", 33_000, 38_000),
            (FaultKind::PingSilence, "wa", 55_000, 60_000),
        ]
    );
}

#[test]
fn several_instances_give_a_lane_per_user_and_instance() {
    let (summary, trace) = report_fixtures::busy(3_600_000, &["alice", "bob"], 5);
    let t = Timeline::from_run(&summary, &trace);
    let lanes: Vec<(&str, &str)> = t
        .lanes
        .iter()
        .map(|l| (l.user.as_str(), l.instance.as_str()))
        .collect();
    assert_eq!(
        lanes,
        vec![
            ("alice", "app-1"),
            ("alice", "app-2"),
            ("bob", "app-1"),
            ("bob", "app-2")
        ]
    );
    // app-2 starts a third of the way in: not running before.
    let first = t.lanes[1].spans[0];
    assert_eq!(
        (first.start, first.end, first.state),
        (Duration::ZERO, Duration::from_secs(1_200), None)
    );
    // A crash takes every lane of its instance down until the restart.
    let mut trace = trace;
    trace.push(loopguard::trace::TraceEvent {
        at: Duration::from_secs(3_000),
        host: "sim".into(),
        user: None,
        kind: EventKind::InstanceCrashed {
            instance: "app-2".into(),
        },
    });
    trace.sort_by_key(|e| e.at);
    let t = Timeline::from_run(&summary, &trace);
    for lane in t.lanes.iter().filter(|l| l.instance == "app-2") {
        let last = lane.spans.last().unwrap();
        assert_eq!(
            (last.start, last.end, last.state),
            (Duration::from_secs(3_000), Duration::from_secs(3_600), None)
        );
    }
    assert!(t
        .faults
        .iter()
        .any(|f| f.fault == FaultKind::Crash && f.target == "app-2"));
}

#[test]
fn the_same_run_draws_the_same_bytes() {
    let (summary, trace) = report_fixtures::busy(6 * 3_600_000, &["alice", "bob"], 11);
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    write_timeline(a.path(), &summary, &trace).unwrap();
    write_timeline(b.path(), &summary, &trace).unwrap();
    for f in ["timeline.svg", "timeline.png"] {
        let x = std::fs::read(a.path().join(f)).unwrap();
        let y = std::fs::read(b.path().join(f)).unwrap();
        assert!(!x.is_empty(), "{f} is empty");
        assert!(x == y, "{f} differs between two draws");
    }
    let png = std::fs::read(a.path().join("timeline.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
}

#[test]
fn a_day_long_busy_run_plots_and_its_svg_stays_thin() {
    let (summary, mut trace) = report_fixtures::busy(86_400_000, &["alice", "bob", "carol"], 3);
    // Four more dashboard tabs polling every second: a heavy day's trace.
    for tab in 2..6u32 {
        for s in 0..86_400u64 {
            trace.push(loopguard::trace::TraceEvent {
                at: Duration::from_millis(s * 1_000 + u64::from(tab)),
                host: "browser".into(),
                user: Some("bob".into()),
                kind: EventKind::StatusPolled {
                    tab,
                    http_status: 200,
                    state: Some(ConnectionState::Connected),
                },
            });
        }
    }
    trace.sort_by_key(|e| e.at);
    assert!(trace.len() > 400_000, "a busy day: {} rows", trace.len());
    let dir = tempfile::tempdir().unwrap();
    // How fast this is drawn is measured by `make bench`, not asserted here.
    write_timeline(dir.path(), &summary, &trace).unwrap();
    // Thinned: the SVG stays small however busy the day.
    let svg = std::fs::metadata(dir.path().join("timeline.svg"))
        .unwrap()
        .len();
    assert!(svg < 2_000_000, "svg is {svg} bytes");
}

#[test]
fn an_empty_run_still_draws() {
    let summary = report_fixtures::summary("empty.stable", "empty", "stable", 0, &[], &[]);
    let t = Timeline::from_run(&summary, &[]);
    assert!(t.lanes.is_empty());
    let dir = tempfile::tempdir().unwrap();
    write_timeline(dir.path(), &summary, &[]).unwrap();
    assert!(dir.path().join("timeline.png").is_file());
}

#[test]
fn a_violation_naming_no_user_gets_a_run_wide_row() {
    let (mut summary, trace) = report_fixtures::one_minute();
    summary.violations.push(report_fixtures::violation(
        59_000,
        "store_matches_truth",
        None,
        "the store said CONNECTED for 6 s with no socket open",
        vec![],
    ));
    let svg = render_svg(&Timeline::from_run(&summary, &trace)).unwrap();
    assert!(svg.contains(">\nrun-wide\n</text>"));
    assert!(svg.contains(">\nstore_matches_truth\n</text>"));
}

#[test]
fn a_missing_folder_is_named_in_the_error() {
    let (summary, trace) = report_fixtures::one_minute();
    let dir = tempfile::tempdir().unwrap();
    let err = write_timeline(&dir.path().join("nope"), &summary, &trace).unwrap_err();
    assert!(err.to_string().contains("nope/timeline.svg"), "{err}");
}

/// Writes the fixtures as run folders and rebuilds their report, where a
/// person can look at it:
/// `LOOPGUARD_LOOK=/some/dir cargo test --release --test report_timeline -- --ignored`.
#[test]
#[ignore]
fn render_fixtures_for_a_look() {
    let dir = std::path::PathBuf::from(
        std::env::var("LOOPGUARD_LOOK").unwrap_or("/tmp/loopguard-look".into()),
    );
    for (name, (mut s, t)) in [
        ("one-minute.legacy", report_fixtures::one_minute()),
        (
            "busy-1h.legacy",
            report_fixtures::busy(3_600_000, &["alice", "bob", "carol"], 3),
        ),
        (
            "busy-24h.legacy",
            report_fixtures::busy(86_400_000, &["alice", "bob", "carol"], 3),
        ),
    ] {
        let d = dir.join(name);
        std::fs::create_dir_all(&d).unwrap();
        s.run = name.to_string();
        s.scenario = name.trim_end_matches(".legacy").to_string();
        std::fs::write(
            d.join("summary.json"),
            serde_json::to_string_pretty(&s).unwrap(),
        )
        .unwrap();
        loopguard::trace::write_trace(std::fs::File::create(d.join("trace.csv")).unwrap(), &t)
            .unwrap();
        let start = Instant::now();
        write_timeline(&d, &s, &t).unwrap();
        eprintln!("{name}: {} events, {:?}", t.len(), start.elapsed());
    }
    let start = Instant::now();
    let n = loopguard::report::rebuild(&dir).unwrap();
    eprintln!("rebuild of {n} runs: {:?}", start.elapsed());
}

#[test]
#[ignore]
fn render_edge_cases_for_a_look() {
    let dir = std::path::PathBuf::from(
        std::env::var("LOOPGUARD_LOOK").unwrap_or("/tmp/loopguard-look".into()),
    );
    let summary = report_fixtures::summary("empty.stable", "empty", "stable", 0, &[], &[]);
    let d = dir.join("edge-empty");
    std::fs::create_dir_all(&d).unwrap();
    write_timeline(&d, &summary, &[]).unwrap();
    let (mut summary, trace) = report_fixtures::one_minute();
    summary.scenario = "<script>alert(1)</script> with a very long name that goes on and on and on and on and on and on and on and on and on and on".into();
    summary.users[0] = "alice-with-a-really-long-user-identifier@example.com".into();
    summary.violations.push(report_fixtures::violation(
        59_000,
        "store_matches_truth",
        None,
        "x",
        vec![],
    ));
    let d = dir.join("edge-odd");
    std::fs::create_dir_all(&d).unwrap();
    write_timeline(&d, &summary, &trace).unwrap();
}
