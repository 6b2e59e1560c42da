//! Mutation fuzzing of the parser: the shipped scenarios and presets, with
//! bytes flipped, lines deleted, duplicated and swapped, values swapped
//! between fields, numbers made huge and hostile lines inserted. Whatever
//! comes out, parsing must not panic, every refusal names a line (and
//! renders as a diagnostic), and every accepted scenario has a length that
//! does not overflow. The work a file can cause is bounded by
//! `scenario::limits`, so no case can hang.
//!
//! `make test` runs 4,000 cases; `make fuzz` runs `LOOPGUARD_FUZZ_CASES`
//! (100,000) and reports the slowest case and every case over 1 s.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use loopguard::scenario::{self, limits};
use loopguard::supervisor::policy::Policy;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Numbers that broke or could break the parser, with and without units.
const HUGE: &[&str] = &[
    "18446744073709551615",
    "18446744073709551616",
    "4294967295",
    "4294967296",
    "500000000000",
    "9223372036854775807",
    "-1",
    "0",
    "1e308",
];

/// Units appended to a huge number (the `500000000000y` family).
const UNITS: &[&str] = &["", "s", "y", "ns", "d", "ms", " minutes"];

/// Lines that a hostile file might hold.
const HOSTILE: &[&str] = &[
    "repeat = { every = \"1ns\", times = 4294967295 }",
    "repeat = { every = \"300000000000y\", times = 3 }",
    "at = \"18446744073709551615s\"",
    "duration = \"500000000000y\"",
    "quiet_tail = \"500000000000y\"",
    "tick = \"1ns\"",
    "tick = \"1h\"",
    "duration = \"0s\"",
    "[[events]]",
    "[[users]]",
    "[tabs]",
    "count = 4294967295",
    "instances = 4294967295",
    "[expect.stable]",
    "holds = [\"all\"]",
    "{",
    "\"\"\"",
    "x = [1,",
    "name = \"../../etc\"",
    "[supervisor.overrides]",
    "keepalive_interval = \"0s\"",
    "cooldown = \"500000000000y\"",
    "stop_codes = [1, 2, 3]",
    "\u{1b}]0;title\u{7}",
];

#[derive(Debug, Clone)]
enum Mutation {
    FlipByte(Index, u8),
    DeleteLine(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    SwapValues(Index, Index),
    HugeNumber(Index, usize, usize),
    InsertLine(Index, usize),
    LongString(Index, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::FlipByte(i, b)),
        any::<Index>().prop_map(Mutation::DeleteLine),
        any::<Index>().prop_map(Mutation::DuplicateLine),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapValues(a, b)),
        (any::<Index>(), 0..HUGE.len(), 0..UNITS.len())
            .prop_map(|(i, n, u)| Mutation::HugeNumber(i, n, u)),
        (any::<Index>(), 0..HOSTILE.len()).prop_map(|(i, h)| Mutation::InsertLine(i, h)),
        (any::<Index>(), 0..20_000usize).prop_map(|(i, n)| Mutation::LongString(i, n)),
    ]
}

/// Applies `m` to the file's bytes, line-wise where it is about lines.
fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    if let Mutation::FlipByte(i, b) = m {
        if !bytes.is_empty() {
            let at = i.index(bytes.len());
            bytes[at] ^= (*b).max(1);
        }
        return;
    }
    let mut lines: Vec<Vec<u8>> = bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
    let n = lines.len();
    match m {
        Mutation::FlipByte(..) => unreachable!("handled above"),
        Mutation::DeleteLine(i) => {
            lines.remove(i.index(n));
        }
        Mutation::DuplicateLine(i) => {
            let l = lines[i.index(n)].clone();
            lines.insert(i.index(n), l);
        }
        Mutation::SwapLines(a, b) => lines.swap(a.index(n), b.index(n)),
        Mutation::SwapValues(a, b) => {
            let (a, b) = (a.index(n), b.index(n));
            let split = |l: &[u8]| l.iter().position(|c| *c == b'=');
            if let (Some(x), Some(y)) = (split(&lines[a]), split(&lines[b])) {
                let va = lines[a][x..].to_vec();
                let vb = lines[b][y..].to_vec();
                lines[a].truncate(x);
                lines[a].extend(vb);
                lines[b].truncate(y);
                lines[b].extend(va);
            }
        }
        Mutation::HugeNumber(i, h, u) => {
            let l = &mut lines[i.index(n)];
            if let Some(start) = l.iter().position(u8::is_ascii_digit) {
                let end = l[start..]
                    .iter()
                    .position(|c| !c.is_ascii_alphanumeric())
                    .map_or(l.len(), |e| start + e);
                let quoted = start > 0 && l[start - 1] == b'"';
                let unit = if quoted { UNITS[*u] } else { "" };
                let new = format!("{}{unit}", HUGE[*h]);
                l.splice(start..end, new.bytes());
            }
        }
        Mutation::InsertLine(i, h) => lines.insert(i.index(n), HOSTILE[*h].as_bytes().to_vec()),
        Mutation::LongString(i, len) => {
            let l = &mut lines[i.index(n)];
            if let Some(q) = l.iter().position(|c| *c == b'"') {
                let filler = "e".repeat(*len);
                l.splice(q + 1..q + 1, filler.bytes());
            }
        }
    }
    *bytes = lines.join(&b'\n');
}

