//! `make bench`: how fast the simulation runs, as ratios measured in one
//! run: virtual time over wall time per shipped scenario and preset, the
//! wall time of the whole `check`, and the time to plot `soak_24h`.
//! Nothing here is asserted; the README quotes the figures.
//!
//! First, before anything else has grown the process, one big world:
//! 1,000 users and 500 dashboard tabs on one app instance, with its
//! virtual-over-wall ratio and the process's peak resident memory.
//! `LOOPGUARD_BENCH=big` runs only that.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use loopguard::report;
use loopguard::run::{execute, RunResult};
use loopguard::scenario;

/// Peak resident set of this process so far, in MiB (`VmHWM`), if known.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// 1,000 users and 500 tabs polling every 5 s (jitter 1 s) for 5 virtual
/// minutes plus a 1 minute quiet tail, at the default 10 ms tick.
fn big_world() {
    let (users, tabs) = (1000, 500);
    let mut text = format!(
        "seed = 9\nduration = \"5m\"\nquiet_tail = \"1m\"\n\n[tabs]\ncount = {tabs}\npoll_interval = \"5s\"\njitter = \"1s\"\n"
    );
    for n in 1..=users {
        text.push_str(&format!("\n[[users]]\nid = \"user{n}\"\n"));
    }
    let s = match scenario::parse(Path::new("big_world.toml"), &text) {
        Ok(s) => s,
        Err(e) => {
            println!("big world: does not parse: {e}");
            return;
        }
    };
    let before = peak_rss_mib().unwrap_or(0.0);
    let started = Instant::now();
    match execute(&s, "stable", None, &mut |_| {}) {
        Ok(r) => {
            let wall = started.elapsed().as_secs_f64();
            let virt = s.run_length().as_secs_f64();
            let polls = r
                .trace
                .iter()
                .filter(|e| e.kind.name() == "status_polled")
                .count();
            println!(
                "big world: {users} users x {tabs} tabs, {:.0} virtual s in {wall:.1} s wall \
                 ({:.1}x virtual/wall), {} rows, {polls} status polls, verdict {:?}, \
                 peak RSS {:.0} MiB (before: {before:.0} MiB)\n",
                virt,
                virt / wall.max(1e-9),
                r.trace.len(),
                r.summary.verdict,
                peak_rss_mib().unwrap_or(0.0),
            );
        }
        Err(e) => println!("big world: {e}\n"),
    }
}

fn main() {
    big_world();
    if std::env::var("LOOPGUARD_BENCH").as_deref() == Ok("big") {
        return;
    }
    let dir = Path::new("scenarios");
    println!(
        "{:<26} {:>9} {:>10} {:>9} {:>13} {:>9}",
        "scenario", "preset", "virtual", "wall", "virtual/wall", "rows"
    );
    let mut soaks: Vec<RunResult> = Vec::new();
    for (path, loaded) in scenario::load_dir(dir) {
        let Ok(s) = loaded else {
            println!("{}: does not load", path.display());
            continue;
        };
        for preset in s.expect.keys() {
            let started = Instant::now();
            let result = match execute(&s, preset, None, &mut |_| {}) {
                Ok(r) => r,
                Err(e) => {
                    println!("{} [{preset}]: {e}", s.name);
                    continue;
                }
            };
            let wall = started.elapsed().as_secs_f64();
            let virt = s.run_length().as_secs_f64();
            println!(
                "{:<26} {:>9} {:>8.0} m {:>8.2}s {:>12.0}x {:>9}",
                s.name,
                preset,
                virt / 60.0,
                wall,
                virt / wall.max(1e-9),
                result.trace.len()
            );
            if s.name == "soak_24h" {
                soaks.push(result);
            }
        }
    }

    let out = std::env::temp_dir().join("loopguard-bench-reports");
    let _ = std::fs::remove_dir_all(&out);
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_loopguard"))
        .args(["check", "scenarios", "--out"])
        .arg(&out)
        .output();
    let wall = started.elapsed();
    match status {
        Ok(o) => println!(
            "\nwhole `loopguard check scenarios/` (every scenario x preset, all cores): {:.1} s wall, exit {}",
            wall.as_secs_f64(),
            o.status.code().unwrap_or(-1)
        ),
        Err(e) => println!("\nwhole check: could not run loopguard: {e}"),
    }

    for run in &soaks {
        let plot_dir =
            std::env::temp_dir().join(format!("loopguard-bench-plot-{}", run.summary.preset));
        let _ = std::fs::create_dir_all(&plot_dir);
        let started = Instant::now();
        let ok = report::write_timeline(&plot_dir, &run.summary, &run.trace).is_ok();
        println!(
            "plot of {} ({} rows): {:.3} s for SVG + PNG{}",
            run.summary.run,
            run.trace.len(),
            started.elapsed().as_secs_f64(),
            if ok { "" } else { " (FAILED)" }
        );
    }
}
