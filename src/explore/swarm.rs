//! Swarm-style fault schedules as a proptest strategy, so that proptest's
//! value trees shrink them.
//!
//! Swarm testing: each seed first turns each kind of fault on or off, then
//! draws only from the kinds that are on, with their own rates, so that rare
//! combinations (many crashes and no partitions; only closes and refusals)
//! come up instead of an even mix of everything. A draw may also be chained
//! to the one before it, landing 1–90 s after it, so faults that land close
//! together (a crash inside the cooldown after a terminal code) are common.
//!
//! Every number is a proptest integer with its smallest meaningful value as
//! the lower bound, so shrinking moves events earlier, shortens windows,
//! lowers counts and drops draws, kinds and users.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use proptest::prelude::*;
use proptest::strategy::{NewTree, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use super::generate::scenario_name;
use crate::invariants::INVARIANT_IDS;
use crate::scenario::{
    parse, to_toml, Action, EventSpec, Expectation, Link, NetworkSpec, Repeat, Scenario,
    SupervisorSpec, TabsSpec, UserSpec,
};

/// The kinds of fault a swarm turns on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Close,
    Refuse,
    Unavailable,
    LogoutPair,
    PingSilence,
    SlowHandshake,
    Partition,
    Flap,
    Latency,
    Loss,
    Crash,
    StartInstance,
    ConnectDisconnect,
}

/// Every kind, in the order a swarm's switches are drawn.
pub const KINDS: [Kind; 13] = [
    Kind::Close,
    Kind::Refuse,
    Kind::Unavailable,
    Kind::LogoutPair,
    Kind::PingSilence,
    Kind::SlowHandshake,
    Kind::Partition,
    Kind::Flap,
    Kind::Latency,
    Kind::Loss,
    Kind::Crash,
    Kind::StartInstance,
    Kind::ConnectDisconnect,
];

/// Codes a `close` uses (401 is left to `logout`, as in [`super::generate`]).
const CLOSE_WITH: [u16; 8] = [403, 408, 411, 428, 440, 500, 503, 515];
/// Codes a `refuse` uses: transient ones (see [`super::generate`]).
const REFUSE_WITH: [u16; 5] = [408, 428, 500, 503, 515];
const MAX_INSTANCES: u32 = 3;

/// How long generated schedules are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwarmShape {
    /// Scripted minutes, both ends included.
    pub min_minutes: u64,
    pub max_minutes: u64,
    /// Most draws in one schedule.
    pub max_draws: usize,
}

impl SwarmShape {
    /// What `explore` runs: 20–30 minutes, up to 10 draws.
    pub const EXPLORE: SwarmShape = SwarmShape {
        min_minutes: 20,
        max_minutes: 30,
        max_draws: 10,
    };
    /// The benchmark's one-hour schedules.
    pub const ONE_HOUR: SwarmShape = SwarmShape {
        min_minutes: 60,
        max_minutes: 60,
        max_draws: 12,
    };
}

/// One draw of a schedule, before it becomes events.
#[derive(Debug, Clone, PartialEq)]
pub struct Draw {
    /// Index into the swarm's enabled kinds.
    pub kind: usize,
    /// Seconds after the run's first minute, or after the previous draw.
    pub offset_s: u64,
    /// Land right after the previous draw rather than at `offset_s`.
    pub chained: bool,
    /// The draw's parameters, each in 0..1000, scaled to its range.
    pub params: [u32; 4],
    /// Which user (index, wraps around).
    pub user: usize,
}

/// A whole schedule: the swarm's switches and rates, then its draws.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub minutes: u64,
    pub users: usize,
    pub tabs: u32,
    pub poll_s: u64,
    pub jitter_ms: u64,
    /// The kinds turned on, in [`KINDS`] order.
    pub kinds: Vec<Kind>,
    pub draws: Vec<Draw>,
}