/// A shipped file to start from.
struct Seed {
    path: PathBuf,
    text: String,
    preset: bool,
}

fn corpus() -> Vec<Seed> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for (dir, preset) in [("scenarios", false), ("presets", true)] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push(Seed { path, text, preset });
        }
    }
    out
}

/// One mutated file through the parser it belongs to, and, for a preset, as
/// a scenario's overrides too.
fn check(seed: &Seed, bytes: &[u8], scratch: &Path) -> Result<(), TestCaseError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(_) => {
            // Not UTF-8: through `load`, as the CLI reads it.
            let file = scratch.join("mutated.toml");
            std::fs::write(&file, bytes).unwrap();
            let e = scenario::load(&file).expect_err("invalid UTF-8 is refused");
            prop_assert!(e.line().is_some(), "no line: {e}");
            prop_assert!(e.message().contains("byte offset"), "{e}");
            return Ok(());
        }
    };
    if seed.preset {
        match Policy::from_toml("presets/mutated.toml", text) {
            Ok(p) => prop_assert!(p.check_limits().is_ok()),
            Err(e) => {
                let shown = e.to_string();
                prop_assert!(
                    shown.starts_with("presets/mutated.toml:") && !shown.contains(":0:"),
                    "no line: {shown}"
                );
            }
        }
        let body: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("name"))
            .collect::<Vec<_>>()
            .join("\n");
        let as_overrides = format!("duration = \"1m\"\n[supervisor.overrides]\n{body}\n");
        scenario_case(&seed.path, &as_overrides)
    } else {
        scenario_case(&seed.path, text)
    }
}

fn scenario_case(path: &Path, text: &str) -> Result<(), TestCaseError> {
    match scenario::parse(path, text) {
        Ok(s) => {
            // What the command line calls right after a parse.
            let length = s.run_length();
            prop_assert!(length <= limits::MAX_DURATION * 3, "{length:?}");
            prop_assert!(s.timeline().len() as u64 <= limits::MAX_OCCURRENCES);
            prop_assert!(s.faults_end() <= length);
            prop_assert!(limits::folder_name(&s.name).is_ok(), "{}", s.name);
        }
        Err(e) => {
            let line = e.line();
            prop_assert!(line.is_some_and(|l| l >= 1), "no line: {e}");
            let shown = scenario::render(&e);
            prop_assert!(shown.starts_with("error: "), "{shown}");
            prop_assert!(shown.contains("= help: "), "{shown}");
            let at = format!("{}:{}:", path.display(), line.unwrap_or(0));
            prop_assert!(shown.contains(&at), "`{at}` not in:\n{shown}");
        }
    }
    Ok(())
}

/// Cases, slowest case, and the cases over 1 s.
fn fuzz(cases: u32) -> (u32, Duration, Vec<String>) {
    let seeds = corpus();
    let scratch = tempfile::tempdir().unwrap();
    let stats = Mutex::new((0u32, Duration::ZERO, Vec::new()));
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..Config::default()
    });
    let strategy = (0..seeds.len(), prop::collection::vec(mutation(), 1..5));
    let result = runner.run(&strategy, |(i, mutations)| {
        let seed = &seeds[i];
        let mut bytes = seed.text.clone().into_bytes();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let start = Instant::now();
        let outcome = check(seed, &bytes, scratch.path());
        let took = start.elapsed();
        let mut st = stats.lock().unwrap();
        st.0 += 1;
        st.1 = st.1.max(took);
        if took > Duration::from_secs(1) {
            st.2.push(format!(
                "{} {mutations:?} took {took:?}",
                seed.path.display()
            ));
        }
        outcome
    });
    if let Err(e) = result {
        panic!("the parser failed on a mutated file: {e}");
    }
    stats.into_inner().unwrap()
}

#[test]
fn mutated_shipped_files_never_panic_and_every_refusal_names_a_line() {
    let cases = std::env::var("LOOPGUARD_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4_000);
    let (ran, slowest, slow) = fuzz(cases);
    // The figure `make fuzz` reports (wall time is reported, not asserted
    // here: the limits are what bound the work).
    println!(
        "fuzz: {ran} cases, 0 panics, {} over 1 s, slowest {:.1} ms",
        slow.len(),
        slowest.as_secs_f64() * 1e3
    );
    for s in &slow {
        println!("slow: {s}");
    }
}
