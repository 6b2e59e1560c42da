//! From records to what the outside world did.
//!
//! The scenario replays the world, not the supervisor: its closes, rival
//! logins, network losses and pairing. What the supervisor did in reply
//! (its attempts, waits, duplicate sockets) is left for the simulation to
//! redo, and only measured ([`LogMinute`]) to compare with it.
//!
//! The rules, each stated in the header of the file it writes:
//! - **440 with one socket open** in the log is a rival login. A run of them,
//!   each after the supervisor connected again at a steady delay, is one
//!   `rival_device` that logs in again `relogin_after` (the median gap from
//!   the supervisor's reconnect to the next 440) after each of our logins,
//!   `times` times, `until` a little past the log's last 440; a run whose
//!   delays vary is one single-login `rival_device` at each 440.
//! - **440 with two or more sockets open** is the supervisor replacing
//!   itself: not injected (the preset's own duplicate sockets will redo it).
//! - **The same code closing sockets of about the same age** (three or more,
//!   within a quarter of their median age) is `churn`, in a one-user log
//!   (`churn` closes every user's sockets).
//! - **Other 408s** are network losses: the link is cut from
//!   [`DEAD_LINK_DETECT`] before the close (when the supervisor would have
//!   noticed) until just before the log's next open.
//! - **401** is `logout`; **515** after a QR is `pair`; a **stream:error**
//!   node is `stream_error` with its code and child; other codes are `close`.
//! - A QR before any open makes the user unpaired.
//! - Status requests set `[tabs]`: at the busiest minute, up to 12 requests
//!   are one tab polling at that rate, more are one 5 s tab per 12.
//! - Quiet stretches longer than [`MAX_QUIET`] are cut to it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::line::LogSet;
use super::record::{InstanceKey, Record, RecordKind};

/// Close codes a scenario's `close` takes; others become 500.
pub const SCENARIO_CODES: [u16; 9] = [401, 403, 408, 411, 428, 440, 500, 503, 515];

/// How long before a 408 the link is taken to have died: loopguard's
/// supervisors ping every 30 s and give up 35 s after the last frame.
pub const DEAD_LINK_DETECT: Duration = Duration::from_secs(35);

/// Longest quiet stretch kept; longer ones are cut to this.
pub const MAX_QUIET: Duration = Duration::from_secs(10 * 60);

/// Longest scenario the importer writes (after shortening): use `--window`
/// for more.
pub const MAX_SPAN: Duration = Duration::from_secs(24 * 3600);

/// Choices of the command line.
#[derive(Debug, Clone, Default)]
pub struct InferOptions {
    /// Keep only records in this range of time since the log's first line.
    pub window: Option<(Duration, Duration)>,
    /// Log user id → scenario user id.
    pub user_map: BTreeMap<String, String>,
}

/// What a scenario event does, in the scenario format's words.
#[derive(Debug, Clone, PartialEq)]
pub enum WorldAction {
    /// Another device logs in `times` times, again `relogin_after` after
    /// each reconnect of the supervisor; `every` is the log's period from
    /// one 440 to the next.
    RivalDevice {
        user: String,
        relogin_after: Duration,
        times: u32,
        every: Duration,
        /// Scenario time after which the rival logs in no more (a run of
        /// logins only): the log's last 440, plus a quarter of the run's
        /// span and one period, so a supervisor up to a quarter slower than
        /// the log's still meets every login, and the fault has an end the
        /// invariants can see.
        until: Option<Duration>,
    },
    /// The endpoint closes every socket `after` it authenticates, with
    /// `code`, for `duration`: `times` closes, the first at `first_close`,
    /// `every` apart in the log.
    Churn {
        user: String,
        after: Duration,
        code: u16,
        duration: Duration,
        times: u32,
        first_close: Duration,
        every: Duration,
    },
    Partition {
        duration: Duration,
    },
    Close {
        user: String,
        code: u16,
    },
    Logout {
        user: String,
    },
    Pair {
        user: String,
    },
    StreamError {
        user: String,
        code: Option<u16>,
        child: Option<String>,
        child_type: Option<String>,
    },
    /// Each hello is answered `delay` late for `duration`: the log's
    /// handshakes took that much longer than the simulated endpoint's.
    SlowHandshake {
        delay: Duration,
        duration: Duration,
    },
}

