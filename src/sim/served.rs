//! The harness around each app host's status API: a listener wrapper that
//! counts the HTTP connections it holds open, a middleware that runs every
//! request inside its [`RequestContext`], and the sampler that records the
//! host's work (`host_work_sampled`) every [`SAMPLE_PERIOD`].
//!
//! These are ground truth for `status_read_only` (which dials a request
//! caused) and `no_zombie_work` (how many tasks the host's runtime runs, and
//! how many of them are HTTP connections rather than the supervisor's own).

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::net::OrderedListener;
use crate::request_context::{self, RequestContext};
use crate::teardown::Interred;
use crate::trace::{EventKind, Recorder};
use crate::transport::OpenStreams;

/// How often an app host's work is sampled: a third of the keep-alive
/// period, so a task left behind by one socket shows before the next.
pub const SAMPLE_PERIOD: Duration = Duration::from_secs(10);

/// A listener that counts the connections it accepted and still holds.
pub struct ServedListener {
    inner: OrderedListener,
    open: Arc<AtomicU64>,
}

impl ServedListener {
    pub fn new(inner: OrderedListener) -> Self {
        ServedListener {
            inner,
            open: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The live count of open HTTP connections.
    pub fn open_connections(&self) -> Arc<AtomicU64> {
        self.open.clone()
    }
}

impl axum::serve::Listener for ServedListener {
    type Io = CountedStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = self.inner.accept().await;
        self.open.fetch_add(1, Ordering::Relaxed);
        let stream = CountedStream {
            inner: io,
            open: self.open.clone(),
        };
        (stream, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// An accepted HTTP connection, counted until dropped.
pub struct CountedStream {
    inner: Interred<turmoil::net::TcpStream>,
    open: Arc<AtomicU64>,
}

impl Drop for CountedStream {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl AsyncRead for CountedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for CountedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Runs `req` inside a fresh [`RequestContext`]; `next_request` numbers the
/// requests of the whole run.
pub async fn in_request_context(
    next_request: Arc<AtomicU64>,
    req: Request,
    next: Next,
) -> Response {
    let ctx = RequestContext {
        request: next_request.fetch_add(1, Ordering::Relaxed) + 1,
        path: req.uri().path().to_string(),
    };
    request_context::serve(ctx, next.run(req)).await
}

/// Records `host_work_sampled` on `host` every [`SAMPLE_PERIOD`], from now
/// on, forever. Runs inside the host's own future (not as a task of its
/// runtime, so it does not count itself).
pub async fn sample_work(
    host: String,
    recorder: Recorder,
    http_connections: Arc<AtomicU64>,
    streams: OpenStreams,
) {
    let mut tick = tokio::time::interval(SAMPLE_PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let alive_tasks = tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks() as u64;
        recorder.record(
            &host,
            None,
            EventKind::HostWorkSampled {
                alive_tasks,
                http_connections: http_connections.load(Ordering::Relaxed),
                open_sockets: streams.open_on(&host),
            },
        );
    }
}
