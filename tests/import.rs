//! `loopguard import`: production logs become scenarios that reproduce
//! their loops. Fixtures under tests/fixtures/logs/ are written by hand,
//! modelled on public threads (see tests/fixtures/logs/README.md).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use loopguard::import::infer::WorldAction;
use loopguard::import::{self, fidelity, write::Provenance, InferOptions, Inference, LogSet};
use loopguard::run::execute;
use loopguard::scenario::{self, Scenario};
use proptest::prelude::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/logs")
        .join(name)
}

fn imported(name: &str) -> (LogSet, Inference, Scenario) {
    let logs = import::read_logs(&[fixture(name)]).expect("fixture reads");
    let inference = import::infer(&logs, &InferOptions::default()).expect("fixture infers");
    let text = import::to_scenario_text(
        &inference,
        &Provenance {
            logs: &logs,
            name: "imported",
            window: None,
        },
    );
    let scenario = scenario::parse(Path::new("imported.toml"), &text)
        .unwrap_or_else(|e| panic!("the imported scenario reads back: {e}\n{text}"));
    (logs, inference, scenario)
}

fn close_codes(rows: &[import::infer::LogMinute]) -> Vec<u16> {
    let mut codes: Vec<u16> = rows.iter().flat_map(|r| r.closes.keys().copied()).collect();
    codes.sort_unstable();
    codes.dedup();
    codes
}

/// Runs the imported scenario with `preset` and checks the loop is there:
/// the same close codes, and attempts and closes within the tolerance.
fn assert_reproduces(name: &str, preset: &str) {
    let (_, inference, scenario) = imported(name);
    let result = execute(&scenario, preset, None, &mut |_| {}).expect("runs");
    let f = fidelity::compare_imported(&inference, &result.trace);
    assert_eq!(
        close_codes(&f.sim),
        close_codes(&f.log),
        "close codes of {name} on {preset}\n{}",
        fidelity::table(&f)
    );
    assert!(
        f.reproduced(),
        "{name} on {preset}: {:?}\n{}",
        f.misses,
        fidelity::table(&f)
    );
}

fn assert_stable_holds_all(name: &str) {
    let (_, _, scenario) = imported(name);
    let result = execute(&scenario, "stable", None, &mut |_| {}).expect("runs");
    assert!(
        result.summary.violated.is_empty(),
        "stable on imported {name}: {:?}",
        result.summary.violated
    );
}

#[test]
fn the_references_console_loop_is_one_rival_device_logging_in_again_and_again() {
    let (_, inference, _) = imported("reference_console.log");
    let rivals: Vec<&WorldAction> = inference
        .events
        .iter()
        .map(|e| &e.action)
        .filter(|a| matches!(a, WorldAction::RivalDevice { .. }))
        .collect();
    assert_eq!(rivals.len(), 1, "{:?}", inference.events);
    let WorldAction::RivalDevice {
        times,
        relogin_after,
        ..
    } = rivals[0]
    else {
        unreachable!()
    };
    assert_eq!(*times, 120);
    assert_eq!(relogin_after.as_millis(), 1300);
}

#[test]
fn a_double_init_log_injects_no_rival_its_440s_are_the_supervisors_own() {
    let (_, inference, _) = imported("nudlers_105.log");
    assert!(inference.events.is_empty(), "{:?}", inference.events);
    assert!(
        inference
            .left_out
            .iter()
            .any(|n| n.contains("duplicate sockets")),
        "{:?}",
        inference.left_out
    );
    assert!(
        inference
            .left_out
            .iter()
            .any(|n| n.contains("replacing itself")),
        "{:?}",
        inference.left_out
    );
}

#[test]
fn stream_error_nodes_are_replayed_with_their_code_and_child() {
    let (_, inference, _) = imported("stream_errors.pino.log");
    let errors: Vec<(Option<u16>, Option<String>, Option<String>)> = inference
        .events
        .iter()
        .filter_map(|e| match &e.action {
            WorldAction::StreamError {
                code,
                child,
                child_type,
                ..
            } => Some((*code, child.clone(), child_type.clone())),
            _ => None,
        })
        .collect();
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(
        errors,
        vec![
            (Some(515), None, None),
            (None, s("conflict"), s("replaced")),
            (None, s("ack"), None),
            (Some(503), None, None),
            (Some(401), s("conflict"), s("device_removed")),
        ]
    );
}