/// One event of the scenario, with the log lines it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct WorldEvent {
    pub at: Duration,
    pub action: WorldAction,
    /// (file index, line, quote) of each line it came from (at most a few).
    pub lines: Vec<(usize, usize, String)>,
    /// How many lines it came from in all.
    pub line_count: usize,
    /// Why: which rule made it.
    pub why: String,
}

/// A user of the scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct InferredUser {
    pub id: String,
    pub log_id: Option<String>,
    pub paired: bool,
}

/// What the log shows the supervisor did in one minute of scenario time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogMinute {
    pub attempts: u32,
    pub closes: BTreeMap<u16, u32>,
    /// Most sockets the log shows open at once for any user.
    pub max_sockets: u32,
}

/// One point of a timeline: a close with its code, or the number of
/// sockets open for a user changing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Close { at: Duration, code: u16 },
    Sockets { at: Duration, open: u32 },
}

/// A quiet stretch that was cut.
#[derive(Debug, Clone, PartialEq)]
pub struct Cut {
    /// Scenario time where the cut is.
    pub at: Duration,
    /// How much was removed.
    pub removed: Duration,
}

/// Everything [`infer`] concluded.
#[derive(Debug, Clone, Default)]
pub struct Inference {
    pub users: Vec<InferredUser>,
    pub instances: u32,
    /// Dashboard tabs and their poll period, when the log shows status
    /// requests.
    pub tabs: Option<(u32, Duration)>,
    pub events: Vec<WorldEvent>,
    /// Scenario length: the last record, plus a minute.
    pub duration: Duration,
    pub cuts: Vec<Cut>,
    /// What was inferred, for the header.
    pub inferred: Vec<String>,
    /// What was read and left out, for the header.
    pub left_out: Vec<String>,
    pub minutes: Vec<LogMinute>,
    /// The log's closes and socket counts at their scenario times, for the
    /// timeline drawn above the simulation's.
    pub marks: Vec<Mark>,
    /// Records used (after the window).
    pub records: usize,
    /// Scenario time of the log's last line kept: `--check` compares up to
    /// it.
    pub log_end: Duration,
    /// The log's handshake time, when it is longer than the simulated
    /// endpoint's: a `slow_handshake` over the whole log, written before
    /// the other events (see [`handshake`](super::handshake)).
    pub handshake: Option<WorldEvent>,
}

/// Why an inference could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InferError {
    #[error("no connection events inside the window")]
    EmptyWindow,
    #[error("the log spans {0} after shortening quiet stretches, more than the 24h a scenario may: use --window FROM..TO")]
    TooLong(String),
}

const QUOTES_PER_EVENT: usize = 3;

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn dur(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms.max(0)).unwrap_or(0))
}

fn median(values: &mut [i64]) -> Option<i64> {
    values.sort_unstable();
    values.get(values.len() / 2).copied()
}

/// Maps log time to scenario time, cutting quiet stretches.
struct TimeMap {
    /// (log ms, scenario ms) at each record, ascending.
    points: Vec<(i64, i64)>,
}

impl TimeMap {
    fn new(records: &[Record], cuts: &mut Vec<Cut>) -> TimeMap {
        let mut points = Vec::with_capacity(records.len());
        let start = records.first().map_or(0, |r| r.at_ms);
        let mut last_log = start;
        let mut scenario = 0i64;
        let max_quiet = ms(MAX_QUIET);
        for r in records {
            let gap = r.at_ms - last_log;
            if gap > max_quiet {
                cuts.push(Cut {
                    at: dur(scenario + max_quiet),
                    removed: dur(gap - max_quiet),
                });
                scenario += max_quiet;
            } else {
                scenario += gap;
            }
            last_log = r.at_ms;
            points.push((r.at_ms, scenario));
        }
        TimeMap { points }
    }

    /// Scenario time of log time `t`: exact at records, linear (capped by
    /// the cut) in between.
    fn at(&self, t: i64) -> i64 {
        let i = self.points.partition_point(|(log, _)| *log <= t);
        match (
            i.checked_sub(1).and_then(|j| self.points.get(j)),
            self.points.get(i),
        ) {
            (Some(&(log, sc)), Some(&(_, next_sc))) => (sc + (t - log)).min(next_sc),
            (Some(&(log, sc)), None) => sc + (t - log),
            (None, _) => 0,
        }
    }
}

