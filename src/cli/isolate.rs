//! Run isolation: every run of a batch is a child process.
//!
//! `check` and `run` start `loopguard worker` (a hidden subcommand) once per
//! run. The worker makes the run straight into its folder (see
//! `loopguard::run::run_into`) and reports on its stdout, one JSON object a
//! line: its progress in virtual time, then how it ended. The batch reads
//! them and decides the run's fate:
//!
//! - the worker reports `done`: the batch reads the finished folder back;
//! - the worker reports a panic (caught around the whole run: supervisor,
//!   endpoint, oracle, report writing), or dies without a report (abort,
//!   stack overflow, a signal): verdict `crashed`, with the panic message;
//! - the worker passes `--run-timeout` of wall-clock time, or reports no
//!   progress for [`STALL_TIMEOUT`] (or the run timeout, if shorter): it is
//!   killed, verdict `hung`;
//! - the batch is interrupted (SIGINT, SIGTERM): running workers are killed,
//!   verdict `interrupted`.
//!
//! Why a process and not a thread with `catch_unwind`: a run stuck in a busy
//! loop never returns to any code that could stop it, and a thread cannot be
//! killed from outside; a process can, and its memory goes with it. The cost
//! is a process start per run (milliseconds against runs of seconds).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use loopguard::report::{self, RunMetrics, RunSummary, Verdict};
use loopguard::run::{run_into, unfinished_summary, write_unfinished, RunError};
use loopguard::scenario::{self, Scenario};
use loopguard::sim::Engine;
use loopguard::trace::guard::{DEFAULT_MAX_EVENTS, DEFAULT_MAX_EVENTS_PER_MINUTE};
use loopguard::trace::TraceCaps;
use serde::{Deserialize, Serialize};

/// A run that reports no progress for this long is judged `hung`.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(60);
/// `--run-timeout`'s default.
pub const DEFAULT_RUN_TIMEOUT: &str = "10m";

/// The per-run limits of a batch, as the command line gives them.
#[derive(Debug, Clone, Args)]
pub struct RunLimitsArgs {
    /// Wall-clock limit of one run; past it the run is stopped and judged
    /// `hung`. A run that reports no progress for 60 s (or this, if shorter)
    /// is judged `hung` too.
    #[arg(long, default_value = DEFAULT_RUN_TIMEOUT, value_parser = humantime::parse_duration)]
    pub run_timeout: Duration,
    /// Trace events one run may record in all before it is stopped and
    /// judged `runaway`.
    #[arg(long, default_value_t = DEFAULT_MAX_EVENTS)]
    pub max_trace_events: u64,
    /// Trace events one virtual minute of a run may record before it is
    /// stopped and judged `runaway`.
    #[arg(long, default_value_t = DEFAULT_MAX_EVENTS_PER_MINUTE)]
    pub max_trace_events_per_minute: u64,
}

impl RunLimitsArgs {
    fn caps(&self) -> TraceCaps {
        TraceCaps {
            max_events: self.max_trace_events,
            max_events_per_minute: self.max_trace_events_per_minute,
        }
    }
}

/// What every run of a batch shares: its limits and the batch's stop flag.
pub struct Isolation {
    pub limits: RunLimitsArgs,
    /// The engine every worker runs on.
    pub engine: Engine,
    /// Set by SIGINT/SIGTERM: start no new run, stop the running ones.
    pub stop: Arc<AtomicBool>,
}

impl Isolation {
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// How an isolated run ended, as the batch sees it.
pub enum RunEnd {
    /// Its folder is written; summary and metrics read back from it.
    Written(Box<RunSummary>, Box<RunMetrics>),
    /// It could not be made (bad policy, unwritable folder…).
    Error(RunError),
}

/// One line of a worker's report.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Report {
    Progress { virtual_ms: u64 },
    Done { dir: PathBuf },
    Error { message: String },
    Panic { message: String },
}

