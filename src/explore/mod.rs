//! `loopguard explore`: random fault schedules from a range of seeds, each
//! run against one preset, and every failing one shrunk to the smallest
//! scenario file that still fails.
//!
//! - [`generate`]: a valid, plausible schedule from a seed alone;
//! - [`fails`]: the run's verdict is Fail (an invariant that must hold was
//!   violated);
//! - [`shrink`]: greedy reduction to a fixpoint under any "still fails"
//!   predicate;
//! - [`parse_seeds`]: `1..100` (both ends included), `1..=100` or `7`;
//! - [`swarm`]: the swarm-style proptest strategy `explore` draws from, and
//!   [`minimize`]: proptest's value-tree shrinking, then the greedy
//!   shrinker, then merging repeats;
//! - [`Shard`]: `--shard I/N`, which seeds of a range or a time budget
//!   one machine of N runs.

pub mod batch;
mod generate;
mod minimize;
mod shard;
mod shrink;
pub mod swarm;

use std::ops::RangeInclusive;

pub use generate::{generate, scenario_name};
pub use minimize::{fails_on, merge_repeats, minimize, Minimized};
pub use shard::{parse_time, Shard};
pub use shrink::shrink;
pub use swarm::{swarm, SwarmShape};

use crate::report::Verdict;
use crate::run::execute;
use crate::scenario::Scenario;

/// Whether running `scenario` with `preset` fails: some invariant that must
/// hold was violated. A run that cannot be made does not count as failing.
pub fn fails(scenario: &Scenario, preset: &str) -> bool {
    execute(scenario, preset, None, &mut |_| {}).is_ok_and(|r| r.summary.verdict == Verdict::Fail)
}

/// A seed range as written on the command line: `A..B` and `A..=B` both
/// include `B` (`1..100` is a hundred seeds); a single `N` is one seed.
pub fn parse_seeds(text: &str) -> Result<RangeInclusive<u64>, String> {
    let t = text.trim();
    let num = |s: &str| {
        s.trim().parse::<u64>().map_err(|_| {
            format!("bad seed range \"{text}\": `{s}` is not a seed (write e.g. 1..100)")
        })
    };
    let (a, b) = match t.split_once("..") {
        Some((a, b)) => (num(a)?, num(b.strip_prefix('=').unwrap_or(b))?),
        None => {
            let n = num(t)?;
            (n, n)
        }
    };
    if a > b {
        return Err(format!(
            "bad seed range \"{text}\": it starts after it ends (write e.g. 1..100)"
        ));
    }
    Ok(a..=b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_ranges_include_both_ends() {
        assert_eq!(parse_seeds("1..100"), Ok(1..=100));
        assert_eq!(parse_seeds("1..=3"), Ok(1..=3));
        assert_eq!(parse_seeds("7"), Ok(7..=7));
    }

    #[test]
    fn malformed_seed_ranges_are_refused() {
        for bad in ["", "a..b", "5..1", "1...3", "-1..3", "1..", "..3"] {
            assert!(parse_seeds(bad).is_err(), "{bad:?} accepted");
        }
    }
}
