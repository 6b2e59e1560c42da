//! The differential test of SPEC "Two engines", beyond the shipped
//! scenarios (those are compared in `tests/shipped_scenarios.rs`, which
//! shares their turmoil runs): every action of the scenario format must be
//! exercised by a shipped scenario, a found one or a case under
//! `tests/engines/`, and the fast engine must give it a meaning (an action
//! added to the format without either fails here by name); the cases under
//! `tests/engines/` get the same verdict, invariant by invariant over the
//! invariants their expectation judges, on both engines. (Every shipped
//! scenario, `production/` and `found/` included, is compared in
//! `tests/shipped_scenarios.rs`, which shares its turmoil runs with the
//! scenario gate.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use loopguard::run::execute_on;
use loopguard::scenario::{load, Scenario, ACTIONS};
use loopguard::sim::Engine;

fn files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in [
        "scenarios",
        "scenarios/production",
        "scenarios/found",
        "tests/engines",
    ] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        let mut here: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        here.sort();
        out.extend(here);
    }
    out
}

fn scenarios() -> Vec<Scenario> {
    files()
        .iter()
        .map(|p| load(p).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

#[test]
fn every_action_is_exercised_by_a_differential_case() {
    let used: BTreeSet<&'static str> = scenarios()
        .iter()
        .flat_map(|s| s.events.iter().map(|e| e.action.name()).collect::<Vec<_>>())
        .collect();
    let missing: Vec<&str> = ACTIONS
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !used.contains(name))
        .collect();
    assert!(
        missing.is_empty(),
        "actions no scenario of the differential test uses: {missing:?}; add a case under \
         tests/engines/ so both engines are compared on them"
    );
}

#[test]
fn every_action_used_has_a_fast_engine_meaning() {
    let unsupported: BTreeSet<String> = scenarios()
        .iter()
        .flat_map(|s| s.events.iter())
        .filter(|e| !loopguard::sim::fast::supported(&e.action))
        .map(|e| e.action.name().to_string())
        .collect();
    assert!(
        unsupported.is_empty(),
        "the fast engine gives no meaning to {unsupported:?}: add it to src/sim/fast/"
    );
}

/// What one engine said of one (scenario, preset): the verdict, and each
/// invariant the expectation judges as held (`true`) or violated.
#[derive(Debug, PartialEq)]
struct Verdicts {
    verdict: String,
    judged: BTreeMap<String, bool>,
    violated: Vec<String>,
}

fn verdicts(engine: Engine, s: &Scenario, preset: &str) -> Result<Verdicts, String> {
    execute_on(engine, s, preset, None, &mut |_| {})
        .map(|r| Verdicts {
            verdict: format!("{:?}", r.summary.verdict),
            judged: r
                .summary
                .expected_holds
                .iter()
                .chain(&r.summary.expected_violations)
                .map(|id| (id.clone(), r.summary.held.contains(id)))
                .collect(),
            violated: r.summary.violated,
        })
        .map_err(|e| e.to_string())
}

#[test]
fn every_extra_case_gets_the_same_verdicts_on_both_engines() {
    let all: Vec<Scenario> = scenarios()
        .into_iter()
        .filter(|s| {
            s.source
                .parent()
                .is_some_and(|p| p.ends_with("tests/engines"))
        })
        .collect();
    let jobs: Vec<(&Scenario, String, Engine)> = all
        .iter()
        .flat_map(|s| {
            s.expect
                .keys()
                .flat_map(move |p| [Engine::Turmoil, Engine::Fast].map(|e| (s, p.clone(), e)))
        })
        .collect();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Verdicts, String>>>> =
        Mutex::new(jobs.iter().map(|_| None).collect());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((s, preset, engine)) = jobs.get(i) else {
                    break;
                };
                let v = verdicts(*engine, s, preset);
                results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(v);
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut differ = Vec::new();
    for (pair, outcome) in jobs.chunks(2).zip(results.chunks(2)) {
        let (s, preset, _) = &pair[0];
        let turmoil = outcome[0].as_ref().expect("turmoil run made");
        let fast = outcome[1].as_ref().expect("fast run made");
        let same = match (turmoil, fast) {
            (Ok(t), Ok(f)) => t.verdict == f.verdict && t.judged == f.judged,
            _ => false,
        };
        // Each case also meets its own expectations, like a shipped scenario.
        if !matches!(turmoil, Ok(t) if t.verdict == "Pass") {
            differ.push(format!(
                "{} [{preset}] does not meet its expectations on turmoil: {turmoil:?}",
                s.name
            ));
        }
        if !same {
            differ.push(format!(
                "{} [{preset}]:\n  turmoil: {turmoil:?}\n  fast:    {fast:?}",
                s.name
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "the engines disagree on {} of {} runs:\n{}",
        differ.len(),
        jobs.len() / 2,
        differ.join("\n")
    );
}

#[test]
fn the_fast_engine_gives_byte_identical_traces_for_the_same_seed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in ["flapping_network", "app_restart", "second_instance"] {
        let s = load(&root.join(format!("scenarios/{name}.toml"))).expect("loads");
        let csv = || {
            let r = execute_on(Engine::Fast, &s, "stable", None, &mut |_| {}).expect("runs");
            let mut bytes = Vec::new();
            loopguard::trace::write_trace(&mut bytes, &r.trace).expect("writes");
            bytes
        };
        assert!(csv() == csv(), "{name}: two fast runs from one seed differ");
    }
}

/// Seed 571 of `explore --preset stable`: four refusals outlast a partition
/// and are used one per 90 s by stable's auto-reconnector, long after the
/// scripted end. Each engine ends the run exactly a quiet tail after the
/// refusal fault's real end, so recovery is judged over the whole window.
#[test]
fn a_fault_that_outlasts_the_script_lengthens_the_run_by_the_quiet_tail_on_both_engines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let s = load(&root.join("scenarios/found/stable-explore-571b.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let scripted = u64::try_from(s.run_length().as_millis()).unwrap_or(u64::MAX);
    let tail = u64::try_from(s.quiet_tail.as_millis()).unwrap_or(u64::MAX);
    for engine in [Engine::Fast, Engine::Turmoil] {
        let run = execute_on(engine, &s, "stable", None, &mut |_| {})
            .unwrap_or_else(|e| panic!("{engine:?}: {e}"))
            .summary;
        assert!(
            run.faults_end_ms + tail > scripted,
            "{engine:?}: the refusals ended at {} ms, within the script",
            run.faults_end_ms
        );
        assert_eq!(run.run_length_ms, run.faults_end_ms + tail, "{engine:?}");
        assert_eq!(
            run.verdict.word(),
            "pass",
            "{engine:?}: {:?}",
            run.violations
        );
    }
}

/// `exit_on_codes` on both engines: each exit on a code crashes its host at
/// once (within one turmoil tick) and the host starts again exactly the
/// scenario's `restart_delay` later; three 440s, three exits, three restarts.
#[test]
fn an_app_that_exits_on_a_code_is_restarted_after_the_restart_delay_on_both_engines() {
    use loopguard::trace::EventKind;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let s = load(&root.join("scenarios/production/exit_on_conflict_restart_loop.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    for engine in [Engine::Fast, Engine::Turmoil] {
        let trace = execute_on(
            engine,
            &s,
            "go-whatsapp-exit-on-conflict",
            None,
            &mut |_| {},
        )
        .unwrap_or_else(|e| panic!("{engine:?}: {e}"))
        .trace;
        let at = |pick: &dyn Fn(&EventKind) -> bool| -> Vec<Duration> {
            trace
                .iter()
                .filter(|e| pick(&e.kind))
                .map(|e| e.at)
                .collect()
        };
        let exits = at(&|k| matches!(k, EventKind::ProcessExited { code: 440 }));
        let crashes =
            at(&|k| matches!(k, EventKind::InstanceCrashed { instance } if instance == "app-1"));
        let starts =
            at(&|k| matches!(k, EventKind::InstanceStarted { instance } if instance == "app-1"));
        assert_eq!(exits.len(), 3, "{engine:?}: {exits:?}");
        assert_eq!(crashes.len(), 3, "{engine:?}: {crashes:?}");
        assert_eq!(
            starts.len(),
            4,
            "{engine:?}: the first start and 3 restarts: {starts:?}"
        );
        for ((exit, crash), start) in exits.iter().zip(&crashes).zip(&starts[1..]) {
            assert!(
                *crash >= *exit && *crash - *exit <= s.tick,
                "{engine:?}: exited at {exit:?}, crashed at {crash:?}"
            );
            assert_eq!(*start - *crash, s.restart_delay, "{engine:?}");
        }
    }
}
