//! In-memory links between the fast engine's hosts, with turmoil's meaning.
//!
//! Every write is one message on the link between two hosts, delivered in
//! order after a latency drawn from the link's range (turmoil's curve:
//! `min + (max − min)·Exp(5)`, capped at `max`). The fault layer acts on
//! links exactly as turmoil's topology does:
//! - a **cut** link (partition, flap) drops every message sent over it and
//!   every message still in flight when it is cut; a connect across it is
//!   refused at once;
//! - a **lossy** link drops each message with the link's rate and, with it,
//!   everything in flight on the link (turmoil's random partition, repaired
//!   by the next message);
//! - TCP has no retransmission in either engine: once a message of a stream
//!   is lost, nothing later on that stream (data or FIN) is ever delivered,
//!   so the stream stalls;
//! - a **held** link (an instance's `stall`, turmoil's `hold`) delivers
//!   nothing: what was in flight when it was held and what is sent over it
//!   meanwhile waits, and is all delivered at once, in order, when it is
//!   released; a connect across it completes only then;
//! - a stream dropped with unread data sends a reset instead of a FIN, and a
//!   message reaching a dropped stream makes its sender's stream reset one
//!   latency later (reads fail with `ConnectionReset`, writes with
//!   `BrokenPipe`).
//!
//! Time is tokio's (paused); randomness comes from the run's seed only.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, Sleep};

/// First local port a host hands out, as an OS's ephemeral range starts.
const FIRST_PORT: u16 = 49152;
/// turmoil's default latency curve: `Exp(λ = 5)`.
const LATENCY_LAMBDA: f64 = 5.0;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How one link between two hosts behaves right now.
#[derive(Debug, Clone, Copy, PartialEq)]
struct LinkConfig {
    cut: bool,
    min: Duration,
    max: Duration,
    loss: f64,
}

struct LinkState {
    config: LinkConfig,
    /// Bumped whenever in-flight messages are dropped, so a connect whose
    /// SYN was in flight then is refused.
    clears: u64,
    /// Both directions of every stream over this link.
    dirs: Vec<Weak<Mutex<Dir>>>,
    /// Held by a stall: nothing is delivered until it is released.
    held: bool,
}

/// One message: bytes, or the end of the stream.
enum Segment {
    Data(Vec<u8>),
    Fin,
}

/// One direction of a stream: what is on its way to the reader.
struct Dir {
    segments: VecDeque<(Instant, Segment)>,
    /// Delivery time of the last message sent (delivery is in order).
    last_at: Instant,
    /// A message of this direction was lost: nothing more arrives.
    stalled: bool,
    /// When a reset reaches this direction's reader.
    reset_at: Option<Instant>,
    /// The reading end was dropped.
    reader_gone: bool,
    /// Since when the link is held: messages arriving after then wait.
    hold_at: Option<Instant>,
    waker: Option<Waker>,
}

impl Dir {
    fn new(now: Instant) -> Arc<Mutex<Dir>> {
        Arc::new(Mutex::new(Dir {
            segments: VecDeque::new(),
            last_at: now,
            stalled: false,
            reset_at: None,
            reader_gone: false,
            hold_at: None,
            waker: None,
        }))
    }

    fn wake(&mut self) {
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }

    /// Drops what has not arrived by `now`; true when something was dropped.
    fn drop_in_flight(&mut self, now: Instant) -> bool {
        let before = self.segments.len();
        self.segments.retain(|(at, _)| *at <= now);
        let dropped = self.segments.len() != before;
        if dropped {
            self.stalled = true;
        }
        dropped
    }

    fn reset_by(&mut self, at: Instant) {
        self.reset_at = Some(self.reset_at.map_or(at, |r| r.min(at)));
        self.wake();
    }
}

type Accepted = (Pipe, String);

struct NetState {
    default: LinkConfig,
    links: BTreeMap<(String, String), LinkState>,
    listeners: BTreeMap<(String, u16), mpsc::UnboundedSender<Accepted>>,
    next_port: BTreeMap<String, u16>,
    rng: ChaCha8Rng,
}

fn key(a: &str, b: &str) -> (String, String) {
    if a <= b {
        (a.to_string(), b.to_string())
    } else {
        (b.to_string(), a.to_string())
    }
}

