//! How the supervisor reaches the network: a dialer handed to it, and the
//! client-side ground truth that wraps every stream it opens.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
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
/// supervisor opens (`socket_opened`) and drops (`socket_closed`).
pub struct TracedDialer<C> {
    connect: C,
    host: String,
    recorder: Recorder,
    next_conn: Arc<AtomicU64>,
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
            graveyard: None,
        }
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
                    let traced = TracedStream {
                        inner: Some(stream),
                        graveyard: self.graveyard.clone(),
                        conn,
                        user: user.to_string(),
                        host: self.host.clone(),
                        recorder: self.recorder.clone(),
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
}

impl Drop for TracedStream {
    fn drop(&mut self) {
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
        match self.inner_mut() {
            Ok(s) => s.poll_read(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
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
