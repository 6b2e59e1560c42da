//! `scenario.schema.json`: the scenario format as a JSON Schema, so that TOML
//! editors (Taplo, Even Better TOML) complete and check scenario files.
//!
//! The schema is derived with schemars from the file-form types below, whose
//! doc comments become the editor's hover text. The parser is hand-written
//! (for its file/line/field errors), so these types are its mirror; tests in
//! `tests/scenario_schema.rs` fail when a key or action the parser accepts is
//! missing here (or the other way round) and when the committed
//! `scenario.schema.json` differs from [`generate`]'s output
//! (`loopguard schema > scenario.schema.json` writes it anew). Supervisor
//! knobs for `[supervisor.overrides]` are read from the `stable` preset
//! itself, so a new knob appears without an edit here.
//!
//! The schema checks shape (names, types, units, enumerations); value rules
//! that need the whole file (an `at` past `duration`, an unknown user) stay
//! with the parser.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::Value;

use crate::close_code::CloseCode;
use crate::invariants::INVARIANT_IDS;
use crate::supervisor::Policy;

/// The schema's `$id`, the path editors resolve `#:schema` against when the
/// file is kept at the project's root.
pub const SCHEMA_FILE: &str = "scenario.schema.json";

/// The JSON Schema (draft-07, the newest Taplo reads) of a scenario file,
/// pretty-printed with a trailing newline, exactly as committed.
pub fn generate() -> String {
    let generator = SchemaSettings::draft07()
        .with_transform(RecursiveTransform(no_null))
        .into_generator();
    let schema = generator.into_root_schema_for::<ScenarioFile>();
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// TOML has no null: an optional field is one that may be absent, so the
/// `null` schemars adds to an `Option` goes.
fn no_null(schema: &mut Schema) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(types)) = object.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types.remove(0);
            object.insert("type".into(), only);
        }
    }
    let single = match object.get_mut("anyOf") {
        Some(Value::Array(options)) => {
            options.retain(|o| o.get("type").is_none_or(|t| t != "null"));
            (options.len() == 1).then(|| options.remove(0))
        }
        _ => None,
    };
    if let Some(Value::Object(only)) = single {
        object.remove("anyOf");
        object.extend(only);
    }
}

/// A loopguard scenario: a timeline of faults played against a WhatsApp
/// connection supervisor, and what each preset must hold or be caught
/// breaking. Every field is optional. See docs/scenarios.md.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "loopguard scenario")]
#[allow(dead_code)]
struct ScenarioFile {
    /// Names the run and its report folder. Default: the file stem.
    name: Option<Text>,
    /// What production problem this reproduces. Default: empty.
    description: Option<String>,
    /// Seeds the simulation and every random draw of the run. Default: 1.
    seed: Option<u64>,
    /// Length of the scripted part of the run, at least 1 s. Default: 10m.
    duration: Option<DurationText>,
    /// Fault-free time kept after `duration` and after the last fault, so
    /// that recovery can be judged. Default: 5m.
    quiet_tail: Option<DurationText>,
    /// An app that exits on its own (`exit_on_codes`) is restarted this long
    /// after, as a container restart policy does. Default: 100ms (Docker's).
    restart_delay: Option<DurationText>,
    /// Simulation tick, 1ms to 1s. Default: 10ms.
    tick: Option<DurationText>,
    /// App instances running from the start, 1 to 64. Default: 1.
    #[schemars(range(min = 1, max = 64))]
    instances: Option<u32>,
    /// The users. Default: one paired, enabled user `alice`.
    users: Option<Vec<UserFile>>,
    supervisor: Option<SupervisorFile>,
    tabs: Option<TabsFile>,
    network: Option<NetworkFile>,
    endpoint: Option<EndpointFile>,
    /// The timeline: one `[[events]]` table per fault or person's action.
    events: Option<Vec<EventFile>>,
    /// Per preset name (`legacy`, `stable`, a presets/ file stem): what must
    /// hold and what must be caught. A preset with no entry must hold all.
    expect: Option<BTreeMap<String, ExpectFile>>,
}

/// `[[users]]`: one user of the service.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct UserFile {
    /// Unique; letters, digits and `. _ - @ +`.
    id: Text,
    /// Has a linked device (credentials); an unpaired user gets QR refs.
    /// Default: true.
    paired: Option<bool>,
    /// Walked by the auto-reconnector and connected at start-up. Default: true.
    enabled: Option<bool>,
}

