//! `loopguard import LOG...`: a production log becomes a scenario file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use loopguard::import::{self, fidelity, write::Provenance, InferOptions, Inference};
use loopguard::run::{execute, write_run};
use loopguard::scenario;

/// What `import` was asked to do.
pub struct ImportArgs<'a> {
    pub logs: &'a [PathBuf],
    pub out: Option<&'a Path>,
    pub window: Option<&'a str>,
    pub user_map: Option<&'a Path>,
    pub check: bool,
    pub preset: &'a str,
    pub report: &'a Path,
}

/// Parses `FROM..TO` (durations since the log's first connection line).
fn parse_window(text: &str) -> Result<(Duration, Duration), import::ImportError> {
    let bad = |message: String| import::ImportError::Window {
        window: text.to_owned(),
        message,
    };
    let (from, to) = text
        .split_once("..")
        .ok_or_else(|| bad("expected FROM..TO, for example 10m..40m".into()))?;
    let from = if from.trim().is_empty() {
        Duration::ZERO
    } else {
        scenario::parse_duration(from.trim()).map_err(|e| bad(format!("FROM: {e}")))?
    };
    let to = if to.trim().is_empty() {
        Duration::MAX
    } else {
        scenario::parse_duration(to.trim()).map_err(|e| bad(format!("TO: {e}")))?
    };
    if to <= from {
        return Err(bad("TO must come after FROM".into()));
    }
    Ok((from, to))
}

pub fn import(args: &ImportArgs<'_>) -> anyhow::Result<ExitCode> {
    let prepared = (|| -> Result<_, import::ImportError> {
        let window = args.window.map(parse_window).transpose()?;
        let user_map = args
            .user_map
            .map(import::user_map::load)
            .transpose()?
            .unwrap_or_default();
        let logs = import::read_logs(args.logs)?;
        Ok((window, user_map, logs))
    })();
    let (window, user_map, logs) = match prepared {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    for w in &logs.warnings {
        eprintln!("warning: {w}");
    }
    if logs.warnings_dropped > 0 {
        eprintln!("warning: {} more warnings not shown", logs.warnings_dropped);
    }
    let inference = match import::infer(&logs, &InferOptions { window, user_map }) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {}: {e}", args.logs[0].display());
            return Ok(ExitCode::from(2));
        }
    };
    let name = import::write::name_for(&args.logs[0]);
    let text = import::to_scenario_text(
        &inference,
        &Provenance {
            logs: &logs,
            name: &name,
            window: args.window,
        },
    );
    let scenario_path = match args.out {
        Some(path) => {
            loopguard::output::write_atomic(path, text.as_bytes())
                .with_context(|| format!("{}", path.display()))?;
            eprintln!(
                "scenario: {} ({} events from {} lines)",
                path.display(),
                inference.events.len(),
                logs.lines
            );
            path.to_path_buf()
        }
        None => {
            print!("{text}");
            PathBuf::from(format!("{name}.toml"))
        }
    };
    if !args.check {
        return Ok(ExitCode::SUCCESS);
    }
    let scenario = scenario::parse(&scenario_path, &text).map_err(|e| {
        anyhow::anyhow!("the imported scenario does not read back (a loopguard bug): {e}")
    })?;
    let result = execute(&scenario, args.preset, None, &mut |_| {})?;
    let folder = write_run(args.report, &result)?;
    let fidelity = fidelity::compare_imported(&inference, &result.trace);
    let table = fidelity::table(&fidelity);
    std::fs::write(folder.join("fidelity.md"), &table)
        .with_context(|| format!("{}", folder.display()))?;
    let page = import::page::html(
        &scenario.name,
        args.preset,
        &inference.marks,
        &fidelity::sim_marks(&result.trace),
        &fidelity,
        scenario.run_length(),
    );
    let page_path = folder.join("import.html");
    std::fs::write(&page_path, page).with_context(|| format!("{}", page_path.display()))?;
    embed_log_timeline(args, &folder, &inference, &result, &fidelity, &scenario)?;
    eprintln!("{table}");
    eprintln!(
        "run: {} ({:?}); log and simulation: {}",
        folder.display(),
        result.summary.verdict,
        page_path.display()
    );
    if fidelity.reproduced() {
        eprintln!(
            "reproduced: attempts (in all and in each minute) and closes by code within {} % (or {}) of the log, as many sockets open at once",
            fidelity::TOLERANCE_PERCENT,
            fidelity::TOLERANCE_ABSOLUTE
        );
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("not reproduced: {}", fidelity.misses.join("; "));
        Ok(ExitCode::from(1))
    }
}

/// The run's `index.html`, and a batch `index.html` over it in `--report`,
/// open with the log's timeline above the simulated one.
fn embed_log_timeline(
    args: &ImportArgs<'_>,
    folder: &std::path::Path,
    inference: &Inference,
    result: &loopguard::run::RunResult,
    fidelity: &fidelity::Fidelity,
    scenario: &scenario::Scenario,
) -> anyhow::Result<()> {
    let section = |page: &str| {
        import::page::section(
            args.preset,
            &inference.marks,
            &fidelity::sim_marks(&result.trace),
            fidelity,
            scenario.run_length(),
            page,
        )
    };
    let index = folder.join("index.html");
    let run_page =
        std::fs::read_to_string(&index).with_context(|| format!("{}", index.display()))?;
    loopguard::output::write_atomic(
        &index,
        import::page::embed(&run_page, &section("import.html")).as_bytes(),
    )
    .with_context(|| format!("{}", index.display()))?;
    let run = loopguard::report::FinishedRun {
        summary: result.summary.clone(),
        metrics: loopguard::report::run_metrics(&result.summary, &result.trace),
        timing: None,
    };
    loopguard::report::write_batch(args.report, &[run], &[], None)
        .with_context(|| format!("{}", args.report.display()))?;
    let batch_index = args.report.join("index.html");
    let batch_page = std::fs::read_to_string(&batch_index)
        .with_context(|| format!("{}", batch_index.display()))?;
    let link = format!(
        "{}/import.html",
        loopguard::report::format::url_segment(&result.summary.run)
    );
    loopguard::output::write_atomic(
        &batch_index,
        import::page::embed(&batch_page, &section(&link)).as_bytes(),
    )
    .with_context(|| format!("{}", batch_index.display()))?;
    Ok(())
}
