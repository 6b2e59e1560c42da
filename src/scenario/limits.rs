//! How big a scenario (or preset) file may be, and what it may ask for.
//!
//! A CI gate reads files from pull requests: none of them may crash it, hang
//! it or make it allocate without bound. Every number a file gives is checked
//! against these limits while it is parsed, before anything is expanded or
//! added, and a refusal names file, line and field like every other error.
//! The limits are far above what a real scenario needs (the shipped ones use
//! at most a 24 h run, 600 occurrences and 20 tabs).

use std::ops::Range;
use std::time::Duration;

use toml::de::{DeTable, DeValue};

/// Largest scenario or preset file read, in bytes (1 MiB); a larger one is
/// refused before it is parsed.
pub const MAX_FILE_BYTES: usize = 1 << 20;

/// Longest duration anywhere in a file (`duration`, `at`, windows, repeat
/// periods, policy knobs): 7 days.
pub const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);

/// Shortest scripted part of a run (`duration`): a zero-length run judges
/// nothing.
pub const MIN_RUN: Duration = Duration::from_secs(1);

/// Finest turmoil tick: below it a run does millions of steps for nothing.
pub const MIN_TICK: Duration = Duration::from_millis(1);

/// Coarsest turmoil tick: every latency and timer is rounded to the tick, so
/// a coarser one judges a different system (a 1 h tick gave a false FAIL).
pub const MAX_TICK: Duration = Duration::from_secs(1);

/// The scripted part of a run (`duration`) spans at least this many ticks.
pub const MIN_TICKS_PER_RUN: u32 = 100;

/// Most simulation steps in one run (its whole length over its tick): 7 days
/// at the default 10 ms tick.
pub const MAX_STEPS: u64 = 60_480_000;

/// Most event occurrences in one scenario, repetitions included: they are
/// expanded into a timeline before the run.
pub const MAX_OCCURRENCES: u64 = 100_000;

/// Most `[[users]]`.
pub const MAX_USERS: usize = 10_000;

/// Most dashboard tabs open at once (`[tabs] count` plus `open_tabs`).
pub const MAX_TABS: u64 = 10_000;

/// Most app instances running at once (`instances` plus `start_instance`).
pub const MAX_INSTANCES: u64 = 64;

/// Longest string value, in characters, but for `description`.
pub const MAX_STRING_CHARS: usize = 256;

/// Longest `description`, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;

/// Longest key, in characters.
pub const MAX_KEY_CHARS: usize = 64;

/// Longest scenario `name` (it names a report folder), in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// "Did you mean" is worked out only for words up to this long: the edit
/// distance costs the product of the two lengths.
pub const MAX_SUGGEST_CHARS: usize = 64;

/// Why a value was refused, and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub help: String,
}

impl Refusal {
    fn new(message: impl Into<String>, help: impl Into<String>) -> Self {
        Refusal {
            message: message.into(),
            help: help.into(),
        }
    }
}

fn days(d: Duration) -> String {
    super::duration::format_duration(d)
}

/// Any duration in a file: at most [`MAX_DURATION`].
pub fn duration(d: Duration) -> Result<(), Refusal> {
    if d > MAX_DURATION {
        return Err(Refusal::new(
            format!(
                "{} is longer than the {} limit",
                days(d),
                days(MAX_DURATION)
            ),
            format!("durations are at most {}", days(MAX_DURATION)),
        ));
    }
    Ok(())
}

/// The scripted part of a run: at least [`MIN_RUN`].
pub fn run_duration(d: Duration) -> Result<(), Refusal> {
    if d < MIN_RUN {
        return Err(Refusal::new(
            format!("a run of {} judges nothing", days(d)),
            format!(
                "`duration` is at least {} (and at most {})",
                days(MIN_RUN),
                days(MAX_DURATION)
            ),
        ));
    }
    Ok(())
}

