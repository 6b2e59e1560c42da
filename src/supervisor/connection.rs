//! One socket's life: dial, WebSocket upgrade, hello, then the read loop
//! with keep-alive pings and dead-link detection. Its end is reported to the
//! session manager as an [`Outcome`].

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::time::{sleep_until, timeout, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::session::StopSignal;
use super::{leak, watchdog, Supervisor};
use crate::endpoint::protocol::{ClientFrame, ServerFrame};
use crate::trace::EventKind;
use crate::transport::BoxStream;

/// How long a close frame or ping may take to write before the link counts
/// as broken (writes stall silently on a partitioned turmoil link).
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// How a socket ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The endpoint or the link closed it, with a Baileys close code.
    Closed { code: u16, reason: String },
    /// The supervisor closed it on purpose (manual disconnect, cleanup).
    Requested { reason: String },
    /// Another instance took the user's lease.
    LeaseLost,
}

impl Outcome {
    fn closed(code: u16, reason: impl Into<String>) -> Self {
        Outcome::Closed {
            code,
            reason: reason.into(),
        }
    }
}

enum Phase {
    /// Hello sent; waiting for `connected` or `qr`.
    Handshake,
    QrPending,
    Connected,
}

/// Runs one session's socket to its end and reports the outcome, with how
/// long before its end the link was last known alive: a dead link is noticed
/// only after a silence (the dead-link timeout, or the next keep-alive write
/// meeting a reset), and that silence is not uptime.
pub(crate) async fn run(
    sup: Supervisor,
    user: String,
    session: u64,
    credentials: Option<String>,
    stop: std::sync::Arc<StopSignal>,
    lease: Option<u64>,
) {
    let policy = sup.policy();
    let deadline = Instant::now() + policy.connect_timeout;
    let opened = tokio::select! {
        biased;
        reason = stop.stopped() => Err(Outcome::Requested { reason }),
        r = timeout(policy.connect_timeout, open(&sup, &user, credentials)) => match r {
            Err(_) => Err(Outcome::closed(408, "connect timed out")),
            Ok(Err(e)) => Err(Outcome::closed(428, e)),
            Ok(Ok(opened)) => Ok(opened),
        },
    };
    let (outcome, conn, silence) = match opened {
        Err(outcome) => (outcome, 0, Duration::ZERO),
        Ok((ws, conn)) => {
            let ctx = Ctx {
                sup: &sup,
                user: &user,
                session,
                conn,
                lease,
            };
            let mut alive = Instant::now();
            let outcome = drive(&ctx, ws, &stop, deadline, &mut alive).await;
            let silence = Instant::now().saturating_duration_since(alive);
            (outcome, conn, silence)
        }
    };
    sup.on_closed(&user, session, conn, outcome, silence);
}

async fn open(
    sup: &Supervisor,
    user: &str,
    credentials: Option<String>,
) -> Result<(WebSocketStream<BoxStream>, u64), String> {
    let dialed = sup
        .dialer()
        .dial(user)
        .await
        .map_err(|e| format!("dial: {e}"))?;
    let (mut ws, _) = tokio_tungstenite::client_async("ws://wa/ws", dialed.stream)
        .await
        .map_err(|e| format!("websocket: {e}"))?;
    let hello = ClientFrame::Hello {
        user: user.to_string(),
        credentials,
    };
    ws.send(Message::text(hello.to_text()))
        .await
        .map_err(|e| format!("hello: {e}"))?;
    Ok((ws, dialed.conn))
}

struct Ctx<'a> {
    sup: &'a Supervisor,
    user: &'a str,
    session: u64,
    conn: u64,
    lease: Option<u64>,
}