/// Makes one run in a worker process under `isolation`'s limits.
pub fn run_isolated(
    scenario: &Scenario,
    preset: &str,
    seed: Option<u64>,
    out: &Path,
    isolation: &Isolation,
    progress: &mut dyn FnMut(Duration),
) -> RunEnd {
    let unfinished = |verdict: Verdict, why: String| {
        let summary = unfinished_summary(scenario, preset, seed, verdict, why);
        written_unfinished(out, summary)
    };
    let mut child = match spawn_worker(
        scenario,
        preset,
        seed,
        out,
        &isolation.limits,
        isolation.engine,
    ) {
        Ok(c) => c,
        Err(e) => {
            return RunEnd::Error(RunError::Isolation(format!(
                "cannot start a worker process: {e}"
            )))
        }
    };
    let lines = read_lines(child.stdout.take());
    let stderr_tail = keep_tail(child.stderr.take());
    let started = Instant::now();
    let mut last_progress = Instant::now();
    let stall = STALL_TIMEOUT.min(isolation.limits.run_timeout);
    let mut ended: Option<Report> = None;
    let fate = loop {
        match lines.recv_timeout(Duration::from_millis(50)) {
            Ok(Report::Progress { virtual_ms }) => {
                last_progress = Instant::now();
                progress(Duration::from_millis(virtual_ms));
            }
            Ok(report) => ended = Some(report),
            Err(RecvTimeoutError::Disconnected) => break None,
            Err(RecvTimeoutError::Timeout) => {}
        }
        if isolation.stopping() {
            break Some((
                Verdict::Interrupted,
                "the batch was interrupted (SIGINT or SIGTERM) while this run was going; \
                 it was stopped"
                    .to_string(),
            ));
        }
        if started.elapsed() > isolation.limits.run_timeout {
            break Some((
                Verdict::Hung,
                format!(
                    "the run passed its wall-clock limit (--run-timeout {}) and was stopped",
                    humantime::format_duration(isolation.limits.run_timeout)
                ),
            ));
        }
        if last_progress.elapsed() > stall {
            break Some((
                Verdict::Hung,
                format!(
                    "the run made no progress for {} of wall-clock time and was stopped",
                    humantime::format_duration(stall)
                ),
            ));
        }
    };
    if let Some((verdict, why)) = fate {
        let _ = child.kill();
        let _ = child.wait();
        return unfinished(verdict, why);
    }
    let status = child.wait();
    // Whatever the worker said last before its stdout closed.
    while let Ok(report) = lines.try_recv() {
        if !matches!(report, Report::Progress { .. }) {
            ended = Some(report);
        }
    }
    match ended {
        Some(Report::Done { dir }) => read_back(&dir),
        Some(Report::Error { message }) => RunEnd::Error(RunError::Isolation(message)),
        Some(Report::Panic { message }) => {
            unfinished(Verdict::Crashed, format!("the run panicked: {message}"))
        }
        Some(Report::Progress { .. }) | None => {
            if isolation.stopping() || killed_by_interrupt(&status) {
                return unfinished(
                    Verdict::Interrupted,
                    "the batch was interrupted (SIGINT or SIGTERM) while this run was going"
                        .to_string(),
                );
            }
            let tail = stderr_tail.lock().map(|t| t.clone()).unwrap_or_default();
            unfinished(
                Verdict::Crashed,
                format!(
                    "the run's worker process died ({}) without a result; its last words: {}",
                    describe(&status),
                    last_line(&tail)
                ),
            )
        }
    }
}

fn written_unfinished(out: &Path, summary: RunSummary) -> RunEnd {
    match write_unfinished(out, &summary) {
        Ok(_) => {
            let metrics = report::run_metrics(&summary, &[]);
            RunEnd::Written(Box::new(summary), Box::new(metrics))
        }
        Err(e) => RunEnd::Error(e),
    }
}

/// The finished folder's summary, and the metrics of its trace.
fn read_back(dir: &Path) -> RunEnd {
    match report::load_run(dir) {
        Ok((summary, trace)) => {
            let metrics = report::run_metrics(&summary, &trace);
            RunEnd::Written(Box::new(summary), Box::new(metrics))
        }
        Err(e) => RunEnd::Error(RunError::Isolation(format!(
            "the run finished but its folder cannot be read back: {e}"
        ))),
    }
}

fn spawn_worker(
    scenario: &Scenario,
    preset: &str,
    seed: Option<u64>,
    out: &Path,
    limits: &RunLimitsArgs,
    engine: Engine,
) -> std::io::Result<Child> {
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.arg("worker")
        .arg(&scenario.source)
        .arg("--preset")
        .arg(preset)
        .arg("--out")
        .arg(out)
        .arg("--engine")
        .arg(engine.name())
        .arg("--max-trace-events")
        .arg(limits.max_trace_events.to_string())
        .arg("--max-trace-events-per-minute")
        .arg(limits.max_trace_events_per_minute.to_string());
    if let Some(seed) = seed {
        cmd.arg("--seed").arg(seed.to_string());
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
}

/// The worker's report lines, parsed, on a channel (lines that are not a
/// report are skipped).
fn read_lines(stdout: Option<impl Read + Send + 'static>) -> mpsc::Receiver<Report> {
    let (tx, rx) = mpsc::channel();
    if let Some(stdout) = stdout {
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(report) = serde_json::from_str::<Report>(&line) {
                    if tx.send(report).is_err() {
                        break;
                    }
                }
            }
        });
    }
    rx
}

