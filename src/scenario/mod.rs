//! Scenario files (`scenarios/*.toml`): the model and its parser.
//!
//! A scenario is a TOML file written by people and reviewed in pull requests.
//! Every field is optional and has the default noted below (and on the
//! [`model`](Scenario) fields); a typo or an unknown field anywhere is an
//! error that names file, line and field ([`ScenarioError`]).
//!
//! # Format
//!
//! Durations are strings with a unit: `"250ms"`, `"90s"`, `"5m"`, `"2h"`,
//! `"1h 30m"` (humantime syntax; never negative). Long unit names are a
//! feature of that syntax and are accepted on purpose: `"5 minutes"`,
//! `"2 hours"`, `"1hour 30min"` read as `5m`, `2h`, `1h 30m`; an unknown unit
//! (`"5 parsecs"`) is an error. Array indices in error messages count from 0
//! (`events[0]` is the first `[[events]]`).
//!
//! ```toml
//! name = "repeated_440"          # default: the file stem; names the report folder
//! description = """
//! What production problem this reproduces."""   # default: empty
//! seed = 7                       # default: 1
//! duration = "30m"               # scripted part of the run; default 10m
//! quiet_tail = "5m"              # fault-free time kept at the end (after a fault's real end
//!                                 # too, or its latest refusal used); default 5m
//! restart_delay = "10s"          # an app that exits on its own (exit_on_codes) is
//!                                # restarted this long after; default 100ms (Docker's)
//! tick = "10ms"                  # turmoil tick, 1ms..=1s; default 10ms
//! instances = 1                  # app instances from the start, >= 1; default 1
//!
//! [[users]]                      # default: one user `alice`, paired and enabled
//! id = "alice"                   # required; unique; letters, digits and . _ - @ +
//! paired = true                  # has a linked device; false gets QR refs. Default true
//! enabled = true                 # walked by the auto-reconnector. Default true
//!
//! [supervisor]
//! preset = "stable"              # a built-in or a presets/ file stem; default stable
//! [supervisor.overrides]         # any policy knob, checked against every preset
//! cooldown = "90s"
//!
//! [tabs]                         # dashboard tabs polling GET /api/whatsapp/status
//! count = 20                     # default 0
//! poll_interval = "2s"           # > 0; default 5s
//! jitter = "500ms"               # default 0s
//! user = "alice"                 # default: the first user
//!
//! [network]                      # latency on every link
//! min_latency = "1ms"            # default 1ms
//! max_latency = "20ms"           # >= min_latency; default 20ms
//!
//! [endpoint]
//! idle_timeout = "60s"           # server-side idle timeout: a connected socket that
//!                                # sent nothing this long gets 428; "off"; default 60s
//!
//! [[events]]
//! at = "2m"                      # required; <= duration (repetitions too)
//! action = "close"               # required; see the table below
//! user = "alice"                 # default: the first user
//! code = 440
//! repeat = { every = "3m", times = 5 }   # optional; every > 0, times >= 1
//!
//! [[events]]
//! at = "10m"
//! action = "partition"
//! link = "app-wa"
//! duration = "2m"
//!
//! [expect.legacy]                # per preset: what must be caught...
//! violates = ["single_socket", "reconnect_cooldown"]
//! [expect.seed-fix]
//! violates = ["reconnect_cooldown"]
//! holds = ["status_read_only"]
//! [expect.stable]                # ...and what must hold
//! holds = ["all"]                # all = every invariant not in `violates`
//! ```
//!
//! # Limits
//!
//! No file can crash, hang or exhaust the gate ([`limits`] holds the
//! numbers, each refused at its file, line and field): a file is at most
//! 1 MiB of UTF-8 and says something (an empty or comments-only file is
//! refused: it would run the defaults and pass); every duration is at most
//! 7 days; `duration` at least 1 s and 100 ticks; `tick` 1 ms to 1 s; a run
//! at most 60,480,000 ticks; 100,000 event occurrences in all (repetitions
//! included, counted before they are expanded); 10,000 users, 10,000 tabs
//! open at once, 64 app instances at once; strings 256 characters
//! (`description` 10,000, keys 64); `name` 1 to 64 ASCII letters, digits,
//! `.`, `_` and `-`, not starting with `.` or `-` (it names the report
//! folder; the default from the file stem has each unsafe character made
//! `_`).
//!
//! # Errors
//!
//! [`ScenarioError`]'s `Display` is one line (`file:line: field: message`);
//! [`render`] shows it the way rustc does: `error:`, `--> file:line:col`, the
//! source line with a caret under the key or value, and a `help:` line. A
//! bracket or multi-line string left open is reported where it opens, and
//! JSON given in place of TOML is recognised.
//!
//! # Actions
//!
//! Every event takes `at`, `action` and optionally `repeat`; besides those an
//! action takes only the parameters listed here (anything else is an error).
//! `user` defaults to the first user, `link` to `"app-wa"` (or
//! `"browser-app"`), `instance` to 1, `count` to 1. Windows (`duration`,
//! `down`, `up`, `delay`, `restart_after`, `after`, `every`) must be longer
//! than zero.
//!
//! | action | parameters | meaning |
//! |---|---|---|
//! | `close` | `user`, `code` (required) | the endpoint closes the user's socket with `code` (440: another device took over) |
//! | `refuse` | `user`, `count`, `code` (required) | the next `count` connects of the user are refused with `code` |
//! | `unavailable` | `duration` | every connect and open socket gets 503 |
//! | `logout` | `user` | the device is unlinked: 401 now and on every connect |
//! | `pair` | `user` | the user scans the QR (must not be paired then); 515 follows |
//! | `ping_silence` | `duration` | the endpoint stops answering pings |
//! | `slow_handshake` | `delay`, `duration` | each hello answer is delayed by `delay` |
//! | `partition` | `link`, `duration` | the link is cut, then repaired |
//! | `flap` | `link`, `duration`, `down`, `up`, `jitter` (default 0s) | the link goes down and up in turn, each period stretched by up to `jitter` |
//! | `latency` | `link`, `min`, `max`, `duration` | the link's latency is `min..max` |
//! | `loss` | `link`, `rate` (0..=1), `duration` | each message is dropped with `rate` |
//! | `crash` | `instance`, `restart_after` (optional) | the app instance crashes, restarting after `restart_after` if given |
//! | `start_instance` | — | one more app instance starts (numbered next) |
//! | `open_tabs`, `close_tabs` | `count` | dashboard tabs open or close |
//! | `connect`, `disconnect` | `user`, `instance` | the dashboard's buttons, pressed on an instance |
//! | `rival_device` | `user`, `after` (default 5s), `times` (default 1; unlimited with `until`), `until` (optional, after `at`) | another client of the account logs in: the user's socket gets 440; after each of our authentications it logs in again `after` later |
//! | `stall` | `instance`, `duration` | every link to and from the instance is held (bytes wait, delivered at the end); its own timers still fire |
//! | `churn` | `after` (required), `code` (default 408), `duration` | every connected socket is closed with `code` `after` its authentication |
//! | `stale_close` | `user`, `code` (440 or 401; default 440), `after` (default 1s) | at the user's next replacement, the old socket stays open and gets `code` `after` later |
//! | `stream_error` | `user`, `code`, `child`, `type` (`code` or `child` required; `type` needs `child`) | a Baileys stream:error node, then a close: code attribute first, then `conflict` → 440, else 500 |
//! | `messages` | `user`, `every` (default 20s), `duration` | a message frame on the user's connected socket every `every` |
//! | `foreign_tab` | `user`, `target` (required, another user), `duration` (required), `poll_interval` (default 5s), `button` (`disconnect`, `connect` or `none`; default `disconnect`) | for `duration`, a tab logged in as `user` (carrying `user`'s session cookie) reads `target`'s status every `poll_interval` and presses `target`'s `button` after each read |
//!
//! Close codes: 401, 403, 408, 411, 428, 440, 500, 503, 515.
//!
//! Checks across the timeline: every occurrence (repetitions included) fires
//! no later than `duration`; a repeated window is not longer than its period;
//! `instance` names an instance that is running by then (`instances` plus the
//! `start_instance` events so far); `close_tabs` closes no more tabs than are
//! open; `pair` is for a user that is unpaired (or logged out) by then.
//!
//! # Expectations
//!
//! `[expect.<preset>]` (any preset name: a built-in `legacy`, `seed-fix`,
//! `stable`, or a file stem in the project's `presets/`, looked up when the
//! scenario runs; `check` runs every preset named) holds
//! `holds` and/or `violates`: lists of invariant ids (`single_socket`,
//! `reconnect_cooldown`, `max_attempts`, `backoff_schedule`,
//! `status_read_only`, `eventually_connected`, `store_matches_truth`,
//! `no_zombie_work`, `settles`, `terminal_codes_respected`,
//! `dead_link_detected`, `credentials_kept`, `status_private`). `holds = ["all"]` is expanded to every invariant not in
//! `violates`. A preset without an entry must hold every invariant.
//!
//! Every field and action, with units, defaults and limits: docs/scenarios.md.
//!
//! # Writing
//!
//! [`to_toml`] writes a scenario back in this format (what `loopguard
//! explore` saves); it reads back to the same scenario.
//!
//! # Overrides
//!
//! `[supervisor.overrides]` keys are policy knobs
//! ([`Policy`](crate::supervisor::policy::Policy)); each is applied to every
//! preset when the file is read, so an unknown knob or a bad value is refused
//! at its line whichever preset later runs.

mod diagnostic;
mod duration;
mod error;
pub mod limits;
mod model;
mod parse;
mod read;
pub mod schema;
mod syntax;
mod write;

pub use diagnostic::{render, render_at};
pub use duration::{format_duration, parse_duration};
pub use error::ScenarioError;
pub use model::*;
pub use parse::{
    load, load_dir, parse, ACTIONS, DEFAULT_RESTART_DELAY, LINK_NAMES, STALE_CLOSE_CODES,
};
/// The keys each part of a scenario file accepts, as the parser checks them
/// (docs/scenarios.md is tested against these).
pub mod keys {
    pub use super::parse::{
        ENDPOINT_KEYS, EVENT_KEYS, EXPECT_KEYS, NETWORK_KEYS, REPEAT_KEYS, SUPERVISOR_KEYS,
        TABS_KEYS, TOP_KEYS, USER_KEYS,
    };
}
pub use write::to_toml;