/// The turmoil tick: [`MIN_TICK`]..=[`MAX_TICK`], and at most a
/// [`MIN_TICKS_PER_RUN`]th of `duration`.
pub fn tick(tick: Duration, run: Duration) -> Result<(), Refusal> {
    let range = format!("a tick is {} to {}", days(MIN_TICK), days(MAX_TICK));
    if tick < MIN_TICK {
        return Err(Refusal::new(
            format!("tick {} is finer than {}", days(tick), days(MIN_TICK)),
            range,
        ));
    }
    if tick > MAX_TICK {
        return Err(Refusal::new(
            format!(
                "tick {} is coarser than {}: latencies and timers would be rounded to it",
                days(tick),
                days(MAX_TICK)
            ),
            range,
        ));
    }
    if tick.saturating_mul(MIN_TICKS_PER_RUN) > run {
        return Err(Refusal::new(
            format!(
                "tick {} is more than a {MIN_TICKS_PER_RUN}th of the run's duration {}",
                days(tick),
                days(run)
            ),
            format!("use a tick of at most {}", days(run / MIN_TICKS_PER_RUN)),
        ));
    }
    Ok(())
}

/// A whole run (its length over its tick): at most [`MAX_STEPS`] steps.
pub fn steps(run_length: Duration, tick: Duration) -> Result<(), Refusal> {
    let steps = run_length.as_nanos() / tick.as_nanos().max(1);
    if steps > u128::from(MAX_STEPS) {
        return Err(Refusal::new(
            format!(
                "a run of {} at a {} tick is {steps} steps, more than {MAX_STEPS}",
                days(run_length),
                days(tick)
            ),
            "use a coarser tick or a shorter run",
        ));
    }
    Ok(())
}

/// Event occurrences so far (repetitions included): at most
/// [`MAX_OCCURRENCES`].
pub fn occurrences(total: u64) -> Result<(), Refusal> {
    if total > MAX_OCCURRENCES {
        return Err(Refusal::new(
            format!("the events fire {total} times in all, more than {MAX_OCCURRENCES}"),
            "use fewer repetitions (`times`) or fewer events",
        ));
    }
    Ok(())
}

/// A count of things that run at once (`what` names them).
pub fn at_once(what: &str, count: u64, max: u64) -> Result<(), Refusal> {
    if count > max {
        return Err(Refusal::new(
            format!("{count} {what} at once, more than {max}"),
            format!("a scenario runs at most {max} {what} at once"),
        ));
    }
    Ok(())
}

/// A scenario name: it names the report folder, so it must be safe as a
/// folder name everywhere: 1 to [`MAX_NAME_CHARS`] ASCII letters, digits,
/// `.`, `_` and `-`, not starting with `.` or `-`.
pub fn folder_name(name: &str) -> Result<(), Refusal> {
    let help = "a name is ASCII letters, digits, `.`, `_` and `-`, not starting with `.` or `-`";
    if name.is_empty() {
        return Err(Refusal::new(
            "must not be empty",
            "leave `name` out to use the file name",
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Refusal::new(
            format!(
                "a name of {} characters names a report folder",
                name.chars().count()
            ),
            format!("a name is at most {MAX_NAME_CHARS} characters"),
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(Refusal::new(
            format!("{:?} names a report folder and cannot hold {c:?}", name),
            help,
        ));
    }
    if name.starts_with(['.', '-']) {
        return Err(Refusal::new(
            format!(
                "{name:?} names a report folder and cannot start with {:?}",
                &name[..1]
            ),
            help,
        ));
    }
    Ok(())
}

/// The default name for a file stem: its unsafe characters become `_` and it
/// is cut to [`MAX_NAME_CHARS`].
pub fn folder_name_from(stem: &str) -> String {
    let mut name: String = stem
        .chars()
        .take(MAX_NAME_CHARS)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.starts_with(['.', '-']) {
        name.replace_range(..1, "_");
    }
    if name.is_empty() {
        name.push_str("scenario");
    }
    name
}

/// The file as bytes: at most [`MAX_FILE_BYTES`], and UTF-8. The error gives
/// the byte offset it is about.
pub fn file_text(bytes: &[u8]) -> Result<&str, (usize, Refusal)> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err((
            MAX_FILE_BYTES,
            Refusal::new(
                format!(
                    "the file is {} bytes, more than the {MAX_FILE_BYTES}-byte limit",
                    bytes.len()
                ),
                "a scenario file is at most 1 MiB",
            ),
        ));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let line = line_at(bytes, at);
        let line_start = bytes[..at]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        (
            at,
            Refusal::new(
                format!(
                    "not valid UTF-8: byte 0x{:02x} at byte offset {at} (line {line}, byte {} of the line)",
                    bytes[at],
                    at - line_start + 1
                ),
                "save the file as UTF-8",
            ),
        )
    })
}

