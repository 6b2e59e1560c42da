//! Every knob of the reference's "Configuración Ajustable" section, plus the
//! behaviour switches that tell the three presets apart.
//!
//! Presets are data files under `presets/` (compiled in); a scenario may
//! override any knob by name.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How a supervisor behaves. All durations read like `30s` or `2m` in TOML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Preset name, for reports.
    pub name: String,
    /// Auto-reconnector period (reference: `setInterval(..., 30000)`).
    #[serde(with = "humantime_serde")]
    pub check_interval: Duration,
    /// Minimum time after a user's last disconnect before the auto-reconnector
    /// reconnects it (reference: `timeSinceDisconnect < 60000`). Zero: none.
    #[serde(with = "humantime_serde")]
    pub cooldown: Duration,
    /// Backoff attempts per episode before giving up (reference: 5).
    pub max_attempts: u32,
    /// First backoff delay; doubled per attempt (reference: 2 s).
    #[serde(with = "humantime_serde")]
    pub backoff_base: Duration,
    /// Largest backoff delay (reference: 60 s).
    #[serde(with = "humantime_serde")]
    pub backoff_cap: Duration,
    /// Random extra delay added to each backoff, up to this much, drawn from
    /// the run's seeded RNG. Zero keeps the schedule exact.
    #[serde(with = "humantime_serde")]
    pub backoff_jitter: Duration,
    /// Keep-alive ping period (reference: 30 s).
    #[serde(with = "humantime_serde")]
    pub keepalive_interval: Duration,
    /// A link is dead when nothing was received for `keepalive_interval` plus
    /// this much; the session then closes with 408.
    #[serde(with = "humantime_serde")]
    pub dead_link_grace: Duration,
    /// How long a dial plus WebSocket handshake may take before it counts as
    /// a failed attempt (408).
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Close codes after which the session does not back off.
    pub stop_codes: Vec<u16>,
    /// `GET /status` starts a connection when the user is not connected
    /// (the original loop's third root cause).
    pub status_starts_connection: bool,
    /// The auto-reconnector only reconnects users that are `DISCONNECTED`
    /// and not connected; when false it reconnects everyone it walks.
    pub auto_checks_state: bool,
    /// A 440 ends the session and deletes it from memory, taking its
    /// last-disconnect time with it (the `seed-fix` fault).
    pub conflict_deletes_session: bool,
    /// `connect` does nothing for a user whose session is connecting or
    /// waiting for a QR scan (a connected session is always left alone); when
    /// false a busy session gets a second socket beside it.
    pub connect_skips_busy: bool,
    /// An episode's attempt count resets only once a connection has stayed
    /// up this long; zero resets it as soon as a connection opens.
    #[serde(with = "humantime_serde")]
    pub episode_min_uptime: Duration,
    /// Users that were logged out (401), or closed with 403 (forbidden) or
    /// 411 (multi-device mismatch), are not reconnected automatically (nor
    /// at start-up) until a person presses connect or re-pairs.
    pub skip_logged_out: bool,
    /// Users without credentials are connected only by a person (the connect
    /// button), and a QR session that ends unscanned (its refs ran out, or
    /// its link dropped) is not retried.
    pub unpaired_needs_person: bool,
    /// A socket that was already replaced still runs its close handler
    /// against the user's current session: it marks it DISCONNECTED and
    /// schedules a retry, which replaces the live socket in turn. This is the
    /// 440 ping-pong of the original loop.
    pub stale_close_acts: bool,
    /// A backoff retry looks at the user's state first and does nothing if
    /// the user is connected; when false it opens a new socket whatever the
    /// state, as the original service's retry called the initializer directly.
    pub retry_checks_state: bool,
    /// After the dashboard's disconnect button the auto-reconnector leaves
    /// the user alone until the connect button is pressed.
    pub manual_disconnect_holds: bool,
    /// Own each user through a lease row in the store before connecting it.
    pub lease: bool,
    /// How long a lease lasts unless renewed (renewed with every keep-alive).
    #[serde(with = "humantime_serde")]
    pub lease_ttl: Duration,
    /// One line on what this preset models, for `loopguard presets` and
    /// reports. Default: empty.
    #[serde(default)]
    pub description: String,
    /// On start-up, a user whose last disconnect (kept in the store) lies
    /// within `cooldown` is not connected at once; the auto-reconnector
    /// connects it once the cooldown has passed. False is the bug where a
    /// restart right after a 440 restarts the fight. Default: false.
    #[serde(default)]
    pub startup_respects_cooldown: bool,
    /// The process exits on these close codes; the world restarts it after
    /// the scenario's `restart_delay`, as a container restart policy does
    /// (go-whatsapp-web-multidevice#449). Default: none.
    #[serde(default)]
    pub exit_on_codes: Vec<u16>,
    /// Init paths that connect the enabled users at start-up; two race for
    /// the same user, as a pre-warm beside auto-restore does (nudlers#105).
    /// Default: 1.
    #[serde(default = "one")]
    pub init_paths: u32,
    /// Each init path beyond the first owns the user's session: its own
    /// socket, session state and close handler, as two clients created by
    /// two code paths for one user are (enudler/nudlers#105: each handler
    /// reconnects on 440, so the two sockets replace each other for ever).
    /// False: the init paths share one session map, and a later connect
    /// takes the user's session over. Default: false.
    #[serde(default)]
    pub init_paths_own_sessions: bool,
    /// On these close codes the supervisor deletes the user's stored
    /// credentials (baileys-api#330: the rolling-deploy loser's 440).
    /// Default: none.
    #[serde(default)]
    pub wipe_credentials_on_codes: Vec<u16>,
    /// Run the auto-reconnector at all. Default: true.
    #[serde(default = "yes")]
    pub auto_reconnect: bool,
    /// A person's connect press starts a new episode: the pending backoff
    /// retry is cancelled and the attempt count starts again. False is the
    /// bug `explore` found in `stable` (seed 58): a press during a backoff
    /// wait made an attempt that failed and gave up on the old episode's
    /// count, and the old retry then fired on the old schedule. Default: false
    /// (the reference's manual connect called the initializer beside its
    /// pending `setTimeout` retry).
    #[serde(default)]
    pub manual_connect_restarts_episode: bool,
    /// The status API is private: every request carries the caller's
    /// session token (cookie `session=...`, the app's login cookie); a read
    /// or press for another user is refused with 403, an unknown user gets
    /// 404 and a malformed `user` 400. False is the reference's open API,
    /// where anyone reads and presses for anyone. Default: false.
    #[serde(default)]
    pub status_api_auth: bool,
    /// Force a reconnect of a connected session that has received no
    /// incoming message (any frame after `connected` other than a pong) for
    /// this long. Checked at each keep-alive tick, as openclaw's watchdog
    /// checks from a timer; the session is closed by the client (428,
    /// Baileys' "connection closed") and handled like any other close.
    /// Zero: off. Default: off.
    #[serde(default, with = "humantime_serde")]
    pub idle_watchdog: Duration,
    /// A newly connected socket restarts the idle watchdog's timer. False is
    /// openclaw#60337: the timer starts once per process and only a message
    /// moves it, so after the first expiry every fresh socket is already
    /// "idle" and is forced off at its first keep-alive tick (reconnects
    /// every ~63 s). Default: true.
    #[serde(default = "yes")]
    pub idle_watchdog_resets_on_reconnect: bool,
    /// When the client gives a socket up (dead link, handshake timeout, a
    /// failed keep-alive write, the idle watchdog) it reconnects without
    /// closing it: the old socket stays open and its reader and keep-alive
    /// tasks keep running, unseen by the supervisor, until the endpoint
    /// closes it (nanocoai/nanoclaw#2905: 571k reconnects and a 4 GB heap
    /// after 14.6 h). Default: false.
    #[serde(default)]
    pub leaks_old_socket: bool,
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

