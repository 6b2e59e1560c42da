//! What a timeline shows, in virtual time, before any drawing: lanes with
//! their states and markers, fault windows, open sockets, violations.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use crate::report::RunSummary;
use crate::trace::truth::Truth;
use crate::trace::{AttemptCause, ConnectionState, EventKind, FaultKind, TraceEvent, UserId};

/// One row of the upper panel: a user's session on one app instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    pub user: UserId,
    pub instance: String,
    /// The supervisor's state, back to back; `None` while the instance was
    /// not running (before it started, between a crash and its restart).
    pub spans: Vec<StateSpan>,
    pub attempts: Vec<(Duration, AttemptCause)>,
    pub closes: Vec<CloseMark>,
    /// Ground truth beneath the supervisor's view: the client sockets this
    /// instance held for the user, as the dialer wrapper saw them (count
    /// after each change, starting from 0).
    pub sockets: Vec<(Duration, u32)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StateSpan {
    pub start: Duration,
    pub end: Duration,
    pub state: Option<ConnectionState>,
}

/// An endpoint close of one of the lane's sockets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CloseMark {
    pub at: Duration,
    pub code: Option<u16>,
}

/// A fault window; one that never ended lasts to the end of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSpan {
    pub fault: FaultKind,
    pub target: String,
    pub start: Duration,
    pub end: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ViolationMark {
    pub at: Duration,
    pub invariant: String,
    pub user: Option<UserId>,
}

/// Client-side open sockets of one user (all instances together): the count
/// after each change, in time order, starting from 0.
#[derive(Debug, Clone, PartialEq)]
pub struct SocketSeries {
    pub user: UserId,
    pub steps: Vec<(Duration, u32)>,
    pub peak: u32,
    /// When the user was up as the uptime metric counts it (the harness's
    /// truth, never the supervisor's word), sorted.
    pub up: Vec<(Duration, Duration)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    pub title: String,
    pub subtitle: String,
    pub passed: bool,
    pub run_length: Duration,
    pub users: Vec<UserId>,
    /// Instances that ran; lanes are labelled with theirs when more than one.
    pub instances: Vec<String>,
    /// User by user (in the summary's order), instance by instance.
    pub lanes: Vec<Lane>,
    pub faults: Vec<FaultSpan>,
    pub violations: Vec<ViolationMark>,
    pub sockets: Vec<SocketSeries>,
}

