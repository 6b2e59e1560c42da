//! One run end to end: scenario + preset + seed → simulation → invariants →
//! verdict, and its folder under the output directory.

use std::fs;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::invariants::{self, Params, RunContext, UserFacts};
use crate::report::{self, RunSummary};
use crate::scenario::Scenario;
use crate::sim;
use crate::supervisor::policy::{Policy, PolicyError};
use crate::supervisor::presets::{Preset, PresetCatalog};
use crate::trace::{write_trace, EventKind, TraceEvent};
use crate::verdict::{default_expectation, judge};

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

/// The command that replays a run exactly.
pub fn replay_command(scenario: &Scenario, preset: &str, seed: u64) -> String {
    format!(
        "loopguard run {} --preset {preset} --seed {seed}",
        scenario.source.display()
    )
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

/// Runs `scenario` with `preset`, from `seed` (default: the scenario's).
pub fn execute(
    scenario: &Scenario,
    preset: &str,
    seed: Option<u64>,
    progress: &mut dyn FnMut(Duration),
) -> Result<RunResult, RunError> {
    let resolved = resolve_preset(scenario, preset)?;
    execute_preset(
        scenario,
        &resolved,
        &preset_arg(preset, &resolved),
        seed,
        progress,
    )
}

/// Runs `scenario` with a resolved preset; `replay_arg` is how the replay
/// command names it.
pub fn execute_preset(
    scenario: &Scenario,
    resolved: &Preset,
    replay_arg: &str,
    seed: Option<u64>,
    progress: &mut dyn FnMut(Duration),
) -> Result<RunResult, RunError> {
    let preset = resolved.name.as_str();
    let seed = seed.unwrap_or(scenario.seed);
    let policy = overridden(scenario, &resolved.policy)?;
    let output = sim::run(scenario, &policy, seed, progress)?;
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
        run_end: scenario.run_length(),
    };
    let violations = invariants::check_all(&output.trace, &ctx, &Params::default());
    let expect = scenario
        .expect
        .get(preset)
        .cloned()
        .unwrap_or_else(default_expectation);
    let j = judge(&expect, &violations);
    let (violation_counts, violations) = report::keep_violations(violations);
    let summary = RunSummary {
        run: run_name(scenario, preset),
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        source: scenario.source.display().to_string(),
        preset: preset.to_string(),
        seed,
        run_length_ms: crate::util::ms(scenario.run_length()),
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
        replay: replay_command(scenario, replay_arg, seed),
        trace_events: output.trace.len(),
    };
    Ok(RunResult {
        summary,
        trace: output.trace,
    })
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

/// Writes `<out>/<run>/`: `trace.csv`, `summary.json`, the timeline.
pub fn write_run(out: &Path, result: &RunResult) -> Result<PathBuf, RunError> {
    let dir = out.join(&result.summary.run);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RunError::Write { path, source }
    };
    fs::create_dir_all(&dir).map_err(io(&dir))?;
    let trace_path = dir.join("trace.csv");
    let file = fs::File::create(&trace_path).map_err(io(&trace_path))?;
    write_trace(BufWriter::new(file), &result.trace).map_err(|e| RunError::Output {
        path: trace_path.clone(),
        message: e.to_string(),
    })?;
    let summary_path = dir.join("summary.json");
    let json = serde_json::to_string_pretty(&result.summary).map_err(|e| RunError::Output {
        path: summary_path.clone(),
        message: e.to_string(),
    })?;
    fs::write(&summary_path, json + "\n").map_err(io(&summary_path))?;
    report::write_timeline(&dir, &result.summary, &result.trace).map_err(|e| RunError::Output {
        path: dir.clone(),
        message: e.to_string(),
    })?;
    Ok(dir)
}
