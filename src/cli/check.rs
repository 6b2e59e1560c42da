//! `loopguard check [PATH...]`: every scenario × every preset its
//! `[expect]` names, in parallel (each run in its own worker process), each
//! run's line printed as it finishes; exit 0 only when every verdict is as
//! expected.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use loopguard::output::shell_quote;
use loopguard::report::RunTiming;
use loopguard::sim::Engine;

use super::batch::{run_jobs, unix_ms, write_batch_outputs, Outcome};
use super::console::{print_bad_inputs, print_recap, Console};
use super::isolate::{batch_failure, Isolation, RunLimitsArgs};
use super::outdir::OutDir;
use super::select::{load_paths, longest_first, plan, plan_line, Filter};
use super::{exit_code, signals};

/// What `check` was asked to do.
pub struct CheckArgs<'a> {
    pub paths: &'a [PathBuf],
    pub out: &'a Path,
    pub jobs: Option<usize>,
    pub filter: &'a [String],
    pub list: bool,
    pub heartbeat: Duration,
    pub limits: RunLimitsArgs,
    pub engine: Engine,
}

pub fn check(args: CheckArgs<'_>) -> anyhow::Result<ExitCode> {
    let filter = match Filter::new(args.filter) {
        Ok(f) => f,
        Err(e) => {
            anstream::eprintln!("error: --filter: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let mut loaded = load_paths(args.paths);
    let (job_list, unknown_presets) = plan(&loaded.scenarios, &filter);
    loaded.bad.extend(unknown_presets);
    print_bad_inputs(&loaded.bad);
    if job_list.is_empty() && loaded.bad.is_empty() {
        let what = if loaded.scenarios.is_empty() {
            "no scenario files".to_string()
        } else {
            format!(
                "--filter kept none of the runs of {} scenarios",
                loaded.scenarios.len()
            )
        };
        let paths: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
        anstream::eprintln!("error: {what} in {}", paths.join(", "));
        return Ok(ExitCode::from(2));
    }
    let workers = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let order = longest_first(&job_list);
    if args.list {
        // The runs in the order they start (longest first).
        anstream::println!("{}", plan_line(&job_list));
        for &i in &order {
            let j = &job_list[i];
            anstream::println!(
                "{}  {}  seed {}",
                loopguard::output::escape_control(&j.name()),
                shell_quote(&j.scenario.source.display().to_string()),
                j.seed.unwrap_or(j.scenario.seed)
            );
        }
        return Ok(exit_code(!loaded.bad.is_empty(), true));
    }
    anstream::println!(
        "{}, {} at a time",
        plan_line(&job_list),
        workers.min(job_list.len().max(1))
    );
    let isolation = Isolation {
        limits: args.limits,
        engine: args.engine,
        stop: signals::install().context("installing the SIGINT/SIGTERM handlers")?,
    };
    let out_dir = OutDir::prepare(args.out);
    let started_at = SystemTime::now();
    let console = Console::new(&job_list, true);
    let outcomes = run_jobs(
        &job_list,
        &order,
        workers,
        &out_dir.path,
        &isolation,
        &console,
        args.heartbeat,
    );
    let elapsed = console.finish();
    let timing = RunTiming {
        started_unix_ms: unix_ms(started_at),
        wall_ms: loopguard::util::ms(elapsed),
    };
    let written = match &out_dir.error {
        Some(_) => Ok(()),
        None => write_batch_outputs(args.out, &outcomes, &loaded.bad, timing),
    };
    print_recap(&outcomes, &loaded.bad, elapsed);
    if let Some(code) = batch_failure(&out_dir, written, &isolation, job_list.len(), &outcomes) {
        return Ok(code);
    }
    anstream::println!(
        "junit: {}",
        shell_quote(&args.out.join("junit.xml").display().to_string())
    );
    anstream::println!(
        "report: {}",
        shell_quote(&args.out.join("index.html").display().to_string())
    );
    let all_pass = outcomes.iter().all(Outcome::passed);
    Ok(exit_code(!loaded.bad.is_empty(), all_pass))
}
