//! `to_toml` writes a scenario that reads back to the same scenario.

use std::path::Path;

use loopguard::scenario::{load_dir, parse, to_toml, Scenario};

/// The scenario without what depends on where its text came from.
fn comparable(s: &Scenario) -> Scenario {
    let mut s = s.clone();
    s.source = Path::new("x.toml").to_path_buf();
    for e in &mut s.events {
        e.line = 0;
    }
    s
}

#[test]
fn every_shipped_scenario_reads_back_from_its_written_toml() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let all = load_dir(&dir);
    assert!(all.len() >= 13, "the shipped scenarios are found");
    for (path, loaded) in all {
        let s = loaded.unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
        let text = to_toml(&s);
        let back = parse(Path::new("written.toml"), &text).unwrap_or_else(|e| {
            panic!(
                "{}: written text does not parse: {e}\n{text}",
                path.display()
            )
        });
        assert_eq!(
            comparable(&back),
            comparable(&s),
            "{}\n{text}",
            path.display()
        );
    }
}

#[test]
fn written_events_name_every_parameter() {
    let text = r#"
duration = "20m"
[[events]]
at = "2m"
action = "close"
code = 440
repeat = { every = "3m", times = 2 }
[[events]]
at = "9m"
action = "flap"
duration = "1m 30s"
down = "5s"
up = "20s"
[[events]]
at = "12m"
action = "loss"
rate = 0.05
duration = "2m"
[expect.stable]
holds = ["all"]
"#;
    let s = parse(Path::new("t.toml"), text).expect("parses");
    let written = to_toml(&s);
    for expected in [
        "name = \"t\"\n",
        "action = \"close\"\nuser = \"alice\"\ncode = 440\nrepeat = { every = \"3m\", times = 2 }\n",
        "action = \"flap\"\nlink = \"app-wa\"\nduration = \"1m 30s\"\ndown = \"5s\"\nup = \"20s\"\njitter = \"0s\"\n",
        "rate = 0.05\n",
        "[expect.stable]\nholds = [\"all\"]\n",
    ] {
        assert!(written.contains(expected), "missing {expected:?} in\n{written}");
    }
}
