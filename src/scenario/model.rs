//! What a scenario file says, once parsed and validated. Every field has a
//! default, so a scenario names only what it is about.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// One scenario file.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Where it was read from (for errors and the replay command).
    pub source: PathBuf,
    /// Default: the file stem.
    pub name: String,
    /// Default: empty.
    pub description: String,
    /// Seeds turmoil and every RNG of the run. Default: 1.
    pub seed: u64,
    /// Length of the scripted part of the run. Default: 10 min.
    pub duration: Duration,
    /// Fault-free time kept after `duration` and after the last fault ends,
    /// so `eventually_connected` can be judged. Default: 5 min.
    pub quiet_tail: Duration,
    /// turmoil tick. Default: 10 ms.
    pub tick: Duration,
    /// Default: one paired, enabled user `alice`.
    pub users: Vec<UserSpec>,
    /// App instances running from the start. Default: 1.
    pub instances: u32,
    pub supervisor: SupervisorSpec,
    pub tabs: TabsSpec,
    pub network: NetworkSpec,
    /// The timeline, in file order, repetitions not yet expanded.
    pub events: Vec<EventSpec>,
    /// Per preset name: what must hold and what must be caught. A run with a
    /// preset that has no entry checks that every invariant holds.
    pub expect: BTreeMap<String, Expectation>,
    /// How long the world waits before restarting an app process that
    /// exited on its own (`exit_on_codes`), as a container restart policy
    /// does. Default: 100 ms, Docker's first restart delay.
    pub restart_delay: Duration,
    pub endpoint: EndpointSpec,
}

/// `[endpoint]`: how the fake WhatsApp endpoint itself behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointSpec {
    /// The server-side idle timeout: a connected socket from which the
    /// endpoint received nothing (no ping, no frame) for this long is closed
    /// with 428 ("Connection Terminated"). `None` (`"off"`) never closes.
    /// Default: [`DEFAULT_IDLE_TIMEOUT`] (60 s).
    pub idle_timeout: Option<Duration>,
}

/// About when WhatsApp Web closes a socket whose keep-alives stopped:
/// "WhatsApp Web closes the socket at ~60s" while the client's event loop is
/// blocked (openclaw#75122). Two of the 30 s keep-alives that every shipped
/// preset sends (Baileys' `keepAliveIntervalMs` default) fit in it, so a
/// supervisor that pings at all is never closed by it.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