impl NetState {
    fn link(&mut self, a: &str, b: &str) -> &mut LinkState {
        let default = self.default;
        self.links.entry(key(a, b)).or_insert_with(|| LinkState {
            config: default,
            clears: 0,
            dirs: Vec::new(),
            held: false,
        })
    }

    fn delay(&mut self, config: LinkConfig) -> Duration {
        let range_ms = config.max.saturating_sub(config.min).as_millis() as f64;
        let u: f64 = self.rng.random();
        let mult = -(1.0 - u).ln() / LATENCY_LAMBDA;
        let extra = Duration::from_millis((range_ms * mult) as u64);
        (config.min + extra).min(config.max)
    }

    /// Drops everything in flight on the link between `a` and `b`.
    fn clear_in_flight(&mut self, a: &str, b: &str, now: Instant) {
        let link = self.link(a, b);
        link.clears += 1;
        link.dirs.retain(|d| d.strong_count() > 0);
        for d in link.dirs.iter().filter_map(Weak::upgrade) {
            lock(&d).drop_in_flight(now);
        }
    }

    /// Whether a message sent now from `a` to `b` is lost; a loss drops
    /// what is in flight too, as turmoil's random partition does.
    fn lost(&mut self, a: &str, b: &str, now: Instant) -> bool {
        let config = self.link(a, b).config;
        if config.cut {
            return true;
        }
        if config.loss > 0.0 && self.rng.random_bool(config.loss.min(1.0)) {
            self.clear_in_flight(a, b, now);
            return true;
        }
        false
    }

    /// Sends `segment` from `from` to `to` on `out`; `back` is the sender's
    /// own incoming direction (where a reset lands).
    fn send(
        &mut self,
        from: &str,
        to: &str,
        out: &Mutex<Dir>,
        back: &Mutex<Dir>,
        segment: Segment,
    ) {
        let now = Instant::now();
        if self.lost(from, to, now) {
            lock(out).stalled = true;
            return;
        }
        let config = self.link(from, to).config;
        let delay = self.delay(config);
        let mut o = lock(out);
        let at = (now + delay).max(o.last_at);
        o.last_at = at;
        if o.reader_gone {
            drop(o);
            self.reset_back(to, from, at, back);
            return;
        }
        if !o.stalled {
            o.segments.push_back((at, segment));
            o.wake();
        }
    }

    /// A reset sent at `at` from `from` back to `to`'s stream `dir`.
    fn reset_back(&mut self, from: &str, to: &str, at: Instant, dir: &Mutex<Dir>) {
        if self.lost(from, to, Instant::now()) {
            return;
        }
        let config = self.link(from, to).config;
        let delay = self.delay(config);
        lock(dir).reset_by(at + delay);
    }
}

/// The fast engine's network: links, listeners and the fault layer's
/// controls. Cheap to clone.
#[derive(Clone)]
pub struct Net {
    state: Arc<Mutex<NetState>>,
    /// Bumped at every release, for connects waiting on a held link.
    released: Arc<watch::Sender<u64>>,
}

impl Net {
    /// Every link starts with latency `min..max`, seeded by `seed`.
    pub fn new(min: Duration, max: Duration, seed: u64) -> Net {
        Net {
            state: Arc::new(Mutex::new(NetState {
                default: LinkConfig {
                    cut: false,
                    min,
                    max: max.max(min),
                    loss: 0.0,
                },
                links: BTreeMap::new(),
                listeners: BTreeMap::new(),
                next_port: BTreeMap::new(),
                rng: ChaCha8Rng::seed_from_u64(seed ^ 0x0fa5_7e7e),
            })),
            released: Arc::new(watch::channel(0).0),
        }
    }

    /// Holds the link between `a` and `b` (a stall): from now on nothing
    /// on it is delivered until [`release`](Self::release).
    pub fn hold(&self, a: &str, b: &str) {
        let mut s = lock(&self.state);
        let now = Instant::now();
        let link = s.link(a, b);
        link.held = true;
        link.dirs.retain(|d| d.strong_count() > 0);
        for d in link.dirs.iter().filter_map(Weak::upgrade) {
            let mut d = lock(&d);
            d.hold_at.get_or_insert(now);
        }
    }