/// Drives one open socket to its end. `last_rx` is the last moment the link
/// was known alive: its last frame received, or the end itself when the
/// supervisor ends a link that showed no sign of death (a stop, the idle
/// watchdog, a lost lease); a reset, an end of stream, a failed write or the
/// dead-link timeout leave it at the last frame.
async fn drive(
    ctx: &Ctx<'_>,
    mut ws: WebSocketStream<BoxStream>,
    stop: &StopSignal,
    handshake_deadline: Instant,
    last_rx: &mut Instant,
) -> Outcome {
    let policy = ctx.sup.policy();
    let mut phase = Phase::Handshake;
    *last_rx = Instant::now();
    let mut next_ping: Option<Instant> = None;
    let mut ping_id = 0u64;
    let far = Instant::now() + Duration::from_secs(365 * 24 * 3600);
    loop {
        let deadline = match phase {
            Phase::Handshake => handshake_deadline,
            Phase::QrPending => far,
            // Test-only fault: a connected link is never judged dead.
            Phase::Connected if crate::test_faults::active("supervisor_ignores_dead_link") => far,
            Phase::Connected => *last_rx + policy.dead_link_after(),
        };
        tokio::select! {
            biased;
            reason = stop.stopped() => {
                *last_rx = Instant::now();
                let _ = timeout(WRITE_TIMEOUT, ws.close(None)).await;
                return Outcome::Requested { reason };
            }
            msg = ws.next() => {
                if matches!(msg, Some(Ok(_))) {
                    *last_rx = Instant::now();
                }
                let text = match msg {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | None => return Outcome::closed(428, "connection closed"),
                    Some(Err(e)) => return Outcome::closed(428, format!("read: {e}")),
                    Some(Ok(_)) => continue,
                };
                let frame = match serde_json::from_str::<ServerFrame>(&text) {
                    Ok(frame) => frame,
                    Err(e) => return Outcome::closed(428, format!("bad frame: {e}")),
                };
                if matches!(phase, Phase::Connected) && watchdog::counts_as_message(&frame) {
                    ctx.sup.idle_timers().on_message(ctx.user, Instant::now());
                }
                match frame {
                    ServerFrame::Connected { .. } => {
                        phase = Phase::Connected;
                        next_ping = Some(Instant::now() + policy.keepalive_interval);
                        ctx.sup.idle_timers().on_connected(policy, ctx.user, Instant::now());
                        ctx.sup.on_connected(ctx.user, ctx.session);
                    }
                    ServerFrame::Qr { .. } => {
                        phase = Phase::QrPending;
                        ctx.sup.on_qr(ctx.user, ctx.session);
                    }
                    ServerFrame::Paired { credentials } => ctx.sup.on_paired(ctx.user, &credentials),
                    ServerFrame::StreamError { code, reason, child } => {
                        return super::stream_error::outcome(code, reason, child.as_ref())
                    }
                    // A pong, or incoming traffic (`message`): only `last_rx`
                    // and the idle watchdog (above) care.
                    _ => {}
                }
            }
            _ = sleep_until(next_ping.unwrap_or(far)), if next_ping.is_some() => {
                if ctx.sup.idle_timers().expired(policy, ctx.user, Instant::now()) {
                    let reason = format!("idle watchdog: no message for {:?}", policy.idle_watchdog);
                    *last_rx = Instant::now();
                    return let_go(ctx.sup, ws, Outcome::closed(428, reason), true).await;
                }
                ping_id += 1;
                let ping = Message::text(ClientFrame::Ping { id: ping_id }.to_text());
                if !matches!(timeout(WRITE_TIMEOUT, ws.send(ping)).await, Ok(Ok(()))) {
                    return let_go(ctx.sup, ws, Outcome::closed(428, "keep-alive write failed"), false).await;
                }
                ctx.sup.events().emit(ctx.user, EventKind::KeepAliveSent { session: ctx.session, conn: ctx.conn });
                if let Some(token) = ctx.lease {
                    if !ctx.sup.renew_lease(ctx.user, token) {
                        *last_rx = Instant::now();
                        return Outcome::LeaseLost;
                    }
                }
                if ctx.sup.held_by_person(ctx.user) {
                    // Disconnect was pressed on another instance.
                    *last_rx = Instant::now();
                    let _ = timeout(WRITE_TIMEOUT, ws.close(None)).await;
                    return Outcome::Requested { reason: "manual disconnect".into() };
                }
                next_ping = next_ping.map(|t| t + policy.keepalive_interval);
            }
            _ = sleep_until(deadline) => {
                let reason = match phase {
                    Phase::Handshake => "handshake timed out".to_string(),
                    _ => format!("nothing received for {:?}: link dead", policy.dead_link_after()),
                };
                return let_go(ctx.sup, ws, Outcome::closed(408, reason), false).await;
            }
        }
    }
}

/// The client gives `ws` up and reconnects: it closes it first when
/// `close` (a write is worth trying), else drops it; with
/// `leaks_old_socket` it does neither and leaves the socket running.
async fn let_go(
    sup: &Supervisor,
    mut ws: WebSocketStream<BoxStream>,
    outcome: Outcome,
    close: bool,
) -> Outcome {
    if sup.policy().leaks_old_socket {
        leak::leave_running(sup, ws);
    } else if close {
        let _ = timeout(WRITE_TIMEOUT, ws.close(None)).await;
    }
    outcome
}
