//! The command line: argument parsing and one module per command.

mod batch;
mod check;
mod console;
mod duration;
mod explore;
mod help;
mod import;
mod isolate;
mod outdir;
mod presets;
mod replay;
mod report;
mod run;
mod select;
mod signals;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use loopguard::sim::Engine;

/// How often a batch whose output is not a terminal prints a progress line.
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(10);

#[derive(Debug, Parser)]
#[command(
    name = "loopguard",
    version,
    about = "Deterministic chaos tests for WhatsApp connection supervisors",
    after_help = help::MAIN
)]
pub struct Cli {
    /// Colour: `auto` (at a terminal, unless NO_COLOR is set), `always`, `never`.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto)]
    color: ColorWhen,
    #[command(subcommand)]
    command: Command,
}

/// When the console is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorWhen {
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    /// Sets the choice every `anstream` print follows. `auto` leaves it to
    /// anstream: a terminal, `NO_COLOR` unset (and `CLICOLOR_FORCE` forces).
    fn apply(self) {
        let choice = match self {
            ColorWhen::Auto => anstream::ColorChoice::Auto,
            ColorWhen::Always => anstream::ColorChoice::Always,
            ColorWhen::Never => anstream::ColorChoice::Never,
        };
        choice.write_global();
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenario files, each with one preset.
    #[command(after_help = help::RUN)]
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
    /// Run every scenario with every preset its `[expect]` names: the CI gate.
    #[command(after_help = help::CHECK)]
    Check {
        /// Scenario files, or folders of them (their `*.toml`, then those of
        /// their `found/` subfolder).
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
        #[arg(long, default_value = "reports")]
        out: PathBuf,
        /// Parallel runs (default: all cores).
        #[arg(long)]
        jobs: Option<usize>,
        /// Keep only runs whose scenario name, preset or `<scenario>.<preset>`
        /// matches GLOB; repeat for more (any one matching keeps a run).
        #[arg(long, value_name = "GLOB")]
        filter: Vec<String>,
        /// Print the plan (each run, its file and seed, in the order they
        /// start: longest first) without running it.
        #[arg(long)]
        list: bool,
        /// How often a progress line is printed when the output is not a
        /// terminal (`0s`: never).
        #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
        heartbeat: Duration,
        #[command(flatten)]
        limits: isolate::RunLimitsArgs,
        /// Engine that moves bytes and time.
        #[arg(long, value_enum, default_value_t = Engine::Turmoil)]
        engine: Engine,
    },
    /// Swarm fault schedules from a range of seeds (or for a time budget);
    /// the first seed of each distinct failure is shrunk to the smallest
    /// scenario file that still fails, written under `--found`.
    #[command(after_help = help::EXPLORE)]
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
    #[command(after_help = help::REPLAY)]
    Replay {
        /// A run folder (holding summary.json and trace.csv).
        run_dir: PathBuf,
    },
    /// Turn production logs into a scenario file that replays what the
    /// outside world did (closes, rival logins, network losses, pairing).
    #[command(after_help = help::IMPORT)]
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
    #[command(after_help = help::PRESETS)]
    Presets,
    /// Print the scenario format's JSON Schema (the committed
    /// scenario.schema.json): `loopguard schema > scenario.schema.json`.
    #[command(after_help = help::SCHEMA)]
    Schema,
    /// Rebuild the stability report, JUnit and summary.json from run folders,
    /// merging several; several explore batch folders (the shards of a CI
    /// matrix) merge as explore batches.
    #[command(after_help = help::REPORT)]
    Report {
        /// Output directories holding run folders (or explore batches).
        #[arg(default_value = "reports")]
        dirs: Vec<PathBuf>,
        /// Where the merged report goes (default: the first DIR).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print shell completions for SHELL on stdout.
    #[command(after_help = help::COMPLETIONS)]
    Completions { shell: clap_complete::Shell },
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

/// An error and its causes on one line, each cause once: a library error
/// that already names its source in its text does not get it repeated.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
    }
    text
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
    cli.color.apply();
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
            paths,
            out,
            jobs,
            filter,
            list,
            heartbeat,
            limits,
            engine,
        } => check::check(check::CheckArgs {
            paths: &paths,
            out: &out,
            jobs,
            filter: &filter,
            list,
            heartbeat,
            limits,
            engine,
        }),
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
        Command::Report { dirs, out } => report::report(&dirs, out.as_deref()),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "loopguard",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
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