#[test]
fn every_event_is_preceded_by_the_log_lines_it_came_from() {
    let logs = import::read_logs(&[fixture("reference_console.log")]).unwrap();
    let inference = import::infer(&logs, &InferOptions::default()).unwrap();
    let text = import::to_scenario_text(
        &inference,
        &Provenance {
            logs: &logs,
            name: "x",
            window: None,
        },
    );
    // What comes before each `[[events]]` since the previous one ends with
    // that event's comment: first the log's handshake time, then the rival.
    let before: Vec<&str> = text.split("[[events]]").collect();
    assert_eq!(before.len(), 3, "{text}");
    assert!(
        before[0].contains("reference_console.log:4: "),
        "the handshake quotes the first open: {}",
        before[0]
    );
    assert!(
        before[1].contains("reference_console.log:6: "),
        "the rival quotes the first 440: {}",
        before[1]
    );
    assert!(
        text.contains("# Inferred:") && text.contains("# Left out:"),
        "{text}"
    );
}

#[test]
fn a_window_keeps_only_its_range_of_the_log() {
    let logs = import::read_logs(&[fixture("reference_console.log")]).unwrap();
    let window = Some((
        std::time::Duration::from_secs(60),
        std::time::Duration::from_secs(120),
    ));
    let inference = import::infer(
        &logs,
        &InferOptions {
            window,
            ..InferOptions::default()
        },
    )
    .unwrap();
    let Some(WorldAction::RivalDevice { times, .. }) = inference.events.first().map(|e| &e.action)
    else {
        panic!("{:?}", inference.events)
    };
    assert!(
        (23..=25).contains(times),
        "a minute of 2.5 s cycles: {times}"
    );
}

#[test]
fn the_reference_loop_reproduces_on_the_reference_service() {
    let preset = fixture("reference-service.toml");
    assert_reproduces("reference_console.log", &preset.display().to_string());
}

#[test]
fn legacy_with_its_auto_reconnector_makes_the_reference_loop_worse_than_the_log() {
    let (_, inference, scenario) = imported("reference_console.log");
    let result = execute(&scenario, "legacy", None, &mut |_| {}).expect("runs");
    let f = fidelity::compare_imported(&inference, &result.trace);
    assert!(!f.reproduced(), "{}", fidelity::table(&f));
    assert!(
        f.sim.iter().any(|m| m.max_sockets >= 2),
        "{}",
        fidelity::table(&f)
    );
}

#[test]
fn the_stream_error_log_reproduces_on_legacy() {
    assert_reproduces("stream_errors.pino.log", "legacy");
}

#[test]
fn stable_holds_every_invariant_on_the_reference_loop() {
    assert_stable_holds_all("reference_console.log");
}

#[test]
fn stable_holds_every_invariant_on_the_stream_error_log() {
    assert_stable_holds_all("stream_errors.pino.log");
}

#[test]
fn the_reference_loop_is_written_as_a_rival_device_that_answers_each_login() {
    let (_, _, scenario) = imported("reference_console.log");
    let rivals: Vec<&scenario::Action> = scenario
        .events
        .iter()
        .map(|e| &e.action)
        .filter(|a| matches!(a, scenario::Action::RivalDevice { .. }))
        .collect();
    assert_eq!(rivals.len(), 1, "{:?}", scenario.events);
    let scenario::Action::RivalDevice {
        after,
        times,
        until,
        ..
    } = rivals[0]
    else {
        unreachable!()
    };
    assert_eq!((after.as_millis(), *times), (1300, 120));
    // The last 440 at 5m 1.7s, a quarter of the 5 min run and a 2.5 s period
    // later.
    assert_eq!(until.map(|u| u.as_millis()), Some(376_080));
    assert!(
        scenario
            .events
            .iter()
            .all(|e| !matches!(e.action, scenario::Action::Close { .. })),
        "no fixed-time closes: {:?}",
        scenario.events
    );
}

