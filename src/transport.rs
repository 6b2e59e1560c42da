//! How the supervisor reaches the network: a dialer handed to it, and the
//! client-side ground truth that wraps every stream it opens.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::teardown::{Graveyard, CLIENT_SOCKET};
use crate::trace::{EventKind, Recorder};

/// A bidirectional byte stream (TCP, turmoil TCP, an in-memory pipe).
pub trait ByteStream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> ByteStream for T {}

pub type BoxStream = Box<dyn ByteStream>;
pub type DialFuture<'a> = Pin<Box<dyn Future<Output = io::Result<Dialed>> + Send + 'a>>;
/// A raw connect in flight: the stream and its local address.
pub type ConnectFuture<'a> =
    Pin<Box<dyn Future<Output = io::Result<(BoxStream, String)>> + Send + 'a>>;

/// An open stream and the id the transport gave it.
pub struct Dialed {
    pub conn: u64,
    pub stream: BoxStream,
}

/// Opens streams to the WhatsApp endpoint for a user.
pub trait Dialer: Send + Sync {
    fn dial<'a>(&'a self, user: &'a str) -> DialFuture<'a>;
}

/// Raw stream opener that a [`TracedDialer`] wraps: returns the stream and its
/// local address as the far side sees it.
pub trait Connect: Send + Sync {
    fn connect(&self) -> ConnectFuture<'_>;
}

/// The harness's client-side ground truth: records every stream the
/// supervisor opens (`socket_opened`) and drops (`socket_closed`), the last
/// time each received bytes (`socket_last_received`), and every dial made
/// for an HTTP request (`dial_during_request`, see [`crate::request_context`]).
pub struct TracedDialer<C> {
    connect: C,
    host: String,
    recorder: Recorder,
    next_conn: Arc<AtomicU64>,
    streams: OpenStreams,
    graveyard: Option<Graveyard>,
}

impl<C: Connect> TracedDialer<C> {
    /// Streams dropped while this host is torn down go to `graveyard`, to
    /// be dropped in socket-id order (see [`crate::teardown`]).
    pub fn with_graveyard(mut self, graveyard: Graveyard) -> Self {
        self.graveyard = Some(graveyard);
        self
    }

    /// `next_conn` is shared by every instance so ids are unique in a run.
    pub fn new(connect: C, host: &str, recorder: Recorder, next_conn: Arc<AtomicU64>) -> Self {
        TracedDialer {
            connect,
            host: host.to_string(),
            recorder,
            next_conn,
            streams: OpenStreams::default(),
            graveyard: None,
        }
    }

    /// Keeps this dialer's open streams in `streams` (shared by the run's
    /// instances), so the harness can count them and flush them at the end.
    pub fn with_streams(mut self, streams: OpenStreams) -> Self {
        self.streams = streams;
        self
    }
}

/// Never received anything.
const NEVER: u64 = u64::MAX;

/// A silence longer than this (the reference's dead-link deadline: 30 s
/// keep-alive + 5 s) is recorded when reception resumes, as a
/// `socket_last_received` row stamped when the bytes came again.
const RECORDED_SILENCE_MS: u64 = 35_000;

/// The streams the dialer wrappers of a run hold open, with when each last
/// received bytes. Cheap to clone.
#[derive(Clone, Default)]
pub struct OpenStreams {
    inner: Arc<Mutex<BTreeMap<u64, OpenStream>>>,
}

struct OpenStream {
    host: String,
    user: String,
    last_rx_ms: Arc<AtomicU64>,
}

impl OpenStreams {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, OpenStream>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Streams open on `host` right now.
    pub fn open_on(&self, host: &str) -> u64 {
        self.lock().values().filter(|s| s.host == host).count() as u64
    }

    /// Records `socket_last_received` for every stream still open (at the end
    /// of a run, when no drop will record it).
    pub fn flush(&self, recorder: &Recorder) {
        for (conn, s) in self.lock().iter() {
            let at_ms = s.last_rx_ms.load(Ordering::Relaxed);
            if at_ms != NEVER {
                recorder.record(
                    &s.host,
                    Some(&s.user),
                    EventKind::SocketLastReceived { conn: *conn, at_ms },
                );
            }
        }
    }
}

