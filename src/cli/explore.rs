//! `loopguard explore`: draw a swarm schedule per seed, run them in
//! parallel, shrink the first seed of each distinct failure, write the
//! minimal scenario under `scenarios/found/` and the batch's outputs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use loopguard::explore::batch::{BatchSummary, FailingSeed};
use loopguard::explore::{
    fails_on, minimize, parse_seeds, parse_time, scenario_name, swarm, Minimized, Shard, SwarmShape,
};
use loopguard::invariants::INVARIANT_IDS;
use loopguard::report::{self, RunSummary};
use loopguard::run::{execute_on, write_run};
use loopguard::scenario::{to_toml, Expectation};
use loopguard::sim::Engine;
use loopguard::supervisor::presets::PresetCatalog;

/// Everything `explore` was asked.
pub struct ExploreArgs {
    pub preset: String,
    pub seeds: Option<String>,
    pub time: Option<String>,
    pub out: PathBuf,
    pub found: PathBuf,
    pub jobs: Option<usize>,
    pub engine: Engine,
    pub shard: Option<String>,
    pub keep_going: bool,
    /// Runs proptest's shrinking may spend per seed; 0: no shrinking.
    pub shrink_runs: usize,
}

/// How one seed's run ended.
enum First {
    Pass,
    Fail(BTreeSet<String>),
    Error(String),
}

