//! `loopguard run FILE…`: each scenario with one preset.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use loopguard::report::Verdict;
use loopguard::scenario::{self, Scenario};

use super::batch::{run_jobs, write_batch_outputs, Job, Outcome};
use super::console::print_summary;
use super::exit_code;

pub fn run(
    files: &[PathBuf],
    preset: Option<&str>,
    seed: Option<u64>,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    let mut scenarios: Vec<Scenario> = Vec::new();
    let mut bad: Vec<String> = Vec::new();
    for file in files {
        match scenario::load(file) {
            Ok(s) => scenarios.push(s),
            Err(e) => bad.push(e.to_string()),
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
    let outcomes = run_jobs(&jobs, workers, out);
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
