//! The report in a real browser: Debian's Chromium, headless, driven over
//! the DevTools protocol. Loads a generated report from `file://` (no
//! server), hovers known instants with real mouse events, zooms by drag
//! and by wheel, and reads what a person would see.
//!
//! Built only with the `browser-test` feature: `make browser-test`
//! (which installs Chromium first when it is missing). The browser is
//! `$CHROMIUM` or `/usr/bin/chromium`.

mod report_fixtures;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use headless_chrome::browser::tab::point::Point;
use headless_chrome::protocol::cdp::Input;
use headless_chrome::{Browser, LaunchOptions, Tab};

/// The fixture run (`one_minute`) as a report folder: its run folder and
/// the stability report over it.
fn report() -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let (mut s, t) = report_fixtures::one_minute();
    s.run = "one-minute.legacy".into();
    let d = out.path().join(&s.run);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("summary.json"), serde_json::to_string(&s).unwrap()).unwrap();
    loopguard::trace::write_trace(std::fs::File::create(d.join("trace.csv")).unwrap(), &t).unwrap();
    assert_eq!(loopguard::report::rebuild(out.path()).unwrap(), 1);
    out
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// A fresh headless Chromium with its own profile, 1024 px wide.
fn browser(profile: &Path) -> Browser {
    let args: Vec<&OsStr> = [
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
    ]
    .iter()
    .map(OsStr::new)
    .collect();
    let options = LaunchOptions {
        headless: true,
        sandbox: false,
        enable_gpu: false,
        window_size: Some((1024, 900)),
        path: Some(chromium()),
        user_data_dir: Some(profile.to_path_buf()),
        disable_default_args: true,
        args,
        idle_browser_timeout: Duration::from_secs(120),
        ..LaunchOptions::default()
    };
    Browser::new(options).expect("Chromium starts (make browser-test installs it)")
}

fn open(browser: &Browser, page: &Path) -> Arc<Tab> {
    let tab = browser.new_tab().unwrap();
    tab.navigate_to(&format!("file://{}", page.display()))
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    tab
}

fn eval(tab: &Tab, js: &str) -> serde_json::Value {
    tab.evaluate(js, false)
        .unwrap()
        .value
        .unwrap_or(serde_json::Value::Null)
}

fn eval_f64(tab: &Tab, js: &str) -> f64 {
    eval(tab, js)
        .as_f64()
        .unwrap_or_else(|| panic!("{js} is no number"))
}

/// Scrolls the first interactive timeline into view and returns the
/// viewport point of virtual time `ms` on its first lane's bar.
fn point_of(tab: &Tab, ms: u64) -> Point {
    eval(tab, "document.querySelector('.lg-iv').scrollIntoView(); 0");
    let x = eval_f64(tab, &format!("window.loopguardTimelines[0].clientX({ms})"));
    let y = eval_f64(
        tab,
        "document.querySelector('svg.lg-plot').getBoundingClientRect().top + 30",
    );
    Point { x, y }
}

fn mouse(tab: &Tab, kind: Input::DispatchMouseEventTypeOption, p: Point, buttons: u32) {
    tab.call_method(Input::DispatchMouseEvent {
        Type: kind,
        x: p.x,
        y: p.y,
        modifiers: None,
        timestamp: None,
        button: Some(Input::MouseButton::Left),
        buttons: Some(buttons),
        click_count: Some(1),
        force: None,
        tangential_pressure: None,
        tilt_x: None,
        tilt_y: None,
        twist: None,
        delta_x: None,
        delta_y: None,
        pointer_Type: None,
    })
    .unwrap();
}

