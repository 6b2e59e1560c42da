//! From TOML text to a validated [`Scenario`]. The document is walked as a
//! spanned tree (`toml::de::DeTable`), so every error carries the line of the
//! key or value it is about.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::duration::{format_duration, parse_duration};
use super::error::{join, ScenarioError};
use super::limits::{self, Refusal};
use super::model::*;
use crate::close_code::CloseCode;
use crate::invariants::INVARIANT_IDS;
use crate::supervisor::policy::{line_of, Policy, PRESET_NAMES};

/// Link names as written in files.
pub const LINK_NAMES: [&str; 2] = ["app-wa", "browser-app"];

/// Every `action` word and the parameters it takes (besides `at`, `action`
/// and `repeat`, which every event takes).
pub const ACTIONS: [(&str, &[&str]); 24] = [
    ("close", &["user", "code"]),
    ("refuse", &["user", "count", "code"]),
    ("unavailable", &["duration"]),
    ("logout", &["user"]),
    ("pair", &["user"]),
    ("ping_silence", &["duration"]),
    ("slow_handshake", &["delay", "duration"]),
    ("partition", &["link", "duration"]),
    ("flap", &["link", "duration", "down", "up", "jitter"]),
    ("latency", &["link", "min", "max", "duration"]),
    ("loss", &["link", "rate", "duration"]),
    ("crash", &["instance", "restart_after"]),
    ("start_instance", &[]),
    ("open_tabs", &["count"]),
    ("close_tabs", &["count"]),
    ("connect", &["user", "instance"]),
    ("disconnect", &["user", "instance"]),
    (
        "foreign_tab",
        &["user", "target", "duration", "poll_interval", "button"],
    ),
    ("rival_device", &["user", "after", "times", "until"]),
    ("stall", &["instance", "duration"]),
    ("churn", &["after", "code", "duration"]),
    ("stale_close", &["user", "code", "after"]),
    ("stream_error", &["user", "code", "child", "type"]),
    ("messages", &["user", "every", "duration"]),
];

/// Codes a `stale_close` may deliver: a late replacement, or a late logout.
pub const STALE_CLOSE_CODES: [u16; 2] = [440, 401];

pub const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "seed",
    "duration",
    "quiet_tail",
    "restart_delay",
    "tick",
    "instances",
    "users",
    "supervisor",
    "tabs",
    "network",
    "endpoint",
    "events",
    "expect",
];
pub const USER_KEYS: &[&str] = &["id", "paired", "enabled"];
pub const SUPERVISOR_KEYS: &[&str] = &["preset", "overrides"];
pub const TABS_KEYS: &[&str] = &["count", "poll_interval", "jitter", "user"];
pub const NETWORK_KEYS: &[&str] = &["min_latency", "max_latency"];
pub const ENDPOINT_KEYS: &[&str] = &["idle_timeout"];
pub const EVENT_KEYS: &[&str] = &["at", "action", "repeat"];
pub const REPEAT_KEYS: &[&str] = &["every", "times"];
pub const EXPECT_KEYS: &[&str] = &["holds", "violates"];

/// Docker's first restart delay (it doubles from there; a scenario's delay
/// stays fixed).
pub const DEFAULT_RESTART_DELAY: Duration = Duration::from_millis(100);

/// Policy knobs that are timer periods: zero would spin forever.
const NONZERO_KNOBS: &[&str] = &["check_interval", "keepalive_interval"];

/// Reads and parses one scenario file (at most
/// [`MAX_FILE_BYTES`](limits::MAX_FILE_BYTES), UTF-8).
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let bytes = super::read::read_capped(path)?;
    let source = super::read::utf8(path, &bytes)?;
    parse(path, source)
}

/// Parses scenario text; `path` names it in errors and gives the default name.
/// Every error carries the text, for [`render`](super::render).
pub fn parse(path: &Path, source: &str) -> Result<Scenario, ScenarioError> {
    let checked = match limits::file_text(source.as_bytes()) {
        Ok(_) => Parser {
            file: path,
            text: source,
        }
        .scenario(),
        Err((at, r)) => {
            Err(
                ScenarioError::at(path, limits::line_at(source.as_bytes(), at), "", r.message)
                    .with_help(r.help)
                    .with_span(at..at),
            )
        }
    };
    checked.map_err(|e| e.with_text(&Arc::from(source)))
}

/// Every `*.toml` in `dir`, in file-name order, each parsed on its own so a
/// bad file does not stop the others. An unreadable directory is one entry.
pub fn load_dir(dir: &Path) -> Vec<(PathBuf, Result<Scenario, ScenarioError>)> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return vec![(dir.to_path_buf(), Err(ScenarioError::read(dir, e)))],
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && !p.is_dir())
        .collect();
    paths.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    paths
        .into_iter()
        .map(|p| {
            let r = load(&p);
            (p, r)
        })
        .collect()
}

type Result<T, E = ScenarioError> = std::result::Result<T, E>;
type Val<'i> = Spanned<DeValue<'i>>;

struct Parser<'a> {
    file: &'a Path,
    text: &'a str,
}

/// A value in the document, with the path that names it.
struct Node<'p, 'i> {
    p: &'p Parser<'p>,
    path: String,
    val: &'p Val<'i>,
}

/// A table in the document, with the path that names it.
struct Table<'p, 'i> {
    p: &'p Parser<'p>,
    path: String,
    span: Range<usize>,
    map: &'p DeTable<'i>,
}

