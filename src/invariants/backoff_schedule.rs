//! `backoff_schedule`: each backoff attempt waits its turn.

use std::time::Duration;

use crate::trace::truth::Truth;
use crate::trace::TraceEvent;

use super::common::{ordinal, rows_by_user, secs, users_seen, violation};
use super::episodes::user_episodes;
use super::{Invariant, Params, RunContext, Violation};

/// The n-th `AttemptStarted{cause: backoff}` of an episode (numbered by the
/// oracle, not by the row's own `attempt`) comes no sooner than
/// `min(backoff_base·2^(n−1), backoff_cap)` after the user's latest failure
/// before it, with 1 ms of slack for millisecond stamps. One violation per
/// early attempt.
pub struct BackoffSchedule;

const ID: &str = "backoff_schedule";

/// Trace times are truncated to the millisecond.
const SLACK: Duration = Duration::from_millis(1);

/// `min(base·2^(n−1), cap)`.
pub(crate) fn required_delay(params: &Params, n: u32) -> Duration {
    let factor = 1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX);
    params
        .backoff_base
        .checked_mul(factor)
        .unwrap_or(Duration::MAX)
        .min(params.backoff_cap)
}

impl Invariant for BackoffSchedule {
    fn id(&self) -> &'static str {
        ID
    }

    fn meaning(&self) -> &'static str {
        "no backoff attempt comes sooner than min(2 s·2^(n−1), 60 s) after the previous failure"
    }

    fn check(
        &self,
        trace: &[TraceEvent],
        truth: &Truth,
        _ctx: &RunContext,
        params: &Params,
    ) -> Vec<Violation> {
        let by_user = rows_by_user(trace);
        let users = users_seen(&by_user, truth);

        let mut out = Vec::new();
        for user in users {
            let rows = by_user.get(user).map(Vec::as_slice).unwrap_or(&[]);
            for a in user_episodes(trace, truth.user(user), rows, params).attempts {
                let Some(f) = &a.last_failure else {
                    continue;
                };
                let gap = a.at.saturating_sub(f.at);
                let required = required_delay(params, a.n);
                if gap + SLACK >= required {
                    continue;
                }
                let message = format!(
                    "{} backoff attempt of the episode came {} after the last failure ({} at {}); \
                     the schedule requires at least {}",
                    ordinal(a.n),
                    secs(gap),
                    f.what,
                    secs(f.at),
                    secs(required),
                );
                out.push(violation(ID, a.at, user, message, trace, &[f.row, a.row]));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_required_delay_doubles_from_the_base_up_to_the_cap() {
        let p = Params::default();
        let got: Vec<u64> = (1..=8).map(|n| required_delay(&p, n).as_secs()).collect();
        assert_eq!(got, [2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(required_delay(&p, 200), Duration::from_secs(60));
    }
}
