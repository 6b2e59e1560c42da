//! The task serving one socket, from accept to close.
//!
//! One loop per socket waits, in a fixed order of priority, for a fault's
//! command, a frame from the client, and the socket's next timer (hello
//! deadline, a delayed hello answer, the current QR ref's expiry). The order
//! is fixed (`biased`) so that ties resolve the same way every run.
//!
//! Every socket ends exactly once, through [`Conn::finish`], which records
//! `endpoint_closed` with the code of the `stream_error` actually sent (none
//! when the endpoint closed without one or the peer was gone first).

use std::future::pending;
use std::mem;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, watch};
use tokio::time::{sleep_until, timeout_at, Instant};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{accept_async, WebSocketStream};

use super::control::{reason_for, Command, Phase};
use super::protocol::{ClientFrame, ServerFrame, StreamErrorChild};
use super::qr::QrRefs;
use super::Inner;
use crate::close_code::stream_error_code;
use crate::trace::{EventKind, FaultKind};

/// How long after the accept the WebSocket handshake and the hello must have
/// arrived; a socket that says nothing is closed without a code.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(20);

/// The reason the server-side idle timeout closes with (Baileys' text for
/// 428).
const IDLE_REASON: &str = "Connection Terminated";

/// The reason closes of a vanished peer are recorded with.
const PEER_GONE: &str = "peer gone";

/// Serves `stream` as socket number next-in-accept-order until it ends.
pub(super) async fn serve<S>(inner: Arc<Inner>, stream: S, peer: String)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let sock = inner.accept(peer);
    let deadline = Instant::now() + HELLO_TIMEOUT;
    let ws = match timeout_at(deadline, accept_async(stream)).await {
        Ok(Ok(ws)) => ws,
        Ok(Err(_)) => return inner.closed(sock, None, None, "websocket handshake failed"),
        Err(_) => return inner.closed(sock, None, None, "no hello"),
    };
    let (commands_tx, commands) = mpsc::unbounded_channel();
    inner.lock().sockets.insert(sock, commands_tx);
    let silence = inner.silence.subscribe();
    let settings = inner.settings.subscribe();
    let mut conn = Conn {
        inner,
        sock,
        ws,
        commands,
        silence,
        settings,
        user: None,
        local: Local::AwaitHello { deadline },
        timers: Timers::default(),
        last_rx: Instant::now(),
    };
    let end = conn.run().await;
    conn.finish(end).await;
}

/// A hello waiting for its answer.
struct Hello {
    user: String,
    credentials: Option<String>,
}

/// Where this socket is, with what its timers need.
enum Local {
    AwaitHello {
        deadline: Instant,
    },
    /// Hello received; the answer is due at `ready_at` (handshake delay).
    Answering {
        hello: Hello,
        ready_at: Instant,
    },
    /// The answer is due but ping silence holds it back.
    Held {
        hello: Hello,
    },
    Qr(QrRefs),
    Connected,
}

/// What the socket's loop waits for besides commands and frames.
enum Wake {
    At(Instant),
    SilenceEnds,
    Never,
}