impl Parser<'_> {
    fn line(&self, span: &Range<usize>) -> usize {
        line_of(self.text, span.start)
    }

    fn err(&self, span: &Range<usize>, field: &str, message: impl Into<String>) -> ScenarioError {
        ScenarioError::at(self.file, self.line(span), field, message).with_span(span.clone())
    }

    /// A value refused by a [limit](limits).
    fn refuse(&self, span: &Range<usize>, field: &str, r: Refusal) -> ScenarioError {
        self.err(span, field, r.message).with_help(r.help)
    }

    fn syntax(&self, e: toml::de::Error) -> ScenarioError {
        let found = e.span().unwrap_or(0..0);
        let (span, help) = super::syntax::locate(self.text, found);
        let line = self.line(&span);
        // A syntax error at a key (a duplicate key, say) names it.
        let at = self.text.get(span.clone()).unwrap_or("").trim();
        let is_key = !at.is_empty()
            && at
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        let message = format!("invalid TOML: {}", e.message());
        let err = if is_key {
            ScenarioError::at(self.file, line, at, message)
        } else {
            ScenarioError::at(self.file, line, "", message)
        };
        let err = err.with_span(span);
        match help {
            Some(h) => err.with_help(h),
            None => err,
        }
    }

    fn scenario(&self) -> Result<Scenario> {
        let doc = DeTable::parse(self.text).map_err(|e| self.syntax(e))?;
        if doc.get_ref().is_empty() {
            return Err(self.empty());
        }
        limits::tree(doc.get_ref()).map_err(|(span, field, r)| self.refuse(&span, &field, r))?;
        let root = Table {
            p: self,
            path: String::new(),
            span: 0..0,
            map: doc.get_ref(),
        };
        root.check_keys(TOP_KEYS, "")?;

        let name = match root.get("name") {
            Some(n) => {
                let s = n.str()?;
                limits::folder_name(s).map_err(|r| n.refuse(r))?;
                s.to_string()
            }
            None => limits::folder_name_from(
                &self
                    .file
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ),
        };
        let description = root
            .get("description")
            .map(|n| n.str().map(str::to_string))
            .transpose()?;
        let seed = root.get("seed").map(|n| n.u64()).transpose()?.unwrap_or(1);
        let duration = root.duration_or("duration", Duration::from_secs(600))?;
        if let Some(n) = root.get("duration") {
            limits::run_duration(duration).map_err(|r| n.refuse(r))?;
        }
        let quiet_tail = root.duration_or("quiet_tail", Duration::from_secs(300))?;
        let restart_delay = root.duration_or("restart_delay", DEFAULT_RESTART_DELAY)?;
        let tick = root.nonzero_duration_or("tick", Duration::from_millis(10))?;
        if let Some(n) = root.get("tick") {
            limits::tick(tick, duration).map_err(|r| n.refuse(r))?;
        }
        let instances = match root.get("instances") {
            Some(n) => {
                let v = n.u32()?;
                if v == 0 {
                    return Err(n.err("at least one app instance must run from the start"));
                }
                limits::at_once("app instances", v.into(), limits::MAX_INSTANCES)
                    .map_err(|r| n.refuse(r))?;
                v
            }
            None => 1,
        };

        let users = self.users(&root)?;
        let supervisor = self.supervisor(&root)?;
        let tabs = self.tabs(&root, &users)?;
        let network = self.network(&root)?;
        let endpoint = self.endpoint(&root)?;
        let (events, metas) = self.events(&root, &users)?;
        let expect = self.expect(&root)?;

        let scenario = Scenario {
            source: self.file.to_path_buf(),
            name,
            description: description.unwrap_or_default(),
            seed,
            duration,
            quiet_tail,
            tick,
            users,
            instances,
            supervisor,
            tabs,
            network,
            events,
            expect,
            restart_delay,
            endpoint,
        };
        self.check_size(&scenario, &metas, &root)?;
        self.check_timeline(&scenario, &metas, root.get("duration").is_some())?;
        Ok(scenario)
    }

    /// A file with nothing in it (or only comments) is refused: it would run
    /// the defaults and pass, testing nothing.
    fn empty(&self) -> ScenarioError {
        let what = if self.text.trim().is_empty() {
            "the file is empty"
        } else {
            "the file has only comments"
        };
        ScenarioError::at(
            self.file,
            1,
            "",
            format!("{what}: a scenario needs at least one setting"),
        )
        .with_span(0..0)
        .with_help(
            "start from a shipped scenario (scenarios/*.toml): set `duration` and add \
                 [[events]] for the faults to replay",
        )
    }

    /// The [limits](limits) that need the whole scenario: how many event
    /// occurrences the timeline expands to, and how many steps the run is.
    /// Checked before anything is expanded or added up.
    fn check_size(&self, s: &Scenario, metas: &[EventMeta], root: &Table) -> Result<()> {
        let mut total = 0u64;
        for (e, m) in s.events.iter().zip(metas) {
            total += u64::from(e.repeat.map_or(1, |r| r.times));
            if let Err(r) = limits::occurrences(total) {
                let line = m.repeat_line.unwrap_or(m.line);
                return Err(ScenarioError::at(
                    self.file,
                    line,
                    &format!("{}.repeat.times", m.path),
                    r.message,
                )
                .with_help(r.help));
            }
        }
        if let Err(r) = limits::steps(s.run_length(), s.tick) {
            let at = root.get("tick").or_else(|| root.get("duration"));
            return Err(match at {
                Some(n) => n.refuse(r),
                None => ScenarioError::at(self.file, 1, "tick", r.message).with_help(r.help),
            });
        }
        Ok(())
    }

    fn users(&self, root: &Table) -> Result<Vec<UserSpec>> {
        let Some(node) = root.get("users") else {
            return Ok(vec![UserSpec {
                id: "alice".into(),
                paired: true,
                enabled: true,
            }]);
        };
        let items = node.array("an array of tables ([[users]])")?;
        if items.is_empty() {
            return Err(node.err("at least one user is needed (leave `users` out for `alice`)"));
        }
        if let Some(extra) = items.get(limits::MAX_USERS) {
            return Err(extra.refuse(Refusal {
                message: format!("{} users, more than {}", items.len(), limits::MAX_USERS),
                help: format!("a scenario has at most {} users", limits::MAX_USERS),
            }));
        }
        let mut users: Vec<UserSpec> = Vec::new();
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for item in &items {
            let t = item.table(USER_KEYS, "")?;
            let id_node = t
                .get("id")
                .ok_or_else(|| t.missing("id", "every user needs an id"))?;
            let id = id_node.str()?;
            if id.is_empty() {
                return Err(id_node.err("a user id must not be empty"));
            }
            if let Some(c) = id
                .chars()
                .find(|c| !(c.is_alphanumeric() || "._-@+".contains(*c)))
            {
                return Err(id_node.err(format!(
                    "user id \"{id}\" has {c:?}: use letters, digits and . _ - @ +"
                )));
            }
            if let Some(first) = seen.insert(id.to_string(), id_node.line()) {
                return Err(
                    id_node.err(format!("duplicate user id `{id}` (first at line {first})"))
                );
            }
            users.push(UserSpec {
                id: id.to_string(),
                paired: t
                    .get("paired")
                    .map(|n| n.bool())
                    .transpose()?
                    .unwrap_or(true),
                enabled: t
                    .get("enabled")
                    .map(|n| n.bool())
                    .transpose()?
                    .unwrap_or(true),
            });
        }
        Ok(users)
    }

    fn supervisor(&self, root: &Table) -> Result<SupervisorSpec> {
        let mut spec = SupervisorSpec {
            preset: "stable".into(),
            overrides: toml::Table::new(),
        };
        let Some(node) = root.get("supervisor") else {
            return Ok(spec);
        };
        let t = node.table(SUPERVISOR_KEYS, "")?;
        if let Some(n) = t.get("preset") {
            let name = n.str()?;
            check_preset(&n, name)?;
            spec.preset = name.to_string();
        }
        if let Some(n) = t.get("overrides") {
            spec.overrides = self.overrides(&n)?;
        }
        Ok(spec)
    }

    /// Each knob is applied to every preset on its own, so an unknown or bad
    /// one is reported at its own line.
    fn overrides(&self, node: &Node) -> Result<toml::Table> {
        let t = node.any_table()?;
        let presets: Vec<Policy> = PRESET_NAMES
            .iter()
            .map(|n| Policy::preset(n).expect("shipped presets load"))
            .collect();
        let shape = toml::Table::try_from(&presets[0]).expect("a policy serializes");
        let knobs: Vec<&str> = shape
            .keys()
            .map(String::as_str)
            .filter(|k| !matches!(*k, "name" | "description"))
            .collect();
        let mut out = toml::Table::new();
        for (key, val) in t.entries() {
            let k: &str = key.get_ref();
            let field = join(&t.path, k);
            let n = Node {
                p: self,
                path: field.clone(),
                val,
            };
            if k == "name" || k == "description" {
                return Err(t.unknown_key(
                    key,
                    &format!("`{k}` describes the preset, it is not a knob"),
                    &knobs,
                ));
            }
            let Some(example) = shape.get(k) else {
                return Err(t.unknown_key(key, &format!("unknown knob `{k}`"), &knobs));
            };
            let value = n.to_value()?;
            if example.is_str() {
                // Every string knob but `name` is a duration: say what is wrong
                // in the same words as everywhere else in the file.
                let d = n.duration()?;
                if d.is_zero() && NONZERO_KNOBS.contains(&k) {
                    return Err(n.err(format!("`{k}` is a timer period and must not be zero")));
                }
            }
            let one = toml::Table::from_iter([(k.to_string(), value.clone())]);
            for p in &presets {
                p.with_overrides(&one)
                    .map_err(|e| n.err(format!("bad value for knob `{k}`: {}", e.message())))?;
            }
            out.insert(k.to_string(), value);
        }
        for p in &presets {
            p.with_overrides(&out)
                .map_err(|e| node.err(format!("over preset `{}`: {}", p.name, e.message())))?;
        }
        Ok(out)
    }

    fn tabs(&self, root: &Table, users: &[UserSpec]) -> Result<TabsSpec> {
        let mut tabs = TabsSpec {
            count: 0,
            poll_interval: Duration::from_secs(5),
            jitter: Duration::ZERO,
            user: None,
        };
        let Some(node) = root.get("tabs") else {
            return Ok(tabs);
        };
        let t = node.table(TABS_KEYS, "")?;
        if let Some(n) = t.get("count") {
            tabs.count = n.u32()?;
            limits::at_once("tabs", tabs.count.into(), limits::MAX_TABS)
                .map_err(|r| n.refuse(r))?;
        }
        tabs.poll_interval = t.nonzero_duration_or("poll_interval", tabs.poll_interval)?;
        tabs.jitter = t.duration_or("jitter", tabs.jitter)?;
        if let Some(n) = t.get("user") {
            tabs.user = Some(user_ref(&n, users)?);
        }
        Ok(tabs)
    }

    fn network(&self, root: &Table) -> Result<NetworkSpec> {
        let mut net = NetworkSpec {
            min_latency: Duration::from_millis(1),
            max_latency: Duration::from_millis(20),
        };
        let Some(node) = root.get("network") else {
            return Ok(net);
        };
        let t = node.table(NETWORK_KEYS, "")?;
        net.min_latency = t.duration_or("min_latency", net.min_latency)?;
        net.max_latency = t.duration_or("max_latency", net.max_latency)?;
        if net.min_latency > net.max_latency {
            let (min, max) = (
                format_duration(net.min_latency),
                format_duration(net.max_latency),
            );
            return Err(match (t.get("max_latency"), t.get("min_latency")) {
                (Some(n), _) => n.err(format!("max_latency {max} is below min_latency {min}")),
                (None, Some(n)) => n.err(format!(
                    "min_latency {min} is above max_latency {max} (the default; set max_latency too)"
                )),
                (None, None) => unreachable!("the defaults are ordered"),
            });
        }
        Ok(net)
    }

    fn endpoint(&self, root: &Table) -> Result<EndpointSpec> {
        let mut spec = EndpointSpec::default();
        let Some(node) = root.get("endpoint") else {
            return Ok(spec);
        };
        let t = node.table(ENDPOINT_KEYS, "")?;
        if let Some(n) = t.get("idle_timeout") {
            spec.idle_timeout = match n.val.get_ref() {
                DeValue::String(s) if s.as_ref() == "off" => None,
                _ => Some(n.nonzero_duration().map_err(|e| {
                    e.with_help("a duration such as \"90s\", or \"off\" for no idle timeout")
                })?),
            };
        }
        Ok(spec)
    }

    fn events(&self, root: &Table, users: &[UserSpec]) -> Result<(Vec<EventSpec>, Vec<EventMeta>)> {
        let Some(node) = root.get("events") else {
            return Ok((Vec::new(), Vec::new()));
        };
        let items = node.array("an array of tables ([[events]])")?;
        let mut events = Vec::new();
        let mut metas = Vec::new();
        for item in &items {
            let (e, m) = self.event(item, users)?;
            events.push(e);
            metas.push(m);
        }
        Ok((events, metas))
    }

    fn event(&self, item: &Node, users: &[UserSpec]) -> Result<(EventSpec, EventMeta)> {
        let t = item.any_table()?;
        let action_node = t
            .get("action")
            .ok_or_else(|| t.missing("action", "every event needs one, e.g. action = \"close\""))?;
        let word = action_node.str()?;
        let Some((_, params)) = ACTIONS.iter().find(|(name, _)| *name == word) else {
            let known: Vec<&str> = ACTIONS.iter().map(|(n, _)| *n).collect();
            return Err(action_node.err(format!(
                "unknown action `{word}` ({}known: {})",
                suggestion(word, &known),
                known.join(", ")
            )));
        };
        let allowed: Vec<&str> = EVENT_KEYS.iter().chain(params.iter()).copied().collect();
        t.check_keys(&allowed, &format!(" for action `{word}`"))?;

        let at_node = t
            .get("at")
            .ok_or_else(|| t.missing("at", "every event needs a time, e.g. at = \"2m\""))?;
        let at = at_node.duration()?;
        let repeat = match t.get("repeat") {
            None => None,
            Some(n) => {
                let r = n.table(REPEAT_KEYS, "")?;
                let every = r.get("every").ok_or_else(|| {
                    r.missing("every", "e.g. repeat = { every = \"3m\", times = 5 }")
                })?;
                let times = r.get("times").ok_or_else(|| {
                    r.missing("times", "e.g. repeat = { every = \"3m\", times = 5 }")
                })?;
                let every = every.nonzero_duration()?;
                let times_v = times.u32()?;
                if times_v == 0 {
                    return Err(times.err("must be at least 1 (the first firing counts)"));
                }
                Some(Repeat {
                    every,
                    times: times_v,
                })
            }
        };

        let user = || -> Result<String> {
            match t.get("user") {
                Some(n) => user_ref(&n, users),
                None => Ok(users[0].id.clone()),
            }
        };
        let code = || -> Result<u16> {
            let n = t
                .get("code")
                .ok_or_else(|| t.missing("code", "e.g. code = 440"))?;
            let c = n.int()?;
            match u16::try_from(c).ok().and_then(CloseCode::from_code) {
                Some(k) => Ok(k.code()),
                None => Err(n.err(format!(
                    "unknown close code {c} (known: {})",
                    list(&CloseCode::ALL.map(CloseCode::code))
                ))),
            }
        };
        let window = |key: &str| -> Result<Duration> {
            t.get(key)
                .ok_or_else(|| t.missing(key, &format!("`{word}` needs it, e.g. {key} = \"2m\"")))?
                .nonzero_duration()
        };
        let count = || -> Result<u32> {
            match t.get("count") {
                None => Ok(1),
                Some(n) => match n.u32()? {
                    0 => Err(n.err("must be at least 1")),
                    c => Ok(c),
                },
            }
        };
        let link = || -> Result<Link> {
            let Some(n) = t.get("link") else {
                return Ok(Link::AppWa);
            };
            match n.str()? {
                "app-wa" => Ok(Link::AppWa),
                "browser-app" => Ok(Link::BrowserApp),
                other => Err(n.err(format!(
                    "unknown link `{other}` ({}known: {})",
                    suggestion(other, &LINK_NAMES),
                    LINK_NAMES.join(", ")
                ))),
            }
        };
        let instance = || -> Result<u32> {
            match t.get("instance") {
                None => Ok(1),
                Some(n) => match n.u32()? {
                    0 => Err(n.err("instances are numbered from 1")),
                    i => Ok(i),
                },
            }
        };

        let action = match word {
            "close" => Action::Close {
                user: user()?,
                code: code()?,
            },
            "refuse" => Action::Refuse {
                user: user()?,
                count: count()?,
                code: code()?,
            },
            "unavailable" => Action::Unavailable {
                duration: window("duration")?,
            },
            "logout" => Action::Logout { user: user()? },
            "pair" => Action::Pair { user: user()? },
            "ping_silence" => Action::PingSilence {
                duration: window("duration")?,
            },
            "slow_handshake" => Action::SlowHandshake {
                delay: window("delay")?,
                duration: window("duration")?,
            },
            "partition" => Action::Partition {
                link: link()?,
                duration: window("duration")?,
            },
            "flap" => Action::Flap {
                link: link()?,
                duration: window("duration")?,
                down: window("down")?,
                up: window("up")?,
                jitter: t.duration_or("jitter", Duration::ZERO)?,
            },
            "latency" => {
                let min = t
                    .get("min")
                    .ok_or_else(|| t.missing("min", "e.g. min = \"200ms\""))?;
                let max = t
                    .get("max")
                    .ok_or_else(|| t.missing("max", "e.g. max = \"2s\""))?;
                let (lo, hi) = (min.duration()?, max.duration()?);
                if lo > hi {
                    return Err(max.err(format!(
                        "max {} is below min {}",
                        format_duration(hi),
                        format_duration(lo)
                    )));
                }
                Action::Latency {
                    link: link()?,
                    min: lo,
                    max: hi,
                    duration: window("duration")?,
                }
            }
            "loss" => {
                let n = t
                    .get("rate")
                    .ok_or_else(|| t.missing("rate", "e.g. rate = 0.05"))?;
                let rate = n.f64()?;
                if !(0.0..=1.0).contains(&rate) {
                    return Err(n.err(format!("loss rate {rate} is outside 0..=1")));
                }
                Action::Loss {
                    link: link()?,
                    rate,
                    duration: window("duration")?,
                }
            }
            "crash" => Action::Crash {
                instance: instance()?,
                restart_after: t
                    .get("restart_after")
                    .map(|n| n.nonzero_duration())
                    .transpose()?,
            },
            "start_instance" => Action::StartInstance,
            "open_tabs" => Action::OpenTabs { count: count()? },
            "close_tabs" => Action::CloseTabs { count: count()? },
            "connect" => Action::Connect {
                user: user()?,
                instance: instance()?,
            },
            "disconnect" => Action::Disconnect {
                user: user()?,
                instance: instance()?,
            },
            "foreign_tab" => {
                let user = user()?;
                let n = t.get("target").ok_or_else(|| {
                    t.missing(
                        "target",
                        "the user whose status the tab reads, e.g. target = \"bob\"",
                    )
                })?;
                let target = user_ref(&n, users)?;
                if target == user {
                    return Err(n.err(format!(
                        "target `{target}` is the tab's own user; a foreign tab reads another user"
                    )));
                }
                let button = match t.get("button") {
                    None => Button::Disconnect,
                    Some(b) => {
                        let word = b.str()?;
                        Button::parse(word).ok_or_else(|| {
                            b.err(format!(
                                "unknown button `{word}` ({}known: {})",
                                suggestion(word, &Button::NAMES),
                                Button::NAMES.join(", ")
                            ))
                        })?
                    }
                };
                let poll_interval = match t.get("poll_interval") {
                    None => Duration::from_secs(5),
                    Some(n) => n.nonzero_duration()?,
                };
                Action::ForeignTab {
                    user,
                    target,
                    poll_interval,
                    button,
                    duration: window("duration")?,
                }
            }
            "rival_device" => {
                let user = user()?;
                let after = match t.get("after") {
                    None => Duration::from_secs(5),
                    Some(n) => n.nonzero_duration()?,
                };
                let until_node = t.get("until");
                let until = until_node.as_ref().map(|n| n.duration()).transpose()?;
                if let (Some(n), Some(u)) = (&until_node, until) {
                    if u <= at {
                        return Err(n.err(format!(
                            "until {} is not after the event's at {}",
                            format_duration(u),
                            format_duration(at)
                        )));
                    }
                }
                let times = match t.get("times") {
                    None if until.is_some() => u32::MAX,
                    None => 1,
                    Some(n) => match n.u32()? {
                        0 => return Err(n.err("must be at least 1 (the first login counts)")),
                        c => c,
                    },
                };
                Action::RivalDevice {
                    user,
                    after,
                    times,
                    until,
                }
            }
            "stall" => Action::Stall {
                instance: instance()?,
                duration: window("duration")?,
            },
            "churn" => {
                let after = window("after")?;
                let code = match t.get("code") {
                    None => 408,
                    Some(_) => code()?,
                };
                Action::Churn {
                    after,
                    code,
                    duration: window("duration")?,
                }
            }
            "stale_close" => {
                let code = match t.get("code") {
                    None => 440,
                    Some(n) => {
                        let c = code()?;
                        if !STALE_CLOSE_CODES.contains(&c) {
                            return Err(n.err(format!(
                                "a stale close is 440 (replaced) or 401 (logged out), not {c}"
                            )));
                        }
                        c
                    }
                };
                let after = match t.get("after") {
                    None => Duration::from_secs(1),
                    Some(n) => n.nonzero_duration()?,
                };
                Action::StaleClose {
                    user: user()?,
                    code,
                    after,
                }
            }
            "stream_error" => {
                let code = match t.get("code") {
                    None => None,
                    Some(_) => Some(code()?),
                };
                let tag = |key: &str| -> Result<Option<String>> {
                    let Some(n) = t.get(key) else {
                        return Ok(None);
                    };
                    let v = n.str()?;
                    if v.is_empty()
                        || !v
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':'))
                    {
                        return Err(n.err(format!(
                            "`{v}` is not a node name (ASCII letters, digits, `_`, `-`, `:`)"
                        )));
                    }
                    Ok(Some(v.to_string()))
                };
                let child = tag("child")?;
                let child_type = tag("type")?;
                if child.is_none() {
                    if let Some(n) = t.get("type") {
                        return Err(n.err("`type` is an attribute of the child: give `child` too"));
                    }
                }
                if code.is_none() && child.is_none() {
                    return Err(t.missing(
                        "code",
                        "a stream error needs a `code`, a `child`, or both, e.g. child = \"conflict\"",
                    ));
                }
                Action::StreamError {
                    user: user()?,
                    code,
                    child,
                    child_type,
                }
            }
            "messages" => {
                let every = match t.get("every") {
                    None => Duration::from_secs(20),
                    Some(n) => n.nonzero_duration()?,
                };
                Action::Messages {
                    user: user()?,
                    every,
                    duration: window("duration")?,
                }
            }
            _ => unreachable!("every action word is matched"),
        };

        let line = t.p.line(&t.span);
        let field_line = |key: &str| t.get(key).map(|n| n.line());
        let meta = EventMeta {
            path: t.path.clone(),
            line,
            at_line: at_node.line(),
            repeat_line: field_line("repeat"),
            instance_line: field_line("instance"),
            user_line: field_line("user"),
            count_line: field_line("count"),
        };
        Ok((
            EventSpec {
                at,
                action,
                repeat,
                line,
            },
            meta,
        ))
    }

    /// Checks that need the whole timeline: occurrences within `duration`,
    /// instances that exist when named, tabs that are open when closed, a
    /// pairing for a user that is not paired, repeats that do not overlap.
    fn check_timeline(
        &self,
        s: &Scenario,
        metas: &[EventMeta],
        duration_given: bool,
    ) -> Result<()> {
        let at = |line: usize, field: String, msg: String| {
            ScenarioError::at(self.file, line, &field, msg)
        };
        for (e, m) in s.events.iter().zip(metas) {
            if let Some(r) = e.repeat {
                let window = e.action.fault_duration();
                if r.times > 1 && r.every < window {
                    return Err(at(
                        m.repeat_line.unwrap_or(m.line),
                        format!("{}.repeat.every", m.path),
                        format!(
                            "repeats every {} but each `{}` lasts {}: the windows would overlap",
                            format_duration(r.every),
                            e.action.name(),
                            format_duration(window)
                        ),
                    ));
                }
            }
        }

        let mut occurrences: Vec<(Duration, usize, u32)> = Vec::new();
        for (i, e) in s.events.iter().enumerate() {
            let (every, times) = e.repeat.map_or((Duration::ZERO, 1), |r| (r.every, r.times));
            for k in 0..times {
                occurrences.push((e.at.saturating_add(every.saturating_mul(k)), i, k));
            }
        }
        occurrences.sort_by_key(|(t, i, _)| (*t, *i));

        let mut running = u64::from(s.instances);
        let mut started = 0u32;
        let mut tabs = u64::from(s.tabs.count);
        let mut paired: BTreeMap<&str, bool> =
            s.users.iter().map(|u| (u.id.as_str(), u.paired)).collect();
        for &(t, i, k) in &occurrences {
            let (e, m) = (&s.events[i], &metas[i]);
            let when = format_duration(t);
            if t > s.duration {
                let default = if duration_given {
                    ""
                } else {
                    " (the default; set `duration`)"
                };
                let (line, field, what) = if k == 0 {
                    (m.at_line, format!("{}.at", m.path), "fires".to_string())
                } else {
                    let times = e.repeat.map_or(1, |r| r.times);
                    (
                        m.repeat_line.unwrap_or(m.line),
                        format!("{}.repeat", m.path),
                        format!("repetition {} of {times} fires", k + 1),
                    )
                };
                return Err(at(
                    line,
                    field,
                    format!(
                        "{what} at {when}, after the scenario's duration {}{default}",
                        format_duration(s.duration)
                    ),
                ));
            }
            match &e.action {
                Action::StartInstance => {
                    running += 1;
                    started += 1;
                    if let Err(r) = limits::at_once("app instances", running, limits::MAX_INSTANCES)
                    {
                        return Err(at(m.line, m.path.clone(), r.message).with_help(r.help));
                    }
                }
                Action::Crash { instance, .. }
                | Action::Stall { instance, .. }
                | Action::Connect { instance, .. }
                | Action::Disconnect { instance, .. }
                    if u64::from(*instance) > running =>
                {
                    return Err(at(
                        m.instance_line.unwrap_or(m.line),
                        format!("{}.instance", m.path),
                        format!(
                            "instance {instance} does not exist at {when} ({} from the start, {started} started by then)",
                            s.instances
                        ),
                    ));
                }
                Action::OpenTabs { count } => {
                    tabs += u64::from(*count);
                    if let Err(r) = limits::at_once("tabs", tabs, limits::MAX_TABS) {
                        let line = m.count_line.unwrap_or(m.line);
                        return Err(
                            at(line, format!("{}.count", m.path), r.message).with_help(r.help)
                        );
                    }
                }
                Action::CloseTabs { count } => {
                    if u64::from(*count) > tabs {
                        return Err(at(
                            m.count_line.unwrap_or(m.line),
                            format!("{}.count", m.path),
                            format!("closes {count} tabs at {when} but only {tabs} are open"),
                        ));
                    }
                    tabs -= u64::from(*count);
                }
                Action::Logout { user } => {
                    paired.insert(user, false);
                }
                Action::Pair { user } if paired[user.as_str()] => {
                    return Err(at(
                        m.user_line.unwrap_or(m.line),
                        format!("{}.user", m.path),
                        format!(
                            "user `{user}` is already paired at {when} (pair a user with \
                             `paired = false`, or one logged out before)"
                        ),
                    ));
                }
                Action::Pair { user } => {
                    paired.insert(user, true);
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn expect(&self, root: &Table) -> Result<BTreeMap<String, Expectation>> {
        let mut out = BTreeMap::new();
        let Some(node) = root.get("expect") else {
            return Ok(out);
        };
        let t = node.any_table()?;
        for (key, val) in t.entries() {
            let preset: &str = key.get_ref();
            if !is_preset_name(preset) {
                return Err(t.unknown_key(
                    key,
                    &format!(
                        "`{preset}` is not a preset name (letters, digits, `.`, `_`, `-`; a \
                         built-in or a file in the project's presets/ folder)"
                    ),
                    &PRESET_NAMES,
                ));
            }
            let n = Node {
                p: self,
                path: join(&t.path, preset),
                val,
            };
            let e = n.table(EXPECT_KEYS, "")?;
            let holds = e
                .get("holds")
                .map(|n| invariant_list(&n, true))
                .transpose()?;
            let violates = e
                .get("violates")
                .map(|n| invariant_list(&n, false))
                .transpose()?;
            if holds.is_none() && violates.is_none() {
                return Err(n.err("says nothing: give `holds` and/or `violates`"));
            }
            let violates = violates.unwrap_or_default();
            for (id, node) in &violates {
                if let Some((_, h)) = holds.iter().flatten().find(|(h, _)| h == id) {
                    return Err(node.err(format!(
                        "`{id}` cannot both hold and be violated (it is in `holds` at line {})",
                        h.line()
                    )));
                }
            }
            let holds: Vec<String> = match holds {
                None => Vec::new(),
                Some(h) if h.iter().any(|(id, _)| id == "all") => INVARIANT_IDS
                    .iter()
                    .filter(|id| !violates.iter().any(|(v, _)| v == *id))
                    .map(|id| id.to_string())
                    .collect(),
                Some(h) => h.into_iter().map(|(id, _)| id).collect(),
            };
            out.insert(
                preset.to_string(),
                Expectation {
                    holds,
                    violates: violates.into_iter().map(|(id, _)| id).collect(),
                },
            );
        }
        Ok(out)
    }
}

/// Where an event's fields are, for the timeline checks.
struct EventMeta {
    path: String,
    line: usize,
    at_line: usize,
    repeat_line: Option<usize>,
    instance_line: Option<usize>,
    user_line: Option<usize>,
    count_line: Option<usize>,
}

/// A name a preset can be looked up by: a built-in, or the stem of a file
/// in the project's `presets/` folder (checked when the scenario runs).
fn is_preset_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn check_preset(n: &Node, name: &str) -> Result<()> {
    if PRESET_NAMES.contains(&name) || is_preset_name(name) {
        return Ok(());
    }
    Err(n.err(format!(
        "unknown preset `{name}` ({}known: {})",
        suggestion(name, &PRESET_NAMES),
        PRESET_NAMES.join(", ")
    )))
}

fn user_ref(n: &Node, users: &[UserSpec]) -> Result<String> {
    let id = n.str()?;
    if users.iter().any(|u| u.id == id) {
        return Ok(id.to_string());
    }
    let ids: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
    Err(n.err(format!(
        "unknown user `{id}` ({}users: {})",
        suggestion(id, &ids),
        ids.join(", ")
    )))
}

/// Invariant ids in `holds` (which may say `all`) or `violates`; each with
/// its node, for later messages.
fn invariant_list<'p, 'i>(
    n: &Node<'p, 'i>,
    all_allowed: bool,
) -> Result<Vec<(String, Node<'p, 'i>)>> {
    let mut out: Vec<(String, Node)> = Vec::new();
    for item in n.array("an array of invariant ids")? {
        let id = item.str()?;
        let known = INVARIANT_IDS.contains(&id) || (all_allowed && id == "all");
        if !known {
            let hint = if id == "all" {
                "`all` is only for `holds`; "
            } else {
                ""
            };
            return Err(item.err(format!(
                "unknown invariant `{id}` ({hint}{}known: {}{})",
                suggestion(id, &INVARIANT_IDS),
                INVARIANT_IDS.join(", "),
                if all_allowed { ", all" } else { "" }
            )));
        }
        if let Some((_, first)) = out.iter().find(|(x, _)| x == id) {
            return Err(item.err(format!(
                "`{id}` is listed twice (first at line {})",
                first.line()
            )));
        }
        out.push((id.to_string(), item));
    }
    Ok(out)
}

impl<'p, 'i> Node<'p, 'i> {
    fn span(&self) -> Range<usize> {
        self.val.span()
    }

    fn line(&self) -> usize {
        self.p.line(&self.span())
    }

    fn err(&self, message: impl Into<String>) -> ScenarioError {
        self.p.err(&self.span(), &self.path, message)
    }

    fn refuse(&self, r: Refusal) -> ScenarioError {
        self.p.refuse(&self.span(), &self.path, r)
    }

    fn expected(&self, what: &str) -> ScenarioError {
        self.err(format!(
            "expected {what}, found {}",
            describe(self.val.get_ref())
        ))
    }

    fn str(&self) -> Result<&'p str> {
        match self.val.get_ref() {
            DeValue::String(s) => Ok(s.as_ref()),
            _ => Err(self.expected("a string")),
        }
    }

    fn bool(&self) -> Result<bool> {
        match self.val.get_ref() {
            DeValue::Boolean(b) => Ok(*b),
            _ => Err(self.expected("true or false")),
        }
    }

    fn int(&self) -> Result<i64> {
        match self.val.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .map_err(|_| self.err(format!("integer {i} is out of range"))),
            _ => Err(self.expected("an integer")),
        }
    }

    fn u64(&self) -> Result<u64> {
        let v = self.int()?;
        u64::try_from(v).map_err(|_| self.err(format!("must not be negative, found {v}")))
    }

    fn u32(&self) -> Result<u32> {
        let v = self.u64()?;
        u32::try_from(v).map_err(|_| self.err(format!("{v} is too large")))
    }

    fn f64(&self) -> Result<f64> {
        match self.val.get_ref() {
            DeValue::Float(f) => {
                let v: f64 = f
                    .as_str()
                    .parse()
                    .map_err(|_| self.err(format!("bad number {f}")))?;
                if v.is_nan() {
                    return Err(self.err("expected a number, found nan"));
                }
                Ok(v)
            }
            DeValue::Integer(_) => Ok(self.int()? as f64),
            _ => Err(self.expected("a number")),
        }
    }

    fn duration(&self) -> Result<Duration> {
        match self.val.get_ref() {
            DeValue::String(s) => {
                let d = parse_duration(s).map_err(|m| self.err(m))?;
                limits::duration(d).map_err(|r| self.refuse(r))?;
                Ok(d)
            }
            DeValue::Integer(i) => {
                let hint = if i.as_str().starts_with('-') {
                    "; durations cannot be negative"
                } else {
                    ""
                };
                Err(self.err(format!(
                    "expected a duration string like \"{}s\", found integer {i}{hint}",
                    i.as_str().trim_start_matches('-')
                )))
            }
            _ => Err(self.expected("a duration string like \"90s\" or \"5m\"")),
        }
    }

    fn nonzero_duration(&self) -> Result<Duration> {
        let d = self.duration()?;
        if d.is_zero() {
            return Err(self.err("must be longer than zero"));
        }
        Ok(d)
    }

    fn any_table(&self) -> Result<Table<'p, 'i>> {
        match self.val.get_ref() {
            DeValue::Table(map) => Ok(Table {
                p: self.p,
                path: self.path.clone(),
                span: self.span(),
                map,
            }),
            _ => Err(self.expected("a table")),
        }
    }

    /// This table, with its keys checked against `allowed`.
    fn table(&self, allowed: &[&str], what: &str) -> Result<Table<'p, 'i>> {
        let t = self.any_table()?;
        t.check_keys(allowed, what)?;
        Ok(t)
    }

    fn array(&self, what: &str) -> Result<Vec<Node<'p, 'i>>> {
        match self.val.get_ref() {
            DeValue::Array(items) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, val)| Node {
                    p: self.p,
                    path: format!("{}[{i}]", self.path),
                    val,
                })
                .collect()),
            _ => Err(self.expected(what)),
        }
    }

    /// The plain TOML value (for policy overrides).
    fn to_value(&self) -> Result<toml::Value> {
        Ok(match self.val.get_ref() {
            DeValue::String(s) => toml::Value::String(s.to_string()),
            DeValue::Integer(_) => toml::Value::Integer(self.int()?),
            DeValue::Float(_) => toml::Value::Float(self.f64()?),
            DeValue::Boolean(b) => toml::Value::Boolean(*b),
            DeValue::Datetime(d) => toml::Value::Datetime(*d),
            DeValue::Array(_) => toml::Value::Array(
                self.array("")?
                    .iter()
                    .map(Node::to_value)
                    .collect::<Result<_>>()?,
            ),
            DeValue::Table(_) => {
                let t = self.any_table()?;
                let mut out = toml::Table::new();
                for (k, v) in t.entries() {
                    let n = Node {
                        p: self.p,
                        path: join(&self.path, k.get_ref()),
                        val: v,
                    };
                    out.insert(k.get_ref().to_string(), n.to_value()?);
                }
                toml::Value::Table(out)
            }
        })
    }
}

