//! Every scenario shipped in `scenarios/` (the top level, `production/` and
//! `found/`: what `check scenarios` runs), run end to end with every preset
//! its `[expect]` names: each verdict must be `pass`. Beside that, the three
//! catches the harness exists for, asserted on their own: the `legacy`
//! service is caught in repeated_440, many_tabs_polling and flapping_network,
//! `seed-fix` is caught breaking the reconnect cooldown in repeated_440, and
//! `stable` has no violation at all anywhere.
//!
//! A run is made once per (scenario, preset) and shared by the tests that
//! read it, so the catches cost no second simulation.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use loopguard::report::{RunSummary, Verdict};
use loopguard::run::execute_on;
use loopguard::scenario::{load, Scenario};
use loopguard::sim::Engine;

/// Every scenario file this suite covers, by stem. A file added to
/// `scenarios/` without a test here fails
/// [`every_scenario_file_is_covered_by_a_test_here`].
const COVERED: [&str; 15] = [
    "app_restart",
    "endpoint_unavailable_503",
    "flapping_network",
    "foreign_tab",
    "keepalive_silence",
    "logged_out_401",
    "long_partition",
    "many_tabs_polling",
    "open_then_440",
    "pair_then_515",
    "qr_never_scanned",
    "repeated_440",
    "restart_in_cooldown",
    "second_instance",
    "soak_24h",
];

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// `name` is a path under `scenarios/` without `.toml`: `repeated_440`,
/// `production/idle_watchdog_loop`, `found/stable-explore-13`.
fn scenario(name: &str) -> Scenario {
    let path = scenarios_dir().join(format!("{name}.toml"));
    load(&path).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The scenarios of one subfolder of `scenarios/`, as names for
/// [`scenario`], in file order.
fn under(dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(scenarios_dir().join(dir))
        .unwrap_or_else(|e| panic!("scenarios/{dir}: {e}"))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            format!(
                "{dir}/{}",
                p.file_stem().expect("a file name").to_string_lossy()
            )
        })
        .collect();
    names.sort();
    names
}

/// Every shipped scenario: the top level, then `production/`, then
/// `found/`.
fn every_shipped() -> Vec<String> {
    let mut all: Vec<String> = COVERED.iter().map(|s| s.to_string()).collect();
    all.extend(under("production"));
    all.extend(under("found"));
    all
}

/// The engine the gate runs on: turmoil, as `check` does, unless
/// `LOOPGUARD_GATE_ENGINE=fast` (what `make mutants` sets, so that each of
/// its few hundred gate runs costs seconds rather than minutes; the
/// differential test below keeps the two engines' verdicts equal).
fn gate_engine() -> Engine {
    match std::env::var("LOOPGUARD_GATE_ENGINE").as_deref() {
        Ok("fast") => Engine::Fast,
        _ => Engine::Turmoil,
    }
}

type Slot = Arc<OnceLock<Arc<RunSummary>>>;

/// The summary of `name` run with `preset` from the scenario's own seed,
/// simulated once per test binary whichever test asks first.
fn summary(name: &str, preset: &str) -> Arc<RunSummary> {
    static RUNS: OnceLock<Mutex<BTreeMap<(String, String), Slot>>> = OnceLock::new();
    let slot: Slot = {
        let mut runs = RUNS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        runs.entry((name.to_string(), preset.to_string()))
            .or_default()
            .clone()
    };
    slot.get_or_init(|| {
        let s = scenario(name);
        let result = execute_on(gate_engine(), &s, preset, None, &mut |_| {})
            .unwrap_or_else(|e| panic!("{name} [{preset}] did not run: {e}"));
        Arc::new(result.summary)
    })
    .clone()
}

