//! The command line: argument parsing and one module per command.

mod batch;
mod check;
mod console;
mod explore;
mod isolate;
mod outdir;
mod replay;
mod run;
mod signals;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "loopguard",
    version,
    about = "Deterministic chaos tests for WhatsApp connection supervisors"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenario files, each with one preset.
    Run {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Supervisor preset (default: the scenario's `supervisor.preset`).
        #[arg(long)]
        preset: Option<String>,
        /// Seed (default: the scenario's).
        #[arg(long)]
        seed: Option<u64>,
        /// Output directory.
        #[arg(long, default_value = "reports")]
        out: PathBuf,
        #[command(flatten)]
        limits: isolate::RunLimitsArgs,
    },
    /// Run every scenario in DIR with every preset its `[expect]` names: the CI gate.
    Check {
        #[arg(default_value = "scenarios")]
        dir: PathBuf,
        #[arg(long, default_value = "reports")]
        out: PathBuf,
        /// Parallel runs (default: all cores).
        #[arg(long)]
        jobs: Option<usize>,
        #[command(flatten)]
        limits: isolate::RunLimitsArgs,
    },
    /// Random fault schedules from a range of seeds; each failing one is shrunk
    /// to the smallest scenario file that still fails.
    Explore {
        /// Supervisor preset every schedule runs with (it must hold every invariant).
        #[arg(long, default_value = "stable")]
        preset: String,
        /// Seeds, both ends included: `1..100`, `1..=100` or `7`.
        #[arg(long, default_value = "1..100")]
        seeds: String,
        /// Where the minimal scenarios (`explore-<seed>.toml`) and their runs go.
        #[arg(long, default_value = "reports/explore")]
        out: PathBuf,
        /// Parallel runs (default: all cores).
        #[arg(long)]
        jobs: Option<usize>,
    },
    /// Re-run a finished run from its folder and compare the traces byte for byte.
    Replay {
        /// A run folder (holding summary.json and trace.csv).
        run_dir: PathBuf,
    },
    /// Rebuild the stability report from existing run folders.
    Report {
        #[arg(default_value = "reports")]
        dir: PathBuf,
    },
    /// One run in its own process, reported on stdout as JSON lines: what
    /// `check` and `run` start per run (see src/cli/isolate.rs).
    #[command(hide = true)]
    Worker {
        file: PathBuf,
        #[arg(long)]
        preset: String,
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        limits: isolate::RunLimitsArgs,
    },
}

/// Exit status of a batch of runs.
pub(crate) fn exit_code(bad_input: bool, all_as_expected: bool) -> ExitCode {
    if bad_input {
        ExitCode::from(2)
    } else if all_as_expected {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `loopguard report DIR`: the report over the complete run folders; each
/// incomplete one is named with the reason, and makes the exit status 1.
fn report(dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    let (n, incomplete) = loopguard::report::rebuild_checked(dir)?;
    for bad in &incomplete {
        eprintln!(
            "INCOMPLETE {}: {} (left out of the report)",
            bad.dir.display(),
            bad.why
        );
    }
    println!("{n} runs; report: {}", dir.join("index.html").display());
    Ok(if incomplete.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run {
            files,
            preset,
            seed,
            out,
            limits,
        } => run::run(&files, preset.as_deref(), seed, &out, limits),
        Command::Check {
            dir,
            out,
            jobs,
            limits,
        } => check::check(&dir, &out, jobs, limits),
        Command::Explore {
            preset,
            seeds,
            out,
            jobs,
        } => explore::explore(&preset, &seeds, &out, jobs),
        Command::Replay { run_dir } => replay::replay(&run_dir),
        Command::Report { dir } => report(&dir),
        Command::Worker {
            file,
            preset,
            seed,
            out,
            limits,
        } => Ok(isolate::worker(&file, &preset, seed, &out, &limits)),
    }
}
