//! One turmoil world per run: hosts `wa`, `app-1…N` and `browser`, the
//! shared store, and a driver that fires the scenario's events between
//! simulation steps.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::mpsc;

use super::api_witness::{witnessed, Witness};
use super::browser::{self, BrowserCommand, ForeignTab, TabConfig};
use super::clock::TurmoilClock;
use super::net::{OrderedListener, TurmoilApi, TurmoilConnect, TurmoilListener, API_PORT};
use super::served::{self, ServedListener};
use super::SimError;
use crate::endpoint::protocol::{credentials_for, StreamErrorChild};
use crate::endpoint::Endpoint;
use crate::scenario::{Action, Link, Scenario};
use crate::supervisor::status_auth::{session_token, SessionBook};
use crate::supervisor::{status_api, Events, Policy, Store, Supervisor, SupervisorConfig};
use crate::teardown::{Graveyard, Sexton};
use crate::trace::{EventKind, FaultKind, Recorder, Runaway, TraceEvent, TraceGuard};
use crate::transport::{OpenStreams, TracedDialer};

const SIM: &str = "sim";
/// A fixed epoch: the same run gives the same bytes on any day.
const EPOCH_SECS: u64 = 1_767_225_600; // 2026-01-01T00:00:00Z

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunOutput {
    pub trace: Vec<TraceEvent>,
    /// App hosts that ran, in start order.
    pub instances: Vec<String>,
    /// Set when the trace passed a cap and the run was stopped there.
    pub runaway: Option<Runaway>,
    /// When the run ended: [`Scenario::run_end`] of the last fault's real
    /// end (the scenario's `run_length` unless a fault outlasted the script;
    /// a runaway run stopped earlier, at its `runaway.at`).
    pub run_end: Duration,
}

/// Registers app host `app-N` on a simulation.
type AppFactory<'a> = dyn Fn(&mut turmoil::Sim<'a>, u32) + 'a;

/// Something the driver does at a virtual time.
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

struct Driver<'a> {
    sim: turmoil::Sim<'a>,
    scenario: &'a Scenario,
    recorder: Recorder,
    clock: Arc<TurmoilClock>,
    endpoint: Endpoint,
    browser: mpsc::UnboundedSender<BrowserCommand>,
    schedule: BTreeMap<(Duration, u64), Step>,
    seq: u64,
    rng: ChaCha8Rng,
    instances: Vec<String>,
    started: Arc<AtomicU32>,
    links_down: BTreeMap<Link, u32>,
    make_app: Box<AppFactory<'a>>,
    /// Where a crashing host's sockets wait to be dropped in order.
    graveyard: Graveyard,
}

/// Runs `scenario` with `policy` from `seed`, calling `progress` now and then
/// with the virtual time reached.
pub fn run(
    scenario: &Scenario,
    policy: &Policy,
    seed: u64,
    progress: &mut dyn FnMut(Duration),
) -> Result<RunOutput, SimError> {
    run_guarded(scenario, policy, seed, TraceGuard::default(), progress)
}