/// Draws the conclusions.
pub fn infer(set: &LogSet, options: &InferOptions) -> Result<Inference, InferError> {
    let start = set.records.first().map_or(0, |r| r.at_ms);
    let records: Vec<Record> = set
        .records
        .iter()
        .filter(|r| match options.window {
            Some((from, to)) => (ms(from)..=ms(to)).contains(&(r.at_ms - start)),
            None => true,
        })
        .cloned()
        .collect();
    if !records
        .iter()
        .any(|r| !matches!(r.kind, RecordKind::Wait { .. }))
    {
        return Err(InferError::EmptyWindow);
    }
    let mut out = Inference {
        records: records.len(),
        ..Inference::default()
    };
    let map = TimeMap::new(&records, &mut out.cuts);
    let users = assign_users(&records, options, &mut out);
    instances(&records, &mut out);
    let mut world = World::default();
    let mut facts = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let user = users[i].clone();
        world.step(r, i, &user, &mut facts);
    }
    build_events(&records, &users, &facts, &map, &mut out);
    tabs(&records, &map, &mut out);
    minutes(&records, &users, &map, &mut out);
    let last = records.last().map_or(0, |r| map.at(r.at_ms));
    out.log_end = dur(last);
    let end_of_events = out
        .events
        .iter()
        .map(|e| match &e.action {
            WorldAction::RivalDevice {
                until: Some(until), ..
            } => ms(*until),
            action => ms(e.at) + ms(action_length(action)),
        })
        .max()
        .unwrap_or(0);
    slow_handshake(&records, &users, dur(last.max(end_of_events)), &mut out);
    let minutes = (last.max(end_of_events) / 60_000) + 2;
    out.duration = Duration::from_secs(u64::try_from(minutes).unwrap_or(u64::MAX / 60) * 60);
    if out.duration > MAX_SPAN {
        return Err(InferError::TooLong(crate::scenario::format_duration(
            out.duration,
        )));
    }
    if let Some(r) = records.first() {
        out.inferred.insert(
            0,
            format!(
                "time 0 is the first connection line kept (line {}).",
                r.line
            ),
        );
    }
    Ok(out)
}

/// The log's handshakes, when longer than the simulated endpoint's: one
/// `slow_handshake` from 0 until `end` (the last record or event).
fn slow_handshake(records: &[Record], users: &[String], end: Duration, out: &mut Inference) {
    let Some((median, opens, count)) = super::handshake::measured(records, users) else {
        return;
    };
    let Some(delay) = super::handshake::extra_delay(median) else {
        return;
    };
    let fmt = crate::scenario::format_duration;
    out.inferred.push(format!(
        "the endpoint's handshake: {} from an attempt to its open (median of {count}), answered {} late by a `slow_handshake` (the simulated one takes about {}).",
        fmt(median),
        fmt(delay),
        fmt(super::handshake::SIMULATED_HANDSHAKE)
    ));
    out.handshake = Some(WorldEvent {
        at: Duration::ZERO,
        action: WorldAction::SlowHandshake {
            delay,
            duration: end + Duration::from_secs(1),
        },
        lines: opens.iter().map(|i| quote_of(&records[*i])).collect(),
        line_count: count,
        why: format!(
            "{count} handshakes (an attempt to its open) took {} (median) where the simulated endpoint answers in about {}: each hello is answered {} late",
            fmt(median),
            fmt(super::handshake::SIMULATED_HANDSHAKE),
            fmt(delay)
        ),
    });
}

/// How long an action's window lasts.
pub fn action_length(action: &WorldAction) -> Duration {
    match action {
        WorldAction::Churn { duration, .. }
        | WorldAction::Partition { duration }
        | WorldAction::SlowHandshake { duration, .. } => *duration,
        _ => Duration::ZERO,
    }
}

