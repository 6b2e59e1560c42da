//! Same scenario + same seed + same build → byte-identical `trace.csv`, for
//! every shipped scenario (stable preset, the scenario's own seed); and a
//! different seed gives a different trace where the scenario has randomness
//! (dashboard tabs with jitter, a flapping link with jitter).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use loopguard::run::execute;
use loopguard::scenario::{load, Scenario};
use loopguard::trace::write_trace;

const PRESET: &str = "stable";

fn scenario(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(format!("{name}.toml"));
    load(&path).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The `trace.csv` bytes of one fresh run of `name` with the stable preset.
fn trace_bytes(name: &str, seed: Option<u64>) -> Vec<u8> {
    let s = scenario(name);
    let result = execute(&s, PRESET, seed, &mut |_| {})
        .unwrap_or_else(|e| panic!("{name} [{PRESET}] seed {seed:?} did not run: {e}"));
    let mut bytes = Vec::new();
    write_trace(&mut bytes, &result.trace).expect("trace.csv is written to memory");
    assert!(!result.trace.is_empty(), "{name}: an empty trace");
    bytes
}

type Slot = Arc<OnceLock<Arc<Vec<u8>>>>;

/// The first run of `name` from its own seed, made once per test binary and
/// shared by the test that replays it and the test that changes its seed.
fn first_run(name: &str) -> Arc<Vec<u8>> {
    static RUNS: OnceLock<Mutex<BTreeMap<String, Slot>>> = OnceLock::new();
    let slot: Slot = RUNS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(name.to_string())
        .or_default()
        .clone();
    slot.get_or_init(|| Arc::new(trace_bytes(name, None)))
        .clone()
}

/// 1-based line where two traces first differ, with both versions of it.
fn first_difference(a: &[u8], b: &[u8]) -> Option<(usize, String, String)> {
    let (la, lb): (Vec<&[u8]>, Vec<&[u8]>) = (
        a.split(|c| *c == b'\n').collect(),
        b.split(|c| *c == b'\n').collect(),
    );
    (0..la.len().max(lb.len())).find_map(|i| {
        let (x, y) = (la.get(i).copied(), lb.get(i).copied());
        (x != y).then(|| {
            let show = |l: Option<&[u8]>| {
                l.map_or("<end of trace>".into(), |l| {
                    String::from_utf8_lossy(l).into_owned()
                })
            };
            (i + 1, show(x), show(y))
        })
    })
}

fn replays_byte_for_byte(name: &str) {
    let first = first_run(name);
    let second = trace_bytes(name, None);
    if let Some((line, a, b)) = first_difference(&first, &second) {
        panic!(
            "{name} [{PRESET}] seed {}: two runs differ from trace.csv line {line}:\n  first:  {a}\n  second: {b}",
            scenario(name).seed
        );
    }
    assert_eq!(first.len(), second.len());
    assert!(*first == second);
}

fn another_seed_changes_the_trace(name: &str) {
    let own = scenario(name).seed;
    let first = first_run(name);
    let other = trace_bytes(name, Some(own + 1));
    assert!(
        *first != other,
        "{name} [{PRESET}]: seeds {own} and {} gave the same trace.csv ({} bytes): the seed does not reach the scenario's randomness",
        own + 1,
        first.len()
    );
}

macro_rules! replays_byte_for_byte {
    ($($test:ident => $name:literal,)*) => {
        $(
            #[test]
            fn $test() {
                replays_byte_for_byte($name);
            }
        )*
    };
}

replays_byte_for_byte! {
    app_restart_replays_to_the_same_trace_bytes_from_its_seed => "app_restart",
    endpoint_unavailable_503_replays_to_the_same_trace_bytes_from_its_seed => "endpoint_unavailable_503",
    flapping_network_replays_to_the_same_trace_bytes_from_its_seed => "flapping_network",
    keepalive_silence_replays_to_the_same_trace_bytes_from_its_seed => "keepalive_silence",
    logged_out_401_replays_to_the_same_trace_bytes_from_its_seed => "logged_out_401",
    long_partition_replays_to_the_same_trace_bytes_from_its_seed => "long_partition",
    many_tabs_polling_replays_to_the_same_trace_bytes_from_its_seed => "many_tabs_polling",
    open_then_440_replays_to_the_same_trace_bytes_from_its_seed => "open_then_440",
    pair_then_515_replays_to_the_same_trace_bytes_from_its_seed => "pair_then_515",
    qr_never_scanned_replays_to_the_same_trace_bytes_from_its_seed => "qr_never_scanned",
    repeated_440_replays_to_the_same_trace_bytes_from_its_seed => "repeated_440",
    second_instance_replays_to_the_same_trace_bytes_from_its_seed => "second_instance",
    soak_24h_replays_to_the_same_trace_bytes_from_its_seed => "soak_24h",
}

macro_rules! another_seed_changes_the_trace {
    ($($test:ident => $name:literal,)*) => {
        $(
            #[test]
            fn $test() {
                another_seed_changes_the_trace($name);
            }
        )*
    };
}

another_seed_changes_the_trace! {
    flapping_network_with_another_seed_gives_another_trace => "flapping_network",
    many_tabs_polling_with_another_seed_gives_another_trace => "many_tabs_polling",
    repeated_440_with_another_seed_gives_another_trace => "repeated_440",
}
