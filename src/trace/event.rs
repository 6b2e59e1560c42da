use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A WhatsApp account handled by the supervisor, as its id string.
pub type UserId = String;

/// One row of `trace.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceEvent {
    /// Virtual time since the start of the run.
    #[serde(rename = "at_ms", with = "crate::util::millis")]
    pub at: Duration,
    /// Host that observed the event: `wa`, `app-N`, `browser` or `sim`.
    pub host: String,
    /// The user concerned, if any.
    pub user: Option<UserId>,
    pub kind: EventKind,
}

impl TraceEvent {
    pub fn at_ms(&self) -> u64 {
        crate::util::ms(self.at)
    }

    pub fn user(&self) -> &str {
        self.user.as_deref().unwrap_or("")
    }
}

/// Connection state of one user's session, as the reference names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConnectionState {
    Disconnected,
    Connecting,
    QrPending,
    Connected,
}

impl ConnectionState {
    pub const ALL: [ConnectionState; 4] = [
        ConnectionState::Disconnected,
        ConnectionState::Connecting,
        ConnectionState::QrPending,
        ConnectionState::Connected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionState::Disconnected => "DISCONNECTED",
            ConnectionState::Connecting => "CONNECTING",
            ConnectionState::QrPending => "QR_PENDING",
            ConnectionState::Connected => "CONNECTED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the supervisor started a connection attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptCause {
    /// A backoff timer after a retryable close.
    Backoff,
    /// The auto-reconnector's periodic check.
    Auto,
    /// A status request (only the `legacy` preset does this).
    Status,
    /// The dashboard's connect button.
    Manual,
    /// The immediate reconnect after 515 "restart required".
    Restart,
    /// The instance starting up and connecting its users.
    Startup,
}

impl AttemptCause {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptCause::Backoff => "backoff",
            AttemptCause::Auto => "auto",
            AttemptCause::Status => "status",
            AttemptCause::Manual => "manual",
            AttemptCause::Restart => "restart",
            AttemptCause::Startup => "startup",
        }
    }

    /// Whether the attempt was started by the supervisor on its own (the
    /// cooldown invariant applies) rather than by a person.
    pub fn is_automatic(self) -> bool {
        !matches!(self, AttemptCause::Manual)
    }
}

/// What the supervisor decided to do about a close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseAction {
    /// Retry after a backoff delay.
    Backoff,
    /// Reconnect at once (515).
    Restart,
    /// Do not reconnect; leave it to the auto-reconnector after its cooldown.
    Stop,
    /// Retries exhausted for this episode.
    GiveUp,
    /// The close was asked for (manual disconnect, shutdown, lease lost).
    Requested,
}

/// Network and endpoint faults, as shaded on the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    Partition,
    Flap,
    Latency,
    Loss,
    Unavailable,
    PingSilence,
    SlowHandshake,
    RefuseConnects,
    Takeover,
    Logout,
    Crash,
    RivalDevice,
    Stall,
    Churn,
    StaleClose,
    StreamError,
    Messages,
}

impl FaultKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Partition => "partition",
            FaultKind::Flap => "flap",
            FaultKind::Latency => "latency",
            FaultKind::Loss => "loss",
            FaultKind::Unavailable => "unavailable",
            FaultKind::PingSilence => "ping_silence",
            FaultKind::SlowHandshake => "slow_handshake",
            FaultKind::RefuseConnects => "refuse_connects",
            FaultKind::Takeover => "takeover",
            FaultKind::Logout => "logout",
            FaultKind::Crash => "crash",
            FaultKind::RivalDevice => "rival_device",
            FaultKind::Stall => "stall",
            FaultKind::Churn => "churn",
            FaultKind::StaleClose => "stale_close",
            FaultKind::StreamError => "stream_error",
            FaultKind::Messages => "messages",
        }
    }
}

