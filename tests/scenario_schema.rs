//! `scenario.schema.json` stays what the model generates, and the schema
//! names exactly the keys and actions the parser accepts.
//!
//! After a change to the format, write it anew with
//! `loopguard schema > scenario.schema.json` (or run this test with
//! `LOOPGUARD_BLESS_SCHEMA=1`).

use std::collections::BTreeSet;
use std::path::Path;

use loopguard::scenario::schema::{generate, SCHEMA_FILE};
use loopguard::scenario::{keys, ACTIONS};
use serde_json::Value;

fn schema() -> Value {
    serde_json::from_str(&generate()).expect("the generated schema is JSON")
}

fn property_names(object: &Value) -> BTreeSet<String> {
    object["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

fn definition<'a>(schema: &'a Value, name: &str) -> &'a Value {
    &schema["definitions"][name]
}

fn set(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

#[test]
fn the_committed_schema_is_the_one_the_model_generates() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(SCHEMA_FILE);
    let fresh = generate();
    if std::env::var_os("LOOPGUARD_BLESS_SCHEMA").is_some() {
        std::fs::write(&path, &fresh).expect("scenario.schema.json is writable");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{SCHEMA_FILE} is stale: run `loopguard schema > {SCHEMA_FILE}`"
    );
}

#[test]
fn the_schema_names_every_top_level_key_and_table_key_the_parser_accepts() {
    let s = schema();
    assert_eq!(property_names(&s), set(keys::TOP_KEYS));
    for (table, keys) in [
        ("UserFile", keys::USER_KEYS),
        ("SupervisorFile", keys::SUPERVISOR_KEYS),
        ("TabsFile", keys::TABS_KEYS),
        ("NetworkFile", keys::NETWORK_KEYS),
        ("EndpointFile", keys::ENDPOINT_KEYS),
        ("RepeatFile", keys::REPEAT_KEYS),
        ("ExpectFile", keys::EXPECT_KEYS),
    ] {
        assert_eq!(property_names(definition(&s, table)), set(keys), "{table}");
    }
}

#[test]
fn the_schema_has_one_event_shape_per_action_with_exactly_its_fields() {
    let s = schema();
    let shapes = definition(&s, "EventFile")["oneOf"]
        .as_array()
        .expect("events are one of the action shapes")
        .clone();
    let mut seen = BTreeSet::new();
    for shape in &shapes {
        let action = shape["properties"]["action"]["const"]
            .as_str()
            .expect("each shape names its action")
            .to_string();
        let (_, params) = ACTIONS
            .iter()
            .find(|(name, _)| *name == action)
            .unwrap_or_else(|| panic!("the schema has an action the parser lacks: {action}"));
        let mut expected = set(params);
        expected.extend(set(keys::EVENT_KEYS));
        assert_eq!(property_names(shape), expected, "{action}");
        assert_eq!(
            shape["additionalProperties"],
            Value::Bool(false),
            "{action}: a typo in a field is flagged"
        );
        seen.insert(action);
    }
    let all: BTreeSet<String> = ACTIONS.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(seen, all, "every action the parser accepts has a shape");
}

#[test]
fn every_supervisor_knob_can_be_overridden_in_the_schema() {
    let s = schema();
    let knobs = property_names(definition(&s, "Overrides"));
    for knob in [
        "cooldown",
        "max_attempts",
        "stale_close_acts",
        "exit_on_codes",
    ] {
        assert!(knobs.contains(knob), "{knob} missing from {knobs:?}");
    }
    assert!(!knobs.contains("name"), "the preset's name is not a knob");
}

#[test]
fn every_shipped_scenario_uses_only_names_the_schema_knows() {
    let s = schema();
    let top = property_names(&s);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["scenarios", "scenarios/found", "scenarios/production"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("the folder exists") {
            let path = entry.expect("a directory entry").path();
            if path.extension().is_none_or(|x| x != "toml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("readable");
            let table: toml::Table = text.parse().expect("valid TOML");
            for key in table.keys() {
                assert!(top.contains(key), "{}: `{key}`", path.display());
            }
        }
    }
}