fn tooltip(tab: &Tab) -> String {
    let hidden = eval(tab, "document.querySelector('.lg-tip').hidden");
    assert_eq!(hidden, serde_json::Value::Bool(false), "no tooltip shown");
    eval(tab, "document.querySelector('.lg-tip').innerText")
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn hover(tab: &Tab, ms: u64) -> String {
    tab.move_mouse_to_point(point_of(tab, ms)).unwrap();
    tooltip(tab)
}

fn axis(tab: &Tab) -> Vec<String> {
    let v = eval(
        tab,
        "JSON.stringify(Array.from(document.querySelectorAll('.lg-plot .lg-tick')).map(e => e.textContent))",
    );
    serde_json::from_str(v.as_str().unwrap()).unwrap()
}

fn view(tab: &Tab) -> (f64, f64) {
    let a = eval_f64(tab, "window.loopguardTimelines[0].view()[0]");
    let b = eval_f64(tab, "window.loopguardTimelines[0].view()[1]");
    (a, b)
}

#[test]
fn hovering_an_instant_lists_its_rows_and_the_world_state_there() {
    let out = report();
    let profile = tempfile::tempdir().unwrap();
    let b = browser(profile.path());
    let tab = open(&b, &out.path().join("one-minute.legacy/index.html"));
    assert_eq!(eval_f64(&tab, "window.loopguardTimelines.length"), 1.0);

    // 40 s: the 440 lands on alice's socket, and single_socket is violated.
    let tip = hover(&tab, 40_000);
    assert!(tip.starts_with("0:00:40.000\n"), "{tip}");
    assert!(tip.contains("endpoint_closed wa · alice"), "{tip}");
    assert!(tip.contains("\"code\":440"), "{tip}");
    assert!(tip.contains("violation single_socket · alice"), "{tip}");
    assert!(
        tip.contains(
            "alice @ app-1: DISCONNECTED (supervisor) · sockets 0 (truth), down · attempts 2"
        ),
        "{tip}"
    );
    assert!(
        tip.contains(
            "bob @ app-1: DISCONNECTED (supervisor) · sockets 0 (truth), down · attempts 2"
        ),
        "{tip}"
    );
    assert!(tip.contains("faults: none"), "{tip}");

    // 20 s: inside the partition (18–24 s), alice's 408 close.
    let tip = hover(&tab, 20_000);
    assert!(tip.starts_with("0:00:20.000\n"), "{tip}");
    assert!(tip.contains("faults: partition on app-1<->wa"), "{tip}");
    assert!(
        tip.contains("bob @ app-1: CONNECTED (supervisor) · sockets 1 (truth), up · attempts 1"),
        "{tip}"
    );
}

#[test]
fn dragging_across_the_plot_zooms_the_axis_to_the_dragged_span() {
    let out = report();
    let profile = tempfile::tempdir().unwrap();
    let b = browser(profile.path());
    let tab = open(&b, &out.path().join("one-minute.legacy/index.html"));
    let whole = axis(&tab);
    assert_eq!(whole.first().map(String::as_str), Some("0:00"));
    assert_eq!(whole.last().map(String::as_str), Some("1:00"));

    let (from, to) = (point_of(&tab, 30_000), point_of(&tab, 50_000));
    use Input::DispatchMouseEventTypeOption::{MouseMoved, MousePressed, MouseReleased};
    mouse(&tab, MouseMoved, from, 0);
    mouse(&tab, MousePressed, from, 1);
    mouse(
        &tab,
        MouseMoved,
        Point {
            x: (from.x + to.x) / 2.0,
            y: from.y,
        },
        1,
    );
    mouse(&tab, MouseMoved, to, 1);
    mouse(&tab, MouseReleased, to, 0);

    // Within a pixel of the drag (a pixel is under 100 ms here).
    let (a, b2) = view(&tab);
    assert!(
        (a - 30_000.0).abs() < 100.0 && (b2 - 50_000.0).abs() < 100.0,
        "{a}..{b2}"
    );
    // A 20 s view ticks every 2 s.
    let first = ((a / 2_000.0).ceil() as u64) * 2;
    let last = ((b2 / 2_000.0).floor() as u64) * 2;
    let expected: Vec<String> = (first..=last)
        .step_by(2)
        .map(|s| format!("{}:{:02}", s / 60, s % 60))
        .collect();
    assert_eq!(axis(&tab), expected);
    assert!(expected.contains(&"0:40".to_string()));
    // The range reads in the toolbar, and hovering still finds 40 s.
    let range = eval(&tab, "document.querySelector('.lg-range').textContent");
    assert!(range.as_str().unwrap().contains(" – "));
    assert!(hover(&tab, 40_000).starts_with("0:00:40.000\n"));
}

#[test]
fn the_wheel_zooms_in_around_the_pointer() {
    let out = report();
    let profile = tempfile::tempdir().unwrap();
    let b = browser(profile.path());
    let tab = open(&b, &out.path().join("one-minute.legacy/index.html"));
    let p = point_of(&tab, 40_000);
    for _ in 0..3 {
        tab.call_method(Input::DispatchMouseEvent {
            Type: Input::DispatchMouseEventTypeOption::MouseWheel,
            x: p.x,
            y: p.y,
            modifiers: None,
            timestamp: None,
            button: None,
            buttons: None,
            click_count: None,
            force: None,
            tangential_pressure: None,
            tilt_x: None,
            tilt_y: None,
            twist: None,
            delta_x: Some(0.0),
            delta_y: Some(-100.0),
            pointer_Type: None,
        })
        .unwrap();
    }
    // Three steps of 0.8: a 30.72 s view that keeps 40 s under the pointer.
    let wait_until = std::time::Instant::now() + Duration::from_secs(5);
    while view(&tab) == (0.0, 60_000.0) && std::time::Instant::now() < wait_until {
        std::thread::sleep(Duration::from_millis(50));
    }
    let (a, b2) = view(&tab);
    assert!((b2 - a - 30_720.0).abs() <= 2.0, "{a}..{b2}");
    assert!(
        (a - (40_000.0 - 40_000.0 * 0.512)).abs() <= 100.0,
        "{a}..{b2}"
    );
}

#[test]
fn the_stability_report_opens_with_failures_fits_1024_px_and_has_the_timeline() {
    let out = report();
    let profile = tempfile::tempdir().unwrap();
    let b = browser(profile.path());
    let tab = open(&b, &out.path().join("index.html"));
    let first_h2 = eval(&tab, "document.querySelector('main h2').textContent");
    assert_eq!(first_h2.as_str(), Some("Failures (1)"));
    // Nothing wider than the 1024 px window: no horizontal scroll, and the
    // runs table ends inside it.
    let inner = eval_f64(&tab, "document.documentElement.clientWidth");
    assert!(inner <= 1024.0 && inner > 900.0, "{inner}");
    let page = eval_f64(&tab, "document.documentElement.scrollWidth");
    assert!(page <= inner, "page is {page} px wide in {inner}");
    let table = eval_f64(
        &tab,
        "document.querySelector('table.runs').getBoundingClientRect().right",
    );
    assert!(table <= inner, "runs table ends at {table} px");
    assert_eq!(eval_f64(&tab, "window.loopguardTimelines.length"), 1.0);
    assert!(hover(&tab, 40_000).contains("violation single_socket · alice"));
}
