//! What a batch runs: scenario files and folders given on the command
//! line, every preset each scenario's `[expect]` names, narrowed by
//! `--filter` globs, and the order the runs start in: the longest first
//! (see [`longest_first`]), so a day-long soak does not start last and
//! become the batch's tail.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use loopguard::report::BadInput;
use loopguard::scenario::{self, Scenario, ScenarioError};

use super::batch::Job;

/// Scenarios that parsed and files that did not.
#[derive(Default)]
pub struct Loaded {
    pub scenarios: Vec<Scenario>,
    pub bad: Vec<BadInput>,
}

/// Loads each of `paths`: a folder gives its `*.toml` files in name order,
/// then those of its `found/` subfolder (the regression files `explore`
/// writes); a file gives itself; a path that cannot be read is a bad input
/// naming it. A file reached twice is loaded once.
pub fn load_paths(paths: &[PathBuf]) -> Loaded {
    let mut loaded = Loaded::default();
    let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
    let mut take = |path: &Path, result: Result<Scenario, ScenarioError>, l: &mut Loaded| {
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if !seen.insert(key) {
            return;
        }
        match result {
            Ok(s) => l.scenarios.push(s),
            Err(e) => l.bad.push(bad_input(path, &e)),
        }
    };
    for path in paths {
        if path.is_dir() {
            let mut files = scenario::load_dir(path);
            let found = path.join("found");
            if found.is_dir() {
                files.extend(scenario::load_dir(&found));
            }
            for (file, result) in files {
                take(&file, result, &mut loaded);
            }
        } else {
            take(path, scenario::load(path), &mut loaded);
        }
    }
    loaded
}

/// A refused scenario file as the batch outputs record it: its rustc-style
/// diagnostic (file, line, the source line, a caret, help).
pub fn bad_input(path: &Path, e: &ScenarioError) -> BadInput {
    BadInput {
        file: path.display().to_string(),
        message: scenario::render(e),
    }
}

/// `--filter` globs: a run is kept when any glob matches its scenario's
/// name, its preset, or `<scenario>.<preset>` (its folder name). No glob
/// keeps every run.
pub struct Filter {
    globs: Option<GlobSet>,
}

impl Filter {
    pub fn new(patterns: &[String]) -> Result<Filter, globset::Error> {
        if patterns.is_empty() {
            return Ok(Filter { globs: None });
        }
        let mut b = GlobSetBuilder::new();
        for p in patterns {
            b.add(Glob::new(p)?);
        }
        Ok(Filter {
            globs: Some(b.build()?),
        })
    }

    pub fn keeps(&self, scenario: &str, preset: &str) -> bool {
        match &self.globs {
            None => true,
            Some(g) => {
                g.is_match(scenario)
                    || g.is_match(preset)
                    || g.is_match(format!("{scenario}.{preset}"))
            }
        }
    }
}

/// The presets a scenario runs with in `check`: those its `[expect]`
/// names, or its own `supervisor.preset` when it names none.
pub fn presets_of(s: &Scenario) -> Vec<String> {
    if s.expect.is_empty() {
        vec![s.supervisor.preset.clone()]
    } else {
        s.expect.keys().cloned().collect()
    }
}

/// Every (scenario, preset) of `scenarios` the filter keeps, in file then
/// preset order; a preset `[expect]` names that cannot be found is a bad
/// input (exit 2), and the others still run.
pub fn plan<'a>(scenarios: &'a [Scenario], filter: &Filter) -> (Vec<Job<'a>>, Vec<BadInput>) {
    let mut jobs = Vec::new();
    let mut bad = Vec::new();
    for s in scenarios {
        for preset in presets_of(s) {
            if !filter.keeps(&s.name, &preset) {
                continue;
            }
            match loopguard::run::resolve_preset(s, &preset) {
                Ok(p) => jobs.push(Job {
                    scenario: s,
                    preset,
                    preset_name: p.name,
                    seed: None,
                }),
                Err(e) => bad.push(BadInput {
                    file: s.source.display().to_string(),
                    message: format!("{}: [expect.{preset}]: {e}", s.source.display()),
                }),
            }
        }
    }
    (jobs, bad)
}

/// How long a run is expected to take, in arbitrary units: its virtual
/// length (seconds) × the parties that do work through all of it (users,
/// app instances, dashboard tabs; at least one). Wall-clock time grows
/// with both; the estimate only orders runs, it is never shown.
pub fn cost_estimate(s: &Scenario) -> u128 {
    let parties = s.users.len() as u128 + u128::from(s.instances) + u128::from(s.tabs.count);
    s.run_length().as_millis() / 1000 * parties.max(1)
}

/// The order a batch starts `jobs` in: the most costly first (by
/// [`cost_estimate`]), ties in plan order. With N workers the batch then
/// ends close to its longest run's own length instead of after it.
pub fn longest_first(jobs: &[Job<'_>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(cost_estimate(jobs[i].scenario)));
    order
}

/// `39 runs: 13 scenarios × 3 presets`, or `… 13 scenarios, 3 presets`
/// when not every scenario runs every preset.
pub fn plan_line(jobs: &[Job<'_>]) -> String {
    let scenarios: BTreeSet<&Path> = jobs.iter().map(|j| j.scenario.source.as_path()).collect();
    let presets: BTreeSet<&str> = jobs.iter().map(|j| j.preset.as_str()).collect();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let sep = if scenarios.len() * presets.len() == jobs.len() {
        " × "
    } else {
        ", "
    };
    format!(
        "{}: {}{sep}{} ({})",
        plural(jobs.len(), "run"),
        plural(scenarios.len(), "scenario"),
        plural(presets.len(), "preset"),
        presets.into_iter().collect::<Vec<_>>().join(", ")
    )
}