impl Default for EndpointSpec {
    fn default() -> Self {
        EndpointSpec {
            idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct UserSpec {
    pub id: String,
    /// Has a linked device (credentials); an unpaired user gets QR refs. Default: true.
    pub paired: bool,
    /// Walked by the auto-reconnector and connected at start-up. Default: true.
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SupervisorSpec {
    /// Preset used by `loopguard run` without `--preset`. Default: `stable`.
    pub preset: String,
    /// Knob name → value, applied over whichever preset runs. Default: none.
    pub overrides: toml::Table,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TabsSpec {
    /// Dashboard tabs open from the start. Default: 0.
    pub count: u32,
    /// Each tab's status poll period. Default: 5 s.
    pub poll_interval: Duration,
    /// Each poll is delayed by up to this much more, seeded. Default: 0.
    pub jitter: Duration,
    /// The user the tabs show. Default: the first user.
    pub user: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NetworkSpec {
    /// One-way message latency range on every link. Default: 1 ms to 20 ms.
    pub min_latency: Duration,
    pub max_latency: Duration,
}

/// A simulated link that network faults apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Link {
    /// Every app instance ↔ the endpoint (`app-wa`). The default.
    AppWa,
    /// The browser ↔ every app instance (`browser-app`).
    BrowserApp,
}

/// One `[[events]]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct EventSpec {
    /// When it (first) fires.
    pub at: Duration,
    pub action: Action,
    /// Fire again every `every`, `times` times in all (the first included).
    pub repeat: Option<Repeat>,
    /// Line of the entry in the file, for messages.
    pub line: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Repeat {
    pub every: Duration,
    pub times: u32,
}

/// What an event does. `user` defaults to the first user where it applies.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `close`: the endpoint closes the user's socket with `code`
    /// (440: another device took over).
    Close {
        user: String,
        code: u16,
    },
    /// `refuse`: the endpoint refuses the user's next `count` connects with `code`.
    Refuse {
        user: String,
        count: u32,
        code: u16,
    },
    /// `unavailable`: every connect and open socket gets 503 for `duration`.
    Unavailable {
        duration: Duration,
    },
    /// `logout`: the user's device is unlinked: 401 now and on every connect.
    Logout {
        user: String,
    },
    /// `pair`: the user scans the QR; the endpoint then closes with 515.
    Pair {
        user: String,
    },
    /// `ping_silence`: the endpoint stops answering pings (and sends nothing)
    /// for `duration`.
    PingSilence {
        duration: Duration,
    },
    /// `slow_handshake`: the endpoint delays each hello answer by `delay`
    /// for `duration`.
    SlowHandshake {
        delay: Duration,
        duration: Duration,
    },
    /// `partition`: the link is cut for `duration`, then repaired.
    Partition {
        link: Link,
        duration: Duration,
    },
    /// `flap`: for `duration`, the link goes down for `down` and up for `up`
    /// in turn, each period stretched by up to `jitter` (seeded).
    Flap {
        link: Link,
        duration: Duration,
        down: Duration,
        up: Duration,
        jitter: Duration,
    },
    /// `latency`: the link's latency is `min..max` for `duration`.
    Latency {
        link: Link,
        min: Duration,
        max: Duration,
        duration: Duration,
    },
    /// `loss`: each message on the link is dropped with `rate` (0–1) for
    /// `duration`; TCP has no retransmission, so a loss stalls the stream.
    Loss {
        link: Link,
        rate: f64,
        duration: Duration,
    },
    /// `crash`: app instance `instance` (1-based) crashes; it restarts after
    /// `restart_after` unless that is absent.
    Crash {
        instance: u32,
        restart_after: Option<Duration>,
    },
    /// `start_instance`: one more app instance starts.
    StartInstance,
    /// `open_tabs` / `close_tabs`: dashboard tabs open or close.
    OpenTabs {
        count: u32,
    },
    CloseTabs {
        count: u32,
    },
    /// `connect` / `disconnect`: the dashboard's buttons, pressed on
    /// instance `instance` (default 1).
    Connect {
        user: String,
        instance: u32,
    },
    Disconnect {
        user: String,
        instance: u32,
    },
    /// `foreign_tab`: for `duration`, a dashboard tab logged in as `user`
    /// (carrying `user`'s session token) polls `target`'s status every
    /// `poll_interval` and presses `target`'s `button` after each poll.
    ForeignTab {
        user: String,
        target: String,
        poll_interval: Duration,
        button: Button,
        duration: Duration,
    },
    /// `rival_device`: another client of `user`'s account logs in at `at`:
    /// the endpoint closes the user's connected socket with 440, as when a
    /// newer device takes over. Each time one of ours authenticates again
    /// (replacing the rival), the rival logs in again `after` later; it
    /// logs in `times` times in all (the first included), or, with
    /// `until`, as often as it can until that scenario time.
    RivalDevice {
        user: String,
        after: Duration,
        times: u32,
        until: Option<Duration>,
    },
    /// `stall`: app instance `instance` makes no progress on the network
    /// for `duration`: every link to and from it is held (bytes wait, then
    /// are delivered when the stall ends). Its own timers still fire.
    Stall {
        instance: u32,
        duration: Duration,
    },
    /// `churn`: for `duration`, the endpoint closes every connected socket
    /// `after` its authentication (or `after` the window starts, for one
    /// already open) with `code`.
    Churn {
        after: Duration,
        code: u16,
        duration: Duration,
    },
    /// `stale_close`: the next time a newer socket of `user` authenticates
    /// while an older one is still connected, the older one is kept open
    /// (replaced) and gets `code` only `after` later, on that old socket.
    StaleClose {
        user: String,
        code: u16,
        after: Duration,
    },
    /// `stream_error`: the endpoint sends the user's connected socket a
    /// Baileys-style stream:error node (an optional `code` attribute, an
    /// optional child `child` with an optional `type`), then closes it.
    StreamError {
        user: String,
        code: Option<u16>,
        child: Option<String>,
        child_type: Option<String>,
    },
    /// `messages`: for `duration`, the endpoint sends a message frame on the
    /// user's connected socket every `every`.
    Messages {
        user: String,
        every: Duration,
        duration: Duration,
    },
}

/// Which of another user's buttons a `foreign_tab` presses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    Connect,
    Disconnect,
    /// Only reads the status.
    None,
}

impl Button {
    /// Words as written in files.
    pub const NAMES: [&'static str; 3] = ["connect", "disconnect", "none"];

    pub fn as_str(self) -> &'static str {
        match self {
            Button::Connect => "connect",
            Button::Disconnect => "disconnect",
            Button::None => "none",
        }
    }

    pub fn parse(word: &str) -> Option<Button> {
        match word {
            "connect" => Some(Button::Connect),
            "disconnect" => Some(Button::Disconnect),
            "none" => Some(Button::None),
            _ => None,
        }
    }

    /// `Some(true)` for connect, `Some(false)` for disconnect.
    pub fn connects(self) -> Option<bool> {
        match self {
            Button::Connect => Some(true),
            Button::Disconnect => Some(false),
            Button::None => None,
        }
    }
}

impl Action {
    /// The `action` word used in files.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Close { .. } => "close",
            Action::Refuse { .. } => "refuse",
            Action::Unavailable { .. } => "unavailable",
            Action::Logout { .. } => "logout",
            Action::Pair { .. } => "pair",
            Action::PingSilence { .. } => "ping_silence",
            Action::SlowHandshake { .. } => "slow_handshake",
            Action::Partition { .. } => "partition",
            Action::Flap { .. } => "flap",
            Action::Latency { .. } => "latency",
            Action::Loss { .. } => "loss",
            Action::Crash { .. } => "crash",
            Action::StartInstance => "start_instance",
            Action::OpenTabs { .. } => "open_tabs",
            Action::CloseTabs { .. } => "close_tabs",
            Action::Connect { .. } => "connect",
            Action::Disconnect { .. } => "disconnect",
            Action::ForeignTab { .. } => "foreign_tab",
            Action::RivalDevice { .. } => "rival_device",
            Action::Stall { .. } => "stall",
            Action::Churn { .. } => "churn",
            Action::StaleClose { .. } => "stale_close",
            Action::StreamError { .. } => "stream_error",
            Action::Messages { .. } => "messages",
        }
    }

    /// How long the fault this action starts lasts (zero for instant ones).
    pub fn fault_duration(&self) -> Duration {
        match self {
            Action::Unavailable { duration }
            | Action::PingSilence { duration }
            | Action::SlowHandshake { duration, .. }
            | Action::Partition { duration, .. }
            | Action::Flap { duration, .. }
            | Action::Latency { duration, .. }
            | Action::Loss { duration, .. }
            | Action::ForeignTab { duration, .. }
            | Action::Stall { duration, .. }
            | Action::Churn { duration, .. }
            | Action::Messages { duration, .. } => *duration,
            Action::StaleClose { after, .. } => *after,
            Action::Crash { restart_after, .. } => restart_after.unwrap_or_default(),
            _ => Duration::ZERO,
        }
    }
}

impl Action {
    /// When the fault this action starts at `at` ends, as far as the
    /// script says (a `rival_device` with `until` lasts until then).
    pub fn fault_end(&self, at: Duration) -> Duration {
        match self {
            Action::RivalDevice {
                until: Some(until), ..
            } => (*until).max(at),
            _ => at.saturating_add(self.fault_duration()),
        }
    }
}

/// `[expect.<preset>]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Expectation {
    /// Invariant ids that must have no violation. `["all"]` in the file
    /// means every invariant not listed in `violates`.
    pub holds: Vec<String>,
    /// Invariant ids that must be violated at least once (the bug is caught).
    pub violates: Vec<String>,
}