/// The last few kilobytes of the worker's stderr.
fn keep_tail(stderr: Option<impl Read + Send + 'static>) -> Arc<Mutex<String>> {
    const KEEP: usize = 4096;
    let tail = Arc::new(Mutex::new(String::new()));
    if let Some(mut stderr) = stderr {
        let tail = tail.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut t) = tail.lock() {
                    t.push_str(&String::from_utf8_lossy(&buf[..n]));
                    if t.len() > 2 * KEEP {
                        let cut = t.len() - KEEP;
                        let cut = (cut..t.len()).find(|i| t.is_char_boundary(*i)).unwrap_or(0);
                        t.drain(..cut);
                    }
                }
            }
        });
    }
    tail
}

fn last_line(text: &str) -> String {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("(nothing on stderr)")
        .to_string()
}

#[cfg(unix)]
fn killed_by_interrupt(status: &std::io::Result<ExitStatus>) -> bool {
    use std::os::unix::process::ExitStatusExt;
    matches!(status.as_ref().ok().and_then(|s| s.signal()), Some(s) if s == signal_hook::consts::SIGINT || s == signal_hook::consts::SIGTERM)
}

#[cfg(not(unix))]
fn killed_by_interrupt(_status: &std::io::Result<ExitStatus>) -> bool {
    false
}

fn describe(status: &std::io::Result<ExitStatus>) -> String {
    match status {
        Ok(s) => s.to_string(),
        Err(e) => format!("status unknown: {e}"),
    }
}

/// `loopguard worker FILE …`: one run, reported on stdout for the batch that
/// started it. Not for people: `check` and `run` start it.
pub fn worker(
    file: &Path,
    preset: &str,
    seed: Option<u64>,
    out: &Path,
    limits: &RunLimitsArgs,
    engine: Engine,
) -> std::process::ExitCode {
    let first_panic: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let hook_slot = first_panic.clone();
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Ok(mut slot) = hook_slot.lock() {
            if slot.is_none() {
                let at = info
                    .location()
                    .map(|l| format!(" (at {}:{})", l.file(), l.line()))
                    .unwrap_or_default();
                *slot = Some(format!("{}{at}", panic_text(info.payload())));
            }
        }
        default_hook(info);
    }));
    let scenario = match scenario::load(file) {
        Ok(s) => s,
        Err(e) => {
            send(&Report::Error {
                message: e.to_string(),
            });
            return std::process::ExitCode::from(2);
        }
    };
    let caps = limits.caps();
    let mut last_sent = Instant::now();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut progress = |at: Duration| {
            if last_sent.elapsed() >= Duration::from_millis(200) {
                last_sent = Instant::now();
                send(&Report::Progress {
                    virtual_ms: loopguard::util::ms(at),
                });
            }
        };
        run_into(engine, out, &scenario, preset, seed, caps, &mut progress)
    }));
    match result {
        Ok(Ok(r)) => {
            send(&Report::Done {
                dir: out.join(&r.summary.run),
            });
            std::process::ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            send(&Report::Error {
                message: e.to_string(),
            });
            std::process::ExitCode::from(1)
        }
        Err(payload) => {
            let message = first_panic
                .lock()
                .ok()
                .and_then(|m| m.clone())
                .unwrap_or_else(|| panic_text(payload.as_ref()));
            send(&Report::Panic { message });
            std::process::ExitCode::from(101)
        }
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

fn send(report: &Report) {
    if let Ok(line) = serde_json::to_string(report) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

/// The exit status a batch ends with before its verdicts count, if any, and
/// the message for it: a `--out` that could not be used or reports that
/// could not be written (2, the path named), or an interrupt (130, with how
/// many runs never started).
pub fn batch_failure(
    out: &super::outdir::OutDir,
    written: anyhow::Result<()>,
    isolation: &Isolation,
    jobs: usize,
    outcomes: &[super::batch::Outcome],
) -> Option<std::process::ExitCode> {
    if let Some(error) = &out.error {
        eprintln!("error: {error}");
        return Some(std::process::ExitCode::from(2));
    }
    if let Err(e) = written {
        eprintln!("error: writing the batch's reports: {e:#}");
        return Some(std::process::ExitCode::from(2));
    }
    if isolation.stopping() {
        eprintln!(
            "interrupted: {} of {jobs} runs reported, {} never started; reports written for \
             what finished",
            outcomes.len(),
            jobs.saturating_sub(outcomes.len())
        );
        return Some(std::process::ExitCode::from(
            super::signals::INTERRUPTED_EXIT,
        ));
    }
    None
}