pub fn explore(args: &ExploreArgs) -> anyhow::Result<ExitCode> {
    // Runs name the preset as given (a file stays a file); reports and
    // scenario names use its resolved name.
    let spec = args.preset.as_str();
    let preset = match PresetCatalog::for_scenario(None).resolve(spec) {
        Ok(p) => p.name,
        Err(e) => {
            eprintln!("--preset: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let preset = preset.as_str();
    let shard = match args.shard.as_deref().map(Shard::parse).transpose() {
        Ok(s) => s.unwrap_or_default(),
        Err(e) => {
            eprintln!("--shard: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let budget = match args.time.as_deref().map(parse_time).transpose() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("--time: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let range = match budget {
        Some(_) => 1..=u64::MAX,
        None => match parse_seeds(args.seeds.as_deref().unwrap_or("1..100")) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("--seeds: {e}");
                return Ok(ExitCode::from(2));
            }
        },
    };
    let workers = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let out = args.out.as_path();
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;

    let shape = SwarmShape::EXPLORE;
    let engine = args.engine;
    let seeds: Mutex<Box<dyn Iterator<Item = u64> + Send>> =
        Mutex::new(Box::new(shard.seeds(range)));
    let results: Mutex<Vec<(u64, First)>> = Mutex::new(Vec::new());
    let stop = AtomicBool::new(false);
    let failures = AtomicU64::new(0);
    let done = AtomicUsize::new(0);
    let started = Instant::now();
    let bar = progress_bar(budget.is_none().then(|| range_len(args, shard)));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                if stop.load(Ordering::Relaxed) || budget.is_some_and(|b| started.elapsed() >= b) {
                    break;
                }
                let Some(seed) = seeds.lock().ok().and_then(|mut it| it.next()) else {
                    break;
                };
                let scenario = swarm(seed, preset, shape);
                let first = match fails_on(engine, &scenario, preset) {
                    Some(b) if b.is_empty() => First::Pass,
                    Some(b) => {
                        failures.fetch_add(1, Ordering::Relaxed);
                        if !args.keep_going {
                            stop.store(true, Ordering::Relaxed);
                        }
                        First::Fail(b)
                    }
                    None => First::Error(
                        execute_on(engine, &scenario, preset, None, &mut |_| {})
                            .err()
                            .map_or_else(|| "could not run".into(), |e| e.to_string()),
                    ),
                };
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                let secs = started.elapsed().as_secs_f64().max(1e-3);
                bar.set_position(n as u64);
                bar.set_message(format!(
                    "{:.1} seeds/s, {} failing",
                    n as f64 / secs,
                    failures.load(Ordering::Relaxed)
                ));
                if let Ok(mut r) = results.lock() {
                    r.push((seed, first));
                }
            });
        }
    });
    bar.finish_and_clear();
    let wall = started.elapsed();
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|(seed, _)| *seed);

    // The first seed of each distinct set of broken invariants is shrunk.
    let mut seen: BTreeSet<BTreeSet<String>> = BTreeSet::new();
    let to_shrink: Vec<(u64, BTreeSet<String>)> = results
        .iter()
        .filter_map(|(seed, f)| match f {
            First::Fail(b) if args.shrink_runs > 0 && seen.insert(b.clone()) => {
                Some((*seed, b.clone()))
            }
            _ => None,
        })
        .collect();
    let bar = progress_bar(Some(to_shrink.len() as u64));
    bar.set_message("seeds shrunk");
    let shrunk: Vec<Minimized> = par_map(&to_shrink, workers, |(seed, broken)| {
        let m = minimize(*seed, preset, shape, engine, broken, args.shrink_runs);
        bar.inc(1);
        m
    });
    bar.finish_and_clear();

    std::fs::create_dir_all(&args.found)
        .with_context(|| format!("creating {}", args.found.display()))?;
    let mut failing: Vec<FailingSeed> = Vec::new();
    let mut written: Vec<RunSummary> = Vec::new();
    for (seed, f) in &results {
        let First::Fail(broken) = f else { continue };
        let minimal = shrunk.iter().find(|m| m.original.seed == *seed);
        let mut entry = FailingSeed {
            seed: *seed,
            broken: broken.iter().cloned().collect(),
            minimal: None,
        };
        println!("FAIL  seed {seed}: broke {}", list(&entry.broken));
        if let Some(m) = minimal {
            match save(args, engine, m) {
                Ok((file, summary, confirmed)) => {
                    println!(
                        "      minimal ({} of {} events, {} shrinking runs): {}",
                        m.minimal.events.len(),
                        m.original.events.len(),
                        m.runs,
                        file.display()
                    );
                    println!(
                        "      loopguard run (turmoil) {}: breaks {}",
                        if confirmed.is_empty() {
                            "does not reproduce it"
                        } else {
                            "reproduces it"
                        },
                        list(&confirmed.into_iter().collect::<Vec<_>>())
                    );
                    println!("      run: {}", out.join(&summary.run).display());
                    let shown = file.display().to_string();
                    println!(
                        "      replay: {}",
                        loopguard::output::shell_command([
                            "loopguard",
                            "run",
                            &shown,
                            "--preset",
                            preset
                        ])
                    );
                    entry.minimal = Some(file.display().to_string());
                    written.push(summary);
                }
                Err(e) => println!("      minimal not written: {e}"),
            }
        }
        failing.push(entry);
    }
    let errors: Vec<String> = results
        .iter()
        .filter_map(|(seed, f)| match f {
            First::Error(e) => Some(format!("seed {seed}: {e}")),
            _ => None,
        })
        .collect();
    for e in &errors {
        println!("ERROR {e}");
    }
    let batch = BatchSummary {
        preset: preset.to_string(),
        engine: engine.name().to_string(),
        shards: vec![format!("{}/{}", shard.index, shard.count)],
        seeds: results.iter().map(|(s, _)| *s).collect(),
        failing,
        errors: errors.clone(),
    };
    batch.write(out).map_err(anyhow::Error::msg)?;
    report::write_junit(&out.join("junit.xml"), &written, &errors)
        .with_context(|| format!("writing {}", out.join("junit.xml").display()))?;
    report::rebuild(out).context("writing the batch's report")?;
    let failing_seeds: Vec<String> = batch.failing_seeds().iter().map(u64::to_string).collect();
    println!(
        "{} seeds, {} failing{}{} [preset {preset}, engine {engine}, shard {}/{}, {:.1} seeds/s]",
        batch.seeds.len(),
        batch.failing.len(),
        if failing_seeds.is_empty() {
            String::new()
        } else {
            format!(" (seeds {})", failing_seeds.join(", "))
        },
        if errors.is_empty() {
            String::new()
        } else {
            format!(", {} could not run", errors.len())
        },
        shard.index,
        shard.count,
        batch.seeds.len() as f64 / wall.as_secs_f64().max(1e-3),
    );
    println!("batch: {}", out.join("summary.json").display());
    Ok(super::exit_code(
        false,
        batch.failing.is_empty() && errors.is_empty(),
    ))
}

fn range_len(args: &ExploreArgs, shard: Shard) -> u64 {
    parse_seeds(args.seeds.as_deref().unwrap_or("1..100"))
        .map_or(0, |r| shard.seeds(r).count() as u64)
}

