//! `loopguard run FILE…`: each scenario with one preset, each run in its
//! own worker process. It writes only the run folders: the batch's report
//! (`index.html`, `report.md`, `junit.xml`, `summary.json`) belongs to
//! `check` and `report`, so a replay into the default `reports/` leaves the
//! batch's report alone.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use loopguard::output::shell_quote;
use loopguard::report::BadInput;
use loopguard::scenario::{self, Scenario};
use loopguard::sim::Engine;

use super::batch::{run_jobs, Job, Outcome};
use super::console::{print_bad_inputs, print_recap, Console};
use super::isolate::{batch_failure, Isolation, RunLimitsArgs};
use super::outdir::OutDir;
use super::select::bad_input;
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
    let mut bad: Vec<BadInput> = Vec::new();
    for file in files {
        match scenario::load(file) {
            Ok(s) => scenarios.push(s),
            Err(e) => bad.push(bad_input(file, &e)),
        }
    }
    let mut jobs: Vec<Job<'_>> = Vec::new();
    for s in &scenarios {
        let preset = preset.map_or_else(|| s.supervisor.preset.clone(), str::to_string);
        // An unknown preset is bad input (exit 2), not a failed run.
        match loopguard::run::resolve_preset(s, &preset) {
            Ok(p) => jobs.push(Job {
                scenario: s,
                preset,
                preset_name: p.name,
                seed,
            }),
            Err(e) => bad.push(BadInput {
                file: s.source.display().to_string(),
                message: format!("{}: {e}", s.source.display()),
            }),
        }
    }
    print_bad_inputs(&bad);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let isolation = Isolation {
        limits,
        engine,
        stop: signals::install().context("installing the SIGINT/SIGTERM handlers")?,
    };
    let out_dir = OutDir::prepare(out);
    let console = Console::new(&jobs, true);
    let order: Vec<usize> = (0..jobs.len()).collect();
    let outcomes = run_jobs(
        &jobs,
        &order,
        workers,
        &out_dir.path,
        &isolation,
        &console,
        super::HEARTBEAT,
    );
    let elapsed = console.finish();
    print_recap(&outcomes, &bad, elapsed);
    if let Some(code) = batch_failure(&out_dir, Ok(()), &isolation, jobs.len(), &outcomes) {
        return Ok(code);
    }
    for o in &outcomes {
        if let Outcome::Done(r) = o {
            anstream::println!(
                "{}: {}",
                r.summary.run,
                shell_quote(
                    &out.join(&r.summary.run)
                        .join("trace.csv")
                        .display()
                        .to_string()
                )
            );
        }
    }
    if !outcomes.is_empty() {
        anstream::println!(
            "report: `loopguard report {}` rebuilds it over every run folder there",
            shell_quote(&out.display().to_string())
        );
    }
    let all_pass = outcomes.iter().all(Outcome::passed);
    Ok(exit_code(!bad.is_empty(), all_pass))
}