/// Names of the shipped presets.
pub const PRESET_NAMES: [&str; 3] = ["legacy", "seed-fix", "stable"];

/// A preset's TOML text, compiled into the binary.
pub fn preset_source(name: &str) -> Option<&'static str> {
    match name {
        "legacy" => Some(include_str!("../../presets/legacy.toml")),
        "seed-fix" => Some(include_str!("../../presets/seed-fix.toml")),
        "stable" => Some(include_str!("../../presets/stable.toml")),
        _ => None,
    }
}

/// Why a preset or an override could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("unknown preset `{0}` (known: legacy, seed-fix, stable)")]
    UnknownPreset(String),
    /// A preset name found neither in the project's `presets/` nor among
    /// the built-ins.
    #[error("unknown preset `{name}` (known: {known})")]
    NotFound { name: String, known: String },
    #[error("{file}:{line}: {message}")]
    Invalid {
        file: String,
        line: usize,
        message: String,
    },
}

impl Policy {
    /// Loads a shipped preset.
    pub fn preset(name: &str) -> Result<Policy, PolicyError> {
        let source = preset_source(name).ok_or_else(|| PolicyError::UnknownPreset(name.into()))?;
        Policy::from_toml(&format!("presets/{name}.toml"), source)
    }

    /// Parses a policy file; an unknown knob or a bad value is refused with
    /// its file, line and knob.
    /// The file is at most [`MAX_FILE_BYTES`](crate::scenario::limits::MAX_FILE_BYTES)
    /// and every knob within [`Policy::check_limits`]; every error has a
    /// line (1 when the problem is the whole file, such as a missing knob).
    pub fn from_toml(file: &str, source: &str) -> Result<Policy, PolicyError> {
        let invalid = |line: usize, message: String| PolicyError::Invalid {
            file: file.to_string(),
            line,
            message,
        };
        if let Err((at, r)) = crate::scenario::limits::file_text(source.as_bytes()) {
            let line = crate::scenario::limits::line_at(source.as_bytes(), at);
            return Err(invalid(line, format!("{} ({})", r.message, r.help)));
        }
        let policy: Policy = toml::from_str(source).map_err(|e| {
            invalid(
                e.span().map_or(1, |s| line_of(source, s.start)),
                e.message().to_string(),
            )
        })?;
        policy.check_limits().map_err(|(knob, why)| {
            invalid(
                super::policy_limits::knob_line(source, knob),
                format!("{knob}: {why}"),
            )
        })?;
        Ok(policy)
    }