/// [`run`] under `guard`: the trace streams to its sink between steps, and
/// the run stops early when the trace passes one of its caps.
pub fn run_guarded(
    scenario: &Scenario,
    policy: &Policy,
    seed: u64,
    guard: TraceGuard,
    progress: &mut dyn FnMut(Duration),
) -> Result<RunOutput, SimError> {
    let clock = Arc::new(TurmoilClock::default());
    let recorder = Recorder::guarded(clock.clone(), guard).map_err(SimError::trace_sink)?;
    let faults = super::faults::RunFaults::for_scenario(&scenario.name);
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

    let mut sim = turmoil::Builder::new()
        .rng_seed(seed)
        .epoch(UNIX_EPOCH + Duration::from_secs(EPOCH_SECS))
        .tick_duration(scenario.tick)
        .simulation_duration(simulation_limit(scenario))
        .min_message_latency(scenario.network.min_latency)
        .max_message_latency(scenario.network.max_latency)
        .tcp_capacity(super::capacity::tcp_capacity(scenario))
        .build();
    // Each user's login cookie: the browser's tabs carry their own user's,
    // a private status API checks them.
    let tokens: BTreeMap<String, String> = scenario
        .users
        .iter()
        .map(|u| (u.id.clone(), session_token(seed, &u.id)))
        .collect();
    let sessions = SessionBook::new(tokens.iter().map(|(u, t)| (u.as_str(), t.as_str())));

    let ep = endpoint.clone();
    sim.host("wa", move || {
        let ep = ep.clone();
        async move {
            let listener = turmoil::net::TcpListener::bind(("0.0.0.0", 443)).await?;
            loop {
                let (stream, peer) = listener.accept().await?;
                let ep = ep.clone();
                tokio::spawn(async move { ep.serve_stream(stream, peer.to_string()).await });
            }
        }
    });

    let next_conn = Arc::new(AtomicU64::new(0));
    let streams = OpenStreams::default();
    let next_request = Arc::new(AtomicU64::new(0));
    let graveyard = Graveyard::default();
    let app_graveyard = graveyard.clone();
    let (app_recorder, app_policy, app_streams) =
        (recorder.clone(), policy.clone(), streams.clone());
    let exits: Arc<Mutex<Vec<u32>>> = Arc::new(Mutex::new(Vec::new()));
    let app_exits = exits.clone();
    let make_app = move |sim: &mut turmoil::Sim<'_>, n: u32| {
        let host = format!("app-{n}");
        let (store, recorder, policy, next_conn, streams, next_request, sessions) = (
            store.clone(),
            app_recorder.clone(),
            app_policy.clone(),
            next_conn.clone(),
            app_streams.clone(),
            next_request.clone(),
            sessions.clone(),
        );
        let graveyard = app_graveyard.clone();
        let name = host.clone();
        let exits = app_exits.clone();
        sim.host(host.as_str(), move || {
            let dialer =
                TracedDialer::new(TurmoilConnect, &name, recorder.clone(), next_conn.clone())
                    .with_streams(streams.clone())
                    .with_graveyard(graveyard.clone());
            let config = SupervisorConfig {
                instance: name.clone(),
                policy: policy.clone(),
                seed: seed ^ (u64::from(n) << 48),
            };
            let sup = Supervisor::new(
                config,
                Arc::new(dialer),
                store.clone(),
                Events::new(recorder.clone(), &name),
            );
            let exits = exits.clone();
            sup.on_exit(move || super::exits::push(&exits, n));
            let witness = Witness {
                recorder: recorder.clone(),
                host: name.clone(),
            };
            let api = witnessed(
                status_api::private_router(sup.clone(), sessions.clone()),
                witness,
            );
            let sexton = Sexton {
                graveyard: graveyard.clone(),
                host: name.clone(),
            };
            let graveyard = graveyard.clone();
            let (host, recorder, streams, next_request) = (
                name.clone(),
                recorder.clone(),
                streams.clone(),
                next_request.clone(),
            );
            async move {
                // Dropped last at a crash: drops the buried sockets in order.
                let _sexton = sexton;
                sup.start();
                faults.inside_supervisor_host();
                let listener = turmoil::net::TcpListener::bind(("0.0.0.0", API_PORT)).await?;
                // The harness's listener wrappers: accepted streams are buried
                // in order at a crash, HTTP connections are counted, and every
                // request runs in its context (ground truth).
                let listener = ServedListener::new(OrderedListener {
                    listener: TurmoilListener(listener),
                    host: host.clone(),
                    graveyard,
                    accepted: 0,
                });
                let http = listener.open_connections();
                let app = api.layer(axum::middleware::from_fn(move |req, next| {
                    served::in_request_context(next_request.clone(), req, next)
                }));
                tokio::select! {
                    biased;
                    served = axum::serve(listener, app) => served?,
                    () = served::sample_work(host, recorder, http, streams) => {}
                }
                Ok(())
            }
        });
    };

    let (tx, rx) = mpsc::unbounded_channel();
    let started = Arc::new(AtomicU32::new(0));
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
        api: Arc::new(TurmoilApi),
        tokens: Arc::new(tokens),
    };
    let commands = Arc::new(Mutex::new(Some(rx)));
    sim.host("browser", move || {
        browser_host(tab_config.clone(), commands.clone())
    });

    let mut driver = Driver {
        sim,
        scenario,
        recorder,
        clock,
        endpoint,
        browser: tx,
        schedule: BTreeMap::new(),
        seq: 0,
        rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5ced_f1a9),
        instances: Vec::new(),
        started,
        links_down: BTreeMap::new(),
        make_app: Box::new(make_app),
        graveyard,
    };
    for _ in 0..scenario.instances {
        driver.start_instance();
    }
    if scenario.tabs.count > 0 {
        let _ = driver
            .browser
            .send(BrowserCommand::OpenTabs(scenario.tabs.count));
    }
    for (at, e) in scenario.timeline() {
        driver.push(at, Step::Fire(e.action.clone()));
    }

    let mut steps = 0u64;
    loop {
        let now = driver.sim.elapsed();
        if now >= scenario.run_end(driver.recorder.last_fault_activity()) {
            break;
        }
        driver.clock.set_driver_time(now);
        while let Some(entry) = driver.schedule.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let step = entry.remove();
            driver.apply(now, step);
        }
        driver
            .sim
            .step()
            .map_err(|e| SimError::Turmoil(e.to_string()))?;
        for n in super::exits::drain(&exits) {
            driver.exited(n);
        }
        steps += 1;
        if steps.is_multiple_of(4096) {
            driver.recorder.stream().map_err(SimError::trace_sink)?;
            if driver.recorder.runaway().is_some() {
                break;
            }
            progress(now);
        }
    }
    driver.clock.set_driver_time(driver.sim.elapsed());
    streams.flush(&driver.recorder);
    driver.recorder.record(SIM, None, EventKind::RunEnded {});
    driver
        .recorder
        .finish_stream()
        .map_err(SimError::trace_sink)?;
    let run_end = scenario.run_end(driver.recorder.last_fault_activity());
    progress(run_end);
    let mut trace = driver.recorder.take();
    super::order::in_time_order(&mut trace);
    Ok(RunOutput {
        runaway: driver.recorder.runaway(),
        trace,
        instances: driver.instances,
        run_end,
    })
}

