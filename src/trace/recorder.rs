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
        log.events.push(TraceEvent {
            at,
            host: host.to_string(),
            user: user.map(str::to_string),
            kind,
        });
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
