//! Running a batch of (scenario, preset) jobs in parallel, writing each
//! run's folder as soon as it finishes, then the batch's JUnit and report.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use loopguard::report::{self, RunMetrics, RunSummary};
use loopguard::run::RunError;
use loopguard::scenario::Scenario;

use super::isolate::{run_isolated, Isolation, RunEnd};

/// One run to make.
pub struct Job<'a> {
    pub scenario: &'a Scenario,
    pub preset: String,
    pub seed: Option<u64>,
}

/// How one job ended.
pub enum Outcome {
    Done(Box<RunSummary>, Box<RunMetrics>),
    Failed { job: String, error: RunError },
}

/// Runs `jobs` on `workers` threads, each run in its own worker process
/// (see `isolate`), writing every run's folder under `out`. Results come
/// back in job order; once `isolation` is stopping, no new run starts and
/// the jobs never started are left out.
pub fn run_jobs(
    jobs: &[Job<'_>],
    workers: usize,
    out: &Path,
    isolation: &Isolation,
) -> Vec<Outcome> {
    let total_ms: u64 = jobs
        .iter()
        .map(|j| loopguard::util::ms(j.scenario.run_length()))
        .sum();
    let bar = ProgressBar::new(total_ms.max(1));
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {percent}% virtual time, {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    let done = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..workers.max(1).min(jobs.len().max(1)) {
            s.spawn(|| loop {
                if isolation.stopping() {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                let mut reported = 0u64;
                let mut progress = |at: Duration| {
                    let ms = loopguard::util::ms(at);
                    bar.inc(ms.saturating_sub(reported));
                    reported = reported.max(ms);
                };
                let name = format!("{} [{}]", job.scenario.name, job.preset);
                let outcome = match run_isolated(
                    job.scenario,
                    &job.preset,
                    job.seed,
                    out,
                    isolation,
                    &mut progress,
                ) {
                    RunEnd::Written(summary, metrics) => Outcome::Done(summary, metrics),
                    RunEnd::Error(error) => Outcome::Failed { job: name, error },
                };
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                bar.set_message(format!("{n}/{} runs", jobs.len()));
                if let Ok(mut slots) = results.lock() {
                    slots[i] = Some(outcome);
                }
            });
        }
    });
    bar.finish_and_clear();
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

/// Writes `junit.xml` and the stability report for the runs of this batch.
pub fn write_batch_outputs(
    out: &Path,
    outcomes: &[Outcome],
    bad_inputs: &[String],
) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)?;
    let runs: Vec<(RunSummary, RunMetrics)> = outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Done(s, m) => Some((RunSummary::clone(s), RunMetrics::clone(m))),
            Outcome::Failed { .. } => None,
        })
        .collect();
    let summaries: Vec<RunSummary> = runs.iter().map(|(s, _)| s.clone()).collect();
    let mut errors: Vec<String> = bad_inputs.to_vec();
    errors.extend(outcomes.iter().filter_map(|o| match o {
        Outcome::Failed { job, error } => Some(format!("{job}: {error}")),
        Outcome::Done(..) => None,
    }));
    let junit = out.join("junit.xml");
    report::write_junit(&junit, &summaries, &errors)
        .map_err(|e| anyhow::anyhow!("{}: {e}", junit.display()))?;
    report::write_stability_report(out, &runs)?;
    Ok(())
}
