//! The oracle: SPEC's eight invariants and four more (`settles`,
//! `terminal_codes_respected`, `dead_link_detected`, `credentials_kept`),
//! judged on a run's trace.
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
//! Ground truth beyond sockets: `dial_during_request` (a dial made while the
//! harness's listener served a request, see `crate::request_context`),
//! `host_work_sampled` (each app host's live tokio tasks, HTTP connections
//! and open sockets every 10 s) and `socket_last_received` (when a socket
//! last received bytes). Each checker's doc says what it judges, on which
//! records, with which parameters ([`Params`]) and why.
//!
//! Rows are ordered by their index in the trace (recording order), which
//! breaks ties between rows stamped with the same millisecond.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::trace::truth::Truth;
use crate::trace::{TraceEvent, UserId};

mod backoff_schedule;
mod common;
mod credentials_kept;
mod dead_link_detected;
mod episodes;
mod eventually_connected;
mod max_attempts;
mod no_zombie_work;
mod reconnect_cooldown;
mod settles;
mod single_socket;
mod status_private;
mod status_read_only;
mod store_matches_truth;
mod terminal_codes_respected;

pub use backoff_schedule::BackoffSchedule;
pub use credentials_kept::CredentialsKept;
pub use dead_link_detected::DeadLinkDetected;
pub use eventually_connected::EventuallyConnected;
pub use max_attempts::MaxAttempts;
pub use no_zombie_work::NoZombieWork;
pub use reconnect_cooldown::ReconnectCooldown;
pub use settles::Settles;
pub use single_socket::SingleSocket;
pub use status_private::StatusPrivate;
pub use status_read_only::StatusReadOnly;
pub use store_matches_truth::StoreMatchesTruth;
pub use terminal_codes_respected::TerminalCodesRespected;

/// Ids of every invariant, in report order.
pub const INVARIANT_IDS: [&str; 13] = [
    "single_socket",
    "reconnect_cooldown",
    "max_attempts",
    "backoff_schedule",
    "status_read_only",
    "eventually_connected",
    "store_matches_truth",
    "no_zombie_work",
    "settles",
    "terminal_codes_respected",
    "dead_link_detected",
    "credentials_kept",
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
    /// Close codes after which no automatic attempt may come at all until a
    /// person acts (reference: 401 logged out, 403 forbidden, 411
    /// multi-device mismatch).
    pub terminal_codes: Vec<u16>,
    /// How long a dial plus handshake may take (reference: 20 s); the stored
    /// status may say CONNECTING for this plus `store_grace`.
    pub connect_timeout: Duration,
    /// Keep-alive period (reference: 30 s).
    pub keepalive_interval: Duration,
    /// Silence beyond `keepalive_interval` after which a link is dead
    /// (reference: 5 s).
    pub dead_link_grace: Duration,
    /// The simulation's tick: a deadline is met within one (the run sets it
    /// from the scenario).
    pub tick: Duration,
    /// The window the churn budgets of `settles` count over.
    pub churn_window: Duration,
    /// Status transitions one attempt may cause (CONNECTING, then CONNECTED
    /// or QR_PENDING, then DISCONNECTED).
    pub transitions_per_attempt: u32,
    /// Tasks an app instance may run beside its per-user and per-socket work
    /// (the auto-reconnector, and one task finishing its last poll).
    pub work_fixed_tasks: u64,
    /// Tasks per user an instance may run without a socket (a backoff timer
    /// or a dial in flight).
    pub work_tasks_per_user: u64,
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
            terminal_codes: vec![401, 403, 411],
            connect_timeout: Duration::from_secs(20),
            keepalive_interval: Duration::from_secs(30),
            dead_link_grace: Duration::from_secs(5),
            tick: Duration::from_millis(10),
            churn_window: Duration::from_secs(60),
            transitions_per_attempt: 3,
            work_fixed_tasks: 2,
            work_tasks_per_user: 1,
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
        Box::new(Settles),
        Box::new(TerminalCodesRespected),
        Box::new(DeadLinkDetected),
        Box::new(CredentialsKept),
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

/// What a run keeps of its violations: every one counted per invariant, and
/// the first `per_invariant` of each invariant in [`check_all`]'s order with
/// their evidence cut to `evidence_rows` rows, sorted as [`check_all`] sorts.
/// The same counts and violations as trimming [`check_all`]'s list, without
/// holding every violation of the run at once: each checker's list is
/// trimmed as soon as it is made.
pub fn check_kept(
    trace: &[TraceEvent],
    ctx: &RunContext,
    params: &Params,
    per_invariant: usize,
    evidence_rows: usize,
) -> (BTreeMap<String, u64>, Vec<Violation>) {
    let truth = Truth::from_trace(trace);
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut kept: Vec<Violation> = Vec::new();
    for inv in all() {
        let mut found = inv.check(trace, &truth, ctx, params);
        // Stable, so each invariant's violations keep the relative order the
        // whole sort in `check_all` gives them.
        found.sort_by(|a, b| {
            rank(&a.invariant)
                .cmp(&rank(&b.invariant))
                .then_with(|| a.at.cmp(&b.at))
                .then_with(|| a.user.cmp(&b.user))
        });
        for mut v in found {
            let n = counts.entry(v.invariant.clone()).or_default();
            *n += 1;
            if *n <= per_invariant as u64 {
                v.evidence.truncate(evidence_rows);
                v.evidence.shrink_to_fit();
                kept.push(v);
            }
        }
    }
    sort_violations(&mut kept);
    (counts, kept)
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