#[test]
fn stream_error_nodes_are_written_as_stream_errors_the_supervisor_decodes() {
    let (_, _, scenario) = imported("stream_errors.pino.log");
    let written: Vec<(Option<u16>, Option<String>, Option<String>)> = scenario
        .events
        .iter()
        .filter_map(|e| match &e.action {
            scenario::Action::StreamError {
                code,
                child,
                child_type,
                ..
            } => Some((*code, child.clone(), child_type.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(written.len(), 5, "{:?}", scenario.events);
    assert_eq!(
        written[4],
        (
            Some(401),
            Some("conflict".into()),
            Some("device_removed".into())
        )
    );
    assert!(
        scenario.events.iter().all(|e| matches!(
            e.action,
            scenario::Action::StreamError { .. } | scenario::Action::SlowHandshake { .. }
        )),
        "every event is the node itself (or the log's handshake time): {:?}",
        scenario.events
    );
}

#[test]
fn repeated_408s_of_sockets_three_minutes_old_are_one_churn_window() {
    let (_, _, scenario) = imported("churn_408.pino.log");
    let actions: Vec<&scenario::Action> = scenario
        .events
        .iter()
        .map(|e| &e.action)
        .filter(|a| !matches!(a, scenario::Action::SlowHandshake { .. }))
        .collect();
    let [scenario::Action::Churn {
        after,
        code,
        duration,
    }] = actions.as_slice()
    else {
        panic!("one churn and nothing else but the handshake: {actions:?}")
    };
    assert_eq!((after.as_secs(), *code), (180, 408));
    // From 3 min before the first close to the sixth, plus 45 s of room.
    assert_eq!(duration.as_millis(), 18 * 60_000 + 56_050);
}

#[test]
fn the_churn_log_reproduces_on_legacy() {
    assert_reproduces("churn_408.pino.log", "legacy");
}

#[test]
fn stable_holds_every_invariant_on_the_churn_log() {
    assert_stable_holds_all("churn_408.pino.log");
}

fn production_preset(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("presets/production")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn baileys_api_309_reproduces_on_its_preset_at_the_logs_rate() {
    assert_reproduces(
        "baileys_api_309.log",
        &production_preset("baileys-api-brief-open-resets-count.toml"),
    );
}

#[test]
fn baileys_api_309_loops_at_sixty_attempts_a_minute_like_the_log() {
    let (_, inference, scenario) = imported("baileys_api_309.log");
    let preset = production_preset("baileys-api-brief-open-resets-count.toml");
    let result = execute(&scenario, &preset, None, &mut |_| {}).expect("runs");
    let f = fidelity::compare_imported(&inference, &result.trace);
    // The log's service waits 500 ms and its handshake takes 150 ms: about
    // 60 cycles a minute, in each whole minute of the loop.
    for (l, s) in f.log[..3].iter().zip(&f.sim[..3]) {
        assert_eq!(l.attempts, 60, "{}", fidelity::table(&f));
        assert!((57..=63).contains(&s.attempts), "{}", fidelity::table(&f));
    }
}

#[test]
fn nudlers_105_reproduces_when_each_init_path_owns_its_socket() {
    assert_reproduces(
        "nudlers_105.log",
        &production_preset("nudlers-two-init-paths.toml"),
    );
}

#[test]
fn the_invariants_catch_nudlers_105s_two_sockets_replacing_each_other() {
    let (_, _, scenario) = imported("nudlers_105.log");
    let preset = production_preset("nudlers-two-init-paths.toml");
    let result = execute(&scenario, &preset, None, &mut |_| {}).expect("runs");
    for invariant in ["single_socket", "reconnect_cooldown"] {
        assert!(
            result.summary.violated.iter().any(|v| v == invariant),
            "{invariant}: {:?}",
            result.summary.violated
        );
    }
}

#[test]
fn stable_holds_every_invariant_on_nudlers_105() {
    assert_stable_holds_all("nudlers_105.log");
}

#[test]
fn stable_holds_every_invariant_on_baileys_api_309() {
    assert_stable_holds_all("baileys_api_309.log");
}

#[test]
fn the_logs_handshake_time_is_replayed_as_a_slow_handshake() {
    let (_, inference, scenario) = imported("baileys_api_309.log");
    let Some(WorldAction::SlowHandshake { delay, .. }) =
        inference.handshake.as_ref().map(|e| &e.action)
    else {
        panic!("{:?}", inference.handshake)
    };
    // 150 ms from "connected to WA" to "opened connection to WA", less the
    // simulated endpoint's own 40 ms.
    assert_eq!(delay.as_millis(), 110);
    assert!(
        matches!(
            scenario.events.first().map(|e| &e.action),
            Some(scenario::Action::SlowHandshake { .. })
        ),
        "{:?}",
        scenario.events
    );
}

// ---- hostile logs ----

fn temp_log(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("loopguard-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    path
}

/// A pino log of one user: after each open, a close with `code` after the
/// given delay, then a reconnect 1 s later.
fn pino_closes(name: &str, code: u16, delays_ms: &[u64]) -> PathBuf {
    let mut t = 1_717_236_000_000u64;
    let mut text = String::new();
    let mut line = |t: u64, rest: &str| {
        text.push_str(&format!(
            "{{\"level\":30,\"time\":{t},\"pid\":1,\"hostname\":\"h\",\"sessionId\":\"5511900000000\",{rest}}}\n"
        ));
    };
    for delay in delays_ms {
        line(t, "\"msg\":\"connected to WA\"");
        t += 150;
        line(t, "\"msg\":\"opened connection to WA\"");
        t += delay;
        line(
            t,
            &format!(
                "\"err\":{{\"output\":{{\"statusCode\":{code}}}}},\"msg\":\"connection closed\""
            ),
        );
        t += 1000;
    }
    temp_log(name, text.as_bytes())
}

#[test]
fn closes_with_440_at_varying_delays_after_our_logins_are_one_rival_login_each() {
    let path = pino_closes("varying.log", 440, &[300, 4_000, 900, 12_000]);
    let logs = import::read_logs(&[path]).unwrap();
    let inference = import::infer(&logs, &InferOptions::default()).unwrap();
    let logins: Vec<(u32, Option<std::time::Duration>)> = inference
        .events
        .iter()
        .filter_map(|e| match &e.action {
            WorldAction::RivalDevice { times, until, .. } => Some((*times, *until)),
            _ => None,
        })
        .collect();
    assert_eq!(logins, vec![(1, None); 4], "{:?}", inference.events);
}

#[test]
fn a_churn_like_run_in_a_two_user_log_stays_one_event_per_close() {
    let mut text = std::fs::read_to_string(fixture("churn_408.pino.log")).unwrap();
    text.push_str("{\"level\":30,\"time\":1725002000000,\"pid\":2192,\"hostname\":\"wa-worker-1\",\"sessionId\":\"5531900001111\",\"msg\":\"opened connection to WA\"}\n");
    let logs = import::read_logs(&[temp_log("two_users.log", text.as_bytes())]).unwrap();
    let inference = import::infer(&logs, &InferOptions::default()).unwrap();
    assert!(
        inference
            .events
            .iter()
            .all(|e| !matches!(e.action, WorldAction::Churn { .. })),
        "{:?}",
        inference.events
    );
    assert_eq!(
        inference
            .events
            .iter()
            .filter(|e| matches!(e.action, WorldAction::Partition { .. }))
            .count(),
        6
    );
}

#[test]
fn a_log_with_no_connection_events_is_an_error_naming_it() {
    let path = temp_log("quiet.log", b"server started\nGET / 200\n");
    let err = import::read_logs(std::slice::from_ref(&path)).unwrap_err();
    assert!(
        err.to_string().starts_with(&path.display().to_string()),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("no connection events found in 2 lines"),
        "{err}"
    );
}

#[test]
fn a_ten_megabyte_line_is_skipped_with_its_line_number() {
    let mut bytes = b"2024-05-01T10:00:00Z Conexi\xc3\xb3n establecida para usuario a\n".to_vec();
    bytes.extend(std::iter::repeat_n(b'{', 10 * 1024 * 1024));
    bytes
        .extend_from_slice(b"\n2024-05-01T10:00:01Z Conexi\xc3\xb3n cerrada. C\xc3\xb3digo: 440\n");
    let logs = import::read_logs(&[temp_log("huge.log", &bytes)]).unwrap();
    assert_eq!(logs.records.len(), 2);
    assert!(
        logs.warnings
            .iter()
            .any(|w| w.line == 2 && w.message.contains("10485760 bytes")),
        "{:?}",
        logs.warnings
    );
}

#[test]
fn mixed_formats_are_each_read_and_warned_about() {
    let bytes = b"{\"time\":1714557600000,\"msg\":\"opened connection to WA\"}\n2024-05-01T10:00:01Z Conexi\xc3\xb3n cerrada. C\xc3\xb3digo: 440\n";
    let logs = import::read_logs(&[temp_log("mixed.log", bytes)]).unwrap();
    assert_eq!(logs.records.len(), 2);
    assert!(
        logs.warnings.iter().any(|w| w
            .message
            .contains("mixes pino JSON (1 lines) and console lines (1 lines)")),
        "{:?}",
        logs.warnings
    );
}

#[test]
fn a_missing_log_exits_2_naming_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_loopguard"))
        .args(["import", "no/such/file.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no/such/file.log: cannot read"), "{stderr}");
}

#[test]
fn a_bad_window_exits_2_naming_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_loopguard"))
        .args(["import", "--window", "5m..1m"])
        .arg(fixture("reference_console.log"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--window 5m..1m: TO must come after FROM")
    );
}

#[test]
fn import_out_writes_a_scenario_that_check_can_run() {
    let out_file =
        std::env::temp_dir().join(format!("loopguard-import-{}-out.toml", std::process::id()));
    let status = Command::new(env!("CARGO_BIN_EXE_loopguard"))
        .args(["import", "--out"])
        .arg(&out_file)
        .arg(fixture("stream_errors.pino.log"))
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    scenario::load(&out_file).expect("the written file is an ordinary scenario");
}

/// Where `needle` is in `page`, or a failure naming it.
fn position(page: &str, needle: &str) -> usize {
    page.find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in the page:\n{page}"))
}

#[test]
fn the_run_page_and_the_batch_index_show_the_logs_timeline_above_the_simulated_one() {
    let report =
        std::env::temp_dir().join(format!("loopguard-import-{}-report", std::process::id()));
    let _ = std::fs::remove_dir_all(&report);
    let out_file = report.with_extension("toml");
    let status = Command::new(env!("CARGO_BIN_EXE_loopguard"))
        .args(["import", "--check", "--preset"])
        .arg(fixture("reference-service.toml"))
        .arg("--report")
        .arg(&report)
        .arg("--out")
        .arg(&out_file)
        .arg(fixture("reference_console.log"))
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let run = report.join("imported_reference_console.reference-service");
    for (page, link) in [
        (run.join("index.html"), "href=\"import.html\""),
        (
            report.join("index.html"),
            "href=\"imported_reference_console.reference-service/import.html\"",
        ),
    ] {
        let html = std::fs::read_to_string(&page).unwrap();
        let section = position(&html, "id=\"log-and-simulation\"");
        let log_lane = position(&html, ">log</text>");
        let sim_lane = position(&html, ">simulation (");
        assert!(
            section < log_lane && log_lane < sim_lane,
            "{}: the log's lane comes first",
            page.display()
        );
        assert!(
            sim_lane < position(&html, "<section class=\"run\""),
            "{}: before the run's own report",
            page.display()
        );
        assert!(html[section..].contains(link), "{}", page.display());
    }
}

/// Lines to build hostile logs from: real fixture lines and nasty ones.
fn line_strategy() -> impl Strategy<Value = Vec<u8>> {
    let fixture_lines: Vec<Vec<u8>> = [
        "reference_console.log",
        "baileys_api_309.log",
        "stream_errors.pino.log",
    ]
    .iter()
    .flat_map(|f| {
        std::fs::read(fixture(f))
            .unwrap()
            .split(|b| *b == b'\n')
            .take(40)
            .map(<[u8]>::to_vec)
            .collect::<Vec<_>>()
    })
    .collect();
    prop_oneof![
        4 => proptest::sample::select(fixture_lines),
        1 => proptest::collection::vec(any::<u8>(), 0..200),
        1 => "[{}\\[\\]\":,0-9a-zA-Z .-]{0,120}".prop_map(String::into_bytes),
        1 => (0u64..u64::MAX).prop_map(|n| format!("{{\"time\":{n},\"msg\":\"connection closed\",\"err\":{{\"output\":{{\"statusCode\":{n}}}}}}}").into_bytes()),
        1 => (0u32..100_000).prop_map(|n| format!("99:99:99 Esperando {n}{n}{n}ms\nConexión cerrada. Código: {n}{n}").into_bytes()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    /// No log makes the importer panic; every warning names a line; whatever
    /// it writes reads back as a scenario.
    #[test]
    fn no_log_panics_the_importer(lines in proptest::collection::vec(line_strategy(), 0..60)) {
        let path = temp_log("fuzz.log", &lines.join(&b'\n'));
        if let Ok(logs) = import::read_logs(&[path]) {
            prop_assert!(logs.warnings.iter().all(|w| w.line >= 1));
            if let Ok(inference) = import::infer(&logs, &InferOptions::default()) {
                let text = import::to_scenario_text(&inference, &Provenance { logs: &logs, name: "fuzz", window: None });
                prop_assert!(text.contains("[expect.stable]"));
            }
        }
    }
}