impl<'p, 'i> Table<'p, 'i> {
    fn get(&self, key: &str) -> Option<Node<'p, 'i>> {
        self.map.get(key).map(|val| Node {
            p: self.p,
            path: join(&self.path, key),
            val,
        })
    }

    /// Entries in file order.
    fn entries(&self) -> Vec<(&'p Spanned<toml::de::DeString<'i>>, &'p Val<'i>)> {
        let mut v: Vec<_> = self.map.iter().collect();
        v.sort_by_key(|(k, _)| k.span().start);
        v
    }

    fn missing(&self, key: &str, hint: &str) -> ScenarioError {
        ScenarioError::within(
            self.p.file,
            self.p.line(&self.span),
            &self.path,
            key,
            format!("missing field `{key}` ({hint})"),
        )
        .with_span(self.span.clone())
    }

    fn unknown_key(
        &self,
        key: &Spanned<toml::de::DeString<'_>>,
        message: &str,
        known: &[&str],
    ) -> ScenarioError {
        let k: &str = key.get_ref();
        let quoted: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
        ScenarioError::within(
            self.p.file,
            self.p.line(&key.span()),
            &self.path,
            k,
            format!(
                "{message} ({}expected one of {})",
                suggestion(k, known),
                quoted.join(", ")
            ),
        )
        .with_span(key.span())
    }

