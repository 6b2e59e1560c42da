//! `loopguard run FILE…`: each scenario with one preset.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use loopguard::report::Verdict;
use loopguard::scenario::{self, Scenario};
use loopguard::sim::Engine;

use loopguard::output::shell_quote;

use super::batch::{run_jobs, write_batch_outputs, Job, Outcome};
use super::console::print_summary;
use super::isolate::{batch_failure, Isolation, RunLimitsArgs};
use super::outdir::OutDir;
use super::{exit_code, signals};

pub fn run(
    files: &[PathBuf],
    preset: Option<&str>,
    seed: Option<u64>,
    out: &Path,
    limits: RunLimitsArgs,
    engine: Engine,
) -> anyhow::Result<ExitCode> {
    let mut scenarios: Vec<Scenario> = Vec::new();
    let mut bad: Vec<String> = Vec::new();
    for file in files {
        match scenario::load(file) {
            Ok(s) => scenarios.push(s),
            Err(e) => bad.push(scenario::render(&e)),
        }
    }
    let mut jobs: Vec<Job<'_>> = Vec::new();
    for s in &scenarios {
        let preset = preset.map_or_else(|| s.supervisor.preset.clone(), str::to_string);
        // An unknown preset is bad input (exit 2), not a failed run.
        match loopguard::run::resolve_preset(s, &preset) {
            Ok(_) => jobs.push(Job {
                scenario: s,
                preset,
                seed,
            }),
            Err(e) => bad.push(format!("{}: {e}", s.source.display())),
        }
    }
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let isolation = Isolation {
        limits,
        engine,
        stop: signals::install().context("installing the SIGINT/SIGTERM handlers")?,
    };
    let out_dir = OutDir::prepare(out);
    let outcomes = run_jobs(&jobs, workers, &out_dir.path, &isolation);
    let written = match &out_dir.error {
        Some(_) => Ok(()),
        None => write_batch_outputs(out, &outcomes, &bad),
    };
    print_summary(&outcomes, &bad);
    if let Some(code) = batch_failure(&out_dir, written, &isolation, jobs.len(), &outcomes) {
        return Ok(code);
    }
    for o in &outcomes {
        if let Outcome::Done(s, _) = o {
            println!(
                "{}: {}",
                s.run,
                shell_quote(&out.join(&s.run).join("trace.csv").display().to_string())
            );
        }
    }
    let all_pass = outcomes
        .iter()
        .all(|o| matches!(o, Outcome::Done(s, _) if s.verdict == Verdict::Pass));
    Ok(exit_code(!bad.is_empty(), all_pass))
}
