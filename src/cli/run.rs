//! `loopguard run FILE…`: each scenario with one preset.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use loopguard::report::Verdict;
use loopguard::scenario::{self, Scenario};
use loopguard::sim::Engine;

use super::batch::{run_jobs, write_batch_outputs, Job, Outcome};
use super::console::print_summary;
use super::exit_code;

pub fn run(
    files: &[PathBuf],
    preset: Option<&str>,
    seed: Option<u64>,
    out: &Path,
    engine: Engine,
) -> anyhow::Result<ExitCode> {
    let mut scenarios: Vec<Scenario> = Vec::new();
    let mut bad: Vec<String> = Vec::new();
    for file in files {
        match scenario::load(file) {
            Ok(s) => scenarios.push(s),
            Err(e) => bad.push(e.to_string()),
        }
    }
    let jobs: Vec<Job<'_>> = scenarios
        .iter()
        .map(|s| Job {
            scenario: s,
            preset: preset.map_or_else(|| s.supervisor.preset.clone(), str::to_string),
            seed,
        })
        .collect();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let outcomes = run_jobs(&jobs, workers, out, engine);
    write_batch_outputs(out, &outcomes, &bad).context("writing the batch's reports")?;
    print_summary(&outcomes, &bad);
    for o in &outcomes {
        if let Outcome::Done(s, _) = o {
            println!(
                "{}: {}",
                s.run,
                out.join(&s.run).join("trace.csv").display()
            );
        }
    }
    let all_pass = outcomes
        .iter()
        .all(|o| matches!(o, Outcome::Done(s, _) if s.verdict == Verdict::Pass));
    Ok(exit_code(!bad.is_empty(), all_pass))
}
