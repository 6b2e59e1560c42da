//! One turmoil world per run: hosts `wa`, `app-1…N` and `browser`, the
//! shared store, and a driver that fires the scenario's events between
//! simulation steps, through the fault layer both engines share
//! (`sim::director`; this file supplies its turmoil primitives).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use tokio::sync::mpsc;

use super::api_witness::{witnessed, Witness};
use super::browser::{self, BrowserCommand, TabConfig};
use super::clock::TurmoilClock;
use super::director::{Cast, Director, Stage};
use super::net::{OrderedListener, TurmoilApi, TurmoilConnect, TurmoilListener, API_PORT};
use super::served::{self, ServedListener};
use super::SimError;
use crate::endpoint::protocol::credentials_for;
use crate::endpoint::Endpoint;
use crate::scenario::Scenario;
use crate::supervisor::status_auth::{session_token, SessionBook};
use crate::supervisor::{status_api, Events, Policy, Store, Supervisor, SupervisorConfig};
use crate::teardown::{Graveyard, Sexton};
use crate::trace::{EventKind, Recorder, Runaway, TraceEvent, TraceGuard};
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

/// The turmoil side of the [`Stage`]: the simulation and how app hosts are
/// made, crashed and brought back.
struct TurmoilStage<'a> {
    sim: turmoil::Sim<'a>,
    recorder: Recorder,
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

    let mut stage = TurmoilStage {
        sim,
        recorder: recorder.clone(),
        make_app: Box::new(make_app),
        graveyard,
    };
    let mut director = Director::new(
        scenario,
        Cast {
            recorder: recorder.clone(),
            endpoint,
            browser: tx,
            started,
            seed,
        },
    );
    director.begin(&mut stage);

    let mut steps = 0u64;
    loop {
        let now = stage.sim.elapsed();
        if now >= scenario.run_end(recorder.last_fault_activity()) {
            break;
        }
        clock.set_driver_time(now);
        while let Some(step) = director.due(now) {
            director.apply(&mut stage, now, step);
        }
        stage
            .sim
            .step()
            .map_err(|e| SimError::Turmoil(e.to_string()))?;
        for n in super::exits::drain(&exits) {
            let now = stage.sim.elapsed();
            clock.set_driver_time(now);
            director.exited(&mut stage, n, now);
        }
        steps += 1;
        if steps.is_multiple_of(4096) {
            recorder.stream().map_err(SimError::trace_sink)?;
            if recorder.runaway().is_some() {
                break;
            }
            progress(now);
        }
    }
    clock.set_driver_time(stage.sim.elapsed());
    streams.flush(&recorder);
    recorder.record(SIM, None, EventKind::RunEnded {});
    recorder.finish_stream().map_err(SimError::trace_sink)?;
    let run_end = scenario.run_end(recorder.last_fault_activity());
    progress(run_end);
    let mut trace = recorder.take();
    super::order::in_time_order(&mut trace);
    Ok(RunOutput {
        runaway: recorder.runaway(),
        trace,
        instances: director.into_instances(),
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

impl Stage for TurmoilStage<'_> {
    fn partition(&mut self, a: &str, b: &str) {
        self.sim.partition(a, b);
    }

    fn repair(&mut self, a: &str, b: &str) {
        self.sim.repair(a, b);
    }

    fn hold(&mut self, a: &str, b: &str) {
        self.sim.hold(a, b);
    }

    fn release(&mut self, a: &str, b: &str) {
        self.sim.release(a, b);
    }

    fn set_latency(&mut self, a: &str, b: &str, min: Duration, max: Duration) {
        self.sim.set_link_latency(a, b, min);
        self.sim.set_link_max_message_latency(a, b, max);
    }

    fn set_loss(&mut self, a: &str, b: &str, rate: f64) {
        self.sim.set_link_fail_rate(a, b, rate);
    }

    fn start_host(&mut self, n: u32) {
        (self.make_app)(&mut self.sim, n);
    }

    fn is_running(&mut self, n: u32) -> bool {
        self.sim.is_host_running(format!("app-{n}").as_str())
    }

    fn crash_host(&mut self, n: u32, now: Duration) {
        let host = format!("app-{n}");
        let (sim, graveyard) = (&mut self.sim, &self.graveyard);
        self.recorder.teardown(now, || {
            graveyard.open_for(&host);
            sim.crash(host.as_str());
            // Normally drained by the host's sexton already.
            graveyard.drain();
        });
    }

    fn restart_host(&mut self, n: u32, now: Duration) {
        let host = format!("app-{n}");
        let sim = &mut self.sim;
        self.recorder.teardown(now, || sim.bounce(host.as_str()));
    }

    fn respawn_host(&mut self, n: u32) {
        self.sim.bounce(format!("app-{n}").as_str());
    }
}