impl Timeline {
    pub fn from_run(summary: &RunSummary, trace: &[TraceEvent]) -> Timeline {
        let run_length = Duration::from_millis(summary.run_length_ms)
            .max(trace.last().map_or(Duration::ZERO, |e| e.at))
            .max(Duration::from_millis(1));
        let truth = Truth::from_trace(trace);

        let users = ordered_union(
            &summary.users,
            trace.iter().filter_map(|e| match e.kind {
                EventKind::StateChanged { .. } | EventKind::AttemptStarted { .. } => e.user.clone(),
                _ => None,
            }),
        );
        let users = ordered_union(&users, truth.users.keys().cloned());
        let mut instances = ordered_union(
            &summary.instances,
            trace.iter().filter_map(|e| match &e.kind {
                EventKind::StateChanged { .. } | EventKind::AttemptStarted { .. } => {
                    Some(e.host.clone())
                }
                EventKind::InstanceStarted { instance }
                | EventKind::InstanceCrashed { instance } => Some(instance.clone()),
                _ => None,
            }),
        );
        if instances.is_empty() {
            instances.push("app-1".to_string());
        }

        let mut lanes: Vec<Lane> = Vec::with_capacity(users.len() * instances.len());
        let mut lane_of: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for u in &users {
            for i in &instances {
                lane_of.insert((u.as_str(), i.as_str()), lanes.len());
                lanes.push(Lane {
                    user: u.clone(),
                    instance: i.clone(),
                    spans: Vec::new(),
                    attempts: Vec::new(),
                    closes: Vec::new(),
                    sockets: Vec::new(),
                });
            }
        }
        let first_lane_of_user = |user: &str| lane_of.range((user, "")..).next().map(|(_, &l)| l);

        // Which instance held each endpoint socket, through its client side.
        let mut sock_owner: BTreeMap<u64, (String, String)> = BTreeMap::new();
        for (user, t) in &truth.users {
            for s in &t.endpoint_sockets {
                let host = s
                    .client_conn
                    .and_then(|c| t.client_socket(c))
                    .map(|c| c.host.clone());
                if let Some(host) = host {
                    sock_owner.insert(s.sock, (user.clone(), host));
                }
            }
        }

        // States: per lane, the running state and since when.
        let mut current: Vec<(Duration, Option<ConnectionState>)> =
            instances_start(trace, &instances)
                .into_iter()
                .cycle()
                .take(lanes.len())
                .map(|up| (Duration::ZERO, up.then_some(ConnectionState::Disconnected)))
                .collect();

        let mut open_faults: BTreeMap<(FaultKind, String), VecDeque<Duration>> = BTreeMap::new();
        let mut faults: Vec<FaultSpan> = Vec::new();
        let crash_faults: BTreeSet<(String, Duration)> = trace
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::FaultStarted {
                    fault: FaultKind::Crash,
                    target,
                } => Some((target.clone(), e.at)),
                _ => None,
            })
            .collect();
        let mut crashed: BTreeMap<String, Duration> = BTreeMap::new();

        for e in trace {
            match &e.kind {
                EventKind::StateChanged { to, .. } => {
                    if let Some(&l) = lane_of.get(&(e.user(), e.host.as_str())) {
                        set_state(&mut lanes[l], &mut current[l], e.at, Some(*to));
                    }
                }
                EventKind::AttemptStarted { cause, .. } => {
                    if let Some(&l) = lane_of.get(&(e.user(), e.host.as_str())) {
                        lanes[l].attempts.push((e.at, *cause));
                    }
                }
                EventKind::EndpointClosed { sock, code, .. } => {
                    let owner = sock_owner.get(sock);
                    let user = e.user.as_deref().or(owner.map(|o| o.0.as_str()));
                    let lane = user.and_then(|u| {
                        owner
                            .and_then(|(_, host)| lane_of.get(&(u, host.as_str())).copied())
                            .or_else(|| first_lane_of_user(u))
                    });
                    if let Some(l) = lane {
                        lanes[l].closes.push(CloseMark {
                            at: e.at,
                            code: *code,
                        });
                    }
                }
                EventKind::InstanceCrashed { instance } => {
                    for (&(_, i), &l) in &lane_of {
                        if i == instance {
                            set_state(&mut lanes[l], &mut current[l], e.at, None);
                        }
                    }
                    if !crash_faults.contains(&(instance.clone(), e.at)) {
                        crashed.entry(instance.clone()).or_insert(e.at);
                    }
                }
                EventKind::InstanceStarted { instance } => {
                    for (&(_, i), &l) in &lane_of {
                        if i == instance && current[l].1.is_none() {
                            set_state(
                                &mut lanes[l],
                                &mut current[l],
                                e.at,
                                Some(ConnectionState::Disconnected),
                            );
                        }
                    }
                    if let Some(start) = crashed.remove(instance) {
                        faults.push(FaultSpan {
                            fault: FaultKind::Crash,
                            target: instance.clone(),
                            start,
                            end: e.at,
                        });
                    }
                }
                EventKind::FaultStarted { fault, target } => {
                    open_faults
                        .entry((*fault, target.clone()))
                        .or_default()
                        .push_back(e.at);
                }
                EventKind::FaultEnded { fault, target } => {
                    if let Some(start) = open_faults
                        .get_mut(&(*fault, target.clone()))
                        .and_then(VecDeque::pop_front)
                    {
                        faults.push(FaultSpan {
                            fault: *fault,
                            target: target.clone(),
                            start,
                            end: e.at,
                        });
                    }
                }
                _ => {}
            }
        }
        for (l, lane) in lanes.iter_mut().enumerate() {
            let (since, st) = current[l];
            if run_length > since {
                lane.spans.push(StateSpan {
                    start: since,
                    end: run_length,
                    state: st,
                });
            }
        }
        for ((fault, target), starts) in open_faults {
            faults.extend(starts.into_iter().map(|start| FaultSpan {
                fault,
                target: target.clone(),
                start,
                end: run_length,
            }));
        }
        for (instance, start) in crashed {
            faults.push(FaultSpan {
                fault: FaultKind::Crash,
                target: instance,
                start,
                end: run_length,
            });
        }
        faults.sort_by(|a, b| (a.fault, a.start, &a.target).cmp(&(b.fault, b.start, &b.target)));

        for lane in &mut lanes {
            lane.sockets = truth.user(&lane.user).map_or_else(Vec::new, |t| {
                count_steps(
                    t.client_sockets
                        .iter()
                        .filter(|s| s.host == lane.instance)
                        .map(|s| (s.opened, s.closed)),
                )
            });
        }
        let sockets = users
            .iter()
            .map(|u| socket_series(u, &truth, run_length))
            .collect();
        let violations = summary
            .violations
            .iter()
            .map(|v| ViolationMark {
                at: v.at,
                invariant: v.invariant.clone(),
                user: v.user.clone(),
            })
            .collect();

        let passed = summary.verdict == crate::report::Verdict::Pass;
        Timeline {
            title: format!("{} · {}", summary.scenario, summary.preset),
            subtitle: format!(
                "seed {} · {} virtual · {} user{} · {} · {} events · {} violation{}",
                summary.seed,
                crate::report::format::duration(run_length),
                users.len(),
                if users.len() == 1 { "" } else { "s" },
                instances.join(", "),
                trace.len(),
                summary.violations.len(),
                if summary.violations.len() == 1 {
                    ""
                } else {
                    "s"
                },
            ),
            passed,
            run_length,
            users,
            instances,
            lanes,
            faults,
            violations,
            sockets,
        }
    }

    /// Whether lanes need the instance named (several instances ran).
    pub fn multi_instance(&self) -> bool {
        self.instances.len() > 1
    }
}