/// 1-based line of byte `at` (any byte, not only a character boundary).
pub fn line_at(bytes: &[u8], at: usize) -> usize {
    bytes[..at.min(bytes.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// A refusal found by [`tree`]: where, which field, why.
pub(super) type TreeRefusal = (Range<usize>, String, Refusal);

/// Walks the whole document before it is read: no key longer than
/// [`MAX_KEY_CHARS`], no string longer than [`MAX_STRING_CHARS`] (the
/// top-level `description` up to [`MAX_DESCRIPTION_CHARS`]).
pub(super) fn tree(doc: &DeTable) -> Result<(), TreeRefusal> {
    table(doc, "")
}

fn table(t: &DeTable, path: &str) -> Result<(), TreeRefusal> {
    for (key, val) in t {
        let k: &str = key.get_ref();
        let field = super::error::join(path, k);
        if k.chars().count() > MAX_KEY_CHARS {
            let shown: String = k.chars().take(20).collect();
            return Err((
                key.span(),
                field,
                Refusal::new(
                    format!("key `{shown}…` is {} characters long", k.chars().count()),
                    format!("keys are at most {MAX_KEY_CHARS} characters"),
                ),
            ));
        }
        let max = if field == "description" {
            MAX_DESCRIPTION_CHARS
        } else {
            MAX_STRING_CHARS
        };
        value(val.get_ref(), val.span(), &field, max)?;
    }
    Ok(())
}

fn value(v: &DeValue, span: Range<usize>, path: &str, max: usize) -> Result<(), TreeRefusal> {
    match v {
        DeValue::String(s) => {
            let n = s.chars().count();
            if n > max {
                return Err((
                    span,
                    path.to_string(),
                    Refusal::new(
                        format!("a string of {n} characters"),
                        format!("this string is at most {max} characters"),
                    ),
                ));
            }
        }
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                value(
                    item.get_ref(),
                    item.span(),
                    &format!("{path}[{i}]"),
                    MAX_STRING_CHARS,
                )?;
            }
        }
        DeValue::Table(t) => table(t, path)?,
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_name_of_an_unsafe_stem_keeps_only_safe_characters() {
        assert_eq!(folder_name_from("my scenario"), "my_scenario");
        assert_eq!(folder_name_from(".hidden"), "_hidden");
        assert_eq!(folder_name_from("día"), "d_a");
        assert_eq!(folder_name_from(""), "scenario");
        assert!(folder_name(&folder_name_from(&"x".repeat(100))).is_ok());
    }

    #[test]
    fn invalid_utf8_is_located_by_line_and_byte() {
        let (at, r) = file_text(b"seed = 1\nname = \"a\xffb\"\n").unwrap_err();
        assert_eq!(at, 18);
        assert_eq!(
            r.message,
            "not valid UTF-8: byte 0xff at byte offset 18 (line 2, byte 10 of the line)"
        );
    }

    #[test]
    fn the_step_count_is_the_run_over_the_tick() {
        let day = Duration::from_secs(86_400);
        assert!(steps(day * 7, Duration::from_millis(10)).is_ok());
        assert!(steps(day * 7, Duration::from_millis(9)).is_err());
    }
}
