//! One run end to end: scenario + preset + seed → simulation → invariants →
//! verdict, and its folder under the output directory.

use std::fs;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::invariants::{self, Params, RunContext, UserFacts};
use crate::output::atomic::temp_path;
use crate::output::{sha256_file, sha256_hex, shell_command, write_atomic, AtomicFile};
use crate::report::{self, RunFiles, RunSummary};
use crate::scenario::{to_toml, Scenario};
use crate::sim::{self, Engine};
use crate::supervisor::policy::{Policy, PolicyError};
use crate::supervisor::presets::{Preset, PresetCatalog};
use crate::test_faults;
use crate::trace::{write_trace, EventKind, TraceCaps, TraceEvent, TraceGuard};
use crate::verdict::{default_expectation, judge, judge_counted, Verdict};

/// A run folder's files. `summary.json` is written last: a folder without
/// one holds no finished run.
pub const SUMMARY_FILE: &str = "summary.json";
pub const TRACE_FILE: &str = "trace.csv";
/// What a run that did not finish had streamed before it stopped.
pub const PARTIAL_TRACE_FILE: &str = "trace.partial.csv";
/// The folder's copy of its scenario file.
pub const SCENARIO_COPY: &str = "scenario.toml";
/// The resolved policy the run used (preset after overrides), as TOML.
pub const POLICY_COPY: &str = "policy.toml";

/// Why a run could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error("{file}: supervisor.overrides: {message}")]
    Override { file: String, message: String },
    #[error(transparent)]
    Sim(#[from] sim::SimError),
    #[error("{path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Output { path: PathBuf, message: String },
    /// What a run's worker process reported (see the CLI's run isolation).
    #[error("{0}")]
    Isolation(String),
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub summary: RunSummary,
    pub trace: Vec<TraceEvent>,
}

/// The policy a scenario runs `preset` with: the preset, then its overrides.
pub fn policy_for(scenario: &Scenario, preset: &str) -> Result<Policy, RunError> {
    overridden(scenario, &resolve_preset(scenario, preset)?.policy)
}

/// `preset` (a name or a file) as seen from `scenario`: its project's
/// `presets/` folder, `./presets`, then the built-ins.
pub fn resolve_preset(scenario: &Scenario, preset: &str) -> Result<Preset, RunError> {
    Ok(PresetCatalog::for_scenario(Some(&scenario.source)).resolve(preset)?)
}

fn overridden(scenario: &Scenario, policy: &Policy) -> Result<Policy, RunError> {
    policy
        .clone()
        .with_overrides(&scenario.supervisor.overrides)
        .map_err(|e| RunError::Override {
            file: scenario.source.display().to_string(),
            message: e.to_string(),
        })
}

/// The folder name of a run.
pub fn run_name(scenario: &Scenario, preset: &str) -> String {
    format!("{}.{}", scenario.name, preset)
}

/// The command that replays a run exactly, shell-quoted so that it can be
/// pasted whatever the scenario's path holds.
pub fn replay_command(scenario: &Scenario, preset: &str, seed: u64) -> String {
    let source = scenario.source.display().to_string();
    let seed = seed.to_string();
    shell_command([
        "loopguard",
        "run",
        source.as_str(),
        "--preset",
        preset,
        "--seed",
        seed.as_str(),
    ])
}

/// How a replay names `preset`: its name for a built-in or a project preset
/// found by name, its absolute file path for a file given on the command line.
fn preset_arg(spec: &str, preset: &Preset) -> String {
    match &preset.file {
        Some(file) if crate::supervisor::presets::is_file_spec(spec) => std::path::absolute(file)
            .unwrap_or_else(|_| file.clone())
            .display()
            .to_string(),
        _ => preset.name.clone(),
    }
}

