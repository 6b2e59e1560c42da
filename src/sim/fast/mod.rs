//! The fast engine: the same supervisor, endpoint, tabs, store, trace and
//! oracle as the turmoil world, on one current-thread tokio runtime with
//! paused time and in-memory links ([`net`]). Time jumps straight to the
//! next timer instead of ticking every host's runtime every 10 ms, which is
//! where turmoil spends most of a run.
//!
//! Every scenario action means here what it means in `sim::world` (the
//! director below mirrors it step for step: the same fault records, the
//! same schedule, the same seeded flap periods); only how bytes and time
//! move differs:
//! - no tick: a timer fires at its exact millisecond, where turmoil rounds it
//!   up to the next 10 ms step;
//! - latency, loss and the ephemeral ports are drawn from the engine's own
//!   seeded generator, so the same seed gives another (equally valid) trace
//!   than on turmoil;
//! - the addresses in the trace are `host:port` rather than turmoil's IPs.
//!
//! The differential test (`tests/engines_agree.rs`) checks that every
//! shipped scenario gets the same verdict, invariant by invariant, on both.
//! An action this engine cannot give turmoil's meaning to is refused with
//! [`SimError::Unsupported`], never run with another meaning.

mod hosts;
mod net;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::mpsc;

use self::hosts::{AppHost, AppRecipe, FastApi, BROWSER, WA};
use self::net::Net;
use super::browser::{self, BrowserCommand, ForeignTab, TabConfig};
use super::{RunOutput, SimError};
use crate::endpoint::protocol::{credentials_for, StreamErrorChild};
use crate::endpoint::Endpoint;
use crate::scenario::{Action, Link, Scenario};
use crate::supervisor::status_auth::{session_token, SessionBook};
use crate::supervisor::{Policy, Store};
use crate::trace::{Clock, EventKind, FaultKind, Recorder, TokioClock, TraceGuard};
use crate::transport::OpenStreams;

const SIM: &str = "sim";
/// The driver reports progress after this many steps.
const PROGRESS_EVERY: u64 = 256;

/// Something the director does at a virtual time (as in `sim::world`).
#[derive(Debug, Clone)]
enum Step {
    Fire(Action),
    LinkDown {
        link: Link,
        flap: bool,
    },
    LinkUp {
        link: Link,
        flap: bool,
    },
    End(FaultKind, Link),
    EndEndpoint(FaultKind),
    Restart(u32),
    /// Restart an app that exited on its own (`exit_on_codes`).
    Respawn(u32),
    /// A fault of one user's ends (`messages`, `rival_device`'s `until`).
    EndUser(FaultKind, String),
    /// A stalled app instance's links are released.
    Release(u32),
}

/// How often, in virtual time, the director wakes to stream the trace and
/// check its caps even when no step is due: a runaway supervisor between two
/// steps is stopped within this much virtual time.
const GUARD_PERIOD: Duration = Duration::from_secs(1);

/// Runs `scenario` with `policy` from `seed` on the fast engine.
pub fn run(
    scenario: &Scenario,
    policy: &Policy,
    seed: u64,
    progress: &mut dyn FnMut(Duration),
) -> Result<RunOutput, SimError> {
    run_guarded(scenario, policy, seed, TraceGuard::default(), progress)
}

