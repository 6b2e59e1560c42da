//! From a [`Scenario`] back to the file format people write (see the module
//! docs): what `loopguard explore` saves as the minimal failing scenario.
//!
//! The text reads back to the same scenario (`parse(to_toml(s)) == s`, but
//! for `source` and each event's `line`). Every top-level field is written;
//! `[tabs]`, `[network]` and `[supervisor.overrides]` only when they differ
//! from the defaults; every event with all its parameters.

use std::fmt::Write as _;
use std::time::Duration;

use super::duration::format_duration;
use super::model::*;
use crate::invariants::INVARIANT_IDS;

/// The scenario as a TOML file in the documented format.
pub fn to_toml(s: &Scenario) -> String {
    let mut out = String::new();
    let w = &mut out;
    line(w, "name", &string(&s.name));
    if !s.description.is_empty() {
        line(w, "description", &string(&s.description));
    }
    line(w, "seed", &s.seed.to_string());
    line(w, "duration", &dur(s.duration));
    line(w, "quiet_tail", &dur(s.quiet_tail));
    if s.restart_delay != super::parse::DEFAULT_RESTART_DELAY {
        line(w, "restart_delay", &dur(s.restart_delay));
    }
    line(w, "tick", &dur(s.tick));
    line(w, "instances", &s.instances.to_string());

    for u in &s.users {
        w.push_str("\n[[users]]\n");
        line(w, "id", &string(&u.id));
        line(w, "paired", &u.paired.to_string());
        line(w, "enabled", &u.enabled.to_string());
    }

    w.push_str("\n[supervisor]\n");
    line(w, "preset", &string(&s.supervisor.preset));
    if !s.supervisor.overrides.is_empty() {
        w.push_str("\n[supervisor.overrides]\n");
        for (k, v) in &s.supervisor.overrides {
            line(w, &key(k), &v.to_string());
        }
    }

    let t = &s.tabs;
    let default_tabs =
        t.count == 0 && t.poll_interval == secs(5) && t.jitter.is_zero() && t.user.is_none();
    if !default_tabs {
        w.push_str("\n[tabs]\n");
        line(w, "count", &t.count.to_string());
        line(w, "poll_interval", &dur(t.poll_interval));
        line(w, "jitter", &dur(t.jitter));
        if let Some(u) = &t.user {
            line(w, "user", &string(u));
        }
    }

    let n = &s.network;
    if n.min_latency != Duration::from_millis(1) || n.max_latency != Duration::from_millis(20) {
        w.push_str("\n[network]\n");
        line(w, "min_latency", &dur(n.min_latency));
        line(w, "max_latency", &dur(n.max_latency));
    }

    if s.endpoint != EndpointSpec::default() {
        w.push_str("\n[endpoint]\n");
        match s.endpoint.idle_timeout {
            Some(d) => line(w, "idle_timeout", &dur(d)),
            None => line(w, "idle_timeout", &string("off")),
        }
    }

    for e in &s.events {
        w.push_str("\n[[events]]\n");
        event(w, e);
    }

    for (preset, x) in &s.expect {
        let _ = write!(w, "\n[expect.{}]\n", key(preset));
        let all: Vec<&str> = INVARIANT_IDS
            .iter()
            .copied()
            .filter(|id| !x.violates.iter().any(|v| v == id))
            .collect();
        if !x.holds.is_empty() && x.holds == all {
            line(w, "holds", "[\"all\"]");
        } else if !x.holds.is_empty() || x.violates.is_empty() {
            line(w, "holds", &list(&x.holds));
        }
        if !x.violates.is_empty() {
            line(w, "violates", &list(&x.violates));
        }
    }
    out
}