/// The name reports use for `spec` (a preset name or file) and how the
/// replay command names it; `spec` itself when it does not resolve (a
/// replay runs the policy stored in its folder).
fn preset_names(scenario: &Scenario, spec: &str) -> (String, String) {
    match resolve_preset(scenario, spec) {
        Ok(resolved) => (resolved.name.clone(), preset_arg(spec, &resolved)),
        Err(_) => (spec.to_string(), spec.to_string()),
    }
}

/// Runs `scenario` with `preset` (a name or a file), from `seed` (default:
/// the scenario's), on the turmoil engine, in memory only, under the default
/// trace caps.
pub fn execute(
    scenario: &Scenario,
    preset: &str,
    seed: Option<u64>,
    progress: &mut dyn FnMut(Duration),
) -> Result<RunResult, RunError> {
    execute_on(Engine::Turmoil, scenario, preset, seed, progress)
}

/// [`execute`] on `engine`.
pub fn execute_on(
    engine: Engine,
    scenario: &Scenario,
    preset: &str,
    seed: Option<u64>,
    progress: &mut dyn FnMut(Duration),
) -> Result<RunResult, RunError> {
    let policy = policy_for(scenario, preset)?;
    execute_with(
        engine,
        scenario,
        preset,
        &policy,
        seed,
        TraceGuard::default(),
        progress,
    )
}

/// Runs `scenario` on `engine` with an already resolved `policy` (`preset`
/// as given: a name or a file) under `guard`. A run whose trace passed a cap is
/// judged on what it recorded and gets the verdict `runaway`, the cap named
/// first in `unmet`.
pub fn execute_with(
    engine: Engine,
    scenario: &Scenario,
    preset: &str,
    policy: &Policy,
    seed: Option<u64>,
    guard: TraceGuard,
    progress: &mut dyn FnMut(Duration),
) -> Result<RunResult, RunError> {
    let seed = seed.unwrap_or(scenario.seed);
    let output = engine.run_guarded(scenario, policy, seed, guard, progress)?;
    let (preset_name, replay_arg) = preset_names(scenario, preset);
    let preset = preset_name.as_str();
    let ctx = RunContext {
        users: scenario
            .users
            .iter()
            .map(|u| UserFacts {
                id: u.id.clone(),
                paired: u.paired,
                enabled: u.enabled,
            })
            .collect(),
        faults_end: faults_end(scenario, &output.trace),
        // A runaway run is judged up to where it was stopped, not on the
        // silence after it.
        run_end: output.runaway.map_or(output.run_end, |r| r.at),
    };
    if test_faults::active_for("run_panics_in_oracle", &scenario.name) {
        panic!("test fault run_panics_in_oracle: the oracle panicked");
    }
    let params = Params {
        tick: scenario.tick,
        ..Params::default()
    };
    let (violation_counts, violations) = invariants::check_kept(
        &output.trace,
        &ctx,
        &params,
        report::KEPT_PER_INVARIANT,
        report::KEPT_EVIDENCE_ROWS,
    );
    let mut j = judge_counted(
        &expectation(scenario, preset),
        &violation_counts,
        &violations,
    );
    if let Some(runaway) = output.runaway {
        j.verdict = Verdict::Runaway;
        j.unmet.insert(0, runaway.to_string());
    }
    let summary = RunSummary {
        run: run_name(scenario, preset),
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        source: scenario.source.display().to_string(),
        preset: preset.to_string(),
        seed,
        run_length_ms: crate::util::ms(output.run_end),
        faults_end_ms: crate::util::ms(ctx.faults_end),
        users: scenario.users.iter().map(|u| u.id.clone()).collect(),
        instances: output.instances,
        verdict: j.verdict,
        expected_holds: j.expected_holds,
        expected_violations: j.expected_violations,
        held: j.held,
        violated: j.violated,
        unmet: j.unmet,
        violation_counts,
        violations,
        replay: match engine {
            Engine::Turmoil => replay_command(scenario, &replay_arg, seed),
            Engine::Fast => format!(
                "{} --engine fast",
                replay_command(scenario, &replay_arg, seed)
            ),
        },
        trace_events: output.trace.len(),
        files: None,
    };
    Ok(RunResult {
        summary,
        trace: output.trace,
    })
}

