//! The oracle: SPEC's eight invariants, judged on a run's trace.
//!
//! Parameters default to the reference's numbers: they are the requirement,
//! independent of the preset under test.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::trace::{TraceEvent, UserId};

/// Ids of every invariant, in report order.
pub const INVARIANT_IDS: [&str; 8] = [
    "single_socket",
    "reconnect_cooldown",
    "max_attempts",
    "backoff_schedule",
    "status_read_only",
    "eventually_connected",
    "store_matches_truth",
    "no_zombie_work",
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
    /// The trace rows that prove it.
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
    pub cooldown: Duration,
    pub max_attempts: u32,
    pub episode_min_uptime: Duration,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    pub recover_within: Duration,
    pub store_grace: Duration,
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
