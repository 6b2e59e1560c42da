//! `loopguard check DIR`: every scenario × every preset its `[expect]`
//! names, in parallel; exit 0 only when every verdict is as expected.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use loopguard::report::Verdict;
use loopguard::scenario::{self, Scenario};

use super::batch::{run_jobs, write_batch_outputs, Job, Outcome};
use super::console::print_summary;
use super::exit_code;

pub fn check(dir: &Path, out: &Path, jobs: Option<usize>) -> anyhow::Result<ExitCode> {
    if !dir.is_dir() {
        eprintln!("{}: not a directory of scenarios", dir.display());
        return Ok(ExitCode::from(2));
    }
    let mut scenarios: Vec<Scenario> = Vec::new();
    let mut bad: Vec<String> = Vec::new();
    for (_, loaded) in scenario::load_dir(dir) {
        match loaded {
            Ok(s) => scenarios.push(s),
            Err(e) => bad.push(e.to_string()),
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
    let outcomes = run_jobs(&job_list, workers, out);
    write_batch_outputs(out, &outcomes, &bad).context("writing the batch's reports")?;
    print_summary(&outcomes, &bad);
    println!("junit: {}", out.join("junit.xml").display());
    println!("report: {}", out.join("index.html").display());
    let all_pass = outcomes
        .iter()
        .all(|o| matches!(o, Outcome::Done(s, _) if s.verdict == Verdict::Pass));
    Ok(exit_code(!bad.is_empty(), all_pass))
}