fn event(w: &mut String, e: &EventSpec) {
    line(w, "at", &dur(e.at));
    line(w, "action", &string(e.action.name()));
    match &e.action {
        Action::Close { user, code } => {
            line(w, "user", &string(user));
            line(w, "code", &code.to_string());
        }
        Action::Refuse { user, count, code } => {
            line(w, "user", &string(user));
            line(w, "count", &count.to_string());
            line(w, "code", &code.to_string());
        }
        Action::Unavailable { duration } | Action::PingSilence { duration } => {
            line(w, "duration", &dur(*duration));
        }
        Action::Logout { user } | Action::Pair { user } => line(w, "user", &string(user)),
        Action::SlowHandshake { delay, duration } => {
            line(w, "delay", &dur(*delay));
            line(w, "duration", &dur(*duration));
        }
        Action::Partition { link, duration } => {
            line(w, "link", &link_name(*link));
            line(w, "duration", &dur(*duration));
        }
        Action::Flap {
            link,
            duration,
            down,
            up,
            jitter,
        } => {
            line(w, "link", &link_name(*link));
            line(w, "duration", &dur(*duration));
            line(w, "down", &dur(*down));
            line(w, "up", &dur(*up));
            line(w, "jitter", &dur(*jitter));
        }
        Action::Latency {
            link,
            min,
            max,
            duration,
        } => {
            line(w, "link", &link_name(*link));
            line(w, "min", &dur(*min));
            line(w, "max", &dur(*max));
            line(w, "duration", &dur(*duration));
        }
        Action::Loss {
            link,
            rate,
            duration,
        } => {
            line(w, "link", &link_name(*link));
            line(w, "rate", &format!("{rate:?}"));
            line(w, "duration", &dur(*duration));
        }
        Action::Crash {
            instance,
            restart_after,
        } => {
            line(w, "instance", &instance.to_string());
            if let Some(r) = restart_after {
                line(w, "restart_after", &dur(*r));
            }
        }
        Action::StartInstance => {}
        Action::OpenTabs { count } | Action::CloseTabs { count } => {
            line(w, "count", &count.to_string());
        }
        Action::Connect { user, instance } | Action::Disconnect { user, instance } => {
            line(w, "user", &string(user));
            line(w, "instance", &instance.to_string());
        }
        Action::ForeignTab {
            user,
            target,
            poll_interval,
            button,
            duration,
        } => {
            line(w, "user", &string(user));
            line(w, "target", &string(target));
            line(w, "duration", &dur(*duration));
            line(w, "poll_interval", &dur(*poll_interval));
            line(w, "button", &string(button.as_str()));
        }
        Action::RivalDevice {
            user,
            after,
            times,
            until,
        } => {
            line(w, "user", &string(user));
            line(w, "after", &dur(*after));
            if until.is_none() || *times != u32::MAX {
                line(w, "times", &times.to_string());
            }
            if let Some(u) = until {
                line(w, "until", &dur(*u));
            }
        }
        Action::Stall { instance, duration } => {
            line(w, "instance", &instance.to_string());
            line(w, "duration", &dur(*duration));
        }
        Action::Churn {
            after,
            code,
            duration,
        } => {
            line(w, "after", &dur(*after));
            line(w, "code", &code.to_string());
            line(w, "duration", &dur(*duration));
        }
        Action::StaleClose { user, code, after } => {
            line(w, "user", &string(user));
            line(w, "code", &code.to_string());
            line(w, "after", &dur(*after));
        }
        Action::StreamError {
            user,
            code,
            child,
            child_type,
        } => {
            line(w, "user", &string(user));
            if let Some(c) = code {
                line(w, "code", &c.to_string());
            }
            if let Some(c) = child {
                line(w, "child", &string(c));
            }
            if let Some(t) = child_type {
                line(w, "type", &string(t));
            }
        }
        Action::Messages {
            user,
            every,
            duration,
        } => {
            line(w, "user", &string(user));
            line(w, "every", &dur(*every));
            line(w, "duration", &dur(*duration));
        }
    }
    if let Some(r) = e.repeat {
        line(
            w,
            "repeat",
            &format!("{{ every = {}, times = {} }}", dur(r.every), r.times),
        );
    }
}

fn line(w: &mut String, key: &str, value: &str) {
    let _ = writeln!(w, "{key} = {value}");
}

/// A TOML string (basic or literal, multi-line when it has newlines).
fn string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A bare key when it can be one, else a quoted key.
fn key(k: &str) -> String {
    let bare = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        k.to_string()
    } else {
        string(k)
    }
}

fn dur(d: Duration) -> String {
    string(&format_duration(d))
}

fn list(ids: &[String]) -> String {
    let quoted: Vec<String> = ids.iter().map(|s| string(s)).collect();
    format!("[{}]", quoted.join(", "))
}

fn link_name(l: Link) -> String {
    string(match l {
        Link::AppWa => "app-wa",
        Link::BrowserApp => "browser-app",
    })
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}
