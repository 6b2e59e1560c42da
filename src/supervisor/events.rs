//! The supervisor's own account of what it does, written to the harness's
//! trace under the instance's host name.

use std::sync::Arc;
use std::time::Duration;

use crate::trace::{EventKind, Recorder};

/// Where a supervisor instance reports its events.
#[derive(Clone)]
pub struct Events {
    recorder: Recorder,
    host: Arc<str>,
}

impl Events {
    pub fn new(recorder: Recorder, host: &str) -> Self {
        Events {
            recorder,
            host: host.into(),
        }
    }

    pub fn emit(&self, user: &str, kind: EventKind) {
        self.recorder.record(&self.host, Some(user), kind);
    }

    /// Shared virtual time (the store's time base).
    pub fn now(&self) -> Duration {
        self.recorder.now()
    }

    pub fn host(&self) -> &str {
        &self.host
    }
}