/// How the socket ends.
#[derive(Debug)]
enum End {
    /// Send `stream_error {code, reason}`, then a close frame.
    StreamError { code: u16, reason: String },
    /// Send `paired`, then `stream_error 515`, then a close frame.
    Paired { credentials: String },
    /// Send a close frame without a stream error (a silent or misbehaving
    /// client).
    Quiet { reason: &'static str },
    /// The peer went away; nothing can be sent any more.
    PeerGone { reason: &'static str },
    /// Send a `stream:error` node with its optional code and child, then a
    /// close frame.
    Node {
        code: Option<u16>,
        reason: String,
        child: Option<StreamErrorChild>,
    },
}

impl From<Command> for End {
    fn from(command: Command) -> Self {
        match command {
            Command::Close { code, reason } => End::StreamError { code, reason },
            Command::Pair { credentials } => End::Paired { credentials },
            Command::Node {
                code,
                reason,
                child,
            } => End::Node {
                code,
                reason,
                child,
            },
            // Only met when the socket ends at once anyway: the close goes
            // out now.
            Command::LateClose { code, .. } => stream_error(code),
        }
    }
}

/// A connected socket's own timers (see `settings`), each set from the
/// socket's own clock.
#[derive(Debug, Default)]
struct Timers {
    /// `(due, code)`: the churn window closes this socket then.
    churn: Option<(Instant, u16)>,
    /// The rival logs in again then.
    rival: Option<Instant>,
    /// The next message frame is due then.
    message: Option<Instant>,
    /// Messages sent on this socket.
    messages_sent: u64,
    /// `(due, code)`: a stale close, on this replaced socket.
    late: Option<(Instant, u16)>,
}

/// Which of a connected socket's timers fell due.
enum Due {
    Idle,
    Late(u16),
    Churn(u16),
    Rival,
    Message,
}

fn stream_error(code: u16) -> End {
    End::StreamError {
        code,
        reason: reason_for(code).to_string(),
    }
}

enum Step {
    Command(Option<Command>),
    Message(Option<Result<Message, tungstenite::Error>>),
    Timer,
    Connected(Instant, Due),
    Settings,
}

/// What a hello is answered with, decided under the endpoint's lock.
enum Decision {
    /// A fault already decided this socket's end; its command is queued.
    Preempted,
    Refused {
        code: u16,
    },
    Connected,
    Qr,
}

struct Conn<S> {
    inner: Arc<Inner>,
    sock: u64,
    ws: WebSocketStream<S>,
    commands: mpsc::UnboundedReceiver<Command>,
    silence: watch::Receiver<bool>,
    settings: watch::Receiver<u64>,
    user: Option<String>,
    local: Local,
    timers: Timers,
    /// When anything (a frame, a ping) last arrived: the idle timeout's clock.
    last_rx: Instant,
}

impl<S> Conn<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    async fn run(&mut self) -> End {
        loop {
            let wake = self.wake();
            let due = self.connected_due();
            let step = tokio::select! {
                biased;
                command = self.commands.recv() => Step::Command(command),
                message = self.ws.next() => Step::Message(message),
                () = wait(wake, &mut self.silence) => Step::Timer,
                () = sleep_until(due.as_ref().map_or_else(Instant::now, |d| d.0)), if due.is_some() => {
                    let (at, due) = due.unwrap_or((Instant::now(), Due::Idle));
                    Step::Connected(at, due)
                }
                changed = self.settings.changed() => match changed {
                    Ok(()) => Step::Settings,
                    Err(_) => Step::Command(None),
                },
            };
            let end = match step {
                Step::Command(Some(Command::LateClose { code, after })) => {
                    self.timers.late = Some((Instant::now() + after, code));
                    None
                }
                Step::Command(Some(command)) => Some(command.into()),
                Step::Connected(at, due) => self.on_due(at, due).await,
                Step::Settings => {
                    self.reread_settings();
                    None
                }
                // The sender lives in the registry until `finish`.
                Step::Command(None) => Some(End::Quiet {
                    reason: "endpoint dropped",
                }),
                Step::Message(message) => self.on_message(message).await,
                Step::Timer => self.on_timer().await,
            };
            if let Some(end) = end {
                return end;
            }
        }
    }

    fn wake(&self) -> Wake {
        match &self.local {
            Local::AwaitHello { deadline } => Wake::At(*deadline),
            Local::Answering { ready_at, .. } => Wake::At(*ready_at),
            Local::Held { .. } => Wake::SilenceEnds,
            Local::Qr(refs) => Wake::At(refs.expires_at),
            Local::Connected => Wake::Never,
        }
    }

    /// The earliest of a connected socket's timers, and which it is (ties
    /// in a fixed order: idle, late close, churn, rival, message).
    fn connected_due(&self) -> Option<(Instant, Due)> {
        if !matches!(self.local, Local::Connected) {
            return None;
        }
        let idle = self.inner.lock().timed.idle_timeout;
        let t = &self.timers;
        let candidates = [
            idle.map(|d| (self.last_rx + d, Due::Idle)),
            t.late.map(|(at, code)| (at, Due::Late(code))),
            t.churn.map(|(at, code)| (at, Due::Churn(code))),
            t.rival.map(|at| (at, Due::Rival)),
            t.message.map(|at| (at, Due::Message)),
        ];
        let mut best: Option<(Instant, Due)> = None;
        for c in candidates.into_iter().flatten() {
            if best.as_ref().is_none_or(|b| c.0 < b.0) {
                best = Some(c);
            }
        }
        best
    }

    /// The socket authenticated: its timers start from now.
    fn enter_connected(&mut self) {
        let now = Instant::now();
        self.last_rx = now;
        let user = self.user.clone().unwrap_or_default();
        let state = self.inner.lock();
        let timed = &state.timed;
        self.timers.churn = timed.churn.map(|(after, code)| (now + after, code));
        self.timers.rival = timed.rivals.get(&user).map(|r| now + r.after);
        self.timers.message = timed.messages.get(&user).map(|every| now + *every);
    }

    /// A setting changed: timers of windows that opened start from now,
    /// those of windows that closed are dropped.
    fn reread_settings(&mut self) {
        if !matches!(self.local, Local::Connected) {
            return;
        }
        let now = Instant::now();
        let user = self.user.clone().unwrap_or_default();
        let state = self.inner.lock();
        let timed = &state.timed;
        match timed.churn {
            None => self.timers.churn = None,
            Some((after, code)) => {
                if self.timers.churn.is_none() {
                    self.timers.churn = Some((now + after, code));
                }
            }
        }
        if !timed.rivals.contains_key(&user) {
            self.timers.rival = None;
        }
        match timed.messages.get(&user) {
            None => self.timers.message = None,
            Some(every) => {
                if self.timers.message.is_none() {
                    self.timers.message = Some(now + *every);
                }
            }
        }
    }

    /// A connected socket's timer that fell due at `at`.
    async fn on_due(&mut self, at: Instant, due: Due) -> Option<End> {
        let user = self.user.clone().unwrap_or_default();
        match due {
            Due::Idle => Some(self.own_end(End::StreamError {
                code: 428,
                reason: IDLE_REASON.to_string(),
            })),
            Due::Late(code) => {
                self.timers.late = None;
                self.inner.record(
                    Some(&user),
                    EventKind::FaultEnded {
                        fault: FaultKind::StaleClose,
                        target: user.clone(),
                    },
                );
                // Marked closing when the replacement was decided.
                Some(stream_error(code))
            }
            Due::Churn(code) => {
                self.timers.churn = None;
                Some(self.own_end(stream_error(code)))
            }
            Due::Rival => {
                self.timers.rival = None;
                if self.inner.rival_logs_in(self.sock, &user) {
                    Some(stream_error(440))
                } else {
                    None
                }
            }
            Due::Message => {
                let every = self.inner.lock().timed.messages.get(&user).copied();
                // From the due time, so the period does not drift by ticks.
                self.timers.message = every.map(|e| at + e);
                if every.is_none() || self.inner.silent() {
                    return None;
                }
                self.timers.messages_sent += 1;
                let id = self.timers.messages_sent;
                if let Err(end) = self.send(ServerFrame::Message { id }).await {
                    return Some(end);
                }
                let kind = EventKind::EndpointMessage {
                    sock: self.sock,
                    id,
                };
                self.inner.record(Some(&user), kind);
                None
            }
        }
    }

    async fn on_message(
        &mut self,
        message: Option<Result<Message, tungstenite::Error>>,
    ) -> Option<End> {
        if matches!(message, Some(Ok(_))) {
            self.last_rx = Instant::now();
        }
        match message {
            None | Some(Err(_)) => Some(End::PeerGone { reason: PEER_GONE }),
            Some(Ok(Message::Close(_))) => {
                // Lets tungstenite send its queued close reply.
                let _ = self.ws.flush().await;
                Some(End::PeerGone {
                    reason: "closed by peer",
                })
            }
            Some(Ok(Message::Text(text))) => match serde_json::from_str(text.as_str()) {
                Ok(frame) => self.on_frame(frame).await,
                Err(_) => Some(self.own_end(End::Quiet {
                    reason: "malformed frame",
                })),
            },
            Some(Ok(Message::Binary(_))) => Some(self.own_end(End::Quiet {
                reason: "malformed frame",
            })),
            // WebSocket-level pings are answered by tungstenite itself.
            Some(Ok(_)) => None,
        }
    }

    async fn on_frame(&mut self, frame: ClientFrame) -> Option<End> {
        match (frame, &self.local) {
            (ClientFrame::Hello { user, credentials }, Local::AwaitHello { .. }) => {
                let delay = self.inner.hello_received(self.sock, &user);
                self.user = Some(user.clone());
                let hello = Hello { user, credentials };
                if delay.is_zero() && !self.inner.silent() {
                    return self.answer(hello).await;
                }
                self.local = Local::Answering {
                    hello,
                    ready_at: Instant::now() + delay,
                };
                None
            }
            (ClientFrame::Hello { .. }, _) => Some(self.own_end(End::Quiet {
                reason: "unexpected hello",
            })),
            (ClientFrame::Ping { .. }, Local::AwaitHello { .. }) => {
                Some(self.own_end(End::Quiet {
                    reason: "expected hello",
                }))
            }
            (ClientFrame::Ping { id }, _) => {
                if self.inner.silent() {
                    return None;
                }
                self.send(ServerFrame::Pong { id }).await.err()
            }
        }
    }

    async fn on_timer(&mut self) -> Option<End> {
        match mem::replace(&mut self.local, Local::Connected) {
            Local::AwaitHello { deadline } => {
                self.local = Local::AwaitHello { deadline };
                Some(self.own_end(End::Quiet { reason: "no hello" }))
            }
            Local::Answering { hello, .. } | Local::Held { hello } => {
                if self.inner.silent() {
                    self.local = Local::Held { hello };
                    return None;
                }
                self.answer(hello).await
            }
            Local::Qr(refs) => match refs.next() {
                None => {
                    self.local = Local::Qr(refs);
                    Some(self.own_end(End::StreamError {
                        code: 408,
                        reason: "QR refs attempts ended".to_string(),
                    }))
                }
                Some(next) => {
                    self.local = Local::Qr(next);
                    self.show(next).await.err()
                }
            },
            Local::Connected => None,
        }
    }

    /// Answers a due hello as the endpoint's state says now.
    async fn answer(&mut self, hello: Hello) -> Option<End> {
        let decision = self
            .inner
            .decide(self.sock, &hello.user, hello.credentials.as_deref());
        match decision {
            Decision::Preempted => Some(self.queued_or(End::Quiet {
                reason: "preempted",
            })),
            Decision::Refused { code } => Some(stream_error(code)),
            Decision::Connected => {
                self.local = Local::Connected;
                self.enter_connected();
                self.send(ServerFrame::Connected { user: hello.user })
                    .await
                    .err()
            }
            Decision::Qr => {
                let refs = QrRefs::first(Instant::now());
                self.local = Local::Qr(refs);
                self.show(refs).await.err()
            }
        }
    }

    /// Shows the current QR ref, unless ping silence mutes the endpoint.
    async fn show(&mut self, refs: QrRefs) -> Result<(), End> {
        if self.inner.silent() {
            return Ok(());
        }
        let ttl_ms = crate::util::ms(refs.ttl());
        self.send(ServerFrame::Qr {
            index: refs.index,
            ttl_ms,
        })
        .await?;
        let kind = EventKind::EndpointQr {
            sock: self.sock,
            index: refs.index,
            ttl_ms,
        };
        self.inner.record(self.user.as_deref(), kind);
        Ok(())
    }

    /// The socket decided its own end; a fault's command decided at the
    /// same moment takes precedence (it may already be on the trace).
    fn own_end(&mut self, end: End) -> End {
        if self.inner.claim_close(self.sock) {
            end
        } else {
            self.queued_or(end)
        }
    }

    fn queued_or(&mut self, end: End) -> End {
        self.commands.try_recv().map(End::from).unwrap_or(end)
    }

    async fn send(&mut self, frame: ServerFrame) -> Result<(), End> {
        let message = Message::text(frame.to_text());
        self.ws
            .send(message)
            .await
            .map_err(|_| End::PeerGone { reason: PEER_GONE })
    }

    /// Sends `stream_error` and a close frame; the code actually sent.
    async fn send_stream_error(&mut self, code: u16, reason: String) -> (Option<u16>, String) {
        let frame = ServerFrame::stream_error(code, reason.clone());
        if self.send(frame).await.is_err() {
            return (None, PEER_GONE.to_string());
        }
        let _ = self.ws.close(None).await;
        (Some(code), reason)
    }

    /// Carries out the end, unregisters the socket and records its close.
    async fn finish(mut self, end: End) {
        let (code, reason) = match end {
            End::StreamError { code, reason } => self.send_stream_error(code, reason).await,
            End::Paired { credentials } => {
                match self.send(ServerFrame::Paired { credentials }).await {
                    Ok(()) => {
                        self.send_stream_error(515, reason_for(515).to_string())
                            .await
                    }
                    Err(_) => (None, PEER_GONE.to_string()),
                }
            }
            End::Quiet { reason } => {
                let _ = self.ws.close(None).await;
                (None, reason.to_string())
            }
            End::PeerGone { reason } => (None, reason.to_string()),
            End::Node {
                code,
                reason,
                child,
            } => {
                let effective = stream_error_code(code, child.as_ref().map(|c| c.tag.as_str()));
                let frame = ServerFrame::StreamError {
                    code,
                    reason: reason.clone(),
                    child,
                };
                if self.send(frame).await.is_err() {
                    (None, PEER_GONE.to_string())
                } else {
                    let _ = self.ws.close(None).await;
                    (Some(effective), reason)
                }
            }
        };
        self.inner
            .closed(self.sock, self.user.as_deref(), code, &reason);
    }
}

async fn wait(wake: Wake, silence: &mut watch::Receiver<bool>) {
    match wake {
        Wake::At(at) => sleep_until(at).await,
        Wake::SilenceEnds => {
            if silence.wait_for(|on| !*on).await.is_err() {
                pending::<()>().await;
            }
        }
        Wake::Never => pending::<()>().await,
    }
}

impl Inner {
    /// Gives the stream the next socket id and records the accept.
    fn accept(&self, peer: String) -> u64 {
        let mut state = self.lock();
        state.last_sock += 1;
        let sock = state.last_sock;
        self.record(None, EventKind::EndpointAccepted { sock, peer });
        sock
    }