impl Scenario {
    /// Every event occurrence with repetitions expanded, in time order
    /// (file order among equal times). Times saturate rather than overflow
    /// (a parsed scenario is within [`limits`](super::limits) anyway).
    pub fn timeline(&self) -> Vec<(Duration, &EventSpec)> {
        let mut out = Vec::new();
        for e in &self.events {
            let (every, times) = e.repeat.map_or((Duration::ZERO, 1), |r| (r.every, r.times));
            for i in 0..times {
                out.push((e.at.saturating_add(every.saturating_mul(i)), e));
            }
        }
        out.sort_by_key(|(t, _)| *t);
        out
    }

    /// When the last scripted fault ends. Both engines ask between steps, so
    /// this walks the occurrences without building the sorted timeline.
    pub fn faults_end(&self) -> Duration {
        self.events
            .iter()
            .flat_map(|e| {
                let (every, times) = e.repeat.map_or((Duration::ZERO, 1), |r| (r.every, r.times));
                (0..times).map(move |i| {
                    e.action
                        .fault_end(e.at.saturating_add(every.saturating_mul(i)))
                })
            })
            .max()
            .unwrap_or_default()
    }

    /// Total virtual length of a run: the scripted part, then a quiet tail
    /// after both it and the last fault.
    pub fn run_length(&self) -> Duration {
        self.duration
            .max(self.faults_end())
            .saturating_add(self.quiet_tail)
    }

    /// When a run really ends: [`Scenario::run_length`], or later when a
    /// fault outlasted the script (a refusal ends only when its last refused
    /// connect comes), so that the quiet tail always follows the last thing
    /// a fault did: its real end, or the use of one of its refusals (while
    /// the supervisor keeps trying, the run waits for the rest). Both
    /// engines end their runs here.
    pub fn run_end(&self, last_fault_activity: Option<Duration>) -> Duration {
        let scripted = self.run_length();
        last_fault_activity.map_or(scripted, |end| {
            scripted.max(end.saturating_add(self.quiet_tail))
        })
    }
}
