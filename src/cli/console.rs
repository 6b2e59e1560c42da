//! The one-screen summary at the end of a batch.

use loopguard::output::escape_control;

use super::batch::Outcome;

/// Prints a line per run, the replay command of each failing one, each bad
/// input once (on stderr, rendered by `scenario::render`), and a total.
pub fn print_summary(outcomes: &[Outcome], bad_inputs: &[String]) {
    let width = outcomes
        .iter()
        .map(|o| match o {
            Outcome::Done(s, _) => s.scenario.len() + s.preset.len() + 3,
            Outcome::Failed { job, .. } => job.len(),
        })
        .max()
        .unwrap_or(0);
    let (mut pass, mut fail) = (0, 0);
    for o in outcomes {
        match o {
            Outcome::Done(s, _) => {
                let name = format!("{} [{}]", s.scenario, s.preset);
                let verdict = s.verdict.label();
                if s.verdict.is_pass() {
                    pass += 1;
                } else {
                    fail += 1;
                }
                let caught = if s.violated.is_empty() {
                    "none".to_string()
                } else {
                    s.violated.join(", ")
                };
                println!("{verdict}  {name:<width$}  violated: {caught}");
                for why in &s.unmet {
                    println!("      {}", escape_control(why));
                }
                if !s.verdict.is_pass() {
                    println!("      replay: {}", s.replay);
                }
            }
            Outcome::Failed { job, error } => {
                fail += 1;
                let error = error.to_string();
                println!("ERROR {job:<width$}  {}", escape_control(&error));
            }
        }
    }
    for e in bad_inputs {
        // A multi-line diagnostic: escape each line, keep the line breaks.
        for line in e.lines() {
            eprintln!("{}", escape_control(line));
        }
    }
    println!(
        "{pass} passed, {fail} failed{}",
        if bad_inputs.is_empty() {
            String::new()
        } else {
            format!(", {} bad input", bad_inputs.len())
        }
    );
}
