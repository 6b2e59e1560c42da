//! A crash that drops a host's sockets in a fixed order.
//!
//! When turmoil crashes a host it drops the host's tokio runtime, and tokio
//! drops the tasks in an order it does not fix (its task list is sharded by
//! a process-wide task id, so the order changes between runs in one process
//! and with `--jobs`). Each dropped socket sends its FIN or RST and draws
//! its latency from the world's RNG as it goes, so that order reached the
//! endpoint, the trace and every later random draw. While a host is torn
//! down, its sockets are handed to a [`Graveyard`] instead of dropped; the
//! host's main task, which turmoil drops after every other task (its
//! `LocalSet` goes after the runtime), holds a [`Sexton`] that then drops
//! them in their key order, still inside the host.

use std::any::Any;
use std::sync::{Arc, Mutex, PoisonError};

/// Which sockets go first: a kind rank, then an id within the kind.
pub type BurialKey = (u8, u64);
/// Client sockets to the endpoint, by socket id.
pub const CLIENT_SOCKET: u8 = 0;
/// Streams the host's status API accepted, by accept order.
pub const API_STREAM: u8 = 1;

#[derive(Default)]
struct Ground {
    /// The host being torn down, if any.
    host: Option<String>,
    dead: Vec<(BurialKey, Box<dyn Any + Send>)>,
}

/// Sockets of a host being torn down, waiting to be dropped in order.
/// One per run, shared by every host. Cheap to clone.
#[derive(Clone, Default)]
pub struct Graveyard {
    ground: Arc<Mutex<Ground>>,
}

impl Graveyard {
    /// From now until its sexton drains it, `host`'s sockets are buried.
    pub fn open_for(&self, host: &str) {
        self.lock().host = Some(host.to_string());
    }

    /// Takes `thing` if `host` is being torn down; else gives it back, to be
    /// dropped at once.
    pub fn bury(
        &self,
        host: &str,
        key: BurialKey,
        thing: Box<dyn Any + Send>,
    ) -> Option<Box<dyn Any + Send>> {
        let mut g = self.lock();
        if g.host.as_deref() == Some(host) {
            g.dead.push((key, thing));
            None
        } else {
            Some(thing)
        }
    }

    /// Drops what is buried, in key order, and closes the ground.
    pub fn drain(&self) {
        let mut dead = {
            let mut g = self.lock();
            g.host = None;
            std::mem::take(&mut g.dead)
        };
        dead.sort_by_key(|(key, _)| *key);
        for (_, thing) in dead {
            drop(thing);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ground> {
        self.ground.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Held by a host's main task: when turmoil drops that task (last, at a
/// crash), it drops the host's buried sockets in order.
pub struct Sexton {
    pub graveyard: Graveyard,
    pub host: String,
}

impl Drop for Sexton {
    fn drop(&mut self) {
        let mine = self.graveyard.lock().host.as_deref() == Some(self.host.as_str());
        if mine {
            self.graveyard.drain();
        }
    }
}

/// A stream that goes to the graveyard, under `key`, when dropped while
/// its host is torn down.
pub struct Interred<S: Send + 'static> {
    inner: Option<S>,
    key: BurialKey,
    host: String,
    graveyard: Graveyard,
}

impl<S: Send + 'static> Interred<S> {
    pub fn new(inner: S, key: BurialKey, host: &str, graveyard: Graveyard) -> Self {
        Interred {
            inner: Some(inner),
            key,
            host: host.to_string(),
            graveyard,
        }
    }

    fn inner_mut(&mut self) -> std::io::Result<std::pin::Pin<&mut S>>
    where
        S: Unpin,
    {
        self.inner
            .as_mut()
            .map(std::pin::Pin::new)
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotConnected))
    }
}

impl<S: Send + 'static> Drop for Interred<S> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            drop(self.graveyard.bury(&self.host, self.key, Box::new(inner)));
        }
    }
}

use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

impl<S: AsyncRead + Unpin + Send + 'static> AsyncRead for Interred<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.inner_mut() {
            Ok(s) => s.poll_read(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl<S: AsyncWrite + Unpin + Send + 'static> AsyncWrite for Interred<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.inner_mut() {
            Ok(s) => s.poll_write(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.inner_mut() {
            Ok(s) => s.poll_flush(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.inner_mut() {
            Ok(s) => s.poll_shutdown(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}