/// `[supervisor]`: which preset runs by default, and knob overrides.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct SupervisorFile {
    /// Preset used by `loopguard run` without `--preset`: a built-in
    /// (`legacy`, `seed-fix`, `stable`) or a presets/ file stem. Default: stable.
    preset: Option<Text>,
    /// Any policy knob by name, applied over whichever preset runs.
    overrides: Option<Overrides>,
}

/// `[tabs]`: dashboard tabs polling the status API.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct TabsFile {
    /// Tabs open from the start. Default: 0.
    count: Option<u32>,
    /// Each tab's status poll period, above zero. Default: 5s.
    poll_interval: Option<DurationText>,
    /// Each poll is delayed by up to this much more, seeded. Default: 0s.
    jitter: Option<DurationText>,
    /// The user the tabs show. Default: the first user.
    user: Option<Text>,
}

/// `[network]`: one-way latency on every link.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct NetworkFile {
    /// Default: 1ms.
    min_latency: Option<DurationText>,
    /// At least `min_latency`. Default: 20ms.
    max_latency: Option<DurationText>,
}

/// `[endpoint]`: the fake WhatsApp endpoint's own behaviour.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct EndpointFile {
    /// A connected socket that sends nothing for this long is closed with
    /// 428, as WhatsApp Web does at about 60 s; `"off"` for none.
    /// Default: 60s.
    idle_timeout: Option<DurationOrOff>,
}

/// `repeat = { every = "3m", times = 5 }`: fire again every `every`,
/// `times` times in all (the first included).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct RepeatFile {
    /// Above zero.
    every: DurationText,
    #[schemars(range(min = 1))]
    times: u32,
}

/// `[expect.<preset>]`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ExpectFile {
    /// Invariants that must have no violation; `"all"` means every invariant
    /// not listed in `violates`.
    holds: Option<Vec<InvariantName>>,
    /// Invariants that must be violated at least once (the bug is caught).
    violates: Option<Vec<InvariantName>>,
}

/// A simulated link network faults apply to.
#[derive(JsonSchema)]
#[allow(dead_code)]
enum LinkName {
    /// Every app instance ↔ the endpoint.
    #[serde(rename = "app-wa")]
    AppWa,
    /// The browser ↔ every app instance.
    #[serde(rename = "browser-app")]
    BrowserApp,
}

/// Which of the target's buttons a foreign tab presses after each poll.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum ButtonName {
    Connect,
    Disconnect,
    /// Only reads the status.
    None,
}