fn assign_users(records: &[Record], options: &InferOptions, out: &mut Inference) -> Vec<String> {
    let mut by_log: BTreeMap<String, String> = BTreeMap::new();
    let mut order: Vec<InferredUser> = Vec::new();
    let mut last_of_instance: BTreeMap<&InstanceKey, String> = BTreeMap::new();
    let mut assigned = Vec::with_capacity(records.len());
    for r in records {
        let id = match &r.user {
            Some(log_id) => {
                let next = order.len() + 1;
                let id = by_log
                    .entry(log_id.clone())
                    .or_insert_with(|| {
                        options
                            .user_map
                            .get(log_id)
                            .cloned()
                            .unwrap_or_else(|| format!("user{next}"))
                    })
                    .clone();
                if !order.iter().any(|u| u.id == id) {
                    order.push(InferredUser {
                        id: id.clone(),
                        log_id: Some(log_id.clone()),
                        paired: true,
                    });
                }
                last_of_instance.insert(&r.instance, id.clone());
                id
            }
            None => match last_of_instance.get(&r.instance) {
                Some(id) => id.clone(),
                None => match order.first() {
                    Some(u) => u.id.clone(),
                    None => {
                        order.push(InferredUser {
                            id: "user1".into(),
                            log_id: None,
                            paired: true,
                        });
                        "user1".into()
                    }
                },
            },
        };
        assigned.push(id);
    }
    // A QR before the user's first open: nobody had paired it.
    for user in &mut order {
        let first = records
            .iter()
            .zip(&assigned)
            .find(|(r, u)| **u == user.id && matches!(r.kind, RecordKind::Qr | RecordKind::Opened));
        if let Some((r, _)) = first {
            if r.kind == RecordKind::Qr {
                user.paired = false;
                out.inferred.push(format!("{} is unpaired at the start: the log shows a QR code (line {}) before any open.", user.id, r.line));
            }
        }
    }
    if order.iter().any(|u| u.log_id.is_some()) && options.user_map.is_empty() {
        out.inferred.push("users are named user1, user2, … in order of appearance (the log's ids are personal data; --user-map FILE names them).".into());
    }
    if order.iter().all(|u| u.log_id.is_none()) {
        out.inferred
            .push("the log names no user: every line is user1's.".into());
    }
    out.users = order;
    assigned
}

fn instances(records: &[Record], out: &mut Inference) {
    let mut life: BTreeMap<&InstanceKey, (i64, i64)> = BTreeMap::new();
    for r in records {
        let entry = life.entry(&r.instance).or_insert((r.at_ms, r.at_ms));
        entry.1 = r.at_ms;
    }
    let mut most = 0u32;
    for (a, (from, to)) in &life {
        let alive = life
            .iter()
            .filter(|(b, (f, t))| b != &a && *f <= *to && *t >= *from)
            .count();
        most = most.max(u32::try_from(alive + 1).unwrap_or(u32::MAX));
    }
    out.instances = most.max(1);
    if life.len() > 1 {
        let names: Vec<String> = life
            .keys()
            .map(|k| match (k.hostname.as_str(), k.pid.as_str()) {
                (h, "") => h.to_owned(),
                (h, p) => format!("{h}/{p}"),
            })
            .collect();
        out.inferred.push(format!(
            "{} processes log ({}); at most {} at once, so {} instance(s). A process that ends and another that starts later is a restart: that is the supervisor's (or its container's) doing and is not injected.",
            life.len(),
            names.join(", "),
            out.instances,
            out.instances
        ));
    }
}

/// The log's own view of sockets, as the lines go by.
#[derive(Default)]
struct World {
    /// (instance, user) → sockets open.
    open: BTreeMap<(InstanceKey, String), u32>,
    /// (instance, user) → time its current socket opened.
    opened_at: BTreeMap<(InstanceKey, String), i64>,
    last_stream_error: BTreeMap<(InstanceKey, String), i64>,
}

/// What one close meant.
#[derive(Debug, Clone)]
enum Fact {
    /// A 440 with this many sockets open for the user. `index` is the
    /// record's position in the window's records.
    Replaced {
        index: usize,
        sockets: u32,
    },
    /// A close with `code` of a socket this old (if its open was seen).
    Closed {
        index: usize,
        code: u16,
        age_ms: Option<i64>,
    },
    StreamError {
        index: usize,
    },
    Paired {
        index: usize,
    },
    Duplicate {
        index: usize,
    },
    StaleStreamClose {
        index: usize,
    },
}

impl World {
    fn sockets_of(&self, user: &str) -> u32 {
        self.open
            .iter()
            .filter(|((_, u), _)| u == user)
            .map(|(_, n)| *n)
            .sum()
    }

