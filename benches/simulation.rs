//! `make bench`: how fast the simulation runs, as ratios measured in one
//! run: virtual time over wall time per shipped scenario and preset, the
//! wall time of the whole `check`, and the time to plot `soak_24h`.
//! Nothing here is asserted; the README quotes the figures.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use loopguard::report;
use loopguard::run::{execute, RunResult};
use loopguard::scenario;

fn main() {
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
