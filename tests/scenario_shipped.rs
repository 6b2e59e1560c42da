//! The scenarios shipped in `scenarios/`: they parse, and say what the spec
//! asks of them.

use std::path::Path;
use std::time::Duration;

use loopguard::scenario::{load_dir, Scenario};

fn shipped() -> Vec<Scenario> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    load_dir(&dir)
        .into_iter()
        .map(|(path, r)| r.unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display())))
        .collect()
}

fn get<'a>(all: &'a [Scenario], name: &str) -> &'a Scenario {
    all.iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no scenario {name}"))
}

#[test]
fn every_shipped_scenario_parses_and_is_named_for_its_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    for (path, loaded) in load_dir(&dir) {
        let s = loaded.unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
        assert_eq!(
            Some(s.name.as_str()),
            path.file_stem().and_then(|f| f.to_str())
        );
    }
}

#[test]
fn every_shipped_scenario_explains_itself_and_expects_something_of_each_preset() {
    for s in shipped() {
        assert!(
            s.description.len() > 80,
            "{}: describe the production problem",
            s.name
        );
        for preset in ["legacy", "seed-fix", "stable"] {
            assert!(
                s.expect.contains_key(preset),
                "{}: no [expect.{preset}]",
                s.name
            );
        }
        assert_eq!(
            s.expect["stable"].holds.len(),
            loopguard::invariants::INVARIANT_IDS.len(),
            "{}: stable holds all",
            s.name
        );
        assert!(s.expect["stable"].violates.is_empty(), "{}", s.name);
    }
}

#[test]
fn the_bug_presets_are_caught_where_the_spec_says() {
    let all = shipped();
    for name in ["repeated_440", "many_tabs_polling", "flapping_network"] {
        assert!(
            !get(&all, name).expect["legacy"].violates.is_empty(),
            "{name}: legacy must be caught"
        );
    }
    let seed_fix = &get(&all, "repeated_440").expect["seed-fix"];
    assert!(seed_fix
        .violates
        .contains(&"reconnect_cooldown".to_string()));
}

#[test]
fn shipped_runs_stay_short_except_the_soak() {
    for s in shipped() {
        if s.name == "soak_24h" {
            assert_eq!(s.duration, Duration::from_secs(24 * 3600));
            assert_eq!(s.tick, Duration::from_millis(100));
        } else {
            assert!(
                s.run_length() <= Duration::from_secs(40 * 60),
                "{}: {:?}",
                s.name,
                s.run_length()
            );
        }
    }
}