    fn step(&mut self, r: &Record, index: usize, user: &str, facts: &mut Vec<Fact>) {
        let key = (r.instance.clone(), user.to_owned());
        match &r.kind {
            RecordKind::Opened => {
                let n = self.open.entry(key.clone()).or_insert(0);
                if *n > 0 {
                    facts.push(Fact::Duplicate { index });
                }
                *n += 1;
                self.opened_at.insert(key, r.at_ms);
            }
            RecordKind::Closed { code, .. } => {
                if self
                    .last_stream_error
                    .get(&key)
                    .is_some_and(|t| r.at_ms - *t <= 1000)
                {
                    facts.push(Fact::StaleStreamClose { index });
                } else if *code == 440 {
                    facts.push(Fact::Replaced {
                        index,
                        sockets: self.sockets_of(user),
                    });
                } else {
                    let age_ms = self.opened_at.get(&key).map(|t| r.at_ms - *t);
                    facts.push(Fact::Closed {
                        index,
                        code: *code,
                        age_ms,
                    });
                }
                if let Some(n) = self.open.get_mut(&key) {
                    *n = n.saturating_sub(1);
                }
                self.opened_at.remove(&key);
            }
            RecordKind::StreamError { .. } => {
                self.last_stream_error.insert(key.clone(), r.at_ms);
                facts.push(Fact::StreamError { index });
                if let Some(n) = self.open.get_mut(&key) {
                    *n = n.saturating_sub(1);
                }
                self.opened_at.remove(&key);
            }
            RecordKind::Paired => facts.push(Fact::Paired { index }),
            _ => {}
        }
    }
}

fn fact_record(f: &Fact) -> usize {
    match f {
        Fact::Replaced { index, .. }
        | Fact::Closed { index, .. }
        | Fact::StreamError { index }
        | Fact::Paired { index }
        | Fact::Duplicate { index }
        | Fact::StaleStreamClose { index } => *index,
    }
}

fn quote_of(r: &Record) -> (usize, usize, String) {
    (r.file, r.line, r.quote.clone())
}

