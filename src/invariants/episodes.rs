//! Episodes of failures, shared by `max_attempts` and `backoff_schedule`.
//!
//! An episode begins at a failure of a user (an endpoint close, a
//! client-side socket close or a failed dial) that comes while the user is
//! not in a stable connection, and ends only once the user has stayed truly
//! connected for `episode_min_uptime`: a brief open does not end it. A
//! connection is stable at t when a connected interval holds t and began at
//! least `episode_min_uptime` before; failures during a stable connection
//! (a stray socket closing beside it) begin nothing.
//!
//! A person's connect press that reached the app (`PressDelivered`) also
//! ends the episode: the person starts over, and the attempt budget with
//! them.
//!
//! Backoff attempts (`AttemptStarted{cause: backoff}`) are numbered within
//! their episode. One that comes outside any episode (no failure was seen)
//! begins an episode of its own.

use std::time::Duration;

use crate::trace::truth::{Interval, UserTruth};
use crate::trace::{AttemptCause, EventKind, TraceEvent};

use super::common::{connected_at, failures, Failure};
use super::Params;

#[derive(Debug, Clone)]
pub(crate) struct Episode {
    /// The row that began it: a failure, or a backoff attempt.
    pub start_row: usize,
    pub start_at: Duration,
    /// What began it, for messages.
    pub start_what: String,
    /// Rows of its backoff attempts, in order.
    pub attempts: Vec<usize>,
}

#[derive(Debug, Clone)]
pub(crate) struct BackoffAttempt {
    pub row: usize,
    pub at: Duration,
    /// 1 for the episode's first backoff attempt.
    pub n: u32,
    /// The user's latest failure before it, in any episode.
    pub last_failure: Option<Failure>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct UserEpisodes {
    pub episodes: Vec<Episode>,
    pub attempts: Vec<BackoffAttempt>,
}

/// Splits one user's failures and backoff attempts into episodes.
pub(crate) fn user_episodes(
    trace: &[TraceEvent],
    ut: Option<&UserTruth>,
    rows: &[usize],
    params: &Params,
) -> UserEpisodes {
    let uptime = params.episode_min_uptime;
    let connected: &[Interval] = ut.map(|u| u.connected.as_slice()).unwrap_or(&[]);
    let stable_at = |t: Duration| connected_at(connected, t).is_some_and(|i| i.start + uptime <= t);
    // The moments at which a connection has been up for `uptime`, in order.
    let stable_from: Vec<Duration> = connected
        .iter()
        .map(|i| i.start + uptime)
        .zip(connected)
        .filter(|(stable, i)| i.end.is_none_or(|e| e >= *stable))
        .map(|(stable, _)| stable)
        .collect();
    // Whether the episode that began at `start` has ended by `t`: a
    // connection became stable after `start`, at or before `t`.
    let ends_by = |start: Duration, t: Duration| {
        let first = stable_from.partition_point(|s| *s <= start);
        stable_from.get(first).is_some_and(|s| *s <= t)
    };

    enum Item {
        Failure(Failure),
        Attempt(usize),
        Press,
    }
    let mut items: Vec<(usize, Item)> = failures(trace, ut, rows)
        .into_iter()
        .map(|f| (f.row, Item::Failure(f)))
        .collect();
    items.extend(rows.iter().copied().filter_map(|r| {
        matches!(
            trace[r].kind,
            EventKind::AttemptStarted {
                cause: AttemptCause::Backoff,
                ..
            }
        )
        .then_some((r, Item::Attempt(r)))
    }));
    items.extend(
        rows.iter()
            .copied()
            .filter(|r| super::common::press_delivered(&trace[*r]) == Some(true))
            .map(|r| (r, Item::Press)),
    );
    items.sort_by_key(|(row, _)| *row);

    let mut out = UserEpisodes::default();
    let mut current: Option<Episode> = None;
    let mut last_failure: Option<Failure> = None;
    for (row, item) in items {
        let at = trace[row].at;
        if current.as_ref().is_some_and(|ep| ends_by(ep.start_at, at)) {
            out.episodes.extend(current.take());
        }
        match item {
            Item::Press => out.episodes.extend(current.take()),
            Item::Failure(f) => {
                if current.is_none() && !stable_at(at) {
                    current = Some(Episode {
                        start_row: row,
                        start_at: at,
                        start_what: f.what.clone(),
                        attempts: Vec::new(),
                    });
                }
                last_failure = Some(f);
            }
            Item::Attempt(r) => {
                let ep = current.get_or_insert_with(|| Episode {
                    start_row: r,
                    start_at: at,
                    start_what: "a backoff attempt with no failure before it".to_string(),
                    attempts: Vec::new(),
                });
                ep.attempts.push(r);
                out.attempts.push(BackoffAttempt {
                    row: r,
                    at,
                    n: u32::try_from(ep.attempts.len()).unwrap_or(u32::MAX),
                    last_failure: last_failure.clone(),
                });
            }
        }
    }
    out.episodes.extend(current);
    out
}