/// turmoil's own limit on the run: past the longest the run can last (each
/// fault that ends on its own may push the end a quiet tail further), plus
/// an hour's margin, so the driver always ends the run first.
fn simulation_limit(scenario: &Scenario) -> Duration {
    let events = u32::try_from(scenario.timeline().len()).unwrap_or(u32::MAX);
    scenario
        .run_length()
        .saturating_add(scenario.quiet_tail.saturating_mul(events))
        .saturating_add(Duration::from_secs(3600))
}

async fn browser_host(
    config: TabConfig,
    commands: Arc<Mutex<Option<mpsc::UnboundedReceiver<BrowserCommand>>>>,
) -> Result<(), Box<dyn std::error::Error>> {
    browser::run(config, commands).await;
    Ok(())
}

fn link_name(link: Link) -> &'static str {
    match link {
        Link::AppWa => "app-wa",
        Link::BrowserApp => "browser-app",
    }
}

impl Driver<'_> {
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
        (self.make_app)(&mut self.sim, n);
        let host = format!("app-{n}");
        self.instances.push(host.clone());
        self.started.store(n, Ordering::Relaxed);
        self.record(
            None,
            EventKind::InstanceStarted {
                instance: host.clone(),
            },
        );
        // A new host joins the links that are down right now.
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
                Link::AppWa => (h.clone(), "wa".to_string()),
                Link::BrowserApp => ("browser".to_string(), h.clone()),
            })
            .collect()
    }

    fn cut(&self, link: Link, only: Option<&str>) {
        for (a, b) in self.pairs(link, only) {
            self.sim.partition(a.as_str(), b.as_str());
        }
    }

    /// Holds (`true`) or releases every link to and from `host` (a
    /// `stall`). A released link that a partition still cuts is cut again.
    fn hold(&mut self, host: &str, on: bool) {
        let mut pairs = self.pairs(Link::AppWa, Some(host));
        pairs.extend(self.pairs(Link::BrowserApp, Some(host)));
        for (a, b) in &pairs {
            if on {
                self.sim.hold(a.as_str(), b.as_str());
            } else {
                self.sim.release(a.as_str(), b.as_str());
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
                self.sim.repair(a.as_str(), b.as_str());
            }
        }
    }

    fn set_latency(&self, link: Link, min: Duration, max: Duration) {
        for (a, b) in self.pairs(link, None) {
            self.sim.set_link_latency(a.as_str(), b.as_str(), min);
            self.sim
                .set_link_max_message_latency(a.as_str(), b.as_str(), max);
        }
    }

    fn set_loss(&mut self, link: Link, rate: f64) {
        for (a, b) in self.pairs(link, None) {
            self.sim.set_link_fail_rate(a.as_str(), b.as_str(), rate);
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
            Step::Respawn(n) => {
                let host = format!("app-{n}");
                self.sim.bounce(host.as_str());
                self.record(None, EventKind::InstanceStarted { instance: host });
            }
            Step::Restart(n) => {
                let host = format!("app-{n}");
                let sim = &mut self.sim;
                self.recorder.teardown(now, || sim.bounce(host.as_str()));
                self.fault(FaultKind::Crash, &host, false);
                self.record(None, EventKind::InstanceStarted { instance: host });
            }
        }
    }

    /// App `n` exited on its own: its host goes down now and comes back
    /// after the scenario's `restart_delay`.
    fn exited(&mut self, n: u32) {
        let host = format!("app-{n}");
        self.clock.set_driver_time(self.sim.elapsed());
        if self.sim.is_host_running(host.as_str()) {
            let now = self.sim.elapsed();
            let (sim, graveyard) = (&mut self.sim, &self.graveyard);
            self.recorder.teardown(now, || {
                graveyard.open_for(&host);
                sim.crash(host.as_str());
                graveyard.drain();
            });
            self.record(None, EventKind::InstanceCrashed { instance: host });
            let at = self.sim.elapsed() + self.scenario.restart_delay;
            self.push(at, Step::Respawn(n));
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
                // The endpoint records the fault's end when the last refusal is used.
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
                // A host that is down already cannot crash again.
                if self.instances.contains(&host) && self.sim.is_host_running(host.as_str()) {
                    let (sim, graveyard) = (&mut self.sim, &self.graveyard);
                    self.recorder.teardown(now, || {
                        graveyard.open_for(&host);
                        sim.crash(host.as_str());
                        // Normally drained by the host's sexton already.
                        graveyard.drain();
                    });
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
                if self.instances.contains(&host) && self.sim.is_host_running(host.as_str()) {
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
        }
    }
}
