//! `loopguard replay RUN_DIR`: re-run a finished run from its summary and
//! compare the new trace with the stored one, byte for byte.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use loopguard::report::RunSummary;
use loopguard::run::execute_on;
use loopguard::scenario;
use loopguard::sim::Engine;
use loopguard::trace::write_trace;

pub fn replay(run_dir: &Path) -> anyhow::Result<ExitCode> {
    let summary_path = run_dir.join("summary.json");
    let summary: RunSummary = serde_json::from_str(
        &std::fs::read_to_string(&summary_path)
            .with_context(|| format!("{}", summary_path.display()))?,
    )
    .with_context(|| format!("{}", summary_path.display()))?;
    let stored_path = run_dir.join("trace.csv");
    let stored =
        std::fs::read(&stored_path).with_context(|| format!("{}", stored_path.display()))?;
    let scenario = match scenario::load(Path::new(&summary.source)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(2));
        }
    };
    // A fast-engine run says so in its replay command.
    let engine = if summary.replay.ends_with("--engine fast") {
        Engine::Fast
    } else {
        Engine::Turmoil
    };
    let result = execute_on(
        engine,
        &scenario,
        &summary.preset,
        Some(summary.seed),
        &mut |_| {},
    )?;
    let mut fresh = Vec::new();
    write_trace(&mut fresh, &result.trace)?;
    if fresh == stored {
        println!(
            "identical: {} rows, {} bytes ({})",
            result.trace.len(),
            fresh.len(),
            summary.replay
        );
        return Ok(ExitCode::SUCCESS);
    }
    let line = fresh
        .split(|b| *b == b'\n')
        .zip(stored.split(|b| *b == b'\n'))
        .position(|(a, b)| a != b)
        .map_or(0, |i| i + 1);
    println!(
        "traces differ from line {line} on: the run is not deterministic or the scenario changed"
    );
    Ok(ExitCode::from(1))
}