/// Runs `name` with every preset its `[expect]` names and asserts each
/// verdict is `pass`, saying why not and how to replay it.
fn meets_its_expectations_on_every_preset(name: &str) {
    let s = scenario(name);
    assert_eq!(s.name, name.rsplit('/').next().unwrap_or(name));
    assert!(!s.expect.is_empty(), "{name}: no [expect.<preset>] table");
    let mut failures = Vec::new();
    for preset in s.expect.keys() {
        let run = summary(name, preset);
        assert_eq!(run.scenario, s.name);
        assert_eq!(&run.preset, preset);
        assert_eq!(run.seed, s.seed, "{name} [{preset}]: run from its own seed");
        if run.verdict != Verdict::Pass {
            failures.push(format!(
                "{name} [{preset}]: {:?}\n    {}\n    replay: {}",
                run.verdict,
                run.unmet.join("\n    "),
                run.replay
            ));
        } else {
            assert!(
                run.unmet.is_empty(),
                "{name} [{preset}] passed with unmet expectations: {:?}",
                run.unmet
            );
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

macro_rules! shipped_scenario_tests {
    ($($name:ident => $test:ident,)*) => {
        $(
            #[test]
            fn $test() {
                meets_its_expectations_on_every_preset(stringify!($name));
            }
        )*

        /// The stems that have a test generated above.
        const TESTED: &[&str] = &[$(stringify!($name)),*];
    };
}

shipped_scenario_tests! {
    app_restart => app_restart_meets_its_expectations_on_every_preset,
    endpoint_unavailable_503 => endpoint_unavailable_503_meets_its_expectations_on_every_preset,
    flapping_network => flapping_network_meets_its_expectations_on_every_preset,
    foreign_tab => foreign_tab_meets_its_expectations_on_every_preset,
    keepalive_silence => keepalive_silence_meets_its_expectations_on_every_preset,
    logged_out_401 => logged_out_401_meets_its_expectations_on_every_preset,
    long_partition => long_partition_meets_its_expectations_on_every_preset,
    many_tabs_polling => many_tabs_polling_meets_its_expectations_on_every_preset,
    open_then_440 => open_then_440_meets_its_expectations_on_every_preset,
    pair_then_515 => pair_then_515_meets_its_expectations_on_every_preset,
    qr_never_scanned => qr_never_scanned_meets_its_expectations_on_every_preset,
    repeated_440 => repeated_440_meets_its_expectations_on_every_preset,
    restart_in_cooldown => restart_in_cooldown_meets_its_expectations_on_every_preset,
    second_instance => second_instance_meets_its_expectations_on_every_preset,
    soak_24h => soak_24h_meets_its_expectations_on_every_preset,
}

/// The production loops: each meets its expectations with `stable` and with
/// the preset that models the service it came from, which its `[expect]`
/// must name with the invariants that catch it.
#[test]
fn every_production_scenario_meets_its_expectations_on_every_preset() {
    let names = under("production");
    assert!(names.len() >= 4, "{names:?}");
    for name in &names {
        let s = scenario(name);
        assert!(
            s.expect.contains_key("stable"),
            "{name}: no [expect.stable]"
        );
        assert!(s.expect.len() >= 2, "{name}: names its service's preset");
        for (preset, expect) in &s.expect {
            if preset != "stable" {
                assert!(
                    !expect.violates.is_empty(),
                    "{name} [{preset}]: what catches it?"
                );
            }
        }
        meets_its_expectations_on_every_preset(name);
    }
}

/// What `explore` found and shrank, kept as regressions as proptest keeps
/// its regression files: each still meets its expectations.
#[test]
fn every_found_scenario_meets_its_expectations_on_every_preset() {
    let names = under("found");
    assert!(!names.is_empty());
    for name in &names {
        meets_its_expectations_on_every_preset(name);
    }
}

#[test]
fn every_scenario_file_is_covered_by_a_test_here() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(scenarios_dir())
        .expect("scenarios/ is readable")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            p.file_stem()
                .expect("a file name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let covered: BTreeSet<String> = COVERED.iter().map(|s| s.to_string()).collect();
    let tested: BTreeSet<String> = TESTED.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        tested, covered,
        "COVERED and the generated tests must list the same scenarios"
    );
    assert_eq!(
        on_disk, covered,
        "every scenarios/*.toml needs a test in tests/shipped_scenarios.rs (and no test may name a missing file)"
    );
}

/// Asserts that `preset` is caught in `name`: its `[expect]` lists at least
/// one violation, and every one listed was found.
fn assert_caught(name: &str, preset: &str) -> Arc<RunSummary> {
    let s = scenario(name);
    let expect = s
        .expect
        .get(preset)
        .unwrap_or_else(|| panic!("{name}: no [expect.{preset}]"));
    assert!(
        !expect.violates.is_empty(),
        "{name}: [expect.{preset}] must list the violations that catch it"
    );
    let run = summary(name, preset);
    assert!(
        !run.violations.is_empty(),
        "{name} [{preset}]: no violation at all; replay: {}",
        run.replay
    );
    for id in &expect.violates {
        assert!(
            run.violated.contains(id),
            "{name} [{preset}]: `{id}` was expected to be violated but held (violated: {:?}); replay: {}",
            run.violated,
            run.replay
        );
        assert!(
            run.violations.iter().any(|v| &v.invariant == id),
            "{name} [{preset}]: no `{id}` violation kept in the summary"
        );
    }
    assert_eq!(
        run.verdict,
        Verdict::Pass,
        "{name} [{preset}]: {:?}",
        run.unmet
    );
    run
}

#[test]
fn legacy_is_caught_in_repeated_440() {
    let run = assert_caught("repeated_440", "legacy");
    // The post-mortem's loop: a 440 retried at once.
    assert!(run.violated.contains(&"reconnect_cooldown".to_string()));
}

#[test]
fn legacy_is_caught_in_many_tabs_polling() {
    let run = assert_caught("many_tabs_polling", "legacy");
    // Every status poll started a connection.
    assert!(run.violated.contains(&"status_read_only".to_string()));
}

#[test]
fn legacy_is_caught_in_flapping_network() {
    let run = assert_caught("flapping_network", "legacy");
    assert!(run.violated.contains(&"backoff_schedule".to_string()));
}

#[test]
fn seed_fix_is_caught_breaking_the_reconnect_cooldown_in_repeated_440() {
    let run = assert_caught("repeated_440", "seed-fix");
    assert!(run.violated.contains(&"reconnect_cooldown".to_string()));
    assert!(
        run.violations
            .iter()
            .any(|v| v.invariant == "reconnect_cooldown"),
        "no reconnect_cooldown violation kept"
    );
}

#[test]
fn stable_has_zero_violations_in_every_scenario() {
    let mut dirty = Vec::new();
    for name in every_shipped() {
        let name = name.as_str();
        let run = summary(name, "stable");
        if !run.violations.is_empty() || !run.violated.is_empty() {
            let first: Vec<String> = run
                .violations
                .iter()
                .take(3)
                .map(|v| format!("{} at {:?}: {}", v.invariant, v.at, v.message))
                .collect();
            dirty.push(format!(
                "{name} [stable]: violated {:?}\n    {}\n    replay: {}",
                run.violated,
                first.join("\n    "),
                run.replay
            ));
        }
    }
    assert!(dirty.is_empty(), "\n{}", dirty.join("\n"));
}

/// The verdict and every judged invariant (those the preset's expectation
/// names) as held (`true`) or violated.
fn judged(run: &RunSummary) -> (Verdict, BTreeMap<String, bool>) {
    let held: BTreeSet<&String> = run.held.iter().collect();
    let judged = run
        .expected_holds
        .iter()
        .chain(&run.expected_violations)
        .map(|id| (id.clone(), held.contains(id)))
        .collect();
    (run.verdict, judged)
}

/// The differential test of SPEC "Two engines": every shipped scenario gets
/// the same verdict, invariant by invariant over the invariants its
/// expectation judges, on the fast engine as on turmoil (whose runs this
/// binary shares with the tests above). Invariants a preset's expectation
/// does not name may differ: timers fire at their exact millisecond on the
/// fast engine and on the next 10 ms tick on turmoil, and latency draws
/// differ, so a buggy preset's incidental faults can show on one engine only
/// (legacy's zombie keep-alive after a replaced session shows on the fast
/// engine only, in four scenarios). `stable` is judged on every invariant.
#[test]
fn every_shipped_scenario_gets_the_same_verdicts_on_the_fast_engine() {
    let mut differ = Vec::new();
    for name in every_shipped() {
        let name = name.as_str();
        let s = scenario(name);
        for preset in s.expect.keys() {
            let turmoil = summary(name, preset);
            let fast =
                execute_on(Engine::Fast, &s, preset, None, &mut |_| {}).unwrap_or_else(|e| {
                    panic!("{name} [{preset}] did not run on the fast engine: {e}")
                });
            if judged(&turmoil) != judged(&fast.summary) {
                differ.push(format!(
                    "{name} [{preset}]:\n  turmoil: {:?} violated {:?}\n  fast:    {:?} violated {:?}\n  replay: {} --engine fast",
                    turmoil.verdict,
                    turmoil.violated,
                    fast.summary.verdict,
                    fast.summary.violated,
                    turmoil.replay
                ));
            }
        }
    }
    assert!(
        differ.is_empty(),
        "the engines disagree:\n{}",
        differ.join("\n")
    );
}
