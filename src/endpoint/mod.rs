//! The fake WhatsApp endpoint: a WebSocket server that behaves as WhatsApp
//! does, as far as is publicly known, with scripted faults and ground truth.
//!
//! - [`protocol`]: the JSON frames on the wire.
//! - `accounts`: who is paired, whose next connects are refused.
//! - [`qr`]: the QR refs an unpaired device is shown, and their lifetimes.
//! - `control`: the registry of open sockets that faults reach them by.
//! - `server`: the task serving one socket, from accept to close.
//! - `settings`: what connected sockets time themselves by (the idle
//!   timeout, churn, rival logins, messages) and the faults that set it
//!   (also `stale_close` and `stream_error`).
//!
//! How a hello is answered (once any handshake delay or ping silence lets
//! it be): a pending refusal of the user → its code; unavailable → 503;
//! credentials that are not the user's valid ones → 401; valid credentials
//! → `connected`, and every socket of the user authenticated before this one
//! gets 440 (only the latest authentication stays); no credentials → QR refs
//! (also for a paired user: a fresh device), which replace nothing.
//!
//! The endpoint is the harness's ground truth on the server side: it records
//! (host `wa`) every socket it accepts, authenticates, shows QR refs to,
//! replaces and closes, stamped with virtual time. All its timing is
//! `tokio::time`, so it runs the same under turmoil (one runtime per host)
//! and on one runtime with paused time; all its maps are ordered, so the same
//! inputs give the same trace.

mod accounts;
mod control;
pub mod protocol;
pub mod qr;
mod server;
mod settings;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

use crate::trace::{EventKind, Recorder};
use accounts::Accounts;
use control::{Command, Phase, Registry};

pub use control::reason_for;
pub use server::HELLO_TIMEOUT;

/// The host name the endpoint's events are recorded under.
pub const HOST: &str = "wa";

/// The fake WhatsApp endpoint. Cheap to clone: the simulator keeps one
/// handle to script faults while the serving tasks hold others.
#[derive(Clone)]
pub struct Endpoint {
    inner: Arc<Inner>,
}

/// What every socket task and every fault shares.
pub(crate) struct Inner {
    recorder: Recorder,
    /// Locked only for short synchronous decisions, never across an await.
    state: Mutex<State>,
    /// Ping silence: a watch, so a hello held back by the silence is
    /// answered the moment it ends.
    silence: watch::Sender<bool>,
    /// Bumped whenever a setting a connected socket times itself by
    /// changes (churn, rival logins, messages, the idle timeout), so each
    /// socket's task re-reads them at once.
    settings: watch::Sender<u64>,
}

struct State {
    /// Id of the last accepted stream (ids start at 1).
    last_sock: u64,
    accounts: Accounts,
    sockets: Registry,
    unavailable: bool,
    handshake_delay: Duration,
    timed: settings::Timed,
}

impl Endpoint {
    /// An endpoint knowing `accounts`: (user id, paired). A paired user's
    /// valid credentials are [`protocol::credentials_for`] the user; an
    /// unknown user is treated as unpaired.
    pub fn new(recorder: Recorder, accounts: impl IntoIterator<Item = (String, bool)>) -> Self {
        let state = State {
            last_sock: 0,
            accounts: Accounts::new(accounts),
            sockets: Registry::default(),
            unavailable: false,
            handshake_delay: Duration::ZERO,
            timed: settings::Timed::default(),
        };
        let (silence, _) = watch::channel(false);
        let (settings, _) = watch::channel(0);
        Endpoint {
            inner: Arc::new(Inner {
                recorder,
                state: Mutex::new(state),
                silence,
                settings,
            }),
        }
    }