/// [`run`] under `guard`, as `sim::world::run_guarded`.
pub fn run_guarded(
    scenario: &Scenario,
    policy: &Policy,
    seed: u64,
    guard: TraceGuard,
    progress: &mut dyn FnMut(Duration),
) -> Result<RunOutput, SimError> {
    if let Some(action) = scenario
        .events
        .iter()
        .map(|e| &e.action)
        .find(|a| !supported(a))
    {
        return Err(SimError::Unsupported(action.name().to_string()));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .rng_seed(tokio::runtime::RngSeed::from_bytes(&seed.to_le_bytes()))
        .build()
        .map_err(|e| SimError::Turmoil(format!("fast engine runtime: {e}")))?;
    let output = runtime.block_on(direct(scenario, policy, seed, guard, progress));
    drop(runtime);
    output
}

/// Whether this engine gives `action` the turmoil world's meaning. Every
/// action of the scenario format is listed; a new one is refused until it is.
// One arm per action, so adding one here is a one-line, reviewable change.
#[allow(clippy::match_like_matches_macro)]
pub fn supported(action: &Action) -> bool {
    match action {
        Action::Close { .. }
        | Action::Refuse { .. }
        | Action::Unavailable { .. }
        | Action::Logout { .. }
        | Action::Pair { .. }
        | Action::PingSilence { .. }
        | Action::SlowHandshake { .. }
        | Action::Partition { .. }
        | Action::Flap { .. }
        | Action::Latency { .. }
        | Action::Loss { .. }
        | Action::Crash { .. }
        | Action::StartInstance
        | Action::OpenTabs { .. }
        | Action::CloseTabs { .. }
        | Action::Connect { .. }
        | Action::Disconnect { .. }
        | Action::ForeignTab { .. }
        | Action::RivalDevice { .. }
        | Action::Stall { .. }
        | Action::Churn { .. }
        | Action::StaleClose { .. }
        | Action::StreamError { .. }
        | Action::Messages { .. } => true,
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

struct Director<'a> {
    scenario: &'a Scenario,
    recorder: Recorder,
    clock: Arc<TokioClock>,
    endpoint: Endpoint,
    net: Net,
    recipe: AppRecipe,
    browser: mpsc::UnboundedSender<BrowserCommand>,
    schedule: BTreeMap<(Duration, u64), Step>,
    seq: u64,
    rng: ChaCha8Rng,
    instances: Vec<String>,
    /// Running app hosts by number (absent while crashed).
    apps: BTreeMap<u32, AppHost>,
    started: Arc<AtomicU32>,
    links_down: BTreeMap<Link, u32>,
}

async fn direct(
    scenario: &Scenario,
    policy: &Policy,
    seed: u64,
    guard: TraceGuard,
    progress: &mut dyn FnMut(Duration),
) -> Result<RunOutput, SimError> {
    let clock = Arc::new(TokioClock::start());
    let origin = tokio::time::Instant::now();
    let recorder = Recorder::guarded(clock.clone(), guard).map_err(SimError::trace_sink)?;
    let store = Store::open_in_memory(recorder.clone())?;
    for u in &scenario.users {
        let creds = u.paired.then(|| credentials_for(&u.id));
        store.add_user(&u.id, u.enabled, creds.as_deref())?;
    }
    let endpoint = Endpoint::new(
        recorder.clone(),
        scenario.users.iter().map(|u| (u.id.clone(), u.paired)),
    );
    endpoint.set_idle_timeout(scenario.endpoint.idle_timeout);
    let net = Net::new(
        scenario.network.min_latency,
        scenario.network.max_latency,
        seed,
    );
    hosts::start_endpoint(&net, endpoint.clone());

    let (exits, mut exited) = mpsc::unbounded_channel();
    let streams = OpenStreams::default();
    let (tx, rx) = mpsc::unbounded_channel();
    let started = Arc::new(AtomicU32::new(0));
    // Each user's login cookie, as in the turmoil world.
    let tokens: BTreeMap<String, String> = scenario
        .users
        .iter()
        .map(|u| (u.id.clone(), session_token(seed, &u.id)))
        .collect();
    let tab_config = TabConfig {
        user: scenario
            .tabs
            .user
            .clone()
            .or_else(|| scenario.users.first().map(|u| u.id.clone()))
            .unwrap_or_default(),
        poll_interval: scenario.tabs.poll_interval,
        jitter: scenario.tabs.jitter,
        seed,
        instances: started.clone(),
        recorder: recorder.clone(),
        api: Arc::new(FastApi(net.clone())),
        tokens: Arc::new(tokens.clone()),
    };
    tokio::spawn(browser::run(tab_config, Arc::new(Mutex::new(Some(rx)))));

    let mut d = Director {
        scenario,
        recipe: AppRecipe {
            net: net.clone(),
            store,
            recorder: recorder.clone(),
            policy: policy.clone(),
            seed,
            next_conn: Arc::new(AtomicU64::new(0)),
            sessions: SessionBook::new(tokens.iter().map(|(u, t)| (u.as_str(), t.as_str()))),
            next_request: Arc::new(AtomicU64::new(0)),
            exits,
            streams: streams.clone(),
        },
        recorder,
        clock,
        endpoint,
        net,
        browser: tx,
        schedule: BTreeMap::new(),
        seq: 0,
        rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5ced_f1a9),
        instances: Vec::new(),
        apps: BTreeMap::new(),
        started,
        links_down: BTreeMap::new(),
    };
    for _ in 0..scenario.instances {
        d.start_instance();
    }
    if scenario.tabs.count > 0 {
        let _ = d
            .browser
            .send(BrowserCommand::OpenTabs(scenario.tabs.count));
    }
    for (at, e) in scenario.timeline() {
        d.push(at, Step::Fire(e.action.clone()));
    }

    let mut steps = 0u64;
    loop {
        // Read again after every wake: a fault that ended on its own
        // meanwhile (a refusal used up) moves the end later.
        let run_end = scenario.run_end(d.recorder.last_fault_activity());
        let next = d
            .schedule
            .first_key_value()
            .map_or(run_end, |((at, _), _)| *at)
            .min(run_end)
            .min(d.clock.now() + GUARD_PERIOD);
        // An app that exits on its own wakes the director at once, as the
        // turmoil driver sees it right after the step it exited in.
        let exit = tokio::select! {
            biased;
            n = exited.recv() => n,
            () = tokio::time::sleep_until(origin + next) => None,
        };
        let now = d.clock.now();
        for n in exit
            .into_iter()
            .chain(std::iter::from_fn(|| exited.try_recv().ok()))
        {
            d.exited(now, n);
        }
        d.recorder.stream().map_err(SimError::trace_sink)?;
        let run_end = scenario.run_end(d.recorder.last_fault_activity());
        if now >= run_end || d.recorder.runaway().is_some() {
            break;
        }
        while let Some(entry) = d.schedule.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let step = entry.remove();
            d.apply(now, step);
            steps += 1;
            if steps.is_multiple_of(PROGRESS_EVERY) {
                progress(now);
            }
        }
    }
    streams.flush(&d.recorder);
    d.recorder.record(SIM, None, EventKind::RunEnded {});
    d.recorder.finish_stream().map_err(SimError::trace_sink)?;
    let run_end = scenario.run_end(d.recorder.last_fault_activity());
    progress(run_end);
    let runaway = d.recorder.runaway();
    let trace = d.recorder.take();
    for app in d.apps.values() {
        app.crash();
    }
    Ok(RunOutput {
        trace,
        instances: d.instances,
        runaway,
        run_end,
    })
}

