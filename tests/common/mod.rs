//! A small world for the supervisor's tests: one tokio runtime with paused
//! time, the fake endpoint behind in-memory pipes, one shared store.

#![allow(dead_code)]

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use loopguard::endpoint::protocol::credentials_for;
use loopguard::endpoint::Endpoint;
use loopguard::sim::MemoryConnect;
use loopguard::supervisor::{Events, Policy, Store, Supervisor, SupervisorConfig};
use loopguard::trace::{AttemptCause, CloseAction, EventKind, Recorder, TokioClock, TraceEvent};
use loopguard::transport::TracedDialer;

pub struct World {
    pub recorder: Recorder,
    pub endpoint: Endpoint,
    pub store: Store,
    pub link: MemoryConnect,
    next_conn: Arc<AtomicU64>,
}

impl World {
    /// Users as (id, paired); all enabled. Call inside a paused runtime.
    pub fn new(users: &[(&str, bool)]) -> World {
        let recorder = Recorder::new(Arc::new(TokioClock::start()));
        let store = Store::open_in_memory(recorder.clone()).unwrap();
        for (id, paired) in users {
            let creds = paired.then(|| credentials_for(id));
            store.add_user(id, true, creds.as_deref()).unwrap();
        }
        let endpoint = Endpoint::new(
            recorder.clone(),
            users.iter().map(|(id, p)| (id.to_string(), *p)),
        );
        let link = MemoryConnect::new(endpoint.clone());
        World {
            recorder,
            endpoint,
            store,
            link,
            next_conn: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A supervisor instance named `instance`, not yet started.
    pub fn supervisor(&self, instance: &str, policy: Policy) -> Supervisor {
        let dialer = TracedDialer::new(
            self.link.clone(),
            instance,
            self.recorder.clone(),
            self.next_conn.clone(),
        );
        Supervisor::new(
            SupervisorConfig {
                instance: instance.into(),
                policy,
                seed: 7,
            },
            Arc::new(dialer),
            self.store.clone(),
            Events::new(self.recorder.clone(), instance),
        )
    }

    /// A supervisor instance running shipped preset `preset` unchanged.
    pub fn preset_supervisor(&self, instance: &str, preset: &str) -> Supervisor {
        self.supervisor(instance, Policy::preset(preset).unwrap())
    }

    /// Every close the supervisors handled: (time, code, what they did).
    pub fn closes_handled(&self) -> Vec<(Duration, u16, CloseAction)> {
        self.trace()
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::CloseHandled { code, action, .. } => Some((e.at, code, action)),
                _ => None,
            })
            .collect()
    }

    pub fn trace(&self) -> Vec<TraceEvent> {
        self.recorder.snapshot()
    }

    /// Virtual times (whole ms) of the attempts with `cause` on `host`.
    pub fn attempts(&self, host: &str, cause: AttemptCause) -> Vec<Duration> {
        self.trace()
            .iter()
            .filter(|e| e.host == host)
            .filter(
                |e| matches!(&e.kind, EventKind::AttemptStarted { cause: c, .. } if *c == cause),
            )
            .map(|e| e.at)
            .collect()
    }

    /// Times of every attempt on `host`, any cause.
    pub fn all_attempts(&self, host: &str) -> Vec<(Duration, AttemptCause)> {
        self.trace()
            .iter()
            .filter(|e| e.host == host)
            .filter_map(|e| match &e.kind {
                EventKind::AttemptStarted { cause, .. } => Some((e.at, *cause)),
                _ => None,
            })
            .collect()
    }

    /// Times at which the endpoint authenticated a socket of `user`.
    pub fn authenticated(&self, user: &str) -> Vec<Duration> {
        self.trace()
            .iter()
            .filter(|e| e.user.as_deref() == Some(user))
            .filter(|e| {
                matches!(
                    e.kind,
                    EventKind::EndpointAuthenticated { paired: true, .. }
                )
            })
            .map(|e| e.at)
            .collect()
    }
}

/// A preset with knobs changed, for isolating one behaviour.
pub fn preset_with(name: &str, knobs: &[(&str, &str)]) -> Policy {
    let mut t = toml::Table::new();
    for (k, v) in knobs {
        t.insert(k.to_string(), toml::Value::String(v.to_string()));
    }
    Policy::preset(name).unwrap().with_overrides(&t).unwrap()
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Lets virtual time run for `d` (timers fire in order).
pub async fn run_for(d: Duration) {
    tokio::time::sleep(d).await;
}
