//! `max_attempts`: at most `max_attempts` backoff attempts per episode.

use crate::trace::truth::Truth;
use crate::trace::TraceEvent;

use super::common::{ordinal, param, rows_by_user, secs, users_seen, violation};
use super::episodes::user_episodes;
use super::{Invariant, Params, RunContext, Violation};

/// Counts `AttemptStarted{cause: backoff}` of each user per episode of
/// failures (see `episodes`: a brief open does not end one, a connection
/// that stays up for `episode_min_uptime` does). One violation per episode
/// with too many, at the first attempt over the limit.
pub struct MaxAttempts;

const ID: &str = "max_attempts";

impl Invariant for MaxAttempts {
    fn id(&self) -> &'static str {
        ID
    }

    fn meaning(&self) -> &'static str {
        "at most 5 backoff attempts per episode; an episode ends only when a connection has \
         stayed up for 60 s, so a brief open does not reset the count"
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
        let limit = usize::try_from(params.max_attempts).unwrap_or(usize::MAX);

        let mut out = Vec::new();
        for user in users {
            let rows = by_user.get(user).map(Vec::as_slice).unwrap_or(&[]);
            let episodes = user_episodes(trace, truth.user(user), rows, params);
            for ep in episodes.episodes {
                let Some(&over) = ep.attempts.get(limit) else {
                    continue;
                };
                let message = format!(
                    "{} backoff attempt of one episode ({} in all), which began at {} when {}, \
                     with no connection up for {} since; the limit is {}",
                    ordinal(params.max_attempts.saturating_add(1)),
                    ep.attempts.len(),
                    secs(ep.start_at),
                    ep.start_what,
                    param(params.episode_min_uptime),
                    params.max_attempts,
                );
                let mut rows = vec![ep.start_row];
                rows.extend_from_slice(&ep.attempts[..=limit]);
                out.push(violation(ID, trace[over].at, user, message, trace, &rows));
            }
        }
        out
    }
}