    /// Releases a held link: everything that waited is delivered now, in
    /// order, as turmoil's release does.
    pub fn release(&self, a: &str, b: &str) {
        {
            let mut s = lock(&self.state);
            let now = Instant::now();
            let link = s.link(a, b);
            link.held = false;
            for d in link.dirs.iter().filter_map(Weak::upgrade) {
                let mut d = lock(&d);
                if let Some(held) = d.hold_at.take() {
                    for (at, _) in d.segments.iter_mut() {
                        if *at > held {
                            *at = now;
                        }
                    }
                    if d.last_at > held {
                        d.last_at = now;
                    }
                    d.wake();
                }
            }
        }
        self.released.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// Cuts the link between `a` and `b`: what is in flight is lost.
    pub fn partition(&self, a: &str, b: &str) {
        let mut s = lock(&self.state);
        s.link(a, b).config.cut = true;
        s.clear_in_flight(a, b, Instant::now());
    }

    /// Repairs the link between `a` and `b` (lost messages stay lost).
    pub fn repair(&self, a: &str, b: &str) {
        lock(&self.state).link(a, b).config.cut = false;
    }

    /// Sets the latency range of the link between `a` and `b`.
    pub fn set_latency(&self, a: &str, b: &str, min: Duration, max: Duration) {
        let mut s = lock(&self.state);
        let c = &mut s.link(a, b).config;
        c.min = min;
        c.max = max.max(min);
    }

    /// Sets the loss rate (0–1) of the link between `a` and `b`.
    pub fn set_loss(&self, a: &str, b: &str, rate: f64) {
        lock(&self.state).link(a, b).config.loss = rate;
    }

    /// Listens on `host:port` until the listener is dropped or `unbind`.
    pub fn bind(&self, host: &str, port: u16) -> Listener {
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.state)
            .listeners
            .insert((host.to_string(), port), tx);
        Listener { rx }
    }

    /// Stops listening on `host:port` (the host crashed).
    pub fn unbind(&self, host: &str, port: u16) {
        lock(&self.state)
            .listeners
            .remove(&(host.to_string(), port));
    }

    /// Opens a stream from `from` to `to:port`: the SYN crosses the link (a
    /// cut or lossy link refuses it), and the connect completes when it
    /// reaches a listener. Returns the stream and its local address.
    pub async fn connect(&self, from: &str, to: &str, port: u16) -> io::Result<(Pipe, String)> {
        let refused = || io::Error::from(io::ErrorKind::ConnectionRefused);
        let (arrive, clears) = {
            let mut s = lock(&self.state);
            let now = Instant::now();
            if s.lost(from, to, now) {
                return Err(refused());
            }
            let config = s.link(from, to).config;
            let delay = s.delay(config);
            (now + delay, s.link(from, to).clears)
        };
        tokio::time::sleep_until(arrive).await;
        // A SYN on a held link waits for the release.
        let mut released = self.released.subscribe();
        while lock(&self.state).link(from, to).held {
            if released.changed().await.is_err() {
                return Err(refused());
            }
        }
        let mut s = lock(&self.state);
        if s.link(from, to).clears != clears || s.link(from, to).config.cut {
            return Err(refused());
        }
        let Some(listener) = s.listeners.get(&(to.to_string(), port)).cloned() else {
            return Err(refused());
        };
        let port_no = {
            let next = s.next_port.entry(from.to_string()).or_insert(FIRST_PORT);
            let p = *next;
            *next = next.wrapping_add(1).max(FIRST_PORT);
            p
        };
        let local = format!("{from}:{port_no}");
        let now = Instant::now();
        let (up, down) = (Dir::new(now), Dir::new(now));
        let dirs = &mut s.link(from, to).dirs;
        dirs.retain(|d| d.strong_count() > 0);
        dirs.push(Arc::downgrade(&up));
        dirs.push(Arc::downgrade(&down));
        let client = Pipe::new(self, from, to, down.clone(), up.clone());
        let server = Pipe::new(self, to, from, up, down);
        drop(s);
        listener
            .send((server, local.clone()))
            .map_err(|_| refused())?;
        Ok((client, local))
    }
}

/// Streams accepted on one `host:port`.
pub struct Listener {
    rx: mpsc::UnboundedReceiver<Accepted>,
}

