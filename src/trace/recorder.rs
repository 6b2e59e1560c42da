use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::{EventKind, TraceEvent};

/// Virtual time since the start of the run, shared by every host.
///
/// Hosts keep their own tokio clocks; the trace and the store need one time
/// base that all instances agree on, as a real deployment would have.
pub trait Clock: Send + Sync {
    fn now(&self) -> Duration;
}

/// Collects the trace of one run. Cheap to clone; every host holds one.
#[derive(Clone)]
pub struct Recorder {
    events: Arc<Mutex<Book>>,
    clock: Arc<dyn Clock>,
}

/// The rows so far, and the rows of a host being torn down, held back until
/// they can be put in a fixed order (see [`Recorder::teardown`]).
#[derive(Default)]
struct Book {
    rows: Vec<TraceEvent>,
    held: Option<Vec<TraceEvent>>,
}

impl Recorder {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Recorder {
            events: Arc::new(Mutex::new(Book::default())),
            clock,
        }
    }

    pub fn now(&self) -> Duration {
        self.clock.now()
    }

    /// Appends an event stamped with the current virtual time.
    pub fn record(&self, host: &str, user: Option<&str>, kind: EventKind) {
        let event = TraceEvent {
            at: truncate_to_ms(self.clock.now()),
            host: host.to_string(),
            user: user.map(str::to_string),
            kind,
        };
        let mut book = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        match &mut book.held {
            Some(held) => held.push(event),
            None => book.rows.push(event),
        }
    }

    /// Runs `f`, which tears a host down (a crash drops its tasks), and
    /// appends the rows recorded meanwhile stamped `at` and in a fixed order:
    /// `socket_closed` rows by socket id, then any others as recorded.
    ///
    /// Why: a crashed host's tasks are dropped in an order the runtime does
    /// not fix (tokio shards its task list by a process-wide task id, so the
    /// order changes with every run in the same process and with `--jobs`),
    /// and they read the host's clock, which stands one tick past the
    /// driver's time. Both reached the trace before.
    pub fn teardown<R>(&self, at: Duration, f: impl FnOnce() -> R) -> R {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .held = Some(Vec::new());
        let out = f();
        let mut book = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        let mut held = book.held.take().unwrap_or_default();
        held.sort_by_key(|e| match e.kind {
            EventKind::SocketClosed { conn } => (0, conn),
            _ => (1, 0),
        });
        let at = truncate_to_ms(at);
        book.rows
            .extend(held.into_iter().map(|e| TraceEvent { at, ..e }));
        out
    }

    /// A copy of everything recorded so far, in recording order.
    pub fn snapshot(&self) -> Vec<TraceEvent> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .rows
            .clone()
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
