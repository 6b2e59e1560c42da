//! What a batch prints, as it happens: the plan, one line per run the
//! moment it finishes, a progress bar at a terminal (current runs, failures,
//! ETA) or a heartbeat line when piped, and a recap of the failures with
//! their replay commands and the elapsed time.
//!
//! A run's line leads with `ok` or its verdict word in capitals (`FAIL`,
//! `CRASHED`, `HUNG`, `RUNAWAY`, `INTERRUPTED`), then what was caught as
//! expected, apart from what went wrong:
//!
//! ```text
//! ok    repeated_440 [legacy]   6m00.0s in 1.2s  caught: single_socket, reconnect_cooldown
//! FAIL  quiet_b [stable]        5m00.0s in 0.3s  not caught: single_socket
//! HUNG  b_stuck [stable]                in 8.0s  not judged: the run did not finish
//! RUNAWAY quiet [stable]        5m00.0s in 0.1s  all held
//! ```
//!
//! Colour (green, red, yellow) follows `--color` and `NO_COLOR`. Every text
//! that comes from a scenario, a run or an error goes through
//! `escape_control`, so a terminal never receives its control characters.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anstyle::{AnsiColor, Style};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use loopguard::output::escape_control;
use loopguard::report::{verdict_word, BadInput, Verdict};

use super::batch::{Job, Outcome};
use super::duration::compact;

const GREEN: Style = AnsiColor::Green.on_default().bold();
const RED: Style = AnsiColor::Red.on_default().bold();
const YELLOW: Style = AnsiColor::Yellow.on_default();
const DIM: Style = Style::new().dimmed();

/// `text` in `style` (stripped again by `anstream` when colour is off).
fn paint(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

/// The console of one batch, shared by its worker threads.
pub struct Console {
    names: Vec<String>,
    width: usize,
    started: Instant,
    total_virtual_ms: u64,
    virtual_done_ms: AtomicU64,
    bar: Option<ProgressBar>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    done: usize,
    failed: usize,
    /// Job index → name, of the runs in progress.
    running: BTreeMap<usize, String>,
}

impl Console {
    /// A console for `jobs`; the bar shows only when both output streams
    /// are a terminal (and `interactive` allows it).
    pub fn new(jobs: &[Job<'_>], interactive: bool) -> Console {
        let names: Vec<String> = jobs
            .iter()
            .map(|j| escape_control(&j.name()).into_owned())
            .collect();
        let width = names.iter().map(String::len).max().unwrap_or(0);
        let total_virtual_ms: u64 = jobs
            .iter()
            .map(|j| loopguard::util::ms(j.scenario.run_length()))
            .sum();
        let bar = (interactive && at_a_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(
                Some(total_virtual_ms.max(1)),
                ProgressDrawTarget::stderr(),
            );
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {wide_bar} {percent:>3}% · ETA {eta} · {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Console {
            names,
            width,
            started: Instant::now(),
            total_virtual_ms,
            virtual_done_ms: AtomicU64::new(0),
            bar,
            state: Mutex::new(State::default()),
        }
    }

    /// Whether a heartbeat is needed: no bar shows the progress.
    pub fn wants_heartbeat(&self) -> bool {
        self.bar.is_none()
    }

    /// Prints a line on stdout, above the bar when there is one.
    pub fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| anstream::println!("{text}")),
            None => anstream::println!("{text}"),
        }
    }

    /// Job `i` started.
    pub fn started(&self, i: usize) {
        if let Ok(mut st) = self.state.lock() {
            st.running
                .insert(i, self.names.get(i).cloned().unwrap_or_default());
            self.refresh(&st);
        }
    }

    /// The simulation of a run advanced by `ms` of virtual time.
    pub fn advanced(&self, ms: u64) {
        self.virtual_done_ms.fetch_add(ms, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.inc(ms);
        }
    }

    /// Job `i` ended: its line goes out now.
    pub fn finished(&self, i: usize, outcome: &Outcome) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        st.running.remove(&i);
        st.done += 1;
        if !outcome.passed() {
            st.failed += 1;
        }
        for l in run_lines(outcome, self.width) {
            self.line(&l);
        }
        self.refresh(&st);
    }

    /// `… 3/9 runs done, 1 failed · 12.3s elapsed · ETA 20.0s · running: a [legacy]`
    pub fn heartbeat(&self) {
        let Ok(st) = self.state.lock() else {
            return;
        };
        let elapsed = self.started.elapsed();
        let done_ms = self.virtual_done_ms.load(Ordering::Relaxed);
        let eta = if done_ms == 0 {
            "unknown".to_string()
        } else {
            let left = self.total_virtual_ms.saturating_sub(done_ms) as f64 / done_ms as f64;
            compact(elapsed.mul_f64(left))
        };
        self.line(&paint(
            DIM,
            &format!(
                "… {}/{} runs done, {} failed · {} elapsed · ETA {eta} · running: {}",
                st.done,
                self.names.len(),
                st.failed,
                compact(elapsed),
                running_list(&st)
            ),
        ));
    }

    fn refresh(&self, st: &State) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!(
                "{}/{} runs · {} failed · {}",
                st.done,
                self.names.len(),
                st.failed,
                running_list(st)
            ));
        }
    }

    /// Removes the bar; the wall-clock time since the console was made.
    pub fn finish(&self) -> Duration {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        self.started.elapsed()
    }
}

