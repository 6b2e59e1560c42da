//! `loopguard report DIR...`: the batch's outputs (`index.html`,
//! `report.md`, `junit.xml`, `summary.json`) rebuilt from run folders,
//! several directories merged into one. Explore batches (the shards of a CI
//! matrix) merge as explore batches, and one explore batch keeps its own
//! `summary.json` and `junit.xml` (only its report is rebuilt). Exit 1 when a verdict is not as
//! expected or a run folder is incomplete (named, left out), 2 when a folder
//! is missing or no run is found.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use loopguard::output::escape_control;
use loopguard::report::{merge_into, write_batch};

use super::batch::{write_step_summary, Outcome};
use super::console::{print_bad_inputs, print_recap, run_lines};
use super::{error_text, exit_code, explore};

pub fn report(dirs: &[PathBuf], out: Option<&Path>) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    if let Some(missing) = dirs.iter().find(|d| !d.is_dir()) {
        anstream::eprintln!("error: {}: no such folder", missing.display());
        return Ok(ExitCode::from(2));
    }
    if !dirs.is_empty() && dirs.iter().all(|d| loopguard::explore::batch::is_batch(d)) {
        if dirs.len() > 1 || out.is_some() {
            let out = out.map_or_else(|| dirs[0].clone(), Path::to_path_buf);
            return explore::merge(dirs, &out);
        }
        return explore_batch(&dirs[0]);
    }
    let Some(out) = out.or_else(|| dirs.first().map(PathBuf::as_path)) else {
        anstream::eprintln!("error: no folder of runs given");
        return Ok(ExitCode::from(2));
    };
    let merged = match merge_into(out, dirs) {
        Ok(m) => m,
        Err(e) => {
            anstream::eprintln!("error: {}", error_text(&e.into()));
            return Ok(ExitCode::from(2));
        }
    };
    for bad in &merged.incomplete {
        anstream::eprintln!(
            "INCOMPLETE {}: {} (left out of the report)",
            bad.dir.display(),
            escape_control(&bad.why)
        );
    }
    for d in &merged.duplicates {
        anstream::eprintln!(
            "warning: {}: a run folder of that name is in more than one directory; the last one given is kept",
            escape_control(d)
        );
    }
    if merged.runs.is_empty() {
        let names: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        anstream::eprintln!(
            "error: no runs in {} (a run is a folder holding summary.json and trace.csv)",
            names.join(", ")
        );
        // Incomplete folders alone keep main's status for them: 1.
        return Ok(ExitCode::from(if merged.incomplete.is_empty() {
            2
        } else {
            1
        }));
    }
    if let Err(e) = write_batch(out, &merged.runs, &merged.bad_inputs, None) {
        anstream::eprintln!("error: {}", error_text(&e.into()));
        return Ok(ExitCode::from(2));
    }
    write_step_summary(&merged.runs, &merged.bad_inputs)?;
    print_bad_inputs(&merged.bad_inputs);
    let outcomes: Vec<Outcome> = merged
        .runs
        .iter()
        .map(|r| Outcome::Done(Box::new(r.clone())))
        .collect();
    let width = outcomes.iter().map(|o| o.name().len()).max().unwrap_or(0);
    for o in &outcomes {
        for l in run_lines(o, width) {
            anstream::println!("{l}");
        }
    }
    print_recap(&outcomes, &merged.bad_inputs, started.elapsed());
    anstream::println!(
        "{} runs; report: {}",
        merged.runs.len(),
        out.join("index.html").display()
    );
    let all_pass = outcomes.iter().all(Outcome::passed) && merged.incomplete.is_empty();
    Ok(exit_code(!merged.bad_inputs.is_empty(), all_pass))
}

/// One explore batch: its stability report rebuilt over its complete run
/// folders; its own `summary.json` and `junit.xml` (seeds, failing seeds,
/// minimal files) are left as `explore` wrote them. Each incomplete folder
/// is named with the reason, and makes the exit status 1.
fn explore_batch(dir: &Path) -> anyhow::Result<ExitCode> {
    let (n, incomplete) = loopguard::report::rebuild_checked(dir)?;
    for bad in &incomplete {
        anstream::eprintln!(
            "INCOMPLETE {}: {} (left out of the report)",
            bad.dir.display(),
            escape_control(&bad.why)
        );
    }
    anstream::println!("{n} runs; report: {}", dir.join("index.html").display());
    Ok(if incomplete.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