/// The swarm strategy for `shape`.
pub fn plans(shape: SwarmShape) -> impl Strategy<Value = Plan> {
    let switches = proptest::collection::vec(any::<bool>(), KINDS.len());
    (
        shape.min_minutes..=shape.max_minutes,
        1..=2usize,
        0..=5u32,
        2..=5u64,
        0..=1000u64,
        switches,
    )
        .prop_flat_map(move |(minutes, users, tabs, poll_s, jitter_ms, on)| {
            let mut kinds: Vec<Kind> = KINDS
                .iter()
                .zip(&on)
                .filter(|(_, on)| **on)
                .map(|(k, _)| *k)
                .collect();
            if kinds.is_empty() {
                kinds.push(Kind::Close);
            }
            let span = (minutes * 60).saturating_sub(180).max(1);
            let draw = (
                0..kinds.len(),
                0..span,
                proptest::bool::weighted(0.3),
                proptest::array::uniform4(0..1000u32),
                0..2usize,
            )
                .prop_map(|(kind, offset_s, chained, params, user)| Draw {
                    kind,
                    offset_s,
                    chained,
                    params,
                    user,
                });
            (
                Just((minutes, users, tabs, poll_s, jitter_ms, kinds)),
                proptest::collection::vec(draw, 1..=shape.max_draws),
            )
        })
        .prop_map(
            |((minutes, users, tabs, poll_s, jitter_ms, kinds), draws)| Plan {
                minutes,
                users,
                tabs,
                poll_s,
                jitter_ms,
                kinds,
                draws,
            },
        )
}

/// The proptest runner a seed stands for: the same seed, the same trees.
pub fn runner(seed: u64) -> TestRunner {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..16].copy_from_slice(&(!seed).to_le_bytes());
    TestRunner::new_with_rng(
        Config {
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    )
}

/// The value tree of the schedule drawn from `seed`.
pub fn tree(seed: u64, shape: SwarmShape) -> NewTree<BoxedStrategy<Plan>> {
    plans(shape).boxed().new_tree(&mut runner(seed))
}

/// The schedule drawn from `seed` alone, as a scenario for `preset`.
pub fn swarm(seed: u64, preset: &str, shape: SwarmShape) -> Scenario {
    match tree(seed, shape) {
        Ok(t) => build(&t.current(), seed, preset),
        // The strategy has no filters, so drawing cannot be rejected.
        Err(reason) => unreachable!("swarm strategy rejected a draw: {reason}"),
    }
}