fn build_events(
    records: &[Record],
    users: &[String],
    facts: &[Fact],
    map: &TimeMap,
    out: &mut Inference,
) {
    let fact_records: Vec<(&Fact, usize)> = facts.iter().map(|f| (f, fact_record(f))).collect();
    let scen = |i: usize| dur(map.at(records[i].at_ms));
    let mut used: BTreeSet<usize> = BTreeSet::new();
    let mut duplicates = Vec::new();
    let mut self_replaced = Vec::new();
    let mut stale = 0usize;

    // Churn: per (user, code), closes of sockets of about the same age.
    let mut by_code: BTreeMap<(String, u16), Vec<(usize, i64)>> = BTreeMap::new();
    for (f, i) in &fact_records {
        if let Fact::Closed {
            code,
            age_ms: Some(age),
            ..
        } = f
        {
            if *code != 401 && *code != 515 && *age > 0 {
                by_code
                    .entry((users[*i].clone(), *code))
                    .or_default()
                    .push((*i, *age));
            }
        }
    }
    for ((user, code), closes) in &by_code {
        let mut ages: Vec<i64> = closes.iter().map(|(_, a)| *a).collect();
        let Some(mid) = median(&mut ages) else {
            continue;
        };
        let alike: Vec<&(usize, i64)> = closes
            .iter()
            .filter(|(_, a)| (a - mid).abs() * 4 <= mid)
            .collect();
        if alike.len() < 3 {
            continue;
        }
        // `churn` closes every user's sockets: with more users than this
        // one, it would close theirs too, so their closes stay one event each.
        if out.users.len() > 1 {
            out.left_out.push(format!(
                "{} closes with {code} of {user}'s sockets about {} old look like churn, but `churn` would close every user's sockets: written one by one.",
                alike.len(),
                crate::scenario::format_duration(round_ms(mid))
            ));
            continue;
        }
        let (first, last) = (alike[0].0, alike[alike.len() - 1].0);
        let from =
            scen(first).saturating_sub(Duration::from_millis(u64::try_from(mid).unwrap_or(0)));
        // Until the last close, and a quarter of the age more: room for a
        // supervisor a little slower to reconnect than the log's.
        let to = scen(last) + dur(mid / 4).max(Duration::from_secs(1));
        let code = normal_code(*code, &mut out.left_out, records[first].line);
        out.events.push(WorldEvent {
            at: from,
            action: WorldAction::Churn {
                user: user.clone(),
                after: round_ms(mid),
                code,
                duration: to.saturating_sub(from),
                times: u32::try_from(alike.len()).unwrap_or(u32::MAX),
                first_close: scen(first),
                every: period(alike.iter().map(|(i, _)| records[*i].at_ms)),
            },
            lines: alike
                .iter()
                .take(QUOTES_PER_EVENT)
                .map(|(i, _)| quote_of(&records[*i]))
                .collect(),
            line_count: alike.len(),
            why: format!(
                "{} closes with {code} of sockets about {} old: churn",
                alike.len(),
                crate::scenario::format_duration(round_ms(mid))
            ),
        });
        used.extend(alike.iter().map(|(i, _)| *i));
    }

    // Rival logins: runs of 440s with one socket open.
    let mut run: Vec<usize> = Vec::new();
    let flush = |run: &mut Vec<usize>, out: &mut Inference| {
        if run.is_empty() {
            return;
        }
        let user = users[run[0]].clone();
        let mut gaps: Vec<i64> = run
            .windows(2)
            .filter_map(|w| {
                let reconnect = records[w[0] + 1..w[1]]
                    .iter()
                    .rfind(|r| matches!(r.kind, RecordKind::Opened | RecordKind::AttemptStarted))?;
                Some(records[w[1]].at_ms - reconnect.at_ms)
            })
            .collect();
        let relogin = median(&mut gaps).unwrap_or(60_000).max(100);
        // Steady: every 440 came about the same time after our reconnect
        // (within a quarter of the median, or 100 ms), so one reactive
        // rival redoes them all; otherwise one login at each 440's time.
        let steady = gaps
            .iter()
            .all(|g| (g - relogin).abs() <= (relogin / 4).max(100));
        if steady || run.len() == 1 {
            let every = period(run.iter().map(|i| records[*i].at_ms));
            let (first, last) = (scen(run[0]), scen(run[run.len() - 1]));
            let until = (run.len() > 1)
                .then(|| round_ms(ms(last + (last.saturating_sub(first)) / 4 + every)));
            out.events.push(WorldEvent {
                at: first,
                action: WorldAction::RivalDevice {
                    user,
                    relogin_after: round_ms(relogin),
                    times: u32::try_from(run.len()).unwrap_or(u32::MAX),
                    every,
                    until,
                },
                lines: run.iter().take(QUOTES_PER_EVENT).map(|i| quote_of(&records[*i])).collect(),
                line_count: run.len(),
                why: if run.len() == 1 {
                    "a close with 440 while the log shows one socket: another device logging in".into()
                } else {
                    format!(
                        "{} closes with 440 while the log shows one socket, each about {} after the supervisor's reconnect (median): another device logging in again after each of our logins",
                        run.len(),
                        crate::scenario::format_duration(round_ms(relogin))
                    )
                },
            });
        } else {
            for i in run.iter() {
                out.events.push(WorldEvent {
                    at: scen(*i),
                    action: WorldAction::RivalDevice {
                        user: user.clone(),
                        relogin_after: round_ms(relogin),
                        times: 1,
                        every: Duration::ZERO,
                        until: None,
                    },
                    lines: vec![quote_of(&records[*i])],
                    line_count: 1,
                    why: "a close with 440 while the log shows one socket, in a run whose delays after our reconnects vary: another device logging in at the log's time".into(),
                });
            }
        }
        run.clear();
    };
    for (f, i) in &fact_records {
        match f {
            Fact::Replaced { sockets, .. } if *sockets >= 2 => self_replaced.push(records[*i].line),
            Fact::Replaced { .. } => {
                let breaks = run.last().is_some_and(|&prev| {
                    users[prev] != users[*i]
                        || !records[prev + 1..*i].iter().any(|r| {
                            matches!(r.kind, RecordKind::Opened | RecordKind::AttemptStarted)
                        })
                });
                if breaks {
                    flush(&mut run, out);
                }
                run.push(*i);
            }
            _ => {}
        }
    }
    flush(&mut run, out);

    // Everything else, one event each.
    for (f, i) in &fact_records {
        let r = &records[*i];
        let user = users[*i].clone();
        let at = scen(*i);
        let one = |action: WorldAction, why: String| WorldEvent {
            at,
            action,
            lines: vec![quote_of(r)],
            line_count: 1,
            why,
        };
        match f {
            Fact::Closed { code, .. } if used.contains(i) => {
                let _ = code;
            }
            Fact::Closed { code: 401, .. } => out.events.push(one(
                WorldAction::Logout { user },
                "401: the device was unlinked".into(),
            )),
            Fact::Closed { code: 408, .. } => {
                let start = at.saturating_sub(DEAD_LINK_DETECT);
                let next_open = records[*i + 1..]
                    .iter()
                    .find(|n| n.kind == RecordKind::Opened)
                    .map(|n| dur(map.at(n.at_ms)));
                let end = next_open
                    .map(|o| o.saturating_sub(Duration::from_millis(500)))
                    .filter(|o| *o > at + Duration::from_secs(1))
                    .unwrap_or(at + Duration::from_secs(1));
                out.events.push(WorldEvent {
                    at: start,
                    action: WorldAction::Partition {
                        duration: end.saturating_sub(start),
                    },
                    lines: vec![quote_of(r)],
                    line_count: 1,
                    why: format!(
                        "408: the link was lost; cut from {} before the close until the next open",
                        crate::scenario::format_duration(DEAD_LINK_DETECT)
                    ),
                });
            }
            Fact::Closed { code: 515, .. } if users_unpaired(out, &user) => out.events.push(one(
                WorldAction::Pair { user },
                "515 after a QR: the user scanned it".into(),
            )),
            Fact::Closed { code, .. } => {
                let code = normal_code(*code, &mut out.left_out, r.line);
                out.events.push(one(
                    WorldAction::Close { user, code },
                    format!("the endpoint closed with {code}"),
                ))
            }
            Fact::StreamError { .. } => {
                if let RecordKind::StreamError {
                    code,
                    child,
                    child_type,
                } = &r.kind
                {
                    let action = stream_error_action(
                        user,
                        *code,
                        child.as_deref(),
                        child_type.as_deref(),
                        &mut out.left_out,
                        r.line,
                    );
                    out.events.push(one(
                        action,
                        "a stream:error node, replayed as it came: the supervisor decodes it (its code, then a conflict child → 440, else 500)".into(),
                    ));
                }
            }
            Fact::Paired { .. } if users_unpaired(out, &user) => out.events.push(one(
                WorldAction::Pair { user },
                "the user scanned the QR".into(),
            )),
            Fact::Duplicate { .. } => duplicates.push(r.line),
            Fact::StaleStreamClose { .. } => stale += 1,
            _ => {}
        }
    }
    // A 515 close right after a pair line is the same event.
    out.events.sort_by_key(|e| e.at);
    out.events.dedup_by(|b, a| matches!((&a.action, &b.action), (WorldAction::Pair { user: x }, WorldAction::Pair { user: y }) if x == y));
    if !duplicates.is_empty() {
        out.left_out.push(format!(
            "{} opens while the same process already had a socket for the user (lines {}): duplicate sockets are the supervisor's doing (for example two init paths); run with a preset that has them.",
            duplicates.len(),
            list_lines(&duplicates)
        ));
    }
    if !self_replaced.is_empty() {
        out.left_out.push(format!(
            "{} closes with 440 while the log shows two or more sockets for the user (lines {}): the supervisor replacing itself, not injected.",
            self_replaced.len(),
            list_lines(&self_replaced)
        ));
    }
    if out.events.iter().any(|e| {
        matches!(e.action, WorldAction::StreamError { .. })
            && super::write::stream_error_code(&e.action) == 401
    }) {
        out.left_out.push("a stream:error that decodes to 401 (device removed) closes the socket but leaves the device linked in the simulated endpoint (`stream_error` does not unlink it, `logout` does not send the node): a supervisor that reconnects after it is not refused again.".into());
    }
    if stale > 0 {
        out.left_out.push(format!("{stale} close lines that repeat the stream:error just before them were read as the same close."));
    }
    out.left_out.push("the supervisor's own attempts, waits and reconnects: the simulation redoes them, and `import --check` compares them.".into());
}

