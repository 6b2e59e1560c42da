//! `loopguard replay RUN_DIR`: re-run a finished run from its own folder and
//! compare the new trace with the stored one, byte for byte.
//!
//! The folder is self-contained: the run uses the folder's copy of its
//! scenario (`scenario.toml`) and of its resolved policy (`policy.toml`),
//! each checked against the SHA-256 in `summary.json`, so replay works from
//! any directory and whatever became of the original files. Folders written
//! before the copies existed fall back to the scenario path and preset
//! named in the summary. An incomplete folder is refused (exit 2).

use std::path::Path;
use std::process::ExitCode;

use loopguard::output::{escape_control, sha256_hex};
use loopguard::report::{load_complete_run, RunSummary};
use loopguard::run::{execute_with, policy_for};
use loopguard::scenario::{self, Scenario};
use loopguard::sim::Engine;
use loopguard::supervisor::policy::Policy;
use loopguard::trace::{write_trace, TraceGuard};

/// Rows shown on each side when the traces differ.
const DIFF_ROWS: usize = 5;

pub fn replay(run_dir: &Path) -> anyhow::Result<ExitCode> {
    let (summary, _) = match load_complete_run(run_dir) {
        Ok(run) => run,
        Err(why) => {
            eprintln!("{}: not a complete run folder: {why}", run_dir.display());
            return Ok(ExitCode::from(2));
        }
    };
    let stored_path = run_dir.join("trace.csv");
    let stored = std::fs::read(&stored_path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", stored_path.display()))?;
    let (scenario, policy) = match inputs(run_dir, &summary) {
        Ok(inputs) => inputs,
        Err(e) => {
            eprintln!("{}", escape_control(&e));
            return Ok(ExitCode::from(2));
        }
    };
    // The replay command names the engine when it is not turmoil (see
    // `run::execute_with`), so the run is replayed on the engine it ran on.
    let engine = if summary.replay.ends_with("--engine fast") {
        Engine::Fast
    } else {
        Engine::Turmoil
    };
    let result = execute_with(
        engine,
        &scenario,
        &summary.preset,
        &policy,
        Some(summary.seed),
        TraceGuard::default(),
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
    print!("{}", side_by_side(&stored, &fresh));
    println!("the run is not deterministic, or loopguard changed since it was written");
    Ok(ExitCode::from(1))
}

/// The scenario and policy the run used: the folder's copies when it has
/// them (each checked against its hash), else the summary's path and preset.
fn inputs(run_dir: &Path, summary: &RunSummary) -> Result<(Scenario, Policy), String> {
    let Some(files) = &summary.files else {
        let scenario = scenario::load(Path::new(&summary.source)).map_err(|e| e.to_string())?;
        let policy = policy_for(&scenario, &summary.preset).map_err(|e| e.to_string())?;
        return Ok((scenario, policy));
    };
    let read = |name: &str, want: &str| -> Result<(std::path::PathBuf, String), String> {
        let path = run_dir.join(name);
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if sha256_hex(&bytes) != want {
            return Err(format!(
                "{}: does not match the SHA-256 in summary.json",
                path.display()
            ));
        }
        let text =
            String::from_utf8(bytes).map_err(|e| format!("{}: not UTF-8: {e}", path.display()))?;
        Ok((path, text))
    };
    let (scenario_path, scenario_text) = read(&files.scenario, &files.scenario_sha256)?;
    let (policy_path, policy_text) = read(&files.policy, &files.policy_sha256)?;
    let mut scenario =
        scenario::parse(&scenario_path, &scenario_text).map_err(|e| e.to_string())?;
    // The copy's file name is not the original's: keep the run's names.
    scenario.name = summary.scenario.clone();
    scenario.source = summary.source.clone().into();
    let policy: Policy =
        toml::from_str(&policy_text).map_err(|e| format!("{}: {e}", policy_path.display()))?;
    Ok((scenario, policy))
}

/// The first rows that differ, stored on the left and fresh on the right,
/// each numbered by its line in `trace.csv`.
fn side_by_side(stored: &[u8], fresh: &[u8]) -> String {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let (stored, fresh) = (text(stored), text(fresh));
    let a: Vec<&str> = stored.lines().collect();
    let b: Vec<&str> = fresh.lines().collect();
    let first = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let width = a
        .iter()
        .skip(first)
        .take(DIFF_ROWS)
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0)
        .clamp("stored trace.csv".len(), 90);
    let mut out = format!(
        "traces differ from line {} on ({} rows stored, {} fresh):\n",
        first + 1,
        a.len(),
        b.len()
    );
    out.push_str(&format!(
        "{:>7}  {:<width$}  | {}\n",
        "line", "stored trace.csv", "this replay"
    ));
    for i in first..(first + DIFF_ROWS).min(a.len().max(b.len())) {
        let left = escape_control(a.get(i).copied().unwrap_or("(no row)")).into_owned();
        let right = escape_control(b.get(i).copied().unwrap_or("(no row)")).into_owned();
        let mark = if left == right { ' ' } else { '≠' };
        out.push_str(&format!("{:>7}{mark} {left:<width$}  | {right}\n", i + 1));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_differing_rows_are_shown_side_by_side_with_their_line_numbers() {
        let stored = b"time_ms,host\n1,a\n2,b\n3,c\n";
        let fresh = b"time_ms,host\n1,a\n2,x\n3,c\n";
        let shown = side_by_side(stored, fresh);
        assert!(shown.starts_with("traces differ from line 3 on (4 rows stored, 4 fresh):\n"));
        assert!(shown.contains("      3≠ 2,b"), "{shown}");
        assert!(shown.contains("| 2,x\n"), "{shown}");
        assert!(shown.contains("      4  3,c"), "{shown}");
    }
}