impl Listener {
    /// The next stream and its peer's address; `None` once unbound.
    pub async fn accept(&mut self) -> Option<Accepted> {
        self.rx.recv().await
    }
}

/// One end of an in-memory stream.
pub struct Pipe {
    net: Net,
    local: String,
    remote: String,
    incoming: Arc<Mutex<Dir>>,
    outgoing: Arc<Mutex<Dir>>,
    /// Bytes of a message read in part.
    partial: Option<(Vec<u8>, usize)>,
    sleep: Pin<Box<Sleep>>,
    eof: bool,
    shut: bool,
}

impl Pipe {
    fn new(
        net: &Net,
        local: &str,
        remote: &str,
        incoming: Arc<Mutex<Dir>>,
        outgoing: Arc<Mutex<Dir>>,
    ) -> Pipe {
        Pipe {
            net: net.clone(),
            local: local.to_string(),
            remote: remote.to_string(),
            incoming,
            outgoing,
            partial: None,
            sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
            eof: false,
            shut: false,
        }
    }

    fn send(&self, segment: Segment) {
        lock(&self.net.state).send(
            &self.local,
            &self.remote,
            &self.outgoing,
            &self.incoming,
            segment,
        );
    }

    fn is_reset(&self, now: Instant) -> bool {
        lock(&self.incoming).reset_at.is_some_and(|r| r <= now)
    }
}

impl AsyncRead for Pipe {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if let Some((bytes, at)) = this.partial.as_mut() {
                let n = buf.remaining().min(bytes.len() - *at);
                buf.put_slice(&bytes[*at..*at + n]);
                *at += n;
                if *at >= bytes.len() {
                    this.partial = None;
                }
                return Poll::Ready(Ok(()));
            }
            if this.eof {
                return Poll::Ready(Ok(()));
            }
            let now = Instant::now();
            let mut d = lock(&this.incoming);
            let mut wake_at = None;
            let hold_at = d.hold_at;
            let arrived = |at: Instant| at <= now && hold_at.is_none_or(|h| at <= h);
            match d.segments.front() {
                Some((at, _)) if arrived(*at) => {
                    if let Some((_, segment)) = d.segments.pop_front() {
                        match segment {
                            Segment::Data(bytes) => this.partial = Some((bytes, 0)),
                            Segment::Fin => this.eof = true,
                        }
                    }
                    continue;
                }
                // Held: the release wakes the reader.
                Some((at, _)) if hold_at.is_none_or(|h| *at <= h) => wake_at = Some(*at),
                Some(_) | None => {}
            }
            if let Some(r) = d.reset_at {
                if r <= now {
                    return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
                }
                wake_at = Some(wake_at.map_or(r, |w: Instant| w.min(r)));
            }
            d.waker = Some(cx.waker().clone());
            drop(d);
            match wake_at {
                Some(t) => {
                    this.sleep.as_mut().reset(t);
                    if this.sleep.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                }
                None => return Poll::Pending,
            }
        }
    }
}

impl AsyncWrite for Pipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.shut || self.is_reset(Instant::now()) {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        if !buf.is_empty() {
            self.send(Segment::Data(buf.to_vec()));
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.shut {
            self.shut = true;
            self.send(Segment::Fin);
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        let now = Instant::now();
        let (unread, in_flight_until) = {
            let mut d = lock(&self.incoming);
            d.reader_gone = true;
            let unread = self.partial.is_some()
                || d.segments
                    .iter()
                    .any(|(at, s)| *at <= now && matches!(s, Segment::Data(_)));
            let last = d
                .segments
                .iter()
                .filter(|(at, s)| *at > now && matches!(s, Segment::Data(_)))
                .map(|(at, _)| *at)
                .max();
            d.segments.clear();
            (unread, last)
        };
        let mut s = lock(&self.net.state);
        if unread {
            s.reset_back(&self.local, &self.remote, now, &self.outgoing);
        } else if !self.shut && !self.is_reset(now) {
            s.send(
                &self.local,
                &self.remote,
                &self.outgoing,
                &self.incoming,
                Segment::Fin,
            );
        }
        if let Some(at) = in_flight_until {
            // What was still on its way reaches a stream that is gone.
            s.reset_back(&self.local, &self.remote, at, &self.outgoing);
        }
    }
}
