//! A user's session as the supervisor keeps it in memory (the reference's
//! `sessions` map entry), and the signal that stops its live socket.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::AbortHandle;

use crate::trace::ConnectionState;

/// One user's entry in the session map. It outlives single sockets: the
/// attempt count and the last-disconnect time live here, so deleting the
/// entry (as `seed-fix` does on 440) forgets them.
#[derive(Debug)]
pub(crate) struct Session {
    /// Id of the current socket's session; a new one per connect.
    pub id: u64,
    pub state: ConnectionState,
    /// Backoff attempts in the current episode.
    pub attempts: u32,
    /// Virtual time of the last close.
    pub last_disconnect: Option<Duration>,
    /// When the current socket reached CONNECTED.
    pub connected_at: Option<Duration>,
    /// The live socket's stop signal, while one runs.
    pub live: Option<Arc<StopSignal>>,
    /// A scheduled backoff retry.
    pub retry: Option<AbortHandle>,
    /// Fencing token of the user's lease, when the policy leases.
    pub lease_token: Option<u64>,
}

impl Session {
    pub fn new(id: u64) -> Self {
        Session {
            id,
            state: ConnectionState::Disconnected,
            attempts: 0,
            last_disconnect: None,
            connected_at: None,
            live: None,
            retry: None,
            lease_token: None,
        }
    }
}

/// Asks a connection task to close its socket, with a reason.
#[derive(Debug, Default)]
pub(crate) struct StopSignal {
    notify: Notify,
    reason: Mutex<Option<String>>,
}

impl StopSignal {
    pub fn stop(&self, reason: &str) {
        *self.reason.lock().unwrap_or_else(PoisonError::into_inner) = Some(reason.to_string());
        self.notify.notify_one();
    }

    /// Resolves once `stop` was called, with its reason.
    pub async fn stopped(&self) -> String {
        loop {
            if let Some(r) = self
                .reason
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
            {
                return r;
            }
            self.notify.notified().await;
        }
    }
}