    /// Serves one accepted stream until it ends; the caller spawns one task
    /// per accepted stream. `peer` (the remote address) is recorded in
    /// `endpoint_accepted`. The WebSocket handshake and the hello must both
    /// arrive within [`HELLO_TIMEOUT`] of the accept.
    pub async fn serve_stream<S>(&self, stream: S, peer: String)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        server::serve(Arc::clone(&self.inner), stream, peer).await;
    }

    /// Scripted close: every socket of `user` past its hello (connected, or
    /// showing QR refs) gets `stream_error {code}` and is closed. With 440
    /// ("another device took over") each is also recorded as replaced by a
    /// fault, with no new socket of ours.
    pub fn close_user(&self, user: &str, code: u16) {
        let mut state = self.inner.lock();
        let targets = state
            .sockets
            .live(|e| e.user.as_deref() == Some(user) && e.phase != Phase::Opening);
        for sock in targets {
            let command = Command::Close {
                code,
                reason: reason_for(code).to_string(),
            };
            if state.sockets.command(sock, command) && code == 440 {
                self.inner.record(
                    Some(user),
                    EventKind::EndpointReplaced {
                        old_sock: sock,
                        new_sock: None,
                        by_fault: true,
                    },
                );
            }
        }
    }

    /// Scripted refusal: the next `count` hellos of `user` get
    /// `stream_error {code}` and are closed, whatever their credentials
    /// (replaces a refusal still pending; `count` 0 cancels it).
    pub fn refuse_next(&self, user: &str, count: u32, code: u16) {
        self.inner.lock().accounts.refuse_next(user, count, code);
    }

    /// Unavailable window. Turning it on closes every open socket with 503
    /// (one still in its WebSocket handshake gets 503 on its hello); while
    /// on, every hello is answered 503.
    pub fn set_unavailable(&self, on: bool) {
        let mut state = self.inner.lock();
        state.unavailable = on;
        if on {
            for sock in state.sockets.live(|_| true) {
                let command = Command::Close {
                    code: 503,
                    reason: reason_for(503).to_string(),
                };
                state.sockets.command(sock, command);
            }
        }
    }

    /// The user unlinks the device: its credentials are revoked, its
    /// connected socket gets 401, later hellos with those credentials get
    /// 401, and a hello without credentials gets QR refs again.
    pub fn logout(&self, user: &str) {
        let mut state = self.inner.lock();
        state.accounts.set_paired(user, false);
        for sock in state.sockets.live_of(user, Phase::Connected) {
            let command = Command::Close {
                code: 401,
                reason: reason_for(401).to_string(),
            };
            state.sockets.command(sock, command);
        }
    }

    /// The user scans the QR: the credentials become valid, and the user's
    /// newest socket showing QR refs (if any) gets `paired {credentials}`,
    /// then `stream_error 515` (restart required) and is closed.
    pub fn pair(&self, user: &str) {
        let mut state = self.inner.lock();
        state.accounts.set_paired(user, true);
        if let Some(sock) = state.sockets.live_of(user, Phase::Qr).last().copied() {
            let credentials = protocol::credentials_for(user);
            state.sockets.command(sock, Command::Pair { credentials });
        }
    }

    /// Ping silence: while on, the endpoint writes nothing of its own
    /// accord, so the client must notice by itself. Pings go unanswered (and
    /// are not answered later), QR refs falling due are not shown (their
    /// clock runs on), and a hello is answered only once the silence ends.
    /// Closes still go out: faults, replacements, the QR refs' 408.
    pub fn set_ping_silence(&self, on: bool) {
        self.inner.silence.send_replace(on);
    }

    /// Slow handshakes: each hello received from now on is answered only
    /// after `delay` (zero = at once). Refusals and credentials are judged
    /// when the answer is due, not when the hello arrived.
    pub fn set_handshake_delay(&self, delay: Duration) {
        self.inner.lock().handshake_delay = delay;
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn record(&self, user: Option<&str>, kind: EventKind) {
        self.recorder.record(HOST, user, kind);
    }

    /// Changes the timed settings under the lock, then wakes every socket.
    fn change(&self, f: impl FnOnce(&mut settings::Timed)) {
        f(&mut self.lock().timed);
        self.settings.send_modify(|v| *v = v.wrapping_add(1));
    }

    fn silent(&self) -> bool {
        *self.silence.borrow()
    }
}
