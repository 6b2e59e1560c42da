//! `make bench`: how fast the simulation runs, as ratios measured in one
//! run: virtual time over wall time per shipped scenario, the wall time of
//! the whole `check`, and the time to plot the longest run.
//! Nothing here is asserted; the README quotes the figures.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use loopguard::report;
use loopguard::run::{execute, RunResult};
use loopguard::scenario;

fn main() {
    let dir = Path::new("scenarios");
    println!(
        "{:<26} {:>9} {:>12} {:>10} {:>14}",
        "scenario", "preset", "virtual", "wall", "virtual/wall"
    );
    let mut longest: Option<RunResult> = None;
    for (path, loaded) in scenario::load_dir(dir) {
        let Ok(s) = loaded else {
            println!("{}: does not load", path.display());
            continue;
        };
        let preset = "stable";
        let started = Instant::now();
        let result = match execute(&s, preset, None, &mut |_| {}) {
            Ok(r) => r,
            Err(e) => {
                println!("{}: {e}", s.name);
                continue;
            }
        };
        let wall = started.elapsed();
        let virt = s.run_length();
        println!(
            "{:<26} {:>9} {:>12} {:>9.2}s {:>13.0}x",
            s.name,
            preset,
            format!("{:.0} min", virt.as_secs_f64() / 60.0),
            wall.as_secs_f64(),
            virt.as_secs_f64() / wall.as_secs_f64().max(1e-9)
        );
        if longest
            .as_ref()
            .is_none_or(|l| l.summary.run_length_ms < result.summary.run_length_ms)
        {
            longest = Some(result);
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
            "\nwhole `loopguard check scenarios/`: {:.1} s wall (exit {})",
            wall.as_secs_f64(),
            o.status.code().unwrap_or(-1)
        ),
        Err(e) => println!("\nwhole check: could not run loopguard: {e}"),
    }

    if let Some(run) = longest {
        let plot_dir = std::env::temp_dir().join("loopguard-bench-plot");
        let _ = std::fs::create_dir_all(&plot_dir);
        let started = Instant::now();
        let ok = report::write_timeline(&plot_dir, &run.summary, &run.trace).is_ok();
        let wall: Duration = started.elapsed();
        println!(
            "plot of {} ({} rows, {:.0} h virtual): {:.3} s (SVG + PNG){}",
            run.summary.run,
            run.trace.len(),
            run.summary.run_length_ms as f64 / 3.6e6,
            wall.as_secs_f64(),
            if ok { "" } else { " FAILED" }
        );
    }
}