fn link_name(link: Link) -> &'static str {
    match link {
        Link::AppWa => "app-wa",
        Link::BrowserApp => "browser-app",
    }
}

impl Director<'_> {
    fn push(&mut self, at: Duration, step: Step) {
        self.seq += 1;
        self.schedule.insert((at, self.seq), step);
    }

    fn record(&self, user: Option<&str>, kind: EventKind) {
        self.recorder.record(SIM, user, kind);
    }

    fn fault(&self, fault: FaultKind, target: &str, started: bool) {
        let target = target.to_string();
        self.record(
            None,
            if started {
                EventKind::FaultStarted { fault, target }
            } else {
                EventKind::FaultEnded { fault, target }
            },
        );
    }

    fn start_instance(&mut self) {
        let n = u32::try_from(self.instances.len()).unwrap_or(u32::MAX - 1) + 1;
        self.apps.insert(n, AppHost::start(&self.recipe, n));
        let host = format!("app-{n}");
        self.instances.push(host.clone());
        self.started.store(n, Ordering::Relaxed);
        self.record(
            None,
            EventKind::InstanceStarted {
                instance: host.clone(),
            },
        );
        for (&link, &down) in &self.links_down {
            if down > 0 {
                self.cut(link, Some(&host));
            }
        }
    }

    /// The host pairs a link stands for, limited to `only` if given.
    fn pairs(&self, link: Link, only: Option<&str>) -> Vec<(String, String)> {
        self.instances
            .iter()
            .filter(|h| only.is_none_or(|o| o == h.as_str()))
            .map(|h| match link {
                Link::AppWa => (h.clone(), WA.0.to_string()),
                Link::BrowserApp => (BROWSER.to_string(), h.clone()),
            })
            .collect()
    }

    fn cut(&self, link: Link, only: Option<&str>) {
        for (a, b) in self.pairs(link, only) {
            self.net.partition(&a, &b);
        }
    }

    /// Holds (`true`) or releases every link to and from `host` (a
    /// `stall`). A released link that a partition still cuts is cut again.
    fn hold(&mut self, host: &str, on: bool) {
        let mut pairs = self.pairs(Link::AppWa, Some(host));
        pairs.extend(self.pairs(Link::BrowserApp, Some(host)));
        for (a, b) in &pairs {
            if on {
                self.net.hold(a, b);
            } else {
                self.net.release(a, b);
            }
        }
        if !on {
            for (&link, &down) in &self.links_down {
                if down > 0 {
                    self.cut(link, Some(host));
                }
            }
        }
    }

    fn link_down(&mut self, link: Link) {
        let down = self.links_down.entry(link).or_insert(0);
        *down += 1;
        if *down == 1 {
            self.cut(link, None);
        }
    }

    fn link_up(&mut self, link: Link) {
        let down = self.links_down.entry(link).or_insert(0);
        *down = down.saturating_sub(1);
        if *down == 0 {
            for (a, b) in self.pairs(link, None) {
                self.net.repair(&a, &b);
            }
        }
    }

    fn set_latency(&self, link: Link, min: Duration, max: Duration) {
        for (a, b) in self.pairs(link, None) {
            self.net.set_latency(&a, &b, min, max);
        }
    }

    fn set_loss(&self, link: Link, rate: f64) {
        for (a, b) in self.pairs(link, None) {
            self.net.set_loss(&a, &b, rate);
        }
    }

    fn apply(&mut self, now: Duration, step: Step) {
        match step {
            Step::Fire(action) => self.fire(now, action),
            Step::LinkDown { link, flap } => {
                if flap {
                    self.fault(
                        FaultKind::Partition,
                        &format!("{} (flap)", link_name(link)),
                        true,
                    );
                }
                self.link_down(link);
            }
            Step::LinkUp { link, flap } => {
                if flap {
                    self.fault(
                        FaultKind::Partition,
                        &format!("{} (flap)", link_name(link)),
                        false,
                    );
                } else {
                    self.fault(FaultKind::Partition, link_name(link), false);
                }
                self.link_up(link);
            }
            Step::End(fault, link) => {
                match fault {
                    FaultKind::Latency => {
                        let net = &self.scenario.network;
                        self.set_latency(link, net.min_latency, net.max_latency);
                    }
                    FaultKind::Loss => self.set_loss(link, 0.0),
                    _ => {}
                }
                self.fault(fault, link_name(link), false);
            }
            Step::EndEndpoint(fault) => {
                match fault {
                    FaultKind::Unavailable => self.endpoint.set_unavailable(false),
                    FaultKind::PingSilence => self.endpoint.set_ping_silence(false),
                    FaultKind::SlowHandshake => self.endpoint.set_handshake_delay(Duration::ZERO),
                    FaultKind::Churn => self.endpoint.set_churn(None),
                    _ => {}
                }
                self.fault(fault, "wa", false);
            }
            Step::EndUser(fault, user) => {
                let ended = match fault {
                    FaultKind::Messages => {
                        self.endpoint.set_messages(&user, None);
                        true
                    }
                    // Ended already by the rival's last login, or not.
                    FaultKind::RivalDevice => self.endpoint.rival_stop(&user),
                    _ => true,
                };
                if ended {
                    self.fault(fault, &user, false);
                }
            }
            Step::Release(n) => {
                let host = format!("app-{n}");
                self.hold(&host, false);
                self.fault(FaultKind::Stall, &host, false);
            }
            Step::Restart(n) => {
                let host = format!("app-{n}");
                if let Some(old) = self.apps.remove(&n) {
                    old.crash();
                }
                self.apps.insert(n, AppHost::start(&self.recipe, n));
                self.fault(FaultKind::Crash, &host, false);
                self.record(None, EventKind::InstanceStarted { instance: host });
            }
            Step::Respawn(n) => {
                let host = format!("app-{n}");
                if let Some(old) = self.apps.remove(&n) {
                    old.crash();
                }
                self.apps.insert(n, AppHost::start(&self.recipe, n));
                self.record(None, EventKind::InstanceStarted { instance: host });
            }
        }
    }

    /// App `n` exited on its own: its host goes down now and comes back
    /// after the scenario's `restart_delay` (as `sim::world`).
    fn exited(&mut self, now: Duration, n: u32) {
        if let Some(app) = self.apps.remove(&n) {
            app.crash();
            let host = format!("app-{n}");
            self.record(None, EventKind::InstanceCrashed { instance: host });
            self.push(now + self.scenario.restart_delay, Step::Respawn(n));
        }
    }

    fn fire(&mut self, now: Duration, action: Action) {
        match action {
            Action::Close { user, code } => {
                if code == 440 {
                    self.fault(FaultKind::Takeover, &user, true);
                    self.fault(FaultKind::Takeover, &user, false);
                }
                self.endpoint.close_user(&user, code);
            }
            Action::Refuse { user, count, code } => {
                self.record(
                    Some(&user),
                    EventKind::FaultStarted {
                        fault: FaultKind::RefuseConnects,
                        target: user.clone(),
                    },
                );
                self.endpoint.refuse_next(&user, count, code);
            }
            Action::Unavailable { duration } => {
                self.fault(FaultKind::Unavailable, "wa", true);
                self.endpoint.set_unavailable(true);
                self.push(now + duration, Step::EndEndpoint(FaultKind::Unavailable));
            }
            Action::Logout { user } => {
                self.record(
                    Some(&user),
                    EventKind::FaultStarted {
                        fault: FaultKind::Logout,
                        target: user.clone(),
                    },
                );
                self.endpoint.logout(&user);
            }
            Action::Pair { user } => {
                self.record(Some(&user), EventKind::UserPaired {});
                self.endpoint.pair(&user);
            }
            Action::PingSilence { duration } => {
                self.fault(FaultKind::PingSilence, "wa", true);
                self.endpoint.set_ping_silence(true);
                self.push(now + duration, Step::EndEndpoint(FaultKind::PingSilence));
            }
            Action::SlowHandshake { delay, duration } => {
                self.fault(FaultKind::SlowHandshake, "wa", true);
                self.endpoint.set_handshake_delay(delay);
                self.push(now + duration, Step::EndEndpoint(FaultKind::SlowHandshake));
            }
            Action::Partition { link, duration } => {
                self.fault(FaultKind::Partition, link_name(link), true);
                self.link_down(link);
                self.push(now + duration, Step::LinkUp { link, flap: false });
            }
            Action::Flap {
                link,
                duration,
                down,
                up,
                jitter,
            } => {
                self.fault(FaultKind::Flap, link_name(link), true);
                let end = now + duration;
                let jitter_ms = crate::util::ms(jitter);
                let mut t = now;
                while t < end {
                    let stretch = |rng: &mut ChaCha8Rng| {
                        Duration::from_millis(if jitter_ms > 0 {
                            rng.random_range(0..=jitter_ms)
                        } else {
                            0
                        })
                    };
                    let down_for = down + stretch(&mut self.rng);
                    self.push(t, Step::LinkDown { link, flap: true });
                    self.push((t + down_for).min(end), Step::LinkUp { link, flap: true });
                    t += down_for + up + stretch(&mut self.rng);
                }
                self.push(end, Step::End(FaultKind::Flap, link));
            }
            Action::Latency {
                link,
                min,
                max,
                duration,
            } => {
                self.fault(FaultKind::Latency, link_name(link), true);
                self.set_latency(link, min, max);
                self.push(now + duration, Step::End(FaultKind::Latency, link));
            }
            Action::Loss {
                link,
                rate,
                duration,
            } => {
                self.fault(FaultKind::Loss, link_name(link), true);
                self.set_loss(link, rate);
                self.push(now + duration, Step::End(FaultKind::Loss, link));
            }
            Action::Crash {
                instance,
                restart_after,
            } => {
                let host = format!("app-{instance}");
                if let Some(app) = self.apps.remove(&instance) {
                    app.crash();
                    self.fault(FaultKind::Crash, &host, true);
                    self.record(None, EventKind::InstanceCrashed { instance: host });
                    if let Some(after) = restart_after {
                        self.push(now + after, Step::Restart(instance));
                    }
                }
            }
            Action::RivalDevice {
                user,
                after,
                times,
                until,
            } => {
                self.fault(FaultKind::RivalDevice, &user, true);
                if !self.endpoint.rival_login(&user, after, times) {
                    self.fault(FaultKind::RivalDevice, &user, false);
                } else if let Some(until) = until {
                    self.push(until, Step::EndUser(FaultKind::RivalDevice, user));
                }
            }
            Action::Stall { instance, duration } => {
                let host = format!("app-{instance}");
                if self.instances.contains(&host) && self.apps.contains_key(&instance) {
                    self.fault(FaultKind::Stall, &host, true);
                    self.hold(&host, true);
                    self.push(now + duration, Step::Release(instance));
                }
            }
            Action::Churn {
                after,
                code,
                duration,
            } => {
                self.fault(FaultKind::Churn, "wa", true);
                self.endpoint.set_churn(Some((after, code)));
                self.push(now + duration, Step::EndEndpoint(FaultKind::Churn));
            }
            Action::StaleClose { user, code, after } => {
                // The endpoint records the end when the late close goes out.
                self.fault(FaultKind::StaleClose, &user, true);
                self.endpoint.arm_stale_close(&user, code, after);
            }
            Action::StreamError {
                user,
                code,
                child,
                child_type,
            } => {
                self.fault(FaultKind::StreamError, &user, true);
                self.fault(FaultKind::StreamError, &user, false);
                let child = child.map(|tag| StreamErrorChild {
                    tag,
                    kind: child_type,
                });
                self.endpoint.stream_error(&user, code, child);
            }
            Action::Messages {
                user,
                every,
                duration,
            } => {
                self.fault(FaultKind::Messages, &user, true);
                self.endpoint.set_messages(&user, Some(every));
                self.push(now + duration, Step::EndUser(FaultKind::Messages, user));
            }
            Action::StartInstance => self.start_instance(),
            Action::OpenTabs { count } => {
                let _ = self.browser.send(BrowserCommand::OpenTabs(count));
            }
            Action::ForeignTab {
                user,
                target,
                poll_interval,
                button,
                duration,
            } => {
                let _ = self
                    .browser
                    .send(BrowserCommand::OpenForeignTab(ForeignTab {
                        user,
                        target,
                        poll_interval,
                        button: button.connects(),
                        duration,
                    }));
            }
            Action::CloseTabs { count } => {
                let _ = self.browser.send(BrowserCommand::CloseTabs(count));
            }
            Action::Connect { user, instance } => {
                self.record(Some(&user), EventKind::ManualConnect {});
                let _ = self.browser.send(BrowserCommand::Press {
                    instance,
                    user,
                    connect: true,
                });
            }
            Action::Disconnect { user, instance } => {
                self.record(Some(&user), EventKind::ManualDisconnect {});
                let _ = self.browser.send(BrowserCommand::Press {
                    instance,
                    user,
                    connect: false,
                });
            }
            #[allow(unreachable_patterns)]
            other => {
                // `run` refuses such scenarios before they start.
                let _ = other;
            }
        }
    }
}