/// What happened. In `trace.csv` the variant name is the `kind` column and
/// its fields, as a JSON object, the `details` column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    // ---- ground truth, client side (transport wrapper on app hosts) ----
    /// The supervisor's dialer returned an open stream to the endpoint.
    SocketOpened {
        conn: u64,
        local: String,
    },
    /// The supervisor dropped that stream: from here on it holds it no more.
    SocketClosed {
        conn: u64,
    },
    /// A dial failed or timed out.
    DialFailed {
        error: String,
    },

    // ---- ground truth, endpoint side (host `wa`) ----
    EndpointAccepted {
        sock: u64,
        peer: String,
    },
    EndpointAuthenticated {
        sock: u64,
        paired: bool,
    },
    EndpointQr {
        sock: u64,
        index: u32,
        ttl_ms: u64,
    },
    /// The endpoint sent a `message` frame (incoming chat traffic) on a
    /// connected socket; `id` counts that socket's messages from 1.
    EndpointMessage {
        sock: u64,
        id: u64,
    },
    /// A newer socket of the same user authenticated: the older one gets 440.
    /// `by_fault` is true when a scripted "other device" took over.
    EndpointReplaced {
        old_sock: u64,
        new_sock: Option<u64>,
        by_fault: bool,
    },
    /// The endpoint closed a socket, with the stream_error code it sent
    /// (none when the peer went away first).
    EndpointClosed {
        sock: u64,
        code: Option<u16>,
        reason: String,
    },

    // ---- the supervisor's own account (app hosts) ----
    AttemptStarted {
        session: u64,
        cause: AttemptCause,
        attempt: u32,
    },
    StateChanged {
        session: u64,
        from: ConnectionState,
        to: ConnectionState,
        reason: String,
    },
    /// A socket of the session closed with `code`, and what the policy does.
    CloseHandled {
        session: u64,
        conn: u64,
        code: u16,
        action: CloseAction,
        delay_ms: Option<u64>,
    },
    KeepAliveSent {
        session: u64,
        conn: u64,
    },
    SessionEnded {
        session: u64,
        reason: String,
    },
    LeaseAcquired {
        token: u64,
    },
    LeaseDenied {
        owner: String,
    },
    LeaseLost {
        token: u64,
    },
    StoreWritten {
        status: ConnectionState,
        reason: String,
    },
    StatusServed {
        state: ConnectionState,
    },

    // ---- browser ----
    StatusPolled {
        tab: u32,
        http_status: u16,
        state: Option<ConnectionState>,
    },

    // ---- ground truth, the harness's listener in front of a status API ----
    /// A status request or button press the harness's listener on an app
    /// host served where the tab's own (logged-in) user `caller` is not the
    /// user asked for (the row's user) or not the user the answer is about.
    /// `button` is `connect`/`disconnect` for a press, none for a status
    /// read; `revealed` is the state the answer showed, about `about`.
    ApiCrossUser {
        caller: String,
        tab: u32,
        button: Option<String>,
        http_status: u16,
        revealed: Option<ConnectionState>,
        about: Option<String>,
    },

    /// The harness's listener on an app host handed a person's own button
    /// press (`connect` or `disconnect`, from the user's own tab) to the
    /// status API: the press reached the supervisor. The oracle judges a
    /// person's acts on these rows, not on the scenario's `ManualConnect` /
    /// `ManualDisconnect` (a press the network lost never reached the app).
    PressDelivered {
        button: String,
    },

    // ---- simulator ----
    FaultStarted {
        fault: FaultKind,
        target: String,
    },
    FaultEnded {
        fault: FaultKind,
        target: String,
    },
    InstanceStarted {
        instance: String,
    },
    InstanceCrashed {
        instance: String,
    },
    TabOpened {
        tab: u32,
    },
    TabClosed {
        tab: u32,
    },
    UserPaired {},
    ManualConnect {},
    ManualDisconnect {},
    RunEnded {},

    // ---- harness ground truth for the oracle (issue 7) ----
    /// The dialer wrapper opened (`conn`) or failed to open (`conn: null`) a
    /// stream while the harness's listener was serving HTTP request
    /// `request` for `path`, or from a task spawned while it was.
    DialDuringRequest {
        request: u64,
        path: String,
        conn: Option<u64>,
    },
    /// Sampled by the harness on an app host every 10 s: the host's tokio
    /// runtime's live tasks, the HTTP connections its listener holds open
    /// and the streams its dialer holds open.
    HostWorkSampled {
        alive_tasks: u64,
        http_connections: u64,
        open_sockets: u64,
    },
    /// When client stream `conn` last received bytes (`at_ms`, virtual),
    /// recorded just before it closes, when the run ends while it is open,
    /// and when bytes come again after more than 35 s of silence.
    SocketLastReceived {
        conn: u64,
        at_ms: u64,
    },
    /// The store deleted a user's credentials (ground truth: the store's
    /// own record, host = the instance that asked).
    CredentialsDeleted {},
    /// The supervisor's process exited on a close code (`exit_on_codes`);
    /// the world restarts it after the scenario's `restart_delay`.
    ProcessExited {
        code: u16,
    },
}

impl EventKind {
    /// The `kind` column.
    pub fn name(&self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map
                .get("kind")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string(),
            _ => String::new(),
        }
    }

    /// The `details` column: the variant's fields as a JSON object.
    pub fn details(&self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut map)) => {
                map.remove("kind");
                serde_json::Value::Object(map).to_string()
            }
            _ => String::from("{}"),
        }
    }

    /// Rebuilds a kind from its two CSV columns.
    pub fn from_columns(kind: &str, details: &str) -> Result<Self, serde_json::Error> {
        let mut value: serde_json::Value = serde_json::from_str(details)?;
        if let serde_json::Value::Object(map) = &mut value {
            map.insert("kind".into(), serde_json::Value::String(kind.to_string()));
        }
        serde_json::from_value(value)
    }
}
