use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::csv_io::TraceWriter;
use super::guard::{CapCounter, Runaway, TraceCaps, TraceGuard};
use super::{EventKind, TraceEvent};

/// Virtual time since the start of the run, shared by every host.
///
/// Hosts keep their own tokio clocks; the trace and the store need one time
/// base that all instances agree on, as a real deployment would have.
pub trait Clock: Send + Sync {
    fn now(&self) -> Duration;
}

/// Collects the trace of one run. Cheap to clone; every host holds one.
///
/// Every event is counted against the run's caps (see [`super::guard`]);
/// past a cap nothing more is kept and [`Recorder::runaway`] says which.
/// When the run has a sink, [`Recorder::stream`] (called by the simulation
/// driver between steps, never from inside a host) writes the rows recorded
/// since its last call, so the trace reaches disk as the run goes.
#[derive(Clone)]
pub struct Recorder {
    log: Arc<Mutex<Log>>,
    clock: Arc<dyn Clock>,
}

struct Log {
    events: Vec<TraceEvent>,
    caps: CapCounter,
    sink: Option<TraceWriter<Box<dyn Write + Send>>>,
    /// Events already written to the sink.
    streamed: usize,
    /// Rows of a host being torn down, held back until they can be put in
    /// a fixed order (see [`Recorder::teardown`]).
    held: Option<Vec<TraceEvent>>,
    /// The latest sign of a fault at work: a `fault_ended` row, or a
    /// refusal used ([`Recorder::note_fault_activity`]). A fault that
    /// outlasts the script (refusals used up late) lengthens the run.
    last_fault_activity: Option<Duration>,
}

impl Recorder {
    /// A recorder with the default caps and no sink.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self::with_parts(clock, TraceGuard::default().caps, None)
    }

    /// A recorder with `guard`'s caps, streaming to its sink (whose header
    /// is written now).
    pub fn guarded(clock: Arc<dyn Clock>, guard: TraceGuard) -> csv::Result<Self> {
        let sink = guard.sink.map(TraceWriter::new).transpose()?;
        Ok(Self::with_parts(clock, guard.caps, sink))
    }

    fn with_parts(
        clock: Arc<dyn Clock>,
        caps: TraceCaps,
        sink: Option<TraceWriter<Box<dyn Write + Send>>>,
    ) -> Self {
        Recorder {
            log: Arc::new(Mutex::new(Log {
                events: Vec::new(),
                caps: CapCounter::new(caps),
                sink,
                streamed: 0,
                held: None,
                last_fault_activity: None,
            })),
            clock,
        }
    }

    pub fn now(&self) -> Duration {
        self.clock.now()
    }

    /// Appends an event stamped with the current virtual time (unless the
    /// run already passed a cap).
    pub fn record(&self, host: &str, user: Option<&str>, kind: EventKind) {
        let at = truncate_to_ms(self.clock.now());
        let mut log = self.lock();
        if !log.caps.admit(at) {
            return;
        }
        if matches!(kind, EventKind::FaultEnded { .. }) {
            log.note_fault_activity(at);
        }
        let event = TraceEvent {
            at,
            host: host.to_string(),
            user: user.map(str::to_string),
            kind,
        };
        match &mut log.held {
            Some(held) => held.push(event),
            None => log.events.push(event),
        }
    }

    /// When a fault last acted or ended, if one did (kept as rows are
    /// recorded, so the driver reads it between steps without a scan).
    pub fn last_fault_activity(&self) -> Option<Duration> {
        self.lock().last_fault_activity
    }

    /// A fault acted now without ending (the endpoint used one of several
    /// refusals): the run lasts at least a quiet tail past this moment, so a
    /// supervisor that keeps trying at its cooldown's pace gets to use the
    /// rest. No row: the refused connect's own rows show it.
    pub fn note_fault_activity(&self) {
        let at = truncate_to_ms(self.clock.now());
        self.lock().note_fault_activity(at);
    }

    /// The cap this run passed, if it did.
    pub fn runaway(&self) -> Option<Runaway> {
        self.lock().caps.tripped()
    }

    /// Writes the rows recorded since the last call to the sink, if any.
    pub fn stream(&self) -> csv::Result<()> {
        let mut guard = self.lock();
        let log = &mut *guard;
        if let Some(sink) = log.sink.as_mut() {
            // Hosts run one after another within a step, so rows of one step
            // can come out of time order: order them (stably) before they
            // reach the disk, as the finished trace is ordered.
            let streamed = log.streamed;
            log.events[streamed..].sort_by_key(|e| e.at);
            for e in &log.events[log.streamed..] {
                sink.write(e)?;
            }
            log.streamed = log.events.len();
        }
        Ok(())
    }

    /// Streams what is left and flushes the sink.
    pub fn finish_stream(&self) -> csv::Result<()> {
        self.stream()?;
        match self.lock().sink.as_mut() {
            Some(sink) => sink.flush(),
            None => Ok(()),
        }
    }

    /// Runs `f`, which tears a host down (a crash drops its tasks), and
    /// appends the rows recorded meanwhile stamped `at` and in a fixed order:
    /// each socket's `socket_last_received` and `socket_closed` rows by socket
    /// id, then any others as recorded.
    ///
    /// Why: a crashed host's tasks are dropped in an order the runtime does
    /// not fix (tokio shards its task list by a process-wide task id, so the
    /// order changes with every run in the same process and with `--jobs`),
    /// and they read the host's clock, which stands one tick past the
    /// driver's time. Both reached the trace before.
    pub fn teardown<R>(&self, at: Duration, f: impl FnOnce() -> R) -> R {
        self.lock().held = Some(Vec::new());
        let out = f();
        let mut log = self.lock();
        let mut held = log.held.take().unwrap_or_default();
        held.sort_by_key(|e| match e.kind {
            EventKind::SocketLastReceived { conn, .. } => (0, conn, 0),
            EventKind::SocketClosed { conn } => (0, conn, 1),
            _ => (1, 0, 0),
        });
        let at = truncate_to_ms(at);
        log.events
            .extend(held.into_iter().map(|e| TraceEvent { at, ..e }));
        out
    }

    /// A copy of everything recorded so far, in recording order.
    pub fn snapshot(&self) -> Vec<TraceEvent> {
        self.lock().events.clone()
    }

    /// Everything recorded, moved out (no copy): the end of a run.
    pub fn take(&self) -> Vec<TraceEvent> {
        let mut log = self.lock();
        log.streamed = 0;
        std::mem::take(&mut log.events)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Log {
    fn note_fault_activity(&mut self, at: Duration) {
        self.last_fault_activity = Some(self.last_fault_activity.map_or(at, |t| t.max(at)));
    }
}

fn truncate_to_ms(d: Duration) -> Duration {
    Duration::from_millis(crate::util::ms(d))
}

/// Virtual time as this runtime's tokio clock reads it, since the clock was
/// made. For engines that run everything on one runtime (tests, paused time).
pub struct TokioClock {
    origin: tokio::time::Instant,
}

impl TokioClock {
    /// A clock reading zero now.
    pub fn start() -> Self {
        TokioClock {
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}