/// One `[[events]]` entry: `at` (required, at most `duration`), `action`
/// (required) and an optional `repeat`, plus the action's own fields.
/// `user` defaults to the first user, `instance` to 1, `link` to `app-wa`.
#[derive(JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
#[allow(dead_code)]
enum EventFile {
    /// The endpoint closes the user's socket with `code` (440: another
    /// device took over).
    Close {
        at: DurationText,
        repeat: Option<RepeatFile>,
        user: Option<Text>,
        code: Code,
    },
    /// The endpoint refuses the user's next `count` connects (default 1)
    /// with `code`.
    Refuse {
        at: DurationText,
        repeat: Option<RepeatFile>,
        user: Option<Text>,
        #[schemars(range(min = 1))]
        count: Option<u32>,
        code: Code,
    },
    /// Every connect and open socket gets 503 for `duration`.
    Unavailable {
        at: DurationText,
        repeat: Option<RepeatFile>,
        duration: DurationText,
    },
    /// The user's device is unlinked: 401 now and on every connect.
    Logout {
        at: DurationText,
        repeat: Option<RepeatFile>,
        user: Option<Text>,
    },
    /// The user scans the QR; the endpoint then closes with 515.
    Pair {
        at: DurationText,
        repeat: Option<RepeatFile>,
        user: Option<Text>,
    },
    /// The endpoint stops answering pings (and sends nothing) for `duration`.
    PingSilence {
        at: DurationText,
        repeat: Option<RepeatFile>,
        duration: DurationText,
    },
    /// The endpoint delays each hello answer by `delay` for `duration`.
    SlowHandshake {
        at: DurationText,
        repeat: Option<RepeatFile>,
        delay: DurationText,
        duration: DurationText,
    },
    /// The link is cut for `duration`, then repaired.
    Partition {
        at: DurationText,
        repeat: Option<RepeatFile>,
        link: Option<LinkName>,
        duration: DurationText,
    },
    /// For `duration` the link goes down for `down` and up for `up` in turn,
    /// each period stretched by up to `jitter` (default 0s, seeded).
    Flap {
        at: DurationText,
        repeat: Option<RepeatFile>,
        link: Option<LinkName>,
        duration: DurationText,
        down: DurationText,
        up: DurationText,
        jitter: Option<DurationText>,
    },
    /// The link's latency is `min..max` for `duration`.
    Latency {
        at: DurationText,
        repeat: Option<RepeatFile>,
        link: Option<LinkName>,
        min: DurationText,
        max: DurationText,
        duration: DurationText,
    },
    /// Each message on the link is dropped with `rate` (0 to 1) for
    /// `duration`; TCP has no retransmission, so a loss stalls the stream.
    Loss {
        at: DurationText,
        repeat: Option<RepeatFile>,
        link: Option<LinkName>,
        #[schemars(range(min = 0.0, max = 1.0))]
        rate: f64,
        duration: DurationText,
    },
    /// App instance `instance` crashes; it restarts after `restart_after`
    /// unless that is absent.
    Crash {
        at: DurationText,
        repeat: Option<RepeatFile>,
        #[schemars(range(min = 1))]
        instance: Option<u32>,
        restart_after: Option<DurationText>,
    },
    /// One more app instance starts.
    StartInstance {
        at: DurationText,
        repeat: Option<RepeatFile>,
    },
    /// `count` more dashboard tabs open (default 1).
    OpenTabs {
        at: DurationText,
        repeat: Option<RepeatFile>,
        #[schemars(range(min = 1))]
        count: Option<u32>,
    },
    /// `count` dashboard tabs close (default 1).
    CloseTabs {
        at: DurationText,
        repeat: Option<RepeatFile>,
        #[schemars(range(min = 1))]
        count: Option<u32>,
    },
    /// A person presses the dashboard's connect button on `instance`.
    Connect {
        at: DurationText,
        repeat: Option<RepeatFile>,
        user: Option<Text>,
        #[schemars(range(min = 1))]
        instance: Option<u32>,
    },
    /// A person presses the dashboard's disconnect button on `instance`.
    Disconnect {
        at: DurationText,
        repeat: Option<RepeatFile>,
        user: Option<Text>,
        #[schemars(range(min = 1))]
        instance: Option<u32>,
    },
    /// For `duration`, a tab logged in as `user` polls `target`'s status every
    /// `poll_interval` (default 5s) and presses `target`'s `button` (default
    /// disconnect) after each poll.
    ForeignTab {
        at: DurationText,
        repeat: Option<RepeatFile>,
        user: Option<Text>,
        target: Text,
        duration: DurationText,
        poll_interval: Option<DurationText>,
        button: Option<ButtonName>,
    },
    /// Another client of the account logs in (our socket gets 440); after
    /// each of our later logins it logs in again `after` later (default 5s),
    /// `times` logins in all (default 1) or until `until`.
    RivalDevice {
        at: DurationText,
        repeat: Option<RepeatFile>,
        user: Option<Text>,
        after: Option<DurationText>,
        #[schemars(range(min = 1))]
        times: Option<u32>,
        until: Option<DurationText>,
    },
    /// App instance `instance` makes no progress for `duration`: every link
    /// to and from it is held, its bytes delivered when the stall ends.
    Stall {
        at: DurationText,
        repeat: Option<RepeatFile>,
        #[schemars(range(min = 1))]
        instance: Option<u32>,
        duration: DurationText,
    },
    /// For `duration`, the endpoint closes every socket `after` it
    /// authenticates, with `code` (default 408).
    Churn {
        at: DurationText,
        repeat: Option<RepeatFile>,
        after: DurationText,
        code: Option<Code>,
        duration: DurationText,
    },
    /// At the user's next replacement the old socket stays open and gets a
    /// late close with `code` (440 or 401, default 440) `after` later
    /// (default 1s).
    StaleClose {
        at: DurationText,
        repeat: Option<RepeatFile>,
        user: Option<Text>,
        code: Option<StaleCode>,
        after: Option<DurationText>,
    },
    /// The endpoint sends a stream:error node (a `code` attribute, a child
    /// tag such as `conflict` with its `type` such as `device_removed`, or
    /// both) and closes; Baileys reads the code first, then conflict → 440,
    /// else 500.
    StreamError {
        at: DurationText,
        repeat: Option<RepeatFile>,
        user: Option<Text>,
        code: Option<Code>,
        child: Option<NodeName>,
        #[serde(rename = "type")]
        child_type: Option<NodeName>,
    },
    /// Incoming message traffic for the user: one message frame every
    /// `every` (default 20s) for `duration`.
    Messages {
        at: DurationText,
        repeat: Option<RepeatFile>,
        user: Option<Text>,
        every: Option<DurationText>,
        duration: DurationText,
    },
}