/// What `scenario` expects of `preset` (every invariant holds when it says
/// nothing).
fn expectation(scenario: &Scenario, preset: &str) -> crate::scenario::Expectation {
    scenario
        .expect
        .get(preset)
        .cloned()
        .unwrap_or_else(default_expectation)
}

/// When the last fault ended: the scenario's schedule, or later when a fault
/// outlasted it (refusals end only when the last refused connect comes).
fn faults_end(scenario: &Scenario, trace: &[TraceEvent]) -> Duration {
    trace
        .iter()
        .filter(|e| matches!(e.kind, EventKind::FaultEnded { .. }))
        .map(|e| e.at)
        .fold(scenario.faults_end(), Duration::max)
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> RunError {
    let path = path.to_path_buf();
    move |source| RunError::Write { path, source }
}

fn output_error(path: &Path) -> impl FnOnce(String) -> RunError {
    let path = path.to_path_buf();
    move |message| RunError::Output { path, message }
}

/// Makes `<out>/<run>/` and takes away its old `summary.json` first: until
/// this run writes its own, the folder reads as incomplete.
fn open_run_dir(out: &Path, run: &str) -> Result<PathBuf, RunError> {
    let dir = out.join(run);
    fs::create_dir_all(&dir).map_err(io_error(&dir))?;
    let summary_path = dir.join(SUMMARY_FILE);
    match fs::remove_file(&summary_path) {
        Ok(()) => Ok(dir),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(dir),
        Err(e) => Err(io_error(&summary_path)(e)),
    }
}

/// Runs `scenario` with `preset` straight into its folder under `out`: the
/// folder's copies of the scenario and of the resolved policy first, then
/// the trace streamed to disk as the run goes (under a temporary name,
/// renamed when the run ends), the timeline, and `summary.json` last.
pub fn run_into(
    engine: Engine,
    out: &Path,
    scenario: &Scenario,
    preset: &str,
    seed: Option<u64>,
    caps: TraceCaps,
    progress: &mut dyn FnMut(Duration),
) -> Result<RunResult, RunError> {
    let policy = policy_for(scenario, preset)?;
    let (preset_name, _) = preset_names(scenario, preset);
    let dir = open_run_dir(out, &run_name(scenario, &preset_name))?;
    let scenario_text =
        fs::read(&scenario.source).unwrap_or_else(|_| to_toml(scenario).into_bytes());
    let scenario_path = dir.join(SCENARIO_COPY);
    write_atomic(&scenario_path, &scenario_text).map_err(io_error(&scenario_path))?;
    let policy_path = dir.join(POLICY_COPY);
    let policy_text =
        toml::to_string(&policy).map_err(|e| output_error(&policy_path)(e.to_string()))?;
    write_atomic(&policy_path, policy_text.as_bytes()).map_err(io_error(&policy_path))?;

    let trace_path = dir.join(TRACE_FILE);
    let streaming = temp_path(&trace_path);
    let file = fs::File::create(&streaming).map_err(io_error(&streaming))?;
    let guard = TraceGuard {
        caps,
        sink: Some(Box::new(BufWriter::new(file))),
    };
    let mut result = execute_with(engine, scenario, preset, &policy, seed, guard, progress)?;
    fs::rename(&streaming, &trace_path).map_err(io_error(&trace_path))?;
    let trace_sha256 = sha256_file(&trace_path).map_err(io_error(&trace_path))?;
    result.summary.files = Some(RunFiles {
        scenario: SCENARIO_COPY.to_string(),
        scenario_sha256: sha256_hex(&scenario_text),
        policy: POLICY_COPY.to_string(),
        policy_sha256: sha256_hex(policy_text.as_bytes()),
        trace_sha256,
    });
    finish_folder(&dir, &result)?;
    Ok(result)
}

/// Writes `<out>/<run>/` from a finished run held in memory: `trace.csv`,
/// the timeline, `summary.json` last, each atomically.
pub fn write_run(out: &Path, result: &RunResult) -> Result<PathBuf, RunError> {
    let dir = open_run_dir(out, &result.summary.run)?;
    let trace_path = dir.join(TRACE_FILE);
    let mut file = AtomicFile::create(&trace_path).map_err(io_error(&trace_path))?;
    write_trace(&mut file, &result.trace).map_err(|e| output_error(&trace_path)(e.to_string()))?;
    file.commit().map_err(io_error(&trace_path))?;
    finish_folder(&dir, result)?;
    Ok(dir)
}

/// The timeline, then `summary.json`: the mark of a complete folder.
fn finish_folder(dir: &Path, result: &RunResult) -> Result<(), RunError> {
    if test_faults::active_for("run_panics_in_report", &result.summary.scenario) {
        panic!("test fault run_panics_in_report: writing the report panicked");
    }
    report::write_timeline(dir, &result.summary, &result.trace)
        .map_err(|e| output_error(dir)(e.to_string()))?;
    write_summary(dir, &result.summary)
}

fn write_summary(dir: &Path, summary: &RunSummary) -> Result<(), RunError> {
    let summary_path = dir.join(SUMMARY_FILE);
    let json = serde_json::to_string_pretty(summary)
        .map_err(|e| output_error(&summary_path)(e.to_string()))?;
    write_atomic(&summary_path, (json + "\n").as_bytes()).map_err(io_error(&summary_path))
}

/// The summary of a run that did not finish (`crashed`, `hung`,
/// `interrupted`): what the scenario expected, nothing judged, `why` as the
/// one unmet sentence.
pub fn unfinished_summary(
    scenario: &Scenario,
    preset: &str,
    seed: Option<u64>,
    verdict: Verdict,
    why: String,
) -> RunSummary {
    let seed = seed.unwrap_or(scenario.seed);
    let j = judge(&expectation(scenario, preset), &[]);
    RunSummary {
        run: run_name(scenario, preset),
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        source: scenario.source.display().to_string(),
        preset: preset.to_string(),
        seed,
        run_length_ms: crate::util::ms(scenario.run_length()),
        faults_end_ms: crate::util::ms(scenario.faults_end()),
        users: scenario.users.iter().map(|u| u.id.clone()).collect(),
        instances: Vec::new(),
        verdict,
        expected_holds: j.expected_holds,
        expected_violations: j.expected_violations,
        held: Vec::new(),
        violated: Vec::new(),
        unmet: vec![why],
        violation_counts: Default::default(),
        violations: Vec::new(),
        replay: replay_command(scenario, preset, seed),
        trace_events: 0,
        files: None,
    }
}

/// Writes the folder of a run that did not finish: the trace it streamed
/// before it stopped is kept as `trace.partial.csv` (evidence, not judged),
/// `trace.csv` holds the header only, and `summary.json` comes last.
pub fn write_unfinished(out: &Path, summary: &RunSummary) -> Result<PathBuf, RunError> {
    let dir = open_run_dir(out, &summary.run)?;
    let trace_path = dir.join(TRACE_FILE);
    let streaming = temp_path(&trace_path);
    if streaming.exists() {
        let partial = dir.join(PARTIAL_TRACE_FILE);
        fs::rename(&streaming, &partial).map_err(io_error(&partial))?;
    }
    let mut header = Vec::new();
    write_trace(&mut header, &[]).map_err(|e| output_error(&trace_path)(e.to_string()))?;
    write_atomic(&trace_path, &header).map_err(io_error(&trace_path))?;
    write_summary(&dir, summary)?;
    Ok(dir)
}
