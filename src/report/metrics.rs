//! Stability metrics of one run, computed from its trace.
//!
//! "Connected" is the harness's ground truth ([`Truth`]): an authenticated,
//! paired endpoint socket open on both sides. What the supervisor says of
//! itself never counts here.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::trace::truth::{Truth, UserTruth};
use crate::trace::{AttemptCause, EventKind, TraceEvent, UserId};

/// Metrics of one user over a run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserMetrics {
    /// Truly connected time within the run.
    pub connected: Duration,
    /// `connected` / run length, in percent.
    pub uptime_pct: f64,
    /// Connection attempts the supervisor started, by cause.
    pub attempts: BTreeMap<AttemptCause, u32>,
    pub attempts_total: u32,
    /// Endpoint closes by the stream_error code sent.
    pub closes: BTreeMap<u16, u32>,
    /// Endpoint closes without a code (the peer went away first).
    pub closes_without_code: u32,
    /// Longest stretch not truly connected, the start of the run and its
    /// end included.
    pub longest_disconnected: Duration,
    /// For each loss of true connection, in time order, the time until the
    /// next true connection.
    pub recoveries: Vec<Duration>,
    pub recover_median: Option<Duration>,
    pub recover_max: Option<Duration>,
    /// Losses with no true connection after them before the run ended.
    pub unrecovered: u32,
}

/// Metrics of a whole run; the per-run figures aggregate [`UserMetrics`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunMetrics {
    pub run_length: Duration,
    /// Mean of the users' uptime (0 when the run has no user).
    pub uptime_pct: f64,
    pub attempts: BTreeMap<AttemptCause, u32>,
    pub attempts_total: u32,
    pub closes: BTreeMap<u16, u32>,
    pub closes_without_code: u32,
    /// Longest of the users' disconnected stretches.
    pub longest_disconnected: Duration,
    /// Every user's recoveries, user by user (in id order), each in time order.
    pub recoveries: Vec<Duration>,
    pub recover_median: Option<Duration>,
    pub recover_max: Option<Duration>,
    pub unrecovered: u32,
    /// App instance crashes.
    pub crashes: u32,
    pub users: BTreeMap<UserId, UserMetrics>,
}

impl RunMetrics {
    /// Total closes, with and without a code.
    pub fn closes_total(&self) -> u32 {
        self.closes.values().sum::<u32>() + self.closes_without_code
    }
}

/// Metrics of a run, over every user the trace names.
pub fn metrics(trace: &[TraceEvent], run_length: Duration) -> RunMetrics {
    metrics_for_users(trace, run_length, &[])
}

/// Metrics of a run over `users` (the scenario's users: one never seen in
/// the trace still counts, with 0% uptime) and every user the trace names.
pub fn metrics_for_users(
    trace: &[TraceEvent],
    run_length: Duration,
    users: &[UserId],
) -> RunMetrics {
    let truth = Truth::from_trace(trace);
    let mut ids: BTreeSet<UserId> = users.iter().cloned().collect();
    ids.extend(trace.iter().filter_map(|e| e.user.clone()));
    ids.extend(truth.users.keys().cloned());

    let empty = UserTruth::default();
    let mut per_user: BTreeMap<UserId, UserMetrics> = ids
        .into_iter()
        .map(|id| {
            let m = connection_metrics(truth.user(&id).unwrap_or(&empty), run_length);
            (id, m)
        })
        .collect();

    // Endpoint rows name the user from hello on; before that, truth knows
    // the socket's user from its client side.
    let sock_user: BTreeMap<u64, &str> = truth
        .users
        .iter()
        .flat_map(|(id, u)| u.endpoint_sockets.iter().map(|s| (s.sock, id.as_str())))
        .collect();

    let mut run = RunMetrics {
        run_length,
        ..RunMetrics::default()
    };
    for e in trace {
        match &e.kind {
            EventKind::AttemptStarted { cause, .. } => {
                *run.attempts.entry(*cause).or_default() += 1;
                run.attempts_total += 1;
                if let Some(u) = e.user.as_ref().and_then(|u| per_user.get_mut(u)) {
                    *u.attempts.entry(*cause).or_default() += 1;
                    u.attempts_total += 1;
                }
            }
            EventKind::EndpointClosed { sock, code, .. } => {
                let user = e
                    .user
                    .as_deref()
                    .or_else(|| sock_user.get(sock).copied())
                    .and_then(|u| per_user.get_mut(u));
                match code {
                    Some(c) => {
                        *run.closes.entry(*c).or_default() += 1;
                        if let Some(u) = user {
                            *u.closes.entry(*c).or_default() += 1;
                        }
                    }
                    None => {
                        run.closes_without_code += 1;
                        if let Some(u) = user {
                            u.closes_without_code += 1;
                        }
                    }
                }
            }
            EventKind::InstanceCrashed { .. } => run.crashes += 1,
            _ => {}
        }
    }

    for u in per_user.values() {
        run.recoveries.extend(&u.recoveries);
        run.unrecovered += u.unrecovered;
        run.longest_disconnected = run.longest_disconnected.max(u.longest_disconnected);
    }
    if !per_user.is_empty() {
        run.uptime_pct =
            per_user.values().map(|u| u.uptime_pct).sum::<f64>() / per_user.len() as f64;
    }
    run.recover_median = median(&run.recoveries);
    run.recover_max = run.recoveries.iter().max().copied();
    run.users = per_user;
    run
}

/// Uptime, disconnected stretches and recoveries of one user.
fn connection_metrics(truth: &UserTruth, run_length: Duration) -> UserMetrics {
    let spans: Vec<(Duration, Duration)> = truth
        .connected
        .iter()
        .filter(|i| i.start < run_length)
        .map(|i| (i.start, i.end_or(run_length).min(run_length)))
        .collect();

    let connected: Duration = spans.iter().map(|(s, e)| e.saturating_sub(*s)).sum();
    let mut longest = Duration::ZERO;
    let mut last_end = Duration::ZERO;
    for (start, end) in &spans {
        longest = longest.max(start.saturating_sub(last_end));
        last_end = *end;
    }
    longest = longest.max(run_length.saturating_sub(last_end));

    let recoveries: Vec<Duration> = spans
        .windows(2)
        .map(|w| w[1].0.saturating_sub(w[0].1))
        .collect();
    let unrecovered = u32::from(spans.last().is_some_and(|(_, end)| *end < run_length));

    UserMetrics {
        connected,
        uptime_pct: percent_of(connected, run_length),
        longest_disconnected: longest,
        recover_median: median(&recoveries),
        recover_max: recoveries.iter().max().copied(),
        recoveries,
        unrecovered,
        ..UserMetrics::default()
    }
}

fn percent_of(part: Duration, whole: Duration) -> f64 {
    if whole.is_zero() {
        return 0.0;
    }
    part.as_secs_f64() * 100.0 / whole.as_secs_f64()
}

/// The middle value; with an even count, the mean of the two middle ones.
fn median(values: &[Duration]) -> Option<Duration> {
    let mut v = values.to_vec();
    v.sort();
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        let d = Duration::from_millis;
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[d(5), d(1), d(3)]), Some(d(3)));
        assert_eq!(median(&[d(4), d(1), d(3), d(10)]), Some(d(3_500) / 1_000));
    }
}
