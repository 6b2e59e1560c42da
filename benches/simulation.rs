//! `make bench`: how fast the simulation runs, as ratios measured in one
//! run: one-hour swarm seeds per second on both engines and their ratio,
//! `soak_24h` on both engines, virtual time over wall time per shipped
//! scenario and preset, the wall time of the whole `check`, `soak_24h`
//! legacy against raw turmoil with the peak resident memory of its worker
//! process (the one that simulates, judges and writes), and the time to plot
//! `soak_24h`.
//! Nothing here is asserted; the README quotes the figures.
//! `LOOPGUARD_BENCH_SEEDS=N` sets how many swarm seeds (default 20).
//!
//! First, before anything else has grown the process, one big world:
//! 1,000 users and 500 dashboard tabs on one app instance, with its
//! virtual-over-wall ratio and the process's peak resident memory.
//! `LOOPGUARD_BENCH=big` runs only that.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use loopguard::explore::{swarm, SwarmShape};
use loopguard::report;
use loopguard::run::{execute, execute_on, RunResult};
use loopguard::scenario;
use loopguard::sim::Engine;

/// Seconds of CPU-bound wall time `f` takes (one thread).
fn timed<R>(f: impl FnOnce() -> R) -> (R, f64) {
    let started = Instant::now();
    let r = f();
    (r, started.elapsed().as_secs_f64())
}

fn engines() {
    let n: u64 = std::env::var("LOOPGUARD_BENCH_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seeds: Vec<_> = (1..=n)
        .map(|seed| swarm(seed, "stable", SwarmShape::ONE_HOUR))
        .collect();
    let mut per_engine = Vec::new();
    for engine in [Engine::Fast, Engine::Turmoil] {
        let (_, wall) = timed(|| {
            for s in &seeds {
                let _ = execute_on(engine, s, "stable", None, &mut |_| {});
            }
        });
        let rate = n as f64 / wall.max(1e-9);
        println!(
            "one-hour swarm seeds 1..{n} [stable], {engine:<7}: {wall:>7.2} s, {rate:>8.2} seeds/s (one core)"
        );
        per_engine.push(rate);
    }
    println!(
        "fast engine / turmoil engine on the same seeds: {:.0}x\n",
        per_engine[0] / per_engine[1].max(1e-9)
    );
    let soak = scenario::load(Path::new("scenarios/soak_24h.toml"));
    if let Ok(soak) = soak {
        for preset in ["stable", "legacy"] {
            let mut walls = Vec::new();
            for engine in [Engine::Fast, Engine::Turmoil] {
                let (_, wall) = timed(|| execute_on(engine, &soak, preset, None, &mut |_| {}));
                println!(
                    "soak_24h [{preset}] {engine:<7}: {wall:>7.2} s, {:>8.0}x virtual/wall",
                    soak.run_length().as_secs_f64() / wall.max(1e-9)
                );
                walls.push(wall);
            }
            println!(
                "soak_24h [{preset}] fast / turmoil: {:.0}x",
                walls[1] / walls[0].max(1e-9)
            );
        }
        raw_turmoil(&soak);
    }
    println!();
}

/// The floor the turmoil engine cannot beat: raw turmoil stepping the same
/// hosts (an idle endpoint listener, one idle app host, the browser) for
/// `soak_24h`'s virtual length at its tick, doing no work.
fn raw_turmoil(soak: &scenario::Scenario) {
    let run_length = soak.run_length();
    let (_, wall) = timed(|| {
        let mut sim = turmoil::Builder::new()
            .tick_duration(soak.tick)
            .simulation_duration(run_length + std::time::Duration::from_secs(3600))
            .build();
        for host in ["wa", "app-1", "browser"] {
            sim.host(host, || async {
                std::future::pending::<()>().await;
                Ok(())
            });
        }
        while sim.elapsed() < run_length {
            if sim.step().is_err() {
                break;
            }
        }
    });
    let (_, legacy) = timed(|| execute(soak, "legacy", None, &mut |_| {}));
    println!(
        "raw turmoil, 3 idle hosts for soak_24h's length: {wall:.2} s; soak_24h [legacy] on turmoil: {legacy:.2} s = {:.2}x raw turmoil",
        legacy / wall.max(1e-9)
    );
}

/// Runs `file` with `preset` on turmoil the way `loopguard run` and `check`
/// do, in a `loopguard worker` process (the process that simulates, judges
/// and writes the folder), and returns that process's peak resident set in
/// MiB (`ru_maxrss` of exactly that child, from `wait4`) and its wall time.
/// Measured first thing in `main`: Linux carries the spawning process's peak
/// over into the child's `ru_maxrss` at `exec` (the child starts as a copy of
/// the bench), so a bench grown by the big world would read as the worker.
fn worker_peak(file: &Path, preset: &str) -> Result<(f64, f64), String> {
    let out = std::env::temp_dir().join("loopguard-bench-worker");
    let _ = std::fs::remove_dir_all(&out);
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_loopguard"))
        .arg("worker")
        .arg(file)
        .args(["--preset", preset, "--engine", "turmoil", "--out"])
        .arg(&out)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("could not start loopguard worker: {e}"))?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter; `pid` is our child,
    // not yet waited for (the `Child` handle is never waited on).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed().as_secs_f64();
    if waited != pid {
        return Err(format!("wait4: {}", std::io::Error::last_os_error()));
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(format!("the worker failed (wait status {status})"));
    }
    // Linux reports ru_maxrss in KiB.
    Ok((usage.ru_maxrss as f64 / 1024.0, wall))
}

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
    let worker = if std::env::var("LOOPGUARD_BENCH").as_deref() == Ok("big") {
        None
    } else {
        Some(worker_peak(Path::new("scenarios/soak_24h.toml"), "legacy"))
    };
    big_world();
    if std::env::var("LOOPGUARD_BENCH").as_deref() == Ok("big") {
        return;
    }
    engines();
    match worker {
        Some(Ok((peak, wall))) => println!(
            "soak_24h [legacy] on turmoil, written to disk in its worker process: {wall:.2} s wall, peak RSS {peak:.0} MiB (measured first, before this process grew)\n"
        ),
        Some(Err(e)) => println!("soak_24h [legacy] worker: {e}\n"),
        None => {}
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
        // The plot itself (the 24 h plot target): the model, the SVG and the PNG.
        let started = Instant::now();
        let model = report::timeline::Timeline::from_run(&run.summary, &run.trace);
        let svg = report::timeline::render_svg(&model).is_ok();
        let png = report::timeline::render_png(&model, &plot_dir.join("plot.png")).is_ok();
        let plot = started.elapsed().as_secs_f64();
        // Everything a run folder's timeline holds: the plot, the interactive
        // data (every event), its capped copy for the stability report and the page.
        let started = Instant::now();
        let ok = report::write_timeline(&plot_dir, &run.summary, &run.trace).is_ok();
        println!(
            "plot of {} ({} rows): {plot:.3} s for SVG + PNG; {:.3} s for the run folder's whole timeline (plot, timeline.json, timeline.index.json, index.html){}",
            run.summary.run,
            run.trace.len(),
            started.elapsed().as_secs_f64(),
            if ok && svg && png { "" } else { " (FAILED)" }
        );
    }
}
