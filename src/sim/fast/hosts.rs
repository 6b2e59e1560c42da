//! The fast engine's hosts: the endpoint `wa`, the app instances `app-N`
//! (a supervisor and its status API) and the browser, all tasks on one
//! runtime, reaching each other only through [`Net`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::net::Net;
use crate::endpoint::Endpoint;
use crate::sim::api_witness::{witnessed, Witness};
use crate::sim::browser::ApiConnect;
use crate::sim::served;
use crate::sim::API_PORT;
use crate::supervisor::status_auth::SessionBook;
use crate::supervisor::{status_api, Events, Policy, Store, Supervisor, SupervisorConfig};
use crate::trace::{EventKind, Recorder};
use crate::transport::{BoxStream, Connect, ConnectFuture, OpenStreams, TracedDialer};

/// The endpoint's host and port on the fast engine's network.
pub const WA: (&str, u16) = ("wa", 443);
/// The browser's host name.
pub const BROWSER: &str = "browser";

/// Serves the endpoint on `wa:443` for the whole run.
pub fn start_endpoint(net: &Net, endpoint: Endpoint) {
    let mut listener = net.bind(WA.0, WA.1);
    tokio::spawn(async move {
        while let Some((stream, peer)) = listener.accept().await {
            let ep = endpoint.clone();
            tokio::spawn(async move { ep.serve_stream(stream, peer).await });
        }
    });
}

/// Dials the endpoint from one app host.
struct FastConnect {
    net: Net,
    host: String,
}

impl Connect for FastConnect {
    fn connect(&self) -> ConnectFuture<'_> {
        Box::pin(async move {
            let (pipe, local) = self.net.connect(&self.host, WA.0, WA.1).await?;
            Ok((Box::new(pipe) as BoxStream, local))
        })
    }
}

/// Reaches an instance's status API from the browser.
pub struct FastApi(pub Net);

impl ApiConnect for FastApi {
    fn connect(&self, instance: u32) -> ConnectFuture<'_> {
        Box::pin(async move {
            let host = format!("app-{instance}");
            let (pipe, local) = self.0.connect(BROWSER, &host, API_PORT).await?;
            Ok((Box::new(pipe) as BoxStream, local))
        })
    }
}

/// What every app host is made from.
#[derive(Clone)]
pub struct AppRecipe {
    pub net: Net,
    pub store: Store,
    pub recorder: Recorder,
    pub policy: Policy,
    pub seed: u64,
    pub next_conn: Arc<AtomicU64>,
    /// Each user's login cookie, checked by a private status API.
    pub sessions: SessionBook,
    /// Numbers the HTTP requests of the run (the harness's request context).
    pub next_request: Arc<AtomicU64>,
    /// Where an app that exits on its own (`exit_on_codes`) says so: the
    /// director wakes on it, crashes the host and schedules its restart.
    pub exits: mpsc::UnboundedSender<u32>,
    /// The streams every app's dialer holds open (counted per host in
    /// `host_work_sampled`, flushed at the run's end).
    pub streams: OpenStreams,
}

/// One HTTP connection an app's API holds: counted while its task lives.
struct HeldConnection(Arc<AtomicU64>);

impl HeldConnection {
    fn new(open: &Arc<AtomicU64>) -> Self {
        open.fetch_add(1, Ordering::Relaxed);
        HeldConnection(open.clone())
    }
}

impl Drop for HeldConnection {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Records `host_work_sampled` on `host` every [`served::SAMPLE_PERIOD`]
/// from the host's start, as the turmoil world's host does: the hosts here
/// share one runtime, so the host's live tasks are its supervisor's own
/// plus the HTTP connections its API holds.
async fn sample_work(
    host: String,
    recorder: Recorder,
    supervisor: Supervisor,
    http: Arc<AtomicU64>,
    streams: OpenStreams,
) {
    let mut tick = tokio::time::interval(served::SAMPLE_PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let http_connections = http.load(Ordering::Relaxed);
        recorder.record(
            &host,
            None,
            EventKind::HostWorkSampled {
                alive_tasks: supervisor.live_tasks() + http_connections,
                http_connections,
                open_sockets: streams.open_on(&host),
            },
        );
    }
}

/// One running app host: its supervisor and its API tasks, so a crash can
/// stop all of them at once, as turmoil drops a crashed host's runtime.
pub struct AppHost {
    host: String,
    net: Net,
    supervisor: Supervisor,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl AppHost {
    /// Starts `app-n`'s software: the same wiring as the turmoil world's host.
    pub fn start(recipe: &AppRecipe, n: u32) -> AppHost {
        let host = format!("app-{n}");
        let dialer = TracedDialer::new(
            FastConnect {
                net: recipe.net.clone(),
                host: host.clone(),
            },
            &host,
            recipe.recorder.clone(),
            recipe.next_conn.clone(),
        )
        .with_streams(recipe.streams.clone());
        let config = SupervisorConfig {
            instance: host.clone(),
            policy: recipe.policy.clone(),
            seed: recipe.seed ^ (u64::from(n) << 48),
        };
        let supervisor = Supervisor::new(
            config,
            Arc::new(dialer),
            recipe.store.clone(),
            Events::new(recipe.recorder.clone(), &host),
        );
        let tasks: Arc<Mutex<Vec<AbortHandle>>> = Arc::new(Mutex::new(Vec::new()));
        let exits = recipe.exits.clone();
        supervisor.on_exit(move || {
            // The director outlives every app host; a send to it cannot fail
            // while the run goes on.
            let _ = exits.send(n);
        });
        // The host's software starts once the director has recorded the
        // start (`instance_started` first, as on turmoil, where a host runs
        // at the simulation's next step).
        let starting = supervisor.clone();
        let boot = tokio::spawn(async move { starting.start() });
        let mut listener = recipe.net.bind(&host, API_PORT);
        // The same API as the turmoil world's host: private when the policy
        // says so, behind the harness's witness and request context.
        let next_request = recipe.next_request.clone();
        let api = witnessed(
            status_api::private_router(supervisor.clone(), recipe.sessions.clone()),
            Witness {
                recorder: recipe.recorder.clone(),
                host: host.clone(),
            },
        )
        .layer(axum::middleware::from_fn(move |req, next| {
            served::in_request_context(next_request.clone(), req, next)
        }));
        let conns = tasks.clone();
        let http = Arc::new(AtomicU64::new(0));
        let held = http.clone();
        let accept = tokio::spawn(async move {
            while let Some((stream, _peer)) = listener.accept().await {
                let held = HeldConnection::new(&held);
                let service = TowerToHyperService::new(api.clone());
                let serve = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service);
                let task = tokio::spawn(async move {
                    let _held = held;
                    let _ = serve.await;
                });
                let mut list = conns.lock().unwrap_or_else(PoisonError::into_inner);
                list.retain(|t| !t.is_finished());
                list.push(task.abort_handle());
            }
        });
        let sampler = tokio::spawn(sample_work(
            host.clone(),
            recipe.recorder.clone(),
            supervisor.clone(),
            http,
            recipe.streams.clone(),
        ));
        tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend([
                boot.abort_handle(),
                accept.abort_handle(),
                sampler.abort_handle(),
            ]);
        AppHost {
            host,
            net: recipe.net.clone(),
            supervisor,
            tasks,
        }
    }

    /// Stops every task of the host: its sockets drop, its timers vanish,
    /// its API stops listening.
    pub fn crash(&self) {
        self.net.unbind(&self.host, API_PORT);
        self.supervisor.halt();
        for t in self
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            t.abort();
        }
    }
}
