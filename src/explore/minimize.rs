//! From a failing swarm seed to the smallest scenario file that breaks the
//! same invariants: proptest's value-tree shrinking first (it drops draws,
//! kinds and users, moves events earlier and shortens windows, all in the
//! space of valid schedules), then the greedy [`shrink`] to a fixpoint, then
//! [`merge_repeats`], which folds evenly spaced copies of one event into one
//! event with a `repeat`.

use std::collections::BTreeSet;

use super::shrink::shrink;
use super::swarm::{shrink_tree, SwarmShape};
use crate::report::Verdict;
use crate::run::execute_on;
use crate::scenario::{EventSpec, Repeat, Scenario};
use crate::sim::Engine;

/// The invariants a run of `scenario` with `preset` on `engine` violated
/// that the scenario expects to hold, or `None` when the run could not be
/// made.
pub fn fails_on(engine: Engine, scenario: &Scenario, preset: &str) -> Option<BTreeSet<String>> {
    let r = execute_on(engine, scenario, preset, None, &mut |_| {}).ok()?;
    let broken: BTreeSet<String> = if r.summary.verdict == Verdict::Fail {
        r.summary
            .violated
            .into_iter()
            .filter(|v| r.summary.expected_holds.contains(v))
            .collect()
    } else {
        BTreeSet::new()
    };
    Some(broken)
}

/// A failing seed, shrunk.
#[derive(Debug, Clone)]
pub struct Minimized {
    /// The scenario drawn from the seed.
    pub original: Scenario,
    /// The smallest scenario found that still breaks one of `broken`.
    pub minimal: Scenario,
    /// What the drawn scenario broke.
    pub broken: BTreeSet<String>,
    /// Runs spent shrinking.
    pub runs: usize,
}

/// Shrinks the swarm schedule of `seed` (assumed failing with `broken`) on
/// `engine`: a candidate counts when it still breaks at least one of the
/// invariants the drawn schedule broke, so the result breaks the same bug.
/// proptest's value tree may spend `tree_runs` runs; the greedy pass then
/// runs to its fixpoint.
pub fn minimize(
    seed: u64,
    preset: &str,
    shape: SwarmShape,
    engine: Engine,
    broken: &BTreeSet<String>,
    tree_runs: usize,
) -> Minimized {
    let original = super::swarm(seed, preset, shape);
    let mut runs = 0usize;
    let mut same_bug = |c: &Scenario| {
        runs += 1;
        fails_on(engine, c, preset).is_some_and(|b| !b.is_disjoint(broken))
    };
    let (tree_min, _) = shrink_tree(seed, preset, shape, tree_runs, &mut same_bug);
    let greedy = shrink(&tree_min, preset, &mut same_bug);
    let merged = merge_repeats(&greedy);
    let minimal = if merged != greedy && same_bug(&merged) {
        merged
    } else {
        greedy
    };
    Minimized {
        original,
        minimal,
        broken: broken.clone(),
        runs,
    }
}

/// Folds copies of one event at evenly spaced times into one event with a
/// `repeat`: `close 440` at 2 m, 4 m and 6 m becomes one `close 440` at 2 m
/// every 2 m, 3 times. The timeline is unchanged.
pub fn merge_repeats(s: &Scenario) -> Scenario {
    let mut out = s.clone();
    let mut merged: Vec<EventSpec> = Vec::new();
    let mut used = vec![false; s.events.len()];
    for i in 0..s.events.len() {
        if used[i] {
            continue;
        }
        let e = &s.events[i];
        let times: Vec<std::time::Duration> = expand(e);
        let mut all = times.clone();
        let mut take = vec![i];
        for (j, other) in s.events.iter().enumerate().skip(i + 1) {
            if !used[j] && other.action == e.action {
                let mut next = all.clone();
                next.extend(expand(other));
                next.sort();
                if evenly_spaced(&next) {
                    all = next;
                    take.push(j);
                }
            }
        }
        for j in &take {
            used[*j] = true;
        }
        let mut event = e.clone();
        if take.len() > 1 {
            event.at = all[0];
            event.repeat = Some(Repeat {
                every: all[1] - all[0],
                times: u32::try_from(all.len()).unwrap_or(u32::MAX),
            });
        }
        merged.push(event);
    }
    merged.sort_by_key(|e| e.at);
    out.events = merged;
    out
}

fn expand(e: &EventSpec) -> Vec<std::time::Duration> {
    let (every, times) = e
        .repeat
        .map_or((Default::default(), 1), |r| (r.every, r.times));
    (0..times).map(|i| e.at + every * i).collect()
}

fn evenly_spaced(times: &[std::time::Duration]) -> bool {
    times.len() >= 2
        && times[1] > times[0]
        && times.windows(2).all(|w| w[1] - w[0] == times[1] - times[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{parse, Action};
    use std::path::Path;
    use std::time::Duration;

    fn scenario(events: &str) -> Scenario {
        parse(Path::new("t.toml"), events).expect("parses")
    }

    #[test]
    fn evenly_spaced_copies_of_one_event_become_one_repeated_event() {
        let s = scenario(
            "[[events]]\nat = \"2m\"\naction = \"close\"\ncode = 440\n\
             [[events]]\nat = \"4m\"\naction = \"close\"\ncode = 440\n\
             [[events]]\nat = \"6m\"\naction = \"close\"\ncode = 440\n",
        );
        let m = merge_repeats(&s);
        assert_eq!(m.events.len(), 1);
        assert_eq!(m.events[0].at, Duration::from_secs(120));
        assert_eq!(
            m.events[0].repeat,
            Some(Repeat {
                every: Duration::from_secs(120),
                times: 3
            })
        );
        assert_eq!(
            m.timeline().iter().map(|(t, _)| *t).collect::<Vec<_>>(),
            s.timeline().iter().map(|(t, _)| *t).collect::<Vec<_>>()
        );
    }

    #[test]
    fn unevenly_spaced_or_different_events_stay_apart() {
        let s = scenario(
            "[[events]]\nat = \"2m\"\naction = \"close\"\ncode = 440\n\
             [[events]]\nat = \"3m\"\naction = \"close\"\ncode = 428\n\
             [[events]]\nat = \"7m\"\naction = \"close\"\ncode = 440\n\
             [[events]]\nat = \"8m\"\naction = \"close\"\ncode = 440\n",
        );
        let m = merge_repeats(&s);
        // 2 m and 7 m merge; 8 m would break the spacing; 428 differs.
        assert_eq!(m.events.len(), 3);
        assert!(matches!(
            m.events[1].action,
            Action::Close { code: 428, .. }
        ));
    }
}
