//! The fast engine: the same supervisor, endpoint, tabs, store, trace and
//! oracle as the turmoil world, on one current-thread tokio runtime with
//! paused time and in-memory links ([`net`]). Time jumps straight to the
//! next timer instead of ticking every host's runtime every 10 ms, which is
//! where turmoil spends most of a run.
//!
//! Every scenario action means here what it means in `sim::world`: both
//! engines fire the scenario through the one fault layer,
//! `sim::director` (the same fault records, the same endpoint calls, the
//! same schedule, the same seeded flap periods), and this engine only
//! supplies its primitives (`FastStage`); an app that exits on its own
//! (`exit_on_codes`) wakes the director, which crashes its host and
//! restarts it after `restart_delay`, as on turmoil. Only how bytes and
//! time move differs:
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
use std::sync::atomic::{AtomicU32, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use self::hosts::{AppHost, AppRecipe, FastApi};
use self::net::Net;
use super::browser::{self, TabConfig};
use super::director::{Cast, Director, Stage};
use super::{RunOutput, SimError};
use crate::endpoint::protocol::credentials_for;
use crate::endpoint::Endpoint;
use crate::scenario::{Action, Scenario};
use crate::supervisor::status_auth::{session_token, SessionBook};
use crate::supervisor::{Policy, Store};
use crate::trace::{Clock, EventKind, Recorder, TokioClock, TraceGuard};
use crate::transport::OpenStreams;

const SIM: &str = "sim";
/// The driver reports progress after this many steps.
const PROGRESS_EVERY: u64 = 256;

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

/// The fast engine's side of the [`Stage`]: the in-memory network and the
/// app hosts' tasks.
struct FastStage {
    net: Net,
    recipe: AppRecipe,
    /// Running app hosts by number (absent while crashed).
    apps: BTreeMap<u32, AppHost>,
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

    let mut stage = FastStage {
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
        net,
        apps: BTreeMap::new(),
    };
    let mut d = Director::new(
        scenario,
        Cast {
            recorder: recorder.clone(),
            endpoint,
            browser: tx,
            started,
            seed,
        },
    );
    d.begin(&mut stage);

    let mut steps = 0u64;
    loop {
        // Read again after every wake: a fault that ended on its own
        // meanwhile (a refusal used up) moves the end later.
        let run_end = scenario.run_end(recorder.last_fault_activity());
        let next = d
            .next_at()
            .unwrap_or(run_end)
            .min(run_end)
            .min(clock.now() + GUARD_PERIOD);
        // An app that exits on its own wakes the director at once, as the
        // turmoil driver sees it right after the step it exited in.
        let exit = tokio::select! {
            biased;
            n = exited.recv() => n,
            () = tokio::time::sleep_until(origin + next) => None,
        };
        let now = clock.now();
        for n in exit
            .into_iter()
            .chain(std::iter::from_fn(|| exited.try_recv().ok()))
        {
            d.exited(&mut stage, n, now);
        }
        recorder.stream().map_err(SimError::trace_sink)?;
        let run_end = scenario.run_end(recorder.last_fault_activity());
        if now >= run_end || recorder.runaway().is_some() {
            break;
        }
        while let Some(step) = d.due(now) {
            d.apply(&mut stage, now, step);
            steps += 1;
            if steps.is_multiple_of(PROGRESS_EVERY) {
                progress(now);
            }
        }
    }
    streams.flush(&recorder);
    recorder.record(SIM, None, EventKind::RunEnded {});
    recorder.finish_stream().map_err(SimError::trace_sink)?;
    let run_end = scenario.run_end(recorder.last_fault_activity());
    progress(run_end);
    let runaway = recorder.runaway();
    let trace = recorder.take();
    for app in stage.apps.values() {
        app.crash();
    }
    Ok(RunOutput {
        trace,
        instances: d.into_instances(),
        runaway,
        run_end,
    })
}

impl Stage for FastStage {
    fn partition(&mut self, a: &str, b: &str) {
        self.net.partition(a, b);
    }

    fn repair(&mut self, a: &str, b: &str) {
        self.net.repair(a, b);
    }

    fn hold(&mut self, a: &str, b: &str) {
        self.net.hold(a, b);
    }

    fn release(&mut self, a: &str, b: &str) {
        self.net.release(a, b);
    }

    fn set_latency(&mut self, a: &str, b: &str, min: Duration, max: Duration) {
        self.net.set_latency(a, b, min, max);
    }

    fn set_loss(&mut self, a: &str, b: &str, rate: f64) {
        self.net.set_loss(a, b, rate);
    }

    fn start_host(&mut self, n: u32) {
        self.apps.insert(n, AppHost::start(&self.recipe, n));
    }

    fn is_running(&mut self, n: u32) -> bool {
        self.apps.contains_key(&n)
    }

    /// The host's tasks are aborted; their sockets drop as the runtime
    /// drops the aborted tasks, at this same instant.
    fn crash_host(&mut self, n: u32, _now: Duration) {
        if let Some(app) = self.apps.remove(&n) {
            app.crash();
        }
    }

    fn restart_host(&mut self, n: u32, _now: Duration) {
        self.respawn_host(n);
    }

    fn respawn_host(&mut self, n: u32) {
        if let Some(old) = self.apps.remove(&n) {
            old.crash();
        }
        self.apps.insert(n, AppHost::start(&self.recipe, n));
    }
}
