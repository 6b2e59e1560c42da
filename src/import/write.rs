//! The scenario file an import writes: an ordinary scenario, with a header
//! saying what was inferred and left out, and above each event the log lines
//! it came from.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::infer::{Inference, WorldAction, WorldEvent};
use super::line::LogSet;
use crate::scenario::format_duration;

/// Where the scenario text came from, for its header and name.
pub struct Provenance<'a> {
    pub logs: &'a LogSet,
    pub name: &'a str,
    pub window: Option<&'a str>,
}

fn file_name(files: &[PathBuf], index: usize) -> String {
    files
        .get(index)
        .map_or_else(|| format!("log{}", index + 1), |p| base_name(p))
}

fn base_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// A TOML basic string (quotes, backslashes and control characters escaped).
fn toml_str(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

fn wrap_comment(out: &mut String, indent: &str, text: &str) {
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + word.len() > 96 {
            let _ = writeln!(out, "#{indent}{line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "#{indent}{line}");
    }
}

/// The scenario's text.
pub fn to_scenario_text(inference: &Inference, from: &Provenance<'_>) -> String {
    let logs = from.logs;
    let mut out = String::new();
    let _ = writeln!(out, "# Imported by `loopguard import` from:");
    for path in &logs.files {
        let _ = writeln!(out, "#   {}", path.display());
    }
    let _ = writeln!(
        out,
        "# {} lines: {} about the connection, {} of the supervisor's own talk, {} skipped (no kind the importer reads).",
        logs.lines,
        logs.records.len(),
        logs.known,
        logs.skipped
    );
    if let Some(window) = from.window {
        let _ = writeln!(
            out,
            "# Window: only lines in {window} (time since the log's first connection line)."
        );
    }
    let _ = writeln!(out, "#\n# Inferred:");
    for note in &inference.inferred {
        wrap_comment(&mut out, "   ", &format!("- {note}"));
    }
    let _ = writeln!(out, "#\n# Written with today's actions: rival logins and churn as `close` events repeated at the");
    let _ = writeln!(out, "# log's period, stream errors as the close they amount to (the format has no `rival_device`,");
    let _ = writeln!(
        out,
        "# `churn` or `stream_error` yet); the rules above are what they stand for."
    );
    let _ = writeln!(out, "#\n# Left out:");
    for note in &inference.left_out {
        wrap_comment(&mut out, "   ", &format!("- {note}"));
    }
    if !inference.cuts.is_empty() {
        let _ = writeln!(
            out,
            "#\n# Shortened: quiet stretches longer than 10m are cut to 10m:"
        );
        for cut in &inference.cuts {
            let _ = writeln!(
                out,
                "#   - at {}: {} removed",
                format_duration(cut.at),
                format_duration(cut.removed)
            );
        }
    }
    if logs.relative_times {
        let _ = writeln!(out, "#\n# Some lines carry no date: their times are read from times of day, or from the waits the log announces.");
    }
    if !logs.warnings.is_empty() {
        let _ = writeln!(
            out,
            "#\n# Warnings ({}):",
            logs.warnings.len() + logs.warnings_dropped
        );
        for w in logs.warnings.iter().take(10) {
            let file = base_name(&w.path);
            wrap_comment(
                &mut out,
                "   ",
                &format!("- {file}:{}: {}", w.line, w.message),
            );
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "name = {}", toml_str(from.name));
    let description = format!(
        "Imported from {}: the outside world as the log shows it ({} events). Run it with the preset that models the service, and with stable.",
        logs.files.iter().map(|p| base_name(p)).collect::<Vec<_>>().join(", "),
        inference.events.len()
    );
    let _ = writeln!(out, "description = {}", toml_str(&description));
    let _ = writeln!(
        out,
        "duration = {}",
        toml_str(&format_duration(inference.duration))
    );
    if inference.instances > 1 {
        let _ = writeln!(out, "instances = {}", inference.instances);
    }
    for user in &inference.users {
        let _ = writeln!(out, "\n[[users]]\nid = {}", toml_str(&user.id));
        if !user.paired {
            let _ = writeln!(out, "paired = false");
        }
    }
    if let Some((count, every)) = inference.tabs {
        let _ = writeln!(
            out,
            "\n[tabs]\ncount = {count}\npoll_interval = {}",
            toml_str(&format_duration(every))
        );
    }
    for event in &inference.events {
        write_event(&mut out, event, &logs.files);
    }
    let _ = writeln!(
        out,
        "\n# A correct supervisor holds every invariant on what this log's world did."
    );
    let _ = writeln!(out, "[expect.stable]\nholds = [\"all\"]");
    out
}

fn write_event(out: &mut String, event: &WorldEvent, files: &[PathBuf]) {
    let _ = writeln!(out);
    wrap_comment(out, " ", &format!("{}.", event.why));
    for (file, line, quote) in &event.lines {
        let _ = writeln!(out, "#   {}:{}: {}", file_name(files, *file), line, quote);
    }
    if event.line_count > event.lines.len() {
        let _ = writeln!(
            out,
            "#   … and {} more lines like these",
            event.line_count - event.lines.len()
        );
    }
    let _ = writeln!(
        out,
        "[[events]]\nat = {}",
        toml_str(&format_duration(event.at))
    );
    let d = |d: std::time::Duration| toml_str(&format_duration(d));
    let repeat = |every: Duration, times: u32| {
        if times > 1 {
            format!("repeat = {{ every = {}, times = {times} }}\n", d(every))
        } else {
            String::new()
        }
    };
    match &event.action {
        // The scenario format has no `rival_device` yet (issue 8): the rival's
        // logins are the endpoint's 440 closes at the log's period.
        WorldAction::RivalDevice {
            user, times, every, ..
        } => {
            let _ = write!(
                out,
                "action = \"close\"\nuser = {}\ncode = 440\n{}",
                toml_str(user),
                repeat(*every, *times)
            );
        }
        // No `churn` yet either: the closes at the log's period.
        WorldAction::Churn {
            user,
            code,
            times,
            every,
            ..
        } => {
            let _ = write!(
                out,
                "action = \"close\"\nuser = {}\ncode = {code}\n{}",
                toml_str(user),
                repeat(*every, *times)
            );
        }
        WorldAction::Partition { duration } => {
            let _ = writeln!(
                out,
                "action = \"partition\"\nlink = \"app-wa\"\nduration = {}",
                d(*duration)
            );
        }
        WorldAction::Close { user, code } => {
            let _ = writeln!(
                out,
                "action = \"close\"\nuser = {}\ncode = {code}",
                toml_str(user)
            );
        }
        WorldAction::Logout { user } => {
            let _ = writeln!(out, "action = \"logout\"\nuser = {}", toml_str(user));
        }
        WorldAction::Pair { user } => {
            let _ = writeln!(out, "action = \"pair\"\nuser = {}", toml_str(user));
        }
        // No `stream_error` with a child yet: the close it amounts to, in
        // Baileys' order (the code, then a conflict child, else 500); a
        // logged-out device is `logout` (401 on every later connect too).
        WorldAction::StreamError { user, .. } => match stream_error_code(&event.action) {
            401 => {
                let _ = writeln!(out, "action = \"logout\"\nuser = {}", toml_str(user));
            }
            code => {
                let _ = writeln!(
                    out,
                    "action = \"close\"\nuser = {}\ncode = {code}",
                    toml_str(user)
                );
            }
        },
    }
}

/// The close code a stream error amounts to, in Baileys' order.
pub fn stream_error_code(action: &WorldAction) -> u16 {
    let WorldAction::StreamError {
        code,
        child,
        child_type,
        ..
    } = action
    else {
        return 500;
    };
    let code = match (code, child.as_deref(), child_type.as_deref()) {
        (Some(c), _, _) => *c,
        (None, Some("conflict"), Some("device_removed")) => 401,
        (None, Some("conflict"), _) => 440,
        _ => 500,
    };
    if super::infer::SCENARIO_CODES.contains(&code) {
        code
    } else {
        500
    }
}

/// A scenario name from the first log's file name: its stem, cut to safe
/// characters.
pub fn name_for(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map_or_else(|| "imported".into(), |s| s.to_string_lossy().into_owned());
    let safe: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(48)
        .collect();
    if safe.is_empty() {
        "imported".into()
    } else {
        format!("imported_{safe}")
    }
}