/// Writes the minimal scenario under `--found` as a regression file, runs
/// it there on the turmoil engine (what `loopguard run` and `check` use) and
/// writes that run's folder into `--out`. Returns the file, the run's
/// summary and the invariants it broke on turmoil.
fn save(
    args: &ExploreArgs,
    engine: Engine,
    m: &Minimized,
) -> Result<(PathBuf, RunSummary, BTreeSet<String>), String> {
    let preset = args.preset.as_str();
    let stem = format!("{preset}-{}", scenario_name(m.original.seed));
    let file = args.found.join(format!("{stem}.toml"));
    let mut minimal = m.minimal.clone();
    minimal.source = file.clone();
    minimal.name = stem;
    // What the minimal scenario breaks on both engines is what it pins.
    let on_found = fails_on(engine, &minimal, preset).unwrap_or_default();
    let on_turmoil = fails_on(Engine::Turmoil, &minimal, preset).unwrap_or_default();
    let confirmed: BTreeSet<String> = on_found.intersection(&on_turmoil).cloned().collect();
    let stable_holds = preset != "stable"
        && fails_on(Engine::Turmoil, &minimal, "stable").is_some_and(|b| b.is_empty());
    minimal.expect.clear();
    if preset == "stable" || confirmed.is_empty() {
        // A failure of the preset that must hold everything: a regression
        // that fails until the supervisor is fixed.
        minimal.expect.insert(
            preset.to_string(),
            Expectation {
                holds: all(),
                violates: Vec::new(),
            },
        );
    } else {
        minimal.expect.insert(
            preset.to_string(),
            Expectation {
                holds: Vec::new(),
                violates: confirmed.iter().cloned().collect(),
            },
        );
    }
    if stable_holds {
        minimal.expect.insert(
            "stable".to_string(),
            Expectation {
                holds: all(),
                violates: Vec::new(),
            },
        );
    }
    minimal.description = format!(
        "Found by `loopguard explore --preset {preset} --engine {engine}` from seed {seed}: the swarm \
         schedule ({before} events) broke {broke}. Shrunk with proptest's value tree, then greedily, \
         to {after} events; on turmoil it breaks {turmoil}. Kept as a regression: `check` runs it.",
        seed = m.original.seed,
        before = m.original.events.len(),
        broke = list(&m.broken.iter().cloned().collect::<Vec<_>>()),
        after = minimal.events.len(),
        turmoil = list(&on_turmoil.iter().cloned().collect::<Vec<_>>()),
    );
    let text = format!(
        "# Found by `loopguard explore --preset {preset} --engine {engine}` (seed {seed}).\n\
         # Reproduce: loopguard run {file} --preset {preset}\n{body}",
        seed = m.original.seed,
        file = file.display(),
        body = to_toml(&minimal)
    );
    std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
    let loaded = loopguard::scenario::load(&file).map_err(|e| e.to_string())?;
    let r = execute_on(Engine::Turmoil, &loaded, preset, None, &mut |_| {})
        .map_err(|e| e.to_string())?;
    write_run(&args.out, &r).map_err(|e| e.to_string())?;
    Ok((file, r.summary, on_turmoil))
}

fn all() -> Vec<String> {
    INVARIANT_IDS.iter().map(|s| s.to_string()).collect()
}

fn list(ids: &[String]) -> String {
    if ids.is_empty() {
        "nothing".into()
    } else {
        ids.join(", ")
    }
}

fn progress_bar(len: Option<u64>) -> ProgressBar {
    let bar = match len {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::no_length(),
    };
    let template = if len.is_some() {
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}"
    } else {
        "{spinner} [{elapsed_precise}] {pos} seeds, {msg}"
    };
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
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

/// `loopguard report DIR...` over explore batches: merges them into `out`.
pub fn merge(dirs: &[PathBuf], out: &Path) -> anyhow::Result<ExitCode> {
    let m = loopguard::explore::batch::merge_batches(dirs, out)?;
    println!(
        "merged {} shards: {} seeds, {} failing{} [preset {}, engine {}]",
        m.shards.len(),
        m.seeds.len(),
        m.failing.len(),
        if m.failing.is_empty() {
            String::new()
        } else {
            format!(
                " (seeds {})",
                m.failing_seeds()
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        m.preset,
        m.engine
    );
    println!("junit: {}", out.join("junit.xml").display());
    println!("report: {}", out.join("index.html").display());
    Ok(super::exit_code(false, m.failing.is_empty()))
}
