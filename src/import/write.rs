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
    write_vocabulary(&mut out, inference);
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
        inference.events.len() + usize::from(inference.handshake.is_some())
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
    for event in inference.handshake.iter().chain(&inference.events) {
        write_event(&mut out, event, &logs.files);
    }
    let _ = writeln!(
        out,
        "\n# A correct supervisor holds every invariant on what this log's world did."
    );
    let _ = writeln!(out, "[expect.stable]\nholds = [\"all\"]");
    out
}

/// Says how the header's rules became events, for the kinds this file has.
fn write_vocabulary(out: &mut String, inference: &Inference) {
    let has = |f: fn(&WorldAction) -> bool| inference.events.iter().any(|e| f(&e.action));
    let rival = has(|a| matches!(a, WorldAction::RivalDevice { .. }));
    let churn = has(|a| matches!(a, WorldAction::Churn { .. }));
    let stream = has(|a| matches!(a, WorldAction::StreamError { .. }));
    if !(rival || churn || stream) {
        return;
    }
    let _ = writeln!(
        out,
        "#\n# Written with loopguard's faults, so the world reacts as it did, not at fixed times:"
    );
    if rival {
        let _ = writeln!(out, "#   - rival logins as `rival_device`: it logs in again `after` each of the supervisor's");
        let _ = writeln!(out, "#     authentications, so a supervisor that reconnects slower or faster meets its 440s at");
        let _ = writeln!(out, "#     its own pace, `times` logins or until `until` (the log's last 440 plus a quarter of the");
        let _ = writeln!(out, "#     run and one period, room for a supervisor a quarter slower); one event per 440 when");
        let _ = writeln!(out, "#     their delays after our reconnects vary;");
    }
    if churn {
        let _ = writeln!(out, "#   - closes of sockets of one age as `churn`: it closes every connected socket, of any user,");
        let _ = writeln!(
            out,
            "#     `after` its authentication, for the window the log's closes span;"
        );
    }
    if stream {
        let _ = writeln!(out, "#   - stream:error nodes as `stream_error` with the node's code and child, as read: the");
        let _ = writeln!(out, "#     simulated supervisor decodes them itself (the code, then a conflict child → 440, else 500).");
    }
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
    let d = |d: Duration| toml_str(&format_duration(d));
    match &event.action {
        // The rival logs in at `at` and again `after` each of our
        // authentications: reactive, as the log's 440s were.
        WorldAction::RivalDevice {
            user,
            relogin_after,
            times,
            until,
            ..
        } => {
            let _ = write!(
                out,
                "action = \"rival_device\"\nuser = {}\n",
                toml_str(user)
            );
            if *times > 1 {
                let _ = writeln!(out, "after = {}", d(*relogin_after));
            }
            let _ = writeln!(out, "times = {times}");
            if let Some(until) = until {
                let _ = writeln!(out, "until = {}", d(*until));
            }
        }
        // Churn closes every connected socket (the action has no `user`).
        WorldAction::Churn {
            after,
            code,
            duration,
            ..
        } => {
            let _ = writeln!(
                out,
                "action = \"churn\"\nafter = {}\ncode = {code}\nduration = {}",
                d(*after),
                d(*duration)
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
        WorldAction::SlowHandshake { delay, duration } => {
            let _ = writeln!(
                out,
                "action = \"slow_handshake\"\ndelay = {}\nduration = {}",
                d(*delay),
                d(*duration)
            );
        }
        WorldAction::Logout { user } => {
            let _ = writeln!(out, "action = \"logout\"\nuser = {}", toml_str(user));
        }
        WorldAction::Pair { user } => {
            let _ = writeln!(out, "action = \"pair\"\nuser = {}", toml_str(user));
        }
        // The node as it came: the simulated supervisor decodes it itself
        // (the code attribute, then a conflict child → 440, else 500).
        WorldAction::StreamError {
            user,
            code,
            child,
            child_type,
        } => {
            let _ = write!(
                out,
                "action = \"stream_error\"\nuser = {}\n",
                toml_str(user)
            );
            if let Some(code) = code {
                let _ = writeln!(out, "code = {code}");
            }
            if let Some(child) = child {
                let _ = writeln!(out, "child = {}", toml_str(child));
                if let Some(kind) = child_type {
                    let _ = writeln!(out, "type = {}", toml_str(kind));
                }
            }
        }
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
