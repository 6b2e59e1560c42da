//! The command line: argument parsing and one module per command.

mod batch;
mod check;
mod console;
mod explore;
mod import;
mod isolate;
mod outdir;
mod presets;
mod replay;
mod run;
mod signals;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use loopguard::sim::Engine;

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
        /// Supervisor preset: a name (looked up in the project's presets/,
        /// subfolders included, then the built-ins) or a preset file
        /// (default: the scenario's `supervisor.preset`).
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
        /// Engine that moves bytes and time.
        #[arg(long, value_enum, default_value_t = Engine::Turmoil)]
        engine: Engine,
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
        /// Engine that moves bytes and time.
        #[arg(long, value_enum, default_value_t = Engine::Turmoil)]
        engine: Engine,
    },
    /// Swarm fault schedules from a range of seeds (or for a time budget);
    /// the first seed of each distinct failure is shrunk to the smallest
    /// scenario file that still fails, written under `--found`.
    Explore {
        /// Supervisor preset every schedule runs with (it must hold every
        /// invariant): a name or a preset file.
        #[arg(long, default_value = "stable")]
        preset: String,
        /// Seeds, both ends included: `1..100`, `1..=100` or `7` (default 1..100).
        #[arg(long, conflicts_with = "time")]
        seeds: Option<String>,
        /// Run seeds 1, 2, 3, ... for this long instead (`60s`, `10m`).
        #[arg(long)]
        time: Option<String>,
        /// Where the batch (summary.json, junit.xml, index.html, run folders) goes.
        #[arg(long, default_value = "reports/explore")]
        out: PathBuf,
        /// Where the minimal scenarios go, as regression files `check` runs.
        #[arg(long, default_value = "scenarios/found")]
        found: PathBuf,
        /// Parallel runs (default: all cores).
        #[arg(long)]
        jobs: Option<usize>,
        /// Engine that moves bytes and time.
        #[arg(long, value_enum, default_value_t = Engine::Fast)]
        engine: Engine,
        /// Run only shard I of N (`2/3`): seeds with seed mod N = I - 1.
        #[arg(long)]
        shard: Option<String>,
        /// Run every seed even after a failure (default: stop at the first).
        #[arg(long)]
        keep_going: bool,
        /// Runs proptest's shrinking may spend per failing seed (0: do not
        /// shrink; failures are still reported).
        #[arg(long, default_value_t = 300)]
        shrink_runs: usize,
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
    /// List the presets `--preset NAME` finds: ./presets (subfolders
    /// included), then the built-ins, each with its description.
    Presets,
    /// Print the scenario format's JSON Schema (the committed
    /// scenario.schema.json): `loopguard schema > scenario.schema.json`.
    Schema,
    /// Rebuild the stability report from existing run folders; given several
    /// explore batch folders (the shards of a CI matrix), merge them into `--out`.
    Report {
        #[arg(default_value = "reports")]
        dirs: Vec<PathBuf>,
        /// Where merged batches go (default: the first folder).
        #[arg(long)]
        out: Option<PathBuf>,
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
        #[arg(long, value_enum, default_value_t = Engine::Turmoil)]
        engine: Engine,
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
            engine,
        } => run::run(&files, preset.as_deref(), seed, &out, limits, engine),
        Command::Check {
            dir,
            out,
            jobs,
            limits,
            engine,
        } => check::check(&dir, &out, jobs, limits, engine),
        Command::Explore {
            preset,
            seeds,
            time,
            out,
            found,
            jobs,
            engine,
            shard,
            keep_going,
            shrink_runs,
        } => explore::explore(&explore::ExploreArgs {
            preset,
            seeds,
            time,
            out,
            found,
            jobs,
            engine,
            shard,
            keep_going,
            shrink_runs,
        }),
        Command::Replay { run_dir } => replay::replay(&run_dir),
        Command::Presets => presets::presets(),
        Command::Schema => {
            print!("{}", loopguard::scenario::schema::generate());
            Ok(ExitCode::SUCCESS)
        }
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
        Command::Report { dirs, out } => {
            let batches = dirs.len() > 1 || out.is_some();
            if batches && dirs.iter().all(|d| loopguard::explore::batch::is_batch(d)) {
                let out = out.unwrap_or_else(|| dirs[0].clone());
                return explore::merge(&dirs, &out);
            }
            let Some(dir) = dirs.first().filter(|_| dirs.len() == 1) else {
                eprintln!(
                    "several folders merge only when each is an explore batch (has summary.json)"
                );
                return Ok(ExitCode::from(2));
            };
            report(dir)
        }
        Command::Worker {
            file,
            preset,
            seed,
            out,
            limits,
            engine,
        } => Ok(isolate::worker(&file, &preset, seed, &out, &limits, engine)),
    }
}