/// A node name the scenario format takes (ASCII letters, digits, `_ - :`).
fn node_name(tag: &str) -> bool {
    !tag.is_empty()
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':'))
}

/// The `stream_error` event for a node as the log shows it, within what
/// the scenario format takes: a code the endpoint never sends becomes 500
/// (as Baileys treats it), a child whose tag is no node name becomes
/// `unknown` (any tag but `conflict` decodes alike), a `type` that is no
/// node name is dropped, and a node with neither code nor child (the log
/// line named none) is `code = 500`, what Baileys makes of it.
fn stream_error_action(
    user: String,
    code: Option<u16>,
    child: Option<&str>,
    child_type: Option<&str>,
    left_out: &mut Vec<String>,
    line: usize,
) -> WorldAction {
    let code = code.map(|c| normal_code(c, left_out, line));
    let child = child.map(|tag| {
        if node_name(tag) {
            tag.to_owned()
        } else {
            left_out.push(format!("line {line}: the stream:error child's tag is not a node name the scenario format takes; written as `unknown` (it is not `conflict`, so it decodes alike)."));
            "unknown".to_owned()
        }
    });
    let child_type = match (child.as_ref(), child_type) {
        (Some(_), Some(kind)) if node_name(kind) => Some(kind.to_owned()),
        (_, Some(_)) => {
            left_out.push(format!(
                "line {line}: the stream:error child's `type` was dropped (not a node name, or no child)."
            ));
            None
        }
        _ => None,
    };
    let code = match (code, &child) {
        (None, None) => {
            left_out.push(format!("line {line}: a stream error with no node in the line: written as `code = 500`, what Baileys decodes it to."));
            Some(500)
        }
        (code, _) => code,
    };
    WorldAction::StreamError {
        user,
        code,
        child,
        child_type,
    }
}