/// Closes the lane's running span at `at` and opens one in `state`.
fn set_state(
    lane: &mut Lane,
    current: &mut (Duration, Option<ConnectionState>),
    at: Duration,
    state: Option<ConnectionState>,
) {
    let (since, prev) = *current;
    if prev == state {
        return;
    }
    if at > since {
        lane.spans.push(StateSpan {
            start: since,
            end: at,
            state: prev,
        });
    }
    *current = (at.max(since), state);
}

/// `first`, then whatever `more` adds, each once, in order of appearance.
fn ordered_union(first: &[String], more: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen: BTreeSet<String> = first.iter().cloned().collect();
    let mut out = first.to_vec();
    for s in more {
        if seen.insert(s.clone()) {
            out.push(s);
        }
    }
    out
}

/// Per instance, whether it runs from time 0: it does unless its first
/// instance row is a start (a replica started mid-run).
fn instances_start(trace: &[TraceEvent], instances: &[String]) -> Vec<bool> {
    instances
        .iter()
        .map(|i| {
            let first = trace.iter().find_map(|e| match &e.kind {
                EventKind::InstanceStarted { instance } if instance == i => Some((e.at, true)),
                EventKind::InstanceCrashed { instance } if instance == i => Some((e.at, false)),
                _ => None,
            });
            !matches!(first, Some((at, true)) if !at.is_zero())
        })
        .collect()
}

fn socket_series(user: &str, truth: &Truth, run_length: Duration) -> SocketSeries {
    let (steps, up) = truth.user(user).map_or_else(
        || (Vec::new(), Vec::new()),
        |t| {
            let steps = count_steps(t.client_sockets.iter().map(|s| (s.opened, s.closed)));
            let up = t
                .connected
                .iter()
                .map(|i| (i.start, i.end_or(run_length).min(run_length)))
                .filter(|(a, b)| b > a)
                .collect();
            (steps, up)
        },
    );
    let peak = steps.iter().map(|s| s.1).max().unwrap_or(0);
    SocketSeries {
        user: user.to_string(),
        steps,
        peak,
        up,
    }
}

/// Open (opened, closed) intervals as a step function: the count after
/// each change, in time order, starting from 0.
fn count_steps(
    sockets: impl Iterator<Item = (Duration, Option<Duration>)>,
) -> Vec<(Duration, u32)> {
    let mut changes: Vec<(Duration, i32)> = Vec::new();
    for (opened, closed) in sockets {
        changes.push((opened, 1));
        if let Some(c) = closed {
            changes.push((c, -1));
        }
    }
    // Closes first at equal times: a socket replaced at the same
    // millisecond does not count as two open.
    changes.sort();
    let mut open: i32 = 0;
    let mut steps: Vec<(Duration, u32)> = Vec::with_capacity(changes.len());
    for (at, d) in changes {
        open = (open + d).max(0);
        let n = u32::try_from(open).unwrap_or(0);
        match steps.last_mut() {
            Some(last) if last.0 == at => last.1 = n,
            _ => steps.push((at, n)),
        }
    }
    steps
}
