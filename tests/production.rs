//! Production loops from scenario files: the restart-in-cooldown fix, user
//! presets (`--preset NAME|FILE`, `loopguard presets`, unknown presets).
//! Every scenario under scenarios/production/ meets its expectations in
//! `tests/shipped_scenarios.rs`, with the other shipped scenarios.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use loopguard::report::Verdict;
use loopguard::run::execute;
use loopguard::scenario::load;
use tempfile::TempDir;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn loopguard(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loopguard"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the loopguard binary runs")
}

fn shown(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_restart_inside_the_cooldown_fails_stable_with_the_fix_reverted() {
    let mut s = load(&repo().join("scenarios/restart_in_cooldown.toml")).unwrap();
    s.supervisor.overrides.insert(
        "startup_respects_cooldown".into(),
        toml::Value::Boolean(false),
    );
    let r = execute(&s, "stable", None, &mut |_| {}).unwrap();
    assert_eq!(r.summary.verdict, Verdict::Fail);
    assert_eq!(r.summary.violated, ["reconnect_cooldown"]);
    // The restarted app (up at 2 min 6 s) reconnected at once, 6 s after the
    // 440 at 2 min.
    let at = r.summary.violations[0].at.as_millis();
    assert!((126_000..127_000).contains(&at), "{at}");
}

#[test]
fn a_restart_inside_the_cooldown_holds_every_invariant_with_the_fix() {
    let s = load(&repo().join("scenarios/restart_in_cooldown.toml")).unwrap();
    let r = execute(&s, "stable", None, &mut |_| {}).unwrap();
    assert_eq!(r.summary.verdict, Verdict::Pass, "{:?}", r.summary.violated);
    assert!(r.summary.violated.is_empty());
}

#[test]
fn run_takes_a_preset_file_from_any_directory() {
    let dir = TempDir::new().unwrap();
    let scenario = repo().join("scenarios/production/two_init_paths_race.toml");
    let preset = repo().join("presets/production/nudlers-two-init-paths.toml");
    let o = loopguard(
        dir.path(),
        &[
            "run",
            scenario.to_str().unwrap(),
            "--preset",
            preset.to_str().unwrap(),
            "--out",
            "out",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.lines().any(
            |l| l.starts_with("ok    two_init_paths_race [nudlers-two-init-paths]  ")
                // Each init path owns its socket (init_paths_own_sessions):
                // the two replace each other with 440, a second apart.
                && l.contains("  caught: single_socket, reconnect_cooldown  ")
        ),
        "{}",
        shown(&o)
    );
    assert!(dir
        .path()
        .join("out/two_init_paths_race.nudlers-two-init-paths/trace.csv")
        .is_file());
}

#[test]
fn a_preset_name_is_found_in_the_scenarios_project_presets_subfolders() {
    let dir = TempDir::new().unwrap();
    let scenario = repo().join("scenarios/production/two_init_paths_race.toml");
    let o = loopguard(
        dir.path(),
        &[
            "run",
            scenario.to_str().unwrap(),
            "--preset",
            "nudlers-two-init-paths",
            "--out",
            "out",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
}

#[test]
fn an_unknown_preset_exits_2_and_names_the_known_ones() {
    let dir = TempDir::new().unwrap();
    let scenario = repo().join("scenarios/restart_in_cooldown.toml");
    let o = loopguard(
        dir.path(),
        &[
            "run",
            scenario.to_str().unwrap(),
            "--preset",
            "nope",
            "--out",
            "out",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    let text = shown(&o);
    assert!(text.contains("unknown preset `nope`"), "{text}");
    assert!(
        text.contains("stable") && text.contains("nudlers-two-init-paths"),
        "{text}"
    );
}

#[test]
fn check_exits_2_for_an_expect_naming_an_unknown_preset_and_runs_the_others() {
    let dir = TempDir::new().unwrap();
    let scenarios = dir.path().join("s");
    std::fs::create_dir(&scenarios).unwrap();
    std::fs::write(
        scenarios.join("a.toml"),
        "duration = \"2m\"\nquiet_tail = \"1m\"\n[expect.stable]\nholds = [\"all\"]\n\
         [expect.no-such-preset]\nholds = [\"all\"]\n",
    )
    .unwrap();
    let o = loopguard(dir.path(), &["check", "s", "--out", "out"]);
    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    let text = shown(&o);
    assert!(text.contains("unknown preset `no-such-preset`"), "{text}");
    assert!(
        dir.path().join("out/a.stable/summary.json").is_file(),
        "{text}"
    );
}

#[test]
fn presets_lists_every_project_preset_with_its_description() {
    let o = loopguard(&repo(), &["presets"]);
    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    for entry in std::fs::read_dir(repo().join("presets/production")).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{stem} ")))
            .unwrap_or_else(|| panic!("{stem} not listed:\n{text}"));
        assert!(
            !line.contains("does not load") && line.len() > stem.len() + 30,
            "no description: {line}"
        );
    }
    assert!(text.lines().any(|l| l.starts_with("stable ")), "{text}");
}

/// stable with `startup_respects_cooldown = false`, as a preset file.
fn stable_with_the_fix_reverted(dir: &Path) -> String {
    let file = dir.join("stable-restart-bug.toml");
    std::fs::write(
        &file,
        "extends = \"stable\"\nname = \"stable-restart-bug\"\nstartup_respects_cooldown = false\n",
    )
    .unwrap();
    file.to_string_lossy().into_owned()
}

#[test]
fn explore_with_the_restart_fix_reverted_finds_the_class_at_seed_1_and_stable_holds_it() {
    // `loopguard explore --seeds 1..30` with the fix reverted found
    // reconnect_cooldown at seeds 1, 3, 6, 11, 20, 23 and 24 (a terminal
    // close, then a crash restarting inside the cooldown).
    let dir = TempDir::new().unwrap();
    let reverted = stable_with_the_fix_reverted(dir.path());
    let s = loopguard::explore::generate(1, "stable-restart-bug");
    let r = execute(&s, &reverted, None, &mut |_| {}).unwrap();
    assert_eq!(r.summary.verdict, Verdict::Fail);
    assert!(r
        .summary
        .violated
        .contains(&"reconnect_cooldown".to_string()));
    let s = loopguard::explore::generate(1, "stable");
    let r = execute(&s, "stable", None, &mut |_| {}).unwrap();
    assert_eq!(r.summary.verdict, Verdict::Pass, "{:?}", r.summary.violated);
}