fn users_unpaired(out: &Inference, user: &str) -> bool {
    out.users.iter().any(|u| u.id == user && !u.paired)
}

fn list_lines(lines: &[usize]) -> String {
    let mut shown: Vec<String> = lines.iter().take(8).map(usize::to_string).collect();
    if lines.len() > 8 {
        shown.push(format!("… {} more", lines.len() - 8));
    }
    shown.join(", ")
}

fn normal_code(code: u16, left_out: &mut Vec<String>, line: usize) -> u16 {
    if SCENARIO_CODES.contains(&code) {
        code
    } else {
        left_out.push(format!("line {line}: close code {code} is none the endpoint sends; replayed as 500 (bad session), as Baileys treats unknown codes."));
        500
    }
}

/// The median gap between consecutive times (at least 10 ms, a tick).
fn period(times: impl Iterator<Item = i64>) -> Duration {
    let times: Vec<i64> = times.collect();
    let mut gaps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    round_ms(median(&mut gaps).unwrap_or(60_000).max(10))
}

fn round_ms(ms: i64) -> Duration {
    // Whole tens of milliseconds: the scenario's tick.
    dur((ms + 5) / 10 * 10)
}

fn tabs(records: &[Record], map: &TimeMap, out: &mut Inference) {
    let mut per_minute: BTreeMap<i64, u32> = BTreeMap::new();
    for r in records
        .iter()
        .filter(|r| r.kind == RecordKind::StatusRequest)
    {
        *per_minute.entry(map.at(r.at_ms) / 60_000).or_insert(0) += 1;
    }
    if let Some(busiest) = per_minute.values().max() {
        // Up to 12 requests a minute are one tab polling at that rate; more
        // are as many 5 s tabs as it takes.
        let (count, every) = if *busiest <= 12 {
            (1, Duration::from_secs(60 / u64::from((*busiest).max(1))))
        } else {
            (busiest.div_ceil(12), Duration::from_secs(5))
        };
        out.tabs = Some((count, every));
        out.inferred.push(format!(
            "{count} dashboard tab(s) polling every {}: the busiest minute has {busiest} status requests.",
            crate::scenario::format_duration(every)
        ));
    }
}

fn minutes(records: &[Record], users: &[String], map: &TimeMap, out: &mut Inference) {
    let mut rows: BTreeMap<i64, LogMinute> = BTreeMap::new();
    let mut open: BTreeMap<(InstanceKey, String), u32> = BTreeMap::new();
    for (r, user) in records.iter().zip(users) {
        let minute = map.at(r.at_ms) / 60_000;
        let key = (r.instance.clone(), user.clone());
        match &r.kind {
            RecordKind::AttemptStarted => rows.entry(minute).or_default().attempts += 1,
            RecordKind::Opened => *open.entry(key).or_insert(0) += 1,
            RecordKind::Closed { code, .. } => {
                *rows
                    .entry(minute)
                    .or_default()
                    .closes
                    .entry(*code)
                    .or_insert(0) += 1;
                if let Some(n) = open.get_mut(&key) {
                    *n = n.saturating_sub(1);
                }
            }
            _ => {}
        }
        let now: u32 = open
            .iter()
            .filter(|((_, u), _)| u == user)
            .map(|(_, n)| *n)
            .sum();
        let row = rows.entry(minute).or_default();
        row.max_sockets = row.max_sockets.max(now);
    }
    let last = rows.keys().next_back().copied().unwrap_or(0);
    out.minutes = (0..=last)
        .map(|m| rows.remove(&m).unwrap_or_default())
        .collect();
}
