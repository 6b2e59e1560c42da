//! The command line: argument parsing and one module per command.

mod batch;
mod check;
mod console;
mod explore;
mod import;
mod replay;
mod run;

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
    /// Turn production logs into a scenario file that replays what the
    /// outside world did (closes, rival logins, network losses, pairing).
    Import {
        /// Log files: Baileys' pino JSON lines or the reference service's
        /// console lines (other lines are skipped and counted).
        #[arg(required = true)]
        logs: Vec<PathBuf>,
        /// Where the scenario goes (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Only lines in FROM..TO, time since the log's first connection
        /// line: `10m..40m`, `..1h`, `2h..`.
        #[arg(long)]
        window: Option<String>,
        /// TOML file of `"log id" = "scenario id"` (default: user1, user2, …).
        #[arg(long)]
        user_map: Option<PathBuf>,
        /// Run the new scenario and compare it with the log, minute by minute.
        #[arg(long)]
        check: bool,
        /// The preset `--check` runs (the service's buggy configuration).
        #[arg(long, default_value = "legacy")]
        preset: String,
        /// Where `--check` writes its run folder.
        #[arg(long, default_value = "reports/import")]
        report: PathBuf,
    },
    /// Rebuild the stability report from existing run folders.
    Report {
        #[arg(default_value = "reports")]
        dir: PathBuf,
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

pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run {
            files,
            preset,
            seed,
            out,
        } => run::run(&files, preset.as_deref(), seed, &out),
        Command::Check { dir, out, jobs } => check::check(&dir, &out, jobs),
        Command::Explore {
            preset,
            seeds,
            out,
            jobs,
        } => explore::explore(&preset, &seeds, &out, jobs),
        Command::Replay { run_dir } => replay::replay(&run_dir),
        Command::Import {
            logs,
            out,
            window,
            user_map,
            check,
            preset,
            report,
        } => import::import(&import::ImportArgs {
            logs: &logs,
            out: out.as_deref(),
            window: window.as_deref(),
            user_map: user_map.as_deref(),
            check,
            preset: &preset,
            report: &report,
        }),
        Command::Report { dir } => {
            let n = loopguard::report::rebuild(&dir)?;
            println!("{n} runs; report: {}", dir.join("index.html").display());
            Ok(ExitCode::SUCCESS)
        }
    }
}