/// A duration, or `"off"`.
struct DurationOrOff;

impl JsonSchema for DurationOrOff {
    fn schema_name() -> Cow<'static, str> {
        "DurationOrOff".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let duration = generator.subschema_for::<DurationText>().to_value();
        json_schema!({
            "anyOf": [duration, { "const": "off" }],
        })
    }
}

/// A node name of a stream:error child: ASCII letters, digits, `_ - :`.
struct NodeName;

impl JsonSchema for NodeName {
    fn schema_name() -> Cow<'static, str> {
        "NodeName".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^[A-Za-z0-9_:-]+$",
            "examples": ["conflict", "device_removed"],
        })
    }
}

/// A string of at most 256 characters.
struct Text;

impl JsonSchema for Text {
    fn schema_name() -> Cow<'static, str> {
        "Text".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "maxLength": super::limits::MAX_STRING_CHARS,
        })
    }
}

/// A duration with a unit, humantime's syntax: `"250ms"`, `"90s"`, `"5m"`,
/// `"1h 30m"`; never negative, at most 7 days.
struct DurationText;

impl JsonSchema for DurationText {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^\\s*([0-9]+\\s*[A-Za-zµ]+\\s*)+$",
            "description": "A duration with a unit: \"250ms\", \"90s\", \"5m\", \"1h 30m\" (never negative, at most 7 days).",
            "examples": ["250ms", "90s", "5m", "1h 30m"],
        })
    }
}

/// A Baileys close code the endpoint knows.
struct Code;

impl JsonSchema for Code {
    fn schema_name() -> Cow<'static, str> {
        "CloseCode".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let codes: Vec<u16> = CloseCode::ALL.map(CloseCode::code).to_vec();
        let names: Vec<String> = CloseCode::ALL
            .iter()
            .map(|c| format!("{} {}", c.code(), c.name()))
            .collect();
        json_schema!({
            "type": "integer",
            "enum": codes,
            "description": format!("A Baileys close code: {}.", names.join(", ")),
        })
    }
}

/// The codes a stale close carries: 440 (replaced) or 401 (logged out).
struct StaleCode;

impl JsonSchema for StaleCode {
    fn schema_name() -> Cow<'static, str> {
        "StaleCloseCode".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "integer",
            "enum": [440, 401],
        })
    }
}

/// An invariant id, or `all`.
struct InvariantName;

impl JsonSchema for InvariantName {
    fn schema_name() -> Cow<'static, str> {
        "Invariant".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut names: Vec<&str> = vec!["all"];
        names.extend(INVARIANT_IDS);
        json_schema!({
            "type": "string",
            "enum": names,
        })
    }
}

/// `[supervisor.overrides]`: each knob of the `stable` preset with the TOML
/// type of its value (a duration string, a boolean, an integer, a list of
/// close codes).
struct Overrides;

impl JsonSchema for Overrides {
    fn schema_name() -> Cow<'static, str> {
        "Overrides".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let duration = generator.subschema_for::<DurationText>().to_value();
        let mut properties = serde_json::Map::new();
        let knobs = Policy::preset("stable")
            .ok()
            .and_then(|p| toml::Table::try_from(&p).ok())
            .unwrap_or_default();
        for (knob, value) in knobs {
            if knob == "name" || knob == "description" {
                continue;
            }
            let schema = match value {
                toml::Value::Boolean(_) => serde_json::json!({ "type": "boolean" }),
                toml::Value::Integer(_) => serde_json::json!({ "type": "integer", "minimum": 0 }),
                toml::Value::Array(_) => {
                    serde_json::json!({ "type": "array", "items": { "type": "integer" } })
                }
                toml::Value::String(_) => duration.clone(),
                _ => serde_json::json!({}),
            };
            properties.insert(knob, schema);
        }
        json_schema!({
            "type": "object",
            "description": "Policy knobs by name (see the preset files under presets/), applied over whichever preset runs.",
            "properties": properties,
            "additionalProperties": false,
        })
    }
}
