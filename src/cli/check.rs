//! `loopguard check DIR`: every scenario × every preset its `[expect]`
//! names, in parallel; exit 0 only when every verdict is as expected.

use std::path::Path;
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

pub fn check(
    dir: &Path,
    out: &Path,
    jobs: Option<usize>,
    limits: RunLimitsArgs,
    engine: Engine,
) -> anyhow::Result<ExitCode> {
    if !dir.is_dir() {
        eprintln!("{}: not a directory of scenarios", dir.display());
        return Ok(ExitCode::from(2));
    }
    let mut scenarios: Vec<Scenario> = Vec::new();
    let mut bad: Vec<String> = Vec::new();
    // Scenarios `explore` found (`DIR/found/`) are regression files: check
    // runs them too.
    let found = dir.join("found");
    let mut loaded_all = scenario::load_dir(dir);
    if found.is_dir() {
        loaded_all.extend(scenario::load_dir(&found));
    }
    for (_, loaded) in loaded_all {
        match loaded {
            Ok(s) => scenarios.push(s),
            Err(e) => bad.push(scenario::render(&e)),
        }
    }
    let mut job_list: Vec<Job<'_>> = Vec::new();
    for s in &scenarios {
        let presets: Vec<String> = if s.expect.is_empty() {
            vec![s.supervisor.preset.clone()]
        } else {
            s.expect.keys().cloned().collect()
        };
        for preset in presets {
            // Every preset `[expect]` names runs; one that cannot be found
            // is bad input (exit 2) and the others still run.
            match loopguard::run::resolve_preset(s, &preset) {
                Ok(_) => job_list.push(Job {
                    scenario: s,
                    preset,
                    seed: None,
                }),
                Err(e) => bad.push(format!("{}: [expect.{preset}]: {e}", s.source.display())),
            }
        }
    }
    let workers =
        jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let isolation = Isolation {
        limits,
        engine,
        stop: signals::install().context("installing the SIGINT/SIGTERM handlers")?,
    };
    let out_dir = OutDir::prepare(out);
    let outcomes = run_jobs(&job_list, workers, &out_dir.path, &isolation);
    let written = match &out_dir.error {
        Some(_) => Ok(()),
        None => write_batch_outputs(out, &outcomes, &bad),
    };
    print_summary(&outcomes, &bad);
    if let Some(code) = batch_failure(&out_dir, written, &isolation, job_list.len(), &outcomes) {
        return Ok(code);
    }
    println!(
        "junit: {}",
        shell_quote(&out.join("junit.xml").display().to_string())
    );
    println!(
        "report: {}",
        shell_quote(&out.join("index.html").display().to_string())
    );
    let all_pass = outcomes
        .iter()
        .all(|o| matches!(o, Outcome::Done(s, _) if s.verdict == Verdict::Pass));
    Ok(exit_code(!bad.is_empty(), all_pass))
}