    /// Notes whose socket this is; returns the handshake delay to apply.
    fn hello_received(&self, sock: u64, user: &str) -> Duration {
        let mut state = self.lock();
        if let Some(entry) = state.sockets.get_mut(sock) {
            entry.user = Some(user.to_string());
        }
        state.handshake_delay
    }

    /// Marks the socket closing on its own account; false if a fault got
    /// there first.
    fn claim_close(&self, sock: u64) -> bool {
        let mut state = self.lock();
        match state.sockets.get_mut(sock) {
            Some(entry) if !entry.closing => {
                entry.closing = true;
                true
            }
            _ => false,
        }
    }

    /// Decides a due hello's answer, and records and carries out its effect
    /// on the registry (authentication, replacement of older sockets) in
    /// the same critical section, so faults see a consistent picture.
    fn decide(&self, sock: u64, user: &str, credentials: Option<&str>) -> Decision {
        let mut guard = self.lock();
        let state = &mut *guard;
        let Some(entry) = state.sockets.get_mut(sock).filter(|e| !e.closing) else {
            return Decision::Preempted;
        };
        // A refusal is consumed by every hello it meets, even one that an
        // unavailable endpoint would have refused anyway.
        let code = if let Some((code, last)) = state.accounts.take_refusal(user) {
            // The refusal fault is at work: the run waits a quiet tail past it.
            self.recorder.note_fault_activity();
            if last {
                // Only now is the scripted fault over: the harness judges
                // recovery from here.
                self.record(
                    Some(user),
                    EventKind::FaultEnded {
                        fault: FaultKind::RefuseConnects,
                        target: user.to_string(),
                    },
                );
            }
            Some(code)
        } else if state.unavailable {
            Some(503)
        } else {
            match credentials {
                Some(credentials) if !state.accounts.credentials_valid(user, credentials) => {
                    Some(401)
                }
                _ => None,
            }
        };
        if let Some(code) = code {
            entry.closing = true;
            return Decision::Refused { code };
        }
        if credentials.is_none() {
            entry.phase = Phase::Qr;
            self.record(
                Some(user),
                EventKind::EndpointAuthenticated {
                    sock,
                    paired: false,
                },
            );
            return Decision::Qr;
        }
        entry.phase = Phase::Connected;
        self.record(
            Some(user),
            EventKind::EndpointAuthenticated { sock, paired: true },
        );
        let older = state.sockets.live_of(user, Phase::Connected);
        let mut stale = older
            .iter()
            .any(|&s| s != sock)
            .then(|| state.timed.stale.remove(user))
            .flatten();
        for old_sock in older.into_iter().filter(|&s| s != sock) {
            // An armed stale close takes the first (oldest) replaced socket.
            let command = match stale.take() {
                Some((code, after)) => Command::LateClose { code, after },
                None => Command::Close {
                    code: 440,
                    reason: reason_for(440).to_string(),
                },
            };
            if state.sockets.command(old_sock, command) {
                let kind = EventKind::EndpointReplaced {
                    old_sock,
                    new_sock: Some(sock),
                    by_fault: false,
                };
                self.record(Some(user), kind);
            }
        }
        Decision::Connected
    }

    /// Unregisters the socket and records its end.
    fn closed(&self, sock: u64, user: Option<&str>, code: Option<u16>, reason: &str) {
        let mut state = self.lock();
        state.sockets.remove(sock);
        let kind = EventKind::EndpointClosed {
            sock,
            code,
            reason: reason.to_string(),
        };
        self.record(user, kind);
    }
}
