//! `loopguard explore`: generate a schedule per seed, run them in parallel,
//! shrink each failing one, write the minimal scenario file and its run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use loopguard::explore::{fails, generate, parse_seeds, scenario_name, shrink};
use loopguard::report::Verdict;
use loopguard::run::{execute, write_run};
use loopguard::scenario::{to_toml, Scenario};
use loopguard::supervisor::presets::PresetCatalog;

/// How one seed's first run ended.
enum First {
    Pass,
    Fail(Vec<String>),
    Error(String),
}

/// A failing seed, shrunk.
struct Found {
    seed: u64,
    violated: Vec<String>,
    events_before: usize,
    events_after: usize,
    file: PathBuf,
    run_dir: Result<PathBuf, String>,
    minimal_violated: Vec<String>,
}

pub fn explore(
    preset: &str,
    seeds: &str,
    out: &Path,
    jobs: Option<usize>,
) -> anyhow::Result<ExitCode> {
    let spec = preset;
    let preset = match PresetCatalog::for_scenario(None).resolve(spec) {
        Ok(p) => p.name,
        Err(e) => {
            eprintln!("--preset: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let preset = preset.as_str();
    let range = match parse_seeds(seeds) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("--seeds: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let workers = jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let seeds: Vec<u64> = range.collect();
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;

    let scenarios: Vec<Scenario> = seeds.iter().map(|s| generate(*s, preset)).collect();
    // Runs name the preset as given (a file stays a file); reports use its name.
    let bar = progress(scenarios.len(), "runs");
    let firsts = par_map(&scenarios, workers, |s| {
        let r = match execute(s, spec, None, &mut |_| {}) {
            Ok(r) if r.summary.verdict == Verdict::Fail => First::Fail(r.summary.violated),
            Ok(_) => First::Pass,
            Err(e) => First::Error(e.to_string()),
        };
        bar.inc(1);
        r
    });
    bar.finish_and_clear();

    let failing: Vec<(&Scenario, Vec<String>)> = scenarios
        .iter()
        .zip(&firsts)
        .filter_map(|(s, f)| match f {
            First::Fail(v) => Some((s, v.clone())),
            _ => None,
        })
        .collect();
    let bar = progress(failing.len(), "seeds shrunk");
    let found = par_map(&failing, workers, |(s, violated)| {
        let minimal = shrink(s, preset, |c| fails(c, spec));
        let f = save(out, spec, s, violated, minimal);
        bar.inc(1);
        f
    });
    bar.finish_and_clear();

    for f in &found {
        println!("FAIL  seed {}: violated {}", f.seed, list(&f.violated));
        println!(
            "      minimal ({} of {} events, violates {}): {}",
            f.events_after,
            f.events_before,
            list(&f.minimal_violated),
            f.file.display()
        );
        match &f.run_dir {
            Ok(dir) => println!("      run: {}", dir.display()),
            Err(e) => println!("      run: not written: {e}"),
        }
        println!(
            "      replay: loopguard run {} --preset {spec}",
            f.file.display()
        );
    }
    let mut errors = 0;
    for (seed, f) in seeds.iter().zip(&firsts) {
        if let First::Error(e) = f {
            errors += 1;
            println!("ERROR seed {seed}: {e}");
        }
    }
    let failing_seeds: Vec<String> = found.iter().map(|f| f.seed.to_string()).collect();
    println!(
        "{} seeds, {} failing{}{} [preset {preset}]",
        seeds.len(),
        found.len(),
        if failing_seeds.is_empty() {
            String::new()
        } else {
            format!(" (seeds {})", failing_seeds.join(", "))
        },
        if errors > 0 {
            format!(", {errors} could not run")
        } else {
            String::new()
        },
    );
    if !found.is_empty() {
        println!("minimal scenarios: {}", out.display());
    }
    Ok(super::exit_code(false, found.is_empty() && errors == 0))
}

/// Writes the minimal scenario to `<out>/explore-<seed>.toml`, runs it from
/// there and writes its run folder.
fn save(
    out: &Path,
    preset: &str,
    original: &Scenario,
    violated: &[String],
    mut minimal: Scenario,
) -> Found {
    let file = out.join(format!("{}.toml", scenario_name(original.seed)));
    minimal.source = file.clone();
    minimal.description = format!(
        "{}\nShrunk by `loopguard explore --preset {preset}` from {} events to the smallest \
         schedule found that still fails (first run violated: {}).",
        original.description,
        original.events.len(),
        list(violated)
    );
    let mut found = Found {
        seed: original.seed,
        violated: violated.to_vec(),
        events_before: original.events.len(),
        events_after: minimal.events.len(),
        file: file.clone(),
        run_dir: Err(String::new()),
        minimal_violated: Vec::new(),
    };
    if let Err(e) = std::fs::write(&file, to_toml(&minimal)) {
        found.run_dir = Err(format!("{}: {e}", file.display()));
        return found;
    }
    found.run_dir = match execute(&minimal, preset, None, &mut |_| {}) {
        Ok(r) => {
            found.minimal_violated = r.summary.violated.clone();
            write_run(out, &r).map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    };
    found
}

fn list(ids: &[String]) -> String {
    if ids.is_empty() {
        "nothing".into()
    } else {
        ids.join(", ")
    }
}

fn progress(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {what}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// `f` over `items` on `workers` threads; results in item order.
fn par_map<T: Sync, R: Send>(items: &[T], workers: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..workers.min(items.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                if let Ok(mut slots) = slots.lock() {
                    slots[i] = Some(r);
                }
            });
        }
    });
    slots
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}