    /// This policy with `overrides` (knob name → TOML value) applied.
    pub fn with_overrides(&self, overrides: &toml::Table) -> Result<Policy, toml::de::Error> {
        let mut table = toml::Table::try_from(self)
            .map_err(|e| <toml::de::Error as serde::de::Error>::custom(e.to_string()))?;
        for (k, v) in overrides {
            table.insert(k.clone(), v.clone());
        }
        let policy: Policy = table.try_into()?;
        policy.check_limits().map_err(|(knob, why)| {
            <toml::de::Error as serde::de::Error>::custom(format!("{knob}: {why}"))
        })?;
        Ok(policy)
    }

    /// Delay before backoff attempt `attempt` (1-based), without jitter:
    /// `min(base·2^(attempt−1), cap)`.
    pub fn backoff_delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.backoff_base
            .saturating_mul(factor)
            .min(self.backoff_cap)
    }

    pub fn is_stop_code(&self, code: u16) -> bool {
        self.stop_codes.contains(&code)
    }

    /// The dead-link timeout: nothing received for this long closes with 408.
    pub fn dead_link_after(&self) -> Duration {
        self.keepalive_interval + self.dead_link_grace
    }
}

/// 1-based line of a byte offset.
pub fn line_of(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_preset_loads() {
        for name in PRESET_NAMES {
            let p = Policy::preset(name).unwrap();
            assert_eq!(p.name, name);
        }
    }

    #[test]
    fn stable_backoff_doubles_from_two_seconds_to_a_sixty_second_cap() {
        let p = Policy::preset("stable").unwrap();
        let delays: Vec<u64> = (1..=7).map(|n| p.backoff_delay(n).as_secs()).collect();
        assert_eq!(delays, [2, 4, 8, 16, 32, 60, 60]);
    }

    #[test]
    fn an_unknown_knob_is_refused_with_its_line_and_name() {
        let src = Policy::preset_text("stable").replace("max_attempts = 5", "max_atempts = 5");
        let err = Policy::from_toml("x.toml", &src).unwrap_err().to_string();
        assert!(err.contains("max_atempts"), "{err}");
        let line = src
            .lines()
            .position(|l| l.starts_with("max_atempts"))
            .unwrap()
            + 1;
        assert!(err.starts_with(&format!("x.toml:{line}:")), "{err}");
    }

    #[test]
    fn a_bad_duration_is_refused_with_its_line() {
        let src = Policy::preset_text("stable").replace("cooldown = \"60s\"", "cooldown = \"-5s\"");
        let err = Policy::from_toml("x.toml", &src).unwrap_err().to_string();
        let line = src.lines().position(|l| l.starts_with("cooldown")).unwrap() + 1;
        assert!(err.starts_with(&format!("x.toml:{line}:")), "{err}");
    }

    #[test]
    fn an_override_replaces_one_knob() {
        let p = Policy::preset("stable").unwrap();
        let mut t = toml::Table::new();
        t.insert("cooldown".into(), toml::Value::String("90s".into()));
        let q = p.with_overrides(&t).unwrap();
        assert_eq!(q.cooldown, Duration::from_secs(90));
        assert_eq!(q.max_attempts, p.max_attempts);
    }

    impl Policy {
        fn preset_text(name: &str) -> String {
            preset_source(name).unwrap().to_string()
        }
    }
}