fn record_request_dial(recorder: &Recorder, host: &str, user: &str, conn: Option<u64>) {
    if let Some(ctx) = crate::request_context::current() {
        recorder.record(
            host,
            Some(user),
            EventKind::DialDuringRequest {
                request: ctx.request,
                path: ctx.path,
                conn,
            },
        );
    }
}

impl<C: Connect> Dialer for TracedDialer<C> {
    fn dial<'a>(&'a self, user: &'a str) -> DialFuture<'a> {
        Box::pin(async move {
            match self.connect.connect().await {
                Ok((stream, local)) => {
                    let conn = self.next_conn.fetch_add(1, Ordering::Relaxed) + 1;
                    self.recorder.record(
                        &self.host,
                        Some(user),
                        EventKind::SocketOpened { conn, local },
                    );
                    record_request_dial(&self.recorder, &self.host, user, Some(conn));
                    let last_rx_ms = Arc::new(AtomicU64::new(NEVER));
                    self.streams.lock().insert(
                        conn,
                        OpenStream {
                            host: self.host.clone(),
                            user: user.to_string(),
                            last_rx_ms: last_rx_ms.clone(),
                        },
                    );
                    let traced = TracedStream {
                        inner: Some(stream),
                        graveyard: self.graveyard.clone(),
                        conn,
                        user: user.to_string(),
                        host: self.host.clone(),
                        recorder: self.recorder.clone(),
                        last_rx_ms,
                        streams: self.streams.clone(),
                    };
                    Ok(Dialed {
                        conn,
                        stream: Box::new(traced),
                    })
                }
                Err(e) => {
                    self.recorder.record(
                        &self.host,
                        Some(user),
                        EventKind::DialFailed {
                            error: e.kind().to_string(),
                        },
                    );
                    record_request_dial(&self.recorder, &self.host, user, None);
                    Err(e)
                }
            }
        })
    }
}

/// A stream that records its own end when the supervisor lets go of it.
struct TracedStream {
    /// Always there until the stream is dropped.
    inner: Option<BoxStream>,
    graveyard: Option<Graveyard>,
    conn: u64,
    user: String,
    host: String,
    recorder: Recorder,
    last_rx_ms: Arc<AtomicU64>,
    streams: OpenStreams,
}

impl Drop for TracedStream {
    fn drop(&mut self) {
        self.streams.lock().remove(&self.conn);
        let at_ms = self.last_rx_ms.load(Ordering::Relaxed);
        if at_ms != NEVER {
            self.recorder.record(
                &self.host,
                Some(&self.user),
                EventKind::SocketLastReceived {
                    conn: self.conn,
                    at_ms,
                },
            );
        }
        if let (Some(g), Some(inner)) = (&self.graveyard, self.inner.take()) {
            let key = (CLIENT_SOCKET, self.conn);
            drop(g.bury(&self.host, key, Box::new(inner)));
        }
        self.recorder.record(
            &self.host,
            Some(&self.user),
            EventKind::SocketClosed { conn: self.conn },
        );
    }
}

impl TracedStream {
    fn inner_mut(&mut self) -> io::Result<Pin<&mut BoxStream>> {
        self.inner
            .as_mut()
            .map(Pin::new)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))
    }
}

impl AsyncRead for TracedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = match self.inner_mut() {
            Ok(s) => s.poll_read(cx, buf),
            Err(e) => return Poll::Ready(Err(e)),
        };
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            let now = crate::util::ms(self.recorder.now());
            let last = self.last_rx_ms.swap(now, Ordering::Relaxed);
            if last != NEVER && now.saturating_sub(last) > RECORDED_SILENCE_MS {
                // Reception resumes after a silence: say when it began.
                self.recorder.record(
                    &self.host,
                    Some(&self.user),
                    EventKind::SocketLastReceived {
                        conn: self.conn,
                        at_ms: last,
                    },
                );
            }
        }
        polled
    }
}

impl AsyncWrite for TracedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.inner_mut() {
            Ok(s) => s.poll_write(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.inner_mut() {
            Ok(s) => s.poll_flush(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.inner_mut() {
            Ok(s) => s.poll_shutdown(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}
