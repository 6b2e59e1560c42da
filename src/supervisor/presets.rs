//! Where presets come from: a preset file named on the command line, a name
//! looked up in the project's `presets/` folder (subfolders included), or a
//! built-in. A preset file may start from another preset with
//! `extends = "NAME"` and name only the knobs it changes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::policy::{line_of, preset_source, Policy, PolicyError, PRESET_NAMES};

/// A preset ready to run, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    /// The preset's `name` (for reports and `[expect.<name>]`).
    pub name: String,
    pub policy: Policy,
    /// The file it was read from; `None` for a built-in.
    pub file: Option<PathBuf>,
}

/// One line of `loopguard presets`.
#[derive(Debug, Clone, PartialEq)]
pub struct PresetInfo {
    pub name: String,
    pub description: String,
    /// `None` for a built-in.
    pub file: Option<PathBuf>,
}

/// The folders names are looked up in, nearest first; built-ins come last.
#[derive(Debug, Clone, Default)]
pub struct PresetCatalog {
    dirs: Vec<PathBuf>,
}

/// Most `extends` links followed before a cycle is assumed.
const MAX_EXTENDS: usize = 8;

impl PresetCatalog {
    /// The `presets/` folders of the project holding `scenario` (the nearest
    /// ancestor folder that has one), then `./presets`.
    pub fn for_scenario(scenario: Option<&Path>) -> Self {
        let mut dirs = Vec::new();
        if let Some(path) = scenario {
            let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
            if let Some(dir) = abs
                .ancestors()
                .skip(1)
                .map(|a| a.join("presets"))
                .find(|d| d.is_dir())
            {
                dirs.push(dir);
            }
        }
        if let Ok(cwd) = std::env::current_dir() {
            let here = cwd.join("presets");
            if here.is_dir() && !dirs.contains(&here) {
                dirs.push(here);
            }
        }
        PresetCatalog { dirs }
    }

    /// `spec` is a file when it ends in `.toml` or names a path; otherwise a
    /// name, looked up in the folders, then among the built-ins.
    pub fn resolve(&self, spec: &str) -> Result<Preset, PolicyError> {
        self.resolve_depth(spec, 0)
    }

    fn resolve_depth(&self, spec: &str, depth: usize) -> Result<Preset, PolicyError> {
        if is_file_spec(spec) {
            return self.load_file(Path::new(spec), depth);
        }
        if let Some(file) = self.find(spec) {
            let preset = self.load_file(&file, depth)?;
            if preset.name != spec {
                return Err(PolicyError::Invalid {
                    file: file.display().to_string(),
                    line: 0,
                    message: format!(
                        "name = \"{}\" but the file is {spec}.toml: a preset found by name must carry it",
                        preset.name
                    ),
                });
            }
            return Ok(preset);
        }
        if let Some(source) = preset_source(spec) {
            let policy = Policy::from_toml(&format!("presets/{spec}.toml"), source)?;
            return Ok(Preset {
                name: spec.to_string(),
                policy,
                file: None,
            });
        }
        Err(PolicyError::NotFound {
            name: spec.to_string(),
            known: self.names().join(", "),
        })
    }

    /// The first `<name>.toml` under the folders, in path order.
    fn find(&self, name: &str) -> Option<PathBuf> {
        self.dirs
            .iter()
            .flat_map(|d| toml_files(d))
            .find(|p| p.file_stem().is_some_and(|s| s == name))
    }

    fn load_file(&self, path: &Path, depth: usize) -> Result<Preset, PolicyError> {
        let file = path.display().to_string();
        let source = std::fs::read_to_string(path).map_err(|e| PolicyError::Invalid {
            file: file.clone(),
            line: 0,
            message: format!("cannot read preset file: {e}"),
        })?;
        let invalid = |line: usize, message: String| PolicyError::Invalid {
            file: file.clone(),
            line,
            message,
        };
        let mut table: toml::Table = toml::from_str(&source).map_err(|e| {
            invalid(
                e.span().map_or(0, |s| line_of(&source, s.start)),
                e.message().to_string(),
            )
        })?;
        let line_of_key = |key: &str| {
            source
                .lines()
                .position(|l| l.trim_start().starts_with(key))
                .map_or(0, |i| i + 1)
        };
        let policy = match table.remove("extends") {
            None => Policy::from_toml(&file, &source)?,
            Some(toml::Value::String(base)) => {
                if depth >= MAX_EXTENDS {
                    return Err(invalid(
                        line_of_key("extends"),
                        format!("`extends` goes more than {MAX_EXTENDS} presets deep (a cycle?)"),
                    ));
                }
                let base = self
                    .resolve_depth(&base, depth + 1)
                    .map_err(|e| invalid(line_of_key("extends"), format!("extends: {e}")))?;
                base.policy.with_overrides(&table).map_err(|e| {
                    let key = e.message().split('`').nth(1).unwrap_or("").to_string();
                    invalid(line_of_key(&key), e.message().to_string())
                })?
            }
            Some(other) => {
                return Err(invalid(
                    line_of_key("extends"),
                    format!("`extends` must name a preset, found {}", other.type_str()),
                ))
            }
        };
        if !table.contains_key("name") {
            return Err(invalid(0, "missing field `name`".into()));
        }
        Ok(Preset {
            name: policy.name.clone(),
            policy,
            file: Some(path.to_path_buf()),
        })
    }

    /// Every preset name a lookup can find: the folders' files, then the
    /// built-ins not shadowed by one.
    pub fn names(&self) -> Vec<String> {
        self.list().into_iter().map(|p| p.name).collect()
    }

    /// Every preset, folders first (path order), then the built-ins. A file
    /// that does not load is listed with its error as the description.
    pub fn list(&self) -> Vec<PresetInfo> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for file in self.dirs.iter().flat_map(|d| toml_files(d)) {
            let Some(stem) = file.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
                continue;
            };
            if !seen.insert(stem.clone()) {
                continue;
            }
            let description = match self.load_file(&file, 0) {
                Ok(p) => p.policy.description,
                Err(e) => format!("(does not load: {e})"),
            };
            out.push(PresetInfo {
                name: stem,
                description,
                file: Some(file),
            });
        }
        for name in PRESET_NAMES {
            if seen.insert(name.to_string()) {
                let description = Policy::preset(name)
                    .map(|p| p.description)
                    .unwrap_or_default();
                out.push(PresetInfo {
                    name: name.to_string(),
                    description,
                    file: None,
                });
            }
        }
        out
    }
}

/// A command-line preset that names a file rather than a preset.
pub fn is_file_spec(spec: &str) -> bool {
    spec.ends_with(".toml") || spec.contains(['/', '\\'])
}

/// Every `*.toml` under `dir`, recursively, in path order.
fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