/// `lo..=hi` scaled by a parameter in 0..1000.
fn scale(p: u32, lo: u64, hi: u64) -> u64 {
    lo + (hi - lo) * u64::from(p.min(999)) / 999
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// What the schedule built so far implies at later times.
struct State {
    running: u32,
    /// When the latest `start_instance` fires.
    last_start: Duration,
    down_until: Vec<Duration>,
    paired_from: BTreeMap<String, Duration>,
}

impl State {
    fn up(&self, at: Duration) -> Vec<u32> {
        (1..=self.running)
            .filter(|i| self.down_until[*i as usize - 1] <= at)
            .collect()
    }
}

/// The scenario a plan stands for: valid by construction, and read back
/// from its own TOML so it is exactly what its file says.
pub fn build(plan: &Plan, seed: u64, preset: &str) -> Scenario {
    let duration = secs(plan.minutes * 60);
    let users: Vec<String> = ["alice", "bob"][..plan.users.clamp(1, 2)]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut state = State {
        running: 1,
        last_start: Duration::ZERO,
        down_until: vec![Duration::ZERO],
        paired_from: users.iter().map(|u| (u.clone(), Duration::ZERO)).collect(),
    };
    let last = duration.as_secs().saturating_sub(120).max(60);
    let mut events = Vec::new();
    let mut prev = 60u64;
    for d in &plan.draws {
        let at_s = if d.chained {
            prev + 1 + d.offset_s % 90
        } else {
            60 + d.offset_s
        }
        .min(last);
        prev = at_s;
        let kind = plan.kinds[d.kind % plan.kinds.len()];
        let user = users[d.user % users.len()].clone();
        draw(
            kind,
            secs(at_s),
            duration,
            &user,
            d.params,
            &mut state,
            &mut events,
        );
    }
    events.sort_by_key(|e: &EventSpec| e.at);
    let scenario = Scenario {
        source: PathBuf::from(format!("{}.toml", scenario_name(seed))),
        name: scenario_name(seed),
        description: format!(
            "A swarm fault schedule drawn by `loopguard explore` from seed {seed} (kinds on: {}).",
            plan.kinds
                .iter()
                .map(|k| format!("{k:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        seed,
        duration,
        quiet_tail: secs(300),
        restart_delay: crate::scenario::DEFAULT_RESTART_DELAY,
        endpoint: crate::scenario::EndpointSpec::default(),
        tick: Duration::from_millis(10),
        users: users
            .iter()
            .map(|id| UserSpec {
                id: id.clone(),
                paired: true,
                enabled: true,
            })
            .collect(),
        instances: 1,
        supervisor: SupervisorSpec {
            preset: preset.to_string(),
            overrides: toml::Table::new(),
        },
        tabs: TabsSpec {
            count: plan.tabs,
            poll_interval: secs(plan.poll_s),
            jitter: Duration::from_millis(plan.jitter_ms),
            user: None,
        },
        network: NetworkSpec {
            min_latency: Duration::from_millis(1),
            max_latency: Duration::from_millis(20),
        },
        events,
        expect: BTreeMap::from([(
            preset.to_string(),
            Expectation {
                holds: INVARIANT_IDS.iter().map(|s| s.to_string()).collect(),
                violates: Vec::new(),
            },
        )]),
    };
    let text = to_toml(&scenario);
    parse(&scenario.source, &text).unwrap_or_else(|e| {
        panic!("the swarm schedule of seed {seed} does not read back: {e}\n{text}")
    })
}

fn draw(
    kind: Kind,
    at: Duration,
    duration: Duration,
    user: &str,
    p: [u32; 4],
    state: &mut State,
    events: &mut Vec<EventSpec>,
) {
    let mut push = |at: Duration, action: Action, repeat: Option<Repeat>| {
        events.push(EventSpec {
            at,
            action,
            repeat,
            line: 0,
        })
    };
    let link = if p[3] < 800 {
        Link::AppWa
    } else {
        Link::BrowserApp
    };
    let close = |code_p: u32| Action::Close {
        user: user.to_string(),
        code: CLOSE_WITH[code_p as usize % CLOSE_WITH.len()],
    };
    match kind {
        Kind::Close => {
            let every = secs(scale(p[1], 60, 240));
            let room = (duration.saturating_sub(at)).as_secs() / every.as_secs();
            let repeat = (p[2] >= 750 && room >= 1).then(|| Repeat {
                every,
                times: scale(p[2], 2, (room + 1).min(4)) as u32,
            });
            push(at, close(p[0]), repeat);
        }
        Kind::Refuse => push(
            at,
            Action::Refuse {
                user: user.to_string(),
                count: scale(p[1], 1, 5) as u32,
                code: REFUSE_WITH[p[0] as usize % REFUSE_WITH.len()],
            },
            None,
        ),
        Kind::Unavailable => push(
            at,
            Action::Unavailable {
                duration: secs(scale(p[0], 10, 300)),
            },
            None,
        ),
        Kind::LogoutPair => {
            if state.paired_from[user] > at {
                return push(at, close(p[0]), None);
            }
            let pair_at = (at + secs(scale(p[1], 30, 300))).min(duration);
            state.paired_from.insert(user.to_string(), pair_at);
            push(
                at,
                Action::Logout {
                    user: user.to_string(),
                },
                None,
            );
            push(
                pair_at,
                Action::Pair {
                    user: user.to_string(),
                },
                None,
            );
        }
        Kind::PingSilence => push(
            at,
            Action::PingSilence {
                duration: secs(scale(p[0], 30, 180)),
            },
            None,
        ),
        Kind::SlowHandshake => push(
            at,
            Action::SlowHandshake {
                delay: secs(scale(p[0], 1, 20)),
                duration: secs(scale(p[1], 60, 300)),
            },
            None,
        ),
        Kind::Partition => push(
            at,
            Action::Partition {
                link,
                duration: secs(scale(p[0], 10, 300)),
            },
            None,
        ),
        Kind::Flap => push(
            at,
            Action::Flap {
                link,
                duration: secs(scale(p[0], 60, 300)),
                down: secs(scale(p[1], 1, 20)),
                up: secs(scale(p[2], 5, 60)),
                jitter: secs(scale(p[2], 0, 5)),
            },
            None,
        ),
        Kind::Latency => {
            let min = Duration::from_millis(scale(p[0], 50, 1000));
            push(
                at,
                Action::Latency {
                    link,
                    min,
                    max: min + Duration::from_millis(scale(p[1], 0, 2000)),
                    duration: secs(scale(p[2], 60, 300)),
                },
                None,
            )
        }
        Kind::Loss => push(
            at,
            Action::Loss {
                link,
                rate: scale(p[0], 1, 50) as f64 / 100.0,
                duration: secs(scale(p[1], 30, 180)),
            },
            None,
        ),
        Kind::Crash => {
            let up = state.up(at);
            if up.is_empty() {
                return push(at, close(p[0]), None);
            }
            let instance = up[p[1] as usize % up.len()];
            let restart_after = secs(scale(p[0], 5, 120));
            state.down_until[instance as usize - 1] = at + restart_after;
            push(
                at,
                Action::Crash {
                    instance,
                    restart_after: Some(restart_after),
                },
                None,
            );
        }
        Kind::StartInstance => {
            // The world numbers instances in the order they start, so starts
            // are drawn in time order, and a new instance is up only from
            // its start (a draw before it in time cannot name it).
            if state.running >= MAX_INSTANCES || at < state.last_start {
                return push(at, close(p[0]), None);
            }
            state.running += 1;
            state.last_start = at;
            state.down_until.push(at);
            push(at, Action::StartInstance, None);
        }
        Kind::ConnectDisconnect => {
            let up = state.up(at);
            let instance = if up.is_empty() {
                1
            } else {
                up[p[1] as usize % up.len()]
            };
            if p[2] < 700 {
                let connect_at = (at + secs(scale(p[0], 30, 300))).min(duration);
                let again = state.up(connect_at).first().copied().unwrap_or(instance);
                push(
                    at,
                    Action::Disconnect {
                        user: user.to_string(),
                        instance,
                    },
                    None,
                );
                push(
                    connect_at,
                    Action::Connect {
                        user: user.to_string(),
                        instance: again,
                    },
                    None,
                );
            } else {
                push(
                    at,
                    Action::Connect {
                        user: user.to_string(),
                        instance,
                    },
                    None,
                );
            }
        }
    }
}

/// Shrinks the schedule drawn from `seed` with proptest's value tree:
/// `simplify` while the scenario still fails, `complicate` when a step went
/// too far, until the tree can do neither. Returns the smallest failing
/// scenario seen (the drawn one when nothing smaller fails) and how many
/// runs it took. `budget` caps the runs.
pub fn shrink_tree(
    seed: u64,
    preset: &str,
    shape: SwarmShape,
    budget: usize,
    mut still_fails: impl FnMut(&Scenario) -> bool,
) -> (Scenario, usize) {
    let Ok(mut t) = tree(seed, shape) else {
        unreachable!("swarm strategy rejected a draw");
    };
    let mut best = build(&t.current(), seed, preset);
    let mut runs = 0;
    if !t.simplify() {
        return (best, runs);
    }
    loop {
        if runs >= budget {
            break;
        }
        let candidate = build(&t.current(), seed, preset);
        runs += 1;
        let more = if still_fails(&candidate) {
            best = candidate;
            t.simplify()
        } else {
            t.complicate()
        };
        if !more {
            break;
        }
    }
    (best, runs)
}
