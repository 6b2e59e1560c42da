//! Greedy shrinking of a failing scenario to a smaller one that still fails.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::scenario::{parse, to_toml, Action, Scenario};

/// Windows are not halved below this.
const MIN_WINDOW: Duration = Duration::from_secs(1);
/// The scenario's duration is not halved below this.
const MIN_DURATION: Duration = Duration::from_secs(60);

/// The smallest scenario this finds that `still_fails`, starting from
/// `scenario` (which is assumed to fail).
///
/// Greedy, to a fixpoint: it tries, in order, dropping each event, each
/// user beyond the first (with its events, or with its events moved to the
/// first user), the tabs, each event's repetition, halving each event's
/// windows (`duration`, `down`, `up`, `delay`, `restart_after`, whole
/// seconds, not below 1 s), moving each event halfway towards the one before
/// it, and halving the scenario's duration (not below 1 min); it keeps every change under which the scenario still fails, and
/// stops after a pass that keeps none. A change that makes the scenario
/// invalid (it no longer reads back from its TOML) is skipped, so the result
/// is always a valid scenario file. Deterministic when `still_fails` is.
///
/// `preset` is the preset being explored: its `[expect]` entry is kept.
pub fn shrink(
    scenario: &Scenario,
    preset: &str,
    mut still_fails: impl FnMut(&Scenario) -> bool,
) -> Scenario {
    let mut current = scenario.clone();
    // Candidates already seen not to fail (by their text).
    let mut passed: BTreeSet<String> = BTreeSet::new();
    loop {
        let mut changed = false;
        let mut i = 0;
        loop {
            let list = candidates(&current);
            let Some(candidate) = list.into_iter().nth(i) else {
                break;
            };
            let accepted = valid(&candidate, preset).filter(|c| {
                let text = to_toml(c);
                if passed.contains(&text) {
                    return false;
                }
                let fails = still_fails(c);
                if !fails {
                    passed.insert(text);
                }
                fails
            });
            match accepted {
                // The list changes with the scenario: the same index now
                // names the next change to try (or the same one again, for a
                // halving).
                Some(c) => {
                    current = c;
                    changed = true;
                }
                None => i += 1,
            }
        }
        if !changed {
            return current;
        }
    }
}

/// The candidate as read back from its own TOML, if it reads back and still
/// expects something of `preset`.
fn valid(candidate: &Scenario, preset: &str) -> Option<Scenario> {
    let back = parse(&candidate.source, &to_toml(candidate)).ok()?;
    back.expect.contains_key(preset).then_some(back)
}

/// Every one-step reduction of `s`, in the order they are tried.
fn candidates(s: &Scenario) -> Vec<Scenario> {
    let mut out = Vec::new();
    for i in 0..s.events.len() {
        let mut c = s.clone();
        c.events.remove(i);
        out.push(c);
    }
    for u in 1..s.users.len() {
        let id = s.users[u].id.clone();
        let first = s.users[0].id.clone();
        let mut without = s.clone();
        without.users.remove(u);
        if without.tabs.user.as_deref() == Some(id.as_str()) {
            without.tabs.user = None;
        }
        let mut moved = without.clone();
        without
            .events
            .retain(|e| user_of(&e.action) != Some(id.as_str()));
        for e in &mut moved.events {
            if let Some(user) = user_mut(&mut e.action) {
                if *user == id {
                    user.clone_from(&first);
                }
            }
        }
        out.push(without);
        out.push(moved);
    }
    if s.tabs.count > 0 {
        let mut c = s.clone();
        c.tabs.count = 0;
        out.push(c);
    }
    for i in 0..s.events.len() {
        if s.events[i].repeat.is_some() {
            let mut c = s.clone();
            c.events[i].repeat = None;
            out.push(c);
        }
        for w in 0..windows(&mut s.events[i].action.clone()).len() {
            let mut c = s.clone();
            let mut ws = windows(&mut c.events[i].action);
            if let Some(h) = halve(*ws[w], MIN_WINDOW) {
                *ws[w] = h;
                out.push(c);
            }
        }
    }
    // Each event earlier: halfway to the event before it (or to the start).
    for i in 0..s.events.len() {
        let floor = if i == 0 {
            Duration::ZERO
        } else {
            s.events[i - 1].at
        };
        let at = s.events[i].at;
        let earlier = Duration::from_secs((floor.as_secs() + at.as_secs()) / 2);
        if earlier > floor && earlier < at {
            let mut c = s.clone();
            c.events[i].at = earlier;
            out.push(c);
        }
    }
    if let Some(d) = halve(s.duration, MIN_DURATION) {
        let mut c = s.clone();
        c.duration = d;
        out.push(c);
    }
    out
}

/// Half of `d` in whole seconds, if that is still at least `min`.
fn halve(d: Duration, min: Duration) -> Option<Duration> {
    let h = Duration::from_secs(d.as_secs() / 2);
    (h >= min && h < d).then_some(h)
}

/// The windows of an action that shrinking halves.
fn windows(a: &mut Action) -> Vec<&mut Duration> {
    match a {
        Action::Unavailable { duration }
        | Action::PingSilence { duration }
        | Action::Partition { duration, .. }
        | Action::Latency { duration, .. }
        | Action::Loss { duration, .. } => vec![duration],
        Action::SlowHandshake { delay, duration } => vec![duration, delay],
        Action::Flap {
            duration, down, up, ..
        } => vec![duration, down, up],
        Action::Crash {
            restart_after: Some(r),
            ..
        } => vec![r],
        _ => Vec::new(),
    }
}

fn user_of(a: &Action) -> Option<&str> {
    match a {
        Action::Close { user, .. }
        | Action::Refuse { user, .. }
        | Action::Logout { user }
        | Action::Pair { user }
        | Action::Connect { user, .. }
        | Action::Disconnect { user, .. } => Some(user),
        _ => None,
    }
}

fn user_mut(a: &mut Action) -> Option<&mut String> {
    match a {
        Action::Close { user, .. }
        | Action::Refuse { user, .. }
        | Action::Logout { user }
        | Action::Pair { user }
        | Action::Connect { user, .. }
        | Action::Disconnect { user, .. } => Some(user),
        _ => None,
    }
}
