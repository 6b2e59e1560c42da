//! Running a batch of (scenario, preset) jobs in parallel, each in its own
//! worker process (see `isolate`), printing each run's line the moment it
//! finishes, then writing the batch's outputs.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use loopguard::report::{self, BadInput, FinishedRun, RunTiming, Verdict};
use loopguard::run::RunError;
use loopguard::scenario::Scenario;

use super::console::Console;
use super::isolate::{run_isolated, Isolation, RunEnd};

/// One run to make.
pub struct Job<'a> {
    pub scenario: &'a Scenario,
    /// As given: a preset name or a preset file.
    pub preset: String,
    /// The preset's own name, as the run's summary and folder give it.
    pub preset_name: String,
    pub seed: Option<u64>,
}

impl Job<'_> {
    /// `scenario [preset]`, as the console names a run.
    pub fn name(&self) -> String {
        format!("{} [{}]", self.scenario.name, self.preset_name)
    }
}

/// How one job ended.
pub enum Outcome {
    Done(Box<FinishedRun>),
    Failed { job: String, error: RunError },
}

impl Outcome {
    /// A run that came out as its scenario expects.
    pub fn passed(&self) -> bool {
        matches!(self, Outcome::Done(r) if r.summary.verdict == Verdict::Pass)
    }

    pub fn name(&self) -> String {
        match self {
            Outcome::Done(r) => format!("{} [{}]", r.summary.scenario, r.summary.preset),
            Outcome::Failed { job, .. } => job.clone(),
        }
    }
}

/// Wall-clock milliseconds since the Unix epoch (console and JUnit only).
pub fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, loopguard::util::ms)
}

/// Runs `jobs` on `workers` threads, each run in its own worker process,
/// starting them in `order` (indices into `jobs`; see
/// `select::longest_first`), writing every run's folder under `out` and
/// printing its line on `console` at once; while they run, a heartbeat every
/// `heartbeat` when the console has no bar. Results come back in job order
/// (not start order); once `isolation` is stopping, no new run starts and
/// the jobs never started are left out.
pub fn run_jobs(
    jobs: &[Job<'_>],
    order: &[usize],
    workers: usize,
    out: &Path,
    isolation: &Isolation,
    console: &Console,
    heartbeat: Duration,
) -> Vec<Outcome> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::scope(|s| {
        if console.wants_heartbeat() && !heartbeat.is_zero() {
            s.spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(heartbeat) {
                    console.heartbeat();
                }
            });
        }
        let workers: Vec<_> = (0..workers.max(1).min(jobs.len().max(1)))
            .map(|_| {
                s.spawn(|| loop {
                    if isolation.stopping() {
                        break;
                    }
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = order.get(n) else { break };
                    let Some(job) = jobs.get(i) else { break };
                    console.started(i);
                    let outcome = run_one(job, out, isolation, console);
                    console.finished(i, &outcome);
                    if let Ok(mut slots) = results.lock() {
                        slots[i] = Some(outcome);
                    }
                })
            })
            .collect();
        for w in workers {
            let _ = w.join();
        }
        drop(stop);
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

fn run_one(job: &Job<'_>, out: &Path, isolation: &Isolation, console: &Console) -> Outcome {
    let started_at = SystemTime::now();
    let clock = Instant::now();
    let mut reported = 0u64;
    let mut progress = |at: Duration| {
        let ms = loopguard::util::ms(at);
        console.advanced(ms.saturating_sub(reported));
        reported = reported.max(ms);
    };
    let end = run_isolated(
        job.scenario,
        &job.preset,
        job.seed,
        out,
        isolation,
        &mut progress,
    );
    // A run cut short never reports the rest of its virtual time: count it,
    // so the bar and the ETA do not wait for it.
    let length = loopguard::util::ms(job.scenario.run_length());
    console.advanced(length.saturating_sub(reported));
    match end {
        RunEnd::Written(summary, metrics) => {
            let timing = RunTiming {
                started_unix_ms: unix_ms(started_at),
                wall_ms: loopguard::util::ms(clock.elapsed()),
            };
            // The run is written; its timing (kept out of summary.json, so
            // that stays the same for the same seed) is a nicety for JUnit.
            let timing = timing.write(&out.join(&summary.run)).ok().map(|()| timing);
            Outcome::Done(Box::new(FinishedRun {
                summary: *summary,
                metrics: *metrics,
                timing,
            }))
        }
        RunEnd::Error(error) => Outcome::Failed {
            job: job.name(),
            error,
        },
    }
}

/// The finished runs among `outcomes`, and every input that could not be
/// run: refused files, then runs that could not be made (named by job).
pub fn split(outcomes: &[Outcome], bad_inputs: &[BadInput]) -> (Vec<FinishedRun>, Vec<BadInput>) {
    let runs = outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Done(r) => Some(FinishedRun::clone(r)),
            Outcome::Failed { .. } => None,
        })
        .collect();
    let mut errors = bad_inputs.to_vec();
    errors.extend(outcomes.iter().filter_map(|o| match o {
        Outcome::Failed { job, error } => Some(BadInput {
            file: job.clone(),
            message: error.to_string(),
        }),
        Outcome::Done(..) => None,
    }));
    (runs, errors)
}

/// Writes the batch's `index.html`, `report.md`, `junit.xml` and
/// `summary.json`, and the GitHub step summary when
/// `$GITHUB_STEP_SUMMARY` names a file.
pub fn write_batch_outputs(
    out: &Path,
    outcomes: &[Outcome],
    bad_inputs: &[BadInput],
    timing: RunTiming,
) -> anyhow::Result<()> {
    let (runs, errors) = split(outcomes, bad_inputs);
    report::write_batch(out, &runs, &errors, Some(timing))?;
    write_step_summary(&runs, &errors)?;
    Ok(())
}

/// Appends the step summary to `$GITHUB_STEP_SUMMARY` when it is set.
pub fn write_step_summary(runs: &[FinishedRun], errors: &[BadInput]) -> anyhow::Result<()> {
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        report::append_step_summary(Path::new(&path), runs, errors)?;
    }
    Ok(())
}
