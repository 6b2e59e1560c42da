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
    events: Arc<Mutex<Vec<TraceEvent>>>,
    clock: Arc<dyn Clock>,
}

impl Recorder {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Recorder {
            events: Arc::new(Mutex::new(Vec::new())),
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
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event);
    }

    /// A copy of everything recorded so far, in recording order.
    pub fn snapshot(&self) -> Vec<TraceEvent> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
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