fn at_a_terminal() -> bool {
    std::io::stdout().is_terminal() && std::io::stderr().is_terminal()
}

/// The first runs in progress, and how many more.
fn running_list(st: &State) -> String {
    const SHOWN: usize = 2;
    let mut names: Vec<&str> = st
        .running
        .values()
        .map(String::as_str)
        .take(SHOWN)
        .collect();
    if names.is_empty() {
        return "—".to_string();
    }
    let more = st.running.len().saturating_sub(SHOWN);
    let mut text = names.join(", ");
    names.clear();
    if more > 0 {
        text.push_str(&format!(" +{more}"));
    }
    text
}

/// `ok` for a pass, else the verdict word in capitals.
fn verdict_label(v: &Verdict) -> String {
    if *v == Verdict::Pass {
        paint(GREEN, &format!("{:<5}", "ok"))
    } else {
        paint(RED, &format!("{:<5}", verdict_word(v).to_uppercase()))
    }
}

fn with_counts(s: &loopguard::report::RunSummary, ids: &[&str]) -> String {
    ids.iter()
        .map(|id| match s.violation_count(id) {
            0 | 1 => id.to_string(),
            n => format!("{id} ×{n}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A finished run's line and, when it did not pass, why (indented).
pub fn run_lines(outcome: &Outcome, width: usize) -> Vec<String> {
    match outcome {
        Outcome::Failed { job, error } => {
            vec![format!(
                "{} {:<width$}  {}",
                paint(RED, "ERROR"),
                escape_control(job),
                escape_control(&error.to_string())
            )]
        }
        Outcome::Done(run) => {
            let s = &run.summary;
            let name = escape_control(&format!("{} [{}]", s.scenario, s.preset)).into_owned();
            // Crashed, hung, interrupted: stopped before the end, so nothing
            // was judged (and nothing "held"). A runaway run is judged on
            // what it recorded up to its cap, named beneath.
            let finished = !matches!(
                s.verdict,
                Verdict::Crashed | Verdict::Hung | Verdict::Interrupted
            );
            let mut parts = Vec::new();
            if !finished {
                parts.push(paint(RED, "not judged: the run did not finish"));
            }
            let broken = s.broken();
            if !broken.is_empty() {
                parts.push(paint(
                    RED,
                    &format!("violated: {}", with_counts(s, &broken)),
                ));
            }
            let missed = s.missed();
            if finished && !missed.is_empty() {
                parts.push(paint(RED, &format!("not caught: {}", missed.join(", "))));
            }
            let caught = s.caught();
            if !caught.is_empty() {
                parts.push(paint(YELLOW, &format!("caught: {}", caught.join(", "))));
            }
            let unjudged = s.unjudged();
            if !unjudged.is_empty() {
                parts.push(format!("also violated: {}", with_counts(s, &unjudged)));
            }
            if parts.is_empty() {
                parts.push("all held".to_string());
            }
            let virtual_length = if finished {
                compact(Duration::from_millis(s.run_length_ms))
            } else {
                String::new()
            };
            let took = match run.timing {
                Some(t) => format!(
                    "{virtual_length} in {}",
                    compact(Duration::from_millis(t.wall_ms))
                ),
                None => virtual_length,
            };
            let mut lines = vec![format!(
                "{} {name:<width$}  {}  {}",
                verdict_label(&s.verdict),
                paint(DIM, &format!("{took:>16}")),
                parts.join("  ")
            )];
            if s.verdict != Verdict::Pass {
                lines.extend(
                    s.unmet
                        .iter()
                        .map(|u| format!("      {}", escape_control(u))),
                );
            }
            lines
        }
    }
}

/// Prints each refused input once, on stderr, with one `error:` prefix (a
/// rendered diagnostic keeps its own, and its line breaks).
pub fn print_bad_inputs(bad: &[BadInput]) {
    for b in bad {
        let text: Vec<String> = b
            .message
            .trim_end()
            .lines()
            .map(|l| escape_control(l).into_owned())
            .collect();
        let text = text.join("\n");
        if text.starts_with("error") {
            anstream::eprintln!("{text}");
        } else {
            anstream::eprintln!("{}: {text}", paint(RED, "error"));
        }
    }
}

/// The end of a batch: each failure again with its replay command, then
/// the counts and the elapsed time.
pub fn print_recap(outcomes: &[Outcome], bad: &[BadInput], elapsed: Duration) {
    let failures: Vec<&Outcome> = outcomes.iter().filter(|o| !o.passed()).collect();
    if !failures.is_empty() {
        let width = failures.iter().map(|o| o.name().len()).max().unwrap_or(0);
        anstream::println!(
            "\n{}",
            paint(RED, &format!("failures ({}):", failures.len()))
        );
        for o in &failures {
            for l in run_lines(o, width) {
                anstream::println!("  {l}");
            }
            if let Outcome::Done(run) = o {
                anstream::println!("        replay: {}", escape_control(&run.summary.replay));
            }
        }
    }
    anstream::println!("{}", counts_line(outcomes, bad, elapsed));
}

/// `3 passed, 1 failed, 1 bad input in 2.3s`: every verdict word counted.
pub fn counts_line(outcomes: &[Outcome], bad: &[BadInput], elapsed: Duration) -> String {
    let mut passed = 0;
    let mut others: BTreeMap<String, usize> = BTreeMap::new();
    let mut errors = 0;
    for o in outcomes {
        match o {
            Outcome::Done(r) if r.passed() => passed += 1,
            Outcome::Done(r) => *others.entry(verdict_word(&r.summary.verdict)).or_default() += 1,
            Outcome::Failed { .. } => errors += 1,
        }
    }
    let mut parts = vec![paint(GREEN, &format!("{passed} passed"))];
    let failed = others.remove("fail").unwrap_or(0);
    parts.push(format!("{failed} failed"));
    if failed > 0 {
        parts[1] = paint(RED, &parts[1]);
    }
    for (word, n) in others {
        parts.push(paint(RED, &format!("{n} {word}")));
    }
    if errors > 0 {
        parts.push(paint(RED, &format!("{errors} could not run")));
    }
    if !bad.is_empty() {
        parts.push(paint(RED, &format!("{} bad input", bad.len())));
    }
    format!("{} in {}", parts.join(", "), compact(elapsed))
}
