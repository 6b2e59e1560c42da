//! The session manager: per-user state machine, connection lock, close
//! handling by code, backoff, and a status row written on every transition.
//! A port of the reference's `baileys-stable-service.ts`, with the policy's
//! switches standing for the differences between presets.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::connection::{self, Outcome};
use super::events::Events;
use super::policy::Policy;
use super::session::{Session, StopSignal};
use super::store::{EpisodeRow, LeaseOutcome, Store};
use crate::trace::{AttemptCause, CloseAction, ConnectionState, EventKind};
use crate::transport::Dialer;

/// Identity and knobs of one supervisor instance.
#[derive(Debug, Clone)]
pub struct SupervisorConfig {
    /// Instance name, also its host name in the trace (`app-1`).
    pub instance: String,
    pub policy: Policy,
    /// Seeds the backoff jitter.
    pub seed: u64,
}

/// What a call to [`Supervisor::connect`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectOutcome {
    /// A socket is being opened for session `session`.
    Started { session: u64 },
    /// The user is connected already.
    AlreadyConnected,
    /// The user is connecting or waiting for a QR scan.
    Busy,
    /// Another instance owns the user.
    LeaseHeld,
    /// No such user in the store.
    UnknownUser,
}

/// The user's state as the status API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusView {
    pub state: ConnectionState,
    pub reason: String,
    pub connected: bool,
}

/// What the auto-reconnector reads of a user's session.
pub(crate) struct ReconnectView {
    pub state: ConnectionState,
    /// A socket is open.
    pub live: bool,
    pub last_disconnect: Option<Duration>,
}

/// One supervisor instance. Cheap to clone; every task holds one.
#[derive(Clone)]
pub struct Supervisor {
    inner: Arc<Inner>,
}

struct Inner {
    policy: Policy,
    events: Events,
    dialer: Arc<dyn Dialer>,
    store: Store,
    sessions: Mutex<BTreeMap<String, Session>>,
    /// The reference's `connectionLocks`: users with an attempt in its
    /// connecting phase.
    locks: Mutex<BTreeSet<String>>,
    /// Shared with the instance's other init paths' supervisors
    /// (`init_paths_own_sessions`), so session ids stay unique.
    next_session: Arc<Mutex<u64>>,
    rng: Mutex<ChaCha8Rng>,
    /// Seeds the other init paths' jitter (see [`Supervisor::init_path`]).
    seed: u64,
    /// The supervisors of the instance's other init paths, halted with it.
    init_paths: Mutex<Vec<Supervisor>>,
    /// Every task this instance spawned, so that `halt` can stop them.
    tasks: Mutex<Vec<tokio::task::AbortHandle>>,
    /// Called when the process exits on a close code.
    exit_hook: Mutex<Option<ExitHook>>,
    /// Each user's idle-watchdog timer, kept for the whole process.
    idle_timers: super::watchdog::IdleTimers,
}

