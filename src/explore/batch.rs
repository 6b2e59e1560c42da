//! What one `explore` batch found, as `summary.json` in its folder, and the
//! merge of several batches (the shards of a CI matrix) into one.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::report::{self, ReportError, RunSummary};

/// `summary.json` of an explore batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchSummary {
    pub preset: String,
    pub engine: String,
    /// `I/N` of each shard merged here.
    pub shards: Vec<String>,
    /// Every seed run, in order.
    pub seeds: Vec<u64>,
    /// Seeds whose run broke an invariant that must hold, in seed order.
    pub failing: Vec<FailingSeed>,
    /// Seeds whose run could not be made, with why.
    pub errors: Vec<String>,
}

/// One failing seed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FailingSeed {
    pub seed: u64,
    /// Invariants the drawn schedule broke.
    pub broken: Vec<String>,
    /// The minimal scenario file, when this seed was shrunk (the first seed
    /// of each distinct set of broken invariants is).
    pub minimal: Option<String>,
}

impl BatchSummary {
    /// Reads `<dir>/summary.json`.
    pub fn load(dir: &Path) -> Result<BatchSummary, String> {
        let path = dir.join("summary.json");
        let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Writes `<dir>/summary.json`.
    pub fn write(&self, dir: &Path) -> Result<PathBuf, String> {
        let path = dir.join("summary.json");
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        fs::write(&path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path)
    }

    /// The seeds that failed, in order.
    pub fn failing_seeds(&self) -> Vec<u64> {
        self.failing.iter().map(|f| f.seed).collect()
    }
}

/// Why batches could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{0}")]
    Batch(String),
    #[error("{0}: batches of different presets or engines cannot be merged ({1})")]
    Mismatch(String, String),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Whether `dir` is an explore batch folder (it has the batch summary).
pub fn is_batch(dir: &Path) -> bool {
    BatchSummary::load(dir).is_ok()
}

/// Merges the explore batches in `dirs` into `out`: every run folder is
/// copied over, the summaries are joined (seeds and failures in seed
/// order), and `out` gets one `summary.json`, one `junit.xml` and one
/// stability report over all the runs.
pub fn merge_batches(dirs: &[PathBuf], out: &Path) -> Result<BatchSummary, MergeError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| MergeError::Io { path, source }
    };
    fs::create_dir_all(out).map_err(io(out))?;
    let mut merged: Option<BatchSummary> = None;
    for dir in dirs {
        let b = BatchSummary::load(dir).map_err(MergeError::Batch)?;
        match merged.as_mut() {
            None => merged = Some(b.clone()),
            Some(m) => {
                if m.preset != b.preset || m.engine != b.engine {
                    return Err(MergeError::Mismatch(
                        dir.display().to_string(),
                        format!("{}/{} and {}/{}", m.preset, m.engine, b.preset, b.engine),
                    ));
                }
                m.shards.extend(b.shards.clone());
                m.seeds.extend(b.seeds.clone());
                m.failing.extend(b.failing.clone());
                m.errors.extend(b.errors.clone());
            }
        }
        if dir.as_path() != out {
            for (summary, _) in report::load_runs(dir)? {
                copy_dir(&dir.join(&summary.run), &out.join(&summary.run)).map_err(io(dir))?;
            }
        }
    }
    let mut m = merged.ok_or_else(|| MergeError::Batch("no batch folder given".into()))?;
    m.seeds = m
        .seeds
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    m.failing.sort();
    m.failing.dedup();
    m.write(out).map_err(MergeError::Batch)?;
    let runs = report::load_runs(out)?;
    let summaries: Vec<RunSummary> = runs.iter().map(|(s, _)| s.clone()).collect();
    report::write_junit(&out.join("junit.xml"), &summaries, &m.errors).map_err(io(out))?;
    report::rebuild(out)?;
    Ok(m)
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        if entry.path().is_file() {
            fs::copy(entry.path(), to.join(entry.file_name()))?;
        }
    }
    Ok(())
}