    /// Refuses the first key (in file order) that is not in `allowed`.
    fn check_keys(&self, allowed: &[&str], what: &str) -> Result<()> {
        for (key, _) in self.entries() {
            let k: &str = key.get_ref();
            if !allowed.contains(&k) {
                return Err(self.unknown_key(key, &format!("unknown field `{k}`{what}"), allowed));
            }
        }
        Ok(())
    }

    fn duration_or(&self, key: &str, default: Duration) -> Result<Duration> {
        self.get(key).map_or(Ok(default), |n| n.duration())
    }

    fn nonzero_duration_or(&self, key: &str, default: Duration) -> Result<Duration> {
        self.get(key).map_or(Ok(default), |n| n.nonzero_duration())
    }
}

fn describe(v: &DeValue) -> String {
    match v {
        DeValue::String(s) => format!("string \"{s}\""),
        DeValue::Integer(i) => format!("integer {i}"),
        DeValue::Float(f) => format!("float {f}"),
        DeValue::Boolean(b) => format!("boolean {b}"),
        DeValue::Datetime(d) => format!("datetime {d}"),
        DeValue::Array(_) => "an array".into(),
        DeValue::Table(_) => "a table".into(),
    }
}

fn list(codes: &[u16]) -> String {
    codes
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `did you mean `x`? ` when one known word is a small edit away.
fn suggestion(word: &str, known: &[&str]) -> String {
    if word.len() > limits::MAX_SUGGEST_CHARS {
        return String::new();
    }
    let limit = (word.chars().count() / 3).max(1);
    known
        .iter()
        .map(|k| (edit_distance(word, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, k)| format!("did you mean `{k}`? "))
        .unwrap_or_default()
}

/// Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}