type ExitHook = Arc<dyn Fn() + Send + Sync>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Supervisor {
    pub fn new(
        config: SupervisorConfig,
        dialer: Arc<dyn Dialer>,
        store: Store,
        events: Events,
    ) -> Self {
        Supervisor {
            inner: Arc::new(Inner {
                rng: Mutex::new(ChaCha8Rng::seed_from_u64(config.seed)),
                seed: config.seed,
                init_paths: Mutex::new(Vec::new()),
                policy: config.policy,
                events,
                dialer,
                store,
                sessions: Mutex::new(BTreeMap::new()),
                locks: Mutex::new(BTreeSet::new()),
                next_session: Arc::new(Mutex::new(0)),
                tasks: Mutex::new(Vec::new()),
                exit_hook: Mutex::new(None),
                idle_timers: Default::default(),
            }),
        }
    }

    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    pub fn events(&self) -> &Events {
        &self.inner.events
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn dialer(&self) -> &dyn Dialer {
        self.inner.dialer.as_ref()
    }

    pub(crate) fn idle_timers(&self) -> &super::watchdog::IdleTimers {
        &self.inner.idle_timers
    }

    pub(crate) fn instance(&self) -> &str {
        self.inner.events.host()
    }

    /// Starts the instance: connects its enabled, paired users at once, then
    /// runs the auto-reconnector. Must be called inside a tokio runtime.
    pub fn start(&self) {
        // Each init path connects the enabled users; two race (init_paths),
        // in one session map or each in its own (init_paths_own_sessions).
        for path in 0..self.policy().init_paths.max(1) {
            self.init_path(path).connect_enabled(AttemptCause::Startup);
        }
        if self.policy().auto_reconnect {
            self.spawn(super::reconnector::run(self.clone()));
        }
    }

    /// What the process does when it exits on a close code (`exit_on_codes`):
    /// in the simulation the world crashes the host and restarts it.
    pub fn on_exit(&self, hook: impl Fn() + Send + Sync + 'static) {
        *lock(&self.inner.exit_hook) = Some(Arc::new(hook));
    }

    /// Stops every task of this instance at once, as a crash would: sockets
    /// drop, timers vanish, nothing is written to the store.
    pub fn halt(&self) {
        for task in lock(&self.inner.tasks).drain(..) {
            task.abort();
        }
        for path in lock(&self.inner.init_paths).iter() {
            path.halt();
        }
    }

    /// The instance's own tasks still alive (this supervisor's and its
    /// other init paths'): the host's work, for an engine whose hosts share
    /// one runtime and cannot count a host's tasks there (the fast engine).
    pub fn live_tasks(&self) -> u64 {
        let own = lock(&self.inner.tasks)
            .iter()
            .filter(|t| !t.is_finished())
            .count() as u64;
        let paths: Vec<Supervisor> = lock(&self.inner.init_paths).clone();
        own + paths.iter().map(Supervisor::live_tasks).sum::<u64>()
    }

    /// A supervisor of this instance for another init path: its own session
    /// map, locks and close handling, sharing the instance's policy, store,
    /// dialer, trace and session ids; halted with this one, and its exit on
    /// a close code is the instance's.
    pub(super) fn new_init_path(&self, path: u32) -> Supervisor {
        let seed = self.inner.seed ^ u64::from(path).rotate_left(32);
        let sibling = Supervisor {
            inner: Arc::new(Inner {
                rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed)),
                seed,
                init_paths: Mutex::new(Vec::new()),
                policy: self.inner.policy.clone(),
                events: self.inner.events.clone(),
                dialer: self.inner.dialer.clone(),
                store: self.inner.store.clone(),
                sessions: Mutex::new(BTreeMap::new()),
                locks: Mutex::new(BTreeSet::new()),
                next_session: self.inner.next_session.clone(),
                tasks: Mutex::new(Vec::new()),
                exit_hook: Mutex::new(None),
                idle_timers: Default::default(),
            }),
        };
        let instance = Arc::downgrade(&self.inner);
        sibling.on_exit(move || {
            if let Some(inner) = instance.upgrade() {
                let instance = Supervisor { inner };
                instance.halt();
                let hook = lock(&instance.inner.exit_hook).clone();
                if let Some(hook) = hook {
                    hook();
                }
            }
        });
        lock(&self.inner.init_paths).push(sibling.clone());
        sibling
    }

    pub(crate) fn spawn<F>(&self, fut: F) -> tokio::task::AbortHandle
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        // The harness carries the HTTP request being served, if any, into
        // the task (ground truth for `status_read_only`).
        let handle = tokio::spawn(crate::request_context::carry(fut)).abort_handle();
        let mut tasks = lock(&self.inner.tasks);
        tasks.retain(|t| !t.is_finished());
        tasks.push(handle.clone());
        handle
    }

    /// Connects every enabled user with credentials (start-up).
    fn connect_enabled(&self, cause: AttemptCause) {
        let Ok(users) = self.store().users() else {
            return;
        };
        for u in users {
            let wanted = u.enabled
                && u.credentials.is_some()
                && !u.held
                && !(self.policy().skip_logged_out && u.logged_out);
            let kept_off = !wanted
                || (cause == AttemptCause::Startup && super::startup::in_cooldown(self, &u.id));
            if kept_off {
                if cause == AttemptCause::Startup {
                    super::startup::forget_stale_status(self, &u.id);
                }
                continue;
            }
            self.connect(&u.id, cause);
        }
    }

    /// Opens a socket for `user` unless the policy says this is not the time.
    pub fn connect(&self, user: &str, cause: AttemptCause) -> ConnectOutcome {
        let policy = self.policy();
        let credentials = match self.store().user(user) {
            Ok(Some(row)) => row.credentials,
            _ => return ConnectOutcome::UnknownUser,
        };
        let mut sessions = lock(&self.inner.sessions);
        if let Some(s) = sessions.get(user) {
            let blind_retry = cause == AttemptCause::Backoff && !policy.retry_checks_state;
            if s.state == ConnectionState::Connected && s.live.is_some() && !blind_retry {
                return ConnectOutcome::AlreadyConnected;
            }
            let locked = lock(&self.inner.locks).contains(user);
            if policy.connect_skips_busy && (locked || s.state == ConnectionState::QrPending) {
                return ConnectOutcome::Busy;
            }
        }
        let lease_token = match self.take_lease(user) {
            Ok(token) => token,
            Err(()) => return ConnectOutcome::LeaseHeld,
        };
        let id = {
            let mut next = lock(&self.inner.next_session);
            *next += 1;
            *next
        };
        let s = sessions
            .entry(user.to_string())
            .or_insert_with(|| Session::new(id));
        if cause == AttemptCause::Backoff {
            s.retry = None;
        }
        if cause == AttemptCause::Manual && policy.manual_disconnect_holds {
            let _ = self.store().set_held(user, false);
        }
        if cause == AttemptCause::Manual && policy.skip_logged_out {
            // A person acts: a user closed with 403/411 may be tried again.
            let _ = self.store().set_waits_for_person(user, false);
        }
        if s.live.take().is_some() {
            // Only a policy without the busy check gets here with a live
            // socket: the old socket is left running beside the new one.
            self.events().emit(
                user,
                EventKind::SessionEnded {
                    session: s.id,
                    reason: "replaced".into(),
                },
            );
        }
        let stop = Arc::new(StopSignal::default());
        s.id = id;
        s.live = Some(stop.clone());
        s.connected_at = None;
        s.lease_token = lease_token;
        if policy.lease {
            // The user may come from another instance: carry its episode on.
            if let Ok(episode) = self.store().episode(user) {
                s.attempts = episode.attempts;
                s.last_disconnect = episode.last_disconnect_ms.map(Duration::from_millis);
            }
        }
        if cause == AttemptCause::Manual && policy.manual_connect_restarts_episode {
            if let Some(retry) = s.retry.take() {
                retry.abort();
            }
            s.attempts = 0;
            self.save_episode(user, s);
        }
        lock(&self.inner.locks).insert(user.to_string());
        let attempt = if cause == AttemptCause::Backoff {
            s.attempts
        } else {
            0
        };
        self.events().emit(
            user,
            EventKind::AttemptStarted {
                session: id,
                cause,
                attempt,
            },
        );
        self.set_state(user, s, ConnectionState::Connecting, cause.as_str());
        drop(sessions);
        self.spawn(connection::run(
            self.clone(),
            user.to_string(),
            id,
            credentials,
            stop,
            lease_token,
        ));
        ConnectOutcome::Started { session: id }
    }

    /// Takes the user's lease when the policy leases: `Ok(None)` without
    /// leases, `Err` when another instance holds it.
    fn take_lease(&self, user: &str) -> Result<Option<u64>, ()> {
        let policy = self.policy();
        if !policy.lease {
            return Ok(None);
        }
        match self
            .store()
            .acquire_lease(user, self.instance(), policy.lease_ttl)
        {
            Ok(LeaseOutcome::Acquired { token }) => {
                self.events().emit(user, EventKind::LeaseAcquired { token });
                Ok(Some(token))
            }
            Ok(LeaseOutcome::Held { owner, .. }) => {
                self.events().emit(user, EventKind::LeaseDenied { owner });
                Err(())
            }
            Err(_) => Err(()),
        }
    }

    /// Whether a person's disconnect, pressed on any instance, holds the user.
    pub(crate) fn held_by_person(&self, user: &str) -> bool {
        self.policy().manual_disconnect_holds
            && matches!(self.store().user(user), Ok(Some(row)) if row.held)
    }

    /// Extends the user's lease; false (and `lease_lost`) if it was taken.
    pub(crate) fn renew_lease(&self, user: &str, token: u64) -> bool {
        let renewed = self
            .store()
            .renew_lease(user, self.instance(), token, self.policy().lease_ttl)
            .unwrap_or(false);
        if !renewed {
            self.events().emit(user, EventKind::LeaseLost { token });
        }
        renewed
    }

    /// The dashboard's disconnect button: closes the socket, cancels retries.
    pub fn disconnect(&self, user: &str) {
        if self.policy().manual_disconnect_holds {
            let _ = self.store().set_held(user, true);
        }
        let mut sessions = lock(&self.inner.sessions);
        let Some(s) = sessions.get_mut(user) else {
            return;
        };
        if let Some(retry) = s.retry.take() {
            retry.abort();
        }
        match &s.live {
            Some(stop) => stop.stop("manual disconnect"),
            // Another instance owns the user (it holds the lease): it sees
            // the hold and closes its socket, and writes the status then;
            // writing DISCONNECTED here would show a live connection as
            // down meanwhile (explore's stable seed 247).
            None if self.policy().lease && self.owned_elsewhere(user) => {}
            None => {
                s.last_disconnect = Some(self.events().now());
                self.set_state(user, s, ConnectionState::Disconnected, "manual disconnect");
            }
        }
    }

    fn owned_elsewhere(&self, user: &str) -> bool {
        self.store()
            .lease_holder(user)
            .ok()
            .flatten()
            .is_some_and(|owner| owner != self.instance())
    }

    /// The reference's clean-up: every status row to DISCONNECTED and the
    /// in-memory state cleared (live sockets are closed).
    pub fn cleanup(&self) {
        let mut sessions = lock(&self.inner.sessions);
        for (user, s) in std::mem::take(&mut *sessions) {
            if let Some(retry) = s.retry {
                retry.abort();
            }
            if let Some(stop) = s.live {
                stop.stop("cleanup");
            }
            self.events().emit(
                &user,
                EventKind::SessionEnded {
                    session: s.id,
                    reason: "cleanup".into(),
                },
            );
        }
        lock(&self.inner.locks).clear();
        let _ = self.store().reset_all_statuses(self.instance());
    }

    /// The user's state, from memory, else from the store. Never connects.
    pub fn status(&self, user: &str) -> Option<StatusView> {
        if let Some(s) = lock(&self.inner.sessions).get(user) {
            return Some(StatusView {
                state: s.state,
                reason: String::new(),
                connected: s.state == ConnectionState::Connected && s.live.is_some(),
            });
        }
        match self.store().status(user) {
            Ok(Some(row)) => Some(StatusView {
                state: row.status,
                reason: row.reason,
                connected: false,
            }),
            Ok(None) => match self.store().user(user) {
                Ok(Some(_)) => Some(StatusView {
                    state: ConnectionState::Disconnected,
                    reason: String::new(),
                    connected: false,
                }),
                _ => None,
            },
            Err(_) => None,
        }
    }

    /// What the auto-reconnector needs to know of a user.
    pub(crate) fn reconnect_view(&self, user: &str) -> Option<ReconnectView> {
        lock(&self.inner.sessions).get(user).map(|s| ReconnectView {
            state: s.state,
            live: s.live.is_some(),
            last_disconnect: s.last_disconnect,
        })
    }

    fn set_state(&self, user: &str, s: &mut Session, to: ConnectionState, reason: &str) {
        if s.state != to {
            self.events().emit(
                user,
                EventKind::StateChanged {
                    session: s.id,
                    from: s.state,
                    to,
                    reason: reason.to_string(),
                },
            );
            s.state = to;
        }
        // Test-only fault: the store never hears of CONNECTED.
        let stored = if to == ConnectionState::Connected
            && crate::test_faults::active("supervisor_never_stores_connected")
        {
            ConnectionState::Connecting
        } else {
            to
        };
        let _ = self
            .store()
            .write_status(self.instance(), user, stored, reason, s.lease_token);
    }

    /// Runs `f` on the session if `session` is current, or if the policy lets
    /// a replaced socket's handlers act on the user's current session.
    fn with_session(&self, user: &str, session: u64, f: impl FnOnce(&Self, &mut Session, bool)) {
        let mut sessions = lock(&self.inner.sessions);
        let Some(s) = sessions.get_mut(user) else {
            return;
        };
        let current = s.id == session;
        if current || self.policy().stale_close_acts {
            f(self, s, current);
        }
    }

    pub(crate) fn on_connected(&self, user: &str, session: u64) {
        lock(&self.inner.locks).remove(user);
        self.with_session(user, session, |sup, s, _| {
            s.connected_at = Some(sup.events().now());
            sup.set_state(user, s, ConnectionState::Connected, "open");
        });
        if crate::test_faults::active("supervisor_status_flaps") {
            self.spawn_status_flapping(user, session);
        }
    }

    pub(crate) fn on_qr(&self, user: &str, session: u64) {
        lock(&self.inner.locks).remove(user);
        self.with_session(user, session, |sup, s, _| {
            sup.set_state(user, s, ConnectionState::QrPending, "qr");
        });
    }

    pub(crate) fn on_paired(&self, user: &str, credentials: &str) {
        let _ = self.store().set_credentials(user, credentials);
    }

    /// Close handling by code: the heart of the reference's fix. `silence` is
    /// how long before its end the socket was last known alive: the
    /// connection's uptime ends there, not when a dead link was noticed, so
    /// a link that died early does not reset the attempt count.
    pub(crate) fn on_closed(
        &self,
        user: &str,
        session: u64,
        conn: u64,
        outcome: Outcome,
        silence: Duration,
    ) {
        if crate::test_faults::active("supervisor_leaks_session_task") {
            // Test-only fault: the closed session's keep-alive loop lives
            // on, silently (it writes no row).
            let period = self.policy().keepalive_interval;
            self.spawn(async move {
                loop {
                    tokio::time::sleep(period).await;
                }
            });
        }
        let now = self.events().now();
        let policy = self.policy();
        let mut restart = false;
        {
            let mut sessions = lock(&self.inner.sessions);
            let Some(s) = sessions.get_mut(user) else {
                return;
            };
            let current = s.id == session;
            if current {
                lock(&self.inner.locks).remove(user);
                s.live = None;
                self.events().emit(
                    user,
                    EventKind::SessionEnded {
                        session,
                        reason: outcome_reason(&outcome),
                    },
                );
            } else if !policy.stale_close_acts {
                return;
            }
            let was = s.state;
            let code = match &outcome {
                Outcome::Closed { code, .. } => *code,
                Outcome::Requested { .. } | Outcome::LeaseLost => 0,
            };
            let handled = |action: CloseAction, delay: Option<Duration>| EventKind::CloseHandled {
                session,
                conn,
                code,
                action,
                delay_ms: delay.map(crate::util::ms),
            };
            if let Some(at) = s.connected_at.take() {
                let heard_until = now.saturating_sub(silence);
                if heard_until.saturating_sub(at) >= policy.episode_min_uptime {
                    s.attempts = 0;
                }
            }
            s.last_disconnect = Some(now);
            self.save_episode(user, s);
            match outcome {
                Outcome::Requested { reason } => {
                    self.events()
                        .emit(user, handled(CloseAction::Requested, None));
                    self.set_state(user, s, ConnectionState::Disconnected, &reason);
                    if let Some(token) = s.lease_token.take() {
                        let _ = self.store().release_lease(user, self.instance(), token);
                    }
                }
                Outcome::LeaseLost => {
                    self.events()
                        .emit(user, handled(CloseAction::Requested, None));
                    self.set_state(user, s, ConnectionState::Disconnected, "lease lost");
                    s.lease_token = None;
                }
                Outcome::Closed { code: 515, .. } => {
                    self.events()
                        .emit(user, handled(CloseAction::Restart, None));
                    self.set_state(user, s, ConnectionState::Disconnected, "restart required");
                    restart = true;
                }
                Outcome::Closed { code: 440, .. } if policy.conflict_deletes_session => {
                    // The reference's 440 path, verbatim: status, store, stop
                    // the keep-alive, delete the session and its lock.
                    self.events().emit(user, handled(CloseAction::Stop, None));
                    self.set_state(
                        user,
                        s,
                        ConnectionState::Disconnected,
                        "Conflicto de sesión",
                    );
                    sessions.remove(user);
                    lock(&self.inner.locks).remove(user);
                }
                Outcome::Closed { code, reason } => {
                    if code == 401 {
                        let _ = self.store().set_logged_out(user);
                    } else if policy.skip_logged_out && matches!(code, 403 | 411) {
                        // Forbidden, multi-device mismatch: like a logout,
                        // only a person can fix it.
                        let _ = self.store().set_waits_for_person(user, true);
                    }
                    if policy.wipe_credentials_on_codes.contains(&code) {
                        let _ = self.store().delete_credentials(self.instance(), user);
                    }
                    if policy.exit_on_codes.contains(&code) {
                        self.events().emit(user, EventKind::ProcessExited { code });
                        self.set_state(user, s, ConnectionState::Disconnected, &reason);
                        let hook = lock(&self.inner.exit_hook).clone();
                        drop(sessions);
                        self.halt();
                        if let Some(hook) = hook {
                            hook();
                        }
                        return;
                    }
                    // A QR session that ended unscanned (its refs ran out,
                    // or the link dropped while it showed), or any socket of
                    // a user still without credentials: only a person may
                    // start another.
                    let needs_person = policy.unpaired_needs_person
                        && (was == ConnectionState::QrPending
                            || matches!(self.store().user(user), Ok(Some(row)) if row.credentials.is_none()));
                    if policy.is_stop_code(code) || needs_person {
                        self.events().emit(user, handled(CloseAction::Stop, None));
                        self.set_state(user, s, ConnectionState::Disconnected, &reason);
                    } else if s.attempts >= policy.max_attempts {
                        self.events().emit(user, handled(CloseAction::GiveUp, None));
                        self.set_state(user, s, ConnectionState::Disconnected, "retries exhausted");
                    } else {
                        s.attempts += 1;
                        self.save_episode(user, s);
                        let delay = policy.backoff_delay(s.attempts) + self.jitter();
                        self.events()
                            .emit(user, handled(CloseAction::Backoff, Some(delay)));
                        self.set_state(user, s, ConnectionState::Disconnected, &reason);
                        if let Some(old) = s.retry.take() {
                            old.abort();
                        }
                        s.retry = Some(self.schedule_retry(user, delay));
                    }
                }
            }
        }
        if restart {
            self.connect(user, crate::trace::AttemptCause::Restart);
        }
    }

    /// With leases a user can move between instances, so its episode (the
    /// attempt count and the last disconnect) lives in the store.
    fn save_episode(&self, user: &str, s: &Session) {
        if self.policy().lease || self.policy().startup_respects_cooldown {
            let episode = EpisodeRow {
                attempts: s.attempts,
                last_disconnect_ms: s.last_disconnect.map(crate::util::ms),
            };
            let _ = self.store().save_episode(user, episode);
        }
    }

    /// Test-only fault: while the session lives, its stored status flips
    /// between CONNECTING and CONNECTED every 100 ms.
    fn spawn_status_flapping(&self, user: &str, session: u64) {
        let (sup, user) = (self.clone(), user.to_string());
        self.spawn(async move {
            let mut flip = false;
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let mut sessions = lock(&sup.inner.sessions);
                let Some(s) = sessions
                    .get_mut(&user)
                    .filter(|s| s.id == session && s.live.is_some())
                else {
                    return;
                };
                flip = !flip;
                let to = if flip {
                    ConnectionState::Connecting
                } else {
                    ConnectionState::Connected
                };
                sup.set_state(&user, s, to, "flap");
            }
        });
    }

    /// Test-only fault: drops a connected user's socket so that the
    /// auto-reconnector connects it again after its cooldown.
    pub(crate) fn churn(&self, user: &str) {
        if let Some(stop) = lock(&self.inner.sessions)
            .get(user)
            .filter(|s| s.state == ConnectionState::Connected)
            .and_then(|s| s.live.clone())
        {
            stop.stop("churn");
        }
    }

    fn jitter(&self) -> Duration {
        let max = crate::util::ms(self.policy().backoff_jitter);
        if max == 0 {
            return Duration::ZERO;
        }
        Duration::from_millis(lock(&self.inner.rng).random_range(0..=max))
    }

    fn schedule_retry(&self, user: &str, delay: Duration) -> tokio::task::AbortHandle {
        let sup = self.clone();
        let user = user.to_string();
        self.spawn(async move {
            tokio::time::sleep(delay).await;
            sup.connect(&user, AttemptCause::Backoff);
        })
    }
}

fn outcome_reason(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Closed { code, reason } => format!("closed {code}: {reason}"),
        Outcome::Requested { reason } => reason.clone(),
        Outcome::LeaseLost => "lease lost".into(),
    }
}
