//! The oracle: SPEC's eight invariants, judged on a run's trace.
//!
//! Parameters default to the reference's numbers: they are the requirement,
//! independent of the preset under test.
//!
//! Every checker judges ground truth (the client-side transport wrapper and
//! the endpoint, through [`Truth`]) and the simulator's own rows (faults,
//! crashes, button presses). The supervisor's account (attempts, sessions,
//! keep-alives, store writes) is read only where an invariant is about it;
//! it explains a verdict and never excuses one.
//!
//! Rows are ordered by their index in the trace (recording order), which
//! breaks ties between rows stamped with the same millisecond.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::trace::truth::Truth;
use crate::trace::{TraceEvent, UserId};

mod backoff_schedule;
mod common;
mod episodes;
mod eventually_connected;
mod max_attempts;
mod no_zombie_work;
mod reconnect_cooldown;
mod single_socket;
mod status_private;
mod status_read_only;
mod store_matches_truth;

pub use backoff_schedule::BackoffSchedule;
pub use eventually_connected::EventuallyConnected;
pub use max_attempts::MaxAttempts;
pub use no_zombie_work::NoZombieWork;
pub use reconnect_cooldown::ReconnectCooldown;
pub use single_socket::SingleSocket;
pub use status_private::StatusPrivate;
pub use status_read_only::StatusReadOnly;
pub use store_matches_truth::StoreMatchesTruth;

/// Ids of every invariant, in report order.
pub const INVARIANT_IDS: [&str; 9] = [
    "single_socket",
    "reconnect_cooldown",
    "max_attempts",
    "backoff_schedule",
    "status_read_only",
    "eventually_connected",
    "store_matches_truth",
    "no_zombie_work",
    "status_private",
];

/// One broken promise, with the events that prove it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    pub invariant: String,
    /// Virtual time of the violation.
    #[serde(with = "crate::util::millis")]
    pub at: Duration,
    pub user: Option<UserId>,
    /// One sentence a person can read.
    pub message: String,
    /// The trace rows that prove it, in trace order.
    pub evidence: Vec<TraceEvent>,
}

/// What the checkers need to know beyond the trace.
#[derive(Debug, Clone, PartialEq)]
pub struct RunContext {
    pub users: Vec<UserFacts>,
    /// When the last fault ended; `eventually_connected` judges after this.
    pub faults_end: Duration,
    /// Length of the run.
    pub run_end: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UserFacts {
    pub id: UserId,
    pub paired: bool,
    pub enabled: bool,
}

/// Parameters of the invariants; defaults are the reference's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// No automatic reconnect this soon after a disconnect (reference: 60 s).
    pub cooldown: Duration,
    /// Backoff attempts allowed per episode (reference: 5).
    pub max_attempts: u32,
    /// An episode of failures ends once a connection stays up this long.
    pub episode_min_uptime: Duration,
    /// First backoff delay, doubled per attempt (reference: 2 s).
    pub backoff_base: Duration,
    /// Largest backoff delay (reference: 60 s).
    pub backoff_cap: Duration,
    /// After faults end, every eligible user is connected within this.
    pub recover_within: Duration,
    /// How long the stored status may disagree with the truth.
    pub store_grace: Duration,
    /// Close codes after which no automatic reconnect may come within the
    /// cooldown.
    pub non_retryable_codes: Vec<u16>,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            cooldown: Duration::from_secs(60),
            max_attempts: 5,
            episode_min_uptime: Duration::from_secs(60),
            backoff_base: Duration::from_secs(2),
            backoff_cap: Duration::from_secs(60),
            recover_within: Duration::from_secs(180),
            store_grace: Duration::from_secs(5),
            non_retryable_codes: vec![440, 401, 403, 411],
        }
    }
}

/// One of SPEC's invariants: an id, what it means, and its checker.
pub trait Invariant {
    /// The id, as in [`INVARIANT_IDS`].
    fn id(&self) -> &'static str;
    /// What holds when it holds, in one line.
    fn meaning(&self) -> &'static str;
    /// Every violation in the run, in the checker's own order.
    fn check(
        &self,
        trace: &[TraceEvent],
        truth: &Truth,
        ctx: &RunContext,
        params: &Params,
    ) -> Vec<Violation>;
}

/// Every invariant, in [`INVARIANT_IDS`] order.
pub fn all() -> Vec<Box<dyn Invariant>> {
    vec![
        Box::new(SingleSocket),
        Box::new(ReconnectCooldown),
        Box::new(MaxAttempts),
        Box::new(BackoffSchedule),
        Box::new(StatusReadOnly),
        Box::new(EventuallyConnected),
        Box::new(StoreMatchesTruth),
        Box::new(NoZombieWork),
        Box::new(StatusPrivate),
    ]
}

/// The invariant with this id.
pub fn by_id(id: &str) -> Option<Box<dyn Invariant>> {
    all().into_iter().find(|inv| inv.id() == id)
}

/// The one-line meaning of an invariant.
pub fn meaning(id: &str) -> Option<&'static str> {
    by_id(id).map(|inv| inv.meaning())
}

/// Judges every invariant on a trace. Violations come sorted by time, then
/// by invariant in [`INVARIANT_IDS`] order, then by user; ties keep each
/// checker's own order, so the result is the same run after run.
pub fn check_all(trace: &[TraceEvent], ctx: &RunContext, params: &Params) -> Vec<Violation> {
    let truth = Truth::from_trace(trace);
    let mut out: Vec<Violation> = all()
        .iter()
        .flat_map(|inv| inv.check(trace, &truth, ctx, params))
        .collect();
    sort_violations(&mut out);
    out
}

/// Sorts violations by (time, invariant in report order, user), stably.
pub fn sort_violations(violations: &mut [Violation]) {
    violations.sort_by(|a, b| {
        a.at.cmp(&b.at)
            .then_with(|| rank(&a.invariant).cmp(&rank(&b.invariant)))
            .then_with(|| a.user.cmp(&b.user))
    });
}

fn rank(id: &str) -> usize {
    INVARIANT_IDS
        .iter()
        .position(|known| *known == id)
        .unwrap_or(INVARIANT_IDS.len())
}
